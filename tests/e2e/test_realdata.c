/*
 * test_realdata.c -- real data into the `skadi` binary: the three published trace formats
 * replayed through workload.trace_csv and workload.trace_format (sniffed and named), and a
 * format that does not match the file refused with exit 2 naming the header it expected;
 * skadi mix --tz into skadi ims train with its defaults; skadi monitor's episodes on a
 * hand-made stream.  Short runs (30 s of simulated time); no physics figure is checked.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *bin, *src;

static void setup(void) {
  tu_skadi_env(&bin, &src);
  tu_scratch_setup("skadi-realdata-e2e-");
}

/* skadi run baseline with the trace and format given; returns the result in *r. */
static void run_trace(tu_result *r, const char *trace, const char *format) {
  char scen[512], set_trace[600], set_fmt[80];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  snprintf(set_trace, sizeof set_trace, "workload.trace_csv=%s/tests/data/traces/%s", src, trace);
  snprintf(set_fmt, sizeof set_fmt, "workload.trace_format=%s", format);
  tu_run(r, (char *const[]){(char *)bin, "run", scen, "--set", set_trace, "--set", set_fmt,
                            "--duration", "30", "--out", tu_tmp("run.h5"), "--force",
                            "--no-progress", NULL});
}

START_TEST(trace_formats) {
  static const struct {
    const char *file, *format, *want;
  } cases[] = {
      {"azure2024_sample.csv", "azure", ": azure, 24 requests over 14.230 s (0 failed skipped"},
      {"mooncake_sample.jsonl", "mooncake", ": mooncake, 24 requests over 5.376 s"},
      {"burstgpt_sample.csv", "burstgpt", ": burstgpt, 22 requests over 109.000 s (2 failed"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int sniff = 0; sniff < 2; sniff++) {
      tu_result r;
      run_trace(&r, cases[i].file, sniff ? "auto" : cases[i].format);
      ck_assert_msg(r.status == 0, "%s: %s", cases[i].file, r.err);
      ASSERT_HAS(r.out, cases[i].want);
      ASSERT_HAS(r.out, "prompts served");
    }
  /* Mooncake's long prompts are capped at workload.max_tokens, and say so */
  tu_result r;
  run_trace(&r, "mooncake_sample.jsonl", "auto");
  ASSERT_HAS(r.out, "11 capped at workload.max_tokens 8192");
  /* a named format that does not fit the file */
  run_trace(&r, "burstgpt_sample.csv", "azure");
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "burstgpt_sample.csv:1: header: expected \"TIMESTAMP,ContextTokens,"
                    "GeneratedTokens\" (Azure)");
  run_trace(&r, "azure2024_sample.csv", "parquet");
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "workload.trace_format");
}
END_TEST

/* skadi mix with --tz over racks in local time and a plant log in UTC, then skadi ims
 * train on its output with the default features: the chain needs no --features. */
START_TEST(mix_into_ims) {
  FILE *f = fopen(tu_tmp("racks.csv"), "w");
  ck_assert_ptr_nonnull(f);
  fputs("time;rack;t_in;t_out;kw\n", f);
  for (int i = 0; i < 120; i++)
    for (int r = 1; r <= 2; r++) /* 2024-05-01 08:00 .. 09:59 CEST = 06:00 .. 07:59Z */
      fprintf(f, "2024-05-01 %02d:%02d:00;R-A-0%d;%.2f;%.2f;%.2f\n", 8 + i / 60, i % 60, r,
              20 + (i % 7) * 0.3, 31 + (i % 5) * 0.2, 6 + (i % 3) * 0.5);
  fputs("\n(240 rows affected)\n", f);
  fclose(f);
  f = fopen(tu_tmp("plant.csv"), "w");
  ck_assert_ptr_nonnull(f);
  fputs("t,chiller_kw\n", f);
  for (int i = 0; i < 120; i++)
    fprintf(f, "2024-05-01T%02d:%02d:00Z,%d\n", 6 + i / 60, i % 60, 40 + i % 7);
  fclose(f);
  tu_write_file(
      tu_tmp("mix.json"),
      "{\"grid\": {\"step_s\": 60}, \"sources\": [{\"file\": \"racks.csv\", "
      "\"time_column\": \"time\", \"time_format\": \"azure\", \"rack_column\": \"rack\", "
      "\"columns\": {\"inlet_c\": \"t_in\", \"outlet_c\": \"t_out\", \"pdu_kw\": \"kw\"}},"
      " {\"file\": \"plant.csv\", \"time_column\": \"t\", \"time_format\": \"iso8601\", "
      "\"columns\": {\"chiller_kw\": \"chiller_kw\"}}]}");
  tu_result r;
  /* without --tz the racks' local times are read as UTC, two hours off the plant's */
  tu_run(&r, (char *const[]){(char *)bin, "mix", "--config", tu_tmp("mix.json"), "--out",
                             tu_tmp("mixed.csv"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.err, "warning: sources[0] (racks.csv, 2024-05-01T08:00:00Z .. "
                    "2024-05-01T09:59:00Z) and sources[1]");
  tu_run(&r, (char *const[]){(char *)bin, "mix", "--config", tu_tmp("mix.json"), "--out",
                             tu_tmp("mixed.csv"), "--force", "--tz", "Europe/Berlin", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_ptr_null(strstr(r.err, "warning"));
  ASSERT_HAS(r.err, "delta_t_c derived as outlet_c - inlet_c");
  ASSERT_HAS(r.err, "skipped 1 trailing non-data line");
  tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tu_tmp("mixed.csv"), "--out",
                             tu_tmp("m.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "inlet_c,outlet_c,delta_t_c,pdu_kw");
  ASSERT_HAS(r.out, "left out (no values)");
  ASSERT_HAS(r.out, "nominal filter                reduced");
  ASSERT_HAS(r.out, "(ts 2024-05-01T06:00:00Z .. 2024-05-01T07:59:00Z)");
  tu_run(&r,
         (char *const[]){(char *)bin, "mix", "--config", tu_tmp("mix.json"), "--tz", "Mars", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "skadi mix: --tz: time zone \"Mars\"");
}
END_TEST

/* skadi monitor on a hand-made stream of two racks: R1 leaves its regime for 30 rows (one
 * alarm episode, top feature a), R2 has a one-row spike (transient: no episode) and a row
 * with no values (flagged as missing, skipped by the MMS). */
START_TEST(monitor_episodes) {
  FILE *f = fopen(tu_tmp("stream.csv"), "w");
  ck_assert_ptr_nonnull(f);
  fputs("ts,rack_id,a,b\n", f);
  for (int i = 0; i < 600; i++)
    for (int r = 1; r <= 2; r++) {
      double a = 10 + sin(i * 0.37 + (r == 2)) * 0.5, b = 5 + cos(i * 0.23) * 0.3;
      if (r == 1 && i >= 400 && i < 430)
        a += 6;
      if (r == 2 && i == 450)
        b += 8;
      if (r == 2 && i == 500)
        fprintf(f, "%d,R%d,,\n", 1714550400 + i * 10, r);
      else
        fprintf(f, "%d,R%d,%.4f,%.4f\n", 1714550400 + i * 10, r, a, b);
    }
  fclose(f);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tu_tmp("stream.csv"),
                             "--features", "a,b", "--clusters", "4", "--to", "2024-05-01T08:50:00Z",
                             "--out", tu_tmp("m.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  tu_run(&r, (char *const[]){(char *)bin, "monitor", "--model", tu_tmp("m.h5"), "--data",
                             tu_tmp("stream.csv"), "--out", tu_tmp("state.csv"), "--episodes",
                             tu_tmp("ep.csv"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "1200 rows of");
  ASSERT_HAS(r.out, "2 entities");
  char *ep = tu_read_file(tu_tmp("ep.csv"));
  ck_assert_ptr_nonnull(ep);
  /* the header and one episode, R1's, starting after the excursion began (09:06:40Z) and
   * ending after it ended (09:11:30Z), its peak on feature a, closed */
  ck_assert_ptr_nonnull(strstr(ep, "entity,start,end,duration_s,peak_deviation,top_feature,open\n"
                                   "R1,2024-05-01T09:0"));
  ck_assert_ptr_null(strstr(ep, "\nR2,"));
  const char *row = strstr(ep, "\nR1,") + 1;
  char start[32], end[32];
  ck_assert_int_eq(sscanf(row, "R1,%31[^,],%31[^,],", start, end), 2);
  ck_assert_str_ge(start, "2024-05-01T09:06:40Z");
  ck_assert_str_le(start, "2024-05-01T09:11:30Z");
  ck_assert_str_ge(end, "2024-05-01T09:11:30Z");
  ck_assert_ptr_nonnull(strstr(row, ",a,0\n"));
  free(ep);
  char *st = tu_read_file(tu_tmp("state.csv"));
  ck_assert_ptr_nonnull(st);
  ck_assert_ptr_nonnull(strstr(
      st, "ts,rack_id,deviation,top_feature,missing,over_tau_fast,over_tau_persist,state,"
          "out_of_range\n"));
  const char *miss = strstr(st, "2024-05-01T09:23:20Z,R2,");
  ck_assert_ptr_nonnull(miss);
  ck_assert_ptr_nonnull(strstr(miss, ",2,")); /* both features missing */
  ck_assert_ptr_nonnull(strstr(miss, ",0\n")); /* a missing value is not out of range */
  const char *spike = strstr(st, "2024-05-01T09:15:00Z,R2,");
  ck_assert_ptr_nonnull(spike);
  /* over both taus, not persistent; b far above its training range */
  ck_assert_ptr_nonnull(strstr(spike, ",1,1,transient,1\n"));
  /* R1's excursion: a above its training range on every one of its 30 rows */
  for (int i = 400; i < 430; i++) {
    char key[48];
    long t = 8 * 3600 + i * 10; /* s since midnight: the stream starts at 08:00:00Z */
    snprintf(key, sizeof key, "2024-05-01T%02ld:%02ld:%02ldZ,R1,", t / 3600, t / 60 % 60, t % 60);
    const char *line = strstr(st, key);
    ck_assert_msg(line != NULL, "%s", key);
    const char *eol = strchr(line, '\n');
    ck_assert_msg(eol && eol[-1] == '1' && eol[-2] == ',', "%.80s", line);
  }
  free(st);
  /* the summary counts them: at least R1's 30 rows and R2's spike */
  const char *oor = strstr(r.out, "rows outside the training range");
  ck_assert_ptr_nonnull(oor);
  long n_oor = strtol(oor + strlen("rows outside the training range"), NULL, 10);
  ck_assert_int_ge(n_oor, 31);
  ck_assert_int_le(n_oor, 1200 - 600); /* not the training stretch's rows */
  /* bad input */
  tu_run(&r, (char *const[]){(char *)bin, "monitor", "--data", tu_tmp("stream.csv"), NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "skadi monitor: --model is required");
  tu_run(&r, (char *const[]){(char *)bin, "monitor", "--model", tu_tmp("m.h5"), "--data",
                             tu_tmp("stream.csv"), "--alpha", "2", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--alpha: '2' is not a number in (0, 1]");
  tu_run(&r, (char *const[]){(char *)bin, "monitor", "--help", NULL});
  ck_assert_int_eq(r.status, 0);
  ASSERT_HAS(r.out, "usage: skadi monitor");
}
END_TEST

/* train --smooth and --tau-margin, kept in the model and applied by score and monitor;
 * monitor --clear-ticks; score's missing and out_of_range columns; bad values refused. */
START_TEST(smoothing_margin_and_ranges) {
  FILE *f = fopen(tu_tmp("s.csv"), "w");
  ck_assert_ptr_nonnull(f);
  fputs("ts,a,b\n", f);
  for (int i = 0; i < 400; i++) {
    double a = 10 + sin(i * 0.37) * 0.5, b = 5 + cos(i * 0.23) * 0.3;
    if (i >= 300 && i < 340)
      a += 4;
    if (i == 350)
      fprintf(f, "%d,,%.4f\n", 1714550400 + i, b);
    else
      fprintf(f, "%d,%.4f,%.4f\n", 1714550400 + i, a, b);
  }
  fclose(f);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tu_tmp("s.csv"), "--features",
                             "a,b", "--clusters", "2", "--smooth", "5", "--tau-margin", "1.5",
                             "--to", "1714550599", "--out", tu_tmp("sm.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "smoothing rows");
  ASSERT_HAS(r.out, "(1.5 x p95 of the training deviations)");
  ASSERT_HAS(r.out, "(1.5 x p98)");
  tu_run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tu_tmp("sm.h5"), "--data",
                             tu_tmp("s.csv"), "--out", tu_tmp("sc.csv"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "rows outside the training range");
  ASSERT_HAS(r.out, "a "); /* the feature that left its range, with its count */
  char *sc = tu_read_file(tu_tmp("sc.csv"));
  ck_assert_ptr_nonnull(sc);
  ASSERT_HAS(sc, "ts,deviation,cluster,top_feature,share_a,share_b,missing,out_of_range\n");
  /* row 350 lacks a: missing 1, and its smoothed value (the mean of the others) is finite */
  const char *row = strstr(sc, "\n1714550750,");
  ck_assert_ptr_nonnull(row);
  ck_assert_ptr_nonnull(strstr(row, ",1,0\n"));
  /* row 320: inside the excursion, a above its range */
  row = strstr(sc, "\n1714550720,");
  ck_assert_ptr_nonnull(row);
  ck_assert_ptr_nonnull(strstr(row, ",0,1\n"));
  free(sc);
  tu_run(&r, (char *const[]){(char *)bin, "monitor", "--model", tu_tmp("sm.h5"), "--data",
                             tu_tmp("s.csv"), "--clear-ticks", "12", "--episodes", "-", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.err, "6 ticks, clear after 12)");
  ASSERT_HAS(r.out, "entity,start,end,duration_s,peak_deviation,top_feature,open\n,");
  /* bad values */
  const char *bad[][3] = {{"--smooth", "0", "--smooth: '0' is not an integer in 1..3600"},
                          {"--smooth", "3601", "--smooth: '3601'"},
                          {"--tau-margin", "-1", "--tau-margin: '-1' is not a number > 0"},
                          {"--tau-margin", "nan", "--tau-margin: 'nan'"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tu_tmp("s.csv"), "--out",
                               tu_tmp("x.h5"), (char *)bad[i][0], (char *)bad[i][1], NULL});
    ck_assert_int_eq(r.status, 2);
    ASSERT_HAS(r.err, bad[i][2]);
  }
  tu_run(&r, (char *const[]){(char *)bin, "monitor", "--model", tu_tmp("sm.h5"), "--data",
                             tu_tmp("s.csv"), "--clear-ticks", "0", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--clear-ticks: '0' is not an integer in 1..1000000");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("realdata");
  TCase *tc = tcase_create("realdata");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_add_test(tc, trace_formats);
  tcase_add_test(tc, mix_into_ims);
  tcase_add_test(tc, monitor_episodes);
  tcase_add_test(tc, smoothing_margin_and_ranges);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
