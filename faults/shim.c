/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD shim, in two modes that share the wrapped calls and the way one
 * file is recognised (st_dev/st_ino of the call's fd, so dup()ed descriptors
 * and re-opens count too).
 *
 * Faults, for the vhdxlog CLI (faults/). It wraps the calls the CLI really
 * makes at the OS boundary (`nm -D vhdxlog`: open64, pread64, pwrite64,
 * fallocate64, ftruncate64, fsync, rename, mkstemp64) and their siblings:
 *   VHDXLOG_FAULT=GROUP:K:KIND  make the K-th call (1-based) of GROUP fail.
 *       GROUP: open pread pwrite fallocate ftruncate fsync rename mkstemp
 *       KIND:  EIO ENOSPC EINTR (fail without doing anything); for
 *              pread/pwrite also SHORT (transfer half the bytes, at least
 *              one) and ZERO (return 0: end of file, or no progress).
 *   VHDXLOG_FAULT_COUNTS=FILE   append "GROUP COUNT" lines at exit.
 *   VHDXLOG_FAULT_TRACE=FILE and VHDXLOG_FAULT_TRACE_PATH=IMAGE
 *       record every pwrite (offset, bytes), fsync/fdatasync (barrier),
 *       ftruncate and fallocate made on IMAGE (which must exist at start-up)
 *       to FILE, for faults/crashstates.c.
 * Only calls made by the program itself are seen: glibc's internal calls
 * (fopen, mkstemp's own open) bypass the dynamic symbol table.
 *
 * Power cuts, for qemu-io (qemu/powercut/): a cut in front of the Nth call
 * that changes one file.
 *   VHDXLOG_POWERCUT_FILE  the target file (must exist when the process
 *                          starts or at its first write); unset: inert
 *   VHDXLOG_POWERCUT_AT    N >= 0: the counted call with index N (0-based)
 *                          is never performed; the process gets SIGKILL
 *                          instead. Unset or negative: count only.
 *   VHDXLOG_POWERCUT_LOG   optional: append one line per counted call
 *                          ("INDEX FUNC off=OFF len=LEN"), per sync of the
 *                          target ("- FUNC"), and "CUT INDEX FUNC ..." at the
 *                          cut.
 * Counted: every call that can change the target's bytes or length: pwrite,
 * pwritev, pwritev2 (and their *64 names), write, writev, fallocate,
 * posix_fallocate, ftruncate, copy_file_range into it. fsync and fdatasync
 * change nothing a reader sees, so they are only logged.
 * QEMU writes from worker threads: the index is taken with one atomic
 * increment, and every call at or past N kills the process and never
 * returns, so no write issued after the cut point can land while the
 * signal is on its way. Writes whose index is below N may still be in
 * flight in other threads; a real disk would have accepted them too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, open64 and the other 64-bit names */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "trace_format.h"

enum {
  G_NONE = -1, /* not a fault point */
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
  unsigned long calls[G_COUNT]; /* atomic */
  int group;                    /* the group to fail, -1: none */
  unsigned long nth;            /* which call of it */
  int kind, err;
  const char *counts; /* VHDXLOG_FAULT_COUNTS */
  int trace_fd;       /* -1: not recording */
  const char *target; /* the traced or power-cut file; NULL: none */
  int target_known;   /* atomic: 1 once dev/ino hold the target's id */
  dev_t dev;
  ino_t ino;
  int powercut;       /* VHDXLOG_POWERCUT_FILE given */
  long long cut_at;   /* -1: count only */
  int log_fd;         /* VHDXLOG_POWERCUT_LOG, -1: none */
  unsigned long next; /* atomic: the next counted call's index */
} S;

/* The next definition of a libc symbol. Resolved on first use, since a
 * library constructor may make a call before ours ran. */
static void *real(const char *name, void **slot) {
  void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (p == NULL) {
    p = dlsym(RTLD_NEXT, name);
    if (p == NULL) {
      fprintf(stderr, "shim: no %s\n", name);
      abort();
    }
    __atomic_store_n(slot, p, __ATOMIC_RELEASE);
  }
  return p;
}

static int real_open(const char *path, int flags) {
  static void *slot;
  int (*r)(const char *, int, ...) = real("open", &slot);
  return r(path, flags | O_CLOEXEC, 0644);
}

static void parse_fault(const char *f) {
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

/* Reads the environment once; a constructor, so that it runs before QEMU
 * starts its threads, and called by the wrappers for calls made earlier. */
__attribute__((constructor)) static void setup(void) {
  const char *f = getenv("VHDXLOG_FAULT"), *t = getenv("VHDXLOG_FAULT_TRACE");
  const char *tp = getenv("VHDXLOG_FAULT_TRACE_PATH");
  const char *pc = getenv("VHDXLOG_POWERCUT_FILE");
  const char *at = getenv("VHDXLOG_POWERCUT_AT");
  const char *log = getenv("VHDXLOG_POWERCUT_LOG");
  struct stat st;
  if (S.ready)
    return;
  S.ready = 1;
  S.group = -1;
  S.trace_fd = S.log_fd = -1;
  S.cut_at = -1;
  if (f != NULL && *f != '\0')
    parse_fault(f);
  S.counts = getenv("VHDXLOG_FAULT_COUNTS");
  if (t != NULL && tp != NULL && stat(tp, &st) == 0) {
    S.trace_fd = real_open(t, O_WRONLY | O_CREAT | O_TRUNC);
    if (S.trace_fd < 0) {
      fprintf(stderr, "fault shim: cannot create %s\n", t);
      abort();
    }
    S.target = tp;
  }
  if (pc != NULL && *pc != '\0') {
    S.target = pc;
    S.powercut = 1;
    if (at != NULL && at[0] != '\0') {
      char *end;
      long long v = strtoll(at, &end, 10);
      S.cut_at = (*end == '\0') ? v : -1;
    }
    if (log != NULL && log[0] != '\0')
      S.log_fd = real_open(log, O_WRONLY | O_CREAT | O_APPEND);
  }
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

/* Counts the call of GROUP; 1 when this one is to fail with S.err. */
static int fail_now(int group) {
  unsigned long n;
  setup();
  if (group == G_NONE)
    return 0;
  n = __atomic_add_fetch(&S.calls[group], 1UL, __ATOMIC_RELAXED);
  if (S.group != group || n != S.nth || S.kind != K_ERRNO)
    return 0;
  errno = S.err;
  return 1;
}

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

static int is_target(int fd) {
  struct stat st;
  if (S.target == NULL || fd < 0)
    return 0;
  if (!__atomic_load_n(&S.target_known, __ATOMIC_ACQUIRE)) {
    if (stat(S.target, &st) != 0)
      return 0;
    S.dev = st.st_dev;
    S.ino = st.st_ino;
    __atomic_store_n(&S.target_known, 1, __ATOMIC_RELEASE);
  }
  return fstat(fd, &st) == 0 && st.st_dev == S.dev && st.st_ino == S.ino;
}

static void put(int fd, const void *p, size_t n) {
  static void *slot;
  ssize_t (*rwrite)(int, const void *, size_t) = real("write", &slot);
  const char *c = p;
  while (n > 0) {
    ssize_t w = rwrite(fd, c, n);
    if (w <= 0) {
      if (w < 0 && errno == EINTR)
        continue;
      fprintf(stderr, "shim: trace write failed\n");
      abort();
    }
    c += w;
    n -= (size_t)w;
  }
}

/* After a call on FD that succeeded: its trace record, if FD is traced. */
static void record(int fd, uint8_t kind, uint64_t a, uint64_t b, uint32_t mode,
                   const void *data) {
  uint8_t r[FT_RECORD];
  int saved = errno;
  if (S.trace_fd < 0 || !is_target(fd))
    return;
  ft_encode(r, kind, a, b, mode);
  put(S.trace_fd, r, sizeof r);
  if (kind == FT_WRITE && b > 0)
    put(S.trace_fd, data, (size_t)b);
  errno = saved;
}

/* Before a call that changes FD's file: the power cut's count, log line
 * and, at or past the cut point, SIGKILL (never returns then). OFF < 0: at
 * the fd's position. */
static void cut_point(int fd, const char *func, long long off, long long len) {
  char buf[160];
  int n, cut;
  unsigned long i;
  if (!S.powercut || !is_target(fd))
    return;
  i = __atomic_fetch_add(&S.next, 1UL, __ATOMIC_SEQ_CST);
  cut = S.cut_at >= 0 && i >= (unsigned long)S.cut_at;
  n = snprintf(buf, sizeof buf, "%s%lu %s off=%lld len=%lld\n",
               cut ? "CUT " : "", i, func, off, len);
  if (S.log_fd >= 0 && n > 0)
    put(S.log_fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
  if (cut) {
    kill(getpid(), SIGKILL);
    for (;;)
      pause();
  }
}

static void log_sync(int fd, const char *func) {
  char buf[64];
  int n = snprintf(buf, sizeof buf, "- %s\n", func);
  if (S.powercut && S.log_fd >= 0 && n > 0 && is_target(fd))
    put(S.log_fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static long long iov_len(const struct iovec *iov, int cnt) {
  long long total = 0;
  int k;
  for (k = 0; iov != NULL && k < cnt; k++)
    total += (long long)iov[k].iov_len;
  return total;
}

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

/* ---- wrappers ------------------------------------------------------- */

/* One wrapped libc function: BEFORE may return early, AFTER sees rc. */
#define WRAP(ret, name, params, args, before, after)                           \
  ret name params {                                                            \
    static void *slot;                                                         \
    ret rc;                                                                    \
    before;                                                                    \
    rc = ((ret(*) params)real(#name, &slot))args;                              \
    after;                                                                     \
    return rc;                                                                 \
  }
#define FAULT(group)                                                           \
  if (fail_now(group))                                                         \
  return -1

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN(name, ...)                                                        \
  int name(__VA_ARGS__, int flags, ...) {                                      \
    static void *slot;                                                         \
    va_list ap;                                                                \
    mode_t m;                                                                  \
    va_start(ap, flags);                                                       \
    m = mode_arg(flags, ap);                                                   \
    va_end(ap);                                                                \
    FAULT(G_OPEN);                                                             \
    return ((int (*)(__VA_ARGS__, int, ...))real(#name, &slot))(               \
        OPEN_ARGS_##name, flags, m);                                           \
  }
#define OPEN_ARGS_open path
#define OPEN_ARGS_open64 path
#define OPEN_ARGS_openat dirfd, path
#define OPEN_ARGS_openat64 dirfd, path
OPEN(open, const char *path)
OPEN(open64, const char *path)
OPEN(openat, int dirfd, const char *path)
OPEN(openat64, int dirfd, const char *path)

/* Each name, and on glibc its large-file name too, which 64-bit programs
 * (QEMU among them) link against. */
#define PREAD(name, offt)                                                      \
  WRAP(ssize_t, name, (int fd, void *buf, size_t n, offt off),                 \
       (fd, buf, n, off), FAULT(G_PREAD);                                      \
       if (short_transfer(G_PREAD, &n)) return 0, )
#define PWRITE(name, offt)                                                     \
  WRAP(ssize_t, name, (int fd, const void *buf, size_t n, offt off),           \
       (fd, buf, n, off), FAULT(G_PWRITE);                                     \
       if (short_transfer(G_PWRITE, &n)) return 0;                             \
       cut_point(fd, #name, (long long)off, (long long)n),                     \
       if (rc > 0) record(fd, FT_WRITE, (uint64_t)off, (uint64_t)rc, 0, buf))
#define PWRITEV(name, offt)                                                    \
  WRAP(ssize_t, name, (int fd, const struct iovec *iov, int cnt, offt off),    \
       (fd, iov, cnt, off),                                                    \
       cut_point(fd, #name, (long long)off, iov_len(iov, cnt)), )
#define PWRITEV2(name, offt)                                                   \
  WRAP(ssize_t, name,                                                          \
       (int fd, const struct iovec *iov, int cnt, offt off, int flags),        \
       (fd, iov, cnt, off, flags),                                             \
       cut_point(fd, #name, (long long)off, iov_len(iov, cnt)), )
#define FALLOCATE(name, offt)                                                  \
  WRAP(int, name, (int fd, int mode, offt off, offt len),                      \
       (fd, mode, off, len), FAULT(G_FALLOCATE);                               \
       cut_point(fd, #name, (long long)off, (long long)len),                   \
       if (rc == 0) record(fd, FT_FALLOCATE, (uint64_t)off, (uint64_t)len,     \
                           (uint32_t)mode, NULL))
#define POSIX_FALLOCATE(name, offt)                                            \
  WRAP(int, name, (int fd, offt off, offt len), (fd, off, len),                \
       cut_point(fd, #name, (long long)off, (long long)len), )
#define FTRUNCATE(name, offt)                                                  \
  WRAP(int, name, (int fd, offt len), (fd, len),                               \
       FAULT(is_anonymous(fd) ? G_NONE : G_FTRUNCATE);                         \
       cut_point(fd, #name, -1, (long long)len),                               \
       if (rc == 0) record(fd, FT_TRUNCATE, (uint64_t)len, 0, 0, NULL))
#define ALL_SIZES(wrapper, name) wrapper(name, off_t) wrapper(name##64, off64_t)

ALL_SIZES(PREAD, pread)
ALL_SIZES(PWRITE, pwrite)
ALL_SIZES(PWRITEV, pwritev)
PWRITEV2(pwritev2, off_t)
PWRITEV2(pwritev64v2, off64_t)
ALL_SIZES(FALLOCATE, fallocate)
ALL_SIZES(POSIX_FALLOCATE, posix_fallocate)
ALL_SIZES(FTRUNCATE, ftruncate)

WRAP(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n),
     cut_point(fd, "write", -1, (long long)n), )
WRAP(ssize_t, writev, (int fd, const struct iovec *iov, int cnt),
     (fd, iov, cnt), cut_point(fd, "writev", -1, iov_len(iov, cnt)), )
WRAP(ssize_t, copy_file_range,
     (int in, off_t *in_off, int fd, off_t *out_off, size_t n, unsigned f),
     (in, in_off, fd, out_off, n, f),
     cut_point(fd, "copy_file_range", out_off ? (long long)*out_off : -1,
               (long long)n), )
#define SYNC(name)                                                             \
  WRAP(int, name, (int fd), (fd), FAULT(G_FSYNC);                              \
       log_sync(fd, #name),                                                    \
       if (rc == 0) record(fd, FT_BARRIER, 0, 0, 0, NULL))
SYNC(fsync)
SYNC(fdatasync)

WRAP(int, rename, (const char *from, const char *to), (from, to),
     FAULT(G_RENAME), )
WRAP(int, renameat, (int fd1, const char *from, int fd2, const char *to),
     (fd1, from, fd2, to), FAULT(G_RENAME), )
WRAP(int, mkstemp, (char *tmpl), (tmpl), FAULT(G_MKSTEMP), )
WRAP(int, mkstemp64, (char *tmpl), (tmpl), FAULT(G_MKSTEMP), )
WRAP(int, mkostemp, (char *tmpl, int flags), (tmpl, flags), FAULT(G_MKSTEMP), )
WRAP(int, mkostemp64, (char *tmpl, int flags), (tmpl, flags),
     FAULT(G_MKSTEMP), )
