/* SPDX-License-Identifier: MIT */
/*
 * Differential replayer: library vs reference model, then the library
 * against itself (re-runs, crash points, overlay). See replay_diff.h for the
 * checks and their order.
 *
 * Cost. Under AddressSanitizer every block over 128 KiB is a fresh mmap, and
 * on the virtual machines we fuzz on a first touch costs ~15-50 us per
 * 4 KiB page: a 4 MiB copy in fresh memory is ~55 ms, 100x the copy
 * itself. And an image is mostly zeros: a packed fuzz input stands for
 * 1-2 MiB of which ~75 KiB are not. So:
 *  - every large buffer lives in a workspace a caller keeps across inputs,
 *    and is kept all zero except in the byte ranges listed with it ("dirty"
 *    extents: what was copied or written into it since it was last
 *    cleaned); cleaning zeroes only those ranges;
 *  - an input comes with the ranges where it may be non-zero (the caller
 *    lists them, or replay_diff_ex() finds them, 4 KiB at a time);
 *  - a memory file is the input's non-zero ranges copied into a clean
 *    buffer; every successful write() through it is listed (write_zeros
 *    and growth only ever write zeros, so the comparisons need no listing
 *    of them; write_zeros over the input is listed anyway), so that the
 *    next file of the same input only restores the listed ranges;
 *  - two files (or a file and the model's image) are compared over the
 *    union of their lists: outside it both hold the original's bytes there,
 *    which are zero, so the comparison is exact;
 *  - loads copy only the listed ranges of the header area and the log into
 *    clean buffers;
 *  - the main run's plan is reused where the file is the original again
 *    (crash runs, the first run of check 2b).
 * The main run uses vhdxlog_load() itself (outside fuzz mode), and the
 * loader of the other runs (load_bytes: the same public calls) must agree
 * with it (check 0).
 */
#include "replay_diff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_file.h"
#include "model.h"
#include "vhdxlog.h"
#include "vhdxlog_io.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RD_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(RD_ASAN)
#define RD_ASAN 1
#endif
#ifdef RD_ASAN
#include <sanitizer/asan_interface.h>
#define RD_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define RD_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RD_POISON(p, n) ((void)(p), (void)(n))
#define RD_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Replay buffer sizes of the different runs: the main run coalesces up to
 * 16 sectors (the odd tail is unused), crash re-runs write one sector at a
 * time, the idempotence runs three. All must end with the same bytes. */
#define BUF_MAIN (16u * VHDXLOG_SECTOR_SIZE + 100u)
#define BUF_RERUN ((size_t)VHDXLOG_SECTOR_SIZE)
#define BUF_TWICE (3u * VHDXLOG_SECTOR_SIZE + 100u)

/* Header slots: [64 KiB, 192 KiB). */
#define HEADERS_BEGIN ((uint64_t)VHDXLOG_HEADER1_OFFSET)
#define HEADERS_END ((uint64_t)VHDXLOG_REGION1_OFFSET)

#define SCAN_BLOCK 4096u

/* ------------------------------------------------------------------------ */
/* Extent lists and clean buffers.                                          */

/* Byte ranges [e[i][0], e[i][1]), in the order they were added (adjacent
 * or overlapping additions merge into the last one). */
typedef struct ext_list {
  uint64_t (*e)[2];
  size_t n, cap;
  size_t frozen; /* entries below this index take no merges */
  int oom;       /* an addition failed: the list is incomplete */
} ext_list;

static void ext_add(ext_list *l, uint64_t off, uint64_t end) {
  if (end <= off)
    return;
  if (l->n > l->frozen && off <= l->e[l->n - 1][1] &&
      end >= l->e[l->n - 1][0]) {
    if (off < l->e[l->n - 1][0])
      l->e[l->n - 1][0] = off;
    if (end > l->e[l->n - 1][1])
      l->e[l->n - 1][1] = end;
    return;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap == 0 ? 64 : 2 * l->cap;
    void *p = realloc(l->e, cap * sizeof *l->e);
    if (p == NULL) {
      l->oom = 1;
      return;
    }
    l->e = p;
    l->cap = cap;
  }
  l->e[l->n][0] = off;
  l->e[l->n][1] = end;
  l->n++;
}

/* A buffer that is zero except in the ranges of `dirty`. */
typedef struct sbuf {
  uint8_t *p;
  size_t cap;
  size_t poisoned; /* [poisoned, cap) is poisoned under ASan */
  ext_list dirty;
  /* Memory files: != 0 when the buffer holds the input of run `gen` in its
   * first dirty.frozen ranges, and the ranges after those list every byte
   * written since (file_open() then restores only those). Log buffers:
   * != 0 when it holds the input's [key_off, key_off + key_len) of run
   * `gen` (load_bytes() then reuses it). */
  uint64_t gen;
  uint64_t key_off, key_len;
} sbuf;

/* Zero the listed ranges (they lie below b->poisoned: they were written
 * while that part was usable). */
static void sb_clean(sbuf *b) {
  size_t i;
  if (b->p != NULL && b->dirty.oom) {
    /* The list is incomplete: all of it. */
    memset(b->p, 0, b->poisoned);
    b->dirty.n = 0;
  }
  for (i = 0; b->p != NULL && i < b->dirty.n; i++) {
    uint64_t lo = b->dirty.e[i][0], hi = b->dirty.e[i][1];
    if (hi > b->poisoned)
      hi = b->poisoned;
    if (lo < hi)
      memset(b->p + lo, 0, (size_t)(hi - lo));
  }
  b->dirty.n = 0;
  b->dirty.frozen = 0;
  b->dirty.oom = 0;
  b->gen = 0;
}

/* The buffer cleaned, with room for `size` bytes (for `want` if it has to
 * be allocated and that much memory is there). With `poison`, the bytes
 * from `size` on are poisoned under ASan; only the part that changes since
 * the last call is (un)poisoned, as a 64 MiB range costs 8 MiB of shadow
 * writes. NULL when memory ran out. */
static uint8_t *sb_get(sbuf *b, size_t size, size_t want, int poison) {
  size_t usable;
  sb_clean(b);
  if (want < size)
    want = size;
  if (b->p == NULL || b->cap < size) {
    if (b->p != NULL)
      RD_UNPOISON(b->p + b->poisoned, b->cap - b->poisoned);
    free(b->p);
    b->p = calloc(want > 0 ? want : 1, 1);
    b->cap = want > 0 ? want : 1;
    if (b->p == NULL && want > size) {
      b->p = calloc(size > 0 ? size : 1, 1);
      b->cap = size > 0 ? size : 1;
    }
    if (b->p == NULL) {
      b->cap = 0;
      b->poisoned = 0;
      return NULL;
    }
    b->poisoned = b->cap;
  }
  usable = poison ? size : b->cap;
  if (usable < b->poisoned)
    RD_POISON(b->p + usable, b->poisoned - usable);
  else if (usable > b->poisoned)
    RD_UNPOISON(b->p + b->poisoned, usable - b->poisoned);
  b->poisoned = usable;
  return b->p;
}

/* Copy the bytes of `src` (`size` bytes) that lie in the ranges of `l`,
 * shifted by -base and cut to [base, base + length), into `dst`, noting
 * them in dst_list. */
static void copy_ranges(uint8_t *dst, ext_list *dst_list, const uint8_t *src,
                        uint64_t size, const ext_list *l, uint64_t base,
                        uint64_t length) {
  size_t i;
  uint64_t top = base + length < size ? base + length : size;
  for (i = 0; i < l->n; i++) {
    uint64_t lo = l->e[i][0] > base ? l->e[i][0] : base;
    uint64_t hi = l->e[i][1] < top ? l->e[i][1] : top;
    if (lo < hi) {
      memcpy(dst + (lo - base), src + lo, (size_t)(hi - lo));
      ext_add(dst_list, lo - base, hi - base);
    }
  }
}

/* The ranges of a memory file's list after its frozen prefix (the input's
 * ranges): what was written into it since. A view: it shares b's entries. */
static ext_list writes_only(const ext_list *l) {
  ext_list v;
  memset(&v, 0, sizeof v);
  v.e = l->e + l->frozen;
  v.n = l->n - l->frozen;
  return v;
}

/* ------------------------------------------------------------------------ */
/* Workspace: large buffers kept between inputs.                            */

enum {
  SB_MAIN,      /* the main run's memory mfile */
  SB_SCRATCH,   /* the memory file of checks 2b and 3 */
  SB_MODEL,     /* the model's image */
  SB_MAIN_AREA, /* the main load: header area */
  SB_MAIN_LOG,  /* the main load: log */
  SB_AREA,      /* the other loads: header area */
  SB_LOG,       /* the other loads: log */
  SB_INPUT,     /* the caller's (replay_diff_workspace_input) */
  SB_SLOTS
};

typedef struct ws_buf {
  uint8_t *p;
  size_t cap;
} ws_buf;

struct replay_diff_workspace {
  sbuf b[SB_SLOTS];
  ws_buf chunk;  /* overlay reads */
  ws_buf replay; /* the replay buffer */
  ext_list scan; /* replay_diff_ex(): the non-zero ranges of the image */
  size_t input_size;
  uint64_t gen; /* runs so far */
};

replay_diff_workspace *replay_diff_workspace_new(void) {
  return calloc(1, sizeof(replay_diff_workspace));
}

void replay_diff_workspace_free(replay_diff_workspace *ws) {
  int i;
  if (ws == NULL)
    return;
  for (i = 0; i < SB_SLOTS; i++) {
    if (ws->b[i].p != NULL)
      RD_UNPOISON(ws->b[i].p + ws->b[i].poisoned,
                  ws->b[i].cap - ws->b[i].poisoned);
    free(ws->b[i].p);
    free(ws->b[i].dirty.e);
  }
  RD_UNPOISON(ws->chunk.p, ws->chunk.cap);
  RD_UNPOISON(ws->replay.p, ws->replay.cap);
  free(ws->chunk.p);
  free(ws->replay.p);
  free(ws->scan.e);
  free(ws);
}

/* A block of exactly `size` bytes (at least 1) usable; bytes past `size`
 * are poisoned under ASan, so that over-reads are still reported. */
static uint8_t *wb_get(ws_buf *b, size_t size) {
  if (size == 0)
    size = 1;
  if (b->p == NULL || b->cap < size) {
    RD_UNPOISON(b->p, b->cap);
    free(b->p);
    b->p = malloc(size);
    b->cap = b->p != NULL ? size : 0;
    if (b->p == NULL)
      return NULL;
  }
  RD_UNPOISON(b->p, size);
  RD_POISON(b->p + size, b->cap - size);
  return b->p;
}

uint8_t *replay_diff_workspace_input(replay_diff_workspace *ws, size_t size) {
  uint8_t *p;
  if (ws == NULL)
    return NULL;
  /* Room for the largest image a fuzz target makes, so that a growing
   * input does not mean a fresh block. */
  p = sb_get(&ws->b[SB_INPUT], size,
             size < REPLAY_DIFF_DEFAULT_MAX_SIZE ? REPLAY_DIFF_DEFAULT_MAX_SIZE
                                                 : size,
             1);
  ws->input_size = p != NULL ? size : 0;
  return p;
}

void replay_diff_workspace_mark(replay_diff_workspace *ws, uint64_t offset,
                                uint64_t end) {
  if (end > ws->input_size)
    end = ws->input_size;
  ext_add(&ws->b[SB_INPUT].dirty, offset, end);
}

static int ws_oom(const replay_diff_workspace *ws) {
  int i;
  for (i = 0; i < SB_SLOTS; i++)
    if (ws->b[i].dirty.oom)
      return 1;
  return ws->scan.oom;
}

/* ------------------------------------------------------------------------ */
/* Reporting.                                                               */

typedef struct diff {
  const replay_diff_limits *lim;
  replay_diff_workspace *ws;
  char *why;
  size_t why_size;
  uint8_t *buffer; /* replay buffer, BUF_MAIN bytes */
} diff;

/* Write the description of the first difference; returns `rc`. A
 * difference found while an extent list was incomplete (memory ran out)
 * is not one: -1. */
static int say(diff *d, int rc, const char *fmt, ...) {
  va_list ap;
  if (rc > 0 && ws_oom(d->ws)) {
    rc = -1;
    fmt = "cannot allocate an extent list";
  }
  if (d->why != NULL && d->why_size > 0) {
    va_start(ap, fmt);
    vsnprintf(d->why, d->why_size, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* "E_LOG_NO_SEQUENCE" / "OK", or the number of an unknown status. */
typedef struct status_text {
  char s[48];
} status_text;

static status_text name_of(vhdxlog_status st) {
  status_text t;
  const char *n = vhdxlog_status_name(st);
  if (n != NULL && strncmp(n, "VHDXLOG_", 8) == 0 && strlen(n + 8) < 40)
    snprintf(t.s, sizeof t.s, "%s", n + 8);
  else
    snprintf(t.s, sizeof t.s, "status %d", (int)st);
  return t;
}

/* Where a file offset falls, to make a difference easy to place. */
typedef struct where_text {
  char s[48];
} where_text;

static where_text where_of(uint64_t off) {
  where_text w;
  w.s[0] = '\0';
  if (off >= VHDXLOG_HEADER1_OFFSET &&
      off < (uint64_t)VHDXLOG_HEADER1_OFFSET + VHDXLOG_HEADER_SIZE)
    snprintf(w.s, sizeof w.s, " [header 1 +0x%x]",
             (unsigned)(off - VHDXLOG_HEADER1_OFFSET));
  else if (off >= VHDXLOG_HEADER2_OFFSET &&
           off < (uint64_t)VHDXLOG_HEADER2_OFFSET + VHDXLOG_HEADER_SIZE)
    snprintf(w.s, sizeof w.s, " [header 2 +0x%x]",
             (unsigned)(off - VHDXLOG_HEADER2_OFFSET));
  return w;
}

/* The first offset below `limit` (and below `best`) inside the ranges of
 * `l` where a and b differ; `best` if there is none. */
static uint64_t first_diff(const uint8_t *a, const uint8_t *b, uint64_t limit,
                           const ext_list *l, uint64_t best) {
  size_t k;
  if (l == NULL)
    return best;
  for (k = 0; k < l->n; k++) {
    uint64_t lo = l->e[k][0], hi = l->e[k][1];
    if (hi > limit)
      hi = limit;
    if (hi > best)
      hi = best;
    if (lo >= hi || memcmp(a + lo, b + lo, (size_t)(hi - lo)) == 0)
      continue;
    while (hi - lo > 4096 && memcmp(a + lo, b + lo, 4096) == 0)
      lo += 4096;
    while (a[lo] == b[lo])
      lo++;
    best = lo;
  }
  return best;
}

/*
 * Compare two images that both started as the input and hold its bytes
 * (zeros outside its listed ranges) except in the ranges of la, lb, lc
 * (any may be NULL; together they list every byte either side wrote, and
 * the input's non-zero ranges). 0 if equal (size included); otherwise 1
 * with `what` ("... differ") and the two sides' names in the description,
 * e.g. "replayed images differ at byte 0x11000 (lib 0x00, model 0x5a)".
 * The first differing byte is the one a full comparison would report.
 */
static int compare_images(diff *d, const char *what, const char *an,
                          const uint8_t *a, uint64_t asize, const char *bn,
                          const uint8_t *b, uint64_t bsize, const ext_list *la,
                          const ext_list *lb, const ext_list *lc) {
  uint64_t common = asize < bsize ? asize : bsize;
  uint64_t i = first_diff(a, b, common, la, UINT64_MAX);
  i = first_diff(a, b, common, lb, i);
  i = first_diff(a, b, common, lc, i);
  if (i != UINT64_MAX) {
    return say(d, 1, "%s at byte 0x%llx%s (%s 0x%02x, %s 0x%02x)%s", what,
               (unsigned long long)i, where_of(i).s, an, a[i], bn, b[i],
               asize != bsize ? "; sizes differ too" : "");
  }
  if (asize != bsize) {
    return say(d, 1, "%s in size (%s 0x%llx, %s 0x%llx)", what, an,
               (unsigned long long)asize, bn, (unsigned long long)bsize);
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Inputs and memory files.                                                 */

/* The input image: `size` bytes, zero outside the ranges of `nz`. */
typedef struct input {
  const uint8_t *data;
  size_t size;
  const ext_list *nz;
} input;

/* A vtk_mem_file (io/mem.c) over a clean workspace buffer holding the
 * input; `io` is mem.c's I/O with every successful write() noted in the
 * buffer's list. */
typedef struct mfile {
  vtk_mem_file mf;
  sbuf *b;
  uint64_t input_size;
  vhdxlog_io mem;
  vhdxlog_io io;
} mfile;

static int tr_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  mfile *f = ctx;
  return f->mem.read(f->mem.ctx, offset, buf, size);
}

static int tr_write(void *ctx, uint64_t offset, const void *buf, size_t size) {
  mfile *f = ctx;
  int rc = f->mem.write(f->mem.ctx, offset, buf, size);
  if (rc == 0 && size > 0)
    ext_add(&f->b->dirty, offset, offset + size);
  return rc;
}

/* Zeros need no listing for the comparisons (outside the lists both sides
 * hold the input's zeros), but file_open() restores what they overwrote of
 * the input. */
static int tr_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  mfile *f = ctx;
  int rc = f->mem.write_zeros(f->mem.ctx, offset, size);
  if (rc == 0 && size > 0 && offset < f->input_size)
    ext_add(&f->b->dirty, offset,
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
static uint64_t file_max(const diff *d, size_t size) {
  return d->lim->max_size > size ? d->lim->max_size : size;
}

/* Workspace slot `slot` as a memory file holding the input. Its capacity
 * covers file_max() when that much memory is there, so mem.c does not
 * reallocate (if it does, file_done() takes the new block back). */
static int file_open(diff *d, int slot, mfile *f, const input *in) {
  sbuf *b = &d->ws->b[slot];
  uint64_t max = file_max(d, in->size);
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
    p = sb_get(b, in->size, want, 0);
    if (p == NULL)
      return -1;
    copy_ranges(p, &b->dirty, in->data, in->size, in->nz, 0, in->size);
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
static void file_done(mfile *f) {
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

/* What vhdxlog_load() produces, over workspace buffers. */
typedef struct loaded {
  vhdxlog_image image;
  vhdxlog_log log;
  vhdxlog_plan plan;
  vhdxlog_error error;
  vhdxlog_status status;
} loaded;

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
 * so the plan stays valid until the next load_bytes() into those slots.
 * The file is the input but for the ranges of `l` from index `from` on
 * (l->n: the input itself); where none of those touch the log, the log
 * buffer of an earlier load of the same input and log (this slot's or the
 * main load's) is reused: nothing writes into a log buffer.
 */
static vhdxlog_status load_bytes(diff *d, int area_slot, const uint8_t *data,
                                 uint64_t size, const ext_list *l, size_t from,
                                 loaded *out) {
  sbuf *ab = &d->ws->b[area_slot], *lb = &d->ws->b[area_slot + 1];
  const sbuf *main_lb = &d->ws->b[SB_MAIN_LOG];
  uint8_t *area, *log = NULL;
  vhdxlog_status st;

  memset(out, 0, sizeof *out);
  area = sb_get(ab, VHDXLOG_HEADER_AREA_SIZE, VHDXLOG_HEADER_AREA_SIZE, 1);
  if (area == NULL)
    return out->status = VHDXLOG_E_IO;
  copy_ranges(area, &ab->dirty, data, size, l, 0, VHDXLOG_HEADER_AREA_SIZE);
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
      log = sb_get(lb, out->image.log_length, out->image.log_length, 1);
      if (log == NULL)
        return out->status = VHDXLOG_E_IO;
      copy_ranges(log, &lb->dirty, data, size, l, lo, len);
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
static int same_plan(const vhdxlog_plan *a, const vhdxlog_plan *b) {
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

/* Read-only I/O over bytes: every mutating call fails and is counted. */
typedef struct ro_file {
  const uint8_t *data;
  uint64_t size;
  uint64_t write_attempts;
} ro_file;

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

/* I/O that drops every write into the header slots (reporting success) and
 * passes everything else to a memory file. */
typedef struct drop_headers_io {
  vhdxlog_io inner;
  uint64_t dropped;
} drop_headers_io;

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

/* ------------------------------------------------------------------------ */
/* Check 1: library vs model.                                               */

/* What a library run produced, for the comparison with the model. */
typedef struct lib_outcome {
  vhdxlog_status status;
  const vhdxlog_replay_result *result;
  const vhdxlog_plan *plan; /* NULL if the plan failed */
  const uint8_t *data;
  uint64_t size;
  const ext_list *written; /* the input's non-zero ranges and the writes */
} lib_outcome;

/* The model on an image (`data`, `size` bytes, zero outside the ranges of
 * `l`), in the workspace's model buffer, then compared with the library's
 * outcome. */
static int check_model(diff *d, const lib_outcome *lib, const uint8_t *data,
                       uint64_t size, const ext_list *l, const char *context) {
  sbuf *b = &d->ws->b[SB_MODEL];
  uint64_t max = file_max(d, (size_t)size);
  size_t want = max > (uint64_t)SIZE_MAX ? (size_t)size : (size_t)max;
  uint8_t *p = sb_get(b, (size_t)size, want, 0);
  ext_list mw;
  model_result m;
  char what[96];
  int rc = 0;

  if (p == NULL)
    return say(d, -1, "cannot allocate the model's image");
  copy_ranges(p, &b->dirty, data, size, l, 0, size);
  model_replay_in(p, (size_t)size, b->cap, d->lim->max_size, &m);
  memset(&mw, 0, sizeof mw);
  mw.e = m.written;
  mw.n = m.written_count;
  if (lib->status != m.status) {
    rc = say(d, 1, "%slibrary %s vs model %s", context, name_of(lib->status).s,
             name_of(m.status).s);
    goto done;
  }
  /* model.h: on E_IO only the status is comparable (the library may have
   * written part of the replay before the file refused to grow). */
  if (m.status == VHDXLOG_E_IO)
    goto done;
  snprintf(what, sizeof what, "%sreplayed images differ", context);
  /* lib->written lists the input's ranges too (lib_outcome), so `l` need
   * not be compared again. */
  rc = compare_images(d, what, "lib", lib->data, lib->size, "model", m.image,
                      m.image_size, lib->written, &mw, NULL);
  if (rc != 0 || m.status != VHDXLOG_OK)
    goto done;
  if (lib->result->replayed != m.replayed ||
      lib->result->headers_repaired != m.headers_repaired ||
      lib->result->armed_cleared != m.armed_cleared) {
    rc = say(d, 1,
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
      rc = say(d, 1,
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
      ext_add(&b->dirty, m.written[i][0], m.written[i][1]);
  }
  model_result_free(&m);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Check 2: idempotence.                                                    */

/* 2a: the replayed image, loaded and replayed again, needs nothing: no
 * write is even attempted (read-only I/O). Optionally the model agrees with
 * the library on it (check 1 on a second input). */
static int check_replay_again(diff *d, const mfile *main_file) {
  ro_file rf;
  vhdxlog_io io;
  vhdxlog_replay_result res;
  vhdxlog_error error;
  vhdxlog_status st;
  loaded l;
  int rc = 0;

  rf.data = main_file->mf.data;
  rf.size = main_file->mf.size;
  rf.write_attempts = 0;
  io.ctx = &rf;
  io.read = ro_read;
  io.write = ro_write;
  io.write_zeros = ro_write_zeros;
  io.get_size = ro_get_size;
  io.set_size = ro_set_size;
  io.flush = ro_flush;
  memset(&res, 0, sizeof res);
  st = load_bytes(d, SB_AREA, rf.data, rf.size, &main_file->b->dirty,
                  main_file->b->dirty.frozen, &l);
  if (st == VHDXLOG_OK)
    st = vhdxlog_replay(&l.plan, &io, d->buffer, BUF_MAIN, &res, &error);
  if (res.replayed || res.headers_repaired || rf.write_attempts != 0) {
    return say(d, 1,
               "replaying the replayed image again: library found work "
               "(%s, replayed %d, headers_repaired %d, %llu writes)",
               name_of(st).s, res.replayed, res.headers_repaired,
               (unsigned long long)rf.write_attempts);
  }
  /* RULES.md "Plan" 4: the replayed header area parses, so the replayed
   * image loads (a clean image needs nothing else). */
  if (st != VHDXLOG_OK)
    return say(d, 1, "replaying the replayed image again: library %s",
               name_of(st).s);
  if (d->lim->model_on_result) {
    lib_outcome o;
    o.status = st;
    o.result = &res;
    o.plan = l.status == VHDXLOG_OK ? &l.plan : NULL;
    o.data = rf.data;
    o.size = rf.size;
    o.written = &main_file->b->dirty; /* nothing written: the input's */
    rc = check_model(d, &o, rf.data, rf.size, &main_file->b->dirty,
                     "on the replayed image: ");
  }
  return rc;
}

/* 2b: the log's writes twice (a first replay whose header writes are
 * dropped, so the log stays dirty, then a fresh load + replay) give the
 * bytes of one uninterrupted replay. The first replay reuses the main
 * plan: the file is the original again. */
static int check_writes_twice(diff *d, const input *in,
                              const vhdxlog_plan *main_plan,
                              const mfile *main_file) {
  mfile f;
  vhdxlog_io io;
  drop_headers_io dh;
  vhdxlog_error error;
  vhdxlog_status st;
  loaded l;
  int rc;

  if (file_open(d, SB_SCRATCH, &f, in) != 0)
    return say(d, -1, "cannot allocate a memory file");
  dh.inner = f.io;
  dh.dropped = 0;
  io.ctx = &dh;
  io.read = dh_read;
  io.write = dh_write;
  io.write_zeros = dh_write_zeros;
  io.get_size = dh_get_size;
  io.set_size = dh_set_size;
  io.flush = dh_flush;
  st = vhdxlog_replay(main_plan, &io, d->buffer, BUF_TWICE, NULL, &error);
  if (st != VHDXLOG_OK) {
    rc = say(d, 1, "replay with header writes dropped: library %s",
             name_of(st).s);
  } else if ((st = load_bytes(d, SB_AREA, f.mf.data, f.mf.size, &f.b->dirty,
                              f.b->dirty.frozen, &l)) != VHDXLOG_OK) {
    rc = say(d, 1, "writes applied twice (header writes dropped once): load %s",
             name_of(st).s);
  } else if ((st = vhdxlog_replay(&l.plan, &f.io, d->buffer, BUF_TWICE, NULL,
                                  &error)) != VHDXLOG_OK) {
    rc = say(d, 1,
             "second replay after a replay without header writes: "
             "library %s",
             name_of(st).s);
  } else {
    /* Both lists start with the input's ranges: the main file's writes
     * suffice from the second. */
    ext_list main_writes = writes_only(&main_file->b->dirty);
    rc = compare_images(d,
                        "writes applied twice (header writes dropped once): "
                        "differs",
                        "twice", f.mf.data, f.mf.size, "once",
                        main_file->mf.data, main_file->mf.size, &f.b->dirty,
                        &main_writes, NULL);
  }
  file_done(&f);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Check 4 (also used on crashed states): overlay.                          */

/* One overlay read of [off, off + n) of the file `file` (its current bytes,
 * zeros past file_size) under `plan`, which must give expected[off..]. */
static int overlay_one(diff *d, const char *context, const vhdxlog_plan *plan,
                       const uint8_t *file, uint64_t file_size,
                       const uint8_t *expected, uint64_t off, uint64_t n) {
  vhdxlog_error error;
  vhdxlog_status st;
  /* Exactly n bytes: an overlay write past the chunk is an ASan report. */
  uint8_t *chunk = wb_get(&d->ws->chunk, (size_t)n);
  if (chunk == NULL)
    return say(d, -1, "cannot allocate an overlay buffer");
  memset(chunk, 0, (size_t)n);
  if (off < file_size) {
    uint64_t have = file_size - off < n ? file_size - off : n;
    memcpy(chunk, file + off, (size_t)have);
  }
  st = vhdxlog_overlay_read(plan, off, chunk, (size_t)n, &error);
  if (st != VHDXLOG_OK) {
    return say(d, 1, "%soverlay read at 0x%llx (+0x%llx): %s", context,
               (unsigned long long)off, (unsigned long long)n, name_of(st).s);
  }
  if (n > 0 && memcmp(chunk, expected + off, (size_t)n) != 0) {
    uint64_t j = 0;
    while (chunk[j] == expected[off + j])
      j++;
    return say(d, 1,
               "%soverlay differs at byte 0x%llx%s (overlay 0x%02x, "
               "replay 0x%02x)",
               context, (unsigned long long)(off + j), where_of(off + j).s,
               chunk[j], expected[off + j]);
  }
  return 0;
}

/* Chunks from `off` on, cycling through odd sizes around `base` (so chunk
 * boundaries fall at odd offsets, inside sectors and headers), until `end`
 * or `calls` reads (0: no limit). */
static int overlay_run(diff *d, const char *context, const vhdxlog_plan *plan,
                       const uint8_t *file, uint64_t file_size,
                       const uint8_t *expected, uint64_t off, uint64_t end,
                       uint64_t base, uint32_t calls) {
  static const uint32_t small[4] = {1, 17, 4095, 511};
  uint32_t i = 0;
  int rc = 0;
  while (off < end && rc == 0 && (calls == 0 || i < calls)) {
    uint64_t n;
    switch (i % 4) {
    case 0:
      n = base;
      break;
    case 1:
      n = small[(i / 4) % 4];
      break;
    case 2:
      n = base + 2 * VHDXLOG_SECTOR_SIZE - 1;
      break;
    default:
      n = 2 * base + 5;
      break;
    }
    i++;
    if (n > end - off)
      n = end - off;
    rc = overlay_one(d, context, plan, file, file_size, expected, off, n);
    off += n;
  }
  return rc;
}

/*
 * vhdxlog_overlay_read() under `plan` of the file `file` must give the
 * replayed image `expected` (expected_size bytes, written in the ranges of
 * `written` apart from the input's).
 * Full (not fuzz mode): [0, expected_size) in about `calls` chunks.
 * Fuzz mode: both header slots, each in two chunks split at an odd offset,
 * and `calls` chunks from a point the input chooses (limits.overlay_pick:
 * the start of one of the ranges in `written`, moved back by up to 4 KiB).
 */
static int check_overlay(diff *d, const char *context, const vhdxlog_plan *plan,
                         const uint8_t *file, uint64_t file_size,
                         const uint8_t *expected, uint64_t expected_size,
                         uint32_t calls, const ext_list *written) {
  uint64_t base;
  int rc = 0, h;

  if (plan->replayed_size != expected_size) {
    return say(d, 1, "%splan replayed_size 0x%llx vs replayed file size 0x%llx",
               context, (unsigned long long)plan->replayed_size,
               (unsigned long long)expected_size);
  }
  if (calls == 0 || expected_size == 0)
    return 0;
  if (!d->lim->fuzz_mode) {
    base = expected_size / calls;
    if (base < VHDXLOG_SECTOR_SIZE + 17u)
      base = VHDXLOG_SECTOR_SIZE + 17u;
    base |= 1u;
    return overlay_run(d, context, plan, file, file_size, expected, 0,
                       expected_size, base, 0);
  }
  for (h = 0; h < 2 && rc == 0; h++) {
    uint64_t slot = h == 0 ? HEADERS_BEGIN : VHDXLOG_HEADER2_OFFSET;
    uint64_t split = 1 + 2 * (uint64_t)(d->lim->overlay_pick % 2048u);
    if (slot + VHDXLOG_HEADER_SIZE > expected_size)
      break;
    rc = overlay_one(d, context, plan, file, file_size, expected, slot - 1,
                     split);
    if (rc == 0)
      rc = overlay_one(d, context, plan, file, file_size, expected,
                       slot - 1 + split, VHDXLOG_HEADER_SIZE + 2 - split);
  }
  if (rc == 0 && written != NULL && written->n > 0) {
    uint32_t pick = d->lim->overlay_pick;
    uint64_t start = written->e[pick % written->n][0];
    uint64_t back = (pick / written->n) % VHDXLOG_SECTOR_SIZE;
    start = start > back ? start - back : 0;
    if (start < expected_size)
      rc = overlay_run(d, context, plan, file, file_size, expected, start,
                       expected_size, VHDXLOG_SECTOR_SIZE + 17u, calls);
  }
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Check 3: crash recovery.                                                 */

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
  loaded l;
  char context[80], what[96];

  f->mf.fail_at_write = (int64_t)k;
  st = vhdxlog_replay(main_plan, &f->io, d->buffer, BUF_MAIN, NULL, &error);
  if (st != VHDXLOG_E_IO || f->mf.writes != k) {
    return say(d, 1,
               "crash after write %llu: library %s after %llu writes, "
               "expected E_IO after %llu",
               (unsigned long long)k, name_of(st).s,
               (unsigned long long)f->mf.writes, (unsigned long long)k);
  }
  f->mf.fail_at_write = -1;
  snprintf(context, sizeof context,
           "crash after write %llu then re-run:", (unsigned long long)k);

  st = load_bytes(d, SB_AREA, f->mf.data, f->mf.size, &f->b->dirty,
                  f->b->dirty.frozen, &l);
  if (st != VHDXLOG_OK)
    return say(d, 1, "%s load %s", context, name_of(st).s);
  if (main_plan->replay && data_modified(in, f) &&
      memcmp(l.image.headers[l.image.current].file_write_guid,
             main_plan->new_file_write_guid, 16) != 0) {
    /* MS-VHDX 2.2.2: the FileWriteGuid changes (durably: the header
     * update is flushed) before the first modification of the file. */
    return say(d, 1,
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
    rc = check_overlay(d, ocontext, &l.plan, f->mf.data, f->mf.size,
                       main_file->mf.data, main_file->mf.size,
                       d->lim->fuzz_mode ? d->lim->overlay_calls
                                         : d->lim->overlay_calls / 4 + 1,
                       &main_file->b->dirty);
    if (rc != 0)
      return rc;
  }
  st = vhdxlog_replay(&l.plan, &f->io, d->buffer, BUF_RERUN, NULL, &error);
  if (st != VHDXLOG_OK)
    return say(d, 1, "%s library %s", context, name_of(st).s);
  snprintf(what, sizeof what, "%s differs", context);
  main_writes = writes_only(&main_file->b->dirty); /* as in check 2b */
  return compare_images(d, what, "re-run", f->mf.data, f->mf.size,
                        "uninterrupted", main_file->mf.data, main_file->mf.size,
                        &f->b->dirty, &main_writes, NULL);
}

static int crash_at(diff *d, const input *in, const vhdxlog_plan *main_plan,
                    const mfile *main_file, uint64_t k) {
  mfile f;
  int rc;
  if (file_open(d, SB_SCRATCH, &f, in) != 0)
    return say(d, -1, "cannot allocate a memory file");
  rc = crash_once(d, in, main_plan, main_file, k, &f);
  file_done(&f);
  return rc;
}

static int check_crashes(diff *d, const input *in,
                         const vhdxlog_plan *main_plan,
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

/* ------------------------------------------------------------------------ */

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

int replay_diff(const uint8_t *image, size_t size, uint64_t max_size, char *why,
                size_t why_size) {
  replay_diff_limits lim;
  replay_diff_default_limits(&lim);
  lim.max_size = max_size;
  return replay_diff_ex(image, size, &lim, NULL, why, why_size);
}

/* Checks 0-4 once the workspace is ready. */
static int run_checks(diff *d, const input *in) {
  mfile mf;
  vhdxlog_loaded main_load;
  loaded fast_load;
  const vhdxlog_plan *main_plan = NULL;
  vhdxlog_replay_result result;
  vhdxlog_error error;
  vhdxlog_status st;
  lib_outcome o;
  int rc;

  /* 1. Library (vhdxlog_load + vhdxlog_replay) vs model. In fuzz mode the
   * main run loads with load_bytes() instead: vhdxlog_load()'s fresh 1 MiB
   * blocks cost more than every other check together. */
  if (file_open(d, SB_MAIN, &mf, in) != 0)
    return say(d, -1, "cannot allocate a memory file");
  memset(&result, 0, sizeof result);
  memset(&main_load, 0, sizeof main_load);
  if (d->lim->fuzz_mode) {
    st = load_bytes(d, SB_MAIN_AREA, in->data, in->size, in->nz, in->nz->n,
                    &fast_load);
    if (st == VHDXLOG_OK)
      main_plan = &fast_load.plan;
  } else {
    st = vhdxlog_load(&mf.io, &main_load, &error);
    if (main_load.plan_ready)
      main_plan = &main_load.plan;
  }
  if (st == VHDXLOG_OK)
    st =
        vhdxlog_replay(main_plan, &mf.io, d->buffer, BUF_MAIN, &result, &error);
  o.status = st;
  o.result = &result;
  o.plan = main_plan;
  o.data = mf.mf.data;
  o.size = mf.mf.size;
  o.written = &mf.b->dirty;
  rc = check_model(d, &o, in->data, in->size, in->nz, "");

  /* 0. The loader of the repeated runs agrees with vhdxlog_load(). */
  if (rc == 0 && !d->lim->fuzz_mode) {
    loaded l;
    vhdxlog_status ls =
        load_bytes(d, SB_AREA, in->data, in->size, in->nz, in->nz->n, &l);
    vhdxlog_status ms = main_load.plan_ready ? VHDXLOG_OK : st;
    if (ls != ms || (ls == VHDXLOG_OK && !same_plan(&l.plan, &main_load.plan)))
      rc = say(d, 1,
               "replay_diff's loader disagrees with vhdxlog_load (%s vs %s)",
               name_of(ls).s, name_of(ms).s);
  }

  /* The rest checks the library's own replay: only when there is one. */
  if (rc == 0 && st == VHDXLOG_OK) {
    /* 2. Idempotence. */
    rc = check_replay_again(d, &mf);
    if (rc == 0)
      rc = check_writes_twice(d, in, main_plan, &mf);
    /* 3. Crash after each write (or a sample of them), then re-run. */
    if (rc == 0)
      rc = check_crashes(d, in, main_plan, &mf);
    /* 4. Overlay of the original file under the original plan. */
    if (rc == 0)
      rc = check_overlay(d, "", main_plan, in->data, in->size, mf.mf.data,
                         mf.mf.size, d->lim->overlay_calls, &mf.b->dirty);
  }
  vhdxlog_loaded_free(&main_load);
  file_done(&mf);
  if (rc == 0 && ws_oom(d->ws))
    rc = say(d, -1, "cannot allocate an extent list");
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
  d.buffer = wb_get(&ws->replay, BUF_MAIN);
  if (d.buffer == NULL)
    return say(&d, -1, "cannot allocate the replay buffer");
  return run_checks(&d, &in);
}

int replay_diff_ex(const uint8_t *image, size_t size,
                   const replay_diff_limits *limits, replay_diff_workspace *ws,
                   char *why, size_t why_size) {
  static const uint8_t zeros[SCAN_BLOCK] = {0};
  replay_diff_workspace *own = NULL;
  size_t off;
  int rc;

  if (why != NULL && why_size > 0)
    why[0] = '\0';
  if (image == NULL)
    image = zeros, size = 0; /* size 0 is an image too: E_FILE_TOO_SMALL */
  if (limits == NULL) {
    if (why != NULL && why_size > 0)
      snprintf(why, why_size, "no limits given");
    return -1;
  }
  if (ws == NULL) {
    own = ws = replay_diff_workspace_new();
    if (ws == NULL) {
      if (why != NULL && why_size > 0)
        snprintf(why, why_size, "cannot allocate a workspace");
      return -1;
    }
  }
  /* The image's non-zero ranges, 4 KiB at a time. */
  ws->scan.n = 0;
  ws->scan.oom = 0;
  for (off = 0; off < size; off += SCAN_BLOCK) {
    size_t n = size - off < SCAN_BLOCK ? size - off : SCAN_BLOCK;
    if (memcmp(image + off, zeros, n) != 0)
      ext_add(&ws->scan, off, off + n);
  }
  rc = run(image, size, &ws->scan, limits, ws, why, why_size);
  replay_diff_workspace_free(own);
  return rc;
}

int replay_diff_input(const replay_diff_limits *limits,
                      replay_diff_workspace *ws, char *why, size_t why_size) {
  if (why != NULL && why_size > 0)
    why[0] = '\0';
  if (limits == NULL || ws == NULL || ws->b[SB_INPUT].p == NULL) {
    if (why != NULL && why_size > 0)
      snprintf(why, why_size, "no limits, workspace or input");
    return -1;
  }
  return run(ws->b[SB_INPUT].p, ws->input_size, &ws->b[SB_INPUT].dirty, limits,
             ws, why, why_size);
}
