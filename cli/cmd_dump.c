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

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) {
  return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Raw header fields of a candidate, shown even when it is invalid. */
typedef struct candidate {
  uint32_t offset;
  uint32_t length;
  uint32_t tail;
  uint64_t sequence_number;
  vhdxlog_status status;
  vhdxlog_error error;
  vhdxlog_entry entry; /* valid when status == VHDXLOG_OK */
} candidate;

static int next_candidate(const vhdxlog_loaded *l, uint32_t *sector,
                          candidate *c) {
  uint32_t sectors = l->image.log_length / VHDXLOG_SECTOR_SIZE;
  while (*sector < sectors) {
    const uint8_t *p = l->log_bytes + (size_t)*sector * VHDXLOG_SECTOR_SIZE;
    uint32_t s = (*sector)++;
    /* Signatures are compared as bytes (MS-VHDX 2.3.1.1). */
    if (memcmp(p, "loge", 4) != 0)
      continue;
    memset(c, 0, sizeof *c);
    c->offset = s * VHDXLOG_SECTOR_SIZE;
    c->length = le32(p + 8);
    c->tail = le32(p + 12);
    c->sequence_number = le64(p + 16);
    c->status = vhdxlog_log_entry(&l->log, c->offset, &c->entry, &c->error);
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
           c.offset, c.sequence_number, c.length, c.tail);
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
    /* The search validated every entry: this is a library bug, not a
     * property of the file, but say where it happened. */
    err->status = st;
    err->cause = st;
    err->offset = it.entry_offset;
    err->index = VHDXLOG_NO_INDEX;
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- json */

static int dump_json(const cli_image *img, vhdxlog_error *err) {
  const vhdxlog_loaded *l = &img->loaded;
  const vhdxlog_image *im = &l->image;
  vhdxlog_sequence seq;
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  vhdxlog_status st = VHDXLOG_OK;
  candidate c;
  uint32_t sector = 0;
  char g[CLI_GUID_TEXT_SIZE];
  cli_json j;
  int rc = 0;

  cli_json_init(&j, stdout);
  cli_json_document(&j, "dump", img->path);
  cli_json_plan(&j, img);
  cli_json_object_begin(&j, "log");
  cli_json_string(&j, "state",
                  im->log_state == VHDXLOG_LOG_DIRTY ? "dirty" : "clean");
  cli_json_u64(&j, "offset", im->log_offset);
  cli_json_u64(&j, "length", im->log_length);
  cli_guid_format(im->log_guid, g);
  cli_json_string(&j, "guid", g);
  cli_json_object_end(&j);

  if (im->log_state != VHDXLOG_LOG_DIRTY) {
    cli_json_array_begin(&j, "candidates");
    cli_json_array_end(&j);
    cli_json_null(&j, "sequence");
    cli_json_array_begin(&j, "descriptors");
    cli_json_array_end(&j);
    cli_json_null(&j, "error");
    cli_json_null(&j, "message");
    cli_json_object_end(&j);
    cli_json_finish(&j);
    return 0;
  }

  cli_json_array_begin(&j, "candidates");
  while (next_candidate(l, &sector, &c)) {
    cli_json_object_begin(&j, NULL);
    cli_json_u64(&j, "offset", c.offset);
    cli_json_u64(&j, "file_offset", im->log_offset + c.offset);
    cli_json_u64(&j, "sequence_number", c.sequence_number);
    cli_json_u64(&j, "length", c.length);
    cli_json_u64(&j, "tail", c.tail);
    cli_json_bool(&j, "valid", c.status == VHDXLOG_OK);
    if (c.status == VHDXLOG_OK) {
      cli_json_u64(&j, "descriptor_count", c.entry.descriptor_count);
      cli_json_u64(&j, "data_count", c.entry.data_count);
      cli_json_u64(&j, "zero_count", c.entry.zero_count);
      cli_json_u64(&j, "flushed_file_offset", c.entry.flushed_file_offset);
      cli_json_u64(&j, "last_file_offset", c.entry.last_file_offset);
      cli_json_null(&j, "error");
    } else {
      const char *ik = cli_index_kind(c.status);
      cli_json_object_begin(&j, "error");
      cli_json_string(&j, "name", vhdxlog_status_name(c.status));
      cli_json_u64(&j, "code", (uint64_t)c.status);
      cli_json_string(&j, "message", vhdxlog_status_string(c.status));
      if (ik && c.error.index != VHDXLOG_NO_INDEX) {
        cli_json_u64(&j, "index", c.error.index);
        cli_json_string(&j, "index_kind", ik);
      } else {
        cli_json_null(&j, "index");
      }
      cli_json_object_end(&j);
    }
    cli_json_object_end(&j);
  }
  cli_json_array_end(&j);

  if (vhdxlog_log_search(&l->log, &seq, err) != VHDXLOG_OK) {
    cli_json_null(&j, "sequence");
    cli_json_array_begin(&j, "descriptors");
    cli_json_array_end(&j);
    rc = -1;
  } else {
    cli_json_sequence(&j, "sequence", &seq);
    cli_json_array_begin(&j, "descriptors");
    st = vhdxlog_iter_init(&it, &l->log, &seq);
    while (st == VHDXLOG_OK) {
      st = vhdxlog_iter_next(&it, &d);
      if (st != VHDXLOG_OK)
        break;
      cli_json_object_begin(&j, NULL);
      cli_json_string(&j, "kind", kind_name(d.kind));
      cli_json_u64(&j, "file_offset", d.file_offset);
      cli_json_u64(&j, "length", d.length);
      cli_json_u64(&j, "entry_offset", d.entry_offset);
      cli_json_u64(&j, "index", d.index);
      if (d.kind == VHDXLOG_DESCRIPTOR_DATA)
        cli_json_u64(&j, "data_offset", d.data_offset);
      else
        cli_json_null(&j, "data_offset");
      cli_json_u64(&j, "sequence_number", d.sequence_number);
      cli_json_object_end(&j);
    }
    cli_json_array_end(&j);
    if (st != VHDXLOG_END) {
      err->status = st;
      err->cause = st;
      err->offset = it.entry_offset;
      err->index = VHDXLOG_NO_INDEX;
      rc = -1;
    }
  }
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
    if (args->json) {
      cli_json j;
      cli_json_init(&j, stdout);
      cli_json_document(&j, "dump", img.path);
      cli_json_plan(&j, &img);
      cli_json_null(&j, "log");
      cli_json_array_begin(&j, "candidates");
      cli_json_array_end(&j);
      cli_json_null(&j, "sequence");
      cli_json_array_begin(&j, "descriptors");
      cli_json_array_end(&j);
      cli_json_null(&j, "error");
      cli_json_string(&j, "message", img.message);
      cli_json_object_end(&j);
      cli_json_finish(&j);
    }
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
    cli_json j;
    cli_json_init(&j, stdout);
    cli_json_document(&j, "dump", img.path);
    cli_json_plan(&j, &img);
    cli_json_null(&j, "log");
    cli_json_array_begin(&j, "candidates");
    cli_json_array_end(&j);
    cli_json_null(&j, "sequence");
    cli_json_array_begin(&j, "descriptors");
    cli_json_array_end(&j);
    cli_json_error(&j, "error", &img.error, &img.loaded.image, img.load_errno);
    cli_json_null(&j, "message");
    cli_json_object_end(&j);
    cli_json_finish(&j);
  }
  if (img.status != VHDXLOG_OK)
    cli_image_report(stderr, &img);
  cli_image_close(&img); /* read-only: nothing to lose on close */
  return code;
}
