/* SPDX-License-Identifier: MIT */
/* vhdxlog info: headers, region table, log state and the active sequence.
 * Prints as much as parsing reached, then the error if there was one.
 * Exit 0 when the image loaded (dirty or not), 2 corrupt, 3 usage/I/O. */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "guid.h"
#include "json.h"

/* How far vhdxlog_image_parse() got, judged from the status it stopped at
 * (RULES.md "Image", checks in order). */
enum stage {
  STAGE_NONE,    /* nothing trustworthy */
  STAGE_SIZE,    /* the file size only: the parser stopped before the
                    headers (too small, or no "vhdxfile") */
  STAGE_HEADERS, /* headers[] filled, no current header */
  STAGE_CURRENT, /* current header chosen */
  STAGE_REGIONS, /* region tables examined, image rules failed there */
  STAGE_IMAGE    /* image fully parsed; log state known */
};

static enum stage stage_of(const cli_image *img) {
  vhdxlog_status s = img->status;
  if (!img->loaded_init)
    return STAGE_NONE;
  /* With a dirty log, region-table rules are judged by the plan, after a
   * successful parse. */
  if (s == VHDXLOG_OK || img->parsed)
    return STAGE_IMAGE;
  switch (s) {
  case VHDXLOG_E_FILE_TOO_SMALL:
  case VHDXLOG_E_FILE_SIGNATURE:
    return STAGE_SIZE;
  case VHDXLOG_E_NO_VALID_HEADER:
  case VHDXLOG_E_HEADER_SEQUENCE_TIE:
    return STAGE_HEADERS;
  case VHDXLOG_E_HEADER_VERSION:
  case VHDXLOG_E_HEADER_LOG_VERSION:
  case VHDXLOG_E_HEADER_LOG_LOCATION:
  case VHDXLOG_E_LOG_BEYOND_FILE:
    return STAGE_CURRENT;
  case VHDXLOG_E_NO_VALID_REGION_TABLE:
    return STAGE_REGIONS;
  default:
    /* The rules on region table entries (their errors name one). */
    if (vhdxlog_status_index_kind(s) == VHDXLOG_INDEX_REGION_ENTRY)
      return STAGE_REGIONS;
    /* Caller and I/O errors leave no telling how far the loader got. */
    return cli_image_parsed(img) ? STAGE_IMAGE : STAGE_NONE;
  }
}

/* The region tables as a replay leaves them are known (the plan judged
 * them): a dirty log whose plan succeeded or failed on those tables. */
static int replayed_regions(const cli_image *img) {
  vhdxlog_status s = img->status;
  if (!img->parsed || img->loaded.image.log_state != VHDXLOG_LOG_DIRTY)
    return 0;
  return img->loaded.plan_ready ||
         (img->loaded.plan.action == VHDXLOG_ACTION_NONE &&
          s >= VHDXLOG_E_NO_VALID_REGION_TABLE &&
          s <= VHDXLOG_E_REGION_OVERLAP &&
          img->loaded.plan.regions.error.status == s);
}

static uint32_t header_offset(int i) {
  return i == 0 ? VHDXLOG_HEADER1_OFFSET : VHDXLOG_HEADER2_OFFSET;
}

/* ---------------------------------------------------------------- text */

static void text_guid(const char *label, const uint8_t g[16]) {
  char buf[CLI_GUID_TEXT_SIZE];
  cli_guid_format(g, buf);
  printf("    %-16s %s\n", label, buf);
}

static void text_header(const cli_image *img, int i, enum stage st) {
  const vhdxlog_image *im = &img->loaded.image;
  const vhdxlog_header_info *h = &im->headers[i];
  int current = st >= STAGE_CURRENT && im->current == i;
  printf("header %d (file offset 0x%" PRIx32 "): %s%s%s\n", i + 1,
         header_offset(i),
         h->valid ? "valid" : "invalid (signature or checksum)",
         current ? ", current" : "",
         current && im->headers_identical ? " (both identical)" : "");
  if (!h->valid)
    return;
  printf("    %-16s %" PRIu64 "\n", "SequenceNumber", h->sequence_number);
  printf("    %-16s 0x%08" PRIx32 "\n", "Checksum", h->checksum);
  text_guid("FileWriteGuid", h->file_write_guid);
  text_guid("DataWriteGuid", h->data_write_guid);
  text_guid("LogGuid", h->log_guid);
  printf("    %-16s %u\n", "LogVersion", (unsigned)h->log_version);
  printf("    %-16s %u\n", "Version", (unsigned)h->version);
  printf("    %-16s 0x%" PRIx64 "\n", "LogOffset", h->log_offset);
  printf("    %-16s 0x%" PRIx32 "\n", "LogLength", h->log_length);
}

static void text_regions(const char *label, const vhdxlog_region_info *r,
                         const vhdxlog_image *im) {
  int usable = r->error.status == VHDXLOG_OK || r->valid[0] || r->valid[1];
  printf("%s: copy 1 %s, copy 2 %s", label, r->valid[0] ? "valid" : "invalid",
         r->valid[1] ? "valid" : "invalid");
  if (r->error.status != VHDXLOG_OK) {
    char buf[512];
    cli_format_error(buf, sizeof buf, &r->error, im);
    printf("; %s", buf);
  }
  if (!usable) {
    printf("\n");
    return;
  }
  printf("; using copy %d (%" PRIu32 " entr%s)\n", r->used + 1, r->entry_count,
         r->entry_count == 1 ? "y" : "ies");
  printf("    %-16s offset 0x%" PRIx64 " length 0x%" PRIx32 "\n", "BAT",
         r->bat_offset, r->bat_length);
  printf("    %-16s offset 0x%" PRIx64 " length 0x%" PRIx32 "\n", "metadata",
         r->metadata_offset, r->metadata_length);
}

static void print_text(const cli_image *img) {
  const vhdxlog_image *im = &img->loaded.image;
  const vhdxlog_plan *plan = &img->loaded.plan;
  enum stage st = stage_of(img);
  vhdxlog_sequence seq;
  char g[CLI_GUID_TEXT_SIZE];
  int i;

  printf("file: %s\n", img->path);
  if (st == STAGE_NONE)
    return;
  printf("size: %" PRIu64 " bytes (0x%" PRIx64 ")\n", im->file_size,
         im->file_size);
  if (st < STAGE_HEADERS)
    return;
  for (i = 0; i < 2; i++)
    text_header(img, i, st);
  if (st >= STAGE_REGIONS)
    text_regions(st == STAGE_IMAGE && im->log_state == VHDXLOG_LOG_DIRTY
                     ? "region table (on disk)"
                     : "region table",
                 &im->regions, im);
  if (replayed_regions(img))
    text_regions("region table (as replayed)", &plan->regions, im);
  if (st < STAGE_IMAGE)
    return;
  cli_guid_format(im->log_guid, g);
  printf("log: %s, offset 0x%" PRIx64 ", length 0x%" PRIx32 ", LogGuid %s\n",
         im->log_state == VHDXLOG_LOG_DIRTY ? "dirty" : "clean", im->log_offset,
         im->log_length, g);
  if (cli_image_sequence(img, &seq)) {
    printf("active sequence:\n");
    cli_print_sequence(stdout, &seq);
  }
  if (img->loaded.plan_ready) {
    if (plan->replay) {
      printf("replay: needed; file size afterwards 0x%" PRIx64 "%s\n",
             plan->replayed_size,
             plan->need_file_write_guid ? "; FileWriteGuid changes first" : "");
    } else if (plan->complete_header_update) {
      printf("replay: header update of an interrupted replay to complete\n");
    } else if (plan->action == VHDXLOG_ACTION_CLEAR_ARMED) {
      printf("replay: clears the armed log (%s); writes no data\n",
             cli_armed_kind_name(plan->armed.kind));
    } else {
      printf("replay: nothing to do\n");
    }
  }
  printf("action: %s\n", img->loaded.plan_ready ? cli_action_name(plan->action)
                                                : "none (refused)");
  cli_print_armed(stdout, img);
}

/* ---------------------------------------------------------------- json */

static void json_header(cli_json *j, const cli_image *img, int i,
                        enum stage st) {
  const vhdxlog_image *im = &img->loaded.image;
  const vhdxlog_header_info *h = &im->headers[i];
  cli_json_object_begin(j, NULL);
  cli_json_u64(j, "slot", (uint64_t)(i + 1));
  cli_json_u64(j, "offset", header_offset(i));
  cli_json_bool(j, "valid", h->valid);
  cli_json_bool(j, "current", st >= STAGE_CURRENT && im->current == i);
  if (h->valid) {
    cli_json_u64(j, "sequence_number", h->sequence_number);
    cli_json_u64(j, "checksum", h->checksum);
    cli_json_guid(j, "file_write_guid", h->file_write_guid);
    cli_json_guid(j, "data_write_guid", h->data_write_guid);
    cli_json_guid(j, "log_guid", h->log_guid);
    cli_json_u64(j, "log_version", h->log_version);
    cli_json_u64(j, "version", h->version);
    cli_json_u64(j, "log_offset", h->log_offset);
    cli_json_u64(j, "log_length", h->log_length);
  }
  cli_json_object_end(j);
}

static void json_region(cli_json *j, const char *key, uint64_t offset,
                        uint32_t length) {
  cli_json_object_begin(j, key);
  cli_json_u64(j, "offset", offset);
  cli_json_u64(j, "length", length);
  cli_json_object_end(j);
}

static void json_regions(cli_json *j, const char *key,
                         const vhdxlog_region_info *r,
                         const vhdxlog_image *im) {
  int usable = r->error.status == VHDXLOG_OK || r->valid[0] || r->valid[1];
  cli_json_object_begin(j, key);
  cli_json_array_begin(j, "copy_valid");
  cli_json_bool(j, NULL, r->valid[0]);
  cli_json_bool(j, NULL, r->valid[1]);
  cli_json_array_end(j);
  if (usable) {
    cli_json_u64(j, "used_copy", (uint64_t)(r->used + 1));
    cli_json_u64(j, "entry_count", r->entry_count);
    json_region(j, "bat", r->bat_offset, r->bat_length);
    json_region(j, "metadata", r->metadata_offset, r->metadata_length);
  } else {
    cli_json_null(j, "used_copy");
  }
  cli_json_error(j, "error", r->error.status != VHDXLOG_OK ? &r->error : NULL,
                 im, 0);
  cli_json_object_end(j);
}

static void print_json(const cli_image *img) {
  const vhdxlog_image *im = &img->loaded.image;
  const vhdxlog_plan *plan = &img->loaded.plan;
  enum stage st = stage_of(img);
  vhdxlog_sequence seq;
  cli_json j;
  int i;

  cli_json_init(&j, stdout);
  cli_json_document(&j, "info", img->path);
  cli_json_plan(&j, img);
  if (st == STAGE_NONE)
    cli_json_null(&j, "file_size");
  else
    cli_json_u64(&j, "file_size", im->file_size);

  if (st >= STAGE_HEADERS) {
    cli_json_array_begin(&j, "headers");
    for (i = 0; i < 2; i++)
      json_header(&j, img, i, st);
    cli_json_array_end(&j);
  } else {
    cli_json_null(&j, "headers");
  }
  if (st >= STAGE_CURRENT) {
    cli_json_u64(&j, "current_header", (uint64_t)(im->current + 1));
    cli_json_bool(&j, "headers_identical", im->headers_identical);
  } else {
    cli_json_null(&j, "current_header");
    cli_json_null(&j, "headers_identical");
  }

  if (st >= STAGE_REGIONS)
    json_regions(&j, "regions", &im->regions, im);
  else
    cli_json_null(&j, "regions");
  if (replayed_regions(img))
    json_regions(&j, "regions_replayed", &plan->regions, im);
  else
    cli_json_null(&j, "regions_replayed");

  if (st == STAGE_IMAGE) {
    cli_json_log(&j, im);
  } else {
    cli_json_null(&j, "log");
  }

  if (cli_image_sequence(img, &seq))
    cli_json_sequence(&j, "active_sequence", &seq);
  else
    cli_json_null(&j, "active_sequence");

  if (img->loaded_init && img->loaded.plan_ready) {
    cli_json_object_begin(&j, "replay");
    cli_json_string(&j, "action", cli_action_name(plan->action));
    cli_json_bool(&j, "needed", plan->action != VHDXLOG_ACTION_NONE);
    cli_json_bool(&j, "header_repair_needed", plan->complete_header_update);
    cli_json_bool(&j, "changes_file_write_guid", plan->need_file_write_guid);
    if (plan->action != VHDXLOG_ACTION_NONE)
      cli_json_guid(&j, "new_file_write_guid", plan->new_file_write_guid);
    cli_json_u64(&j, "replayed_size", plan->replayed_size);
    cli_json_object_end(&j);
  } else {
    cli_json_null(&j, "replay");
  }

  cli_json_string(&j, "message", img->loaded_init ? NULL : img->message);
  cli_json_error(&j, "error",
                 img->loaded_init && img->status != VHDXLOG_OK ? &img->error
                                                               : NULL,
                 im, img->load_errno);
  cli_json_object_end(&j);
  cli_json_finish(&j);
}

int cli_cmd_info(const cli_args *args) {
  cli_image img;
  int code;
  if (cli_image_open(&img, args->file, 0, args->policy) != 0) {
    if (args->json)
      print_json(&img);
    cli_image_report(stderr, &img);
    return CLI_EXIT_ERROR;
  }
  cli_warn_in_use(&img);
  if (args->json)
    print_json(&img);
  else
    print_text(&img);
  code = cli_exit_for_status(img.status);
  if (code != CLI_EXIT_OK)
    cli_image_report(stderr, &img);
  cli_image_close(&img); /* read-only: nothing to lose on close */
  return code;
}
