/* SPDX-License-Identifier: MIT */
/* Memory files over workspace buffers, loads from bytes in memory
 * (vhdxlog_load_into() over workspace buffers), and the read-only I/O of
 * check 2a. */
#include <string.h>

#include "rd_internal.h"

/* mf is mfile's first member, so mem_file.c's calls, which take &f->mf as
 * their context, take f too: only the writes need a wrapper. */
static int tr_write(void *ctx, uint64_t offset, const void *buf, size_t size) {
  mfile *f = ctx;
  int rc;
  if (f->drop_header_writes && size > 0 && offset < HEADERS_END &&
      offset + size > HEADERS_BEGIN)
    return 0;
  rc = f->mem.write(f->mem.ctx, offset, buf, size);
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

/* The largest size a replayed file may reach: max(input size, max_size),
 * the growth rule of model_replay(). */
uint64_t rd_file_max(const diff *d, size_t size) {
  return d->lim->max_size > size ? d->lim->max_size : size;
}

/* Workspace slot `slot` as a memory file holding the input. Its capacity
 * covers rd_file_max() when that much memory is there, so mem_file.c does not
 * reallocate (if it does, rd_file_done() takes the new block back). 0, or
 * -1 with the reason said (rd_say) when memory ran out. */
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
      return rd_say(d, -1, "cannot allocate a memory file");
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
   * size the file may reach, so growth need not write zeros: mem_file.c
   * zero-filled up to 64 MiB per file, four files per input. Full mode
   * keeps mem_file.c's zero fill. */
  f->mf.zero_past_size = d->lim->fuzz_mode && f->mf.capacity >= max;
  vtk_mem_io(&f->mf, &f->mem);
  f->io = f->mem;
  f->io.write = tr_write;
  f->io.write_zeros = tr_write_zeros;
  return 0;
}

/* Take a block mem_file.c reallocated back into the workspace, zero past the
 * file's end (realloc leaves those bytes undefined; mem_file.c never wrote
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

/* The file rd_load_bytes() reads through vhdxlog_load_into(): `size` bytes
 * at `data`, zero outside the ranges of `l`, and the input but for the
 * ranges of `l` from index `from` on. */
typedef struct load_src {
  diff *d;
  const uint8_t *data;
  uint64_t size;
  const ext_list *l;
  size_t from;
  sbuf *area, *log;     /* the load's slots, clean before the load */
  const sbuf *main_log; /* the main load's log: never written here */
  int refused;          /* a read into main_log that it does not hold */
} load_src;

/* Reads land in clean workspace buffers, so only the listed ranges are
 * copied; a log buffer that holds this range of the input already is left
 * as it is (nothing writes into a log buffer). */
static int src_read(void *ctx, uint64_t offset, void *buf, size_t len) {
  load_src *s = ctx;
  sbuf *b = s->area;
  if (offset > s->size || len > s->size - offset)
    return -1;
  if (buf != s->area->p) {
    int same = !touches(s->l, s->from, offset, offset + len);
    const sbuf *into = buf == s->main_log->p ? s->main_log : s->log;
    if (same && holds_input_log(s->d, into, offset, len))
      return 0;
    if (into != s->log) {
      s->refused = 1;
      return -1;
    }
    /* Cleans it: vhdxlog_load_into() checked that the log fits. */
    b = s->log;
    (void)rd_sb_get(b, len, len, 1);
    if (same) {
      b->gen = s->d->ws->gen;
      b->key_off = offset;
      b->key_len = len;
    }
  }
  rd_copy_ranges(buf, &b->dirty, s->data, s->size, s->l, offset, len);
  return 0;
}

static int src_get_size(void *ctx, uint64_t *size) {
  *size = ((const load_src *)ctx)->size;
  return 0;
}

/*
 * vhdxlog_load_into() (the policy of vhdxlog_load()) of a file held in
 * memory (load_src), into workspace buffers: slot `area_slot` for the
 * header area, area_slot + 1 for the log. The plan stays valid until the
 * next rd_load_bytes() into those slots. A log the input holds unchanged
 * is not copied again: it is read into the main load's log buffer when
 * that holds it (a read elsewhere into that buffer is refused and the load
 * repeated into the slot's own), and the slot's own buffer is kept where it
 * holds it. A log longer than the slot's buffer grows it and loads again.
 */
vhdxlog_status rd_load_bytes(diff *d, int area_slot, const uint8_t *data,
                             uint64_t size, const ext_list *l, size_t from,
                             vhdxlog_loaded *out, vhdxlog_error *error) {
  static const vhdxlog_io src_io = {NULL,         src_read, NULL, NULL,
                                    src_get_size, NULL,     NULL};
  vhdxlog_io io = src_io;
  vhdxlog_load_buffers bufs;
  vhdxlog_status st = VHDXLOG_E_IO;
  load_src s;
  int on_main, tries;

  s.d = d;
  s.data = data;
  s.size = size;
  s.l = l;
  s.from = from;
  s.area = &d->ws->b[area_slot];
  s.log = &d->ws->b[area_slot + 1];
  s.main_log = &d->ws->b[SB_MAIN_LOG];
  io.ctx = &s;
  on_main = s.main_log != s.log &&
            holds_input_log(d, s.main_log, s.main_log->key_off,
                            s.main_log->key_len) &&
            !touches(l, from, s.main_log->key_off,
                     s.main_log->key_off + s.main_log->key_len);
  for (tries = 0; tries < 3; tries++) {
    s.refused = 0;
    bufs.header_area = rd_sb_get(s.area, VHDXLOG_HEADER_AREA_SIZE,
                                 VHDXLOG_HEADER_AREA_SIZE, 1);
    if (bufs.header_area == NULL) {
      memset(out, 0, sizeof *out);
      return VHDXLOG_E_IO;
    }
    bufs.log = on_main ? s.main_log->p : s.log->p;
    bufs.log_capacity = on_main ? (size_t)s.main_log->key_len : s.log->cap;
    st = vhdxlog_load_into(&io, VHDXLOG_POLICY_DEFAULT, &bufs, out, error);
    if (st != VHDXLOG_E_RESOURCE && !s.refused)
      break;
    if (on_main)
      on_main = 0;
    else if (rd_sb_get(s.log, out->image.log_length, out->image.log_length,
                       1) == NULL)
      break; /* the log is longer than the buffer: E_RESOURCE */
  }
  return st;
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

/* Reads, the size and flushes are mem_file.c's (mf is ro_file's first
 * member); every mutating call fails and is counted, whatever it asks. */
static int ro_refuse(ro_file *f) {
  f->write_attempts++;
  return -1;
}

static int ro_write(void *ctx, uint64_t offset, const void *buf, size_t size) {
  (void)offset, (void)buf, (void)size;
  return ro_refuse(ctx);
}

static int ro_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  (void)offset, (void)size;
  return ro_refuse(ctx);
}

static int ro_set_size(void *ctx, uint64_t size) {
  (void)size;
  return ro_refuse(ctx);
}

void rd_ro_io(ro_file *f, const uint8_t *data, uint64_t size, vhdxlog_io *io) {
  memset(f, 0, sizeof *f);
  f->mf.data = (uint8_t *)data; /* never written: ro_* refuse every write */
  f->mf.size = f->mf.capacity = f->mf.max_size = size;
  vtk_mem_io(&f->mf, io);
  io->write = ro_write;
  io->write_zeros = ro_write_zeros;
  io->set_size = ro_set_size;
}
