/* SPDX-License-Identifier: MIT */
/*
 * fuzz_load: the io/ loader (vhdxlog_load_policy) and the plan on a
 * memory-backed file whose header may name a log of up to 64 MiB, most of
 * it holes. The loader's reads and allocation are checked against the
 * library run directly over the same bytes: same status, same error, same
 * action and sequence.
 *
 * Input: the differential targets' 4-byte prefix, read here as policy
 * byte | size byte: from 0xC0 on, the file grows by (byte - 0xC0) MiB of
 * zeros (up to 63), so a header can name a large, mostly empty log; most
 * inputs stay small and fast | 2 unused; then a packed image
 * (support/packed.h; its checksums repaired as its options byte says).
 * The differential targets' seeds and custom mutator fit it as they are.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mem_file.h"
#include "packed.h"
#include "repair.h"
#include "vhdxlog_io.h"

#define GROW_FROM 0xC0u
#define PREFIX 4u

/* The library over the whole image in memory, as vhdxlog_load should. */
static vhdxlog_status direct(const uint8_t *image, uint64_t size,
                             vhdxlog_policy policy, vhdxlog_image *img,
                             vhdxlog_log *log, vhdxlog_plan *plan,
                             vhdxlog_error *err) {
  vhdxlog_status st;
  int dirty;
  st = vhdxlog_image_parse(image, (size_t)size, size, img, err);
  if (st != VHDXLOG_OK)
    return st;
  dirty = img->log_state == VHDXLOG_LOG_DIRTY;
  if (dirty) {
    st = vhdxlog_log_init(log, image + img->log_offset, img->log_length,
                          img->log_guid);
    FUZZ_CHECK(st == VHDXLOG_OK); /* the parse checked the location */
  }
  return vhdxlog_plan_init_policy(plan, img, dirty ? log : NULL, policy, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const vhdxlog_policy policies[3] = {VHDXLOG_POLICY_DEFAULT,
                                             VHDXLOG_POLICY_STRICT,
                                             VHDXLOG_POLICY_FORCE_CLEAR};
  vhdxlog_policy policy;
  vtk_mem_file f;
  vhdxlog_io io;
  vhdxlog_loaded l;
  vhdxlog_image img;
  vhdxlog_log log;
  vhdxlog_plan plan;
  vhdxlog_error le, de;
  vhdxlog_status ls, ds;
  uint64_t n;
  unsigned options = 0;
  uint8_t *image;

  if (size < PREFIX)
    return 0;
  policy = policies[data[0] % 3];
  n = rd_unpacked_size(data + PREFIX, size - PREFIX);
  if (data[1] >= GROW_FROM)
    n += (uint64_t)(data[1] - GROW_FROM) * 1048576u;
  if (n > SIZE_MAX)
    return 0;
  image = calloc(1, (size_t)n);
  if (image == NULL)
    return 0;
  {
    /* calloc's zeros stay untouched past the kept pieces: only the pages
     * the image really holds are faulted in. */
    uint64_t ranges[RD_PACKED_RANGES][2];
    (void)rd_unpack_sparse(data + PREFIX, size - PREFIX, image, &options,
                           ranges);
  }
  vtk_repair_use_crc(
      vhdxlog_crc32c); /* fast: both sides here are the library */
  vtk_repair_image(image, (size_t)n, rd_packed_repair_options(options));

  /* The memory backend over the caller's bytes, no copy. */
  memset(&f, 0, sizeof f);
  f.data = image;
  f.size = n;
  f.capacity = n;
  f.max_size = n;
  f.fail_at_write = -1;
  vtk_mem_io(&f, &io);

  ls = vhdxlog_load_policy(&io, policy, &l, &le);
  ds = direct(image, n, policy, &img, &log, &plan, &de);
  FUZZ_CHECK(ls == ds);
  FUZZ_CHECK(fuzz_same_error(&le, &de) || ls == VHDXLOG_OK);
  if (ls == VHDXLOG_OK) {
    FUZZ_CHECK(l.plan_ready);
    FUZZ_CHECK(l.plan.action == plan.action);
    FUZZ_CHECK(l.plan.replayed_size == plan.replayed_size);
    FUZZ_CHECK(memcmp(l.plan.final_headers, plan.final_headers,
                      sizeof plan.final_headers) == 0);
    if (plan.action == VHDXLOG_ACTION_REPLAY)
      FUZZ_CHECK(fuzz_same_sequence(&l.plan.seq, &plan.seq));
  }
  vhdxlog_loaded_free(&l);
  free(image);
  return 0;
}
