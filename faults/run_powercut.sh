#!/bin/sh
# SPDX-License-Identifier: MIT
# Power cuts of the real `vhdxlog replay IMG`: the shim records its writes
# and barriers, crashstates rebuilds and checks every crash state.
# usage: run_powercut.sh VHDXLOG SHIM MKMULTI CRASHSTATES WORKDIR
# FAULTS_CAP, FAULTS_RANDOM, FAULTS_SEED: crashstates' -c, -r, -s for the
# multi-entry images (QEMU's: every piece, -r 8). FAULTS_WRAP=1 adds the
# image whose log wraps.
set -u
[ $# -eq 5 ] || {
  echo "usage: $0 VHDXLOG SHIM MKMULTI CRASHSTATES WORKDIR" >&2
  exit 2
}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
V=$1 SHIM=$2 CS=$4
scratch "$5"
images "$V" "$3" "$here/../qemu"
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

opts="-c ${FAULTS_CAP:-2} -r ${FAULTS_RANDOM:-1} -s ${FAULTS_SEED:-1}"
# shellcheck disable=SC2086
one multi $opts
# shellcheck disable=SC2086
[ -f "$T/wrap.img" ] && one wrap $opts
[ -f "$T/qemu.img" ] && one qemu -q -c 0 -r 8 -s "${FAULTS_SEED:-1}"
if [ $rc -eq 0 ]; then rm -rf "$T"; else echo "kept: $T"; fi
exit $rc
