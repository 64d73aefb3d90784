/* SPDX-License-Identifier: MIT */
/* Descriptor iterator: replay order across entries and descriptor sectors,
 * data sector assembly (leading + data + trailing), wrapped entries. */
#include "unit_common.h"

#define LOG_LEN VTK_MIB
#define S 4096u
#define NSEC (LOG_LEN / S)

static uint8_t G[16];

static int setup(void **state) {
  (void)state;
  vtk_guid(G, 300);
  return 0;
}

typedef struct built {
  uint8_t *log;
  vtk_entry e[8];
  uint32_t off[8];
  size_t n;
} built;

/* Write entries back to back from `start`; tails all at `tail`. */
static void build_run(built *b, uint32_t start, uint32_t tail) {
  b->log = ulog_new(LOG_LEN);
  uint32_t o = start;
  for (size_t i = 0; i < b->n; i++) {
    b->e[i].tail = tail;
    memcpy(b->e[i].log_guid, G, 16);
    b->off[i] = o;
    o = vtk_log_write_run(b->log, LOG_LEN, o, &b->e[i], 1);
  }
}

static vtk_entry entry(uint64_t seq, const vtk_desc *d, uint32_t n) {
  static const uint8_t zero[16];
  return vtk_entry_make(seq, 0, zero, VTK_MIB, 16u * VTK_MIB, d, n);
}

/* Iterate the active sequence and compare with entries first..n-1. */
static void expect_iteration(const built *b, size_t first) {
  vhdxlog_log l;
  ulog_init(&l, b->log, LOG_LEN, G);
  vhdxlog_sequence seq;
  vhdxlog_error err;
  assert_int_equal(vhdxlog_log_search(&l, &seq, &err), VHDXLOG_OK);
  assert_int_equal(seq.entry_count, b->n - first);
  vhdxlog_iter it;
  assert_int_equal(vhdxlog_iter_init(&it, &l, &seq), VHDXLOG_OK);
  uint8_t want[S], got[S];
  for (size_t i = first; i < b->n; i++) {
    const vtk_entry *e = &b->e[i];
    uint32_t dsec = vtk_desc_sectors(e->desc_count);
    uint32_t k = 0;
    for (uint32_t j = 0; j < e->desc_count; j++) {
      const vtk_desc *d = &e->descs[j];
      vhdxlog_descriptor r;
      memset(&r, 0, sizeof(r));
      vhdxlog_status st = vhdxlog_iter_next(&it, &r);
      if (st != VHDXLOG_OK)
        print_error("entry %zu descriptor %u: %s\n", i, j,
                    vhdxlog_status_name(st));
      assert_int_equal(st, VHDXLOG_OK);
      assert_int_equal(r.entry_offset, b->off[i]);
      assert_int_equal(r.index, j);
      assert_int_equal(r.file_offset, d->file_offset);
      assert_int_equal(r.sequence_number, e->sequence_number);
      if (d->kind == VTK_DATA) {
        assert_int_equal(r.kind, VHDXLOG_DESCRIPTOR_DATA);
        assert_int_equal(r.length, S);
        uint32_t sector = (b->off[i] / S + dsec + k) % NSEC;
        assert_int_equal(r.data_offset, sector * S);
        vtk_desc_sector(d, want);
        assert_memory_equal(r.leading, want, 8);
        assert_memory_equal(r.trailing, want + 4092, 4);
        memset(got, 0xEE, sizeof(got));
        vhdxlog_descriptor_sector(&l, &r, got);
        assert_memory_equal(got, want, S);
        k++;
      } else {
        assert_int_equal(r.kind, VHDXLOG_DESCRIPTOR_ZERO);
        assert_int_equal(r.length, d->zero_length);
      }
    }
  }
  vhdxlog_descriptor r;
  assert_int_equal(vhdxlog_iter_next(&it, &r), VHDXLOG_END);
  assert_int_equal(vhdxlog_iter_next(&it, &r), VHDXLOG_END);
}

static void test_iter_yields_descriptors_in_replay_order(void **state) {
  (void)state;
  vtk_desc d1[3] = {vtk_data(2u * VTK_MIB, 1), vtk_zero(3u * VTK_MIB, 65536),
                    vtk_data(2u * VTK_MIB, 2)};
  vtk_desc d3[2] = {vtk_zero(0, 4096), vtk_data(4096, 3)};
  built b;
  b.n = 3;
  b.e[0] = entry(10, d1, 3);
  b.e[1] = entry(11, NULL, 0); /* an entry without descriptors */
  b.e[2] = entry(12, d3, 2);
  build_run(&b, 4 * S, 4 * S);
  expect_iteration(&b, 0);
  free(b.log);
}

static void test_iter_crosses_descriptor_sectors_and_wraps(void **state) {
  (void)state;
  /* 300 descriptors: sectors of 126, 128, 46; every third one data */
  vtk_desc *d = calloc(300, sizeof(*d));
  for (uint32_t i = 0; i < 300; i++)
    d[i] = (i % 3 == 0) ? vtk_data(VTK_MIB * 8 + S * i, 1000 + i)
                        : vtk_zero(VTK_MIB * 9 + S * i, S * (i % 5));
  vtk_desc d1[1] = {vtk_data(5u * VTK_MIB, 7)};
  vtk_desc d4[3] = {vtk_data(6u * VTK_MIB, 8), vtk_zero(6u * VTK_MIB, 0),
                    vtk_data(6u * VTK_MIB + S, 9)};
  built b;
  b.n = 4;
  b.e[0] = entry(40, d1, 1);
  b.e[1] = entry(41, NULL, 0);
  b.e[2] = entry(42, d, 300); /* 3 + 100 sectors: wraps at the log end */
  b.e[3] = entry(43, d4, 3);
  build_run(&b, 200 * S, 200 * S);
  assert_true(b.off[3] < b.off[2]); /* the run really wrapped */
  expect_iteration(&b, 0);
  free(b.log);
  free(d);
}

static void test_iter_wraps_inside_descriptor_sectors(void **state) {
  (void)state;
  vtk_desc *d = calloc(260, sizeof(*d));
  for (uint32_t i = 0; i < 260; i++)
    d[i] = (i % 2) ? vtk_data(VTK_MIB * 8 + S * i, i) : vtk_zero(S * i, S);
  built b;
  b.n = 1;
  b.e[0] = entry(3, d, 260); /* 3 descriptor sectors from sector 254 */
  build_run(&b, 254 * S, 254 * S);
  expect_iteration(&b, 0);
  free(b.log);
  free(d);
}

static void test_iter_starts_at_head_tail(void **state) {
  (void)state;
  vtk_desc a[1] = {vtk_data(2u * VTK_MIB, 1)};
  vtk_desc c[2] = {vtk_data(2u * VTK_MIB, 2), vtk_zero(2u * VTK_MIB, S)};
  vtk_desc e3[1] = {vtk_data(3u * VTK_MIB, 3)};
  built b;
  b.n = 3;
  b.e[0] = entry(5, a, 1);
  b.e[1] = entry(6, c, 2);
  b.e[2] = entry(7, e3, 1);
  build_run(&b, 0, 0);
  /* rewrite the head with Tail = entry 6 */
  b.e[2].tail = b.off[1];
  vtk_log_write_entry(b.log, LOG_LEN, b.off[2], &b.e[2]);
  expect_iteration(&b, 1);
  free(b.log);
}

static void test_iter_ends_at_once_without_descriptors(void **state) {
  (void)state;
  built b;
  b.n = 2;
  b.e[0] = entry(1, NULL, 0);
  b.e[1] = entry(2, NULL, 0);
  build_run(&b, 0, 0);
  expect_iteration(&b, 0);
  free(b.log);
}

static void test_iter_reports_log_changed_after_search(void **state) {
  (void)state;
  vtk_desc a[2] = {vtk_data(2u * VTK_MIB, 1), vtk_data(2u * VTK_MIB + S, 2)};
  built b;
  b.n = 2;
  b.e[0] = entry(5, a, 2);
  b.e[1] = entry(6, a, 2);
  build_run(&b, 0, 0);
  vhdxlog_log l;
  ulog_init(&l, b.log, LOG_LEN, G);
  vhdxlog_sequence seq;
  vhdxlog_error err;
  assert_int_equal(vhdxlog_log_search(&l, &seq, &err), VHDXLOG_OK);
  /* the contract says the log stays unchanged; a broken promise must be
   * an error, not a bad write */
  vtk_entry_break(b.log, LOG_LEN, b.off[1], VTK_BREAK_DESC_SIGNATURE, 1, 1);
  vhdxlog_iter it;
  assert_int_equal(vhdxlog_iter_init(&it, &l, &seq), VHDXLOG_OK);
  vhdxlog_descriptor d;
  assert_int_equal(vhdxlog_iter_next(&it, &d), VHDXLOG_OK);
  assert_int_equal(vhdxlog_iter_next(&it, &d), VHDXLOG_OK);
  vhdxlog_status st = VHDXLOG_OK;
  for (int i = 0; i < 3 && st == VHDXLOG_OK; i++)
    st = vhdxlog_iter_next(&it, &d);
  assert_int_not_equal(st, VHDXLOG_OK);
  assert_int_not_equal(st, VHDXLOG_END);
  free(b.log);
}

static void test_iter_init_rejects_null_arguments(void **state) {
  (void)state;
  vhdxlog_iter it;
  vhdxlog_sequence seq;
  memset(&seq, 0, sizeof(seq));
  uint8_t *log = ulog_new(LOG_LEN);
  vhdxlog_log l;
  ulog_init(&l, log, LOG_LEN, G);
  assert_int_equal(vhdxlog_iter_init(NULL, &l, &seq), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_iter_init(&it, NULL, &seq), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_iter_init(&it, &l, NULL), VHDXLOG_E_ARGUMENT);
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_iter_yields_descriptors_in_replay_order),
      cmocka_unit_test(test_iter_crosses_descriptor_sectors_and_wraps),
      cmocka_unit_test(test_iter_wraps_inside_descriptor_sectors),
      cmocka_unit_test(test_iter_starts_at_head_tail),
      cmocka_unit_test(test_iter_ends_at_once_without_descriptors),
      cmocka_unit_test(test_iter_reports_log_changed_after_search),
      cmocka_unit_test(test_iter_init_rejects_null_arguments),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
