/* SPDX-License-Identifier: MIT */
/*
 * fuzz_entry: vhdxlog_log_entry() at offsets chosen by the input, on an
 * arbitrary log span, checked against the reference model's
 * model_entry_check() (oracle/: docs/RULES.md written out plainly,
 * no shared code). Both must report the same rule, at the same descriptor
 * or data sector index, for every offset.
 *
 * Input: GUID[16] | options u32 | offset u32 x 8 | log bytes.
 *   options bit 0: repair the entries' checksums first (vtk_repair_log),
 *           bit 1: ... and write GUID into every entry header,
 *           bit 2: ... and copy each entry's sequence number into its
 *                  descriptors and data sectors.
 *   offset: bit 31 clear: (value mod sectors) * 4096, a sector start;
 *           bit 31 set: the low 31 bits as they are (usually not a sector
 *           start or past the end: both must refuse it).
 * The log is zero padded to a multiple of 4 KiB.
 *
 * Also, on a span of the log chosen by the first two offsets: the CRC-32C
 * paths agree (portable slicing-by-8, the hardware path when the CPU has
 * one, the public vhdxlog_crc32c()), at every alignment and length.
 */
#include <stdint.h>
#include <string.h>

#include "crc32c.h"
#include "fuzz_common.h"
#include "model.h"
#include "repair.h"

#define OFFSETS 8

static void check_one(const fuzz_log *l, const vhdxlog_log *ctx,
                      const uint8_t guid[16], uint32_t off) {
  vhdxlog_entry e;
  vhdxlog_error err;
  uint32_t model_index = VHDXLOG_NO_INDEX;
  vhdxlog_status st = vhdxlog_log_entry(ctx, off, &e, &err);
  vhdxlog_status model =
      model_entry_check(l->bytes, (uint32_t)l->length, guid, off, &model_index);
  int at_sector = off % VHDXLOG_SECTOR_SIZE == 0 && off < l->length;

  FUZZ_CHECK(st == model);
  fuzz_check_status_text(st);
  if (!at_sector)
    FUZZ_CHECK(st == VHDXLOG_E_ARGUMENT);
  if (st == VHDXLOG_OK) {
    FUZZ_CHECK(e.offset == off);
    FUZZ_CHECK(e.length != 0 && e.length % VHDXLOG_SECTOR_SIZE == 0 &&
               e.length <= l->length);
    FUZZ_CHECK(e.tail % VHDXLOG_SECTOR_SIZE == 0 && e.tail < l->length);
    FUZZ_CHECK(e.sequence_number != 0);
    FUZZ_CHECK(e.data_count + (uint64_t)e.zero_count == e.descriptor_count);
    FUZZ_CHECK(memcmp(l->bytes + off, "loge", 4) == 0);
    return;
  }
  FUZZ_CHECK(err.status == st && err.cause == st);
  FUZZ_CHECK(err.index == model_index);
  if (at_sector) {
    /* RULES "Entry": the first failed rule, reported at the entry start. */
    FUZZ_CHECK(st >= VHDXLOG_E_ENTRY_SIGNATURE &&
               st <= VHDXLOG_E_ENTRY_CHECKSUM);
    FUZZ_CHECK(err.offset == off);
  }
}

/* The CRC-32C of log[from, from + n), n taken mod what is left, by every
 * path the library has. */
static void check_crc(const fuzz_log *l, uint32_t from, uint32_t n) {
  const uint8_t *p = l->bytes + from % l->length;
  size_t len = n % (l->length - from % l->length + 1);
  uint32_t portable = vhdxlog_crc32c_update_portable(0xFFFFFFFFu, p, len);
  if (vhdxlog_crc32c_hw_available())
    FUZZ_CHECK(vhdxlog_crc32c_update_hw(0xFFFFFFFFu, p, len) == portable);
  FUZZ_CHECK(vhdxlog_crc32c(0, p, len) == ~portable);
  FUZZ_CHECK(vhdxlog_crc32c(portable, NULL, len) == portable);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_reader r;
  fuzz_log l;
  vhdxlog_log ctx;
  uint8_t guid[16];
  uint32_t options, offsets[OFFSETS];
  size_t i;

  fuzz_reader_init(&r, data, size);
  fuzz_take_bytes(&r, guid, sizeof(guid));
  options = fuzz_take_u32(&r);
  for (i = 0; i < OFFSETS; i++)
    offsets[i] = fuzz_take_u32(&r);
  if (fuzz_log_init(&l, r.p, r.left, 0) != 0)
    return 0;
  vtk_repair_use_crc(vhdxlog_crc32c); /* fast; the oracle checks with its own */
  if (options & 1u)
    vtk_repair_log(l.bytes, l.length, guid,
                   VTK_REPAIR_ENTRIES |
                       (options & 2u ? VTK_REPAIR_ENTRY_GUID : 0u) |
                       (options & 4u ? VTK_REPAIR_ENTRY_SEQUENCE : 0u));
  fuzz_log_bind(&l, guid, &ctx);
  check_crc(&l, offsets[0], offsets[1]);
  for (i = 0; i < OFFSETS; i++) {
    uint32_t sectors = (uint32_t)(l.length / VHDXLOG_SECTOR_SIZE);
    size_t k;
    offsets[i] = offsets[i] & 0x80000000u
                     ? offsets[i] & 0x7FFFFFFFu
                     : offsets[i] % sectors * VHDXLOG_SECTOR_SIZE;
    for (k = 0; k < i && offsets[k] != offsets[i]; k++)
      ;
    if (k == i) /* each offset once: the model's bit-wise CRC is slow */
      check_one(&l, &ctx, guid, offsets[i]);
  }
  return 0;
}
