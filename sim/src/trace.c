/*
 * trace.c -- loads a request trace in the Azure LLM inference trace 2023 format:
 *
 *   TIMESTAMP,ContextTokens,GeneratedTokens
 *   2023-11-16 18:15:46.6805900,374,44
 *
 * into three plain arrays (times in s since the first request, prompt and output token
 * counts) that the workload model replays.
 *
 * The file is streamed through the shared CSV reader (skadi/csv.h: LF or CRLF -- the
 * published files use CRLF and have no final newline --, a UTF-8 byte-order mark, blank
 * lines, quoting) and the shared time-stamp parser (skadi/timestamp.h).  The header must be
 * exactly the three columns above, in that order, and every row must have those three
 * fields: the format is one published file format, not a family.
 *
 * Timestamps are parsed without the C library's time functions (which read the time zone
 * and locale) into int64 ns; they carry no zone, and all rows are taken to share one, so
 * a zone suffix is refused.  At most 7 fractional digits are taken -- the traces' 100 ns
 * ticks -- and the times are kept as integer ticks; only the difference from the first row
 * becomes a double, exact to 100 ns for any trace shorter than ~29 years.  Anything that is
 * not a valid row is an error naming path:line and the column, and nothing is left
 * allocated.  Rows must not go back in time (the published traces are sorted).
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/csv.h"
#include "skadi/require.h"
#include "skadi/timestamp.h"

#define MAX_TRACE_ROWS                                                                             \
  (1u << 25)              /* ~33 M requests, 0.5 GB of arrays; the Azure files have < 30 k */
#define NS_PER_TICK 100LL /* the traces' 7 fractional digits */
#define TICKS_PER_S 10000000LL

static const char header[] = "TIMESTAMP,ContextTokens,GeneratedTokens";
static const char *const columns[3] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};

/* "YYYY-MM-DD HH:MM:SS[.fffffff]" (or 'T' between date and time) -> 100 ns ticks since
 * 1970-01-01 in the trace's own zone.  0 with a reason on bad text. */
static int parse_timestamp(const char *s, size_t len, long long *ticks, char *reason, size_t rlen) {
  sk_time_opts o;
  sk_time_opts_init(&o);
  o.forms = SK_TIME_ISO_T | SK_TIME_ISO_SPACE;
  o.max_frac_digits = 7;
  int64_t t_ns;
  if (sk_time_parse(s, len, &o, &t_ns, reason, rlen) != SK_OK)
    return 0;
  *ticks = (long long)(t_ns / NS_PER_TICK); /* exact: at most 7 digits */
  return 1;
}

/* A token count: decimal digits only, 1..INT32_MAX. */
static int parse_tokens(const char *s, const char *end, int32_t *out, char *reason, size_t rlen) {
  long long v = 0;
  const char *p = s;
  if (p == end) {
    snprintf(reason, rlen, "empty; expected a token count >= 1");
    return 0;
  }
  for (; p < end; p++) {
    if (*p < '0' || *p > '9') {
      snprintf(reason, rlen, "expected a whole token count >= 1, got \"%.*s\"",
               (int)(end - s > 30 ? 30 : end - s), s);
      return 0;
    }
    v = v * 10 + (*p - '0');
    if (v > INT32_MAX) {
      snprintf(reason, rlen, "token count %.*s is too large", (int)(end - s > 30 ? 30 : end - s),
               s);
      return 0;
    }
  }
  if (v < 1) {
    snprintf(reason, rlen, "expected a token count >= 1, got %lld", v);
    return 0;
  }
  *out = (int32_t)v;
  return 1;
}

/* Grows the three arrays to hold at least `need` rows. */
static int grow(sk_trace *tr, size_t *cap, size_t need) {
  if (need <= *cap)
    return 1;
  size_t nc = *cap ? *cap * 2 : 4096;
  double *t = realloc(tr->t_s, nc * sizeof *t);
  if (t == NULL)
    return 0;
  tr->t_s = t;
  int32_t *in = realloc(tr->in_tokens, nc * sizeof *in);
  if (in == NULL)
    return 0;
  tr->in_tokens = in;
  int32_t *out = realloc(tr->out_tokens, nc * sizeof *out);
  if (out == NULL)
    return 0;
  tr->out_tokens = out;
  *cap = nc;
  return 1;
}

/* The header must be the three columns, in order. */
static sk_status check_header(const sk_csv *r, char *err, size_t errlen) {
  size_t n = sk_csv_header_count(r);
  int ok = n == 3;
  for (size_t i = 0; ok && i < 3; i++)
    ok = strcmp(sk_csv_header_name(r, i), columns[i]) == 0;
  if (ok)
    return SK_OK;
  char got[64] = "";
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(got);
    snprintf(got + l, sizeof got - l, "%s%s", i ? "," : "", sk_csv_header_name(r, i));
  }
  const char *first = sk_csv_header_name(r, 0);
  sk_csv_errf(r, SK_CSV_RECORD, err, errlen, "header: expected \"%s\", got \"%.60s\"%s", header,
              got, (first[0] >= '0' && first[0] <= '9') ? " (missing header?)" : "");
  return SK_EPARSE;
}

/* Reads the current record into row tr->n; *ticks gets its time. */
static sk_status read_row(const sk_csv *r, long long *ticks, int32_t *in_tok, int32_t *out_tok,
                          char *err, size_t errlen) {
  char reason[160];
  size_t nf = sk_csv_field_count(r);
  if (nf < 3) {
    sk_csv_errf(r, nf, err, errlen, "expected 3 columns (%s), got %zu", header, nf);
    return SK_EPARSE;
  }
  if (nf > 3) {
    sk_csv_errf(r, SK_CSV_RECORD, err, errlen, "row: expected 3 columns (%s), got %zu", header, nf);
    return SK_EPARSE;
  }
  int32_t *tok[3] = {NULL, in_tok, out_tok};
  for (size_t i = 0; i < 3; i++) {
    const char *s = sk_csv_field(r, i);
    size_t len = sk_csv_field_len(r, i);
    int ok = i == 0 ? parse_timestamp(s, len, ticks, reason, sizeof reason)
                    : parse_tokens(s, s + len, tok[i], reason, sizeof reason);
    if (!ok) {
      sk_csv_errf(r, i, err, errlen, "%s", reason);
      return SK_EPARSE;
    }
  }
  return SK_OK;
}

sk_status sk_trace_load(sk_trace *tr, const char *path, char *err, size_t errlen) {
  SK_REQUIRE(tr != NULL && path != NULL);
  memset(tr, 0, sizeof *tr);
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.ragged = 1; /* read_row names the missing column */
  sk_csv *r;
  sk_status st = sk_csv_create(&r, path, &o, err, errlen);
  if (st != SK_OK)
    return st == SK_ENOTFOUND ? SK_EIO : st;
  if ((st = sk_csv_read_header(r, err, errlen)) == SK_OK)
    st = check_header(r, err, errlen);

  size_t cap = 0, prev_line = 0;
  long long first = 0, prev = 0;
  int more = 0;
  while (st == SK_OK && (st = sk_csv_next(r, &more, err, errlen)) == SK_OK && more) {
    long long ticks = 0;
    int32_t in_tok, out_tok;
    if ((st = read_row(r, &ticks, &in_tok, &out_tok, err, errlen)) != SK_OK)
      break;
    if (tr->n == 0) {
      first = ticks;
    } else if (ticks < prev) {
      sk_csv_errf(r, 0, err, errlen,
                  "goes back in time by %.7f s (line %zu is later); the trace must be sorted "
                  "by time",
                  (double)(prev - ticks) / (double)TICKS_PER_S, prev_line);
      st = SK_EPARSE;
      break;
    }
    if (tr->n == MAX_TRACE_ROWS) {
      sk_csv_errf(r, SK_CSV_RECORD, err, errlen, "more than %u requests", MAX_TRACE_ROWS);
      st = SK_ERANGE;
      break;
    }
    if (!grow(tr, &cap, tr->n + 1)) {
      sk_errf(err, errlen, "%s: out of memory at line %zu", path, sk_csv_line(r));
      st = SK_ENOMEM;
      break;
    }
    tr->t_s[tr->n] = (double)(ticks - first) / (double)TICKS_PER_S;
    tr->in_tokens[tr->n] = in_tok;
    tr->out_tokens[tr->n] = out_tok;
    tr->n++;
    prev = ticks;
    prev_line = sk_csv_line(r);
  }
  /* at the end of input, errors about the whole trace point at its last line */
  if (st == SK_OK && tr->n < 2) {
    sk_csv_errf(r, 0, err, errlen, "%zu request%s; a trace needs at least two", tr->n,
                tr->n == 1 ? "" : "s");
    st = SK_EPARSE;
  } else if (st == SK_OK && tr->t_s[tr->n - 1] <= 0) {
    sk_csv_errf(r, 0, err, errlen,
                "every request has the same time; a trace must span more than 0 s");
    st = SK_EPARSE;
  }
  sk_csv_destroy(r);
  if (st != SK_OK) {
    sk_trace_fini(tr);
    return st;
  }
  tr->span_s = tr->t_s[tr->n - 1];
  return SK_OK;
}

void sk_trace_fini(sk_trace *tr) {
  if (tr == NULL)
    return;
  free(tr->t_s);
  free(tr->in_tokens);
  free(tr->out_tokens);
  memset(tr, 0, sizeof *tr);
}
