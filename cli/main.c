/* SPDX-License-Identifier: MIT */
/* vhdxlog command line: argument parsing and dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define OPT_JSON 1u
#define OPT_DRY_RUN 2u
#define OPT_OUT 4u
#define OPT_FORCE 8u
#define OPT_POLICY 16u /* --strict, --force-clear */

typedef struct command {
  const char *name;
  int (*run)(const cli_args *args);
  unsigned options; /* OPT_* this command accepts */
  const char *synopsis;
  const char *help; /* `vhdxlog CMD --help` */
} command;

static const command commands[] = {
    {"info", cli_cmd_info, OPT_JSON | OPT_POLICY,
     "info FILE [--json] [--strict | --force-clear]",
     "Print the headers, the region tables (with a dirty log: as on disk and\n"
     "as the replay leaves them), the log, the active sequence and the action\n"
     "a replay would take. Exit 0 when the image loaded (dirty or not), 2\n"
     "when it breaks a rule, 3 on usage or I/O errors.\n"},
    {"check", cli_cmd_check, OPT_JSON | OPT_POLICY,
     "check FILE [--json] [--strict | --force-clear]",
     "Validate FILE and tell whether a replay is needed. Exit 0 clean, 1 a\n"
     "replay has work to do (a log to apply, an armed log to clear, or an\n"
     "interrupted header update to finish), 2 the file breaks a rule (a\n"
     "replay writes nothing), 3 usage or I/O error. Warns when another\n"
     "process holds a lock on FILE: the verdict may then be stale.\n"},
    {"dump", cli_cmd_dump, OPT_JSON | OPT_POLICY,
     "dump FILE [--json] [--strict | --force-clear]",
     "List every log entry candidate (each sector starting with \"loge\") and\n"
     "the rule it breaks, then the active sequence and its descriptors in\n"
     "replay order. Exit codes as for info.\n"},
    {"replay", cli_cmd_replay,
     OPT_JSON | OPT_DRY_RUN | OPT_OUT | OPT_FORCE | OPT_POLICY,
     "replay FILE [--dry-run | -o OUT [--force]] [--json] "
     "[--strict | --force-clear]",
     "Apply the log in place and clear it. An image another process holds a\n"
     "lock on (a running VM) is not touched. --dry-run prints each write\n"
     "instead of doing it. -o OUT copies FILE (sparse), replays the copy and\n"
     "moves it to OUT only when complete, leaving FILE untouched; an existing\n"
     "OUT is replaced only with --force and only if it is a regular file.\n"
     "Exit 0 done (or nothing to do), 2 refused (nothing written), 3 usage\n"
     "or I/O error.\n"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage_line(FILE *f) {
  fprintf(f,
          "usage: %s {info|check|dump} FILE [--json] | %s replay FILE "
          "[--dry-run | -o OUT] | %s CMD --help | %s --version\n",
          CLI_PROGRAM, CLI_PROGRAM, CLI_PROGRAM, CLI_PROGRAM);
}

static const char options_help[] =
    "options:\n"
    "  --json            one JSON document on stdout (format vhdxlog-json,\n"
    "                    version 1)\n"
    "  --strict          refuse every armed log (the letter of MS-VHDX\n"
    "                    2.3.3): exit 2, nothing written\n"
    "  --force-clear     clear every armed log, damaged ones too (no data\n"
    "                    is written either way)\n"
    "  --dry-run         replay: write nothing, print each write instead\n"
    "  -o, --output OUT  replay: into a copy\n"
    "  --force           replay -o: replace an existing regular file OUT\n";

static const char armed_help[] =
    "armed logs: LogGuid set but no complete entry sequence, as a power cut\n"
    "between arming the log and flushing its first entry leaves it. The spec\n"
    "writes nothing in place before an entry is flushed, so when no entry or\n"
    "only torn ones carry the LogGuid, replay clears the log and writes no\n"
    "data (check exits 1). A log whose entries look damaged rather than torn\n"
    "is refused (exit 2) unless --force-clear is given.\n";

static const char exit_help[] =
    "exit status:\n"
    "  0  clean, or the command succeeded\n"
    "  1  check: a replay has work to do (apply the log, clear an armed log,\n"
    "     finish an interrupted header update)\n"
    "  2  the file is not a VHDX or breaks a rule; nothing was written\n"
    "  3  usage, I/O or resource error; nothing can be said about the file\n"
    "Unlike fsck (bit mask: 1 corrected, 4 left uncorrected, 8 operational\n"
    "error) and qemu-img check (1 check failed, 2 corrupt, 3 leaks), 1 here\n"
    "is not damage: a dirty log is the normal state after a crash, and\n"
    "replaying it is the repair. 2 matches qemu-img's \"corrupt\"; 3 plays\n"
    "the role of qemu-img's 1 and fsck's 8.\n";

static void help(FILE *f) {
  size_t i;
  fprintf(f,
          "%s %s: inspect, check and replay the metadata log of VHDX "
          "files (MS-VHDX v1.00, log version 0)\n\nusage:\n",
          CLI_PROGRAM, VHDXLOG_VERSION_STRING);
  for (i = 0; i < COMMAND_COUNT; i++)
    fprintf(f, "  %s %s\n", CLI_PROGRAM, commands[i].synopsis);
  fprintf(f, "  %s CMD --help\n  %s --version\n  %s --help\n", CLI_PROGRAM,
          CLI_PROGRAM, CLI_PROGRAM);
  fputs("\ncommands:\n"
        "  info     headers, region tables, log state, active sequence and\n"
        "           the action a replay takes\n"
        "  check    validate; the exit code says whether a replay is needed\n"
        "  dump     every log entry candidate, the chosen sequence and its\n"
        "           descriptors in replay order\n"
        "  replay   apply the log (or clear an armed one), in place, into a\n"
        "           copy (-o OUT) or as a dry run\n\n",
        f);
  fputs(options_help, f);
  fputc('\n', f);
  fputs(armed_help, f);
  fputc('\n', f);
  fputs(exit_help, f);
}

static void command_help(FILE *f, const command *cmd) {
  fprintf(f, "usage: %s %s\n\n%s\n", CLI_PROGRAM, cmd->synopsis, cmd->help);
  fputs(options_help, f);
  fputc('\n', f);
  fputs(exit_help, f);
}

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "%s: ", CLI_PROGRAM);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  usage_line(stderr);
  return CLI_EXIT_ERROR;
}

int main(int argc, char **argv) {
  const command *cmd = NULL;
  cli_args args;
  unsigned seen = 0;
  int i, only_operands = 0, rc;
  size_t k;

  memset(&args, 0, sizeof args);
  if (argc < 2)
    return usage_error("%s", "missing command");
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
    if (argc != 2)
      return usage_error("unexpected argument '%s'", argv[2]);
    printf("%s %s\n", CLI_PROGRAM, VHDXLOG_VERSION_STRING);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    help(stdout);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
  }
  for (k = 0; k < COMMAND_COUNT; k++)
    if (strcmp(argv[1], commands[k].name) == 0)
      cmd = &commands[k];
  if (!cmd)
    return usage_error("unknown command '%s'", argv[1]);

  for (i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (only_operands || a[0] != '-' || a[1] == '\0') {
      if (args.file)
        return usage_error("unexpected argument '%s'", a);
      args.file = a;
    } else if (strcmp(a, "--") == 0) {
      only_operands = 1;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      command_help(stdout, cmd);
      return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    } else if (strcmp(a, "--strict") == 0 || strcmp(a, "--force-clear") == 0) {
      vhdxlog_policy p =
          a[2] == 's' ? VHDXLOG_POLICY_STRICT : VHDXLOG_POLICY_FORCE_CLEAR;
      if ((seen & OPT_POLICY) && args.policy != p)
        return usage_error("%s", "--strict and --force-clear cannot be "
                                 "combined");
      seen |= OPT_POLICY;
      args.policy = p;
    } else if (strcmp(a, "--force") == 0) {
      seen |= OPT_FORCE;
      args.force = 1;
    } else if (strcmp(a, "--json") == 0) {
      seen |= OPT_JSON;
      args.json = 1;
    } else if (strcmp(a, "--dry-run") == 0) {
      seen |= OPT_DRY_RUN;
      args.dry_run = 1;
    } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
               strncmp(a, "--output=", 9) == 0) {
      /* "--output" is 8 characters: a[8] is its end or the '='. */
      int inline_value = a[1] == '-' && a[8] == '=';
      if (!inline_value && i + 1 >= argc)
        return usage_error("option '%s' needs an argument", a);
      if (args.out)
        return usage_error("%s", "option -o given twice");
      seen |= OPT_OUT;
      args.out = inline_value ? a + 9 : argv[++i];
    } else {
      return usage_error("unknown option '%s'", a);
    }
  }
  if (seen & ~cmd->options) {
    fprintf(stderr, "%s: option not accepted by '%s'\n", CLI_PROGRAM,
            cmd->name);
    fprintf(stderr, "usage: %s %s\n", CLI_PROGRAM, cmd->synopsis);
    return CLI_EXIT_ERROR;
  }
  if ((seen & OPT_DRY_RUN) && (seen & OPT_OUT))
    return usage_error("%s", "--dry-run and -o cannot be combined");
  if ((seen & OPT_FORCE) && !(seen & OPT_OUT))
    return usage_error("%s", "--force only applies to -o OUT");
  if (!args.file || args.file[0] == '\0')
    return usage_error("%s", "missing FILE");
  if (args.out && args.out[0] == '\0')
    return usage_error("%s", "empty output file name");

  rc = cmd->run(&args);
  /* A failed write to stdout (full disk, closed pipe) must not look like
   * success to a script. */
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "%s: error writing to standard output\n", CLI_PROGRAM);
    if (rc == CLI_EXIT_OK || rc == CLI_EXIT_DIRTY)
      rc = CLI_EXIT_ERROR;
  }
  return rc;
}
