/*
 * Validation of one log entry (MS-VHDX 2.3.1), every rule in the order of
 * docs/RULES.md. Two strategies share this code: direct (read every sector
 * of the entry) and precomputed (log_tables.h answers "are these k sectors
 * all middle descriptor sectors / data sectors of sequence S" and "what is
 * the CRC of this span" in O(1)). Where the tables say a span fails, the
 * failing sector is re-read directly, so both report the same error.
 */
#include <string.h>

#include "crc32c.h"
#include "descriptor.h"
#include "error.h"
#include "log_tables.h"

static uint32_t wrap(const vhdxlog_log *ctx, uint32_t i) {
  return i >= ctx->sectors ? i - ctx->sectors : i;
}

/* How many of the `m` sectors from unwrapped sector `start` have `kind`
 * and carry `seq`, counting from the first. */
static uint32_t matching_prefix(const vhdxlog_log *ctx, const log_tables *t,
                                uint32_t start, uint32_t m, uint8_t kind,
                                uint64_t seq) {
  uint32_t done = 0;
  while (done < m) {
    uint32_t i = wrap(ctx, start + done);
    uint32_t r;
    if (t->kind[i] != kind || t->key[i] != seq) {
      break;
    }
    r = t->run[i] < m - done ? t->run[i] : m - done;
    done += r;
    if (i + t->run[i] < ctx->sectors) {
      break; /* the run ended before the log's end: the next one differs */
    }
  }
  return done;
}

/* Data descriptors in the `m` DESC_FULL sectors from unwrapped `start`. */
static uint32_t data_in_span(const vhdxlog_log *ctx, const log_tables *t,
                             uint32_t start, uint32_t m) {
  uint32_t i = wrap(ctx, start);
  if (i + m <= ctx->sectors) {
    return t->data_prefix[i + m] - t->data_prefix[i];
  }
  return (t->data_prefix[ctx->sectors] - t->data_prefix[i]) +
         t->data_prefix[i + m - ctx->sectors];
}

/* Direct check of `n` descriptor slots starting at `p`, the first being
 * descriptor `index` of its entry. */
static vhdxlog_status check_slots(const uint8_t *p, uint32_t n, uint64_t seq,
                                  uint32_t index, uint32_t *data_count,
                                  uint32_t *bad_index) {
  uint32_t k;
  for (k = 0; k < n; k++) {
    const uint8_t *d = p + k * DESCRIPTOR_SIZE;
    int is_data = 0;
    vhdxlog_status st = descriptor_shape(d, &is_data);
    if (st == VHDXLOG_OK && descriptor_sequence(d) != seq) {
      st = VHDXLOG_E_DESCRIPTOR_SEQUENCE;
    }
    if (st != VHDXLOG_OK) {
      *bad_index = index + k;
      return st;
    }
    *data_count += (uint32_t)is_data;
  }
  return VHDXLOG_OK;
}

typedef struct entry_scan {
  const vhdxlog_log *ctx;
  const log_tables *t; /* NULL: direct strategy */
  uint32_t s;          /* first sector */
  uint32_t sectors;    /* EntryLength / 4096 */
  uint32_t desc_sectors;
  uint32_t count;
  uint64_t seq;
  uint32_t data_count;
  uint32_t bad_index;
} entry_scan;

static vhdxlog_status check_descriptors(entry_scan *e) {
  uint32_t first = e->count < DESCRIPTORS_IN_FIRST_SECTOR
                       ? e->count
                       : DESCRIPTORS_IN_FIRST_SECTOR;
  uint32_t middle, k;
  vhdxlog_status st;

  st = check_slots(log_sector(e->ctx, e->s) + ENTRY_HEADER_SIZE, first, e->seq,
                   0, &e->data_count, &e->bad_index);
  if (st != VHDXLOG_OK || e->desc_sectors == 1) {
    return st;
  }
  middle = e->desc_sectors - 2;
  for (k = 0; k < middle;) {
    if (e->t != NULL) {
      uint32_t ok = matching_prefix(e->ctx, e->t, e->s + 1 + k, middle - k,
                                    SECTOR_DESC_FULL, e->seq);
      e->data_count += data_in_span(e->ctx, e->t, e->s + 1 + k, ok);
      k += ok;
      if (k == middle) {
        break;
      }
    }
    st = check_slots(log_sector(e->ctx, e->s + 1 + k), DESCRIPTORS_PER_SECTOR,
                     e->seq,
                     DESCRIPTORS_IN_FIRST_SECTOR + k * DESCRIPTORS_PER_SECTOR,
                     &e->data_count, &e->bad_index);
    if (st != VHDXLOG_OK) {
      return st;
    }
    k++;
  }
  /* The last descriptor sector holds the remainder (1..128 slots). */
  k = DESCRIPTORS_IN_FIRST_SECTOR + middle * DESCRIPTORS_PER_SECTOR;
  return check_slots(log_sector(e->ctx, e->s + e->desc_sectors - 1),
                     e->count - k, e->seq, k, &e->data_count, &e->bad_index);
}

static vhdxlog_status check_data_sectors(entry_scan *e) {
  uint32_t n = e->sectors - e->desc_sectors;
  uint32_t first = e->s + e->desc_sectors;
  uint32_t k;
  for (k = 0; k < n;) {
    const uint8_t *p;
    if (e->t != NULL) {
      k += matching_prefix(e->ctx, e->t, first + k, n - k, SECTOR_DATA,
                           e->seq);
      if (k == n) {
        break;
      }
    }
    p = log_sector(e->ctx, first + k);
    e->bad_index = k;
    if (!has_signature(p, "data")) {
      return VHDXLOG_E_DATA_SIGNATURE;
    }
    if (data_sector_sequence(p) != e->seq) {
      return VHDXLOG_E_DATA_SEQUENCE;
    }
    k++;
  }
  return VHDXLOG_OK;
}

/* Raw CRC register over sectors [a, a + n) from register 0, a + n <= N. */
static uint32_t span_register(const log_tables *t, uint32_t a, uint32_t n) {
  return t->crc[a + n] ^ vhdxlog_crc32c_mulmod(t->crc[a], t->xpow[n]);
}

/*
 * CRC-32C of the entry with its checksum field zeroed, from the tables:
 * the register is affine in the message, so
 *   crc(M) = ~(R(0, M) ^ shift(~0, |M|)), R(0, A||B) = shift(R(0,A),|B|) ^
 *   R(0, B), and zeroing bytes 4..7 xors in R(0, those bytes) shifted over
 *   the rest of the entry.
 */
static uint32_t entry_crc_from_tables(const entry_scan *e) {
  const log_tables *t = e->t;
  uint32_t n = e->ctx->sectors;
  uint32_t reg, field;
  if (e->s + e->sectors <= n) {
    reg = span_register(t, e->s, e->sectors);
  } else {
    uint32_t tail = e->s + e->sectors - n;
    reg = vhdxlog_crc32c_mulmod(span_register(t, e->s, n - e->s),
                                t->xpow[tail]) ^
          t->crc[tail];
  }
  field =
      vhdxlog_crc32c_update_portable(0, log_sector(e->ctx, e->s) + 4, 4);
  field = vhdxlog_crc32c_mulmod(field, t->constants[0]);
  field = vhdxlog_crc32c_mulmod(field, t->xpow[e->sectors - 1]);
  reg ^= field ^ vhdxlog_crc32c_mulmod(0xFFFFFFFFu, t->xpow[e->sectors]);
  return ~reg;
}

static uint32_t entry_crc_direct(const entry_scan *e) {
  static const uint8_t zero[4] = {0, 0, 0, 0};
  const uint8_t *h = log_sector(e->ctx, e->s);
  uint32_t n = e->ctx->sectors;
  uint32_t end = e->s + e->sectors;
  uint32_t reg = 0xFFFFFFFFu;
  reg = vhdxlog_crc32c_update(reg, h, 4);
  reg = vhdxlog_crc32c_update(reg, zero, 4);
  /* The rest is contiguous up to the log's end, then wraps to offset 0. */
  reg = vhdxlog_crc32c_update(
      reg, h + 8,
      (size_t)((end <= n ? end : n) - e->s) * VHDXLOG_SECTOR_SIZE - 8);
  if (end > n) {
    reg = vhdxlog_crc32c_update(reg, e->ctx->log,
                                (size_t)(end - n) * VHDXLOG_SECTOR_SIZE);
  }
  return ~reg;
}

static vhdxlog_status check_header(const vhdxlog_log *ctx, const uint8_t *h) {
  uint32_t length = load_le32(h + 8);
  uint32_t tail = load_le32(h + 12);
  uint64_t flushed = load_le64(h + 48);
  uint64_t last = load_le64(h + 56);
  if (!has_signature(h, "loge")) {
    return VHDXLOG_E_ENTRY_SIGNATURE;
  }
  if (length == 0 || length % VHDXLOG_SECTOR_SIZE != 0 ||
      length > ctx->length) {
    return VHDXLOG_E_ENTRY_LENGTH;
  }
  if (tail % VHDXLOG_SECTOR_SIZE != 0 || tail >= ctx->length) {
    return VHDXLOG_E_ENTRY_TAIL;
  }
  if (load_le64(h + 16) == 0) {
    return VHDXLOG_E_ENTRY_SEQUENCE_ZERO;
  }
  if (load_le32(h + 28) != 0) {
    return VHDXLOG_E_ENTRY_RESERVED;
  }
  if (memcmp(h + 32, ctx->guid, 16) != 0) {
    return VHDXLOG_E_ENTRY_GUID;
  }
  if (flushed % VHDXLOG_MIB != 0 || flushed > VHDXLOG_MAX_FILE_OFFSET) {
    return VHDXLOG_E_ENTRY_FLUSHED_OFFSET;
  }
  if (last % VHDXLOG_MIB != 0 || last > VHDXLOG_MAX_FILE_OFFSET) {
    return VHDXLOG_E_ENTRY_LAST_OFFSET;
  }
  if (descriptor_sectors(load_le32(h + 24)) > length / VHDXLOG_SECTOR_SIZE) {
    return VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT;
  }
  return VHDXLOG_OK;
}

vhdxlog_status entry_validate(const vhdxlog_log *ctx, uint32_t s,
                              vhdxlog_entry *out, vhdxlog_error *error) {
  const uint8_t *h = log_sector(ctx, s);
  uint64_t where = (uint64_t)s * VHDXLOG_SECTOR_SIZE;
  log_tables tables;
  entry_scan e;
  vhdxlog_status st;
  uint32_t crc;

  st = check_header(ctx, h);
  if (st != VHDXLOG_OK) {
    return report(error, st, where, VHDXLOG_NO_INDEX);
  }
  memset(&e, 0, sizeof e);
  e.ctx = ctx;
  if (ctx->scratch != NULL) {
    log_tables_layout(ctx->scratch, ctx->sectors, &tables);
    e.t = &tables;
  }
  e.s = s;
  e.sectors = load_le32(h + 8) / VHDXLOG_SECTOR_SIZE;
  e.count = load_le32(h + 24);
  e.desc_sectors = (uint32_t)descriptor_sectors(e.count);
  e.seq = load_le64(h + 16);

  st = check_descriptors(&e);
  if (st != VHDXLOG_OK) {
    return report(error, st, where, e.bad_index);
  }
  if (e.sectors - e.desc_sectors != e.data_count) {
    return report(error, VHDXLOG_E_DATA_COUNT, where, VHDXLOG_NO_INDEX);
  }
  st = check_data_sectors(&e);
  if (st != VHDXLOG_OK) {
    return report(error, st, where, e.bad_index);
  }
  crc = e.t != NULL ? entry_crc_from_tables(&e) : entry_crc_direct(&e);
  if (crc != load_le32(h + 4)) {
    return report(error, VHDXLOG_E_ENTRY_CHECKSUM, where, VHDXLOG_NO_INDEX);
  }
  if (out != NULL) {
    out->offset = (uint32_t)where;
    out->length = load_le32(h + 8);
    out->tail = load_le32(h + 12);
    out->sequence_number = e.seq;
    out->descriptor_count = e.count;
    out->data_count = e.data_count;
    out->zero_count = e.count - e.data_count;
    out->flushed_file_offset = load_le64(h + 48);
    out->last_file_offset = load_le64(h + 56);
  }
  return VHDXLOG_OK;
}

vhdxlog_status vhdxlog_log_entry(const vhdxlog_log *ctx, uint32_t offset,
                                 vhdxlog_entry *entry, vhdxlog_error *error) {
  clear_error(error);
  if (ctx == NULL || ctx->log == NULL || offset % VHDXLOG_SECTOR_SIZE != 0 ||
      offset >= ctx->length) {
    return report(error, VHDXLOG_E_ARGUMENT, offset, VHDXLOG_NO_INDEX);
  }
  return entry_validate(ctx, offset / VHDXLOG_SECTOR_SIZE, entry, error);
}
