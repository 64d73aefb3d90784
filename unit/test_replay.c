/* SPDX-License-Identifier: MIT */
/* Replay through the io/ memory backend: expected bytes from the testkit's
 * model, header state, crash injection at every write (with and without
 * loss of unflushed writes), and rejected inputs leaving the file as is. */
#include "scenarios.h"
#include "unit_mem.h"

#define MAX_FILE (64u * VTK_MIB)

static void assert_file(const vtk_mem_file *f, const vtk_image *want,
                        const char *what) {
  assert_bytes_equal(f->data, f->size, want->data, want->size, what);
}

/* One replay through a memory copy of an image: the file (left open for the
 * caller's checks: vtk_mem_close it), the result, the error and the plan's
 * flags (see load_and_replay). */
typedef struct run {
  vtk_mem_file f;
  vhdxlog_replay_result res;
  vhdxlog_error err;
  int flags[3];
} run;

static vhdxlog_status run_replay(run *r, const vtk_image *img, size_t bufsize) {
  unit_mem_open(&r->f, img, MAX_FILE);
  return unit_replay_mem(&r->f, bufsize, &r->res, &r->err, r->flags);
}

/* The replay of `img` succeeds and leaves `want`. */
static void run_expect(run *r, const vtk_image *img, size_t bufsize,
                       const vtk_image *want, const char *what) {
  vhdxlog_status st = run_replay(r, img, bufsize);
  if (st != VHDXLOG_OK)
    print_error("%s: %s cause %s offset %llu index %u\n", what,
                vhdxlog_status_name(st), vhdxlog_status_name(r->err.cause),
                (unsigned long long)r->err.offset, r->err.index);
  assert_int_equal(st, VHDXLOG_OK);
  assert_file(&r->f, want, what);
}

/* A replay of `img` that finds nothing to do: no log replayed, no header
 * repaired, no write, the file as it was. */
static void expect_nothing_to_do(const vtk_image *img, const char *what) {
  run r;
  assert_int_equal(run_replay(&r, img, 65536), VHDXLOG_OK);
  assert_int_equal(r.flags[0], 0);
  assert_int_equal(r.flags[1], 0);
  assert_int_equal(r.res.replayed, 0);
  assert_int_equal(r.res.headers_repaired, 0);
  assert_int_equal(r.f.writes, 0);
  assert_file(&r.f, img, what);
  vtk_mem_close(&r.f);
}

/* A scenario and what the testkit's model says its replay leaves. */
typedef struct expected {
  vtk_scenario s;
  vtk_image want;
} expected;

static void expected_build(expected *x, int which) {
  vtk_scenario_build(&x->s, which);
  vtk_model_replay(&x->s.img, x->s.active, x->s.n_active, &x->want);
}

static void expected_free(expected *x) {
  vtk_image_free(&x->want);
  vtk_scenario_free(&x->s);
}

/* The writes a full replay of `img` makes with an 8 KiB buffer. */
static uint64_t writes_of(const vtk_image *img) {
  run r;
  assert_int_equal(run_replay(&r, img, 8192), VHDXLOG_OK);
  uint64_t n = r.f.writes;
  vtk_mem_close(&r.f);
  return n;
}

/* --- results ----------------------------------------------------------- */

static void check_scenario(int which, size_t bufsize) {
  expected x;
  expected_build(&x, which);
  run r;
  run_expect(&r, &x.s.img, bufsize, &x.want, x.s.name);
  assert_int_equal(r.flags[0], 1);
  assert_int_equal(r.flags[1], 0);
  assert_int_equal(r.flags[2], which != VTK_SC_FWG_ALREADY_SET);
  assert_int_equal(r.res.replayed, 1);
  assert_int_equal(r.res.headers_repaired, 0);
  /* result.writes counts write/write_zeros; the backend also counts the
   * one set_size of step 3 when the file had to grow */
  assert_true(r.f.writes == r.res.writes || r.f.writes == r.res.writes + 1);
  assert_int_equal(r.res.flushes, r.f.flushes);
  /* step 1 (unless skipped), step 3, step 4 twice */
  assert_true(r.res.flushes >= (which == VTK_SC_FWG_ALREADY_SET ? 3u : 4u));
  vtk_mem_close(&r.f);
  expected_free(&x);
}

/* Every scenario replays to the testkit model's bytes. */
static void test_replay_scenario_matches_model(void **state) {
  check_scenario(unit_scenario(state), 65536);
}

static void test_replay_accepts_file_exactly_flushed_offset(void **state) {
  (void)state;
  check_scenario(VTK_SC_SINGLE,
                 65536); /* 4 MiB file, FlushedFileOffset 4 MiB */
}

static void test_replay_result_independent_of_buffer_size(void **state) {
  (void)state;
  static const size_t sizes[] = {4096, 8192, 12288, 4096 * 3 + 100, VTK_MIB};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    check_scenario(VTK_SC_WRAPPED_MULTI, sizes[i]);
    check_scenario(VTK_SC_SINGLE, sizes[i]);
  }
}

static void test_replay_rejects_buffer_smaller_than_sector(void **state) {
  vtk_scenario *s = *state;
  vtk_mem_file f;
  unit_mem_open(&f, &s->img, MAX_FILE);
  vhdxlog_replay_result res;
  vhdxlog_error err;
  assert_int_equal(unit_replay_mem(&f, 4095, &res, &err, NULL),
                   VHDXLOG_E_ARGUMENT);
  assert_int_equal(f.writes, 0);
  assert_file(&f, &s->img, "untouched");
  vtk_mem_close(&f);
}

static void test_replay_leaves_headers_clean_with_derived_guid(void **state) {
  vtk_scenario *s = *state; /* header 2 (seq 2) current */
  run r;
  assert_int_equal(run_replay(&r, &s->img, 65536), VHDXLOG_OK);
  vtk_mem_file f = r.f;
  uint8_t fwg[16], lib_fwg[16];
  vtk_derive_file_write_guid(s->guid, fwg);
  vhdxlog_derive_file_write_guid(s->guid, lib_fwg);
  assert_memory_equal(lib_fwg, fwg, 16);
  const uint8_t *h1 = f.data + VTK_HEADER1, *h2 = f.data + VTK_HEADER2;
  assert_true(vtk_header_raw_valid(h1));
  assert_true(vtk_header_raw_valid(h2));
  assert_true(vtk_guid_is_zero(h1 + 48));
  assert_true(vtk_guid_is_zero(h2 + 48));
  assert_memory_equal(h1 + 16, fwg, 16);
  assert_memory_equal(h2 + 16, fwg, 16);
  /* 2 -> slot 1 gets 3 (FWG), slot 2 gets 4, slot 1 gets 5 */
  assert_int_equal(vtk_get_le64(h1 + 8), 5);
  assert_int_equal(vtk_get_le64(h2 + 8), 4);
  /* everything else of the header is kept */
  assert_memory_equal(h1 + 32, vtk_header(&s->img, 1) + 32, 16);
  assert_memory_equal(h1 + 64, vtk_header(&s->img, 1) + 64, 4096 - 64);
  vtk_mem_close(&f);
}

static void test_replay_header_update_matches_testkit(void **state) {
  vtk_scenario *s = *state;
  uint8_t a[4096], b[4096], fwg[16], lg[16];
  vtk_guid(fwg, 1);
  vtk_guid(lg, 2);
  vhdxlog_header_update(vtk_header(&s->img, 1), fwg, lg, a);
  vtk_header_update(vtk_header(&s->img, 1), fwg, lg, b);
  assert_memory_equal(a, b, 4096);
}

static void test_replay_twice_is_a_no_op(void **state) {
  vtk_scenario *s = *state;
  run r;
  assert_int_equal(run_replay(&r, &s->img, 65536), VHDXLOG_OK);
  vtk_image once;
  vtk_image_from(&once, r.f.data, r.f.size);
  vtk_mem_close(&r.f);
  expect_nothing_to_do(&once, "second replay");
  vtk_image_free(&once);
}

static void test_replay_clean_image_writes_nothing(void **state) {
  (void)state;
  vtk_image img;
  vtk_image_build_default(&img);
  expect_nothing_to_do(&img, "clean");
  vtk_image_free(&img);
}

/* A clean image whose other header still holds LogGuid L, one number less,
 * with current FileWriteGuid == derive(L): our replay stopped between the
 * two writes of step 4; the second one is done now. */
static void test_replay_completes_interrupted_header_update(void **state) {
  (void)state;
  uint8_t L[16], F[16];
  vtk_guid(L, 55);
  vtk_derive_file_write_guid(L, F);
  /* 0: our interruption; 1: numbers 2 apart; 2: FileWriteGuid not
   * derive(L); 3: the stale slot's checksum is bad; 4: the stale slot's
   * LogGuid is zero (nothing was interrupted) */
  for (int variant = 0; variant < 5; variant++) {
    vtk_image_spec spec;
    vtk_image img;
    vtk_image_spec_default(&spec);
    spec.header_seq[0] = 9;
    spec.header_seq[1] = variant == 1 ? 11 : 10; /* header 2 current */
    if (variant != 2)
      memcpy(spec.file_write_guid, F, 16);
    vtk_image_build(&img, &spec);
    if (variant != 4)
      vtk_header_set_log_guid(&img, 0, L); /* the stale slot */
    if (variant == 3)
      vtk_header(&img, 0)[200] ^= 1;
    if (variant == 0) {
      /* repaired: slot 1 = update(current, F, 0) */
      static const uint8_t zero[16];
      vtk_image want;
      vtk_image_from(&want, img.data, img.size);
      vtk_header_update(vtk_header(&img, 1), F, zero, vtk_header(&want, 0));
      run r;
      run_expect(&r, &img, 65536, &want, "repaired");
      assert_int_equal(r.flags[0], 0);
      assert_int_equal(r.flags[1], 1);
      assert_int_equal(r.res.headers_repaired, 1);
      assert_true(r.f.flushes >= 1);
      vtk_mem_close(&r.f);
      vtk_image_free(&want);
    } else {
      expect_nothing_to_do(&img, "not our interruption");
    }
    vtk_image_free(&img);
  }
}

/* --- crash injection ------------------------------------------------------ */

/* For every write index k: crash there (the k-th and later writes fail),
 * then re-run on the same file and compare with the uninterrupted result. */
static void crash_at_every_write(int which) {
  expected x;
  expected_build(&x, which);
  const vtk_scenario *s = &x.s;
  vtk_mem_file f;
  vhdxlog_replay_result res;
  vhdxlog_error err;
  uint64_t total = writes_of(&s->img);
  assert_true(total >= 3);
  for (uint64_t k = 0; k < total; k++) {
    unit_mem_open(&f, &s->img, MAX_FILE);
    f.fail_at_write = (int64_t)k;
    vhdxlog_status st = unit_replay_mem(&f, 8192, &res, &err, NULL);
    if (st != VHDXLOG_E_IO)
      print_error("%s: crash at write %llu gave %s\n", s->name,
                  (unsigned long long)k, vhdxlog_status_name(st));
    assert_int_equal(st, VHDXLOG_E_IO);
    assert_int_equal(err.status, VHDXLOG_E_IO);
    assert_int_equal(f.writes, k);
    f.fail_at_write = -1;
    int flags[3];
    st = unit_replay_mem(&f, 8192, &res, &err, flags);
    if (st != VHDXLOG_OK)
      print_error("%s: re-run after crash at write %llu: %s\n", s->name,
                  (unsigned long long)k, vhdxlog_status_name(st));
    assert_int_equal(st, VHDXLOG_OK);
    if (k == total - 1) {
      /* only the last header write was lost */
      assert_int_equal(flags[0], 0);
      assert_int_equal(flags[1], 1);
      assert_int_equal(res.headers_repaired, 1);
    } else {
      assert_int_equal(flags[0], 1);
    }
    assert_file(&f, &x.want, s->name);
    vtk_mem_close(&f);
  }
  expected_free(&x);
}

/* Crash twice: at k, then at j during the recovery, then recover. */
static void test_replay_crash_at_every_write(void **state) {
  crash_at_every_write(unit_scenario(state));
}

static void test_replay_survives_crash_during_recovery(void **state) {
  (void)state;
  expected x; /* every (k, j) pair: keep the write count small */
  expected_build(&x, VTK_SC_SINGLE);
  vtk_mem_file f;
  vhdxlog_replay_result res;
  vhdxlog_error err;
  uint64_t total = writes_of(&x.s.img);
  for (uint64_t k = 0; k < total; k++) {
    for (uint64_t j = 0; j < total; j++) {
      unit_mem_open(&f, &x.s.img, MAX_FILE);
      f.fail_at_write = (int64_t)k;
      assert_int_equal(unit_replay_mem(&f, 8192, &res, &err, NULL),
                       VHDXLOG_E_IO);
      f.fail_at_write = (int64_t)(f.writes + j);
      vhdxlog_status st = unit_replay_mem(&f, 8192, &res, &err, NULL);
      assert_true(st == VHDXLOG_OK || st == VHDXLOG_E_IO);
      f.fail_at_write = -1;
      assert_int_equal(unit_replay_mem(&f, 8192, &res, &err, NULL), VHDXLOG_OK);
      assert_file(&f, &x.want, "double crash");
      vtk_mem_close(&f);
    }
  }
  expected_free(&x);
}

/* A backend with a volatile write cache: writes since the last flush are
 * journaled and, at a crash, lost (all of them, or all but the last one:
 * a later write may reach the disk before an earlier one). Catches a
 * missing flush between steps that depend on each other. */
typedef struct jrec {
  int kind; /* 0 write, 1 write_zeros, 2 set_size */
  uint64_t off, len, old_size;
  uint8_t *old;  /* bytes [off, min(off+len, old_size)) before */
  uint8_t *data; /* kind 0: what was written */
} jrec;

typedef struct jfile {
  vtk_mem_file *f;
  vhdxlog_io inner;
  int64_t fail_at;
  uint64_t calls;
  int crashed;
  jrec *j;
  size_t n, cap;
} jfile;

static void j_record(jfile *jf, int kind, uint64_t off, uint64_t len,
                     const void *data) {
  if (jf->n == jf->cap) {
    jf->cap = jf->cap ? 2 * jf->cap : 16;
    jf->j = realloc(jf->j, jf->cap * sizeof(*jf->j));
    assert_non_null(jf->j);
  }
  jrec *r = &jf->j[jf->n++];
  memset(r, 0, sizeof(*r));
  r->kind = kind;
  r->off = off;
  r->len = len;
  r->old_size = jf->f->size;
  if (kind != 2 && off < r->old_size) {
    uint64_t n = r->old_size - off < len ? r->old_size - off : len;
    r->old = malloc((size_t)n);
    memcpy(r->old, jf->f->data + (size_t)off, (size_t)n);
  }
  if (kind == 0) {
    r->data = malloc((size_t)len);
    memcpy(r->data, data, (size_t)len);
  }
}

static void j_clear(jfile *jf) {
  for (size_t i = 0; i < jf->n; i++) {
    free(jf->j[i].old);
    free(jf->j[i].data);
  }
  jf->n = 0;
}

static int j_gate(jfile *jf) {
  if (jf->crashed || (jf->fail_at >= 0 && jf->calls == (uint64_t)jf->fail_at)) {
    jf->crashed = 1;
    return -1;
  }
  jf->calls++;
  return 0;
}

static int j_read(void *c, uint64_t off, void *buf, size_t size) {
  jfile *jf = c;
  return jf->inner.read(jf->inner.ctx, off, buf, size);
}
static int j_write(void *c, uint64_t off, const void *buf, size_t size) {
  jfile *jf = c;
  if (j_gate(jf))
    return -1;
  j_record(jf, 0, off, size, buf);
  return jf->inner.write(jf->inner.ctx, off, buf, size);
}
static int j_write_zeros(void *c, uint64_t off, uint64_t size) {
  jfile *jf = c;
  if (j_gate(jf))
    return -1;
  j_record(jf, 1, off, size, NULL);
  return jf->inner.write_zeros(jf->inner.ctx, off, size);
}
static int j_get_size(void *c, uint64_t *size) {
  jfile *jf = c;
  return jf->inner.get_size(jf->inner.ctx, size);
}
static int j_set_size(void *c, uint64_t size) {
  jfile *jf = c;
  if (j_gate(jf))
    return -1;
  j_record(jf, 2, size, 0, NULL);
  return jf->inner.set_size(jf->inner.ctx, size);
}
static int j_flush(void *c) {
  jfile *jf = c;
  if (jf->crashed)
    return -1;
  j_clear(jf);
  return jf->inner.flush(jf->inner.ctx);
}

/* Power loss: undo the unflushed writes newest first; keep_last re-applies
 * the newest one afterwards. */
static void j_power_loss(jfile *jf, int keep_last) {
  vtk_mem_file *f = jf->f;
  for (size_t i = jf->n; i-- > 0;) {
    jrec *r = &jf->j[i];
    if (r->old)
      memcpy(f->data + (size_t)r->off, r->old,
             (size_t)(r->old_size - r->off < r->len ? r->old_size - r->off
                                                    : r->len));
    if (f->size > r->old_size) {
      /* bytes past the end read as zero when the file grows again */
      memset(f->data + (size_t)r->old_size, 0, (size_t)(f->size - r->old_size));
      f->size = r->old_size;
    }
  }
  if (keep_last && jf->n > 0) {
    jrec *r = &jf->j[jf->n - 1];
    if (r->kind == 0)
      assert_int_equal(
          jf->inner.write(jf->inner.ctx, r->off, r->data, (size_t)r->len), 0);
    else if (r->kind == 1)
      assert_int_equal(jf->inner.write_zeros(jf->inner.ctx, r->off, r->len), 0);
    else
      assert_int_equal(jf->inner.set_size(jf->inner.ctx, r->off), 0);
  }
  j_clear(jf);
}

static void crash_with_lost_cache(int which, int keep_last) {
  expected x;
  expected_build(&x, which);
  vtk_mem_file f;
  vhdxlog_replay_result res;
  vhdxlog_error err;
  uint64_t total = writes_of(&x.s.img);
  for (uint64_t k = 0; k <= total; k++) {
    unit_mem_open(&f, &x.s.img, MAX_FILE);
    jfile jf;
    memset(&jf, 0, sizeof(jf));
    jf.f = &f;
    vtk_mem_io(&f, &jf.inner);
    jf.fail_at = (int64_t)k;
    vhdxlog_io io = {&jf,        j_read,     j_write, j_write_zeros,
                     j_get_size, j_set_size, j_flush};
    vhdxlog_status st = unit_load_and_replay(&io, 8192, &res, &err, NULL);
    assert_true(st == (k < total ? VHDXLOG_E_IO : VHDXLOG_OK));
    j_power_loss(&jf, keep_last);
    free(jf.j);
    st = unit_replay_mem(&f, 8192, &res, &err, NULL);
    if (st != VHDXLOG_OK)
      print_error("%s: crash at %llu (keep_last %d), re-run: %s\n", x.s.name,
                  (unsigned long long)k, keep_last, vhdxlog_status_name(st));
    assert_int_equal(st, VHDXLOG_OK);
    assert_file(&f, &x.want, x.s.name);
    vtk_mem_close(&f);
  }
  expected_free(&x);
}

static void test_replay_crash_losing_unflushed_writes(void **state) {
  (void)state;
  static const int which[] = {VTK_SC_SINGLE, VTK_SC_WRAPPED_MULTI,
                              VTK_SC_FWG_ALREADY_SET};
  for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++) {
    crash_with_lost_cache(which[i], 0);
    crash_with_lost_cache(which[i], 1);
  }
}

/* --- rejected inputs: precise error, file untouched ---------------------- */

static void expect_rejected(const vtk_image *img, vhdxlog_status want,
                            vhdxlog_error *out) {
  run r;
  vhdxlog_status st = run_replay(&r, img, 65536);
  if (st != want)
    print_error("got %s (cause %s offset %llu index %u), want %s\n",
                vhdxlog_status_name(st), vhdxlog_status_name(r.err.cause),
                (unsigned long long)r.err.offset, r.err.index,
                vhdxlog_status_name(want));
  assert_int_equal(st, want);
  assert_int_equal(r.err.status, want);
  assert_int_equal(r.f.writes, 0);
  assert_file(&r.f, img, "rejected input");
  if (out)
    *out = r.err;
  vtk_mem_close(&r.f);
}

static void test_replay_rejects_file_shorter_than_flushed_offset(void **state) {
  vtk_scenario *s = *state; /* FlushedFileOffset 4 MiB = the file size */
  vtk_image_resize(&s->img, 4u * VTK_MIB - 4096);
  vhdxlog_error err;
  expect_rejected(&s->img, VHDXLOG_E_FILE_TRUNCATED, &err);
  assert_int_equal(err.offset, 4u * VTK_MIB - 4096); /* the file size */
}

static void test_replay_rejects_flushed_offset_beyond_end(void **state) {
  vtk_scenario *s = *state;
  /* rewrite the head with FlushedFileOffset past the end */
  uint8_t *log = s->img.data + VTK_MIB;
  uint32_t head = 1 * VTK_SECTOR;
  vtk_put_le64(vtk_log_at(log, VTK_MIB, head, 48), 5u * VTK_MIB);
  vtk_entry_fix_checksum(log, VTK_MIB, head);
  vhdxlog_error err;
  expect_rejected(&s->img, VHDXLOG_E_FILE_TRUNCATED, &err);
  assert_int_equal(err.offset, 4u * VTK_MIB); /* the file size */
}

static void test_replay_rejects_file_cut_inside_log(void **state) {
  vtk_scenario *s = *state;
  vtk_image_resize(&s->img, 2u * VTK_MIB - 4096);
  expect_rejected(&s->img, VHDXLOG_E_LOG_BEYOND_FILE, NULL);
  vtk_image_resize(&s->img, VTK_MIB - 4096);
  expect_rejected(&s->img, VHDXLOG_E_FILE_TOO_SMALL, NULL);
}

static void test_replay_rejects_corrupt_headers(void **state) {
  vtk_scenario *s = *state;
  vtk_header(&s->img, 0)[10] ^= 1;
  vtk_header(&s->img, 1)[10] ^= 1;
  expect_rejected(&s->img, VHDXLOG_E_NO_VALID_HEADER, NULL);
}

/* A checksum that matches an entry breaking a rule is damage, not a power
 * cut: refused under the default policy (test_armed.c has the rest). */
static void test_replay_rejects_corrupt_log(void **state) {
  vtk_scenario *s = *state;
  vtk_entry_break(s->img.data + VTK_MIB, VTK_MIB, 0, VTK_BREAK_DATA_SIGNATURE,
                  0, 1);
  vhdxlog_error err;
  expect_rejected(&s->img, VHDXLOG_E_LOG_NO_SEQUENCE, &err);
  assert_int_equal(err.cause, VHDXLOG_E_DATA_SIGNATURE);
  assert_int_equal(err.offset, 0);
}

/* A dirty image whose single entry (at log offset 8 KiB) has descriptor 1
 * writing [off, off + len). */
static void target_image_at(vtk_image *img, vtk_desc bad, vtk_scenario *s,
                            uint64_t log_offset) {
  memset(s, 0, sizeof(*s));
  vtk_guid(s->guid, 77);
  vtk_image_spec spec;
  vtk_image_spec_default(&spec);
  spec.log_offset = log_offset;
  if (log_offset + VTK_MIB > spec.file_size)
    spec.file_size = log_offset + VTK_MIB;
  vtk_image_build(img, &spec);
  s->descs[0][0] = vtk_data(2u * VTK_MIB, 1);
  s->descs[0][1] = bad;
  s->descs[0][2] = vtk_data(2u * VTK_MIB + VTK_SECTOR, 2);
  s->active[0] = vtk_scenario_entry(s, 0, 3, 8192, 4u * VTK_MIB, 3);
  s->n_active = 1;
  uint8_t *log = calloc(1, VTK_MIB);
  vtk_log_write_entry(log, VTK_MIB, 8192, &s->active[0]);
  vtk_image_put_log(img, log, VTK_MIB, s->guid);
  free(log);
}

/* Descriptor 1 of target_image_at()'s entry, with the log at `log_offset`:
 * replayed to the testkit model's bytes, or refused (E_DESCRIPTOR_TARGET
 * naming the entry and descriptor 1) when it writes into the first 1 MiB
 * or the log. */
typedef struct target_case {
  const char *name;
  uint64_t log_offset;
  vtk_desc d;
  int ok;
} target_case;

#define M ((uint64_t)VTK_MIB)
#define DATA(off)                                                              \
  { VTK_DATA, off, 0, NULL, 5 }
#define ZERO(off, len)                                                         \
  { VTK_ZERO, off, len, NULL, 0 }
#define REFUSED "test_replay_rejects_descriptor_targeting_first_mib_or_log: "
#define ALLOWED "test_replay_allows_descriptors_outside_protected_ranges: "
#define AWAY "test_replay_protects_log_away_from_first_mib: "
static const target_case target_cases[] = {
    {REFUSED "inside the log", M, DATA(M + 12288), 0},
    {REFUSED "the log's last sector", M, DATA(2 * M - 4096), 0},
    {REFUSED "across the log's start", M, ZERO(M - 4096, 8192), 0},
    {REFUSED "everything", M, ZERO(0, 4 * M), 0},
    {REFUSED "header 1", M, DATA(65536), 0},
    {REFUSED "across header 1's start", M, ZERO(61440, 8192), 0},
    {REFUSED "the end of header 2's slot", M, DATA(131072 + 61440), 0},
    {REFUSED "header 2", M, DATA(131072), 0},
    {REFUSED "the file identifier", M, DATA(0), 0},
    {REFUSED "the identifier's unused part", M, DATA(32768), 0},
    {REFUSED "just before header 1", M, DATA(61440), 0},
    {REFUSED "just before region table 1", M, DATA(196608 - 4096), 0},
    {REFUSED "just after region table 2 (reserved)", M, DATA(327680), 0},
    {REFUSED "region table 2 and on", M, ZERO(262144, 65536 + 4096), 0},
    {REFUSED "the last sector of the first 1 MiB", M, DATA(M - 4096), 0},
    {REFUSED "a zero range in the identifier", M, ZERO(4096, 4096), 0},
    {ALLOWED "starts where the log ends", M, DATA(2 * M), 1},
    {ALLOWED "zero length overlaps nothing", M, ZERO(65536, 0), 1},
    {ALLOWED "zero length at 0", M, ZERO(0, 0), 1},
    {ALLOWED "zero length in the log", M, ZERO(M + 4096, 0), 1},
    {ALLOWED "past the end and LastFileOffset", M, DATA(9 * M), 1},
    {ALLOWED "zeros past the end extend too", M, ZERO(10 * M, 8192), 1},
    {ALLOWED "a no-op: grows nothing", M, ZERO(10 * M, 0), 1},
    /* the log at [6, 7) MiB */
    {AWAY "ends where the log starts", 6 * M, DATA(6 * M - 4096), 1},
    {AWAY "starts where the log ends", 6 * M, DATA(7 * M), 1},
    {AWAY "zeros across the log's start", 6 * M, ZERO(6 * M - 4096, 8192), 0},
    {AWAY "the log's last sector", 6 * M, DATA(7 * M - 4096), 0},
    {AWAY "zeros over the whole log", 6 * M, ZERO(5 * M, 2 * M), 0},
    {AWAY "the first byte past the first 1 MiB", 6 * M, DATA(M), 1},
};

static void test_replay_target_case(void **state) {
  const target_case *t = *state;
  vtk_image img, want;
  vtk_scenario s;
  target_image_at(&img, t->d, &s, t->log_offset);
  if (t->ok) {
    vtk_model_replay(&img, s.active, 1, &want);
    run r;
    run_expect(&r, &img, 65536, &want, t->name);
    vtk_mem_close(&r.f);
    vtk_image_free(&want);
  } else {
    vhdxlog_error err;
    expect_rejected(&img, VHDXLOG_E_DESCRIPTOR_TARGET, &err);
    assert_int_equal(err.offset, 8192); /* the entry's log offset */
    assert_int_equal(err.index, 1);
  }
  vtk_image_free(&img);
}

/* Our 2^62 bound is the plan's (RULES.md "Plan" 1): the newest sequence
 * stays the active one and the replay is refused, never replaced by an
 * older sequence that keeps within the bound. */
static void test_plan_refuses_active_sequence_past_bound(void **state) {
  (void)state;
  static const struct {
    int field; /* 0: a descriptor, 1: FlushedFileOffset, 2: LastFileOffset */
    vhdxlog_status cause;
    uint32_t index;
  } c[] = {
      {0, VHDXLOG_E_DESCRIPTOR_OFFSET, 1},
      {1, VHDXLOG_E_ENTRY_FLUSHED_OFFSET, VHDXLOG_NO_INDEX},
      {2, VHDXLOG_E_ENTRY_LAST_OFFSET, VHDXLOG_NO_INDEX},
  };
  for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
    uint8_t g[16];
    vtk_guid(g, 91);
    vtk_image_spec spec;
    vtk_image_spec_default(&spec);
    vtk_image img;
    vtk_image_build(&img, &spec);
    vtk_desc old_d[1] = {vtk_data(2 * M, 1)};
    vtk_desc new_d[2] = {vtk_data(2 * M, 2),
                         c[i].field == 0 ? vtk_zero(VTK_MAX_OFFSET - 4096, 8192)
                                         : vtk_data(2 * M + 4096, 3)};
    vtk_entry older = vtk_entry_make(3, 0, g, 4 * M, 4 * M, old_d, 1);
    vtk_entry newer = vtk_entry_make(9, 65536, g, 4 * M, 4 * M, new_d, 2);
    if (c[i].field == 1)
      newer.flushed_file_offset = VTK_MAX_OFFSET + M;
    if (c[i].field == 2)
      newer.last_file_offset = VTK_MAX_OFFSET + M;
    uint8_t *log = calloc(1, M);
    assert_non_null(log);
    vtk_log_write_entry(log, (uint32_t)M, 0, &older);
    vtk_log_write_entry(log, (uint32_t)M, 65536, &newer);
    vtk_image_put_log(&img, log, (uint32_t)M, g);
    free(log);
    vhdxlog_error err;
    expect_rejected(&img, VHDXLOG_E_OFFSET_LIMIT, &err);
    assert_int_equal(err.cause, c[i].cause);
    assert_int_equal(err.offset, 65536);
    assert_int_equal(err.index, c[i].index);
    vtk_image_free(&img);
  }
}

/* RULES.md Plan 3b: the replay's header updates (3, or 2 when the
 * FileWriteGuid is already derived) must not wrap SequenceNumber. */
static void expect_sequence_limit(uint64_t current, int fwg_derived, int ok) {
  vtk_scenario s;
  vtk_scenario_build(&s, fwg_derived ? VTK_SC_FWG_ALREADY_SET : VTK_SC_SINGLE);
  /* header 2 current with `current`, header 1 one less */
  vtk_header_set_seq(&s.img, 0, current - 1);
  vtk_header_set_seq(&s.img, 1, current);
  if (ok) {
    vtk_image want;
    vtk_model_replay(&s.img, s.active, s.n_active, &want);
    run r;
    run_expect(&r, &s.img, 65536, &want, "near the sequence limit");
    uint64_t a = vtk_get_le64(r.f.data + VTK_HEADER1 + 8);
    uint64_t b = vtk_get_le64(r.f.data + VTK_HEADER2 + 8);
    assert_int_equal(a > b ? a : b, current + (fwg_derived ? 2 : 3));
    vtk_mem_close(&r.f);
    vtk_image_free(&want);
  } else {
    expect_rejected(&s.img, VHDXLOG_E_HEADER_SEQUENCE_LIMIT, NULL);
  }
  vtk_scenario_free(&s);
}

static void
test_replay_refuses_header_updates_that_wrap_sequence(void **state) {
  (void)state;
  expect_sequence_limit(UINT64_MAX - 3, 0, 1); /* ends at 2^64 - 1 */
  expect_sequence_limit(UINT64_MAX - 2, 0, 0);
  expect_sequence_limit(UINT64_MAX, 0, 0);
  expect_sequence_limit(UINT64_MAX - 2, 1, 1); /* two updates only */
  expect_sequence_limit(UINT64_MAX - 1, 1, 0);
}

static void test_replay_checks_file_size_before_sequence_limit(void **state) {
  vtk_scenario *s = *state;
  vtk_header_set_seq(&s->img, 0, UINT64_MAX - 1);
  vtk_header_set_seq(&s->img, 1, UINT64_MAX);
  vtk_image_resize(&s->img, 4u * VTK_MIB - 4096);
  expect_rejected(&s->img, VHDXLOG_E_FILE_TRUNCATED, NULL);
}

static void test_replay_no_completion_at_sequence_limit(void **state) {
  (void)state;
  /* the interrupted-update case, with the current number at 2^64 - 1 */
  uint8_t L[16], F[16];
  vtk_guid(L, 57);
  vtk_derive_file_write_guid(L, F);
  vtk_image_spec spec;
  vtk_image img;
  vtk_image_spec_default(&spec);
  spec.header_seq[0] = UINT64_MAX - 1;
  spec.header_seq[1] = UINT64_MAX;
  memcpy(spec.file_write_guid, F, 16);
  vtk_image_build(&img, &spec);
  vtk_header_set_log_guid(&img, 0, L);
  expect_nothing_to_do(&img, "no completion");
  vtk_image_free(&img);
}

static void test_replay_reports_target_in_later_entry(void **state) {
  vtk_scenario *s = *state;
  /* the head (log offset 4 KiB) writes into header 2 with descriptor 3 */
  uint8_t *log = s->img.data + VTK_MIB;
  vtk_put_le64(vtk_log_at(log, VTK_MIB, VTK_SECTOR, vtk_desc_pos(3) + 16),
               131072);
  vtk_entry_fix_checksum(log, VTK_MIB, VTK_SECTOR);
  vhdxlog_error err;
  expect_rejected(&s->img, VHDXLOG_E_DESCRIPTOR_TARGET, &err);
  assert_int_equal(err.offset, VTK_SECTOR);
  assert_int_equal(err.index, 3);
}

/* --- the plan, without I/O ------------------------------------------------ */

static void
test_plan_replayed_size_is_max_of_size_writes_and_last(void **state) {
  (void)state;
  static const struct {
    uint64_t data_at, last, want;
  } c[] = {
      {2 * M, 8 * M, 8 * M},        /* LastFileOffset */
      {9 * M, 4 * M, 9 * M + 4096}, /* the furthest write */
      {2 * M, 1 * M, 4 * M},        /* the file as it is */
      {2 * M, 0, 4 * M},
      {4 * M - 4096, 4 * M, 4 * M}, /* everything ends at the file end */
  };
  /* zero-length zero descriptor past the end: no write, no growth */
  {
    vtk_image img;
    vtk_scenario s;
    target_image_at(&img, vtk_zero(10 * M, 0), &s, VTK_MIB);
    unit_plan p;
    assert_int_equal(unit_plan_of(&p, &img, VHDXLOG_POLICY_DEFAULT),
                     VHDXLOG_OK);
    assert_int_equal(p.plan.replayed_size, 4 * M);
    assert_int_equal(p.plan.seq.max_write_end, 2 * M + 8192);
    vtk_image_free(&img);
  }
  for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
    vtk_image img;
    vtk_scenario s;
    target_image_at(&img, vtk_data(c[i].data_at, 9), &s, VTK_MIB);
    /* rewrite the entry with the case's LastFileOffset */
    uint8_t *log = img.data + VTK_MIB;
    vtk_put_le64(log + 8192 + 56, c[i].last);
    vtk_entry_fix_checksum(log, VTK_MIB, 8192);
    unit_plan p;
    vhdxlog_status st = unit_plan_of(&p, &img, VHDXLOG_POLICY_DEFAULT);
    assert_int_equal(st, VHDXLOG_OK);
    assert_int_equal(p.plan.replay, 1);
    assert_int_equal(p.plan.replayed_size, c[i].want);
    uint64_t end =
        c[i].data_at + 4096 > 2 * M + 8192 ? c[i].data_at + 4096 : 2 * M + 8192;
    assert_int_equal(p.plan.seq.max_write_end, end);
    vtk_image_free(&img);
  }
}

static void test_plan_checks_targets_before_file_size(void **state) {
  (void)state;
  vtk_image img;
  vtk_scenario s;
  target_image_at(&img, vtk_data(65536, 5), &s, VTK_MIB);
  uint8_t *log = img.data + VTK_MIB;
  vtk_put_le64(log + 8192 + 48, 16u * VTK_MIB); /* FlushedFileOffset */
  vtk_entry_fix_checksum(log, VTK_MIB, 8192);
  unit_plan p;
  assert_int_equal(unit_plan_of(&p, &img, VHDXLOG_POLICY_DEFAULT),
                   VHDXLOG_E_DESCRIPTOR_TARGET);
  assert_int_equal(p.error.offset, 8192);
  assert_int_equal(p.error.index, 1);
  vtk_image_free(&img);
}

static void test_plan_of_clean_image_needs_no_log(void **state) {
  (void)state;
  vtk_image img;
  vtk_image_build_default(&img);
  unit_plan p;
  assert_int_equal(unit_plan_of(&p, &img, VHDXLOG_POLICY_DEFAULT), VHDXLOG_OK);
  assert_int_equal(p.plan.replay, 0);
  assert_int_equal(p.plan.complete_header_update, 0);
  assert_int_equal(p.plan.replayed_size, img.size);
  vtk_image_free(&img);
}

static void test_plan_of_dirty_image_requires_log(void **state) {
  vtk_scenario *s = *state;
  vhdxlog_image image;
  vhdxlog_plan plan;
  vhdxlog_error err;
  assert_int_equal(
      vhdxlog_image_parse(s->img.data, VTK_MIB, s->img.size, &image, &err),
      VHDXLOG_OK);
  assert_int_equal(vhdxlog_plan_init(&plan, &image, NULL, &err),
                   VHDXLOG_E_ARGUMENT);
}

static void test_plan_final_headers_match_model(void **state) {
  (void)state;
  for (int which = 0; which < VTK_SC_COUNT; which++) {
    vtk_scenario s;
    vtk_scenario_build(&s, which);
    vtk_image want;
    vtk_model_replay(&s.img, s.active, s.n_active, &want);
    unit_plan p;
    assert_int_equal(unit_plan_of(&p, &s.img, VHDXLOG_POLICY_DEFAULT),
                     VHDXLOG_OK);
    assert_memory_equal(p.plan.final_headers[0], vtk_header(&want, 0), 4096);
    assert_memory_equal(p.plan.final_headers[1], vtk_header(&want, 1), 4096);
    uint8_t fwg[16];
    vtk_derive_file_write_guid(s.guid, fwg);
    assert_memory_equal(p.plan.new_file_write_guid, fwg, 16);
    vtk_image_free(&want);
    vtk_scenario_free(&s);
  }
}

static void test_replay_reports_io_error_when_file_cannot_grow(void **state) {
  (void)state;
  expected x;
  expected_build(&x, VTK_SC_WRAPPED_MULTI); /* grows to 8 MiB */
  vtk_mem_file f;
  assert_int_equal(
      vtk_mem_open(&f, x.s.img.data, (size_t)x.s.img.size, 6u * VTK_MIB), 0);
  f.fail_at_write = -1;
  vhdxlog_replay_result res;
  vhdxlog_error err;
  assert_int_equal(unit_replay_mem(&f, 65536, &res, &err, NULL), VHDXLOG_E_IO);
  /* the log is still there: a later run with room completes */
  f.max_size = MAX_FILE;
  assert_int_equal(unit_replay_mem(&f, 65536, &res, &err, NULL), VHDXLOG_OK);
  assert_file(&f, &x.want, "after growth failure");
  vtk_mem_close(&f);
  expected_free(&x);
}

int main(void) {
  static const struct CMUnitTest fixed[] = {
      cmocka_unit_test(test_replay_accepts_file_exactly_flushed_offset),
      cmocka_unit_test(test_replay_result_independent_of_buffer_size),
      unit_test_on_scenario(test_replay_rejects_buffer_smaller_than_sector,
                            VTK_SC_SINGLE),
      unit_test_on_scenario(test_replay_leaves_headers_clean_with_derived_guid,
                            VTK_SC_SINGLE),
      unit_test_on_scenario(test_replay_header_update_matches_testkit,
                            VTK_SC_SINGLE),
      unit_test_on_scenario(test_replay_twice_is_a_no_op, VTK_SC_WRAPPED_MULTI),
      cmocka_unit_test(test_replay_clean_image_writes_nothing),
      cmocka_unit_test(test_replay_completes_interrupted_header_update),
      cmocka_unit_test(test_replay_survives_crash_during_recovery),
      cmocka_unit_test(test_replay_crash_losing_unflushed_writes),
      unit_test_on_scenario(
          test_replay_rejects_file_shorter_than_flushed_offset, VTK_SC_SINGLE),
      unit_test_on_scenario(test_replay_rejects_flushed_offset_beyond_end,
                            VTK_SC_WRAPPED_MULTI),
      unit_test_on_scenario(test_replay_rejects_file_cut_inside_log,
                            VTK_SC_SINGLE),
      unit_test_on_scenario(test_replay_rejects_corrupt_headers, VTK_SC_SINGLE),
      unit_test_on_scenario(test_replay_rejects_corrupt_log, VTK_SC_SINGLE),
      cmocka_unit_test(test_plan_refuses_active_sequence_past_bound),
      unit_test_on_scenario(test_replay_reports_target_in_later_entry,
                            VTK_SC_WRAPPED_MULTI),
      cmocka_unit_test(test_replay_refuses_header_updates_that_wrap_sequence),
      unit_test_on_scenario(test_replay_checks_file_size_before_sequence_limit,
                            VTK_SC_SINGLE),
      cmocka_unit_test(test_replay_no_completion_at_sequence_limit),
      cmocka_unit_test(test_plan_replayed_size_is_max_of_size_writes_and_last),
      cmocka_unit_test(test_plan_checks_targets_before_file_size),
      cmocka_unit_test(test_plan_of_clean_image_needs_no_log),
      unit_test_on_scenario(test_plan_of_dirty_image_requires_log,
                            VTK_SC_SINGLE),
      cmocka_unit_test(test_plan_final_headers_match_model),
      cmocka_unit_test(test_replay_reports_io_error_when_file_cannot_grow),
  };
  static const unit_family each[] = {
      {"test_replay_scenario_matches_model",
       test_replay_scenario_matches_model},
      {"test_replay_crash_at_every_write", test_replay_crash_at_every_write},
  };
  static const unit_table tables[] = {
      UNIT_TABLE(test_replay_target_case, target_cases)};
  return unit_run(fixed, UNIT_COUNT(fixed), each, UNIT_COUNT(each), tables,
                  UNIT_COUNT(tables), NULL);
}
