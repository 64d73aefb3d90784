/* SPDX-License-Identifier: MIT */
/* The plan classifies an armed log from the validations its search makes
 * (one pass) instead of validating every candidate again: its result must be
 * what vhdxlog_log_classify_armed() finds on its own, on every log. */
#include "unit_common.h"

#define LOG_LEN VTK_MIB
#define SECTORS (LOG_LEN / VTK_SECTOR)
#define ROUNDS 3000

static void assert_same_armed(const vhdxlog_armed *a, const vhdxlog_armed *b) {
  assert_int_equal(a->kind, b->kind);
  assert_int_equal(a->candidates, b->candidates);
  assert_int_equal(a->torn, b->torn);
  assert_same_error(&a->decisive, &b->decisive);
  assert_int_equal(a->have_newest, b->have_newest);
  assert_int_equal(a->newest_sequence_number, b->newest_sequence_number);
  assert_same_error(&a->newest, &b->newest);
}

/* Entries of [zero, data, data] (3 sectors) at random sectors, overlapping
 * and wrapping at times, with random numbers and Tails; some broken in one
 * rule (checksum fixed or not), some of another log, some bare "loge". */
static void random_log(uint8_t *log, const uint8_t guid[16], vtk_rng *rng) {
  static const uint8_t other[16] = {9, 9, 9};
  uint32_t n = 1 + (uint32_t)(vtk_rng_next(rng) % 8), i, prev = 0;
  memset(log, 0, LOG_LEN);
  for (i = 0; i < n; i++) {
    uint32_t at = (uint32_t)(vtk_rng_next(rng) % SECTORS) * VTK_SECTOR;
    uint64_t r = vtk_rng_next(rng);
    vtk_desc d[3];
    d[0] = vtk_zero(3u * VTK_MIB, 8192);
    d[1] = vtk_data(2u * VTK_MIB, (uint32_t)r);
    d[2] = vtk_data(2u * VTK_MIB + VTK_SECTOR, (uint32_t)(r >> 8));
    uint32_t tail = (r >> 24) % 3 == 0 ? at
                    : (r >> 24) % 3 == 1
                        ? prev
                        : (uint32_t)((r >> 32) % SECTORS) * VTK_SECTOR;
    vtk_entry e = vtk_entry_make(1 + (r >> 16) % 6, tail,
                                 (r >> 40) % 8 == 0 ? other : guid,
                                 4u * VTK_MIB, 4u * VTK_MIB, d, 3);
    assert_true(vtk_log_write_entry(log, LOG_LEN, at, &e) > 0);
    if ((r >> 44) % 3 != 0) {
      const vtk_break_case *c =
          &vtk_break_cases[(r >> 48) % vtk_break_case_count];
      vtk_entry_break(log, LOG_LEN, at, c->what, c->index, (int)(r >> 56) & 1);
    }
    if ((r >> 60) == 0) /* a bare "loge" sector */
      memcpy(log + (size_t)((r >> 8) % SECTORS) * VTK_SECTOR, "loge", 4);
    prev = at;
  }
}

static void plan_armed_matches_classifier(void **state) {
  vtk_image_spec spec;
  vtk_image img;
  uint8_t *log = ulog_new(LOG_LEN);
  uint8_t guid[16];
  vtk_rng rng;
  unsigned kinds[VHDXLOG_ARMED_INCOMPLETE + 1] = {0}, round, k;
  (void)state;

  vtk_guid(guid, 0xA53u);
  vtk_rng_seed(&rng, 0x9A5Eu);
  vtk_image_spec_default(&spec);
  vtk_image_build(&img, &spec);
  for (round = 0; round < ROUNDS; round++) {
    unit_plan p;
    vhdxlog_armed alone;
    vhdxlog_sequence seq;
    vhdxlog_error err;

    random_log(log, guid, &rng);
    vtk_image_put_log(&img, log, LOG_LEN, guid);
    unit_plan_of(&p, &img, VHDXLOG_POLICY_FORCE_CLEAR);
    assert_int_equal(p.image.log_state, VHDXLOG_LOG_DIRTY);
    if (vhdxlog_log_search(&p.log, &seq, &err) == VHDXLOG_E_LOG_NO_SEQUENCE) {
      vhdxlog_log_classify_armed(&p.log, &alone);
      assert_same_armed(&p.plan.armed, &alone);
      kinds[p.plan.armed.kind]++;
    } else {
      assert_int_equal(p.plan.armed.kind, VHDXLOG_ARMED_NOT);
    }
  }
  /* The logs must reach every kind, not just find sequences. */
  for (k = VHDXLOG_ARMED_TORN; k <= VHDXLOG_ARMED_INCOMPLETE; k++)
    assert_true(kinds[k] > 20);
  vtk_image_free(&img);
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(plan_armed_matches_classifier),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
