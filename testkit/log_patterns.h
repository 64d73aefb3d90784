/* SPDX-License-Identifier: MIT */
/*
 * Benign and hostile logs of any size (whole sectors, up to 4 GiB) for the
 * benchmark: benign ones shaped like real metadata-log traffic, hostile ones
 * built to make a phase (search, plan, replay, overlay) do the most work
 * its rules allow. Each pattern states what a search must find on it, so
 * that the caller can check a log before timing it.
 */
#ifndef VTK_LOG_PATTERNS_H
#define VTK_LOG_PATTERNS_H

#include <stddef.h>
#include <stdint.h>

#include "vhdx_builder.h"

/* Benign "window" logs: each entry's Tail points this many entries back
 * (~1 MiB of entries of 9 sectors on average). */
#define VTK_LP_WINDOW_ENTRIES 28u
#define VTK_LP_SEQ_BASE 1000u

/* Entry shapes. */
typedef enum vtk_lp_shape {
  /* Realistic: one descriptor sector with k data descriptors (writing k
   * consecutive file sectors) and sometimes one zero descriptor, then the
   * k data sectors; 2..16 sectors, 9 on average. */
  VTK_LP_LIGHT,
  /* Worst case per byte: one sector, 126 zero descriptors (no data sector
   * needed), so every 4 KiB costs 126 descriptor checks on top of its CRC,
   * and 126 iterator steps when it is part of the active sequence. */
  VTK_LP_HEAVY
} vtk_lp_shape;

typedef enum vtk_lp_oldest {
  VTK_LP_OLDEST_FIRST,  /* sequence numbers rise from sector 0 to the end */
  VTK_LP_OLDEST_MIDDLE, /* a circular log whose head is in the middle */
  VTK_LP_OLDEST_LAST    /* oldest entry is the last one: the first run breaks at
                    the very end and the wrapping run re-reads everything */
} vtk_lp_oldest;

typedef enum vtk_lp_tail {
  VTK_LP_TAIL_OLDEST, /* every Tail names the oldest entry: whole log active */
  VTK_LP_TAIL_WINDOW, /* Tail ~VTK_LP_WINDOW_ENTRIES back: short active sequence
                       */
  VTK_LP_TAIL_SELF    /* every entry is its own complete sequence */
} vtk_lp_tail;

/* What is wrong with every entry of a vtk_lp_pattern, if anything. */
typedef enum vtk_lp_flaw {
  VTK_LP_FLAW_NONE,
  VTK_LP_FLAW_CRC,            /* the checksum */
  VTK_LP_FLAW_LAST_DESCRIPTOR /* heavy entries: the last descriptor's Reserved
                               */
} vtk_lp_flaw;

typedef enum vtk_lp_kind {
  VTK_LP_ENTRIES,
  VTK_LP_HDR126,
  VTK_LP_SPAN_CRC,
  VTK_LP_OVERLAP
} vtk_lp_kind;

typedef struct vtk_lp_pattern {
  const char *name;
  int hostile;
  vtk_lp_kind kind;
  vtk_lp_shape sh;
  vtk_lp_oldest old;
  vtk_lp_tail rule;
  uint32_t step;
  vtk_lp_flaw fl;
  const char *what;
} vtk_lp_pattern;

/* What a search must return on a pattern's log. */
typedef enum vtk_lp_expect {
  VTK_LP_SEQUENCE, /* a sequence: expect_entries entries, tail expect_tail */
  VTK_LP_NONE_CHECKSUM, /* no sequence; the newest candidate breaks: */
  VTK_LP_NONE_DESCRIPTOR_RESERVED,
  VTK_LP_NONE_DATA_COUNT,
  VTK_LP_NONE_DATA_SIGNATURE
} vtk_lp_expect;

typedef uint32_t (*vtk_lp_crc_fn)(uint32_t crc, const void *data, size_t size);

/* A log being written: the caller sets the fields up to `crc`. */
typedef struct vtk_lp_log {
  uint8_t *log;
  uint32_t n;       /* sectors in the log */
  uint32_t *starts; /* n + 1 slots: entry start sectors */
  uint8_t guid[16];
  uint64_t target_base; /* where descriptors write */
  uint32_t target_sectors;
  uint64_t flushed; /* FlushedFileOffset / LastFileOffset of entries */
  uint64_t last;
  vtk_lp_crc_fn crc; /* entry checksums; NULL: vtk_crc32c (slow) */
  /* Set by vtk_lp_generate(). */
  uint32_t m; /* entries laid out */
  vtk_rng rng;
  vtk_lp_expect expect;
  uint32_t expect_entries; /* VTK_LP_SEQUENCE */
  uint32_t expect_tail;
} vtk_lp_log;

extern const vtk_lp_pattern vtk_lp_patterns[];
extern const size_t vtk_lp_pattern_count;

/* Overwrite g->log with the pattern (bytes it leaves alone keep theirs). */
void vtk_lp_generate(vtk_lp_log *g, const vtk_lp_pattern *pt);

#endif
