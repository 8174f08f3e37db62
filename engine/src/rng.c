/*
 * rng.c -- per-entity random streams on GSL generators.
 *
 * A stream is keyed by (run seed, entity id, purpose).  The key is hashed with the
 * splitmix64 finaliser, chained so that each input goes through a bijection:
 *
 *     h = mix64(seed + G);  h = mix64(h ^ (entity_id + G));  h = mix64(h ^ purpose)
 *
 * with G = 0x9e3779b97f4a7c15.  For taus2 (the default) the generator's three 32-bit
 * words are then filled from splitmix64 steps started at h (each word redrawn until it
 * meets L'Ecuyer's lower bounds 2, 8, 16), and the generator is warmed up six steps as
 * GSL's own seeding does.  CHECKLIST: this derivation and sk_rng_id_from_name (64-bit
 * FNV-1a) are part of every recording's meaning -- change neither without bumping the
 * recording format.
 *
 * Why not gsl_rng_set?  taus2 seeds from 32 bits only, so 65,536 streams (one PHOLD run,
 * or a large hall) would share a seed with probability ~40 % (birthday bound).  Filling
 * the ~88-bit state directly makes that negligible.  It relies on taus2's state being
 * three unsigned longs (true since GSL 1.0); we check the state size and fall back to
 * gsl_rng_set with a nonzero seed for any other generator.
 *
 * The gsl_rng header and the generator state live in one allocation we own (gsl_rng is
 * a public two-pointer struct), so a stream is one malloc, creation never reaches GSL's
 * abort-on-OOM error handler, and a draw is one pointer hop shorter.
 *
 * Rejected: one global generator with skip-ahead (adding an entity would shift every
 * later entity's draws); libc rand (global state, poor quality); gsl_rng_mt19937 (2.5 KB
 * of state per stream, and no faster here).
 */
#include "skadi/rng.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "skadi/require.h"

#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

struct sk_rng {
  gsl_rng g;           /* g.state points at state[] */
  max_align_t state[]; /* the generator's state, g.type->size bytes */
};

static const gsl_rng_type *stream_type(void) {
  return gsl_rng_taus2;
}

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static uint64_t splitmix64_next(uint64_t *x) {
  *x += GOLDEN;
  return mix64(*x);
}

static uint64_t stream_key(uint64_t seed, uint64_t entity_id, uint32_t purpose) {
  uint64_t h = mix64(seed + GOLDEN);
  h = mix64(h ^ (entity_id + GOLDEN));
  return mix64(h ^ purpose);
}

/* A 32-bit word >= lo from the splitmix64 sequence at *x. */
static unsigned long word_at_least(uint64_t *x, unsigned long lo) {
  unsigned long w;
  do
    w = (unsigned long)(splitmix64_next(x) >> 32);
  while (w < lo);
  return w;
}

static void seed_stream(gsl_rng *g, uint64_t h) {
  if (g->type == gsl_rng_taus2 && g->type->size == 3 * sizeof(unsigned long)) {
    unsigned long *s = g->state;
    uint64_t x = h;
    s[0] = word_at_least(&x, 2);
    s[1] = word_at_least(&x, 8);
    s[2] = word_at_least(&x, 16);
    for (int i = 0; i < 6; i++)
      (void)gsl_rng_get(g);
  } else {
    unsigned long s = (unsigned long)((h ^ (h >> 32)) & 0xffffffffu);
    gsl_rng_set(g, s ? s : 1); /* 0 would mean "the default seed" to some generators */
  }
}

static sk_rng *stream_alloc(const gsl_rng_type *t) {
  sk_rng *r = malloc(sizeof *r + t->size);
  if (!r)
    return NULL;
  r->g.type = t;
  r->g.state = r->state;
  return r;
}

sk_status sk_rng_create(sk_rng **out, uint64_t seed, uint64_t entity_id, uint32_t purpose) {
  SK_REQUIRE(out != NULL);
  sk_rng *r = stream_alloc(stream_type());
  *out = r;
  if (!r)
    return SK_ENOMEM;
  seed_stream(&r->g, stream_key(seed, entity_id, purpose));
  return SK_OK;
}

void sk_rng_destroy(sk_rng *r) {
  free(r);
}

sk_status sk_rng_clone(const sk_rng *src, sk_rng **out) {
  SK_REQUIRE(src != NULL && out != NULL);
  sk_rng *r = stream_alloc(src->g.type);
  *out = r;
  if (!r)
    return SK_ENOMEM;
  memcpy(r->state, src->state, src->g.type->size);
  return SK_OK;
}

uint64_t sk_rng_id_from_name(const char *name) {
  SK_REQUIRE(name != NULL);
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    h ^= *p;
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

double sk_rng_uniform(sk_rng *r) {
  return gsl_rng_uniform(&r->g);
}

double sk_rng_uniform_pos(sk_rng *r) {
  return gsl_rng_uniform_pos(&r->g);
}

uint32_t sk_rng_uniform_int(sk_rng *r, uint32_t n) {
  SK_REQUIRE(n >= 1);
  return (uint32_t)gsl_rng_uniform_int(&r->g, n);
}

double sk_rng_exponential(sk_rng *r, double mean) {
  SK_REQUIRE(mean > 0);
  return gsl_ran_exponential(&r->g, mean);
}

double sk_rng_lognormal(sk_rng *r, double zeta, double sigma) {
  return gsl_ran_lognormal(&r->g, zeta, sigma);
}

double sk_rng_gaussian(sk_rng *r, double sigma) {
  return gsl_ran_gaussian(&r->g, sigma);
}
