/* SPDX-License-Identifier: MIT */
/*
 * vhdxlog: parse, validate, search and replay the metadata log of VHDX files
 * (MS-VHDX v1.00, log version 0).
 *
 * The library allocates nothing, performs no I/O of its own (replay goes
 * through caller callbacks), keeps no global mutable state and runs in time
 * linear in its input. Every byte it is given is treated as hostile.
 *
 * Typical use:
 *   1. Read the first VHDXLOG_HEADER_AREA_SIZE bytes of the file and call
 *      vhdxlog_image_parse() -> headers, region table, log location.
 *   2. If image.log_state == VHDXLOG_LOG_DIRTY, read image.log_length bytes at
 *      image.log_offset and call vhdxlog_log_init(). Then, dirty or clean,
 *      vhdxlog_plan_init() (which runs vhdxlog_log_search()): plan.action
 *      says what a replay will do, and why.
 *   3. Replay with vhdxlog_replay(), or read the replayed state without
 *      writing with vhdxlog_overlay_read().
 */
#ifndef VHDXLOG_H
#define VHDXLOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VHDXLOG_VERSION_MAJOR 0
#define VHDXLOG_VERSION_MINOR 3
#define VHDXLOG_VERSION_PATCH 0
#define VHDXLOG_VERSION_STRING "0.3.0"
#define VHDXLOG_VERSION_NUMBER                                                 \
  (VHDXLOG_VERSION_MAJOR * 10000 + VHDXLOG_VERSION_MINOR * 100 +               \
   VHDXLOG_VERSION_PATCH)

/* Fixed sizes of the format (MS-VHDX 2.2, 2.3). */
#define VHDXLOG_SECTOR_SIZE 4096u
#define VHDXLOG_MIB 1048576u
#define VHDXLOG_HEADER_AREA_SIZE                                               \
  VHDXLOG_MIB /* identifier, headers, regions                                  \
               */
#define VHDXLOG_HEADER1_OFFSET 65536u
#define VHDXLOG_HEADER2_OFFSET 131072u
#define VHDXLOG_HEADER_SIZE 4096u
#define VHDXLOG_REGION1_OFFSET 196608u
#define VHDXLOG_REGION2_OFFSET 262144u
#define VHDXLOG_REGION_TABLE_SIZE 65536u
#define VHDXLOG_REGION_MAX_ENTRIES 2047u
#define VHDXLOG_GUID_SIZE 16u
/* The region tables, the only part of the first 1 MiB a log may write
 * (MS-VHDX 2.2.3: region-table updates go through the log). */
#define VHDXLOG_REGION_AREA_BEGIN VHDXLOG_REGION1_OFFSET
#define VHDXLOG_REGION_AREA_END                                                \
  (VHDXLOG_REGION2_OFFSET + VHDXLOG_REGION_TABLE_SIZE)
/*
 * Our own bound (not in the spec): every file offset a replay writes, and
 * every file size it sets, must be at most 2^62. Any real VHDX is far
 * smaller (virtual disks stop at 64 TiB); the bound keeps offset + length
 * arithmetic free of overflow and every offset representable as an off_t.
 * Entries are judged by the spec's rules alone; the bound applies to the
 * chosen sequence, in the plan (VHDXLOG_E_OFFSET_LIMIT), so it can never
 * make the search pick another sequence.
 */
#define VHDXLOG_MAX_FILE_OFFSET (((uint64_t)1) << 62)

/*
 * Every status, once: X(name, value, offset kind, index kind, text).
 * Each error names one rule of the format (docs/RULES.md); the
 * vhdxlog_error that comes with it says where: error.offset is what the
 * offset kind says (a file offset, a log offset of the entry, or the file's
 * size) and error.index counts what the index kind says. Values are stable
 * (unit/test_status.c pins them). Groups: 1-3 the caller's side, 20-34 the
 * header area (VHDXLOG_E_REGION_* judged on the replayed state when the log
 * is dirty), 40-57 entry rules in the order they are checked, 70-74 the log
 * as a whole and the plan (VHDXLOG_E_LOG_NO_SEQUENCE: error.cause is the
 * rule the most recent candidate broke; VHDXLOG_E_OFFSET_LIMIT: error.cause
 * is the field's rule), 90 the iterator's end (not an error).
 * VHDXLOG_E_RESOURCE is never returned by the library itself (io/ uses it).
 */
#define VHDXLOG_STATUS_LIST(X)                                                 \
  X(VHDXLOG_OK, 0, NONE, NONE, "ok")                                           \
  X(VHDXLOG_E_ARGUMENT, 1, NONE, NONE, "invalid argument")                     \
  X(VHDXLOG_E_IO, 2, NONE, NONE, "I/O callback failed")                        \
  X(VHDXLOG_E_RESOURCE, 3, NONE, NONE,                                         \
    "could not allocate or map the memory the image needs")                    \
  X(VHDXLOG_E_FILE_TOO_SMALL, 20, FILE_SIZE, NONE,                             \
    "file smaller than the 1 MiB header area")                                 \
  X(VHDXLOG_E_FILE_SIGNATURE, 21, FILE, NONE,                                  \
    "file identifier is not \"vhdxfile\"")                                     \
  X(VHDXLOG_E_NO_VALID_HEADER, 22, FILE, NONE,                                 \
    "no header has a valid signature and checksum")                            \
  X(VHDXLOG_E_HEADER_SEQUENCE_TIE, 23, FILE, NONE,                             \
    "both headers valid with equal sequence numbers but different contents")   \
  X(VHDXLOG_E_HEADER_VERSION, 24, FILE, NONE, "header Version is not 1")       \
  X(VHDXLOG_E_HEADER_LOG_VERSION, 25, FILE, NONE,                              \
    "header LogVersion is not 0 while the log is not empty")                   \
  X(VHDXLOG_E_HEADER_LOG_LOCATION, 26, FILE, NONE,                             \
    "header LogOffset/LogLength misaligned or out of range")                   \
  X(VHDXLOG_E_LOG_BEYOND_FILE, 27, FILE, NONE,                                 \
    "log region extends past the end of the file")                             \
  X(VHDXLOG_E_NO_VALID_REGION_TABLE, 28, FILE, NONE,                           \
    "no region table has a valid signature and checksum")                      \
  X(VHDXLOG_E_REGION_COUNT, 29, FILE, REGION_ENTRY,                            \
    "region table EntryCount exceeds 2047")                                    \
  X(VHDXLOG_E_REGION_ENTRY, 30, FILE, REGION_ENTRY,                            \
    "region FileOffset/Length misaligned or out of range")                     \
  X(VHDXLOG_E_REGION_DUPLICATE, 31, FILE, REGION_ENTRY,                        \
    "region GUID appears twice")                                               \
  X(VHDXLOG_E_REGION_UNKNOWN_REQUIRED, 32, FILE, REGION_ENTRY,                 \
    "unknown region marked required")                                          \
  X(VHDXLOG_E_REGION_MISSING, 33, FILE, REGION_ENTRY,                          \
    "BAT or metadata region missing")                                          \
  X(VHDXLOG_E_REGION_OVERLAP, 34, FILE, REGION_ENTRY,                          \
    "regions or log overlap")                                                  \
  X(VHDXLOG_E_ENTRY_SIGNATURE, 40, LOG, NONE,                                  \
    "entry signature is not \"loge\"")                                         \
  X(VHDXLOG_E_ENTRY_LENGTH, 41, LOG, NONE,                                     \
    "EntryLength is zero, not a multiple of 4 KiB, or longer than the log")    \
  X(VHDXLOG_E_ENTRY_TAIL, 42, LOG, NONE,                                       \
    "Tail is not a 4 KiB multiple inside the log, or not in the sequence")     \
  X(VHDXLOG_E_ENTRY_SEQUENCE_ZERO, 43, LOG, NONE,                              \
    "entry SequenceNumber is zero")                                            \
  X(VHDXLOG_E_ENTRY_RESERVED, 44, LOG, NONE,                                   \
    "entry Reserved field is not zero")                                        \
  X(VHDXLOG_E_ENTRY_GUID, 45, LOG, NONE,                                       \
    "entry LogGuid differs from the header's")                                 \
  X(VHDXLOG_E_ENTRY_FLUSHED_OFFSET, 46, LOG, NONE,                             \
    "FlushedFileOffset is not a 1 MiB multiple")                               \
  X(VHDXLOG_E_ENTRY_LAST_OFFSET, 47, LOG, NONE,                                \
    "LastFileOffset is not a 1 MiB multiple")                                  \
  X(VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT, 48, LOG, NONE,                           \
    "DescriptorCount needs more sectors than the entry has")                   \
  X(VHDXLOG_E_DESCRIPTOR_SIGNATURE, 49, LOG, DESCRIPTOR,                       \
    "descriptor signature is neither \"zero\" nor \"desc\"")                   \
  X(VHDXLOG_E_DESCRIPTOR_RESERVED, 50, LOG, DESCRIPTOR,                        \
    "zero descriptor Reserved field is not zero")                              \
  X(VHDXLOG_E_DESCRIPTOR_LENGTH, 51, LOG, DESCRIPTOR,                          \
    "zero descriptor ZeroLength is not a multiple of 4 KiB")                   \
  X(VHDXLOG_E_DESCRIPTOR_OFFSET, 52, LOG, DESCRIPTOR,                          \
    "descriptor FileOffset is not a multiple of 4 KiB")                        \
  X(VHDXLOG_E_DESCRIPTOR_SEQUENCE, 53, LOG, DESCRIPTOR,                        \
    "descriptor SequenceNumber differs from the entry's")                      \
  X(VHDXLOG_E_DATA_COUNT, 54, LOG, NONE,                                       \
    "number of data sectors differs from the number of data descriptors")      \
  X(VHDXLOG_E_DATA_SIGNATURE, 55, LOG, DATA_SECTOR,                            \
    "data sector signature is not \"data\"")                                   \
  X(VHDXLOG_E_DATA_SEQUENCE, 56, LOG, DATA_SECTOR,                             \
    "data sector SequenceHigh/Low differ from the entry's")                    \
  X(VHDXLOG_E_ENTRY_CHECKSUM, 57, LOG, NONE, "entry checksum mismatch")        \
  X(VHDXLOG_E_LOG_NO_SEQUENCE, 70, LOG, NONE,                                  \
    "log is not empty but holds no complete sequence")                         \
  X(VHDXLOG_E_DESCRIPTOR_TARGET, 71, LOG, DESCRIPTOR,                          \
    "descriptor would write into the identifier, the headers or the reserved " \
    "space of the first 1 MiB, or into the log")                               \
  X(VHDXLOG_E_FILE_TRUNCATED, 72, FILE_SIZE, NONE,                             \
    "file is smaller than the log's FlushedFileOffset")                        \
  X(VHDXLOG_E_HEADER_SEQUENCE_LIMIT, 73, FILE, NONE,                           \
    "header SequenceNumber too large for the header updates a replay needs")   \
  X(VHDXLOG_E_OFFSET_LIMIT, 74, LOG, DESCRIPTOR,                               \
    "the active sequence writes or sizes the file past 2^62, this "            \
    "implementation's limit")                                                  \
  X(VHDXLOG_END, 90, NONE, NONE, "end of iteration")

typedef enum vhdxlog_status {
#define VHDXLOG_STATUS_ENUM_(name, value, offset_kind, index_kind, text)       \
  name = (value),
  VHDXLOG_STATUS_LIST(VHDXLOG_STATUS_ENUM_)
#undef VHDXLOG_STATUS_ENUM_
} vhdxlog_status;

/* What error.offset and error.index of a status are. */
typedef enum vhdxlog_offset_kind {
  VHDXLOG_OFFSET_NONE = 0,
  VHDXLOG_OFFSET_FILE = 1,     /* a file offset */
  VHDXLOG_OFFSET_LOG = 2,      /* a log offset: the entry's first sector */
  VHDXLOG_OFFSET_FILE_SIZE = 3 /* the file's size */
} vhdxlog_offset_kind;
typedef enum vhdxlog_index_kind {
  VHDXLOG_INDEX_NONE = 0,
  VHDXLOG_INDEX_DESCRIPTOR = 1,  /* descriptor index within its entry */
  VHDXLOG_INDEX_DATA_SECTOR = 2, /* data sector index within its entry */
  VHDXLOG_INDEX_REGION_ENTRY = 3 /* region table entry index */
} vhdxlog_index_kind;

/* Where a check failed. */
typedef struct vhdxlog_error {
  vhdxlog_status status; /* the rule that failed */
  vhdxlog_status cause;  /* for VHDXLOG_E_LOG_NO_SEQUENCE: the failed rule of
                            the most recent candidate (VHDXLOG_E_ENTRY_TAIL
                            for a run that was not complete), or
                            VHDXLOG_E_LOG_NO_SEQUENCE when the log holds no
                            candidate at all; else equal to status */
  uint64_t offset;       /* file offset for image rules, log offset of the
                            entry for entry/log rules */
  uint32_t index;        /* descriptor, data sector or region entry index;
                            VHDXLOG_NO_INDEX when not relevant */
} vhdxlog_error;
#define VHDXLOG_NO_INDEX 0xFFFFFFFFu

/* Short stable description of a status ("entry checksum mismatch"). */
const char *vhdxlog_status_string(vhdxlog_status status);
/* Stable symbolic name of a status ("VHDXLOG_E_ENTRY_CHECKSUM"). */
const char *vhdxlog_status_name(vhdxlog_status status);
/* What error.offset and error.index of `status` are (NONE for an unknown
 * status). */
vhdxlog_offset_kind vhdxlog_status_offset_kind(vhdxlog_status status);
vhdxlog_index_kind vhdxlog_status_index_kind(vhdxlog_status status);

/* CRC-32C (Castagnoli). Start with crc = 0, chain by passing the result. */
uint32_t vhdxlog_crc32c(uint32_t crc, const void *data, size_t size);

/* ------------------------------------------------------------------------ */
/* Image: identifier, headers, region table, log location.                  */

typedef enum vhdxlog_log_state {
  VHDXLOG_LOG_CLEAN = 0, /* LogGuid zero: nothing to replay */
  VHDXLOG_LOG_DIRTY = 1  /* LogGuid set: the log must be searched/replayed */
} vhdxlog_log_state;

typedef struct vhdxlog_header_info {
  int valid; /* signature and checksum match */
  uint32_t checksum;
  uint64_t sequence_number;
  uint8_t file_write_guid[16];
  uint8_t data_write_guid[16];
  uint8_t log_guid[16];
  uint16_t log_version;
  uint16_t version;
  uint32_t log_length;
  uint64_t log_offset;
} vhdxlog_header_info;

typedef struct vhdxlog_region_info {
  vhdxlog_error error; /* status OK when a copy is usable; else what is
                          wrong (copy 1's failure, or the log overlap) */
  uint64_t bat_offset;
  uint64_t metadata_offset;
  int valid[2]; /* checksum/signature/rules of each copy */
  int used;     /* 0 or 1: which copy the fields below come from */
  uint32_t entry_count;
  uint32_t bat_length;
  uint32_t metadata_length;
} vhdxlog_region_info;

typedef struct vhdxlog_image {
  uint64_t file_size;
  vhdxlog_header_info headers[2]; /* header 1 at 64 KiB, header 2 at 128 KiB */
  int current;                    /* 0 or 1: index of the current header */
  int headers_identical;          /* equal-number tie accepted (QEMU quirk) */
  uint8_t current_header[VHDXLOG_HEADER_SIZE]; /* raw copy, for updates */
  /* The region tables as on disk. With a dirty log they are judged again
   * on the replayed state (vhdxlog_plan.regions): a torn copy may be
   * repaired by the log, so their errors do not fail the parse then. */
  vhdxlog_region_info regions;
  vhdxlog_log_state log_state;
  uint64_t log_offset; /* from the current header */
  uint32_t log_length;
  uint8_t log_guid[16];
  /* Raw copy of the other (non-current) header slot, valid or not: the
   * plan states the final bytes of both slots, and for a clean image the
   * other slot keeps what it holds. */
  uint8_t other_header[VHDXLOG_HEADER_SIZE];
  /* The bytes given to vhdxlog_image_parse(), by reference: for a dirty
   * log the plan reads the region tables there, so they must outlive it. */
  const uint8_t *header_area;
} vhdxlog_image;

/* The fields of one 4 KiB header as stored; info->valid: its signature and
 * checksum match. For displays of header bytes (e.g. a planned update). */
void vhdxlog_header_decode(const uint8_t header[VHDXLOG_HEADER_SIZE],
                           vhdxlog_header_info *info);

/*
 * Parse the first `size` bytes of a file whose total size is `file_size`.
 * `size` must be >= VHDXLOG_HEADER_AREA_SIZE (only that much is read).
 * On success fills *image. On failure fills *error (offset = file offset;
 * for VHDXLOG_E_FILE_TOO_SMALL it is the file size). Fields of *image are
 * filled as far as parsing got: file_size always, headers[] whenever the
 * file is at least 1 MiB. With a dirty log, region-table errors are kept
 * in image->regions.error and judged again by the plan on the replayed
 * state (MS-VHDX 2.3.3: nothing but the header and the log is read before
 * replay). `data` is kept by reference (image->header_area).
 */
vhdxlog_status vhdxlog_image_parse(const uint8_t *data, size_t size,
                                   uint64_t file_size, vhdxlog_image *image,
                                   vhdxlog_error *error);

/* ------------------------------------------------------------------------ */
/* Log: entries and the active sequence.                                    */

/* One valid entry, as vhdxlog_log_entry() reports it. */
typedef struct vhdxlog_entry {
  uint32_t offset; /* log offset of its first sector */
  uint32_t length; /* EntryLength */
  uint32_t tail;
  uint64_t sequence_number;
  uint32_t descriptor_count;
  uint32_t data_count; /* data descriptors == data sectors */
  uint32_t zero_count; /* zero descriptors */
  uint64_t flushed_file_offset;
  uint64_t last_file_offset;
} vhdxlog_entry;

/* The active sequence: the entries from tail to head, in log order. */
typedef struct vhdxlog_sequence {
  uint32_t tail_offset; /* first entry replayed (the head's Tail) */
  uint32_t head_offset; /* last entry replayed */
  uint32_t entry_count;
  uint32_t length; /* bytes from tail start to head end (<= log) */
  uint64_t tail_sequence_number;
  uint64_t head_sequence_number;
  uint64_t flushed_file_offset; /* the head's */
  uint64_t last_file_offset;    /* the head's */
  uint64_t descriptor_count;    /* over all entries */
  uint64_t max_write_end;       /* end of the furthest write (0: none;
                                   UINT64_MAX when a write's end does not
                                   fit in 64 bits) */
} vhdxlog_sequence;

/*
 * Context for a log held in memory: the log bytes and the header's LogGuid.
 * The caller owns it; the log must outlive it and stay unchanged. Fields
 * are private; use the functions below.
 *
 * No scratch memory is needed for linear time: checks run cheapest first
 * and the checksum last, so a candidate entry reads past its first sector
 * only through sectors that cannot start an entry ("desc", "zero" and
 * "data" sectors), and a checksum is computed only over an entry whose
 * other sectors start no entry. Every sector is thus read by at most one
 * candidate besides its own, whatever lengths hostile entries claim.
 */
typedef struct vhdxlog_log {
  const uint8_t *log;
  uint32_t length;
  uint32_t sectors;
  uint8_t guid[16];
} vhdxlog_log;

/* Bind a context to `log` (log_length bytes, a positive multiple of 4 KiB
 * below 4 GiB) and the header's LogGuid. O(1). */
vhdxlog_status vhdxlog_log_init(vhdxlog_log *ctx, const uint8_t *log,
                                size_t log_length, const uint8_t guid[16]);

/* Validate the entry starting at log offset `offset` (every rule of
 * MS-VHDX 2.3.1). VHDXLOG_OK and *entry filled, or the first rule broken;
 * then, if the sector starts with "loge", *entry holds its header's fields
 * as stored (unchecked; data_count and zero_count 0), for displays of
 * failed candidates, else *entry is all zero. */
vhdxlog_status vhdxlog_log_entry(const vhdxlog_log *ctx, uint32_t offset,
                                 vhdxlog_entry *entry, vhdxlog_error *error);

/*
 * Find the active sequence (MS-VHDX 2.3.3). VHDXLOG_OK: *seq filled.
 * VHDXLOG_E_LOG_NO_SEQUENCE: no complete sequence (the spec calls the file
 * corrupt; error names the most recent failed candidate). Time linear in
 * the log length on any input.
 */
vhdxlog_status vhdxlog_log_search(const vhdxlog_log *ctx, vhdxlog_sequence *seq,
                                  vhdxlog_error *error);

/* ------------------------------------------------------------------------ */
/* Descriptors of the active sequence, in replay order.                     */

typedef enum vhdxlog_descriptor_kind {
  VHDXLOG_DESCRIPTOR_ZERO = 1,
  VHDXLOG_DESCRIPTOR_DATA = 2
} vhdxlog_descriptor_kind;

typedef struct vhdxlog_descriptor {
  vhdxlog_descriptor_kind kind;
  uint64_t file_offset;
  uint64_t length;       /* 4096 for data, ZeroLength for zero */
  uint32_t entry_offset; /* log offset of its entry */
  uint32_t index;        /* index within its entry */
  uint32_t data_offset;  /* data: log offset of its data sector */
  uint64_t sequence_number;
  uint8_t leading[8];  /* data: LeadingBytes as stored */
  uint8_t trailing[4]; /* data: TrailingBytes as stored */
} vhdxlog_descriptor;

typedef struct vhdxlog_iter {
  const vhdxlog_log *ctx;
  uint32_t entry_offset; /* current entry */
  uint32_t entries_left; /* entries not yet started */
  uint32_t index;        /* next descriptor index in the current entry */
  uint32_t count;        /* descriptors in the current entry */
  uint32_t data_seen;    /* data descriptors seen in the current entry */
  uint32_t desc_sectors; /* descriptor sectors of the current entry */
  uint32_t entry_length;
  uint64_t sequence_number; /* of the current entry */
  int started;
} vhdxlog_iter;

/* Start iterating over a sequence vhdxlog_log_search() returned. */
vhdxlog_status vhdxlog_iter_init(vhdxlog_iter *it, const vhdxlog_log *ctx,
                                 const vhdxlog_sequence *seq);
/* VHDXLOG_OK with *d filled, VHDXLOG_END after the last, or an error if the
 * log does not hold what the sequence promised. Each entry is re-validated
 * when reached: O(entry length), the cost of reading its descriptors. */
vhdxlog_status vhdxlog_iter_next(vhdxlog_iter *it, vhdxlog_descriptor *d);
/* The 4 KiB a data descriptor writes: leading + data + trailing. */
void vhdxlog_descriptor_sector(const vhdxlog_log *ctx,
                               const vhdxlog_descriptor *d,
                               uint8_t out[VHDXLOG_SECTOR_SIZE]);

/* ------------------------------------------------------------------------ */
/* Replay.                                                                  */

/* I/O callbacks; each returns 0 on success, non-zero on failure. */
typedef struct vhdxlog_io {
  void *ctx;
  int (*read)(void *ctx, uint64_t offset, void *buf, size_t size);
  int (*write)(void *ctx, uint64_t offset, const void *buf, size_t size);
  /* Write `size` zero bytes (may punch holes or extend the file). */
  int (*write_zeros)(void *ctx, uint64_t offset, uint64_t size);
  int (*get_size)(void *ctx, uint64_t *size);
  int (*set_size)(void *ctx, uint64_t size); /* only ever grows the file */
  int (*flush)(void *ctx);
} vhdxlog_io;

/*
 * What a replay does with an image (docs/RULES.md "Plan").
 */
typedef enum vhdxlog_action {
  VHDXLOG_ACTION_NONE = 0,           /* clean: nothing to write */
  VHDXLOG_ACTION_REPLAY = 1,         /* apply the active sequence, clear */
  VHDXLOG_ACTION_COMPLETE_CLEAR = 2, /* clean, but our own interrupted clear
                                        left the other header stale */
  VHDXLOG_ACTION_CLEAR_ARMED = 3     /* LogGuid set, no complete sequence,
                                        as a power cut between arming the log
                                        and a durable entry leaves it: clear
                                        the log, write no data */
} vhdxlog_action;

/*
 * How to treat an armed log: LogGuid set but no complete sequence
 * (docs/RULES.md "Armed logs"). MS-VHDX 2.3.3 calls it corrupt, yet its own
 * write order (2.2.2, 2.3) leaves it after every power cut between setting
 * a new LogGuid and flushing an entry, and guarantees that nothing of that
 * GUID was written in place.
 */
typedef enum vhdxlog_policy {
  VHDXLOG_POLICY_DEFAULT = 0,    /* clear it when the log shows what a power
                                    cut leaves (VHDXLOG_ARMED_EMPTY or
                                    VHDXLOG_ARMED_TORN), else refuse */
  VHDXLOG_POLICY_STRICT = 1,     /* refuse every armed log (the spec's
                                    letter): VHDXLOG_E_LOG_NO_SEQUENCE */
  VHDXLOG_POLICY_FORCE_CLEAR = 2 /* clear every armed log, damaged too */
} vhdxlog_policy;

/* What the entries carrying the header's LogGuid show, when there is no
 * complete sequence. A "candidate" is a sector that starts with "loge" and
 * holds the LogGuid at bytes 32..47. */
typedef enum vhdxlog_armed_kind {
  VHDXLOG_ARMED_NOT = 0,   /* the log is clean or holds a sequence */
  VHDXLOG_ARMED_EMPTY = 1, /* no candidate: cut before the entry's write */
  VHDXLOG_ARMED_TORN = 2,  /* every candidate is torn: sane header fields,
                              and a checksum that does not match (some of
                              its sectors still hold older bytes) */
  VHDXLOG_ARMED_DAMAGED_HEADER = 3,   /* a candidate's header fields are ones
                                         no correct writer writes */
  VHDXLOG_ARMED_DAMAGED_CHECKSUM = 4, /* a candidate's checksum matches, yet
                                         it breaks a rule */
  VHDXLOG_ARMED_INCOMPLETE = 5        /* valid entries that form no complete
                                         sequence */
} vhdxlog_armed_kind;

typedef struct vhdxlog_armed {
  vhdxlog_armed_kind kind;
  uint32_t candidates; /* sectors starting with "loge" + the LogGuid */
  uint32_t torn;       /* of them, torn */
  /* The candidate that decided `kind` (for the DAMAGED and INCOMPLETE
   * kinds): its log offset, the rule it breaks (status), and the index. */
  vhdxlog_error decisive;
  /* The newest candidate (greatest SequenceNumber field, first on ties):
   * what a log whose valid entry was later destroyed would show. */
  int have_newest;
  uint64_t newest_sequence_number;
  vhdxlog_error newest; /* offset; status = the rule it breaks, or
                           VHDXLOG_OK when it is a valid entry */
} vhdxlog_armed;

/*
 * Classify an armed log (no complete sequence). Time linear in the log
 * length on any input. *armed is always filled; returns its kind.
 */
vhdxlog_armed_kind vhdxlog_log_classify_armed(const vhdxlog_log *ctx,
                                              vhdxlog_armed *armed);

/* Where one 4 KiB sector of the region tables comes from after a replay
 * (plan-private). */
typedef struct vhdxlog_region_patch {
  uint8_t kind;         /* 0: as on disk; 1: zeros; 2: a data descriptor */
  uint8_t leading[8];   /* data: LeadingBytes */
  uint8_t trailing[4];  /* data: TrailingBytes */
  uint32_t data_offset; /* data: log offset of the data sector */
} vhdxlog_region_patch;
#define VHDXLOG_REGION_PATCHES                                                 \
  ((VHDXLOG_REGION_AREA_END - VHDXLOG_REGION_AREA_BEGIN) / VHDXLOG_SECTOR_SIZE)

/*
 * Everything a replay needs, validated: the image, the log context, the
 * action, and for a replay the active sequence.
 */
typedef struct vhdxlog_plan {
  const vhdxlog_image *image;
  const vhdxlog_log *log;
  vhdxlog_action action;
  vhdxlog_policy policy;
  vhdxlog_armed armed;        /* filled when the log is armed, also when the
                                 plan refuses it */
  vhdxlog_sequence seq;       /* meaningful when action is REPLAY */
  int replay;                 /* 1: action REPLAY */
  int complete_header_update; /* 1: action COMPLETE_CLEAR */
  int need_file_write_guid;   /* 1: the first header update changes FWG */
  uint8_t new_file_write_guid[16]; /* vhdxlog_derive_file_write_guid() */
  uint64_t replayed_size;          /* file size after replay */
  uint8_t final_headers[2][VHDXLOG_HEADER_SIZE]; /* both headers afterwards */
  /* The region tables as the replay leaves them (MS-VHDX 2.3.3: with a
   * dirty log they are judged on the replayed state). */
  vhdxlog_region_info regions;
  vhdxlog_region_patch region_patches[VHDXLOG_REGION_PATCHES];
} vhdxlog_plan;

/*
 * Build and validate a plan under `policy`. For a clean image `log` may be
 * NULL. For a dirty one `log` must be initialised over the image's log
 * bytes, and the header area given to vhdxlog_image_parse() must still be
 * readable (the region tables are judged here, on the replayed state).
 * The search runs here. No I/O: pure validation.
 */
vhdxlog_status vhdxlog_plan_init_policy(vhdxlog_plan *plan,
                                        const vhdxlog_image *image,
                                        const vhdxlog_log *log,
                                        vhdxlog_policy policy,
                                        vhdxlog_error *error);
/* The same with VHDXLOG_POLICY_DEFAULT. */
vhdxlog_status vhdxlog_plan_init(vhdxlog_plan *plan, const vhdxlog_image *image,
                                 const vhdxlog_log *log, vhdxlog_error *error);

/* Result of a replay. */
typedef struct vhdxlog_replay_result {
  vhdxlog_action action; /* what was done (the plan's action) */
  int replayed;          /* 1: log applied and cleared */
  int armed_cleared;     /* 1: an armed log was cleared (no data written) */
  int headers_repaired;  /* 1: an interrupted header update completed */
  uint64_t writes;       /* write/write_zeros calls issued */
  uint64_t bytes_written;
  uint64_t flushes;
} vhdxlog_replay_result;

/*
 * Carry out a validated plan (vhdxlog_plan_init) through `io`.
 * VHDXLOG_ACTION_CLEAR_ARMED writes only headers: update(C, F, 0) over the
 * non-current slot, flush, the same again over the other slot, flush.
 * VHDXLOG_ACTION_REPLAY (MS-VHDX 2.3.3), in this order:
 *   1. header update: new FileWriteGuid (skipped if already set), flush;
 *   2. every descriptor, tail to head, adjacent data sectors coalesced into
 *      writes of up to `buffer_size` bytes taken from `buffer`;
 *   3. extend the file to the replayed size, flush;
 *   4. header update with LogGuid = 0 over the non-current header, flush;
 *      the same again over the other header, flush.
 * The new FileWriteGuid is derived from the LogGuid, so an interrupted replay
 * re-run from the start ends with the same bytes as an uninterrupted one
 * (a re-run after step 4's first write completes the second header write:
 * plan.complete_header_update). `buffer_size` must be >= 4096 (a multiple
 * of 4096 is best).
 */
vhdxlog_status vhdxlog_replay(const vhdxlog_plan *plan, const vhdxlog_io *io,
                              uint8_t *buffer, size_t buffer_size,
                              vhdxlog_replay_result *result,
                              vhdxlog_error *error);

/*
 * Read-only view: patch `buf`, which holds the file's current bytes at
 * [offset, offset + size) (zeros past its end), into the bytes a replay would
 * leave there, headers included. No I/O. Cost: one pass over the sequence's
 * descriptors (see vhdxlog_overlay_read_indexed() for repeated reads).
 */
vhdxlog_status vhdxlog_overlay_read(const vhdxlog_plan *plan, uint64_t offset,
                                    uint8_t *buf, size_t size,
                                    vhdxlog_error *error);

/*
 * Read-only view with an index: the same bytes as vhdxlog_overlay_read(),
 * at a cost per read logarithmic in the number of descriptors (plus the
 * pieces the window covers), for readers that call it once per I/O.
 *
 * The index holds, for every byte range the sequence writes, its final
 * writer (later descriptors win), as sorted non-overlapping extents. It
 * lives in caller scratch of vhdxlog_overlay_index_size() bytes, which
 * grows with seq.descriptor_count (the descriptors the log holds, about
 * 56 bytes each), and refers to the plan and its log, which must outlive it
 * unchanged. Fields are private.
 */
typedef struct vhdxlog_overlay_index {
  const vhdxlog_plan *plan;
  const uint32_t *records; /* per descriptor that writes: log offset of its
                              slot, then of its data sector */
  const uint64_t *begins;  /* extents: first byte, ascending */
  const uint32_t *owners;  /* extents: the record that writes it */
  size_t extents;
} vhdxlog_overlay_index;

/* Scratch bytes vhdxlog_overlay_index_build() needs for `plan` (0 when the
 * plan replays nothing; SIZE_MAX when the size does not fit in a size_t). */
size_t vhdxlog_overlay_index_size(const vhdxlog_plan *plan);

/* Build the index of a plan from vhdxlog_plan_init(): one checked pass over
 * the descriptors (the plan's descriptor rules), a radix sort and a sweep;
 * O(n log n) at worst in the number of descriptors, no recursion.
 * VHDXLOG_E_ARGUMENT when scratch is smaller than the size the log's own
 * descriptor count needs. */
vhdxlog_status vhdxlog_overlay_index_build(const vhdxlog_plan *plan,
                                           void *scratch, size_t scratch_size,
                                           vhdxlog_overlay_index *index,
                                           vhdxlog_error *error);

/* vhdxlog_overlay_read() through an index built for the plan. */
vhdxlog_status vhdxlog_overlay_read_indexed(const vhdxlog_overlay_index *index,
                                            uint64_t offset, uint8_t *buf,
                                            size_t size, vhdxlog_error *error);

/*
 * The FileWriteGuid a replay sets (MS-VHDX 2.2.2: it must change before the
 * first modification). The library has no randomness and a re-run replay
 * must reach the same bytes, so it is derived from the LogGuid being
 * replayed: unique per log, stable across re-runs. RFC 4122 version 4 bits.
 */
void vhdxlog_derive_file_write_guid(const uint8_t log_guid[16],
                                    uint8_t out[16]);

/* Build the header the next header update writes: `current` with
 * SequenceNumber + 1, the given FileWriteGuid and LogGuid, new checksum. */
void vhdxlog_header_update(const uint8_t current[VHDXLOG_HEADER_SIZE],
                           const uint8_t file_write_guid[16],
                           const uint8_t log_guid[16],
                           uint8_t out[VHDXLOG_HEADER_SIZE]);

#ifdef __cplusplus
}
#endif
#endif /* VHDXLOG_H */
