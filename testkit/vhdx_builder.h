/* SPDX-License-Identifier: MIT */
/*
 * vhdxlog testkit: builds VHDX images and log entries in memory for the unit
 * tests, the fuzz corpus generator and the benchmark.
 *
 * Independent of lib/ on purpose: it has its own CRC-32C and encodes every
 * structure from the format digest (shared/vhdx-log-spec.md) and
 * docs/RULES.md, so a bug in the library's decoders cannot cancel out a bug
 * here. It allocates (malloc) and aborts on out-of-memory; it is test code.
 *
 * Conventions: little-endian fields are written with vtk_put_le*(); a "log"
 * is a byte buffer of log_length bytes (a multiple of 4 KiB) and entries in it
 * wrap from its end to its start, sector by sector.
 */
#ifndef VHDX_BUILDER_H
#define VHDX_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VTK_SECTOR 4096u
#define VTK_MIB 1048576u
#define VTK_HEADER1 65536u
#define VTK_HEADER2 131072u
#define VTK_HEADER_SIZE 4096u
#define VTK_REGION1 196608u
#define VTK_REGION2 262144u
#define VTK_REGION_SIZE 65536u
#define VTK_MAX_OFFSET (((uint64_t)1) << 62)
/* Descriptors that fit in the first descriptor sector / each further one. */
#define VTK_DESC_FIRST 126u
#define VTK_DESC_NEXT 128u

/* ------------------------------------------------------------------------ */
/* Bytes, CRC-32C, GUIDs, patterns.                                          */

void vtk_put_le16(uint8_t *p, uint16_t v);
void vtk_put_le32(uint8_t *p, uint32_t v);
void vtk_put_le64(uint8_t *p, uint64_t v);
uint32_t vtk_get_le32(const uint8_t *p);
uint64_t vtk_get_le64(const uint8_t *p);

/* Standard CRC-32C; start with crc = 0 and chain by passing the result. */
uint32_t vtk_crc32c(uint32_t crc, const void *data, size_t size);
/* Raw register update (no pre/post inversion), bitwise reference. */
uint32_t vtk_crc32c_raw(uint32_t reg, const void *data, size_t size);
/* A CRC-32C with vtk_crc32c()'s contract. */
typedef uint32_t (*vtk_crc_fn)(uint32_t crc, const void *data, size_t size);
/* crc(crc_in, ...) chained over p[0..n) (n >= 8) with bytes 4..7, where
 * every checksum field of the format sits, read as zero. */
uint32_t vtk_crc32c_field_zeroed(vtk_crc_fn crc, uint32_t crc_in,
                                 const uint8_t *p, size_t n);

extern const uint8_t VTK_GUID_BAT[16];
extern const uint8_t VTK_GUID_METADATA[16];
/* A deterministic non-zero GUID per seed (distinct seeds, distinct GUIDs). */
void vtk_guid(uint8_t out[16], uint32_t seed);
int vtk_guid_is_zero(const uint8_t g[16]);

/* Deterministic pseudo-random generator (xorshift64*), never returns 0
 * state; for test data only. */
typedef struct vtk_rng {
  uint64_t s;
} vtk_rng;
void vtk_rng_seed(vtk_rng *r, uint64_t seed);
uint64_t vtk_rng_next(vtk_rng *r);
/* Fill with bytes derived from `seed` (same seed, same bytes). */
void vtk_pattern(uint8_t *buf, size_t size, uint32_t seed);

/* ------------------------------------------------------------------------ */
/* Images.                                                                   */

typedef struct vtk_region {
  uint8_t guid[16];
  uint64_t file_offset;
  uint32_t length;
  uint32_t required;
} vtk_region;

#define VTK_MAX_EXTRA_REGIONS 8

typedef struct vtk_image_spec {
  uint64_t file_size;     /* bytes; >= 1 MiB */
  uint64_t header_seq[2]; /* SequenceNumber of header 1 and header 2 */
  uint64_t log_offset;    /* written into both headers */
  uint32_t log_length;
  uint8_t log_guid[16]; /* written into the current header only (the
                           one with the greater seq; both if equal) */
  uint8_t file_write_guid[16];
  uint8_t data_write_guid[16];
  uint16_t version;     /* header Version (1) */
  uint16_t log_version; /* header LogVersion (0) */
  uint64_t bat_offset;
  uint32_t bat_length;
  uint64_t metadata_offset;
  uint32_t metadata_length;
  vtk_region extra[VTK_MAX_EXTRA_REGIONS]; /* appended after BAT, metadata */
  uint32_t extra_count;
  uint32_t fill_seed; /* non-zero: bytes past 1 MiB get vtk_pattern */
} vtk_image_spec;

/* Defaults: 4 MiB file, log at 1 MiB (1 MiB long), BAT at 2 MiB, metadata at
 * 3 MiB (1 MiB each), header seqs {1, 2} (header 2 current), LogGuid zero,
 * Version 1, LogVersion 0, fixed FileWriteGuid/DataWriteGuid, bytes past
 * 1 MiB filled with a pattern (seed 1). */
void vtk_image_spec_default(vtk_image_spec *s);

typedef struct vtk_image {
  uint8_t *data;
  uint64_t size;
} vtk_image;

/* Build an image: "vhdxfile" + creator, two headers with valid checksums,
 * two identical region tables with valid checksums. */
void vtk_image_build(vtk_image *img, const vtk_image_spec *s);
/* vtk_image_build() with vtk_image_spec_default(). */
void vtk_image_build_default(vtk_image *img);
/* An image holding a copy of `size` bytes at `data`. */
void vtk_image_from(vtk_image *img, const uint8_t *data, uint64_t size);
void vtk_image_free(vtk_image *img);
void vtk_image_copy(vtk_image *dst, const vtk_image *src);
/* Grow (zero-filled) or shrink. */
void vtk_image_resize(vtk_image *img, uint64_t size);

/* Header `which` (0: at 64 KiB, 1: at 128 KiB); raw 4 KiB. */
uint8_t *vtk_header(vtk_image *img, int which);
void vtk_header_fix_checksum(vtk_image *img, int which);
/* Checksum a raw 4 KiB header in place. */
void vtk_header_raw_fix_checksum(uint8_t h[VTK_HEADER_SIZE]);
int vtk_header_raw_valid(const uint8_t h[VTK_HEADER_SIZE]);
/* Current header by the digest's rule (testkit's own reading): the only
 * valid one, or the valid one with the greater seq; header 1 on an equal
 * tie; -1 if neither is valid. */
int vtk_image_current(const vtk_image *img);

/* Region table copy `which` (0: at 192 KiB, 1: at 256 KiB); raw 64 KiB. */
uint8_t *vtk_region_table(vtk_image *img, int which);
void vtk_region_fix_checksum(vtk_image *img, int which);
/* Entry `index` of copy `which` (pointer to its 32 bytes). */
uint8_t *vtk_region_entry(vtk_image *img, int which, uint32_t index);
/* Encode a 32-byte region table entry at `e` (no count, no checksum). */
void vtk_region_put(uint8_t *e, const vtk_region *r);
/* Write entry `index` (raising EntryCount when index >= count) and fix the
 * checksum of that copy. */
void vtk_region_set(vtk_image *img, int which, uint32_t index,
                    const vtk_region *r);
/* Both copies: vtk_region_set(). */
void vtk_region_set_both(vtk_image *img, uint32_t index, const vtk_region *r);
void vtk_region_set_count(vtk_image *img, int which, uint32_t count);

/* Header field helpers: set in header `which` and fix its checksum. */
void vtk_header_set_seq(vtk_image *img, int which, uint64_t seq);
void vtk_header_set_log_guid(vtk_image *img, int which, const uint8_t g[16]);
void vtk_header_set_log_location(vtk_image *img, int which, uint64_t log_offset,
                                 uint32_t log_length);

/* Put a log into the image: copy `log` (log_length bytes) to the current
 * header's LogOffset (growing the file if needed), store its
 * LogOffset/LogLength and `guid` in the current header, fix its checksum. */
void vtk_image_put_log(vtk_image *img, const uint8_t *log, uint32_t log_length,
                       const uint8_t guid[16]);

/* ------------------------------------------------------------------------ */
/* Log entries.                                                              */

enum { VTK_ZERO = 1, VTK_DATA = 2 };

typedef struct vtk_desc {
  int kind; /* VTK_ZERO or VTK_DATA */
  uint64_t file_offset;
  uint64_t zero_length;  /* VTK_ZERO */
  const uint8_t *sector; /* VTK_DATA: the 4 KiB to write; NULL: the
                            pattern of `seed` */
  uint32_t seed;
} vtk_desc;

/* The 4 KiB a data descriptor writes. */
void vtk_desc_sector(const vtk_desc *d, uint8_t out[VTK_SECTOR]);
vtk_desc vtk_data(uint64_t file_offset, uint32_t seed);
vtk_desc vtk_zero(uint64_t file_offset, uint64_t length);

typedef struct vtk_entry {
  uint64_t sequence_number;
  uint32_t tail; /* log offset */
  uint8_t log_guid[16];
  uint64_t flushed_file_offset;
  uint64_t last_file_offset;
  const vtk_desc *descs;
  uint32_t desc_count;
} vtk_entry;

/* An entry: every field given, Reserved 0. */
vtk_entry vtk_entry_make(uint64_t sequence_number, uint32_t tail,
                         const uint8_t log_guid[16],
                         uint64_t flushed_file_offset,
                         uint64_t last_file_offset, const vtk_desc *descs,
                         uint32_t desc_count);

/* Descriptor sectors for `count` descriptors (RULES.md entry check 9). */
uint32_t vtk_desc_sectors(uint32_t count);
uint32_t vtk_entry_data_count(const vtk_entry *e);
/* EntryLength of the built entry. */
uint32_t vtk_entry_length(const vtk_entry *e);
/* Byte position of descriptor `index` inside its entry. */
uint32_t vtk_desc_pos(uint32_t index);

/* Write `e` at log offset `offset` (multiple of 4 KiB), wrapping at the end
 * of the log. Returns the EntryLength, or 0 (nothing written) if the offset
 * is unaligned or the entry is longer than the log. */
uint32_t vtk_log_write_entry(uint8_t *log, uint32_t log_length, uint32_t offset,
                             const vtk_entry *e);
/* Write `n` entries back to back from `offset`; returns the log offset just
 * past the last one (mod log_length). Tails are taken from the entries. */
uint32_t vtk_log_write_run(uint8_t *log, uint32_t log_length, uint32_t offset,
                           const vtk_entry *e, size_t n);

/* Encode one 32-byte descriptor of an entry numbered `seq` at `p`
 * ("desc" with the data's trailing/leading bytes, or "zero"). */
void vtk_desc_put(uint8_t *p, const vtk_desc *d, uint64_t seq);
/* Encode the data sector of data descriptor `d` at `s` (4 KiB). */
void vtk_data_sector_put(uint8_t *s, const vtk_desc *d, uint64_t seq);
/* Only the fixed fields of an entry header at `h`: "loge", EntryLength
 * `length`, SequenceNumber `seq`, LogGuid `guid`; everything else (Tail,
 * the checksum, the descriptors) is left as it is. For logs of candidates
 * that are not entries. */
void vtk_entry_header_put(uint8_t *h, uint32_t length, uint64_t seq,
                          const uint8_t guid[16]);

/* Pointer to byte `pos` of the entry at `offset` (wrapping per sector). */
uint8_t *vtk_log_at(uint8_t *log, uint32_t log_length, uint32_t offset,
                    uint32_t pos);
/* Recompute the checksum of the entry at `offset` using its stored
 * EntryLength (clamped to the log length; nothing if it is 0 or unaligned). */
void vtk_entry_fix_checksum(uint8_t *log, uint32_t log_length, uint32_t offset);
/* 1 if the entry at `offset` has "loge" and a checksum matching its
 * EntryLength (testkit's own check). */
int vtk_entry_crc_ok(const uint8_t *log, uint32_t log_length, uint32_t offset);

/*
 * Ways to break exactly one rule of RULES.md's entry checks (number in the
 * comment). vtk_entry_break() pokes the built entry at `offset`; `index` is
 * the descriptor index (10) or data sector index (12) where it matters; with
 * fix_crc the checksum is recomputed afterwards so that only the named rule
 * is broken. Returns 0, or -1 if the entry cannot be broken that way (e.g.
 * a zero-descriptor rule on a data descriptor).
 */
typedef enum vtk_break {
  VTK_BREAK_SIGNATURE = 1,         /* 1: "loge" -> "logx" */
  VTK_BREAK_LENGTH_ZERO,           /* 2: EntryLength = 0 */
  VTK_BREAK_LENGTH_UNALIGNED,      /* 2: EntryLength + 512 */
  VTK_BREAK_LENGTH_TOO_BIG,        /* 2: EntryLength = log length + 4096 */
  VTK_BREAK_TAIL_UNALIGNED,        /* 3: Tail + 512 */
  VTK_BREAK_TAIL_TOO_BIG,          /* 3: Tail = log length */
  VTK_BREAK_SEQUENCE_ZERO,         /* 4: SequenceNumber = 0 */
  VTK_BREAK_RESERVED,              /* 5: Reserved = 1 */
  VTK_BREAK_GUID,                  /* 6: LogGuid byte 15 flipped */
  VTK_BREAK_FLUSHED_UNALIGNED,     /* 7: FlushedFileOffset + 4096 */
  VTK_BREAK_FLUSHED_TOO_BIG,       /* FlushedFileOffset = MAX + 1 MiB: valid by
                                      the spec, over our bound (the plan's
                                      E_OFFSET_LIMIT); so are the next ones
                                      marked "bound" */
  VTK_BREAK_LAST_UNALIGNED,        /* 8 */
  VTK_BREAK_LAST_TOO_BIG,          /* bound */
  VTK_BREAK_DESCRIPTOR_COUNT,      /* 9: DescriptorCount needs one sector more
                                      than the entry has */
  VTK_BREAK_DESC_SIGNATURE,        /* 10: descriptor `index` "desc"/"zero" ->
                                      "dexc"/"zerx" */
  VTK_BREAK_DESC_RESERVED,         /* 10: zero descriptor Reserved = 1 */
  VTK_BREAK_DESC_LENGTH,           /* 10: zero descriptor ZeroLength + 512 */
  VTK_BREAK_DESC_OFFSET_UNALIGNED, /* 10: FileOffset + 512 */
  VTK_BREAK_DESC_OFFSET_TOO_BIG,   /* bound: write ends at MAX + 4096 */
  VTK_BREAK_DESC_OFFSET_OVERFLOW,  /* bound: FileOffset + length wraps 2^64 */
  VTK_BREAK_DESC_SEQUENCE,         /* 10: descriptor SequenceNumber + 1 */
  VTK_BREAK_DATA_COUNT,            /* 11: DescriptorCount - 1 (the last
                                      descriptor must be a data one and the
                                      descriptor sector count must not change) */
  VTK_BREAK_DATA_SIGNATURE,     /* 12: data sector `index` "data" -> "dat@" */
  VTK_BREAK_DATA_SEQUENCE_HIGH, /* 12: SequenceHigh + 1 */
  VTK_BREAK_DATA_SEQUENCE_LOW,  /* 12: SequenceLow + 1 */
  VTK_BREAK_CHECKSUM            /* 13: Checksum + 1 (fix_crc ignored) */
} vtk_break;

int vtk_entry_break(uint8_t *log, uint32_t log_length, uint32_t offset,
                    vtk_break what, uint32_t index, int fix_crc);

/*
 * Every rule broken once, for the generators (fuzz/support/gen_corpus.c,
 * gen_images.c): the rule, a short name, and the index to
 * break in an entry whose descriptors are [zero, data, data] (descriptor 0
 * a zero descriptor, 1 and 2 data; data sectors 0 and 1).
 */
typedef struct vtk_break_case {
  vtk_break what;
  uint32_t index;
  const char *name;
} vtk_break_case;
extern const vtk_break_case vtk_break_cases[];
extern const size_t vtk_break_case_count;
/* Each of our own 2^62 bounds broken once: entries valid by the spec that
 * the plan refuses (VHDXLOG_E_OFFSET_LIMIT). They follow the rule cases in
 * vtk_break_cases: its first vtk_break_case_count + vtk_limit_case_count
 * rows are both. */
extern const vtk_break_case *const vtk_limit_cases;
extern const size_t vtk_limit_case_count;

/* ------------------------------------------------------------------------ */
/* Expected result of a replay, computed from what a test put in.            */

/* The FileWriteGuid a replay must set (RULES.md "derive(L)"), computed with
 * the testkit's CRC. */
void vtk_derive_file_write_guid(const uint8_t log_guid[16], uint8_t out[16]);
/* A known answer of derive(L): for L = A1 A2 .. B0, computed by the
 * independent Python transcription of RULES.md (qemu/vhdx_inspect.py), like
 * the CRC's "123456789". */
extern const uint8_t VTK_DERIVE_KAT_IN[16];
extern const uint8_t VTK_DERIVE_KAT_OUT[16];
/* update(H, fwg, lg) of RULES.md: copy, SequenceNumber + 1, new GUIDs, new
 * checksum. */
void vtk_header_update(const uint8_t cur[VTK_HEADER_SIZE],
                       const uint8_t fwg[16], const uint8_t lg[16],
                       uint8_t out[VTK_HEADER_SIZE]);

/*
 * The image a correct replay leaves, given the image before and the entries
 * of the active sequence (tail to head, as the test wrote them): every
 * descriptor applied in order (a zero descriptor of length 0 is a no-op and
 * grows nothing), the file grown to max(size, write ends, head
 * LastFileOffset), then the header updates of RULES.md "Replay order"
 * (step 1 only when the current FileWriteGuid differs from derive(LogGuid)).
 * The input must have a valid current header with a non-zero LogGuid.
 */
void vtk_model_replay(const vtk_image *before, const vtk_entry *entries,
                      size_t n, vtk_image *after);
/* Clearing an armed log (RULES.md "Armed logs"): two header updates with
 * FileWriteGuid derive(LogGuid) and LogGuid 0, the non-current slot first;
 * no data. */
void vtk_model_clear(const vtk_image *before, vtk_image *after);

#ifdef __cplusplus
}
#endif
#endif
