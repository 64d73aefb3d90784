/* SPDX-License-Identifier: MIT */
/*
 * Where each field of the on-disk structures lives (MS-VHDX v1.00; the
 * digest is docs/FORMAT.md): byte offsets within their structure. The one
 * place the library names a raw offset; every decoder reads fields through
 * these names with the loads of bytes.h.
 */
#ifndef VHDXLOG_FORMAT_H
#define VHDXLOG_FORMAT_H

#include <stdint.h>

#include "vhdxlog.h"

/* Header, 4 KiB at 64 KiB and 128 KiB (2.2.2). */
#define HEADER_CHECKSUM 4u
#define HEADER_SEQUENCE_NUMBER 8u
#define HEADER_FILE_WRITE_GUID 16u
#define HEADER_DATA_WRITE_GUID 32u
#define HEADER_LOG_GUID 48u
#define HEADER_LOG_VERSION 64u
#define HEADER_VERSION 66u
#define HEADER_LOG_LENGTH 68u
#define HEADER_LOG_OFFSET 72u

/* File offset of header slot 0 or 1. */
static inline uint64_t header_slot_offset(int slot) {
  return slot == 0 ? (uint64_t)VHDXLOG_HEADER1_OFFSET
                   : (uint64_t)VHDXLOG_HEADER2_OFFSET;
}

/* Region table, 64 KiB at 192 KiB and 256 KiB (2.2.3): a 16-byte header,
 * then 32-byte entries. */
#define REGION_CHECKSUM 4u
#define REGION_ENTRY_COUNT 8u
#define REGION_TABLE_HEADER_SIZE 16u
#define REGION_ENTRY_SIZE 32u
#define REGION_ENTRY_GUID 0u
#define REGION_ENTRY_FILE_OFFSET 16u
#define REGION_ENTRY_LENGTH 24u
#define REGION_ENTRY_FLAGS 28u /* bit 0: Required */

/* Log entry header, the first 64 bytes of an entry (2.3.1.1). */
#define ENTRY_CHECKSUM 4u
#define ENTRY_LENGTH 8u
#define ENTRY_TAIL 12u
#define ENTRY_SEQUENCE_NUMBER 16u
#define ENTRY_DESCRIPTOR_COUNT 24u
#define ENTRY_RESERVED 28u
#define ENTRY_LOG_GUID 32u
#define ENTRY_FLUSHED_FILE_OFFSET 48u
#define ENTRY_LAST_FILE_OFFSET 56u
#define ENTRY_HEADER_SIZE 64u

/* Descriptors, 32 bytes each: 126 after the entry header, then 128 per
 * further descriptor sector (2.3.1.2, 2.3.1.3). A zero descriptor has
 * Reserved and ZeroLength where a data descriptor has its sector's
 * trailing 4 and leading 8 bytes. */
#define DESCRIPTOR_SIZE 32u
#define DESCRIPTORS_IN_FIRST_SECTOR 126u
#define DESCRIPTORS_PER_SECTOR 128u
#define DESCRIPTOR_TRAILING_BYTES 4u
#define DESCRIPTOR_LEADING_BYTES 8u
#define DESCRIPTOR_ZERO_RESERVED 4u
#define DESCRIPTOR_ZERO_LENGTH 8u
#define DESCRIPTOR_FILE_OFFSET 16u
#define DESCRIPTOR_SEQUENCE_NUMBER 24u

/* Data sector, 4 KiB (2.3.1.4): the sequence number split around 4084
 * bytes of data; the descriptor holds the sector's first 8 and last 4. */
#define DATA_SEQUENCE_HIGH 4u
#define DATA_BODY 8u
#define DATA_SEQUENCE_LOW 4092u

#endif
