/* SPDX-License-Identifier: MIT */
/*
 * Descriptor and data-sector rules (MS-VHDX 2.3.1.2 - 2.3.1.4), shared by
 * entry validation and the iterator so that both apply exactly the same
 * checks in the same order.
 */
#ifndef VHDXLOG_DESCRIPTOR_H
#define VHDXLOG_DESCRIPTOR_H

#include "bytes.h"
#include "log_internal.h"
#include "vhdxlog.h"

#define DESCRIPTOR_SIZE 32u
#define DESCRIPTORS_IN_FIRST_SECTOR 126u
#define DESCRIPTORS_PER_SECTOR 128u
#define ENTRY_HEADER_SIZE 64u

/* Everything but the sequence number: docs/RULES.md entry rule 10. */
static inline vhdxlog_status descriptor_shape(const uint8_t *d, int *is_data) {
  uint64_t file_offset = load_le64(d + 16);
  if (has_signature(d, "desc")) {
    *is_data = 1;
  } else if (has_signature(d, "zero")) {
    *is_data = 0;
    if (load_le32(d + 4) != 0) {
      return VHDXLOG_E_DESCRIPTOR_RESERVED;
    }
    if (load_le64(d + 8) % VHDXLOG_SECTOR_SIZE != 0) {
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

static inline uint64_t descriptor_sequence(const uint8_t *d) {
  return load_le64(d + 24);
}

/* The sequence number a data sector carries (SequenceHigh:SequenceLow). */
static inline uint64_t data_sector_sequence(const uint8_t *s) {
  return ((uint64_t)load_le32(s + 4) << 32) | load_le32(s + 4092);
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
