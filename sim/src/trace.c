/*
 * trace.c -- loads a request trace (formats in skadi/trace.h, docs/SCENARIOS.md) into
 * three plain arrays (times in s since the first request, prompt and output token counts)
 * that the workload model replays.
 *
 * Every format is read into one array of (time in int64 ns, prompt, output) rows, sorted
 * stably by time, then split into the three arrays; only the difference from the first
 * row becomes a double, exact to the ns for any trace shorter than ~100 days.  Times go
 * through the shared time-stamp parser (skadi/timestamp.h), never the C library's.
 *
 * CSV formats (Azure, BurstGPT) are streamed through the shared CSV reader (skadi/csv.h:
 * LF or CRLF -- the published Azure files use CRLF and have no final newline --, a UTF-8
 * byte-order mark, blank lines, quoting, a sniffed delimiter, trailing non-data lines
 * skipped).  The Azure header must be exactly its three columns, in order, and every row
 * must have those three fields; its times carry no zone (2023) or +00:00 (2024), at most 7
 * fractional digits (the 2023 traces' 100 ns ticks).  BurstGPT's header must name
 * Timestamp, Request tokens and Response tokens (Model, Total tokens and Log Type are
 * read past); Timestamp is s since the trace's start.
 *
 * Mooncake's JSON Lines are read a line at a time (getline, capped at 1 MiB) and each line
 * parsed by cJSON: it is not CSV, so not the CSV reader's business.  hash_ids must be an
 * array of whole numbers 0..2^53 (the largest a JSON double holds exactly); they are kept,
 * compactly -- one offsets array and one hash array, rows reordered with the sort -- for
 * the servers' KV prefix caches, capped per request and in all
 * (SK_TRACE_MAX_HASHES_PER_REQUEST, SK_TRACE_MAX_HASHES) so that a hostile file cannot
 * take the memory.
 *
 * Anything that is not a valid row is an error naming path:line and the column (or key),
 * and nothing is left allocated.  Rows out of order are sorted (exports are often newest
 * first); the count is kept in n_unsorted for the caller to report.
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/trace.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "skadi/csv.h"
#include "skadi/require.h"
#include "skadi/timestamp.h"

#define MAX_TRACE_ROWS                                                                             \
  (1u << 25) /* ~33 M requests, 0.5 GB of arrays; the Azure files have < 30 k */
#define MAX_LINE_BYTES (1u << 20)
#define NS_PER_S 1000000000LL

static const char azure_header[] = "TIMESTAMP,ContextTokens,GeneratedTokens";
static const char *const azure_columns[3] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};
static const char burst_header[] =
    "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type";
static const char *const burst_columns[3] = {"Timestamp", "Request tokens", "Response tokens"};

const char *sk_trace_format_name(sk_trace_format f) {
  static const char *const names[] = {"auto", "azure", "mooncake", "burstgpt"};
  return (unsigned)f < 4 ? names[f] : NULL;
}

/* ---- rows ------------------------------------------------------------------------------ */

typedef struct {
  int64_t t_ns;
  int32_t in, out;
  uint32_t h0, hn; /* this row's hash_ids: hashes.h[h0 .. h0 + hn) */
} row;

typedef struct {
  row *r;
  size_t n, cap;
} rows;

/* hash_ids of every row, in file order */
typedef struct {
  uint64_t *h;
  size_t n, cap;
  int any; /* some row had the key */
} hashes;

/* Appends one row; SK_ERANGE past the cap, SK_ENOMEM. */
static sk_status push(rows *b, int64_t t_ns, int32_t in, int32_t out, uint32_t h0, uint32_t hn) {
  if (b->n == MAX_TRACE_ROWS)
    return SK_ERANGE;
  if (b->n == b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 4096;
    row *r = realloc(b->r, nc * sizeof *r);
    if (r == NULL)
      return SK_ENOMEM;
    b->r = r;
    b->cap = nc;
  }
  b->r[b->n++] = (row){t_ns, in, out, h0, hn};
  return SK_OK;
}

/* Sorts b by time, stably (bottom-up merge); returns the rows earlier than the one before. */
static size_t sort_rows(rows *b, row *tmp) {
  size_t unsorted = 0;
  for (size_t i = 1; i < b->n; i++)
    unsorted += b->r[i].t_ns < b->r[i - 1].t_ns;
  if (unsorted == 0)
    return 0;
  for (size_t w = 1; w < b->n; w *= 2) {
    for (size_t lo = 0; lo < b->n; lo += 2 * w) {
      size_t mid = lo + w < b->n ? lo + w : b->n, hi = lo + 2 * w < b->n ? lo + 2 * w : b->n;
      size_t a = lo, c = mid, k = lo;
      while (a < mid && c < hi)
        tmp[k++] = b->r[c].t_ns < b->r[a].t_ns ? b->r[c++] : b->r[a++];
      while (a < mid)
        tmp[k++] = b->r[a++];
      while (c < hi)
        tmp[k++] = b->r[c++];
    }
    memcpy(b->r, tmp, b->n * sizeof *tmp);
  }
  return unsorted;
}

/* ---- fields ---------------------------------------------------------------------------- */

/* A token count: decimal digits only, 0..INT32_MAX (0 only with allow_zero). */
static int parse_tokens(const char *s, const char *end, int allow_zero, int32_t *out, char *reason,
                        size_t rlen) {
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
  if (v < 1 && !allow_zero) {
    snprintf(reason, rlen, "expected a token count >= 1, got %lld", v);
    return 0;
  }
  *out = (int32_t)v;
  return 1;
}

/* ---- CSV formats ----------------------------------------------------------------------- */

static int has_column(const sk_csv *r, const char *name, size_t *idx) {
  return sk_csv_column(r, name, idx, NULL, 0) == SK_OK;
}

/* The header decides (or checks) the format; col[3] gets the time, prompt and output
 * columns. */
static sk_status csv_header(const sk_csv *r, sk_trace_format *fmt, size_t col[3], char *err,
                            size_t errlen) {
  size_t n = sk_csv_header_count(r);
  int azure = n == 3;
  for (size_t i = 0; azure && i < 3; i++)
    azure = strcmp(sk_csv_header_name(r, i), azure_columns[i]) == 0;
  int burst = 1;
  for (size_t i = 0; i < 3; i++)
    burst = burst && has_column(r, burst_columns[i], &col[i]);
  if (azure && *fmt != SK_TRACE_BURSTGPT) {
    *fmt = SK_TRACE_AZURE;
    col[0] = 0, col[1] = 1, col[2] = 2;
    return SK_OK;
  }
  if (burst && *fmt != SK_TRACE_AZURE) {
    *fmt = SK_TRACE_BURSTGPT;
    return SK_OK;
  }
  char got[96] = "";
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(got);
    snprintf(got + l, sizeof got - l, "%s%s", i ? "," : "", sk_csv_header_name(r, i));
  }
  const char *first = sk_csv_header_name(r, 0);
  const char *hint = (first[0] >= '0' && first[0] <= '9') ? " (missing header?)" : "";
  if (*fmt == SK_TRACE_AZURE)
    sk_csv_errf(r, SK_CSV_RECORD, err, errlen, "header: expected \"%s\" (Azure), got \"%.80s\"%s",
                azure_header, got, hint);
  else if (*fmt == SK_TRACE_BURSTGPT)
    sk_csv_errf(r, SK_CSV_RECORD, err, errlen,
                "header: expected the BurstGPT columns \"%s\" (at least Timestamp, Request "
                "tokens, Response tokens), got \"%.80s\"%s",
                burst_header, got, hint);
  else
    sk_csv_errf(r, SK_CSV_RECORD, err, errlen,
                "header: expected \"%s\" (Azure) or \"%s\" (BurstGPT), got \"%.80s\"%s; or a "
                "Mooncake JSON Lines file",
                azure_header, burst_header, got, hint);
  return SK_EPARSE;
}

/* The current record into *t_ns, *in, *out; *skip set for a row to leave out. */
static sk_status csv_row(const sk_csv *r, sk_trace_format fmt, const size_t col[3], int64_t *t_ns,
                         int32_t *in, int32_t *out, int *skip, char *err, size_t errlen) {
  char reason[200];
  size_t nf = sk_csv_field_count(r), nh = sk_csv_header_count(r);
  const char *header = fmt == SK_TRACE_AZURE ? azure_header : burst_header;
  if (nf < nh) {
    sk_csv_errf(r, nf, err, errlen, "expected %zu columns (%s), got %zu", nh, header, nf);
    return SK_EPARSE;
  }
  if (nf > nh) {
    sk_csv_errf(r, SK_CSV_RECORD, err, errlen, "row: expected %zu columns (%s), got %zu", nh,
                header, nf);
    return SK_EPARSE;
  }
  sk_time_opts o;
  sk_time_opts_init(&o);
  if (fmt == SK_TRACE_AZURE) {
    o.forms = SK_TIME_ISO_T | SK_TIME_ISO_SPACE | SK_TIME_ZONE;
    o.max_frac_digits = 7;
  } else {
    o.forms = SK_TIME_UNIX_S; /* s since the trace's start */
  }
  o.min_ns = 0; /* 1970..2200: the span of any two rows fits an int64 */
  o.max_ns = SK_TIME_DATA_MAX_NS;
  const char *s = sk_csv_field(r, col[0]);
  if (sk_time_parse(s, sk_csv_field_len(r, col[0]), &o, t_ns, reason, sizeof reason) != SK_OK) {
    sk_csv_errf(r, col[0], err, errlen, "%s", reason);
    return SK_EPARSE;
  }
  int32_t *tok[2] = {in, out};
  for (size_t i = 1; i < 3; i++) {
    s = sk_csv_field(r, col[i]);
    if (!parse_tokens(s, s + sk_csv_field_len(r, col[i]), fmt == SK_TRACE_BURSTGPT, tok[i - 1],
                      reason, sizeof reason)) {
      sk_csv_errf(r, col[i], err, errlen, "%s", reason);
      return SK_EPARSE;
    }
  }
  *skip = *in == 0 || *out == 0; /* BurstGPT: a failed request */
  return SK_OK;
}

static sk_status load_csv(sk_trace *tr, const char *path, sk_trace_format fmt, rows *b,
                          size_t *last_line, const char **time_col, char *err, size_t errlen) {
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.ragged = 1; /* csv_row names the missing column */
  o.delimiter = SK_CSV_SNIFF;
  o.skip_trailer = 1;
  sk_csv *r;
  sk_status st = sk_csv_create(&r, path, &o, err, errlen);
  if (st != SK_OK)
    return st == SK_ENOTFOUND ? SK_EIO : st;
  size_t col[3] = {0, 1, 2};
  if ((st = sk_csv_read_header(r, err, errlen)) == SK_OK)
    st = csv_header(r, &fmt, col, err, errlen);
  tr->format = fmt;
  int more = 0;
  while (st == SK_OK && (st = sk_csv_next(r, &more, err, errlen)) == SK_OK && more) {
    int64_t t_ns = 0;
    int32_t in = 0, out = 0;
    int skip = 0;
    if ((st = csv_row(r, fmt, col, &t_ns, &in, &out, &skip, err, errlen)) != SK_OK)
      break;
    if (skip) {
      tr->n_skipped++;
      continue;
    }
    if ((st = push(b, t_ns, in, out, 0, 0)) == SK_ERANGE)
      sk_csv_errf(r, SK_CSV_RECORD, err, errlen, "more than %u requests", MAX_TRACE_ROWS);
    else if (st == SK_ENOMEM)
      sk_errf(err, errlen, "%s: out of memory at line %zu", path, sk_csv_line(r));
  }
  if (st == SK_OK) {
    tr->n_trailer = sk_csv_trailer(r, NULL, NULL);
    *last_line = sk_csv_line(r);
    *time_col = fmt == SK_TRACE_AZURE ? "TIMESTAMP" : "Timestamp";
  }
  sk_csv_destroy(r);
  return st;
}

/* ---- Mooncake JSON Lines --------------------------------------------------------------- */

/* Member key of obj as a whole number in [lo, hi] into *v; 0 with the reason otherwise. */
static int json_int(const cJSON *obj, const char *key, double lo, double hi, double *v,
                    char *reason, size_t rlen) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (j == NULL) {
    snprintf(reason, rlen,
             "%s: missing (a Mooncake line has timestamp, input_length, "
             "output_length, hash_ids)",
             key);
    return 0;
  }
  if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble < lo ||
      j->valuedouble > hi || j->valuedouble != floor(j->valuedouble)) {
    char *txt = cJSON_PrintUnformatted(j);
    snprintf(reason, rlen, "%s: expected a whole number in %.0f..%.0f, got %.40s", key, lo, hi,
             txt ? txt : "?");
    free(txt);
    return 0;
  }
  *v = j->valuedouble;
  return 1;
}

/* Appends the hash_ids array h (NULL: the key is absent) to hs; *h0, *hn get where.
 * SK_EPARSE (not an array of whole numbers in 0..2^53), SK_ERANGE (past a cap), SK_ENOMEM;
 * the reason in `reason`. */
static sk_status take_hashes(hashes *hs, const cJSON *h, uint32_t *h0, uint32_t *hn, char *reason,
                             size_t rlen) {
  *h0 = (uint32_t)hs->n;
  *hn = 0;
  if (h == NULL)
    return SK_OK;
  hs->any = 1;
  if (!cJSON_IsArray(h)) {
    snprintf(reason, rlen,
             "hash_ids: expected an array of whole numbers (the prompt's KV-cache block "
             "hashes), got a %s",
             cJSON_IsString(h)   ? "string"
             : cJSON_IsNumber(h) ? "number"
             : cJSON_IsObject(h) ? "object"
                                 : "non-array");
    return SK_EPARSE;
  }
  int n = cJSON_GetArraySize(h);
  if (n > SK_TRACE_MAX_HASHES_PER_REQUEST) {
    snprintf(reason, rlen, "hash_ids: %d block hashes; at most %d per request", n,
             SK_TRACE_MAX_HASHES_PER_REQUEST);
    return SK_ERANGE;
  }
  if (hs->n + (size_t)n > SK_TRACE_MAX_HASHES) {
    snprintf(reason, rlen, "hash_ids: more than %u block hashes in the trace", SK_TRACE_MAX_HASHES);
    return SK_ERANGE;
  }
  if (hs->n + (size_t)n > hs->cap) {
    size_t nc = hs->cap ? hs->cap : 4096;
    while (nc < hs->n + (size_t)n)
      nc *= 2;
    uint64_t *p = realloc(hs->h, nc * sizeof *p);
    if (p == NULL) {
      snprintf(reason, rlen, "out of memory");
      return SK_ENOMEM;
    }
    hs->h = p;
    hs->cap = nc;
  }
  int k = 0;
  for (const cJSON *e = h->child; e; e = e->next, k++) {
    if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0 && e->valuedouble <= 9007199254740992.0) ||
        e->valuedouble != floor(e->valuedouble)) {
      char *txt = cJSON_PrintUnformatted(e);
      snprintf(reason, rlen,
               "hash_ids[%d]: expected a whole number in 0..9007199254740992 (a KV-cache block "
               "hash), got %.40s",
               k, txt ? txt : "?");
      free(txt);
      return SK_EPARSE;
    }
    hs->h[hs->n + (size_t)k] = (uint64_t)e->valuedouble;
  }
  hs->n += (size_t)n;
  *hn = (uint32_t)n;
  return SK_OK;
}

static sk_status load_mooncake(sk_trace *tr, const char *path, rows *b, hashes *hs,
                               size_t *last_line, char *err, size_t errlen) {
  tr->format = SK_TRACE_MOONCAKE;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    sk_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return SK_EIO;
  }
  char *line = NULL;
  size_t cap = 0, line_no = 0;
  ssize_t len;
  sk_status st = SK_OK;
  char reason[200];
  while (st == SK_OK && (len = getline(&line, &cap, f)) >= 0) {
    line_no++;
    size_t n = (size_t)len;
    if (line_no == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
      memmove(line, line + 3, (n -= 3) + 1);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
      line[--n] = '\0';
    if (n == 0)
      continue;
    if (n > MAX_LINE_BYTES) {
      sk_errf(err, errlen, "%s:%zu: line longer than %u bytes", path, line_no, MAX_LINE_BYTES);
      st = SK_EPARSE;
      break;
    }
    cJSON *j = cJSON_ParseWithLength(line, n);
    if (j == NULL || !cJSON_IsObject(j)) {
      sk_errf(err, errlen,
              "%s:%zu: expected a JSON object per line (Mooncake JSON Lines), got "
              "\"%.40s\"",
              path, line_no, line);
      cJSON_Delete(j);
      st = SK_EPARSE;
      break;
    }
    double ms = 0, in = 0, out = 0;
    int ok = json_int(j, "timestamp", 0, 9.2e12, &ms, reason, sizeof reason) &&
             json_int(j, "input_length", 1, INT32_MAX, &in, reason, sizeof reason) &&
             json_int(j, "output_length", 1, INT32_MAX, &out, reason, sizeof reason);
    uint32_t h0 = 0, hn = 0;
    if (ok)
      st = take_hashes(hs, cJSON_GetObjectItemCaseSensitive(j, "hash_ids"), &h0, &hn, reason,
                       sizeof reason);
    else
      st = SK_EPARSE;
    cJSON_Delete(j);
    if (st != SK_OK) {
      sk_errf(err, errlen, "%s:%zu: %s", path, line_no, reason);
      break;
    }
    *last_line = line_no;
    if ((st = push(b, (int64_t)ms * 1000000LL, (int32_t)in, (int32_t)out, h0, hn)) == SK_ERANGE)
      sk_errf(err, errlen, "%s:%zu: more than %u requests", path, line_no, MAX_TRACE_ROWS);
    else if (st == SK_ENOMEM)
      sk_errf(err, errlen, "%s: out of memory at line %zu", path, line_no);
  }
  if (st == SK_OK && ferror(f)) {
    sk_errf(err, errlen, "%s:%zu: read error: %s", path, line_no + 1, strerror(errno));
    st = SK_EIO;
  }
  free(line);
  fclose(f);
  return st;
}

/* '{' as the first non-blank character (after a BOM): Mooncake's JSON Lines. */
static int looks_like_jsonl(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return 0;
  unsigned char buf[256];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  size_t i = n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
  while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
    i++;
  return i < n && buf[i] == '{';
}

/* ---- load ------------------------------------------------------------------------------ */

sk_status sk_trace_load_format(sk_trace *tr, const char *path, sk_trace_format fmt, char *err,
                               size_t errlen) {
  SK_REQUIRE(tr != NULL && path != NULL && sk_trace_format_name(fmt) != NULL);
  memset(tr, 0, sizeof *tr);
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    sk_errf(err, errlen, "%s: cannot read: %s", path, strerror(EISDIR));
    return SK_EIO;
  }
  if (fmt == SK_TRACE_AUTO && looks_like_jsonl(path))
    fmt = SK_TRACE_MOONCAKE;
  rows b = {NULL, 0, 0};
  hashes hs = {NULL, 0, 0, 0};
  size_t last_line = 0;
  const char *time_col = "timestamp";
  sk_status st = fmt == SK_TRACE_MOONCAKE
                     ? load_mooncake(tr, path, &b, &hs, &last_line, err, errlen)
                     : load_csv(tr, path, fmt, &b, &last_line, &time_col, err, errlen);
  row *tmp = NULL;
  if (st == SK_OK && b.n >= 2 && (tmp = malloc(b.n * sizeof *tmp)) == NULL) {
    sk_errf(err, errlen, "%s: out of memory", path);
    st = SK_ENOMEM;
  }
  if (st == SK_OK) {
    tr->n_unsorted = sort_rows(&b, tmp);
    if (b.n < 2) {
      sk_errf(err, errlen, "%s:%zu: %s: %zu request%s; a trace needs at least two", path,
              last_line ? last_line : 1, time_col, b.n, b.n == 1 ? "" : "s");
      st = SK_EPARSE;
    } else if (b.r[b.n - 1].t_ns == b.r[0].t_ns) {
      sk_errf(err, errlen,
              "%s:%zu: %s: every request has the same time; a trace must span more than 0 s", path,
              last_line, time_col);
      st = SK_EPARSE;
    }
  }
  free(tmp);
  if (st == SK_OK) {
    tr->t_s = malloc(b.n * sizeof *tr->t_s);
    tr->in_tokens = malloc(b.n * sizeof *tr->in_tokens);
    tr->out_tokens = malloc(b.n * sizeof *tr->out_tokens);
    if (hs.any) {
      tr->kv_off = malloc((b.n + 1) * sizeof *tr->kv_off);
      tr->kv_hash = malloc((hs.n ? hs.n : 1) * sizeof *tr->kv_hash);
    }
    if (!tr->t_s || !tr->in_tokens || !tr->out_tokens ||
        (hs.any && (!tr->kv_off || !tr->kv_hash))) {
      sk_errf(err, errlen, "%s: out of memory", path);
      st = SK_ENOMEM;
    }
  }
  if (st != SK_OK) {
    free(b.r);
    free(hs.h);
    sk_trace_fini(tr);
    return st;
  }
  size_t nh = 0;
  for (size_t i = 0; i < b.n; i++) {
    tr->t_s[i] = (double)(b.r[i].t_ns - b.r[0].t_ns) / 1e9;
    tr->in_tokens[i] = b.r[i].in;
    tr->out_tokens[i] = b.r[i].out;
    if (hs.any) { /* the hashes in the sorted order */
      tr->kv_off[i] = (uint32_t)nh;
      if (b.r[i].hn > 0)
        memcpy(tr->kv_hash + nh, hs.h + b.r[i].h0, b.r[i].hn * sizeof *tr->kv_hash);
      nh += b.r[i].hn;
    }
  }
  if (hs.any)
    tr->kv_off[b.n] = (uint32_t)nh;
  tr->n = b.n;
  tr->span_s = tr->t_s[b.n - 1];
  free(b.r);
  free(hs.h);
  return SK_OK;
}

sk_status sk_trace_load(sk_trace *tr, const char *path, char *err, size_t errlen) {
  return sk_trace_load_format(tr, path, SK_TRACE_AUTO, err, errlen);
}

size_t sk_trace_clamp(sk_trace *tr, int32_t max_tokens) {
  SK_REQUIRE(tr != NULL && max_tokens >= 1);
  size_t n = 0;
  for (size_t i = 0; i < tr->n; i++) {
    int cut = tr->in_tokens[i] > max_tokens || tr->out_tokens[i] > max_tokens;
    if (tr->in_tokens[i] > max_tokens)
      tr->in_tokens[i] = max_tokens;
    if (tr->out_tokens[i] > max_tokens)
      tr->out_tokens[i] = max_tokens;
    n += (size_t)cut;
  }
  tr->n_clamped += n;
  return n;
}

void sk_trace_fini(sk_trace *tr) {
  if (tr == NULL)
    return;
  free(tr->t_s);
  free(tr->in_tokens);
  free(tr->out_tokens);
  free(tr->kv_off);
  free(tr->kv_hash);
  memset(tr, 0, sizeof *tr);
}
