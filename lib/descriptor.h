/* SPDX-License-Identifier: MIT */
/*
 * Descriptor and data-sector rules (MS-VHDX 2.3.1.2 - 2.3.1.4), shared by
 * entry validation and the iterator so that both apply exactly the same
 * checks in the same order.
 */
#ifndef VHDXLOG_DESCRIPTOR_H
#define VHDXLOG_DESCRIPTOR_H

#include "bytes.h"
#include "format.h"
#include "log_internal.h"
#include "vhdxlog.h"

/* The bytes a descriptor that passed descriptor_shape() writes: a data
 * sector, or ZeroLength (the first byte tells the two signatures apart). */
static inline uint64_t descriptor_write_length(const uint8_t *d) {
  return d[0] == 'd' ? VHDXLOG_SECTOR_SIZE
                     : load_le64(d + DESCRIPTOR_ZERO_LENGTH);
}

static inline uint64_t descriptor_file_offset(const uint8_t *d) {
  return load_le64(d + DESCRIPTOR_FILE_OFFSET);
}

/* The first 8 and last 4 bytes of its sector that a data descriptor holds
 * (the data sector has its sequence number there). */
static inline void descriptor_data_ends(const uint8_t *d,
                                        vhdxlog_descriptor *out) {
  memcpy(out->trailing, d + DESCRIPTOR_TRAILING_BYTES, 4);
  memcpy(out->leading, d + DESCRIPTOR_LEADING_BYTES, 8);
}

static inline uint64_t descriptor_sequence(const uint8_t *d) {
  return load_le64(d + DESCRIPTOR_SEQUENCE_NUMBER);
}

/* Everything but the sequence number: docs/RULES.md entry rule 10. */
static inline vhdxlog_status descriptor_shape(const uint8_t *d, int *is_data) {
  uint64_t file_offset = descriptor_file_offset(d);
  if (has_signature(d, "desc")) {
    *is_data = 1;
  } else if (has_signature(d, "zero")) {
    *is_data = 0;
    if (load_le32(d + DESCRIPTOR_ZERO_RESERVED) != 0) {
      return VHDXLOG_E_DESCRIPTOR_RESERVED;
    }
    if (load_le64(d + DESCRIPTOR_ZERO_LENGTH) % VHDXLOG_SECTOR_SIZE != 0) {
      return VHDXLOG_E_DESCRIPTOR_LENGTH;
    }
  } else {
    return VHDXLOG_E_DESCRIPTOR_SIGNATURE;
  }
  /* The spec's rule only; where the write ends is the plan's concern
   * (VHDXLOG_E_OFFSET_LIMIT). */
  if (file_offset % VHDXLOG_SECTOR_SIZE != 0) {
    return VHDXLOG_E_DESCRIPTOR_OFFSET;
  }
  return VHDXLOG_OK;
}

/* Where a write of `length` bytes at `offset` ends, UINT64_MAX when the
 * sum does not fit (the plan refuses anything past 2^62 anyway). */
static inline uint64_t write_end_saturated(uint64_t offset, uint64_t length) {
  return offset > UINT64_MAX - length ? UINT64_MAX : offset + length;
}

/* Bytes [from, from + n) of the sector a data descriptor writes (n <= 4096
 * - from): its first 8 bytes are the descriptor's LeadingBytes, its last 4
 * the TrailingBytes, the rest the data sector's own (whose first 8 and last
 * 4 bytes hold the sequence number instead). */
static inline void data_sector_bytes(const uint8_t leading[8],
                                     const uint8_t *data_sector,
                                     const uint8_t trailing[4], uint32_t from,
                                     uint32_t n, uint8_t *out) {
  while (n > 0) {
    uint32_t k;
    const uint8_t *src;
    if (from < DATA_BODY) {
      k = DATA_BODY - from;
      src = leading + from;
    } else if (from < DATA_SEQUENCE_LOW) {
      k = DATA_SEQUENCE_LOW - from;
      src = data_sector + from;
    } else {
      k = VHDXLOG_SECTOR_SIZE - from;
      src = trailing + (from - DATA_SEQUENCE_LOW);
    }
    k = k < n ? k : n;
    memcpy(out, src, k);
    out += k;
    from += k;
    n -= k;
  }
}

/* The sequence number a data sector carries (SequenceHigh:SequenceLow). */
static inline uint64_t data_sector_sequence(const uint8_t *s) {
  return ((uint64_t)load_le32(s + DATA_SEQUENCE_HIGH) << 32) |
         load_le32(s + DATA_SEQUENCE_LOW);
}

/* Descriptor sectors an entry with `count` descriptors needs. */
static inline uint64_t descriptor_sectors(uint32_t count) {
  if (count <= DESCRIPTORS_IN_FIRST_SECTOR) {
    return 1;
  }
  return 1 + ((uint64_t)count - DESCRIPTORS_IN_FIRST_SECTOR +
              DESCRIPTORS_PER_SECTOR - 1) /
                 DESCRIPTORS_PER_SECTOR;
}

/* Where descriptor `index` of the entry at sector `s` lives: 126 after the
 * 64-byte entry header, then 128 per sector. */
static inline const uint8_t *descriptor_at(const vhdxlog_log *ctx, uint32_t s,
                                           uint32_t index) {
  uint32_t rest;
  if (index < DESCRIPTORS_IN_FIRST_SECTOR) {
    return log_sector(ctx, s) + ENTRY_HEADER_SIZE +
           (size_t)index * DESCRIPTOR_SIZE;
  }
  rest = index - DESCRIPTORS_IN_FIRST_SECTOR;
  return log_sector(ctx, s + 1 + rest / DESCRIPTORS_PER_SECTOR) +
         (size_t)(rest % DESCRIPTORS_PER_SECTOR) * DESCRIPTOR_SIZE;
}

#endif
