#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_windows_logs.sh: vhdxlog on logs that Windows itself wrote (DiscUtils'
# public test images, see README.md), compared with expected.txt.
#
# Usage: test_windows_logs.sh VHDXLOG [VHDXLOG_DIFF]
#   DISCUTILS_DATA=DIR  folder with the six *.vhdx.gz (default: data/ here,
#                       in the tree; get_data.sh makes another)
#   UPDATE_EXPECTED=1   write the results to expected.txt instead of comparing
#   KEEP=1              keep the scratch folder ($TMPDIR)
# Cases: the dirty image as it is, and copies of the clean ones whose log is
# armed (arm_log.py) with the LogGuid of one Windows session whose entries
# are still in the log. For each: check/dump results, replay into a copy,
# the replayed image is clean, headers follow docs/RULES.md, sha256 of the
# replayed image without the two header slots. For the newest session of a
# clean image, Windows had already applied those writes before it cleared
# the log, so the replay must not change a byte outside the headers.
# Optional (skipped when missing): qemu-img checks, vhdxlog-diff.
# Exit 0 all passed, 1 a check failed or the data are missing, 77 python3
# missing (skip).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
expected="$here/expected.txt"

vhdxlog=${1:-}
diff_bin=${2:-}
if [ -z "$vhdxlog" ] || [ ! -x "$vhdxlog" ]; then
  echo "usage: $0 VHDXLOG [VHDXLOG_DIFF]" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
PY=$(command -v python3 || true)
if [ -z "$PY" ]; then
  echo "SKIP: python3 not installed"
  exit 77
fi

data=${DISCUTILS_DATA:-$here/data}
if ! (cd "$data" && sha256sum -c --quiet "$here/SHA256SUMS"); then
  echo "FAIL: the images in $data are not the ones SHA256SUMS names"
  echo "0 passed, 1 failed"
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vhdxlog-winlogs.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
  echo "scratch folder kept: $work"
else
  trap 'rm -rf "$work"' EXIT
fi
got="$work/got.txt"
: >"$got"

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $case: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $case: $*"; }
record() { echo "$case $*" >>"$got"; }
# sha256 of a VHDX without its header slots (body_hash.py says how).
hash_body() { "$PY" "$here/body_hash.py" "$@"; }

# Unpack each image sparse: the large ones are ~95% holes (~1.5 GiB apparent).
for gz in "$data"/*.vhdx.gz; do
  img="$work/$(basename "$gz" .gz)"
  gzip -dc "$gz" | dd of="$img" bs=1M iflag=fullblock conv=sparse status=none
done

has_qemu=0
command -v qemu-img >/dev/null 2>&1 && has_qemu=1

# case, image, LogGuid to arm ("-": as it is), kind (dirty, newest, older),
# size to grow the copy to first ("-": none). lvm2.vhdx is 0x24400000 bytes
# but its entries say FlushedFileOffset 0x30400000: the file shrank after the
# log was cleared, so armed as it is it must be refused (E_FILE_TRUNCATED);
# grown back to that size it is the file as it was when the entries were
# written.
cases="
dirty          vhdx-log-replay -                                    dirty  -
btrfs-new      btrfs     38A97BAB-D10C-42AA-8CB4-6EF35AFF12C4 newest -
swap-new       swap      89E04FDF-B642-47C6-AAAC-2197AC950462 newest -
lvm2-new       lvm2      8A4E1CFC-C103-42DF-A6B4-7B8A7EA0ADB3 newest -
lvm2-new-grown lvm2      8A4E1CFC-C103-42DF-A6B4-7B8A7EA0ADB3 newest 0x30400000
lvm2-old       lvm2      F3A333ED-E1AE-4645-BF15-B7009DA450E5 older  -
lvm2-old-grown lvm2      F3A333ED-E1AE-4645-BF15-B7009DA450E5 older  0x30400000
xfs-new        xfs       C991916F-D1EA-4012-B047-75EFDE69ABD9 newest -
xfs-mid        xfs       3DC46B49-3E10-4B95-9DC6-58ABFCA51E66 older  -
xfs-old        xfs       5C9A80DE-3B44-4D5C-9820-3F1E0A5D2FDA older  -
xfs5-new       xfs5      49B17D12-38EB-4D18-A3E5-A87C1490F9F5 newest -
xfs5-old       xfs5      A8AD65D0-3788-47FA-94CC-1358C2C5DED7 older  -
"

# MBR partition entries in use (type byte non-zero) of a raw disk's sector 0.
mbr_partitions() {
  local n=0 i t
  [ "$(od -An -tx1 -j510 -N2 "$1" | tr -d ' ')" = 55aa ] || { echo none; return; }
  for i in 0 1 2 3; do
    t=$(od -An -tx1 -j$((446 + 16 * i + 4)) -N1 "$1" | tr -d ' ')
    [ "$t" != 00 ] && n=$((n + 1))
  done
  echo "$n"
}

# Dirty image only: QEMU's own replay must give the same bytes, and the
# replayed disk must hold what DiscUtils' LogReplayTest reads (2 partitions).
qemu_dirty() {
  local orig=$1 ours=$2 q="$work/$case-qemu.vhdx" out rc
  cp --sparse=always "$orig" "$q"
  out=$(qemu-img check -r all "$q" 2>&1); rc=$?
  [ "$rc" = 0 ] && pass "qemu-img check -r all replays the dirty copy" ||
    { fail "qemu-img check -r all exited $rc"; echo "$out"; }
  out=$("$PY" "$root/qemu/vhdx_compare.py" "$q" "$ours" 2>&1); rc=$?
  [ "$rc" = 0 ] && pass "QEMU's replay and ours are identical apart from the headers" ||
    { fail "QEMU's replay differs from ours"; echo "$out"; }
  qemu-img dd if="$ours" of="$work/$case.raw" bs=1M count=1 -O raw >/dev/null 2>&1
  local parts
  parts=$(mbr_partitions "$work/$case.raw")
  [ "$parts" = 2 ] && pass "replayed disk has an MBR with 2 partitions (as DiscUtils' test reads)" ||
    fail "replayed disk: MBR partitions $parts, expected 2"
}

run_case() {
  local image=$2 guid=$3 kind=$4 grow=$5 orig="$work/$2.vhdx"
  case=$1
  local copy="$work/case-$case.vhdx" rep="$work/case-$case-replayed.vhdx" rc
  cp --sparse=always "$orig" "$copy"
  [ "$grow" = - ] || truncate -s $((grow)) "$copy"
  if [ "$guid" != - ]; then
    "$PY" "$here/arm_log.py" "$copy" "$guid" || { fail "arm_log.py failed"; return; }
  fi
  local before
  before=$(hash_body --with-headers "$copy")

  "$vhdxlog" check --json "$copy" >"$work/c.json" 2>/dev/null
  "$vhdxlog" dump --json "$copy" >"$work/d.json" 2>/dev/null
  "$PY" "$here/summarize.py" "$case" "$work/c.json" "$work/d.json" >>"$got" ||
    fail "summarize.py could not read vhdxlog's JSON"
  "$vhdxlog" info --json "$copy" >/dev/null 2>&1; record "info exit=$?"

  "$vhdxlog" replay "$copy" -o "$rep" >/dev/null 2>&1; rc=$?
  record "replay exit=$rc"
  if [ "$rc" != 0 ]; then
    [ "$(hash_body --with-headers "$copy")" = "$before" ] &&
      pass "refused replay (exit $rc) left the file untouched" ||
      fail "refused replay (exit $rc) changed the file"
    [ ! -e "$rep" ] && pass "no output file after a refused replay" ||
      fail "a refused replay left $rep"
    return
  fi
  "$vhdxlog" check "$rep" >/dev/null 2>&1; record "replayed check exit=$?"
  record "replayed size=$(stat -c %s "$rep")"
  local hp
  hp=$("$PY" "$root/qemu/vhdx_inspect.py" --check-our-headers "$copy" "$rep" "$vhdxlog" 2>&1) &&
    record "replayed headers ok" || record "replayed headers: $hp"
  local body
  body=$(hash_body "$rep")
  record "replayed body sha256=$body"
  # Arming touched only the headers, so the copy's body is Windows' own.
  if [ "$kind" = newest ]; then
    [ "$body" = "$(hash_body "$copy")" ] &&
      pass "replaying Windows' newest session changes nothing outside the headers" ||
      fail "replaying Windows' newest session changed bytes outside the headers"
  fi
  if [ "$has_qemu" = 1 ]; then
    qemu-img check "$rep" >/dev/null 2>&1 && pass "qemu-img check: replayed image clean" ||
      fail "qemu-img check reports problems on the replayed image"
    if [ "$kind" = newest ]; then
      qemu-img compare "$orig" "$rep" >/dev/null 2>&1 &&
        pass "qemu-img compare: same disk contents as the Windows original" ||
        fail "qemu-img compare: disk contents differ from the Windows original"
    fi
    [ "$kind" = dirty ] && qemu_dirty "$copy" "$rep"
  fi
  # The reference model and the library's self-checks (whole image in memory:
  # only the images up to 128 MiB).
  if [ -n "$diff_bin" ] && [ "$(stat -c %s "$copy")" -le $((128 << 20)) ]; then
    local out
    out=$("$diff_bin" --max-size 128M "$copy" 2>&1) &&
      pass "vhdxlog-diff: library and reference model agree" ||
      { fail "vhdxlog-diff reports a difference"; echo "$out"; }
  fi
  rm -f "$rep" "$copy"
}

while read -r c img g k grow; do
  [ -n "$c" ] || continue
  run_case "$c" "$img" "$g" "$k" "$grow"
done <<<"$cases"
case=orig
for img in vhdx-log-replay btrfs swap lvm2 xfs xfs5; do
  record "$img body sha256=$(hash_body "$work/$img.vhdx")"
done

if [ "${UPDATE_EXPECTED:-0}" = 1 ]; then
  {
    echo "# Results of test_windows_logs.sh (vhdxlog on DiscUtils' Windows-written"
    echo "# images); regenerate with UPDATE_EXPECTED=1 and review the diff."
    cat "$got"
  } >"$expected"
  echo "wrote $expected"
fi
case=expected
if diff -u <(grep -v '^#' "$expected") "$got" >"$work/diff.txt"; then
  pass "all $(wc -l <"$got") result lines match expected.txt"
else
  fail "results differ from expected.txt (- expected, + now):"
  cat "$work/diff.txt"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
