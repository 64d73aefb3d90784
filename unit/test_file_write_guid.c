/* SPDX-License-Identifier: MIT */
/* The FileWriteGuid a replay sets (docs/RULES.md "derive(L)"): the same for
 * the same LogGuid, so a re-run writes the same bytes, and a non-affine
 * function of all 128 bits, so two LogGuids cannot be built on purpose to
 * derive the same GUID. A CRC-based derivation fails both checks below. */
#include "unit_common.h"

static void random_guid(vtk_rng *r, uint8_t g[16]) {
  vtk_put_le64(g, vtk_rng_next(r));
  vtk_put_le64(g + 8, vtk_rng_next(r));
}

static void test_derive_matches_rules_transcription(void **state) {
  (void)state;
  vtk_rng r;
  vtk_rng_seed(&r, 1);
  for (int i = 0; i < 256; i++) {
    uint8_t l[16], a[16], b[16];
    random_guid(&r, l);
    vhdxlog_derive_file_write_guid(l, a);
    vtk_derive_file_write_guid(l, b);
    assert_memory_equal(a, b, 16);
    vhdxlog_derive_file_write_guid(l, l); /* output may alias the input */
    assert_memory_equal(l, a, 16);
    assert_int_equal(a[7] >> 4, 4);      /* RFC 4122 version 4 */
    assert_int_equal(a[8] & 0xC0, 0x80); /* variant 1 */
  }
}

/* An affine map f satisfies f(x) ^ f(y) ^ f(z) == f(x ^ y ^ z) for all
 * inputs (CRC is affine, and so are the version bits). */
static void test_derive_is_not_affine(void **state) {
  (void)state;
  vtk_rng r;
  vtk_rng_seed(&r, 2);
  for (int i = 0; i < 64; i++) {
    uint8_t x[16], y[16], z[16], w[16], fx[16], fy[16], fz[16], fw[16];
    random_guid(&r, x);
    random_guid(&r, y);
    random_guid(&r, z);
    for (int k = 0; k < 16; k++)
      w[k] = (uint8_t)(x[k] ^ y[k] ^ z[k]);
    vhdxlog_derive_file_write_guid(x, fx);
    vhdxlog_derive_file_write_guid(y, fy);
    vhdxlog_derive_file_write_guid(z, fz);
    vhdxlog_derive_file_write_guid(w, fw);
    int same = 1;
    for (int k = 0; k < 16; k++)
      same &= (uint8_t)(fx[k] ^ fy[k] ^ fz[k]) == fw[k];
    assert_false(same);
  }
}

/* Every 32-bit word depends on the input in its own way: no word is another
 * XOR a constant (the CRC derivation had words 1-3 = word 0 ^ c). */
static void test_derive_words_are_independent(void **state) {
  (void)state;
  vtk_rng r;
  vtk_rng_seed(&r, 3);
  uint8_t a[16], b[16], fa[16], fb[16];
  random_guid(&r, a);
  vhdxlog_derive_file_write_guid(a, fa);
  int independent[4] = {0, 0, 0, 0};
  for (int i = 0; i < 16; i++) {
    random_guid(&r, b);
    vhdxlog_derive_file_write_guid(b, fb);
    for (int w = 1; w < 4; w++) {
      uint32_t da = vtk_get_le32(fa + 4 * w) ^ vtk_get_le32(fa);
      uint32_t db = vtk_get_le32(fb + 4 * w) ^ vtk_get_le32(fb);
      independent[w] |= da != db;
    }
  }
  for (int w = 1; w < 4; w++)
    assert_true(independent[w]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_derive_matches_rules_transcription),
      cmocka_unit_test(test_derive_is_not_affine),
      cmocka_unit_test(test_derive_words_are_independent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
