/*
 * Replay plan: everything a replay will do, validated before any write
 * (docs/RULES.md "Plan" and "Replay order").
 *
 * For a dirty image the plan holds the active sequence, the size the file
 * will have, the FileWriteGuid the replay sets and the bytes both header
 * slots will hold once the replay is complete. For a clean image it detects
 * the one case where work is left: our own replay was interrupted between
 * the two final header writes.
 */
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "plan.h"
#include "vhdxlog.h"

/* Byte offsets inside the 4 KiB header (MS-VHDX 2.2.2). */
#define HDR_FILE_WRITE_GUID 16u
#define HDR_LOG_GUID 48u

/* RULES.md "Plan" 1: no log write may touch the first 1 MiB (identifier,
 * headers, region tables). */
#define HEADERS_BEGIN ((uint64_t)0)
#define HEADERS_END ((uint64_t)VHDXLOG_HEADER_AREA_SIZE)

/* [a, a_end) and [b, b_end) share a byte (both non-empty, no overflow). */
static int ranges_overlap(uint64_t a, uint64_t a_end, uint64_t b,
                          uint64_t b_end) {
  return a < b_end && b < a_end;
}

vhdxlog_status vhdxlog_plan_check_descriptors(const vhdxlog_image *image,
                                              const vhdxlog_log *log,
                                              const vhdxlog_sequence *seq,
                                              uint64_t *max_end,
                                              vhdxlog_error *error) {
  vhdxlog_iter it;
  vhdxlog_descriptor d;
  vhdxlog_status st;
  uint64_t furthest = 0;
  uint64_t log_begin = image->log_offset;
  uint64_t log_end;

  /* The image parser guarantees LogOffset + LogLength <= 2^62; check again
   * here so that a caller-built image cannot make the sum wrap. */
  if (log_begin > VHDXLOG_MAX_FILE_OFFSET - image->log_length) {
    return report(error, VHDXLOG_E_HEADER_LOG_LOCATION, log_begin,
                  VHDXLOG_NO_INDEX);
  }
  log_end = log_begin + image->log_length;

  st = vhdxlog_iter_init(&it, log, seq);
  if (st != VHDXLOG_OK) {
    return report(error, st, seq->tail_offset, VHDXLOG_NO_INDEX);
  }
  for (;;) {
    uint64_t end;

    st = vhdxlog_iter_next(&it, &d);
    if (st == VHDXLOG_END)
      break;
    if (st != VHDXLOG_OK) {
      return report(error, st, it.entry_offset, VHDXLOG_NO_INDEX);
    }
    if ((d.kind != VHDXLOG_DESCRIPTOR_DATA &&
         d.kind != VHDXLOG_DESCRIPTOR_ZERO) ||
        (d.kind == VHDXLOG_DESCRIPTOR_DATA &&
         d.length != VHDXLOG_SECTOR_SIZE)) {
      return report(error, VHDXLOG_E_DESCRIPTOR_SIGNATURE, d.entry_offset,
                    d.index);
    }
    /* Entry validation already bounds every write by 2^62; re-check in a
     * form that cannot overflow, since the rest of the replay relies on it. */
    if (d.file_offset > VHDXLOG_MAX_FILE_OFFSET ||
        d.length > VHDXLOG_MAX_FILE_OFFSET - d.file_offset) {
      return report(error, VHDXLOG_E_DESCRIPTOR_OFFSET, d.entry_offset,
                    d.index);
    }
    if (d.length == 0)
      continue; /* a zero-length zero descriptor is a no-op: hits nothing */
    end = d.file_offset + d.length;
    /* RULES.md "Plan" 1: a write into the header slots would break the
     * crash-safe header update; a write into the log would change what a
     * re-run replays. Either way an interrupted replay would not converge. */
    if (ranges_overlap(d.file_offset, end, HEADERS_BEGIN, HEADERS_END) ||
        (image->log_length > 0 &&
         ranges_overlap(d.file_offset, end, log_begin, log_end))) {
      return report(error, VHDXLOG_E_DESCRIPTOR_TARGET, d.entry_offset,
                    d.index);
    }
    if (end > furthest)
      furthest = end;
  }
  *max_end = furthest;
  return VHDXLOG_OK;
}

/*
 * Final header bytes of a complete replay (RULES.md "Replay order"), from
 * the current header C in slot c, the other slot o = 1 - c:
 *   with the FileWriteGuid update:  o <- U1 = update(C, F, L)
 *                                   c <- U2 = update(U1, F, 0)
 *                                   o <- U3 = update(U2, F, 0)
 *   without it:                     o <- U1 = update(C, F, 0)
 *                                   c <- U2 = update(U1, F, 0)
 */
static void final_headers_dirty(vhdxlog_plan *plan,
                                const vhdxlog_image *image) {
  static const uint8_t zero_guid[16] = {0};
  const int c = image->current;
  const int o = 1 - c;
  const uint8_t *f = plan->new_file_write_guid;

  if (plan->need_file_write_guid) {
    vhdxlog_header_update(image->current_header, f, image->log_guid,
                          plan->final_headers[o]);
    vhdxlog_header_update(plan->final_headers[o], f, zero_guid,
                          plan->final_headers[c]);
    vhdxlog_header_update(plan->final_headers[c], f, zero_guid,
                          plan->final_headers[o]);
  } else {
    vhdxlog_header_update(image->current_header, f, zero_guid,
                          plan->final_headers[o]);
    vhdxlog_header_update(plan->final_headers[o], f, zero_guid,
                          plan->final_headers[c]);
  }
}

/*
 * RULES.md "Replay order", last paragraph: the current header is clean, the
 * other one is valid, one SequenceNumber older, still names a log L, and the
 * current FileWriteGuid is derive(L). Only our own replay, stopped between
 * the two final header writes, leaves this state.
 */
static int interrupted_header_update(const vhdxlog_image *image,
                                     uint8_t file_write_guid[16]) {
  const vhdxlog_header_info *cur = &image->headers[image->current];
  const vhdxlog_header_info *other = &image->headers[1 - image->current];

  if (!other->valid || is_zero_bytes(other->log_guid, 16))
    return 0;
  /* At 2^64 - 1 no update can produce a newer header: leave it alone. */
  if (cur->sequence_number == 0 || cur->sequence_number == UINT64_MAX ||
      other->sequence_number != cur->sequence_number - 1u)
    return 0;
  if (!is_zero_bytes(image->current_header + HDR_LOG_GUID, 16))
    return 0;
  vhdxlog_derive_file_write_guid(other->log_guid, file_write_guid);
  return memcmp(image->current_header + HDR_FILE_WRITE_GUID, file_write_guid,
                16) == 0;
}

vhdxlog_status vhdxlog_plan_init(vhdxlog_plan *plan, const vhdxlog_image *image,
                                 const vhdxlog_log *log, vhdxlog_error *error) {
  static const uint8_t zero_guid[16] = {0};
  vhdxlog_status st;
  uint64_t max_end = 0;
  uint64_t size;
  int c;

  if (plan == NULL || image == NULL ||
      (image->current != 0 && image->current != 1)) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  memset(plan, 0, sizeof *plan);
  plan->image = image;
  plan->log = log;
  plan->replayed_size = image->file_size;
  c = image->current;

  if (image->log_state == VHDXLOG_LOG_CLEAN) {
    /* Nothing to replay. The current slot keeps its bytes; the other slot
     * keeps its own, unless an interrupted replay of ours left it stale. */
    memcpy(plan->final_headers[c], image->current_header, VHDXLOG_HEADER_SIZE);
    if (interrupted_header_update(image, plan->new_file_write_guid)) {
      plan->complete_header_update = 1;
      vhdxlog_header_update(image->current_header, plan->new_file_write_guid,
                            zero_guid, plan->final_headers[1 - c]);
    } else {
      memcpy(plan->final_headers[1 - c], image->other_header,
             VHDXLOG_HEADER_SIZE);
    }
    clear_error(error);
    return VHDXLOG_OK;
  }
  if (image->log_state != VHDXLOG_LOG_DIRTY || log == NULL ||
      log->length != image->log_length ||
      memcmp(log->guid, image->log_guid, 16) != 0) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }

  st = vhdxlog_log_search(log, &plan->seq, error);
  if (st != VHDXLOG_OK)
    return st;

  /* RULES.md "Plan" 1: every descriptor's target. */
  st = vhdxlog_plan_check_descriptors(image, log, &plan->seq, &max_end, error);
  if (st != VHDXLOG_OK)
    return st;

  /* RULES.md "Plan" 2 (MS-VHDX 2.3.3): data up to FlushedFileOffset was
   * durable when the log was written; a shorter file lost some of it. */
  if (image->file_size < plan->seq.flushed_file_offset) {
    return report(error, VHDXLOG_E_FILE_TRUNCATED, image->file_size,
                  VHDXLOG_NO_INDEX);
  }

  /* RULES.md "Plan" 3. */
  size = image->file_size;
  if (max_end > size)
    size = max_end;
  if (plan->seq.last_file_offset > size)
    size = plan->seq.last_file_offset;
  plan->replayed_size = size;

  vhdxlog_derive_file_write_guid(image->log_guid, plan->new_file_write_guid);
  plan->need_file_write_guid =
      memcmp(image->current_header + HDR_FILE_WRITE_GUID,
             plan->new_file_write_guid, 16) != 0;
  /* RULES.md "Plan" 3b: each header update adds one to SequenceNumber and
   * must yield the greater number, or it would not become current. */
  if (image->headers[c].sequence_number >
      UINT64_MAX - (plan->need_file_write_guid ? 3u : 2u)) {
    return report(error, VHDXLOG_E_HEADER_SEQUENCE_LIMIT,
                  c == 0 ? VHDXLOG_HEADER1_OFFSET : VHDXLOG_HEADER2_OFFSET,
                  VHDXLOG_NO_INDEX);
  }
  final_headers_dirty(plan, image);
  plan->replay = 1;
  clear_error(error);
  return VHDXLOG_OK;
}
