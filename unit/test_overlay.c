/* SPDX-License-Identifier: MIT */
/* Read-only overlay: every range read through vhdxlog_overlay_read() equals
 * the image a replay would leave, and nothing is written. */
#include "scenarios.h"
#include "unit_mem.h"

/* Overlay [off, off + size) over the current bytes (zeros past the end). */
static void overlay(const vhdxlog_loaded *l, const vtk_image *cur, uint64_t off,
                    uint8_t *buf, size_t size) {
  unit_current_bytes(cur, off, buf, size);
  vhdxlog_error err;
  vhdxlog_status st = vhdxlog_overlay_read(&l->plan, off, buf, size, &err);
  if (st != VHDXLOG_OK)
    print_error("overlay [%llu, +%zu): %s\n", (unsigned long long)off, size,
                vhdxlog_status_name(st));
  assert_int_equal(st, VHDXLOG_OK);
}

static void check_overlay_equals_replay(const vtk_image *img,
                                        const vtk_image *want) {
  unit_loaded x;
  unit_load(&x, img, img->size);
  const vhdxlog_loaded *l = &x.l;
  assert_int_equal(l->plan.replayed_size, want->size);
  uint8_t buf[4096];
  for (uint64_t off = 0; off < want->size; off += 4096) {
    overlay(l, img, off, buf, sizeof(buf));
    assert_range_equal(buf, want->data + (size_t)off, 4096, off, "overlay");
  }
  /* unaligned ranges crossing sector, header and growth boundaries */
  static const uint64_t offs[] = {1,      4095,    65535,   65536 + 4000,
                                  131071, 1048575, 2097151, 4194303};
  static const size_t lens[] = {1, 2, 4097, 9000};
  uint8_t *big = malloc(9000);
  for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
    for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
      if (offs[i] + lens[j] > want->size)
        continue;
      overlay(l, img, offs[i], big, lens[j]);
      assert_memory_equal(big, want->data + (size_t)offs[i], lens[j]);
    }
  free(big);
  /* the whole replayed file in one call */
  uint8_t *all = malloc((size_t)want->size);
  overlay(l, img, 0, all, (size_t)want->size);
  assert_bytes_equal(all, want->size, want->data, want->size, "whole overlay");
  free(all);
  assert_int_equal(x.f.writes, 0);
  assert_bytes_equal(x.f.data, x.f.size, img->data, img->size,
                     "file untouched");
  unit_unload(&x);
}

/* The overlay of every scenario's dirty image equals the testkit model's
 * replay. */
static void test_overlay_scenario_equals_replay(void **state) {
  vtk_scenario s;
  vtk_scenario_build(&s, unit_scenario(state));
  vtk_image want;
  vtk_model_replay(&s.img, s.active, s.n_active, &want);
  check_overlay_equals_replay(&s.img, &want);
  vtk_image_free(&want);
  vtk_scenario_free(&s);
}

/* The overlay must equal what the real replay wrote, not only the model. */
static void test_overlay_equals_actual_replay(void **state) {
  const vtk_scenario *s = *state;
  vtk_image replayed;
  vhdxlog_replay_result res;
  unit_real_replay(&s->img, 64u * VTK_MIB, &replayed, &res);
  check_overlay_equals_replay(&s->img, &replayed);
  vtk_image_free(&replayed);
}

static void test_overlay_of_clean_image_is_identity(void **state) {
  (void)state;
  vtk_image img;
  vtk_image_build_default(&img);
  check_overlay_equals_replay(&img, &img);
  vtk_image_free(&img);
}

static void test_overlay_completes_interrupted_header_update(void **state) {
  (void)state;
  uint8_t L[16], F[16];
  static const uint8_t zero[16];
  vtk_guid(L, 56);
  vtk_derive_file_write_guid(L, F);
  vtk_image_spec spec;
  vtk_image img, want;
  vtk_image_spec_default(&spec);
  spec.header_seq[0] = 9;
  spec.header_seq[1] = 10;
  memcpy(spec.file_write_guid, F, 16);
  vtk_image_build(&img, &spec);
  vtk_header_set_log_guid(&img, 0, L);
  vtk_image_copy(&want, &img);
  vtk_header_update(vtk_header(&img, 1), F, zero, vtk_header(&want, 0));
  check_overlay_equals_replay(&img, &want);
  vtk_image_free(&want);
  vtk_image_free(&img);
}

int main(void) {
  static const struct CMUnitTest fixed[] = {
      unit_test_on_scenario(test_overlay_equals_actual_replay,
                            VTK_SC_WRAPPED_MULTI),
      cmocka_unit_test(test_overlay_of_clean_image_is_identity),
      cmocka_unit_test(test_overlay_completes_interrupted_header_update),
  };
  static const unit_family each[] = {
      {"test_overlay_scenario_equals_replay",
       test_overlay_scenario_equals_replay},
  };
  return unit_run(fixed, UNIT_COUNT(fixed), each, UNIT_COUNT(each), NULL, 0,
                  NULL);
}
