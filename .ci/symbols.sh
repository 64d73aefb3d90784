#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hidden internals: the library's external symbols must be exactly the
# functions lib/include/vhdxlog.h declares, both ways.
#  - libvhdxlog.a:  nm -g --defined-only (every global a vendoring program
#    could collide with)
#  - libvhdxlog.so: nm -D --defined-only (the dynamic ABI)
# The declared list comes from the compiler (gcc -aux-info), not a regex.
#
# The libraries checked are built from the generated one-file library
# (VHDXLOG_USE_AMALGAMATION), where the
# functions lib/ files share are static (lib/linkage.h); the per-file build
# keeps them external, prefixed vhdxlog_, for the project's own CRC tests.
# Usage: .ci/symbols.sh [BUILD_DIR]. Without BUILD_DIR, builds the library
# (static + shared, Release) in build-ci-symbols. Environment: JOBS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=${JOBS:-2}
B=${1:-}
if [ -z "$B" ]; then
  B=$ROOT/build-ci-symbols
  cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DVHDXLOG_BUILD_SHARED=ON \
    -DVHDXLOG_USE_AMALGAMATION=ON \
    -DVHDXLOG_BUILD_TOOLS=OFF -DVHDXLOG_BUILD_TESTS=OFF >/dev/null
  cmake --build "$B" -j "$JOBS" --target vhdxlog vhdxlog_shared >/dev/null
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vhdxlog-symbols.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

HEADER=$ROOT/lib/include/vhdxlog.h
printf '#include "vhdxlog.h"\n' >"$TMP/decl.c"
gcc -std=c99 -I"$ROOT/lib/include" -fsyntax-only -aux-info "$TMP/decl.aux" \
  "$TMP/decl.c"
# Lines look like: /* .../vhdxlog.h:141:NC */ extern T *name (args);
grep -F "$HEADER:" "$TMP/decl.aux" | grep -v ' static ' |
  sed -E 's/^.*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*$/\1/' | sort -u >"$TMP/declared"
if [ ! -s "$TMP/declared" ]; then
  echo "symbols: no declarations found in $HEADER" >&2
  exit 2
fi

status=0
compare() { # compare LABEL FILE_OF_DEFINED_SYMBOLS
  local label=$1 defined=$2 extra missing
  extra=$(comm -13 "$TMP/declared" "$defined")
  missing=$(comm -23 "$TMP/declared" "$defined")
  if [ -n "$extra" ]; then
    echo "FAIL $label: exported but not declared in lib/include/vhdxlog.h:"
    printf '  %s\n' $extra
    status=1
  fi
  if [ -n "$missing" ]; then
    echo "FAIL $label: declared in lib/include/vhdxlog.h but not defined:"
    printf '  %s\n' $missing
    status=1
  fi
  if [ -z "$extra$missing" ]; then
    echo "PASS $label: $(wc -l <"$defined") symbols, exactly the header's"
  fi
}

A=$B/lib/libvhdxlog.a
[ -f "$A" ] || { echo "symbols: $A not found" >&2; exit 2; }
nm -g --defined-only "$A" | awk 'NF == 3 { print $3 }' | sort -u >"$TMP/static"
compare "static $(basename "$A")" "$TMP/static"

SO=$B/lib/libvhdxlog.so
if [ -e "$SO" ]; then
  nm -D --defined-only "$SO" | awk 'NF == 3 { print $3 }' | sort -u >"$TMP/shared"
  compare "shared $(basename "$(readlink -f "$SO")")" "$TMP/shared"
else
  echo "symbols: $SO not built (VHDXLOG_BUILD_SHARED=OFF): shared check skipped"
fi
exit $status
