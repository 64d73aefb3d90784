/* vhdxlog command line: argument parsing and dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define OPT_JSON 1u
#define OPT_DRY_RUN 2u
#define OPT_OUT 4u

typedef struct command {
  const char *name;
  int (*run)(const cli_args *args);
  unsigned options; /* OPT_* this command accepts */
  const char *synopsis;
} command;

static const command commands[] = {
    {"info", cli_cmd_info, OPT_JSON, "info FILE [--json]"},
    {"check", cli_cmd_check, OPT_JSON, "check FILE [--json]"},
    {"dump", cli_cmd_dump, OPT_JSON, "dump FILE [--json]"},
    {"replay", cli_cmd_replay, OPT_DRY_RUN | OPT_OUT,
     "replay FILE [--dry-run | -o OUT]"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage_line(FILE *f) {
  fprintf(f,
          "usage: %s {info|check|dump} FILE [--json] | %s replay FILE "
          "[--dry-run | -o OUT] | %s --version | %s --help\n",
          CLI_PROGRAM, CLI_PROGRAM, CLI_PROGRAM, CLI_PROGRAM);
}

static void help(FILE *f) {
  size_t i;
  fprintf(f,
          "%s %s: inspect, check and replay the metadata log of VHDX "
          "files (MS-VHDX v1.00, log version 0)\n\nusage:\n",
          CLI_PROGRAM, VHDXLOG_VERSION_STRING);
  for (i = 0; i < COMMAND_COUNT; i++)
    fprintf(f, "  %s %s\n", CLI_PROGRAM, commands[i].synopsis);
  fprintf(f, "  %s --version\n  %s --help\n", CLI_PROGRAM, CLI_PROGRAM);
  fputs("\ncommands:\n"
        "  info     headers, region table, log state and the active sequence\n"
        "  check    validate; the exit code says whether a replay is needed\n"
        "  dump     every log entry candidate, the chosen sequence and its\n"
        "           descriptors in replay order\n"
        "  replay   apply the log in place and clear it; --dry-run prints the\n"
        "           writes without doing them; -o OUT copies FILE (sparse),\n"
        "           replays the copy and renames it to OUT, leaving FILE\n"
        "           untouched; an image another process holds a lock on\n"
        "           (a running VM) is not replayed\n"
        "\noptions:\n"
        "  --json         machine-readable output on stdout\n"
        "  --dry-run      write nothing, print each write instead\n"
        "  -o, --output OUT  replay into a copy\n"
        "\nexit status:\n"
        "  0  nothing to replay (check), or success\n"
        "  1  check: the log is valid and must be replayed\n"
        "  2  the file or its log is corrupt (a replay writes nothing)\n"
        "  3  usage or I/O error\n",
        f);
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
    if (!only_operands && strcmp(a, "--") == 0) {
      only_operands = 1;
    } else if (!only_operands &&
               (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      help(stdout);
      return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    } else if (!only_operands && strcmp(a, "--json") == 0) {
      seen |= OPT_JSON;
      args.json = 1;
    } else if (!only_operands && strcmp(a, "--dry-run") == 0) {
      seen |= OPT_DRY_RUN;
      args.dry_run = 1;
    } else if (!only_operands &&
               (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)) {
      if (i + 1 >= argc)
        return usage_error("option '%s' needs an argument", a);
      if (args.out)
        return usage_error("%s", "option -o given twice");
      seen |= OPT_OUT;
      args.out = argv[++i];
    } else if (!only_operands && strncmp(a, "--output=", 9) == 0) {
      if (args.out)
        return usage_error("%s", "option -o given twice");
      seen |= OPT_OUT;
      args.out = a + 9;
    } else if (!only_operands && a[0] == '-' && a[1] != '\0') {
      return usage_error("unknown option '%s'", a);
    } else {
      if (args.file)
        return usage_error("unexpected argument '%s'", a);
      args.file = a;
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
