/*
 * plant.c -- chilled-water plant, electrical chain, outdoor profile.
 *
 * Chillers: EnergyPlus Chiller:Electric:EIR (DOE-2) with the published DOE-2
 * Centrifugal/5.50COP curve set (physics.md §3.2):
 *   P = (Q_ref*CAPFT/COP_ref) * EIRFT * EIRFPLR(PLR),  PLR = Q / (Q_ref*CAPFT).
 * Chillers are staged: the fewest that carry the heat they remove at PLR <= 1 run,
 * sharing it equally.  Below min PLR a chiller cycles: its power scales down linearly from
 * the min-PLR point.  Curve inputs are clamped to the valid range; above 10 °C CHW the
 * biquadratic would turn COP back down, so a linear +2.8 %/K extension is used instead,
 * capped at 18 °C.  Capacity is not extended above 10 °C (CAPFT is held there).
 *
 * Chilled-water supply: one well-mixed node of the loop's water, C = V rho c_p.  Each step
 * the chillers remove Q = clamp(load + C (T - T_set)/dt, 0, capacity(T)): exactly what
 * returns the supply to its setpoint when they can, all they have when they cannot; then
 * T += (load - Q) dt / C.  So a load beyond capacity warms the supply (which raises the
 * CRAH coil floor, thermal.c) until capacity, rising with T through CAPFT, meets it -- or
 * without bound above 10 °C, where capacity is held.  A raised setpoint is reached by the
 * load warming the water with the chillers off, a lowered one by pulling down at spare
 * capacity.  Rejected: holding the setpoint and only flagging the overload (the issue's
 * "honest physics": the water must warm); a steady-state solve of capacity(T) = load (it
 * has no solution past 10 °C and hides the loop's time constant).
 *
 * Condenser water entering = wet bulb + tower approach, floored (physics.md §8.2).
 * Pumps (CHW + CW): power follows the part-load curve of a variable-speed pump holding a
 * fixed differential-pressure setpoint, not the pure cube (sk_pump_part_load; the curve
 * keeps the static head the loop must hold at any flow); the CHW ΔT at speed s is
 * design_dt * (load/design_load) / s -- when it exceeds design the coils cannot make
 * their supply air (thermal.c adds the excess to the coil floor).
 * Tower fans: P = P_rated * f^3, f = rejected heat / design rejection, f >= 0.3 (VSD
 * with a minimum speed; physics.md §3.1).  UPS and PDU losses scale with IT power; the
 * share released in the room, and the lighting, are heat the chilled water removes.
 */
#include "skadi/plant.h"

#include <math.h>
#include <string.h>

#define SK_TWO_PI 6.283185307179586

static double clampd(double v, double lo, double hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

static double biquad(const double k[6], double x, double y) {
  return k[0] + k[1] * x + k[2] * x * x + k[3] * y + k[4] * y * y + k[5] * x * y;
}

static const double CAPFT[6] = {0.257896, 0.0389016, -0.00021708,
                                0.0468684, -0.00094284, -0.00034344};
static const double EIRFT[6] = {0.933884, -0.058212, 0.00450036, 0.00243, 0.000486, -0.001215};
static const double EIRFPLR[3] = {0.222903, 0.313387, 0.463710};

#define CHW_MIN_C 5.0
#define CHW_CURVE_MAX_C 10.0
#define CHW_EXT_MAX_C 18.0
#define CHW_EXT_PER_K 0.028
#define COND_MIN_C 24.0
#define COND_MAX_C 35.0

double sk_chiller_capft(double chw_c, double cond_c) {
  return biquad(CAPFT, clampd(chw_c, CHW_MIN_C, CHW_CURVE_MAX_C),
                clampd(cond_c, COND_MIN_C, COND_MAX_C));
}

double sk_chiller_eirft(double chw_c, double cond_c) {
  double y = clampd(cond_c, COND_MIN_C, COND_MAX_C);
  double e = biquad(EIRFT, clampd(chw_c, CHW_MIN_C, CHW_CURVE_MAX_C), y);
  if (chw_c > CHW_CURVE_MAX_C)
    e /= 1.0 + CHW_EXT_PER_K * (fmin(chw_c, CHW_EXT_MAX_C) - CHW_CURVE_MAX_C);
  return e;
}

double sk_chiller_eirfplr(double plr) {
  plr = clampd(plr, 0.0, 1.0);
  return EIRFPLR[0] + EIRFPLR[1] * plr + EIRFPLR[2] * plr * plr;
}

/* NREL openstudio-standards, Pump:VariableSpeed control type "VSD No Reset" (90.1
 * §6.5.4.2: at most 30 % of design power at 50 % flow; this curve gives 30.3 %).  The
 * published coefficients give 1.0063 at x = 1; dividing by that keeps pump_rated_kw the
 * power at 100 % speed. */
static const double PUMP_CURVE[4] = {0.0, 0.5726, -0.301, 0.7347};
#define RHO_CP_WATER 4.19e6 /* J/(m³·K), water at 5..15 °C: 1000 kg/m³ * 4.19 kJ/(kg·K) */

double sk_plant_chw_j_per_k(const sk_plant_params *pp) {
  return pp->chw_loop_m3 * RHO_CP_WATER;
}

static double cubic(const double k[4], double x) {
  return k[0] + x * (k[1] + x * (k[2] + x * k[3]));
}

double sk_pump_part_load(double x) {
  x = clampd(x, 0.0, 1.0);
  return cubic(PUMP_CURVE, x) / cubic(PUMP_CURVE, 1.0);
}

double sk_pump_w(const sk_plant_params *pp) {
  double s = fmax(pp->pump_speed_pct, pp->pump_min_speed_pct) / 100.0;
  return pp->pump_rated_kw * 1000.0 * sk_pump_part_load(s);
}

void sk_plant_hydraulics(sk_plant_state *st, const sk_plant_params *pp, double load_w) {
  double s = pp->pump_speed_pct / 100.0;
  double frac = pp->design_load_kw > 0 ? load_w / (pp->design_load_kw * 1000.0) : 0.0;
  st->chw_dt_k = s > 0 ? pp->chw_design_dt_k * frac / s : 1e9;
  st->chw_excess_k = st->chw_dt_k > pp->chw_design_dt_k ? st->chw_dt_k - pp->chw_design_dt_k : 0;
  st->pump_w = sk_pump_w(pp);
}

void sk_plant_init(sk_plant_state *st, const sk_plant_params *pp, double wetbulb_c) {
  memset(st, 0, sizeof *st);
  st->chw_supply_c = pp->chw_supply_c;
  sk_plant_update(st, pp, 0.0, wetbulb_c, 0.0);
}

void sk_plant_update(sk_plant_state *st, const sk_plant_params *pp, double load_w,
                     double wetbulb_c, double dt_s) {
  st->load_w = load_w;
  sk_plant_hydraulics(st, pp, load_w);
  double cond = wetbulb_c + pp->tower_approach_k;
  if (cond < pp->condenser_min_c)
    cond = pp->condenser_min_c;
  st->condenser_c = cond;

  /* the loop's energy balance, with the curves at the supply the chillers make now */
  double t = st->chw_supply_c;
  double cap_w = pp->chiller_capacity_kw * 1000.0 * sk_chiller_capft(t, cond);
  double cap_all = pp->n_chillers * cap_w;
  double c_j_per_k = sk_plant_chw_j_per_k(pp);
  double want = load_w;
  if (dt_s > 0 && c_j_per_k > 0)
    want += c_j_per_k * (t - pp->chw_supply_c) / dt_s;
  double q = clampd(want, 0.0, cap_all);
  /* Clamped, the step cannot pass the setpoint: want < 0 gives T + load dt/C < T_set,
   * want > cap_all gives T + (load - cap) dt/C > T_set. */
  if (want >= 0.0 && want <= cap_all)
    st->chw_supply_c = pp->chw_supply_c;
  else if (dt_s > 0 && c_j_per_k > 0)
    st->chw_supply_c = t + (load_w - q) * dt_s / c_j_per_k;
  st->removed_w = q;
  st->capacity_w = cap_all;
  st->overloaded = load_w > cap_all;

  int n = 1;
  while (n < pp->n_chillers && q > n * cap_w)
    n++;
  st->n_running = n;
  double plr = q / (n * cap_w);
  st->plr = plr;
  double eirft = sk_chiller_eirft(t, cond);
  double p_full = cap_w / pp->chiller_cop_ref * eirft; /* per chiller at PLR 1 */
  double p;
  if (plr >= pp->chiller_min_plr)
    p = n * p_full * sk_chiller_eirfplr(plr);
  else
    p = n * p_full * sk_chiller_eirfplr(pp->chiller_min_plr) * (plr / pp->chiller_min_plr);
  st->chiller_w = q > 0 ? p : 0.0;
  st->cop = st->chiller_w > 0 ? q / st->chiller_w : 0.0;

  double design_rej = pp->design_load_kw * 1000.0 * (1.0 + 1.0 / pp->chiller_cop_ref);
  double f = design_rej > 0 ? (q + st->chiller_w) / design_rej : 0.0;
  if (f < 0.3)
    f = 0.3;
  st->tower_w = pp->tower_rated_kw * 1000.0 * f * f * f;
}

double sk_electrical_losses_w(const sk_plant_params *pp, double it_w) {
  return it_w * (1.0 / pp->ups_eff - 1.0) + it_w * pp->pdu_loss_frac;
}

double sk_plant_room_heat_w(const sk_plant_params *pp, double it_w) {
  return pp->losses_in_room_frac * sk_electrical_losses_w(pp, it_w) + pp->misc_kw * 1000.0;
}

double sk_wetbulb_c(const sk_plant_params *pp, double hour_of_day) {
  return pp->wetbulb_mean_c +
         pp->wetbulb_amplitude_k * cos(SK_TWO_PI * (hour_of_day - pp->wetbulb_peak_hour) / 24.0);
}
