/* SPDX-License-Identifier: MIT */
/*
 * Zero-run scanning for the reference model's CRC-32C loop, which steps
 * over runs of zeros at once: images are mostly zeros, and the model's CRC
 * is on the differential fuzz targets' hot path. Test code only.
 *
 * zr_check_span() checks a whole span once under AddressSanitizer; the scan
 * after it reads without per-load checks, which would otherwise cost more
 * than the checksum. If the span holds an unaddressable byte, one ordinary
 * (checked) read of the first such byte gets the report the per-load checks
 * would have made (the same kind and address).
 *
 * zr_crc_zeros() steps a CRC-32C register over such a run in one go.
 *
 * A wrong zero run or step makes the model's checksums wrong; the model's
 * self-test compares them with testkit's CRC over zero runs of every
 * length around the step's threshold, and the fuzz targets with lib/'s.
 */
#ifndef VHDXLOG_FUZZ_ZERO_RUN_H
#define VHDXLOG_FUZZ_ZERO_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZR_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(ZR_ASAN)
#define ZR_ASAN 1
#endif

#ifdef ZR_ASAN
/* Part of every ASan runtime's interface (sanitizer/asan_interface.h). */
void *__asan_region_is_poisoned(void *beg, size_t size); /* NOLINT */
#if defined(__clang__)
/* Nor UBSan's pointer-overflow checks: the span check covers p + size. */
#define ZR_UNCHECKED_READS                                                     \
  __attribute__((no_sanitize("address", "pointer-overflow")))
#else
#define ZR_UNCHECKED_READS __attribute__((no_sanitize_address))
#endif
#else
#define ZR_UNCHECKED_READS
#endif

/* Once per span, before zr_zero_run() reads any of it. */
static inline void zr_check_span(const uint8_t *p, size_t size) {
#ifdef ZR_ASAN
  const volatile uint8_t *bad = __asan_region_is_poisoned((void *)p, size);
  if (bad != NULL)
    (void)*bad; /* reported here */
#else
  (void)p;
  (void)size;
#endif
}

ZR_UNCHECKED_READS static inline uint64_t zr_load64(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

#if defined(__GNUC__) || defined(__clang__)
/* 16-byte vectors (SSE2 on x86-64, NEON on AArch64), four per step. */
typedef uint64_t zr_block __attribute__((vector_size(16)));
ZR_UNCHECKED_READS static inline int zr_block_any(const uint8_t *q) {
  zr_block a, b, c, d, o;
  memcpy(&a, q, 16);
  memcpy(&b, q + 16, 16);
  memcpy(&c, q + 32, 16);
  memcpy(&d, q + 48, 16);
  o = (a | b) | (c | d);
  return (o[0] | o[1]) != 0;
}
#else
ZR_UNCHECKED_READS static inline int zr_block_any(const uint8_t *q) {
  return (zr_load64(q) | zr_load64(q + 8) | zr_load64(q + 16) |
          zr_load64(q + 24) | zr_load64(q + 32) | zr_load64(q + 40) |
          zr_load64(q + 48) | zr_load64(q + 56)) != 0;
}
#endif

/* How many of the first `size` bytes at `p` are zero before the first
 * non-zero one (a span zr_check_span() passed). 64 bytes per step, then
 * words, then bytes. */
ZR_UNCHECKED_READS static inline size_t zr_zero_run(const uint8_t *p,
                                                    size_t size) {
  size_t i = 0;
  while (size - i >= 64 && !zr_block_any(p + i))
    i += 64;
  while (size - i >= 8 && zr_load64(p + i) == 0)
    i += 8;
  while (i < size && p[i] == 0)
    i++;
  return i;
}

/* GF(2) polynomials modulo the Castagnoli polynomial, reflected (x^0 is
 * bit 31): a * b mod P. */
static inline uint32_t zr_mult_mod_p(uint32_t a, uint32_t b) {
  uint32_t m = (uint32_t)1 << 31, p = 0;
  while (m != 0) {
    if (a & m)
      p ^= b;
    m >>= 1;
    b = (b & 1u) ? (b >> 1) ^ 0x82F63B78u : b >> 1;
  }
  return p;
}

/* The CRC-32C register (not inverted) after `n` zero bytes. Feeding a zero
 * byte multiplies the register by x^8 modulo P, so `n` zero bytes multiply
 * it by x^(8n): the product of x^(8 * 2^k) over the bits k set in n. Those
 * powers, by repeated squaring, are filled in on first use (a run costs one
 * multiplication per set bit instead of two per bit). */
static inline uint32_t zr_crc_zeros(uint32_t reg, uint64_t n) {
  static uint32_t powers[64];
  static int ready;
  uint32_t product = (uint32_t)1 << 31; /* x^0 */
  int k;
  if (!ready) {
    powers[0] = (uint32_t)1 << 23; /* x^8 */
    for (k = 1; k < 64; k++)
      powers[k] = zr_mult_mod_p(powers[k - 1], powers[k - 1]);
    ready = 1;
  }
  for (k = 0; n != 0; k++, n >>= 1)
    if (n & 1u)
      product = zr_mult_mod_p(powers[k], product);
  return zr_mult_mod_p(product, reg);
}

#endif
