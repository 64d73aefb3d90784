/* SPDX-License-Identifier: MIT */
/*
 * The first 1 MiB of a VHDX file: identifier, the two headers (MS-VHDX
 * 2.2.2) and the two region tables (2.2.3), plus the log location the
 * current header names. Rules and their order: docs/RULES.md "Image".
 */
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "format.h"
#include "region.h"
#include "vhdxlog.h"

/* CRC-32C of a structure whose 4-byte checksum field at offset 4 counts as
 * zero (MS-VHDX 2.2.2, 2.2.3, 2.3.1). */
static uint32_t checksum_with_field_zeroed(const uint8_t *p, size_t size) {
  static const uint8_t zero[4] = {0, 0, 0, 0};
  uint32_t crc = vhdxlog_crc32c(0, p, HEADER_CHECKSUM);
  crc = vhdxlog_crc32c(crc, zero, 4);
  return vhdxlog_crc32c(crc, p + HEADER_CHECKSUM + 4,
                        size - (HEADER_CHECKSUM + 4));
}

void vhdxlog_header_decode(const uint8_t header[VHDXLOG_HEADER_SIZE],
                           vhdxlog_header_info *info) {
  const uint8_t *h = header;
  info->checksum = load_le32(h + HEADER_CHECKSUM);
  info->valid =
      has_signature(h, "head") &&
      checksum_with_field_zeroed(h, VHDXLOG_HEADER_SIZE) == info->checksum;
  info->sequence_number = load_le64(h + HEADER_SEQUENCE_NUMBER);
  memcpy(info->file_write_guid, h + HEADER_FILE_WRITE_GUID, 16);
  memcpy(info->data_write_guid, h + HEADER_DATA_WRITE_GUID, 16);
  memcpy(info->log_guid, h + HEADER_LOG_GUID, 16);
  info->log_version = load_le16(h + HEADER_LOG_VERSION);
  info->version = load_le16(h + HEADER_VERSION);
  info->log_length = load_le32(h + HEADER_LOG_LENGTH);
  info->log_offset = load_le64(h + HEADER_LOG_OFFSET);
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

static vhdxlog_status check_current_header(vhdxlog_image *img,
                                           vhdxlog_error *error) {
  const vhdxlog_header_info *h = &img->headers[img->current];
  uint64_t where = header_slot_offset(img->current);
  int dirty = !is_zero_bytes(h->log_guid, 16);

  if (h->version != 1) {
    return report(error, VHDXLOG_E_HEADER_VERSION, where + HEADER_VERSION,
                  VHDXLOG_NO_INDEX);
  }
  /* 2.2.2: a non-zero LogVersion forbids processing only a non-empty log. */
  if (dirty && h->log_version != 0) {
    return report(error, VHDXLOG_E_HEADER_LOG_VERSION,
                  where + HEADER_LOG_VERSION, VHDXLOG_NO_INDEX);
  }
  if (!is_mib_multiple(h->log_offset) || h->log_offset < VHDXLOG_MIB ||
      !is_mib_multiple(h->log_length) ||
      h->log_offset > VHDXLOG_MAX_FILE_OFFSET - h->log_length ||
      (dirty && h->log_length == 0)) {
    return report(error, VHDXLOG_E_HEADER_LOG_LOCATION,
                  where + HEADER_LOG_LENGTH, VHDXLOG_NO_INDEX);
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

vhdxlog_status vhdxlog_image_parse(const uint8_t *data, size_t size,
                                   uint64_t file_size, vhdxlog_image *img,
                                   vhdxlog_error *error) {
  vhdxlog_status st;

  clear_error(error);
  if (data == NULL || img == NULL) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  memset(img, 0, sizeof *img);
  img->file_size = file_size;
  img->header_area = data;
  if (file_size < VHDXLOG_HEADER_AREA_SIZE) {
    return report(error, VHDXLOG_E_FILE_TOO_SMALL, file_size, VHDXLOG_NO_INDEX);
  }
  if (size < VHDXLOG_HEADER_AREA_SIZE) {
    return report(error, VHDXLOG_E_ARGUMENT, size, VHDXLOG_NO_INDEX);
  }
  vhdxlog_header_decode(data + VHDXLOG_HEADER1_OFFSET, &img->headers[0]);
  vhdxlog_header_decode(data + VHDXLOG_HEADER2_OFFSET, &img->headers[1]);
  if (memcmp(data, "vhdxfile", 8) != 0) {
    return report(error, VHDXLOG_E_FILE_SIGNATURE, 0, VHDXLOG_NO_INDEX);
  }
  st = select_header(data, img, error);
  if (st != VHDXLOG_OK) {
    return st;
  }
  memcpy(img->current_header, data + header_slot_offset(img->current),
         VHDXLOG_HEADER_SIZE);
  memcpy(img->other_header, data + header_slot_offset(1 - img->current),
         VHDXLOG_HEADER_SIZE);
  st = check_current_header(img, error);
  if (st != VHDXLOG_OK) {
    return st;
  }

  /* With a dirty log the tables are judged again on the replayed state
   * (the plan): the log may rewrite them (MS-VHDX 2.2.3), and a copy torn
   * while a replay wrote it is recovered from the log. */
  st = vhdxlog_region_judge(data, NULL, NULL, img->log_offset, img->log_length,
                            &img->regions);
  if (st != VHDXLOG_OK && img->log_state == VHDXLOG_LOG_CLEAN) {
    if (error != NULL)
      *error = img->regions.error;
    return st;
  }
  clear_error(error);
  return VHDXLOG_OK;
}
