/* SPDX-License-Identifier: MIT */
/* Checksum repair (see repair.h). Offsets from docs/FORMAT.md. */
#include "repair.h"

#include <string.h>

#include "vhdx_builder.h"

#define SECTOR VTK_SECTOR
#define DESC_FIRST VTK_DESC_FIRST
#define DESC_NEXT VTK_DESC_NEXT

static vtk_repair_crc_fn crc32c = vtk_crc32c;

void vtk_repair_use_crc(vtk_repair_crc_fn fn) {
  crc32c = fn != NULL ? fn : vtk_crc32c;
}

/* Bytes, not memcmp: under a fuzzer every memcmp that differs costs a
 * libFuzzer hook, and most sectors tested here differ. */
static int sig4(const uint8_t *p, const char sig[4]) {
  return p[0] == (uint8_t)sig[0] && p[1] == (uint8_t)sig[1] &&
         p[2] == (uint8_t)sig[2] && p[3] == (uint8_t)sig[3];
}

static uint32_t crc_field_zeroed(const uint8_t *p, size_t n) {
  return vtk_crc32c_field_zeroed(crc32c, 0, p, n);
}

/* Where repair wrote, for the caller's mark: offsets from `base`. */
typedef struct marker {
  vtk_repair_mark_fn fn;
  void *ctx;
  const uint8_t *base;
} marker;

static void mark(const marker *m, const uint8_t *p, size_t n) {
  if (m->fn != NULL)
    m->fn(m->ctx, (uint64_t)(p - m->base), (uint64_t)(p - m->base) + n);
}

/* A log of `sectors` sectors at `log`. */
typedef struct log_span {
  uint8_t *log;
  uint32_t sectors;
} log_span;

/* Sector `i` of the entry that starts at log sector `first` (entries wrap
 * from the end of the log to its start). */
static uint8_t *entry_sector(const log_span *l, uint32_t first, uint32_t i) {
  return l->log + (size_t)((first + (uint64_t)i) % l->sectors) * SECTOR;
}

/* Descriptor sectors an entry needs for `count` descriptors. */
static uint64_t descriptor_sectors(uint32_t count) {
  if (count <= DESC_FIRST)
    return 1;
  return 1 + ((uint64_t)count - DESC_FIRST + DESC_NEXT - 1) / DESC_NEXT;
}

/* The 32 bytes of descriptor `i` of the entry at sector `first`. */
static uint8_t *descriptor(const log_span *l, uint32_t first, uint32_t i) {
  if (i < DESC_FIRST)
    return entry_sector(l, first, 0) + 64 + 32 * i;
  i -= DESC_FIRST;
  return entry_sector(l, first, 1 + i / DESC_NEXT) + 32 * (i % DESC_NEXT);
}

/* Copy the entry's SequenceNumber into every descriptor and data sector the
 * entry has room for (the data sector count comes from the "desc"
 * descriptors, as the format says). */
static void sync_sequence(const log_span *l, uint32_t first, uint32_t sectors) {
  const uint8_t *h = entry_sector(l, first, 0);
  uint64_t seq = vtk_get_le64(h + 16);
  uint32_t count = vtk_get_le32(h + 24);
  uint64_t dsec = descriptor_sectors(count);
  uint32_t i, data = 0;

  if (dsec > sectors)
    return; /* the entry cannot hold its descriptors: leave it */
  for (i = 0; i < count; i++) {
    uint8_t *d = descriptor(l, first, i);
    vtk_put_le64(d + 24, seq);
    if (sig4(d, "desc"))
      data++;
  }
  for (i = 0; i < data && dsec + i < sectors; i++) {
    uint8_t *s = entry_sector(l, first, (uint32_t)dsec + i);
    vtk_put_le32(s + 4, (uint32_t)(seq >> 32));
    vtk_put_le32(s + 4092, (uint32_t)seq);
  }
}

/* The marks of one entry: its sectors (wrapped) when the sequence edit may
 * touch them all, else its first 64 bytes. */
static void mark_entry(const marker *m, const log_span *l, uint32_t s,
                       uint32_t sectors, unsigned options) {
  uint8_t *h = l->log + (size_t)s * SECTOR;
  if ((options & VTK_REPAIR_ENTRY_SEQUENCE) == 0) {
    mark(m, h, 64);
  } else if (s + (uint64_t)sectors <= l->sectors) {
    mark(m, h, (size_t)sectors * SECTOR);
  } else {
    mark(m, h, (size_t)(l->sectors - s) * SECTOR);
    mark(m, l->log, (size_t)(s + sectors - l->sectors) * SECTOR);
  }
}

static size_t repair_log(const log_span *l, const uint8_t *guid,
                         unsigned options, const marker *m) {
  size_t edited = 0;
  uint32_t s, i;

  for (s = 0; s < l->sectors; s++) {
    uint8_t *h = l->log + (size_t)s * SECTOR;
    uint32_t length = vtk_get_le32(h + 8), sectors, crc;

    if (!sig4(h, "loge") || length == 0 || length % SECTOR != 0 ||
        length / SECTOR > l->sectors)
      continue;
    sectors = length / SECTOR;
    mark_entry(m, l, s, sectors, options);
    if ((options & VTK_REPAIR_ENTRY_GUID) != 0 && guid != NULL)
      memcpy(h + 32, guid, 16);
    if ((options & VTK_REPAIR_ENTRY_SEQUENCE) != 0)
      sync_sequence(l, s, sectors);
    edited++;
    if ((options & VTK_REPAIR_ENTRIES) == 0)
      continue;
    crc = crc_field_zeroed(h, SECTOR);
    for (i = 1; i < sectors; i++)
      crc = crc32c(crc, entry_sector(l, s, i), SECTOR);
    vtk_put_le32(h + 4, crc);
  }
  return edited;
}

size_t vtk_repair_log(uint8_t *log, size_t length, const uint8_t guid[16],
                      unsigned options) {
  marker m = {NULL, NULL, NULL};
  log_span l;
  if (log == NULL || length < SECTOR || length / SECTOR > UINT32_MAX)
    return 0;
  l.log = log;
  l.sectors = (uint32_t)(length / SECTOR);
  return repair_log(&l, guid, options, &m);
}

/* The log the header at `at` names, if it lies in the image. */
static int header_log(uint8_t *image, size_t size, uint32_t at, log_span *l) {
  const uint8_t *h = image + at;
  uint32_t length = vtk_get_le32(h + 68);
  uint64_t offset = vtk_get_le64(h + 72);

  if (!sig4(h, "head") || length == 0 || length % SECTOR != 0 ||
      offset < VTK_MIB || offset > size || length > size - offset)
    return 0;
  l->log = image + offset;
  l->sectors = length / SECTOR;
  return 1;
}

/* Step 3 of vtk_repair_image_marked(): the logs of both headers. */
static void repair_logs(uint8_t *image, size_t size, unsigned options,
                        const marker *m) {
  static const uint32_t headers[2] = {VTK_HEADER1, VTK_HEADER2};
  log_span logs[2];
  int have[2], h, current;

  /* The current header by the greater SequenceNumber (header 1 on a tie);
   * validity is not checked: this is repair, not validation. */
  current = vtk_get_le64(image + VTK_HEADER2 + 8) >
                    vtk_get_le64(image + VTK_HEADER1 + 8)
                ? 1
                : 0;
  for (h = 0; h < 2; h++)
    have[h] = header_log(image, size, headers[h], &logs[h]);
  for (h = 0; h < 2; h++) {
    int w = h == 0 ? 1 - current : current;
    const uint8_t *guid = image + headers[w] + 48;
    if (!have[w])
      continue;
    /* The same log under the same GUID needs one pass only. */
    if (h == 0 && have[1 - w] && logs[w].log == logs[1 - w].log &&
        logs[w].sectors == logs[1 - w].sectors &&
        memcmp(guid, image + headers[1 - w] + 48, 16) == 0)
      continue;
    repair_log(&logs[w], vtk_guid_is_zero(guid) ? NULL : guid, options, m);
  }
}

void vtk_repair_image_marked(uint8_t *image, size_t size, unsigned options,
                             vtk_repair_mark_fn fn, void *ctx) {
  static const struct {
    uint32_t at, size;
    unsigned option;
    char sig[5];
  } fields[4] = {{VTK_HEADER1, VTK_HEADER_SIZE, VTK_REPAIR_HEADERS, "head"},
                 {VTK_HEADER2, VTK_HEADER_SIZE, VTK_REPAIR_HEADERS, "head"},
                 {VTK_REGION1, VTK_REGION_SIZE, VTK_REPAIR_REGIONS, "regi"},
                 {VTK_REGION2, VTK_REGION_SIZE, VTK_REPAIR_REGIONS, "regi"}};
  marker m;
  int i;

  if (image == NULL || size < VTK_MIB)
    return;
  m.fn = fn;
  m.ctx = ctx;
  m.base = image;
  for (i = 0; i < 4; i++) {
    uint8_t *p = image + fields[i].at;
    if ((options & fields[i].option) != 0 && sig4(p, fields[i].sig)) {
      vtk_put_le32(p + 4, crc_field_zeroed(p, fields[i].size));
      mark(&m, p + 4, 4);
    }
  }
  if ((options & (VTK_REPAIR_ENTRIES | VTK_REPAIR_ENTRY_GUID |
                  VTK_REPAIR_ENTRY_SEQUENCE)) != 0)
    repair_logs(image, size, options, &m);
}

void vtk_repair_image(uint8_t *image, size_t size, unsigned options) {
  vtk_repair_image_marked(image, size, options, NULL, NULL);
}
