/*
 * qsketch.h -- streaming quantiles with a relative-error guarantee (DDSketch-style
 * log-bucketed histogram; Masson, Rim & Lee, "DDSketch", VLDB 2019).
 *
 * A plain value struct with an inline bucket array: no pointers and no allocation, so it
 * can live inside the twin's state and be copied with memcpy when the state is forked.
 * Size: 4 KiB of uint32 counts plus a 52-byte header: sizeof(sk_qsketch) == 4152 on
 * x86-64 (72 racks: 292 KiB).
 *
 * Buckets.  With gamma = (1 + alpha) / (1 - alpha), bucket 0 holds values in
 * (MIN/gamma, MIN] and bucket k >= 1 holds (MIN*gamma^(k-1), MIN*gamma^k], where MIN is
 * SK_QSKETCH_MIN_VALUE.  A bucket is reported by the value 2*MIN*gamma^k / (gamma + 1),
 * which is within a relative alpha of every value the bucket can hold.
 *
 * Range and clamping.  The range is [SK_QSKETCH_MIN_VALUE, SK_QSKETCH_MAX_VALUE] =
 * [0.01, 1e6] (ms when used for latencies).  A value below it (zero and negatives
 * included) is counted in n_below and stored in bucket 0; a value above it (+inf
 * included) is counted in n_above and stored in the bucket of SK_QSKETCH_MAX_VALUE.
 * Clamping preserves order, so it never moves an in-range order statistic.
 *
 * Rank definition.  For n inserted values sorted ascending, x_(0) <= ... <= x_(n-1), the
 * q-quantile is x_q = x_(k) with k = floor(q * (n - 1)) (the lower of the two values
 * around the "linear" position; q = 0 is the minimum, q = 1 the maximum, q = 0.5 with n
 * even the lower median).
 *
 * Guarantee.  If x_q lies in [SK_QSKETCH_MIN_VALUE, SK_QSKETCH_MAX_VALUE], the value v
 * returned by sk_qsketch_quantile satisfies |v - x_q| <= alpha * x_q, whatever the other
 * values are (in range or clamped), up to floating-point rounding (a value within a few
 * ulps of a bucket boundary may land in the neighbouring bucket, giving an error of alpha
 * plus ~1e-15 relative).  This is exact, not probabilistic: the bucket holding the rank-k
 * value is found by exact counts.  If x_q was clamped, v is within alpha of the bound it
 * was clamped to.
 *
 * Cost.  add: one log().  quantile: one exp() and a walk over the touched buckets.
 * reset and merge: proportional to the touched buckets (lo..hi), not to the array.
 */
#ifndef SKADI_QSKETCH_H
#define SKADI_QSKETCH_H

#include <stdint.h>

#include "skadi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checklist: SK_QSKETCH_BUCKETS, the range and SK_QSKETCH_ALPHA_MIN change together: the
 * bucket of MAX, ceil(ln(MAX/MIN) / ln(gamma)), must be < BUCKETS for every allowed alpha
 * (921.003 -> 922 at alpha = 0.01; 1023 at alpha = 0.009003). */
#define SK_QSKETCH_BUCKETS 1024
#define SK_QSKETCH_MIN_VALUE 0.01
#define SK_QSKETCH_MAX_VALUE 1e6
#define SK_QSKETCH_DEFAULT_ALPHA 0.01
#define SK_QSKETCH_ALPHA_MIN 0.0091 /* finest accuracy the bucket array can cover */
#define SK_QSKETCH_ALPHA_MAX 0.5

/* Fields are public so that the struct can be embedded and copied; change them only
 * through the functions below. */
typedef struct {
  double alpha;                        /* -, relative accuracy, ALPHA_MIN..ALPHA_MAX */
  double ln_gamma;                     /* ln((1 + alpha) / (1 - alpha)) */
  double inv_ln_gamma;                 /* 1 / ln_gamma, cached for add */
  uint64_t count;                      /* values added (clamped ones included) */
  uint32_t n_below;                    /* values added below SK_QSKETCH_MIN_VALUE */
  uint32_t n_above;                    /* values added above SK_QSKETCH_MAX_VALUE */
  int32_t top;                         /* bucket of SK_QSKETCH_MAX_VALUE, < BUCKETS */
  int32_t lo;                          /* lowest touched bucket; BUCKETS when empty */
  int32_t hi;                          /* highest touched bucket; -1 when empty */
  uint32_t bucket[SK_QSKETCH_BUCKETS]; /* counts; zero outside lo..hi */
} sk_qsketch;

/* Initialises an empty sketch in the caller's storage with relative accuracy `alpha`
 * (SK_QSKETCH_DEFAULT_ALPHA is the usual choice).  Returns SK_EINVAL, leaving *s
 * untouched, if alpha is NaN or outside [SK_QSKETCH_ALPHA_MIN, SK_QSKETCH_ALPHA_MAX]. */
sk_status sk_qsketch_init(sk_qsketch *s, double alpha);

/* Adds one value.  NaN is a caller bug (asserted).  Out-of-range values are clamped and
 * counted as described above.  Per-bucket and clamp counts must stay below 2^32
 * (asserted). */
void sk_qsketch_add(sk_qsketch *s, double value);

/* The q-quantile (0 <= q <= 1, asserted) with the guarantee above; NaN if the sketch is
 * empty. */
double sk_qsketch_quantile(const sk_qsketch *s, double q);

/* 1 if the q-quantile (0 <= q <= 1, asserted) is a value that was clamped at the ceiling:
 * its rank falls among the n_above values added above SK_QSKETCH_MAX_VALUE.  Then the
 * quantile is no measurement: all that is known is x_q > SK_QSKETCH_MAX_VALUE, and
 * sk_qsketch_quantile reports the ceiling's bucket.  0 otherwise (and when empty). */
int sk_qsketch_quantile_above_range(const sk_qsketch *s, double q);

/* Number of values added since init or the last reset. */
uint64_t sk_qsketch_count(const sk_qsketch *s);

/* Adds every value of `src` into `dst`, as if each had been added to dst.  Both must have
 * the same alpha (asserted).  dst == src is allowed (doubles every count). */
void sk_qsketch_merge(sk_qsketch *dst, const sk_qsketch *src);

/* Empties the sketch, keeping alpha.  Clears only the touched buckets. */
void sk_qsketch_reset(sk_qsketch *s);

#ifdef __cplusplus
}
#endif

#endif
