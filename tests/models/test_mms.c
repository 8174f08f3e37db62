/*
 * test_mms.c -- models/src/mms.c: EMA and hysteresis.  With alpha 1 the EMA is the
 * deviation, so the tick of each change of state is exact; with alpha 0.3 the expected
 * ticks are worked out by hand in the comments.  Strict thresholds, holding between them,
 * counters reset by one contrary tick, a 2-tick blip with the seed's defaults, and the
 * limit of that (a blip big enough does flip it), NaN and infinite deviations.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "skadi/mms.h"

#define TAU_FAST 1.0
#define TAU_PERSIST 2.0
#define LOW 0.5  /* below τ_fast */
#define MID 1.5  /* between the thresholds */
#define HIGH 3.0 /* above τ_persist */

/* Feeds `n` ticks of `d` and asserts the state after each one. */
static void feed(sk_mms *m, double d, int n, sk_mms_state want) {
  for (int i = 0; i < n; i++)
    ck_assert_msg(sk_mms_tick(m, d) == want, "tick %d of %d at %g: got %s, want %s", i + 1, n, d,
                  sk_mms_state_name(m->state), sk_mms_state_name(want));
}

START_TEST(init_state) {
  sk_mms m;
  sk_mms_init(&m, 0.3, 6, TAU_FAST, TAU_PERSIST);
  ck_assert_int_eq(m.state, SK_MMS_TRANSIENT);
  ck_assert(isnan(m.ema));
  ck_assert_int_eq(m.above, 0);
  ck_assert_int_eq(m.below, 0);
  ck_assert_str_eq(sk_mms_state_name(SK_MMS_TRANSIENT), "transient");
  ck_assert_str_eq(sk_mms_state_name(SK_MMS_PERSISTENT), "persistent");
  /* The first tick sets the EMA to the deviation, whatever alpha. */
  sk_mms_tick(&m, 7.0);
  ck_assert_double_eq(m.ema, 7.0);
}
END_TEST

START_TEST(persist_ticks_minus_one_stays_transient) {
  sk_mms m;
  sk_mms_init(&m, 1.0, 6, TAU_FAST, TAU_PERSIST);
  feed(&m, LOW, 3, SK_MMS_TRANSIENT);
  feed(&m, HIGH, 5, SK_MMS_TRANSIENT);
  ck_assert_int_eq(m.above, 5);
  /* One tick not above restarts the count... */
  feed(&m, LOW, 1, SK_MMS_TRANSIENT);
  ck_assert_int_eq(m.above, 0);
  feed(&m, HIGH, 5, SK_MMS_TRANSIENT);
  /* ...even one between the thresholds. */
  feed(&m, MID, 1, SK_MMS_TRANSIENT);
  feed(&m, HIGH, 5, SK_MMS_TRANSIENT);
  feed(&m, LOW, 20, SK_MMS_TRANSIENT);
}
END_TEST

START_TEST(persist_ticks_turns_persistent_at_that_tick) {
  sk_mms m;
  sk_mms_init(&m, 1.0, 6, TAU_FAST, TAU_PERSIST);
  feed(&m, LOW, 3, SK_MMS_TRANSIENT);
  feed(&m, HIGH, 5, SK_MMS_TRANSIENT);
  ck_assert_int_eq(sk_mms_tick(&m, HIGH), SK_MMS_PERSISTENT); /* the 6th */
  ck_assert_int_eq(m.above, 0);
  ck_assert_int_eq(m.below, 0);
  feed(&m, HIGH, 10, SK_MMS_PERSISTENT);

  /* persist_ticks 1: the first tick above flips it, the first below flips it back. */
  sk_mms_init(&m, 1.0, 1, TAU_FAST, TAU_PERSIST);
  ck_assert_int_eq(sk_mms_tick(&m, HIGH), SK_MMS_PERSISTENT);
  ck_assert_int_eq(sk_mms_tick(&m, MID), SK_MMS_PERSISTENT);
  ck_assert_int_eq(sk_mms_tick(&m, LOW), SK_MMS_TRANSIENT);
}
END_TEST

START_TEST(back_to_transient_after_persist_ticks_below) {
  sk_mms m;
  sk_mms_init(&m, 1.0, 6, TAU_FAST, TAU_PERSIST);
  feed(&m, HIGH, 5, SK_MMS_TRANSIENT);
  feed(&m, HIGH, 1, SK_MMS_PERSISTENT);
  feed(&m, LOW, 5, SK_MMS_PERSISTENT);
  ck_assert_int_eq(m.below, 5);
  feed(&m, MID, 1, SK_MMS_PERSISTENT); /* restarts the count */
  ck_assert_int_eq(m.below, 0);
  feed(&m, LOW, 5, SK_MMS_PERSISTENT);
  ck_assert_int_eq(sk_mms_tick(&m, LOW), SK_MMS_TRANSIENT); /* the 6th in a row */
  ck_assert_int_eq(m.above, 0);
  ck_assert_int_eq(m.below, 0);
}
END_TEST

/* A longer clear count holds a persistent state through a short dip. */
START_TEST(clear_ticks_hold_longer) {
  sk_mms m;
  sk_mms_init(&m, 1.0, 2, TAU_FAST, TAU_PERSIST);
  ck_assert_int_eq(m.clear_ticks, 2); /* by default persist_ticks */
  sk_mms_set_clear_ticks(&m, 5);
  feed(&m, HIGH, 1, SK_MMS_TRANSIENT);
  feed(&m, HIGH, 1, SK_MMS_PERSISTENT);
  feed(&m, LOW, 4, SK_MMS_PERSISTENT); /* 2 would have cleared it */
  feed(&m, HIGH, 1, SK_MMS_PERSISTENT);
  feed(&m, LOW, 4, SK_MMS_PERSISTENT);
  ck_assert_int_eq(sk_mms_tick(&m, LOW), SK_MMS_TRANSIENT); /* the 5th in a row */
  feed(&m, HIGH, 1, SK_MMS_TRANSIENT); /* entering still takes persist_ticks */
  feed(&m, HIGH, 1, SK_MMS_PERSISTENT);
}
END_TEST

START_TEST(between_thresholds_holds_either_state) {
  sk_mms m;
  sk_mms_init(&m, 1.0, 6, TAU_FAST, TAU_PERSIST);
  feed(&m, MID, 100, SK_MMS_TRANSIENT);
  feed(&m, HIGH, 5, SK_MMS_TRANSIENT);
  feed(&m, HIGH, 1, SK_MMS_PERSISTENT);
  feed(&m, MID, 100, SK_MMS_PERSISTENT);
  /* The boundaries are strict: sitting exactly on a threshold holds too. */
  feed(&m, TAU_FAST, 100, SK_MMS_PERSISTENT);
  feed(&m, LOW, 5, SK_MMS_PERSISTENT);
  feed(&m, LOW, 1, SK_MMS_TRANSIENT);
  feed(&m, TAU_PERSIST, 100, SK_MMS_TRANSIENT);
  /* τ_fast == τ_persist: a constant EMA on that value never flips it either way. */
  sk_mms_init(&m, 1.0, 6, 2.0, 2.0);
  feed(&m, 2.0, 100, SK_MMS_TRANSIENT);
  feed(&m, 2.5, 5, SK_MMS_TRANSIENT);
  feed(&m, 2.5, 1, SK_MMS_PERSISTENT);
  feed(&m, 2.0, 100, SK_MMS_PERSISTENT);
}
END_TEST

START_TEST(alpha_0_3_by_hand) {
  /* τ_fast 1, τ_persist 2, persist_ticks 6.  Tick 1 is 0 (EMA 0); then a step to 5:
   * EMA after k ticks of 5 is 5 (1 - 0.7^k) = 1.5, 2.55, 3.285, 3.7995, 4.15965, 4.411755,
   * 4.5882285.  Above 2 from k = 2, so the 6th tick above is k = 7: persistent at tick 8.
   * Then a step to 0: EMA 4.5882285 * 0.7^j = 3.2118, 2.2482, 1.5738, 1.1016, 0.7711 (below
   * 1 from j = 5), 0.5398, 0.3779, 0.2645, 0.1851, 0.1296: the 6th below is j = 10, so
   * transient at tick 18. */
  static const double ema_up[7] = {1.5, 2.55, 3.285, 3.7995, 4.15965, 4.411755, 4.5882285};
  sk_mms m;
  int tick = 0;
  sk_mms_init(&m, 0.3, 6, 1.0, 2.0);
  ck_assert_int_eq(sk_mms_tick(&m, 0.0), SK_MMS_TRANSIENT);
  tick++;
  for (int k = 1; k <= 7; k++) {
    sk_mms_state s = sk_mms_tick(&m, 5.0);
    tick++;
    ck_assert_double_eq_tol(m.ema, ema_up[k - 1], 1e-12);
    ck_assert_int_eq(s, k < 7 ? SK_MMS_TRANSIENT : SK_MMS_PERSISTENT);
  }
  ck_assert_int_eq(tick, 8);
  for (int j = 1; j <= 10; j++) {
    sk_mms_state s = sk_mms_tick(&m, 0.0);
    tick++;
    ck_assert_double_eq_tol(m.ema, 4.5882285 * pow(0.7, j), 1e-12);
    ck_assert_int_eq(s, j < 10 ? SK_MMS_PERSISTENT : SK_MMS_TRANSIENT);
  }
  ck_assert_int_eq(tick, 18);
}
END_TEST

START_TEST(two_tick_blip_stays_transient) {
  /* A 20 s spike seen by 10 s ticks, with the seed's alpha 0.3 and persist_ticks 6.
   * Baseline 0.5, τ_fast 2, τ_persist 3, blip 12 (4 τ_persist): the EMA goes 3.95, 6.365,
   * then 0.5 + 5.865 * 0.7^j = 4.6055, 3.3739, 2.5117: four ticks above, not six. */
  sk_mms m;
  sk_mms_init(&m, 0.3, 6, 2.0, 3.0);
  feed(&m, 0.5, 30, SK_MMS_TRANSIENT);
  feed(&m, 12.0, 2, SK_MMS_TRANSIENT);
  feed(&m, 0.5, 30, SK_MMS_TRANSIENT);
  /* Two such blips a few ticks apart do not add up either: the count restarts between. */
  feed(&m, 12.0, 2, SK_MMS_TRANSIENT);
  feed(&m, 0.5, 3, SK_MMS_TRANSIENT);
  feed(&m, 12.0, 2, SK_MMS_TRANSIENT);
  feed(&m, 0.5, 30, SK_MMS_TRANSIENT);
}
END_TEST

START_TEST(huge_blip_stays_transient) {
  /* The EMA remembers: after a 2-tick blip of 40 the EMA stays above τ_persist for six
   * ticks (12.35, 20.645, 14.60, 10.37, 7.41, 5.34), which alone would count as
   * persistent.  The tick's own D must be above τ_persist too, so the tail does not count. */
  sk_mms m;
  sk_mms_init(&m, 0.3, 6, 2.0, 3.0);
  feed(&m, 0.5, 30, SK_MMS_TRANSIENT);
  feed(&m, 40.0, 2, SK_MMS_TRANSIENT);
  feed(&m, 0.5, 30, SK_MMS_TRANSIENT);
  /* A lasting step of the same height is persistent on its sixth tick. */
  feed(&m, 40.0, 5, SK_MMS_TRANSIENT);
  ck_assert_int_eq(sk_mms_tick(&m, 40.0), SK_MMS_PERSISTENT);
}
END_TEST

START_TEST(nan_and_infinite_deviations) {
  sk_mms m;
  sk_mms_init(&m, 0.3, 2, TAU_FAST, TAU_PERSIST);
  /* NaN before the first number leaves the EMA unset; later it changes nothing. */
  feed(&m, NAN, 3, SK_MMS_TRANSIENT);
  ck_assert(isnan(m.ema));
  feed(&m, HIGH, 1, SK_MMS_TRANSIENT);
  ck_assert_int_eq(m.above, 1);
  feed(&m, NAN, 1, SK_MMS_TRANSIENT);
  ck_assert_int_eq(m.above, 1);
  ck_assert_double_eq(m.ema, HIGH);
  feed(&m, HIGH, 1, SK_MMS_PERSISTENT);
  /* Infinity counts as the largest double, so the EMA can decay afterwards. */
  sk_mms_init(&m, 0.3, 2, TAU_FAST, TAU_PERSIST);
  feed(&m, INFINITY, 1, SK_MMS_TRANSIENT);
  ck_assert_double_eq(m.ema, DBL_MAX);
  feed(&m, INFINITY, 1, SK_MMS_PERSISTENT);
  ck_assert(isfinite(m.ema));
  for (int i = 0; i < 3000 && m.state == SK_MMS_PERSISTENT; i++)
    sk_mms_tick(&m, 0.0);
  ck_assert_int_eq(m.state, SK_MMS_TRANSIENT);
}
END_TEST

static Suite *mms_suite(void) {
  Suite *s = suite_create("mms");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, init_state);
  tcase_add_test(tc, persist_ticks_minus_one_stays_transient);
  tcase_add_test(tc, persist_ticks_turns_persistent_at_that_tick);
  tcase_add_test(tc, back_to_transient_after_persist_ticks_below);
  tcase_add_test(tc, between_thresholds_holds_either_state);
  tcase_add_test(tc, clear_ticks_hold_longer);
  tcase_add_test(tc, alpha_0_3_by_hand);
  tcase_add_test(tc, two_tick_blip_stays_transient);
  tcase_add_test(tc, huge_blip_stays_transient);
  tcase_add_test(tc, nan_and_infinite_deviations);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(mms_suite());
  int failed;
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
