/* SPDX-License-Identifier: MIT */
/* Names, descriptions and offset/index kinds of status codes: the words
 * the CLI prints, from the one list in vhdxlog.h. */
#include "vhdxlog.h"

#include <stddef.h>

typedef struct status_text {
  vhdxlog_status status;
  const char *name;
  const char *text;
  vhdxlog_offset_kind offset_kind;
  vhdxlog_index_kind index_kind;
} status_text;

static const status_text status_texts[] = {
#define STATUS_ROW(name, value, offset_kind, index_kind, text)                 \
  {name, #name, text, VHDXLOG_OFFSET_##offset_kind, VHDXLOG_INDEX_##index_kind},
    VHDXLOG_STATUS_LIST(STATUS_ROW)
#undef STATUS_ROW
};

static const status_text *find_status(vhdxlog_status status) {
  size_t i;
  for (i = 0; i < sizeof status_texts / sizeof status_texts[0]; i++) {
    if (status_texts[i].status == status) {
      return &status_texts[i];
    }
  }
  return NULL;
}

const char *vhdxlog_status_string(vhdxlog_status status) {
  const status_text *t = find_status(status);
  return t != NULL ? t->text : "unknown status";
}

const char *vhdxlog_status_name(vhdxlog_status status) {
  const status_text *t = find_status(status);
  return t != NULL ? t->name : "VHDXLOG_UNKNOWN";
}

vhdxlog_offset_kind vhdxlog_status_offset_kind(vhdxlog_status status) {
  const status_text *t = find_status(status);
  return t != NULL ? t->offset_kind : VHDXLOG_OFFSET_NONE;
}

vhdxlog_index_kind vhdxlog_status_index_kind(vhdxlog_status status) {
  const status_text *t = find_status(status);
  return t != NULL ? t->index_kind : VHDXLOG_INDEX_NONE;
}
