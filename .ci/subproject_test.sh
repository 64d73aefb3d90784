#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Vendoring with add_subdirectory(): a tiny parent project includes this
# tree and links vhdxlog::vhdxlog, on a machine where cmocka cannot be found
# (pkg-config disabled, cmocka's folders ignored by find_path/find_library).
# Checks that
#  - configure succeeds (no cmocka needed: tests are off when vendored),
#  - the parent's build produces only libvhdxlog.a besides its own program
#    (no CLI, no io, no tests, no model),
#  - the parent's install holds only its own program,
#  - the same environment really hides cmocka: asking for the tests fails.
#
# Environment: JOBS (default 2), VHDXLOG_SUBPROJECT_KEEP=1 keeps the temp
# folder.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=${JOBS:-2}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vhdxlog-subproject.XXXXXX")
if [ "${VHDXLOG_SUBPROJECT_KEEP:-0}" != 1 ]; then
  trap 'rm -rf "$TMP"' EXIT
fi
fail() { echo "subproject_test: FAIL: $*" >&2; exit 1; }

# Hide cmocka: every folder holding cmocka.h or libcmocka.*
IGNORE=$(find /usr/include /usr/local/include /usr/lib /usr/local/lib /lib \
  \( -name cmocka.h -o -name 'libcmocka.*' \) -printf '%h\n' 2>/dev/null |
  sort -u | paste -sd ';' -)
HIDE=(-DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON "-DCMAKE_IGNORE_PATH=$IGNORE")
echo "hiding cmocka: pkg-config off, ignored folders: ${IGNORE:-none}"

mkdir -p "$TMP/parent"
cp "$ROOT/.ci/consumer_main.c" "$TMP/parent/main.c"
cat >"$TMP/parent/CMakeLists.txt" <<EOT
cmake_minimum_required(VERSION 3.13)
project(vhdxlog_parent C)
add_subdirectory("$ROOT" vhdxlog)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE vhdxlog::vhdxlog)
install(TARGETS consumer RUNTIME DESTINATION bin)
EOT

echo "==> configure the parent"
cmake -S "$TMP/parent" -B "$TMP/build" -DCMAKE_BUILD_TYPE=Release "${HIDE[@]}" \
  >"$TMP/configure.log" 2>&1 || { cat "$TMP/configure.log"; fail "configure"; }
if grep -qi "cmocka" "$TMP/configure.log"; then
  cat "$TMP/configure.log"
  fail "configure mentions cmocka"
fi

echo "==> build the parent (all)"
cmake --build "$TMP/build" -j "$JOBS" >"$TMP/build.log" 2>&1 ||
  { cat "$TMP/build.log"; fail "build"; }
"$TMP/build/consumer"
# Every library and program the build produced, relative to the build dir.
built=$(cd "$TMP/build" && find . -path ./CMakeFiles -prune -o -type f \
  \( -name '*.a' -o -name '*.so*' -o -perm -u+x \) -print |
  grep -v '/CMakeFiles/' | sort)
echo "built: $(echo "$built" | tr '\n' ' ')"
[ "$built" = "$(printf './consumer\n./vhdxlog/lib/libvhdxlog.a')" ] ||
  fail "the build produced more (or other) than consumer + libvhdxlog.a"

echo "==> install the parent"
cmake --install "$TMP/build" --prefix "$TMP/prefix" >/dev/null
installed=$(cd "$TMP/prefix" && find . -type f | sort)
echo "installed: $(echo "$installed" | tr '\n' ' ')"
[ "$installed" = "./bin/consumer" ] ||
  fail "the install holds files of vhdxlog"

echo "==> control: the same environment with VHDXLOG_BUILD_TESTS=ON must fail"
if cmake -S "$TMP/parent" -B "$TMP/build-tests" "${HIDE[@]}" \
  -DVHDXLOG_BUILD_TESTS=ON >"$TMP/tests.log" 2>&1; then
  fail "cmocka was found: the environment does not hide it"
fi
grep -q "cmocka not found" "$TMP/tests.log" ||
  { cat "$TMP/tests.log"; fail "configure failed for another reason"; }

echo "subproject_test: OK"
