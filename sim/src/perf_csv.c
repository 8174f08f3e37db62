/*
 * perf_csv.c -- sk_perf_fit_csv: SplitwiseSim's perf_model.csv in, sk_perf_fit's
 * coefficients out (contract in skadi/perf_csv.h).
 *
 * Split from models/src/perf_fit.c so that models/ does no I/O and the CSV is read by the
 * one shared reader (skadi/csv.h) -- sim/ may call down into models/, not the other way.
 * The file's rows become sk_perf_sample arrays; the fitting is all in models/.  Rows are
 * filtered before their numbers are parsed, so junk in another model's rows is no error.
 * Rejected: passing a row callback down into models/ (the fit needs every sample at once
 * anyway, and a callback would still be I/O reached from models/).
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/perf_csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/csv.h"
#include "skadi/require.h"

#define MAX_RECORD_BYTES 4096
#define MAX_FIELDS 64
#define MAX_ROWS 1000000

enum { COL_MODEL, COL_HW, COL_PROMPT, COL_BATCH, COL_PTIME, COL_TTIME, COL_TP, N_COLS };
static const char *const col_names[N_COLS] = {
    "model",       "hardware",   "prompt_size",     "batch_size",
    "prompt_time", "token_time", "tensor_parallel",
};

/* Appends one sample, growing *rows; SK_ERANGE past MAX_ROWS. */
static sk_status push(const sk_csv *r, sk_perf_sample **rows, size_t *n, size_t *cap,
                      const sk_perf_sample *s, char *err, size_t errlen) {
  if (*n == *cap) {
    if (*n == MAX_ROWS) {
      sk_csv_errf(r, SK_CSV_RECORD, err, errlen, "more than %d matching rows", MAX_ROWS);
      return SK_ERANGE;
    }
    size_t nc = *cap ? 2 * *cap : 128;
    if (nc > MAX_ROWS)
      nc = MAX_ROWS;
    sk_perf_sample *t = realloc(*rows, nc * sizeof *t);
    if (t == NULL) {
      sk_errf(err, errlen, "%s: out of memory after %zu rows", sk_csv_name(r), *n);
      return SK_ENOMEM;
    }
    *rows = t;
    *cap = nc;
  }
  (*rows)[(*n)++] = *s;
  return SK_OK;
}

/* The current row, if it matches the filter, as a sample: SK_OK with *match. */
static sk_status read_row(const sk_csv *r, const size_t *col, size_t need, const char *model,
                          const char *hardware, int tensor_parallel, int *match, sk_perf_sample *s,
                          char *err, size_t errlen) {
  static const int num_cols[4] = {COL_PROMPT, COL_BATCH, COL_PTIME, COL_TTIME};
  size_t nf = sk_csv_field_count(r);
  double v[4], tp;
  sk_status st;
  *match = 0;
  if (nf < need) {
    sk_csv_errf(r, SK_CSV_RECORD, err, errlen, "%zu fields, the header's columns need %zu", nf,
                need);
    return SK_EPARSE;
  }
  if (strcmp(sk_csv_field(r, col[COL_MODEL]), model) != 0 ||
      strcmp(sk_csv_field(r, col[COL_HW]), hardware) != 0)
    return SK_OK;
  if (sk_csv_number(sk_csv_field(r, col[COL_TP]), &tp) != SK_OK || tp != floor(tp)) {
    sk_csv_errf(r, col[COL_TP], err, errlen, "\"%.40s\" is not an integer",
                sk_csv_field(r, col[COL_TP]));
    return SK_EPARSE;
  }
  if (tp != (double)tensor_parallel)
    return SK_OK;
  for (int k = 0; k < 4; k++) {
    if ((st = sk_csv_field_number(r, col[num_cols[k]], &v[k], err, errlen)) != SK_OK)
      return st;
    if (!(v[k] > 0.0)) {
      sk_csv_errf(r, col[num_cols[k]], err, errlen, "must be > 0, got %g", v[k]);
      return SK_ERANGE;
    }
  }
  s->prefill_tokens = v[0] * v[1];
  s->batch = v[1];
  s->prefill_ms = v[2];
  s->step_ms = v[3];
  *match = 1;
  return SK_OK;
}

/* Reads the matching rows into *rows_out (caller frees) and their count into *n_out. */
static sk_status read_rows(const char *path, const char *model, const char *hardware,
                           int tensor_parallel, sk_perf_sample **rows_out, size_t *n_out, char *err,
                           size_t errlen) {
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.ragged = 1; /* only the columns named in the header count */
  o.delimiter = SK_CSV_SNIFF;
  o.skip_trailer = 1;
  o.max_record_bytes = MAX_RECORD_BYTES;
  o.max_fields = MAX_FIELDS;
  sk_csv *r;
  sk_status st = sk_csv_create(&r, path, &o, err, errlen);
  if (st != SK_OK)
    return st == SK_ENOTFOUND ? SK_EIO : st;
  size_t col[N_COLS], need = 0;
  if ((st = sk_csv_read_header(r, err, errlen)) == SK_OK)
    for (int c = 0; c < N_COLS && st == SK_OK; c++) {
      if ((st = sk_csv_column(r, col_names[c], &col[c], err, errlen)) == SK_ENOTFOUND)
        st = SK_EPARSE;
      if (st == SK_OK && col[c] >= need)
        need = col[c] + 1;
    }
  sk_perf_sample *rows = NULL, s;
  size_t n = 0, cap = 0;
  int more = 0, match;
  while (st == SK_OK && (st = sk_csv_next(r, &more, err, errlen)) == SK_OK && more)
    if ((st = read_row(r, col, need, model, hardware, tensor_parallel, &match, &s, err, errlen)) ==
            SK_OK &&
        match)
      st = push(r, &rows, &n, &cap, &s, err, errlen);
  if (st == SK_OK && n == 0) {
    sk_errf(err, errlen, "%s: no rows with model=%s, hardware=%s, tensor_parallel=%d", path, model,
            hardware, tensor_parallel);
    st = SK_ENOTFOUND;
  }
  sk_csv_destroy(r);
  if (st != SK_OK) {
    free(rows);
    return st;
  }
  *rows_out = rows;
  *n_out = n;
  return SK_OK;
}

sk_status sk_perf_fit_csv(const char *path, const char *model, const char *hardware,
                          int tensor_parallel, sk_perf_params *out, sk_perf_fit_report *rep,
                          char *err, size_t errlen) {
  SK_REQUIRE(path != NULL && model != NULL && hardware != NULL && out != NULL);
  sk_perf_sample *rows;
  size_t n;
  sk_status st = read_rows(path, model, hardware, tensor_parallel, &rows, &n, err, errlen);
  if (st != SK_OK)
    return st;
  char why[256];
  st = sk_perf_fit(rows, n, out, rep, why, sizeof why);
  if (st != SK_OK)
    sk_errf(err, errlen, "%s: %s", path, why);
  free(rows);
  return st;
}
