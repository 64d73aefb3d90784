/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus: the test side's scenario generator for fuzz/. Writes the
 * seed corpus of every fuzz target, the same bytes on every run, into
 * CORPUS/<target>/seed-*, or with --images the whole scenario images the
 * differential replayer runs over (gen_images.c); built with the testkit
 * (testkit/vhdx_builder.h), which shares no code with lib/.
 *
 *   gen_corpus CORPUS_DIR [SAMPLES_DIR]
 *   gen_corpus --images [--seed-form] OUTDIR
 *
 * Existing seed-* files are removed first; every other file (regress-*
 * inputs saved from findings) is kept. Images found in SAMPLES_DIR
 * (*.vhdx, e.g. made by QEMU) are added to the fuzz_image corpus.
 *
 * Input layouts (see each target's header comment):
 *   fuzz_entry         GUID[16] | options u32 | offset u32 x 8 | log
 *   fuzz_search        GUID[16] | log
 *   fuzz_log_repaired  options u8 | GUID[16] | log
 *   fuzz_image         file_size u64 | window off u64 | window size u32 |
 *                      packed image (fuzz/support/packed.h; its tail
 *                      cut after the last non-zero byte)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "gen_images.h"
#include "packed.h"
#include "vhdx_builder.h"

#define KIB 1024u
#define SMALL_LOG (64u * KIB) /* 16 sectors, for the cases that need room */

static const char *corpus_dir;
static unsigned long files_written;
static unsigned long long bytes_written;

void gen_die(const char *what) {
  perror(what);
  exit(1);
}

void *gen_calloc(size_t size) {
  void *p = calloc(1, size);
  if (p == NULL)
    gen_die("calloc");
  return p;
}

/* ------------------------------------------------------------------------ */
/* Output.                                                                  */

typedef struct buf {
  uint8_t *p;
  size_t n, cap;
} buf;

static void put(buf *b, const void *data, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n)
      cap *= 2;
    b->p = realloc(b->p, cap);
    if (b->p == NULL)
      gen_die("realloc");
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
}

static void put_u32(buf *b, uint32_t v) {
  uint8_t t[4];
  vtk_put_le32(t, v);
  put(b, t, 4);
}

static void emit(const char *target, const char *name, buf *b) {
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s/seed-%s", corpus_dir, target, name);
  if (fuzz_write_file(path, NULL, 0, b->p, b->n) != 0)
    gen_die(path);
  files_written++;
  bytes_written += b->n;
  free(b->p);
  memset(b, 0, sizeof(*b));
}

/* fuzz_walk() callback: remove a seed-* file. */
static int remove_seed(const char *path, void *ctx) {
  const char *base = strrchr(path, '/');
  (void)ctx;
  if (strncmp(base != NULL ? base + 1 : path, "seed-", 5) == 0 &&
      remove(path) != 0)
    gen_die(path);
  return 0;
}

/* Make CORPUS/<target>/ and, if `clean`, remove its old seed-* files. */
static void prepare(const char *target, int clean) {
  char dir[1024];
  snprintf(dir, sizeof(dir), "%s/%s", corpus_dir, target);
  if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    gen_die(dir);
  if (clean)
    fuzz_walk(dir, remove_seed, NULL);
}

/* Their folders also keep the seed-gen-* scenario images (docs/FUZZING.md
 * "Corpus"), so these are made but never cleaned. */
static const char *const replay_targets[3] = {
    "fuzz_replay_diff", "fuzz_replay_diff_repaired", "fuzz_load"};

/* ------------------------------------------------------------------------ */
/* Logs.                                                                    */

static uint8_t log_guid[16]; /* the header's LogGuid of every log seed */
static uint8_t other_guid[16];

static vtk_entry entry(uint64_t seq, uint32_t tail, const vtk_desc *d,
                       uint32_t n) {
  return vtk_entry_make(seq, tail, log_guid, 4u * VTK_MIB, 4u * VTK_MIB, d, n);
}

/*
 * One log case, for the three log targets. `starts` are the log offsets of
 * the entries worth checking one by one (fuzz_entry takes up to 8).
 * `repair` is fuzz_log_repaired's options byte.
 */
static void emit_log(const char *name, const uint8_t *log, uint32_t length,
                     const uint32_t *starts, size_t nstarts, uint8_t repair) {
  buf b;
  size_t i;

  memset(&b, 0, sizeof(b));
  put(&b, log_guid, 16);
  put(&b, log, length);
  emit("fuzz_search", name, &b);

  put(&b, &repair, 1);
  put(&b, log_guid, 16);
  put(&b, log, length);
  emit("fuzz_log_repaired", name, &b);

  put(&b, log_guid, 16);
  put_u32(&b, 0);         /* options: bytes as they are */
  for (i = 0; i < 7; i++) /* sector numbers (bit 31 clear) */
    put_u32(&b, nstarts ? starts[i % nstarts] / VTK_SECTOR : 0);
  put_u32(&b, 0x80000000u | 512u); /* a raw offset inside a sector: refused */
  put(&b, log, length);
  emit("fuzz_entry", name, &b);
}

/*
 * Data sectors: mostly zeros, so that the corpus compresses (vtk_data()'s
 * own pattern is random), but each seed number gives a distinct sector.
 */
#define POOL 16
static uint8_t pool[POOL][VTK_SECTOR];

static void init_pool(void) {
  uint32_t i;
  for (i = 0; i < POOL; i++) {
    vtk_pattern(pool[i], 16, i + 1);                   /* LeadingBytes.. */
    vtk_pattern(pool[i] + VTK_SECTOR - 16, 16, i + 1); /* ..TrailingBytes */
  }
}

static vtk_desc data_desc(uint64_t file_offset, uint32_t seed) {
  vtk_desc x = vtk_data(file_offset, seed);
  x.sector = pool[seed % POOL];
  return x;
}

/* Descriptor targets never hit the headers or a log at [1 MiB, 2 MiB). */
#define AT_BAT (2u * VTK_MIB)
#define AT_META (3u * VTK_MIB)

/*
 * A log of `len` bytes holding one entry at offset 0 (Tail at itself) with
 * descriptors `d`, broken by `bc` (checksum recomputed) unless NULL, emitted
 * as `name` with fuzz_log_repaired options `repair`.
 */
static void seed_one_entry(const char *name, uint32_t len, uint64_t seq,
                           const vtk_desc *d, uint32_t n,
                           const vtk_break_case *bc, uint8_t repair) {
  static const uint32_t start = 0;
  uint8_t *log = gen_calloc(len);
  vtk_entry e = entry(seq, 0, d, n);
  vtk_log_write_entry(log, len, 0, &e);
  if (bc != NULL && vtk_entry_break(log, len, 0, bc->what, bc->index, 1) != 0) {
    fprintf(stderr, "gen_corpus: cannot break %s\n", bc->name);
    exit(1);
  }
  emit_log(name, log, len, &start, 1, repair);
  free(log);
}

/* A 16 KiB log holding the run `e` (up to 8 entries, back to back from
 * offset 0), each entry checked one by one too. */
static void seed_run(const char *name, const vtk_entry *e, uint32_t n,
                     uint8_t repair) {
  const uint32_t len = 16 * KIB;
  uint32_t starts[8], i, off = 0;
  uint8_t *log = gen_calloc(len);
  if (n > 8) {
    fprintf(stderr, "gen_corpus: %s: more than 8 entries\n", name);
    exit(1);
  }
  for (i = 0; i < n; i++) {
    starts[i] = off;
    off = vtk_log_write_run(log, len, off, e + i, 1);
  }
  emit_log(name, log, len, starts, n, repair);
  free(log);
}

/* Single entries and short runs, one case per shape. */
static void log_seeds(void) {
  static const vtk_break_case middle = {VTK_BREAK_DESC_SIGNATURE, 200,
                                        "descriptor 200"};
  vtk_desc d[300];
  vtk_entry e[64];
  uint32_t starts[64];
  uint8_t *log;
  uint32_t i, off, len;

  /* Logs are as short as each case allows: 16 KiB unless it needs more. */
  len = 16 * KIB;

  /* One entry: a zero descriptor and a data descriptor, Tail = itself. */
  d[0] = vtk_zero(AT_BAT, 8192);
  d[1] = data_desc(AT_META, 1);
  seed_one_entry("log-one-entry", len, 1, d, 2, NULL, 3);

  /* Valid writes at 2^61 and more: outside the descriptor check's fast
   * form, so the exact bounds rules accept them (2^62 is the limit). */
  {
    vtk_desc big[2];
    big[0] = vtk_zero(((uint64_t)1 << 62) - 8192, 8192);
    big[1] = data_desc(((uint64_t)1 << 61) + VTK_SECTOR, 2);
    seed_one_entry("log-writes-past-2-61", len, 1, big, 2, NULL, 3);
  }

  /* Two entries, the second the head, Tail at the first. */
  e[0] = entry(10, 0, d, 2);
  e[1] = entry(11, 0, d + 1, 1);
  seed_run("log-two-entries", e, 2, 3);

  /* Many entries (some without descriptors) filling 15 of 16 sectors, the
   * Tail trailing by three entries as a checkpointing writer leaves it. */
  log = gen_calloc(SMALL_LOG);
  d[2] = vtk_zero(AT_BAT + 65536, 0); /* zero length: allowed, a no-op */
  for (i = 0, off = 0; i < 12; i++) {
    starts[i] = off;
    e[i] = entry(100 + i, i >= 3 ? starts[i - 3] : 0, d + i % 3,
                 i % 4 == 3 ? 0 : 1);
    off = vtk_log_write_run(log, SMALL_LOG, off, e + i, 1);
  }
  emit_log("log-many-entries", log, SMALL_LOG, starts, 8, 3);
  free(log);

  /* Wrapped: the tail entry starts two sectors before the end and runs on
   * at offset 0; an older complete sequence sits further on. */
  log = gen_calloc(SMALL_LOG);
  d[3] = data_desc(AT_META + 4096, 2);
  d[4] = data_desc(AT_META + 8192, 3);
  e[0] = entry(3, 5 * VTK_SECTOR, d, 1);
  e[1] = entry(4, 5 * VTK_SECTOR, d + 1, 1);
  vtk_log_write_run(log, SMALL_LOG, 5 * VTK_SECTOR, e, 2);
  e[2] = entry(5, 14 * VTK_SECTOR, d + 3, 2); /* sectors 14, 15, 0 */
  e[3] = entry(6, 14 * VTK_SECTOR, d, 1);     /* sector 1 */
  e[4] = entry(7, 14 * VTK_SECTOR, d + 1, 1); /* sectors 2, 3 */
  vtk_log_write_run(log, SMALL_LOG, 14 * VTK_SECTOR, e + 2, 3);
  starts[0] = 14 * VTK_SECTOR;
  starts[1] = 1 * VTK_SECTOR;
  starts[2] = 2 * VTK_SECTOR;
  starts[3] = 5 * VTK_SECTOR;
  emit_log("log-wrapped", log, SMALL_LOG, starts, 4, 3);
  free(log);

  /* An entry that is the whole log: 1 descriptor sector + 7 data. */
  for (i = 0; i < 7; i++)
    d[i] = data_desc(AT_META + i * VTK_SECTOR, 10 + i);
  seed_one_entry("log-entry-fills-log", 32 * KIB, 1, d, 7, NULL, 3);

  /* No descriptors at all. */
  seed_one_entry("log-zero-descriptors", 8 * KIB, 1, d, 0, NULL, 3);

  /* More than 126 descriptors: 127 zero + 3 data (2 descriptor sectors),
   * and 300 zero descriptors (3 descriptor sectors: 126 + 128 + 46). */
  for (i = 0; i < 127; i++)
    d[i] = vtk_zero(AT_BAT + i * VTK_SECTOR, VTK_SECTOR);
  for (; i < 130; i++)
    d[i] = data_desc(AT_META + i * VTK_SECTOR, i);
  seed_one_entry("log-130-descriptors", 24 * KIB, 1, d, 130, NULL, 3);
  for (i = 0; i < 300; i++)
    d[i] = vtk_zero(AT_BAT + i * VTK_SECTOR, VTK_SECTOR);
  seed_one_entry("log-300-descriptors", 16 * KIB, 1, d, 300, NULL, 3);
  /* The same with descriptor 200 (in the middle descriptor sector) broken. */
  seed_one_entry("log-300-descriptors-middle-broken", 16 * KIB, 1, d, 300,
                 &middle, 3);
}

/* Runs: a ring, a head whose Tail names nothing, competing sequences, a
 * foreign entry, nothing at all. */
static void log_seeds_runs(void) {
  vtk_desc d[300];
  vtk_entry e[64];
  uint32_t starts[64];
  uint8_t *log;
  uint32_t i, off, len;

  /* A ring: 256 KiB, 64 entries written round it twice, so the newest
   * overwrite the oldest and the active sequence wraps. */
  len = 256 * KIB;
  log = gen_calloc(len);
  for (i = 0; i < 8; i++)
    d[i] = i % 2 ? data_desc(AT_META + i * VTK_SECTOR, i)
                 : vtk_zero(AT_BAT + i * VTK_SECTOR, 2 * VTK_SECTOR);
  {
    uint32_t pos[64];
    for (i = 0, off = 0; i < 64; i++) {
      vtk_entry x;
      pos[i] = off;
      x = entry(1000 + i, pos[i >= 6 ? i - 6 : 0], d + i % 4, 1 + i % 5);
      off = vtk_log_write_run(log, len, off, &x, 1);
    }
    for (i = 0; i < 8; i++)
      starts[i] = pos[56 + i];
  }
  emit_log("log-ring", log, len, starts, 8, 3);
  free(log);

  /* The head's Tail names no entry of its run: no complete sequence. */
  e[0] = entry(20, 0, d, 1);
  e[1] = entry(21, 3 * VTK_SECTOR, d, 1);
  seed_run("log-incomplete", e, 2, 3);

  /* Two complete sequences (the newer wins) and a newer incomplete run,
   * split by a numbering gap from a valid entry after it. */
  log = gen_calloc(SMALL_LOG);
  d[0] = vtk_zero(AT_BAT, 8192);
  e[0] = entry(1, 0, d, 1);
  e[1] = entry(2, 0, d, 1);
  vtk_log_write_run(log, SMALL_LOG, 0, e, 2);
  e[2] = entry(7, 4 * VTK_SECTOR, d, 1);
  e[3] = entry(8, 4 * VTK_SECTOR, d, 1);
  e[4] = entry(10, 4 * VTK_SECTOR, d, 1); /* gap: starts a new run */
  vtk_log_write_run(log, SMALL_LOG, 4 * VTK_SECTOR, e + 2, 3);
  e[5] = entry(30, 12 * VTK_SECTOR, d, 1); /* Tail not in its run */
  vtk_log_write_run(log, SMALL_LOG, 10 * VTK_SECTOR, e + 5, 1);
  starts[0] = 0;
  starts[1] = 4 * VTK_SECTOR;
  starts[2] = 6 * VTK_SECTOR;
  starts[3] = 10 * VTK_SECTOR;
  emit_log("log-competing-sequences", log, SMALL_LOG, starts, 4, 3);
  free(log);

  /* An entry of another log (foreign GUID) between two of ours. */
  e[0] = entry(5, 0, d, 1);
  e[1] = entry(6, 0, d, 1);
  memcpy(e[1].log_guid, other_guid, 16);
  e[2] = entry(7, 2 * VTK_SECTOR, d, 1);
  seed_run("log-foreign-entry", e, 3, 0);

  /* Nothing at all. */
  seed_run("log-empty", NULL, 0, 3);
}

/* Every entry rule broken once (checksum recomputed, so only that rule
 * fails), on an entry with a zero, a data and a data descriptor. */
static void log_seeds_broken(void) {
  vtk_desc d[3];
  uint32_t i, n;
  d[0] = vtk_zero(AT_BAT, 8192);
  d[1] = data_desc(AT_META, 1);
  d[2] = data_desc(AT_META + VTK_SECTOR, 2);
  n = (uint32_t)(vtk_break_case_count + vtk_limit_case_count);
  for (i = 0; i < n; i++) {
    /* The rule cases, then the limit cases: valid entries past our 2^62
     * bound. */
    const vtk_break_case *bc = &vtk_break_cases[i];
    char name[64];
    snprintf(name, sizeof(name), "break-%s", bc->name);
    /* Both halves of the sequence number in use. */
    seed_one_entry(name, 16 * KIB, 0x100000007ull, d, 3, bc, 0);
  }
}

/* ------------------------------------------------------------------------ */
/* Images.                                                                  */

/*
 * Input `name` of `target`: `prefix` (its first `prefix_len` bytes), then
 * the image packed (packed.h, options 0; an image under 1 MiB is padded to
 * 1 MiB). The packed size is always the image's own, never a size the
 * prefix states: fuzz_image seeds such as image-file-too-small claim a file
 * size that differs from the bytes they carry. A fresh buffer per target:
 * emit() consumes it.
 */
static void emit_packed(const char *target, const char *name,
                        const vtk_image *img, const uint8_t *prefix,
                        size_t prefix_len) {
  size_t n = img->size > VTK_MIB ? (size_t)img->size : VTK_MIB;
  uint8_t *whole = gen_calloc(n), *packed = NULL;
  size_t packed_size = 0;
  buf b;
  memcpy(whole, img->data, (size_t)img->size);
  if (rd_pack(whole, n, 0, &packed, &packed_size) != 0)
    gen_die("rd_pack");
  memset(&b, 0, sizeof(b));
  put(&b, prefix, prefix_len);
  put(&b, packed, packed_size);
  emit(target, name, &b);
  free(packed);
  free(whole);
}

/* fuzz_image input: the file size, a window (over header 1 unless said
 * otherwise), the image packed (what packing drops, e.g. region table bytes
 * past 1 KiB, is zero in every image made here). */
static void emit_image_sized(const char *name, const vtk_image *img,
                             uint64_t file_size, uint64_t window) {
  uint8_t prefix[20];
  vtk_put_le64(prefix, file_size);
  vtk_put_le64(prefix + 8, window);
  vtk_put_le32(prefix + 16, 65535); /* 64 KiB window */
  emit_packed("fuzz_image", name, img, prefix, sizeof prefix);
}

static void emit_image(const char *name, const vtk_image *img) {
  emit_image_sized(name, img, img->size, VTK_HEADER1);
}

/* emit_image(), then the image freed. */
static void emit_image_done(const char *name, vtk_image *img) {
  emit_image(name, img);
  vtk_image_free(img);
}

static void spec_clean(vtk_image_spec *s) {
  vtk_image_spec_default(s);
  s->fill_seed = 0; /* zeros past 1 MiB: they compress */
}

/*
 * Seeds stay small: a seed whose parse stops at a header rule needs no
 * region tables, and a valid image needs only region table 1 (copy 2 is
 * then invalid and unused), so the rest is zeroed and cut off.
 */
static void drop_region_tables(vtk_image *img, int from) {
  int w;
  for (w = from; w < 2; w++)
    memset(vtk_region_table(img, w), 0, VTK_REGION_SIZE);
}

/* A dirty image: the default layout with `n` entries written from log
 * offset `at`. */
static void dirty(vtk_image *img, const vtk_entry *e, size_t n, uint32_t at) {
  vtk_image_spec s;
  uint8_t *log = gen_calloc(VTK_MIB);
  spec_clean(&s);
  vtk_image_build(img, &s);
  drop_region_tables(img, 1);
  vtk_log_write_run(log, VTK_MIB, at, e, n);
  vtk_image_put_log(img, log, VTK_MIB, log_guid);
  free(log);
}

/* The image of `s`, its region tables from copy `drop_from` on dropped,
 * emitted as `name`. */
static void seed_spec(const char *name, const vtk_image_spec *s,
                      int drop_from) {
  vtk_image img;
  vtk_image_build(&img, s);
  drop_region_tables(&img, drop_from);
  emit_image(name, &img);
  vtk_image_free(&img);
}

static void image_seeds(void) {
  vtk_image_spec s;
  vtk_image img;

  /* The one seed with both region tables, as every real image has. */
  spec_clean(&s);
  vtk_image_build(&img, &s);
  emit_image("image-clean", &img);
  vtk_region_table(&img, 0)[100] ^= 1; /* copy 1 corrupt: copy 2 used */
  emit_image_done("image-region1-corrupt", &img);

  /* File identifier and size: nothing after the first bytes matters. */
  spec_clean(&s);
  vtk_image_build(&img, &s);
  drop_region_tables(&img, 0);
  memset(vtk_header(&img, 0), 0, VTK_HEADER_SIZE);
  memset(vtk_header(&img, 1), 0, VTK_HEADER_SIZE);
  emit_image("image-no-valid-header", &img);
  emit_image_sized("image-file-too-small", &img, VTK_MIB / 2, 0);
  memcpy(img.data, "vhdxfilf", 8);
  emit_image_done("image-bad-signature", &img);

  /* Headers. */
  spec_clean(&s);
  s.header_seq[0] = 3;
  s.header_seq[1] = 2;
  vtk_image_build(&img, &s);
  drop_region_tables(&img, 1);
  emit_image("image-header1-current", &img);
  vtk_header(&img, 0)[100] ^= 1; /* checksum now wrong: header 2 used */
  emit_image_done("image-header1-corrupt", &img);

  spec_clean(&s);
  vtk_image_build(&img, &s);
  drop_region_tables(&img, 1);
  vtk_header(&img, 1)[100] ^= 1; /* header 1 the only valid one */
  emit_image_done("image-header2-corrupt", &img);

  spec_clean(&s);
  s.log_length = 0; /* a clean image without a log: allowed */
  seed_spec("image-clean-no-log", &s, 1);

  spec_clean(&s);
  s.header_seq[0] = s.header_seq[1] = 5;
  vtk_image_build(&img, &s);
  drop_region_tables(&img, 1);
  emit_image("image-header-tie-identical", &img); /* QEMU's quirk */
  drop_region_tables(&img, 0);
  vtk_put_le32(vtk_header(&img, 1) + 100, 1);
  vtk_header_fix_checksum(&img, 1);
  emit_image_done("image-header-tie-differs", &img);

  spec_clean(&s);
  s.version = 2;
  seed_spec("image-header-version", &s, 0);

  spec_clean(&s);
  s.log_version = 1;
  vtk_guid(s.log_guid, 1);
  seed_spec("image-log-version", &s, 0);
  s.log_version = 0;
  vtk_image_build(&img, &s);
  drop_region_tables(&img, 0);
  emit_image_sized("image-log-beyond-file", &img, VTK_MIB + VTK_SECTOR, 0);
  vtk_image_free(&img);

  spec_clean(&s);
  s.log_offset = VTK_MIB + VTK_SECTOR;
  seed_spec("image-log-unaligned", &s, 0);
}

/* The clean image, copy 2 of the region table dropped (so copy 1's error is
 * the one reported), copy 1 claiming `count` entries. */
static void region_count_image(vtk_image *img, uint32_t count) {
  vtk_image_spec s;
  spec_clean(&s);
  vtk_image_build(img, &s);
  drop_region_tables(img, 1);
  vtk_region_set_count(img, 0, count);
  vtk_region_fix_checksum(img, 0);
}

/* Region table rules. */
static void image_seeds_regions(void) {
  vtk_image_spec s;
  vtk_image img;

  region_count_image(&img, 2048);
  emit_image("image-region-count", &img);
  vtk_region_table(&img, 0)[100] ^= 1;
  emit_image_done("image-no-valid-region-table", &img);

  spec_clean(&s);
  s.bat_offset = 2u * VTK_MIB + VTK_SECTOR;
  seed_spec("image-region-unaligned", &s, 1);

  spec_clean(&s);
  memcpy(s.extra[0].guid, VTK_GUID_BAT, 16);
  s.extra[0].file_offset = 5u * VTK_MIB;
  s.extra[0].length = VTK_MIB;
  s.extra_count = 1;
  seed_spec("image-region-duplicate", &s, 1);

  spec_clean(&s);
  vtk_guid(s.extra[0].guid, 77);
  s.extra[0].file_offset = 5u * VTK_MIB;
  s.extra[0].length = VTK_MIB;
  s.extra[0].required = 1;
  s.extra_count = 1;
  seed_spec("image-region-unknown-required", &s, 1);
  s.extra[0].required = 0;
  s.extra[1] = s.extra[0];
  s.extra[1].file_offset = 6u * VTK_MIB;
  s.extra[1].length = 0; /* zero-length regions overlap nothing */
  vtk_guid(s.extra[1].guid, 78);
  s.extra_count = 2;
  seed_spec("image-region-unknown-optional", &s, 1);

  region_count_image(&img, 1);
  emit_image_done("image-region-missing", &img);

  spec_clean(&s);
  s.metadata_offset = 2u * VTK_MIB;
  seed_spec("image-region-overlap", &s, 1);

  spec_clean(&s);
  s.log_offset = 2u * VTK_MIB;
  seed_spec("image-log-overlaps-region", &s, 1);
}

/* Interrupted replays and dirty logs. */
static void image_seeds_dirty(void) {
  vtk_image_spec s;
  vtk_image img;
  vtk_desc d[8];
  vtk_entry e[8];
  int cur;

  /* Clean, but our own replay stopped between the two final header
   * writes: header 1 (seq 3, LogGuid 0, FWG derived) is current, header 2
   * (seq 2) still names the log. */
  spec_clean(&s);
  s.header_seq[0] = 2;
  s.header_seq[1] = 1;
  memcpy(s.log_guid, log_guid, 16);
  vtk_image_build(&img, &s);
  drop_region_tables(&img, 1);
  {
    uint8_t fwg[16], zero[16], out[VTK_HEADER_SIZE];
    memset(zero, 0, 16);
    vtk_derive_file_write_guid(log_guid, fwg);
    memcpy(vtk_header(&img, 1), vtk_header(&img, 0), VTK_HEADER_SIZE);
    vtk_header_update(vtk_header(&img, 1), fwg, zero, out);
    memcpy(vtk_header(&img, 0), out, VTK_HEADER_SIZE);
    memcpy(vtk_header(&img, 1) + 16, fwg, 16);
    vtk_header_fix_checksum(&img, 1);
  }
  emit_image_done("image-clean-interrupted-replay", &img);

  /*
   * Dirty images: at least 1 MiB + the entries each (the log starts at
   * 1 MiB), so only a few; the fuzzer gets the other plan failures by
   * mutation (file size in the input prefix: E_FILE_TRUNCATED; a flipped
   * byte: no sequence; descriptor offsets and header GUIDs, whose
   * checksums libFuzzer's comparison tracing supplies).
   */
  d[0] = vtk_zero(AT_BAT, 8192);
  d[1] = data_desc(AT_META, 1);
  e[0] = entry(1, 0, d, 2);
  dirty(&img, e, 1, 0);
  /* The window (fuzz_image's window_offset): from the middle of the zero
   * write of descriptor 0 on, cutting it. */
  emit_image_sized("image-dirty-one-entry", &img, img.size,
                   1ull << 63 | 0ull << 32 | (32768u + 4096u));
  vtk_image_free(&img);

  /* Wrapped round the end of the 1 MiB log; the file grows on replay;
   * the FileWriteGuid is already the derived one (no first update). */
  d[2] = data_desc(5u * VTK_MIB, 2); /* past the end of the 4 MiB file */
  e[0] = entry(41, VTK_MIB - VTK_SECTOR, d, 2); /* last sector, then 0 */
  e[1] = entry(42, VTK_MIB - VTK_SECTOR, d + 1, 2);
  e[1].last_file_offset = 6u * VTK_MIB;
  dirty(&img, e, 2, VTK_MIB - VTK_SECTOR);
  cur = vtk_image_current(&img); /* before the edit makes it invalid */
  vtk_derive_file_write_guid(log_guid, vtk_header(&img, cur) + 16);
  vtk_header_fix_checksum(&img, cur);
  /* The window: from 2 KiB into the data sector of descriptor 3 (the write
   * past the file's end), cutting it. */
  emit_image_sized("image-dirty-wrapped-grows", &img, img.size,
                   1ull << 63 | 3ull << 32 | (32768u + 2048u));
  vtk_image_free(&img);

  /* A descriptor aimed at header 1. */
  d[2] = data_desc(VTK_HEADER1, 3);
  e[0] = entry(1, 0, d + 2, 1);
  dirty(&img, e, 1, 0);
  emit_image_done("image-dirty-target-header", &img);
}

/* The image as a seed of fuzz_image and, after a zero 4-byte prefix (crash
 * point and overlay range picks: the defaults), of the differential targets
 * and fuzz_load; then freed. */
static void emit_everywhere(const char *name, vtk_image *img) {
  static const uint8_t picks[4];
  size_t i;
  emit_image(name, img);
  for (i = 0; i < 3; i++)
    emit_packed(replay_targets[i], name, img, picks, sizeof picks);
  vtk_image_free(img);
}

/*
 * RULES.md "Armed logs", the 2^62 bound of "Plan" 1 and logged region-table
 * writes ("Plan" 2 and 4): one image per state and rule.
 */
static void armed_and_plan_seeds(void) {
  vtk_image img;
  vtk_desc d[4];
  vtk_entry e[2];
  uint8_t sector[VTK_SECTOR];

  memset(e, 0, sizeof(e));
  /* Armed, nothing carries the GUID: cleared. */
  dirty(&img, e, 0, 0);
  emit_everywhere("image-armed-empty", &img);

  /* Armed, the entry torn (its checksum no longer matches): cleared. */
  d[0] = data_desc(2u * VTK_MIB, 1);
  e[0] = entry(5, 0, d, 1);
  dirty(&img, e, 1, 0);
  vtk_entry_break(img.data + VTK_MIB, VTK_MIB, 0, VTK_BREAK_CHECKSUM, 0, 0);
  emit_everywhere("image-armed-torn", &img);

  /* Armed and damaged: a header field no writer writes; a checksummed entry
   * that breaks a rule; a valid entry outside a complete sequence. */
  dirty(&img, e, 1, 0);
  vtk_entry_break(img.data + VTK_MIB, VTK_MIB, 0, VTK_BREAK_SEQUENCE_ZERO, 0,
                  1);
  emit_everywhere("image-armed-damaged-header", &img);
  dirty(&img, e, 1, 0);
  vtk_entry_break(img.data + VTK_MIB, VTK_MIB, 0, VTK_BREAK_DATA_SIGNATURE, 0,
                  1);
  emit_everywhere("image-armed-damaged-checksum", &img);
  e[0].tail = 65536;
  dirty(&img, e, 1, 0);
  emit_everywhere("image-armed-incomplete", &img);

  /* Armed and cleared, but no region table is valid on disk. */
  dirty(&img, e, 0, 0);
  vtk_region_table(&img, 0)[100] ^= 1;
  emit_everywhere("image-armed-no-region-table", &img);

  /* The newest sequence writes past 2^62: refused, not replaced by the
   * older one. */
  d[0] = data_desc(2u * VTK_MIB, 1);
  d[1] = vtk_zero(VTK_MAX_OFFSET - VTK_SECTOR, 2u * VTK_SECTOR);
  e[0] = entry(3, 0, d, 1);
  e[1] = entry(9, 8192, d, 2);
  dirty(&img, e, 2, 0);
  emit_everywhere("image-limit-descriptor", &img);
  e[1] = entry(9, 8192, d, 1);
  e[1].last_file_offset = VTK_MAX_OFFSET + VTK_MIB;
  dirty(&img, e, 2, 0);
  emit_everywhere("image-limit-last-file-offset", &img);

  /* Region table 1 torn on disk, its first sector rewritten by the log:
   * judged on the replayed state, recovered. */
  {
    vtk_image clean;
    vtk_image_spec sp;
    spec_clean(&sp);
    vtk_image_build(&clean, &sp);
    memcpy(sector, vtk_region_table(&clean, 0), VTK_SECTOR);
    vtk_image_free(&clean);
  }
  d[0] = vtk_data(VTK_REGION1, 0);
  d[0].sector = sector;
  e[0] = entry(4, 0, d, 1);
  dirty(&img, e, 1, 0);
  vtk_region_table(&img, 0)[100] ^= 1;
  emit_everywhere("image-region-table-rewritten", &img);

  /* The log leaves no valid region table: refused before any write. */
  sector[200] ^= 1;
  dirty(&img, e, 1, 0);
  emit_everywhere("image-region-table-replayed-invalid", &img);

  /* fuzz_load: headers naming a 32 MiB and a 62 MiB log that the file
   * holds only as zeros (the prefix's second byte, from 0xC0 on, adds that
   * many MiB; each policy once): the loader's memory must follow the file,
   * not the header. */
  {
    static const struct {
      const char *name;
      uint32_t log_mib, prefix;
    } big[] = {{"load-sparse-log-32m", 32, 0x0000E200u},
               {"load-sparse-log-62m-strict", 62, 0x0000FF01u},
               {"load-sparse-log-62m-force", 62, 0x0000FF02u}};
    size_t k;
    for (k = 0; k < sizeof(big) / sizeof(big[0]); k++) {
      int cur;
      dirty(&img, e, 0, 0);
      cur = vtk_image_current(&img);
      vtk_header_set_log_location(&img, cur, VTK_MIB, big[k].log_mib * VTK_MIB);
      uint8_t prefix[4];
      vtk_put_le32(prefix, big[k].prefix);
      emit_packed("fuzz_load", big[k].name, &img, prefix, sizeof prefix);
      vtk_image_free(&img);
    }
  }
}

/* fuzz_walk() callback: an image of SAMPLES_DIR (*.vhdx, at least the
 * 1 MiB header area), cut after the end of its log (or 1 MiB). */
static int sample_seed(const char *path, void *ctx) {
  const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
  size_t len = strlen(base), size;
  char name[300];
  vtk_image img, cut;
  uint64_t keep = VTK_MIB;
  int w;
  (void)ctx;
  if (len < 5 || strcmp(base + len - 5, ".vhdx") != 0)
    return 0;
  if (fuzz_read_file(path, &img.data, &size) != 0 || size < VTK_MIB)
    gen_die(path);
  img.size = size;
  /* Keep the log of either valid header, if it lies in the file. */
  for (w = 0; w < 2; w++) {
    const uint8_t *h = img.data + (w ? VTK_HEADER2 : VTK_HEADER1);
    uint64_t end = vtk_get_le64(h + 72) + vtk_get_le32(h + 68);
    if (vtk_header_raw_valid(h) && end > keep && end <= img.size)
      keep = end;
  }
  snprintf(name, sizeof(name), "sample-%.*s", (int)(len - 5), base);
  cut = img;
  cut.size = keep < img.size ? keep : img.size;
  emit_image_sized(name, &cut, img.size, VTK_HEADER1);
  free(img.data);
  return 0;
}

int main(int argc, char **argv) {
  static const char *targets[] = {"fuzz_entry", "fuzz_search",
                                  "fuzz_log_repaired", "fuzz_image"};
  size_t i;
  if (argc >= 2 && strcmp(argv[1], "--images") == 0)
    return gen_images_main(argc - 1, argv + 1);
  if (argc < 2 || argc > 3) {
    fprintf(stderr,
            "usage: %s CORPUS_DIR [SAMPLES_DIR]\n"
            "       %s --images [--seed-form] OUTDIR\n",
            argv[0], argv[0]);
    return 2;
  }
  corpus_dir = argv[1];
  if (mkdir(corpus_dir, 0777) != 0 && errno != EEXIST)
    gen_die(corpus_dir);
  for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
    prepare(targets[i], 1);
  for (i = 0; i < 3; i++)
    prepare(replay_targets[i], 0);
  vtk_guid(log_guid, 1);
  vtk_guid(other_guid, 2);
  init_pool();
  log_seeds();
  log_seeds_runs();
  log_seeds_broken();
  image_seeds();
  image_seeds_regions();
  image_seeds_dirty();
  armed_and_plan_seeds();
  if (argc == 3)
    fuzz_walk(argv[2], sample_seed, NULL); /* none yet: nothing */
  printf("gen_corpus: %lu files, %llu bytes\n", files_written, bytes_written);
  return 0;
}
