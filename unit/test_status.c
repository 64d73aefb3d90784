/* SPDX-License-Identifier: MIT */
/* Status names and descriptions: stable, complete, never NULL. */
#include "unit_common.h"

#define S(x)                                                                   \
  { x, #x }
static const struct {
  vhdxlog_status s;
  const char *name;
} all[] = {
    S(VHDXLOG_OK),
    S(VHDXLOG_E_ARGUMENT),
    S(VHDXLOG_E_IO),
    S(VHDXLOG_E_FILE_TOO_SMALL),
    S(VHDXLOG_E_FILE_SIGNATURE),
    S(VHDXLOG_E_NO_VALID_HEADER),
    S(VHDXLOG_E_HEADER_SEQUENCE_TIE),
    S(VHDXLOG_E_HEADER_VERSION),
    S(VHDXLOG_E_HEADER_LOG_VERSION),
    S(VHDXLOG_E_HEADER_LOG_LOCATION),
    S(VHDXLOG_E_LOG_BEYOND_FILE),
    S(VHDXLOG_E_NO_VALID_REGION_TABLE),
    S(VHDXLOG_E_REGION_COUNT),
    S(VHDXLOG_E_REGION_ENTRY),
    S(VHDXLOG_E_REGION_DUPLICATE),
    S(VHDXLOG_E_REGION_UNKNOWN_REQUIRED),
    S(VHDXLOG_E_REGION_MISSING),
    S(VHDXLOG_E_REGION_OVERLAP),
    S(VHDXLOG_E_ENTRY_SIGNATURE),
    S(VHDXLOG_E_ENTRY_LENGTH),
    S(VHDXLOG_E_ENTRY_TAIL),
    S(VHDXLOG_E_ENTRY_SEQUENCE_ZERO),
    S(VHDXLOG_E_ENTRY_RESERVED),
    S(VHDXLOG_E_ENTRY_GUID),
    S(VHDXLOG_E_ENTRY_FLUSHED_OFFSET),
    S(VHDXLOG_E_ENTRY_LAST_OFFSET),
    S(VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT),
    S(VHDXLOG_E_DESCRIPTOR_SIGNATURE),
    S(VHDXLOG_E_DESCRIPTOR_RESERVED),
    S(VHDXLOG_E_DESCRIPTOR_LENGTH),
    S(VHDXLOG_E_DESCRIPTOR_OFFSET),
    S(VHDXLOG_E_DESCRIPTOR_SEQUENCE),
    S(VHDXLOG_E_DATA_COUNT),
    S(VHDXLOG_E_DATA_SIGNATURE),
    S(VHDXLOG_E_DATA_SEQUENCE),
    S(VHDXLOG_E_ENTRY_CHECKSUM),
    S(VHDXLOG_E_LOG_NO_SEQUENCE),
    S(VHDXLOG_E_DESCRIPTOR_TARGET),
    S(VHDXLOG_E_FILE_TRUNCATED),
    S(VHDXLOG_E_HEADER_SEQUENCE_LIMIT),
    S(VHDXLOG_END),
};
#define N_ALL (sizeof(all) / sizeof(all[0]))

static void test_status_values_are_stable(void **state) {
  (void)state;
  assert_int_equal(VHDXLOG_E_ARGUMENT, 1);
  assert_int_equal(VHDXLOG_E_IO, 2);
  assert_int_equal(VHDXLOG_E_FILE_TOO_SMALL, 20);
  assert_int_equal(VHDXLOG_E_REGION_OVERLAP, 34);
  assert_int_equal(VHDXLOG_E_ENTRY_SIGNATURE, 40);
  assert_int_equal(VHDXLOG_E_ENTRY_CHECKSUM, 57);
  assert_int_equal(VHDXLOG_E_LOG_NO_SEQUENCE, 70);
  assert_int_equal(VHDXLOG_E_FILE_TRUNCATED, 72);
  assert_int_equal(VHDXLOG_E_HEADER_SEQUENCE_LIMIT, 73);
  assert_int_equal(VHDXLOG_END, 90);
}

static void test_status_name_is_the_symbol(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ALL; i++) {
    const char *n = vhdxlog_status_name(all[i].s);
    assert_non_null(n);
    assert_string_equal(n, all[i].name);
  }
}

static void test_status_strings_are_distinct_and_non_empty(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ALL; i++) {
    const char *a = vhdxlog_status_string(all[i].s);
    assert_non_null(a);
    assert_true(strlen(a) > 0);
    for (size_t j = 0; j < i; j++)
      assert_string_not_equal(a, vhdxlog_status_string(all[j].s));
  }
}

static void test_status_unknown_value_still_gives_text(void **state) {
  (void)state;
  static const int bad[] = {3, 4, 19, 35, 58, 69, 74, 89, 91, 127};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    vhdxlog_status s = (vhdxlog_status)bad[i];
    assert_non_null(vhdxlog_status_name(s));
    assert_non_null(vhdxlog_status_string(s));
  }
}

/* What error.offset and error.index mean, from the one status list. */
static void test_status_offset_and_index_kinds(void **state) {
  (void)state;
  assert_int_equal(vhdxlog_status_offset_kind(VHDXLOG_E_FILE_TRUNCATED),
                   VHDXLOG_OFFSET_FILE_SIZE);
  assert_int_equal(vhdxlog_status_offset_kind(VHDXLOG_E_REGION_ENTRY),
                   VHDXLOG_OFFSET_FILE);
  assert_int_equal(vhdxlog_status_offset_kind(VHDXLOG_E_ENTRY_CHECKSUM),
                   VHDXLOG_OFFSET_LOG);
  assert_int_equal(vhdxlog_status_offset_kind(VHDXLOG_OK), VHDXLOG_OFFSET_NONE);
  assert_int_equal(vhdxlog_status_index_kind(VHDXLOG_E_DESCRIPTOR_TARGET),
                   VHDXLOG_INDEX_DESCRIPTOR);
  assert_int_equal(vhdxlog_status_index_kind(VHDXLOG_E_DATA_SEQUENCE),
                   VHDXLOG_INDEX_DATA_SECTOR);
  assert_int_equal(vhdxlog_status_index_kind(VHDXLOG_E_REGION_DUPLICATE),
                   VHDXLOG_INDEX_REGION_ENTRY);
  assert_int_equal(vhdxlog_status_index_kind(VHDXLOG_E_ENTRY_CHECKSUM),
                   VHDXLOG_INDEX_NONE);
  assert_int_equal(vhdxlog_status_offset_kind((vhdxlog_status)12345),
                   VHDXLOG_OFFSET_NONE);
  assert_int_equal(vhdxlog_status_index_kind((vhdxlog_status)12345),
                   VHDXLOG_INDEX_NONE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_values_are_stable),
      cmocka_unit_test(test_status_offset_and_index_kinds),
      cmocka_unit_test(test_status_name_is_the_symbol),
      cmocka_unit_test(test_status_strings_are_distinct_and_non_empty),
      cmocka_unit_test(test_status_unknown_value_still_gives_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
