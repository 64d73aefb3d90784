/* SPDX-License-Identifier: MIT */
/* vhdxlog_load_into(): the loader into the caller's buffers gives what
 * vhdxlog_load() gives, refuses a log longer than its buffer before reading
 * it, and never frees what it was lent. */
#include "unit_mem.h"

#define LOG_LEN (1024u * 1024u)

typedef struct counted_io {
  vhdxlog_io inner;
  uint64_t bytes_read;
} counted_io;

static int counted_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  counted_io *c = ctx;
  c->bytes_read += size;
  return c->inner.read(c->inner.ctx, offset, buf, size);
}

static int counted_size(void *ctx, uint64_t *size) {
  counted_io *c = ctx;
  return c->inner.get_size(c->inner.ctx, size);
}

static void test_load_into_matches_load(void **state) {
  const vtk_image *img = &((vtk_scenario *)*state)->img; /* dirty */
  vtk_mem_file f;
  vhdxlog_io io;
  vhdxlog_loaded a, b;
  vhdxlog_error ea, eb;
  vhdxlog_load_buffers buf;
  unit_mem_open(&f, img, img->size);
  vtk_mem_io(&f, &io);

  buf.header_area = malloc(VHDXLOG_HEADER_AREA_SIZE);
  buf.log = malloc(LOG_LEN);
  buf.log_capacity = LOG_LEN;
  assert_non_null(buf.header_area);
  assert_non_null(buf.log);
  memset(buf.header_area, 0xEE, VHDXLOG_HEADER_AREA_SIZE);

  assert_int_equal(vhdxlog_load(&io, &a, &ea), VHDXLOG_OK);
  assert_int_equal(
      vhdxlog_load_into(&io, VHDXLOG_POLICY_DEFAULT, &buf, &b, &eb),
      VHDXLOG_OK);
  assert_ptr_equal(b.header_area, buf.header_area);
  assert_ptr_equal(b.log_bytes, buf.log);
  assert_memory_equal(a.header_area, b.header_area, VHDXLOG_HEADER_AREA_SIZE);
  assert_memory_equal(a.log_bytes, b.log_bytes, LOG_LEN);
  assert_true(a.plan_ready && b.plan_ready);
  assert_int_equal(a.plan.action, b.plan.action);
  assert_int_equal(a.plan.seq.head_sequence_number,
                   b.plan.seq.head_sequence_number);
  assert_memory_equal(a.plan.final_headers, b.plan.final_headers,
                      sizeof a.plan.final_headers);

  vhdxlog_loaded_free(&a);
  vhdxlog_loaded_free(&b); /* must not free buf's blocks: ASan would say */
  free(buf.header_area);
  free(buf.log);
  vtk_mem_close(&f);
}

static void test_load_into_refuses_short_log_buffer_unread(void **state) {
  const vtk_image *img = &((vtk_scenario *)*state)->img; /* dirty */
  vtk_mem_file f;
  counted_io c;
  vhdxlog_io io;
  vhdxlog_loaded l;
  vhdxlog_error err;
  vhdxlog_load_buffers buf;
  static uint8_t header_area[VHDXLOG_HEADER_AREA_SIZE];
  static uint8_t log[LOG_LEN - VTK_SECTOR];
  unit_mem_open(&f, img, img->size);
  vtk_mem_io(&f, &c.inner);
  c.bytes_read = 0;
  memset(&io, 0, sizeof io);
  io.ctx = &c;
  io.read = counted_read;
  io.get_size = counted_size;

  buf.header_area = header_area;
  buf.log = log;
  buf.log_capacity = sizeof log;
  assert_int_equal(
      vhdxlog_load_into(&io, VHDXLOG_POLICY_DEFAULT, &buf, &l, &err),
      VHDXLOG_E_RESOURCE);
  assert_int_equal(err.status, VHDXLOG_E_RESOURCE);
  assert_int_equal(err.offset, VTK_MIB); /* the log's offset */
  assert_non_null(l.detail);
  assert_int_equal(c.bytes_read, VHDXLOG_HEADER_AREA_SIZE);
  vhdxlog_loaded_free(&l);

  assert_int_equal(
      vhdxlog_load_into(&io, VHDXLOG_POLICY_DEFAULT, NULL, &l, &err),
      VHDXLOG_E_ARGUMENT);
  vtk_mem_close(&f);
}

/* A file shorter than the header area: the parser sees zeros past its end,
 * whatever the caller's buffer held. */
static void test_load_into_zero_fills_short_file(void **state) {
  (void)state;
  static uint8_t area[VHDXLOG_HEADER_AREA_SIZE];
  static const uint8_t bytes[100] = {'v', 'h', 'd', 'x', 'f', 'i', 'l', 'e'};
  vtk_mem_file f;
  vhdxlog_io io;
  vhdxlog_loaded l;
  vhdxlog_error err;
  vhdxlog_load_buffers buf = {area, NULL, 0};
  size_t i;
  memset(area, 0xEE, sizeof area);
  assert_int_equal(vtk_mem_open(&f, bytes, sizeof bytes, sizeof bytes), 0);
  vtk_mem_io(&f, &io);
  assert_int_equal(
      vhdxlog_load_into(&io, VHDXLOG_POLICY_DEFAULT, &buf, &l, &err),
      VHDXLOG_E_FILE_TOO_SMALL);
  assert_memory_equal(area, bytes, sizeof bytes);
  for (i = sizeof bytes; i < sizeof area; i++)
    if (area[i] != 0)
      fail_msg("byte %zu of the header area is not zero", i);
  vhdxlog_loaded_free(&l);
  vtk_mem_close(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      unit_test_on_scenario(test_load_into_matches_load, VTK_SC_SINGLE),
      unit_test_on_scenario(test_load_into_refuses_short_log_buffer_unread,
                            VTK_SC_SINGLE),
      cmocka_unit_test(test_load_into_zero_fills_short_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
