#!/bin/sh
# SPDX-License-Identifier: MIT
# minimize_test.sh MINIMIZER TARGET MAKE_CRASH WORKDIR LAYOUT KIND:
# minimise a crash of the planted bug of at least 512 KiB (KIND log: a raw
# log, packed: a packed image); the result must be <= 64 KiB, crash with
# the same signature (kind and top frame), and come in under 60 s.
set -eu
min=$1 target=$2 make=$3 dir=$4 layout=$5 kind=$6
# The kind depends on the sanitizer that sees the read first (clang's ASan:
# heap-buffer-overflow; gcc's UBSan: an object-size runtime error); the
# frame must be the planted function.
frame='| planted_overflow fuzz/minimize/planted_target.c'
mkdir -p "$dir"
rm -f "$dir/crash" "$dir/crash.min"
if [ "$kind" = packed ]; then "$make" "$dir/crash" packed; else "$make" "$dir/crash"; fi
size=$(wc -c < "$dir/crash")
[ "$size" -ge 524288 ] || { echo "FAIL: input of $size bytes"; exit 1; }
sig=$("$min" -s -l "$layout" "$target" "$dir/crash")
case $sig in
"signature: no crash"*) echo "FAIL: $sig"; exit 1 ;;
"signature: "*"$frame") ;;
*) echo "FAIL: $sig"; exit 1 ;;
esac
start=$(date +%s)
"$min" -q -l "$layout" -o "$dir/crash.min" "$target" "$dir/crash"
took=$(($(date +%s) - start))
got=$(wc -c < "$dir/crash.min")
after=$("$min" -s -l "$layout" "$target" "$dir/crash.min")
echo "$size -> $got bytes in $took s; $after"
[ "$after" = "$sig" ] || { echo "FAIL: signature changed"; exit 1; }
[ "$got" -le 65536 ] || { echo "FAIL: $got bytes > 64 KiB"; exit 1; }
[ "$took" -lt 60 ] || { echo "FAIL: $took s"; exit 1; }
