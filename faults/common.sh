# SPDX-License-Identifier: MIT
# Shared by run_matrix.sh and run_powercut.sh (sourced, POSIX sh).

# scratch WORKDIR: sets $T, an empty scratch folder. tmpfs (/dev/shm) when
# there is one: every replay fsyncs, and on a disk the fsyncs, not the
# checks, would take most of the time. FAULTS_TMPDIR overrides. Kept (and
# named) when a check fails, removed otherwise.
scratch() {
  mkdir -p "$1" || exit 2
  base=${FAULTS_TMPDIR:-}
  if [ -z "$base" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    base=/dev/shm
  fi
  [ -n "$base" ] || base=$1
  T=$(mktemp -d "$base/vhdxlog-faults.XXXXXX") || exit 2
  echo "scratch folder: $T"
}

# have_qemu: qemu-img and qemu-io are installed.
have_qemu() {
  command -v qemu-img >/dev/null 2>&1 && command -v qemu-io >/dev/null 2>&1
}

# images VHDXLOG MKMULTI QEMU_DIR: writes $T/multi.img + multi.want (the
# testkit's model of its replay) and, with QEMU, $T/qemu.img + qemu.want
# (vhdxlog's own replay of a log QEMU wrote; qemu/interop_test.sh compares
# that with QEMU's replay).
images() {
  "$2" "$T/multi.img" "$T/multi.want" || exit 2
  if [ "${FAULTS_WRAP:-0}" = 1 ]; then
    "$2" "$T/wrap.img" "$T/wrap.want" wrap || exit 2
  fi
  if have_qemu; then
    bash "$3/make_dirty.sh" -q "$T/qemu.img" >/dev/null || exit 2
    cp "$T/qemu.img" "$T/qemu.want" || exit 2
    "$1" replay "$T/qemu.want" >/dev/null || exit 2
  else
    echo "qemu-img/qemu-io missing: QEMU images skipped"
  fi
}
