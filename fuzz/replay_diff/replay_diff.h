/* SPDX-License-Identifier: MIT */
/*
 * Differential replayer: runs one VHDX image through the library (lib/ + the
 * memory backend of io/) and through the reference model (oracle/) and
 * checks that they agree, then checks the library against itself under
 * re-runs, crashes and the read-only overlay.
 *
 * The checks, in the order they run (the first difference is reported):
 *  1. library (vhdxlog_load() over an io/ memory file, vhdxlog_replay())
 *     vs model_replay(): the same vhdxlog_status, and, unless the model says
 *     VHDXLOG_E_IO (model.h: then only the status is compared), the same
 *     resulting image, size included. On a validation error both must leave
 *     the input unchanged. When both replayed: the same "replayed" and
 *     "headers_repaired" flags and the same active sequence (tail, head,
 *     entry count, head SequenceNumber).
 *  0. (right after 1) the loader the repeated runs below use
 *     (vhdxlog_load_into() over workspace buffers) agrees with
 *     vhdxlog_load() on the input: same status, same plan.
 *  2. idempotence:
 *     a. the replayed image loads and its replay finds nothing to do: no
 *        write is even attempted (read-only I/O); with
 *        limits.model_on_result the model agrees with the library on it;
 *     b. the log's writes applied twice give the bytes of one replay: a
 *        first replay (the main plan, on a copy of the original) runs with
 *        every header write intercepted and dropped, so the file keeps its
 *        dirty headers but holds every descriptor write and its replayed
 *        size; then a fresh load + plan + replay of that file must end with
 *        the bytes of the uninterrupted replay.
 *  3. crash recovery: for crash points k = 0 .. W-1 (W = write, write_zeros
 *     and set_size calls of the uninterrupted replay), the replay of a copy
 *     of the original (the main plan) with the memory backend's
 *     fail_at_write = k must fail with VHDXLOG_E_IO after exactly k writes;
 *     then, fault cleared, a fresh load + plan + replay of the same file
 *     must succeed with the bytes of the uninterrupted replay. Each
 *     interrupted file must also already carry the new FileWriteGuid in its
 *     current header if any byte outside the header slots (or the size)
 *     changed (MS-VHDX 2.2.2: FileWriteGuid changes before the first
 *     modification), and read through the overlay of its own plan it must
 *     show the bytes of the uninterrupted replay.
 *  4. overlay: vhdxlog_overlay_read() of the whole replayed size, in chunks
 *     of odd sizes at odd offsets, each chunk starting from the original
 *     file's bytes (zeros past its end), equals the replayed image.
 *
 * The runs use different replay buffer sizes (one sector, a few sectors plus
 * an odd tail, 64 KiB plus an odd tail), so the coalescing of data writes
 * must not change any byte either.
 *
 * Allocates (the model, vhdxlog_load(), the workspace). No global state:
 * safe to call concurrently on different inputs with different workspaces.
 */
#ifndef VHDXLOG_REPLAY_DIFF_H
#define VHDXLOG_REPLAY_DIFF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds of one comparison, so that a fuzzer's input stays cheap. */
typedef struct replay_diff_limits {
  /* The replayed file may grow up to max(input size, max_size); beyond,
   * both sides report VHDXLOG_E_IO and only the statuses are compared. */
  uint64_t max_size;
  /* Crash points tried: all of 0..W-1 when W <= max_crash_points, else a
   * deterministic sample of max_crash_points (the first and the last
   * quarter of the budget at both ends, the rest spread evenly). */
  uint32_t max_crash_points;
  /* Overlay reads: chunks are sized so that about this many calls cover the
   * replayed size (each call costs a pass over the sequence). */
  uint32_t overlay_calls;
  /* 1: also compare the model with the library on the replayed image
   * (check 2a), which costs a second model run. */
  int model_on_result;
  /* 1: fuzz mode, fewer checks per input, each as exact, the input
   * choosing which (the fuzz targets' 4-byte prefix):
   *  - the main run loads with the loader of the repeated runs instead of
   *    vhdxlog_load() (whose fresh 1 MiB blocks cost more than everything
   *    else), so check 0 does not run;
   *  - crash points crash_pick % W and W - 1 only;
   *  - each overlay check (4, and the one of each crash point) reads both
   *    header slots in two chunks split at an odd offset the pick chooses,
   *    and overlay_calls chunks (odd sizes around 4 KiB) from the start of
   *    the written or non-zero range overlay_pick chooses, moved back by
   *    up to 4 KiB, instead of the whole file;
   *  - the memory files are testkit/mem_file.c's with zero_past_size set:
   * growth writes no zeros, their buffers being clean past the end. 0: every
   * check in full, over testkit/mem_file.c (vhdxlog-diff, CTest). */
  int fuzz_mode;
  uint16_t crash_pick;
  uint16_t overlay_pick;
} replay_diff_limits;

/* 64 MiB, 64 crash points, 256 overlay calls, model on the result, not
 * fuzz mode. */
#define REPLAY_DIFF_DEFAULT_MAX_SIZE (64u * 1048576u)
#define REPLAY_DIFF_DEFAULT_CRASH_POINTS 64u
#define REPLAY_DIFF_DEFAULT_OVERLAY_CALLS 256u

void replay_diff_default_limits(replay_diff_limits *limits);

/* The fuzz targets' limits: fuzz mode with the picks of a 4-byte prefix
 * (crash_pick, overlay_pick, little-endian; zeros past prefix_size), the
 * default max_size, 4 overlay chunks from the picked point, no model run
 * on the result. */
#define REPLAY_DIFF_FUZZ_PREFIX 4u
void replay_diff_fuzz_limits(const uint8_t *prefix, size_t prefix_size,
                             replay_diff_limits *limits);

/*
 * Large buffers (memory files, the model's image, header areas, logs,
 * overlay chunks) kept from one call to the next. Why: under
 * AddressSanitizer every block over 128 KiB is a fresh mmap whose pages
 * fault on first touch, and that cost dwarfs the work itself. Each buffer
 * is kept all zero outside the ranges written since it was last cleaned,
 * so that only those ranges are copied, compared and cleaned (replay_diff.c
 * says how); nothing else carries over from one input to the next. Under
 * ASan the unused tail of the load buffers is poisoned. A fuzz target
 * keeps one for the life of the process.
 */
typedef struct replay_diff_workspace replay_diff_workspace;
replay_diff_workspace *replay_diff_workspace_new(void);
void replay_diff_workspace_free(replay_diff_workspace *ws);
/* A buffer of `size` bytes, all zero, for the caller's own input image
 * (e.g. a packed image expanded in place); NULL when memory ran out. The
 * caller writes the image into it and names every range it wrote with
 * replay_diff_workspace_mark() (a byte outside every marked range must be
 * zero), then calls replay_diff_input(). Valid until the next call of
 * replay_diff_workspace_input(). */
uint8_t *replay_diff_workspace_input(replay_diff_workspace *ws, size_t size);
void replay_diff_workspace_mark(replay_diff_workspace *ws, uint64_t offset,
                                uint64_t end);
/*
 * Compare library and model on `image` (the whole file, `size` bytes) with
 * the `limits` given, in the workspace `ws`. Returns 0 when every check
 * agrees. Otherwise non-zero, with a one-line description of the first
 * difference in `why` (why_size > 0; always NUL-terminated), e.g.
 *   "library E_LOG_NO_SEQUENCE vs model OK"
 *   "replayed images differ at byte 0x11000 (lib 0x00, model 0x5a)"
 *   "crash after write 3 then re-run: differs at 0x10010 (...)"
 * Returns 1 for a difference; -1 (with a "cannot ..." description) when
 * memory ran out, which is not a difference.
 */
int replay_diff_ex(const uint8_t *image, size_t size,
                   const replay_diff_limits *limits, replay_diff_workspace *ws,
                   char *why, size_t why_size);
/* replay_diff_ex() on the workspace's input image. */
int replay_diff_input(const replay_diff_limits *limits,
                      replay_diff_workspace *ws, char *why, size_t why_size);

#ifdef __cplusplus
}
#endif
#endif
