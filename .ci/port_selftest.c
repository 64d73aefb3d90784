/*
 * Portability self-test: a plain C99 program (no test framework) that
 * .ci/portability.sh cross-builds against lib/ and runs under qemu-user on a
 * big-endian (s390x) and a 32-bit target. It needs nothing but libc, so it
 * runs even where cmocka cannot be had for the target.
 *
 * It builds a small VHDX image byte by byte with its own little-endian
 * stores and its own bitwise CRC-32C (independent of the library's), then
 * drives the public API end to end: CRC, image parse, entry check, search,
 * iteration, plan, overlay, replay through in-memory I/O callbacks, and a
 * re-parse of the result. Host byte order or a 32-bit size_t must change
 * nothing. One write lands above 4 GiB, so a 64-bit offset truncated to
 * 32 bits shows up as a wrong write.
 *
 * Exit status 0 and "N passed, 0 failed" when every check holds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vhdxlog.h"

static unsigned g_passed;
static unsigned g_failed;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      g_passed++;                                                              \
    } else {                                                                   \
      g_failed++;                                                              \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
    }                                                                          \
  } while (0)

#define CHECK_STATUS(expr, want)                                               \
  do {                                                                         \
    vhdxlog_status got_ = (expr);                                              \
    if (got_ == (want)) {                                                      \
      g_passed++;                                                              \
    } else {                                                                   \
      g_failed++;                                                              \
      fprintf(stderr, "FAIL %s:%d: %s = %d (%s), want %d\n", __FILE__,         \
              __LINE__, #expr, (int)got_, vhdxlog_status_name(got_),           \
              (int)(want));                                                    \
    }                                                                          \
  } while (0)

/* ---- Independent helpers: explicit little-endian, bitwise CRC-32C. ---- */

static void put_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static void put_le64(uint8_t *p, uint64_t v) {
  put_le32(p, (uint32_t)v);
  put_le32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint64_t get_le64(const uint8_t *p) {
  return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* Standard CRC-32C (init and final xor 0xFFFFFFFF), one bit at a time. */
static uint32_t ref_crc32c(const uint8_t *p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  size_t i;
  int k;
  for (i = 0; i < n; i++) {
    crc ^= p[i];
    for (k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

/* Checksum field at bytes 4..7 counts as zero. */
static void seal(uint8_t *p, size_t n) {
  put_le32(p + 4, 0);
  put_le32(p + 4, ref_crc32c(p, n));
}

/* GUID text -> Microsoft mixed-endian bytes (first three fields LE). */
static void guid_bytes(uint8_t out[16], uint32_t d1, uint16_t d2, uint16_t d3,
                       uint64_t d4_be) {
  int i;
  put_le32(out, d1);
  put_le16(out + 4, d2);
  put_le16(out + 6, d3);
  for (i = 0; i < 8; i++)
    out[8 + i] = (uint8_t)(d4_be >> (56 - 8 * i));
}

/* The FileWriteGuid a replay must set (docs/RULES.md, "derive(L)"). */
static void ref_derive(const uint8_t log_guid[16], uint8_t out[16]) {
  uint8_t msg[28];
  uint32_t i;
  memcpy(msg, log_guid, 16);
  memcpy(msg + 16, "vhdxlog-fwg", 11);
  for (i = 0; i < 4; i++) {
    msg[27] = (uint8_t)i;
    put_le32(out + 4 * i, ref_crc32c(msg, sizeof msg));
  }
  out[7] = (uint8_t)((out[7] & 0x0F) | 0x40);
  out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

/* ---- The image. ---- */

#define MIB 1048576u
#define SEC 4096u
#define FILE_SIZE (4u * MIB)
#define LOG_OFFSET (1u * MIB)
#define LOG_LENGTH (1u * MIB)
#define BAT_OFFSET (2u * MIB)
#define META_OFFSET (3u * MIB)
/* Above 4 GiB: a 32-bit truncation would land on BAT_OFFSET + 0x0000. */
#define FAR_OFFSET ((((uint64_t)1) << 32) + BAT_OFFSET)
#define SEQ ((((uint64_t)1) << 32) + 5u) /* high half non-zero */

static uint8_t g_file[FILE_SIZE + 2 * SEC]; /* room for growth */
static uint8_t g_expect[FILE_SIZE + 2 * SEC];
static uint8_t g_far[SEC];
static uint8_t g_far_expect[SEC];
static uint8_t g_first_write[SEC]; /* entry A's sector for BAT + 8 KiB */
static uint8_t g_overlay[FILE_SIZE];
static uint8_t g_buffer[4 * SEC];
static const uint8_t g_log_guid[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                       0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC,
                                       0xDD, 0xEE, 0xF0, 0x01};

static void make_header(uint8_t *h, uint64_t seq, const uint8_t *log_guid) {
  memset(h, 0, VHDXLOG_HEADER_SIZE);
  memcpy(h, "head", 4);
  put_le64(h + 8, seq);
  memset(h + 16, 0xA1, 16); /* FileWriteGuid */
  memset(h + 32, 0xB2, 16); /* DataWriteGuid */
  if (log_guid != NULL)
    memcpy(h + 48, log_guid, 16);
  put_le16(h + 64, 0); /* LogVersion */
  put_le16(h + 66, 1); /* Version */
  put_le32(h + 68, LOG_LENGTH);
  put_le64(h + 72, LOG_OFFSET);
  seal(h, VHDXLOG_HEADER_SIZE);
}

static void make_regions(uint8_t *r) {
  memset(r, 0, VHDXLOG_REGION_TABLE_SIZE);
  memcpy(r, "regi", 4);
  put_le32(r + 8, 2);
  guid_bytes(r + 16, 0x2DC27766u, 0xF623, 0x4200, 0x9D64115E9BFD4A08ull);
  put_le64(r + 32, BAT_OFFSET);
  put_le32(r + 40, MIB);
  put_le32(r + 44, 1);
  guid_bytes(r + 48, 0x8B7CA206u, 0x4790, 0x4B9A, 0xB8FE575F050F886Eull);
  put_le64(r + 64, META_OFFSET);
  put_le32(r + 72, MIB);
  put_le32(r + 76, 1);
  seal(r, VHDXLOG_REGION_TABLE_SIZE);
}

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed) {
  size_t i;
  for (i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (uint8_t)(seed >> 16);
  }
}

/* Data descriptor k of an entry at `e` (first sector) with its data sector
 * at `ds`; the sector it writes is `content`. */
static void put_data_desc(uint8_t *e, uint32_t k, uint8_t *ds, uint64_t seq,
                          uint64_t file_offset, const uint8_t *content) {
  uint8_t *d = e + 64 + 32 * k;
  memcpy(d, "desc", 4);
  memcpy(d + 4, content + 4092, 4); /* TrailingBytes */
  memcpy(d + 8, content, 8);        /* LeadingBytes */
  put_le64(d + 16, file_offset);
  put_le64(d + 24, seq);
  memset(ds, 0, SEC);
  memcpy(ds, "data", 4);
  put_le32(ds + 4, (uint32_t)(seq >> 32));
  memcpy(ds + 8, content + 8, 4084);
  put_le32(ds + 4092, (uint32_t)seq);
}

static void put_zero_desc(uint8_t *e, uint32_t k, uint64_t seq,
                          uint64_t file_offset, uint64_t length) {
  uint8_t *d = e + 64 + 32 * k;
  memcpy(d, "zero", 4);
  put_le64(d + 8, length);
  put_le64(d + 16, file_offset);
  put_le64(d + 24, seq);
}

static void put_entry_header(uint8_t *e, uint32_t length, uint32_t tail,
                             uint64_t seq, uint32_t count) {
  memcpy(e, "loge", 4);
  put_le32(e + 8, length);
  put_le32(e + 12, tail);
  put_le64(e + 16, seq);
  put_le32(e + 24, count);
  memcpy(e + 32, g_log_guid, 16);
  put_le64(e + 48, FILE_SIZE); /* FlushedFileOffset */
  put_le64(e + 56, FILE_SIZE); /* LastFileOffset */
}

/*
 * Entry A (log offset 0, 3 sectors, seq SEQ): data -> BAT+8K, data -> FAR,
 * zero 8 KiB at BAT+16K. Entry B (log offset 12K, 2 sectors, seq SEQ+1,
 * Tail 0): data -> BAT+8K again (later wins). Expected bytes follow along.
 */
static void build_dirty_image(void) {
  uint8_t *log = g_file + LOG_OFFSET;
  uint8_t content[SEC];
  uint8_t *a = log;
  uint8_t *b = log + 3 * SEC;

  memset(g_file, 0, sizeof g_file);
  memcpy(g_file, "vhdxfile", 8);
  make_header(g_file + VHDXLOG_HEADER1_OFFSET, 7, NULL);
  make_header(g_file + VHDXLOG_HEADER2_OFFSET, 8, g_log_guid);
  make_regions(g_file + VHDXLOG_REGION1_OFFSET);
  make_regions(g_file + VHDXLOG_REGION2_OFFSET);
  fill_pattern(g_file + BAT_OFFSET, 2 * MIB, 99); /* BAT + metadata */
  memset(g_far, 0x5A, sizeof g_far);

  memcpy(g_expect, g_file, sizeof g_expect);
  memcpy(g_far_expect, g_far, sizeof g_far);

  put_entry_header(a, 3 * SEC, 0, SEQ, 3);
  fill_pattern(content, SEC, 1);
  put_data_desc(a, 0, a + SEC, SEQ, BAT_OFFSET + 2 * SEC, content);
  memcpy(g_first_write, content, SEC);
  memcpy(g_expect + BAT_OFFSET + 2 * SEC, content, SEC);
  fill_pattern(content, SEC, 2);
  put_data_desc(a, 1, a + 2 * SEC, SEQ, FAR_OFFSET, content);
  memcpy(g_far_expect, content, SEC);
  put_zero_desc(a, 2, SEQ, BAT_OFFSET + 4 * SEC, 2 * SEC);
  memset(g_expect + BAT_OFFSET + 4 * SEC, 0, 2 * SEC);
  seal(a, 3 * SEC);

  put_entry_header(b, 2 * SEC, 0, SEQ + 1, 1);
  fill_pattern(content, SEC, 3);
  put_data_desc(b, 0, b + SEC, SEQ + 1, BAT_OFFSET + 2 * SEC, content);
  memcpy(g_expect + BAT_OFFSET + 2 * SEC, content, SEC);
  seal(b, 2 * SEC);
}

/* ---- In-memory I/O: [0, sizeof g_file) plus one sector at FAR_OFFSET. -- */

typedef struct memio {
  uint64_t size;
  unsigned writes, flushes, far_writes;
} memio;

static uint8_t *memio_at(uint64_t offset, uint64_t size) {
  if (offset <= sizeof g_file && size <= sizeof g_file - offset)
    return g_file + (size_t)offset;
  if (offset == FAR_OFFSET && size == SEC)
    return g_far;
  return NULL;
}

static int memio_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  uint8_t *p = memio_at(offset, size);
  (void)ctx;
  if (p == NULL)
    return -1;
  memcpy(buf, p, size);
  return 0;
}

static int memio_write(void *ctx, uint64_t offset, const void *buf,
                       size_t size) {
  memio *m = (memio *)ctx;
  uint8_t *p = memio_at(offset, size);
  if (p == NULL) {
    fprintf(stderr, "write outside the test file: %llu + %llu\n",
            (unsigned long long)offset, (unsigned long long)size);
    return -1;
  }
  memcpy(p, buf, size);
  m->writes++;
  if (p == g_far)
    m->far_writes++;
  if (offset + size > m->size)
    m->size = offset + size;
  return 0;
}

static int memio_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  memio *m = (memio *)ctx;
  uint8_t *p = memio_at(offset, size);
  if (p == NULL)
    return -1;
  memset(p, 0, (size_t)size);
  m->writes++;
  if (offset + size > m->size)
    m->size = offset + size;
  return 0;
}

static int memio_get_size(void *ctx, uint64_t *size) {
  *size = ((memio *)ctx)->size;
  return 0;
}

static int memio_set_size(void *ctx, uint64_t size) {
  memio *m = (memio *)ctx;
  if (size > m->size)
    m->size = size;
  return 0;
}

static int memio_flush(void *ctx) {
  ((memio *)ctx)->flushes++;
  return 0;
}

/* ---- Tests. ---- */

static void test_crc(void) {
  static uint8_t buf[65536 + 8];
  size_t len, off;
  CHECK(vhdxlog_crc32c(0, "123456789", 9) == 0xE3069283u);
  CHECK(vhdxlog_crc32c(vhdxlog_crc32c(0, "1234", 4), "56789", 5) ==
        0xE3069283u);
  CHECK(vhdxlog_crc32c(0, buf, 0) == 0);
  fill_pattern(buf, sizeof buf, 7);
  for (off = 0; off < 8; off++)
    for (len = 0; len <= 300; len += (len < 40 ? 1 : 37))
      CHECK(vhdxlog_crc32c(0, buf + off, len) == ref_crc32c(buf + off, len));
  CHECK(vhdxlog_crc32c(0, buf + 3, 65536) == ref_crc32c(buf + 3, 65536));
}

static void test_status_strings(void) {
  static const vhdxlog_status all[] = {VHDXLOG_OK,
                                       VHDXLOG_E_ARGUMENT,
                                       VHDXLOG_E_IO,
                                       VHDXLOG_E_FILE_TOO_SMALL,
                                       VHDXLOG_E_REGION_OVERLAP,
                                       VHDXLOG_E_ENTRY_SIGNATURE,
                                       VHDXLOG_E_ENTRY_CHECKSUM,
                                       VHDXLOG_E_LOG_NO_SEQUENCE,
                                       VHDXLOG_E_FILE_TRUNCATED,
                                       VHDXLOG_END};
  size_t i;
  for (i = 0; i < sizeof all / sizeof all[0]; i++) {
    const char *s = vhdxlog_status_string(all[i]);
    const char *n = vhdxlog_status_name(all[i]);
    CHECK(s != NULL && s[0] != '\0');
    CHECK(n != NULL && strncmp(n, "VHDXLOG_", 8) == 0);
  }
  CHECK(strcmp(vhdxlog_status_name(VHDXLOG_E_ENTRY_CHECKSUM),
               "VHDXLOG_E_ENTRY_CHECKSUM") == 0);
}

static void test_header_update(void) {
  static uint8_t cur[VHDXLOG_HEADER_SIZE], out[VHDXLOG_HEADER_SIZE];
  uint8_t fwg[16], lg[16];
  memset(fwg, 0x3C, 16);
  memset(lg, 0, 16);
  make_header(cur, (((uint64_t)1) << 40) + 41, g_log_guid);
  vhdxlog_header_update(cur, fwg, lg, out);
  CHECK(memcmp(out, "head", 4) == 0);
  CHECK(get_le64(out + 8) == (((uint64_t)1) << 40) + 42);
  CHECK(memcmp(out + 16, fwg, 16) == 0);
  CHECK(memcmp(out + 48, lg, 16) == 0);
  CHECK(get_le32(out + 68) == LOG_LENGTH);
  CHECK(get_le64(out + 72) == LOG_OFFSET);
  {
    uint32_t stored = get_le32(out + 4);
    put_le32(out + 4, 0);
    CHECK(stored == ref_crc32c(out, VHDXLOG_HEADER_SIZE));
  }
}

static void test_derive(void) {
  uint8_t want[16], got[16];
  ref_derive(g_log_guid, want);
  vhdxlog_derive_file_write_guid(g_log_guid, got);
  CHECK(memcmp(want, got, 16) == 0);
}

static void test_dirty_image(void) {
  static vhdxlog_image image, after;
  vhdxlog_error err;
  vhdxlog_log ctx;
  vhdxlog_entry entry;
  vhdxlog_sequence seq;
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  static vhdxlog_plan plan, plan_after;
  vhdxlog_replay_result res;
  vhdxlog_io io;
  memio m;
  uint8_t sector[SEC], fwg[16];
  unsigned n = 0;

  build_dirty_image();

  CHECK_STATUS(vhdxlog_image_parse(g_file, FILE_SIZE, FILE_SIZE, &image, &err),
               VHDXLOG_OK);
  CHECK(image.current == 1);
  CHECK(image.log_state == VHDXLOG_LOG_DIRTY);
  CHECK(image.log_offset == LOG_OFFSET);
  CHECK(image.log_length == LOG_LENGTH);
  CHECK(memcmp(image.log_guid, g_log_guid, 16) == 0);
  CHECK(image.headers[0].valid && image.headers[1].valid);
  CHECK(image.headers[0].sequence_number == 7);
  CHECK(image.headers[1].sequence_number == 8);
  CHECK(image.regions.bat_offset == BAT_OFFSET);
  CHECK(image.regions.bat_length == MIB);
  CHECK(image.regions.metadata_offset == META_OFFSET);
  CHECK(image.regions.metadata_length == MIB);

  CHECK_STATUS(
      vhdxlog_log_init(&ctx, g_file + LOG_OFFSET, LOG_LENGTH, g_log_guid),
      VHDXLOG_OK);

  CHECK_STATUS(vhdxlog_log_entry(&ctx, 0, &entry, &err), VHDXLOG_OK);
  CHECK(entry.offset == 0 && entry.length == 3 * SEC && entry.tail == 0);
  CHECK(entry.sequence_number == SEQ);
  CHECK(entry.descriptor_count == 3 && entry.data_count == 2);
  CHECK(entry.zero_count == 1);
  CHECK(entry.flushed_file_offset == FILE_SIZE);
  CHECK(entry.last_file_offset == FILE_SIZE);
  CHECK_STATUS(vhdxlog_log_entry(&ctx, 3 * SEC, &entry, &err), VHDXLOG_OK);
  CHECK(entry.sequence_number == SEQ + 1 && entry.data_count == 1);

  CHECK_STATUS(vhdxlog_log_search(&ctx, &seq, &err), VHDXLOG_OK);
  CHECK(seq.tail_offset == 0 && seq.head_offset == 3 * SEC);
  CHECK(seq.entry_count == 2 && seq.length == 5 * SEC);
  CHECK(seq.tail_sequence_number == SEQ);
  CHECK(seq.head_sequence_number == SEQ + 1);
  CHECK(seq.descriptor_count == 4);
  CHECK(seq.max_write_end == FAR_OFFSET + SEC);

  CHECK_STATUS(vhdxlog_iter_init(&it, &ctx, &seq), VHDXLOG_OK);
  for (;;) {
    vhdxlog_status st = vhdxlog_iter_next(&it, &d);
    if (st != VHDXLOG_OK) {
      CHECK_STATUS(st, VHDXLOG_END);
      break;
    }
    switch (n) {
    case 0:
    case 3:
      CHECK(d.kind == VHDXLOG_DESCRIPTOR_DATA);
      CHECK(d.file_offset == BAT_OFFSET + 2 * SEC && d.length == SEC);
      CHECK(d.sequence_number == (n == 0 ? SEQ : SEQ + 1));
      vhdxlog_descriptor_sector(&ctx, &d, sector);
      CHECK(memcmp(sector,
                   n == 0 ? g_first_write : g_expect + BAT_OFFSET + 2 * SEC,
                   SEC) == 0);
      break;
    case 1:
      CHECK(d.kind == VHDXLOG_DESCRIPTOR_DATA);
      CHECK(d.file_offset == FAR_OFFSET);
      CHECK(d.sequence_number == SEQ && d.entry_offset == 0 && d.index == 1);
      CHECK(d.data_offset == 2 * SEC);
      vhdxlog_descriptor_sector(&ctx, &d, sector);
      CHECK(memcmp(sector, g_far_expect, SEC) == 0);
      break;
    case 2:
      CHECK(d.kind == VHDXLOG_DESCRIPTOR_ZERO);
      CHECK(d.file_offset == BAT_OFFSET + 4 * SEC && d.length == 2 * SEC);
      break;
    default:
      break;
    }
    n++;
    if (n > 10)
      break;
  }
  CHECK(n == 4);

  CHECK_STATUS(vhdxlog_plan_init(&plan, &image, &ctx, &err), VHDXLOG_OK);
  CHECK(plan.replay == 1);
  CHECK(plan.replayed_size == FAR_OFFSET + SEC);
  ref_derive(g_log_guid, fwg);
  CHECK(memcmp(plan.new_file_write_guid, fwg, 16) == 0);

  /* Overlay of the data area: the replayed bytes, without writing. */
  memcpy(g_overlay, g_file, FILE_SIZE);
  CHECK_STATUS(vhdxlog_overlay_read(&plan, 0, g_overlay, FILE_SIZE, &err),
               VHDXLOG_OK);
  CHECK(memcmp(g_overlay + BAT_OFFSET, g_expect + BAT_OFFSET, 2 * MIB) == 0);
  memset(sector, 0, SEC); /* past the end of the file: zeros */
  CHECK_STATUS(vhdxlog_overlay_read(&plan, FAR_OFFSET, sector, SEC, &err),
               VHDXLOG_OK);
  CHECK(memcmp(sector, g_far_expect, SEC) == 0);

  /* Replay through the callbacks. The log bytes live in g_file, which the
   * replay writes, but never inside the log region (plan rule 1). */
  memset(&m, 0, sizeof m);
  m.size = FILE_SIZE;
  io.ctx = &m;
  io.read = memio_read;
  io.write = memio_write;
  io.write_zeros = memio_write_zeros;
  io.get_size = memio_get_size;
  io.set_size = memio_set_size;
  io.flush = memio_flush;
  memset(&res, 0, sizeof res);
  CHECK_STATUS(
      vhdxlog_replay(&plan, &io, g_buffer, sizeof g_buffer, &res, &err),
      VHDXLOG_OK);
  CHECK(res.replayed == 1);
  CHECK(m.far_writes == 1);
  CHECK(m.size == FAR_OFFSET + SEC);
  CHECK(m.flushes >= 3);
  CHECK(memcmp(g_file + BAT_OFFSET, g_expect + BAT_OFFSET, 2 * MIB) == 0);
  CHECK(memcmp(g_far, g_far_expect, SEC) == 0);
  /* The overlay promised exactly these bytes, headers included. */
  CHECK(memcmp(g_overlay, g_file, FILE_SIZE) == 0);

  /* The result is clean, both headers current, FileWriteGuid derived. */
  CHECK_STATUS(vhdxlog_image_parse(g_file, FILE_SIZE, m.size, &after, &err),
               VHDXLOG_OK);
  CHECK(after.log_state == VHDXLOG_LOG_CLEAN);
  CHECK(after.headers[0].valid && after.headers[1].valid);
  CHECK(after.headers[after.current].sequence_number == 11);
  CHECK(after.headers[1 - after.current].sequence_number == 10);
  CHECK(memcmp(after.headers[0].file_write_guid, fwg, 16) == 0);
  CHECK(memcmp(after.headers[1].file_write_guid, fwg, 16) == 0);
  CHECK_STATUS(vhdxlog_plan_init(&plan_after, &after, NULL, &err), VHDXLOG_OK);
  CHECK(plan_after.replay == 0 && plan_after.complete_header_update == 0);
}

static void test_rejects_bad_checksum(void) {
  static vhdxlog_image image;
  vhdxlog_error err;
  vhdxlog_log ctx;
  vhdxlog_entry entry;
  build_dirty_image();
  g_file[LOG_OFFSET + SEC + 100] ^= 1; /* a data byte of entry A */
  CHECK_STATUS(vhdxlog_image_parse(g_file, FILE_SIZE, FILE_SIZE, &image, &err),
               VHDXLOG_OK);
  CHECK_STATUS(
      vhdxlog_log_init(&ctx, g_file + LOG_OFFSET, LOG_LENGTH, g_log_guid),
      VHDXLOG_OK);
  CHECK_STATUS(vhdxlog_log_entry(&ctx, 0, &entry, &err),
               VHDXLOG_E_ENTRY_CHECKSUM);
  CHECK(err.offset == 0);
}

int main(void) {
  uint32_t one = 1;
  uint8_t first;
  memcpy(&first, &one, 1);
  printf("port_selftest: %s-endian, %u-bit size_t, %u-bit pointers\n",
         first ? "little" : "big", (unsigned)(8 * sizeof(size_t)),
         (unsigned)(8 * sizeof(void *)));
  test_crc();
  test_status_strings();
  test_header_update();
  test_derive();
  test_dirty_image();
  test_rejects_bad_checksum();
  printf("%u passed, %u failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
