# SPDX-License-Identifier: MIT
# 32-bit ARM (ARMv7, hard float), little-endian: 32-bit size_t, and 8-byte
# alignment of uint64_t. Needs gcc-arm-linux-gnueabihf,
# libc6-dev-armhf-cross, qemu-user and, for the unit tests,
# libcmocka-dev:armhf (.ci/deps.sh cross-TARGET installs them).
set(CMAKE_SYSTEM_PROCESSOR arm)
set(VHDXLOG_CROSS_TRIPLE arm-linux-gnueabihf)
set(VHDXLOG_CROSS_MULTIARCH arm-linux-gnueabihf)
set(VHDXLOG_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-cross-common.cmake)
