/* SPDX-License-Identifier: MIT */
/* Linkage of the functions that lib/ files share. The one-file library
 * (vhdxlog.c written by scripts/amalgamate.py) defines VHDXLOG_INTERNAL
 * as `static`, so it exports exactly what vhdxlog.h declares
 * (.ci/symbols.sh). The per-file build keeps them external, prefixed
 * vhdxlog_, for the project's own tests of the CRC paths. */
#ifndef VHDXLOG_LINKAGE_H
#define VHDXLOG_LINKAGE_H
#ifndef VHDXLOG_INTERNAL
#define VHDXLOG_INTERNAL
#endif
#endif
