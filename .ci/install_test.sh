#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install test: builds the libraries alone (static, shared, io), installs
# them into a temporary prefix with `cmake --install --prefix`, then builds
# and runs tiny consumers: through find_package(vhdxlog) (vhdxlog::vhdxlog,
# vhdxlog::vhdxlog_shared, component io -> vhdxlog::vhdxlog_io) and through
# pkg-config (vhdxlog.pc, vhdxlog_io.pc). Also checks that a DESTDIR install
# puts the same files under DESTDIR, and the exports of the installed .so.
#
# Environment: JOBS (default nproc), VHDXLOG_INSTALL_KEEP=1 keeps the temp
# folder. Build directory: build-port-install.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
B=$ROOT/build-port-install
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vhdxlog-install.XXXXXX")
if [ "${VHDXLOG_INSTALL_KEEP:-0}" != 1 ]; then
  trap 'rm -rf "$TMP"' EXIT
fi
PREFIX=$TMP/prefix
START=$SECONDS
# MAJOR.MINOR from the header: the package version and the soname.
SOVER=$(sed -nE 's/^#define VHDXLOG_VERSION_(MAJOR|MINOR) ([0-9]+)$/\2/p' \
  "$ROOT/lib/include/vhdxlog.h" | paste -sd . -)
case $SOVER in
  *.*) ;;
  *) echo "install_test: no version in lib/include/vhdxlog.h" >&2; exit 1 ;;
esac

bash "$ROOT/.ci/deps.sh" install

echo "==> configure + build the libraries (tools, tests, fuzz off)"
rm -rf "$B"
# The configure-time prefix is deliberately not the one used below:
# `--prefix` at install time must be enough.
cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$TMP/not-this-prefix" \
  -DVHDXLOG_BUILD_TOOLS=OFF -DVHDXLOG_BUILD_TESTS=OFF -DVHDXLOG_BUILD_BENCH=OFF \
  -DVHDXLOG_BUILD_SHARED=ON
cmake --build "$B" -j "$JOBS"

echo "==> install to $PREFIX"
cmake --install "$B" --prefix "$PREFIX"
(cd "$PREFIX" && find . -type f | sort)

echo "==> DESTDIR install"
DESTDIR="$TMP/dest" cmake --install "$B" --prefix /opt/vhdxlog >/dev/null
for f in include/vhdxlog.h include/vhdxlog_io.h; do
  test -f "$TMP/dest/opt/vhdxlog/$f" || { echo "DESTDIR install lacks $f" >&2; exit 1; }
done
for f in vhdxlog.pc vhdxlog_io.pc libvhdxlog.a libvhdxlog_io.a "libvhdxlog.so.$SOVER" \
  vhdxlogConfig.cmake vhdxlog_ioTargets.cmake; do
  test -n "$(find "$TMP/dest/opt/vhdxlog" -name "$f")" ||
    { echo "DESTDIR install lacks $f" >&2; exit 1; }
done
test ! -e "$TMP/not-this-prefix" ||
  { echo "install wrote to the configure-time prefix" >&2; exit 1; }

mkdir -p "$TMP/consumer"
cp "$ROOT/.ci/consumer_main.c" "$TMP/consumer/main.c"
# The io consumer: a file of 16 zero bytes is no VHDX image.
cat >"$TMP/consumer/io_main.c" <<'EOF'
#include <stdio.h>

#include <vhdxlog_io.h>

int main(int argc, char **argv) {
  vhdxlog_posix_file f;
  vhdxlog_io io;
  vhdxlog_loaded loaded;
  vhdxlog_error error;
  vhdxlog_status st;
  if (argc != 2 || vhdxlog_posix_open(&f, argv[1], 0) != 0)
    return 1;
  vhdxlog_posix_io(&f, &io);
  st = vhdxlog_load(&io, &loaded, &error);
  vhdxlog_loaded_free(&loaded);
  vhdxlog_posix_close(&f);
  printf("vhdxlog_load on 16 zero bytes: %s\n", vhdxlog_status_name(st));
  return st == VHDXLOG_OK ? 1 : 0;
}
EOF
head -c 16 /dev/zero >"$TMP/consumer/zeros.bin"
cat >"$TMP/consumer/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.13)
project(vhdxlog_consumer C)
find_package(vhdxlog $SOVER REQUIRED COMPONENTS io)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE vhdxlog::vhdxlog)
add_executable(consumer_shared main.c)
target_link_libraries(consumer_shared PRIVATE vhdxlog::vhdxlog_shared)
add_executable(consumer_io io_main.c)
target_link_libraries(consumer_io PRIVATE vhdxlog::vhdxlog_io)
EOF

echo "==> consumers via find_package(vhdxlog COMPONENTS io)"
cmake -S "$TMP/consumer" -B "$TMP/consumer-build" -DCMAKE_PREFIX_PATH="$PREFIX"
cmake --build "$TMP/consumer-build"
"$TMP/consumer-build/consumer"
"$TMP/consumer-build/consumer_shared"
"$TMP/consumer-build/consumer_io" "$TMP/consumer/zeros.bin"
readelf -d "$TMP/consumer-build/consumer_shared" |
  grep -qF "Shared library: [libvhdxlog.so.$SOVER]" ||
  { echo "consumer_shared does not link libvhdxlog.so.$SOVER" >&2; exit 1; }
if readelf -d "$TMP/consumer-build/consumer" | grep -q 'NEEDED.*libvhdxlog'; then
  echo "consumer (vhdxlog::vhdxlog) links the shared library" >&2
  exit 1
fi

echo "==> exports of the installed libvhdxlog.so = the header's functions"
mkdir -p "$TMP/symbols/lib"
cp -P "$PREFIX"/lib*/libvhdxlog.so* "$PREFIX"/lib*/libvhdxlog.a "$TMP/symbols/lib/"
# Only the shared half here: the static half is .ci/symbols.sh's own stage.
bash "$ROOT/.ci/symbols.sh" "$TMP/symbols" >"$TMP/symbols.log" || true
grep -A 20 " shared " "$TMP/symbols.log" || true
grep -q "^PASS shared" "$TMP/symbols.log"

# must_refuse FIND_PACKAGE_ARGS WHY: a consumer asking for that must not
# configure, and CMake's message must name WHY.
must_refuse() {
  echo "==> find_package($1) must fail"
  printf 'cmake_minimum_required(VERSION 3.13)\nproject(refused C)\nfind_package(%s)\n' \
    "$1" >"$TMP/consumer/CMakeLists.txt"
  rm -rf "$TMP/consumer-refused"
  if cmake -S "$TMP/consumer" -B "$TMP/consumer-refused" -DCMAKE_PREFIX_PATH="$PREFIX" \
    >"$TMP/refused.log" 2>&1; then
    echo "find_package($1) was accepted" >&2
    exit 1
  fi
  grep -q -- "$2" "$TMP/refused.log" || { cat "$TMP/refused.log"; exit 1; }
}
must_refuse "vhdxlog 9.0 REQUIRED" '"9.0"'
must_refuse "vhdxlog REQUIRED COMPONENTS nosuch" "set vhdxlog_FOUND to FALSE"

echo "==> consumers via pkg-config"
PCDIR=$(dirname "$(find "$PREFIX" -name vhdxlog.pc | head -n 1)")
LIBDIR=$(dirname "$PCDIR")
export PKG_CONFIG_PATH=$PCDIR
pkg-config --modversion vhdxlog
pkg-config --modversion vhdxlog_io
CFLAGS_PC=$(pkg-config --cflags vhdxlog)
LIBS_PC=$(pkg-config --libs vhdxlog)
echo "cflags: $CFLAGS_PC"
echo "libs:   $LIBS_PC"
# -lvhdxlog: the linker takes the .so where both are installed (the
# dynamic loader then needs LIBDIR), the .a with -static / --static.
# shellcheck disable=SC2086 # word splitting of pkg-config output is intended
cc -std=c99 -Wall -Wextra -Werror $CFLAGS_PC "$TMP/consumer/main.c" $LIBS_PC \
  -o "$TMP/consumer-pc"
LD_LIBRARY_PATH=$LIBDIR "$TMP/consumer-pc"
# shellcheck disable=SC2086
cc -std=c99 -Wall -Wextra -Werror $CFLAGS_PC "$TMP/consumer/main.c" \
  -Wl,-Bstatic $LIBS_PC -Wl,-Bdynamic -o "$TMP/consumer-pc-static"
"$TMP/consumer-pc-static"
LIBS_PC=$(pkg-config --libs vhdxlog_io)
echo "io libs: $LIBS_PC"
# shellcheck disable=SC2086
cc -std=c99 -Wall -Wextra -Werror $(pkg-config --cflags vhdxlog_io) \
  "$TMP/consumer/io_main.c" $LIBS_PC -o "$TMP/consumer-io-pc"
LD_LIBRARY_PATH=$LIBDIR "$TMP/consumer-io-pc" "$TMP/consumer/zeros.bin"

echo "install_test: OK ($((SECONDS - START))s)"
