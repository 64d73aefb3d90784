/* SPDX-License-Identifier: MIT */
/*
 * repair_crc_test: the repair's own CRC-32C (repair.h) agrees with the
 * library's on buffers built to reach each of its paths: zero runs of every
 * length around its one-step threshold and long ones (each bit of the run
 * length, up to 1 MiB), at every alignment, chained calls, and both the
 * SSE4.2 and the slicing-by-8 loops. Without this, a wrong repair CRC would
 * only show as inputs the library and the model both reject.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair.h"
#include "vhdxlog.h"

#define BUF_SIZE (1048576u + 4096u)

static int failures;

static void expect_same(const rd_crc_table *t, const uint8_t *p, size_t n,
                        const char *what, size_t a, size_t b) {
  uint32_t want = vhdxlog_crc32c(0, p, n);
  uint32_t got = rd_crc32c(t, 0, p, n);
  /* Chained at a point inside the buffer: the same result. */
  uint32_t chained =
      rd_crc32c(t, rd_crc32c(t, 0, p, n / 3), p + n / 3, n - n / 3);
  if (got != want || chained != want) {
    if (failures++ < 10)
      fprintf(stderr,
              "repair_crc_test: %s (%lu, %lu), %lu bytes, hw %d: 0x%08lx"
              " chained 0x%08lx, library 0x%08lx\n",
              what, (unsigned long)a, (unsigned long)b, (unsigned long)n, t->hw,
              (unsigned long)got, (unsigned long)chained, (unsigned long)want);
  }
}

static void fill(uint8_t *p, size_t n, unsigned seed) {
  size_t i;
  for (i = 0; i < n; i++)
    p[i] = (uint8_t)((i * 131u + seed * 17u) % 251u + 1u); /* never 0 */
}

static void run_all(const rd_crc_table *t, uint8_t *buf) {
  size_t run, start, k;
  /* Short runs around the threshold, at every alignment. */
  for (run = 0; run < 200; run += 3) {
    for (start = 0; start < 16; start++) {
      memset(buf, 0, start + run + 40);
      fill(buf, start, 1);
      fill(buf + start + run, 40, 2);
      expect_same(t, buf, start + run + 40, "short run", start, run);
    }
  }
  /* Long runs: each bit of the length, and its neighbours. */
  for (k = 6; k <= 20; k++) {
    size_t base = (size_t)1 << k, d;
    for (d = 0; d < 3; d++) {
      run = base - 1 + d;
      start = k % 8;
      memset(buf, 0, start + run + 9);
      fill(buf, start, 3);
      fill(buf + start + run, 9, 4);
      expect_same(t, buf, start + run + 9, "long run", start, run);
    }
  }
  /* Non-zero data with zero runs at random-looking places, whole buffer. */
  fill(buf, BUF_SIZE, 5);
  for (k = 0; k < 64; k++) {
    size_t at = (k * 104729u) % (BUF_SIZE - 70000u);
    memset(buf + at, 0, (k * 7919u) % 70000u);
  }
  expect_same(t, buf, BUF_SIZE, "mixed", 0, 0);
  memset(buf, 0, BUF_SIZE);
  expect_same(t, buf, BUF_SIZE, "all zero", 0, 0);
}

int main(void) {
  static rd_crc_table t;
  uint8_t *buf = malloc(BUF_SIZE);
  if (buf == NULL)
    return 2;
  rd_crc_init(&t);
  run_all(&t, buf);
  if (t.hw) {
    rd_crc_init_sliced(&t);
    run_all(&t, buf);
  }
  free(buf);
  if (failures != 0) {
    fprintf(stderr, "repair_crc_test: %d failures\n", failures);
    return 1;
  }
  printf("repair_crc_test: ok\n");
  return 0;
}
