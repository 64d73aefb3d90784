/* SPDX-License-Identifier: MIT */
/* Dirty images written as sparse files, for the io/ tests: a log far larger
 * than what the file holds, with data ranges placed by the test. */
#ifndef VHDXLOG_UNIT_SPARSE_IMAGE_H
#define VHDXLOG_UNIT_SPARSE_IMAGE_H

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "unit_common.h"

#define SP_MIB ((uint64_t)1 << 20)

typedef struct sparse_image {
  char path[64];
  uint64_t log_length;
  uint64_t file_size; /* 3 MiB + log + zero_tail */
  uint64_t zero_tail; /* bytes of hole after the regions */
  uint8_t guid[16];
} sparse_image;

/*
 * Create `path` (mkstemp) holding a dirty image: header area at 0, log at
 * 1 MiB (`log_length` bytes), BAT and metadata regions (1 MiB each) after
 * it, then `zero_tail` bytes of hole. The log holds one entry at offset 0,
 * sequence 1: a data descriptor into the BAT region and, when zero_tail > 0,
 * a zero descriptor over the whole tail. Everything else is a hole.
 */
static inline void sp_create(sparse_image *s, uint32_t log_length,
                             uint64_t zero_tail) {
  vtk_image_spec spec;
  vtk_image img;
  vtk_desc d[2];
  vtk_entry e;
  uint8_t *log = calloc(1, SP_MIB);
  uint32_t len;
  int fd;

  assert_non_null(log);
  memset(s, 0, sizeof *s);
  s->log_length = log_length;
  s->zero_tail = zero_tail;
  s->file_size = 3 * SP_MIB + log_length + zero_tail;
  vtk_guid(s->guid, 77);
  vtk_image_spec_default(&spec);
  spec.file_size = SP_MIB;
  spec.fill_seed = 0;
  spec.log_offset = SP_MIB;
  spec.log_length = log_length;
  memcpy(spec.log_guid, s->guid, 16);
  spec.bat_offset = SP_MIB + log_length;
  spec.bat_length = (uint32_t)SP_MIB;
  spec.metadata_offset = 2 * SP_MIB + log_length;
  spec.metadata_length = (uint32_t)SP_MIB;
  vtk_image_build(&img, &spec);

  memset(&e, 0, sizeof e);
  d[0] = vtk_data(spec.bat_offset, 5);
  d[1] = vtk_zero(3 * SP_MIB + log_length, zero_tail);
  e.sequence_number = 1;
  e.tail = 0;
  memcpy(e.log_guid, s->guid, 16);
  e.flushed_file_offset = s->file_size;
  e.last_file_offset = s->file_size;
  e.descs = d;
  e.desc_count = zero_tail > 0 ? 2 : 1;
  len = vtk_log_write_entry(log, (uint32_t)SP_MIB, 0, &e);
  assert_true(len > 0);

  snprintf(s->path, sizeof s->path, "/tmp/vhdxlog-sparse-XXXXXX");
  fd = mkstemp(s->path);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)s->file_size), 0);
  assert_int_equal(pwrite(fd, img.data, (size_t)SP_MIB, 0), (ssize_t)SP_MIB);
  assert_int_equal(pwrite(fd, log, len, (off_t)SP_MIB), (ssize_t)len);
  assert_int_equal(close(fd), 0);
  vtk_image_free(&img);
  free(log);
}

/* Write `size` pattern bytes (seed) at log offset `at`; `expect`, when not
 * NULL, gets the same bytes at the same offset. */
static inline void sp_put(const sparse_image *s, uint64_t at, size_t size,
                          uint32_t seed, uint8_t *expect) {
  uint8_t *p = malloc(size);
  int fd = open(s->path, O_WRONLY);
  assert_non_null(p);
  assert_true(fd >= 0);
  vtk_pattern(p, size, seed);
  assert_int_equal(pwrite(fd, p, size, (off_t)(SP_MIB + at)), (ssize_t)size);
  assert_int_equal(close(fd), 0);
  if (expect != NULL)
    memcpy(expect + at, p, size);
  free(p);
}

/* 512-byte blocks the file takes on disk. */
static inline uint64_t sp_blocks(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return (uint64_t)st.st_blocks;
}

/* This process's anonymous resident memory, in KiB (Linux), or 0. */
static inline uint64_t sp_rss_anon_kib(void) {
  char line[256];
  unsigned long long kib = 0;
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL)
    return 0;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "RssAnon: %llu kB", &kib) == 1)
      break;
  fclose(f);
  return (uint64_t)kib;
}

#endif
