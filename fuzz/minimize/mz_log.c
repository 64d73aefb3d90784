/* SPDX-License-Identifier: MIT */
/*
 * Edits of a raw log (docs/FORMAT.md "Log region"). The result of an edit
 * need not be valid: the target decides whether it still crashes the same
 * way. Offsets come from the format digest; the checksums are the
 * repair's job (mz_repair), not this file's.
 */
#include "minimize.h"

#include <stdlib.h>
#include <string.h>

#include "vhdx_builder.h"

#define DESC_FIRST 126u /* descriptors in the first descriptor sector */
#define DESC_NEXT 128u  /* in each further one */

int mz_buf_set(mz_buf *b, const uint8_t *p, size_t n) {
  uint8_t *q = malloc(n > 0 ? n : 1);
  if (q == NULL)
    return -1;
  if (n > 0)
    memcpy(q, p, n);
  free(b->p);
  b->p = q;
  b->n = n;
  return 0;
}

void mz_buf_free(mz_buf *b) {
  free(b->p);
  b->p = NULL;
  b->n = 0;
}

/* Descriptor sectors of `count` descriptors (at most 2^25 + 1: no wrap). */
static uint32_t desc_sectors(uint32_t count) {
  return count <= DESC_FIRST
             ? 1u
             : 1u + (uint32_t)(((uint64_t)count - DESC_FIRST + DESC_NEXT - 1) /
                               DESC_NEXT);
}

/* Byte offset of descriptor k inside its entry. */
static uint64_t desc_pos(uint32_t k) {
  if (k < DESC_FIRST)
    return 64u + 32u * (uint64_t)k;
  return MZ_SECTOR * (1u + (uint64_t)(k - DESC_FIRST) / DESC_NEXT) +
         32u * (uint64_t)((k - DESC_FIRST) % DESC_NEXT);
}

/* Byte `pos` of the entry starting at sector s, wrapping per sector. */
static uint8_t *at(uint8_t *log, size_t len, uint32_t s, uint64_t pos) {
  size_t n = len / MZ_SECTOR;
  return log + (size_t)((s + pos / MZ_SECTOR) % n) * MZ_SECTOR +
         (size_t)(pos % MZ_SECTOR);
}

size_t mz_entries(const uint8_t *log, size_t len, int disjoint, mz_entry *out,
                  size_t max) {
  size_t n = len / MZ_SECTOR, s, k = 0;
  uint64_t next_free = 0;
  for (s = 0; s < n && k < max; s++) {
    const uint8_t *h = log + s * MZ_SECTOR;
    uint32_t el;
    if (memcmp(h, "loge", 4) != 0)
      continue;
    el = vtk_get_le32(h + 8);
    if (el == 0 || el % MZ_SECTOR != 0 || el > len)
      continue;
    if (disjoint && s < next_free)
      continue;
    out[k].sector = (uint32_t)s;
    out[k].sectors = el / MZ_SECTOR;
    out[k].seq = vtk_get_le64(h + 16);
    out[k].count = vtk_get_le32(h + 24);
    next_free = s + (uint64_t)out[k].sectors;
    k++;
  }
  return k;
}

/* Tail and length of the entry header at sector x, for a splice of
 * [s, s + k) by r sectors. */
static void fix_header(uint8_t *h, uint32_t x, size_t n, uint32_t s, uint32_t k,
                       uint32_t r) {
  uint32_t tail = vtk_get_le32(h + 12) / MZ_SECTOR,
           el = vtk_get_le32(h + 8) / MZ_SECTOR;
  if (vtk_get_le32(h + 12) % MZ_SECTOR == 0 && tail < n) {
    if (tail >= s + k)
      tail = tail - k + r;
    else if (tail > s)
      tail = s;
    vtk_put_le32(h + 12, tail * MZ_SECTOR);
  }
  if (x < s && vtk_get_le32(h + 8) % MZ_SECTOR == 0 &&
      (uint64_t)x + el >= s + k && (uint64_t)el + r > k)
    vtk_put_le32(h + 8, (el - k + r) * MZ_SECTOR);
}

int mz_splice(mz_buf *log, uint32_t s, uint32_t k, const uint8_t *repl,
              uint32_t r) {
  size_t n = log->n / MZ_SECTOR, x, m;
  uint8_t *q;
  if ((uint64_t)s + k > n || n - k + (size_t)r == 0)
    return -1;
  m = n - k + r;
  q = malloc(m * MZ_SECTOR);
  if (q == NULL)
    return -1;
  memcpy(q, log->p, (size_t)s * MZ_SECTOR);
  if (r > 0)
    memcpy(q + (size_t)s * MZ_SECTOR, repl, (size_t)r * MZ_SECTOR);
  memcpy(q + ((size_t)s + r) * MZ_SECTOR, log->p + ((size_t)s + k) * MZ_SECTOR,
         (n - s - k) * MZ_SECTOR);
  for (x = 0; x < m; x++) {
    uint8_t *h = q + x * MZ_SECTOR;
    /* The sector's old place: before the range, the replacement, after. */
    uint32_t old = x < s               ? (uint32_t)x
                   : x < (size_t)s + r ? s
                                       : (uint32_t)(x - r + k);
    if (memcmp(h, "loge", 4) == 0 && (x < s || x == s || x >= (size_t)s + r))
      fix_header(h, old, n, s, k, r);
  }
  free(log->p);
  log->p = q;
  log->n = m * MZ_SECTOR;
  return 0;
}

int mz_drop_ranges(mz_buf *log, const mz_range *ranges, size_t n) {
  while (n-- > 0)
    if (mz_splice(log, ranges[n].start, ranges[n].count, NULL, 0) != 0)
      return -1;
  return 0;
}

void mz_set_seq(uint8_t *log, size_t len, const mz_entry *e, uint64_t seq) {
  uint32_t k, d = desc_sectors(e->count), i;
  vtk_put_le64(at(log, len, e->sector, 16), seq);
  for (k = 0; k < e->count && desc_pos(k) < (uint64_t)e->sectors * MZ_SECTOR;
       k++) {
    uint8_t *p = at(log, len, e->sector, desc_pos(k));
    if (memcmp(p, "zero", 4) == 0 || memcmp(p, "desc", 4) == 0)
      vtk_put_le64(p + 24, seq);
  }
  for (i = d; i < e->sectors; i++) {
    uint8_t *p = at(log, len, e->sector, (uint64_t)i * MZ_SECTOR);
    if (memcmp(p, "data", 4) == 0) {
      vtk_put_le32(p + 4, (uint32_t)(seq >> 32));
      vtk_put_le32(p + 4092, (uint32_t)seq);
    }
  }
}

int mz_entry_without(const uint8_t *log, size_t len, const mz_entry *e,
                     uint32_t from, uint32_t m, mz_buf *out) {
  uint32_t d = desc_sectors(e->count), nd, k, kept = 0, kept_data = 0, data = 0,
           w;
  const uint8_t *base = log + (size_t)e->sector * MZ_SECTOR;
  uint8_t *q;
  if ((uint64_t)e->sector + e->sectors > len / MZ_SECTOR || d > e->sectors ||
      from >= e->count || m > e->count - from)
    return -1;
  nd = desc_sectors(e->count - m);
  /* Data sectors kept: one per data descriptor outside the range. */
  for (k = 0; k < e->count; k++)
    if (memcmp(base + desc_pos(k), "desc", 4) == 0 &&
        (k < from || k >= from + m))
      data++;
  w = nd + data;
  q = calloc(w, MZ_SECTOR);
  if (q == NULL)
    return -1;
  memcpy(q, base, 64);
  data = 0;
  for (k = 0; k < e->count; k++) {
    const uint8_t *p = base + desc_pos(k);
    int is_data = memcmp(p, "desc", 4) == 0;
    uint32_t src = d + data; /* this descriptor's data sector, if data */
    data += (uint32_t)is_data;
    if (k >= from && k < from + m)
      continue;
    memcpy(q + desc_pos(kept), p, 32);
    kept++;
    if (is_data && src < e->sectors)
      memcpy(q + ((size_t)nd + kept_data) * MZ_SECTOR,
             base + (size_t)src * MZ_SECTOR, MZ_SECTOR);
    kept_data += (uint32_t)is_data;
  }
  vtk_put_le32(q + 8, w * MZ_SECTOR);
  vtk_put_le32(q + 24, kept);
  free(out->p);
  out->p = q;
  out->n = (size_t)w * MZ_SECTOR;
  return 0;
}

size_t mz_zero_payload(uint8_t *log, size_t len, const mz_entry *e) {
  uint32_t d = desc_sectors(e->count), k, i;
  size_t changed = 0, j;
  for (k = 0; k < e->count && desc_pos(k) < (uint64_t)e->sectors * MZ_SECTOR;
       k++) {
    uint8_t *p = at(log, len, e->sector, desc_pos(k));
    if (memcmp(p, "desc", 4) != 0)
      continue;
    for (j = 4; j < 16; j++) /* TrailingBytes, LeadingBytes */
      if (p[j] != 0) {
        p[j] = 0;
        changed++;
      }
  }
  for (i = d; i < e->sectors; i++) {
    uint8_t *p = at(log, len, e->sector, (uint64_t)i * MZ_SECTOR);
    if (memcmp(p, "data", 4) != 0)
      continue;
    for (j = 8; j < 4092; j++)
      if (p[j] != 0) {
        p[j] = 0;
        changed++;
      }
  }
  return changed;
}
