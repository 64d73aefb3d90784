/* SPDX-License-Identifier: MIT */
/* The POSIX backend: holes of sparse files read as zeros into any buffer,
 * data lands where it belongs, a read past the end fails; zeroing never
 * allocates space for what already reads as zero; only regular files and
 * block devices open, and a FIFO never blocks the open. */
#define _GNU_SOURCE /* loop device ioctls */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/loop.h>
#endif

#include "sparse_image.h"
#include "vhdxlog_io.h"

#define MIB ((size_t)1 << 20) /* size_t: buffer sizes below */
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

static void sparse_create(sparse_file *s) {
  size_t i, k;
  int fd;
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
}

static void sparse_remove(sparse_file *s) {
  unlink(s->path);
  free(s->expected);
}

/* cmocka fixture: *state is the sparse file of sparse_create(). */
UNIT_FIXTURE(sparse, sparse_file, sparse_create, sparse_remove)

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

/* A file opened for reading refuses every change (EBADF), and a writable
 * one refuses a size or a write past the largest file offset (EFBIG); the
 * file stays as it was. */
static void test_posix_refuses_writes_read_only_or_past_max(void **state) {
  const sparse_file *s = *state;
  const uint64_t too_big = (uint64_t)1 << 63;
  static const uint8_t byte = 1;
  vhdxlog_posix_file f;
  vhdxlog_io io;
  uint64_t size = 0;
  for (int writable = 0; writable < 2; writable++) {
    int want = writable ? EFBIG : EBADF;
    assert_int_equal(vhdxlog_posix_open(&f, s->path, writable), 0);
    vhdxlog_posix_io(&f, &io);
    errno = 0;
    assert_int_equal(io.set_size(io.ctx, writable ? too_big : FILE_SIZE), -1);
    assert_int_equal(errno, want);
    errno = 0;
    assert_int_equal(io.write(io.ctx, writable ? too_big : 0, &byte, 1), -1);
    assert_int_equal(errno, want);
    errno = 0;
    assert_int_equal(io.write_zeros(io.ctx, writable ? too_big : 0, 4096), -1);
    assert_int_equal(errno, want);
    assert_int_equal(io.get_size(io.ctx, &size), 0);
    assert_int_equal(size, FILE_SIZE);
    assert_int_equal(vhdxlog_posix_close(&f), 0);
  }
}

/* --- zeroing and disk use ------------------------------------------------ */

/* A file of `size` bytes, a hole but for `data_len` pattern bytes at
 * `data_at`. */
static void make_holey(char path[64], uint64_t size, uint64_t data_at,
                       size_t data_len) {
  uint8_t *p = malloc(data_len);
  int fd;
  assert_non_null(p);
  vtk_pattern(p, data_len, 3);
  snprintf(path, 64, "/tmp/vhdxlog-zero-XXXXXX");
  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)size), 0);
  assert_int_equal(pwrite(fd, p, data_len, (off_t)data_at), (ssize_t)data_len);
  assert_int_equal(fsync(fd), 0);
  assert_int_equal(close(fd), 0);
  free(p);
}

static int range_reads_zero(const char *path, uint64_t at, size_t len) {
  uint8_t *p = malloc(len);
  int fd = open(path, O_RDONLY), ok;
  size_t i;
  assert_non_null(p);
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, p, len, (off_t)at), (ssize_t)len);
  assert_int_equal(close(fd), 0);
  for (i = 0; i < len && p[i] == 0; i++)
    ;
  ok = i == len;
  free(p);
  return ok;
}

static void zero_range(const char *path, uint64_t at, uint64_t len) {
  vhdxlog_posix_file f;
  vhdxlog_io io;
  assert_int_equal(vhdxlog_posix_open(&f, path, 1), 0);
  vhdxlog_posix_io(&f, &io);
  assert_int_equal(io.write_zeros(io.ctx, at, len), 0);
  assert_int_equal(io.flush(io.ctx), 0);
  assert_int_equal(vhdxlog_posix_close(&f), 0);
}

/* 256 MiB of hole, 1 MiB of data in it: zeroing all of it, and 256 MiB
 * past the end, leaves the data zeroed and the file no larger on disk
 * (the data's blocks may stay allocated: a fixed image keeps them). */
static void test_posix_write_zeros_allocates_nothing_over_holes(void **st) {
  char path[64];
  uint64_t before, after;
  (void)st;
  make_holey(path, 256 * MIB, 100 * MIB, MIB);
  before = sp_blocks(path);
  zero_range(path, 0, 512 * MIB);
  after = sp_blocks(path);
  assert_true(range_reads_zero(path, 100 * MIB, MIB));
  if (after > before)
    fail_msg("zeroing grew the file on disk: %llu -> %llu blocks",
             (unsigned long long)before, (unsigned long long)after);
  unlink(path);
}

/* Zeroing data keeps its blocks (never punches a hole). */
static void test_posix_write_zeros_keeps_data_blocks(void **st) {
  char path[64];
  uint64_t before, after;
  (void)st;
  make_holey(path, 8 * MIB, 2 * MIB, 2 * MIB);
  before = sp_blocks(path);
  zero_range(path, 2 * MIB + 4096, MIB);
  after = sp_blocks(path);
  assert_true(range_reads_zero(path, 2 * MIB + 4096, MIB));
  assert_false(range_reads_zero(path, 2 * MIB, 4096));
  assert_int_equal(after, before);
  unlink(path);
}

/* A whole replay: the log zeroes 512 MiB of hole inside the file and
 * writes one 4 KiB data sector. Disk use may grow by that sector and
 * metadata slack (the two header updates), never by the zeroed range. */
static void test_posix_replay_of_zeroed_hole_allocates_nothing(void **st) {
  sparse_image s;
  vhdxlog_posix_file f;
  vhdxlog_io io;
  vhdxlog_loaded l;
  vhdxlog_error err;
  vhdxlog_replay_result res;
  uint8_t *buf = malloc(MIB);
  uint64_t before, after;
  (void)st;
  assert_non_null(buf);
  sp_create(&s, (uint32_t)MIB, 512 * MIB);
  before = sp_blocks(s.path);
  assert_int_equal(vhdxlog_posix_open(&f, s.path, 1), 0);
  vhdxlog_posix_io(&f, &io);
  assert_int_equal(vhdxlog_load(&io, &l, &err), VHDXLOG_OK);
  assert_int_equal(vhdxlog_replay(&l.plan, &io, buf, MIB, &res, &err),
                   VHDXLOG_OK);
  assert_true(res.replayed);
  vhdxlog_loaded_free(&l);
  assert_int_equal(vhdxlog_posix_close(&f), 0);
  after = sp_blocks(s.path);
  /* 512-byte blocks: 4 KiB of data + 64 KiB of slack. */
  if (after > before + (4096 + 65536) / 512)
    fail_msg("replay grew the file on disk: %llu -> %llu KiB",
             (unsigned long long)before / 2, (unsigned long long)after / 2);
  free(buf);
  unlink(s.path);
}

/* --- what opens ---------------------------------------------------------- */

static void test_posix_open_fifo_is_refused_without_blocking(void **st) {
  char dir[] = "/tmp/vhdxlog-fifo-XXXXXX", path[64];
  vhdxlog_posix_file f;
  int w;
  (void)st;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/fifo", dir);
  assert_int_equal(mkfifo(path, 0600), 0);
  /* An open that waits for a writer would hang: end the test instead. */
  alarm(10);
  for (w = 0; w < 2; w++) {
    errno = 0;
    assert_int_equal(vhdxlog_posix_open(&f, path, w), -1);
    assert_int_equal(errno, ESPIPE);
    assert_non_null(f.reason);
    assert_int_equal(f.fd, -1);
  }
  alarm(0);
  unlink(path);
  rmdir(dir);
}

static void test_posix_open_refuses_directory_and_char_device(void **st) {
  vhdxlog_posix_file f;
  (void)st;
  assert_int_equal(vhdxlog_posix_open(&f, "/tmp", 0), -1);
  assert_int_equal(errno, EISDIR);
  assert_non_null(f.reason);
  assert_int_equal(vhdxlog_posix_open(&f, "/dev/null", 0), -1);
  assert_int_equal(errno, ENODEV);
  assert_non_null(f.reason);
  assert_int_equal(vhdxlog_posix_open(&f, "/dev/zero", 1), -1);
  assert_int_equal(errno, ENODEV);
}

/* A regular file is left in blocking mode (O_NONBLOCK only guards the
 * open). */
static void test_posix_open_leaves_file_blocking(void **state) {
  const sparse_file *s = *state;
  vhdxlog_posix_file f;
  assert_int_equal(vhdxlog_posix_open(&f, s->path, 0), 0);
  assert_null(f.reason);
  assert_int_equal(fcntl(f.fd, F_GETFL) & O_NONBLOCK, 0);
  assert_int_equal(vhdxlog_posix_close(&f), 0);
}

/* A block device (a loop device over an image file; skipped where loop
 * devices cannot be set up): its size is the device's, and it loads. */
static void test_posix_block_device_size_and_load(void **st) {
#if defined(__linux__) && defined(LOOP_CTL_GET_FREE)
  sparse_image s;
  char dev[32];
  vhdxlog_posix_file f;
  vhdxlog_io io;
  vhdxlog_loaded l;
  vhdxlog_error err;
  uint64_t size = 0;
  int ctl, n, lfd, ffd, bound = 0, tries;
  (void)st;
  sp_create(&s, (uint32_t)MIB, 0);
  ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) {
    unlink(s.path);
    skip();
  }
  ffd = open(s.path, O_RDWR | O_CLOEXEC);
  assert_true(ffd >= 0);
  for (tries = 0; tries < 8 && !bound; tries++) {
    n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0)
      break;
    snprintf(dev, sizeof dev, "/dev/loop%d", n);
    lfd = open(dev, O_RDWR | O_CLOEXEC);
    if (lfd < 0)
      break;
    if (ioctl(lfd, LOOP_SET_FD, ffd) == 0)
      bound = 1;
    (void)close(lfd);
  }
  (void)close(ctl);
  (void)close(ffd);
  if (!bound) {
    unlink(s.path);
    skip();
  }
  assert_int_equal(vhdxlog_posix_open(&f, dev, 0), 0);
  assert_true(f.is_block);
  vhdxlog_posix_io(&f, &io);
  assert_int_equal(io.get_size(io.ctx, &size), 0);
  assert_int_equal(size, s.file_size);
  assert_int_equal(vhdxlog_load(&io, &l, &err), VHDXLOG_OK);
  assert_true(l.plan.replay);
  vhdxlog_loaded_free(&l);
  assert_int_equal(vhdxlog_posix_close(&f), 0);
  lfd = open(dev, O_RDWR | O_CLOEXEC);
  if (lfd >= 0) {
    (void)ioctl(lfd, LOOP_CLR_FD, 0);
    (void)close(lfd);
  }
  unlink(s.path);
#else
  (void)st;
  skip();
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      unit_test_on(sparse, test_posix_read_whole_sparse_file),
      unit_test_on(sparse, test_posix_read_starting_and_ending_in_holes),
      unit_test_on(sparse, test_posix_read_starting_and_ending_in_data),
      unit_test_on(sparse, test_posix_read_small_across_data_and_hole),
      unit_test_on(sparse, test_posix_read_past_end_fails),
      unit_test_on(sparse, test_posix_refuses_writes_read_only_or_past_max),
      cmocka_unit_test(test_posix_write_zeros_allocates_nothing_over_holes),
      cmocka_unit_test(test_posix_write_zeros_keeps_data_blocks),
      cmocka_unit_test(test_posix_replay_of_zeroed_hole_allocates_nothing),
      cmocka_unit_test(test_posix_open_fifo_is_refused_without_blocking),
      cmocka_unit_test(test_posix_open_refuses_directory_and_char_device),
      unit_test_on(sparse, test_posix_open_leaves_file_blocking),
      cmocka_unit_test(test_posix_block_device_size_and_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
