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
 * The pass takes each candidate's validation as an argument (armed.h): the
 * plan's search validates every candidate anyway and feeds it, so that an
 * armed log is not validated twice; vhdxlog_log_classify_armed() validates
 * them itself.
 */
#include <string.h>

#include "armed.h"
#include "bytes.h"
#include "error.h"
#include "format.h"
#include "log_internal.h"

/* Entry rules 1-9 (docs/RULES.md): the header fields. A 512-byte tear
 * cannot split them (all in the first 64 bytes), so a candidate that breaks
 * one was written that way. */
static int is_header_rule(vhdxlog_status st) {
  return st >= VHDXLOG_E_ENTRY_SIGNATURE &&
         st <= VHDXLOG_E_ENTRY_DESCRIPTOR_COUNT;
}

/* The kind a candidate at sector `s` shows, from its validation's result
 * `why`; `next` (> s, unwrapped) is the next sector that starts with
 * "loge". */
static vhdxlog_armed_kind judge_candidate(const vhdxlog_log *ctx, uint32_t s,
                                          uint32_t next,
                                          const vhdxlog_error *why) {
  uint32_t sectors;
  if (why->status == VHDXLOG_OK)
    return VHDXLOG_ARMED_INCOMPLETE;
  if (is_header_rule(why->status))
    return VHDXLOG_ARMED_DAMAGED_HEADER;
  /* A correct writer never writes "loge" inside an entry: a sector of the
   * candidate that starts with it holds older bytes. */
  sectors = load_le32(log_sector(ctx, s) + ENTRY_LENGTH) / VHDXLOG_SECTOR_SIZE;
  if (next - s < sectors || why->status == VHDXLOG_E_ENTRY_CHECKSUM)
    return VHDXLOG_ARMED_TORN;
  return vhdxlog_entry_checksum_matches(ctx, s) ? VHDXLOG_ARMED_DAMAGED_CHECKSUM
                                                : VHDXLOG_ARMED_TORN;
}

static void count_candidate(armed_pass *pass, uint32_t next) {
  const vhdxlog_log *ctx = pass->ctx;
  vhdxlog_armed *a = pass->out;
  uint32_t s = pass->pending;
  uint64_t seq = load_le64(log_sector(ctx, s) + ENTRY_SEQUENCE_NUMBER);
  vhdxlog_error why = pass->pending_why;
  vhdxlog_armed_kind kind = judge_candidate(ctx, s, next, &why);

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

VHDXLOG_INTERNAL void vhdxlog_armed_begin(armed_pass *pass,
                                          const vhdxlog_log *ctx,
                                          vhdxlog_armed *out) {
  memset(pass, 0, sizeof *pass);
  pass->ctx = ctx;
  pass->out = out;
  memset(out, 0, sizeof *out);
  clear_error(&out->decisive);
  clear_error(&out->newest);
  out->kind = VHDXLOG_ARMED_EMPTY;
}

VHDXLOG_INTERNAL void vhdxlog_armed_sector(armed_pass *pass, uint32_t s,
                                           const vhdxlog_error *why) {
  const uint8_t *h = log_sector(pass->ctx, s);
  if (!has_signature(h, "loge"))
    return;
  if (!pass->have_loge) {
    pass->have_loge = 1;
    pass->first_loge = s;
  }
  if (pass->have_pending)
    count_candidate(pass, s);
  pass->have_pending = same_guid(h + ENTRY_LOG_GUID, pass->ctx->guid);
  pass->pending = s;
  if (why != NULL)
    pass->pending_why = *why;
  else
    clear_error(&pass->pending_why);
}

VHDXLOG_INTERNAL vhdxlog_armed_kind vhdxlog_armed_end(armed_pass *pass) {
  vhdxlog_armed *a = pass->out;
  /* The last candidate's next "loge" is the first one, one lap later. */
  if (pass->have_pending)
    count_candidate(pass, pass->first_loge + pass->ctx->sectors);
  pass->have_pending = 0;
  if (a->kind == VHDXLOG_ARMED_EMPTY && a->candidates > 0)
    a->kind = VHDXLOG_ARMED_TORN;
  return a->kind;
}

vhdxlog_armed_kind vhdxlog_log_classify_armed(const vhdxlog_log *ctx,
                                              vhdxlog_armed *armed) {
  armed_pass pass;
  uint32_t s;

  if (armed == NULL)
    return VHDXLOG_ARMED_NOT;
  if (ctx == NULL || ctx->log == NULL) {
    memset(armed, 0, sizeof *armed);
    clear_error(&armed->decisive);
    clear_error(&armed->newest);
    return VHDXLOG_ARMED_NOT;
  }
  vhdxlog_armed_begin(&pass, ctx, armed);
  for (s = 0; s < ctx->sectors; s++) {
    vhdxlog_error why;
    if (!has_signature(log_sector(ctx, s), "loge"))
      continue;
    clear_error(&why);
    /* Only candidates need the result; other "loge" sectors just end the
     * one before them. */
    if (same_guid(log_sector(ctx, s) + ENTRY_LOG_GUID, ctx->guid))
      vhdxlog_entry_validate(ctx, s, NULL, &why);
    vhdxlog_armed_sector(&pass, s, &why);
  }
  return vhdxlog_armed_end(&pass);
}
