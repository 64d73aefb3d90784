/* SPDX-License-Identifier: MIT */
/* Internal: the armed-log classification (armed.c) as one pass that is fed
 * validation results, so that the plan's search can feed it the results it
 * computes anyway instead of the classifier validating every candidate
 * again. */
#ifndef VHDXLOG_ARMED_H
#define VHDXLOG_ARMED_H

#include "linkage.h"

#include "vhdxlog.h"

typedef struct armed_pass {
  const vhdxlog_log *ctx;
  vhdxlog_armed *out;
  int have_loge, have_pending;
  uint32_t first_loge; /* first sector that starts with "loge" */
  uint32_t pending;    /* the last candidate, judged at the next "loge" */
  vhdxlog_error pending_why;
} armed_pass;

VHDXLOG_INTERNAL void vhdxlog_armed_begin(armed_pass *pass,
                                          const vhdxlog_log *ctx,
                                          vhdxlog_armed *out);

/* Sector `s` and the result of vhdxlog_entry_validate() there (NULL: a
 * valid entry). Sectors must come in increasing order, each at most once,
 * and every sector that starts with "loge" must come; the others may be
 * left out (the inside of a valid entry never starts with "loge"). */
VHDXLOG_INTERNAL void vhdxlog_armed_sector(armed_pass *pass, uint32_t s,
                                           const vhdxlog_error *why);

/* Judges the last candidate; returns out->kind. */
VHDXLOG_INTERNAL vhdxlog_armed_kind vhdxlog_armed_end(armed_pass *pass);

/* vhdxlog_log_search() without the descriptor totals, which, when it finds
 * no sequence, also fills *armed as vhdxlog_log_classify_armed() would,
 * from the validations the search makes (search.c). */
VHDXLOG_INTERNAL vhdxlog_status vhdxlog_log_search_armed(const vhdxlog_log *ctx,
                                                         vhdxlog_sequence *seq,
                                                         vhdxlog_armed *armed,
                                                         vhdxlog_error *error);

#endif
