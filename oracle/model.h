/* SPDX-License-Identifier: MIT */
/*
 * Reference model of vhdxlog: docs/RULES.md written out as plainly as
 * possible, for differential fuzzing against lib/.
 *
 * It shares no code with lib/: it includes lib/include/vhdxlog.h only for the
 * vhdxlog_status values and the size macros. It keeps the whole image as one
 * byte array, allocates freely, validates every entry directly (no
 * precomputation) and checks its own search against a brute force (a mismatch
 * aborts the process: that is a bug in the model, not in the input).
 *
 * Where RULES.md leaves room, the model chooses (lib/ must match):
 * - Region table copy: each rule is checked over all entries before the
 *   next rule (offset/length of every entry, then duplicates, then unknown
 *   Required, then BAT/metadata missing, then overlaps), so the earliest
 *   rule in RULES.md order is reported, whatever the entry indexes.
 * - Image rule 3's LogOffset/LogLength alignment and range checks, and rule
 *   5 (log against regions, when LogLength > 0), apply to clean images too.
 * - A zero descriptor with ZeroLength 0 is a no-op: it is never a
 *   DESCRIPTOR_TARGET and does not count toward the replayed size.
 * - Header update: SequenceNumber + 1 wraps modulo 2^64.
 * - E_IO (max_size) is decided after every validation (image, search,
 *   plan) and only when the replayed size exceeds both `size` and max_size.
 * - The search's run guard is applied literally (an entry may be appended
 *   while q - p < N); the model checks that no run then covers more than N
 *   sectors (it cannot: a sector other than an entry's first never starts
 *   with "loge" in a valid entry), so "a run never covers more than N
 *   sectors" needs no check of its own.
 * - Clean-image completion: the other slot must pass signature + checksum;
 *   its Version/LogVersion/log location are not checked.
 */
#ifndef VHDXLOG_MODEL_H
#define VHDXLOG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "vhdxlog.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct model_result {
  /* VHDXLOG_OK, or the error of RULES.md: an image error, E_LOG_NO_SEQUENCE,
   * E_OFFSET_LIMIT, E_DESCRIPTOR_TARGET, E_FILE_TRUNCATED, a region rule of
   * the replayed tables, E_HEADER_SEQUENCE_LIMIT; E_IO when the image would
   * grow beyond max_size; E_ARGUMENT for image == NULL with size > 0. */
  vhdxlog_status status;
  int replayed;         /* 1 if the log was applied and cleared */
  int headers_repaired; /* 1 if the clean-image header completion applied */
  int armed_cleared;    /* 1 if an armed log was cleared (RULES.md "Armed
                           logs", default policy) */
  /* Set whenever the search found the active sequence (also when a later
   * plan check failed); zero otherwise. */
  uint32_t tail_offset, head_offset, entry_count;
  uint64_t head_sequence_number;
  /* Resulting image (free with model_result_free). On any error: the
   * input, unchanged. model_replay(): a malloc'd copy; model_replay_in():
   * the caller's buffer, or a malloc'd block when the file grows past its
   * capacity. */
  uint8_t *image;
  uint64_t image_size;
  int image_owned; /* image is malloc'd (model_result_free frees it) */
  /* Every byte range the replay wrote non-zero bytes into ([off, end)
   * pairs, malloc'd): the header slots it updated and the data sectors.
   * Zero descriptors and growth only write zeros and are not listed. */
  uint64_t (*written)[2];
  size_t written_count, written_cap;
} model_result;

/*
 * Replay `image` (the whole file, `size` bytes) per RULES.md: image rules,
 * search, plan checks, then the full replay order including the three header
 * writes with the derived FileWriteGuid; or, for a clean image, the header
 * completion case. If the replayed file would be larger than both `size`
 * and `max_size`, status is VHDXLOG_E_IO and the input is returned
 * unchanged.
 */
void model_replay(const uint8_t *image, size_t size, uint64_t max_size,
                  model_result *out);
/*
 * The same in place: `buf` holds the image (`size` bytes) and has room for
 * `capacity` bytes (capacity >= size); the bytes from size to capacity
 * must be zero. The result is written into `buf` (out->image == buf) when
 * the replayed size fits in `capacity`, else into a malloc'd copy
 * (out->image_owned). Lets a caller keep one buffer across many images.
 */
void model_replay_in(uint8_t *buf, size_t size, size_t capacity,
                     uint64_t max_size, model_result *out);
void model_result_free(model_result *r);

/*
 * Entry validation alone: the first broken rule of the entry at log offset
 * `off`, like vhdxlog_log_entry(). *error_index is the descriptor index or
 * data sector index for the rules that have one, else VHDXLOG_NO_INDEX.
 * VHDXLOG_E_ARGUMENT if log is NULL, log_length is not a positive multiple of
 * 4096, or off is not a multiple of 4096 below log_length.
 */
vhdxlog_status model_entry_check(const uint8_t *log, uint32_t log_length,
                                 const uint8_t guid[16], uint32_t off,
                                 uint32_t *error_index);

/*
 * The search by brute force: from every start sector, follow valid entries
 * with consecutive numbers; of the complete runs (one holds its head's
 * Tail), the greatest head number. 0 if none (a valid number is never 0).
 * Quadratic in the sectors: a check on small logs, not a search.
 */
uint64_t model_best_head(const uint8_t *log, uint32_t log_length,
                         const uint8_t guid[16]);
/* The model's own CRC-32C (its definition bit by bit, computed from a table
 * of it) and FileWriteGuid derivation, exposed so tests can compare them
 * with lib/ on their own. */
uint32_t model_crc32c(const uint8_t *data, size_t size);
void model_derive_file_write_guid(const uint8_t log_guid[16], uint8_t out[16]);

#ifdef __cplusplus
}
#endif
#endif /* VHDXLOG_MODEL_H */
