/* SPDX-License-Identifier: MIT */
/*
 * Forced include (-include) of the shared library build, which compiles
 * with -fvisibility=hidden: the functions the public header declares keep
 * default visibility, everything else in lib/ stays internal to the .so.
 * The header itself needs no export macro this way. vhdxlog.map then limits
 * the dynamic symbol table to vhdxlog_* as a second fence.
 */
#pragma GCC visibility push(default)
#include "vhdxlog.h"
#pragma GCC visibility pop
