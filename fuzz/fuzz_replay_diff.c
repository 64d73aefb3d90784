/* SPDX-License-Identifier: MIT */
/*
 * fuzz_replay_diff: the differential replayer (replay_diff.h) on a packed
 * image taken as it is, checksums not repaired (the options byte is
 * ignored), after the 4-byte prefix that picks the crash points and
 * overlay reads (replay_target.h). Every check failing is a
 * finding: the library and the reference model disagree, or the library
 * disagrees with itself (re-run, crash recovery, overlay). The description
 * of the first difference goes to stderr, then abort().
 *
 * Checksums are as the input has them, so mutations mostly test
 * rejection; fuzz_replay_diff_repaired reaches the replay logic. The
 * packed form (packed.h) keeps the bytes that matter at fixed places, so
 * an input is ~20-75 KiB instead of a 2+ MiB whole image.
 *
 * Bounds per input (fuzz mode of replay_diff_limits): the replayed file
 * may grow to 64 MiB (beyond, both sides must say E_IO), two crash
 * points, and per overlay check both header slots and 4 chunks from a
 * picked point.
 */
#include <stddef.h>
#include <stdint.h>

#include "replay_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_replay_diff_run(data, size, 0);
  return 0;
}
