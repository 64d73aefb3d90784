/* SPDX-License-Identifier: MIT */
/*
 * mkimage: the images of the CLI tests (cli/tests/cli_test.sh), built with
 * the test side's one writer, testkit (independent of lib/), and the bytes a
 * correct replay must leave, from testkit's replay model. Test code: it
 * exits on errors.
 *
 * Layout of every image: testkit's default (headers 1 and 2 with
 * SequenceNumber 1 and 2, log at 1 MiB, 1 MiB long), BAT at 2 MiB filled
 * with 0x11, metadata at 3 MiB filled with 0x22; 4 MiB in all. A data
 * sector written for fill byte F holds the bytes (F + i) & 0xFF.
 *
 * usage: mkimage KIND OUT [SIZE_MIB]
 *   clean         LogGuid zero
 *   dirty         2-entry log (seq 10 at log 0, seq 11 at log 0x2000, Tail 0):
 *                 10: data 0x200000 (F=0xA0), zero 0x300000 + 0x2000
 *                 11: data 0x301000 (F=0xB0), data 0x500000 (F=0xC0, past the
 *                     end); FlushedFileOffset 4 MiB, LastFileOffset 6 MiB
 *   dirty-wrap    like dirty, but entry 10 starts in the last log sector and
 *                 its data sector wraps to log offset 0; entry 11 at 0x1000
 *   one-entry     only entry 10 of dirty (Tail 0: what QEMU itself writes)
 *   corrupt-log   dirty with entry 10's checksum broken: no complete
 *                 sequence (entry 11's Tail names a broken entry)
 *   bad-checksum  one-entry with its checksum broken: E_LOG_NO_SEQUENCE,
 *                 cause E_ENTRY_CHECKSUM at log offset 0
 *   bad-data-sig  one-entry whose data sector signature is broken (checksum
 *                 recomputed): cause E_DATA_SIGNATURE, data sector 0
 *   target-header one-entry with its data descriptor aimed at header 1
 *                 (E_DESCRIPTOR_TARGET at log offset 0, descriptor 0)
 *   truncated     dirty cut to 3 MiB (< FlushedFileOffset: E_FILE_TRUNCATED)
 *   tiny          512 KiB of a clean image (E_FILE_TOO_SMALL)
 *   no-header     both header checksums broken (E_NO_VALID_HEADER)
 *   armed-empty   LogGuid set, log all zero: armed, no candidate (a power
 *                 cut between arming the log and writing its entry)
 *   offset-limit  one-entry whose zero descriptor (index 1) writes at 2^62:
 *                 valid by the spec, past VHDXLOG_MAX_FILE_OFFSET
 *   sparse-dirty  one-entry log on a sparse file of SIZE_MIB MiB (default
 *                 8192); the entry writes F=0xD0 at SIZE - 1 MiB and sets
 *                 FlushedFileOffset SIZE, LastFileOffset SIZE + 1 MiB
 *   KIND-replayed what a correct replay of KIND (dirty, dirty-wrap,
 *                 one-entry, armed-empty, bad-checksum) leaves: the log
 *                 replayed, or cleared when no sequence is complete
 *   interrupted   dirty-replayed with header 1 back at SequenceNumber 3 and
 *                 the LogGuid: the last header update did not reach the disk
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhdx_builder.h"

#define MIB ((uint64_t)VTK_MIB)
#define BASE_SIZE (4 * MIB)

/* GUIDs whose first bytes spell their role (the CLI prints them). */
#define LOG_GUID "LOG!\x01\x02\x03\x44\x85\x06\x07\x08\x09\x0a\x0b\x0c"
#define FW_GUID "FWG!\x11\x12\x13\x44\x95\x16\x17\x18\x19\x1a\x1b\x1c"
#define DW_GUID "DWG!\x21\x22\x23\x44\xa5\x26\x27\x28\x29\x2a\x2b\x2c"
static const uint8_t *const log_guid = (const uint8_t *)LOG_GUID;

static void usage(void) {
  fprintf(stderr, "usage: mkimage KIND OUT [SIZE_MIB]\n");
  exit(2);
}

static void die(const char *what) {
  fprintf(stderr, "mkimage: %s: %s\n", what, strerror(errno));
  exit(2);
}

/* A data descriptor writing the sector of fill byte `fill` (a multiple of
 * 0x10, so that each fill has its own buffer). */
static vtk_desc data(uint64_t file_offset, uint8_t fill) {
  static uint8_t sectors[16][VTK_SECTOR];
  uint8_t *s = sectors[fill >> 4];
  vtk_desc d = vtk_data(file_offset, 0);
  unsigned i;
  for (i = 0; i < VTK_SECTOR; i++)
    s[i] = (uint8_t)(fill + i);
  d.sector = s;
  return d;
}

static vtk_entry entry(uint64_t seq, uint64_t flushed, uint64_t last,
                       const vtk_desc *d, uint32_t n) {
  vtk_entry e = {seq, 0, {0}, flushed, last, d, n};
  memcpy(e.log_guid, log_guid, 16);
  return e;
}

static int is(const char *kind, const char *name) {
  return strcmp(kind, name) == 0;
}

/*
 * Build `kind` into *img, the file's size into *size and the active sequence
 * a replay applies into seq[0..*n) (*n = 0: none; descriptors are static).
 * The log is written only when the kind has a LogGuid.
 */
static void build(const char *kind, vtk_image *img, uint64_t *size,
                  vtk_entry seq[2], size_t *n, uint64_t sparse_mib) {
  static vtk_desc d10[2], d11[2];
  vtk_image_spec s;
  uint8_t *log = calloc(1, VTK_MIB);
  uint32_t tail = VTK_MIB - VTK_SECTOR; /* dirty-wrap */
  int two =
      is(kind, "dirty") || is(kind, "truncated") || is(kind, "corrupt-log");

  if (!log)
    die("calloc");
  d10[0] = data(2 * MIB, 0xA0);
  d10[1] = vtk_zero(3 * MIB, 0x2000);
  d11[0] = data(3 * MIB + 0x1000, 0xB0);
  d11[1] = data(5 * MIB, 0xC0);
  seq[0] = entry(10, BASE_SIZE, BASE_SIZE, d10, 2);
  seq[1] = entry(11, BASE_SIZE, 6 * MIB, d11, 2);
  *n = 0;
  *size = BASE_SIZE;

  vtk_image_spec_default(&s);
  s.fill_seed = 0;
  memcpy(s.file_write_guid, FW_GUID, 16);
  memcpy(s.data_write_guid, DW_GUID, 16);
  vtk_image_build(img, &s);
  memset(img->data + s.bat_offset, 0x11, s.bat_length);
  memset(img->data + s.metadata_offset, 0x22, s.metadata_length);

  if (is(kind, "target-header"))
    d10[0].file_offset = VTK_HEADER1;
  if (is(kind, "offset-limit"))
    d10[1].file_offset = VTK_MAX_OFFSET;
  if (two || is(kind, "dirty-wrap")) {
    if (!is(kind, "dirty-wrap"))
      tail = 0;
    seq[0].tail = seq[1].tail = tail;
    vtk_log_write_run(log, VTK_MIB, tail, seq, 2);
    *n = 2;
  } else if (is(kind, "one-entry") || is(kind, "bad-checksum") ||
             is(kind, "bad-data-sig") || is(kind, "offset-limit") ||
             is(kind, "target-header")) {
    vtk_log_write_entry(log, VTK_MIB, 0, &seq[0]);
    *n = 1;
  } else if (is(kind, "sparse-dirty")) {
    *size = sparse_mib * MIB;
    if (sparse_mib > VTK_MAX_OFFSET / MIB || *size < BASE_SIZE + MIB)
      usage();
    d10[0] = data(*size - MIB, 0xD0);
    seq[0] = entry(10, *size, *size + MIB, d10, 1);
    vtk_log_write_entry(log, VTK_MIB, 0, &seq[0]);
    *n = 1;
  } else if (!is(kind, "armed-empty") && !is(kind, "clean") &&
             !is(kind, "tiny") && !is(kind, "no-header")) {
    usage();
  }

  if (is(kind, "corrupt-log") || is(kind, "bad-checksum")) {
    vtk_entry_break(log, VTK_MIB, 0, VTK_BREAK_CHECKSUM, 0, 0);
    *n = 0;
  } else if (is(kind, "bad-data-sig")) {
    vtk_entry_break(log, VTK_MIB, 0, VTK_BREAK_DATA_SIGNATURE, 0, 1);
    *n = 0;
  } else if (is(kind, "truncated")) {
    *size = 3 * MIB;
  } else if (is(kind, "tiny")) {
    *size = 512 * 1024;
  } else if (is(kind, "no-header")) {
    vtk_header(img, 0)[VTK_HEADER_SIZE - 1] ^= 1;
    vtk_header(img, 1)[VTK_HEADER_SIZE - 1] ^= 1;
  }
  if (!is(kind, "clean") && !is(kind, "tiny") && !is(kind, "no-header")) {
    vtk_image_put_log(img, log, VTK_MIB, log_guid);
    /* Both headers carry the LogGuid, as after a writer's two updates. */
    vtk_header_set_log_guid(img, 0, log_guid);
  }
  free(log);
}

/* The first `size` bytes of the image (zero past its end, as a hole). */
static void write_file(const char *out, const vtk_image *img, uint64_t size) {
  FILE *f = fopen(out, "wb");
  size_t len = (size_t)(size < img->size ? size : img->size);
  if (!f || fwrite(img->data, 1, len, f) != len || fflush(f) != 0 ||
      ftruncate(fileno(f), (off_t)size) != 0 || fclose(f) != 0)
    die(out);
}

int main(int argc, char **argv) {
  char kind[64];
  const char *suffix;
  vtk_image img, after;
  vtk_entry seq[2];
  size_t n;
  uint64_t size, sparse_mib = 8192;
  int replayed, interrupted;

  if (argc < 3 || argc > 4 || strlen(argv[1]) >= sizeof kind)
    usage();
  if (argc == 4)
    sparse_mib = strtoull(argv[3], NULL, 10);
  strcpy(kind, argv[1]);
  interrupted = is(kind, "interrupted");
  if (interrupted)
    strcpy(kind, "dirty-replayed");
  suffix = strstr(kind, "-replayed");
  replayed = suffix != NULL && suffix[9] == '\0';
  if (replayed)
    kind[suffix - kind] = '\0';

  build(kind, &img, &size, seq, &n, sparse_mib);
  if (!replayed) {
    write_file(argv[2], &img, size);
    vtk_image_free(&img);
    return 0;
  }
  if (size != img.size)
    usage(); /* the model replays whole images only */
  if (n > 0)
    vtk_model_replay(&img, seq, n, &after);
  else
    vtk_model_clear(&img, &after);
  if (interrupted) {
    vtk_header_set_seq(&after, 0, 3);
    vtk_header_set_log_guid(&after, 0, log_guid);
  }
  write_file(argv[2], &after, after.size);
  vtk_image_free(&img);
  vtk_image_free(&after);
  return 0;
}
