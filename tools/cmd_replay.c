/*
 * vhdxlog replay: apply the log and clear it (MS-VHDX 2.3.3), in place, into
 * a copy (-o OUT) or as a dry run that only prints the writes.
 * Exit 0 done or nothing to do, 2 corrupt (nothing written), 3 usage/I/O.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fchmod, fsync */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Coalesced data writes go through this buffer (a multiple of 4 KiB). */
#define REPLAY_BUFFER_SIZE ((size_t)1 << 20)

static int report_load_failure(const cli_image *img) {
  cli_image_report(stderr, img);
  if (!img->loaded_init)
    return CLI_EXIT_ERROR;
  if (img->error.status == VHDXLOG_E_LOG_NO_SEQUENCE)
    fprintf(stderr,
            "%s: %s: nothing written (QEMU would open this file as if its "
            "log were empty)\n",
            CLI_PROGRAM, img->path);
  else if (cli_exit_for_status(img->status) == CLI_EXIT_CORRUPT)
    fprintf(stderr, "%s: %s: nothing written\n", CLI_PROGRAM, img->path);
  return cli_exit_for_status(img->status);
}

static void describe_plan(const cli_image *img, const char *verb,
                          const char *header_verb) {
  const vhdxlog_plan *plan = &img->loaded.plan;
  vhdxlog_sequence seq;
  if (plan->replay && cli_image_sequence(img, &seq))
    printf("%s: %s %" PRIu32 " entr%s (sequence numbers %" PRIu64 "..%" PRIu64
           ", %" PRIu64 " descriptor%s), file size afterwards "
           "0x%" PRIx64 "\n",
           img->path, verb, seq.entry_count, seq.entry_count == 1 ? "y" : "ies",
           seq.tail_sequence_number, seq.head_sequence_number,
           seq.descriptor_count, seq.descriptor_count == 1 ? "" : "s",
           plan->replayed_size);
  else
    printf("%s: %s the header update of an interrupted replay\n", img->path,
           header_verb);
}

/* Open `path`, load, and replay it in place or (dry_run) through an I/O
 * that only prints. Messages name the file `shown`. */
static int run(const char *path, const char *shown, int dry_run) {
  cli_image img;
  vhdxlog_replay_result res;
  vhdxlog_error err;
  vhdxlog_status st;
  cli_dry_io dry;
  vhdxlog_io dio;
  const vhdxlog_io *io;
  uint8_t *buffer;
  int code, saved_errno, opened;
  const int in_place = path == shown; /* else a temporary copy (-o) */

  /* Dry run: the file is opened read-only, so nothing can be written even
   * by mistake. */
  opened = cli_image_open(&img, path, !dry_run);
  img.path = shown;
  path = shown;
  if (opened != 0 || img.status != VHDXLOG_OK) {
    code = report_load_failure(&img);
    cli_image_close(&img);
    return code;
  }
  if (!cli_image_needs_replay(&img)) {
    printf("%s: clean: nothing to replay\n", path);
    return cli_image_close(&img) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
  }
  buffer = malloc(REPLAY_BUFFER_SIZE);
  if (!buffer) {
    fprintf(stderr, "%s: %s: out of memory\n", CLI_PROGRAM, path);
    cli_image_close(&img);
    return CLI_EXIT_ERROR;
  }
  io = &img.io;
  if (dry_run) {
    cli_dry_io_init(&dry, &img.io, stdout, &dio);
    io = &dio;
    describe_plan(&img, "dry run: would replay", "dry run: would complete");
  }
  errno = 0;
  st = vhdxlog_replay(&img.loaded.plan, io, buffer, REPLAY_BUFFER_SIZE, &res,
                      &err);
  saved_errno = errno;
  free(buffer);
  if (st != VHDXLOG_OK) {
    cli_print_error(stderr, path, &err, &img.loaded.image, saved_errno);
    if (in_place)
      fprintf(stderr,
              "%s: %s: the replay did not complete; running it again "
              "finishes it\n",
              CLI_PROGRAM, path);
    code = cli_exit_for_status(st);
    if (code == CLI_EXIT_OK)
      code = CLI_EXIT_ERROR;
    cli_image_close(&img);
    return code;
  }
  if (dry_run) {
    printf("%s: dry run: %" PRIu64 " write%s (%" PRIu64 " bytes), %" PRIu64
           " flush%s; nothing written\n",
           path, dry.writes, dry.writes == 1 ? "" : "s", dry.bytes, dry.flushes,
           dry.flushes == 1 ? "" : "es");
  } else {
    describe_plan(&img, "replayed", "completed");
    printf("%s: %" PRIu64 " write%s (%" PRIu64 " bytes), %" PRIu64
           " flush%s; log cleared\n",
           path, res.writes, res.writes == 1 ? "" : "s", res.bytes_written,
           res.flushes, res.flushes == 1 ? "" : "es");
  }
  if (cli_image_close(&img) != 0) {
    fprintf(stderr, "%s: %s: error closing the file\n", CLI_PROGRAM, path);
    return CLI_EXIT_ERROR;
  }
  return CLI_EXIT_OK;
}

/* Make the directory entry of `path` durable (after a rename into it). */
static int sync_parent_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir;
  int fd, rc;
  if (slash == NULL) {
    dir = malloc(2);
    if (dir != NULL)
      strcpy(dir, ".");
  } else {
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    dir = malloc(n + 1);
    if (dir != NULL) {
      memcpy(dir, path, n);
      dir[n] = '\0';
    }
  }
  if (dir == NULL)
    return -1;
  do
    fd = open(dir, O_RDONLY);
  while (fd < 0 && errno == EINTR);
  free(dir);
  if (fd < 0)
    return -1;
  do
    rc = fsync(fd);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int saved = errno;
    (void)close(fd);
    errno = saved; /* the caller prints fsync's reason, not close's */
    return -1;
  }
  (void)close(fd);
  return 0;
}

static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/*
 * -o OUT: validate FILE first so that a corrupt input creates no OUT; copy
 * it to a temporary file next to OUT, replay that (loaded and validated
 * again: FILE may have changed in between), and only then rename it to OUT.
 * OUT thus appears whole and replayed or not at all: a failure or an
 * interruption leaves at most the temporary file (OUT.vhdxlog-XXXXXX),
 * which a failure removes. An existing OUT is replaced only at the end.
 */
static int run_copy(const char *file, const char *out) {
  static const char suffix[] = ".vhdxlog-XXXXXX";
  cli_image img;
  char msg[512];
  char *tmp;
  mode_t mask;
  int code, fd;
  if (cli_image_open(&img, file, 0) != 0 || img.status != VHDXLOG_OK) {
    code = report_load_failure(&img);
    cli_image_close(&img);
    return code;
  }
  cli_image_close(&img);
  if (same_file(file, out)) {
    fprintf(stderr, "%s: %s and %s are the same file\n", CLI_PROGRAM, file,
            out);
    return CLI_EXIT_ERROR;
  }
  tmp = malloc(strlen(out) + sizeof suffix);
  if (tmp == NULL) {
    fprintf(stderr, "%s: out of memory\n", CLI_PROGRAM);
    return CLI_EXIT_ERROR;
  }
  strcpy(tmp, out);
  strcat(tmp, suffix);
  fd = mkstemp(tmp);
  if (fd < 0) {
    fprintf(stderr, "%s: cannot create %s: %s\n", CLI_PROGRAM, tmp,
            strerror(errno));
    free(tmp);
    return CLI_EXIT_ERROR;
  }
  /* mkstemp makes 0600; give OUT the mode a plain create would. */
  mask = umask(0);
  umask(mask);
  (void)fchmod(fd, (mode_t)(0666 & ~mask));
  (void)close(fd);

  if (cli_copy_file(file, tmp, msg, sizeof msg) != 0) {
    fprintf(stderr, "%s: %s\n", CLI_PROGRAM, msg);
    code = CLI_EXIT_ERROR;
  } else {
    code = run(tmp, out, 0);
  }
  if (code == CLI_EXIT_OK && rename(tmp, out) != 0) {
    fprintf(stderr, "%s: cannot rename %s to %s: %s\n", CLI_PROGRAM, tmp, out,
            strerror(errno));
    code = CLI_EXIT_ERROR;
  }
  if (code != CLI_EXIT_OK) {
    (void)unlink(tmp);
    fprintf(stderr, "%s: %s: not written\n", CLI_PROGRAM, out);
  } else if (sync_parent_dir(out) != 0) {
    fprintf(stderr, "%s: %s: cannot sync its directory: %s\n", CLI_PROGRAM, out,
            strerror(errno));
    code = CLI_EXIT_ERROR;
  }
  free(tmp);
  return code;
}

int cli_cmd_replay(const cli_args *args) {
  if (args->out)
    return run_copy(args->file, args->out);
  return run(args->file, args->file, args->dry_run);
}
