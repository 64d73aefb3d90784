/* SPDX-License-Identifier: MIT */
/* Check 1 (library vs model) and check 2 (replay again; writes twice). */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "rd_internal.h"

/* The model on an image (`data`, `size` bytes, zero outside the ranges of
 * `l`), in the workspace's model buffer, then compared with the library's
 * outcome. */
int rd_check_model(diff *d, const lib_outcome *lib, const uint8_t *data,
                   uint64_t size, const ext_list *l, const char *context) {
  sbuf *b = &d->ws->b[SB_MODEL];
  uint64_t max = rd_file_max(d, (size_t)size);
  size_t want = max > (uint64_t)SIZE_MAX ? (size_t)size : (size_t)max;
  uint8_t *p = rd_sb_get(b, (size_t)size, want, 0);
  ext_list mw;
  model_result m;
  char what[96];
  int rc = 0;

  if (p == NULL)
    return rd_say(d, -1, "cannot allocate the model's image");
  rd_copy_ranges(p, &b->dirty, data, size, l, 0, size);
  model_replay_in(p, (size_t)size, b->cap, d->lim->max_size, &m);
  memset(&mw, 0, sizeof mw);
  mw.e = m.written;
  mw.n = m.written_count;
  if (lib->status != m.status) {
    rc = rd_say(d, 1, "%slibrary %s vs model %s", context,
                rd_name_of(lib->status).s, rd_name_of(m.status).s);
    goto done;
  }
  /* model.h: on E_IO only the status is comparable (the library may have
   * written part of the replay before the file refused to grow). */
  if (m.status == VHDXLOG_E_IO)
    goto done;
  snprintf(what, sizeof what, "%sreplayed images differ", context);
  /* lib->written lists the input's ranges too (lib_outcome), so `l` need
   * not be compared again. */
  rc = rd_compare_images(d, what, "lib", lib->data, lib->size, "model", m.image,
                         m.image_size, lib->written, &mw, NULL);
  if (rc != 0 || m.status != VHDXLOG_OK)
    goto done;
  if (lib->result->replayed != m.replayed ||
      lib->result->headers_repaired != m.headers_repaired ||
      lib->result->armed_cleared != m.armed_cleared) {
    rc =
        rd_say(d, 1,
               "%sreplayed/headers_repaired/armed_cleared: library %d/%d/%d vs "
               "model %d/%d/%d",
               context, lib->result->replayed, lib->result->headers_repaired,
               lib->result->armed_cleared, m.replayed, m.headers_repaired,
               m.armed_cleared);
    goto done;
  }
  if (m.replayed && lib->plan != NULL) {
    const vhdxlog_sequence *s = &lib->plan->seq;
    if (s->tail_offset != m.tail_offset || s->head_offset != m.head_offset ||
        s->entry_count != m.entry_count ||
        s->head_sequence_number != m.head_sequence_number) {
      rc = rd_say(d, 1,
                  "%sactive sequence: library tail 0x%x head 0x%x (%u entries,"
                  " head seq %llu) vs model tail 0x%x head 0x%x (%u entries,"
                  " head seq %llu)",
                  context, s->tail_offset, s->head_offset, s->entry_count,
                  (unsigned long long)s->head_sequence_number, m.tail_offset,
                  m.head_offset, m.entry_count,
                  (unsigned long long)m.head_sequence_number);
    }
  }
done:
  /* What the model wrote into the workspace buffer is cleaned next time. */
  if (m.image == p) {
    size_t i;
    for (i = 0; i < m.written_count; i++)
      rd_ext_add(&b->dirty, m.written[i][0], m.written[i][1]);
  }
  model_result_free(&m);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Check 2: idempotence.                                                    */

/* 2a: the replayed image, loaded and replayed again, needs nothing: no
 * write is even attempted (read-only I/O). Optionally the model agrees with
 * the library on it (check 1 on a second input). */
int rd_check_replay_again(diff *d, const mfile *main_file) {
  ro_file rf;
  vhdxlog_io io;
  vhdxlog_replay_result res;
  vhdxlog_error error;
  vhdxlog_status st;
  vhdxlog_loaded l;
  int rc = 0;

  rd_ro_io(&rf, main_file->mf.data, main_file->mf.size, &io);
  memset(&res, 0, sizeof res);
  st = rd_load_bytes(d, SB_AREA, rf.mf.data, rf.mf.size, &main_file->b->dirty,
                     main_file->b->dirty.frozen, &l, &error);
  if (st == VHDXLOG_OK)
    st = vhdxlog_replay(&l.plan, &io, d->buffer, BUF_MAIN, &res, &error);
  if (res.replayed || res.headers_repaired || rf.write_attempts != 0) {
    return rd_say(d, 1,
                  "replaying the replayed image again: library found work "
                  "(%s, replayed %d, headers_repaired %d, %llu writes)",
                  rd_name_of(st).s, res.replayed, res.headers_repaired,
                  (unsigned long long)rf.write_attempts);
  }
  /* RULES.md "Plan" 4: the replayed header area parses, so the replayed
   * image loads (a clean image needs nothing else). */
  if (st != VHDXLOG_OK)
    return rd_say(d, 1, "replaying the replayed image again: library %s",
                  rd_name_of(st).s);
  if (d->lim->model_on_result) {
    lib_outcome o;
    o.status = st;
    o.result = &res;
    o.plan = l.plan_ready ? &l.plan : NULL;
    o.data = rf.mf.data;
    o.size = rf.mf.size;
    o.written = &main_file->b->dirty; /* nothing written: the input's */
    rc = rd_check_model(d, &o, rf.mf.data, rf.mf.size, &main_file->b->dirty,
                        "on the replayed image: ");
  }
  return rc;
}

/* 2b: the log's writes twice (a first replay whose header writes are
 * dropped, so the log stays dirty, then a fresh load + replay) give the
 * bytes of one uninterrupted replay. The first replay reuses the main
 * plan: the file is the original again. */
int rd_check_writes_twice(diff *d, const input *in,
                          const vhdxlog_plan *main_plan,
                          const mfile *main_file) {
  vhdxlog_loaded l;
  vhdxlog_error error;
  vhdxlog_status st;
  mfile f;
  int rc = rd_file_open(d, SB_SCRATCH, &f, in);

  if (rc != 0)
    return rc;
  f.drop_header_writes = 1;
  st = vhdxlog_replay(main_plan, &f.io, d->buffer, BUF_TWICE, NULL, &error);
  f.drop_header_writes = 0;
  if (st != VHDXLOG_OK) {
    rc = rd_say(d, 1, "replay with header writes dropped: library %s",
                rd_name_of(st).s);
  } else if ((st = rd_load_bytes(d, SB_AREA, f.mf.data, f.mf.size, &f.b->dirty,
                                 f.b->dirty.frozen, &l, &error)) !=
             VHDXLOG_OK) {
    rc = rd_say(d, 1,
                "writes applied twice (header writes dropped once): load %s",
                rd_name_of(st).s);
  } else if (main_plan->replay && l.image.log_state != VHDXLOG_LOG_DIRTY) {
    /* The header slots were never written: the log is as dirty as in the
     * input, or the check would replay a clean image. */
    rc = rd_say(d, 1, "header writes dropped, yet the log is no longer dirty");
  } else if ((st = vhdxlog_replay(&l.plan, &f.io, d->buffer, BUF_TWICE, NULL,
                                  &error)) != VHDXLOG_OK) {
    rc = rd_say(d, 1,
                "second replay after a replay without header writes: "
                "library %s",
                rd_name_of(st).s);
  } else {
    /* Both lists start with the input's ranges: the main file's writes
     * suffice from the second. */
    ext_list main_writes = rd_writes_only(&main_file->b->dirty);
    rc = rd_compare_images(d,
                           "writes applied twice (header writes dropped once): "
                           "differs",
                           "twice", f.mf.data, f.mf.size, "once",
                           main_file->mf.data, main_file->mf.size, &f.b->dirty,
                           &main_writes, NULL);
  }
  rd_file_done(&f);
  return rc;
}
