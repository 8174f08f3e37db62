/*
 * test_engine.c -- the kernel (engine/src/engine.c) driven by no-op models.
 *
 * Time never goes backwards inside handlers, ties resolve by sequence, run_until stops
 * at its boundary (inclusive) and sets the clock, handlers schedule and cancel, a clone
 * runs exactly as the original, and contract breaks abort.
 */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/engine.h"

/* ---- a recording no-op model ------------------------------------------------------ */

typedef struct {
  sk_time_ns t_ns;
  uint32_t handler, target;
  uint64_t arg;
} rec;

typedef struct {
  rec log[40000];
  size_t n;
  sk_time_ns last_ns;  /* the clock seen by the previous handler call */
  sk_event_id ids[64]; /* for cancel-from-handler tests */
  int cancel_result;
  uint64_t rand_state; /* for the churn model */
} world;

static void note(sk_engine *eng, world *w, uint32_t handler, uint32_t target, uint64_t arg) {
  sk_time_ns now = sk_engine_now(eng);
  ck_assert_int_ge(now, w->last_ns); /* time never goes backwards */
  w->last_ns = now;
  ck_assert_uint_lt(w->n, sizeof w->log / sizeof w->log[0]);
  w->log[w->n++] = (rec){.t_ns = now, .handler = handler, .target = target, .arg = arg};
}

static void h_record(sk_engine *eng, void *wv, uint32_t target, uint64_t arg) {
  note(eng, wv, 0, target, arg);
}

/* Schedules `arg` more events in a chain, each 0..2 ns later (often the same instant). */
static void h_chain(sk_engine *eng, void *wv, uint32_t target, uint64_t arg) {
  note(eng, wv, 1, target, arg);
  if (arg > 0)
    ck_assert_int_eq(sk_engine_schedule(eng, sk_engine_now(eng) + (sk_time_ns)(arg % 3), 1, target,
                                        arg - 1, NULL),
                     SK_OK);
}

/* Cancels the event whose id is in ids[target]; records the result. */
static void h_cancel(sk_engine *eng, void *wv, uint32_t target, uint64_t arg) {
  world *w = wv;
  note(eng, w, 2, target, arg);
  w->cancel_result = sk_engine_cancel(eng, w->ids[target]);
}

static uint64_t next_rand(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Churn: each event schedules 0-3 successors (ties common) and sometimes cancels one of
 * the 64 remembered ids -- a busy model whose behaviour lives entirely in `world`. */
static void h_churn(sk_engine *eng, void *wv, uint32_t target, uint64_t arg) {
  world *w = wv;
  note(eng, w, 3, target, arg);
  uint64_t r = next_rand(&w->rand_state);
  int k = (int)(r % 4); /* mean 1.5: grows until the cap, despite the cancels */
  for (int i = 0; i < k && sk_engine_pending(eng) < 50; i++) {
    sk_time_ns dt = (sk_time_ns)((r >> (8 + 8 * i)) % 16);
    sk_event_id id;
    ck_assert_int_eq(sk_engine_schedule(eng, sk_engine_now(eng) + dt, 3, (uint32_t)((r >> 32) % 64),
                                        arg + 1, &id),
                     SK_OK);
    w->ids[(r >> (16 + i)) % 64] = id;
  }
  if ((r >> 40) % 4 == 0)
    w->cancel_result += sk_engine_cancel(eng, w->ids[(r >> 48) % 64]);
}

static const sk_event_fn handlers[] = {h_record, h_chain, h_cancel, h_churn};
#define N_HANDLERS 4u

static sk_engine *mk(size_t cap) {
  sk_engine *e = NULL;
  ck_assert_int_eq(sk_engine_create(&e, handlers, N_HANDLERS, cap), SK_OK);
  ck_assert_ptr_nonnull(e);
  return e;
}

static world *mkworld(void) {
  world *w = calloc(1, sizeof *w);
  ck_assert_ptr_nonnull(w);
  return w;
}

/* ---- tests ------------------------------------------------------------------------ */

START_TEST(test_fresh_engine) {
  sk_engine *e = mk(0);
  ck_assert_int_eq(sk_engine_now(e), 0);
  ck_assert_uint_eq(sk_engine_pending(e), 0);
  ck_assert_uint_eq(sk_engine_executed(e), 0);
  ck_assert_uint_eq(sk_engine_run_until(e, 100, NULL), 0);
  ck_assert_int_eq(sk_engine_now(e), 100);
  sk_engine_destroy(e);
  sk_engine_destroy(NULL);
}
END_TEST

START_TEST(test_time_order_and_monotone_clock) {
  sk_engine *e = mk(4);
  world *w = mkworld();
  uint64_t s = 5;
  for (uint64_t i = 0; i < 2000; i++)
    ck_assert_int_eq(sk_engine_schedule(e, (sk_time_ns)(next_rand(&s) % 100000), 0, 0, i, NULL),
                     SK_OK);
  ck_assert_uint_eq(sk_engine_run_until(e, SK_TIME_MAX, w), 2000);
  ck_assert_uint_eq(w->n, 2000);
  for (size_t i = 1; i < w->n; i++) {
    ck_assert_int_ge(w->log[i].t_ns, w->log[i - 1].t_ns);
    if (w->log[i].t_ns == w->log[i - 1].t_ns)
      ck_assert_uint_gt(w->log[i].arg, w->log[i - 1].arg);
  }
  ck_assert_int_eq(sk_engine_now(e), SK_TIME_MAX);
  free(w);
  sk_engine_destroy(e);
}
END_TEST

START_TEST(test_ties_by_sequence) {
  sk_engine *e = mk(4);
  world *w = mkworld();
  /* Interleave two instants; within each, scheduling order must be kept. */
  for (uint64_t i = 0; i < 300; i++)
    ck_assert_int_eq(sk_engine_schedule(e, (i % 2) ? 50 : 40, 0, (uint32_t)i, i, NULL), SK_OK);
  sk_engine_run_until(e, 100, w);
  ck_assert_uint_eq(w->n, 300);
  for (size_t i = 0; i < 150; i++) {
    ck_assert_int_eq(w->log[i].t_ns, 40);
    ck_assert_uint_eq(w->log[i].arg, 2 * i);
    ck_assert_int_eq(w->log[150 + i].t_ns, 50);
    ck_assert_uint_eq(w->log[150 + i].arg, 2 * i + 1);
  }
  free(w);
  sk_engine_destroy(e);
}
END_TEST

START_TEST(test_run_until_boundary) {
  sk_engine *e = mk(4);
  world *w = mkworld();
  for (int i = 1; i <= 3; i++)
    ck_assert_int_eq(sk_engine_schedule(e, 10 * i, 0, 0, (uint64_t)i, NULL), SK_OK);
  ck_assert_uint_eq(sk_engine_run_until(e, 19, w), 1);
  ck_assert_int_eq(sk_engine_now(e), 19);
  ck_assert_uint_eq(sk_engine_run_until(e, 20, w), 1); /* inclusive */
  ck_assert_int_eq(sk_engine_now(e), 20);
  ck_assert_uint_eq(sk_engine_run_until(e, 20, w), 0); /* same bound again: nothing */
  ck_assert_uint_eq(sk_engine_pending(e), 1);
  ck_assert_uint_eq(sk_engine_executed(e), 2);
  /* Scheduling at exactly now is allowed, and runs on the next call. */
  ck_assert_int_eq(sk_engine_schedule(e, 20, 0, 0, 99, NULL), SK_OK);
  ck_assert_uint_eq(sk_engine_run_until(e, 25, w), 1);
  ck_assert_int_eq(sk_engine_now(e), 25);
  ck_assert_uint_eq(w->log[2].arg, 99);
  ck_assert_uint_eq(sk_engine_run_until(e, 30, w), 1);
  ck_assert_uint_eq(sk_engine_executed(e), 4);
  free(w);
  sk_engine_destroy(e);
}
END_TEST

/* A handler schedules its successor at the same instant or a little later; the chain
 * must run to the end within one run_until, after same-time events scheduled earlier. */
START_TEST(test_schedule_from_handler) {
  sk_engine *e = mk(2);
  world *w = mkworld();
  ck_assert_int_eq(sk_engine_schedule(e, 5, 1, 7, 30, NULL), SK_OK); /* 30 successors */
  ck_assert_int_eq(sk_engine_schedule(e, 5, 0, 8, 1000, NULL), SK_OK);
  uint64_t ran = sk_engine_run_until(e, 1000, w);
  ck_assert_uint_eq(ran, 32);
  ck_assert_uint_eq(w->log[0].arg, 30);
  ck_assert_uint_eq(w->log[1].arg, 1000); /* scheduled before the chain's successor */
  ck_assert_uint_eq(w->log[2].arg, 29);   /* 30 % 3 == 0: same instant, later seq */
  ck_assert_int_eq(w->log[2].t_ns, 5);
  for (size_t i = 2; i < w->n; i++) {
    ck_assert_uint_eq(w->log[i].handler, 1);
    ck_assert_uint_eq(w->log[i].target, 7);
    ck_assert_uint_eq(w->log[i].arg, 31 - i);
  }
  ck_assert_uint_eq(sk_engine_pending(e), 0);
  free(w);
  sk_engine_destroy(e);
}
END_TEST

START_TEST(test_cancel_from_handler) {
  sk_engine *e = mk(4);
  world *w = mkworld();
  ck_assert_int_eq(sk_engine_schedule(e, 10, 0, 0, 1, &w->ids[0]), SK_OK); /* victim */
  ck_assert_int_eq(sk_engine_schedule(e, 5, 2, 0, 2, NULL), SK_OK);        /* cancels ids[0] */
  sk_event_id self;
  ck_assert_int_eq(sk_engine_schedule(e, 20, 2, 1, 3, &self), SK_OK); /* cancels ids[1] */
  w->ids[1] = self;
  ck_assert_uint_eq(sk_engine_run_until(e, 15, w), 1);
  ck_assert_int_eq(w->cancel_result, 1);
  ck_assert_uint_eq(sk_engine_pending(e), 1);
  ck_assert_uint_eq(sk_engine_run_until(e, 30, w), 1);
  ck_assert_int_eq(w->cancel_result, 0); /* an event cannot cancel itself: it has run */
  ck_assert_uint_eq(w->n, 2);
  ck_assert_uint_eq(w->log[0].arg, 2);
  ck_assert_uint_eq(w->log[1].arg, 3);
  ck_assert_int_eq(sk_engine_cancel(e, w->ids[0]), 0);
  ck_assert_int_eq(sk_engine_cancel(e, 0), 0);
  free(w);
  sk_engine_destroy(e);
}
END_TEST

START_TEST(test_cancel_from_outside) {
  sk_engine *e = mk(4);
  world *w = mkworld();
  sk_event_id id[5];
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(sk_engine_schedule(e, 10, 0, 0, (uint64_t)i, &id[i]), SK_OK);
  ck_assert_int_eq(sk_engine_cancel(e, id[2]), 1);
  ck_assert_int_eq(sk_engine_cancel(e, id[2]), 0);
  ck_assert_uint_eq(sk_engine_pending(e), 4);
  ck_assert_uint_eq(sk_engine_run_until(e, 10, w), 4);
  const uint64_t want[] = {0, 1, 3, 4};
  for (int i = 0; i < 4; i++)
    ck_assert_uint_eq(w->log[i].arg, want[i]);
  free(w);
  sk_engine_destroy(e);
}
END_TEST

static void seed_churn(sk_engine *e) {
  for (uint32_t i = 0; i < 40; i++)
    ck_assert_int_eq(sk_engine_schedule(e, (sk_time_ns)(i % 7), 3, i, 0, NULL), SK_OK);
}

/* Runs the churn model to t=200, clones engine and world, runs both on to t=1200 and
 * expects the same events in the same order. */
START_TEST(test_clone_runs_identically) {
  sk_engine *a = mk(8);
  world *wa = mkworld();
  wa->rand_state = 42;
  seed_churn(a);
  sk_engine_run_until(a, 200, wa);
  ck_assert_uint_gt(wa->n, 100);

  sk_engine *b = NULL;
  ck_assert_int_eq(sk_engine_clone(a, &b), SK_OK);
  world *wb = mkworld();
  memcpy(wb, wa, sizeof *wb);
  ck_assert_int_eq(sk_engine_now(b), sk_engine_now(a));
  ck_assert_uint_eq(sk_engine_pending(b), sk_engine_pending(a));
  ck_assert_uint_eq(sk_engine_executed(b), sk_engine_executed(a));

  size_t n0 = wa->n;
  uint64_t ra = sk_engine_run_until(a, 1200, wa);
  /* Destroying the original must not disturb the clone. */
  sk_engine_destroy(a);
  uint64_t rb = sk_engine_run_until(b, 1200, wb);
  ck_assert_uint_eq(ra, rb);
  ck_assert_uint_gt(ra, 1000);
  ck_assert_uint_eq(wa->n, wb->n);
  ck_assert_int_gt(wa->cancel_result, 0);
  ck_assert_int_eq(wa->cancel_result, wb->cancel_result);
  for (size_t i = n0; i < wa->n; i++) {
    ck_assert_int_eq(wa->log[i].t_ns, wb->log[i].t_ns);
    ck_assert_uint_eq(wa->log[i].target, wb->log[i].target);
    ck_assert_uint_eq(wa->log[i].arg, wb->log[i].arg);
  }
  free(wa);
  free(wb);
  sk_engine_destroy(b);
}
END_TEST

/* The same model and seed twice from scratch gives the same run. */
START_TEST(test_deterministic_rerun) {
  world *w[2];
  for (int k = 0; k < 2; k++) {
    sk_engine *e = mk(0);
    w[k] = mkworld();
    w[k]->rand_state = 9;
    seed_churn(e);
    sk_engine_run_until(e, 1200, w[k]);
    sk_engine_destroy(e);
  }
  ck_assert_uint_eq(w[0]->n, w[1]->n);
  ck_assert_int_eq(memcmp(w[0]->log, w[1]->log, w[0]->n * sizeof(rec)), 0);
  free(w[0]);
  free(w[1]);
}
END_TEST

/* ---- contract breaks abort (fork mode) -------------------------------------------- */

START_TEST(test_abort_schedule_in_past) {
  sk_engine *e = mk(4);
  sk_engine_run_until(e, 100, NULL);
  sk_engine_schedule(e, 99, 0, 0, 0, NULL);
}
END_TEST

START_TEST(test_abort_handler_out_of_range) {
  sk_engine *e = mk(4);
  sk_engine_schedule(e, 1, N_HANDLERS, 0, 0, NULL);
}
END_TEST

START_TEST(test_abort_run_until_backwards) {
  sk_engine *e = mk(4);
  sk_engine_run_until(e, 100, NULL);
  sk_engine_run_until(e, 50, NULL);
}
END_TEST

static void h_reenter(sk_engine *eng, void *wv, uint32_t target, uint64_t arg) {
  (void)target, (void)arg;
  sk_engine_run_until(eng, sk_engine_now(eng) + 1, wv);
}

START_TEST(test_abort_reentrant_run) {
  const sk_event_fn h[] = {h_reenter};
  sk_engine *e = NULL;
  ck_assert_int_eq(sk_engine_create(&e, h, 1, 4), SK_OK);
  sk_engine_schedule(e, 1, 0, 0, 0, NULL);
  sk_engine_run_until(e, 10, NULL);
}
END_TEST

static Suite *engine_suite(void) {
  Suite *s = suite_create("engine");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_fresh_engine);
  tcase_add_test(tc, test_time_order_and_monotone_clock);
  tcase_add_test(tc, test_ties_by_sequence);
  tcase_add_test(tc, test_run_until_boundary);
  tcase_add_test(tc, test_schedule_from_handler);
  tcase_add_test(tc, test_cancel_from_handler);
  tcase_add_test(tc, test_cancel_from_outside);
  tcase_add_test(tc, test_clone_runs_identically);
  tcase_add_test(tc, test_deterministic_rerun);
  suite_add_tcase(s, tc);

  /* These abort on purpose, in the forked child; abort skips LeakSanitizer's exit-time
   * check, so the engine they die holding is not reported. */
  TCase *tb = tcase_create("contract");
  tcase_add_test_raise_signal(tb, test_abort_schedule_in_past, SIGABRT);
  tcase_add_test_raise_signal(tb, test_abort_handler_out_of_range, SIGABRT);
  tcase_add_test_raise_signal(tb, test_abort_run_until_backwards, SIGABRT);
  tcase_add_test_raise_signal(tb, test_abort_reentrant_run, SIGABRT);
  suite_add_tcase(s, tb);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(engine_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
