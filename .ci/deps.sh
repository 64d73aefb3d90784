#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The one installer: the Debian 12 packages that the named groups need and
# that are missing, in one `apt-get update` + `apt-get install`. Safe to run
# again; as root, or through sudo. A group is a CI stage (.ci/run), `demo`,
# `qemu` (interop tests), `bench`, `cross-TARGET` (s390x, i686, armhf), or
# `all` (every stage and bench).
#
# gcc-multilib is never installed: it conflicts with the cross compilers of
# the port stage; the -m32 fuzz build gets its 32-bit C++ library from
# libstdc++-12-dev-i386-cross.
#
# Usage: .ci/deps.sh GROUP...   VHDXLOG_NO_APT=1: install nothing, only fail
# naming what is missing.
set -euo pipefail

cross() { # cross TARGET -> compiler, C library, qemu-user, multiarch cmocka
  local triple arch
  case $1 in
    s390x) triple=s390x-linux-gnu arch=s390x ;;
    i686) triple=i686-linux-gnu arch=i386 ;;
    armhf) triple=arm-linux-gnueabihf arch=armhf ;;
    *) echo "deps: unknown cross target $1" >&2; return 2 ;;
  esac
  echo "gcc-$triple libc6-dev-$arch-cross qemu-user libcmocka-dev:$arch"
}

group() {
  local base="cmake make gcc libcmocka-dev python3"
  case $1 in
    demo) echo "cmake make gcc qemu-utils" ;;
    qemu) echo "qemu-utils python3" ;;
    bench) echo "hyperfine" ;;
    gcc) echo "$base pkg-config python3-jsonschema qemu-utils" ;;
    asan) echo "$base clang libclang-rt-14-dev llvm python3-jsonschema" ;;
    static) echo "cmake clang clang-tidy clang-format cppcheck" ;;
    port) echo "$base clang $(cross s390x) $(cross i686)" ;;
    cross-*) cross "${1#cross-}" ;;
    fuzz | ossfuzz)
      echo "$base clang libclang-rt-14-dev llvm zip unzip afl++ valgrind libstdc++-12-dev-i386-cross" ;;
    coverage) echo "$base gcovr" ;;
    install) echo "$base pkg-config" ;;
    symbols) echo "$base binutils" ;;
    vendor) echo "$base g++ clang" ;;
    all)
      local g
      for g in gcc asan static port fuzz ossfuzz coverage install symbols vendor bench; do
        group "$g"
      done ;;
    *) echo "deps: unknown group $1" >&2; return 2 ;;
  esac
}

[ $# -gt 0 ] || { echo "usage: $0 GROUP..." >&2; exit 2; }
want=()
for g in "$@"; do
  list=$(group "$g") || exit 2
  read -r -a pkgs <<<"$list"
  want+=("${pkgs[@]}")
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=() arches=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
  installed "$p" && continue
  missing+=("$p")
  # A package of another architecture needs that architecture in dpkg;
  # Multi-Arch: same packages must match the native copy's version, so the
  # native one is installed (or upgraded) in the same run.
  case $p in
    *:*) arches+=("${p#*:}") missing+=("${p%%:*}") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: missing ${missing[*]}"
if [ "${VHDXLOG_NO_APT:-0}" = 1 ] || ! command -v apt-get >/dev/null; then
  echo "deps: not installing (VHDXLOG_NO_APT=1 or no apt-get)" >&2
  exit 1
fi
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
for a in ${arches[@]+"${arches[@]}"}; do
  dpkg --print-foreign-architectures | grep -qx "$a" || $SUDO dpkg --add-architecture "$a"
done
# A mirror in mid-sync makes `apt-get update` fail on a few lists while the
# rest are fine: retry once, then let the install decide.
$SUDO apt-get update -q || { sleep 5; $SUDO apt-get update -q; } || true
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  $(printf '%s\n' "${missing[@]}" | sort -u)
