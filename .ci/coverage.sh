#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Coverage of lib/ by the test suite: builds with gcc and
# -DVHDXLOG_COVERAGE=ON (--coverage -O0) in build-port-coverage, runs ctest,
# then prints gcovr's line and branch coverage of lib/ only.
#
# Environment:
#   VHDXLOG_COV_MIN_LINE    fail if lib/ line coverage is below this percent
#   VHDXLOG_COV_MIN_BRANCH  fail if lib/ branch coverage is below this percent
#   VHDXLOG_COV_HTML=1      also write build-port-coverage/coverage.html
#   JOBS                    parallel jobs (default nproc)
# Exits non-zero if the build or a test fails, or a threshold is missed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
B=$ROOT/build-port-coverage
START=$SECONDS

bash "$ROOT/.ci/deps.sh" coverage

echo "==> configure + build (gcc, --coverage)"
rm -rf "$B"
CC=gcc cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Debug -DVHDXLOG_COVERAGE=ON \
  -DVHDXLOG_BUILD_TESTS=ON -DVHDXLOG_BUILD_BENCH=OFF
cmake --build "$B" -j "$JOBS"

echo "==> ctest"
ntests=$(cd "$B" && ctest -N | sed -n 's/^Total Tests: *//p')
test_rc=0
(cd "$B" && ctest --output-on-failure -LE slow -j "$JOBS") || test_rc=$?

# gcovr reads the .gcda files of the build tree; --filter keeps lib/ only
# (paths relative to the root given with -r). The generated
# coverage-instrumented tests, tools and io/ are not counted.
GCOVR=(gcovr -r "$ROOT" --object-directory "$B" --filter "$ROOT/lib/" -j "$JOBS" "$B")

echo
echo "==> line coverage of lib/"
"${GCOVR[@]}" --txt
echo "==> branch coverage of lib/"
"${GCOVR[@]}" --txt --branches

# -o names a file of ours: gcovr replaces its output file, and as root
# it would replace /dev/null with a regular file.
summary=$("${GCOVR[@]}" --print-summary -o "$B/coverage-summary.txt")
echo "$summary"
line=$(sed -n 's/^lines: *\([0-9.]*\)%.*/\1/p' <<<"$summary")
branch=$(sed -n 's/^branches: *\([0-9.]*\)%.*/\1/p' <<<"$summary")

if [ "${VHDXLOG_COV_HTML:-0}" = 1 ]; then
  "${GCOVR[@]}" --html-details -o "$B/coverage.html"
  echo "HTML report: $B/coverage.html"
fi

rc=0
if [ "$test_rc" -ne 0 ]; then
  echo "coverage: ctest failed (exit $test_rc)"
  rc=1
fi
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
if [ -n "${VHDXLOG_COV_MIN_LINE:-}" ] && below "${line:-0}" "$VHDXLOG_COV_MIN_LINE"; then
  echo "coverage: lib/ line coverage ${line}% < required ${VHDXLOG_COV_MIN_LINE}%"
  rc=1
fi
if [ -n "${VHDXLOG_COV_MIN_BRANCH:-}" ] && below "${branch:-0}" "$VHDXLOG_COV_MIN_BRANCH"; then
  echo "coverage: lib/ branch coverage ${branch}% < required ${VHDXLOG_COV_MIN_BRANCH}%"
  rc=1
fi
echo "coverage: lib/ lines ${line:-?}%, branches ${branch:-?}% (tests: $ntests, $((SECONDS - START))s)"
exit $rc
