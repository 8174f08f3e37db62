/*
 * trace.c -- loads a request trace in the Azure LLM inference trace 2023 format:
 *
 *   TIMESTAMP,ContextTokens,GeneratedTokens
 *   2023-11-16 18:15:46.6805900,374,44
 *
 * into three plain arrays (times in s since the first request, prompt and output token
 * counts) that the workload model replays.
 *
 * Timestamps are converted without the C library's time functions: mktime() and friends
 * read the time zone and locale, so the same file could give different times on two
 * machines.  The date becomes a day number (Howard Hinnant's days_from_civil), the time of
 * day and up to 7 fractional digits become an integer count of 100 ns ticks, and only the
 * difference from the first row is turned into a double -- exact to 100 ns for any trace
 * shorter than ~29 years.  The timestamps carry no zone; all rows are taken to share one.
 *
 * The file is read whole (a cap keeps a wrong path from eating memory) and parsed in
 * place.  Lines may end in \n or \r\n (the published files use \r\n and have no final
 * newline); a UTF-8 byte-order mark is skipped; blank lines are ignored.  Anything else
 * that is not a valid row is an error naming path:line and the column, and nothing is
 * left allocated.  Rows must not go back in time (the published traces are sorted).
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/trace.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileutil.h"
#include "timeparse.h"

#define MAX_TRACE_BYTES (1u << 30) /* 1 GiB: ~30 M rows; the Azure files are < 1 MB */
#define TICKS_PER_S 10000000LL     /* 100 ns ticks: the traces have 7 fractional digits */

static const char header[] = "TIMESTAMP,ContextTokens,GeneratedTokens";
static const char *const columns[3] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};

/* Consumes one of the characters in `any` at *p. */
static int expect(const char **p, const char *end, const char *any) {
  if (*p >= end || **p == '\0' || strchr(any, **p) == NULL)
    return 0;
  (*p)++;
  return 1;
}

/* "YYYY-MM-DD HH:MM:SS[.fffffff]" (or 'T' between date and time) -> 100 ns ticks since
 * 1970-01-01 in the trace's own zone.  0 with a reason on bad text. */
static int parse_timestamp(const char *s, const char *end, long long *ticks, char *reason,
                           size_t rlen) {
  const char *p = s;
  int y, mo, d, h, mi, sec;
  if (!sk__read_digits(&p, end, 4, &y) || !expect(&p, end, "-") ||
      !sk__read_digits(&p, end, 2, &mo) || !expect(&p, end, "-") ||
      !sk__read_digits(&p, end, 2, &d) || !expect(&p, end, " T") ||
      !sk__read_digits(&p, end, 2, &h) || !expect(&p, end, ":") ||
      !sk__read_digits(&p, end, 2, &mi) || !expect(&p, end, ":") ||
      !sk__read_digits(&p, end, 2, &sec)) {
    snprintf(reason, rlen, "expected a time like 2023-11-16 18:15:46.6805900, got \"%.*s\"",
             (int)(end - s > 40 ? 40 : end - s), s);
    return 0;
  }
  long long frac = 0;
  if (p < end && *p == '.') {
    p++;
    int n = 0;
    while (p < end && *p >= '0' && *p <= '9' && n < 7) {
      frac = frac * 10 + (*p - '0');
      p++;
      n++;
    }
    if (n == 0 || (p < end && *p >= '0' && *p <= '9')) {
      snprintf(reason, rlen, "expected 1 to 7 digits after the seconds' decimal point");
      return 0;
    }
    for (; n < 7; n++)
      frac *= 10;
  }
  if (p != end) {
    snprintf(reason, rlen, "unexpected \"%.*s\" after the time", (int)(end - p > 20 ? 20 : end - p),
             p);
    return 0;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > sk__days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59) {
    snprintf(reason, rlen, "not a valid date and time: \"%.*s\"", (int)(end - s), s);
    return 0;
  }
  long long secs = sk__days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec;
  *ticks = secs * TICKS_PER_S + frac;
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

static sk_status read_all(const char *path, char **out, size_t *len, char *err, size_t errlen) {
  const char *step;
  char why[160];
  sk_status st = sk__read_file(path, MAX_TRACE_BYTES, out, len, &step, why, sizeof why);
  if (st == SK_EIO)
    sk_errf(err, errlen, "%s: %s: %s", path, step, why);
  else if (st != SK_OK)
    sk_errf(err, errlen, "%s: %s", path, why);
  return st;
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

sk_status sk_trace_load(sk_trace *tr, const char *path, char *err, size_t errlen) {
  assert(tr != NULL && path != NULL);
  memset(tr, 0, sizeof *tr);
  char *text;
  size_t len;
  sk_status st = read_all(path, &text, &len, err, errlen);
  if (st != SK_OK)
    return st;

  char reason[160];
  size_t cap = 0;
  long long first = 0, prev = 0;
  size_t prev_line = 0, lineno = 0;
  int seen_header = 0;
  const char *p = text, *end = text + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  st = SK_OK;
  while (p < end && st == SK_OK) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *next = eol ? eol + 1 : end;
    const char *le = eol ? eol : end;
    if (le > p && le[-1] == '\r')
      le--;
    lineno++;
    const char *line = p;
    p = next;
    if (le == line)
      continue; /* blank line */
    if (!seen_header) {
      if ((size_t)(le - line) != sizeof header - 1 || memcmp(line, header, sizeof header - 1)) {
        sk_errf(err, errlen, "%s:%zu: header: expected \"%s\", got \"%.*s\"%s", path, lineno, header,
               (int)(le - line > 60 ? 60 : le - line), line,
               (line[0] >= '0' && line[0] <= '9') ? " (missing header?)" : "");
        st = SK_EPARSE;
        break;
      }
      seen_header = 1;
      continue;
    }
    /* Split into exactly three fields. */
    const char *f[4];
    const char *fe[3];
    int nf = 0;
    f[0] = line;
    for (const char *q = line; q <= le && nf < 3; q++) {
      if (q == le || *q == ',') {
        fe[nf++] = q;
        f[nf] = q + 1;
        if (q == le)
          break;
      }
    }
    if (nf < 3 || fe[2] != le) {
      int count = 1;
      for (const char *q = line; q < le; q++)
        count += *q == ',';
      sk_errf(err, errlen, "%s:%zu: %s: expected 3 columns (%s), got %d", path, lineno,
             count < 3 ? columns[count] : "row", header, count);
      st = SK_EPARSE;
      break;
    }
    long long ticks;
    if (!parse_timestamp(f[0], fe[0], &ticks, reason, sizeof reason)) {
      sk_errf(err, errlen, "%s:%zu: %s: %s", path, lineno, columns[0], reason);
      st = SK_EPARSE;
      break;
    }
    int32_t in_tok, out_tok;
    if (!parse_tokens(f[1], fe[1], &in_tok, reason, sizeof reason)) {
      sk_errf(err, errlen, "%s:%zu: %s: %s", path, lineno, columns[1], reason);
      st = SK_EPARSE;
      break;
    }
    if (!parse_tokens(f[2], fe[2], &out_tok, reason, sizeof reason)) {
      sk_errf(err, errlen, "%s:%zu: %s: %s", path, lineno, columns[2], reason);
      st = SK_EPARSE;
      break;
    }
    if (tr->n == 0) {
      first = ticks;
    } else if (ticks < prev) {
      sk_errf(err, errlen,
             "%s:%zu: %s: goes back in time by %.7f s (line %zu is later); the "
             "trace must be sorted by time",
             path, lineno, columns[0], (double)(prev - ticks) / (double)TICKS_PER_S, prev_line);
      st = SK_EPARSE;
      break;
    }
    if (!grow(tr, &cap, tr->n + 1)) {
      sk_errf(err, errlen, "%s: out of memory at line %zu", path, lineno);
      st = SK_ENOMEM;
      break;
    }
    tr->t_s[tr->n] = (double)(ticks - first) / (double)TICKS_PER_S;
    tr->in_tokens[tr->n] = in_tok;
    tr->out_tokens[tr->n] = out_tok;
    tr->n++;
    prev = ticks;
    prev_line = lineno;
  }
  free(text);
  if (st == SK_OK && !seen_header) {
    sk_errf(err, errlen, "%s:1: header: the file is empty (expected \"%s\")", path, header);
    st = SK_EPARSE;
  } else if (st == SK_OK && tr->n < 2) {
    sk_errf(err, errlen, "%s:%zu: %s: %zu request%s; a trace needs at least two", path, lineno,
           columns[0], tr->n, tr->n == 1 ? "" : "s");
    st = SK_EPARSE;
  } else if (st == SK_OK && tr->t_s[tr->n - 1] <= 0) {
    sk_errf(err, errlen,
           "%s:%zu: %s: every request has the same time; a trace must span more "
           "than 0 s",
           path, lineno, columns[0]);
    st = SK_EPARSE;
  }
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
