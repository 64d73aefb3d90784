#!/usr/bin/env bash
# Install test: builds the library alone, installs it into a temporary
# prefix with `cmake --install --prefix`, then builds and runs a tiny
# consumer twice, once through find_package(vhdxlog) (vhdxlog::vhdxlog) and
# once through pkg-config (vhdxlog.pc). Also checks that a DESTDIR install
# puts the same files under DESTDIR.
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

if ! command -v pkg-config >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -q || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends pkgconf
  else
    echo "install_test: pkg-config missing" >&2
    exit 1
  fi
fi

echo "==> configure + build the library (tools, tests, fuzz off)"
rm -rf "$B"
# The configure-time prefix is deliberately not the one used below:
# `--prefix` at install time must be enough.
cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$TMP/not-this-prefix" \
  -DVHDXLOG_BUILD_TOOLS=OFF -DVHDXLOG_BUILD_TESTS=OFF -DVHDXLOG_BUILD_BENCH=OFF
cmake --build "$B" -j "$JOBS" --target vhdxlog

echo "==> install to $PREFIX"
cmake --install "$B" --prefix "$PREFIX"
(cd "$PREFIX" && find . -type f | sort)

echo "==> DESTDIR install"
DESTDIR="$TMP/dest" cmake --install "$B" --prefix /opt/vhdxlog >/dev/null
for f in include/vhdxlog.h; do
  test -f "$TMP/dest/opt/vhdxlog/$f" || { echo "DESTDIR install lacks $f" >&2; exit 1; }
done
test -n "$(find "$TMP/dest/opt/vhdxlog" -name vhdxlog.pc)" ||
  { echo "DESTDIR install lacks vhdxlog.pc" >&2; exit 1; }
test ! -e "$TMP/not-this-prefix" ||
  { echo "install wrote to the configure-time prefix" >&2; exit 1; }

# The consumer: uses the version macros, a constant, and three functions
# from different parts of the library, so linking pulls real objects.
mkdir -p "$TMP/consumer"
cat >"$TMP/consumer/main.c" <<'EOF'
#include <stdio.h>
#include <string.h>

#include <vhdxlog.h>

#if VHDXLOG_VERSION_NUMBER < 100
#error "unexpected vhdxlog version"
#endif

int main(void) {
  static const uint8_t zero[16];
  uint8_t guid[16];
  uint32_t crc = vhdxlog_crc32c(0, "123456789", 9);
  const char *name = vhdxlog_status_name(VHDXLOG_E_ENTRY_CHECKSUM);
  vhdxlog_derive_file_write_guid(zero, guid);
  printf("vhdxlog %s crc=%08lx %s guid[7]=%02x\n", VHDXLOG_VERSION_STRING,
         (unsigned long)crc, name, (unsigned)guid[7]);
  if (crc != 0xE3069283u || strcmp(name, "VHDXLOG_E_ENTRY_CHECKSUM") != 0 ||
      (guid[7] & 0xF0) != 0x40)
    return 1;
  return 0;
}
EOF
cat >"$TMP/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.13)
project(vhdxlog_consumer C)
find_package(vhdxlog 0.1 REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE vhdxlog::vhdxlog)
EOF

echo "==> consumer via find_package(vhdxlog)"
cmake -S "$TMP/consumer" -B "$TMP/consumer-build" -DCMAKE_PREFIX_PATH="$PREFIX"
cmake --build "$TMP/consumer-build"
"$TMP/consumer-build/consumer"

echo "==> find_package(vhdxlog 9.0) must fail (version file)"
cat >"$TMP/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.13)
project(vhdxlog_consumer_v C)
find_package(vhdxlog 9.0 REQUIRED)
EOF
if cmake -S "$TMP/consumer" -B "$TMP/consumer-build-v" -DCMAKE_PREFIX_PATH="$PREFIX" \
  >"$TMP/v.log" 2>&1; then
  echo "find_package accepted version 9.0" >&2
  exit 1
fi

echo "==> consumer via pkg-config"
PCDIR=$(dirname "$(find "$PREFIX" -name vhdxlog.pc | head -n 1)")
export PKG_CONFIG_PATH=$PCDIR
pkg-config --modversion vhdxlog
CFLAGS_PC=$(pkg-config --cflags vhdxlog)
LIBS_PC=$(pkg-config --libs vhdxlog)
echo "cflags: $CFLAGS_PC"
echo "libs:   $LIBS_PC"
# shellcheck disable=SC2086 # word splitting of pkg-config output is intended
cc -std=c99 -Wall -Wextra -Werror $CFLAGS_PC "$TMP/consumer/main.c" $LIBS_PC \
  -o "$TMP/consumer-pc"
"$TMP/consumer-pc"

echo "install_test: OK ($((SECONDS - START))s)"
