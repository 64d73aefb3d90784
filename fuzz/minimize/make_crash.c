/* SPDX-License-Identifier: MIT */
/*
 * make_crash OUT [packed]: the large input minimize_test starts from,
 * written with the testkit (valid checksums throughout): GUID[16] then a
 * 1 MiB log (with "packed": a 4-byte zero prefix and the packed form of a
 * 4 MiB image, bytes past 1 MiB filled, whose dirty log it is)
 * holding an old entry, a 40-entry active sequence whose entries carry 0
 * to 7 data descriptors each, one entry with 200 zero descriptors, one
 * zero descriptor at 2 GiB (the planted bug's trigger) in the middle, and
 * sectors of noise. Only three entries and that descriptor are needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "packed.h"
#include "vhdx_builder.h"

#define ENTRIES 40u
#define TRIGGER 23u /* the entry with the descriptor at 2 GiB */
#define WIDE 31u    /* the entry with 200 zero descriptors */

static int write_packed(const char *name, const uint8_t *log,
                        const uint8_t guid[16]) {
  static const uint8_t prefix[4];
  vtk_image_spec spec;
  vtk_image img;
  uint8_t *packed;
  size_t n;
  vtk_image_spec_default(&spec);
  vtk_image_build(&img, &spec);
  vtk_image_put_log(&img, log, VTK_MIB, guid);
  if (rd_pack(img.data, (size_t)img.size, 0, &packed, &n) != 0 ||
      fuzz_write_file(name, prefix, 4, packed, n) != 0) {
    perror(name);
    return 1;
  }
  printf("%s: %zu bytes, packed image of %llu bytes\n", name, 4 + n,
         (unsigned long long)img.size);
  free(packed);
  vtk_image_free(&img);
  return 0;
}

int main(int argc, char **argv) {
  static vtk_desc descs[ENTRIES][210];
  static uint8_t log[VTK_MIB];
  vtk_entry e[ENTRIES], old;
  uint8_t guid[16];
  uint32_t i, k, at;
  if (argc < 2 || (argc == 3 && strcmp(argv[2], "packed") != 0) || argc > 3) {
    fprintf(stderr, "usage: make_crash OUT [packed]\n");
    return 2;
  }
  vtk_guid(guid, 7);
  for (i = 0; i < ENTRIES; i++) {
    uint32_t n = 0;
    if (i == WIDE)
      for (k = 0; k < 200; k++)
        descs[i][n++] =
            vtk_zero(4 * VTK_MIB + (uint64_t)k * VTK_SECTOR, VTK_SECTOR);
    for (k = 0; k < i % 8; k++)
      descs[i][n++] =
          vtk_data(8 * VTK_MIB + ((uint64_t)i * 8 + k) * VTK_SECTOR, i * 8 + k);
    if (i == TRIGGER)
      descs[i][n++] = vtk_zero(2048ull * VTK_MIB, VTK_SECTOR);
    e[i] = vtk_entry_make(100 + i, 8 * VTK_SECTOR, guid, 4 * VTK_MIB,
                          16 * VTK_MIB, descs[i], n);
  }
  /* An older entry at the start, then the sequence from sector 8. */
  old = e[0];
  old.sequence_number = 5;
  old.tail = 0;
  vtk_log_write_entry(log, VTK_MIB, 0, &old);
  at = vtk_log_write_run(log, VTK_MIB, 8 * VTK_SECTOR, e, ENTRIES);
  /* Noise after the sequence: no entry, no checksum to keep. */
  vtk_pattern(log + at, 12 * VTK_SECTOR, 99);
  if (argc == 3)
    return write_packed(argv[1], log, guid);
  if (fuzz_write_file(argv[1], guid, 16, log, sizeof log) != 0) {
    perror(argv[1]);
    return 1;
  }
  printf("%s: %u bytes, sequence of %u entries ends at log offset %u\n",
         argv[1], (unsigned)(16 + sizeof log), ENTRIES, at);
  return 0;
}
