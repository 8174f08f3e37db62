/*
 * status.h -- the one status enum.  SK_OK is 0, failures are negative.  Codes, names and
 * messages come from one X-macro list; new codes go at the end, none is renumbered.
 */
#ifndef SKADI_STATUS_H
#define SKADI_STATUS_H

#define SK_STATUS_MAP(X)                                              \
  X(OK, 0, "ok")                                                      \
  X(ENOMEM, -1, "out of memory")                                      \
  X(EINVAL, -2, "invalid argument")                                   \
  X(EIO, -3, "input/output error")                                    \
  X(EPARSE, -4, "parse error")                                        \
  X(ERANGE, -5, "value out of range")                                 \
  X(ENOTFOUND, -6, "not found")                                       \
  X(EINTR, -7, "interrupted")

typedef enum {
#define SK_STATUS_ENUM(name, code, msg) SK_##name = code,
  SK_STATUS_MAP(SK_STATUS_ENUM)
#undef SK_STATUS_ENUM
} sk_status;

#include <stddef.h>

#if defined(__GNUC__)
#define SK_PRINTF_LIKE(fmt_arg, first_arg) __attribute__((format(printf, fmt_arg, first_arg)))
#else
#define SK_PRINTF_LIKE(fmt_arg, first_arg)
#endif

/* Formats an error message into the caller's buffer err (errlen bytes, truncated to fit).
 * err may be NULL or errlen 0: then nothing is written.  Used by every function that
 * reports bad input as "<where>: <field>: <reason>". */
void sk_errf(char *err, size_t errlen, const char *fmt, ...) SK_PRINTF_LIKE(3, 4);

/* Static string naming the status ("SK_ENOMEM") and describing it. */
const char *sk_status_name(sk_status s);
const char *sk_status_message(sk_status s);

#endif
