/*
 * run.c -- `skadi run`: a scenario advanced as fast as possible or paced at N x real
 * time, recorded to HDF5, with progress on a terminal and a summary (table or JSON).
 *
 * The run itself is a session (sim/include/skadi/session.h); this file is the front end:
 * flags, output names, pacing, signals, progress and printing.  Wall time lives here and
 * only here (pacing, progress, speed-up figure); the twin never sees it.  SIGINT/SIGTERM
 * set a flag; the loop stops at the next chunk, the recording is finished and closed and
 * the partial summary printed (exit 130/143).  The session is flushed about once a second
 * of wall time, so a SIGKILL loses at most that (the file stays <out>.part).
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

#include "skadi/perf.h" /* SK_PERF_MEASURED_*: the timing data's range */
#include "skadi/scenario.h"
#include "skadi/session.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif


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
        "  --out PATH         HDF5 recording (default: runs/<scenario>-seed<N>-<mode>.h5,\n"
        "                     or -2, -3, ... after it when that exists).  Written as\n"
        "                     PATH.part and renamed when the run ends; an interrupted run\n"
        "                     never replaces an existing file (it becomes\n"
        "                     <stem>.interrupted.h5)\n"
        "  --force            replace an existing --out file\n"
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
        "  --commands FILE    replay a command log: a recording's /commands table (a\n"
        "                     steered run re-runs bit for bit) or JSON Lines\n"
        "                     (docs/LIBRARY.md)\n"
        "  --threads N        threads for the counterfactual and the what-if forks\n"
        "                     (default: the machine's cores; results do not depend on it)\n"
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

/* "skadi run: <message>" on stderr; returns 2, the exit status of bad input */
#define bad(...) sk_cli_bad("run", __VA_ARGS__)

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
  double saved_pct;     /* % less Wh/prompt than the counterfactual (the session's figure) */
  const sk_controller_stats *ctl;
  const sk_session_summary *sum; /* the session's whole summary (levers, net saving) */
} run_info;

/* One row of plant settings: the optimized run's at the end beside the counterfactual's. */
static void print_lever_row(FILE *f, const char *name, const double *run, const double *cf, int n,
                            int width, int decimals) {
  fprintf(f, "    %-18s", name);
  for (int r = 0; r < n; r++)
    fprintf(f, " %*.*f", width, decimals, run[r]);
  fprintf(f, "  |");
  for (int r = 0; r < n; r++)
    fprintf(f, " %*.*f", width, decimals, cf[r]);
  fputc('\n', f);
}

/* The effects of the timeline, each with how its racks' inlets moved while it ran. */
static void print_effects(FILE *f, const sk_scenario *sc, const sk_summary *s) {
  for (int e = 0; e < s->n_effects; e++) {
    const sk_effect_inlets *x = &s->effect_inlets[e];
    if (x->n_racks == 0 || isnan(x->max_inlet_c))
      continue;
    fprintf(f, "  effect %-20s %d racks' inlets %.2f C at its start, %.2f..%.2f C while on "
               "(%+.2f K peak); other racks' max %.2f C\n",
            sc->effects[e].name, x->n_racks, x->start_inlet_c, x->min_inlet_c, x->max_inlet_c,
            (fabs(x->max_inlet_c - x->start_inlet_c) >= fabs(x->min_inlet_c - x->start_inlet_c)
                 ? x->max_inlet_c
                 : x->min_inlet_c) -
                x->start_inlet_c,
            x->others_max_inlet_c);
  }
}

/* A TTFT quantile as the table shows it: "129.7", or ">= 129.7" when it is only a lower
 * bound (sk_summary: at the sketch's ceiling, or held up by requests still waiting). */
static const char *ttft_text(char *buf, size_t len, double ms, int censored) {
  snprintf(buf, len, "%s%.1f", censored ? ">= " : "", ms);
  return buf;
}

static void print_table(FILE *f, const sk_scenario *sc, const sk_summary *s, const run_info *ri) {
  char p50[32], p95[32], p99[32];
  fprintf(f, "\nskadi run: %s (seed %llu) -- %s\n", sc->name, sc->seed, ri->status);
  fprintf(f, "  %-28s %12.0f s  (%.2f h)\n", "simulated time", s->sim_s, s->sim_s / 3600.0);
  fprintf(f, "  %-28s %12.2f s\n", "wall time", ri->wall_s);
  fprintf(f, "  %-28s %12.0f x real time  (%.0f events, peak RSS %.0f MiB)\n", "speed-up",
          ri->speedup, (double)ri->events, ri->peak_rss_mb);
  fprintf(f, "  %-28s %12.0f\n", "prompts served", s->prompts_completed);
  fprintf(f, "  %-28s %12.0f\n", "prompts rejected (queue)", s->prompts_rejected);
  fprintf(f, "  %-28s %12.0f  (no first token: in TTFT as lower bounds)\n",
          "prompts still queued at end", s->prompts_queued_at_end);
  fprintf(f, "  %-28s %12.0f  (> %d tokens: prefill time extrapolated)\n",
          "prompts beyond timing data", s->prompts_extrapolated,
          SK_PERF_MEASURED_PROMPT_MAX_TOKENS);
  if (s->prefills_extrapolated > 0)
    fprintf(f, "  %-28s %12.0f  (> %d tokens in one prefill: extrapolated)\n",
            "prefills beyond timing data", s->prefills_extrapolated,
            SK_PERF_MEASURED_PREFILL_MAX_TOKENS);
  if (s->prefix_blocks_asked > 0)
    fprintf(f, "  %-28s %12.1f %%  (%.0f of %.0f KV blocks; %.0f prefill tokens skipped)\n",
            "prefix cache hit rate", 100.0 * s->prefix_hit_rate, s->prefix_blocks_hit,
            s->prefix_blocks_asked, s->prefill_tokens_skipped);
  if (s->chw_overload_s > 0)
    fprintf(f, "  %-28s %12.0f s  (load beyond the chillers' capacity: the water warmed to "
               "%.1f C; past 45 C, the top of ASHRAE's widest allowable class A4, real servers "
               "shut down and the twin's figures mean little)\n",
            "chillers over capacity", s->chw_overload_s, s->chw_max_c);
  fprintf(f, "  %-28s %12.3f Wh/prompt\n", "energy per prompt", s->wh_per_prompt);
  fprintf(f, "  %-28s %12.3f\n", "PUE", s->pue);
  fprintf(f, "  %-28s %12s ms  (p50 %s, p99 %s)\n", "TTFT p95",
          ttft_text(p95, sizeof p95, s->ttft_p95_ms, s->ttft_p95_censored),
          ttft_text(p50, sizeof p50, s->ttft_p50_ms, s->ttft_p50_censored),
          ttft_text(p99, sizeof p99, s->ttft_p99_ms, s->ttft_p99_censored));
  /* rounded down from the counts: a run with a breach never reads 100.00 % */
  fprintf(f, "  %-28s %12.2f %%  (inlet <= %.1f C; %.0f of %.0f samples above)\n",
          "inlet compliance", sk_summary_compliance_floor(s, 2), sc->settings.inlet_max_c,
          s->inlet_breach_samples, s->inlet_samples);
  fprintf(f, "  %-28s %12.2f %%  (inlet <= %.1f C, ASHRAE A1 recommended; %.0f above)\n",
          "  vs recommended envelope",
          sk_compliance_floor(s->inlet_samples, s->inlet_recommended_breach_samples, 2),
          SK_ASHRAE_RECOMMENDED_MAX_C, s->inlet_recommended_breach_samples);
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
  print_effects(f, sc, s);
  if (ri->cf) {
    fprintf(f, "  mode %-23s optimized   counterfactual (the scenario's settings, optimizer off)\n",
            ri->mode);
    fprintf(f, "    %-26s %9.4f   %9.4f   saved %.2f %%\n", "Wh/prompt", s->wh_per_prompt,
            ri->cf->wh_per_prompt, ri->saved_pct);
    fprintf(f, "    %-26s %9.1f   %9.1f   (CHW %.1f -> %.1f C | %.1f -> %.1f C)\n",
            "stored cold (kWh)", s->stored_cold_kwh, ri->cf->stored_cold_kwh, s->chw_start_c,
            s->chw_end_c, ri->cf->chw_start_c, ri->cf->chw_end_c);
    fprintf(f, "    %-26s %21s   saved %.2f %%  (stored cold charged at the chillers' COP)\n",
            "Wh/prompt, net", "", ri->sum->energy_saved_net_pct);
    fprintf(f, "    %-26s %9.3f   %9.3f\n", "PUE", s->pue, ri->cf->pue);
    char cf95[32];
    fprintf(f, "    %-26s %9s   %9s\n", "TTFT p95 (ms)", p95,
            ttft_text(cf95, sizeof cf95, ri->cf->ttft_p95_ms, ri->cf->ttft_p95_censored));
    fprintf(f, "    %-26s %9.2f   %9.2f\n", "max inlet (degC)", s->max_inlet_c, ri->cf->max_inlet_c);
    fprintf(f, "    %-26s %9.1f   %9.1f\n", "facility kWh", s->facility_kwh, ri->cf->facility_kwh);
    const sk_session_levers *lv = &ri->sum->levers, *cl = &ri->sum->cf_levers;
    fprintf(f, "  plant settings: optimized run at its end | counterfactual\n");
    print_lever_row(f, "CRAH fan (%)", lv->crah_fan_pct, cl->crah_fan_pct, lv->n_rows, 3, 0);
    print_lever_row(f, "supply air (C)", lv->supply_setpoint_c, cl->supply_setpoint_c, lv->n_rows, 4, 1);
    print_lever_row(f, "pumps (%)", &lv->pump_pct, &cl->pump_pct, 1, 3, 0);
    print_lever_row(f, "CHW setpoint (C)", &lv->chw_setpoint_c, &cl->chw_setpoint_c, 1, 4, 1);
    print_lever_row(f, "batch window (ms)", &lv->batch_window_ms, &cl->batch_window_ms, 1, 3, 0);
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
  cJSON_AddNumberToObject(o, "prompts_queued_at_end", s->prompts_queued_at_end);
  cJSON_AddNumberToObject(o, "prompts_extrapolated", s->prompts_extrapolated);
  cJSON_AddNumberToObject(o, "prefills_extrapolated", s->prefills_extrapolated);
  cJSON_AddNumberToObject(o, "prefix_blocks_asked", s->prefix_blocks_asked);
  cJSON_AddNumberToObject(o, "prefix_blocks_hit", s->prefix_blocks_hit);
  cJSON_AddNumberToObject(o, "prefix_hit_rate", s->prefix_hit_rate); /* null: none asked */
  cJSON_AddNumberToObject(o, "prefill_tokens_skipped", s->prefill_tokens_skipped);
  cJSON_AddNumberToObject(o, "tokens_out", s->tokens_out);
  cJSON_AddNumberToObject(o, "j_per_prompt_wh", s->wh_per_prompt);
  cJSON_AddNumberToObject(o, "pue", s->pue);
  cJSON_AddNumberToObject(o, "latency_p50_ms", s->ttft_p50_ms);
  cJSON_AddBoolToObject(o, "latency_p50_censored", s->ttft_p50_censored);
  cJSON_AddNumberToObject(o, "latency_p95_ms", s->ttft_p95_ms);
  cJSON_AddBoolToObject(o, "latency_p95_censored", s->ttft_p95_censored);
  cJSON_AddNumberToObject(o, "latency_p99_ms", s->ttft_p99_ms);
  cJSON_AddBoolToObject(o, "latency_p99_censored", s->ttft_p99_censored);
  cJSON_AddNumberToObject(o, "inlet_compliance_pct", s->inlet_compliance_pct);
  cJSON_AddNumberToObject(o, "inlet_breach_samples", s->inlet_breach_samples);
  cJSON_AddNumberToObject(o, "inlet_samples", s->inlet_samples);
  cJSON_AddNumberToObject(o, "min_inlet_c", s->min_inlet_c);
  cJSON_AddNumberToObject(o, "max_inlet_c", s->max_inlet_c);
  cJSON_AddNumberToObject(o, "inlet_recommended_max_c", SK_ASHRAE_RECOMMENDED_MAX_C);
  cJSON_AddNumberToObject(o, "inlet_recommended_breach_samples",
                          s->inlet_recommended_breach_samples);
  cJSON_AddNumberToObject(o, "chw_start_c", s->chw_start_c);
  cJSON_AddNumberToObject(o, "chw_end_c", s->chw_end_c);
  cJSON_AddNumberToObject(o, "stored_cold_kwh", s->stored_cold_kwh);
  cJSON_AddNumberToObject(o, "chw_overload_s", s->chw_overload_s);
  cJSON_AddNumberToObject(o, "chw_max_c", s->chw_max_c);
  cJSON *effects = cJSON_AddArrayToObject(o, "effects");
  for (int i = 0; i < s->n_effects; i++) {
    const sk_effect_inlets *x = &s->effect_inlets[i];
    cJSON *ej = cJSON_CreateObject();
    cJSON_AddStringToObject(ej, "name", sc->effects[i].name);
    cJSON_AddNumberToObject(ej, "racks", x->n_racks);
    cJSON_AddNumberToObject(ej, "start_inlet_c", x->start_inlet_c);
    cJSON_AddNumberToObject(ej, "min_inlet_c", x->min_inlet_c);
    cJSON_AddNumberToObject(ej, "max_inlet_c", x->max_inlet_c);
    cJSON_AddNumberToObject(ej, "others_max_inlet_c", x->others_max_inlet_c);
    cJSON_AddItemToArray(effects, ej);
  }
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
    cJSON_AddBoolToObject(cf, "latency_p95_censored", ri->cf->ttft_p95_censored);
    cJSON_AddNumberToObject(cf, "max_inlet_c", ri->cf->max_inlet_c);
    cJSON_AddNumberToObject(cf, "facility_kwh", ri->cf->facility_kwh);
    cJSON_AddNumberToObject(cf, "prompts_served", ri->cf->prompts_completed);
    cJSON_AddNumberToObject(cf, "stored_cold_kwh", ri->cf->stored_cold_kwh);
    cJSON_AddStringToObject(cf, "what", "the scenario's settings, optimizer off");
    cJSON_AddNumberToObject(o, "energy_saved_pct", ri->saved_pct);
    cJSON_AddNumberToObject(o, "energy_saved_net_pct", ri->sum->energy_saved_net_pct);
    const sk_session_levers *lv[2] = {&ri->sum->levers, &ri->sum->cf_levers};
    cJSON *ls[2] = {cJSON_AddObjectToObject(o, "settings_end"),
                    cJSON_AddObjectToObject(cf, "settings")};
    for (int k = 0; k < 2; k++) {
      cJSON *fan = cJSON_AddObjectToObject(ls[k], "crah_fan_pct");
      cJSON *sup = cJSON_AddObjectToObject(ls[k], "supply_setpoint_c");
      for (int r = 0; r < lv[k]->n_rows; r++) {
        char name[2] = {(char)('A' + r), 0};
        cJSON_AddNumberToObject(fan, name, lv[k]->crah_fan_pct[r]);
        cJSON_AddNumberToObject(sup, name, lv[k]->supply_setpoint_c[r]);
      }
      cJSON_AddNumberToObject(ls[k], "pump_pct", lv[k]->pump_pct);
      cJSON_AddNumberToObject(ls[k], "chw_setpoint_c", lv[k]->chw_setpoint_c);
      cJSON_AddNumberToObject(ls[k], "batch_window_ms", lv[k]->batch_window_ms);
      cJSON_AddNumberToObject(ls[k], "gpu_cap_w", lv[k]->gpu_cap_w);
    }
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



/* The default recording: runs/<scenario>-seed<N>-<mode>.h5, or with -2, -3, ... when that
 * exists, so a run never replaces an earlier one unless --out and --force say so. */
static void default_out(char *buf, size_t len, const sk_scenario *sc, const char *mode) {
  struct stat st;
  for (int k = 1; k < 10000; k++) {
    if (k == 1)
      snprintf(buf, len, "runs/%s-seed%llu-%s.h5", sc->name, sc->seed, mode);
    else
      snprintf(buf, len, "runs/%s-seed%llu-%s-%d.h5", sc->name, sc->seed, mode, k);
    char part[SK_PATH_LEN + 8];
    snprintf(part, sizeof part, "%s.part", buf);
    if (lstat(buf, &st) != 0 && lstat(part, &st) != 0)
      return;
  }
}

static void fmt_wall(double s, char *buf, size_t len) {
  if (s < 120)
    snprintf(buf, len, "%.0f s", s);
  else if (s < 7200)
    snprintf(buf, len, "%.0f min", s / 60);
  else
    snprintf(buf, len, "%.1f h", s / 3600);
}

static int exit_for(sk_status st) {
  return st == SK_EINVAL ? 2 : 1;
}

int sk_run_main(int argc, char **argv) {
  const char *scenario_path = NULL, *out = NULL;
  const char *ims_path = NULL, *audit_path = NULL, *commands_path = NULL;
  int json = 0, record = 1, force = 0, show_progress = isatty(STDERR_FILENO);
  char err[SK_ERR_LEN];
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  sk_cli_session_flags sf;
  sk_cli_session_flags_init(&sf, &cfg, "off", sysconf(_SC_NPROCESSORS_ONLN), 0);

  for (int i = 1; i < argc; i++) {
    int took = sk_cli_session_flag(&sf, "run", argc, argv, &i);
    if (took < 0)
      return 2;
    if (took)
      continue;
    const char *a = argv[i];
    const char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
#define NEED_VALUE()                                             \
  do {                                                           \
    if (!val)                                                    \
      return bad("%s: missing value", a);                        \
    i++;                                                         \
  } while (0)
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--out") == 0) {
      NEED_VALUE();
      out = val;
    } else if (strcmp(a, "--force") == 0) {
      force = 1;
    } else if (strcmp(a, "--no-record") == 0) {
      record = 0;
    } else if (strcmp(a, "--ims-model") == 0) {
      NEED_VALUE();
      ims_path = val;
    } else if (strcmp(a, "--audit") == 0) {
      NEED_VALUE();
      audit_path = val;
    } else if (strcmp(a, "--commands") == 0) {
      NEED_VALUE();
      commands_path = val;
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
  double speed = sf.speed;
  if (!cfg.env_file && access(".env", R_OK) == 0)
    cfg.env_file = ".env";

  cfg.scenario_path = scenario_path;
  cfg.use_env = 1;
  cfg.ims_model_path = ims_path;
  cfg.force = force;
  cfg.version = SKADI_VERSION;
  cfg.threads = sf.threads < 1 ? 1 : (int)sf.threads;
  cfg.commands_path = commands_path;
  cfg.source = "cli";

  /* The default names need the effective scenario; the session then starts from it (every
   * layer applied once, the file read once). */
  char out_buf[SK_PATH_LEN], audit_buf[SK_PATH_LEN + 32];
  sk_scenario *eff = malloc(sizeof *eff);
  if (!eff) {
    fputs("skadi run: out of memory\n", stderr);
    return 1;
  }
  sk_status st = sk_session_config_scenario(&cfg, eff, err, sizeof err);
  sk_run_mode mode = SK_RUN_OFF;
  if (st == SK_OK && sk_run_mode_parse(cfg.mode, eff, &mode) != SK_OK)
    st = SK_EINVAL;
  if (st == SK_OK && record && !out) {
    default_out(out_buf, sizeof out_buf, eff, sk_run_mode_name(mode));
    out = out_buf;
  }
  if (st != SK_OK) {
    free(eff);
    fprintf(stderr, "skadi run: %s\n", err);
    return exit_for(st);
  }
  if (record && mode != SK_RUN_OFF && !audit_path) {
    snprintf(audit_buf, sizeof audit_buf, "%s.actions.jsonl", out);
    audit_path = audit_buf;
  }
  cfg.record_path = record ? out : NULL;
  cfg.audit_path = audit_path;
  cfg.scenario = eff;
  cfg.n_sets = 0;
  cfg.have_seed = 0;
  cfg.duration_s = NAN;
  sk_session *s = NULL;
  st = sk_session_create(&s, &cfg, err, sizeof err);
  free(eff);
  if (st != SK_OK) {
    fprintf(stderr, "skadi run: %s\n", err);
    return exit_for(st);
  }
  const sk_scenario *sc = sk_session_scenario(s);
  const sk_trace *tr = sk_session_trace(s);
  if (tr != NULL) /* what was read from the trace, before the run's table */
    printf("skadi run: trace %s: %s, %zu requests over %.3f s (%zu failed skipped, %zu out of "
           "order sorted, %zu capped at workload.max_tokens %d, %zu trailing lines skipped)\n",
           sc->trace_csv, sk_trace_format_name(tr->format), tr->n, tr->span_s, tr->n_skipped,
           tr->n_unsorted, tr->n_clamped, sc->workload.max_tokens, tr->n_trailer);

  double end_s = (double)sk_session_end(s) * 1e-9;
  if (speed > 0) {
    char took[32];
    fmt_wall(end_s / speed, took, sizeof took);
    fprintf(stderr, "skadi run: paced at %gx real time, %.0f s of sim time take about %s "
                    "(Ctrl-C stops it and keeps the recording)\n",
            speed, end_s, took);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  /* Chunks: a sample period at max speed; at most 50 ms of wall time when paced. */
  sk_time_ns chunk = (sk_time_ns)llround(sc->sample_period_s * 1e9);
  if (speed > 0) {
    sk_time_ns paced = (sk_time_ns)llround(speed * 0.05 * 1e9);
    if (paced < chunk)
      chunk = paced > 0 ? paced : 1;
  }
  double t0 = wall_now(), last_prog = 0, last_flush = t0;
  while (!sk_session_done(s) && !stop_signal) {
    if (sk_session_step_until(s, sk_session_now(s) + chunk) != SK_OK)
      break;
    double w = wall_now();
    double sim_s = (double)sk_session_now(s) * 1e-9;
    if (speed > 0) {
      double target = t0 + sim_s / speed;
      if (target > w) {
        double d = target - w;
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
        w = wall_now();
      }
    }
    if (w - last_flush >= 1.0) {
      sk_session_flush(s);
      last_flush = w;
    }
    if (show_progress && w - last_prog >= 0.1) {
      progress(sim_s / end_s, sim_s, end_s, w - t0);
      last_prog = w;
    }
  }
  double wall = wall_now() - t0;
  double sim_now = (double)sk_session_now(s) * 1e-9;
  if (show_progress) {
    progress(sim_now / end_s, sim_now, end_s, wall);
    fputc('\n', stderr);
  }

  int rc = stop_signal ? 128 + (int)stop_signal : 0;
  if (sk_session_status(s) != SK_OK) {
    fprintf(stderr, "skadi run: %s\n", sk_session_error(s));
    if (sk_session_recording(s))
      fprintf(stderr, "skadi run: what was recorded up to the last flush is in %s\n",
              sk_session_recording(s));
    sk_session_destroy(s);
    return 1;
  }
  sk_session_summary sum;
  sk_session_summary_get(s, &sum);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  sk_session_wall wi = {wall, wall > 0 ? sum.run.sim_s / wall : 0, (double)ru.ru_maxrss / 1024.0};
  const char *status = stop_signal ? "interrupted" : "completed";
  if (sk_session_finish(s, &wi, status) != SK_OK) {
    fprintf(stderr, "skadi run: %s\n", sk_session_error(s));
    sk_session_destroy(s);
    return 1;
  }
  run_info ri = {wall,
                 wi.speedup,
                 sum.events,
                 wi.peak_rss_mb,
                 status,
                 sk_session_recording(s),
                 sk_run_mode_name(sum.mode),
                 sum.have_cf ? &sum.cf : NULL,
                 sum.energy_saved_pct,
                 &sum.control,
                 &sum};
  if (stop_signal && ri.out && out && strcmp(ri.out, out) != 0)
    fprintf(stderr, "skadi run: interrupted: %s exists, so the partial recording is %s\n", out,
            ri.out);
  if (json) {
    cJSON *o = summary_json(sc, &sum.run, &ri);
    char *text = o ? cJSON_Print(o) : NULL;
    if (text)
      printf("%s\n", text);
    free(text);
    cJSON_Delete(o);
  } else {
    print_table(stdout, sc, &sum.run, &ri);
  }
  sk_session_destroy(s);
  return rc;
}
