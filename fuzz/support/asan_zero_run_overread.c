/* SPDX-License-Identifier: MIT */
/*
 * Built only with VHDXLOG_SANITIZE: the model's CRC-32C scans zero runs
 * without ASan's per-load checks (oracle/zero_run.h checks each span once).
 * A CRC over a span one byte longer than its heap block, all zeros so that
 * the unchecked scan is what reaches the bad byte, must still be reported.
 * CTest passes this when the report names the overflow; without one it
 * prints "not reported".
 */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

int main(void) {
  const size_t size = 4096 + 3;
  unsigned char *p = calloc(size, 1);
  volatile uint32_t crc;
  if (p == NULL)
    return 2;
  crc = model_crc32c(p, size + 1);
  printf("not reported (crc %08x)\n", (unsigned)crc);
  free(p);
  return 1;
}
