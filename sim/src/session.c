/*
 * session.c -- a run of the twin (session.h): settings layers, the optimized and the
 * counterfactual twin in lockstep, the controller at every control boundary, commands
 * applied there and recorded, the recording finished under its own name.
 *
 * Lockstep.  Both twins advance to the same boundary (a multiple of the fast-loop
 * interval); the counterfactual does so on a worker thread the session starts once (when
 * the caller's budget allows two threads), never one thread per chunk.  At a boundary the
 * due commands apply first -- the command log's, then the posted ones, in order -- and
 * then the controller steps, so a replayed log meets the twins in exactly the state the
 * live run did.
 *
 * Commands (checking, applying, logs) are in session_cmd.c; the state both files share is
 * in session_int.h.  The only state shared between threads is the command queue and the
 * pacing flags, under the session's lock, and the counterfactual's hand-over.
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/session.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "session_int.h"
#include "skadi/schema.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif

#define PART_SUFFIX ".part"


/* ---- small helpers ------------------------------------------------------------------- */

void sk__session_fail(sk_session *s, sk_status st, const char *fmt, ...) {
  if (s->st != SK_OK)
    return;
  s->st = st;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->err, sizeof s->err, fmt, ap);
  va_end(ap);
}


static const char *const mode_names[] = {"off", "advisory", "closed_loop"};

const char *sk_run_mode_name(sk_run_mode m) {
  return (unsigned)m < 3 ? mode_names[m] : "?";
}

sk_status sk_run_mode_parse(const char *name, const sk_scenario *sc, sk_run_mode *out) {
  for (int m = 0; m < 3; m++)
    if (strcmp(name, mode_names[m]) == 0) {
      *out = (sk_run_mode)m;
      return SK_OK;
    }
  if (strcmp(name, "on") == 0 && sc) { /* the seed's DEFAULT_MODE picks */
    *out = sc->settings.default_mode_closed_loop ? SK_RUN_CLOSED_LOOP : SK_RUN_ADVISORY;
    return SK_OK;
  }
  return SK_EINVAL;
}

void sk_session_config_init(sk_session_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->duration_s = NAN;
  cfg->counterfactual = -1;
  cfg->threads = 1;
}

/* ---- sinks --------------------------------------------------------------------------- */

static void sample_sink(void *ud, const sk_rack_sample *racks, int n_racks,
                        const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room) {
  sk_session *s = ud;
  if (s->rec && s->st == SK_OK) {
    sk_status st;
    if ((st = sk_recorder_add_racks(s->rec, racks, (size_t)n_racks)) != SK_OK ||
        (st = sk_recorder_add_crahs(s->rec, crahs, (size_t)n_rows)) != SK_OK ||
        (st = sk_recorder_add_room(s->rec, room)) != SK_OK)
      sk__session_fail(s, st, "recording: %s", sk_recorder_error(s->rec));
  }
  if (s->obs.on_sample)
    s->obs.on_sample(s->obs.ud, racks, n_racks, crahs, n_rows, room);
}

static void event_sink(void *ud, const sk_event_record *ev) {
  sk_session *s = ud;
  if (s->rec && s->st == SK_OK) {
    sk_status st = sk_recorder_add_event(s->rec, ev);
    if (st != SK_OK)
      sk__session_fail(s, st, "recording: %s", sk_recorder_error(s->rec));
  }
  if (s->obs.on_event)
    s->obs.on_event(s->obs.ud, ev);
}

/* One audit line: the /actions row as JSON, by the one schema. */
static void audit_line(sk_session *s, const sk_action_record *a) {
  cJSON *o = sk_schema_row_json(&sk_schema_tables[SK_TABLE_ACTIONS], a);
  char *text = o ? cJSON_PrintUnformatted(o) : NULL;
  if (!text || fprintf(s->audit, "%s\n", text) < 0)
    sk__session_fail(s, text ? SK_EIO : SK_ENOMEM, "audit trail: %s", text ? strerror(errno) : "out of memory");
  free(text);
  cJSON_Delete(o);
}

static void action_sink(void *ud, const sk_action_record *a) {
  sk_session *s = ud;
  if (s->rec && s->st == SK_OK) {
    sk_status st = sk_recorder_add_action(s->rec, a);
    if (st != SK_OK)
      sk__session_fail(s, st, "recording: %s", sk_recorder_error(s->rec));
  }
  if (s->audit)
    audit_line(s, a);
  s->last_action = *a;
  s->have_action = 1;
  if (s->obs.on_action)
    s->obs.on_action(s->obs.ud, a);
}

static void monitor_sink(void *ud, const sk_monitor_record *rows, int n) {
  sk_session *s = ud;
  if (s->rec && s->st == SK_OK) {
    sk_status st = sk_recorder_add_monitor(s->rec, rows, (size_t)n);
    if (st != SK_OK)
      sk__session_fail(s, st, "recording: %s", sk_recorder_error(s->rec));
  }
  if (n <= s->n_racks) {
    memcpy(s->monitor, rows, sizeof *rows * (size_t)n);
    s->have_monitor = 1;
  }
  if (s->obs.on_monitor)
    s->obs.on_monitor(s->obs.ud, rows, n);
}

static void cf_sample_sink(void *ud, const sk_rack_sample *racks, int n_racks,
                           const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room) {
  sk_session *s = ud;
  if (s->obs.on_cf_sample)
    s->obs.on_cf_sample(s->obs.ud, racks, n_racks, crahs, n_rows, room);
}

static void set_cf_sinks(sk_session *s) {
  sk_twin_sinks sinks = {cf_sample_sink, NULL, s};
  if (s->cf)
    sk_twin_set_sinks(s->cf, &sinks);
}

void sk_session_observe(sk_session *s, const sk_session_observer *obs) {
  if (obs)
    s->obs = *obs;
  else
    memset(&s->obs, 0, sizeof s->obs);
}

/* Starts the controller (and the counterfactual when wanted) at the current time. */
sk_status sk__session_start_controller(sk_session *s, sk_run_mode mode, char *err, size_t errlen) {
  sk_status st;
  if (!s->cf && s->want_cf != 0) {
    if ((st = sk_twin_clone(s->tw, &s->cf)) != SK_OK) {
      sk_errf(err, errlen, "counterfactual twin: %s", sk_status_message(st));
      return st;
    }
    set_cf_sinks(s);
  }
  if ((st = sk_controller_create(&s->ctl, s->sc,
                                 mode == SK_RUN_CLOSED_LOOP ? SK_MODE_CLOSED_LOOP : SK_MODE_ADVISORY,
                                 s->ims, err, errlen)) != SK_OK)
    return st;
  sk_controller_start_at(s->ctl, sk_twin_now(s->tw));
  sk_controller_set_threads(s->ctl, s->threads);
  sk_controller_sinks cs = {action_sink, monitor_sink, s};
  sk_controller_set_sinks(s->ctl, &cs);
  return SK_OK;
}

/* ---- the counterfactual's worker ----------------------------------------------------- */

static void *cf_worker(void *arg) {
  sk_session *s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->cf_job && !s->cf_quit)
      pthread_cond_wait(&s->cf_go, &s->mu);
    if (s->cf_quit)
      break;
    sk_time_ns until = s->cf_until;
    pthread_mutex_unlock(&s->mu);
    sk_twin_run_until(s->cf, until); /* its status: sk_twin_status, read by advance() */
    pthread_mutex_lock(&s->mu);
    s->cf_job = 0;
    pthread_cond_signal(&s->cf_done);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* Both twins to t: the counterfactual on the worker when there is one.  A twin's failure
 * (its sticky status) becomes the session's. */
static void advance(sk_session *s, sk_time_ns t) {
  sk_status st_tw, st_cf = SK_OK;
  if (s->cf && s->threads >= 2 && !s->cf_thread)
    s->cf_thread = pthread_create(&s->cf_th, NULL, cf_worker, s) == 0;
  if (s->cf && s->cf_thread) {
    pthread_mutex_lock(&s->mu);
    s->cf_until = t;
    s->cf_job = 1;
    pthread_cond_signal(&s->cf_go);
    pthread_mutex_unlock(&s->mu);
    st_tw = sk_twin_run_until(s->tw, t);
    pthread_mutex_lock(&s->mu);
    while (s->cf_job)
      pthread_cond_wait(&s->cf_done, &s->mu);
    pthread_mutex_unlock(&s->mu);
    st_cf = sk_twin_status(s->cf);
  } else {
    st_tw = sk_twin_run_until(s->tw, t);
    if (s->cf)
      st_cf = sk_twin_run_until(s->cf, t);
  }
  if (st_tw != SK_OK)
    sk__session_fail(s, st_tw, "twin at %.3f s: %s", (double)t * 1e-9, sk_status_message(st_tw));
  if (st_cf != SK_OK)
    sk__session_fail(s, st_cf, "counterfactual twin at %.3f s: %s", (double)t * 1e-9,
         sk_status_message(st_cf));
}

sk_status sk_session_step_until(sk_session *s, sk_time_ns t_ns) {
  sk_time_ns end = sk_twin_end(s->tw);
  if (t_ns > end)
    t_ns = end;
  while (s->st == SK_OK && sk_twin_now(s->tw) < t_ns) {
    sk_time_ns now = sk_twin_now(s->tw);
    sk_time_ns next = (now / s->fast_ns + 1) * s->fast_ns; /* stop at every boundary */
    if (next > t_ns)
      next = t_ns;
    advance(s, next);
    if (next % s->fast_ns != 0)
      continue;
    sk__session_apply_due(s);
    if (s->ctl && s->mode != SK_RUN_OFF && s->st == SK_OK) {
      sk_status st = sk_controller_step(s->ctl, s->tw, s->cf);
      if (st != SK_OK)
        sk__session_fail(s, st, "controller at %.3f s: %s", (double)next * 1e-9, sk_status_message(st));
    }
  }
  return s->st;
}

int sk_session_done(const sk_session *s) {
  return s->st != SK_OK || sk_twin_now(s->tw) >= sk_twin_end(s->tw);
}

sk_time_ns sk_session_now(const sk_session *s) {
  return sk_twin_now(s->tw);
}

sk_time_ns sk_session_end(const sk_session *s) {
  return sk_twin_end(s->tw);
}

sk_status sk_session_status(const sk_session *s) {
  return s->st;
}

const char *sk_session_error(const sk_session *s) {
  return s->err;
}

const sk_scenario *sk_session_scenario(const sk_session *s) {
  return s->sc;
}

const sk_trace *sk_session_trace(const sk_session *s) {
  return s->sc->trace_csv[0] ? &s->trace : NULL;
}

sk_status sk_session_flush(sk_session *s) {
  if (s->rec && s->st == SK_OK) {
    sk_status st = sk_recorder_flush(s->rec);
    if (st != SK_OK)
      sk__session_fail(s, st, "recording: %s", sk_recorder_error(s->rec));
  }
  if (s->audit)
    fflush(s->audit);
  return s->st;
}

/* ---- reading ------------------------------------------------------------------------- */

static void levers_get(const sk_twin *tw, int n_rows, sk_session_levers *o) {
  o->n_rows = n_rows;
  for (int r = 0; r < n_rows; r++) {
    o->crah_fan_pct[r] = sk_twin_lever(tw, SK_ACT_CRAH_FAN, r);
    o->supply_setpoint_c[r] = sk_twin_lever(tw, SK_ACT_SUPPLY_TEMP, r);
  }
  o->pump_pct = sk_twin_lever(tw, SK_ACT_PUMP_SPEED, -1);
  o->chw_setpoint_c = sk_twin_lever(tw, SK_ACT_CHW_TEMP, -1);
  o->batch_window_ms = sk_twin_lever(tw, SK_ACT_BATCH_WINDOW, -1);
  o->gpu_cap_w = sk_twin_lever(tw, SK_ACT_GPU_CAP, -1);
}

/* Wh/prompt with the run's stored cold charged to it. */
static double net_wh_per_prompt(const sk_summary *x) {
  return x->prompts_completed > 0
             ? (x->facility_kwh + x->stored_cold_kwh) * 1000.0 / x->prompts_completed
             : NAN;
}

void sk_session_summary_get(const sk_session *s, sk_session_summary *out) {
  memset(out, 0, sizeof *out);
  sk_twin_summary(s->tw, &out->run);
  levers_get(s->tw, out->run.n_rows, &out->levers);
  out->energy_saved_pct = out->energy_saved_net_pct = NAN;
  if (s->cf) {
    out->have_cf = 1;
    sk_twin_summary(s->cf, &out->cf);
    levers_get(s->cf, out->cf.n_rows, &out->cf_levers);
    out->energy_saved_pct =
        100.0 * (out->cf.wh_per_prompt - out->run.wh_per_prompt) / out->cf.wh_per_prompt;
    double run = net_wh_per_prompt(&out->run), cf = net_wh_per_prompt(&out->cf);
    out->energy_saved_net_pct = 100.0 * (cf - run) / cf;
  }
  if (s->ctl) {
    out->have_control = 1;
    sk_controller_stats_get(s->ctl, &out->control);
  }
  out->mode = s->mode;
  out->events = sk_twin_events(s->tw);
  out->commands_applied = s->seq;
}

void sk_session_snapshot_get(const sk_session *s, sk_session_snapshot *out) {
  out->now_ns = sk_twin_now(s->tw);
  out->end_ns = sk_twin_end(s->tw);
  out->mode = s->mode;
  out->kill_switch = s->sc->settings.global_kill_switch;
  out->paused = sk_session_paused(s);
  out->speed = sk_session_speed(s);
  int n_racks, n_rows;
  const sk_rack_sample *racks = sk_twin_last_racks(s->tw, &n_racks);
  const sk_crah_sample *crahs = sk_twin_last_crahs(s->tw, &n_rows);
  out->n_racks = n_racks;
  out->n_rows = n_rows;
  out->have_sample = sk_twin_now(s->tw) >= (sk_time_ns)llround(s->sc->sample_period_s * 1e9);
  memcpy(out->racks, racks, sizeof *racks * (size_t)n_racks);
  memcpy(out->crahs, crahs, sizeof *crahs * (size_t)n_rows);
  out->room = *sk_twin_last_room(s->tw);
  out->have_monitor = s->have_monitor;
  if (s->have_monitor)
    memcpy(out->monitor, s->monitor, sizeof *s->monitor * (size_t)n_racks);
  sk_session_summary sum;
  sk_session_summary_get(s, &sum);
  out->kpis = sum.run;
  out->have_cf = sum.have_cf;
  out->cf_kpis = sum.cf;
  out->energy_saved_pct = sum.energy_saved_pct;
  out->control = sum.control;
  out->have_action = s->have_action;
  if (s->have_action)
    out->last_action = s->last_action;
  out->commands_applied = s->seq;
}

/* The /summary figures: one table, in the order the recording stores them.  r: the run,
 * c: the counterfactual (NaN without one), k: the controller's counts. */
#define CF(x) (sum->have_cf ? (x) : NAN)
#define SESSION_FIGURES(X)                                                                   \
  X("sim_time_s", "s", r->sim_s)                                                             \
  X("prompts_served", "prompts", r->prompts_completed)                                       \
  X("prompts_rejected", "prompts", r->prompts_rejected)                                      \
  X("prompts_extrapolated", "prompts", r->prompts_extrapolated)                              \
  X("prefills_extrapolated", "prefills", r->prefills_extrapolated)                           \
  X("prefix_blocks_asked", "blocks", r->prefix_blocks_asked)                                 \
  X("prefix_blocks_hit", "blocks", r->prefix_blocks_hit)                                     \
  X("prefix_hit_rate", "1", r->prefix_hit_rate)                                              \
  X("prefill_tokens_skipped", "tokens", r->prefill_tokens_skipped)                           \
  X("j_per_prompt_wh", "Wh/prompt", r->wh_per_prompt)                                        \
  X("pue", "1", r->pue)                                                                      \
  X("latency_p95_ms", "ms", r->ttft_p95_ms)                                                  \
  X("latency_p95_censored", "1", (double)r->ttft_p95_censored)                               \
  X("prompts_queued_at_end", "prompts", r->prompts_queued_at_end)                            \
  X("inlet_compliance_pct", "%", r->inlet_compliance_pct)                                    \
  X("inlet_breach_samples", "samples", r->inlet_breach_samples)                              \
  X("inlet_samples", "samples", r->inlet_samples)                                            \
  X("inlet_recommended_breach_samples", "samples", r->inlet_recommended_breach_samples)      \
  X("max_inlet_c", "degC", r->max_inlet_c)                                                   \
  X("it_kwh", "kWh", r->it_kwh)                                                              \
  X("crah_fan_kwh", "kWh", r->crah_fan_kwh)                                                  \
  X("pump_kwh", "kWh", r->pump_kwh)                                                          \
  X("chiller_kwh", "kWh", r->chiller_kwh)                                                    \
  X("tower_kwh", "kWh", r->tower_kwh)                                                        \
  X("losses_kwh", "kWh", r->losses_kwh)                                                      \
  X("misc_kwh", "kWh", r->misc_kwh)                                                          \
  X("facility_kwh", "kWh", r->facility_kwh)                                                  \
  X("chw_start_c", "degC", r->chw_start_c)                                                   \
  X("chw_end_c", "degC", r->chw_end_c)                                                       \
  X("stored_cold_kwh", "kWh", r->stored_cold_kwh)                                            \
  X("chw_overload_s", "s", r->chw_overload_s)                                                \
  X("chw_max_c", "degC", r->chw_max_c)                                                       \
  X("cf_j_per_prompt_wh", "Wh/prompt", CF(c->wh_per_prompt))                                 \
  X("cf_prompts_served", "prompts", CF(c->prompts_completed))                                \
  X("cf_it_kwh", "kWh", CF(c->it_kwh))                                                       \
  X("cf_crah_fan_kwh", "kWh", CF(c->crah_fan_kwh))                                           \
  X("cf_pump_kwh", "kWh", CF(c->pump_kwh))                                                   \
  X("cf_chiller_kwh", "kWh", CF(c->chiller_kwh))                                             \
  X("cf_tower_kwh", "kWh", CF(c->tower_kwh))                                                 \
  X("cf_losses_kwh", "kWh", CF(c->losses_kwh))                                               \
  X("cf_misc_kwh", "kWh", CF(c->misc_kwh))                                                   \
  X("cf_facility_kwh", "kWh", CF(c->facility_kwh))                                           \
  X("cf_chw_end_c", "degC", CF(c->chw_end_c))                                                \
  X("cf_stored_cold_kwh", "kWh", CF(c->stored_cold_kwh))                                     \
  X("energy_saved_pct", "%", sum->energy_saved_pct)                                          \
  X("energy_saved_net_pct", "%", sum->energy_saved_net_pct)                                  \
  X("end_crah_fan_pct_mean", "%", row_mean(sum->levers.crah_fan_pct, sum->levers.n_rows))    \
  X("end_supply_setpoint_c_mean", "degC",                                                    \
    row_mean(sum->levers.supply_setpoint_c, sum->levers.n_rows))                             \
  X("end_pump_pct", "%", sum->levers.pump_pct)                                               \
  X("end_chw_setpoint_c", "degC", sum->levers.chw_setpoint_c)                                \
  X("end_batch_window_ms", "ms", sum->levers.batch_window_ms)                                \
  X("cf_end_crah_fan_pct_mean", "%",                                                         \
    CF(row_mean(sum->cf_levers.crah_fan_pct, sum->cf_levers.n_rows)))                        \
  X("cf_end_supply_setpoint_c_mean", "degC",                                                 \
    CF(row_mean(sum->cf_levers.supply_setpoint_c, sum->cf_levers.n_rows)))                   \
  X("cf_end_pump_pct", "%", CF(sum->cf_levers.pump_pct))                                     \
  X("cf_end_chw_setpoint_c", "degC", CF(sum->cf_levers.chw_setpoint_c))                      \
  X("cf_end_batch_window_ms", "ms", CF(sum->cf_levers.batch_window_ms))                      \
  X("actions_applied", "actions", (double)k->applied)                                        \
  X("actions_rolled_back", "actions", (double)k->rolled_back)

static double row_mean(const double *x, int n) {
  double s = 0;
  for (int r = 0; r < n; r++)
    s += x[r];
  return n > 0 ? s / n : NAN;
}

size_t sk_session_figures(const sk_session_summary *sum, sk_session_figure *out, size_t max) {
  const sk_summary *r = &sum->run, *c = &sum->cf;
  const sk_controller_stats *k = &sum->control;
  size_t n = 0;
#define SESSION_FIGURE(key, unit, value)                                                     \
  if (n < max)                                                                               \
    out[n] = (sk_session_figure){key, unit, value};                                          \
  n++;
  SESSION_FIGURES(SESSION_FIGURE)
#undef SESSION_FIGURE
  return n < max ? n : max;
}
#undef CF

/* ---- the seed's demo effects ---------------------------------------------------------- */

#define N_DEMO 2
static const char *const demo_names[N_DEMO] = {"add_ai_nodes_row_c", "overcooled_row_e"};

/* The seed's demo effect `which` for the room of sc, unscheduled (its start after the
 * end); 0 when the room lacks its racks or row. */
static int demo_effect(const sk_scenario *sc, int which, sk_effect *ef) {
  memset(ef, 0, sizeof *ef);
  snprintf(ef->name, sizeof ef->name, "%s", demo_names[which]);
  ef->start_s = sc->duration_s + 1.0; /* never by the clock: by command only */
  ef->stop_s = INFINITY;
  ef->fan_speed_pct = ef->supply_setpoint_c = NAN;
  ef->factor = 1.0;
  if (which == 0) { /* heat_spike_row_c.json's */
    static const char *const racks[] = {"R-C-06", "R-C-07"};
    if (sc->n_rows < 3 || sc->racks_per_row < 7)
      return 0;
    ef->kind = SK_EFFECT_ADD_AI_NODES;
    ef->n_racks = 2;
    for (int i = 0; i < 2; i++) {
      ef->rack_index[i] = 2 * sc->racks_per_row + 5 + i;
      snprintf(ef->rack_id[i], sizeof ef->rack_id[i], "%s", racks[i]);
    }
    ef->nodes_per_rack = 1;
    ef->rate_prompts_s_per_node = 3.0;
    return 1;
  }
  if (sc->n_rows < 5) /* overcooled_row_e.json's */
    return 0;
  ef->kind = SK_EFFECT_CRAH_OVERRIDE;
  ef->row = 4;
  ef->fan_speed_pct = 95;
  ef->supply_setpoint_c = 16.0;
  return 1;
}

/* Which demo effects a command log starts or stops (a light pre-read: the log is read and
 * checked in full later). */
static void demo_effects_in_log(sk_session *s, const char *path, int want[N_DEMO]) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  unsigned char b[8];
  FILE *f = fopen(path, "rb");
  int h5 = f && fread(b, 1, 8, f) == 8 && memcmp(b, sig, 8) == 0;
  if (f)
    fclose(f);
  if (h5) { /* a recording's /commands: read here, dropped, read again with the checks */
    char err[SK_ERR_LEN];
    if (sk__session_load_log(s, path, err, sizeof err) == SK_OK)
      for (size_t i = 0; i < s->log_n; i++)
        for (int d = 0; d < N_DEMO; d++)
          want[d] |= strncmp(s->log[i].kind, "effect_", 7) == 0 &&
                     strcmp(s->log[i].key, demo_names[d]) == 0;
    free(s->log);
    s->log = NULL;
    s->log_n = 0;
    return;
  }
  f = fopen(path, "r"); /* JSON Lines */
  char *line = NULL;
  size_t cap = 0;
  while (f && getline(&line, &cap, f) >= 0) {
    cJSON *o = cJSON_Parse(line);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "key");
    for (int d = 0; d < N_DEMO; d++)
      want[d] |= cJSON_IsString(k) && cJSON_IsString(key) &&
                 strncmp(k->valuestring, "effect_", 7) == 0 &&
                 strcmp(key->valuestring, demo_names[d]) == 0;
    cJSON_Delete(o);
  }
  free(line);
  if (f)
    fclose(f);
}

/* Appends the demo effects wanted that the timeline lacks. */
static void add_demo_effects(sk_session *s, const int want[N_DEMO]) {
  sk_scenario *sc = s->sc;
  for (int d = 0; d < N_DEMO; d++) {
    int have = 0;
    for (int e = 0; e < sc->n_effects; e++)
      have |= strcmp(sc->effects[e].name, demo_names[d]) == 0;
    sk_effect ef;
    if (want[d] && !have && sc->n_effects < SK_MAX_EFFECTS && demo_effect(sc, d, &ef))
      sc->effects[sc->n_effects++] = ef;
  }
}

/* ---- create, finish, destroy --------------------------------------------------------- */

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

static sk_status open_recording_of(sk_session *s, const sk_scenario *sc,
                                   const sk_session_config *cfg, const char *mode_name, char *err,
                                   size_t errlen);

static sk_status open_recording(sk_session *s, const sk_session_config *cfg,
                                const char *mode_name, char *err, size_t errlen) {
  /* the scenario as given: the demo effects waiting beside the timeline are left out */
  sk_scenario *sc = malloc(sizeof *sc);
  if (!sc) {
    sk_errf(err, errlen, "out of memory");
    return SK_ENOMEM;
  }
  *sc = *s->sc;
  sc->n_effects = s->n_timeline;
  sk_status rc = open_recording_of(s, sc, cfg, mode_name, err, errlen);
  free(sc);
  return rc;
}

static sk_status open_recording_of(sk_session *s, const sk_scenario *sc,
                                   const sk_session_config *cfg, const char *mode_name, char *err,
                                   size_t errlen) {
  const char *path = cfg->record_path;
  struct stat st;
  if (strlen(path) >= SK_PATH_LEN) {
    sk_errf(err, errlen, "%s: path longer than %d bytes", path, SK_PATH_LEN - 1);
    return SK_EINVAL;
  }
  if (lstat(path, &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      sk_errf(err, errlen, "%s: exists and is not a regular file; it is not replaced", path);
      return SK_EINVAL;
    }
    if (!cfg->force) {
      sk_errf(err, errlen, "%s: exists; pass --force to replace it", path);
      return SK_EINVAL;
    }
  }
  snprintf(s->final_path, sizeof s->final_path, "%s", path);
  snprintf(s->part_path, sizeof s->part_path, "%s%s", path, PART_SUFFIX);
  if (lstat(s->part_path, &st) == 0) {
    sk_errf(err, errlen,
            "%s: exists: another run is writing it, or a killed run left it (remove it)",
            s->part_path);
    return SK_EINVAL;
  }
  ensure_parent(path);

  sk_status rc = SK_ENOMEM;
  char *json = sk_scenario_to_json(sc);
  char **keys = NULL, **values = NULL;
  size_t n_kv = 0;
  int n_racks = sc->n_rows * sc->racks_per_row;
  char(*ids)[8] = calloc((size_t)n_racks, 8);
  const char **id_ptrs = calloc((size_t)n_racks, sizeof *id_ptrs);
  int *rows = calloc((size_t)n_racks, sizeof *rows), *pos = calloc((size_t)n_racks, sizeof *pos);
  if (!json || !ids || !id_ptrs || !rows || !pos || sk_scenario_kv(sc, &keys, &values, &n_kv) != SK_OK)
    goto out;
  {
    char **nk = realloc(keys, (n_kv + 1) * sizeof *nk);
    if (!nk)
      goto out;
    keys = nk;
    char **nv = realloc(values, (n_kv + 1) * sizeof *nv);
    if (!nv)
      goto out;
    values = nv;
    keys[n_kv] = strdup("run.mode");
    values[n_kv] = strdup(mode_name);
    n_kv++;
    if (!keys[n_kv - 1] || !values[n_kv - 1])
      goto out;
  }
  for (int i = 0; i < n_racks; i++) {
    sk_scenario_rack_id(sc, i, ids[i]);
    id_ptrs[i] = ids[i];
    rows[i] = i / sc->racks_per_row;
    pos[i] = i % sc->racks_per_row;
  }
  sk_recorder_config rc_cfg = {s->part_path,
                               sc->name,
                               json,
                               cfg->version ? cfg->version : SKADI_VERSION,
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
  rc = sk_recorder_create(&s->rec, &rc_cfg, err, errlen);
out:
  if (rc == SK_ENOMEM)
    sk_errf(err, errlen, "%s: out of memory", path);
  free(json);
  sk_scenario_free_kv(keys, values, n_kv);
  free(ids);
  free(id_ptrs);
  free(rows);
  free(pos);
  return rc;
}

/* The settings layers: defaults < environment < .env < scenario < sets < seed, duration. */
sk_status sk_session_config_scenario(const sk_session_config *cfg, sk_scenario *sc, char *err,
                                     size_t errlen) {
  if (cfg->scenario)
    *sc = *cfg->scenario;
  else
    sk_scenario_defaults(sc);
  if (!cfg->scenario && cfg->use_env && sk_scenario_apply_env(sc, err, errlen) != SK_OK)
    return SK_EINVAL;
  if (!cfg->scenario && cfg->env_file && sk_scenario_apply_dotenv(sc, cfg->env_file, err, errlen) != SK_OK)
    return SK_EINVAL;
  if (!cfg->scenario && cfg->scenario_path && sk_scenario_load(sc, cfg->scenario_path, err, errlen) != SK_OK)
    return SK_EINVAL;
  if (!cfg->scenario && !cfg->scenario_path && cfg->scenario_json &&
      sk_scenario_parse(sc, cfg->scenario_json, strlen(cfg->scenario_json),
                        cfg->scenario_origin ? cfg->scenario_origin : "scenario", NULL, err,
                        errlen) != SK_OK)
    return SK_EINVAL;
  for (int i = 0; i < cfg->n_sets; i++)
    if (sk_scenario_set(sc, cfg->sets[i], err, errlen) != SK_OK)
      return SK_EINVAL;
  if (cfg->have_seed)
    sc->seed = cfg->seed;
  if (!isnan(cfg->duration_s))
    sc->duration_s = cfg->duration_s;
  return sk_scenario_validate(sc, err, errlen) == SK_OK ? SK_OK : SK_EINVAL;
}

sk_status sk_session_create(sk_session **out, const sk_session_config *cfg, char *err,
                            size_t errlen) {
  *out = NULL;
  sk_session *s = calloc(1, sizeof *s);
  if (!s || !(s->sc = malloc(sizeof *s->sc))) {
    free(s);
    sk_errf(err, errlen, "out of memory");
    return SK_ENOMEM;
  }
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cf_go, NULL);
  pthread_cond_init(&s->cf_done, NULL);
  s->threads = cfg->threads < 1 ? 1 : cfg->threads;
  s->want_cf = cfg->counterfactual;
  s->force = cfg->force;
  snprintf(s->source, sizeof s->source, "%s", cfg->source ? cfg->source : "api");

  sk_status st = sk_session_config_scenario(cfg, s->sc, err, errlen);
  if (st != SK_OK)
    goto fail;
  s->n_timeline = s->sc->n_effects;
  {
    int want[N_DEMO] = {cfg->demo_effects, cfg->demo_effects};
    if (cfg->commands_path)
      demo_effects_in_log(s, cfg->commands_path, want);
    add_demo_effects(s, want);
  }
  const sk_scenario *sc = s->sc;
  s->fast_ns = (sk_time_ns)llround(sc->settings.fast_loop_interval_s * 1e9);
  if (sk_run_mode_parse(cfg->mode ? cfg->mode : "off", sc, &s->mode) != SK_OK) {
    sk_errf(err, errlen, "mode: '%s' is not off, on, advisory or closed_loop", cfg->mode);
    st = SK_EINVAL;
    goto fail;
  }
  if (sc->trace_csv[0] &&
      (st = sk_trace_load_format(&s->trace, sc->trace_csv, (sk_trace_format)sc->trace_format, err,
                                 errlen)) != SK_OK) {
    st = st == SK_ENOMEM ? st : SK_EINVAL;
    goto fail;
  }
  if (sc->trace_csv[0]) /* the trace's counts obey workload.max_tokens as the draws do */
    sk_trace_clamp(&s->trace, sc->workload.max_tokens);
  if (cfg->ims_model_path) {
    char why[SK_ERR_LEN];
    if (!(s->ims = malloc(sizeof *s->ims))) {
      st = SK_ENOMEM;
      sk_errf(err, errlen, "out of memory");
      goto fail;
    }
    if ((st = sk_ims_load(s->ims, cfg->ims_model_path, NULL, 0, why, sizeof why)) != SK_OK) {
      sk_errf(err, errlen, "--ims-model: %s", why);
      st = SK_EINVAL;
      goto fail;
    }
    if (s->ims->smooth_rows > 1) { /* the twin scores each sample as it comes */
      sk_errf(err, errlen,
              "--ims-model: %s was trained on %d-row means (ims train --smooth); the twin "
              "scores single samples: train it without --smooth",
              cfg->ims_model_path, s->ims->smooth_rows);
      st = SK_EINVAL;
      goto fail;
    }
  }
  const sk_trace *trace = sc->trace_csv[0] ? &s->trace : NULL;
  if ((st = sk_twin_create(&s->tw, sc, trace, err, errlen)) != SK_OK)
    goto fail;
  s->n_racks = sc->n_rows * sc->racks_per_row;
  if (!(s->monitor = calloc((size_t)s->n_racks, sizeof *s->monitor))) {
    st = SK_ENOMEM;
    sk_errf(err, errlen, "out of memory");
    goto fail;
  }
  /* the counterfactual is built like the twin, not cloned: the same scenario and seed */
  if ((s->want_cf == 1 || (s->want_cf < 0 && s->mode != SK_RUN_OFF)) &&
      (st = sk_twin_create(&s->cf, sc, trace, err, errlen)) != SK_OK)
    goto fail;
  if (s->mode != SK_RUN_OFF && (st = sk__session_start_controller(s, s->mode, err, errlen)) != SK_OK) {
    st = st == SK_ENOMEM ? st : SK_EINVAL;
    goto fail;
  }
  if (cfg->commands_path && (st = sk__session_load_log(s, cfg->commands_path, err, errlen)) != SK_OK)
    goto fail;
  if (cfg->record_path && (st = open_recording(s, cfg, sk_run_mode_name(s->mode), err, errlen)) != SK_OK)
    goto fail;
  if (cfg->audit_path && s->mode != SK_RUN_OFF && !(s->audit = fopen(cfg->audit_path, "a"))) {
    sk_errf(err, errlen, "%s: cannot open the audit trail: %s", cfg->audit_path, strerror(errno));
    st = SK_EIO;
    goto fail;
  }
  sk_twin_sinks sinks = {sample_sink, event_sink, s};
  sk_twin_set_sinks(s->tw, &sinks);
  set_cf_sinks(s);
  *out = s;
  return SK_OK;

fail:
  if (s->rec) { /* nothing recorded yet: the part file is ours to remove */
    sk_recorder_close(s->rec);
    s->rec = NULL;
    unlink(s->part_path);
  }
  sk_session_destroy(s);
  return st;
}

sk_status sk_session_finish(sk_session *s, const sk_session_wall *wall, const char *status_text) {
  if (s->finished)
    return SK_EINVAL;
  s->finished = 1;
  if (!s->rec)
    return s->st;
  if (s->audit)
    fflush(s->audit);
  if (s->st != SK_OK) {
    sk_recorder_close(s->rec); /* keeps what the last flush wrote, under the .part name */
    s->rec = NULL;
    return s->st;
  }
  sk_session_summary sum;
  sk_session_summary_get(s, &sum);
  sk_session_figure figs[64];
  size_t n = sk_session_figures(&sum, figs, 64);
  sk_recorder_figure rf[64 + 4 * SK_MAX_ROWS];
  for (size_t i = 0; i < n; i++)
    rf[i] = (sk_recorder_figure){figs[i].key, figs[i].value, figs[i].unit};
  /* each row's fan and supply-air setpoint at the end, the run's and the counterfactual's
   * (the means above hide a row moved against the others) */
  char row_keys[4 * SK_MAX_ROWS][40];
  int nk = 0;
  const sk_session_levers *lv[2] = {&sum.levers, sum.have_cf ? &sum.cf_levers : NULL};
  for (int k = 0; k < 2; k++)
    for (int r = 0; lv[k] && r < lv[k]->n_rows && r < SK_MAX_ROWS; r++) {
      char *kf = row_keys[nk++], *ks = row_keys[nk++];
      snprintf(kf, sizeof row_keys[0], "%send_crah_fan_pct_%c", k ? "cf_" : "", 'A' + r);
      snprintf(ks, sizeof row_keys[0], "%send_supply_setpoint_c_%c", k ? "cf_" : "", 'A' + r);
      rf[n++] = (sk_recorder_figure){kf, lv[k]->crah_fan_pct[r], "%"};
      rf[n++] = (sk_recorder_figure){ks, lv[k]->supply_setpoint_c[r], "degC"};
    }
  sk_recorder_figure info[] = {
      {"wall_time_s", wall ? wall->wall_s : NAN, "s"},
      {"speedup", wall ? wall->speedup : NAN, "x"},
      {"events", (double)sum.events, "events"},
      {"peak_rss_mb", wall ? wall->peak_rss_mb : NAN, "MiB"},
  };
  sk_status st = sk_recorder_finish(s->rec, rf, n, info, sizeof info / sizeof info[0], status_text);
  /* the compressed copy failed (a full disk at finish) but the run file is complete: it
   * takes the final name like any finished recording, and the failure is still reported */
  int whole = st == SK_OK || sk_recorder_is_complete(s->rec);
  char why[sizeof s->err];
  snprintf(why, sizeof why, "%s", st == SK_OK ? "" : sk_recorder_error(s->rec));
  if (!whole)
    sk__session_fail(s, st, "recording: %s", why);
  sk_recorder_close(s->rec);
  s->rec = NULL;
  if (!whole)
    return s->st;
  /* a run that did not complete never replaces a file already there */
  struct stat sb;
  int complete = status_text && strcmp(status_text, "completed") == 0;
  if (!complete && lstat(s->final_path, &sb) == 0) {
    char stem[sizeof s->final_path];
    snprintf(stem, sizeof stem, "%s", s->final_path);
    size_t len = strlen(stem);
    if (len > 3 && strcmp(stem + len - 3, ".h5") == 0)
      stem[len - 3] = 0;
    snprintf(s->final_path, sizeof s->final_path, "%s.interrupted.h5", stem);
  }
  if (rename(s->part_path, s->final_path) != 0)
    sk__session_fail(s, SK_EIO, "%s: cannot move the recording to %s: %s", s->part_path, s->final_path,
         strerror(errno));
  else if (st != SK_OK)
    sk__session_fail(s, st, "recording: %s; moved to %s, complete and readable", why,
                     s->final_path);
  return s->st;
}

const char *sk_session_recording(const sk_session *s) {
  if (!s->final_path[0])
    return NULL;
  return s->finished || !s->rec ? s->final_path : s->part_path;
}

void sk_session_destroy(sk_session *s) {
  if (!s)
    return;
  if (s->rec && !s->finished)
    sk_session_finish(s, NULL, "interrupted");
  sk_recorder_close(s->rec);
  if (s->cf_thread) {
    pthread_mutex_lock(&s->mu);
    s->cf_quit = 1;
    pthread_cond_signal(&s->cf_go);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->cf_th, NULL);
  }
  if (s->audit)
    fclose(s->audit);
  sk_controller_destroy(s->ctl);
  sk_twin_destroy(s->cf);
  sk_twin_destroy(s->tw);
  sk_trace_fini(&s->trace);
  free(s->ims);
  free(s->monitor);
  free(s->tel_mms);
  free(s->q);
  free(s->log);
  pthread_cond_destroy(&s->cf_go);
  pthread_cond_destroy(&s->cf_done);
  pthread_mutex_destroy(&s->mu);
  free(s->sc);
  free(s);
}
