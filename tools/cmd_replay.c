/*
 * vhdxlog replay: apply the log and clear it (MS-VHDX 2.3.3), in place, into
 * a copy (-o OUT) or as a dry run that only prints the writes.
 * Exit 0 done or nothing to do, 2 corrupt (nothing written), 3 usage/I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

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
 * that only prints. */
static int run(const char *path, int dry_run) {
  cli_image img;
  vhdxlog_replay_result res;
  vhdxlog_error err;
  vhdxlog_status st;
  cli_dry_io dry;
  vhdxlog_io dio;
  const vhdxlog_io *io;
  uint8_t *buffer;
  int code, saved_errno;

  /* Dry run: the file is opened read-only, so nothing can be written even
   * by mistake. */
  if (cli_image_open(&img, path, !dry_run) != 0 || img.status != VHDXLOG_OK) {
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

/* -o OUT: validate FILE first so that a corrupt input creates no OUT, then
 * copy and replay the copy (which is loaded and validated again: FILE may
 * have changed in between). */
static int run_copy(const char *file, const char *out) {
  cli_image img;
  char msg[512];
  int code;
  if (cli_image_open(&img, file, 0) != 0 || img.status != VHDXLOG_OK) {
    code = report_load_failure(&img);
    cli_image_close(&img);
    return code;
  }
  cli_image_close(&img);
  if (cli_copy_file(file, out, msg, sizeof msg) != 0) {
    fprintf(stderr, "%s: %s\n", CLI_PROGRAM, msg);
    return CLI_EXIT_ERROR;
  }
  return run(out, 0);
}

int cli_cmd_replay(const cli_args *args) {
  if (args->out)
    return run_copy(args->file, args->out);
  return run(args->file, args->dry_run);
}
