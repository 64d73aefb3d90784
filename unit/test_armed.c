/* SPDX-License-Identifier: MIT */
/* Armed logs (docs/RULES.md "Armed logs"): LogGuid set, no complete
 * sequence. What the candidates show decides between clearing the log and
 * refusing it; the policy can tighten or force that. Expected bytes come
 * from the testkit's own model (vtk_model_clear), never from the library. */
#include "unit_mem.h"

#define S 4096u
#define LOG_OFF VTK_MIB
#define LOG_LEN VTK_MIB
#define MAX_FILE (64u * VTK_MIB)

/* An image whose current header names `guid` and whose log is `log`. */
static void armed_image(vtk_image *img, const uint8_t *log,
                        const uint8_t guid[16]) {
  vtk_image_spec spec;
  vtk_image_spec_default(&spec);
  spec.fill_seed = 17;
  vtk_image_build(img, &spec);
  vtk_image_put_log(img, log, LOG_LEN, guid);
}

static uint8_t *new_log(void) { return ulog_new(LOG_LEN); }

/* A valid single entry at `off` (Tail = itself) with one data and one zero
 * descriptor. */
static void put_entry(uint8_t *log, uint32_t off, uint64_t seq,
                      const uint8_t guid[16]) {
  vtk_desc descs[2];
  descs[0] = vtk_data(2u * VTK_MIB + 8192, (uint32_t)seq);
  descs[1] = vtk_zero(3u * VTK_MIB, 8192);
  vtk_entry e =
      vtk_entry_make(seq, off, guid, 4u * VTK_MIB, 4u * VTK_MIB, descs, 2);
  assert_true(vtk_log_write_entry(log, LOG_LEN, off, &e) > 0);
}

/* Clear under `p`, check the bytes against the testkit's model and that the
 * result is clean and needs nothing more. */
static void expect_cleared(const vtk_image *img, vhdxlog_policy p) {
  unit_plan l;
  unit_plan_of(&l, img, p);
  if (l.status != VHDXLOG_OK)
    print_error(
        "plan: %s cause %s offset %llu\n", vhdxlog_status_name(l.status),
        vhdxlog_status_name(l.error.cause), (unsigned long long)l.error.offset);
  assert_int_equal(l.status, VHDXLOG_OK);
  assert_int_equal(l.plan.action, VHDXLOG_ACTION_CLEAR_ARMED);
  assert_int_equal(l.plan.replay, 0);

  vtk_image want;
  vtk_model_clear(img, &want);

  /* The overlay shows the cleared state without writing. */
  uint8_t *view = malloc(VTK_MIB);
  assert_non_null(view);
  memcpy(view, img->data, VTK_MIB);
  assert_int_equal(vhdxlog_overlay_read(&l.plan, 0, view, VTK_MIB, NULL),
                   VHDXLOG_OK);
  assert_memory_equal(view, want.data, VTK_MIB);
  free(view);

  vtk_mem_file f;
  unit_mem_open(&f, img, MAX_FILE);
  vhdxlog_io io;
  vtk_mem_io(&f, &io);
  uint8_t buf[S];
  vhdxlog_replay_result res;
  assert_int_equal(vhdxlog_replay(&l.plan, &io, buf, sizeof buf, &res, NULL),
                   VHDXLOG_OK);
  assert_int_equal(res.armed_cleared, 1);
  assert_int_equal(res.replayed, 0);
  assert_int_equal(res.writes, 2); /* two headers, no data */
  assert_int_equal(f.size, want.size);
  assert_memory_equal(f.data, want.data, (size_t)want.size);

  vtk_image after = {f.data, f.size};
  unit_plan again;
  unit_plan_of(&again, &after, VHDXLOG_POLICY_STRICT);
  assert_int_equal(again.status, VHDXLOG_OK);
  assert_int_equal(again.image.log_state, VHDXLOG_LOG_CLEAN);
  assert_int_equal(again.plan.action, VHDXLOG_ACTION_NONE);
  vtk_mem_close(&f);
  vtk_image_free(&want);
}

/* Refused under `p` with E_LOG_NO_SEQUENCE, nothing written. */
static void expect_refused(const vtk_image *img, vhdxlog_policy p,
                           vhdxlog_armed_kind kind) {
  unit_plan l;
  unit_plan_of(&l, img, p);
  assert_int_equal(l.status, VHDXLOG_E_LOG_NO_SEQUENCE);
  assert_int_equal(l.error.status, VHDXLOG_E_LOG_NO_SEQUENCE);
  if (p != VHDXLOG_POLICY_STRICT)
    assert_int_equal(l.plan.armed.kind, kind);
}

/* One armed log under test: its LogGuid, its log, the image made of them
 * and that image loaded under the default policy. */
typedef struct armed {
  uint8_t g[16];
  uint8_t *log;
  vtk_image img;
  unit_plan l;
} armed;

static void armed_begin(armed *a, uint32_t guid_seed) {
  vtk_guid(a->g, guid_seed);
  a->log = new_log();
}

/* The image of a->log, loaded under the default policy. */
static const vhdxlog_armed *armed_load(armed *a) {
  armed_image(&a->img, a->log, a->g);
  unit_plan_of(&a->l, &a->img, VHDXLOG_POLICY_DEFAULT);
  return &a->l.plan.armed;
}

static void armed_end(armed *a) {
  vtk_image_free(&a->img);
  free(a->log);
}

static void armed_zeros_begin(armed *a) { armed_begin(a, 1); }
/* cmocka fixture: *state is an armed log of zeros, not yet loaded. */
UNIT_FIXTURE(armed_zeros, armed, armed_zeros_begin, armed_end)

/* Damage: refused by default as `kind`, cleared when forced. */
static void expect_refused_unless_forced(const armed *a,
                                         vhdxlog_armed_kind kind) {
  expect_refused(&a->img, VHDXLOG_POLICY_DEFAULT, kind);
  expect_cleared(&a->img, VHDXLOG_POLICY_FORCE_CLEAR);
}

static void test_armed_log_of_zeros_is_cleared(void **state) {
  armed *a = *state;
  const vhdxlog_armed *r = armed_load(a);
  assert_int_equal(r->kind, VHDXLOG_ARMED_EMPTY);
  assert_int_equal(r->candidates, 0);
  assert_int_equal(r->have_newest, 0);
  expect_cleared(&a->img, VHDXLOG_POLICY_DEFAULT);
  expect_refused(&a->img, VHDXLOG_POLICY_STRICT, VHDXLOG_ARMED_EMPTY);
}

/* QEMU's commonest crash state: the log still holds the valid entries of
 * earlier LogGuids, none of the armed one. */
static void test_armed_log_with_older_guids_is_cleared(void **state) {
  armed *a = *state;
  uint8_t old[16];
  for (uint32_t k = 0; k < 4; k++) {
    vtk_guid(old, 100 + k);
    put_entry(a->log, k * 8192u, 1, old);
  }
  assert_int_equal(armed_load(a)->kind, VHDXLOG_ARMED_EMPTY);
  expect_cleared(&a->img, VHDXLOG_POLICY_DEFAULT);
}

/* A torn entry: its header sector is new, its data sector still holds an
 * older entry's (same position, same SequenceNumber 1, other bytes). */
static void test_armed_log_with_torn_entry_is_cleared(void **state) {
  armed *a = *state;
  uint8_t old[16];
  vtk_guid(old, 33);
  put_entry(a->log, 0, 1, old);
  a->log[S + 100] ^=
      0xFF; /* the older entry's data differ from the new one's */
  uint8_t *torn = new_log();
  put_entry(torn, 0, 1, a->g);
  memcpy(a->log, torn, S); /* only the header sector reached the disk */
  free(torn);
  const vhdxlog_armed *r = armed_load(a);
  assert_int_equal(r->kind, VHDXLOG_ARMED_TORN);
  assert_int_equal(r->candidates, 1);
  assert_int_equal(r->torn, 1);
  assert_int_equal(r->have_newest, 1);
  assert_int_equal(r->newest.offset, 0);
  assert_int_equal(r->newest_sequence_number, 1);
  assert_int_equal(r->newest.status, VHDXLOG_E_ENTRY_CHECKSUM);
  expect_cleared(&a->img, VHDXLOG_POLICY_DEFAULT);
  expect_refused(&a->img, VHDXLOG_POLICY_STRICT, VHDXLOG_ARMED_TORN);
}

/* Torn at 512-byte granularity inside the first sector: the header fields
 * are new, the descriptors behind them old. */
static void test_armed_log_torn_inside_first_sector_is_cleared(void **state) {
  (void)state;
  for (uint32_t cut = 512; cut < S; cut += 512) {
    armed a;
    armed_begin(&a, 4);
    vtk_pattern(a.log, S, 77); /* older bytes */
    uint8_t *fresh = new_log();
    put_entry(fresh, 0, 9, a.g);
    memcpy(a.log, fresh, cut);
    free(fresh);
    assert_int_equal(armed_load(&a)->kind, VHDXLOG_ARMED_TORN);
    armed_end(&a);
  }
}

/* Header fields no correct writer writes: damage, not a cut. */
static void test_armed_log_with_insane_header_is_refused(void **state) {
  (void)state;
  static const vtk_break insane[] = {
      VTK_BREAK_SEQUENCE_ZERO, VTK_BREAK_LENGTH_UNALIGNED,
      VTK_BREAK_LENGTH_TOO_BIG, VTK_BREAK_DESCRIPTOR_COUNT, VTK_BREAK_RESERVED};
  for (size_t i = 0; i < sizeof insane / sizeof insane[0]; i++) {
    armed a;
    armed_begin(&a, 5);
    put_entry(a.log, 8192, 4, a.g);
    assert_int_equal(vtk_entry_break(a.log, LOG_LEN, 8192, insane[i], 0, 1), 0);
    assert_int_equal(armed_load(&a)->decisive.offset, 8192);
    expect_refused_unless_forced(&a, VHDXLOG_ARMED_DAMAGED_HEADER);
    armed_end(&a);
  }
}

/* A checksum that matches an entry that breaks a rule: written that way. */
static void test_armed_log_with_checksummed_bad_entry_is_refused(void **state) {
  armed *a = *state;
  put_entry(a->log, 0, 4, a->g);
  assert_int_equal(
      vtk_entry_break(a->log, LOG_LEN, 0, VTK_BREAK_DESC_SIGNATURE, 1, 1), 0);
  const vhdxlog_armed *r = armed_load(a);
  assert_int_equal(r->decisive.status, VHDXLOG_E_DESCRIPTOR_SIGNATURE);
  assert_int_equal(r->decisive.index, 1);
  expect_refused_unless_forced(a, VHDXLOG_ARMED_DAMAGED_CHECKSUM);
}

/* A valid entry whose Tail points outside any run: no correct writer's cut
 * leaves a valid entry that is not part of a complete sequence. */
static void test_armed_log_with_incomplete_sequence_is_refused(void **state) {
  armed *a = *state;
  put_entry(a->log, 16384, 4, a->g);
  /* Tail -> 64 KiB, where nothing starts */
  vtk_put_le32(a->log + 16384 + 12, 65536);
  vtk_entry_fix_checksum(a->log, LOG_LEN, 16384);
  const vhdxlog_armed *r = armed_load(a);
  assert_int_equal(r->newest.status, VHDXLOG_OK);
  assert_int_equal(r->newest.offset, 16384);
  expect_refused_unless_forced(a, VHDXLOG_ARMED_INCOMPLETE);
}

/* The newest candidate (greatest SequenceNumber) is the one reported. */
static void test_armed_reports_newest_candidate(void **state) {
  (void)state;
  static const uint64_t seq[3] = {5, 9, 7};
  armed a;
  armed_begin(&a, 8);
  for (uint32_t k = 0; k < 3; k++) {
    put_entry(a.log, k * 8192u, seq[k], a.g);
    assert_int_equal(
        vtk_entry_break(a.log, LOG_LEN, k * 8192u, VTK_BREAK_CHECKSUM, 0, 0),
        0);
  }
  const vhdxlog_armed *r = armed_load(&a);
  assert_int_equal(r->kind, VHDXLOG_ARMED_TORN);
  assert_int_equal(r->candidates, 3);
  assert_int_equal(r->newest_sequence_number, 9);
  assert_int_equal(r->newest.offset, 8192);
  armed_end(&a);
}

/* A candidate whose span holds another "loge" sector: older bytes, so torn,
 * and its checksum is not computed (the spans computed stay disjoint). */
static void test_armed_candidate_over_other_entry_is_torn(void **state) {
  armed *a = *state;
  uint8_t old[16];
  vtk_guid(old, 99);
  put_entry(a->log, 0, 3, a->g);
  put_entry(a->log, 4096, 1, old); /* overwrites the data sector */
  const vhdxlog_armed *r = armed_load(a);
  assert_int_equal(r->kind, VHDXLOG_ARMED_TORN);
  assert_int_equal(r->candidates, 1);
}

/* A clear cut at every write, and each header write torn at 512 bytes,
 * re-runs to the uninterrupted result. */
static void test_armed_clear_converges_after_any_interruption(void **state) {
  (void)state;
  uint8_t g[16];
  vtk_guid(g, 10);
  uint8_t *log = new_log();
  vtk_image img, want;
  armed_image(&img, log, g);
  vtk_model_clear(&img, &want);
  for (int64_t k = 0; k < 2; k++) {
    for (uint32_t torn = 0; torn < VHDXLOG_HEADER_SIZE; torn += 512) {
      unit_plan l;
      unit_plan_of(&l, &img, VHDXLOG_POLICY_DEFAULT);
      assert_int_equal(l.status, VHDXLOG_OK);
      vtk_mem_file f;
      unit_mem_open(&f, &img, MAX_FILE);
      f.fail_at_write = k;
      vhdxlog_io io;
      vtk_mem_io(&f, &io);
      uint8_t buf[S];
      assert_int_equal(
          vhdxlog_replay(&l.plan, &io, buf, sizeof buf, NULL, NULL),
          VHDXLOG_E_IO);
      /* The k-th write reached the disk only in part. */
      int slot = k == 0 ? 1 - l.image.current : l.image.current;
      uint64_t at = slot == 0 ? VHDXLOG_HEADER1_OFFSET : VHDXLOG_HEADER2_OFFSET;
      memcpy(f.data + at, l.plan.final_headers[slot], torn);
      vtk_image mid = {f.data, f.size};
      unit_plan r;
      unit_plan_of(&r, &mid, VHDXLOG_POLICY_DEFAULT);
      assert_int_equal(r.status, VHDXLOG_OK);
      f.fail_at_write = -1;
      assert_int_equal(
          vhdxlog_replay(&r.plan, &io, buf, sizeof buf, NULL, NULL),
          VHDXLOG_OK);
      assert_memory_equal(f.data, want.data, (size_t)want.size);
      vtk_mem_close(&f);
    }
  }
  vtk_image_free(&want);
  vtk_image_free(&img);
  free(log);
}

/* Linear time: a log whose every sector is a candidate claiming the whole
 * log classifies in one pass (each span is computed at most once). The
 * test bounds the result, the bench times it. */
static void test_armed_every_sector_a_candidate(void **state) {
  (void)state;
  uint8_t g[16];
  vtk_guid(g, 11);
  uint8_t *log = new_log();
  for (uint32_t s = 0; s < LOG_LEN / S; s++) {
    vtk_entry_header_put(log + (size_t)s * S, LOG_LEN, 1 + s, g);
  }
  vhdxlog_log ctx;
  assert_int_equal(vhdxlog_log_init(&ctx, log, LOG_LEN, g), VHDXLOG_OK);
  vhdxlog_armed a;
  assert_int_equal(vhdxlog_log_classify_armed(&ctx, &a), VHDXLOG_ARMED_TORN);
  assert_int_equal(a.candidates, LOG_LEN / S);
  assert_int_equal(a.newest_sequence_number, LOG_LEN / S);
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      unit_test_on(armed_zeros, test_armed_log_of_zeros_is_cleared),
      unit_test_on(armed_zeros, test_armed_log_with_older_guids_is_cleared),
      unit_test_on(armed_zeros, test_armed_log_with_torn_entry_is_cleared),
      cmocka_unit_test(test_armed_log_torn_inside_first_sector_is_cleared),
      cmocka_unit_test(test_armed_log_with_insane_header_is_refused),
      unit_test_on(armed_zeros,
                   test_armed_log_with_checksummed_bad_entry_is_refused),
      unit_test_on(armed_zeros,
                   test_armed_log_with_incomplete_sequence_is_refused),
      cmocka_unit_test(test_armed_reports_newest_candidate),
      unit_test_on(armed_zeros, test_armed_candidate_over_other_entry_is_torn),
      cmocka_unit_test(test_armed_clear_converges_after_any_interruption),
      cmocka_unit_test(test_armed_every_sector_a_candidate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
