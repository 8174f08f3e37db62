/*
 * twin.h -- the room: servers, racks, CRAHs and plant wired to the engine, the scenario
 * timeline, and telemetry every sample period.
 *
 * A twin is a pure function of (scenario, seed, trace): sk_twin_run_until advances it and
 * hands each sample to the sinks.  No wall clock, no I/O here; the run session
 * (session.h) drives it, records and applies commands.
 */
#ifndef SKADI_TWIN_H
#define SKADI_TWIN_H

#include <stddef.h>

#include "skadi/engine.h"
#include "skadi/scenario.h"
#include "skadi/server.h" /* SK_SERVER_QUEUE_CAP: the admission lever's top */
#include "skadi/telemetry.h"
#include "skadi/trace.h"

typedef struct sk_twin sk_twin;

/* Levers an executor can move: the one table of them.  Each action is a relative change
 * (delta) of one lever on one target (row or rack index, -1 for room-wide levers).  Names
 * are stable (recordings and the audit log use them); never reorder the rows (the enum
 * numbers device indices).
 *
 * One row per lever, X(id, name, unit, executor, min, max, step):
 *   min, max  the lever's range, in its unit.  sk_twin_apply clamps to it; the scenario keys
 *             that set a lever (room.supply_setpoint_c, plant.chw_supply_c, ... and the
 *             crah_override effect) are validated against it, so a scenario never starts a
 *             lever outside the range its executor keeps.  Three levers have a floor or a
 *             ceiling that depends on the scenario as well, and the twin takes the tighter
 *             of the two: CRAH fan >= room.crah_min_speed_pct, pump >= plant.pump_min_speed_pct,
 *             GPU cap within [decode ceiling, max(TDP, the scenario's cap)].
 *   step      the optimizer's fine step (control.c; the coarse step is a multiple of it).
 * Why these ranges (../shared/reference/physics.md, "§"):
 *   batch_window  0-200 ms: every ms of window is waiting charged to TTFT, and the TTFT
 *                 p95 SLA is 250 ms (§8.3); past 200 ms the window alone leaves no room for
 *                 queueing and prefill.
 *   supply_temp   14-27 °C: 27 is ASHRAE's recommended inlet top (§2) -- inlets sit at or
 *                 above supply air (recirculation only warms them), so warmer supply air puts
 *                 every rack outside the envelope; 14 keeps inlets at the A1 allowable floor
 *                 of 15 °C (§2) with the room's >= 8 % recirculation (§1.3: ~1 K at the
 *                 12 K rack rise of §8.1); colder air only over-cools.  Both are reachable: the coil floor
 *                 is 10.6 °C at the coldest water (5 °C + 5.6 K approach, §3.1).
 *   chw_supply    5-18 °C: 5 is the low end of the DOE-2 chiller curve's validity (§3.2;
 *                 common practice also keeps plain-water evaporators a few K above freezing);
 *                 18 is the top of the plant's CHW range (§8.2, high-temperature designs).
 *   fan, pump     0-100 % of rated speed (the scenario's minimum speed floors them).
 *   rebalance     0.5-1.5: a row's routing weight may halve or grow by half, no more --
 *                 routing is to spread heat, not to empty a row.
 *   route_away    0.25-1: a hot rack's traffic weight; never 0, the rack keeps serving.
 *   admission     1 .. SK_SERVER_QUEUE_CAP requests waiting per server (whole requests).
 *   gpu_cap       1-1500 W per GPU, the scenario's range (the twin narrows it, above).
 * Checklist: a new lever gets its SK_LEVER_<ID> row and its place in SK_ACTION_KINDS (at
 * the end), a case in twin.c's lever(), and its range and step in docs/CONTROL.md. */
#define SK_LEVER_BATCH_WINDOW(X) X(BATCH_WINDOW, "batch_window", "ms", "scheduler", 0.0, 200.0, 10.0)
#define SK_LEVER_CRAH_FAN(X) X(CRAH_FAN, "crah_fan_speed", "%", "bms", 0.0, 100.0, 5.0)
#define SK_LEVER_SUPPLY_TEMP(X) X(SUPPLY_TEMP, "supply_temp", "degC", "bms", 14.0, 27.0, 0.5)
#define SK_LEVER_PUMP_SPEED(X) X(PUMP_SPEED, "pump_speed", "%", "bms", 0.0, 100.0, 5.0)
#define SK_LEVER_CHW_TEMP(X) X(CHW_TEMP, "chw_supply_temp", "degC", "bms", 5.0, 18.0, 0.5)
#define SK_LEVER_REBALANCE(X) X(REBALANCE, "rebalance_row", "x", "scheduler", 0.5, 1.5, 0.1)
#define SK_LEVER_ROUTE_AWAY(X) X(ROUTE_AWAY, "route_away_rack", "x", "scheduler", 0.25, 1.0, 0.5)
#define SK_LEVER_ADMISSION(X)                                                              \
  X(ADMISSION, "admission_queue_cap", "requests", "scheduler", 1.0, SK_SERVER_QUEUE_CAP, 1.0)
#define SK_LEVER_GPU_CAP(X) X(GPU_CAP, "gpu_power_cap", "W", "scheduler", 1.0, 1500.0, 50.0)

#define SK_ACTION_KINDS(X)                                                                 \
  SK_LEVER_BATCH_WINDOW(X) /* server.batch_window_ms */                                    \
  SK_LEVER_CRAH_FAN(X)     /* a row's CRAH fan speed */                                    \
  SK_LEVER_SUPPLY_TEMP(X)  /* a row's supply-air setpoint */                               \
  SK_LEVER_PUMP_SPEED(X)   /* chilled-water pump speed */                                  \
  SK_LEVER_CHW_TEMP(X)     /* chilled-water supply setpoint */                             \
  SK_LEVER_REBALANCE(X)    /* a row's routing weight */                                    \
  SK_LEVER_ROUTE_AWAY(X)   /* a rack's thermal routing factor */                           \
  SK_LEVER_ADMISSION(X)    /* per-server queue cap */                                      \
  SK_LEVER_GPU_CAP(X)      /* server.gpu_power_cap_w */

/* One lever's figures as constant expressions (static initializers may use them):
 * SK_LEVER_MIN(SUPPLY_TEMP) is 14.0. */
#define SK__LEVER_MIN(id, name, unit, executor, min, max, step) (min)
#define SK__LEVER_MAX(id, name, unit, executor, min, max, step) (max)
#define SK__LEVER_STEP(id, name, unit, executor, min, max, step) (step)
#define SK_LEVER_MIN(id) SK_LEVER_##id(SK__LEVER_MIN)
#define SK_LEVER_MAX(id) SK_LEVER_##id(SK__LEVER_MAX)
#define SK_LEVER_STEP(id) SK_LEVER_##id(SK__LEVER_STEP)

typedef enum {
#define SK_ACTION_ENUM(id, name, unit, executor, min, max, step) SK_ACT_##id,
  SK_ACTION_KINDS(SK_ACTION_ENUM)
#undef SK_ACTION_ENUM
      SK_ACT_KIND_COUNT
} sk_action_kind;

typedef struct {
  sk_action_kind kind;
  int target;       /* row index (CRAH_FAN, SUPPLY_TEMP, REBALANCE), rack (ROUTE_AWAY), or -1 */
  double delta;     /* change in the lever's unit */
} sk_action;

const char *sk_action_name(sk_action_kind k);     /* "crah_fan_speed" */
const char *sk_action_unit(sk_action_kind k);     /* "%" */
const char *sk_action_executor(sk_action_kind k); /* "scheduler" or "bms" */
/* The table's range and step of a lever (the twin may narrow the range, above); NaN for
 * a kind out of range. */
double sk_action_min(sk_action_kind k);
double sk_action_max(sk_action_kind k);
double sk_action_step(sk_action_kind k);

/* Figures accumulated since sk_twin_probe_reset. */
typedef struct {
  double facility_j, it_j, cooling_j;
  double prompts_arrived, prompts_completed, prompts_rejected;
  double max_inlet_c;
  double ttft_p95_ms;    /* filled by sk_twin_probe_get: 2 x SLA / 20000 resolution, +inf
                            past 2 x SLA, NaN with no requests */
} sk_twin_probe;

typedef struct {
  /* One sample period's rows: n_racks rack rows, n_rows CRAH rows, one room row. */
  void (*on_sample)(void *ud, const sk_rack_sample *racks, int n_racks,
                    const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room);
  /* A timeline effect started or stopped. */
  void (*on_event)(void *ud, const sk_event_record *ev);
  void *ud;
} sk_twin_sinks;

/* Whole-run key figures (deterministic). */
typedef struct {
  double sim_s;                   /* s simulated */
  double prompts_arrived;
  double prompts_completed;
  double prompts_rejected;        /* arrivals dropped at full queues */
  double tokens_out;              /* output tokens */
  double it_kwh, crah_fan_kwh, pump_kwh, chiller_kwh, tower_kwh, losses_kwh, misc_kwh;
  double facility_kwh;
  double wh_per_prompt;           /* facility Wh / prompts completed */
  double pue;                     /* facility / IT energy */
  /* TTFT quantiles, ms, over every request of the run: those that got a first token, and
   * those still without one at the end (queued or in prefill, prompts_queued_at_end) at
   * their wait so far, a lower bound of their TTFT.  A quantile that is no measurement is
   * flagged censored (1) and is then a lower bound: its rank falls on a TTFT above the
   * quantile sketch's range (the figure is then SK_QSKETCH_MAX_VALUE, 1e6 ms), or it
   * would move if the waiting requests' first tokens came later than now. */
  double ttft_p50_ms, ttft_p95_ms, ttft_p99_ms;
  int ttft_p50_censored, ttft_p95_censored, ttft_p99_censored;
  double prompts_queued_at_end;   /* requests without a first token now (queued or in
                                     prefill): in the TTFT quantiles as lower bounds */
  double prompts_extrapolated;    /* prompts longer than the timing data's longest
                                     (SK_PERF_MEASURED_PROMPT_MAX_TOKENS): prefill extrapolated */
  double prefills_extrapolated;   /* prefill iterations larger than the timing data's largest
                                     (SK_PERF_MEASURED_PREFILL_MAX_TOKENS) */
  double inlet_compliance_pct;    /* % of rack-inlet samples <= INLET_MAX_C (full precision:
                                     print it with sk_summary_compliance_floor) */
  double inlet_samples;           /* rack-inlet samples: racks x sample periods */
  double inlet_breach_samples;    /* of them above INLET_MAX_C */
  double min_inlet_c, max_inlet_c;
  int n_rows;
  double max_inlet_row_c[SK_MAX_ROWS]; /* °C, highest sampled inlet per row */
  double mean_inlet_row_c[SK_MAX_ROWS];/* °C, mean sampled inlet per row */
  double mean_rack_kw_row[SK_MAX_ROWS];/* kW, mean rack PDU power per row */
  double crah_fan_kwh_row[SK_MAX_ROWS];/* kWh per row's CRAH fan */
  double samples;                 /* sample periods recorded */
} sk_summary;

/* Builds the room for a validated scenario.  `trace` (may be NULL) is borrowed and must
 * outlive the twin; it is used when sc->trace_csv is set.  Caller destroys the twin. */
sk_status sk_twin_create(sk_twin **out, const sk_scenario *sc, const sk_trace *trace, char *err,
                         size_t errlen);
void sk_twin_destroy(sk_twin *tw); /* NULL is a no-op */

/* Deep copy of the whole twin at its current time: plant, servers, queues, pending events
 * and RNG streams, so the clone run alone produces exactly what the original would
 * (what-if forks).  The clone has no sinks; the trace stays borrowed.  Caller destroys. */
sk_status sk_twin_clone(const sk_twin *src, sk_twin **out);

void sk_twin_set_sinks(sk_twin *tw, const sk_twin_sinks *sinks);

/* Moves a lever at the current sim time (the executors' seam: a scheduler or BMS adapter
 * does the same on real equipment).  *applied (may be NULL) receives the change actually
 * made after clamping.  SK_EINVAL for a target out of range or a delta that is not
 * finite (nothing moves then). */
sk_status sk_twin_apply(sk_twin *tw, const sk_action *a, double *applied);

/* 1 if applying a would change its lever (target valid and not already at the bound in
 * that direction), else 0. */
int sk_twin_can_move(const sk_twin *tw, const sk_action *a);

/* Current value of a lever (same units as sk_action.delta). */
double sk_twin_lever(const sk_twin *tw, sk_action_kind kind, int target);

/* From now on no scenario effect starts or stops: the effects active now stay as they are.
 * A what-if fork calls it right after sk_twin_clone, so its forecast does not foresee the
 * scenario's scripted future (a real twin would not know it); the diurnal load and the
 * weather, which forecasts cover, go on. */
void sk_twin_freeze_timeline(sk_twin *tw);

/* The scenario's timeline effects by name, and starting or stopping one now (a command:
 * session.h).  Starting a running effect or stopping a stopped one does nothing; the
 * scripted start or stop of an effect a command already moved so does nothing either.
 * stop_ns > now schedules its stop (0: none).  SK_EINVAL for an index out of range. */
int sk_twin_effect_find(const sk_twin *tw, const char *name); /* index or -1 */
int sk_twin_effect_running(const sk_twin *tw, int effect);
sk_status sk_twin_effect_start(sk_twin *tw, int effect, sk_time_ns stop_ns);
sk_status sk_twin_effect_stop(sk_twin *tw, int effect);

/* A live settings key changed (scenario.h, SK_LIVE_TWIN): the twin takes the new seed
 * settings (inlet limit for compliance, SLA for the probe from its next reset). */
void sk_twin_settings_changed(sk_twin *tw, const sk_settings *st);

void sk_twin_probe_reset(sk_twin *tw);
void sk_twin_probe_get(const sk_twin *tw, sk_twin_probe *out);

/* The rows of the most recent sample (n_racks of them); valid until the next run call. */
const sk_rack_sample *sk_twin_last_racks(const sk_twin *tw, int *n_racks);
const sk_room_sample *sk_twin_last_room(const sk_twin *tw);
const sk_crah_sample *sk_twin_last_crahs(const sk_twin *tw, int *n_rows);
/* °C, the coldest supply air the CRAH coils can deliver now: CHW supply + coil approach +
 * the CHW ΔT excess when the pumps move too little water.  A setpoint below it is missed. */
double sk_twin_coil_floor_c(const sk_twin *tw);
int sk_twin_rows(const sk_twin *tw);
int sk_twin_racks_per_row(const sk_twin *tw);

/* Advances to t_ns (clamped to the scenario's end).  Returns SK_OK, or the twin's sticky
 * error (sk_twin_status): the first event the twin could not schedule (SK_ENOMEM when the
 * engine's queue cannot grow).  From that event on the twin computes nothing -- its
 * handlers return at once and no sample reaches the sinks -- and every later call returns
 * the same error without advancing; the caller ends the run and destroys the twin. */
sk_status sk_twin_run_until(sk_twin *tw, sk_time_ns t_ns);
/* SK_OK, or the first error that stopped the twin (see sk_twin_run_until).  A clone of a
 * failed twin carries its error. */
sk_status sk_twin_status(const sk_twin *tw);
sk_time_ns sk_twin_now(const sk_twin *tw);
sk_time_ns sk_twin_end(const sk_twin *tw);
uint64_t sk_twin_events(const sk_twin *tw);   /* engine events executed */

void sk_twin_summary(const sk_twin *tw, sk_summary *out);

/* s->inlet_compliance_pct rounded down to `decimals` decimal places (0..9), computed from
 * the sample counts: a run with any breaching sample never shows 100 (99.998 % is 99.99 at
 * two places, not 100.00).  Print it with exactly `decimals` places.  NaN without samples. */
double sk_summary_compliance_floor(const sk_summary *s, int decimals);

const sk_scenario *sk_twin_scenario(const sk_twin *tw);

#endif
