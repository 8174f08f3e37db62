/*
 * cmd_report.c -- `skadi report RUN.h5 [--out report.json]`: the judges' report of a
 * recording as JSON (sk_report_build in report.c does the work; fields in docs/REPORT.md).
 *
 * Policy decided here: the report goes to standard output unless --out names a file; a
 * file goes through a temporary file put in place when complete (outfile.c), so a failed
 * write never leaves a half report where a good one was, and an existing file is refused
 * unless --force (never replaced when it is not a regular file).  Pretty-printed by
 * default (it is read by people as much as by programs); --compact prints one line.
 *
 * Exit status: 0 done; 2 bad input (flags, a missing file, a file that is not a
 * recording, an existing --out without --force); 1 I/O failure (a file that exists but cannot be
 * read, an output that cannot be written, out of memory).
 */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/report.h"

#include "cli.h"
#include "crashguard.h"
#include "outfile.h"

#define ERR_LEN 1024

static void usage(FILE *f) {
  fputs("usage: skadi report RUN.h5 [--out REPORT.json [--force]] [--compact]\n"
        "                          [--against SWEEP.h5]\n"
        "\n"
        "Writes the judges' report of a recording (skadi run --out) as JSON: the run, its\n"
        "KPIs and worst sample window, energy by subsystem, savings against the\n"
        "counterfactual (runs with --mode), the action log with predicted and realized\n"
        "savings, the monitor's findings, run performance and chart references for a\n"
        "frontend.  What the recording does not hold is null, with a line in \"notes\".\n"
        "Fields: docs/REPORT.md.\n"
        "\n"
        "options:\n"
        "  --out PATH   write the report to PATH (- = standard output, the default); an\n"
        "               existing PATH is an error unless --force\n"
        "  --force      replace PATH if it exists and is a regular file (never a\n"
        "               directory, FIFO or device such as /dev/null)\n"
        "  --compact    one line instead of indented JSON\n"
        "  --against SWEEP.h5  add against_best_fixed: the run's Wh/prompt against the best\n"
        "               fixed policy of a sweep (skadi sweep), beside its saving against\n"
        "               its own settings; both are printed on stderr too\n"
        "  -h, --help   this help\n"
        "\n"
        "Exit status: 0 done, 1 I/O failure, 2 bad input (a missing file, not a recording,\n"
        "an existing PATH without --force).\n"
        "Example: skadi report runs/hs.h5 --out runs/hs-report.json\n",
        f);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("skadi report: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (see skadi report --help)\n", stderr);
  return 2;
}

/* Writes text and a newline to path through a temporary file (outfile.h): 0, 1 or 2. */
static int write_file(const char *path, const char *text, int force) {
  sk_cli_out o;
  if (sk_cli_out_open(&o, "skadi report", path, force) != 0)
    return 1;
  int ok = fputs(text, o.f) >= 0 && fputc('\n', o.f) != EOF;
  if (!ok)
    fprintf(stderr, "skadi report: %s: cannot write: %s\n", path, strerror(errno));
  return sk_cli_out_commit(&o, ok);
}

/* The two savings side by side, for a person (the JSON has them too). */
static void print_against(const cJSON *rep) {
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(rep, "against_best_fixed");
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "run_j_per_prompt_wh");
  const cJSON *own = cJSON_GetObjectItemCaseSensitive(o, "saved_vs_own_settings_pct");
  const cJSON *bw = cJSON_GetObjectItemCaseSensitive(o, "best_j_per_prompt_wh");
  const cJSON *bs = cJSON_GetObjectItemCaseSensitive(o, "saved_vs_best_fixed_pct");
  const cJSON *bp = cJSON_GetObjectItemCaseSensitive(o, "best_policy");
  const cJSON *bnet = cJSON_GetObjectItemCaseSensitive(o, "saved_vs_best_fixed_net_pct");
  const cJSON *same = cJSON_GetObjectItemCaseSensitive(o, "same_scenario");
  const cJSON *same_d = cJSON_GetObjectItemCaseSensitive(o, "same_duration");
  fprintf(stderr, "skadi report: %.4f Wh/prompt", cJSON_IsNumber(w) ? w->valuedouble : NAN);
  if (cJSON_IsNumber(own))
    fprintf(stderr, "; saved %.2f %% against its own settings (the counterfactual)",
            own->valuedouble);
  else
    fprintf(stderr, "; no counterfactual in the recording");
  if (cJSON_IsNumber(bs))
    fprintf(stderr, "; saved %.2f %% against the best fixed policy (%.4f Wh/prompt: %s)\n",
            bs->valuedouble, bw->valuedouble, cJSON_IsString(bp) ? bp->valuestring : "?");
  else
    fprintf(stderr, "; the sweep has no point meeting its constraints\n");
  if (cJSON_IsNumber(bnet))
    fprintf(stderr, "skadi report: net of the cold taken from the chilled-water loop: saved %.2f %% "
                    "against the best fixed policy\n",
            bnet->valuedouble);
  if (cJSON_IsFalse(same))
    fputs("skadi report: warning: the sweep's base scenario is not the recording's\n", stderr);
  if (cJSON_IsFalse(same_d))
    fputs("skadi report: warning: the sweep's runs are not as long as the recording\n", stderr);
}

int sk_report_main(int argc, char **argv) {
  const char *in = NULL, *out = NULL, *against = NULL;
  int compact = 0, force = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(a, "--compact") == 0) {
      compact = 1;
    } else if (strcmp(a, "--against") == 0) {
      if (i + 1 >= argc || !argv[i + 1][0])
        return bad("--against: missing value");
      against = argv[++i];
    } else if (strcmp(a, "--force") == 0) {
      force = 1;
    } else if (strcmp(a, "--out") == 0 || strncmp(a, "--out=", 6) == 0) {
      const char *v = a[5] == '=' ? a + 6 : (i + 1 < argc ? argv[++i] : NULL);
      if (!v || !*v)
        return bad("--out: missing value");
      out = v;
    } else if (a[0] == '-' && a[1] != '\0') {
      return bad("unknown option '%s'", a);
    } else if (in) {
      return bad("one recording at a time ('%s' is extra)", a);
    } else {
      in = a;
    }
  }
  if (!in) {
    usage(stderr);
    return 2;
  }
  int to_stdout = !out || strcmp(out, "-") == 0;
  if (!to_stdout && sk_cli_out_check("skadi report", out, force) != 0)
    return 2;

  char err[ERR_LEN];
  cJSON *rep = NULL;
  sk_cli_probe_recording("skadi report", in); /* crash guard and metadata watchdog */
  sk_status st = sk_report_build(in, &rep, err, sizeof err);
  sk_cli_guard_clear();
  if (st != SK_OK) {
    fprintf(stderr, "skadi report: %s\n", err);
    return st == SK_EIO || st == SK_ENOMEM ? 1 : 2;
  }
  if (against) {
    st = sk_report_against(rep, against, err, sizeof err);
    if (st != SK_OK) {
      cJSON_Delete(rep);
      fprintf(stderr, "skadi report: --against: %s\n", err);
      return st == SK_EIO || st == SK_ENOMEM ? 1 : 2;
    }
    print_against(rep);
  }
  char *text = compact ? cJSON_PrintUnformatted(rep) : cJSON_Print(rep);
  cJSON_Delete(rep);
  if (!text) {
    fprintf(stderr, "skadi report: %s: out of memory printing the report\n", in);
    return 1;
  }
  int rc = 0;
  if (to_stdout) {
    if (puts(text) == EOF || fflush(stdout) != 0) {
      fprintf(stderr, "skadi report: standard output: %s\n", strerror(errno));
      rc = 1;
    }
  } else {
    rc = write_file(out, text, force);
  }
  cJSON_free(text);
  return rc;
}
