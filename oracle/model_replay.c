/* SPDX-License-Identifier: MIT */
/* Plan checks and replay: RULES.md "Plan" and "Replay order", on a plain
 * in-memory copy of the image. */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

static const uint8_t zero_guid[16] = {0};

/* Note [off, off + length) in out->written. */
static void note_write(model_result *out, uint64_t off, uint64_t length) {
  if (out->written_count == out->written_cap) {
    size_t cap = out->written_cap == 0 ? 16 : 2 * out->written_cap;
    uint64_t(*w)[2] = mdl_malloc(cap * sizeof *w);
    if (out->written_count > 0)
      memcpy(w, out->written, out->written_count * sizeof *w);
    free(out->written);
    out->written = w;
    out->written_cap = cap;
  }
  out->written[out->written_count][0] = off;
  out->written[out->written_count][1] = off + length;
  out->written_count++;
}

/* update(H, fwg, lg): the header in slot `from` with SequenceNumber + 1
 * (modulo 2^64), FileWriteGuid and LogGuid replaced, checksum recomputed,
 * written over the other slot. Returns the slot written (now current). */
static int header_update(uint8_t *img, int from, const uint8_t fwg[16],
                         const uint8_t lg[16], model_result *out) {
  uint8_t h[VHDXLOG_HEADER_SIZE];
  int to = 1 - from;
  memcpy(h, img + mdl_header_offset(from), sizeof h);
  mdl_put64(h + 8, mdl_le64(h + 8) + 1);
  memcpy(h + 16, fwg, 16);
  memcpy(h + 48, lg, 16);
  mdl_put32(h + 4, mdl_crc_field_zeroed(h, sizeof h));
  memcpy(img + mdl_header_offset(to), h, sizeof h);
  note_write(out, mdl_header_offset(to), sizeof h);
  return to;
}

/* Descriptor fields the plan and the replay need. */
typedef struct mdl_write {
  int is_data;
  uint64_t file_offset;
  uint64_t length; /* 4096, or ZeroLength (may be 0: a no-op) */
  const uint8_t *desc;
  const uint8_t *data_sector; /* data descriptors only */
} mdl_write;

static mdl_write descriptor_write(const uint8_t *log, uint32_t log_length,
                                  const mdl_entry *e, uint32_t i,
                                  uint32_t *data_seen) {
  mdl_write w;
  w.desc = mdl_descriptor(log, log_length, e->offset, i);
  w.file_offset = mdl_le64(w.desc + 16);
  w.data_sector = NULL;
  if (mdl_sig4(w.desc, "desc")) {
    w.is_data = 1;
    w.length = MDL_SECTOR;
    w.data_sector = mdl_entry_sector(log, log_length, e->offset,
                                     (uint64_t)e->desc_sectors + *data_seen);
    *data_seen += 1;
  } else {
    MDL_CHECK(mdl_sig4(w.desc, "zero")); /* validated entry */
    w.is_data = 0;
    w.length = mdl_le64(w.desc + 8);
  }
  return w;
}

/* RULES.md "Plan" 2: the identifier and both header slots, then the
 * reserved space after the region tables. */
#define FORBIDDEN_LOW_END ((uint64_t)VHDXLOG_REGION1_OFFSET)
#define RESERVED_START                                                         \
  ((uint64_t)VHDXLOG_REGION2_OFFSET + VHDXLOG_REGION_TABLE_SIZE)
#define RESERVED_END ((uint64_t)VHDXLOG_HEADER_AREA_SIZE)
/* The file up to the end of region table 2. */
#define REGIONS_END ((size_t)RESERVED_START)

/* Does the write share a byte with [start, start + length)? Every value is
 * at most 2^62 (plan rule 1 runs first, image rule 3), so the sums cannot
 * overflow. */
static int hits(mdl_write w, uint64_t start, uint64_t length) {
  if (w.length == 0 || length == 0)
    return 0;
  return w.file_offset < start + length && start < w.file_offset + w.length;
}

static void set_error(model_result *out, vhdxlog_status st) {
  out->status = st;
  out->replayed = 0;
  out->headers_repaired = 0;
  out->armed_cleared = 0;
}

/* SequenceNumber + `updates` must not wrap (RULES.md "Plan" 6). */
static int sequence_room(const uint8_t *image, const mdl_image *im,
                         unsigned updates) {
  return mdl_le64(image + mdl_header_offset(im->current) + 8) <=
         UINT64_MAX - updates;
}

/* RULES.md "Armed logs", default policy: clear EMPTY and TORN logs with two
 * header updates, refuse the rest. */
static void clear_armed(const mdl_image *im, const uint8_t *log,
                        model_result *out) {
  int kind = mdl_armed_kind(log, im->log_length, im->log_guid);
  vhdxlog_status st = VHDXLOG_OK;
  uint8_t f[16];
  int cur;
  if (kind != VHDXLOG_ARMED_EMPTY && kind != VHDXLOG_ARMED_TORN)
    st = VHDXLOG_E_LOG_NO_SEQUENCE;
  else if (im->regions != VHDXLOG_OK)
    st = im->regions;
  else if (!sequence_room(out->image, im, 2u))
    st = VHDXLOG_E_HEADER_SEQUENCE_LIMIT;
  if (st != VHDXLOG_OK) {
    set_error(out, st);
    return;
  }
  model_derive_file_write_guid(im->log_guid, f);
  cur = header_update(out->image, im->current, f, zero_guid, out);
  header_update(out->image, cur, f, zero_guid, out);
  out->status = VHDXLOG_OK;
  out->armed_cleared = 1;
}

/* RULES.md: the clean image whose replay (ours) stopped between the two
 * header writes of step 4. */
static void complete_clean(const mdl_image *im, model_result *out) {
  int cur = im->current, other = 1 - im->current;
  const uint8_t *hc = out->image + mdl_header_offset(cur);
  const uint8_t *ho = out->image + mdl_header_offset(other);
  uint8_t f[16];
  if (!im->valid[other] || mdl_is_zero(ho + 48, 16))
    return;
  if (mdl_le64(hc + 8) == UINT64_MAX ||
      mdl_le64(ho + 8) + 1 != mdl_le64(hc + 8))
    return;
  model_derive_file_write_guid(ho + 48, f);
  if (memcmp(hc + 16, f, 16) != 0)
    return;
  header_update(out->image, cur, f, zero_guid, out);
  out->headers_repaired = 1;
}

/* RULES.md "Replay order" on `buf`, the file's first buf_size bytes (the
 * whole file, or its first REGIONS_END bytes for plan check 4): header update
 * 1, the descriptors tail to head, the two clearing header updates. Writes are
 * clipped to buf_size; data writes are 4 KiB-aligned and buf_size is a
 * multiple of 4 KiB, so a data sector is either wholly in or wholly out. */
static void apply_replay(uint8_t *buf, uint64_t buf_size, const mdl_image *im,
                         const mdl_seq *seq, const uint8_t *log,
                         model_result *out) {
  uint8_t f[16];
  uint64_t k;
  uint32_t i, data_seen;
  int cur;
  /* Replay 1: a new FileWriteGuid before the first modification. */
  model_derive_file_write_guid(im->log_guid, f);
  cur = im->current;
  if (memcmp(buf + mdl_header_offset(cur) + 16, f, 16) != 0)
    cur = header_update(buf, cur, f, im->log_guid, out);

  /* Replay 2: descriptors, tail to head, in order. The log is read from the
   * input, which no write may change (plan 1). */
  for (k = 0; k < seq->count; k++) {
    const mdl_entry *e = &seq->entries[k];
    data_seen = 0;
    for (i = 0; i < e->count; i++) {
      mdl_write w = descriptor_write(log, im->log_length, e, i, &data_seen);
      uint8_t *dst;
      if (w.file_offset >= buf_size)
        continue; /* clipped: only the first buf_size bytes are kept */
      dst = buf + (size_t)w.file_offset;
      if (w.is_data) {
        memcpy(dst, w.desc + 8, 8);               /* LeadingBytes */
        memcpy(dst + 8, w.data_sector + 8, 4084); /* Data */
        memcpy(dst + 4092, w.desc + 4, 4);        /* TrailingBytes */
        note_write(out, w.file_offset, MDL_SECTOR);
      } else if (w.length > 0) {
        memset(dst, 0,
               (size_t)(w.length < buf_size - w.file_offset
                            ? w.length
                            : buf_size - w.file_offset));
      }
    }
  }
  /* Replay 3: the file already has its replayed size. */

  /* Replay 4: clear the log, twice, so both copies are up to date. */
  cur = header_update(buf, cur, f, zero_guid, out);
  header_update(buf, cur, f, zero_guid, out);
}

/* The plan checks, in RULES.md's order; on success *replayed_size is the
 * size the file will have after the replay. */
static vhdxlog_status plan_check(const uint8_t *image, size_t size,
                                 uint64_t max_size, const mdl_image *im,
                                 const mdl_seq *seq, uint64_t *replayed_size) {
  const uint8_t *log = image + im->log_offset;
  const mdl_entry *head = &seq->entries[seq->count - 1];
  vhdxlog_status st;
  uint64_t k;
  uint32_t i, data_seen;
  int writes_regions = 0;
  uint8_t fwg[16];

  /* Plan 1 and 2, per descriptor in replay order: our 2^62 bound, then no
   * write into the identifier, the header slots, the reserved space or the
   * log. */
  *replayed_size = size;
  for (k = 0; k < seq->count; k++) {
    const mdl_entry *e = &seq->entries[k];
    data_seen = 0;
    for (i = 0; i < e->count; i++) {
      mdl_write w = descriptor_write(log, im->log_length, e, i, &data_seen);
      if (w.file_offset > MDL_MAX || w.length > MDL_MAX - w.file_offset)
        return VHDXLOG_E_OFFSET_LIMIT;
      if (w.length == 0)
        continue; /* zero-length zero descriptor: a no-op */
      if (hits(w, 0, FORBIDDEN_LOW_END) ||
          hits(w, RESERVED_START, RESERVED_END - RESERVED_START) ||
          hits(w, im->log_offset, im->log_length))
        return VHDXLOG_E_DESCRIPTOR_TARGET;
      if (w.file_offset + w.length > *replayed_size)
        *replayed_size = w.file_offset + w.length;
      if (hits(w, FORBIDDEN_LOW_END, RESERVED_START - FORBIDDEN_LOW_END))
        writes_regions = 1;
    }
  }
  if (head->flushed > MDL_MAX || head->last > MDL_MAX)
    return VHDXLOG_E_OFFSET_LIMIT;
  /* Plan 3. */
  if (size < head->flushed)
    return VHDXLOG_E_FILE_TRUNCATED;
  /* Plan 4: the region tables as the replay leaves them: as on disk when no
   * write lands in them, else on a replayed copy of the file's first
   * REGIONS_END bytes (the headers and both tables). */
  st = im->regions;
  if (writes_regions) {
    uint8_t *area = mdl_malloc(REGIONS_END);
    model_result scratch;
    memset(&scratch, 0, sizeof scratch);
    memcpy(area, image, REGIONS_END);
    apply_replay(area, REGIONS_END, im, seq, log, &scratch);
    st = mdl_regions_check(area, im->log_offset, im->log_length);
    free(area);
    model_result_free(&scratch);
  }
  if (st != VHDXLOG_OK)
    return st;
  /* Plan 5. */
  if (head->last > *replayed_size)
    *replayed_size = head->last;
  /* Plan 6: room for the header updates in SequenceNumber. */
  model_derive_file_write_guid(im->log_guid, fwg);
  if (!sequence_room(
          image, im,
          memcmp(image + mdl_header_offset(im->current) + 16, fwg, 16) != 0
              ? 3u
              : 2u))
    return VHDXLOG_E_HEADER_SEQUENCE_LIMIT;
  if (*replayed_size > size &&
      (*replayed_size > max_size || *replayed_size > (uint64_t)SIZE_MAX))
    return VHDXLOG_E_IO;
  return VHDXLOG_OK;
}

void model_replay_in(uint8_t *buf, size_t size, size_t capacity,
                     uint64_t max_size, model_result *out) {
  const uint8_t *image = buf;
  mdl_image im;
  mdl_seq seq;
  const uint8_t *log;
  const mdl_entry *head;
  vhdxlog_status st;
  uint64_t replayed_size;

  MDL_CHECK(capacity >= size && (buf != NULL || size == 0));
  memset(out, 0, sizeof *out);
  out->image = buf;
  out->image_size = size;

  st = mdl_image_check(image, size, &im);
  if (st != VHDXLOG_OK) {
    set_error(out, st);
    return;
  }
  if (!im.dirty) {
    out->status = VHDXLOG_OK;
    complete_clean(&im, out);
    return;
  }
  /* Search. */
  log = image + im.log_offset;
  st = mdl_search(log, im.log_length, im.log_guid, &seq);
  if (st == VHDXLOG_E_LOG_NO_SEQUENCE) {
    clear_armed(&im, log, out);
    return;
  }
  if (st != VHDXLOG_OK) {
    set_error(out, st);
    return;
  }
  head = &seq.entries[seq.count - 1];
  out->tail_offset = seq.entries[0].offset;
  out->head_offset = head->offset;
  out->entry_count = seq.count;
  out->head_sequence_number = head->seq;

  st = plan_check(image, size, max_size, &im, &seq, &replayed_size);
  if (st != VHDXLOG_OK) {
    free(seq.entries);
    set_error(out, st);
    return;
  }

  /* The file as it will end: old bytes, then zeros up to the new size (in
   * place when it fits: those bytes are zero already, model.h; the log is
   * read from `image` either way). */
  if (replayed_size > capacity) {
    uint8_t *grown = mdl_malloc((size_t)replayed_size);
    memcpy(grown, image, size);
    memset(grown + size, 0, (size_t)(replayed_size - size));
    out->image = grown;
    out->image_owned = 1;
  }
  if (replayed_size > size)
    out->image_size = replayed_size;
  apply_replay(out->image, out->image_size, &im, &seq, log, out);
  free(seq.entries);
  out->status = VHDXLOG_OK;
  out->replayed = 1;
}

void model_replay(const uint8_t *image, size_t size, uint64_t max_size,
                  model_result *out) {
  uint8_t *copy;
  if (size > 0 && image == NULL) {
    memset(out, 0, sizeof *out);
    out->image = mdl_malloc(size);
    out->image_owned = 1;
    out->image_size = size;
    set_error(out, VHDXLOG_E_ARGUMENT);
    return;
  }
  copy = mdl_malloc(size);
  if (size > 0)
    memcpy(copy, image, size);
  model_replay_in(copy, size, size, max_size, out);
  if (out->image == copy)
    out->image_owned = 1;
  else
    free(copy);
}

void model_result_free(model_result *r) {
  if (r == NULL)
    return;
  if (r->image_owned)
    free(r->image);
  free(r->written);
  r->image = NULL;
  r->image_size = 0;
  r->image_owned = 0;
  r->written = NULL;
  r->written_count = r->written_cap = 0;
}
