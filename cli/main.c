/*
 * main.c -- the `skadi` command: dispatches to its subcommands.
 *
 * `skadi help CMD [SUB]` is `skadi CMD [SUB] --help`: each command owns its help text, and
 * one table below names the commands both ways reach, so they cannot disagree.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "skadi/ims_store.h"
#include "skadi/mix.h"
#include "skadi/report.h"
#include "skadi/scenario.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif

static void usage(FILE *f) {
  fputs("usage: skadi <command> [options]\n"
        "\n"
        "Skadi -- a deterministic digital twin of an AI inference room.\n"
        "\n"
        "commands:\n"
        "  run SCENARIO.json   run a scenario faster than real time, record it to HDF5\n"
        "                      and print a summary; --mode advisory|closed_loop adds the\n"
        "                      monitors, guardrails and optimizer (skadi run --help)\n"
        "  ims train|score|list  train the IMS on a recording or CSV, score data, list\n"
        "                      models (skadi ims --help)\n"
        "  mix --config M.json align CSV streams onto one time grid in the unified columns\n"
        "                      (skadi mix --help)\n"
        "  monitor --model M   the IMS and MMS over a recording or CSV: per-row state and\n"
        "                      alarm episodes (skadi monitor --help)\n"
        "  report RUN.h5       the judges' report of a recording as JSON (skadi report --help)\n"
        "  serve [SCENARIO.json]  run a scenario live behind the REST/WebSocket API\n"
        "                      (skadi serve --help; docs/API.md)\n"
        "  gateway --connect EP  the API's gateway for a twin served elsewhere\n"
        "  replay RUN.h5       serve a recording through the same API, with play, pause,\n"
        "                      seek and speed\n"
        "  sweep SWEEP.json    run a parameter sweep into one HDF5 table; sweep report\n"
        "                      prints it and plots its Pareto fronts (skadi sweep --help)\n"
        "  keys [--markdown]   list every scenario key: default, range, unit, meaning\n"
        "  help [CMD [SUB]]    this help, or the help of a command (skadi help ims train)\n"
        "\n"
        "options:\n"
        "  -h, --help          this help\n"
        "  --version           print the version\n"
        "\n"
        "Example: skadi run scenarios/heat_spike_row_c.json --seed 7 --out runs/hs.h5\n",
        f);
}

static int keys_main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    puts("usage: skadi keys [--markdown]\n\nLists every scenario key with its default, "
         "range, unit and meaning\n(--markdown: as the table in docs/SCENARIOS.md).");
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "--markdown") == 0) {
    sk_scenario_print_keys_markdown(stdout);
    return 0;
  }
  if (argc > 1) {
    fprintf(stderr, "skadi keys: unknown option '%s' (see skadi keys --help)\n", argv[1]);
    return 2;
  }
  sk_scenario_print_keys(stdout);
  return 0;
}

/* The commands: each takes argv with argv[0] its own name (cli.h). */
typedef struct {
  const char *name;
  int (*main)(int argc, char **argv);
  /* the subcommands `skadi help CMD SUB` takes, space-separated; NULL: none.  Checklist:
   * the same names as the command's own dispatch (`skadi sweep X --help` is the help of
   * a sweep file X, so `skadi help sweep X` must be checked here, not there) */
  const char *subcommands;
} command;

static const command commands[] = {
    {"run", sk_run_main, NULL},       {"ims", sk_ims_main, "train score list"},
    {"mix", sk_mix_main, NULL},       {"report", sk_report_main, NULL},
    {"keys", keys_main, NULL},        {"monitor", sk_monitor_main, NULL},
    {"serve", sk_serve_main, NULL},   {"gateway", sk_gateway_main, NULL},
    {"replay", sk_replay_main, NULL}, {"sweep", sk_sweep_main, "report"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name) {
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

/* 1 when sub is one of cmd's subcommands (a whole word of its list). */
static int is_subcommand(const command *cmd, const char *sub) {
  size_t n = strlen(sub);
  for (const char *p = cmd->subcommands; p && *p; p += strcspn(p, " "), p += *p == ' ')
    if (n > 0 && strncmp(p, sub, n) == 0 && (p[n] == ' ' || p[n] == 0))
      return 1;
  return 0;
}

static int is_help(const char *a) {
  return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "help") == 0;
}

/* `skadi help [CMD [SUB]]`: argv[0] is "help". */
static int help_main(int argc, char **argv) {
  if (argc < 2 || is_help(argv[1])) {
    usage(stdout);
    return 0;
  }
  const command *cmd = find_command(argv[1]);
  if (cmd == NULL) {
    fprintf(stderr, "skadi help: no command '%s'; the commands are", argv[1]);
    for (size_t i = 0; i < N_COMMANDS; i++)
      fprintf(stderr, "%s %s", i ? "," : "", commands[i].name);
    fputs(" (see skadi --help)\n", stderr);
    return 2;
  }
  if (argc > (cmd->subcommands ? 3 : 2)) {
    fprintf(stderr, "skadi help: '%s' after '%s': %s\n", argv[argc - 1], argv[1],
            cmd->subcommands ? "one subcommand at most (skadi help ims train)"
                             : "this command has no subcommands");
    return 2;
  }
  if (argc == 3 && !is_help(argv[2]) && !is_subcommand(cmd, argv[2])) {
    fprintf(stderr, "skadi help: '%s' is not a subcommand of %s; its subcommands: %s\n", argv[2],
            argv[1], cmd->subcommands);
    return 2;
  }
  /* CMD [SUB] --help */
  char help[] = "--help";
  char *av[] = {argv[1], argc > 2 ? argv[2] : help, argc > 2 ? help : NULL, NULL};
  return cmd->main(argc, av);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "help") == 0)
    return help_main(argc - 1, argv + 1);
  if (is_help(cmd)) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("skadi %s\n", SKADI_VERSION);
    return 0;
  }
  const command *c = find_command(cmd);
  if (c != NULL)
    return c->main(argc - 1, argv + 1);
  fprintf(stderr, "skadi: unknown command '%s' (see skadi --help)\n", cmd);
  return 2;
}
