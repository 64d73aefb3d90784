/* SPDX-License-Identifier: MIT */
/* Whole files into memory (see file_read.h). */
#include "file_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int fuzz_read_file(const char *path, uint8_t **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  long len;
  int err;
  *data = NULL;
  *size = 0;
  if (f == NULL)
    return -1;
  if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 &&
      (*data = malloc(len > 0 ? (size_t)len : 1)) != NULL &&
      fread(*data, 1, (size_t)len, f) == (size_t)len) {
    *size = (size_t)len;
    fclose(f);
    return 0;
  }
  err = errno != 0 ? errno : EIO;
  free(*data);
  *data = NULL;
  fclose(f);
  errno = err;
  return -1;
}
