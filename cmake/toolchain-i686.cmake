# SPDX-License-Identifier: MIT
# x86, 32-bit little-endian: size_t and pointers are 32 bits, uint64_t is
# 4-byte aligned in structs. Catches size_t truncation of 64-bit offsets.
# Needs gcc-i686-linux-gnu, libc6-dev-i386-cross, qemu-user and, for the unit
# tests, libcmocka-dev:i386 (.ci/deps.sh cross-TARGET installs them).
set(CMAKE_SYSTEM_PROCESSOR i686)
set(VHDXLOG_CROSS_TRIPLE i686-linux-gnu)
set(VHDXLOG_CROSS_MULTIARCH i386-linux-gnu)
set(VHDXLOG_CROSS_QEMU qemu-i386)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-cross-common.cmake)
