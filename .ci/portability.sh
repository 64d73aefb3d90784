#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Portability check for vhdxlog.
#
#  1. Installs what is missing through .ci/deps.sh: the cross compilers,
#     qemu-user, and libcmocka-dev for each target through Debian multiarch.
#  2. Strict native compiles of lib/*.c with gcc and with clang:
#     -std=c99 -pedantic -Wall -Wextra -Werror (lib/ must compile alone).
#  3. For each cross target (s390x: 64-bit big-endian; i686: 32-bit), a full
#     CMake build with cmake/toolchain-<target>.cmake (the project's own
#     warning flags, -Werror) and every CTest test under qemu-user through
#     CMAKE_CROSSCOMPILING_EMULATOR: the cmocka suites, the reference
#     model's self-test, the testkit.
#
# Prints a summary table; exits non-zero if any step failed.
#
# Environment:
#   VHDXLOG_PORT_TARGETS  cross targets, default "s390x i686"; also "armhf"
#   VHDXLOG_PORT_NATIVE   0 to skip the native gcc/clang step (default 1)
#   VHDXLOG_PORT_CTEST_EXCLUDE  ctest -E regex for cross runs (default none)
#   JOBS                  parallel build jobs (default: nproc)
# Build directories: build-port-<target>, logs in build-port-logs/.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
TARGETS=${VHDXLOG_PORT_TARGETS:-"s390x i686"}
NATIVE=${VHDXLOG_PORT_NATIVE:-1}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
LOGS=$ROOT/build-port-logs
mkdir -p "$LOGS"
SCRIPT_START=$SECONDS

STRICT_FLAGS=(-std=c99 -pedantic -Wall -Wextra -Werror)

# ---- Summary bookkeeping ----------------------------------------------------
SUMMARY=()
FAILED=0
record() { # record RESULT NAME SECONDS [NOTE]
  SUMMARY+=("$(printf '%-5s %-34s %5ss  %s' "$1" "$2" "$3" "${4:-}")")
  if [ "$1" = FAIL ]; then FAILED=1; fi
}
# step NAME CMD...: runs CMD with output to $LOGS/NAME.log, records the
# result; on failure shows the end of the log.
step() {
  local name=$1 t0=$SECONDS rc
  shift
  echo "==> $name"
  "$@" >"$LOGS/$name.log" 2>&1
  rc=$?
  # Test counts for the summary: ctest's and the self-test's closing lines.
  local counts
  counts=$(grep -E 'tests passed, [0-9]+ tests? failed|^[0-9]+ passed, [0-9]+ failed' \
    "$LOGS/$name.log" | tail -n 1)
  if [ $rc -eq 0 ]; then
    record PASS "$name" $((SECONDS - t0)) "$counts"
  else
    record FAIL "$name" $((SECONDS - t0)) "exit $rc, log: ${LOGS#"$ROOT"/}/$name.log $counts"
    echo "---- last 40 lines of $LOGS/$name.log ----"
    tail -n 40 "$LOGS/$name.log"
    echo "----"
  fi
  return $rc
}

# ---- Helpers -----------------------------------------------------------------
LIB_SOURCES=(lib/*.c)

# Plain strict compile of every lib/*.c, then archive + self-test (native).
native_strict() {
  local cc=$1 out=$ROOT/build-port-native-$1 f objs=()
  rm -rf "$out" && mkdir -p "$out" || return 1
  for f in "${LIB_SOURCES[@]}"; do
    echo "$cc ${STRICT_FLAGS[*]} -O2 -c $f"
    "$cc" "${STRICT_FLAGS[@]}" -O2 -Ilib/include -Ilib -c "$f" \
      -o "$out/$(basename "$f" .c).o" || return 1
    objs+=("$out/$(basename "$f" .c).o")
  done
  ar rcs "$out/libvhdxlog.a" "${objs[@]}" || return 1
}
cross_configure() {
  local t=$1 b=$2
  rm -rf "$b"
  cmake -S "$ROOT" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-$t.cmake" \
    -DVHDXLOG_BUILD_BENCH=OFF
}
cross_ctest() {
  local b=$1 n
  n=$(cd "$b" && ctest -N | sed -n 's/^Total Tests: *//p')
  echo "tests registered: ${n:-0}"
  local exclude=()
  if [ -n "${VHDXLOG_PORT_CTEST_EXCLUDE:-}" ]; then
    exclude=(-E "$VHDXLOG_PORT_CTEST_EXCLUDE")
    echo "excluding tests matching: $VHDXLOG_PORT_CTEST_EXCLUDE"
  fi
  (cd "$b" && ctest --output-on-failure --timeout 900 -j "$JOBS" "${exclude[@]}")
}
# ---- Run -----------------------------------------------------------------------
echo "vhdxlog portability: targets [$TARGETS], native=$NATIVE, jobs=$JOBS"
groups=(port)
for t in $TARGETS; do groups+=("cross-$t"); done
step install bash "$ROOT/.ci/deps.sh" "${groups[@]}"

if [ "$NATIVE" = 1 ]; then
  for cc in gcc clang; do
    step "native-$cc-strict" native_strict "$cc"
  done
fi

for t in $TARGETS; do
  b=$ROOT/build-port-$t
  step "$t-configure" cross_configure "$t" "$b" || continue
  step "$t-build" cmake --build "$b" -j "$JOBS" || continue
  step "$t-ctest" cross_ctest "$b"
done

echo
echo "================ portability summary ================"
printf '%s\n' "${SUMMARY[@]}"
echo "total: $((SECONDS - SCRIPT_START))s"
if [ "$FAILED" = 0 ]; then
  echo "portability: OK"
else
  echo "portability: FAILED"
fi
exit "$FAILED"
