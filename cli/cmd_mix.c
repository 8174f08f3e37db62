/*
 * cmd_mix.c -- `skadi mix`: runs the dataset mixer (mix.c) from the command line.
 *
 * All reading and checking happens before the first byte is written, and a file output
 * goes to a temporary file beside --out that is renamed over it only when complete, so a
 * bad mapping or CSV (exit 2) and a failed write (exit 1) both leave --out as it was.
 * The one-line summary goes to stderr so that `--out -` keeps stdout pure CSV.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skadi/mix.h"

#include "cli.h"

#define ERR_LEN 1024 /* messages name a mapping field and a CSV path; allow for both */

static void usage(FILE *f) {
  fputs("usage: skadi mix --config MIX.json [--out FILE.csv] [--quiet]\n"
        "\n"
        "Aligns CSV streams (rack temperatures, cooling logs, request traces) onto one time\n"
        "grid in the unified columns\n"
        "  ts, rack_id, inlet_c, outlet_c, pdu_kw, chiller_kw, fan_kw, pump_kw, gpu_energy_j,\n"
        "  tokens_ps, latency_p95_ms, queue_depth, fan_rpm_pct, pump_rpm_pct, j_per_prompt_wh\n"
        "as the JSON mapping says (docs/MIX.md).  A bin without samples is an empty field;\n"
        "nothing is interpolated or filled.\n"
        "\n"
        "options:\n"
        "  --config FILE   the mapping (source paths in it are relative to its directory)\n"
        "  --out FILE      write the CSV here (default, or '-': stdout); written to a\n"
        "                  temporary file first and renamed when complete\n"
        "  --quiet         no summary line on stderr\n"
        "  -h, --help      this help\n"
        "\n"
        "exit status: 0 done, 1 I/O failure, 2 bad input (nothing written)\n",
        f);
}

static int bad(const char *fmt, ...) SK_PRINTF_LIKE(1, 2);
static int bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("skadi mix: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 2;
}

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
  for (int c = 0; c < SK_MIX_NVALUES; c++) {
    if (st->mapped[c])
      fprintf(stderr, " %s %zu", sk_mix_column_name(c + 2), st->missing[c]);
    else
      unmapped++;
  }
  fprintf(stderr, " (of %zu); %d column%s unmapped (all empty)\n", st->rows, unmapped,
          unmapped == 1 ? "" : "s");
}

/* Writes m to a temporary file beside `out` and renames it over `out`.  0 or 1. */
static int write_file(const sk_mix *m, const char *out) {
  char err[ERR_LEN];
  size_t n = strlen(out);
  char *tmp = malloc(n + 16);
  if (tmp == NULL) {
    fputs("skadi mix: out of memory\n", stderr);
    return 1;
  }
  snprintf(tmp, n + 16, "%s.tmp-XXXXXX", out);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    fprintf(stderr, "skadi mix: %s: cannot create a temporary file beside it: %s\n", out,
            strerror(errno));
    free(tmp);
    return 1;
  }
  mode_t mask = umask(0); /* mkstemp makes 0600; give the usual 0666 & ~umask */
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask); /* a failure only leaves the output more private */
  FILE *f = fdopen(fd, "w");
  if (f == NULL) {
    fprintf(stderr, "skadi mix: %s: %s\n", tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    free(tmp);
    return 1;
  }
  static char buf[1 << 16];
  setvbuf(f, buf, _IOFBF, sizeof buf);
  sk_status st = sk_mix_write(m, f, err, sizeof err);
  int closed = fclose(f);
  if (st != SK_OK || closed != 0) {
    fprintf(stderr, "skadi mix: %s: %s\n", out, st != SK_OK ? err : strerror(errno));
    unlink(tmp);
    free(tmp);
    return 1;
  }
  if (rename(tmp, out) != 0) {
    fprintf(stderr, "skadi mix: %s: cannot rename %s to it: %s\n", out, tmp, strerror(errno));
    unlink(tmp);
    free(tmp);
    return 1;
  }
  free(tmp);
  return 0;
}

int sk_mix_main(int argc, char **argv) {
  const char *config = NULL, *out = NULL;
  int quiet = 0;
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
    } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
      quiet = 1;
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

  char err[ERR_LEN];
  sk_mix *m;
  sk_status st = sk_mix_create(&m, config, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi mix: %s\n", err);
    return (st == SK_EIO || st == SK_ENOMEM) ? 1 : 2;
  }
  int rc = 0;
  int to_stdout = out == NULL || strcmp(out, "-") == 0;
  if (to_stdout) {
    if (sk_mix_write(m, stdout, err, sizeof err) != SK_OK) {
      fprintf(stderr, "skadi mix: stdout: %s\n", err);
      rc = 1;
    }
  } else {
    rc = write_file(m, out);
  }
  if (rc == 0 && !quiet) {
    sk_mix_stats stats;
    sk_mix_get_stats(m, &stats);
    summary(&stats, to_stdout ? "stdout" : out);
  }
  sk_mix_destroy(m);
  return rc;
}
