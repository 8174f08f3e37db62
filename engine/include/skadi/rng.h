/*
 * rng.h -- per-entity random streams.
 *
 * Every stream is derived from (run seed, stable entity id, purpose) by a hash, so adding
 * an entity never shifts another entity's draws.  Streams wrap GSL generators
 * (gsl_rng_taus2 by default: small state, fast, good quality).
 */
#ifndef SKADI_RNG_H
#define SKADI_RNG_H

#include <stdint.h>

#include "skadi/status.h"

typedef struct sk_rng sk_rng;

/* Creates the stream for (seed, entity_id, purpose).  Caller destroys it. */
sk_status sk_rng_create(sk_rng **out, uint64_t seed, uint64_t entity_id, uint32_t purpose);
void sk_rng_destroy(sk_rng *r); /* NULL is a no-op */
sk_status sk_rng_clone(const sk_rng *src, sk_rng **out);

/* Stable 64-bit id for a name (e.g. "R-C-07"): FNV-1a, documented so it never changes. */
uint64_t sk_rng_id_from_name(const char *name);

double sk_rng_uniform(sk_rng *r);                       /* [0, 1) */
double sk_rng_uniform_pos(sk_rng *r);                   /* (0, 1) */
uint32_t sk_rng_uniform_int(sk_rng *r, uint32_t n);     /* [0, n), n >= 1 */
double sk_rng_exponential(sk_rng *r, double mean);      /* mean > 0 */
double sk_rng_lognormal(sk_rng *r, double zeta, double sigma);
double sk_rng_gaussian(sk_rng *r, double sigma);

#endif
