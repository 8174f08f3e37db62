/*
 * timestamp.h -- the one parser of time stamps written in input files (CSV columns, mapping
 * strings), and its formatter.  Used by the dataset mixer (mix.c), the request trace
 * loader (trace.c) and the IMS data loader (ims_data.c).
 *
 * Times are int64 ns since 1970-01-01T00:00:00Z, which holds 1677-09-21 .. 2262-04-11.
 * They are computed from the civil date with integer arithmetic, never with mktime(),
 * timegm() or strptime(): those read the machine's time zone and locale, so the same file
 * could give different times on two machines.  A civil time without a zone is taken as
 * UTC, or as local time in the caller's zone (sk_time_opts.zone, below).
 *
 * Zones (sk_time_zone) are this file's own small rule, not the C library's tz database:
 * TZ/tzset/mktime are process-global and read whatever tzdata the machine has, so one file
 * could convert differently on two machines (or two threads).  A zone is a fixed UTC
 * offset, or a POSIX TZ rule (standard and daylight offsets, daylight time from the w-th
 * weekday d of month m at a local time to another such day: "CET-1CEST,M3.5.0,M10.5.0/3"),
 * or one of a few IANA names mapped to the POSIX rule their tzdata ends with
 * ("Europe/Berlin", "America/New_York", ...: sk_time_zone_parse lists them).  The current
 * rule is applied to every year: dates before a zone's last rule change (the US before
 * 2007, the EU before 1996) convert with today's rule.
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
 *   SK_TIME_UNIX_AUTO  1700157600 or 1700157600000  s below 1e11, ms from 1e11 on (alone, not
 *                                               with UNIX_S or UNIX_MS): 1e11 s is the
 *                                               year 5138, 1e11 ms is 1973, so for times
 *                                               after 1973 the size tells the unit
 * A civil time is exactly YYYY-MM-DD, 'T' or ' ', hh:mm:ss, then optionally '.' and
 * fractional digits, then (with SK_TIME_ZONE) optionally 'Z' or +hh:mm / -hh:mm (also +hhmm
 * and +hh, and one space before the sign, as SQL Server writes a datetimeoffset).  Dates
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
#define SK_TIME_UNIX_AUTO 0x20u
/* Every civil form with or without a zone, and Unix seconds. */
#define SK_TIME_ANY (SK_TIME_ISO_T | SK_TIME_ISO_SPACE | SK_TIME_ZONE | SK_TIME_UNIX_S)
/* Every form a user may write: civil with or without a zone, Unix s or ms by size. */
#define SK_TIME_ALL (SK_TIME_ISO_T | SK_TIME_ISO_SPACE | SK_TIME_ZONE | SK_TIME_UNIX_AUTO)

/* 2200-01-01T00:00:00Z in ns since the epoch: the end of the range data files are held to
 * (mix, traces), so that the difference of two accepted times always fits an int64. */
#define SK_TIME_DATA_MAX_NS (7258118400LL * 1000000000LL)

/* A daylight-saving transition: the `week`-th (1..5, 5 = last) weekday `wday` (0 = Sunday)
 * of `month` (1..12), at `time_s` seconds after that day's local midnight (POSIX allows
 * -167 h .. 167 h). */
typedef struct {
  int month, week, wday;
  int32_t time_s;
} sk_time_rule;

/* A time zone (see the top of this file).  Plain value; fill it with sk_time_zone_parse. */
typedef struct {
  char name[64];      /* as given, for messages */
  int32_t std_off_s;  /* local standard time minus UTC, s (east positive: Berlin 3600) */
  int32_t dst_off_s;  /* local daylight time minus UTC, s (Berlin 7200) */
  int has_dst;        /* 0: std_off_s all year */
  sk_time_rule start; /* daylight time starts (local standard time) */
  sk_time_rule end;   /* and ends (local daylight time) */
} sk_time_zone;

typedef struct {
  unsigned forms;           /* SK_TIME_* bits: at least one form, not both UNIX_S and UNIX_MS */
  int max_frac_digits;      /* 1..9: more fractional digits are an error; 0: any number, the
                               ones past ns dropped (truncated toward the past) */
  int64_t min_ns;           /* ns since the epoch, earliest accepted time (inclusive) */
  int64_t max_ns;           /* ns since the epoch, latest accepted time (exclusive), > min_ns */
  const sk_time_zone *zone; /* civil times without a zone are local times here; NULL: UTC.
                               A local time the clocks skip (spring forward) is an error;
                               one they pass twice (fall back) is its first occurrence */
} sk_time_opts;

/* Fills *o with the defaults: SK_TIME_ANY, any number of fractional digits, every time
 * int64 ns can hold (min_ns INT64_MIN, max_ns INT64_MAX), zone NULL (UTC). */
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
 *   "1969-12-31T23:59:59Z" is outside the supported range 1970..2199
 *   "2024-03-31 02:30:00" does not exist in Europe/Berlin (clocks skip that hour) */
sk_status sk_time_parse(const char *text, size_t len, const sk_time_opts *opts, int64_t *t_ns,
                        char *reason, size_t rlen);

/* Formats t_ns as ISO 8601 UTC, "2023-11-16T18:00:00Z", with frac_digits (0..9)
 * fractional digits, into buf (len bytes; 32 hold every time). */
void sk_time_format(int64_t t_ns, int frac_digits, char *buf, size_t len);

/* Reads a zone: "UTC" or "Z"; a fixed offset "+02:00", "-0530", "+09"; a POSIX TZ rule
 * "std offset [dst [offset] ,Mm.w.d[/time],Mm.w.d[/time]]" (offsets west-positive as POSIX
 * writes them: "EST5EDT,M3.2.0,M11.1.0"; names of 3+ letters or <+03>); or an IANA name
 * from the built-in table (sk_time_zone_names).  SK_OK with *z, or SK_EPARSE with the
 * reason ("unknown time zone "Mars/Base"; use ...").  name is copied (truncated). */
sk_status sk_time_zone_parse(const char *spec, sk_time_zone *z, char *reason, size_t rlen);

/* The built-in IANA names, ", "-separated (static string), for help texts. */
const char *sk_time_zone_names(void);

/* Local time minus UTC, in s, at the instant utc_s (s since the epoch). */
int32_t sk_time_zone_offset(const sk_time_zone *z, int64_t utc_s);

/* Local civil time local_s (s since 1970-01-01T00:00:00 of the local calendar) to s since
 * the epoch.  SK_OK; or SK_EPARSE when the local time does not exist (skipped by a spring
 * forward), *utc_s then untouched.  A repeated local time gives its first (daylight)
 * instant; *ambiguous (may be NULL) says it was one. */
sk_status sk_time_zone_to_utc(const sk_time_zone *z, int64_t local_s, int64_t *utc_s,
                              int *ambiguous);

#endif
