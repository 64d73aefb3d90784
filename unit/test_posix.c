/* The POSIX backend's reads: holes of sparse files read as zeros into any
 * buffer, data lands where it belongs, and a read past the end fails. */
#define _POSIX_C_SOURCE 200809L
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include "unit_common.h"
#include "vhdxlog_io.h"

#define MIB ((size_t)1 << 20)
#define FILE_SIZE (4 * MIB)

/* A sparse file of FILE_SIZE bytes: data (a byte pattern) in the ranges
 * below, holes elsewhere; `expected` gets the file's bytes. */
static const struct {
  size_t offset, length;
} data_ranges[] = {
    {0, 4096},                  /* at the start */
    {MIB + 4096, 3 * 4096},     /* inside the large reads */
    {2 * MIB - 4096, 2 * 4096}, /* across the 2 MiB mark */
    {FILE_SIZE - 4096, 4096},   /* at the end */
};

typedef struct sparse_file {
  char path[64];
  uint8_t *expected;
} sparse_file;

static int setup_sparse(void **state) {
  sparse_file *s = calloc(1, sizeof *s);
  size_t i, k;
  int fd;
  assert_non_null(s);
  s->expected = calloc(1, FILE_SIZE);
  assert_non_null(s->expected);
  snprintf(s->path, sizeof s->path, "/tmp/vhdxlog-posix-XXXXXX");
  fd = mkstemp(s->path);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)FILE_SIZE), 0);
  for (i = 0; i < sizeof data_ranges / sizeof data_ranges[0]; i++) {
    uint8_t *p = s->expected + data_ranges[i].offset;
    for (k = 0; k < data_ranges[i].length; k++)
      p[k] = (uint8_t)(0x40 + i + k * 7);
    assert_int_equal(
        pwrite(fd, p, data_ranges[i].length, (off_t)data_ranges[i].offset),
        (ssize_t)data_ranges[i].length);
  }
  assert_int_equal(close(fd), 0);
  *state = s;
  return 0;
}

static int teardown_sparse(void **state) {
  sparse_file *s = *state;
  unlink(s->path);
  free(s->expected);
  free(s);
  return 0;
}

/* Read [offset, offset + size) into a buffer full of 0xAA and compare. */
static void read_and_compare(const sparse_file *s, uint64_t offset,
                             size_t size) {
  vhdxlog_posix_file f;
  vhdxlog_io io;
  uint8_t *buf = malloc(size);
  assert_non_null(buf);
  memset(buf, 0xAA, size);
  assert_int_equal(vhdxlog_posix_open(&f, s->path, 0), 0);
  vhdxlog_posix_io(&f, &io);
  assert_int_equal(io.read(io.ctx, offset, buf, size), 0);
  assert_memory_equal(buf, s->expected + offset, size);
  assert_int_equal(vhdxlog_posix_close(&f), 0);
  free(buf);
}

static void test_posix_read_whole_sparse_file(void **state) {
  read_and_compare(*state, 0, FILE_SIZE);
}

static void test_posix_read_starting_and_ending_in_holes(void **state) {
  read_and_compare(*state, 8192, 2 * MIB);
}

static void test_posix_read_starting_and_ending_in_data(void **state) {
  read_and_compare(*state, MIB + 8192, MIB + 100);
}

static void test_posix_read_small_across_data_and_hole(void **state) {
  read_and_compare(*state, 4000, 200);
}

static void test_posix_read_past_end_fails(void **state) {
  const sparse_file *s = *state;
  vhdxlog_posix_file f;
  vhdxlog_io io;
  uint8_t *buf = malloc(2 * MIB);
  assert_non_null(buf);
  assert_int_equal(vhdxlog_posix_open(&f, s->path, 0), 0);
  vhdxlog_posix_io(&f, &io);
  assert_int_equal(io.read(io.ctx, FILE_SIZE - MIB, buf, 2 * MIB), -1);
  assert_int_equal(errno, EIO);
  assert_int_equal(io.read(io.ctx, FILE_SIZE - 10, buf, 20), -1);
  assert_int_equal(vhdxlog_posix_close(&f), 0);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_posix_read_whole_sparse_file,
                                      setup_sparse, teardown_sparse),
      cmocka_unit_test_setup_teardown(
          test_posix_read_starting_and_ending_in_holes, setup_sparse,
          teardown_sparse),
      cmocka_unit_test_setup_teardown(
          test_posix_read_starting_and_ending_in_data, setup_sparse,
          teardown_sparse),
      cmocka_unit_test_setup_teardown(
          test_posix_read_small_across_data_and_hole, setup_sparse,
          teardown_sparse),
      cmocka_unit_test_setup_teardown(test_posix_read_past_end_fails,
                                      setup_sparse, teardown_sparse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
