#include "fuzz_replay_diff_common.h"

#include <stdio.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "replay_diff.h"

/*
 * Without AddressSanitizer (AFL++ without AFL_USE_ASAN, the standalone
 * reproducer), glibc serves blocks over 128 KiB..32 MiB with a fresh mmap
 * too, and the model's and the loader's per-input blocks would pay the
 * page-fault cost replay_diff.h describes: keep them on the heap. Under
 * ASan mallopt() is a no-op. libFuzzer and AFL++ call this hook; the
 * standalone reproducer does not need it.
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

void fuzz_replay_diff_run(const uint8_t *image, size_t size) {
  replay_diff_limits lim;
  char why[512];

  replay_diff_default_limits(&lim);
  lim.max_size = FUZZ_REPLAY_DIFF_MAX_SIZE;
  lim.overlay_calls = 64;  /* the crash points add 17 each */
  lim.model_on_result = 0; /* a second model run per input halves speed */
  /* -1 (memory ran out) is not a finding: libFuzzer's own -rss_limit_mb
   * and -malloc_limit_mb report real leaks and blow-ups. */
  if (replay_diff_ex(image, size, &lim, fuzz_replay_diff_workspace(), why,
                     sizeof why) == 1) {
    fprintf(stderr, "replay_diff: %s\n", why);
    abort();
  }
}
