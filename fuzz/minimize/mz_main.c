/* SPDX-License-Identifier: MIT */
/*
 * vhdxlog-minimize [options] TARGET CRASH [-- TARGET-ARGS...]
 * Shrinks CRASH, an input on which the fuzz target binary TARGET crashes,
 * keeping the crash's signature (README.md).
 */
#define _XOPEN_SOURCE 700
#include "files.h"
#include "minimize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef VHDXLOG_SOURCE_DIR
#define VHDXLOG_SOURCE_DIR "."
#endif

static void usage(void) {
  fprintf(stderr,
          "usage: vhdxlog-minimize [-l LAYOUT] [-o OUT] [-t SECONDS] "
          "[-T SECONDS] [-r ROOT] [-q] [-s] TARGET CRASH [-- ARGS...]\n"
          "  -l  input layout: a target name (default: TARGET's file name),\n"
          "      log:N or packed:N (N prefix bytes)\n"
          "  -o  output file (default CRASH.min; written at every step)\n"
          "  -t  timeout per run (default 25)   -T  time budget (default 600)\n"
          "  -r  source root for the in-project frame (default the build's)\n"
          "  -s  print CRASH's signature and exit (0: it crashes)\n");
}

int main(int argc, char **argv) {
  mz_ctx c;
  const char *layout = NULL, *root = VHDXLOG_SOURCE_DIR, *base;
  char out[4200], rroot[4096];
  unsigned timeout = 25, budget = 600;
  int opt, sig_only = 0, status, rest;
  long long start = mz_now_ms();
  size_t before;

  memset(&c, 0, sizeof c);
  c.verbose = 1;
  out[0] = '\0';
  while ((opt = getopt(argc, argv, "+l:o:t:T:r:qsh")) != -1) {
    switch (opt) {
    case 'l':
      layout = optarg;
      break;
    case 'o':
      snprintf(out, sizeof out, "%s", optarg);
      break;
    case 't':
      timeout = (unsigned)strtoul(optarg, NULL, 10);
      break;
    case 'T':
      budget = (unsigned)strtoul(optarg, NULL, 10);
      break;
    case 'r':
      root = optarg;
      break;
    case 'q':
      c.verbose = 0;
      break;
    case 's':
      sig_only = 1;
      break;
    default:
      usage();
      return 2;
    }
  }
  if (argc - optind < 2 || timeout == 0) {
    usage();
    return 2;
  }
  base = strrchr(argv[optind], '/');
  base = base ? base + 1 : argv[optind];
  if (mz_layout_find(layout ? layout : base, &c.layout) != 0) {
    fprintf(stderr, "minimize: unknown layout '%s' (use -l)\n",
            layout ? layout : base);
    return 2;
  }
  if (realpath(root, rroot) == NULL) {
    perror(root);
    return 2;
  }
  if (fuzz_read_file(argv[optind + 1], &c.cur.p, &c.cur.n) != 0) {
    perror(argv[optind + 1]);
    mz_buf_free(&c.cur);
    return 2;
  }
  if (!out[0])
    snprintf(out, sizeof out, "%s.min", argv[optind + 1]);
  c.out_path = out;
  rest = optind + 2; /* the target's own arguments, after an optional -- */
  if (rest < argc && strcmp(argv[rest], "--") == 0)
    rest++;
  c.runner = mz_runner_new(argv[optind], argv + rest, argc - rest,
                           timeout * 1000u, rroot);
  if (c.runner == NULL || mz_run(c.runner, c.cur.p, c.cur.n, &c.want) != 0) {
    fprintf(stderr, "minimize: cannot run %s\n", argv[optind]);
    mz_runner_free(c.runner);
    mz_buf_free(&c.cur);
    return 2;
  }
  printf("signature: %s | %s\n", c.want.crashed ? c.want.kind : "no crash",
         c.want.frame[0] ? c.want.frame : "(no frame in the project)");
  fflush(stdout);
  if (sig_only || !c.want.crashed) {
    mz_runner_free(c.runner);
    mz_buf_free(&c.cur);
    return c.want.crashed ? 0 : 1;
  }
  before = c.cur.n;
  c.deadline = start + (long long)budget * 1000;
  status = mz_minimize(&c);
  printf("%s: %zu -> %zu bytes, %lu runs, %lu kept, %.1f s%s\n", out, before,
         c.cur.n, mz_runs(c.runner), c.accepted,
         (double)(mz_now_ms() - start) / 1000.0,
         c.out_of_time ? " (time budget reached)" : "");
  mz_runner_free(c.runner);
  mz_buf_free(&c.cur);
  return status == 0 ? 0 : 2;
}
