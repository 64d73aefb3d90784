#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The amalgamation (amalgamation/vhdxlog.c + vhdxlog.h):
#  1. is up to date: scripts/amalgamate.py regenerates it into a temporary
#     folder, which must equal the checked-in files byte for byte;
#  2. builds on its own with -std=c99 -pedantic -Wall -Wextra -Werror under
#     gcc and clang, and as C++ under g++ (and clang++ when installed);
#  3. links and runs .ci/consumer_main.c, from each object (the C++ one
#     too: the API keeps C linkage through the header's extern "C").
# Run scripts/amalgamate.py and commit its output when (1) fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AM=$ROOT/amalgamation
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vhdxlog-amalgamation.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
status=0

echo "==> up to date"
python3 "$ROOT/scripts/amalgamate.py" "$TMP/gen"
for f in vhdxlog.c vhdxlog.h; do
  if ! diff -u "$AM/$f" "$TMP/gen/$f" >"$TMP/$f.diff"; then
    echo "FAIL amalgamation/$f is stale (run scripts/amalgamate.py):"
    head -n 40 "$TMP/$f.diff"
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "PASS amalgamation up to date"

build() { # build NAME COMPILER FLAGS...
  local name=$1 cc=$2
  shift 2
  if ! command -v "$cc" >/dev/null; then
    echo "SKIP $name: $cc not installed"
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
build gcc gcc -std=c99 -pedantic
build clang clang -std=c99 -pedantic
build g++ g++ -x c++ -std=c++11 -pedantic
build clang++ clang++ -x c++ -std=c++11 -pedantic
exit $status
