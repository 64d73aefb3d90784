/* SPDX-License-Identifier: MIT */
/*
 * The output file of `replay -o OUT`: what may be replaced, and putting the
 * replayed temporary file in place. rename() replaces whatever the name
 * holds (a device node, a FIFO, a symbolic link, a read-only file), so OUT
 * is looked at first, and without --force it is never replaced at all.
 */
#define _POSIX_C_SOURCE 200809L /* link, lstat, fsync */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_output_check(const char *out, int force, char *msg, size_t msgsize) {
  struct stat st;
  if (lstat(out, &st) != 0) {
    if (errno == ENOENT)
      return 0;
    snprintf(msg, msgsize, "%s: cannot stat: %s", out, strerror(errno));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(msg, msgsize,
             "%s: exists and is %s, not a regular file; it is never replaced",
             out, cli_file_kind(st.st_mode));
    return -1;
  }
  if (!force) {
    snprintf(msg, msgsize, "%s: exists; --force replaces it", out);
    return -1;
  }
  return 0;
}

/* Make the directory entry of `path` durable (after a rename into it). */
static int sync_parent_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir;
  size_t n;
  int fd, rc, saved;
  if (slash == NULL) {
    dir = NULL;
  } else {
    n = slash == path ? 1 : (size_t)(slash - path);
    dir = malloc(n + 1);
    if (dir == NULL)
      return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  CLI_RETRY(fd, open(dir != NULL ? dir : ".", O_RDONLY));
  free(dir);
  if (fd < 0)
    return -1;
  CLI_RETRY(rc, fsync(fd));
  saved = errno; /* the caller prints fsync's reason, not close's */
  (void)close(fd);
  errno = saved;
  return rc;
}

int cli_output_place(const char *tmp, const char *out, int force, char *msg,
                     size_t msgsize) {
  int rc = -1;
  /* OUT may have appeared, or changed, since the first look. */
  if (cli_output_check(out, force, msg, msgsize) != 0)
    return -1;
  if (!force) {
    /* link() never replaces: a name created meanwhile is kept. */
    CLI_RETRY(rc, link(tmp, out));
    if (rc == 0) {
      (void)unlink(tmp);
    } else if (errno == EEXIST) {
      snprintf(msg, msgsize,
               "%s: appeared while replaying; --force replaces it", out);
      return -1;
    }
    /* Otherwise no hard links here (vfat, some FUSE): OUT was absent a
     * moment ago, rename is the best left. */
  }
  if (rc != 0) {
    CLI_RETRY(rc, rename(tmp, out));
    if (rc != 0) {
      snprintf(msg, msgsize, "cannot rename %s to %s: %s", tmp, out,
               strerror(errno));
      return -1;
    }
  }
  if (sync_parent_dir(out) != 0) {
    snprintf(msg, msgsize, "%s: cannot sync its directory: %s", out,
             strerror(errno));
    return -1;
  }
  return 0;
}
