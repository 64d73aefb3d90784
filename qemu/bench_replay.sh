#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench_replay.sh: time `vhdxlog replay` against `qemu-img check -r all` on a
# QEMU-made dirty image with a large log (default 256 MiB) and one pending
# entry. Every timed run works on a fresh sparse copy of the dirty image (the
# copy is not timed). Prints the median of each and the ratio.
#
# Usage: bench_replay.sh [-r RUNS] [-l LOG_SIZE] [-s SIZE] [VHDXLOG]
#   VHDXLOG: the binary (or env VHDXLOG); RUNS default 7; LOG_SIZE 256M;
#   SIZE (virtual) 1G. Uses hyperfine when installed, else a date +%s%N loop.
#   KEEP=1 keeps the scratch directory; NO_HYPERFINE=1 forces the shell loop.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
export PYTHON=$PY
runs=7 log_size=256M size=1G
while getopts "r:l:s:h" opt; do
  case $opt in
    r) runs=$OPTARG ;;
    l) log_size=$OPTARG ;;
    s) size=$OPTARG ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
vhdxlog=${1:-${VHDXLOG:-$(command -v vhdxlog || true)}}
if [ -z "$vhdxlog" ] || [ ! -x "$vhdxlog" ]; then
  echo "bench_replay: vhdxlog binary not found (pass it as an argument or VHDXLOG)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vhdxlog-bench.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "scratch directory kept: $work"
else trap 'rm -rf "$work"' EXIT; fi

src="$work/dirty.vhdx"
"$here/make_dirty.sh" -q -s "$size" -l "$log_size" -b 1M -w 0:64k:0xab "$src"
echo "vhdxlog: $vhdxlog"
echo "qemu:    $(qemu-img --version | head -1)"
echo "runs:    $runs per tool, fresh copy each (copy not timed)"

# Sanity: both must succeed on a copy, or the timing means nothing.
cp --sparse=always "$src" "$work/t.vhdx"
"$vhdxlog" replay "$work/t.vhdx" >/dev/null
cp --sparse=always "$src" "$work/t.vhdx"
qemu-img check -r all "$work/t.vhdx" >/dev/null

median() { # numbers (seconds) on stdin -> median
  sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

if [ "${NO_HYPERFINE:-0}" != 1 ] && command -v hyperfine >/dev/null 2>&1; then
  echo "timer:   hyperfine"
  hyperfine --runs "$runs" --warmup 1 --style basic \
    --export-json "$work/h.json" \
    --prepare "cp --sparse=always '$src' '$work/ours.vhdx'" \
    -n "vhdxlog replay" "'$vhdxlog' replay '$work/ours.vhdx'" \
    --prepare "cp --sparse=always '$src' '$work/qemu.vhdx'" \
    -n "qemu-img check -r all" "qemu-img check -r all '$work/qemu.vhdx'" >&2
  read -r ours qemu < <("$PY" -c '
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
print(statistics.median(r[0]["times"]), statistics.median(r[1]["times"]))' "$work/h.json")
else
  echo "timer:   date +%s%N loop"
  : >"$work/ours.t"; : >"$work/qemu.t"
  for _ in $(seq "$runs"); do
    cp --sparse=always "$src" "$work/ours.vhdx"
    t0=$(date +%s%N); "$vhdxlog" replay "$work/ours.vhdx" >/dev/null; t1=$(date +%s%N)
    echo "$(( t1 - t0 ))e-9" | awk '{printf "%.9f\n", $1}' >>"$work/ours.t"
    cp --sparse=always "$src" "$work/qemu.vhdx"
    t0=$(date +%s%N); qemu-img check -r all "$work/qemu.vhdx" >/dev/null; t1=$(date +%s%N)
    echo "$(( t1 - t0 ))e-9" | awk '{printf "%.9f\n", $1}' >>"$work/qemu.t"
  done
  ours=$(median <"$work/ours.t")
  qemu=$(median <"$work/qemu.t")
fi
awk -v o="$ours" -v q="$qemu" -v l="$log_size" 'BEGIN {
  printf "log %s, 1 pending entry:\n", l
  printf "  vhdxlog replay        median %.4f s\n", o
  printf "  qemu-img check -r all median %.4f s\n", q
  printf "  ratio vhdxlog/qemu    %.3f (%s)\n", o / q, (o < q ? sprintf("vhdxlog %.1fx faster", q / o) : sprintf("vhdxlog %.1fx slower", o / q))
}'
