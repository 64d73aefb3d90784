/* SPDX-License-Identifier: MIT */
/*
 * Packed images: a compact encoding of a VHDX image for the checksum-
 * repairing differential target and for fuzz_image (which ignores the
 * options byte: it parses the bytes as they are).
 *
 * Why: a whole image is at least 1 MiB (2 MiB with a log), and the bytes
 * that matter (identifier, two 4 KiB headers, the start of two region
 * tables, the log) are under 1% of it; a fuzzer mutating whole images spends
 * almost every mutation on padding. The packed form keeps only those bytes,
 * at fixed positions, so mutations land on structure and a seed is ~20 KiB.
 *
 * Layout (missing bytes at the end count as zeros):
 *   0      1     options byte: how to repair the image (below)
 *   1      1     extra: the file ends with extra * 64 KiB more zero bytes
 *   2      8     file bytes 0..7 (the identifier, "vhdxfile")
 *   10     4096  header 1        (file offset 64 KiB)
 *   4106   4096  header 2        (128 KiB)
 *   8202   1024  region table 1, its first 1 KiB (192 KiB; rest zeros:
 *                the header and 31 entries)
 *   9226   1024  region table 2, its first 1 KiB (256 KiB)
 *   10250  ...   the tail: file bytes from 1 MiB on (the log, data)
 * The file is 1 MiB + tail length + extra * 64 KiB bytes long; every byte
 * not listed above is zero.
 *
 * Options byte (rd_packed_repair_options() turns it into repair.h flags):
 *   bit 0: leave header checksums as they are
 *   bit 1: leave region table checksums as they are
 *   bit 2: leave entry checksums as they are
 *   bit 3: write the header's LogGuid into every entry first
 *   bit 4: copy each entry's SequenceNumber into its descriptors and data
 *          sectors first (so renumbering an entry keeps it valid)
 *   bits 5-7: unused
 * The default, 0, repairs every checksum and nothing else, so entries with
 * a foreign GUID or mismatched descriptor numbers still occur.
 */
#ifndef VHDXLOG_REPLAY_DIFF_PACKED_H
#define VHDXLOG_REPLAY_DIFF_PACKED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RD_PACKED_FIXED 10250u
#define RD_PACKED_REGION_KEPT 1024u
#define RD_PACKED_EXTRA_UNIT 65536u

/* The size of the whole image `size` bytes of packed form stand for. */
uint64_t rd_unpacked_size(const uint8_t *packed, size_t size);

/* The file's first 1 MiB (identifier, headers, region tables, zeros) into
 * `head`, which holds 1 MiB. */
void rd_unpack_head(const uint8_t *packed, size_t size, uint8_t *head);

/* The tail (file bytes from 1 MiB on) inside `packed`; *length its size. */
const uint8_t *rd_packed_tail(const uint8_t *packed, size_t size,
                              size_t *length);

/* Expand into `image`, which holds rd_unpacked_size() bytes and is all zero
 * already: writes only the kept pieces and the tail, and lists the ranges
 * it wrote in `ranges` (at most RD_PACKED_RANGES); returns their count.
 * *options gets the options byte (0 if absent). */
#define RD_PACKED_RANGES 6u
size_t rd_unpack_sparse(const uint8_t *packed, size_t size, uint8_t *image,
                        unsigned *options,
                        uint64_t ranges[RD_PACKED_RANGES][2]);

/* The same into a new block (malloc'd, the caller frees). 0 on success, -1
 * when memory ran out or the image would exceed max_size. */
int rd_unpack(const uint8_t *packed, size_t size, uint64_t max_size,
              uint8_t **image, size_t *image_size, unsigned *options);

/* The repair.h flags that options byte `options` asks for. */
unsigned rd_packed_repair_options(unsigned options);

/* Pack a whole image (>= 1 MiB) with the given options byte. Lossy where
 * the layout keeps nothing (the creator string, region table bytes past
 * 1 KiB, bytes between 320 KiB and 1 MiB): those become zeros. The tail
 * stops at the last non-zero byte, the rest of the size goes into `extra`
 * as far as it reaches (trailing zeros beyond 255 * 64 KiB stay in the
 * tail). 0 on success, -1 if the image is under 1 MiB or memory ran out. */
int rd_pack(const uint8_t *image, size_t size, unsigned options,
            uint8_t **packed, size_t *packed_size);

#ifdef __cplusplus
}
#endif
#endif
