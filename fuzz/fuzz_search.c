/* SPDX-License-Identifier: MIT */
/*
 * fuzz_search: vhdxlog_log_search() on an arbitrary log span, bytes as they
 * are (checksums included, so this target mostly tests rejection), then the
 * whole result checked: the entries from tail to head, the descriptor
 * iterator (an iterator error after a successful search is a finding) and
 * the descriptors it yields against the bytes; on failure, the candidate
 * the error names.
 *
 * Input: GUID[16] | log bytes (zero padded to a multiple of 4 KiB).
 */
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_reader r;
  uint8_t guid[16];

  fuzz_reader_init(&r, data, size);
  fuzz_take_bytes(&r, guid, sizeof(guid));
  fuzz_search_rest(&r, guid, 0);
  return 0;
}
