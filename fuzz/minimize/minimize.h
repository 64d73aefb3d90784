/* SPDX-License-Identifier: MIT */
/*
 * vhdxlog-minimize: shrink a crash input of a fuzz target by editing its
 * structure (log entries, descriptors, sectors, the packed image's pieces),
 * repairing every checksum after each edit, and keeping an edit only when
 * the target still crashes with the same signature.
 *
 * Internal declarations of the tool's files, all prefixed mz_.
 */
#ifndef VHDXLOG_MINIMIZE_H
#define VHDXLOG_MINIMIZE_H

#include <stddef.h>
#include <stdint.h>

#define MZ_SECTOR 4096u
#define MZ_MIB 1048576u

/* A byte buffer the holder owns (malloc). */
typedef struct mz_buf {
  uint8_t *p;
  size_t n;
} mz_buf;
int mz_buf_set(mz_buf *b, const uint8_t *p, size_t n); /* copy; -1: no memory */
void mz_buf_free(mz_buf *b);

/* ---- Input layouts (mz_layout.c) ---------------------------------------- */

/* A target's input: `prefix` bytes of fields, then a raw log (zero padded to
 * 4 KiB) or a packed image (fuzz/support/packed.h). */
typedef struct mz_layout {
  char name[64];
  size_t prefix;
  int packed;
} mz_layout;

/* By target name (fuzz_search, fuzz_image, ...) or "log:N" / "packed:N". */
int mz_layout_find(const char *name, mz_layout *out);

/* The log the input holds (a copy, its length a multiple of 4 KiB): for a
 * packed image, the current header's log. -1 when there is none. */
int mz_log_get(const mz_layout *l, const mz_buf *in, mz_buf *log);
/* The input with its log replaced by `log` (shorter logs of packed images
 * are padded with zeros to the header's LogLength). */
int mz_log_put(const mz_layout *l, const mz_buf *in, const uint8_t *log,
               size_t len, mz_buf *out);
/* Recompute every checksum (entries; for images also headers and region
 * tables) with the test side's repair. -1: no memory. */
int mz_repair(const mz_layout *l, mz_buf *in);
/* Smaller forms of the whole input (trailing zeros, the packed image's
 * tail, extra size, log length and place, data outside the log): writes
 * candidate `k` into *out and returns 1, or 0 when there is no such
 * candidate, -1 past the last one. */
int mz_shrink_candidate(const mz_layout *l, const mz_buf *in, unsigned k,
                        mz_buf *out);

/* ---- Log edits (mz_log.c) ------------------------------------------------ */

/* A sector that starts with "loge" and whose EntryLength fits the log. */
typedef struct mz_entry {
  uint32_t sector;  /* first sector */
  uint32_t sectors; /* EntryLength / 4096 */
  uint64_t seq;
  uint32_t count; /* DescriptorCount */
} mz_entry;

/* The entries of a log in sector order; `disjoint`: skip an entry that
 * starts inside the previous one kept. Returns the count (<= max). */
size_t mz_entries(const uint8_t *log, size_t len, int disjoint, mz_entry *out,
                  size_t max);

/* Sector ranges [start, start + count) to remove, sorted, disjoint. */
typedef struct mz_range {
  uint32_t start, count;
} mz_range;

/* Replace sectors [s, s + k) of the log (no wrap) with `r` sectors of
 * `repl`, shifting what follows; every Tail that points past the range
 * moves with it, one inside it points to its start, and an entry that
 * holds the whole range changes its length by r - k. In place on *log. */
int mz_splice(mz_buf *log, uint32_t s, uint32_t k, const uint8_t *repl,
              uint32_t r);
/* Remove the ranges (highest first, through mz_splice). */
int mz_drop_ranges(mz_buf *log, const mz_range *ranges, size_t n);
/* Give entry `e` the number `seq`: its header, its descriptors and data
 * sectors (where their signatures say so). */
void mz_set_seq(uint8_t *log, size_t len, const mz_entry *e, uint64_t seq);
/* Entry `e` (not wrapping) without descriptors [from, from + m) and their
 * data sectors, as new bytes. */
int mz_entry_without(const uint8_t *log, size_t len, const mz_entry *e,
                     uint32_t from, uint32_t m, mz_buf *out);
/* Zero the payload of entry `e`: data sectors' Data, data descriptors'
 * leading and trailing bytes. Returns how many bytes changed. */
size_t mz_zero_payload(uint8_t *log, size_t len, const mz_entry *e);

/* ---- Running the target (mz_run.c, mz_report.c) ---------------------------
 */

/* What a crash looks like: the report's kind (sanitizer error, runtime
 * error, failed invariant, with numbers masked) and the top frame inside
 * the project (function and file, relative to the root). */
typedef struct mz_sig {
  int crashed;
  char kind[320];
  char frame[320];
} mz_sig;
int mz_sig_same(const mz_sig *a, const mz_sig *b);

typedef struct mz_runner mz_runner;
mz_runner *mz_runner_new(const char *binary, char **args, int nargs,
                         unsigned timeout_ms, const char *root);
/* Run the target on `data`; fills *sig. -1 when it could not be run. */
int mz_run(mz_runner *r, const uint8_t *data, size_t n, mz_sig *sig);
unsigned long mz_runs(const mz_runner *r);
void mz_runner_free(mz_runner *r);

/* Symbolizes offsets of the target binary: `cb` gets each (function, file)
 * of the frame, innermost inlined first, until it returns non-zero. */
typedef struct mz_symbolizer mz_symbolizer;
mz_symbolizer *mz_symbolizer_new(const char *binary);
int mz_symbolize(mz_symbolizer *s, unsigned long long off,
                 int (*cb)(void *ctx, const char *func, const char *file),
                 void *ctx);
void mz_symbolizer_free(mz_symbolizer *s);

/* Read a report (the target's stderr) into *sig. `sym` may be NULL (the
 * report is symbolized already); `binary` is the target's path. */
void mz_report_parse(const char *report, mz_symbolizer *sym, const char *binary,
                     const char *root, mz_sig *sig);

/* ---- The greedy search (mz_passes.c) --------------------------------------
 */

typedef struct mz_ctx {
  mz_layout layout;
  mz_runner *runner;
  mz_sig want;        /* the crash to keep */
  mz_buf cur;         /* the smallest input that still has it */
  int repair;         /* checksums repaired after each edit */
  long long deadline; /* ms, CLOCK_MONOTONIC */
  int out_of_time;
  const char *out_path;
  int verbose;
  uint64_t *seen; /* hashes of the candidates run (open addressing) */
  size_t seen_cap, seen_n;
  unsigned long accepted;
} mz_ctx;

long long mz_now_ms(void);
/* Decide whether to repair (the repaired input must crash the same way),
 * then run the passes until none helps or the time is up. */
int mz_minimize(mz_ctx *c);

#endif
