/* SPDX-License-Identifier: MIT */
/*
 * Validation of one log entry (MS-VHDX 2.3.1), every rule in the order of
 * docs/RULES.md: header fields, descriptors, data sectors, checksum last.
 * That order is what bounds the work on hostile logs (see vhdxlog.h,
 * vhdxlog_log): sectors beyond the first are read only while they are
 * descriptor or data sectors, which no other entry can start in.
 */
#include <string.h>

#include "crc32c.h"
#include "descriptor.h"
#include "error.h"
#include "log_internal.h"

/* Signatures as little-endian words: one load and compare checks one. */
#define SIGNATURE_WORD(a, b, c, d)                                             \
  ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |                  \
   (uint32_t)(d) << 24)

/* 1 if all `n` slots at `p` keep every descriptor rule, with the number of
 * data descriptors in *data; 0 if any breaks one. The rules of
 * descriptor_shape() and descriptor_sequence() in fewer instructions, for
 * the common case (valid descriptors are the common case and, in a hostile
 * log of 126-descriptor entries, the main cost):
 * - a zero descriptor's signature and Reserved field are one 8-byte compare;
 * - offsets and lengths that are aligned and below 2^61 are folded, with
 *   the sequence numbers, into two words tested once per call;
 * - the count is a local (through a pointer, every slot would wait for the
 *   previous slot's store).
 * A slot that is valid but outside the fast form (an offset or length of
 * 2^61 or more) makes this return 0 too: check_slots() then applies the
 * exact rules, which accept it. */
static int slots_valid(const uint8_t *p, uint32_t n, uint64_t seq,
                       uint32_t *data) {
  const uint64_t zero_and_reserved = SIGNATURE_WORD('z', 'e', 'r', 'o');
  const uint32_t desc = SIGNATURE_WORD('d', 'e', 's', 'c');
  const uint64_t unaligned_or_big =
      ~((((uint64_t)1) << 61) - VHDXLOG_SECTOR_SIZE);
  uint64_t sizes = 0, sequence_differs = 0;
  uint32_t count = 0, k;
  for (k = 0; k < n; k++) {
    const uint8_t *d = p + (size_t)k * DESCRIPTOR_SIZE;
    uint64_t head = load_le64(d);
    if (head == zero_and_reserved) {
      sizes |= load_le64(d + DESCRIPTOR_ZERO_LENGTH);
    } else if ((uint32_t)head == desc) {
      count++; /* bytes 4..15 are data; the length is one sector */
    } else {
      return 0;
    }
    sizes |= load_le64(d + DESCRIPTOR_FILE_OFFSET);
    sequence_differs |= load_le64(d + DESCRIPTOR_SEQUENCE_NUMBER) ^ seq;
  }
  *data = count;
  return (sizes & unaligned_or_big) == 0 && sequence_differs == 0;
}

/* Check of `n` descriptor slots starting at `p`, the first being
 * descriptor `index` of its entry; on failure, the first slot that breaks
 * a rule, and the rule. */
static vhdxlog_status check_slots(const uint8_t *p, uint32_t n, uint64_t seq,
                                  uint32_t index, uint32_t *data_count,
                                  uint32_t *bad_index) {
  uint32_t k, data;
  if (slots_valid(p, n, seq, &data)) {
    *data_count += data;
    return VHDXLOG_OK;
  }
  for (k = 0, data = 0; k < n; k++) {
    const uint8_t *d = p + (size_t)k * DESCRIPTOR_SIZE;
    int is_data = 0;
    vhdxlog_status st = descriptor_shape(d, &is_data);
    if (st == VHDXLOG_OK && descriptor_sequence(d) != seq) {
      st = VHDXLOG_E_DESCRIPTOR_SEQUENCE;
    }
    if (st != VHDXLOG_OK) {
      *bad_index = index + k;
      return st;
    }
    data += (uint32_t)is_data;
  }
  *data_count += data; /* valid, with an offset or length of 2^61 or more */
  return VHDXLOG_OK;
}

typedef struct entry_scan {
  const vhdxlog_log *ctx;
  uint32_t s;       /* first sector */
  uint32_t sectors; /* EntryLength / 4096 */
  uint32_t desc_sectors;
  uint32_t count;
  uint64_t seq;
  uint32_t data_count;
  uint32_t bad_index;
} entry_scan;

static vhdxlog_status check_descriptors(entry_scan *e) {
  uint32_t first = e->count < DESCRIPTORS_IN_FIRST_SECTOR
                       ? e->count
                       : DESCRIPTORS_IN_FIRST_SECTOR;
  uint32_t middle, k;
  vhdxlog_status st;

  st = check_slots(log_sector(e->ctx, e->s) + ENTRY_HEADER_SIZE, first, e->seq,
                   0, &e->data_count, &e->bad_index);
  if (st != VHDXLOG_OK || e->desc_sectors == 1) {
    return st;
  }
  middle = e->desc_sectors - 2;
  for (k = 0; k < middle; k++) {
    st = check_slots(log_sector(e->ctx, e->s + 1 + k), DESCRIPTORS_PER_SECTOR,
                     e->seq,
                     DESCRIPTORS_IN_FIRST_SECTOR + k * DESCRIPTORS_PER_SECTOR,
                     &e->data_count, &e->bad_index);
    if (st != VHDXLOG_OK) {
      return st;
    }
  }
  /* The last descriptor sector holds the remainder (1..128 slots). */
  k = DESCRIPTORS_IN_FIRST_SECTOR + middle * DESCRIPTORS_PER_SECTOR;
  return check_slots(log_sector(e->ctx, e->s + e->desc_sectors - 1),
                     e->count - k, e->seq, k, &e->data_count, &e->bad_index);
}

static vhdxlog_status check_data_sectors(entry_scan *e) {
  uint32_t n = e->sectors - e->desc_sectors;
  uint32_t first = e->s + e->desc_sectors;
  uint32_t k;
  for (k = 0; k < n; k++) {
    const uint8_t *p = log_sector(e->ctx, first + k);
    e->bad_index = k;
    if (!has_signature(p, "data")) {
      return VHDXLOG_E_DATA_SIGNATURE;
    }
    if (data_sector_sequence(p) != e->seq) {
      return VHDXLOG_E_DATA_SEQUENCE;
    }
  }
  return VHDXLOG_OK;
}

/* CRC-32C over the entry in log order, bytes 4..7 counting as zero. */
static uint32_t entry_crc(const entry_scan *e) {
  static const uint8_t zero[4] = {0, 0, 0, 0};
  const uint8_t *h = log_sector(e->ctx, e->s);
  uint32_t n = e->ctx->sectors;
  uint32_t end = e->s + e->sectors;
  uint32_t reg = 0xFFFFFFFFu;
  reg = vhdxlog_crc32c_update(reg, h, ENTRY_CHECKSUM);
  reg = vhdxlog_crc32c_update(reg, zero, 4);
  /* The rest is contiguous up to the log's end, then wraps to offset 0. */
  reg = vhdxlog_crc32c_update(reg, h + ENTRY_CHECKSUM + 4,
                              (size_t)((end <= n ? end : n) - e->s) *
                                      VHDXLOG_SECTOR_SIZE -
                                  (ENTRY_CHECKSUM + 4));
  if (end > n) {
    reg = vhdxlog_crc32c_update(reg, e->ctx->log,
                                (size_t)(end - n) * VHDXLOG_SECTOR_SIZE);
  }
  return ~reg;
}

/* The first two entry rules, which every reader of an entry applies. */
static vhdxlog_status check_signature_and_length(const vhdxlog_log *ctx,
                                                 const uint8_t *h) {
  uint32_t length = load_le32(h + ENTRY_LENGTH);
  if (!has_signature(h, "loge"))
    return VHDXLOG_E_ENTRY_SIGNATURE;
  if (length == 0 || length % VHDXLOG_SECTOR_SIZE != 0 || length > ctx->length)
    return VHDXLOG_E_ENTRY_LENGTH;
  return VHDXLOG_OK;
}

static vhdxlog_status check_header(const vhdxlog_log *ctx, const uint8_t *h) {
  uint32_t length = load_le32(h + ENTRY_LENGTH);
  uint32_t tail = load_le32(h + ENTRY_TAIL);
  uint64_t flushed = load_le64(h + ENTRY_FLUSHED_FILE_OFFSET);
  uint64_t last = load_le64(h + ENTRY_LAST_FILE_OFFSET);
  vhdxlog_status st = check_signature_and_length(ctx, h);
  if (st != VHDXLOG_OK)
    return st;
  if (tail % VHDXLOG_SECTOR_SIZE != 0 || tail >= ctx->length) {
    return VHDXLOG_E_ENTRY_TAIL;
  }
  if (load_le64(h + ENTRY_SEQUENCE_NUMBER) == 0) {
    return VHDXLOG_E_ENTRY_SEQUENCE_ZERO;
  }
  if (load_le32(h + ENTRY_RESERVED) != 0) {
    return VHDXLOG_E_ENTRY_RESERVED;
  }
  if (!same_guid(h + ENTRY_LOG_GUID, ctx->guid)) {
    return VHDXLOG_E_ENTRY_GUID;
  }
  /* Only the spec's rules here: our 2^62 bound is the plan's, applied to
   * the chosen sequence, so that it cannot change which one is chosen. */
  if (flushed % VHDXLOG_MIB != 0) {
    return VHDXLOG_E_ENTRY_FLUSHED_OFFSET;
  }
  if (last % VHDXLOG_MIB != 0) {
    return VHDXLOG_E_ENTRY_LAST_OFFSET;
  }
  if (descriptor_sectors(load_le32(h + ENTRY_DESCRIPTOR_COUNT)) >
      length / VHDXLOG_SECTOR_SIZE) {
    return VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT;
  }
  return VHDXLOG_OK;
}

/* An entry header's fields as stored, unchecked; no descriptor counted. */
static void decode_entry_header(const uint8_t *h, uint32_t s,
                                vhdxlog_entry *out) {
  memset(out, 0, sizeof *out);
  out->offset = s * VHDXLOG_SECTOR_SIZE;
  out->length = load_le32(h + ENTRY_LENGTH);
  out->tail = load_le32(h + ENTRY_TAIL);
  out->sequence_number = load_le64(h + ENTRY_SEQUENCE_NUMBER);
  out->descriptor_count = load_le32(h + ENTRY_DESCRIPTOR_COUNT);
  out->flushed_file_offset = load_le64(h + ENTRY_FLUSHED_FILE_OFFSET);
  out->last_file_offset = load_le64(h + ENTRY_LAST_FILE_OFFSET);
}

VHDXLOG_INTERNAL vhdxlog_status vhdxlog_entry_validate(const vhdxlog_log *ctx,
                                                       uint32_t s,
                                                       vhdxlog_entry *out,
                                                       vhdxlog_error *error) {
  const uint8_t *h = log_sector(ctx, s);
  uint64_t where = (uint64_t)s * VHDXLOG_SECTOR_SIZE;
  entry_scan e;
  vhdxlog_status st;

  st = check_header(ctx, h);
  if (st != VHDXLOG_OK) {
    return report(error, st, where, VHDXLOG_NO_INDEX);
  }
  memset(&e, 0, sizeof e);
  e.ctx = ctx;
  e.s = s;
  e.sectors = load_le32(h + ENTRY_LENGTH) / VHDXLOG_SECTOR_SIZE;
  e.count = load_le32(h + ENTRY_DESCRIPTOR_COUNT);
  e.desc_sectors = (uint32_t)descriptor_sectors(e.count);
  e.seq = load_le64(h + ENTRY_SEQUENCE_NUMBER);

  st = check_descriptors(&e);
  if (st != VHDXLOG_OK) {
    return report(error, st, where, e.bad_index);
  }
  if (e.sectors - e.desc_sectors != e.data_count) {
    return report(error, VHDXLOG_E_DATA_COUNT, where, VHDXLOG_NO_INDEX);
  }
  st = check_data_sectors(&e);
  if (st != VHDXLOG_OK) {
    return report(error, st, where, e.bad_index);
  }
  if (entry_crc(&e) != load_le32(h + ENTRY_CHECKSUM)) {
    return report(error, VHDXLOG_E_ENTRY_CHECKSUM, where, VHDXLOG_NO_INDEX);
  }
  if (out != NULL) {
    decode_entry_header(h, s, out);
    out->data_count = e.data_count;
    out->zero_count = e.count - e.data_count;
  }
  return VHDXLOG_OK;
}

VHDXLOG_INTERNAL int vhdxlog_entry_checksum_matches(const vhdxlog_log *ctx,
                                                    uint32_t s) {
  const uint8_t *h = log_sector(ctx, s);
  entry_scan e;
  memset(&e, 0, sizeof e);
  e.ctx = ctx;
  e.s = s;
  e.sectors = load_le32(h + ENTRY_LENGTH) / VHDXLOG_SECTOR_SIZE;
  return entry_crc(&e) == load_le32(h + ENTRY_CHECKSUM);
}

VHDXLOG_INTERNAL vhdxlog_status vhdxlog_entry_check_layout(
    const vhdxlog_log *ctx, uint32_t s, vhdxlog_entry *out) {
  const uint8_t *h = log_sector(ctx, s);
  vhdxlog_status st = check_signature_and_length(ctx, h);
  if (st != VHDXLOG_OK)
    return st;
  if (descriptor_sectors(load_le32(h + ENTRY_DESCRIPTOR_COUNT)) >
      load_le32(h + ENTRY_LENGTH) / VHDXLOG_SECTOR_SIZE)
    return VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT;
  decode_entry_header(h, s, out);
  return VHDXLOG_OK;
}

vhdxlog_status vhdxlog_log_entry(const vhdxlog_log *ctx, uint32_t offset,
                                 vhdxlog_entry *entry, vhdxlog_error *error) {
  vhdxlog_status st;
  const uint8_t *h;
  clear_error(error);
  if (entry != NULL) {
    memset(entry, 0, sizeof *entry);
  }
  if (ctx == NULL || ctx->log == NULL || offset % VHDXLOG_SECTOR_SIZE != 0 ||
      offset >= ctx->length) {
    return report(error, VHDXLOG_E_ARGUMENT, offset, VHDXLOG_NO_INDEX);
  }
  st = vhdxlog_entry_validate(ctx, offset / VHDXLOG_SECTOR_SIZE, entry, error);
  h = log_sector(ctx, offset / VHDXLOG_SECTOR_SIZE);
  if (st != VHDXLOG_OK && entry != NULL && has_signature(h, "loge")) {
    decode_entry_header(h, offset / VHDXLOG_SECTOR_SIZE, entry);
  }
  return st;
}

vhdxlog_status vhdxlog_log_init(vhdxlog_log *ctx, const uint8_t *log,
                                size_t log_length, const uint8_t guid[16]) {
  if (ctx == NULL || log == NULL || guid == NULL || log_length == 0 ||
      log_length % VHDXLOG_SECTOR_SIZE != 0 || log_length > 0xFFFFFFFFu) {
    return VHDXLOG_E_ARGUMENT;
  }
  ctx->log = log;
  ctx->length = (uint32_t)log_length;
  ctx->sectors = (uint32_t)(log_length / VHDXLOG_SECTOR_SIZE);
  memcpy(ctx->guid, guid, 16);
  return VHDXLOG_OK;
}
