#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The amalgamation (vhdxlog.c + vhdxlog.h, generated from lib/ by
# scripts/amalgamate.py, never checked in):
#  1. is reproducible: two runs of the generator write the same bytes;
#  2. builds on its own with -std=c99 -pedantic -Wall -Wextra -Werror under
#     gcc and clang, and as C++ under g++ (and clang++ when installed);
#  3. links and runs .ci/consumer_main.c, from each object (the C++ one
#     too: the API keeps C linkage through the header's extern "C");
#  4. passes the cmocka unit tests: the CMake build with
#     -DVHDXLOG_USE_AMALGAMATION=ON (build-ci-amalgamation), ctest -R test_.
#     VHDXLOG_AMALGAMATION_TESTS=0 skips this step.
# Environment: JOBS (default 2).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vhdxlog-amalgamation.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
AM=$TMP/gen
status=0

echo "==> reproducible"
python3 "$ROOT/scripts/amalgamate.py" "$AM"
python3 "$ROOT/scripts/amalgamate.py" "$TMP/again"
if diff -r "$AM" "$TMP/again" >/dev/null; then
  echo "PASS amalgamation reproducible"
else
  echo "FAIL amalgamation: two runs of scripts/amalgamate.py differ"
  status=1
fi

build() { # build required|optional NAME COMPILER FLAGS...
  local need=$1 name=$2 cc=$3
  shift 3
  if ! command -v "$cc" >/dev/null; then
    if [ "$need" = required ]; then
      echo "FAIL $name: $cc not installed (.ci/deps.sh vendor)"
      status=1
    else
      echo "SKIP $name: $cc not installed"
    fi
    return 0
  fi
  if ! "$cc" "$@" -Wall -Wextra -Werror -O2 -I"$AM" -c "$AM/vhdxlog.c" \
    -o "$TMP/$name.o"; then
    echo "FAIL $name: vhdxlog.c does not compile"
    status=1
    return 0
  fi
  cc -std=c99 -Wall -Wextra -Werror -I"$AM" -c "$ROOT/.ci/consumer_main.c" \
    -o "$TMP/consumer.o"
  # The C++ object needs the C++ runtime only if it calls into it; link
  # with the compiler that built it.
  if "$cc" "$TMP/consumer.o" "$TMP/$name.o" -o "$TMP/$name" &&
    "$TMP/$name" >"$TMP/$name.out"; then
    echo "PASS $name: $(cat "$TMP/$name.out")"
  else
    echo "FAIL $name: the consumer does not link or run"
    status=1
  fi
}

echo "==> build"
build required gcc gcc -std=c99 -pedantic
build required clang clang -std=c99 -pedantic
build required g++ g++ -x c++ -std=c++11 -pedantic
build optional clang++ clang++ -x c++ -std=c++11 -pedantic

if [ "${VHDXLOG_AMALGAMATION_TESTS:-1}" != 0 ]; then
  echo "==> unit tests against the amalgamation"
  B=$ROOT/build-ci-amalgamation
  if cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release \
    -DVHDXLOG_USE_AMALGAMATION=ON -DVHDXLOG_BUILD_TOOLS=OFF >"$TMP/cmake.log" 2>&1 &&
    cmake --build "$B" -j "${JOBS:-2}" >>"$TMP/cmake.log" 2>&1 &&
    ctest --test-dir "$B" -j "${JOBS:-2}" -R '^test_' --output-on-failure \
      >"$TMP/ctest.log" 2>&1; then
    echo "PASS unit tests: $(grep 'tests passed' "$TMP/ctest.log")"
  else
    cat "$TMP/cmake.log" "$TMP/ctest.log" 2>/dev/null | tail -n 40
    echo "FAIL unit tests against the amalgamation"
    status=1
  fi
fi
exit $status
