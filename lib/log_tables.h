/*
 * Per-sector facts precomputed by vhdxlog_log_init() in the caller's
 * scratch, so that checking an entry costs O(1) plus the two descriptor
 * sectors it parses directly, whatever length it claims. This is what keeps
 * the search linear on hostile logs (overlapping entries each claiming the
 * whole log): without it every candidate re-reads its whole claimed span.
 */
#ifndef VHDXLOG_LOG_TABLES_H
#define VHDXLOG_LOG_TABLES_H

#include "vhdxlog.h"

enum sector_kind {
  SECTOR_OTHER = 0,
  SECTOR_DATA = 1,     /* "data"; key = SequenceHigh:SequenceLow */
  SECTOR_DESC_FULL = 2 /* 128 well-formed descriptors, one SequenceNumber
                          (the key): a middle descriptor sector */
};

typedef struct log_tables {
  uint64_t *key;         /* [N] sequence number the sector carries */
  uint32_t *crc;         /* [N+1] raw CRC register after sectors [0, k) */
  uint32_t *xpow;        /* [N+1] x^(8*4096*k) mod P: shift over k sectors */
  uint32_t *data_prefix; /* [N+1] data descriptors in DESC_FULL sectors
                            [0, k) */
  uint32_t *run;         /* [N] sectors from k with the same kind and key,
                            not wrapping */
  uint32_t *constants;   /* [2] x^(8*4088), unused */
  uint8_t *kind;         /* [N] enum sector_kind */
} log_tables;

/* Lay the tables out in `scratch` for n sectors; NULL-safe size query when
 * scratch is NULL. Returns the bytes needed. */
size_t log_tables_layout(void *scratch, uint32_t n, log_tables *t);

/* Validate the entry starting at sector `s` (< ctx->sectors). */
vhdxlog_status entry_validate(const vhdxlog_log *ctx, uint32_t s,
                              vhdxlog_entry *out, vhdxlog_error *error);

/* Byte pointer to log sector i, where i < 2N may be unwrapped. */
static inline const uint8_t *log_sector(const vhdxlog_log *ctx, uint32_t i) {
  if (i >= ctx->sectors) {
    i -= ctx->sectors;
  }
  return ctx->log + (size_t)i * VHDXLOG_SECTOR_SIZE;
}

#endif
