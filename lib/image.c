/*
 * The first 1 MiB of a VHDX file: identifier, the two headers (MS-VHDX
 * 2.2.2) and the two region tables (2.2.3), plus the log location the
 * current header names. Rules and their order: docs/RULES.md "Image".
 */
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "heapsort.h"
#include "vhdxlog.h"

#define REGION_HEADER_SIZE 16u
#define REGION_ENTRY_SIZE 32u
#define REGION_INDEX_LIMIT (VHDXLOG_REGION_MAX_ENTRIES + 1u) /* + the log */

static const uint8_t bat_guid[16] = {0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6,
                                     0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E,
                                     0x9B, 0xFD, 0x4A, 0x08};
static const uint8_t metadata_guid[16] = {0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47,
                                          0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F,
                                          0x05, 0x0F, 0x88, 0x6E};

/* CRC-32C of a structure whose 4-byte checksum field at offset 4 counts as
 * zero (MS-VHDX 2.2.2, 2.2.3, 2.3.1). */
static uint32_t checksum_with_field_zeroed(const uint8_t *p, size_t size) {
  static const uint8_t zero[4] = {0, 0, 0, 0};
  uint32_t crc = vhdxlog_crc32c(0, p, 4);
  crc = vhdxlog_crc32c(crc, zero, 4);
  return vhdxlog_crc32c(crc, p + 8, size - 8);
}

static void decode_header(const uint8_t *h, vhdxlog_header_info *info) {
  info->checksum = load_le32(h + 4);
  info->valid =
      has_signature(h, "head") &&
      checksum_with_field_zeroed(h, VHDXLOG_HEADER_SIZE) == info->checksum;
  info->sequence_number = load_le64(h + 8);
  memcpy(info->file_write_guid, h + 16, 16);
  memcpy(info->data_write_guid, h + 32, 16);
  memcpy(info->log_guid, h + 48, 16);
  info->log_version = load_le16(h + 64);
  info->version = load_le16(h + 66);
  info->log_length = load_le32(h + 68);
  info->log_offset = load_le64(h + 72);
}

/* The current header (MS-VHDX 2.2.2.1): the only valid one, or the valid
 * one with the strictly greater SequenceNumber. Equal numbers are accepted
 * only when the two headers are byte-identical (QEMU's quirk for images of
 * one creator; no ambiguity then). */
static vhdxlog_status select_header(const uint8_t *data, vhdxlog_image *img,
                                    vhdxlog_error *error) {
  const vhdxlog_header_info *h = img->headers;
  if (!h[0].valid && !h[1].valid) {
    return report(error, VHDXLOG_E_NO_VALID_HEADER, VHDXLOG_HEADER1_OFFSET,
                  VHDXLOG_NO_INDEX);
  }
  if (h[0].valid && h[1].valid &&
      h[0].sequence_number == h[1].sequence_number) {
    if (memcmp(data + VHDXLOG_HEADER1_OFFSET, data + VHDXLOG_HEADER2_OFFSET,
               VHDXLOG_HEADER_SIZE) != 0) {
      return report(error, VHDXLOG_E_HEADER_SEQUENCE_TIE,
                    VHDXLOG_HEADER2_OFFSET, VHDXLOG_NO_INDEX);
    }
    img->headers_identical = 1;
    img->current = 0;
  } else if (!h[1].valid) {
    img->current = 0;
  } else if (!h[0].valid) {
    img->current = 1;
  } else {
    img->current = h[1].sequence_number > h[0].sequence_number ? 1 : 0;
  }
  return VHDXLOG_OK;
}

static int is_mib_multiple(uint64_t v) { return (v % VHDXLOG_MIB) == 0; }

static vhdxlog_status check_current_header(vhdxlog_image *img,
                                           vhdxlog_error *error) {
  const vhdxlog_header_info *h = &img->headers[img->current];
  uint64_t where =
      img->current == 0 ? VHDXLOG_HEADER1_OFFSET : VHDXLOG_HEADER2_OFFSET;
  int dirty = !is_zero_bytes(h->log_guid, 16);

  if (h->version != 1) {
    return report(error, VHDXLOG_E_HEADER_VERSION, where + 66,
                  VHDXLOG_NO_INDEX);
  }
  /* 2.2.2: a non-zero LogVersion forbids processing only a non-empty log. */
  if (dirty && h->log_version != 0) {
    return report(error, VHDXLOG_E_HEADER_LOG_VERSION, where + 64,
                  VHDXLOG_NO_INDEX);
  }
  if (!is_mib_multiple(h->log_offset) || h->log_offset < VHDXLOG_MIB ||
      !is_mib_multiple(h->log_length) ||
      h->log_offset > VHDXLOG_MAX_FILE_OFFSET - h->log_length ||
      (dirty && h->log_length == 0)) {
    return report(error, VHDXLOG_E_HEADER_LOG_LOCATION, where + 68,
                  VHDXLOG_NO_INDEX);
  }
  if (dirty && h->log_offset + h->log_length > img->file_size) {
    return report(error, VHDXLOG_E_LOG_BEYOND_FILE, h->log_offset,
                  VHDXLOG_NO_INDEX);
  }
  img->log_state = dirty ? VHDXLOG_LOG_DIRTY : VHDXLOG_LOG_CLEAN;
  img->log_offset = h->log_offset;
  img->log_length = h->log_length;
  memcpy(img->log_guid, h->log_guid, 16);
  return VHDXLOG_OK;
}

/* A region table being checked, for the sort comparators. */
typedef struct region_view {
  const uint8_t *table;
  uint32_t count; /* region entries; index `count` is the log */
  uint64_t log_offset;
  uint64_t log_length;
} region_view;

static const uint8_t *region_entry(const region_view *v, uint16_t i) {
  return v->table + REGION_HEADER_SIZE + (size_t)i * REGION_ENTRY_SIZE;
}

static uint64_t span_offset(const region_view *v, uint16_t i) {
  return i == v->count ? v->log_offset : load_le64(region_entry(v, i) + 16);
}

static uint64_t span_length(const region_view *v, uint16_t i) {
  return i == v->count ? v->log_length : load_le32(region_entry(v, i) + 24);
}

static int compare_guid(const void *ctx, uint16_t a, uint16_t b) {
  const region_view *v = (const region_view *)ctx;
  int c = memcmp(region_entry(v, a), region_entry(v, b), 16);
  return c != 0 ? c : (a < b ? -1 : (a > b ? 1 : 0));
}

static uint64_t entry_offset(uint64_t table_offset, uint32_t i) {
  return table_offset + REGION_HEADER_SIZE + (uint64_t)i * REGION_ENTRY_SIZE;
}

static int compare_offset(const void *ctx, uint16_t a, uint16_t b) {
  const region_view *v = (const region_view *)ctx;
  uint64_t x = span_offset(v, a);
  uint64_t y = span_offset(v, b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

/* Sorted by offset, a span overlaps an earlier one iff it starts before the
 * furthest end seen so far. Zero-length spans overlap nothing. Returns the
 * index of an overlapping span, or -1. */
static int find_overlap(const region_view *v, uint16_t *idx, size_t n) {
  uint64_t furthest_end = 0;
  size_t i;
  heapsort_indices(idx, n, compare_offset, v);
  for (i = 0; i < n; i++) {
    uint64_t off = span_offset(v, idx[i]);
    uint64_t len = span_length(v, idx[i]);
    if (len == 0) {
      continue;
    }
    if (off < furthest_end) {
      return idx[i];
    }
    furthest_end = off + len; /* no overflow: both checked <= 2^62 */
  }
  return -1;
}

static vhdxlog_status check_region_table(const uint8_t *table,
                                         uint64_t table_offset,
                                         vhdxlog_region_info *info,
                                         vhdxlog_error *error) {
  uint16_t idx[REGION_INDEX_LIMIT];
  region_view view;
  uint32_t count, i, duplicate;
  int bat = -1, metadata = -1, overlap;

  if (!has_signature(table, "regi") ||
      checksum_with_field_zeroed(table, VHDXLOG_REGION_TABLE_SIZE) !=
          load_le32(table + 4)) {
    return report(error, VHDXLOG_E_NO_VALID_REGION_TABLE, table_offset,
                  VHDXLOG_NO_INDEX);
  }
  count = load_le32(table + 8);
  if (count > VHDXLOG_REGION_MAX_ENTRIES) {
    return report(error, VHDXLOG_E_REGION_COUNT, table_offset + 8,
                  VHDXLOG_NO_INDEX);
  }
  view.table = table;
  view.count = count;
  view.log_offset = 0;
  view.log_length = 0;
  /* Each rule over all entries before the next one (docs/RULES.md order). */
  for (i = 0; i < count; i++) {
    const uint8_t *e = region_entry(&view, (uint16_t)i);
    uint64_t off = load_le64(e + 16);
    uint32_t len = load_le32(e + 24);
    if (!is_mib_multiple(off) || off < VHDXLOG_MIB || !is_mib_multiple(len) ||
        off > VHDXLOG_MAX_FILE_OFFSET - len) {
      return report(error, VHDXLOG_E_REGION_ENTRY,
                    entry_offset(table_offset, i), i);
    }
    idx[i] = (uint16_t)i;
  }
  /* Sorted by GUID then index, the first repeat of a GUID follows its
   * first occurrence; report the smallest such index. */
  heapsort_indices(idx, count, compare_guid, &view);
  duplicate = count;
  for (i = 1; i < count; i++) {
    if (memcmp(region_entry(&view, idx[i - 1]), region_entry(&view, idx[i]),
               16) == 0 &&
        idx[i] < duplicate) {
      duplicate = idx[i];
    }
  }
  if (duplicate < count) {
    return report(error, VHDXLOG_E_REGION_DUPLICATE,
                  entry_offset(table_offset, duplicate), duplicate);
  }
  for (i = 0; i < count; i++) {
    const uint8_t *e = region_entry(&view, (uint16_t)i);
    if (memcmp(e, bat_guid, 16) == 0) {
      bat = (int)i;
    } else if (memcmp(e, metadata_guid, 16) == 0) {
      metadata = (int)i;
    } else if (load_le32(e + 28) & 1u) {
      /* 2.2.3.1: an unrecognised required region forbids opening. */
      return report(error, VHDXLOG_E_REGION_UNKNOWN_REQUIRED,
                    entry_offset(table_offset, i), i);
    }
  }
  if (bat < 0 || metadata < 0) {
    return report(error, VHDXLOG_E_REGION_MISSING, table_offset + 8,
                  VHDXLOG_NO_INDEX);
  }
  for (i = 0; i < count; i++) {
    idx[i] = (uint16_t)i;
  }
  overlap = find_overlap(&view, idx, count);
  if (overlap >= 0) {
    return report(error, VHDXLOG_E_REGION_OVERLAP,
                  entry_offset(table_offset, (uint32_t)overlap),
                  (uint32_t)overlap);
  }
  info->entry_count = count;
  info->bat_offset = load_le64(region_entry(&view, (uint16_t)bat) + 16);
  info->bat_length = load_le32(region_entry(&view, (uint16_t)bat) + 24);
  info->metadata_offset =
      load_le64(region_entry(&view, (uint16_t)metadata) + 16);
  info->metadata_length =
      load_le32(region_entry(&view, (uint16_t)metadata) + 24);
  return VHDXLOG_OK;
}

/* The log must not overlap any region of the table in use (2.2.3). */
static vhdxlog_status check_log_overlap(const uint8_t *table,
                                        const vhdxlog_image *img,
                                        vhdxlog_error *error) {
  uint16_t idx[REGION_INDEX_LIMIT];
  region_view view;
  uint32_t i;
  int overlap;
  if (img->log_length == 0) {
    return VHDXLOG_OK;
  }
  view.table = table;
  view.count = img->regions.entry_count;
  view.log_offset = img->log_offset;
  view.log_length = img->log_length;
  for (i = 0; i <= view.count; i++) {
    idx[i] = (uint16_t)i;
  }
  overlap = find_overlap(&view, idx, (size_t)view.count + 1);
  if (overlap >= 0) {
    return report(error, VHDXLOG_E_REGION_OVERLAP, img->log_offset,
                  VHDXLOG_NO_INDEX);
  }
  return VHDXLOG_OK;
}

vhdxlog_status vhdxlog_image_parse(const uint8_t *data, size_t size,
                                   uint64_t file_size, vhdxlog_image *img,
                                   vhdxlog_error *error) {
  static const uint64_t table_offsets[2] = {VHDXLOG_REGION1_OFFSET,
                                            VHDXLOG_REGION2_OFFSET};
  vhdxlog_error table_error[2];
  vhdxlog_region_info tables[2];
  int valid[2];
  vhdxlog_status st;
  int t;

  clear_error(error);
  if (data == NULL || img == NULL) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  memset(img, 0, sizeof *img);
  img->file_size = file_size;
  if (file_size < VHDXLOG_HEADER_AREA_SIZE) {
    return report(error, VHDXLOG_E_FILE_TOO_SMALL, file_size, VHDXLOG_NO_INDEX);
  }
  if (size < VHDXLOG_HEADER_AREA_SIZE) {
    return report(error, VHDXLOG_E_ARGUMENT, size, VHDXLOG_NO_INDEX);
  }
  decode_header(data + VHDXLOG_HEADER1_OFFSET, &img->headers[0]);
  decode_header(data + VHDXLOG_HEADER2_OFFSET, &img->headers[1]);
  if (memcmp(data, "vhdxfile", 8) != 0) {
    return report(error, VHDXLOG_E_FILE_SIGNATURE, 0, VHDXLOG_NO_INDEX);
  }
  st = select_header(data, img, error);
  if (st != VHDXLOG_OK) {
    return st;
  }
  memcpy(img->current_header,
         data + (img->current == 0 ? VHDXLOG_HEADER1_OFFSET
                                   : VHDXLOG_HEADER2_OFFSET),
         VHDXLOG_HEADER_SIZE);
  memcpy(img->other_header,
         data + (img->current == 0 ? VHDXLOG_HEADER2_OFFSET
                                   : VHDXLOG_HEADER1_OFFSET),
         VHDXLOG_HEADER_SIZE);
  st = check_current_header(img, error);
  if (st != VHDXLOG_OK) {
    return st;
  }

  /* Copy 1 is used when valid, else copy 2; if neither, copy 1's error. */
  for (t = 0; t < 2; t++) {
    memset(&tables[t], 0, sizeof tables[t]);
    clear_error(&table_error[t]);
    valid[t] = check_region_table(data + table_offsets[t], table_offsets[t],
                                  &tables[t], &table_error[t]) == VHDXLOG_OK;
  }
  if (!valid[0] && !valid[1]) {
    if (error != NULL) {
      *error = table_error[0];
    }
    return table_error[0].status;
  }
  t = valid[0] ? 0 : 1;
  img->regions = tables[t];
  img->regions.used = t;
  img->regions.valid[0] = valid[0];
  img->regions.valid[1] = valid[1];
  return check_log_overlap(data + table_offsets[img->regions.used], img, error);
}
