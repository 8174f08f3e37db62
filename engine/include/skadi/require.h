/*
 * require.h -- the one contract check: SK_REQUIRE(cond) aborts with file:line, the
 * function and the condition on stderr when cond is false.
 *
 * For bugs, not for bad input (house style: bad input returns a status with a message).
 * Always on: plain assert() vanishes under NDEBUG, which the default RelWithDebInfo build
 * sets, so a broken contract would run on silently there.  It costs one predictable branch.
 * Conditions must have no side effects a correct program depends on -- they run in every
 * build, but read as statements of fact, not as work.
 */
#ifndef SKADI_REQUIRE_H
#define SKADI_REQUIRE_H

/* Prints "<file>:<line>: <func>: contract broken: <expr>" to stderr and aborts.  Called only
 * through SK_REQUIRE. */
_Noreturn void sk__require_failed(const char *expr, const char *file, int line,
                                  const char *func);

#define SK_REQUIRE(cond)                                                                   \
  ((cond) ? (void)0 : sk__require_failed(#cond, __FILE__, __LINE__, __func__))

#endif
