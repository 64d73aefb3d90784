/* SPDX-License-Identifier: MIT */
/*
 * CTest: rd_mutate_packed() on packed images whose log entries carry
 * hostile numbers (EntryLength and DescriptorCount near 2^32, Tail at the
 * end of the 32-bit range), each mutation on an exactly sized heap copy so
 * that a sanitizer or valgrind sees any access outside it. The offsets the
 * mutator computes from those numbers wrap a 32-bit size_t if summed
 * unchecked (the i386 build once passed memmove a length of -4096), so this
 * test matters most in 32-bit builds (-m32, the i686 port stage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packed.h"
#include "packed_mutate.h"
#include "vhdx_builder.h"

#define SECTOR 4096u
#define LOG_SECTORS 8u

static const uint32_t lengths[] = {0xFFFFF000u, 0xFFFFE000u, 0x80000000u,
                                   2 * SECTOR,  SECTOR,      0};
static const uint32_t counts[] = {0xFFFFFFFFu, 0xFFFFFF80u, 0x80000000u,
                                  127,         1,           0};

int main(int argc, char **argv) {
  /* Seeds to try (argument; default 5000, a few seconds under qemu-user). */
  uint32_t seeds = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 5000;
  size_t size = RD_PACKED_FIXED + LOG_SECTORS * SECTOR + 100;
  uint8_t *image = calloc(1, size);
  unsigned long runs = 0, changed = 0;
  uint32_t seed;
  unsigned h;
  if (image == NULL)
    return 1;
  memcpy(image + 2, "vhdxfile", 8);
  for (h = 0; h < 2; h++) { /* both headers: log at 1 MiB, 8 sectors */
    uint8_t *hd = image + (h == 0 ? 10 : 4106);
    memcpy(hd, "head", 4);
    vtk_put_le64(hd + 8, h + 1); /* SequenceNumber: header 2 current */
    vtk_put_le32(hd + 68, LOG_SECTORS * SECTOR);
    vtk_put_le64(hd + 72, 1048576u);
  }
  for (seed = 1; seed <= seeds; seed++) {
    uint8_t *copy = malloc(size);
    unsigned s;
    if (copy == NULL)
      return 1;
    memcpy(copy, image, size);
    /* Every sector an entry, its numbers picked by the seed. */
    for (s = 0; s < LOG_SECTORS; s++) {
      uint8_t *e = copy + RD_PACKED_FIXED + s * SECTOR;
      memcpy(e, "loge", 4);
      vtk_put_le32(e + 8, lengths[(seed + s) % 6]);
      vtk_put_le32(e + 12, (seed & 1) ? 0xFFFFF000u : s * SECTOR);
      vtk_put_le64(e + 16, (seed & 2) ? UINT64_MAX : 0);
      vtk_put_le32(e + 24, counts[(seed / 6 + s) % 6]);
    }
    changed += (unsigned long)rd_mutate_packed(copy, size, seed);
    /* And again on the result, as libFuzzer chains mutations. */
    changed += (unsigned long)rd_mutate_packed(copy, size, seed ^ 0x9E3779B9u);
    runs += 2;
    free(copy);
  }
  free(image);
  printf("packed_mutate_test: %lu mutations, %lu changed a field\n", runs,
         changed);
  return changed > 0 ? 0 : 1;
}
