#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Line and branch coverage of lib/ reached by the checked-in corpus alone:
# every fuzz target built as a plain reproducer (gcc --coverage -O0), run
# once over its corpus/<target>/ folder, then gcovr over lib/ only. No unit
# test runs here, so the figure says what a fuzzer starting from corpus/
# already exercises.
#
#   fuzz/corpus_coverage.sh
# Environment:
#   BUILD_DIR              build tree (default build-corpus-coverage)
#   CORPUS_COV_MIN_LINE    fail if lib/ line coverage is below this percent
#   CORPUS_COV_HTML=1      also write BUILD_DIR/corpus-coverage.html
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${BUILD_DIR:-$ROOT/build-corpus-coverage}
JOBS=$(nproc 2>/dev/null || echo 2)
# shellcheck source=fuzz/targets.sh
. "$ROOT/fuzz/targets.sh"
TARGETS=$FUZZ_ALL_TARGETS

rm -rf "$B"
CC=gcc cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Debug \
  -DVHDXLOG_COVERAGE=ON -DVHDXLOG_FUZZ_ENGINE=standalone \
  -DVHDXLOG_BUILD_TESTS=OFF -DVHDXLOG_BUILD_TOOLS=OFF >/dev/null
# shellcheck disable=SC2086
cmake --build "$B" -j "$JOBS" --target $TARGETS >/dev/null

for t in $TARGETS; do
  bin=$(find "$B/fuzz" -name "$t" -type f -perm -u+x | head -n 1)
  n=$(find "$ROOT/corpus/$t" -type f | wc -l)
  echo "==> $t: $n inputs"
  "$bin" "$ROOT/corpus/$t" >/dev/null
done

GCOVR=(gcovr -r "$ROOT" --object-directory "$B" --filter "$ROOT/lib/" -j "$JOBS" "$B")
if [ "${CORPUS_COV_HTML:-0}" = 1 ]; then
  "${GCOVR[@]}" --html-details "$B/corpus-coverage.html" >/dev/null
fi
echo "==> lib/ lines, corpus alone"
"${GCOVR[@]}" --txt | tee "$B/lines.txt"
echo "==> lib/ branches, corpus alone"
"${GCOVR[@]}" --txt --branches | tail -n 3

read -r total hit < <(sed -n 's/^TOTAL *\([0-9]*\) *\([0-9]*\) .*/\1 \2/p' \
  "$B/lines.txt")
pct=$(awk -v h="$hit" -v t="$total" 'BEGIN { printf "%.1f", 100 * h / t }')
echo "corpus-only lines: $pct% ($hit/$total)"
if [ -n "${CORPUS_COV_MIN_LINE:-}" ]; then
  if awk -v p="$pct" -v m="$CORPUS_COV_MIN_LINE" 'BEGIN { exit !(p < m) }'; then
    echo "corpus coverage: lib/ lines $pct% < $CORPUS_COV_MIN_LINE%" >&2
    exit 1
  fi
fi
