/*
 * control.c -- Measure -> Decide -> Act in the twin.
 *
 * Measure: every fast tick each rack's latest telemetry row becomes the seed's feature
 * vector; the IMS scores it (D(x), top feature) and a per-rack MMS smooths it.  Without a
 * given model the controller trains one on the run's own first control.ims_warmup_s of
 * nominal rows (the seed's nominal filter), so every run learns "normal" for its room.
 *
 * Nominal follows the cooling levers: when they move (a decision, before it is applied; a
 * guardrail, a rollback or the scenario, at the next slow tick), two forks over three
 * server thermal time constants -- the levers as they are, and put back to the warm-up's --
 * give each rack's settled inlet change the levers explain; the monitor scores inlet and
 * outlet less it, so setpoint moves are not called anomalies and a heat load still is.
 *
 * Decide, fast (guardrails, no forecasting): route traffic away from racks within 1 K of
 * INLET_MAX_C (back when 2 K below), cap per-server queues when TTFT p95 passes 90 % of
 * the SLA (lift it below 60 %), raise a CRAH fan when its tiles give less air than their
 * racks pull (airflow matching), bring supply air back onto its setpoint when the coil
 * floor rose above it (pumps or chilled water), and pre-cool a row (supply -0.5 °C, with
 * colder chilled water if the coil needs it) when its MMS is persistent and it runs hot.
 *
 * Decide, slow (optimizer): each candidate plan -- a lever move, or a chilled-water reset
 * with the supply lifts that keep it reachable -- is tried in a what-if fork: a clone of
 * the running twin, so the same queues, temperatures and random streams (common random
 * numbers), run for control.horizon_s beside an untouched fork.  The predicted saving is
 * the fork's Wh/prompt against the untouched fork's; the predicted TTFT p95, max inlet and
 * supply-air miss come from the same fork.  Guardrails reject a plan that touches a device
 * written within WRITE_RATE_LIMIT_S, that breaks the SLA headroom, the cumulative latency
 * budget, INLET_MAX_C or control.max_inlet_c, the airflow margin (control.spare_servers
 * more servers in any rack must not mix an inlet past 27 °C at the fork's end), that pushes
 * supply air off its setpoint, or that saves less than control.min_saving_pct.  The passing plans worth
 * control.min_move_saving_pct each are tried together in one more fork; the combination
 * is the decision when it keeps every guardrail and beats the best single plan, else the
 * best single plan is.  It is applied (closed_loop) or logged (advisory).  No fixed "x %
 * per unit" constants anywhere.
 *
 * Act: through sk_twin_apply (the executor seam: scheduler levers and BMS levers).
 * Realized effect: at the next slow tick, the ratio of the optimized twin's Wh/prompt to
 * the counterfactual's over the interval since the action, against the same ratio over
 * the interval before it.  A decision that made things worse by more than
 * control.rollback_worse_pct, or under which the SLA (over the interval or in a fast-tick
 * window) or the inlet limit broke, is rolled back whole.  Every proposal, decision, prediction and realized effect goes to the audit sink.
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
#include "skadi/require.h"

#define MAX_CANDIDATES (16 + 3 * SK_MAX_ROWS) /* every row's fan (fine, coarse) and supply */
#define MAX_FORK_THREADS 8
#define MAX_PENDING 4
#define MAX_PLAN (2 * SK_MAX_ROWS + 8) /* moves in one plan or decision: a reset lifts every
                                           row; putting the cooling levers back moves 2/row+2 */
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
#define PRECOOL_K 0.5         /* pre-cool lowers the row's supply setpoint by this */
#define SETPOINT_TOL_K 0.01   /* supply air this far above its setpoint misses it */
#define COIL_MARGIN_K 0.5     /* the supply-air guardrail lowers the coil floor this much
                                 below the setpoint when it speeds the pumps up */
#define COARSE 4              /* the coarse step of a cooling lever, in fine steps (the
                                 fine steps are the lever table's, levers.h) */

/* One candidate: a lead move a[0] and the companion moves that keep it feasible (a
 * chilled-water reset lifts the supply setpoints the warmer water could not reach). */
typedef struct {
  int n;
  sk_action a[MAX_PLAN];
} plan;

/* One applied decision (a single plan or a combined move), awaiting its realized effect. */
typedef struct {
  int n;
  sk_action act[MAX_PLAN];       /* as applied (after the test hook, if any) */
  double applied[MAX_PLAN];      /* change actually made */
  double share[MAX_PLAN];        /* share of the decision's saving credited to each move */
  sk_action_record rec[MAX_PLAN];/* the decision rows, reused for realized/rollback rows */
  double ratio_before;           /* opt/cf Wh-per-prompt ratio over the interval before */
  double pred_saving_pct;        /* the decision's forecast */
  double p95_rise_pct;           /* its forecast TTFT p95 rise, charged to the budget */
} pending;

struct sk_controller {
  sk_scenario sc;
  sk_mode mode;
  sk_time_ns fast_ns, slow_ns, next_slow_ns;
  sk_time_ns t0_ns;          /* sim time the controller started: its warm-up counts from it */
  int threads;               /* thread budget of the what-if forks, >= 1 */
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
  int row_persistent[SK_MAX_ROWS];/* a rack of the row is MMS-persistent and runs hot */
  int row_anomalous[SK_MAX_ROWS];/* a rack of the row is MMS-persistent (a pre-cool episode
                                    lasts until none is) */
  double *shift;             /* per rack: settled inlet change of the cooling levers as they
                                are against the levers the IMS learned under; the monitor
                                scores against nominal moved by it */
  double *settle;            /* settle_n x n_racks, K: the room's own transient after the last
                                lever change, inlet minus its settled value, per fast tick */
  int settle_n;              /* fast ticks in three (server C/G + coil) time constants */
  sk_time_ns settle_t0;      /* when that transient started */
  double design[4 * SK_MAX_ROWS];/* cooling levers at the end of the warm-up (lever_state) */
  double shift_for[4 * SK_MAX_ROWS];/* the lever state c->shift was computed for */
  int have_design;
  int in_idx, out_idx;       /* rack feature indices of inlet_c and outlet_c */
  int airflow_logged[SK_MAX_ROWS];/* this shortfall: 1 rate limit logged, 2 acted/advised */
  int coil_logged;           /* supply-air miss: 1 rate limit logged, 2 advised */
  int precooled[SK_MAX_ROWS];    /* pre-cool done (or advised) in this persistent episode */
  int precool_logged[SK_MAX_ROWS];/* a rate-limited pre-cool was logged once this episode */
  sk_monitor_record *mon;

  sk_time_ns *last_write;    /* per device (kind x target) */
  int64_t next_id;
  pending pend[MAX_PENDING];
  int n_pend;
  double last_ratio;         /* NaN until one interval has been measured */
  double win_p95_max;        /* ms, highest fast-tick TTFT p95 since the last slow tick */
  double p95_spent_pct;      /* latency budget spent: forecast p95 rises of applied moves */
  sk_controller_stats stats;
};

/* --- helpers ---------------------------------------------------------------------------- */

static int device_index(const sk_action *a) {
  int t = a->target < 0 ? 0 : a->target;
  return (int)a->kind * SK_MAX_ROWS * SK_MAX_RACKS_PER_ROW + t;
}

static void fill_record(sk_controller *c, sk_action_record *r, double ts, const char *loop,
                        const sk_action *a) {
  memset(r, 0, sizeof *r);
  r->ts = ts;
  r->id = c->next_id++;
  snprintf(r->loop, sizeof r->loop, "%s", loop);
  snprintf(r->action, sizeof r->action, "%s", sk_action_name(a->kind));
  sk_action_target_name(&c->sc, a, r->target, sizeof r->target);
  snprintf(r->executor, sizeof r->executor, "%s", sk_action_executor(a->kind));
  snprintf(r->unit, sizeof r->unit, "%s", sk_action_unit(a->kind));
  r->delta = a->delta;
  r->pred_saving_pct = r->pred_ttft_p95_ms = r->pred_max_inlet_c = NAN;
  r->realized_saving_pct = NAN;
}

static const char *const DECISION_NAME[SK_DECISION_COUNT] = {
#define SK_DECISION_FIELD(id, name) name,
    SK_DECISIONS(SK_DECISION_FIELD)
#undef SK_DECISION_FIELD
};

/* every name fits sk_action_record.decision with its NUL */
#define SK_DECISION_FITS(id, name)                                                         \
  _Static_assert(sizeof name <= sizeof((sk_action_record *)0)->decision,                  \
                 "decision name too long for sk_action_record.decision: " name);
SK_DECISIONS(SK_DECISION_FITS)
#undef SK_DECISION_FITS

const char *sk_decision_name(sk_decision d) {
  SK_REQUIRE((unsigned)d < SK_DECISION_COUNT);
  return DECISION_NAME[d];
}

sk_status sk_decision_parse(const char *name, sk_decision *out) {
  for (int d = 0; d < SK_DECISION_COUNT; d++)
    if (strcmp(name, DECISION_NAME[d]) == 0) {
      *out = (sk_decision)d;
      return SK_OK;
    }
  return SK_ENOTFOUND;
}

/* Logs a decision and counts it.  A proposal is one action put to a decision, so it is
 * counted here, with the decision it got, and nowhere else: proposals = applied + advised
 * + rejected holds by construction (docs/REPORT.md; it counts the /actions rows the same
 * way).  One audit row each: a slow-tick candidate, every move of a chosen plan (the
 * supply lift that comes with a chilled-water reset is a move of its own), a guardrail
 * write. */
static void emit(sk_controller *c, sk_action_record *r, sk_decision d, const char *reason) {
  snprintf(r->decision, sizeof r->decision, "%s", sk_decision_name(d));
  /* a longer reason is cut to the field (the precision says so to the compiler) */
  snprintf(r->reason, sizeof r->reason, "%.*s", (int)sizeof r->reason - 1, reason);
  switch (d) {
  case SK_DECISION_APPLIED:
    c->stats.proposals++;
    c->stats.applied++;
    break;
  case SK_DECISION_ADVISED:
    c->stats.proposals++;
    c->stats.advised++;
    break;
  case SK_DECISION_REJECTED:
    c->stats.proposals++;
    c->stats.rejected++;
    break;
  case SK_DECISION_ROLLED_BACK:
    c->stats.rolled_back++;
    break;
  case SK_DECISION_REALIZED: /* evaluate() counts the evaluated ones */
  case SK_DECISION_TRAINED:
  case SK_DECISION_FAILED:
  case SK_DECISION_COUNT:
    break;
  }
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
    emit(c, r, SK_DECISION_ADVISED, why);
    return 0;
  }
  if (sk_twin_apply(opt, a, applied) != SK_OK) {
    emit(c, r, SK_DECISION_REJECTED, "executor refused the target");
    return 0;
  }
  c->last_write[device_index(a)] = now;
  emit(c, r, SK_DECISION_APPLIED, why);
  return 1;
}

static void start_mms(sk_controller *c);
static int lever_state(const sk_controller *c, const sk_twin *tw, double *v);

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
  c->threads = 1;
  c->mms = calloc((size_t)c->n_racks, sizeof *c->mms);
  c->avoided = calloc((size_t)c->n_racks, sizeof *c->avoided);
  c->mon = calloc((size_t)c->n_racks, sizeof *c->mon);
  c->warm_inlet = calloc((size_t)c->n_racks, sizeof *c->warm_inlet);
  c->last_write = malloc(sizeof *c->last_write * N_DEVICES);
  c->shift = calloc((size_t)c->n_racks, sizeof *c->shift);
  {
    const sk_server_params *sp = &sc->server;
    double tau_s = sp->heat_capacity_j_per_k / (sc->room.rho_cp_j_per_m3k * sp->airflow_m3s);
    /* A settle watched past the run's end (or past an hour in a short run) is never
     * seen: the cap keeps a tiny airflow or a huge capacitance at the ends of their
     * ranges (tau of 1e300 s) from asking for an endless trajectory -- it was an
     * "out of memory" (or an int overflow).  Normal rooms (3 tau ~ 14 min) are under it. */
    /* the supply air reaches a moved setpoint after the coil's lag too (room.coil_tau_s):
     * without it the fork put back to the warm-up's levers is still on its way, and the
     * shift it gives falls short by what the coil has left to go */
    tau_s += sc->room.coil_tau_s;
    double h = fmax(sc->control.horizon_s, fmin(3.0 * tau_s, fmax(sc->duration_s, 3600.0)));
    c->settle_n = (int)ceil(h / sc->settings.fast_loop_interval_s - 1e-9);
  }
  c->settle = calloc((size_t)c->n_racks * (size_t)c->settle_n, sizeof *c->settle);
  c->in_idx = sk_ims_rack_feature_index("inlet_c");
  c->out_idx = sk_ims_rack_feature_index("outlet_c");
  if (!c->mms || !c->avoided || !c->mon || !c->warm_inlet || !c->last_write || !c->shift || !c->settle) {
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
  free(c->shift);
  free(c->settle);
  free(c);
}

void sk_controller_set_sinks(sk_controller *c, const sk_controller_sinks *s) {
  c->sinks = *s;
}

sk_time_ns sk_controller_interval(const sk_controller *c) {
  return c->fast_ns;
}

void sk_controller_start_at(sk_controller *c, sk_time_ns t0_ns) {
  c->t0_ns = t0_ns;
  c->next_slow_ns = (t0_ns / c->slow_ns + 1) * c->slow_ns;
}

void sk_controller_set_threads(sk_controller *c, int threads) {
  c->threads = threads < 1 ? 1 : threads;
}

void sk_controller_set_mode(sk_controller *c, sk_mode mode) {
  c->mode = mode;
}

int sk_controller_can_tick(const sk_controller *c, char *why, size_t whylen) {
  if (c->sc.settings.global_kill_switch) {
    snprintf(why, whylen, "the kill switch is on: the optimizer does not run");
    return 0;
  }
  if (!c->warm_ready) {
    snprintf(why, whylen, "the controller is warming up until %.0f s of sim time",
             (double)c->t0_ns * 1e-9 + c->sc.control.ims_warmup_s);
    return 0;
  }
  return 1;
}

int sk_controller_request_slow_tick(sk_controller *c, char *why, size_t whylen) {
  if (!sk_controller_can_tick(c, why, whylen))
    return 0;
  c->next_slow_ns = 0; /* due at the next step, which sets the next multiple again */
  return 1;
}

sk_mode sk_controller_mode(const sk_controller *c) {
  return c->mode;
}

void sk_controller_settings_changed(sk_controller *c, const sk_scenario *sc, sk_time_ns now) {
  c->sc.settings = sc->settings;
  c->sc.control = sc->control;
  sk_time_ns slow = (sk_time_ns)llround(sc->settings.slow_loop_interval_s * 1e9);
  if (slow != c->slow_ns) { /* the next slow tick: the new period's next multiple */
    c->slow_ns = slow;
    c->next_slow_ns = (now / slow + 1) * slow;
  }
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
    emit(c, &r, SK_DECISION_TRAINED, err);
  } else {
    if (d == 0)
      snprintf(err, sizeof err, "no feature varied during the warm-up");
    c->ims_failed = 1;
    emit(c, &r, SK_DECISION_FAILED, err);
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
    if (t_s - (double)c->t0_ns * 1e-9 <= c->sc.control.ims_warmup_s) {
      for (int i = 0; i < n; i++)
        c->warm_inlet[i] += rows[i].inlet_c;
      c->warm_ticks += 1;
      if (!c->have_ims && !c->ims_failed)
        warmup_collect(c, rows, period);
    } else {
      for (int i = 0; i < n; i++)
        c->warm_inlet[i] = c->warm_ticks > 0 ? c->warm_inlet[i] / c->warm_ticks : rows[i].inlet_c;
      c->warm_ready = 1;
      lever_state(c, opt, c->design);
      memcpy(c->shift_for, c->design, sizeof c->design);
      c->have_design = 1;
      if (!c->have_ims && !c->ims_failed)
        warmup_train(c, t_s);
    }
  }
  if (!c->have_ims)
    return;
  memset(c->row_persistent, 0, sizeof c->row_persistent);
  memset(c->row_anomalous, 0, sizeof c->row_anomalous);
  /* nominal as the cooling levers moved it: settled change plus the room's way there */
  int64_t k_settle = c->settle_t0 > 0 ? (sk_twin_now(opt) - c->settle_t0) / c->fast_ns - 1 : -1;
  if (k_settle >= c->settle_n)
    k_settle = -1;
  for (int i = 0; i < n; i++) {
    double all[SK_IMS_N_RACK_FEATURES], v[SK_IMS_MAX_FEATURES], contrib[SK_IMS_MAX_FEATURES];
    sk_ims_rack_vector(&rows[i], period, all);
    double moved = c->shift[i] + (k_settle >= 0 ? c->settle[(size_t)k_settle * (size_t)n + (size_t)i] : 0);
    if (c->in_idx >= 0)
      all[c->in_idx] -= moved;
    if (c->out_idx >= 0)
      all[c->out_idx] -= moved;
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
    int hot = rows[i].inlet_c - moved - c->warm_inlet[i] > PRECOOL_RISE_K;
    if (st == SK_MMS_PERSISTENT && hot)
      c->row_persistent[i / c->rpr] = 1;
    if (st == SK_MMS_PERSISTENT)
      c->row_anomalous[i / c->rpr] = 1;
  }
  if (c->sinks.on_monitor)
    c->sinks.on_monitor(c->sinks.ud, c->mon, n);
}

/* --- fast guardrail loop -------------------------------------------------------------------- */

static void guard(sk_controller *c, sk_twin *opt, const sk_action *a, const char *why) {
  double t_s = (double)sk_twin_now(opt) * 1e-9, applied;
  sk_action_record r;
  fill_record(c, &r, t_s, "fast", a);
  act(c, opt, &r, a, why, &applied); /* scheduler levers: no setpoint, no rate limit */
}

static void follow_levers(sk_controller *c, const sk_twin *opt, const plan *extra);

/* One setpoint write of a guardrail.  *state is the guardrail's episode: 0 clear, 1 a
 * rate-limit rejection was logged (retried silently every fast tick), 2 done for this
 * episode (advised once, or the lever is at its bound).  Acts in closed loop, advises
 * otherwise; returns 1 when it did either. */
static int guard_write(sk_controller *c, sk_twin *opt, const sk_action *a, const char *why,
                       const char *what, int *state) {
  sk_time_ns now = sk_twin_now(opt);
  double t_s = (double)now * 1e-9, applied;
  if (*state == 2)
    return 0;
  int stuck = !sk_twin_can_move(opt, a);
  if (stuck || rate_limited(c, a, now)) {
    if (*state == 0) {
      sk_action_record rec;
      char reason[112];
      snprintf(reason, sizeof reason, "%s: %s", what,
               stuck ? "the lever is at its bound"
                     : "rate limit, device written within WRITE_RATE_LIMIT_S (retried)");
      fill_record(c, &rec, t_s, "fast", a);
      emit(c, &rec, SK_DECISION_REJECTED, reason);
    }
    *state = stuck ? 2 : 1;
    return 0;
  }
  sk_action_record rec;
  fill_record(c, &rec, t_s, "fast", a);
  if (c->mode == SK_MODE_CLOSED_LOOP) /* nominal follows, from the state it changes */
    follow_levers(c, opt, &(plan){1, {*a}});
  act(c, opt, &rec, a, why, &applied);
  *state = c->mode == SK_MODE_CLOSED_LOOP ? 0 : 2;
  return 1;
}

/* Pre-cool a row whose MMS says persistent and whose racks run hot: supply -PRECOOL_K,
 * and, when the coil cannot reach that (setpoint below CHW + coil approach), the chilled
 * water as much colder as needed.  Once per episode. */
static void precool(sk_controller *c, sk_twin *opt, int r) {
  sk_action sup = {SK_ACT_SUPPLY_TEMP, r, -PRECOOL_K};
  double short_k = sk_twin_coil_floor_c(opt) - (sk_twin_lever(opt, SK_ACT_SUPPLY_TEMP, r) - PRECOOL_K);
  sk_action chw = {SK_ACT_CHW_TEMP, -1, -ceil(short_k * 100.0 - 1e-6) / 100.0};
  int need_chw = short_k > 1e-9;
  char why[112];
  snprintf(why, sizeof why, "MMS persistent and inlets hot in row %c: pre-cool", 'A' + r);
  if (need_chw && rate_limited(c, &chw, sk_twin_now(opt))) {
    guard_write(c, opt, &chw, why, "pre-cool", &c->precool_logged[r]); /* logs, retries */
    return;
  }
  if (!guard_write(c, opt, &sup, why, "pre-cool", &c->precool_logged[r]))
    return;
  c->precooled[r] = 1;
  if (need_chw) {
    int none = 0;
    snprintf(why, sizeof why, "with the pre-cool of row %c: lets its coil reach the new setpoint",
             'A' + r);
    guard_write(c, opt, &chw, why, "pre-cool", &none);
  }
}

/* m³/s the CRAH of row r must give so that no rack pulls more air than its tile gives:
 * the tiles share the CRAH air equally (thermal.c), so the rack with the most servers
 * (servers added by a scenario count) sets it.  A floor, not the margin: with
 * room.bypass_frac of the tiles' air bypassing the racks, a rack at this floor still draws
 * half its air from the hot aisle; how much recirculation the inlets can take at the
 * supply air they get is the forks' to judge (their max inlet against control.max_inlet_c). */
static double row_it_air(const sk_controller *c, const sk_rack_sample *rows, int r) {
  int most = 0;
  for (int k = 0; k < c->rpr; k++)
    if (rows[r * c->rpr + k].n_servers > most)
      most = rows[r * c->rpr + k].n_servers;
  return c->rpr * most * c->sc.server.airflow_m3s;
}

/* Airflow matching: when a row's racks pull more air than its CRAH gives (servers were
 * added, or fans run low), raise the fan at once by the shortfall, rounded up to whole
 * fan steps (the lever table's, levers.h; at most to the fan's top speed).
 * Retried every fast tick while the fan is rate-limited (logged once per shortfall). */
static void airflow_guard(sk_controller *c, sk_twin *opt, const sk_rack_sample *rows, int r) {
  double need = row_it_air(c, rows, r) / c->sc.room.crah_rated_flow_m3s * 100.0;
  double speed = sk_twin_lever(opt, SK_ACT_CRAH_FAN, r);
  const double step = SK_LEVER_STEP(CRAH_FAN), top = SK_LEVER_MAX(CRAH_FAN);
  if (speed >= need - 1e-6 || speed >= top) {
    c->airflow_logged[r] = 0;
    return;
  }
  double up = fmin(ceil((need - speed) / step - 1e-9) * step, top - speed);
  sk_action a = {SK_ACT_CRAH_FAN, r, up};
  char why[112];
  snprintf(why, sizeof why, "row %c tiles need %.2f m3/s, CRAH gives %.2f: airflow matching",
           'A' + r, row_it_air(c, rows, r), speed / 100.0 * c->sc.room.crah_rated_flow_m3s);
  guard_write(c, opt, &a, why, "airflow", &c->airflow_logged[r]);
}

/* Supply air on setpoint (the BMS's chilled-water loop): when a row's supply air misses
 * its setpoint because the coil floor rose (load grew while the pumps run slow, or the
 * water is too warm), speed the pumps up just enough when the water is short, else lower
 * the chilled-water setpoint by the miss.  Rate-limited like every setpoint write. */
static void coil_guard(sk_controller *c, sk_twin *opt) {
  int row;
  double miss = sk_twin_coil_miss_k(opt, &row);
  if (miss <= SETPOINT_TOL_K) {
    c->coil_logged = 0;
    return;
  }
  const sk_plant_params *pp = &c->sc.plant;
  double chw = sk_twin_lever(opt, SK_ACT_CHW_TEMP, -1);
  double excess = sk_twin_coil_floor_c(opt) - chw - c->sc.room.coil_approach_k;
  double pump = sk_twin_lever(opt, SK_ACT_PUMP_SPEED, -1);
  const double top = SK_LEVER_MAX(PUMP_SPEED);
  sk_action a = {SK_ACT_CHW_TEMP, -1, -ceil(miss * 100.0 - 1e-6) / 100.0};
  if (excess > miss && pump < top) { /* CHW dT = design dT x load / speed */
    double aim = fmin(miss + COIL_MARGIN_K, excess); /* margin: the load may still be rising */
    double need = pump * (pp->chw_design_dt_k + excess) / (pp->chw_design_dt_k + excess - aim);
    a = (sk_action){SK_ACT_PUMP_SPEED, -1, fmin(ceil(need - pump - 1e-9), top - pump)};
  }
  char why[112];
  snprintf(why, sizeof why, "row %c supply air %.2f K above its setpoint: %s", 'A' + row, miss,
           a.kind == SK_ACT_PUMP_SPEED ? "more chilled water" : "colder chilled water");
  guard_write(c, opt, &a, why, "supply air", &c->coil_logged);
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
      sk_action a = {SK_ACT_ROUTE_AWAY, i, -SK_LEVER_STEP(ROUTE_AWAY)};
      guard(c, opt, &a, why);
    } else if (c->avoided[i] && rows[i].inlet_c < st->inlet_max_c - ROUTE_AWAY_OFF_K) {
      c->avoided[i] = 0;
      snprintf(why, sizeof why, "inlet %.2f C back below INLET_MAX_C - %.1f K", rows[i].inlet_c,
               ROUTE_AWAY_OFF_K);
      sk_action a = {SK_ACT_ROUTE_AWAY, i, SK_LEVER_STEP(ROUTE_AWAY)};
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
    airflow_guard(c, opt, rows, r);
  coil_guard(c, opt);
  for (int r = 0; r < c->n_rows; r++) {
    if (!c->row_anomalous[r])
      c->precooled[r] = c->precool_logged[r] = 0; /* the episode is over */
    else if (c->row_persistent[r] && !c->precooled[r])
      precool(c, opt, r);
  }
}

/* --- slow optimizer loop ---------------------------------------------------------------------- */

typedef struct {
  double whpp, p95, max_inlet;
  double spare_inlet; /* °C, max inlet at once if control.spare_servers joined a rack, end */
  double missed; /* K, most any row's supply air misses its setpoint by, end of horizon */
  double *inlet; /* n_racks inlets at the end of the horizon (caller's storage) */
  double *traj;  /* if set: traj_n x n_racks inlets, one row per traj_step from the start */
  int traj_n;
  sk_time_ns traj_step;
  int ok;
} forecast;

static void run_fork(const sk_twin *opt, const plan *p, double horizon_s, double spare,
                     forecast *f) {
  sk_twin *fk = NULL;
  f->ok = 0;
  if (sk_twin_clone(opt, &fk) != SK_OK)
    return;
  sk_twin_freeze_timeline(fk);
  for (int k = 0; p && k < p->n; k++)
    if (sk_twin_apply(fk, &p->a[k], NULL) != SK_OK) {
      sk_twin_destroy(fk);
      return;
    }
  sk_twin_probe_reset(fk);
  sk_time_ns t0 = sk_twin_now(fk);
  for (int k = 1; f->traj && k <= f->traj_n; k++) { /* the trajectory, then the rest */
    if (sk_twin_run_until(fk, t0 + k * f->traj_step) != SK_OK) {
      sk_twin_destroy(fk); /* f->ok stays 0: "what-if fork failed" */
      return;
    }
    int nk;
    const sk_rack_sample *rk = sk_twin_last_racks(fk, &nk);
    for (int i = 0; i < nk; i++)
      f->traj[(size_t)(k - 1) * (size_t)nk + (size_t)i] = rk[i].inlet_c;
  }
  if (sk_twin_run_until(fk, t0 + (sk_time_ns)llround(horizon_s * 1e9)) != SK_OK) {
    sk_twin_destroy(fk);
    return;
  }
  sk_twin_probe pr;
  sk_twin_probe_get(fk, &pr);
  int miss_row;
  f->missed = sk_twin_coil_miss_k(fk, &miss_row);
  f->spare_inlet = sk_twin_spare_inlet_c(fk, spare);
  int nk;
  const sk_rack_sample *rk = sk_twin_last_racks(fk, &nk);
  for (int i = 0; f->inlet && i < nk; i++)
    f->inlet[i] = rk[i].inlet_c;
  sk_twin_destroy(fk);
  if (pr.prompts_completed <= 0)
    return;
  /* the cold the fork took from (or put into) the chilled water is charged to it: a raised
   * setpoint unloads the chillers while the loop warms, which is no saving */
  f->whpp = (pr.facility_j + pr.stored_cold_j) / 3600.0 / pr.prompts_completed;
  f->p95 = pr.ttft_p95_ms;
  f->max_inlet = pr.max_inlet_c;
  f->ok = 1;
}

/* Forks of one slow tick, spread over the machine's cores.  Each job only reads the
 * running twin (sk_twin_clone takes a const source) and writes its own slot, so the
 * result is the same whichever thread runs which fork. */
typedef struct {
  const sk_twin *opt;
  const plan *list;  /* n plans; slot i uses list[i], or none for an untouched fork */
  const int *kind;   /* per slot: 0 skip, 1 fork with the plan, 2 untouched fork */
  int n, stride, first;
  double horizon_s;
  double spare; /* control.spare_servers */
  forecast *fc;
} fork_job;

static void *fork_worker(void *arg) {
  fork_job *j = arg;
  for (int i = j->first; i < j->n; i += j->stride)
    if (j->kind[i])
      run_fork(j->opt, j->kind[i] == 2 ? NULL : &j->list[i], j->horizon_s, j->spare, &j->fc[i]);
  return NULL;
}

static void run_forks(const sk_controller *c, const sk_twin *opt, const plan *list,
                      const int *kind, int n, double horizon_s, forecast *fc) {
  int threads = c->threads;
  int t = threads < 1 ? 1 : (threads > MAX_FORK_THREADS ? MAX_FORK_THREADS : threads);
  if (t > n)
    t = n;
  fork_job jobs[MAX_FORK_THREADS];
  pthread_t th[MAX_FORK_THREADS];
  int started[MAX_FORK_THREADS] = {0};
  for (int k = 0; k < t; k++) {
    jobs[k] = (fork_job){opt, list, kind, n, t, k, horizon_s, c->sc.control.spare_servers, fc};
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

static int add(plan *list, int n, sk_action_kind k, int target, double delta) {
  if (n < MAX_CANDIDATES)
    list[n++] = (plan){1, {{k, target, delta}}};
  return n;
}

static int plan_can_move(const sk_twin *opt, const plan *p) {
  for (int k = 0; k < p->n; k++)
    if (!sk_twin_can_move(opt, &p->a[k]))
      return 0;
  return 1;
}

static int plan_rate_limited(const sk_controller *c, const plan *p, sk_time_ns now) {
  for (int k = 0; k < p->n; k++)
    if (rate_limited(c, &p->a[k], now))
      return 1;
  return 0;
}

/* Chilled-water reset: CHW +step, lifting the supply setpoint of every row that the
 * warmer water could no longer reach (setpoint below CHW + coil approach), up to
 * control.supply_max_c.  Not proposed when a row it would lift is under a pre-cool. */
static int chw_reset(const sk_controller *c, const sk_twin *opt, plan *list, int n, double step) {
  if (n >= MAX_CANDIDATES)
    return n;
  plan p = {1, {{SK_ACT_CHW_TEMP, -1, step}}};
  double floor_c = sk_twin_coil_floor_c(opt) + step;
  for (int r = 0; r < c->n_rows; r++) {
    double sp = sk_twin_lever(opt, SK_ACT_SUPPLY_TEMP, r);
    if (sp >= floor_c - 1e-9)
      continue;
    double lift = ceil((floor_c - sp) * 100.0 - 1e-6) / 100.0; /* whole 0.01 K */
    if (sp + lift > c->sc.control.supply_max_c + 1e-9 || c->row_anomalous[r] || c->precooled[r])
      return n;
    p.a[p.n++] = (sk_action){SK_ACT_SUPPLY_TEMP, r, lift};
  }
  list[n++] = p;
  return n;
}

static int candidates(const sk_controller *c, const sk_twin *opt, plan *list) {
  int n = 0;
  n = add(list, n, SK_ACT_BATCH_WINDOW, -1, +SK_LEVER_STEP(BATCH_WINDOW));
  n = add(list, n, SK_ACT_BATCH_WINDOW, -1, -SK_LEVER_STEP(BATCH_WINDOW));
  /* the cooling levers are tried in a fine and a coarse step; the forks pick */
  n = chw_reset(c, opt, list, n, SK_LEVER_STEP(CHW_TEMP));
  n = add(list, n, SK_ACT_CHW_TEMP, -1, -SK_LEVER_STEP(CHW_TEMP));
  n = add(list, n, SK_ACT_PUMP_SPEED, -1, -SK_LEVER_STEP(PUMP_SPEED));
  n = add(list, n, SK_ACT_PUMP_SPEED, -1, -COARSE * SK_LEVER_STEP(PUMP_SPEED));
  n = add(list, n, SK_ACT_PUMP_SPEED, -1, +SK_LEVER_STEP(PUMP_SPEED));
  /* a cap at or above the prefill draw binds nothing: step from where it starts to bind */
  if (c->sc.control.gpu_cap_lever) {
    double cap = sk_twin_lever(opt, SK_ACT_GPU_CAP, -1);
    double binding = fmin(cap, c->sc.server.gpu_prefill_w);
    const double step = SK_LEVER_STEP(GPU_CAP);
    n = add(list, n, SK_ACT_GPU_CAP, -1, binding - step - cap);
    if (cap < c->sc.server.gpu_prefill_w)
      n = add(list, n, SK_ACT_GPU_CAP, -1, fmin(step, c->sc.server.gpu_prefill_w - cap));
  }
  int nr;
  const sk_rack_sample *rows = sk_twin_last_racks(opt, &nr);
  int hottest = 0;
  double hot = -INFINITY;
  for (int r = 0; r < c->n_rows; r++) {
    /* airflow matching: the CRAH keeps giving at least the air its racks pull through
     * (the forks judge the recirculation above it, thermal.c) */
    double speed = sk_twin_lever(opt, SK_ACT_CRAH_FAN, r);
    double match = row_it_air(c, rows, r) / c->sc.room.crah_rated_flow_m3s * 100.0;
    double room_down = speed - match; /* % the fan may come down and still match */
    const double fan = SK_LEVER_STEP(CRAH_FAN);
    if (room_down >= fan)
      n = add(list, n, SK_ACT_CRAH_FAN, r, -fan);
    double coarse = fmin(COARSE * fan, floor(room_down / fan) * fan);
    if (coarse > fan)
      n = add(list, n, SK_ACT_CRAH_FAN, r, -coarse);
    /* back toward the design supply setpoint, for a row set colder (an over-cooled row,
     * an ended pre-cool); higher only within a chilled-water reset */
    double up = c->sc.room.supply_setpoint_c - sk_twin_lever(opt, SK_ACT_SUPPLY_TEMP, r);
    if (up > 1e-9 && !c->row_anomalous[r] && !c->precooled[r])
      n = add(list, n, SK_ACT_SUPPLY_TEMP, r, fmin(SK_LEVER_STEP(SUPPLY_TEMP), up));
    double mx = -INFINITY;
    for (int k = 0; k < c->rpr; k++)
      mx = fmax(mx, rows[r * c->rpr + k].inlet_c);
    if (mx > hot) {
      hot = mx;
      hottest = r;
    }
  }
  n = add(list, n, SK_ACT_REBALANCE, hottest, -SK_LEVER_STEP(REBALANCE));
  /* drop candidates that would not move anything (lever at its bound): no fork, no row */
  int m = 0;
  for (int i = 0; i < n; i++)
    if (plan_can_move(opt, &list[i]))
      list[m++] = list[i];
  return m;
}

/* % by which a forecast raises TTFT p95 over the untouched fork (0 if unknown). */
static double p95_rise_pct(const forecast *f, const forecast *base) {
  if (isnan(f->p95) || !isfinite(base->p95) || base->p95 <= 0)
    return 0; /* no requests, or the untouched fork already past the probe's range */
  if (isinf(f->p95))
    return INFINITY;
  return 100.0 * (f->p95 / base->p95 - 1);
}

/* Why a forecast breaks a guardrail, or NULL if it keeps them all. */
static const char *guardrail_breach(const sk_controller *c, const forecast *f,
                                    const forecast *base, char *why, size_t n) {
  const sk_settings *st = &c->sc.settings;
  if (f->p95 > SLA_HEADROOM * st->sla_latency_ms) /* +inf (past the probe) breaks it too */
    snprintf(why, n, "predicted TTFT p95 %.0f ms > %.0f %% of SLA %.0f ms", f->p95,
             100 * SLA_HEADROOM, st->sla_latency_ms);
  else if (p95_rise_pct(f, base) > 0 &&
           c->p95_spent_pct + p95_rise_pct(f, base) > c->sc.control.max_p95_increase_pct)
    snprintf(why, n, "latency budget: p95 %.0f ms is %.1f %% above %.0f ms, %.1f %% of %.1f %% spent",
             f->p95, p95_rise_pct(f, base), base->p95, c->p95_spent_pct,
             c->sc.control.max_p95_increase_pct);
  else if (f->max_inlet > st->inlet_max_c)
    snprintf(why, n, "predicted max inlet %.2f C > INLET_MAX_C %.1f C", f->max_inlet,
             st->inlet_max_c);
  else if (f->max_inlet > c->sc.control.max_inlet_c && f->max_inlet > base->max_inlet + 0.01)
    snprintf(why, n, "predicted max inlet %.2f C rises above control.max_inlet_c %.1f C",
             f->max_inlet, c->sc.control.max_inlet_c);
  else if (c->sc.control.spare_servers > 0 && f->spare_inlet > SK_ASHRAE_RECOMMENDED_MAX_C &&
           f->spare_inlet > base->spare_inlet + 0.01)
    snprintf(why, n, "airflow margin: %g more servers in a rack would mix an inlet to %.2f C "
             "> %.0f C", c->sc.control.spare_servers, f->spare_inlet,
             SK_ASHRAE_RECOMMENDED_MAX_C);
  else if (f->missed > base->missed + SETPOINT_TOL_K)
    snprintf(why, n, "predicted supply air %.2f K above its setpoint (coil floor)", f->missed);
  else
    return NULL;
  return why;
}

/* Realized effect of the moves applied at the previous slow tick; rollback if worse.
 * A combined move is one decision: its realized saving is shared among its actions in
 * proportion to their predicted shares (the same split as the prediction). */
static void evaluate(sk_controller *c, sk_twin *opt, sk_twin *cf) {
  sk_twin_probe po, pc;
  sk_twin_probe_get(opt, &po);
  sk_twin_probe_get(cf, &pc);
  double ratio = NAN;
  double eo = po.facility_j + po.stored_cold_j, ec = pc.facility_j + pc.stored_cold_j;
  if (po.prompts_completed > 0 && pc.prompts_completed > 0 && ec > 0) /* stored cold charged */
    ratio = (eo / po.prompts_completed) / (ec / pc.prompts_completed);
  const sk_settings *st = &c->sc.settings;
  double t_s = (double)sk_twin_now(opt) * 1e-9;
  for (int g = 0; g < c->n_pend; g++) {
    pending *p = &c->pend[g];
    double realized = NAN;
    if (isfinite(ratio) && isfinite(p->ratio_before))
      realized = 100.0 * (p->ratio_before - ratio) / p->ratio_before;
    const char *bad = NULL;
    if (po.ttft_p95_ms > st->sla_latency_ms) /* NaN (no requests) does not */
      bad = "TTFT p95 broke the SLA";
    else if (c->win_p95_max > st->sla_latency_ms)
      bad = "TTFT p95 broke the SLA in a fast-loop window";
    else if (po.max_inlet_c > st->inlet_max_c)
      bad = "an inlet passed INLET_MAX_C";
    else if (isfinite(realized) && realized < -c->sc.control.rollback_worse_pct)
      bad = "realized saving worse than the rollback threshold";
    char why[112];
    for (int k = 0; k < p->n; k++) {
      sk_action_record r = p->rec[k];
      r.ts = t_s;
      r.realized_saving_pct = p->share[k] > 0 ? realized * p->share[k] : NAN;
      if (isfinite(r.realized_saving_pct) && isfinite(r.pred_saving_pct)) {
        c->stats.pred_abs_err_sum += fabs(r.pred_saving_pct - r.realized_saving_pct);
        c->stats.evaluated++;
      }
      if (p->n > 1)
        snprintf(why, sizeof why,
                 "realized %.2f %% of a %d-move decision vs counterfactual (predicted %.2f %%)",
                 realized, p->n, p->pred_saving_pct);
      else
        snprintf(why, sizeof why, "realized %.2f %% vs counterfactual (predicted %.2f %%)",
                 realized, p->pred_saving_pct);
      emit(c, &r, SK_DECISION_REALIZED, why);
    }
    if (!bad)
      continue;
    c->p95_spent_pct = fmax(0.0, c->p95_spent_pct - fmax(0.0, p->p95_rise_pct));
    for (int k = p->n - 1; k >= 0; k--) { /* undo in reverse order */
      if (p->applied[k] == 0)
        continue;
      sk_action undo = p->act[k];
      undo.delta = -p->applied[k];
      double applied;
      sk_twin_apply(opt, &undo, &applied);
      c->last_write[device_index(&p->act[k])] = sk_twin_now(opt);
      sk_action_record r = p->rec[k];
      r.ts = t_s;
      r.delta = undo.delta;
      r.realized_saving_pct = p->share[k] > 0 ? realized * p->share[k] : NAN;
      snprintf(why, sizeof why, "rolled back: %s (realized %.2f %%)", bad, realized);
      emit(c, &r, SK_DECISION_ROLLED_BACK, why);
    }
  }
  c->n_pend = 0;
  c->last_ratio = ratio;
  c->win_p95_max = 0;
  /* the budget is at least what the interval measured against the counterfactual: the
   * forks' 120 s forecasts miss a latency cost that grows with the day's load */
  if (isfinite(po.ttft_p95_ms) && isfinite(pc.ttft_p95_ms) && pc.ttft_p95_ms > 0)
    c->p95_spent_pct = fmax(c->p95_spent_pct, 100.0 * (po.ttft_p95_ms / pc.ttft_p95_ms - 1));
  sk_twin_probe_reset(opt);
  sk_twin_probe_reset(cf);
}

/* The moves of plans chosen[0..nc) as one plan; 0 if they do not fit in one. */
static int concat(const plan *list, const int *chosen, int nc, plan *out) {
  out->n = 0;
  for (int j = 0; j < nc; j++)
    for (int k = 0; k < list[chosen[j]].n; k++) {
      if (out->n == MAX_PLAN)
        return 0;
      out->a[out->n++] = list[chosen[j]].a[k];
    }
  return 1;
}

/* The cooling levers that move rack inlets: each row's supply setpoint and CRAH fan, the
 * chilled-water setpoint and the pump speed (through the coil floor). */
static int lever_state(const sk_controller *c, const sk_twin *tw, double *v) {
  int n = 0;
  for (int r = 0; r < c->n_rows; r++) {
    v[n++] = sk_twin_lever(tw, SK_ACT_SUPPLY_TEMP, r);
    v[n++] = sk_twin_lever(tw, SK_ACT_CRAH_FAN, r);
  }
  v[n++] = sk_twin_lever(tw, SK_ACT_CHW_TEMP, -1);
  v[n++] = sk_twin_lever(tw, SK_ACT_PUMP_SPEED, -1);
  return n;
}

/* Moves that take tw's cooling levers to the state v (lever_state's order). */
static int moves_to(const sk_controller *c, const sk_twin *tw, const double *v, plan *out) {
  double now[4 * SK_MAX_ROWS];
  int n = lever_state(c, tw, now), k = 0;
  out->n = 0;
  if (2 * c->n_rows + 2 > MAX_PLAN)
    return 0;
  for (int r = 0; r < c->n_rows; r++, k += 2) {
    out->a[out->n++] = (sk_action){SK_ACT_SUPPLY_TEMP, r, v[k] - now[k]};
    out->a[out->n++] = (sk_action){SK_ACT_CRAH_FAN, r, v[k + 1] - now[k + 1]};
  }
  out->a[out->n++] = (sk_action){SK_ACT_CHW_TEMP, -1, v[n - 2] - now[n - 2]};
  out->a[out->n++] = (sk_action){SK_ACT_PUMP_SPEED, -1, v[n - 1] - now[n - 1]};
  return 1;
}

/* 1 if the plan moves a cooling lever (one lever_state covers). */
static int cooling(const plan *p) {
  for (int k = 0; k < p->n; k++)
    switch (p->a[k].kind) {
    case SK_ACT_SUPPLY_TEMP:
    case SK_ACT_CRAH_FAN:
    case SK_ACT_CHW_TEMP:
    case SK_ACT_PUMP_SPEED:
      return 1;
    default:
      break;
    }
  return 0;
}

/* The monitor's nominal follows the cooling levers.  Per rack, the settled inlet of the
 * running twin with `extra` applied, against the same twin with the cooling levers put
 * back where they were when the IMS learned nominal (end of the warm-up), both over three
 * server thermal time constants plus three of the coil's (the exhaust lags the inlet by
 * C/G, the supply air its setpoint by room.coil_tau_s).  A setpoint the
 * optimizer, a guardrail or the scenario moved is then no anomaly by itself, and a move
 * back cancels; a heat load nobody set still shows. */
static void follow_levers(sk_controller *c, const sk_twin *opt, const plan *extra) {
  if (!c->have_design)
    return;
  plan two[2];
  two[0] = extra ? *extra : (plan){0};
  sk_twin *probe = NULL; /* the lever state after `extra`, to aim the design fork from */
  if (sk_twin_clone(opt, &probe) != SK_OK)
    return;
  for (int k = 0; k < two[0].n; k++)
    sk_twin_apply(probe, &two[0].a[k], NULL);
  plan back;
  double after[4 * SK_MAX_ROWS];
  int ok = moves_to(c, probe, c->design, &back);
  int n_after = lever_state(c, probe, after);
  sk_twin_destroy(probe);
  if (!ok || two[0].n + back.n > MAX_PLAN)
    return;
  two[1] = two[0];
  for (int k = 0; k < back.n; k++)
    two[1].a[two[1].n++] = back.a[k];
  size_t nr = (size_t)c->n_racks;
  double *in = malloc(sizeof *in * nr * (2 + (size_t)c->settle_n));
  if (!in)
    return;
  int kind[2] = {1, 1};
  forecast f[2] = {{.inlet = in, .traj = in + 2 * nr, .traj_n = c->settle_n, .traj_step = c->fast_ns},
                   {.inlet = in + nr}};
  run_forks(c, opt, two, kind, 2, (double)c->settle_n * (double)c->fast_ns * 1e-9, f);
  if (f[0].ok && f[1].ok) {
    /* settled: the levers' inlet change; on the way there: the room's own transient */
    for (size_t i = 0; i < nr; i++)
      c->shift[i] = f[0].inlet[i] - f[1].inlet[i];
    for (int k = 0; k < c->settle_n; k++)
      for (size_t i = 0; i < nr; i++)
        c->settle[(size_t)k * nr + i] = f[0].traj[(size_t)k * nr + i] - f[0].inlet[i];
    c->settle_t0 = sk_twin_now(opt);
    memcpy(c->shift_for, after, sizeof after[0] * (size_t)n_after); /* done for this state */
  }
  free(in);
}

/* Recompute the monitor's nominal when the cooling levers moved since it was computed
 * (a guardrail, a rollback, the scenario's own overrides). */
static void follow_if_moved(sk_controller *c, const sk_twin *opt) {
  double now[4 * SK_MAX_ROWS];
  int n = lever_state(c, opt, now);
  if (c->have_design && memcmp(now, c->shift_for, sizeof now[0] * (size_t)n) != 0)
    follow_levers(c, opt, NULL);
}

/* Emits (and in closed loop applies) one decision: the plans chosen[0..nc).  Every action
 * gets its own audit row; the decision's predicted saving is split among them in
 * proportion to each plan's own forecast saving. */
static void decide(sk_controller *c, sk_twin *opt, const plan *list, const int *chosen, int nc,
                   sk_action_record *recs, const double *single, double pred, double p95_rise,
                   const char *why) {
  double sum = 0;
  for (int j = 0; j < nc; j++)
    sum += single[chosen[j]] > 0 ? single[chosen[j]] : 0;
  pending *p = c->n_pend < MAX_PENDING ? &c->pend[c->n_pend] : NULL;
  plan whole;
  if (c->mode == SK_MODE_CLOSED_LOOP && concat(list, chosen, nc, &whole) && cooling(&whole))
    follow_levers(c, opt, &whole); /* before applying: forks from the state it changes */
  if (p)
    memset(p, 0, sizeof *p);
  int any = 0;
  for (int j = 0; j < nc; j++) {
    const plan *pl = &list[chosen[j]];
    double share = nc == 1 ? 1.0 : (sum > 0 ? fmax(single[chosen[j]], 0) / sum : 1.0 / nc);
    for (int k = 0; k < pl->n; k++) {
      sk_action_record r = recs[chosen[j]];
      if (k > 0) { /* a companion move of the plan: its own row, same forecast */
        sk_action_record lead = r;
        fill_record(c, &r, lead.ts, "slow", &pl->a[k]);
        r.pred_ttft_p95_ms = lead.pred_ttft_p95_ms;
        r.pred_max_inlet_c = lead.pred_max_inlet_c;
      }
      /* the saving is the lead move's; a companion only keeps it reachable */
      double s = k == 0 ? share : 0.0;
      r.pred_saving_pct = k == 0 ? pred * s : NAN;
      char reason[112];
      if (k > 0)
        snprintf(reason, sizeof reason, "with %s %+.2f: keeps the setpoint above CHW + coil approach",
                 sk_action_name(pl->a[0].kind), pl->a[0].delta);
      else
        snprintf(reason, sizeof reason, "%s", why);
      double applied;
      int ok = act(c, opt, &r, &pl->a[k], reason, &applied);
      any |= ok;
      if (ok && p && p->n < MAX_PLAN) {
        p->act[p->n] = pl->a[k];
        p->applied[p->n] = applied;
        p->share[p->n] = s;
        p->rec[p->n] = r;
        p->n++;
      }
    }
  }
  if (any)
    c->p95_spent_pct += fmax(0.0, p95_rise); /* a forecast fall gives nothing back */
  if (p && any) {
    p->ratio_before = c->last_ratio;
    p->pred_saving_pct = pred;
    p->p95_rise_pct = p95_rise;
    c->n_pend++;
  }
}

static int devices_free(const plan *p, const unsigned char *used) {
  for (int k = 0; k < p->n; k++)
    if (used[device_index(&p->a[k])])
      return 0;
  return 1;
}

/* Combine: every passing plan worth control.min_move_saving_pct on its own, best first,
 * one per device, up to MAX_PLAN moves, tried together in one more fork.  Returns how many
 * plans (chosen[]) make the decision -- at least 2 -- when that fork keeps every guardrail,
 * saves control.min_saving_pct and beats the best single plan; else 0.  Traffic
 * rebalancing is never combined: its queueing cost builds up over more than a fork's
 * horizon when rows near capacity, so it goes alone and is judged alone. */
static int combine(sk_controller *c, const sk_twin *opt, const plan *list, int n,
                   const int *passed, const double *saving, double best_saving,
                   const forecast *base, int *chosen, forecast *joint, double *joint_saving) {
  const sk_control_params *ctl = &c->sc.control;
  int nc = 0, moves = 0;
  unsigned char used[N_DEVICES];
  memset(used, 0, sizeof used);
  for (;;) {
    int pick = -1;
    for (int i = 0; i < n; i++) {
      int taken = 0;
      for (int j = 0; j < nc; j++)
        taken |= chosen[j] == i;
      if (!taken && passed[i] && saving[i] >= ctl->min_move_saving_pct &&
          list[i].a[0].kind != SK_ACT_REBALANCE && moves + list[i].n <= MAX_PLAN &&
          devices_free(&list[i], used) && (pick < 0 || saving[i] > saving[pick]))
        pick = i;
    }
    if (pick < 0)
      break;
    chosen[nc++] = pick;
    moves += list[pick].n;
    for (int k = 0; k < list[pick].n; k++)
      used[device_index(&list[pick].a[k])] = 1;
  }
  plan all;
  if (nc < 2 || !concat(list, chosen, nc, &all))
    return 0;
  int one = 1;
  run_forks(c, opt, &all, &one, 1, ctl->horizon_s, joint);
  if (!joint->ok)
    return 0;
  *joint_saving = 100.0 * (base->whpp - joint->whpp) / base->whpp;
  char why[112];
  if (guardrail_breach(c, joint, base, why, sizeof why) || *joint_saving < ctl->min_saving_pct ||
      (isfinite(best_saving) && *joint_saving <= best_saving))
    return 0;
  return nc;
}

static void slow_loop(sk_controller *c, sk_twin *opt) {
  sk_time_ns now = sk_twin_now(opt);
  double t_s = (double)now * 1e-9;
  plan list[MAX_CANDIDATES + 1];
  int n = candidates(c, opt, list);
  /* slot n is the untouched fork every candidate is compared with */
  int kind[MAX_CANDIDATES + 1];
  forecast fc[MAX_CANDIDATES + 1];
  double *inlets = malloc(sizeof *inlets * (size_t)c->n_racks * (size_t)(n + 2));
  if (!inlets)
    return;
  for (int i = 0; i <= n; i++) {
    kind[i] = i < n ? !plan_rate_limited(c, &list[i], now) : 2;
    /* whole: run_fork reads traj, which stack garbage would turn into a wild write */
    fc[i] = (forecast){.inlet = inlets + (size_t)i * (size_t)c->n_racks};
  }
  run_forks(c, opt, list, kind, n + 1, c->sc.control.horizon_s, fc);
  forecast base = fc[n];
  if (!base.ok) {
    free(inlets);
    return;
  }
  const sk_control_params *ctl = &c->sc.control;
  int best = -1, worst = -1;
  double best_saving = -INFINITY, worst_saving = INFINITY;
  sk_action_record recs[MAX_CANDIDATES];
  const char *verdict[MAX_CANDIDATES];
  char why[MAX_CANDIDATES][112];
  double saving[MAX_CANDIDATES];
  int passed[MAX_CANDIDATES];
  for (int i = 0; i < n; i++) {
    fill_record(c, &recs[i], t_s, "slow", &list[i].a[0]);
    verdict[i] = NULL;
    passed[i] = 0;
    saving[i] = NAN;
    if (!kind[i]) {
      verdict[i] = "rate limit: device written within WRITE_RATE_LIMIT_S";
      continue;
    }
    if (!fc[i].ok) {
      verdict[i] = "what-if fork failed";
      continue;
    }
    saving[i] = 100.0 * (base.whpp - fc[i].whpp) / base.whpp;
    recs[i].pred_saving_pct = saving[i];
    recs[i].pred_ttft_p95_ms = fc[i].p95;
    recs[i].pred_max_inlet_c = fc[i].max_inlet;
    if (saving[i] < worst_saving) {
      worst_saving = saving[i];
      worst = i;
    }
    verdict[i] = guardrail_breach(c, &fc[i], &base, why[i], sizeof why[i]);
    if (verdict[i])
      continue;
    passed[i] = 1;
    if (saving[i] < ctl->min_saving_pct) {
      snprintf(why[i], sizeof why[i], "predicted saving %.2f %% below %.2f %%", saving[i],
               ctl->min_saving_pct);
      verdict[i] = why[i];
    } else if (saving[i] > best_saving) {
      best_saving = saving[i];
      best = i;
    }
  }

  double joint_saving = NAN;
  forecast joint = {.inlet = inlets + (size_t)(n + 1) * (size_t)c->n_racks};
  int chosen[MAX_CANDIDATES];
  int nc = ctl->test_force_harmful ? 0
                                   : combine(c, opt, list, n, passed, saving, best_saving, &base,
                                             chosen, &joint, &joint_saving);
  if (ctl->test_force_harmful && worst >= 0 && worst_saving < 0) {
    best = worst; /* test hook: act on the candidate predicted to hurt most */
    best_saving = worst_saving;
  }
  int in_decision[MAX_CANDIDATES] = {0};
  if (nc >= 2)
    for (int j = 0; j < nc; j++)
      in_decision[chosen[j]] = 1;
  else if (best >= 0)
    in_decision[best] = 1;
  for (int i = 0; i < n; i++) {
    if (in_decision[i])
      continue;
    if (passed[i]) { /* kept every guardrail, but was not chosen */
      if (nc >= 2)
        snprintf(why[i], sizeof why[i], "not in the combined move (%.2f %%; combined %.2f %%)",
                 saving[i], joint_saving);
      else if (saving[i] < ctl->min_saving_pct)
        snprintf(why[i], sizeof why[i], "predicted saving %.2f %% below %.2f %%", saving[i],
                 ctl->min_saving_pct);
      else
        snprintf(why[i], sizeof why[i], "not the best candidate (%.2f %% < %.2f %%)", saving[i],
                 best_saving);
      verdict[i] = why[i];
    }
    emit(c, &recs[i], SK_DECISION_REJECTED, verdict[i]);
  }
  char reason[112];
  if (nc >= 2) {
    snprintf(reason, sizeof reason,
             "combined move of %d plans, one fork over %.0f s: %.2f %% less Wh/prompt, p95 %.0f ms",
             nc, ctl->horizon_s, joint_saving, joint.p95);
    decide(c, opt, list, chosen, nc, recs, saving, joint_saving, p95_rise_pct(&joint, &base),
           reason);
    free(inlets);
    return;
  }
  if (best < 0) {
    free(inlets);
    return;
  }
  if (best == worst && ctl->test_force_harmful)
    snprintf(reason, sizeof reason, "test hook control.test_force_harmful: worst of %d forks (%.2f %%)",
             n, best_saving);
  else
    snprintf(reason, sizeof reason,
             "best of %d what-if forks over %.0f s: %.2f %% less Wh/prompt, p95 %.0f ms", n,
             ctl->horizon_s, best_saving, fc[best].p95);
  decide(c, opt, list, &best, 1, recs, saving, best_saving, p95_rise_pct(&fc[best], &base),
         reason);
  free(inlets);
}

sk_status sk_controller_step(sk_controller *c, sk_twin *opt, sk_twin *cf) {
  sk_status st;
  if ((st = sk_twin_status(opt)) != SK_OK || (cf && (st = sk_twin_status(cf)) != SK_OK))
    return st; /* a twin that stopped computing is neither measured nor acted on */
  sk_time_ns now = sk_twin_now(opt);
  monitor(c, opt);
  if (c->sc.settings.global_kill_switch || !c->warm_ready)
    return SK_OK;
  fast_loop(c, opt);
  double p95 = sk_twin_last_room(opt)->latency_p95_ms;
  if (isfinite(p95) && p95 > c->win_p95_max)
    c->win_p95_max = p95;
  if (now >= c->next_slow_ns) {
    c->next_slow_ns = (now / c->slow_ns + 1) * c->slow_ns; /* next multiple of the period */
    if (cf)
      evaluate(c, opt, cf);
    else
      c->n_pend = 0; /* nothing to measure against: decisions stand */
    follow_if_moved(c, opt);
    slow_loop(c, opt);
  }
  return SK_OK;
}
