/* SPDX-License-Identifier: MIT */
/*
 * The greedy search: each pass proposes smaller inputs (whole entries
 * dropped, descriptors dropped with their data sectors, sectors outside
 * every entry dropped, the packed image's pieces cut, payload zeroed), the
 * checksums are repaired, and a candidate replaces the current input when
 * the target still crashes with the same signature. Groups are tried large
 * first and halved (delta debugging), so a big input loses most of its
 * bytes in a few runs.
 */
#define _POSIX_C_SOURCE 200809L
#include "files.h"
#include "minimize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ENTRIES 16384u /* a 64 MiB log has as many sectors */

long long mz_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t nonzero(const mz_buf *b) {
  size_t i, n = 0;
  for (i = 0; i < b->n; i++)
    n += b->p[i] != 0;
  return n;
}

static uint64_t hash(const mz_buf *b) {
  uint64_t h = 1469598103934665603ull;
  size_t i;
  for (i = 0; i < b->n; i++)
    h = (h ^ b->p[i]) * 1099511628211ull;
  return h ^ b->n;
}

/* 1 if the candidate was run before (and remember it). */
static int seen(mz_ctx *c, uint64_t h) {
  size_t i;
  if (c->seen_n * 2 >= c->seen_cap) {
    size_t cap = c->seen_cap ? c->seen_cap * 2 : 4096, k;
    uint64_t *t = calloc(cap, sizeof *t);
    if (t == NULL)
      return 0;
    for (k = 0; k < c->seen_cap; k++)
      if (c->seen[k] != 0)
        for (i = c->seen[k] % cap;; i = (i + 1) % cap)
          if (t[i] == 0) {
            t[i] = c->seen[k];
            break;
          }
    free(c->seen);
    c->seen = t;
    c->seen_cap = cap;
  }
  h |= 1; /* 0 marks a free slot */
  for (i = h % c->seen_cap; c->seen[i] != 0; i = (i + 1) % c->seen_cap)
    if (c->seen[i] == h)
      return 1;
  c->seen[i] = h;
  c->seen_n++;
  return 0;
}

static void save(const mz_ctx *c) {
  if (fuzz_write_file(c->out_path, NULL, 0, c->cur.p, c->cur.n) != 0)
    perror(c->out_path);
}

/* Repair, run, keep if smaller with the same crash. Takes *cand. */
static int try_candidate(mz_ctx *c, mz_buf *cand, const char *what) {
  mz_sig sig;
  int keep = 0;
  if (c->out_of_time || (c->out_of_time = mz_now_ms() > c->deadline))
    goto done;
  if (c->repair && mz_repair(&c->layout, cand) != 0)
    goto done;
  if (cand->n > c->cur.n ||
      (cand->n == c->cur.n && nonzero(cand) >= nonzero(&c->cur)))
    goto done;
  if (seen(c, hash(cand)) || mz_run(c->runner, cand->p, cand->n, &sig) != 0)
    goto done;
  keep = mz_sig_same(&sig, &c->want);
  if (keep) {
    mz_buf t = c->cur;
    c->cur = *cand;
    *cand = t;
    c->accepted++;
    save(c);
    if (c->verbose)
      fprintf(stderr, "minimize: %-28s -> %zu bytes (run %lu)\n", what,
              c->cur.n, mz_runs(c->runner));
  }
done:
  mz_buf_free(cand);
  return keep;
}

/* The current log and its entries; -1 when the input has no log. */
static int load(mz_ctx *c, mz_buf *log, mz_entry *es, size_t *n, int disjoint) {
  if (mz_log_get(&c->layout, &c->cur, log) != 0)
    return -1;
  *n = mz_entries(log->p, log->n, disjoint, es, MAX_ENTRIES);
  return 0;
}

/* Put an edited log back and try it. */
static int try_log(mz_ctx *c, mz_buf *log, const char *what) {
  mz_buf cand = {NULL, 0};
  int r = mz_log_put(&c->layout, &c->cur, log->p, log->n, &cand) == 0 &&
          try_candidate(c, &cand, what);
  mz_buf_free(&cand);
  return r;
}

static int cmp_range(const void *a, const void *b) {
  const mz_range *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort and merge ranges (they may touch or overlap). */
static size_t merge(mz_range *r, size_t n) {
  size_t i, k = 0;
  qsort(r, n, sizeof *r, cmp_range);
  for (i = 0; i < n; i++) {
    if (k > 0 && r[i].start <= r[k - 1].start + r[k - 1].count) {
      uint32_t end = r[i].start + r[i].count;
      if (end > r[k - 1].start + r[k - 1].count)
        r[k - 1].count = end - r[k - 1].start;
    } else {
      r[k++] = r[i];
    }
  }
  return k;
}

/* Drop entries [i, i + m) of es; `renumber`: the later ones close the gap
 * in the sequence numbers. */
static int drop_entries(mz_ctx *c, const mz_buf *orig, const mz_entry *es,
                        size_t n, size_t i, size_t m, int renumber) {
  mz_buf log = {NULL, 0};
  mz_range *r = calloc(2 * m, sizeof *r);
  size_t k, nr = 0, j, sectors = orig->n / MZ_SECTOR;
  int ok = 0;
  if (r == NULL || mz_buf_set(&log, orig->p, orig->n) != 0)
    goto out;
  for (j = 0; renumber && j < n; j++) {
    uint64_t below = 0;
    if (j >= i && j < i + m)
      continue;
    for (k = i; k < i + m; k++)
      below += es[k].seq < es[j].seq;
    if (below > 0)
      mz_set_seq(log.p, log.n, &es[j], es[j].seq - below);
  }
  for (k = i; k < i + m; k++) {
    uint32_t s = es[k].sector, end = s + es[k].sectors; /* <= 2 * sectors */
    r[nr].start = s;
    r[nr++].count = (end <= sectors ? end : (uint32_t)sectors) - s;
    if (end > sectors) { /* the wrapped part at the start */
      r[nr].start = 0;
      r[nr++].count = end - (uint32_t)sectors;
    }
  }
  nr = merge(r, nr);
  ok = mz_drop_ranges(&log, r, nr) == 0 &&
       try_log(c, &log, renumber ? "drop entries, renumber" : "drop entries");
out:
  free(r);
  mz_buf_free(&log);
  return ok;
}

static int pass_entries(mz_ctx *c, mz_entry *es) {
  mz_buf log = {NULL, 0};
  size_t n, chunk, i;
  int progress = 0;
  if (load(c, &log, es, &n, 1) != 0)
    return 0;
  for (chunk = n > 1 ? n / 2 : 1; chunk >= 1 && !c->out_of_time; chunk /= 2) {
    for (i = 0; i < n && !c->out_of_time;) {
      size_t m = chunk < n - i ? chunk : n - i, k;
      int later = 0;
      for (k = 0; k < n; k++)
        later |= (k < i || k >= i + m) && es[k].seq > es[i].seq;
      if (drop_entries(c, &log, es, n, i, m, 0) ||
          (later && drop_entries(c, &log, es, n, i, m, 1))) {
        progress = 1;
        if (load(c, &log, es, &n, 1) != 0)
          break;
        continue;
      }
      i += m;
    }
    if (chunk == 1)
      break;
  }
  mz_buf_free(&log);
  return progress;
}

/* Descriptors [from, from + m) of entry es[j], with their data sectors. */
static int drop_descriptors(mz_ctx *c, const mz_buf *orig, const mz_entry *e,
                            uint32_t from, uint32_t m) {
  mz_buf log = {NULL, 0}, ent = {NULL, 0};
  int ok = mz_buf_set(&log, orig->p, orig->n) == 0 &&
           mz_entry_without(orig->p, orig->n, e, from, m, &ent) == 0 &&
           mz_splice(&log, e->sector, e->sectors, ent.p,
                     (uint32_t)(ent.n / MZ_SECTOR)) == 0 &&
           try_log(c, &log, "drop descriptors");
  mz_buf_free(&log);
  mz_buf_free(&ent);
  return ok;
}

static int pass_descriptors(mz_ctx *c, mz_entry *es) {
  mz_buf log = {NULL, 0};
  size_t n, j;
  int progress = 0;
  if (load(c, &log, es, &n, 1) != 0)
    return 0;
  for (j = 0; j < n && !c->out_of_time; j++) {
    uint32_t chunk, from;
    if (es[j].count == 0 ||
        (uint64_t)es[j].sector + es[j].sectors > log.n / MZ_SECTOR)
      continue; /* nothing to drop, or it wraps */
    for (chunk = es[j].count > 1 ? es[j].count / 2 : 1;
         chunk >= 1 && !c->out_of_time; chunk /= 2) {
      for (from = 0; from < es[j].count && !c->out_of_time;) {
        uint32_t m = chunk < es[j].count - from ? chunk : es[j].count - from;
        if (drop_descriptors(c, &log, &es[j], from, m)) {
          progress = 1;
          if (load(c, &log, es, &n, 1) != 0 || j >= n)
            goto out;
          continue;
        }
        from += m;
      }
      if (chunk == 1)
        break;
    }
  }
out:
  mz_buf_free(&log);
  return progress;
}

/* Sectors that belong to no entry (up to the last non-zero one), as
 * single-sector ranges; their count. */
static size_t loose_sectors(const mz_buf *log, const mz_entry *es, size_t n,
                            mz_range *out) {
  size_t sectors = log->n / MZ_SECTOR, used = log->n, s, k = 0, j;
  unsigned char *cover = calloc(sectors ? sectors : 1, 1);
  if (cover == NULL)
    return 0;
  while (used > 0 && log->p[used - 1] == 0)
    used--;
  for (j = 0; j < n; j++)
    for (s = 0; s < es[j].sectors; s++)
      cover[(es[j].sector + s) % sectors] = 1;
  for (s = 0; s * MZ_SECTOR < used; s++)
    if (!cover[s]) {
      out[k].start = (uint32_t)s;
      out[k++].count = 1;
    }
  free(cover);
  return k;
}

static int pass_sectors(mz_ctx *c, mz_entry *es) {
  mz_buf log = {NULL, 0}, edit = {NULL, 0};
  mz_range *loose = NULL, *pick = NULL;
  size_t n, nl, chunk, i;
  int progress = 0;
  if (load(c, &log, es, &n, 0) != 0)
    return 0;
  loose = calloc(log.n / MZ_SECTOR + 1, sizeof *loose);
  pick = calloc(log.n / MZ_SECTOR + 1, sizeof *pick);
  if (loose == NULL || pick == NULL)
    goto out;
  nl = loose_sectors(&log, es, n, loose);
  for (chunk = nl > 1 ? nl / 2 : 1; nl > 0 && !c->out_of_time; chunk /= 2) {
    for (i = 0; i < nl && !c->out_of_time;) {
      size_t m = chunk < nl - i ? chunk : nl - i, np;
      memcpy(pick, loose + i, m * sizeof *pick);
      np = merge(pick, m);
      if (mz_buf_set(&edit, log.p, log.n) == 0 &&
          mz_drop_ranges(&edit, pick, np) == 0 &&
          try_log(c, &edit, "drop sectors")) {
        progress = 1;
        if (load(c, &log, es, &n, 0) != 0)
          goto out;
        nl = loose_sectors(&log, es, n, loose);
        continue;
      }
      i += m;
    }
    if (chunk <= 1)
      break;
  }
out:
  mz_buf_free(&edit);
  mz_buf_free(&log);
  free(loose);
  free(pick);
  return progress;
}

static int pass_shrink(mz_ctx *c) {
  static const char *what[] = {"cut tail into extra", "cut trailing zeros",
                               "no extra size",       "LogLength 1 MiB",
                               "log to 1 MiB",        "zero outside the log"};
  int progress = 0, r;
  unsigned k;
  for (k = 0; !c->out_of_time; k++) {
    mz_buf cand = {NULL, 0};
    r = mz_shrink_candidate(&c->layout, &c->cur, k, &cand);
    if (r < 0) {
      mz_buf_free(&cand);
      break;
    }
    if (r > 0 &&
        try_candidate(c, &cand,
                      c->layout.packed ? what[k % 6] : "cut the log")) {
      progress = 1;
      k = (unsigned)-1; /* one cut may open the way for an earlier one */
    }
    mz_buf_free(&cand);
  }
  return progress;
}

static int pass_zero(mz_ctx *c, mz_entry *es) {
  mz_buf log = {NULL, 0}, edit = {NULL, 0};
  size_t n, j;
  int progress = 0;
  if (load(c, &log, es, &n, 1) != 0)
    return 0;
  for (j = 0; j < n && !c->out_of_time; j++)
    if (mz_buf_set(&edit, log.p, log.n) == 0 &&
        mz_zero_payload(edit.p, edit.n, &es[j]) > 0 &&
        try_log(c, &edit, "zero payload")) {
      progress = 1;
      if (load(c, &log, es, &n, 1) != 0)
        break;
    }
  mz_buf_free(&edit);
  mz_buf_free(&log);
  return progress;
}

/* Repair only if the repaired input still crashes the same way: a crash
 * may need a bad checksum (the targets that take bytes as they are). */
static void choose_repair(mz_ctx *c) {
  mz_buf cand = {NULL, 0};
  mz_sig sig;
  c->repair = 0;
  if (mz_buf_set(&cand, c->cur.p, c->cur.n) != 0 ||
      mz_repair(&c->layout, &cand) != 0) {
    mz_buf_free(&cand);
    return;
  }
  if (memcmp(cand.p, c->cur.p, cand.n) == 0 ||
      (mz_run(c->runner, cand.p, cand.n, &sig) == 0 &&
       mz_sig_same(&sig, &c->want))) {
    c->repair = 1;
    mz_buf_free(&c->cur);
    c->cur = cand;
    return;
  }
  fprintf(stderr, "minimize: the crash needs a bad checksum: edits are "
                  "not repaired\n");
  mz_buf_free(&cand);
}

int mz_minimize(mz_ctx *c) {
  mz_entry *es = calloc(MAX_ENTRIES, sizeof *es);
  int progress;
  if (es == NULL)
    return -1;
  choose_repair(c);
  save(c);
  do {
    progress = pass_shrink(c);
    progress |= pass_entries(c, es);
    progress |= pass_descriptors(c, es);
    progress |= pass_sectors(c, es);
  } while (progress && !c->out_of_time);
  if (pass_zero(c, es))
    pass_shrink(c);
  free(es);
  free(c->seen);
  c->seen = NULL;
  return 0;
}
