/* SPDX-License-Identifier: MIT */
/*
 * vhdxlog dump: every entry candidate of the log (each sector that starts
 * with "loge"), the active sequence and its descriptors in replay order.
 * Linear in the log length even on hostile logs (every sector a candidate
 * claiming the whole log): vhdxlog_log_entry() checks cheapest first, so a
 * candidate reads past its first sector only through sectors that cannot
 * start an entry, and each sector is read by at most one other candidate
 * (vhdxlog.h, struct vhdxlog_log).
 * Exit 0 when the image loaded, 2 corrupt, 3 usage/I/O.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "guid.h"
#include "json.h"

/* One sector starting with "loge": the entry's header fields as stored
 * (shown even when it is invalid), and what its validation says. */
typedef struct candidate {
  vhdxlog_status status;
  vhdxlog_error error;
  vhdxlog_entry entry; /* every field when valid; else the header fields */
} candidate;

static int next_candidate(const vhdxlog_loaded *l, uint32_t *sector,
                          candidate *c) {
  uint32_t sectors = l->image.log_length / VHDXLOG_SECTOR_SIZE;
  while (*sector < sectors) {
    uint32_t offset = (*sector)++ * VHDXLOG_SECTOR_SIZE;
    memset(c, 0, sizeof *c);
    c->status = vhdxlog_log_entry(&l->log, offset, &c->entry, &c->error);
    /* Only a sector without the signature fails that rule: no candidate. */
    if (c->status != VHDXLOG_E_ENTRY_SIGNATURE)
      return 1;
  }
  return 0;
}

static const char *kind_name(vhdxlog_descriptor_kind k) {
  return k == VHDXLOG_DESCRIPTOR_DATA   ? "data"
         : k == VHDXLOG_DESCRIPTOR_ZERO ? "zero"
                                        : "?";
}

/* The plan clears an armed log: no sequence is expected. */
static int armed_cleared(const cli_image *img) {
  return img->loaded.plan_ready &&
         img->loaded.plan.action == VHDXLOG_ACTION_CLEAR_ARMED;
}

/* The search validated every entry, so an iteration error is a library
 * bug, not a property of the file; still say where it happened. */
static void iter_failed(vhdxlog_error *err, vhdxlog_status st,
                        const vhdxlog_iter *it) {
  err->status = st;
  err->cause = st;
  err->offset = it->entry_offset;
  err->index = VHDXLOG_NO_INDEX;
}

/* ---------------------------------------------------------------- text */

static int dump_text(const cli_image *img, vhdxlog_error *err) {
  const vhdxlog_loaded *l = &img->loaded;
  const vhdxlog_image *im = &l->image;
  vhdxlog_sequence seq;
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  vhdxlog_status st;
  candidate c;
  uint32_t sector = 0;
  uint64_t n = 0, valid = 0;
  char g[CLI_GUID_TEXT_SIZE];

  cli_guid_format(im->log_guid, g);
  printf("file: %s\n", img->path);
  printf("log: %s, offset 0x%" PRIx64 ", length 0x%" PRIx32 " (%" PRIu32
         " sectors), LogGuid %s\n",
         im->log_state == VHDXLOG_LOG_DIRTY ? "dirty" : "clean", im->log_offset,
         im->log_length, im->log_length / VHDXLOG_SECTOR_SIZE, g);
  printf("action: %s\n",
         l->plan_ready ? cli_action_name(l->plan.action) : "none (refused)");
  if (im->log_state != VHDXLOG_LOG_DIRTY) {
    printf("LogGuid is zero: the log is empty and is not read\n");
    return 0;
  }
  printf("entry candidates (sectors starting with \"loge\"):\n");
  while (next_candidate(l, &sector, &c)) {
    n++;
    printf("  log 0x%08" PRIx32 "  seq %-20" PRIu64 " length 0x%-8" PRIx32
           " tail 0x%-8" PRIx32 " ",
           c.entry.offset, c.entry.sequence_number, c.entry.length,
           c.entry.tail);
    if (c.status == VHDXLOG_OK) {
      valid++;
      printf("valid: %" PRIu32 " descriptor%s (%" PRIu32 " data, %" PRIu32
             " zero), FlushedFileOffset 0x%" PRIx64
             ", LastFileOffset 0x%" PRIx64 "\n",
             c.entry.descriptor_count, c.entry.descriptor_count == 1 ? "" : "s",
             c.entry.data_count, c.entry.zero_count,
             c.entry.flushed_file_offset, c.entry.last_file_offset);
    } else {
      const char *ik = cli_index_kind(c.status);
      printf("invalid: %s (%s)", vhdxlog_status_string(c.status),
             vhdxlog_status_name(c.status));
      if (ik && c.error.index != VHDXLOG_NO_INDEX)
        printf(", %s %" PRIu32, ik, c.error.index);
      printf("\n");
    }
  }
  printf("  %" PRIu64 " candidate%s, %" PRIu64 " valid\n", n, n == 1 ? "" : "s",
         valid);

  st = vhdxlog_log_search(&l->log, &seq, err);
  if (st != VHDXLOG_OK) {
    printf("active sequence: none\n");
    cli_print_armed(stdout, img);
    return -1;
  }
  printf("active sequence:\n");
  cli_print_sequence(stdout, &seq);
  printf("descriptors in replay order:\n");
  st = vhdxlog_iter_init(&it, &l->log, &seq);
  n = 0;
  while (st == VHDXLOG_OK) {
    st = vhdxlog_iter_next(&it, &d);
    if (st != VHDXLOG_OK)
      break;
    printf("  #%-6" PRIu64 " %s file 0x%" PRIx64 " length 0x%" PRIx64
           " entry 0x%" PRIx32 " index %" PRIu32,
           n, kind_name(d.kind), d.file_offset, d.length, d.entry_offset,
           d.index);
    if (d.kind == VHDXLOG_DESCRIPTOR_DATA)
      printf(" data sector 0x%" PRIx32, d.data_offset);
    printf("\n");
    n++;
  }
  if (st != VHDXLOG_END) {
    iter_failed(err, st, &it);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- json */

/* The lists of a dump that shows no log entries, and the document's end.
 * `err`: the loader's error, or NULL. */
static void json_end_empty(cli_json *j, const cli_image *img,
                           const vhdxlog_error *err, const char *message) {
  cli_json_array_begin(j, "candidates");
  cli_json_array_end(j);
  cli_json_null(j, "sequence");
  cli_json_array_begin(j, "descriptors");
  cli_json_array_end(j);
  cli_json_error(j, "error", err, &img->loaded.image, img->load_errno);
  cli_json_string(j, "message", message);
  cli_json_object_end(j);
  cli_json_finish(j);
}

/* The document when the log could not be read (or the file not opened). */
static void json_no_log(const cli_image *img, const vhdxlog_error *err,
                        const char *message) {
  cli_json j;
  cli_json_init(&j, stdout);
  cli_json_document(&j, "dump", img->path);
  cli_json_plan(&j, img);
  cli_json_null(&j, "log");
  json_end_empty(&j, img, err, message);
}

static void json_candidate(cli_json *j, const vhdxlog_image *im,
                           const candidate *c) {
  cli_json_object_begin(j, NULL);
  cli_json_u64(j, "offset", c->entry.offset);
  cli_json_u64(j, "file_offset", im->log_offset + c->entry.offset);
  cli_json_u64(j, "sequence_number", c->entry.sequence_number);
  cli_json_u64(j, "length", c->entry.length);
  cli_json_u64(j, "tail", c->entry.tail);
  cli_json_bool(j, "valid", c->status == VHDXLOG_OK);
  if (c->status == VHDXLOG_OK) {
    cli_json_u64(j, "descriptor_count", c->entry.descriptor_count);
    cli_json_u64(j, "data_count", c->entry.data_count);
    cli_json_u64(j, "zero_count", c->entry.zero_count);
    cli_json_u64(j, "flushed_file_offset", c->entry.flushed_file_offset);
    cli_json_u64(j, "last_file_offset", c->entry.last_file_offset);
    cli_json_null(j, "error");
  } else {
    cli_json_object_begin(j, "error");
    cli_json_rule(j, c->status);
    cli_json_index(j, c->status, c->error.index);
    cli_json_object_end(j);
  }
  cli_json_object_end(j);
}

/* The active sequence and its descriptors; 0, or -1 with *err. */
static int json_sequence(cli_json *j, const vhdxlog_log *log,
                         vhdxlog_error *err) {
  vhdxlog_sequence seq;
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  vhdxlog_status st;
  if (vhdxlog_log_search(log, &seq, err) != VHDXLOG_OK) {
    cli_json_null(j, "sequence");
    cli_json_array_begin(j, "descriptors");
    cli_json_array_end(j);
    return -1;
  }
  cli_json_sequence(j, "sequence", &seq);
  cli_json_array_begin(j, "descriptors");
  st = vhdxlog_iter_init(&it, log, &seq);
  while (st == VHDXLOG_OK && (st = vhdxlog_iter_next(&it, &d)) == VHDXLOG_OK) {
    cli_json_object_begin(j, NULL);
    cli_json_string(j, "kind", kind_name(d.kind));
    cli_json_u64(j, "file_offset", d.file_offset);
    cli_json_u64(j, "length", d.length);
    cli_json_u64(j, "entry_offset", d.entry_offset);
    cli_json_u64(j, "index", d.index);
    if (d.kind == VHDXLOG_DESCRIPTOR_DATA)
      cli_json_u64(j, "data_offset", d.data_offset);
    else
      cli_json_null(j, "data_offset");
    cli_json_u64(j, "sequence_number", d.sequence_number);
    cli_json_object_end(j);
  }
  cli_json_array_end(j);
  if (st == VHDXLOG_END)
    return 0;
  iter_failed(err, st, &it);
  return -1;
}

static int dump_json(const cli_image *img, vhdxlog_error *err) {
  const vhdxlog_loaded *l = &img->loaded;
  const vhdxlog_image *im = &l->image;
  candidate c;
  uint32_t sector = 0;
  cli_json j;
  int rc;

  cli_json_init(&j, stdout);
  cli_json_document(&j, "dump", img->path);
  cli_json_plan(&j, img);
  cli_json_log(&j, im);
  if (im->log_state != VHDXLOG_LOG_DIRTY) {
    json_end_empty(&j, img, NULL, NULL);
    return 0;
  }

  cli_json_array_begin(&j, "candidates");
  while (next_candidate(l, &sector, &c))
    json_candidate(&j, im, &c);
  cli_json_array_end(&j);
  rc = json_sequence(&j, &l->log, err);
  /* The loader's own verdict comes first (a plan rule such as
   * E_FILE_TRUNCATED fails after a successful search). */
  if (img->status != VHDXLOG_OK)
    cli_json_error(&j, "error", &img->error, im, img->load_errno);
  else if (rc != 0 && !armed_cleared(img))
    cli_json_error(&j, "error", err, im, 0);
  else
    cli_json_null(&j, "error");
  cli_json_null(&j, "message");
  cli_json_object_end(&j);
  cli_json_finish(&j);
  return rc;
}

int cli_cmd_dump(const cli_args *args) {
  cli_image img;
  vhdxlog_error err;
  int code, rc;
  memset(&err, 0, sizeof err);
  if (cli_image_open(&img, args->file, 0, args->policy) != 0) {
    if (args->json)
      json_no_log(&img, NULL, img.message);
    cli_image_report(stderr, &img);
    return CLI_EXIT_ERROR;
  }
  cli_warn_in_use(&img);
  code = cli_exit_for_status(img.status);
  /* Entries can be listed whenever the log was read, even when the search
   * or the plan failed: that is when a dump is most wanted. */
  if (img.loaded.log_ready ||
      (img.status == VHDXLOG_OK &&
       img.loaded.image.log_state == VHDXLOG_LOG_CLEAN)) {
    rc = args->json ? dump_json(&img, &err) : dump_text(&img, &err);
    if (rc != 0 && img.status == VHDXLOG_OK && !armed_cleared(&img)) {
      /* The loader accepted what the dump's own search rejects. */
      cli_print_error(stderr, img.path, &err, &img.loaded.image, 0);
      code = cli_exit_for_status(err.status);
      if (code == CLI_EXIT_OK)
        code = CLI_EXIT_CORRUPT;
    }
  } else if (args->json) {
    json_no_log(&img, &img.error, NULL);
  }
  if (img.status != VHDXLOG_OK)
    cli_image_report(stderr, &img);
  cli_image_close(&img); /* read-only: nothing to lose on close */
  return code;
}
