/* SPDX-License-Identifier: MIT */
/* Describing the first difference the checks find. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rd_internal.h"

/* Write the description of the first difference; returns `rc`. A
 * difference found while an extent list was incomplete (memory ran out)
 * is not one: -1. */
int rd_say(diff *d, int rc, const char *fmt, ...) {
  va_list ap;
  if (rc > 0 && rd_ws_oom(d->ws)) {
    rc = -1;
    fmt = "cannot allocate an extent list";
  }
  va_start(ap, fmt);
  vsnprintf(d->why, d->why_size, fmt, ap);
  va_end(ap);
  return rc;
}

status_text rd_name_of(vhdxlog_status st) {
  status_text t;
  const char *n = vhdxlog_status_name(st);
  if (n != NULL && strncmp(n, "VHDXLOG_", 8) == 0 && strlen(n + 8) < 40)
    snprintf(t.s, sizeof t.s, "%s", n + 8);
  else
    snprintf(t.s, sizeof t.s, "status %d", (int)st);
  return t;
}

where_text rd_where_of(uint64_t off) {
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
int rd_compare_images(diff *d, const char *what, const char *an,
                      const uint8_t *a, uint64_t asize, const char *bn,
                      const uint8_t *b, uint64_t bsize, const ext_list *la,
                      const ext_list *lb, const ext_list *lc) {
  uint64_t common = asize < bsize ? asize : bsize;
  uint64_t i = first_diff(a, b, common, la, UINT64_MAX);
  i = first_diff(a, b, common, lb, i);
  i = first_diff(a, b, common, lc, i);
  if (i != UINT64_MAX) {
    return rd_say(d, 1, "%s at byte 0x%llx%s (%s 0x%02x, %s 0x%02x)%s", what,
                  (unsigned long long)i, rd_where_of(i).s, an, a[i], bn, b[i],
                  asize != bsize ? "; sizes differ too" : "");
  }
  if (asize != bsize) {
    return rd_say(d, 1, "%s in size (%s 0x%llx, %s 0x%llx)", what, an,
                  (unsigned long long)asize, bn, (unsigned long long)bsize);
  }
  return 0;
}
