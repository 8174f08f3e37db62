/*
 * timeparse.c -- calendar arithmetic for the time-stamp parsers (contracts in
 * timeparse.h).  The day-number conversions are Howard Hinnant's "chrono-compatible
 * low-level date algorithms": exact for every date int64 days can hold, no tables, no
 * loops.  One copy, so the mixer, the trace reader and the IMS CSV reader cannot come to
 * disagree about a date.
 */
#include "timeparse.h"

int64_t sk__days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                                   /* [0, 399] */
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

void sk__civil_from_days(int64_t z, int *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (*m <= 2));
}

int sk__days_in_month(int y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 ? 28 + leap : dm[m - 1];
}

int sk__read_digits(const char **p, const char *end, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (*p >= end || **p < '0' || **p > '9')
      return 0;
    v = v * 10 + (**p - '0');
    (*p)++;
  }
  *out = v;
  return 1;
}
