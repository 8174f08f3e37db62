/*
 * csv.c -- the CSV reader (contract and syntax in skadi/csv.h).
 *
 * Design.  A 64 KiB read buffer feeds a byte-at-a-time state machine with one byte of
 * look-ahead (enough for "" inside quotes and for CRLF); the current record's fields are
 * copied, unquoted and NUL-terminated, into one growable text buffer with an offset, a
 * line and a column per field.  So memory is one record plus the header, whatever the file
 * size, and a field's text is ready for strcmp/strtod without a second pass.  Positions
 * are tracked per byte read (line, column of the next byte), which is what lets every
 * message name the physical line of the field at fault even when a quoted field spans
 * lines.
 *
 * Invariants.  A record handed out has at least one field; blank lines never reach the
 * caller; after any error the reader is not read again (the state machine may be in the
 * middle of a field).  The caps are checked before the buffer grows, so a runaway quote
 * costs at most max_record_bytes.
 *
 * Rejected: mmap or reading the whole file (the mixer reads multi-GB logs; a pipe cannot
 * be mapped); a pointer-per-field array next to the offsets (the text buffer moves when it
 * grows, so pointers would need fixing up -- offsets do not); strict RFC 4180 without
 * trimming (the seed writes "ts, rack_id, ..." and spreadsheets pad).  The delimiter is
 * guessed only when the caller asks (SK_CSV_SNIFF), from the header line, and a tie is an
 * error rather than a guess: a wrong guess would read a file "successfully" into one
 * column.  Trailing non-data lines are recognised only as single-field lines after the
 * last data record, so a truncated last data row (fewer fields, but more than one) is
 * still an error, not silently dropped.
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "skadi/require.h"

#define QUOTE_MAX 40 /* bytes of a field quoted in a message */

struct sk_csv {
  FILE *f;
  int own_f; /* opened by sk_csv_create, closed by destroy */
  char *name;
  sk_csv_opts o;
  int started; /* the byte-order mark check is done */
  int eof, io_errno;
  size_t pos, len;        /* read buffer: next byte, bytes held */
  size_t line_no, col_no; /* position of the next unread byte, both 1-based */
  char *text;             /* the current record's fields, each NUL-terminated */
  size_t tlen, tcap;
  size_t *off, *fline, *fcol; /* per field: offset in text, line, column */
  size_t nf, fcap;
  size_t line;      /* first line of the current record */
  size_t last_line; /* first line of the last record handed out */
  char *htext;      /* header names, each NUL-terminated; NULL before the header */
  size_t *hoff, nh, hline;
  int sniffed;                    /* the delimiter sniff is done */
  size_t trailer_n, trailer_line; /* trailing non-data lines so far, the first's line */
  char trailer_text[84];          /* the first one's text */
  char trailer_err[512];          /* the error it becomes if data follows */
  char buf[1 << 16];
};

void sk_csv_opts_init(sk_csv_opts *o) {
  SK_REQUIRE(o != NULL);
  o->delimiter = ',';
  o->trim = 1;
  o->ragged = 0;
  o->max_record_bytes = SK_CSV_DEFAULT_MAX_RECORD_BYTES;
  o->max_fields = SK_CSV_DEFAULT_MAX_FIELDS;
  o->skip_trailer = 0;
}

sk_status sk_csv_create_stream(sk_csv **out, FILE *f, const char *name, const sk_csv_opts *opts,
                               char *err, size_t errlen) {
  SK_REQUIRE(out != NULL && f != NULL && name != NULL);
  *out = NULL;
  sk_csv *r = calloc(1, sizeof *r);
  if (r == NULL || (r->name = strdup(name)) == NULL) {
    free(r);
    sk_errf(err, errlen, "%s: out of memory", name);
    return SK_ENOMEM;
  }
  if (opts != NULL)
    r->o = *opts;
  else
    sk_csv_opts_init(&r->o);
  char d = r->o.delimiter;
  SK_REQUIRE(d != '"' && d != '\r' && d != '\n');
  SK_REQUIRE(r->o.max_record_bytes >= 16 && r->o.max_fields >= 1);
  r->f = f;
  r->line_no = r->col_no = 1;
  *out = r;
  return SK_OK;
}

sk_status sk_csv_create(sk_csv **out, const char *path, const sk_csv_opts *opts, char *err,
                        size_t errlen) {
  SK_REQUIRE(out != NULL && path != NULL);
  *out = NULL;
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    sk_errf(err, errlen, "%s: cannot read: %s", path, strerror(EISDIR));
    return SK_EIO;
  }
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    sk_errf(err, errlen, "%s: cannot open: %s", path, strerror(e));
    return e == ENOENT || e == ENOTDIR ? SK_ENOTFOUND : SK_EIO;
  }
  sk_status st = sk_csv_create_stream(out, f, path, opts, err, errlen);
  if (st != SK_OK) {
    fclose(f);
    return st;
  }
  (*out)->own_f = 1;
  return SK_OK;
}

void sk_csv_destroy(sk_csv *r) {
  if (r == NULL)
    return;
  if (r->own_f)
    fclose(r->f);
  free(r->name);
  free(r->text);
  free(r->off);
  free(r->fline);
  free(r->fcol);
  free(r->htext);
  free(r->hoff);
  free(r);
}

/* ------------------------------------------------------------------------------------ */
/* Bytes                                                                                */

static int rd_fill(sk_csv *r) {
  if (r->eof)
    return 0;
  r->len = fread(r->buf, 1, sizeof r->buf, r->f);
  r->pos = 0;
  if (r->len == 0) {
    r->eof = 1;
    if (ferror(r->f))
      r->io_errno = errno ? errno : EIO;
  }
  return r->len > 0;
}

static int rd_getc(sk_csv *r) {
  if (r->pos == r->len && !rd_fill(r))
    return EOF;
  int c = (unsigned char)r->buf[r->pos++];
  if (c == '\n') {
    r->line_no++;
    r->col_no = 1;
  } else {
    r->col_no++;
  }
  return c;
}

static int rd_peek(sk_csv *r) {
  if (r->pos == r->len && !rd_fill(r))
    return EOF;
  return (unsigned char)r->buf[r->pos];
}

static void rd_start(sk_csv *r) {
  if (r->started)
    return;
  r->started = 1;
  if (rd_fill(r) && r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
    r->pos = 3;
}

static int is_blank(const sk_csv *r, int c) {
  return (c == ' ' || c == '\t') && c != r->o.delimiter;
}

/* ------------------------------------------------------------------------------------ */
/* Messages                                                                             */

static void verrf(const sk_csv *r, size_t field, char *err, size_t errlen, const char *fmt,
                  va_list ap) SK_PRINTF_LIKE(5, 0);

static void verrf(const sk_csv *r, size_t field, char *err, size_t errlen, const char *fmt,
                  va_list ap) {
  char reason[512], col[80];
  vsnprintf(reason, sizeof reason, fmt, ap);
  if (field == SK_CSV_RECORD) {
    sk_errf(err, errlen, "%s:%zu: %s", r->name, r->line, reason);
    return;
  }
  size_t line = field < r->nf ? r->fline[field] : r->line;
  if (r->htext != NULL && field < r->nh)
    snprintf(col, sizeof col, "%s", r->htext + r->hoff[field]);
  else
    snprintf(col, sizeof col, "field %zu", field + 1);
  sk_errf(err, errlen, "%s:%zu: %s: %s", r->name, line, col, reason);
}

void sk_csv_errf(const sk_csv *r, size_t field, char *err, size_t errlen, const char *fmt, ...) {
  SK_REQUIRE(r != NULL && fmt != NULL);
  va_list ap;
  va_start(ap, fmt);
  verrf(r, field, err, errlen, fmt, ap);
  va_end(ap);
}

static sk_status fail(const sk_csv *r, sk_status st, size_t field, char *err, size_t errlen,
                      const char *fmt, ...) SK_PRINTF_LIKE(6, 7);

static sk_status fail(const sk_csv *r, sk_status st, size_t field, char *err, size_t errlen,
                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verrf(r, field, err, errlen, fmt, ap);
  va_end(ap);
  return st;
}

static sk_status io_fail(const sk_csv *r, char *err, size_t errlen) {
  sk_errf(err, errlen, "%s:%zu: read error: %s", r->name, r->line_no, strerror(r->io_errno));
  return SK_EIO;
}

static sk_status nomem(const sk_csv *r, char *err, size_t errlen) {
  sk_errf(err, errlen, "%s: out of memory", r->name);
  return SK_ENOMEM;
}

/* ------------------------------------------------------------------------------------ */
/* Records                                                                              */

/* Appends byte c to the current record's text. */
static sk_status put(sk_csv *r, char c, char *err, size_t errlen) {
  if (r->tlen == r->tcap) {
    if (r->tcap >= r->o.max_record_bytes)
      return fail(r, SK_EPARSE, r->nf - 1, err, errlen,
                  "record longer than %zu bytes (a stray quote?)", r->o.max_record_bytes);
    size_t nc = r->tcap ? r->tcap * 2 : 256;
    if (nc > r->o.max_record_bytes)
      nc = r->o.max_record_bytes;
    char *t = realloc(r->text, nc);
    if (t == NULL)
      return nomem(r, err, errlen);
    r->text = t;
    r->tcap = nc;
  }
  r->text[r->tlen++] = c;
  return SK_OK;
}

/* Starts a field at the position of the next unread byte. */
static sk_status new_field(sk_csv *r, char *err, size_t errlen) {
  if (r->nf == r->o.max_fields)
    return fail(r, SK_EPARSE, SK_CSV_RECORD, err, errlen, "more than %zu fields", r->o.max_fields);
  if (r->nf == r->fcap) {
    size_t nc = r->fcap ? r->fcap * 2 : 16;
    size_t *o = realloc(r->off, nc * sizeof *o);
    if (o != NULL)
      r->off = o;
    size_t *l = o ? realloc(r->fline, nc * sizeof *l) : NULL;
    if (l != NULL)
      r->fline = l;
    size_t *c = l ? realloc(r->fcol, nc * sizeof *c) : NULL;
    if (c == NULL)
      return nomem(r, err, errlen);
    r->fcol = c;
    r->fcap = nc;
  }
  r->off[r->nf] = r->tlen;
  r->fline[r->nf] = r->line_no;
  r->fcol[r->nf] = r->col_no;
  r->nf++;
  return SK_OK;
}

/* Reads one field whose first byte is the next unread one; *end gets the byte that ended
 * it: the delimiter, '\n' or EOF. */
static sk_status read_field(sk_csv *r, int *any_quoted, int *end, char *err, size_t errlen) {
  size_t field = r->nf - 1, start = r->tlen;
  int delim = (unsigned char)r->o.delimiter, c = rd_getc(r);
  sk_status st = SK_OK;
  if (r->o.trim)
    while (is_blank(r, c))
      c = rd_getc(r);
  if (c == '"') {
    *any_quoted = 1;
    for (;;) {
      c = rd_getc(r);
      if (c == EOF) {
        if (r->io_errno)
          return io_fail(r, err, errlen);
        return fail(r, SK_EPARSE, field, err, errlen,
                    "quoted field opened on line %zu is never closed", r->fline[field]);
      }
      if (c == '"') {
        if (rd_peek(r) != '"')
          break;
        c = rd_getc(r);
      } else if (c == '\0') {
        return fail(r, SK_EPARSE, field, err, errlen, "contains a NUL byte (not a text file?)");
      }
      if ((st = put(r, (char)c, err, errlen)) != SK_OK)
        return st;
    }
    c = rd_getc(r);
    if (r->o.trim)
      while (is_blank(r, c))
        c = rd_getc(r);
    if (c == '\r' && (rd_peek(r) == '\n' || rd_peek(r) == EOF))
      c = rd_getc(r); /* CRLF, or a CR ending the file */
    if (c != delim && c != '\n' && c != EOF)
      return fail(r, SK_EPARSE, field, err, errlen, "unexpected '%c' after a closing quote",
                  isprint(c) ? c : '?');
  } else {
    while (c != delim && c != '\n' && c != EOF) {
      if (c == '\r' && (rd_peek(r) == '\n' || rd_peek(r) == EOF)) {
        c = rd_getc(r); /* CRLF, or a CR ending the file */
        break;
      }
      if (c == '\0')
        return fail(r, SK_EPARSE, field, err, errlen, "contains a NUL byte (not a text file?)");
      if ((st = put(r, (char)c, err, errlen)) != SK_OK)
        return st;
      c = rd_getc(r);
    }
    if (r->o.trim)
      while (r->tlen > start && is_blank(r, r->text[r->tlen - 1]))
        r->tlen--;
  }
  if (c == EOF && r->io_errno)
    return io_fail(r, err, errlen);
  *end = c;
  return put(r, '\0', err, errlen);
}

/* Sets the delimiter from the first non-blank line in the read buffer (SK_CSV_SNIFF). */
static sk_status sniff(sk_csv *r, char *err, size_t errlen) {
  static const char cand[3] = {',', ';', '\t'};
  static const char *const shown[3] = {"','", "';'", "tab"};
  size_t count[3] = {0, 0, 0}, i = r->pos, line = r->line_no;
  r->sniffed = 1;
  while (i < r->len && (r->buf[i] == '\n' || r->buf[i] == '\r' || r->buf[i] == ' ')) {
    line += r->buf[i] == '\n';
    i++;
  }
  int quoted = 0;
  for (; i < r->len && (quoted || r->buf[i] != '\n'); i++) {
    if (r->buf[i] == '"')
      quoted = !quoted;
    for (int k = 0; k < 3 && !quoted; k++)
      count[k] += r->buf[i] == cand[k];
  }
  int best = 0;
  for (int k = 1; k < 3; k++)
    if (count[k] > count[best])
      best = k;
  for (int k = 0; k < 3; k++)
    if (k != best && count[k] == count[best] && count[best] > 0) {
      sk_errf(err, errlen,
              "%s:%zu: cannot tell the delimiter: the first line has %zu %s and %zu %s (a "
              "CSV's fields are separated by ',', ';' or tab; make the header use one)",
              r->name, line, count[best], shown[best], count[k], shown[k]);
      return SK_EPARSE;
    }
  r->o.delimiter = count[best] > 0 ? cand[best] : ',';
  return SK_OK;
}

/* Keeps the current record as a trailing non-data line (skip_trailer). */
static void hold_trailer(sk_csv *r) {
  if (r->trailer_n++ > 0)
    return;
  r->trailer_line = r->line;
  snprintf(r->trailer_err, sizeof r->trailer_err,
           "%s:%zu: expected %zu fields as in the header, got %zu: \"%.60s\" (non-data lines "
           "are skipped only after the last data row)",
           r->name, r->line, r->nh, r->nf, r->text);
  snprintf(r->trailer_text, sizeof r->trailer_text, "%.80s", r->text);
}

sk_status sk_csv_next(sk_csv *r, int *more, char *err, size_t errlen) {
  SK_REQUIRE(r != NULL && more != NULL);
  rd_start(r);
  *more = 0;
  if (!r->sniffed && r->o.delimiter == SK_CSV_SNIFF) {
    sk_status st = sniff(r, err, errlen);
    if (st != SK_OK)
      return st;
  }
  r->sniffed = 1;
  for (;;) {
    r->tlen = 0;
    r->nf = 0;
    if (rd_peek(r) == EOF) {
      if (r->io_errno)
        return io_fail(r, err, errlen);
      r->line = r->last_line;
      return SK_OK;
    }
    r->line = r->line_no;
    int any_quoted = 0, end = EOF;
    sk_status st;
    do {
      if ((st = new_field(r, err, errlen)) != SK_OK ||
          (st = read_field(r, &any_quoted, &end, err, errlen)) != SK_OK)
        return st;
    } while (end == (unsigned char)r->o.delimiter);
    if (r->nf == 1 && r->text[0] == '\0' && !any_quoted)
      continue; /* blank line */
    if (r->htext != NULL && r->o.skip_trailer && r->nf == 1 && r->nh > 1) {
      hold_trailer(r);
      continue;
    }
    if (r->trailer_n > 0) {
      sk_errf(err, errlen, "%s", r->trailer_err);
      return SK_EPARSE;
    }
    if (r->htext != NULL && !r->o.ragged && r->nf != r->nh)
      return fail(r, SK_EPARSE, SK_CSV_RECORD, err, errlen,
                  "expected %zu fields as in the header, got %zu", r->nh, r->nf);
    r->last_line = r->line;
    *more = 1;
    return SK_OK;
  }
}

/* ------------------------------------------------------------------------------------ */
/* Header                                                                               */

sk_status sk_csv_read_header(sk_csv *r, char *err, size_t errlen) {
  SK_REQUIRE(r != NULL && r->htext == NULL && r->last_line == 0);
  int more;
  sk_status st = sk_csv_next(r, &more, err, errlen);
  if (st != SK_OK)
    return st;
  if (!more) {
    sk_errf(err, errlen, "%s:1: header: empty file; expected a header line naming the columns",
            r->name);
    return SK_EPARSE;
  }
  char *t = malloc(r->tlen);
  size_t *o = malloc(r->nf * sizeof *o);
  if (t == NULL || o == NULL) {
    free(t);
    free(o);
    return nomem(r, err, errlen);
  }
  memcpy(t, r->text, r->tlen);
  memcpy(o, r->off, r->nf * sizeof *o);
  r->htext = t;
  r->hoff = o;
  r->nh = r->nf;
  r->hline = r->line;
  return SK_OK;
}

size_t sk_csv_header_count(const sk_csv *r) {
  SK_REQUIRE(r != NULL);
  return r->htext ? r->nh : 0;
}

const char *sk_csv_header_name(const sk_csv *r, size_t i) {
  SK_REQUIRE(r != NULL && r->htext != NULL && i < r->nh);
  return r->htext + r->hoff[i];
}

static int same_nocase(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    int x = (unsigned char)*a, y = (unsigned char)*b;
    if (x >= 'A' && x <= 'Z')
      x += 'a' - 'A';
    if (y >= 'A' && y <= 'Z')
      y += 'a' - 'A';
    if (x != y)
      return 0;
  }
  return *a == *b;
}

static sk_status find_column(const sk_csv *r, const char *name, int nocase, size_t *idx, char *err,
                             size_t errlen) {
  SK_REQUIRE(r != NULL && name != NULL && idx != NULL && r->htext != NULL);
  size_t found = SIZE_MAX;
  for (size_t k = 0; k < r->nh; k++) {
    const char *h = r->htext + r->hoff[k];
    if (!(nocase ? same_nocase(h, name) : strcmp(h, name) == 0))
      continue;
    if (found != SIZE_MAX) {
      sk_errf(err, errlen, "%s:%zu: column \"%s\" appears twice in the header (fields %zu and %zu)",
              r->name, r->hline, name, found + 1, k + 1);
      return SK_EPARSE;
    }
    found = k;
  }
  if (found == SIZE_MAX) {
    char list[200];
    sk_csv_header_names(r, list, sizeof list);
    const char *h = r->htext + r->hoff[0], *other = NULL;
    if (r->nh == 1)
      other = strchr(h, '\t') ? "tab" : strchr(h, ';') ? "';'" : strchr(h, ',') ? "','" : NULL;
    sk_errf(err, errlen, "%s:%zu: header: no column \"%s\" (it has: %s)%s%s%s", r->name, r->hline,
            name, list, other ? "; the header is one field holding " : "", other ? other : "",
            other ? ": is the file separated by that?" : "");
    return SK_ENOTFOUND;
  }
  *idx = found;
  return SK_OK;
}

sk_status sk_csv_column(const sk_csv *r, const char *name, size_t *idx, char *err, size_t errlen) {
  return find_column(r, name, 0, idx, err, errlen);
}

sk_status sk_csv_column_nocase(const sk_csv *r, const char *name, size_t *idx, char *err,
                               size_t errlen) {
  return find_column(r, name, 1, idx, err, errlen);
}

void sk_csv_header_names(const sk_csv *r, char *buf, size_t len) {
  SK_REQUIRE(r != NULL && buf != NULL && len > 0);
  buf[0] = '\0';
  for (size_t k = 0; r->htext != NULL && k < r->nh; k++) {
    const char *h = r->htext + r->hoff[k];
    size_t l = strlen(buf);
    if (l + strlen(h) + 8 >= len) {
      snprintf(buf + l, len - l, "%s...", k ? ", " : "");
      return;
    }
    snprintf(buf + l, len - l, "%s%s", k ? ", " : "", h);
  }
}

/* ------------------------------------------------------------------------------------ */
/* Fields                                                                               */

size_t sk_csv_field_count(const sk_csv *r) {
  SK_REQUIRE(r != NULL);
  return r->nf;
}

const char *sk_csv_field(const sk_csv *r, size_t i) {
  SK_REQUIRE(r != NULL && i < r->nf);
  return r->text + r->off[i];
}

size_t sk_csv_field_len(const sk_csv *r, size_t i) {
  SK_REQUIRE(r != NULL && i < r->nf);
  size_t end = i + 1 < r->nf ? r->off[i + 1] : r->tlen;
  return end - r->off[i] - 1;
}

size_t sk_csv_line(const sk_csv *r) {
  SK_REQUIRE(r != NULL);
  return r->line;
}

void sk_csv_field_pos(const sk_csv *r, size_t i, size_t *line, size_t *col) {
  SK_REQUIRE(r != NULL && i < r->nf);
  if (line != NULL)
    *line = r->fline[i];
  if (col != NULL)
    *col = r->fcol[i];
}

char sk_csv_delimiter(const sk_csv *r) {
  SK_REQUIRE(r != NULL);
  return r->o.delimiter;
}

size_t sk_csv_trailer(const sk_csv *r, size_t *first_line, const char **text) {
  SK_REQUIRE(r != NULL);
  if (first_line != NULL)
    *first_line = r->trailer_line;
  if (text != NULL)
    *text = r->trailer_text;
  return r->trailer_n;
}

const char *sk_csv_name(const sk_csv *r) {
  SK_REQUIRE(r != NULL);
  return r->name;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

sk_status sk_csv_number(const char *text, double *out) {
  SK_REQUIRE(text != NULL && out != NULL);
  const char *p = text;
  size_t digits = 0;
  if (*p == '+' || *p == '-')
    p++;
  for (; is_digit(*p); p++)
    digits++;
  if (*p == '.')
    for (p++; is_digit(*p); p++)
      digits++;
  if (digits == 0)
    return SK_EPARSE;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!is_digit(*p))
      return SK_EPARSE;
    while (is_digit(*p))
      p++;
  }
  if (*p != '\0')
    return SK_EPARSE; /* also rules out hex, inf and nan, which strtod would take */
  char *end;
  double x = strtod(text, &end);
  if (end != p || !isfinite(x))
    return SK_EPARSE;
  *out = x;
  return SK_OK;
}

sk_status sk_csv_field_number(const sk_csv *r, size_t i, double *out, char *err, size_t errlen) {
  const char *s = sk_csv_field(r, i);
  if (sk_csv_number(s, out) == SK_OK)
    return SK_OK;
  return fail(r, SK_EPARSE, i, err, errlen, "\"%.*s\" is not a number", QUOTE_MAX, s);
}
