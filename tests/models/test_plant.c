/*
 * test_plant.c -- models/src/plant.c and the CRAH fan curve in models/src/thermal.c: step
 * tests that check each response's size against the figure it is taken from.
 *
 *   fans     ASHRAE 90.1 App. G VSD fan curve (physics.md §3.1): 20.6 % of rated at 40 %
 *            speed, where the pure cube gave 6.4 %.
 *   pumps    openstudio-standards "VSD No Reset" pump curve: 30.1 % of rated at 50 % flow
 *            (90.1 §6.5.4.2 allows at most 30 %), 22.6 % at 40 %; never below the
 *            scenario's minimum speed.
 *   losses   UPS + PDU losses in the room and the lighting reach the chilled-water load.
 *   overload a load beyond the chillers' capacity warms the supply at (load - capacity)/C,
 *            C = loop volume x rho c_p, until capacity (rising with T through CAPFT)
 *            meets it; a load back within capacity pulls it back to the setpoint.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork in testutil.h */

#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "skadi/plant.h"
#include "skadi/scenario.h"
#include "skadi/thermal.h"

#include "testutil.h"

#define RHO_CP_WATER 4.19e6 /* J/(m³·K), as plant.c */

/* The default scenario's plant and room parameters. */
static void defaults3(sk_plant_params *pp, sk_room_params *rp, int *n_rows) {
  sk_scenario *sc = malloc(sizeof *sc);
  ck_assert_ptr_nonnull(sc);
  sk_scenario_defaults(sc);
  if (pp)
    *pp = sc->plant;
  if (rp)
    *rp = sc->room;
  if (n_rows)
    *n_rows = sc->n_rows;
  free(sc);
}

static void defaults(sk_plant_params *pp, sk_room_params *rp) {
  defaults3(pp, rp, NULL);
}

static sk_plant_params plant_defaults(void) {
  sk_plant_params pp;
  defaults(&pp, NULL);
  return pp;
}

/* 90.1 App. G: f(x) = 0.0013 + 0.1470x + 0.9506x^2 - 0.0998x^3, over f(1) = 0.9991. */
static double fan_ref(double x) {
  return (0.0013 + 0.1470 * x + 0.9506 * x * x - 0.0998 * x * x * x) / 0.9991;
}

START_TEST(fan_at_40_pct_is_the_90_1_curve) {
  ck_assert_double_eq_tol(sk_crah_fan_part_load(1.0), 1.0, 1e-12);
  ck_assert_double_eq_tol(sk_crah_fan_part_load(0.4), 0.2060, 1e-4);
  ck_assert_double_eq_tol(sk_crah_fan_part_load(0.75), fan_ref(0.75), 1e-12);
  ck_assert_double_gt(sk_crah_fan_part_load(0.4), 3.0 * 0.4 * 0.4 * 0.4); /* vs the cube */

  sk_room_params rp;
  defaults(NULL, &rp);
  sk_crah c = {0};
  c.speed_pct = 40;
  c.setpoint_c = 18;
  sk_crah_prepare(&c, &rp, 7.0, 0.0, 0.0);
  ck_assert_double_eq_tol(c.fan_w, rp.crah_rated_fan_kw * 1000.0 * 0.2060, 2.0); /* 2.06 kW */
  c.speed_pct = 100;
  sk_crah_prepare(&c, &rp, 7.0, 0.0, 0.0);
  ck_assert_double_eq_tol(c.fan_w, rp.crah_rated_fan_kw * 1000.0, 1e-9);
}
END_TEST

/* The CRAH coil's supply air after a setpoint step: a first-order lag whose time constant
 * is the Siemens APOGEE rule for a chilled-water coil, 0.25 s x design CFM / design GPM,
 * applied to the default room (docs/MODEL.md, "CRAH coil"). */
START_TEST(coil_supply_follows_a_setpoint_step_with_its_time_constant) {
  sk_plant_params pp;
  sk_room_params rp;
  int rows;
  defaults3(&pp, &rp, &rows);
  double cfm = rp.crah_rated_flow_m3s / 0.00047194745;             /* m³/s -> CFM */
  double water_m3s = pp.design_load_kw * 1000.0 / rows / (RHO_CP_WATER * pp.chw_design_dt_k);
  double gpm = water_m3s / 6.3090196e-5;                            /* m³/s -> US gpm */
  ck_assert_double_eq_tol(rp.coil_tau_s, 0.25 * cfm / gpm, 1.0);  /* 99 s */

  sk_crah c = {0};
  c.speed_pct = 75;
  c.setpoint_c = 18;
  sk_crah_prepare(&c, &rp, 7.0, 0.0, 0.0); /* at rest on its setpoint */
  ck_assert_double_eq_tol(c.supply_c, 18.0, 1e-12);
  c.setpoint_c = 20;
  double t = 0;
  while (c.supply_c < 18.0 + 2.0 * (1.0 - exp(-1.0)) && t < 1000) {
    sk_crah_prepare(&c, &rp, 7.0, 0.0, 1.0);
    t += 1.0;
  }
  ck_assert_double_eq_tol(t, rp.coil_tau_s, 1.0); /* 63.2 % of the step after one tau */
  for (int i = 0; i < 5 * (int)rp.coil_tau_s; i++)
    sk_crah_prepare(&c, &rp, 7.0, 0.0, 1.0);
  ck_assert_double_eq_tol(c.supply_c, 20.0, 0.02); /* settled: the full step */
  ck_assert_double_eq_tol(c.target_c, 20.0, 1e-12);
  /* the coil floor (warmer water) moves the target at once and the supply after it */
  sk_crah_prepare(&c, &rp, 16.0, 0.0, 1.0);
  ck_assert_double_eq_tol(c.target_c, 16.0 + rp.coil_approach_k, 1e-12);
  ck_assert_double_lt(c.supply_c, 20.2);
}
END_TEST

START_TEST(pump_at_50_pct_keeps_its_static_head) {
  /* 0.5726x - 0.301x^2 + 0.7347x^3 over its value 1.0063 at x = 1 */
  ck_assert_double_eq_tol(sk_pump_part_load(1.0), 1.0, 1e-12);
  ck_assert_double_eq_tol(sk_pump_part_load(0.5), 0.30288 / 1.0063, 1e-5);
  ck_assert_double_le(sk_pump_part_load(0.5), 0.302); /* 90.1 §6.5.4.2: <= 30 %, to 1 % */
  ck_assert_double_eq_tol(sk_pump_part_load(0.4), 0.22790 / 1.0063, 1e-5);

  sk_plant_params pp = plant_defaults();
  ck_assert_double_eq(pp.pump_rated_kw, 16);
  pp.pump_speed_pct = 50;
  ck_assert_double_eq_tol(sk_pump_w(&pp), 16000.0 * 0.30099, 1.0); /* 4.82 kW, cube: 2.0 */
  pp.pump_speed_pct = 100;
  ck_assert_double_eq_tol(sk_pump_w(&pp), 16000.0, 1e-9);
  /* below the scenario's minimum speed the pump runs at the minimum */
  pp.pump_min_speed_pct = 40;
  pp.pump_speed_pct = 30;
  ck_assert_double_eq_tol(sk_pump_w(&pp), 16000.0 * sk_pump_part_load(0.4), 1e-9);
}
END_TEST

START_TEST(losses_and_lighting_reach_the_chiller) {
  sk_plant_params pp = plant_defaults();
  double it_w = 384e3;
  /* UPS 95 %: 1/0.95 - 1 = 5.26 %; PDU 1.5 %: 6.76 % of IT = 25.97 kW, + 5 kW lighting */
  double losses = it_w * (1.0 / 0.95 - 1.0 + 0.015);
  ck_assert_double_eq_tol(sk_electrical_losses_w(&pp, it_w), losses, 1e-6);
  ck_assert_double_eq_tol(sk_plant_room_heat_w(&pp, it_w), losses + 5000.0, 1e-6);
  pp.losses_in_room_frac = 0.0;
  ck_assert_double_eq_tol(sk_plant_room_heat_w(&pp, it_w), 5000.0, 1e-9);

  /* the chillers remove that heat and pay for it at their COP */
  pp = plant_defaults();
  sk_plant_state a, b;
  sk_plant_init(&a, &pp, 20.0);
  sk_plant_init(&b, &pp, 20.0);
  double base = 420e3;
  sk_plant_update(&a, &pp, base, 20.0, 1.0);
  sk_plant_update(&b, &pp, base + sk_plant_room_heat_w(&pp, it_w), 20.0, 1.0);
  ck_assert_double_eq_tol(b.removed_w - a.removed_w, losses + 5000.0, 1e-6);
  double dp = b.chiller_w - a.chiller_w;
  ck_assert_double_gt(dp, (losses + 5000.0) / 8.0); /* COP of the extra heat 4..8 */
  ck_assert_double_lt(dp, (losses + 5000.0) / 4.0);
}
END_TEST

START_TEST(overload_warms_the_supply) {
  sk_plant_params pp = plant_defaults();
  double c_j_per_k = pp.chw_loop_m3 * RHO_CP_WATER; /* 54 MJ/K */
  ck_assert_double_eq_tol(c_j_per_k, 54.05e6, 0.01e6);
  double wb = 20.0, cond = 24.0; /* wet bulb + 4 K approach, at the 24 °C floor */
  double cap7 = pp.n_chillers * pp.chiller_capacity_kw * 1e3 * sk_chiller_capft(7.0, cond);
  double cap10 = pp.n_chillers * pp.chiller_capacity_kw * 1e3 * sk_chiller_capft(10.0, cond);
  ck_assert_double_gt(cap10, cap7);

  sk_plant_state st;
  sk_plant_init(&st, &pp, wb);
  ck_assert_double_eq(st.chw_supply_c, 7.0);

  /* within capacity: the setpoint holds exactly */
  sk_plant_update(&st, &pp, 0.9 * cap7, wb, 1.0);
  ck_assert_double_eq(st.chw_supply_c, 7.0);
  ck_assert_int_eq(st.overloaded, 0);

  /* 50 kW beyond capacity: the first second warms the water by 50 kW / C */
  double load = cap7 + 50e3;
  sk_plant_update(&st, &pp, load, wb, 1.0);
  ck_assert_int_eq(st.overloaded, 1);
  ck_assert_double_eq_tol(st.removed_w, cap7, 1e-6);
  ck_assert_double_eq_tol(st.chw_supply_c - 7.0, 50e3 / c_j_per_k, 1e-12);
  ck_assert_double_eq_tol(st.plr, 1.0, 1e-12);

  /* ... and keeps warming until capacity, rising with T, meets the load */
  ck_assert_double_lt(load, cap10);
  for (int i = 0; i < 4 * 3600; i++)
    sk_plant_update(&st, &pp, load, wb, 1.0);
  ck_assert_double_gt(st.chw_supply_c, 7.5);
  ck_assert_double_lt(st.chw_supply_c, 10.0);
  double cap_t = pp.n_chillers * pp.chiller_capacity_kw * 1e3 *
                 sk_chiller_capft(st.chw_supply_c, cond);
  ck_assert_double_eq_tol(cap_t, load, 0.001 * load);

  /* the load back within capacity: pulled down to the setpoint at the spare capacity */
  double t_hot = st.chw_supply_c;
  sk_plant_update(&st, &pp, 0.5 * cap7, wb, 1.0);
  ck_assert_double_lt(st.chw_supply_c, t_hot);
  ck_assert_double_gt(st.removed_w, 0.5 * cap7);
  for (int i = 0; i < 600; i++)
    sk_plant_update(&st, &pp, 0.5 * cap7, wb, 1.0);
  ck_assert_double_eq(st.chw_supply_c, 7.0);

  /* beyond the capacity at 10 °C (held there): the supply warms without bound */
  load = cap10 * 1.2;
  for (int i = 0; i < 3600; i++)
    sk_plant_update(&st, &pp, load, wb, 1.0);
  ck_assert_double_gt(st.chw_supply_c, 7.0 + 0.2 * cap10 * 3600 / c_j_per_k * 0.9);
}
END_TEST

START_TEST(raised_setpoint_is_reached_by_the_load) {
  sk_plant_params pp = plant_defaults();
  double c_j_per_k = pp.chw_loop_m3 * RHO_CP_WATER;
  sk_plant_state st;
  sk_plant_init(&st, &pp, 20.0);
  double load = 400e3;
  sk_plant_update(&st, &pp, load, 20.0, 1.0);
  pp.chw_supply_c = 10.0;
  sk_plant_update(&st, &pp, load, 20.0, 1.0);
  /* chillers off for the step, the load warms the water */
  ck_assert_double_eq(st.removed_w, 0.0);
  ck_assert_double_eq(st.chiller_w, 0.0);
  ck_assert_double_eq_tol(st.chw_supply_c, 7.0 + load / c_j_per_k, 1e-12);
  for (int i = 0; i < 600; i++)
    sk_plant_update(&st, &pp, load, 20.0, 1.0);
  ck_assert_double_eq(st.chw_supply_c, 10.0);
  ck_assert_double_eq_tol(st.removed_w, load, 1e-6);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("plant");
  TCase *tc = tcase_create("part_load");
  tcase_add_test(tc, fan_at_40_pct_is_the_90_1_curve);
  tcase_add_test(tc, pump_at_50_pct_keeps_its_static_head);
  tcase_add_test(tc, coil_supply_follows_a_setpoint_step_with_its_time_constant);
  suite_add_tcase(s, tc);
  tc = tcase_create("chilled_water");
  tcase_add_test(tc, losses_and_lighting_reach_the_chiller);
  tcase_add_test(tc, overload_warms_the_supply);
  tcase_add_test(tc, raised_setpoint_is_reached_by_the_load);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
