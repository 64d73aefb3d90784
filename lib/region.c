/* SPDX-License-Identifier: MIT */
/*
 * Region tables (MS-VHDX 2.2.3). Rules and their order: docs/RULES.md
 * "Image" 4 and 5.
 *
 * Region-table updates go through the log (2.2.3), and with a dirty log
 * nothing but the header and the log may be read before replay (2.3.3): so
 * a table is judged either as on disk or as the replay will leave it. The
 * replayed bytes are never assembled in memory; each read takes them from
 * the disk copy, zeros, or the log's data sector, one 4 KiB sector at a
 * time (vhdxlog_region_patch).
 */
#include <string.h>

#include "bytes.h"
#include "crc32c.h"
#include "descriptor.h"
#include "error.h"
#include "heapsort.h"
#include "region.h"

#define REGION_INDEX_LIMIT (VHDXLOG_REGION_MAX_ENTRIES + 1u) /* + the log */
#define PATCHES_PER_TABLE (VHDXLOG_REGION_TABLE_SIZE / VHDXLOG_SECTOR_SIZE)

enum { PATCH_DISK = 0, PATCH_ZERO = 1, PATCH_DATA = 2 };

static const uint8_t bat_guid[16] = {0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6,
                                     0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E,
                                     0x9B, 0xFD, 0x4A, 0x08};
static const uint8_t metadata_guid[16] = {0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47,
                                          0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F,
                                          0x05, 0x0F, 0x88, 0x6E};

/* One region-table copy and where its bytes come from. */
typedef struct table_view {
  const uint8_t *disk;               /* 64 KiB as on disk */
  const vhdxlog_log *log;            /* for PATCH_DATA */
  const vhdxlog_region_patch *patch; /* PATCHES_PER_TABLE, or NULL */
  uint64_t file_offset;              /* for error offsets */
  uint32_t count;                    /* region entries; index count = log */
  uint64_t log_offset;
  uint64_t log_length;
} table_view;

static const vhdxlog_region_patch *patch_of(const table_view *t,
                                            uint32_t sector) {
  if (t->patch == NULL || t->patch[sector].kind == PATCH_DISK)
    return NULL;
  return &t->patch[sector];
}

/* Bytes [off, off + n) of the table as judged (off + n <= 64 KiB). */
static void table_read(const table_view *t, uint32_t off, uint8_t *out,
                       uint32_t n) {
  while (n > 0) {
    uint32_t sector = off / VHDXLOG_SECTOR_SIZE;
    uint32_t in = off % VHDXLOG_SECTOR_SIZE;
    uint32_t k = VHDXLOG_SECTOR_SIZE - in < n ? VHDXLOG_SECTOR_SIZE - in : n;
    const vhdxlog_region_patch *p = patch_of(t, sector);
    if (p == NULL)
      memcpy(out, t->disk + off, k);
    else if (p->kind == PATCH_ZERO)
      memset(out, 0, k);
    else
      data_sector_bytes(p->leading, t->log->log + p->data_offset, p->trailing,
                        in, k, out);
    out += k;
    off += k;
    n -= k;
  }
}

/* CRC-32C of the 64 KiB with the checksum field (bytes 4..7) as zero. */
static uint32_t table_checksum(const table_view *t) {
  uint8_t sector[VHDXLOG_SECTOR_SIZE];
  uint32_t reg = 0xFFFFFFFFu;
  uint32_t s;
  for (s = 0; s < PATCHES_PER_TABLE; s++) {
    uint32_t off = s * VHDXLOG_SECTOR_SIZE;
    const uint8_t *bytes = t->disk + off;
    if (s == 0 || patch_of(t, s) != NULL) {
      table_read(t, off, sector, VHDXLOG_SECTOR_SIZE);
      if (s == 0)
        memset(sector + REGION_CHECKSUM, 0, 4);
      bytes = sector;
    }
    reg = vhdxlog_crc32c_update(reg, bytes, VHDXLOG_SECTOR_SIZE);
  }
  return ~reg;
}

static void entry_bytes(const table_view *t, uint16_t i,
                        uint8_t out[REGION_ENTRY_SIZE]) {
  table_read(t, REGION_TABLE_HEADER_SIZE + (uint32_t)i * REGION_ENTRY_SIZE, out,
             REGION_ENTRY_SIZE);
}

/* Span `i`: region entry i, or the log for i == count (it may overlap no
 * region either). */
static void span(const table_view *t, uint16_t i, uint64_t *offset,
                 uint64_t *length) {
  uint8_t e[REGION_ENTRY_SIZE];
  if (i == t->count) {
    *offset = t->log_offset;
    *length = t->log_length;
    return;
  }
  entry_bytes(t, i, e);
  *offset = load_le64(e + REGION_ENTRY_FILE_OFFSET);
  *length = load_le32(e + REGION_ENTRY_LENGTH);
}

static uint64_t span_offset(const table_view *t, uint16_t i) {
  uint64_t offset, length;
  span(t, i, &offset, &length);
  return offset;
}

static int compare_guid(const void *ctx, uint16_t a, uint16_t b) {
  const table_view *t = (const table_view *)ctx;
  uint8_t x[REGION_ENTRY_SIZE], y[REGION_ENTRY_SIZE];
  int c;
  entry_bytes(t, a, x);
  entry_bytes(t, b, y);
  c = memcmp(x, y, 16);
  return c != 0 ? c : (a < b ? -1 : (a > b ? 1 : 0));
}

static int compare_offset(const void *ctx, uint16_t a, uint16_t b) {
  const table_view *t = (const table_view *)ctx;
  uint64_t x = span_offset(t, a);
  uint64_t y = span_offset(t, b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

static uint64_t entry_file_offset(const table_view *t, uint32_t i) {
  return t->file_offset + REGION_TABLE_HEADER_SIZE +
         (uint64_t)i * REGION_ENTRY_SIZE;
}

/* Sorted by offset, a span overlaps an earlier one iff it starts before the
 * furthest end seen so far. Zero-length spans overlap nothing. Returns the
 * index of an overlapping span, or -1. */
static int find_overlap(const table_view *t, uint16_t *idx, size_t n) {
  uint64_t furthest_end = 0;
  size_t i;
  heapsort_indices(idx, n, compare_offset, t);
  for (i = 0; i < n; i++) {
    uint64_t off, len;
    span(t, idx[i], &off, &len);
    if (len == 0)
      continue;
    if (off < furthest_end)
      return idx[i];
    furthest_end = off + len; /* no overflow: both checked <= 2^62 */
  }
  return -1;
}

static vhdxlog_status check_table(table_view *t, vhdxlog_region_info *info,
                                  vhdxlog_error *error) {
  uint16_t idx[REGION_INDEX_LIMIT];
  uint8_t head[REGION_TABLE_HEADER_SIZE], e[REGION_ENTRY_SIZE];
  uint32_t count, i, duplicate;
  int bat = -1, metadata = -1, overlap;
  uint64_t length;

  table_read(t, 0, head, REGION_TABLE_HEADER_SIZE);
  if (!has_signature(head, "regi") ||
      table_checksum(t) != load_le32(head + REGION_CHECKSUM)) {
    return report(error, VHDXLOG_E_NO_VALID_REGION_TABLE, t->file_offset,
                  VHDXLOG_NO_INDEX);
  }
  count = load_le32(head + REGION_ENTRY_COUNT);
  if (count > VHDXLOG_REGION_MAX_ENTRIES) {
    return report(error, VHDXLOG_E_REGION_COUNT,
                  t->file_offset + REGION_ENTRY_COUNT, VHDXLOG_NO_INDEX);
  }
  t->count = count;
  /* Each rule over all entries before the next one (docs/RULES.md order). */
  for (i = 0; i < count; i++) {
    uint64_t off;
    uint32_t len;
    entry_bytes(t, (uint16_t)i, e);
    off = load_le64(e + REGION_ENTRY_FILE_OFFSET);
    len = load_le32(e + REGION_ENTRY_LENGTH);
    if (!is_mib_multiple(off) || off < VHDXLOG_MIB || !is_mib_multiple(len) ||
        off > VHDXLOG_MAX_FILE_OFFSET - len) {
      return report(error, VHDXLOG_E_REGION_ENTRY, entry_file_offset(t, i), i);
    }
    idx[i] = (uint16_t)i;
  }
  /* Sorted by GUID then index, the first repeat of a GUID follows its
   * first occurrence; report the smallest such index. */
  heapsort_indices(idx, count, compare_guid, t);
  duplicate = count;
  for (i = 1; i < count; i++) {
    uint8_t prev[REGION_ENTRY_SIZE];
    entry_bytes(t, idx[i - 1], prev);
    entry_bytes(t, idx[i], e);
    if (memcmp(prev, e, 16) == 0 && idx[i] < duplicate)
      duplicate = idx[i];
  }
  if (duplicate < count) {
    return report(error, VHDXLOG_E_REGION_DUPLICATE,
                  entry_file_offset(t, duplicate), duplicate);
  }
  for (i = 0; i < count; i++) {
    entry_bytes(t, (uint16_t)i, e);
    if (memcmp(e, bat_guid, 16) == 0) {
      bat = (int)i;
    } else if (memcmp(e, metadata_guid, 16) == 0) {
      metadata = (int)i;
    } else if (load_le32(e + REGION_ENTRY_FLAGS) & 1u) {
      /* 2.2.3.1: an unrecognised required region forbids opening. */
      return report(error, VHDXLOG_E_REGION_UNKNOWN_REQUIRED,
                    entry_file_offset(t, i), i);
    }
  }
  if (bat < 0 || metadata < 0) {
    return report(error, VHDXLOG_E_REGION_MISSING,
                  t->file_offset + REGION_ENTRY_COUNT, VHDXLOG_NO_INDEX);
  }
  for (i = 0; i < count; i++)
    idx[i] = (uint16_t)i;
  overlap = find_overlap(t, idx, count);
  if (overlap >= 0) {
    return report(error, VHDXLOG_E_REGION_OVERLAP,
                  entry_file_offset(t, (uint32_t)overlap), (uint32_t)overlap);
  }
  info->entry_count = count;
  span(t, (uint16_t)bat, &info->bat_offset, &length);
  info->bat_length = (uint32_t)length;
  span(t, (uint16_t)metadata, &info->metadata_offset, &length);
  info->metadata_length = (uint32_t)length;
  return VHDXLOG_OK;
}

/* The log must not overlap any region of the table in use (2.2.3). */
static vhdxlog_status check_log_overlap(table_view *t, vhdxlog_error *error) {
  uint16_t idx[REGION_INDEX_LIMIT];
  uint32_t i;
  if (t->log_length == 0)
    return VHDXLOG_OK;
  for (i = 0; i <= t->count; i++)
    idx[i] = (uint16_t)i;
  if (find_overlap(t, idx, (size_t)t->count + 1) >= 0) {
    return report(error, VHDXLOG_E_REGION_OVERLAP, t->log_offset,
                  VHDXLOG_NO_INDEX);
  }
  return VHDXLOG_OK;
}

VHDXLOG_INTERNAL vhdxlog_status
vhdxlog_region_judge(const uint8_t *header_area, const vhdxlog_log *log,
                     const vhdxlog_region_patch *patches, uint64_t log_offset,
                     uint64_t log_length, vhdxlog_region_info *info) {
  static const uint64_t table_offsets[2] = {VHDXLOG_REGION1_OFFSET,
                                            VHDXLOG_REGION2_OFFSET};
  vhdxlog_error table_error[2];
  vhdxlog_region_info tables[2];
  table_view views[2];
  int valid[2];
  int t;

  memset(info, 0, sizeof *info);
  for (t = 0; t < 2; t++) {
    memset(&tables[t], 0, sizeof tables[t]);
    memset(&views[t], 0, sizeof views[t]);
    clear_error(&table_error[t]);
    views[t].disk = header_area + table_offsets[t];
    views[t].log = log;
    views[t].patch = patches == NULL || log == NULL
                         ? NULL
                         : patches + (size_t)t * PATCHES_PER_TABLE;
    views[t].file_offset = table_offsets[t];
    views[t].log_offset = log_offset;
    views[t].log_length = log_length;
    valid[t] =
        check_table(&views[t], &tables[t], &table_error[t]) == VHDXLOG_OK;
  }
  /* Copy 1 is used when valid, else copy 2; if neither, copy 1's error. */
  if (!valid[0] && !valid[1]) {
    info->error = table_error[0];
    return info->error.status;
  }
  t = valid[0] ? 0 : 1;
  *info = tables[t];
  info->used = t;
  info->valid[0] = valid[0];
  info->valid[1] = valid[1];
  clear_error(&info->error);
  return check_log_overlap(&views[t], &info->error);
}

VHDXLOG_INTERNAL void vhdxlog_region_patch_write(vhdxlog_region_patch *patches,
                                                 uint64_t offset,
                                                 uint64_t length,
                                                 const vhdxlog_descriptor *d) {
  uint64_t begin =
      offset > VHDXLOG_REGION_AREA_BEGIN ? offset : VHDXLOG_REGION_AREA_BEGIN;
  uint64_t end = length > VHDXLOG_REGION_AREA_END ||
                         offset > VHDXLOG_REGION_AREA_END - length
                     ? VHDXLOG_REGION_AREA_END
                     : offset + length;
  uint64_t at;
  /* Log writes are 4 KiB aligned (entry rule 10), so they cover whole
   * sectors of the area. */
  for (at = begin; at < end; at += VHDXLOG_SECTOR_SIZE) {
    vhdxlog_region_patch *p =
        &patches[(at - VHDXLOG_REGION_AREA_BEGIN) / VHDXLOG_SECTOR_SIZE];
    if (d == NULL) {
      memset(p, 0, sizeof *p);
      p->kind = PATCH_ZERO;
    } else {
      p->kind = PATCH_DATA;
      memcpy(p->leading, d->leading, 8);
      memcpy(p->trailing, d->trailing, 4);
      p->data_offset = d->data_offset;
    }
  }
}
