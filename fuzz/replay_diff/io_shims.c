/* SPDX-License-Identifier: MIT */
/* Memory files over workspace buffers, loads from bytes in memory, and
 * the I/O wrappers of the re-runs (read-only, header writes dropped). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "rd_internal.h"

static int tr_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  mfile *f = ctx;
  return f->mem.read(f->mem.ctx, offset, buf, size);
}

static int tr_write(void *ctx, uint64_t offset, const void *buf, size_t size) {
  mfile *f = ctx;
  int rc = f->mem.write(f->mem.ctx, offset, buf, size);
  if (rc == 0 && size > 0)
    rd_ext_add(&f->b->dirty, offset, offset + size);
  return rc;
}

/* Zeros need no listing for the comparisons (outside the lists both sides
 * hold the input's zeros), but rd_file_open() restores what they overwrote of
 * the input. */
static int tr_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  mfile *f = ctx;
  int rc = f->mem.write_zeros(f->mem.ctx, offset, size);
  if (rc == 0 && size > 0 && offset < f->input_size)
    rd_ext_add(&f->b->dirty, offset,
               size < f->input_size - offset ? offset + size : f->input_size);
  return rc;
}

static int tr_get_size(void *ctx, uint64_t *size) {
  mfile *f = ctx;
  return f->mem.get_size(f->mem.ctx, size);
}

static int tr_set_size(void *ctx, uint64_t size) {
  mfile *f = ctx;
  return f->mem.set_size(f->mem.ctx, size);
}

static int tr_flush(void *ctx) {
  mfile *f = ctx;
  return f->mem.flush(f->mem.ctx);
}

/* The largest size a replayed file may reach: max(input size, max_size),
 * the growth rule of model_replay(). */
uint64_t rd_file_max(const diff *d, size_t size) {
  return d->lim->max_size > size ? d->lim->max_size : size;
}

/* Workspace slot `slot` as a memory file holding the input. Its capacity
 * covers rd_file_max() when that much memory is there, so mem.c does not
 * reallocate (if it does, rd_file_done() takes the new block back). */
int rd_file_open(diff *d, int slot, mfile *f, const input *in) {
  sbuf *b = &d->ws->b[slot];
  uint64_t max = rd_file_max(d, in->size);
  size_t want = max > (uint64_t)SIZE_MAX ? in->size : (size_t)max;
  uint8_t *p;
  if (b->gen == d->ws->gen && b->p != NULL && !b->dirty.oom) {
    /* Holds this input but for what was written since: put the input's
     * bytes back there (zeros past its end). */
    size_t i;
    for (i = b->dirty.frozen; i < b->dirty.n; i++) {
      uint64_t lo = b->dirty.e[i][0], hi = b->dirty.e[i][1];
      if (hi > b->cap)
        hi = b->cap;
      if (lo < hi && lo < in->size) {
        uint64_t m = hi < in->size ? hi : in->size;
        memcpy(b->p + lo, in->data + lo, (size_t)(m - lo));
        lo = m;
      }
      if (lo < hi)
        memset(b->p + lo, 0, (size_t)(hi - lo));
    }
    b->dirty.n = b->dirty.frozen;
    p = b->p;
  } else {
    p = rd_sb_get(b, in->size, want, 0);
    if (p == NULL)
      return -1;
    rd_copy_ranges(p, &b->dirty, in->data, in->size, in->nz, 0, in->size);
    b->dirty.frozen = b->dirty.n;
    b->gen = d->ws->gen;
  }
  memset(f, 0, sizeof *f);
  f->b = b;
  f->input_size = in->size;
  f->mf.data = p;
  f->mf.size = in->size;
  f->mf.capacity = b->cap;
  f->mf.max_size = max;
  f->mf.fail_at_write = -1;
  /* Fuzz mode: the buffer is clean past the file's end (its bytes there
   * were never written since it was cleaned or restored) and holds every
   * size the file may reach, so growth need not write zeros: mem.c
   * zero-filled up to 64 MiB per file, four files per input. Full mode
   * keeps mem.c's zero fill. */
  f->mf.zero_past_size = d->lim->fuzz_mode && f->mf.capacity >= max;
  vtk_mem_io(&f->mf, &f->mem);
  f->io.ctx = f;
  f->io.read = tr_read;
  f->io.write = tr_write;
  f->io.write_zeros = tr_write_zeros;
  f->io.get_size = tr_get_size;
  f->io.set_size = tr_set_size;
  f->io.flush = tr_flush;
  return 0;
}

/* Take a block mem.c reallocated back into the workspace, zero past the
 * file's end (realloc leaves those bytes undefined; mem.c never wrote
 * them). */
void rd_file_done(mfile *f) {
  sbuf *b = f->b;
  if (f->mf.data != b->p) {
    b->p = f->mf.data;
    b->cap = (size_t)f->mf.capacity;
    b->poisoned = b->cap;
    memset(b->p + f->mf.size, 0, (size_t)(f->mf.capacity - f->mf.size));
  }
}

/* ------------------------------------------------------------------------ */
/* Loading from bytes in memory.                                            */

/* Does a range of l from index `from` on share a byte with [lo, hi)? */
static int touches(const ext_list *l, size_t from, uint64_t lo, uint64_t hi) {
  size_t i;
  for (i = from; i < l->n; i++)
    if (l->e[i][0] < hi && l->e[i][1] > lo)
      return 1;
  return 0;
}

/* Does log buffer `b` hold the input's [lo, lo + len) of this run? */
static int holds_input_log(const diff *d, const sbuf *b, uint64_t lo,
                           uint64_t len) {
  return b->gen == d->ws->gen && b->key_off == lo && b->key_len == len &&
         b->p != NULL && !b->dirty.oom;
}

/*
 * The calls vhdxlog_load() makes, in its order, on a file held in memory
 * (`data`, `size` bytes, zero outside the ranges of `l`): parse the
 * zero-padded header area, bind the log if dirty, build the plan. Buffers
 * come from the workspace (slots `area_slot`, area_slot + 1 for the log),
 * so the plan stays valid until the next rd_load_bytes() into those slots.
 * The file is the input but for the ranges of `l` from index `from` on
 * (l->n: the input itself); where none of those touch the log, the log
 * buffer of an earlier load of the same input and log (this slot's or the
 * main load's) is reused: nothing writes into a log buffer.
 */
vhdxlog_status rd_load_bytes(diff *d, int area_slot, const uint8_t *data,
                             uint64_t size, const ext_list *l, size_t from,
                             loaded *out) {
  sbuf *ab = &d->ws->b[area_slot], *lb = &d->ws->b[area_slot + 1];
  const sbuf *main_lb = &d->ws->b[SB_MAIN_LOG];
  uint8_t *area, *log = NULL;
  vhdxlog_status st;

  memset(out, 0, sizeof *out);
  area = rd_sb_get(ab, VHDXLOG_HEADER_AREA_SIZE, VHDXLOG_HEADER_AREA_SIZE, 1);
  if (area == NULL)
    return out->status = VHDXLOG_E_IO;
  rd_copy_ranges(area, &ab->dirty, data, size, l, 0, VHDXLOG_HEADER_AREA_SIZE);
  st = vhdxlog_image_parse(area, VHDXLOG_HEADER_AREA_SIZE, size, &out->image,
                           &out->error);
  if (st == VHDXLOG_OK && out->image.log_state == VHDXLOG_LOG_DIRTY) {
    /* The parser checked that a dirty log lies inside the file. */
    uint64_t lo = out->image.log_offset, len = out->image.log_length;
    int input_log = !touches(l, from, lo, lo + len);
    if (input_log && holds_input_log(d, lb, lo, len)) {
      log = lb->p;
    } else if (input_log && holds_input_log(d, main_lb, lo, len)) {
      log = main_lb->p; /* the main load's copy */
    } else {
      log = rd_sb_get(lb, out->image.log_length, out->image.log_length, 1);
      if (log == NULL)
        return out->status = VHDXLOG_E_IO;
      rd_copy_ranges(log, &lb->dirty, data, size, l, lo, len);
      if (input_log) {
        lb->gen = d->ws->gen;
        lb->key_off = lo;
        lb->key_len = len;
      }
    }
    st = vhdxlog_log_init(&out->log, log, out->image.log_length,
                          out->image.log_guid);
  }
  if (st == VHDXLOG_OK)
    st = vhdxlog_plan_init(&out->plan, &out->image,
                           log != NULL ? &out->log : NULL, &out->error);
  return out->status = st;
}

/* The plan fields that are values (not pointers). */
int rd_same_plan(const vhdxlog_plan *a, const vhdxlog_plan *b) {
  return a->replay == b->replay &&
         a->complete_header_update == b->complete_header_update &&
         a->need_file_write_guid == b->need_file_write_guid &&
         a->replayed_size == b->replayed_size &&
         memcmp(a->new_file_write_guid, b->new_file_write_guid, 16) == 0 &&
         memcmp(&a->seq, &b->seq, sizeof a->seq) == 0 &&
         memcmp(a->final_headers, b->final_headers, sizeof a->final_headers) ==
             0;
}

/* ------------------------------------------------------------------------ */
/* I/O wrappers.                                                            */

static int ro_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  ro_file *f = ctx;
  if (offset > f->size || size > f->size - offset)
    return -1;
  if (size > 0)
    memcpy(buf, f->data + offset, size);
  return 0;
}

static int ro_write(void *ctx, uint64_t offset, const void *buf, size_t size) {
  ro_file *f = ctx;
  (void)offset, (void)buf, (void)size;
  f->write_attempts++;
  return -1;
}

static int ro_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  ro_file *f = ctx;
  (void)offset, (void)size;
  f->write_attempts++;
  return -1;
}

static int ro_get_size(void *ctx, uint64_t *size) {
  ro_file *f = ctx;
  *size = f->size;
  return 0;
}

static int ro_set_size(void *ctx, uint64_t size) {
  ro_file *f = ctx;
  (void)size;
  f->write_attempts++;
  return -1;
}

static int ro_flush(void *ctx) {
  (void)ctx;
  return 0;
}

static int dh_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  drop_headers_io *h = ctx;
  return h->inner.read(h->inner.ctx, offset, buf, size);
}

static int dh_write(void *ctx, uint64_t offset, const void *buf, size_t size) {
  drop_headers_io *h = ctx;
  if (size > 0 && offset < HEADERS_END && offset + size > HEADERS_BEGIN) {
    h->dropped++;
    return 0;
  }
  return h->inner.write(h->inner.ctx, offset, buf, size);
}

static int dh_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  drop_headers_io *h = ctx;
  return h->inner.write_zeros(h->inner.ctx, offset, size);
}

static int dh_get_size(void *ctx, uint64_t *size) {
  drop_headers_io *h = ctx;
  return h->inner.get_size(h->inner.ctx, size);
}

static int dh_set_size(void *ctx, uint64_t size) {
  drop_headers_io *h = ctx;
  return h->inner.set_size(h->inner.ctx, size);
}

static int dh_flush(void *ctx) {
  drop_headers_io *h = ctx;
  return h->inner.flush(h->inner.ctx);
}

void rd_ro_io(ro_file *f, vhdxlog_io *io) {
  io->ctx = f;
  io->read = ro_read;
  io->write = ro_write;
  io->write_zeros = ro_write_zeros;
  io->get_size = ro_get_size;
  io->set_size = ro_set_size;
  io->flush = ro_flush;
}

void rd_dh_io(drop_headers_io *h, vhdxlog_io *io) {
  io->ctx = h;
  io->read = dh_read;
  io->write = dh_write;
  io->write_zeros = dh_write_zeros;
  io->get_size = dh_get_size;
  io->set_size = dh_set_size;
  io->flush = dh_flush;
}
