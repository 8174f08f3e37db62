/*
 * jsonutil.h -- small helpers for the two JSON readers, the scenario loader (scenario.c)
 * and the mixer's mapping (mix.c), so that both word their messages alike.  Private to
 * sim/.
 */
#ifndef SKADI_SIM_JSONUTIL_H
#define SKADI_SIM_JSONUTIL_H

#include <stddef.h>

struct cJSON;

/* "a string", "a number", "a boolean", "null", "an array", "an object": what a message
 * says the user gave ("expected a number, got a string"). */
const char *sk__json_type_name(const struct cJSON *j);

/* 1 when a member of obj before c has c's name (cJSON keeps both; we refuse it). */
int sk__json_key_repeated(const struct cJSON *obj, const struct cJSON *c);

/* Where a parse error points: the offset of at in text[len] (len when at is NULL or
 * outside text) and its 1-based line and column for "<file>:<line>:<col>: ...".  The
 * column counts characters, not bytes (UTF-8 continuation bytes do not count), as an
 * editor shows it. */
size_t sk__json_error_pos(const char *text, size_t len, const char *at, int *line, int *col);

/* The message for a text cJSON refused, into err (errlen bytes), the same for every JSON
 * file the program reads:
 *   "<origin>: invalid JSON: the file is empty"                 (nothing but blanks)
 *   "<origin>:<line>:<col>: invalid JSON: <what>"               (the first offending token)
 * where <what> is e.g. "trailing comma before '}' (...)", "expected ':' after the key
 * \"seed\", got '1'", "expected a value (...), got the end of the input (truncated?)",
 * "text after the end of the top-level value".  text[len] need not be NUL-terminated.
 * cjson_at (cJSON's error position; may be NULL) is used only when the text's own check
 * finds no error: "<origin>:<line>:<col>: invalid JSON near '<text around it>'". */
void sk__json_syntax_error(const char *text, size_t len, const char *cjson_at, const char *origin,
                           char *err, size_t errlen);

#endif
