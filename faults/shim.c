/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD fault shim for the vhdxlog CLI. It wraps the calls the CLI
 * really makes at the OS boundary (`nm -D vhdxlog`: open64, pread64,
 * pwrite64, fallocate64, ftruncate64, fsync, rename, mkstemp64) and their
 * siblings, so that a test can:
 *
 *   VHDXLOG_FAULT=GROUP:K:KIND  make the K-th call (1-based) of GROUP fail.
 *       GROUP: open pread pwrite fallocate ftruncate fsync rename mkstemp
 *       KIND:  EIO ENOSPC EINTR (fail without doing anything); for
 *              pread/pwrite also SHORT (transfer half the bytes, at least
 *              one) and ZERO (return 0: end of file, or no progress).
 *   VHDXLOG_FAULT_COUNTS=FILE   append "GROUP COUNT" lines at exit.
 *   VHDXLOG_FAULT_TRACE=FILE and VHDXLOG_FAULT_TRACE_PATH=IMAGE
 *       record every pwrite (offset, bytes), fsync/fdatasync (barrier),
 *       ftruncate and fallocate made on IMAGE (matched by device and inode
 *       at open) to FILE, for faults/crashstates.c.
 *
 * Only calls made by the program itself are seen: glibc's internal calls
 * (fopen, mkstemp's own open) bypass the dynamic symbol table. Test code,
 * single-threaded like the CLI.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, open64 and the other 64-bit names */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "trace_format.h"

enum {
  G_OPEN,
  G_PREAD,
  G_PWRITE,
  G_FALLOCATE,
  G_FTRUNCATE,
  G_FSYNC,
  G_RENAME,
  G_MKSTEMP,
  G_COUNT
};
static const char *const group_name[G_COUNT] = {
    "open",      "pread", "pwrite", "fallocate",
    "ftruncate", "fsync", "rename", "mkstemp"};

enum { K_NONE, K_ERRNO, K_SHORT, K_ZERO };

static struct {
  int ready;
  unsigned long calls[G_COUNT];
  int group;         /* the group to fail, -1: none */
  unsigned long nth; /* which call of it */
  int kind, err;
  const char *counts; /* VHDXLOG_FAULT_COUNTS */
  int trace_fd;       /* -1: not recording */
  dev_t trace_dev;
  ino_t trace_ino;
  int traced[1024]; /* fds open on the traced image */
} S;

static void *real(const char *name) {
  void *p = dlsym(RTLD_NEXT, name);
  if (p == NULL) {
    fprintf(stderr, "fault shim: no %s\n", name);
    abort();
  }
  return p;
}

static void setup(void) {
  const char *f, *t, *tp;
  struct stat st;
  if (S.ready)
    return;
  S.ready = 1;
  S.group = -1;
  S.trace_fd = -1;
  f = getenv("VHDXLOG_FAULT");
  if (f != NULL && *f != '\0') {
    char g[32], k[32];
    unsigned long n;
    int i;
    if (sscanf(f, "%31[a-z]:%lu:%31s", g, &n, k) != 3 || n == 0) {
      fprintf(stderr, "fault shim: bad VHDXLOG_FAULT '%s'\n", f);
      abort();
    }
    for (i = 0; i < G_COUNT; i++)
      if (strcmp(g, group_name[i]) == 0)
        S.group = i;
    S.nth = n;
    S.kind = K_ERRNO;
    if (strcmp(k, "EIO") == 0)
      S.err = EIO;
    else if (strcmp(k, "ENOSPC") == 0)
      S.err = ENOSPC;
    else if (strcmp(k, "EINTR") == 0)
      S.err = EINTR;
    else if (strcmp(k, "SHORT") == 0 &&
             (S.group == G_PREAD || S.group == G_PWRITE))
      S.kind = K_SHORT;
    else if (strcmp(k, "ZERO") == 0 &&
             (S.group == G_PREAD || S.group == G_PWRITE))
      S.kind = K_ZERO;
    else
      S.group = -1;
    if (S.group < 0) {
      fprintf(stderr, "fault shim: bad VHDXLOG_FAULT '%s'\n", f);
      abort();
    }
  }
  S.counts = getenv("VHDXLOG_FAULT_COUNTS");
  t = getenv("VHDXLOG_FAULT_TRACE");
  tp = getenv("VHDXLOG_FAULT_TRACE_PATH");
  if (t != NULL && tp != NULL && stat(tp, &st) == 0) {
    int (*ropen)(const char *, int, ...) = real("open");
    S.trace_fd = ropen(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (S.trace_fd < 0) {
      fprintf(stderr, "fault shim: cannot create %s\n", t);
      abort();
    }
    S.trace_dev = st.st_dev;
    S.trace_ino = st.st_ino;
  }
}

/* Counts the call; 1 when this one is to fail (K_ERRNO) or be short. */
static int hit(int group) {
  setup();
  S.calls[group]++;
  return S.group == group && S.calls[group] == S.nth;
}

__attribute__((destructor)) static void report_counts(void) {
  FILE *f;
  int i;
  if (!S.ready || S.counts == NULL)
    return;
  f = fopen(S.counts, "a");
  if (f == NULL)
    return;
  for (i = 0; i < G_COUNT; i++)
    fprintf(f, "%s %lu\n", group_name[i], S.calls[i]);
  fclose(f);
}

/* ---- trace ---------------------------------------------------------- */

static int is_traced(int fd) {
  return S.trace_fd >= 0 && fd >= 0 && fd < 1024 && S.traced[fd];
}

static void note_open(int fd) {
  struct stat st;
  if (S.trace_fd < 0 || fd < 0 || fd >= 1024)
    return;
  S.traced[fd] = fstat(fd, &st) == 0 && st.st_dev == S.trace_dev &&
                 st.st_ino == S.trace_ino;
}

static void put(const void *p, size_t n) {
  ssize_t (*rwrite)(int, const void *, size_t) = real("write");
  const char *c = p;
  while (n > 0) {
    ssize_t w = rwrite(S.trace_fd, c, n);
    if (w <= 0) {
      if (w < 0 && errno == EINTR)
        continue;
      fprintf(stderr, "fault shim: trace write failed\n");
      abort();
    }
    c += w;
    n -= (size_t)w;
  }
}

static void record(uint8_t kind, uint64_t a, uint64_t b, uint32_t mode,
                   const void *data) {
  uint8_t r[FT_RECORD];
  int saved = errno;
  ft_encode(r, kind, a, b, mode);
  put(r, sizeof r);
  if (kind == FT_WRITE && b > 0)
    put(data, (size_t)b);
  errno = saved;
}

/* ---- wrappers ------------------------------------------------------- */

#define FAIL_IF_HIT(group)                                                     \
  do {                                                                         \
    if (hit(group) && S.kind == K_ERRNO) {                                     \
      errno = S.err;                                                           \
      return -1;                                                               \
    }                                                                          \
  } while (0)

/* An anonymous memory file (memfd: io/'s shared zero window) is not a file
 * the harness injects faults into: only the image and the output are. */
static int is_anonymous(int fd) {
  char path[64], target[32];
  ssize_t n;
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  n = readlink(path, target, sizeof target - 1);
  if (n <= 0)
    return 0;
  target[n] = '\0';
  return strncmp(target, "/memfd:", 7) == 0;
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_WRAPPER(name, ...)                                                \
  int name(__VA_ARGS__, int flags, ...) {                                      \
    static int (*r)(PARAMS_##name, int, ...);                                  \
    va_list ap;                                                                \
    mode_t m;                                                                  \
    int fd;                                                                    \
    va_start(ap, flags);                                                       \
    m = mode_arg(flags, ap);                                                   \
    va_end(ap);                                                                \
    FAIL_IF_HIT(G_OPEN);                                                       \
    if (r == NULL)                                                             \
      r = real(#name);                                                         \
    fd = r(CALL_##name, flags, m);                                             \
    note_open(fd);                                                             \
    return fd;                                                                 \
  }
#define PARAMS_open const char *
#define CALL_open path
#define PARAMS_open64 const char *
#define CALL_open64 path
#define PARAMS_openat int, const char *
#define CALL_openat dirfd, path
#define PARAMS_openat64 int, const char *
#define CALL_openat64 dirfd, path
OPEN_WRAPPER(open, const char *path)
OPEN_WRAPPER(open64, const char *path)
OPEN_WRAPPER(openat, int dirfd, const char *path)
OPEN_WRAPPER(openat64, int dirfd, const char *path)

/* A short transfer on the nth call of GROUP: 1 when the call must return 0
 * at once (K_ZERO), else 0 with *n halved (K_SHORT) or left alone. */
static int short_transfer(int group, size_t *n) {
  if (S.group != group || S.calls[group] != S.nth)
    return 0;
  if (S.kind == K_ZERO)
    return 1;
  *n = *n > 1 ? *n / 2 : *n;
  return 0;
}

#define PREAD_WRAPPER(name)                                                    \
  ssize_t name(int fd, void *buf, size_t n, off_t off) {                       \
    static ssize_t (*r)(int, void *, size_t, off_t);                           \
    FAIL_IF_HIT(G_PREAD);                                                      \
    if (r == NULL)                                                             \
      r = real(#name);                                                         \
    if (short_transfer(G_PREAD, &n))                                           \
      return 0;                                                                \
    return r(fd, buf, n, off);                                                 \
  }
PREAD_WRAPPER(pread)
PREAD_WRAPPER(pread64)

#define PWRITE_WRAPPER(name)                                                   \
  ssize_t name(int fd, const void *buf, size_t n, off_t off) {                 \
    static ssize_t (*r)(int, const void *, size_t, off_t);                     \
    ssize_t w;                                                                 \
    FAIL_IF_HIT(G_PWRITE);                                                     \
    if (r == NULL)                                                             \
      r = real(#name);                                                         \
    if (short_transfer(G_PWRITE, &n))                                          \
      return 0;                                                                \
    w = r(fd, buf, n, off);                                                    \
    if (w > 0 && is_traced(fd))                                                \
      record(FT_WRITE, (uint64_t)off, (uint64_t)w, 0, buf);                    \
    return w;                                                                  \
  }
PWRITE_WRAPPER(pwrite)
PWRITE_WRAPPER(pwrite64)

#define FALLOCATE_WRAPPER(name)                                                \
  int name(int fd, int mode, off_t off, off_t len) {                           \
    static int (*r)(int, int, off_t, off_t);                                   \
    int rc;                                                                    \
    FAIL_IF_HIT(G_FALLOCATE);                                                  \
    if (r == NULL)                                                             \
      r = real(#name);                                                         \
    rc = r(fd, mode, off, len);                                                \
    if (rc == 0 && is_traced(fd))                                              \
      record(FT_FALLOCATE, (uint64_t)off, (uint64_t)len, (uint32_t)mode,       \
             NULL);                                                            \
    return rc;                                                                 \
  }
FALLOCATE_WRAPPER(fallocate)
FALLOCATE_WRAPPER(fallocate64)

#define FTRUNCATE_WRAPPER(name)                                                \
  int name(int fd, off_t size) {                                               \
    static int (*r)(int, off_t);                                               \
    int rc;                                                                    \
    if (!is_anonymous(fd))                                                     \
      FAIL_IF_HIT(G_FTRUNCATE);                                                \
    if (r == NULL)                                                             \
      r = real(#name);                                                         \
    rc = r(fd, size);                                                          \
    if (rc == 0 && is_traced(fd))                                              \
      record(FT_TRUNCATE, (uint64_t)size, 0, 0, NULL);                         \
    return rc;                                                                 \
  }
FTRUNCATE_WRAPPER(ftruncate)
FTRUNCATE_WRAPPER(ftruncate64)

#define SYNC_WRAPPER(name)                                                     \
  int name(int fd) {                                                           \
    static int (*r)(int);                                                      \
    int rc;                                                                    \
    FAIL_IF_HIT(G_FSYNC);                                                      \
    if (r == NULL)                                                             \
      r = real(#name);                                                         \
    rc = r(fd);                                                                \
    if (rc == 0 && is_traced(fd))                                              \
      record(FT_BARRIER, 0, 0, 0, NULL);                                       \
    return rc;                                                                 \
  }
SYNC_WRAPPER(fsync)
SYNC_WRAPPER(fdatasync)

/* Not a fault point: only forgets the descriptor, so that a later open
 * reusing its number is not taken for the traced image. */
int close(int fd) {
  static int (*r)(int);
  if (r == NULL)
    r = real("close");
  if (fd >= 0 && fd < 1024)
    S.traced[fd] = 0;
  return r(fd);
}

int rename(const char *from, const char *to) {
  static int (*r)(const char *, const char *);
  FAIL_IF_HIT(G_RENAME);
  if (r == NULL)
    r = real("rename");
  return r(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to) {
  static int (*r)(int, const char *, int, const char *);
  FAIL_IF_HIT(G_RENAME);
  if (r == NULL)
    r = real("renameat");
  return r(fd1, from, fd2, to);
}

#define MKSTEMP_WRAPPER(name)                                                  \
  int name(char *tmpl) {                                                       \
    static int (*r)(char *);                                                   \
    int fd;                                                                    \
    FAIL_IF_HIT(G_MKSTEMP);                                                    \
    if (r == NULL)                                                             \
      r = real(#name);                                                         \
    fd = r(tmpl);                                                              \
    note_open(fd);                                                             \
    return fd;                                                                 \
  }
MKSTEMP_WRAPPER(mkstemp)
MKSTEMP_WRAPPER(mkstemp64)

#define MKOSTEMP_WRAPPER(name)                                                 \
  int name(char *tmpl, int flags) {                                            \
    static int (*r)(char *, int);                                              \
    int fd;                                                                    \
    FAIL_IF_HIT(G_MKSTEMP);                                                    \
    if (r == NULL)                                                             \
      r = real(#name);                                                         \
    fd = r(tmpl, flags);                                                       \
    note_open(fd);                                                             \
    return fd;                                                                 \
  }
MKOSTEMP_WRAPPER(mkostemp)
MKOSTEMP_WRAPPER(mkostemp64)
