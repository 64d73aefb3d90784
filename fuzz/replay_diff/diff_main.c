/* SPDX-License-Identifier: MIT */
/*
 * vhdxlog-diff: run the differential replayer (replay_diff.h) on files.
 *
 *   vhdxlog-diff [OPTIONS] [--whole|--fuzz-image|--packed] PATH...
 *
 * Prints "PATH: ok" or "PATH: <first difference>" per input; a folder means
 * every file in it (recursively, in name order, dot files skipped). A mode
 * option applies to the paths after it, so one command can mix kinds:
 *   --whole       the file is a whole VHDX image (default)
 *   --fuzz-image  the file is a fuzz_image input (file_size u64 | window
 *                 u64 | window size u32 | packed image, not repaired;
 *                 zeros up to file_size; file_size 0 = the packed size)
 *   --packed      the file is a fuzz_replay_diff_repaired input (a 4-byte
 *                 prefix, then a packed image, packed.h): expanded and
 *                 checksum-repaired as that target does
 *   --packed-raw  the file is a fuzz_replay_diff input (the same, not
 *                 repaired)
 * Other options (anywhere before the paths they should affect):
 *   -q                  print differences only
 *   --max-size BYTES    replayed size cap (default 64 MiB; K/M/G suffixes)
 *   --crash-points N    crash points per input (default 64)
 *   --overlay-calls N   overlay reads per input (default 256)
 *   --fuzz-mode         the fuzz targets' checks (replay_diff.h, fuzz mode)
 *                       with the picks of each --packed/--packed-raw input's
 *                       prefix (zeros for other inputs), instead of every
 *                       check in full
 *   --expand-to DIR     also write the whole image each input stands for
 *   --pack-to DIR       also write each input's image as an input of the
 *                       differential fuzz targets (a zero prefix, then the
 *                       packed image, options 0)
 * Exit status: 0 all agree, 1 some
 * input differs, 2 usage or read errors (or memory ran out) and no
 * difference.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "packed.h"
#include "repair.h"
#include "replay_diff.h"
#include "vhdx_builder.h"

/* fuzz_image cuts its tail here (fuzz/fuzz_image.c MAX_TAIL). */
#define FUZZ_IMAGE_MAX_TAIL (15u * 1048576u)
#define FUZZ_IMAGE_PREFIX 20u

enum mode { MODE_WHOLE, MODE_FUZZ_IMAGE, MODE_PACKED, MODE_PACKED_RAW };

/* The differential targets' prefix (replay_target.h). */
#define TARGET_PREFIX REPLAY_DIFF_FUZZ_PREFIX
static const uint8_t zero_prefix[TARGET_PREFIX];

typedef struct totals {
  unsigned long ok, differ, skipped, errors;
} totals;

typedef struct options {
  replay_diff_limits lim;
  replay_diff_workspace *ws; /* kept across inputs: see replay_diff.h */
  enum mode mode;
  int quiet;
  int fuzz_mode;
  const char *expand_to;
  const char *pack_to;
  totals t;
} options;

static void usage(FILE *out) {
  fputs("usage: vhdxlog-diff [-q] [--max-size BYTES] [--crash-points N]\n"
        "                    [--overlay-calls N] [--fuzz-mode]\n"
        "                    [--expand-to DIR] [--pack-to DIR]\n"
        "                    [--whole|--fuzz-image|--packed|--packed-raw]\n"
        "                    PATH...\n"
        "Compares the library's replay of each image with the reference\n"
        "model, re-runs, crash recovery and the overlay; prints\n"
        "\"PATH: ok\" or \"PATH: <first difference>\". Exit 1 if any\n"
        "differs.\n",
        out);
}

/* DIR/basename(PATH): `prefix` (TARGET_PREFIX bytes, or NULL: none), then
 * `data`. */
static int write_file(const char *dir, const char *path, const uint8_t *prefix,
                      const uint8_t *data, size_t size) {
  const char *base = strrchr(path, '/');
  char out[4096];
  base = base != NULL ? base + 1 : path;
  if ((size_t)snprintf(out, sizeof out, "%s/%s", dir, base) >= sizeof out)
    return -1;
  return fuzz_write_file(out, prefix, prefix != NULL ? TARGET_PREFIX : 0, data,
                         size);
}

/*
 * The whole image a fuzz_image input stands for: its packed image expanded
 * (the tail cut at 15 MiB, as the target cuts it), then cut or padded with
 * zeros to file_size. Returns 1 (skip) when that file would exceed the size
 * cap.
 */
static int from_fuzz_image(const uint8_t *in, size_t n, uint64_t max_size,
                           uint8_t **image, size_t *size, char *why,
                           size_t why_size) {
  uint8_t prefix[FUZZ_IMAGE_PREFIX];
  const uint8_t *packed = in + (n < FUZZ_IMAGE_PREFIX ? n : FUZZ_IMAGE_PREFIX);
  size_t len = n > FUZZ_IMAGE_PREFIX ? n - FUZZ_IMAGE_PREFIX : 0;
  uint8_t *whole = NULL;
  size_t whole_size = 0;
  unsigned opt;
  uint64_t file_size;

  memset(prefix, 0, sizeof prefix);
  memcpy(prefix, in, n < sizeof prefix ? n : sizeof prefix);
  if (len > RD_PACKED_FIXED + FUZZ_IMAGE_MAX_TAIL)
    len = RD_PACKED_FIXED + FUZZ_IMAGE_MAX_TAIL;
  file_size = vtk_get_le64(prefix);
  if (file_size == 0)
    file_size = rd_unpacked_size(packed, len);
  if (file_size > max_size || file_size > (uint64_t)SIZE_MAX ||
      rd_unpacked_size(packed, len) > max_size) {
    snprintf(why, why_size,
             "skipped: fuzz_image file size 0x%llx above the size cap",
             (unsigned long long)file_size);
    return 1;
  }
  *image = calloc(1, file_size > 0 ? (size_t)file_size : 1);
  if (*image == NULL ||
      rd_unpack(packed, len, max_size, &whole, &whole_size, &opt) != 0) {
    free(*image);
    *image = NULL;
    snprintf(why, why_size, "error: out of memory");
    return -1;
  }
  memcpy(*image, whole,
         whole_size < file_size ? whole_size : (size_t)file_size);
  free(whole);
  *size = (size_t)file_size;
  return 0;
}

/* One input file (fuzz_walk()'s callback; ctx: the options). */
static int run_one(const char *path, void *ctx) {
  options *o = ctx;
  uint8_t *data = NULL, *image = NULL;
  size_t size = 0, image_size = 0;
  uint8_t prefix[TARGET_PREFIX] = {0, 0, 0, 0};
  replay_diff_limits lim = o->lim;
  char why[1024];
  int rc = 0;

  why[0] = '\0';
  if (fuzz_read_file(path, &data, &size) != 0) {
    printf("%s: error: cannot read: %s\n", path, strerror(errno));
    o->t.errors++;
    return 0;
  }
  switch (o->mode) {
  case MODE_WHOLE:
    image = data;
    image_size = size;
    data = NULL;
    break;
  case MODE_FUZZ_IMAGE:
    rc = from_fuzz_image(data, size, o->lim.max_size, &image, &image_size, why,
                         sizeof why);
    break;
  case MODE_PACKED:
  case MODE_PACKED_RAW: {
    size_t skip = size < TARGET_PREFIX ? size : TARGET_PREFIX;
    unsigned opt;
    memcpy(prefix, data, skip);
    if (rd_unpack(data + skip, size - skip, o->lim.max_size, &image,
                  &image_size, &opt) != 0) {
      snprintf(why, sizeof why, "skipped: packed image above the size cap");
      rc = 1;
    } else if (o->mode == MODE_PACKED) {
      vtk_repair_image(image, image_size, rd_packed_repair_options(opt));
    }
    break;
  }
  }
  if (o->fuzz_mode) {
    replay_diff_fuzz_limits(prefix, sizeof prefix, &lim);
    lim.max_size = o->lim.max_size;
  }
  free(data);
  if (rc != 0) {
    printf("%s: %s\n", path, why);
    if (rc > 0)
      o->t.skipped++;
    else
      o->t.errors++;
    free(image);
    return 0;
  }

  if (o->expand_to != NULL &&
      write_file(o->expand_to, path, NULL, image, image_size) != 0) {
    printf("%s: error: cannot write into %s\n", path, o->expand_to);
    o->t.errors++;
  }
  if (o->pack_to != NULL) {
    uint8_t *packed;
    size_t packed_size;
    if (rd_pack(image, image_size, 0, &packed, &packed_size) != 0) {
      printf("%s: note: not packed (under 1 MiB)\n", path);
    } else {
      if (write_file(o->pack_to, path, zero_prefix, packed, packed_size) != 0) {
        printf("%s: error: cannot write into %s\n", path, o->pack_to);
        o->t.errors++;
      }
      free(packed);
    }
  }

  rc = replay_diff_ex(image, image_size, &lim, o->ws, why, sizeof why);
  free(image);
  if (rc == 0) {
    o->t.ok++;
    if (!o->quiet)
      printf("%s: ok\n", path);
  } else if (rc > 0) {
    o->t.differ++;
    printf("%s: %s\n", path, why);
  } else {
    o->t.errors++;
    printf("%s: error: %s\n", path, why);
  }
  fflush(stdout);
  return 0;
}

/* Bytes with an optional K, M or G suffix. */
static int parse_size(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v;
  errno = 0;
  v = strtoull(s, &end, 0);
  if (errno != 0 || end == s)
    return -1;
  if (*end == 'K' || *end == 'k')
    v <<= 10, end++;
  else if (*end == 'M' || *end == 'm')
    v <<= 20, end++;
  else if (*end == 'G' || *end == 'g')
    v <<= 30, end++;
  if (*end != '\0')
    return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  options o;
  int i, paths = 0;

  memset(&o, 0, sizeof o);
  replay_diff_default_limits(&o.lim);
  o.mode = MODE_WHOLE;
  o.ws = replay_diff_workspace_new();
  if (o.ws == NULL) {
    fprintf(stderr, "vhdxlog-diff: out of memory\n");
    return 2;
  }
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    uint64_t v;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "-q") == 0) {
      o.quiet = 1;
    } else if (strcmp(a, "--whole") == 0) {
      o.mode = MODE_WHOLE;
    } else if (strcmp(a, "--fuzz-image") == 0) {
      o.mode = MODE_FUZZ_IMAGE;
    } else if (strcmp(a, "--packed") == 0) {
      o.mode = MODE_PACKED;
    } else if (strcmp(a, "--packed-raw") == 0) {
      o.mode = MODE_PACKED_RAW;
    } else if (strcmp(a, "--fuzz-mode") == 0) {
      o.fuzz_mode = 1;
    } else if (i + 1 < argc && (strcmp(a, "--max-size") == 0 ||
                                strcmp(a, "--crash-points") == 0 ||
                                strcmp(a, "--overlay-calls") == 0)) {
      if (parse_size(argv[++i], &v) != 0 || (a[2] != 'm' && v > UINT32_MAX)) {
        fprintf(stderr, "vhdxlog-diff: bad value for %s: %s\n", a, argv[i]);
        return 2;
      }
      if (a[2] == 'm')
        o.lim.max_size = v;
      else if (a[2] == 'c')
        o.lim.max_crash_points = (uint32_t)v;
      else
        o.lim.overlay_calls = (uint32_t)v;
    } else if (i + 1 < argc && strcmp(a, "--expand-to") == 0) {
      o.expand_to = argv[++i];
    } else if (i + 1 < argc && strcmp(a, "--pack-to") == 0) {
      o.pack_to = argv[++i];
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "vhdxlog-diff: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else {
      o.t.errors += (unsigned long)fuzz_walk(a, run_one, &o);
      paths++;
    }
  }
  if (paths == 0) {
    usage(stderr);
    return 2;
  }
  replay_diff_workspace_free(o.ws);
  fflush(stdout);
  fprintf(stderr, "vhdxlog-diff: %lu ok, %lu differ, %lu skipped, %lu errors\n",
          o.t.ok, o.t.differ, o.t.skipped, o.t.errors);
  if (o.t.differ > 0)
    return 1;
  return o.t.errors > 0 ? 2 : 0;
}
