/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus --images [--seed-form] OUTDIR: write whole VHDX images, built with
 * the testkit (testkit/vhdx_builder.h, independent of lib/ and oracle/), that
 * exercise the replay paths the differential replayer compares: one and
 * many entries, wrapped entries and runs, zero descriptors, more than 126
 * descriptors, writes beyond the end of the file, LastFileOffset growth,
 * competing and tied sequences, interrupted replays, plan errors and one
 * corrupt variant per entry rule. vhdxlog-diff then runs over OUTDIR (CTest
 * replay_diff_corpus).
 *
 * Bytes where the descriptors write are a cheap non-zero pattern (one byte
 * value per sector) so that zero descriptors and overwrites change
 * something; files are written sparse (all-zero 4 KiB blocks skipped), so
 * the folder costs little disk. --seed-form: see no_fill below.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen_images.h"
#include "vhdx_builder.h"

#define MIB VTK_MIB
#define SECTOR VTK_SECTOR

static const char *out_dir;
/* --seed-form: zeros past the log and mostly-zero data sectors, and 2 MiB
 * files instead of 4 MiB (every byte of the file is copied several times
 * per fuzzing execution), for seeds that pack small (packed.h). */
static int no_fill;
static uint64_t file_size = 4u * MIB; /* FlushedFileOffset too */
static unsigned long written;
static uint8_t log_guid[16];
static uint8_t other_guid[16];

/* Sparse write: all-zero sectors are skipped, the size is set at the end. */
static void emit(const char *name, const vtk_image *img) {
  static const uint8_t zero[SECTOR];
  char path[4096];
  FILE *f;
  uint64_t off;

  snprintf(path, sizeof path, "%s/%s", out_dir, name);
  f = fopen(path, "wb");
  if (f == NULL)
    gen_die(path);
  for (off = 0; off < img->size; off += SECTOR) {
    uint64_t n = img->size - off < SECTOR ? img->size - off : SECTOR;
    if (memcmp(img->data + off, zero, (size_t)n) == 0)
      continue;
    if (fseeko(f, (off_t)off, SEEK_SET) != 0 ||
        fwrite(img->data + off, 1, (size_t)n, f) != n)
      gen_die(path);
  }
  if (fflush(f) != 0 || ftruncate(fileno(f), (off_t)img->size) != 0 ||
      fclose(f) != 0)
    gen_die(path);
  written++;
}

/* One byte value per sector over [from, to) (cut at the image's end). */
static void fill(vtk_image *img, uint64_t from, uint64_t to) {
  uint64_t off;
  if (no_fill)
    return;
  if (to > img->size)
    to = img->size;
  for (off = from; off < to; off += SECTOR) {
    uint64_t n = to - off < SECTOR ? to - off : SECTOR;
    memset(img->data + off, (int)(0x41 + (off / SECTOR) % 61), (size_t)n);
  }
}

/* Data sector contents: the testkit's pattern per seed; with --no-fill,
 * one of POOL sectors that are zero but for 16 pattern bytes at each end
 * (LeadingBytes, TrailingBytes and the Data bytes next to them), so that
 * seeds compress. */
#define POOL 64
static uint8_t pool[POOL][SECTOR];

static vtk_desc data(uint64_t file_offset, uint32_t seed) {
  vtk_desc d = vtk_data(file_offset, seed);
  if (no_fill) {
    uint8_t *p = pool[seed % POOL];
    vtk_pattern(p, 16, seed + 1);
    vtk_pattern(p + SECTOR - 16, 16, seed + 1);
    d.sector = p;
  }
  return d;
}

static vtk_entry entry(uint64_t seq, uint32_t tail, const vtk_desc *d,
                       uint32_t n) {
  return vtk_entry_make(seq, tail, log_guid, file_size, file_size, d, n);
}

/* The default image (4 MiB, log at 1 MiB, BAT at 2 MiB, metadata at 3 MiB,
 * header 2 current), bytes past the log filled. */
static void base(vtk_image *img, const vtk_image_spec *spec) {
  vtk_image_spec s;
  if (spec == NULL) {
    vtk_image_spec_default(&s);
    spec = &s;
  }
  s = *spec;
  if (s.file_size == 4u * MIB)
    s.file_size = file_size; /* the default size: 2 MiB in seed form */
  s.fill_seed = 0;
  vtk_image_build(img, &s);
  /* Where the descriptors below write: the first 512 KiB after the log and
   * the first 64 KiB of the metadata region; the rest stays zero (sparse). */
  fill(img, s.log_offset + s.log_length,
       s.log_offset + s.log_length + 512u * 1024u);
  fill(img, s.metadata_offset, s.metadata_offset + 65536u);
}

/* Put a 1 MiB log holding `n` entries written back to back from `at`. */
static void put_run(vtk_image *img, const vtk_entry *e, size_t n, uint32_t at) {
  uint8_t *log = gen_calloc(MIB);
  vtk_log_write_run(log, MIB, at, e, n);
  vtk_image_put_log(img, log, MIB, log_guid);
  free(log);
}

/* The image of `spec` (NULL: the default) with a log of the `n` entries
 * `e` from `at` (clean if none), emitted as `name`. */
static void emit_run(const char *name, const vtk_image_spec *spec,
                     const vtk_entry *e, size_t n, uint32_t at) {
  vtk_image img;
  base(&img, spec);
  if (n > 0)
    put_run(&img, e, n, at);
  emit(name, &img);
  vtk_image_free(&img);
}

/* Default image with one entry (Tail at itself) of the descriptors `d`. */
static void dirty_one(const char *name, uint64_t seq, const vtk_desc *d,
                      uint32_t n) {
  vtk_entry e = entry(seq, 0, d, n);
  emit_run(name, NULL, &e, 1, 0);
}

/* The log of the current header, for poking at entries. */
static uint8_t *image_log(vtk_image *img) {
  int cur = vtk_image_current(img);
  return img->data + vtk_get_le64(vtk_header(img, cur) + 72);
}

/* The default image but for the headers' SequenceNumbers, holding the run
 * `e` (`n` entries from log offset 0; clean if none), emitted as `name`. */
static void with_headers(const char *name, uint64_t seq1, uint64_t seq2,
                         const vtk_entry *e, size_t n) {
  vtk_image_spec s;
  vtk_image_spec_default(&s);
  s.header_seq[0] = seq1;
  s.header_seq[1] = seq2;
  emit_run(name, &s, e, n, 0);
}

static void clean_images(void) {
  emit_run("gen-clean", NULL, NULL, 0, 0);
  with_headers("gen-clean-header1-current", 7, 6, NULL, 0);
}

static void basic_images(void) {
  vtk_desc d[8];
  vtk_entry e[4];
  vtk_image img;

  /* One entry: data, zero, data. */
  d[0] = data(2u * MIB, 1);
  d[1] = vtk_zero(2u * MIB + 2 * SECTOR, 3 * SECTOR);
  d[2] = data(3u * MIB + SECTOR, 2);
  e[0] = entry(1, 0, d, 3);
  emit_run("gen-one-entry", NULL, e, 1, 0);

  /* The same with header 1 current. */
  with_headers("gen-one-entry-header1-current", 9, 8, e, 1);

  /* FileWriteGuid already derive(LogGuid): no first header update. */
  base(&img, NULL);
  put_run(&img, e, 1, 0);
  {
    int cur = vtk_image_current(&img);
    vtk_derive_file_write_guid(log_guid, vtk_header(&img, cur) + 16);
    vtk_header_fix_checksum(&img, cur);
  }
  emit("gen-fwg-already-set", &img);
  vtk_image_free(&img);

  /* Equal header numbers, identical headers (QEMU's quirk), dirty. */
  with_headers("gen-header-tie-dirty", 4, 4, e, 1);

  /* Header SequenceNumber 2^64 - 1, - 2, - 3: the first, second or third
   * header update wraps to 0. */
  {
    static const char *names[3] = {"gen-header-seq-wrap",
                                   "gen-header-seq-wrap-second",
                                   "gen-header-seq-wrap-third"};
    int w;
    for (w = 0; w < 3; w++)
      with_headers(names[w], 5, UINT64_MAX - (uint64_t)w, e, 1);
  }

  /* Three entries, later writes over earlier ones, every Tail at 0. */
  d[0] = data(2u * MIB, 3);
  d[1] = data(2u * MIB + SECTOR, 4);
  d[2] = data(2u * MIB, 5);              /* overwrites d[0] */
  d[3] = vtk_zero(2u * MIB, 2 * SECTOR); /* zeroes both */
  d[4] = data(2u * MIB + SECTOR, 6);     /* and writes one again */
  e[0] = entry(10, 0, d, 2);
  e[1] = entry(11, 0, d + 2, 1);
  e[2] = entry(12, 0, d + 3, 2);
  emit_run("gen-multi-entry", NULL, e, 3, 0);

  /* Four entries, the head's Tail at the third: the first two are not
   * replayed. */
  {
    uint32_t at2;
    e[0] = entry(20, 0, d, 1);
    e[1] = entry(21, 0, d + 1, 1);
    at2 = vtk_entry_length(&e[0]) + vtk_entry_length(&e[1]);
    e[2] = entry(22, at2, d + 2, 1);
    e[3] = entry(23, at2, d + 4, 1);
    emit_run("gen-tail-mid-run", NULL, e, 4, 0);
  }

  /* Entries with no descriptor: only LastFileOffset grows the file. */
  e[0] = entry(3, 0, NULL, 0);
  e[0].last_file_offset = 9u * MIB;
  emit_run("gen-no-descriptors-last-offset", NULL, e, 1, 0);

  /* LastFileOffset below the file size: no effect. */
  d[0] = data(2u * MIB, 7);
  e[0] = entry(3, 0, d, 1);
  e[0].last_file_offset = MIB;
  e[0].flushed_file_offset = MIB;
  emit_run("gen-last-offset-below-size", NULL, e, 1, 0);

  /* Growth by LastFileOffset of the head only (the tail entry asks for
   * less; the head's value counts). */
  e[0] = entry(30, 0, d, 1);
  e[0].last_file_offset = 12u * MIB;
  e[1] = entry(31, 0, d, 1);
  e[1].last_file_offset = 6u * MIB;
  emit_run("gen-last-offset-head-only", NULL, e, 2, 0);
}

static void descriptor_images(void) {
  static vtk_desc d[300];
  uint32_t i;

  /* Zero descriptors only: one of length 0 (a no-op, even at offset 0),
   * one over the whole BAT region, one beyond the end of the file. */
  d[0] = vtk_zero(0, 0);
  d[1] = vtk_zero(2u * MIB, MIB);
  d[2] = vtk_zero(3u * MIB + 5 * SECTOR, SECTOR);
  d[3] = vtk_zero(5u * MIB, 2 * SECTOR);
  dirty_one("gen-zero-descriptors", 4, d, 4);

  /* 130 data descriptors: two descriptor sectors. */
  for (i = 0; i < 130; i++)
    d[i] = data(2u * MIB + (uint64_t)(i * 7 % 200) * SECTOR, 100 + i);
  dirty_one("gen-130-descriptors", 5, d, 130);

  /* 300 descriptors, zero and data mixed: three descriptor sectors. */
  for (i = 0; i < 300; i++) {
    uint64_t at = 2u * MIB + (uint64_t)(i * 13 % 400) * SECTOR;
    d[i] = i % 3 == 0 ? vtk_zero(at, (uint64_t)(i % 5) * SECTOR)
                      : data(at, 1000 + i);
  }
  dirty_one("gen-300-descriptors", 6, d, 300);

  /* Exactly 126 and 127 descriptors: the first sector's limit. */
  for (i = 0; i < 127; i++)
    d[i] = data(2u * MIB + (uint64_t)i * SECTOR, 2000 + i);
  dirty_one("gen-126-descriptors", 7, d, 126);
  dirty_one("gen-127-descriptors", 7, d, 127);

  /* Writes beyond the end of the file: a data sector at 6 MiB + 4 KiB and
   * a zero range past it; the file grows to the furthest write. */
  d[0] = data(6u * MIB + SECTOR, 9);
  d[1] = vtk_zero(7u * MIB, 3 * SECTOR);
  d[2] = data(2u * MIB, 10);
  dirty_one("gen-writes-beyond-eof", 8, d, 3);

  /* A zero range far beyond any cap: both sides must say E_IO. */
  d[0] = vtk_zero(16u * MIB, (uint64_t)1 << 40);
  dirty_one("gen-zero-beyond-cap", 9, d, 1);

  /* Adjacent data sectors (coalesced), then a gap, then adjacent again. */
  for (i = 0; i < 40; i++)
    d[i] = data(2u * MIB + (uint64_t)(i < 20 ? i : i + 5) * SECTOR, 300 + i);
  dirty_one("gen-adjacent-data", 11, d, 40);
}

static void wrap_images(void) {
  vtk_desc d[8];
  vtk_entry e[4];
  uint32_t len, at;

  /* One entry of 4 sectors starting 2 sectors before the end of the log. */
  d[0] = data(2u * MIB, 11);
  d[1] = data(2u * MIB + 8 * SECTOR, 12);
  d[2] = data(3u * MIB, 13);
  e[0] = entry(40, MIB - 2 * SECTOR, d, 3);
  emit_run("gen-wrapped-entry", NULL, e, 1, MIB - 2 * SECTOR);

  /* A run that crosses the end of the log: three entries, the second one
   * wraps; the head's Tail is the first entry's offset. */
  d[3] = vtk_zero(2u * MIB, SECTOR);
  d[4] = data(2u * MIB + 16 * SECTOR, 14);
  e[0] = entry(50, 0, d, 1);
  len = vtk_entry_length(&e[0]);
  at = MIB - len - SECTOR;
  e[0].tail = at;
  e[1] = entry(51, at, d + 1, 2);
  e[2] = entry(52, at, d + 3, 2);
  emit_run("gen-wrapped-run", NULL, e, 3, at);

  /* An entry exactly as long as the log is not possible with a 1 MiB log
   * and few descriptors; instead: the run ends exactly at the log's end. */
  e[0] = entry(60, 0, d, 2);
  len = vtk_entry_length(&e[0]);
  e[0].tail = MIB - len;
  emit_run("gen-entry-ends-at-log-end", NULL, e, 1, MIB - len);
}

/* Put a 1 MiB log holding `a` at offset 0 and `b` at `at_b`, each a run of
 * its own unless `b` names `a` as its Tail. */
static void put_two(vtk_image *img, vtk_entry a, vtk_entry b, uint32_t at_b) {
  uint8_t *log = gen_calloc(MIB);
  vtk_log_write_entry(log, MIB, 0, &a);
  vtk_log_write_entry(log, MIB, at_b, &b);
  vtk_image_put_log(img, log, MIB, log_guid);
  free(log);
}

static void sequence_images(void) {
  vtk_desc d[4];
  vtk_entry e[4];
  vtk_image img;

  d[0] = data(2u * MIB, 21);
  d[1] = data(2u * MIB, 22);
  d[2] = data(2u * MIB + SECTOR, 23);

  /* Two complete runs; the one found second has the greater head. */
  base(&img, NULL);
  put_two(&img, entry(5, 0, d, 1), entry(9, 64 * SECTOR, d + 1, 2),
          64 * SECTOR);
  emit("gen-competing-later-wins", &img);
  /* And the greater head found first. */
  put_two(&img, entry(9, 0, d + 1, 2), entry(5, 64 * SECTOR, d, 1),
          64 * SECTOR);
  emit("gen-competing-earlier-wins", &img);

  /* Two complete runs with equal head numbers and different writes: the
   * first one found is kept (strictly greater replaces). */
  put_two(&img, entry(7, 0, d, 1), entry(7, 32 * SECTOR, d + 1, 2),
          32 * SECTOR);
  emit("gen-equal-heads-first-kept", &img);

  /* A newer run that is not complete (its Tail points at no entry of the
   * run) after an older complete one: the older one is replayed. */
  put_two(&img, entry(3, 0, d, 1), entry(4, 200 * SECTOR, d + 1, 1),
          64 * SECTOR);
  emit("gen-newer-incomplete", &img);

  /* Only an incomplete run: no sequence. */
  e[0] = entry(3, 100 * SECTOR, d, 1);
  put_run(&img, e, 1, 0);
  emit("gen-only-incomplete", &img);

  /* An entry with another GUID in the middle of a run breaks it. */
  e[0] = entry(3, 0, d, 1);
  e[1] = entry(4, 0, d + 1, 1);
  memcpy(e[1].log_guid, other_guid, 16);
  e[2] = entry(5, 0, d + 2, 1);
  put_run(&img, e, 3, 0);
  emit("gen-foreign-entry-in-run", &img);

  /* Sequence numbers that skip (3, 5): two runs, 5 is the head of its own
   * complete run. */
  e[0] = entry(3, 0, d, 1);
  e[1] = entry(5, vtk_entry_length(&e[0]), d + 1, 1);
  put_run(&img, e, 2, 0);
  emit("gen-sequence-gap", &img);

  /* A huge sequence number (high half non-zero in the data sectors). */
  e[0] = entry(0xFFFFFFFF00000001ull, 0, d, 1);
  e[1] = entry(0xFFFFFFFF00000002ull, 0, d + 2, 1);
  put_run(&img, e, 2, 0);
  emit("gen-big-sequence-numbers", &img);
  vtk_image_free(&img);
}

static void plan_error_images(void) {
  /* One data sector where no replay may write. Below 1 MiB outside the
   * header slots too (RULES.md "Plan" 1: a half-done write there could
   * leave a file that no longer parses). */
  static const struct {
    const char *name;
    uint64_t at;
    uint32_t seed;
  } refused[] = {
      {"gen-target-header", VTK_HEADER1 + SECTOR, 31}, /* header 1's slot */
      {"gen-target-log", MIB + 10 * SECTOR, 32},
      {"gen-write-below-1mib", 300u * 1024u, 34}, /* past region table 2 */
      {"gen-write-region-table-1", VTK_REGION1, 35},
      {"gen-write-identifier", 0, 38},
  };
  vtk_desc d[2];
  vtk_entry e[1];
  size_t i;

  for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    d[0] = data(refused[i].at, refused[i].seed);
    dirty_one(refused[i].name, 2, d, 1);
  }

  d[0] = vtk_zero(0, 128u * 1024u); /* [0, 128 KiB): header 1 too */
  dirty_one("gen-target-header-zero", 2, d, 1);

  d[0] = data(2u * MIB, 33);
  e[0] = entry(2, 0, d, 1);
  e[0].flushed_file_offset = 8u * MIB; /* the file is 4 MiB */
  emit_run("gen-file-truncated", NULL, e, 1, 0);

  d[0] = data(VTK_REGION1, 36); /* over both region tables */
  d[1] = data(VTK_REGION2, 37);
  dirty_one("gen-write-both-region-tables", 2, d, 2);

  /* The identifier overwritten, then written back as it was: the replayed
   * file would parse, a file interrupted between the two writes would not
   * (why "Plan" 1 refuses every write below 1 MiB). */
  {
    vtk_image img;
    uint8_t first[SECTOR];
    base(&img, NULL);
    memcpy(first, img.data, SECTOR);
    d[0] = data(0, 39);
    d[1] = data(0, 0);
    d[1].sector = first;
    e[0] = entry(2, 0, d, 2);
    put_run(&img, e, 1, 0);
    emit("gen-identifier-overwritten-then-restored", &img);
    vtk_image_free(&img);
  }
}

/* The state our replay leaves when stopped between the two final header
 * writes: current = clean update, other = the dirty header one older. */
static void interrupted_images(void) {
  vtk_desc d[1];
  vtk_entry e[1];
  vtk_image img;
  uint8_t f[16], u1[VTK_HEADER_SIZE], u2[VTK_HEADER_SIZE];
  static const uint8_t zero[16];
  int c;

  d[0] = data(2u * MIB, 41);
  e[0] = entry(1, 0, d, 1);
  base(&img, NULL);
  put_run(&img, e, 1, 0);
  c = vtk_image_current(&img);
  vtk_derive_file_write_guid(log_guid, f);
  vtk_header_update(vtk_header(&img, c), f, log_guid, u1);
  memcpy(vtk_header(&img, 1 - c), u1, VTK_HEADER_SIZE);
  vtk_header_update(u1, f, zero, u2);
  memcpy(vtk_header(&img, c), u2, VTK_HEADER_SIZE);
  emit("gen-clean-interrupted-final-update", &img);

  /* The same, but the other header's number is two older: no completion. */
  vtk_put_le64(vtk_header(&img, 1 - c) + 8,
               vtk_get_le64(vtk_header(&img, c) + 8) - 2);
  vtk_header_fix_checksum(&img, 1 - c);
  emit("gen-clean-interrupted-not-ours", &img);
  vtk_image_free(&img);
}

/* One corrupt variant per entry rule: a two-entry run whose head (the
 * second entry, Tail at itself) is broken, with and without a fixed
 * checksum; the first entry is complete on its own. */
static void corrupt_images(void) {
  vtk_desc d[4];
  vtk_entry e[2];
  size_t i;
  int fix;

  d[0] = data(2u * MIB, 51);
  d[1] = vtk_zero(2u * MIB + 4 * SECTOR, 2 * SECTOR); /* index 0 of head */
  d[2] = data(2u * MIB, 52);                          /* index 1 */
  d[3] = data(2u * MIB + 9 * SECTOR, 53);             /* index 2 */
  e[0] = entry(70, 0, d, 1);
  e[1] = entry(71, vtk_entry_length(&e[0]), d + 1, 3);
  for (i = 0; i < vtk_break_case_count; i++) {
    const vtk_break_case *bc = &vtk_break_cases[i];
    for (fix = 1; fix >= 0; fix--) {
      vtk_image img;
      char name[96];
      if (!fix && bc->what == VTK_BREAK_CHECKSUM)
        continue;
      base(&img, NULL);
      put_run(&img, e, 2, 0);
      if (vtk_entry_break(image_log(&img), MIB, vtk_entry_length(&e[0]),
                          bc->what, bc->index, fix) != 0) {
        fprintf(stderr, "replay_diff_gen: cannot break %s\n", bc->name);
        exit(2);
      }
      snprintf(name, sizeof name, "gen-corrupt-%s%s", bc->name,
               fix ? "" : "-bad-crc");
      emit(name, &img);
      vtk_image_free(&img);
    }
  }
}

/* Image-level variants around a dirty log: log elsewhere in the file. */
static void layout_images(void) {
  vtk_image_spec s;
  vtk_image img;
  vtk_desc d[2];
  vtk_entry e[1];

  vtk_image_spec_default(&s);
  s.file_size = 10u * MIB;
  s.log_offset = 8u * MIB;
  s.log_length = 2u * MIB;
  base(&img, &s);
  {
    uint8_t *log = gen_calloc(2u * MIB);
    d[0] = data(MIB, 61); /* where the default log would be */
    d[1] = vtk_zero(2u * MIB, MIB);
    e[0] = entry(12, 2u * MIB - SECTOR, d, 2); /* wraps around 2 MiB */
    vtk_log_write_entry(log, 2u * MIB, 2u * MIB - SECTOR, &e[0]);
    vtk_image_put_log(&img, log, 2u * MIB, log_guid);
    free(log);
  }
  emit("gen-log-at-8mib-wrapped", &img);
  vtk_image_free(&img);
}

int gen_images_main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--seed-form") == 0) {
    no_fill = 1;
    file_size = 2u * MIB;
    argv++;
    argc--;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: gen_corpus --images [--seed-form] OUTDIR\n");
    return 2;
  }
  out_dir = argv[1];
  if (mkdir(out_dir, 0777) != 0 && errno != EEXIST)
    gen_die(out_dir);
  vtk_guid(log_guid, 0x106u);
  vtk_guid(other_guid, 0x0DDu);
  clean_images();
  basic_images();
  descriptor_images();
  wrap_images();
  sequence_images();
  plan_error_images();
  interrupted_images();
  corrupt_images();
  layout_images();
  printf("gen_corpus --images: %lu images in %s\n", written, out_dir);
  return 0;
}
