/*
 * test_server.c -- models/src/server.c: the GPU power cap.  At the default cap (the TDP)
 * a prefill is bit-for-bit what it is uncapped; a cap below gpu_prefill_w makes the
 * prefill (gpu_prefill_w/cap)^cap_latency_exp times longer at the cap's power; a prefill
 * keeps the cap it began with; decode is never capped above its ceiling.  Prompts and
 * prefills beyond the timing data are counted; the requests without a first token are
 * reported with their wait so far.  Prefix-cache hits (cached_tokens) shorten the prefill by
 * exactly the cached tokens.
 * (The scenario rule cap >= decode ceiling is tested in tests/sim/test_scenario.c.)
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork in testutil.h */

#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "skadi/perf.h"
#include "skadi/scenario.h"
#include "skadi/server.h"

#include "testutil.h"

#define IN_TOKENS 2000 /* one request, past the prefill floor */

typedef struct {
  sk_time_ns dur_ns; /* prefill start to first token */
  double gpu_j;      /* GPU energy over the prefill, all GPUs */
  double gpu_w;      /* per-GPU power while prefilling */
} prefill_run;

static void defaults(sk_server_params *sp, sk_perf_params *pp) {
  sk_scenario *sc = malloc(sizeof *sc);
  ck_assert_ptr_nonnull(sc);
  sk_scenario_defaults(sc);
  *sp = sc->server;
  *pp = sc->perf;
  free(sc);
}

/* One request alone on an idle server: the wake that starts its prefill, then the wake
 * that ends it.  `during` (may be NULL) replaces the params between the two wakes. */
static prefill_run one_prefill(const sk_server_params *sp, const sk_server_params *during,
                               const sk_perf_params *pp) {
  prefill_run r;
  sk_server *s = malloc(sizeof *s);
  ck_assert_ptr_nonnull(s);
  sk_server_init(s, 0, 0, 0, 0);
  sk_request rq = {0, IN_TOKENS, 1, 0};
  ck_assert_int_eq(sk_server_enqueue(s, sp, pp, &rq, 0), 1);
  sk_time_ns t0 = s->next_wake_ns;
  sk_server_wake(s, sp, pp, t0, NULL, NULL);
  ck_assert_int_eq(s->phase, SK_PHASE_PREFILL);
  if (during)
    sp = during;
  r.gpu_w = sk_server_gpu_w(s, sp);
  s->gpu_energy_j = 0; /* idle before t0 is accounted already */
  sk_time_ns t1 = s->next_wake_ns;
  sk_server_wake(s, sp, pp, t1, NULL, NULL);
  ck_assert_int_ne(s->phase, SK_PHASE_PREFILL);
  r.dur_ns = t1 - t0;
  r.gpu_j = s->gpu_energy_j;
  free(s);
  return r;
}

/* The default cap is the 700 W TDP, above the 650 W prefill: nothing changes. */
START_TEST(default_cap_changes_nothing) {
  sk_server_params sp, open;
  sk_perf_params pp;
  defaults(&sp, &pp);
  ck_assert_double_eq(sp.gpu_power_cap_w, 700);
  open = sp;
  open.gpu_power_cap_w = INFINITY;
  prefill_run a = one_prefill(&sp, NULL, &pp), b = one_prefill(&open, NULL, &pp);
  ck_assert_int_eq(a.dur_ns, b.dur_ns);
  ck_assert_double_eq(a.gpu_j, b.gpu_j);
  ck_assert_double_eq(a.gpu_w, sp.gpu_prefill_w);
  ck_assert_int_eq(a.dur_ns, (sk_time_ns)llround(sk_perf_prefill_ms(&pp, IN_TOKENS) * 1e6));
}
END_TEST

/* Cap 500 W: the prefill takes (650/500)^0.176 as long and draws 500 W on each of 8 GPUs. */
START_TEST(cap_500_slows_prefill_at_cap_power) {
  sk_server_params sp, capped;
  sk_perf_params pp;
  defaults(&sp, &pp);
  capped = sp;
  capped.gpu_power_cap_w = 500;
  prefill_run a = one_prefill(&sp, NULL, &pp), c = one_prefill(&capped, NULL, &pp);
  double factor = pow(650.0 / 500.0, 0.176);
  ck_assert_double_eq_tol((double)c.dur_ns, (double)a.dur_ns * factor, 1.0); /* ns rounding */
  ck_assert_double_gt((double)c.dur_ns, (double)a.dur_ns * 1.04);
  ck_assert_double_eq(c.gpu_w, 500);
  double t = (double)c.dur_ns * 1e-9;
  ck_assert_double_eq_tol(c.gpu_j, 500.0 * 8 * t, 1e-9 * c.gpu_j);
  /* energy of the prefill falls by (500/650)^(1 - 0.176), up to the ns rounding */
  ck_assert_double_eq_tol(c.gpu_j / a.gpu_j, pow(500.0 / 650.0, 1 - 0.176), 1e-6);
}
END_TEST

/* A cap moved during a prefill leaves that prefill's power and duration alone. */
START_TEST(prefill_keeps_the_cap_it_began_with) {
  sk_server_params sp, capped;
  sk_perf_params pp;
  defaults(&sp, &pp);
  capped = sp;
  capped.gpu_power_cap_w = 500;
  prefill_run a = one_prefill(&sp, NULL, &pp), m = one_prefill(&sp, &capped, &pp);
  ck_assert_int_eq(m.dur_ns, a.dur_ns);
  ck_assert_double_eq(m.gpu_w, 650);
  ck_assert_double_eq(m.gpu_j, a.gpu_j);
}
END_TEST

/* At the lowest valid cap (the decode ceiling, 300 W) a full decode batch is not capped. */
START_TEST(decode_not_capped_at_ceiling) {
  sk_server_params sp;
  sk_perf_params pp;
  defaults(&sp, &pp);
  ck_assert_double_eq(sk_server_decode_ceiling_w(&sp), 300);
  sp.gpu_power_cap_w = sk_server_decode_ceiling_w(&sp);
  sk_server *s = malloc(sizeof *s);
  ck_assert_ptr_nonnull(s);
  sk_server_init(s, 0, 0, 0, 0);
  s->phase = SK_PHASE_DECODE;
  s->n_active = sp.max_batch;
  ck_assert_double_eq(sk_server_gpu_w(s, &sp),
                      sp.gpu_decode_base_w + sp.gpu_decode_w_per_seq * sp.max_batch);
  free(s);
}
END_TEST

/* Prompts beyond the timing data's longest (8192 tokens) and prefill iterations beyond its
 * largest (32768 tokens) are counted when their prefill starts; the bounds themselves are
 * measured. */
START_TEST(extrapolated_prefills_counted) {
  sk_server_params sp;
  sk_perf_params pp;
  defaults(&sp, &pp);
  sp.max_prefill_tokens = 100000;
  static const int32_t sizes[2][4] = {{8192, 8193, 16384, 1},   /* 32770 tokens */
                                      {8192, 8192, 8192, 8192}}; /* 32768: all measured */
  for (int k = 0; k < 2; k++) {
    sk_server *s = malloc(sizeof *s);
    ck_assert_ptr_nonnull(s);
    sk_server_init(s, 0, 0, 0, 0);
    for (int i = 0; i < 4; i++) {
      sk_request rq = {0, sizes[k][i], 2, 0};
      ck_assert_int_eq(sk_server_enqueue(s, &sp, &pp, &rq, 0), 1);
    }
    sk_server_wake(s, &sp, &pp, s->next_wake_ns, NULL, NULL);
    ck_assert_int_eq(s->prefill_n, 4);
    ck_assert_double_eq(s->prompts_extrapolated, k == 0 ? 2 : 0);
    ck_assert_double_eq(s->prefills_extrapolated, k == 0 ? 1 : 0);
    free(s);
  }
  ck_assert_int_eq(SK_PERF_MEASURED_PROMPT_MAX_TOKENS, 8192);
  ck_assert_int_eq(SK_PERF_MEASURED_PREFILL_MAX_TOKENS, 32768);
}
END_TEST

typedef struct {
  int n;
  double wait_ms[8];
} waits;

static void add_wait(void *ud, int server, double ms) {
  (void)server;
  waits *w = ud;
  ck_assert_int_lt(w->n, 8);
  w->wait_ms[w->n++] = ms;
}

/* Every request without a first token, queued or in the prefill in progress, is reported
 * once with its wait so far; a request that got its first token no longer is. */
START_TEST(pending_ttft_reports_every_waiting_request) {
  sk_server_params sp;
  sk_perf_params pp;
  defaults(&sp, &pp);
  sk_server *s = malloc(sizeof *s);
  ck_assert_ptr_nonnull(s);
  sk_server_init(s, 0, 0, 0, 0);
  for (int i = 0; i < 3; i++) { /* 5000 tokens each: one prefill holds one of them */
    sk_request rq = {(sk_time_ns)i * 1000000, 5000, 2, 0};
    ck_assert_int_eq(sk_server_enqueue(s, &sp, &pp, &rq, rq.t_arrival_ns), 1);
  }
  waits w = {0};
  sk_server_pending_ttft(s, 5000000, add_wait, &w); /* at 5 ms, all queued */
  ck_assert_int_eq(w.n, 3);
  ck_assert_double_eq_tol(w.wait_ms[0], 5, 1e-9);
  ck_assert_double_eq_tol(w.wait_ms[2], 3, 1e-9);
  sk_server_wake(s, &sp, &pp, s->next_wake_ns, NULL, NULL); /* first prefill starts */
  ck_assert_int_eq(s->prefill_n, 1);
  sk_time_ns end = s->next_wake_ns;
  w.n = 0;
  sk_server_pending_ttft(s, end, add_wait, &w); /* one prefilling, two queued */
  ck_assert_int_eq(w.n, 3);
  ck_assert_double_eq_tol(w.wait_ms[0], (double)end * 1e-6, 1e-9);
  waits got = {0};
  sk_server_wake(s, &sp, &pp, end, add_wait, &got); /* first token of the first */
  ck_assert_int_eq(got.n, 1);
  w.n = 0;
  sk_server_pending_ttft(s, end, add_wait, &w);
  ck_assert_int_eq(w.n, 2);
  free(s);
}
END_TEST

/* A runaway room (a CRAH flow of 1e-300 m3/s at the bottom of its range) gives NaN or
 * infinite inlets; the slowdown must stay finite (it was NaN, every decode step then
 * lasted "NaN" ns, the server woke at the same instant forever and the run hung). */
/* Prefill of one request of in_tokens with cached_tokens already in the prefix cache. */
static prefill_run cached_prefill(const sk_server_params *sp, const sk_perf_params *pp,
                                  int32_t in, int32_t cached) {
  prefill_run r;
  sk_server *s = malloc(sizeof *s);
  ck_assert_ptr_nonnull(s);
  sk_server_init(s, 0, 0, 0, 0);
  sk_request rq = {0, in, 1, cached};
  ck_assert_int_eq(sk_server_enqueue(s, sp, pp, &rq, 0), 1);
  sk_time_ns t0 = s->next_wake_ns;
  sk_server_wake(s, sp, pp, t0, NULL, NULL);
  r.gpu_w = sk_server_gpu_w(s, sp);
  s->gpu_energy_j = 0;
  sk_time_ns t1 = s->next_wake_ns;
  sk_server_wake(s, sp, pp, t1, NULL, NULL);
  r.dur_ns = t1 - t0;
  r.gpu_j = s->gpu_energy_j;
  free(s);
  return r;
}

/* A prefix-cache hit: the prefill is timed and charged for the uncached tokens only --
 * exactly as a prompt of that many tokens -- and only they count against the iteration's
 * token budget. */
START_TEST(cached_tokens_skip_prefill) {
  sk_server_params sp;
  sk_perf_params pp;
  defaults(&sp, &pp);
  prefill_run hit = cached_prefill(&sp, &pp, 6000, 4 * 512);
  prefill_run same = cached_prefill(&sp, &pp, 6000 - 4 * 512, 0);
  prefill_run miss = cached_prefill(&sp, &pp, 6000, 0);
  ck_assert_int_eq(hit.dur_ns, same.dur_ns);
  ck_assert_double_eq(hit.gpu_j, same.gpu_j);
  ck_assert_int_lt(hit.dur_ns, miss.dur_ns);
  double saved_ms = sk_perf_prefill_ms(&pp, 6000) - sk_perf_prefill_ms(&pp, 6000 - 4 * 512);
  ck_assert_double_eq_tol((double)(miss.dur_ns - hit.dur_ns) * 1e-6, saved_ms, 1e-5);
  ck_assert_double_eq_tol(miss.gpu_j - hit.gpu_j, saved_ms * 1e-3 * hit.gpu_w * sp.gpus, 1e-3);

  /* two 6000-token prompts overflow the 8192-token budget; with 4 cached blocks each they
   * need 3952 + 3952 and share one prefill */
  for (int cached = 0; cached <= 1; cached++) {
    sk_server *s = malloc(sizeof *s);
    ck_assert_ptr_nonnull(s);
    sk_server_init(s, 0, 0, 0, 0);
    for (int i = 0; i < 2; i++) {
      sk_request rq = {0, 6000, 2, cached ? 4 * 512 : 0};
      ck_assert_int_eq(sk_server_enqueue(s, &sp, &pp, &rq, 0), 1);
    }
    sk_server_wake(s, &sp, &pp, s->next_wake_ns, NULL, NULL);
    ck_assert_int_eq(s->prefill_n, cached ? 2 : 1);
    ck_assert_int_eq(s->prefill_tokens, cached ? 2 * (6000 - 4 * 512) : 6000);
    free(s);
  }
}
END_TEST

/* The router's backlog estimate: zero when idle, the rest of a prefill plus the queued
 * prompts' uncached tokens otherwise. */
START_TEST(backlog_estimate) {
  sk_server_params sp;
  sk_perf_params pp;
  defaults(&sp, &pp);
  sk_server *s = malloc(sizeof *s);
  ck_assert_ptr_nonnull(s);
  sk_server_init(s, 0, 0, 0, 0);
  ck_assert_double_eq(sk_server_backlog_ms(s, &pp, 0), 0);
  sk_request a = {0, 8000, 2, 0};
  ck_assert_int_eq(sk_server_enqueue(s, &sp, &pp, &a, 0), 1);
  sk_server_wake(s, &sp, &pp, s->next_wake_ns, NULL, NULL); /* a's prefill starts */
  ck_assert_int_eq(s->phase, SK_PHASE_PREFILL);
  sk_time_ns now = s->next_wake_ns - 1000000; /* 1 ms before it ends */
  ck_assert_double_eq_tol(sk_server_backlog_ms(s, &pp, now), 1.0, 1e-9);
  sk_request b = {now, 3000, 2, 1024};
  ck_assert_int_eq(sk_server_enqueue(s, &sp, &pp, &b, now), 1);
  ck_assert_double_eq_tol(sk_server_backlog_ms(s, &pp, now),
                          1.0 + sk_perf_prefill_ms(&pp, 3000 - 1024), 1e-9);
  free(s);
}
END_TEST

START_TEST(slowdown_finite_for_runaway_inlet) {
  sk_server_params sp;
  sk_perf_params pp;
  defaults(&sp, &pp);
  const double inlets[] = {NAN, INFINITY, -INFINITY, 1e300};
  for (size_t i = 0; i < sizeof inlets / sizeof inlets[0]; i++) {
    double f = sk_server_slowdown(&sp, 300.0, inlets[i]);
    ck_assert_msg(isfinite(f) && f >= 1.0, "inlet %g: slowdown %g", inlets[i], f);
  }
  ck_assert_double_eq(sk_server_slowdown(&sp, NAN, 20.0) >= 1.0, 1);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("server");
  TCase *tc = tcase_create("power_cap");
  tcase_add_test(tc, default_cap_changes_nothing);
  tcase_add_test(tc, cap_500_slows_prefill_at_cap_power);
  tcase_add_test(tc, prefill_keeps_the_cap_it_began_with);
  tcase_add_test(tc, decode_not_capped_at_ceiling);
  suite_add_tcase(s, tc);
  TCase *tt = tcase_create("ttft_and_timing_range");
  tcase_add_test(tt, extrapolated_prefills_counted);
  tcase_add_test(tt, pending_ttft_reports_every_waiting_request);
  tcase_add_test(tt, slowdown_finite_for_runaway_inlet);
  tcase_add_test(tt, cached_tokens_skip_prefill);
  tcase_add_test(tt, backlog_estimate);
  suite_add_tcase(s, tt);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
