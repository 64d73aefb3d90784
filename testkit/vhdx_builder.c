/* SPDX-License-Identifier: MIT */
/* Test-side builders for VHDX images and log entries. Deliberately shares no
 * code with lib/: see vhdx_builder.h. */
#include "vhdx_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "testkit: out of memory (%zu bytes)\n", n);
    abort();
  }
  return p;
}

static void die(const char *what) {
  fprintf(stderr, "testkit: %s\n", what);
  abort();
}

/* ------------------------------------------------------------------------ */
/* Bytes. */

void vtk_put_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
void vtk_put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
void vtk_put_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
uint32_t vtk_get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
uint64_t vtk_get_le64(const uint8_t *p) {
  return (uint64_t)vtk_get_le32(p) | ((uint64_t)vtk_get_le32(p + 4) << 32);
}

/* ------------------------------------------------------------------------ */
/* CRC-32C: a byte table built on first use from the bitwise definition. */

static uint32_t crc_table[256];
static int crc_table_ready;

static uint32_t crc_bitwise_byte(uint32_t reg) {
  for (int k = 0; k < 8; k++)
    reg = (reg & 1u) ? (reg >> 1) ^ 0x82F63B78u : reg >> 1;
  return reg;
}

uint32_t vtk_crc32c_raw(uint32_t reg, const void *data, size_t size) {
  const uint8_t *p = data;
  if (!crc_table_ready) {
    for (uint32_t i = 0; i < 256; i++)
      crc_table[i] = crc_bitwise_byte(i);
    crc_table_ready = 1;
  }
  for (size_t i = 0; i < size; i++)
    reg = (reg >> 8) ^ crc_table[(reg ^ p[i]) & 0xFFu];
  return reg;
}

uint32_t vtk_crc32c(uint32_t crc, const void *data, size_t size) {
  return ~vtk_crc32c_raw(~crc, data, size);
}

uint32_t vtk_crc32c_field_zeroed(vtk_crc_fn crc, uint32_t crc_in,
                                 const uint8_t *p, size_t n) {
  static const uint8_t zero4[4] = {0, 0, 0, 0};
  crc_in = crc(crc_in, p, 4);
  crc_in = crc(crc_in, zero4, 4);
  return crc(crc_in, p + 8, n - 8);
}

static uint32_t crc_field_zeroed(uint32_t crc, const uint8_t *p, size_t n) {
  return vtk_crc32c_field_zeroed(vtk_crc32c, crc, p, n);
}

/* ------------------------------------------------------------------------ */
/* GUIDs, random data. */

/* The stored bytes of GUID A-B-C-D (D its last 8 bytes): MS-VHDX stores
 * the first three fields little-endian, the last 8 bytes as written. */
#define GUID_LE16(x) (uint8_t)(x), (uint8_t)((x) >> 8)
#define GUID_LE32(x) GUID_LE16(x), GUID_LE16((x) >> 16)
#define GUID_BE16(x) (uint8_t)((x) >> 8), (uint8_t)(x)
#define GUID_BE64(x)                                                           \
  GUID_BE16((x) >> 48), GUID_BE16((x) >> 32), GUID_BE16((x) >> 16), GUID_BE16(x)
#define GUID_BYTES(a, b, c, d)                                                 \
  { GUID_LE32(a), GUID_LE16(b), GUID_LE16(c), GUID_BE64(d) }

const uint8_t VTK_GUID_BAT[16] =
    GUID_BYTES(0x2DC27766u, 0xF623u, 0x4200u, 0x9D64115E9BFD4A08ull);
const uint8_t VTK_GUID_METADATA[16] =
    GUID_BYTES(0x8B7CA206u, 0x4790u, 0x4B9Au, 0xB8FE575F050F886Eull);

/* splitmix64's finalizer; RULES.md "derive(L)" mixes with it too. */
static uint64_t vtk_derive_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

void vtk_rng_seed(vtk_rng *r, uint64_t seed) {
  /* splitmix step so that small seeds give unrelated streams */
  uint64_t z = vtk_derive_mix(seed + 0x9E3779B97F4A7C15ull);
  r->s = z ? z : 1;
}

uint64_t vtk_rng_next(vtk_rng *r) {
  uint64_t s = r->s;
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  r->s = s;
  return s * 0x2545F4914F6CDD1Dull;
}

void vtk_pattern(uint8_t *buf, size_t size, uint32_t seed) {
  vtk_rng r;
  vtk_rng_seed(&r, seed);
  size_t i = 0;
  while (i < size) {
    uint64_t v = vtk_rng_next(&r);
    for (int k = 0; k < 8 && i < size; k++, i++)
      buf[i] = (uint8_t)(v >> (8 * k));
  }
}

void vtk_guid(uint8_t out[16], uint32_t seed) {
  /* The seed itself in bytes 0..3 keeps distinct seeds distinct. */
  vtk_pattern(out, 16, seed ^ 0x5EEDu);
  vtk_put_le32(out, seed);
  out[6] |= 0x40; /* never all zero */
}

int vtk_guid_is_zero(const uint8_t g[16]) {
  for (int i = 0; i < 16; i++)
    if (g[i])
      return 0;
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Images. */

void vtk_image_spec_default(vtk_image_spec *s) {
  memset(s, 0, sizeof(*s));
  s->file_size = 4u * VTK_MIB;
  s->header_seq[0] = 1;
  s->header_seq[1] = 2;
  s->log_offset = VTK_MIB;
  s->log_length = VTK_MIB;
  vtk_guid(s->file_write_guid, 0xF11Eu);
  vtk_guid(s->data_write_guid, 0xDA7Au);
  s->version = 1;
  s->log_version = 0;
  s->bat_offset = 2u * VTK_MIB;
  s->bat_length = VTK_MIB;
  s->metadata_offset = 3u * VTK_MIB;
  s->metadata_length = VTK_MIB;
  s->fill_seed = 1;
}

/* The buffer always holds at least the 1 MiB header area, even when the
 * file is said to be smaller (for "file too small" tests). */
static size_t image_cap(uint64_t size) {
  uint64_t cap = size < VTK_MIB ? VTK_MIB : size;
  if (cap > (uint64_t)SIZE_MAX)
    die("image too large");
  return (size_t)cap;
}

static void image_alloc(vtk_image *img, uint64_t size) {
  img->data = xmalloc(image_cap(size));
  memset(img->data, 0, image_cap(size));
  img->size = size;
}

void vtk_region_put(uint8_t *e, const vtk_region *r) {
  memcpy(e, r->guid, 16);
  vtk_put_le64(e + 16, r->file_offset);
  vtk_put_le32(e + 24, r->length);
  vtk_put_le32(e + 28, r->required);
}

void vtk_image_build(vtk_image *img, const vtk_image_spec *s) {
  image_alloc(img, s->file_size);
  if (s->fill_seed && s->file_size > VTK_MIB)
    vtk_pattern(img->data + VTK_MIB, (size_t)(s->file_size - VTK_MIB),
                s->fill_seed);

  memcpy(img->data, "vhdxfile", 8);
  const char *creator = "vhdxlog testkit";
  for (size_t i = 0; creator[i]; i++) /* UTF-16LE, informational */
    vtk_put_le16(img->data + 8 + 2 * i, (uint16_t)creator[i]);

  for (int w = 0; w < 2; w++) {
    uint8_t *h = vtk_header(img, w);
    memcpy(h, "head", 4);
    vtk_put_le64(h + 8, s->header_seq[w]);
    memcpy(h + 16, s->file_write_guid, 16);
    memcpy(h + 32, s->data_write_guid, 16);
    if (s->header_seq[w] >= s->header_seq[1 - w])
      memcpy(h + 48, s->log_guid, 16);
    vtk_put_le16(h + 64, s->log_version);
    vtk_put_le16(h + 66, s->version);
    vtk_put_le32(h + 68, s->log_length);
    vtk_put_le64(h + 72, s->log_offset);
    vtk_header_fix_checksum(img, w);
  }

  for (int w = 0; w < 2; w++) {
    uint8_t *t = vtk_region_table(img, w);
    memcpy(t, "regi", 4);
    vtk_region bat = {{0}, s->bat_offset, s->bat_length, 1};
    vtk_region meta = {{0}, s->metadata_offset, s->metadata_length, 1};
    memcpy(bat.guid, VTK_GUID_BAT, 16);
    memcpy(meta.guid, VTK_GUID_METADATA, 16);
    vtk_region_put(t + 16, &bat);
    vtk_region_put(t + 48, &meta);
    uint32_t n = s->extra_count;
    if (n > VTK_MAX_EXTRA_REGIONS)
      die("too many extra regions");
    for (uint32_t i = 0; i < n; i++)
      vtk_region_put(t + 16 + 32 * (2 + i), &s->extra[i]);
    vtk_put_le32(t + 8, 2 + n);
    vtk_region_fix_checksum(img, w);
  }
}

void vtk_image_build_default(vtk_image *img) {
  vtk_image_spec s;
  vtk_image_spec_default(&s);
  vtk_image_build(img, &s);
}

void vtk_image_from(vtk_image *img, const uint8_t *data, uint64_t size) {
  image_alloc(img, size);
  memcpy(img->data, data, (size_t)size);
}

void vtk_image_free(vtk_image *img) {
  free(img->data);
  img->data = NULL;
  img->size = 0;
}

void vtk_image_copy(vtk_image *dst, const vtk_image *src) {
  image_alloc(dst, src->size);
  memcpy(dst->data, src->data, image_cap(src->size));
}

void vtk_image_resize(vtk_image *img, uint64_t size) {
  size_t old_cap = image_cap(img->size), cap = image_cap(size);
  uint8_t *p = realloc(img->data, cap);
  if (!p)
    die("out of memory");
  if (cap > old_cap)
    memset(p + old_cap, 0, cap - old_cap);
  /* Bytes between the old size and the old capacity are beyond the file:
   * they must read as zero once the file grows over them. */
  if (size > img->size && img->size < old_cap)
    memset(p + img->size, 0,
           (size_t)((old_cap < size ? old_cap : size) - img->size));
  img->data = p;
  img->size = size;
}

uint8_t *vtk_header(vtk_image *img, int which) {
  return img->data + (which ? VTK_HEADER2 : VTK_HEADER1);
}

void vtk_header_raw_fix_checksum(uint8_t h[VTK_HEADER_SIZE]) {
  vtk_put_le32(h + 4, crc_field_zeroed(0, h, VTK_HEADER_SIZE));
}

int vtk_header_raw_valid(const uint8_t h[VTK_HEADER_SIZE]) {
  return memcmp(h, "head", 4) == 0 &&
         crc_field_zeroed(0, h, VTK_HEADER_SIZE) == vtk_get_le32(h + 4);
}

void vtk_header_fix_checksum(vtk_image *img, int which) {
  vtk_header_raw_fix_checksum(vtk_header(img, which));
}

int vtk_image_current(const vtk_image *img) {
  const uint8_t *h1 = img->data + VTK_HEADER1;
  const uint8_t *h2 = img->data + VTK_HEADER2;
  int v1 = vtk_header_raw_valid(h1), v2 = vtk_header_raw_valid(h2);
  if (v1 && v2)
    return vtk_get_le64(h2 + 8) > vtk_get_le64(h1 + 8) ? 1 : 0;
  if (v1)
    return 0;
  if (v2)
    return 1;
  return -1;
}

uint8_t *vtk_region_table(vtk_image *img, int which) {
  return img->data + (which ? VTK_REGION2 : VTK_REGION1);
}

void vtk_region_fix_checksum(vtk_image *img, int which) {
  uint8_t *t = vtk_region_table(img, which);
  vtk_put_le32(t + 4, crc_field_zeroed(0, t, VTK_REGION_SIZE));
}

uint8_t *vtk_region_entry(vtk_image *img, int which, uint32_t index) {
  if (index >= (VTK_REGION_SIZE - 16) / 32)
    die("region entry index out of the table");
  return vtk_region_table(img, which) + 16 + 32 * index;
}

void vtk_region_set(vtk_image *img, int which, uint32_t index,
                    const vtk_region *r) {
  vtk_region_put(vtk_region_entry(img, which, index), r);
  uint8_t *t = vtk_region_table(img, which);
  if (index >= vtk_get_le32(t + 8))
    vtk_put_le32(t + 8, index + 1);
  vtk_region_fix_checksum(img, which);
}

void vtk_region_set_both(vtk_image *img, uint32_t index, const vtk_region *r) {
  vtk_region_set(img, 0, index, r);
  vtk_region_set(img, 1, index, r);
}

void vtk_region_set_count(vtk_image *img, int which, uint32_t count) {
  vtk_put_le32(vtk_region_table(img, which) + 8, count);
  vtk_region_fix_checksum(img, which);
}

void vtk_header_set_seq(vtk_image *img, int which, uint64_t seq) {
  vtk_put_le64(vtk_header(img, which) + 8, seq);
  vtk_header_fix_checksum(img, which);
}

void vtk_header_set_log_guid(vtk_image *img, int which, const uint8_t g[16]) {
  memcpy(vtk_header(img, which) + 48, g, 16);
  vtk_header_fix_checksum(img, which);
}

void vtk_header_set_log_location(vtk_image *img, int which, uint64_t log_offset,
                                 uint32_t log_length) {
  uint8_t *h = vtk_header(img, which);
  vtk_put_le32(h + 68, log_length);
  vtk_put_le64(h + 72, log_offset);
  vtk_header_fix_checksum(img, which);
}

void vtk_image_put_log(vtk_image *img, const uint8_t *log, uint32_t log_length,
                       const uint8_t guid[16]) {
  int cur = vtk_image_current(img);
  if (cur < 0)
    die("vtk_image_put_log: no valid header");
  uint8_t *h = vtk_header(img, cur);
  uint64_t off = vtk_get_le64(h + 72);
  if (off + log_length > img->size)
    vtk_image_resize(img, off + log_length);
  memcpy(img->data + (size_t)off, log, log_length);
  /* On an accepted tie both headers are current: keep them identical. */
  int tie = vtk_header_raw_valid(vtk_header(img, 1 - cur)) &&
            vtk_get_le64(vtk_header(img, 0) + 8) ==
                vtk_get_le64(vtk_header(img, 1) + 8);
  for (int w = 0; w < 2; w++) {
    if (w != cur && !tie)
      continue;
    uint8_t *hw = vtk_header(img, w);
    vtk_put_le32(hw + 68, log_length);
    memcpy(hw + 48, guid, 16);
    vtk_header_fix_checksum(img, w);
  }
}

/* ------------------------------------------------------------------------ */
/* Log entries. */

void vtk_desc_sector(const vtk_desc *d, uint8_t out[VTK_SECTOR]) {
  if (d->sector)
    memcpy(out, d->sector, VTK_SECTOR);
  else
    vtk_pattern(out, VTK_SECTOR, d->seed);
}

vtk_desc vtk_data(uint64_t file_offset, uint32_t seed) {
  vtk_desc d = {.kind = VTK_DATA, .file_offset = file_offset, .seed = seed};
  return d;
}

vtk_desc vtk_zero(uint64_t file_offset, uint64_t length) {
  vtk_desc d = {
      .kind = VTK_ZERO, .file_offset = file_offset, .zero_length = length};
  return d;
}

vtk_entry vtk_entry_make(uint64_t sequence_number, uint32_t tail,
                         const uint8_t log_guid[16],
                         uint64_t flushed_file_offset,
                         uint64_t last_file_offset, const vtk_desc *descs,
                         uint32_t desc_count) {
  vtk_entry e;
  memset(&e, 0, sizeof(e));
  e.sequence_number = sequence_number;
  e.tail = tail;
  memcpy(e.log_guid, log_guid, 16);
  e.flushed_file_offset = flushed_file_offset;
  e.last_file_offset = last_file_offset;
  e.descs = descs;
  e.desc_count = desc_count;
  return e;
}

uint32_t vtk_desc_sectors(uint32_t count) {
  if (count <= VTK_DESC_FIRST)
    return 1;
  /* 1 + ceil((count - FIRST) / NEXT), without wrapping at count 2^32-1 */
  return 2 + (count - VTK_DESC_FIRST - 1) / VTK_DESC_NEXT;
}

uint32_t vtk_entry_data_count(const vtk_entry *e) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < e->desc_count; i++)
    n += e->descs[i].kind == VTK_DATA;
  return n;
}

uint32_t vtk_entry_length(const vtk_entry *e) {
  return (vtk_desc_sectors(e->desc_count) + vtk_entry_data_count(e)) *
         VTK_SECTOR;
}

uint32_t vtk_desc_pos(uint32_t index) {
  if (index < VTK_DESC_FIRST)
    return 64 + 32 * index;
  uint32_t k = index - VTK_DESC_FIRST;
  return VTK_SECTOR * (1 + k / VTK_DESC_NEXT) + 32 * (k % VTK_DESC_NEXT);
}

uint8_t *vtk_log_at(uint8_t *log, uint32_t log_length, uint32_t offset,
                    uint32_t pos) {
  uint64_t sectors = log_length / VTK_SECTOR;
  uint64_t s = ((uint64_t)offset / VTK_SECTOR + pos / VTK_SECTOR) % sectors;
  return log + s * VTK_SECTOR + pos % VTK_SECTOR;
}

void vtk_desc_put(uint8_t *p, const vtk_desc *d, uint64_t seq) {
  if (d->kind == VTK_ZERO) {
    memcpy(p, "zero", 4);
    vtk_put_le32(p + 4, 0);
    vtk_put_le64(p + 8, d->zero_length);
  } else {
    uint8_t sector[VTK_SECTOR];
    vtk_desc_sector(d, sector);
    memcpy(p, "desc", 4);
    memcpy(p + 4, sector + 4092, 4); /* TrailingBytes, as stored */
    memcpy(p + 8, sector, 8);        /* LeadingBytes, as stored */
  }
  vtk_put_le64(p + 16, d->file_offset);
  vtk_put_le64(p + 24, seq);
}

void vtk_data_sector_put(uint8_t *s, const vtk_desc *d, uint64_t seq) {
  uint8_t sector[VTK_SECTOR];
  vtk_desc_sector(d, sector);
  memcpy(s, "data", 4);
  vtk_put_le32(s + 4, (uint32_t)(seq >> 32));
  memcpy(s + 8, sector + 8, 4084);
  vtk_put_le32(s + 4092, (uint32_t)seq);
}

void vtk_entry_header_put(uint8_t *h, uint32_t length, uint64_t seq,
                          const uint8_t guid[16]) {
  memcpy(h, "loge", 4);
  vtk_put_le32(h + 8, length);
  vtk_put_le64(h + 16, seq);
  memcpy(h + 32, guid, 16);
}

uint32_t vtk_log_write_entry(uint8_t *log, uint32_t log_length, uint32_t offset,
                             const vtk_entry *e) {
  uint32_t len = vtk_entry_length(e);
  if (offset % VTK_SECTOR || offset >= log_length || len > log_length)
    return 0;
  uint8_t *buf = xmalloc(len);
  memset(buf, 0, len);
  uint32_t dsec = vtk_desc_sectors(e->desc_count);
  uint64_t seq = e->sequence_number;

  vtk_entry_header_put(buf, len, seq, e->log_guid);
  vtk_put_le32(buf + 12, e->tail);
  vtk_put_le32(buf + 24, e->desc_count);
  vtk_put_le64(buf + 48, e->flushed_file_offset);
  vtk_put_le64(buf + 56, e->last_file_offset);

  uint32_t k = 0; /* data sectors written so far */
  for (uint32_t i = 0; i < e->desc_count; i++) {
    const vtk_desc *d = &e->descs[i];
    vtk_desc_put(buf + vtk_desc_pos(i), d, seq);
    if (d->kind == VTK_DATA)
      vtk_data_sector_put(buf + (size_t)(dsec + k++) * VTK_SECTOR, d, seq);
  }
  vtk_put_le32(buf + 4, vtk_crc32c(0, buf, len));

  for (uint32_t s = 0; s < len / VTK_SECTOR; s++)
    memcpy(vtk_log_at(log, log_length, offset, s * VTK_SECTOR),
           buf + (size_t)s * VTK_SECTOR, VTK_SECTOR);
  free(buf);
  return len;
}

uint32_t vtk_log_write_run(uint8_t *log, uint32_t log_length, uint32_t offset,
                           const vtk_entry *e, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t len = vtk_log_write_entry(log, log_length, offset, &e[i]);
    if (!len)
      die("vtk_log_write_run: entry does not fit");
    offset = (uint32_t)(((uint64_t)offset + len) % log_length);
  }
  return offset;
}

static uint32_t vtk_entry_crc(const uint8_t *log, uint32_t log_length,
                              uint32_t offset, uint32_t length) {
  uint8_t *l = (uint8_t *)(uintptr_t)log; /* vtk_log_at only reads here */
  uint32_t c = 0;
  for (uint32_t s = 0; s < length / VTK_SECTOR; s++) {
    const uint8_t *p = vtk_log_at(l, log_length, offset, s * VTK_SECTOR);
    c = s == 0 ? crc_field_zeroed(c, p, VTK_SECTOR)
               : vtk_crc32c(c, p, VTK_SECTOR);
  }
  return c;
}

void vtk_entry_fix_checksum(uint8_t *log, uint32_t log_length,
                            uint32_t offset) {
  uint8_t *h = vtk_log_at(log, log_length, offset, 0);
  uint32_t len = vtk_get_le32(h + 8);
  if (len > log_length)
    len = log_length;
  if (len == 0 || len % VTK_SECTOR)
    return;
  vtk_put_le32(h + 4, vtk_entry_crc(log, log_length, offset, len));
}

int vtk_entry_crc_ok(const uint8_t *log, uint32_t log_length, uint32_t offset) {
  const uint8_t *h = log + offset;
  uint32_t len = vtk_get_le32(h + 8);
  if (memcmp(h, "loge", 4) != 0 || len == 0 || len % VTK_SECTOR ||
      len > log_length)
    return 0;
  return vtk_entry_crc(log, log_length, offset, len) == vtk_get_le32(h + 4);
}

int vtk_entry_break(uint8_t *log, uint32_t log_length, uint32_t offset,
                    vtk_break what, uint32_t index, int fix_crc) {
  uint8_t *h = vtk_log_at(log, log_length, offset, 0);
  uint32_t len = vtk_get_le32(h + 8);
  uint32_t count = vtk_get_le32(h + 24);
  uint64_t seq = vtk_get_le64(h + 16);
  uint32_t dsec = vtk_desc_sectors(count);
  uint8_t *d = NULL;
  uint64_t span = 0; /* bytes descriptor `index` writes */

  if (what >= VTK_BREAK_DESC_SIGNATURE && what <= VTK_BREAK_DESC_SEQUENCE) {
    int is_zero;
    if (index >= count)
      return -1;
    d = vtk_log_at(log, log_length, offset, vtk_desc_pos(index));
    is_zero = memcmp(d, "zero", 4) == 0;
    /* Reserved and ZeroLength are fields of zero descriptors only. */
    if (!is_zero &&
        (what == VTK_BREAK_DESC_RESERVED || what == VTK_BREAK_DESC_LENGTH))
      return -1;
    span = is_zero ? vtk_get_le64(d + 8) : VTK_SECTOR;
  }
  uint8_t *ds = NULL;
  if (what >= VTK_BREAK_DATA_SIGNATURE && what <= VTK_BREAK_DATA_SEQUENCE_LOW) {
    if (dsec + index >= len / VTK_SECTOR)
      return -1;
    ds = vtk_log_at(log, log_length, offset, (dsec + index) * VTK_SECTOR);
  }

  switch (what) {
  /* Signature and Reserved: the same rules for the header and descriptors. */
  case VTK_BREAK_SIGNATURE:
  case VTK_BREAK_DESC_SIGNATURE:
    (d != NULL ? d : h)[3] = 'x';
    break;
  case VTK_BREAK_RESERVED:
  case VTK_BREAK_DESC_RESERVED:
    vtk_put_le32(d != NULL ? d + 4 : h + 28, 1);
    break;
  case VTK_BREAK_LENGTH_ZERO:
    vtk_put_le32(h + 8, 0);
    break;
  case VTK_BREAK_LENGTH_UNALIGNED:
    vtk_put_le32(h + 8, len + 512);
    break;
  case VTK_BREAK_LENGTH_TOO_BIG:
    vtk_put_le32(h + 8, log_length + VTK_SECTOR);
    break;
  case VTK_BREAK_TAIL_UNALIGNED:
    vtk_put_le32(h + 12, vtk_get_le32(h + 12) + 512);
    break;
  case VTK_BREAK_TAIL_TOO_BIG:
    vtk_put_le32(h + 12, log_length);
    break;
  case VTK_BREAK_SEQUENCE_ZERO:
    vtk_put_le64(h + 16, 0);
    break;
  case VTK_BREAK_GUID:
    h[32 + 15] ^= 0x01;
    break;
  /* FlushedFileOffset (48) and LastFileOffset (56) share their rules. */
  case VTK_BREAK_FLUSHED_UNALIGNED:
  case VTK_BREAK_LAST_UNALIGNED: {
    uint8_t *f = h + (what == VTK_BREAK_FLUSHED_UNALIGNED ? 48 : 56);
    vtk_put_le64(f, vtk_get_le64(f) + VTK_SECTOR);
    break;
  }
  case VTK_BREAK_FLUSHED_TOO_BIG:
  case VTK_BREAK_LAST_TOO_BIG:
    vtk_put_le64(h + (what == VTK_BREAK_FLUSHED_TOO_BIG ? 48 : 56),
                 VTK_MAX_OFFSET + VTK_MIB);
    break;
  case VTK_BREAK_DESCRIPTOR_COUNT:
    /* The smallest count needing len/4096 + 1 descriptor sectors. */
    vtk_put_le32(h + 24,
                 VTK_DESC_FIRST + VTK_DESC_NEXT * (len / VTK_SECTOR - 1) + 1);
    break;
  case VTK_BREAK_DESC_LENGTH:
    vtk_put_le64(d + 8, vtk_get_le64(d + 8) + 512);
    break;
  case VTK_BREAK_DESC_OFFSET_UNALIGNED:
    vtk_put_le64(d + 16, vtk_get_le64(d + 16) + 512);
    break;
  case VTK_BREAK_DESC_OFFSET_TOO_BIG:
    if (span > VTK_MAX_OFFSET)
      return -1;
    vtk_put_le64(d + 16, VTK_MAX_OFFSET - span + VTK_SECTOR);
    break;
  case VTK_BREAK_DESC_OFFSET_OVERFLOW:
    if (span < VTK_SECTOR)
      return -1;
    /* Aligned offset whose end passes 2^64 and wraps to a small value. */
    vtk_put_le64(d + 16, (uint64_t)0 - VTK_SECTOR);
    break;
  case VTK_BREAK_DESC_SEQUENCE:
    vtk_put_le64(d + 24, vtk_get_le64(d + 24) + 1);
    break;
  case VTK_BREAK_DATA_COUNT: {
    if (count == 0 || vtk_desc_sectors(count - 1) != dsec)
      return -1;
    uint8_t *last =
        vtk_log_at(log, log_length, offset, vtk_desc_pos(count - 1));
    if (memcmp(last, "desc", 4) != 0)
      return -1;
    vtk_put_le32(h + 24, count - 1);
    break;
  }
  case VTK_BREAK_DATA_SIGNATURE:
    ds[3] = '@';
    break;
  case VTK_BREAK_DATA_SEQUENCE_HIGH:
    vtk_put_le32(ds + 4, (uint32_t)(seq >> 32) + 1);
    break;
  case VTK_BREAK_DATA_SEQUENCE_LOW:
    vtk_put_le32(ds + 4092, (uint32_t)seq + 1);
    break;
  case VTK_BREAK_CHECKSUM:
    vtk_put_le32(h + 4, vtk_get_le32(h + 4) + 1);
    return 0;
  default:
    return -1;
  }
  if (fix_crc)
    vtk_entry_fix_checksum(log, log_length, offset);
  return 0;
}

/* The rule cases, then the LIMIT_CASES limit cases: one table, so that a
 * generator can walk both in one loop. */
#define LIMIT_CASES 4u
const vtk_break_case vtk_break_cases[] = {
    {VTK_BREAK_SIGNATURE, 0, "signature"},
    {VTK_BREAK_LENGTH_ZERO, 0, "length-zero"},
    {VTK_BREAK_LENGTH_UNALIGNED, 0, "length-unaligned"},
    {VTK_BREAK_LENGTH_TOO_BIG, 0, "length-too-big"},
    {VTK_BREAK_TAIL_UNALIGNED, 0, "tail-unaligned"},
    {VTK_BREAK_TAIL_TOO_BIG, 0, "tail-too-big"},
    {VTK_BREAK_SEQUENCE_ZERO, 0, "sequence-zero"},
    {VTK_BREAK_RESERVED, 0, "reserved"},
    {VTK_BREAK_GUID, 0, "guid"},
    {VTK_BREAK_FLUSHED_UNALIGNED, 0, "flushed-unaligned"},
    {VTK_BREAK_LAST_UNALIGNED, 0, "last-unaligned"},
    {VTK_BREAK_DESCRIPTOR_COUNT, 0, "descriptor-count"},
    {VTK_BREAK_DESC_SIGNATURE, 1, "desc-signature"},
    {VTK_BREAK_DESC_RESERVED, 0, "desc-reserved"},
    {VTK_BREAK_DESC_LENGTH, 0, "desc-length"},
    {VTK_BREAK_DESC_OFFSET_UNALIGNED, 1, "desc-offset-unaligned"},
    {VTK_BREAK_DESC_SEQUENCE, 2, "desc-sequence"},
    {VTK_BREAK_DATA_COUNT, 0, "data-count"},
    {VTK_BREAK_DATA_SIGNATURE, 1, "data-signature"},
    {VTK_BREAK_DATA_SEQUENCE_HIGH, 0, "data-sequence-high"},
    {VTK_BREAK_DATA_SEQUENCE_LOW, 1, "data-sequence-low"},
    {VTK_BREAK_CHECKSUM, 0, "checksum"},
    /* The limit cases. */
    {VTK_BREAK_FLUSHED_TOO_BIG, 0, "flushed-too-big"},
    {VTK_BREAK_LAST_TOO_BIG, 0, "last-too-big"},
    {VTK_BREAK_DESC_OFFSET_TOO_BIG, 0, "desc-offset-too-big"},
    {VTK_BREAK_DESC_OFFSET_OVERFLOW, 0, "desc-offset-overflow"},
};
#define ALL_CASES (sizeof vtk_break_cases / sizeof vtk_break_cases[0])
const size_t vtk_break_case_count = ALL_CASES - LIMIT_CASES;
const vtk_break_case *const vtk_limit_cases =
    vtk_break_cases + (ALL_CASES - LIMIT_CASES);
const size_t vtk_limit_case_count = LIMIT_CASES;

/* ------------------------------------------------------------------------ */
/* Replay model. */

const uint8_t VTK_DERIVE_KAT_IN[16] = {0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6,
                                       0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC,
                                       0xAD, 0xAE, 0xAF, 0xB0};
const uint8_t VTK_DERIVE_KAT_OUT[16] = {0x8F, 0x81, 0x09, 0x17, 0x22, 0x42,
                                        0x73, 0x42, 0x97, 0x39, 0xD2, 0xD5,
                                        0xCE, 0x1C, 0x78, 0xF7};

/* RULES.md "derive(L)", transcribed from its text (mix: vtk_derive_mix). */
void vtk_derive_file_write_guid(const uint8_t log_guid[16], uint8_t out[16]) {
  uint64_t a = vtk_get_le64(log_guid) ^ UINT64_C(0x6766772D676F6C78);
  uint64_t b = vtk_get_le64(log_guid + 8) ^ UINT64_C(0x786468762D667767);
  for (int round = 0; round < 4; round++) {
    a = vtk_derive_mix(a + b);
    b = vtk_derive_mix(b ^ a);
  }
  vtk_put_le64(out, a);
  vtk_put_le64(out + 8, b);
  out[7] = (uint8_t)((out[7] & 0x0F) | 0x40);
  out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

void vtk_header_update(const uint8_t cur[VTK_HEADER_SIZE],
                       const uint8_t fwg[16], const uint8_t lg[16],
                       uint8_t out[VTK_HEADER_SIZE]) {
  memmove(out, cur, VTK_HEADER_SIZE);
  vtk_put_le64(out + 8, vtk_get_le64(out + 8) + 1);
  memcpy(out + 16, fwg, 16);
  memcpy(out + 48, lg, 16);
  vtk_header_raw_fix_checksum(out);
}

static void model_write(vtk_image *img, uint64_t off, const uint8_t *src,
                        uint64_t n) {
  if (n == 0)
    return; /* RULES.md entry check 10: ZeroLength 0 is a no-op */
  if (off + n > img->size)
    vtk_image_resize(img, off + n);
  if (src)
    memcpy(img->data + (size_t)off, src, (size_t)n);
  else
    memset(img->data + (size_t)off, 0, (size_t)n);
}

static void vtk_model_apply(vtk_image *img, const vtk_entry *entries, size_t n,
                            uint64_t min_size) {
  uint8_t sector[VTK_SECTOR];
  for (size_t i = 0; i < n; i++) {
    for (uint32_t j = 0; j < entries[i].desc_count; j++) {
      const vtk_desc *d = &entries[i].descs[j];
      if (d->kind == VTK_DATA) {
        vtk_desc_sector(d, sector);
        model_write(img, d->file_offset, sector, VTK_SECTOR);
      } else {
        model_write(img, d->file_offset, NULL, d->zero_length);
      }
    }
  }
  if (img->size < min_size)
    vtk_image_resize(img, min_size);
}

/* The header updates of a replay (RULES.md "Replay order") or of an armed
 * log's clear, each into the slot that is not current: with `fwg_first`,
 * one that sets FileWriteGuid to derive(LogGuid) when it differs; then two
 * that clear LogGuid. */
static void model_header_updates(vtk_image *after, int cur, int fwg_first) {
  uint8_t h[VTK_HEADER_SIZE], next[VTK_HEADER_SIZE], fwg[16], lg[16];
  static const uint8_t zero[16];
  int slot = 1 - cur;
  memcpy(h, vtk_header(after, cur), VTK_HEADER_SIZE);
  memcpy(lg, h + 48, 16);
  vtk_derive_file_write_guid(lg, fwg);
  int updates = fwg_first && memcmp(h + 16, fwg, 16) != 0 ? 3 : 2;
  for (int k = 0; k < updates; k++) {
    /* The first of three keeps LogGuid. */
    vtk_header_update(h, fwg, updates == 3 && k == 0 ? lg : zero, next);
    memcpy(vtk_header(after, slot), next, VTK_HEADER_SIZE);
    memcpy(h, next, VTK_HEADER_SIZE);
    slot = 1 - slot;
  }
}

void vtk_model_replay(const vtk_image *before, const vtk_entry *entries,
                      size_t n, vtk_image *after) {
  if (n == 0)
    die("vtk_model_replay: no entries");
  vtk_image_copy(after, before);
  int cur = vtk_image_current(before);
  if (cur < 0)
    die("vtk_model_replay: no valid header");
  vtk_model_apply(after, entries, n, entries[n - 1].last_file_offset);
  if (vtk_guid_is_zero(vtk_header(after, cur) + 48))
    die("vtk_model_replay: clean image");
  model_header_updates(after, cur, 1);
}

void vtk_model_clear(const vtk_image *before, vtk_image *after) {
  vtk_image_copy(after, before);
  int cur = vtk_image_current(before);
  if (cur < 0)
    die("vtk_model_clear: no valid header");
  if (vtk_guid_is_zero(vtk_header(after, cur) + 48))
    die("vtk_model_clear: clean image");
  model_header_updates(after, cur, 0);
}
