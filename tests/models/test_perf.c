/*
 * test_perf.c -- models/src/perf.c and perf_fit.c, and their CSV front end
 * sim/src/perf_csv.c: the compiled-in coefficients are the fit of the reference CSV and
 * the measured range (SK_PERF_MEASURED_*) is that CSV's, the fit stays within the error
 * bounds docs/MODEL.md states, the formulas are monotone, the fit from arrays checks its
 * samples, and bad input gives a status and a message naming the file (and the line and
 * column).
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/perf.h"
#include "skadi/perf_csv.h"

#define PERF_CSV SKADI_SOURCE_DIR "/tests/data/splitwise_perf_model.csv"
#define SCRATCH_CSV SKADI_BINARY_DIR "/test_perf_scratch.csv"

/* Bounds stated in docs/MODEL.md ("Inference timing fit") and perf.h. */
#define PREFILL_MAX_REL_ERR 0.28
#define PREFILL_RMS_REL_ERR 0.11
#define STEP_MAX_REL_ERR 0.09
#define STEP_RMS_REL_ERR 0.03
#define MIN_R2 0.95

/* Coefficients are compiled in rounded to 5 significant digits: relative error <= 5e-5. */
static void assert_rounded(double fitted, double compiled) {
  ck_assert_double_eq_tol(fitted, compiled, 5.0001e-5 * fabs(compiled));
}

static sk_status fit_reference(sk_perf_params *p, sk_perf_fit_report *r, char *err, size_t errlen) {
  return sk_perf_fit_csv(PERF_CSV, "llama2-70b", "h100-80gb", 8, p, r, err, errlen);
}

START_TEST(refit_matches_defaults) {
  sk_perf_params p;
  sk_perf_fit_report r;
  char err[512] = "";
  sk_status st = fit_reference(&p, &r, err, sizeof err);
  ck_assert_msg(st == SK_OK, "fit failed: %s", err);
  ck_assert_int_eq(r.n_rows, 105);
  assert_rounded(p.prefill_a_ms, SK_PERF_DEFAULT_PREFILL_A_MS);
  assert_rounded(p.prefill_b_ms_per_tok, SK_PERF_DEFAULT_PREFILL_B_MS_PER_TOK);
  assert_rounded(p.prefill_floor_ms, SK_PERF_DEFAULT_PREFILL_FLOOR_MS);
  assert_rounded(p.step_a_ms, SK_PERF_DEFAULT_STEP_A_MS);
  assert_rounded(p.step_b_ms_per_seq, SK_PERF_DEFAULT_STEP_B_MS_PER_SEQ);
}
END_TEST

/* The comma-separated fields of line (cut in place) into field[0..max); returns how many. */
static int split(char *line, char **field, int max) {
  int k = 0;
  for (char *save = NULL, *t = strtok_r(line, ",\r\n", &save); t && k < max;
       t = strtok_r(NULL, ",\r\n", &save))
    field[k++] = t;
  return k;
}

/* SK_PERF_MEASURED_*: the longest prompt and the largest prefill iteration of the rows the
 * defaults are fitted to (read here with a plain split: the reference file has no quotes). */
START_TEST(measured_range_matches_csv) {
  FILE *f = fopen(PERF_CSV, "r");
  ck_assert_ptr_nonnull(f);
  char line[1024];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  int col[5] = {-1, -1, -1, -1, -1}; /* model, hardware, prompt_size, batch_size, tp */
  static const char *const names[5] = {"model", "hardware", "prompt_size", "batch_size",
                                       "tensor_parallel"};
  char *field[16];
  int k = split(line, field, 16);
  for (int j = 0; j < k; j++)
    for (int i = 0; i < 5; i++)
      if (strcmp(field[j], names[i]) == 0)
        col[i] = j;
  int last = 0;
  for (int i = 0; i < 5; i++) {
    ck_assert_msg(col[i] >= 0, "no column %s", names[i]);
    last = col[i] > last ? col[i] : last;
  }
  double max_prompt = 0, max_n = 0;
  int rows = 0;
  while (fgets(line, sizeof line, f)) {
    k = split(line, field, 16);
    if (k <= last || strcmp(field[col[0]], "llama2-70b") != 0 ||
        strcmp(field[col[1]], "h100-80gb") != 0 || atoi(field[col[4]]) != 8)
      continue;
    double prompt = atof(field[col[2]]), n = prompt * atof(field[col[3]]);
    max_prompt = fmax(max_prompt, prompt);
    max_n = fmax(max_n, n);
    rows++;
  }
  fclose(f);
  ck_assert_int_eq(rows, 105);
  ck_assert_double_eq(max_prompt, SK_PERF_MEASURED_PROMPT_MAX_TOKENS);
  ck_assert_double_eq(max_n, SK_PERF_MEASURED_PREFILL_MAX_TOKENS);
}
END_TEST

START_TEST(fit_error_within_bounds) {
  sk_perf_params p;
  sk_perf_fit_report r;
  char err[512] = "";
  ck_assert_int_eq(fit_reference(&p, &r, err, sizeof err), SK_OK);
  ck_assert_double_lt(r.prefill_max_rel_err, PREFILL_MAX_REL_ERR);
  ck_assert_double_lt(r.prefill_rms_rel_err, PREFILL_RMS_REL_ERR);
  ck_assert_double_lt(r.step_max_rel_err, STEP_MAX_REL_ERR);
  ck_assert_double_lt(r.step_rms_rel_err, STEP_RMS_REL_ERR);
  ck_assert_double_gt(r.prefill_r2, MIN_R2);
  ck_assert_double_gt(r.step_r2, MIN_R2);
  ck_assert_double_le(r.prefill_rms_rel_err, r.prefill_max_rel_err);
  ck_assert_double_le(r.step_rms_rel_err, r.step_max_rel_err);
}
END_TEST

START_TEST(defaults_and_formulas) {
  sk_perf_params p;
  sk_perf_defaults(&p);
  ck_assert_double_eq(p.prefill_a_ms, SK_PERF_DEFAULT_PREFILL_A_MS);
  ck_assert_double_eq(p.step_b_ms_per_seq, SK_PERF_DEFAULT_STEP_B_MS_PER_SEQ);
  ck_assert_double_eq(p.prefill_floor_ms, SK_PERF_DEFAULT_PREFILL_FLOOR_MS);
  /* max(floor, a + b*N): the floor below the knee (~850 tokens), the line above. */
  ck_assert_double_eq(sk_perf_prefill_ms(&p, 0.0), p.prefill_floor_ms);
  ck_assert_double_eq(sk_perf_prefill_ms(&p, 512.0), p.prefill_floor_ms);
  ck_assert_double_eq_tol(sk_perf_prefill_ms(&p, 1000.0),
                          p.prefill_a_ms + 1000.0 * p.prefill_b_ms_per_tok, 1e-9);
  ck_assert_double_gt(sk_perf_prefill_ms(&p, 1000.0), p.prefill_floor_ms);
  ck_assert_double_eq_tol(sk_perf_step_ms(&p, 10.0), p.step_a_ms + 10.0 * p.step_b_ms_per_seq,
                          1e-12);
  /* Spot values against the measured means (docs/MODEL.md table), loose: the fit's job. */
  ck_assert_double_eq_tol(sk_perf_step_ms(&p, 64.0), 49.98, 0.05 * 49.98);
  ck_assert_double_eq_tol(sk_perf_prefill_ms(&p, 16384.0), 1549.8, 0.10 * 1549.8);
  ck_assert_double_eq_tol(sk_perf_prefill_ms(&p, 256.0), 52.5, 0.10 * 52.5);
}
END_TEST

START_TEST(prefill_nondecreasing_in_tokens) {
  /* Flat up to the knee, then strictly increasing. */
  sk_perf_params p;
  double prev, knee;
  sk_perf_defaults(&p);
  knee = (p.prefill_floor_ms - p.prefill_a_ms) / p.prefill_b_ms_per_tok;
  ck_assert_double_gt(knee, 512.0);
  ck_assert_double_lt(knee, 1024.0);
  prev = sk_perf_prefill_ms(&p, 0.0);
  ck_assert_double_gt(prev, 0.0);
  for (double n = 1.0; n <= 131072.0; n += 1.0) {
    double t = sk_perf_prefill_ms(&p, n);
    if (n > knee + 1.0)
      ck_assert_double_gt(t, prev);
    else
      ck_assert_double_ge(t, prev);
    prev = t;
  }
}
END_TEST

START_TEST(step_increasing_in_batch) {
  sk_perf_params p;
  double prev;
  sk_perf_defaults(&p);
  prev = sk_perf_step_ms(&p, 0.0);
  ck_assert_double_gt(prev, 0.0);
  for (double b = 1.0; b <= 1024.0; b += 1.0) {
    double t = sk_perf_step_ms(&p, b);
    ck_assert_double_gt(t, prev);
    prev = t;
  }
}
END_TEST

static void untouched(const sk_perf_params *p) {
  ck_assert_double_eq(p->prefill_a_ms, -1.0);
  ck_assert_double_eq(p->step_b_ms_per_seq, -1.0);
}

static void sentinel(sk_perf_params *p, sk_perf_fit_report *r) {
  p->prefill_a_ms = p->prefill_b_ms_per_tok = p->prefill_floor_ms = -1.0;
  p->step_a_ms = p->step_b_ms_per_seq = -1.0;
  memset(r, 0, sizeof *r);
}

START_TEST(bad_path_names_path) {
  const char *path = SKADI_BINARY_DIR "/no/such/dir/perf_model.csv";
  sk_perf_params p;
  sk_perf_fit_report r;
  char err[512] = "";
  sentinel(&p, &r);
  ck_assert_int_eq(sk_perf_fit_csv(path, "llama2-70b", "h100-80gb", 8, &p, &r, err, sizeof err),
                   SK_EIO);
  ck_assert_msg(strstr(err, path) != NULL, "message does not name the path: %s", err);
  untouched(&p);
  ck_assert_int_eq(r.n_rows, 0);
}
END_TEST

START_TEST(no_matching_rows_names_path) {
  sk_perf_params p;
  sk_perf_fit_report r;
  char err[512] = "";
  sentinel(&p, &r);
  ck_assert_int_eq(sk_perf_fit_csv(PERF_CSV, "llama2-70b", "h100-80gb", 3, &p, &r, err, sizeof err),
                   SK_ENOTFOUND);
  ck_assert_msg(strstr(err, PERF_CSV) != NULL, "message does not name the path: %s", err);
  ck_assert_ptr_nonnull(strstr(err, "tensor_parallel=3"));
  ck_assert_int_eq(
      sk_perf_fit_csv(PERF_CSV, "no-such-model", "h100-80gb", 8, &p, &r, err, sizeof err),
      SK_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(err, PERF_CSV));
  /* "h100-80gb" must not match "h100-80gb-pcap" rows: exact comparison. */
  ck_assert_int_eq(sk_perf_fit_csv(PERF_CSV, "llama2-70b", "h100", 8, &p, &r, err, sizeof err),
                   SK_ENOTFOUND);
  untouched(&p);
}
END_TEST

/* Writes `text` to the scratch CSV and fits it; returns the status, message in err. */
static sk_status fit_text(const char *text, sk_perf_params *p, char *err, size_t errlen) {
  FILE *f = fopen(SCRATCH_CSV, "w");
  sk_status st;
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fputs(text, f) >= 0, 1);
  ck_assert_int_eq(fclose(f), 0);
  st = sk_perf_fit_csv(SCRATCH_CSV, "m", "h", 8, p, NULL, err, errlen);
  remove(SCRATCH_CSV);
  return st;
}

#define HDR "model,hardware,prompt_size,batch_size,prompt_time,token_time,tensor_parallel\n"

START_TEST(malformed_csv_gives_status) {
  sk_perf_params p;
  char err[512] = "";
  ck_assert_int_eq(fit_text("", &p, err, sizeof err), SK_EPARSE);
  ck_assert_ptr_nonnull(strstr(err, SCRATCH_CSV));
  ck_assert_int_eq(fit_text("model,hardware,prompt_size\nm,h,1\n", &p, err, sizeof err), SK_EPARSE);
  ck_assert_ptr_nonnull(strstr(err, "batch_size"));
  ck_assert_int_eq(fit_text(HDR "m,h,128,1,abc,30,8\n", &p, err, sizeof err), SK_EPARSE);
  ck_assert_ptr_nonnull(strstr(err, ":2: prompt_time"));
  ck_assert_int_eq(fit_text(HDR "m,h,128,1,50\n", &p, err, sizeof err), SK_EPARSE);
  ck_assert_int_eq(fit_text(HDR "m,h,128,1,-5,30,8\n", &p, err, sizeof err), SK_ERANGE);
  ck_assert_ptr_nonnull(strstr(err, ":2: prompt_time: must be > 0, got -5"));
  ck_assert_int_eq(fit_text(HDR "m,h,128,1,50,30,8.5\n", &p, err, sizeof err), SK_EPARSE);
  ck_assert_ptr_nonnull(strstr(err, ":2: tensor_parallel: \"8.5\" is not an integer"));
  ck_assert_int_eq(fit_text(HDR "m,h,0x80,1,50,30,8\n", &p, err, sizeof err), SK_EPARSE);
  ck_assert_ptr_nonnull(strstr(err, ":2: prompt_size: \"0x80\" is not a number"));
  ck_assert_int_eq(fit_text("model,model,hardware,prompt_size,batch_size,prompt_time,token_time,"
                            "tensor_parallel\n",
                            &p, err, sizeof err),
                   SK_EPARSE);
  ck_assert_ptr_nonnull(strstr(err, "column \"model\" appears twice"));
  ck_assert_int_eq(fit_text(HDR "m,h,128,1,50,30,8\nm,h,256,2,60,31,8\n", &p, err, sizeof err),
                   SK_EINVAL);
  /* Bad numbers in rows the filter drops are not parsed. */
  ck_assert_int_eq(fit_text(HDR "x,h,bad,bad,bad,bad,8\nm,h,128,1,50,30,8\nm,h,256,2,60,31,8\n"
                                "m,h,512,4,90,33,8\n",
                            &p, err, sizeof err),
                   SK_OK);
}
END_TEST

/* Writes rows generated from max(floor, a + b*N) and d + e*B at prompt_size 256*2^i,
 * batch_size 2^i (N = 256, 1024, ... 262144) and fits them: the fit must return the
 * coefficients.  Columns in another order, CRLF and a blank line on the way. */
static void check_exact(double a, double b, double floor_ms) {
  char text[4096];
  size_t len = 0;
  sk_perf_params p;
  char err[512] = "";
  const double d = 30.0, e = 0.3;
  len += (size_t)snprintf(text, sizeof text,
                          "tensor_parallel,token_time,prompt_time,batch_size,prompt_size,"
                          "hardware,model\r\n\r\n");
  for (int i = 0; i < 6; i++) {
    double ps = 256.0 * (double)(1 << i), bs = (double)(1 << i), n = ps * bs;
    double line = a + b * n;
    len += (size_t)snprintf(text + len, sizeof text - len, "8,%.17g,%.17g,%g,%g,h,m\r\n",
                            d + e * bs, line > floor_ms ? line : floor_ms, bs, ps);
  }
  ck_assert_msg(fit_text(text, &p, err, sizeof err) == SK_OK, "fit failed: %s", err);
  ck_assert_double_eq_tol(p.prefill_a_ms, a, 1e-6);
  ck_assert_double_eq_tol(p.prefill_b_ms_per_tok, b, 1e-9);
  ck_assert_double_eq_tol(p.prefill_floor_ms, floor_ms, 1e-6);
  ck_assert_double_eq_tol(p.step_a_ms, d, 1e-9);
  ck_assert_double_eq_tol(p.step_b_ms_per_seq, e, 1e-10);
}

START_TEST(exact_data_recovered) {
  check_exact(-20.0, 0.08, 50.0);              /* knee at 875 tokens, between two sizes */
  check_exact(50.0 - 0.08 * 4096, 0.08, 50.0); /* knee on a size, 4096 */
  check_exact(-20.0, 0.08, 100.0);             /* knee at 1500, two sizes on the floor */
}
END_TEST

/* The shared CSV dialect: quoted fields, blanks around fields, a BOM, CRLF, a blank line. */
START_TEST(csv_dialect) {
  sk_perf_params p;
  char err[512] = "";
  ck_assert_int_eq(fit_text("\xEF\xBB\xBF" HDR "\n\"m\",\"h\", 128 ,1,50,30,8\r\n"
                            "m,h,256,2,60,31,\"8\"\nm, h ,512,4,90,33,8\n",
                            &p, err, sizeof err),
                   SK_OK);
}
END_TEST

/* sk_perf_fit on arrays: the same numbers as through the CSV, and its own checks. */
START_TEST(fit_from_arrays) {
  sk_perf_sample s[6];
  sk_perf_params p, q;
  sk_perf_fit_report r;
  char err[512] = "";
  for (int i = 0; i < 6; i++) {
    double bs = (double)(1 << i), n = 256.0 * bs * bs, line = -20.0 + 0.08 * n;
    s[i] = (sk_perf_sample){n, bs, line > 50.0 ? line : 50.0, 30.0 + 0.3 * bs};
  }
  ck_assert_msg(sk_perf_fit(s, 6, &p, &r, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(r.n_rows, 6);
  ck_assert_double_eq_tol(p.prefill_b_ms_per_tok, 0.08, 1e-9);
  ck_assert_double_eq_tol(p.prefill_floor_ms, 50.0, 1e-6);
  ck_assert_double_eq_tol(p.step_b_ms_per_seq, 0.3, 1e-10);
  q = p;
  s[2].prefill_ms = 0.0;
  ck_assert_int_eq(sk_perf_fit(s, 6, &q, NULL, err, sizeof err), SK_ERANGE);
  ck_assert_str_eq(err, "sample 2: prefill_ms must be finite and > 0, got 0");
  s[2].prefill_ms = NAN;
  ck_assert_int_eq(sk_perf_fit(s, 6, &q, NULL, err, sizeof err), SK_ERANGE);
  ck_assert_int_eq(sk_perf_fit(s, 2, &q, NULL, err, sizeof err), SK_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "the fit needs at least 3 and 2"));
  ck_assert_int_eq(sk_perf_fit(NULL, 0, &q, NULL, err, sizeof err), SK_EINVAL);
  ck_assert_double_eq(q.prefill_b_ms_per_tok, p.prefill_b_ms_per_tok); /* untouched */
}
END_TEST

START_TEST(falling_data_gives_constant) {
  /* Prefill time falling with N: no b > 0 helps, so the fit is the constant, the mean
   * weighted by 1/t^2 (one row per N, m = 1): sum(1/t) / sum(1/t^2). */
  sk_perf_params p;
  char err[512] = "";
  const double t[4] = {100, 90, 80, 70};
  double s1 = 0.0, s2 = 0.0;
  for (int i = 0; i < 4; i++) {
    s1 += 1.0 / t[i];
    s2 += 1.0 / (t[i] * t[i]);
  }
  ck_assert_int_eq(fit_text(HDR "m,h,1000,1,100,30,8\nm,h,1000,2,90,30.5,8\n"
                                "m,h,1000,4,80,31,8\nm,h,1000,8,70,32,8\n",
                            &p, err, sizeof err),
                   SK_OK);
  ck_assert_double_eq(p.prefill_b_ms_per_tok, 0.0);
  ck_assert_double_eq_tol(p.prefill_floor_ms, s1 / s2, 1e-9);
  ck_assert_double_eq(p.prefill_a_ms, p.prefill_floor_ms);
  ck_assert_double_eq(sk_perf_prefill_ms(&p, 8000.0), p.prefill_floor_ms);
}
END_TEST

static Suite *perf_suite(void) {
  Suite *s = suite_create("perf");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, refit_matches_defaults);
  tcase_add_test(tc, fit_error_within_bounds);
  tcase_add_test(tc, measured_range_matches_csv);
  tcase_add_test(tc, defaults_and_formulas);
  tcase_add_test(tc, prefill_nondecreasing_in_tokens);
  tcase_add_test(tc, step_increasing_in_batch);
  tcase_add_test(tc, bad_path_names_path);
  tcase_add_test(tc, no_matching_rows_names_path);
  tcase_add_test(tc, malformed_csv_gives_status);
  tcase_add_test(tc, exact_data_recovered);
  tcase_add_test(tc, falling_data_gives_constant);
  tcase_add_test(tc, csv_dialect);
  tcase_add_test(tc, fit_from_arrays);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(perf_suite());
  int failed;
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
