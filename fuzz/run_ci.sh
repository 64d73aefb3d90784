#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI fuzzing: build the libFuzzer targets (clang, ASan + UBSan), replay each
# target's whole checked-in corpus (any crash, leak or timeout fails), then
# fuzz each target for a bounded time. Exit status non-zero on any finding.
#
# Then the same for a 32-bit (-m32, i386) build of every target: the seed
# corpus and FUZZ_SECONDS_I386 of fuzzing each (32-bit size_t wraps that a
# 64-bit build cannot show). Where the kernel runs no 32-bit programs, they
# run under qemu-i386 (many times slower; LeakSanitizer off: it hangs there).
#
# Environment:
#   FUZZ_SECONDS  seconds of fuzzing per target (default 60; 0: replay only)
#   FUZZ_SECONDS_I386  the same for the i386 build (default 20; 0: replay
#                 only; "off": no i386 build)
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
CORPUS=$ROOT/corpus # where the checked-in corpus is read
SCRATCH=""          # where new inputs go (default: next to the findings)
# run_targets BUILD-TREE LABEL SECONDS [RUNNER...]
run_targets() {
local tree=$1 label=$2 SECONDS_EACH=$3
shift 3
local RUN=("$@") t bin dict dir rc findings execs runs last cov ft corp status qemu_stop
for t in $TARGETS; do
  # fuzz_load's seeds hold 62 MiB images: more than qemu-i386's 32-bit ASan
  # allocator takes (CHECK AddrIsInMem); OSS-Fuzz runs i386 natively.
  if [ "$label" = -i386 ] && [ "$t" = fuzz_load ] && [ ${#RUN[@]} -gt 0 ]; then
    summary+=("$(printf '%-26s skipped under qemu-i386' "$t$label")")
    continue
  fi
  bin=$tree/fuzz/$t
  dict=$(fuzz_dict "$ROOT")
  COMMON=(-timeout="$(fuzz_timeout "$t")" -rss_limit_mb="$(fuzz_rss_limit_mb "$t")")
  dir=$OUT/$t$label
  new=${SCRATCH:-$dir}/new-$t
  rm -rf "$dir" "$new"
  mkdir -p "$dir" "$new"
  # 1. Replay every checked-in input, regressions included, each whole
  #    (without -max_len libFuzzer would cut inputs at 1 MiB).
  if ! "${RUN[@]}" "$bin" "${COMMON[@]}" -runs=0 -max_len=16777216 -artifact_prefix="$dir/" \
      "$CORPUS/$t" >"$dir/replay.log" 2>&1; then
    echo "== $t$label: corpus replay FAILED (see $dir/replay.log)"
    tail -n 30 "$dir/replay.log"
    summary+=("$(printf '%-26s REPLAY FAILED' "$t$label")")
    failed=1
    continue
  fi

  # 2. Fuzz for a bounded time; new inputs go to a scratch folder, the
  #    checked-in corpus is only read.
  if [ "$SECONDS_EACH" -gt 0 ]; then
    "${RUN[@]}" "$bin" "${COMMON[@]}" -max_len="$(fuzz_max_len "$t")" \
      -max_total_time="$SECONDS_EACH" \
      -dict="$dict" -print_final_stats=1 \
      -artifact_prefix="$dir/" "$new" "$CORPUS/$t" \
      >"$dir/fuzz.log" 2>&1
    rc=$?
  else
    : >"$dir/fuzz.log"
    rc=0
  fi
  # Under qemu-user, 32-bit ASan's allocator sometimes gets memory from
  # qemu where its shadow layout has none and stops on an internal CHECK
  # (AddrIsInMem; its artifact does not reproduce, under qemu or 64-bit).
  # That is qemu's address space, not a finding: keep the log, note it.
  qemu_stop=""
  if [ ${#RUN[@]} -gt 0 ] && grep -q 'CHECK failed: asan_.*AddrIsInMem' "$dir/fuzz.log"; then
    qemu_stop=" (stopped early: qemu-user vs 32-bit ASan CHECK AddrIsInMem)"
    for f in "$dir"/crash-*; do [ -e "$f" ] && mv "$f" "$dir/qemu-check-${f##*/crash-}"; done
    rc=0
  fi
  # Also under qemu-user: libFuzzer's entropic schedule can take SIGFPE in
  # its own weighted choice of the next input (top frame in
  # piecewise_constant_distribution), before any input runs: the artifact
  # is empty. Only that exact shape is noted instead of failed.
  if [ ${#RUN[@]} -gt 0 ] && grep -q 'AddressSanitizer: FPE' "$dir/fuzz.log" &&
    grep -qE '#0 .* in .*piecewise_constant_distribution' "$dir/fuzz.log" &&
    ! find "$dir" -maxdepth 1 -name 'crash-*' -size +0 | grep -q .; then
    qemu_stop=" (stopped early: qemu-user vs libFuzzer's schedule, FPE, no input)"
    for f in "$dir"/crash-*; do [ -e "$f" ] && mv "$f" "$dir/qemu-fpe-${f##*/crash-}"; done
    rc=0
  fi
  findings=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
  execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/fuzz.log" | tail -n 1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log" | tail -n 1)
  last=$(grep -hE '^#[0-9]+' "$dir/fuzz.log" | tail -n 1)
  [ -n "$last" ] || last=$(grep -hE '^#[0-9]+' "$dir/replay.log" | tail -n 1)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$last" | sed -n 's/.* corp: \([^ ]*\).*/\1/p')
  status="ok$qemu_stop"
  if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    status="FAILED (exit $rc, $findings finding(s) in $dir)"
    failed=1
    grep -E 'ERROR|invariant violated|SUMMARY' "$dir/fuzz.log" | head -n 5
  fi
  summary+=("$(printf '%-26s %4ss  execs %-9s exec/s %-6s cov %-5s ft %-6s corp %-10s %s' \
    "$t$label" "$SECONDS_EACH" "${runs:-0}" "${execs:-0}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$status")")
done
}
run_targets "$BUILD" "" "$SECONDS_EACH"

# The crash minimiser against its planted bug (fuzz/minimize/README.md).
mkdir -p "$OUT"
if cmake --build "$BUILD" -j"$(nproc)" --target vhdxlog-minimize \
  minimize_make_crash minimize_planted_log minimize_planted_packed >/dev/null &&
  ctest --test-dir "$BUILD" -L minimize --output-on-failure \
    >"$OUT/minimize.log" 2>&1; then
  summary+=("minimize: $(grep 'tests passed' "$OUT/minimize.log")")
else
  tail -n 30 "$OUT/minimize.log"
  summary+=("minimize FAILED (see $OUT/minimize.log)")
  failed=1
fi

# The i386 build: the same targets, -m32 (clang's i386 runtimes come with
# libclang-rt-14-dev; the 32-bit libc and libstdc++ with gcc-multilib and
# libstdc++-12-dev-i386-cross).
SECONDS_I386=${FUZZ_SECONDS_I386:-20}
if [ "$SECONDS_I386" != off ]; then
  BUILD32=$BUILD-i386
  # shellcheck disable=SC2086
  if cmake -S "$ROOT" -B "$BUILD32" -DCMAKE_C_COMPILER="${CC:-clang}" \
      -DCMAKE_C_FLAGS=-m32 -DCMAKE_EXE_LINKER_FLAGS=-m32 \
      -DVHDXLOG_FUZZ_ENGINE=libfuzzer -DVHDXLOG_BUILD_TESTS=OFF \
      -DVHDXLOG_BUILD_TOOLS=OFF >/dev/null &&
      cmake --build "$BUILD32" -j"$(nproc)" --target $TARGETS >/dev/null; then
    first=$(set -- $TARGETS; echo "$1")
    RUN32=()
    if ! "$BUILD32/fuzz/$first" -runs=0 >/dev/null 2>&1; then
      # qemu-user: LeakSanitizer hangs there, and with ASan's default
      # quarantine the 32-bit allocator soon maps memory where ASan does
      # not expect it (CHECK failed: AddrIsInMem). A 32-bit readdir() of
      # an ext4 folder fails there (EOVERFLOW on its 64-bit offsets), so
      # the corpus and scratch folders go to a tmpfs.
      RUN32=(qemu-i386)
      export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0:quarantine_size_mb=4"
      CORPUS=$(mktemp -d /dev/shm/vhdxlog-fuzz-ci.XXXXXX) || exit 1
      trap 'rm -rf "$CORPUS"' EXIT
      cp -r "$ROOT/corpus/." "$CORPUS/"
      SCRATCH=$CORPUS/scratch
    fi
    run_targets "$BUILD32" "-i386" "$SECONDS_I386" "${RUN32[@]}"
  else
    echo "run_ci.sh: i386 build failed" >&2
    summary+=("i386 build FAILED")
    failed=1
  fi
fi

echo "== fuzzing summary"
printf '%s\n' "${summary[@]}"
exit $failed
