/*
 * main.c -- the `skadi` command: dispatches to its subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "skadi/ims_store.h"
#include "skadi/mix.h"
#include "skadi/report.h"
#include "cli.h"
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
        "  report RUN.h5       the judges' report of a recording as JSON (skadi report --help)\n"
        "  keys [--markdown]   list every scenario key: default, range, unit, meaning\n"
        "\n"
        "options:\n"
        "  -h, --help          this help\n"
        "  --version           print the version\n"
        "\n"
        "Example: skadi run scenarios/heat_spike_row_c.json --seed 7 --out runs/hs.h5\n",
        f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("skadi %s\n", SKADI_VERSION);
    return 0;
  }
  if (strcmp(cmd, "run") == 0)
    return sk_run_main(argc - 1, argv + 1);
  if (strcmp(cmd, "ims") == 0)
    return sk_ims_main(argc - 1, argv + 1);
  if (strcmp(cmd, "mix") == 0)
    return sk_mix_main(argc - 1, argv + 1);
  if (strcmp(cmd, "report") == 0)
    return sk_report_main(argc - 1, argv + 1);
  if (strcmp(cmd, "keys") == 0) {
    if (argc > 2 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0)) {
      puts("usage: skadi keys [--markdown]\n\nLists every scenario key with its default, "
           "range, unit and meaning\n(--markdown: as the table in docs/SCENARIOS.md).");
      return 0;
    }
    if (argc > 2 && strcmp(argv[2], "--markdown") == 0) {
      sk_scenario_print_keys_markdown(stdout);
      return 0;
    }
    if (argc > 2) {
      fprintf(stderr, "skadi keys: unknown option '%s' (see skadi keys --help)\n", argv[2]);
      return 2;
    }
    sk_scenario_print_keys(stdout);
    return 0;
  }
  fprintf(stderr, "skadi: unknown command '%s' (see skadi --help)\n", cmd);
  return 2;
}
