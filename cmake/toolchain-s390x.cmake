# SPDX-License-Identifier: MIT
# IBM Z, 64-bit big-endian: catches byte-order bugs in the decoders.
# Needs gcc-s390x-linux-gnu, libc6-dev-s390x-cross, qemu-user and, for the
# unit tests, libcmocka-dev:s390x (.ci/deps.sh cross-TARGET installs them).
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(VHDXLOG_CROSS_TRIPLE s390x-linux-gnu)
set(VHDXLOG_CROSS_MULTIARCH s390x-linux-gnu)
set(VHDXLOG_CROSS_QEMU qemu-s390x)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-cross-common.cmake)
