/*
 * thermal.h -- air path of one row: rack inlets from supply air plus recirculated hot
 * aisle air, lumped-capacitance rack exhaust, and the row's CRAH unit.
 * Equations and sources: reference/physics.md §1, §3.1; docs/MODEL.md.
 */
#ifndef SKADI_THERMAL_H
#define SKADI_THERMAL_H

#include "skadi/params.h"

typedef struct {
  double n_servers;     /* servers in the rack (>= 1) */
  double recirc_base;   /* -, recirculation fraction with enough tile air */
  double power_w;       /* W, electrical power this step (all of it becomes heat) */
  double t_in_c;        /* °C, inlet (the cold-aisle air in front of the rack) */
  double t_hot_c;       /* °C, hot-aisle air behind the rack (room air node) */
  double t_out_c;       /* °C, exhaust (lumped node) */
  double q_air_w;       /* W, heat carried into the hot aisle by the rack's airflow */
  double recirc;        /* -, effective recirculation fraction this step */
} sk_rack_thermal;

typedef struct {
  double speed_pct;     /* %, fan speed */
  double setpoint_c;    /* °C, supply-air setpoint */
  double supply_c;      /* °C, supply air delivered: lags target_c by the coil's time
                         * constant (room.coil_tau_s) */
  double target_c;      /* °C, what the coil drives the supply towards:
                         * max(setpoint, CHW supply + approach + CHW ΔT excess) */
  double return_c;      /* °C */
  double flow_m3s;      /* m³/s */
  double fan_w;         /* W */
  double load_w;        /* W, heat the coil removes from the row's air (racks + fan) */
  double stored_w;      /* W, heat the row's air nodes stored this step (given back later;
                         * not in load_w, see sk_row_thermal_step) */
} sk_crah;

/* Fan power as a fraction of rated at speed_frac (0..1, clamped): ASHRAE 90.1 Appendix G
 * variable-speed fan curve, normalised to 1 at full speed. */
double sk_crah_fan_part_load(double speed_frac);

/* Sets the CRAH's airflow and fan power, and moves its delivered supply temperature over
 * dt_s towards target = max(setpoint, chw_supply + approach + chw_excess_k), where
 * chw_excess_k is how far the CHW ΔT exceeds its design (too little pump flow): a
 * first-order lag with the coil's time constant rp->coil_tau_s, solved exactly.  dt_s <= 0
 * (or tau 0) puts the supply on its target at once (the start of a run). */
void sk_crah_prepare(sk_crah *c, const sk_room_params *rp, double chw_supply_c,
                     double chw_excess_k, double dt_s);

/* Advances one row by dt_s: each rack's hot-aisle node, then its inlet node (the CRAH's
 * supply mixed with recirculated hot-aisle air), then its exhaust node; every node is a
 * first-order lag solved exactly over the step.  Sets c->load_w, c->stored_w and
 * c->return_c.
 * n <= 64. */
void sk_row_thermal_step(sk_rack_thermal *racks, int n, sk_crah *c, const sk_room_params *rp,
                         const sk_server_params *sp, double dt_s);

/* The highest inlet the row's racks would mix to at once if extra_servers more servers
 * joined any one rack (the worst rack; its neighbours share its cold aisle): the
 * recirculation of the new air demand against the hot aisle as it is now.  The inlet gets
 * there within its own ~2 s lag, before a control loop can answer; the hot aisle warms
 * with the new servers' heat only over minutes.  The optimizer's airflow margin. */
double sk_row_spare_inlet_c(const sk_rack_thermal *racks, int n, const sk_crah *c,
                            const sk_room_params *rp, const sk_server_params *sp,
                            double extra_servers);

#endif
