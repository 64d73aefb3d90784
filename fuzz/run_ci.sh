#!/usr/bin/env bash
# CI fuzzing: build the libFuzzer targets (clang, ASan + UBSan), replay each
# target's whole checked-in corpus (any crash, leak or timeout fails), then
# fuzz each target for a bounded time. Exit status non-zero on any finding.
#
# Environment:
#   FUZZ_SECONDS  seconds of fuzzing per target (default 60; 0: replay only)
#   FUZZ_TARGETS  targets to run (default: all)
#   BUILD_DIR     build tree (default: build-fuzz-ci in the repository)
#   CC            compiler (default: clang)
# Findings land in $BUILD_DIR/fuzz-ci/<target>/ (crash-*, leak-*, timeout-*),
# with the log of each step next to them.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-fuzz-ci}
SECONDS_EACH=${FUZZ_SECONDS:-60}
# shellcheck source=fuzz/targets.sh
. "$ROOT/fuzz/targets.sh"
TARGETS=${FUZZ_TARGETS:-$FUZZ_ALL_TARGETS}
OUT=$BUILD/fuzz-ci

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="${CC:-clang}" \
  -DVHDXLOG_FUZZ_ENGINE=libfuzzer -DVHDXLOG_BUILD_TESTS=OFF \
  -DVHDXLOG_BUILD_TOOLS=OFF >/dev/null || exit 1
# shellcheck disable=SC2086
cmake --build "$BUILD" -j"$(nproc)" --target $TARGETS >/dev/null || {
  echo "run_ci.sh: build failed" >&2
  exit 1
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
summary=()
for t in $TARGETS; do
  bin=$BUILD/$(fuzz_subdir "$t")/$t
  dict=$(fuzz_dict "$ROOT" "$t")
  COMMON=(-timeout="$(fuzz_timeout "$t")" -rss_limit_mb="$(fuzz_rss_limit_mb "$t")")
  dir=$OUT/$t
  rm -rf "$dir"
  mkdir -p "$dir/new"
  # 1. Replay every checked-in input, regressions included, each whole
  #    (without -max_len libFuzzer would cut inputs at 1 MiB).
  if ! "$bin" "${COMMON[@]}" -runs=0 -max_len=16777216 -artifact_prefix="$dir/" \
      "$ROOT/corpus/$t" >"$dir/replay.log" 2>&1; then
    echo "== $t: corpus replay FAILED (see $dir/replay.log)"
    tail -n 30 "$dir/replay.log"
    summary+=("$(printf '%-18s REPLAY FAILED' "$t")")
    failed=1
    continue
  fi

  # 2. Fuzz for a bounded time; new inputs go to a scratch folder, the
  #    checked-in corpus is only read.
  if [ "$SECONDS_EACH" -gt 0 ]; then
    "$bin" "${COMMON[@]}" -max_len="$(fuzz_max_len "$t")" \
      -max_total_time="$SECONDS_EACH" \
      -dict="$dict" -print_final_stats=1 \
      -artifact_prefix="$dir/" "$dir/new" "$ROOT/corpus/$t" \
      >"$dir/fuzz.log" 2>&1
    rc=$?
  else
    : >"$dir/fuzz.log"
    rc=0
  fi
  findings=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
  execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/fuzz.log")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log")
  last=$(grep -hE '^#[0-9]+' "$dir/fuzz.log" | tail -n 1)
  [ -n "$last" ] || last=$(grep -hE '^#[0-9]+' "$dir/replay.log" | tail -n 1)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
  status=ok
  if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    status="FAILED (exit $rc, $findings finding(s) in $dir)"
    failed=1
    grep -E 'ERROR|invariant violated|SUMMARY' "$dir/fuzz.log" | head -n 5
  fi
  summary+=("$(printf '%-26s %4ss  execs %-9s exec/s %-6s cov %-5s ft %-6s corp %-10s %s' \
    "$t" "$SECONDS_EACH" "${runs:-0}" "${execs:-0}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$status")")
done

echo "== fuzzing summary"
printf '%s\n' "${summary[@]}"
exit $failed
