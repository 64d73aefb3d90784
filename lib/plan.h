/* Internal: the descriptor checks shared by the plan and the replay. */
#ifndef VHDXLOG_PLAN_H
#define VHDXLOG_PLAN_H

#include "linkage.h"

#include "vhdxlog.h"

/*
 * Walk every descriptor of `seq` through the iterator and apply the plan
 * rules of docs/RULES.md ("Plan" 1 and 2: our 2^62 bound, and no write
 * outside the region tables in the first 1 MiB or into the log). On success
 * *max_end is the end of the furthest non-empty write (0 if none), and, when
 * `patches` is not NULL, the region-table sectors the replay writes are
 * recorded there. No I/O, no writes: this is what runs before any write.
 */
VHDXLOG_INTERNAL vhdxlog_status vhdxlog_plan_check_descriptors(
    const vhdxlog_image *image, const vhdxlog_log *log,
    const vhdxlog_sequence *seq, vhdxlog_region_patch *patches,
    uint64_t *max_end, vhdxlog_error *error);

#endif
