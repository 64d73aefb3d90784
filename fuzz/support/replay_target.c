/* SPDX-License-Identifier: MIT */
#include "replay_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "packed.h"
#include "repair.h"
#include "replay_diff.h"
#include "vhdxlog.h"

/*
 * Without AddressSanitizer (AFL++ without AFL_USE_ASAN, the standalone
 * reproducer), glibc serves blocks over 128 KiB..32 MiB with a fresh mmap
 * too, and any per-input block would pay the page-fault cost replay_diff.h
 * describes: keep them on the heap. Under ASan mallopt() is a no-op.
 * libFuzzer and AFL++ call this hook; the standalone reproducer does not
 * need it.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
#endif
  return 0;
}

/* The workspace lives as long as the process: large buffers are reused
 * instead of being mmapped afresh for every input (replay_diff.h says why).
 * It holds no state that changes what an input does. */
static replay_diff_workspace *workspace;

replay_diff_workspace *fuzz_replay_diff_workspace(void) {
  if (workspace == NULL) {
    workspace = replay_diff_workspace_new();
    if (workspace == NULL)
      abort();
  }
  return workspace;
}

static void mark(void *ctx, uint64_t off, uint64_t end) {
  replay_diff_workspace_mark(ctx, off, end);
}

void fuzz_replay_diff_run(const uint8_t *data, size_t size, int repair) {
  size_t skip = size < FUZZ_REPLAY_DIFF_PREFIX ? size : FUZZ_REPLAY_DIFF_PREFIX;
  const uint8_t *packed = data + skip;
  size_t packed_size = size - skip;
  uint64_t image_size = rd_unpacked_size(packed, packed_size);
  replay_diff_workspace *ws = fuzz_replay_diff_workspace();
  uint64_t ranges[RD_PACKED_RANGES][2];
  replay_diff_limits lim;
  unsigned options;
  uint8_t *image;
  size_t n, i;
  char why[512];

  if (image_size > FUZZ_REPLAY_DIFF_MAX_SIZE)
    return;
  /* Expanded into the workspace's clean input buffer: only the kept
   * pieces and the tail are written (and marked). */
  image = replay_diff_workspace_input(ws, (size_t)image_size);
  if (image == NULL)
    return;
  n = rd_unpack_sparse(packed, packed_size, image, &options, ranges);
  for (i = 0; i < n; i++)
    replay_diff_workspace_mark(ws, ranges[i][0], ranges[i][1]);
  if (repair) {
    vtk_repair_use_crc(
        vhdxlog_crc32c); /* fast; the oracle checks with its own */
    vtk_repair_image_marked(image, (size_t)image_size,
                            rd_packed_repair_options(options), mark, ws);
  }
  replay_diff_fuzz_limits(data, size, &lim);
  lim.max_size = FUZZ_REPLAY_DIFF_MAX_SIZE;
  /* -1 (memory ran out) is not a finding: libFuzzer's own -rss_limit_mb
   * and -malloc_limit_mb report real leaks and blow-ups. */
  if (replay_diff_input(&lim, ws, why, sizeof why) == 1) {
    fprintf(stderr, "replay_diff: %s\n", why);
    abort();
  }
}
