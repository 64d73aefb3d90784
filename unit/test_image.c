/* SPDX-License-Identifier: MIT */
/* Image rules of RULES.md "Image" 1..6: each with a passing and a failing
 * case, and the order in which they are checked. */
#include "unit_common.h"

static vhdxlog_image parsed;
static vhdxlog_error perr;

static vhdxlog_status parse(const vtk_image *img) {
  memset(&parsed, 0x5A, sizeof(parsed));
  memset(&perr, 0x5A, sizeof(perr));
  return vhdxlog_image_parse(img->data, VTK_MIB, img->size, &parsed, &perr);
}

/* Parse and expect `want`; on failure error.status and cause both name it
 * (RULES.md: cause = status outside E_LOG_NO_SEQUENCE). */
static int is_region_rule(vhdxlog_status st) {
  return st >= VHDXLOG_E_NO_VALID_REGION_TABLE &&
         st <= VHDXLOG_E_REGION_OVERLAP;
}

static void expect(const vtk_image *img, vhdxlog_status want) {
  vhdxlog_status st = parse(img);
  /* With a dirty log the parse keeps a region-table error and the plan
   * reports it, judged on the replayed state (RULES.md "Image" 4-6): here
   * the log holds nothing, so that is the state on disk. */
  if (st == VHDXLOG_OK && parsed.log_state == VHDXLOG_LOG_DIRTY &&
      is_region_rule(want)) {
    assert_int_equal(parsed.regions.error.status, want);
    unit_plan p;
    st = unit_plan_of(&p, img, VHDXLOG_POLICY_DEFAULT);
    perr = p.error;
  }
  assert_int_equal(st, want);
  if (want != VHDXLOG_OK) {
    assert_int_equal(perr.status, want);
    assert_int_equal(perr.cause, want);
  }
}

/* cmocka fixture: *state is the default clean image. */
UNIT_FIXTURE(default_image, vtk_image, vtk_image_build_default, vtk_image_free)

/* cmocka fixture: a default spec for the test to change, and the image it
 * builds from it (freed after the test). */
typedef struct spec_image {
  vtk_image_spec s;
  vtk_image img;
} spec_image;

static void spec_default(spec_image *x) { vtk_image_spec_default(&x->s); }
static void spec_image_free(spec_image *x) { vtk_image_free(&x->img); }
UNIT_FIXTURE(default_spec, spec_image, spec_default, spec_image_free)

static void build_dirty(vtk_image *img, uint32_t guid_seed) {
  vtk_image_spec s;
  vtk_image_spec_default(&s);
  vtk_guid(s.log_guid, guid_seed);
  vtk_image_build(img, &s);
}

static vtk_region region(const uint8_t guid[16], uint64_t off, uint32_t len,
                         uint32_t required) {
  vtk_region r;
  memcpy(r.guid, guid, 16);
  r.file_offset = off;
  r.length = len;
  r.required = required;
  return r;
}

static vtk_region unknown_region(uint32_t seed, uint64_t off, uint32_t len,
                                 uint32_t required) {
  uint8_t g[16];
  vtk_guid(g, seed);
  return region(g, off, len, required);
}

/* --- whole-image basics ------------------------------------------------ */

static void test_image_parses_default_clean_image(void **state) {
  vtk_image *img = *state;
  expect(img, VHDXLOG_OK);
  assert_int_equal(parsed.file_size, 4u * VTK_MIB);
  assert_int_equal(parsed.current, 1);
  assert_int_equal(parsed.headers_identical, 0);
  assert_true(parsed.headers[0].valid);
  assert_true(parsed.headers[1].valid);
  assert_int_equal(parsed.headers[0].sequence_number, 1);
  assert_int_equal(parsed.headers[1].sequence_number, 2);
  assert_int_equal(parsed.headers[1].version, 1);
  assert_int_equal(parsed.headers[1].log_version, 0);
  assert_int_equal(parsed.headers[1].log_offset, VTK_MIB);
  assert_int_equal(parsed.headers[1].log_length, VTK_MIB);
  assert_int_equal(parsed.headers[1].checksum,
                   vtk_get_le32(vtk_header(img, 1) + 4));
  assert_memory_equal(parsed.headers[1].file_write_guid,
                      vtk_header(img, 1) + 16, 16);
  assert_memory_equal(parsed.headers[1].data_write_guid,
                      vtk_header(img, 1) + 32, 16);
  assert_memory_equal(parsed.current_header, vtk_header(img, 1), 4096);
  assert_int_equal(parsed.log_state, VHDXLOG_LOG_CLEAN);
  assert_int_equal(parsed.log_offset, VTK_MIB);
  assert_int_equal(parsed.log_length, VTK_MIB);
  assert_true(vtk_guid_is_zero(parsed.log_guid));
  assert_true(parsed.regions.valid[0]);
  assert_true(parsed.regions.valid[1]);
  assert_int_equal(parsed.regions.used, 0);
  assert_int_equal(parsed.regions.entry_count, 2);
  assert_int_equal(parsed.regions.bat_offset, 2u * VTK_MIB);
  assert_int_equal(parsed.regions.bat_length, VTK_MIB);
  assert_int_equal(parsed.regions.metadata_offset, 3u * VTK_MIB);
  assert_int_equal(parsed.regions.metadata_length, VTK_MIB);
}

static void test_image_reports_dirty_log_with_its_guid(void **state) {
  (void)state;
  vtk_image img;
  build_dirty(&img, 33);
  expect(&img, VHDXLOG_OK);
  uint8_t g[16];
  vtk_guid(g, 33);
  assert_int_equal(parsed.log_state, VHDXLOG_LOG_DIRTY);
  assert_memory_equal(parsed.log_guid, g, 16);
  assert_memory_equal(parsed.headers[1].log_guid, g, 16);
  vtk_image_free(&img);
}

static void test_image_rejects_file_smaller_than_header_area(void **state) {
  vtk_image *img = *state;
  img->size = VTK_MIB - 1;
  expect(img, VHDXLOG_E_FILE_TOO_SMALL);
  img->size = 0;
  expect(img, VHDXLOG_E_FILE_TOO_SMALL);
  /* size is checked before the signature */
  img->data[0] = 'X';
  expect(img, VHDXLOG_E_FILE_TOO_SMALL);
  img->size = 4u * VTK_MIB;
}

static void test_image_accepts_file_of_exactly_header_area(void **state) {
  spec_image *x = *state;
  x->s.file_size = VTK_MIB;
  vtk_image_build(&x->img, &x->s);
  expect(&x->img, VHDXLOG_OK);
  assert_int_equal(parsed.file_size, VTK_MIB);
}

static void test_image_rejects_bad_file_signature(void **state) {
  vtk_image *img = *state;
  img->data[7] = 'F'; /* "vhdxfilF": compared as raw bytes */
  expect(img, VHDXLOG_E_FILE_SIGNATURE);
  img->data[7] = 'e';
  img->data[0] = 'V';
  expect(img, VHDXLOG_E_FILE_SIGNATURE);
}

static void test_image_rejects_null_or_short_input(void **state) {
  vtk_image *img = *state;
  vhdxlog_image out;
  vhdxlog_error e;
  assert_int_equal(vhdxlog_image_parse(NULL, VTK_MIB, img->size, &out, &e),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(
      vhdxlog_image_parse(img->data, VTK_MIB - 1, img->size, &out, &e),
      VHDXLOG_E_ARGUMENT);
  assert_int_equal(vhdxlog_image_parse(img->data, VTK_MIB, img->size, NULL, &e),
                   VHDXLOG_E_ARGUMENT);
}

/* --- rule 2: current header --------------------------------------------- */

static void test_image_current_is_header_with_greater_sequence(void **state) {
  (void)state;
  static const uint64_t seqs[][2] = {{5, 3},
                                     {3, 5},
                                     {0, 1},
                                     {1, 0},
                                     {UINT64_MAX, UINT64_MAX - 1},
                                     {UINT64_MAX - 1, UINT64_MAX}};
  for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
    vtk_image_spec s;
    vtk_image img;
    vtk_image_spec_default(&s);
    s.header_seq[0] = seqs[i][0];
    s.header_seq[1] = seqs[i][1];
    vtk_image_build(&img, &s);
    expect(&img, VHDXLOG_OK);
    assert_int_equal(parsed.current, seqs[i][1] > seqs[i][0] ? 1 : 0);
    assert_int_equal(parsed.headers_identical, 0);
    vtk_image_free(&img);
  }
}

static void test_image_current_is_only_valid_header_by_checksum(void **state) {
  (void)state;
  vtk_image img;
  vtk_image_build_default(&img);    /* header 2 has the greater number */
  vtk_header(&img, 1)[200] ^= 0x10; /* checksum no longer matches */
  expect(&img, VHDXLOG_OK);
  assert_int_equal(parsed.current, 0);
  assert_false(parsed.headers[1].valid);
  assert_true(parsed.headers[0].valid);
  vtk_image_free(&img);

  vtk_image_build_default(&img);
  vtk_header_set_seq(&img, 0, 10);
  vtk_header(&img, 0)[4] ^= 1; /* the stored checksum itself */
  expect(&img, VHDXLOG_OK);
  assert_int_equal(parsed.current, 1);
  assert_false(parsed.headers[0].valid);
  vtk_image_free(&img);
}

static void test_image_current_is_only_valid_header_by_signature(void **state) {
  vtk_image *img = *state;
  vtk_header(img, 1)[0] = 'H'; /* "Head" */
  vtk_header_fix_checksum(img, 1);
  expect(img, VHDXLOG_OK);
  assert_int_equal(parsed.current, 0);
  assert_false(parsed.headers[1].valid);
}

static void test_image_header_checksum_covers_reserved_bytes(void **state) {
  vtk_image *img = *state;
  vtk_header(img, 1)[4095] ^= 1;
  expect(img, VHDXLOG_OK);
  assert_int_equal(parsed.current, 0);
}

static void test_image_rejects_when_no_header_is_valid(void **state) {
  vtk_image *img = *state;
  vtk_header(img, 0)[100] ^= 1;
  vtk_header(img, 1)[0] = 'x';
  expect(img, VHDXLOG_E_NO_VALID_HEADER);
  /* headers[] is filled even on failure */
  assert_false(parsed.headers[0].valid);
  assert_false(parsed.headers[1].valid);
}

static void
test_image_accepts_identical_headers_with_equal_sequence(void **state) {
  spec_image *x = *state;
  x->s.header_seq[0] = x->s.header_seq[1] = 7;
  vtk_guid(x->s.log_guid, 4); /* both get it: both are current */
  vtk_image_build(&x->img, &x->s);
  assert_memory_equal(vtk_header(&x->img, 0), vtk_header(&x->img, 1), 4096);
  expect(&x->img, VHDXLOG_OK);
  assert_int_equal(parsed.current, 0);
  assert_int_equal(parsed.headers_identical, 1);
  assert_int_equal(parsed.log_state, VHDXLOG_LOG_DIRTY);
}

static void
test_image_rejects_differing_headers_with_equal_sequence(void **state) {
  (void)state;
  vtk_image_spec s;
  vtk_image img;
  vtk_image_spec_default(&s);
  s.header_seq[0] = s.header_seq[1] = 7;
  vtk_image_build(&img, &s);
  vtk_header(&img, 1)[32] ^= 1; /* DataWriteGuid differs */
  vtk_header_fix_checksum(&img, 1);
  expect(&img, VHDXLOG_E_HEADER_SEQUENCE_TIE);
  assert_true(parsed.headers[0].valid);
  assert_true(parsed.headers[1].valid);
  vtk_image_free(&img);
  /* A difference in the reserved area counts too: bytes, not fields. */
  vtk_image_build(&img, &s);
  vtk_header(&img, 0)[3000] = 1;
  vtk_header_fix_checksum(&img, 0);
  expect(&img, VHDXLOG_E_HEADER_SEQUENCE_TIE);
  vtk_image_free(&img);
}

static void
test_image_equal_sequence_with_one_invalid_is_not_a_tie(void **state) {
  spec_image *x = *state;
  x->s.header_seq[0] = x->s.header_seq[1] = 7;
  vtk_image_build(&x->img, &x->s);
  vtk_header(&x->img, 0)[32] ^= 1; /* invalid: checksum not fixed */
  expect(&x->img, VHDXLOG_OK);
  assert_int_equal(parsed.current, 1);
}

/* --- rule 3: fields of the current header -------------------------------- */

static void test_image_rejects_current_header_version_not_one(void **state) {
  (void)state;
  static const uint16_t bad[] = {0, 2, 0xFFFF};
  for (size_t i = 0; i < 3; i++) {
    vtk_image img;
    vtk_image_build_default(&img);
    vtk_put_le16(vtk_header(&img, 1) + 66, bad[i]);
    vtk_header_fix_checksum(&img, 1);
    expect(&img, VHDXLOG_E_HEADER_VERSION);
    vtk_image_free(&img);
  }
}

static void test_image_ignores_version_of_non_current_header(void **state) {
  vtk_image *img = *state;
  vtk_put_le16(vtk_header(img, 0) + 66, 9);
  vtk_put_le16(vtk_header(img, 0) + 64, 9);
  vtk_put_le64(vtk_header(img, 0) + 72, 12345);
  vtk_header_fix_checksum(img, 0);
  expect(img, VHDXLOG_OK);
  assert_int_equal(parsed.current, 1);
}

static void test_image_accepts_log_version_when_log_guid_zero(void **state) {
  spec_image *x = *state;
  x->s.log_version = 1;
  vtk_image_build(&x->img, &x->s);
  expect(&x->img, VHDXLOG_OK);
  assert_int_equal(parsed.log_state, VHDXLOG_LOG_CLEAN);
}

static void test_image_rejects_log_version_when_log_guid_set(void **state) {
  spec_image *x = *state;
  x->s.log_version = 1;
  vtk_guid(x->s.log_guid, 5);
  vtk_image_build(&x->img, &x->s);
  expect(&x->img, VHDXLOG_E_HEADER_LOG_VERSION);
}

/* --- rule 4: region tables ----------------------------------------------- */

static void
test_image_uses_region_copy_two_when_copy_one_checksum_bad(void **state) {
  vtk_image *img = *state;
  vtk_region_table(img, 0)[1000] ^= 1;
  /* make copy 2 distinguishable: move the metadata region */
  vtk_region r = region(VTK_GUID_METADATA, 5u * VTK_MIB, VTK_MIB, 1);
  vtk_region_set(img, 1, 1, &r);
  expect(img, VHDXLOG_OK);
  assert_int_equal(parsed.regions.used, 1);
  assert_false(parsed.regions.valid[0]);
  assert_true(parsed.regions.valid[1]);
  assert_int_equal(parsed.regions.metadata_offset, 5u * VTK_MIB);
}

static void
test_image_uses_region_copy_two_when_copy_one_signature_bad(void **state) {
  vtk_image *img = *state;
  vtk_region_table(img, 0)[0] = 'R';
  vtk_region_fix_checksum(img, 0);
  expect(img, VHDXLOG_OK);
  assert_int_equal(parsed.regions.used, 1);
}

static void test_image_uses_region_copy_one_when_both_valid(void **state) {
  vtk_image *img = *state;
  vtk_region r = region(VTK_GUID_METADATA, 5u * VTK_MIB, VTK_MIB, 1);
  vtk_region_set(img, 1, 1, &r);
  expect(img, VHDXLOG_OK);
  assert_int_equal(parsed.regions.used, 0);
  assert_int_equal(parsed.regions.metadata_offset, 3u * VTK_MIB);
}

static void
test_image_reports_copy_two_invalid_while_using_copy_one(void **state) {
  vtk_image *img = *state;
  vtk_region_table(img, 1)[1000] ^= 1;
  expect(img, VHDXLOG_OK);
  assert_int_equal(parsed.regions.used, 0);
  assert_true(parsed.regions.valid[0]);
  assert_false(parsed.regions.valid[1]);
}

static void test_image_rejects_when_no_region_table_is_valid(void **state) {
  vtk_image *img = *state;
  vtk_region_table(img, 0)[1000] ^= 1;
  vtk_region_table(img, 1)[0] = 'x';
  expect(img, VHDXLOG_E_NO_VALID_REGION_TABLE);
}

static void test_image_rejects_region_count_over_2047(void **state) {
  vtk_image *img = *state;
  vtk_region_set_count(img, 0, 2048);
  vtk_region_set_count(img, 1, 2048);
  expect(img, VHDXLOG_E_REGION_COUNT);
  vtk_region_set_count(img, 1, 2);
  expect(img, VHDXLOG_OK); /* copy 2 is fine */
  assert_int_equal(parsed.regions.used, 1);
  vtk_region_set_count(img, 0, 0xFFFFFFFFu);
  expect(img, VHDXLOG_OK);
}

static void test_image_accepts_2047_regions(void **state) {
  vtk_image *img = *state;
  for (int w = 0; w < 2; w++) {
    for (uint32_t i = 2; i < 2047; i++) {
      /* unknown, optional, zero length: overlaps nothing */
      vtk_region r = unknown_region(1000 + i, VTK_MIB, 0, 0);
      vtk_region_put(vtk_region_entry(img, w, i), &r);
    }
    vtk_region_set_count(img, w, 2047);
  }
  expect(img, VHDXLOG_OK);
  assert_int_equal(parsed.regions.entry_count, 2047);
}

static void test_image_rejects_duplicate_region_guid(void **state) {
  /* an unknown optional GUID twice (the BAT twice is a row) */
  vtk_image *img = *state;
  vtk_region a = unknown_region(60, 8u * VTK_MIB, VTK_MIB, 0);
  vtk_region b = unknown_region(60, 9u * VTK_MIB, VTK_MIB, 0);
  vtk_region_set_both(img, 2, &a);
  vtk_region_set_both(img, 3, &b);
  expect(img, VHDXLOG_E_REGION_DUPLICATE);
}

static void test_image_rejects_missing_bat_or_metadata(void **state) {
  /* an EntryCount that leaves the metadata entry out */
  vtk_image *img = *state;
  vtk_region_set_count(img, 0, 1);
  vtk_region_set_count(img, 1, 1);
  expect(img, VHDXLOG_E_REGION_MISSING);
  vtk_region_set_count(img, 0, 0);
  vtk_region_set_count(img, 1, 0);
  expect(img, VHDXLOG_E_REGION_MISSING);
}

static void test_image_reports_copy_one_error_when_both_invalid(void **state) {
  (void)state;
  vtk_image img;
  /* copy 1: a specific rule; copy 2: bad checksum -> copy 1's rule */
  vtk_image_build_default(&img);
  vtk_region r = unknown_region(93, 8u * VTK_MIB, VTK_MIB, 1);
  vtk_region_set(&img, 0, 2, &r);
  vtk_region_table(&img, 1)[500] ^= 1;
  expect(&img, VHDXLOG_E_REGION_UNKNOWN_REQUIRED);
  vtk_image_free(&img);
  /* copy 1: bad checksum; copy 2: a specific rule -> no valid table */
  vtk_image_build_default(&img);
  vtk_region_set(&img, 1, 2, &r);
  vtk_region_table(&img, 0)[500] ^= 1;
  expect(&img, VHDXLOG_E_NO_VALID_REGION_TABLE);
  vtk_image_free(&img);
  /* copy 1: count; copy 2: duplicate -> count */
  vtk_image_build_default(&img);
  vtk_region_set_count(&img, 0, 4000);
  vtk_region dup = region(VTK_GUID_BAT, 8u * VTK_MIB, VTK_MIB, 1);
  vtk_region_set(&img, 1, 2, &dup);
  expect(&img, VHDXLOG_E_REGION_COUNT);
  vtk_image_free(&img);
}

/* --- rule 5: the log against the regions -------------------------------- */

/* --- rules 3 to 5 as rows: the log's location, region entries ---------- */

/* A default image with LogOffset `off`, LogLength `len` (dirty: a LogGuid
 * set) and `file_size` bytes parses to `want`. */
typedef struct log_case {
  const char *name;
  uint64_t off;
  uint32_t len;
  int dirty;
  uint64_t file_size;
  vhdxlog_status want;
} log_case;

#define M ((uint64_t)VTK_MIB)
static const log_case log_cases[] = {
    {"test_image_rejects_bad_log_location: LogOffset unaligned, clean",
     M + 4096, VTK_MIB, 0, 4 * M, VHDXLOG_E_HEADER_LOG_LOCATION},
    {"test_image_rejects_bad_log_location: LogOffset unaligned, dirty",
     M + 4096, VTK_MIB, 1, 4 * M, VHDXLOG_E_HEADER_LOG_LOCATION},
    {"test_image_rejects_bad_log_location: LogOffset below 1 MiB", 0, VTK_MIB,
     0, 4 * M, VHDXLOG_E_HEADER_LOG_LOCATION},
    {"test_image_rejects_bad_log_location: LogOffset 0, LogLength 0", 0, 0, 0,
     4 * M, VHDXLOG_E_HEADER_LOG_LOCATION},
    {"test_image_rejects_bad_log_location: LogLength unaligned, clean", M,
     VTK_MIB + 4096, 0, 4 * M, VHDXLOG_E_HEADER_LOG_LOCATION},
    {"test_image_rejects_bad_log_location: LogLength unaligned, dirty", M, 4096,
     1, 4 * M, VHDXLOG_E_HEADER_LOG_LOCATION},
    {"test_image_rejects_bad_log_location: end past MAX", VTK_MAX_OFFSET,
     VTK_MIB, 0, 4 * M, VHDXLOG_E_HEADER_LOG_LOCATION},
    {"test_image_rejects_bad_log_location: end wraps past 2^64",
     UINT64_MAX - M + 1, VTK_MIB, 0, 4 * M, VHDXLOG_E_HEADER_LOG_LOCATION},
    {"test_image_rejects_bad_log_location: dirty with LogLength 0", M, 0, 1,
     4 * M, VHDXLOG_E_HEADER_LOG_LOCATION},
    {"test_image_accepts_log_location_boundaries: clean, ends at MAX",
     VTK_MAX_OFFSET - M, VTK_MIB, 0, 4 * M, VHDXLOG_OK},
    {"test_image_accepts_log_location_boundaries: clean, LogLength 0", M, 0, 0,
     4 * M, VHDXLOG_OK},
    /* (a 4 MiB file's last MiB is the metadata: a 5 MiB file) */
    {"test_image_accepts_log_location_boundaries: dirty, ends at file end",
     4 * M, VTK_MIB, 1, 5 * M, VHDXLOG_OK},
    {"test_image_rejects_dirty_log_beyond_file", 4 * M, VTK_MIB, 1,
     5 * M - 4096, VHDXLOG_E_LOG_BEYOND_FILE},
    {"test_image_rejects_dirty_log_beyond_file: far away", VTK_MAX_OFFSET - M,
     VTK_MIB, 1, 5 * M, VHDXLOG_E_LOG_BEYOND_FILE},
    /* a clean log is never read */
    {"test_image_rejects_dirty_log_beyond_file: clean may lie beyond", 4 * M,
     VTK_MIB, 0, 5 * M - 4096, VHDXLOG_OK},
    {"test_image_rejects_log_overlapping_a_region: the BAT, clean", 2 * M,
     VTK_MIB, 0, 4 * M, VHDXLOG_E_REGION_OVERLAP},
    {"test_image_rejects_log_overlapping_a_region: the BAT, dirty", 2 * M,
     VTK_MIB, 1, 4 * M, VHDXLOG_E_REGION_OVERLAP},
    {"test_image_rejects_log_overlapping_a_region: reaching into the BAT", M,
     2 * VTK_MIB, 1, 4 * M, VHDXLOG_E_REGION_OVERLAP},
    {"test_image_rejects_log_overlapping_a_region: covering both", M,
     8 * VTK_MIB, 0, 4 * M, VHDXLOG_E_REGION_OVERLAP},
    {"test_image_accepts_log_touching_regions: ends where the BAT starts", M,
     VTK_MIB, 1, 4 * M, VHDXLOG_OK},
    {"test_image_accepts_log_touching_regions: starts at metadata's end", 4 * M,
     VTK_MIB, 1, 5 * M, VHDXLOG_OK},
    {"test_image_accepts_log_touching_regions: clean, empty, inside the BAT",
     2 * M, 0, 0, 4 * M, VHDXLOG_OK},
};

static void test_image_log_case(void **state) {
  const log_case *t = *state;
  vtk_image_spec s;
  vtk_image img;
  vtk_image_spec_default(&s);
  s.log_offset = t->off;
  s.log_length = t->len;
  s.file_size = t->file_size;
  if (t->dirty)
    vtk_guid(s.log_guid, 6);
  vtk_image_build(&img, &s);
  expect(&img, t->want);
  vtk_image_free(&img);
}

/* A default image with region entry `index` set, in the copies of `mask`
 * (bit 0: copy 1, bit 1: copy 2), to a region with GUID `guid` (NULL: an
 * unknown one from `seed`), parses to `want`; `at` is the entry the error
 * names (NI: not checked). */
typedef struct region_case {
  const char *name;
  const uint8_t *guid;
  uint32_t seed;
  uint64_t off;
  uint32_t len, required, index;
  int mask;
  vhdxlog_status want;
  uint32_t at;
} region_case;

#define NI VHDXLOG_NO_INDEX
#define UNKNOWN(seed) NULL, seed
#define BAD_ENTRY "test_image_rejects_region_entry_offset_or_length: "
#define GOOD_ENTRY "test_image_accepts_region_entry_boundaries: "
static const region_case region_cases[] = {
    {BAD_ENTRY "unaligned offset", UNKNOWN(50), 5 * M + 4096, VTK_MIB, 0, 2, 3,
     VHDXLOG_E_REGION_ENTRY, 2},
    {BAD_ENTRY "below 1 MiB", UNKNOWN(50), 0, 0, 0, 2, 3,
     VHDXLOG_E_REGION_ENTRY, 2},
    {BAD_ENTRY "unaligned length", UNKNOWN(50), 5 * M, 4096, 0, 2, 3,
     VHDXLOG_E_REGION_ENTRY, 2},
    {BAD_ENTRY "end past MAX", UNKNOWN(50), VTK_MAX_OFFSET, VTK_MIB, 0, 2, 3,
     VHDXLOG_E_REGION_ENTRY, 2},
    {BAD_ENTRY "end wraps", UNKNOWN(50), UINT64_MAX - M + 1, VTK_MIB, 0, 2, 3,
     VHDXLOG_E_REGION_ENTRY, 2},
    /* only copy 1 broken: copy 2 is used */
    {BAD_ENTRY "unaligned offset in copy 1 only", UNKNOWN(50), 5 * M + 4096,
     VTK_MIB, 0, 2, 1, VHDXLOG_OK, NI},
    {BAD_ENTRY "below 1 MiB in copy 1 only", UNKNOWN(50), 0, 0, 0, 2, 1,
     VHDXLOG_OK, NI},
    {BAD_ENTRY "unaligned length in copy 1 only", UNKNOWN(50), 5 * M, 4096, 0,
     2, 1, VHDXLOG_OK, NI},
    {BAD_ENTRY "end past MAX in copy 1 only", UNKNOWN(50), VTK_MAX_OFFSET,
     VTK_MIB, 0, 2, 1, VHDXLOG_OK, NI},
    {BAD_ENTRY "end wraps in copy 1 only", UNKNOWN(50), UINT64_MAX - M + 1,
     VTK_MIB, 0, 2, 1, VHDXLOG_OK, NI},
    {BAD_ENTRY "the BAT itself", VTK_GUID_BAT, 0, 2 * M + 512, VTK_MIB, 1, 0, 3,
     VHDXLOG_E_REGION_ENTRY, NI},
    {GOOD_ENTRY "ends at MAX", UNKNOWN(51), VTK_MAX_OFFSET - M, VTK_MIB, 0, 2,
     3, VHDXLOG_OK, NI},
    {GOOD_ENTRY "zero length at 1 MiB", UNKNOWN(51), M, 0, 0, 2, 3, VHDXLOG_OK,
     NI},
    {GOOD_ENTRY "zero length inside the BAT", UNKNOWN(51), 2 * M, 0, 0, 2, 3,
     VHDXLOG_OK, NI},
    {GOOD_ENTRY "4095 MiB long", UNKNOWN(51), 4 * M, 4095 * VTK_MIB, 0, 2, 3,
     VHDXLOG_OK, NI},
    {"test_image_rejects_duplicate_region_guid: the BAT twice", VTK_GUID_BAT, 0,
     8 * M, VTK_MIB, 1, 2, 3, VHDXLOG_E_REGION_DUPLICATE, NI},
    {"test_image_rejects_unknown_required_region", UNKNOWN(70), 8 * M, VTK_MIB,
     1, 2, 3, VHDXLOG_E_REGION_UNKNOWN_REQUIRED, 2},
    {"test_image_rejects_unknown_required_region: all bits set", UNKNOWN(70),
     8 * M, VTK_MIB, 0xFFFFFFFFu, 2, 3, VHDXLOG_E_REGION_UNKNOWN_REQUIRED, NI},
    {"test_image_accepts_unknown_optional_region", UNKNOWN(71), 8 * M, VTK_MIB,
     0, 2, 3, VHDXLOG_OK, NI},
    /* only bit 0 means "required" */
    {"test_image_accepts_unknown_optional_region: Required 2", UNKNOWN(71),
     8 * M, VTK_MIB, 2, 2, 3, VHDXLOG_OK, NI},
    /* the known regions need not be marked required */
    {"test_image_accepts_unknown_optional_region: the BAT optional",
     VTK_GUID_BAT, 0, 2 * M, VTK_MIB, 0, 0, 3, VHDXLOG_OK, NI},
    {"test_image_rejects_missing_bat_or_metadata: no BAT", UNKNOWN(80), 2 * M,
     VTK_MIB, 0, 0, 3, VHDXLOG_E_REGION_MISSING, NI},
    {"test_image_rejects_missing_bat_or_metadata: no metadata", UNKNOWN(80),
     3 * M, VTK_MIB, 0, 1, 3, VHDXLOG_E_REGION_MISSING, NI},
    {"test_image_rejects_overlapping_regions: metadata inside the BAT",
     VTK_GUID_METADATA, 0, 2 * M, VTK_MIB, 1, 1, 3, VHDXLOG_E_REGION_OVERLAP,
     NI},
    {"test_image_rejects_overlapping_regions: an extra one covering both",
     UNKNOWN(90), 2 * M, 2 * VTK_MIB, 0, 2, 3, VHDXLOG_E_REGION_OVERLAP, NI},
    {"test_image_rejects_overlapping_regions: an extra one around metadata",
     UNKNOWN(91), 3 * M, 3 * VTK_MIB, 0, 2, 3, VHDXLOG_E_REGION_OVERLAP, NI},
    /* only in copy 1: copy 2 is used */
    {"test_image_rejects_overlapping_regions: in copy 1 only",
     VTK_GUID_METADATA, 0, 2 * M, VTK_MIB, 1, 1, 1, VHDXLOG_OK, NI},
    {"test_image_accepts_adjacent_regions", UNKNOWN(92), 4 * M, VTK_MIB, 0, 2,
     3, VHDXLOG_OK, NI},
};

static void test_image_region_case(void **state) {
  const region_case *t = *state;
  vtk_region r;
  vtk_image img;
  if (t->guid)
    memcpy(r.guid, t->guid, 16);
  else
    vtk_guid(r.guid, t->seed);
  r.file_offset = t->off;
  r.length = t->len;
  r.required = t->required;
  vtk_image_build_default(&img);
  for (int w = 0; w < 2; w++)
    if (t->mask & (1 << w))
      vtk_region_set(&img, w, t->index, &r);
  expect(&img, t->want);
  if (t->at != NI)
    assert_int_equal(perr.index, t->at);
  vtk_image_free(&img);
}

/* --- order of the checks ------------------------------------------------- */

static void test_image_checks_header_before_region_tables(void **state) {
  (void)state;
  vtk_image img;
  vtk_image_build_default(&img);
  vtk_region_table(&img, 0)[0] = 'x';
  vtk_region_table(&img, 1)[0] = 'x';
  vtk_put_le16(vtk_header(&img, 1) + 66, 2);
  vtk_header_fix_checksum(&img, 1);
  expect(&img, VHDXLOG_E_HEADER_VERSION);
  vtk_put_le16(vtk_header(&img, 1) + 66, 1);
  vtk_header_set_log_location(&img, 1, VTK_MIB + 4096, VTK_MIB);
  expect(&img, VHDXLOG_E_HEADER_LOG_LOCATION);
  vtk_image_free(&img);

  /* E_LOG_BEYOND_FILE (rule 3) before the region tables (rule 4) */
  build_dirty(&img, 8);
  img.size = VTK_MIB + 4096;
  vtk_region_table(&img, 0)[0] = 'x';
  vtk_region_table(&img, 1)[0] = 'x';
  expect(&img, VHDXLOG_E_LOG_BEYOND_FILE);
  img.size = 4u * VTK_MIB;
  vtk_image_free(&img);
}

static void test_image_checks_version_before_log_fields(void **state) {
  (void)state;
  vtk_image_spec s;
  vtk_image img;
  vtk_image_spec_default(&s);
  s.version = 3;
  s.log_version = 2;
  s.log_offset = 7;
  vtk_guid(s.log_guid, 9);
  vtk_image_build(&img, &s);
  expect(&img, VHDXLOG_E_HEADER_VERSION);
  vtk_image_free(&img);
  s.version = 1;
  vtk_image_build(&img, &s);
  expect(&img, VHDXLOG_E_HEADER_LOG_VERSION);
  vtk_image_free(&img);
  s.log_version = 0;
  vtk_image_build(&img, &s);
  expect(&img, VHDXLOG_E_HEADER_LOG_LOCATION);
  vtk_image_free(&img);
}

static void test_image_checks_region_tables_before_log_overlap(void **state) {
  spec_image *x = *state;
  x->s.log_offset = 2u * VTK_MIB; /* overlaps the BAT */
  vtk_image_build(&x->img, &x->s);
  vtk_region_table(&x->img, 0)[0] = 'x';
  vtk_region_table(&x->img, 1)[0] = 'x';
  expect(&x->img, VHDXLOG_E_NO_VALID_REGION_TABLE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      unit_test_on(default_image, test_image_parses_default_clean_image),
      cmocka_unit_test(test_image_reports_dirty_log_with_its_guid),
      unit_test_on(default_image,
                   test_image_rejects_file_smaller_than_header_area),
      unit_test_on(default_spec,
                   test_image_accepts_file_of_exactly_header_area),
      unit_test_on(default_image, test_image_rejects_bad_file_signature),
      unit_test_on(default_image, test_image_rejects_null_or_short_input),
      cmocka_unit_test(test_image_current_is_header_with_greater_sequence),
      cmocka_unit_test(test_image_current_is_only_valid_header_by_checksum),
      unit_test_on(default_image,
                   test_image_current_is_only_valid_header_by_signature),
      unit_test_on(default_image,
                   test_image_header_checksum_covers_reserved_bytes),
      unit_test_on(default_image, test_image_rejects_when_no_header_is_valid),
      unit_test_on(default_spec,
                   test_image_accepts_identical_headers_with_equal_sequence),
      cmocka_unit_test(
          test_image_rejects_differing_headers_with_equal_sequence),
      unit_test_on(default_spec,
                   test_image_equal_sequence_with_one_invalid_is_not_a_tie),
      cmocka_unit_test(test_image_rejects_current_header_version_not_one),
      unit_test_on(default_image,
                   test_image_ignores_version_of_non_current_header),
      unit_test_on(default_spec,
                   test_image_accepts_log_version_when_log_guid_zero),
      unit_test_on(default_spec,
                   test_image_rejects_log_version_when_log_guid_set),
      unit_test_on(default_image,
                   test_image_uses_region_copy_two_when_copy_one_checksum_bad),
      unit_test_on(default_image,
                   test_image_uses_region_copy_two_when_copy_one_signature_bad),
      unit_test_on(default_image,
                   test_image_uses_region_copy_one_when_both_valid),
      unit_test_on(default_image,
                   test_image_reports_copy_two_invalid_while_using_copy_one),
      unit_test_on(default_image,
                   test_image_rejects_when_no_region_table_is_valid),
      unit_test_on(default_image, test_image_rejects_region_count_over_2047),
      unit_test_on(default_image, test_image_accepts_2047_regions),
      unit_test_on(default_image, test_image_rejects_duplicate_region_guid),
      unit_test_on(default_image, test_image_rejects_missing_bat_or_metadata),
      cmocka_unit_test(test_image_reports_copy_one_error_when_both_invalid),
      cmocka_unit_test(test_image_checks_header_before_region_tables),
      cmocka_unit_test(test_image_checks_version_before_log_fields),
      unit_test_on(default_spec,
                   test_image_checks_region_tables_before_log_overlap),
  };
  static const unit_table tables[] = {
      UNIT_TABLE(test_image_log_case, log_cases),
      UNIT_TABLE(test_image_region_case, region_cases),
  };
  return unit_run(tests, UNIT_COUNT(tests), NULL, 0, tables, UNIT_COUNT(tables),
                  NULL);
}
