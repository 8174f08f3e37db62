/*
 * cmd_mix.c -- `skadi mix`: runs the dataset mixer (mix.c) from the command line.
 *
 * All reading and checking happens before the first byte is written, and a file output
 * goes to a temporary file beside --out that is put in place only when complete
 * (outfile.c), so a bad mapping or CSV (exit 2) and a failed write (exit 1) both leave
 * --out as it was.  An existing --out is refused unless --force, and never replaced when
 * it is not a regular file.  A missing runs/-like parent directory is created, so the
 * README's `--out runs/mixed.csv` works on a fresh clone.  The one-line summary goes to
 * stderr so that `--out -` keeps stdout pure CSV.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "skadi/mix.h"

#include "cli.h"
#include "outfile.h"

#define ERR_LEN 1024 /* messages name a mapping field and a CSV path; allow for both */

static void usage(FILE *f) {
  fputs("usage: skadi mix --config MIX.json [--out FILE.csv [--force]] [--tz ZONE] [--quiet]\n"
        "\n"
        "Aligns CSV streams (rack temperatures, cooling logs, request traces) onto one time\n"
        "grid in the unified columns\n"
        "  ts, rack_id, inlet_c, outlet_c, pdu_kw, chiller_kw, fan_kw, pump_kw, gpu_energy_j,\n"
        "  tokens_ps, latency_p95_ms, queue_depth, fan_rpm_pct, pump_rpm_pct, j_per_prompt_wh,\n"
        "  delta_t_c, gpu_kw\n"
        "as the JSON mapping says (docs/MIX.md).  A bin without samples is an empty field;\n"
        "nothing is interpolated or filled.  delta_t_c is derived as outlet_c - inlet_c when\n"
        "not mapped; gpu_kw only when mapped.  The output feeds skadi ims train as is.\n"
        "\n"
        "options:\n"
        "  --config FILE   the mapping (source paths in it are relative to its directory)\n"
        "  --out FILE      write the CSV here (default, or '-': stdout); written to a\n"
        "                  temporary file first and put in place when complete; an\n"
        "                  existing FILE is an error unless --force; a missing parent\n"
        "                  directory is created (one level, like runs/)\n"
        "  --force         replace FILE if it exists and is a regular file (never a\n"
        "                  directory, FIFO or device such as /dev/null)\n"
        "  --tz ZONE       zone of civil times written without one, for sources without a\n"
        "                  \"tz\" of their own (and grid.start/end): UTC (default), +02:00,\n"
        "                  Europe/Berlin, America/New_York, ... or a POSIX rule (DST applied)\n"
        "  --quiet         no summary line on stderr (warnings still go there)\n"
        "  -h, --help      this help\n"
        "\n"
        "exit status: 0 done, 1 I/O failure, 2 bad input (nothing written)\n",
        f);
}

/* "skadi mix: <message>" on stderr; returns 2, the exit status of bad input */
#define bad(...) sk_cli_bad("mix", __VA_ARGS__)

static void summary(const sk_mix_stats *st, const char *out) {
  char a[48], b[48];
  int frac = (st->start_ns % 1000000000 || st->step_ns % 1000000000) ? 3 : 0;
  sk_mix_format_time(st->start_ns, frac, a, sizeof a);
  sk_mix_format_time(st->end_ns, frac, b, sizeof b);
  char shape[96];
  if (st->room && st->racks)
    snprintf(shape, sizeof shape, "(room + %zu rack%s)", st->racks, st->racks == 1 ? "" : "s");
  else if (st->room)
    snprintf(shape, sizeof shape, "room");
  else
    snprintf(shape, sizeof shape, "%zu rack%s", st->racks, st->racks == 1 ? "" : "s");
  fprintf(stderr,
          "skadi mix: %zu rows (%zu times x %s) %s..%s step %g s -> %s; %zu source%s, %zu CSV "
          "rows (%zu outside the grid), %zu values (%zu empty/NaN); missing:",
          st->rows, st->times, shape, a, b, (double)st->step_ns / 1e9, out, st->sources,
          st->sources == 1 ? "" : "s", st->csv_rows, st->outside, st->values, st->empty_values);
  int unmapped = 0;
  for (int c = 0; c < st->n_values; c++) {
    if (st->mapped[c])
      fprintf(stderr, " %s %zu",
              c < SK_MIX_NVALUES ? sk_mix_column_name(c + 2) : st->extra[c - SK_MIX_NVALUES],
              st->missing[c]);
    else
      unmapped++;
  }
  fprintf(stderr, " (of %zu); %d column%s unmapped (all empty)", st->rows, unmapped,
          unmapped == 1 ? "" : "s");
  if (st->n_extra)
    fprintf(stderr, "; %d passed through", st->n_extra);
  fprintf(stderr, "; %zu row%s with an empty mapped cell (n_empty > 0)\n", st->rows_with_empty,
          st->rows_with_empty == 1 ? "" : "s");
  if (st->derived[13])
    fprintf(stderr, "skadi mix: delta_t_c derived as outlet_c - inlet_c (%zu of %zu rows empty)\n",
            st->missing[13], st->rows);
  if (st->trailer_lines)
    fprintf(stderr, "skadi mix: skipped %zu trailing non-data line%s after the sources' data\n",
            st->trailer_lines, st->trailer_lines == 1 ? "" : "s");
}

/* Writes m to out through a temporary file (outfile.h).  0, 1 or 2. */
static int write_file(const sk_mix *m, const char *out, int force) {
  char err[ERR_LEN];
  sk_cli_out o;
  if (sk_cli_out_make_parent("skadi mix", out) != 0 ||
      sk_cli_out_open(&o, "skadi mix", out, force) != 0)
    return 1;
  static char buf[1 << 16];
  setvbuf(o.f, buf, _IOFBF, sizeof buf);
  sk_status st = sk_mix_write(m, o.f, err, sizeof err);
  if (st != SK_OK)
    fprintf(stderr, "skadi mix: %s: %s\n", out, err);
  return sk_cli_out_commit(&o, st == SK_OK);
}

int sk_mix_main(int argc, char **argv) {
  const char *config = NULL, *out = NULL, *tz = NULL;
  int quiet = 0, force = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--config") == 0 || strcmp(a, "--out") == 0) {
      if (i + 1 >= argc)
        return bad("%s: missing value", a);
      if (a[2] == 'c')
        config = argv[++i];
      else
        out = argv[++i];
    } else if (strcmp(a, "--tz") == 0) {
      if (i + 1 >= argc)
        return bad("%s: missing value", a);
      tz = argv[++i];
    } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
      quiet = 1;
    } else if (strcmp(a, "--force") == 0) {
      force = 1;
    } else if (a[0] == '-' && a[1] != '\0') {
      return bad("unknown option '%s' (see skadi mix --help)", a);
    } else {
      return bad("unexpected argument '%s' (the mapping goes after --config)", a);
    }
  }
  if (config == NULL)
    return bad("missing --config MIX.json (see skadi mix --help)");
  if (out != NULL && out[0] == '\0')
    return bad("--out: empty path (use '-' for stdout)");
  int to_stdout = out == NULL || strcmp(out, "-") == 0;
  if (!to_stdout && sk_cli_out_check("skadi mix", out, force) != 0)
    return 2;

  char err[ERR_LEN];
  sk_mix *m;
  sk_status st = sk_mix_create_tz(&m, config, tz, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi mix: %s%s\n",
            st == SK_EINVAL && tz && strncmp(err, "tz:", 3) == 0 ? "--" : "", err);
    return (st == SK_EIO || st == SK_ENOMEM) ? 1 : 2;
  }
  sk_mix_stats pre;
  sk_mix_get_stats(m, &pre);
  if (pre.overlap_warning[0])
    fprintf(stderr, "skadi mix: warning: %s\n", pre.overlap_warning);
  int rc = 0;
  if (to_stdout) {
    if (sk_mix_write(m, stdout, err, sizeof err) != SK_OK) {
      fprintf(stderr, "skadi mix: stdout: %s\n", err);
      rc = 1;
    }
  } else {
    rc = write_file(m, out, force);
  }
  if (rc == 0 && !quiet) {
    sk_mix_stats stats;
    sk_mix_get_stats(m, &stats);
    summary(&stats, to_stdout ? "stdout" : out);
  }
  sk_mix_destroy(m);
  return rc;
}
