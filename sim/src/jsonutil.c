/*
 * jsonutil.c -- helpers shared by the JSON readers (contracts in jsonutil.h).  The
 * messages of the scenario loader and the mapping loader name a field, what was expected
 * and what was given; these are the pieces both need to say the last part the same way.
 *
 * Syntax errors.  cJSON says only where it stopped, and that is often not where the
 * mistake is: for `{"seed": 1,}` it fails at the end of the text, which read as
 * "unexpected end of input (truncated?)".  So when cJSON refuses a text, a small
 * recursive-descent checker reads it again to find the first token that breaks the
 * grammar and says what it expected there ("trailing comma before '}'", "expected ':'
 * after the key \"seed\"").  It runs only on texts cJSON refused, so its speed does not
 * matter.  It accepts what cJSON accepts (numbers are whatever strtod reads whole,
 * control characters may stand in strings, a UTF-8 byte-order mark is skipped, nesting
 * stops at cJSON's limit) but for one thing: a \u escape without four hex digits, which
 * cJSON reads as a NUL character and the checker reports.  Were it to pass a text cJSON
 * refused -- 160,000 random edits of the shipped scenarios found none -- the message
 * falls back to cJSON's position and the text around it.
 *
 * Considered and rejected: patching cJSON's error pointer (it is one pointer with no
 * reason), and replacing cJSON with this checker building the tree (two parsers to keep
 * in step instead of one checker that only has to agree on what is an error).
 */
#include "jsonutil.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/status.h"

const char *sk__json_type_name(const cJSON *j) {
  if (cJSON_IsString(j))
    return "a string";
  if (cJSON_IsNumber(j))
    return "a number";
  if (cJSON_IsBool(j))
    return "a boolean";
  if (cJSON_IsNull(j))
    return "null";
  if (cJSON_IsArray(j))
    return "an array";
  if (cJSON_IsObject(j))
    return "an object";
  return "something else";
}

int sk__json_key_repeated(const cJSON *obj, const cJSON *c) {
  for (const cJSON *d = obj->child; d != NULL && d != c; d = d->next)
    if (strcmp(d->string, c->string) == 0)
      return 1;
  return 0;
}

size_t sk__json_error_pos(const char *text, size_t len, const char *at, int *line, int *col) {
  size_t pos = (at != NULL && at >= text && at <= text + len) ? (size_t)(at - text) : len;
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < pos; i++) {
    if (text[i] == '\n') {
      ++*line;
      *col = 1;
    } else if (((unsigned char)text[i] & 0xC0) != 0x80) { /* not a UTF-8 continuation byte */
      ++*col;
    }
  }
  return pos;
}

/* ---- the checker -------------------------------------------------------------------- */

#define WHY_LEN 160
#define MAX_DEPTH CJSON_NESTING_LIMIT

typedef struct {
  const char *s;
  size_t len;
  size_t i;          /* next byte */
  size_t err_at;     /* where the first error is */
  char why[WHY_LEN]; /* what it is; "" while none */
} checker;

static int fail(checker *c, size_t at, const char *fmt, ...) SK_PRINTF_LIKE(3, 4);

/* Records the error (the first one only) and returns 0 so callers can `return fail(...)`. */
static int fail(checker *c, size_t at, const char *fmt, ...) {
  if (c->why[0] == '\0') {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    c->err_at = at;
  }
  return 0;
}

static void skip_blanks(checker *c) {
  while (c->i < c->len &&
         (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
    c->i++;
}

static int is_word_char(char ch) {
  return isalnum((unsigned char)ch) || ch == '_' || ch == '-' || ch == '.' || ch == '+';
}

/* What stands at c->i, for "got ...": a word ('seed', 'tru'), one character (','), or the
 * end of the input. */
static const char *got(const checker *c, char *buf, size_t len) {
  size_t i = c->i;
  if (i >= c->len)
    return "the end of the input (truncated?)";
  char ch = c->s[i];
  if (ch == '\0')
    return "a NUL byte";
  if (ch == '/' && i + 1 < c->len && (c->s[i + 1] == '/' || c->s[i + 1] == '*'))
    return "a comment (JSON has none)";
  if (ch == '\'')
    return "a single quote (JSON strings take double quotes)";
  size_t n = 1;
  if (is_word_char(ch))
    while (i + n < c->len && n < 24 && is_word_char(c->s[i + n]))
      n++;
  snprintf(buf, len, "'%.*s'", (int)n, c->s + i);
  return buf;
}

static int hex4(const char *p) {
  for (int k = 0; k < 4; k++)
    if (!isxdigit((unsigned char)p[k]))
      return 0;
  return 1;
}

/* A string at c->i (a '"'); *start and *n give its raw contents for messages. */
static int check_string(checker *c, size_t *start, size_t *n) {
  size_t open = c->i++;
  while (c->i < c->len) {
    char ch = c->s[c->i];
    if (ch == '"') {
      *start = open + 1;
      *n = c->i - open - 1;
      c->i++;
      return 1;
    }
    if (ch == '\\') {
      if (c->i + 1 >= c->len)
        break;
      char e = c->s[c->i + 1];
      if (e == 'u') {
        if (c->i + 6 > c->len || !hex4(c->s + c->i + 2))
          return fail(c, c->i, "\\u in a string must be followed by 4 hex digits");
        c->i += 6;
        continue;
      }
      if (strchr("\"\\/bfnrt", e) == NULL || e == '\0')
        return fail(c, c->i,
                    "invalid escape '\\%c' in a string (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                    e);
      c->i += 2;
      continue;
    }
    c->i++;
  }
  return fail(c, open, "string never closed (no closing '\"' before the end of the input)");
}

static int check_value(checker *c, int depth);

/* An object or an array at c->i ('{' or '['). */
static int check_container(checker *c, int depth) {
  int object = c->s[c->i] == '{';
  char close = object ? '}' : ']';
  const char *kind = object ? "an object" : "an array";
  char buf[40];
  if (depth >= MAX_DEPTH)
    return fail(c, c->i, "nested deeper than %d levels", MAX_DEPTH);
  c->i++;
  skip_blanks(c);
  if (c->i < c->len && c->s[c->i] == close) {
    c->i++;
    return 1;
  }
  for (;;) {
    size_t key = 0, key_len = 0;
    if (object) {
      if (c->i >= c->len || c->s[c->i] != '"')
        return fail(c, c->i, "expected a key in double quotes, got %s", got(c, buf, sizeof buf));
      if (!check_string(c, &key, &key_len))
        return 0;
      skip_blanks(c);
      if (c->i >= c->len || c->s[c->i] != ':')
        return fail(c, c->i, "expected ':' after the key \"%.*s\", got %s",
                    (int)(key_len < 40 ? key_len : 40), c->s + key, got(c, buf, sizeof buf));
      c->i++;
      skip_blanks(c);
    }
    if (!check_value(c, depth + 1))
      return 0;
    skip_blanks(c);
    if (c->i < c->len && c->s[c->i] == close) {
      c->i++;
      return 1;
    }
    if (c->i >= c->len || c->s[c->i] != ',') {
      if (object)
        return fail(c, c->i, "expected ',' or '}' after the value of \"%.*s\", got %s",
                    (int)(key_len < 40 ? key_len : 40), c->s + key, got(c, buf, sizeof buf));
      return fail(c, c->i, "expected ',' or ']' in %s, got %s", kind, got(c, buf, sizeof buf));
    }
    size_t comma = c->i++;
    skip_blanks(c);
    if (c->i < c->len && c->s[c->i] == close)
      return fail(c, comma, "trailing comma before '%c' (JSON allows none; remove it)", close);
  }
}

static int check_value(checker *c, int depth) {
  char buf[40];
  char ch = c->i < c->len ? c->s[c->i] : '\0'; /* '\0' (as a NUL byte) matches no value */
  if (ch == '{' || ch == '[')
    return check_container(c, depth);
  if (ch == '"') {
    size_t start, n;
    return check_string(c, &start, &n);
  }
  static const char *const literals[] = {"true", "false", "null"};
  for (size_t k = 0; k < 3; k++) {
    size_t n = strlen(literals[k]);
    if (c->len - c->i >= n && memcmp(c->s + c->i, literals[k], n) == 0) {
      c->i += n;
      return 1;
    }
  }
  if (ch == '-' || isdigit((unsigned char)ch)) {
    /* as cJSON: the run of number characters, which strtod must read whole */
    size_t n = 0;
    char num[64];
    while (c->i + n < c->len && n + 1 < sizeof num && strchr("0123456789+-eE.", c->s[c->i + n]) &&
           c->s[c->i + n] != '\0')
      n++;
    memcpy(num, c->s + c->i, n);
    num[n] = '\0';
    char *end;
    (void)strtod(num, &end);
    if ((size_t)(end - num) != n)
      return fail(c, c->i, "malformed number '%s'", num);
    c->i += n;
    return 1;
  }
  return fail(c, c->i,
              "expected a value (a string, number, object, array, true, false or null), got %s",
              got(c, buf, sizeof buf));
}

/* 1 when text[len] is valid JSON; 0 with c->err_at and c->why set. */
static int check_text(checker *c) {
  if (c->len >= 3 && memcmp(c->s, "\xEF\xBB\xBF", 3) == 0)
    c->i = 3;
  skip_blanks(c);
  if (!check_value(c, 0))
    return 0;
  skip_blanks(c);
  if (c->i < c->len)
    return fail(c, c->i, "text after the end of the top-level value");
  return 1;
}

void sk__json_syntax_error(const char *text, size_t len, const char *cjson_at, const char *origin,
                           char *err, size_t errlen) {
  size_t k = 0;
  while (k < len && isspace((unsigned char)text[k]))
    k++;
  if (k == len) {
    sk_errf(err, errlen, "%s: invalid JSON: the file is empty", origin);
    return;
  }
  checker c = {text, len, 0, 0, ""};
  int line, col;
  if (!check_text(&c)) {
    sk__json_error_pos(text, len, text + c.err_at, &line, &col);
    sk_errf(err, errlen, "%s:%d:%d: invalid JSON: %s", origin, line, col, c.why);
    return;
  }
  /* The checker found nothing: say where cJSON stopped, with up to 16 characters either
   * side on that line (cJSON often stops just past the culprit). */
  size_t pos = sk__json_error_pos(text, len, cjson_at, &line, &col);
  size_t a = pos, b = pos;
  while (a > 0 && pos - a < 16 && text[a - 1] != '\n')
    a--;
  while (b < len && b - pos < 16 && text[b] != '\n' && text[b] != '\r')
    b++;
  while (a < b && isspace((unsigned char)text[a]))
    a++;
  sk_errf(err, errlen, "%s:%d:%d: invalid JSON near '%.*s'", origin, line, col, (int)(b - a),
          text + a);
}
