/*
 * jsonutil.c -- helpers shared by the JSON readers (contracts in jsonutil.h).  The
 * messages of the scenario loader and the mapping loader name a field, what was expected
 * and what was given; these are the pieces both need to say the last part the same way.
 */
#include "jsonutil.h"

#include <cjson/cJSON.h>
#include <string.h>

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
    } else {
      ++*col;
    }
  }
  return pos;
}
