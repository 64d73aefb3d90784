/* SPDX-License-Identifier: MIT */
/* Exit codes and error reporting shared by the commands. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "guid.h"
#include "json.h"

int cli_exit_for_status(vhdxlog_status status) {
  if (status == VHDXLOG_OK)
    return CLI_EXIT_OK;
  /* Caller errors and I/O failures (the loader reports a failed
   * allocation as E_IO) say nothing about the file's validity. */
  if (status == VHDXLOG_E_ARGUMENT || status == VHDXLOG_E_IO ||
      status == VHDXLOG_E_RESOURCE)
    return CLI_EXIT_ERROR;
  return CLI_EXIT_CORRUPT;
}

static int is_entry_rule(vhdxlog_status s) {
  return s >= VHDXLOG_E_ENTRY_SIGNATURE && s <= VHDXLOG_E_ENTRY_CHECKSUM;
}

/* "file", "log", "file size" or NULL: what error.offset of status `s` is (an
 * offset in the file or the log, or the file's size). */
static const char *offset_kind(vhdxlog_status s) {
  /* These two carry the file size (RULES.md "Image" 1, "Plan" 2). */
  if (s == VHDXLOG_E_FILE_TOO_SMALL || s == VHDXLOG_E_FILE_TRUNCATED)
    return "file size";
  if (s >= VHDXLOG_E_FILE_SIGNATURE && s <= VHDXLOG_E_REGION_OVERLAP)
    return "file";
  if (is_entry_rule(s) || s == VHDXLOG_E_LOG_NO_SEQUENCE ||
      s == VHDXLOG_E_DESCRIPTOR_TARGET || s == VHDXLOG_E_OFFSET_LIMIT)
    return "log";
  return NULL;
}

/* Which statuses carry an index is the library's status list
 * (vhdxlog_status_index_kind()); only the words are ours. */
const char *cli_index_kind(vhdxlog_status s) {
  vhdxlog_index_kind k = vhdxlog_status_index_kind(s);
  return k == VHDXLOG_INDEX_DESCRIPTOR     ? "descriptor"
         : k == VHDXLOG_INDEX_DATA_SECTOR  ? "data sector"
         : k == VHDXLOG_INDEX_REGION_ENTRY ? "region entry"
                                           : NULL;
}

static const char *safe_string(const char *s) { return s ? s : "?"; }

/* The entry field a VHDXLOG_E_OFFSET_LIMIT cause stands for. */
static const char *cli_limit_field(vhdxlog_status cause) {
  return cause == VHDXLOG_E_DESCRIPTOR_OFFSET      ? "FileOffset"
         : cause == VHDXLOG_E_ENTRY_FLUSHED_OFFSET ? "FlushedFileOffset"
         : cause == VHDXLOG_E_ENTRY_LAST_OFFSET    ? "LastFileOffset"
                                                   : NULL;
}

/* snprintf at buf + *n; once the text is cut short, nothing more is added. */
static void append(char *buf, size_t size, size_t *n, const char *fmt, ...) {
  va_list ap;
  int r;
  if (*n >= size)
    return;
  va_start(ap, fmt);
  r = vsnprintf(buf + *n, size - *n, fmt, ap);
  va_end(ap);
  *n = (r < 0 || (size_t)r >= size - *n) ? size : *n + (size_t)r;
}

/* "<string> (<NAME>)" */
static void append_rule(char *buf, size_t size, size_t *n, vhdxlog_status s) {
  append(buf, size, n, "%s (%s)", safe_string(vhdxlog_status_string(s)),
         safe_string(vhdxlog_status_name(s)));
}

/* The status whose offset and index kinds err->offset and err->index have:
 * the cause's where the error names a candidate entry or a field. */
static vhdxlog_status where_status(const vhdxlog_error *err) {
  if (err->status == VHDXLOG_E_LOG_NO_SEQUENCE)
    return is_entry_rule(err->cause) ? err->cause : VHDXLOG_E_LOG_NO_SEQUENCE;
  return err->status == VHDXLOG_E_OFFSET_LIMIT ? err->cause : err->status;
}

/* Append " at <kind> offset 0x.. [(file offset 0x..)][, <index kind> N]"
 * for status s with offset/index. */
static void append_where(char *buf, size_t size, size_t *n, vhdxlog_status s,
                         uint64_t offset, uint32_t index,
                         const vhdxlog_image *image) {
  const char *okind = offset_kind(s);
  const char *ikind = cli_index_kind(s);
  if (okind && strcmp(okind, "file size") == 0) {
    append(buf, size, n, ": file size 0x%" PRIx64, offset);
    return;
  }
  if (okind)
    append(buf, size, n, " at %s offset 0x%" PRIx64, okind, offset);
  /* Locate the entry in the file too: a hex editor wants that. */
  if (okind && image && okind[0] == 'l' && image->log_length > 0)
    append(buf, size, n, " (file offset 0x%" PRIx64 ")",
           image->log_offset + offset);
  if (ikind && index != VHDXLOG_NO_INDEX)
    append(buf, size, n, ", %s %" PRIu32, ikind, index);
}

void cli_format_error(char *buf, size_t size, const vhdxlog_error *err,
                      const vhdxlog_image *image) {
  size_t n = 0;
  if (size == 0)
    return;
  buf[0] = '\0';
  append_rule(buf, size, &n, err->status);
  if (err->status == VHDXLOG_E_LOG_NO_SEQUENCE) {
    /* The search names the most recent candidate and why it failed. */
    if (err->cause == VHDXLOG_E_LOG_NO_SEQUENCE) {
      append(buf, size, &n, ": no entry with the log's GUID found");
      return;
    }
    if (err->cause == VHDXLOG_OK) {
      append(buf, size, &n,
             ": every candidate entry is valid but no sequence is "
             "complete; most recent candidate");
    } else {
      append(buf, size, &n, ": most recent candidate: ");
      append_rule(buf, size, &n, err->cause);
    }
  } else if (err->status == VHDXLOG_E_OFFSET_LIMIT) {
    /* error.cause names the field whose value is past the bound. Only the
     * field: the cause's own description (an alignment rule) is not what
     * failed. */
    const char *field = cli_limit_field(err->cause);
    append(buf, size, &n, ": field %s (%s)", field ? field : "?",
           safe_string(vhdxlog_status_name(err->cause)));
  }
  append_where(buf, size, &n, where_status(err), err->offset, err->index,
               image);
}

void cli_print_error(FILE *f, const char *path, const vhdxlog_error *err,
                     const vhdxlog_image *image, int sys_errno) {
  char buf[512];
  cli_format_error(buf, sizeof buf, err, image);
  fprintf(f, "%s: %s: %s: %s", CLI_PROGRAM, path,
          cli_exit_for_status(err->status) == CLI_EXIT_CORRUPT ? "corrupt"
                                                               : "error",
          buf);
  if ((err->status == VHDXLOG_E_IO || err->status == VHDXLOG_E_RESOURCE) &&
      sys_errno != 0)
    fprintf(f, ": %s", strerror(sys_errno));
  fputc('\n', f);
}

void cli_json_document(cli_json *j, const char *command, const char *path) {
  cli_json_object_begin(j, NULL);
  cli_json_string(j, "format", CLI_JSON_FORMAT);
  cli_json_u64(j, "version", CLI_JSON_VERSION);
  cli_json_string(j, "command", command);
  cli_json_string(j, "file", path);
}

void cli_json_rule(cli_json *j, vhdxlog_status s) {
  cli_json_string(j, "name", vhdxlog_status_name(s));
  cli_json_u64(j, "code", (uint64_t)s);
  cli_json_string(j, "message", vhdxlog_status_string(s));
}

void cli_json_index(cli_json *j, vhdxlog_status s, uint32_t index) {
  const char *ikind = cli_index_kind(s);
  if (ikind && index != VHDXLOG_NO_INDEX) {
    cli_json_u64(j, "index", index);
    cli_json_string(j, "index_kind", ikind);
  } else {
    cli_json_null(j, "index");
  }
}

void cli_json_error(cli_json *j, const char *key, const vhdxlog_error *err,
                    const vhdxlog_image *image, int sys_errno) {
  char buf[512];
  vhdxlog_status where;
  const char *okind;
  int has_cause;
  if (!err) {
    cli_json_null(j, key);
    return;
  }
  where = where_status(err);
  okind = offset_kind(where);
  /* Offset and index belong to the cause: the candidate entry, or the
   * field past the bound. */
  has_cause = err->status == VHDXLOG_E_LOG_NO_SEQUENCE ||
              err->status == VHDXLOG_E_OFFSET_LIMIT;
  cli_format_error(buf, sizeof buf, err, image);
  cli_json_object_begin(j, key);
  cli_json_rule(j, err->status);
  cli_json_string(j, "text", buf);
  if (has_cause) {
    cli_json_object_begin(j, "cause");
    cli_json_rule(j, err->cause);
    if (err->status == VHDXLOG_E_OFFSET_LIMIT)
      cli_json_string(j, "field", cli_limit_field(err->cause));
  }
  cli_json_u64(j, "offset", err->offset);
  cli_json_string(j, "offset_kind", okind);
  if (okind && okind[0] == 'l' && image && image->log_length > 0)
    cli_json_u64(j, "file_offset", image->log_offset + err->offset);
  cli_json_index(j, where, err->index);
  if (has_cause)
    cli_json_object_end(j);
  cli_json_string(j, "system_error", sys_errno ? strerror(sys_errno) : NULL);
  cli_json_object_end(j);
}

void cli_json_guid(cli_json *j, const char *key, const uint8_t g[16]) {
  char buf[CLI_GUID_TEXT_SIZE];
  cli_guid_format(g, buf);
  cli_json_string(j, key, buf);
}

void cli_json_log(cli_json *j, const vhdxlog_image *im) {
  cli_json_object_begin(j, "log");
  cli_json_string(j, "state",
                  im->log_state == VHDXLOG_LOG_DIRTY ? "dirty" : "clean");
  cli_json_u64(j, "offset", im->log_offset);
  cli_json_u64(j, "length", im->log_length);
  cli_json_guid(j, "guid", im->log_guid);
  cli_json_object_end(j);
}

void cli_json_sequence(cli_json *j, const char *key,
                       const vhdxlog_sequence *seq) {
  cli_json_object_begin(j, key);
  cli_json_u64(j, "tail_offset", seq->tail_offset);
  cli_json_u64(j, "head_offset", seq->head_offset);
  cli_json_u64(j, "entry_count", seq->entry_count);
  cli_json_u64(j, "length", seq->length);
  cli_json_u64(j, "tail_sequence_number", seq->tail_sequence_number);
  cli_json_u64(j, "head_sequence_number", seq->head_sequence_number);
  cli_json_u64(j, "flushed_file_offset", seq->flushed_file_offset);
  cli_json_u64(j, "last_file_offset", seq->last_file_offset);
  cli_json_u64(j, "descriptor_count", seq->descriptor_count);
  cli_json_u64(j, "max_write_end", seq->max_write_end);
  cli_json_object_end(j);
}

void cli_print_sequence(FILE *f, const vhdxlog_sequence *seq) {
  fprintf(f,
          "  tail:              log offset 0x%" PRIx32 " (seq %" PRIu64 ")\n",
          seq->tail_offset, seq->tail_sequence_number);
  fprintf(f,
          "  head:              log offset 0x%" PRIx32 " (seq %" PRIu64 ")\n",
          seq->head_offset, seq->head_sequence_number);
  fprintf(f, "  entries:           %" PRIu32 " (%" PRIu32 " bytes)\n",
          seq->entry_count, seq->length);
  fprintf(f, "  descriptors:       %" PRIu64 "\n", seq->descriptor_count);
  fprintf(f, "  FlushedFileOffset: 0x%" PRIx64 "\n", seq->flushed_file_offset);
  fprintf(f, "  LastFileOffset:    0x%" PRIx64 "\n", seq->last_file_offset);
  fprintf(f, "  furthest write:    0x%" PRIx64 "\n", seq->max_write_end);
}
