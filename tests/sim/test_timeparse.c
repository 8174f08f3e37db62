/*
 * test_timeparse.c -- the time-stamp parser and formatter (sim/src/timeparse.c,
 * skadi/timestamp.h).
 *
 * Unix seconds and milliseconds, ISO 8601 with 'T' or a space, Z and +-hh:mm zones,
 * fractions down to the ns, leap days and the leap second, the forms a caller switches
 * off, the range, text that is not NUL-terminated, bad inputs with the reason each gives,
 * and format -> parse round trips across day, month and year boundaries.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "skadi/timestamp.h"
#include "testutil.h"

#define NS 1000000000LL
#define T_2023_11_16_18 1700157600LL /* 2023-11-16T18:00:00Z, s since the epoch */

/* Parses s (NUL-terminated) with opts; asserts SK_OK and returns the time. */
static int64_t ok(const char *s, const sk_time_opts *o) {
  char reason[256] = "";
  int64_t t = -1;
  sk_status st = sk_time_parse(s, strlen(s), o, &t, reason, sizeof reason);
  ck_assert_msg(st == SK_OK, "\"%s\": %s", s, reason);
  return t;
}

/* Parses s with opts; asserts status st and that the reason holds `want`. */
static void bad(const char *s, const sk_time_opts *o, sk_status want_st, const char *want) {
  char reason[256] = "";
  int64_t t = 12345;
  sk_status st = sk_time_parse(s, strlen(s), o, &t, reason, sizeof reason);
  ck_assert_msg(st == want_st, "\"%s\": status %d (%s), want %d", s, st, reason, want_st);
  ck_assert_int_eq(t, 12345); /* untouched */
  ck_assert_msg(strstr(reason, want) != NULL, "\"%s\": \"%s\" lacks \"%s\"", s, reason, want);
}

START_TEST(test_unix_seconds) {
  ck_assert_int_eq(ok("0", NULL), 0);
  ck_assert_int_eq(ok("1700157600", NULL), T_2023_11_16_18 * NS);
  ck_assert_int_eq(ok("1700157600.25", NULL), T_2023_11_16_18 * NS + 250000000);
  ck_assert_int_eq(ok("1700157600.000000001", NULL), T_2023_11_16_18 * NS + 1);
  /* any number of digits by default, the ones past ns dropped */
  ck_assert_int_eq(ok("1.9999999999", NULL), 1999999999);
  /* milliseconds */
  sk_time_opts o;
  sk_time_opts_init(&o);
  o.forms = SK_TIME_UNIX_MS;
  ck_assert_int_eq(ok("1700157600000", &o), T_2023_11_16_18 * NS);
  ck_assert_int_eq(ok("1700157600000.5", &o), T_2023_11_16_18 * NS + 500000);
  ck_assert_int_eq(ok("1.000001", &o), 1000001);
}
END_TEST

START_TEST(test_iso) {
  const int64_t t0 = T_2023_11_16_18 * NS;
  ck_assert_int_eq(ok("2023-11-16T18:00:00Z", NULL), t0);
  ck_assert_int_eq(ok("2023-11-16T18:00:00", NULL), t0); /* no zone: UTC */
  ck_assert_int_eq(ok("2023-11-16 18:00:00", NULL), t0);
  ck_assert_int_eq(ok("2023-11-16 18:00:00Z", NULL), t0);
  ck_assert_int_eq(ok("2023-11-16T19:00:00+01:00", NULL), t0);
  ck_assert_int_eq(ok("2023-11-16T12:30:00-05:30", NULL), t0);
  ck_assert_int_eq(ok("2023-11-16T18:00:00+00:00", NULL), t0);
  ck_assert_int_eq(ok("2023-11-16T19:00:00.5+01:00", NULL), t0 + NS / 2);
  ck_assert_int_eq(ok("2023-11-16 18:15:46.6805900", NULL), t0 + 946 * NS + 680590000);
  ck_assert_int_eq(ok("2023-11-16T18:00:00.123456789Z", NULL), t0 + 123456789);
  ck_assert_int_eq(ok("1970-01-01T00:00:00Z", NULL), 0);
  ck_assert_int_eq(ok("1969-12-31T23:59:59.5Z", NULL), -NS / 2);
  ck_assert_int_eq(ok("1970-01-01T01:00:00+01:00", NULL), 0);
}
END_TEST

/* Leap years (every 4th, not every 100th, every 400th) and the leap second. */
START_TEST(test_calendar) {
  int64_t feb28 = ok("2024-02-28T00:00:00Z", NULL);
  ck_assert_int_eq(ok("2024-02-29T00:00:00Z", NULL), feb28 + 86400 * NS);
  ck_assert_int_eq(ok("2024-03-01T00:00:00Z", NULL), feb28 + 2 * 86400 * NS);
  ck_assert_int_eq(ok("2000-02-29T12:00:00Z", NULL), 951825600 * NS);
  bad("2023-02-29T00:00:00Z", NULL, SK_EPARSE, "not a valid date and time: \"2023-02-29");
  bad("2100-02-29 00:00:00", NULL, SK_EPARSE, "not a valid date");
  bad("1900-02-29T00:00:00", NULL, SK_EPARSE, "not a valid date");
  ck_assert_int_eq(ok("2023-12-31T23:59:59Z", NULL) + NS, ok("2024-01-01T00:00:00Z", NULL));
  ck_assert_int_eq(ok("2016-12-31T23:59:60Z", NULL), ok("2017-01-01T00:00:00Z", NULL));
  bad("2016-12-31T23:59:61Z", NULL, SK_EPARSE, "not a valid date and time");
  bad("2023-04-31T00:00:00Z", NULL, SK_EPARSE, "not a valid date");
}
END_TEST

/* Each caller's forms: the mixer's iso8601 ('T', zone), azure (space, no zone), the
 * trace's ('T' or space, no zone, 7 digits), epoch_s. */
START_TEST(test_forms) {
  sk_time_opts iso, azure, trace, unix_s;
  sk_time_opts_init(&iso);
  iso.forms = SK_TIME_ISO_T | SK_TIME_ZONE;
  azure = iso;
  azure.forms = SK_TIME_ISO_SPACE;
  trace = iso;
  trace.forms = SK_TIME_ISO_T | SK_TIME_ISO_SPACE;
  trace.max_frac_digits = 7;
  unix_s = iso;
  unix_s.forms = SK_TIME_UNIX_S;
  unix_s.max_frac_digits = 9;

  ok("2023-11-16T18:00:00Z", &iso);
  bad("2023-11-16 18:00:00", &iso, SK_EPARSE,
      "expected an ISO 8601 time like 2023-11-16T18:00:00Z or 2023-11-16T19:00:00.5+01:00, "
      "got \"2023-11-16 18:00:00\"");
  bad("1700157600", &iso, SK_EPARSE, "expected an ISO 8601 time");
  ok("2023-11-16 18:17:03.9799600", &azure);
  bad("2023-11-16T18:17:03", &azure, SK_EPARSE, "expected a time like 2023-11-16 18:15:46");
  bad("2023-11-16 18:17:03Z", &azure, SK_EPARSE,
      "unexpected \"Z\" after the time (no time zone in this format)");
  ok("2024-03-01T00:00:00.0000001", &trace);
  bad("2023-11-16 18:15:47.12345678", &trace, SK_EPARSE,
      "expected 1 to 7 digits after the seconds' decimal point");
  bad("2023-11-16 18:15:47+01:00", &trace, SK_EPARSE, "unexpected \"+01:00\"");
  ok("1700157600.123456789", &unix_s);
  bad("1700157600.1234567891", &unix_s, SK_EPARSE, "expected 1 to 9 digits");
  bad("2023-11-16T18:00:00Z", &unix_s, SK_EPARSE,
      "expected seconds since 1970-01-01T00:00:00Z like 1700157600 or 1700157600.25, got");
  /* both kinds: the message names both */
  bad("yesterday", NULL, SK_EPARSE, ", or seconds since 1970-01-01T00:00:00Z");
}
END_TEST

START_TEST(test_bad_inputs) {
  static const char *const syntax[] = {
      "",
      "2023-11-16",
      "2023-11-16T18:00",
      "2023-11-16T18:00:00.",
      "20231116T180000Z",
      "2023-1-16T18:00:00Z",
      "-5",
      "1e9",
      "0x10",
      "1700157600.",
      " 2023-11-16T18:00:00Z",
      "1700157600 ",
      "+5",
      ".5",
  };
  for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++)
    bad(syntax[i], NULL, SK_EPARSE, "expected ");
  bad("2023-13-01T00:00:00Z", NULL, SK_EPARSE, "not a valid date and time");
  bad("2023-00-01T00:00:00Z", NULL, SK_EPARSE, "not a valid date and time");
  bad("2023-11-00T00:00:00Z", NULL, SK_EPARSE, "not a valid date and time");
  bad("2023-11-16T24:00:00Z", NULL, SK_EPARSE, "not a valid date and time");
  bad("2023-11-16T18:60:00Z", NULL, SK_EPARSE, "not a valid date and time");
  bad("2023-11-16T18:00:00+1", NULL, SK_EPARSE, "expected a time zone Z, +hh:mm or -hh:mm");
  bad("2023-11-16T18:00:00+24:00", NULL, SK_EPARSE, "expected a time zone");
  bad("2023-11-16T18:00:00Zx", NULL, SK_EPARSE, "unexpected \"x\" after the time");
  bad("2023-11-16T18:00:00 Z", NULL, SK_EPARSE, "unexpected \" Z\" after the time");
  /* NULL reason is fine */
  int64_t t;
  ck_assert_int_eq(sk_time_parse("junk", 4, NULL, &t, NULL, 0), SK_EPARSE);
}
END_TEST

START_TEST(test_range) {
  sk_time_opts o;
  sk_time_opts_init(&o);
  o.min_ns = 0;
  o.max_ns = ok("2200-01-01T00:00:00Z", NULL);
  ok("1970-01-01T00:00:00Z", &o);
  ok("2199-12-31T23:59:59.999999999Z", &o);
  bad("1969-12-31T23:59:59Z", &o, SK_ERANGE,
      "\"1969-12-31T23:59:59Z\" is outside the supported range 1970..2199");
  bad("2200-01-01T00:00:00Z", &o, SK_ERANGE, "outside the supported range 1970..2199");
  bad("1970-01-01T00:30:00+01:00", &o, SK_ERANGE, "outside");
  bad("7258118400", &o, SK_ERANGE, "outside");
  /* the default range is what int64 ns holds */
  ck_assert_int_eq(ok("2262-04-11T23:47:16.854775806Z", NULL), INT64_MAX - 1);
  bad("2262-04-11T23:47:16.854775807Z", NULL, SK_ERANGE, "outside"); /* max_ns is exclusive */
  bad("2262-04-11T23:47:16.854775808Z", NULL, SK_ERANGE, "outside the supported range 1677..2262");
  bad("9999-12-31T23:59:59Z", NULL, SK_ERANGE, "outside");
  bad("0000-01-01T00:00:00Z", NULL, SK_ERANGE, "outside");
  bad("99999999999999999999999", NULL, SK_ERANGE, "outside");
  ck_assert_int_eq(ok("9223372036.854775806", NULL), INT64_MAX - 1);
  bad("9223372036.854775808", NULL, SK_ERANGE, "outside");
}
END_TEST

/* The text need not end in NUL: only len bytes are read. */
START_TEST(test_length) {
  const char *s = "2023-11-16T18:00:00Zjunk";
  int64_t t;
  ck_assert_int_eq(sk_time_parse(s, 20, NULL, &t, NULL, 0), SK_OK);
  ck_assert_int_eq(t, T_2023_11_16_18 * NS);
  ck_assert_int_eq(sk_time_parse(s, 19, NULL, &t, NULL, 0), SK_OK);
  ck_assert_int_eq(sk_time_parse(s, 18, NULL, &t, NULL, 0), SK_EPARSE);
  ck_assert_int_eq(sk_time_parse("17001576001", 10, NULL, &t, NULL, 0), SK_OK);
  ck_assert_int_eq(t, T_2023_11_16_18 * NS);
  ck_assert_int_eq(sk_time_parse(NULL, 0, NULL, &t, NULL, 0), SK_EPARSE);
}
END_TEST

START_TEST(test_format) {
  char buf[40];
  sk_time_format(0, 0, buf, sizeof buf);
  ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
  sk_time_format(T_2023_11_16_18 * NS + 250000000, 3, buf, sizeof buf);
  ck_assert_str_eq(buf, "2023-11-16T18:00:00.250Z");
  sk_time_format(T_2023_11_16_18 * NS + 1, 9, buf, sizeof buf);
  ck_assert_str_eq(buf, "2023-11-16T18:00:00.000000001Z");
  sk_time_format(-NS / 2, 1, buf, sizeof buf);
  ck_assert_str_eq(buf, "1969-12-31T23:59:59.5Z");
  sk_time_format(INT64_MAX, 9, buf, sizeof buf);
  ck_assert_str_eq(buf, "2262-04-11T23:47:16.854775807Z");
  sk_time_format(INT64_MIN, 9, buf, sizeof buf);
  ck_assert_str_eq(buf, "1677-09-21T00:12:43.145224192Z");
  /* round trips, every 7 days and 1 s plus a fraction from 1678 to 2261 */
  for (int64_t t = -9200000000LL * NS; t < 9200000000LL * NS; t += (7 * 86400 + 1) * NS + 123457) {
    sk_time_format(t, 9, buf, sizeof buf);
    ck_assert_int_eq(ok(buf, NULL), t);
  }
}
END_TEST

/* Unix s or ms told apart by size (SK_TIME_UNIX_AUTO) */
START_TEST(test_unix_auto) {
  sk_time_opts o;
  sk_time_opts_init(&o);
  o.forms = SK_TIME_ALL;
  ck_assert_int_eq(ok("1700157600", &o), T_2023_11_16_18 * NS);
  ck_assert_int_eq(ok("1700157600000", &o), T_2023_11_16_18 * NS);
  ck_assert_int_eq(ok("1700157600000.5", &o), T_2023_11_16_18 * NS + 500000);
  ck_assert_int_eq(ok("7000000000", &o), 7000000000LL * NS); /* below 1e11: s */
  bad("99999999999", &o, SK_ERANGE, "outside");              /* s, year 5138: past int64 ns */
  ck_assert_int_eq(ok("100000000000", &o), 100000000000LL * 1000000); /* 1e11: ms */
  ck_assert_int_eq(ok("0", &o), 0);
  ck_assert_int_eq(ok("2023-11-16T18:00:00Z", &o), T_2023_11_16_18 * NS);
  bad("-5", &o, SK_EPARSE, "Unix time in s or ms");
}
END_TEST

/* Offsets without a colon, hours only, and SQL Server's space before the offset. */
START_TEST(test_offset_forms) {
  const int64_t t0 = T_2023_11_16_18 * NS;
  ck_assert_int_eq(ok("2023-11-16T19:00:00+0100", NULL), t0);
  ck_assert_int_eq(ok("2023-11-16T19:00:00+01", NULL), t0);
  ck_assert_int_eq(ok("2023-11-16 13:00:00.0000000 -05:00", NULL), t0);
  bad("2023-11-16T19:00:00+1", NULL, SK_EPARSE, "expected a time zone");
  bad("2023-11-16T19:00:00 Z", NULL, SK_EPARSE, "unexpected");
}
END_TEST

static int64_t in_zone(const char *text, const char *zone) {
  sk_time_zone z;
  char reason[512] = "";
  ck_assert_msg(sk_time_zone_parse(zone, &z, reason, sizeof reason) == SK_OK, "%s", reason);
  sk_time_opts o;
  sk_time_opts_init(&o);
  o.zone = &z;
  return ok(text, &o) / NS;
}

/* Local times with DST, checked against Python's zoneinfo (IANA tzdata 2024). */
START_TEST(test_zones) {
  ck_assert_int_eq(in_zone("2024-07-01 12:00:00", "Europe/Berlin"), 1719828000);
  ck_assert_int_eq(in_zone("2024-01-15 12:00:00", "Europe/Berlin"), 1705316400);
  ck_assert_int_eq(in_zone("2024-01-15 12:00:00", "CET-1CEST,M3.5.0,M10.5.0/3"), 1705316400);
  /* fall back: 02:30 happens twice; the first (CEST) is taken */
  ck_assert_int_eq(in_zone("2024-10-27 02:30:00", "Europe/Berlin"), 1729989000);
  ck_assert_int_eq(in_zone("2024-11-03 01:30:00", "America/New_York"), 1730611800);
  ck_assert_int_eq(in_zone("2024-03-10 03:00:00", "America/New_York"), 1710054000);
  ck_assert_int_eq(in_zone("2024-05-01 06:20:00", "EST5EDT,M3.2.0,M11.1.0"), 1714558800);
  /* southern hemisphere: daylight time across the new year */
  ck_assert_int_eq(in_zone("2024-01-15 12:00:00", "Australia/Sydney"), 1705280400);
  ck_assert_int_eq(in_zone("2024-07-15 12:00:00", "Australia/Sydney"), 1721008800);
  /* fixed offsets, and an explicit zone in the text wins over the file's zone */
  ck_assert_int_eq(in_zone("2024-05-01 08:20:00", "+02:00"), 1714544400);
  ck_assert_int_eq(in_zone("2024-05-01T06:20:00Z", "Europe/Berlin"), 1714544400);
  ck_assert_int_eq(in_zone("2024-05-01 06:20:00", "UTC"), 1714544400);

  /* spring forward: 02:30 does not exist */
  sk_time_zone z;
  char reason[512];
  ck_assert_int_eq(sk_time_zone_parse("Europe/Berlin", &z, reason, sizeof reason), SK_OK);
  sk_time_opts o;
  sk_time_opts_init(&o);
  o.zone = &z;
  bad("2024-03-31 02:30:00", &o, SK_EPARSE, "does not exist in Europe/Berlin");
  /* the offset flips at the transition instant, 2024-03-31T01:00:00Z */
  ck_assert_int_eq(sk_time_zone_offset(&z, 1711846800 - 1), 3600);
  ck_assert_int_eq(sk_time_zone_offset(&z, 1711846800), 7200);
  int64_t u = 0;
  int amb = -1;
  ck_assert_int_eq(sk_time_zone_to_utc(&z, 1711846800 + 7200 + 3600, &u, &amb), SK_OK);
  ck_assert_int_eq(amb, 0);

  /* bad zones name the spec and what is accepted */
  ck_assert_int_eq(sk_time_zone_parse("Mars/Base", &z, reason, sizeof reason), SK_EPARSE);
  ASSERT_HAS(reason, "\"Mars/Base\"");
  ASSERT_HAS(reason, "Europe/Berlin");
  ck_assert_int_eq(sk_time_zone_parse("+25:00", &z, reason, sizeof reason), SK_EPARSE);
  ck_assert_int_eq(sk_time_zone_parse("CET-1CEST", &z, reason, sizeof reason), SK_EPARSE);
  ASSERT_HAS(reason, "daylight rule");
  ck_assert_int_eq(sk_time_zone_parse("CET-1CEST,J60,J300", &z, reason, sizeof reason), SK_EPARSE);
  ck_assert_int_eq(sk_time_zone_parse("", &z, reason, sizeof reason), SK_EPARSE);
}
END_TEST

static Suite *timeparse_suite(void) {
  Suite *s = suite_create("timeparse");
  TCase *tc = tcase_create("timeparse");
  tcase_add_test(tc, test_unix_seconds);
  tcase_add_test(tc, test_iso);
  tcase_add_test(tc, test_calendar);
  tcase_add_test(tc, test_forms);
  tcase_add_test(tc, test_bad_inputs);
  tcase_add_test(tc, test_range);
  tcase_add_test(tc, test_length);
  tcase_add_test(tc, test_format);
  tcase_add_test(tc, test_unix_auto);
  tcase_add_test(tc, test_offset_forms);
  tcase_add_test(tc, test_zones);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(timeparse_suite());
}
