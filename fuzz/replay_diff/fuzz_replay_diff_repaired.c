/*
 * fuzz_replay_diff_repaired: the differential replayer on a packed image
 * (packed.h: identifier, both headers, the first 1 KiB of both region
 * tables and the bytes from 1 MiB on, ~20 KiB for a seed instead of
 * 2+ MiB), expanded to the whole file and checksum-repaired (repair.h)
 * before the comparison, so that mutations reach the log search, the plan
 * and the replay instead of failing a CRC-32C.
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

#include "fuzz_replay_diff_common.h"
#include "packed.h"
#include "packed_mutate.h"
#include "repair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t image_size = rd_unpacked_size(data, size);
  uint8_t *image;
  unsigned options;

  if (image_size > FUZZ_REPLAY_DIFF_MAX_SIZE)
    return 0;
  /* Expanded into the workspace: no fresh block per input. */
  image = replay_diff_workspace_input(fuzz_replay_diff_workspace(),
                                      (size_t)image_size);
  if (image == NULL)
    return 0;
  rd_unpack_into(data, size, image, &options);
  rd_repair_image(image, (size_t)image_size, rd_packed_repair_options(options));
  fuzz_replay_diff_run(image, (size_t)image_size);
  return 0;
}

#ifdef RD_CUSTOM_MUTATOR
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed) {
  if ((seed & 1u) == 0 && rd_mutate_packed(data, size, seed >> 1))
    return size;
  return LLVMFuzzerMutate(data, size, max_size);
}
#endif
