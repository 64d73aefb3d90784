/* SPDX-License-Identifier: MIT */
/*
 * Sparse-aware file copy for `replay -o OUT`. VHDX images are usually
 * sparse and many GiB large: copy only the data (SEEK_DATA/SEEK_HOLE where
 * the system has them, and skip all-zero 1 MiB chunks in any case), and set
 * the size with ftruncate so holes stay holes.
 */
#define _GNU_SOURCE /* SEEK_DATA and SEEK_HOLE (glibc gates them) */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CHUNK ((size_t)1 << 20)

static int fail(char *msg, size_t msgsize, const char *what, const char *path) {
  snprintf(msg, msgsize, "%s %s: %s", what, path, strerror(errno));
  return -1;
}

/* Read (or write) exactly n bytes at off. Zero bytes moved is an error:
 * a source that shrank while being copied, or a write that makes no
 * progress (a retry could spin forever). */
static int move_full(int fd, char *p, size_t n, off_t off, int writing) {
  while (n > 0) {
    ssize_t r = writing ? pwrite(fd, p, n, off) : pread(fd, p, n, off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == 0)
        errno = EIO;
      return -1;
    }
    p += r;
    n -= (size_t)r;
    off += r;
  }
  return 0;
}

static int all_zero(const unsigned char *p, size_t n) {
  return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Copy [start, end) in chunks, skipping the all-zero ones. */
static int copy_range(int in, int out, unsigned char *buf, off_t start,
                      off_t end) {
  off_t pos = start;
  while (pos < end) {
    /* Chunks aligned to 1 MiB keep zero detection in step with the
     * format's 1 MiB granularity. */
    off_t next = (pos / (off_t)CHUNK + 1) * (off_t)CHUNK;
    size_t n;
    if (next > end)
      next = end;
    n = (size_t)(next - pos);
    if (move_full(in, (char *)buf, n, pos, 0) != 0)
      return -1;
    if (!all_zero(buf, n) && move_full(out, (char *)buf, n, pos, 1) != 0)
      return -2;
    pos = next;
  }
  return 0;
}

int cli_copy_file(const char *src, const char *dst, char *msg, size_t msgsize) {
  struct stat si, so;
  unsigned char *buf = NULL;
  int in = -1, out = -1, rc = -1, r;
  off_t size, pos;

  CLI_RETRY(in, open(src, O_RDONLY));
  if (in < 0)
    return fail(msg, msgsize, "cannot open", src);
  if (fstat(in, &si) != 0) {
    fail(msg, msgsize, "cannot stat", src);
    goto done;
  }
  if (!S_ISREG(si.st_mode)) {
    snprintf(msg, msgsize, "%s: not a regular file", src);
    goto done;
  }
  /* No O_TRUNC yet: if OUT is FILE (another name, a link), truncating it
   * would destroy the input before we could notice. */
  CLI_RETRY(out, open(dst, O_WRONLY | O_CREAT, 0644));
  if (out < 0) {
    fail(msg, msgsize, "cannot create", dst);
    goto done;
  }
  if (fstat(out, &so) != 0) {
    fail(msg, msgsize, "cannot stat", dst);
    goto done;
  }
  if (so.st_dev == si.st_dev && so.st_ino == si.st_ino) {
    snprintf(msg, msgsize, "%s and %s are the same file", src, dst);
    goto done;
  }
  if (!S_ISREG(so.st_mode)) {
    snprintf(msg, msgsize, "%s: not a regular file", dst);
    goto done;
  }
  size = si.st_size;
  CLI_RETRY(r, ftruncate(out, 0));
  if (r == 0)
    CLI_RETRY(r, ftruncate(out, size));
  if (r != 0) {
    fail(msg, msgsize, "cannot set the size of", dst);
    goto done;
  }
  buf = malloc(CHUNK);
  if (!buf) {
    snprintf(msg, msgsize, "out of memory");
    goto done;
  }

  pos = 0;
  while (pos < size) {
    off_t data = pos, hole = size;
#if defined(SEEK_DATA) && defined(SEEK_HOLE)
    data = lseek(in, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO)
        break;    /* only a hole is left */
      data = pos; /* not supported here: copy linearly */
      hole = size;
    } else {
      hole = lseek(in, data, SEEK_HOLE);
      if (hole < 0 || hole > size)
        hole = size;
    }
#endif
    r = copy_range(in, out, buf, data, hole);
    if (r == -1) {
      fail(msg, msgsize, "cannot read", src);
      goto done;
    }
    if (r == -2) {
      fail(msg, msgsize, "cannot write", dst);
      goto done;
    }
    pos = hole;
  }
  CLI_RETRY(r, fsync(out));
  if (r != 0) {
    fail(msg, msgsize, "cannot flush", dst);
    goto done;
  }
  rc = 0;
done:
  free(buf);
  if (out >= 0 && close(out) != 0 && rc == 0)
    rc = fail(msg, msgsize, "cannot close", dst);
  if (in >= 0)
    close(in);
  return rc;
}
