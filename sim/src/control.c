/*
 * control.c -- Measure -> Decide -> Act in the twin.
 *
 * Measure: every fast tick each rack's latest telemetry row becomes the seed's feature
 * vector; the IMS scores it (D(x), top feature) and a per-rack MMS smooths it.  Without a
 * given model the controller trains one on the run's own first control.ims_warmup_s of
 * nominal rows (the seed's nominal filter), so every run learns "normal" for its room.
 *
 * Decide, fast (guardrails, no forecasting): route traffic away from racks within 1 K of
 * INLET_MAX_C (back when 2 K below), cap per-server queues when TTFT p95 passes 90 % of
 * the SLA (lift it below 60 %), and pre-cool a row (supply -0.5 °C) when its MMS turns
 * persistent.
 *
 * Decide, slow (optimizer): each candidate lever move is tried in a what-if fork -- a
 * clone of the running twin, so the same queues, temperatures and random streams (common
 * random numbers) -- run for control.horizon_s beside an untouched fork.  The predicted
 * saving is the fork's Wh/prompt against the untouched fork's; the predicted TTFT p95 and
 * max inlet come from the same fork.  Guardrails reject a candidate predicted to break the
 * SLA or INLET_MAX_C, one that touches a device written within WRITE_RATE_LIMIT_S, or one
 * below control.min_saving_pct; the best remaining one is applied (closed_loop) or logged
 * (advisory).  No fixed "x % per unit" constants anywhere.
 *
 * Act: through sk_twin_apply (the executor seam: scheduler levers and BMS levers).
 * Realized effect: at the next slow tick, the ratio of the optimized twin's Wh/prompt to
 * the counterfactual's over the interval since the action, against the same ratio over
 * the interval before it.  An action that made things worse by more than
 * control.rollback_worse_pct, or under which the SLA or the inlet limit broke, is rolled
 * back.  Every proposal, decision, prediction and realized effect goes to the audit sink.
 *
 * Rejected: optimizing inside engine events (decisions would depend on how the runner
 * chunks time); forks without common random numbers (noise swamps sub-percent effects).
 */
#include "skadi/control.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skadi/ims_store.h"

#define MAX_CANDIDATES 64
#define MAX_FORK_THREADS 8
#define MAX_PENDING 64
#define N_DEVICES (SK_ACT_KIND_COUNT * SK_MAX_ROWS * SK_MAX_RACKS_PER_ROW)
#define ROUTE_AWAY_ON_K 1.0   /* route away when inlet > INLET_MAX_C - this */
#define ROUTE_AWAY_OFF_K 2.0  /* route back when inlet < INLET_MAX_C - this */
#define ADMIT_ON_FRAC 0.9     /* cap queues when TTFT p95 > this x SLA */
#define ADMIT_OFF_FRAC 0.6
#define ADMIT_CAP 32          /* per-server queue cap while admission control is on */
#define SLA_HEADROOM 0.85     /* optimizer candidates must keep predicted TTFT p95 below this
                                 x SLA: the admission guardrail starts at 0.9 x SLA */
#define PRECOOL_RISE_K 0.25   /* pre-cool only for persistent racks running hot: inlet at
                                 least this much above the rack's own warm-up mean */

typedef struct {
  int64_t id;
  sk_action act;             /* as applied (after the test hook, if any) */
  double applied;            /* change actually made */
  double ratio_before;       /* opt/cf Wh-per-prompt ratio over the interval before */
  double pred_saving_pct;
  sk_action_record rec;      /* the decision row, reused for realized/rollback rows */
} pending;

struct sk_controller {
  sk_scenario sc;
  sk_mode mode;
  sk_time_ns fast_ns, slow_ns, next_slow_ns;
  sk_controller_sinks sinks;

  sk_ims_model ims;
  int have_ims, ims_failed;
  int feat_idx[SK_IMS_MAX_FEATURES]; /* model feature j = rack feature feat_idx[j] */
  double *warm;              /* warm-up vectors, row-major */
  size_t warm_n, warm_cap;

  int n_racks, n_rows, rpr;
  sk_mms *mms;
  int *avoided;              /* thermal routing active per rack */
  double *warm_inlet;        /* per rack: sum of warm-up inlets, then their mean */
  double warm_ticks;
  int warm_ready;            /* warm_inlet holds means */
  int admission_on;
  int row_persistent[SK_MAX_ROWS];
  sk_monitor_record *mon;

  sk_time_ns *last_write;    /* per device (kind x target) */
  int64_t next_id;
  pending pend[MAX_PENDING];
  int n_pend;
  double last_ratio;         /* NaN until one interval has been measured */
  sk_controller_stats stats;
};

/* --- helpers ---------------------------------------------------------------------------- */

static int device_index(const sk_action *a) {
  int t = a->target < 0 ? 0 : a->target;
  return (int)a->kind * SK_MAX_ROWS * SK_MAX_RACKS_PER_ROW + t;
}

static void target_name(const sk_controller *c, const sk_action *a, char *out, size_t n) {
  if (a->kind == SK_ACT_ROUTE_AWAY)
    sk_scenario_rack_id(&c->sc, a->target, out);
  else if (a->target >= 0)
    snprintf(out, n, "row %c", 'A' + a->target);
  else
    snprintf(out, n, "room");
}

static void fill_record(sk_controller *c, sk_action_record *r, double ts, const char *loop,
                        const sk_action *a) {
  memset(r, 0, sizeof *r);
  r->ts = ts;
  r->id = c->next_id++;
  snprintf(r->loop, sizeof r->loop, "%s", loop);
  snprintf(r->action, sizeof r->action, "%s", sk_action_name(a->kind));
  target_name(c, a, r->target, sizeof r->target);
  snprintf(r->executor, sizeof r->executor, "%s", sk_action_executor(a->kind));
  snprintf(r->unit, sizeof r->unit, "%s", sk_action_unit(a->kind));
  r->delta = a->delta;
  r->pred_saving_pct = r->pred_ttft_p95_ms = r->pred_max_inlet_c = NAN;
  r->realized_saving_pct = NAN;
}

static void emit(sk_controller *c, sk_action_record *r, const char *decision, const char *reason) {
  snprintf(r->decision, sizeof r->decision, "%s", decision);
  snprintf(r->reason, sizeof r->reason, "%s", reason);
  if (strcmp(decision, "applied") == 0)
    c->stats.applied++;
  else if (strcmp(decision, "advised") == 0)
    c->stats.advised++;
  else if (strcmp(decision, "rejected") == 0)
    c->stats.rejected++;
  else if (strcmp(decision, "rolled_back") == 0)
    c->stats.rolled_back++;
  if (c->sinks.on_action)
    c->sinks.on_action(c->sinks.ud, r);
}

static int rate_limited(const sk_controller *c, const sk_action *a, sk_time_ns now) {
  sk_time_ns lim = (sk_time_ns)llround(c->sc.settings.write_rate_limit_s * 1e9);
  return now - c->last_write[device_index(a)] < lim;
}

/* Applies (closed loop) or advises one decided action; returns 1 if applied. */
static int act(sk_controller *c, sk_twin *opt, sk_action_record *r, const sk_action *a,
               const char *why, double *applied) {
  sk_time_ns now = sk_twin_now(opt);
  *applied = 0;
  if (c->mode != SK_MODE_CLOSED_LOOP) {
    emit(c, r, "advised", why);
    return 0;
  }
  if (sk_twin_apply(opt, a, applied) != SK_OK) {
    emit(c, r, "rejected", "executor refused the target");
    return 0;
  }
  c->last_write[device_index(a)] = now;
  emit(c, r, "applied", why);
  return 1;
}

static void start_mms(sk_controller *c);

/* --- construction ------------------------------------------------------------------------- */

sk_status sk_controller_create(sk_controller **out, const sk_scenario *sc, sk_mode mode,
                               const sk_ims_model *ims, char *err, size_t errlen) {
  *out = NULL;
  sk_controller *c = calloc(1, sizeof *c);
  if (!c) {
    sk_errf(err, errlen, "out of memory");
    return SK_ENOMEM;
  }
  c->sc = *sc;
  c->mode = mode;
  c->n_rows = sc->n_rows;
  c->rpr = sc->racks_per_row;
  c->n_racks = c->n_rows * c->rpr;
  c->fast_ns = (sk_time_ns)llround(sc->settings.fast_loop_interval_s * 1e9);
  c->slow_ns = (sk_time_ns)llround(sc->settings.slow_loop_interval_s * 1e9);
  c->next_slow_ns = c->slow_ns;
  c->mms = calloc((size_t)c->n_racks, sizeof *c->mms);
  c->avoided = calloc((size_t)c->n_racks, sizeof *c->avoided);
  c->mon = calloc((size_t)c->n_racks, sizeof *c->mon);
  c->warm_inlet = calloc((size_t)c->n_racks, sizeof *c->warm_inlet);
  c->last_write = malloc(sizeof *c->last_write * N_DEVICES);
  if (!c->mms || !c->avoided || !c->mon || !c->warm_inlet || !c->last_write) {
    sk_controller_destroy(c);
    sk_errf(err, errlen, "out of memory");
    return SK_ENOMEM;
  }
  for (int i = 0; i < N_DEVICES; i++)
    c->last_write[i] = INT64_MIN / 2;
  c->last_ratio = NAN;
  c->next_id = 1;
  if (ims) {
    for (int j = 0; j < ims->n_features; j++) {
      c->feat_idx[j] = sk_ims_rack_feature_index(ims->feature[j]);
      if (c->feat_idx[j] < 0) {
        sk_errf(err, errlen, "IMS model feature \"%s\" is not a rack feature the twin measures",
                ims->feature[j]);
        sk_controller_destroy(c);
        return SK_EINVAL;
      }
    }
    c->ims = *ims;
    c->have_ims = 1;
    start_mms(c);
  }
  *out = c;
  return SK_OK;
}

void sk_controller_destroy(sk_controller *c) {
  if (!c)
    return;
  free(c->warm);
  free(c->mms);
  free(c->avoided);
  free(c->mon);
  free(c->warm_inlet);
  free(c->last_write);
  free(c);
}

void sk_controller_set_sinks(sk_controller *c, const sk_controller_sinks *s) {
  c->sinks = *s;
}

sk_time_ns sk_controller_interval(const sk_controller *c) {
  return c->fast_ns;
}

void sk_controller_stats_get(const sk_controller *c, sk_controller_stats *out) {
  *out = c->stats;
  out->ims_trained = c->have_ims;
  int n = 0;
  for (int i = 0; i < c->n_racks; i++)
    n += c->have_ims && c->mms[i].state == SK_MMS_PERSISTENT;
  out->persistent_racks = n;
}

const sk_ims_model *sk_controller_ims(const sk_controller *c) {
  return c->have_ims ? &c->ims : NULL;
}

/* --- measure ------------------------------------------------------------------------------ */

static void start_mms(sk_controller *c) {
  for (int i = 0; i < c->n_racks; i++)
    sk_mms_init(&c->mms[i], c->sc.settings.mms_ema_alpha, c->sc.settings.mms_persist_ticks,
                c->ims.tau_fast, c->ims.tau_persist);
}

static void warmup_collect(sk_controller *c, const sk_rack_sample *rows, double period_s) {
  const sk_server_params *sp = &c->sc.server;
  double idle = sk_ims_server_idle_kw(sp->gpus, sp->gpu_idle_w, sp->host_idle_w, sp->fan_base_w,
                                      sp->psu_eff);
  const sk_settings *st = &c->sc.settings;
  for (int i = 0; i < c->n_racks; i++) {
    double v[SK_IMS_N_RACK_FEATURES];
    sk_ims_rack_vector(&rows[i], period_s, v);
    if (!sk_ims_nominal_rack(v, st->inlet_max_c, st->sla_latency_ms, idle * rows[i].n_servers,
                             st->rack_kw_cap))
      continue;
    /* the filter lets a NaN latency through (no requests); training needs numbers */
    int finite = 1;
    for (int j = 0; j < SK_IMS_N_RACK_FEATURES; j++)
      finite &= isfinite(v[j]);
    if (!finite)
      continue;
    if (c->warm_n == c->warm_cap) {
      size_t cap = c->warm_cap ? c->warm_cap * 2 : 4096;
      double *w = realloc(c->warm, cap * SK_IMS_N_RACK_FEATURES * sizeof *w);
      if (!w)
        return; /* train on what we have */
      c->warm = w;
      c->warm_cap = cap;
    }
    memcpy(c->warm + c->warm_n * SK_IMS_N_RACK_FEATURES, v, sizeof v);
    c->warm_n++;
  }
}

/* A feature that never moved during the warm-up (a fixed fan or pump speed) says nothing
 * about nominal variation and cannot be z-scored: it is left out of the model. */
static void warmup_train(sk_controller *c, double t_s) {
  const int D = SK_IMS_N_RACK_FEATURES;
  const char *names[SK_IMS_N_RACK_FEATURES];
  int d = 0;
  char dropped[96] = "";
  for (int j = 0; j < D; j++) {
    if (!sk_ims_feature_is_constant(c->warm, c->warm_n, D, j, NULL, NULL)) {
      c->feat_idx[d] = j;
      names[d++] = sk_ims_rack_feature_name(j);
    } else {
      size_t used = strlen(dropped);
      snprintf(dropped + used, sizeof dropped - used, "%s%s", used ? "," : "",
               sk_ims_rack_feature_name(j));
    }
  }
  for (size_t i = 0; i < c->warm_n; i++) /* compact the rows in place to the kept features */
    for (int k = 0; k < d; k++)
      c->warm[i * (size_t)d + (size_t)k] = c->warm[i * D + c->feat_idx[k]];
  sk_ims_train_params p = {c->sc.control.ims_clusters, c->sc.settings.ims_tau_fast_percentile,
                           c->sc.settings.ims_tau_persist_percentile, c->sc.seed, 100};
  char err[256];
  sk_action_record r;
  sk_action none = {SK_ACT_KIND_COUNT, -1, 0};
  fill_record(c, &r, t_s, "fast", &none);
  snprintf(r.action, sizeof r.action, "ims_train");
  if (d > 0 && sk_ims_train(&c->ims, &p, c->warm, c->warm_n, d, names, 0, t_s, err,
                            sizeof err) == SK_OK) {
    c->have_ims = 1;
    start_mms(c);
    snprintf(err, sizeof err, "%zu nominal rows, %d features (constant, left out: %s)", c->warm_n,
             d, dropped[0] ? dropped : "none");
    emit(c, &r, "trained", err);
  } else {
    if (d == 0)
      snprintf(err, sizeof err, "no feature varied during the warm-up");
    c->ims_failed = 1;
    emit(c, &r, "failed", err);
  }
  free(c->warm);
  c->warm = NULL;
  c->warm_n = c->warm_cap = 0;
}

static void monitor(sk_controller *c, sk_twin *opt) {
  int n;
  const sk_rack_sample *rows = sk_twin_last_racks(opt, &n);
  double t_s = (double)sk_twin_now(opt) * 1e-9;
  double period = c->sc.sample_period_s;
  /* The warm-up: the room settles from its cold start, each rack's reference inlet is
   * averaged, and (without a given model) the IMS collects its nominal training rows.
   * No guardrail or optimizer acts before it ends. */
  if (!c->warm_ready) {
    if (t_s <= c->sc.control.ims_warmup_s) {
      for (int i = 0; i < n; i++)
        c->warm_inlet[i] += rows[i].inlet_c;
      c->warm_ticks += 1;
      if (!c->have_ims && !c->ims_failed)
        warmup_collect(c, rows, period);
    } else {
      for (int i = 0; i < n; i++)
        c->warm_inlet[i] = c->warm_ticks > 0 ? c->warm_inlet[i] / c->warm_ticks : rows[i].inlet_c;
      c->warm_ready = 1;
      if (!c->have_ims && !c->ims_failed)
        warmup_train(c, t_s);
    }
  }
  if (!c->have_ims)
    return;
  int was[SK_MAX_ROWS] = {0}; /* rows with a persistent, hot rack at the previous tick */
  for (int r = 0; r < c->n_rows; r++)
    was[r] = c->row_persistent[r];
  memset(c->row_persistent, 0, sizeof c->row_persistent);
  for (int i = 0; i < n; i++) {
    double all[SK_IMS_N_RACK_FEATURES], v[SK_IMS_MAX_FEATURES], contrib[SK_IMS_MAX_FEATURES];
    sk_ims_rack_vector(&rows[i], period, all);
    for (int j = 0; j < c->ims.n_features; j++)
      v[j] = all[c->feat_idx[j]];
    double d = sk_ims_score(&c->ims, v, contrib, NULL);
    sk_mms_state st = sk_mms_tick(&c->mms[i], d);
    int top = sk_ims_top_feature(&c->ims, contrib);
    sk_monitor_record *m = &c->mon[i];
    m->ts = t_s;
    memcpy(m->rack_id, rows[i].rack_id, sizeof m->rack_id);
    m->deviation = d;
    m->ema = c->mms[i].ema;
    m->state = (int32_t)st;
    snprintf(m->top_feature, sizeof m->top_feature, "%s", top >= 0 ? c->ims.feature[top] : "");
    int hot = rows[i].inlet_c - c->warm_inlet[i] > PRECOOL_RISE_K;
    if (st == SK_MMS_PERSISTENT && hot)
      c->row_persistent[i / c->rpr] = 1;
  }
  if (c->sinks.on_monitor)
    c->sinks.on_monitor(c->sinks.ud, c->mon, n);
  /* remember which rows just turned persistent (for the pre-cool guardrail) */
  for (int r = 0; r < c->n_rows; r++)
    c->row_persistent[r] = c->row_persistent[r] ? (was[r] ? 1 : 2) : 0;
}

/* --- fast guardrail loop -------------------------------------------------------------------- */

static void guard(sk_controller *c, sk_twin *opt, const sk_action *a, const char *why) {
  double t_s = (double)sk_twin_now(opt) * 1e-9, applied;
  sk_action_record r;
  fill_record(c, &r, t_s, "fast", a);
  c->stats.proposals++;
  if (a->kind == SK_ACT_SUPPLY_TEMP && rate_limited(c, a, sk_twin_now(opt))) {
    emit(c, &r, "rejected", "rate limit: device written within WRITE_RATE_LIMIT_S");
    return;
  }
  act(c, opt, &r, a, why, &applied);
}

static void fast_loop(sk_controller *c, sk_twin *opt) {
  int n;
  const sk_rack_sample *rows = sk_twin_last_racks(opt, &n);
  const sk_settings *st = &c->sc.settings;
  char why[112];
  for (int i = 0; i < n; i++) {
    if (!c->avoided[i] && rows[i].inlet_c > st->inlet_max_c - ROUTE_AWAY_ON_K) {
      c->avoided[i] = 1;
      snprintf(why, sizeof why, "inlet %.2f C within %.1f K of INLET_MAX_C", rows[i].inlet_c,
               ROUTE_AWAY_ON_K);
      sk_action a = {SK_ACT_ROUTE_AWAY, i, -0.5};
      guard(c, opt, &a, why);
    } else if (c->avoided[i] && rows[i].inlet_c < st->inlet_max_c - ROUTE_AWAY_OFF_K) {
      c->avoided[i] = 0;
      snprintf(why, sizeof why, "inlet %.2f C back below INLET_MAX_C - %.1f K", rows[i].inlet_c,
               ROUTE_AWAY_OFF_K);
      sk_action a = {SK_ACT_ROUTE_AWAY, i, 0.5};
      guard(c, opt, &a, why);
    }
  }
  double p95 = sk_twin_last_room(opt)->latency_p95_ms;
  if (!c->admission_on && isfinite(p95) && p95 > ADMIT_ON_FRAC * st->sla_latency_ms) {
    c->admission_on = 1;
    snprintf(why, sizeof why, "TTFT p95 %.0f ms above %.0f %% of the SLA", p95,
             100 * ADMIT_ON_FRAC);
    sk_action a = {SK_ACT_ADMISSION, -1, ADMIT_CAP - sk_twin_lever(opt, SK_ACT_ADMISSION, -1)};
    guard(c, opt, &a, why);
  } else if (c->admission_on && isfinite(p95) && p95 < ADMIT_OFF_FRAC * st->sla_latency_ms) {
    c->admission_on = 0;
    snprintf(why, sizeof why, "TTFT p95 %.0f ms back below %.0f %% of the SLA", p95,
             100 * ADMIT_OFF_FRAC);
    sk_action a = {SK_ACT_ADMISSION, -1, 1e9};
    guard(c, opt, &a, why);
  }
  for (int r = 0; r < c->n_rows; r++)
    if (c->row_persistent[r] == 2) {
      snprintf(why, sizeof why, "MMS persistent and inlets hot in row %c: pre-cool", 'A' + r);
      sk_action a = {SK_ACT_SUPPLY_TEMP, r, -0.5};
      guard(c, opt, &a, why);
    }
}

/* --- slow optimizer loop ---------------------------------------------------------------------- */

typedef struct {
  double whpp, p95, max_inlet;
  int ok;
} forecast;

static void run_fork(const sk_twin *opt, const sk_action *a, double horizon_s, forecast *f) {
  sk_twin *fk = NULL;
  f->ok = 0;
  if (sk_twin_clone(opt, &fk) != SK_OK)
    return;
  if (a && sk_twin_apply(fk, a, NULL) != SK_OK) {
    sk_twin_destroy(fk);
    return;
  }
  sk_twin_probe_reset(fk);
  sk_twin_run_until(fk, sk_twin_now(fk) + (sk_time_ns)llround(horizon_s * 1e9));
  sk_twin_probe pr;
  sk_twin_probe_get(fk, &pr);
  sk_twin_destroy(fk);
  if (pr.prompts_completed <= 0)
    return;
  f->whpp = pr.facility_j / 3600.0 / pr.prompts_completed;
  f->p95 = pr.ttft_p95_ms;
  f->max_inlet = pr.max_inlet_c;
  f->ok = 1;
}

/* Forks of one slow tick, spread over the machine's cores.  Each job only reads the
 * running twin (sk_twin_clone takes a const source) and writes its own slot, so the
 * result is the same whichever thread runs which fork. */
typedef struct {
  const sk_twin *opt;
  const sk_action *list; /* n actions; slot i uses list[i], or none for an untouched fork */
  const int *kind;       /* per slot: 0 skip, 1 fork with the action, 2 untouched fork */
  int n, stride, first;
  double horizon_s;
  forecast *fc;
} fork_job;

static void *fork_worker(void *arg) {
  fork_job *j = arg;
  for (int i = j->first; i < j->n; i += j->stride)
    if (j->kind[i])
      run_fork(j->opt, j->kind[i] == 2 ? NULL : &j->list[i], j->horizon_s, &j->fc[i]);
  return NULL;
}

static void run_forks(const sk_twin *opt, const sk_action *list, const int *kind, int n,
                      double horizon_s, forecast *fc) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int t = cores < 1 ? 1 : (cores > MAX_FORK_THREADS ? MAX_FORK_THREADS : (int)cores);
  fork_job jobs[MAX_FORK_THREADS];
  pthread_t th[MAX_FORK_THREADS];
  int started[MAX_FORK_THREADS] = {0};
  for (int k = 0; k < t; k++) {
    jobs[k] = (fork_job){opt, list, kind, n, t, k, horizon_s, fc};
    if (k > 0)
      started[k] = pthread_create(&th[k], NULL, fork_worker, &jobs[k]) == 0;
  }
  fork_worker(&jobs[0]);
  for (int k = 1; k < t; k++) {
    if (started[k])
      pthread_join(th[k], NULL);
    else
      fork_worker(&jobs[k]); /* no thread: do its share here */
  }
}

static int add(sk_action *list, int n, sk_action_kind k, int target, double delta) {
  if (n < MAX_CANDIDATES)
    list[n++] = (sk_action){k, target, delta};
  return n;
}

static int candidates(const sk_controller *c, const sk_twin *opt, sk_action *list) {
  int n = 0;
  n = add(list, n, SK_ACT_BATCH_WINDOW, -1, +10);
  n = add(list, n, SK_ACT_BATCH_WINDOW, -1, -10);
  n = add(list, n, SK_ACT_CHW_TEMP, -1, +0.5);
  n = add(list, n, SK_ACT_CHW_TEMP, -1, -0.5);
  n = add(list, n, SK_ACT_PUMP_SPEED, -1, -5);
  n = add(list, n, SK_ACT_PUMP_SPEED, -1, +5);
  int nr;
  const sk_rack_sample *rows = sk_twin_last_racks(opt, &nr);
  int hottest = 0;
  double hot = -INFINITY;
  for (int r = 0; r < c->n_rows; r++) {
    n = add(list, n, SK_ACT_CRAH_FAN, r, -5);
    n = add(list, n, SK_ACT_SUPPLY_TEMP, r, +0.5);
    double mx = -INFINITY;
    for (int k = 0; k < c->rpr; k++)
      mx = fmax(mx, rows[r * c->rpr + k].inlet_c);
    if (mx > hot) {
      hot = mx;
      hottest = r;
    }
  }
  n = add(list, n, SK_ACT_REBALANCE, hottest, -0.1);
  /* drop candidates that would not move anything (lever at its bound): no fork, no row */
  int m = 0;
  for (int i = 0; i < n; i++)
    if (sk_twin_can_move(opt, &list[i]))
      list[m++] = list[i];
  return m;
}

/* Realized effect of the actions applied at the previous slow tick; rollback if worse. */
static void evaluate(sk_controller *c, sk_twin *opt, sk_twin *cf) {
  sk_twin_probe po, pc;
  sk_twin_probe_get(opt, &po);
  sk_twin_probe_get(cf, &pc);
  double ratio = NAN;
  if (po.prompts_completed > 0 && pc.prompts_completed > 0 && pc.facility_j > 0)
    ratio = (po.facility_j / po.prompts_completed) / (pc.facility_j / pc.prompts_completed);
  const sk_settings *st = &c->sc.settings;
  double t_s = (double)sk_twin_now(opt) * 1e-9;
  for (int i = 0; i < c->n_pend; i++) {
    pending *p = &c->pend[i];
    sk_action_record r = p->rec;
    r.ts = t_s;
    double realized = NAN;
    if (isfinite(ratio) && isfinite(p->ratio_before))
      realized = 100.0 * (p->ratio_before - ratio) / p->ratio_before;
    r.realized_saving_pct = realized;
    char why[112];
    const char *bad = NULL;
    if (isfinite(po.ttft_p95_ms) && po.ttft_p95_ms > st->sla_latency_ms)
      bad = "TTFT p95 broke the SLA";
    else if (po.max_inlet_c > st->inlet_max_c)
      bad = "an inlet passed INLET_MAX_C";
    else if (isfinite(realized) && realized < -c->sc.control.rollback_worse_pct)
      bad = "realized saving worse than the rollback threshold";
    if (isfinite(realized) && isfinite(p->pred_saving_pct)) {
      c->stats.pred_abs_err_sum += fabs(p->pred_saving_pct - realized);
      c->stats.evaluated++;
    }
    snprintf(why, sizeof why, "realized %.2f %% vs counterfactual (predicted %.2f %%)", realized,
             p->pred_saving_pct);
    emit(c, &r, "realized", why);
    if (bad && p->applied != 0) {
      sk_action undo = p->act;
      undo.delta = -p->applied;
      double applied;
      sk_twin_apply(opt, &undo, &applied);
      c->last_write[device_index(&p->act)] = sk_twin_now(opt);
      snprintf(why, sizeof why, "rolled back: %s (realized %.2f %%)", bad, realized);
      r.delta = undo.delta;
      emit(c, &r, "rolled_back", why);
    }
  }
  c->n_pend = 0;
  c->last_ratio = ratio;
  sk_twin_probe_reset(opt);
  sk_twin_probe_reset(cf);
}

static void slow_loop(sk_controller *c, sk_twin *opt) {
  const sk_settings *st = &c->sc.settings;
  sk_time_ns now = sk_twin_now(opt);
  double t_s = (double)now * 1e-9;
  sk_action list[MAX_CANDIDATES + 1];
  int n = candidates(c, opt, list);
  /* slot n is the untouched fork every candidate is compared with */
  int kind[MAX_CANDIDATES + 1];
  forecast fc[MAX_CANDIDATES + 1];
  for (int i = 0; i < n; i++) {
    kind[i] = !rate_limited(c, &list[i], now);
    fc[i].ok = 0;
  }
  kind[n] = 2;
  run_forks(opt, list, kind, n + 1, c->sc.control.horizon_s, fc);
  forecast base = fc[n];
  if (!base.ok)
    return;
  int best = -1, worst = -1;
  double best_saving = -INFINITY, worst_saving = INFINITY;
  sk_action_record recs[MAX_CANDIDATES];
  const char *verdict[MAX_CANDIDATES];
  char why[MAX_CANDIDATES][112];
  for (int i = 0; i < n; i++) {
    fill_record(c, &recs[i], t_s, "slow", &list[i]);
    c->stats.proposals++;
    verdict[i] = NULL;
    if (!kind[i]) {
      verdict[i] = "rate limit: device written within WRITE_RATE_LIMIT_S";
      continue;
    }
    if (!fc[i].ok) {
      verdict[i] = "what-if fork failed";
      continue;
    }
    double saving = 100.0 * (base.whpp - fc[i].whpp) / base.whpp;
    recs[i].pred_saving_pct = saving;
    if (saving < worst_saving) {
      worst_saving = saving;
      worst = i;
    }
    recs[i].pred_ttft_p95_ms = fc[i].p95;
    recs[i].pred_max_inlet_c = fc[i].max_inlet;
    if (isfinite(fc[i].p95) && fc[i].p95 > SLA_HEADROOM * st->sla_latency_ms) {
      snprintf(why[i], sizeof why[i], "predicted TTFT p95 %.0f ms > %.0f %% of SLA %.0f ms",
               fc[i].p95, 100 * SLA_HEADROOM, st->sla_latency_ms);
      verdict[i] = why[i];
    } else if (isfinite(fc[i].p95) && isfinite(base.p95) &&
               fc[i].p95 > base.p95 * (1 + c->sc.control.max_p95_increase_pct / 100)) {
      snprintf(why[i], sizeof why[i], "predicted TTFT p95 %.0f ms is %.0f %% above %.0f ms",
               fc[i].p95, 100 * (fc[i].p95 / base.p95 - 1), base.p95);
      verdict[i] = why[i];
    } else if (fc[i].max_inlet > st->inlet_max_c) {
      snprintf(why[i], sizeof why[i], "predicted max inlet %.2f C > INLET_MAX_C %.1f C",
               fc[i].max_inlet, st->inlet_max_c);
      verdict[i] = why[i];
    } else if (saving < c->sc.control.min_saving_pct) {
      snprintf(why[i], sizeof why[i], "predicted saving %.2f %% below %.2f %%", saving,
               c->sc.control.min_saving_pct);
      verdict[i] = why[i];
    } else if (saving > best_saving) {
      best_saving = saving;
      best = i;
    }
  }
  if (c->sc.control.test_force_harmful && worst >= 0 && worst_saving < 0) {
    best = worst; /* test hook: act on the candidate predicted to hurt most */
    best_saving = worst_saving;
  }
  for (int i = 0; i < n; i++) {
    if (i == best)
      continue;
    if (!verdict[i]) {
      snprintf(why[i], sizeof why[i], "not the best candidate (%.2f %% < %.2f %%)",
               recs[i].pred_saving_pct, best_saving);
      verdict[i] = why[i];
    }
    emit(c, &recs[i], "rejected", verdict[i]);
  }
  if (best < 0)
    return;
  char reason[112];
  if (best == worst && c->sc.control.test_force_harmful)
    snprintf(reason, sizeof reason, "test hook control.test_force_harmful: worst of %d forks (%.2f %%)",
             n, best_saving);
  else
    snprintf(reason, sizeof reason,
             "best of %d what-if forks over %.0f s: %.2f %% less Wh/prompt, p95 %.0f ms", n,
             c->sc.control.horizon_s, best_saving, fc[best].p95);
  double applied;
  if (act(c, opt, &recs[best], &list[best], reason, &applied) && c->n_pend < MAX_PENDING) {
    pending *p = &c->pend[c->n_pend++];
    p->id = recs[best].id;
    p->act = list[best];
    p->applied = applied;
    p->ratio_before = c->last_ratio;
    p->pred_saving_pct = best_saving;
    p->rec = recs[best];
  }
}

sk_status sk_controller_step(sk_controller *c, sk_twin *opt, sk_twin *cf) {
  sk_time_ns now = sk_twin_now(opt);
  monitor(c, opt);
  if (c->sc.settings.global_kill_switch || !c->warm_ready)
    return SK_OK;
  fast_loop(c, opt);
  if (now >= c->next_slow_ns) {
    c->next_slow_ns = (now / c->slow_ns + 1) * c->slow_ns; /* next multiple of the period */
    if (cf)
      evaluate(c, opt, cf);
    slow_loop(c, opt);
  }
  return SK_OK;
}
