/*
 * test_extremes.c -- every numeric settings key at the smallest and the largest value its
 * range allows (just inside an open bound; 1e-300 above an open 0) must give a session
 * that either refuses it (SK_EINVAL: another key's rule, with a message) or runs to its
 * end without error -- no hang, no crash, no "out of memory" (docs/TESTING.md).
 *
 * The keys and ranges come from sk_scenario_print_keys (the table `skadi keys` prints),
 * so a key added to the table is covered without touching this file.  Each value runs in
 * process in a 2-rack room for 20 simulated seconds (1 s at the largest arrival rates, a
 * million a second; closed loop for control.* and settings.*; sample_period_s's largest
 * gets a run that long): ~0.5 s for all of them, where the same runs through the binary
 * took ~10 s.  Found this way: a NaN GPU slowdown that hung the run at a tiny CRAH flow
 * (test_server) and a settle window of 1e300 s (test_control).  The CRAH flow has its own
 * case, an hour long: its smallest value ran the inlets away only after minutes.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/scenario.h"
#include "skadi/session.h"

#include "testutil.h"

/* Calls fn(key, value, ud) for the two extremes of every int or double key. */
static int for_each_extreme(void (*fn)(const char *key, const char *value, void *ud), void *ud) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  ck_assert_ptr_nonnull(f);
  sk_scenario_print_keys(f);
  fclose(f);
  int n = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *tok[32];
    int nt = 0;
    char *s2 = NULL;
    for (char *t = strtok_r(line, " ", &s2); t && nt < 32; t = strtok_r(NULL, " ", &s2))
      tok[nt++] = t;
    int i = 1;
    while (i < nt && strcmp(tok[i], "int") != 0 && strcmp(tok[i], "double") != 0)
      i++;
    if (i + 3 >= nt || (tok[i + 2][0] != '[' && tok[i + 2][0] != '('))
      continue; /* the header, a string, bool or enum key */
    const char *lb = tok[i + 2], *ub = tok[i + 3];
    double lo = strtod(lb + 1, NULL), hi = strtod(ub, NULL);
    if (lb[0] == '(')
      lo = lo == 0 ? 1e-300 : lo + fabs(lo) * 1e-9;
    if (ub[strlen(ub) - 1] == ')')
      hi = hi - fabs(hi) * 1e-9;
    int is_int = strcmp(tok[i], "int") == 0;
    char v[64];
    snprintf(v, sizeof v, is_int ? "%.0f" : "%.17g", lo);
    fn(tok[0], v, ud);
    snprintf(v, sizeof v, is_int ? "%.0f" : "%.17g", hi);
    fn(tok[0], v, ud);
    n += 2;
  }
  free(text);
  return n;
}

typedef struct {
  int ran, refused;
} tally;

static void run_one(const char *key, const char *value, void *ud) {
  tally *t = ud;
  char set[160];
  snprintf(set, sizeof set, "%s=%s", key, value);
  const char *sets[5] = {"room.rows=1", "room.racks_per_row=2", NULL, NULL, NULL};
  int n = 2;
  double dur = 20;
  const char *mode = "off";
  if (strcmp(key, "room.rows") == 0 || strcmp(key, "room.racks_per_row") == 0)
    n = 0;
  if (strncmp(key, "control.", 8) == 0 || strncmp(key, "settings.", 9) == 0)
    mode = "closed_loop";
  if (strcmp(key, "sample_period_s") == 0)
    dur = strtod(value, NULL);
  if (strncmp(key, "workload.rate_", 14) == 0) {
    dur = 1;
    sets[n++] = "sample_period_s=1";
    sets[n++] = "thermal_step_s=1";
  }
  sets[n++] = set;
  fprintf(stderr, "extreme %s (%s, %g s)\n", set, mode, dur); /* names a hang or crash */
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  cfg.sets = sets;
  cfg.n_sets = n;
  cfg.duration_s = dur;
  cfg.mode = mode;
  cfg.threads = 1;
  char err[512] = "";
  sk_session *s = NULL;
  sk_status st = sk_session_create(&s, &cfg, err, sizeof err);
  if (st != SK_OK) {
    ck_assert_msg(st == SK_EINVAL && err[0], "%s: create gave %d: %s", set, st, err);
    t->refused++;
    return;
  }
  while (!sk_session_done(s))
    if (sk_session_step_until(s, sk_session_end(s)) != SK_OK)
      break;
  ck_assert_msg(sk_session_status(s) == SK_OK, "%s: %s", set, sk_session_error(s));
  ck_assert_int_eq(sk_session_now(s), sk_session_end(s));
  ck_assert_int_eq(sk_session_finish(s, NULL, "completed"), SK_OK);
  sk_session_destroy(s);
  t->ran++;
}

START_TEST(every_key_at_both_ends) {
  tally t = {0, 0};
  int n = for_each_extreme(run_one, &t);
  ck_assert_int_ge(n, 100); /* the table was read */
  ck_assert_int_eq(t.ran + t.refused, n);
  ck_assert_int_gt(t.ran, n * 3 / 4); /* most extremes run, not just get refused */
}
END_TEST

/* The smallest CRAH flow the key allows ran the inlets away (to 1e30 degC: with little
 * cold air the racks breathe their exhaust and the server fans, speeding up with the
 * inlet, heat it further).  Such a room is refused with the key named; the smallest flow
 * it accepts, at the lowest fan speed, runs an hour with bounded inlets. */
START_TEST(tiny_crah_flow_refused_or_bounded) {
  static const struct {
    const char *sets[2], *key;
  } refused[] = {
      {{"room.crah_rated_flow_m3s=1e-300", NULL}, "room.crah_rated_flow_m3s"},
      {{"room.crah_min_speed_pct=0", "room.crah_fan_speed_pct=0"}, "room.crah_min_speed_pct"},
      {{"room.servers_per_rack=4", NULL}, "room.crah_rated_flow_m3s"},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    sk_session_config cfg;
    sk_session_config_init(&cfg);
    cfg.sets = refused[i].sets;
    cfg.n_sets = refused[i].sets[1] ? 2 : 1;
    cfg.duration_s = 60;
    char err[512] = "";
    sk_session *s = NULL;
    ck_assert_int_eq(sk_session_create(&s, &cfg, err, sizeof err), SK_EINVAL);
    ck_assert_msg(strstr(err, refused[i].key) && strstr(err, "no steady state"), "%s", err);
  }
  /* the bound itself: half the servers' air through the tiles at the lowest speed */
  sk_scenario sc;
  sk_scenario_defaults(&sc);
  double lo = 0.5 * sc.servers_per_rack * sc.server.airflow_m3s * sc.racks_per_row /
              (sc.room.crah_min_speed_pct / 100.0);
  char flow[64], speed[64];
  snprintf(flow, sizeof flow, "room.crah_rated_flow_m3s=%.17g", lo);
  snprintf(speed, sizeof speed, "room.crah_fan_speed_pct=%.17g", sc.room.crah_min_speed_pct);
  const char *sets[] = {flow, speed};
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  cfg.sets = sets;
  cfg.n_sets = 2;
  cfg.duration_s = 3600;
  cfg.threads = 1;
  char err[512] = "";
  sk_session *s = NULL;
  ck_assert_msg(sk_session_create(&s, &cfg, err, sizeof err) == SK_OK, "%s: %s", flow, err);
  while (!sk_session_done(s))
    if (sk_session_step_until(s, sk_session_end(s)) != SK_OK)
      break;
  ck_assert_msg(sk_session_status(s) == SK_OK, "%s", sk_session_error(s));
  sk_session_summary sum;
  sk_session_summary_get(s, &sum);
  /* bounded: hot, but far from boiling (the runaway reached 1e30 degC in an hour) */
  ck_assert_msg(isfinite(sum.run.max_inlet_c) && sum.run.max_inlet_c < 100, "%s: max inlet %g degC",
                flow, sum.run.max_inlet_c);
  sk_session_destroy(s);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("extremes");
  TCase *tc = tcase_create("extremes");
  tcase_add_test(tc, every_key_at_both_ends);
  tcase_add_test(tc, tiny_crah_flow_refused_or_bounded);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
