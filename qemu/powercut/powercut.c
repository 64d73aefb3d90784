/* SPDX-License-Identifier: MIT */
/* powercut.c: an LD_PRELOAD shim that simulates a power cut in front of the
 * Nth write a process makes to one file.
 *
 * Environment:
 *   VHDXLOG_POWERCUT_FILE  the target file (must exist when the process
 *                          starts or at its first write); unset: inert
 *   VHDXLOG_POWERCUT_AT    N >= 0: the counted call with index N (0-based)
 *                          is never performed; the process gets SIGKILL
 *                          instead. Unset or negative: count only.
 *   VHDXLOG_POWERCUT_LOG   optional: append one line per counted call
 *                          ("INDEX FUNC off=OFF len=LEN"), per sync of the
 *                          target ("- FUNC"), and "CUT INDEX FUNC ..." at the
 *                          cut.
 *
 * Counted: every call that can change the target's bytes or length: pwrite,
 * pwritev, pwritev2 (and their *64 names), write, writev, fallocate,
 * posix_fallocate, ftruncate, copy_file_range into it. fsync and fdatasync
 * change nothing a reader sees, so they are only logged.
 *
 * The target is recognised by st_dev/st_ino (fstat of the call's fd), so
 * dup()ed descriptors and re-opens count too, and no open() is wrapped.
 * QEMU writes from worker threads: the index is taken with one atomic
 * increment, and every call at or past N kills the process and never
 * returns, so no write issued after the cut point can land while the
 * signal is on its way. Writes whose index is below N may still be in
 * flight in other threads; a real disk would have accepted them too. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* Signatures of the libc functions with one name only; those that glibc
 * also exports under a large-file name are wrapped by the macros below. */
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*cfr_fn)(int, off_t *, int, off_t *, size_t, unsigned int);
typedef int (*sync_fn)(int);

static const char *target_path;
static int target_known; /* 1 once target_dev/ino hold the file's id */
static dev_t target_dev;
static ino_t target_ino;
static long long cut_at = -1;
static int log_fd = -1;
static unsigned long counter; /* atomic: next call index */

/* The next definition of a libc symbol. Resolved on first use, since a
 * library constructor may write before ours ran. */
static void *real(const char *name, void **slot) {
  void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (p == NULL) {
    p = dlsym(RTLD_NEXT, name);
    if (p == NULL)
      abort(); /* no libc to pass the call on to: nothing sane is left */
    __atomic_store_n(slot, p, __ATOMIC_RELEASE);
  }
  return p;
}

#define REAL(type, name)                                                       \
  static void *name##_slot;                                                    \
  type real_fn = (type)real(#name, &name##_slot)

__attribute__((constructor)) static void powercut_init(void) {
  const char *at = getenv("VHDXLOG_POWERCUT_AT");
  const char *log = getenv("VHDXLOG_POWERCUT_LOG");
  target_path = getenv("VHDXLOG_POWERCUT_FILE");
  if (target_path != NULL && target_path[0] == '\0')
    target_path = NULL;
  if (at != NULL && at[0] != '\0') {
    char *end;
    long long v = strtoll(at, &end, 10);
    cut_at = (*end == '\0') ? v : -1;
  }
  if (target_path != NULL && log != NULL && log[0] != '\0')
    log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static int is_target(int fd) {
  struct stat st;
  if (target_path == NULL || fd < 0)
    return 0;
  if (!__atomic_load_n(&target_known, __ATOMIC_ACQUIRE)) {
    struct stat t;
    if (stat(target_path, &t) != 0)
      return 0;
    target_dev = t.st_dev;
    target_ino = t.st_ino;
    __atomic_store_n(&target_known, 1, __ATOMIC_RELEASE);
  }
  if (fstat(fd, &st) != 0)
    return 0;
  return st.st_dev == target_dev && st.st_ino == target_ino;
}

static void log_line(const char *text, size_t len) {
  REAL(write_fn, write);
  if (log_fd >= 0)
    (void)!real_fn(log_fd, text, len);
}

/* Take the next index for a counted call on the target; kill the process at
 * or past the cut point (never returns then). off < 0: "at the fd's
 * position". */
static void count_call(const char *func, long long off, long long len) {
  char buf[160];
  int n;
  unsigned long i = __atomic_fetch_add(&counter, 1UL, __ATOMIC_SEQ_CST);
  int cut = cut_at >= 0 && i >= (unsigned long)cut_at;
  n = snprintf(buf, sizeof buf, "%s%lu %s off=%lld len=%lld\n",
               cut ? "CUT " : "", i, func, off, len);
  if (n > 0)
    log_line(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
  if (cut) {
    kill(getpid(), SIGKILL);
    for (;;)
      pause();
  }
}

static void log_sync(const char *func) {
  char buf[64];
  int n = snprintf(buf, sizeof buf, "- %s\n", func);
  if (n > 0)
    log_line(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static long long iov_len(const struct iovec *iov, int cnt) {
  long long total = 0;
  int k;
  for (k = 0; iov != NULL && k < cnt; k++)
    total += (long long)iov[k].iov_len;
  return total;
}

ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write_fn, write);
  if (fd != log_fd && is_target(fd))
    count_call("write", -1, (long long)n);
  return real_fn(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  REAL(writev_fn, writev);
  if (is_target(fd))
    count_call("writev", -1, iov_len(iov, cnt));
  return real_fn(fd, iov, cnt);
}

ssize_t copy_file_range(int in, off_t *in_off, int out, off_t *out_off,
                        size_t n, unsigned int flags) {
  REAL(cfr_fn, copy_file_range);
  if (is_target(out))
    count_call("copy_file_range", out_off ? (long long)*out_off : -1,
               (long long)n);
  return real_fn(in, in_off, out, out_off, n, flags);
}

int fsync(int fd) {
  REAL(sync_fn, fsync);
  if (is_target(fd))
    log_sync("fsync");
  return real_fn(fd);
}

int fdatasync(int fd) {
  REAL(sync_fn, fdatasync);
  if (is_target(fd))
    log_sync("fdatasync");
  return real_fn(fd);
}

/* Calls with an offset or a length: each name, and on glibc its large-file
 * name too, which 64-bit programs (QEMU among them) link against. */
#define COUNTED(ret, name, params, func_off, func_len, args)                   \
  ret name params {                                                            \
    static void *slot;                                                         \
    ret(*real_fn) params = (ret(*) params)real(#name, &slot);                  \
    if (is_target(fd))                                                         \
      count_call(#name, func_off, func_len);                                   \
    return real_fn args;                                                       \
  }
#define PWRITE(name, offt)                                                     \
  COUNTED(ssize_t, name, (int fd, const void *buf, size_t n, offt off),        \
          (long long)off, (long long)n, (fd, buf, n, off))
#define PWRITEV(name, offt)                                                    \
  COUNTED(ssize_t, name, (int fd, const struct iovec *iov, int cnt, offt off), \
          (long long)off, iov_len(iov, cnt), (fd, iov, cnt, off))
#define PWRITEV2(name, offt)                                                   \
  COUNTED(ssize_t, name,                                                       \
          (int fd, const struct iovec *iov, int cnt, offt off, int flags),     \
          (long long)off, iov_len(iov, cnt), (fd, iov, cnt, off, flags))
#define FALLOCATE(name, offt)                                                  \
  COUNTED(int, name, (int fd, int mode, offt off, offt len), (long long)off,   \
          (long long)len, (fd, mode, off, len))
#define POSIX_FALLOCATE(name, offt)                                            \
  COUNTED(int, name, (int fd, offt off, offt len), (long long)off,             \
          (long long)len, (fd, off, len))
#define FTRUNCATE(name, offt)                                                  \
  COUNTED(int, name, (int fd, offt len), -1, (long long)len, (fd, len))

PWRITE(pwrite, off_t)
PWRITEV(pwritev, off_t)
PWRITEV2(pwritev2, off_t)
FALLOCATE(fallocate, off_t)
POSIX_FALLOCATE(posix_fallocate, off_t)
FTRUNCATE(ftruncate, off_t)
#if defined(__GLIBC__)
PWRITE(pwrite64, off64_t)
PWRITEV(pwritev64, off64_t)
PWRITEV2(pwritev64v2, off64_t)
FALLOCATE(fallocate64, off64_t)
POSIX_FALLOCATE(posix_fallocate64, off64_t)
FTRUNCATE(ftruncate64, off64_t)
#endif
