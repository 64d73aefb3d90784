/* SPDX-License-Identifier: MIT */
/* GUID text form for the CLI. */
#ifndef VHDXLOG_CLI_GUID_H
#define VHDXLOG_CLI_GUID_H

#include <stdint.h>

/* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" plus NUL. */
#define CLI_GUID_TEXT_SIZE 39

/*
 * Format a GUID stored in Microsoft's mixed-endian layout (MS-VHDX 2.2: the
 * first three fields little-endian, the last 8 bytes in order) as the usual
 * upper-case registry form with braces.
 */
void cli_guid_format(const uint8_t guid[16], char out[CLI_GUID_TEXT_SIZE]);

/* 1 if all 16 bytes are zero. */
int cli_guid_is_zero(const uint8_t guid[16]);

#endif
