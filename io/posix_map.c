/* SPDX-License-Identifier: MIT */
/*
 * Read-only views of a POSIX file whose memory follows what the file holds:
 * a log region of up to 4 GiB that is mostly hole (a QEMU-made log, or a
 * hostile header claiming a huge log over a tiny file) must not cost its
 * LogLength in memory, as a buffer filled by reads does.
 *
 * The range is reserved (PROT_NONE), then covered piece by piece
 * (MAP_FIXED): the file's data ranges (SEEK_DATA/SEEK_HOLE) from the file,
 * so they come from the page cache, and its holes from one small zero
 * window (a memfd) mapped again and again, so that every hole shares the
 * same few MiB of memory. Anonymous memory would not do: some kernels
 * (this project's CI VM among them) give each page of an untouched private
 * mapping its own zeroed page when it is read, and mapping the file's
 * holes fills the page cache with zeros.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, MADV_HUGEPAGE */
#endif
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64 /* 64-bit off_t on 32-bit glibc too */
#endif

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "io_internal.h"
#include "vhdxlog_io.h"

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* The zero window: holes are mapped from it in pieces of at most this
 * size. Its memory is the whole cost of the holes of any view. */
#define ZERO_WINDOW ((uint64_t)8 << 20)

/* Data ranges closer than this share one file mapping (the hole between
 * them is read through the page cache): fewer mappings for fragmented
 * files. */
#define MERGE_GAP ((uint64_t)64 << 10)

/* At most this many mappings per view (a 4 GiB hole takes 512); past it
 * the rest of the range is mapped from the file in one piece. A file
 * fragmented on purpose then costs page cache for its holes (reclaimable,
 * shared, never anonymous memory) instead of exhausting the process's
 * mapping count (vm.max_map_count, 65530 by default). */
#define MAX_MAPS 4096

static uint64_t round_down(uint64_t x, uint64_t a) { return x - x % a; }

/* Reserve `size` bytes of address space; NULL with errno ENOMEM. */
static uint8_t *reserve(size_t size) {
  void *p = mmap(NULL, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    errno = ENOMEM;
    return NULL;
  }
  return p;
}

/* A file of ZERO_WINDOW zero bytes in memory, or -1 where the system has
 * no memfd (holes are then mapped from the image file itself). */
static int zero_window(void) {
#if defined(__linux__) && defined(MFD_CLOEXEC)
  int fd = memfd_create("vhdxlog-zero", MFD_CLOEXEC);
  if (fd < 0)
    return -1;
  if (ftruncate(fd, (off_t)ZERO_WINDOW) != 0) {
    (void)close(fd);
    return -1;
  }
  return fd;
#else
  return -1;
#endif
}

#ifndef MAP_POPULATE
#define MAP_POPULATE 0
#endif

/* Map `len` bytes of `fd` from `file_offset` (page-aligned) at `at`.
 * `flags`: MAP_POPULATE for the zero window, whose pages are all present:
 * setting up its page table entries at once costs less than one fault per
 * 64 KiB as the search walks a hole. */
static int map_at(uint8_t *at, uint64_t len, int fd, uint64_t file_offset,
                  int flags) {
  void *got = mmap(at, (size_t)len, PROT_READ, MAP_SHARED | MAP_FIXED | flags,
                   fd, (off_t)file_offset);
  return got == MAP_FAILED ? -1 : 0;
}

typedef struct cover {
  int fd, zfd; /* the image; the zero window or -1 */
  uint8_t *base;
  uint64_t offset, end; /* file range of base[0, end - offset) */
  int maps;
} cover;

/* Cover file range [a, b) with the image's bytes. */
static int cover_file(cover *c, uint64_t a, uint64_t b) {
  c->maps++;
  return map_at(c->base + (size_t)(a - c->offset), b - a, c->fd, a, 0);
}

/* Cover [a, b), a hole, with zeros. */
static int cover_zeros(cover *c, uint64_t a, uint64_t b) {
  if (c->zfd < 0)
    return cover_file(c, a, b);
  while (a < b) {
    uint64_t n = b - a < ZERO_WINDOW ? b - a : ZERO_WINDOW;
    if (map_at(c->base + (size_t)(a - c->offset), n, c->zfd, 0, MAP_POPULATE) !=
        0)
      return -1;
    c->maps++;
    a += n;
  }
  return 0;
}

/* Cover [c->offset, c->end) (page-aligned): holes with zeros, data (with
 * the holes of less than MERGE_GAP between) from the file. */
static int cover_range(cover *c, uint64_t page, uint64_t length) {
  const uint64_t limit = c->offset + length; /* what the file holds */
  uint64_t pos = c->offset;
  while (pos < c->end) {
    uint64_t data, hole, a, b;
    if (c->maps >= MAX_MAPS - 1 || pos >= limit ||
        vhdxlog_io_next_data(c->fd, pos, limit, &data, &hole) != 0)
      return cover_file(c, pos, c->end); /* the rest, from the file */
    if (data >= limit)
      return cover_zeros(c, pos, c->end);
    while (hole < limit) { /* merge data ranges with small holes between */
      uint64_t d2, h2;
      if (vhdxlog_io_next_data(c->fd, hole, limit, &d2, &h2) != 0) {
        hole = limit;
        break;
      }
      if (d2 >= limit || d2 - hole >= MERGE_GAP)
        break;
      hole = h2;
    }
    /* pos and c->end are page-aligned and pos <= data < hole <= c->end. */
    a = round_down(data, page);
    b = round_down(hole + page - 1, page);
    if (a > pos && cover_zeros(c, pos, a) != 0)
      return -1;
    if (cover_file(c, a, b) != 0)
      return -1;
    pos = b;
  }
  return 0;
}

int vhdxlog_posix_map(vhdxlog_posix_file *f, uint64_t offset, uint64_t length,
                      vhdxlog_posix_view *v) {
  long ps = sysconf(_SC_PAGESIZE);
  uint64_t page = ps > 0 ? (uint64_t)ps : 4096, fsize, size;
  cover c;
  int rc, saved;

  if (v != NULL)
    memset(v, 0, sizeof *v);
  if (f == NULL || v == NULL || f->fd < 0 || length == 0 ||
      offset % page != 0) {
    errno = EINVAL;
    return -1;
  }
  if (vhdxlog_io_file_size(f->fd, &fsize) != 0)
    return -1;
  if (offset > fsize || length > fsize - offset) {
    errno = EINVAL;
    return -1;
  }
  /* Whole pages; the last one may pass offset + length but not the
   * file's last page (a page wholly past the end of a file faults). */
  size = length % page == 0 ? length : length + (page - length % page);
  if (size > (uint64_t)SIZE_MAX) {
    errno = ENOMEM; /* a 32-bit address space */
    return -1;
  }
  memset(&c, 0, sizeof c);
  c.fd = f->fd;
  c.offset = offset;
  c.end = offset + size;
  c.base = reserve((size_t)size);
  if (c.base == NULL)
    return -1;
  c.zfd = zero_window();
  rc = cover_range(&c, page, length);
  saved = errno;
  if (c.zfd >= 0)
    (void)close(c.zfd); /* the mappings keep the window */
  if (rc != 0) {
    (void)munmap(c.base, (size_t)size);
    errno = saved;
    return -1;
  }
  v->data = c.base;
  v->length = length;
  v->base_ = c.base;
  v->size_ = (size_t)size;
  return 0;
}

void vhdxlog_posix_unmap(vhdxlog_posix_view *v) {
  if (v == NULL)
    return;
  if (v->base_ != NULL)
    (void)munmap(v->base_, v->size_);
  memset(v, 0, sizeof *v);
}
