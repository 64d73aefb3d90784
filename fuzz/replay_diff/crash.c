/* SPDX-License-Identifier: MIT */
/* Check 3: a crash after each write (or a spread of them), then a
 * re-run that must reach the same bytes. */
#include <stdio.h>
#include <string.h>

#include "rd_internal.h"

/* The i-th of `count` crash points among 0..writes-1 (see
 * replay_diff_limits.max_crash_points). */
static uint64_t crash_point(uint64_t writes, uint32_t count, uint32_t i) {
  uint64_t edge = count / 4, middle;
  if (writes <= count)
    return i;
  if (i < edge)
    return i;
  if (i >= count - edge)
    return writes - (count - i);
  middle = count - 2 * edge;
  return edge + (i - edge) * (writes - 2 * edge) / middle;
}

/* Does the file differ from the input outside the header slots (bytes or
 * size)? Outside the file's list both are zero. */
static int data_modified(const input *in, const mfile *f) {
  const ext_list *l = &f->b->dirty;
  size_t i;
  if (f->mf.size != in->size)
    return 1;
  for (i = 0; i < l->n; i++) {
    uint64_t lo = l->e[i][0], hi = l->e[i][1];
    if (hi > in->size)
      hi = in->size;
    /* [lo, hi) minus [HEADERS_BEGIN, HEADERS_END) */
    if (lo < HEADERS_BEGIN) {
      uint64_t e = hi < HEADERS_BEGIN ? hi : HEADERS_BEGIN;
      if (lo < e && memcmp(in->data + lo, f->mf.data + lo, (size_t)(e - lo)))
        return 1;
    }
    if (hi > HEADERS_END) {
      uint64_t s = lo > HEADERS_END ? lo : HEADERS_END;
      if (s < hi && memcmp(in->data + s, f->mf.data + s, (size_t)(hi - s)))
        return 1;
    }
  }
  return 0;
}

/* One crash point: the replay of the original (with the main plan, as the
 * file is the original again) stops after write k; then the interrupted
 * file is loaded afresh, checked, and replayed to the end. */
static int crash_once(diff *d, const input *in, const vhdxlog_plan *main_plan,
                      const mfile *main_file, uint64_t k, mfile *f) {
  ext_list main_writes;
  vhdxlog_error error;
  vhdxlog_status st;
  vhdxlog_loaded l;
  char context[80], what[96];

  f->mf.fail_at_write = (int64_t)k;
  st = vhdxlog_replay(main_plan, &f->io, d->buffer, BUF_MAIN, NULL, &error);
  if (st != VHDXLOG_E_IO || f->mf.writes != k) {
    return rd_say(d, 1,
                  "crash after write %llu: library %s after %llu writes, "
                  "expected E_IO after %llu",
                  (unsigned long long)k, rd_name_of(st).s,
                  (unsigned long long)f->mf.writes, (unsigned long long)k);
  }
  f->mf.fail_at_write = -1;
  snprintf(context, sizeof context,
           "crash after write %llu then re-run:", (unsigned long long)k);

  st = rd_load_bytes(d, SB_AREA, f->mf.data, f->mf.size, &f->b->dirty,
                     f->b->dirty.frozen, &l, &error);
  if (st != VHDXLOG_OK)
    return rd_say(d, 1, "%s load %s", context, rd_name_of(st).s);
  if (main_plan->replay && data_modified(in, f) &&
      memcmp(l.image.headers[l.image.current].file_write_guid,
             main_plan->new_file_write_guid, 16) != 0) {
    /* MS-VHDX 2.2.2: the FileWriteGuid changes (durably: the header
     * update is flushed) before the first modification of the file. */
    return rd_say(
        d, 1,
        "crash after write %llu: the file is modified but its current "
        "header's FileWriteGuid is not the new one yet",
        (unsigned long long)k);
  }
  {
    /* The interrupted file, read through the overlay of its own plan,
     * already shows the final bytes (a re-run reaches them). A quarter of
     * the calls: this runs for every crash point. */
    char ocontext[80];
    int rc;
    snprintf(ocontext, sizeof ocontext,
             "crash after write %llu, read-only: ", (unsigned long long)k);
    rc = rd_check_overlay(d, ocontext, &l.plan, f->mf.data, f->mf.size,
                          main_file->mf.data, main_file->mf.size,
                          d->lim->fuzz_mode ? d->lim->overlay_calls
                                            : d->lim->overlay_calls / 4 + 1,
                          &main_file->b->dirty);
    if (rc != 0)
      return rc;
  }
  st = vhdxlog_replay(&l.plan, &f->io, d->buffer, BUF_RERUN, NULL, &error);
  if (st != VHDXLOG_OK)
    return rd_say(d, 1, "%s library %s", context, rd_name_of(st).s);
  snprintf(what, sizeof what, "%s differs", context);
  main_writes = rd_writes_only(&main_file->b->dirty); /* as in check 2b */
  return rd_compare_images(
      d, what, "re-run", f->mf.data, f->mf.size, "uninterrupted",
      main_file->mf.data, main_file->mf.size, &f->b->dirty, &main_writes, NULL);
}

static int crash_at(diff *d, const input *in, const vhdxlog_plan *main_plan,
                    const mfile *main_file, uint64_t k) {
  mfile f;
  int rc;
  if ((rc = rd_file_open(d, SB_SCRATCH, &f, in)) != 0)
    return rc;
  rc = crash_once(d, in, main_plan, main_file, k, &f);
  rd_file_done(&f);
  return rc;
}

int rd_check_crashes(diff *d, const input *in, const vhdxlog_plan *main_plan,
                     const mfile *main_file) {
  uint64_t writes = main_file->mf.writes;
  uint64_t points, i;
  int rc = 0;

  if (writes == 0)
    return 0;
  if (d->lim->fuzz_mode) {
    /* The point the input picks, and the last one. */
    uint64_t a = d->lim->crash_pick % writes;
    rc = crash_at(d, in, main_plan, main_file, a);
    if (rc == 0 && a != writes - 1)
      rc = crash_at(d, in, main_plan, main_file, writes - 1);
    return rc;
  }
  points =
      writes < d->lim->max_crash_points ? writes : d->lim->max_crash_points;
  for (i = 0; i < points && rc == 0; i++)
    rc = crash_at(d, in, main_plan, main_file,
                  crash_point(writes, (uint32_t)points, (uint32_t)i));
  return rc;
}
