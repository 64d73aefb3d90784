/* SPDX-License-Identifier: MIT */
/*
 * A deliberately broken target for the CTest overread_valgrind_*: built
 * with standalone_main.c and run under valgrind, it reads one byte past the
 * input (mode "input", the reproducer's block) or past the log span the
 * targets build from it (mode "log", fuzz_log_init()). valgrind must report
 * an invalid read: that holds only while each lives in a block of exactly
 * its size, which is what the test guards.
 *
 * The mode is the first byte of the input: 'i' or 'l'.
 */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  volatile uint8_t sink;
  fuzz_log l;
  if (size == 0)
    return 0;
  if (data[0] == 'i') {
    sink = data[size]; /* one byte past the input */
    (void)sink;
    return 0;
  }
  if (fuzz_log_init(&l, data, size, 0) != 0)
    return 0;
  sink = l.bytes[l.length]; /* one byte past the span */
  (void)sink;
  return 0;
}
