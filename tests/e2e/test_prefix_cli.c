/*
 * test_prefix_cli.c -- KV prefix reuse through the `skadi` binary: a Mooncake replay prints
 * the prefix hit rate in its table, gives the four figures in --json (consistent with each
 * other) and in the recording's /summary; a Poisson run gives null / no table line; a bad
 * workload.prefix_cache is refused with exit 2 naming the key.  30 s of simulated time on a
 * one-row room; no physics figure is checked.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *bin, *src;

static void setup(void) {
  tu_skadi_env(&bin, &src);
  tu_scratch_setup("skadi-prefix-e2e-");
}

/* skadi run on a one-row room, the Mooncake sample (trace != 0) or Poisson, `mode`; extra
 * is one more argument (or NULL). */
static void run(tu_result *r, int trace, const char *mode, const char *extra) {
  char scen[512], set_trace[600], set_mode[80];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  snprintf(set_trace, sizeof set_trace, "workload.trace_csv=%s%s", trace ? src : "",
           trace ? "/tests/data/traces/mooncake_sample.jsonl" : "");
  snprintf(set_mode, sizeof set_mode, "workload.prefix_cache=%s", mode);
  tu_run(r, (char *const[]){(char *)bin, "run", scen, "--set", set_trace, "--set", set_mode,
                            "--set", "room.rows=1", "--set", "workload.rate_prompts_s=3",
                            "--duration", "30", "--out", tu_tmp("run.h5"), "--force",
                            "--no-progress", (char *)extra, NULL});
}

/* The JSON object of --json's output (after the trace line). */
static cJSON *json_of(const char *out) {
  const char *p = strchr(out, '{');
  ck_assert_ptr_nonnull(p);
  cJSON *j = cJSON_Parse(p);
  ck_assert_ptr_nonnull(j);
  return j;
}

static double num(const cJSON *j, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  ck_assert_msg(v != NULL, "no %s", key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

START_TEST(table_json_summary) {
  tu_result r;
  run(&r, 1, "route", NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "prefix cache hit rate");
  ASSERT_HAS(r.out, "prefill tokens skipped");
  /* /summary carries the figures */
  tu_result d;
  tu_run(&d, (char *const[]){"h5dump", "-a", "/summary/prefix_hit_rate", tu_tmp("run.h5"), NULL});
  ck_assert_msg(d.status == 0, "%s", d.err);
  ASSERT_HAS(d.out, "H5T_IEEE_F64LE");

  run(&r, 1, "on", "--json");
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *j = json_of(r.out);
  double asked = num(j, "prefix_blocks_asked"), hit = num(j, "prefix_blocks_hit");
  ck_assert(asked > 0);
  ck_assert(hit >= 0 && hit <= asked);
  ck_assert_double_eq_tol(num(j, "prefix_hit_rate"), hit / asked, 1e-12);
  ck_assert(num(j, "prefill_tokens_skipped") <= 512 * hit);

  /* skadi report reads the same figures back from the recording */
  tu_run(&d, (char *const[]){(char *)bin, "report", tu_tmp("run.h5"), NULL});
  ck_assert_msg(d.status == 0, "%s", d.err);
  cJSON *rep = json_of(d.out);
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(rep, "kpis");
  ck_assert_double_eq(num(k, "prefix_blocks_asked"), num(j, "prefix_blocks_asked"));
  ck_assert_double_eq(num(k, "prefix_blocks_hit"), num(j, "prefix_blocks_hit"));
  ck_assert_double_eq(num(k, "prefill_tokens_skipped"), num(j, "prefill_tokens_skipped"));
  cJSON_Delete(rep);
  cJSON_Delete(j);

  /* Poisson: nothing asked, the rate is null, no table line */
  run(&r, 0, "route", "--json");
  ck_assert_msg(r.status == 0, "%s", r.err);
  j = json_of(r.out);
  ck_assert_double_eq(num(j, "prefix_blocks_asked"), 0);
  ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "prefix_hit_rate")));
  cJSON_Delete(j);
  run(&r, 0, "on", NULL);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_ptr_null(strstr(r.out, "prefix cache hit rate"));
}
END_TEST

START_TEST(bad_key_refused) {
  tu_result r;
  run(&r, 1, "always", NULL);
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "workload.prefix_cache");
  ASSERT_HAS(r.err, "expected one of off, on, route");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("prefix_cli");
  TCase *tc = tcase_create("prefix_cli");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, table_json_summary);
  tcase_add_test(tc, bad_key_refused);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
