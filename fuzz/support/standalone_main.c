/* SPDX-License-Identifier: MIT */
/*
 * Plain reproducer: links instead of a fuzzing engine and calls
 * LLVMFuzzerTestOneInput() once on every file named on the command line,
 * recursing into folders. Builds with any C99 compiler (gcc included), so a
 * crash can be replayed under a debugger or valgrind:
 *   ./fuzz_entry crash-1234         ./fuzz_image ../corpus/fuzz_image
 * Each input gets a heap block of exactly its size, so valgrind and ASan
 * see a read one byte past it (CTest overread_valgrind_input).
 * Exit status 0 when every input ran, 1 if a file could not be read.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file_read.h"

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

static int run_file(const char *path, unsigned long *count) {
  uint8_t *buf;
  size_t len;
  if (fuzz_read_file(path, &buf, &len) != 0) {
    perror(path);
    return 1;
  }
  fprintf(stderr, "Running: %s (%zu bytes)\n", path, len);
  LLVMFuzzerTestOneInput(buf, len);
  ++*count;
  free(buf);
  return 0;
}

static int run_path(const char *path, unsigned long *count) {
  struct stat st;
  DIR *dir;
  struct dirent *ent;
  int rc = 0;
  if (stat(path, &st) != 0) {
    perror(path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode))
    return run_file(path, count);
  dir = opendir(path);
  if (dir == NULL) {
    perror(path);
    return 1;
  }
  while ((ent = readdir(dir)) != NULL) {
    size_t n = strlen(path) + strlen(ent->d_name) + 2;
    char *child;
    if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
      continue;
    child = malloc(n);
    if (child == NULL) {
      rc = 1;
      break;
    }
    snprintf(child, n, "%s/%s", path, ent->d_name);
    rc |= run_path(child, count);
    free(child);
  }
  closedir(dir);
  return rc;
}

int main(int argc, char **argv) {
  unsigned long count = 0;
  int i, rc = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE-OR-FOLDER...\n", argv[0]);
    return 2;
  }
  for (i = 1; i < argc; i++)
    rc |= run_path(argv[i], &count);
  fprintf(stderr, "Executed %lu inputs\n", count);
  return rc;
}
