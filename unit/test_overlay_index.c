/* SPDX-License-Identifier: MIT */
/* Indexed overlay (vhdxlog_overlay_read_indexed) == linear overlay
 * (vhdxlog_overlay_read) == the bytes vhdxlog_replay writes == the
 * testkit's model, over random reads, on the shared scenarios and on random
 * multi-entry logs whose zero and data writes overlap; and the replay's
 * merged write_zeros calls. */
#include "scenarios.h"
#include "unit_mem.h"

#define M ((uint64_t)VTK_MIB)

/* Loads `img` read-only, builds the index and compares both overlays with
 * `want` over every 4 KiB sector and `reads` random windows. */
static void check_indexed(const vtk_image *img, const vtk_image *want,
                          uint64_t seed, int reads) {
  unit_loaded x;
  vhdxlog_error err;
  vhdxlog_overlay_index index;
  vtk_rng rng;
  size_t need;
  void *scratch;
  uint8_t *a = malloc(3 * 65536), *b = malloc(3 * 65536);
  assert_non_null(a);
  assert_non_null(b);

  unit_load(&x, img, img->size);
  assert_int_equal(x.l.plan.replayed_size, want->size);

  need = vhdxlog_overlay_index_size(&x.l.plan);
  scratch = need > 0 ? malloc(need) : NULL;
  if (need > 0) {
    assert_non_null(scratch);
    /* one byte short of what the log's descriptors need: refused */
    assert_int_equal(
        vhdxlog_overlay_index_build(&x.l.plan, scratch, need - 1, &index, &err),
        VHDXLOG_E_ARGUMENT);
  }
  assert_int_equal(
      vhdxlog_overlay_index_build(&x.l.plan, scratch, need, &index, &err),
      VHDXLOG_OK);

  for (uint64_t off = 0; off < want->size; off += 4096) {
    unit_current_bytes(img, off, a, 4096);
    assert_int_equal(vhdxlog_overlay_read_indexed(&index, off, a, 4096, &err),
                     VHDXLOG_OK);
    assert_range_equal(a, want->data + (size_t)off, 4096, off, "indexed");
  }
  vtk_rng_seed(&rng, seed);
  for (int r = 0; r < reads; r++) {
    uint64_t off = vtk_rng_next(&rng) % (want->size + 8192);
    size_t size = (size_t)(vtk_rng_next(&rng) % (3 * 65536 + 1));
    if (r % 4 == 0) { /* aligned 4 KiB, the reader's usual request */
      off -= off % 4096;
      size = 4096;
    }
    unit_current_bytes(img, off, a, size);
    unit_current_bytes(img, off, b, size);
    assert_int_equal(vhdxlog_overlay_read_indexed(&index, off, a, size, &err),
                     VHDXLOG_OK);
    assert_int_equal(vhdxlog_overlay_read(&x.l.plan, off, b, size, &err),
                     VHDXLOG_OK);
    assert_memory_equal(a, b, size);
    if (off < want->size) {
      size_t n = want->size - off < size ? (size_t)(want->size - off) : size;
      assert_memory_equal(a, want->data + (size_t)off, n);
    }
  }
  assert_int_equal(x.f.writes, 0);
  free(scratch);
  free(a);
  free(b);
  unit_unload(&x);
}

/* Model, real replay, linear and indexed overlay all agree. */
static void check_all(const vtk_image *img, const vtk_entry *entries, size_t n,
                      uint64_t seed) {
  vtk_image want, got;
  vhdxlog_replay_result res;
  vtk_model_replay(img, entries, n, &want);
  unit_real_replay(img, 256u * VTK_MIB, &got, &res);
  assert_true(res.replayed);
  assert_bytes_equal(got.data, got.size, want.data, want.size, "replay");
  check_indexed(img, &want, seed, 300);
  vtk_image_free(&got);
  vtk_image_free(&want);
}

static void test_index_on_every_scenario(void **state) {
  (void)state;
  for (int which = 0; which < VTK_SC_COUNT; which++) {
    vtk_scenario s;
    vtk_scenario_build(&s, which);
    check_all(&s.img, s.active, s.n_active, 77 + (uint64_t)which);
    vtk_scenario_free(&s);
  }
}

static void test_index_of_clean_image_is_identity(void **state) {
  (void)state;
  vtk_image_spec spec;
  vtk_image img;
  unit_loaded x;
  vhdxlog_error err;
  vhdxlog_overlay_index index;
  vtk_image_spec_default(&spec);
  vtk_image_build(&img, &spec);
  unit_load(&x, &img, img.size);
  assert_int_equal(vhdxlog_overlay_index_size(&x.l.plan), 0);
  assert_int_equal(
      vhdxlog_overlay_index_build(&x.l.plan, NULL, 0, &index, &err),
      VHDXLOG_OK);
  unit_unload(&x);
  check_indexed(&img, &img, 5, 100);
  vtk_image_free(&img);
}

/* Random logs: up to 6 entries of up to 40 descriptors, writes crowded into
 * a few hundred KiB so that zero ranges and data sectors overlap a lot,
 * some zero-length zero descriptors, some writes growing the file. */
#define R_ENTRIES 6
#define R_DESCS 40

static void random_case(uint64_t seed) {
  vtk_image_spec spec;
  vtk_image img;
  vtk_rng rng;
  vtk_entry e[R_ENTRIES];
  vtk_desc d[R_ENTRIES][R_DESCS];
  uint8_t guid[16];
  uint8_t *log = calloc(1, VTK_MIB);
  size_t n;
  assert_non_null(log);
  vtk_rng_seed(&rng, seed);
  vtk_guid(guid, 7000 + (uint32_t)seed);
  vtk_image_spec_default(&spec);
  spec.fill_seed = 3 + (uint32_t)seed;
  vtk_image_build(&img, &spec);

  n = (size_t)(1 + vtk_rng_next(&rng) % R_ENTRIES);
  for (size_t i = 0; i < n; i++) {
    uint32_t count = (uint32_t)(vtk_rng_next(&rng) % (R_DESCS + 1));
    for (uint32_t k = 0; k < count; k++) {
      uint64_t area = vtk_rng_next(&rng) % 8 == 0 ? 4 * M : 2 * M;
      uint64_t off = area + (vtk_rng_next(&rng) % 96) * VTK_SECTOR;
      if (vtk_rng_next(&rng) % 2 == 0) {
        uint64_t len = (vtk_rng_next(&rng) % 12) * VTK_SECTOR;
        d[i][k] = vtk_zero(off, len);
      } else {
        d[i][k] = vtk_data(off, (uint32_t)(seed * 1000 + i * 64 + k));
      }
    }
    e[i] = vtk_entry_make(50 + i, 0, guid, 4 * M,
                          (4 + vtk_rng_next(&rng) % 3) * M, d[i], count);
  }
  vtk_log_write_run(log, VTK_MIB, 0, e, n);
  vtk_image_put_log(&img, log, VTK_MIB, guid);
  free(log);
  check_all(&img, e, n, seed);
  vtk_image_free(&img);
}

static void test_index_on_random_overlapping_logs(void **state) {
  (void)state;
  for (uint64_t seed = 1; seed <= 40; seed++)
    random_case(seed);
}

/* 1-sector entries of 126 zero descriptors over one area, the hostile
 * shape of bench/: the replay merges them into one write_zeros call, and a
 * data write after them, then a zero range after it, keep their order. */
static void test_replay_merges_zero_ranges(void **state) {
  (void)state;
  enum { ENTRIES = 8 };
  vtk_image_spec spec;
  vtk_image img, want, got;
  vtk_entry e[ENTRIES + 1];
  static vtk_desc d[ENTRIES + 1][VTK_DESC_FIRST];
  uint8_t guid[16];
  uint8_t *log = calloc(1, VTK_MIB);
  vhdxlog_replay_result res;
  assert_non_null(log);
  vtk_guid(guid, 8123);
  vtk_image_spec_default(&spec);
  vtk_image_build(&img, &spec);
  for (size_t i = 0; i < ENTRIES + 1; i++) {
    uint32_t count = VTK_DESC_FIRST;
    for (uint32_t k = 0; k < VTK_DESC_FIRST; k++)
      /* each 8 KiB, 4 KiB apart: every range overlaps the previous one;
       * the entries restart over the same 504 KiB */
      d[i][k] = vtk_zero(2 * M + (uint64_t)k * VTK_SECTOR, 2 * VTK_SECTOR);
    if (i == ENTRIES) { /* data over zeroed bytes, then zeros over it */
      d[i][0] = vtk_data(2 * M + 5 * VTK_SECTOR, 99);
      d[i][1] = vtk_data(2 * M + 9 * VTK_SECTOR, 98);
      d[i][2] = vtk_zero(2 * M + 9 * VTK_SECTOR, VTK_SECTOR);
      count = 3;
    }
    e[i] = vtk_entry_make(10 + i, 0, guid, 4 * M, 4 * M, d[i], count);
  }
  vtk_log_write_run(log, VTK_MIB, 0, e, ENTRIES + 1);
  vtk_image_put_log(&img, log, VTK_MIB, guid);
  free(log);
  vtk_model_replay(&img, e, ENTRIES + 1, &want);
  unit_real_replay(&img, 256u * VTK_MIB, &got, &res);
  assert_true(res.replayed);
  assert_bytes_equal(got.data, got.size, want.data, want.size, "replay");
  /* 3 header writes, 1 merged zero range, 1 data write, 1 data write,
   * 1 zero range: 1,011 descriptors, 7 calls. */
  assert_int_equal(res.writes, 7);
  check_indexed(&img, &want, 11, 200);
  vtk_image_free(&got);
  vtk_image_free(&want);
  vtk_image_free(&img);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_index_on_every_scenario),
      cmocka_unit_test(test_index_of_clean_image_is_identity),
      cmocka_unit_test(test_index_on_random_overlapping_logs),
      cmocka_unit_test(test_replay_merges_zero_ranges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
