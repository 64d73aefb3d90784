/* SPDX-License-Identifier: MIT */
/* Dirty images shared by the replay and overlay tests. Each scenario keeps
 * the entries of its active sequence so that the expected result is
 * computed from what the test put in (vtk_model_replay), never stored. */
#ifndef VHDXLOG_UNIT_SCENARIOS_H
#define VHDXLOG_UNIT_SCENARIOS_H

#include "unit_common.h"

#define SC_S 4096u
#define SC_MAX_ENTRIES 8
#define SC_MAX_DESCS 16

typedef struct scenario {
  const char *name;
  vtk_image img;                    /* before replay */
  vtk_entry active[SC_MAX_ENTRIES]; /* tail .. head */
  vtk_desc descs[SC_MAX_ENTRIES][SC_MAX_DESCS];
  size_t n_active;
  uint8_t guid[16];
} scenario;

enum {
  SC_SINGLE,            /* one entry: data + zero descriptors */
  SC_WRAPPED_MULTI,     /* three entries across the log end, overlapping
                           writes, growth, stale and foreign entries around */
  SC_NO_DESCRIPTORS,    /* one entry without descriptors: growth only */
  SC_TAIL_NOT_FIRST,    /* the head's Tail skips the first valid entry */
  SC_FWG_ALREADY_SET,   /* FileWriteGuid already derived: no first update */
  SC_HEADER1_CURRENT,   /* header 1 is the current one */
  SC_IDENTICAL_HEADERS, /* equal numbers, identical bytes: header 1 current */
  SC_COUNT
};

static inline vtk_entry sc_entry(scenario *s, size_t i, uint64_t seq,
                                 uint32_t tail, uint64_t last, size_t ndesc) {
  vtk_entry e;
  memset(&e, 0, sizeof(e));
  e.sequence_number = seq;
  e.tail = tail;
  memcpy(e.log_guid, s->guid, 16);
  e.flushed_file_offset = 4u * VTK_MIB;
  e.last_file_offset = last;
  e.descs = s->descs[i];
  e.desc_count = (uint32_t)ndesc;
  return e;
}

/* Build scenario `which` into *s (free with sc_free). */
static inline void sc_build(scenario *s, int which) {
  memset(s, 0, sizeof(*s));
  vtk_guid(s->guid, 4000 + (uint32_t)which);
  vtk_image_spec spec;
  vtk_image_spec_default(&spec);
  spec.fill_seed = 9 + (uint32_t)which;
  if (which == SC_FWG_ALREADY_SET)
    vtk_derive_file_write_guid(s->guid, spec.file_write_guid);
  if (which == SC_HEADER1_CURRENT) {
    spec.header_seq[0] = 41;
    spec.header_seq[1] = 40;
  }
  if (which == SC_IDENTICAL_HEADERS)
    spec.header_seq[0] = spec.header_seq[1] = 12;
  vtk_image_build(&s->img, &spec);
  uint8_t *log = calloc(1, VTK_MIB);
  assert_non_null(log);
  const uint64_t M = VTK_MIB;
  vtk_desc(*d)[SC_MAX_DESCS] = s->descs;

  switch (which) {
  case SC_SINGLE:
  case SC_FWG_ALREADY_SET:
  case SC_HEADER1_CURRENT:
  case SC_IDENTICAL_HEADERS:
    s->name = "single";
    d[0][0] = vtk_data(2 * M, 1);
    d[0][1] = vtk_data(2 * M + SC_S, 2);
    d[0][2] = vtk_zero(3 * M, 65536);
    d[0][3] = vtk_data(3 * M + 32768, 3); /* inside the zeroed range */
    d[0][4] = vtk_data(2 * M + 3 * SC_S, 4);
    s->active[0] = sc_entry(s, 0, 1, 0, 4 * M, 5);
    s->n_active = 1;
    vtk_log_write_run(log, VTK_MIB, 0, s->active, 1);
    break;
  case SC_WRAPPED_MULTI: {
    s->name = "wrapped multi";
    uint32_t t = 251 * SC_S;
    d[0][0] = vtk_data(2 * M, 10);
    d[0][1] = vtk_data(2 * M + SC_S, 11);
    d[0][2] = vtk_data(2 * M + 2 * SC_S, 12);
    d[1][0] = vtk_zero(2 * M + SC_S, SC_S);   /* undoes d[0][1] */
    d[1][1] = vtk_data(5 * M, 13);            /* past the end: grows */
    d[2][0] = vtk_data(2 * M + 2 * SC_S, 14); /* overwrites d[0][2] */
    d[2][1] = vtk_data(3 * M, 15);
    d[2][2] = vtk_zero(3 * M + SC_S, 3 * SC_S);
    d[2][3] = vtk_data(3 * M + 2 * SC_S, 16); /* inside the zeroed range */
    s->active[0] = sc_entry(s, 0, 100, t, 4 * M, 3); /* sectors 251..254 */
    s->active[1] = sc_entry(s, 1, 101, t, 6 * M, 2); /* 255, 0 */
    s->active[2] = sc_entry(s, 2, 102, t, 8 * M, 4); /* 1..4 */
    s->n_active = 3;
    vtk_log_write_run(log, VTK_MIB, t, s->active, 3);
    /* stale: a complete older sequence that must not be applied */
    d[3][0] = vtk_data(2 * M, 90);
    vtk_entry old = sc_entry(s, 3, 99, 240 * SC_S, 9 * M, 1);
    vtk_log_write_entry(log, VTK_MIB, 240 * SC_S, &old);
    /* foreign: another log's entry with a greater number */
    uint8_t other[16];
    vtk_guid(other, 9999);
    vtk_entry foreign = sc_entry(s, 3, 5000, 100 * SC_S, 9 * M, 1);
    memcpy(foreign.log_guid, other, 16);
    vtk_log_write_entry(log, VTK_MIB, 100 * SC_S, &foreign);
    break;
  }
  case SC_NO_DESCRIPTORS:
    s->name = "no descriptors";
    s->active[0] = sc_entry(s, 0, 5, 7 * SC_S, 6 * M, 0);
    s->n_active = 1;
    vtk_log_write_run(log, VTK_MIB, 7 * SC_S, s->active, 1);
    break;
  case SC_TAIL_NOT_FIRST: {
    s->name = "tail not first";
    d[0][0] = vtk_data(2 * M, 20); /* in the log, not replayed */
    d[1][0] = vtk_data(2 * M + SC_S, 21);
    d[2][0] = vtk_data(2 * M + 2 * SC_S, 22);
    vtk_entry first = sc_entry(s, 0, 7, 0, 4 * M, 1);
    uint32_t o = vtk_log_write_run(log, VTK_MIB, 0, &first, 1);
    s->active[0] = sc_entry(s, 1, 8, o, 4 * M, 1);
    s->active[1] = sc_entry(s, 2, 9, o, 5 * M, 1);
    s->n_active = 2;
    vtk_log_write_run(log, VTK_MIB, o, s->active, 2);
    break;
  }
  default:
    fail();
  }
  vtk_image_put_log(&s->img, log, VTK_MIB, s->guid);
  free(log);
}

static inline void sc_free(scenario *s) { vtk_image_free(&s->img); }

/* First differing byte, or -1; sizes must match. */
static inline void assert_bytes_equal(const uint8_t *got, uint64_t got_size,
                                      const uint8_t *want, uint64_t want_size,
                                      const char *what) {
  if (got_size != want_size)
    print_error("%s: size %llu, want %llu\n", what,
                (unsigned long long)got_size, (unsigned long long)want_size);
  assert_int_equal(got_size, want_size);
  if (memcmp(got, want, (size_t)want_size) != 0) {
    uint64_t i = 0;
    while (got[i] == want[i])
      i++;
    print_error("%s: first difference at byte %llu (0x%llx): %02x, want %02x\n",
                what, (unsigned long long)i, (unsigned long long)i, got[i],
                want[i]);
    fail();
  }
}

#endif
