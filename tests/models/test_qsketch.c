/*
 * test_qsketch.c -- models/src/qsketch.c: the documented bound |v - x_q| <= alpha * x_q
 * against exact sorted-array quantiles (same rank definition, floor(q*(n-1))), merge equal
 * to adding everything, cheap reset, clamping (and the flag for a quantile above the
 * range), empty sketch, memcpy cloning.
 */
#include <check.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/qsketch.h"

#define N_SAMPLES 200000
#define SEED 20240607UL

/* Slack for the floating-point rounding the header allows (~1e-15 relative). */
#define ROUNDING_SLACK 1e-12

static int cmp_double(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

static double exact_quantile(const double *sorted, size_t n, double q) {
  return sorted[(size_t)floor(q * (double)(n - 1))];
}

static void assert_within_alpha(const sk_qsketch *s, double *x, size_t n, double q) {
  double v = sk_qsketch_quantile(s, q);
  double xq = exact_quantile(x, n, q);
  ck_assert_msg(fabs(v - xq) <= s->alpha * xq * (1.0 + ROUNDING_SLACK),
                "q=%g: sketch %.17g, exact %.17g, rel err %.6g > alpha %g", q, v, xq,
                fabs(v - xq) / xq, s->alpha);
}

/* Adds `n` samples to a fresh sketch, sorts them, checks the requested quantiles and a
 * dense grid of q.  kind 0: exponential(mean); 1: lognormal(zeta, sigma).  With `clamped`
 * set, samples must have fallen outside the range at both ends. */
static void check_distribution(int kind, double p1, double p2, double alpha, int clamped) {
  static const double qs[] = {0.5, 0.9, 0.95, 0.99};
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  double *x = malloc(N_SAMPLES * sizeof *x);
  sk_qsketch *s = malloc(sizeof *s);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_nonnull(x);
  ck_assert_ptr_nonnull(s);
  gsl_rng_set(r, SEED);
  ck_assert_int_eq(sk_qsketch_init(s, alpha), SK_OK);
  for (size_t i = 0; i < N_SAMPLES; i++) {
    x[i] = kind == 0 ? gsl_ran_exponential(r, p1) : gsl_ran_lognormal(r, p1, p2);
    sk_qsketch_add(s, x[i]);
  }
  ck_assert_uint_eq(sk_qsketch_count(s), N_SAMPLES);
  if (clamped) {
    ck_assert_uint_gt(s->n_below, 0);
    ck_assert_uint_gt(s->n_above, 0);
  }
  qsort(x, N_SAMPLES, sizeof *x, cmp_double);
  for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
    assert_within_alpha(s, x, N_SAMPLES, qs[i]);
  for (int i = 0; i <= 1000; i++) {
    double q = i / 1000.0, xq = exact_quantile(x, N_SAMPLES, q);
    if (xq >= SK_QSKETCH_MIN_VALUE && xq <= SK_QSKETCH_MAX_VALUE)
      assert_within_alpha(s, x, N_SAMPLES, q);
  }
  free(s);
  free(x);
  gsl_rng_free(r);
}

START_TEST(exponential_within_alpha) {
  check_distribution(0, 250.0, 0.0, 0.01, 0);
}
END_TEST

START_TEST(lognormal_within_alpha) {
  check_distribution(1, log(300.0), 1.0, 0.01, 0);
}
END_TEST

/* Spans 1e-4..1e8: some samples clamp at both ends, in-range quantiles must not move. */
START_TEST(wide_lognormal_with_clamping) {
  check_distribution(1, log(100.0), 3.0, 0.01, 1);
}
END_TEST

START_TEST(coarser_alpha) {
  check_distribution(1, log(300.0), 1.0, 0.05, 0);
  check_distribution(0, 250.0, 0.0, SK_QSKETCH_ALPHA_MIN, 0);
}
END_TEST

START_TEST(rank_definition_is_lower) {
  /* n = 4, q = 0.5: floor(0.5*3) = 1 -> the 2nd smallest (2.0), not 3.0. */
  sk_qsketch s;
  double x[] = {1.0, 2.0, 3.0, 4.0};
  ck_assert_int_eq(sk_qsketch_init(&s, SK_QSKETCH_DEFAULT_ALPHA), SK_OK);
  for (int i = 3; i >= 0; i--)
    sk_qsketch_add(&s, x[i]);
  ck_assert_double_eq_tol(sk_qsketch_quantile(&s, 0.5), 2.0, 0.01 * 2.0);
  ck_assert_double_eq_tol(sk_qsketch_quantile(&s, 0.0), 1.0, 0.01 * 1.0);
  ck_assert_double_eq_tol(sk_qsketch_quantile(&s, 0.99), 3.0, 0.01 * 3.0);
  ck_assert_double_eq_tol(sk_qsketch_quantile(&s, 1.0), 4.0, 0.01 * 4.0);
}
END_TEST

static void assert_same(const sk_qsketch *a, const sk_qsketch *b) {
  ck_assert_double_eq(a->alpha, b->alpha);
  ck_assert_uint_eq(a->count, b->count);
  ck_assert_uint_eq(a->n_below, b->n_below);
  ck_assert_uint_eq(a->n_above, b->n_above);
  ck_assert_int_eq(a->lo, b->lo);
  ck_assert_int_eq(a->hi, b->hi);
  ck_assert_int_eq(memcmp(a->bucket, b->bucket, sizeof a->bucket), 0);
}

START_TEST(merge_equals_adding_all) {
  static sk_qsketch a, b, all, twice;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, SEED);
  ck_assert_int_eq(sk_qsketch_init(&a, 0.01), SK_OK);
  ck_assert_int_eq(sk_qsketch_init(&b, 0.01), SK_OK);
  ck_assert_int_eq(sk_qsketch_init(&all, 0.01), SK_OK);
  for (int i = 0; i < 50000; i++) {
    /* a gets small values, b large ones, so their lo..hi ranges differ. */
    double v = i % 2 ? gsl_ran_exponential(r, 20.0) : 1e3 + gsl_ran_lognormal(r, 8.0, 1.5);
    sk_qsketch_add(i % 2 ? &a : &b, v);
    sk_qsketch_add(&all, v);
  }
  sk_qsketch_add(&b, 5e6); /* clamped counts merge too */
  sk_qsketch_add(&all, 5e6);
  sk_qsketch_merge(&a, &b);
  assert_same(&a, &all);
  for (int i = 0; i <= 100; i++)
    ck_assert_double_eq(sk_qsketch_quantile(&a, i / 100.0), sk_qsketch_quantile(&all, i / 100.0));

  /* Merging an empty sketch changes nothing; merging into an empty one copies. */
  ck_assert_int_eq(sk_qsketch_init(&b, 0.01), SK_OK);
  sk_qsketch_merge(&a, &b);
  assert_same(&a, &all);
  sk_qsketch_merge(&b, &all);
  assert_same(&b, &all);

  /* Self-merge doubles every count. */
  memcpy(&twice, &all, sizeof all);
  sk_qsketch_merge(&twice, &twice);
  ck_assert_uint_eq(sk_qsketch_count(&twice), 2 * sk_qsketch_count(&all));
  ck_assert_uint_eq(twice.n_above, 2 * all.n_above);
  ck_assert_uint_eq(twice.n_below, 2 * all.n_below);
  for (int k = 0; k < SK_QSKETCH_BUCKETS; k++)
    ck_assert_uint_eq(twice.bucket[k], 2 * all.bucket[k]);
  gsl_rng_free(r);
}
END_TEST

START_TEST(reset_clears) {
  static sk_qsketch s, fresh;
  ck_assert_int_eq(sk_qsketch_init(&s, 0.02), SK_OK);
  ck_assert_int_eq(sk_qsketch_init(&fresh, 0.02), SK_OK);
  for (int i = 1; i <= 1000; i++)
    sk_qsketch_add(&s, 0.5 * i);
  sk_qsketch_add(&s, 0.0);
  sk_qsketch_add(&s, INFINITY);
  ck_assert_int_lt(s.lo, s.hi);
  sk_qsketch_reset(&s);
  assert_same(&s, &fresh);
  ck_assert_uint_eq(sk_qsketch_count(&s), 0);
  ck_assert(isnan(sk_qsketch_quantile(&s, 0.5)));
  /* Usable again, and reset of an empty sketch is harmless. */
  sk_qsketch_add(&s, 42.0);
  ck_assert_double_eq_tol(sk_qsketch_quantile(&s, 0.5), 42.0, 0.02 * 42.0);
  sk_qsketch_reset(&s);
  sk_qsketch_reset(&s);
  assert_same(&s, &fresh);
}
END_TEST

START_TEST(clamping_counted) {
  sk_qsketch s;
  ck_assert_int_eq(sk_qsketch_init(&s, SK_QSKETCH_DEFAULT_ALPHA), SK_OK);
  sk_qsketch_add(&s, 0.001);
  sk_qsketch_add(&s, 0.0);
  sk_qsketch_add(&s, -5.0);
  sk_qsketch_add(&s, -INFINITY);
  sk_qsketch_add(&s, SK_QSKETCH_MIN_VALUE); /* bounds themselves are in range */
  sk_qsketch_add(&s, 100.0);
  sk_qsketch_add(&s, SK_QSKETCH_MAX_VALUE);
  sk_qsketch_add(&s, 2e6);
  sk_qsketch_add(&s, INFINITY);
  ck_assert_uint_eq(sk_qsketch_count(&s), 9);
  ck_assert_uint_eq(s.n_below, 4);
  ck_assert_uint_eq(s.n_above, 2);
  ck_assert_int_eq(s.lo, 0);
  ck_assert_int_eq(s.hi, s.top);
  ck_assert_int_lt(s.top, SK_QSKETCH_BUCKETS);
  /* Clamped values report within alpha of the bound they were clamped to. */
  ck_assert_double_eq_tol(sk_qsketch_quantile(&s, 0.0), SK_QSKETCH_MIN_VALUE,
                          0.01 * SK_QSKETCH_MIN_VALUE * (1 + ROUNDING_SLACK));
  ck_assert_double_eq_tol(sk_qsketch_quantile(&s, 1.0), SK_QSKETCH_MAX_VALUE,
                          0.01 * SK_QSKETCH_MAX_VALUE * (1 + ROUNDING_SLACK));
  /* Rank 4 of 9 (q = 0.5) is the in-range 0.01, rank 5 (q = 0.625) is 100. */
  ck_assert_double_eq_tol(sk_qsketch_quantile(&s, 0.5), 0.01, 0.01 * 0.01 * (1 + ROUNDING_SLACK));
  ck_assert_double_eq_tol(sk_qsketch_quantile(&s, 0.625), 100.0, 1.0 * (1 + ROUNDING_SLACK));
}
END_TEST

/* A quantile whose rank falls on a value clamped at the ceiling is flagged: only
 * x_q > MAX is known.  One rank below the clamped values is a measurement again. */
START_TEST(quantile_above_range_flagged) {
  sk_qsketch s;
  ck_assert_int_eq(sk_qsketch_init(&s, SK_QSKETCH_DEFAULT_ALPHA), SK_OK);
  ck_assert_int_eq(sk_qsketch_quantile_above_range(&s, 0.95), 0); /* empty */
  for (int i = 1; i <= 95; i++)
    sk_qsketch_add(&s, (double)i);
  sk_qsketch_add(&s, SK_QSKETCH_MAX_VALUE); /* the bound itself is in range */
  for (int i = 0; i < 4; i++)
    sk_qsketch_add(&s, 5e6);
  /* 100 values: ranks 96..99 are clamped; q = 0.95 is rank 94 (95), q = 0.96 rank 95 (the
   * bound), q = 0.97 rank 96 */
  ck_assert_int_eq(sk_qsketch_quantile_above_range(&s, 0.95), 0);
  ck_assert_int_eq(sk_qsketch_quantile_above_range(&s, 0.96), 0);
  ck_assert_int_eq(sk_qsketch_quantile_above_range(&s, 0.97), 1);
  ck_assert_int_eq(sk_qsketch_quantile_above_range(&s, 1.0), 1);
  ck_assert_int_eq(sk_qsketch_quantile_above_range(&s, 0.0), 0);
  /* both the bound and a clamped value report the ceiling's bucket: the flag is what
   * tells them apart */
  ck_assert_double_eq(sk_qsketch_quantile(&s, 0.96), sk_qsketch_quantile(&s, 0.97));
  /* all clamped: every quantile is */
  sk_qsketch_reset(&s);
  sk_qsketch_add(&s, INFINITY);
  ck_assert_int_eq(sk_qsketch_quantile_above_range(&s, 0.0), 1);
  /* values below the range are not "above" */
  sk_qsketch_reset(&s);
  sk_qsketch_add(&s, -1.0);
  ck_assert_int_eq(sk_qsketch_quantile_above_range(&s, 0.5), 0);
}
END_TEST

START_TEST(empty_is_nan) {
  sk_qsketch s;
  ck_assert_int_eq(sk_qsketch_init(&s, SK_QSKETCH_DEFAULT_ALPHA), SK_OK);
  ck_assert_uint_eq(sk_qsketch_count(&s), 0);
  ck_assert(isnan(sk_qsketch_quantile(&s, 0.0)));
  ck_assert(isnan(sk_qsketch_quantile(&s, 0.5)));
  ck_assert(isnan(sk_qsketch_quantile(&s, 1.0)));
}
END_TEST

START_TEST(init_validates_alpha) {
  sk_qsketch s;
  ck_assert_int_eq(sk_qsketch_init(&s, 0.001), SK_EINVAL);
  ck_assert_int_eq(sk_qsketch_init(&s, 0.0), SK_EINVAL);
  ck_assert_int_eq(sk_qsketch_init(&s, 0.6), SK_EINVAL);
  ck_assert_int_eq(sk_qsketch_init(&s, NAN), SK_EINVAL);
  ck_assert_int_eq(sk_qsketch_init(&s, SK_QSKETCH_ALPHA_MIN), SK_OK);
  ck_assert_int_lt(s.top, SK_QSKETCH_BUCKETS);
  ck_assert_int_eq(sk_qsketch_init(&s, SK_QSKETCH_ALPHA_MAX), SK_OK);
  ck_assert_int_eq(sk_qsketch_init(&s, SK_QSKETCH_DEFAULT_ALPHA), SK_OK);
  ck_assert_int_eq(s.top, 922); /* ceil(ln(1e8) / ln(1.01/0.99)) = ceil(921.003) */
}
END_TEST

START_TEST(memcpy_clone_is_independent) {
  static sk_qsketch a, b;
  ck_assert_int_eq(sk_qsketch_init(&a, 0.01), SK_OK);
  for (int i = 1; i <= 100; i++)
    sk_qsketch_add(&a, (double)i);
  memcpy(&b, &a, sizeof a);
  for (int i = 0; i < 100; i++)
    sk_qsketch_add(&b, 1e4);
  ck_assert_uint_eq(sk_qsketch_count(&a), 100);
  ck_assert_double_eq_tol(sk_qsketch_quantile(&a, 1.0), 100.0, 1.0 * (1 + ROUNDING_SLACK));
  ck_assert_double_eq_tol(sk_qsketch_quantile(&b, 1.0), 1e4, 100.0 * (1 + ROUNDING_SLACK));
  ck_assert_uint_le(sizeof(sk_qsketch), 4 * SK_QSKETCH_BUCKETS + 64);
}
END_TEST

static Suite *qsketch_suite(void) {
  Suite *s = suite_create("qsketch");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, exponential_within_alpha);
  tcase_add_test(tc, lognormal_within_alpha);
  tcase_add_test(tc, wide_lognormal_with_clamping);
  tcase_add_test(tc, coarser_alpha);
  tcase_add_test(tc, rank_definition_is_lower);
  tcase_add_test(tc, merge_equals_adding_all);
  tcase_add_test(tc, reset_clears);
  tcase_add_test(tc, clamping_counted);
  tcase_add_test(tc, quantile_above_range_flagged);
  tcase_add_test(tc, empty_is_nan);
  tcase_add_test(tc, init_validates_alpha);
  tcase_add_test(tc, memcpy_clone_is_independent);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(qsketch_suite());
  int failed;
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
