/*
 * timeparse.c -- the time-stamp parser and formatter (skadi/timestamp.h) and the calendar
 * arithmetic under them, private to this file.  The day-number conversions are Howard
 * Hinnant's "chrono-compatible low-level date algorithms": exact for every date int64 days
 * can hold, no tables, no loops.  One copy, so the mixer (mix.c), the trace reader
 * (trace.c) and the IMS CSV reader (ims_data.c) cannot come to disagree about a date.
 *
 * The parser reads the text once, left to right, and says what went wrong at the first
 * place it goes wrong: a shape that is not a time at all ("expected ..." naming the forms
 * the caller accepts), too many fractional digits, a zone where none is allowed, junk
 * after the time, a date that does not exist, or a time outside the caller's range.  Each
 * caller chooses its forms, digits and range (sk_time_opts), so one grammar serves the
 * mixer's declared time_format, the trace's zone-less 100 ns stamps and the IMS CSV's
 * civil times with or without a zone.  All arithmetic is on int64 with explicit overflow
 * checks; no double is involved, so a fraction is exact to the ns.
 *
 * Rejected: guessing the unit of a Unix time from its size (s vs ms) -- a 2001 time in ms
 * is a 2286 time in s, so the guess would be silently wrong; the caller says which.
 * Rejected: lower-case 't' and 'z' (RFC 3339 allows them): no file we read writes them, and
 * each leniency is one more thing a wrong mapping can slip through.
 */
#include <stdio.h>
#include <string.h>

#include "skadi/require.h"
#include "skadi/timestamp.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define NS_PER_DAY (86400LL * NS_PER_S)
#define QUOTE_MAX 40 /* bytes of the text quoted in a reason */

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12; d is not checked
 * against the month: see days_in_month), negative before 1970. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                                   /* [0, 399] */
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

/* The inverse: the date of day z since 1970-01-01. */
static void civil_from_days(int64_t z, int *y, int *m, int *d) {
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

/* Days in month m (1..12) of year y. */
static int days_in_month(int y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 ? 28 + leap : dm[m - 1];
}

/* Reads exactly n decimal digits at *p, not reading at or past end, into *out and
 * advances *p past them.  Returns 0 (*p then somewhere in between) when fewer are there. */
static int read_digits(const char **p, const char *end, int n, int *out) {
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

/* ------------------------------------------------------------------------------------ */
/* Parsing                                                                              */

void sk_time_opts_init(sk_time_opts *o) {
  SK_REQUIRE(o != NULL);
  o->forms = SK_TIME_ANY;
  o->max_frac_digits = 0;
  o->min_ns = INT64_MIN;
  o->max_ns = INT64_MAX;
  o->zone = NULL;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int year_of(int64_t t_ns) {
  int y, m, d;
  civil_from_days(floor_div(t_ns, NS_PER_DAY), &y, &m, &d);
  return y;
}

static int quote_len(const char *s, const char *end) {
  return end - s > QUOTE_MAX ? QUOTE_MAX : (int)(end - s);
}

/* "expected <the forms in opts>, got "<text>"". */
static sk_status syntax_error(const sk_time_opts *o, const char *s, const char *end, char *reason,
                              size_t rlen) {
  unsigned f = o->forms;
  const char *civil = NULL, *unix_time = NULL;
  if ((f & (SK_TIME_ISO_T | SK_TIME_ISO_SPACE)) == SK_TIME_ISO_T)
    civil = f & SK_TIME_ZONE ? "an ISO 8601 time like 2023-11-16T18:00:00Z or "
                               "2023-11-16T19:00:00.5+01:00"
                             : "an ISO 8601 time like 2023-11-16T18:00:00.5";
  else if (f & SK_TIME_ISO_SPACE)
    civil = !(f & SK_TIME_ZONE) ? "a time like 2023-11-16 18:15:46.6805900"
            : f & SK_TIME_ISO_T ? "a time like 2023-11-16 18:15:46.68Z or "
                                  "2023-11-16T19:15:46.68+01:00"
                                : "a time like 2023-11-16 18:15:46.68Z or "
                                  "2023-11-16 19:15:46.68+01:00";
  if (f & SK_TIME_UNIX_S)
    unix_time = "seconds since 1970-01-01T00:00:00Z like 1700157600 or 1700157600.25";
  else if (f & SK_TIME_UNIX_MS)
    unix_time = "milliseconds since 1970-01-01T00:00:00Z like 1700157600000";
  else if (f & SK_TIME_UNIX_AUTO)
    unix_time = "a Unix time in s or ms like 1700157600 or 1700157600000";
  sk_errf(reason, rlen, "expected %s%s%s, got \"%.*s\"", civil ? civil : "",
          civil && unix_time ? ", or " : "", unix_time ? unix_time : "", quote_len(s, end), s);
  return SK_EPARSE;
}

static sk_status range_error(const sk_time_opts *o, const char *s, const char *end, char *reason,
                             size_t rlen) {
  sk_errf(reason, rlen, "\"%.*s\" is outside the supported range %d..%d", quote_len(s, end), s,
          year_of(o->min_ns), year_of(o->max_ns - 1));
  return SK_ERANGE;
}

/* Digits after a decimal point (the point consumed) at *p: their value scaled to `scale`
 * digits (9 for ns of a second, 6 for ns of a ms), digits past `scale` dropped.  Returns
 * the number of digits read (0: none), or -1 past max_digits (0: no limit). */
static int fraction(const char **p, const char *end, int scale, int max_digits, int64_t *out) {
  int64_t v = 0;
  int n = 0;
  for (; *p < end && **p >= '0' && **p <= '9'; (*p)++, n++)
    if (n < scale)
      v = v * 10 + (**p - '0');
  if (max_digits > 0 && n > max_digits)
    return -1;
  for (int i = n; i < scale; i++)
    v *= 10;
  *out = v;
  return n;
}

static sk_status fraction_error(const char *s, const char *end, const char *unit, int max_digits,
                                char *reason, size_t rlen) {
  sk_errf(reason, rlen, "expected 1 to %d digits after the %s' decimal point, got \"%.*s\"",
          max_digits, unit, quote_len(s, end), s);
  return SK_EPARSE;
}

/* A civil time at [s, end) into whole seconds since the epoch (UTC) and ns. */
static sk_status parse_civil(const char *s, const char *end, const sk_time_opts *o, int64_t *secs,
                             int64_t *frac, char *reason, size_t rlen) {
  const char *p = s;
  int y, mo, d, h, mi, sec;
  int sep_ok = 0;
  int ok = read_digits(&p, end, 4, &y) && p < end && *p++ == '-' && read_digits(&p, end, 2, &mo) &&
           p < end && *p++ == '-' && read_digits(&p, end, 2, &d) && p < end;
  if (ok) {
    sep_ok =
        (*p == 'T' && (o->forms & SK_TIME_ISO_T)) || (*p == ' ' && (o->forms & SK_TIME_ISO_SPACE));
    p++;
  }
  ok = ok && sep_ok && read_digits(&p, end, 2, &h) && p < end && *p++ == ':' &&
       read_digits(&p, end, 2, &mi) && p < end && *p++ == ':' && read_digits(&p, end, 2, &sec);
  if (!ok)
    return syntax_error(o, s, end, reason, rlen);
  *frac = 0;
  if (p < end && *p == '.') {
    p++;
    int n = fraction(&p, end, 9, o->max_frac_digits, frac);
    if (n < 0)
      return fraction_error(s, end, "seconds", o->max_frac_digits, reason, rlen);
    if (n == 0)
      return syntax_error(o, s, end, reason, rlen);
  }
  int64_t offset_s = 0;
  int zoned = 0;
  /* SQL Server writes a datetimeoffset as "2024-05-01 06:20:00.1234567 -04:00" */
  if (p + 1 < end && *p == ' ' && (p[1] == '+' || p[1] == '-') && (o->forms & SK_TIME_ZONE))
    p++;
  if (p < end && (*p == 'Z' || *p == '+' || *p == '-')) {
    if (!(o->forms & SK_TIME_ZONE)) {
      sk_errf(reason, rlen, "unexpected \"%.*s\" after the time (no time zone in this format)",
              quote_len(p, end), p);
      return SK_EPARSE;
    }
    const char *z = p;
    zoned = 1;
    if (*p == 'Z') {
      p++;
    } else {
      /* +hh:mm, +hhmm or +hh */
      int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
      int zok = read_digits(&p, end, 2, &oh);
      if (zok && p < end && *p == ':') {
        p++;
        zok = read_digits(&p, end, 2, &om);
      } else if (zok && p < end) {
        zok = read_digits(&p, end, 2, &om);
      }
      if (!zok || oh > 23 || om > 59) {
        sk_errf(reason, rlen,
                "expected a time zone Z, +hh:mm or -hh:mm after the time, got \"%.*s\"",
                quote_len(z, end), z);
        return SK_EPARSE;
      }
      offset_s = sign * (oh * 3600 + om * 60);
    }
  }
  if (p != end) {
    sk_errf(reason, rlen, "unexpected \"%.*s\" after the time", quote_len(p, end), p);
    return SK_EPARSE;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60) {
    sk_errf(reason, rlen, "not a valid date and time: \"%.*s\"", quote_len(s, end), s);
    return SK_EPARSE;
  }
  int64_t local = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  if (!zoned && o->zone != NULL) {
    if (sk_time_zone_to_utc(o->zone, local, secs, NULL) != SK_OK) {
      sk_errf(reason, rlen, "\"%.*s\" does not exist in %s (clocks skip that hour)",
              quote_len(s, end), s, o->zone->name);
      return SK_EPARSE;
    }
    return SK_OK;
  }
  *secs = local - offset_s;
  return SK_OK;
}

/* A Unix time at [s, end) in units of unit_ns (1 s or 1 ms) into ns. */
static sk_status parse_unix(const char *s, const char *end, const sk_time_opts *o, int64_t unit_ns,
                            int64_t *t_ns, char *reason, size_t rlen) {
  const char *p = s;
  int64_t v = 0, frac = 0;
  int n = 0, overflow = 0;
  for (; p < end && *p >= '0' && *p <= '9'; p++, n++) {
    if (v > (INT64_MAX - 9) / 10)
      overflow = 1;
    else
      v = v * 10 + (*p - '0');
  }
  if (n > 0 && p < end && *p == '.') {
    p++;
    /* a second's fraction resolves to ns with 9 digits, a millisecond's with 6 */
    int scale = unit_ns == NS_PER_S ? 9 : 6;
    int max = o->max_frac_digits > scale ? scale : o->max_frac_digits;
    int k = fraction(&p, end, scale, max, &frac);
    if (k < 0)
      return fraction_error(s, end, unit_ns == NS_PER_S ? "seconds" : "milliseconds", max, reason,
                            rlen);
    if (k == 0)
      return syntax_error(o, s, end, reason, rlen);
  }
  if (n == 0 || p != end)
    return syntax_error(o, s, end, reason, rlen);
  if (overflow || v > (INT64_MAX - frac) / unit_ns)
    return range_error(o, s, end, reason, rlen);
  *t_ns = v * unit_ns + frac;
  return SK_OK;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

sk_status sk_time_parse(const char *text, size_t len, const sk_time_opts *opts, int64_t *t_ns,
                        char *reason, size_t rlen) {
  sk_time_opts def;
  if (opts == NULL) {
    sk_time_opts_init(&def);
    opts = &def;
  }
  unsigned civil_forms = opts->forms & (SK_TIME_ISO_T | SK_TIME_ISO_SPACE);
  unsigned unix_forms = opts->forms & (SK_TIME_UNIX_S | SK_TIME_UNIX_MS | SK_TIME_UNIX_AUTO);
  SK_REQUIRE((text != NULL || len == 0) && t_ns != NULL);
  SK_REQUIRE((civil_forms || unix_forms) && (unix_forms & (unix_forms - 1)) == 0);
  SK_REQUIRE(opts->max_frac_digits >= 0 && opts->max_frac_digits <= 9 &&
             opts->min_ns < opts->max_ns);
  if (len == 0)
    text = ""; /* NULL is fine then, and the messages quote "" */
  const char *end = text + len;
  /* a civil time starts "YYYY-"; anything else is read as a Unix time when allowed */
  int civil =
      civil_forms && (!unix_forms || (len >= 5 && is_digit(text[0]) && is_digit(text[1]) &&
                                      is_digit(text[2]) && is_digit(text[3]) && text[4] == '-'));
  int64_t t = 0;
  sk_status st;
  if (civil) {
    int64_t secs = 0, frac = 0;
    st = parse_civil(text, end, opts, &secs, &frac, reason, rlen);
    if (st != SK_OK)
      return st;
    if (secs < INT64_MIN / NS_PER_S || secs > (INT64_MAX - frac) / NS_PER_S)
      return range_error(opts, text, end, reason, rlen);
    t = secs * NS_PER_S + frac;
  } else {
    int64_t unit = unix_forms == SK_TIME_UNIX_MS ? NS_PER_MS : NS_PER_S;
    if (unix_forms == SK_TIME_UNIX_AUTO) {
      /* 1e11 or more, i.e. 12 or more digits before any point (leading zeros aside) */
      const char *p = text;
      while (p < end && *p == '0')
        p++;
      size_t n = 0;
      while (p + n < end && is_digit(p[n]))
        n++;
      if (n >= 12)
        unit = NS_PER_MS;
    }
    st = parse_unix(text, end, opts, unit, &t, reason, rlen);
    if (st != SK_OK)
      return st;
  }
  if (t < opts->min_ns || t >= opts->max_ns)
    return range_error(opts, text, end, reason, rlen);
  *t_ns = t;
  return SK_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Formatting                                                                           */

void sk_time_format(int64_t t_ns, int frac_digits, char *buf, size_t len) {
  SK_REQUIRE(frac_digits >= 0 && frac_digits <= 9 && buf != NULL);
  /* seconds first: days * NS_PER_DAY would overflow near INT64_MIN */
  int64_t secs = t_ns / NS_PER_S, ns = t_ns % NS_PER_S;
  if (ns < 0) {
    ns += NS_PER_S;
    secs--;
  }
  int64_t days = floor_div(secs, 86400);
  int64_t s = secs - days * 86400; /* [0, 86400) */
  int y, mo, d;
  civil_from_days(days, &y, &mo, &d);
  int n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, (int)(s / 3600),
                   (int)(s / 60 % 60), (int)(s % 60));
  if (n < 0 || (size_t)n >= len)
    return;
  if (frac_digits == 0) {
    snprintf(buf + n, len - (size_t)n, "Z");
    return;
  }
  int64_t div = 1;
  for (int i = frac_digits; i < 9; i++)
    div *= 10;
  snprintf(buf + n, len - (size_t)n, ".%0*lldZ", frac_digits, (long long)(ns / div));
}

/* ------------------------------------------------------------------------------------ */
/* Zones                                                                                */

/* IANA names and the POSIX rule their tzdata file ends with (tzdata 2024a). */
static const struct {
  const char *name, *rule;
} zone_table[] = {
    {"UTC", "UTC0"},
    {"Etc/UTC", "UTC0"},
    {"GMT", "GMT0"},
    {"Europe/London", "GMT0BST,M3.5.0/1,M10.5.0"},
    {"Europe/Dublin", "IST-1GMT0,M10.5.0,M3.5.0/1"},
    {"Europe/Lisbon", "WET0WEST,M3.5.0/1,M10.5.0"},
    {"Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Madrid", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Rome", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Stockholm", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Oslo", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Zurich", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Warsaw", "CET-1CEST,M3.5.0,M10.5.0/3"},
    {"Europe/Helsinki", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Athens", "EET-2EEST,M3.5.0/3,M10.5.0/4"},
    {"Europe/Moscow", "MSK-3"},
    {"America/New_York", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Toronto", "EST5EDT,M3.2.0,M11.1.0"},
    {"America/Chicago", "CST6CDT,M3.2.0,M11.1.0"},
    {"America/Denver", "MST7MDT,M3.2.0,M11.1.0"},
    {"America/Phoenix", "MST7"},
    {"America/Los_Angeles", "PST8PDT,M3.2.0,M11.1.0"},
    {"America/Sao_Paulo", "<-03>3"},
    {"Asia/Tokyo", "JST-9"},
    {"Asia/Seoul", "KST-9"},
    {"Asia/Shanghai", "CST-8"},
    {"Asia/Singapore", "<+08>-8"},
    {"Asia/Kolkata", "IST-5:30"},
    {"Asia/Dubai", "<+04>-4"},
    {"Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
    {"Pacific/Auckland", "NZST-12NZDT,M9.5.0,M4.1.0/3"},
};

const char *sk_time_zone_names(void) {
  return "UTC, GMT, Europe/London, Europe/Dublin, Europe/Lisbon, Europe/Berlin, Europe/Paris, "
         "Europe/Amsterdam, Europe/Madrid, Europe/Rome, Europe/Stockholm, Europe/Oslo, "
         "Europe/Zurich, Europe/Warsaw, Europe/Helsinki, Europe/Athens, Europe/Moscow, "
         "America/New_York, America/Toronto, America/Chicago, America/Denver, "
         "America/Phoenix, America/Los_Angeles, America/Sao_Paulo, Asia/Tokyo, Asia/Seoul, "
         "Asia/Shanghai, Asia/Singapore, Asia/Kolkata, Asia/Dubai, Australia/Sydney, "
         "Pacific/Auckland";
}

/* [+-]hh[:mm[:ss]] at *p (hh 0..167 as POSIX allows for rule times, 0..24 for offsets is
 * checked by the caller) into seconds; 0 when malformed. */
static int posix_hms(const char **p, int32_t *out) {
  int sign = 1;
  if (**p == '+' || **p == '-')
    sign = *(*p)++ == '-' ? -1 : 1;
  int h = 0, n = 0;
  for (; **p >= '0' && **p <= '9' && n < 3; (*p)++, n++)
    h = h * 10 + (**p - '0');
  if (n == 0 || h > 167)
    return 0;
  int m = 0, sec = 0;
  if (**p == ':') {
    (*p)++;
    const char *end = *p + 2;
    if (!read_digits(p, end, 2, &m) || m > 59)
      return 0;
    if (**p == ':') {
      (*p)++;
      end = *p + 2;
      if (!read_digits(p, end, 2, &sec) || sec > 59)
        return 0;
    }
  }
  *out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
  return 1;
}

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, + and -. */
static int posix_name(const char **p) {
  const char *s = *p;
  if (*s == '<') {
    const char *q = s + 1;
    while (*q && *q != '>')
      q++;
    if (*q != '>' || q - s - 1 < 3)
      return 0;
    *p = q + 1;
    return 1;
  }
  int n = 0;
  while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))
    n++;
  if (n < 3)
    return 0;
  *p = s + n;
  return 1;
}

/* ",Mm.w.d[/time]" */
static int posix_rule(const char **p, sk_time_rule *r) {
  if (**p != ',' || (*p)[1] != 'M')
    return 0;
  *p += 2;
  int v[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) {
    int n = 0;
    for (; **p >= '0' && **p <= '9' && n < 2; (*p)++, n++)
      v[i] = v[i] * 10 + (**p - '0');
    if (n == 0 || (i < 2 && *(*p)++ != '.'))
      return 0;
  }
  if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6)
    return 0;
  r->month = v[0];
  r->week = v[1];
  r->wday = v[2];
  r->time_s = 7200; /* 02:00 by default */
  if (**p == '/') {
    (*p)++;
    return posix_hms(p, &r->time_s);
  }
  return 1;
}

static sk_status zone_error(const char *spec, char *reason, size_t rlen, const char *why) {
  sk_errf(reason, rlen,
          "time zone \"%.60s\": %s; use UTC, an offset like +02:00, a POSIX rule like "
          "CET-1CEST,M3.5.0,M10.5.0/3, or one of: %s",
          spec, why, sk_time_zone_names());
  return SK_EPARSE;
}

sk_status sk_time_zone_parse(const char *spec, sk_time_zone *z, char *reason, size_t rlen) {
  SK_REQUIRE(spec != NULL && z != NULL);
  sk_time_zone out;
  memset(&out, 0, sizeof out);
  snprintf(out.name, sizeof out.name, "%s", spec);
  const char *rule = spec;
  for (size_t i = 0; i < sizeof zone_table / sizeof zone_table[0]; i++)
    if (strcmp(spec, zone_table[i].name) == 0)
      rule = zone_table[i].rule;
  if (strcmp(rule, "Z") == 0) {
    *z = out;
    return SK_OK;
  }
  if (rule[0] == '+' || rule[0] == '-') { /* ISO 8601 offset, east positive */
    const char *p = rule + 1;
    const char *end = p + strlen(p);
    int oh, om = 0;
    int ok = read_digits(&p, end, 2, &oh);
    if (ok && p < end && *p == ':')
      p++;
    if (ok && p < end)
      ok = read_digits(&p, end, 2, &om);
    if (!ok || p != end || oh > 23 || om > 59)
      return zone_error(spec, reason, rlen, "expected an offset +hh:mm, +hhmm or +hh");
    out.std_off_s = out.dst_off_s = (int32_t)((rule[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60));
    *z = out;
    return SK_OK;
  }
  const char *p = rule;
  int32_t off;
  if (!posix_name(&p)) {
    if (strchr(spec, '/') != NULL)
      return zone_error(spec, reason, rlen, "not in the built-in table of zone names");
    return zone_error(spec, reason, rlen, "unknown time zone");
  }
  if (strpbrk(rule, "0123456789") == NULL)
    return zone_error(spec, reason, rlen, "unknown time zone");
  if (!posix_hms(&p, &off) || off > 24 * 3600 || off < -24 * 3600)
    return zone_error(spec, reason, rlen, "expected a UTC offset after the zone's name");
  out.std_off_s = out.dst_off_s = -off; /* POSIX offsets are west-positive */
  if (*p != '\0') {
    if (!posix_name(&p))
      return zone_error(spec, reason, rlen, "expected a daylight zone name after the offset");
    out.has_dst = 1;
    out.dst_off_s = out.std_off_s + 3600;
    if (*p != ',' && *p != '\0') {
      if (!posix_hms(&p, &off) || off > 24 * 3600 || off < -24 * 3600)
        return zone_error(spec, reason, rlen, "bad daylight offset");
      out.dst_off_s = -off;
    }
    if (!posix_rule(&p, &out.start) || !posix_rule(&p, &out.end))
      return zone_error(spec, reason, rlen,
                        "expected the daylight rule ,Mm.w.d[/time],Mm.w.d[/time] (only the M "
                        "form is supported)");
  }
  if (*p != '\0')
    return zone_error(spec, reason, rlen, "unexpected text after the rule");
  *z = out;
  return SK_OK;
}

/* Local seconds (since the local 1970-01-01T00:00) of rule r's transition in year y. */
static int64_t rule_local_s(const sk_time_rule *r, int y) {
  int64_t first = days_from_civil(y, r->month, 1);
  int wd_first = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday (4) */
  int day = 1 + (r->wday - wd_first + 7) % 7 + (r->week - 1) * 7;
  while (day > days_in_month(y, r->month))
    day -= 7;
  return (first + day - 1) * 86400 + r->time_s;
}

int32_t sk_time_zone_offset(const sk_time_zone *z, int64_t utc_s) {
  SK_REQUIRE(z != NULL);
  if (!z->has_dst)
    return z->std_off_s;
  int y, m, d;
  civil_from_days(floor_div(utc_s + z->std_off_s, 86400), &y, &m, &d);
  int64_t start = rule_local_s(&z->start, y) - z->std_off_s; /* UTC instants */
  int64_t end = rule_local_s(&z->end, y) - z->dst_off_s;
  int in_dst = start < end ? (utc_s >= start && utc_s < end) : (utc_s >= start || utc_s < end);
  return in_dst ? z->dst_off_s : z->std_off_s;
}

sk_status sk_time_zone_to_utc(const sk_time_zone *z, int64_t local_s, int64_t *utc_s,
                              int *ambiguous) {
  SK_REQUIRE(z != NULL && utc_s != NULL);
  /* the instant is local - offset for one of the two offsets that holds at it */
  int64_t a = local_s - z->dst_off_s, b = local_s - z->std_off_s;
  int ok_a = sk_time_zone_offset(z, a) == z->dst_off_s;
  int ok_b = sk_time_zone_offset(z, b) == z->std_off_s;
  if (!ok_a && !ok_b)
    return SK_EPARSE;
  if (ambiguous != NULL)
    *ambiguous = ok_a && ok_b && a != b;
  *utc_s = ok_a && ok_b ? (a < b ? a : b) : ok_a ? a : b;
  return SK_OK;
}
