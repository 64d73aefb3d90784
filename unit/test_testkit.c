/* SPDX-License-Identifier: MIT */
/* Self-checks of the testkit, using only its own code: if the builders were
 * wrong, every library test built on them would be meaningless. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vhdx_builder.h"

static void test_testkit_crc32c_known_vectors(void **state) {
  (void)state;
  uint8_t zeros[32] = {0};
  uint8_t ones[32];
  memset(ones, 0xFF, sizeof(ones));
  assert_int_equal(vtk_crc32c(0, "123456789", 9), 0xE3069283u);
  assert_int_equal(vtk_crc32c(0, zeros, 32), 0x8A9136AAu);
  assert_int_equal(vtk_crc32c(0, ones, 32), 0x62A8AB43u);
  assert_int_equal(vtk_crc32c(0, "", 0), 0u);
  /* chaining equals one pass */
  assert_int_equal(vtk_crc32c(vtk_crc32c(0, "1234", 4), "56789", 5),
                   0xE3069283u);
}

static void test_testkit_image_headers_and_regions_are_valid(void **state) {
  (void)state;
  vtk_image img;
  vtk_image_build_default(&img);
  assert_int_equal(img.size, 4u * VTK_MIB);
  assert_memory_equal(img.data, "vhdxfile", 8);
  assert_true(vtk_header_raw_valid(vtk_header(&img, 0)));
  assert_true(vtk_header_raw_valid(vtk_header(&img, 1)));
  assert_int_equal(vtk_image_current(&img), 1);
  for (int w = 0; w < 2; w++) {
    uint8_t *t = vtk_region_table(&img, w);
    uint32_t stored = vtk_get_le32(t + 4);
    memset(t + 4, 0, 4);
    assert_int_equal(vtk_crc32c(0, t, VTK_REGION_SIZE), stored);
    vtk_put_le32(t + 4, stored);
    assert_int_equal(vtk_get_le32(t + 8), 2);
    assert_memory_equal(t + 16, VTK_GUID_BAT, 16);
    assert_memory_equal(t + 48, VTK_GUID_METADATA, 16);
  }
  /* Breaking a field invalidates; re-checksumming repairs. */
  vtk_header(&img, 0)[100] ^= 1;
  assert_false(vtk_header_raw_valid(vtk_header(&img, 0)));
  vtk_header_fix_checksum(&img, 0);
  assert_true(vtk_header_raw_valid(vtk_header(&img, 0)));
  vtk_image_free(&img);
}

static void test_testkit_entry_has_valid_checksum_and_layout(void **state) {
  (void)state;
  uint32_t len = VTK_MIB;
  uint8_t *log = calloc(1, len);
  vtk_desc d[3];
  d[0] = vtk_zero(5u * VTK_MIB, 8192);
  d[1] = vtk_data(6u * VTK_MIB, 11);
  d[2] = vtk_data(6u * VTK_MIB + 4096, 12);
  uint8_t g[16];
  vtk_guid(g, 9);
  vtk_entry e = vtk_entry_make(0x0000000500000007ull, 8192, g, 4u * VTK_MIB,
                               8u * VTK_MIB, d, 3);
  assert_int_equal(vtk_entry_length(&e), 3 * 4096);
  assert_int_equal(vtk_log_write_entry(log, len, 8192, &e), 3 * 4096);
  assert_true(vtk_entry_crc_ok(log, len, 8192));
  const uint8_t *h = log + 8192;
  assert_memory_equal(h, "loge", 4);
  assert_int_equal(vtk_get_le32(h + 8), 3 * 4096);
  assert_int_equal(vtk_get_le32(h + 12), 8192);
  assert_int_equal(vtk_get_le64(h + 16), e.sequence_number);
  assert_int_equal(vtk_get_le32(h + 24), 3);
  assert_memory_equal(h + 64, "zero", 4);
  assert_memory_equal(h + 96, "desc", 4);
  assert_memory_equal(h + 128, "desc", 4);
  /* data sector 1 = entry sector 2: "data", seq halves, payload. */
  const uint8_t *ds = log + 8192 + 2 * 4096;
  uint8_t sector[4096];
  vtk_desc_sector(&d[2], sector);
  assert_memory_equal(ds, "data", 4);
  assert_int_equal(vtk_get_le32(ds + 4), 5);
  assert_int_equal(vtk_get_le32(ds + 4092), 7);
  assert_memory_equal(ds + 8, sector + 8, 4084);
  assert_memory_equal(h + 128 + 8, sector, 8);
  assert_memory_equal(h + 128 + 4, sector + 4092, 4);

  /* Every break makes the CRC-fixed entry still CRC-valid, the unfixed one
   * (except signature breaks with unchanged CRC input) not. */
  assert_int_equal(vtk_entry_break(log, len, 8192, VTK_BREAK_CHECKSUM, 0, 1),
                   0);
  assert_false(vtk_entry_crc_ok(log, len, 8192));
  vtk_entry_fix_checksum(log, len, 8192);
  assert_true(vtk_entry_crc_ok(log, len, 8192));
  assert_int_equal(
      vtk_entry_break(log, len, 8192, VTK_BREAK_DESC_RESERVED, 1, 1), -1);
  assert_int_equal(
      vtk_entry_break(log, len, 8192, VTK_BREAK_DESC_RESERVED, 0, 1), 0);
  assert_true(vtk_entry_crc_ok(log, len, 8192));
  free(log);
}

static void test_testkit_entry_wraps_at_log_end(void **state) {
  (void)state;
  uint32_t len = 64 * 1024;
  uint8_t *log = calloc(1, len);
  vtk_desc d[3] = {vtk_data(0x200000, 1), vtk_data(0x201000, 2),
                   vtk_data(0x202000, 3)};
  uint8_t g[16];
  vtk_guid(g, 1);
  vtk_entry e = vtk_entry_make(3, 0, g, 0, 0, d, 3);
  uint32_t off = len - 8192;
  assert_int_equal(vtk_log_write_entry(log, len, off, &e), 4 * 4096);
  assert_memory_equal(log + off, "loge", 4);
  assert_memory_equal(log + off + 4096, "data", 4);
  assert_memory_equal(log, "data", 4);
  assert_memory_equal(log + 4096, "data", 4);
  assert_true(vtk_entry_crc_ok(log, len, off));
  /* The CRC is over the wrapped order: a contiguous copy gives the same. */
  uint8_t *flat = malloc(4 * 4096);
  memcpy(flat, log + off, 8192);
  memcpy(flat + 8192, log, 8192);
  uint32_t stored = vtk_get_le32(flat + 4);
  memset(flat + 4, 0, 4);
  assert_int_equal(vtk_crc32c(0, flat, 4 * 4096), stored);
  free(flat);
  /* An entry longer than the log is refused. */
  vtk_desc many[16];
  for (int i = 0; i < 16; i++)
    many[i] = vtk_data(0x200000 + 4096u * (unsigned)i, (uint32_t)i);
  e.descs = many;
  e.desc_count = 16;
  assert_int_equal(vtk_log_write_entry(log, len, 0, &e), 0);
  free(log);
}

static void test_testkit_descriptor_sector_arithmetic(void **state) {
  (void)state;
  assert_int_equal(vtk_desc_sectors(0), 1);
  assert_int_equal(vtk_desc_sectors(126), 1);
  assert_int_equal(vtk_desc_sectors(127), 2);
  assert_int_equal(vtk_desc_sectors(254), 2);
  assert_int_equal(vtk_desc_sectors(255), 3);
  assert_int_equal(vtk_desc_sectors(0xFFFFFFFFu), 33554433u);
  assert_int_equal(vtk_desc_pos(0), 64);
  assert_int_equal(vtk_desc_pos(125), 64 + 32 * 125);
  assert_int_equal(vtk_desc_pos(126), 4096);
  assert_int_equal(vtk_desc_pos(253), 4096 + 32 * 127);
  assert_int_equal(vtk_desc_pos(254), 8192);
}

/* vtk_limit_cases are the rows at the end of vtk_break_cases that break
 * one of our 2^62 bounds, and no rule case is among them. */
static void test_testkit_limit_cases_are_the_table_tail(void **state) {
  (void)state;
  size_t i;
  assert_ptr_equal(vtk_limit_cases, vtk_break_cases + vtk_break_case_count);
  for (i = 0; i < vtk_break_case_count + vtk_limit_case_count; i++) {
    vtk_break w = vtk_break_cases[i].what;
    int limit = w == VTK_BREAK_FLUSHED_TOO_BIG || w == VTK_BREAK_LAST_TOO_BIG ||
                w == VTK_BREAK_DESC_OFFSET_TOO_BIG ||
                w == VTK_BREAK_DESC_OFFSET_OVERFLOW;
    if (limit != (i >= vtk_break_case_count))
      fail_msg("row %lu (%s) is on the wrong side", (unsigned long)i,
               vtk_break_cases[i].name);
  }
}

static void test_testkit_derived_guid_has_version_bits(void **state) {
  (void)state;
  uint8_t l[16], f[16], f2[16];
  vtk_guid(l, 42);
  vtk_derive_file_write_guid(l, f);
  vtk_derive_file_write_guid(l, f2);
  assert_memory_equal(f, f2, 16);
  assert_int_equal(f[7] >> 4, 4);
  assert_int_equal(f[8] >> 6, 2);
  vtk_derive_file_write_guid(VTK_DERIVE_KAT_IN, f);
  assert_memory_equal(f, VTK_DERIVE_KAT_OUT, 16);
}

static void
test_testkit_model_replay_applies_and_updates_headers(void **state) {
  (void)state;
  vtk_image_spec s;
  vtk_image img, out;
  vtk_image_spec_default(&s);
  vtk_image_build(&img, &s);
  uint8_t g[16];
  vtk_guid(g, 77);
  vtk_desc d[2] = {vtk_data(2u * VTK_MIB, 5), vtk_zero(3u * VTK_MIB, 8192)};
  vtk_entry e = vtk_entry_make(1, 0, g, 0, 6u * VTK_MIB, d, 2);
  uint8_t *log = calloc(1, VTK_MIB);
  vtk_log_write_entry(log, VTK_MIB, 0, &e);
  vtk_image_put_log(&img, log, VTK_MIB, g);
  assert_memory_equal(vtk_header(&img, 1) + 48, g, 16);
  assert_true(vtk_guid_is_zero(vtk_header(&img, 0) + 48));
  assert_memory_equal(img.data + VTK_MIB, log, VTK_MIB);

  vtk_model_replay(&img, &e, 1, &out);
  assert_int_equal(out.size, 6u * VTK_MIB);
  uint8_t sector[4096], zeros[8192] = {0};
  vtk_desc_sector(&d[0], sector);
  assert_memory_equal(out.data + 2u * VTK_MIB, sector, 4096);
  assert_memory_equal(out.data + 3u * VTK_MIB, zeros, 8192);
  uint8_t fwg[16];
  vtk_derive_file_write_guid(g, fwg);
  /* seq 2 was current: step 1 -> slot 0 (3), step 4 -> slot 1 (4), slot 0 (5)
   */
  assert_int_equal(vtk_get_le64(vtk_header(&out, 0) + 8), 5);
  assert_int_equal(vtk_get_le64(vtk_header(&out, 1) + 8), 4);
  for (int w = 0; w < 2; w++) {
    assert_true(vtk_header_raw_valid(vtk_header(&out, w)));
    assert_true(vtk_guid_is_zero(vtk_header(&out, w) + 48));
    assert_memory_equal(vtk_header(&out, w) + 16, fwg, 16);
  }
  vtk_image_free(&out);
  vtk_image_free(&img);
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_testkit_crc32c_known_vectors),
      cmocka_unit_test(test_testkit_image_headers_and_regions_are_valid),
      cmocka_unit_test(test_testkit_entry_has_valid_checksum_and_layout),
      cmocka_unit_test(test_testkit_entry_wraps_at_log_end),
      cmocka_unit_test(test_testkit_descriptor_sector_arithmetic),
      cmocka_unit_test(test_testkit_limit_cases_are_the_table_tail),
      cmocka_unit_test(test_testkit_derived_guid_has_version_bits),
      cmocka_unit_test(test_testkit_model_replay_applies_and_updates_headers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
