# SPDX-License-Identifier: MIT
# The differential replayer's library sources, for the normal build
# (replay_diff/CMakeLists.txt) and the fuzz build (fuzz/CMakeLists.txt).
set(REPLAY_DIFF_SOURCES)
foreach(f workspace report io_shims checks overlay crash replay_diff)
  list(APPEND REPLAY_DIFF_SOURCES ${CMAKE_CURRENT_LIST_DIR}/${f}.c)
endforeach()
