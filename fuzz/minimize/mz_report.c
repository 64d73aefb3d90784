/* SPDX-License-Identifier: MIT */
/*
 * A crash report's signature: its kind (the sanitizer's error, UBSan's
 * runtime error, libFuzzer's deadly signal, plus the fuzz checks' own
 * message) with digits masked, since addresses, sizes and offsets change
 * as the input shrinks; and the top stack frame inside the project (source
 * under the root), function and file without the line, since the same bug
 * may be reached through another line of the same function.
 */
#define _POSIX_C_SOURCE 200809L
#include "minimize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct mz_symbolizer {
  FILE *to, *from;
  pid_t pid;
};

mz_symbolizer *mz_symbolizer_new(const char *binary) {
  const char *path = getenv("VHDXLOG_SYMBOLIZER");
  char obj[4200], line[512];
  int in[2], out[2];
  mz_symbolizer *s;
  if (path == NULL)
    path = "llvm-symbolizer";
  if (pipe(in) != 0)
    return NULL;
  if (pipe(out) != 0) {
    close(in[0]);
    close(in[1]);
    return NULL;
  }
  snprintf(obj, sizeof obj, "--obj=%s", binary);
  s = calloc(1, sizeof *s);
  if (s != NULL && (s->pid = fork()) == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    execlp(path, path, obj, "--inlining", "--functions=linkage", (char *)0);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  if (s == NULL || s->pid < 0 || (s->to = fdopen(in[1], "w")) == NULL ||
      (s->from = fdopen(out[0], "r")) == NULL) {
    free(s);
    return NULL;
  }
  /* A first query proves it runs. */
  if (fprintf(s->to, "0x0\n") < 0 || fflush(s->to) != 0 ||
      fgets(line, sizeof line, s->from) == NULL) {
    mz_symbolizer_free(s);
    return NULL;
  }
  while (fgets(line, sizeof line, s->from) != NULL && line[0] != '\n')
    ;
  return s;
}

void mz_symbolizer_free(mz_symbolizer *s) {
  if (s == NULL)
    return;
  if (s->to != NULL)
    fclose(s->to);
  if (s->from != NULL)
    fclose(s->from);
  if (s->pid > 0) /* it ends at the end of its input */
    waitpid(s->pid, NULL, 0);
  free(s);
}

int mz_symbolize(mz_symbolizer *s, unsigned long long off,
                 int (*cb)(void *ctx, const char *func, const char *file),
                 void *ctx) {
  char func[512], file[1024];
  int done = 0;
  if (fprintf(s->to, "0x%llx\n", off) < 0 || fflush(s->to) != 0)
    return -1;
  /* Pairs of lines (function, file:line:col), then an empty line. */
  while (fgets(func, sizeof func, s->from) != NULL && func[0] != '\n') {
    if (fgets(file, sizeof file, s->from) == NULL)
      return -1;
    func[strcspn(func, "\n")] = '\0';
    file[strcspn(file, "\n")] = '\0';
    if (!done)
      done = cb(ctx, func, file);
  }
  return 0;
}

/* Copy `src` up to the end of its line, each number (decimal or 0x hex)
 * as one '#': sizes, addresses and offsets change as the input shrinks. */
static void copy_masked(char *dst, size_t cap, const char *src) {
  size_t i = 0;
  while (*src && *src != '\n' && i + 1 < cap) {
    if (*src < '0' || *src > '9') {
      dst[i++] = *src++;
      continue;
    }
    if (src[0] == '0' && (src[1] == 'x' || src[1] == 'X'))
      src += 2 + strspn(src + 2, "0123456789abcdefABCDEF");
    else
      src += strspn(src, "0123456789");
    dst[i++] = '#';
  }
  dst[i] = '\0';
}

typedef struct frame_ctx {
  const char *root;
  size_t root_len;
  char *out;
  size_t cap;
} frame_ctx;

/* A frame inside the root: "function path/relative/to/root.c". */
static int take_frame(void *vctx, const char *func, const char *file) {
  frame_ctx *c = vctx;
  size_t n;
  if (strncmp(file, c->root, c->root_len) != 0 || file[c->root_len] != '/')
    return 0;
  file += c->root_len + 1;
  n = strcspn(file, ":");
  snprintf(c->out, c->cap, "%s %.*s", func, (int)n, file);
  return 1;
}

/* One stack frame line: symbolized ("in FUNC FILE:L:C") or raw
 * ("(MODULE+0xOFF)"). 1 when it is the project's top frame. */
static int frame_line(const char *line, mz_symbolizer *sym, const char *binary,
                      frame_ctx *c) {
  const char *in = strstr(line, " in "), *mod;
  char func[512], file[1024], pat[4200];
  unsigned long long off;
  if (in != NULL && sscanf(in + 4, "%511s %1023s", func, file) == 2 &&
      take_frame(c, func, file))
    return 1;
  snprintf(pat, sizeof pat, "(%s+0x", binary);
  mod = strstr(line, pat);
  if (sym == NULL || mod == NULL ||
      sscanf(mod + strlen(pat), "%llx", &off) != 1)
    return 0;
  c->out[0] = '\0';
  mz_symbolize(sym, off, take_frame, c);
  return c->out[0] != '\0';
}

static void append(mz_sig *sig, const char *text) {
  size_t n = strlen(sig->kind);
  snprintf(sig->kind + n, sizeof sig->kind - n, "%s%s", n ? " / " : "", text);
}

/* The kind a line names, if any: "ERROR: AddressSanitizer:
 * heap-buffer-overflow on ..." gives the sanitizer and the first word,
 * "ERROR: libFuzzer: ..." and "runtime error: ..." the whole rest. */
static int line_kind(const char *line, char *text, size_t cap) {
  const char *e = strstr(line, "ERROR: "), *s;
  if (e != NULL && (s = strstr(e, "Sanitizer: ")) != NULL) {
    s += 11;
    snprintf(text, cap, "%.*s", (int)(s - e - 7 + strcspn(s, " ")), e + 7);
    return 1;
  }
  if (e != NULL && strstr(e, "libFuzzer: ") != NULL) {
    snprintf(text, cap, "%s", e + 7);
    return 1;
  }
  if ((e = strstr(line, "runtime error: ")) != NULL) {
    snprintf(text, cap, "%s", e);
    return 1;
  }
  return 0;
}

void mz_report_parse(const char *report, mz_symbolizer *sym, const char *binary,
                     const char *root, mz_sig *sig) {
  char line[1024], text[320], msg[320] = "";
  const char *p = report, *e;
  int in_stack = 0, stack_done = 0;
  frame_ctx fc;
  fc.root = root;
  fc.root_len = strlen(root);
  fc.out = sig->frame;
  fc.cap = sizeof sig->frame;
  while (*p) {
    size_t n = strcspn(p, "\n");
    snprintf(line, sizeof line, "%.*s", (int)(n < 1023 ? n : 1023), p);
    p += n + (p[n] == '\n');
    if (!sig->crashed && line_kind(line, text, sizeof text)) {
      copy_masked(text, sizeof text, text);
      append(sig, text);
      sig->crashed = 1;
    } else if (!msg[0] && (e = strstr(line, "invariant violated: ")) != NULL) {
      copy_masked(msg, sizeof msg, e);
    } else if (!msg[0] && strncmp(line, "replay_diff: ", 13) == 0) {
      copy_masked(msg, sizeof msg, line);
    }
    /* The first stack only: the access, not the allocation. */
    if (!stack_done && !sig->frame[0]) {
      const char *t = line + strspn(line, " \t");
      if (*t == '#' && t[1] >= '0' && t[1] <= '9') {
        in_stack = 1;
        frame_line(t, sym, binary, &fc);
      } else if (in_stack) {
        stack_done = 1;
      }
    }
  }
  if (msg[0])
    append(sig, msg);
}

int mz_sig_same(const mz_sig *a, const mz_sig *b) {
  return a->crashed == b->crashed && strcmp(a->kind, b->kind) == 0 &&
         strcmp(a->frame, b->frame) == 0;
}
