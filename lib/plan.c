/* SPDX-License-Identifier: MIT */
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

#include "armed.h"
#include "bytes.h"
#include "error.h"
#include "plan.h"
#include "region.h"
#include "vhdxlog.h"
#include "walk.h"

/* RULES.md "Plan" 2: of the first 1 MiB, a log may write only the region
 * tables [192 KiB, 320 KiB). */
#define IDENTIFIER_AND_HEADERS_END ((uint64_t)VHDXLOG_REGION_AREA_BEGIN)
#define RESERVED_BEGIN ((uint64_t)VHDXLOG_REGION_AREA_END)
#define RESERVED_END ((uint64_t)VHDXLOG_HEADER_AREA_SIZE)

/* [a, a_end) and [b, b_end) share a byte (both non-empty, no overflow). */
static int ranges_overlap(uint64_t a, uint64_t a_end, uint64_t b,
                          uint64_t b_end) {
  return a < b_end && b < a_end;
}

/* Our own bound, broken by a write or a size the spec allows: the field's
 * rule is the cause. */
static vhdxlog_status limit_error(vhdxlog_error *error, vhdxlog_status cause,
                                  uint64_t entry_offset, uint32_t index) {
  report(error, VHDXLOG_E_OFFSET_LIMIT, entry_offset, index);
  if (error != NULL)
    error->cause = cause;
  return VHDXLOG_E_OFFSET_LIMIT;
}

/* What a descriptor pass needs to know about the image. */
typedef struct check_area {
  uint64_t log_begin, log_end; /* [0, 0) when the log is empty */
  vhdxlog_region_patch *patches;
} check_area;

/* Signatures as little-endian words: a zero descriptor's signature and
 * Reserved field are one 8-byte compare. */
#define ZERO_AND_RESERVED                                                      \
  ((uint64_t)('z' | 'e' << 8 | 'r' << 16 | (uint32_t)'o' << 24))
#define DESC_WORD ((uint32_t)('d' | 'e' << 8 | 's' << 16 | (uint32_t)'c' << 24))

/*
 * Every rule, in order, for descriptor `index` of entry `e` at `p`: the
 * iterator's (descriptor rules, then the data count; errors at the entry,
 * no index, as vhdxlog_iter_next reports them), then RULES.md "Plan" 1 and
 * 2. Records the region-table sectors it writes and its end.
 */
static vhdxlog_status check_plan_slot(const check_area *a, const walk *w,
                                      const walk_entry *e, const uint8_t *p,
                                      uint32_t index, uint32_t *data_seen,
                                      uint64_t *furthest,
                                      vhdxlog_error *error) {
  int is_data = 0;
  vhdxlog_status st = descriptor_shape(p, &is_data);
  uint64_t off = descriptor_file_offset(p), len, end;

  if (st == VHDXLOG_OK && descriptor_sequence(p) != e->seq)
    st = VHDXLOG_E_DESCRIPTOR_SEQUENCE;
  if (st != VHDXLOG_OK)
    return report(error, st, e->offset, VHDXLOG_NO_INDEX);
  if (is_data) {
    if (*data_seen >= e->sectors - e->desc_sectors)
      return report(error, VHDXLOG_E_DATA_COUNT, e->offset, VHDXLOG_NO_INDEX);
  }
  len = descriptor_write_length(p);
  /* RULES.md "Plan" 1: our bound, which keeps every sum below exact. */
  if (off > VHDXLOG_MAX_FILE_OFFSET || len > VHDXLOG_MAX_FILE_OFFSET - off)
    return limit_error(error, VHDXLOG_E_DESCRIPTOR_OFFSET, e->offset, index);
  if (len != 0) {
    end = off + len;
    /* RULES.md "Plan" 2: a write into the identifier or the header slots
     * would break the crash-safe header update (2.2.2: headers are never
     * updated through the log); a write into the log would change what a
     * re-run replays; the reserved space holds nothing a log may change.
     * Either way an interrupted replay could not converge. */
    if (ranges_overlap(off, end, 0, IDENTIFIER_AND_HEADERS_END) ||
        ranges_overlap(off, end, RESERVED_BEGIN, RESERVED_END) ||
        (a->log_end > a->log_begin &&
         ranges_overlap(off, end, a->log_begin, a->log_end))) {
      return report(error, VHDXLOG_E_DESCRIPTOR_TARGET, e->offset, index);
    }
    if (a->patches != NULL && off < VHDXLOG_REGION_AREA_END) {
      vhdxlog_descriptor d;
      memset(&d, 0, sizeof d);
      d.kind = is_data ? VHDXLOG_DESCRIPTOR_DATA : VHDXLOG_DESCRIPTOR_ZERO;
      d.file_offset = off;
      d.length = len;
      d.entry_offset = e->offset;
      d.index = index;
      if (is_data) {
        d.data_offset = walk_data_offset(w, e, *data_seen);
        descriptor_data_ends(p, &d);
      }
      vhdxlog_region_patch_write(a->patches, off, len, is_data ? &d : NULL);
    }
    if (end > *furthest)
      *furthest = end;
  }
  *data_seen += (uint32_t)is_data;
  return VHDXLOG_OK;
}

/*
 * The `n` slots at `p`, the first being descriptor `index` of entry `e`.
 * Most descriptors are valid and write past the first 1 MiB, away from the
 * log: for them a few compares suffice (a hostile log packs 126 of them
 * into each 4 KiB sector, so this loop is the pass's cost). Any other slot
 * goes through check_plan_slot(), which applies every rule in order; so errors
 * and region-table patches come out exactly as from a slot-by-slot pass.
 */
static vhdxlog_status check_plan_slots(const check_area *a, const walk *w,
                                       const walk_entry *e, const uint8_t *p,
                                       uint32_t n, uint32_t index,
                                       uint32_t *data_seen, uint64_t *furthest,
                                       vhdxlog_error *error) {
  /* Aligned and below 2^61: offset + length cannot pass 2^62. */
  const uint64_t unaligned_or_big =
      ~((((uint64_t)1) << 61) - VHDXLOG_SECTOR_SIZE);
  /* In locals: the compiler cannot keep fields read through pointers in
   * registers across the call below. */
  const uint32_t data_limit = e->sectors - e->desc_sectors;
  const uint64_t seq = e->seq;
  const uint64_t log_begin = a->log_begin, log_end = a->log_end;
  uint64_t far = *furthest;
  uint32_t seen = *data_seen, k;

  for (k = 0; k < n; k++) {
    const uint8_t *d = p + (size_t)k * DESCRIPTOR_SIZE;
    uint64_t head = load_le64(d);
    uint64_t off = descriptor_file_offset(d);
    uint64_t len;
    int fast;
    if (head == ZERO_AND_RESERVED) {
      len = load_le64(d + DESCRIPTOR_ZERO_LENGTH);
      fast = 1;
    } else {
      len = VHDXLOG_SECTOR_SIZE;
      fast = (uint32_t)head == DESC_WORD && seen < data_limit;
    }
    /* A zero-length write takes the slow path: it may lie anywhere. The
     * sum is formed only once both terms are known to be below 2^61. */
    if (fast && len != 0 && ((off | len) & unaligned_or_big) == 0 &&
        descriptor_sequence(d) == seq && off >= RESERVED_END &&
        (off + len <= log_begin || off >= log_end)) {
      seen += (uint32_t)(head != ZERO_AND_RESERVED);
      far = off + len > far ? off + len : far;
    } else {
      vhdxlog_status st =
          check_plan_slot(a, w, e, d, index + k, &seen, &far, error);
      if (st != VHDXLOG_OK)
        return st;
    }
  }
  *furthest = far;
  *data_seen = seen;
  return VHDXLOG_OK;
}

VHDXLOG_INTERNAL vhdxlog_status vhdxlog_plan_check_descriptors(
    const vhdxlog_image *image, const vhdxlog_log *log,
    const vhdxlog_sequence *seq, vhdxlog_region_patch *patches,
    uint64_t *max_end, uint64_t *count, vhdxlog_error *error) {
  check_area area;
  walk w;
  walk_entry e;
  vhdxlog_status st;
  uint64_t furthest = 0, total = 0;
  uint64_t log_begin = image->log_offset;

  /* The image parser guarantees LogOffset + LogLength <= 2^62; check again
   * here so that a caller-built image cannot make the sum wrap. */
  if (log_begin > VHDXLOG_MAX_FILE_OFFSET - image->log_length) {
    return report(error, VHDXLOG_E_HEADER_LOG_LOCATION, log_begin,
                  VHDXLOG_NO_INDEX);
  }
  area.log_begin = image->log_length > 0 ? log_begin : 0;
  area.log_end = image->log_length > 0 ? log_begin + image->log_length : 0;
  area.patches = patches;

  st = walk_init(&w, log, seq);
  if (st != VHDXLOG_OK) {
    return report(error, st, seq->tail_offset, VHDXLOG_NO_INDEX);
  }
  for (;;) {
    uint32_t k, data_seen = 0;
    st = walk_next(&w, &e);
    if (st == VHDXLOG_END)
      break;
    if (st != VHDXLOG_OK)
      return report(error, st, e.offset, VHDXLOG_NO_INDEX);
    for (k = 0; k < e.desc_sectors; k++) {
      uint32_t n, first;
      const uint8_t *p = walk_slots(&w, &e, k, &n, &first);
      st = check_plan_slots(&area, &w, &e, p, n, first, &data_seen, &furthest,
                            error);
      if (st != VHDXLOG_OK)
        return st;
    }
    total += e.count;
  }
  *max_end = furthest;
  if (count != NULL)
    *count = total;
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

/* RULES.md "Armed logs": no data, so the FileWriteGuid changes with the
 * first header write: o <- U1 = update(C, F, 0), c <- U2 = update(U1, F, 0).
 * Cut after U1, the file is in the state interrupted_header_update()
 * recognises. */
static void final_headers_clear(vhdxlog_plan *plan,
                                const vhdxlog_image *image) {
  static const uint8_t zero_guid[16] = {0};
  const int c = image->current;
  const int o = 1 - c;
  vhdxlog_header_update(image->current_header, plan->new_file_write_guid,
                        zero_guid, plan->final_headers[o]);
  vhdxlog_header_update(plan->final_headers[o], plan->new_file_write_guid,
                        zero_guid, plan->final_headers[c]);
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
  if (!is_zero_bytes(image->current_header + HEADER_LOG_GUID, 16))
    return 0;
  vhdxlog_derive_file_write_guid(other->log_guid, file_write_guid);
  return memcmp(image->current_header + HEADER_FILE_WRITE_GUID, file_write_guid,
                16) == 0;
}

/* Header updates the action makes; each must yield a greater
 * SequenceNumber, or it would not become current (RULES.md "Plan" 6). */
static vhdxlog_status check_sequence_room(const vhdxlog_image *image,
                                          unsigned updates,
                                          vhdxlog_error *error) {
  int c = image->current;
  if (image->headers[c].sequence_number > UINT64_MAX - updates) {
    return report(error, VHDXLOG_E_HEADER_SEQUENCE_LIMIT, header_slot_offset(c),
                  VHDXLOG_NO_INDEX);
  }
  return VHDXLOG_OK;
}

static int file_write_guid_differs(const vhdxlog_plan *plan,
                                   const vhdxlog_image *image) {
  return memcmp(image->current_header + HEADER_FILE_WRITE_GUID,
                plan->new_file_write_guid, 16) != 0;
}

/* LogGuid set, no complete sequence: clear the log or refuse it, by the
 * policy and what the candidates show (RULES.md "Armed logs"). `why` is
 * the search's error, returned when the plan refuses. */
static vhdxlog_status plan_armed(vhdxlog_plan *plan, const vhdxlog_image *image,
                                 const vhdxlog_error *why,
                                 vhdxlog_error *error) {
  vhdxlog_armed_kind kind = plan->armed.kind;
  int cut = kind == VHDXLOG_ARMED_EMPTY || kind == VHDXLOG_ARMED_TORN;
  vhdxlog_status st;

  if (plan->policy == VHDXLOG_POLICY_STRICT ||
      (plan->policy == VHDXLOG_POLICY_DEFAULT && !cut)) {
    if (error != NULL)
      *error = *why;
    return why->status;
  }
  /* Nothing is replayed, so the tables are judged as they are on disk. */
  if (image->regions.error.status != VHDXLOG_OK) {
    if (error != NULL)
      *error = image->regions.error;
    return image->regions.error.status;
  }
  plan->regions = image->regions;
  st = check_sequence_room(image, 2u, error);
  if (st != VHDXLOG_OK)
    return st;
  vhdxlog_derive_file_write_guid(image->log_guid, plan->new_file_write_guid);
  plan->need_file_write_guid = file_write_guid_differs(plan, image);
  final_headers_clear(plan, image);
  plan->action = VHDXLOG_ACTION_CLEAR_ARMED;
  clear_error(error);
  return VHDXLOG_OK;
}

static int writes_region_tables(const vhdxlog_region_patch *patches) {
  size_t k;
  for (k = 0; k < VHDXLOG_REGION_PATCHES; k++)
    if (patches[k].kind != 0)
      return 1;
  return 0;
}

/* A dirty log with an active sequence: every check a replay needs. */
static vhdxlog_status plan_replay(vhdxlog_plan *plan,
                                  const vhdxlog_image *image,
                                  const vhdxlog_log *log,
                                  vhdxlog_error *error) {
  vhdxlog_status st;
  uint64_t max_end = 0;

  /* The plan's one pass over the descriptors; it also yields the totals
   * the search leaves to it. */
  st = vhdxlog_plan_check_descriptors(image, log, &plan->seq,
                                      plan->region_patches, &max_end,
                                      &plan->seq.descriptor_count, error);
  if (st != VHDXLOG_OK)
    return st;
  plan->seq.max_write_end = max_end;
  /* RULES.md "Plan" 1, for the sizes the head names. */
  if (plan->seq.flushed_file_offset > VHDXLOG_MAX_FILE_OFFSET)
    return limit_error(error, VHDXLOG_E_ENTRY_FLUSHED_OFFSET,
                       plan->seq.head_offset, VHDXLOG_NO_INDEX);
  if (plan->seq.last_file_offset > VHDXLOG_MAX_FILE_OFFSET)
    return limit_error(error, VHDXLOG_E_ENTRY_LAST_OFFSET,
                       plan->seq.head_offset, VHDXLOG_NO_INDEX);

  /* RULES.md "Plan" 3 (MS-VHDX 2.3.3): data up to FlushedFileOffset was
   * durable when the log was written; a shorter file lost some of it. */
  if (image->file_size < plan->seq.flushed_file_offset) {
    return report(error, VHDXLOG_E_FILE_TRUNCATED, image->file_size,
                  VHDXLOG_NO_INDEX);
  }

  /* RULES.md "Plan" 4: the region tables as the replay leaves them; when
   * no write lands in them, that is as the parse judged them on disk. */
  if (writes_region_tables(plan->region_patches)) {
    if (image->header_area == NULL)
      return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
    st = vhdxlog_region_judge(image->header_area, log, plan->region_patches,
                              image->log_offset, image->log_length,
                              &plan->regions);
  } else {
    plan->regions = image->regions;
    st = image->regions.error.status;
  }
  if (st != VHDXLOG_OK) {
    if (error != NULL)
      *error = plan->regions.error;
    return st;
  }

  plan->replayed_size =
      size_after_replay(image->file_size, max_end, plan->seq.last_file_offset);

  vhdxlog_derive_file_write_guid(image->log_guid, plan->new_file_write_guid);
  plan->need_file_write_guid = file_write_guid_differs(plan, image);
  st = check_sequence_room(image, plan->need_file_write_guid ? 3u : 2u, error);
  if (st != VHDXLOG_OK)
    return st;
  final_headers_dirty(plan, image);
  plan->action = VHDXLOG_ACTION_REPLAY;
  plan->replay = 1;
  clear_error(error);
  return VHDXLOG_OK;
}

vhdxlog_status vhdxlog_plan_init_policy(vhdxlog_plan *plan,
                                        const vhdxlog_image *image,
                                        const vhdxlog_log *log,
                                        vhdxlog_policy policy,
                                        vhdxlog_error *error) {
  static const uint8_t zero_guid[16] = {0};
  vhdxlog_armed armed;
  vhdxlog_error why;
  vhdxlog_status st;
  int c;

  if (plan == NULL || image == NULL ||
      (image->current != 0 && image->current != 1) ||
      (policy != VHDXLOG_POLICY_DEFAULT && policy != VHDXLOG_POLICY_STRICT &&
       policy != VHDXLOG_POLICY_FORCE_CLEAR)) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  memset(plan, 0, sizeof *plan);
  plan->image = image;
  plan->log = log;
  plan->policy = policy;
  plan->replayed_size = image->file_size;
  clear_error(&plan->armed.decisive);
  clear_error(&plan->armed.newest);
  c = image->current;

  if (image->log_state == VHDXLOG_LOG_CLEAN) {
    /* Nothing to replay. The current slot keeps its bytes; the other slot
     * keeps its own, unless an interrupted clear of ours left it stale. */
    plan->regions = image->regions;
    memcpy(plan->final_headers[c], image->current_header, VHDXLOG_HEADER_SIZE);
    if (interrupted_header_update(image, plan->new_file_write_guid)) {
      plan->action = VHDXLOG_ACTION_COMPLETE_CLEAR;
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

  /* The search classifies the candidates as it validates them. */
  st = vhdxlog_log_search_armed(log, &plan->seq, &armed, &why);
  if (st == VHDXLOG_E_LOG_NO_SEQUENCE) {
    plan->armed = armed;
    return plan_armed(plan, image, &why, error);
  }
  if (st != VHDXLOG_OK) {
    if (error != NULL)
      *error = why;
    return st;
  }
  return plan_replay(plan, image, log, error);
}

vhdxlog_status vhdxlog_plan_init(vhdxlog_plan *plan, const vhdxlog_image *image,
                                 const vhdxlog_log *log, vhdxlog_error *error) {
  return vhdxlog_plan_init_policy(plan, image, log, VHDXLOG_POLICY_DEFAULT,
                                  error);
}
