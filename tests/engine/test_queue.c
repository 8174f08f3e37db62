/*
 * test_queue.c -- the private event queue (engine/src/queue.c) through its seam, queue.h.
 *
 * Order by (time, insertion sequence) with many ties, cancel anywhere, stale and junk
 * ids, growth past the hint, clone independence, renumbering when the sequence counter
 * wraps, and a long randomized run against a plain reference list.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../engine/src/queue.h"

static sk__queue *mkq(size_t cap) {
  sk__queue *q = NULL;
  ck_assert_int_eq(sk__queue_create(&q, cap), SK_OK);
  ck_assert_ptr_nonnull(q);
  return q;
}

static uint64_t push(sk__queue *q, int64_t t, uint64_t arg) {
  sk__qevent ev = {
      .t_ns = t, .handler = (uint32_t)(arg % 7), .target = (uint32_t)(arg * 3), .arg = arg};
  uint64_t id = 0;
  ck_assert_int_eq(sk__queue_push(q, &ev, &id), SK_OK);
  ck_assert_uint_ne(id, 0);
  return id;
}

static sk__qevent pop(sk__queue *q) {
  sk__qevent ev;
  ck_assert_int_eq(sk__queue_pop_until(q, INT64_MAX, &ev), 1);
  return ev;
}

/* A small deterministic generator for test inputs (splitmix64). */
static uint64_t next_rand(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

START_TEST(test_empty) {
  sk__queue *q = mkq(0);
  sk__qevent ev;
  ck_assert_uint_eq(sk__queue_size(q), 0);
  ck_assert_int_eq(sk__queue_pop_until(q, INT64_MAX, &ev), 0);
  ck_assert_int_eq(sk__queue_peek(q, &ev), 0);
  ck_assert_int_eq(sk__queue_cancel(q, 0), 0);
  ck_assert_int_eq(sk__queue_cancel(q, UINT64_MAX), 0);
  sk__queue_destroy(q);
  sk__queue_destroy(NULL);
}
END_TEST

START_TEST(test_payload_roundtrip) {
  sk__queue *q = mkq(4);
  sk__qevent in = {
      .t_ns = 42, .handler = 3, .target = 0xdeadbeef, .arg = UINT64_C(0x0123456789abcdef)};
  ck_assert_int_eq(sk__queue_push(q, &in, NULL), SK_OK);
  sk__qevent out;
  ck_assert_int_eq(sk__queue_peek(q, &out), 1);
  ck_assert_int_eq(out.t_ns, 42);
  ck_assert_int_eq(sk__queue_pop_until(q, 42, &out), 1);
  ck_assert_int_eq(out.t_ns, 42);
  ck_assert_uint_eq(out.handler, 3);
  ck_assert_uint_eq(out.target, 0xdeadbeef);
  ck_assert_uint_eq(out.arg, UINT64_C(0x0123456789abcdef));
  sk__queue_destroy(q);
}
END_TEST

/* Times from a set of 5, so most events tie; ties must leave in push order (arg). */
START_TEST(test_order_time_then_seq) {
  sk__queue *q = mkq(8);
  uint64_t s = 1;
  enum { N = 5000 };
  for (uint64_t i = 0; i < N; i++)
    push(q, (int64_t)(next_rand(&s) % 5) * 100 - 200, i);
  ck_assert_uint_eq(sk__queue_size(q), N);
  sk__qevent prev = pop(q);
  for (int i = 1; i < N; i++) {
    sk__qevent ev = pop(q);
    ck_assert_int_ge(ev.t_ns, prev.t_ns);
    if (ev.t_ns == prev.t_ns)
      ck_assert_uint_gt(ev.arg, prev.arg);
    prev = ev;
  }
  ck_assert_uint_eq(sk__queue_size(q), 0);
  sk__queue_destroy(q);
}
END_TEST

START_TEST(test_all_equal_times_fifo) {
  sk__queue *q = mkq(16);
  for (uint64_t i = 0; i < 1000; i++)
    push(q, 7, i);
  for (uint64_t i = 0; i < 1000; i++)
    ck_assert_uint_eq(pop(q).arg, i);
  sk__queue_destroy(q);
}
END_TEST

START_TEST(test_pop_until_boundary) {
  sk__queue *q = mkq(16);
  push(q, 10, 0);
  push(q, 20, 1);
  sk__qevent ev;
  ck_assert_int_eq(sk__queue_pop_until(q, 9, &ev), 0);
  ck_assert_int_eq(sk__queue_pop_until(q, 10, &ev), 1); /* inclusive */
  ck_assert_int_eq(ev.t_ns, 10);
  ck_assert_int_eq(sk__queue_pop_until(q, 19, &ev), 0);
  ck_assert_uint_eq(sk__queue_size(q), 1);
  sk__queue_destroy(q);
}
END_TEST

START_TEST(test_cancel_top_middle_last) {
  sk__queue *q = mkq(16);
  uint64_t id[10];
  for (int i = 0; i < 10; i++)
    id[i] = push(q, 10 * i, (uint64_t)i);
  ck_assert_int_eq(sk__queue_cancel(q, id[0]), 1); /* the top */
  ck_assert_int_eq(sk__queue_cancel(q, id[5]), 1); /* the middle */
  ck_assert_int_eq(sk__queue_cancel(q, id[9]), 1); /* the last */
  ck_assert_int_eq(sk__queue_cancel(q, id[5]), 0); /* twice */
  ck_assert_uint_eq(sk__queue_size(q), 7);
  const uint64_t want[] = {1, 2, 3, 4, 6, 7, 8};
  for (int i = 0; i < 7; i++)
    ck_assert_uint_eq(pop(q).arg, want[i]);
  ck_assert_int_eq(sk__queue_cancel(q, id[1]), 0); /* already popped */
  sk__queue_destroy(q);
}
END_TEST

START_TEST(test_stale_id_after_slot_reuse) {
  sk__queue *q = mkq(16);
  uint64_t a = push(q, 1, 1);
  pop(q);
  uint64_t b = push(q, 2, 2); /* reuses a's slot */
  ck_assert_uint_ne(a, b);
  ck_assert_uint_eq(a & 0xffffffffu, b & 0xffffffffu);
  ck_assert_int_eq(sk__queue_cancel(q, a), 0);
  ck_assert_uint_eq(sk__queue_size(q), 1);
  uint64_t c = push(q, 3, 3);
  ck_assert_int_eq(sk__queue_cancel(q, b), 1);
  ck_assert_int_eq(sk__queue_cancel(q, b), 0);
  ck_assert_uint_eq(pop(q).arg, 3);
  ck_assert_int_eq(sk__queue_cancel(q, c), 0);
  sk__queue_destroy(q);
}
END_TEST

START_TEST(test_junk_ids) {
  sk__queue *q = mkq(16);
  uint64_t a = push(q, 1, 1);
  push(q, 2, 2);
  uint64_t c = push(q, 3, 3);
  ck_assert_int_eq(sk__queue_cancel(q, c), 1); /* c's slot is now free */
  ck_assert_int_eq(sk__queue_cancel(q, 0), 0);
  ck_assert_int_eq(sk__queue_cancel(q, a & 0xffffffffu), 0);             /* gen 0 */
  ck_assert_int_eq(sk__queue_cancel(q, a + (UINT64_C(1) << 32)), 0);     /* future gen */
  ck_assert_int_eq(sk__queue_cancel(q, c + (UINT64_C(1) << 32)), 0);     /* free slot's gen */
  ck_assert_int_eq(sk__queue_cancel(q, (UINT64_C(1) << 32) | 12345), 0); /* unused slot */
  ck_assert_int_eq(sk__queue_cancel(q, UINT64_MAX), 0);
  ck_assert_uint_eq(sk__queue_size(q), 2);
  ck_assert_uint_eq(pop(q).arg, 1);
  ck_assert_uint_eq(pop(q).arg, 2);
  sk__queue_destroy(q);
}
END_TEST

START_TEST(test_growth_past_hint) {
  sk__queue *q = mkq(1);
  enum { N = 100000 };
  uint64_t s = 7;
  for (uint64_t i = 0; i < N; i++)
    push(q, (int64_t)(next_rand(&s) % 1000), i);
  ck_assert_uint_eq(sk__queue_size(q), N);
  sk__qevent prev = pop(q);
  for (int i = 1; i < N; i++) {
    sk__qevent ev = pop(q);
    ck_assert(ev.t_ns > prev.t_ns || (ev.t_ns == prev.t_ns && ev.arg > prev.arg));
    prev = ev;
  }
  sk__queue_destroy(q);
}
END_TEST

START_TEST(test_clone_independent) {
  sk__queue *q = mkq(4);
  uint64_t ids[100];
  uint64_t s = 3;
  for (uint64_t i = 0; i < 100; i++)
    ids[i] = push(q, (int64_t)(next_rand(&s) % 50), i);
  for (int i = 0; i < 100; i += 10)
    ck_assert_int_eq(sk__queue_cancel(q, ids[i]), 1);
  for (int i = 0; i < 20; i++)
    pop(q); /* leaves free slots behind */

  sk__queue *c = NULL;
  ck_assert_int_eq(sk__queue_clone(q, &c), SK_OK);
  ck_assert_uint_eq(sk__queue_size(c), sk__queue_size(q));

  /* Same future in both, including the tie-break counter and slot reuse. */
  for (uint64_t i = 0; i < 30; i++) {
    uint64_t a = push(q, 25, 1000 + i), b = push(c, 25, 1000 + i);
    ck_assert_uint_eq(a, b);
  }
  /* An id pending in both may be cancelled in one only. */
  int victim = -1;
  for (int i = 99; i >= 0 && victim < 0; i--)
    if (sk__queue_cancel(q, ids[i]) == 1)
      victim = i;
  ck_assert_int_ge(victim, 0);
  ck_assert_uint_eq(sk__queue_size(c), sk__queue_size(q) + 1);
  ck_assert_int_eq(sk__queue_cancel(c, ids[victim]), 1);

  while (sk__queue_size(q) > 0) {
    sk__qevent x = pop(q), y = pop(c);
    ck_assert_int_eq(x.t_ns, y.t_ns);
    ck_assert_uint_eq(x.arg, y.arg);
    ck_assert_uint_eq(x.handler, y.handler);
    ck_assert_uint_eq(x.target, y.target);
  }
  ck_assert_uint_eq(sk__queue_size(c), 0);
  sk__queue_destroy(q);
  sk__queue_destroy(c);
}
END_TEST

/* Drive the counter to its limit; order must survive the renumbering. */
START_TEST(test_seq_renumber) {
  sk__queue *q = mkq(16);
  for (uint64_t i = 0; i < 50; i++)
    push(q, (int64_t)(i % 3), i);
  sk__queue_set_seq(q, (UINT64_C(1) << 32) - 20);
  for (uint64_t i = 50; i < 100; i++)
    push(q, (int64_t)(i % 3), i); /* wraps at 70 */
  sk__queue_set_seq(q, UINT64_C(1) << 32);
  for (uint64_t i = 100; i < 110; i++)
    push(q, 1, i);
  sk__qevent prev = pop(q);
  for (int i = 1; i < 110; i++) {
    sk__qevent ev = pop(q);
    ck_assert(ev.t_ns > prev.t_ns || (ev.t_ns == prev.t_ns && ev.arg > prev.arg));
    prev = ev;
  }
  sk__queue_destroy(q);
}
END_TEST

/* Reference: an unsorted list scanned for the minimum (time, seq). */
typedef struct {
  int64_t t;
  uint64_t seq, id, arg;
} ref_ev;

static size_t ref_min(const ref_ev *r, size_t n) {
  size_t m = 0;
  for (size_t i = 1; i < n; i++)
    if (r[i].t < r[m].t || (r[i].t == r[m].t && r[i].seq < r[m].seq))
      m = i;
  return m;
}

START_TEST(test_randomized_vs_reference) {
  enum { OPS = 20000, MAXN = OPS };
  sk__queue *q = mkq(2);
  ref_ev *ref = malloc(MAXN * sizeof *ref);
  uint64_t *dead = malloc(OPS * sizeof *dead); /* ids popped or cancelled */
  ck_assert_ptr_nonnull(ref);
  ck_assert_ptr_nonnull(dead);
  size_t n = 0, n_dead = 0;
  uint64_t seq = 0, s = (uint64_t)_i * 977 + 11;
  int64_t now = 0;

  for (int op = 0; op < OPS; op++) {
    uint64_t r = next_rand(&s) % 100;
    if (r < 50 || n == 0) { /* push at or after the last popped time, many ties */
      int64_t t = now + (int64_t)(next_rand(&s) % 20);
      uint64_t id = push(q, t, seq);
      ref[n++] = (ref_ev){.t = t, .seq = seq, .id = id, .arg = seq};
      seq++;
    } else if (r < 80) { /* pop */
      size_t m = ref_min(ref, n);
      sk__qevent ev = pop(q);
      ck_assert_int_eq(ev.t_ns, ref[m].t);
      ck_assert_uint_eq(ev.arg, ref[m].arg);
      now = ev.t_ns;
      dead[n_dead++] = ref[m].id;
      ref[m] = ref[--n];
    } else if (r < 95) { /* cancel a live one */
      size_t k = (size_t)(next_rand(&s) % n);
      ck_assert_int_eq(sk__queue_cancel(q, ref[k].id), 1);
      dead[n_dead++] = ref[k].id;
      ref[k] = ref[--n];
    } else if (n_dead > 0) { /* cancel a dead one */
      ck_assert_int_eq(sk__queue_cancel(q, dead[next_rand(&s) % n_dead]), 0);
    }
    ck_assert_uint_eq(sk__queue_size(q), n);
  }
  while (n > 0) {
    size_t m = ref_min(ref, n);
    sk__qevent ev = pop(q);
    ck_assert_int_eq(ev.t_ns, ref[m].t);
    ck_assert_uint_eq(ev.arg, ref[m].arg);
    ref[m] = ref[--n];
  }
  free(dead);
  free(ref);
  sk__queue_destroy(q);
}
END_TEST

static Suite *queue_suite(void) {
  Suite *s = suite_create("queue");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_empty);
  tcase_add_test(tc, test_payload_roundtrip);
  tcase_add_test(tc, test_order_time_then_seq);
  tcase_add_test(tc, test_all_equal_times_fifo);
  tcase_add_test(tc, test_pop_until_boundary);
  tcase_add_test(tc, test_cancel_top_middle_last);
  tcase_add_test(tc, test_stale_id_after_slot_reuse);
  tcase_add_test(tc, test_junk_ids);
  tcase_add_test(tc, test_growth_past_hint);
  tcase_add_test(tc, test_clone_independent);
  tcase_add_test(tc, test_seq_renumber);
  tcase_add_loop_test(tc, test_randomized_vs_reference, 0, 4);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(queue_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
