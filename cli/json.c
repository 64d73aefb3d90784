/* SPDX-License-Identifier: MIT */
/* Streaming JSON writer; see json.h. */
#include <string.h>

#include "json.h"

/*
 * Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there
 * are not one: overlong forms, surrogates and code points past U+10FFFF are
 * rejected (RFC 3629), so the output is always valid UTF-8.
 */
static int utf8_length(const unsigned char *s) {
  unsigned char c = s[0], lo = 0x80, hi = 0xBF;
  int n = c >= 0xC2 && c <= 0xDF   ? 2
          : c >= 0xE0 && c <= 0xEF ? 3
          : c >= 0xF0 && c <= 0xF4 ? 4
                                   : 0;
  int i;
  if (c == 0xE0)
    lo = 0xA0; /* overlong */
  else if (c == 0xED)
    hi = 0x9F; /* surrogates */
  else if (c == 0xF0)
    lo = 0x90; /* overlong */
  else if (c == 0xF4)
    hi = 0x8F; /* > U+10FFFF */
  if (n == 0 || s[1] < lo || s[1] > hi)
    return 0;
  for (i = 2; i < n; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  return n;
}

/* Characters with a two-character escape, and the letter after '\\'. */
static const char short_from[] = "\"\\\n\r\t\b\f";
static const char short_to[] = "\"\\nrtbf";

/* Write `str` as a quoted, escaped JSON string. */
static void write_string(FILE *out, const char *str) {
  /* The string is NUL-terminated, so reading up to 3 bytes past a lead
   * byte stops at the terminator: it fails the continuation test. */
  const unsigned char *s = (const unsigned char *)str;
  fputc('"', out);
  while (*s) {
    unsigned char c = *s;
    const char *e = strchr(short_from, c); /* c is not the terminator */
    int n = 1;
    if (e != NULL) {
      fputc('\\', out);
      fputc(short_to[e - short_from], out);
    } else if (c < 0x20 || c == 0x7F) {
      fprintf(out, "\\u%04x", (unsigned)c);
    } else if (c < 0x80) {
      fputc(c, out);
    } else if ((n = utf8_length(s)) == 0) {
      fputs("\\ufffd", out); /* invalid UTF-8: one byte replaced */
      n = 1;
    } else {
      fwrite(s, 1, (size_t)n, out);
    }
    s += n;
  }
  fputc('"', out);
}

void cli_json_init(cli_json *j, FILE *out) {
  j->out = out;
  j->depth = 0;
  j->empty[0] = 1;
  j->failed = 0;
}

static void indent(cli_json *j) {
  int i;
  for (i = 0; i < j->depth; i++)
    fputs("  ", j->out);
}

/* Separator, newline and indentation before a value, then its key. */
static void member(cli_json *j, const char *key) {
  if (j->depth > 0) {
    fputs(j->empty[j->depth] ? "\n" : ",\n", j->out);
    indent(j);
  } else if (!j->empty[0]) {
    /* A second top-level value would not be one JSON document. */
    j->failed = 1;
  }
  j->empty[j->depth] = 0;
  if (key) {
    write_string(j->out, key);
    fputs(": ", j->out);
  }
}

static void open_level(cli_json *j, const char *key, char c) {
  member(j, key);
  fputc(c, j->out);
  if (j->depth + 1 >= CLI_JSON_MAX_DEPTH) {
    j->failed = 1;
    return;
  }
  j->depth++;
  j->empty[j->depth] = 1;
}

static void close_level(cli_json *j, char c) {
  if (j->depth == 0) {
    j->failed = 1;
    return;
  }
  j->depth--;
  if (!j->empty[j->depth + 1]) {
    fputc('\n', j->out);
    indent(j);
  }
  fputc(c, j->out);
}

void cli_json_object_begin(cli_json *j, const char *key) {
  open_level(j, key, '{');
}
void cli_json_object_end(cli_json *j) { close_level(j, '}'); }
void cli_json_array_begin(cli_json *j, const char *key) {
  open_level(j, key, '[');
}
void cli_json_array_end(cli_json *j) { close_level(j, ']'); }

void cli_json_string(cli_json *j, const char *key, const char *value) {
  member(j, key);
  if (value)
    write_string(j->out, value);
  else
    fputs("null", j->out);
}

void cli_json_u64(cli_json *j, const char *key, uint64_t value) {
  member(j, key);
  fprintf(j->out, "%llu", (unsigned long long)value);
}

void cli_json_bool(cli_json *j, const char *key, int value) {
  member(j, key);
  fputs(value ? "true" : "false", j->out);
}

void cli_json_null(cli_json *j, const char *key) {
  member(j, key);
  fputs("null", j->out);
}

int cli_json_finish(cli_json *j) {
  fputc('\n', j->out);
  return (j->failed || j->depth != 0 || j->empty[0]) ? -1 : 0;
}
