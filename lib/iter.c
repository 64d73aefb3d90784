/* SPDX-License-Identifier: MIT */
/*
 * Descriptors of the active sequence in replay order: entries from tail to
 * head, descriptors in index order, the k-th data descriptor paired with
 * the k-th data sector (MS-VHDX 2.3.1.4). The search validated every rule;
 * the iterator re-checks only what costs O(1) per entry or descriptor
 * (entry signature, length, descriptor sectors, numbering; each descriptor's
 * rules; one data sector per data descriptor), so a sequence that does not
 * match the log (a caller error) yields an error, never an out-of-bounds
 * read or an unchecked write range, and iterating costs O(descriptors), not
 * another pass over the entries' bytes (data sectors and checksums).
 */
#include <string.h>

#include "descriptor.h"
#include "error.h"
#include "log_internal.h"
#include "walk.h"

vhdxlog_status vhdxlog_iter_init(vhdxlog_iter *it, const vhdxlog_log *ctx,
                                 const vhdxlog_sequence *seq) {
  if (it == NULL || !sequence_start_valid(ctx, seq))
    return VHDXLOG_E_ARGUMENT;
  memset(it, 0, sizeof *it);
  it->ctx = ctx;
  it->entry_offset = seq->tail_offset;
  it->entries_left = seq->entry_count;
  return VHDXLOG_OK;
}

static vhdxlog_status next_entry(vhdxlog_iter *it) {
  const vhdxlog_log *ctx = it->ctx;
  vhdxlog_entry e;
  vhdxlog_status st;
  if (it->started) {
    uint64_t next = (uint64_t)it->entry_offset + it->entry_length;
    it->entry_offset = (uint32_t)(next % ctx->length);
  }
  st = sequence_next_entry(ctx, it->entry_offset, it->started,
                           it->sequence_number, &e);
  if (st != VHDXLOG_OK)
    return st;
  it->started = 1;
  it->entries_left--;
  it->sequence_number = e.sequence_number;
  it->entry_length = e.length;
  it->count = e.descriptor_count;
  it->desc_sectors = (uint32_t)descriptor_sectors(e.descriptor_count);
  it->index = 0;
  it->data_seen = 0;
  return VHDXLOG_OK;
}

vhdxlog_status vhdxlog_iter_next(vhdxlog_iter *it, vhdxlog_descriptor *d) {
  const uint8_t *p;
  uint32_t s;
  int is_data = 0;
  vhdxlog_status st;
  if (it == NULL || it->ctx == NULL || d == NULL) {
    return VHDXLOG_E_ARGUMENT;
  }
  while (it->index >= it->count) {
    if (it->entries_left == 0) {
      return VHDXLOG_END;
    }
    st = next_entry(it);
    if (st != VHDXLOG_OK) {
      return st;
    }
  }
  s = it->entry_offset / VHDXLOG_SECTOR_SIZE;
  p = descriptor_at(it->ctx, s, it->index);
  /* Descriptor rules are cheap and guard every write's range. */
  st = descriptor_shape(p, &is_data);
  if (st == VHDXLOG_OK && descriptor_sequence(p) != it->sequence_number) {
    st = VHDXLOG_E_DESCRIPTOR_SEQUENCE;
  }
  if (st != VHDXLOG_OK) {
    return st;
  }
  memset(d, 0, sizeof *d);
  d->entry_offset = it->entry_offset;
  d->index = it->index;
  d->sequence_number = it->sequence_number;
  d->file_offset = descriptor_file_offset(p);
  if (is_data) {
    uint32_t data_sector = s + it->desc_sectors + it->data_seen;
    if (it->data_seen >=
        it->entry_length / VHDXLOG_SECTOR_SIZE - it->desc_sectors) {
      return VHDXLOG_E_DATA_COUNT; /* more data descriptors than sectors */
    }
    if (data_sector >= it->ctx->sectors) {
      data_sector -= it->ctx->sectors;
    }
    d->kind = VHDXLOG_DESCRIPTOR_DATA;
    d->length = VHDXLOG_SECTOR_SIZE;
    d->data_offset = data_sector * VHDXLOG_SECTOR_SIZE;
    descriptor_data_ends(p, d);
    it->data_seen++;
  } else {
    d->kind = VHDXLOG_DESCRIPTOR_ZERO;
    d->length = descriptor_write_length(p);
  }
  it->index++;
  return VHDXLOG_OK;
}

void vhdxlog_descriptor_sector(const vhdxlog_log *ctx,
                               const vhdxlog_descriptor *d,
                               uint8_t out[VHDXLOG_SECTOR_SIZE]) {
  const uint8_t *data;
  if (ctx == NULL || d == NULL || out == NULL ||
      d->kind != VHDXLOG_DESCRIPTOR_DATA || d->data_offset >= ctx->length ||
      d->data_offset % VHDXLOG_SECTOR_SIZE != 0) {
    return;
  }
  data = ctx->log + d->data_offset;
  data_sector_bytes(d->leading, data, d->trailing, 0, VHDXLOG_SECTOR_SIZE, out);
}
