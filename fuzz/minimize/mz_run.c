/* SPDX-License-Identifier: MIT */
/*
 * Running the target on a candidate: a child process with its own process
 * group (killed whole at the timeout), stdout and stderr into a pipe, the
 * sanitizers told not to symbolize (a symbolizer process per crashing run
 * would cost more than the run): the report's frames are symbolized here,
 * by one llvm-symbolizer kept for the whole minimisation.
 */
#define _XOPEN_SOURCE 700
#include "files.h"
#include "minimize.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPORT_MAX (1u << 20)

struct mz_runner {
  char binary[4096];
  char root[4096];
  char dir[4096];
  char file[4200];
  char **argv;
  unsigned timeout_ms;
  unsigned long runs;
  mz_symbolizer *sym;
  char *report;
};

/* NAME=old:extra (later options win in the sanitizers' parsing). */
static void add_env(const char *name, const char *extra) {
  const char *old = getenv(name);
  size_t n = (old ? strlen(old) : 0) + strlen(extra) + 2;
  char *v = malloc(n);
  if (v == NULL)
    return;
  snprintf(v, n, "%s%s%s", old ? old : "", old && *old ? ":" : "", extra);
  setenv(name, v, 1);
  free(v);
}

mz_runner *mz_runner_new(const char *binary, char **args, int nargs,
                         unsigned timeout_ms, const char *root) {
  mz_runner *r = calloc(1, sizeof *r);
  const char *tmp = getenv("TMPDIR");
  int i;
  if (r == NULL || realpath(binary, r->binary) == NULL)
    goto fail;
  snprintf(r->root, sizeof r->root, "%s", root);
  snprintf(r->dir, sizeof r->dir, "%s/vhdxlog-minimize-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(r->dir) == NULL)
    goto fail;
  snprintf(r->file, sizeof r->file, "%s/candidate", r->dir);
  r->argv = calloc((size_t)nargs + 3, sizeof *r->argv);
  r->report = malloc(REPORT_MAX + 1);
  if (r->argv == NULL || r->report == NULL)
    goto fail;
  r->argv[0] = r->binary;
  for (i = 0; i < nargs; i++)
    r->argv[1 + i] = args[i];
  r->argv[1 + nargs] = r->file;
  r->timeout_ms = timeout_ms;
  r->sym = mz_symbolizer_new(r->binary);
  /* Without our symbolizer the sanitizers symbolize (slower). */
  add_env("ASAN_OPTIONS", r->sym ? "symbolize=0" : "symbolize=1");
  add_env("UBSAN_OPTIONS", r->sym ? "print_stacktrace=1:symbolize=0"
                                  : "print_stacktrace=1:symbolize=1");
  return r;
fail:
  if (r != NULL) {
    free(r->argv);
    free(r->report);
  }
  free(r);
  return NULL;
}

/* Collect the child's output until EOF or the deadline; 1: timed out. */
static int collect(mz_runner *r, int fd, pid_t pid, size_t *len) {
  long long deadline = mz_now_ms() + r->timeout_ms;
  char scratch[4096];
  *len = 0;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    long long left = deadline - mz_now_ms();
    ssize_t got;
    if (left <= 0) {
      kill(-pid, SIGKILL);
      return 1;
    }
    if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
      return 1;
    if (!(p.revents & (POLLIN | POLLHUP)))
      continue;
    got = read(fd, *len < REPORT_MAX ? r->report + *len : scratch,
               *len < REPORT_MAX ? REPORT_MAX - *len : sizeof scratch);
    if (got <= 0)
      return 0;
    if (*len < REPORT_MAX)
      *len += (size_t)got;
  }
}

int mz_run(mz_runner *r, const uint8_t *data, size_t n, mz_sig *sig) {
  int fds[2], status = 0, timed_out;
  size_t len;
  pid_t pid;
  memset(sig, 0, sizeof *sig);
  if (fuzz_write_file(r->file, NULL, 0, data, n) != 0 || pipe(fds) != 0)
    return -1;
  pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execv(r->binary, r->argv);
    _exit(127);
  }
  setpgid(pid, pid); /* as the child does: no race with kill(-pid) */
  close(fds[1]);
  timed_out = collect(r, fds[0], pid, &len);
  close(fds[0]);
  waitpid(pid, &status, 0);
  r->runs++;
  r->report[len] = '\0';
  if (timed_out) {
    sig->crashed = 1;
    snprintf(sig->kind, sizeof sig->kind, "timeout");
    return 0;
  }
  mz_report_parse(r->report, r->sym, r->binary, r->root, sig);
  if (!sig->crashed && WIFSIGNALED(status)) {
    sig->crashed = 1;
    snprintf(sig->kind + strlen(sig->kind),
             sizeof sig->kind - strlen(sig->kind), "%ssignal %d",
             sig->kind[0] ? " / " : "", WTERMSIG(status));
  }
  return 0;
}

unsigned long mz_runs(const mz_runner *r) { return r->runs; }

void mz_runner_free(mz_runner *r) {
  if (r == NULL)
    return;
  unlink(r->file);
  rmdir(r->dir);
  mz_symbolizer_free(r->sym);
  free(r->argv);
  free(r->report);
  free(r);
}
