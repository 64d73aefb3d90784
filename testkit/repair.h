/* SPDX-License-Identifier: MIT */
/*
 * Checksum repair: recompute the CRC-32C fields of a whole image, or of the
 * entries of a bare log, in place. A fuzzer never guesses a CRC-32C; the
 * targets that must get past the checksums to reach the search, the plan and
 * the replay repair their input first. Part of the test side's writer: its
 * CRC-32C is testkit's (vtk_crc32c), never lib/'s or the oracle's, so a
 * repaired input cannot inherit a bug of the code it is fed to.
 */
#ifndef VHDXLOG_TESTKIT_REPAIR_H
#define VHDXLOG_TESTKIT_REPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "vhdx_builder.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What to repair (combine with |). */
#define VTK_REPAIR_HEADERS 1u /* checksum of each header that says "head" */
#define VTK_REPAIR_REGIONS 2u /* checksum of each table that says "regi" */
#define VTK_REPAIR_ENTRIES 4u /* checksum of each "loge" entry that fits */
/* Before the entry checksums: write the LogGuid into every "loge" entry
 * (an image's: its header's, when non-zero). */
#define VTK_REPAIR_ENTRY_GUID 8u
/* ... and copy each entry's SequenceNumber into its descriptors and data
 * sectors (so renumbering an entry keeps it valid). */
#define VTK_REPAIR_ENTRY_SEQUENCE 16u
#define VTK_REPAIR_ALL_CHECKSUMS                                               \
  (VTK_REPAIR_HEADERS | VTK_REPAIR_REGIONS | VTK_REPAIR_ENTRIES)

/*
 * Repair `image` (the whole file, `size` bytes) in place:
 *  1. headers (64 KiB, 128 KiB) that start with "head": checksum;
 *  2. region tables (192 KiB, 256 KiB) that start with "regi": checksum;
 *  3. the log of each header that starts with "head" and whose log lies in
 *     the file (LogLength a non-zero multiple of 4 KiB below 4 GiB), as
 *     vtk_repair_log() does with that header's LogGuid. The non-current
 *     header's log first, the current one's (the greater SequenceNumber;
 *     header 1 on a tie) last, so its GUID wins where both logs meet.
 * Images under 1 MiB are left alone.
 */
void vtk_repair_image(uint8_t *image, size_t size, unsigned options);

/* The same, calling fn(ctx, off, end) for ranges of the image that together
 * hold every byte it changed (the checksum fields, each repaired entry). */
typedef void (*vtk_repair_mark_fn)(void *ctx, uint64_t off, uint64_t end);
void vtk_repair_image_marked(uint8_t *image, size_t size, unsigned options,
                             vtk_repair_mark_fn fn, void *ctx);

/*
 * The entries of a bare log of `length` bytes (a multiple of 4 KiB): every
 * sector, in ascending order, that starts with "loge" and whose EntryLength
 * is a non-zero multiple of 4 KiB not above `length` gets the ENTRY_GUID
 * (`guid`; NULL: none) and ENTRY_SEQUENCE edits, then with ENTRIES its
 * checksum over the entry in wrapped order. Entries that overlap are
 * repaired in order, so a later one may break an earlier checksum: only odd
 * inputs do that. Returns the number of entries edited.
 */
size_t vtk_repair_log(uint8_t *log, size_t length, const uint8_t guid[16],
                      unsigned options);

/* The CRC-32C the repair computes with: vtk_crc32c()'s contract (start
 * with 0, chain by passing the result). NULL restores vtk_crc32c(). For a
 * caller that repairs in a hot loop and has a faster one; the choice stays
 * for the process. */
typedef vtk_crc_fn vtk_repair_crc_fn;
void vtk_repair_use_crc(vtk_repair_crc_fn fn);

#ifdef __cplusplus
}
#endif
#endif
