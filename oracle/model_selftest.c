/* SPDX-License-Identifier: MIT */
/*
 * Self-test of the reference model: small images written with testkit (the
 * test side's writer, which shares no code with the model: its own CRC-32C,
 * encoders and header update), expected bytes worked out here from the
 * rules, compared byte for byte. Returns non-zero on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "vhdx_builder.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define SECTOR 4096u
#define LOG_OFF ((uint64_t)MIB)
#define LOG_LEN MIB
#define MAXOFF (((uint64_t)1) << 62)

static int failures;
static int checks;

#define EXPECT(cond)                                                           \
  do {                                                                         \
    checks++;                                                                  \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);       \
      failures++;                                                              \
    }                                                                          \
  } while (0)

/* ---- Images and entries, written with testkit ------------------------- */

/* The LogGuid of every dirty image here: testkit's known-answer input of
 * derive(L), so that derive() needs no implementation of its own. */
#define GUID_L VTK_DERIVE_KAT_IN

static void derive(const uint8_t lg[16], uint8_t out[16]) {
  (void)lg; /* every test derives from GUID_L */
  memcpy(out, VTK_DERIVE_KAT_OUT, 16);
}

static uint8_t GUID_FWG[16]; /* set by main(): vtk_guid(.., 0xF11E) */
static const uint8_t GUID_ZERO[16] = {0};

/* Header 1 and region table 1 of base_image(): templates for the headers
 * and tables the tests write later. */
static uint8_t header1[VTK_HEADER_SIZE];
static uint8_t region_table[VTK_REGION_SIZE];

/* Put a byte in a header's reserved space, so that a header update is seen
 * to keep the rest of the 4 KiB. */
static void mark_header(vtk_image *img, int slot, uint8_t marker) {
  vtk_header(img, slot)[1000] = marker;
  vtk_header_fix_checksum(img, slot);
}

/* A file of `size` bytes: header 1 (seq h1, LogGuid lg1), header 2 (seq h2,
 * LogGuid zero unless h2 >= h1), FileWriteGuid GUID_FWG, both region tables
 * (BAT at 2 MiB, metadata at 3 MiB), an empty log at 1 MiB, bytes past
 * 2 MiB set to 0xAB and 4 KiB at 512 KiB set to 0xCD. free() it. */
static uint8_t *base_image(size_t size, uint64_t h1, const uint8_t lg1[16],
                           uint64_t h2) {
  vtk_image_spec spec;
  vtk_image img;
  vtk_image_spec_default(&spec);
  spec.file_size = size;
  spec.header_seq[0] = h1;
  spec.header_seq[1] = h2;
  memcpy(spec.log_guid, lg1, 16);
  memcpy(spec.file_write_guid, GUID_FWG, 16);
  spec.fill_seed = 0;
  vtk_image_build(&img, &spec);
  mark_header(&img, 0, 0x5A);
  mark_header(&img, 1, 0x33);
  memset(img.data + 512 * KIB, 0xCD, 4096);
  if (size > 2 * (size_t)MIB)
    memset(img.data + 2 * MIB, 0xAB, size - 2 * (size_t)MIB);
  if (h1 > h2)
    memcpy(header1, vtk_header(&img, 0), VTK_HEADER_SIZE);
  memcpy(region_table, vtk_region_table(&img, 0), VTK_REGION_SIZE);
  return img.data;
}

/* Header `slot` of `img`: header 1 of base_image() with SequenceNumber
 * `seq`, FileWriteGuid `fwg` and LogGuid `lg`. */
static void set_header(uint8_t *img, int slot, uint64_t seq,
                       const uint8_t fwg[16], const uint8_t lg[16]) {
  uint8_t *h = img + (slot == 0 ? VTK_HEADER1 : VTK_HEADER2);
  vtk_header_update(header1, fwg, lg, h);
  vtk_put_le64(h + 8, seq);
  vtk_header_raw_fix_checksum(h);
}

/* The headers a replay leaves after base_image(.., 5, GUID_L, 4): seq 6
 * (F, L) over slot 2, seq 7 (F, 0) over slot 1, seq 8 (F, 0) over slot 2. */
static void set_replayed_headers(uint8_t *img) {
  uint8_t f[16];
  derive(GUID_L, f);
  set_header(img, 0, 7, f, GUID_ZERO);
  set_header(img, 1, 8, f, GUID_ZERO);
}

/* Region table copy 1 of `img` (`size` bytes) back to base_image()'s. */
static void reset_region_table(uint8_t *img) {
  memcpy(img + VTK_REGION1, region_table, VTK_REGION_SIZE);
}

/* Region table copy 1's entry `index`: set it (raising EntryCount) or
 * change its count, and fix its checksum. */
static void set_region(uint8_t *img, size_t size, uint32_t index,
                       const uint8_t guid[16], uint64_t off, uint32_t len) {
  vtk_image v;
  vtk_region r;
  v.data = img;
  v.size = size;
  memcpy(r.guid, guid, 16);
  r.file_offset = off;
  r.length = len;
  r.required = 1;
  vtk_region_set(&v, 0, index, &r);
}

static void set_region_count(uint8_t *img, size_t size, uint32_t count) {
  vtk_image v;
  v.data = img;
  v.size = size;
  vtk_region_set_count(&v, 0, count);
}

/* Write an entry at log sector `sector`, wrapping, with a correct
 * checksum. */
static void write_entry(uint8_t *log, uint32_t log_len, uint32_t sector,
                        uint64_t seq, uint32_t tail, uint64_t flushed,
                        uint64_t last, const uint8_t lg[16], const vtk_desc *d,
                        uint32_t nd) {
  vtk_entry e = vtk_entry_make(seq, tail, lg, flushed, last, d, nd);
  if (vtk_log_write_entry(log, log_len, sector * SECTOR, &e) == 0)
    abort();
}

static int same(const model_result *r, const uint8_t *exp, size_t size) {
  return r->image != NULL && r->image_size == size &&
         memcmp(r->image, exp, size) == 0;
}

static uint8_t *copy_of(const uint8_t *p, size_t size) {
  uint8_t *c = malloc(size);
  if (c == NULL)
    abort();
  memcpy(c, p, size);
  return c;
}

/* model_replay() into *r must replay the log and leave `exp`; the caller
 * checks the rest of *r and frees it. */
static void expect_replayed(const uint8_t *in, size_t size, uint64_t max_size,
                            const uint8_t *exp, size_t exp_size,
                            model_result *r) {
  model_replay(in, size, max_size, r);
  EXPECT(r->status == VHDXLOG_OK && r->replayed == 1);
  EXPECT(same(r, exp, exp_size));
}

/* model_replay() gives `st` and leaves the image as it was: nothing
 * replayed, no header repaired. */
static void expect_unchanged(const uint8_t *in, size_t size, uint64_t max_size,
                             vhdxlog_status st, int line) {
  model_result r;
  model_replay(in, size, max_size, &r);
  if (r.status != st)
    fprintf(stderr, "line %d: status %d, expected %d\n", line, (int)r.status,
            (int)st);
  EXPECT(r.status == st);
  EXPECT(r.replayed == 0 && r.headers_repaired == 0);
  EXPECT(same(&r, in, size));
  model_result_free(&r);
}

/* ---- The tests ---------------------------------------------------------- */

static void test_crc_and_derive_agree_with_independent_versions(void) {
  const uint8_t vec[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  uint8_t a[16], b[16];
  EXPECT(vtk_crc32c(0, vec, 9) == 0xE3069283u);
  EXPECT(model_crc32c(vec, 9) == 0xE3069283u);
  EXPECT(model_crc32c(vec, 0) == 0);
  derive(GUID_L, a);
  model_derive_file_write_guid(GUID_L, b);
  EXPECT(memcmp(a, b, 16) == 0);
  vtk_derive_file_write_guid(GUID_L, a);
  EXPECT(memcmp(a, b, 16) == 0);
  EXPECT((b[7] >> 4) == 4 && (b[8] >> 6) == 2);
}

/* model_crc32c() (a table of mdl_crc_byte's bit-wise definition) agrees
 * with testkit's CRC over every byte value, at every length up to 512 and
 * over a mostly zero buffer. */
static void test_crc_agrees_with_testkit(void) {
  static uint8_t buf[3 * 4096];
  size_t n;
  int ok = 1;
  for (n = 0; n < 512; n++)
    buf[n] = (uint8_t)(n * 7); /* every byte value */
  for (n = 0; n <= 512 && ok; n++)
    ok = model_crc32c(buf, n) == vtk_crc32c(0, buf, n);
  EXPECT(ok);
  memset(buf, 0, sizeof buf);
  buf[sizeof buf - 1] = 1;
  EXPECT(model_crc32c(buf, sizeof buf) == vtk_crc32c(0, buf, sizeof buf));
}

/* The dirty image of several tests: one entry at log offset 0 with a data
 * descriptor past the end of the file (gap), a zero descriptor over existing
 * bytes, and a data descriptor right after it. */
#define D1_SIZE (2 * (size_t)MIB + 12 * KIB)
#define D1_SEQ ((((uint64_t)7) << 32) | 9u)
static const vtk_desc d1_descs[3] = {
    {VTK_DATA, 2 * (uint64_t)MIB + 16 * KIB, 0, NULL, 0x10},
    {VTK_ZERO, 2 * (uint64_t)MIB, 8192, NULL, 0},
    {VTK_DATA, 2 * (uint64_t)MIB + 8 * KIB, 0, NULL, 0x70}};

static uint8_t *dirty_image(uint64_t flushed, uint64_t last) {
  uint8_t *img = base_image(D1_SIZE, 5, GUID_L, 4);
  write_entry(img + LOG_OFF, LOG_LEN, 0, D1_SEQ, 0, flushed, last, GUID_L,
              d1_descs, 3);
  return img;
}

/* What RULES.md says the dirty image becomes, computed here. */
static uint8_t *dirty_expected(size_t *size) {
  uint8_t *in = dirty_image(2 * (uint64_t)MIB, 3 * (uint64_t)MIB);
  uint8_t *exp = calloc(1, 3 * (size_t)MIB);
  if (exp == NULL)
    abort();
  memcpy(exp, in, D1_SIZE);
  vtk_desc_sector(&d1_descs[0], exp + 2 * MIB + 16 * KIB);
  memset(exp + 2 * MIB, 0, 8192);
  vtk_desc_sector(&d1_descs[2], exp + 2 * MIB + 8 * KIB);
  /* seq 6 (F, L) over slot 2, seq 7 (F, 0) over slot 1, seq 8 over slot 2 */
  set_replayed_headers(exp);
  free(in);
  *size = 3 * (size_t)MIB;
  return exp;
}

static void test_dirty_one_entry_replays_to_expected_bytes(void) {
  uint8_t *in = dirty_image(2 * (uint64_t)MIB, 3 * (uint64_t)MIB);
  uint8_t *in_copy = copy_of(in, D1_SIZE);
  size_t exp_size;
  uint8_t *exp = dirty_expected(&exp_size);
  model_result r, r2;

  model_replay(in, D1_SIZE, 64 * (uint64_t)MIB, &r);
  EXPECT(r.status == VHDXLOG_OK);
  EXPECT(r.replayed == 1 && r.headers_repaired == 0);
  EXPECT(r.tail_offset == 0 && r.head_offset == 0 && r.entry_count == 1);
  EXPECT(r.head_sequence_number == D1_SEQ);
  EXPECT(same(&r, exp, exp_size));
  EXPECT(memcmp(in, in_copy, D1_SIZE) == 0); /* input untouched */
  {
    /* In place, in a buffer with room: the same bytes, the same result,
     * and every changed byte inside a listed range. */
    uint8_t *buf = calloc(1, exp_size);
    model_result ri;
    size_t i, k, outside = 0;
    if (buf == NULL)
      abort();
    memcpy(buf, in, D1_SIZE);
    model_replay_in(buf, D1_SIZE, exp_size, 64 * (uint64_t)MIB, &ri);
    EXPECT(ri.status == VHDXLOG_OK && ri.replayed == 1 && ri.image == buf &&
           !ri.image_owned);
    EXPECT(same(&ri, exp, exp_size));
    for (i = 0; i < exp_size; i++) {
      int listed = 0;
      if (buf[i] == (i < D1_SIZE ? in[i] : 0) || buf[i] == 0)
        continue;
      for (k = 0; k < ri.written_count; k++)
        listed |= i >= ri.written[k][0] && i < ri.written[k][1];
      outside += !listed;
    }
    EXPECT(outside == 0);
    model_result_free(&ri);
    free(buf);
  }

  /* Replaying the result again: clean, nothing to do. */
  model_replay(r.image, (size_t)r.image_size, 64 * (uint64_t)MIB, &r2);
  EXPECT(r2.status == VHDXLOG_OK && r2.replayed == 0 &&
         r2.headers_repaired == 0);
  EXPECT(same(&r2, exp, exp_size));
  model_result_free(&r2);
  model_result_free(&r);
  free(in);
  free(in_copy);
  free(exp);
}

static void test_rerun_after_interruption_reaches_same_bytes(void) {
  size_t exp_size;
  uint8_t *exp = dirty_expected(&exp_size);
  uint8_t f[16];
  uint8_t *in;
  model_result r;
  derive(GUID_L, f);

  /* Stopped after step 1 (slot 2: seq 6, F, L) and one descriptor. */
  in = dirty_image(2 * (uint64_t)MIB, 3 * (uint64_t)MIB);
  set_header(in, 1, 6, f, GUID_L);
  memset(in + 2 * MIB, 0, 8192);
  expect_replayed(in, D1_SIZE, 64 * (uint64_t)MIB, exp, exp_size, &r);
  model_result_free(&r);
  free(in);

  /* Stopped between the two writes of step 4: slot 1 has seq 7 (F, 0),
   * slot 2 still seq 6 (F, L). Clean; the completion case applies. */
  in = copy_of(exp, exp_size);
  set_header(in, 1, 6, f, GUID_L);
  model_replay(in, exp_size, 0, &r);
  EXPECT(r.status == VHDXLOG_OK && r.replayed == 0 && r.headers_repaired == 1);
  EXPECT(same(&r, exp, exp_size));
  model_result_free(&r);

  /* Not our interruption: the other header's number is not one less. */
  set_header(in, 1, 5, f, GUID_L);
  expect_unchanged(in, exp_size, 0, VHDXLOG_OK, __LINE__);

  /* Not our interruption: current FileWriteGuid is not derive(L). */
  set_header(in, 1, 6, f, GUID_L);
  set_header(in, 0, 7, GUID_FWG, GUID_ZERO);
  expect_unchanged(in, exp_size, 0, VHDXLOG_OK, __LINE__);
  free(in);
  free(exp);
}

static void test_clean_image_is_left_alone(void) {
  uint8_t *in = base_image(2 * (size_t)MIB, 3, GUID_ZERO, 2);
  expect_unchanged(in, 2 * (size_t)MIB, 0, VHDXLOG_OK, __LINE__);
  free(in);
}

static void test_corrupt_images_fail_unchanged(void) {
  uint8_t *in, unknown[16];
  model_result r;
  vtk_desc bad;

  /* Image rules. */
  in = dirty_image(2 * (uint64_t)MIB, 3 * (uint64_t)MIB);
  expect_unchanged(in, MIB - 1, 0, VHDXLOG_E_FILE_TOO_SMALL, __LINE__);
  in[64 * KIB + 200] ^= 1;
  in[128 * KIB + 200] ^= 1;
  expect_unchanged(in, D1_SIZE, 64 * (uint64_t)MIB, VHDXLOG_E_NO_VALID_HEADER,
                   __LINE__);
  in[0] = 'V';
  expect_unchanged(in, D1_SIZE, 64 * (uint64_t)MIB, VHDXLOG_E_FILE_SIGNATURE,
                   __LINE__);
  free(in);

  /* Equal sequence numbers: an error unless byte-identical. */
  in = base_image(2 * (size_t)MIB, 5, GUID_ZERO, 5);
  expect_unchanged(in, 2 * (size_t)MIB, 0, VHDXLOG_E_HEADER_SEQUENCE_TIE,
                   __LINE__);
  memcpy(in + 128 * KIB, in + 64 * KIB, 4096);
  expect_unchanged(in, 2 * (size_t)MIB, 0, VHDXLOG_OK, __LINE__);
  free(in);

  /* Region tables: copy 2 stands in for a broken copy 1; both broken. */
  in = base_image(2 * (size_t)MIB, 3, GUID_ZERO, 2);
  in[192 * KIB + 100] ^= 1;
  expect_unchanged(in, 2 * (size_t)MIB, 0, VHDXLOG_OK, __LINE__);
  in[256 * KIB + 100] ^= 1;
  expect_unchanged(in, 2 * (size_t)MIB, 0, VHDXLOG_E_NO_VALID_REGION_TABLE,
                   __LINE__);
  /* Copy 1 valid but without the metadata region: its rule is reported. */
  reset_region_table(in);
  set_region_count(in, 2 * (size_t)MIB, 1);
  expect_unchanged(in, 2 * (size_t)MIB, 0, VHDXLOG_E_REGION_MISSING, __LINE__);
  /* Each region rule is checked over all entries before the next rule, in
   * RULES.md's order: entry fields, duplicates, unknown Required, missing,
   * overlap. Entry 2: unknown GUID marked Required; entry 3: the same GUID
   * again, and (second case) FileOffset 0. */
  memset(unknown, 0x77, 16);
  reset_region_table(in);
  set_region(in, 2 * (size_t)MIB, 2, unknown, 5 * (uint64_t)MIB, MIB);
  set_region(in, 2 * (size_t)MIB, 3, unknown, 6 * (uint64_t)MIB, MIB);
  expect_unchanged(in, 2 * (size_t)MIB, 0, VHDXLOG_E_REGION_DUPLICATE,
                   __LINE__);
  unknown[0] ^= 1;
  set_region(in, 2 * (size_t)MIB, 3, unknown, 0, MIB);
  expect_unchanged(in, 2 * (size_t)MIB, 0, VHDXLOG_E_REGION_ENTRY, __LINE__);
  /* The log over the BAT region. */
  reset_region_table(in);
  set_region(in, 2 * (size_t)MIB, 0, VTK_GUID_BAT, LOG_OFF, MIB);
  expect_unchanged(in, 2 * (size_t)MIB, 0, VHDXLOG_E_REGION_OVERLAP, __LINE__);
  free(in);

  /* No complete sequence, and the only candidate has a field no correct
   * writer writes (SequenceNumber 0): damage, refused. */
  in = dirty_image(2 * (uint64_t)MIB, 3 * (uint64_t)MIB);
  vtk_put_le64(in + LOG_OFF + 16, 0);
  expect_unchanged(in, D1_SIZE, 64 * (uint64_t)MIB, VHDXLOG_E_LOG_NO_SEQUENCE,
                   __LINE__);
  free(in);

  /* A torn entry (a data byte differs, so the checksum does not match):
   * what a power cut leaves; the log is cleared, no data written. */
  in = dirty_image(2 * (uint64_t)MIB, 3 * (uint64_t)MIB);
  in[LOG_OFF + SECTOR + 100] ^= 1;
  model_replay(in, D1_SIZE, 64 * (uint64_t)MIB, &r);
  EXPECT(r.status == VHDXLOG_OK && r.armed_cleared == 1 && r.replayed == 0);
  EXPECT(r.image_size == D1_SIZE &&
         memcmp(r.image + 192 * KIB, in + 192 * KIB, D1_SIZE - 192 * KIB) == 0);
  EXPECT(memcmp(r.image + 64 * KIB + 48, GUID_ZERO, 16) == 0 &&
         memcmp(r.image + 128 * KIB + 48, GUID_ZERO, 16) == 0);
  model_result_free(&r);
  free(in);

  /* FlushedFileOffset beyond the file. */
  in = dirty_image(3 * (uint64_t)MIB, 3 * (uint64_t)MIB);
  model_replay(in, D1_SIZE, 64 * (uint64_t)MIB, &r);
  EXPECT(r.status == VHDXLOG_E_FILE_TRUNCATED);
  EXPECT(r.entry_count == 1 && r.head_sequence_number == D1_SEQ);
  EXPECT(same(&r, in, D1_SIZE));
  model_result_free(&r);
  free(in);

  /* Growing past max_size. */
  in = dirty_image(2 * (uint64_t)MIB, 3 * (uint64_t)MIB);
  expect_unchanged(in, D1_SIZE, 3 * (uint64_t)MIB - 1, VHDXLOG_E_IO, __LINE__);
  free(in);

  /* Writes into the first MiB (header 2's slot, the reserved space, the
   * identifier) or into the log: refused before any write. */
  {
    static const uint64_t below_1mib[3] = {128 * KIB + 4 * KIB, 320 * KIB, 0};
    int k;
    for (k = 0; k < 3; k++) {
      bad = vtk_data(below_1mib[k], 1);
      in = base_image(D1_SIZE, 5, GUID_L, 4);
      write_entry(in + LOG_OFF, LOG_LEN, 0, 3, 0, 0, 0, GUID_L, &bad, 1);
      expect_unchanged(in, D1_SIZE, 64 * (uint64_t)MIB,
                       VHDXLOG_E_DESCRIPTOR_TARGET, __LINE__);
      free(in);
    }
  }
  bad = vtk_zero(LOG_OFF + LOG_LEN - 4096, 8192);
  in = base_image(D1_SIZE, 5, GUID_L, 4);
  write_entry(in + LOG_OFF, LOG_LEN, 0, 3, 0, 0, 0, GUID_L, &bad, 1);
  expect_unchanged(in, D1_SIZE, 64 * (uint64_t)MIB, VHDXLOG_E_DESCRIPTOR_TARGET,
                   __LINE__);
  free(in);
}

static void test_descriptor_edges(void) {
  uint8_t *in, *exp;
  model_result r;
  vtk_desc d[2];

  /* A zero-length zero descriptor far past the end is a no-op: the file
   * does not grow. A data write just past the log, inside the file. */
  d[0] = vtk_zero(100 * (uint64_t)MIB, 0);
  d[1] = vtk_data(2 * (uint64_t)MIB + 4 * KIB, 0x42); /* after the log */
  in = base_image(D1_SIZE, 5, GUID_L, 4);
  write_entry(in + LOG_OFF, LOG_LEN, 0, 3, 0, 0, 0, GUID_L, d, 2);
  exp = copy_of(in, D1_SIZE);
  vtk_desc_sector(&d[1], exp + 2 * MIB + 4 * KIB);
  set_replayed_headers(exp);
  expect_replayed(in, D1_SIZE, D1_SIZE, exp, D1_SIZE, &r);
  model_result_free(&r);
  free(in);
  free(exp);
}

static void test_wrapped_sequence_beats_older_and_incomplete_runs(void) {
  const size_t size = 2 * (size_t)MIB + 64 * KIB;
  const uint32_t tail = 254 * SECTOR;
  vtk_desc a[2], b[1], c[1];
  uint8_t *in = base_image(size, 5, GUID_L, 4);
  uint8_t *exp;
  model_result r;
  uint64_t x = 2 * (uint64_t)MIB + 8 * KIB, y = 2 * (uint64_t)MIB + 32 * KIB;

  a[0] = vtk_data(x, 1);
  a[1] = vtk_data(y, 2);
  b[0] = vtk_data(x, 3);
  c[0] = vtk_data(x, 9);
  /* A: sectors 254, 255, 0 (wraps), seq 20. B: sectors 1, 2, seq 21.
   * Both name A as tail. */
  write_entry(in + LOG_OFF, LOG_LEN, 254, 20, tail, 0, 0, GUID_L, a, 2);
  write_entry(in + LOG_OFF, LOG_LEN, 1, 21, tail, 0, 0, GUID_L, b, 1);
  /* An older complete one-entry sequence and a newer incomplete one. */
  write_entry(in + LOG_OFF, LOG_LEN, 10, 7, 10 * SECTOR, 0, 0, GUID_L, c, 1);
  write_entry(in + LOG_OFF, LOG_LEN, 100, 30, 50 * SECTOR, 0, 0, GUID_L, c, 1);

  exp = copy_of(in, size);
  vtk_desc_sector(&b[0], exp + x); /* B overwrote A's first write */
  vtk_desc_sector(&a[1], exp + y);
  set_replayed_headers(exp);

  expect_replayed(in, size, size, exp, size, &r);
  EXPECT(r.tail_offset == tail && r.head_offset == SECTOR);
  EXPECT(r.entry_count == 2 && r.head_sequence_number == 21);
  model_result_free(&r);

  /* Break A: B alone is incomplete, the old one-entry sequence wins. */
  in[LOG_OFF + 255 * SECTOR + 50] ^= 1;
  memcpy(exp, in, size);
  vtk_desc_sector(&c[0], exp + x);
  set_replayed_headers(exp);
  expect_replayed(in, size, size, exp, size, &r);
  EXPECT(r.tail_offset == 10 * SECTOR && r.head_offset == 10 * SECTOR);
  EXPECT(r.entry_count == 1 && r.head_sequence_number == 7);
  model_result_free(&r);
  free(in);
  free(exp);
}

static void test_ties_pick_header1_and_first_found_sequence(void) {
  const size_t size = 2 * (size_t)MIB + 64 * KIB;
  uint64_t x = 2 * (uint64_t)MIB + 8 * KIB;
  vtk_desc a[1], b[1];
  uint8_t *in = base_image(size, 5, GUID_L, 4);
  uint8_t *exp;
  model_result r;

  /* Byte-identical headers with equal numbers: header 1 is current, so the
   * first update goes over header 2. */
  memcpy(in + 128 * KIB, in + 64 * KIB, 4096);
  a[0] = vtk_data(x, 0x61);
  b[0] = vtk_data(x, 0x62);
  /* Two complete sequences with the same head number: the first one the
   * scan finds (lower log offset) is kept. */
  write_entry(in + LOG_OFF, LOG_LEN, 50, 9, 50 * SECTOR, 0, 0, GUID_L, b, 1);
  write_entry(in + LOG_OFF, LOG_LEN, 5, 9, 5 * SECTOR, 0, 0, GUID_L, a, 1);

  exp = copy_of(in, size);
  vtk_desc_sector(&a[0], exp + x);
  set_replayed_headers(exp);
  expect_replayed(in, size, size, exp, size, &r);
  EXPECT(r.tail_offset == 5 * SECTOR && r.head_sequence_number == 9);
  model_result_free(&r);
  free(in);
  free(exp);
}

static void test_run_filling_the_whole_log(void) {
  /* A: sectors 0..254 (2 descriptor sectors: 253 data + 1 zero descriptor,
   * the zero one in the last slot of sector 1); B: sector 255 alone, tail 0.
   * The run covers exactly the N sectors of the log. */
  const size_t size = 2 * (size_t)MIB + 64 * KIB;
  uint64_t x = 2 * (uint64_t)MIB;
  vtk_desc *a = calloc(254, sizeof *a);
  vtk_desc b[1];
  uint8_t *in = base_image(size, 5, GUID_L, 4);
  uint8_t *exp;
  uint32_t i;
  model_result r;
  if (a == NULL)
    abort();
  for (i = 0; i < 253; i++) {
    a[i] = vtk_data(x + SECTOR * (i % 4), i); /* later ones win */
  }
  a[253] = vtk_zero(x + 5 * SECTOR, SECTOR);
  b[0] = vtk_zero(x + 7 * SECTOR, 2 * SECTOR);
  write_entry(in + LOG_OFF, LOG_LEN, 0, 40, 0, 0, 0, GUID_L, a, 254);
  write_entry(in + LOG_OFF, LOG_LEN, 255, 41, 0, 0, 0, GUID_L, b, 1);
  EXPECT(model_entry_check(in + LOG_OFF, LOG_LEN, GUID_L, 0, &i) == VHDXLOG_OK);

  exp = copy_of(in, size);
  for (i = 249; i < 253; i++)
    vtk_desc_sector(&a[i], exp + x + SECTOR * (i % 4));
  memset(exp + x + 5 * SECTOR, 0, SECTOR);
  memset(exp + x + 7 * SECTOR, 0, 2 * SECTOR);
  set_replayed_headers(exp);
  expect_replayed(in, size, size, exp, size, &r);
  EXPECT(r.tail_offset == 0 && r.head_offset == 255 * SECTOR);
  EXPECT(r.entry_count == 2 && r.head_sequence_number == 41);
  model_result_free(&r);
  free(in);
  free(exp);
  free(a);
}

static uint32_t rng_state = 12345u;
static uint32_t rnd(uint32_t bound) {
  rng_state = rng_state * 1103515245u + 12345u;
  return (rng_state >> 8) % bound;
}

/* Random logs of chained entries (some wrapping, some overlapping, some
 * corrupted): the model's scan must agree with its brute force (it aborts
 * otherwise), and a successful replay must leave a clean image that a
 * second replay leaves unchanged. */
static void test_random_logs_keep_model_consistent(int iterations) {
  const size_t size = 2 * (size_t)MIB + 64 * KIB;
  int iter, ok = 0;
  for (iter = 0; iter < iterations; iter++) {
    uint8_t *in = base_image(size, 5, GUID_L, 4);
    uint32_t chains = 1 + rnd(4), c, flips, i;
    model_result r, r2;
    for (c = 0; c < chains; c++) {
      uint32_t start = rnd(256), at = start, m = 1 + rnd(4), j;
      uint64_t seq = 1 + rnd(6);
      for (j = 0; j < m; j++) {
        vtk_desc d[3];
        uint32_t nd = 1 + rnd(3), k, sectors = 1, tail;
        for (k = 0; k < nd; k++) {
          int zero = rnd(3) == 0;
          uint64_t off = 2 * (uint64_t)MIB + SECTOR * (uint64_t)rnd(64);
          uint64_t len = SECTOR * (uint64_t)rnd(3);
          uint32_t seed = rnd(256);
          d[k] = zero ? vtk_zero(off, len) : vtk_data(off, seed);
          sectors += d[k].kind == VTK_DATA;
        }
        tail = rnd(4) == 0 ? rnd(256) * SECTOR : start * SECTOR;
        write_entry(in + LOG_OFF, LOG_LEN, at, seq + j, tail, 0,
                    rnd(2) * 3 * (uint64_t)MIB, GUID_L, d, nd);
        at = (at + sectors) % 256;
      }
    }
    flips = rnd(3);
    for (i = 0; i < flips; i++)
      in[LOG_OFF + rnd(LOG_LEN)] ^= (uint8_t)(1u << rnd(8));
    model_replay(in, size, 16 * (uint64_t)MIB, &r);
    EXPECT(r.status == VHDXLOG_OK || r.status == VHDXLOG_E_LOG_NO_SEQUENCE);
    if (r.status == VHDXLOG_OK) {
      ok++;
      EXPECT(r.replayed == 1 && r.entry_count >= 1);
      model_replay(r.image, (size_t)r.image_size, 16 * (uint64_t)MIB, &r2);
      EXPECT(r2.status == VHDXLOG_OK && r2.replayed == 0 &&
             r2.headers_repaired == 0);
      EXPECT(same(&r2, r.image, (size_t)r.image_size));
      model_result_free(&r2);
    } else {
      EXPECT(same(&r, in, size));
    }
    model_result_free(&r);
    free(in);
  }
  printf("random logs: %d of %d replayed\n", ok, iter);
  EXPECT(ok * 2 > iterations); /* the generator makes replayable logs */
}

/* Entry rules one at a time: build a valid entry, break one field. */
static uint8_t *entry_log;
static const vtk_desc e_descs[3] = {
    {VTK_DATA, 8 * (uint64_t)MIB, 0, NULL, 0x10},
    {VTK_ZERO, 9 * (uint64_t)MIB, 8192, NULL, 0},
    {VTK_DATA, 10 * (uint64_t)MIB, 0, NULL, 0x20}};
#define E_SEQ ((((uint64_t)3) << 32) | 1u)

static void fresh_entry(void) {
  memset(entry_log, 0, LOG_LEN);
  write_entry(entry_log, LOG_LEN, 0, E_SEQ, 0, MIB, 2 * (uint64_t)MIB, GUID_L,
              e_descs, 3);
}

static void expect_entry(vhdxlog_status st, uint32_t index, int line) {
  uint32_t got_index = 12345;
  vhdxlog_status got =
      model_entry_check(entry_log, LOG_LEN, GUID_L, 0, &got_index);
  if (got != st || got_index != index)
    fprintf(stderr, "line %d: status %d index %u, expected %d index %u\n", line,
            (int)got, (unsigned)got_index, (int)st, (unsigned)index);
  EXPECT(got == st && got_index == index);
  fresh_entry();
}

static void test_entry_rules_in_order(void) {
  const uint32_t none = VHDXLOG_NO_INDEX;
  uint8_t *h, *d1, *d2;
  uint32_t idx;
  entry_log = malloc(LOG_LEN);
  if (entry_log == NULL)
    abort();
  h = entry_log;
  d1 = h + 64 + 32;
  d2 = h + 64 + 64;
  fresh_entry();
  expect_entry(VHDXLOG_OK, none, __LINE__);
  EXPECT(model_entry_check(entry_log, LOG_LEN, GUID_L, 100, &idx) ==
         VHDXLOG_E_ARGUMENT);
  EXPECT(model_entry_check(entry_log, LOG_LEN, GUID_L, LOG_LEN, &idx) ==
         VHDXLOG_E_ARGUMENT);
  EXPECT(model_entry_check(entry_log, LOG_LEN, GUID_L, SECTOR, &idx) ==
         VHDXLOG_E_ENTRY_SIGNATURE);

  h[3] = 'E';
  expect_entry(VHDXLOG_E_ENTRY_SIGNATURE, none, __LINE__);
  vtk_put_le32(h + 8, 0);
  expect_entry(VHDXLOG_E_ENTRY_LENGTH, none, __LINE__);
  vtk_put_le32(h + 8, 3 * SECTOR + 1);
  expect_entry(VHDXLOG_E_ENTRY_LENGTH, none, __LINE__);
  vtk_put_le32(h + 8, LOG_LEN + SECTOR);
  expect_entry(VHDXLOG_E_ENTRY_LENGTH, none, __LINE__);
  vtk_put_le32(h + 12, 2048);
  expect_entry(VHDXLOG_E_ENTRY_TAIL, none, __LINE__);
  vtk_put_le32(h + 12, LOG_LEN);
  expect_entry(VHDXLOG_E_ENTRY_TAIL, none, __LINE__);
  vtk_put_le64(h + 16, 0);
  expect_entry(VHDXLOG_E_ENTRY_SEQUENCE_ZERO, none, __LINE__);
  vtk_put_le32(h + 28, 1);
  expect_entry(VHDXLOG_E_ENTRY_RESERVED, none, __LINE__);
  h[47] ^= 1;
  expect_entry(VHDXLOG_E_ENTRY_GUID, none, __LINE__);
  vtk_put_le64(h + 48, MIB + SECTOR);
  expect_entry(VHDXLOG_E_ENTRY_FLUSHED_OFFSET, none, __LINE__);
  /* Past our 2^62 bound: valid by the spec's rules (the plan refuses it);
   * the checksum, not resealed here, is the first rule broken. */
  vtk_put_le64(h + 48, MAXOFF + MIB);
  expect_entry(VHDXLOG_E_ENTRY_CHECKSUM, none, __LINE__);
  vtk_put_le64(h + 56, MAXOFF + MIB);
  expect_entry(VHDXLOG_E_ENTRY_CHECKSUM, none, __LINE__);
  vtk_put_le64(h + 56, 5);
  expect_entry(VHDXLOG_E_ENTRY_LAST_OFFSET, none, __LINE__);
  vtk_put_le32(h + 24,
               126 + 2 * 128 + 1); /* needs 4 descriptor sectors, has 3 */
  expect_entry(VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT, none, __LINE__);
  vtk_put_le32(h + 24, 0xFFFFFFFFu);
  expect_entry(VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT, none, __LINE__);
  vtk_put_le32(h + 24, 127); /* fits (2 sectors) but descriptor 3 is empty */
  expect_entry(VHDXLOG_E_DESCRIPTOR_SIGNATURE, 3, __LINE__);
  memcpy(d1, "zerO", 4);
  expect_entry(VHDXLOG_E_DESCRIPTOR_SIGNATURE, 1, __LINE__);
  vtk_put_le32(d1 + 4, 1);
  expect_entry(VHDXLOG_E_DESCRIPTOR_RESERVED, 1, __LINE__);
  vtk_put_le64(d1 + 8, 4097);
  expect_entry(VHDXLOG_E_DESCRIPTOR_LENGTH, 1, __LINE__);
  vtk_put_le64(d1 + 8, ((uint64_t)1) << 63);
  expect_entry(VHDXLOG_E_ENTRY_CHECKSUM, none, __LINE__);
  vtk_put_le64(d1 + 8, 8192);
  vtk_put_le64(d1 + 16, MAXOFF - 4096);
  expect_entry(VHDXLOG_E_ENTRY_CHECKSUM, none, __LINE__);
  vtk_put_le64(d1 + 16, MAXOFF - 8192); /* ends exactly at MAX */
  expect_entry(VHDXLOG_E_ENTRY_CHECKSUM, none, __LINE__);
  vtk_put_le64(d2 + 16, MAXOFF);
  expect_entry(VHDXLOG_E_ENTRY_CHECKSUM, none, __LINE__);
  vtk_put_le64(d2 + 16, 4095);
  expect_entry(VHDXLOG_E_DESCRIPTOR_OFFSET, 2, __LINE__);
  vtk_put_le64(d2 + 24, E_SEQ + 1);
  expect_entry(VHDXLOG_E_DESCRIPTOR_SEQUENCE, 2, __LINE__);
  vtk_put_le32(h + 8, 4 * SECTOR);
  expect_entry(VHDXLOG_E_DATA_COUNT, none, __LINE__);
  memcpy(d2, "zero", 4); /* now 1 data descriptor, 2 data sectors */
  vtk_put_le32(d2 + 4, 0);
  vtk_put_le64(d2 + 8, 0);
  expect_entry(VHDXLOG_E_DATA_COUNT, none, __LINE__);
  memcpy(h + 2 * SECTOR, "datA", 4);
  expect_entry(VHDXLOG_E_DATA_SIGNATURE, 1, __LINE__);
  vtk_put_le32(h + SECTOR + 4, 4);
  expect_entry(VHDXLOG_E_DATA_SEQUENCE, 0, __LINE__);
  vtk_put_le32(h + 2 * SECTOR + 4092, 2);
  expect_entry(VHDXLOG_E_DATA_SEQUENCE, 1, __LINE__);
  h[2 * SECTOR + 100] ^= 0x80;
  expect_entry(VHDXLOG_E_ENTRY_CHECKSUM, none, __LINE__);
  h[6] ^= 0x01;
  expect_entry(VHDXLOG_E_ENTRY_CHECKSUM, none, __LINE__);
  free(entry_log);
}

/* Optional argument: iterations of the random test (default 60). */
int main(int argc, char **argv) {
  int iterations = argc > 1 ? atoi(argv[1]) : 60;
  vtk_guid(GUID_FWG, 0xF11Eu);
  test_crc_and_derive_agree_with_independent_versions();
  test_crc_agrees_with_testkit();
  test_entry_rules_in_order();
  test_dirty_one_entry_replays_to_expected_bytes();
  test_rerun_after_interruption_reaches_same_bytes();
  test_clean_image_is_left_alone();
  test_corrupt_images_fail_unchanged();
  test_descriptor_edges();
  test_wrapped_sequence_beats_older_and_incomplete_runs();
  test_ties_pick_header1_and_first_found_sequence();
  test_run_filling_the_whole_log();
  test_random_logs_keep_model_consistent(iterations < 1 ? 1 : iterations);
  if (failures != 0) {
    fprintf(stderr, "model_selftest: %d of %d checks failed\n", failures,
            checks);
    return 1;
  }
  printf("model_selftest: all %d checks passed\n", checks);
  return 0;
}
