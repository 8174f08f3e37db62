/*
 * workload.h -- prompt arrivals and token counts: a Poisson process whose rate follows a
 * daily profile, and lognormal prompt/output lengths (physics.md §8.3).
 */
#ifndef SKADI_WORKLOAD_H
#define SKADI_WORKLOAD_H

#include <stdint.h>

#include "skadi/params.h"
#include "skadi/rng.h"

/* Room arrival rate (prompts/s) at an hour of day, rate_scale included. */
double sk_workload_rate(const sk_workload_params *wp, double hour_of_day);

/* Upper bound of sk_workload_rate over the day (for thinning). */
double sk_workload_rate_max(const sk_workload_params *wp);

/* Time (s) from now to the next arrival of a Poisson process with rate rate(t) <=
 * rate_max, by thinning (Lewis & Shedler).  `rate_at(ctx, t_s)` gives the rate at an
 * absolute time; `t0_s` is now.  Returns INFINITY when rate_max <= 0. */
double sk_workload_next_arrival(sk_rng *r, double t0_s, double rate_max,
                                double (*rate_at)(const void *ctx, double t_s), const void *ctx);

/* Draws prompt and output token counts (>= 1, <= max_tokens). */
void sk_workload_tokens(const sk_workload_params *wp, sk_rng *r, int32_t *in_tokens,
                        int32_t *out_tokens);

#endif
