/*
 * qsketch.c -- DDSketch-style quantile sketch (see qsketch.h for the buckets, the rank
 * definition and the error bound).
 *
 * Invariants: bucket[i] == 0 for i outside lo..hi; lo > hi iff count == 0; the sum of
 * bucket[] is count; 0 <= lo, hi <= top < SK_QSKETCH_BUCKETS when not empty.
 *
 * Why this shape.  The sketch sits in every rack's state (TTFT per 10 s window) and the
 * whole state is forked by memcpy, so it has a fixed inline array rather than DDSketch's
 * growable dense store or its collapsing of low buckets; the fixed range [0.01 ms, 1e6 ms]
 * (10 us to 17 min) takes 923 buckets at alpha = 0.01.  lo/hi make the per-window reset
 * (and merge) touch only the buckets a window's latencies span (about 116 for a factor of
 * 10 between fastest and slowest).  Rejected: keeping raw samples (unbounded, and the
 * exact quantile is not needed); t-digest / GK (rank error rather than value error, and
 * more state); an HDR histogram (log-linear buckets, so its relative bound varies within
 * each power of two and is loosest where the sub-buckets are widest).
 */
#include "skadi/qsketch.h"

#include <math.h>
#include <string.h>

#include "skadi/require.h"

sk_status sk_qsketch_init(sk_qsketch *s, double alpha) {
  double ln_gamma;
  int32_t top;

  SK_REQUIRE(s != NULL);
  if (!(alpha >= SK_QSKETCH_ALPHA_MIN && alpha <= SK_QSKETCH_ALPHA_MAX))
    return SK_EINVAL;
  ln_gamma = log((1.0 + alpha) / (1.0 - alpha));
  top = (int32_t)ceil(log(SK_QSKETCH_MAX_VALUE / SK_QSKETCH_MIN_VALUE) / ln_gamma);
  SK_REQUIRE(top >= 0 && top < SK_QSKETCH_BUCKETS); /* guaranteed by ALPHA_MIN */
  memset(s, 0, sizeof *s);
  s->alpha = alpha;
  s->ln_gamma = ln_gamma;
  s->inv_ln_gamma = 1.0 / ln_gamma;
  s->top = top;
  s->lo = SK_QSKETCH_BUCKETS;
  s->hi = -1;
  return SK_OK;
}

void sk_qsketch_add(sk_qsketch *s, double value) {
  int32_t k;

  SK_REQUIRE(s != NULL && !isnan(value));
  if (value < SK_QSKETCH_MIN_VALUE) {
    SK_REQUIRE(s->n_below < UINT32_MAX);
    s->n_below++;
    k = 0;
  } else if (value > SK_QSKETCH_MAX_VALUE) {
    SK_REQUIRE(s->n_above < UINT32_MAX);
    s->n_above++;
    k = s->top;
  } else {
    /* value/MIN >= 1, so the log is >= 0; the clamp only guards rounding at MAX. */
    k = (int32_t)ceil(log(value / SK_QSKETCH_MIN_VALUE) * s->inv_ln_gamma);
    if (k > s->top)
      k = s->top;
  }
  SK_REQUIRE(s->bucket[k] < UINT32_MAX);
  s->bucket[k]++;
  s->count++;
  if (k < s->lo)
    s->lo = k;
  if (k > s->hi)
    s->hi = k;
}

/* The rank definition (qsketch.h): k = floor(q*(n-1)), 0-based, for a sketch with n >= 1
 * values; exact while n < 2^53. */
static uint64_t rank_of(const sk_qsketch *s, double q) {
  return (uint64_t)floor(q * (double)(s->count - 1));
}

double sk_qsketch_quantile(const sk_qsketch *s, double q) {
  uint64_t rank, seen = 0;
  int32_t k;

  SK_REQUIRE(s != NULL && q >= 0.0 && q <= 1.0);
  if (s->count == 0)
    return NAN;
  rank = rank_of(s, q);
  for (k = s->lo; k < s->hi; k++) {
    seen += s->bucket[k];
    if (seen > rank)
      break;
  }
  /* Bucket k spans (MIN*g^(k-1), MIN*g^k]; 2*MIN*g^k/(g+1) is within alpha of all of it. */
  return 2.0 * SK_QSKETCH_MIN_VALUE * exp((double)k * s->ln_gamma) /
         (1.0 + (1.0 + s->alpha) / (1.0 - s->alpha));
}

int sk_qsketch_quantile_above_range(const sk_qsketch *s, double q) {
  SK_REQUIRE(s != NULL && q >= 0.0 && q <= 1.0);
  if (s->count == 0 || s->n_above == 0)
    return 0;
  /* the clamped values are the n_above largest: ranks count - n_above .. count - 1 */
  return rank_of(s, q) >= s->count - s->n_above;
}

uint64_t sk_qsketch_count(const sk_qsketch *s) {
  SK_REQUIRE(s != NULL);
  return s->count;
}

void sk_qsketch_merge(sk_qsketch *dst, const sk_qsketch *src) {
  SK_REQUIRE(dst != NULL && src != NULL && dst->alpha == src->alpha);
  if (src->count == 0)
    return;
  for (int32_t k = src->lo; k <= src->hi; k++) {
    SK_REQUIRE(dst->bucket[k] <= UINT32_MAX - src->bucket[k]);
    dst->bucket[k] += src->bucket[k];
  }
  SK_REQUIRE(dst->n_below <= UINT32_MAX - src->n_below && dst->n_above <= UINT32_MAX - src->n_above);
  dst->n_below += src->n_below;
  dst->n_above += src->n_above;
  dst->count += src->count;
  if (src->lo < dst->lo)
    dst->lo = src->lo;
  if (src->hi > dst->hi)
    dst->hi = src->hi;
}

void sk_qsketch_reset(sk_qsketch *s) {
  SK_REQUIRE(s != NULL);
  if (s->lo <= s->hi)
    memset(&s->bucket[s->lo], 0, (size_t)(s->hi - s->lo + 1) * sizeof s->bucket[0]);
  s->count = 0;
  s->n_below = 0;
  s->n_above = 0;
  s->lo = SK_QSKETCH_BUCKETS;
  s->hi = -1;
}
