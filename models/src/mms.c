/*
 * mms.c -- Meta Monitoring System: an EMA of the IMS deviation with two-threshold
 * hysteresis, to tell a transient excursion from a persistent one (see mms.h).
 *
 * Invariants: state is TRANSIENT or PERSISTENT; in TRANSIENT only `above` counts (below
 * is 0), in PERSISTENT only `below` counts (above is 0); both are 0 right after a change
 * of state; ema is NaN until the first number and finite after it.
 *
 * Boundaries are strict: a tick counts towards PERSISTENT only when ema > τ_persist and
 * towards TRANSIENT only when ema < τ_fast.  An EMA exactly on a threshold, like one
 * anywhere between the two, holds the state and restarts the count.  τ_fast and τ_persist
 * are percentiles of nominal training deviations, so a value equal to one of them is a
 * value nominal data produced, not evidence of a fault; and with a degenerate model where
 * τ_fast == τ_persist, a constant EMA on that value cannot flip the state either way.
 *
 * The count is of consecutive ticks: the first tick that fails the test resets it.  One
 * tick below τ_persist thus restarts a build-up; that is the point of the EMA, which is
 * already smoothing the noise the counter would otherwise have to forgive.
 *
 * Rejected: NASA's MMS (TOP2-306) compares the likelihood of each score under a nominal
 * and an anomalous distribution of deviations; it needs labelled anomalous data the twin
 * does not have at training time, and the seed specifies EMA + hysteresis (filter.py).
 * A single threshold with a hold-off timer was rejected too: it chatters when the EMA
 * hovers at the threshold, which the gap between τ_fast and τ_persist prevents.
 */
#include "skadi/mms.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

#include "skadi/require.h"

void sk_mms_init(sk_mms *m, double alpha, int persist_ticks, double tau_fast, double tau_persist) {
  SK_REQUIRE(m != NULL);
  SK_REQUIRE(alpha > 0.0 && alpha <= 1.0);
  SK_REQUIRE(persist_ticks >= 1);
  SK_REQUIRE(tau_fast <= tau_persist); /* false for NaN too */
  m->alpha = alpha;
  m->persist_ticks = persist_ticks;
  m->clear_ticks = persist_ticks;
  m->tau_fast = tau_fast;
  m->tau_persist = tau_persist;
  m->ema = NAN;
  m->above = 0;
  m->below = 0;
  m->state = SK_MMS_TRANSIENT;
}

sk_mms_state sk_mms_tick(sk_mms *m, double deviation) {
  SK_REQUIRE(m != NULL);
  /* NaN carries no evidence: the tick changes nothing (sk_ims_score never returns NaN,
   * but a caller may feed a gap in recorded data). */
  if (isnan(deviation))
    return m->state;
  /* An infinite deviation would pin the EMA at infinity for good; the largest double is
   * as far above any threshold and lets it decay again. */
  if (deviation > DBL_MAX)
    deviation = DBL_MAX;
  if (isnan(m->ema))
    m->ema = deviation;
  else
    m->ema = m->alpha * deviation + (1.0 - m->alpha) * m->ema;
  if (m->ema > DBL_MAX) /* rounding of a sum near DBL_MAX */
    m->ema = DBL_MAX;

  if (m->state == SK_MMS_TRANSIENT) {
    /* The smoothed score must be high, and so must this tick's: once a blip has passed,
     * its EMA tail (which can stay above tau_persist for several ticks after a large
     * spike) no longer counts toward persistence. */
    m->above = (m->ema > m->tau_persist && deviation > m->tau_persist) ? m->above + 1 : 0;
    if (m->above >= m->persist_ticks) {
      m->state = SK_MMS_PERSISTENT;
      m->above = 0;
      m->below = 0;
    }
  } else {
    m->below = m->ema < m->tau_fast ? m->below + 1 : 0;
    if (m->below >= m->clear_ticks) {
      m->state = SK_MMS_TRANSIENT;
      m->above = 0;
      m->below = 0;
    }
  }
  return m->state;
}

void sk_mms_set_clear_ticks(sk_mms *m, int n) {
  SK_REQUIRE(m != NULL && n >= 1);
  m->clear_ticks = n;
}

const char *sk_mms_state_name(sk_mms_state s) {
  switch (s) {
  case SK_MMS_TRANSIENT:
    return "transient";
  case SK_MMS_PERSISTENT:
    return "persistent";
  }
  SK_REQUIRE(0 && "sk_mms_state out of range");
  return "unknown";
}
