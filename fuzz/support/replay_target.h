/* SPDX-License-Identifier: MIT */
/* Shared by the replay_diff fuzz targets: the input format, and
 * replay_diff_input() with the fuzzing limits, abort() with the
 * description on a difference. */
#ifndef VHDXLOG_FUZZ_REPLAY_TARGET_H
#define VHDXLOG_FUZZ_REPLAY_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* The replayed file may grow to max(input size, this); beyond, both sides
 * must say E_IO. Inputs standing for a larger image are skipped. */
#define FUZZ_REPLAY_DIFF_MAX_SIZE (64u * 1048576u)

/*
 * Input of both targets: a 4-byte prefix choosing the checks (fuzz mode of
 * replay_diff_limits, replay_diff_fuzz_limits(); missing bytes count as
 * zeros), then a packed image
 * (packed.h):
 *   0  2  crash_pick (little-endian)
 *   2  2  overlay_pick
 *   4  .. packed image
 */
#include "replay_diff.h"

#define FUZZ_REPLAY_DIFF_PREFIX REPLAY_DIFF_FUZZ_PREFIX

/* The process's workspace (created on first use). */
replay_diff_workspace *fuzz_replay_diff_workspace(void);

/* One input: expand its packed image into the workspace (repaired as its
 * options byte says when `repair`), run the checks, abort() on a
 * difference. */
void fuzz_replay_diff_run(const uint8_t *data, size_t size, int repair);

#endif
