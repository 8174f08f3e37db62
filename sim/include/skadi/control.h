/*
 * control.h -- Measure -> Decide -> Act inside the twin: the IMS/MMS monitors, the fast
 * guardrail loop, the slow optimizer with what-if forks, guardrails, executors (through
 * sk_twin_apply) and the audit trail.
 *
 * The controller is an outer loop: the run session (session.h) advances the optimized
 * twin (and the counterfactual twin, same scenario and seed with no controller) to every
 * fast-loop boundary and calls sk_controller_step there.  Every decision happens at a fixed sim
 * time, so a run is still a pure function of (scenario, seed, mode).
 */
#ifndef SKADI_CONTROL_H
#define SKADI_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/ims.h"
#include "skadi/mms.h"
#include "skadi/twin.h"

typedef enum { SK_MODE_ADVISORY = 0, SK_MODE_CLOSED_LOOP = 1 } sk_mode;

typedef struct {
  void (*on_action)(void *ud, const sk_action_record *rec);
  void (*on_monitor)(void *ud, const sk_monitor_record *rows, int n);
  void *ud;
} sk_controller_sinks;

typedef struct sk_controller sk_controller;

/* mode, kill switch and intervals come from the scenario's settings; `ims` may be NULL:
 * then the controller trains its own model on the run's first control.ims_warmup_s. */
sk_status sk_controller_create(sk_controller **out, const sk_scenario *sc, sk_mode mode,
                               const sk_ims_model *ims, char *err, size_t errlen);
void sk_controller_destroy(sk_controller *c);
void sk_controller_set_sinks(sk_controller *c, const sk_controller_sinks *s);

/* Interval (ns) at which the runner must call sk_controller_step. */
sk_time_ns sk_controller_interval(const sk_controller *c);

/* The sim time the controller starts at (default 0): its warm-up counts from it and its
 * slow ticks fall on the period's multiples after it.  Call before the first step. */
void sk_controller_start_at(sk_controller *c, sk_time_ns t0_ns);
/* Threads the what-if forks of a slow tick may use (default 1; the caller's budget). */
void sk_controller_set_threads(sk_controller *c, int threads);
/* Advisory <-> closed loop from the next step on. */
void sk_controller_set_mode(sk_controller *c, sk_mode mode);
sk_mode sk_controller_mode(const sk_controller *c);
/* A live settings key changed (scenario.h, SK_LIVE_CONTROL): the controller takes sc's
 * settings and control knobs at sim time now (a new slow period starts at its next
 * multiple).  The fast interval and the IMS/MMS parameters are fixed for a run. */
void sk_controller_settings_changed(sk_controller *c, const sk_scenario *sc, sk_time_ns now);

/* Called with both twins at the same sim time (a multiple of the interval).  `cf` (the
 * counterfactual) may be NULL: then realized savings are not measured. */
sk_status sk_controller_step(sk_controller *c, sk_twin *opt, sk_twin *cf);

typedef struct {
  int proposals, applied, advised, rejected, rolled_back;
  double pred_abs_err_sum;  /* sum |predicted - realized| saving over evaluated actions */
  int evaluated;
  int ims_trained;          /* 1 once a model is in use */
  int persistent_racks;     /* racks the MMS calls persistent now */
} sk_controller_stats;
void sk_controller_stats_get(const sk_controller *c, sk_controller_stats *out);
const sk_ims_model *sk_controller_ims(const sk_controller *c);

#endif
