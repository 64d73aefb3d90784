#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# interop_test.sh: our replay against QEMU's, on logs QEMU itself left dirty.
#
# Usage: interop_test.sh [VHDXLOG]    (or VHDXLOG=/path/to/vhdxlog)
#   KEEP=1 keeps the scratch directory; TMPDIR picks where it goes;
#   CASES="basic sample ..." runs only the named cases (see the list below).
#
# For every case, make_dirty.sh makes an image whose last BAT update QEMU
# journaled but never applied (1 entry with the header's LogGuid, 1 data
# descriptor). Then:
#   - vhdxlog check exits 1 (dirty) and QEMU refuses a read-only open;
#   - copy A: `qemu-img check -r all` (QEMU's replay); copy B: `vhdxlog replay`;
#   - A and B must be byte-identical except the 4 KiB headers at 64 KiB and
#     128 KiB (each tool writes its own SequenceNumber / FileWriteGuid);
#     a length difference is reported with the range and a zero check, and
#     only passes in the case built to show it (QEMU never extends the file
#     to a 1 MiB-aligned LastFileOffset);
#   - B: our headers follow docs/RULES.md, vhdxlog check exits 0 on A and B,
#     a second replay changes nothing, QEMU opens B read-only (qemu-img info,
#     qemu-img check) and reads back every pattern that was written.
# Prints PASS/FAIL lines and "N passed, N failed"; exit 0 only if none failed.
# Installs qemu-utils when missing; exit 77 (skip) when that fails.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
export PYTHON=$PY
inspect="$here/vhdx_inspect.py"
compare="$here/vhdx_compare.py"
make_dirty="$here/make_dirty.sh"

vhdxlog=${1:-${VHDXLOG:-}}
if [ -z "$vhdxlog" ]; then
  vhdxlog=$(command -v vhdxlog || true)
fi
if [ -z "$vhdxlog" ] || [ ! -x "$vhdxlog" ]; then
  echo "interop_test: vhdxlog binary not found (pass it as \$1 or VHDXLOG)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
vhdxlog=$(cd "$(dirname "$vhdxlog")" && pwd)/$(basename "$vhdxlog")
if ! bash "$root/.ci/deps.sh" qemu; then
  echo "SKIP: qemu-img/qemu-io missing and not installable (.ci/deps.sh qemu)"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vhdxlog-interop.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
  echo "scratch directory kept: $work"
else
  trap 'rm -rf "$work"' EXIT
fi

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "PASS: $case: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $case: $*"; }
info() { echo "      $case: $*"; }
# run CMD...: run it, keep its output in $out and status in $rc
run() { out=$("$@" 2>&1); rc=$?; }
indent() { sed 's/^/        | /'; }
# verdict STATUS PASS FAIL: one check, passed when STATUS is 0; a failed
# one shows what the last `run` printed.
verdict() {
  if [ "$1" = 0 ]; then pass "$2"; else fail "$3"; printf '%s\n' "$out" | indent; fi
}

echo "vhdxlog: $vhdxlog"
echo "qemu:    $(qemu-img --version | head -1)"

# check_case NAME FILE EXPECT WRITES...
#   FILE: a dirty image (left untouched); EXPECT: "same" (A and B must be
#   identical apart from headers) or "longer:N" (ours must be exactly N bytes
#   longer, all zero: the documented deviation); WRITES: OFF:LEN:PAT that
#   must read back from the replayed image.
check_case() {
  case=$1
  local dirty=$2 expect=$3 dir="$work/$1" a b
  shift 3
  mkdir -p "$dir"
  a="$dir/qemu.vhdx" b="$dir/ours.vhdx"

  # What QEMU left in the log (informational).
  "$PY" "$inspect" "$dirty" | grep -E '^(file|log state|entry .*guid_matches=True|   desc)' | indent

  run "$vhdxlog" check "$dirty"
  [ "$rc" = 1 ]; verdict $? "vhdxlog check on the dirty image exits 1" \
    "vhdxlog check on the dirty image exited $rc, expected 1"

  run qemu-img info "$dirty"
  [ "$rc" != 0 ] && printf '%s' "$out" | grep -q 'contains a log that needs to be replayed'
  verdict $? "QEMU refuses the dirty image read-only (qemu-img info exits $rc: log must be replayed)" \
    "qemu-img info on the dirty image: rc $rc (expected QEMU's read-only refusal)"

  cp --sparse=always -- "$dirty" "$a"
  cp --sparse=always -- "$dirty" "$b"

  run qemu-img check -r all "$a"
  [ "$rc" = 0 ] && "$PY" "$inspect" "$a" >/dev/null
  verdict $? "qemu-img check -r all replayed copy A ($(printf '%s' "$out" | grep -Eo '[0-9]+ corruptions' | head -1) repaired)" \
    "qemu-img check -r all on copy A: rc $rc, or A still dirty"

  run "$vhdxlog" replay "$b"
  [ "$rc" = 0 ]; verdict $? "vhdxlog replay on copy B exits 0" \
    "vhdxlog replay on copy B exited $rc"
  printf '%s\n' "$out" | indent

  run "$PY" "$compare" "$a" "$b"
  local crc=$rc cout=$out
  printf '%s\n' "$cout" | indent
  case "$expect:$crc" in
    same:0) pass "A and B identical apart from the two headers" ;;
    longer:*:3)
      local want=${expect#longer:}
      if printf '%s' "$cout" | grep -q "LENGTH DIFFERS: ours is longer by $want bytes"; then
        pass "A and B identical on the common prefix; ours is longer by exactly $want zero bytes (expected QEMU deviation: a 1 MiB-aligned LastFileOffset never extends the file in QEMU)"
      else
        fail "length difference is not the expected one (ours longer by $want zero bytes)"
      fi ;;
    same:3) fail "A and B differ in length (see above): a QEMU/spec difference this case should not show" ;;
    *) fail "A and B differ (compare exit $crc)" ;;
  esac

  # Header bookkeeping: ours per docs/RULES.md; QEMU's for information.
  run "$PY" "$inspect" --check-our-headers "$dirty" "$b" "$vhdxlog"
  if [ "$rc" = 0 ]; then
    pass "our headers: both valid, LogGuid 0, FileWriteGuid = derive(LogGuid), SequenceNumber +$(( $(header_seq "$b") - $(header_seq "$dirty") ))"
  else fail "our headers after replay"; printf '%s\n' "$out" | indent; fi
  info "QEMU's headers: SequenceNumber +$(( $(header_seq "$a") - $(header_seq "$dirty") )), FileWriteGuid $(header_field "$a" file_write_guid) (random), DataWriteGuid $( [ "$(header_field "$a" data_write_guid)" = "$(header_field "$dirty" data_write_guid)" ] && echo unchanged || echo changed)"

  local which f
  for which in A B; do
    f=$a; [ "$which" = B ] && f=$b
    run "$vhdxlog" check "$f"
    [ "$rc" = 0 ]; verdict $? "vhdxlog check on $which exits 0" \
      "vhdxlog check on $which exited $rc"
  done

  cp --sparse=always -- "$b" "$dir/ours-again.vhdx"
  run "$vhdxlog" replay "$dir/ours-again.vhdx"
  if [ "$rc" = 0 ] && cmp -s "$b" "$dir/ours-again.vhdx"; then
    pass "a second vhdxlog replay exits 0 and changes nothing"
  else fail "second replay: rc $rc or the file changed"; printf '%s\n' "$out" | indent; fi

  run qemu-img info "$b"
  [ "$rc" = 0 ]
  verdict $? "qemu-img info opens B read-only ($(printf '%s' "$out" | grep -E '^virtual size' | head -1))" \
    "qemu-img info on B exited $rc"

  run qemu-img check "$b"
  if [ "$rc" = 0 ] && printf '%s' "$out" | grep -q 'No errors were found'; then
    pass "qemu-img check (read-only, no repair) finds no errors in B"
  else fail "qemu-img check on B: rc $rc"; printf '%s\n' "$out" | indent; fi

  if [ $# -gt 0 ]; then
    local reads=() w off len pat
    for w in "$@"; do
      IFS=: read -r off len pat <<<"$w"
      reads+=(-c "read -P $pat $off $len")
    done
    run qemu-io -r -f vhdx "${reads[@]}" "$b"
    if [ "$rc" = 0 ] && ! printf '%s' "$out" | grep -q 'Pattern verification failed'; then
      pass "qemu-io -r reads back from B every pattern written ($*)"
    else fail "qemu-io -r read-back from B (rc $rc)"; printf '%s\n' "$out" | indent; fi
  fi
  rm -f "$dir/ours-again.vhdx"
}

header_field() { # FILE FIELD: that field of FILE's current header
  PYTHONPATH=$here "$PY" -B -c 'import sys, vhdx_inspect as vi
r = vi.inspect(sys.argv[1])
print(r["headers"][r["current"]][sys.argv[2]])' "$1" "$2"
}
header_seq() { header_field "$1" sequence; }

# want NAME: whether case NAME is selected (CASES unset: all).
want() { [ -z "${CASES:-}" ] || [[ " $CASES " == *" $1 "* ]]; }

# mk_dirty NAME ARGS...: a dirty image from make_dirty.sh, or a FAIL line.
mk_dirty() {
  case=$1
  shift
  local f="$work/$case.dirty.vhdx"
  if run "$make_dirty" -q "$@" "$f" && [ "$rc" = 0 ]; then
    echo "== $case: $out"
    img=$f
    return 0
  fi
  fail "make_dirty.sh $* failed (rc $rc)"
  printf '%s\n' "$out" | indent
  return 1
}

# 1. The basic case: 8 MiB disk, 1 MiB blocks, 1 MiB log; 1 entry at log
#    offset 0, Tail 0, one data descriptor for BAT entry 0.
if { want basic || want appended || want truncated || want last-file-offset || want no-valid-entry; } && mk_dirty basic -s 8M -l 1M -b 1M -w 0:64k:0xab; then
  check_case basic "$img" same 0:64k:0xab
  basic=$img
fi

# 2. A 256 MiB log (the BAT and metadata sit after it, at 257 MiB).
if want log256M && mk_dirty log256M -s 1G -l 256M -b 1M -w 100M:64k:0x5c; then
  check_case log256M "$img" same 100M:64k:0x5c
fi

# 3. QEMU's automatic block size (16 MiB for 64 GiB), a write far out and not
#    block-aligned: the BAT entry sits in the middle of BAT sector 0.
if want auto-block && mk_dirty auto-block -s 64G -b 0 -w $((40 * 1024 * 1024 * 1024 + 512 * 1024)):3M:0x5a; then
  check_case auto-block "$img" same $((40 * 1024 * 1024 * 1024 + 512 * 1024)):3M:0x5a
fi

# 4. Stale entries: two earlier allocations in the same qemu-io session were
#    journaled (LogGuid 1, 2), applied and cleared; the pending entry is the
#    third (seq 3) at log offset 16 KiB with Tail 16 KiB; entries at 0 and
#    8 KiB are intact but carry older LogGuids.
if want stale-entries && mk_dirty stale-entries -s 1G -b 1M -p 0:4k:0x11 -p 1M:4k:0x22 -w 600M:4k:0x33; then
  check_case stale-entries "$img" same 0:4k:0x11 1M:4k:0x22 600M:4k:0x33
fi

# 5. End of the log: 127 earlier allocations fill log sectors 0..253 with
#    stale 8 KiB entries; the pending one (seq 128) is the last 8 KiB of the
#    1 MiB log (log offset 0xFE000, Tail 0xFE000).
pre=()
want log-end && for i in $(seq 0 126); do pre+=(-p "${i}M:4k:0x$(printf %02x $((i + 16)))"); done
if want log-end && mk_dirty log-end -s 1G -b 1M "${pre[@]}" -w 600M:4k:0x33; then
  check_case log-end "$img" same 0:4k:0x10 126M:4k:0x8e 600M:4k:0x33
fi

# 6. The dirty file grew after QEMU wrote the entry (1 MiB of zeros appended):
#    file size > LastFileOffset, nothing to extend, both keep the length.
if want appended && [ -n "${basic:-}" ]; then
  case=appended
  cp --sparse=always -- "$basic" "$work/appended.dirty.vhdx"
  truncate -s +1M "$work/appended.dirty.vhdx"
  echo "== appended: the basic image + 1 MiB of zeros"
  check_case appended "$work/appended.dirty.vhdx" same 0:64k:0xab
fi

# 7. Truncated below FlushedFileOffset: both must refuse and write nothing.
if want truncated && [ -n "${basic:-}" ]; then
  case=truncated
  t="$work/truncated.dirty.vhdx"
  cp --sparse=always -- "$basic" "$t"
  truncate -s -1M "$t"
  echo "== truncated: the basic image cut by 1 MiB (below FlushedFileOffset)"
  cp --sparse=always -- "$t" "$t.a"
  cp --sparse=always -- "$t" "$t.b"
  run qemu-img check -r all "$t.a"
  [ "$rc" != 0 ]; verdict $? "qemu-img check -r all refuses (rc $rc: $(printf '%s' "$out" | head -1))" \
    "qemu-img check -r all accepted a file shorter than FlushedFileOffset"
  if cmp -s "$t" "$t.a"; then info "QEMU left the refused file unchanged"
  else info "QEMU deviation: although it refused, QEMU rewrote the headers (new FileWriteGuid/DataWriteGuid, SequenceNumber +$(( $(header_seq "$t.a") - $(header_seq "$t") ))) before checking FlushedFileOffset; other bytes: $(cmp -l "$t" "$t.a" | awk '$1 <= 65536 || $1 > 135168' | wc -l) differ"; fi
  run "$vhdxlog" replay "$t.b"
  [ "$rc" = 2 ] && cmp -s "$t" "$t.b" && printf '%s' "$out" | grep -q 'E_FILE_TRUNCATED'
  verdict $? "vhdxlog replay refuses with E_FILE_TRUNCATED (exit 2) and writes nothing" \
    "vhdxlog replay on a truncated file: rc $rc (want 2, E_FILE_TRUNCATED, file unchanged)"
  printf '%s\n' "$out" | indent
  run "$vhdxlog" check "$t"
  [ "$rc" = 2 ]; verdict $? "vhdxlog check exits 2 (corrupt)" \
    "vhdxlog check on the truncated file exited $rc, want 2"
fi

# 8. The documented deviation, made visible: the basic QEMU entry with its
#    LastFileOffset raised by 1 MiB (checksum recomputed; not something QEMU
#    writes: its entries always carry FlushedFileOffset = LastFileOffset = the
#    file size). The spec extends the file to LastFileOffset; QEMU only
#    extends to a LastFileOffset that is NOT 1 MiB aligned, so it keeps the
#    old length. Pass = identical prefix and ours longer by exactly 1 MiB of
#    zeros.
if want last-file-offset && [ -n "${basic:-}" ]; then
  case=last-file-offset
  e="$work/last-file-offset.dirty.vhdx"
  cp --sparse=always -- "$basic" "$e"
  newlast=$("$PY" "$inspect" --bump-last-file-offset "$e" 1M)
  echo "== last-file-offset: basic image, LastFileOffset raised to $newlast (file size $(stat -c %s "$e"))"
  check_case last-file-offset "$e" "longer:1048576" 0:64k:0xab
fi

# 9. No valid entry: the basic QEMU entry with one byte of its data sector
#    flipped (checksum no longer matches): a torn entry, as a power cut
#    leaves one (docs/RULES.md "Armed logs"). We clear the log (exit 1 from
#    check; replay writes only the headers); --strict refuses it, as the
#    spec's letter says. QEMU opens it as if the log were empty, leaves
#    LogGuid set, and `check -r all` reports no errors.
if want no-valid-entry && [ -n "${basic:-}" ]; then
  case=no-valid-entry
  n="$work/no-valid-entry.dirty.vhdx"
  cp --sparse=always -- "$basic" "$n"
  logoff=$(header_field "$n" log_offset)
  printf '\377' | dd of="$n" bs=1 seek=$((logoff + 4096 + 100)) conv=notrunc status=none
  echo "== no-valid-entry: basic image, byte 100 of the entry's data sector set to 0xff"
  cp --sparse=always -- "$n" "$n.a"
  cp --sparse=always -- "$n" "$n.b"
  run "$vhdxlog" check "$n"
  if [ "$rc" = 1 ] && printf '%s' "$out" | grep -q 'armed'; then
    pass "vhdxlog check exits 1: an armed log with a torn entry, to be cleared"
  else fail "vhdxlog check: rc $rc (want 1, armed)"; fi
  printf '%s\n' "$out" | indent
  run "$vhdxlog" check --strict "$n"
  if [ "$rc" = 2 ] && printf '%s' "$out" | grep -q 'VHDXLOG_E_LOG_NO_SEQUENCE' \
     && printf '%s' "$out" | grep -q 'VHDXLOG_E_ENTRY_CHECKSUM'; then
    pass "vhdxlog check --strict exits 2: E_LOG_NO_SEQUENCE, candidate failed E_ENTRY_CHECKSUM"
  else fail "vhdxlog check --strict: rc $rc (want 2, E_LOG_NO_SEQUENCE / E_ENTRY_CHECKSUM)"; fi
  run "$vhdxlog" replay "$n.b"
  if [ "$rc" = 0 ] && "$PY" "$compare" "$n" "$n.b" >/dev/null 2>&1; then
    pass "vhdxlog replay clears it (exit 0); nothing but the headers changes"
  else fail "vhdxlog replay: rc $rc (want 0, only the headers changed)"; fi
  run "$vhdxlog" check "$n.b"
  [ "$rc" = 0 ]; verdict $? "vhdxlog check afterwards: clean" \
    "vhdxlog check after clearing: rc $rc (want 0)"
  run qemu-io -f vhdx -c "write -P 0x6c 5M 64k" -c "read -P 0x6c 5M 64k" "$n.b"
  [ "$rc" = 0 ]; verdict $? "QEMU writes a new block into the cleared image and reads it back" \
    "qemu-io on the cleared image: rc $rc"
  run qemu-img check -r all "$n.a"
  qrc=$rc
  if cmp -s "$n" "$n.a"; then qchg="file unchanged, LogGuid still set"; else qchg="file CHANGED"; fi
  run qemu-img info "$n"
  info "QEMU deviation: qemu-img check -r all exits $qrc ($qchg); read-only qemu-img info exits $rc (opens it as if the log were empty)"
fi

# 10. The committed sample, if present.
sample="$root/samples/qemu-dirty-8M.vhdx"
if want sample && [ -f "$sample" ]; then
  case=sample
  echo "== sample: $sample"
  check_case sample "$sample" same 0:64k:0xab
fi

# 11. An image QEMU has open (its byte-range locks) is not replayed; reading
#     it is allowed.
if want locked; then
  case=locked
  l="$work/locked.vhdx"
  echo "== locked: qemu-io holds the image open while vhdxlog runs"
  qemu-img create -q -f vhdx "$l" 8M
  cp -- "$l" "$l.before"
  # qemu-io prints the read once it has opened (and locked) the image. Wait
  # for that without probing with a replay: our lock would make a qemu-io
  # that is still starting fail its own.
  # Its commands come from a FIFO we hold open (its own 'sleep' command
  # returned at once when run from this script); closing it ends qemu-io.
  mkfifo "$l.cmd"
  qemu-io -f vhdx "$l" <"$l.cmd" >"$l.qio" 2>&1 &
  qpid=$!
  exec 9>"$l.cmd"
  echo 'read 0 512' >&9
  for _ in $(seq 300); do
    grep -q 'read 512/512' "$l.qio" && break
    kill -0 "$qpid" 2>/dev/null || break
    sleep 0.1
  done
  run "$vhdxlog" replay "$l"
  if [ "$rc" = 3 ] && printf '%s' "$out" | grep -q 'in use' && cmp -s "$l" "$l.before"; then
    pass "vhdxlog replay refuses (exit 3, in use) while qemu-io has the image open"
  else fail "vhdxlog replay: rc $rc (want 3, 'in use', file unchanged)"; printf '%s\n' "$out" | indent
    indent <"$l.qio"; fi
  run "$vhdxlog" check "$l"
  [ "$rc" = 0 ]; verdict $? "vhdxlog check reads it meanwhile (exit 0)" \
    "vhdxlog check: rc $rc (want 0)"
  exec 9>&-
  wait "$qpid" 2>/dev/null
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
