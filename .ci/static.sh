#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Static checks for vhdxlog:
#  1. clang-tidy on lib/*.c with the root .clang-tidy (bugprone-*, cert-*,
#     clang-analyzer-*, a few documented exclusions; every finding is an
#     error), using the compile commands of a clang CMake configure so the
#     flags are the project's own.
#  2. cppcheck on lib/ (--enable=warning,portability,performance
#     --error-exitcode=1 --inline-suppr), C99.
#  3. clang-format --dry-run --Werror with the root .clang-format on every
#     .c/.h file in the tree.
# All three always run; prints a summary and exits non-zero if any failed.
# Installs what is missing through .ci/deps.sh.
#
# Environment: JOBS (default nproc); VHDXLOG_STATIC_ONLY="tidy cppcheck
# format" to run a subset. Build directory: build-port-tidy, logs in
# build-port-logs/.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
ONLY=${VHDXLOG_STATIC_ONLY:-"tidy cppcheck format"}
LOGS=$ROOT/build-port-logs
B=$ROOT/build-port-tidy
mkdir -p "$LOGS"
START=$SECONDS
SUMMARY=()
FAILED=0
record() { # RESULT NAME SECONDS NOTE
  SUMMARY+=("$(printf '%-5s %-14s %4ss  %s' "$1" "$2" "$3" "${4:-}")")
  if [ "$1" = FAIL ]; then FAILED=1; fi
}
wants() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

bash "$ROOT/.ci/deps.sh" static || exit 1
echo "clang-tidy: $(clang-tidy --version | sed -n 's/.*LLVM version //p' | head -n 1)," \
  "clang-format: $(clang-format --version | sed 's/.*version //')," \
  "$(cppcheck --version)"

LIB_C=(lib/*.c)

# ---- 1. clang-tidy -----------------------------------------------------------
tidy_one() { # file -> findings on stdout, status 1 if any
  clang-tidy --quiet -p "$B" "$1" 2>&1
}
run_tidy() {
  rm -rf "$B"
  # Configure only the library: its compile commands are all clang-tidy
  # needs. clang, so every compile flag is understood.
  CC=clang cmake -S "$ROOT" -B "$B" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
    -DVHDXLOG_BUILD_TOOLS=OFF -DVHDXLOG_BUILD_TESTS=OFF \
    -DVHDXLOG_BUILD_BENCH=OFF >"$LOGS/tidy-configure.log" 2>&1 || {
    cat "$LOGS/tidy-configure.log"
    return 1
  }
  export -f tidy_one
  export B
  printf '%s\n' "${LIB_C[@]}" | xargs -r -P "$JOBS" -I{} bash -c 'tidy_one "$1"' _ {}
}
if wants tidy; then
  echo "==> clang-tidy (${#LIB_C[@]} files)"
  t0=$SECONDS
  run_tidy >"$LOGS/clang-tidy.log" 2>&1
  rc=$?
  # A finding in a header shows once per source that includes it.
  n=$(grep -E ': (warning|error): ' "$LOGS/clang-tidy.log" | sort -u | wc -l)
  if [ $rc -eq 0 ] && [ "$n" -eq 0 ]; then
    record PASS clang-tidy $((SECONDS - t0)) "${#LIB_C[@]} files, 0 findings"
  else
    record FAIL clang-tidy $((SECONDS - t0)) "$n findings (log: build-port-logs/clang-tidy.log)"
    grep -E ': (warning|error): ' "$LOGS/clang-tidy.log" | sort -u | head -n 60
  fi
fi

# ---- 2. cppcheck -------------------------------------------------------------
if wants cppcheck; then
  echo "==> cppcheck"
  t0=$SECONDS
  cppcheck --std=c99 --language=c --enable=warning,portability,performance \
    --error-exitcode=1 --inline-suppr --quiet -j "$JOBS" -I lib/include -I lib \
    --template='{file}:{line}: {severity}: {message} [{id}]' \
    lib/ >"$LOGS/cppcheck.log" 2>&1
  rc=$?
  n=$(grep -cE '^[^ ]+:[0-9]+: ' "$LOGS/cppcheck.log")
  if [ $rc -eq 0 ]; then
    record PASS cppcheck $((SECONDS - t0)) "lib/, $n findings"
  else
    record FAIL cppcheck $((SECONDS - t0)) "$n findings (log: build-port-logs/cppcheck.log)"
    head -n 60 "$LOGS/cppcheck.log"
  fi
fi

# ---- 3. clang-format ---------------------------------------------------------
if wants format; then
  echo "==> clang-format"
  t0=$SECONDS
  # Every C file but the build trees.
  mapfile -t FILES < <(find . \( -name '.git' -o -name 'build*' \) \
    -prune -o -type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | sort)
  # One clang-format per file, in parallel; a file that needs changes
  # prints "UNFORMATTED <file>" after its diagnostics.
  printf '%s\0' "${FILES[@]}" | xargs -0 -r -P "$JOBS" -I{} sh -c \
    'clang-format --dry-run --Werror "$1" 2>&1 || echo "UNFORMATTED $1"' _ {} \
    >"$LOGS/clang-format.log"
  mapfile -t bad < <(sed -n 's/^UNFORMATTED //p' "$LOGS/clang-format.log" | sort)
  if [ ${#bad[@]} -eq 0 ]; then
    record PASS clang-format $((SECONDS - t0)) "${#FILES[@]} files formatted"
  else
    record FAIL clang-format $((SECONDS - t0)) \
      "${#bad[@]} of ${#FILES[@]} files need clang-format -i (log: build-port-logs/clang-format.log)"
    printf '  not formatted: %s\n' "${bad[@]}"
  fi
fi

echo
echo "================ static analysis summary ================"
printf '%s\n' "${SUMMARY[@]}"
echo "total: $((SECONDS - START))s"
if [ "$FAILED" = 0 ]; then echo "static: OK"; else echo "static: FAILED"; fi
exit "$FAILED"
