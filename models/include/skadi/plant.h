/*
 * plant.h -- chilled-water plant (chillers with DOE-2 curves, pumps, cooling tower),
 * electrical losses and the outdoor wet-bulb profile.  reference/physics.md §3, §8.2.
 */
#ifndef SKADI_PLANT_H
#define SKADI_PLANT_H

#include "skadi/params.h"

typedef struct {
  double load_w;          /* W, heat into the chilled water */
  double chw_supply_c;    /* °C, chilled-water supply actually delivered (>= setpoint
                           * while the chillers can pull it down; above it when not) */
  double removed_w;       /* W, heat the chillers take out of the water (<= capacity) */
  double capacity_w;      /* W, all chillers at full load at chw_supply_c */
  double condenser_c;     /* °C, condenser water entering */
  double chw_dt_k;        /* K, chilled-water ΔT at the current pump flow */
  double chw_excess_k;    /* K, ΔT above design (coils cannot reach their supply) */
  double plr;             /* -, part-load ratio of each running chiller */
  int n_running;          /* chillers running */
  double cop;             /* -, load / chiller power */
  double chiller_w;       /* W */
  double pump_w;          /* W */
  double tower_w;         /* W */
  int overloaded;         /* 1 when the load exceeds every chiller at full capacity (the
                           * supply then warms, see sk_plant_update) */
} sk_plant_state;

/* DOE-2 Centrifugal 5.50COP curves (x = CHW leaving °C, y = condenser entering °C),
 * with inputs clamped to the curves' valid range (CHW 5..10, ECWT 24..35) and, above
 * 10 °C CHW, a linear +2.8 %/K COP extension capped at 18 °C (physics.md §3.2). */
double sk_chiller_capft(double chw_c, double cond_c);
double sk_chiller_eirft(double chw_c, double cond_c);
double sk_chiller_eirfplr(double plr);

/* Part-load power fraction of the CHW + CW pumps at flow fraction x (speed / 100, raised to
 * the scenario's minimum speed): the "VSD No Reset" curve (fixed differential-pressure
 * setpoint) of NREL openstudio-standards for ASHRAE 90.1, normalised to 1 at x = 1. */
double sk_pump_part_load(double x);

/* Pump power and the CHW ΔT (and its excess over design) for a given speed and load. */
double sk_pump_w(const sk_plant_params *pp);
void sk_plant_hydraulics(sk_plant_state *st, const sk_plant_params *pp, double load_w);

/* Heat capacity of the chilled-water loop's water (J/K): chw_loop_m3 x rho c_p of water. */
double sk_plant_chw_j_per_k(const sk_plant_params *pp);

/* Starts the plant at rest: supply at its setpoint, no load. */
void sk_plant_init(sk_plant_state *st, const sk_plant_params *pp, double wetbulb_c);

/* Advances the plant by dt_s (> 0; 0 only re-evaluates power at the current supply) for a
 * heat load into the chilled water (W) and outdoor wet bulb (°C).  The chillers remove
 * what brings the supply to its setpoint, up to their capacity; the rest warms (or, when
 * they remove more, cools) the loop's water: C dT/dt = load - removed,
 * C = chw_loop_m3 * rho c_p of water. */
void sk_plant_update(sk_plant_state *st, const sk_plant_params *pp, double load_w,
                     double wetbulb_c, double dt_s);

/* Heat (W) that the room's electrical chain and lighting release inside the room, for an
 * IT load (W): losses_in_room_frac of the UPS + PDU losses, plus misc_kw. */
double sk_plant_room_heat_w(const sk_plant_params *pp, double it_w);

/* UPS + PDU losses (W) for an IT load (W). */
double sk_electrical_losses_w(const sk_plant_params *pp, double it_w);

/* Outdoor wet bulb (°C) at an hour of day (0..24). */
double sk_wetbulb_c(const sk_plant_params *pp, double hour_of_day);

#endif
