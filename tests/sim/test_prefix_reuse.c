/*
 * test_prefix_reuse.c -- KV prefix reuse in the twin (sim/src/twin.c with
 * models/src/prefix_cache.c): the shipped Mooncake sample replayed on a small room for a
 * simulated minute.  Structure, not figures: off asks nothing; on and route ask the same
 * blocks and skip no more than their hits hold; the same seed gives the same figures; a
 * clone taken mid-run ends where the original ends (the caches are copied); one server
 * leaves route nothing to choose; traces without hash_ids and Poisson arrivals are the
 * same whatever workload.prefix_cache says.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork in testutil.h */

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/scenario.h"
#include "skadi/trace.h"
#include "skadi/twin.h"

#include "testutil.h"

#define MOONCAKE SKADI_SOURCE_DIR "/tests/data/traces/mooncake_sample.jsonl"
#define AZURE SKADI_SOURCE_DIR "/tests/data/traces/azure2024_sample.csv"

static sk_scenario *room(const char *trace, int mode, int racks) {
  sk_scenario *sc = malloc(sizeof *sc);
  ck_assert_ptr_nonnull(sc);
  sk_scenario_defaults(sc);
  sc->n_rows = 1;
  sc->racks_per_row = racks;
  sc->duration_s = 60;
  sc->prefix_cache = mode;
  if (trace) {
    snprintf(sc->trace_csv, sizeof sc->trace_csv, "%s", trace);
    sc->workload.rate_scale = 0.5; /* ~2.2 requests/s: a few per server at once */
  } else {
    sc->workload.rate_prompts_s = 4;
  }
  return sc;
}

/* Runs sc to its end; with clone_at_s > 0 the figures are those of a clone taken then. */
static sk_summary run(const sk_scenario *sc, double clone_at_s) {
  sk_trace tr;
  memset(&tr, 0, sizeof tr);
  char err[512] = "";
  if (sc->trace_csv[0]) {
    ck_assert_msg(sk_trace_load(&tr, sc->trace_csv, err, sizeof err) == SK_OK, "%s", err);
    sk_trace_clamp(&tr, sc->workload.max_tokens);
  }
  sk_twin *tw = NULL;
  ck_assert_msg(sk_twin_create(&tw, sc, &tr, err, sizeof err) == SK_OK, "%s", err);
  if (clone_at_s > 0) {
    ck_assert_int_eq(sk_twin_run_until(tw, (sk_time_ns)(clone_at_s * 1e9)), SK_OK);
    sk_twin *cl = NULL;
    ck_assert_int_eq(sk_twin_clone(tw, &cl), SK_OK);
    sk_twin_destroy(tw);
    tw = cl;
  }
  ck_assert_int_eq(sk_twin_run_until(tw, sk_twin_end(tw)), SK_OK);
  sk_summary s;
  sk_twin_summary(tw, &s);
  sk_twin_destroy(tw);
  sk_trace_fini(&tr);
  return s;
}

static void assert_same(const sk_summary *a, const sk_summary *b) {
  ck_assert_double_eq(a->prompts_completed, b->prompts_completed);
  ck_assert_double_eq(a->tokens_out, b->tokens_out);
  ck_assert_double_eq(a->it_kwh, b->it_kwh);
  ck_assert_double_eq(a->facility_kwh, b->facility_kwh);
  ck_assert_double_eq(a->ttft_p50_ms, b->ttft_p50_ms);
  ck_assert_double_eq(a->ttft_p95_ms, b->ttft_p95_ms);
  ck_assert_double_eq(a->prefix_blocks_asked, b->prefix_blocks_asked);
  ck_assert_double_eq(a->prefix_blocks_hit, b->prefix_blocks_hit);
  ck_assert_double_eq(a->prefill_tokens_skipped, b->prefill_tokens_skipped);
}

START_TEST(defaults) {
  sk_scenario *sc = malloc(sizeof *sc);
  ck_assert_ptr_nonnull(sc);
  sk_scenario_defaults(sc);
  ck_assert_int_eq(sc->prefix_cache, SK_PREFIX_CACHE_ON);
  ck_assert_int_eq(sc->kv_cache_blocks, 2611);
  free(sc);
}
END_TEST

START_TEST(off_on_route) {
  sk_scenario *sc = room(MOONCAKE, SK_PREFIX_CACHE_OFF, 6);
  sk_summary off = run(sc, 0);
  ck_assert_double_eq(off.prefix_blocks_asked, 0);
  ck_assert(isnan(off.prefix_hit_rate));
  ck_assert(off.prompts_completed > 0);
  sc->prefix_cache = SK_PREFIX_CACHE_ON;
  sk_summary on = run(sc, 0);
  sc->prefix_cache = SK_PREFIX_CACHE_ROUTE;
  sk_summary route = run(sc, 0);
  const sk_summary *m[2] = {&on, &route};
  for (int i = 0; i < 2; i++) {
    ck_assert(m[i]->prefix_blocks_asked > 0);
    ck_assert(m[i]->prefix_blocks_hit > 0); /* the sample's ids 0..7 are shared */
    ck_assert(m[i]->prefix_blocks_hit <= m[i]->prefix_blocks_asked);
    ck_assert_double_eq_tol(m[i]->prefix_hit_rate,
                            m[i]->prefix_blocks_hit / m[i]->prefix_blocks_asked, 1e-15);
    ck_assert(m[i]->prefill_tokens_skipped > 0);
    ck_assert(m[i]->prefill_tokens_skipped <= 512 * m[i]->prefix_blocks_hit);
  }
  /* the same arrivals: every request asks its full blocks whichever server takes it */
  ck_assert_double_eq(on.prefix_blocks_asked, route.prefix_blocks_asked);
  /* skipping prefill cannot cost GPU energy */
  ck_assert(on.it_kwh <= off.it_kwh);
  free(sc);
}
END_TEST

START_TEST(deterministic) {
  sk_scenario *sc = room(MOONCAKE, SK_PREFIX_CACHE_ROUTE, 6);
  sk_summary a = run(sc, 0), b = run(sc, 0);
  assert_same(&a, &b);
  sk_summary c = run(sc, 23.5); /* a clone carries the caches */
  assert_same(&a, &c);
  free(sc);
}
END_TEST

START_TEST(one_server_route_is_on) {
  sk_scenario *sc = room(MOONCAKE, SK_PREFIX_CACHE_ON, 1);
  sk_summary on = run(sc, 0);
  sc->prefix_cache = SK_PREFIX_CACHE_ROUTE;
  sk_summary route = run(sc, 0);
  assert_same(&on, &route);
  ck_assert(on.prefix_blocks_hit > 0);
  free(sc);
}
END_TEST

/* No hash_ids: nothing to look up, and every mode is the run it was before. */
START_TEST(no_hash_ids_no_change) {
  const char *traces[2] = {AZURE, NULL};
  for (int t = 0; t < 2; t++) {
    sk_scenario *sc = room(traces[t], SK_PREFIX_CACHE_OFF, 4);
    sk_summary off = run(sc, 0);
    sc->prefix_cache = SK_PREFIX_CACHE_ROUTE;
    sk_summary route = run(sc, 0);
    assert_same(&off, &route);
    ck_assert_double_eq(route.prefix_blocks_asked, 0);
    ck_assert(isnan(route.prefix_hit_rate));
    free(sc);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("prefix_reuse");
  TCase *tc = tcase_create("prefix_reuse");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, defaults);
  tcase_add_test(tc, off_on_route);
  tcase_add_test(tc, deterministic);
  tcase_add_test(tc, one_server_route_is_on);
  tcase_add_test(tc, no_hash_ids_no_change);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
