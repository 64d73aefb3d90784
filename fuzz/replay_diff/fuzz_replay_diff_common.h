/* Shared by the replay_diff fuzz targets: run replay_diff_ex() with the
 * fuzzing limits and abort() with the description on a difference. */
#ifndef VHDXLOG_FUZZ_REPLAY_DIFF_COMMON_H
#define VHDXLOG_FUZZ_REPLAY_DIFF_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The replayed file may grow to this much (and the packed target expands
 * inputs up to it). */
#define FUZZ_REPLAY_DIFF_MAX_SIZE (64u * 1048576u)

#include "replay_diff.h"

/* The process's workspace (created on first use). */
replay_diff_workspace *fuzz_replay_diff_workspace(void);

/* replay_diff_ex() with the fuzzing limits; abort() on a difference. */
void fuzz_replay_diff_run(const uint8_t *image, size_t size);

#endif
