/*
 * perf.c -- inference timing formulas (see perf.h).  Pure arithmetic on the fitted
 * coefficients: no state, no I/O.  The fit itself is in perf_fit.c so that the only file
 * of models/ that reads a file is a calibration tool the twin never calls while running.
 */
#include "skadi/perf.h"

#include "skadi/require.h"

void sk_perf_defaults(sk_perf_params *p) {
  SK_REQUIRE(p != NULL);
  p->prefill_a_ms = SK_PERF_DEFAULT_PREFILL_A_MS;
  p->prefill_b_ms_per_tok = SK_PERF_DEFAULT_PREFILL_B_MS_PER_TOK;
  p->prefill_floor_ms = SK_PERF_DEFAULT_PREFILL_FLOOR_MS;
  p->step_a_ms = SK_PERF_DEFAULT_STEP_A_MS;
  p->step_b_ms_per_seq = SK_PERF_DEFAULT_STEP_B_MS_PER_SEQ;
}

double sk_perf_prefill_ms(const sk_perf_params *p, double tokens) {
  SK_REQUIRE(p != NULL && tokens >= 0.0);
  double line_ms = p->prefill_a_ms + p->prefill_b_ms_per_tok * tokens;
  return line_ms > p->prefill_floor_ms ? line_ms : p->prefill_floor_ms;
}

double sk_perf_step_ms(const sk_perf_params *p, double batch) {
  SK_REQUIRE(p != NULL && batch >= 0.0);
  return p->step_a_ms + batch * p->step_b_ms_per_seq;
}
