/* SPDX-License-Identifier: MIT */
/* The API's caller contract: every public function refuses NULL and
 * out-of-range arguments with VHDXLOG_E_ARGUMENT, and a plan or sequence
 * that does not match its log yields an error and no write. */
#include "scenarios.h"
#include "unit_mem.h"

/* cmocka fixture: *state is scenario VTK_SC_SINGLE (dirty, one entry),
 * loaded from a memory file. */
static void single_load(unit_loaded *x) {
  vtk_scenario s;
  vtk_scenario_build(&s, VTK_SC_SINGLE);
  unit_load(x, &s.img, 64u * VTK_MIB);
  vtk_scenario_free(&s);
  assert_int_equal(x->l.plan.replay, 1);
}
UNIT_FIXTURE(single, unit_loaded, single_load, unit_unload)

static void test_contract_log_init_rejects_bad_arguments(void **state) {
  (void)state;
  static const uint8_t log[8192];
  static const uint8_t guid[16];
  vhdxlog_log ctx;
  assert_int_equal(vhdxlog_log_init(NULL, log, 8192, guid), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, NULL, 8192, guid),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, log, 8192, NULL), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, log, 0, guid), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, log, 4095, guid), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_init(&ctx, log, 8192, guid), VHDXLOG_OK);
}

static void test_contract_entry_and_search_reject_bad_arguments(void **state) {
  (void)state;
  static const uint8_t log[8192];
  static const uint8_t guid[16];
  vhdxlog_log ctx;
  vhdxlog_entry e;
  vhdxlog_sequence seq;
  vhdxlog_error err;
  assert_int_equal(vhdxlog_log_init(&ctx, log, sizeof log, guid), VHDXLOG_OK);
  assert_int_equal(vhdxlog_log_entry(NULL, 0, &e, &err), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_entry(&ctx, 100, &e, &err), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_entry(&ctx, 8192, &e, &err), VHDXLOG_E_ARGUMENT);
  assert_int_equal(err.status, VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_search(NULL, &seq, &err), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_log_search(&ctx, NULL, &err), VHDXLOG_E_ARGUMENT);
  /* An all-zero log holds no candidate at all. */
  assert_int_equal(vhdxlog_log_search(&ctx, &seq, &err),
                   VHDXLOG_E_LOG_NO_SEQUENCE);
  assert_int_equal(err.cause, VHDXLOG_E_LOG_NO_SEQUENCE);
}

static void test_contract_iter_rejects_bad_arguments(void **state) {
  unit_loaded *x = *state;
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  vhdxlog_sequence bad;
  assert_int_equal(vhdxlog_iter_init(NULL, &x->l.log, &x->l.plan.seq),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_iter_init(&it, NULL, &x->l.plan.seq),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_iter_init(&it, &x->l.log, NULL), VHDXLOG_E_ARGUMENT);
  bad = x->l.plan.seq;
  bad.tail_offset = 17;
  assert_int_equal(vhdxlog_iter_init(&it, &x->l.log, &bad), VHDXLOG_E_ARGUMENT);
  bad.tail_offset = x->l.log.length;
  assert_int_equal(vhdxlog_iter_init(&it, &x->l.log, &bad), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_iter_init(&it, &x->l.log, &x->l.plan.seq),
                   VHDXLOG_OK);
  assert_int_equal(vhdxlog_iter_next(NULL, &d), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_iter_next(&it, NULL), VHDXLOG_E_ARGUMENT);
  /* A sequence that promises more entries than follow the head. */
  bad = x->l.plan.seq;
  bad.entry_count += 1;
  assert_int_equal(vhdxlog_iter_init(&it, &x->l.log, &bad), VHDXLOG_OK);
  vhdxlog_status st;
  do {
    st = vhdxlog_iter_next(&it, &d);
  } while (st == VHDXLOG_OK);
  assert_int_not_equal(st, VHDXLOG_END);
}

static void test_contract_overlay_rejects_bad_arguments(void **state) {
  unit_loaded *x = *state;
  uint8_t buf[64];
  vhdxlog_error err;
  vhdxlog_plan p;
  assert_int_equal(vhdxlog_overlay_read(NULL, 0, buf, sizeof buf, &err),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_overlay_read(&x->l.plan, 0, NULL, 1, &err),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(
      vhdxlog_overlay_read(&x->l.plan, UINT64_MAX - 8, buf, sizeof buf, &err),
      VHDXLOG_E_ARGUMENT);
  p = x->l.plan;
  p.log = NULL;
  assert_int_equal(vhdxlog_overlay_read(&p, 0, buf, sizeof buf, &err),
                   VHDXLOG_E_ARGUMENT);
  p = x->l.plan;
  p.seq.tail_offset = 3;
  assert_int_not_equal(vhdxlog_overlay_read(&p, 0, buf, sizeof buf, &err),
                       VHDXLOG_OK);
  /* Empty reads are fine. */
  assert_int_equal(vhdxlog_overlay_read(&x->l.plan, 0, NULL, 0, &err),
                   VHDXLOG_OK);
}

static void test_contract_plan_init_rejects_bad_arguments(void **state) {
  unit_loaded *x = *state;
  vhdxlog_plan p;
  vhdxlog_image img;
  vhdxlog_log other;
  vhdxlog_error err;
  assert_int_equal(vhdxlog_plan_init(NULL, &x->l.image, &x->l.log, &err),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_plan_init(&p, NULL, &x->l.log, &err),
                   VHDXLOG_E_ARGUMENT);
  /* Dirty image without a log, or with a log of another GUID or length. */
  assert_int_equal(vhdxlog_plan_init(&p, &x->l.image, NULL, &err),
                   VHDXLOG_E_ARGUMENT);
  other = x->l.log;
  other.guid[0] ^= 1;
  assert_int_equal(vhdxlog_plan_init(&p, &x->l.image, &other, &err),
                   VHDXLOG_E_ARGUMENT);
  other = x->l.log;
  other.length -= VTK_MIB / 2;
  assert_int_equal(vhdxlog_plan_init(&p, &x->l.image, &other, &err),
                   VHDXLOG_E_ARGUMENT);
  img = x->l.image;
  img.current = 2;
  assert_int_equal(vhdxlog_plan_init(&p, &img, &x->l.log, &err),
                   VHDXLOG_E_ARGUMENT);
}

static int fail_io(void *ctx) {
  (void)ctx;
  return -1;
}

static int fail_size(void *ctx, uint64_t *size) {
  (void)ctx;
  (void)size;
  return -1;
}

/* Replay x's plan with a changed copy of its io or plan. */
static vhdxlog_status replay_io(unit_loaded *x, const vhdxlog_io *io) {
  uint8_t buf[8192];
  vhdxlog_replay_result res;
  vhdxlog_error err;
  return vhdxlog_replay(&x->l.plan, io, buf, sizeof buf, &res, &err);
}

static vhdxlog_status replay_plan(unit_loaded *x, const vhdxlog_plan *p) {
  uint8_t buf[8192];
  vhdxlog_replay_result res;
  vhdxlog_error err;
  return vhdxlog_replay(p, &x->io, buf, sizeof buf, &res, &err);
}

static void
test_contract_replay_rejects_bad_arguments_without_writing(void **state) {
  unit_loaded *x = *state;
  uint8_t buf[8192];
  vhdxlog_error err;
  vhdxlog_replay_result res;
  vhdxlog_io io;
  vhdxlog_plan p;
  assert_int_equal(vhdxlog_replay(NULL, &x->io, buf, sizeof buf, &res, &err),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(replay_io(x, NULL), VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_replay(&x->l.plan, &x->io, NULL, 0, &res, &err),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_replay(&x->l.plan, &x->io, buf, 100, &res, &err),
                   VHDXLOG_E_ARGUMENT);
  io = x->io;
  io.write_zeros = NULL;
  assert_int_equal(replay_io(x, &io), VHDXLOG_E_ARGUMENT);
  p = x->l.plan;
  p.log = NULL;
  assert_int_equal(replay_plan(x, &p), VHDXLOG_E_ARGUMENT);
  /* A failing size query or a sequence that does not match the log: an
   * error before the first write. */
  io = x->io;
  io.get_size = fail_size;
  assert_int_equal(replay_io(x, &io), VHDXLOG_E_IO);
  p = x->l.plan;
  p.seq.tail_offset = 4096;
  assert_int_not_equal(replay_plan(x, &p), VHDXLOG_OK);
  /* A flush that fails stops the replay with E_IO. */
  io = x->io;
  io.flush = fail_io;
  assert_int_equal(vhdxlog_replay(&x->l.plan, &io, buf, sizeof buf, NULL, &err),
                   VHDXLOG_E_IO);
}

static void
test_contract_replay_rejects_a_file_truncated_since_the_plan(void **state) {
  unit_loaded *x = *state;
  uint8_t buf[8192];
  vhdxlog_error err;
  vhdxlog_replay_result res;
  /* The file shrank after vhdxlog_load: the replay re-checks its size. */
  x->f.size = x->l.plan.seq.flushed_file_offset - 4096;
  assert_int_equal(
      vhdxlog_replay(&x->l.plan, &x->io, buf, sizeof buf, &res, &err),
      VHDXLOG_E_FILE_TRUNCATED);
  assert_int_equal(x->f.writes, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_contract_log_init_rejects_bad_arguments),
      cmocka_unit_test(test_contract_entry_and_search_reject_bad_arguments),
      unit_test_on(single, test_contract_iter_rejects_bad_arguments),
      unit_test_on(single, test_contract_overlay_rejects_bad_arguments),
      unit_test_on(single, test_contract_plan_init_rejects_bad_arguments),
      unit_test_on(single,
                   test_contract_replay_rejects_bad_arguments_without_writing),
      unit_test_on(
          single, test_contract_replay_rejects_a_file_truncated_since_the_plan),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
