/* SPDX-License-Identifier: MIT */
/* Entry checks 1..13 of RULES.md: each accepted and rejected with the exact
 * status, offset and index, in plain and wrapped entries. */
#include "unit_common.h"

#define LOG_LEN VTK_MIB
#define SEQ 0x0000000500000007ull /* non-zero high half for SequenceHigh */

static uint8_t guid[16];

static int setup(void **state) {
  (void)state;
  vtk_guid(guid, 7);
  return 0;
}

static void assert_same_entry(const vhdxlog_entry *a, const vhdxlog_entry *b) {
  assert_int_equal(a->offset, b->offset);
  assert_int_equal(a->length, b->length);
  assert_int_equal(a->tail, b->tail);
  assert_int_equal(a->sequence_number, b->sequence_number);
  assert_int_equal(a->descriptor_count, b->descriptor_count);
  assert_int_equal(a->data_count, b->data_count);
  assert_int_equal(a->zero_count, b->zero_count);
  assert_int_equal(a->flushed_file_offset, b->flushed_file_offset);
  assert_int_equal(a->last_file_offset, b->last_file_offset);
}

/* Validate the entry at `off` in a fresh context. A second call on the same
 * context must give the same answer: validation keeps no state. */
static vhdxlog_status check_entry_in(const uint8_t *log, uint32_t len,
                                     const uint8_t g[16], uint32_t off,
                                     vhdxlog_entry *entry, vhdxlog_error *err) {
  vhdxlog_entry e[2];
  vhdxlog_error er[2];
  vhdxlog_status st[2];
  vhdxlog_log l;
  ulog_init(&l, log, len, g);
  for (int w = 0; w < 2; w++) {
    memset(&e[w], 0, sizeof(e[w]));
    memset(&er[w], 0, sizeof(er[w]));
    st[w] = vhdxlog_log_entry(&l, off, &e[w], &er[w]);
  }
  assert_int_equal(st[0], st[1]);
  if (st[0] == VHDXLOG_OK)
    assert_same_entry(&e[0], &e[1]);
  else
    assert_same_error(&er[0], &er[1]);
  if (entry)
    *entry = e[0];
  if (err)
    *err = er[0];
  return st[0];
}

static void expect_entry_error_in(const uint8_t *log, uint32_t len,
                                  uint32_t off, vhdxlog_status want,
                                  uint32_t index) {
  vhdxlog_error err;
  assert_int_equal(check_entry_in(log, len, guid, off, NULL, &err), want);
  assert_error(&err, want, want, off, index);
}

static void expect_entry_error(const uint8_t *log, uint32_t off,
                               vhdxlog_status want, uint32_t index) {
  expect_entry_error_in(log, LOG_LEN, off, want, index);
}

static vhdxlog_entry expect_entry_ok_in(const uint8_t *log, uint32_t len,
                                        uint32_t off) {
  vhdxlog_entry e;
  vhdxlog_error err;
  vhdxlog_status st = check_entry_in(log, len, guid, off, &e, &err);
  if (st != VHDXLOG_OK)
    print_error("entry at %u: %s (offset %llu index %u)\n", off,
                vhdxlog_status_name(err.status), (unsigned long long)err.offset,
                err.index);
  assert_int_equal(st, VHDXLOG_OK);
  return e;
}

static vhdxlog_entry expect_entry_ok(const uint8_t *log, uint32_t off) {
  return expect_entry_ok_in(log, LOG_LEN, off);
}

/* The entry most tests start from: one zero and two data descriptors. */
static vtk_desc std_descs[3];

static vtk_entry std_entry(uint32_t tail) {
  std_descs[0] = vtk_zero(5u * VTK_MIB, 8192);
  std_descs[1] = vtk_data(6u * VTK_MIB, 11);
  std_descs[2] = vtk_data(6u * VTK_MIB + 4096, 12);
  return vtk_entry_make(SEQ, tail, guid, 4u * VTK_MIB, 8u * VTK_MIB, std_descs,
                        3);
}

/* The standard entry with other descriptors. */
static vtk_entry std_entry_with(const vtk_desc *d, uint32_t n) {
  vtk_entry e = std_entry(0);
  e.descs = d;
  e.desc_count = n;
  return e;
}

static uint8_t *log_with_std_entry(uint32_t off) {
  uint8_t *log = ulog_new(LOG_LEN);
  vtk_entry e = std_entry(off);
  assert_int_equal(vtk_log_write_entry(log, LOG_LEN, off, &e), 3 * 4096);
  return log;
}

/* An accepted entry: the standard one (std_entry()) at `off` with Tail
 * `tail`, the `n` descriptors `d`, FlushedFileOffset `flushed` and
 * LastFileOffset `last`, `length` bytes long. Every field the library
 * reports must be what was written. */
typedef struct accept_case {
  const char *name;
  uint32_t off, tail, length;
  vtk_desc d[4];
  uint32_t n;
  uint64_t flushed, last;
} accept_case;

#define DATA(off, seed)                                                        \
  { VTK_DATA, off, 0, NULL, seed }
#define ZERO(off, len)                                                         \
  { VTK_ZERO, off, len, NULL, 0 }
#define STD_DESCS                                                              \
  {ZERO(5u * VTK_MIB, 8192), DATA(6u * VTK_MIB, 11),                           \
   DATA(6u * VTK_MIB + 4096, 12)},                                             \
      3
#define STD_OFFSETS 4u * VTK_MIB, 8u * VTK_MIB
#define PAST_MAX "test_entry_accepts_writes_past_max_by_spec_rules: "
static const accept_case accept_cases[] = {
    {"test_entry_accepts_valid_entry_and_reports_fields", 12288, 12288,
     3 * 4096, STD_DESCS, STD_OFFSETS},
    /* sectors 254, 255, 0 */
    {"test_entry_accepts_entry_wrapping_end_of_log", LOG_LEN - 8192,
     LOG_LEN - 8192, 3 * 4096, STD_DESCS, STD_OFFSETS},
    {"test_entry_accepts_entry_wrapping_end_of_log: only the last data sector",
     LOG_LEN - 8192,
     0,
     3 * 4096,
     {DATA(0x500000, 1), DATA(0x501000, 2)},
     2,
     STD_OFFSETS},
    {"test_entry_accepts_entry_wrapping_end_of_log: the header in the last "
     "sector",
     LOG_LEN - 4096, LOG_LEN - 4096, 3 * 4096, STD_DESCS, STD_OFFSETS},
    {"test_entry_accepts_entry_without_descriptors",
     0,
     0,
     4096,
     {{0}},
     0,
     STD_OFFSETS},
    {"test_entry_accepts_tail_in_last_sector", 8192, LOG_LEN - 4096, 3 * 4096,
     STD_DESCS, STD_OFFSETS},
    {"test_entry_accepts_offsets_up_to_max",
     0,
     0,
     2 * 4096,
     {DATA(VTK_MAX_OFFSET - 4096, 1), ZERO(VTK_MAX_OFFSET - 8192, 8192),
      ZERO(VTK_MAX_OFFSET, 0), ZERO(4096, VTK_MAX_OFFSET - 4096)},
     4,
     VTK_MAX_OFFSET,
     VTK_MAX_OFFSET},
    {"test_entry_accepts_zero_offsets_and_lengths",
     0,
     0,
     2 * 4096,
     {ZERO(0, 0), DATA(0, 3)},
     2,
     0,
     0},
    /* The spec asks only for alignment: a write past our 2^62 bound, even
     * one whose end wraps 2^64, leaves the entry valid (the plan refuses
     * it, so the bound cannot change which sequence is active;
     * test_replay.c). */
    {PAST_MAX "length alone past MAX",
     0,
     0,
     2 * 4096,
     {DATA(0x500000, 1), ZERO(0, (uint64_t)1 << 63)},
     2,
     STD_OFFSETS},
    {PAST_MAX "the sum wraps to exactly 0",
     0,
     0,
     2 * 4096,
     {DATA(0x500000, 1), ZERO(4096, (uint64_t)0 - 4096)},
     2,
     STD_OFFSETS},
    {PAST_MAX "ends at MAX + 4096",
     0,
     0,
     2 * 4096,
     {DATA(0x500000, 1), ZERO(VTK_MAX_OFFSET - 4096, 8192)},
     2,
     STD_OFFSETS},
    {PAST_MAX "offset alone past MAX",
     0,
     0,
     2 * 4096,
     {DATA(0x500000, 1), ZERO((uint64_t)0 - 4096, 0)},
     2,
     STD_OFFSETS},
    {"test_entry_accepts_file_offsets_past_max_by_spec_rules", 0, 0, 3 * 4096,
     STD_DESCS, (uint64_t)0 - VTK_MIB, VTK_MAX_OFFSET + VTK_MIB},
};

static void test_entry_accept_case(void **state) {
  const accept_case *t = *state;
  vtk_entry e = std_entry_with(t->d, t->n);
  e.tail = t->tail;
  e.flushed_file_offset = t->flushed;
  e.last_file_offset = t->last;
  uint8_t *log = ulog_new(LOG_LEN);
  assert_int_equal(vtk_log_write_entry(log, LOG_LEN, t->off, &e), t->length);
  if (t->off + t->length > LOG_LEN)
    assert_memory_equal(log, "data", 4); /* really wrapped */
  vhdxlog_entry r = expect_entry_ok(log, t->off);
  uint32_t data = 0;
  for (uint32_t i = 0; i < t->n; i++)
    data += t->d[i].kind == VTK_DATA;
  assert_int_equal(r.offset, t->off);
  assert_int_equal(r.length, t->length);
  assert_int_equal(r.tail, t->tail);
  assert_int_equal(r.sequence_number, SEQ);
  assert_int_equal(r.descriptor_count, t->n);
  assert_int_equal(r.data_count, data);
  assert_int_equal(r.zero_count, t->n - data);
  assert_true(r.flushed_file_offset == t->flushed);
  assert_true(r.last_file_offset == t->last);
  free(log);
}

/* --- accepted entries ---------------------------------------------------- */

static void test_entry_accepts_entry_as_long_as_log(void **state) {
  (void)state;
  uint32_t len = 4 * 4096;
  vtk_desc d[3] = {vtk_data(0x500000, 1), vtk_data(0x501000, 2),
                   vtk_data(0x502000, 3)};
  for (uint32_t off = 0; off < len; off += 4096) {
    uint8_t *log = ulog_new(len);
    vtk_entry e = std_entry_with(d, 3);
    assert_int_equal(vtk_log_write_entry(log, len, off, &e), len);
    vhdxlog_entry r = expect_entry_ok_in(log, len, off);
    assert_int_equal(r.length, len);
    free(log);
  }
}

static void test_entry_accepts_any_leading_and_trailing_bytes(void **state) {
  (void)state;
  static uint8_t s1[4096], s2[4096];
  memset(s1, 0xFF, sizeof(s1));
  memcpy(s2, "zerozero", 8); /* looks like a signature: it is data */
  memcpy(s2 + 4092, "loge", 4);
  vtk_desc d[2] = {vtk_data(0x500000, 0), vtk_data(0x501000, 0)};
  d[0].sector = s1;
  d[1].sector = s2;
  uint8_t *log = ulog_new(LOG_LEN);
  vtk_entry e = std_entry_with(d, 2);
  vtk_log_write_entry(log, LOG_LEN, 0, &e);
  expect_entry_ok(log, 0);
  free(log);
}

static void test_entry_accepts_descriptor_sector_boundaries(void **state) {
  (void)state;
  static const uint32_t counts[] = {125, 126, 127, 128, 253, 254, 255, 300};
  vtk_desc *d = calloc(300, sizeof(*d));
  for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
    uint32_t n = counts[c];
    /* all zero descriptors: the entry is exactly its descriptor sectors */
    for (uint32_t i = 0; i < n; i++)
      d[i] = vtk_zero(4096u * i, 4096);
    uint8_t *log = ulog_new(LOG_LEN);
    vtk_entry e = std_entry_with(d, n);
    uint32_t len = vtk_log_write_entry(log, LOG_LEN, 4096, &e);
    assert_int_equal(len, vtk_desc_sectors(n) * 4096);
    vhdxlog_entry r = expect_entry_ok(log, 4096);
    assert_int_equal(r.descriptor_count, n);
    assert_int_equal(r.zero_count, n);
    assert_int_equal(r.length, len);
    free(log);
    /* all data descriptors: D descriptor sectors then n data sectors, in a
     * 2 MiB log so that 300 of them fit */
    for (uint32_t i = 0; i < n; i++)
      d[i] = vtk_data(4096u * i, i);
    uint32_t big = 2 * LOG_LEN;
    log = ulog_new(big);
    len = vtk_log_write_entry(log, big, big - 8192, &e); /* wraps */
    assert_int_equal(len, (vtk_desc_sectors(n) + n) * 4096);
    r = expect_entry_ok_in(log, big, big - 8192);
    assert_int_equal(r.data_count, n);
    free(log);
  }
  free(d);
}

/* --- each rule broken alone ---------------------------------------------- */

/* The error of an entry rule names no index; that of a descriptor or data
 * sector rule names the one broken. */
typedef struct {
  vtk_break br;
  vhdxlog_status want;
  uint32_t at; /* the index broken and reported; NI: an entry rule */
  int paired;  /* one case per rule, for the pairs of broken rules */
} rule_case;

#define NI VHDXLOG_NO_INDEX
static const rule_case rule_cases[] = {
    {VTK_BREAK_SIGNATURE, VHDXLOG_E_ENTRY_SIGNATURE, NI, 1},
    {VTK_BREAK_LENGTH_ZERO, VHDXLOG_E_ENTRY_LENGTH, NI, 0},
    {VTK_BREAK_LENGTH_UNALIGNED, VHDXLOG_E_ENTRY_LENGTH, NI, 1},
    {VTK_BREAK_LENGTH_TOO_BIG, VHDXLOG_E_ENTRY_LENGTH, NI, 0},
    {VTK_BREAK_TAIL_UNALIGNED, VHDXLOG_E_ENTRY_TAIL, NI, 0},
    {VTK_BREAK_TAIL_TOO_BIG, VHDXLOG_E_ENTRY_TAIL, NI, 1},
    {VTK_BREAK_SEQUENCE_ZERO, VHDXLOG_E_ENTRY_SEQUENCE_ZERO, NI, 1},
    {VTK_BREAK_RESERVED, VHDXLOG_E_ENTRY_RESERVED, NI, 1},
    {VTK_BREAK_GUID, VHDXLOG_E_ENTRY_GUID, NI, 1},
    {VTK_BREAK_FLUSHED_UNALIGNED, VHDXLOG_E_ENTRY_FLUSHED_OFFSET, NI, 1},
    {VTK_BREAK_LAST_UNALIGNED, VHDXLOG_E_ENTRY_LAST_OFFSET, NI, 0},
    {VTK_BREAK_DESCRIPTOR_COUNT, VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT, NI, 1},
    {VTK_BREAK_DESC_SIGNATURE, VHDXLOG_E_DESCRIPTOR_SIGNATURE, 0, 0},
    {VTK_BREAK_DESC_SIGNATURE, VHDXLOG_E_DESCRIPTOR_SIGNATURE, 2, 1},
    {VTK_BREAK_DESC_RESERVED, VHDXLOG_E_DESCRIPTOR_RESERVED, 0, 0},
    {VTK_BREAK_DESC_LENGTH, VHDXLOG_E_DESCRIPTOR_LENGTH, 0, 0},
    {VTK_BREAK_DESC_OFFSET_UNALIGNED, VHDXLOG_E_DESCRIPTOR_OFFSET, 0, 0},
    {VTK_BREAK_DESC_OFFSET_UNALIGNED, VHDXLOG_E_DESCRIPTOR_OFFSET, 1, 0},
    {VTK_BREAK_DESC_SEQUENCE, VHDXLOG_E_DESCRIPTOR_SEQUENCE, 0, 0},
    {VTK_BREAK_DESC_SEQUENCE, VHDXLOG_E_DESCRIPTOR_SEQUENCE, 1, 0},
    {VTK_BREAK_DATA_COUNT, VHDXLOG_E_DATA_COUNT, NI, 1},
    {VTK_BREAK_DATA_SIGNATURE, VHDXLOG_E_DATA_SIGNATURE, 0, 0},
    {VTK_BREAK_DATA_SIGNATURE, VHDXLOG_E_DATA_SIGNATURE, 1, 1},
    {VTK_BREAK_DATA_SEQUENCE_HIGH, VHDXLOG_E_DATA_SEQUENCE, 0, 0},
    {VTK_BREAK_DATA_SEQUENCE_HIGH, VHDXLOG_E_DATA_SEQUENCE, 1, 0},
    {VTK_BREAK_DATA_SEQUENCE_LOW, VHDXLOG_E_DATA_SEQUENCE, 0, 0},
    {VTK_BREAK_DATA_SEQUENCE_LOW, VHDXLOG_E_DATA_SEQUENCE, 1, 0},
    {VTK_BREAK_CHECKSUM, VHDXLOG_E_ENTRY_CHECKSUM, NI, 1},
};
#define N_RULE_CASES (sizeof(rule_cases) / sizeof(rule_cases[0]))

static uint32_t break_index(const rule_case *c) {
  return c->at == NI ? 0 : c->at;
}

static void run_rule_cases(uint32_t off, int fix_crc) {
  for (size_t i = 0; i < N_RULE_CASES; i++) {
    const rule_case *c = &rule_cases[i];
    uint8_t *log = log_with_std_entry(off);
    expect_entry_ok(log, off); /* the passing case */
    assert_int_equal(
        vtk_entry_break(log, LOG_LEN, off, c->br, break_index(c), fix_crc), 0);
    expect_entry_error(log, off, c->want, c->at);
    free(log);
  }
}

static void test_entry_reports_each_rule_with_checksum_fixed(void **state) {
  (void)state;
  run_rule_cases(12288, 1);
}

static void test_entry_reports_each_rule_before_checksum(void **state) {
  (void)state;
  run_rule_cases(12288, 0);
}

static void test_entry_reports_each_rule_in_wrapped_entry(void **state) {
  (void)state;
  run_rule_cases(LOG_LEN - 8192, 1);
  run_rule_cases(LOG_LEN - 4096, 0);
}

static void test_entry_reports_each_rule_at_log_start(void **state) {
  (void)state;
  run_rule_cases(0, 1);
}

/* Two rules broken: the one earlier in RULES.md's order is reported. The
 * later break is applied first so the earlier one's bytes win. */
static void test_entry_reports_first_of_two_broken_rules(void **state) {
  (void)state;
  const rule_case *order[N_RULE_CASES];
  size_t n = 0;
  for (size_t i = 0; i < N_RULE_CASES; i++)
    if (rule_cases[i].paired)
      order[n++] = &rule_cases[i];
  assert_int_equal(n, 12); /* the cases flagged `paired` above */
  for (size_t a = 0; a < n; a++) {
    for (size_t b = a + 1; b < n; b++) {
      /* DATA_COUNT cannot coexist with DESCRIPTOR_COUNT's count. */
      uint8_t *log = log_with_std_entry(8192);
      int rb = vtk_entry_break(log, LOG_LEN, 8192, order[b]->br,
                               break_index(order[b]), 1);
      assert_int_equal(rb, 0);
      int ra = vtk_entry_break(log, LOG_LEN, 8192, order[a]->br,
                               break_index(order[a]), 1);
      if (ra == 0)
        expect_entry_error(log, 8192, order[a]->want, order[a]->at);
      free(log);
    }
  }
}

/* One break of the standard entry: the rule, where, checksum fixed. */
typedef struct brk {
  vtk_break what;
  uint32_t index;
  int fix_crc;
} brk;

/* The standard entry at 8 KiB with breaks b[first..n) applied in order
 * reports `want` at `want_index`. */
static void expect_broken(const brk *b, size_t first, size_t n,
                          vhdxlog_status want, uint32_t want_index) {
  uint8_t *log = log_with_std_entry(8192);
  for (size_t i = first; i < n; i++)
    assert_int_equal(vtk_entry_break(log, LOG_LEN, 8192, b[i].what, b[i].index,
                                     b[i].fix_crc),
                     0);
  expect_entry_error(log, 8192, want, want_index);
  free(log);
}

static void test_entry_checks_descriptors_one_at_a_time(void **state) {
  (void)state;
  /* descriptor 0: wrong sequence; descriptor 1: wrong signature. Index
   * order first, then the checks of one descriptor. */
  static const brk b[] = {{VTK_BREAK_DESC_SEQUENCE, 0, 0},
                          {VTK_BREAK_DESC_SIGNATURE, 1, 1}};
  expect_broken(b, 0, 2, VHDXLOG_E_DESCRIPTOR_SEQUENCE, 0);
}

static void test_entry_checks_zero_descriptor_fields_in_order(void **state) {
  (void)state;
  static const brk all[] = {{VTK_BREAK_DESC_RESERVED, 0, 1},
                            {VTK_BREAK_DESC_LENGTH, 0, 1},
                            {VTK_BREAK_DESC_OFFSET_UNALIGNED, 0, 1},
                            {VTK_BREAK_DESC_SEQUENCE, 0, 1},
                            /* signature before everything else */
                            {VTK_BREAK_DESC_SIGNATURE, 0, 1}};
  static const vhdxlog_status want[] = {
      VHDXLOG_E_DESCRIPTOR_RESERVED, VHDXLOG_E_DESCRIPTOR_LENGTH,
      VHDXLOG_E_DESCRIPTOR_OFFSET, VHDXLOG_E_DESCRIPTOR_SEQUENCE};
  for (size_t first = 0; first < 4; first++)
    expect_broken(all, first, 4, want[first], 0);
  expect_broken(all, 0, 5, VHDXLOG_E_DESCRIPTOR_SIGNATURE, 0);
}

static void test_entry_checks_data_sectors_in_order(void **state) {
  (void)state;
  static const brk low0[] = {{VTK_BREAK_DATA_SEQUENCE_LOW, 0, 0},
                             {VTK_BREAK_DATA_SIGNATURE, 1, 1}};
  static const brk high1[] = {{VTK_BREAK_DATA_SEQUENCE_HIGH, 1, 0},
                              {VTK_BREAK_DATA_SIGNATURE, 1, 1}};
  expect_broken(low0, 0, 2, VHDXLOG_E_DATA_SEQUENCE, 0);
  expect_broken(high1, 0, 2, VHDXLOG_E_DATA_SIGNATURE, 1);
}

static void test_entry_reports_descriptor_index_in_later_sector(void **state) {
  (void)state;
  vtk_desc *d = calloc(300, sizeof(*d));
  for (uint32_t i = 0; i < 300; i++)
    d[i] = (i % 3) ? vtk_zero(4096u * i, 4096) : vtk_data(4096u * i, i);
  vtk_entry e = std_entry_with(d, 300);
  static const uint32_t idx[] = {125, 126, 253, 254, 299};
  for (size_t k = 0; k < sizeof(idx) / sizeof(idx[0]); k++) {
    uint8_t *log = ulog_new(LOG_LEN);
    uint32_t off = LOG_LEN - 2 * 4096; /* descriptor sectors wrap */
    vtk_log_write_entry(log, LOG_LEN, off, &e);
    expect_entry_ok(log, off);
    vtk_entry_break(log, LOG_LEN, off, VTK_BREAK_DESC_SEQUENCE, idx[k], 1);
    expect_entry_error(log, off, VHDXLOG_E_DESCRIPTOR_SEQUENCE, idx[k]);
    free(log);
  }
  /* and a data sector index past the first few: 100 data sectors */
  uint8_t *log = ulog_new(LOG_LEN);
  vtk_log_write_entry(log, LOG_LEN, 0, &e);
  vtk_entry_break(log, LOG_LEN, 0, VTK_BREAK_DATA_SIGNATURE, 99, 1);
  expect_entry_error(log, 0, VHDXLOG_E_DATA_SIGNATURE, 99);
  free(log);
  free(d);
}

static void
test_entry_rejects_descriptor_count_needing_more_sectors(void **state) {
  (void)state;
  vtk_desc d[126];
  for (uint32_t i = 0; i < 126; i++)
    d[i] = vtk_zero(0, 0);
  vtk_entry e = std_entry_with(d, 126);
  uint8_t *log = ulog_new(LOG_LEN);
  assert_int_equal(vtk_log_write_entry(log, LOG_LEN, 0, &e), 4096);
  expect_entry_ok(log, 0);
  uint8_t *h = log;
  vtk_put_le32(h + 24, 127); /* needs 2 descriptor sectors, has 1 */
  vtk_entry_fix_checksum(log, LOG_LEN, 0);
  expect_entry_error(log, 0, VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT, NI);
  vtk_put_le32(h + 24, 0xFFFFFFFFu); /* no overflow in the sector count */
  vtk_entry_fix_checksum(log, LOG_LEN, 0);
  expect_entry_error(log, 0, VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT, NI);
  free(log);
}

/* The standard entry plus one valid data descriptor without its data
 * sector (DescriptorCount 4), or one data sector without its descriptor
 * (EntryLength 4 sectors): either way the counts disagree. */
static void expect_data_count_mismatch(int extra_sector) {
  uint8_t *log = log_with_std_entry(0);
  vtk_desc extra = vtk_data(7u * VTK_MIB, 13);
  if (extra_sector) {
    vtk_data_sector_put(log + 3 * 4096, &extra, SEQ);
    vtk_put_le32(log + 8, 4 * 4096);
  } else {
    vtk_desc_put(log + vtk_desc_pos(3), &extra, SEQ);
    vtk_put_le32(log + 24, 4);
  }
  vtk_entry_fix_checksum(log, LOG_LEN, 0);
  expect_entry_error(log, 0, VHDXLOG_E_DATA_COUNT, NI);
  free(log);
}

static void
test_entry_rejects_more_data_descriptors_than_sectors(void **state) {
  (void)state;
  expect_data_count_mismatch(0);
}

static void
test_entry_rejects_more_sectors_than_data_descriptors(void **state) {
  (void)state;
  expect_data_count_mismatch(1);
}

static void test_entry_rejects_other_log_guid(void **state) {
  (void)state;
  uint8_t *log = log_with_std_entry(0);
  uint8_t other[16];
  vtk_guid(other, 8);
  vhdxlog_error err;
  assert_int_equal(check_entry_in(log, LOG_LEN, other, 0, NULL, &err),
                   VHDXLOG_E_ENTRY_GUID);
  assert_error(&err, VHDXLOG_E_ENTRY_GUID, VHDXLOG_E_ENTRY_GUID, 0, NI);
  free(log);
}

static void test_entry_checksum_covers_padding_and_payload(void **state) {
  (void)state;
  static const uint32_t pos[] = {64 + 3 * 32 + 5, 4095, 4096 + 100,
                                 2 * 4096 + 4091, 2 * 4096 + 8};
  for (size_t i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
    uint8_t *log = log_with_std_entry(LOG_LEN - 4096);
    *vtk_log_at(log, LOG_LEN, LOG_LEN - 4096, pos[i]) ^= 0x40;
    expect_entry_error(log, LOG_LEN - 4096, VHDXLOG_E_ENTRY_CHECKSUM, NI);
    free(log);
  }
}

static void test_entry_rejects_signature_compared_as_bytes(void **state) {
  (void)state;
  uint8_t *log = log_with_std_entry(0);
  memcpy(log, "egol", 4); /* "loge" read as a big-endian integer */
  vtk_entry_fix_checksum(log, LOG_LEN, 0);
  expect_entry_error(log, 0, VHDXLOG_E_ENTRY_SIGNATURE, NI);
  free(log);
  log = log_with_std_entry(0);
  memcpy(log + vtk_desc_pos(1), "csed", 4);
  vtk_entry_fix_checksum(log, LOG_LEN, 0);
  expect_entry_error(log, 0, VHDXLOG_E_DESCRIPTOR_SIGNATURE, 1);
  free(log);
}

/* --- context and arguments ------------------------------------------------ */

static void test_entry_log_init_rejects_bad_arguments(void **state) {
  (void)state;
  uint8_t *log = ulog_new(LOG_LEN);
  vhdxlog_log ctx;
  assert_int_equal(vhdxlog_log_init(&ctx, log, 0, guid), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, log, 4095, guid), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, log, 4097, guid), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, NULL, LOG_LEN, guid),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(NULL, log, LOG_LEN, guid),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, log, LOG_LEN, NULL),
                   VHDXLOG_E_ARGUMENT);
  /* "below 4 GiB": init is O(1) and must not touch the bytes */
  if (sizeof(size_t) > 4)
    assert_int_equal(
        vhdxlog_log_init(&ctx, log, (size_t)((uint64_t)1 << 32), guid),
        VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, log, 4096, guid), VHDXLOG_OK);
  assert_int_equal(vhdxlog_log_init(&ctx, log, LOG_LEN, guid), VHDXLOG_OK);
  free(log);
}

static void test_entry_rejects_offset_outside_log_or_unaligned(void **state) {
  (void)state;
  uint8_t *log = log_with_std_entry(0);
  vhdxlog_log l;
  ulog_init(&l, log, LOG_LEN, guid);
  vhdxlog_entry e;
  vhdxlog_error err;
  assert_int_not_equal(vhdxlog_log_entry(&l, LOG_LEN, &e, &err), VHDXLOG_OK);
  assert_int_not_equal(vhdxlog_log_entry(&l, 100, &e, &err), VHDXLOG_OK);
  assert_int_not_equal(vhdxlog_log_entry(&l, 0xFFFFF000u, &e, &err),
                       VHDXLOG_OK);
  free(log);
}

/* Random damage to a log of several entries: an entry is only accepted
 * when the testkit's own checksum check agrees, at every sector. */
static void
test_entry_accepts_only_checksum_valid_entries_in_damaged_logs(void **state) {
  (void)state;
  uint32_t len = 64 * 4096;
  vtk_rng r;
  vtk_rng_seed(&r, 2024);
  for (int round = 0; round < 40; round++) {
    uint8_t *log = ulog_new(len);
    uint32_t off = (uint32_t)(vtk_rng_next(&r) % 64) * 4096;
    for (int k = 0; k < 6; k++) {
      vtk_entry e = std_entry(off);
      e.sequence_number = SEQ + (uint64_t)k;
      off = vtk_log_write_run(log, len, off, &e, 1);
    }
    int flips = (int)(vtk_rng_next(&r) % 8);
    for (int k = 0; k < flips; k++) {
      uint32_t pos = (uint32_t)(vtk_rng_next(&r) % len);
      /* mostly header fields, where the rules live */
      if (k % 2)
        pos = (pos / 4096) * 4096 + (uint32_t)(vtk_rng_next(&r) % 200);
      log[pos] ^= (uint8_t)(1u << (vtk_rng_next(&r) % 8));
    }
    for (uint32_t o = 0; o < len; o += 4096) {
      vhdxlog_entry e;
      vhdxlog_status st = check_entry_in(log, len, guid, o, &e, NULL);
      if (st == VHDXLOG_OK)
        assert_true(vtk_entry_crc_ok(log, len, o));
    }
    free(log);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_entry_accepts_entry_as_long_as_log),
      cmocka_unit_test(test_entry_accepts_any_leading_and_trailing_bytes),
      cmocka_unit_test(test_entry_accepts_descriptor_sector_boundaries),
      cmocka_unit_test(test_entry_reports_each_rule_with_checksum_fixed),
      cmocka_unit_test(test_entry_reports_each_rule_before_checksum),
      cmocka_unit_test(test_entry_reports_each_rule_in_wrapped_entry),
      cmocka_unit_test(test_entry_reports_each_rule_at_log_start),
      cmocka_unit_test(test_entry_reports_first_of_two_broken_rules),
      cmocka_unit_test(test_entry_checks_descriptors_one_at_a_time),
      cmocka_unit_test(test_entry_checks_zero_descriptor_fields_in_order),
      cmocka_unit_test(test_entry_checks_data_sectors_in_order),
      cmocka_unit_test(test_entry_reports_descriptor_index_in_later_sector),
      cmocka_unit_test(
          test_entry_rejects_descriptor_count_needing_more_sectors),
      cmocka_unit_test(test_entry_rejects_more_data_descriptors_than_sectors),
      cmocka_unit_test(test_entry_rejects_more_sectors_than_data_descriptors),
      cmocka_unit_test(test_entry_rejects_other_log_guid),
      cmocka_unit_test(test_entry_checksum_covers_padding_and_payload),
      cmocka_unit_test(test_entry_rejects_signature_compared_as_bytes),
      cmocka_unit_test(test_entry_log_init_rejects_bad_arguments),
      cmocka_unit_test(test_entry_rejects_offset_outside_log_or_unaligned),
      cmocka_unit_test(
          test_entry_accepts_only_checksum_valid_entries_in_damaged_logs),
  };
  static const unit_table tables[] = {
      UNIT_TABLE(test_entry_accept_case, accept_cases)};
  return unit_run(tests, UNIT_COUNT(tests), NULL, 0, tables, 1, setup);
}
