/*
 * Binding a log context and, with scratch, the one linear pass that
 * precomputes per-sector facts (log_tables.h) for O(1) entry checks.
 */
#include <string.h>

#include "crc32c.h"
#include "descriptor.h"
#include "error.h"
#include "log_tables.h"

#define SCRATCH_ALIGN 8u

size_t log_tables_layout(void *scratch, uint32_t n, log_tables *t) {
  /* Widest members first so that each array stays aligned. */
  size_t key_bytes = (size_t)n * 8;
  size_t u32_bytes = ((size_t)n + 1) * 4;
  size_t run_bytes = (size_t)n * 4;
  size_t const_bytes = 2 * 4;
  size_t total = key_bytes + 3 * u32_bytes + run_bytes + const_bytes + n;
  if (scratch != NULL && t != NULL) {
    uint8_t *p = (uint8_t *)scratch;
    size_t misalign = (size_t)((uintptr_t)p % SCRATCH_ALIGN);
    if (misalign != 0) {
      p += SCRATCH_ALIGN - misalign;
    }
    t->key = (uint64_t *)(void *)p;
    p += key_bytes;
    t->crc = (uint32_t *)(void *)p;
    p += u32_bytes;
    t->xpow = (uint32_t *)(void *)p;
    p += u32_bytes;
    t->data_prefix = (uint32_t *)(void *)p;
    p += u32_bytes;
    t->run = (uint32_t *)(void *)p;
    p += run_bytes;
    t->constants = (uint32_t *)(void *)p;
    p += const_bytes;
    t->kind = p;
  }
  return total + SCRATCH_ALIGN; /* slack for aligning any pointer */
}

size_t vhdxlog_log_scratch_size(uint32_t log_length) {
  if (log_length == 0 || log_length % VHDXLOG_SECTOR_SIZE != 0) {
    return 0;
  }
  return log_tables_layout(NULL, log_length / VHDXLOG_SECTOR_SIZE, NULL);
}

/* A sector whose 128 slots are all well-formed descriptors with one
 * SequenceNumber: what every middle descriptor sector of an entry is. */
static int classify_descriptor_sector(const uint8_t *p, uint64_t *seq,
                                      uint32_t *data_count) {
  uint32_t i, data = 0;
  uint64_t first = descriptor_sequence(p);
  for (i = 0; i < DESCRIPTORS_PER_SECTOR; i++) {
    const uint8_t *d = p + i * DESCRIPTOR_SIZE;
    int is_data = 0;
    if (descriptor_shape(d, &is_data) != VHDXLOG_OK ||
        descriptor_sequence(d) != first) {
      return 0;
    }
    data += (uint32_t)is_data;
  }
  *seq = first;
  *data_count = data;
  return 1;
}

static void precompute(const vhdxlog_log *ctx, const log_tables *t) {
  uint32_t n = ctx->sectors;
  uint32_t i;
  uint32_t reg = 0;
  uint32_t shift_one_sector = vhdxlog_crc32c_xpow8n(VHDXLOG_SECTOR_SIZE);
  int hw = vhdxlog_crc32c_hw_available();

  t->crc[0] = 0;
  t->xpow[0] = 0x80000000u; /* x^0 */
  t->data_prefix[0] = 0;
  t->constants[0] =
      vhdxlog_crc32c_xpow8n(VHDXLOG_SECTOR_SIZE - 8); /* after bytes 4..7 */
  t->constants[1] = 0;
  for (i = 0; i < n; i++) {
    const uint8_t *p = ctx->log + (size_t)i * VHDXLOG_SECTOR_SIZE;
    uint32_t data = 0;
    uint64_t seq = 0;
    uint8_t kind = SECTOR_OTHER;

    reg = hw ? vhdxlog_crc32c_update_hw(reg, p, VHDXLOG_SECTOR_SIZE)
             : vhdxlog_crc32c_update_portable(reg, p, VHDXLOG_SECTOR_SIZE);
    t->crc[i + 1] = reg;
    t->xpow[i + 1] = vhdxlog_crc32c_mulmod(t->xpow[i], shift_one_sector);
    if (has_signature(p, "data")) {
      kind = SECTOR_DATA;
      seq = data_sector_sequence(p);
    } else if ((has_signature(p, "desc") || has_signature(p, "zero")) &&
               classify_descriptor_sector(p, &seq, &data)) {
      kind = SECTOR_DESC_FULL;
    }
    t->kind[i] = kind;
    t->key[i] = seq;
    t->data_prefix[i + 1] = t->data_prefix[i] + data;
  }
  /* Runs are computed backwards and never wrap; callers split at the end. */
  t->run[n - 1] = 1;
  for (i = n - 1; i-- > 0;) {
    int same = t->kind[i] == t->kind[i + 1] && t->key[i] == t->key[i + 1];
    t->run[i] = same ? t->run[i + 1] + 1 : 1;
  }
}

vhdxlog_status vhdxlog_log_init(vhdxlog_log *ctx, const uint8_t *log,
                                size_t log_length, const uint8_t guid[16],
                                void *scratch, size_t scratch_size) {
  if (ctx == NULL || log == NULL || guid == NULL || log_length == 0 ||
      log_length % VHDXLOG_SECTOR_SIZE != 0 || log_length > 0xFFFFFFFFu) {
    return VHDXLOG_E_ARGUMENT;
  }
  memset(ctx, 0, sizeof *ctx);
  ctx->log = log;
  ctx->length = (uint32_t)log_length;
  ctx->sectors = (uint32_t)(log_length / VHDXLOG_SECTOR_SIZE);
  memcpy(ctx->guid, guid, 16);
  if (scratch != NULL) {
    log_tables t;
    if (scratch_size < vhdxlog_log_scratch_size(ctx->length)) {
      return VHDXLOG_E_SCRATCH_TOO_SMALL;
    }
    log_tables_layout(scratch, ctx->sectors, &t);
    ctx->scratch = scratch;
    precompute(ctx, &t);
  }
  return VHDXLOG_OK;
}
