/* SPDX-License-Identifier: MIT */
/*
 * fuzz_log_repaired: like fuzz_search, but the checksum of every sector that
 * starts with "loge" and has an EntryLength that fits is recomputed first,
 * so that mutated entries stay valid and the fuzzer explores the sequence
 * logic (runs, wrap, Tail, ranking, candidates) instead of the CRC check.
 *
 * Repair in the target, not in a LLVMFuzzerCustomMutator: it works the same
 * under libFuzzer, AFL++, honggfuzz and the standalone reproducer, a saved
 * crash input reproduces as it is, and the mutators keep their own
 * strategies. The cost, that this target never sees a bad checksum, is
 * covered by fuzz_search and fuzz_entry, which take the bytes as they are.
 *
 * Input: options u8 | GUID[16] | log bytes (zero padded to 4 KiB).
 *   options bit 0: write GUID into every entry header before the repair
 *                  (else entries keep their own, so foreign entries occur);
 *           bit 1: copy each entry's SequenceNumber into its descriptors
 *                  and data sectors (so renumbering an entry keeps it valid).
 */
#include <stdint.h>

#include "fuzz_common.h"
#include "repair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_reader r;
  uint8_t guid[16];
  uint8_t options;

  fuzz_reader_init(&r, data, size);
  options = fuzz_take_u8(&r);
  fuzz_take_bytes(&r, guid, sizeof(guid));
  fuzz_search_rest(&r, guid,
                   VTK_REPAIR_ENTRIES |
                       (options & 1u ? VTK_REPAIR_ENTRY_GUID : 0u) |
                       (options & 2u ? VTK_REPAIR_ENTRY_SEQUENCE : 0u));
  return 0;
}
