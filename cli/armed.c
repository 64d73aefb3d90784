/* SPDX-License-Identifier: MIT */
/*
 * Reporting of armed logs (LogGuid set, no complete sequence) and of the
 * plan's action, in text and JSON. A reader must be able to tell what a
 * replay does, why clearing is safe after a power cut, and whether the log
 * rather shows media damage (the newest candidate and the rule it breaks).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"

/* Names indexed by the enums' pinned values (vhdxlog.h). */
static const char *const action_names[] = {
    [VHDXLOG_ACTION_NONE] = "none",
    [VHDXLOG_ACTION_REPLAY] = "replay",
    [VHDXLOG_ACTION_COMPLETE_CLEAR] = "complete-clear",
    [VHDXLOG_ACTION_CLEAR_ARMED] = "clear-armed"};
static const char *const armed_names[] = {
    [VHDXLOG_ARMED_EMPTY] = "empty",
    [VHDXLOG_ARMED_TORN] = "torn",
    [VHDXLOG_ARMED_DAMAGED_HEADER] = "damaged-header",
    [VHDXLOG_ARMED_DAMAGED_CHECKSUM] = "damaged-checksum",
    [VHDXLOG_ARMED_INCOMPLETE] = "incomplete"};
static const char *const policy_names[] = {[VHDXLOG_POLICY_DEFAULT] = "default",
                                           [VHDXLOG_POLICY_STRICT] = "strict",
                                           [VHDXLOG_POLICY_FORCE_CLEAR] =
                                               "force-clear"};
#define NAME(table, v)                                                         \
  ((unsigned)(v) < sizeof table / sizeof table[0] ? table[v] : NULL)

const char *cli_action_name(vhdxlog_action action) {
  const char *n = NAME(action_names, action);
  return n ? n : "?";
}

const char *cli_armed_kind_name(vhdxlog_armed_kind kind) {
  return NAME(armed_names, kind);
}

/* "default", "strict", "force-clear". */
static const char *policy_name(vhdxlog_policy policy) {
  const char *n = NAME(policy_names, policy);
  return n ? n : "default";
}

static const vhdxlog_armed *armed_of(const cli_image *img) {
  if (!img->loaded_init || !img->parsed ||
      img->loaded.image.log_state != VHDXLOG_LOG_DIRTY ||
      img->loaded.plan.armed.kind == VHDXLOG_ARMED_NOT)
    return NULL;
  return &img->loaded.plan.armed;
}

/* "log offset 0x.. (file offset 0x..)[, descriptor N]" */
static void where(char *buf, size_t size, const vhdxlog_error *e,
                  const vhdxlog_image *im) {
  const char *ik = cli_index_kind(e->status);
  int r = snprintf(buf, size,
                   "log offset 0x%" PRIx64 " (file offset 0x%" PRIx64 ")",
                   e->offset, im->log_offset + e->offset);
  if (r >= 0 && (size_t)r < size && ik && e->index != VHDXLOG_NO_INDEX)
    snprintf(buf + r, size - (size_t)r, ", %s %" PRIu32, ik, e->index);
}

/* "<description> (<NAME>)" of the rule a candidate breaks. */
static void rule(char *buf, size_t size, vhdxlog_status s) {
  const char *d = vhdxlog_status_string(s), *n = vhdxlog_status_name(s);
  snprintf(buf, size, "%s (%s)", d ? d : "?", n ? n : "?");
}

/* Why a power cut leaves this log (EMPTY and TORN only). */
static void cut_reason(char *buf, size_t size, const vhdxlog_armed *a) {
  if (a->kind == VHDXLOG_ARMED_EMPTY)
    snprintf(buf, size,
             "LogGuid set, no entry carries it (a power cut between arming "
             "the log and writing its entry)");
  else
    snprintf(buf, size,
             "LogGuid set, only torn entries (%" PRIu32
             ") carry it (a power cut while its entry was being written)",
             a->torn);
}

/* What makes a damaged log damaged, with the decisive candidate. */
static void damage_reason(char *buf, size_t size, const vhdxlog_armed *a,
                          const vhdxlog_image *im) {
  char w[160], r[160];
  where(w, sizeof w, &a->decisive, im);
  rule(r, sizeof r, a->decisive.status);
  switch (a->kind) {
  case VHDXLOG_ARMED_DAMAGED_HEADER:
    snprintf(buf, size,
             "the candidate at %s has header fields no correct writer "
             "writes, %s: damage, not a power cut",
             w, r);
    break;
  case VHDXLOG_ARMED_DAMAGED_CHECKSUM:
    snprintf(buf, size,
             "the candidate at %s has a matching checksum yet breaks a "
             "rule, %s: damage, not a power cut",
             w, r);
    break;
  default:
    snprintf(buf, size,
             "valid entries form no complete sequence; the candidate at %s "
             "breaks %s",
             w, r);
    break;
  }
}

void cli_print_armed_newest(FILE *f, const cli_image *img) {
  const vhdxlog_armed *a = armed_of(img);
  char w[160], r[160];
  if (a == NULL || !a->have_newest)
    return;
  where(w, sizeof w, &a->newest, &img->loaded.image);
  if (a->newest.status == VHDXLOG_OK)
    snprintf(r, sizeof r, "a valid entry");
  else {
    char rr[150];
    rule(rr, sizeof rr, a->newest.status);
    snprintf(r, sizeof r, "breaking %s", rr);
  }
  fprintf(f,
          "%s: newest candidate with the LogGuid: %s, sequence number "
          "%" PRIu64 ", %s\n",
          img->path, w, a->newest_sequence_number, r);
}

void cli_print_armed(FILE *f, const cli_image *img) {
  const vhdxlog_armed *a = armed_of(img);
  const vhdxlog_plan *plan = &img->loaded.plan;
  int cut, clears;
  char why[512];
  if (a == NULL)
    return;
  cut = a->kind == VHDXLOG_ARMED_EMPTY || a->kind == VHDXLOG_ARMED_TORN;
  clears = img->loaded.plan_ready && plan->action == VHDXLOG_ACTION_CLEAR_ARMED;
  if (cut)
    cut_reason(why, sizeof why, a);
  else
    damage_reason(why, sizeof why, a, &img->loaded.image);
  /* MS-VHDX 2.3: data is written in place only after its entry is flushed,
   * so a log without a whole entry wrote nothing yet. */
  fprintf(f, "%s: %s: %s; %s\n", img->path,
          clears ? "armed"
          : cut  ? "armed log refused (--strict)"
                 : "armed log refused",
          why,
          clears && cut ? "replay clears the log and writes no data (safe: "
                          "nothing is written in place before its entry is "
                          "flushed)"
          : clears ? "--force-clear: replay clears the log and writes no data"
          : cut    ? "without --strict, replay clears the log and writes no "
                     "data"
                   : "replay --force-clear clears the log and writes no data");
  cli_print_armed_newest(f, img);
}

static void json_candidate(cli_json *j, const char *key, const vhdxlog_error *e,
                           const vhdxlog_image *im) {
  cli_json_object_begin(j, key);
  cli_json_u64(j, "offset", e->offset);
  cli_json_u64(j, "file_offset", im->log_offset + e->offset);
  if (e->status == VHDXLOG_OK) {
    cli_json_null(j, "rule");
  } else {
    cli_json_object_begin(j, "rule");
    cli_json_rule(j, e->status);
    cli_json_object_end(j);
  }
  cli_json_index(j, e->status, e->index);
}

void cli_json_plan(cli_json *j, const cli_image *img) {
  const vhdxlog_armed *a = armed_of(img);
  const vhdxlog_plan *plan = &img->loaded.plan;
  const vhdxlog_image *im = &img->loaded.image;
  int ready = img->loaded_init && img->loaded.plan_ready;
  int cut = a != NULL &&
            (a->kind == VHDXLOG_ARMED_EMPTY || a->kind == VHDXLOG_ARMED_TORN);
  cli_json_string(j, "policy", policy_name(img->policy));
  cli_json_string(j, "action", ready ? cli_action_name(plan->action) : NULL);
  if (a == NULL) {
    cli_json_null(j, "armed");
  } else {
    cli_json_object_begin(j, "armed");
    cli_json_string(j, "kind", cli_armed_kind_name(a->kind));
    cli_json_bool(j, "power_cut", cut);
    cli_json_bool(j, "cleared_by_replay",
                  ready && plan->action == VHDXLOG_ACTION_CLEAR_ARMED);
    cli_json_u64(j, "candidates", a->candidates);
    cli_json_u64(j, "torn", a->torn);
    if (cut) {
      cli_json_null(j, "decisive");
    } else {
      json_candidate(j, "decisive", &a->decisive, im);
      cli_json_object_end(j);
    }
    if (a->have_newest) {
      json_candidate(j, "newest", &a->newest, im);
      cli_json_u64(j, "sequence_number", a->newest_sequence_number);
      cli_json_object_end(j);
    } else {
      cli_json_null(j, "newest");
    }
    cli_json_object_end(j);
  }
  cli_json_bool(j, "in_use", img->in_use);
  cli_json_string(j, "not_vhdx", img->not_vhdx);
}
