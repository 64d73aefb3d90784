/* SPDX-License-Identifier: MIT */
/*
 * Internal: walk the entries of an active sequence and hand out their
 * descriptor slots in place, sector by sector, so that the passes over the
 * descriptors (plan checks, replay, overlay index) are tight loops over
 * 32-byte slots instead of one vhdxlog_descriptor struct per descriptor.
 *
 * Each entry is checked as vhdxlog_iter checks it (signature, length,
 * descriptor sectors, consecutive numbering): O(1) per entry, so a
 * sequence that does not match the log fails cleanly. Slots are not
 * checked here; plan.c's descriptor pass does that.
 */
#ifndef VHDXLOG_WALK_H
#define VHDXLOG_WALK_H

#include <string.h>

#include "descriptor.h"
#include "log_internal.h"
#include "vhdxlog.h"

typedef struct walk {
  const vhdxlog_log *ctx;
  uint32_t next_offset; /* log offset of the next entry */
  uint32_t left;        /* entries not yet started */
  int started;
  uint64_t last_seq;
} walk;

typedef struct walk_entry {
  uint32_t offset; /* log offset */
  uint32_t s;      /* first sector */
  uint32_t sectors;
  uint32_t count; /* descriptors */
  uint32_t desc_sectors;
  uint64_t seq;
} walk_entry;

/* A sequence that can start in `ctx` (its tail a sector of the log). */
static inline int sequence_start_valid(const vhdxlog_log *ctx,
                                       const vhdxlog_sequence *seq) {
  return ctx != NULL && ctx->log != NULL && seq != NULL &&
         seq->tail_offset % VHDXLOG_SECTOR_SIZE == 0 &&
         seq->tail_offset < ctx->length;
}

/* The entry at log offset `offset`, checked as the next entry of a
 * sequence (`started`: one came before, numbered `last_seq`): its layout,
 * then the numbering, written without a wrapping "+ 1" (a SequenceNumber
 * of 0 never follows). VHDXLOG_E_ARGUMENT for a break in the numbering. */
static inline vhdxlog_status sequence_next_entry(const vhdxlog_log *ctx,
                                                 uint32_t offset, int started,
                                                 uint64_t last_seq,
                                                 vhdxlog_entry *h) {
  vhdxlog_status st =
      vhdxlog_entry_check_layout(ctx, offset / VHDXLOG_SECTOR_SIZE, h);
  if (st != VHDXLOG_OK)
    return st;
  if (started &&
      (h->sequence_number == 0 || h->sequence_number - 1u != last_seq))
    return VHDXLOG_E_ARGUMENT;
  return VHDXLOG_OK;
}

/* The checks of vhdxlog_iter_init. */
static inline vhdxlog_status walk_init(walk *w, const vhdxlog_log *ctx,
                                       const vhdxlog_sequence *seq) {
  if (!sequence_start_valid(ctx, seq))
    return VHDXLOG_E_ARGUMENT;
  memset(w, 0, sizeof *w);
  w->ctx = ctx;
  w->next_offset = seq->tail_offset;
  w->left = seq->entry_count;
  return VHDXLOG_OK;
}

/* The next entry: VHDXLOG_OK, VHDXLOG_END, or what vhdxlog_iter_next would
 * report for it (a layout rule, or VHDXLOG_E_ARGUMENT for a break in the
 * numbering). On error e->offset is the entry that failed. */
static inline vhdxlog_status walk_next(walk *w, walk_entry *e) {
  vhdxlog_entry h;
  vhdxlog_status st;
  if (w->left == 0)
    return VHDXLOG_END;
  e->offset = w->next_offset;
  st = sequence_next_entry(w->ctx, w->next_offset, w->started, w->last_seq, &h);
  if (st != VHDXLOG_OK)
    return st;
  w->started = 1;
  w->left--;
  w->last_seq = h.sequence_number;
  w->next_offset =
      (uint32_t)(((uint64_t)w->next_offset + h.length) % w->ctx->length);
  e->s = h.offset / VHDXLOG_SECTOR_SIZE;
  e->sectors = h.length / VHDXLOG_SECTOR_SIZE;
  e->count = h.descriptor_count;
  e->desc_sectors = (uint32_t)descriptor_sectors(h.descriptor_count);
  e->seq = h.sequence_number;
  return VHDXLOG_OK;
}

/* Slots of descriptor sector `k` (< e->desc_sectors) of entry `e`: a
 * pointer to the first, their number in *n and the first one's index in
 * *first. */
static inline const uint8_t *walk_slots(const walk *w, const walk_entry *e,
                                        uint32_t k, uint32_t *n,
                                        uint32_t *first) {
  uint32_t rest;
  if (k == 0) {
    *first = 0;
    *n = e->count < DESCRIPTORS_IN_FIRST_SECTOR ? e->count
                                                : DESCRIPTORS_IN_FIRST_SECTOR;
    return log_sector(w->ctx, e->s) + ENTRY_HEADER_SIZE;
  }
  *first = DESCRIPTORS_IN_FIRST_SECTOR + (k - 1) * DESCRIPTORS_PER_SECTOR;
  rest = e->count - *first;
  *n = rest < DESCRIPTORS_PER_SECTOR ? rest : DESCRIPTORS_PER_SECTOR;
  return log_sector(w->ctx, e->s + k);
}

/* Log offset of data sector `rank` of entry `e` (rank < data sectors). */
static inline uint32_t walk_data_offset(const walk *w, const walk_entry *e,
                                        uint32_t rank) {
  uint32_t sector = e->s + e->desc_sectors + rank;
  if (sector >= w->ctx->sectors)
    sector -= w->ctx->sectors;
  return sector * VHDXLOG_SECTOR_SIZE;
}

#endif
