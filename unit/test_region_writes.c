/* SPDX-License-Identifier: MIT */
/* Logged region-table updates (MS-VHDX 2.2.3: they go through the log;
 * docs/RULES.md "Plan" 2 and 4): replayed, judged on the replayed state
 * before any write, and convergent when a replay is cut or a table copy is
 * torn at 512-byte granularity. Expected bytes come from the testkit's
 * model (vtk_model_replay). */
#include "unit_mem.h"

#define S 4096u
#define TABLE_SECTORS (VTK_REGION_SIZE / S)
#define MAX_FILE (64u * VTK_MIB)

/* A dirty image whose single entry rewrites both region tables with those
 * of `next` (the metadata region moved to 4 MiB) plus one data sector. */
typedef struct rt_case {
  vtk_image img;
  vtk_image next;
  uint8_t guid[16];
  vtk_desc descs[2 * TABLE_SECTORS + 1];
  vtk_entry entry;
  vtk_image want; /* the testkit model's replay of img */
} rt_case;

/* c->img: the default image, 5 MiB, with c->entry in its log. */
static void rt_put_image(rt_case *c) {
  vtk_image_spec spec;
  vtk_image_spec_default(&spec);
  spec.file_size = 5u * VTK_MIB;
  vtk_image_build(&c->img, &spec);
  uint8_t *log = ulog_new(VTK_MIB);
  assert_true(vtk_log_write_entry(log, VTK_MIB, 0, &c->entry) > 0);
  vtk_image_put_log(&c->img, log, VTK_MIB, c->guid);
  free(log);
}

static void rt_build(rt_case *c, int copies) {
  memset(c, 0, sizeof(*c));
  vtk_guid(c->guid, 501);
  vtk_image_spec spec;
  vtk_image_spec_default(&spec);
  spec.file_size = 5u * VTK_MIB;
  spec.metadata_offset = 4u * VTK_MIB;
  vtk_image_build(&c->next, &spec);

  uint32_t n = 0;
  for (int t = 0; t < 2; t++) {
    if (!(copies & (1 << t)))
      continue;
    for (uint32_t k = 0; k < TABLE_SECTORS; k++) {
      vtk_desc *d = &c->descs[n++];
      *d = vtk_data(
          VTK_REGION1 + (uint64_t)t * VTK_REGION_SIZE + (uint64_t)k * S, 0);
      d->sector = vtk_region_table(&c->next, t) + (size_t)k * S;
    }
  }
  c->descs[n++] = vtk_data(2u * VTK_MIB + 3u * S, 9);
  c->entry =
      vtk_entry_make(12, 0, c->guid, 5u * VTK_MIB, 5u * VTK_MIB, c->descs, n);
  rt_put_image(c);
  vtk_model_replay(&c->img, &c->entry, 1, &c->want);
}

static void rt_free(rt_case *c) {
  vtk_image_free(&c->img);
  vtk_image_free(&c->next);
  vtk_image_free(&c->want);
}

/* cmocka fixtures: *state is an rt_case rewriting both copies, or copy 1
 * only. */
static void rt_build_both(rt_case *c) { rt_build(c, 3); }
static void rt_build_first(rt_case *c) { rt_build(c, 1); }
UNIT_FIXTURE(both_copies, rt_case, rt_build_both, rt_free)
UNIT_FIXTURE(copy_one, rt_case, rt_build_first, rt_free)

static vhdxlog_status replay_image(vtk_mem_file *f, int64_t fail_at,
                                   vhdxlog_error *err) {
  vhdxlog_replay_result res;
  f->fail_at_write = fail_at;
  vhdxlog_status st = unit_replay_mem(f, S, &res, err, NULL);
  f->fail_at_write = -1;
  return st;
}

/* Replay a copy of `from` into *f (left open): it must succeed and leave
 * c->want. */
static void replay_to_want(const rt_case *c, const vtk_image *from,
                           vtk_mem_file *f) {
  vhdxlog_error err;
  unit_mem_open(f, from, MAX_FILE);
  vhdxlog_status st = replay_image(f, -1, &err);
  if (st != VHDXLOG_OK)
    print_error("replay: %s at 0x%llx\n", vhdxlog_status_name(st),
                (unsigned long long)err.offset);
  assert_int_equal(st, VHDXLOG_OK);
  assert_bytes_equal(f->data, f->size, c->want.data, c->want.size, "replay");
}

static void expect_parsed_metadata_at(const uint8_t *data, uint64_t size,
                                      uint64_t offset) {
  vhdxlog_image img;
  vhdxlog_error err;
  assert_int_equal(vhdxlog_image_parse(data, (size_t)size, size, &img, &err),
                   VHDXLOG_OK);
  assert_int_equal(img.log_state, VHDXLOG_LOG_CLEAN);
  assert_int_equal(img.regions.metadata_offset, offset);
  assert_int_equal(img.regions.valid[0], 1);
  assert_int_equal(img.regions.valid[1], 1);
}

static void test_region_tables_rewritten_through_log(void **state) {
  rt_case *c = *state;
  vtk_mem_file f;
  replay_to_want(c, &c->img, &f);
  expect_parsed_metadata_at(f.data, f.size, 4u * VTK_MIB);
  vtk_mem_close(&f);
}

/* The plan judges the tables as the replay leaves them: the parse of the
 * dirty image still shows the old ones, the plan the new ones. */
static void test_plan_shows_replayed_region_tables(void **state) {
  rt_case *c = *state;
  vtk_mem_file f;
  unit_mem_open(&f, &c->img, MAX_FILE);
  vhdxlog_io io;
  vtk_mem_io(&f, &io);
  vhdxlog_loaded l;
  assert_int_equal(vhdxlog_load(&io, &l, NULL), VHDXLOG_OK);
  assert_int_equal(l.image.regions.metadata_offset, 3u * VTK_MIB);
  assert_int_equal(l.plan.regions.metadata_offset, 4u * VTK_MIB);
  /* The overlay of the tables equals what the replay writes. */
  uint8_t *view = malloc(2u * VTK_REGION_SIZE);
  assert_non_null(view);
  memcpy(view, c->img.data + VTK_REGION1, 2u * VTK_REGION_SIZE);
  assert_int_equal(vhdxlog_overlay_read(&l.plan, VTK_REGION1, view,
                                        2u * VTK_REGION_SIZE, NULL),
                   VHDXLOG_OK);
  assert_memory_equal(view, vtk_region_table(&c->next, 0), VTK_REGION_SIZE);
  assert_memory_equal(view + VTK_REGION_SIZE, vtk_region_table(&c->next, 1),
                      VTK_REGION_SIZE);
  free(view);
  vhdxlog_loaded_free(&l);
  vtk_mem_close(&f);
}

/* Both copies torn on disk (a replay cut while writing them), the log
 * intact: nothing on disk parses as a region table, yet the plan judges the
 * replayed state and the replay recovers them. */
static void test_torn_tables_recovered_from_log(void **state) {
  rt_case *c = *state;
  vtk_image torn;
  vtk_image_copy(&torn, &c->img);
  vtk_region_table(&torn, 0)[S + 7] ^= 1;
  vtk_region_table(&torn, 1)[9 * S + 700] ^= 1;
  vhdxlog_image img;
  vhdxlog_error err;
  assert_int_equal(
      vhdxlog_image_parse(torn.data, (size_t)torn.size, torn.size, &img, &err),
      VHDXLOG_OK);
  assert_int_equal(img.regions.error.status, VHDXLOG_E_NO_VALID_REGION_TABLE);
  vtk_mem_file f;
  replay_to_want(c, &torn, &f);
  vtk_mem_close(&f);
  vtk_image_free(&torn);
}

/* A log that would leave no valid table is refused before any write. */
static void test_replay_refused_when_replayed_tables_invalid(void **state) {
  rt_case *c = *state;
  /* the replayed copies: break the new tables' checksums */
  vtk_region_table(&c->next, 0)[100] ^= 1;
  vtk_region_table(&c->next, 1)[100] ^= 1;
  vtk_image_free(&c->img);
  rt_put_image(c);
  vtk_mem_file f;
  unit_mem_open(&f, &c->img, MAX_FILE);
  vhdxlog_error err;
  assert_int_equal(replay_image(&f, -1, &err), VHDXLOG_E_NO_VALID_REGION_TABLE);
  assert_int_equal(err.offset, VTK_REGION1);
  assert_int_equal(f.writes, 0);
  assert_memory_equal(f.data, c->img.data, (size_t)c->img.size);
  vtk_mem_close(&f);
}

/* One copy rewritten, the other left as it was: the replayed copy 1 is used
 * (valid), and the file is consistent with either. */
static void test_one_copy_rewritten(void **state) {
  rt_case *c = *state;
  vtk_mem_file f;
  replay_to_want(c, &c->img, &f);
  vhdxlog_error err;
  vhdxlog_image img;
  assert_int_equal(
      vhdxlog_image_parse(f.data, (size_t)f.size, f.size, &img, &err),
      VHDXLOG_OK);
  assert_int_equal(img.regions.used, 0);
  assert_int_equal(img.regions.metadata_offset, 4u * VTK_MIB);
  vtk_mem_close(&f);
}

/* Cut before each write: the re-run reaches the uninterrupted bytes. */
static void
test_region_replay_converges_after_cut_at_every_write(void **state) {
  rt_case *c = *state;
  vtk_mem_file f;
  vhdxlog_error err;
  replay_to_want(c, &c->img, &f);
  uint64_t total = f.writes;
  vtk_mem_close(&f);
  assert_true(total > 2 * TABLE_SECTORS);
  for (uint64_t k = 0; k < total; k++) {
    unit_mem_open(&f, &c->img, MAX_FILE);
    assert_int_equal(replay_image(&f, (int64_t)k, &err), VHDXLOG_E_IO);
    assert_int_equal(replay_image(&f, -1, &err), VHDXLOG_OK);
    assert_memory_equal(f.data, c->want.data, (size_t)c->want.size);
    vtk_mem_close(&f);
  }
}

/* Each table copy (and both) torn at 512-byte granularity: every piece
 * alone new, every piece alone old, and seeded random mixes. The headers
 * still name the log, so a re-run replays it and converges. */
static void torn_mix_converges(const rt_case *c, int copies,
                               const uint8_t *new_piece, uint32_t pieces) {
  const vtk_image *want = &c->want;
  vtk_image mid;
  vtk_image_copy(&mid, &c->img);
  for (int t = 0; t < 2; t++) {
    if (!(copies & (1 << t)))
      continue;
    uint64_t base = VTK_REGION1 + (uint64_t)t * VTK_REGION_SIZE;
    for (uint32_t p = 0; p < pieces; p++)
      if (new_piece[p])
        memcpy(mid.data + base + 512u * p, want->data + base + 512u * p, 512);
  }
  vtk_mem_file f;
  replay_to_want(c, &mid, &f);
  vtk_mem_close(&f);
  vtk_image_free(&mid);
}

static void test_region_tables_torn_at_512_bytes_converge(void **state) {
  enum { PIECES = VTK_REGION_SIZE / 512 };
  rt_case *c = *state;
  uint8_t mix[PIECES];
  for (int copies = 1; copies <= 3; copies++) {
    /* Every piece of the first sector (table header and first entries),
     * then every fourth: each sector of the table is torn somewhere. */
    for (uint32_t p = 0; p < PIECES; p += p < 8 ? 1 : 4) {
      memset(mix, 0, sizeof mix);
      mix[p] = 1; /* one piece new */
      torn_mix_converges(c, copies, mix, PIECES);
      memset(mix, 1, sizeof mix);
      mix[p] = 0; /* one piece old */
      torn_mix_converges(c, copies, mix, PIECES);
    }
    vtk_rng rng;
    vtk_rng_seed(&rng, 900 + (uint64_t)copies);
    for (int round = 0; round < 8; round++) {
      for (uint32_t p = 0; p < PIECES; p++)
        mix[p] = (uint8_t)(vtk_rng_next(&rng) & 1);
      torn_mix_converges(c, copies, mix, PIECES);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      unit_test_on(both_copies, test_region_tables_rewritten_through_log),
      unit_test_on(both_copies, test_plan_shows_replayed_region_tables),
      unit_test_on(both_copies, test_torn_tables_recovered_from_log),
      unit_test_on(both_copies,
                   test_replay_refused_when_replayed_tables_invalid),
      unit_test_on(copy_one, test_one_copy_rewritten),
      unit_test_on(both_copies,
                   test_region_replay_converges_after_cut_at_every_write),
      unit_test_on(both_copies, test_region_tables_torn_at_512_bytes_converge),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
