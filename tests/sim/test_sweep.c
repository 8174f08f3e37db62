/*
 * test_sweep.c -- sweeps (sweep.h) without running the twin: sweep files parsed and
 * expanded (grid order, random and Latin-hypercube samples reproducible and stratified),
 * bad files refused with the field named, each run's seed independent of the order runs
 * are made in, the constraints, the aggregates and the Pareto fronts on hand-checked
 * tables, and the HDF5 file written and read back.  One short real run checks that a
 * row's figures are the session's.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "skadi/session.h"
#include "skadi/sweep.h"

#include "testutil.h"

static sk_sweep *parse_ok(const char *json) {
  sk_sweep *sw = NULL;
  char err[1024];
  sk_status st = sk_sweep_parse(&sw, json, strlen(json), "t.json", NULL, err, sizeof err);
  ck_assert_msg(st == SK_OK, "%s", err);
  return sw;
}

#define BASE "\"scenario\": \"" SKADI_SOURCE_DIR "/scenarios/baseline.json\""

START_TEST(grid_expands_row_major) {
  sk_sweep *sw =
      parse_ok("{" BASE ", \"seeds\": 3, \"parameters\": ["
               "{\"key\": \"room.crah_fan_speed_pct\", \"values\": [50, 60]},"
               "{\"key\": \"SLA_LATENCY_MS\", \"min\": 100, \"max\": 300, \"steps\": 3}]}");
  ck_assert_uint_eq(sk_sweep_n_points(sw), 1 + 2 * 3); /* the default first */
  ck_assert_uint_eq(sk_sweep_n_seeds(sw), 3);
  ck_assert_uint_eq(sk_sweep_n_runs(sw), 21);
  ck_assert_str_eq(sk_sweep_param_key(sw, 1), "settings.sla_latency_ms"); /* seed's name */
  ck_assert(sk_sweep_point_is_default(sw, 0));
  ck_assert(!sk_sweep_point_is_default(sw, 1));
  static const char *const want[6][2] = {{"50", "100"}, {"50", "200"}, {"50", "300"},
                                         {"60", "100"}, {"60", "200"}, {"60", "300"}};
  for (size_t p = 0; p < 6; p++)
    for (size_t k = 0; k < 2; k++) {
      ck_assert_str_eq(sk_sweep_value_text(sw, p + 1, k), want[p][k]);
      ck_assert_double_eq(sk_sweep_value(sw, p + 1, k), atof(want[p][k]));
    }
  char label[256];
  sk_sweep_point_label(sw, 0, label, sizeof label);
  ck_assert_str_eq(label, "default");
  sk_sweep_point_label(sw, 4, label, sizeof label);
  ck_assert_str_eq(label, "room.crah_fan_speed_pct=60 settings.sla_latency_ms=100");
  /* the canonical text names every field and reads back to the same sweep */
  sk_sweep *again = parse_ok(sk_sweep_json(sw));
  ck_assert_str_eq(sk_sweep_json(again), sk_sweep_json(sw));
  sk_sweep_destroy(again);
  sk_sweep_destroy(sw);
}
END_TEST

START_TEST(text_values_and_no_default) {
  sk_sweep *sw = parse_ok("{" BASE ", \"include_default\": false, \"parameters\": ["
                          "{\"key\": \"control.gpu_cap_lever\", \"values\": [true, false]},"
                          "{\"key\": \"settings.default_mode\", \"values\": [\"advisory\"]}]}");
  ck_assert_uint_eq(sk_sweep_n_points(sw), 2);
  ck_assert_str_eq(sk_sweep_value_text(sw, 0, 0), "true");
  ck_assert(isnan(sk_sweep_value(sw, 0, 0)));
  ck_assert_str_eq(sk_sweep_value_text(sw, 1, 1), "advisory");
  sk_sweep_destroy(sw);
}
END_TEST

static const char *lhs_json(int sample_seed) {
  static char buf[1024];
  snprintf(buf, sizeof buf,
           "{" BASE ", \"design\": \"lhs\", \"samples\": 10, \"sample_seed\": %d, "
           "\"include_default\": false, \"parameters\": ["
           "{\"key\": \"room.crah_fan_speed_pct\", \"min\": 40, \"max\": 90},"
           "{\"key\": \"plant.chw_supply_c\", \"min\": 6, \"max\": 11},"
           "{\"key\": \"room.racks_per_row\", \"min\": 4, \"max\": 12, \"integer\": true},"
           "{\"key\": \"settings.default_mode\", \"values\": [\"advisory\", \"closed_loop\"]}]}",
           sample_seed);
  return buf;
}

START_TEST(lhs_is_reproducible_and_stratified) {
  sk_sweep *a = parse_ok(lhs_json(7)), *b = parse_ok(lhs_json(7)), *c = parse_ok(lhs_json(8));
  ck_assert_uint_eq(sk_sweep_n_points(a), 10);
  int differ = 0;
  for (size_t p = 0; p < 10; p++)
    for (size_t k = 0; k < 4; k++) {
      ck_assert_str_eq(sk_sweep_value_text(a, p, k), sk_sweep_value_text(b, p, k));
      differ |= strcmp(sk_sweep_value_text(a, p, k), sk_sweep_value_text(c, p, k)) != 0;
    }
  ck_assert_msg(differ, "another sample_seed gives other samples");
  /* each of the 10 strata of a continuous range holds exactly one sample */
  for (size_t k = 0; k < 2; k++) {
    double lo = k ? 6 : 40, hi = k ? 11 : 90;
    int count[10] = {0};
    for (size_t p = 0; p < 10; p++) {
      double v = sk_sweep_value(a, p, k);
      ck_assert(v >= lo && v <= hi);
      int s = (int)((v - lo) / (hi - lo) * 10);
      count[s > 9 ? 9 : s]++;
    }
    for (int s = 0; s < 10; s++)
      ck_assert_int_eq(count[s], 1);
  }
  /* integers are whole; categories split evenly (5 strata each) */
  int adv = 0;
  for (size_t p = 0; p < 10; p++) {
    double v = sk_sweep_value(a, p, 2);
    ck_assert_double_eq(v, floor(v));
    adv += strcmp(sk_sweep_value_text(a, p, 3), "advisory") == 0;
  }
  ck_assert_int_eq(adv, 5);
  sk_sweep_destroy(a);
  sk_sweep_destroy(b);
  sk_sweep_destroy(c);
}
END_TEST

START_TEST(random_is_reproducible) {
  const char *j = "{" BASE ", \"design\": \"random\", \"samples\": 6, \"parameters\": ["
                  "{\"key\": \"room.supply_setpoint_c\", \"min\": 16, \"max\": 22}]}";
  sk_sweep *a = parse_ok(j), *b = parse_ok(j);
  ck_assert_uint_eq(sk_sweep_n_points(a), 7);
  for (size_t p = 1; p < 7; p++) {
    ck_assert_str_eq(sk_sweep_value_text(a, p, 0), sk_sweep_value_text(b, p, 0));
    ck_assert(sk_sweep_value(a, p, 0) >= 16 && sk_sweep_value(a, p, 0) <= 22);
  }
  sk_sweep_destroy(a);
  sk_sweep_destroy(b);
}
END_TEST

START_TEST(seeds_do_not_depend_on_order) {
  const char *j = "{" BASE ", \"seeds\": 4, \"base_seed\": 9, \"parameters\": ["
                  "{\"key\": \"room.crah_fan_speed_pct\", \"values\": [50, 60, 70]}]}";
  sk_sweep *a = parse_ok(j);
  size_t n = sk_sweep_n_runs(a), ns = sk_sweep_n_seeds(a);
  uint64_t fwd[16], bwd[16];
  for (size_t i = 0; i < n; i++)
    fwd[i] = sk_sweep_seed(a, i / ns, i % ns);
  for (size_t i = n; i-- > 0;)
    bwd[i] = sk_sweep_seed(a, i / ns, i % ns);
  for (size_t i = 0; i < n; i++) {
    ck_assert_uint_eq(fwd[i], bwd[i]);
    ck_assert_uint_lt(fwd[i], 1ull << 53);
    /* common random numbers: every point sees seed index i's seed */
    ck_assert_uint_eq(fwd[i], fwd[i % ns]);
  }
  for (size_t s = 1; s < ns; s++)
    ck_assert_uint_ne(fwd[s], fwd[0]);
  sk_sweep_destroy(a);

  /* seed_per_point: the seed follows the point's values, not its position */
  sk_sweep *x = parse_ok("{" BASE ", \"seeds\": 2, \"seed_per_point\": true, \"parameters\": ["
                         "{\"key\": \"room.crah_fan_speed_pct\", \"values\": [50, 60]}]}");
  sk_sweep *y = parse_ok("{" BASE ", \"seeds\": 2, \"seed_per_point\": true, \"parameters\": ["
                         "{\"key\": \"room.crah_fan_speed_pct\", \"values\": [60, 50]}]}");
  ck_assert_uint_eq(sk_sweep_seed(x, 1, 1), sk_sweep_seed(y, 2, 1));
  ck_assert_uint_eq(sk_sweep_seed(x, 2, 0), sk_sweep_seed(y, 1, 0));
  ck_assert_uint_ne(sk_sweep_seed(x, 1, 0), sk_sweep_seed(x, 2, 0));
  sk_sweep_destroy(x);
  sk_sweep_destroy(y);

  /* an explicit list is used as given */
  sk_sweep *l = parse_ok("{" BASE ", \"seeds\": [1, 7]}");
  ck_assert_uint_eq(sk_sweep_seed(l, 0, 0), 1);
  ck_assert_uint_eq(sk_sweep_seed(l, 0, 1), 7);
  sk_sweep_destroy(l);
}
END_TEST

/* Bad files: each refused, the message naming the field. */
static const struct {
  const char *json, *needle;
} bad_files[] = {
    {"{\"seeds\": 2}", "t.json: scenario: missing"},
    {"{" BASE ", \"sedes\": 2}", "t.json: sedes: unknown field"},
    {"{" BASE ", \"seeds\": 0}", "t.json: seeds: 0 is not a whole number from 1"},
    {"{" BASE ", \"seeds\": [1, -2]}", "t.json: seeds[1]:"},
    {"{" BASE ", \"mode\": \"fast\"}", "t.json: mode: 'fast' is not off"},
    {"{" BASE ", \"duration\": \"10 parsecs\"}", "t.json: duration:"},
    {"{" BASE ", \"design\": \"sobol\"}", "t.json: design: 'sobol'"},
    {"{" BASE ", \"design\": \"lhs\", \"parameters\": []}", "t.json: samples: missing"},
    {"{" BASE ", \"samples\": 4}", "t.json: samples: only the random and lhs"},
    {"{" BASE ", \"set\": [\"room.rows=99\"]}", "t.json: set[0]:"},
    {"{" BASE ", \"set\": [\"room.rows\"]}", "t.json: set[0]: 'room.rows' is not key=value"},
    {"{" BASE ", \"parameters\": [{\"key\": \"room.fans\", \"values\": [1]}]}",
     "t.json: parameters[0].key: 'room.fans' is not a scenario key"},
    {"{" BASE ", \"parameters\": [{\"key\": \"seed\", \"values\": [1]}]}",
     "t.json: parameters[0].key: 'seed' cannot be swept"},
    {"{" BASE ", \"parameters\": [{\"key\": \"room.rows\", \"values\": [2, 40]}]}",
     "t.json: parameters[0].values[1]: room.rows:"},
    {"{" BASE ", \"parameters\": [{\"key\": \"room.rows\", \"values\": [2], \"min\": 1}]}",
     "t.json: parameters[0]: give either \"values\""},
    {"{" BASE ", \"parameters\": [{\"key\": \"room.rows\", \"min\": 3, \"max\": 2, \"steps\": 2}]}",
     "t.json: parameters[0].max: 2 is not above min 3"},
    {"{" BASE ", \"parameters\": [{\"key\": \"room.rows\", \"min\": 1, \"max\": 3}]}",
     "t.json: parameters[0].steps: missing"},
    {"{" BASE ", \"parameters\": [{\"key\": \"room.supply_setpoint_c\", \"min\": 1, \"max\": 20, "
     "\"steps\": 2}]}",
     "t.json: parameters[0].min: room.supply_setpoint_c:"},
    {"{" BASE ", \"design\": \"random\", \"samples\": 2, \"parameters\": [{\"key\": "
     "\"room.rows\", \"min\": 1, \"max\": 3, \"steps\": 3}]}",
     "t.json: parameters[0].steps: only a grid"},
    {"{" BASE ", \"parameters\": [{\"key\": \"room.rows\", \"values\": [2]}, {\"key\": "
     "\"room.rows\", \"values\": [3]}]}",
     "t.json: parameters[1].key: 'room.rows' is already parameters[0]"},
    {"{" BASE ", \"parameters\": [{\"key\": \"room.rows\", \"value\": [2]}]}",
     "t.json: parameters[0].value: unknown field"},
    {"{" BASE ", \"set\": [\"room.rows=2\"], \"parameters\": [{\"key\": \"room.rows\", "
     "\"values\": [3]}]}",
     "t.json: parameters[0].key: 'room.rows' is also fixed by set[0]"},
    {"{" BASE ", \"constraints\": [{\"metric\": \"latency\", \"max\": 1}]}",
     "t.json: constraints[0].metric: 'latency' is not one of wh_per_prompt"},
    {"{" BASE ", \"constraints\": [{\"metric\": \"ttft_p95_ms\", \"max\": \"slaa\"}]}",
     "t.json: constraints[0].max: 'slaa'"},
    {"{" BASE ", \"constraints\": [{\"metric\": \"ttft_p95_ms\"}]}",
     "t.json: constraints[0]: give one of \"max\" or \"min\""},
    {"{" BASE ", \"include_default\": false}", "t.json: parameters: none"},
    {"{" BASE ",\n \"seeds\": 2,}", "t.json:2:"},
    {"[1]", "t.json: expected a JSON object"},
};

START_TEST(bad_files_name_the_field) {
  sk_sweep *sw = (sk_sweep *)1;
  char err[1024];
  sk_status st = sk_sweep_parse(&sw, bad_files[_i].json, strlen(bad_files[_i].json), "t.json", NULL,
                                err, sizeof err);
  ck_assert_int_ne(st, SK_OK);
  ck_assert_ptr_null(sw);
  ASSERT_HAS(err, bad_files[_i].needle);
}
END_TEST

START_TEST(missing_file) {
  sk_sweep *sw;
  char err[1024];
  ck_assert_int_ne(sk_sweep_load(&sw, "/nonexistent/s.json", err, sizeof err), SK_OK);
  ASSERT_HAS(err, "/nonexistent/s.json: cannot read");
}
END_TEST

START_TEST(pareto_hand_checked) {
  /*  y
   *  4  a        a (1,4) front; b (2,2) front; c (3,3) dominated by b; d (4,1) front;
   *  3     c     e (2,2) equals b: both on the front; f (0.5, NaN) never;
   *  2   b/e     g (0.2, 0.2) would dominate all but is not eligible
   *  1        d
   */
  double x[] = {1, 2, 3, 4, 2, 0.5, 0.2}, y[] = {4, 2, 3, 1, 2, NAN, 0.2};
  int el[] = {1, 1, 1, 1, 1, 1, 0}, f[7];
  sk_sweep_pareto(x, y, el, 7, f);
  int want[] = {1, 1, 0, 1, 1, 0, 0};
  for (int i = 0; i < 7; i++)
    ck_assert_msg(f[i] == want[i], "point %d: %d", i, f[i]);
  sk_sweep_pareto(x, y, NULL, 7, f); /* all eligible: g alone */
  for (int i = 0; i < 7; i++)
    ck_assert_int_eq(f[i], i == 6);
}
END_TEST

static sk_sweep_result row(int point, int si, double wh, double ttft, double inlet, double over) {
  sk_sweep_result r;
  memset(&r, 0, sizeof r);
  r.point = point;
  r.seed_index = si;
  for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++)
    r.m[m] = 0;
  r.m[SK_SWEEP_M_WH_PER_PROMPT] = wh;
  r.m[SK_SWEEP_M_TTFT_P95] = ttft;
  r.m[SK_SWEEP_M_MAX_INLET] = inlet;
  r.m[SK_SWEEP_M_INLET_OVER_LIMIT] = over;
  r.m[SK_SWEEP_M_SLA_MS] = 250;
  r.m[SK_SWEEP_M_INLET_LIMIT] = 28;
  r.wall_s = 0.5;
  return r;
}

static const char *table_sweep =
    "{" BASE ", \"seeds\": 2, \"parameters\": ["
    "{\"key\": \"room.crah_fan_speed_pct\", \"values\": [40, 50, 60, 70]}],"
    "\"constraints\": [{\"metric\": \"ttft_p95_ms\", \"max\": \"sla\"},"
    "{\"metric\": \"max_inlet_c\", \"max\": \"inlet_limit\"},"
    "{\"metric\": \"inlet_samples_over_limit\", \"max\": 0}]}";

/* Points: 0 default, 1..4 fan 40..70 %.  Hand-checked:
 *   0: 0.80/0.82 Wh, ttft 120, inlet 25      passes
 *   1: 0.70/0.70, ttft 300 (over the SLA)    fails; lowest Wh, so on both fronts
 *   2: 0.74/0.76, ttft 130, one seed 1 sample over the limit: fails; front vs ttft? no
 *   3: 0.75/0.75, ttft 125, inlet 26          passes: best (lowest passing Wh)
 *   4: only one seed ran                      incomplete, not eligible */
static size_t fill_table(sk_sweep_result *r) {
  size_t n = 0;
  r[n++] = row(0, 0, 0.80, 120, 25, 0);
  r[n++] = row(0, 1, 0.82, 120, 25, 0);
  r[n++] = row(1, 1, 0.70, 300, 24, 0);
  r[n++] = row(1, 0, 0.70, 300, 24, 0);
  r[n++] = row(2, 0, 0.74, 130, 27, 0);
  r[n++] = row(2, 1, 0.76, 130, 28.5, 1);
  r[n++] = row(3, 0, 0.75, 125, 26, 0);
  r[n++] = row(3, 1, 0.75, 125, 26, 0);
  r[n++] = row(4, 0, 0.60, 100, 20, 0);
  return n;
}

START_TEST(constraints_and_aggregates_hand_checked) {
  sk_sweep *sw = parse_ok(table_sweep);
  ck_assert_uint_eq(sk_sweep_n_constraints(sw), 3);
  char t[128];
  sk_sweep_constraint_text(sw, 0, t, sizeof t);
  ck_assert_str_eq(t, "ttft_p95_ms <= sla_latency_ms");
  sk_sweep_constraint_text(sw, 2, t, sizeof t);
  ck_assert_str_eq(t, "inlet_samples_over_limit <= 0");
  sk_sweep_result r[16];
  size_t n = fill_table(r);
  sk_sweep_point_stats s[5];
  ck_assert_int_eq(sk_sweep_aggregate(sw, r, n, s), SK_OK);
  int pass[] = {1, 0, 0, 1, 0}, complete[] = {1, 1, 1, 1, 0}, best[] = {0, 0, 0, 1, 0};
  for (int p = 0; p < 5; p++) {
    ck_assert_msg(s[p].pass == pass[p], "point %d pass %d", p, s[p].pass);
    ck_assert_int_eq(s[p].complete, complete[p]);
    ck_assert_int_eq(s[p].best, best[p]);
  }
  ck_assert(s[0].is_default && !s[1].is_default);
  ck_assert_double_eq_tol(s[0].mean[SK_SWEEP_M_WH_PER_PROMPT], 0.81, 1e-12);
  ck_assert_double_eq_tol(s[0].sd[SK_SWEEP_M_WH_PER_PROMPT], sqrt(0.0002), 1e-12);
  ck_assert_double_eq_tol(s[0].ci95[SK_SWEEP_M_WH_PER_PROMPT], 12.706 * sqrt(0.0002) / sqrt(2),
                          1e-9);
  ck_assert(isnan(s[4].sd[SK_SWEEP_M_WH_PER_PROMPT])); /* one row */
  /* rows: the ttft row of point 1 fails, point 2's second seed fails (inlet) */
  for (size_t i = 0; i < n; i++) {
    int want = r[i].point == 0 || r[i].point == 3 || r[i].point == 4 ||
               (r[i].point == 2 && r[i].seed_index == 0);
    ck_assert_msg(r[i].pass == want, "row %zu", i);
  }
  /* fronts over the passing points 0 and 3 only: Wh vs ttft 3 (0.75, 125) and 0 (0.81,
   * 120); Wh vs inlet 3 (0.75, 26) and 0 (0.81, 25).  Point 1 (0.70, 300, inlet 24) would
   * dominate on inlet but breaks the SLA; 2 breaks the inlet limit. */
  int ft[] = {1, 0, 0, 1, 0}, fi[] = {1, 0, 0, 1, 0};
  for (int p = 0; p < 5; p++) {
    ck_assert_msg(s[p].front_ttft == ft[p], "ttft front, point %d", p);
    ck_assert_msg(s[p].front_inlet == fi[p], "inlet front, point %d", p);
  }
  /* a failed run fails its point */
  r[6].status = SK_SWEEP_RUN_FAILED;
  ck_assert_int_eq(sk_sweep_aggregate(sw, r, n, s), SK_OK);
  ck_assert_int_eq(s[3].pass, 0);
  ck_assert_int_eq(s[3].n_failed, 1);
  ck_assert_int_eq(s[0].best, 1);
  sk_sweep_destroy(sw);
}
END_TEST

START_TEST(t_quantiles) {
  ck_assert_double_eq_tol(sk_sweep_t975(1), 12.706, 1e-9);
  ck_assert_double_eq_tol(sk_sweep_t975(10), 2.228, 1e-9);
  ck_assert_double_eq_tol(sk_sweep_t975(60), 2.000, 0.002);
  ck_assert_double_eq_tol(sk_sweep_t975(100000), 1.960, 0.001);
}
END_TEST

START_TEST(file_round_trip) {
  tu_scratch_setup("skadi-sweep-");
  sk_sweep *sw = parse_ok(table_sweep);
  sk_sweep_result r[16];
  size_t n = fill_table(r);
  snprintf(r[2].message, sizeof r[2].message, "scenario: a message");
  sk_sweep_file_info info = {3.5, 2, "local", "interrupted", "test", "baseline"};
  char err[1024];
  const char *path = tu_tmp("x.h5");
  ck_assert_msg(sk_sweep_file_write(path, 0, sw, r, n, &info, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(sk_sweep_file_write(path, 0, sw, r, n, &info, err, sizeof err), SK_EINVAL);
  ASSERT_HAS(err, "exists");
  sk_sweep_table *t;
  ck_assert_msg(sk_sweep_file_read(path, &t, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_str_eq(t->sweep_json, sk_sweep_json(sw));
  ck_assert_str_eq(t->status, "interrupted");
  ck_assert_str_eq(t->scenario_name, "baseline");
  ck_assert_uint_eq(t->n_rows, n);
  ck_assert_uint_eq(t->n_points, 5);
  ck_assert_uint_eq(t->n_params, 1);
  ck_assert_str_eq(t->keys[0], "room.crah_fan_speed_pct");
  ck_assert_str_eq(t->labels[3], "room.crah_fan_speed_pct=60");
  ck_assert_double_eq(t->values[3], 60);
  ck_assert_uint_eq(t->n_constraints, 3);
  ck_assert_int_eq(t->workers, 2);
  /* sorted by job */
  for (size_t i = 1; i < t->n_rows; i++)
    ck_assert(t->rows[i - 1].point * 2 + t->rows[i - 1].seed_index <
              t->rows[i].point * 2 + t->rows[i].seed_index);
  ck_assert_int_eq(t->rows[2].seed_index, 0); /* point 1's rows swapped back */
  ck_assert_double_eq(t->rows[0].wall_s, 0.5);
  ck_assert_int_eq(t->points[3].best, 1);
  ck_assert_double_eq_tol(t->points[0].mean[SK_SWEEP_M_WH_PER_PROMPT], 0.81, 1e-12);
  sk_sweep_table_destroy(t);
  /* not a sweep file */
  tu_write_file(tu_tmp("n.h5"), "hello");
  ck_assert_int_ne(sk_sweep_file_read(tu_tmp("n.h5"), &t, err, sizeof err), SK_OK);
  ASSERT_HAS(err, "n.h5");
  sk_sweep_destroy(sw);
  tu_scratch_teardown();
}
END_TEST

/* The journal: rows read back bit for bit; a torn last row dropped and cut off so the
 * rows after it stay readable; another sweep's journal and a path that is not a regular
 * file refused. */
START_TEST(journal_round_trip) {
  tu_scratch_setup("skadi-sweep-");
  sk_sweep *sw = parse_ok(table_sweep);
  sk_sweep_result r[16], *got = NULL;
  size_t n = fill_table(r), m = 0;
  char err[1024], path[1100];
  ck_assert_int_eq(sk_sweep_journal_path(tu_tmp("x.h5"), path, sizeof path), 0);
  ASSERT_HAS(path, "x.h5.journal");
  sk_sweep_journal *j;
  ck_assert_msg(sk_sweep_journal_open(path, sw, 0, &j, NULL, NULL, err, sizeof err) == SK_OK, "%s",
                err);
  for (size_t i = 0; i < 3; i++)
    ck_assert_msg(sk_sweep_journal_add(j, &r[i], err, sizeof err) == SK_OK, "%s", err);
  sk_sweep_journal_close(j, 0);
  /* a torn fourth row: half of it */
  FILE *f = fopen(path, "ab");
  ck_assert_ptr_nonnull(f);
  fwrite(&r[3], 1, sizeof r[3] / 2, f);
  fclose(f);
  ck_assert_msg(sk_sweep_journal_open(path, sw, 1, &j, &got, &m, err, sizeof err) == SK_OK, "%s",
                err);
  ck_assert_uint_eq(m, 3);
  ck_assert_int_eq(memcmp(got, r, 3 * sizeof *r), 0);
  free(got);
  for (size_t i = 3; i < n; i++) /* after the cut: readable */
    ck_assert_msg(sk_sweep_journal_add(j, &r[i], err, sizeof err) == SK_OK, "%s", err);
  sk_sweep_journal_close(j, 0);
  ck_assert(sk_sweep_journal_open(path, sw, 1, &j, &got, &m, err, sizeof err) == SK_OK);
  ck_assert_uint_eq(m, n);
  ck_assert_int_eq(memcmp(got, r, n * sizeof *r), 0);
  free(got);
  sk_sweep_journal_close(j, 1);
  ck_assert_int_ne(access(path, F_OK), 0); /* removed */
  /* another sweep's journal */
  sk_sweep *other = parse_ok("{" BASE ", \"seeds\": 3}");
  ck_assert(sk_sweep_journal_open(path, other, 0, &j, NULL, NULL, err, sizeof err) == SK_OK);
  sk_sweep_journal_close(j, 0);
  ck_assert_int_eq(sk_sweep_journal_open(path, sw, 1, &j, &got, &m, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "different sweep");
  ck_assert_ptr_null(j);
  ck_assert_ptr_null(got);
  /* not a journal; not a regular file */
  tu_write_file(path, "hello");
  ck_assert_int_eq(sk_sweep_journal_open(path, sw, 1, &j, NULL, NULL, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "not a sweep journal");
  ck_assert_int_eq(sk_sweep_journal_open("/dev/null", sw, 0, &j, NULL, NULL, err, sizeof err),
                   SK_EINVAL);
  ASSERT_HAS(err, "not a regular file");
  sk_sweep_destroy(other);
  sk_sweep_destroy(sw);
  tu_scratch_teardown();
}
END_TEST

/* A file written before a metric existed (here: /runs without wh_per_prompt_net, as the
 * first sweep files) still reads; the missing column reads as NaN. */
START_TEST(older_file_reads) {
  tu_scratch_setup("skadi-sweep-");
  sk_sweep *sw = parse_ok(table_sweep);
  sk_sweep_result r[16];
  size_t n = fill_table(r);
  for (size_t i = 0; i < n; i++)
    r[i].m[SK_SWEEP_M_WH_PER_PROMPT_NET] = 1.5;
  sk_sweep_file_info info = {1, 1, "local", "completed", "test", "baseline"};
  char err[1024];
  const char *path = tu_tmp("old.h5");
  ck_assert_msg(sk_sweep_file_write(path, 0, sw, r, n, &info, err, sizeof err) == SK_OK, "%s", err);
  /* rewrite /runs with every field but wh_per_prompt_net */
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  hid_t ds = H5Dopen2(f, "runs", H5P_DEFAULT), full = H5Dget_type(ds);
  size_t rowsz = H5Tget_size(full);
  hid_t part = H5Tcreate(H5T_COMPOUND, rowsz);
  for (int k = 0; k < H5Tget_nmembers(full); k++) {
    char *name = H5Tget_member_name(full, (unsigned)k);
    if (strcmp(name, "wh_per_prompt_net") != 0) {
      hid_t mt = H5Tget_member_type(full, (unsigned)k);
      H5Tinsert(part, name, H5Tget_member_offset(full, (unsigned)k), mt);
      H5Tclose(mt);
    }
    H5free_memory(name);
  }
  char *buf = malloc(rowsz * n);
  ck_assert_int_ge(H5Dread(ds, part, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
  H5Dclose(ds);
  H5Ldelete(f, "runs", H5P_DEFAULT);
  hsize_t dims[1] = {n};
  hid_t sp = H5Screate_simple(1, dims, NULL);
  ds = H5Dcreate2(f, "runs", part, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ck_assert_int_ge(H5Dwrite(ds, part, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
  H5Dclose(ds);
  H5Sclose(sp);
  H5Tclose(part);
  H5Tclose(full);
  H5Fclose(f);
  free(buf);
  sk_sweep_table *t;
  ck_assert_msg(sk_sweep_file_read(path, &t, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_uint_eq(t->n_rows, n);
  for (size_t i = 0; i < n; i++) {
    ck_assert(isnan(t->rows[i].m[SK_SWEEP_M_WH_PER_PROMPT_NET]));
    ck_assert(t->rows[i].m[SK_SWEEP_M_WH_PER_PROMPT] > 0.5);
  }
  ck_assert_double_eq(t->points[3].mean[SK_SWEEP_M_WH_PER_PROMPT_NET], 1.5); /* /points has it */
  sk_sweep_table_destroy(t);
  sk_sweep_destroy(sw);
  tu_scratch_teardown();
}
END_TEST

/* One real run: its row holds the session's own figures. */
START_TEST(a_run_is_the_session) {
  sk_sweep *sw = parse_ok("{" BASE ", \"duration\": 120, \"mode\": \"off\", \"parameters\": ["
                          "{\"key\": \"room.crah_fan_speed_pct\", \"values\": [20]}]}");
  sk_sweep_result r;
  ck_assert_int_eq(sk_sweep_run(sw, 1, NULL, NULL, &r), SK_OK);
  /* below crah_min_speed_pct: only the whole scenario knows; a failed row, not an abort */
  ck_assert_int_eq(r.status, SK_SWEEP_RUN_FAILED);
  ck_assert_msg(strstr(r.message, "crah_min_speed_pct") != NULL, "%s", r.message);
  ck_assert(isnan(r.m[SK_SWEEP_M_WH_PER_PROMPT]));
  sk_sweep_destroy(sw);

  sw = parse_ok("{" BASE ", \"duration\": 120, \"parameters\": ["
                "{\"key\": \"room.crah_fan_speed_pct\", \"values\": [60]}]}");
  ck_assert_int_eq(sk_sweep_run(sw, 1, NULL, NULL, &r), SK_OK);
  ck_assert_int_eq(r.status, SK_SWEEP_RUN_OK);
  ck_assert_str_eq(r.message, "");
  ck_assert_uint_eq(r.seed, sk_sweep_seed(sw, 1, 0));

  /* the same run as a plain session */
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  char scen[512], err[SK_ERR_LEN];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", SKADI_SOURCE_DIR);
  const char *sets[] = {"room.crah_fan_speed_pct=60"};
  cfg.scenario_path = scen;
  cfg.sets = sets;
  cfg.n_sets = 1;
  cfg.have_seed = 1;
  cfg.seed = r.seed;
  cfg.duration_s = 120;
  cfg.counterfactual = 1;
  sk_session *s;
  ck_assert_msg(sk_session_create(&s, &cfg, err, sizeof err) == SK_OK, "%s", err);
  while (!sk_session_done(s))
    ck_assert_int_eq(sk_session_step_until(s, sk_session_end(s)), SK_OK);
  sk_session_summary sum;
  sk_session_summary_get(s, &sum);
  ck_assert_double_eq(r.m[SK_SWEEP_M_WH_PER_PROMPT], sum.run.wh_per_prompt);
  ck_assert_double_eq(r.m[SK_SWEEP_M_CF_WH_PER_PROMPT], sum.cf.wh_per_prompt);
  ck_assert_double_eq(r.m[SK_SWEEP_M_TTFT_P95], sum.run.ttft_p95_ms);
  ck_assert_double_eq(r.m[SK_SWEEP_M_MAX_INLET], sum.run.max_inlet_c);
  ck_assert_double_eq(r.m[SK_SWEEP_M_INLET_OVER_LIMIT], sum.run.inlet_breach_samples);
  ck_assert_double_eq(r.m[SK_SWEEP_M_SLA_MS], 250);
  /* one window per sample period with a latency figure */
  ck_assert(r.m[SK_SWEEP_M_SLA_WINDOWS] >= 1 && r.m[SK_SWEEP_M_SLA_WINDOWS] <= 12);
  ck_assert(r.m[SK_SWEEP_M_SLA_WINDOWS_MISSED] <= r.m[SK_SWEEP_M_SLA_WINDOWS]);
  sk_session_destroy(s);
  sk_sweep_destroy(sw);
}
END_TEST

/* A recorded run whose "<path>.part" a killed sweep left behind: the run replaces it
 * (the session refused to start beside it, and --resume made the run a failed row). */
START_TEST(stale_part_is_replaced) {
  tu_scratch_setup("skadi-sweep-");
  sk_sweep *sw = parse_ok("{" BASE ", \"duration\": 60, \"mode\": \"off\"}");
  const char *rec = tu_tmp("r.h5");
  char part[600];
  snprintf(part, sizeof part, "%s.part", rec);
  tu_write_file(part, "a killed run's");
  sk_sweep_result r;
  ck_assert_int_eq(sk_sweep_run(sw, 0, rec, NULL, &r), SK_OK);
  ck_assert_msg(r.status == SK_SWEEP_RUN_OK, "%s", r.message);
  ck_assert_int_eq(access(rec, F_OK), 0);
  ck_assert_int_ne(access(part, F_OK), 0);
  sk_sweep_destroy(sw);
  tu_scratch_teardown();
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("sweep");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, grid_expands_row_major);
  tcase_add_test(tc, text_values_and_no_default);
  tcase_add_test(tc, lhs_is_reproducible_and_stratified);
  tcase_add_test(tc, random_is_reproducible);
  tcase_add_test(tc, seeds_do_not_depend_on_order);
  tcase_add_loop_test(tc, bad_files_name_the_field, 0,
                      (int)(sizeof bad_files / sizeof bad_files[0]));
  tcase_add_test(tc, missing_file);
  tcase_add_test(tc, pareto_hand_checked);
  tcase_add_test(tc, constraints_and_aggregates_hand_checked);
  tcase_add_test(tc, t_quantiles);
  tcase_add_test(tc, file_round_trip);
  tcase_add_test(tc, older_file_reads);
  tcase_add_test(tc, journal_round_trip);
  tcase_add_test(tc, a_run_is_the_session);
  tcase_add_test(tc, stale_part_is_replaced);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
