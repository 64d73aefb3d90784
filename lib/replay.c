/* SPDX-License-Identifier: MIT */
/*
 * Log replay through caller I/O callbacks (MS-VHDX 2.3.3, in the crash-safe
 * order of docs/RULES.md "Replay order").
 *
 * Why a re-run after an interruption reaches the same bytes:
 *  - nothing is written before every check has passed;
 *  - no replayed write touches the header slots or the log (plan rule), so
 *    a re-run finds the same log and replays the same descriptors, which are
 *    idempotent (plain writes of fixed bytes); region tables it leaves torn
 *    are judged on the replayed state again (plan rule 4);
 *  - the FileWriteGuid is derived from the LogGuid, so the header update of
 *    step 1 is the same bytes each time and is skipped once done;
 *  - an interruption between the two final header writes leaves a state the
 *    plan recognises (complete_header_update) and finishes.
 */
#include <string.h>

#include "error.h"
#include "plan.h"
#include "vhdxlog.h"
#include "walk.h"

/* I/O failure at file offset `offset`. */
static vhdxlog_status io_error(vhdxlog_error *error, uint64_t offset) {
  return report(error, VHDXLOG_E_IO, offset, VHDXLOG_NO_INDEX);
}

static vhdxlog_status do_write(const vhdxlog_io *io, uint64_t offset,
                               const uint8_t *buf, size_t size,
                               vhdxlog_replay_result *result,
                               vhdxlog_error *error) {
  if (io->write(io->ctx, offset, buf, size) != 0)
    return io_error(error, offset);
  result->writes++;
  result->bytes_written += size;
  return VHDXLOG_OK;
}

static vhdxlog_status do_flush(const vhdxlog_io *io,
                               vhdxlog_replay_result *result,
                               vhdxlog_error *error) {
  /* A flush has no file offset of its own: report 0. */
  if (io->flush(io->ctx) != 0)
    return io_error(error, 0);
  result->flushes++;
  return VHDXLOG_OK;
}

/* Write a prepared header over `slot`, then flush (MS-VHDX 2.2.2.1: the
 * update is durable before anything relies on it). */
static vhdxlog_status write_header(const vhdxlog_io *io, int slot,
                                   const uint8_t *header,
                                   vhdxlog_replay_result *result,
                                   vhdxlog_error *error) {
  vhdxlog_status st = do_write(io, header_slot_offset(slot), header,
                               VHDXLOG_HEADER_SIZE, result, error);
  if (st != VHDXLOG_OK)
    return st;
  return do_flush(io, result, error);
}

/* The plan's final bytes over slot `first`, then over the other slot. */
static vhdxlog_status write_final_headers(const vhdxlog_io *io,
                                          const vhdxlog_plan *plan, int first,
                                          vhdxlog_replay_result *result,
                                          vhdxlog_error *error) {
  vhdxlog_status st =
      write_header(io, first, plan->final_headers[first], result, error);
  if (st != VHDXLOG_OK)
    return st;
  return write_header(io, 1 - first, plan->final_headers[1 - first], result,
                      error);
}

/* Data sectors gathered back to back in the caller's buffer. */
typedef struct data_run {
  uint8_t *buffer;
  size_t cap; /* whole sectors of `buffer` */
  uint64_t offset;
  size_t length;
} data_run;

static vhdxlog_status flush_run(const vhdxlog_io *io, data_run *run,
                                vhdxlog_replay_result *result,
                                vhdxlog_error *error) {
  vhdxlog_status st = VHDXLOG_OK;
  if (run->length > 0)
    st = do_write(io, run->offset, run->buffer, run->length, result, error);
  run->length = 0;
  return st;
}

/* One call per merged range: the backend zeroes (or punches) it at once. */
static vhdxlog_status flush_zeros(const vhdxlog_io *io, uint64_t offset,
                                  uint64_t end, vhdxlog_replay_result *result,
                                  vhdxlog_error *error) {
  if (end > offset) {
    if (io->write_zeros(io->ctx, offset, end - offset) != 0)
      return io_error(error, offset);
    result->writes++;
    result->bytes_written += end - offset;
  }
  return VHDXLOG_OK;
}

/*
 * Step 2: every descriptor, tail to head, over a sequence the descriptor
 * pass has just checked on the same log (which must not change meanwhile).
 * Order matters where writes overlap, so a pending write of one kind is
 * issued before any write of the other kind:
 *  - data sectors that land back to back are gathered in `buffer` and
 *    written with one call;
 *  - zero ranges that touch or overlap are merged into one write_zeros
 *    call (zeroing is idempotent and order-free among zero ranges): a log
 *    of many small zero descriptors over one area costs one call, not one
 *    per descriptor.
 * The pending zero range lives in locals, not in memory a call could
 * change: a hostile log makes this loop run 126 times per 4 KiB sector.
 */
static vhdxlog_status apply_descriptors(const vhdxlog_plan *plan,
                                        const vhdxlog_io *io, uint8_t *buffer,
                                        size_t buffer_size,
                                        vhdxlog_replay_result *result,
                                        vhdxlog_error *error) {
  const vhdxlog_log *log = plan->log;
  data_run run;
  /* The pending zero range; none: [UINT64_MAX, 0), which no range
   * touches, so the merge test needs no flag. */
  uint64_t zero_offset = UINT64_MAX, zero_end = 0;
  walk w;
  walk_entry e;
  vhdxlog_status st;

  run.buffer = buffer;
  run.cap = buffer_size - buffer_size % VHDXLOG_SECTOR_SIZE;
  run.offset = 0;
  run.length = 0;
  st = walk_init(&w, log, &plan->seq);
  if (st != VHDXLOG_OK) {
    return report(error, st, plan->seq.tail_offset, VHDXLOG_NO_INDEX);
  }
  for (;;) {
    uint32_t k, rank = 0;
    st = walk_next(&w, &e);
    if (st == VHDXLOG_END)
      break;
    if (st != VHDXLOG_OK) {
      /* Cannot happen after the pre-check over the same unchanged log. */
      return report(error, st, e.offset, VHDXLOG_NO_INDEX);
    }
    for (k = 0; k < e.desc_sectors; k++) {
      uint32_t n, first, i;
      const uint8_t *p = walk_slots(&w, &e, k, &n, &first);
      for (i = 0; i < n; i++) {
        const uint8_t *d = p + (size_t)i * DESCRIPTOR_SIZE;
        uint64_t off = descriptor_file_offset(d);
        if (d[0] != 'd') {
          uint64_t len = descriptor_write_length(d);
          uint64_t end = off + len; /* <= 2^62: checked by the pre-check */
          if (len == 0)
            continue;
          if (off <= zero_end && zero_offset <= end) {
            zero_offset = off < zero_offset ? off : zero_offset;
            zero_end = end > zero_end ? end : zero_end;
            continue;
          }
          if (run.length > 0) {
            st = flush_run(io, &run, result, error);
            if (st != VHDXLOG_OK)
              return st;
          }
          st = flush_zeros(io, zero_offset, zero_end, result, error);
          if (st != VHDXLOG_OK)
            return st;
          zero_offset = off;
          zero_end = end;
        } else {
          uint8_t *out;
          /* Cannot happen after the pre-check; keeps the read in bounds. */
          if (rank >= e.sectors - e.desc_sectors)
            return report(error, VHDXLOG_E_DATA_COUNT, e.offset,
                          VHDXLOG_NO_INDEX);
          if (zero_end > zero_offset) {
            st = flush_zeros(io, zero_offset, zero_end, result, error);
            if (st != VHDXLOG_OK)
              return st;
            zero_offset = UINT64_MAX;
            zero_end = 0;
          }
          if (run.length > 0 && (off != run.offset + run.length ||
                                 run.cap - run.length < VHDXLOG_SECTOR_SIZE)) {
            st = flush_run(io, &run, result, error);
            if (st != VHDXLOG_OK)
              return st;
          }
          if (run.length == 0)
            run.offset = off;
          out = run.buffer + run.length;
          data_sector_bytes(d + DESCRIPTOR_LEADING_BYTES,
                            log->log + walk_data_offset(&w, &e, rank),
                            d + DESCRIPTOR_TRAILING_BYTES, 0,
                            VHDXLOG_SECTOR_SIZE, out);
          run.length += VHDXLOG_SECTOR_SIZE;
          rank++;
        }
      }
    }
  }
  st = flush_run(io, &run, result, error);
  if (st != VHDXLOG_OK)
    return st;
  return flush_zeros(io, zero_offset, zero_end, result, error);
}

/* MS-VHDX 2.3.3 in the order of RULES.md "Replay order", for a plan whose
 * action is VHDXLOG_ACTION_REPLAY. */
static vhdxlog_status replay_log(const vhdxlog_plan *plan, const vhdxlog_io *io,
                                 uint8_t *buffer, size_t buffer_size,
                                 vhdxlog_replay_result *result,
                                 vhdxlog_error *error) {
  const vhdxlog_image *image = plan->image;
  const int c = image->current, o = 1 - c;
  vhdxlog_status st;
  uint64_t max_end = 0;
  uint64_t size = 0;
  uint64_t target;

  if (plan->log == NULL || io->write_zeros == NULL || io->get_size == NULL ||
      io->set_size == NULL || buffer == NULL ||
      buffer_size < VHDXLOG_SECTOR_SIZE) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }

  /* Every check before the first write. The file may have changed since
   * the plan was made: take its size now (MS-VHDX 2.3.3 step 1). */
  if (io->get_size(io->ctx, &size) != 0)
    return io_error(error, 0);
  if (size < plan->seq.flushed_file_offset) {
    return report(error, VHDXLOG_E_FILE_TRUNCATED, size, VHDXLOG_NO_INDEX);
  }
  /* The descriptor pass (one pass, cheap next to the I/O) makes the replay
   * safe on its own: no write can land on the headers or the log, and
   * step 2 relies on it instead of checking again. */
  st = vhdxlog_plan_check_descriptors(image, plan->log, &plan->seq, NULL,
                                      &max_end, NULL, error);
  if (st != VHDXLOG_OK)
    return st;
  target = size_after_replay(plan->replayed_size, max_end,
                             plan->seq.last_file_offset);

  /* Step 1: FileWriteGuid must change before the first modification
   * (MS-VHDX 2.2.2). The header is built in the caller's buffer. */
  if (plan->need_file_write_guid) {
    vhdxlog_header_update(image->current_header, plan->new_file_write_guid,
                          image->log_guid, buffer);
    st = write_header(io, o, buffer, result, error);
    if (st != VHDXLOG_OK)
      return st;
  }

  /* Step 2. */
  st = apply_descriptors(plan, io, buffer, buffer_size, result, error);
  if (st != VHDXLOG_OK)
    return st;

  /* Step 3: grow to the replayed size (LastFileOffset included), flush. */
  if (io->get_size(io->ctx, &size) != 0)
    return io_error(error, 0);
  if (size < target && io->set_size(io->ctx, target) != 0)
    return io_error(error, target);
  st = do_flush(io, result, error);
  if (st != VHDXLOG_OK)
    return st;

  /* Step 4: clear the log, in both slots. final_headers were built by the
   * plan from the same current header and GUIDs (see plan.c). */
  return write_final_headers(io, plan, plan->need_file_write_guid ? c : o,
                             result, error);
}

vhdxlog_status vhdxlog_replay(const vhdxlog_plan *plan, const vhdxlog_io *io,
                              uint8_t *buffer, size_t buffer_size,
                              vhdxlog_replay_result *result,
                              vhdxlog_error *error) {
  vhdxlog_replay_result local_result;
  vhdxlog_status st;
  int *done;
  int o;

  if (result == NULL)
    result = &local_result;
  memset(result, 0, sizeof *result);
  if (plan == NULL || plan->image == NULL || io == NULL || io->write == NULL ||
      io->flush == NULL ||
      (plan->image->current != 0 && plan->image->current != 1)) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  o = 1 - plan->image->current;

  result->action = plan->action;
  switch (plan->action) {
  case VHDXLOG_ACTION_NONE:
    clear_error(error);
    return VHDXLOG_OK;
  case VHDXLOG_ACTION_COMPLETE_CLEAR:
    /* RULES.md: the second write of step 4, then flush. */
    st = write_header(io, o, plan->final_headers[o], result, error);
    done = &result->headers_repaired;
    break;
  case VHDXLOG_ACTION_CLEAR_ARMED:
    /* RULES.md "Armed logs": headers only, the non-current slot first. */
    st = write_final_headers(io, plan, o, result, error);
    done = &result->armed_cleared;
    break;
  case VHDXLOG_ACTION_REPLAY:
    st = replay_log(plan, io, buffer, buffer_size, result, error);
    done = &result->replayed;
    break;
  default:
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  if (st != VHDXLOG_OK)
    return st;
  *done = 1;
  clear_error(error);
  return VHDXLOG_OK;
}
