/* SPDX-License-Identifier: MIT */
/*
 * Differential replayer: library vs reference model, then the library
 * against itself (re-runs, crash points, overlay). See replay_diff.h for the
 * checks and their order.
 *
 * Every large buffer lives in a workspace the caller keeps across inputs
 * (under ASan a fresh block over 128 KiB is a fresh mmap, and first touches
 * dominate), and an image is mostly zeros. So:
 *  - a workspace buffer is kept all zero except in the byte ranges listed
 *    with it (what was copied or written into it since it was last
 *    cleaned); cleaning zeroes only those ranges;
 *  - an input comes with the ranges where it may be non-zero (the caller
 *    lists them, or replay_diff_ex() finds them, 4 KiB at a time);
 *  - a memory file is the input's non-zero ranges copied into a clean
 *    buffer; every successful write() through it is listed (write_zeros
 *    and growth only ever write zeros; write_zeros over the input is listed
 *    anyway), so the next file of the same input restores only those;
 *  - two files (or a file and the model's image) are compared over the
 *    union of their lists: outside it both hold the input's zeros, so the
 *    comparison is exact;
 *  - loads copy only the listed ranges of the header area and the log;
 *  - the main run's plan is reused where the file is the original again
 *    (crash runs, the first run of check 2b).
 * The main run uses vhdxlog_load() itself (outside fuzz mode), and the
 * loader of the other runs (rd_load_bytes: vhdxlog_load_into() over
 * workspace buffers) must agree with it (check 0).
 */
#include <string.h>

#include "rd_internal.h"

void replay_diff_default_limits(replay_diff_limits *limits) {
  memset(limits, 0, sizeof *limits);
  limits->max_size = REPLAY_DIFF_DEFAULT_MAX_SIZE;
  limits->max_crash_points = REPLAY_DIFF_DEFAULT_CRASH_POINTS;
  limits->overlay_calls = REPLAY_DIFF_DEFAULT_OVERLAY_CALLS;
  limits->model_on_result = 1;
}

void replay_diff_fuzz_limits(const uint8_t *prefix, size_t prefix_size,
                             replay_diff_limits *limits) {
  uint8_t p[REPLAY_DIFF_FUZZ_PREFIX];
  memset(p, 0, sizeof p);
  if (prefix != NULL)
    memcpy(p, prefix, prefix_size < sizeof p ? prefix_size : sizeof p);
  replay_diff_default_limits(limits);
  limits->model_on_result = 0; /* a second model run per input */
  limits->fuzz_mode = 1;
  limits->overlay_calls = 4;
  limits->crash_pick = (uint16_t)(p[0] | p[1] << 8);
  limits->overlay_pick = (uint16_t)(p[2] | p[3] << 8);
}

/* Checks 0-4 once the workspace is ready. */
static int run_checks(diff *d, const input *in) {
  mfile mf;
  vhdxlog_loaded main_load;
  const vhdxlog_plan *main_plan = NULL;
  vhdxlog_replay_result result;
  vhdxlog_error error;
  vhdxlog_status st;
  lib_outcome o;
  int rc;

  /* 1. Library (vhdxlog_load + vhdxlog_replay) vs model. In fuzz mode the
   * main run loads with rd_load_bytes() (vhdxlog_load_into) instead:
   * vhdxlog_load()'s fresh 1 MiB blocks cost more than every other check
   * together. */
  if ((rc = rd_file_open(d, SB_MAIN, &mf, in)) != 0)
    return rc;
  memset(&result, 0, sizeof result);
  memset(&error, 0, sizeof error);
  if (d->lim->fuzz_mode)
    st = rd_load_bytes(d, SB_MAIN_AREA, in->data, in->size, in->nz, in->nz->n,
                       &main_load, &error);
  else
    st = vhdxlog_load(&mf.io, &main_load, &error);
  if (main_load.plan_ready)
    main_plan = &main_load.plan;
  if (st == VHDXLOG_OK)
    st =
        vhdxlog_replay(main_plan, &mf.io, d->buffer, BUF_MAIN, &result, &error);
  o.status = st;
  o.result = &result;
  o.plan = main_plan;
  o.data = mf.mf.data;
  o.size = mf.mf.size;
  o.written = &mf.b->dirty;
  rc = rd_check_model(d, &o, in->data, in->size, in->nz, "");

  /* 0. vhdxlog_load_into() over workspace buffers (the loader of the
   * repeated runs) agrees with vhdxlog_load(). */
  if (rc == 0 && !d->lim->fuzz_mode) {
    vhdxlog_loaded l;
    vhdxlog_error le = {VHDXLOG_OK, VHDXLOG_OK, 0, 0}; /* as `error` began */
    vhdxlog_status ls = rd_load_bytes(d, SB_AREA, in->data, in->size, in->nz,
                                      in->nz->n, &l, &le);
    vhdxlog_status ms = main_load.plan_ready ? VHDXLOG_OK : st;
    /* A failed load left its error in `error` (no replay ran). */
    int same_error = ms == VHDXLOG_OK ||
                     (le.status == error.status && le.cause == error.cause &&
                      le.offset == error.offset && le.index == error.index);
    if (ls != ms || !same_error ||
        (ls == VHDXLOG_OK && !rd_same_plan(&l.plan, &main_load.plan)))
      rc = rd_say(d, 1,
                  "vhdxlog_load_into disagrees with vhdxlog_load (%s vs %s, "
                  "cause %s vs %s, offset %llu vs %llu, index %lu vs %lu)",
                  rd_name_of(ls).s, rd_name_of(ms).s, rd_name_of(le.cause).s,
                  rd_name_of(error.cause).s, (unsigned long long)le.offset,
                  (unsigned long long)error.offset, (unsigned long)le.index,
                  (unsigned long)error.index);
  }

  /* The rest checks the library's own replay: only when there is one. */
  if (rc == 0 && st == VHDXLOG_OK) {
    /* 2. Idempotence. */
    rc = rd_check_replay_again(d, &mf);
    if (rc == 0)
      rc = rd_check_writes_twice(d, in, main_plan, &mf);
    /* 3. Crash after each write (or a sample of them), then re-run. */
    if (rc == 0)
      rc = rd_check_crashes(d, in, main_plan, &mf);
    /* 4. Overlay of the original file under the original plan. */
    if (rc == 0)
      rc = rd_check_overlay(d, "", main_plan, in->data, in->size, mf.mf.data,
                            mf.mf.size, d->lim->overlay_calls, &mf.b->dirty);
  }
  vhdxlog_loaded_free(&main_load);
  rd_file_done(&mf);
  if (rc == 0 && rd_ws_oom(d->ws))
    rc = rd_say(d, -1, "cannot allocate an extent list");
  return rc;
}

static int run(const uint8_t *image, size_t size, const ext_list *nz,
               const replay_diff_limits *limits, replay_diff_workspace *ws,
               char *why, size_t why_size) {
  diff d;
  input in;
  d.lim = limits;
  d.ws = ws;
  d.why = why;
  d.why_size = why_size;
  in.data = image;
  in.size = size;
  in.nz = nz;
  ws->gen++;
  d.buffer = rd_wb_get(&ws->replay, BUF_MAIN);
  if (d.buffer == NULL)
    return rd_say(&d, -1, "cannot allocate the replay buffer");
  return run_checks(&d, &in);
}

int replay_diff_ex(const uint8_t *image, size_t size,
                   const replay_diff_limits *limits, replay_diff_workspace *ws,
                   char *why, size_t why_size) {
  static const uint8_t zeros[SCAN_BLOCK] = {0};
  size_t off;

  why[0] = '\0';
  /* The image's non-zero ranges, 4 KiB at a time. */
  ws->scan.n = 0;
  ws->scan.oom = 0;
  for (off = 0; off < size; off += SCAN_BLOCK) {
    size_t n = size - off < SCAN_BLOCK ? size - off : SCAN_BLOCK;
    if (memcmp(image + off, zeros, n) != 0)
      rd_ext_add(&ws->scan, off, off + n);
  }
  return run(image, size, &ws->scan, limits, ws, why, why_size);
}

int replay_diff_input(const replay_diff_limits *limits,
                      replay_diff_workspace *ws, char *why, size_t why_size) {
  why[0] = '\0';
  return run(ws->b[SB_INPUT].p, ws->input_size, &ws->b[SB_INPUT].dirty, limits,
             ws, why, why_size);
}
