/* SPDX-License-Identifier: MIT */
/* Whole files and folders (see files.h). */
/* scandir(), alphasort(); 64-bit stat and readdir on 32-bit hosts, where
 * the 32-bit calls fail with EOVERFLOW on 64-bit inode numbers. */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int fuzz_write_file(const char *path, const uint8_t *head, size_t head_size,
                    const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  int bad;
  if (f == NULL)
    return -1;
  bad = (head_size > 0 && fwrite(head, 1, head_size, f) != head_size) ||
        (size > 0 && fwrite(data, 1, size, f) != size);
  return fclose(f) != 0 || bad ? -1 : 0;
}

static int not_dot(const struct dirent *e) { return e->d_name[0] != '.'; }

int fuzz_walk(const char *path, int (*fn)(const char *path, void *ctx),
              void *ctx) {
  struct dirent **names;
  struct stat st;
  int n, i, rc = 0;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) ||
      (n = scandir(path, &names, not_dot, alphasort)) < 0)
    return fn(path, ctx);
  for (i = 0; i < n; i++) {
    size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
    char *child = malloc(len);
    if (child != NULL) {
      snprintf(child, len, "%s/%s", path, names[i]->d_name);
      rc |= fuzz_walk(child, fn, ctx);
    }
    rc |= child == NULL;
    free(child);
    free(names[i]);
  }
  free(names);
  return rc;
}
