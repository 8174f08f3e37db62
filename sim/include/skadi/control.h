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

/* What became of a proposal: the audit trail's `decision` (sk_action_record.decision holds
 * the name).  Names are stable -- recordings, the audit log and the report read them --
 * and each fits the record's field (checked at compile time in control.c). */
#define SK_DECISIONS(X)                                                                    \
  X(APPLIED, "applied")         /* closed loop: the executor moved the lever */           \
  X(ADVISED, "advised")         /* advisory: logged for an operator, nothing moved */     \
  X(REJECTED, "rejected")       /* a guardrail, the rate limit or the executor refused */ \
  X(REALIZED, "realized")       /* measured effect of an earlier decision */              \
  X(ROLLED_BACK, "rolled_back") /* an earlier decision undone */                          \
  X(TRAINED, "trained")         /* the IMS trained on the run's own warm-up */            \
  X(FAILED, "failed")           /* the IMS could not train on it */

typedef enum {
#define SK_DECISION_ENUM(id, name) SK_DECISION_##id,
  SK_DECISIONS(SK_DECISION_ENUM)
#undef SK_DECISION_ENUM
      SK_DECISION_COUNT
} sk_decision;

/* Static name of a decision ("rolled_back"); d out of range is a bug (aborts). */
const char *sk_decision_name(sk_decision d);
/* The decision named `name` into *out: SK_OK, or SK_ENOTFOUND (then *out is untouched). */
sk_status sk_decision_parse(const char *name, sk_decision *out);

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
/* 1 when a slow tick could run at the next step; else 0 with the reason in why: the
 * warm-up has not ended, or the kill switch is on. */
int sk_controller_can_tick(const sk_controller *c, char *why, size_t whylen);
/* Brings the next slow tick forward to the next step (an operator's "tick now"), when
 * sk_controller_can_tick; later ticks stay on the period's multiples.  Returns its answer. */
int sk_controller_request_slow_tick(sk_controller *c, char *why, size_t whylen);

/* A live settings key changed (scenario.h, SK_LIVE_CONTROL): the controller takes sc's
 * settings and control knobs at sim time now (a new slow period starts at its next
 * multiple).  The fast interval and the IMS/MMS parameters are fixed for a run. */
void sk_controller_settings_changed(sk_controller *c, const sk_scenario *sc, sk_time_ns now);

/* Called with both twins at the same sim time (a multiple of the interval).  `cf` (the
 * counterfactual) may be NULL: then realized savings are not measured.  Returns SK_OK, or
 * a twin's sticky error (sk_twin_status) without doing anything. */
sk_status sk_controller_step(sk_controller *c, sk_twin *opt, sk_twin *cf);

typedef struct {
  /* Audit rows by decision.  proposals = applied + advised + rejected, always: every action
   * put to a decision (a candidate, each move of a chosen plan, a guardrail write) is one
   * row with one of the three.  rolled_back rows undo applied ones and are not proposals. */
  int proposals, applied, advised, rejected, rolled_back;
  double pred_abs_err_sum;  /* sum |predicted - realized| saving over evaluated actions */
  int evaluated;
  int ims_trained;          /* 1 once a model is in use */
  int persistent_racks;     /* racks the MMS calls persistent now */
} sk_controller_stats;
void sk_controller_stats_get(const sk_controller *c, sk_controller_stats *out);
const sk_ims_model *sk_controller_ims(const sk_controller *c);

#endif
