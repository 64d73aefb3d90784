/*
 * fuzz_replay_diff: the differential replayer (replay_diff.h) on the input
 * taken as a whole VHDX image, bytes as they are. Every check failing is a
 * finding: the library and the reference model disagree, or the library
 * disagrees with itself (re-run, crash recovery, overlay). The description
 * of the first difference goes to stderr, then abort().
 *
 * Inputs are whole files, so they are at least 1 MiB to get past the size
 * check and 2 MiB to hold a log: run with -max_len=4194304 or so. Checksums
 * are as the input has them, so mutations mostly test rejection;
 * fuzz_replay_diff_repaired reaches the replay logic.
 *
 * Bounds per input (see replay_diff_limits): the replayed file may grow to
 * 64 MiB (beyond, both sides must say E_IO), at most 64 crash points,
 * 64 overlay reads of the original plus 17 per crash point.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_replay_diff_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_replay_diff_run(data, size);
  return 0;
}
