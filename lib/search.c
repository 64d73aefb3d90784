/* SPDX-License-Identifier: MIT */
/*
 * The active sequence (MS-VHDX 2.3.3), by the spec's own scan; see
 * docs/RULES.md "Active sequence" for the exact loop and tie rules.
 *
 * Linear time: a run advances the scan to its end and covers at most N
 * sectors; each check reads, besides its first sector, only sectors that
 * start no entry (entry.c). No entry is validated twice: the entry that
 * ends a run by its number starts the next one as it is, a position that
 * just failed is not retried, and the run that wraps past the log's end
 * takes the scan's first run whole instead of re-reading it.
 * No position is skipped that could start a valid entry: the sectors inside
 * a valid entry begin with "desc", "zero" or "data", never "loge".
 */
#include <string.h>

#include "armed.h"
#include "descriptor.h"
#include "error.h"
#include "log_internal.h"
#include "plan.h"

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
  if (has_signature(h, "loge") && same_guid(h + ENTRY_LOG_GUID, ctx->guid)) {
    note(f, load_le64(h + ENTRY_SEQUENCE_NUMBER), sector, why->status,
         why->index);
  }
}

/* Where the write of a validated descriptor ends (0: it writes nothing). */
static inline uint64_t slot_write_end(const uint8_t *d) {
  uint64_t length = descriptor_write_length(d);
  return length != 0 ? write_end_saturated(descriptor_file_offset(d), length)
                     : 0;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* The furthest write of `n` validated descriptor slots at `p` (0: none).
 * Four maxima in registers, for slots k mod 4: each is a chain of
 * dependent compares, and four chains let slots overlap. */
static uint64_t slots_write_end(const uint8_t *p, uint32_t n) {
  uint64_t m0 = 0, m1 = 0, m2 = 0, m3 = 0;
  uint32_t k;
  for (k = 0; k + 4 <= n; k += 4) {
    const uint8_t *d = p + (size_t)k * DESCRIPTOR_SIZE;
    m0 = max_u64(m0, slot_write_end(d));
    m1 = max_u64(m1, slot_write_end(d + DESCRIPTOR_SIZE));
    m2 = max_u64(m2, slot_write_end(d + (size_t)2 * DESCRIPTOR_SIZE));
    m3 = max_u64(m3, slot_write_end(d + (size_t)3 * DESCRIPTOR_SIZE));
  }
  for (; k < n; k++) {
    m0 = max_u64(m0, slot_write_end(p + (size_t)k * DESCRIPTOR_SIZE));
  }
  return max_u64(max_u64(m0, m1), max_u64(m2, m3));
}

/* Totals the caller wants but the scan does not need: descriptors and the
 * furthest write of the entries [pos, end) (unwrapped sectors), which the
 * scan has just validated; so this reads the descriptor slots and nothing
 * else, sector by sector, instead of walking them through the checking
 * iterator. */
static void sum_descriptors(const vhdxlog_log *ctx, uint32_t pos, uint32_t end,
                            vhdxlog_sequence *seq) {
  uint64_t count_total = 0, furthest = 0;
  while (pos < end) {
    const uint8_t *h = log_sector(ctx, pos);
    uint32_t count = load_le32(h + ENTRY_DESCRIPTOR_COUNT);
    uint32_t left = count, in_sector = DESCRIPTORS_IN_FIRST_SECTOR;
    uint32_t sector = pos;
    const uint8_t *slots = h + ENTRY_HEADER_SIZE;
    while (left > 0) {
      uint32_t n = left < in_sector ? left : in_sector;
      furthest = max_u64(furthest, slots_write_end(slots, n));
      left -= n;
      /* The next descriptor sector; at most `end` (< 2N) after the last. */
      slots = log_sector(ctx, ++sector);
      in_sector = DESCRIPTORS_PER_SECTOR;
    }
    count_total += count;
    pos += load_le32(h + ENTRY_LENGTH) / VHDXLOG_SECTOR_SIZE;
  }
  seq->descriptor_count = count_total;
  seq->max_write_end = furthest;
}

/* Consecutive valid entries from sector `start` to `end` (unwrapped). */
typedef struct run {
  uint32_t start, end, count;
  uint64_t first_sequence_number;
  vhdxlog_entry head;
} run;

/* What the scan remembers so that no entry is validated twice. */
typedef struct scan_state {
  failure_note failure;
  uint32_t known_bad; /* a position whose check just failed */
  int have_carry;     /* a valid entry ended the last run by its number: */
  uint32_t carry_pos; /* it starts the next run as it is */
  vhdxlog_entry carry;
  int have_first;    /* the scan's first run: a run that wraps past the */
  run first;         /* log's end onto it takes it whole */
  armed_pass *armed; /* fed each unwrapped position's result, in order */
} scan_state;

/* Grow the run at p while entries are valid and numbered consecutively. */
static void grow_run(const vhdxlog_log *ctx, scan_state *st, uint32_t p,
                     run *r) {
  uint32_t n = ctx->sectors, q = p;
  memset(r, 0, sizeof *r);
  r->start = p;
  while (q - p < n) {
    vhdxlog_entry e;
    if (st->have_first && r->count > 0 && q == st->first.start + n) {
      /* Its entries are valid and consecutive: they continue this run iff
       * the numbering does. No sector inside it starts an entry, so a run
       * cannot reach it anywhere but at its start. */
      /* Valid entries number from 1: "- 1" cannot wrap, "+ 1" could. */
      if (st->first.first_sequence_number - 1u != r->head.sequence_number) {
        break;
      }
      r->count += st->first.count;
      r->head = st->first.head;
      q = st->first.end + n;
      continue;
    }
    if (st->have_carry && st->carry_pos == q) {
      e = st->carry;
      st->have_carry = 0;
    } else {
      vhdxlog_error why;
      uint32_t at = q >= n ? q - n : q;
      int ok = vhdxlog_entry_validate(ctx, at, &e, &why) == VHDXLOG_OK;
      /* Positions below n come in increasing order, each once. */
      if (st->armed != NULL && q < n)
        vhdxlog_armed_sector(st->armed, at, ok ? NULL : &why);
      if (!ok) {
        note_invalid(&st->failure, ctx, at, &why);
        st->known_bad = q;
        break;
      }
    }
    if (r->count > 0 && e.sequence_number - 1u != r->head.sequence_number) {
      st->have_carry = 1;
      st->carry_pos = q;
      st->carry = e;
      break;
    }
    if (r->count == 0) {
      r->first_sequence_number = e.sequence_number;
    }
    r->head = e;
    r->count++;
    q += e.length / VHDXLOG_SECTOR_SIZE;
  }
  r->end = q;
}

static vhdxlog_status search(const vhdxlog_log *ctx, vhdxlog_sequence *seq,
                             int sum, armed_pass *armed, vhdxlog_error *error) {
  scan_state st;
  vhdxlog_sequence best;
  int have_best = 0;
  uint32_t n, p = 0, best_pos = 0, best_end = 0;

  clear_error(error);
  if (ctx == NULL || ctx->log == NULL || seq == NULL) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  memset(&st, 0, sizeof st);
  st.known_bad = 0xFFFFFFFFu;
  st.armed = armed;
  memset(&best, 0, sizeof best);
  n = ctx->sectors;

  while (p < n) {
    run r;
    uint32_t pos, ordinal;

    if (p == st.known_bad) {
      p++;
      continue;
    }
    grow_run(ctx, &st, p, &r);
    if (r.count == 0) {
      p++;
      continue;
    }
    if (!st.have_first) {
      st.first = r;
      st.have_first = 1;
    }
    /* Complete iff the head's Tail is the start of an entry of the run. */
    for (pos = p, ordinal = 0; pos < r.end; ordinal++) {
      const uint8_t *h = log_sector(ctx, pos);
      if ((uint64_t)(pos >= n ? pos - n : pos) * VHDXLOG_SECTOR_SIZE ==
          r.head.tail) {
        break;
      }
      pos += load_le32(h + ENTRY_LENGTH) / VHDXLOG_SECTOR_SIZE; /* >= 1 */
    }
    if (pos >= r.end) {
      note(&st.failure, r.head.sequence_number,
           r.head.offset / VHDXLOG_SECTOR_SIZE, VHDXLOG_E_ENTRY_TAIL,
           VHDXLOG_NO_INDEX);
    } else if (!have_best ||
               r.head.sequence_number > best.head_sequence_number) {
      have_best = 1;
      st.armed = NULL; /* a sequence: the log is not armed */
      best_pos = pos;
      best_end = r.end;
      best.tail_offset = r.head.tail;
      best.head_offset = r.head.offset;
      best.entry_count = r.count - ordinal;
      best.length = (r.end - pos) * VHDXLOG_SECTOR_SIZE;
      best.head_sequence_number = r.head.sequence_number;
      best.tail_sequence_number =
          r.head.sequence_number - (r.count - ordinal - 1);
      best.flushed_file_offset = r.head.flushed_file_offset;
      best.last_file_offset = r.head.last_file_offset;
    }
    p = r.end;
  }

  if (!have_best) {
    if (armed != NULL)
      vhdxlog_armed_end(armed);
    report(error, VHDXLOG_E_LOG_NO_SEQUENCE, st.failure.offset,
           st.failure.have ? st.failure.index : VHDXLOG_NO_INDEX);
    if (error != NULL) {
      error->cause =
          st.failure.have ? st.failure.cause : VHDXLOG_E_LOG_NO_SEQUENCE;
    }
    return VHDXLOG_E_LOG_NO_SEQUENCE;
  }
  if (sum)
    sum_descriptors(ctx, best_pos, best_end, &best);
  *seq = best;
  return VHDXLOG_OK;
}

vhdxlog_status vhdxlog_log_search(const vhdxlog_log *ctx, vhdxlog_sequence *seq,
                                  vhdxlog_error *error) {
  return search(ctx, seq, 1, NULL, error);
}

VHDXLOG_INTERNAL vhdxlog_status vhdxlog_log_search_armed(const vhdxlog_log *ctx,
                                                         vhdxlog_sequence *seq,
                                                         vhdxlog_armed *armed,
                                                         vhdxlog_error *error) {
  armed_pass pass;
  if (ctx == NULL || ctx->log == NULL || armed == NULL)
    return search(ctx, seq, 0, NULL, error);
  vhdxlog_armed_begin(&pass, ctx, armed);
  return search(ctx, seq, 0, &pass, error);
}
