/* SPDX-License-Identifier: MIT */
/*
 * fuzz_image: vhdxlog_image_parse() on arbitrary bytes, then, for a dirty
 * image whose log lies inside the input, the log search and the replay plan;
 * for any image with a valid plan, the read-only overlay of a window and the
 * plan's last check (the header area as the replay leaves it must parse).
 *
 * Input: file_size u64 | window offset u64 | window size u32 | packed image
 *   (fuzz/support/packed.h: identifier, both headers, the first 1 KiB of
 *   both region tables at fixed places, then the tail, the file's bytes
 *   from 1 MiB on; its options byte is ignored: nothing is repaired here).
 *   The file holds zeros after the tail up to file_size; file_size 0 means
 *   the packed form's own size. For the window offset see window_offset().
 *   A dirty log is searched when it starts inside the tail (so seeds can
 *   stop at their last non-zero byte) and is at most 1 MiB long
 *   (FUZZ_MAX_LOG). The window (offset mod the replayed size, 1..65536
 *   bytes) is read through vhdxlog_overlay_read() and through the
 *   indexed overlay.
 *
 * Why packed: libFuzzer copies every input into a fresh heap block, and
 * under ASan a block over 128 KiB is a fresh mmap with a page fault per
 * 4 KiB, which would dominate whole images (1 MiB and more); the packed
 * form of the same image is ~10 KiB plus its log. The header area is
 * expanded into static storage, reused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "packed.h"
#include "vhdx_builder.h"

/* Tails longer than this are cut, to bound memory and time. */
#define MAX_TAIL (15u * VHDXLOG_MIB)
#define MAX_WINDOW 65536u

/* The modelled file: the header area (expanded), the tail, then zeros. */
typedef struct image_file {
  const uint8_t *head; /* VHDXLOG_HEADER_AREA_SIZE bytes */
  const uint8_t *tail; /* file bytes from 1 MiB on */
  size_t tail_len;
} image_file;

/* What a successful parse promises (vhdxlog.h, RULES "Image"). */
static void check_image(const uint8_t *buf, const vhdxlog_image *img) {
  const vhdxlog_header_info *cur;
  const vhdxlog_region_info *reg = &img->regions;
  FUZZ_CHECK(memcmp(buf, "vhdxfile", 8) == 0);
  FUZZ_CHECK(img->file_size >= VHDXLOG_HEADER_AREA_SIZE);
  FUZZ_CHECK(img->current == 0 || img->current == 1);
  cur = &img->headers[img->current];
  FUZZ_CHECK(cur->valid);
  if (img->headers[1 - img->current].valid && !img->headers_identical)
    FUZZ_CHECK(cur->sequence_number >
               img->headers[1 - img->current].sequence_number);
  FUZZ_CHECK(memcmp(img->current_header,
                    buf + (img->current ? VHDXLOG_HEADER2_OFFSET
                                        : VHDXLOG_HEADER1_OFFSET),
                    VHDXLOG_HEADER_SIZE) == 0);
  FUZZ_CHECK(cur->version == 1);
  FUZZ_CHECK(img->log_offset == cur->log_offset);
  FUZZ_CHECK(img->log_length == cur->log_length);
  FUZZ_CHECK(memcmp(img->log_guid, cur->log_guid, 16) == 0);
  FUZZ_CHECK(img->log_offset % VHDXLOG_MIB == 0 &&
             img->log_offset >= VHDXLOG_MIB);
  FUZZ_CHECK(img->log_length % VHDXLOG_MIB == 0);
  FUZZ_CHECK(img->log_offset <= VHDXLOG_MAX_FILE_OFFSET - img->log_length);
  if (vtk_guid_is_zero(img->log_guid)) {
    FUZZ_CHECK(img->log_state == VHDXLOG_LOG_CLEAN);
  } else {
    FUZZ_CHECK(img->log_state == VHDXLOG_LOG_DIRTY);
    FUZZ_CHECK(cur->log_version == 0);
    FUZZ_CHECK(img->log_length > 0);
    FUZZ_CHECK(img->log_offset + img->log_length <= img->file_size);
  }
  /* A dirty log defers the region tables to the plan (RULES.md "Image" 4). */
  if (reg->error.status != VHDXLOG_OK) {
    FUZZ_CHECK(img->log_state == VHDXLOG_LOG_DIRTY);
    return;
  }
  FUZZ_CHECK(reg->used == 0 || reg->used == 1);
  FUZZ_CHECK(reg->valid[reg->used]);
  if (reg->used == 1)
    FUZZ_CHECK(!reg->valid[0]);
  FUZZ_CHECK(reg->entry_count <= VHDXLOG_REGION_MAX_ENTRIES);
  FUZZ_CHECK(reg->bat_offset % VHDXLOG_MIB == 0 &&
             reg->bat_offset >= VHDXLOG_MIB);
  FUZZ_CHECK(reg->metadata_offset % VHDXLOG_MIB == 0 &&
             reg->metadata_offset >= VHDXLOG_MIB);
  FUZZ_CHECK(reg->bat_length % VHDXLOG_MIB == 0);
  FUZZ_CHECK(reg->metadata_length % VHDXLOG_MIB == 0);
}

/* Write [at, at + len) of `src` (NULL: zeros) into the window [off, off + n)
 * of the file, clipped. */
static void apply(uint8_t *w, uint64_t off, size_t n, uint64_t at, uint64_t len,
                  const uint8_t *src) {
  uint64_t lo = at > off ? at : off;
  uint64_t hi = at + len < off + n ? at + len : off + n;
  if (lo >= hi)
    return;
  if (src != NULL)
    memcpy(w + (lo - off), src + (lo - at), (size_t)(hi - lo));
  else
    memset(w + (lo - off), 0, (size_t)(hi - lo));
}

/* Read [off, off + n) of the modelled file. */
static void file_bytes(const image_file *f, uint64_t off, uint8_t *out,
                       size_t n) {
  memset(out, 0, n);
  apply(out, off, n, 0, VHDXLOG_HEADER_AREA_SIZE, f->head);
  apply(out, off, n, VHDXLOG_HEADER_AREA_SIZE, f->tail_len, f->tail);
}

/*
 * Where the overlay window starts. Bit 63 of the input's value set, and a
 * replay with descriptors: near descriptor (bits 32..62 mod count), at a
 * signed 16-bit distance (bits 0..15, biased by 32768), so that windows
 * cut writes at every edge without the fuzzer having to guess offsets.
 * Otherwise the value itself (taken mod the replayed size by the caller).
 */
static uint64_t window_offset(const vhdxlog_plan *plan, uint64_t raw) {
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  uint64_t k, i;
  uint32_t before, after; /* the distance, one of them 0 */
  if (!(raw >> 63) || !plan->replay || plan->seq.descriptor_count == 0)
    return raw;
  k = (raw >> 32 & 0x7FFFFFFFu) % plan->seq.descriptor_count;
  before = (raw & 0xFFFFu) < 32768u ? 32768u - (uint32_t)(raw & 0xFFFFu) : 0;
  after = (raw & 0xFFFFu) >= 32768u ? (uint32_t)(raw & 0xFFFFu) - 32768u : 0;
  FUZZ_CHECK(vhdxlog_iter_init(&it, plan->log, &plan->seq) == VHDXLOG_OK);
  for (i = 0; i <= k; i++)
    FUZZ_CHECK(vhdxlog_iter_next(&it, &d) == VHDXLOG_OK);
  /* No unsigned wrap anywhere (clean under -fsanitize=unsigned-integer-
   * overflow, which OSS-Fuzz's UBSan build enables). */
  if (d.file_offset < before)
    return 0;
  return d.file_offset - before + after;
}

/*
 * The indexed overlay (vhdxlog_overlay_index_build/_read_indexed) must read
 * the same window as vhdxlog_overlay_read() did (`want`), and refuse
 * scratch one byte short of the size it asks for.
 */
static void check_indexed(const vhdxlog_plan *plan, const image_file *file,
                          uint64_t off, const uint8_t *want, size_t n) {
  static uint8_t got[MAX_WINDOW];
  vhdxlog_overlay_index index;
  vhdxlog_error error;
  size_t need = vhdxlog_overlay_index_size(plan);
  void *scratch;
  if (need == SIZE_MAX)
    return;
  scratch = malloc(need > 0 ? need : 1);
  if (scratch == NULL)
    return;
  if (need > 0)
    FUZZ_CHECK(vhdxlog_overlay_index_build(plan, scratch, need - 1, &index,
                                           &error) == VHDXLOG_E_ARGUMENT);
  FUZZ_CHECK(vhdxlog_overlay_index_build(plan, scratch, need, &index, &error) ==
             VHDXLOG_OK);
  file_bytes(file, off, got, n);
  FUZZ_CHECK(vhdxlog_overlay_read_indexed(&index, off, got, n, &error) ==
             VHDXLOG_OK);
  FUZZ_CHECK(memcmp(got, want, n) == 0);
  free(scratch);
}

/*
 * vhdxlog_overlay_read() of a window, against the same window written out
 * the slow way: the file's bytes, then every descriptor in iterator order
 * (a later write wins), then both final headers when the plan changes them
 * (RULES "Replay order"). A plan that changes nothing must keep the file's
 * own headers as its final headers.
 */
static void check_overlay(const vhdxlog_plan *plan, const image_file *file,
                          uint64_t raw_off, uint32_t raw_size) {
  uint64_t span = plan->replayed_size > 0 ? plan->replayed_size : 1;
  uint64_t off = window_offset(plan, raw_off) % span;
  size_t n = raw_size % MAX_WINDOW + 1;
  uint8_t window[MAX_WINDOW], expected[MAX_WINDOW];
  uint8_t sector[VHDXLOG_SECTOR_SIZE];
  vhdxlog_error error;
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  vhdxlog_status st;
  int h;

  file_bytes(file, off, window, n);
  memcpy(expected, window, n);
  st = vhdxlog_overlay_read(plan, off, window, n, &error);
  FUZZ_CHECK(st == VHDXLOG_OK);
  check_indexed(plan, file, off, window, n);

  if (plan->replay) {
    FUZZ_CHECK(vhdxlog_iter_init(&it, plan->log, &plan->seq) == VHDXLOG_OK);
    while ((st = vhdxlog_iter_next(&it, &d)) == VHDXLOG_OK) {
      if (d.kind == VHDXLOG_DESCRIPTOR_DATA) {
        vhdxlog_descriptor_sector(plan->log, &d, sector);
        apply(expected, off, n, d.file_offset, d.length, sector);
      } else {
        apply(expected, off, n, d.file_offset, d.length, NULL);
      }
    }
    FUZZ_CHECK(st == VHDXLOG_END);
  }
  for (h = 0; h < 2; h++) {
    uint64_t at = h ? VHDXLOG_HEADER2_OFFSET : VHDXLOG_HEADER1_OFFSET;
    if (plan->action != VHDXLOG_ACTION_NONE) {
      apply(expected, off, n, at, VHDXLOG_HEADER_SIZE, plan->final_headers[h]);
    } else {
      uint8_t current[VHDXLOG_HEADER_SIZE];
      file_bytes(file, at, current, sizeof(current));
      FUZZ_CHECK(memcmp(plan->final_headers[h], current, VHDXLOG_HEADER_SIZE) ==
                 0);
    }
  }
  FUZZ_CHECK(memcmp(window, expected, n) == 0);
}

/*
 * The header area as a replay leaves it (the overlay patches `area` in
 * place) must parse: no log write reaches the first 1 MiB (RULES "Plan" 1).
 * It is the image a replay leaves: clean, the final headers in their slots,
 * the current one the newest, carrying the derived FileWriteGuid.
 */
static void check_result(const vhdxlog_plan *plan, const vhdxlog_image *img,
                         uint8_t *area) {
  vhdxlog_image after;
  vhdxlog_error error;
  const vhdxlog_header_info *cur;
  FUZZ_CHECK(vhdxlog_overlay_read(plan, 0, area, VHDXLOG_HEADER_AREA_SIZE,
                                  &error) == VHDXLOG_OK);
  FUZZ_CHECK(vhdxlog_image_parse(area, VHDXLOG_HEADER_AREA_SIZE,
                                 plan->replayed_size, &after,
                                 &error) == VHDXLOG_OK);
  FUZZ_CHECK(after.file_size == plan->replayed_size);
  FUZZ_CHECK(memcmp(after.current_header, plan->final_headers[after.current],
                    VHDXLOG_HEADER_SIZE) == 0);
  cur = &after.headers[after.current];
  if (plan->replay) {
    uint64_t updates = plan->need_file_write_guid ? 3 : 2;
    FUZZ_CHECK(after.log_state == VHDXLOG_LOG_CLEAN);
    FUZZ_CHECK(cur->sequence_number ==
               img->headers[img->current].sequence_number + updates);
    FUZZ_CHECK(memcmp(cur->file_write_guid, plan->new_file_write_guid, 16) ==
               0);
  } else if (plan->complete_header_update) {
    FUZZ_CHECK(after.log_state == VHDXLOG_LOG_CLEAN);
    FUZZ_CHECK(cur->sequence_number ==
               img->headers[img->current].sequence_number + 1);
  } else if (plan->action == VHDXLOG_ACTION_CLEAR_ARMED) {
    FUZZ_CHECK(after.log_state == VHDXLOG_LOG_CLEAN);
    FUZZ_CHECK(cur->sequence_number ==
               img->headers[img->current].sequence_number + 2);
    FUZZ_CHECK(memcmp(cur->file_write_guid, plan->new_file_write_guid, 16) ==
               0);
  } else {
    FUZZ_CHECK(after.current == img->current);
    FUZZ_CHECK(memcmp(after.current_header, img->current_header,
                      VHDXLOG_HEADER_SIZE) == 0);
  }
}

static int is_region_rule(vhdxlog_status st) {
  return st >= VHDXLOG_E_NO_VALID_REGION_TABLE &&
         st <= VHDXLOG_E_REGION_OVERLAP;
}

static void check_dirty(const vhdxlog_image *img, uint8_t *area,
                        const image_file *file, uint64_t raw_off,
                        uint32_t raw_size) {
  fuzz_log l;
  vhdxlog_log ctx;
  vhdxlog_sequence seq;
  vhdxlog_error error, plan_error;
  vhdxlog_plan plan;
  vhdxlog_status st, plan_st;
  size_t at, avail;

  /* The log (at 1 MiB or later: check_image) must start inside the tail;
   * past its end the file is zeros. Logs longer than FUZZ_MAX_LOG are not
   * searched. */
  if (img->log_offset - VHDXLOG_HEADER_AREA_SIZE >= file->tail_len)
    return;
  at = (size_t)(img->log_offset - VHDXLOG_HEADER_AREA_SIZE);
  avail = file->tail_len - at;
  if (fuzz_log_init(&l, file->tail + at,
                    avail < img->log_length ? avail : img->log_length,
                    img->log_length) != 0)
    return;
  FUZZ_CHECK(l.length == img->log_length);
  st = fuzz_search_and_check(&l, img->log_guid, &ctx, &seq, &error);
  plan_st = vhdxlog_plan_init(&plan, img, &ctx, &plan_error);
  if (st != VHDXLOG_OK && plan_st == VHDXLOG_OK) {
    /* An armed log that shows a power cut: cleared, no data written. */
    FUZZ_CHECK(st == VHDXLOG_E_LOG_NO_SEQUENCE);
    FUZZ_CHECK(plan.action == VHDXLOG_ACTION_CLEAR_ARMED);
    FUZZ_CHECK(plan.armed.kind == VHDXLOG_ARMED_EMPTY ||
               plan.armed.kind == VHDXLOG_ARMED_TORN);
    FUZZ_CHECK(plan.replayed_size == img->file_size);
    check_overlay(&plan, file, raw_off, raw_size);
    check_result(&plan, img, area);
  } else if (st != VHDXLOG_OK && plan_st == st) {
    FUZZ_CHECK(fuzz_same_error(&plan_error, &error));
  } else if (st != VHDXLOG_OK) {
    /* Cleared but for the tables on disk or the header's number. */
    FUZZ_CHECK(is_region_rule(plan_st) ||
               plan_st == VHDXLOG_E_HEADER_SEQUENCE_LIMIT);
  } else if (plan_st != VHDXLOG_OK) {
    /* A plan rule (bound, target, truncation, the replayed region tables,
     * ...), never an entry or log rule. */
    FUZZ_CHECK((plan_st > VHDXLOG_E_LOG_NO_SEQUENCE && plan_st < VHDXLOG_END) ||
               is_region_rule(plan_st));
    FUZZ_CHECK(plan_error.status == plan_st);
  } else {
    FUZZ_CHECK(plan.replay == 1);
    FUZZ_CHECK(plan.action == VHDXLOG_ACTION_REPLAY);
    FUZZ_CHECK(fuzz_same_sequence(&plan.seq, &seq));
    FUZZ_CHECK(img->file_size >= seq.flushed_file_offset);
    FUZZ_CHECK(plan.replayed_size >= img->file_size);
    FUZZ_CHECK(plan.replayed_size >= seq.last_file_offset);
    FUZZ_CHECK(plan.replayed_size >= seq.max_write_end);
    check_overlay(&plan, file, raw_off, raw_size);
    check_result(&plan, img, area);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /*
   * The header area is static, reused: a fresh 1 MiB per input is a fresh
   * mmap and costs page faults. It is exactly the size given to the
   * parser, so a read past it lands in ASan's redzone after the global
   * (valgrind cannot see that one: replay such a crash under ASan). Only the
   * header area is passed to the parser
   * ("only that much is read"); the log and the overlay read the tail in
   * the input itself.
   */
  static uint8_t area[VHDXLOG_HEADER_AREA_SIZE];
  const uint8_t *packed;
  image_file file;
  fuzz_reader r;
  vhdxlog_image img;
  vhdxlog_error error;
  vhdxlog_status st;
  uint64_t file_size, raw_off;
  uint32_t raw_size;
  size_t packed_len;

  fuzz_reader_init(&r, data, size);
  file_size = fuzz_take_u64(&r);
  raw_off = fuzz_take_u64(&r);
  raw_size = fuzz_take_u32(&r);
  packed = r.p;
  packed_len = r.left;

  /* Fewer bytes than the header area are refused, and nothing is read
   * past them (the input is an exactly sized heap block under ASan). */
  if (packed_len < VHDXLOG_HEADER_AREA_SIZE) {
    st = vhdxlog_image_parse(packed, packed_len, file_size, &img, &error);
    FUZZ_CHECK(st != VHDXLOG_OK);
  }

  rd_unpack_head(packed, packed_len, area);
  file.head = area;
  file.tail = rd_packed_tail(packed, packed_len, &file.tail_len);
  if (file.tail_len > MAX_TAIL)
    file.tail_len = MAX_TAIL;
  if (file_size == 0)
    file_size = rd_unpacked_size(packed, packed_len);

  st = vhdxlog_image_parse(area, sizeof(area), file_size, &img, &error);
  if (st != VHDXLOG_OK) {
    FUZZ_CHECK(error.status == st);
    return 0;
  }
  FUZZ_CHECK(img.file_size == file_size);
  check_image(area, &img);
  if (img.log_state == VHDXLOG_LOG_DIRTY) {
    check_dirty(&img, area, &file, raw_off, raw_size);
  } else {
    vhdxlog_plan plan;
    st = vhdxlog_plan_init(&plan, &img, NULL, &error);
    FUZZ_CHECK(st == VHDXLOG_OK);
    FUZZ_CHECK(plan.replay == 0);
    check_overlay(&plan, &file, raw_off, raw_size);
    check_result(&plan, &img, area);
  }
  return 0;
}
