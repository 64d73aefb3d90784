/* SPDX-License-Identifier: MIT */
/* The memory file of mem_file.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem_file.h"

int vtk_mem_open(vtk_mem_file *f, const uint8_t *data, size_t size,
                 uint64_t max_size) {
  if (f == NULL)
    return -1;
  memset(f, 0, sizeof *f);
  f->fail_at_write = -1;
  f->max_size = max_size;
  if ((uint64_t)size > max_size || (data == NULL && size > 0))
    return -1;
  /* Never malloc(0): keep data non-NULL so callers may always memcmp. */
  f->data = malloc(size > 0 ? size : 1);
  if (f->data == NULL)
    return -1;
  if (size > 0)
    memcpy(f->data, data, size);
  f->size = size;
  f->capacity = size;
  return 0;
}

void vtk_mem_close(vtk_mem_file *f) {
  if (f == NULL)
    return;
  free(f->data);
  f->data = NULL;
  f->size = 0;
  f->capacity = 0;
}

/* The crash point: once `writes` calls have succeeded, every mutating call
 * fails (and changes nothing). */
static int crashed(const vtk_mem_file *f) {
  return f->fail_at_write >= 0 && f->writes >= (uint64_t)f->fail_at_write;
}

/* Make room for `end` bytes; new bytes between size and end are zeroed.
 * On failure nothing changes. */
static int grow(vtk_mem_file *f, uint64_t end) {
  uint64_t cap;
  uint8_t *p;

  if (end <= f->size)
    return 0;
  if (end > f->max_size || end > (uint64_t)SIZE_MAX)
    return -1;
  if (end > f->capacity) {
    /* Double, within max_size and SIZE_MAX, so that many small appends
     * stay linear. */
    cap = f->capacity;
    cap = cap > UINT64_MAX / 2 ? UINT64_MAX : cap * 2;
    if (cap < end)
      cap = end;
    if (cap > f->max_size)
      cap = f->max_size;
    if (cap > (uint64_t)SIZE_MAX)
      cap = (uint64_t)SIZE_MAX;
    p = realloc(f->data, (size_t)cap);
    if (p == NULL)
      return -1;
    f->data = p;
    f->capacity = cap;
    f->zero_past_size = 0; /* the new bytes are undefined */
  }
  if (!f->zero_past_size)
    memset(f->data + (size_t)f->size, 0, (size_t)(end - f->size));
  f->size = end;
  return 0;
}

/* [offset, offset + size) as an end offset; -1 if the sum overflows. */
static int range_end(uint64_t offset, uint64_t size, uint64_t *end) {
  if (size > UINT64_MAX - offset)
    return -1;
  *end = offset + size;
  return 0;
}

static int mem_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  vtk_mem_file *f = ctx;
  uint64_t end;

  if (range_end(offset, size, &end) != 0 || end > f->size)
    return -1; /* reads past the end fail, like a short pread */
  if (size > 0)
    memcpy(buf, f->data + (size_t)offset, size);
  return 0;
}

static int mem_write(void *ctx, uint64_t offset, const void *buf, size_t size) {
  vtk_mem_file *f = ctx;
  uint64_t end;

  if (crashed(f) || range_end(offset, size, &end) != 0 || grow(f, end) != 0)
    return -1;
  if (size > 0)
    memcpy(f->data + (size_t)offset, buf, size);
  f->writes++;
  return 0;
}

static int mem_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  vtk_mem_file *f = ctx;
  uint64_t end;

  if (crashed(f) || range_end(offset, size, &end) != 0)
    return -1;
  if (size > 0) {
    /* Bytes past the old end come out of grow() zeroed already. */
    uint64_t old_size = f->size;
    if (grow(f, end) != 0)
      return -1;
    if (offset < old_size)
      memset(f->data + (size_t)offset, 0,
             (size_t)((end < old_size ? end : old_size) - offset));
  }
  f->writes++;
  return 0;
}

static int mem_get_size(void *ctx, uint64_t *size) {
  vtk_mem_file *f = ctx;
  *size = f->size;
  return 0;
}

/* Only ever grows: a smaller size is a successful no-op. */
static int mem_set_size(void *ctx, uint64_t size) {
  vtk_mem_file *f = ctx;

  if (crashed(f) || grow(f, size) != 0)
    return -1;
  f->writes++;
  return 0;
}

static int mem_flush(void *ctx) {
  vtk_mem_file *f = ctx;
  f->flushes++;
  return 0;
}

/* The callbacks in vhdxlog_io's field order (ctx is set per file). No two
 * callbacks share a type: a pointer in the wrong place is an
 * incompatible-pointer-types diagnostic (an error with -Werror). */
static const vhdxlog_io mem_calls = {
    NULL,         mem_read,     mem_write, mem_write_zeros,
    mem_get_size, mem_set_size, mem_flush};

void vtk_mem_io(vtk_mem_file *f, vhdxlog_io *io) {
  *io = mem_calls;
  io->ctx = f;
}
