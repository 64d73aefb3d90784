/* SPDX-License-Identifier: MIT */
/* CRC-32C: public function, portable and hardware paths against the
 * testkit's independent reference. */
#include "unit_common.h"

#include "crc32c.h"

/* The portable, dispatching and (if any) hardware paths all give the
 * testkit's bitwise reference. */
static void expect_paths_agree(uint32_t reg, const uint8_t *p, size_t len) {
  uint32_t want = vtk_crc32c_raw(reg, p, len);
  assert_int_equal(vhdxlog_crc32c_update_portable(reg, p, len), want);
  assert_int_equal(vhdxlog_crc32c_update(reg, p, len), want);
  if (vhdxlog_crc32c_hw_available())
    assert_int_equal(vhdxlog_crc32c_update_hw(reg, p, len), want);
}

static void test_crc32c_matches_check_value(void **state) {
  (void)state;
  assert_int_equal(vhdxlog_crc32c(0, "123456789", 9), 0xE3069283u);
}

static void test_crc32c_matches_rfc3720_vectors(void **state) {
  (void)state;
  uint8_t b[32];
  memset(b, 0, sizeof(b));
  assert_int_equal(vhdxlog_crc32c(0, b, 32), 0x8A9136AAu);
  memset(b, 0xFF, sizeof(b));
  assert_int_equal(vhdxlog_crc32c(0, b, 32), 0x62A8AB43u);
  for (int i = 0; i < 32; i++)
    b[i] = (uint8_t)i;
  assert_int_equal(vhdxlog_crc32c(0, b, 32), 0x46DD794Eu);
  for (int i = 0; i < 32; i++)
    b[i] = (uint8_t)(31 - i);
  assert_int_equal(vhdxlog_crc32c(0, b, 32), 0x113FDB5Cu);
}

static void test_crc32c_of_empty_input_is_identity(void **state) {
  (void)state;
  assert_int_equal(vhdxlog_crc32c(0, NULL, 0), 0u);
  assert_int_equal(vhdxlog_crc32c(0x12345678u, NULL, 0), 0x12345678u);
}

static void test_crc32c_chains_like_one_pass(void **state) {
  (void)state;
  uint8_t buf[1000];
  vtk_pattern(buf, sizeof(buf), 3);
  uint32_t whole = vhdxlog_crc32c(0, buf, sizeof(buf));
  for (size_t cut = 0; cut <= sizeof(buf); cut += 37)
    assert_int_equal(vhdxlog_crc32c(vhdxlog_crc32c(0, buf, cut), buf + cut,
                                    sizeof(buf) - cut),
                     whole);
}

static void test_crc32c_raw_register_relates_to_standard(void **state) {
  (void)state;
  assert_int_equal(~vhdxlog_crc32c_update(~0u, (const uint8_t *)"123456789", 9),
                   0xE3069283u);
  assert_int_equal(
      ~vhdxlog_crc32c_update_portable(~0u, (const uint8_t *)"123456789", 9),
      0xE3069283u);
}

/* Every length 0..300 at every alignment 0..7: the portable path, the
 * dispatching path and the hardware path (if any) equal the testkit's
 * bitwise reference. */
static void
test_crc32c_paths_agree_on_all_lengths_and_alignments(void **state) {
  (void)state;
  uint8_t *buf = malloc(300 + 16);
  assert_non_null(buf);
  vtk_rng r;
  vtk_rng_seed(&r, 99);
  for (size_t align = 0; align < 8; align++) {
    for (size_t len = 0; len <= 300; len++) {
      uint8_t *p = buf + align;
      for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)vtk_rng_next(&r);
      uint32_t reg = (uint32_t)vtk_rng_next(&r);
      expect_paths_agree(reg, p, len);
      assert_int_equal(vhdxlog_crc32c(reg, p, len), vtk_crc32c(reg, p, len));
    }
  }
  free(buf);
}

/* The hardware path splits long inputs into three interleaved streams
 * (blocks of 256 and 8192 bytes) joined by register shifts: every length
 * around those block boundaries, at odd alignments, must still give the
 * reference value (the join is exactly crc(A||B) = shift(crc(A)) ^ crc(B)). */
static void test_crc32c_paths_agree_around_stream_block_sizes(void **state) {
  (void)state;
  static const size_t base[] = {3 * 256, 2 * 3 * 256, 3 * 8192,
                                3 * 8192 + 3 * 256, 2 * 3 * 8192};
  size_t max = 2 * 3 * 8192 + 64;
  uint8_t *buf = malloc(max + 8);
  assert_non_null(buf);
  vtk_pattern(buf, max + 8, 77);
  vtk_rng r;
  vtk_rng_seed(&r, 78);
  for (size_t b = 0; b < sizeof(base) / sizeof(base[0]); b++) {
    for (size_t len = base[b] - 9; len <= base[b] + 17; len++) {
      size_t align = len % 8;
      expect_paths_agree((uint32_t)vtk_rng_next(&r), buf + align, len);
    }
  }
  free(buf);
}

static void test_crc32c_paths_agree_on_large_buffer(void **state) {
  (void)state;
  size_t n = 1u << 20;
  uint8_t *buf = malloc(n + 1);
  assert_non_null(buf);
  vtk_pattern(buf, n + 1, 17);
  expect_paths_agree(~0u, buf + 1, n);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc32c_matches_check_value),
      cmocka_unit_test(test_crc32c_matches_rfc3720_vectors),
      cmocka_unit_test(test_crc32c_of_empty_input_is_identity),
      cmocka_unit_test(test_crc32c_chains_like_one_pass),
      cmocka_unit_test(test_crc32c_raw_register_relates_to_standard),
      cmocka_unit_test(test_crc32c_paths_agree_on_all_lengths_and_alignments),
      cmocka_unit_test(test_crc32c_paths_agree_around_stream_block_sizes),
      cmocka_unit_test(test_crc32c_paths_agree_on_large_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
