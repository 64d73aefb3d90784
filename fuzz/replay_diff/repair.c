/* SPDX-License-Identifier: MIT */
/*
 * Checksum repair of whole images (see repair.h). Field offsets from the
 * format digest (shared/vhdx-log-spec.md), encoded here on purpose rather
 * than taken from lib/ or oracle/.
 */
#include "repair.h"

#include <string.h>

#include "zero_run.h"
#include "rd_le.h"

#define SECTOR 4096u
#define MIB 1048576u
#define HEADER1 65536u
#define HEADER2 131072u
#define HEADER_SIZE 4096u
#define REGION1 196608u
#define REGION2 262144u
#define REGION_SIZE 65536u
#define DESC_FIRST 126u /* descriptors in the first descriptor sector */
#define DESC_NEXT 128u  /* in each further one */

#if (defined(__x86_64__) || defined(__i386__)) &&                              \
    (defined(__GNUC__) || defined(__clang__))
#define RD_CRC_HW 1
#endif

void rd_crc_init_sliced(rd_crc_table *table) {
  uint32_t i, c;
  int k;
  table->hw = 0;
  for (i = 0; i < 256; i++) {
    c = i;
    for (k = 0; k < 8; k++)
      c = (c >> 1) ^ (c & 1u ? 0x82F63B78u : 0u);
    table->t[0][i] = c;
  }
  for (i = 0; i < 256; i++)
    for (k = 1; k < 8; k++)
      table->t[k][i] =
          (table->t[k - 1][i] >> 8) ^ table->t[0][table->t[k - 1][i] & 0xFFu];
}

void rd_crc_init(rd_crc_table *table) {
#ifdef RD_CRC_HW
  if (__builtin_cpu_supports("sse4.2")) {
    table->hw = 1; /* the tables are not used */
    return;
  }
#endif
  rd_crc_init_sliced(table);
}

/* Bytes that are not a zero run: SSE4.2's CRC32 instruction where the CPU
 * has it (the same register update as one table step per byte; the repair
 * only has to be right, the library checks it), else slicing-by-8. */
#ifdef RD_CRC_HW
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const uint8_t *p, size_t n) {
#if defined(__x86_64__)
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    c = __builtin_ia32_crc32di(c, w);
    p += 8;
    n -= 8;
  }
  crc = (uint32_t)c;
#else /* i386: 4 bytes at a time */
  while (n >= 4) {
    uint32_t w;
    memcpy(&w, p, 4);
    crc = __builtin_ia32_crc32si(crc, w);
    p += 4;
    n -= 4;
  }
#endif
  /* Not `while (n-- > 0)`: its last test wraps n below zero, which UBSan's
   * unsigned-integer-overflow check (OSS-Fuzz's UBSan build) reports. */
  for (; n > 0; n--)
    crc = __builtin_ia32_crc32qi(crc, *p++);
  return crc;
}
#endif

/* Slicing-by-8 over `n` bytes. */
static uint32_t crc_sliced(const rd_crc_table *table, uint32_t crc,
                           const uint8_t *p, size_t n) {
  while (n >= 8) {
    uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                         (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    crc = table->t[7][lo & 0xFFu] ^ table->t[6][(lo >> 8) & 0xFFu] ^
          table->t[5][(lo >> 16) & 0xFFu] ^ table->t[4][lo >> 24] ^
          table->t[3][p[4]] ^ table->t[2][p[5]] ^ table->t[1][p[6]] ^
          table->t[0][p[7]];
    p += 8;
    n -= 8;
  }
  for (; n > 0; n--) /* see crc_hw */
    crc = (crc >> 8) ^ table->t[0][(crc ^ *p++) & 0xFFu];
  return crc;
}

static uint64_t load64(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

uint32_t rd_crc32c(const rd_crc_table *table, uint32_t crc, const void *data,
                   size_t size) {
  const uint8_t *p = data;
  size_t i = 0;
  crc = ~crc;
  zr_check_span(p, size);
  while (i < size) {
    /* A run of zeros (most of an image) in one step. */
    size_t z = i + zr_zero_run(p + i, size - i), e;
    if (z - i >= 64) {
      crc = zr_crc_zeros(crc, z - i);
      i = z;
      continue;
    }
    /* Else up to the next zero word (or the end), 8 bytes at a time: at
     * least 8 bytes, or the rest. */
    e = z;
    while (e + 8 <= size && load64(p + e) != 0)
      e += 8;
    if (e + 8 > size)
      e = size;
#ifdef RD_CRC_HW
    if (table->hw)
      crc = crc_hw(crc, p + i, e - i);
    else
#endif
      crc = crc_sliced(table, crc, p + i, e - i);
    i = e;
  }
  return ~crc;
}

/* CRC-32C of `n` bytes at `p` with bytes 4..7 counted as zero (n >= 8). */
static uint32_t crc_field_zeroed(const rd_crc_table *t, const uint8_t *p,
                                 size_t n) {
  static const uint8_t zeros[4] = {0, 0, 0, 0};
  uint32_t crc = rd_crc32c(t, 0, p, 4);
  crc = rd_crc32c(t, crc, zeros, 4);
  return rd_crc32c(t, crc, p + 8, n - 8);
}

static int is_zero(const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (p[i] != 0)
      return 0;
  return 1;
}

/* A log inside the image: `sectors` sectors at `log`. */
typedef struct rd_log {
  uint8_t *log;
  uint32_t sectors;
} rd_log;

/* Sector `i` of the entry that starts at log sector `first` (entries wrap
 * from the end of the log to its start). */
static uint8_t *entry_sector(const rd_log *l, uint32_t first, uint32_t i) {
  return l->log + (size_t)((first + (uint64_t)i) % l->sectors) * SECTOR;
}

/* Descriptor sectors an entry needs for `count` descriptors. */
static uint64_t descriptor_sectors(uint32_t count) {
  if (count <= DESC_FIRST)
    return 1;
  return 1 + ((uint64_t)count - DESC_FIRST + DESC_NEXT - 1) / DESC_NEXT;
}

/* The 32 bytes of descriptor `i` of the entry at sector `first`. */
static uint8_t *descriptor(const rd_log *l, uint32_t first, uint32_t i) {
  if (i < DESC_FIRST)
    return entry_sector(l, first, 0) + 64 + 32 * i;
  i -= DESC_FIRST;
  return entry_sector(l, first, 1 + i / DESC_NEXT) + 32 * (i % DESC_NEXT);
}

/* Copy the entry's SequenceNumber into every descriptor and data sector the
 * entry has room for (the data sector count comes from the "desc"
 * descriptors, as the format says). */
static void sync_sequence(const rd_log *l, uint32_t first, uint32_t sectors) {
  const uint8_t *h = entry_sector(l, first, 0);
  uint64_t seq = rd_le64(h + 16);
  uint32_t count = rd_le32(h + 24);
  uint64_t dsec = descriptor_sectors(count);
  uint32_t i, data = 0;

  if (dsec > sectors)
    return; /* the entry cannot hold its descriptors: leave it */
  for (i = 0; i < count; i++) {
    uint8_t *d = descriptor(l, first, i);
    rd_put64(d + 24, seq);
    if (rd_sig4(d, "desc"))
      data++;
  }
  for (i = 0; i < data && dsec + i < sectors; i++) {
    uint8_t *s = entry_sector(l, first, (uint32_t)dsec + i);
    rd_put32(s + 4, (uint32_t)(seq >> 32));
    rd_put32(s + 4092, (uint32_t)seq);
  }
}

/* Where repair wrote: [off, end) of the image, for the caller's mark. */
typedef struct rd_marker {
  rd_mark_fn fn;
  void *ctx;
  const uint8_t *image;
} rd_marker;

static void mark(const rd_marker *m, const uint8_t *p, size_t n) {
  if (m->fn != NULL)
    m->fn(m->ctx, (uint64_t)(p - m->image), (uint64_t)(p - m->image) + n);
}

static void repair_log(const rd_crc_table *t, const rd_log *l,
                       const uint8_t guid[16], unsigned options,
                       const rd_marker *m) {
  static const uint8_t zeros[4] = {0, 0, 0, 0};
  uint32_t s, i;

  for (s = 0; s < l->sectors; s++) {
    uint8_t *h = l->log + (size_t)s * SECTOR;
    uint32_t length = rd_le32(h + 8);
    uint32_t sectors;
    uint32_t crc;

    if (!rd_sig4(h, "loge") || length == 0 || length % SECTOR != 0 ||
        length / SECTOR > l->sectors)
      continue;
    sectors = length / SECTOR;
    /* The sequence edits stay inside the entry's sectors (wrapped); the
     * others inside its first sector. */
    if ((options & RD_REPAIR_ENTRY_SEQUENCE) != 0) {
      if (s + sectors <= l->sectors) {
        mark(m, h, (size_t)sectors * SECTOR);
      } else {
        mark(m, h, (size_t)(l->sectors - s) * SECTOR);
        mark(m, l->log, (size_t)(s + sectors - l->sectors) * SECTOR);
      }
    } else {
      mark(m, h, 64);
    }
    if ((options & RD_REPAIR_ENTRY_GUID) != 0 && !is_zero(guid, 16))
      memcpy(h + 32, guid, 16);
    if ((options & RD_REPAIR_ENTRY_SEQUENCE) != 0)
      sync_sequence(l, s, sectors);
    if ((options & RD_REPAIR_ENTRIES) == 0)
      continue;
    crc = rd_crc32c(t, 0, h, 4);
    crc = rd_crc32c(t, crc, zeros, 4);
    crc = rd_crc32c(t, crc, h + 8, SECTOR - 8);
    for (i = 1; i < sectors; i++)
      crc = rd_crc32c(t, crc, entry_sector(l, s, i), SECTOR);
    rd_put32(h + 4, crc);
  }
}

/* The log header `which` names, if it lies in the image. */
static int header_log(uint8_t *image, size_t size, uint32_t at, rd_log *l) {
  const uint8_t *h = image + at;
  uint32_t length = rd_le32(h + 68);
  uint64_t offset = rd_le64(h + 72);

  if (!rd_sig4(h, "head") || length == 0 || length % SECTOR != 0 ||
      offset < MIB || offset > size || length > size - offset)
    return 0;
  l->log = image + offset;
  l->sectors = length / SECTOR;
  return 1;
}

void rd_repair_image(uint8_t *image, size_t size, unsigned options) {
  rd_repair_image_marked(image, size, options, NULL, NULL);
}

void rd_repair_image_marked(uint8_t *image, size_t size, unsigned options,
                            rd_mark_fn fn, void *ctx) {
  rd_marker m;
  static const uint32_t headers[2] = {HEADER1, HEADER2};
  static const uint32_t regions[2] = {REGION1, REGION2};
  rd_crc_table t;
  rd_log logs[2];
  int have[2] = {0, 0};
  int h, current, order[2];

  if (image == NULL || size < MIB)
    return;
  m.fn = fn;
  m.ctx = ctx;
  m.image = image;
  rd_crc_init(&t);
  for (h = 0; h < 2; h++) {
    uint8_t *p = image + headers[h];
    if ((options & RD_REPAIR_HEADERS) != 0 && rd_sig4(p, "head")) {
      rd_put32(p + 4, crc_field_zeroed(&t, p, HEADER_SIZE));
      mark(&m, p + 4, 4);
    }
  }
  for (h = 0; h < 2; h++) {
    uint8_t *p = image + regions[h];
    if ((options & RD_REPAIR_REGIONS) != 0 && rd_sig4(p, "regi")) {
      rd_put32(p + 4, crc_field_zeroed(&t, p, REGION_SIZE));
      mark(&m, p + 4, 4);
    }
  }
  if ((options & (RD_REPAIR_ENTRIES | RD_REPAIR_ENTRY_GUID |
                  RD_REPAIR_ENTRY_SEQUENCE)) == 0)
    return;

  /* The current header by the greater SequenceNumber (header 1 on a tie);
   * validity is not checked: this is repair, not validation. */
  current = rd_le64(image + HEADER2 + 8) > rd_le64(image + HEADER1 + 8) ? 1 : 0;
  order[0] = 1 - current;
  order[1] = current;
  for (h = 0; h < 2; h++)
    have[h] = header_log(image, size, headers[h], &logs[h]);
  for (h = 0; h < 2; h++) {
    int w = order[h];
    if (!have[w])
      continue;
    /* The same log under the same GUID needs one pass only. */
    if (h == 0 && have[1 - w] && logs[w].log == logs[1 - w].log &&
        logs[w].sectors == logs[1 - w].sectors &&
        memcmp(image + headers[w] + 48, image + headers[1 - w] + 48, 16) == 0)
      continue;
    repair_log(&t, &logs[w], image + headers[w] + 48, options, &m);
  }
}
