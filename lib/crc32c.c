/* SPDX-License-Identifier: MIT */
/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * every VHDX structure. A portable slicing-by-8 path, a hardware path
 * (SSE4.2 crc32 on x86, chosen at run time; ARMv8 CRC when the compiler
 * targets it). Both compute the same raw register update.
 */
#include "crc32c.h"

#include "bytes.h"
#include "crc32c_table.h"
#include "vhdxlog.h"

VHDXLOG_INTERNAL uint32_t vhdxlog_crc32c_update_portable(uint32_t reg,
                                                         const uint8_t *p,
                                                         size_t size) {
  while (size >= 8) {
    uint32_t lo = load_le32(p) ^ reg;
    uint32_t hi = load_le32(p + 4);
    reg = crc32c_table[7][lo & 0xFF] ^ crc32c_table[6][(lo >> 8) & 0xFF] ^
          crc32c_table[5][(lo >> 16) & 0xFF] ^ crc32c_table[4][lo >> 24] ^
          crc32c_table[3][hi & 0xFF] ^ crc32c_table[2][(hi >> 8) & 0xFF] ^
          crc32c_table[1][(hi >> 16) & 0xFF] ^ crc32c_table[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    reg = (reg >> 8) ^ crc32c_table[0][(reg ^ *p) & 0xFF];
    p++;
    size--;
  }
  return reg;
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <nmmintrin.h>
#define VHDXLOG_HAVE_HW 1

#if defined(__x86_64__)
static uint32_t shift_register(const uint32_t table[4][256], uint32_t reg) {
  return table[0][reg & 0xFF] ^ table[1][(reg >> 8) & 0xFF] ^
         table[2][(reg >> 16) & 0xFF] ^ table[3][reg >> 24];
}

/*
 * crc32q has a latency of several cycles but issues every cycle: three
 * independent streams over consecutive blocks keep it busy, then the
 * registers are joined by shifting over the later blocks' lengths.
 */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42_3way(uint32_t reg, const uint8_t *p, size_t block,
                  const uint32_t shift[4][256]) {
  uint64_t a = reg, b = 0, c = 0;
  size_t i;
  for (i = 0; i < block; i += 8) {
    uint64_t va, vb, vc;
    memcpy(&va, p + i, 8); /* x86 is little-endian: bytes in file order */
    memcpy(&vb, p + block + i, 8);
    memcpy(&vc, p + 2 * block + i, 8);
    a = _mm_crc32_u64(a, va);
    b = _mm_crc32_u64(b, vb);
    c = _mm_crc32_u64(c, vc);
  }
  reg = shift_register(shift, (uint32_t)a) ^ (uint32_t)b;
  return shift_register(shift, reg) ^ (uint32_t)c;
}
#endif

__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t reg, const uint8_t *p, size_t size) {
#if defined(__x86_64__)
  /* Block sizes of the interleaved streams, with their shift tables. */
  static const size_t big = 8192, small = 256;
  uint64_t r;
  while (size >= 3 * big) {
    reg = crc32c_sse42_3way(reg, p, big, crc32c_shift_8192);
    p += 3 * big;
    size -= 3 * big;
  }
  while (size >= 3 * small) {
    reg = crc32c_sse42_3way(reg, p, small, crc32c_shift_256);
    p += 3 * small;
    size -= 3 * small;
  }
  r = reg;
  while (size >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    r = _mm_crc32_u64(r, v);
    p += 8;
    size -= 8;
  }
  reg = (uint32_t)r;
#endif
  while (size >= 4) {
    uint32_t v;
    memcpy(&v, p, 4);
    reg = _mm_crc32_u32(reg, v);
    p += 4;
    size -= 4;
  }
  while (size > 0) {
    reg = _mm_crc32_u8(reg, *p);
    p++;
    size--;
  }
  return reg;
}

VHDXLOG_INTERNAL int vhdxlog_crc32c_hw_available(void) {
  return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

VHDXLOG_INTERNAL uint32_t vhdxlog_crc32c_update_hw(uint32_t reg,
                                                   const uint8_t *p,
                                                   size_t size) {
  return crc32c_sse42(reg, p, size);
}

#elif defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
#define VHDXLOG_HAVE_HW 1

VHDXLOG_INTERNAL int vhdxlog_crc32c_hw_available(void) { return 1; }

VHDXLOG_INTERNAL uint32_t vhdxlog_crc32c_update_hw(uint32_t reg,
                                                   const uint8_t *p,
                                                   size_t size) {
#if defined(__aarch64__) && defined(__BYTE_ORDER__) &&                         \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  while (size >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    reg = __crc32cd(reg, v);
    p += 8;
    size -= 8;
  }
#endif
  while (size > 0) {
    reg = __crc32cb(reg, *p);
    p++;
    size--;
  }
  return reg;
}

#else
#define VHDXLOG_HAVE_HW 0

VHDXLOG_INTERNAL int vhdxlog_crc32c_hw_available(void) { return 0; }

VHDXLOG_INTERNAL uint32_t vhdxlog_crc32c_update_hw(uint32_t reg,
                                                   const uint8_t *p,
                                                   size_t size) {
  return vhdxlog_crc32c_update_portable(reg, p, size);
}
#endif

VHDXLOG_INTERNAL uint32_t vhdxlog_crc32c_update(uint32_t reg, const uint8_t *p,
                                                size_t size) {
#if VHDXLOG_HAVE_HW
  if (vhdxlog_crc32c_hw_available()) {
    return vhdxlog_crc32c_update_hw(reg, p, size);
  }
#endif
  return vhdxlog_crc32c_update_portable(reg, p, size);
}

uint32_t vhdxlog_crc32c(uint32_t crc, const void *data, size_t size) {
  if (data == NULL) {
    return crc;
  }
  return ~vhdxlog_crc32c_update(~crc, (const uint8_t *)data, size);
}
