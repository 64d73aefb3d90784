/*
 * Differential replayer: library vs reference model, then the library
 * against itself (re-runs, crash points, overlay). See replay_diff.h for the
 * checks and their order.
 *
 * Cost. Under AddressSanitizer every block over 128 KiB is a fresh mmap, and
 * on the virtual machines we fuzz on a first touch costs ~50 us per 4 KiB
 * page: a 4 MiB copy in fresh memory is ~55 ms, 100x the copy itself. So
 * every large buffer here lives in a workspace that a caller may keep
 * across inputs (replay_diff_workspace), memory files are built over those
 * buffers, the main run's plan is reused where the file is the original
 * again (crash runs, the first run of check 2b), and the repeated loads use
 * a loader over workspace buffers (load_bytes) that runs the same public
 * calls as vhdxlog_load(); the main run uses vhdxlog_load() itself, and the
 * two must agree on every input (check 0).
 */
#include "replay_diff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ------------------------------------------------------------------------ */
/* Workspace: large buffers kept between inputs.                            */

enum {
  WS_MAIN,    /* the main run's memory file */
  WS_SCRATCH, /* the memory file of checks 2b and 3 */
  WS_AREA,    /* load_bytes: header area */
  WS_LOG,     /* load_bytes: log */
  WS_CHUNK,   /* overlay reads */
  WS_REPLAY,  /* the replay buffer */
  WS_INPUT,   /* the caller's (replay_diff_workspace_input) */
  WS_SLOTS
};

typedef struct ws_buf {
  uint8_t *p;
  size_t cap;
} ws_buf;

struct replay_diff_workspace {
  ws_buf b[WS_SLOTS];
};

replay_diff_workspace *replay_diff_workspace_new(void) {
  return calloc(1, sizeof(replay_diff_workspace));
}

void replay_diff_workspace_free(replay_diff_workspace *ws) {
  int i;
  if (ws == NULL)
    return;
  for (i = 0; i < WS_SLOTS; i++) {
    RD_UNPOISON(ws->b[i].p, ws->b[i].cap);
    free(ws->b[i].p);
  }
  free(ws);
}

/* Slot `slot` with room for `size` bytes (at least 1); bytes past `size`
 * are poisoned under ASan, so that over-reads are still reported. NULL
 * when memory ran out. */
static uint8_t *ws_get(replay_diff_workspace *ws, int slot, size_t size) {
  ws_buf *b = &ws->b[slot];
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
  return ws != NULL ? ws_get(ws, WS_INPUT, size) : NULL;
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

/* Write the description of the first difference; returns `rc`. */
static int say(diff *d, int rc, const char *fmt, ...) {
  va_list ap;
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

/*
 * Compare two images. 0 if equal (size included); otherwise 1 with `what`
 * ("... differ") and the two sides' names in the description, e.g.
 * "replayed images differ at byte 0x11000 (lib 0x00, model 0x5a)".
 */
static int compare_images(diff *d, const char *what, const char *an,
                          const uint8_t *a, uint64_t asize, const char *bn,
                          const uint8_t *b, uint64_t bsize) {
  uint64_t common = asize < bsize ? asize : bsize;
  uint64_t i = 0;

  if (common > 0 && memcmp(a, b, (size_t)common) != 0) {
    /* Find the first differing byte, a block at a time. */
    while (i + 4096 <= common && memcmp(a + i, b + i, 4096) == 0)
      i += 4096;
    while (a[i] == b[i])
      i++;
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
/* Memory files over workspace buffers.                                     */

/*
 * A vhdxlog_mem_file (io/mem.c) holding a copy of `data`, over workspace
 * slot `slot` instead of a fresh block: data/capacity point at the slot's
 * buffer, which mem.c may realloc() when the file grows past it (it is a
 * block of its own; file_done() takes it back). The file may grow to
 * max(size, max_size), the growth rule of model_replay().
 */
static int file_open(diff *d, int slot, vhdxlog_mem_file *f,
                     const uint8_t *data, size_t size, uint64_t room) {
  uint64_t max = d->lim->max_size > size ? d->lim->max_size : size;
  uint8_t *p;
  if (room < size)
    room = size;
  if (room > max)
    room = max;
  if (room > (uint64_t)SIZE_MAX)
    return -1;
  p = ws_get(d->ws, slot, (size_t)room);
  if (p == NULL)
    return -1;
  /* mem.c reads and writes anywhere below its capacity. */
  RD_UNPOISON(p, d->ws->b[slot].cap);
  memset(f, 0, sizeof *f);
  if (size > 0)
    memcpy(p, data, size);
  f->data = p;
  f->size = size;
  f->capacity = d->ws->b[slot].cap;
  f->max_size = max;
  f->fail_at_write = -1;
  return 0;
}

/* Take the (maybe reallocated) buffer back into the workspace. */
static void file_done(diff *d, int slot, vhdxlog_mem_file *f) {
  d->ws->b[slot].p = f->data;
  d->ws->b[slot].cap = (size_t)f->capacity;
  f->data = NULL;
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

/*
 * The calls vhdxlog_load() makes, in its order, on a file held in memory:
 * parse the zero-padded header area, bind the log if dirty, build the plan.
 * Buffers come from the workspace (slots WS_AREA, WS_LOG), so the plan
 * stays valid until the next load_bytes() call.
 */
static vhdxlog_status load_bytes(diff *d, const uint8_t *data, uint64_t size,
                                 loaded *out) {
  uint8_t *area, *log = NULL;
  vhdxlog_status st;

  memset(out, 0, sizeof *out);
  area = ws_get(d->ws, WS_AREA, VHDXLOG_HEADER_AREA_SIZE);
  if (area == NULL)
    return out->status = VHDXLOG_E_IO;
  memset(area, 0, VHDXLOG_HEADER_AREA_SIZE);
  memcpy(area, data,
         size < VHDXLOG_HEADER_AREA_SIZE ? (size_t)size
                                         : VHDXLOG_HEADER_AREA_SIZE);
  st = vhdxlog_image_parse(area, VHDXLOG_HEADER_AREA_SIZE, size, &out->image,
                           &out->error);
  if (st == VHDXLOG_OK && out->image.log_state == VHDXLOG_LOG_DIRTY) {
    /* The parser checked that a dirty log lies inside the file. */
    log = ws_get(d->ws, WS_LOG, out->image.log_length);
    if (log == NULL)
      return out->status = VHDXLOG_E_IO;
    memcpy(log, data + out->image.log_offset, out->image.log_length);
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
} lib_outcome;

static int check_model(diff *d, const lib_outcome *lib, const model_result *m,
                       const char *context) {
  char what[96];
  if (lib->status != m->status) {
    return say(d, 1, "%slibrary %s vs model %s", context,
               name_of(lib->status).s, name_of(m->status).s);
  }
  /* model.h: on E_IO only the status is comparable (the library may have
   * written part of the replay before the file refused to grow). */
  if (m->status == VHDXLOG_E_IO)
    return 0;
  snprintf(what, sizeof what, "%sreplayed images differ", context);
  if (compare_images(d, what, "lib", lib->data, lib->size, "model", m->image,
                     m->image_size) != 0)
    return 1;
  if (m->status != VHDXLOG_OK)
    return 0;
  if (lib->result->replayed != m->replayed ||
      lib->result->headers_repaired != m->headers_repaired) {
    return say(d, 1,
               "%sreplayed/headers_repaired: library %d/%d vs model %d/%d",
               context, lib->result->replayed, lib->result->headers_repaired,
               m->replayed, m->headers_repaired);
  }
  if (m->replayed && lib->plan != NULL) {
    const vhdxlog_sequence *s = &lib->plan->seq;
    if (s->tail_offset != m->tail_offset || s->head_offset != m->head_offset ||
        s->entry_count != m->entry_count ||
        s->head_sequence_number != m->head_sequence_number) {
      return say(d, 1,
                 "%sactive sequence: library tail 0x%x head 0x%x (%u entries,"
                 " head seq %llu) vs model tail 0x%x head 0x%x (%u entries,"
                 " head seq %llu)",
                 context, s->tail_offset, s->head_offset, s->entry_count,
                 (unsigned long long)s->head_sequence_number, m->tail_offset,
                 m->head_offset, m->entry_count,
                 (unsigned long long)m->head_sequence_number);
    }
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Check 2: idempotence.                                                    */

/* 2a: the replayed image, loaded and replayed again, needs nothing: no
 * write is even attempted (read-only I/O). Optionally the model agrees with
 * the library on it (check 1 on a second input). */
static int check_replay_again(diff *d, const vhdxlog_mem_file *main_file) {
  ro_file rf;
  vhdxlog_io io;
  vhdxlog_replay_result res;
  vhdxlog_error error;
  vhdxlog_status st;
  loaded l;
  int rc = 0;

  rf.data = main_file->data;
  rf.size = main_file->size;
  rf.write_attempts = 0;
  io.ctx = &rf;
  io.read = ro_read;
  io.write = ro_write;
  io.write_zeros = ro_write_zeros;
  io.get_size = ro_get_size;
  io.set_size = ro_set_size;
  io.flush = ro_flush;
  memset(&res, 0, sizeof res);
  st = load_bytes(d, rf.data, rf.size, &l);
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
    model_result m;
    lib_outcome o;
    o.status = st;
    o.result = &res;
    o.plan = l.status == VHDXLOG_OK ? &l.plan : NULL;
    o.data = rf.data;
    o.size = rf.size;
    model_replay(rf.data, (size_t)rf.size, d->lim->max_size, &m);
    rc = check_model(d, &o, &m, "on the replayed image: ");
    model_result_free(&m);
  }
  return rc;
}

/* 2b: the log's writes twice (a first replay whose header writes are
 * dropped, so the log stays dirty, then a fresh load + replay) give the
 * bytes of one uninterrupted replay. The first replay reuses the main
 * plan: the file is the original again. */
static int check_writes_twice(diff *d, const uint8_t *image, size_t size,
                              const vhdxlog_plan *main_plan,
                              const vhdxlog_mem_file *main_file) {
  vhdxlog_mem_file f;
  vhdxlog_io mem, io;
  drop_headers_io dh;
  vhdxlog_error error;
  vhdxlog_status st;
  loaded l;
  int rc;

  if (file_open(d, WS_SCRATCH, &f, image, size, main_file->size) != 0)
    return say(d, -1, "cannot allocate a memory file");
  vhdxlog_mem_io(&f, &mem);
  dh.inner = mem;
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
  } else if ((st = load_bytes(d, f.data, f.size, &l)) != VHDXLOG_OK) {
    rc = say(d, 1, "writes applied twice (header writes dropped once): load %s",
             name_of(st).s);
  } else if ((st = vhdxlog_replay(&l.plan, &mem, d->buffer, BUF_TWICE, NULL,
                                  &error)) != VHDXLOG_OK) {
    rc = say(d, 1,
             "second replay after a replay without header writes: "
             "library %s",
             name_of(st).s);
  } else {
    rc = compare_images(d,
                        "writes applied twice (header writes dropped once): "
                        "differs",
                        "twice", f.data, f.size, "once", main_file->data,
                        main_file->size);
  }
  file_done(d, WS_SCRATCH, &f);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Check 4 (also used on crashed states): overlay.                          */

/*
 * vhdxlog_overlay_read() over [0, expected_size) of the file `file` (its
 * current bytes, zeros past file_size) under `plan` must give `expected`.
 * Chunk sizes cycle through odd values around `base`, so chunk boundaries
 * fall at odd offsets, inside sectors and headers.
 */
static int check_overlay(diff *d, const char *context, const vhdxlog_plan *plan,
                         const uint8_t *file, uint64_t file_size,
                         const uint8_t *expected, uint64_t expected_size,
                         uint32_t calls) {
  uint64_t base, off = 0;
  uint8_t *chunk;
  uint32_t i = 0;
  vhdxlog_error error;
  int rc = 0;

  if (plan->replayed_size != expected_size) {
    return say(d, 1, "%splan replayed_size 0x%llx vs replayed file size 0x%llx",
               context, (unsigned long long)plan->replayed_size,
               (unsigned long long)expected_size);
  }
  if (calls == 0 || expected_size == 0)
    return 0;
  base = expected_size / calls;
  if (base < VHDXLOG_SECTOR_SIZE + 17u)
    base = VHDXLOG_SECTOR_SIZE + 17u;
  base |= 1u;
  while (off < expected_size && rc == 0) {
    static const uint32_t small[4] = {1, 17, 4095, 511};
    uint64_t n;
    vhdxlog_status st;

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
    if (n > expected_size - off)
      n = expected_size - off;
    /* Exactly n bytes: an overlay write past the chunk is an ASan report. */
    chunk = ws_get(d->ws, WS_CHUNK, (size_t)n);
    if (chunk == NULL)
      return say(d, -1, "cannot allocate an overlay buffer");
    memset(chunk, 0, (size_t)n);
    if (off < file_size) {
      uint64_t have = file_size - off < n ? file_size - off : n;
      memcpy(chunk, file + off, (size_t)have);
    }
    st = vhdxlog_overlay_read(plan, off, chunk, (size_t)n, &error);
    if (st != VHDXLOG_OK) {
      rc = say(d, 1, "%soverlay read at 0x%llx (+0x%llx): %s", context,
               (unsigned long long)off, (unsigned long long)n, name_of(st).s);
    } else if (memcmp(chunk, expected + off, (size_t)n) != 0) {
      uint64_t j = 0;
      while (chunk[j] == expected[off + j])
        j++;
      rc = say(d, 1,
               "%soverlay differs at byte 0x%llx%s (overlay 0x%02x, "
               "replay 0x%02x)",
               context, (unsigned long long)(off + j), where_of(off + j).s,
               chunk[j], expected[off + j]);
    }
    off += n;
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

/* Does the file differ from the original outside the header slots (bytes
 * or size)? */
static int data_modified(const uint8_t *image, size_t size,
                         const vhdxlog_mem_file *f) {
  uint64_t lo = HEADERS_BEGIN < size ? HEADERS_BEGIN : size;
  uint64_t hi = HEADERS_END < size ? HEADERS_END : size;
  if (f->size != size)
    return 1;
  return memcmp(image, f->data, (size_t)lo) != 0 ||
         memcmp(image + hi, f->data + hi, (size_t)(size - hi)) != 0;
}

/* One crash point: the replay of the original (with the main plan, as the
 * file is the original again) stops after write k; then the interrupted
 * file is loaded afresh, checked, and replayed to the end. */
static int crash_once(diff *d, const uint8_t *image, size_t size,
                      const vhdxlog_plan *main_plan,
                      const vhdxlog_mem_file *main_file, uint64_t k,
                      vhdxlog_mem_file *f) {
  vhdxlog_io io;
  vhdxlog_error error;
  vhdxlog_status st;
  loaded l;
  char context[80], what[96];

  vhdxlog_mem_io(f, &io);
  f->fail_at_write = (int64_t)k;
  st = vhdxlog_replay(main_plan, &io, d->buffer, BUF_MAIN, NULL, &error);
  if (st != VHDXLOG_E_IO || f->writes != k) {
    return say(d, 1,
               "crash after write %llu: library %s after %llu writes, "
               "expected E_IO after %llu",
               (unsigned long long)k, name_of(st).s,
               (unsigned long long)f->writes, (unsigned long long)k);
  }
  f->fail_at_write = -1;
  snprintf(context, sizeof context,
           "crash after write %llu then re-run:", (unsigned long long)k);

  st = load_bytes(d, f->data, f->size, &l);
  if (st != VHDXLOG_OK)
    return say(d, 1, "%s load %s", context, name_of(st).s);
  if (main_plan->replay && data_modified(image, size, f) &&
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
    rc = check_overlay(d, ocontext, &l.plan, f->data, f->size, main_file->data,
                       main_file->size, d->lim->overlay_calls / 4 + 1);
    if (rc != 0)
      return rc;
  }
  st = vhdxlog_replay(&l.plan, &io, d->buffer, BUF_RERUN, NULL, &error);
  if (st != VHDXLOG_OK)
    return say(d, 1, "%s library %s", context, name_of(st).s);
  snprintf(what, sizeof what, "%s differs", context);
  return compare_images(d, what, "re-run", f->data, f->size, "uninterrupted",
                        main_file->data, main_file->size);
}

static int check_crashes(diff *d, const uint8_t *image, size_t size,
                         const vhdxlog_plan *main_plan,
                         const vhdxlog_mem_file *main_file) {
  uint64_t writes = main_file->writes;
  uint64_t points =
      writes < d->lim->max_crash_points ? writes : d->lim->max_crash_points;
  uint64_t i;
  int rc = 0;

  for (i = 0; i < points && rc == 0; i++) {
    vhdxlog_mem_file f;
    if (file_open(d, WS_SCRATCH, &f, image, size, main_file->size) != 0)
      return say(d, -1, "cannot allocate a memory file");
    rc = crash_once(d, image, size, main_plan, main_file,
                    crash_point(writes, (uint32_t)points, (uint32_t)i), &f);
    file_done(d, WS_SCRATCH, &f);
  }
  return rc;
}

/* ------------------------------------------------------------------------ */

void replay_diff_default_limits(replay_diff_limits *limits) {
  limits->max_size = REPLAY_DIFF_DEFAULT_MAX_SIZE;
  limits->max_crash_points = REPLAY_DIFF_DEFAULT_CRASH_POINTS;
  limits->overlay_calls = REPLAY_DIFF_DEFAULT_OVERLAY_CALLS;
  limits->model_on_result = 1;
}

int replay_diff(const uint8_t *image, size_t size, uint64_t max_size, char *why,
                size_t why_size) {
  replay_diff_limits lim;
  replay_diff_default_limits(&lim);
  lim.max_size = max_size;
  return replay_diff_ex(image, size, &lim, NULL, why, why_size);
}

/* Checks 0-4 once the workspace is ready. */
static int run_checks(diff *d, const uint8_t *image, size_t size) {
  vhdxlog_mem_file mf;
  vhdxlog_io io;
  vhdxlog_loaded main_load;
  vhdxlog_replay_result result;
  vhdxlog_error error;
  vhdxlog_status st;
  model_result m;
  lib_outcome o;
  loaded l;
  int rc;

  /* 1. Library (vhdxlog_load + vhdxlog_replay) vs model. */
  if (file_open(d, WS_MAIN, &mf, image, size, size) != 0)
    return say(d, -1, "cannot allocate a memory file");
  vhdxlog_mem_io(&mf, &io);
  memset(&result, 0, sizeof result);
  st = vhdxlog_load(&io, &main_load, &error);
  if (st == VHDXLOG_OK)
    st = vhdxlog_replay(&main_load.plan, &io, d->buffer, BUF_MAIN, &result,
                        &error);
  o.status = st;
  o.result = &result;
  o.plan = main_load.plan_ready ? &main_load.plan : NULL;
  o.data = mf.data;
  o.size = mf.size;
  model_replay(image, size, d->lim->max_size, &m);
  rc = check_model(d, &o, &m, "");
  model_result_free(&m);

  /* 0. The loader of the repeated runs agrees with vhdxlog_load(). */
  if (rc == 0) {
    vhdxlog_status ls = load_bytes(d, image, size, &l);
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
      rc = check_writes_twice(d, image, size, &main_load.plan, &mf);
    /* 3. Crash after each write (or a sample of them), then re-run. */
    if (rc == 0)
      rc = check_crashes(d, image, size, &main_load.plan, &mf);
    /* 4. Overlay of the original file under the original plan. */
    if (rc == 0)
      rc = check_overlay(d, "", &main_load.plan, image, size, mf.data, mf.size,
                         d->lim->overlay_calls);
  }
  vhdxlog_loaded_free(&main_load);
  file_done(d, WS_MAIN, &mf);
  return rc;
}

int replay_diff_ex(const uint8_t *image, size_t size,
                   const replay_diff_limits *limits, replay_diff_workspace *ws,
                   char *why, size_t why_size) {
  static const uint8_t empty[1] = {0};
  replay_diff_workspace *own = NULL;
  diff d;
  int rc;

  d.lim = limits;
  d.why = why;
  d.why_size = why_size;
  if (why != NULL && why_size > 0)
    why[0] = '\0';
  if (image == NULL)
    image = empty; /* size 0 is an image too: E_FILE_TOO_SMALL */
  if (limits == NULL)
    return say(&d, -1, "no limits given");
  if (ws == NULL) {
    own = ws = replay_diff_workspace_new();
    if (ws == NULL)
      return say(&d, -1, "cannot allocate a workspace");
  }
  d.ws = ws;
  d.buffer = ws_get(ws, WS_REPLAY, BUF_MAIN);
  if (d.buffer == NULL)
    rc = say(&d, -1, "cannot allocate the replay buffer");
  else
    rc = run_checks(&d, image, size);
  replay_diff_workspace_free(own);
  return rc;
}
