/*
 * status.c -- names and messages for sk_status, generated from the one X-macro list in
 * status.h so the three can never drift apart.
 */
#include "skadi/status.h"

#include <stdarg.h>
#include <stdio.h>

void sk_errf(char *err, size_t errlen, const char *fmt, ...) {
  if (err == NULL || errlen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

const char *sk_status_name(sk_status s) {
  switch (s) {
#define SK_STATUS_NAME(name, code, msg) \
  case SK_##name:                       \
    return "SK_" #name;
    SK_STATUS_MAP(SK_STATUS_NAME)
#undef SK_STATUS_NAME
  }
  return "SK_UNKNOWN";
}

const char *sk_status_message(sk_status s) {
  switch (s) {
#define SK_STATUS_MSG(name, code, msg) \
  case SK_##name:                      \
    return msg;
    SK_STATUS_MAP(SK_STATUS_MSG)
#undef SK_STATUS_MSG
  }
  return "unknown status";
}
