/* SPDX-License-Identifier: MIT */
/* Helpers shared by the fuzz targets (see fuzz_common.h). */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "repair.h"
#include "vhdx_builder.h"

#define SECTOR VHDXLOG_SECTOR_SIZE

void fuzz_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
  abort();
}

/* ------------------------------------------------------------------------ */
/* Reader.                                                                  */

void fuzz_reader_init(fuzz_reader *r, const uint8_t *data, size_t size) {
  r->p = data;
  r->left = size;
}

void fuzz_take_bytes(fuzz_reader *r, uint8_t *out, size_t n) {
  size_t have = n < r->left ? n : r->left;
  if (have > 0)
    memcpy(out, r->p, have);
  memset(out + have, 0, n - have);
  r->p += have;
  r->left -= have;
}

uint8_t fuzz_take_u8(fuzz_reader *r) {
  uint8_t b[1];
  fuzz_take_bytes(r, b, 1);
  return b[0];
}

uint32_t fuzz_take_u32(fuzz_reader *r) {
  uint8_t b[4];
  fuzz_take_bytes(r, b, 4);
  return vtk_get_le32(b);
}

uint64_t fuzz_take_u64(fuzz_reader *r) {
  uint8_t b[8];
  fuzz_take_bytes(r, b, 8);
  return vtk_get_le64(b);
}

/* ------------------------------------------------------------------------ */
/* Log spans.                                                               */

/*
 * The block of the last span is kept and reused while the length stays the
 * same: a fresh block per input comes from memory ASan has never handed out
 * (its quarantine holds freed blocks back; blocks over 128 KiB are a fresh
 * mmap each time), and its page faults dominate targets whose logs are
 * mostly 1 MiB (fuzz_image). Every byte of the block
 * is written for each input, so nothing carries over; its size is always
 * the span's, so a read past the span is still past the block.
 */
static uint8_t *log_block;
static size_t log_block_size;

int fuzz_log_init(fuzz_log *l, const uint8_t *data, size_t size,
                  size_t min_length) {
  size_t length;
  memset(l, 0, sizeof(*l));
  if (min_length > FUZZ_MAX_LOG)
    return -1;
  if (size > FUZZ_MAX_LOG)
    size = FUZZ_MAX_LOG;
  /* size <= FUZZ_MAX_LOG (1 MiB): the rounding cannot wrap. */
  length = (size + SECTOR - 1) / SECTOR * SECTOR;
  if (length < min_length)
    length = min_length;
  if (length == 0)
    length = SECTOR;
  if (log_block == NULL || log_block_size != length) {
    free(log_block);
    log_block = malloc(length);
    log_block_size = log_block != NULL ? length : 0;
    if (log_block == NULL)
      return -1;
  }
  l->bytes = log_block;
  l->length = length;
  if (size > 0)
    memcpy(l->bytes, data, size);
  memset(l->bytes + size, 0, length - size);
  return 0;
}

void fuzz_log_bind(const fuzz_log *l, const uint8_t guid[16],
                   vhdxlog_log *ctx) {
  FUZZ_CHECK(vhdxlog_log_init(ctx, l->bytes, l->length, guid) == VHDXLOG_OK);
}

/* Position of descriptor k of the entry at `entry_sector` (RULES 10, by
 * testkit's writer), or NULL if that descriptor sector is not inside an
 * entry of `sectors`. k and the counts come from entries the library took
 * from a log of at most 1 MiB: testkit's 32-bit sums cannot wrap. */
static uint8_t *descriptor_at(uint8_t *log, size_t length, size_t entry_sector,
                              uint32_t sectors, uint32_t k) {
  uint32_t pos = vtk_desc_pos(k);
  if (pos / SECTOR >= sectors)
    return NULL;
  return log + (entry_sector + pos / SECTOR) % (length / SECTOR) * SECTOR +
         pos % SECTOR;
}

/* ------------------------------------------------------------------------ */
/* Comparisons.                                                             */

void fuzz_check_status_text(vhdxlog_status st) {
  const char *name = vhdxlog_status_name(st);
  const char *text = vhdxlog_status_string(st);
  FUZZ_CHECK(name != NULL && strncmp(name, "VHDXLOG_", 8) == 0 &&
             strcmp(name, "VHDXLOG_UNKNOWN") != 0);
  FUZZ_CHECK(text != NULL && text[0] != '\0' &&
             strcmp(text, "unknown status") != 0);
}

int fuzz_same_error(const vhdxlog_error *a, const vhdxlog_error *b) {
  return a->status == b->status && a->cause == b->cause &&
         a->offset == b->offset && a->index == b->index;
}

int fuzz_same_sequence(const vhdxlog_sequence *a, const vhdxlog_sequence *b) {
  return a->tail_offset == b->tail_offset && a->head_offset == b->head_offset &&
         a->entry_count == b->entry_count && a->length == b->length &&
         a->tail_sequence_number == b->tail_sequence_number &&
         a->head_sequence_number == b->head_sequence_number &&
         a->flushed_file_offset == b->flushed_file_offset &&
         a->last_file_offset == b->last_file_offset &&
         a->descriptor_count == b->descriptor_count &&
         a->max_write_end == b->max_write_end;
}

/* ------------------------------------------------------------------------ */
/* Invariants of a search result.                                           */

/* One descriptor the iterator returned, against the bytes of the log. */
static void check_descriptor(const fuzz_log *l, const vhdxlog_log *ctx,
                             const vhdxlog_entry *e, uint32_t k,
                             uint32_t data_k, const vhdxlog_descriptor *d) {
  const uint8_t *desc = descriptor_at(l->bytes, l->length, e->offset / SECTOR,
                                      e->length / SECTOR, k);
  FUZZ_CHECK(desc != NULL);
  FUZZ_CHECK(d->entry_offset == e->offset);
  FUZZ_CHECK(d->index == k);
  FUZZ_CHECK(d->sequence_number == e->sequence_number);
  FUZZ_CHECK(d->file_offset == vtk_get_le64(desc + 16));
  FUZZ_CHECK(d->file_offset % SECTOR == 0);
  if (d->kind == VHDXLOG_DESCRIPTOR_DATA) {
    uint8_t sector[SECTOR];
    uint64_t data_sector =
        e->offset / SECTOR + vtk_desc_sectors(e->descriptor_count) + data_k;
    FUZZ_CHECK(memcmp(desc, "desc", 4) == 0);
    FUZZ_CHECK(d->length == SECTOR);
    FUZZ_CHECK(d->data_offset == data_sector % (l->length / SECTOR) * SECTOR);
    FUZZ_CHECK(memcmp(d->trailing, desc + 4, 4) == 0);
    FUZZ_CHECK(memcmp(d->leading, desc + 8, 8) == 0);
    /* The 4 KiB written: leading + Data[4084] + trailing (spec 2.3.1.3). */
    vhdxlog_descriptor_sector(ctx, d, sector);
    FUZZ_CHECK(memcmp(sector, d->leading, 8) == 0);
    FUZZ_CHECK(memcmp(sector + 8, l->bytes + d->data_offset + 8, 4084) == 0);
    FUZZ_CHECK(memcmp(sector + 4092, d->trailing, 4) == 0);
  } else {
    FUZZ_CHECK(d->kind == VHDXLOG_DESCRIPTOR_ZERO);
    FUZZ_CHECK(memcmp(desc, "zero", 4) == 0);
    FUZZ_CHECK(d->length == vtk_get_le64(desc + 8));
    FUZZ_CHECK(d->length % SECTOR == 0);
  }
}

/* Past every entry whose descriptors the iterator has all returned (k of
 * them, data_k data ones): its counts must match; then at the next entry's
 * first. */
static void next_entry(const vhdxlog_sequence *seq,
                       const vhdxlog_entry *entries, uint32_t *cur, uint32_t *k,
                       uint32_t *data_k) {
  while (*cur < seq->entry_count && *k == entries[*cur].descriptor_count) {
    FUZZ_CHECK(*data_k == entries[*cur].data_count);
    (*cur)++;
    *k = 0;
    *data_k = 0;
  }
}

static void check_sequence(const fuzz_log *l, const vhdxlog_log *ctx,
                           const vhdxlog_sequence *seq) {
  const uint64_t len = l->length;
  vhdxlog_entry *entries;
  vhdxlog_error err;
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  vhdxlog_status st;
  uint64_t total = 0, descriptors = 0, seen = 0;
  uint64_t max_nonzero = 0, max_any = 0;
  uint32_t i, off, cur, k, data_k;

  FUZZ_CHECK(seq->entry_count >= 1);
  FUZZ_CHECK(seq->entry_count <= len / SECTOR);
  FUZZ_CHECK(seq->tail_offset < len && seq->tail_offset % SECTOR == 0);
  FUZZ_CHECK(seq->head_offset < len && seq->head_offset % SECTOR == 0);
  FUZZ_CHECK(seq->length >= SECTOR && seq->length <= len &&
             seq->length % SECTOR == 0);
  FUZZ_CHECK(seq->tail_sequence_number != 0);
  FUZZ_CHECK(seq->head_sequence_number >= seq->tail_sequence_number);
  FUZZ_CHECK(seq->head_sequence_number - seq->tail_sequence_number ==
             seq->entry_count - 1u);

  entries = malloc(seq->entry_count * sizeof(*entries));
  if (entries == NULL)
    return;

  /* Walk tail to head: every entry valid, consecutive, adjacent. */
  off = seq->tail_offset;
  for (i = 0; i < seq->entry_count; i++) {
    vhdxlog_entry *e = &entries[i];
    st = vhdxlog_log_entry(ctx, off, e, &err);
    FUZZ_CHECK(st == VHDXLOG_OK);
    FUZZ_CHECK(e->offset == off);
    FUZZ_CHECK(e->sequence_number == seq->tail_sequence_number + i);
    FUZZ_CHECK(e->data_count + (uint64_t)e->zero_count == e->descriptor_count);
    total += e->length;
    FUZZ_CHECK(total <= len);
    descriptors += e->descriptor_count;
    off = (uint32_t)((off + (uint64_t)e->length) % len);
  }
  {
    const vhdxlog_entry *head = &entries[seq->entry_count - 1];
    FUZZ_CHECK(head->offset == seq->head_offset);
    FUZZ_CHECK(head->tail == seq->tail_offset);
    FUZZ_CHECK(head->flushed_file_offset == seq->flushed_file_offset);
    FUZZ_CHECK(head->last_file_offset == seq->last_file_offset);
  }
  FUZZ_CHECK(total == seq->length);
  FUZZ_CHECK(descriptors == seq->descriptor_count);

  /* The iterator: every descriptor of every entry, tail to head, in index
   * order, matching the bytes; then VHDXLOG_END. */
  st = vhdxlog_iter_init(&it, ctx, seq);
  FUZZ_CHECK(st == VHDXLOG_OK);
  cur = 0;
  k = 0;
  data_k = 0;
  for (;;) {
    st = vhdxlog_iter_next(&it, &d);
    if (st == VHDXLOG_END)
      break;
    FUZZ_CHECK(st == VHDXLOG_OK);
    FUZZ_CHECK(seen < seq->descriptor_count);
    next_entry(seq, entries, &cur, &k, &data_k);
    FUZZ_CHECK(cur < seq->entry_count);
    check_descriptor(l, ctx, &entries[cur], k, data_k, &d);
    if (d.kind == VHDXLOG_DESCRIPTOR_DATA)
      data_k++;
    {
      /* vhdxlog.h: max_write_end saturates at UINT64_MAX (entries may
       * write past 2^64 by the spec's rules; the plan refuses them). */
      uint64_t end = d.file_offset > UINT64_MAX - d.length
                         ? UINT64_MAX
                         : d.file_offset + d.length;
      if (d.length > 0 && end > max_nonzero)
        max_nonzero = end;
      if (end > max_any)
        max_any = end;
    }
    k++;
    seen++;
  }
  next_entry(seq, entries, &cur, &k, &data_k);
  FUZZ_CHECK(cur == seq->entry_count);
  FUZZ_CHECK(seen == seq->descriptor_count);
  /* Whether a zero-length zero descriptor counts as a write ending at its
   * offset is left open by vhdxlog.h: accept either reading. */
  FUZZ_CHECK(max_nonzero <= seq->max_write_end);
  FUZZ_CHECK(seq->max_write_end <= max_any);
  free(entries);
}

static void check_search_error(const fuzz_log *l, const vhdxlog_log *ctx,
                               const uint8_t guid[16], vhdxlog_status status,
                               const vhdxlog_error *error) {
  vhdxlog_status c = error->cause;
  vhdxlog_entry e;
  vhdxlog_error err;
  vhdxlog_status st;

  FUZZ_CHECK(status == VHDXLOG_E_LOG_NO_SEQUENCE);
  FUZZ_CHECK(error->status == status);
  if (c == VHDXLOG_E_LOG_NO_SEQUENCE) {
    FUZZ_CHECK(error->offset == 0); /* RULES: no candidate at all */
    return;
  }
  FUZZ_CHECK(error->offset < l->length && error->offset % SECTOR == 0);
  if (c == VHDXLOG_OK) /* vhdxlog.h's reading of "no candidate failed" */
    return;
  FUZZ_CHECK(c >= VHDXLOG_E_ENTRY_SIGNATURE && c <= VHDXLOG_E_ENTRY_CHECKSUM);
  /* RULES: a candidate carries "loge" and the header's LogGuid. */
  FUZZ_CHECK(memcmp(l->bytes + error->offset, "loge", 4) == 0);
  FUZZ_CHECK(memcmp(l->bytes + error->offset + 32, guid, 16) == 0);
  st = vhdxlog_log_entry(ctx, (uint32_t)error->offset, &e, &err);
  if (c == VHDXLOG_E_ENTRY_TAIL) { /* a failed entry, or an incomplete head */
    FUZZ_CHECK(st == VHDXLOG_OK || st == VHDXLOG_E_ENTRY_TAIL);
  } else {
    FUZZ_CHECK(st == c);
    FUZZ_CHECK(err.index == error->index);
  }
}

/* The choice against the oracle's brute force over every start sector. */
static void check_best(const fuzz_log *l, const uint8_t guid[16],
                       vhdxlog_status status, const vhdxlog_sequence *seq) {
  uint64_t best = model_best_head(l->bytes, (uint32_t)l->length, guid);
  if (best == 0) {
    FUZZ_CHECK(status == VHDXLOG_E_LOG_NO_SEQUENCE);
  } else {
    FUZZ_CHECK(status == VHDXLOG_OK);
    FUZZ_CHECK(seq->head_sequence_number == best);
  }
}

vhdxlog_status fuzz_search_and_check(fuzz_log *l, const uint8_t guid[16],
                                     vhdxlog_log *ctx, vhdxlog_sequence *seq,
                                     vhdxlog_error *error) {
  vhdxlog_status st;
  fuzz_log_bind(l, guid, ctx);
  st = vhdxlog_log_search(ctx, seq, error);
  fuzz_check_status_text(st);
  if (st == VHDXLOG_OK)
    check_sequence(l, ctx, seq);
  else
    check_search_error(l, ctx, guid, st, error);
  check_best(l, guid, st, seq);
  return st;
}

void fuzz_search_rest(fuzz_reader *r, const uint8_t guid[16], unsigned repair) {
  fuzz_log l;
  vhdxlog_log ctx;
  vhdxlog_sequence seq;
  vhdxlog_error error;

  if (fuzz_log_init(&l, r->p, r->left, 0) != 0)
    return;
  if (repair != 0) {
    vtk_repair_use_crc(vhdxlog_crc32c); /* fast; the oracle has its own */
    vtk_repair_log(l.bytes, l.length, guid, repair);
  }
  fuzz_search_and_check(&l, guid, &ctx, &seq, &error);
}
