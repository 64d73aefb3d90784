/*
 * The plan's last check: parse the header area as the replay will leave it.
 * A log entry may write anywhere but the headers and the log, region tables
 * included; if what it writes there (or over the identifier) would not
 * parse, replaying would turn a file that can be recovered into one that
 * cannot be opened at all, so nothing is written (docs/RULES.md "Plan" 4).
 */
#include "error.h"
#include "vhdxlog.h"

vhdxlog_status vhdxlog_plan_check_result(vhdxlog_plan *plan, uint8_t *area,
                                         size_t size, vhdxlog_image *result,
                                         vhdxlog_error *error) {
  vhdxlog_error why;
  vhdxlog_status st;
  if (plan == NULL || area == NULL || result == NULL ||
      size < VHDXLOG_HEADER_AREA_SIZE) {
    return report(error, VHDXLOG_E_ARGUMENT, 0, VHDXLOG_NO_INDEX);
  }
  st = vhdxlog_overlay_read(plan, 0, area, VHDXLOG_HEADER_AREA_SIZE, error);
  if (st != VHDXLOG_OK) {
    return st;
  }
  st = vhdxlog_image_parse(area, VHDXLOG_HEADER_AREA_SIZE, plan->replayed_size,
                           result, &why);
  if (st != VHDXLOG_OK) {
    report(error, VHDXLOG_E_REPLAY_RESULT, why.offset, why.index);
    if (error != NULL) {
      error->cause = st;
    }
    return VHDXLOG_E_REPLAY_RESULT;
  }
  plan->result_checked = 1;
  clear_error(error);
  return VHDXLOG_OK;
}
