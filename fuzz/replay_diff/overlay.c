/* SPDX-License-Identifier: MIT */
/* Checks 3 and 4: the read-only overlay of a file against its replay. */
#include <string.h>

#include "rd_internal.h"

/* One overlay read of [off, off + n) of the file `file` (its current bytes,
 * zeros past file_size) under `plan`, which must give expected[off..]. */
static int overlay_one(diff *d, const char *context, const vhdxlog_plan *plan,
                       const uint8_t *file, uint64_t file_size,
                       const uint8_t *expected, uint64_t off, uint64_t n) {
  vhdxlog_error error;
  vhdxlog_status st;
  /* Exactly n bytes: an overlay write past the chunk is an ASan report. */
  uint8_t *chunk = rd_wb_get(&d->ws->chunk, (size_t)n);
  if (chunk == NULL)
    return rd_say(d, -1, "cannot allocate an overlay buffer");
  memset(chunk, 0, (size_t)n);
  if (off < file_size) {
    uint64_t have = file_size - off < n ? file_size - off : n;
    memcpy(chunk, file + off, (size_t)have);
  }
  st = vhdxlog_overlay_read(plan, off, chunk, (size_t)n, &error);
  if (st != VHDXLOG_OK) {
    return rd_say(d, 1, "%soverlay read at 0x%llx (+0x%llx): %s", context,
                  (unsigned long long)off, (unsigned long long)n,
                  rd_name_of(st).s);
  }
  if (n > 0 && memcmp(chunk, expected + off, (size_t)n) != 0) {
    uint64_t j = 0;
    while (chunk[j] == expected[off + j])
      j++;
    return rd_say(d, 1,
                  "%soverlay differs at byte 0x%llx%s (overlay 0x%02x, "
                  "replay 0x%02x)",
                  context, (unsigned long long)(off + j),
                  rd_where_of(off + j).s, chunk[j], expected[off + j]);
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
int rd_check_overlay(diff *d, const char *context, const vhdxlog_plan *plan,
                     const uint8_t *file, uint64_t file_size,
                     const uint8_t *expected, uint64_t expected_size,
                     uint32_t calls, const ext_list *written) {
  uint64_t base;
  int rc = 0, h;

  if (plan->replayed_size != expected_size) {
    return rd_say(d, 1,
                  "%splan replayed_size 0x%llx vs replayed file size 0x%llx",
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
