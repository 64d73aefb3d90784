/* SPDX-License-Identifier: MIT */
/*
 * Armed logs: LogGuid set, no complete sequence (docs/RULES.md "Armed
 * logs"). MS-VHDX's write order (2.2.2: a new LogGuid before log space is
 * overwritten; 2.3: the entry flushed before any in-place write) leaves this
 * state after every power cut between arming and a durable entry, and
 * guarantees that nothing of that GUID was written in place. What tells a
 * cut from damage is what the candidates (sectors starting with "loge" and
 * carrying the LogGuid) show: a cut leaves none, or torn ones.
 *
 * Linear time: one pass over the sectors' first bytes; each candidate is
 * validated as in the search (entry.c's order bounds what it reads); a
 * checksum is computed only over a candidate whose other sectors start no
 * entry, so those spans are disjoint and add up to at most the log.
 */
#include <string.h>

#include "bytes.h"
#include "error.h"
#include "log_internal.h"

/* Entry rules 1-9 (docs/RULES.md): the header fields. A 512-byte tear
 * cannot split them (all in the first 64 bytes), so a candidate that breaks
 * one was written that way. */
static int is_header_rule(vhdxlog_status st) {
  return st >= VHDXLOG_E_ENTRY_SIGNATURE &&
         st <= VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT;
}

/* The kind a candidate at sector `s` shows; `next` (> s, unwrapped) is the
 * next sector that starts with "loge". */
static vhdxlog_armed_kind judge_candidate(const vhdxlog_log *ctx, uint32_t s,
                                          uint32_t next, vhdxlog_error *why) {
  uint32_t sectors;
  if (vhdxlog_entry_validate(ctx, s, NULL, why) == VHDXLOG_OK)
    return VHDXLOG_ARMED_INCOMPLETE;
  if (is_header_rule(why->status))
    return VHDXLOG_ARMED_DAMAGED_HEADER;
  /* A correct writer never writes "loge" inside an entry: a sector of the
   * candidate that starts with it holds older bytes. */
  sectors = load_le32(log_sector(ctx, s) + 8) / VHDXLOG_SECTOR_SIZE;
  if (next - s < sectors || why->status == VHDXLOG_E_ENTRY_CHECKSUM)
    return VHDXLOG_ARMED_TORN;
  return vhdxlog_entry_checksum_matches(ctx, s) ? VHDXLOG_ARMED_DAMAGED_CHECKSUM
                                                : VHDXLOG_ARMED_TORN;
}

static void count_candidate(const vhdxlog_log *ctx, uint32_t s, uint32_t next,
                            vhdxlog_armed *a) {
  uint64_t seq = load_le64(log_sector(ctx, s) + 16);
  vhdxlog_error why;
  vhdxlog_armed_kind kind;

  clear_error(&why);
  kind = judge_candidate(ctx, s, next, &why);
  why.offset = (uint64_t)s * VHDXLOG_SECTOR_SIZE;
  a->candidates++;
  if (kind == VHDXLOG_ARMED_TORN) {
    a->torn++;
  } else if (a->kind == VHDXLOG_ARMED_EMPTY) {
    a->kind = kind; /* the first candidate in log order that no cut explains */
    a->decisive = why;
  }
  if (!a->have_newest || seq > a->newest_sequence_number) {
    a->have_newest = 1;
    a->newest_sequence_number = seq;
    a->newest = why;
  }
}

vhdxlog_armed_kind vhdxlog_log_classify_armed(const vhdxlog_log *ctx,
                                              vhdxlog_armed *armed) {
  uint32_t s, n, first_loge = 0, pending = 0;
  int have_loge = 0, have_pending = 0;

  if (armed == NULL)
    return VHDXLOG_ARMED_NOT;
  memset(armed, 0, sizeof *armed);
  clear_error(&armed->decisive);
  clear_error(&armed->newest);
  if (ctx == NULL || ctx->log == NULL)
    return VHDXLOG_ARMED_NOT;
  armed->kind = VHDXLOG_ARMED_EMPTY;
  n = ctx->sectors;
  for (s = 0; s < n; s++) {
    const uint8_t *h = log_sector(ctx, s);
    if (!has_signature(h, "loge"))
      continue;
    if (!have_loge) {
      have_loge = 1;
      first_loge = s;
    }
    if (have_pending)
      count_candidate(ctx, pending, s, armed);
    have_pending = same_guid(h + 32, ctx->guid);
    pending = s;
  }
  /* The last candidate's next "loge" is the first one, one lap later. */
  if (have_pending)
    count_candidate(ctx, pending, first_loge + n, armed);
  if (armed->kind == VHDXLOG_ARMED_EMPTY && armed->candidates > 0)
    armed->kind = VHDXLOG_ARMED_TORN;
  return armed->kind;
}
