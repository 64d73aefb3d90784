/* SPDX-License-Identifier: MIT */
/*
 * Overlay index: the final writer of every byte the active sequence writes,
 * as sorted non-overlapping extents, so that a read costs a binary search
 * instead of a pass over every descriptor (vhdxlog_overlay_read).
 *
 * Build, in caller scratch, for the n descriptors that write something
 * (record r = the r-th in replay order; a greater r wins):
 *  1. the plan's descriptor pass (every rule, so a hand-made plan cannot
 *     lead anywhere unchecked), then one walk that records each write;
 *  2. a stable LSD radix sort of the records by first sector (no
 *     recursion; digits on which every key agrees are skipped);
 *  3. a sweep over the sorted starts with a max-heap of the records that
 *     cover the current position (stale ones dropped when they surface):
 *     the top is the final writer until the next start or its own end.
 *     Every piece ends at a start (n at most) or at its writer's end (that
 *     writer then leaves the heap: n at most), so there are at most 2n
 *     extents. O(n log n) for the heap, O(n) for the rest.
 * An extent stores its start and its writer only: it ends at its writer's
 * end or at the next extent's start, whichever comes first.
 */
#include <string.h>

#include "descriptor.h"
#include "error.h"
#include "plan.h"
#include "vhdxlog.h"
#include "walk.h"

#define NO_DATA 0xFFFFFFFFu
/* Keys are first sectors: offsets < 2^62, so sectors < 2^50, 7 bytes. */
#define KEY_DIGITS 7u
/* Bytes of scratch per descriptor: two key arrays, two order arrays, the
 * record (2 x 32 bits) and two extents (64-bit start, 32-bit writer). */
#define BYTES_PER_DESCRIPTOR (8u + 8u + 4u + 4u + 8u + 2u * (8u + 4u))
#define ALIGN_SLACK 8u

static size_t size_for(uint64_t n) {
  if (n == 0)
    return 0;
  if (n > ((uint64_t)SIZE_MAX - ALIGN_SLACK) / BYTES_PER_DESCRIPTOR)
    return SIZE_MAX;
  return (size_t)n * BYTES_PER_DESCRIPTOR + ALIGN_SLACK;
}

size_t vhdxlog_overlay_index_size(const vhdxlog_plan *plan) {
  if (plan == NULL || !plan->replay)
    return 0;
  return size_for(plan->seq.descriptor_count);
}

/* Where record r's write ends, in sectors. */
static uint64_t slot_end_sector(const uint8_t *d) {
  return (descriptor_file_offset(d) + descriptor_write_length(d)) /
         VHDXLOG_SECTOR_SIZE;
}

/* Stable sort of (key, order) pairs by key: the result is in (k1, o1), or
 * back in (k0, o0); returns which (0 or 1). A digit on which every key
 * agrees is neither counted nor sorted: counting it would make every key
 * increment the same counter, each increment waiting for the one before
 * (keys of nearby sectors share their high digits). */
static int radix_sort(uint64_t *k0, uint32_t *o0, uint64_t *k1, uint32_t *o1,
                      size_t n) {
  uint32_t hist[KEY_DIGITS][256];
  unsigned used[KEY_DIGITS], nused = 0, u;
  uint64_t *ks = k0, *kd = k1;
  uint32_t *os = o0, *od = o1;
  uint64_t differ = 0;
  size_t i;
  unsigned digit;
  int where = 0;

  for (i = 1; i < n; i++)
    differ |= k0[i] ^ k0[0];
  for (digit = 0; digit < KEY_DIGITS; digit++)
    if ((differ >> (8 * digit)) & 0xFF)
      used[nused++] = digit;
  if (nused == 0)
    return 0;
  memset(hist, 0, sizeof hist);
  for (i = 0; i < n; i++) {
    uint64_t k = k0[i];
    for (u = 0; u < nused; u++)
      hist[u][(k >> (8 * used[u])) & 0xFF]++;
  }
  for (u = 0; u < nused; u++) {
    uint32_t *h = hist[u];
    uint32_t sum = 0, c;
    unsigned b, shift = 8 * used[u];
    for (b = 0; b < 256; b++) {
      c = h[b];
      h[b] = sum;
      sum += c;
    }
    for (i = 0; i < n; i++) {
      uint32_t at = h[(ks[i] >> shift) & 0xFF]++;
      kd[at] = ks[i];
      od[at] = os[i];
    }
    {
      uint64_t *tk = ks;
      uint32_t *to = os;
      ks = kd;
      kd = tk;
      os = od;
      od = to;
    }
    where ^= 1;
  }
  return where;
}

/* Max-heap of record numbers (greater = later = wins). */
static void heap_push(uint32_t *h, size_t *hn, uint32_t x) {
  size_t i = (*hn)++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (h[parent] >= x)
      break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = x;
}

static void heap_pop(uint32_t *h, size_t *hn) {
  size_t n = --(*hn), i = 0;
  uint32_t x = h[n];
  if (n == 0)
    return;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n)
      break;
    if (child + 1 < n && h[child + 1] > h[child])
      child++;
    if (h[child] <= x)
      break;
    h[i] = h[child];
    i = child;
  }
  h[i] = x;
}

/* Step 1: records, keys (first sectors) and order, in replay order. */
static size_t collect(const vhdxlog_plan *plan, uint32_t *records,
                      uint64_t *keys, uint32_t *order, uint64_t capacity) {
  const vhdxlog_log *log = plan->log;
  walk w;
  walk_entry e;
  size_t r = 0;

  if (walk_init(&w, log, &plan->seq) != VHDXLOG_OK)
    return 0; /* the descriptor pass has just accepted the same walk */
  while (walk_next(&w, &e) == VHDXLOG_OK) {
    uint32_t k, rank = 0;
    for (k = 0; k < e.desc_sectors; k++) {
      uint32_t n, first, i;
      const uint8_t *p = walk_slots(&w, &e, k, &n, &first);
      for (i = 0; i < n; i++) {
        const uint8_t *d = p + (size_t)i * DESCRIPTOR_SIZE;
        int is_data = d[0] == 'd';
        uint32_t data = is_data ? walk_data_offset(&w, &e, rank) : NO_DATA;
        rank += (uint32_t)is_data;
        if (descriptor_write_length(d) == 0 || r >= capacity)
          continue;
        records[2 * r] = (uint32_t)(d - log->log);
        records[2 * r + 1] = data;
        keys[r] = descriptor_file_offset(d) / VHDXLOG_SECTOR_SIZE;
        order[r] = (uint32_t)r;
        r++;
      }
    }
  }
  return r;
}

vhdxlog_status vhdxlog_overlay_index_build(const vhdxlog_plan *plan,
                                           void *scratch, size_t scratch_size,
                                           vhdxlog_overlay_index *index,
                                           vhdxlog_error *error) {
  uint64_t max_end = 0, count = 0;
  uint64_t *keys0, *keys1, *sorted, *ends;
  uint32_t *order0, *order1, *sorted_order, *heap, *records, *owners;
  uint64_t *begins;
  uint8_t *base;
  size_t n, j, hn, ne;
  uint64_t cur, last_end;
  vhdxlog_status st;

  if (plan == NULL || plan->image == NULL || index == NULL ||
      (plan->replay && plan->log == NULL)) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  memset(index, 0, sizeof *index);
  index->plan = plan;
  if (!plan->replay) {
    clear_error(error);
    return VHDXLOG_OK;
  }
  st = vhdxlog_plan_check_descriptors(plan->image, plan->log, &plan->seq, NULL,
                                      &max_end, &count, error);
  if (st != VHDXLOG_OK)
    return st;
  /* Sized by the descriptors the log holds; the caller's figure
   * (seq.descriptor_count) must not be smaller. */
  if (count > 0 && (scratch == NULL || scratch_size < size_for(count) ||
                    size_for(count) == SIZE_MAX)) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  if (count == 0) {
    clear_error(error);
    return VHDXLOG_OK;
  }

  base = (uint8_t *)scratch;
  base += (ALIGN_SLACK - (size_t)((uintptr_t)base % ALIGN_SLACK)) % ALIGN_SLACK;
  n = (size_t)count;
  keys0 = (uint64_t *)(void *)base;
  keys1 = keys0 + n;
  begins = keys1 + n; /* 2n */
  order0 = (uint32_t *)(void *)(begins + 2 * n);
  order1 = order0 + n;
  records = order1 + n;     /* 2n */
  owners = records + 2 * n; /* 2n */

  n = collect(plan, records, keys0, order0, count);
  if (n == 0) {
    clear_error(error);
    return VHDXLOG_OK;
  }
  if (radix_sort(keys0, order0, keys1, order1, n)) {
    sorted = keys1;
    sorted_order = order1;
    ends = keys0;
    heap = order0;
  } else {
    sorted = keys0;
    sorted_order = order0;
    ends = keys1;
    heap = order1;
  }
  for (j = 0; j < n; j++)
    ends[j] = slot_end_sector(plan->log->log + records[2 * j]);

  /* Step 3 (in sectors). */
  j = 0;
  hn = 0;
  ne = 0;
  cur = 0;
  last_end = 0;
  for (;;) {
    uint32_t top;
    uint64_t next;
    while (hn > 0 && ends[heap[0]] <= cur)
      heap_pop(heap, &hn);
    if (hn == 0) {
      if (j == n)
        break;
      cur = sorted[j];
    }
    while (j < n && sorted[j] <= cur)
      heap_push(heap, &hn, sorted_order[j++]);
    top = heap[0];
    next = ends[top];
    if (j < n && sorted[j] < next)
      next = sorted[j];
    if (ne == 0 || owners[ne - 1] != top || last_end != cur) {
      begins[ne] = cur * VHDXLOG_SECTOR_SIZE;
      owners[ne] = top;
      ne++;
    }
    last_end = next;
    cur = next;
  }
  index->records = records;
  index->begins = begins;
  index->owners = owners;
  index->extents = ne;
  clear_error(error);
  return VHDXLOG_OK;
}

vhdxlog_status vhdxlog_overlay_read_indexed(const vhdxlog_overlay_index *index,
                                            uint64_t offset, uint8_t *buf,
                                            size_t size, vhdxlog_error *error) {
  const vhdxlog_plan *plan;
  uint64_t end;
  size_t lo, hi, i;

  if (index == NULL || index->plan == NULL || index->plan->image == NULL ||
      (buf == NULL && size > 0) || (uint64_t)size > UINT64_MAX - offset ||
      (index->extents > 0 && index->plan->log == NULL)) {
    return report(error, VHDXLOG_E_ARGUMENT, offset, VHDXLOG_NO_INDEX);
  }
  plan = index->plan;
  end = offset + (uint64_t)size;

  if (index->extents > 0 && size > 0) {
    const uint8_t *log = plan->log->log;
    /* The last extent starting at or before `offset` (or the first). */
    lo = 0;
    hi = index->extents;
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if (index->begins[mid] <= offset)
        lo = mid;
      else
        hi = mid;
    }
    for (i = lo; i < index->extents && index->begins[i] < end; i++) {
      uint32_t r = index->owners[i];
      const uint8_t *slot = log + index->records[(size_t)2 * r];
      uint64_t at = descriptor_file_offset(slot);
      uint64_t stop = at + descriptor_write_length(slot);
      uint64_t from = index->begins[i] > offset ? index->begins[i] : offset;
      if (i + 1 < index->extents && index->begins[i + 1] < stop)
        stop = index->begins[i + 1];
      if (stop > end)
        stop = end;
      if (from >= stop)
        continue;
      if (index->records[2 * r + 1] == NO_DATA)
        memset(buf + (size_t)(from - offset), 0, (size_t)(stop - from));
      else
        data_sector_bytes(
            slot + DESCRIPTOR_LEADING_BYTES, log + index->records[2 * r + 1],
            slot + DESCRIPTOR_TRAILING_BYTES, (uint32_t)(from - at),
            (uint32_t)(stop - from), buf + (size_t)(from - offset));
    }
  }
  vhdxlog_overlay_patch_headers(plan, offset, end, buf);
  clear_error(error);
  return VHDXLOG_OK;
}
