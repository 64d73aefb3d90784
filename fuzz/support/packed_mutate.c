/* SPDX-License-Identifier: MIT */
/* Structure-aware mutation of packed images (see packed_mutate.h). Field
 * offsets from the format digest (shared/vhdx-log-spec.md).
 *
 * Every offset into the input is built from numbers read out of it, so each
 * sum is checked against the room left (`x <= size - at`, never
 * `at + x <= size`): with a 32-bit size_t an EntryLength near 4 GiB would
 * wrap the sum. Wrapping the fuzzer asks for (a field one below zero) is
 * written out with the helpers below, so that UBSan's
 * unsigned-integer-overflow check (OSS-Fuzz's UBSan build) stays quiet. */
#include "packed_mutate.h"

#include <string.h>

#include "packed.h"
#include "vhdx_builder.h"

#define SECTOR 4096u
#define MIB 1048576u
#define MAX_ENTRIES 64

/* Packed offsets of the two headers (packed.h layout). */
static const size_t header_at[2] = {10, 4106};

typedef struct rng {
  uint32_t s;
} rng;

/* xorshift32; the masks drop the bits a left shift would push out. */
static uint32_t next(rng *r) {
  uint32_t x = r->s;
  x ^= (x & 0x7FFFFu) << 13;
  x ^= x >> 17;
  x ^= (x & 0x7FFFFFFu) << 5;
  return r->s = x;
}

/* v + 1 and v - 1 modulo 2^64, without an arithmetic wrap. */
static uint64_t inc64(uint64_t v) { return v == UINT64_MAX ? 0 : v + 1; }
static uint64_t dec64(uint64_t v) { return v == 0 ? UINT64_MAX : v - 1; }

/* v + SECTOR or v - SECTOR modulo 2^32 (a 32-bit field moved by a sector). */
static uint32_t add_sector32(uint32_t v, int up) {
  uint64_t w = (uint64_t)v + (up ? SECTOR : 0x100000000u - SECTOR);
  return (uint32_t)(w & 0xFFFFFFFFu);
}

static uint32_t below(rng *r, uint32_t n) { return n > 0 ? next(r) % n : 0; }

/* +1 or -1 (or 0 now and then, to copy a value unchanged). */
static uint64_t nudge(rng *r, uint64_t v) {
  switch (below(r, 5)) {
  case 0:
    return dec64(v);
  case 1:
    return v;
  default:
    return inc64(v);
  }
}

/* Where the current header's log starts in the packed input, or the tail's
 * start when the header names no log in it. */
typedef struct log_view {
  size_t base;    /* packed offset of log offset 0 */
  size_t sectors; /* log sectors present in the input */
} log_view;

static log_view find_log(const uint8_t *data, size_t size) {
  log_view v;
  int cur = 0;
  v.base = RD_PACKED_FIXED;
  v.sectors = size > RD_PACKED_FIXED ? (size - RD_PACKED_FIXED) / SECTOR : 0;
  if (size < header_at[1] + 80)
    return v;
  if (vtk_get_le64(data + header_at[1] + 8) >
      vtk_get_le64(data + header_at[0] + 8))
    cur = 1;
  {
    const uint8_t *h = data + header_at[cur];
    uint64_t off = vtk_get_le64(h + 72);
    uint64_t len = vtk_get_le32(h + 68);
    uint64_t at;
    if (off < MIB || off % SECTOR != 0 || len == 0 ||
        off - MIB > (uint64_t)size)
      return v;
    at = RD_PACKED_FIXED + (off - MIB);
    if (at >= (uint64_t)size)
      return v;
    v.base = (size_t)at;
    v.sectors = (size - v.base) / SECTOR;
    if (v.sectors > len / SECTOR)
      v.sectors = (size_t)(len / SECTOR);
  }
  return v;
}

/* Descriptor sectors for `count` descriptors. */
static uint32_t descriptor_sectors(uint32_t count) {
  if (count <= 126)
    return 1;
  return 1 + (count - 126) / 128 + ((count - 126) % 128 != 0);
}

/* Packed offset of descriptor k of the entry at `e` (e < size), or 0 if
 * not inside the input (entries that wrap are followed only up to the
 * input's end). The offset within the entry is computed in 64 bits (k may
 * be ~2^32: ~2^37 bytes) and compared with the room after `e`. */
static size_t descriptor_at(size_t e, uint32_t k, size_t size) {
  uint64_t rel = k < 126 ? 64 + 32 * (uint64_t)k
                         : SECTOR * (1 + (uint64_t)(k - 126) / 128) +
                               32 * (uint64_t)((k - 126) % 128);
  if (e >= size || rel > (uint64_t)(size - e) ||
      32 > (uint64_t)(size - e) - rel)
    return 0;
  return e + (size_t)rel;
}

int rd_mutate_packed(uint8_t *data, size_t size, uint32_t seed) {
  size_t entries[MAX_ENTRIES];
  size_t n = 0, i, e;
  log_view log = find_log(data, size);
  rng r;
  uint8_t *h;
  uint32_t count, length;

  r.s = seed | 1u;
  for (i = 0; i < log.sectors && n < MAX_ENTRIES; i++) {
    /* log.base + log.sectors * SECTOR <= size (find_log): no wrap. */
    size_t at = log.base + i * SECTOR;
    if (at < size && size - at >= 64 && memcmp(data + at, "loge", 4) == 0)
      entries[n++] = at;
  }
  if (n == 0)
    return 0;
  e = entries[below(&r, (uint32_t)n)];
  h = data + e;
  count = vtk_get_le32(h + 24);
  length = vtk_get_le32(h + 8);

  switch (below(&r, 10)) {
  case 0: /* SequenceNumber: next to its own or another entry's */
    vtk_put_le64(
        h + 16,
        nudge(&r, vtk_get_le64(data + entries[below(&r, (uint32_t)n)] + 16)));
    break;
  case 1: /* Tail: the start of an entry, or one sector off */
    if (below(&r, 2) == 0)
      vtk_put_le32(h + 12,
                   (uint32_t)(entries[below(&r, (uint32_t)n)] - log.base));
    else
      vtk_put_le32(h + 12,
                   add_sector32(vtk_get_le32(h + 12), below(&r, 2) != 0));
    break;
  case 2: /* LastFileOffset: a MiB boundary around the file's size */
    vtk_put_le64(h + 56, (uint64_t)below(&r, 24) * MIB);
    break;
  case 3: /* FlushedFileOffset */
    vtk_put_le64(h + 48, (uint64_t)below(&r, 8) * MIB);
    break;
  case 4: /* DescriptorCount */
    vtk_put_le32(h + 24, (uint32_t)nudge(&r, count));
    break;
  case 5: { /* one descriptor */
    size_t d = count > 0 ? descriptor_at(e, below(&r, count), size) : 0;
    if (d == 0)
      break;
    switch (below(&r, 5)) {
    case 0:
      memcpy(data + d, memcmp(data + d, "desc", 4) == 0 ? "zero" : "desc", 4);
      break;
    case 1:
      vtk_put_le64(data + d + 24, nudge(&r, vtk_get_le64(data + d + 24)));
      break;
    case 2:
      vtk_put_le64(data + d + 16, (uint64_t)(1 + below(&r, 6)) * MIB +
                                      (uint64_t)below(&r, 16) * SECTOR);
      break;
    case 3:
      vtk_put_le64(data + d + 8, (uint64_t)below(&r, 8) * SECTOR);
      break;
    default: { /* the file offset of another descriptor of the entry */
      size_t o = descriptor_at(e, below(&r, count), size);
      if (o != 0)
        memcpy(data + d + 16, data + o + 16, 8);
      break;
    }
    }
    break;
  }
  case 6: { /* one data sector: signature or sequence halves */
    uint32_t dsec = descriptor_sectors(count);
    uint64_t rel;
    size_t s;
    if (length / SECTOR <= dsec)
      break;
    /* dsec + below(...) < length / SECTOR < 2^20: the sum fits. */
    rel = SECTOR * (uint64_t)(dsec + below(&r, length / SECTOR - dsec));
    if (rel > (uint64_t)(size - e) || SECTOR > (uint64_t)(size - e) - rel)
      break;
    s = e + (size_t)rel;
    switch (below(&r, 3)) {
    case 0:
      data[s + below(&r, 4)] ^= (uint8_t)(1u << below(&r, 8));
      break;
    case 1:
      vtk_put_le32(data + s + 4,
                   (uint32_t)nudge(&r, vtk_get_le32(data + s + 4)));
      break;
    default:
      vtk_put_le32(data + s + 4092,
                   (uint32_t)nudge(&r, vtk_get_le32(data + s + 4092)));
      break;
    }
    break;
  }
  case 7: /* EntryLength: one sector more or less */
    vtk_put_le32(h + 8, add_sector32(length, below(&r, 2) != 0));
    break;
  case 8: { /* copy the whole entry to another sector of the log */
    size_t to = log.base + SECTOR * (size_t)below(&r, (uint32_t)log.sectors);
    size_t len = length;
    if (to == e || to >= size || len == 0 || len % SECTOR != 0)
      break;
    /* Room after each end, not `e + len > size`: that sum wraps when
     * size_t is 32 bits and EntryLength is near 4 GiB. */
    if (len > size - e)
      len = (size - e) / SECTOR * SECTOR;
    if (len > size - to)
      len = (size - to) / SECTOR * SECTOR;
    memmove(data + to, data + e, len);
    /* A copy of an entry that is a complete run on its own (Tail at
     * itself) stays one: a second run with the same head number. */
    if (len >= 64 && vtk_get_le32(data + to + 12) == (uint32_t)(e - log.base))
      vtk_put_le32(data + to + 12, (uint32_t)(to - log.base));
    break;
  }
  default: /* the entry's LogGuid or Reserved */
    h[below(&r, 2) ? 32 + below(&r, 16) : 28 + below(&r, 4)] ^=
        (uint8_t)(1u << below(&r, 8));
    break;
  }
  return 1;
}
