/* SPDX-License-Identifier: MIT */
/* The shared scenario images: see scenarios.h. */
#include "scenarios.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vtk_entry vtk_scenario_entry(vtk_scenario *s, size_t i, uint64_t seq,
                             uint32_t tail, uint64_t last, size_t ndesc) {
  return vtk_entry_make(seq, tail, s->guid, 4u * VTK_MIB, last, s->descs[i],
                        (uint32_t)ndesc);
}

static void sc_single(vtk_scenario *s, uint8_t *log) {
  const uint64_t M = VTK_MIB, S = VTK_SECTOR;
  vtk_desc(*d)[VTK_SC_MAX_DESCS] = s->descs;
  d[0][0] = vtk_data(2 * M, 1);
  d[0][1] = vtk_data(2 * M + S, 2);
  d[0][2] = vtk_zero(3 * M, 65536);
  d[0][3] = vtk_data(3 * M + 32768, 3); /* inside the zeroed range */
  d[0][4] = vtk_data(2 * M + 3 * S, 4);
  s->active[0] = vtk_scenario_entry(s, 0, 1, 0, 4 * M, 5);
  s->n_active = 1;
  vtk_log_write_run(log, VTK_MIB, 0, s->active, 1);
}

static void sc_wrapped_multi(vtk_scenario *s, uint8_t *log) {
  const uint64_t M = VTK_MIB, S = VTK_SECTOR;
  const uint32_t t = 251 * VTK_SECTOR;
  vtk_desc(*d)[VTK_SC_MAX_DESCS] = s->descs;
  uint8_t other[16];
  d[0][0] = vtk_data(2 * M, 10);
  d[0][1] = vtk_data(2 * M + S, 11);
  d[0][2] = vtk_data(2 * M + 2 * S, 12);
  d[1][0] = vtk_zero(2 * M + S, S);      /* undoes d[0][1] */
  d[1][1] = vtk_data(5 * M, 13);         /* past the end: grows */
  d[2][0] = vtk_data(2 * M + 2 * S, 14); /* overwrites d[0][2] */
  d[2][1] = vtk_data(3 * M, 15);
  d[2][2] = vtk_zero(3 * M + S, 3 * S);
  d[2][3] = vtk_data(3 * M + 2 * S, 16); /* inside the zeroed range */
  s->active[0] =
      vtk_scenario_entry(s, 0, 100, t, 4 * M, 3); /* sectors 251..254 */
  s->active[1] = vtk_scenario_entry(s, 1, 101, t, 6 * M, 2); /* 255, 0 */
  s->active[2] = vtk_scenario_entry(s, 2, 102, t, 8 * M, 4); /* 1..4 */
  s->n_active = 3;
  vtk_log_write_run(log, VTK_MIB, t, s->active, 3);
  /* stale: a complete older sequence that must not be applied */
  d[3][0] = vtk_data(2 * M, 90);
  vtk_entry old = vtk_scenario_entry(s, 3, 99, 240 * VTK_SECTOR, 9 * M, 1);
  vtk_log_write_entry(log, VTK_MIB, 240 * VTK_SECTOR, &old);
  /* foreign: another log's entry with a greater number */
  vtk_guid(other, 9999);
  vtk_entry foreign =
      vtk_scenario_entry(s, 3, 5000, 100 * VTK_SECTOR, 9 * M, 1);
  memcpy(foreign.log_guid, other, 16);
  vtk_log_write_entry(log, VTK_MIB, 100 * VTK_SECTOR, &foreign);
}

static void sc_tail_not_first(vtk_scenario *s, uint8_t *log) {
  const uint64_t M = VTK_MIB, S = VTK_SECTOR;
  vtk_desc(*d)[VTK_SC_MAX_DESCS] = s->descs;
  d[0][0] = vtk_data(2 * M, 20); /* in the log, not replayed */
  d[1][0] = vtk_data(2 * M + S, 21);
  d[2][0] = vtk_data(2 * M + 2 * S, 22);
  vtk_entry first = vtk_scenario_entry(s, 0, 7, 0, 4 * M, 1);
  uint32_t o = vtk_log_write_run(log, VTK_MIB, 0, &first, 1);
  s->active[0] = vtk_scenario_entry(s, 1, 8, o, 4 * M, 1);
  s->active[1] = vtk_scenario_entry(s, 2, 9, o, 5 * M, 1);
  s->n_active = 2;
  vtk_log_write_run(log, VTK_MIB, o, s->active, 2);
}

const char *vtk_scenario_name(int which) {
  static const char *const names[VTK_SC_COUNT] = {
      "single entry",          "wrapped multi-entry log",
      "no descriptors",        "tail not the first entry",
      "FileWriteGuid derived", "header 1 current",
      "identical headers"};
  return which >= 0 && which < VTK_SC_COUNT ? names[which] : "?";
}

void vtk_scenario_build(vtk_scenario *s, int which) {
  vtk_image_spec spec;
  uint8_t *log;
  memset(s, 0, sizeof(*s));
  vtk_guid(s->guid, 4000 + (uint32_t)which);
  vtk_image_spec_default(&spec);
  spec.fill_seed = 9 + (uint32_t)which;
  if (which == VTK_SC_FWG_ALREADY_SET)
    vtk_derive_file_write_guid(s->guid, spec.file_write_guid);
  if (which == VTK_SC_HEADER1_CURRENT) {
    spec.header_seq[0] = 41;
    spec.header_seq[1] = 40;
  }
  if (which == VTK_SC_IDENTICAL_HEADERS)
    spec.header_seq[0] = spec.header_seq[1] = 12;
  log = calloc(1, VTK_MIB);
  if (log == NULL)
    abort();

  switch (which) {
  case VTK_SC_SINGLE:
  case VTK_SC_FWG_ALREADY_SET:
  case VTK_SC_HEADER1_CURRENT:
  case VTK_SC_IDENTICAL_HEADERS:
    sc_single(s, log);
    break;
  case VTK_SC_WRAPPED_MULTI:
    sc_wrapped_multi(s, log);
    break;
  case VTK_SC_NO_DESCRIPTORS:
    s->active[0] = vtk_scenario_entry(s, 0, 5, 7 * VTK_SECTOR, 6u * VTK_MIB, 0);
    s->n_active = 1;
    vtk_log_write_run(log, VTK_MIB, 7 * VTK_SECTOR, s->active, 1);
    break;
  case VTK_SC_TAIL_NOT_FIRST:
    sc_tail_not_first(s, log);
    break;
  default:
    fprintf(stderr, "testkit: no scenario %d\n", which);
    abort();
  }
  s->name = vtk_scenario_name(which);
  vtk_image_build(&s->img, &spec);
  vtk_image_put_log(&s->img, log, VTK_MIB, s->guid);
  free(log);
}

void vtk_scenario_free(vtk_scenario *s) { vtk_image_free(&s->img); }
