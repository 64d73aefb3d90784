/* SPDX-License-Identifier: MIT */
/*
 * A vhdxlog_io for `replay --dry-run`: reads go to the real file, every
 * mutating call is only printed (and counted), so the replay runs its real
 * code path and shows each write it would make without touching the file.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "guid.h"

static void grow(cli_dry_io *d, uint64_t end) {
  if (d->size_known && end > d->size)
    d->size = end;
}

/* Count a write of `size` bytes at `offset` that is not made. */
static int count_write(cli_dry_io *d, uint64_t offset, uint64_t size) {
  d->writes++;
  d->bytes += size;
  if (size > 0)
    grow(d, offset + size);
  return 0;
}

static int dry_read(void *ctx, uint64_t offset, void *buf, size_t size) {
  cli_dry_io *d = ctx;
  return d->inner->read(d->inner->ctx, offset, buf, size);
}

static int dry_get_size(void *ctx, uint64_t *size) {
  cli_dry_io *d = ctx;
  if (!d->size_known) {
    if (d->inner->get_size(d->inner->ctx, &d->size) != 0)
      return -1;
    d->size_known = 1;
  }
  /* Report the size the earlier (unperformed) writes would have left. */
  *size = d->size;
  return 0;
}

static void print_write(FILE *out, uint64_t offset, const uint8_t *p,
                        size_t size) {
  fprintf(out, "write  offset 0x%012" PRIx64 " length 0x%08zx  ", offset, size);
  if (size == VHDXLOG_HEADER_SIZE &&
      (offset == VHDXLOG_HEADER1_OFFSET || offset == VHDXLOG_HEADER2_OFFSET)) {
    /* A header update (MS-VHDX 2.2.2.1): show what it changes. */
    vhdxlog_header_info h;
    char fwg[CLI_GUID_TEXT_SIZE], lg[CLI_GUID_TEXT_SIZE];
    vhdxlog_header_decode(p, &h);
    cli_guid_format(h.file_write_guid, fwg);
    cli_guid_format(h.log_guid, lg);
    fprintf(out,
            "header %d update: SequenceNumber %" PRIu64
            ", FileWriteGuid %s, LogGuid %s\n",
            offset == VHDXLOG_HEADER1_OFFSET ? 1 : 2, h.sequence_number, fwg,
            lg);
  } else {
    fprintf(out, "data\n");
  }
}

static int dry_write(void *ctx, uint64_t offset, const void *buf, size_t size) {
  cli_dry_io *d = ctx;
  if (d->out != NULL) /* NULL: count only (replay --dry-run --json) */
    print_write(d->out, offset, buf, size);
  return count_write(d, offset, size);
}

static int dry_write_zeros(void *ctx, uint64_t offset, uint64_t size) {
  cli_dry_io *d = ctx;
  if (d->out)
    fprintf(d->out,
            "zero   offset 0x%012" PRIx64 " length 0x%08" PRIx64 "  zero\n",
            offset, size);
  return count_write(d, offset, size);
}

static int dry_set_size(void *ctx, uint64_t size) {
  cli_dry_io *d = ctx;
  d->writes++;
  if (d->out)
    fprintf(d->out, "resize to   0x%012" PRIx64 "                     extend\n",
            size);
  grow(d, size);
  return 0;
}

static int dry_flush(void *ctx) {
  cli_dry_io *d = ctx;
  d->flushes++;
  if (d->out)
    fprintf(d->out, "flush\n");
  return 0;
}

void cli_dry_io_init(cli_dry_io *d, const vhdxlog_io *inner, FILE *out,
                     vhdxlog_io *io) {
  static const cli_dry_io zero;
  const vhdxlog_io dry = {.ctx = d,
                          .read = dry_read,
                          .write = dry_write,
                          .write_zeros = dry_write_zeros,
                          .get_size = dry_get_size,
                          .set_size = dry_set_size,
                          .flush = dry_flush};
  *d = zero;
  d->inner = inner;
  d->out = out;
  *io = dry;
}
