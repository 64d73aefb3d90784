/* SPDX-License-Identifier: MIT */
/*
 * The shared dirty images ("scenarios") of the test side, built with the
 * testkit writer. Each keeps the entries of its active sequence, so that the
 * expected result is computed from what was put in (vtk_model_replay), never
 * stored. Like the rest of testkit: independent of lib/, aborts on misuse.
 */
#ifndef VTK_SCENARIOS_H
#define VTK_SCENARIOS_H

#include <stddef.h>
#include <stdint.h>

#include "vhdx_builder.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VTK_SC_MAX_ENTRIES 8
#define VTK_SC_MAX_DESCS 16

typedef struct vtk_scenario {
  const char *name;                     /* vtk_scenario_name() */
  vtk_image img;                        /* before replay */
  vtk_entry active[VTK_SC_MAX_ENTRIES]; /* tail .. head */
  vtk_desc descs[VTK_SC_MAX_ENTRIES][VTK_SC_MAX_DESCS];
  size_t n_active;
  uint8_t guid[16]; /* the LogGuid of the image and its entries */
} vtk_scenario;

enum {
  VTK_SC_SINGLE,            /* one entry: data + zero descriptors */
  VTK_SC_WRAPPED_MULTI,     /* three entries across the log end, overlapping
                               writes, growth, stale and foreign entries
                               around */
  VTK_SC_NO_DESCRIPTORS,    /* one entry without descriptors: growth only */
  VTK_SC_TAIL_NOT_FIRST,    /* the head's Tail skips the first valid entry */
  VTK_SC_FWG_ALREADY_SET,   /* FileWriteGuid already derived: no first
                               update */
  VTK_SC_HEADER1_CURRENT,   /* header 1 is the current one */
  VTK_SC_IDENTICAL_HEADERS, /* equal numbers, identical bytes: header 1
                               current */
  VTK_SC_COUNT
};

/* Build scenario `which` (a VTK_SC_* value) into *s; free with
 * vtk_scenario_free(). Aborts on an unknown `which`. */
void vtk_scenario_build(vtk_scenario *s, int which);
void vtk_scenario_free(vtk_scenario *s);
/* The short name of scenario `which` (what it pins), or "?". */
const char *vtk_scenario_name(int which);
/* An entry of the scenario's log: number `seq`, Tail `tail`,
 * LastFileOffset `last`, the first `ndesc` descriptors of s->descs[i],
 * LogGuid s->guid, FlushedFileOffset 4 MiB. */
vtk_entry vtk_scenario_entry(vtk_scenario *s, size_t i, uint64_t seq,
                             uint32_t tail, uint64_t last, size_t ndesc);

#ifdef __cplusplus
}
#endif
#endif
