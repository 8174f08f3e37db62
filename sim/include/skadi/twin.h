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
#include "skadi/levers.h"
#include "skadi/scenario.h"
#include "skadi/telemetry.h"
#include "skadi/trace.h"

typedef struct sk_twin sk_twin;

/* An action's target as the audit trail writes it: "room", "row C" or "R-C-07" (by the
 * lever's scope; out holds n bytes, at least 8). */
void sk_action_target_name(const sk_scenario *sc, const sk_action *a, char *out, size_t n);
/* The inverse, for the lever k: "room"; a row as "C" or "row C"; a rack id.  SK_EINVAL
 * when text names no target of that scope in sc's room. */
sk_status sk_action_target_parse(const sk_scenario *sc, sk_action_kind k, const char *text,
                                 int *target);

/* Figures accumulated since sk_twin_probe_reset. */
typedef struct {
  double facility_j, it_j, cooling_j;
  double prompts_arrived, prompts_completed, prompts_rejected;
  double max_inlet_c;
  double stored_cold_j;  /* filled by sk_twin_probe_get: electricity the chillers would need
                            to bring the chilled-water loop back to its temperature at the
                            reset (its warming since then, at the chillers' COP now);
                            negative when the loop was cooled */
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

/* ASHRAE TC 9.9's recommended envelope for A1 equipment tops out at a 27 °C inlet
 * (physics.md §2); compliance is reported against it beside settings.inlet_max_c. */
#define SK_ASHRAE_RECOMMENDED_MAX_C 27.0

/* How the racks a timeline effect touches (its racks, or its row's) fared while it ran:
 * their inlets when it started and their extremes while it was on, beside the highest
 * inlet of every other rack over the same samples.  NaN when it never ran. */
typedef struct {
  double start_inlet_c;   /* °C, mean of its racks' inlets when it started */
  double min_inlet_c, max_inlet_c;
  double others_max_inlet_c;
  int n_racks;
} sk_effect_inlets;

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
  /* KV prefix reuse (workload.prefix_cache; a trace with hash_ids), over the requests the
   * servers accepted: their full 512-token blocks looked up, those found cached (the
   * leading run), and the prompt tokens whose prefill the hits skipped.  The rate is
   * hit / asked, NaN when no block was asked (Poisson arrivals, no hash_ids, off). */
  double prefix_blocks_asked, prefix_blocks_hit, prefix_hit_rate, prefill_tokens_skipped;
  double inlet_compliance_pct;    /* % of rack-inlet samples <= INLET_MAX_C (full precision:
                                     print it with sk_summary_compliance_floor) */
  double inlet_samples;           /* rack-inlet samples: racks x sample periods */
  double inlet_breach_samples;    /* of them above INLET_MAX_C */
  double inlet_recommended_breach_samples; /* of them above SK_ASHRAE_RECOMMENDED_MAX_C */
  /* The chilled-water loop's warming over the run, as the electricity the chillers would
   * need to take it back to where it started (kWh, at the run's mean chiller COP; negative
   * when it ended colder): cold the run borrowed from the water and did not pay for. */
  double chw_start_c, chw_end_c;
  double stored_cold_kwh;
  /* The chillers' capacity: how long the chilled-water load exceeded it (s; the water then
   * warms, docs/MODEL.md) and the warmest the supply got (°C). */
  double chw_overload_s, chw_max_c;
  int n_effects;
  sk_effect_inlets effect_inlets[SK_MAX_EFFECTS];
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

/* How far the coil floor sits above a row's supply-air setpoint (K, 0 when it does not):
 * the supply air the coil is driving towards misses its setpoint by this once the coil's
 * lag (room.coil_tau_s) has passed.  The largest over the rows, its row in *row. */
double sk_twin_coil_miss_k(const sk_twin *tw, int *row);
int sk_twin_rows(const sk_twin *tw);

/* °C, the highest rack inlet of the room if extra_servers more servers joined any one rack
 * now (sk_row_spare_inlet_c over the rows). */
double sk_twin_spare_inlet_c(const sk_twin *tw, double extra_servers);
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
/* The same for any count: % of `samples` not in `breaches`, rounded down. */
double sk_compliance_floor(double samples, double breaches, int decimals);

const sk_scenario *sk_twin_scenario(const sk_twin *tw);

#endif
