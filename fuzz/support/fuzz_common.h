/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the fuzz targets: take fields from the front of an input,
 * turn the rest into a log span, repair entry checksums, and check the
 * invariants every successful search must satisfy.
 *
 * No state survives between inputs (the log span's block is reused, but
 * rewritten whole). The checks (FUZZ_CHECK) call abort() when the library
 * breaks a promise of vhdxlog.h or docs/RULES.md, so that every crash is a
 * finding.
 */
#ifndef VHDXLOG_FUZZ_COMMON_H
#define VHDXLOG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "vhdxlog.h"

/*
 * The largest log span a target builds (longer inputs are cut): 256
 * sectors, the size of every log QEMU and Hyper-V write. It bounds one
 * execution's cost whatever -max_len the engine uses.
 */
#define FUZZ_MAX_LOG VHDXLOG_MIB

/* Reads fields from the front of an input. Reading past the end yields
 * zeros, so every input maps to some value of every field. */
typedef struct fuzz_reader {
  const uint8_t *p;
  size_t left;
} fuzz_reader;

void fuzz_reader_init(fuzz_reader *r, const uint8_t *data, size_t size);
uint8_t fuzz_take_u8(fuzz_reader *r);
uint32_t fuzz_take_u32(fuzz_reader *r); /* little-endian */
uint64_t fuzz_take_u64(fuzz_reader *r); /* little-endian */
void fuzz_take_bytes(fuzz_reader *r, uint8_t *out, size_t n);

/*
 * A log span in a heap block of exactly its own size: any read past the
 * span is past the block, so AddressSanitizer, valgrind and a plain build's
 * allocator all see it, as they would for the input itself
 * (standalone_main.c gives every input an exactly sized block too). The
 * block is reused by the next input whose span has the same length (every
 * byte rewritten; see fuzz_common.c for why).
 */
typedef struct fuzz_log {
  uint8_t *bytes;
  size_t length;
} fuzz_log;

/*
 * Copy `size` bytes (cut to FUZZ_MAX_LOG) into a new block and zero pad
 * them to max(4096, round_up(size, 4096), min_length) bytes. 0 on success,
 * -1 if min_length exceeds FUZZ_MAX_LOG or there is no memory (the target
 * then skips the log). The block stays valid until the next
 * fuzz_log_init(), which reuses or frees it: nothing to release.
 */
int fuzz_log_init(fuzz_log *l, const uint8_t *data, size_t size,
                  size_t min_length);

/* vhdxlog_log_init() over the span; aborts unless it succeeds (the span
 * always has a valid length). */
void fuzz_log_bind(const fuzz_log *l, const uint8_t guid[16], vhdxlog_log *ctx);

/* abort() with a message on stderr when `cond` is false. */
#define FUZZ_CHECK(cond)                                                       \
  ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond))
void fuzz_fail(const char *file, int line, const char *what);

/* Every status the library returns has its own symbolic name and text
 * (vhdxlog_status_name/_string never fall back to "unknown" for them). */
void fuzz_check_status_text(vhdxlog_status st);

/* Same status, cause, offset and index. */
int fuzz_same_error(const vhdxlog_error *a, const vhdxlog_error *b);
int fuzz_same_sequence(const vhdxlog_sequence *a, const vhdxlog_sequence *b);

/*
 * Bind *ctx to `l`, search it and check everything the result promises:
 *  - success: walk the entries from tail to head with vhdxlog_log_entry()
 *    and iterate the descriptors; abort if they contradict *seq (numbers,
 *    offsets, counts, write ends), if a descriptor differs from its bytes,
 *    or if the iterator fails;
 *  - failure: the error must name a candidate as RULES "Active sequence"
 *    says (the entry's own failed rule, or an incomplete head);
 *  - either way, the choice against the oracle's brute force over every
 *    start sector (model_best_head(): the greatest head number of the
 *    complete runs must be the one returned; with none the search fails).
 * Returns the status of the search and fills *ctx, *seq and *error.
 */
vhdxlog_status fuzz_search_and_check(fuzz_log *l, const uint8_t guid[16],
                                     vhdxlog_log *ctx, vhdxlog_sequence *seq,
                                     vhdxlog_error *error);

/*
 * The whole of a bare-log target after its prefix: the rest of `r` as a log
 * span; when `repair` holds VTK_REPAIR_* flags (testkit/repair.h), the
 * entries' checksums recomputed first (0: the bytes as they are); then
 * fuzz_search_and_check(). A span that cannot be built is skipped.
 */
void fuzz_search_rest(fuzz_reader *r, const uint8_t guid[16], unsigned repair);

#endif
