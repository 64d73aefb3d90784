/* SPDX-License-Identifier: MIT */
/*
 * Shared declarations of the vhdxlog command-line tool. Each command lives in
 * its own cmd_*.c file; helpers are split by job (json.c, guid.c, report.c,
 * armed.c, open_image.c, dry_io.c, copy.c, output.c).
 */
#ifndef VHDXLOG_CLI_H
#define VHDXLOG_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "vhdxlog.h"
#include "vhdxlog_io.h"

/* Exit codes, shared by every command (documented in --help). */
#define CLI_EXIT_OK 0      /* nothing to replay / command succeeded */
#define CLI_EXIT_DIRTY 1   /* check: a valid log must be replayed */
#define CLI_EXIT_CORRUPT 2 /* the file or its log breaks a rule */
#define CLI_EXIT_ERROR 3   /* usage or I/O error */

#define CLI_PROGRAM "vhdxlog"

/* Repeat a system call a signal interrupted: EINTR is not a failure. */
#define CLI_RETRY(rc, call)                                                    \
  do                                                                           \
    (rc) = (call);                                                             \
  while ((rc) < 0 && errno == EINTR)

/* Parsed command line (main.c). Each command ignores what it does not use;
 * main.c rejects options a command does not accept. */
typedef struct cli_args {
  const char *file;
  int json;
  int dry_run;
  int force;             /* replay -o: replace an existing regular OUT */
  vhdxlog_policy policy; /* --strict / --force-clear, else DEFAULT */
  const char *out;       /* replay -o OUT, or NULL */
} cli_args;

int cli_cmd_info(const cli_args *args);
int cli_cmd_check(const cli_args *args);
int cli_cmd_dump(const cli_args *args);
int cli_cmd_replay(const cli_args *args);

/* ------------------------------------------------------------------------ */
/* open_image.c: open a file through the POSIX backend, run vhdxlog_load(). */

typedef struct cli_image {
  const char *path;
  vhdxlog_posix_file file;
  int file_open;
  vhdxlog_io io;
  vhdxlog_loaded loaded;
  int loaded_init;       /* vhdxlog_load() was called: free it */
  vhdxlog_status status; /* what the load and the plan returned */
  vhdxlog_error error;
  vhdxlog_policy policy; /* what the plan was built under */
  int parsed;            /* vhdxlog_image_parse() accepted the header area */
  int in_use;            /* another process holds a lock on the file */
  const char *not_vhdx;  /* set when the file is no VHDX at all: what it is
                            ("a qcow2 image", "an empty file", ...) */
  char message[256];     /* set when the file could not be opened */
  int open_errno;        /* errno of a failed open, 0 if none */
  int load_errno;        /* errno after a load that failed with E_IO */
} cli_image;

/*
 * Open `path` (read-only unless `writable`), load it and build the plan
 * under `policy`. Only regular files and block devices are opened (a FIFO
 * would block, a character device is no image). Returns 0 when the file was
 * opened and loaded (img->status says how it went), or -1 when it could not
 * be opened (img->message says why; exit code 3).
 */
int cli_image_open(cli_image *img, const char *path, int writable,
                   vhdxlog_policy policy);

/* What a file of mode `m` is: "a directory", "a FIFO", ... (for messages). */
const char *cli_file_kind(mode_t m);

/* On stderr: the file is in use, so what was read may be stale. */
void cli_warn_in_use(const cli_image *img);

/* The message of a writer refused by a lock, shared by in-place replay and
 * replay -o. */
#define CLI_IN_USE_MESSAGE                                                     \
  "in use: another process (a VM, qemu-img, another replay) holds a lock "     \
  "on it; nothing written"

/* Report a failed open or load on `f` (the message, or the error with the
 * rule, the offset and, for I/O errors, the system's reason). */
void cli_image_report(FILE *f, const cli_image *img);

/* Close and free; returns 0, or -1 if close() failed (a write error may
 * surface only there). */
int cli_image_close(cli_image *img);

/*
 * The active sequence for reporting: plan.seq when the plan is ready,
 * otherwise a fresh search when the log context is ready (the search can
 * succeed while the plan fails, e.g. E_FILE_TRUNCATED). 1 if *seq is filled.
 */
int cli_image_sequence(const cli_image *img, vhdxlog_sequence *seq);

/* 1 if vhdxlog_image_parse() succeeded (whatever failed after it: the
 * search or the plan), so that every field of loaded.image is meaningful. */
int cli_image_parsed(const cli_image *img);

/* 1 if the loaded image needs writes: a log to replay, an armed log to
 * clear or an interrupted header update of ours to complete. */
int cli_image_needs_replay(const cli_image *img);

/* ------------------------------------------------------------------------ */
/* report.c: exit codes and error reporting.                                */

/* OK -> 0; caller, resource and I/O errors -> 3; every format rule -> 2. */
int cli_exit_for_status(vhdxlog_status status);

/* "none", "replay", "complete-clear", "clear-armed". */
const char *cli_action_name(vhdxlog_action action);
/* "empty", "torn", "damaged-header", "damaged-checksum", "incomplete", or
 * NULL for VHDXLOG_ARMED_NOT. */
const char *cli_armed_kind_name(vhdxlog_armed_kind kind);

/* The armed-log lines of check/replay: what a replay does and why that is
 * safe (or why it is refused and what clears it), and the newest candidate
 * carrying the LogGuid. Prints nothing when the log is not armed. */
void cli_print_armed(FILE *f, const cli_image *img);
/* The format identifier and version every JSON document carries; the
 * version changes when a member changes meaning or goes away (new members
 * do not change it). docs/cli/vhdxlog.schema.json describes version 1. */
#define CLI_JSON_FORMAT "vhdxlog-json"
#define CLI_JSON_VERSION 1

/* The newest-candidate line alone ("<path>: newest candidate ..."). */
void cli_print_armed_newest(FILE *f, const cli_image *img);

/* "descriptor", "data sector", "region entry" or NULL: what error.index of
 * `status` counts. */
const char *cli_index_kind(vhdxlog_status status);

/* One line (no newline) describing *err, e.g.
 * "entry checksum mismatch (VHDXLOG_E_ENTRY_CHECKSUM) at log offset 0x2000
 *  (file offset 0x102000)". `image` may be NULL (no file offset then). */
void cli_format_error(char *buf, size_t size, const vhdxlog_error *err,
                      const vhdxlog_image *image);

/* "vhdxlog: FILE: corrupt: <cli_format_error>" (or "error: ..." for
 * caller and I/O errors, with strerror(sys_errno) when that is not 0). */
void cli_print_error(FILE *f, const char *path, const vhdxlog_error *err,
                     const vhdxlog_image *image, int sys_errno);

struct cli_json;
/* Begin the top-level object of every JSON document: "format", "version",
 * "command", "file". */
void cli_json_document(struct cli_json *j, const char *command,
                       const char *path);
/* An "error" object member (or null when err is NULL); `sys_errno` != 0
 * adds the system's reason ("system_error"). */
void cli_json_error(struct cli_json *j, const char *key,
                    const vhdxlog_error *err, const vhdxlog_image *image,
                    int sys_errno);
/* The members every command's JSON carries about the plan: "policy",
 * "action" (null without a plan), "armed" (null unless armed), "in_use",
 * "not_vhdx". */
void cli_json_plan(struct cli_json *j, const cli_image *img);
/* "index" and "index_kind" of an error of status `s` (index null when `s`
 * carries none). */
void cli_json_index(struct cli_json *j, vhdxlog_status s, uint32_t index);
/* The members "name", "code" and "message" of status `s`. */
void cli_json_rule(struct cli_json *j, vhdxlog_status s);
/* The "log" object: state, offset, length and LogGuid of the image. */
void cli_json_log(struct cli_json *j, const vhdxlog_image *im);
/* A GUID member in its text form ("{...}"). */
void cli_json_guid(struct cli_json *j, const char *key, const uint8_t g[16]);
/* The active sequence as an object member. */
void cli_json_sequence(struct cli_json *j, const char *key,
                       const vhdxlog_sequence *seq);
/* The active sequence as indented text lines. */
void cli_print_sequence(FILE *f, const vhdxlog_sequence *seq);

/* ------------------------------------------------------------------------ */
/* dry_io.c: a vhdxlog_io that reads through another and only prints what    */
/* it would write.                                                          */

typedef struct cli_dry_io {
  const vhdxlog_io *inner; /* read and get_size go here */
  FILE *out;
  uint64_t size; /* simulated file size */
  int size_known;
  uint64_t writes; /* write, write_zeros and set_size calls */
  uint64_t bytes;  /* bytes that would be written */
  uint64_t flushes;
} cli_dry_io;

void cli_dry_io_init(cli_dry_io *d, const vhdxlog_io *inner, FILE *out,
                     vhdxlog_io *io);

/* ------------------------------------------------------------------------ */
/* copy.c: sparse-aware copy of a file.                                     */

/*
 * Copy the regular file `src` to `dst` (created 0644 or truncated), writing
 * only data: holes and all-zero 1 MiB chunks are skipped and the size is set
 * with ftruncate. Refuses when both name the same file. 0 on success, -1 with
 * a message in msg.
 */
int cli_copy_file(const char *src, const char *dst, char *msg, size_t msgsize);

/* ------------------------------------------------------------------------ */
/* output.c: the OUT of replay -o.                                          */

/* 0 if OUT may be written: absent, or a regular file and `force`; else -1
 * with the reason in msg (a directory, device, FIFO or symbolic link is
 * never replaced). */
int cli_output_check(const char *out, int force, char *msg, size_t msgsize);
/* Move the finished temporary file `tmp` to OUT (checked again; without
 * `force` an OUT created meanwhile is kept) and sync the directory. 0, or
 * -1 with msg. */
int cli_output_place(const char *tmp, const char *out, int force, char *msg,
                     size_t msgsize);

#endif
