/* SPDX-License-Identifier: MIT */
/* Extent lists, clean buffers and the workspace a caller keeps across
 * inputs (replay_diff.h says why every large buffer lives there). */
#include <stdlib.h>
#include <string.h>

#include "rd_internal.h"

void rd_ext_add(ext_list *l, uint64_t off, uint64_t end) {
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
uint8_t *rd_sb_get(sbuf *b, size_t size, size_t want, int poison) {
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
void rd_copy_ranges(uint8_t *dst, ext_list *dst_list, const uint8_t *src,
                    uint64_t size, const ext_list *l, uint64_t base,
                    uint64_t length) {
  size_t i;
  uint64_t top = base + length < size ? base + length : size;
  for (i = 0; i < l->n; i++) {
    uint64_t lo = l->e[i][0] > base ? l->e[i][0] : base;
    uint64_t hi = l->e[i][1] < top ? l->e[i][1] : top;
    if (lo < hi) {
      memcpy(dst + (lo - base), src + lo, (size_t)(hi - lo));
      rd_ext_add(dst_list, lo - base, hi - base);
    }
  }
}

/* The ranges of a memory file's list after its frozen prefix (the input's
 * ranges): what was written into it since. A view: it shares b's entries. */
ext_list rd_writes_only(const ext_list *l) {
  ext_list v;
  memset(&v, 0, sizeof v);
  v.e = l->e + l->frozen;
  v.n = l->n - l->frozen;
  return v;
}

/* ------------------------------------------------------------------------ */
/* Workspace: large buffers kept between inputs.                            */

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
uint8_t *rd_wb_get(ws_buf *b, size_t size) {
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
  p = rd_sb_get(
      &ws->b[SB_INPUT], size,
      size < REPLAY_DIFF_DEFAULT_MAX_SIZE ? REPLAY_DIFF_DEFAULT_MAX_SIZE : size,
      1);
  ws->input_size = p != NULL ? size : 0;
  return p;
}

void replay_diff_workspace_mark(replay_diff_workspace *ws, uint64_t offset,
                                uint64_t end) {
  if (end > ws->input_size)
    end = ws->input_size;
  rd_ext_add(&ws->b[SB_INPUT].dirty, offset, end);
}

int rd_ws_oom(const replay_diff_workspace *ws) {
  int i;
  for (i = 0; i < SB_SLOTS; i++)
    if (ws->b[i].dirty.oom)
      return 1;
  return ws->scan.oom;
}
