/*
 * POSIX file backend: positioned reads and writes, never the whole file in
 * memory, 64-bit offsets on every platform (sparse multi-GiB images).
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* fallocate(), FALLOC_FL_ZERO_RANGE, F_OFD_SETLK */
#endif
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* pread, pwrite, ftruncate, fsync */
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64 /* 64-bit off_t on 32-bit glibc too */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "vhdxlog_io.h"

/* Every offset handed to the kernel must fit an off_t. The library bounds
 * offsets by 2^62, which a 64-bit off_t always holds; a platform whose off_t
 * stays 32-bit despite _FILE_OFFSET_BITS fails to compile here instead of
 * silently wrapping offsets. */
typedef char off_t_is_64_bit[sizeof(off_t) == 8 ? 1 : -1];
#define OFF_T_MAX ((uint64_t)INT64_MAX)

/* Zero buffer of the pwrite fallback: read-only, so no mutable state. */
#define ZERO_CHUNK ((size_t)1 << 20)
static const uint8_t zero_chunk[ZERO_CHUNK];

/* [offset, offset + size) lies within what off_t can address. */
static int range_ok(uint64_t offset, uint64_t size) {
  return offset <= OFF_T_MAX && size <= OFF_T_MAX - offset;
}

/* All of `size` bytes at `offset` with pread: retry on EINTR, continue
 * after short reads, fail on end of file (the caller asked for bytes that
 * are not there). */
static int pread_all(int fd, uint64_t offset, uint8_t *p, size_t size) {
  while (size > 0) {
    size_t chunk = size > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : size;
    ssize_t n = pread(fd, p, chunk, (off_t)offset);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0) {
      errno = EIO; /* short file */
      return -1;
    }
    p += n;
    offset += (uint64_t)n;
    size -= (size_t)n;
  }
  return 0;
}

/* Reads this large look for holes first (a QEMU-made log is mostly one):
 * reading a hole makes the kernel fill page cache with zeros and copy them
 * out, which cost most of the time of a replay with a 256 MiB log
 * (bench/README.md); a hole is zeroed in the buffer instead. */
#define HOLE_AWARE_MIN ((size_t)1 << 20)

/* Where the data at or after `pos` begins and ends, below `end`: 0 with
 * [*data, *hole) (*data == end: only a hole is left); -1 when the file
 * system cannot tell (then read everything). */
static int next_data(int fd, uint64_t pos, uint64_t end, uint64_t *data,
                     uint64_t *hole) {
#if defined(SEEK_DATA) && defined(SEEK_HOLE)
  off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
  off_t h;
  if (d < 0) {
    if (errno != ENXIO)
      return -1;
    *data = *hole = end; /* no data after pos (pos < end <= file size) */
    return 0;
  }
  h = lseek(fd, d, SEEK_HOLE);
  if (h < 0)
    return -1;
  *data = (uint64_t)d < end ? (uint64_t)d : end;
  *hole = (uint64_t)h < end ? (uint64_t)h : end;
  return 0;
#else
  (void)fd, (void)pos, (void)end, (void)data, (void)hole;
  return -1;
#endif
}

static int posix_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  vhdxlog_posix_file *f = ctx;
  uint8_t *p = buf;
  uint64_t pos = offset, end;
  struct stat st;

  if (!range_ok(offset, size)) {
    errno = EINVAL;
    return -1;
  }
  end = offset + size;
  if (size < HOLE_AWARE_MIN || fstat(f->fd, &st) != 0 || st.st_size < 0 ||
      (uint64_t)st.st_size < end)
    return pread_all(f->fd, offset, p, size); /* short file: EIO there */
  while (pos < end) {
    uint64_t data, hole;
    /* No progress (the file changing under us): plain reads decide. */
    if (next_data(f->fd, pos, end, &data, &hole) != 0 || data < pos ||
        hole <= pos)
      return pread_all(f->fd, pos, p + (pos - offset), (size_t)(end - pos));
    memset(p + (pos - offset), 0, (size_t)(data - pos));
    if (pread_all(f->fd, data, p + (data - offset), (size_t)(hole - data)) != 0)
      return -1;
    pos = hole;
  }
  return 0;
}

/* Write loop shared by write and the zero fallback. */
static int write_all(int fd, uint64_t offset, const uint8_t *p, size_t size) {
  while (size > 0) {
    size_t chunk = size > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : size;
    ssize_t n = pwrite(fd, p, chunk, (off_t)offset);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0) {
      errno = EIO; /* no progress: do not spin */
      return -1;
    }
    p += n;
    offset += (uint64_t)n;
    size -= (size_t)n;
  }
  return 0;
}

static int posix_write(void *ctx, uint64_t offset, const void *buf,
                       size_t size) {
  vhdxlog_posix_file *f = ctx;

  if (!f->writable) {
    errno = EBADF;
    return -1;
  }
  if (!range_ok(offset, size)) {
    errno = EFBIG;
    return -1;
  }
  if (write_all(f->fd, offset, buf, size) != 0)
    return -1;
  f->writes++;
  return 0;
}

static int file_size(int fd, uint64_t *size) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return -1;
  if (st.st_size < 0) {
    errno = EIO;
    return -1;
  }
  *size = (uint64_t)st.st_size;
  return 0;
}

static int truncate_to(int fd, uint64_t size) {
  for (;;) {
    if (ftruncate(fd, (off_t)size) == 0)
      return 0;
    if (errno != EINTR)
      return -1;
  }
}

/* Zero [offset, end) inside the file. FALLOC_FL_ZERO_RANGE writes no data
 * and keeps the blocks allocated; if the file system lacks it, pwrite zeros
 * in 1 MiB chunks. Never punches holes: a preallocated (fixed) image must
 * not lose its allocation to a replay. */
static int zero_inside(int fd, uint64_t offset, uint64_t end) {
  if (offset >= end)
    return 0;
#if defined(__linux__) && defined(FALLOC_FL_ZERO_RANGE)
  for (;;) {
    if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
                  (off_t)(end - offset)) == 0)
      return 0;
    if (errno != EINTR)
      break;
  }
  /* Unsupported here (file system, kernel): fall back. Any other error
   * (ENOSPC, EIO, EBADF...) is a real failure. */
  if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
    return -1;
#endif
  while (offset < end) {
    uint64_t left = end - offset;
    size_t chunk = left < ZERO_CHUNK ? (size_t)left : ZERO_CHUNK;
    if (write_all(fd, offset, zero_chunk, chunk) != 0)
      return -1;
    offset += chunk;
  }
  return 0;
}

/*
 * Zero [offset, offset + size): one call from the library's point of view,
 * never one write per 4 KiB. The part inside the file is zeroed in place;
 * the part past its end is made by extending the file, which reads as
 * zeros and stays sparse (a zero descriptor far past the end of a sparse
 * multi-GiB image allocates nothing).
 */
static int posix_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  vhdxlog_posix_file *f = ctx;
  uint64_t end, cur;

  if (!f->writable) {
    errno = EBADF;
    return -1;
  }
  if (!range_ok(offset, size)) {
    errno = EFBIG;
    return -1;
  }
  end = offset + size;
  if (size > 0) {
    if (file_size(f->fd, &cur) != 0)
      return -1;
    if (zero_inside(f->fd, offset, end < cur ? end : cur) != 0)
      return -1;
    if (end > cur && truncate_to(f->fd, end) != 0)
      return -1;
  }
  f->writes++;
  return 0;
}

static int posix_get_size(void *ctx, uint64_t *size) {
  vhdxlog_posix_file *f = ctx;
  return file_size(f->fd, size);
}

/* Grow only: a replay never shrinks a file (a smaller size is a no-op). */
static int posix_set_size(void *ctx, uint64_t size) {
  vhdxlog_posix_file *f = ctx;
  uint64_t cur;

  if (!f->writable) {
    errno = EBADF;
    return -1;
  }
  if (size > OFF_T_MAX) {
    errno = EFBIG;
    return -1;
  }
  if (file_size(f->fd, &cur) != 0)
    return -1;
  if (size > cur && truncate_to(f->fd, size) != 0)
    return -1;
  f->writes++;
  return 0;
}

static int posix_flush(void *ctx) {
  vhdxlog_posix_file *f = ctx;
  for (;;) {
    if (fsync(f->fd) == 0)
      break;
    if (errno != EINTR)
      return -1;
  }
  f->flushes++;
  return 0;
}

/*
 * A writer must be alone: an exclusive lock on the whole file, owned by the
 * open file description (F_OFD_SETLK) where the system has it, else a POSIX
 * record lock. QEMU holds byte-range locks on every image it has open, so
 * this also refuses an image a running VM (or qemu-img) is using, and QEMU
 * cannot open the image while a replay runs. A conflict fails with EBUSY; a
 * file system without locks (ENOLCK, EOPNOTSUPP) is used unlocked, as QEMU
 * does. Readers take no lock: inspecting an image in use is allowed.
 */
static int lock_for_writing(int fd) {
  struct flock l;
  int rc;
  memset(&l, 0, sizeof l);
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
#ifdef F_OFD_SETLK
  rc = fcntl(fd, F_OFD_SETLK, &l);
  if (rc != 0 && errno == EINVAL) /* a kernel without OFD locks */
    rc = fcntl(fd, F_SETLK, &l);
#else
  rc = fcntl(fd, F_SETLK, &l);
#endif
  if (rc == 0)
    return 0;
  if (errno == EAGAIN || errno == EACCES) {
    errno = EBUSY;
    return -1;
  }
  if (errno == ENOLCK || errno == EOPNOTSUPP)
    return 0;
  return -1;
}

int vhdxlog_posix_open(vhdxlog_posix_file *f, const char *path, int writable) {
  int fd;

  if (f == NULL || path == NULL) {
    errno = EINVAL;
    return -1;
  }
  memset(f, 0, sizeof *f);
  f->fd = -1;
  do {
    fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -1;
  if (writable && lock_for_writing(fd) != 0) {
    int saved = errno;
    (void)close(fd);
    errno = saved;
    return -1;
  }
  f->fd = fd;
  f->writable = writable ? 1 : 0;
  return 0;
}

int vhdxlog_posix_close(vhdxlog_posix_file *f) {
  int rc;

  if (f == NULL || f->fd < 0)
    return 0;
  /* No retry on EINTR: on Linux the descriptor is released either way. */
  rc = close(f->fd);
  f->fd = -1;
  return rc;
}

void vhdxlog_posix_io(vhdxlog_posix_file *f, vhdxlog_io *io) {
  io->ctx = f;
  io->read = posix_read;
  io->write = posix_write;
  io->write_zeros = posix_write_zeros;
  io->get_size = posix_get_size;
  io->set_size = posix_set_size;
  io->flush = posix_flush;
}
