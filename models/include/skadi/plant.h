/*
 * plant.h -- chilled-water plant (chillers with DOE-2 curves, pumps, cooling tower),
 * electrical losses and the outdoor wet-bulb profile.  reference/physics.md §3, §8.2.
 */
#ifndef SKADI_PLANT_H
#define SKADI_PLANT_H

#include "skadi/params.h"

typedef struct {
  double load_w;          /* W, heat into the chilled water */
  double condenser_c;     /* °C, condenser water entering */
  double chw_dt_k;        /* K, chilled-water ΔT at the current pump flow */
  double chw_excess_k;    /* K, ΔT above design (coils cannot reach their supply) */
  double plr;             /* -, part-load ratio of each running chiller */
  int n_running;          /* chillers running */
  double cop;             /* -, load / chiller power */
  double chiller_w;       /* W */
  double pump_w;          /* W */
  double tower_w;         /* W */
  int overloaded;         /* 1 when the load exceeds every chiller at full capacity */
} sk_plant_state;

/* DOE-2 Centrifugal 5.50COP curves (x = CHW leaving °C, y = condenser entering °C),
 * with inputs clamped to the curves' valid range (CHW 5..10, ECWT 24..35) and, above
 * 10 °C CHW, a linear +2.8 %/K COP extension capped at 18 °C (physics.md §3.2). */
double sk_chiller_capft(double chw_c, double cond_c);
double sk_chiller_eirft(double chw_c, double cond_c);
double sk_chiller_eirfplr(double plr);

/* Pump power and the CHW ΔT (and its excess over design) for a given speed and load. */
double sk_pump_w(const sk_plant_params *pp);
void sk_plant_hydraulics(sk_plant_state *st, const sk_plant_params *pp, double load_w);

/* Full plant update for a heat load (W) and outdoor wet bulb (°C). */
void sk_plant_update(sk_plant_state *st, const sk_plant_params *pp, double load_w,
                     double wetbulb_c);

/* UPS + PDU losses (W) for an IT load (W). */
double sk_electrical_losses_w(const sk_plant_params *pp, double it_w);

/* Outdoor wet bulb (°C) at an hour of day (0..24). */
double sk_wetbulb_c(const sk_plant_params *pp, double hour_of_day);

#endif
