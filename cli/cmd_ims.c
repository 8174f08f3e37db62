/*
 * cmd_ims.c -- `skadi ims`: train an IMS model on a recording or a CSV, score data with
 * it, list the models of a directory.  The work is in models/ims.c (the model) and behind
 * sim/include/skadi/ims_store.h: sim/src/ims_model_file.c (model files), ims_data.c (data
 * from recordings and CSV) and ims_features.c (rack vectors); this file is flags, policy
 * and what the user reads.
 *
 * Policy decided here:
 *  - Training uses the complete rows (no missing value) that pass the seed's nominal
 *    filter (every complete row when the filter does not apply: a CSV without all ten
 *    rack features), and says how many were skipped for which reason.
 *  - With the default feature list, features that are constant over the training rows are
 *    left out with a note (sk_ims_train refuses them: a constant cannot be z-scored, and
 *    every recording so far has pump_rpm_pct at 100 %).  With --features the user chose:
 *    a constant feature is an error that names it.
 *  - τ percentiles default to the data's own IMS_TAU_* settings (the recording's /config,
 *    or the environment for a CSV), which are the seed's 95 and 98 unless changed.
 *  - Scoring keeps one output row per input row; a missing value counts as the training
 *    mean (sk_ims_score), so a row with gaps still gets a deviation, and the row says how
 *    many values it lacked (counted before smoothing fills them) and how many lie outside
 *    the training range (sk_ims_out_of_range).
 *  - --smooth and --tau-margin are options of training, kept in the model file, so score
 *    and monitor apply what the model was trained with: the trailing mean per entity
 *    (sk_ims_data_smooth) before scoring; the margin is already in the stored taus.
 *  - Outputs never clobber (outfile.h): an existing --out is refused unless --force, and
 *    never replaced when it is not a regular file.  The check runs before any work;
 *    the model is saved through "<out>.tmp" and a rename (sk_ims_save), the scores
 *    through a temporary file put in place when complete.
 *
 * Exit status: 0 done; 2 bad input (flags, a missing or malformed data or model file, a
 * missing output directory, an existing output without --force, too few nominal rows); 1 I/O
 * failure (a file that exists but cannot be read, an output that cannot be written, out of memory).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "skadi/ims.h"
#include "skadi/ims_store.h"
#include "skadi/mms.h"
#include "skadi/scenario.h"

#include "cli.h"
#include "crashguard.h"
#include "outfile.h"

#define ERR_LEN 1024
#define DEFAULT_CLUSTERS 8
#define DEFAULT_SEED 1
#define DEFAULT_MAX_ITERATIONS 100
#define DEFAULT_MODEL_DIR "models"

static void usage_ims(FILE *f) {
  fputs("usage: skadi ims <command> [options]\n"
        "\n"
        "Inductive Monitoring System: learn nominal rack behaviour from telemetry, then score\n"
        "how far other telemetry is from it (docs/IMS.md).\n"
        "\n"
        "commands:\n"
        "  train   train a model on a recording or CSV and save it   (skadi ims train --help)\n"
        "  score   score a recording or CSV with a model, write CSV  (skadi ims score --help)\n"
        "  list    list the models in a directory (default models/)  (skadi ims list --help)\n"
        "\n"
        "Exit status: 0 done, 1 I/O failure, 2 bad input.\n",
        f);
}

static void usage_train(FILE *f) {
  fputs("usage: skadi ims train --data RUN.h5|DATA.csv --out MODEL.h5 [--force] [options]\n"
        "\n"
        "Trains an IMS model on the nominal rows of a recording (skadi run --out) or of a\n"
        "CSV file with a header, and writes it to MODEL.h5 (its directory must exist).\n"
        "\n"
        "options:\n"
        "  --data PATH                    recording (.h5) or CSV to train on (required)\n"
        "  --out PATH                     model file to write (required); an existing\n"
        "                                 PATH is an error unless --force\n"
        "  --force                        replace PATH if it exists and is a regular file\n"
        "                                 (never a directory, FIFO or device)\n"
        "  --features a,b,c               features, in this order (default: the rack\n"
        "                                 features inlet_c, outlet_c, delta_t_c, pdu_kw,\n"
        "                                 gpu_kw, tokens_ps, latency_p95_ms, queue_depth,\n"
        "                                 fan_rpm_pct, pump_rpm_pct, less any that are\n"
        "                                 constant in the training rows)\n"
        "  --clusters K                   k-means clusters, 1..64 (default 8)\n"
        "  --seed N                       k-means++ seed (default 1)\n"
        "  --from T, --to T               keep rows with T_from <= ts <= T_to: a time\n"
        "                                 (2024-05-01T06:20:00Z, 2024-05-01 06:20:00 in\n"
        "                                 --tz, Unix s or ms), or seconds as the data's ts\n"
        "                                 column writes them, with a unit: 90s, 15m, 2h, 1d\n"
        "  --tz ZONE                      zone of the CSV's times written without one, and\n"
        "                                 of --from/--to: UTC (default), +02:00,\n"
        "                                 Europe/Berlin, America/New_York, ... or a POSIX\n"
        "                                 rule like CET-1CEST,M3.5.0,M10.5.0/3 (DST applied)\n"
        "  --strict                       refuse trailing non-data lines (default: skipped\n"
        "                                 and counted, as SQL Server's '(N rows affected)')\n"
        "  --tau-fast-percentile P        tau_fast percentile (default: the data's\n"
        "                                 IMS_TAU_FAST_PERCENTILE, 95)\n"
        "  --tau-persist-percentile P     tau_persist percentile (default: the data's\n"
        "                                 IMS_TAU_PERSIST_PERCENTILE, 98)\n"
        "  --max-iterations N             cap on Lloyd iterations (default 100)\n"
        "  --smooth N                     model trailing means over N rows of one entity\n"
        "                                 instead of single rows, 1..3600 (default 1: none);\n"
        "                                 kept in the model: score and monitor smooth alike\n"
        "  --tau-margin M                 multiply both thresholds by M > 0 (default 1); with\n"
        "                                 percentiles 100, M = 1.2 puts them 20 % above the\n"
        "                                 largest training deviation\n"
        "  -h, --help                     this help\n"
        "\n"
        "CSV: header line; delimiter ',', ';' or tab (sniffed); time column ts,\n"
        "timestamp, time or datetime (any case); rows in any order (sorted by time).\n"
        "Nominal rows: inlet <= INLET_MAX_C, TTFT p95 <= SLA_LATENCY_MS (or no request),\n"
        "outlet above inlet, PDU power between the rack's idle power and 95 % of RACK_KW_CAP;\n"
        "a recording is judged by its own settings, a CSV by the environment's.\n"
        "Example: skadi ims train --data runs/baseline.h5 --out models/ims-baseline.h5\n",
        f);
}

static void usage_score(FILE *f) {
  fputs("usage: skadi ims score --model MODEL.h5 --data RUN.h5|DATA.csv [--out SCORES.csv "
        "[--force]]\n"
        "\n"
        "Scores every row of a recording or CSV with a model and writes one CSV row per\n"
        "input row: ts and rack_id (when the data have them), deviation (distance in\n"
        "z-space to the nearest centroid), cluster, top_feature (largest share of the\n"
        "deviation), and share_<feature> for each feature.  A missing value (empty or NaN)\n"
        "is taken as the training mean.\n"
        "\n"
        "options:\n"
        "  --model PATH         model file (skadi ims train) (required)\n"
        "  --data PATH          recording (.h5) or CSV with the model's feature columns\n"
        "                       (required)\n"
        "  --out PATH           output CSV; - = standard output (default -); an existing\n"
        "                       PATH is an error unless --force\n"
        "  --force              replace PATH if it exists and is a regular file (never a\n"
        "                       directory, FIFO or device such as /dev/null)\n"
        "  --from T, --to T     score only rows with T_from <= ts <= T_to (as in train)\n"
        "  --tz ZONE            zone of times written without one (as in train)\n"
        "  --strict             refuse trailing non-data lines (as in train)\n"
        "  -h, --help           this help\n"
        "\n"
        "Example: skadi ims score --model models/ims-baseline.h5 --data runs/hs.h5 --out hs.csv\n",
        f);
}

static void usage_list(FILE *f) {
  fputs("usage: skadi ims list [DIR]\n"
        "\n"
        "Lists the IMS model files (*.h5) of DIR (default models/): clusters K, training\n"
        "vectors, tau_fast and tau_persist with their percentiles, and the features.\n"
        "Other .h5 files are listed as skipped, with the reason.\n",
        f);
}

static int bad(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const char *sub, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  /* `skadi monitor` shares these helpers but is a command of its own */
  fprintf(stderr, strcmp(sub, "monitor") == 0 ? "skadi %s: " : "skadi ims %s: ", sub);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 2;
}

/* Exit status for a failed status of the store: the file's content or absence is bad
 * input; a read failure or no memory is an I/O failure. */
static int exit_for(sk_status st) {
  return st == SK_EIO || st == SK_ENOMEM ? 1 : 2;
}

static int is_help(const char *a) {
  return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* Matches argv[*i] against each of flags[n] as --flag VALUE or --flag=VALUE.  Returns
 * the flag matched (NULL: none) with *val the value (NULL when it is missing) and *i past
 * a separate value. */
static const char *match_flag(int argc, char **argv, int *i, const char *const *flags, size_t n,
                              const char **val) {
  const char *a = argv[*i];
  for (size_t k = 0; k < n; k++) {
    size_t len = strlen(flags[k]);
    if (strncmp(a, flags[k], len) != 0)
      continue;
    if (a[len] == '=') {
      *val = a + len + 1;
      return flags[k];
    }
    if (a[len] != '\0')
      continue;
    *val = *i + 1 < argc ? argv[++*i] : NULL;
    return flags[k];
  }
  return NULL;
}

/* One step of a subcommand's option loop at argv[*i]: the flag matched, with *val its
 * value; or NULL with *rc the exit status to return now (0 after printing the help, 2
 * after reporting an unknown option or a missing value). */
static const char *next_flag(const char *sub, int argc, char **argv, int *i,
                             const char *const *flags, size_t n, void (*usage)(FILE *),
                             const char **val, int *rc) {
  if (is_help(argv[*i])) {
    usage(stdout);
    *rc = 0;
    return NULL;
  }
  const char *flag = match_flag(argc, argv, i, flags, n, val);
  if (!flag)
    *rc = bad(sub, "unknown option '%s' (see skadi %s%s --help)", argv[*i],
              strcmp(sub, "monitor") == 0 ? "" : "ims ", sub);
  else if (!*val)
    *rc = bad(sub, "%s needs a value", flag);
  return flag && *val ? flag : NULL;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi)
    return 0;
  *out = v;
  return 1;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  if (!*s || *s == '-')
    return 0;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end || errno)
    return 0;
  *out = (uint64_t)v;
  return 1;
}

static int parse_pct(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !(v > 0 && v <= 100))
    return 0;
  *out = v;
  return 1;
}

/* A --from/--to value: a civil time (in zone when it has none) or a Unix time of 1e9 s
 * or more (ms from 1e11), as Unix seconds; else seconds with an optional unit s, m, h or
 * d, any finite value (0 and negatives too), as the data's own ts column counts them.
 * 0 with the reason in reason. */
static int parse_time(const char *s, const sk_time_zone *zone, double *out, char *reason,
                      size_t rlen) {
  size_t len = strlen(s);
  sk_time_opts to;
  sk_time_opts_init(&to);
  to.zone = zone;
  int64_t t_ns;
  if (len >= 5 && s[4] == '-') {
    to.forms = SK_TIME_ISO_T | SK_TIME_ISO_SPACE | SK_TIME_ZONE;
    if (sk_time_parse(s, len, &to, &t_ns, reason, rlen) != SK_OK)
      return 0;
    *out = (double)(t_ns / 1000000000LL) + (double)(t_ns % 1000000000LL) / 1e9;
    return 1;
  }
  to.forms = SK_TIME_UNIX_AUTO;
  if (sk_time_parse(s, len, &to, &t_ns, NULL, 0) == SK_OK && t_ns >= 1000000000000000000LL) {
    *out = (double)(t_ns / 1000000000LL) + (double)(t_ns % 1000000000LL) / 1e9;
    return 1;
  }
  snprintf(reason, rlen,
           "not a time (2024-05-01T06:20:00Z, 2024-05-01 06:20:00, Unix s or ms) nor seconds "
           "(90, 90s, 15m, 2h, 1d)");
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || !isfinite(v))
    return 0;
  double mult = 1;
  if (*end == 's')
    end++;
  else if (*end == 'm')
    mult = 60, end++;
  else if (*end == 'h')
    mult = 3600, end++;
  else if (*end == 'd')
    mult = 86400, end++;
  if (*end)
    return 0;
  *out = v * mult;
  return 1;
}

/* The window flags, read after every flag (--tz may follow --from): 0, or 2 with the
 * message. */
static int read_window(const char *sub, const char *from, const char *to, const char *tz,
                       sk_time_zone *zone, sk_ims_data_opts *o) {
  char reason[1024];
  if (tz) {
    if (sk_time_zone_parse(tz, zone, reason, sizeof reason) != SK_OK)
      return bad(sub, "--tz: %s", reason);
    o->zone = zone;
  }
  if (from && !parse_time(from, o->zone, &o->from_s, reason, sizeof reason))
    return bad(sub, "--from: '%s': %s", from, reason);
  if (to && !parse_time(to, o->zone, &o->to_s, reason, sizeof reason))
    return bad(sub, "--to: '%s': %s", to, reason);
  if (o->from_s > o->to_s)
    return bad(sub, "--from %s is after --to %s", from, to);
  return 0;
}

/* t as ISO 8601 UTC when epoch (ms digits only when it has a fraction), else "%g s". */
static void fmt_time(char *buf, size_t len, double t, int epoch) {
  if (!epoch || !isfinite(t)) {
    snprintf(buf, len, "%g s", t);
    return;
  }
  double ms = floor(t * 1000.0 + 0.5);
  int64_t t_ns = (int64_t)ms * 1000000LL;
  sk_time_format(t_ns, fmod(ms, 1000.0) != 0 ? 3 : 0, buf, len);
}

/* Notes on stderr about what the CSV reader fixed up: sorted rows, a trailer. */
static void csv_notes(const char *sub, const char *path, const sk_ims_data *d) {
  if (d->kind != SK_IMS_DATA_CSV)
    return;
  if (d->n_unsorted)
    fprintf(stderr,
            "skadi ims %s: note: %s: rows are not in time order (%zu earlier than the row "
            "before); sorted by %s\n",
            sub, path, d->n_unsorted, d->time_column);
  if (d->n_trailer)
    fprintf(stderr,
            "skadi ims %s: note: %s: skipped %zu trailing non-data line%s from line %zu "
            "(\"%s\"); --strict refuses them\n",
            sub, path, d->n_trailer, d->n_trailer == 1 ? "" : "s", d->trailer_line,
            d->trailer_text);
}

/* Splits "a,b,c" into names[] (pointers into buf, a copy the caller owns). */
static int parse_features(const char *sub, const char *text, char *buf, size_t buflen,
                          const char **names, int *n) {
  if (strlen(text) >= buflen)
    return bad(sub, "--features: list too long");
  strcpy(buf, text);
  *n = 0;
  char *p = buf;
  for (;;) {
    char *comma = strchr(p, ',');
    if (comma)
      *comma = '\0';
    while (*p == ' ')
      p++;
    size_t len = strlen(p);
    while (len && p[len - 1] == ' ')
      p[--len] = '\0';
    if (!len)
      return bad(sub, "--features: empty feature name in '%s'", text);
    if (len >= SK_IMS_NAME_LEN)
      return bad(sub, "--features: '%s' is longer than %d characters", p, SK_IMS_NAME_LEN - 1);
    if (*n == SK_IMS_MAX_FEATURES)
      return bad(sub, "--features: more than %d features", SK_IMS_MAX_FEATURES);
    for (int j = 0; j < *n; j++)
      if (strcmp(names[j], p) == 0)
        return bad(sub, "--features: '%s' named twice", p);
    names[(*n)++] = p;
    if (!comma)
      break;
    p = comma + 1;
  }
  return 0;
}

/* 2 with a message when the directory that would hold path does not exist. */
static int check_out_dir(const char *sub, const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return 0;
  size_t len = slash == path ? 1 : (size_t)(slash - path);
  char dir[1024];
  if (len >= sizeof dir)
    return bad(sub, "--out %s: path too long", path);
  memcpy(dir, path, len);
  dir[len] = '\0';
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return bad(sub, "--out %s: directory %s does not exist (create it first)", path, dir);
  return 0;
}

/* Shortest "%.Ng" that reads back as v; "" for NaN. */
static void fmt_num(char *buf, size_t len, double v) {
  if (isnan(v)) {
    buf[0] = '\0';
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

static const char *kind_name(const sk_ims_data *d) {
  return d->kind == SK_IMS_DATA_RECORDING ? "recording" : "CSV";
}

/* ---- train --------------------------------------------------------------------------- */

static void print_window(FILE *f, double from, double to, int epoch) {
  char a[48], b[48];
  fmt_time(a, sizeof a, from, epoch);
  fmt_time(b, sizeof b, to, epoch);
  if (isnan(from))
    fputs("  (no time column)", f);
  else
    fprintf(f, "  (ts %s .. %s)", a, b);
}

static int cmd_train(int argc, char **argv) {
  const char *data_path = NULL, *out = NULL, *features = NULL, *v;
  const char *from = NULL, *to = NULL, *tz = NULL;
  sk_time_zone zone;
  long clusters = DEFAULT_CLUSTERS, max_iter = DEFAULT_MAX_ITERATIONS;
  uint64_t seed = DEFAULT_SEED;
  int force = 0;
  double tau_fast_pct = NAN, tau_persist_pct = NAN, tau_margin = 1.0;
  long smooth = 1;
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  char feat_buf[1024];
  const char *names[SK_IMS_MAX_FEATURES];
  int n_names = 0;

  for (int i = 1; i < argc; i++) {
    static const char *const flags[] = {"--data",
                                        "--out",
                                        "--features",
                                        "--clusters",
                                        "--seed",
                                        "--from",
                                        "--to",
                                        "--tau-fast-percentile",
                                        "--tau-persist-percentile",
                                        "--max-iterations",
                                        "--tz",
                                        "--smooth",
                                        "--tau-margin"};
    if (strcmp(argv[i], "--force") == 0) {
      force = 1;
      continue;
    }
    if (strcmp(argv[i], "--strict") == 0) {
      o.strict = 1;
      continue;
    }
    int rc;
    const char *flag = next_flag("train", argc, argv, &i, flags, sizeof flags / sizeof flags[0],
                                 usage_train, &v, &rc);
    if (!flag)
      return rc;
    if (strcmp(flag, "--data") == 0) {
      data_path = v;
    } else if (strcmp(flag, "--out") == 0) {
      out = v;
    } else if (strcmp(flag, "--features") == 0) {
      features = v;
    } else if (strcmp(flag, "--clusters") == 0) {
      if (!parse_long(v, 1, SK_IMS_MAX_CLUSTERS, &clusters))
        return bad("train", "--clusters: '%s' is not an integer in 1..%d", v, SK_IMS_MAX_CLUSTERS);
    } else if (strcmp(flag, "--seed") == 0) {
      if (!parse_u64(v, &seed))
        return bad("train", "--seed: '%s' is not a non-negative integer", v);
    } else if (strcmp(flag, "--from") == 0) {
      from = v;
    } else if (strcmp(flag, "--to") == 0) {
      to = v;
    } else if (strcmp(flag, "--tz") == 0) {
      tz = v;
    } else if (strcmp(flag, "--tau-fast-percentile") == 0 ||
               strcmp(flag, "--tau-persist-percentile") == 0) {
      if (!parse_pct(v, flag[6] == 'f' ? &tau_fast_pct : &tau_persist_pct))
        return bad("train", "%s: '%s' is not a number in (0, 100]", flag, v);
    } else if (strcmp(flag, "--smooth") == 0) {
      if (!parse_long(v, 1, SK_IMS_MAX_SMOOTH_ROWS, &smooth))
        return bad("train", "--smooth: '%s' is not an integer in 1..%d", v, SK_IMS_MAX_SMOOTH_ROWS);
    } else if (strcmp(flag, "--tau-margin") == 0) {
      char *end;
      errno = 0;
      tau_margin = strtod(v, &end);
      if (end == v || *end || errno || !(tau_margin > 0) || !isfinite(tau_margin))
        return bad("train", "--tau-margin: '%s' is not a number > 0", v);
    } else {
      if (!parse_long(v, 1, 1000000, &max_iter))
        return bad("train", "--max-iterations: '%s' is not an integer in 1..1000000", v);
    }
  }
  if (!data_path)
    return bad("train", "--data is required (see skadi ims train --help)");
  if (!out)
    return bad("train", "--out is required (see skadi ims train --help)");
  if (read_window("train", from, to, tz, &zone, &o))
    return 2;
  if (features) {
    if (parse_features("train", features, feat_buf, sizeof feat_buf, names, &n_names))
      return 2;
    o.features = names;
    o.n_features = n_names;
  }
  if (check_out_dir("train", out) || sk_cli_out_check("skadi ims train", out, force))
    return 2;

  char err[ERR_LEN];
  sk_ims_data d;
  sk_cli_probe_recording("skadi ims train", data_path); /* crash guard, watchdog */
  sk_status st = sk_ims_data_load(&d, data_path, &o, err, sizeof err);
  sk_cli_guard_clear();
  if (st != SK_OK) {
    sk_ims_data_fini(&d);
    fprintf(stderr, "skadi ims train: %s\n", err);
    return exit_for(st);
  }
  csv_notes("train", data_path, &d);
  int rc = 2;
  double *x = NULL;
  sk_ims_selection sel;
  if (d.n_rows == 0) {
    if (d.n_read == 0) {
      fprintf(stderr, "skadi ims train: %s: no data rows\n", data_path);
    } else {
      char a[48], b[48];
      fmt_time(a, sizeof a, o.from_s, d.ts_epoch);
      fmt_time(b, sizeof b, o.to_s, d.ts_epoch);
      fprintf(stderr,
              "skadi ims train: %s: none of the %zu rows has %s <= ts <= %s (--from/--to)%s\n",
              data_path, d.n_read, a, b,
              d.ts_epoch ? "" : "; the data's ts are seconds as written, not calendar times");
    }
    goto done;
  }
  /* With the default features, a column with no value at all (a mix that maps no such
   * sensor) is left out, as a constant one is: it would make every row incomplete. */
  int empty[SK_IMS_MAX_FEATURES], n_empty = 0;
  char empty_names[512] = "";
  for (int j = 0; j < d.n_features && !features; j++) {
    empty[j] = 1;
    for (size_t i = 0; i < d.n_rows && empty[j]; i++)
      empty[j] = isnan(d.x[i * (size_t)d.n_features + (size_t)j]);
    if (empty[j]) {
      n_empty++;
      snprintf(empty_names + strlen(empty_names), sizeof empty_names - strlen(empty_names), "%s%s",
               empty_names[0] ? "," : "", d.feature[j]);
    }
  }
  if (n_empty > 0 && n_empty < d.n_features)
    sk_ims_drop_features(d.x, d.n_rows, &d.n_features, d.feature, empty);
  if (sk_ims_data_smooth(&d, (int)smooth) != SK_OK) {
    fprintf(stderr, "skadi ims train: %s: out of memory\n", data_path);
    rc = 1;
    goto done;
  }
  if (sk_ims_data_select_training(&d, &x, &sel) != SK_OK) {
    fprintf(stderr, "skadi ims train: %s: out of memory\n", data_path);
    rc = 1;
    goto done;
  }

  int dd = d.n_features, constant[SK_IMS_MAX_FEATURES], n_const = 0;
  char dropped[512] = "";
  double const_val[SK_IMS_MAX_FEATURES];
  char kept[SK_IMS_MAX_FEATURES][SK_IMS_NAME_LEN];
  memcpy(kept, d.feature, sizeof kept);
  if (sel.n_kept > 0) {
    n_const = sk_ims_constant_features(x, sel.n_kept, dd, constant);
    for (int j = 0; j < dd; j++)
      const_val[j] = x[j];
  }
  if (n_const > 0) {
    for (int j = 0; j < dd; j++)
      if (constant[j])
        snprintf(dropped + strlen(dropped), sizeof dropped - strlen(dropped), "%s%s = %g",
                 dropped[0] ? ", " : "", d.feature[j], const_val[j]);
    if (features) {
      fprintf(stderr,
              "skadi ims train: %s: constant over the %zu training rows, cannot be z-scored: "
              "%s (leave %s out of --features)\n",
              data_path, sel.n_kept, dropped, n_const > 1 ? "them" : "it");
      goto done;
    }
    if (n_const == dd) {
      fprintf(stderr,
              "skadi ims train: %s: every feature is constant over the %zu training "
              "rows (%s): nothing to learn\n",
              data_path, sel.n_kept, dropped);
      goto done;
    }
    sk_ims_drop_features(x, sel.n_kept, &dd, kept, constant);
  }

  sk_ims_train_params p = {
      .n_clusters = (int)clusters,
      .tau_fast_percentile = isnan(tau_fast_pct) ? d.tau_fast_percentile : tau_fast_pct,
      .tau_persist_percentile = isnan(tau_persist_pct) ? d.tau_persist_percentile : tau_persist_pct,
      .seed = seed,
      .max_iterations = (int)max_iter,
  };
  if (p.tau_persist_percentile < p.tau_fast_percentile) {
    rc = bad("train", "tau_persist percentile %g is below tau_fast percentile %g",
             p.tau_persist_percentile, p.tau_fast_percentile);
    goto done;
  }
  const char *name_ptr[SK_IMS_MAX_FEATURES];
  for (int j = 0; j < dd; j++)
    name_ptr[j] = kept[j];
  sk_ims_model *m = calloc(1, sizeof *m);
  if (!m) {
    fputs("skadi ims train: out of memory\n", stderr);
    rc = 1;
    goto done;
  }
  st = sk_ims_train(m, &p, x, sel.n_kept, dd, name_ptr, sel.from_s, sel.to_s, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr,
            "skadi ims train: %s: %zu training rows of %zu (%zu with a missing value, %zu "
            "off-nominal): %s\n",
            data_path, sel.n_kept, sel.n_rows, sel.n_missing, sel.n_off_nominal, err);
    free(m);
    rc = exit_for(st);
    goto done;
  }
  m->smooth_rows = (int)smooth;
  m->tau_margin = tau_margin;
  m->tau_fast *= tau_margin;
  m->tau_persist *= tau_margin;
  st = sk_ims_save(m, out, data_path, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi ims train: %s\n", err);
    free(m);
    rc = 1;
    goto done;
  }

  printf("skadi ims train: %s (%s", data_path, kind_name(&d));
  if (d.kind == SK_IMS_DATA_RECORDING)
    printf(", %g s samples", d.sample_period_s);
  printf(") -> %s\n", out);
  printf("  %-26s %10zu\n", "rows read", d.n_read);
  printf("  %-26s %10zu", "rows in window", d.n_rows);
  if (isfinite(o.from_s) || isfinite(o.to_s)) {
    char a[48], b[48];
    fmt_time(a, sizeof a, o.from_s, d.ts_epoch);
    fmt_time(b, sizeof b, o.to_s, d.ts_epoch);
    if (!isfinite(o.from_s))
      printf("  (ts <= %s)", b);
    else if (!isfinite(o.to_s))
      printf("  (ts >= %s)", a);
    else
      printf("  (%s <= ts <= %s)", a, b);
  }
  printf("\n");
  printf("  %-26s %10zu  (empty or NaN in a feature)\n", "skipped: missing value", sel.n_missing);
  if (d.nominal)
    printf("  %-26s %10zu  (inlet > %g C, TTFT p95 > %g ms, outlet <= inlet, or PDU outside "
           "%.3g kW x servers .. %.3g kW)\n",
           "skipped: off-nominal", sel.n_off_nominal, d.inlet_max_c, d.sla_latency_ms,
           d.idle_kw_per_server, 0.95 * d.rack_kw_cap);
  else
    printf("  %-26s %10s  (the CSV lacks some rack features: trained on every complete row)\n",
           "nominal filter", "not applied");
  if (d.nominal && d.nominal_empty_columns)
    printf("  %-26s %10s  (some rack columns have no value: the seed's four conditions only)\n",
           "nominal filter", "reduced");
  printf("  %-26s %10zu", "training rows", sel.n_kept);
  print_window(stdout, sel.from_s, sel.to_s, d.ts_epoch);
  printf("\n  %-26s %10d  ", "features", m->n_features);
  for (int j = 0; j < m->n_features; j++)
    printf("%s%s", j ? "," : "", m->feature[j]);
  printf("\n");
  if (n_const)
    printf("  %-26s %10d  %s\n", "left out (constant)", n_const, dropped);
  if (n_empty)
    printf("  %-26s %10d  %s\n", "left out (no values)", n_empty, empty_names);
  printf("  %-26s %10d\n", "clusters", m->n_clusters);
  printf("  %-26s %10d  (cap %d)\n", "iterations", m->iterations, p.max_iterations);
  if (m->smooth_rows > 1)
    printf("  %-26s %10d  (trailing mean over %d rows of one entity)\n", "smoothing rows",
           m->smooth_rows, m->smooth_rows);
  if (m->tau_margin != 1.0) {
    printf("  %-26s %10.4f  (%g x p%g of the training deviations)\n", "tau_fast", m->tau_fast,
           m->tau_margin, m->tau_fast_percentile);
    printf("  %-26s %10.4f  (%g x p%g)\n", "tau_persist", m->tau_persist, m->tau_margin,
           m->tau_persist_percentile);
  } else {
    printf("  %-26s %10.4f  (p%g of the training deviations)\n", "tau_fast", m->tau_fast,
           m->tau_fast_percentile);
    printf("  %-26s %10.4f  (p%g)\n", "tau_persist", m->tau_persist, m->tau_persist_percentile);
  }
  free(m);
  rc = 0;
done:
  free(x);
  sk_ims_data_fini(&d);
  return rc;
}

/* For score and monitor: each row's count of missing values (before smoothing fills them)
 * into *miss (n_rows bytes, malloc'd, caller frees), then the model's smoothing.  0, or 1
 * when out of memory. */
static int prepare_rows(sk_ims_data *d, const sk_ims_model *m, unsigned char **miss) {
  const size_t dd = (size_t)d->n_features;
  *miss = malloc(d->n_rows ? d->n_rows : 1);
  if (!*miss)
    return 1;
  for (size_t i = 0; i < d->n_rows; i++) {
    size_t k = 0;
    for (size_t j = 0; j < dd; j++)
      k += isnan(d->x[i * dd + j]);
    (*miss)[i] = (unsigned char)k;
  }
  return sk_ims_data_smooth(d, m->smooth_rows) != SK_OK;
}

/* Per-feature counts of rows outside the training range, as "a 12, b 3" (largest first,
 * at most 4), into buf. */
static void fmt_oor_features(char *buf, size_t len, const sk_ims_model *m, const size_t *count) {
  int used[SK_IMS_MAX_FEATURES] = {0};
  buf[0] = '\0';
  for (int n = 0; n < 4; n++) {
    int best = -1;
    for (int j = 0; j < m->n_features; j++)
      if (!used[j] && count[j] > 0 && (best < 0 || count[j] > count[best]))
        best = j;
    if (best < 0)
      break;
    used[best] = 1;
    size_t at = strlen(buf);
    snprintf(buf + at, len - at, "%s%s %zu", at ? ", " : "", m->feature[best], count[best]);
  }
}

static int range_known(const sk_ims_model *m) {
  for (int j = 0; j < m->n_features; j++)
    if (!isfinite(m->train_min[j]))
      return 0;
  return 1;
}

/* The summary line "rows outside the training range" with its label padded to width: the
 * count, its share (pct = 100 / rows) and the features that left their range most. */
static void print_oor_line(FILE *info, int width, const sk_ims_model *m, const size_t *oor_count,
                           size_t n_oor, double pct) {
  if (!range_known(m)) {
    fprintf(info, "  %-*s %10s  (the model file predates training ranges)\n", width,
            "rows outside the training range", "unknown");
    return;
  }
  char which[256];
  fmt_oor_features(which, sizeof which, m, oor_count);
  fprintf(info, "  %-*s %10zu  (%.2f %%)%s%s\n", width, "rows outside the training range", n_oor,
          (double)n_oor * pct, n_oor ? "  " : "", which);
}

/* Counts the features of row x outside the training range into count[] (may be NULL);
 * returns how many there are. */
static int row_oor(const sk_ims_model *m, const double *x, size_t *count) {
  int n = sk_ims_out_of_range(m, x, NULL);
  if (n && count)
    for (int j = 0; j < m->n_features; j++)
      count[j] += x[j] < m->train_min[j] || x[j] > m->train_max[j];
  return n;
}

/* ---- score --------------------------------------------------------------------------- */

static int cmd_score(int argc, char **argv) {
  const char *model_path = NULL, *data_path = NULL, *out = "-", *v;
  const char *from = NULL, *to = NULL, *tz = NULL;
  sk_time_zone zone;
  int force = 0;
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  for (int i = 1; i < argc; i++) {
    static const char *const flags[] = {"--model", "--data", "--out", "--from", "--to", "--tz"};
    if (strcmp(argv[i], "--force") == 0) {
      force = 1;
      continue;
    }
    if (strcmp(argv[i], "--strict") == 0) {
      o.strict = 1;
      continue;
    }
    int rc;
    const char *flag = next_flag("score", argc, argv, &i, flags, sizeof flags / sizeof flags[0],
                                 usage_score, &v, &rc);
    if (!flag)
      return rc;
    if (strcmp(flag, "--model") == 0) {
      model_path = v;
    } else if (strcmp(flag, "--data") == 0) {
      data_path = v;
    } else if (strcmp(flag, "--out") == 0) {
      out = v;
    } else if (strcmp(flag, "--from") == 0) {
      from = v;
    } else if (strcmp(flag, "--to") == 0) {
      to = v;
    } else {
      tz = v;
    }
  }
  if (!model_path)
    return bad("score", "--model is required (see skadi ims score --help)");
  if (!data_path)
    return bad("score", "--data is required (see skadi ims score --help)");
  if (read_window("score", from, to, tz, &zone, &o))
    return 2;
  int to_stdout = strcmp(out, "-") == 0;
  if (!to_stdout &&
      (check_out_dir("score", out) || sk_cli_out_check("skadi ims score", out, force)))
    return 2;

  char err[ERR_LEN];
  sk_ims_model *m = calloc(1, sizeof *m);
  if (!m) {
    fputs("skadi ims score: out of memory\n", stderr);
    return 1;
  }
  sk_cli_guard_file("skadi ims score", model_path);
  sk_status st = sk_ims_load(m, model_path, NULL, 0, err, sizeof err);
  sk_cli_guard_clear();
  if (st != SK_OK) {
    fprintf(stderr, "skadi ims score: %s\n", err);
    free(m);
    return exit_for(st);
  }
  const char *names[SK_IMS_MAX_FEATURES];
  for (int j = 0; j < m->n_features; j++)
    names[j] = m->feature[j];
  o.features = names;
  o.n_features = m->n_features;
  sk_ims_data d;
  sk_cli_probe_recording("skadi ims score", data_path); /* crash guard, watchdog */
  st = sk_ims_data_load(&d, data_path, &o, err, sizeof err);
  sk_cli_guard_clear();
  if (st != SK_OK) {
    fprintf(stderr, "skadi ims score: %s (model %s)\n", err, model_path);
    sk_ims_data_fini(&d);
    free(m);
    return exit_for(st);
  }
  csv_notes("score", data_path, &d);

  int rc = 1;
  unsigned char *miss = NULL;
  size_t oor_count[SK_IMS_MAX_FEATURES] = {0}, n_oor = 0;
  if (prepare_rows(&d, m, &miss)) {
    fputs("skadi ims score: out of memory\n", stderr);
    goto done;
  }
  sk_cli_out file;
  if (!to_stdout && sk_cli_out_open(&file, "skadi ims score", out, force) != 0)
    goto done;
  FILE *f = to_stdout ? stdout : file.f;
  if (d.has_ts)
    fputs("ts,", f);
  if (d.rack_id)
    fputs("rack_id,", f);
  fputs("deviation,cluster,top_feature", f);
  for (int j = 0; j < m->n_features; j++)
    fprintf(f, ",share_%s", m->feature[j]);
  fputs(",missing,out_of_range\n", f);

  const size_t dd = (size_t)m->n_features;
  size_t n_missing = 0, n_fast = 0, n_persist = 0;
  for (size_t i = 0; i < d.n_rows; i++) {
    const double *x = &d.x[i * dd];
    double share[SK_IMS_MAX_FEATURES];
    int cluster;
    double dev = sk_ims_score(m, x, share, &cluster);
    int top = sk_ims_top_feature(m, share);
    char num[40];
    int oor = row_oor(m, x, oor_count);
    n_missing += miss[i] > 0;
    n_oor += oor > 0;
    n_fast += dev > m->tau_fast;
    n_persist += dev > m->tau_persist;
    if (d.has_ts) {
      fmt_num(num, sizeof num, d.ts[i]);
      fprintf(f, "%s,", num);
    }
    if (d.rack_id)
      fprintf(f, "%.*s,", SK_IMS_ID_LEN, d.rack_id[i]);
    fmt_num(num, sizeof num, dev);
    fprintf(f, "%s,%d,%s", num, cluster, top >= 0 ? m->feature[top] : "");
    for (size_t j = 0; j < dd; j++)
      fprintf(f, ",%.6g", share[j]);
    fprintf(f, ",%d,%d\n", miss[i], oor);
  }
  int werr = ferror(f) || (to_stdout && fflush(f) != 0);
  if (werr)
    fprintf(stderr, "skadi ims score: %s: write failed: %s\n", to_stdout ? "stdout" : out,
            strerror(errno));
  rc = to_stdout ? werr : sk_cli_out_commit(&file, !werr); /* commit flushes the rest */
  if (rc != 0)
    goto done;
  FILE *info = to_stdout ? stderr : stdout;
  double pct = d.n_rows ? 100.0 / (double)d.n_rows : 0.0;
  fprintf(info, "skadi ims score: %zu rows of %s (%s) scored with %s -> %s\n", d.n_rows, data_path,
          kind_name(&d), model_path, to_stdout ? "stdout" : out);
  if (d.has_ts && d.n_rows > 0) {
    fprintf(info, "  %-36s", "time span");
    print_window(info, d.ts[0], d.ts[d.n_rows - 1], d.ts_epoch);
    fputc('\n', info);
  }
  fprintf(info, "  %-36s %10zu\n", "rows with a missing value (as mean)", n_missing);
  print_oor_line(info, 36, m, oor_count, n_oor, pct);
  fprintf(info, "  deviation > tau_fast    (%8.4f) %10zu  (%.2f %%)\n", m->tau_fast, n_fast,
          (double)n_fast * pct);
  fprintf(info, "  deviation > tau_persist (%8.4f) %10zu  (%.2f %%)\n", m->tau_persist, n_persist,
          (double)n_persist * pct);
  rc = 0;
done:
  free(miss);
  sk_ims_data_fini(&d);
  free(m);
  return rc;
}

/* ---- list ---------------------------------------------------------------------------- */

static int cmd_list(int argc, char **argv) {
  const char *dir = DEFAULT_MODEL_DIR;
  int n_dirs = 0;
  for (int i = 1; i < argc; i++) {
    if (is_help(argv[i])) {
      usage_list(stdout);
      return 0;
    }
    if (argv[i][0] == '-' && argv[i][1])
      return bad("list", "unknown option '%s' (see skadi ims list --help)", argv[i]);
    if (n_dirs++)
      return bad("list", "one directory at most ('%s' and '%s')", dir, argv[i]);
    dir = argv[i];
  }
  char err[ERR_LEN];
  sk_status st = sk_ims_list(dir, stdout, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi ims list: %s\n", err);
    return exit_for(st);
  }
  return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- monitor ------------------------------------------------------------------------- */

static void usage_monitor(FILE *f) {
  fputs("usage: skadi monitor --model MODEL.h5 --data RUN.h5|DATA.csv [--out STATE.csv]\n"
        "                     [--episodes EPISODES.csv] [--force] [options]\n"
        "\n"
        "Runs the IMS and the MMS together over a recording or CSV, per entity (rack_id; one\n"
        "entity when the data have none), as the twin's monitors do: each row is scored\n"
        "(sk_ims_score) and fed to its entity's MMS (sk_mms_tick).  Writes one row per input\n"
        "row -- ts, rack_id, deviation, top_feature, missing (features without a value; the\n"
        "deviation then uses the training mean for them and the MMS skips the row),\n"
        "over_tau_fast, over_tau_persist, state (transient/persistent) -- and a table of\n"
        "alarm episodes (a run of persistent state): entity, start, end, duration_s,\n"
        "peak_deviation, top_feature (at the peak), open (still persistent at the end).\n"
        "\n"
        "options:\n"
        "  --model PATH          IMS model (skadi ims train) (required)\n"
        "  --data PATH           recording or CSV with the model's features (required)\n"
        "  --out PATH            per-row CSV; - = standard output (default: none)\n"
        "  --episodes PATH       episodes CSV; - = standard output (default: the summary\n"
        "                        lists them)\n"
        "  --force               replace existing output files\n"
        "  --alpha A             MMS EMA smoothing, (0, 1] (default MMS_EMA_ALPHA, 0.3)\n"
        "  --persist-ticks N     rows above tau_persist before persistent (default\n"
        "                        MMS_PERSIST_TICKS, 6)\n"
        "  --clear-ticks N       rows with the EMA below tau_fast before a persistent\n"
        "                        state clears (default: --persist-ticks)\n"
        "  --from T, --to T, --tz ZONE, --strict   as in skadi ims train\n"
        "  -h, --help            this help\n"
        "\n"
        "Example: skadi monitor --model models/ims-baseline.h5 --data runs/hs.h5 --episodes -\n",
        f);
}

typedef struct {
  char id[SK_IMS_ID_LEN];
  sk_mms mms;
  int in_episode;
  double start, end, peak;
  int top;
} entity;

typedef struct {
  char id[SK_IMS_ID_LEN];
  double start, end, peak;
  int top, open;
} episode;

static int entity_of(entity **ents, size_t *n, size_t *cap, const char *id, const sk_mms *proto) {
  for (size_t k = 0; k < *n; k++)
    if (strncmp((*ents)[k].id, id, SK_IMS_ID_LEN) == 0)
      return (int)k;
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    entity *e = realloc(*ents, nc * sizeof *e);
    if (!e)
      return -1;
    *ents = e;
    *cap = nc;
  }
  entity *e = &(*ents)[*n];
  memset(e, 0, sizeof *e);
  memcpy(e->id, id, strnlen(id, SK_IMS_ID_LEN - 1));
  e->mms = *proto;
  return (int)(*n)++;
}

static int push_episode(episode **eps, size_t *n, size_t *cap, const entity *e, int open) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 64;
    episode *p = realloc(*eps, nc * sizeof *p);
    if (!p)
      return 0;
    *eps = p;
    *cap = nc;
  }
  episode *p = &(*eps)[(*n)++];
  memcpy(p->id, e->id, SK_IMS_ID_LEN);
  p->start = e->start;
  p->end = e->end;
  p->peak = e->peak;
  p->top = e->top;
  p->open = open;
  return 1;
}

/* A time for a CSV field: ISO 8601 for calendar times, else the shortest number. */
static void csv_time(char *buf, size_t len, double t, int epoch) {
  if (epoch && isfinite(t))
    fmt_time(buf, len, t, 1);
  else
    fmt_num(buf, len, t);
}

int sk_monitor_main(int argc, char **argv) {
  const char *model_path = NULL, *data_path = NULL, *out = NULL, *ep_out = NULL, *v;
  const char *from = NULL, *to = NULL, *tz = NULL;
  int force = 0;
  long persist_ticks = 0, clear_ticks = 0;
  double alpha = NAN;
  sk_time_zone zone;
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  for (int i = 1; i < argc; i++) {
    static const char *const flags[] = {"--model", "--data", "--out",   "--episodes",     "--from",
                                        "--to",    "--tz",   "--alpha", "--persist-ticks",
                                        "--clear-ticks"};
    if (strcmp(argv[i], "--force") == 0) {
      force = 1;
      continue;
    }
    if (strcmp(argv[i], "--strict") == 0) {
      o.strict = 1;
      continue;
    }
    int rc;
    const char *flag = next_flag("monitor", argc, argv, &i, flags, sizeof flags / sizeof flags[0],
                                 usage_monitor, &v, &rc);
    if (!flag)
      return rc;
    if (strcmp(flag, "--model") == 0)
      model_path = v;
    else if (strcmp(flag, "--data") == 0)
      data_path = v;
    else if (strcmp(flag, "--out") == 0)
      out = v;
    else if (strcmp(flag, "--episodes") == 0)
      ep_out = v;
    else if (strcmp(flag, "--from") == 0)
      from = v;
    else if (strcmp(flag, "--to") == 0)
      to = v;
    else if (strcmp(flag, "--tz") == 0)
      tz = v;
    else if (strcmp(flag, "--alpha") == 0) {
      char *end;
      alpha = strtod(v, &end);
      if (end == v || *end || !(alpha > 0 && alpha <= 1))
        return bad("monitor", "--alpha: '%s' is not a number in (0, 1]", v);
    } else if (strcmp(flag, "--clear-ticks") == 0) {
      if (!parse_long(v, 1, 1000000, &clear_ticks))
        return bad("monitor", "--clear-ticks: '%s' is not an integer in 1..1000000", v);
    } else if (!parse_long(v, 1, 1000000, &persist_ticks)) {
      return bad("monitor", "--persist-ticks: '%s' is not an integer in 1..1000000", v);
    }
  }
  if (!model_path)
    return bad("monitor", "--model is required (see skadi monitor --help)");
  if (!data_path)
    return bad("monitor", "--data is required (see skadi monitor --help)");
  if (read_window("monitor", from, to, tz, &zone, &o))
    return 2;
  if (out && ep_out && strcmp(out, "-") == 0 && strcmp(ep_out, "-") == 0)
    return bad("monitor", "--out and --episodes cannot both be standard output");
  const char *outs[2] = {out, ep_out};
  for (int k = 0; k < 2; k++)
    if (outs[k] && strcmp(outs[k], "-") != 0 &&
        (check_out_dir("monitor", outs[k]) || sk_cli_out_check("skadi monitor", outs[k], force)))
      return 2;

  /* MMS settings: flags over the environment over the seed's defaults */
  char err[ERR_LEN];
  sk_scenario *sc = malloc(sizeof *sc);
  sk_ims_model *m = calloc(1, sizeof *m);
  if (!sc || !m) {
    free(sc);
    free(m);
    fputs("skadi monitor: out of memory\n", stderr);
    return 1;
  }
  sk_scenario_defaults(sc);
  sk_status st = sk_scenario_apply_env(sc, err, sizeof err);
  if (isnan(alpha))
    alpha = sc->settings.mms_ema_alpha;
  if (persist_ticks == 0)
    persist_ticks = sc->settings.mms_persist_ticks;
  free(sc);
  if (st != SK_OK) {
    free(m);
    return bad("monitor", "%s", err);
  }
  if ((st = sk_ims_load(m, model_path, NULL, 0, err, sizeof err)) != SK_OK) {
    fprintf(stderr, "skadi monitor: %s\n", err);
    free(m);
    return exit_for(st);
  }
  const char *names[SK_IMS_MAX_FEATURES];
  for (int j = 0; j < m->n_features; j++)
    names[j] = m->feature[j];
  o.features = names;
  o.n_features = m->n_features;
  sk_ims_data d;
  if ((st = sk_ims_data_load(&d, data_path, &o, err, sizeof err)) != SK_OK) {
    fprintf(stderr, "skadi monitor: %s (model %s)\n", err, model_path);
    sk_ims_data_fini(&d);
    free(m);
    return exit_for(st);
  }
  csv_notes("monitor", data_path, &d);

  unsigned char *miss_rows = NULL;
  size_t oor_count[SK_IMS_MAX_FEATURES] = {0}, n_oor = 0;
  if (prepare_rows(&d, m, &miss_rows)) {
    fputs("skadi monitor: out of memory\n", stderr);
    sk_ims_data_fini(&d);
    free(m);
    return 1;
  }
  sk_mms proto;
  sk_mms_init(&proto, alpha, (int)persist_ticks, m->tau_fast, m->tau_persist);
  if (clear_ticks == 0)
    clear_ticks = persist_ticks;
  sk_mms_set_clear_ticks(&proto, (int)clear_ticks);
  entity *ents = NULL;
  episode *eps = NULL;
  size_t n_ent = 0, ent_cap = 0, n_ep = 0, ep_cap = 0, n_missing = 0, n_fast = 0, n_persist = 0,
         n_persistent_rows = 0;
  int rc = 1;
  sk_cli_out files[2];
  FILE *fs[2] = {NULL, NULL};
  int opened[2] = {0, 0};
  for (int k = 0; k < 2; k++) {
    if (!outs[k])
      continue;
    if (strcmp(outs[k], "-") == 0) {
      fs[k] = stdout;
    } else {
      if (sk_cli_out_open(&files[k], "skadi monitor", outs[k], force) != 0)
        goto done;
      opened[k] = 1;
      fs[k] = files[k].f;
    }
  }
  if (fs[0]) {
    fprintf(fs[0],
            "%s%sdeviation,top_feature,missing,over_tau_fast,over_tau_persist,state,"
            "out_of_range\n",
            d.has_ts ? "ts," : "", d.rack_id ? "rack_id," : "");
  }
  const size_t dd = (size_t)m->n_features;
  for (size_t i = 0; i < d.n_rows; i++) {
    const double *x = &d.x[i * dd];
    double share[SK_IMS_MAX_FEATURES];
    int miss = miss_rows[i], oor = row_oor(m, x, oor_count);
    n_oor += oor > 0;
    double dev = sk_ims_score(m, x, share, NULL);
    int top = sk_ims_top_feature(m, share);
    int k = entity_of(&ents, &n_ent, &ent_cap, d.rack_id ? d.rack_id[i] : "", &proto);
    if (k < 0) {
      fputs("skadi monitor: out of memory\n", stderr);
      goto done;
    }
    entity *e = &ents[k];
    sk_mms_state state = sk_mms_tick(&e->mms, miss ? NAN : dev);
    double t = d.has_ts ? d.ts[i] : (double)i;
    n_missing += miss > 0;
    n_fast += dev > m->tau_fast;
    n_persist += dev > m->tau_persist;
    n_persistent_rows += state == SK_MMS_PERSISTENT;
    if (state == SK_MMS_PERSISTENT) {
      if (!e->in_episode) {
        e->in_episode = 1;
        e->start = t;
        e->peak = -INFINITY;
      }
      e->end = t;
      if (!miss && dev > e->peak) {
        e->peak = dev;
        e->top = top;
      }
    } else if (e->in_episode) {
      e->in_episode = 0;
      if (!push_episode(&eps, &n_ep, &ep_cap, e, 0)) {
        fputs("skadi monitor: out of memory\n", stderr);
        goto done;
      }
    }
    if (fs[0]) {
      char ts[48], num[40];
      if (d.has_ts) {
        csv_time(ts, sizeof ts, d.ts[i], d.ts_epoch);
        fprintf(fs[0], "%s,", ts);
      }
      if (d.rack_id)
        fprintf(fs[0], "%.*s,", SK_IMS_ID_LEN, d.rack_id[i]);
      fmt_num(num, sizeof num, dev);
      fprintf(fs[0], "%s,%s,%d,%d,%d,%s,%d\n", num, top >= 0 ? m->feature[top] : "", miss,
              dev > m->tau_fast, dev > m->tau_persist, sk_mms_state_name(state), oor);
    }
  }
  for (size_t k = 0; k < n_ent; k++)
    if (ents[k].in_episode && !push_episode(&eps, &n_ep, &ep_cap, &ents[k], 1)) {
      fputs("skadi monitor: out of memory\n", stderr);
      goto done;
    }
  if (fs[1]) {
    fputs("entity,start,end,duration_s,peak_deviation,top_feature,open\n", fs[1]);
    for (size_t k = 0; k < n_ep; k++) {
      char a[48], b[48], num[40];
      csv_time(a, sizeof a, eps[k].start, d.ts_epoch);
      csv_time(b, sizeof b, eps[k].end, d.ts_epoch);
      fmt_num(num, sizeof num, eps[k].peak);
      fprintf(fs[1], "%.*s,%s,%s,%g,%s,%s,%d\n", SK_IMS_ID_LEN, eps[k].id, a, b,
              eps[k].end - eps[k].start, num,
              eps[k].top >= 0 && isfinite(eps[k].peak) ? m->feature[eps[k].top] : "", eps[k].open);
    }
  }
  rc = 0;
  for (int k = 0; k < 2; k++) {
    if (!fs[k])
      continue;
    int werr = ferror(fs[k]) || (fs[k] == stdout && fflush(stdout) != 0);
    if (werr)
      fprintf(stderr, "skadi monitor: %s: write failed: %s\n", outs[k], strerror(errno));
    int r = opened[k] ? sk_cli_out_commit(&files[k], !werr) : werr;
    opened[k] = 0;
    if (r)
      rc = 1;
  }
  if (rc == 0) {
    FILE *info = (fs[0] == stdout || fs[1] == stdout) ? stderr : stdout;
    double pct = d.n_rows ? 100.0 / (double)d.n_rows : 0.0;
    char clear_note[64] = "";
    if (clear_ticks != persist_ticks)
      snprintf(clear_note, sizeof clear_note, ", clear after %ld", clear_ticks);
    fprintf(info,
            "skadi monitor: %zu rows of %s (%s), %zu entit%s, model %s (MMS alpha %g, %ld "
            "ticks%s)\n",
            d.n_rows, data_path, kind_name(&d), n_ent, n_ent == 1 ? "y" : "ies", model_path, alpha,
            persist_ticks, clear_note);
    if (d.has_ts && d.n_rows > 0) {
      fprintf(info, "  %-34s", "time span");
      print_window(info, d.ts[0], d.ts[d.n_rows - 1], d.ts_epoch);
      fputc('\n', info);
    }
    fprintf(info, "  %-34s %10zu\n", "rows with a missing value", n_missing);
    print_oor_line(info, 34, m, oor_count, n_oor, pct);
    fprintf(info, "  %-34s %10zu  (%.2f %%)\n", "deviation > tau_fast", n_fast,
            (double)n_fast * pct);
    fprintf(info, "  %-34s %10zu  (%.2f %%)\n", "deviation > tau_persist", n_persist,
            (double)n_persist * pct);
    fprintf(info, "  %-34s %10zu  (%.2f %%)\n", "rows in persistent state", n_persistent_rows,
            (double)n_persistent_rows * pct);
    fprintf(info, "  %-34s %10zu\n", "alarm episodes", n_ep);
    if (!fs[1])
      for (size_t k = 0; k < n_ep && k < 20; k++) {
        char a[48], b[48];
        fmt_time(a, sizeof a, eps[k].start, d.ts_epoch);
        fmt_time(b, sizeof b, eps[k].end, d.ts_epoch);
        fprintf(info, "    %-12.*s %s .. %s  peak %.3f  %s%s\n", SK_IMS_ID_LEN,
                eps[k].id[0] ? eps[k].id : "-", a, b, eps[k].peak,
                eps[k].top >= 0 && isfinite(eps[k].peak) ? m->feature[eps[k].top] : "",
                eps[k].open ? "  (open)" : "");
      }
    if (!fs[1] && n_ep > 20)
      fprintf(info, "    ... %zu more (--episodes FILE lists them all)\n", n_ep - 20);
  }
done:
  for (int k = 0; k < 2; k++)
    if (opened[k])
      sk_cli_out_commit(&files[k], 0);
  free(ents);
  free(eps);
  free(miss_rows);
  sk_ims_data_fini(&d);
  free(m);
  return rc;
}

int sk_ims_main(int argc, char **argv) {
  if (argc < 2) {
    usage_ims(stderr);
    return 2;
  }
  const char *sub = argv[1];
  if (is_help(sub) || strcmp(sub, "help") == 0) {
    usage_ims(stdout);
    return 0;
  }
  if (strcmp(sub, "train") == 0)
    return cmd_train(argc - 1, argv + 1);
  if (strcmp(sub, "score") == 0)
    return cmd_score(argc - 1, argv + 1);
  if (strcmp(sub, "list") == 0)
    return cmd_list(argc - 1, argv + 1);
  fprintf(stderr, "skadi ims: unknown command '%s' (see skadi ims --help)\n", sub);
  return 2;
}
