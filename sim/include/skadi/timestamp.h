/*
 * timestamp.h -- the one parser of time stamps written in input files (CSV columns, mapping
 * strings), and its formatter.  Used by the dataset mixer (mix.c), the request trace
 * loader (trace.c) and the IMS data loader (ims_data.c).
 *
 * Times are int64 ns since 1970-01-01T00:00:00Z, which holds 1677-09-21 .. 2262-04-11.
 * They are computed from the civil date with integer arithmetic, never with mktime(),
 * timegm() or strptime(): those read the machine's time zone and locale, so the same file
 * could give different times on two machines.  A civil time without a zone is taken as
 * UTC (a file that writes local times without saying so cannot be told apart).
 *
 * Accepted forms, each switched on by a bit of sk_time_opts.forms:
 *   SK_TIME_ISO_T      2023-11-16T18:00:00      ISO 8601 / RFC 3339 date-time
 *   SK_TIME_ISO_SPACE  2023-11-16 18:00:00      the same with a space (RFC 3339 allows it;
 *                                               the Azure LLM traces write it so)
 *   SK_TIME_ZONE       ...Z, ...+01:00, ...-05:30  a zone after either civil form; without
 *                                               this bit a zone is an error
 *   SK_TIME_UNIX_S     1700157600, 1700157600.25  s since the epoch
 *   SK_TIME_UNIX_MS    1700157600000.5           ms since the epoch (not with UNIX_S: the
 *                                               two cannot be told apart)
 * A civil time is exactly YYYY-MM-DD, 'T' or ' ', hh:mm:ss, then optionally '.' and
 * fractional digits, then (with SK_TIME_ZONE) optionally 'Z' or +hh:mm / -hh:mm.  Dates
 * are checked against the month (2024-02-29 yes, 2023-02-29 no); hh 00..23, mm 00..59,
 * ss 00..60 -- a leap second :60 counts as the next second, as POSIX time does.  A Unix
 * time is decimal digits with an optional '.' and digits: no sign, no exponent, no blanks.
 * Nothing is trimmed: the caller passes the field as read.
 */
#ifndef SKADI_TIMESTAMP_H
#define SKADI_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/status.h"

#define SK_TIME_ISO_T 0x01u
#define SK_TIME_ISO_SPACE 0x02u
#define SK_TIME_ZONE 0x04u
#define SK_TIME_UNIX_S 0x08u
#define SK_TIME_UNIX_MS 0x10u
/* Every civil form with or without a zone, and Unix seconds. */
#define SK_TIME_ANY (SK_TIME_ISO_T | SK_TIME_ISO_SPACE | SK_TIME_ZONE | SK_TIME_UNIX_S)

typedef struct {
  unsigned forms;      /* SK_TIME_* bits: at least one form, not both UNIX_S and UNIX_MS */
  int max_frac_digits; /* 1..9: more fractional digits are an error; 0: any number, the
                          ones past ns dropped (truncated toward the past) */
  int64_t min_ns;      /* ns since the epoch, earliest accepted time (inclusive) */
  int64_t max_ns;      /* ns since the epoch, latest accepted time (exclusive), > min_ns */
} sk_time_opts;

/* Fills *o with the defaults: SK_TIME_ANY, any number of fractional digits, every time
 * int64 ns can hold (min_ns INT64_MIN, max_ns INT64_MAX). */
void sk_time_opts_init(sk_time_opts *o);

/* Parses the len bytes at text (no NUL needed; "" is len 0) into *t_ns, ns since
 * 1970-01-01T00:00:00Z.  opts NULL means the defaults.  Returns
 *   SK_OK      *t_ns set;
 *   SK_EPARSE  not one of the accepted forms, or not a real date and time;
 *   SK_ERANGE  a valid time outside [min_ns, max_ns);
 * and then *t_ns is untouched and reason (rlen bytes; may be NULL) says why, quoting the
 * text but not naming any file or column -- the caller prefixes those:
 *   expected an ISO 8601 time like 2023-11-16T18:00:00Z ..., got "..."
 *   not a valid date and time: "2023-02-29 00:00:00"
 *   expected 1 to 7 digits after the seconds' decimal point, got "..."
 *   unexpected "Z" after the time (no time zone in this format)
 *   "1969-12-31T23:59:59Z" is outside the supported range 1970..2199 */
sk_status sk_time_parse(const char *text, size_t len, const sk_time_opts *opts, int64_t *t_ns,
                        char *reason, size_t rlen);

/* Formats t_ns as ISO 8601 UTC, "2023-11-16T18:00:00Z", with frac_digits (0..9)
 * fractional digits, into buf (len bytes; 32 hold every time). */
void sk_time_format(int64_t t_ns, int frac_digits, char *buf, size_t len);

#endif
