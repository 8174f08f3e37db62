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

/* Where cJSON's parse error points: the offset of at in text[len] (len when at is NULL or
 * outside text) and its 1-based line and column for "<file>:<line>:<col>: ...". */
size_t sk__json_error_pos(const char *text, size_t len, const char *at, int *line, int *col);

#endif
