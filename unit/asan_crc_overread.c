/* SPDX-License-Identifier: MIT */
/*
 * Built only with VHDXLOG_SANITIZE: a CRC over a span one byte longer than
 * its heap block must be reported by AddressSanitizer, in the hardware
 * CRC's interleaved loop as in the portable one. CTest passes this when the
 * report names the overflow; without a report the program prints "not
 * reported" and the test fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhdxlog.h"

int main(void) {
  const size_t size = 4096 + 3; /* long enough for the 3-stream blocks */
  unsigned char *p = malloc(size);
  volatile uint32_t crc;
  if (p == NULL)
    return 2;
  memset(p, 0x5A, size);
  crc = vhdxlog_crc32c(0, p, size + 1);
  printf("not reported (crc %08x)\n", (unsigned)crc);
  free(p);
  return 1;
}
