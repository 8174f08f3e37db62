/*
 * plant.c -- chilled-water plant, electrical chain, outdoor profile.
 *
 * Chillers: EnergyPlus Chiller:Electric:EIR (DOE-2) with the published DOE-2
 * Centrifugal/5.50COP curve set (physics.md §3.2):
 *   P = (Q_ref*CAPFT/COP_ref) * EIRFT * EIRFPLR(PLR),  PLR = Q / (Q_ref*CAPFT).
 * Chillers are staged: the fewest that carry the load at PLR <= 1 run, sharing it
 * equally.  Below min PLR a chiller cycles: its power scales down linearly from the
 * min-PLR point.  Curve inputs are clamped to the valid range; above 10 °C CHW the
 * biquadratic would turn COP back down, so a linear +2.8 %/K extension is used instead,
 * capped at 18 °C.
 * Condenser water entering = wet bulb + tower approach, floored (physics.md §8.2).
 * Pumps (CHW + CW) follow the affinity law P = P_rated s^3; the CHW ΔT at speed s is
 * design_dt * (load/design_load) / s -- when it exceeds design the coils cannot make
 * their supply air (thermal.c adds the excess to the coil floor).
 * Tower fans: P = P_rated * f^3, f = rejected heat / design rejection, f >= 0.3 (VSD
 * with a minimum speed; physics.md §3.1).  UPS and PDU losses scale with IT power.
 */
#include "skadi/plant.h"

#include <math.h>

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

double sk_pump_w(const sk_plant_params *pp) {
  double s = pp->pump_speed_pct / 100.0;
  return pp->pump_rated_kw * 1000.0 * s * s * s;
}

void sk_plant_hydraulics(sk_plant_state *st, const sk_plant_params *pp, double load_w) {
  double s = pp->pump_speed_pct / 100.0;
  double frac = pp->design_load_kw > 0 ? load_w / (pp->design_load_kw * 1000.0) : 0.0;
  st->chw_dt_k = s > 0 ? pp->chw_design_dt_k * frac / s : 1e9;
  st->chw_excess_k = st->chw_dt_k > pp->chw_design_dt_k ? st->chw_dt_k - pp->chw_design_dt_k : 0;
  st->pump_w = sk_pump_w(pp);
}

void sk_plant_update(sk_plant_state *st, const sk_plant_params *pp, double load_w,
                     double wetbulb_c) {
  st->load_w = load_w;
  sk_plant_hydraulics(st, pp, load_w);
  double cond = wetbulb_c + pp->tower_approach_k;
  if (cond < pp->condenser_min_c)
    cond = pp->condenser_min_c;
  st->condenser_c = cond;

  double cap_w = pp->chiller_capacity_kw * 1000.0 * sk_chiller_capft(pp->chw_supply_c, cond);
  int n = 1;
  while (n < pp->n_chillers && load_w > n * cap_w)
    n++;
  st->n_running = n;
  st->overloaded = load_w > n * cap_w;
  double plr = load_w / (n * cap_w);
  st->plr = plr;
  double eirft = sk_chiller_eirft(pp->chw_supply_c, cond);
  double p_full = cap_w / pp->chiller_cop_ref * eirft; /* per chiller at PLR 1 */
  double p;
  if (plr >= pp->chiller_min_plr)
    p = n * p_full * sk_chiller_eirfplr(plr);
  else
    p = n * p_full * sk_chiller_eirfplr(pp->chiller_min_plr) * (plr / pp->chiller_min_plr);
  st->chiller_w = load_w > 0 ? p : 0.0;
  st->cop = st->chiller_w > 0 ? load_w / st->chiller_w : 0.0;

  double design_rej = pp->design_load_kw * 1000.0 * (1.0 + 1.0 / pp->chiller_cop_ref);
  double f = design_rej > 0 ? (load_w + st->chiller_w) / design_rej : 0.0;
  if (f < 0.3)
    f = 0.3;
  st->tower_w = pp->tower_rated_kw * 1000.0 * f * f * f;
}

double sk_electrical_losses_w(const sk_plant_params *pp, double it_w) {
  return it_w * (1.0 / pp->ups_eff - 1.0) + it_w * pp->pdu_loss_frac;
}

double sk_wetbulb_c(const sk_plant_params *pp, double hour_of_day) {
  return pp->wetbulb_mean_c +
         pp->wetbulb_amplitude_k * cos(SK_TWO_PI * (hour_of_day - pp->wetbulb_peak_hour) / 24.0);
}
