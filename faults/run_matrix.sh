#!/bin/sh
# SPDX-License-Identifier: MIT
# Fault matrix (fault_matrix.py) on a testkit multi-entry image and, when
# qemu-img is installed, on a log QEMU left dirty.
# usage: run_matrix.sh VHDXLOG SHIM MKMULTI WORKDIR
set -u
[ $# -eq 4 ] || { echo "usage: $0 VHDXLOG SHIM MKMULTI WORKDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
scratch "$4"
images "$1" "$3" "$here/../qemu"
set -- "$1" "$2" multi="$T/multi.img:$T/multi.want"
[ -f "$T/wrap.img" ] && set -- "$@" wrap="$T/wrap.img:$T/wrap.want"
[ -f "$T/qemu.img" ] && set -- "$@" qemu="$T/qemu.img:$T/qemu.want"
v=$1 shim=$2
shift 2
python3 "$here/fault_matrix.py" "$v" "$shim" "$T/matrix" "$@"
rc=$?
if [ $rc -eq 0 ]; then rm -rf "$T"; else echo "kept: $T"; fi
exit $rc
