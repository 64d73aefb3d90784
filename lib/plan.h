/* SPDX-License-Identifier: MIT */
/* Internal: the descriptor checks shared by the plan, the replay and the
 * overlay index. */
#ifndef VHDXLOG_PLAN_H
#define VHDXLOG_PLAN_H

#include "linkage.h"

#include "vhdxlog.h"

/*
 * One pass over every descriptor of `seq`: the checks vhdxlog_iter makes
 * (entry layout and numbering, each descriptor's rules, one data sector per
 * data descriptor), then the plan rules of docs/RULES.md ("Plan" 1 and 2:
 * our 2^62 bound, and no write outside the region tables in the first
 * 1 MiB or into the log), descriptor by descriptor, with the errors the
 * iterator-based pass reported. On success *max_end is the end of the
 * furthest non-empty write (0 if none), *count (if not NULL) the number of
 * descriptors, and, when `patches` is not NULL, the region-table sectors
 * the replay writes are recorded there. No I/O, no writes: this is what
 * runs before any write.
 */
VHDXLOG_INTERNAL vhdxlog_status vhdxlog_plan_check_descriptors(
    const vhdxlog_image *image, const vhdxlog_log *log,
    const vhdxlog_sequence *seq, vhdxlog_region_patch *patches,
    uint64_t *max_end, uint64_t *count, vhdxlog_error *error);

/* The file size after a replay (RULES.md "Plan" 5): the size now, grown
 * to the end of the furthest write and to LastFileOffset. */
static inline uint64_t size_after_replay(uint64_t size, uint64_t max_write_end,
                                         uint64_t last_file_offset) {
  if (max_write_end > size)
    size = max_write_end;
  return last_file_offset > size ? last_file_offset : size;
}

/* Patch the bytes of the two header slots the plan leaves into the window
 * `buf` = file bytes [offset, end) (both overlay reads). */
VHDXLOG_INTERNAL void vhdxlog_overlay_patch_headers(const vhdxlog_plan *plan,
                                                    uint64_t offset,
                                                    uint64_t end, uint8_t *buf);

#endif
