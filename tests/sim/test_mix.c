/*
 * test_mix.c -- the dataset mixer (sim/src/mix.c) and `skadi mix` (cli/cmd_mix.c).
 *
 * Every input is written into a fresh mkdtemp directory.  Expected values are worked out
 * by hand in the comments beside the data: two sources at different cadences on a 60 s
 * grid (means, sums, "last" by time with an unsorted file), gaps that stay empty even for
 * count and sum, rack rows beside room rows, the four time formats including the Azure
 * trace's 7 fractional digits (the shipped 200-row sample, one bin summed by hand), paths
 * relative to the mapping, open grid ends, the row cap, and a catalogue of bad mappings and
 * CSVs: each fails with a message that starts with the file and names the field, and the
 * command leaves an existing --out untouched with no temporary file behind.
 */
#define _XOPEN_SOURCE 700

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skadi/mix.h"

#include "cli.h"
#include "testutil.h"

#define SRC(rel) SKADI_SOURCE_DIR "/" rel
#define COLS                                                                                       \
  "ts,rack_id,inlet_c,outlet_c,pdu_kw,chiller_kw,fan_kw,pump_kw,gpu_energy_j,tokens_ps,"           \
  "latency_p95_ms,queue_depth,fan_rpm_pct,pump_rpm_pct,j_per_prompt_wh,delta_t_c,gpu_kw,n_empty"

static void setup(void) {
  tu_scratch_setup("skadi_test_mix_");
}

/* Writes text to rel in the scratch directory. */
static void put(const char *rel, const char *text) {
  tu_write_file(tu_tmp(rel), text);
}

/* Runs the mapping at rel (in the scratch directory); returns the CSV (caller frees) and
 * the stats. */
static char *mix_ok(const char *rel, sk_mix_stats *st) {
  char *text = NULL, err[1024] = "";
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  ck_assert_ptr_nonnull(f);
  sk_mix_stats local;
  sk_status s = sk_mix_run(tu_tmp(rel), f, st ? st : &local, err, sizeof err);
  fclose(f);
  ck_assert_msg(s == SK_OK, "%s", err);
  return text;
}

/* Field `col` (output column name) of the row (ts, rack) in csv into buf; 0 if no such
 * row.  Fields are split on commas (the tests use no quoted values except where noted). */
static int field(const char *csv, const char *ts, const char *rack, const char *col, char *buf,
                 size_t len) {
  int ci = -1;
  for (int i = 0; sk_mix_column_name(i) != NULL; i++)
    if (strcmp(sk_mix_column_name(i), col) == 0)
      ci = i;
  ck_assert_msg(ci >= 0, "no column %s", col);
  char key[128];
  snprintf(key, sizeof key, "%s,%s,", ts, rack);
  for (const char *p = csv; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    if (strncmp(p, key, strlen(key)) != 0)
      continue;
    const char *q = p;
    for (int i = 0; i < ci; i++)
      q = strchr(q, ',') + 1;
    size_t n = strcspn(q, ",\n");
    snprintf(buf, len, "%.*s", (int)n, q);
    return 1;
  }
  return 0;
}

static double num(const char *csv, const char *ts, const char *rack, const char *col) {
  char buf[64];
  ck_assert_msg(field(csv, ts, rack, col, buf, sizeof buf), "no row %s,%s", ts, rack);
  ck_assert_msg(buf[0] != '\0', "%s,%s %s: empty", ts, rack, col);
  return strtod(buf, NULL);
}

static void assert_empty(const char *csv, const char *ts, const char *rack, const char *col) {
  char buf[64];
  ck_assert_msg(field(csv, ts, rack, col, buf, sizeof buf), "no row %s,%s", ts, rack);
  ck_assert_msg(buf[0] == '\0', "%s,%s %s: \"%s\", expected empty", ts, rack, col, buf);
}

static size_t count_lines(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

#define T0 "2023-11-16T18:00:00Z" /* = 1700157600 s since the epoch */
#define T1 "2023-11-16T18:01:00Z"
#define T2 "2023-11-16T18:02:00Z"

/* Rack temperatures every 10 s (ISO 8601) and a room cooling log every 15 s (epoch s, one
 * row out of order) on one 60 s grid. */
START_TEST(test_two_cadences) {
  put("racks.csv", "timestamp,rack,inlet_temp,energy_j\n"
                   /* R1 bin 18:00: inlet 20..25 -> mean 22.5, energy 6 x 100 -> sum 600 */
                   "2023-11-16T18:00:00Z,R1,20,100\n"
                   "2023-11-16T18:00:10Z,R1,21,100\n"
                   "2023-11-16T18:00:20Z,R1,22,100\n"
                   "2023-11-16T18:00:30Z,R1,23,100\n"
                   "2023-11-16T18:00:40Z,R1,24,100\n"
                   "2023-11-16T18:00:50Z,R1,25,100\n"
                   /* R1 bin 18:01: 30, 31 -> 30.5; energy 50 + 70 = 120.  Bin 18:02: none. */
                   "2023-11-16T18:01:00Z,R1,30,50\n"
                   "2023-11-16T18:01:30Z,R1,31,70\n"
                   /* R2 bin 18:00: 24, 26 -> 25; energy 1 + empty -> 1.  18:01 none. */
                   "2023-11-16T18:00:05Z,R2,24,1\n"
                   "2023-11-16T18:00:55Z,R2,26,\n"
                   /* R2 bin 18:02: 27; energy NaN -> missing, so the sum is empty */
                   "2023-11-16T18:02:20Z,R2,27,NaN\n");
  put("cooling.csv", "t,chiller_kw,fans_w\n"
                     /* bin 18:00: chiller (100+110+120+130+150)/5 = 122; fans last by time
                      * is the 18:00:45 row (5400 W -> 5.4 kW), not the later line at :10 */
                     "1700157600,100,5000\n"
                     "1700157615,110,5200\n"
                     "1700157630,120,5300\n"
                     "1700157645,130,5400\n"
                     /* bin 18:01: (200+210)/2 = 205; last fans 18:01:15 -> 6.1 */
                     "1700157660,200,6000\n"
                     "1700157675,210,6100\n"
                     /* bin 18:02: chiller empty -> missing; fans 3.0 */
                     "1700157720,,3000\n"
                     "1700157610,150,9999\n");
  put("mix.json",
      "{\"grid\": {\"start\": \"" T0 "\", \"end\": \"2023-11-16T18:03:00Z\", \"step_s\": 60},\n"
      " \"sources\": [\n"
      "  {\"file\": \"racks.csv\", \"time_column\": \"timestamp\", \"time_format\": \"iso8601\",\n"
      "   \"rack_column\": \"rack\", \"columns\": {\"inlet_c\": \"inlet_temp\"},\n"
      "   \"derive\": {\"gpu_energy_j\": {\"column\": \"energy_j\", \"rule\": \"sum\"}}},\n"
      "  {\"file\": \"cooling.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_s\",\n"
      "   \"columns\": {\"chiller_kw\": \"chiller_kw\"}, \"resample\": \"mean\",\n"
      "   \"derive\": {\"fan_kw\": {\"column\": \"fans_w\", \"rule\": \"last\"}},\n"
      "   \"scale\": {\"fan_kw\": 0.001}}]}\n");
  sk_mix_stats st;
  char *csv = mix_ok("mix.json", &st);
  ck_assert_int_eq(strncmp(csv, COLS "\n", strlen(COLS) + 1), 0);
  ck_assert_uint_eq(st.times, 3);
  ck_assert_uint_eq(st.racks, 2);
  ck_assert_int_eq(st.room, 1);
  ck_assert_uint_eq(st.rows, 9);
  ck_assert_uint_eq(count_lines(csv), 10);
  ck_assert_uint_eq(st.sources, 2);
  ck_assert_uint_eq(st.csv_rows, 19);
  ck_assert_uint_eq(st.outside, 0);

  ck_assert_double_eq_tol(num(csv, T0, "R1", "inlet_c"), 22.5, 1e-12);
  ck_assert_double_eq_tol(num(csv, T0, "R1", "gpu_energy_j"), 600, 1e-12);
  ck_assert_double_eq_tol(num(csv, T1, "R1", "inlet_c"), 30.5, 1e-12);
  ck_assert_double_eq_tol(num(csv, T1, "R1", "gpu_energy_j"), 120, 1e-12);
  assert_empty(csv, T2, "R1", "inlet_c"); /* the gap stays a gap */
  assert_empty(csv, T2, "R1", "gpu_energy_j");
  ck_assert_double_eq_tol(num(csv, T0, "R2", "inlet_c"), 25, 1e-12);
  ck_assert_double_eq_tol(num(csv, T0, "R2", "gpu_energy_j"), 1, 1e-12);
  assert_empty(csv, T1, "R2", "inlet_c");
  ck_assert_double_eq_tol(num(csv, T2, "R2", "inlet_c"), 27, 1e-12);
  assert_empty(csv, T2, "R2", "gpu_energy_j"); /* NaN only: missing, not 0 */

  ck_assert_double_eq_tol(num(csv, T0, "", "chiller_kw"), 122, 1e-12);
  ck_assert_double_eq_tol(num(csv, T0, "", "fan_kw"), 5.4, 1e-12);
  ck_assert_double_eq_tol(num(csv, T1, "", "chiller_kw"), 205, 1e-12);
  ck_assert_double_eq_tol(num(csv, T1, "", "fan_kw"), 6.1, 1e-12);
  assert_empty(csv, T2, "", "chiller_kw");
  ck_assert_double_eq_tol(num(csv, T2, "", "fan_kw"), 3.0, 1e-12);

  /* room values stay on the room row, rack values on rack rows */
  for (int b = 0; b < 3; b++) {
    const char *ts = b == 0 ? T0 : b == 1 ? T1 : T2;
    assert_empty(csv, ts, "", "inlet_c");
    assert_empty(csv, ts, "R1", "chiller_kw");
    assert_empty(csv, ts, "R2", "fan_kw");
    assert_empty(csv, ts, "", "outlet_c"); /* unmapped */
  }
  /* missing per column: inlet_c filled in 4 of 9 rows, chiller_kw 2, fan_kw 3, energy 3 */
  ck_assert_int_eq(st.mapped[0], 1);
  ck_assert_int_eq(st.mapped[1], 0);
  ck_assert_uint_eq(st.missing[0], 5);
  ck_assert_uint_eq(st.missing[1], 9);
  ck_assert_uint_eq(st.missing[3], 7);
  ck_assert_uint_eq(st.missing[4], 6);
  ck_assert_uint_eq(st.missing[6], 6);
  ck_assert_uint_eq(st.empty_values, 3);
  /* order: by ts, then rack_id with the room row ("") first */
  const char *want_order[9][2] = {{T0, ""},   {T0, "R1"}, {T0, "R2"}, {T1, ""},  {T1, "R1"},
                                  {T1, "R2"}, {T2, ""},   {T2, "R1"}, {T2, "R2"}};
  const char *p = strchr(csv, '\n') + 1;
  for (int i = 0; i < 9; i++) {
    char key[64];
    snprintf(key, sizeof key, "%s,%s,", want_order[i][0], want_order[i][1]);
    ck_assert_msg(strncmp(p, key, strlen(key)) == 0, "row %d: %.40s, want %s", i, p, key);
    p = strchr(p, '\n') + 1;
  }
  free(csv);
}
END_TEST

/* Every rule, and a bin without samples is empty for all of them -- count and sum too. */
START_TEST(test_rules_and_gaps) {
  put("x.csv", "t,v\n"
               "0,4\n"
               "10,1\n"
               "20,7\n"
               "30,nan\n"  /* missing: not counted */
               "125,2\n"); /* bin 60..120 has nothing */
  put("mix.json",
      "{\"grid\": {\"step_s\": 60},\n"
      " \"sources\": [{\"file\": \"x.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_s\",\n"
      "  \"columns\": {\"inlet_c\": \"v\"},\n"
      "  \"derive\": {\"outlet_c\": {\"column\": \"v\", \"rule\": \"last\"},\n"
      "             \"pdu_kw\": {\"column\": \"v\", \"rule\": \"sum\"},\n"
      "             \"chiller_kw\": {\"column\": \"v\", \"rule\": \"max\"},\n"
      "             \"fan_kw\": {\"column\": \"v\", \"rule\": \"min\"},\n"
      "             \"queue_depth\": {\"column\": \"v\", \"rule\": \"count\"},\n"
      "             \"tokens_ps\": {\"column\": \"v\", \"rule\": \"sum_per_s\"}}}]}\n");
  sk_mix_stats st;
  char *csv = mix_ok("mix.json", &st);
  const char *a = "1970-01-01T00:00:00Z", *b = "1970-01-01T00:01:00Z", *c = "1970-01-01T00:02:00Z";
  ck_assert_uint_eq(st.times, 3); /* open grid: the bins of the first and last rows */
  ck_assert_int_eq(st.start_ns, 0);
  ck_assert_int_eq(st.end_ns, 180000000000LL);
  ck_assert_double_eq_tol(num(csv, a, "", "inlet_c"), 4, 1e-12); /* (4+1+7)/3 */
  ck_assert_double_eq_tol(num(csv, a, "", "outlet_c"), 7, 1e-12);
  ck_assert_double_eq_tol(num(csv, a, "", "pdu_kw"), 12, 1e-12);
  ck_assert_double_eq_tol(num(csv, a, "", "chiller_kw"), 7, 1e-12);
  ck_assert_double_eq_tol(num(csv, a, "", "fan_kw"), 1, 1e-12);
  ck_assert_double_eq_tol(num(csv, a, "", "queue_depth"), 3, 1e-12);
  ck_assert_double_eq_tol(num(csv, a, "", "tokens_ps"), 0.2, 1e-12); /* 12 / 60 s */
  const char *cols[] = {"inlet_c", "outlet_c",    "pdu_kw",   "chiller_kw",
                        "fan_kw",  "queue_depth", "tokens_ps"};
  for (int i = 0; i < 7; i++)
    assert_empty(csv, b, "", cols[i]);
  ck_assert_double_eq_tol(num(csv, c, "", "queue_depth"), 1, 1e-12);
  ck_assert_double_eq_tol(num(csv, c, "", "fan_kw"), 2, 1e-12);
  ck_assert_uint_eq(st.missing[9], 1); /* queue_depth: only the gap */
  free(csv);
}
END_TEST

/* Rack rows only (no room source): no "" rows; rack ids sort bytewise; ids with commas or
 * blanks at the ends are quoted so that they read back the same. */
START_TEST(test_rack_rows) {
  put("r.csv", "time,rack,t_in\n"
               "2023-11-16T18:00:01Z,R2,1\n"
               "2023-11-16T18:00:02Z,R10,2\n"
               "2023-11-16T18:00:03Z,\"row A, rack 1\",3\n"
               "2023-11-16T18:00:04Z,  R2  ,4\n"    /* blanks around unquoted fields trimmed */
               "2023-11-16T18:00:05Z,\" R5\",5\n"); /* but kept inside quotes */
  put("mix.json", "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"r.csv\","
                  " \"time_column\": \"time\", \"time_format\": \"iso8601\", \"rack_column\":"
                  " \"rack\", \"columns\": {\"inlet_c\": \"t_in\"}}]}");
  sk_mix_stats st;
  char *csv = mix_ok("mix.json", &st);
  ck_assert_int_eq(st.room, 0);
  ck_assert_uint_eq(st.racks, 4);
  ck_assert_str_eq(csv, COLS "\n" T0 ",\" R5\",5,,,,,,,,,,,,,,,0\n" T0 ",R10,2,,,,,,,,,,,,,,,0\n" T0
                             ",R2,2.5,,,,,,,,,,,,,,,0\n" T0 ",\"row A, rack 1\",3,,,,,,,,,,,,,,,0\n");
  free(csv);
}
END_TEST

/* The same minute in every time format; each sample lands in the bin it names. */
START_TEST(test_time_formats) {
  put("iso.csv", "ts,v\n"
                 "2023-11-16T18:00:30Z,1\n"
                 "2023-11-16T19:00:45+01:00,1\n"     /* 18:00:45Z */
                 "2023-11-16T13:30:50.250-04:30,1\n" /* 18:00:50.25Z */
                 "2023-11-16T18:00:59.999999999,1\n" /* no zone: UTC */
                 "2023-11-16T18:01:00Z,1\n"          /* a boundary opens the next bin */
                 "2023-11-17T00:30:00+06:31,1\n");   /* 17:59:00Z on the 16th */
  put("es.csv", "t,v\n1700157600,1\n1700157659.999999999,1\n1700157660.5,1\n");
  put("ems.csv", "t,v\n1700157600000,1\n1700157659999.999,1\n1700157660000,1\n");
  put("az.csv", "TIMESTAMP,v\n2023-11-16 18:00:59.9999999,1\n2023-11-16 18:01:00.0000000,1\n"
                "2023-11-16 18:01:30,1\n");
  put("mix.json",
      "{\"grid\": {\"start\": \"" T0 "\", \"end\": \"2023-11-16T18:02:00Z\", \"step_s\": 60},\n"
      " \"sources\": [\n"
      "  {\"file\": \"iso.csv\", \"time_column\": \"ts\", \"time_format\": \"iso8601\",\n"
      "   \"derive\": {\"inlet_c\": {\"column\": \"v\", \"rule\": \"count\"}}},\n"
      "  {\"file\": \"es.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_s\",\n"
      "   \"derive\": {\"outlet_c\": {\"column\": \"v\", \"rule\": \"count\"}}},\n"
      "  {\"file\": \"ems.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_ms\",\n"
      "   \"derive\": {\"pdu_kw\": {\"column\": \"v\", \"rule\": \"count\"}}},\n"
      "  {\"file\": \"az.csv\", \"time_column\": \"TIMESTAMP\", \"time_format\": \"azure\",\n"
      "   \"derive\": {\"chiller_kw\": {\"column\": \"v\", \"rule\": \"count\"}}}]}\n");
  sk_mix_stats st;
  char *csv = mix_ok("mix.json", &st);
  ck_assert_double_eq(num(csv, T0, "", "inlet_c"), 4);
  ck_assert_double_eq(num(csv, T1, "", "inlet_c"), 1);
  ck_assert_uint_eq(st.outside, 1); /* 17:59, before grid.start */
  ck_assert_double_eq(num(csv, T0, "", "outlet_c"), 2);
  ck_assert_double_eq(num(csv, T1, "", "outlet_c"), 1);
  ck_assert_double_eq(num(csv, T0, "", "pdu_kw"), 2);
  ck_assert_double_eq(num(csv, T1, "", "pdu_kw"), 1);
  ck_assert_double_eq(num(csv, T0, "", "chiller_kw"), 1);
  ck_assert_double_eq(num(csv, T1, "", "chiller_kw"), 2);
  free(csv);
}
END_TEST

START_TEST(test_format_time) {
  char b[40];
  sk_mix_format_time(0, 0, b, sizeof b);
  ck_assert_str_eq(b, "1970-01-01T00:00:00Z");
  sk_mix_format_time(951868799LL * 1000000000 + 500000000, 3, b, sizeof b);
  ck_assert_str_eq(b, "2000-02-29T23:59:59.500Z");
  sk_mix_format_time(1700157600LL * 1000000000 + 123456789, 9, b, sizeof b);
  ck_assert_str_eq(b, "2023-11-16T18:00:00.123456789Z");
  sk_mix_format_time(7258118399LL * 1000000000, 6, b, sizeof b);
  ck_assert_str_eq(b, "2199-12-31T23:59:59.000000Z");
}
END_TEST

/* The shipped 200-row sample of the Azure conversation trace (7 fractional digits, CRLF).
 * Bin 18:15 holds its first 21 requests, whose GeneratedTokens are
 * 44 109 55 16 16 84 142 84 14 152 124 59 174 15 90 106 12 74 162 142 152 = 1826,
 * so tokens_ps = 1826 / 60 s = 30.4333...; bin 18:16 holds the other 179 (45224 tokens). */
START_TEST(test_azure_sample) {
  put("mix.json", "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"" SRC(
                      "tests/data/azure_conv_sample.csv") "\", \"time_column\": \"TIMESTAMP\","
                                                          " \"time_format\": \"azure\", "
                                                          "\"derive\": {\"tokens_ps\": {\"column\":"
                                                          " \"GeneratedTokens\", \"rule\": "
                                                          "\"sum_per_s\"}, \"queue_depth\": {"
                                                          "\"column\": \"GeneratedTokens\", "
                                                          "\"rule\": \"count\"}}}]}");
  sk_mix_stats st;
  char *csv = mix_ok("mix.json", &st);
  ck_assert_uint_eq(st.csv_rows, 200);
  ck_assert_uint_eq(st.rows, 2);
  ck_assert_double_eq_tol(num(csv, "2023-11-16T18:15:00Z", "", "tokens_ps"), 1826.0 / 60, 1e-12);
  ck_assert_double_eq(num(csv, "2023-11-16T18:15:00Z", "", "queue_depth"), 21);
  ck_assert_double_eq_tol(num(csv, "2023-11-16T18:16:00Z", "", "tokens_ps"), 45224.0 / 60, 1e-9);
  ck_assert_double_eq(num(csv, "2023-11-16T18:16:00Z", "", "queue_depth"), 179);
  free(csv);
}
END_TEST

/* Source paths are relative to the mapping file, not to the working directory. */
START_TEST(test_relative_paths) {
  ck_assert_int_eq(mkdir(tu_tmp("maps"), 0700), 0);
  ck_assert_int_eq(mkdir(tu_tmp("data"), 0700), 0);
  put("data/x.csv", "t,v\n60,5\n");
  put("maps/mix.json", "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"../data/x.csv\","
                       " \"time_column\": \"t\", \"time_format\": \"epoch_s\","
                       " \"columns\": {\"pump_kw\": \"v\"}}]}");
  char cwd[512];
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir("/"), 0);
  char *csv = mix_ok("maps/mix.json", NULL); /* absolute mapping path, cwd elsewhere */
  ck_assert_double_eq(num(csv, "1970-01-01T00:01:00Z", "", "pump_kw"), 5);
  free(csv);
  ck_assert_int_eq(chdir(tu_dir), 0); /* a relative mapping path */
  char *text = NULL, err[512] = "";
  size_t len;
  FILE *f = open_memstream(&text, &len);
  sk_status s = sk_mix_run("maps/mix.json", f, NULL, err, sizeof err);
  fclose(f);
  ck_assert_msg(s == SK_OK, "%s", err);
  ck_assert_ptr_nonnull(strstr(text, "1970-01-01T00:01:00Z,,,,,,,5,"));
  free(text);
  put("maps/mix.json", "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"x.csv\","
                       " \"time_column\": \"t\", \"time_format\": \"epoch_s\","
                       " \"columns\": {\"pump_kw\": \"v\"}}]}");
  s = sk_mix_run("maps/mix.json", stdout, NULL, err, sizeof err);
  ck_assert_int_eq(s, SK_ENOTFOUND);
  ck_assert_str_eq(err, "maps/mix.json: sources[0].file: maps/x.csv: cannot open: No such file "
                        "or directory");
  ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

/* Open grid ends: start floored to a multiple of step since the epoch, end just past the
 * bin of the latest row; a given start anchors the grid and drops earlier rows. */
START_TEST(test_open_grid) {
  put("x.csv", "t,v\n1700157725,1\n1700157601,2\n1700157960,3\n");
  put("a.json", "{\"grid\": {\"step_s\": 120}, \"sources\": [{\"file\": \"x.csv\","
                " \"time_column\": \"t\", \"time_format\": \"epoch_s\", \"columns\":"
                " {\"inlet_c\": \"v\"}}]}");
  sk_mix_stats st;
  char *csv = mix_ok("a.json", &st);
  ck_assert_int_eq(st.start_ns, 1700157600LL * 1000000000); /* 18:00, a multiple of 120 s */
  ck_assert_int_eq(st.end_ns, 1700158080LL * 1000000000);   /* 18:08: the 18:06 row's bin */
  ck_assert_uint_eq(st.times, 4);
  ck_assert_double_eq(num(csv, "2023-11-16T18:00:00Z", "", "inlet_c"), 2);
  ck_assert_double_eq(num(csv, "2023-11-16T18:02:00Z", "", "inlet_c"), 1);
  assert_empty(csv, "2023-11-16T18:04:00Z", "", "inlet_c");
  ck_assert_double_eq(num(csv, "2023-11-16T18:06:00Z", "", "inlet_c"), 3);
  free(csv);
  put("b.json", "{\"grid\": {\"step_s\": 120, \"start\": \"2023-11-16T18:01:00Z\"}, \"sources\":"
                " [{\"file\": \"x.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_s\","
                " \"columns\": {\"inlet_c\": \"v\"}}]}");
  csv = mix_ok("b.json", &st);
  ck_assert_uint_eq(st.outside, 1);
  ck_assert_uint_eq(st.times, 3); /* 18:01, 18:03, 18:05 */
  ck_assert_double_eq(num(csv, "2023-11-16T18:01:00Z", "", "inlet_c"), 1);
  ck_assert_double_eq(num(csv, "2023-11-16T18:05:00Z", "", "inlet_c"), 3);
  free(csv);
  put("c.json", "{\"grid\": {\"step_s\": 0.5, \"end\": \"2023-11-16T18:00:02Z\"}, \"sources\":"
                " [{\"file\": \"x.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_s\","
                " \"columns\": {\"inlet_c\": \"v\"}}]}");
  csv = mix_ok("c.json", &st);
  ck_assert_uint_eq(st.times, 2); /* 18:00:01.0 and .5: sub-second grids print ms */
  ck_assert_double_eq(num(csv, "2023-11-16T18:00:01.000Z", "", "inlet_c"), 2);
  assert_empty(csv, "2023-11-16T18:00:01.500Z", "", "inlet_c");
  free(csv);
}
END_TEST

/* CSV dialect: BOM, CRLF, quoted header and values (with "" and a line break inside),
 * blank lines, blanks around fields, columns the mapping does not name. */
START_TEST(test_csv_variants) {
  put("x.csv", "\xEF\xBB\xBF\"t\",\"note\", v \r\n"
               "\r\n"
               "60,\"a, \"\"quoted\"\" note\r\nover two lines\",\"1.5\"\r\n"
               "61,plain,-2.5e1\r"); /* a CR alone ends the file */
  put("mix.json", "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"x.csv\","
                  " \"time_column\": \"t\", \"time_format\": \"epoch_s\", \"columns\":"
                  " {\"inlet_c\": \"v\"}, \"resample\": \"sum\"}]}");
  char *csv = mix_ok("mix.json", NULL);
  ck_assert_double_eq(num(csv, "1970-01-01T00:01:00Z", "", "inlet_c"), -23.5);
  free(csv);
}
END_TEST

/* More than SK_MIX_MAX_ROWS rows is refused: by the grid alone before any CSV is read,
 * and by times x rows per time once the racks are known. */
START_TEST(test_row_cap) {
  put("x.csv", "t,r,v\n1700157600,A,1\n");
  put("a.json", "{\"grid\": {\"step_s\": 1, \"start\": \"2023-01-01T00:00:00Z\", \"end\":"
                " \"2023-07-01T00:00:00Z\"}, \"sources\": [{\"file\": \"x.csv\", \"time_column\":"
                " \"t\", \"time_format\": \"epoch_s\", \"columns\": {\"inlet_c\": \"v\"}}]}");
  sk_mix *m = NULL;
  char err[512];
  ck_assert_int_eq(sk_mix_create(&m, tu_tmp("a.json"), err, sizeof err), SK_ERANGE);
  ck_assert_ptr_null(m);
  ck_assert_msg(strstr(err, "a.json: grid: 15638400 times exceed the limit of 10000000") != NULL,
                "%s", err);
  /* 6e6 times is fine alone, but a room row and one rack row each make 1.2e7 */
  put("b.json", "{\"grid\": {\"step_s\": 1, \"start\": \"2023-11-16T18:00:00Z\", \"end\":"
                " \"2024-01-25T04:40:00Z\"}, \"sources\": [{\"file\": \"x.csv\", \"time_column\":"
                " \"t\", \"time_format\": \"epoch_s\", \"columns\": {\"inlet_c\": \"v\"}},"
                " {\"file\": \"x.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_s\","
                " \"rack_column\": \"r\", \"columns\": {\"outlet_c\": \"v\"}}]}");
  ck_assert_int_eq(sk_mix_create(&m, tu_tmp("b.json"), err, sizeof err), SK_ERANGE);
  ck_assert_msg(strstr(err, "6000000 times x 2 rows per time exceed") != NULL, "%s", err);
  sk_mix_destroy(NULL);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Bad input                                                                            */

#define RACKS "timestamp,rack,inlet_temp\n2023-11-16T18:00:00Z,R1,20\n"
#define COOL "t,chiller_kw,crah_fans_kw\n1700157600,100,5000\n"
#define SRC_R                                                                                      \
  "{\"file\": \"racks.csv\", \"time_column\": \"timestamp\", \"time_format\": \"iso8601\", "       \
  "\"rack_column\": \"rack\", \"columns\": {\"inlet_c\": \"inlet_temp\"}}"
#define SRC_C(cols)                                                                                \
  "{\"file\": \"cooling.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_s\", "             \
  "\"columns\": " cols "}"
#define GRID "\"grid\": {\"step_s\": 60}"
#define MAP(sources) "{" GRID ", \"sources\": [" sources "]}"
#define ONE(extra)                                                                                 \
  "{" GRID ", \"sources\": [{\"file\": \"racks.csv\", \"time_column\": \"timestamp\", "            \
  "\"time_format\": \"iso8601\", " extra "}]}"

typedef struct {
  const char *what;
  const char *mapping; /* written to mix.json */
  const char *racks;   /* racks.csv (default RACKS) */
  sk_status status;
  const char *where;  /* the message starts with tu_dir/ + this */
  const char *reason; /* and contains this */
} bad_case;

static const bad_case bad_cases[] = {
    {"missing mapping", NULL, NULL, SK_ENOTFOUND, "nothing.json: ", "cannot open: No such file"},
    /* syntax errors: worded as the scenario loader's (jsonutil.c), at the offending token */
    {"JSON syntax", "{\"grid\": {\"step_s\": 60},\n \"sources\": [}", NULL, SK_EPARSE,
     "mix.json:2:14: ",
     "invalid JSON: expected a value (a string, number, object, array, true, "
     "false or null), got '}'"},
    {"trailing junk", MAP(SRC_R) " }", NULL, SK_EPARSE,
     "mix.json:1:", "invalid JSON: text after the end of the top-level value"},
    {"trailing comma in an object", "{\"grid\": {\"step_s\": 60,},\n \"sources\": []}", NULL,
     SK_EPARSE, "mix.json:1:23: ", "invalid JSON: trailing comma before '}'"},
    {"trailing comma in an array", "{" GRID ",\n  \"sources\": [" SRC_R ",\n  ]}", NULL, SK_EPARSE,
     "mix.json:2:151: ", "invalid JSON: trailing comma before ']'"},
    {"missing colon", "{\"grid\" {\"step_s\": 60}}", NULL, SK_EPARSE,
     "mix.json:1:9: ", "invalid JSON: expected ':' after the key \"grid\", got '{'"},
    {"not an object", "[1]", NULL, SK_EPARSE, "mix.json: ", "top level, got an array"},
    {"unknown top key", "{" GRID ", \"sources\": [" SRC_R "], \"fill\": \"ffill\"}", NULL,
     SK_EPARSE, "mix.json: fill: ", "unknown key"},
    {"no grid", "{\"sources\": [" SRC_R "]}", NULL, SK_EPARSE, "mix.json: grid: ", "missing"},
    {"no step", "{\"grid\": {}, \"sources\": [" SRC_R "]}", NULL, SK_EPARSE,
     "mix.json: grid.step_s: ", "missing"},
    {"step zero", "{\"grid\": {\"step_s\": 0}, \"sources\": [" SRC_R "]}", NULL, SK_EINVAL,
     "mix.json: grid.step_s: ", "must be > 0, got 0"},
    {"step negative", "{\"grid\": {\"step_s\": -60}, \"sources\": [" SRC_R "]}", NULL, SK_EINVAL,
     "mix.json: grid.step_s: ", "must be > 0"},
    {"step string", "{\"grid\": {\"step_s\": \"60\"}, \"sources\": [" SRC_R "]}", NULL, SK_EPARSE,
     "mix.json: grid.step_s: ", "expected a number, got a string"},
    {"step sub-ms", "{\"grid\": {\"step_s\": 0.0001}, \"sources\": [" SRC_R "]}", NULL, SK_EINVAL,
     "mix.json: grid.step_s: ", "whole number of milliseconds"},
    {"end == start",
     "{\"grid\": {\"step_s\": 60, \"start\": \"2023-11-16T18:00:00Z\", \"end\": "
     "\"2023-11-16T19:00:00+01:00\"}, \"sources\": [" SRC_R "]}",
     NULL, SK_EINVAL,
     "mix.json: grid.end: ", "2023-11-16T18:00:00Z is not after grid.start 2023-11-16T18:00:00Z"},
    {"end before start",
     "{\"grid\": {\"step_s\": 60, \"start\": \"2023-11-16T18:00:00Z\", \"end\": "
     "\"2023-11-16T17:00:00Z\"}, \"sources\": [" SRC_R "]}",
     NULL, SK_EINVAL, "mix.json: grid.end: ", "is not after grid.start"},
    {"end off grid",
     "{\"grid\": {\"step_s\": 60, \"start\": \"2023-11-16T18:00:00Z\", \"end\": "
     "\"2023-11-16T18:10:30Z\"}, \"sources\": [" SRC_R "]}",
     NULL, SK_EINVAL, "mix.json: grid.end: ", "not a whole number of steps"},
    {"bad grid time",
     "{\"grid\": {\"step_s\": 60, \"start\": \"2023-11-16 18:00:00\"}, "
     "\"sources\": [" SRC_R "]}",
     NULL, SK_EPARSE, "mix.json: grid.start: ", "expected an ISO 8601 time"},
    {"no sources", "{" GRID ", \"sources\": []}", NULL, SK_EPARSE, "mix.json: sources: ", "empty"},
    {"source not object", MAP("3"), NULL, SK_EPARSE,
     "mix.json: sources[0]: ", "expected an object, got a number"},
    {"typo in source key", ONE("\"columns\": {\"inlet_c\": \"inlet_temp\"}, \"resmaple\": \"max\""),
     NULL, SK_EPARSE, "mix.json: sources[0].resmaple: ", "unknown key"},
    {"no file",
     MAP("{\"time_column\": \"t\", \"time_format\": \"epoch_s\", \"columns\": {\"inlet_c\": "
         "\"v\"}}"),
     NULL, SK_EPARSE, "mix.json: sources[0].file: ", "missing"},
    {"missing file",
     MAP(SRC_R ", {\"file\": \"cool.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_s\", "
               "\"columns\": {\"fan_kw\": \"x\"}}"),
     NULL, SK_ENOTFOUND, "mix.json: sources[1].file: ", "cool.csv: cannot open: No such file"},
    {"file is a directory",
     MAP("{\"file\": \".\", \"time_column\": \"t\", \"time_format\": \"epoch_s\", \"columns\": "
         "{\"fan_kw\": \"x\"}}"),
     NULL, SK_EINVAL, "mix.json: sources[0].file: ", "is a directory"},
    {"unknown time format",
     MAP(SRC_R ", " SRC_C(
         "{\"fan_kw\": \"crah_fans_kw\"}") ", {\"file\": "
                                           "\"cooling.csv\", \"time_column\": \"t\", "
                                           "\"time_format\": "
                                           "\"unix\", \"columns\": {\"pump_kw\": \"chiller_kw\"}}"),
     NULL, SK_EPARSE, "mix.json: sources[2].time_format: ", "unknown time format \"unix\""},
    {"unknown output column", ONE("\"columns\": {\"inlet_temp_c\": \"inlet_temp\"}"), NULL,
     SK_EPARSE, "mix.json: sources[0].columns.inlet_temp_c: ", "unknown output column"},
    {"ts as a value", ONE("\"columns\": {\"ts\": \"inlet_temp\"}"), NULL, SK_EPARSE,
     "mix.json: sources[0].columns.ts: ", "not a value column"},
    {"unknown rule", ONE("\"columns\": {\"inlet_c\": \"inlet_temp\"}, \"resample\": \"median\""),
     NULL, SK_EPARSE, "mix.json: sources[0].resample: ", "unknown rule \"median\""},
    {"fill is not a rule",
     ONE("\"derive\": {\"inlet_c\": {\"column\": \"inlet_temp\", \"rule\": "
         "\"ffill\"}}"),
     NULL, SK_EPARSE, "mix.json: sources[0].derive.inlet_c.rule: ", "unknown rule \"ffill\""},
    {"derive without column", ONE("\"derive\": {\"inlet_c\": {\"rule\": \"max\"}}"), NULL,
     SK_EPARSE, "mix.json: sources[0].derive.inlet_c.column: ", "missing"},
    {"derive unknown key",
     ONE("\"derive\": {\"inlet_c\": {\"column\": \"inlet_temp\", \"rule\": \"max\", \"fill\": 0}}"),
     NULL, SK_EPARSE, "mix.json: sources[0].derive.inlet_c.fill: ", "unknown key"},
    {"nothing mapped", ONE("\"columns\": {}"), NULL, SK_EPARSE,
     "mix.json: sources[0]: ", "maps no column"},
    {"column twice in a source",
     ONE("\"columns\": {\"inlet_c\": \"inlet_temp\"}, \"derive\": {\"inlet_c\": {\"column\": "
         "\"inlet_temp\", \"rule\": \"max\"}}"),
     NULL, SK_EPARSE, "mix.json: sources[0].derive.inlet_c: ", "also in sources[0].columns"},
    {"key given twice", ONE("\"columns\": {\"inlet_c\": \"inlet_temp\", \"inlet_c\": \"rack\"}"),
     NULL, SK_EPARSE, "mix.json: sources[0].columns.inlet_c: ", "given twice"},
    {"two rules for a column",
     MAP(SRC_R ", {\"file\": \"racks.csv\", \"time_column\": \"timestamp\", \"time_format\": "
               "\"iso8601\", \"derive\": {\"inlet_c\": {\"column\": \"inlet_temp\", \"rule\": "
               "\"max\"}}}"),
     NULL, SK_EPARSE, "mix.json: sources[1].derive.inlet_c.rule: ",
     "\"max\" differs from \"mean\" given for inlet_c by sources[0]"},
    {"scale of an unmapped column",
     ONE("\"columns\": {\"inlet_c\": \"inlet_temp\"}, \"scale\": {\"pdu_kw\": 0.001}"), NULL,
     SK_EPARSE, "mix.json: sources[0].scale.pdu_kw: ", "not an output column of this source"},
    {"scale not a number",
     ONE("\"columns\": {\"inlet_c\": \"inlet_temp\"}, \"scale\": {\"inlet_c\": \"x\"}"), NULL,
     SK_EPARSE, "mix.json: sources[0].scale.inlet_c: ", "expected a number"},
    {"header lacks mapped column", MAP(SRC_R ", " SRC_C("{\"fan_kw\": \"crah_fans\"}")), NULL,
     SK_EPARSE, "mix.json: sources[1].columns.fan_kw: ", "column \"crah_fans\" not in ",
     /* tu_dir/cooling.csv header (it has: ...) */},
    {"header lacks time column",
     MAP("{\"file\": \"racks.csv\", \"time_column\": \"time\", \"time_format\": \"iso8601\", "
         "\"columns\": {\"inlet_c\": \"inlet_temp\"}}"),
     NULL, SK_EPARSE, "mix.json: sources[0].time_column: ", "column \"time\" not in "},
    {"header lacks rack column",
     ONE("\"rack_column\": \"rack_id\", \"columns\": {\"inlet_c\": \"inlet_temp\"}"), NULL,
     SK_EPARSE, "mix.json: sources[0].rack_column: ", "column \"rack_id\" not in "},
    {"header twice", MAP(SRC_R), "timestamp,rack,inlet_temp,inlet_temp\n", SK_EPARSE,
     "racks.csv:1: ", "column \"inlet_temp\" appears twice in the header (fields 3 and 4)"},
    {"empty csv", MAP(SRC_R), "", SK_EPARSE, "racks.csv:1: ", "empty file"},
    {"unparsable time", MAP(SRC_R), RACKS "2023-11-16 18:00:10,R1,20\n", SK_EPARSE,
     "racks.csv:3: timestamp: ", "expected an ISO 8601 time"},
    {"invalid date", MAP(SRC_R), RACKS "2023-02-29T18:00:10Z,R1,20\n", SK_EPARSE,
     "racks.csv:3: timestamp: ", "not a valid date and time"},
    {"empty time", MAP(SRC_R), RACKS ",R1,20\n", SK_EPARSE, "racks.csv:3: timestamp: ", "got \"\""},
    {"time before 1970", MAP(SRC_R), RACKS "1969-12-31T23:59:59Z,R1,20\n", SK_EPARSE,
     "racks.csv:3: timestamp: ", "outside the supported range 1970..2199"},
    {"non-numeric value", MAP(SRC_R), RACKS "2023-11-16T18:00:10Z,R1,hot\n", SK_EPARSE,
     "racks.csv:3: inlet_temp: ", "\"hot\" is not a number"},
    {"infinite value", MAP(SRC_R), RACKS "2023-11-16T18:00:10Z,R1,inf\n", SK_EPARSE,
     "racks.csv:3: inlet_temp: ", "\"inf\" is not a number"},
    {"hex value", MAP(SRC_R), RACKS "2023-11-16T18:00:10Z,R1,0x10\n", SK_EPARSE,
     "racks.csv:3: inlet_temp: ", "not a number"},
    {"empty rack id", MAP(SRC_R), RACKS "2023-11-16T18:00:10Z,,20\n", SK_EPARSE,
     "racks.csv:3: rack: ", "empty rack id"},
    {"short row", MAP(SRC_R), RACKS "2023-11-16T18:00:10Z,R1\n", SK_EPARSE,
     "racks.csv:3: ", "expected 3 fields as in the header, got 2"},
    {"long row", MAP(SRC_R), RACKS "2023-11-16T18:00:10Z,R1,20,21\n", SK_EPARSE,
     "racks.csv:3: ", "expected 3 fields as in the header, got 4"},
    {"unclosed quote", MAP(SRC_R), RACKS "2023-11-16T18:00:10Z,\"R1,20\n", SK_EPARSE,
     "racks.csv:3: ", "quoted field opened on line 3 is never closed"},
    {"junk after quote", MAP(SRC_R), RACKS "2023-11-16T18:00:10Z,\"R1\"x,20\n", SK_EPARSE,
     "racks.csv:3: ", "unexpected 'x' after a closing quote"},
    {"ms as s", MAP(SRC_C("{\"fan_kw\": \"crah_fans_kw\"}")), NULL, SK_EPARSE,
     "cooling.csv:3: t: ", "(milliseconds? then use time_format epoch_ms)"},
    {"no rows for an open grid", MAP(SRC_R), "timestamp,rack,inlet_temp\n", SK_EINVAL,
     "mix.json: grid: ", "no CSV rows to derive grid.start and grid.end from"},
};

/* No temporary file ("<out>.tmp-XXXXXX") left in the scratch directory. */
static void assert_no_tmp(const char *what) {
  DIR *d = opendir(tu_dir);
  ck_assert_ptr_nonnull(d);
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    ck_assert_msg(strstr(e->d_name, ".tmp-") == NULL, "%s: left %s", what, e->d_name);
  closedir(d);
}

START_TEST(test_bad) {
  const bad_case *c = &bad_cases[_i];
  put("racks.csv", c->racks ? c->racks : RACKS);
  put("cooling.csv", strcmp(c->what, "ms as s") == 0 ? COOL "1700157660000,1,1\n" : COOL);
  const char *mapping = tu_tmp(c->mapping ? "mix.json" : "nothing.json");
  if (c->mapping)
    put("mix.json", c->mapping);

  sk_mix *m = (sk_mix *)&m; /* must come back NULL */
  char err[1024] = "", want[512];
  sk_status st = sk_mix_create(&m, mapping, err, sizeof err);
  ck_assert_msg(st == c->status, "%s: status %d (%s), want %d", c->what, st, err, c->status);
  ck_assert_ptr_null(m);
  snprintf(want, sizeof want, "%s/%s", tu_dir, c->where);
  ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: \"%s\" does not start with \"%s\"",
                c->what, err, want);
  ck_assert_msg(strstr(err, c->reason) != NULL, "%s: \"%s\" lacks \"%s\"", c->what, err, c->reason);

  /* The command: exit 2, and an existing --out is left as it was with no temporary file,
   * even with --force (the mapping fails before anything is written). */
  put("out.csv", "old\n");
  char *argv[] = {"mix", "--config", (char *)mapping, "--out", tu_tmp("out.csv"), "--force", NULL};
  ck_assert_int_eq(sk_mix_main(6, argv), 2);
  char *old = tu_read_file(tu_tmp("out.csv"));
  ck_assert_str_eq(old, "old\n");
  free(old);
  ck_assert_int_eq(unlink(tu_tmp("out.csv")), 0);
  char *argv2[] = {"mix", "--config", (char *)mapping, "--out", tu_tmp("new.csv"), NULL};
  ck_assert_int_eq(sk_mix_main(5, argv2), 2);
  ck_assert_int_eq(access(tu_tmp("new.csv"), F_OK), -1);
  assert_no_tmp(c->what);
}
END_TEST

/* Local times: a source's "tz" and the caller's default zone, with DST; a sniffed ';'
 * delimiter and a trailer; delta_t_c derived from outlet - inlet; the overlap warning. */
START_TEST(test_zones_overlap_derived) {
  put("r.csv", "time;rack;in;out\n"
               "2024-07-01 14:00:10;R1;20;31\n" /* CEST: 12:00:10Z */
               "2024-07-01 14:01:10;R1;21;30\n"
               "\n(2 rows affected)\n");
  put("p.csv", "t,kw\n2024-07-01 12:00:30,5\n2024-07-01 12:01:30,6\n"); /* UTC by default */
  put("mix.json", "{\"grid\": {\"step_s\": 60}, \"sources\": ["
                  "{\"file\": \"r.csv\", \"time_column\": \"time\", \"time_format\": \"azure\","
                  " \"tz\": \"Europe/Berlin\", \"rack_column\": \"rack\","
                  " \"columns\": {\"inlet_c\": \"in\", \"outlet_c\": \"out\"}},"
                  "{\"file\": \"p.csv\", \"time_column\": \"t\", \"time_format\": \"azure\","
                  " \"columns\": {\"chiller_kw\": \"kw\"}}]}");
  sk_mix_stats st;
  char *csv = mix_ok("mix.json", &st);
  ck_assert_double_eq(num(csv, "2024-07-01T12:00:00Z", "R1", "inlet_c"), 20);
  ck_assert_double_eq(num(csv, "2024-07-01T12:01:00Z", "R1", "delta_t_c"), 9);
  ck_assert_double_eq(num(csv, "2024-07-01T12:01:00Z", "", "chiller_kw"), 6);
  assert_empty(csv, "2024-07-01T12:00:00Z", "", "delta_t_c"); /* room row: no inlet */
  assert_empty(csv, "2024-07-01T12:00:00Z", "R1", "gpu_kw");
  ck_assert_int_eq(st.derived[13], 1);
  ck_assert_int_eq(st.mapped[13], 0);
  ck_assert_uint_eq(st.missing[13], 2); /* of 4 rows: the room rows */
  ck_assert_uint_eq(st.trailer_lines, 1);
  ck_assert_str_eq(st.overlap_warning, "");
  free(csv);

  /* the plant log in Berlin time too (the caller's default) now misses the racks by 2 h */
  char err[1024] = "";
  sk_mix *m;
  ck_assert_int_eq(sk_mix_create_tz(&m, tu_tmp("mix.json"), "Europe/Berlin", err, sizeof err),
                   SK_OK);
  sk_mix_get_stats(m, &st);
  ASSERT_HAS(st.overlap_warning, "sources[0] (r.csv, 2024-07-01T12:00:10Z .. "
                                 "2024-07-01T12:01:10Z) and sources[1] (p.csv, "
                                 "2024-07-01T10:00:30Z .. 2024-07-01T10:01:30Z) share no time");
  sk_mix_destroy(m);
  ck_assert_int_eq(sk_mix_create_tz(&m, tu_tmp("mix.json"), "Mars", err, sizeof err), SK_EINVAL);
  ASSERT_HAS(err, "tz: time zone \"Mars\"");
  /* a bad "tz" names the source */
  put("bad.json", "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"p.csv\","
                  " \"time_column\": \"t\", \"time_format\": \"azure\", \"tz\": \"+25:00\","
                  " \"columns\": {\"chiller_kw\": \"kw\"}}]}");
  ck_assert_int_eq(sk_mix_create(&m, tu_tmp("bad.json"), err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "bad.json: sources[0].tz: time zone \"+25:00\"");
}
END_TEST

/* "pass": CSV columns kept under their own names after the unified ones (one column per
 * name over the sources, with the source's rule); n_empty counts, per row, the columns
 * mapped for its kind that are empty -- rack columns on rack rows, room columns on room
 * rows. */
START_TEST(test_pass_through_and_n_empty) {
  put("r.csv", "time,rack,t_in,vib,hum\n"
               "60,A,20,0.5,40\n"
               "60,B,21,,41\n" /* B's vib empty */
               "120,A,,0.7,\n"); /* A's inlet and hum empty at 120; B has no row */
  put("p.csv", "t,kw,vib\n60,5,9\n");
  put("mix.json",
      "{\"grid\": {\"step_s\": 60, \"start\": \"1970-01-01T00:01:00Z\","
      " \"end\": \"1970-01-01T00:03:00Z\"}, \"sources\": ["
      "{\"file\": \"r.csv\", \"time_column\": \"time\", \"time_format\": \"epoch_s\","
      " \"rack_column\": \"rack\", \"columns\": {\"inlet_c\": \"t_in\"}, \"pass\": [\"vib\", \"hum\"]},"
      "{\"file\": \"p.csv\", \"time_column\": \"t\", \"time_format\": \"epoch_s\","
      " \"columns\": {\"pump_kw\": \"kw\"}, \"pass\": [\"vib\"]}]}");
  sk_mix_stats st;
  char *csv = mix_ok("mix.json", &st);
  ck_assert_int_eq(st.n_extra, 2);
  ck_assert_str_eq(st.extra[0], "vib");
  ck_assert_str_eq(st.extra[1], "hum");
  ck_assert_int_eq(st.n_values, SK_MIX_NVALUES + 2);
  ck_assert_uint_eq(st.rows, 6);
  ck_assert_uint_eq(st.missing[SK_MIX_NVALUES + 1], 4); /* hum: A@60 and B@60 only */
  /* room rows expect pump_kw and vib; rack rows inlet_c, vib and hum */
  ck_assert_str_eq(csv, "ts,rack_id,inlet_c,outlet_c,pdu_kw,chiller_kw,fan_kw,pump_kw,"
                        "gpu_energy_j,tokens_ps,latency_p95_ms,queue_depth,fan_rpm_pct,"
                        "pump_rpm_pct,j_per_prompt_wh,delta_t_c,gpu_kw,vib,hum,n_empty\n"
                        "1970-01-01T00:01:00Z,,,,,,,5,,,,,,,,,,9,,0\n"
                        "1970-01-01T00:01:00Z,A,20,,,,,,,,,,,,,,,0.5,40,0\n"
                        "1970-01-01T00:01:00Z,B,21,,,,,,,,,,,,,,,,41,1\n"
                        "1970-01-01T00:02:00Z,,,,,,,,,,,,,,,,,,,2\n"
                        "1970-01-01T00:02:00Z,A,,,,,,,,,,,,,,,,0.7,,2\n"
                        "1970-01-01T00:02:00Z,B,,,,,,,,,,,,,,,,,,3\n");
  ck_assert_uint_eq(st.rows_with_empty, 4);
  free(csv);
  /* bad pass lists */
  const char *bad[][2] = {
      {"[\"inlet_c\"]", "sources[0].pass: \"inlet_c\" is an output column of its own"},
      {"[\"n_empty\"]", "(ts, rack_id and n_empty cannot be passed through)"},
      {"\"vib\"", "sources[0].pass: expected an array of CSV column names, got a string"},
      {"[3]", "sources[0].pass[0]: expected the name of a CSV column, got a number"},
      {"[\"nope\"]", "nope"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char j[512];
    snprintf(j, sizeof j,
             "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"r.csv\", \"time_column\":"
             " \"time\", \"time_format\": \"epoch_s\", \"pass\": %s}]}",
             bad[i][0]);
    put("bad.json", j);
    sk_mix *m = NULL;
    char err[1024];
    ck_assert_int_ne(sk_mix_create(&m, tu_tmp("bad.json"), err, sizeof err), SK_OK);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err, bad[i][1]) != NULL, "case %zu: %s", i, err);
  }
}
END_TEST

START_TEST(test_command) {
  put("x.csv", "t,v\n60,5\n");
  put("mix.json", "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"x.csv\","
                  " \"time_column\": \"t\", \"time_format\": \"epoch_s\","
                  " \"columns\": {\"pump_kw\": \"v\"}}]}");
  char *argv[] = {"mix", "--config", tu_tmp("mix.json"), "--out", tu_tmp("o.csv"), "--quiet", NULL};
  ck_assert_int_eq(sk_mix_main(6, argv), 0);
  char *got = tu_read_file(tu_tmp("o.csv")), *want = mix_ok("mix.json", NULL);
  ck_assert_str_eq(got, want);
  ck_assert_str_eq(got, COLS "\n1970-01-01T00:01:00Z,,,,,,,5,,,,,,,,,,0\n");
  free(got);
  free(want);
  struct stat sb;
  ck_assert_int_eq(stat(tu_tmp("o.csv"), &sb), 0);
  ck_assert_int_ne(sb.st_mode & 0044, 0); /* not left at mkstemp's 0600 (umask permitting) */
  /* usage errors: 2; an unwritable --out: 1 */
  char *a1[] = {"mix", NULL};
  ck_assert_int_eq(sk_mix_main(1, a1), 2);
  char *a2[] = {"mix", "--config", tu_tmp("mix.json"), "--bogus", NULL};
  ck_assert_int_eq(sk_mix_main(4, a2), 2);
  char *a3[] = {"mix", "--config", NULL};
  ck_assert_int_eq(sk_mix_main(2, a3), 2);
  char *a4[] = {"mix",     "--config", tu_tmp("mix.json"), "--out", tu_tmp("no/dir/o.csv"),
                "--quiet", NULL};
  ck_assert_int_eq(sk_mix_main(6, a4), 1);
  char *a5[] = {"mix", "--help", NULL};
  ck_assert_int_eq(sk_mix_main(2, a5), 0);
}
END_TEST

/* --out never clobbers: an existing file is refused and left as it was unless --force;
 * what is not a regular file (a FIFO standing in for /dev/null, a directory, a symbolic
 * link) is refused even with --force.  Through the real binary, for its messages. */
START_TEST(test_no_clobber) {
  const char *bin, *src;
  tu_skadi_env(&bin, &src);
  put("x.csv", "t,v\n60,5\n");
  put("mix.json", "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"x.csv\","
                  " \"time_column\": \"t\", \"time_format\": \"epoch_s\","
                  " \"columns\": {\"pump_kw\": \"v\"}}]}");
  const char *want = COLS "\n1970-01-01T00:01:00Z,,,,,,,5,,,,,,,,,,0\n";
  put("out.csv", "old\n");
  tu_result r;
  char msg[700];
  tu_run(&r, (char *const[]){(char *)bin, "mix", "--config", tu_tmp("mix.json"), "--out",
                             tu_tmp("out.csv"), NULL});
  ck_assert_int_eq(r.status, 2);
  snprintf(msg, sizeof msg, "skadi mix: %s: exists; pass --force to replace it\n",
           tu_tmp("out.csv"));
  ck_assert_str_eq(r.err, msg);
  char *got = tu_read_file(tu_tmp("out.csv"));
  ck_assert_str_eq(got, "old\n");
  free(got);
  assert_no_tmp("refused");

  tu_run(&r, (char *const[]){(char *)bin, "mix", "--config", tu_tmp("mix.json"), "--out",
                             tu_tmp("out.csv"), "--force", "--quiet", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  got = tu_read_file(tu_tmp("out.csv"));
  ck_assert_str_eq(got, want);
  free(got);
  assert_no_tmp("--force");

  /* not regular files: refused with and without --force, and still what they were */
  ck_assert_int_eq(mkfifo(tu_tmp("fifo"), 0600), 0);
  ck_assert_int_eq(mkdir(tu_tmp("dir"), 0700), 0);
  ck_assert_int_eq(symlink("out.csv", tu_tmp("link.csv")), 0);
  const char *targets[] = {"fifo", "dir", "link.csv"};
  const char *kinds[] = {"a FIFO", "a directory", "a symbolic link"};
  for (int k = 0; k < 3; k++)
    for (int force = 0; force < 2; force++) {
      tu_run(&r, (char *const[]){(char *)bin, "mix", "--config", tu_tmp("mix.json"), "--out",
                                 tu_tmp(targets[k]), force ? "--force" : "--quiet", NULL});
      ck_assert_msg(r.status == 2, "%s force %d: exit %d", targets[k], force, r.status);
      snprintf(msg, sizeof msg,
               "skadi mix: %s: exists and is %s, not a regular file; not "
               "replacing it%s\n",
               tu_tmp(targets[k]), kinds[k], force ? " (even with --force)" : "");
      ck_assert_str_eq(r.err, msg);
    }
  struct stat sb;
  ck_assert_int_eq(lstat(tu_tmp("fifo"), &sb), 0);
  ck_assert(S_ISFIFO(sb.st_mode));
  ck_assert_int_eq(lstat(tu_tmp("dir"), &sb), 0);
  ck_assert(S_ISDIR(sb.st_mode));
  ck_assert_int_eq(lstat(tu_tmp("link.csv"), &sb), 0);
  ck_assert(S_ISLNK(sb.st_mode));
  assert_no_tmp("not regular");

  /* stdout is not a file: --out - and no --out never refuse */
  tu_run(&r, (char *const[]){(char *)bin, "mix", "--config", tu_tmp("mix.json"), "--out", "-",
                             "--quiet", NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_eq(r.out, want);
}
END_TEST

/* The shipped example (scenarios/mix/), by exactly the command docs/MIX.md gives, from a
 * directory laid out like a fresh clone after the build: ./build/skadi, scenarios/, and
 * no runs/ yet (the command creates it).  Its output is the one docs/MIX.md prints. */
START_TEST(test_shipped_example) {
  const char *bin, *src;
  tu_skadi_env(&bin, &src);
  char link[700], cwd[4096];
  snprintf(link, sizeof link, "%s/scenarios", src);
  ck_assert_int_eq(symlink(link, tu_tmp("scenarios")), 0);
  ck_assert_int_eq(symlink(SKADI_BINARY_DIR, tu_tmp("build")), 0);
  ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
  ck_assert_int_eq(chdir(tu_dir), 0);
  char *const cmd[] = {"./build/skadi",  "mix", "--config", "scenarios/mix/example.json", "--out",
                       "runs/mixed.csv", NULL};
  tu_result r;
  tu_run(&r, cmd);
  ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
  ASSERT_HAS(r.err, "9 rows (3 times x (room + 2 racks)) 2023-11-16T18:15:00Z..2023-11-16T18:18:00Z"
                    " step 60 s -> runs/mixed.csv; 3 sources");
  static const char want[] = COLS "\n"
                                  "2023-11-16T18:15:00Z,,,,,42,5.3,,,30.4333333333333,,,,,,,,0\n"
                                  "2023-11-16T18:15:00Z,R-C-03,24.3,,10,,,,,,,,,,,,,0\n"
                                  "2023-11-16T18:15:00Z,R-C-04,23,,8.1,,,,,,,,,,,,,0\n"
                                  "2023-11-16T18:16:00Z,,,,,,,,,1021.38333333333,,,,,,,,2\n"
                                  "2023-11-16T18:16:00Z,R-C-03,,,,,,,,,,,,,,,,2\n"
                                  "2023-11-16T18:16:00Z,R-C-04,23.4,,,,,,,,,,,,,,,1\n"
                                  "2023-11-16T18:17:00Z,,,,,44.5,5.3,,,1268.63333333333,,,,,,,,0\n"
                                  "2023-11-16T18:17:00Z,R-C-03,25,,,,,,,,,,,,,,,1\n"
                                  "2023-11-16T18:17:00Z,R-C-04,,,,,,,,,,,,,,,,2\n";
  char *got = tu_read_file(tu_tmp("runs/mixed.csv"));
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, want);
  free(got);
  char *doc = tu_read_file(SRC("docs/MIX.md"));
  ck_assert_ptr_nonnull(doc);
  ck_assert_msg(strstr(doc, want) != NULL, "docs/MIX.md does not show the example's output");
  ck_assert_ptr_nonnull(
      strstr(doc, "skadi mix --config scenarios/mix/example.json --out runs/mixed.csv"));
  free(doc);
  /* the same command again: the output exists now */
  tu_run(&r, cmd);
  ck_assert_int_eq(r.status, 2);
  ck_assert_str_eq(r.err, "skadi mix: runs/mixed.csv: exists; pass --force to replace it\n");
  ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

static Suite *mix_suite(void) {
  Suite *s = suite_create("mix");
  TCase *tc = tcase_create("mix");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_add_test(tc, test_two_cadences);
  tcase_add_test(tc, test_rules_and_gaps);
  tcase_add_test(tc, test_rack_rows);
  tcase_add_test(tc, test_time_formats);
  tcase_add_test(tc, test_format_time);
  tcase_add_test(tc, test_azure_sample);
  tcase_add_test(tc, test_relative_paths);
  tcase_add_test(tc, test_open_grid);
  tcase_add_test(tc, test_csv_variants);
  tcase_add_test(tc, test_row_cap);
  tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
  tcase_add_test(tc, test_command);
  tcase_add_test(tc, test_pass_through_and_n_empty);
  tcase_add_test(tc, test_zones_overlap_derived);
  tcase_add_test(tc, test_no_clobber);
  tcase_add_test(tc, test_shipped_example);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(mix_suite());
}
