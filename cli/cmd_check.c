/* SPDX-License-Identifier: MIT */
/* vhdxlog check: validate an image and say whether its log must be
 * replayed. Exit 0 clean, 1 replay needed, 2 corrupt, 3 usage/I/O. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"

static const char *result_name(const cli_image *img, int code) {
  return img->not_vhdx              ? "not-vhdx"
         : code == CLI_EXIT_OK      ? "clean"
         : code == CLI_EXIT_DIRTY   ? "replay-needed"
         : code == CLI_EXIT_CORRUPT ? "corrupt"
                                    : "error";
}

static void print_json(const cli_image *img, int code) {
  cli_json j;
  vhdxlog_sequence seq;
  const vhdxlog_plan *plan = &img->loaded.plan;
  int have_plan = img->loaded_init && img->loaded.plan_ready;
  int parsed = cli_image_parsed(img);
  cli_json_init(&j, stdout);
  cli_json_document(&j, "check", img->path);
  cli_json_string(&j, "result", result_name(img, code));
  cli_json_u64(&j, "exit_code", (uint64_t)code);
  cli_json_string(&j, "log_state",
                  !parsed                                            ? NULL
                  : img->loaded.image.log_state == VHDXLOG_LOG_DIRTY ? "dirty"
                                                                     : "clean");
  cli_json_plan(&j, img);
  if (have_plan) {
    cli_json_bool(&j, "replay_needed", plan->replay);
    cli_json_bool(&j, "header_repair_needed", plan->complete_header_update);
    cli_json_u64(&j, "replayed_size", plan->replayed_size);
  } else {
    cli_json_null(&j, "replay_needed");
    cli_json_null(&j, "header_repair_needed");
    cli_json_null(&j, "replayed_size");
  }
  if (cli_image_sequence(img, &seq))
    cli_json_sequence(&j, "sequence", &seq);
  else
    cli_json_null(&j, "sequence");
  cli_json_error(&j, "error",
                 img->loaded_init && img->status != VHDXLOG_OK ? &img->error
                                                               : NULL,
                 &img->loaded.image, img->load_errno);
  cli_json_string(&j, "message", img->loaded_init ? NULL : img->message);
  if (!img->loaded_init && img->open_errno != 0)
    cli_json_string(&j, "system_error", strerror(img->open_errno));
  cli_json_object_end(&j);
  cli_json_finish(&j);
}

static void print_text(const cli_image *img, int code) {
  const vhdxlog_plan *plan = &img->loaded.plan;
  vhdxlog_sequence seq;
  char buf[512];
  switch (code) {
  case CLI_EXIT_OK:
    printf("%s: clean: nothing to replay\n", img->path);
    break;
  case CLI_EXIT_DIRTY:
    if (plan->action == VHDXLOG_ACTION_CLEAR_ARMED) {
      cli_print_armed(stdout, img);
    } else if (plan->replay && cli_image_sequence(img, &seq)) {
      printf("%s: dirty: the log is valid and must be replayed: %" PRIu32
             " entr%s, sequence numbers %" PRIu64 "..%" PRIu64 ", %" PRIu64
             " descriptor%s, file size after replay 0x%" PRIx64 "\n",
             img->path, seq.entry_count, seq.entry_count == 1 ? "y" : "ies",
             seq.tail_sequence_number, seq.head_sequence_number,
             seq.descriptor_count, seq.descriptor_count == 1 ? "" : "s",
             plan->replayed_size);
    } else {
      printf("%s: log clean, but an interrupted replay left the other "
             "header stale: replay completes the header update\n",
             img->path);
    }
    break;
  case CLI_EXIT_CORRUPT:
    if (img->not_vhdx) {
      printf("%s: not a VHDX file: %s (%s)\n", img->path, img->not_vhdx,
             vhdxlog_status_name(img->status));
      break;
    }
    cli_format_error(buf, sizeof buf, &img->error, &img->loaded.image);
    printf("%s: corrupt: %s\n", img->path, buf);
    if (img->error.status == VHDXLOG_E_FILE_TRUNCATED &&
        cli_image_sequence(img, &seq))
      printf("%s: note: the log's head entry (seq %" PRIu64
             ") says the file was at least 0x%" PRIx64 " bytes long\n",
             img->path, seq.head_sequence_number, seq.flushed_file_offset);
    cli_print_armed(stdout, img);
    break;
  default:
    cli_image_report(stderr, img);
    break;
  }
}

int cli_cmd_check(const cli_args *args) {
  cli_image img;
  int code;
  if (cli_image_open(&img, args->file, 0, args->policy) != 0) {
    code = CLI_EXIT_ERROR;
  } else if (img.status != VHDXLOG_OK) {
    code = cli_exit_for_status(img.status);
  } else {
    code = cli_image_needs_replay(&img) ? CLI_EXIT_DIRTY : CLI_EXIT_OK;
  }
  cli_warn_in_use(&img);
  if (args->json) {
    print_json(&img, code);
    if (code == CLI_EXIT_ERROR)
      cli_image_report(stderr, &img);
  } else {
    print_text(&img, code);
  }
  cli_image_close(&img); /* read-only: nothing to lose on close */
  return code;
}
