#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Portability check for vhdxlog.
#
#  1. Installs what it needs through apt-get (only what `command -v` /
#     dpkg-query say is missing; one `apt-get update` at most): the s390x and
#     i686 cross compilers, qemu-user, and libcmocka-dev for each target via
#     Debian multiarch (libcmocka-dev:s390x, libcmocka-dev:i386).
#  2. Strict native compiles of lib/*.c with gcc and with clang:
#     -std=c99 -pedantic -Wall -Wextra -Werror (lib/ must compile alone).
#  3. For each cross target (s390x: 64-bit big-endian; i686: 32-bit), a full
#     CMake build with cmake/toolchain-<triple>.cmake (the project's own
#     warning flags, -Werror) and every CTest test under qemu-user through
#     CMAKE_CROSSCOMPILING_EMULATOR: the cmocka suites, the reference
#     model's self-test, the testkit. Without cmocka for a target (multiarch
#     install failed) its unit tests are skipped and the summary says so
#     (CI sets VHDXLOG_PORT_REQUIRE_CMOCKA=1: then that is a failure).
#
# Prints a summary table; exits non-zero if any step failed.
#
# Environment:
#   VHDXLOG_PORT_TARGETS  cross targets, default "s390x i686"; also "armhf"
#   VHDXLOG_PORT_NATIVE   0 to skip the native gcc/clang step (default 1)
#   VHDXLOG_PORT_INSTALL  0 to never run apt-get (default 1)
#   VHDXLOG_PORT_REQUIRE_CMOCKA  1: a target without cmocka is a failure
#   VHDXLOG_PORT_CTEST_EXCLUDE  ctest -E regex for cross runs (default none)
#   JOBS                  parallel build jobs (default: nproc)
# Build directories: build-port-<target>, logs in build-port-logs/.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
TARGETS=${VHDXLOG_PORT_TARGETS:-"s390x i686"}
NATIVE=${VHDXLOG_PORT_NATIVE:-1}
DO_INSTALL=${VHDXLOG_PORT_INSTALL:-1}
REQUIRE_CMOCKA=${VHDXLOG_PORT_REQUIRE_CMOCKA:-0}
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

# ---- Target table ------------------------------------------------------------
# target -> GNU triple, Debian architecture, compiler package, libc package,
# qemu binary.
target_info() {
  case $1 in
    s390x) echo "s390x-linux-gnu s390x gcc-s390x-linux-gnu libc6-dev-s390x-cross qemu-s390x" ;;
    i686) echo "i686-linux-gnu i386 gcc-i686-linux-gnu libc6-dev-i386-cross qemu-i386" ;;
    armhf) echo "arm-linux-gnueabihf armhf gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-arm" ;;
    *) return 1 ;;
  esac
}

# ---- Installation -------------------------------------------------------------
APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  APT_UPDATED=1
  # A partial index failure (a mirror mid-sync) makes apt-get update exit
  # non-zero while most lists are fine: retry once, then go on and let the
  # installs decide.
  apt-get update -q || { sleep 5; apt-get update -q; } || true
}
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
can_apt() { [ "$DO_INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

install_tools() {
  local pkgs=() t triple arch gccpkg libcpkg qemu
  command -v cmake >/dev/null || pkgs+=(cmake)
  command -v make >/dev/null || pkgs+=(make)
  command -v gcc >/dev/null || pkgs+=(gcc)
  command -v clang >/dev/null || pkgs+=(clang)
  for t in $TARGETS; do
    read -r triple arch gccpkg libcpkg qemu <<<"$(target_info "$t")"
    command -v "$triple-gcc" >/dev/null || pkgs+=("$gccpkg")
    have_pkg "$libcpkg" || pkgs+=("$libcpkg")
    command -v "$qemu" >/dev/null || pkgs+=(qemu-user)
  done
  if [ ${#pkgs[@]} -eq 0 ]; then
    echo "tools: all present"
    return 0
  fi
  echo "tools missing: ${pkgs[*]}"
  can_apt || { echo "cannot install (not root, or VHDXLOG_PORT_INSTALL=0)"; return 1; }
  apt_update_once
  apt_install "${pkgs[@]}"
}

# Multiarch cmocka for one target; returns non-zero if unavailable.
install_cmocka() {
  local arch=$1
  have_pkg "libcmocka-dev:$arch" && return 0
  can_apt || { echo "libcmocka-dev:$arch missing and cannot install"; return 1; }
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    dpkg --add-architecture "$arch" || return 1
    APT_UPDATED=0 # the new architecture needs its package lists
  fi
  apt_update_once
  # libcmocka-dev is Multi-Arch: same, so the build machine's copy must be
  # the same version: install both together.
  apt_install libcmocka-dev "libcmocka-dev:$arch"
}

# ---- Helpers -----------------------------------------------------------------
shopt -s nullglob
LIB_SOURCES=(lib/*.c)
shopt -u nullglob

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
  local triple=$1 b=$2 tests=$3
  rm -rf "$b"
  cmake -S "$ROOT" -B "$b" \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-$triple.cmake" \
    -DVHDXLOG_BUILD_TESTS="$tests" -DVHDXLOG_BUILD_BENCH=OFF
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
t0=$SECONDS
if install_tools >"$LOGS/install-tools.log" 2>&1; then
  record PASS install-tools $((SECONDS - t0))
else
  record FAIL install-tools $((SECONDS - t0)) "log: build-port-logs/install-tools.log"
  tail -n 30 "$LOGS/install-tools.log"
fi

if [ ${#LIB_SOURCES[@]} -eq 0 ]; then
  echo "NOTE: lib/ has no .c files yet: nothing to compile."
  record SKIP "lib sources" 0 "lib/*.c does not exist yet"
else
  if [ "$NATIVE" = 1 ]; then
    for cc in gcc clang; do
      if ! command -v "$cc" >/dev/null; then
        record FAIL "native-$cc" 0 "$cc not installed"
        continue
      fi
      step "native-$cc-strict" native_strict "$cc"
    done
  fi

  for t in $TARGETS; do
    if ! info=$(target_info "$t"); then
      record FAIL "$t" 0 "unknown target (s390x, i686, armhf)"
      continue
    fi
    read -r triple arch _gccpkg _libcpkg _qemu <<<"$info"
    b=$ROOT/build-port-$t
    t0=$SECONDS
    tests=ON
    if install_cmocka "$arch" >"$LOGS/install-cmocka-$arch.log" 2>&1; then
      record PASS "install-cmocka-$arch" $((SECONDS - t0))
    else
      tests=OFF
      if [ "$REQUIRE_CMOCKA" = 1 ]; then
        record FAIL "install-cmocka-$arch" $((SECONDS - t0)) "multiarch cmocka unavailable"
      else
        record WARN "install-cmocka-$arch" $((SECONDS - t0)) \
          "multiarch cmocka unavailable: $t unit tests NOT run"
      fi
      tail -n 15 "$LOGS/install-cmocka-$arch.log"
    fi
    step "$t-configure" cross_configure "$triple" "$b" "$tests" || continue
    step "$t-build" cmake --build "$b" -j "$JOBS" || continue
    if [ "$tests" = ON ]; then
      if [ -e "$ROOT/unit/CMakeLists.txt" ]; then
        step "$t-ctest" cross_ctest "$b"
      else
        record SKIP "$t-ctest" 0 "unit/CMakeLists.txt does not exist yet"
      fi
    fi
  done
fi

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
