/* SPDX-License-Identifier: MIT */
/* GUID formatting; see guid.h. */
#include "guid.h"

#include <stdio.h>

void cli_guid_format(const uint8_t g[16], char out[CLI_GUID_TEXT_SIZE]) {
  /* Data1, Data2 and Data3 are stored little-endian: print them as numbers. */
  unsigned long d1 = (unsigned long)g[0] | (unsigned long)g[1] << 8 |
                     (unsigned long)g[2] << 16 | (unsigned long)g[3] << 24;
  unsigned d2 = (unsigned)g[4] | (unsigned)g[5] << 8;
  unsigned d3 = (unsigned)g[6] | (unsigned)g[7] << 8;
  snprintf(out, CLI_GUID_TEXT_SIZE,
           "{%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", d1, d2, d3,
           (unsigned)g[8], (unsigned)g[9], (unsigned)g[10], (unsigned)g[11],
           (unsigned)g[12], (unsigned)g[13], (unsigned)g[14], (unsigned)g[15]);
}

int cli_guid_is_zero(const uint8_t g[16]) {
  int i;
  for (i = 0; i < 16; i++)
    if (g[i])
      return 0;
  return 1;
}
