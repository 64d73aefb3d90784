#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite, from a fresh clone on a fresh Debian 12 machine:
# installs missing packages, then runs every stage below and prints one
# line per stage and a closing "N passed, N failed". Exit 0 only if all
# stages passed. CI (.ci/run) runs exactly this.
#
# Stages:
#   gcc        Release build with gcc (-Werror), all CTest tests (unit, CLI,
#              reference model, differential replayer over the corpus, QEMU
#              interop with real qemu-img/qemu-io)
#   asan       clang build with ASan+UBSan, the same tests but QEMU's
#   static     clang-tidy + cppcheck on lib/, clang-format on all sources
#   port       unit tests on s390x (big-endian) and i686 (32-bit) under
#              qemu-user; lib/ alone with -std=c99 -pedantic (gcc, clang)
#   fuzz       every fuzz target (the differential ones too) replays its corpus, then fuzzes
#              FUZZ_SECONDS (default 60) each under ASan+UBSan; then an i386
#              (-m32) build, FUZZ_SECONDS_I386 (default 20) each
#   ossfuzz    fuzz/oss-fuzz/build.sh run with OSS-Fuzz's variables set
#              locally, laid out as OSS-Fuzz and as ClusterFuzzLite would,
#              each binary run on its seed zip
#   coverage   line/branch coverage of lib/ by the tests (gcovr), and
#              line coverage by the checked-in corpus alone (>= 95%)
#   install    cmake --install (static + shared library, io component),
#              then consumers via find_package and pkg-config
#   symbols    the library's external symbols (libvhdxlog.a, nm -g) and
#              the shared library's exports (nm -D) are exactly the
#              functions lib/include/vhdxlog.h declares
#   vendor     amalgamation/ is current and builds (gcc, clang, g++,
#              clang++); a parent project add_subdirectory()s the tree
#              without cmocka and gets only the library
#
# Environment: STAGES="gcc asan ..." runs a subset; FUZZ_SECONDS; JOBS.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
STAGES=${STAGES:-"gcc asan static port fuzz ossfuzz coverage install symbols vendor"}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
export JOBS
LOGS=$ROOT/build-logs
mkdir -p "$LOGS"

bash scripts/install-deps.sh all || { echo "dependency install failed"; exit 2; }

build_and_test() { # build_and_test DIR CTEST_ARGS -- CMAKE_ARGS...
  local dir=$1 ctest_args=$2
  shift 3
  cmake -S "$ROOT" -B "$dir" "$@" &&
    cmake --build "$dir" -j"$JOBS" &&
    ctest --test-dir "$dir" --output-on-failure -j"$JOBS" $ctest_args
}

stage_gcc() {
  build_and_test build-ci-gcc "" -- -DCMAKE_C_COMPILER=gcc \
    -DCMAKE_BUILD_TYPE=Release
}
stage_asan() {
  ASAN_OPTIONS=detect_leaks=1 build_and_test build-ci-asan "-LE slow" -- \
    -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DVHDXLOG_SANITIZE=ON
}
stage_static() { bash .ci/static.sh; }
stage_port() { VHDXLOG_PORT_REQUIRE_CMOCKA=1 bash .ci/portability.sh; }
stage_fuzz() { FUZZ_SECONDS=${FUZZ_SECONDS:-60} bash fuzz/run_ci.sh; }
stage_ossfuzz() {
  # fuzz/oss-fuzz/build.sh with OSS-Fuzz's variables (ASan, libFuzzer),
  # laid out as OSS-Fuzz's image and as ClusterFuzzLite's; each target's
  # seed zip replayed within its .options limits. Other flavours (UBSan,
  # MSan, AFL++, i386, coverage): fuzz/oss-fuzz/local.sh FLAVOUR.
  BASE=$ROOT/build-ossfuzz/oss-fuzz bash fuzz/oss-fuzz/local.sh address 0 &&
    LAYOUT=cflite BASE=$ROOT/build-ossfuzz/cflite \
      bash fuzz/oss-fuzz/local.sh address 0
}
stage_coverage() {
  VHDXLOG_COV_MIN_LINE=${VHDXLOG_COV_MIN_LINE:-95} \
    VHDXLOG_COV_MIN_BRANCH=${VHDXLOG_COV_MIN_BRANCH:-88} bash .ci/coverage.sh &&
    CORPUS_COV_MIN_LINE=${CORPUS_COV_MIN_LINE:-80} bash fuzz/corpus_coverage.sh
}
stage_install() { bash .ci/install_test.sh; }
stage_symbols() { bash .ci/symbols.sh; }
stage_vendor() {
  local rc=0
  bash .ci/amalgamation.sh || rc=1
  bash .ci/subproject_test.sh || rc=1
  return $rc
}

passed=0
failed=0
results=()
for s in $STAGES; do
  start=$SECONDS
  echo "=== stage $s (log: build-logs/$s.log)"
  if "stage_$s" >"$LOGS/$s.log" 2>&1; then
    passed=$((passed + 1))
    results+=("PASS $s $((SECONDS - start))s")
  else
    failed=$((failed + 1))
    results+=("FAIL $s $((SECONDS - start))s")
    echo "--- last lines of build-logs/$s.log:"
    tail -n 40 "$LOGS/$s.log"
  fi
  # The closing lines of each stage: test counts, coverage, fuzz summary.
  grep -E "tests passed|passed, .* failed|^lines:|^branches:|^corpus-only|^(PASS|FAIL) |exec/s" \
    "$LOGS/$s.log" | tail -n 12 | sed 's/^/    /'
done

echo
echo "=== summary"
printf '  %s\n' "${results[@]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
