/*
 * test_prefix_cache.c -- models/src/prefix_cache.c: the hit rule (the longest leading run
 * of cached blocks), LRU eviction order with a request's first block kept longest, the
 * capacity bound, salts, clones, the cached-token and full-block rules, and the table
 * against a plain reference LRU over many random operations (deletions shift probe runs).
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork in testutil.h */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/prefix_cache.h"

#include "testutil.h"

static sk_prefix_cache *make(int32_t cap) {
  sk_prefix_cache *pc = NULL;
  ck_assert_int_eq(sk_prefix_cache_create(&pc, cap), SK_OK);
  ck_assert_ptr_nonnull(pc);
  return pc;
}

START_TEST(bad_capacity_refused) {
  sk_prefix_cache *pc = (sk_prefix_cache *)1;
  ck_assert_int_eq(sk_prefix_cache_create(&pc, 0), SK_EINVAL);
  ck_assert_ptr_null(pc);
  ck_assert_int_eq(sk_prefix_cache_create(&pc, SK_PREFIX_CACHE_MAX_BLOCKS + 1), SK_EINVAL);
  sk_prefix_cache_destroy(NULL);
}
END_TEST

/* A hit is the longest run of the request's leading blocks that are all cached: a cached
 * block after a miss does not count. */
START_TEST(hit_is_the_leading_run) {
  sk_prefix_cache *pc = make(64);
  const uint64_t a[] = {0, 1, 2, 3, 100, 101};
  ck_assert_int_eq(sk_prefix_cache_match(pc, a, 6), 0);
  sk_prefix_cache_insert(pc, a, 6);
  ck_assert_int_eq(sk_prefix_cache_count(pc), 6);
  ck_assert_int_eq(sk_prefix_cache_match(pc, a, 6), 6);
  const uint64_t b[] = {0, 1, 2, 3, 4, 101}; /* shares 4 blocks, then 101 after a miss */
  ck_assert_int_eq(sk_prefix_cache_match(pc, b, 6), 4);
  const uint64_t c[] = {7, 0, 1, 2}; /* first block missing: no hit at all */
  ck_assert_int_eq(sk_prefix_cache_match(pc, c, 4), 0);
  const uint64_t d[] = {0, 1};
  ck_assert_int_eq(sk_prefix_cache_match(pc, d, 2), 2);
  ck_assert_int_eq(sk_prefix_cache_match(pc, NULL, 0), 0);
  /* match changes nothing */
  ck_assert_int_eq(sk_prefix_cache_count(pc), 6);
  sk_prefix_cache_destroy(pc);
}
END_TEST

/* Least recently used goes first; within one insert the first block is the most recent,
 * so a request's tail blocks are evicted before its prefix. */
START_TEST(eviction_order) {
  sk_prefix_cache *pc = make(4);
  const uint64_t r1[] = {10, 11, 12};
  sk_prefix_cache_insert(pc, r1, 3); /* LRU order, most recent first: 10 11 12 */
  const uint64_t r2[] = {20};
  sk_prefix_cache_insert(pc, r2, 1); /* 20 10 11 12 (full) */
  ck_assert_int_eq(sk_prefix_cache_count(pc), 4);
  const uint64_t r3[] = {30};
  sk_prefix_cache_insert(pc, r3, 1); /* evicts 12, r1's tail: 30 20 10 11 */
  ck_assert(!sk_prefix_cache_contains(pc, 12));
  ck_assert(sk_prefix_cache_contains(pc, 10) && sk_prefix_cache_contains(pc, 11));
  ck_assert_int_eq(sk_prefix_cache_match(pc, r1, 3), 2);
  /* a hit refreshes: 10 becomes the most recent, so 11 is next out, then 20 */
  const uint64_t t[] = {10};
  sk_prefix_cache_insert(pc, t, 1); /* 10 30 20 11 */
  const uint64_t r4[] = {40};
  sk_prefix_cache_insert(pc, r4, 1); /* evicts 11: 40 10 30 20 */
  ck_assert(!sk_prefix_cache_contains(pc, 11));
  ck_assert(sk_prefix_cache_contains(pc, 10));
  const uint64_t r5[] = {50};
  sk_prefix_cache_insert(pc, r5, 1); /* evicts 20 */
  ck_assert(!sk_prefix_cache_contains(pc, 20));
  ck_assert(sk_prefix_cache_contains(pc, 30) && sk_prefix_cache_contains(pc, 40) &&
            sk_prefix_cache_contains(pc, 50) && sk_prefix_cache_contains(pc, 10));
  ck_assert_int_eq(sk_prefix_cache_count(pc), 4);
  sk_prefix_cache_destroy(pc);
}
END_TEST

/* Never more than the capacity; a request longer than the cache keeps its first blocks. */
START_TEST(capacity_bound) {
  sk_prefix_cache *pc = make(5);
  uint64_t k[12];
  for (int i = 0; i < 12; i++)
    k[i] = (uint64_t)(1000 + i);
  sk_prefix_cache_insert(pc, k, 12);
  ck_assert_int_eq(sk_prefix_cache_count(pc), 5);
  ck_assert_int_eq(sk_prefix_cache_capacity(pc), 5);
  ck_assert_int_eq(sk_prefix_cache_match(pc, k, 12), 5);
  for (int i = 0; i < 200; i++) {
    uint64_t x = (uint64_t)i * 7919u;
    sk_prefix_cache_insert(pc, &x, 1);
    ck_assert_int_le(sk_prefix_cache_count(pc), 5);
  }
  ck_assert_int_eq(sk_prefix_cache_match(pc, k, 12), 0);
  sk_prefix_cache_destroy(pc);
}
END_TEST

/* Salts keep passes apart; salt 0 is the hash itself. */
START_TEST(salts_separate_passes) {
  ck_assert_uint_eq(sk_prefix_cache_key(42, 0), 42);
  sk_prefix_cache *pc = make(16);
  uint64_t p0[3], p1[3];
  for (int i = 0; i < 3; i++) {
    p0[i] = sk_prefix_cache_key((uint64_t)i, 0);
    p1[i] = sk_prefix_cache_key((uint64_t)i, 1);
    ck_assert_uint_ne(p0[i], p1[i]);
  }
  sk_prefix_cache_insert(pc, p0, 3);
  ck_assert_int_eq(sk_prefix_cache_match(pc, p1, 3), 0);
  ck_assert_int_eq(sk_prefix_cache_match(pc, p0, 3), 3);
  sk_prefix_cache_destroy(pc);
}
END_TEST

/* A clone has the same contents and order and then lives its own life. */
START_TEST(clone_is_independent) {
  sk_prefix_cache *pc = make(3), *cl = NULL;
  const uint64_t a[] = {1, 2, 3};
  sk_prefix_cache_insert(pc, a, 3);
  ck_assert_int_eq(sk_prefix_cache_clone(pc, &cl), SK_OK);
  const uint64_t x = 9;
  sk_prefix_cache_insert(pc, &x, 1); /* evicts 3 in the original only */
  ck_assert(!sk_prefix_cache_contains(pc, 3));
  ck_assert(sk_prefix_cache_contains(cl, 3));
  sk_prefix_cache_insert(cl, &x, 1); /* same order in the clone: evicts 3 there too */
  ck_assert(!sk_prefix_cache_contains(cl, 3));
  ck_assert(sk_prefix_cache_contains(cl, 1) && sk_prefix_cache_contains(cl, 2));
  sk_prefix_cache_destroy(pc);
  sk_prefix_cache_destroy(cl);
}
END_TEST

START_TEST(token_rules) {
  /* only full blocks: 4284 tokens are 8 full blocks and a partial ninth */
  ck_assert_int_eq(sk_prefix_cache_full_blocks(9, 4284), 8);
  ck_assert_int_eq(sk_prefix_cache_full_blocks(3, 4284), 3);
  ck_assert_int_eq(sk_prefix_cache_full_blocks(2, 1024), 2);
  ck_assert_int_eq(sk_prefix_cache_full_blocks(5, 511), 0);
  ck_assert_int_eq(sk_prefix_cache_full_blocks(0, 5000), 0);
  /* a hit gives its blocks' tokens, but the last prompt token is always computed */
  ck_assert_int_eq(sk_prefix_cache_cached_tokens(0, 4284), 0);
  ck_assert_int_eq(sk_prefix_cache_cached_tokens(3, 4284), 3 * SK_KV_BLOCK_TOKENS);
  ck_assert_int_eq(sk_prefix_cache_cached_tokens(2, 1024), 1023);
  ck_assert_int_eq(sk_prefix_cache_cached_tokens(1, 1), 0);
}
END_TEST

/* Random inserts over a small key space against a reference LRU (an array, most recent
 * first): the same contents after every step, so deletions that shift probe runs lose
 * nothing and eviction is exactly least-recently-used. */
START_TEST(matches_reference_lru) {
  enum { CAP = 37, KEYS = 200, STEPS = 20000 };
  sk_prefix_cache *pc = make(CAP);
  uint64_t ref[CAP];
  int n = 0;
  uint64_t x = 12345;
  for (int step = 0; step < STEPS; step++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    /* keys that collide in the table: multiples of a power of two */
    uint64_t key = ((x >> 33) % KEYS) * 1024u;
    sk_prefix_cache_insert(pc, &key, 1);
    int at = -1;
    for (int i = 0; i < n; i++)
      if (ref[i] == key)
        at = i;
    if (at < 0)
      at = n < CAP ? n++ : CAP - 1; /* new: drop the least recent when full */
    memmove(ref + 1, ref, (size_t)at * sizeof *ref);
    ref[0] = key;
    ck_assert_int_eq(sk_prefix_cache_count(pc), n);
    if (step % 97 == 0)
      for (uint64_t k = 0; k < KEYS; k++) {
        int in_ref = 0;
        for (int i = 0; i < n; i++)
          in_ref |= ref[i] == k * 1024u;
        ck_assert_int_eq(sk_prefix_cache_contains(pc, k * 1024u), in_ref);
      }
  }
  sk_prefix_cache_destroy(pc);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("prefix_cache");
  TCase *tc = tcase_create("prefix_cache");
  tcase_add_test(tc, bad_capacity_refused);
  tcase_add_test(tc, hit_is_the_leading_run);
  tcase_add_test(tc, eviction_order);
  tcase_add_test(tc, capacity_bound);
  tcase_add_test(tc, salts_separate_passes);
  tcase_add_test(tc, clone_is_independent);
  tcase_add_test(tc, token_rules);
  tcase_add_test(tc, matches_reference_lru);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
