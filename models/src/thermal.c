/*
 * thermal.c -- rack and row air path.
 *
 * Per rack i in a row served by one CRAH (supply T_s, airflow V):
 *   tile air      V_t = V / n_racks                 (perforated tiles share the CRAH air)
 *   rack air      V_r = n_servers * airflow_m3s,  G = rho_cp * V_r  (W/K)
 *   heat to aisle Q_i = G (T_out - T_in)             (lagged by the rack's capacitance)
 *   hot aisle     C_h dT_h/dt = Qs_i - rho_cp V_t (T_h - T_s),  Qs = 1/4,1/2,1/4-smoothed Q
 *                 over the rack and its neighbours (air mixes along the aisle); C_h is the
 *                 room air behind the rack (air_m3_per_rack), tau_h = C_h / (rho_cp V_t)
 *   recirc.       r_i = max(r_base,i, 1 - (1 - BP) V_t / Vs_r,i), Vs_r the smoothed rack
 *                 air (the cold aisle is shared too), BP the share of the tiles' air that
 *                 bypasses the racks (room.bypass_frac): the air-management flow balance
 *                 (CRAH air reaching IT = (1 - BP) V_t = (1 - R) V_r, CIBSE Journal 2012) with BP
 *                 held at a legacy open hall's 0.5, so a rack pulling more than half its
 *                 tiles' air draws the rest from the hot aisle (docs/MODEL.md)
 *   inlet         C_c dT_in/dt = G (T_s + r_i (T_h,i - T_s) - T_in)  (physics.md §1.3,
 *                 per-rack fraction), C_c the cold-aisle air in front of the rack,
 *                 tau_in = cold_aisle_m3_per_rack / V_r
 *   exhaust       C dT_out/dt = P - G (T_out - T_in), C = n_servers * C_server;
 *                 steady state T_out = T_in + P/(m_dot cp) (physics.md §1.1).
 * Every node is solved exactly for constant inputs over the step (stable for any dt).
 * The CRAH removes the row's heat plus its own fan heat (the aisles' air stores and gives
 * back a little in transients: reported, not charged to the coil, see below); its return air is T_s + load / (rho_cp V).  Fan power follows ASHRAE 90.1
 * Appendix G's part-load curve for variable-speed fans (physics.md §3.1), P = P_rated f(s) / f(1),
 * f(s) = 0.0013 + 0.1470 s + 0.9506 s^2 - 0.0998 s^3, not the pure cube: a real fan
 * also works against fixed pressure drops (coil, filters, floor tiles) and loses motor and
 * drive efficiency at part load, so at 40 % speed it draws 20.6 % of rated, not 6.4 %.
 * Rejected: a full Tang cross-interference matrix (needs CFD-derived coefficients we do
 * not have); per-server nodes (a rack's servers share inlet and aisle).
 */
#include "skadi/thermal.h"

#include <math.h>

/* ASHRAE 90.1 Appendix G, VSD fan part-load curve (physics.md §3.1, [M]).  The
 * coefficients sum to 0.9991 at full speed; dividing by that keeps crah_rated_fan_kw
 * the power at 100 % speed. */
static const double FAN_CURVE[4] = {0.0013, 0.1470, 0.9506, -0.0998};

static double fan_cubic(double x) {
  return FAN_CURVE[0] + x * (FAN_CURVE[1] + x * (FAN_CURVE[2] + x * FAN_CURVE[3]));
}

double sk_crah_fan_part_load(double speed_frac) {
  double x = speed_frac < 0 ? 0 : (speed_frac > 1 ? 1 : speed_frac);
  return fan_cubic(x) / fan_cubic(1.0);
}

void sk_crah_prepare(sk_crah *c, const sk_room_params *rp, double chw_supply_c,
                     double chw_excess_k, double dt_s) {
  double s = c->speed_pct / 100.0;
  c->flow_m3s = rp->crah_rated_flow_m3s * s;
  c->fan_w = rp->crah_rated_fan_kw * 1000.0 * sk_crah_fan_part_load(s);
  double floor_c = chw_supply_c + rp->coil_approach_k + (chw_excess_k > 0 ? chw_excess_k : 0);
  c->target_c = c->setpoint_c > floor_c ? c->setpoint_c : floor_c;
  /* the coil's metal and water lag the supply air behind what it drives towards */
  if (dt_s <= 0 || rp->coil_tau_s <= 0)
    c->supply_c = c->target_c;
  else
    c->supply_c = c->target_c + (c->supply_c - c->target_c) * exp(-dt_s / rp->coil_tau_s);
}

/* exp(-dt/tau) for a node of heat capacity cap_j_per_k (J/K) flushed by flow_w_per_k (W/K):
 * 0 (the node at its equilibrium) when it has no mass or the flow is unbounded. */
static double lag(double cap_j_per_k, double flow_w_per_k, double dt_s) {
  if (cap_j_per_k <= 0)
    return 0.0;
  return exp(-dt_s * flow_w_per_k / cap_j_per_k);
}

/* Weighted mean of x over rack i and its neighbours, weights 1/4, 1/2, 1/4 (renormalised at
 * the row's ends): air mixes along an open aisle. */
static double along_aisle(const double *x, int n, int i) {
  double wx = 0.5 * x[i], w = 0.5;
  if (i > 0) {
    wx += 0.25 * x[i - 1];
    w += 0.25;
  }
  if (i + 1 < n) {
    wx += 0.25 * x[i + 1];
    w += 0.25;
  }
  return wx / w;
}

/* Recirculation of a rack whose smoothed air demand is v_bar against tile air v_tile: the
 * share the tiles' air, less what bypasses the racks, does not cover comes from the hot
 * aisle (the flow balance V_t (1 - BP) = V_r (1 - R)), never below the rack's base share. */
static double recirc(double base, double v_tile, double v_bar, double bypass_frac) {
  double short_frac = v_bar > 0 ? 1.0 - (1.0 - bypass_frac) * v_tile / v_bar : 0.0;
  return short_frac > base ? short_frac : base;
}

double sk_row_spare_inlet_c(const sk_rack_thermal *racks, int n, const sk_crah *c,
                            const sk_room_params *rp, const sk_server_params *sp,
                            double extra_servers) {
  double v_rack[64], worst = -INFINITY;
  double v_tile = n > 0 ? c->flow_m3s / n : 0.0, ts = c->supply_c;
  for (int i = 0; i < n; i++)
    v_rack[i] = racks[i].n_servers * sp->airflow_m3s;
  for (int i = 0; i < n; i++) { /* the servers join rack i */
    v_rack[i] += extra_servers * sp->airflow_m3s;
    for (int j = i > 0 ? i - 1 : 0; j <= i + 1 && j < n; j++) { /* it and its neighbours */
      double rc = recirc(racks[j].recirc_base, v_tile, along_aisle(v_rack, n, j), rp->bypass_frac);
      double t = ts + rc * (racks[j].t_hot_c - ts);
      if (t > worst)
        worst = t;
    }
    v_rack[i] -= extra_servers * sp->airflow_m3s;
  }
  return worst;
}

void sk_row_thermal_step(sk_rack_thermal *racks, int n, sk_crah *c, const sk_room_params *rp,
                         const sk_server_params *sp, double dt_s) {
  double q[64], v_rack[64];
  double v_tile = n > 0 ? c->flow_m3s / n : 0.0;
  double ts = c->supply_c;
  double rho_cp = rp->rho_cp_j_per_m3k;
  double c_hot = rho_cp * rp->air_m3_per_rack, c_cold = rho_cp * rp->cold_aisle_m3_per_rack;
  double heat = 0.0, stored = 0.0;

  for (int i = 0; i < n; i++) {
    sk_rack_thermal *r = &racks[i];
    v_rack[i] = r->n_servers * sp->airflow_m3s;
    q[i] = rho_cp * v_rack[i] * (r->t_out_c - r->t_in_c);
    if (q[i] < 0)
      q[i] = 0;
    heat += q[i];
  }
  for (int i = 0; i < n; i++) {
    sk_rack_thermal *r = &racks[i];
    /* hot aisle: C_h dT_h/dt = Q̄ - ρc_p V_t (T_h - T_s); the tiles are equal, so the
     * smoothed Q/V is the smoothed Q over one tile's air */
    double q_bar = along_aisle(q, n, i), g_tile = rho_cp * v_tile;
    double before = r->t_hot_c;
    if (g_tile > 0) {
      double t_eq = ts + q_bar / g_tile;
      r->t_hot_c = t_eq + (r->t_hot_c - t_eq) * lag(c_hot, g_tile, dt_s);
    } else if (c_hot > 0) {
      r->t_hot_c += q_bar * dt_s / c_hot; /* no air: the aisle only warms */
    }
    stored += c_hot * (r->t_hot_c - before);
    /* recirculation, with its neighbours' air demand: the cold aisle is shared */
    double rc = recirc(r->recirc_base, v_tile, along_aisle(v_rack, n, i), rp->bypass_frac);
    r->recirc = rc;
    /* inlet: the cold aisle in front of the rack, flushed by the rack's own air */
    double t_mix = ts + rc * (r->t_hot_c - ts);
    before = r->t_in_c;
    r->t_in_c = t_mix + (r->t_in_c - t_mix) * lag(c_cold, rho_cp * v_rack[i], dt_s);
    stored += c_cold * (r->t_in_c - before);
    r->q_air_w = q[i];
  }
  for (int i = 0; i < n; i++) {
    sk_rack_thermal *r = &racks[i];
    double g = rho_cp * v_rack[i];
    double cap = r->n_servers * sp->heat_capacity_j_per_k;
    double t_eq = r->t_in_c + r->power_w / g;
    r->t_out_c = t_eq + (r->t_out_c - t_eq) * exp(-dt_s * g / cap);
  }
  /* what the coil takes: the racks' heat and the fan's.  The heat the aisles' air stores
   * or gives back (c->stored_w) is left out of it on purpose: the plant sees the coil load
   * a step later, and at low pump speed the chilled water's dT turns a load change into a
   * supply-air change (the coil floor), which moves the stored heat again -- with it in,
   * that loop gained ~30 K/K and diverged (found by a sweep at 35-42 % pumps).  The air
   * holds ~0.2 MJ/K per row, so a 5 K swing is 1 MJ: 15 s of a row's load, given back. */
  c->stored_w = dt_s > 0 ? stored / dt_s : 0.0;
  c->load_w = heat + c->fan_w;
  c->return_c = ts + (c->flow_m3s > 0 ? c->load_w / (rho_cp * c->flow_m3s) : 0.0);
}
