# SPDX-License-Identifier: MIT
# Paths for the .pc files, relative to the .pc file's own folder
# (${pcfiledir}) so that they stay right under `cmake --install --prefix P`
# and DESTDIR, whatever CMAKE_INSTALL_PREFIX was at configure time. Absolute
# CMAKE_INSTALL_LIBDIR/INCLUDEDIR are written as they are.
# Sets VHDXLOG_PC_PREFIX, VHDXLOG_PC_LIBDIR, VHDXLOG_PC_INCLUDEDIR.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(VHDXLOG_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(VHDXLOG_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  file(RELATIVE_PATH VHDXLOG_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  set(VHDXLOG_PC_PREFIX "\${pcfiledir}/${VHDXLOG_PC_UP}")
  set(VHDXLOG_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(VHDXLOG_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(VHDXLOG_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
