/* SPDX-License-Identifier: MIT */
/*
 * A fuzz target with a bug planted on purpose, for minimize_test: it reads
 * past a heap block when the active sequence of the log has at least three
 * entries and a zero descriptor that writes past 1 GiB; with two entries it
 * aborts instead, a different crash the minimiser must not take for it. Input
 * as fuzz_search's (GUID[16] | log, zero padded to 4 KiB, cut at 1 MiB), bytes
 * as they are: a minimised input must keep every checksum valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhdxlog.h"

#define GIB (1024ull * 1024 * 1024)

/* The read goes somewhere the optimiser cannot drop. */
volatile uint8_t planted_sink;

/* Not inlined: its name is the crash's top frame. */
__attribute__((noinline)) static void planted_overflow(void) {
  volatile size_t past = 16;
  uint8_t *p = malloc(16);
  if (p == NULL)
    return;
  memset(p, 0, 16);
  planted_sink = p[past];
  free(p);
}

static void check(const uint8_t *log, size_t len, const uint8_t guid[16]) {
  vhdxlog_log ctx;
  vhdxlog_sequence seq;
  vhdxlog_error err;
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  if (vhdxlog_log_init(&ctx, log, len, guid) != VHDXLOG_OK ||
      vhdxlog_log_search(&ctx, &seq, &err) != VHDXLOG_OK ||
      vhdxlog_iter_init(&it, &ctx, &seq) != VHDXLOG_OK)
    return;
  while (vhdxlog_iter_next(&it, &d) == VHDXLOG_OK)
    if (d.kind == VHDXLOG_DESCRIPTOR_ZERO && d.file_offset >= GIB) {
      if (seq.entry_count >= 3)
        planted_overflow();
      if (seq.entry_count == 2) /* a decoy: another crash, never a result */
        abort();
    }
}

#ifdef PLANTED_PACKED
#include "packed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *image;
  size_t image_size;
  unsigned options;
  vhdxlog_image img;
  vhdxlog_error err;
  if (size < 4 || rd_unpack(data + 4, size - 4, 64u * VHDXLOG_MIB, &image,
                            &image_size, &options) != 0)
    return 0;
  if (vhdxlog_image_parse(image, image_size, image_size, &img, &err) ==
          VHDXLOG_OK &&
      img.log_state == VHDXLOG_LOG_DIRTY &&
      img.log_offset + img.log_length <= image_size)
    check(image + img.log_offset, img.log_length, img.log_guid);
  free(image);
  return 0;
}
#else
#include "fuzz_common.h"

/* fuzz_search's log: fuzz_log_init() pads and cuts it as that target does. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_log l;
  if (size >= 16 && fuzz_log_init(&l, data + 16, size - 16, 0) == 0)
    check(l.bytes, l.length, data);
  return 0;
}
#endif
