#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A long local fuzzing campaign: for each target, libFuzzer in fork mode with
# JOBS parallel workers for MAX_TOTAL_TIME seconds, crashes collected rather
# than stopping the run. Everything lands in fuzz/findings-<target>/
# (gitignored): corpus/ (the growing corpus), crash-*/leak-*/timeout-*
# (findings), fuzz.log, and merged/ (the inputs that add coverage to the
# checked-in corpus, for review before copying into corpus/<target>/).
#
#   fuzz/campaign.sh [TARGET...]          default: every target of targets.txt
# Environment: JOBS (default: nproc), MAX_TOTAL_TIME (default 3600 per
# target), BUILD_DIR (default build-fuzz-campaign), CC (default clang),
# NO_BUILD=1 (use the binaries already in BUILD_DIR: lets several campaigns
# run side by side, e.g. JOBS=1 per target on a 2-core machine).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-fuzz-campaign}
JOBS=${JOBS:-$(nproc)}
TIME=${MAX_TOTAL_TIME:-3600}
# shellcheck source=fuzz/targets.sh
. "$ROOT/fuzz/targets.sh"
if [ $# -gt 0 ]; then
  TARGETS="$*"
else
  TARGETS=$FUZZ_ALL_TARGETS
fi

if [ -z "${NO_BUILD:-}" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="${CC:-clang}" \
    -DVHDXLOG_FUZZ_ENGINE=libfuzzer -DVHDXLOG_BUILD_TESTS=OFF \
    -DVHDXLOG_BUILD_TOOLS=OFF >/dev/null || exit 1
  # shellcheck disable=SC2086
  cmake --build "$BUILD" -j"$JOBS" --target $TARGETS >/dev/null || exit 1
fi

for t in $TARGETS; do
  dir=$ROOT/fuzz/findings-$t
  bin=$BUILD/fuzz/$t
  dict=$(fuzz_dict "$ROOT")
  mkdir -p "$dir/corpus"
  echo "== $t: $JOBS workers, ${TIME}s, in $dir"
  (cd "$dir" && "$bin" -fork="$JOBS" -ignore_crashes=1 \
    -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$TIME" \
    -timeout="$(fuzz_timeout "$t")" -rss_limit_mb=4096 \
    -max_len="$(fuzz_max_len "$t")" \
    -dict="$dict" -artifact_prefix="$dir/" -print_final_stats=1 \
    corpus "$ROOT/corpus/$t" >fuzz.log 2>&1)
  grep -E '^#[0-9]+' "$dir/fuzz.log" | tail -n 1
  # New coverage only: start from the checked-in corpus, let -merge=1 add
  # the inputs that bring new features, then drop the checked-in files.
  rm -rf "$dir/merged"
  cp -r "$ROOT/corpus/$t" "$dir/merged"
  "$bin" -merge=1 -max_len=16777216 -rss_limit_mb=4096 "$dir/merged" \
    "$dir/corpus" >"$dir/merge.log" 2>&1
  (cd "$ROOT/corpus/$t" && for f in *; do rm -f "$dir/merged/$f"; done)
  n=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  echo "   findings: $n; merged corpus: $(find "$dir/merged" -type f | wc -l) files"
done
