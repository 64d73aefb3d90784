/* SPDX-License-Identifier: MIT */
/* Active-sequence search (RULES.md "Active sequence"): which run wins, what
 * is replayed, and what E_LOG_NO_SEQUENCE names. */
#include "unit_common.h"

#include <time.h>

#define LOG_LEN VTK_MIB
#define S 4096u /* one sector */

static uint8_t G[16];   /* the header's LogGuid */
static uint8_t OLD[16]; /* a previous log's GUID */

static int setup(void **state) {
  (void)state;
  vtk_guid(G, 100);
  vtk_guid(OLD, 200);
  return 0;
}

/* Descriptors of the entry with sequence number `seq`: `ndata` data
 * descriptors at distinct offsets from data_at(seq). */
static vtk_desc descs[64];

static uint64_t data_at(uint64_t seq) {
  return 8u * VTK_MIB + (seq % 16) * 65536;
}

/* The entry's LastFileOffset; its FlushedFileOffset is 4 MiB. */
static uint64_t last_file_offset(uint64_t seq) {
  return (8u + seq % 8) * VTK_MIB;
}

static vtk_entry make(uint64_t seq, uint32_t tail, uint32_t ndata,
                      const uint8_t *g) {
  for (uint32_t i = 0; i < ndata; i++)
    descs[i] = vtk_data(data_at(seq) + S * i, (uint32_t)seq * 100 + i);
  return vtk_entry_make(seq, tail, g, 4u * VTK_MIB, last_file_offset(seq),
                        descs, ndata);
}

/* Write an entry; returns its length. */
static uint32_t put_in(uint8_t *log, uint32_t len, uint32_t off, uint64_t seq,
                       uint32_t tail, uint32_t ndata, const uint8_t *g) {
  vtk_entry e = make(seq, tail, ndata, g);
  uint32_t n = vtk_log_write_entry(log, len, off, &e);
  assert_true(n > 0);
  return n;
}

static uint32_t put(uint8_t *log, uint32_t off, uint64_t seq, uint32_t tail,
                    uint32_t ndata) {
  return put_in(log, LOG_LEN, off, seq, tail, ndata, G);
}

/* End of the furthest write of an entry made by make(). */
static uint64_t write_end(uint64_t seq, uint32_t ndata) {
  return ndata ? data_at(seq) + S * ndata : 0;
}

static vhdxlog_status search_in(const uint8_t *log, uint32_t len,
                                vhdxlog_sequence *seq, vhdxlog_error *err) {
  vhdxlog_log l;
  ulog_init(&l, log, len, G);
  memset(seq, 0, sizeof(*seq));
  memset(err, 0, sizeof(*err));
  vhdxlog_status st = vhdxlog_log_search(&l, seq, err);
  /* deterministic: a second search gives the same answer */
  vhdxlog_sequence s2;
  vhdxlog_error e2;
  memset(&s2, 0, sizeof(s2));
  memset(&e2, 0, sizeof(e2));
  assert_int_equal(vhdxlog_log_search(&l, &s2, &e2), st);
  if (st == VHDXLOG_OK) {
    assert_int_equal(s2.tail_offset, seq->tail_offset);
    assert_int_equal(s2.head_offset, seq->head_offset);
    assert_int_equal(s2.entry_count, seq->entry_count);
  } else {
    assert_same_error(&e2, err);
  }
  return st;
}

static void expect_seq_in(const uint8_t *log, uint32_t len, uint32_t tail_off,
                          uint32_t head_off, uint32_t count, uint32_t length,
                          uint64_t tail_seq, uint64_t head_seq,
                          vhdxlog_sequence *out) {
  vhdxlog_sequence s;
  vhdxlog_error e;
  vhdxlog_status st = search_in(log, len, &s, &e);
  if (st != VHDXLOG_OK)
    print_error("search: %s cause %s offset %llu\n", vhdxlog_status_name(st),
                vhdxlog_status_name(e.cause), (unsigned long long)e.offset);
  assert_int_equal(st, VHDXLOG_OK);
  assert_int_equal(s.tail_offset, tail_off);
  assert_int_equal(s.head_offset, head_off);
  assert_int_equal(s.entry_count, count);
  assert_int_equal(s.length, length);
  assert_int_equal(s.tail_sequence_number, tail_seq);
  assert_int_equal(s.head_sequence_number, head_seq);
  if (out)
    *out = s;
}

static void expect_seq(const uint8_t *log, uint32_t tail_off, uint32_t head_off,
                       uint32_t count, uint32_t length, uint64_t tail_seq,
                       uint64_t head_seq) {
  expect_seq_in(log, LOG_LEN, tail_off, head_off, count, length, tail_seq,
                head_seq, NULL);
}

static void expect_no_seq_in(const uint8_t *log, uint32_t len,
                             vhdxlog_status cause, uint64_t offset) {
  vhdxlog_sequence s;
  vhdxlog_error e;
  assert_int_equal(search_in(log, len, &s, &e), VHDXLOG_E_LOG_NO_SEQUENCE);
  assert_int_equal(e.status, VHDXLOG_E_LOG_NO_SEQUENCE);
  if (e.cause != cause || e.offset != offset)
    print_error("cause %s offset %llu, want %s offset %llu\n",
                vhdxlog_status_name(e.cause), (unsigned long long)e.offset,
                vhdxlog_status_name(cause), (unsigned long long)offset);
  assert_int_equal(e.cause, cause);
  assert_int_equal(e.offset, offset);
}

/* An entry put() at `off` (LogGuid G, or OLD when `old`), then one rule
 * broken when `what` is not 0 (vtk_entry_break with `index`, `fix_crc`). */
typedef struct cand {
  uint32_t off;
  uint64_t seq; /* 0: no entry (ends the row's list) */
  uint32_t tail, ndata;
  vtk_break what;
  uint32_t index;
  int fix_crc, old;
} cand;

/* A log of entries, and what the search must answer: the sequence, or
 * E_LOG_NO_SEQUENCE naming `cause` at `offset`. */
typedef struct search_case {
  const char *name;
  cand c[5];
  vhdxlog_status cause; /* VHDXLOG_OK: the sequence below is found */
  uint64_t offset;
  uint32_t tail_off, head_off, count, length;
  uint64_t tail_seq, head_seq;
  uint32_t len; /* the log's length; 0: LOG_LEN */
} search_case;

#define ENTRY(off, seq, tail, ndata)                                           \
  { off, seq, tail, ndata, 0, 0, 0, 0 }
#define OLD_ENTRY(off, seq, tail, ndata)                                       \
  { off, seq, tail, ndata, 0, 0, 0, 1 }
#define BROKEN(off, seq, tail, ndata, what, index, fix_crc)                    \
  { off, seq, tail, ndata, VTK_BREAK_##what, index, fix_crc, 0 }
/* FOUND_IN: in a log of `len` bytes, not LOG_LEN. */
#define FOUND_IN(len, tail_off, head_off, count, length, tail_seq, head_seq)   \
  VHDXLOG_OK, 0, tail_off, head_off, count, length, tail_seq, head_seq, len
#define FOUND(...) FOUND_IN(0, __VA_ARGS__)
#define NONE(cause, offset) VHDXLOG_E_##cause, offset, 0, 0, 0, 0, 0, 0, 0

static const search_case cases[] = {
    {"test_search_finds_single_entry",
     {ENTRY(0, 1, 0, 2)},
     FOUND(0, 0, 1, 3 * S, 1, 1)},
    {"test_search_finds_entry_without_descriptors",
     {ENTRY(3 * S, 9, 3 * S, 0)},
     FOUND(3 * S, 3 * S, 1, S, 9, 9)},
    {"test_search_finds_multi_entry_run",
     {ENTRY(0, 10, 0, 1), ENTRY(2 * S, 11, 0, 3), ENTRY(6 * S, 12, 0, 0),
      ENTRY(7 * S, 13, 0, 2)},
     FOUND(0, 7 * S, 4, 10 * S, 10, 13)},
    /* 15 writes further than 16 (at 8 MiB + (seq % 16) * 64 KiB) */
    {"test_search_max_write_end_spans_every_entry",
     {ENTRY(0, 15, 0, 1), ENTRY(2 * S, 16, 0, 1)},
     FOUND(0, 2 * S, 2, 4 * S, 15, 16)},
    /* the head's Tail is entry 6: entry 5 is not replayed */
    {"test_search_replays_from_head_tail_not_first_entry",
     {ENTRY(0, 5, 0, 1), ENTRY(2 * S, 6, 2 * S, 2), ENTRY(5 * S, 7, 2 * S, 1)},
     FOUND(2 * S, 5 * S, 2, 5 * S, 6, 7)},
    {"test_search_finds_single_entry_away_from_log_start",
     {ENTRY(40 * S, 77, 40 * S, 1)},
     FOUND(40 * S, 40 * S, 1, 2 * S, 77, 77)},
    {"test_search_head_tail_at_itself_after_run",
     {ENTRY(0, 1, 0, 1), ENTRY(2 * S, 2, 2 * S, 1)},
     FOUND(2 * S, 2 * S, 1, 2 * S, 2, 2)},
    /* sectors 254 | 255, 0, 1 | 2, 3 */
    {"test_search_finds_sequence_wrapping_end_of_log",
     {ENTRY(254 * S, 20, 254 * S, 0), ENTRY(255 * S, 21, 254 * S, 2),
      ENTRY(2 * S, 22, 254 * S, 1)},
     FOUND(254 * S, 2 * S, 3, 6 * S, 20, 22)},
    {"test_search_finds_wrapped_single_entry",
     {ENTRY(255 * S, 3, 255 * S, 3)},
     FOUND(255 * S, 255 * S, 1, 4 * S, 3, 3)},
    /* the old log continues right after, consecutive numbers, complete; and
     * a complete old sequence with far greater numbers */
    {"test_search_ignores_entries_with_old_guid",
     {ENTRY(0, 5, 0, 1), ENTRY(2 * S, 6, 0, 1), OLD_ENTRY(4 * S, 7, 4 * S, 1),
      OLD_ENTRY(6 * S, 8, 4 * S, 1), OLD_ENTRY(128 * S, 1000, 128 * S, 2)},
     FOUND(0, 2 * S, 2, 4 * S, 5, 6)},
    {"test_search_prefers_greater_head_sequence: greater one later",
     {ENTRY(0, 10, 0, 1), ENTRY(64 * S, 20, 64 * S, 2)},
     FOUND(64 * S, 64 * S, 1, 3 * S, 20, 20)},
    {"test_search_prefers_greater_head_sequence: greater one first",
     {ENTRY(64 * S, 10, 64 * S, 1), ENTRY(0, 20, 0, 2)},
     FOUND(0, 0, 1, 3 * S, 20, 20)},
    {"test_search_tie_picks_first_in_scan_order",
     {ENTRY(8 * S, 10, 8 * S, 1), ENTRY(64 * S, 10, 64 * S, 2)},
     FOUND(8 * S, 8 * S, 1, 2 * S, 10, 10)},
    /* run 3..6 (head 6, starts at 3) against a run of one: 5 */
    {"test_search_ranks_runs_by_head_not_first_entry",
     {ENTRY(0, 3, 0, 0), ENTRY(S, 4, 0, 0), ENTRY(2 * S, 5, 0, 0),
      ENTRY(3 * S, 6, 0, 0), ENTRY(64 * S, 5, 64 * S, 0)},
     FOUND(0, 3 * S, 4, 4 * S, 3, 6)},
    /* 1 then 3 (Tail 0): [1] is complete, [3] is not: its Tail is outside */
    {"test_search_breaks_run_on_non_consecutive_sequence: 1 then 3",
     {ENTRY(0, 1, 0, 1), ENTRY(2 * S, 3, 0, 1)},
     FOUND(0, 0, 1, 2 * S, 1, 1)},
    /* the second entry is checked too (QEMU skips that check) */
    {"test_search_breaks_run_on_non_consecutive_sequence: 1 then 5",
     {ENTRY(0, 1, 0, 1), ENTRY(2 * S, 5, 0, 1)},
     FOUND(0, 0, 1, 2 * S, 1, 1)},
    {"test_search_breaks_run_on_non_consecutive_sequence: decreasing",
     {ENTRY(0, 5, 0, 0), ENTRY(S, 4, 0, 0)},
     FOUND(0, 0, 1, S, 5, 5)},
    /* 7 breaks the run and starts its own */
    {"test_search_tries_run_breaking_entry_as_new_start",
     {ENTRY(0, 1, 0, 1), ENTRY(2 * S, 7, 2 * S, 1)},
     FOUND(2 * S, 2 * S, 1, 2 * S, 7, 7)},
    /* [1, 2] with 2's Tail inside entry 1 (not an entry start): the run is
     * incomplete; entry 1 alone is never a run of its own (the scan resumes
     * after the run), so there is no sequence. */
    {"test_search_does_not_shorten_incomplete_run",
     {ENTRY(0, 1, 0, 1), ENTRY(2 * S, 2, S, 0)},
     NONE(ENTRY_TAIL, 2 * S)},
    {"test_search_reports_no_sequence_on_empty_log",
     {ENTRY(0, 0, 0, 0)},
     NONE(LOG_NO_SEQUENCE, 0)},
    {"test_search_reports_no_sequence_when_only_old_guid",
     {OLD_ENTRY(4 * S, 9, 4 * S, 1),
      {40 * S, 99, 0, 1, VTK_BREAK_CHECKSUM, 0, 0, 1}},
     NONE(LOG_NO_SEQUENCE, 0)},
    /* greater numbers under another GUID are no candidates */
    {"test_search_no_sequence_names_most_recent_failed_candidate",
     {BROKEN(2 * S, 4, 2 * S, 1, CHECKSUM, 0, 0),
      BROKEN(20 * S, 9, 20 * S, 1, RESERVED, 0, 1),
      BROKEN(40 * S, 6, 40 * S, 2, DATA_SIGNATURE, 1, 1),
      {60 * S, 500, 60 * S, 1, VTK_BREAK_CHECKSUM, 0, 0, 1}},
     NONE(ENTRY_RESERVED, 20 * S)},
    /* an incomplete head, 5, against a failed candidate, 3 */
    {"test_search_no_sequence_names_most_recent_failed_candidate: head",
     {ENTRY(16 * S, 5, 64 * S, 1),
      BROKEN(80 * S, 3, 80 * S, 1, CHECKSUM, 0, 0)},
     NONE(ENTRY_TAIL, 16 * S)},
    /* "loge" + the header's GUID bytes: a candidate, whatever else fails */
    {"test_search_no_sequence_candidate_may_fail_any_rule: length",
     {BROKEN(12 * S, 33, 12 * S, 1, LENGTH_ZERO, 0, 1)},
     NONE(ENTRY_LENGTH, 12 * S)},
    {"test_search_no_sequence_candidate_may_fail_any_rule: tail",
     {BROKEN(12 * S, 33, 12 * S, 1, TAIL_UNALIGNED, 0, 1)},
     NONE(ENTRY_TAIL, 12 * S)},
    {"test_search_no_sequence_candidate_may_fail_any_rule: flushed offset",
     {BROKEN(12 * S, 33, 12 * S, 1, FLUSHED_UNALIGNED, 0, 1)},
     NONE(ENTRY_FLUSHED_OFFSET, 12 * S)},
    {"test_search_no_sequence_candidate_may_fail_any_rule: descriptor offset",
     {BROKEN(12 * S, 33, 12 * S, 1, DESC_OFFSET_UNALIGNED, 0, 1)},
     NONE(DESCRIPTOR_OFFSET, 12 * S)},
    {"test_search_no_sequence_candidate_may_fail_any_rule: data count",
     {BROKEN(12 * S, 33, 12 * S, 1, DATA_COUNT, 0, 1)},
     NONE(DATA_COUNT, 12 * S)},
    {"test_search_no_sequence_candidate_may_fail_any_rule: data sequence",
     {BROKEN(12 * S, 33, 12 * S, 1, DATA_SEQUENCE_LOW, 0, 1)},
     NONE(DATA_SEQUENCE, 12 * S)},
    /* Tail points at nothing */
    {"test_search_no_sequence_names_incomplete_head",
     {ENTRY(16 * S, 5, 64 * S, 1)},
     NONE(ENTRY_TAIL, 16 * S)},
    {"test_search_no_sequence_names_incomplete_head: run of two",
     {ENTRY(16 * S, 5, 100 * S, 1), ENTRY(18 * S, 6, 100 * S, 1)},
     NONE(ENTRY_TAIL, 18 * S)},
    /* an incomplete head, 5, against a failed candidate, 8 and then 3 */
    {"test_search_no_sequence_prefers_greater_number_of_either_kind",
     {ENTRY(16 * S, 5, 64 * S, 1),
      BROKEN(80 * S, 8, 80 * S, 1, DATA_SIGNATURE, 0, 1)},
     NONE(DATA_SIGNATURE, 80 * S)},
    {"test_search_no_sequence_prefers_greater_number_of_either_kind: head",
     {ENTRY(16 * S, 5, 64 * S, 1),
      BROKEN(80 * S, 3, 80 * S, 1, CHECKSUM, 0, 0)},
     NONE(ENTRY_TAIL, 16 * S)},
    {"test_search_no_sequence_tie_names_first_found",
     {BROKEN(8 * S, 7, 8 * S, 1, CHECKSUM, 0, 0),
      BROKEN(40 * S, 7, 40 * S, 1, RESERVED, 0, 1)},
     NONE(ENTRY_CHECKSUM, 8 * S)},
    {"test_search_no_sequence_tie_names_first_found: incomplete head first",
     {ENTRY(8 * S, 7, 100 * S, 0),
      BROKEN(40 * S, 7, 40 * S, 1, RESERVED, 0, 1)},
     NONE(ENTRY_TAIL, 8 * S)},
    {"test_search_no_sequence_zero_number_candidate_ranks_lowest",
     {BROKEN(4 * S, 2, 4 * S, 1, SEQUENCE_ZERO, 0, 1),
      BROKEN(50 * S, 1, 50 * S, 1, CHECKSUM, 0, 0)},
     NONE(ENTRY_CHECKSUM, 50 * S)},
    /* alone it is still named */
    {"test_search_no_sequence_zero_number_candidate_ranks_lowest: alone",
     {BROKEN(4 * S, 2, 4 * S, 1, SEQUENCE_ZERO, 0, 1)},
     NONE(ENTRY_SEQUENCE_ZERO, 4 * S)},
    {"test_search_complete_sequence_beats_failed_candidates",
     {BROKEN(8 * S, 70, 8 * S, 1, CHECKSUM, 0, 0), ENTRY(30 * S, 2, 30 * S, 1)},
     FOUND(30 * S, 30 * S, 1, 2 * S, 2, 2)},
    {"test_search_finds_entry_in_one_sector_log",
     {ENTRY(0, 4, 0, 0)},
     FOUND_IN(S, 0, 0, 1, S, 4, 4)},
};

static void test_search_case(void **state) {
  const search_case *t = *state;
  uint32_t len = t->len ? t->len : LOG_LEN;
  uint8_t *log = ulog_new(len);
  for (const cand *c = t->c; c < t->c + UNIT_COUNT(t->c) && c->seq; c++) {
    put_in(log, len, c->off, c->seq, c->tail, c->ndata, c->old ? OLD : G);
    if (c->what)
      assert_int_equal(
          vtk_entry_break(log, len, c->off, c->what, c->index, c->fix_crc), 0);
  }
  if (t->cause != VHDXLOG_OK) {
    expect_no_seq_in(log, len, t->cause, t->offset);
    free(log);
    return;
  }
  vhdxlog_sequence s;
  expect_seq_in(log, len, t->tail_off, t->head_off, t->count, t->length,
                t->tail_seq, t->head_seq, &s);
  /* The totals of the replayed entries: under G, unbroken, numbered within
   * the sequence and lying inside its span. */
  uint32_t ndesc = 0;
  uint64_t end = 0;
  for (const cand *c = t->c; c < t->c + UNIT_COUNT(t->c) && c->seq; c++)
    if (!c->old && !c->what && c->seq >= t->tail_seq && c->seq <= t->head_seq &&
        (c->off + len - t->tail_off) % len < t->length) {
      ndesc += c->ndata;
      if (write_end(c->seq, c->ndata) > end)
        end = write_end(c->seq, c->ndata);
    }
  assert_int_equal(s.descriptor_count, ndesc);
  assert_int_equal(s.max_write_end, end);
  assert_int_equal(s.flushed_file_offset, 4u * VTK_MIB);
  assert_int_equal(s.last_file_offset, last_file_offset(t->head_seq));
  free(log);
}

/* --- found sequences -------------------------------------------------------
 */

static void test_search_run_may_fill_whole_log(void **state) {
  (void)state;
  uint32_t len = 16 * S;
  uint8_t *log = ulog_new(len);
  for (uint32_t i = 0; i < 16; i++)
    put_in(log, len, i * S, 1 + i, 0, 0, G);
  expect_seq_in(log, len, 0, 15 * S, 16, len, 1, 16, NULL);
  free(log);
}

static void
test_search_run_filling_log_from_middle_stops_after_one_lap(void **state) {
  (void)state;
  uint32_t len = 16 * S;
  uint8_t *log = ulog_new(len);
  /* seqs 101..116 from sector 5 round to sector 4; all tails at sector 5 */
  for (uint32_t i = 0; i < 16; i++)
    put_in(log, len, ((5 + i) % 16) * S, 101 + i, 5 * S, 0, G);
  expect_seq_in(log, len, 5 * S, 4 * S, 16, len, 101, 116, NULL);
  free(log);
}

static void test_search_handles_previous_lap_entries(void **state) {
  (void)state;
  uint32_t len = 16 * S;
  uint8_t *log = ulog_new(len);
  for (uint32_t i = 0; i < 16; i++) /* an older lap: seqs 1..16 */
    put_in(log, len, i * S, 1 + i, 0, 0, G);
  put_in(log, len, 0, 17, 0, 0, G); /* the new lap overwrote sectors 0, 1 */
  put_in(log, len, S, 18, 0, 0, G);
  /* Two runs end at 18 (from 0, and from sector 2 round to 1); the first
   * one found wins a tie; both replay entries 17, 18. */
  expect_seq_in(log, len, 0, S, 2, 2 * S, 17, 18, NULL);
  free(log);
}

/* --- which run wins ---------------------------------------------------------
 */

static void test_search_falls_back_when_last_entry_torn(void **state) {
  (void)state;
  for (int variant = 0; variant < 3; variant++) {
    uint8_t *log = ulog_new(LOG_LEN);
    uint32_t a = put(log, 0, 1, 0, 1);
    uint32_t b = put(log, a, 2, 0, 1);
    put(log, a + b, 3, 0, 2);
    if (variant == 0) /* checksum */
      vtk_entry_break(log, LOG_LEN, a + b, VTK_BREAK_CHECKSUM, 0, 0);
    else if (variant == 1) /* last data sector never written */
      memset(log + a + b + 2 * S, 0, S);
    else /* only the first sector written */
      memset(log + a + b + S, 0, 2 * S);
    expect_seq(log, 0, a, 2, a + b, 1, 2);
    free(log);
  }
}

static void
test_search_finds_valid_entry_inside_bad_entry_length(void **state) {
  (void)state;
  uint8_t *log = ulog_new(LOG_LEN);
  put(log, 0, 50, 0, 3);
  vtk_put_le32(log + 8, 64 * S); /* claims 64 sectors; checksum now wrong */
  put(log, 2 * S, 1, 2 * S, 1);  /* inside the claimed range */
  expect_seq(log, 2 * S, 2 * S, 1, 2 * S, 1, 1);
  free(log);
  /* a bad entry claiming the whole log, checksum fixed but reserved set */
  log = ulog_new(LOG_LEN);
  put(log, 0, 50, 0, 0);
  vtk_put_le32(log + 8, LOG_LEN);
  vtk_put_le32(log + 28, 1);
  vtk_entry_fix_checksum(log, LOG_LEN, 0);
  put(log, 200 * S, 3, 200 * S, 2);
  expect_seq(log, 200 * S, 200 * S, 1, 3 * S, 3, 3);
  free(log);
}

/* --- no complete sequence
 * ----------------------------------------------------- */

/* Logs built so that any check done too early (checksum before the cheap
 * rules, or re-reading the sectors of a bad entry from every start) costs
 * time quadratic in the log: 64 MiB of log would then take minutes. */
static void test_search_runs_in_linear_time_on_hostile_logs(void **state) {
  (void)state;
  const uint32_t len = 64u * VTK_MIB, n = len / S;
  uint8_t *log = ulog_new(len);
  clock_t t0 = clock();
  /* 1: every sector a header claiming the whole log, no descriptors */
  for (uint32_t i = 0; i < n; i++) {
    vtk_entry_header_put(log + (size_t)i * S, len, 1, G);
  }
  expect_no_seq_in(log, len, VHDXLOG_E_DATA_COUNT, 0);
  /* 2: back-to-back entries of 127 sectors with a bad checksum */
  memset(log, 0, len);
  vtk_desc *d = calloc(126, sizeof(*d));
  for (uint32_t i = 0; i < 126; i++)
    d[i] = vtk_data(VTK_MIB + S * i, i);
  uint32_t last = 0;
  for (uint32_t k = 0; (k + 1) * 127 <= n; k++) {
    vtk_entry e = vtk_entry_make(1 + k, k * 127 * S, G, 0, 0, d, 126);
    last = k * 127 * S;
    assert_int_equal(vtk_log_write_entry(log, len, last, &e), 127 * S);
    vtk_entry_break(log, len, last, VTK_BREAK_CHECKSUM, 0, 0);
  }
  expect_no_seq_in(log, len, VHDXLOG_E_ENTRY_CHECKSUM, last);
  free(d);
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  if (secs > 60)
    print_error("search took %.1f s of CPU on a 64 MiB log\n", secs);
  assert_true(secs <= 60);
  free(log);
}

/* Random logs: the search never fails unexpectedly, and whatever it returns
 * is consistent with the entries the testkit can see. */
static void test_search_result_is_consistent_on_random_logs(void **state) {
  (void)state;
  uint32_t len = 32 * S;
  vtk_rng r;
  vtk_rng_seed(&r, 31337);
  for (int round = 0; round < 300; round++) {
    uint8_t *log = ulog_new(len);
    int n = 1 + (int)(vtk_rng_next(&r) % 12);
    for (int k = 0; k < n; k++) {
      uint32_t off = (uint32_t)(vtk_rng_next(&r) % 32) * S;
      uint64_t seq = 1 + vtk_rng_next(&r) % 6;
      uint32_t tail = (uint32_t)(vtk_rng_next(&r) % 32) * S;
      if (vtk_rng_next(&r) % 2)
        tail = off;
      put_in(log, len, off, seq, tail, (uint32_t)(vtk_rng_next(&r) % 3),
             vtk_rng_next(&r) % 5 ? G : OLD);
    }
    vhdxlog_sequence s;
    vhdxlog_error e;
    vhdxlog_status st = search_in(log, len, &s, &e);
    assert_true(st == VHDXLOG_OK || st == VHDXLOG_E_LOG_NO_SEQUENCE);
    if (st == VHDXLOG_OK) {
      assert_true(s.entry_count >= 1);
      assert_true(s.length <= len && s.length % S == 0);
      assert_true(s.tail_offset < len && s.head_offset < len);
      assert_int_equal(s.head_sequence_number - s.tail_sequence_number + 1,
                       s.entry_count);
      assert_true(vtk_entry_crc_ok(log, len, s.tail_offset));
      assert_true(vtk_entry_crc_ok(log, len, s.head_offset));
      assert_int_equal(vtk_get_le32(log + s.head_offset + 12), s.tail_offset);
      assert_memory_equal(log + s.head_offset + 32, G, 16);
    }
    free(log);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_search_run_may_fill_whole_log),
      cmocka_unit_test(
          test_search_run_filling_log_from_middle_stops_after_one_lap),
      cmocka_unit_test(test_search_handles_previous_lap_entries),
      cmocka_unit_test(test_search_falls_back_when_last_entry_torn),
      cmocka_unit_test(test_search_finds_valid_entry_inside_bad_entry_length),
      cmocka_unit_test(test_search_runs_in_linear_time_on_hostile_logs),
      cmocka_unit_test(test_search_result_is_consistent_on_random_logs),
  };
  static const unit_table tables[] = {UNIT_TABLE(test_search_case, cases)};
  return unit_run(tests, UNIT_COUNT(tests), NULL, 0, tables, 1, setup);
}
