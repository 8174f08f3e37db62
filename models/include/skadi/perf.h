/*
 * perf.h -- inference timing of one model replica (one 8-GPU server, TP8), fitted to
 * measured data.
 *
 *   prefill_ms(N) = max(floor, a + b*N)   N = prompt tokens in one prefill iteration
 *   step_ms(B)    = d + e*B                B = sequences in one decode step
 *
 * The defaults below are the fit of SplitwiseSim's perf_model.csv (MIT; Patel et al.,
 * "Splitwise", ISCA 2024), rows model=llama2-70b, hardware=h100-80gb, tensor_parallel=8,
 * rounded to 5 significant digits.  docs/MODEL.md ("Inference timing fit") shows the data,
 * the weighting and the error at every point.  Measured range: N = 128..32768 tokens,
 * B = 1..64 sequences; outside it the formulas extrapolate.
 *
 * Prefill is flat at the floor up to the knee (floor - a)/b = 850 tokens and linear above;
 * a < 0 is expected and harmless (the floor covers every N where the line is lower).
 * Fit error on those 105 rows (relative to each measured time): prefill max 0.274,
 * RMS 0.105; step max 0.081, RMS 0.028.  The worst rows are scatter between repeated runs
 * (prefill at N = 512 ranges 50.9-74.1 ms; the worst, -27 %, is the 74.1 ms run).  What
 * is left of shape is a bend in the data between 1 k and 4 k tokens (about 0.055 ms/token
 * below 2 k, 0.09-0.12 above), which one straight line splits: 10-11 % low at 1 k tokens,
 * 20-24 % high at 2 k, 7-14 % low at 4-8 k.  (The previous form, a + b*N + c*N^2, had
 * max 0.334 and RMS 0.194.)
 */
#ifndef SKADI_PERF_H
#define SKADI_PERF_H

#include <stddef.h>

#include "skadi/params.h"
#include "skadi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checklist: these five, the tables in docs/MODEL.md, the key table in docs/SCENARIOS.md
 * (`skadi keys --markdown`) and tests/models/test_perf.c change together (the test refits
 * the CSV and compares). */
#define SK_PERF_DEFAULT_PREFILL_A_MS (-24.615)
#define SK_PERF_DEFAULT_PREFILL_B_MS_PER_TOK 0.092174
#define SK_PERF_DEFAULT_PREFILL_FLOOR_MS 53.753
#define SK_PERF_DEFAULT_STEP_A_MS 29.868
#define SK_PERF_DEFAULT_STEP_B_MS_PER_SEQ 0.30214

/* The measured range of the default fit's data (SplitwiseSim's perf_model.csv, the rows
 * above): the longest single prompt (prompt_size 8192 at batch 1) and the most prompt
 * tokens in one prefill iteration (512 x 64 = 32768).  A prompt longer than the first, or
 * an iteration larger than the second, is timed by extrapolating the fit: the server
 * counts them (sk_server.prompts_extrapolated, prefills_extrapolated) and every summary
 * reports them.  Checklist: tests/models/test_perf.c checks both against the CSV. */
#define SK_PERF_MEASURED_PROMPT_MAX_TOKENS 8192
#define SK_PERF_MEASURED_PREFILL_MAX_TOKENS 32768

/* One measured configuration for sk_perf_fit (a row of SplitwiseSim's perf_model.csv). */
typedef struct {
  double prefill_tokens; /* tokens in one prefill iteration (prompt_size * batch_size), > 0 */
  double batch;          /* sequences in one decode step (batch_size), > 0 */
  double prefill_ms;     /* ms, measured prefill iteration time (prompt_time), > 0 */
  double step_ms;        /* ms, measured decode step time (token_time), > 0 */
} sk_perf_sample;

/* Quality of a fit by sk_perf_fit.  Relative errors are (fitted - measured) / measured
 * over every sample used; R^2 is the ordinary, unweighted 1 - SS_res/SS_tot in ms. */
typedef struct {
  int n_rows;                 /* samples used by both fits */
  double prefill_max_rel_err; /* -, max |relative error| of prefill_ms over the rows */
  double prefill_rms_rel_err; /* -, RMS relative error of prefill_ms */
  double prefill_r2;          /* -, R^2 of prefill_ms */
  double step_max_rel_err;    /* -, max |relative error| of step_ms */
  double step_rms_rel_err;    /* -, RMS relative error of step_ms */
  double step_r2;             /* -, R^2 of step_ms */
} sk_perf_fit_report;

/* Fills *p with the SK_PERF_DEFAULT_* coefficients. */
void sk_perf_defaults(sk_perf_params *p);

/* Duration in ms of one prefill iteration over `tokens` prompt tokens (tokens >= 0,
 * asserted): max(floor, a + b*tokens), so never below prefill_floor_ms.  Pure formula:
 * the caller does not run an iteration with no tokens. */
double sk_perf_prefill_ms(const sk_perf_params *p, double tokens);

/* Duration in ms of one decode step with `batch` sequences (batch >= 0, asserted); each
 * sequence emits one token per step. */
double sk_perf_step_ms(const sk_perf_params *p, double batch);

/* Calibration tool: fits the n samples (the file-reading front end is sk_perf_fit_csv in
 * sim/, skadi/perf_csv.h)
 *   prefill_ms ~ max(floor, a + b*N), N = prefill_tokens,
 *   step_ms    ~ d + e*B,              B = batch,
 * by weighted least squares (GSL) with weight 1 / (t^2 * m): relative error is minimised,
 * and each distinct N (resp. B) counts once however many samples repeat it (m = samples
 * sharing that N or B).  The prefill fit is the exact minimum over b >= 0 (so prefill_ms
 * never decreases in N) and a knee no higher than the second-largest distinct N, found by
 * solving a few linear fits per distinct N (perf_fit.c explains why that is exhaustive);
 * no starting guess, no iteration.  If the data fall with N it returns the constant:
 * b = 0, a = floor = the weighted mean.
 *
 * On success writes *out (all five coefficients) and, if rep is not NULL, *rep.
 * Errors (the message in err when err is not NULL and errlen > 0; it names no file, the
 * caller adds that; *out and *rep are left untouched):
 *   SK_ERANGE    a value that is not finite and > 0 ("sample 7: prefill_ms must be ..."),
 *                or more than INT_MAX samples
 *   SK_EINVAL    fewer than 3 distinct N or 2 distinct B (also for n = 0), or GSL failed
 *   SK_ENOMEM    allocation failed
 * Allocates only for the duration of the call; does no I/O. */
sk_status sk_perf_fit(const sk_perf_sample *samples, size_t n, sk_perf_params *out,
                      sk_perf_fit_report *rep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
