/* SPDX-License-Identifier: MIT */
/*
 * Trace of the writes the fault shim saw on one image, read back by
 * crashstates.c. Each record is FT_RECORD bytes, little-endian:
 *   0     kind (FT_WRITE, FT_BARRIER, FT_TRUNCATE, FT_FALLOCATE)
 *   1..3  zero
 *   4..7  mode (fallocate's mode argument)
 *   8..15 a: file offset (write, fallocate) or new size (truncate)
 *   16..23 b: length (write, fallocate)
 * An FT_WRITE record is followed by its b bytes of data.
 */
#ifndef FAULTS_TRACE_FORMAT_H
#define FAULTS_TRACE_FORMAT_H

#include <stdint.h>
#include <string.h>

#define FT_RECORD 24
enum {
  FT_WRITE = 'W',
  FT_BARRIER = 'B',
  FT_TRUNCATE = 'T',
  FT_FALLOCATE = 'Z'
};

/* N little-endian bytes */
static inline void ft_put(uint8_t *p, uint64_t v, int n) {
  int i;
  for (i = 0; i < n; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t ft_get(const uint8_t *p, int n) {
  uint64_t v = 0;
  int i;
  for (i = n - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static inline void ft_encode(uint8_t r[FT_RECORD], uint8_t kind, uint64_t a,
                             uint64_t b, uint32_t mode) {
  memset(r, 0, FT_RECORD);
  r[0] = kind;
  ft_put(r + 4, mode, 4);
  ft_put(r + 8, a, 8);
  ft_put(r + 16, b, 8);
}

#endif
