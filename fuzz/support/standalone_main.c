/* SPDX-License-Identifier: MIT */
/*
 * Plain reproducer: links instead of a fuzzing engine and calls
 * LLVMFuzzerTestOneInput() once on every file named on the command line,
 * recursing into folders (name order, dot files skipped). Builds with any
 * POSIX C99 compiler (gcc included), so a crash can be replayed under a
 * debugger or valgrind:
 *   ./fuzz_entry crash-1234         ./fuzz_image ../corpus/fuzz_image
 * Each input gets a heap block of exactly its size, so valgrind and ASan
 * see a read one byte past it (CTest overread_valgrind_input).
 * Exit status 0 when every input ran, 1 if a file could not be read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Sanitizer defaults of the reproducer (ASAN_OPTIONS / UBSAN_OPTIONS still
 * override them): a report ends in abort(), not _exit(1), so that gdb stops
 * with the whole stack (`gdb --args ./fuzz_search crash-FILE`, `run`,
 * `bt`) and a core dump can be taken. Harmless without a sanitizer: nothing
 * calls them then.
 */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__asan_default_options(void) { return "abort_on_error=1"; }
const char *__ubsan_default_options(void) {
  return "abort_on_error=1:print_stacktrace=1";
}

/* One input; *ctx counts them. */
static int run_file(const char *path, void *ctx) {
  uint8_t *buf;
  size_t len;
  if (fuzz_read_file(path, &buf, &len) != 0) {
    perror(path);
    return 1;
  }
  fprintf(stderr, "Running: %s (%zu bytes)\n", path, len);
  LLVMFuzzerTestOneInput(buf, len);
  ++*(unsigned long *)ctx;
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  unsigned long count = 0;
  int i, rc = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE-OR-FOLDER...\n", argv[0]);
    return 2;
  }
  for (i = 1; i < argc; i++)
    rc |= fuzz_walk(argv[i], run_file, &count);
  fprintf(stderr, "Executed %lu inputs\n", count);
  return rc;
}
