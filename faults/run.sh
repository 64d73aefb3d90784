#!/bin/sh
# SPDX-License-Identifier: MIT
# The tests of this folder, on a testkit multi-entry image and, when
# qemu-img is installed, on a log QEMU left dirty:
#   matrix    fault_matrix.py (test faults_matrix)
#   powercut  the shim records the writes and barriers of the real
#             `vhdxlog replay IMG`, crashstates rebuilds and checks every
#             crash state (test faults_powercut)
# usage: run.sh matrix|powercut VHDXLOG SHIM MKMULTI CRASHSTATES WORKDIR
# FAULTS_CAP, FAULTS_RANDOM, FAULTS_SEED: crashstates' -c, -r, -s for the
# multi-entry images (QEMU's: every piece, -r 8). FAULTS_WRAP=1 adds the
# image whose log wraps.
set -u
if [ $# -ne 6 ] || { [ "$1" != matrix ] && [ "$1" != powercut ]; }; then
  echo "usage: $0 matrix|powercut VHDXLOG SHIM MKMULTI CRASHSTATES WORKDIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
MODE=$1 V=$2 SHIM=$3 MK=$4 CS=$5

# The scratch folder $T: tmpfs (/dev/shm) when there is one: every replay
# fsyncs, and on a disk the fsyncs, not the checks, would take most of the
# time. FAULTS_TMPDIR overrides. Kept (and named) when a check fails,
# removed otherwise.
mkdir -p "$6" || exit 2
base=${FAULTS_TMPDIR:-}
if [ -z "$base" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  base=/dev/shm
fi
[ -n "$base" ] || base=$6
T=$(mktemp -d "$base/vhdxlog-faults.XXXXXX") || exit 2
echo "scratch folder: $T"

# The images: $T/multi.img + multi.want (the testkit's model of its replay)
# and, with QEMU, $T/qemu.img + qemu.want (vhdxlog's own replay of a log QEMU
# wrote; qemu/interop_test.sh compares that with QEMU's replay).
"$MK" "$T/multi.img" "$T/multi.want" || exit 2
if [ "${FAULTS_WRAP:-0}" = 1 ]; then
  "$MK" "$T/wrap.img" "$T/wrap.want" wrap || exit 2
fi
if command -v qemu-img >/dev/null 2>&1 && command -v qemu-io >/dev/null 2>&1; then
  bash "$here/../qemu/make_dirty.sh" -q "$T/qemu.img" >/dev/null || exit 2
  cp "$T/qemu.img" "$T/qemu.want" || exit 2
  "$V" replay "$T/qemu.want" >/dev/null || exit 2
else
  echo "qemu-img/qemu-io missing: QEMU images skipped"
fi
rc=0

# one NAME CRASHSTATES-OPTIONS...: trace the replay of $T/NAME.img, check
# that it gives NAME.want, then every crash state.
one() {
  name=$1
  shift
  cp "$T/$name.img" "$T/$name.traced" || exit 2
  VHDXLOG_FAULT_TRACE="$T/$name.trace" \
    VHDXLOG_FAULT_TRACE_PATH="$T/$name.traced" LD_PRELOAD="$SHIM" \
    "$V" replay "$T/$name.traced" >/dev/null || {
    echo "FAIL $name: the traced replay failed"
    rc=1
    return
  }
  if ! cmp -s "$T/$name.traced" "$T/$name.want"; then
    echo "FAIL $name: the traced replay differs from the expected image"
    rc=1
    return
  fi
  mkdir -p "$T/$name.states" || exit 2
  echo "$name: crashstates $*"
  "$CS" "$@" "$V" "$T/$name.img" "$T/$name.trace" "$T/$name.want" \
    "$T/$name.states" || rc=1
}

if [ "$MODE" = matrix ]; then
  set --
  for name in multi wrap qemu; do
    [ -f "$T/$name.img" ] && set -- "$@" "$name=$T/$name.img:$T/$name.want"
  done
  python3 "$here/fault_matrix.py" "$V" "$SHIM" "$T/matrix" "$@" || rc=1
else
  opts="-c ${FAULTS_CAP:-2} -r ${FAULTS_RANDOM:-1} -s ${FAULTS_SEED:-1}"
  # shellcheck disable=SC2086
  one multi $opts
  # shellcheck disable=SC2086
  [ -f "$T/wrap.img" ] && one wrap $opts
  [ -f "$T/qemu.img" ] && one qemu -q -c 0 -r 8 -s "${FAULTS_SEED:-1}"
fi
if [ $rc -eq 0 ]; then rm -rf "$T"; else echo "kept: $T"; fi
exit $rc
