/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's logs (log_patterns.h), MS-VHDX 2.3.1 layouts written in
 * place: a 1 GiB log of valid entries is built in about a second, which
 * vtk_log_write_entry() (a buffer and a bytewise CRC per entry) is not made
 * for. Descriptor positions and byte order are the testkit's.
 */
#include "log_patterns.h"

#include <string.h>

/* The bytes of every data sector, but for its fields. */
static uint8_t fill_template[VTK_SECTOR];
static int fill_ready;

static uint8_t *sector_at(const vtk_lp_log *g, uint32_t s) {
  return g->log + (size_t)s * VTK_SECTOR;
}

static uint32_t rnd(vtk_lp_log *g, uint32_t bound) {
  return (uint32_t)(vtk_rng_next(&g->rng) % bound);
}

/* Entry header (MS-VHDX 2.3.1.1) in a zeroed first sector; Checksum left 0
 * for seal(). */
static void put_header(const vtk_lp_log *g, uint8_t *h, uint32_t sectors,
                       uint32_t tail, uint64_t seq, uint32_t count) {
  memset(h, 0, VTK_SECTOR);
  vtk_entry_header_put(h, sectors * VTK_SECTOR, seq, g->guid);
  vtk_put_le32(h + 12, tail);
  vtk_put_le32(h + 24, count);
  vtk_put_le64(h + 48, g->flushed);
  vtk_put_le64(h + 56, g->last);
}

/* Descriptor `k` of an entry whose first sector is `h` (entry contiguous). */
static uint8_t *desc_slot(uint8_t *h, uint32_t k) {
  return h + vtk_desc_pos(k);
}

/* Data descriptor (2.3.1.3); Leading/Trailing bytes are the 12 bytes the
 * data sector's signature and sequence fields displace. */
static void put_data_desc(uint8_t *d, uint64_t file_offset, uint64_t seq,
                          uint64_t salt) {
  memcpy(d, "desc", 4);
  vtk_put_le32(d + 4, (uint32_t)(salt * 2654435761u));
  vtk_put_le64(d + 8, salt ^ 0x5A5A5A5A5A5A5A5Aull);
  vtk_put_le64(d + 16, file_offset);
  vtk_put_le64(d + 24, seq);
}

/* Data sector (2.3.1.4): "data", SequenceHigh, 4084 bytes, SequenceLow. */
static void put_data_sector(uint8_t *p, uint64_t seq, uint64_t salt) {
  memcpy(p, fill_template, VTK_SECTOR);
  memcpy(p, "data", 4);
  vtk_put_le32(p + 4, (uint32_t)(seq >> 32));
  vtk_put_le64(p + 8, salt);
  vtk_put_le32(p + VTK_SECTOR - 4, (uint32_t)seq);
}

/* Checksum over the entry (field zero), with the caller's CRC if any. */
static void seal(const vtk_lp_log *g, uint8_t *h, uint32_t sectors, int bad) {
  uint32_t crc;
  vtk_put_le32(h + 4, 0);
  crc = (g->crc != NULL ? g->crc : vtk_crc32c)(0, h,
                                               (size_t)sectors * VTK_SECTOR);
  vtk_put_le32(h + 4, bad ? crc ^ 0x00010000u : crc);
}

static void layout(vtk_lp_log *g, vtk_lp_shape sh) {
  uint32_t s = 0, i = 0;
  if (sh == VTK_LP_HEAVY) {
    for (i = 0; i < g->n; i++)
      g->starts[i] = i;
    g->m = g->n;
    g->starts[g->m] = g->n;
    return;
  }
  while (s < g->n) {
    uint32_t len = 2 + rnd(g, 15);
    if (len > g->n - s)
      len = g->n - s;
    g->starts[i++] = s;
    s += len;
  }
  g->m = i;
  g->starts[i] = g->n;
}

static void write_light(vtk_lp_log *g, uint32_t i, uint64_t seq, uint32_t tail,
                        int bad_crc) {
  uint32_t s = g->starts[i], sectors = g->starts[i + 1] - s;
  uint32_t k = sectors - 1; /* data sectors */
  uint32_t z = (k == 0 || rnd(g, 4) == 0) ? 1u : 0u;
  uint8_t *h = sector_at(g, s);
  uint64_t off =
      g->target_base + (uint64_t)rnd(g, g->target_sectors - k) * VTK_SECTOR;
  uint32_t j;

  put_header(g, h, sectors, tail, seq, k + z);
  for (j = 0; j < k; j++) {
    uint64_t salt = ((uint64_t)s << 8) | j;
    put_data_desc(desc_slot(h, j), off + (uint64_t)j * VTK_SECTOR, seq, salt);
    put_data_sector(h + (size_t)(1 + j) * VTK_SECTOR, seq, salt);
  }
  if (z) {
    uint64_t zoff =
        g->target_base + (uint64_t)rnd(g, g->target_sectors - 16) * VTK_SECTOR;
    vtk_desc zd = vtk_zero(zoff, (uint64_t)(1 + rnd(g, 16)) * VTK_SECTOR);
    vtk_desc_put(desc_slot(h, k), &zd, seq);
  }
  seal(g, h, sectors, bad_crc);
}

static void write_heavy(vtk_lp_log *g, uint32_t i, uint64_t seq, uint32_t tail,
                        vtk_lp_flaw fl) {
  uint8_t *h = sector_at(g, g->starts[i]);
  uint32_t k;
  put_header(g, h, 1, tail, seq, VTK_DESC_FIRST);
  for (k = 0; k < VTK_DESC_FIRST; k++) {
    uint64_t off =
        g->target_base +
        (((uint64_t)i * VTK_DESC_FIRST + k) % g->target_sectors) * VTK_SECTOR;
    vtk_desc zd = vtk_zero(off, VTK_SECTOR);
    vtk_desc_put(desc_slot(h, k), &zd, seq);
  }
  if (fl == VTK_LP_FLAW_LAST_DESCRIPTOR) /* all but the last slot pass */
    desc_slot(h, VTK_DESC_FIRST - 1)[4] = 1;
  seal(g, h, 1, fl == VTK_LP_FLAW_CRC);
}

/* The age (0 = oldest) of the entry the Tail of the entry of age `j` names. */
static uint32_t tail_age(vtk_lp_tail rule, uint32_t j) {
  if (rule == VTK_LP_TAIL_OLDEST)
    return 0;
  if (rule == VTK_LP_TAIL_SELF)
    return j;
  return j > VTK_LP_WINDOW_ENTRIES ? j - VTK_LP_WINDOW_ENTRIES : 0;
}

/* A log of entries in one of the shapes, numbered `step` apart in circular
 * order starting at the oldest entry, Tails per `rule`. */
static void gen_entries(vtk_lp_log *g, vtk_lp_shape sh, vtk_lp_oldest old,
                        vtk_lp_tail rule, uint32_t step, vtk_lp_flaw fl) {
  uint32_t i, back, m0 = 0;
  layout(g, sh);
  if (old == VTK_LP_OLDEST_MIDDLE) {
    while (m0 < g->m && g->starts[m0] < g->n / 2)
      m0++;
    if (m0 == g->m)
      m0 = 0;
  } else if (old == VTK_LP_OLDEST_LAST) {
    m0 = g->m - 1;
  }
  for (i = 0; i < g->m; i++) {
    uint32_t j = (i + g->m - m0) % g->m; /* age order: 0 = oldest */
    uint64_t seq = VTK_LP_SEQ_BASE + (uint64_t)j * step;
    uint32_t tail = g->starts[(tail_age(rule, j) + m0) % g->m] * VTK_SECTOR;
    if (sh == VTK_LP_HEAVY)
      write_heavy(g, i, seq, tail, fl);
    else
      write_light(g, i, seq, tail, fl == VTK_LP_FLAW_CRC);
  }
  if (fl == VTK_LP_FLAW_LAST_DESCRIPTOR) {
    g->expect = VTK_LP_NONE_DESCRIPTOR_RESERVED;
    return;
  }
  if (fl == VTK_LP_FLAW_CRC) {
    g->expect = VTK_LP_NONE_CHECKSUM;
    return;
  }
  /* The newest entry's Tail starts the active sequence. */
  back = tail_age(rule, g->m - 1);
  g->expect = VTK_LP_SEQUENCE;
  g->expect_entries = g->m - back;
  g->expect_tail = g->starts[(back + m0) % g->m] * VTK_SECTOR;
}

/* (a) Every sector an entry header with the right GUID claiming the whole
 * log and 126 valid data descriptors in its first sector: every candidate
 * parses a full first sector, then fails DataCount (it would need the rest
 * of the log to be its 126 data sectors). */
static void gen_hdr126(vtk_lp_log *g) {
  uint32_t s, k;
  for (s = 0; s < g->n; s++) {
    uint8_t *h = sector_at(g, s);
    uint64_t seq = VTK_LP_SEQ_BASE + s;
    put_header(g, h, g->n, 0, seq, VTK_DESC_FIRST);
    for (k = 0; k < VTK_DESC_FIRST; k++)
      put_data_desc(desc_slot(h, k), g->target_base + (uint64_t)k * VTK_SECTOR,
                    seq, k);
  }
  g->expect = VTK_LP_NONE_DATA_COUNT;
}

/* (b) Entries of 256 sectors (2 descriptor sectors, 254 data descriptors,
 * 254 valid data sectors) whose checksum alone is wrong: each candidate
 * checks every descriptor and data sector, then pays a 1 MiB CRC to fail. */
static void gen_span_crc(vtk_lp_log *g) {
  const uint32_t span = 256, count = 254;
  uint32_t s, k;
  for (s = 0; s + span <= g->n; s += span) {
    uint8_t *h = sector_at(g, s);
    uint64_t seq = VTK_LP_SEQ_BASE + s;
    put_header(g, h, span, s * VTK_SECTOR, seq, count);
    memset(h + VTK_SECTOR, 0, VTK_SECTOR); /* descriptor sector 2 */
    for (k = 0; k < count; k++) {
      put_data_desc(desc_slot(h, k), g->target_base + (uint64_t)k * VTK_SECTOR,
                    seq, k);
      put_data_sector(h + (size_t)(2 + k) * VTK_SECTOR, seq, k);
    }
    seal(g, h, span, 1);
  }
  g->expect = VTK_LP_NONE_CHECKSUM;
}

/* (d) Overlapping claims: a header every 16 sectors claiming 127 sectors
 * (126 data descriptors), 15 valid data sectors between headers. Each claim
 * covers the next 7 headers; each candidate reads its 126 descriptors and
 * 15 data sectors and fails on the next header. */
static void gen_overlap(vtk_lp_log *g) {
  const uint32_t every = 16;
  uint32_t s, k;
  for (s = 0; s < g->n; s += every) {
    uint8_t *h = sector_at(g, s);
    uint64_t seq = VTK_LP_SEQ_BASE + s;
    put_header(g, h, VTK_DESC_FIRST + 1, 0, seq, VTK_DESC_FIRST);
    for (k = 0; k < VTK_DESC_FIRST; k++)
      put_data_desc(desc_slot(h, k), g->target_base + (uint64_t)k * VTK_SECTOR,
                    seq, k);
    for (k = 1; k < every && s + k < g->n; k++)
      put_data_sector(h + (size_t)k * VTK_SECTOR, seq, k);
  }
  g->expect = VTK_LP_NONE_DATA_SIGNATURE;
}

/* One pattern a line: name, hostile, kind, shape, oldest entry, Tail rule,
 * numbering step, flaw, what the benchmark prints. */
/* clang-format off */
const vtk_lp_pattern vtk_lp_patterns[] = {
    {"b-full", 0, VTK_LP_ENTRIES, VTK_LP_LIGHT, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_OLDEST, 1, 0, "valid entries 2..16 sectors, whole log one sequence, head at end"},
    {"b-end", 0, VTK_LP_ENTRIES, VTK_LP_LIGHT, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_WINDOW, 1, 0, "same entries, active sequence = last ~28 entries, ending at the end"},
    {"b-circ", 0, VTK_LP_ENTRIES, VTK_LP_LIGHT, VTK_LP_OLDEST_MIDDLE, VTK_LP_TAIL_WINDOW, 1, 0, "circular log, head in the middle, ~28 entries active"},
    {"h-hdr126", 1, VTK_LP_HDR126, VTK_LP_LIGHT, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_OLDEST, 1, 0, "(a) every sector a header claiming the log, 126 valid descriptors"},
    {"h-zero126-badcrc", 1, VTK_LP_ENTRIES, VTK_LP_HEAVY, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_OLDEST, 1, VTK_LP_FLAW_CRC, "(a') every sector a 126-zero-descriptor entry, CRC wrong"},
    {"h-zero126-lastbad", 1, VTK_LP_ENTRIES, VTK_LP_HEAVY, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_OLDEST, 1, VTK_LP_FLAW_LAST_DESCRIPTOR, "(a'') the same, CRC right, last descriptor's Reserved wrong: every candidate takes the slow path for its error"},
    {"h-span-crc", 1, VTK_LP_SPAN_CRC, VTK_LP_LIGHT, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_OLDEST, 1, 0, "(b) 1 MiB entries, all sectors valid, CRC fails at the end"},
    {"h-overlap", 1, VTK_LP_OVERLAP, VTK_LP_LIGHT, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_OLDEST, 1, 0, "(d) header every 16 sectors claiming 127, overlapping claims"},
    {"h-break-light", 1, VTK_LP_ENTRIES, VTK_LP_LIGHT, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_SELF, 2, 0, "(c) valid light entries, numbers 2 apart: each validated twice"},
    {"h-break-heavy", 1, VTK_LP_ENTRIES, VTK_LP_HEAVY, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_SELF, 2, 0, "(c) valid 126-zero-descriptor entries, numbers 2 apart"},
    {"h-wrap-light", 1, VTK_LP_ENTRIES, VTK_LP_LIGHT, VTK_LP_OLDEST_LAST, VTK_LP_TAIL_OLDEST, 1, 0, "oldest entry last: wrapping run re-reads all, whole log active"},
    {"h-wrap-heavy", 1, VTK_LP_ENTRIES, VTK_LP_HEAVY, VTK_LP_OLDEST_LAST, VTK_LP_TAIL_OLDEST, 1, 0, "wrap re-read + whole log active, 126 zero descriptors/sector"},
    {"h-heavy-full", 1, VTK_LP_ENTRIES, VTK_LP_HEAVY, VTK_LP_OLDEST_FIRST, VTK_LP_TAIL_OLDEST, 1, 0, "valid 126-zero-descriptor entries, whole log one sequence"},
};
/* clang-format on */
const size_t vtk_lp_pattern_count =
    sizeof vtk_lp_patterns / sizeof vtk_lp_patterns[0];

void vtk_lp_generate(vtk_lp_log *g, const vtk_lp_pattern *pt) {
  if (!fill_ready) {
    vtk_rng rng;
    size_t i;
    vtk_rng_seed(&rng, 0xF111u);
    for (i = 0; i < VTK_SECTOR; i += 8)
      vtk_put_le64(fill_template + i, vtk_rng_next(&rng));
    fill_ready = 1;
  }
  vtk_rng_seed(&g->rng, 0xB0E5u + g->n);
  g->expect_entries = 0;
  g->expect_tail = 0;
  switch (pt->kind) {
  case VTK_LP_ENTRIES:
    gen_entries(g, pt->sh, pt->old, pt->rule, pt->step, pt->fl);
    break;
  case VTK_LP_HDR126:
    gen_hdr126(g);
    break;
  case VTK_LP_SPAN_CRC:
    gen_span_crc(g);
    break;
  case VTK_LP_OVERLAP:
    gen_overlap(g);
    break;
  }
}
