/*
 * run.c -- `skadi run`: load and validate a scenario, build the twin, advance it (as fast
 * as possible or paced at N x real time), record to HDF5, show progress on a terminal and
 * print the summary (table or JSON).
 *
 * Wall time lives here and only here (pacing, progress, speed-up figure); the twin never
 * sees it.  SIGINT/SIGTERM set a flag; the loop stops at the next chunk, the recording is
 * finished and closed and the partial summary printed (exit 130/143).  The recorder is
 * flushed about once a second of wall time, so a SIGKILL loses at most that.
 * Exit codes: 0 done, 1 runtime failure (I/O), 2 bad input (flag, scenario, trace).
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <pthread.h>

#include "skadi/control.h"
#include "skadi/ims_store.h"
#include "skadi/recorder.h"
#include "skadi/scenario.h"
#include "skadi/trace.h"
#include "skadi/twin.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif

#define MAX_SETS 64

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig) {
  stop_signal = sig;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f) {
  fputs("usage: skadi run SCENARIO.json [options]\n"
        "\n"
        "Runs a scenario in the twin and prints a summary.\n"
        "\n"
        "options:\n"
        "  --seed N           run seed (default: the scenario's seed)\n"
        "  --duration D       simulated time: 90, 90s, 15m, 6h, 1d (default: the scenario's)\n"
        "  --out PATH         HDF5 recording (default: runs/<scenario>-seed<N>.h5)\n"
        "  --no-record        do not write a recording\n"
        "  --speed max|Nx     max = as fast as possible (default); Nx = paced at N x real time\n"
        "  --set KEY=VALUE    override a scenario key or setting (repeatable), e.g.\n"
        "                     --set workload.rate_scale=1.2 --set INLET_MAX_C=27\n"
        "  --env-file PATH    read settings from this .env file (default: ./.env if present)\n"
        "  --mode MODE        off (default): the twin alone; advisory: IMS/MMS, guardrails and\n"
        "                     optimizer propose and log, the plant is untouched; closed_loop:\n"
        "                     they act; on: the mode DEFAULT_MODE names (advisory).  All but\n"
        "                     off run a counterfactual twin (optimizer off) beside it, and\n"
        "                     savings are measured against it\n"
        "  --ims-model PATH   IMS model (skadi ims train); default: train on the run's own\n"
        "                     first control.ims_warmup_s of nominal telemetry\n"
        "  --audit PATH       append the audit trail as JSON Lines (default with a recording:\n"
        "                     next to it, <out>.actions.jsonl)\n"
        "  --json             print the summary as JSON instead of a table\n"
        "  --progress         always show the progress bar (default: only on a terminal)\n"
        "  --no-progress      never show it\n"
        "  -h, --help         this help\n"
        "\n"
        "Settings precedence, lowest first: environment, .env, scenario file, --set.\n"
        "`skadi keys` lists every scenario key with its default, range and unit.\n"
        "Exit status: 0 done, 1 run failed (e.g. cannot write the recording), 2 bad input,\n"
        "130/143 stopped by SIGINT/SIGTERM (recording closed cleanly).\n",
        f);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("skadi run: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 2;
}

/* --- recording sink --------------------------------------------------------------------- */

typedef struct {
  sk_recorder *rec;
  sk_status st;
  double last_flush_wall;
} sink_ctx;

static void sink_sample(void *ud, const sk_rack_sample *racks, int n_racks,
                        const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room) {
  sink_ctx *c = ud;
  if (!c->rec || c->st != SK_OK)
    return;
  sk_status st;
  if ((st = sk_recorder_add_racks(c->rec, racks, (size_t)n_racks)) != SK_OK ||
      (st = sk_recorder_add_crahs(c->rec, crahs, (size_t)n_rows)) != SK_OK ||
      (st = sk_recorder_add_room(c->rec, room)) != SK_OK)
    c->st = st;
}

static void sink_event(void *ud, const sk_event_record *ev) {
  sink_ctx *c = ud;
  if (c->rec && c->st == SK_OK)
    c->st = sk_recorder_add_event(c->rec, ev);
}

static void json_num(FILE *f, const char *key, double v) {
  if (isfinite(v))
    fprintf(f, ",\"%s\":%.6g", key, v);
  else
    fprintf(f, ",\"%s\":null", key);
}

static void json_str(FILE *f, const char *key, const char *v) {
  fprintf(f, ",\"%s\":\"", key);
  for (const char *p = v; *p; p++) {
    if (*p == '"' || *p == '\\')
      fputc('\\', f);
    if ((unsigned char)*p >= 0x20)
      fputc(*p, f);
  }
  fputc('"', f);
}

typedef struct {
  sk_recorder *rec;
  sk_status *st;
  FILE *audit;
} control_sink;

static void sink_action(void *ud, const sk_action_record *a) {
  control_sink *c = ud;
  if (c->rec && *c->st == SK_OK)
    *c->st = sk_recorder_add_action(c->rec, a);
  if (!c->audit)
    return;
  fprintf(c->audit, "{\"ts\":%.3f,\"id\":%lld", a->ts, (long long)a->id);
  json_str(c->audit, "loop", a->loop);
  json_str(c->audit, "action", a->action);
  json_str(c->audit, "target", a->target);
  json_str(c->audit, "executor", a->executor);
  json_num(c->audit, "delta", a->delta);
  json_str(c->audit, "unit", a->unit);
  json_str(c->audit, "decision", a->decision);
  json_str(c->audit, "reason", a->reason);
  json_num(c->audit, "pred_saving_pct", a->pred_saving_pct);
  json_num(c->audit, "pred_ttft_p95_ms", a->pred_ttft_p95_ms);
  json_num(c->audit, "pred_max_inlet_c", a->pred_max_inlet_c);
  json_num(c->audit, "realized_saving_pct", a->realized_saving_pct);
  fputs("}\n", c->audit);
}

static void sink_monitor(void *ud, const sk_monitor_record *rows, int n) {
  control_sink *c = ud;
  if (c->rec && *c->st == SK_OK)
    *c->st = sk_recorder_add_monitor(c->rec, rows, (size_t)n);
}

/* The counterfactual twin advances on the other core while the optimized one runs. */
typedef struct {
  sk_twin *tw;
  sk_time_ns until;
} advance_job;

static void *advance_thread(void *arg) {
  advance_job *j = arg;
  sk_twin_run_until(j->tw, j->until);
  return NULL;
}

/* --- summary ------------------------------------------------------------------------------ */

typedef struct {
  double wall_s;
  double speedup;
  uint64_t events;
  double peak_rss_mb;  /* peak resident memory of the process */
  const char *status;  /* "completed" or "interrupted" */
  const char *out;     /* recording path or NULL */
  const char *mode;    /* "off", "advisory", "closed_loop" */
  const sk_summary *cf; /* counterfactual summary or NULL */
  const sk_controller_stats *ctl;
} run_info;

static double saved_pct(const sk_summary *s, const sk_summary *cf) {
  return 100.0 * (cf->wh_per_prompt - s->wh_per_prompt) / cf->wh_per_prompt;
}

static void print_table(FILE *f, const sk_scenario *sc, const sk_summary *s, const run_info *ri) {
  fprintf(f, "\nskadi run: %s (seed %llu) -- %s\n", sc->name, sc->seed, ri->status);
  fprintf(f, "  %-28s %12.0f s  (%.2f h)\n", "simulated time", s->sim_s, s->sim_s / 3600.0);
  fprintf(f, "  %-28s %12.2f s\n", "wall time", ri->wall_s);
  fprintf(f, "  %-28s %12.0f x real time  (%.0f events, peak RSS %.0f MiB)\n", "speed-up",
          ri->speedup, (double)ri->events, ri->peak_rss_mb);
  fprintf(f, "  %-28s %12.0f\n", "prompts served", s->prompts_completed);
  fprintf(f, "  %-28s %12.0f\n", "prompts rejected (queue)", s->prompts_rejected);
  fprintf(f, "  %-28s %12.3f Wh/prompt\n", "energy per prompt", s->wh_per_prompt);
  fprintf(f, "  %-28s %12.3f\n", "PUE", s->pue);
  fprintf(f, "  %-28s %12.1f ms  (p50 %.1f, p99 %.1f)\n", "TTFT p95", s->ttft_p95_ms,
          s->ttft_p50_ms, s->ttft_p99_ms);
  fprintf(f, "  %-28s %12.2f %%  (inlet <= %.1f C)\n", "inlet compliance",
          s->inlet_compliance_pct, sc->settings.inlet_max_c);
  fprintf(f, "  energy breakdown            %12s\n", "kWh     share");
  double tot = s->facility_kwh > 0 ? s->facility_kwh : 1.0;
  const struct {
    const char *name;
    double kwh;
  } parts[] = {{"IT", s->it_kwh},
               {"CRAH fans", s->crah_fan_kwh},
               {"pumps", s->pump_kwh},
               {"chiller", s->chiller_kwh},
               {"cooling tower", s->tower_kwh},
               {"electrical losses", s->losses_kwh},
               {"lighting/misc", s->misc_kwh},
               {"facility total", s->facility_kwh}};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    fprintf(f, "    %-26s %12.1f  %5.1f %%\n", parts[i].name, parts[i].kwh,
            100.0 * parts[i].kwh / tot);
  fprintf(f, "  max inlet per row (degC)   ");
  for (int r = 0; r < s->n_rows; r++)
    fprintf(f, " %c %.2f", 'A' + r, s->max_inlet_row_c[r]);
  fputc('\n', f);
  if (ri->cf) {
    fprintf(f, "  mode %-23s optimized   counterfactual (optimizer off)\n", ri->mode);
    fprintf(f, "    %-26s %9.4f   %9.4f   saved %.2f %%\n", "Wh/prompt", s->wh_per_prompt,
            ri->cf->wh_per_prompt, saved_pct(s, ri->cf));
    fprintf(f, "    %-26s %9.3f   %9.3f\n", "PUE", s->pue, ri->cf->pue);
    fprintf(f, "    %-26s %9.1f   %9.1f\n", "TTFT p95 (ms)", s->ttft_p95_ms, ri->cf->ttft_p95_ms);
    fprintf(f, "    %-26s %9.2f   %9.2f\n", "max inlet (degC)", s->max_inlet_c, ri->cf->max_inlet_c);
    fprintf(f, "    %-26s %9.1f   %9.1f\n", "facility kWh", s->facility_kwh, ri->cf->facility_kwh);
    const sk_controller_stats *c = ri->ctl;
    fprintf(f, "  actions: %d proposed, %d applied, %d advised, %d rejected, %d rolled back",
            c->proposals, c->applied, c->advised, c->rejected, c->rolled_back);
    if (c->evaluated > 0)
      fprintf(f, "; mean |predicted - realized| %.2f %% over %d", c->pred_abs_err_sum / c->evaluated,
              c->evaluated);
    fputc('\n', f);
  }
  if (ri->out)
    fprintf(f, "  recording                   %s\n", ri->out);
}

static cJSON *summary_json(const sk_scenario *sc, const sk_summary *s, const run_info *ri) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "scenario", sc->name);
  cJSON_AddNumberToObject(o, "seed", (double)sc->seed);
  cJSON_AddStringToObject(o, "status", ri->status);
  cJSON_AddNumberToObject(o, "sim_time_s", s->sim_s);
  cJSON_AddNumberToObject(o, "wall_time_s", ri->wall_s);
  cJSON_AddNumberToObject(o, "speedup", ri->speedup);
  cJSON_AddNumberToObject(o, "events", (double)ri->events);
  cJSON_AddNumberToObject(o, "peak_rss_mb", ri->peak_rss_mb);
  cJSON_AddNumberToObject(o, "prompts_served", s->prompts_completed);
  cJSON_AddNumberToObject(o, "prompts_arrived", s->prompts_arrived);
  cJSON_AddNumberToObject(o, "prompts_rejected", s->prompts_rejected);
  cJSON_AddNumberToObject(o, "tokens_out", s->tokens_out);
  cJSON_AddNumberToObject(o, "j_per_prompt_wh", s->wh_per_prompt);
  cJSON_AddNumberToObject(o, "pue", s->pue);
  cJSON_AddNumberToObject(o, "latency_p50_ms", s->ttft_p50_ms);
  cJSON_AddNumberToObject(o, "latency_p95_ms", s->ttft_p95_ms);
  cJSON_AddNumberToObject(o, "latency_p99_ms", s->ttft_p99_ms);
  cJSON_AddNumberToObject(o, "inlet_compliance_pct", s->inlet_compliance_pct);
  cJSON_AddNumberToObject(o, "min_inlet_c", s->min_inlet_c);
  cJSON_AddNumberToObject(o, "max_inlet_c", s->max_inlet_c);
  cJSON *e = cJSON_AddObjectToObject(o, "energy_kwh");
  cJSON_AddNumberToObject(e, "it", s->it_kwh);
  cJSON_AddNumberToObject(e, "crah_fans", s->crah_fan_kwh);
  cJSON_AddNumberToObject(e, "pumps", s->pump_kwh);
  cJSON_AddNumberToObject(e, "chiller", s->chiller_kwh);
  cJSON_AddNumberToObject(e, "cooling_tower", s->tower_kwh);
  cJSON_AddNumberToObject(e, "electrical_losses", s->losses_kwh);
  cJSON_AddNumberToObject(e, "misc", s->misc_kwh);
  cJSON_AddNumberToObject(e, "facility", s->facility_kwh);
  cJSON *rows = cJSON_AddObjectToObject(o, "rows");
  for (int r = 0; r < s->n_rows; r++) {
    char name[2] = {(char)('A' + r), 0};
    cJSON *row = cJSON_AddObjectToObject(rows, name);
    cJSON_AddNumberToObject(row, "max_inlet_c", s->max_inlet_row_c[r]);
    cJSON_AddNumberToObject(row, "mean_inlet_c", s->mean_inlet_row_c[r]);
    cJSON_AddNumberToObject(row, "mean_rack_kw", s->mean_rack_kw_row[r]);
    cJSON_AddNumberToObject(row, "crah_fan_kwh", s->crah_fan_kwh_row[r]);
  }
  cJSON_AddStringToObject(o, "mode", ri->mode);
  if (ri->cf) {
    cJSON *cf = cJSON_AddObjectToObject(o, "counterfactual");
    cJSON_AddNumberToObject(cf, "j_per_prompt_wh", ri->cf->wh_per_prompt);
    cJSON_AddNumberToObject(cf, "pue", ri->cf->pue);
    cJSON_AddNumberToObject(cf, "latency_p95_ms", ri->cf->ttft_p95_ms);
    cJSON_AddNumberToObject(cf, "max_inlet_c", ri->cf->max_inlet_c);
    cJSON_AddNumberToObject(cf, "facility_kwh", ri->cf->facility_kwh);
    cJSON_AddNumberToObject(cf, "prompts_served", ri->cf->prompts_completed);
    cJSON_AddNumberToObject(o, "energy_saved_pct", saved_pct(s, ri->cf));
    cJSON *a = cJSON_AddObjectToObject(o, "actions");
    cJSON_AddNumberToObject(a, "proposed", ri->ctl->proposals);
    cJSON_AddNumberToObject(a, "applied", ri->ctl->applied);
    cJSON_AddNumberToObject(a, "advised", ri->ctl->advised);
    cJSON_AddNumberToObject(a, "rejected", ri->ctl->rejected);
    cJSON_AddNumberToObject(a, "rolled_back", ri->ctl->rolled_back);
    cJSON_AddNumberToObject(a, "evaluated", ri->ctl->evaluated);
    if (ri->ctl->evaluated > 0)
      cJSON_AddNumberToObject(a, "mean_abs_pred_err_pct",
                              ri->ctl->pred_abs_err_sum / ri->ctl->evaluated);
    cJSON_AddBoolToObject(o, "ims_trained", ri->ctl->ims_trained);
  }
  if (ri->out)
    cJSON_AddStringToObject(o, "recording", ri->out);
  else
    cJSON_AddNullToObject(o, "recording");
  return o;
}

static void progress(double frac, double sim_s, double end_s, double wall_s) {
  int width = 30, fill = (int)(frac * width);
  char bar[32];
  for (int i = 0; i < width; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[width] = 0;
  double speed = wall_s > 0 ? sim_s / wall_s : 0;
  double eta = (speed > 0 && frac > 0) ? (end_s - sim_s) / speed : 0;
  fprintf(stderr, "\r[%s] %5.1f%%  sim %6.2f/%.2f h  %7.0fx  eta %5.1fs ", bar, 100 * frac,
          sim_s / 3600, end_s / 3600, speed, eta);
  fflush(stderr);
}

/* Creates the parent directory of path if it is missing (one level, like `runs/`). */
static void ensure_parent(const char *path) {
  char dir[SK_PATH_LEN];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir)
    return;
  *slash = 0;
  struct stat st;
  if (stat(dir, &st) != 0)
    mkdir(dir, 0777);
}

/* Appends one key/value pair to the arrays sk_scenario_kv made (freed the same way). */
static sk_status add_kv(char ***keys, char ***values, size_t *n, const char *k, const char *v) {
  char **nk = realloc(*keys, (*n + 1) * sizeof *nk);
  if (!nk)
    return SK_ENOMEM;
  *keys = nk;
  char **nv = realloc(*values, (*n + 1) * sizeof *nv);
  if (!nv)
    return SK_ENOMEM;
  *values = nv;
  nk[*n] = strdup(k);
  nv[*n] = strdup(v);
  if (!nk[*n] || !nv[*n]) {
    free(nk[*n]);
    free(nv[*n]);
    return SK_ENOMEM;
  }
  (*n)++;
  return SK_OK;
}

/* Parses "max" (0) or "<N>x" / "<N>" (N > 0) into *factor. */
static int parse_speed(const char *text, double *factor) {
  if (strcmp(text, "max") == 0) {
    *factor = 0;
    return 1;
  }
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || errno || !isfinite(v) || v <= 0)
    return 0;
  if (*end == 'x' || *end == 'X')
    end++;
  if (*end)
    return 0;
  *factor = v;
  return 1;
}

int sk_run_main(int argc, char **argv) {
  const char *scenario_path = NULL, *out = NULL, *env_file = NULL, *mode_name = "off";
  const char *ims_path = NULL, *audit_path = NULL;
  const char *sets[MAX_SETS];
  int n_sets = 0, json = 0, record = 1, show_progress = isatty(STDERR_FILENO);
  double speed = 0, duration_s = NAN;
  unsigned long long seed = 0;
  int have_seed = 0;
  char err[SK_ERR_LEN];

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
#define NEED_VALUE()                                             \
  do {                                                           \
    if (!val)                                                    \
      return bad("%s: missing value", a);                  \
    i++;                                                         \
  } while (0)
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--seed") == 0) {
      NEED_VALUE();
      char *end;
      errno = 0;
      if (val[0] == '-' || (seed = strtoull(val, &end, 10), errno) || end == val || *end)
        return bad("--seed: '%s' is not a non-negative integer", val);
      have_seed = 1;
    } else if (strcmp(a, "--duration") == 0) {
      NEED_VALUE();
      if (sk_parse_duration(val, &duration_s, err, sizeof err) != SK_OK)
        return bad("--duration: %s", err);
    } else if (strcmp(a, "--out") == 0) {
      NEED_VALUE();
      out = val;
    } else if (strcmp(a, "--no-record") == 0) {
      record = 0;
    } else if (strcmp(a, "--speed") == 0) {
      NEED_VALUE();
      if (!parse_speed(val, &speed))
        return bad("--speed: '%s' is not 'max' or a positive factor like 60x", val);
    } else if (strcmp(a, "--set") == 0) {
      NEED_VALUE();
      if (n_sets == MAX_SETS)
        return bad("--set: more than %d overrides", MAX_SETS);
      sets[n_sets++] = val;
    } else if (strcmp(a, "--env-file") == 0) {
      NEED_VALUE();
      env_file = val;
    } else if (strcmp(a, "--mode") == 0) {
      NEED_VALUE();
      if (strcmp(val, "off") && strcmp(val, "on") && strcmp(val, "advisory") &&
          strcmp(val, "closed_loop"))
        return bad("--mode: '%s' is not off, on, advisory or closed_loop", val);
      mode_name = val;
    } else if (strcmp(a, "--ims-model") == 0) {
      NEED_VALUE();
      ims_path = val;
    } else if (strcmp(a, "--audit") == 0) {
      NEED_VALUE();
      audit_path = val;
    } else if (strcmp(a, "--json") == 0) {
      json = 1;
    } else if (strcmp(a, "--progress") == 0) {
      show_progress = 1;
    } else if (strcmp(a, "--no-progress") == 0) {
      show_progress = 0;
    } else if (a[0] == '-' && a[1] != 0) {
      return bad("unknown option '%s' (see skadi run --help)", a);
    } else if (!scenario_path) {
      scenario_path = a;
    } else {
      return bad("unexpected argument '%s' (one scenario file only)", a);
    }
#undef NEED_VALUE
  }
  if (!scenario_path)
    return bad("missing SCENARIO.json (see skadi run --help)");

  /* settings: defaults < environment < .env < scenario < --set */
  sk_scenario *sc = malloc(sizeof *sc);
  if (!sc) {
    fputs("skadi run: out of memory\n", stderr);
    return 1;
  }
  int rc = 2;
  sk_trace trace;
  memset(&trace, 0, sizeof trace);
  sk_twin *tw = NULL, *cf = NULL;
  sk_controller *ctl = NULL;
  FILE *audit = NULL;
  char audit_buf[SK_PATH_LEN + 32];
  sk_recorder *rec = NULL;
  char **keys = NULL, **values = NULL;
  size_t n_kv = 0;
  char *scenario_json = NULL;
  char out_buf[SK_PATH_LEN];

  sk_scenario_defaults(sc);
  if (sk_scenario_apply_env(sc, err, sizeof err) != SK_OK)
    goto bad_input;
  if (!env_file && access(".env", R_OK) == 0)
    env_file = ".env";
  if (env_file && sk_scenario_apply_dotenv(sc, env_file, err, sizeof err) != SK_OK)
    goto bad_input;
  if (sk_scenario_load(sc, scenario_path, err, sizeof err) != SK_OK)
    goto bad_input;
  for (int i = 0; i < n_sets; i++)
    if (sk_scenario_set(sc, sets[i], err, sizeof err) != SK_OK)
      goto bad_input;
  if (have_seed)
    sc->seed = seed;
  if (!isnan(duration_s))
    sc->duration_s = duration_s;
  if (sk_scenario_validate(sc, err, sizeof err) != SK_OK)
    goto bad_input;
  if (sc->trace_csv[0] && sk_trace_load(&trace, sc->trace_csv, err, sizeof err) != SK_OK)
    goto bad_input;

  rc = 1;
  if (sk_twin_create(&tw, sc, sc->trace_csv[0] ? &trace : NULL, err, sizeof err) != SK_OK) {
    fprintf(stderr, "skadi run: %s\n", err);
    goto done;
  }

  if (strcmp(mode_name, "on") == 0) /* the seed's DEFAULT_MODE picks */
    mode_name = sc->settings.default_mode_closed_loop ? "closed_loop" : "advisory";
  int optimize = strcmp(mode_name, "off") != 0;
  if (optimize) {
    sk_ims_model *ims = NULL;
    if (ims_path) {
      ims = malloc(sizeof *ims);
      if (!ims || sk_ims_load(ims, ims_path, NULL, 0, err, sizeof err) != SK_OK) {
        if (!ims)
          snprintf(err, sizeof err, "out of memory");
        free(ims);
        rc = 2;
        fprintf(stderr, "skadi run: --ims-model: %s\n", err);
        goto done;
      }
    }
    sk_status st = sk_twin_create(&cf, sc, sc->trace_csv[0] ? &trace : NULL, err, sizeof err);
    if (st == SK_OK)
      st = sk_controller_create(&ctl, sc,
                                strcmp(mode_name, "closed_loop") == 0 ? SK_MODE_CLOSED_LOOP
                                                                       : SK_MODE_ADVISORY,
                                ims, err, sizeof err);
    free(ims);
    if (st != SK_OK) {
      rc = st == SK_EINVAL ? 2 : 1;
      fprintf(stderr, "skadi run: %s\n", err);
      goto done;
    }
  }

  if (record) {
    if (!out) {
      snprintf(out_buf, sizeof out_buf, "runs/%s-seed%llu.h5", sc->name, sc->seed);
      out = out_buf;
    }
    ensure_parent(out);
    scenario_json = sk_scenario_to_json(sc);
    if (!scenario_json || sk_scenario_kv(sc, &keys, &values, &n_kv) != SK_OK ||
        add_kv(&keys, &values, &n_kv, "run.mode", mode_name) != SK_OK) {
      fputs("skadi run: out of memory\n", stderr);
      goto done;
    }
    int n_racks = sc->n_rows * sc->racks_per_row;
    char(*ids)[8] = calloc((size_t)n_racks, 8);
    const char **id_ptrs = calloc((size_t)n_racks, sizeof *id_ptrs);
    int *rows = calloc((size_t)n_racks, sizeof *rows), *pos = calloc((size_t)n_racks, sizeof *pos);
    sk_status st = SK_ENOMEM;
    if (ids && id_ptrs && rows && pos) {
      for (int i = 0; i < n_racks; i++) {
        sk_scenario_rack_id(sc, i, ids[i]);
        id_ptrs[i] = ids[i];
        rows[i] = i / sc->racks_per_row;
        pos[i] = i % sc->racks_per_row;
      }
      sk_recorder_config cfg = {out,
                                sc->name,
                                scenario_json,
                                SKADI_VERSION,
                                sc->seed,
                                sc->duration_s,
                                sc->sample_period_s,
                                n_kv,
                                (const char *const *)keys,
                                (const char *const *)values,
                                (size_t)n_racks,
                                id_ptrs,
                                rows,
                                pos};
      st = sk_recorder_create(&rec, &cfg, err, sizeof err);
    } else {
      snprintf(err, sizeof err, "out of memory");
    }
    free(ids);
    free(id_ptrs);
    free(rows);
    free(pos);
    if (st != SK_OK) {
      fprintf(stderr, "skadi run: cannot record: %s\n", err);
      goto done;
    }
  }

  if (optimize && !audit_path && rec) {
    snprintf(audit_buf, sizeof audit_buf, "%s.actions.jsonl", out);
    audit_path = audit_buf;
  }
  if (optimize && audit_path && !(audit = fopen(audit_path, "a"))) {
    fprintf(stderr, "skadi run: --audit: cannot open %s: %s\n", audit_path, strerror(errno));
    goto done;
  }

  sink_ctx sink = {rec, SK_OK, 0};
  sk_twin_sinks sinks = {sink_sample, sink_event, &sink};
  sk_twin_set_sinks(tw, &sinks);
  control_sink csink = {rec, &sink.st, audit};
  if (ctl) {
    sk_controller_sinks cs = {sink_action, sink_monitor, &csink};
    sk_controller_set_sinks(ctl, &cs);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  /* Chunks: a sample period at max speed; at most 50 ms of wall time when paced. */
  sk_time_ns end = sk_twin_end(tw);
  sk_time_ns chunk = (sk_time_ns)llround(sc->sample_period_s * 1e9);
  if (speed > 0) {
    sk_time_ns paced = (sk_time_ns)llround(speed * 0.05 * 1e9);
    if (paced < chunk)
      chunk = paced > 0 ? paced : 1;
  }
  double t0 = wall_now(), last_prog = 0;
  sink.last_flush_wall = t0;
  sk_time_ns step_ns = ctl ? sk_controller_interval(ctl) : 0;
  while (sk_twin_now(tw) < end && !stop_signal && sink.st == SK_OK) {
    sk_time_ns now = sk_twin_now(tw), next = now + chunk;
    if (ctl) { /* stop exactly at every control boundary, whatever the pacing */
      sk_time_ns boundary = (now / step_ns + 1) * step_ns;
      if (boundary < next)
        next = boundary;
    }
    if (next > end)
      next = end;
    if (ctl) {
      advance_job job = {cf, next};
      pthread_t th;
      int threaded = pthread_create(&th, NULL, advance_thread, &job) == 0;
      if (!threaded)
        advance_thread(&job);
      sk_twin_run_until(tw, next);
      if (threaded)
        pthread_join(th, NULL);
      if (next % step_ns == 0)
        sk_controller_step(ctl, tw, cf);
    } else {
      sk_twin_run_until(tw, next);
    }
    double w = wall_now();
    double sim_s = (double)sk_twin_now(tw) * 1e-9;
    if (speed > 0) {
      double target = t0 + sim_s / speed;
      if (target > w) {
        double d = target - w;
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
        w = wall_now();
      }
    }
    if (rec && w - sink.last_flush_wall >= 1.0) {
      if (sink.st == SK_OK)
        sink.st = sk_recorder_flush(rec);
      sink.last_flush_wall = w;
    }
    if (show_progress && w - last_prog >= 0.1) {
      progress(sim_s / ((double)end * 1e-9), sim_s, (double)end * 1e-9, w - t0);
      last_prog = w;
    }
  }
  double wall = wall_now() - t0;
  if (show_progress) {
    progress((double)sk_twin_now(tw) / (double)end, (double)sk_twin_now(tw) * 1e-9,
             (double)end * 1e-9, wall);
    fputc('\n', stderr);
  }

  sk_summary sum, cf_sum;
  sk_controller_stats cstats;
  memset(&cstats, 0, sizeof cstats);
  sk_twin_summary(tw, &sum);
  if (cf)
    sk_twin_summary(cf, &cf_sum);
  if (ctl)
    sk_controller_stats_get(ctl, &cstats);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  run_info ri = {wall,
                 wall > 0 ? sum.sim_s / wall : 0,
                 sk_twin_events(tw),
                 (double)ru.ru_maxrss / 1024.0,
                 stop_signal ? "interrupted" : "completed",
                 rec ? out : NULL,
                 mode_name,
                 cf ? &cf_sum : NULL,
                 &cstats};

  if (rec) {
    if (sink.st != SK_OK) {
      fprintf(stderr, "skadi run: recording failed: %s\n", sk_recorder_error(rec));
      goto done;
    }
    sk_recorder_figure figs[] = {
        {"sim_time_s", sum.sim_s, "s"},
        {"prompts_served", sum.prompts_completed, "prompts"},
        {"prompts_rejected", sum.prompts_rejected, "prompts"},
        {"j_per_prompt_wh", sum.wh_per_prompt, "Wh/prompt"},
        {"pue", sum.pue, "1"},
        {"latency_p95_ms", sum.ttft_p95_ms, "ms"},
        {"inlet_compliance_pct", sum.inlet_compliance_pct, "%"},
        {"max_inlet_c", sum.max_inlet_c, "degC"},
        {"it_kwh", sum.it_kwh, "kWh"},
        {"crah_fan_kwh", sum.crah_fan_kwh, "kWh"},
        {"pump_kwh", sum.pump_kwh, "kWh"},
        {"chiller_kwh", sum.chiller_kwh, "kWh"},
        {"tower_kwh", sum.tower_kwh, "kWh"},
        {"losses_kwh", sum.losses_kwh, "kWh"},
        {"misc_kwh", sum.misc_kwh, "kWh"},
        {"facility_kwh", sum.facility_kwh, "kWh"},
        {"cf_j_per_prompt_wh", cf ? cf_sum.wh_per_prompt : NAN, "Wh/prompt"},
        {"cf_prompts_served", cf ? cf_sum.prompts_completed : NAN, "prompts"},
        {"cf_it_kwh", cf ? cf_sum.it_kwh : NAN, "kWh"},
        {"cf_crah_fan_kwh", cf ? cf_sum.crah_fan_kwh : NAN, "kWh"},
        {"cf_pump_kwh", cf ? cf_sum.pump_kwh : NAN, "kWh"},
        {"cf_chiller_kwh", cf ? cf_sum.chiller_kwh : NAN, "kWh"},
        {"cf_tower_kwh", cf ? cf_sum.tower_kwh : NAN, "kWh"},
        {"cf_losses_kwh", cf ? cf_sum.losses_kwh : NAN, "kWh"},
        {"cf_misc_kwh", cf ? cf_sum.misc_kwh : NAN, "kWh"},
        {"cf_facility_kwh", cf ? cf_sum.facility_kwh : NAN, "kWh"},
        {"energy_saved_pct", cf ? saved_pct(&sum, &cf_sum) : NAN, "%"},
        {"actions_applied", cstats.applied, "actions"},
        {"actions_rolled_back", cstats.rolled_back, "actions"},
    };
    sk_recorder_figure info[] = {
        {"wall_time_s", ri.wall_s, "s"},
        {"speedup", ri.speedup, "x"},
        {"events", (double)ri.events, "events"},
        {"peak_rss_mb", ri.peak_rss_mb, "MiB"},
    };
    if (sk_recorder_finish(rec, figs, sizeof figs / sizeof figs[0], info,
                           sizeof info / sizeof info[0], ri.status) != SK_OK) {
      fprintf(stderr, "skadi run: recording failed: %s\n", sk_recorder_error(rec));
      goto done;
    }
  }

  if (json) {
    cJSON *o = summary_json(sc, &sum, &ri);
    char *text = o ? cJSON_Print(o) : NULL;
    if (text)
      printf("%s\n", text);
    free(text);
    cJSON_Delete(o);
  } else {
    print_table(stdout, sc, &sum, &ri);
  }
  rc = stop_signal ? 128 + (int)stop_signal : 0;
  goto done;

bad_input:
  fprintf(stderr, "skadi run: %s\n", err);
  rc = 2;
done:
  if (audit)
    fclose(audit);
  sk_recorder_close(rec);
  sk_controller_destroy(ctl);
  sk_twin_destroy(cf);
  sk_twin_destroy(tw);
  sk_trace_fini(&trace);
  sk_scenario_free_kv(keys, values, n_kv);
  free(scenario_json);
  free(sc);
  return rc;
}
