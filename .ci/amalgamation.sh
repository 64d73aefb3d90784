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

build() { # build required|optional NAME COMPILER FLAGS...
  local need=$1 name=$2 cc=$3
  shift 3
  if ! command -v "$cc" >/dev/null; then
    if [ "$need" = required ]; then
      echo "FAIL $name: $cc not installed (scripts/install-deps.sh)"
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
exit $status
