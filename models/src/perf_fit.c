/*
 * perf_fit.c -- calibration tool: fits the perf.h timing formulas to measured samples.
 * The twin never calls it while running (the fitted numbers are compiled in as
 * SK_PERF_DEFAULT_*, and test_perf refits to check them).  It takes arrays and does no
 * I/O, like the rest of models/: reading the samples from a SplitwiseSim-format CSV is
 * sim/src/perf_csv.c's job (sk_perf_fit_csv), on the shared CSV reader.
 *
 * Weighting.  Least squares with weight 1/t^2 minimises the squared *relative* error, which
 * is what matters across a range where times go from 50 ms to 3 s: unweighted, the few
 * multi-second points own the fit and the small ones come out 60-85 % off.  On top of that
 * each row is divided by m, the number of rows sharing its N (or B), because the file
 * repeats some configurations far more than others (45 of the 105 llama2-70b/h100/TP8 rows
 * are N = 512, the decode sweep over output lengths); without it the fit bends to N = 512.
 * Rejected: an unweighted fit, and a minimax fit (not least squares, no GSL routine, and
 * much of the worst error is scatter between repeated runs that no curve can remove).
 *
 * Prefill form.  The data sit on a flat floor (~52 ms) up to 512 tokens and grow close to
 * linearly above, so prefill_ms(N) = max(floor, a + b*N).  Rejected: a + b*N + c*N^2, the
 * previous form (worst error 0.33, RMS 0.19 against 0.27 and 0.10 now: a parabola cannot
 * be flat and then straight), and a smooth "soft max" (one more parameter, not linear in
 * any of them, and no better on data whose scatter between repeats is 20-30 %).
 *
 * Prefill fit, exact rather than searched.  With b > 0 the form is
 * floor + b * max(0, N - k), knee k = (floor - a) / b.  Rows with equal N are first merged
 * into one point (weight W = sum of the row weights, value = their weighted mean): that
 * leaves the weighted sum of squares unchanged up to a constant, so the fit is the same,
 * and each candidate below costs O(distinct N).  Over sorted distinct sizes x_0 < ... <
 * x_{D-1} the minimum lies at one of these candidates, all linear weighted least squares:
 *   - the constant (b = 0, floor = weighted mean of all points);
 *   - the knee on a size, k = x_j for j <= D-2: fit floor and b on the basis
 *     {1, max(0, N - x_j)};
 *   - the knee strictly between x_j and x_{j+1}, j <= D-3: floor = weighted mean of
 *     x_0..x_j, line a + b*N fitted to x_{j+1}..x_{D-1}; kept only if the knee
 *     (floor - a)/b it implies does fall in (x_j, x_{j+1}).
 * Why that is exhaustive: for knees inside one interval the sum of squares is a convex
 * quadratic in (floor, a, b) on a convex set, so its minimum is the unconstrained one (the
 * third kind) when that is feasible and otherwise lies on the set's edge: a knee on a size
 * (the second kind) or b = 0 (the first).  Candidates with b < 0 are dropped, so prefill
 * time never falls as N grows.  The knee stays at or below x_{D-2}, so the slope always
 * rests on at least two sizes.  The best candidate wins, the first listed on a tie: no
 * starting point, tolerance or iteration count, and O(D^2) for D distinct N (a CSV of
 * measured sizes has tens).
 *
 * GSL's workspace allocation aborts through GSL's default error handler if it fails; the
 * handler is process-wide, so a library does not replace it.  Everything else we allocate
 * ourselves and a failure returns SK_ENOMEM.
 */
#include "skadi/perf.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_multifit.h>

#include "skadi/require.h"

typedef struct {
  double x;
  size_t i;
} keyed;

static int cmp_keyed(const void *pa, const void *pb) {
  const keyed *a = pa, *b = pb;
  if (a->x != b->x)
    return a->x < b->x ? -1 : 1;
  return a->i < b->i ? -1 : (a->i > b->i); /* total order: qsort is not stable */
}

/* m[i] = number of entries of x equal to x[i]; returns the number of distinct values, or
 * 0 on allocation failure.  Sorting keeps this O(n log n) however many samples. */
static size_t group_sizes(const double *x, size_t n, double *m) {
  keyed *k = malloc(n * sizeof *k);
  size_t distinct = 0;
  if (k == NULL)
    return 0;
  for (size_t i = 0; i < n; i++) {
    k[i].x = x[i];
    k[i].i = i;
  }
  qsort(k, n, sizeof *k, cmp_keyed);
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b < n && k[b].x == k[a].x)
      b++;
    for (size_t j = a; j < b; j++)
      m[k[j].i] = (double)(b - a);
    distinct++;
    a = b;
  }
  free(k);
  return distinct;
}

/* Merges rows with equal x into one point each, in ascending x: gx = the value, gw = the
 * sum of the row weights 1/(y^2 m) with m the rows sharing it, gy = the mean of their y
 * weighted the same way.  Returns the number of points, or 0 on allocation failure. */
static size_t group_points(const double *x, const double *y, size_t n, double *gx, double *gy,
                           double *gw) {
  keyed *k = malloc(n * sizeof *k);
  size_t d = 0;
  if (k == NULL)
    return 0;
  for (size_t i = 0; i < n; i++) {
    k[i].x = x[i];
    k[i].i = i;
  }
  qsort(k, n, sizeof *k, cmp_keyed);
  for (size_t a = 0; a < n;) {
    size_t b = a;
    double sw = 0.0, swy = 0.0; /* sums of 1/y^2 and y/y^2, in row order within the group */
    while (b < n && k[b].x == k[a].x) {
      double yi = y[k[b].i];
      sw += 1.0 / (yi * yi);
      swy += 1.0 / yi;
      b++;
    }
    gx[d] = k[a].x;
    gy[d] = swy / sw;
    gw[d] = sw / (double)(b - a);
    d++;
    a = b;
  }
  free(k);
  return d;
}

/* Weighted least squares y ~ X coef, X n-by-p row-major in xbuf (p <= 2, n >= p), weights
 * w.  Returns -1 if GSL fails. */
static int wls(const double *xbuf, const double *y, const double *w, size_t n, size_t p,
               double *coef) {
  double covbuf[4], chisq;
  gsl_matrix_const_view X = gsl_matrix_const_view_array(xbuf, n, p);
  gsl_matrix_view cov = gsl_matrix_view_array(covbuf, p, p);
  gsl_vector_const_view Y = gsl_vector_const_view_array(y, n);
  gsl_vector_const_view W = gsl_vector_const_view_array(w, n);
  gsl_vector_view C = gsl_vector_view_array(coef, p);
  gsl_multifit_linear_workspace *ws;
  int rc;

  SK_REQUIRE(p >= 1 && p <= 2 && n >= p);
  ws = gsl_multifit_linear_alloc(n, p);
  if (ws == NULL)
    return -1;
  rc = gsl_multifit_wlinear(&X.matrix, &W.vector, &Y.vector, &C.vector, &cov.matrix, &chisq, ws);
  gsl_multifit_linear_free(ws);
  return rc == 0 ? 0 : -1;
}

/* Step fit: y ~ coef[0] + coef[1] x with weights 1/(y^2 m).  `xbuf` has room for 2n
 * doubles, `w` for n. */
static int fit_line(const double *x, const double *y, const double *m, size_t n, double *xbuf,
                    double *w, double *coef) {
  for (size_t i = 0; i < n; i++) {
    xbuf[2 * i] = 1.0;
    xbuf[2 * i + 1] = x[i];
    w[i] = 1.0 / (y[i] * y[i] * m[i]);
  }
  return wls(xbuf, y, w, n, 2, coef);
}

static double weighted_mean(const double *y, const double *w, size_t n) {
  double sw = 0.0, swy = 0.0;
  for (size_t i = 0; i < n; i++) {
    sw += w[i];
    swy += w[i] * y[i];
  }
  return swy / sw;
}

/* Weighted sum of squares of the prefill form with coefficients in *p over the points. */
static double prefill_ss(const sk_perf_params *p, const double *gx, const double *gy,
                         const double *gw, size_t d) {
  double ss = 0.0;
  for (size_t i = 0; i < d; i++) {
    double r = sk_perf_prefill_ms(p, gx[i]) - gy[i];
    ss += gw[i] * r * r;
  }
  return ss;
}

/* Keeps *cand in *best if its sum of squares is strictly lower (the first candidate wins
 * a tie). */
static void consider(const sk_perf_params *cand, const double *gx, const double *gy,
                     const double *gw, size_t d, sk_perf_params *best, double *best_ss) {
  double ss = prefill_ss(cand, gx, gy, gw, d);
  if (ss < *best_ss) {
    *best = *cand;
    *best_ss = ss;
  }
}

/* Fits max(floor, a + b*N) to the d >= 3 merged points (ascending gx), writing floor, a
 * and b into *p; see the file comment for the candidates.  `xbuf` has room for 2d doubles.
 * Returns -1 if GSL fails. */
static int fit_prefill(const double *gx, const double *gy, const double *gw, size_t d, double *xbuf,
                       sk_perf_params *p) {
  sk_perf_params c = {0}, best;
  double best_ss, coef[2];

  SK_REQUIRE(d >= 3);
  c.prefill_floor_ms = weighted_mean(gy, gw, d);
  c.prefill_a_ms = c.prefill_floor_ms;
  c.prefill_b_ms_per_tok = 0.0;
  best = c;
  best_ss = prefill_ss(&c, gx, gy, gw, d);

  for (size_t j = 0; j + 2 <= d; j++) { /* knee on x_j */
    for (size_t i = 0; i < d; i++) {
      xbuf[2 * i] = 1.0;
      xbuf[2 * i + 1] = gx[i] > gx[j] ? gx[i] - gx[j] : 0.0;
    }
    if (wls(xbuf, gy, gw, d, 2, coef) != 0)
      return -1;
    if (coef[1] > 0.0) {
      c.prefill_floor_ms = coef[0];
      c.prefill_b_ms_per_tok = coef[1];
      c.prefill_a_ms = coef[0] - coef[1] * gx[j];
      consider(&c, gx, gy, gw, d, &best, &best_ss);
    }
  }

  for (size_t j = 0; j + 3 <= d; j++) { /* knee inside (x_j, x_{j+1}) */
    size_t nl = d - j - 1;
    double knee;
    for (size_t i = 0; i < nl; i++) {
      xbuf[2 * i] = 1.0;
      xbuf[2 * i + 1] = gx[j + 1 + i];
    }
    if (wls(xbuf, gy + j + 1, gw + j + 1, nl, 2, coef) != 0)
      return -1;
    if (!(coef[1] > 0.0))
      continue;
    c.prefill_floor_ms = weighted_mean(gy, gw, j + 1);
    c.prefill_a_ms = coef[0];
    c.prefill_b_ms_per_tok = coef[1];
    knee = (c.prefill_floor_ms - coef[0]) / coef[1];
    if (knee > gx[j] && knee < gx[j + 1])
      consider(&c, gx, gy, gw, d, &best, &best_ss);
  }

  p->prefill_floor_ms = best.prefill_floor_ms;
  p->prefill_a_ms = best.prefill_a_ms;
  p->prefill_b_ms_per_tok = best.prefill_b_ms_per_tok;
  return 0;
}

/* Relative-error statistics of fitted against measured y over n rows. */
static void fit_stats(const double *fitted, const double *y, size_t n, double *max_rel,
                      double *rms_rel, double *r2) {
  double mx = 0.0, ss_rel = 0.0, mean = 0.0, ss_res = 0.0, ss_tot = 0.0;
  for (size_t i = 0; i < n; i++)
    mean += y[i];
  mean /= (double)n;
  for (size_t i = 0; i < n; i++) {
    double f = fitted[i];
    double r = (f - y[i]) / y[i];
    if (fabs(r) > mx)
      mx = fabs(r);
    ss_rel += r * r;
    ss_res += (f - y[i]) * (f - y[i]);
    ss_tot += (y[i] - mean) * (y[i] - mean);
  }
  *max_rel = mx;
  *rms_rel = sqrt(ss_rel / (double)n);
  *r2 = ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : 1.0;
}

/* A sample the fit can use: every value finite and > 0.  Else the reason in err. */
static int sample_ok(const sk_perf_sample *s, size_t i, char *err, size_t errlen) {
  const double v[4] = {s->prefill_tokens, s->batch, s->prefill_ms, s->step_ms};
  static const char *const names[4] = {"prefill_tokens", "batch", "prefill_ms", "step_ms"};
  for (int k = 0; k < 4; k++)
    if (!(isfinite(v[k]) && v[k] > 0.0)) {
      sk_errf(err, errlen, "sample %zu: %s must be finite and > 0, got %g", i, names[k], v[k]);
      return 0;
    }
  return 1;
}

sk_status sk_perf_fit(const sk_perf_sample *samples, size_t n, sk_perf_params *out,
                      sk_perf_fit_report *rep, char *err, size_t errlen) {
  double *buf = NULL;
  double *xn, *xb, *yp, *yt, *mb, *w, *gx, *gy, *gw, *xbuf;
  double sc[2] = {0.0, 0.0};
  size_t dn;
  sk_perf_params p;
  sk_perf_fit_report r;
  sk_status st = SK_OK;

  SK_REQUIRE((samples != NULL || n == 0) && out != NULL);
  if (n > INT_MAX) {
    sk_errf(err, errlen, "%zu samples; at most %d", n, INT_MAX);
    return SK_ERANGE;
  }
  for (size_t i = 0; i < n; i++)
    if (!sample_ok(&samples[i], i, err, errlen))
      return SK_ERANGE;

  /* One block for the columns, group sizes, weights, merged points and design matrix:
   * 9n + 2n doubles. */
  /* at least one element: offsets from a NULL block are undefined even when zero */
  buf = malloc(11 * (n ? n : 1) * sizeof *buf);
  if (buf == NULL) {
    sk_errf(err, errlen, "out of memory fitting %zu samples", n);
    return SK_ENOMEM;
  }
  xn = buf;
  xb = xn + n;
  yp = xb + n;
  yt = yp + n;
  mb = yt + n;
  w = mb + n;
  gx = w + n;
  gy = gx + n;
  gw = gy + n;
  xbuf = gw + n;
  for (size_t i = 0; i < n; i++) {
    xn[i] = samples[i].prefill_tokens;
    xb[i] = samples[i].batch;
    yp[i] = samples[i].prefill_ms;
    yt[i] = samples[i].step_ms;
  }
  {
    size_t db;
    dn = n ? group_points(xn, yp, n, gx, gy, gw) : 0;
    db = dn ? group_sizes(xb, n, mb) : 0;
    if (n && (dn == 0 || db == 0)) {
      sk_errf(err, errlen, "out of memory fitting %zu samples", n);
      st = SK_ENOMEM;
      goto out;
    }
    if (dn < 3 || db < 2) {
      sk_errf(err, errlen,
              "%zu samples with %zu distinct prefill token counts (prompt_size*batch_size) and "
              "%zu distinct batch sizes; the fit needs at least 3 and 2",
              n, dn, db);
      st = SK_EINVAL;
      goto out;
    }
  }

  if (fit_prefill(gx, gy, gw, dn, xbuf, &p) != 0 || fit_line(xb, yt, mb, n, xbuf, w, sc) != 0) {
    sk_errf(err, errlen, "least-squares fit failed on %zu samples", n);
    st = SK_EINVAL;
    goto out;
  }
  p.step_a_ms = sc[0];
  p.step_b_ms_per_seq = sc[1];

  *out = p;
  if (rep != NULL) {
    r.n_rows = (int)n;
    for (size_t i = 0; i < n; i++)
      w[i] = sk_perf_prefill_ms(&p, xn[i]);
    fit_stats(w, yp, n, &r.prefill_max_rel_err, &r.prefill_rms_rel_err, &r.prefill_r2);
    for (size_t i = 0; i < n; i++)
      w[i] = sk_perf_step_ms(&p, xb[i]);
    fit_stats(w, yt, n, &r.step_max_rel_err, &r.step_rms_rel_err, &r.step_r2);
    *rep = r;
  }

out:
  free(buf);
  return st;
}
