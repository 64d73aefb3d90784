/* SPDX-License-Identifier: MIT */
/* Internals shared by entry.c, search.c and iter.c. */
#ifndef VHDXLOG_LOG_INTERNAL_H
#define VHDXLOG_LOG_INTERNAL_H

#include "linkage.h"

#include "vhdxlog.h"

/* Validate the entry starting at sector `s` (< ctx->sectors). */
VHDXLOG_INTERNAL vhdxlog_status vhdxlog_entry_validate(const vhdxlog_log *ctx,
                                                       uint32_t s,
                                                       vhdxlog_entry *out,
                                                       vhdxlog_error *error);

/* Whether the CRC-32C over the EntryLength bytes at sector `s` matches its
 * Checksum field. Only for an entry whose length was checked (entry rule
 * 2); costs a pass over those bytes. */
VHDXLOG_INTERNAL int vhdxlog_entry_checksum_matches(const vhdxlog_log *ctx,
                                                    uint32_t s);

/* The O(1) part of validation: entry rules 1, 2 and 9 (signature, length,
 * descriptor sectors), and *out's offset, length, tail, sequence number and
 * descriptor count. Enough to walk the entry without reading outside it. */
VHDXLOG_INTERNAL vhdxlog_status vhdxlog_entry_check_layout(
    const vhdxlog_log *ctx, uint32_t s, vhdxlog_entry *out);

/* Byte pointer to log sector i, where i < 2N may be unwrapped. */
static inline const uint8_t *log_sector(const vhdxlog_log *ctx, uint32_t i) {
  if (i >= ctx->sectors) {
    i -= ctx->sectors;
  }
  return ctx->log + (size_t)i * VHDXLOG_SECTOR_SIZE;
}

#endif
