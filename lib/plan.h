/* Internal: the descriptor checks shared by the plan and the replay. */
#ifndef VHDXLOG_PLAN_H
#define VHDXLOG_PLAN_H

#include "vhdxlog.h"

/*
 * Walk every descriptor of `seq` through the iterator and apply the plan
 * rules of docs/RULES.md ("Plan" 1: no write may touch the header slots or
 * the log region). On success *max_end is the end of the furthest non-empty
 * write (0 if none). No I/O, no writes: this is what runs before any write.
 */
vhdxlog_status vhdxlog_plan_check_descriptors(const vhdxlog_image *image,
                                              const vhdxlog_log *log,
                                              const vhdxlog_sequence *seq,
                                              uint64_t *max_end,
                                              vhdxlog_error *error);

#endif
