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

/* One cmocka test case per testkit scenario: `f` runs with the scenario
 * number as its state (unit_scenario()), named "<prefix>: <scenario name>".
 * Fills t[0 .. VTK_SC_COUNT). */
static inline void unit_scenario_cases(struct CMUnitTest *t, const char *prefix,
                                       CMUnitTestFunction f) {
  static char names[4][VTK_SC_COUNT][96];
  static int used;
  assert_true(used < 4);
  for (int i = 0; i < VTK_SC_COUNT; i++) {
    snprintf(names[used][i], sizeof names[used][i], "%s: %s", prefix,
             vtk_scenario_name(i));
    t[i].name = names[used][i];
    t[i].test_func = f;
    t[i].setup_func = NULL;
    t[i].teardown_func = NULL;
    t[i].initial_state = (void *)(intptr_t)i;
  }
  used++;
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

/* A log context over `log` (the library needs no scratch: O(1) init). */
typedef struct ulog {
  vhdxlog_log ctx;
} ulog;

static inline void ulog_init(ulog *l, const uint8_t *log, uint32_t len,
                             const uint8_t guid[16]) {
  assert_int_equal(vhdxlog_log_init(&l->ctx, log, len, guid), VHDXLOG_OK);
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
