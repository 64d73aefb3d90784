/* SPDX-License-Identifier: MIT */
/*
 * vhdxlog replay: apply the log and clear it (MS-VHDX 2.3.3), in place, into
 * a copy (-o OUT) or as a dry run that only prints the writes.
 * Exit 0 done or nothing to do, 2 corrupt (nothing written), 3 usage/I/O.
 * Success is reported only once it is true: for -o, after OUT is in place.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fchmod */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

/* Coalesced data writes go through this buffer (a multiple of 4 KiB). */
#define REPLAY_BUFFER_SIZE ((size_t)1 << 20)

typedef struct replay_run {
  const cli_args *args;
  cli_image img; /* the image replayed: FILE, or the copy for -o */
  int have_img;  /* img was opened: close it */
  int done;      /* the replay (or dry run) ran to its end */
  uint64_t writes, bytes, flushes;
  int code;
  char message[512]; /* a failure outside the image (OUT, the copy) */
  int sys_errno;
  vhdxlog_error err; /* a failed vhdxlog_replay() */
  int replay_failed;
} replay_run;

static void fail_message(replay_run *r, int code, int sys_errno,
                         const char *msg) {
  r->code = code;
  r->sys_errno = sys_errno;
  /* Truncation keeps a long path's message usable; stderr gets it whole. */
  size_t n = strlen(msg);
  if (n >= sizeof r->message)
    n = sizeof r->message - 1;
  memcpy(r->message, msg, n);
  r->message[n] = '\0';
  fprintf(stderr, "%s: %s\n", CLI_PROGRAM, msg);
}

static int report_load_failure(const cli_image *img) {
  int code;
  cli_image_report(stderr, img);
  if (!img->loaded_init)
    return CLI_EXIT_ERROR;
  code = cli_exit_for_status(img->status);
  if (code == CLI_EXIT_CORRUPT) {
    cli_print_armed(stderr, img);
    fprintf(stderr, "%s: %s: nothing written\n", CLI_PROGRAM, img->path);
  }
  return code;
}

static void describe_plan(const cli_image *img, const char *verb,
                          const char *header_verb) {
  const vhdxlog_plan *plan = &img->loaded.plan;
  vhdxlog_sequence seq;
  if (plan->action == VHDXLOG_ACTION_REPLAY && cli_image_sequence(img, &seq))
    printf("%s: %s %" PRIu32 " entr%s (sequence numbers %" PRIu64 "..%" PRIu64
           ", %" PRIu64 " descriptor%s), file size afterwards "
           "0x%" PRIx64 "\n",
           img->path, verb, seq.entry_count, seq.entry_count == 1 ? "y" : "ies",
           seq.tail_sequence_number, seq.head_sequence_number,
           seq.descriptor_count, seq.descriptor_count == 1 ? "" : "s",
           plan->replayed_size);
  else if (plan->action == VHDXLOG_ACTION_COMPLETE_CLEAR)
    printf("%s: %s the header update of an interrupted replay\n", img->path,
           header_verb);
}

/*
 * Open `path`, load it, and replay it in place or (dry run) through an I/O
 * that only prints. Messages name the file `shown`. Success lines are left
 * to report_text(); errors go to stderr at once.
 */
static void run(replay_run *r, const char *path, const char *shown,
                int dry_run) {
  cli_image *img = &r->img;
  vhdxlog_replay_result res;
  vhdxlog_status st;
  cli_dry_io dry;
  vhdxlog_io dio;
  const vhdxlog_io *io = &img->io;
  uint8_t *buffer;
  int saved_errno;

  /* Dry run: the file is opened read-only, so nothing can be written even
   * by mistake. */
  r->have_img = 1;
  if (cli_image_open(img, path, !dry_run, r->args->policy) != 0 ||
      img->status != VHDXLOG_OK) {
    img->path = shown;
    r->code = report_load_failure(img);
    return;
  }
  img->path = shown;
  if (!cli_image_needs_replay(img)) {
    r->done = 1;
    r->code = CLI_EXIT_OK;
    return;
  }
  buffer = malloc(REPLAY_BUFFER_SIZE);
  if (!buffer) {
    fail_message(r, CLI_EXIT_ERROR, ENOMEM, "out of memory");
    return;
  }
  if (dry_run) {
    cli_dry_io_init(&dry, &img->io, r->args->json ? NULL : stdout, &dio);
    io = &dio;
    if (!r->args->json) {
      describe_plan(img, "dry run: would replay", "dry run: would complete");
      cli_print_armed(stdout, img);
    }
  }
  errno = 0;
  st = vhdxlog_replay(&img->loaded.plan, io, buffer, REPLAY_BUFFER_SIZE, &res,
                      &r->err);
  saved_errno = errno;
  free(buffer);
  if (st != VHDXLOG_OK) {
    r->replay_failed = 1;
    r->sys_errno = saved_errno;
    cli_print_error(stderr, shown, &r->err, &img->loaded.image, saved_errno);
    if (path == shown)
      fprintf(stderr,
              "%s: %s: the replay did not complete; running it again "
              "finishes it\n",
              CLI_PROGRAM, shown);
    r->code = cli_exit_for_status(st);
    if (r->code == CLI_EXIT_OK)
      r->code = CLI_EXIT_ERROR;
    return;
  }
  r->writes = dry_run ? dry.writes : res.writes;
  r->bytes = dry_run ? dry.bytes : res.bytes_written;
  r->flushes = dry_run ? dry.flushes : res.flushes;
  /* A write error may surface only at close. */
  img->file_open = 0;
  if (vhdxlog_posix_close(&img->file) != 0) {
    fail_message(r, CLI_EXIT_ERROR, errno, "error closing the file");
    return;
  }
  r->done = 1;
  r->code = CLI_EXIT_OK;
}

/* "N writes (B bytes), F flushes", then `end` and a newline. */
static void print_counts(const replay_run *r, const char *end) {
  printf("%" PRIu64 " write%s (%" PRIu64 " bytes), %" PRIu64 " flush%s%s\n",
         r->writes, r->writes == 1 ? "" : "s", r->bytes, r->flushes,
         r->flushes == 1 ? "" : "es", end);
}

static void report_text(const replay_run *r) {
  const cli_image *img = &r->img;
  const vhdxlog_plan *plan = &img->loaded.plan;
  if (!r->done || r->code != CLI_EXIT_OK)
    return;
  if (plan->action == VHDXLOG_ACTION_NONE) {
    printf("%s: clean: nothing to replay\n", img->path);
    return;
  }
  if (r->args->dry_run) {
    if (plan->action == VHDXLOG_ACTION_CLEAR_ARMED)
      printf("%s: dry run: would clear the armed log, no data\n", img->path);
    printf("%s: dry run: ", img->path);
    print_counts(r, "; nothing written");
    return;
  }
  if (plan->action == VHDXLOG_ACTION_CLEAR_ARMED) {
    cli_print_armed_newest(stdout, img);
    printf("%s: log cleared: armed log (%s), no data written; ", img->path,
           cli_armed_kind_name(plan->armed.kind));
    print_counts(r, "");
    return;
  }
  describe_plan(img, "replayed", "completed");
  printf("%s: ", img->path);
  print_counts(r, "; log cleared");
}

static const char *result_name(const replay_run *r) {
  const vhdxlog_plan *plan = &r->img.loaded.plan;
  if (r->code != CLI_EXIT_OK)
    return r->img.not_vhdx               ? "not-vhdx"
           : r->code == CLI_EXIT_CORRUPT ? "corrupt"
                                         : "error";
  if (plan->action == VHDXLOG_ACTION_NONE)
    return "nothing-to-do";
  return r->args->dry_run                        ? "dry-run"
         : plan->action == VHDXLOG_ACTION_REPLAY ? "replayed"
         : plan->action == VHDXLOG_ACTION_COMPLETE_CLEAR
             ? "header-update-completed"
             : "armed-log-cleared";
}

/* Both header slots as the replay leaves (or, dry, would leave) them. */
static void json_headers(cli_json *j, const vhdxlog_plan *plan) {
  int i;
  cli_json_array_begin(j, "headers");
  for (i = 0; i < 2; i++) {
    vhdxlog_header_info h;
    vhdxlog_header_decode(plan->final_headers[i], &h);
    cli_json_object_begin(j, NULL);
    cli_json_u64(j, "slot", (uint64_t)(i + 1));
    cli_json_u64(j, "sequence_number", h.sequence_number);
    cli_json_guid(j, "file_write_guid", h.file_write_guid);
    cli_json_guid(j, "data_write_guid", h.data_write_guid);
    cli_json_guid(j, "log_guid", h.log_guid);
    cli_json_object_end(j);
  }
  cli_json_array_end(j);
}

static void report_json(const replay_run *r, const char *file) {
  const cli_image *img = &r->img;
  const vhdxlog_plan *plan = &img->loaded.plan;
  int acted =
      r->done && r->code == CLI_EXIT_OK && plan->action != VHDXLOG_ACTION_NONE;
  cli_json j;
  cli_json_init(&j, stdout);
  cli_json_document(&j, "replay", file);
  cli_json_string(&j, "output", r->args->out);
  cli_json_bool(&j, "dry_run", r->args->dry_run);
  cli_json_string(&j, "result", result_name(r));
  cli_json_u64(&j, "exit_code", (uint64_t)r->code);
  cli_json_plan(&j, img);
  /* Counts of what was written (a dry run: what would be). */
  cli_json_u64(&j, "writes", r->writes);
  cli_json_u64(&j, "bytes_written", r->bytes);
  cli_json_u64(&j, "flushes", r->flushes);
  cli_json_bool(&j, "data_written",
                acted && !r->args->dry_run &&
                    plan->action == VHDXLOG_ACTION_REPLAY);
  if (acted) {
    cli_json_u64(&j, "file_size", plan->replayed_size);
    json_headers(&j, plan);
  } else {
    cli_json_null(&j, "file_size");
    cli_json_null(&j, "headers");
  }
  if (r->replay_failed)
    cli_json_error(&j, "error", &r->err, &img->loaded.image, r->sys_errno);
  else if (img->loaded_init && img->status != VHDXLOG_OK)
    cli_json_error(&j, "error", &img->error, &img->loaded.image,
                   img->load_errno);
  else
    cli_json_null(&j, "error");
  if (r->message[0] != '\0') {
    cli_json_string(&j, "message", r->message);
    cli_json_string(&j, "system_error",
                    r->sys_errno ? strerror(r->sys_errno) : NULL);
  } else if (r->have_img && !img->loaded_init) {
    cli_json_string(&j, "message", img->message);
    cli_json_string(&j, "system_error",
                    img->open_errno ? strerror(img->open_errno) : NULL);
  } else {
    cli_json_null(&j, "message");
    cli_json_null(&j, "system_error");
  }
  cli_json_object_end(&j);
  cli_json_finish(&j);
}

/* The input of -o: loaded and validated (a corrupt input creates no OUT),
 * not locked by another process (as an in-place replay would be refused),
 * and read-locked while it is copied so that no locking writer starts
 * meanwhile. 0 with r->img open, or -1 with r->code set. */
static int open_input(replay_run *r, const char *file) {
  cli_image *img = &r->img;
  char msg[512];
  r->have_img = 1;
  if (cli_image_open(img, file, 0, r->args->policy) != 0 ||
      img->status != VHDXLOG_OK) {
    r->code = report_load_failure(img);
    return -1;
  }
  if (img->in_use || vhdxlog_posix_lock_shared(&img->file) != 0) {
    snprintf(msg, sizeof msg, "%s: %s", file,
             img->in_use || errno == EBUSY ? CLI_IN_USE_MESSAGE
                                           : strerror(errno));
    fail_message(r, CLI_EXIT_ERROR, img->in_use ? EBUSY : errno, msg);
    return -1;
  }
  return 0;
}

static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/* A new temporary file next to OUT, with the mode a plain create gives;
 * NULL with r->code set on failure. */
static char *make_temp(replay_run *r, const char *out) {
  static const char suffix[] = ".vhdxlog-XXXXXX";
  char msg[600];
  mode_t mask;
  char *tmp = malloc(strlen(out) + sizeof suffix);
  int fd;
  if (tmp == NULL) {
    fail_message(r, CLI_EXIT_ERROR, ENOMEM, "out of memory");
    return NULL;
  }
  /* mkstemp may have changed the template before a signal stopped it. */
  do {
    strcpy(tmp, out);
    strcat(tmp, suffix);
    fd = mkstemp(tmp);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int e = errno;
    snprintf(msg, sizeof msg, "cannot create %s: %s", tmp, strerror(e));
    fail_message(r, CLI_EXIT_ERROR, e, msg);
    free(tmp);
    return NULL;
  }
  mask = umask(0);
  umask(mask);
  (void)fchmod(fd, (mode_t)(0666 & ~mask));
  (void)close(fd);
  return tmp;
}

/*
 * -o OUT: check OUT, validate and lock FILE, copy it to a temporary file
 * next to OUT, replay that (loaded and validated again), and only then put
 * it in place. OUT thus appears whole and replayed or not at all: a failure
 * or an interruption leaves at most the temporary file (OUT.vhdxlog-XXXXXX),
 * which a failure removes.
 */
static void run_copy(replay_run *r, const char *file, const char *out) {
  char msg[1200];
  char *tmp;
  int copied;
  if (cli_output_check(out, r->args->force, msg, sizeof msg) != 0) {
    fail_message(r, CLI_EXIT_ERROR, 0, msg);
    return;
  }
  if (open_input(r, file) != 0)
    return;
  if (same_file(file, out)) {
    snprintf(msg, sizeof msg, "%s and %s are the same file", file, out);
    fail_message(r, CLI_EXIT_ERROR, 0, msg);
    return;
  }
  tmp = make_temp(r, out);
  if (tmp == NULL)
    return;
  copied = cli_copy_file(file, tmp, msg, sizeof msg) == 0;
  /* The copy is taken: the input's lock may go. */
  cli_image_close(&r->img);
  r->have_img = 0;
  if (!copied)
    fail_message(r, CLI_EXIT_ERROR, 0, msg);
  else
    run(r, tmp, out, 0);
  if (r->code == CLI_EXIT_OK &&
      cli_output_place(tmp, out, r->args->force, msg, sizeof msg) != 0)
    fail_message(r, CLI_EXIT_ERROR, 0, msg);
  if (r->code != CLI_EXIT_OK) {
    (void)unlink(tmp);
    fprintf(stderr, "%s: %s: not written\n", CLI_PROGRAM, out);
  }
  free(tmp);
}

int cli_cmd_replay(const cli_args *args) {
  replay_run r;
  memset(&r, 0, sizeof r);
  r.args = args;
  r.code = CLI_EXIT_ERROR;
  if (args->out)
    run_copy(&r, args->file, args->out);
  else
    run(&r, args->file, args->file, args->dry_run);
  if (args->json)
    report_json(&r, args->file);
  else
    report_text(&r);
  if (r.have_img && cli_image_close(&r.img) != 0 && r.code == CLI_EXIT_OK) {
    fprintf(stderr, "%s: %s: error closing the file\n", CLI_PROGRAM,
            args->file);
    r.code = CLI_EXIT_ERROR;
  }
  return r.code;
}
