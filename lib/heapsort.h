/* SPDX-License-Identifier: MIT */
/* In-place heapsort of small index arrays: O(n log n), no recursion, no
 * allocation. Used by image.c to find duplicate GUIDs and overlapping
 * regions among up to 2048 entries without a quadratic scan. */
#ifndef VHDXLOG_HEAPSORT_H
#define VHDXLOG_HEAPSORT_H

#include <stddef.h>
#include <stdint.h>

/* Returns <0, 0, >0 like memcmp, comparing items a and b. */
typedef int (*index_compare_fn)(const void *ctx, uint16_t a, uint16_t b);

static void sift_down(uint16_t *v, size_t root, size_t n, index_compare_fn cmp,
                      const void *ctx) {
  for (;;) {
    size_t child = 2 * root + 1;
    uint16_t t;
    if (child >= n) {
      return;
    }
    if (child + 1 < n && cmp(ctx, v[child], v[child + 1]) < 0) {
      child++;
    }
    if (cmp(ctx, v[root], v[child]) >= 0) {
      return;
    }
    t = v[root];
    v[root] = v[child];
    v[child] = t;
    root = child;
  }
}

static void heapsort_indices(uint16_t *v, size_t n, index_compare_fn cmp,
                             const void *ctx) {
  size_t i;
  if (n < 2) {
    return;
  }
  for (i = n / 2; i > 0; i--) {
    sift_down(v, i - 1, n, cmp, ctx);
  }
  for (i = n - 1; i > 0; i--) {
    uint16_t t = v[0];
    v[0] = v[i];
    v[i] = t;
    sift_down(v, 0, i, cmp, ctx);
  }
}

#endif
