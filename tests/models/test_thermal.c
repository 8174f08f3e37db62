/*
 * test_thermal.c -- models/src/thermal.c: step tests of the row's air path, each response's
 * size and time constant against the figure it comes from.
 *
 *   hot aisle  the room air behind a rack (room.air_m3_per_rack: physics.md §8.1's
 *              ~1,000 m³ over 72 racks) is flushed by the tile air, tau = V_air / V_tile:
 *              18.8 s at the legacy 75 % fan speed; steady state T_s + Q / (rho c_p V_tile).
 *   inlet      the cold-aisle air in front of a rack (0.72 m³) is flushed by the rack's own
 *              air, tau = 0.72 / 0.38 = 1.9 s.
 *   sharing    the cold aisle is shared along the row: a rack pulling twice its tile's air
 *              between neighbours pulling one draws (1 - V_t / smoothed V_r) from the hot
 *              aisle, 1/3 for it and 1/5 for each neighbour.
 *   energy     the coil takes the racks' heat plus the fan's; what the aisles' air stores
 *              while it warms is reported beside it and is nothing in steady state.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork in testutil.h */

#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "skadi/scenario.h"
#include "skadi/thermal.h"

#include "testutil.h"

#define N 12

typedef struct {
  sk_room_params rp;
  sk_server_params sp;
  sk_crah c;
  sk_rack_thermal r[N];
} row;

/* The default room's row at the legacy fan speed, every rack one server at p_w and every
 * node at the supply temperature; servers with almost no heat capacity unless keep_cap, so
 * that a rack's heat into the aisle follows its power at once. */
static void row_init(row *w, double p_w, int keep_cap) {
  sk_scenario *sc = malloc(sizeof *sc);
  ck_assert_ptr_nonnull(sc);
  sk_scenario_defaults(sc);
  w->rp = sc->room;
  w->sp = sc->server;
  free(sc);
  if (!keep_cap)
    w->sp.heat_capacity_j_per_k = 1e-3;
  w->c = (sk_crah){0};
  w->c.speed_pct = w->rp.crah_fan_speed_pct;
  w->c.setpoint_c = w->rp.supply_setpoint_c;
  sk_crah_prepare(&w->c, &w->rp, 7.0, 0, 0);
  for (int i = 0; i < N; i++) {
    w->r[i] = (sk_rack_thermal){0};
    w->r[i].n_servers = 1;
    w->r[i].recirc_base = (i == 0 || i == N - 1) ? w->rp.recirc_end : w->rp.recirc_mid;
    w->r[i].power_w = p_w;
    w->r[i].t_in_c = w->r[i].t_out_c = w->r[i].t_hot_c = w->c.supply_c;
  }
}

static void run(row *w, double seconds, double dt) {
  for (double t = 0; t < seconds - 1e-9; t += dt)
    sk_row_thermal_step(w->r, N, &w->c, &w->rp, &w->sp, dt);
}

START_TEST(hot_aisle_time_constant_is_room_air_over_tile_air) {
  row w;
  row_init(&w, 5500, 0);
  for (int i = 0; i < N; i++)
    w.r[i].recirc_base = 0; /* the hot aisle alone */
  double v_tile = w.c.flow_m3s / N;
  double tau = w.rp.air_m3_per_rack / v_tile;
  ck_assert_double_eq_tol(tau, 13.9 / (11.8 * 0.75 / 12), 1e-9);
  ck_assert_double_eq_tol(tau, 18.85, 0.01);
  double t_eq = w.c.supply_c + 5500 / (w.rp.rho_cp_j_per_m3k * v_tile);
  run(&w, tau, 0.01);
  int mid = N / 2;
  double frac = (w.r[mid].t_hot_c - w.c.supply_c) / (t_eq - w.c.supply_c);
  ck_assert_double_eq_tol(frac, 1 - exp(-1), 0.005);
  run(&w, 10 * tau, 1.0);
  ck_assert_double_eq_tol(w.r[mid].t_hot_c, t_eq, 1e-3);
}
END_TEST

START_TEST(inlet_time_constant_is_cold_aisle_over_rack_air) {
  row w;
  row_init(&w, 5500, 0);
  for (int i = 0; i < N; i++)
    w.r[i].recirc_base = 0;
  w.rp.bypass_frac = 0; /* the inlet's lag alone */
  run(&w, 600, 1.0); /* steady */
  double t0 = w.r[3].t_in_c;
  ck_assert_double_eq_tol(t0, w.c.supply_c, 1e-9); /* no recirculation: inlet = supply */
  double tau = w.rp.cold_aisle_m3_per_rack / w.sp.airflow_m3s;
  ck_assert_double_eq_tol(tau, 0.72 / 0.38, 1e-9);
  w.c.supply_c += 2.0; /* a supply-air step */
  run(&w, tau, tau / 100);
  ck_assert_double_eq_tol((w.r[3].t_in_c - t0) / 2.0, 1 - exp(-1), 0.005);
}
END_TEST

START_TEST(a_rack_pulling_more_air_shares_the_cold_aisle) {
  row w;
  row_init(&w, 5500, 0);
  double keep = 1.0 - w.rp.bypass_frac; /* the tiles' air that reaches the racks */
  w.c.flow_m3s = N * w.sp.airflow_m3s; /* tiles give exactly one server's air per rack */
  w.r[5].n_servers = 2;
  w.r[5].power_w = 11000;
  sk_row_thermal_step(w.r, N, &w.c, &w.rp, &w.sp, 1.0);
  ck_assert_double_eq_tol(w.r[5].recirc, 1.0 - keep / 1.5, 1e-12);
  ck_assert_double_eq_tol(w.r[4].recirc, 1.0 - keep / 1.25, 1e-12);
  ck_assert_double_eq_tol(w.r[6].recirc, 1.0 - keep / 1.25, 1e-12);
  ck_assert_double_eq_tol(w.r[8].recirc, 1.0 - keep, 1e-12); /* two racks away: 1.0x air */
  /* at the legacy 75 % fans the tiles give 1.94 servers' air: a one-server rack is covered
   * (base recirculation), the doubled rack (smoothed demand 1.5) is not */
  row_init(&w, 5500, 0);
  w.r[5].n_servers = 2;
  sk_row_thermal_step(w.r, N, &w.c, &w.rp, &w.sp, 1.0);
  double af = w.c.flow_m3s / N / w.sp.airflow_m3s;
  ck_assert_double_eq_tol(af, 1.94, 0.01);
  ck_assert_double_eq_tol(w.r[5].recirc, 1.0 - keep * af / 1.5, 1e-12);
  ck_assert_double_eq_tol(w.r[9].recirc, w.rp.recirc_mid, 1e-12);
}
END_TEST

/* The air-management flow balance at the cited legacy hall's point: supplied air 1.2x the
 * racks' air with half of it bypassing leaves 40 % of the racks' air to come from the hot
 * aisle (CIBSE Journal, April 2012, "Data centres overcooling -- air performance metrics":
 * flow performance 1 - BP = 0.50, thermal performance 1 - R = 0.6, availability 1.20). */
START_TEST(recirculation_at_the_cited_air_availability) {
  row w;
  row_init(&w, 5500, 0);
  ck_assert_double_eq(w.rp.bypass_frac, 0.5);
  w.c.flow_m3s = 1.2 * N * w.sp.airflow_m3s;
  sk_row_thermal_step(w.r, N, &w.c, &w.rp, &w.sp, 1.0);
  for (int i = 1; i < N - 1; i++)
    ck_assert_double_eq_tol(w.r[i].recirc, 0.4, 1e-12);
  /* the inlet settles at supply + R x (hot aisle - supply), within its ~2 s lag */
  run(&w, 600, 1.0);
  double ts = w.c.supply_c;
  ck_assert_double_eq_tol(w.r[5].t_in_c, ts + 0.4 * (w.r[5].t_hot_c - ts), 1e-6);
  /* no recirculation above the base share until the supply falls below
   * (1 - r_base) / (1 - BP) = 1.84x the racks' air */
  w.c.flow_m3s = 1.85 * N * w.sp.airflow_m3s;
  sk_row_thermal_step(w.r, N, &w.c, &w.rp, &w.sp, 1.0);
  ck_assert_double_eq_tol(w.r[5].recirc, w.rp.recirc_mid, 1e-12);
  w.c.flow_m3s = 1.80 * N * w.sp.airflow_m3s;
  sk_row_thermal_step(w.r, N, &w.c, &w.rp, &w.sp, 1.0);
  ck_assert_double_gt(w.r[5].recirc, w.rp.recirc_mid);
}
END_TEST

/* The optimizer's airflow margin: the inlet a rack and its neighbours mix to at once when
 * servers join it, from the recirculation of the new air demand against the hot aisle as
 * it is; the worst rack of the row. */
START_TEST(spare_inlet_is_the_mix_of_the_new_air_demand) {
  row w;
  row_init(&w, 5500, 0);
  w.c.flow_m3s = 1.2 * N * w.sp.airflow_m3s; /* 1.2x the racks' air */
  run(&w, 600, 1.0);
  double ts = w.c.supply_c, keep = 1.0 - w.rp.bypass_frac;
  /* two servers join a mid-row rack: its smoothed demand 1 + 0.5 x 2 = 2 servers' air */
  double r_mid = 1.0 - keep * 1.2 / 2.0;
  double want = -INFINITY;
  for (int i = 1; i < N - 1; i++)
    want = fmax(want, ts + r_mid * (w.r[i].t_hot_c - ts));
  /* at a row end the renormalised smoothing gives (0.5 x 3 + 0.25) / 0.75 = 2.33 */
  double r_end = 1.0 - keep * 1.2 / (1.75 / 0.75);
  want = fmax(want, ts + r_end * (w.r[0].t_hot_c - ts));
  want = fmax(want, ts + r_end * (w.r[N - 1].t_hot_c - ts));
  double got = sk_row_spare_inlet_c(w.r, N, &w.c, &w.rp, &w.sp, 2.0);
  ck_assert_double_eq_tol(got, want, 1e-9);
  ck_assert_double_gt(got, w.r[N / 2].t_in_c + 1.0); /* well above today's inlets */
  /* no servers joining: the inlets' own mix, which the inlets already sit at */
  double none = sk_row_spare_inlet_c(w.r, N, &w.c, &w.rp, &w.sp, 0.0);
  for (int i = 0; i < N; i++)
    ck_assert_double_le(w.r[i].t_in_c, none + 1e-6);
  /* more air lowers it */
  w.c.flow_m3s *= 1.5;
  ck_assert_double_lt(sk_row_spare_inlet_c(w.r, N, &w.c, &w.rp, &w.sp, 2.0), got);
}
END_TEST

START_TEST(coil_takes_the_racks_heat) {
  row w;
  row_init(&w, 5500, 0);
  run(&w, 2.0, 1.0); /* the racks' heat reaches the aisles, which warm: they store some */
  double rack_heat = 0;
  for (int i = 0; i < N; i++)
    rack_heat += w.r[i].q_air_w;
  ck_assert_double_eq_tol(w.c.load_w, rack_heat + w.c.fan_w, 1e-9);
  ck_assert_double_gt(w.c.stored_w, 0);
  run(&w, 7200, 1.0);
  ck_assert_double_eq_tol(w.c.load_w, N * 5500 + w.c.fan_w, 1e-3 * N * 5500);
  ck_assert_double_eq_tol(w.c.stored_w, 0, 1e-3 * N * 5500); /* steady: nothing stored */
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("thermal");
  TCase *tc = tcase_create("air");
  tcase_add_test(tc, hot_aisle_time_constant_is_room_air_over_tile_air);
  tcase_add_test(tc, inlet_time_constant_is_cold_aisle_over_rack_air);
  tcase_add_test(tc, a_rack_pulling_more_air_shares_the_cold_aisle);
  tcase_add_test(tc, recirculation_at_the_cited_air_availability);
  tcase_add_test(tc, spare_inlet_is_the_mix_of_the_new_air_demand);
  tcase_add_test(tc, coil_takes_the_racks_heat);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
