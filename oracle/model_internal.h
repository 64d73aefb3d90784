/* SPDX-License-Identifier: MIT */
/* Helpers shared by the model's own files (never by lib/). */
#ifndef VHDXLOG_MODEL_INTERNAL_H
#define VHDXLOG_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define MDL_SECTOR 4096u
#define MDL_MIB 1048576u
#define MDL_MAX VHDXLOG_MAX_FILE_OFFSET

/* A broken invariant of the model itself (not of the input): always on,
 * whatever NDEBUG says, because the fuzzer relies on it. */
#define MDL_CHECK(cond)                                                        \
  do {                                                                         \
    if (!(cond))                                                               \
      mdl_fail(__FILE__, __LINE__, #cond);                                     \
  } while (0)
void mdl_fail(const char *file, int line, const char *what);
void *mdl_malloc(size_t size); /* aborts on failure */

/* Little-endian loads and stores over plain bytes. */
uint16_t mdl_le16(const uint8_t *p);
uint32_t mdl_le32(const uint8_t *p);
uint64_t mdl_le64(const uint8_t *p);
void mdl_put32(uint8_t *p, uint32_t v);
void mdl_put64(uint8_t *p, uint64_t v);
int mdl_is_zero(const uint8_t *p, size_t size);
/* Do the 4 bytes at p spell `sig`? Compared byte by byte, not with memcmp:
 * under the fuzz targets each memcmp that differs costs a libFuzzer hook,
 * and most of the sectors and descriptors tested differ. */
int mdl_sig4(const uint8_t *p, const char *sig);

/* CRC-32C, reflected, polynomial 0x82F63B78: start with MDL_CRC_INIT,
 * feed bytes, finish with mdl_crc_end. mdl_crc_byte() is the definition,
 * one bit at a time; mdl_crc_bytes() computes the same a byte at a time from
 * a table that mdl_crc_byte() fills (the self-test compares both with
 * testkit's CRC). */
#define MDL_CRC_INIT 0xFFFFFFFFu
uint32_t mdl_crc_byte(uint32_t reg, uint8_t byte);
uint32_t mdl_crc_end(uint32_t reg);
uint32_t mdl_crc_bytes(uint32_t reg, const uint8_t *p, size_t size);
/* CRC-32C of `size` bytes with bytes 4..7 counted as zero (every checksum
 * field of the format sits there). */
uint32_t mdl_crc_field_zeroed(const uint8_t *p, size_t size);

/* Image rules (RULES.md "Image"). */
typedef struct mdl_image {
  int valid[2]; /* header 1 (64 KiB), header 2 (128 KiB) */
  int current;  /* 0 or 1 */
  uint64_t log_offset;
  uint32_t log_length;
  uint8_t log_guid[16];
  int dirty; /* LogGuid != 0 */
  /* Image rules 4 and 5 as on disk; with a dirty log they do not fail the
   * image check (the plan judges the replayed state). */
  vhdxlog_status regions;
} mdl_image;
/* Image rules 4 and 5 over a first 1 MiB `area` and the log location. */
vhdxlog_status mdl_regions_check(const uint8_t *area, uint64_t log_offset,
                                 uint32_t log_length);
vhdxlog_status mdl_image_check(const uint8_t *img, uint64_t size,
                               mdl_image *out);
uint64_t mdl_header_offset(int slot);

/* One valid entry. */
typedef struct mdl_entry {
  uint32_t offset; /* log offset of its first sector */
  uint32_t length; /* EntryLength */
  uint32_t tail;
  uint64_t seq;
  uint32_t count; /* DescriptorCount */
  uint32_t desc_sectors;
  uint64_t flushed;
  uint64_t last;
} mdl_entry;

vhdxlog_status mdl_entry_check(const uint8_t *log, uint32_t log_length,
                               const uint8_t guid[16], uint32_t off,
                               mdl_entry *e, uint32_t *index);
/* Whether the CRC-32C over the entry at `off` (EntryLength from its first
 * sector, checked to fit the log) matches its Checksum. */
int mdl_entry_crc_matches(const uint8_t *log, uint32_t log_length,
                          uint32_t off);
/* RULES.md "Armed logs": the kind (a vhdxlog_armed_kind) of a log without a
 * complete sequence. */
int mdl_armed_kind(const uint8_t *log, uint32_t log_length,
                   const uint8_t guid[16]);
/* Pointer to sector `i` of the entry at log offset `off` (wrapping). */
const uint8_t *mdl_entry_sector(const uint8_t *log, uint32_t log_length,
                                uint32_t off, uint64_t i);
/* Pointer to descriptor `i` of the entry at log offset `off`. */
const uint8_t *mdl_descriptor(const uint8_t *log, uint32_t log_length,
                              uint32_t off, uint32_t i);

/* The active sequence: entries from the tail to the head (malloc'd). */
typedef struct mdl_seq {
  mdl_entry *entries;
  uint32_t count;
} mdl_seq;
/* VHDXLOG_OK (seq filled, caller frees seq->entries) or
 * VHDXLOG_E_LOG_NO_SEQUENCE. Aborts if the scan and the brute force
 * disagree. */
vhdxlog_status mdl_search(const uint8_t *log, uint32_t log_length,
                          const uint8_t guid[16], mdl_seq *seq);

#endif /* VHDXLOG_MODEL_INTERNAL_H */
