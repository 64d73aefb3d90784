/* SPDX-License-Identifier: MIT */
/* The decoded fields the library hands to displays, so that no caller needs
 * the format's offsets: a header's fields (vhdxlog_header_decode) and a
 * failed entry candidate's header fields (vhdxlog_log_entry on failure).
 * Expected values come from what testkit wrote, not from lib/. */
#include "unit_common.h"

#define LOG_LEN (64u * 1024u)

static void test_header_decode_reads_every_field(void **state) {
  (void)state;
  vtk_image_spec spec;
  vtk_image img;
  vhdxlog_header_info info;
  vtk_image_spec_default(&spec);
  spec.header_seq[0] = 0x0102030405060708u;
  spec.log_offset = 3u * VTK_MIB;
  spec.log_length = 2u * VTK_MIB;
  vtk_guid(spec.log_guid, 77);
  vtk_guid(spec.file_write_guid, 78);
  vtk_guid(spec.data_write_guid, 79);
  spec.header_seq[1] = 1; /* header 1 current: it carries the LogGuid */
  vtk_image_build(&img, &spec);

  memset(&info, 0xAA, sizeof info);
  vhdxlog_header_decode(vtk_header(&img, 0), &info);
  assert_true(info.valid);
  assert_int_equal(info.checksum, vtk_get_le32(vtk_header(&img, 0) + 4));
  assert_int_equal(info.sequence_number, spec.header_seq[0]);
  assert_memory_equal(info.file_write_guid, spec.file_write_guid, 16);
  assert_memory_equal(info.data_write_guid, spec.data_write_guid, 16);
  assert_memory_equal(info.log_guid, spec.log_guid, 16);
  assert_int_equal(info.version, 1);
  assert_int_equal(info.log_version, 0);
  assert_int_equal(info.log_offset, spec.log_offset);
  assert_int_equal(info.log_length, spec.log_length);

  /* One bit off: the same fields, no longer valid. */
  vtk_header(&img, 0)[200] ^= 1;
  vhdxlog_header_decode(vtk_header(&img, 0), &info);
  assert_false(info.valid);
  assert_int_equal(info.sequence_number, spec.header_seq[0]);
  vtk_image_free(&img);
}

static vtk_entry two_sector_entry(const uint8_t guid[16], vtk_desc *d) {
  *d = vtk_data(5u * VTK_MIB, 3);
  return vtk_entry_make(0x1122334455667788u, 8192, guid, 4u * VTK_MIB,
                        6u * VTK_MIB, d, 1);
}

/* A candidate that fails a rule still shows what it holds. */
static void test_failed_entry_reports_stored_fields(void **state) {
  (void)state;
  uint8_t guid[16];
  vtk_desc d;
  vtk_entry e;
  vhdxlog_log l;
  vhdxlog_entry out;
  vhdxlog_error err;
  uint8_t *log = ulog_new(LOG_LEN);
  vtk_guid(guid, 5);
  e = two_sector_entry(guid, &d);
  assert_int_equal(vtk_log_write_entry(log, LOG_LEN, 8192, &e), 8192);
  assert_int_equal(
      vtk_entry_break(log, LOG_LEN, 8192, VTK_BREAK_CHECKSUM, 0, 0), 0);
  ulog_init(&l, log, LOG_LEN, guid);

  memset(&out, 0xAA, sizeof out);
  assert_int_equal(vhdxlog_log_entry(&l, 8192, &out, &err),
                   VHDXLOG_E_ENTRY_CHECKSUM);
  assert_int_equal(out.offset, 8192);
  assert_int_equal(out.length, 8192);
  assert_int_equal(out.tail, e.tail);
  assert_int_equal(out.sequence_number, e.sequence_number);
  assert_int_equal(out.descriptor_count, 1);
  assert_int_equal(out.flushed_file_offset, e.flushed_file_offset);
  assert_int_equal(out.last_file_offset, e.last_file_offset);
  assert_int_equal(out.data_count, 0);
  assert_int_equal(out.zero_count, 0);

  /* Without "loge" there is no candidate: all zero. */
  memset(&out, 0xAA, sizeof out);
  assert_int_equal(vhdxlog_log_entry(&l, 0, &out, &err),
                   VHDXLOG_E_ENTRY_SIGNATURE);
  assert_int_equal(out.offset, 0);
  assert_int_equal(out.length, 0);
  assert_int_equal(out.sequence_number, 0);
  assert_int_equal(out.descriptor_count, 0);
  free(log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_decode_reads_every_field),
      cmocka_unit_test(test_failed_entry_reports_stored_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
