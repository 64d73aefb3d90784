/* SPDX-License-Identifier: MIT */
/* The loader over POSIX files: a dirty log is mapped, not read into a
 * buffer of LogLength bytes, so memory follows what the file holds; the
 * mapping shows exactly the file's bytes (data where written, zeros in
 * holes), however fragmented the file. */
#define _POSIX_C_SOURCE 200809L
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <errno.h>

#include "mem_file.h"
#include "sparse_image.h"
#include "vhdxlog_io.h"

#define BIG_LOG ((uint32_t)256 << 20)

/* Load `s` through the POSIX backend; the caller checks and frees. */
static vhdxlog_status load_posix(const sparse_image *s, vhdxlog_posix_file *f,
                                 vhdxlog_loaded *l, vhdxlog_error *err) {
  vhdxlog_io io;
  assert_int_equal(vhdxlog_posix_open(f, s->path, 0), 0);
  vhdxlog_posix_io(f, &io);
  return vhdxlog_load(&io, l, err);
}

/* The loaded log equals `expect` (log_length bytes). */
static void assert_log_is(const vhdxlog_loaded *l, const uint8_t *expect,
                          uint64_t log_length) {
  const uint64_t step = 1 << 20;
  uint64_t at;
  assert_non_null(l->log_bytes);
  for (at = 0; at < log_length; at += step)
    if (memcmp(l->log_bytes + at, expect + at, (size_t)step) != 0)
      fail_msg("log differs in the MiB at log offset %llu",
               (unsigned long long)at);
}

/* The file's log bytes as the test wrote them: the entry, then zeros. */
static uint8_t *expected_log(const sparse_image *s) {
  uint8_t *e = calloc(1, (size_t)s->log_length);
  int fd = open(s->path, O_RDONLY);
  assert_non_null(e);
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, e, 8192, (off_t)SP_MIB), 8192);
  assert_int_equal(close(fd), 0);
  return e;
}

/* Load `s` through the POSIX backend, check that the log shows `expect`,
 * then free `expect` and remove the file. */
static void expect_loaded_log(sparse_image *s, uint8_t *expect) {
  vhdxlog_posix_file f;
  vhdxlog_loaded l;
  vhdxlog_error err;
  assert_int_equal(load_posix(s, &f, &l, &err), VHDXLOG_OK);
  assert_log_is(&l, expect, s->log_length);
  vhdxlog_loaded_free(&l);
  assert_int_equal(vhdxlog_posix_close(&f), 0);
  free(expect);
  unlink(s->path);
}

static void test_load_sparse_big_log_costs_no_anonymous_memory(void **state) {
  sparse_image s;
  vhdxlog_posix_file f;
  vhdxlog_loaded l;
  vhdxlog_error err;
  uint64_t before, after;
  (void)state;

  sp_create(&s, BIG_LOG, 0);
  before = sp_rss_anon_kib();
  assert_int_equal(load_posix(&s, &f, &l, &err), VHDXLOG_OK);
  after = sp_rss_anon_kib();
  assert_true(l.plan.replay);
  /* The search read every sector of the 256 MiB log. Reading it through a
   * buffer costs 256 MiB; the mapping costs nothing for the holes. */
  if (after > before + 64 * 1024)
    fail_msg("RssAnon grew by %llu KiB loading a sparse 256 MiB log",
             (unsigned long long)(after - before));
  vhdxlog_loaded_free(&l);
  assert_int_equal(vhdxlog_posix_close(&f), 0);
  unlink(s.path);
}

/* Data at the first and last pages, across a 2 MiB boundary, and ranges
 * closer together than the mapping merges. */
static void test_load_mapped_log_shows_file_bytes(void **state) {
  sparse_image s;
  uint8_t *expect;
  (void)state;

  sp_create(&s, 64u << 20, 0);
  expect = expected_log(&s);
  sp_put(&s, (2u << 20) - 4096, 8192, 1, expect);
  sp_put(&s, (5u << 20) + 4096, 4096, 2, expect);
  sp_put(&s, (5u << 20) + 3 * 4096, 4096, 3, expect); /* small gap */
  sp_put(&s, (5u << 20) + (200u << 10), 4096, 4, expect);
  sp_put(&s, (64u << 20) - 4096, 4096, 5, expect); /* the last page */
  expect_loaded_log(&s, expect);
}

/* More data ranges than the mapping makes mappings for: the rest comes
 * from the file in one piece, and still reads right. */
static void test_load_mapped_log_of_fragmented_file(void **state) {
  sparse_image s;
  uint8_t *expect;
  uint32_t i;
  (void)state;

  sp_create(&s, 256u << 20, 0);
  expect = expected_log(&s);
  for (i = 1; i < 1500; i++)
    sp_put(&s, (uint64_t)i * (128u << 10), 4096, i, expect);
  expect_loaded_log(&s, expect);
}

/* The view API on its own: unaligned offsets and ranges past the end are
 * refused (the loader then reads instead). */
static void test_posix_map_refuses_bad_ranges(void **state) {
  sparse_image s;
  vhdxlog_posix_file f;
  vhdxlog_posix_view v;
  (void)state;

  sp_create(&s, 1u << 20, 0);
  assert_int_equal(vhdxlog_posix_open(&f, s.path, 0), 0);
  assert_int_equal(vhdxlog_posix_map(&f, 100, 4096, &v), -1);
  assert_int_equal(errno, EINVAL);
  assert_int_equal(vhdxlog_posix_map(&f, 0, s.file_size + 4096, &v), -1);
  assert_int_equal(errno, EINVAL);
  assert_int_equal(vhdxlog_posix_map(&f, 0, 0, &v), -1);
  assert_int_equal(vhdxlog_posix_map(&f, 0, s.file_size, &v), 0);
  assert_memory_equal(v.data, "vhdxfile", 8);
  vhdxlog_posix_unmap(&v);
  assert_null(v.data);
  assert_int_equal(vhdxlog_posix_close(&f), 0);
  unlink(s.path);
}

/* Any other vhdxlog_io still loads by reading (the memory backend). */
static void test_load_through_other_io_reads(void **state) {
  sparse_image s;
  vtk_mem_file mf;
  vhdxlog_io io;
  vhdxlog_loaded l;
  vhdxlog_error err;
  uint8_t *data;
  int fd;
  (void)state;

  sp_create(&s, 1u << 20, 0);
  data = malloc((size_t)s.file_size);
  assert_non_null(data);
  fd = open(s.path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, data, (size_t)s.file_size, 0),
                   (ssize_t)s.file_size);
  assert_int_equal(close(fd), 0);
  assert_int_equal(vtk_mem_open(&mf, data, (size_t)s.file_size, s.file_size),
                   0);
  vtk_mem_io(&mf, &io);
  assert_int_equal(vhdxlog_load(&io, &l, &err), VHDXLOG_OK);
  assert_memory_equal(l.log_bytes, data + SP_MIB, (size_t)s.log_length);
  vhdxlog_loaded_free(&l);
  vtk_mem_close(&mf);
  free(data);
  unlink(s.path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_sparse_big_log_costs_no_anonymous_memory),
      cmocka_unit_test(test_load_mapped_log_shows_file_bytes),
      cmocka_unit_test(test_load_mapped_log_of_fragmented_file),
      cmocka_unit_test(test_posix_map_refuses_bad_ranges),
      cmocka_unit_test(test_load_through_other_io_reads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
