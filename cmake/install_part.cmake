# SPDX-License-Identifier: MIT
# vhdxlog_install_part(EXPORT HEADER PC TARGET...): install one installed
# library of the package: its targets under the export set EXPORT
# (vhdxlog:: namespace, also exported for use from the build tree), its
# public HEADER, and the pkg-config file PC made from cmake/PC.in.
function(vhdxlog_install_part export header pc)
  install(TARGETS ${ARGN} EXPORT ${export}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT ${export} NAMESPACE vhdxlog:: DESTINATION ${VHDXLOG_CMAKE_DIR})
  export(EXPORT ${export} NAMESPACE vhdxlog::
    FILE ${PROJECT_BINARY_DIR}/${export}.cmake)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.in
    ${PROJECT_BINARY_DIR}/${pc} @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
