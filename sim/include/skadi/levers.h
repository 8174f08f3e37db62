/*
 * levers.h -- the levers an executor can move: their table (name, unit, executor, range,
 * step), the action kinds it numbers and one action.  The twin moves them (twin.h,
 * sk_twin_apply), the controller chooses moves (control.h) and the scenario checks the keys
 * that set a lever against their ranges (scenario.c); it sits below all three and depends
 * on nothing above the models.  The functions are defined in twin.c, beside the lever code.
 */
#ifndef SKADI_LEVERS_H
#define SKADI_LEVERS_H

#include "skadi/server.h" /* SK_SERVER_QUEUE_CAP: the admission lever's top */

/* Levers an executor can move: the one table of them.  Each action is a relative change
 * (delta) of one lever on one target (row or rack index, -1 for room-wide levers).  Names
 * are stable (recordings and the audit log use them); never reorder the rows (the enum
 * numbers device indices).
 *
 * One row per lever, X(id, name, unit, executor, min, max, step, scope):
 *   min, max  the lever's range, in its unit.  sk_twin_apply clamps to it; the scenario keys
 *             that set a lever (room.supply_setpoint_c, plant.chw_supply_c, ... and the
 *             crah_override effect) are validated against it, so a scenario never starts a
 *             lever outside the range its executor keeps.  Three levers have a floor or a
 *             ceiling that depends on the scenario as well, and the twin takes the tighter
 *             of the two: CRAH fan >= room.crah_min_speed_pct, pump >= plant.pump_min_speed_pct,
 *             GPU cap within [decode ceiling, max(TDP, the scenario's cap)].
 *   step      the optimizer's fine step (control.c; the coarse step is a multiple of it).
 *   scope     what an action's target names: the room (target -1), a row or a rack.
 * Why these ranges (../shared/reference/physics.md, "§"):
 *   batch_window  0-200 ms: every ms of window is waiting charged to TTFT, and the TTFT
 *                 p95 SLA is 250 ms (§8.3); past 200 ms the window alone leaves no room for
 *                 queueing and prefill.
 *   supply_temp   14-27 °C: 27 is ASHRAE's recommended inlet top (§2) -- inlets sit at or
 *                 above supply air (recirculation only warms them), so warmer supply air puts
 *                 every rack outside the envelope; 14 keeps inlets at the A1 allowable floor
 *                 of 15 °C (§2) with the room's >= 8 % recirculation (§1.3: ~1 K at the
 *                 12 K rack rise of §8.1); colder air only over-cools.  Both are reachable:
 *                 the coil floor is 10.6 °C at the coldest water (5 °C + 5.6 K approach,
 *                 §3.1).
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
/* What the target of an action on a lever names. */
typedef enum { SK_SCOPE_ROOM = 0, SK_SCOPE_ROW, SK_SCOPE_RACK } sk_lever_scope;

#define SK_LEVER_BATCH_WINDOW(X)                                                           \
  X(BATCH_WINDOW, "batch_window", "ms", "scheduler", 0.0, 200.0, 10.0, SK_SCOPE_ROOM)
#define SK_LEVER_CRAH_FAN(X) X(CRAH_FAN, "crah_fan_speed", "%", "bms", 0.0, 100.0, 5.0, SK_SCOPE_ROW)
#define SK_LEVER_SUPPLY_TEMP(X) X(SUPPLY_TEMP, "supply_temp", "degC", "bms", 14.0, 27.0, 0.5, SK_SCOPE_ROW)
#define SK_LEVER_PUMP_SPEED(X) X(PUMP_SPEED, "pump_speed", "%", "bms", 0.0, 100.0, 5.0, SK_SCOPE_ROOM)
#define SK_LEVER_CHW_TEMP(X) X(CHW_TEMP, "chw_supply_temp", "degC", "bms", 5.0, 18.0, 0.5, SK_SCOPE_ROOM)
#define SK_LEVER_REBALANCE(X) X(REBALANCE, "rebalance_row", "x", "scheduler", 0.5, 1.5, 0.1, SK_SCOPE_ROW)
#define SK_LEVER_ROUTE_AWAY(X) X(ROUTE_AWAY, "route_away_rack", "x", "scheduler", 0.25, 1.0, 0.5, SK_SCOPE_RACK)
#define SK_LEVER_ADMISSION(X)                                                              \
  X(ADMISSION, "admission_queue_cap", "requests", "scheduler", 1.0, SK_SERVER_QUEUE_CAP, 1.0, SK_SCOPE_ROOM)
#define SK_LEVER_GPU_CAP(X) X(GPU_CAP, "gpu_power_cap", "W", "scheduler", 1.0, 1500.0, 50.0, SK_SCOPE_ROOM)

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
#define SK__LEVER_MIN(id, name, unit, executor, min, max, step, scope) (min)
#define SK__LEVER_MAX(id, name, unit, executor, min, max, step, scope) (max)
#define SK__LEVER_STEP(id, name, unit, executor, min, max, step, scope) (step)
#define SK_LEVER_MIN(id) SK_LEVER_##id(SK__LEVER_MIN)
#define SK_LEVER_MAX(id) SK_LEVER_##id(SK__LEVER_MAX)
#define SK_LEVER_STEP(id) SK_LEVER_##id(SK__LEVER_STEP)

typedef enum {
#define SK_ACTION_ENUM(id, name, unit, executor, min, max, step, scope) SK_ACT_##id,
  SK_ACTION_KINDS(SK_ACTION_ENUM)
#undef SK_ACTION_ENUM
      SK_ACT_KIND_COUNT
} sk_action_kind;

typedef struct {
  sk_action_kind kind;
  int target;   /* by the lever's scope: a row index, a rack index, or -1 for the room */
  double delta; /* change in the lever's unit */
} sk_action;

const char *sk_action_name(sk_action_kind k);     /* "crah_fan_speed" */
const char *sk_action_unit(sk_action_kind k);     /* "%" */
const char *sk_action_executor(sk_action_kind k); /* "scheduler" or "bms" */
/* The table's range and step of a lever (the twin may narrow the range, above); NaN for
 * a kind out of range. */
double sk_action_min(sk_action_kind k);
double sk_action_max(sk_action_kind k);
double sk_action_step(sk_action_kind k);
/* What a target of the lever names (SK_SCOPE_ROOM for a kind out of range). */
sk_lever_scope sk_action_scope(sk_action_kind k);

#endif
