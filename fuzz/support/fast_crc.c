/* SPDX-License-Identifier: MIT */
/* See fast_crc.h. */
#include "fast_crc.h"

#include <string.h>

#include "repair.h"
#include "vhdx_builder.h"

#if (defined(__x86_64__) || defined(__i386__)) &&                              \
    (defined(__GNUC__) || defined(__clang__))
#define FUZZ_CRC_HW 1

/* The instruction's register update is the reflected CRC-32C step, so the
 * result equals the table loop's. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const uint8_t *p, size_t n) {
  /* 4 bytes at a time: the same code on x86_64 and i386. */
  while (n >= 4) {
    uint32_t w;
    memcpy(&w, p, 4);
    crc = __builtin_ia32_crc32si(crc, w);
    p += 4;
    n -= 4;
  }
  /* Not `while (n-- > 0)`: its last test wraps n below zero, which UBSan's
   * unsigned-integer-overflow check (OSS-Fuzz's UBSan build) reports. */
  for (; n > 0; n--)
    crc = __builtin_ia32_crc32qi(crc, *p++);
  return crc;
}
#endif

int fuzz_crc32c_hw(void) {
#ifdef FUZZ_CRC_HW
  return __builtin_cpu_supports("sse4.2") != 0;
#else
  return 0;
#endif
}

uint32_t fuzz_crc32c(uint32_t crc, const void *data, size_t size) {
#ifdef FUZZ_CRC_HW
  static int hw = -1;
  if (hw < 0)
    hw = fuzz_crc32c_hw();
  if (hw)
    return ~crc_hw(~crc, data, size);
#endif
  return vtk_crc32c(crc, data, size);
}

void fuzz_repair_use_fast_crc(void) { vtk_repair_use_crc(fuzz_crc32c); }
