#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages the build and the test suite need, only those
# missing. Safe to run repeatedly; needs root (or sudo) on Debian 12.
set -euo pipefail

want=(cmake make gcc g++ clang libclang-rt-14-dev llvm libcmocka-dev pkg-config
      python3 qemu-utils qemu-user gcc-s390x-linux-gnu libc6-dev-s390x-cross
      gcc-i686-linux-gnu libc6-dev-i386-cross gcovr cppcheck clang-tidy
      clang-format zip unzip afl++ hyperfine valgrind
      libstdc++-12-dev-i386-cross python3-jsonschema)
case "${1:-all}" in
  demo) want=(cmake make gcc qemu-utils) ;;
  all) ;;
  *) echo "usage: $0 [demo|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
