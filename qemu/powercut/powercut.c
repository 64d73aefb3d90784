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

/* Signatures of the libc functions passed on to. */
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef ssize_t (*pwritev2_fn)(int, const struct iovec *, int, off_t, int);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef int (*fallocate_fn)(int, int, off_t, off_t);
typedef int (*pfallocate_fn)(int, off_t, off_t);
typedef int (*ftruncate_fn)(int, off_t);
typedef ssize_t (*cfr_fn)(int, off_t *, int, off_t *, size_t, unsigned int);
typedef int (*sync_fn)(int);
#if defined(__GLIBC__)
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*pwritev64_fn)(int, const struct iovec *, int, off64_t);
typedef ssize_t (*pwritev64v2_fn)(int, const struct iovec *, int, off64_t, int);
typedef int (*fallocate64_fn)(int, int, off64_t, off64_t);
typedef int (*pfallocate64_fn)(int, off64_t, off64_t);
typedef int (*ftruncate64_fn)(int, off64_t);
#endif

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

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite_fn, pwrite);
  if (is_target(fd))
    count_call("pwrite", (long long)off, (long long)n);
  return real_fn(fd, buf, n, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  REAL(pwritev_fn, pwritev);
  if (is_target(fd))
    count_call("pwritev", (long long)off, iov_len(iov, cnt));
  return real_fn(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
                 int flags) {
  REAL(pwritev2_fn, pwritev2);
  if (is_target(fd))
    count_call("pwritev2", (long long)off, iov_len(iov, cnt));
  return real_fn(fd, iov, cnt, off, flags);
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

int fallocate(int fd, int mode, off_t off, off_t len) {
  REAL(fallocate_fn, fallocate);
  if (is_target(fd))
    count_call("fallocate", (long long)off, (long long)len);
  return real_fn(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len) {
  REAL(pfallocate_fn, posix_fallocate);
  if (is_target(fd))
    count_call("posix_fallocate", (long long)off, (long long)len);
  return real_fn(fd, off, len);
}

int ftruncate(int fd, off_t len) {
  REAL(ftruncate_fn, ftruncate);
  if (is_target(fd))
    count_call("ftruncate", -1, (long long)len);
  return real_fn(fd, len);
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

#if defined(__GLIBC__)
/* glibc exports the large-file names as separate symbols, and 64-bit
 * programs (QEMU among them) link against those. */
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
  REAL(pwrite64_fn, pwrite64);
  if (is_target(fd))
    count_call("pwrite64", (long long)off, (long long)n);
  return real_fn(fd, buf, n, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off) {
  REAL(pwritev64_fn, pwritev64);
  if (is_target(fd))
    count_call("pwritev64", (long long)off, iov_len(iov, cnt));
  return real_fn(fd, iov, cnt, off);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off,
                    int flags) {
  REAL(pwritev64v2_fn, pwritev64v2);
  if (is_target(fd))
    count_call("pwritev64v2", (long long)off, iov_len(iov, cnt));
  return real_fn(fd, iov, cnt, off, flags);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len) {
  REAL(fallocate64_fn, fallocate64);
  if (is_target(fd))
    count_call("fallocate64", (long long)off, (long long)len);
  return real_fn(fd, mode, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len) {
  REAL(pfallocate64_fn, posix_fallocate64);
  if (is_target(fd))
    count_call("posix_fallocate64", (long long)off, (long long)len);
  return real_fn(fd, off, len);
}

int ftruncate64(int fd, off64_t len) {
  REAL(ftruncate64_fn, ftruncate64);
  if (is_target(fd))
    count_call("ftruncate64", -1, (long long)len);
  return real_fn(fd, len);
}
#endif
