/* SPDX-License-Identifier: MIT */
/* Image rules: RULES.md "Image", steps 1 to 6, in that order. */
#include <string.h>

#include "model_internal.h"

/* Region GUIDs in the stored (mixed-endian) byte order. */
static const uint8_t bat_guid[16] = {0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6,
                                     0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E,
                                     0x9B, 0xFD, 0x4A, 0x08};
static const uint8_t metadata_guid[16] = {0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47,
                                          0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F,
                                          0x05, 0x0F, 0x88, 0x6E};

uint64_t mdl_header_offset(int slot) {
  return slot == 0 ? VHDXLOG_HEADER1_OFFSET : VHDXLOG_HEADER2_OFFSET;
}

/* [a, a + la) and [b, b + lb) share a byte; empty ranges share nothing.
 * Callers guarantee a + la and b + lb do not overflow. */
static int ranges_overlap(uint64_t a, uint64_t la, uint64_t b, uint64_t lb) {
  if (la == 0 || lb == 0)
    return 0;
  return a < b + lb && b < a + la;
}

static const uint8_t *region_entry(const uint8_t *table, uint32_t i) {
  return table + 16 + 32 * (size_t)i;
}

/* One region table copy, rules in the order RULES.md lists them, each rule
 * checked over all entries before the next rule. */
static vhdxlog_status region_table_check(const uint8_t *t) {
  uint32_t count, i, j;
  int has_bat = 0, has_metadata = 0;

  if (memcmp(t, "regi", 4) != 0 ||
      mdl_crc_field_zeroed(t, VHDXLOG_REGION_TABLE_SIZE) != mdl_le32(t + 4))
    return VHDXLOG_E_NO_VALID_REGION_TABLE;
  count = mdl_le32(t + 8);
  if (count > VHDXLOG_REGION_MAX_ENTRIES)
    return VHDXLOG_E_REGION_COUNT;

  for (i = 0; i < count; i++) {
    const uint8_t *e = region_entry(t, i);
    uint64_t off = mdl_le64(e + 16);
    uint64_t len = mdl_le32(e + 24);
    if (off % MDL_MIB != 0 || off < MDL_MIB || len % MDL_MIB != 0 ||
        off > MDL_MAX || len > MDL_MAX - off)
      return VHDXLOG_E_REGION_ENTRY;
  }
  for (i = 0; i < count; i++)
    for (j = i + 1; j < count; j++)
      if (memcmp(region_entry(t, i), region_entry(t, j), 16) == 0)
        return VHDXLOG_E_REGION_DUPLICATE;
  for (i = 0; i < count; i++) {
    const uint8_t *e = region_entry(t, i);
    int is_bat = memcmp(e, bat_guid, 16) == 0;
    int is_metadata = memcmp(e, metadata_guid, 16) == 0;
    has_bat |= is_bat;
    has_metadata |= is_metadata;
    if (!is_bat && !is_metadata && (mdl_le32(e + 28) & 1u) != 0)
      return VHDXLOG_E_REGION_UNKNOWN_REQUIRED;
  }
  if (!has_bat || !has_metadata)
    return VHDXLOG_E_REGION_MISSING;
  for (i = 0; i < count; i++)
    for (j = i + 1; j < count; j++) {
      const uint8_t *a = region_entry(t, i), *b = region_entry(t, j);
      if (ranges_overlap(mdl_le64(a + 16), mdl_le32(a + 24), mdl_le64(b + 16),
                         mdl_le32(b + 24)))
        return VHDXLOG_E_REGION_OVERLAP;
    }
  return VHDXLOG_OK;
}

static int header_valid(const uint8_t *h) {
  return memcmp(h, "head", 4) == 0 &&
         mdl_crc_field_zeroed(h, VHDXLOG_HEADER_SIZE) == mdl_le32(h + 4);
}

vhdxlog_status mdl_image_check(const uint8_t *img, uint64_t size,
                               mdl_image *out) {
  const uint8_t *h[2];
  const uint8_t *cur;
  uint16_t log_version, version;

  memset(out, 0, sizeof *out);

  /* 1. Size and identifier. */
  if (size < VHDXLOG_HEADER_AREA_SIZE)
    return VHDXLOG_E_FILE_TOO_SMALL;
  if (memcmp(img, "vhdxfile", 8) != 0)
    return VHDXLOG_E_FILE_SIGNATURE;

  /* 2. Headers and the current one. */
  h[0] = img + VHDXLOG_HEADER1_OFFSET;
  h[1] = img + VHDXLOG_HEADER2_OFFSET;
  out->valid[0] = header_valid(h[0]);
  out->valid[1] = header_valid(h[1]);
  if (!out->valid[0] && !out->valid[1])
    return VHDXLOG_E_NO_VALID_HEADER;
  if (out->valid[0] && out->valid[1]) {
    uint64_t s0 = mdl_le64(h[0] + 8), s1 = mdl_le64(h[1] + 8);
    if (s0 > s1)
      out->current = 0;
    else if (s1 > s0)
      out->current = 1;
    else if (memcmp(h[0], h[1], VHDXLOG_HEADER_SIZE) == 0)
      out->current = 0; /* QEMU's quirk: identical copies, header 1 */
    else
      return VHDXLOG_E_HEADER_SEQUENCE_TIE;
  } else {
    out->current = out->valid[0] ? 0 : 1;
  }
  cur = h[out->current];

  /* 3. Fields of the current header. */
  log_version = mdl_le16(cur + 64);
  version = mdl_le16(cur + 66);
  out->log_length = mdl_le32(cur + 68);
  out->log_offset = mdl_le64(cur + 72);
  memcpy(out->log_guid, cur + 48, 16);
  out->dirty = !mdl_is_zero(out->log_guid, 16);
  if (version != 1)
    return VHDXLOG_E_HEADER_VERSION;
  if (log_version != 0 && out->dirty)
    return VHDXLOG_E_HEADER_LOG_VERSION;
  if (out->log_offset % MDL_MIB != 0 || out->log_offset < MDL_MIB ||
      out->log_length % MDL_MIB != 0 || out->log_offset > MDL_MAX ||
      out->log_length > MDL_MAX - out->log_offset)
    return VHDXLOG_E_HEADER_LOG_LOCATION;
  if (out->dirty) {
    if (out->log_length == 0)
      return VHDXLOG_E_HEADER_LOG_LOCATION;
    if (out->log_offset + out->log_length > size)
      return VHDXLOG_E_LOG_BEYOND_FILE;
  }

  /* 4, 5; with a dirty log the plan judges them on the replayed state. */
  out->regions = mdl_regions_check(img, out->log_offset, out->log_length);
  if (out->regions != VHDXLOG_OK && !out->dirty)
    return out->regions;

  /* 6. Clean or dirty: out->dirty. */
  return VHDXLOG_OK;
}

vhdxlog_status mdl_regions_check(const uint8_t *area, uint64_t log_offset,
                                 uint32_t log_length) {
  const uint8_t *table;
  vhdxlog_status st;
  uint32_t count, i;

  /* 4. Region table: copy 1 if valid, else copy 2, else copy 1's error. */
  table = area + VHDXLOG_REGION1_OFFSET;
  st = region_table_check(table);
  if (st != VHDXLOG_OK) {
    table = area + VHDXLOG_REGION2_OFFSET;
    if (region_table_check(table) != VHDXLOG_OK)
      return st;
  }
  /* 5. The log against the regions of the copy in use. */
  if (log_length > 0) {
    count = mdl_le32(table + 8);
    for (i = 0; i < count; i++) {
      const uint8_t *e = region_entry(table, i);
      if (ranges_overlap(log_offset, log_length, mdl_le64(e + 16),
                         mdl_le32(e + 24)))
        return VHDXLOG_E_REGION_OVERLAP;
    }
  }
  return VHDXLOG_OK;
}
