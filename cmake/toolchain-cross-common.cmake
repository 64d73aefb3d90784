# SPDX-License-Identifier: MIT
# Shared part of the Debian cross toolchain files in this folder. The including
# file sets VHDXLOG_CROSS_TRIPLE (GNU triple of the cross compiler, e.g.
# s390x-linux-gnu), VHDXLOG_CROSS_MULTIARCH (Debian multiarch directory name,
# e.g. s390x-linux-gnu, i386-linux-gnu) and VHDXLOG_CROSS_QEMU (qemu-user
# binary), then includes this file.
#
# Libraries for the target (cmocka) come from Debian multiarch packages
# (`dpkg --add-architecture ARCH; apt-get install libcmocka-dev:ARCH`), which
# install into /usr/lib/<multiarch>; the C library comes from the
# libc6-dev-<arch>-cross package in /usr/<triple>. Both are searched.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${VHDXLOG_CROSS_TRIPLE}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${VHDXLOG_CROSS_MULTIARCH})

# Search the target's directories only for libraries, headers and packages;
# programs (pkg-config, python) come from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${VHDXLOG_CROSS_TRIPLE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config must see the target's .pc files, never the build machine's.
set(ENV{PKG_CONFIG_LIBDIR}
    "/usr/lib/${VHDXLOG_CROSS_MULTIARCH}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Run target programs (tests) under qemu-user. The target's multiarch C
# library, which libcmocka-dev:ARCH brings, puts its loader at the path the
# binaries name, so qemu needs no -L prefix, and loader, libc and libcmocka
# come from the same Debian packages.
set(CMAKE_CROSSCOMPILING_EMULATOR ${VHDXLOG_CROSS_QEMU})
