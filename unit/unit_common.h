/* SPDX-License-Identifier: MIT */
/* Shared helpers of the cmocka unit tests: cmocka includes, log contexts,
 * error assertions. */
#ifndef VHDXLOG_UNIT_COMMON_H
#define VHDXLOG_UNIT_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios.h"
#include "vhdx_builder.h"
#include "vhdxlog.h"

/* A test function run once per testkit scenario, with the scenario number
 * as its state (unit_scenario()); each case is named
 * "<name>: <scenario name>". */
typedef struct unit_family {
  const char *name;
  CMUnitTestFunction f;
} unit_family;

/* A table whose every row is one cmocka case: the row's first member is its
 * name (a string), and `f` runs it with the row as its state, so a failing
 * row is named in cmocka's report. */
typedef struct unit_table {
  CMUnitTestFunction f;
  const void *rows;
  size_t count, size;
} unit_table;

#define UNIT_COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define UNIT_TABLE(f, rows)                                                    \
  { f, rows, UNIT_COUNT(rows), sizeof((rows)[0]) }

/* Run the `n` cases of `fixed`, every family on every scenario, then every
 * row of every table, as one group named "tests". */
static inline int unit_run(const struct CMUnitTest *fixed, size_t n,
                           const unit_family *fam, size_t nfam,
                           const unit_table *tab, size_t ntab,
                           CMFixtureFunction group_setup) {
  size_t total = n + nfam * VTK_SC_COUNT;
  for (size_t i = 0; i < ntab; i++)
    total += tab[i].count;
  struct CMUnitTest *t = calloc(total, sizeof(*t));
  char(*names)[96] = calloc(nfam * VTK_SC_COUNT + 1, sizeof(*names));
  assert_non_null(t);
  assert_non_null(names);
  memcpy(t, fixed, n * sizeof(*t));
  for (size_t i = 0; i < nfam; i++)
    for (int sc = 0; sc < VTK_SC_COUNT; sc++, n++) {
      char *name = names[i * VTK_SC_COUNT + (size_t)sc];
      snprintf(name, sizeof(names[0]), "%s: %s", fam[i].name,
               vtk_scenario_name(sc));
      t[n].name = name;
      t[n].test_func = fam[i].f;
      t[n].initial_state = (void *)(intptr_t)sc;
    }
  for (size_t i = 0; i < ntab; i++)
    for (size_t r = 0; r < tab[i].count; r++, n++) {
      const char *row = (const char *)tab[i].rows + r * tab[i].size;
      t[n].name = *(const char *const *)(const void *)row;
      t[n].test_func = tab[i].f;
      t[n].initial_state = (void *)(uintptr_t)row;
    }
  int rc = _cmocka_run_group_tests("tests", t, total, group_setup, NULL);
  free(names);
  free(t);
  return rc;
}

static inline int unit_scenario(void **state) { return (int)(intptr_t)*state; }

/* cmocka fixture: the preset state (a scenario number, UNIT_SC()) becomes
 * that scenario, built; the teardown frees it. */
#define UNIT_SC(which) ((void *)(intptr_t)(which))
static inline int unit_scenario_setup(void **state) {
  vtk_scenario *s = malloc(sizeof(*s));
  assert_non_null(s);
  vtk_scenario_build(s, unit_scenario(state));
  *state = s;
  return 0;
}

static inline int unit_scenario_teardown(void **state) {
  vtk_scenario_free(*state);
  free(*state);
  return 0;
}

/* A cmocka test case whose *state is scenario `which`, built for it. */
#define unit_test_on_scenario(f, which)                                        \
  cmocka_unit_test_prestate_setup_teardown(                                    \
      f, unit_scenario_setup, unit_scenario_teardown, UNIT_SC(which))

/* A cmocka fixture `name`: name_setup() makes *state a zeroed `type` that
 * build(x) fills; name_teardown() calls done(x) and frees it. A case runs
 * on it as unit_test_on(name, f). */
#define UNIT_FIXTURE(name, type, build, done)                                  \
  static int name##_setup(void **state) {                                      \
    type *x = calloc(1, sizeof(*x));                                           \
    assert_non_null(x);                                                        \
    build(x);                                                                  \
    *state = x;                                                                \
    return 0;                                                                  \
  }                                                                            \
  static int name##_teardown(void **state) {                                   \
    done(*state);                                                              \
    free(*state);                                                              \
    return 0;                                                                  \
  }
#define unit_test_on(name, f)                                                  \
  cmocka_unit_test_setup_teardown(f, name##_setup, name##_teardown)

/* A log context over `log`; the init must succeed. */
static inline void ulog_init(vhdxlog_log *l, const uint8_t *log, uint32_t len,
                             const uint8_t guid[16]) {
  assert_int_equal(vhdxlog_log_init(l, log, len, guid), VHDXLOG_OK);
}

/* What the library makes of an image held in memory, without I/O: the
 * parse (which must succeed), the log context when the log is dirty, and
 * the plan under a policy. */
typedef struct unit_plan {
  vhdxlog_image image;
  vhdxlog_log log;
  vhdxlog_plan plan;
  vhdxlog_error error;
  vhdxlog_status status; /* the plan's */
} unit_plan;

static inline vhdxlog_status unit_plan_of(unit_plan *p, const vtk_image *img,
                                          vhdxlog_policy policy) {
  memset(p, 0, sizeof(*p));
  assert_int_equal(
      vhdxlog_image_parse(img->data, VTK_MIB, img->size, &p->image, &p->error),
      VHDXLOG_OK);
  const vhdxlog_log *log = NULL;
  if (p->image.log_state == VHDXLOG_LOG_DIRTY) {
    assert_int_equal(vhdxlog_log_init(&p->log,
                                      img->data + (size_t)p->image.log_offset,
                                      p->image.log_length, p->image.log_guid),
                     VHDXLOG_OK);
    log = &p->log;
  }
  p->status =
      vhdxlog_plan_init_policy(&p->plan, &p->image, log, policy, &p->error);
  return p->status;
}

static inline void assert_error(const vhdxlog_error *e, vhdxlog_status status,
                                vhdxlog_status cause, uint64_t offset,
                                uint32_t index) {
  assert_int_equal(e->status, status);
  assert_int_equal(e->cause, cause);
  assert_int_equal(e->offset, offset);
  assert_int_equal(e->index, index);
}

static inline void assert_same_error(const vhdxlog_error *a,
                                     const vhdxlog_error *b) {
  assert_int_equal(a->status, b->status);
  assert_int_equal(a->cause, b->cause);
  assert_int_equal(a->offset, b->offset);
  assert_int_equal(a->index, b->index);
}

/* A log buffer of `len` zero bytes. */
static inline uint8_t *ulog_new(uint32_t len) {
  uint8_t *p = calloc(1, len);
  assert_non_null(p);
  return p;
}

/* `size` bytes that must equal `want`; on a difference, name the first
 * differing byte as `base` + its index. */
static inline void assert_range_equal(const uint8_t *got, const uint8_t *want,
                                      size_t size, uint64_t base,
                                      const char *what) {
  if (memcmp(got, want, size) != 0) {
    size_t i = 0;
    while (got[i] == want[i])
      i++;
    print_error("%s: first difference at byte %llu (0x%llx): %02x, want %02x\n",
                what, (unsigned long long)(base + i),
                (unsigned long long)(base + i), got[i], want[i]);
    fail();
  }
}

/* Sizes and bytes must match. */
static inline void assert_bytes_equal(const uint8_t *got, uint64_t got_size,
                                      const uint8_t *want, uint64_t want_size,
                                      const char *what) {
  if (got_size != want_size)
    print_error("%s: size %llu, want %llu\n", what,
                (unsigned long long)got_size, (unsigned long long)want_size);
  assert_int_equal(got_size, want_size);
  assert_range_equal(got, want, (size_t)want_size, 0, what);
}

#endif
