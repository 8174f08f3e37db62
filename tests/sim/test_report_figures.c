/*
 * test_report_figures.c -- sim/src/report.c on recordings written here with the recorder,
 * for the figures a real run rarely produces: inlet compliance a hair below 100 % (the
 * report rounds it down, never up to 100), a TTFT p95 at the quantile sketch's ceiling
 * (flagged, as is a window's), and a killed run with no /summary (breaches counted from
 * the per-sample compliance and the room's size in /config).  tests/e2e/test_report.c
 * checks the whole report on real runs.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork in testutil.h */

#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "skadi/qsketch.h"
#include "skadi/recorder.h"
#include "skadi/report.h"

#include "testutil.h"

enum { N_RACKS = 4, N_SAMPLES = 5 };

static const char *const rack_ids[N_RACKS] = {"R-A-01", "R-A-02", "R-B-01", "R-B-02"};
static const int rack_row[N_RACKS] = {0, 0, 1, 1}, rack_pos[N_RACKS] = {0, 1, 0, 1};
static const char *const cfg_keys[] = {"room.rows", "room.racks_per_row", "settings.inlet_max_c",
                                       "settings.sla_latency_ms"};
static const char *const cfg_vals[] = {"2", "2", "27", "250"};

/* A recording of N_SAMPLES room rows: sample k has compliance[k] % and TTFT p95 p95[k];
 * finished with the /summary figures given (n of them), or left unfinished (a killed
 * run) when summary is NULL. */
static void write_recording(const char *path, const double *compliance, const double *p95,
                            const sk_recorder_figure *summary, size_t n) {
  sk_recorder_config cfg = {.path = path,
                            .scenario_name = "figures",
                            .scenario_json = "{\"name\":\"figures\"}",
                            .skadi_version = "0.0.0-test",
                            .seed = 1,
                            .duration_s = 10.0 * N_SAMPLES,
                            .sample_period_s = 10,
                            .n_config = sizeof cfg_keys / sizeof cfg_keys[0],
                            .config_keys = cfg_keys,
                            .config_values = cfg_vals,
                            .n_racks = N_RACKS,
                            .rack_ids = rack_ids,
                            .rack_row = rack_row,
                            .rack_pos = rack_pos};
  char err[256];
  sk_recorder *rec = NULL;
  ck_assert_msg(sk_recorder_create(&rec, &cfg, err, sizeof err) == SK_OK, "%s", err);
  for (int k = 0; k < N_SAMPLES; k++) {
    sk_room_sample room;
    memset(&room, 0, sizeof room);
    room.ts = 10.0 * (k + 1);
    room.it_kw = room.facility_kw = 100;
    room.prompts_completed = 1000;
    room.inlet_compliance_pct = compliance[k];
    room.latency_p95_ms = p95[k];
    room.max_inlet_c = 20;
    ck_assert_int_eq(sk_recorder_add_room(rec, &room), SK_OK);
  }
  if (summary) {
    const sk_recorder_figure info[] = {{"wall_time_s", 1, "s"}};
    ck_assert_int_eq(sk_recorder_finish(rec, summary, n, info, 1, "completed"), SK_OK);
  } else {
    ck_assert_int_eq(sk_recorder_flush(rec), SK_OK);
  }
  sk_recorder_close(rec);
}

static cJSON *report(const char *path) {
  char err[512];
  cJSON *j = NULL;
  ck_assert_msg(sk_report_build(path, &j, err, sizeof err) == SK_OK, "%s", err);
  return j;
}

/* Member path "a.b.c" of o; fails the test when a step is missing. */
static const cJSON *at(const cJSON *o, const char *path) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
    o = cJSON_GetObjectItemCaseSensitive(o, k);
    ck_assert_msg(o != NULL, "%s missing", path);
  }
  return o;
}

static double num(const cJSON *o, const char *path) {
  const cJSON *j = at(o, path);
  ck_assert_msg(cJSON_IsNumber(j), "%s is not a number", path);
  return j->valuedouble;
}

/* The value a quantile at the sketch's ceiling reads. */
static double ceiling_ms(void) {
  sk_qsketch s;
  sk_qsketch_init(&s, SK_QSKETCH_DEFAULT_ALPHA);
  sk_qsketch_add(&s, 2 * SK_QSKETCH_MAX_VALUE);
  return sk_qsketch_quantile(&s, 0.5);
}

/* One breach in 2.5 million samples is 99.99996 %: six significant digits rounded to
 * nearest would read 100; the report reads 99.9999 and gives the count.  A p95 at the
 * ceiling is flagged censored, in /summary and in the worst window. */
START_TEST(figures_that_would_round_up) {
  const double comp[N_SAMPLES] = {100, 100, 75, 100, 100}; /* a window: 1 of 4 racks */
  const double p95[N_SAMPLES] = {120, 130, ceiling_ms(), 140, NAN};
  const sk_recorder_figure sum[] = {{"latency_p95_ms", SK_QSKETCH_MAX_VALUE, "ms"},
                                    {"latency_p95_censored", 1, "1"},
                                    {"prompts_queued_at_end", 7, "prompts"},
                                    {"inlet_compliance_pct", 100.0 * 2499999 / 2500000, "%"},
                                    {"inlet_breach_samples", 1, "samples"},
                                    {"inlet_samples", 2500000, "samples"},
                                    {"prompts_extrapolated", 3, "prompts"},
                                    {"prefills_extrapolated", 0, "prefills"}};
  write_recording(tu_tmp("r.h5"), comp, p95, sum, sizeof sum / sizeof sum[0]);
  cJSON *j = report(tu_tmp("r.h5"));
  ck_assert_double_eq(num(j, "kpis.inlet_compliance_pct"), 99.9999);
  ck_assert_double_eq(num(j, "kpis.inlet_breach_samples"), 1);
  ck_assert_double_eq(num(j, "kpis.inlet_samples"), 2500000);
  ck_assert_double_eq(num(j, "kpis.latency_p95_ms"), SK_QSKETCH_MAX_VALUE);
  ck_assert(cJSON_IsTrue(at(j, "kpis.latency_p95_censored")));
  ck_assert_double_eq(num(j, "kpis.prompts_queued_at_end"), 7);
  ck_assert_double_eq(num(j, "kpis.prompts_extrapolated"), 3);
  ck_assert_double_eq(num(j, "kpis.prefills_extrapolated"), 0);
  const cJSON *w = at(j, "kpis.worst_window.latency_p95");
  ck_assert_double_eq(num(w, "ts"), 30);
  ck_assert(cJSON_IsTrue(at(w, "censored")));
  ck_assert_double_eq(num(j, "kpis.worst_window.inlet_compliance.inlet_compliance_pct"), 75);
  cJSON_Delete(j);
}
END_TEST

/* Rounding down keeps exact figures exact and only ever moves the sixth digit down. */
START_TEST(compliance_rounds_down_only) {
  const double comp[N_SAMPLES] = {100, 100, 100, 100, 100};
  const double p95[N_SAMPLES] = {120, 130, 125, 140, 110};
  const struct {
    double pct, shown;
  } cases[] = {{100, 100}, {99.5, 99.5}, {97.22222222, 97.2222}, {99.999951, 99.9999},
               {66.6666666, 66.6666}, {0.0123456789, 0.0123456}, {0, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const sk_recorder_figure sum[] = {{"inlet_compliance_pct", cases[i].pct, "%"}};
    char name[32];
    snprintf(name, sizeof name, "c%zu.h5", i);
    write_recording(tu_tmp(name), comp, p95, sum, 1);
    cJSON *j = report(tu_tmp(name));
    ck_assert_double_eq(num(j, "kpis.inlet_compliance_pct"), cases[i].shown);
    /* a recording from before the counts: they are null, not invented */
    ck_assert(cJSON_IsNull(at(j, "kpis.inlet_breach_samples")));
    ck_assert(cJSON_IsNull(at(j, "kpis.latency_p95_censored")));
    ck_assert(cJSON_IsFalse(at(j, "kpis.worst_window.latency_p95.censored")));
    cJSON_Delete(j);
  }
}
END_TEST

/* A killed run (no /summary): compliance is the mean of the samples', and the breaches
 * are counted from each sample's compliance and the room's racks (/config). */
START_TEST(killed_run_counts_breaches_from_samples) {
  const double comp[N_SAMPLES] = {100, 75, 50, 100, 100};
  const double p95[N_SAMPLES] = {120, 130, 125, 140, 110};
  write_recording(tu_tmp("k.h5"), comp, p95, NULL, 0);
  cJSON *j = report(tu_tmp("k.h5"));
  ck_assert_str_eq(at(j, "kpis.source")->valuestring, "/telemetry/room");
  ck_assert_double_eq(num(j, "kpis.inlet_breach_samples"), 3);
  ck_assert_double_eq(num(j, "kpis.inlet_samples"), N_RACKS * N_SAMPLES);
  ck_assert_double_eq(num(j, "kpis.inlet_compliance_pct"), 85);
  ck_assert(cJSON_IsNull(at(j, "kpis.latency_p95_ms")));
  ck_assert(cJSON_IsNull(at(j, "kpis.latency_p95_censored")));
  ck_assert(cJSON_IsNull(at(j, "kpis.prompts_queued_at_end")));
  cJSON_Delete(j);
}
END_TEST

static void setup(void) {
  tu_scratch_setup("skadi-report-");
}

static Suite *suite(void) {
  Suite *s = suite_create("report");
  TCase *tc = tcase_create("figures");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_add_test(tc, figures_that_would_round_up);
  tcase_add_test(tc, compliance_rounds_down_only);
  tcase_add_test(tc, killed_run_counts_breaches_from_samples);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
