/*
 * workload.c -- arrival-rate profile, thinning, token-length draws.
 *
 * Rate: lambda(h) = rate * scale * (1 + A cos(2 pi (h - peak)/24)) -- a smooth daily
 * profile with mean `rate` (physics.md §8.3: ±40 %).  Non-homogeneous Poisson arrivals by
 * thinning: candidates at rate_max, each kept with probability lambda(t)/rate_max, which
 * is exact for any bounded rate.  Token lengths are lognormal with the given mean and
 * standard deviation (sigma^2 = ln(1 + sd^2/mean^2), mu = ln(mean) - sigma^2/2), rounded
 * and clamped to [1, max_tokens].
 */
#include "skadi/workload.h"

#include <math.h>

#define SK_TWO_PI 6.283185307179586

double sk_workload_rate(const sk_workload_params *wp, double hour_of_day) {
  double prof = 1.0 + wp->diurnal_amplitude * cos(SK_TWO_PI * (hour_of_day - wp->peak_hour) / 24.0);
  return wp->rate_prompts_s * wp->rate_scale * prof;
}

double sk_workload_rate_max(const sk_workload_params *wp) {
  return wp->rate_prompts_s * wp->rate_scale * (1.0 + fabs(wp->diurnal_amplitude));
}

double sk_workload_next_arrival(sk_rng *r, double t0_s, double rate_max,
                                double (*rate_at)(const void *ctx, double t_s), const void *ctx) {
  if (!(rate_max > 0))
    return INFINITY;
  double t = t0_s;
  for (;;) {
    t += sk_rng_exponential(r, 1.0 / rate_max);
    double lam = rate_at(ctx, t);
    if (lam >= rate_max || sk_rng_uniform(r) * rate_max < lam)
      return t - t0_s;
  }
}

static int32_t draw_len(sk_rng *r, double mean, double sd, int max_tokens) {
  double s2 = log(1.0 + (sd * sd) / (mean * mean));
  double v = sk_rng_lognormal(r, log(mean) - 0.5 * s2, sqrt(s2));
  long n = lround(v);
  if (n < 1)
    n = 1;
  if (n > max_tokens)
    n = max_tokens;
  return (int32_t)n;
}

void sk_workload_tokens(const sk_workload_params *wp, sk_rng *r, int32_t *in_tokens,
                        int32_t *out_tokens) {
  *in_tokens = draw_len(r, wp->prompt_tokens_mean, wp->prompt_tokens_sd, wp->max_tokens);
  *out_tokens = draw_len(r, wp->output_tokens_mean, wp->output_tokens_sd, wp->max_tokens);
}
