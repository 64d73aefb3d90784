/* SPDX-License-Identifier: MIT */
/*
 * Internals of the differential replayer (replay_diff.h), shared by its
 * files: the workspace and its buffers, the memory files and I/O wrappers,
 * the checks. Not for use outside fuzz/replay_diff/.
 */
#ifndef VHDXLOG_REPLAY_DIFF_INTERNAL_H
#define VHDXLOG_REPLAY_DIFF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mem_file.h"
#include "replay_diff.h"
#include "vhdxlog.h"
#include "vhdxlog_io.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RD_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(RD_ASAN)
#define RD_ASAN 1
#endif
#ifdef RD_ASAN
#include <sanitizer/asan_interface.h>
#define RD_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define RD_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define RD_POISON(p, n) ((void)(p), (void)(n))
#define RD_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Replay buffer sizes of the different runs: the main run coalesces up to
 * 16 sectors (the odd tail is unused), crash re-runs write one sector at a
 * time, the idempotence runs three. All must end with the same bytes. */
#define BUF_MAIN (16u * VHDXLOG_SECTOR_SIZE + 100u)
#define BUF_RERUN ((size_t)VHDXLOG_SECTOR_SIZE)
#define BUF_TWICE (3u * VHDXLOG_SECTOR_SIZE + 100u)

/* Header slots: [64 KiB, 192 KiB). */
#define HEADERS_BEGIN ((uint64_t)VHDXLOG_HEADER1_OFFSET)
#define HEADERS_END ((uint64_t)VHDXLOG_REGION1_OFFSET)

#define SCAN_BLOCK 4096u

/* Byte ranges [e[i][0], e[i][1]), in the order they were added (adjacent
 * or overlapping additions merge into the last one). */
typedef struct ext_list {
  uint64_t (*e)[2];
  size_t n, cap;
  size_t frozen; /* entries below this index take no merges */
  int oom;       /* an addition failed: the list is incomplete */
} ext_list;

/* A buffer that is zero except in the ranges of `dirty`. */
typedef struct sbuf {
  uint8_t *p;
  size_t cap;
  size_t poisoned; /* [poisoned, cap) is poisoned under ASan */
  ext_list dirty;
  /* Memory files: != 0 when the buffer holds the input of run `gen` in its
   * first dirty.frozen ranges, and the ranges after those list every byte
   * written since (file_open() then restores only those). Log buffers:
   * != 0 when it holds the input's [key_off, key_off + key_len) of run
   * `gen` (load_bytes() then reuses it). */
  uint64_t gen;
  uint64_t key_off, key_len;
} sbuf;

enum {
  SB_MAIN,      /* the main run's memory mfile */
  SB_SCRATCH,   /* the memory file of checks 2b and 3 */
  SB_MODEL,     /* the model's image */
  SB_MAIN_AREA, /* the main load: header area */
  SB_MAIN_LOG,  /* the main load: log */
  SB_AREA,      /* the other loads: header area */
  SB_LOG,       /* the other loads: log */
  SB_INPUT,     /* the caller's (replay_diff_workspace_input) */
  SB_SLOTS
};

typedef struct ws_buf {
  uint8_t *p;
  size_t cap;
} ws_buf;

struct replay_diff_workspace {
  sbuf b[SB_SLOTS];
  ws_buf chunk;  /* overlay reads */
  ws_buf replay; /* the replay buffer */
  ext_list scan; /* replay_diff_ex(): the non-zero ranges of the image */
  size_t input_size;
  uint64_t gen; /* runs so far */
};

typedef struct diff {
  const replay_diff_limits *lim;
  replay_diff_workspace *ws;
  char *why;
  size_t why_size;
  uint8_t *buffer; /* replay buffer, BUF_MAIN bytes */
} diff;

/* "E_LOG_NO_SEQUENCE" / "OK", or the number of an unknown status. */
typedef struct status_text {
  char s[48];
} status_text;

/* Where a file offset falls, to make a difference easy to place. */
typedef struct where_text {
  char s[48];
} where_text;

/* The input image: `size` bytes, zero outside the ranges of `nz`. */
typedef struct input {
  const uint8_t *data;
  size_t size;
  const ext_list *nz;
} input;

/* A vtk_mem_file (testkit/mem_file.c) over a clean workspace buffer holding
 * the input; `io` is mem_file.c's I/O with every successful write() noted in
 * the buffer's list, and with drop_header_writes every write into the header
 * slots dropped (reported as done). mf must stay the first member: `io`
 * passes the mfile as mem_file.c's context. */
typedef struct mfile {
  vtk_mem_file mf;
  sbuf *b;
  uint64_t input_size;
  int drop_header_writes;
  vhdxlog_io mem;
  vhdxlog_io io;
} mfile;

/* Read-only I/O over bytes: every mutating call fails and is counted. mf
 * must stay the first member (the I/O context is the ro_file). */
typedef struct ro_file {
  vtk_mem_file mf;
  uint64_t write_attempts;
} ro_file;

/* What a library run produced, for the comparison with the model. */
typedef struct lib_outcome {
  vhdxlog_status status;
  const vhdxlog_replay_result *result;
  const vhdxlog_plan *plan; /* NULL if the plan failed */
  const uint8_t *data;
  uint64_t size;
  const ext_list *written; /* the input's non-zero ranges and the writes */
} lib_outcome;

/* workspace.c: extent lists, clean buffers, the workspace */
void rd_ext_add(ext_list *l, uint64_t off, uint64_t end);
void rd_copy_ranges(uint8_t *dst, ext_list *dst_list, const uint8_t *src,
                    uint64_t size, const ext_list *l, uint64_t base,
                    uint64_t length);
ext_list rd_writes_only(const ext_list *l);
int rd_ws_oom(const replay_diff_workspace *ws);
uint8_t *rd_sb_get(sbuf *b, size_t size, size_t want, int poison);
uint8_t *rd_wb_get(ws_buf *b, size_t size);

/* report.c: describing a difference */
int rd_say(diff *d, int rc, const char *fmt, ...);
status_text rd_name_of(vhdxlog_status st);
where_text rd_where_of(uint64_t off);
int rd_compare_images(diff *d, const char *what, const char *an,
                      const uint8_t *a, uint64_t asize, const char *bn,
                      const uint8_t *b, uint64_t bsize, const ext_list *la,
                      const ext_list *lb, const ext_list *lc);

/* io_shims.c: memory files, loads from memory, I/O wrappers */
int rd_file_open(diff *d, int slot, mfile *f, const input *in);
void rd_file_done(mfile *f);
uint64_t rd_file_max(const diff *d, size_t size);
vhdxlog_status rd_load_bytes(diff *d, int area_slot, const uint8_t *data,
                             uint64_t size, const ext_list *l, size_t from,
                             vhdxlog_loaded *out, vhdxlog_error *error);
int rd_same_plan(const vhdxlog_plan *a, const vhdxlog_plan *b);
void rd_ro_io(ro_file *f, const uint8_t *data, uint64_t size, vhdxlog_io *io);

/* checks.c: check 1 (library vs model) and check 2 (re-runs) */
int rd_check_model(diff *d, const lib_outcome *lib, const uint8_t *data,
                   uint64_t size, const ext_list *l, const char *context);
int rd_check_replay_again(diff *d, const mfile *main_file);
int rd_check_writes_twice(diff *d, const input *in,
                          const vhdxlog_plan *main_plan,
                          const mfile *main_file);

/* overlay.c: checks 3 and 4 (the overlay of a file) */
int rd_check_overlay(diff *d, const char *context, const vhdxlog_plan *plan,
                     const uint8_t *file, uint64_t file_size,
                     const uint8_t *expected, uint64_t expected_size,
                     uint32_t calls, const ext_list *written);

/* crash.c: check 3 (crash points) */
int rd_check_crashes(diff *d, const input *in, const vhdxlog_plan *main_plan,
                     const mfile *main_file);

#endif
