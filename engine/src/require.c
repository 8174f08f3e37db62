/*
 * require.c -- the failure path of SK_REQUIRE (require.h): one place prints and aborts, so
 * every contract break in engine/, models/ and sim/ reads the same.
 */
#include "skadi/require.h"

#include <stdio.h>
#include <stdlib.h>

void sk__require_failed(const char *expr, const char *file, int line, const char *func) {
  fprintf(stderr, "%s:%d: %s: contract broken: %s\n", file, line, func, expr);
  abort();
}
