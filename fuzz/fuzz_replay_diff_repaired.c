/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay_diff_repaired: the differential replayer on a packed image
 * (packed.h: identifier, both headers, the first 1 KiB of both region
 * tables and the bytes from 1 MiB on, ~20-75 KiB for a seed instead of
 * 2+ MiB) after a 4-byte prefix that picks the crash points and overlay
 * reads (replay_target.h), expanded to the whole file and
 * checksum-repaired (repair.h) before the comparison, so that mutations
 * reach the log search, the plan and the replay instead of failing a
 * CRC-32C.
 *
 * Repair in the target, not in a custom mutator: it works the same under
 * libFuzzer, AFL++ and the standalone reproducer, and a saved crash input
 * reproduces as it is (vhdxlog-diff --packed FILE, or --expand-to DIR to
 * get the whole image that failed).
 *
 * The options byte (packed byte 0) chooses what is repaired: packed.h.
 *
 * Under libFuzzer (RD_CUSTOM_MUTATOR, set by CMakeLists.txt for that
 * engine) half of the mutations are structure-aware (packed_mutate.h: one
 * field of one log entry, or a copy of an entry), the other half are
 * libFuzzer's own; other engines mutate blindly.
 */
#include <stddef.h>
#include <stdint.h>

#include "packed_mutate.h"
#include "replay_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_replay_diff_run(data, size, 1);
  return 0;
}

#ifdef RD_CUSTOM_MUTATOR
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed) {
  /* The structure-aware half works on the packed image after the
   * prefix. */
  if ((seed & 1u) == 0 && size > FUZZ_REPLAY_DIFF_PREFIX &&
      rd_mutate_packed(data + FUZZ_REPLAY_DIFF_PREFIX,
                       size - FUZZ_REPLAY_DIFF_PREFIX, seed >> 1))
    return size;
  return LLVMFuzzerMutate(data, size, max_size);
}
#endif
