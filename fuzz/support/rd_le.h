/* SPDX-License-Identifier: MIT */
/*
 * Little-endian loads and stores for the differential replayer's helpers
 * (repair, packed-form mutator, vhdxlog-diff). Their own, not lib/bytes.h:
 * the test side shares no code with the library it checks.
 */
#ifndef VHDXLOG_REPLAY_DIFF_RD_LE_H
#define VHDXLOG_REPLAY_DIFF_RD_LE_H

#include <stdint.h>

static inline uint32_t rd_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static inline uint64_t rd_le64(const uint8_t *p) {
  return (uint64_t)rd_le32(p) | (uint64_t)rd_le32(p + 4) << 32;
}

/* Do the 4 bytes at p spell `sig`? Bytes, not memcmp: under the fuzz
 * targets every memcmp that differs costs a libFuzzer hook, and most
 * sectors and descriptors a signature is tested on differ. */
static inline int rd_sig4(const uint8_t *p, const char sig[4]) {
  return p[0] == (uint8_t)sig[0] && p[1] == (uint8_t)sig[1] &&
         p[2] == (uint8_t)sig[2] && p[3] == (uint8_t)sig[3];
}

static inline void rd_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline void rd_put64(uint8_t *p, uint64_t v) {
  rd_put32(p, (uint32_t)v);
  rd_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
