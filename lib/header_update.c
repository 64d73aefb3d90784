/* SPDX-License-Identifier: MIT */
/*
 * Header updates (MS-VHDX 2.2.2.1) and the FileWriteGuid a replay sets.
 *
 * A header update copies the current header, bumps SequenceNumber, changes
 * the GUIDs that must change and recomputes the CRC-32C with the checksum
 * field counted as zero. The caller writes the result over the non-current
 * header slot; see docs/RULES.md "Replay order".
 */
#include <string.h>

#include "bytes.h"
#include "format.h"
#include "vhdxlog.h"

/* SplitMix64's finaliser (Steele, Lea and Flood, 2014): xor-shifts and odd
 * multiplications, so a bijection of 64 bits that is not affine over
 * GF(2). */
static uint64_t mix64(uint64_t z) {
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9u;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

void vhdxlog_derive_file_write_guid(const uint8_t log_guid[16],
                                    uint8_t out[16]) {
  /* docs/RULES.md "derive(L)": a keyed bijection of the 128 bits of L, so
   * every bit of the result depends on every bit of L and no two LogGuids
   * can be made to collide on purpose (a CRC would be affine). Each round
   * step maps (a, b) one-to-one; the key separates this use of L. */
  uint64_t a = load_le64(log_guid) ^ 0x6766772D676F6C78u; /* "xlog-fwg" */
  uint64_t b = load_le64(log_guid + 8) ^ 0x786468762D667767u;
  uint8_t guid[16];
  int round;

  for (round = 0; round < 4; round++) {
    a = mix64(a + b);
    b = mix64(b ^ a);
  }
  store_le64(guid, a);
  store_le64(guid + 8, b);
  /* RFC 4122 version 4 / variant 1 bits, in Microsoft's mixed-endian GUID
   * layout: Data3 is little-endian, so its version nibble is in byte 7. */
  guid[7] = (uint8_t)((guid[7] & 0x0Fu) | 0x40u);
  guid[8] = (uint8_t)((guid[8] & 0x3Fu) | 0x80u);
  memcpy(out, guid, 16); /* out may alias log_guid */
}

void vhdxlog_header_update(const uint8_t current[VHDXLOG_HEADER_SIZE],
                           const uint8_t file_write_guid[16],
                           const uint8_t log_guid[16],
                           uint8_t out[VHDXLOG_HEADER_SIZE]) {
  uint8_t fwg[16];
  uint8_t lg[16];

  /* The GUIDs are copied first: they may point into `current` or `out`. */
  memcpy(fwg, file_write_guid, 16);
  memcpy(lg, log_guid, 16);
  if (out != current)
    memmove(out, current, VHDXLOG_HEADER_SIZE);

  /* SequenceNumber + 1 (wraps at 2^64: a header that old cannot occur, and
   * unsigned arithmetic keeps it defined). */
  store_le64(out + HEADER_SEQUENCE_NUMBER,
             load_le64(out + HEADER_SEQUENCE_NUMBER) + 1u);
  memcpy(out + HEADER_FILE_WRITE_GUID, fwg, 16);
  memcpy(out + HEADER_LOG_GUID, lg, 16);

  /* Checksum over the 4 KiB with the field itself counted as zero. */
  memset(out + HEADER_CHECKSUM, 0, 4);
  store_le32(out + HEADER_CHECKSUM,
             vhdxlog_crc32c(0, out, VHDXLOG_HEADER_SIZE));
}
