/* SPDX-License-Identifier: MIT */
/*
 * Built only with VHDXLOG_SANITIZE: the model's and the repair's CRC-32C
 * scan zero runs without ASan's per-load checks (oracle/zero_run.h checks
 * each span once). A CRC over a span one byte longer than its heap block,
 * all zeros so that the unchecked scan is what reaches the bad byte, must
 * still be reported. Argument: "model" or "repair". CTest passes this when
 * the report names the overflow; without one it prints "not reported".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "repair.h"

int main(int argc, char **argv) {
  const size_t size = 4096 + 3;
  unsigned char *p = calloc(size, 1);
  static rd_crc_table t;
  volatile uint32_t crc;
  if (p == NULL || argc != 2)
    return 2;
  if (strcmp(argv[1], "model") == 0) {
    crc = model_crc32c(p, size + 1);
  } else {
    rd_crc_init(&t);
    crc = rd_crc32c(&t, 0, p, size + 1);
  }
  printf("not reported (crc %08x)\n", (unsigned)crc);
  free(p);
  return 1;
}
