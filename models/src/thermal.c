/*
 * thermal.c -- rack and row air path.
 *
 * Per rack i in a row served by one CRAH (supply T_s, airflow V):
 *   tile air      V_t = V / n_racks                 (perforated tiles share the CRAH air)
 *   rack air      V_r = n_servers * airflow_m3s,  G = rho_cp * V_r  (W/K)
 *   heat to aisle Q_i = G (T_out - T_in)             (lagged by the rack's capacitance)
 *   hot aisle     T_h,i = T_s + Qs_i / (rho_cp * Vs_i),  Qs, Vs = 1/4,1/2,1/4-smoothed Q
 *                 and V_t over the rack and its neighbours (air mixes along the aisle)
 *   recirc.       r_i = max(r_base,i, 1 - V_t / V_r) (a rack pulling more air than its
 *                 tiles give draws the deficit from the hot aisle)
 *   inlet         T_in = T_s + r_i (T_h,i - T_s)     (physics.md §1.3, per-rack fraction)
 *   exhaust       C dT_out/dt = P - G (T_out - T_in), C = n_servers * C_server,
 *                 solved exactly for constant P, T_in over the step (stable for any dt);
 *                 steady state T_out = T_in + P/(m_dot cp) (physics.md §1.1).
 * The CRAH removes the row's heat plus its own fan heat; its return air is
 * T_s + load / (rho_cp V).  Fan power follows ASHRAE 90.1 Appendix G's part-load curve
 * for variable-speed fans (physics.md §3.1), P = P_rated f(s) / f(1),
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
                     double chw_excess_k) {
  double s = c->speed_pct / 100.0;
  c->flow_m3s = rp->crah_rated_flow_m3s * s;
  c->fan_w = rp->crah_rated_fan_kw * 1000.0 * sk_crah_fan_part_load(s);
  double floor_c = chw_supply_c + rp->coil_approach_k + (chw_excess_k > 0 ? chw_excess_k : 0);
  c->supply_c = c->setpoint_c > floor_c ? c->setpoint_c : floor_c;
}

void sk_row_thermal_step(sk_rack_thermal *racks, int n, sk_crah *c, const sk_room_params *rp,
                         const sk_server_params *sp, double dt_s) {
  double q[64];
  double v_tile = n > 0 ? c->flow_m3s / n : 0.0;
  double ts = c->supply_c;
  double heat = 0.0;

  for (int i = 0; i < n; i++) {
    sk_rack_thermal *r = &racks[i];
    double g = rp->rho_cp_j_per_m3k * r->n_servers * sp->airflow_m3s;
    q[i] = g * (r->t_out_c - r->t_in_c);
    if (q[i] < 0)
      q[i] = 0;
  }
  for (int i = 0; i < n; i++) {
    sk_rack_thermal *r = &racks[i];
    /* tiles are equal, so the smoothed Q/V is the weighted mean Q over one tile's air */
    double wq = 0.5 * q[i], w = 0.5;
    if (i > 0) {
      wq += 0.25 * q[i - 1];
      w += 0.25;
    }
    if (i + 1 < n) {
      wq += 0.25 * q[i + 1];
      w += 0.25;
    }
    double t_hot = ts + (v_tile > 0 ? wq / w / (rp->rho_cp_j_per_m3k * v_tile) : 0.0);
    double v_rack = r->n_servers * sp->airflow_m3s;
    double rc = r->recirc_base;
    if (v_rack > 0 && 1.0 - v_tile / v_rack > rc)
      rc = 1.0 - v_tile / v_rack;
    r->recirc = rc;
    r->t_in_c = ts + rc * (t_hot - ts);
    r->q_air_w = q[i];
    heat += q[i];
  }
  for (int i = 0; i < n; i++) {
    sk_rack_thermal *r = &racks[i];
    double g = rp->rho_cp_j_per_m3k * r->n_servers * sp->airflow_m3s;
    double cap = r->n_servers * sp->heat_capacity_j_per_k;
    double t_eq = r->t_in_c + r->power_w / g;
    r->t_out_c = t_eq + (r->t_out_c - t_eq) * exp(-dt_s * g / cap);
  }
  c->load_w = heat + c->fan_w;
  c->return_c = ts + (c->flow_m3s > 0 ? c->load_w / (rp->rho_cp_j_per_m3k * c->flow_m3s) : 0.0);
}
