/* SPDX-License-Identifier: MIT */
/*
 * The fuzz targets' input layouts (fuzz/README.md's table): a prefix of
 * fields, then a raw log or a packed image (packed.h), and the checksum
 * repair through the test side's repair.h (one call, mz_repair_image).
 */
#include "minimize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packed.h"
#include "repair.h"
#include "vhdx_builder.h"

#define HEADER1 10u   /* header 1 in the packed form */
#define HEADER2 4106u /* header 2 */
#define MAX_LOG (64u * MZ_MIB)
#define LOG_CUT MZ_MIB /* the log targets read at most this much */

static const mz_layout known[] = {
    {"fuzz_entry", 52, 0},        /* GUID, options, 8 offsets */
    {"fuzz_search", 16, 0},       /* GUID */
    {"fuzz_log_repaired", 17, 0}, /* options, GUID */
    {"fuzz_image", 20, 1},        /* file size, window offset and size */
    {"fuzz_replay_diff", 4, 1},   /* crash and overlay picks */
    {"fuzz_replay_diff_repaired", 4, 1},
    {"fuzz_load", 4, 1},
};

int mz_layout_find(const char *name, mz_layout *out) {
  size_t i;
  unsigned long n;
  char kind[16], end;
  for (i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(name, known[i].name) == 0) {
      *out = known[i];
      return 0;
    }
  if (sscanf(name, "%15[a-z]:%lu%c", kind, &n, &end) != 2 || n > 4096)
    return -1;
  if (strcmp(kind, "log") != 0 && strcmp(kind, "packed") != 0)
    return -1;
  snprintf(out->name, sizeof out->name, "%s", name);
  out->prefix = n;
  out->packed = kind[0] == 'p';
  return 0;
}

/* The packed image's current header (the valid-looking one with the
 * greater number, header 1 on a tie), as packed offset; 0: none. */
static size_t current_header(const uint8_t *pk, size_t pn) {
  int h1 = pn >= HEADER1 + 80 && memcmp(pk + HEADER1, "head", 4) == 0;
  int h2 = pn >= HEADER2 + 80 && memcmp(pk + HEADER2, "head", 4) == 0;
  if (h1 && h2)
    return vtk_get_le64(pk + HEADER2 + 8) > vtk_get_le64(pk + HEADER1 + 8)
               ? HEADER2
               : HEADER1;
  return h1 ? HEADER1 : h2 ? HEADER2 : 0;
}

/* Where the current header's log sits in the tail; -1 if it does not
 * start inside the tail or is no sane log. */
static int log_place(const mz_buf *in, const mz_layout *l, size_t *hdr,
                     size_t *at, size_t *len) {
  const uint8_t *pk = in->p + l->prefix;
  size_t pn = in->n - l->prefix;
  uint64_t off, ll;
  *hdr = current_header(pk, pn);
  if (*hdr == 0)
    return -1;
  ll = vtk_get_le32(pk + *hdr + 68);
  off = vtk_get_le64(pk + *hdr + 72);
  if (ll == 0 || ll % MZ_SECTOR != 0 || ll > MAX_LOG || off < MZ_MIB ||
      off - MZ_MIB >= pn - RD_PACKED_FIXED || pn <= RD_PACKED_FIXED)
    return -1;
  *at = l->prefix + RD_PACKED_FIXED + (size_t)(off - MZ_MIB);
  *len = (size_t)ll;
  return 0;
}

int mz_log_get(const mz_layout *l, const mz_buf *in, mz_buf *log) {
  size_t at, len, hdr, have;
  if (in->n <= l->prefix)
    return -1;
  if (!l->packed) {
    have = in->n - l->prefix < LOG_CUT ? in->n - l->prefix : LOG_CUT;
    len = (have + MZ_SECTOR - 1) / MZ_SECTOR * MZ_SECTOR;
  } else {
    if (log_place(in, l, &hdr, &at, &len) != 0)
      return -1;
    have = in->n - at < len ? in->n - at : len;
  }
  free(log->p);
  log->p = calloc(len, 1);
  log->n = log->p != NULL ? len : 0;
  if (log->p == NULL)
    return -1;
  memcpy(log->p, in->p + (l->packed ? at : l->prefix), have);
  return 0;
}

/* The last non-zero byte's end, from `from` on (0 when all zero). */
static size_t used_end(const uint8_t *p, size_t n) {
  while (n > 0 && p[n - 1] == 0)
    n--;
  return n;
}

int mz_log_put(const mz_layout *l, const mz_buf *in, const uint8_t *log,
               size_t len, mz_buf *out) {
  size_t at, ll, hdr, n, keep;
  if (!l->packed) {
    /* Trailing zeros of the last sector are padding the target adds. */
    keep = used_end(log, len);
    if (keep + MZ_SECTOR <= len)
      keep = len - MZ_SECTOR + 1;
    if (mz_buf_set(out, in->p, l->prefix) != 0)
      return -1;
    n = l->prefix + keep;
    out->p = realloc(out->p, n);
    if (out->p == NULL)
      return -1;
    memcpy(out->p + l->prefix, log, keep);
    out->n = n;
    return 0;
  }
  if (log_place(in, l, &hdr, &at, &ll) != 0 || len > ll)
    return -1;
  /* Same file size unless the new log writes past the tail's end. */
  n = in->n;
  if (at + used_end(log, len) > n)
    n = at + used_end(log, len);
  if (mz_buf_set(out, in->p, in->n) != 0)
    return -1;
  out->p = realloc(out->p, n);
  if (out->p == NULL)
    return -1;
  memset(out->p + in->n, 0, n - in->n);
  out->n = n;
  memset(out->p + at, 0, (n - at < ll ? n - at : ll));
  memcpy(out->p + at, log, n - at < len ? n - at : len);
  return 0;
}

/* The one call into the test side's repair: every checksum of `image`. */
static void mz_repair_image(uint8_t *image, size_t size) {
  vtk_repair_image(image, size, VTK_REPAIR_ALL_CHECKSUMS);
}

int mz_repair(const mz_layout *l, mz_buf *in) {
  uint8_t *img;
  size_t size, n;
  unsigned opt;
  if (in->n <= l->prefix)
    return 0;
  n = in->n - l->prefix;
  if (!l->packed) {
    /* A bare log: put it in an image whose header 1 names it. */
    if (n > LOG_CUT)
      n = LOG_CUT;
    size = MZ_MIB + (n + MZ_SECTOR - 1) / MZ_SECTOR * MZ_SECTOR;
    img = calloc(size, 1);
    if (img == NULL)
      return -1;
    memcpy(img + 65536, "head", 4);
    vtk_put_le32(img + 65536 + 68, (uint32_t)(size - MZ_MIB));
    vtk_put_le64(img + 65536 + 72, MZ_MIB);
    memcpy(img + MZ_MIB, in->p + l->prefix, n);
    mz_repair_image(img, size);
    memcpy(in->p + l->prefix, img + MZ_MIB, n);
    free(img);
    return 0;
  }
  if (rd_unpack(in->p + l->prefix, n, 256u * MZ_MIB, &img, &size, &opt) != 0)
    return -1;
  mz_repair_image(img, size);
  /* Back into the packed form: what repair may change is kept there. */
  {
    static const size_t piece[][3] = {{HEADER1, 65536, 4096},
                                      {HEADER2, 131072, 4096},
                                      {8202, 196608, RD_PACKED_REGION_KEPT},
                                      {9226, 262144, RD_PACKED_REGION_KEPT}};
    size_t i;
    uint8_t *pk = in->p + l->prefix;
    for (i = 0; i < 4; i++)
      if (n > piece[i][0])
        memcpy(pk + piece[i][0], img + piece[i][1],
               n - piece[i][0] < piece[i][2] ? n - piece[i][0] : piece[i][2]);
    if (n > RD_PACKED_FIXED)
      memcpy(pk + RD_PACKED_FIXED, img + MZ_MIB, n - RD_PACKED_FIXED);
  }
  free(img);
  return 0;
}

/* Packed candidates: k 0 cuts the tail's trailing zeros in whole 64 KiB
 * units into `extra` (same file size), 1 all of them, 2 clears `extra`,
 * 3 sets LogLength to 1 MiB, 4 moves the log to 1 MiB, 5 zeros the tail
 * outside the log. */
static int packed_candidate(const mz_layout *l, mz_buf *out, unsigned k) {
  uint8_t *pk = out->p + l->prefix;
  size_t pn = out->n - l->prefix, hdr, at, ll, end, cut;
  int has_log = log_place(out, l, &hdr, &at, &ll) == 0;
  if (pn <= RD_PACKED_FIXED && k < 2)
    return 0;
  switch (k) {
  case 0:
  case 1:
    end =
        RD_PACKED_FIXED + used_end(pk + RD_PACKED_FIXED, pn - RD_PACKED_FIXED);
    cut = (pn - end) / RD_PACKED_EXTRA_UNIT;
    if (cut > 255u - pk[1])
      cut = 255u - pk[1];
    if (k == 1) {
      out->n = l->prefix + end;
      return end < pn;
    }
    pk[1] = (uint8_t)(pk[1] + cut);
    out->n -= cut * RD_PACKED_EXTRA_UNIT;
    return cut > 0;
  case 2:
    if (pn < 2 || pk[1] == 0)
      return 0;
    pk[1] = 0;
    return 1;
  case 3:
    if (!has_log || ll <= MZ_MIB)
      return 0;
    vtk_put_le32(pk + hdr + 68, MZ_MIB);
    return 1;
  case 4:
    if (!has_log || at == l->prefix + RD_PACKED_FIXED)
      return 0;
    end = at + ll < out->n ? at + ll : out->n;
    memmove(out->p + l->prefix + RD_PACKED_FIXED, out->p + at, end - at);
    memset(out->p + l->prefix + RD_PACKED_FIXED + (end - at), 0,
           end - (l->prefix + RD_PACKED_FIXED + (end - at)));
    vtk_put_le64(pk + hdr + 72, MZ_MIB);
    return 1;
  case 5:
    if (!has_log)
      return 0;
    end = at + ll < out->n ? at + ll : out->n;
    memset(out->p + l->prefix + RD_PACKED_FIXED, 0,
           at - (l->prefix + RD_PACKED_FIXED));
    memset(out->p + end, 0, out->n - end);
    return 1;
  }
  return -1;
}

int mz_shrink_candidate(const mz_layout *l, const mz_buf *in, unsigned k,
                        mz_buf *out) {
  size_t end;
  if (in->n <= l->prefix)
    return -1;
  if (mz_buf_set(out, in->p, in->n) != 0)
    return -1;
  if (l->packed)
    return packed_candidate(l, out, k);
  end = l->prefix + used_end(in->p + l->prefix, in->n - l->prefix);
  switch (k) {
  case 0: /* the log targets ignore what follows 1 MiB of log */
    if (in->n - l->prefix <= LOG_CUT)
      return 0;
    out->n = l->prefix + LOG_CUT;
    return 1;
  case 1: /* trailing zeros, even whole sectors: the log gets shorter */
    out->n = end > l->prefix ? end : l->prefix + 1;
    return out->n < in->n;
  }
  return -1;
}
