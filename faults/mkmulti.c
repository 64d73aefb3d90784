/* SPDX-License-Identifier: MIT */
/*
 * mkmulti: writes a dirty VHDX image with a multi-entry log for the fault
 * and power-cut drivers, built with the testkit (the one test-side writer),
 * and the image a correct replay leaves (the testkit's model), so that the
 * drivers compare against an expectation that does not come from vhdxlog.
 *
 * usage: mkmulti OUT EXPECTED [wrap]
 *   8 MiB file, log at 1 MiB (2 MiB long), BAT at 3 MiB, metadata at 4 MiB.
 *   Six entries, 328 data sectors and 9 zero descriptors in all: runs of
 *   contiguous sectors (coalesced writes), scattered sectors, zero ranges
 *   that undo earlier entries' data, data inside earlier zero ranges, and
 *   writes past the end of the file (the replay grows it to 10 MiB).
 *   "wrap": the sequence starts 40 sectors before the end of the log, so
 *   entries and data sectors wrap to its start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhdx_builder.h"

#define S VTK_SECTOR
#define M ((uint64_t)VTK_MIB)
#define ENTRIES 6
#define MAX_DESCS 80
#define LOG_LEN (2u * VTK_MIB)

static vtk_desc descs[ENTRIES][MAX_DESCS];
static size_t ndesc[ENTRIES];

static void add(int e, vtk_desc d) {
  if (ndesc[e] >= MAX_DESCS) {
    fprintf(stderr, "mkmulti: too many descriptors\n");
    exit(1);
  }
  descs[e][ndesc[e]++] = d;
}

/* `n` data sectors from `off`, seeds from `seed`. */
static void run(int e, uint64_t off, unsigned n, uint32_t seed) {
  unsigned i;
  for (i = 0; i < n; i++)
    add(e, vtk_data(off + (uint64_t)i * S, seed + i));
}

static void fill(void) {
  unsigned i;
  /* 0: a long run in the payload, a few BAT and metadata sectors. */
  run(0, 5 * M, 64, 1000);
  run(0, 3 * M, 4, 1100);
  add(0, vtk_zero(4 * M, 16 * S));
  add(0, vtk_data(4 * M + 8 * S, 1200)); /* inside the zeroed range */
  /* 1: scattered sectors every other 4 KiB, a zero range over part of 0's
   * run, then data back inside it. */
  for (i = 0; i < 40; i++)
    add(1, vtk_data(6 * M + (uint64_t)i * 2 * S, 2000 + i));
  add(1, vtk_zero(5 * M + 16 * S, 32 * S));
  run(1, 5 * M + 20 * S, 4, 2100);
  /* 2: past the end of the 8 MiB file (grows it), and a big zero range. */
  run(2, 9 * M, 48, 3000);
  add(2, vtk_zero(7 * M, 256 * 1024));
  add(2, vtk_data(7 * M + 64 * S, 3100));
  /* 3: overwrites 0's run and 1's scattered sectors. */
  run(3, 5 * M + 8 * S, 24, 4000);
  for (i = 0; i < 20; i++)
    add(3, vtk_data(6 * M + (uint64_t)i * 4 * S + S, 4100 + i));
  add(3, vtk_zero(9 * M + 40 * S, 16 * S)); /* undoes part of entry 2 */
  /* 4: metadata area and a zero range ending past the end of the file. */
  run(4, 4 * M + 32 * S, 40, 5000);
  add(4, vtk_zero(9 * M + 200 * S, 64 * S));
  add(4, vtk_zero(3 * M + 2 * S, S));
  run(4, 6 * M + 200 * S, 30, 5100);
  /* 5: the head: a short run, zero descriptors at both ends. */
  add(5, vtk_zero(5 * M, S));
  run(5, 7 * M + 100 * S, 52, 6000);
  add(5, vtk_zero(7 * M + 151 * S, S));
  add(5, vtk_zero(8 * M - S, 2 * S));
}

static int save(const char *path, const vtk_image *img) {
  FILE *f = fopen(path, "wb");
  return f != NULL && fwrite(img->data, 1, (size_t)img->size, f) == img->size &&
         fclose(f) == 0;
}

int main(int argc, char **argv) {
  vtk_image_spec spec;
  vtk_image img, want;
  vtk_entry e[ENTRIES];
  uint8_t guid[16], *log;
  uint32_t start = 0, data = 0;
  int i, wrap;

  if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "wrap") != 0)) {
    fprintf(stderr, "usage: mkmulti OUT EXPECTED [wrap]\n");
    return 2;
  }
  wrap = argc == 4;
  fill();
  vtk_image_spec_default(&spec);
  spec.file_size = 8 * M;
  spec.log_length = LOG_LEN;
  spec.bat_offset = 3 * M;
  spec.metadata_offset = 4 * M;
  spec.fill_seed = 77;
  vtk_image_build(&img, &spec);
  vtk_guid(guid, wrap ? 91 : 90);
  if (wrap)
    start = LOG_LEN - 40 * S;
  memset(e, 0, sizeof e);
  for (i = 0; i < ENTRIES; i++) {
    e[i].sequence_number = 500 + (uint64_t)i;
    e[i].tail = start;
    memcpy(e[i].log_guid, guid, 16);
    e[i].flushed_file_offset = 8 * M;
    e[i].last_file_offset = i == ENTRIES - 1 ? 10 * M : 8 * M;
    e[i].descs = descs[i];
    e[i].desc_count = (uint32_t)ndesc[i];
    data += vtk_entry_data_count(&e[i]);
  }
  log = calloc(1, LOG_LEN);
  if (log == NULL)
    return 1;
  vtk_log_write_run(log, LOG_LEN, start, e, ENTRIES);
  vtk_image_put_log(&img, log, LOG_LEN, guid);
  vtk_model_replay(&img, e, ENTRIES, &want);
  fprintf(stderr, "mkmulti: %d entries, %u data sectors\n", ENTRIES, data);

  if (!save(argv[1], &img) || !save(argv[2], &want))
    return 1;
  free(log);
  vtk_image_free(&img);
  vtk_image_free(&want);
  return 0;
}
