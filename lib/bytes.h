/* SPDX-License-Identifier: MIT */
/*
 * Little-endian loads and stores over byte pointers. File bytes are never
 * cast to structs or wider types: these work on any host byte order and any
 * alignment.
 */
#ifndef VHDXLOG_BYTES_H
#define VHDXLOG_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t load_le16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}

/* On a little-endian host a load is one memcpy, which compilers turn into
 * one instruction even inside the descriptor loops (the byte-by-byte form
 * is not always merged there); elsewhere, and where the byte order is
 * unknown, bytes are assembled one by one. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&             \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VHDXLOG_LITTLE_ENDIAN_HOST 1
#endif

static inline uint32_t load_le32(const uint8_t *p) {
#ifdef VHDXLOG_LITTLE_ENDIAN_HOST
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
#else
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
#endif
}

static inline uint64_t load_le64(const uint8_t *p) {
#ifdef VHDXLOG_LITTLE_ENDIAN_HOST
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
#else
  return (uint64_t)load_le32(p) | ((uint64_t)load_le32(p + 4) << 32);
#endif
}

static inline void store_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline void store_le64(uint8_t *p, uint64_t v) {
  store_le32(p, (uint32_t)v);
  store_le32(p + 4, (uint32_t)(v >> 32));
}

/* Signatures are compared as raw bytes (the spec prints some reversed):
 * both sides are read the same way, so the words are equal iff the bytes
 * are. Loads, not memcmp: the search calls this for every sector, and
 * sanitizer builds (every fuzz target) route each memcmp through an
 * interceptor. */
static inline int has_signature(const uint8_t *p, const char sig[4]) {
  return load_le32(p) == load_le32((const uint8_t *)sig);
}

/* Two 16-byte GUIDs, byte for byte (the same reasoning). */
static inline int same_guid(const uint8_t *a, const uint8_t *b) {
  return load_le64(a) == load_le64(b) && load_le64(a + 8) == load_le64(b + 8);
}

static inline int is_mib_multiple(uint64_t v) {
  return v % 1048576u == 0; /* MS-VHDX: offsets and lengths in MiB units */
}

static inline int is_zero_bytes(const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (p[i] != 0) {
      return 0;
    }
  }
  return 1;
}

#endif
