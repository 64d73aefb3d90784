/* SPDX-License-Identifier: MIT */
/*
 * A tiny streaming JSON writer: pretty-printed, with string escaping that
 * always yields valid JSON (control characters escaped, invalid UTF-8
 * replaced by U+FFFD). Members take a key inside objects and NULL inside
 * arrays or at top level.
 */
#ifndef VHDXLOG_CLI_JSON_H
#define VHDXLOG_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_MAX_DEPTH 32

typedef struct cli_json {
  FILE *out;
  int depth;
  int empty[CLI_JSON_MAX_DEPTH]; /* 1: nothing written yet at this level */
  int failed;                    /* nesting misuse */
} cli_json;

void cli_json_init(cli_json *j, FILE *out);
void cli_json_object_begin(cli_json *j, const char *key);
void cli_json_object_end(cli_json *j);
void cli_json_array_begin(cli_json *j, const char *key);
void cli_json_array_end(cli_json *j);
/* value NULL writes null. */
void cli_json_string(cli_json *j, const char *key, const char *value);
void cli_json_u64(cli_json *j, const char *key, uint64_t value);
void cli_json_bool(cli_json *j, const char *key, int value);
void cli_json_null(cli_json *j, const char *key);
/* Ends the document with a newline. 0 if it is complete and well nested. */
int cli_json_finish(cli_json *j);

#endif
