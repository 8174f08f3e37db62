/*
 * mms.h -- Meta Monitoring System: tells transient from persistent IMS deviations.
 *
 * EMA of D(x) with smoothing alpha (MMS_EMA_ALPHA); the state turns persistent after
 * persist_ticks consecutive ticks with both the EMA and the tick's own D(x) above
 * τ_persist, and back to transient after as many consecutive ticks with the EMA below
 * τ_fast (hysteresis).  Requiring the raw D(x) too keeps the EMA tail of a large, short
 * spike from counting as persistence.
 */
#ifndef SKADI_MMS_H
#define SKADI_MMS_H

typedef enum { SK_MMS_TRANSIENT = 0, SK_MMS_PERSISTENT = 1 } sk_mms_state;

typedef struct {
  double alpha;          /* (0, 1] */
  int persist_ticks;     /* >= 1: ticks above tau_persist to turn persistent */
  int clear_ticks;       /* >= 1: ticks below tau_fast to turn back (sk_mms_init: persist_ticks) */
  double tau_fast;       /* from the IMS model */
  double tau_persist;    /* from the IMS model, >= tau_fast */
  double ema;            /* current EMA (NaN until the first non-NaN deviation) */
  int above;             /* consecutive ticks above tau_persist */
  int below;             /* consecutive ticks below tau_fast */
  sk_mms_state state;
} sk_mms;

/* Starts transient with no EMA.  alpha in (0, 1], persist_ticks >= 1 and tau_fast <=
 * tau_persist are a contract (asserted): settings are validated where they are loaded. */
void sk_mms_init(sk_mms *m, double alpha, int persist_ticks, double tau_fast, double tau_persist);

/* Sets the ticks below tau_fast that turn a persistent state back to transient (by default
 * persist_ticks): a longer hold keeps a flickering excursion one episode.  n >= 1
 * (asserted).  Call after sk_mms_init, before the first tick. */
void sk_mms_set_clear_ticks(sk_mms *m, int n);

/* Feeds one deviation; returns the (possibly new) state.  The first tick sets ema = d.
 * A NaN deviation changes nothing; +inf counts as DBL_MAX so the EMA can decay again.
 * Thresholds are strict (ema > tau_persist, ema < tau_fast); see mms.c. */
sk_mms_state sk_mms_tick(sk_mms *m, double deviation);

const char *sk_mms_state_name(sk_mms_state s); /* "transient" / "persistent" */

#endif
