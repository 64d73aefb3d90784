/* SPDX-License-Identifier: MIT */
/* Shared helpers of the unit tests that load and replay through testkit's
 * memory file (io/ callbacks over an image held in memory). */
#ifndef VHDXLOG_UNIT_MEM_H
#define VHDXLOG_UNIT_MEM_H

#include "mem_file.h"
#include "unit_common.h"
#include "vhdxlog_io.h"

/* A memory copy of an image, its callbacks and what vhdxlog_load() made of
 * it; unit_unload() frees it all. */
typedef struct unit_loaded {
  vtk_mem_file f;
  vhdxlog_io io;
  vhdxlog_loaded l;
  vhdxlog_error err;
} unit_loaded;

/* A memory file holding a copy of `img` that may grow to `max_size`. */
static inline void unit_mem_open(vtk_mem_file *f, const vtk_image *img,
                                 uint64_t max_size) {
  assert_int_equal(vtk_mem_open(f, img->data, (size_t)img->size, max_size), 0);
}

/* Load a copy of `img` (growing to `max_size`); the load must succeed with
 * a plan. */
static inline void unit_load(unit_loaded *x, const vtk_image *img,
                             uint64_t max_size) {
  unit_mem_open(&x->f, img, max_size);
  vtk_mem_io(&x->f, &x->io);
  memset(&x->l, 0, sizeof(x->l));
  memset(&x->err, 0, sizeof(x->err));
  vhdxlog_status st = vhdxlog_load(&x->io, &x->l, &x->err);
  if (st != VHDXLOG_OK)
    print_error("load: %s cause %s offset %llu\n", vhdxlog_status_name(st),
                vhdxlog_status_name(x->err.cause),
                (unsigned long long)x->err.offset);
  assert_int_equal(st, VHDXLOG_OK);
  assert_true(x->l.plan_ready);
}

static inline void unit_unload(unit_loaded *x) {
  vhdxlog_loaded_free(&x->l);
  vtk_mem_close(&x->f);
}

/* Load and replay through `io` with a `bufsize` buffer. *plan_flags gets the
 * loaded plan's (replay, complete_header_update, need_file_write_guid) when
 * non-NULL. */
static inline vhdxlog_status unit_load_and_replay(const vhdxlog_io *io,
                                                  size_t bufsize,
                                                  vhdxlog_replay_result *res,
                                                  vhdxlog_error *err,
                                                  int plan_flags[3]) {
  vhdxlog_loaded l;
  memset(&l, 0, sizeof(l));
  memset(res, 0, sizeof(*res));
  memset(err, 0, sizeof(*err));
  vhdxlog_status st = vhdxlog_load(io, &l, err);
  if (st == VHDXLOG_OK) {
    assert_true(l.plan_ready);
    if (plan_flags) {
      plan_flags[0] = l.plan.replay;
      plan_flags[1] = l.plan.complete_header_update;
      plan_flags[2] = l.plan.need_file_write_guid;
    }
    uint8_t *buf = malloc(bufsize);
    assert_non_null(buf);
    st = vhdxlog_replay(&l.plan, io, buf, bufsize, res, err);
    free(buf);
  }
  vhdxlog_loaded_free(&l);
  return st;
}

/* The same through the callbacks of the memory file *f. */
static inline vhdxlog_status unit_replay_mem(vtk_mem_file *f, size_t bufsize,
                                             vhdxlog_replay_result *res,
                                             vhdxlog_error *err,
                                             int plan_flags[3]) {
  vhdxlog_io io;
  vtk_mem_io(f, &io);
  return unit_load_and_replay(&io, bufsize, res, err, plan_flags);
}

/* Replay `img` through the library into a memory file that may grow to
 * `max_size`; *out gets the file's bytes (vtk_image_free them). */
static inline void unit_real_replay(const vtk_image *img, uint64_t max_size,
                                    vtk_image *out,
                                    vhdxlog_replay_result *res) {
  unit_loaded x;
  unit_load(&x, img, max_size);
  uint8_t *buf = malloc(65536);
  assert_non_null(buf);
  assert_int_equal(vhdxlog_replay(&x.l.plan, &x.io, buf, 65536, res, &x.err),
                   VHDXLOG_OK);
  free(buf);
  vtk_image_from(out, x.f.data, x.f.size);
  unit_unload(&x);
}

/* The bytes of `img` at [off, off + size), zeros past its end. */
static inline void unit_current_bytes(const vtk_image *img, uint64_t off,
                                      uint8_t *buf, size_t size) {
  memset(buf, 0, size);
  if (off < img->size) {
    uint64_t n = img->size - off < size ? img->size - off : size;
    memcpy(buf, img->data + (size_t)off, (size_t)n);
  }
}

#endif
