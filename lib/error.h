/* SPDX-License-Identifier: MIT */
/* Filling a vhdxlog_error: every failure goes through report(). */
#ifndef VHDXLOG_ERROR_H
#define VHDXLOG_ERROR_H

#include "vhdxlog.h"

static inline vhdxlog_status report(vhdxlog_error *error, vhdxlog_status status,
                                    uint64_t offset, uint32_t index) {
  if (error != NULL) {
    error->status = status;
    error->cause = status;
    error->offset = offset;
    error->index = index;
  }
  return status;
}

static inline void clear_error(vhdxlog_error *error) {
  if (error != NULL) {
    error->status = VHDXLOG_OK;
    error->cause = VHDXLOG_OK;
    error->offset = 0;
    error->index = VHDXLOG_NO_INDEX;
  }
}

#endif
