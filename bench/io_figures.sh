#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Memory and disk figures of the io/ layer (issue #14), for one vhdxlog CLI:
#  - memory: peak resident set (GNU time's "Maximum resident set size") and
#    wall time of `vhdxlog check` on a normal image (1 MiB log, written out),
#    a sparse file whose header claims a 2 GiB log and one claiming a 4 GiB
#    log (4095 MiB: LogLength is 32 bits), each holding about 1 MiB of data;
#  - disk: blocks in use (du) before and after `vhdxlog replay` of an image
#    whose log zeroes 512 MiB of hole inside the file.
# Images come from bench/sparse_image.py. Not a test: it prints figures.
#
# Usage: bench/io_figures.sh [VHDXLOG_BINARY] [WORKDIR]
#   default binary build-rel/cli/vhdxlog, default workdir a mktemp dir
#   (removed afterwards). The workdir must be on a file system with holes
#   (ext4, xfs, btrfs, tmpfs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build-rel/cli/vhdxlog}
WORK=${2:-}
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
fi
[ -x "$BIN" ] || { echo "no vhdxlog binary at $BIN" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }
GEN=(python3 "$ROOT/bench/sparse_image.py")

kib_on_disk() { du -k "$1" | cut -f1; }

# Peak RssAnon and peak Pss (KiB) of a command, sampled every 50 ms from
# /proc: GNU time's maxRSS counts a shared page once per mapping of it, and
# the loader maps one zero window over every hole, so maxRSS overstates what
# memory the process holds; Pss divides each page by its mappings.
sample_peaks() {
  "$@" >"$WORK/out" 2>&1 &
  local pid=$! anon=0 pss=0 a p
  while kill -0 "$pid" 2>/dev/null; do
    a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    p=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
    [ -n "$a" ] && [ "$a" -gt "$anon" ] && anon=$a
    [ -n "$p" ] && [ "$p" -gt "$pss" ] && pss=$p
    sleep 0.05
  done
  wait "$pid" || true
  echo "$anon $pss"
}

echo "binary: $BIN"
echo "workdir: $WORK ($(df -T "$WORK" | awk 'NR==2 {print $2}'))"
echo
printf '%-16s %10s %9s %9s %9s %9s %7s %6s %6s\n' image apparent "on disk" maxRSS \
  "RssAnon" "Pss" wall user sys
for spec in "normal-1M-log:--log-mib 1 --dense" \
  "sparse-2G-log:--log-mib 2048" "sparse-4G-log:--log-mib 4095"; do
  name=${spec%%:*}
  img=$WORK/$name.vhdx
  # shellcheck disable=SC2086 # the spec is a word list on purpose
  "${GEN[@]}" "$img" ${spec#*:}
  # Warm cache: one untimed run first.
  "$BIN" check "$img" >/dev/null 2>&1 || true
  /usr/bin/time -f '%M %e %U %S %x' -o "$WORK/time" "$BIN" check "$img" \
    >"$WORK/out" 2>&1 || true
  read -r rss wall user sys rc < <(tail -n 1 "$WORK/time")
  out=$(head -c 60 "$WORK/out" | tr '\n' ' ')
  read -r anon pss < <(sample_peaks "$BIN" check "$img")
  printf '%-16s %7sMiB %6sKiB %6sMiB %6sMiB %6sMiB %6ss %5ss %5ss\n' "$name" \
    $(($(stat -c %s "$img") >> 20)) "$(kib_on_disk "$img")" $((rss / 1024)) \
    $((anon / 1024)) $((pss / 1024)) "$wall" "$user" "$sys"
  echo "    exit $rc: ${out#"$WORK"/}"
  rm -f "$img"
done

echo
img=$WORK/zero-512M.vhdx
"${GEN[@]}" "$img" --log-mib 1 --zero-mib 512
before=$(kib_on_disk "$img")
"$BIN" replay "$img" >"$WORK/out" 2>&1 || true
after=$(kib_on_disk "$img")
echo "disk: replay of a log zeroing 512 MiB of hole: ${before} KiB -> ${after} KiB on disk" \
  "(the log writes one 4 KiB data sector)"
head -c 200 "$WORK/out"
rm -f "$img"
