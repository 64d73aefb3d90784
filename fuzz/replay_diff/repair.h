/* SPDX-License-Identifier: MIT */
/*
 * Checksum repair of a whole VHDX image, for the fuzz target that must get
 * past the CRC-32C checks to reach the log search and the replay (a fuzzer
 * never guesses a CRC). Written independently of lib/ (own CRC-32C) so that
 * a repaired input does not inherit a bug of the code under test.
 */
#ifndef VHDXLOG_REPLAY_DIFF_REPAIR_H
#define VHDXLOG_REPLAY_DIFF_REPAIR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What rd_repair_image() does (combine with |). */
#define RD_REPAIR_HEADERS 1u /* checksum of each slot that says "head" */
#define RD_REPAIR_REGIONS 2u /* checksum of each table that says "regi" */
#define RD_REPAIR_ENTRIES 4u /* checksum of each "loge" entry that fits */
#define RD_REPAIR_ENTRY_GUID                                                   \
  8u /* first write the header's LogGuid (when                                 \
        non-zero) into every "loge" entry */
#define RD_REPAIR_ENTRY_SEQUENCE                                               \
  16u /* first copy each entry's                                               \
         SequenceNumber into its descriptors                                   \
         and data sectors */
#define RD_REPAIR_ALL_CHECKSUMS                                                \
  (RD_REPAIR_HEADERS | RD_REPAIR_REGIONS | RD_REPAIR_ENTRIES)

/* Standard CRC-32C (init and final xor 0xFFFFFFFF); chain by passing the
 * previous result, start with 0. Tables built on the caller's stack:
 * t[0] the byte-wise table, t[k] eight bytes at a time (slicing-by-8);
 * x86 CPUs with SSE4.2 use their CRC32 instruction instead. */
typedef struct rd_crc_table {
  uint32_t t[8][256];
  int hw; /* the CPU's CRC32 instruction is used */
} rd_crc_table;
void rd_crc_init(rd_crc_table *table);
/* The tables and never the instruction (for tests of that path). */
void rd_crc_init_sliced(rd_crc_table *table);
uint32_t rd_crc32c(const rd_crc_table *table, uint32_t crc, const void *data,
                   size_t size);

/*
 * Repair `image` (the whole file, `size` bytes) in place:
 *  1. headers (64 KiB, 128 KiB) that start with "head": checksum;
 *  2. region tables (192 KiB, 256 KiB) that start with "regi": checksum;
 *  3. the log of each header that starts with "head" and whose log lies in
 *     the file (LogLength a non-zero multiple of 4 KiB below 4 GiB): every
 *     sector in ascending order that starts with "loge" and whose
 *     EntryLength is a non-zero multiple of 4 KiB not above LogLength gets
 *     the ENTRY_GUID / ENTRY_SEQUENCE edits, then its checksum (over the
 *     entry in wrapped order). The non-current header's log is repaired
 *     first, the current one's last (the greater SequenceNumber; header 1 on
 *     a tie), so the current header's GUID wins where both logs meet.
 * Entries that overlap are repaired in order, so a later repair may break
 * an earlier checksum: only odd inputs do that, and the fuzzer sees it.
 */
void rd_repair_image(uint8_t *image, size_t size, unsigned options);

/* The same, calling fn(ctx, off, end) for ranges that together hold every
 * byte it changed (the checksum fields, each repaired entry's sectors). */
typedef void (*rd_mark_fn)(void *ctx, uint64_t off, uint64_t end);
void rd_repair_image_marked(uint8_t *image, size_t size, unsigned options,
                            rd_mark_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
