/* SPDX-License-Identifier: MIT */
/*
 * mkimage: writes small VHDX images for the CLI tests (cli/tests/
 * cli_test.sh). Test code: it allocates and exits on errors. It encodes the
 * structures straight from the format digest (shared/vhdx-log-spec.md) with
 * its own CRC-32C, so that it does not share bugs with the library.
 *
 * Layout of every image: identifier, header 1 (SequenceNumber 1) and header
 * 2 (SequenceNumber 2, current), two identical region tables, log at 1 MiB
 * (1 MiB long), BAT at 2 MiB filled with 0x11, metadata at 3 MiB filled with
 * 0x22; 4 MiB in all. A data sector written for fill byte F holds the bytes
 * (F + i) & 0xFF, i = 0..4095 (leading 8 + data 4084 + trailing 4).
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
 *   corrupt-log   dirty with a flipped data byte in entry 10: no complete
 *                 sequence (entry 11's Tail names a broken entry)
 *   bad-checksum  one-entry with a flipped data byte: E_LOG_NO_SEQUENCE,
 *                 cause E_ENTRY_CHECKSUM at log offset 0
 *   bad-data-sig  one-entry whose data sector signature is "dat!" (checksum
 *                 recomputed): cause E_DATA_SIGNATURE, data sector 0
 *   target-header dirty with entry 10's data descriptor aimed at header 1
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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB ((uint64_t)1 << 20)
#define SECTOR 4096u
#define LOG_OFFSET MIB
#define LOG_LENGTH ((uint32_t)MIB)
#define BAT_OFFSET (2 * MIB)
#define META_OFFSET (3 * MIB)
#define BASE_SIZE (4 * MIB)

static const uint8_t bat_guid[16] = {0x66, 0x77, 0xC2, 0x2D, 0x23, 0xF6,
                                     0x00, 0x42, 0x9D, 0x64, 0x11, 0x5E,
                                     0x9B, 0xFD, 0x4A, 0x08};
static const uint8_t meta_guid[16] = {0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47,
                                      0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F,
                                      0x05, 0x0F, 0x88, 0x6E};
static const uint8_t log_guid[16] = {0x4C, 0x4F, 0x47, 0x21, 0x01, 0x02,
                                     0x03, 0x44, 0x85, 0x06, 0x07, 0x08,
                                     0x09, 0x0A, 0x0B, 0x0C};
static const uint8_t fw_guid[16] = {0x46, 0x57, 0x47, 0x21, 0x11, 0x12,
                                    0x13, 0x44, 0x95, 0x16, 0x17, 0x18,
                                    0x19, 0x1A, 0x1B, 0x1C};
static const uint8_t dw_guid[16] = {0x44, 0x57, 0x47, 0x21, 0x21, 0x22,
                                    0x23, 0x44, 0xA5, 0x26, 0x27, 0x28,
                                    0x29, 0x2A, 0x2B, 0x2C};

static void die(const char *what) {
  fprintf(stderr, "mkimage: %s: %s\n", what, strerror(errno));
  exit(2);
}

/* Bitwise CRC-32C (reflected 0x82F63B78, init and final xor 0xFFFFFFFF). */
static uint32_t crc32c(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  size_t i;
  int k;
  for (i = 0; i < n; i++) {
    c ^= p[i];
    for (k = 0; k < 8; k++)
      c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  int i;
  for (i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  int i;
  for (i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

/* Checksum field at bytes 4..7, zero while computing. */
static void seal(uint8_t *p, size_t n) {
  put32(p + 4, 0);
  put32(p + 4, crc32c(p, n));
}

static void make_header(uint8_t *h, uint64_t seq, int dirty) {
  memset(h, 0, SECTOR);
  memcpy(h, "head", 4);
  put64(h + 8, seq);
  memcpy(h + 16, fw_guid, 16);
  memcpy(h + 32, dw_guid, 16);
  if (dirty)
    memcpy(h + 48, log_guid, 16);
  put16(h + 64, 0); /* LogVersion */
  put16(h + 66, 1); /* Version */
  put32(h + 68, LOG_LENGTH);
  put64(h + 72, LOG_OFFSET);
  seal(h, SECTOR);
}

static void make_region_table(uint8_t *r) {
  memset(r, 0, 65536);
  memcpy(r, "regi", 4);
  put32(r + 8, 2);
  memcpy(r + 16, bat_guid, 16);
  put64(r + 32, BAT_OFFSET);
  put32(r + 40, (uint32_t)MIB);
  put32(r + 44, 1);
  memcpy(r + 48, meta_guid, 16);
  put64(r + 64, META_OFFSET);
  put32(r + 72, (uint32_t)MIB);
  put32(r + 76, 1);
  seal(r, 65536);
}

static void pattern(uint8_t *s, uint8_t fill) {
  unsigned i;
  for (i = 0; i < SECTOR; i++)
    s[i] = (uint8_t)(fill + i);
}

typedef struct desc {
  int zero; /* 1: zero descriptor */
  uint64_t offset;
  uint64_t zero_length;
  uint8_t fill; /* data: pattern fill byte */
} desc;

/*
 * Write an entry at log offset `at` (wrapping at the log end): one
 * descriptor sector (count <= 126), then one data sector per data
 * descriptor. Returns the entry length.
 */
static uint32_t put_entry(uint8_t *log, uint32_t at, uint64_t seq,
                          uint32_t tail, uint64_t flushed, uint64_t last,
                          const desc *d, unsigned n) {
  unsigned i, ndata = 0;
  uint32_t len, k;
  uint8_t *e, *ds;
  uint8_t sector[SECTOR];
  for (i = 0; i < n; i++)
    ndata += d[i].zero ? 0u : 1u;
  len = (1 + ndata) * SECTOR;
  e = calloc(1, len);
  if (!e)
    die("calloc");
  memcpy(e, "loge", 4);
  put32(e + 8, len);
  put32(e + 12, tail);
  put64(e + 16, seq);
  put32(e + 24, n);
  memcpy(e + 32, log_guid, 16);
  put64(e + 48, flushed);
  put64(e + 56, last);
  ndata = 0;
  for (i = 0; i < n; i++) {
    uint8_t *p = e + 64 + 32 * i;
    if (d[i].zero) {
      memcpy(p, "zero", 4);
      put64(p + 8, d[i].zero_length);
    } else {
      pattern(sector, d[i].fill);
      memcpy(p, "desc", 4);
      memcpy(p + 4, sector + 4092, 4); /* TrailingBytes */
      memcpy(p + 8, sector, 8);        /* LeadingBytes */
      ds = e + (1 + ndata) * SECTOR;
      memcpy(ds, "data", 4);
      put32(ds + 4, (uint32_t)(seq >> 32));
      memcpy(ds + 8, sector + 8, 4084);
      put32(ds + 4092, (uint32_t)seq);
      ndata++;
    }
    put64(p + 16, d[i].offset);
    put64(p + 24, seq);
  }
  seal(e, len);
  for (k = 0; k < len; k += SECTOR)
    memcpy(log + (at + k) % LOG_LENGTH, e + k, SECTOR);
  free(e);
  return len;
}

static void pwrite_all(int fd, const void *buf, size_t n, uint64_t off) {
  const uint8_t *p = buf;
  while (n > 0) {
    ssize_t r = pwrite(fd, p, n, (off_t)off);
    if (r <= 0)
      die("pwrite");
    p += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
}

static void usage(void) {
  fprintf(stderr, "usage: mkimage KIND OUT [SIZE_MIB]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *kind, *out;
  uint8_t *area, *log, *fill;
  uint64_t size = BASE_SIZE, sparse_mib = 8192;
  int dirty, fd;
  const desc e10[2] = {{0, BAT_OFFSET, 0, 0xA0}, {1, META_OFFSET, 0x2000, 0}};
  const desc e11[2] = {{0, META_OFFSET + 0x1000, 0, 0xB0},
                       {0, 5 * MIB, 0, 0xC0}};
  desc bad[2];

  if (argc < 3 || argc > 4)
    usage();
  kind = argv[1];
  out = argv[2];
  if (argc == 4)
    sparse_mib = strtoull(argv[3], NULL, 10);
  dirty = strcmp(kind, "clean") != 0 && strcmp(kind, "tiny") != 0 &&
          strcmp(kind, "no-header") != 0;

  area = calloc(1, MIB);
  log = calloc(1, LOG_LENGTH);
  fill = malloc(MIB);
  if (!area || !log || !fill)
    die("calloc");
  memcpy(area, "vhdxfile", 8);
  /* Creator (UTF-16LE, informational). */
  {
    const char *creator = "vhdxlog mkimage";
    size_t i;
    for (i = 0; creator[i]; i++)
      area[8 + 2 * i] = (uint8_t)creator[i];
  }
  make_header(area + 65536, 1, dirty);
  make_header(area + 131072, 2, dirty);
  make_region_table(area + 196608);
  make_region_table(area + 262144);

  if (strcmp(kind, "no-header") == 0) {
    area[65536 + 100] ^= 1;
    area[131072 + 100] ^= 1;
  }

  if (strcmp(kind, "dirty") == 0 || strcmp(kind, "truncated") == 0 ||
      strcmp(kind, "corrupt-log") == 0) {
    uint32_t l10 = put_entry(log, 0, 10, 0, 4 * MIB, 4 * MIB, e10, 2);
    put_entry(log, l10, 11, 0, 4 * MIB, 6 * MIB, e11, 2);
    if (strcmp(kind, "corrupt-log") == 0)
      log[SECTOR + 100] ^= 0x01; /* entry 10's data sector */
    if (strcmp(kind, "truncated") == 0)
      size = 3 * MIB;
  } else if (strcmp(kind, "dirty-wrap") == 0) {
    uint32_t at = LOG_LENGTH - SECTOR;
    uint32_t l10 = put_entry(log, at, 10, at, 4 * MIB, 4 * MIB, e10, 2);
    put_entry(log, (at + l10) % LOG_LENGTH, 11, at, 4 * MIB, 6 * MIB, e11, 2);
  } else if (strcmp(kind, "one-entry") == 0 ||
             strcmp(kind, "bad-checksum") == 0) {
    put_entry(log, 0, 10, 0, 4 * MIB, 4 * MIB, e10, 2);
    if (strcmp(kind, "bad-checksum") == 0)
      log[SECTOR + 100] ^= 0x01;
  } else if (strcmp(kind, "bad-data-sig") == 0) {
    put_entry(log, 0, 10, 0, 4 * MIB, 4 * MIB, e10, 2);
    memcpy(log + SECTOR, "dat!", 4);
    seal(log, 2 * SECTOR); /* the entry is 2 sectors, unwrapped at 0 */
  } else if (strcmp(kind, "armed-empty") == 0) {
    /* The log stays zero. */
  } else if (strcmp(kind, "offset-limit") == 0) {
    memcpy(bad, e10, sizeof bad);
    bad[1].offset = (uint64_t)1 << 62;
    put_entry(log, 0, 10, 0, 4 * MIB, 4 * MIB, bad, 2);
  } else if (strcmp(kind, "target-header") == 0) {
    memcpy(bad, e10, sizeof bad);
    bad[0].offset = 65536;
    put_entry(log, 0, 10, 0, 4 * MIB, 4 * MIB, bad, 2);
  } else if (strcmp(kind, "sparse-dirty") == 0) {
    size = sparse_mib * MIB;
    if (size < BASE_SIZE + MIB)
      usage();
    memset(bad, 0, sizeof bad);
    bad[0].offset = size - MIB;
    bad[0].fill = 0xD0;
    put_entry(log, 0, 10, 0, size, size + MIB, bad, 1);
  } else if (strcmp(kind, "tiny") == 0) {
    size = 512 * 1024;
  } else if (strcmp(kind, "clean") != 0 && strcmp(kind, "no-header") != 0) {
    usage();
  }

  fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    die(out);
  if (size >= MIB) {
    pwrite_all(fd, area, MIB, 0);
    pwrite_all(fd, log, LOG_LENGTH, LOG_OFFSET);
    memset(fill, 0x11, MIB);
    if (size >= 3 * MIB)
      pwrite_all(fd, fill, MIB, BAT_OFFSET);
    memset(fill, 0x22, MIB);
    if (size >= 4 * MIB)
      pwrite_all(fd, fill, MIB, META_OFFSET);
  } else {
    pwrite_all(fd, area, (size_t)size, 0);
  }
  if (ftruncate(fd, (off_t)size) != 0)
    die("ftruncate");
  if (close(fd) != 0)
    die("close");
  free(area);
  free(log);
  free(fill);
  return 0;
}
