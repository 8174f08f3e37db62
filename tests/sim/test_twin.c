/*
 * test_twin.c -- the room as a whole: baseline calibration inside the ranges the issue
 * and docs/MODEL.md state, the heat-spike and overcooled scenarios move the rows they
 * should, the twin is a pure function of (scenario, seed), the GPU power-cap lever
 * trades a little TTFT for energy, the room's losses reach the chiller, chillers too
 * small warm the chilled water and the supply air, every lever clamps at the lever
 * table's bounds, the summary's figures cannot flatter (compliance never rounds up to
 * 100, requests still waiting count in TTFT as lower bounds, a TTFT at the sketch's
 * ceiling is a bound, prompts beyond the timing data are counted), and a failed schedule
 * stops the twin with a sticky error.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork in testutil.h */

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/qsketch.h"
#include "skadi/scenario.h"
#include "skadi/twin.h"

#include "testutil.h"

/* Collects per-row means over a time window of the run. */
typedef struct {
  double from_s, to_s;
  int n_rows, rpr;
  double n;
  double inlet[SK_MAX_ROWS], pdu_kw[SK_MAX_ROWS], fan_kw[SK_MAX_ROWS];
  double rack_inlet[SK_MAX_ROWS * SK_MAX_RACKS_PER_ROW];
  double max_inlet, min_inlet;
  double p95_max;     /* worst room TTFT p95 over the window's samples */
  double wh_sum, wh_n;
  double chw_first_c, chw_last_c;              /* CHW supply at the window's ends */
  double crah_supply_last_c[SK_MAX_ROWS];      /* CRAH supply air at the window's end */
  /* determinism: a running hash of every byte of every row */
  unsigned long long hash;
} collect;

static void hash_bytes(collect *c, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    c->hash ^= b[i];
    c->hash *= 1099511628211ULL;
  }
}

static void on_sample(void *ud, const sk_rack_sample *racks, int n_racks,
                      const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room) {
  collect *c = ud;
  hash_bytes(c, racks, sizeof *racks * (size_t)n_racks);
  hash_bytes(c, crahs, sizeof *crahs * (size_t)n_rows);
  hash_bytes(c, room, sizeof *room);
  if (room->ts < c->from_s || room->ts > c->to_s)
    return;
  if (c->n == 0)
    c->chw_first_c = room->chw_supply_c;
  c->chw_last_c = room->chw_supply_c;
  for (int r = 0; r < n_rows; r++)
    c->crah_supply_last_c[r] = crahs[r].supply_c;
  c->n += 1;
  for (int i = 0; i < n_racks; i++) {
    int row = i / c->rpr;
    c->inlet[row] += racks[i].inlet_c / c->rpr;
    c->rack_inlet[i] += racks[i].inlet_c;
    c->pdu_kw[row] += racks[i].pdu_kw / c->rpr;
    if (racks[i].inlet_c > c->max_inlet)
      c->max_inlet = racks[i].inlet_c;
    if (racks[i].inlet_c < c->min_inlet)
      c->min_inlet = racks[i].inlet_c;
  }
  for (int r = 0; r < n_rows; r++)
    c->fan_kw[r] += crahs[r].fan_kw;
  if (!isnan(room->latency_p95_ms) && room->latency_p95_ms > c->p95_max)
    c->p95_max = room->latency_p95_ms;
}

static void finish(collect *c) {
  for (int i = 0; i < c->n_rows * c->rpr; i++)
    c->rack_inlet[i] /= c->n;
  for (int r = 0; r < c->n_rows; r++) {
    c->inlet[r] /= c->n;
    c->pdu_kw[r] /= c->n;
    c->fan_kw[r] /= c->n;
  }
}

static void load(sk_scenario *sc, const char *name) {
  char path[512], err[SK_ERR_LEN];
  snprintf(path, sizeof path, "%s/scenarios/%s", SKADI_SOURCE_DIR, name);
  sk_scenario_defaults(sc);
  ck_assert_msg(sk_scenario_load(sc, path, err, sizeof err) == SK_OK, "%s", err);
}

/* A shipped scenario cut to duration_s; caller frees. */
static sk_scenario *scenario(const char *name, double duration_s) {
  sk_scenario *sc = malloc(sizeof *sc);
  ck_assert_ptr_nonnull(sc);
  load(sc, name);
  sc->duration_s = duration_s;
  return sc;
}

/* A twin of sc, which must build; caller destroys. */
static sk_twin *new_twin(const sk_scenario *sc) {
  char err[SK_ERR_LEN];
  sk_twin *tw = NULL;
  ck_assert_msg(sk_twin_create(&tw, sc, NULL, err, sizeof err) == SK_OK, "%s", err);
  return tw;
}

static void run(const sk_scenario *sc, collect *c, double from_s, double to_s, sk_summary *sum) {
  char err[SK_ERR_LEN];
  memset(c, 0, sizeof *c);
  c->from_s = from_s;
  c->to_s = to_s;
  c->n_rows = sc->n_rows;
  c->rpr = sc->racks_per_row;
  c->max_inlet = -INFINITY;
  c->min_inlet = INFINITY;
  c->hash = 14695981039346656037ULL;
  ck_assert_msg(sk_scenario_validate(sc, err, sizeof err) == SK_OK, "%s", err);
  sk_twin *tw = new_twin(sc);
  sk_twin_sinks sinks = {on_sample, NULL, c};
  sk_twin_set_sinks(tw, &sinks);
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_OK);
  if (sum)
    sk_twin_summary(tw, sum);
  sk_twin_destroy(tw);
  finish(c);
}

/* Baseline over six hours spanning the daily peak and shoulder (10:00-16:00): every
 * figure inside the calibrated ranges of the issue and docs/MODEL.md. */
START_TEST(baseline_calibration) {
  sk_scenario *sc = scenario("baseline.json", 6 * 3600);
  sc->start_hour = 10;
  collect c;
  sk_summary s;
  run(sc, &c, 900, sc->duration_s, &s);
  ck_assert_double_ge(s.wh_per_prompt, 0.5);
  ck_assert_double_le(s.wh_per_prompt, 0.7);
  ck_assert_double_ge(s.pue, 1.30);
  ck_assert_double_le(s.pue, 1.50);
  ck_assert_double_lt(s.ttft_p95_ms, 250.0);
  ck_assert_double_ge(c.min_inlet, 18.0);
  ck_assert_double_le(c.max_inlet, 27.0);
  ck_assert_double_eq_tol(s.inlet_compliance_pct, 100.0, 1e-9);
  ck_assert_double_eq_tol(s.prompts_rejected, 0.0, 1e-9);
  /* the plant carries its load: the chillers never over capacity, the water on setpoint */
  ck_assert_double_eq(s.chw_overload_s, 0);
  ck_assert_double_eq_tol(s.chw_max_c, sc->plant.chw_supply_c, 1e-9);
  /* energy breakdown adds up */
  double parts = s.it_kwh + s.crah_fan_kwh + s.pump_kwh + s.chiller_kwh + s.tower_kwh +
                 s.losses_kwh + s.misc_kwh;
  ck_assert_double_eq_tol(parts, s.facility_kwh, 1e-6 * s.facility_kwh);
  /* served roughly the offered load (270/s mean, ±40 % daily swing) */
  ck_assert_double_gt(s.prompts_completed, 0.95 * s.prompts_arrived);
  free(sc);
}
END_TEST

/* The UPS/PDU losses released in the room reach the chiller: with all of them in the
 * room the chiller draws the extra heat over its COP (incremental 4..8 here) more than
 * with none of them (docs/MODEL.md, Plant). */
START_TEST(room_losses_reach_the_chiller) {
  sk_scenario *in = scenario("baseline.json", 600), *out = malloc(sizeof *out);
  in->start_hour = 10;
  *out = *in;
  in->plant.losses_in_room_frac = 1;
  out->plant.losses_in_room_frac = 0;
  collect c;
  sk_summary a, b;
  run(in, &c, 0, 600, &a);
  run(out, &c, 0, 600, &b);
  ck_assert_double_eq_tol(a.losses_kwh, b.losses_kwh, 1e-9 * a.losses_kwh);
  ck_assert_double_gt(a.losses_kwh, 0.06 * a.it_kwh); /* 6.8 % of IT (§8.2) */
  double d_chiller = a.chiller_kwh - b.chiller_kwh;
  ck_assert_double_gt(d_chiller, a.losses_kwh / 8.0);
  ck_assert_double_lt(d_chiller, a.losses_kwh / 4.0);
  free(in);
  free(out);
}
END_TEST

/* Chillers too small for the room (2 x 150 kW against a load of about 470 kW): the
 * chilled-water supply warms at (load - capacity) / C, C = 54 MJ/K -- between 2 and 4.7 K
 * in 20 minutes for a shortfall of 90..210 kW (measured: 2.8 K, about 140 kW) -- and once
 * it is warmer than the CRAHs' setpoint less the coil approach, the supply air follows
 * it. */
START_TEST(chw_over_capacity_warms_supply) {
  sk_scenario *sc = scenario("baseline.json", 3600);
  sc->start_hour = 10;
  sc->plant.chiller_capacity_kw = 150;
  collect c;
  sk_summary sum;
  run(sc, &c, 2400, 3600, &sum); /* the last 20 minutes of an hour */
  double c_j_per_k = sc->plant.chw_loop_m3 * 4.19e6;
  double d_t = c.chw_last_c - c.chw_first_c;
  ck_assert_double_gt(c.chw_first_c, sc->plant.chw_supply_c + 1.0);
  /* the summary says how long the chillers could not carry the load and how warm the
   * water got: all of the hour but its first minutes (the racks' exhaust starts at the
   * supply air and reaches the coils over its ~3 min lag), the warmest at its end */
  ck_assert_double_gt(sum.chw_overload_s, 3000);
  ck_assert_double_le(sum.chw_overload_s, 3600);
  ck_assert_double_ge(sum.chw_max_c, c.chw_last_c);
  ck_assert_double_eq_tol(sum.chw_max_c, sum.chw_end_c, 1e-9);
  ck_assert_double_gt(d_t, 90e3 * 1200 / c_j_per_k);
  ck_assert_double_lt(d_t, 210e3 * 1200 / c_j_per_k);
  double floor_c = c.chw_last_c + sc->room.coil_approach_k;
  ck_assert_double_gt(floor_c, sc->room.supply_setpoint_c + 0.5);
  /* the supply air follows the warming floor a ramp's lag behind, rate x the coil's time
   * constant (plus the step before's water: 1 s of warming) */
  double lag_k = d_t / 1200.0 * (sc->room.coil_tau_s + 1.0);
  for (int r = 0; r < sc->n_rows; r++)
    ck_assert_double_eq_tol(floor_c - c.crah_supply_last_c[r], lag_k, 0.02);
  free(sc);
}
END_TEST

/* Heat spike: while the two AI nodes run in row C, row C's inlets and power rise, and
 * every other row moves less than row C. */
START_TEST(heat_spike_moves_row_c) {
  sk_scenario *hs = malloc(sizeof *hs), *bl = malloc(sizeof *bl);
  load(hs, "heat_spike_row_c.json");
  *bl = *hs;
  bl->n_effects = 0;
  ck_assert_int_ge(hs->n_effects, 1);
  double from = hs->effects[0].start_s + 900, to = hs->effects[0].stop_s;
  collect a, b;
  sk_summary sum;
  run(bl, &b, from, to, NULL);
  run(hs, &a, from, to, &sum);
  const int C = 2;
  /* the summary's effect line: the two racks, their inlets at the start and while on */
  ck_assert_int_eq(sum.n_effects, 1);
  const sk_effect_inlets *x = &sum.effect_inlets[0];
  ck_assert_int_eq(x->n_racks, 2);
  ck_assert_double_le(x->min_inlet_c, x->max_inlet_c);
  ck_assert_double_gt(x->max_inlet_c - x->start_inlet_c, 0.25);
  ck_assert_double_ge(x->others_max_inlet_c, b.max_inlet - 0.05);
  double d_in_c = a.inlet[C] - b.inlet[C], d_kw_c = a.pdu_kw[C] - b.pdu_kw[C];
  /* row mean: two of twelve racks doubled; the racks themselves warm most */
  ck_assert_double_gt(d_in_c, 0.05);
  ck_assert_double_gt(d_kw_c, 0.5);
  int c06 = C * hs->racks_per_row + 5, c07 = c06 + 1;
  ck_assert_double_gt(a.rack_inlet[c06] - b.rack_inlet[c06], 0.25);
  ck_assert_double_gt(a.rack_inlet[c07] - b.rack_inlet[c07], 0.25);
  for (int r = 0; r < hs->n_rows; r++) {
    if (r == C)
      continue;
    ck_assert_double_lt(fabs(a.inlet[r] - b.inlet[r]), d_in_c);
    ck_assert_double_lt(fabs(a.pdu_kw[r] - b.pdu_kw[r]), d_kw_c);
  }
  free(hs);
  free(bl);
}
END_TEST

/* Overcooled row E: lower inlets and more CRAH fan power in row E than the baseline. */
START_TEST(overcooled_row_e) {
  sk_scenario *oc = malloc(sizeof *oc), *bl = malloc(sizeof *bl);
  load(oc, "overcooled_row_e.json");
  *bl = *oc;
  bl->n_effects = 0;
  double from = oc->effects[0].start_s + 900;
  double to = isfinite(oc->effects[0].stop_s) ? oc->effects[0].stop_s : oc->duration_s;
  collect a, b;
  sk_summary sum;
  run(bl, &b, from, to, NULL);
  run(oc, &a, from, to, &sum);
  const int E = 4;
  ck_assert_int_eq(sum.effect_inlets[0].n_racks, 12); /* the row's racks */
  ck_assert_double_lt(sum.effect_inlets[0].min_inlet_c, sum.effect_inlets[0].start_inlet_c - 0.5);
  ck_assert_double_lt(a.inlet[E], b.inlet[E] - 0.5);
  ck_assert_double_gt(a.fan_kw[E], b.fan_kw[E] * 1.5);
  for (int r = 0; r < oc->n_rows; r++)
    if (r != E)
      ck_assert_double_lt(fabs(a.inlet[r] - b.inlet[r]), b.inlet[E] - a.inlet[E]);
  free(oc);
  free(bl);
}
END_TEST

/* Same scenario and seed: byte-identical telemetry; another seed: different. */
/* A rate far below one prompt per run (allowed: rate_scale > 0) draws its first arrival
 * ~1e10 s away, past what int64 ns holds: the run ends on time with no prompt instead of
 * repeating "now" for ever. */
START_TEST(tiny_rate_ends) {
  sk_scenario *sc = scenario("baseline.json", 600);
  sc->workload.rate_scale = 1e-20;
  sk_twin *tw = new_twin(sc);
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_OK);
  ck_assert(sk_twin_now(tw) == sk_twin_end(tw));
  sk_summary sum;
  sk_twin_summary(tw, &sum);
  ck_assert_double_eq(sum.prompts_arrived, 0);
  sk_twin_destroy(tw);
  free(sc);
}
END_TEST

START_TEST(deterministic) {
  sk_scenario *sc = scenario("heat_spike_row_c.json", 5400); /* covers the nodes' start at 1 h */
  collect a, b, c;
  run(sc, &a, 0, 1e9, NULL);
  run(sc, &b, 0, 1e9, NULL);
  ck_assert_double_gt(a.n, 500);
  ck_assert(a.hash == b.hash);
  sc->seed += 1;
  run(sc, &c, 0, 1e9, NULL);
  ck_assert(a.hash != c.hash);
  free(sc);
}
END_TEST

/* A clone taken mid-run, run to the end alone, emits exactly what the original emits
 * from that point; running the clone leaves the original untouched. */
START_TEST(clone_runs_identically) {
  sk_scenario *sc = scenario("heat_spike_row_c.json", 5400);
  sk_twin *tw = new_twin(sc), *cl = NULL;
  /* before the AI nodes arrive */
  ck_assert_int_eq(sk_twin_run_until(tw, (sk_time_ns)3000 * SK_NS_PER_S), SK_OK);
  ck_assert_int_eq(sk_twin_clone(tw, &cl), SK_OK);
  collect a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  a.hash = b.hash = 14695981039346656037ULL;
  a.to_s = b.to_s = -1; /* hash only */
  sk_twin_sinks sa = {on_sample, NULL, &a}, sb = {on_sample, NULL, &b};
  sk_twin_set_sinks(cl, &sb);
  ck_assert_int_eq(sk_twin_run_until(cl, sk_twin_end(cl)), SK_OK);
  sk_twin_set_sinks(tw, &sa);
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_OK);
  ck_assert(a.hash == b.hash);
  ck_assert_uint_eq(sk_twin_events(tw), sk_twin_events(cl));
  sk_summary s1, s2;
  sk_twin_summary(tw, &s1);
  sk_twin_summary(cl, &s2);
  ck_assert_double_eq(s1.facility_kwh, s2.facility_kwh);
  ck_assert_double_eq(s1.prompts_completed, s2.prompts_completed);
  sk_twin_destroy(cl);
  sk_twin_destroy(tw);
  free(sc);
}
END_TEST

/* The power-cap lever: from one clone point, the twin with the cap lowered 700 -> 500 W
 * uses less facility energy per prompt over the next 10 minutes than the clone left alone
 * (same arrivals: common random numbers), and its TTFT p95 is somewhat higher (prefill
 * (650/500)^0.176 = 4.7 % slower).  The lever clamps to [decode ceiling, TDP]. */
START_TEST(gpu_cap_lever_saves_energy) {
  sk_scenario *sc = scenario("baseline.json", 900);
  sk_twin *tw = new_twin(sc), *cl = NULL;
  ck_assert_int_eq(sk_twin_run_until(tw, (sk_time_ns)300 * SK_NS_PER_S), SK_OK);
  ck_assert_int_eq(sk_twin_clone(tw, &cl), SK_OK);
  sk_action cap = {SK_ACT_GPU_CAP, -1, -200};
  double applied = 0;
  ck_assert_int_eq(sk_twin_apply(tw, &cap, &applied), SK_OK);
  ck_assert_double_eq(applied, -200);
  ck_assert_double_eq(sk_twin_lever(tw, SK_ACT_GPU_CAP, -1), 500);
  ck_assert_double_eq(sk_twin_lever(cl, SK_ACT_GPU_CAP, -1), 700);
  ck_assert_str_eq(sk_action_name(SK_ACT_GPU_CAP), "gpu_power_cap");
  ck_assert_str_eq(sk_action_unit(SK_ACT_GPU_CAP), "W");
  ck_assert_str_eq(sk_action_executor(SK_ACT_GPU_CAP), "scheduler");
  sk_twin_probe_reset(tw);
  sk_twin_probe_reset(cl);
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_OK);
  ck_assert_int_eq(sk_twin_run_until(cl, sk_twin_end(cl)), SK_OK);
  sk_twin_probe p_cap, p_base;
  sk_twin_probe_get(tw, &p_cap);
  sk_twin_probe_get(cl, &p_base);
  ck_assert_double_gt(p_base.prompts_completed, 5e4);
  double j_cap = p_cap.facility_j / p_cap.prompts_completed;
  double j_base = p_base.facility_j / p_base.prompts_completed;
  ck_assert_double_lt(j_cap, j_base);
  ck_assert_double_gt(p_cap.ttft_p95_ms, p_base.ttft_p95_ms);
  ck_assert_double_lt(p_cap.ttft_p95_ms, 1.25 * p_base.ttft_p95_ms);

  /* clamped to the decode ceiling (300 W) below and the 700 W TDP above */
  cap.delta = -1000;
  ck_assert_int_eq(sk_twin_apply(cl, &cap, &applied), SK_OK);
  ck_assert_double_eq(applied, -400);
  ck_assert(!sk_twin_can_move(cl, &cap));
  cap.delta = 1000;
  ck_assert_int_eq(sk_twin_apply(cl, &cap, &applied), SK_OK);
  ck_assert_double_eq(sk_twin_lever(cl, SK_ACT_GPU_CAP, -1), 700);
  sk_twin_destroy(cl);
  sk_twin_destroy(tw);
  free(sc);
}
END_TEST

/* Every lever clamps at its row of the lever table (levers.h): a huge move up lands on the
 * top, a huge move down on the bottom, neither bound can be passed, and one step moves by
 * the table's step.  Three ranges are narrowed by the scenario: the CRAH fan and the pumps
 * by their minimum speeds, the GPU cap by the decode ceiling and max(TDP, the scenario's
 * cap).  A bad target or a non-finite delta moves nothing. */
START_TEST(levers_clamp_at_table_bounds) {
  sk_scenario *sc = scenario("baseline.json", 60);
  sk_twin *tw = new_twin(sc);
  int last_row = sk_twin_rows(tw) - 1, last_rack = sk_twin_rows(tw) * sk_twin_racks_per_row(tw) - 1;
  for (int i = 0; i < SK_ACT_KIND_COUNT; i++) {
    sk_action_kind k = (sk_action_kind)i;
    double lo = sk_action_min(k), hi = sk_action_max(k), step = sk_action_step(k);
    ck_assert_msg(lo < hi && step > 0 && step <= hi - lo, "%s: bad row", sk_action_name(k));
    int target = -1;
    switch (k) {
    case SK_ACT_CRAH_FAN:
      lo = fmax(lo, sc->room.crah_min_speed_pct);
      target = last_row;
      break;
    case SK_ACT_PUMP_SPEED:
      lo = fmax(lo, sc->plant.pump_min_speed_pct);
      break;
    case SK_ACT_GPU_CAP:
      lo = fmax(lo, sk_server_decode_ceiling_w(&sc->server));
      hi = fmin(hi, fmax(SK_GPU_TDP_W, sc->server.gpu_power_cap_w));
      break;
    case SK_ACT_SUPPLY_TEMP:
    case SK_ACT_REBALANCE:
      target = last_row;
      break;
    case SK_ACT_ROUTE_AWAY:
      target = last_rack;
      break;
    default:
      break;
    }
    sk_action up = {k, target, 1e9}, down = {k, target, -1e9}, one = {k, target, step};
    double applied;
    ck_assert_int_eq(sk_twin_apply(tw, &up, NULL), SK_OK);
    ck_assert_msg(sk_twin_lever(tw, k, target) == hi, "%s: %g, top %g", sk_action_name(k),
                  sk_twin_lever(tw, k, target), hi);
    ck_assert(!sk_twin_can_move(tw, &up));
    ck_assert(sk_twin_can_move(tw, &down));
    ck_assert_int_eq(sk_twin_apply(tw, &down, &applied), SK_OK);
    ck_assert_msg(sk_twin_lever(tw, k, target) == lo, "%s: %g, bottom %g", sk_action_name(k),
                  sk_twin_lever(tw, k, target), lo);
    ck_assert_double_eq(applied, lo - hi);
    ck_assert(!sk_twin_can_move(tw, &down));
    ck_assert_int_eq(sk_twin_apply(tw, &one, &applied), SK_OK);
    ck_assert_double_eq_tol(applied, step, 1e-12);
    sk_action nan_move = {k, target, NAN};
    ck_assert_int_eq(sk_twin_apply(tw, &nan_move, &applied), SK_EINVAL);
    ck_assert(!sk_twin_can_move(tw, &nan_move));
    if (target >= 0) {
      sk_action off = {k, target + 1, 1};
      ck_assert_int_eq(sk_twin_apply(tw, &off, &applied), SK_EINVAL);
      ck_assert(!sk_twin_can_move(tw, &off));
    }
  }
  sk_twin_destroy(tw);
  free(sc);
}
END_TEST

/* The probe's TTFT p95 (what the forks and the rollback check compare with the SLA) is
 * fine-grained below 2 x SLA and +inf above it, never a finite value that hides a breach. */
START_TEST(probe_p95_fails_safe) {
  sk_scenario *sc = scenario("baseline.json", 120);
  sk_twin *ok = new_twin(sc);
  sc->settings.sla_latency_ms = 5; /* every TTFT (tens of ms) lies past 2 x SLA */
  sk_twin *tight = new_twin(sc);
  ck_assert_int_eq(sk_twin_run_until(ok, sk_twin_end(ok)), SK_OK);
  ck_assert_int_eq(sk_twin_run_until(tight, sk_twin_end(tight)), SK_OK);
  sk_twin_probe a, b;
  sk_twin_probe_get(ok, &a);
  sk_twin_probe_get(tight, &b);
  ck_assert(isfinite(a.ttft_p95_ms));
  ck_assert_double_gt(a.ttft_p95_ms, 20);
  ck_assert(isinf(b.ttft_p95_ms) && b.ttft_p95_ms > 0);
  sk_twin_probe_reset(ok); /* no requests since: no figure */
  sk_twin_probe_get(ok, &a);
  ck_assert(isnan(a.ttft_p95_ms));
  sk_twin_destroy(ok);
  sk_twin_destroy(tight);
  free(sc);
}
END_TEST

/* ---- figures that cannot flatter --------------------------------------------------------- */

/* A twin of sc, which must be valid (the keys changed here stay in their ranges). */
static sk_twin *checked_twin(const sk_scenario *sc) {
  char err[SK_ERR_LEN];
  ck_assert_msg(sk_scenario_validate(sc, err, sizeof err) == SK_OK, "%s", err);
  return new_twin(sc);
}

/* The summary of sc run to its end (sc must be valid); frees sc. */
static void summary_of(sk_scenario *sc, sk_summary *sum) {
  sk_twin *tw = checked_twin(sc);
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_OK);
  sk_twin_summary(tw, sum);
  sk_twin_destroy(tw);
  free(sc);
}

/* Compliance is rounded down from the counts: one breach in 50,000 samples (99.998 %) reads
 * 99.99 at two places, never 100.00; no breach reads 100.00; no sample, NaN. */
START_TEST(compliance_floor_never_rounds_up) {
  sk_summary s;
  memset(&s, 0, sizeof s);
  char text[32];
  s.inlet_samples = 50000;
  s.inlet_breach_samples = 1;
  snprintf(text, sizeof text, "%.2f", sk_summary_compliance_floor(&s, 2));
  ck_assert_str_eq(text, "99.99");
  snprintf(text, sizeof text, "%.4f", sk_summary_compliance_floor(&s, 4));
  ck_assert_str_eq(text, "99.9980");
  s.inlet_samples = 3; /* 66.666... is 66.66, not 66.67 */
  snprintf(text, sizeof text, "%.2f", sk_summary_compliance_floor(&s, 2));
  ck_assert_str_eq(text, "66.66");
  s.inlet_samples = 4e15; /* a breach in a huge run still shows at nine places */
  snprintf(text, sizeof text, "%.9f", sk_summary_compliance_floor(&s, 9));
  ck_assert_str_eq(text, "99.999999999");
  snprintf(text, sizeof text, "%.2f", sk_summary_compliance_floor(&s, 2));
  ck_assert_str_eq(text, "99.99");
  s.inlet_breach_samples = 0;
  snprintf(text, sizeof text, "%.2f", sk_summary_compliance_floor(&s, 2));
  ck_assert_str_eq(text, "100.00");
  s.inlet_breach_samples = s.inlet_samples;
  ck_assert_double_eq(sk_summary_compliance_floor(&s, 2), 0);
  s.inlet_samples = s.inlet_breach_samples = 0;
  ck_assert(isnan(sk_summary_compliance_floor(&s, 2)));
}
END_TEST

typedef struct {
  double limit_c, samples, breaches;
} breach_count;

static void count_breaches(void *ud, const sk_rack_sample *racks, int n_racks,
                           const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room) {
  (void)crahs, (void)n_rows, (void)room;
  breach_count *b = ud;
  for (int i = 0; i < n_racks; i++) /* no sensor spike here: reported = true inlet */
    b->breaches += racks[i].inlet_c > b->limit_c;
  b->samples += n_racks;
}

/* The summary counts every rack-inlet sample and the breaching ones, and the percentage
 * is the share of the rest. */
START_TEST(summary_counts_inlet_breaches) {
  sk_scenario *sc = scenario("baseline.json", 120);
  sc->settings.inlet_max_c = 18.2; /* between the baseline's coolest and warmest racks */
  sk_twin *tw = checked_twin(sc);
  breach_count b = {sc->settings.inlet_max_c, 0, 0};
  sk_twin_sinks sinks = {count_breaches, NULL, &b};
  sk_twin_set_sinks(tw, &sinks);
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_OK);
  sk_summary sum;
  sk_twin_summary(tw, &sum);
  ck_assert_double_eq(sum.inlet_samples, 72 * 12);
  ck_assert_double_eq(sum.inlet_samples, b.samples);
  ck_assert_double_eq(sum.inlet_breach_samples, b.breaches);
  ck_assert(b.breaches > 0 && b.breaches < b.samples);
  ck_assert_double_eq(sum.inlet_compliance_pct,
                      100.0 * (b.samples - b.breaches) / b.samples);
  sk_twin_destroy(tw);
  free(sc);
}
END_TEST

/* Inlets over ASHRAE's recommended 27 °C are counted beside those over INLET_MAX_C. */
START_TEST(recommended_envelope_counted) {
  sk_scenario *sc = scenario("baseline.json", 300);
  sc->room.supply_setpoint_c = 26.5; /* the warmest racks recirculate past 27 */
  sk_twin *tw = checked_twin(sc);
  breach_count b = {SK_ASHRAE_RECOMMENDED_MAX_C, 0, 0};
  sk_twin_sinks sinks = {count_breaches, NULL, &b};
  sk_twin_set_sinks(tw, &sinks);
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_OK);
  sk_summary sum;
  sk_twin_summary(tw, &sum);
  ck_assert(b.breaches > 0 && b.breaches < b.samples);
  ck_assert_double_eq(sum.inlet_recommended_breach_samples, b.breaches);
  ck_assert_double_eq(sum.inlet_breach_samples, 0); /* all under 28 */
  ck_assert_double_lt(sk_compliance_floor(sum.inlet_samples, b.breaches, 2), 100);
  sk_twin_destroy(tw);
  free(sc);
}
END_TEST

/* A raised chilled-water setpoint is reached by the load warming the loop with the
 * chillers unloaded: the summary charges that borrowed cold, C dT at the chillers' COP. */
START_TEST(stored_cold_is_charged) {
  sk_scenario *sc = scenario("baseline.json", 1800);
  sk_twin *tw = checked_twin(sc);
  ck_assert_int_eq(sk_twin_run_until(tw, 600 * (sk_time_ns)1000000000), SK_OK);
  sk_action up = {SK_ACT_CHW_TEMP, -1, 5.0};
  ck_assert_int_eq(sk_twin_apply(tw, &up, NULL), SK_OK);
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_OK);
  sk_summary sum;
  sk_twin_summary(tw, &sum);
  ck_assert_double_eq_tol(sum.chw_start_c, sc->plant.chw_supply_c, 1e-9);
  ck_assert_double_eq_tol(sum.chw_end_c, sc->plant.chw_supply_c + 5, 0.01);
  double thermal_kwh = sc->plant.chw_loop_m3 * 4.19e6 * 5 / 3.6e6; /* 75 kWh */
  ck_assert_double_gt(sum.stored_cold_kwh, thermal_kwh / 9); /* COP 4..9 in this plant */
  ck_assert_double_lt(sum.stored_cold_kwh, thermal_kwh / 4);
  sk_twin_destroy(tw);
  free(sc);
}
END_TEST

/* Slow pumps under full fans: the chilled water's dT then moves the coil floor with the
 * load.  With the aisles' stored heat charged to the coil a step late, this loop diverged
 * (inlets of 1e58 °C within an hour at 35 % pumps, found by a sweep); it must settle. */
START_TEST(slow_pumps_stay_stable) {
  const double pumps[] = {30, 35, 42.46};
  for (size_t k = 0; k < sizeof pumps / sizeof pumps[0]; k++) {
    sk_scenario *sc = scenario("baseline.json", 1800);
    sc->room.crah_fan_speed_pct = 98.77;
    sc->plant.pump_speed_pct = pumps[k];
    sc->room.supply_setpoint_c = 17.31;
    sc->plant.chw_supply_c = 6.007;
    sk_summary sum;
    summary_of(sc, &sum); /* frees sc */
    ck_assert_msg(isfinite(sum.max_inlet_c) && sum.max_inlet_c < 30,
                  "pumps %.2f %%: max inlet %g C", pumps[k], sum.max_inlet_c);
    ck_assert(isfinite(sum.wh_per_prompt) && sum.wh_per_prompt < 1.0);
  }
}
END_TEST

/* A room whose servers take 10 s per prefill (the longest the key allows), so a run can
 * end with every request still waiting. */
static sk_scenario *slow_room(double duration_s) {
  sk_scenario *sc = scenario("baseline.json", duration_s);
  sc->sample_period_s = 1;
  sc->perf.prefill_floor_ms = 10000;
  sc->perf.step_a_ms = 10000;
  return sc;
}

/* 8 s of a room that needs 10 s for a first token: nobody has one at the end.  Every
 * request still waits and counts in the quantiles at its wait so far (arrivals over 8 s:
 * the median wait is about 4 s), flagged as a lower bound. */
START_TEST(waiting_requests_count_as_lower_bounds) {
  sk_summary sum;
  summary_of(slow_room(8), &sum);
  ck_assert_double_eq(sum.prompts_completed, 0);
  ck_assert_double_gt(sum.prompts_arrived, 1000);
  ck_assert_double_eq(sum.prompts_queued_at_end, sum.prompts_arrived - sum.prompts_rejected);
  ck_assert_double_eq_tol(sum.ttft_p50_ms, 4000, 400);
  ck_assert_double_eq_tol(sum.ttft_p95_ms, 7600, 400);
  ck_assert(sum.ttft_p50_censored && sum.ttft_p95_censored && sum.ttft_p99_censored);
}
END_TEST

/* A run shorter than the first arrival has no TTFT: NaN, and nothing to flag. */
START_TEST(no_request_no_ttft) {
  sk_summary sum;
  sk_scenario *sc = slow_room(2);
  sc->workload.rate_scale = 1e-6; /* one arrival in about 80 minutes */
  summary_of(sc, &sum);
  ck_assert_double_eq(sum.prompts_arrived, 0);
  ck_assert(isnan(sum.ttft_p95_ms) && !sum.ttft_p95_censored && !sum.ttft_p50_censored);
  ck_assert_double_eq(sum.prompts_queued_at_end, 0);
}
END_TEST

/* 20 minutes of the same room: requests waiting longer than the sketch's range (1e6 ms)
 * put the p95 at its ceiling, which is reported as the bound (1e6 ms) and flagged. */
START_TEST(ttft_at_the_ceiling_is_a_bound) {
  sk_summary sum;
  summary_of(slow_room(1200), &sum);
  ck_assert_double_gt(sum.prompts_completed, 0);
  ck_assert_double_gt(sum.prompts_queued_at_end, 0);
  ck_assert_double_eq(sum.ttft_p95_ms, SK_QSKETCH_MAX_VALUE);
  ck_assert_double_eq(sum.ttft_p99_ms, SK_QSKETCH_MAX_VALUE);
  ck_assert(sum.ttft_p95_censored && sum.ttft_p99_censored);
}
END_TEST

/* A room that keeps up: the few requests waiting at the end do not move the quantiles,
 * which are measurements; no prompt is beyond the timing data (the default workload caps
 * prompts at its longest). */
START_TEST(measured_ttft_not_flagged) {
  sk_summary sum;
  summary_of(scenario("baseline.json", 120), &sum);
  ck_assert_double_gt(sum.prompts_queued_at_end, 0);
  ck_assert_double_lt(sum.prompts_queued_at_end, 100);
  ck_assert(!sum.ttft_p50_censored && !sum.ttft_p95_censored && !sum.ttft_p99_censored);
  ck_assert_double_lt(sum.ttft_p95_ms, 250);
  ck_assert_double_eq(sum.prompts_extrapolated, 0);
  ck_assert_double_eq(sum.prefills_extrapolated, 0);
}
END_TEST

/* Prompts longer than the timing data's longest, and prefills larger than its largest,
 * are counted in the summary. */
START_TEST(prompts_beyond_timing_data_counted) {
  sk_scenario *sc = scenario("baseline.json", 120);
  sc->workload.prompt_tokens_mean = 4000;
  sc->workload.prompt_tokens_sd = 3000;
  sc->workload.max_tokens = 16384;
  sc->server.max_prefill_tokens = 65536;
  sk_summary sum;
  summary_of(sc, &sum);
  /* lognormal(4000, 3000): about 7 % of prompts are above 8192 tokens */
  ck_assert_double_gt(sum.prompts_extrapolated, 0.02 * sum.prompts_arrived);
  ck_assert_double_lt(sum.prompts_extrapolated, 0.15 * sum.prompts_arrived);
  ck_assert_double_gt(sum.prefills_extrapolated, 0);
}
END_TEST

/* ---- faults: a schedule that fails ----------------------------------------------------
 * tests/CMakeLists.txt links this suite with -Wl,--wrap=sk_engine_schedule, so every call
 * the twin makes lands here first: armed, it fails as a queue that cannot grow would. */

sk_status __real_sk_engine_schedule(sk_engine *eng, sk_time_ns t_ns, uint32_t handler,
                                    uint32_t target, uint64_t arg, sk_event_id *id_out);
sk_status __wrap_sk_engine_schedule(sk_engine *eng, sk_time_ns t_ns, uint32_t handler,
                                    uint32_t target, uint64_t arg, sk_event_id *id_out);

static long fail_after = -1; /* schedules that still succeed before all fail; -1 = never */
static long schedules;       /* calls seen */

sk_status __wrap_sk_engine_schedule(sk_engine *eng, sk_time_ns t_ns, uint32_t handler,
                                    uint32_t target, uint64_t arg, sk_event_id *id_out) {
  schedules++;
  if (fail_after == 0)
    return SK_ENOMEM;
  if (fail_after > 0)
    fail_after--;
  return __real_sk_engine_schedule(eng, t_ns, handler, target, arg, id_out);
}

typedef struct {
  int samples;
  double last_ts;
} sample_count;

static void count_sample(void *ud, const sk_rack_sample *racks, int n_racks,
                         const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room) {
  (void)racks, (void)n_racks, (void)crahs, (void)n_rows;
  sample_count *c = ud;
  c->samples++;
  c->last_ts = room->ts;
}

/* Every schedule of sk_twin_create is checked: whichever fails, creation returns
 * SK_ENOMEM with a message and no twin (the sanitizer build checks nothing leaks). */
START_TEST(create_fails_cleanly_when_schedule_fails) {
  /* creation schedules a tick, an arrival and the effect's start and stop */
  sk_scenario *sc = scenario("heat_spike_row_c.json", 4 * 3600);
  char err[SK_ERR_LEN];
  sk_twin *tw = NULL;
  schedules = 0;
  ck_assert_int_eq(sk_twin_create(&tw, sc, NULL, err, sizeof err), SK_OK);
  sk_twin_destroy(tw);
  long n = schedules;
  ck_assert_int_ge(n, 4);
  for (long k = 0; k < n; k++) {
    fail_after = k;
    err[0] = '\0';
    tw = (sk_twin *)1;
    ck_assert_int_eq(sk_twin_create(&tw, sc, NULL, err, sizeof err), SK_ENOMEM);
    ck_assert_ptr_null(tw);
    ck_assert_str_eq(err, "out of memory building the room");
  }
  fail_after = -1;
  free(sc);
}
END_TEST

/* A schedule that fails while running stops the twin: sk_twin_run_until returns the error,
 * no sample follows it, and the error sticks -- later calls return it without advancing,
 * sk_twin_status reports it, a clone carries it. */
START_TEST(run_error_is_sticky) {
  sk_scenario *sc = scenario("baseline.json", 600);
  sk_twin *tw = new_twin(sc), *cl = NULL;
  sample_count c = {0, 0};
  sk_twin_sinks sinks = {count_sample, NULL, &c};
  sk_twin_set_sinks(tw, &sinks);
  ck_assert_int_eq(sk_twin_run_until(tw, (sk_time_ns)120 * SK_NS_PER_S), SK_OK);
  ck_assert_int_eq(sk_twin_status(tw), SK_OK);
  ck_assert_int_eq(c.samples, 12);
  fail_after = 0; /* the next event the twin schedules (within ms: an arrival) fails */
  ck_assert_int_eq(sk_twin_run_until(tw, (sk_time_ns)300 * SK_NS_PER_S), SK_ENOMEM);
  ck_assert_int_eq(sk_twin_status(tw), SK_ENOMEM);
  ck_assert_int_eq(c.samples, 12);
  fail_after = -1; /* the queue could grow again: the twin stays stopped */
  sk_time_ns at = sk_twin_now(tw);
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_ENOMEM);
  ck_assert_int_eq(sk_twin_now(tw), at);
  ck_assert_int_eq(c.samples, 12);
  ck_assert_int_eq(sk_twin_clone(tw, &cl), SK_OK);
  ck_assert_int_eq(sk_twin_status(cl), SK_ENOMEM);
  ck_assert_int_eq(sk_twin_run_until(cl, sk_twin_end(cl)), SK_ENOMEM);
  sk_twin_destroy(cl);
  sk_twin_destroy(tw);
  free(sc);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("twin");
  TCase *tc = tcase_create("scenarios");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, baseline_calibration);
  tcase_add_test(tc, room_losses_reach_the_chiller);
  tcase_add_test(tc, chw_over_capacity_warms_supply);
  tcase_add_test(tc, heat_spike_moves_row_c);
  tcase_add_test(tc, overcooled_row_e);
  tcase_add_test(tc, deterministic);
  tcase_add_test(tc, tiny_rate_ends);
  tcase_add_test(tc, clone_runs_identically);
  tcase_add_test(tc, gpu_cap_lever_saves_energy);
  tcase_add_test(tc, probe_p95_fails_safe);
  tcase_add_test(tc, levers_clamp_at_table_bounds);
  suite_add_tcase(s, tc);
  TCase *fig = tcase_create("figures");
  tcase_add_test(fig, compliance_floor_never_rounds_up);
  tcase_add_test(fig, summary_counts_inlet_breaches);
  tcase_add_test(fig, recommended_envelope_counted);
  tcase_add_test(fig, stored_cold_is_charged);
  tcase_add_test(fig, slow_pumps_stay_stable);
  tcase_add_test(fig, waiting_requests_count_as_lower_bounds);
  tcase_add_test(fig, no_request_no_ttft);
  tcase_add_test(fig, ttft_at_the_ceiling_is_a_bound);
  tcase_add_test(fig, measured_ttft_not_flagged);
  tcase_add_test(fig, prompts_beyond_timing_data_counted);
  suite_add_tcase(s, fig);
  TCase *faults = tcase_create("faults");
  tcase_add_test(faults, create_fails_cleanly_when_schedule_fails);
  tcase_add_test(faults, run_error_is_sticky);
  suite_add_tcase(s, faults);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
