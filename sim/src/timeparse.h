/*
 * timeparse.h -- calendar arithmetic and digit reading under the time-stamp parser
 * (skadi/timestamp.h, which mix.c and trace.c use) and ims_store.c's own parser, until it
 * moves to the public one.  Private to sim/.
 *
 * Times are computed from the civil date with integer arithmetic, never with mktime(),
 * timegm() or strptime(): those read the machine's time zone and locale, so the same file
 * could give different times on two machines.
 */
#ifndef SKADI_SIM_TIMEPARSE_H
#define SKADI_SIM_TIMEPARSE_H

#include <stdint.h>

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12; d is not checked
 * against the month: see sk__days_in_month), negative before 1970. */
int64_t sk__days_from_civil(int64_t y, int m, int d);

/* The inverse: the date of day z since 1970-01-01. */
void sk__civil_from_days(int64_t z, int *y, int *m, int *d);

/* Days in month m (1..12) of year y. */
int sk__days_in_month(int y, int m);

/* Reads exactly n decimal digits at *p, not reading at or past end, into *out and
 * advances *p past them.  Returns 0 (*p then somewhere in between) when fewer are there. */
int sk__read_digits(const char **p, const char *end, int n, int *out);

#endif
