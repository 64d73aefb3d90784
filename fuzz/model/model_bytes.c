/* Bytes: little-endian loads, bit-by-bit CRC-32C, the FileWriteGuid
 * derivation of RULES.md "Replay order". Deliberately slow and plain. */
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

uint32_t mdl_le32(const uint8_t *p) {
  uint32_t v = 0;
  int i;
  for (i = 3; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

uint64_t mdl_le64(const uint8_t *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

void mdl_put32(uint8_t *p, uint32_t v) {
  int i;
  for (i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

void mdl_put64(uint8_t *p, uint64_t v) {
  int i;
  for (i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
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

uint32_t model_crc32c(const uint8_t *data, size_t size) {
  uint32_t reg = MDL_CRC_INIT;
  size_t i;
  for (i = 0; i < size; i++)
    reg = mdl_crc_byte(reg, data[i]);
  return mdl_crc_end(reg);
}

uint32_t mdl_crc_field_zeroed(const uint8_t *p, size_t size) {
  uint32_t reg = MDL_CRC_INIT;
  size_t i;
  for (i = 0; i < size; i++)
    reg = mdl_crc_byte(reg, (i >= 4 && i < 8) ? 0 : p[i]);
  return mdl_crc_end(reg);
}

/* RULES.md: word i (little-endian) = CRC-32C(L || "vhdxlog-fwg" || i),
 * then the RFC 4122 version 4 / variant bits in the mixed-endian layout. */
void model_derive_file_write_guid(const uint8_t log_guid[16], uint8_t out[16]) {
  static const char tag[] = "vhdxlog-fwg"; /* 11 bytes without the NUL */
  uint8_t msg[28];
  int i;
  memcpy(msg, log_guid, 16);
  memcpy(msg + 16, tag, 11);
  for (i = 0; i < 4; i++) {
    msg[27] = (uint8_t)i;
    mdl_put32(out + 4 * i, model_crc32c(msg, sizeof msg));
  }
  out[7] = (uint8_t)((out[7] & 0x0Fu) | 0x40u);
  out[8] = (uint8_t)((out[8] & 0x3Fu) | 0x80u);
}
