/* SPDX-License-Identifier: MIT */
/*
 * repair_test: testkit's checksum repair (testkit/repair.h), which the
 * repairing fuzz targets rely on to get past the CRC-32C checks, judged by
 * the library: an image whose headers, region tables and entries were all
 * broken (checksums, GUIDs, descriptor numbers) parses and validates again
 * after the repair; each option repairs only its own part; the marked
 * ranges hold every byte that changed; the same with fuzz/support's
 * faster CRC-32C, which must agree with the library's. Without this, a wrong
 * repair would only show as inputs the library and the model both reject.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repair.h"
#include "vhdx_builder.h"
#include "vhdxlog.h"

#define MIB 1048576u
#define LOG_AT MIB

static int failures;

static void expect(int ok, const char *what) {
  if (!ok && failures++ < 20)
    fprintf(stderr, "repair_test: %s\n", what);
}

static const uint8_t guid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* A dirty 4 MiB image: three entries (a wrap, 130 descriptors in the middle
 * one) in a 1 MiB log at 1 MiB, header 2 current. */
static void build(vtk_image *img) {
  static vtk_desc many[130];
  vtk_desc one = vtk_data(2u * MIB, 7);
  vtk_entry e[3];
  vtk_image_spec s;
  uint8_t *log = calloc(1, MIB);
  uint32_t i;
  if (log == NULL)
    exit(2);
  for (i = 0; i < 130; i++)
    many[i] = i % 2 ? vtk_zero(3u * MIB, 4096) : vtk_data(2u * MIB, i);
  for (i = 0; i < 3; i++)
    e[i] = vtk_entry_make(10 + i, MIB - 4096, guid, 4u * MIB, 4u * MIB,
                          i == 1 ? many : &one, i == 1 ? 130 : 1);
  vtk_log_write_run(log, MIB, MIB - 4096, e, 3);
  vtk_image_spec_default(&s);
  vtk_image_build(img, &s);
  vtk_image_put_log(img, log, MIB, guid);
  free(log);
}

/* Image parse + search; VHDXLOG_OK when both pass, else the failure. */
static vhdxlog_status judge(const vtk_image *img, uint32_t *entries) {
  vhdxlog_image parsed;
  vhdxlog_log log;
  vhdxlog_sequence seq;
  vhdxlog_error err;
  vhdxlog_status st = vhdxlog_image_parse(img->data, (size_t)img->size,
                                          img->size, &parsed, &err);
  if (st != VHDXLOG_OK)
    return st;
  st = vhdxlog_log_init(&log, img->data + parsed.log_offset, parsed.log_length,
                        parsed.log_guid);
  if (st == VHDXLOG_OK)
    st = vhdxlog_log_search(&log, &seq, &err);
  if (st == VHDXLOG_OK && entries != NULL)
    *entries = seq.entry_count;
  return st;
}

/* Changed bytes must lie in the marked ranges. */
typedef struct marks {
  uint64_t r[64][2];
  size_t n;
} marks;

static void on_mark(void *ctx, uint64_t off, uint64_t end) {
  marks *m = ctx;
  expect(m->n < 64, "more than 64 marks");
  if (m->n < 64) {
    m->r[m->n][0] = off;
    m->r[m->n][1] = end;
    m->n++;
  }
}

static void check_marks(const vtk_image *before, const vtk_image *after,
                        const marks *m) {
  uint64_t i;
  size_t k;
  for (i = 0; i < after->size; i++) {
    if (before->data[i] == after->data[i])
      continue;
    for (k = 0; k < m->n; k++)
      if (i >= m->r[k][0] && i < m->r[k][1])
        break;
    if (k == m->n) {
      expect(0, "a changed byte outside the marked ranges");
      return;
    }
  }
}

/* The repairs, with whichever CRC-32C the repair uses now. */
static void repairs(void) {
  vtk_image good, img, before;
  uint8_t *log;
  uint32_t entries = 0;
  marks m;
  int h;

  build(&good);
  expect(judge(&good, &entries) == VHDXLOG_OK && entries == 3, "built image");

  /* Every checksum broken, entry GUIDs and descriptor numbers too. */
  vtk_image_copy(&img, &good);
  log = img.data + LOG_AT;
  for (h = 0; h < 2; h++) {
    vtk_header(&img, h)[4] ^= 0x55;
    vtk_region_table(&img, h)[5] ^= 0x55;
  }
  log[MIB - 4096 + 32] ^= 1;         /* the wrapped entry's LogGuid */
  log[MIB - 4096 + 64 + 24] ^= 1;    /* ... its descriptor's number */
  log[4096 + 64 + 32 * 3 + 24] ^= 1; /* the 130-descriptor entry's */
  log[4096 + 2 * 4096 + 4] ^= 0x0F;  /* ... its first data sector's */
  expect(judge(&img, NULL) != VHDXLOG_OK, "broken image still valid");

  /* Checksums alone cannot mend GUIDs and numbers. */
  vtk_image_copy(&before, &img);
  vtk_repair_image(before.data, (size_t)before.size, VTK_REPAIR_ALL_CHECKSUMS);
  expect(judge(&before, &entries) != VHDXLOG_OK || entries != 3,
         "checksums alone repaired GUIDs and numbers");
  vtk_image_free(&before);

  /* Everything, marked. */
  vtk_image_copy(&before, &img);
  memset(&m, 0, sizeof m);
  vtk_repair_image_marked(img.data, (size_t)img.size,
                          VTK_REPAIR_ALL_CHECKSUMS | VTK_REPAIR_ENTRY_GUID |
                              VTK_REPAIR_ENTRY_SEQUENCE,
                          on_mark, &m);
  expect(judge(&img, &entries) == VHDXLOG_OK && entries == 3,
         "repaired image invalid");
  expect(memcmp(img.data, good.data, (size_t)good.size) == 0,
         "repair differs from the image as built");
  check_marks(&before, &img, &m);
  vtk_image_free(&before);
  vtk_image_free(&img);

  /* Each checksum option alone: only its own structure. */
  for (h = 0; h < 3; h++) {
    static const unsigned opt[3] = {VTK_REPAIR_HEADERS, VTK_REPAIR_REGIONS,
                                    VTK_REPAIR_ENTRIES};
    vtk_image_copy(&before, &good);
    vtk_header(&before, 0)[4] ^= 1;
    vtk_region_table(&before, 0)[4] ^= 1;
    before.data[LOG_AT + 4096 + 4] ^= 1;
    before.data[LOG_AT + 4096 + 32] ^= 1; /* a GUID: marked, not seq */
    vtk_image_copy(&img, &before);
    memset(&m, 0, sizeof m);
    vtk_repair_image_marked(before.data, (size_t)before.size,
                            opt[h] | VTK_REPAIR_ENTRY_GUID, on_mark, &m);
    check_marks(&img, &before, &m);
    vtk_image_free(&img);
    expect((memcmp(vtk_header(&before, 0), vtk_header(&good, 0), 8) == 0) ==
               (h == 0),
           "header checksum");
    expect((memcmp(vtk_region_table(&before, 0), vtk_region_table(&good, 0),
                   8) == 0) == (h == 1),
           "region table checksum");
    expect((before.data[LOG_AT + 4096 + 4] == good.data[LOG_AT + 4096 + 4]) ==
               (h == 2),
           "entry checksum");
    vtk_image_free(&before);
  }

  /* A bare log: the same edits as inside an image. */
  vtk_image_copy(&img, &good);
  log = img.data + LOG_AT;
  log[4096 + 4] ^= 1;
  log[4096 + 32] ^= 1;
  expect(vtk_repair_log(log, MIB, guid,
                        VTK_REPAIR_ENTRIES | VTK_REPAIR_ENTRY_GUID) == 3,
         "bare log: entries edited");
  expect(memcmp(img.data, good.data, (size_t)good.size) == 0, "bare log");
  /* Hostile lengths are refused, not read past. */
  expect(vtk_repair_log(log, 100, guid, VTK_REPAIR_ENTRIES) == 0, "short log");
  vtk_image_free(&img);
  vtk_image_free(&good);
}

int main(void) {
  repairs();
  /* The fuzz targets repair with the library's CRC-32C (fast): the same
   * repairs, judged the same way. */
  vtk_repair_use_crc(vhdxlog_crc32c);
  repairs();
  if (failures != 0) {
    fprintf(stderr, "repair_test: %d failures\n", failures);
    return 1;
  }
  printf("repair_test: ok\n");
  return 0;
}
