/*
 * The active sequence (MS-VHDX 2.3.3), by the spec's own scan; see
 * docs/RULES.md "Active sequence" for the exact loop and tie rules.
 *
 * Linear time: every scan position is tried at most twice (as the end of a
 * run, then as a start; a position that just failed is not retried), a run
 * advances the scan to its end and covers at most N sectors. Each check
 * reads, besides its first sector, only sectors that start no entry
 * (entry.c), so all checks together read each sector O(1) times.
 * No position is skipped that could start a valid entry: the sectors inside
 * a valid entry begin with "desc", "zero" or "data", never "loge".
 */
#include <string.h>

#include "descriptor.h"
#include "error.h"
#include "log_internal.h"

/* The "most recent candidate" reported when no sequence is complete. */
typedef struct failure_note {
  int have;
  uint64_t seq;
  uint64_t offset;
  uint32_t index;
  vhdxlog_status cause;
} failure_note;

static void note(failure_note *f, uint64_t seq, uint32_t sector,
                 vhdxlog_status cause, uint32_t index) {
  if (!f->have || seq > f->seq) {
    f->have = 1;
    f->seq = seq;
    f->offset = (uint64_t)sector * VHDXLOG_SECTOR_SIZE;
    f->cause = cause;
    f->index = index;
  }
}

/* Failed entries count only if they were meant for this log. */
static void note_invalid(failure_note *f, const vhdxlog_log *ctx,
                         uint32_t sector, const vhdxlog_error *why) {
  const uint8_t *h = log_sector(ctx, sector);
  if (has_signature(h, "loge") && memcmp(h + 32, ctx->guid, 16) == 0) {
    note(f, load_le64(h + 16), sector, why->status, why->index);
  }
}

/* Totals the caller wants but the scan does not need: descriptors and the
 * furthest write, one pass over the chosen sequence. */
static vhdxlog_status sum_descriptors(const vhdxlog_log *ctx,
                                      vhdxlog_sequence *seq,
                                      vhdxlog_error *error) {
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  vhdxlog_status st = vhdxlog_iter_init(&it, ctx, seq);
  seq->descriptor_count = 0;
  seq->max_write_end = 0;
  while (st == VHDXLOG_OK) {
    st = vhdxlog_iter_next(&it, &d);
    if (st == VHDXLOG_OK) {
      uint64_t end = d.file_offset + d.length; /* both <= 2^62 */
      seq->descriptor_count++;
      if (end > seq->max_write_end && d.length != 0) {
        seq->max_write_end = end;
      }
    }
  }
  if (st != VHDXLOG_END) {
    return report(error, st, it.entry_offset, VHDXLOG_NO_INDEX);
  }
  return VHDXLOG_OK;
}

vhdxlog_status vhdxlog_log_search(const vhdxlog_log *ctx,
                                  vhdxlog_sequence *seq,
                                  vhdxlog_error *error) {
  failure_note failure;
  vhdxlog_sequence best;
  int have_best = 0;
  uint32_t n, p = 0;
  uint32_t known_bad = 0xFFFFFFFFu; /* a position whose check just failed */

  clear_error(error);
  if (ctx == NULL || ctx->log == NULL || seq == NULL) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  memset(&failure, 0, sizeof failure);
  memset(&best, 0, sizeof best);
  n = ctx->sectors;

  while (p < n) {
    vhdxlog_entry e, head;
    uint32_t q = p, count = 0, pos, ordinal;

    memset(&head, 0, sizeof head);
    if (p == known_bad) {
      p++;
      continue;
    }
    /* Grow the run while entries are valid and numbered consecutively. */
    while (q - p < n) {
      vhdxlog_error why;
      uint32_t at = q >= n ? q - n : q;
      if (entry_validate(ctx, at, &e, &why) != VHDXLOG_OK) {
        note_invalid(&failure, ctx, at, &why);
        known_bad = q;
        break;
      }
      if (count > 0 && e.sequence_number != head.sequence_number + 1) {
        break;
      }
      head = e;
      count++;
      q += e.length / VHDXLOG_SECTOR_SIZE;
    }
    if (count == 0) {
      p++;
      continue;
    }
    /* Complete iff the head's Tail is the start of an entry of the run. */
    for (pos = p, ordinal = 0; pos < q; ordinal++) {
      const uint8_t *h = log_sector(ctx, pos);
      if ((uint64_t)(pos >= n ? pos - n : pos) * VHDXLOG_SECTOR_SIZE ==
          head.tail) {
        break;
      }
      pos += load_le32(h + 8) / VHDXLOG_SECTOR_SIZE; /* validated: >= 1 */
    }
    if (pos >= q) {
      note(&failure, head.sequence_number, head.offset / VHDXLOG_SECTOR_SIZE,
           VHDXLOG_E_ENTRY_TAIL, VHDXLOG_NO_INDEX);
    } else if (!have_best ||
               head.sequence_number > best.head_sequence_number) {
      have_best = 1;
      best.tail_offset = head.tail;
      best.head_offset = head.offset;
      best.entry_count = count - ordinal;
      best.length = (q - pos) * VHDXLOG_SECTOR_SIZE;
      best.head_sequence_number = head.sequence_number;
      best.tail_sequence_number = head.sequence_number - (count - ordinal - 1);
      best.flushed_file_offset = head.flushed_file_offset;
      best.last_file_offset = head.last_file_offset;
    }
    p = q;
  }

  if (!have_best) {
    report(error, VHDXLOG_E_LOG_NO_SEQUENCE, failure.offset,
           failure.have ? failure.index : VHDXLOG_NO_INDEX);
    if (error != NULL) {
      error->cause = failure.have ? failure.cause : VHDXLOG_E_LOG_NO_SEQUENCE;
    }
    return VHDXLOG_E_LOG_NO_SEQUENCE;
  }
  *seq = best;
  return sum_descriptors(ctx, seq, error);
}
