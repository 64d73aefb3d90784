/* SPDX-License-Identifier: MIT */
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
#if defined(__linux__)
#include <linux/fs.h> /* BLKGETSIZE64 */
#include <sys/ioctl.h>
#endif

#include "io_internal.h"
#include "vhdxlog_io.h"

/* Every offset handed to the kernel must fit an off_t. The library bounds
 * offsets by 2^62, which a 64-bit off_t always holds; a platform whose off_t
 * stays 32-bit despite _FILE_OFFSET_BITS fails to compile here instead of
 * silently wrapping offsets. */
typedef char off_t_is_64_bit[sizeof(off_t) == 8 ? 1 : -1];
#define OFF_T_MAX ((uint64_t)INT64_MAX)

/* Zero buffer of the pwrite fallback: read-only, so no mutable state. */
#define ZERO_CHUNK ((size_t)64 << 10)
static const uint8_t zero_chunk[ZERO_CHUNK];

/* [offset, offset + size) lies within what off_t can address. */
static int range_ok(uint64_t offset, uint64_t size) {
  return offset <= OFF_T_MAX && size <= OFF_T_MAX - offset;
}

/* All of `size` bytes at `offset`, read into `in` or written from `out`
 * (the other NULL): retry on EINTR, continue after short transfers, fail
 * on end of file or a write that makes no progress (the caller asked for
 * bytes that are not there; spinning would never end). */
static int transfer_all(int fd, uint64_t offset, uint8_t *in,
                        const uint8_t *out, size_t size) {
  size_t done = 0;
  /* Pointers are formed as p + done with done < size only: a buffer that
   * ends at the top of a 32-bit address space has no representable end. */
  while (done < size) {
    size_t left = size - done;
    size_t chunk = left > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : left;
    ssize_t n = in != NULL
                    ? pread(fd, in + done, chunk, (off_t)(offset + done))
                    : pwrite(fd, out + done, chunk, (off_t)(offset + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    done += (size_t)n;
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
 * system cannot tell, or the answer makes no progress (the file changing
 * under us): then the caller treats [pos, end) as data. */
int vhdxlog_io_next_data(int fd, uint64_t pos, uint64_t end, uint64_t *data,
                         uint64_t *hole) {
#if defined(SEEK_DATA) && defined(SEEK_HOLE)
  off_t d, h;
  if (pos > OFF_T_MAX || pos >= end)
    return -1;
  d = lseek(fd, (off_t)pos, SEEK_DATA);
  if (d < 0) {
    if (errno != ENXIO)
      return -1;
    *data = *hole = end; /* no data after pos (pos < end <= file size) */
    return 0;
  }
  if ((uint64_t)d < pos)
    return -1;
  if ((uint64_t)d >= end) {
    *data = *hole = end;
    return 0;
  }
  h = lseek(fd, d, SEEK_HOLE);
  if (h < 0 || h <= d)
    return -1;
  *data = (uint64_t)d;
  *hole = (uint64_t)h < end ? (uint64_t)h : end;
  return 0;
#else
  (void)fd, (void)pos, (void)end, (void)data, (void)hole;
  return -1;
#endif
}

int vhdxlog_io_file_size(int fd, uint64_t *size) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return -1;
  if (S_ISBLK(st.st_mode)) {
    /* st_size is 0 for a block device: ask the device. */
#if defined(__linux__) && defined(BLKGETSIZE64)
    uint64_t bytes = 0;
    if (ioctl(fd, BLKGETSIZE64, &bytes) != 0)
      return -1;
    *size = bytes;
    return 0;
#else
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0)
      return -1;
    *size = (uint64_t)end;
    return 0;
#endif
  }
  if (st.st_size < 0) {
    errno = EIO;
    return -1;
  }
  *size = (uint64_t)st.st_size;
  return 0;
}

static int posix_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  vhdxlog_posix_file *f = ctx;
  uint8_t *p = buf;
  uint64_t pos = offset, end, fsize;

  if (!range_ok(offset, size)) {
    errno = EINVAL;
    return -1;
  }
  end = offset + size;
  /* Small read or short file (EIO there): read as it is. */
  if (size < HOLE_AWARE_MIN || vhdxlog_io_file_size(f->fd, &fsize) != 0 ||
      fsize < end)
    return transfer_all(f->fd, offset, p, NULL, size);
  while (pos < end) {
    uint64_t data, hole;
    if (vhdxlog_io_next_data(f->fd, pos, end, &data, &hole) != 0)
      return transfer_all(f->fd, pos, p + (size_t)(pos - offset), NULL,
                          (size_t)(end - pos));
    memset(p + (size_t)(pos - offset), 0, (size_t)(data - pos));
    if (data < end && transfer_all(f->fd, data, p + (size_t)(data - offset),
                                   NULL, (size_t)(hole - data)) != 0)
      return -1;
    pos = data < end ? hole : end;
  }
  return 0;
}

/* A write to [offset, offset + size) is allowed: errno EBADF (opened
 * read-only) or EFBIG (past what off_t addresses) if not. */
static int may_write(const vhdxlog_posix_file *f, uint64_t offset,
                     uint64_t size) {
  if (!f->writable) {
    errno = EBADF;
    return 0;
  }
  if (!range_ok(offset, size)) {
    errno = EFBIG;
    return 0;
  }
  return 1;
}

static int posix_write(void *ctx, uint64_t offset, const void *buf,
                       size_t size) {
  vhdxlog_posix_file *f = ctx;

  if (!may_write(f, offset, size))
    return -1;
  if (transfer_all(f->fd, offset, NULL, buf, size) != 0)
    return -1;
  f->writes++;
  return 0;
}

/* Grow a regular file to `size` (its new bytes read as zeros and take no
 * space). A block device cannot grow: ENOSPC. */
static int grow_to(const vhdxlog_posix_file *f, uint64_t size) {
  if (f->is_block) {
    errno = ENOSPC;
    return -1;
  }
  for (;;) {
    if (ftruncate(f->fd, (off_t)size) == 0)
      return 0;
    if (errno != EINTR)
      return -1;
  }
}

/* Is the 4 KiB (or shorter) block all zero? */
static int all_zero(const uint8_t *p, size_t n) {
  return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Zero [offset, end) by writing, only over 4 KiB blocks that do not
 * already read as zero: where the file system cannot say where its holes
 * are, writing zeros over them would allocate space for nothing. */
#define ZERO_BLOCK ((size_t)4096)
static int zero_by_writing(int fd, uint64_t offset, uint64_t end) {
  uint8_t buf[ZERO_CHUNK];
  while (offset < end) {
    uint64_t left = end - offset;
    size_t chunk = left < ZERO_CHUNK ? (size_t)left : ZERO_CHUNK;
    size_t k = 0, run = 0; /* [run, k): non-zero blocks not yet written */
    if (transfer_all(fd, offset, buf, NULL, chunk) != 0)
      return -1;
    while (k < chunk) {
      size_t n = chunk - k < ZERO_BLOCK ? chunk - k : ZERO_BLOCK;
      if (all_zero(buf + k, n)) {
        if (k > run &&
            transfer_all(fd, offset + run, NULL, zero_chunk, k - run) != 0)
          return -1;
        run = k + n;
      }
      k += n;
    }
    if (k > run &&
        transfer_all(fd, offset + run, NULL, zero_chunk, k - run) != 0)
      return -1;
    offset += chunk;
  }
  return 0;
}

/* Zero a range the file system reports as data. FALLOC_FL_ZERO_RANGE
 * writes no data, and over blocks that are already allocated it allocates
 * nothing; it never punches holes either, so a preallocated (fixed) image
 * keeps its allocation. Without it (tmpfs, older kernels), write. */
static int zero_data(int fd, uint64_t offset, uint64_t end) {
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
  if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL &&
      errno != ENODEV)
    return -1;
#endif
  return zero_by_writing(fd, offset, end);
}

/* Zero [offset, end) inside the file without allocating space for what
 * already reads as zero: holes are skipped, data ranges zeroed in place. */
static int zero_inside(int fd, uint64_t offset, uint64_t end) {
  while (offset < end) {
    uint64_t data, hole;
    if (vhdxlog_io_next_data(fd, offset, end, &data, &hole) != 0)
      return zero_by_writing(fd, offset, end); /* holes unknown */
    if (data >= end)
      return 0;
    if (zero_data(fd, data, hole) != 0)
      return -1;
    offset = hole;
  }
  return 0;
}

/*
 * Zero [offset, offset + size): one call from the library's point of view,
 * never one write per 4 KiB. The part inside the file is zeroed in place
 * (zero_inside); the part past its end is made by extending the file,
 * which reads as zeros and stays sparse (a zero descriptor far past the end
 * of a sparse multi-GiB image allocates nothing).
 */
static int posix_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  vhdxlog_posix_file *f = ctx;
  uint64_t end, cur;

  if (!may_write(f, offset, size))
    return -1;
  end = offset + size;
  if (size > 0) {
    if (vhdxlog_io_file_size(f->fd, &cur) != 0)
      return -1;
    if (zero_inside(f->fd, offset, end < cur ? end : cur) != 0)
      return -1;
    if (end > cur && grow_to(f, end) != 0)
      return -1;
  }
  f->writes++;
  return 0;
}

static int posix_get_size(void *ctx, uint64_t *size) {
  vhdxlog_posix_file *f = ctx;
  return vhdxlog_io_file_size(f->fd, size);
}

/* Grow only: a replay never shrinks a file (a smaller size is a no-op). */
static int posix_set_size(void *ctx, uint64_t size) {
  vhdxlog_posix_file *f = ctx;
  uint64_t cur;

  if (!may_write(f, size, 0))
    return -1;
  if (vhdxlog_io_file_size(f->fd, &cur) != 0)
    return -1;
  if (size > cur && grow_to(f, size) != 0)
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
 * fcntl(fd, cmd) with a lock of `type` on the whole file. OFD locks (owned
 * by the open file description, F_OFD_*) see every other open of the file,
 * our own process's included; a kernel without them (EINVAL) gets the
 * classic record-lock command.
 */
static int whole_file_lock(int fd, int get, short type, struct flock *l) {
  int rc = -1;
  memset(l, 0, sizeof *l);
  l->l_type = type;
  l->l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
#ifdef F_OFD_SETLK
  rc = fcntl(fd, get ? F_OFD_GETLK : F_OFD_SETLK, l);
  if (rc == 0 || errno != EINVAL)
    return rc;
  memset(l, 0, sizeof *l);
  l->l_type = type;
  l->l_whence = SEEK_SET;
#endif
  rc = fcntl(fd, get ? F_GETLK : F_SETLK, l);
  return rc;
}

/* Take a lock of `type`: a conflict fails with EBUSY; a file system without
 * locks (ENOLCK, EOPNOTSUPP: NFS without lockd...) is used unlocked, as QEMU
 * does. */
static int take_lock(int fd, short type) {
  struct flock l;
  if (whole_file_lock(fd, 0, type, &l) == 0)
    return 0;
  if (errno == EAGAIN || errno == EACCES) {
    errno = EBUSY;
    return -1;
  }
  return errno == ENOLCK || errno == EOPNOTSUPP ? 0 : -1;
}

/*
 * A writer must be alone: vhdxlog_posix_open() takes an exclusive lock on
 * the whole file. QEMU holds byte-range locks on every image it has open,
 * so this also refuses an image a running VM (or qemu-img) is using, and
 * QEMU cannot open the image while a replay runs. Readers take no lock unless
 * they ask (vhdxlog_posix_lock_shared): inspecting an image in use is allowed.
 */
int vhdxlog_posix_lock_shared(vhdxlog_posix_file *f) {
  return take_lock(f->fd, F_RDLCK);
}

int vhdxlog_posix_in_use(const vhdxlog_posix_file *f) {
  struct flock l;
  return whole_file_lock(f->fd, 1, F_WRLCK, &l) == 0 && l.l_type != F_UNLCK;
}

/* Only regular files and block devices hold images. Anything else is
 * refused with an errno the caller can print and a reason of our own:
 * a FIFO or a terminal would block or return different bytes on every
 * read, a directory has no bytes. */
static int check_kind(vhdxlog_posix_file *f, const struct stat *st) {
  if (S_ISREG(st->st_mode))
    return 0;
  if (S_ISBLK(st->st_mode)) {
    f->is_block = 1;
    return 0;
  }
  if (S_ISDIR(st->st_mode)) {
    f->reason = "is a directory, not an image file";
    errno = EISDIR;
  } else if (S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode)) {
    f->reason = "is a FIFO or socket, not an image file (images must be "
                "seekable: a regular file or a block device)";
    errno = ESPIPE;
  } else {
    f->reason = "is a character device or other special file, not an image "
                "file (a regular file or a block device)";
    errno = ENODEV;
  }
  return -1;
}

/* Clear O_NONBLOCK: it was only there so that opening a FIFO cannot wait
 * for a writer before check_kind() refuses it. */
static int clear_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0)
    return -1;
  return fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

int vhdxlog_posix_open(vhdxlog_posix_file *f, const char *path, int writable) {
  struct stat st;
  int fd;

  if (f == NULL || path == NULL) {
    errno = EINVAL;
    return -1;
  }
  memset(f, 0, sizeof *f);
  f->fd = -1;
  do {
    fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY |
                        O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) != 0 || check_kind(f, &st) != 0 ||
      clear_nonblock(fd) != 0 || (writable && take_lock(fd, F_WRLCK) != 0)) {
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

/* The callbacks in vhdxlog_io's field order (ctx is set per file). No two
 * callbacks share a type: a pointer in the wrong place is an
 * incompatible-pointer-types diagnostic (an error with -Werror). */
static const vhdxlog_io posix_calls = {
    NULL,           posix_read,     posix_write, posix_write_zeros,
    posix_get_size, posix_set_size, posix_flush};

void vhdxlog_posix_io(vhdxlog_posix_file *f, vhdxlog_io *io) {
  *io = posix_calls;
  io->ctx = f;
}

vhdxlog_posix_file *vhdxlog_io_posix_file(const vhdxlog_io *io) {
  return io != NULL && io->read == posix_read ? (vhdxlog_posix_file *)io->ctx
                                              : NULL;
}
