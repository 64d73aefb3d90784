/* SPDX-License-Identifier: MIT */
/* Bytes: little-endian loads, CRC-32C (defined bit by bit; computed a byte
 * at a time from a table of that definition), the FileWriteGuid derivation
 * of RULES.md "Replay order". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

void mdl_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "vhdxlog model: internal check failed at %s:%d: %s\n", file,
          line, what);
  abort();
}

void *mdl_malloc(size_t size) {
  void *p = malloc(size == 0 ? 1 : size);
  if (p == NULL) {
    fprintf(stderr, "vhdxlog model: out of memory (%lu bytes)\n",
            (unsigned long)size);
    abort();
  }
  return p;
}

uint16_t mdl_le16(const uint8_t *p) {
  return (uint16_t)((unsigned)p[0] | ((unsigned)p[1] << 8));
}

int mdl_sig4(const uint8_t *p, const char *sig) {
  return p[0] == (uint8_t)sig[0] && p[1] == (uint8_t)sig[1] &&
         p[2] == (uint8_t)sig[2] && p[3] == (uint8_t)sig[3];
}

uint32_t mdl_le32(const uint8_t *p) {
  uint32_t v = 0;
  int i;
  for (i = 3; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

uint64_t mdl_le64(const uint8_t *p) {
  return (uint64_t)mdl_le32(p) | ((uint64_t)mdl_le32(p + 4) << 32);
}

void mdl_put32(uint8_t *p, uint32_t v) {
  int i;
  for (i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

void mdl_put64(uint8_t *p, uint64_t v) {
  mdl_put32(p, (uint32_t)v);
  mdl_put32(p + 4, (uint32_t)(v >> 32));
}

int mdl_is_zero(const uint8_t *p, size_t size) {
  size_t i;
  for (i = 0; i < size; i++)
    if (p[i] != 0)
      return 0;
  return 1;
}

/* Reflected CRC-32C: shift right, xor the reversed Castagnoli polynomial
 * 0x82F63B78 when the bit shifted out is 1. */
uint32_t mdl_crc_byte(uint32_t reg, uint8_t byte) {
  int bit;
  reg ^= byte;
  for (bit = 0; bit < 8; bit++) {
    if (reg & 1u)
      reg = (reg >> 1) ^ 0x82F63B78u;
    else
      reg = reg >> 1;
  }
  return reg;
}

uint32_t mdl_crc_end(uint32_t reg) { return reg ^ 0xFFFFFFFFu; }

/* The same a byte at a time, from a table of that definition
 * (crc_table[b] = mdl_crc_byte(0, b)) filled in on first use, so that no
 * literal table is written out here a second time. */
static uint32_t crc_table[256];
static int crc_table_ready;

static void crc_table_fill(void) {
  uint32_t b;
  for (b = 0; b < 256; b++)
    crc_table[b] = mdl_crc_byte(0, (uint8_t)b);
  crc_table_ready = 1;
}

uint32_t mdl_crc_bytes(uint32_t reg, const uint8_t *p, size_t size) {
  size_t i;
  if (!crc_table_ready)
    crc_table_fill();
  for (i = 0; i < size; i++)
    reg = crc_table[(reg ^ p[i]) & 0xFFu] ^ (reg >> 8);
  return reg;
}

uint32_t model_crc32c(const uint8_t *data, size_t size) {
  return mdl_crc_end(mdl_crc_bytes(MDL_CRC_INIT, data, size));
}

uint32_t mdl_crc_field_zeroed(const uint8_t *p, size_t size) {
  static const uint8_t zeros[4] = {0, 0, 0, 0};
  uint32_t reg = mdl_crc_bytes(MDL_CRC_INIT, p, size < 4 ? size : 4);
  if (size > 4)
    reg = mdl_crc_bytes(reg, zeros, size < 8 ? size - 4 : 4);
  if (size > 8)
    reg = mdl_crc_bytes(reg, p + 8, size - 8);
  return mdl_crc_end(reg);
}

/* RULES.md "derive(L)": four rounds of a = m(a + b), b = m(b ^ a) over the
 * keyed halves of L, m being SplitMix64's finaliser; then the RFC 4122
 * version 4 / variant bits in the mixed-endian layout. */
static uint64_t mdl_mix(uint64_t z) {
  z ^= z >> 30;
  z *= (uint64_t)0xBF58476D1CE4E5B9u;
  z ^= z >> 27;
  z *= (uint64_t)0x94D049BB133111EBu;
  z ^= z >> 31;
  return z;
}

void model_derive_file_write_guid(const uint8_t log_guid[16], uint8_t out[16]) {
  uint64_t a = mdl_le64(log_guid) ^ (uint64_t)0x6766772D676F6C78u;
  uint64_t b = mdl_le64(log_guid + 8) ^ (uint64_t)0x786468762D667767u;
  int i;
  for (i = 0; i < 4; i++) {
    a = mdl_mix(a + b);
    b = mdl_mix(b ^ a);
  }
  mdl_put64(out, a);
  mdl_put64(out + 8, b);
  out[7] = (uint8_t)((out[7] & 0x0Fu) | 0x40u);
  out[8] = (uint8_t)((out[8] & 0x3Fu) | 0x80u);
}
