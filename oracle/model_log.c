/* SPDX-License-Identifier: MIT */
/* Log entries and the active sequence: RULES.md "Entry at log offset o" and
 * "Active sequence", plus a brute-force cross-check of the search. */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

const uint8_t *mdl_entry_sector(const uint8_t *log, uint32_t log_length,
                                uint32_t off, uint64_t i) {
  uint64_t n = log_length / MDL_SECTOR;
  uint64_t s = ((uint64_t)(off / MDL_SECTOR) + i) % n;
  return log + (size_t)(s * MDL_SECTOR);
}

const uint8_t *mdl_descriptor(const uint8_t *log, uint32_t log_length,
                              uint32_t off, uint32_t i) {
  if (i < 126)
    return mdl_entry_sector(log, log_length, off, 0) + 64 + 32 * (size_t)i;
  return mdl_entry_sector(log, log_length, off, 1 + (i - 126) / 128) +
         32 * (size_t)((i - 126) % 128);
}

int mdl_entry_crc_matches(const uint8_t *log, uint32_t log_length,
                          uint32_t off) {
  const uint8_t *h = mdl_entry_sector(log, log_length, off, 0);
  uint32_t sectors = mdl_le32(h + 8) / MDL_SECTOR;
  uint32_t reg = MDL_CRC_INIT;
  uint64_t j;
  for (j = 0; j < sectors; j++) {
    static const uint8_t zeros[4] = {0, 0, 0, 0};
    const uint8_t *s = mdl_entry_sector(log, log_length, off, j);
    if (j == 0) {
      reg = mdl_crc_bytes(reg, s, 4);
      reg = mdl_crc_bytes(reg, zeros, 4);
      reg = mdl_crc_bytes(reg, s + 8, MDL_SECTOR - 8);
    } else {
      reg = mdl_crc_bytes(reg, s, MDL_SECTOR);
    }
  }
  return mdl_crc_end(reg) == mdl_le32(h + 4);
}

vhdxlog_status mdl_entry_check(const uint8_t *log, uint32_t log_length,
                               const uint8_t guid[16], uint32_t off,
                               mdl_entry *e, uint32_t *index) {
  const uint8_t *h;
  uint32_t length, tail, count, reserved, sectors, i, data_count;
  uint64_t seq, flushed, last, desc_sectors;

  *index = VHDXLOG_NO_INDEX;
  memset(e, 0, sizeof *e);
  if (log == NULL || log_length == 0 || log_length % MDL_SECTOR != 0 ||
      off % MDL_SECTOR != 0 || off >= log_length)
    return VHDXLOG_E_ARGUMENT;

  h = mdl_entry_sector(log, log_length, off, 0);
  /* 1 */
  if (!mdl_sig4(h, "loge"))
    return VHDXLOG_E_ENTRY_SIGNATURE;
  /* 2 */
  length = mdl_le32(h + 8);
  if (length == 0 || length % MDL_SECTOR != 0 || length > log_length)
    return VHDXLOG_E_ENTRY_LENGTH;
  /* 3 */
  tail = mdl_le32(h + 12);
  if (tail % MDL_SECTOR != 0 || tail >= log_length)
    return VHDXLOG_E_ENTRY_TAIL;
  /* 4 */
  seq = mdl_le64(h + 16);
  if (seq == 0)
    return VHDXLOG_E_ENTRY_SEQUENCE_ZERO;
  /* 5 */
  count = mdl_le32(h + 24);
  reserved = mdl_le32(h + 28);
  if (reserved != 0)
    return VHDXLOG_E_ENTRY_RESERVED;
  /* 6 */
  if (memcmp(h + 32, guid, 16) != 0)
    return VHDXLOG_E_ENTRY_GUID;
  /* 7, 8 */
  flushed = mdl_le64(h + 48);
  if (flushed % MDL_MIB != 0)
    return VHDXLOG_E_ENTRY_FLUSHED_OFFSET;
  last = mdl_le64(h + 56);
  if (last % MDL_MIB != 0)
    return VHDXLOG_E_ENTRY_LAST_OFFSET;
  /* 9 */
  sectors = length / MDL_SECTOR;
  if (count <= 126)
    desc_sectors = 1;
  else
    desc_sectors = 1 + ((uint64_t)count - 126 + 127) / 128;
  if (desc_sectors > sectors)
    return VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT;
  /* 10: count is now bounded by the entry's sectors. */
  data_count = 0;
  for (i = 0; i < count; i++) {
    const uint8_t *d = mdl_descriptor(log, log_length, off, i);
    uint64_t write_length;
    *index = i;
    if (mdl_sig4(d, "zero")) {
      if (mdl_le32(d + 4) != 0)
        return VHDXLOG_E_DESCRIPTOR_RESERVED;
      write_length = mdl_le64(d + 8);
      if (write_length % MDL_SECTOR != 0)
        return VHDXLOG_E_DESCRIPTOR_LENGTH;
    } else if (mdl_sig4(d, "desc")) {
      write_length = MDL_SECTOR;
      data_count++;
    } else {
      return VHDXLOG_E_DESCRIPTOR_SIGNATURE;
    }
    (void)write_length; /* where it ends is the plan's concern */
    if (mdl_le64(d + 16) % MDL_SECTOR != 0)
      return VHDXLOG_E_DESCRIPTOR_OFFSET;
    if (mdl_le64(d + 24) != seq)
      return VHDXLOG_E_DESCRIPTOR_SEQUENCE;
  }
  *index = VHDXLOG_NO_INDEX;
  /* 11 */
  if (sectors - desc_sectors != data_count)
    return VHDXLOG_E_DATA_COUNT;
  /* 12 */
  for (i = 0; i < data_count; i++) {
    const uint8_t *s = mdl_entry_sector(log, log_length, off, desc_sectors + i);
    *index = i;
    if (!mdl_sig4(s, "data"))
      return VHDXLOG_E_DATA_SIGNATURE;
    if (mdl_le32(s + 4) != (uint32_t)(seq >> 32) ||
        mdl_le32(s + 4092) != (uint32_t)(seq & 0xFFFFFFFFu))
      return VHDXLOG_E_DATA_SEQUENCE;
  }
  *index = VHDXLOG_NO_INDEX;
  /* 13: wrapped order, bytes 4..7 of the first sector as zero. */
  if (!mdl_entry_crc_matches(log, log_length, off))
    return VHDXLOG_E_ENTRY_CHECKSUM;

  e->offset = off;
  e->length = length;
  e->tail = tail;
  e->seq = seq;
  e->count = count;
  e->desc_sectors = (uint32_t)desc_sectors;
  e->flushed = flushed;
  e->last = last;
  return VHDXLOG_OK;
}

vhdxlog_status model_entry_check(const uint8_t *log, uint32_t log_length,
                                 const uint8_t guid[16], uint32_t off,
                                 uint32_t *error_index) {
  mdl_entry e;
  uint32_t index;
  vhdxlog_status st;
  if (guid == NULL) {
    if (error_index != NULL)
      *error_index = VHDXLOG_NO_INDEX;
    return VHDXLOG_E_ARGUMENT;
  }
  st = mdl_entry_check(log, log_length, guid, off, &e, &index);
  if (error_index != NULL)
    *error_index = index;
  return st;
}

/*
 * Brute force: from every sector s, grow the maximal run (valid entries,
 * each starting where the previous ends, numbers consecutive, never back at
 * s) and note the greatest head number among complete runs. Entry results
 * are cached per sector so this stays quadratic in the number of sectors.
 * Returns 0 if no run is complete (sequence numbers are never 0).
 */
typedef struct brute_cache {
  int known;
  vhdxlog_status status;
  mdl_entry entry;
} brute_cache;

uint64_t model_best_head(const uint8_t *log, uint32_t log_length,
                         const uint8_t guid[16]) {
  uint32_t n = log_length / MDL_SECTOR;
  brute_cache *cache = mdl_malloc(sizeof *cache * n);
  uint32_t *starts = mdl_malloc(sizeof *starts * n);
  uint64_t best = 0;
  uint32_t s, k;

  for (s = 0; s < n; s++)
    cache[s].known = 0;
  for (s = 0; s < n; s++) {
    uint64_t covered = 0; /* sectors of the run so far */
    uint64_t prev_seq = 0;
    uint32_t entries = 0, head_tail = 0;
    for (;;) {
      uint32_t at = (uint32_t)((s + covered) % n);
      uint32_t index;
      brute_cache *c = &cache[at];
      if (covered >= n)
        break; /* back at (or past) s */
      if (!c->known) {
        c->status = mdl_entry_check(log, log_length, guid, at * MDL_SECTOR,
                                    &c->entry, &index);
        c->known = 1;
      }
      if (c->status != VHDXLOG_OK)
        break;
      if (entries > 0 && c->entry.seq != prev_seq + 1)
        break;
      starts[entries++] = at * MDL_SECTOR;
      prev_seq = c->entry.seq;
      head_tail = c->entry.tail;
      covered += c->entry.length / MDL_SECTOR;
    }
    /* A run can never overlap itself: a sector of an entry other than its
     * first cannot start with "loge" (rules 10 to 12). */
    MDL_CHECK(covered <= n);
    for (k = 0; k < entries; k++)
      if (starts[k] == head_tail && prev_seq > best)
        best = prev_seq;
  }
  free(starts);
  free(cache);
  return best;
}

vhdxlog_status mdl_search(const uint8_t *log, uint32_t log_length,
                          const uint8_t guid[16], mdl_seq *seq) {
  uint32_t n = log_length / MDL_SECTOR;
  mdl_entry *run = mdl_malloc(sizeof *run * n);
  uint64_t p = 0, best_head = 0;
  int have_best = 0;
  uint32_t t;

  seq->entries = NULL;
  seq->count = 0;
  /* The scan of RULES.md, literally. p and q are unwrapped sector indexes. */
  while (p < n) {
    uint32_t len = 0;
    uint64_t q = p;
    mdl_entry head;
    while (q - p < n) {
      mdl_entry e;
      uint32_t index;
      if (mdl_entry_check(log, log_length, guid,
                          (uint32_t)((q % n) * MDL_SECTOR), &e,
                          &index) != VHDXLOG_OK)
        break;
      if (len > 0 && e.seq != run[len - 1].seq + 1)
        break;
      MDL_CHECK(len < n);
      run[len++] = e;
      q += e.length / MDL_SECTOR;
    }
    if (len == 0) {
      p += 1;
      continue;
    }
    MDL_CHECK(q - p <= n);
    head = run[len - 1];
    for (t = 0; t < len; t++)
      if (run[t].offset == head.tail)
        break;
    if (t < len && (!have_best || head.seq > best_head)) {
      free(seq->entries);
      seq->count = len - t;
      seq->entries = mdl_malloc(sizeof *seq->entries * seq->count);
      memcpy(seq->entries, run + t, sizeof *seq->entries * seq->count);
      best_head = head.seq;
      have_best = 1;
    }
    p = q;
  }
  free(run);

  /* Self-check: no start sector the scan skipped hides a better head. */
  MDL_CHECK(model_best_head(log, log_length, guid) ==
            (have_best ? best_head : 0));
  return have_best ? VHDXLOG_OK : VHDXLOG_E_LOG_NO_SEQUENCE;
}

/* RULES.md "Armed logs", written out plainly: every candidate judged on its
 * own, the span scanned for "loge" sector by sector. */
int mdl_armed_kind(const uint8_t *log, uint32_t log_length,
                   const uint8_t guid[16]) {
  uint32_t n = log_length / MDL_SECTOR, s, k;
  int candidates = 0;
  for (s = 0; s < n; s++) {
    const uint8_t *h = log + (size_t)s * MDL_SECTOR;
    mdl_entry e;
    uint32_t index, sectors;
    vhdxlog_status st;
    int torn;
    if (!mdl_sig4(h, "loge") || memcmp(h + 32, guid, 16) != 0)
      continue;
    candidates++;
    st = mdl_entry_check(log, log_length, guid, s * MDL_SECTOR, &e, &index);
    if (st == VHDXLOG_OK)
      return VHDXLOG_ARMED_INCOMPLETE;
    if (st >= VHDXLOG_E_ENTRY_SIGNATURE &&
        st <= VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT)
      return VHDXLOG_ARMED_DAMAGED_HEADER;
    sectors = mdl_le32(h + 8) / MDL_SECTOR;
    torn = st == VHDXLOG_E_ENTRY_CHECKSUM;
    for (k = 1; k < sectors && !torn; k++)
      torn = mdl_sig4(mdl_entry_sector(log, log_length, s * MDL_SECTOR, k),
                      "loge");
    if (!torn)
      torn = !mdl_entry_crc_matches(log, log_length, s * MDL_SECTOR);
    if (!torn)
      return VHDXLOG_ARMED_DAMAGED_CHECKSUM;
  }
  return candidates == 0 ? VHDXLOG_ARMED_EMPTY : VHDXLOG_ARMED_TORN;
}
