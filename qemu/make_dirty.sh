#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make_dirty.sh: make a VHDX image whose metadata log was left DIRTY by QEMU
# itself (a log entry QEMU wrote and flushed but never applied or cleared).
#
# How: QEMU's VHDX driver allocates a payload block on the first write into
# it, writes the data, then journals the 8-byte BAT entry update through the
# log (block/vhdx-log.c vhdx_log_write_and_flush): set a new LogGuid in the
# headers, write the log entry (1 descriptor sector + 1 data sector), flush,
# then apply the entry (a synchronous 4 KiB write of the BAT sector), flush,
# and clear LogGuid. We run qemu-io on top of QEMU's blkdebug driver with one
# rule: fail (EIO, once) the first write that touches the BAT sector holding
# the entry of the block the last write allocates. The log is then already on
# disk, the BAT write fails, QEMU gives up and never clears LogGuid. Nothing is
# timing-dependent: the same arguments always give the same log layout (GUIDs
# and header sequence numbers are random in every QEMU run).
#
# Usage: make_dirty.sh [options] OUT.vhdx
#   -s SIZE      virtual size (default 8M)
#   -l SIZE      log size, multiple of 1M (default 1M; e.g. 256M)
#   -b SIZE      block size (default 1M; 0 = QEMU's automatic choice)
#   -p OFF:LEN:PAT  an earlier write in the same qemu-io session (repeatable);
#                its allocation is journaled, applied and cleared normally,
#                leaving a stale log entry (old LogGuid) behind. Must not
#                allocate a block whose BAT entry shares the final write's BAT
#                sector (4 KiB of BAT = 512 entries).
#   -w OFF:LEN:PAT  the write whose BAT update is left pending (default
#                0:64k:0xab); it must lie inside one payload block that is
#                not yet allocated.
#                PAT is a byte value for qemu-io's write -P.
#   -c           also replay a copy with `qemu-img check -r all` and print what
#                QEMU says, then read the written data back from that copy
#   -q           quiet: print only the final summary line
# Exit status: 0 when OUT is dirty as intended, non-zero otherwise.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# python3 for the helper; a plain interpreter starts much faster than a shim
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
inspect="$here/vhdx_inspect.py"

size=8M log_size=1M block_size=1M final=0:64k:0xab check=0 quiet=0
pre=()
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while getopts "s:l:b:p:w:cqh" opt; do
  case $opt in
    s) size=$OPTARG ;;
    l) log_size=$OPTARG ;;
    b) block_size=$OPTARG ;;
    p) pre+=("$OPTARG") ;;
    w) final=$OPTARG ;;
    c) check=1 ;;
    q) quiet=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
out=$1

say() { [ "$quiet" = 1 ] || printf '%s\n' "$*"; }

bash "$here/../.ci/deps.sh" qemu >&2

# io_cmds VERB: sets cmds to qemu-io's "-c 'VERB -P PAT OFF LEN'" for every
# write, the earlier ones first (vhdx_inspect.py --plan checked the specs).
io_cmds() {
  local p w_off w_len w_pat
  cmds=()
  for p in ${pre[@]+"${pre[@]}"} "$final"; do
    IFS=: read -r w_off w_len w_pat <<<"$p"
    cmds+=(-c "$1 -P $w_pat $w_off $w_len")
  done
}

rm -f -- "$out"
say "+ qemu-img create -f vhdx -o log_size=$log_size,block_size=$block_size $out $size"
qemu-img create -q -f vhdx -o "log_size=$log_size,block_size=$block_size" "$out" "$size"

# The BAT sector (file offset) holding the final write's block entry; the
# earlier writes must not touch it, the final write must stay in one block.
target=$($PY "$inspect" --plan "$out" "$final" ${pre[@]+"${pre[@]}"}) || exit 2
io_cmds write

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/blkdebug.conf" <<EOF
# fail the first write that touches the BAT sector at file offset $target
[inject-error]
event = "pwritev"
iotype = "write"
sector = "$((target / 512))"
errno = "5"
once = "on"
EOF

abs_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
esc() { printf '%s' "$1" | sed 's/,/,,/g'; } # --image-opts escaping
opts="driver=vhdx,cache.no-flush=on,file.driver=blkdebug,file.config=$(esc "$tmp/blkdebug.conf"),file.image.driver=file,file.image.filename=$(esc "$abs_out")"
say "+ qemu-io --image-opts '$opts' ${cmds[*]}"
say "  (blkdebug rule: EIO once on the first write touching BAT sector $target = 512-byte sector $((target / 512)))"
set +e
qemu_out=$(qemu-io --image-opts "$opts" "${cmds[@]}" 2>&1)
qemu_rc=$?
set -e
[ "$quiet" = 1 ] || printf '%s\n' "$qemu_out" | sed 's/^/  qemu-io: /'
if ! printf '%s\n' "$qemu_out" | grep -q 'write failed: Input/output error'; then
  echo "make_dirty: the final write did not fail (rc $qemu_rc): was its block already allocated?" >&2
  exit 1
fi

set +e
report=$($PY "$inspect" "$out")
state=$?
set -e
[ "$quiet" = 1 ] || printf '%s\n' "$report"
if [ "$state" != 1 ]; then
  echo "make_dirty: $out is not dirty (inspect exit $state)" >&2
  exit 1
fi
# One-line summary of the pending entry (the one with the header's LogGuid).
PYTHONPATH=$here $PY -B - "$out" <<'EOF'
import sys, vhdx_inspect as vi
r = vi.inspect(sys.argv[1])
h = r["headers"][r["current"]]
live = [e for e in r["entries"] if e["guid_matches"]]
stale = len(r["entries"]) - len(live)
for e in live:
    d = e.get("descriptors", [])
    print("dirty: %s size=%d LogOffset=%d LogLength=%d entry@%d seq=%d tail=%d len=%d "
          "descriptors=%d (%s) Flushed=%d Last=%d stale_entries=%d" % (
              sys.argv[1], r["file_size"], h["log_offset"], h["log_length"],
              e["log_offset"], e["sequence"], e["tail"], e["entry_length"],
              e["descriptor_count"],
              ",".join("%s@%d" % (x["type"], x["file_offset"]) for x in d),
              e["flushed_file_offset"], e["last_file_offset"], stale))
EOF

if [ "$check" = 1 ]; then
  cp --sparse=always -- "$out" "$tmp/replayed.vhdx"
  echo "+ qemu-img check -r all <copy of $out>"
  set +e
  qemu-img check -r all "$tmp/replayed.vhdx" 2>&1 | sed 's/^/  qemu-img: /'
  rc=${PIPESTATUS[0]}
  set -e
  echo "  qemu-img check exit status: $rc"
  $PY "$inspect" "$tmp/replayed.vhdx" >/dev/null && echo "  copy is clean after QEMU's replay" \
    || { echo "make_dirty: copy still dirty after qemu-img check -r all" >&2; exit 1; }
  io_cmds read
  set +e
  read_out=$(qemu-io -r -f vhdx "${cmds[@]}" "$tmp/replayed.vhdx" 2>&1)
  read_rc=$?
  set -e
  if [ "$read_rc" != 0 ] || printf '%s\n' "$read_out" | grep -q 'Pattern verification failed'; then
    printf '%s\n' "$read_out" | sed 's/^/  qemu-io: /' >&2
    echo "make_dirty: data read back from QEMU's replayed copy does not match" >&2
    exit 1
  fi
  echo "  qemu-io -r read back every written pattern from the replayed copy: ok"
fi
