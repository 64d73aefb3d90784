/* SPDX-License-Identifier: MIT */
/*
 * Read-only replay (MS-VHDX 2.3.3: a reader that cannot write must replay
 * the log in memory rather than read stale metadata): patch a buffer of
 * current file bytes into what a complete replay would leave there.
 */
#include <string.h>

#include "error.h"
#include "format.h"
#include "plan.h"
#include "vhdxlog.h"

/*
 * Copy the part of source range [src_offset, src_offset + src_length) that
 * falls into the window [offset, end) of `buf`; `src` NULL means zeros.
 * Both ranges are bounded (end by the caller's check, the source by 2^62),
 * so no sum below can wrap.
 */
static void patch(uint8_t *buf, uint64_t offset, uint64_t end,
                  uint64_t src_offset, uint64_t src_length,
                  const uint8_t *src) {
  uint64_t src_end = src_offset + src_length;
  uint64_t lo = src_offset > offset ? src_offset : offset;
  uint64_t hi = src_end < end ? src_end : end;

  if (lo >= hi)
    return;
  if (src != NULL)
    memcpy(buf + (size_t)(lo - offset), src + (size_t)(lo - src_offset),
           (size_t)(hi - lo));
  else
    memset(buf + (size_t)(lo - offset), 0, (size_t)(hi - lo));
}

vhdxlog_status vhdxlog_overlay_read(const vhdxlog_plan *plan, uint64_t offset,
                                    uint8_t *buf, size_t size,
                                    vhdxlog_error *error) {
  uint8_t sector[VHDXLOG_SECTOR_SIZE];
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  vhdxlog_status st;
  uint64_t end;

  if (plan == NULL || plan->image == NULL || (buf == NULL && size > 0) ||
      (uint64_t)size > UINT64_MAX - offset ||
      (plan->replay && plan->log == NULL)) {
    return report(error, VHDXLOG_E_ARGUMENT, offset, VHDXLOG_NO_INDEX);
  }
  end = offset + (uint64_t)size;

  if (plan->replay && size > 0) {
    /* Descriptors in replay order: a later write wins where they overlap. */
    st = vhdxlog_iter_init(&it, plan->log, &plan->seq);
    if (st != VHDXLOG_OK) {
      return report(error, st, plan->seq.tail_offset, VHDXLOG_NO_INDEX);
    }
    for (;;) {
      st = vhdxlog_iter_next(&it, &d);
      if (st == VHDXLOG_END)
        break;
      if (st != VHDXLOG_OK) {
        return report(error, st, it.entry_offset, VHDXLOG_NO_INDEX);
      }
      /* Validated by the plan; keep the arithmetic in patch() safe even
       * for a hand-made plan. */
      if (d.file_offset > VHDXLOG_MAX_FILE_OFFSET ||
          d.length > VHDXLOG_MAX_FILE_OFFSET - d.file_offset) {
        return report(error, VHDXLOG_E_OFFSET_LIMIT, d.entry_offset, d.index);
      }
      if (d.length == 0 || d.file_offset >= end ||
          d.file_offset + d.length <= offset)
        continue;
      if (d.kind == VHDXLOG_DESCRIPTOR_DATA) {
        if (d.length != VHDXLOG_SECTOR_SIZE) {
          return report(error, VHDXLOG_E_DESCRIPTOR_SIGNATURE, d.entry_offset,
                        d.index);
        }
        if (d.file_offset >= offset &&
            d.file_offset + VHDXLOG_SECTOR_SIZE <= end) {
          /* Whole sector inside the window: build it in place. */
          vhdxlog_descriptor_sector(plan->log, &d,
                                    buf + (size_t)(d.file_offset - offset));
        } else {
          vhdxlog_descriptor_sector(plan->log, &d, sector);
          patch(buf, offset, end, d.file_offset, VHDXLOG_SECTOR_SIZE, sector);
        }
      } else {
        patch(buf, offset, end, d.file_offset, d.length, NULL);
      }
    }
  }

  if (size > 0)
    vhdxlog_overlay_patch_headers(plan, offset, end, buf);
  clear_error(error);
  return VHDXLOG_OK;
}

VHDXLOG_INTERNAL void vhdxlog_overlay_patch_headers(const vhdxlog_plan *plan,
                                                    uint64_t offset,
                                                    uint64_t end,
                                                    uint8_t *buf) {
  int slot;
  /* Header slots: only the plan's header updates change them (the log
   * never writes there: plan rule E_DESCRIPTOR_TARGET). */
  if (plan->action == VHDXLOG_ACTION_NONE || end <= offset)
    return;
  for (slot = 0; slot < 2; slot++)
    patch(buf, offset, end, header_slot_offset(slot), VHDXLOG_HEADER_SIZE,
          plan->final_headers[slot]);
}
