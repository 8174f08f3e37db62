/*
 * test_report.c -- end to end: the real `skadi report` on real recordings made by `skadi
 * run` -- a short closed-loop run of the baseline (counterfactual, actions, monitor) and a
 * plain one -- parsed with cJSON and checked section by section against docs/REPORT.md;
 * then its exit codes and messages for a missing file, a file that is not HDF5 and an
 * HDF5 file that is not a recording (an IMS model).
 *
 * The two recordings are made once per run of the suite (an unchecked fixture): the
 * closed-loop one takes a few seconds.  SKADI_BIN and SKADI_SOURCE_DIR come from CTest's
 * environment.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char tmpdir[256];
static const char *bin, *src;
static char closed_h5[512], plain_h5[512];

typedef struct {
  int status; /* exit status, or 128+signal */
  char *out;  /* whole standard output, NUL-terminated; freed by result_free */
  char *err;
} result;

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  ck_assert_int_ge(n, 0);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(buf);
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  buf[got] = '\0';
  return buf;
}

static char *tmp(const char *name) {
  static char buf[16][512];
  static int k;
  char *b = buf[k++ % 16];
  snprintf(b, 512, "%s/%s", tmpdir, name);
  return b;
}

/* Runs argv with stdout/stderr to files in tmpdir (testutil's spawn), waits, collects
 * both whole (a report can be longer than tu_result holds). */
static void run(result *r, char *const argv[]) {
  char out[512], err[512];
  snprintf(out, sizeof out, "%s/stdout", tmpdir);
  snprintf(err, sizeof err, "%s/stderr", tmpdir);
  r->status = tu_wait(tu_spawn(argv));
  r->out = slurp(out);
  r->err = slurp(err);
}

static void result_free(result *r) {
  free(r->out);
  free(r->err);
}

#define ASSERT_HAS(text, needle)                                                                   \
  ck_assert_msg(strstr((text), (needle)) != NULL, "'%s' not in: %s", (needle), (text))

/* Member path "a.b.c" of o (NULL if any step is missing). */
static const cJSON *at(const cJSON *o, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
    o = cJSON_GetObjectItemCaseSensitive(o, k);
  return o;
}

static double num(const cJSON *o, const char *path) {
  const cJSON *j = at(o, path);
  ck_assert_msg(cJSON_IsNumber(j), "%s is not a number", path);
  return j->valuedouble;
}

static const char *str(const cJSON *o, const char *path) {
  const cJSON *j = at(o, path);
  ck_assert_msg(cJSON_IsString(j), "%s is not a string", path);
  return j->valuestring;
}

static void assert_null(const cJSON *o, const char *path) {
  const cJSON *j = at(o, path);
  ck_assert_msg(j && cJSON_IsNull(j), "%s is not null", path);
}

/* Runs `skadi report h5` (stdout) and parses it; the caller deletes the tree. */
static cJSON *report_of(const char *h5) {
  result r;
  run(&r, (char *const[]){(char *)bin, "report", (char *)h5, NULL});
  ck_assert_msg(r.status == 0, "skadi report exit %d: %s", r.status, r.err);
  cJSON *j = cJSON_Parse(r.out);
  ck_assert_msg(j != NULL, "report is not JSON: %.200s", r.out);
  result_free(&r);
  return j;
}

static void make_recording(const char *out, int closed_loop) {
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  result r;
  if (closed_loop)
    run(&r, (char *const[]){(char *)bin, "run", scen, "--mode", "closed_loop", "--duration", "40m",
                            "--set", "control.ims_warmup_s=600", "--out", (char *)out,
                            "--no-progress", NULL});
  else
    run(&r, (char *const[]){(char *)bin, "run", scen, "--duration", "30m", "--out", (char *)out,
                            "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "skadi run: %s", r.err);
  result_free(&r);
}

static void setup_once(void) {
  bin = getenv("SKADI_BIN");
  src = getenv("SKADI_SOURCE_DIR");
  ck_assert_ptr_nonnull(bin);
  ck_assert_ptr_nonnull(src);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/skadi-report-e2e-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  snprintf(tu_dir, sizeof tu_dir, "%s", tmpdir); /* tu_spawn writes its output there */
  snprintf(closed_h5, sizeof closed_h5, "%s/closed.h5", tmpdir);
  snprintf(plain_h5, sizeof plain_h5, "%s/plain.h5", tmpdir);
  make_recording(closed_h5, 1);
  make_recording(plain_h5, 0);
}

static void teardown_once(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

static const char *const subsystems[] = {"it",      "crah_fans",     "pumps",
                                         "chiller", "cooling_tower", "electrical_losses",
                                         "misc",    "facility"};

/* Sections every report has, whatever the run. */
static void check_common(const cJSON *j, const char *h5, double duration_s) {
  ck_assert_str_eq(str(j, "report"), "skadi judges report");
  ck_assert_int_eq((int)num(j, "format_version"), 1);
  ck_assert_str_eq(str(j, "recording"), h5);

  ck_assert_str_eq(str(j, "run.scenario"), "baseline");
  ck_assert_double_eq(num(j, "run.duration_s"), duration_s);
  ck_assert_double_eq(num(j, "run.sim_time_s"), duration_s);
  ck_assert_str_eq(str(j, "run.status"), "completed");
  ck_assert(strlen(str(j, "run.skadi_version")) > 0);
  ck_assert(num(j, "run.seed") >= 0);

  ck_assert_str_eq(str(j, "kpis.source"), "/summary");
  double wh = num(j, "kpis.j_per_prompt_wh"), pue = num(j, "kpis.pue");
  ck_assert(wh > 0.1 && wh < 10);
  ck_assert(pue > 1.0 && pue < 3.0);
  ck_assert(num(j, "kpis.latency_p95_ms") > 0);
  ck_assert_double_eq_tol(num(j, "kpis.inlet_compliance_pct"), 100, 1e-9);
  /* the figures beside the percentage and the p95 (docs/REPORT.md) */
  ck_assert_double_eq(num(j, "kpis.inlet_breach_samples"), 0);
  ck_assert_double_eq(num(j, "kpis.inlet_samples"), 72 * duration_s / 10);
  ck_assert(cJSON_IsFalse(at(j, "kpis.latency_p95_censored")));
  double queued = num(j, "kpis.prompts_queued_at_end");
  ck_assert(queued >= 0 && queued < 1000);
  ck_assert_double_eq(num(j, "kpis.prompts_extrapolated"), 0);
  ck_assert_double_eq(num(j, "kpis.prefills_extrapolated"), 0);
  ck_assert(cJSON_IsFalse(at(j, "kpis.worst_window.latency_p95.censored")));
  ck_assert(num(j, "kpis.max_inlet_c") < num(j, "kpis.inlet_limit_c"));
  double served = num(j, "kpis.prompts_served");
  ck_assert(served > 1000 && served == floor(served));
  /* worst window: the highest per-sample p95 is at least the whole-run p95's sample */
  double windows = num(j, "kpis.worst_window.windows");
  ck_assert_double_eq(windows, duration_s / num(j, "kpis.worst_window.window_s"));
  double worst_ts = num(j, "kpis.worst_window.latency_p95.ts");
  ck_assert(worst_ts > 0 && worst_ts <= duration_s);
  ck_assert(num(j, "kpis.worst_window.latency_p95.latency_p95_ms") > 0);
  ck_assert(num(j, "kpis.worst_window.inlet_compliance.ts") > 0);
  ck_assert_double_eq(num(j, "kpis.worst_window.sla_latency_ms"), 250);
  double above = num(j, "kpis.worst_window.windows_above_sla");
  ck_assert(above >= 0 && above <= windows);

  /* energy: the parts add up to the facility, the shares to 100 % */
  ck_assert_str_eq(str(j, "energy.source"), "/summary");
  double sum = 0, share = 0;
  for (size_t i = 0; i + 1 < sizeof subsystems / sizeof subsystems[0]; i++) {
    char p[64];
    snprintf(p, sizeof p, "energy.kwh.%s", subsystems[i]);
    sum += num(j, p);
    snprintf(p, sizeof p, "energy.share_pct.%s", subsystems[i]);
    share += num(j, p);
  }
  double fac = num(j, "energy.kwh.facility");
  ck_assert_double_eq_tol(sum, fac, fac * 1e-4);
  ck_assert_double_eq_tol(share, 100, 1e-2);
  ck_assert_double_eq(num(j, "energy.share_pct.facility"), 100);
  /* Wh/prompt is facility energy per prompt served */
  ck_assert_double_eq_tol(fac * 1000.0 / served, wh, wh * 1e-4);

  ck_assert(num(j, "performance.wall_time_s") > 0);
  ck_assert(num(j, "performance.speedup") > 1);
  ck_assert(num(j, "performance.events") > 0);
  ck_assert(num(j, "performance.peak_rss_mb") > 0);

  ck_assert_str_eq(str(j, "charts.time_field"), "ts");
  ck_assert_str_eq(str(j, "charts.room.j_per_prompt_wh"), "/telemetry/room:j_per_prompt_wh");
  ck_assert_str_eq(str(j, "charts.room.latency_p95_ms"), "/telemetry/room:latency_p95_ms");
  ck_assert_str_eq(str(j, "charts.per_rack.series.inlet_c"), "/telemetry/racks:inlet_c");
  ck_assert_str_eq(str(j, "charts.per_crah.series.fan_pct"), "/telemetry/crah:fan_pct");
  ck_assert_double_eq(num(j, "charts.reference_lines.latency_p95_ms"), 250);
  ck_assert(cJSON_IsArray(at(j, "notes")));
}

START_TEST(closed_loop_report) {
  cJSON *j = report_of(closed_h5);
  check_common(j, closed_h5, 2400);

  /* savings against the counterfactual */
  ck_assert(at(j, "savings") != NULL);
  double cf = num(j, "savings.counterfactual_j_per_prompt_wh");
  double opt = num(j, "savings.optimized_j_per_prompt_wh");
  ck_assert_double_eq(opt, num(j, "kpis.j_per_prompt_wh"));
  ck_assert_double_eq_tol(num(j, "savings.energy_saved_pct"), 100.0 * (cf - opt) / cf, 1e-3);
  const cJSON *by = at(j, "savings.by_action");
  ck_assert(cJSON_IsObject(by));
  ck_assert(strstr(str(j, "savings.by_action_note"), "sum of per-interval realized savings"));
  /* the subsystems' per-prompt savings add up to the facility's, which is the saving */
  double parts = 0;
  const char *subs[] = {"it", "crah_fans", "pumps", "chiller", "cooling_tower",
                        "electrical_losses", "misc"};
  for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
    char path[96];
    snprintf(path, sizeof path, "savings.by_subsystem.saved_wh_per_prompt.%s", subs[i]);
    parts += num(j, path);
  }
  ck_assert_double_eq_tol(parts, num(j, "savings.by_subsystem.saved_wh_per_prompt.facility"),
                          1e-5);
  ck_assert_double_eq_tol(num(j, "savings.by_subsystem.saved_pct_of_counterfactual.facility"),
                          num(j, "savings.energy_saved_pct"), 1e-3);
  ck_assert(strlen(str(j, "savings.by_subsystem.note")) > 0);
  ck_assert_double_eq(num(j, "savings.by_subsystem.optimized_kwh.facility"),
                      num(j, "energy.kwh.facility"));

  /* each row's settings at the end; their mean is the row mean; the counterfactual's are
   * the scenario's own (baseline: 75 % fans, 18 C supply air in every row) */
  static const char *const ends[2] = {"optimized_end", "counterfactual_end"};
  for (int k = 0; k < 2; k++) {
    char path[128];
    double sum = 0;
    snprintf(path, sizeof path, "savings.settings.%s.crah_fan_pct", ends[k]);
    ck_assert_int_eq(cJSON_GetArraySize(at(j, path)), 6);
    for (char row = 'A'; row <= 'F'; row++) {
      snprintf(path, sizeof path, "savings.settings.%s.crah_fan_pct.%c", ends[k], row);
      sum += num(j, path);
      if (k == 1) {
        ck_assert_double_eq(num(j, path), 75);
        snprintf(path, sizeof path, "savings.settings.%s.supply_setpoint_c.%c", ends[k], row);
        ck_assert_double_eq(num(j, path), 18);
      }
    }
    snprintf(path, sizeof path, "savings.settings.%s.crah_fan_pct_mean", ends[k]);
    ck_assert_double_eq_tol(sum / 6, num(j, path), 1e-4);
  }

  /* the action log: applied / rolled_back rows only, counted like the counts say */
  double applied = num(j, "actions.counts.applied");
  double rolled = num(j, "actions.counts.rolled_back");
  ck_assert(applied > 0);
  ck_assert(num(j, "actions.counts.rejected") > 0);
  ck_assert_double_eq(num(j, "actions.counts.proposed"), applied +
                                                             num(j, "actions.counts.advised") +
                                                             num(j, "actions.counts.rejected"));
  const cJSON *log = at(j, "actions.log");
  ck_assert(cJSON_IsArray(log));
  ck_assert_int_eq(cJSON_GetArraySize(log), (int)(applied + rolled));
  int with_realized = 0;
  double by_applied = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, log) {
    const char *d = str(e, "decision");
    ck_assert(strcmp(d, "applied") == 0 || strcmp(d, "rolled_back") == 0);
    ck_assert(num(e, "id") > 0);
    ck_assert(strlen(str(e, "action")) > 0);
    ck_assert(at(e, "pred_saving_pct") && at(e, "realized_saving_pct"));
    if (cJSON_IsNumber(at(e, "realized_saving_pct")) && strcmp(d, "applied") == 0) {
      with_realized++;
      ck_assert(num(e, "realized_ts") > num(e, "ts"));
    }
  }
  ck_assert(with_realized > 0);
  const cJSON *t;
  cJSON_ArrayForEach(t, by) by_applied += num(t, "applied");
  ck_assert_double_eq(by_applied, applied);

  double n = num(j, "actions.prediction_quality.n");
  ck_assert(n > 0 && n <= with_realized);
  double mae = num(j, "actions.prediction_quality.mean_abs_error_pct");
  ck_assert(mae >= 0 && mae < 5);
  ck_assert(fabs(num(j, "actions.prediction_quality.mean_error_pct")) <= mae + 1e-9);
  ck_assert_int_ge(cJSON_GetArraySize(at(j, "actions.ims_training")), 1);

  /* the monitor ran after the 10-minute warm-up */
  ck_assert(num(j, "monitor.samples") > 0);
  double dts = num(j, "monitor.max_deviation.ts");
  ck_assert(dts >= 600 && dts <= 2400);
  ck_assert(num(j, "monitor.max_deviation.deviation") > 0);
  ck_assert_int_eq((int)strlen(str(j, "monitor.max_deviation.row")), 1);
  ck_assert_double_eq(num(j, "monitor.racks"), 72);
  double persistent = num(j, "monitor.racks_ever_persistent");
  ck_assert(persistent >= 0 && persistent <= 72);
  ck_assert_int_eq(cJSON_GetArraySize(at(j, "monitor.first_persistent_by_row")), 6);
  ck_assert_str_eq(str(j, "charts.per_rack.series.deviation"), "/monitor/racks:deviation");
  ck_assert_str_eq(str(j, "charts.markers.actions"), "/actions");
  cJSON_Delete(j);
}
END_TEST

START_TEST(plain_run_has_no_savings) {
  cJSON *j = report_of(plain_h5);
  check_common(j, plain_h5, 1800);
  ck_assert(at(j, "savings") == NULL);
  assert_null(j, "actions");
  assert_null(j, "monitor");
  ck_assert(at(j, "charts.per_rack.series.deviation") == NULL);
  char *text = cJSON_PrintUnformatted(at(j, "notes"));
  ASSERT_HAS(text, "no counterfactual");
  free(text);
  cJSON_Delete(j);
}
END_TEST

/* No temporary output file ("<out>.tmp-XXXXXX") left in the scratch directory. */
static void assert_no_tmp_files(void) {
  result r;
  run(&r, (char *const[]){"sh", "-c", "ls -a \"$0\" | grep -c '[.]tmp-'", tmpdir, NULL});
  ck_assert_msg(strcmp(r.out, "0\n") == 0, "temporary files left: %s", r.out);
  result_free(&r);
}

/* --out writes the same report as standard output; --compact is one line of it. */
START_TEST(out_file_and_compact) {
  result a, b, c;
  const char *out = tmp("report.json");
  run(&a, (char *const[]){(char *)bin, "report", closed_h5, NULL});
  run(&b, (char *const[]){(char *)bin, "report", closed_h5, "--out", (char *)out, NULL});
  run(&c, (char *const[]){(char *)bin, "report", "--compact", closed_h5, NULL});
  ck_assert_int_eq(a.status, 0);
  ck_assert_int_eq(b.status, 0);
  ck_assert_int_eq(c.status, 0);
  ck_assert_str_eq(b.out, "");
  char *file = slurp(out);
  ck_assert_str_eq(file, a.out);
  ck_assert_ptr_eq(strchr(c.out, '\n'), c.out + strlen(c.out) - 1); /* one line */
  cJSON *ja = cJSON_Parse(a.out), *jc = cJSON_Parse(c.out);
  ck_assert(cJSON_Compare(ja, jc, 1));
  cJSON_Delete(ja);
  cJSON_Delete(jc);
  free(file);
  assert_no_tmp_files();
  result_free(&a);
  result_free(&b);
  result_free(&c);
}
END_TEST

/* --out never clobbers: an existing file is refused and left as it was unless --force,
 * which replaces it; a FIFO (standing in for /dev/null) is refused even with --force. */
START_TEST(out_never_clobbers) {
  result r, want;
  char msg[700];
  const char *out = tmp("kept.json");
  FILE *f = fopen(out, "w");
  ck_assert_ptr_nonnull(f);
  fputs("old\n", f);
  fclose(f);
  run(&r, (char *const[]){(char *)bin, "report", plain_h5, "--out", (char *)out, NULL});
  ck_assert_int_eq(r.status, 2);
  snprintf(msg, sizeof msg, "skadi report: %s: exists; pass --force to replace it\n", out);
  ck_assert_str_eq(r.err, msg);
  result_free(&r);
  char *text = slurp(out);
  ck_assert_str_eq(text, "old\n");
  free(text);

  run(&want, (char *const[]){(char *)bin, "report", plain_h5, NULL});
  run(&r, (char *const[]){(char *)bin, "report", plain_h5, "--out", (char *)out, "--force", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  text = slurp(out);
  ck_assert_str_eq(text, want.out);
  free(text);
  result_free(&r);
  result_free(&want);

  const char *fifo = tmp("fifo");
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  for (int force = 0; force < 2; force++) {
    run(&r, (char *const[]){(char *)bin, "report", plain_h5, "--out", (char *)fifo,
                            force ? "--force" : NULL, NULL});
    ck_assert_int_eq(r.status, 2);
    snprintf(msg, sizeof msg,
             "skadi report: %s: exists and is a FIFO, not a regular file; not replacing it%s\n",
             fifo, force ? " (even with --force)" : "");
    ck_assert_str_eq(r.err, msg);
    result_free(&r);
  }
  struct stat sb;
  ck_assert_int_eq(lstat(fifo, &sb), 0);
  ck_assert(S_ISFIFO(sb.st_mode));
  ck_assert_int_eq(unlink(fifo), 0);
  assert_no_tmp_files();
}
END_TEST

START_TEST(exit_codes_and_messages) {
  result r;
  run(&r, (char *const[]){(char *)bin, "report", "--help", NULL});
  ck_assert_int_eq(r.status, 0);
  ASSERT_HAS(r.out, "usage: skadi report RUN.h5");
  result_free(&r);

  run(&r, (char *const[]){(char *)bin, "report", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "usage: skadi report");
  result_free(&r);

  run(&r, (char *const[]){(char *)bin, "report", plain_h5, "--bogus", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--bogus");
  result_free(&r);

  const char *missing = tmp("no-such-run.h5");
  run(&r, (char *const[]){(char *)bin, "report", (char *)missing, NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, missing);
  ck_assert_str_eq(r.out, "");
  result_free(&r);

  const char *text = tmp("not-hdf5.h5");
  FILE *f = fopen(text, "w");
  ck_assert_ptr_nonnull(f);
  fputs("{\"hello\": 1}\n", f);
  fclose(f);
  run(&r, (char *const[]){(char *)bin, "report", (char *)text, NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, text);
  ASSERT_HAS(r.err, "not a skadi recording");
  result_free(&r);

  /* an HDF5 file that is not a recording: an IMS model trained on one */
  const char *model = tmp("model.h5");
  run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", plain_h5, "--out", (char *)model,
                          NULL});
  ck_assert_msg(r.status == 0, "skadi ims train: %s", r.err);
  result_free(&r);
  run(&r, (char *const[]){(char *)bin, "report", (char *)model, NULL});
  ck_assert_int_eq(r.status, 2);
  char want[640];
  snprintf(want, sizeof want, "%s: not a skadi recording (no /telemetry/room)", model);
  ASSERT_HAS(r.err, want);
  result_free(&r);

  /* an output that cannot be written is an I/O failure, and leaves nothing behind */
  const char *bad_out = tmp("no-dir/report.json");
  run(&r, (char *const[]){(char *)bin, "report", plain_h5, "--out", (char *)bad_out, NULL});
  ck_assert_int_eq(r.status, 1);
  ASSERT_HAS(r.err, bad_out);
  result_free(&r);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("report");
  TCase *tc = tcase_create("e2e");
  tcase_add_unchecked_fixture(tc, setup_once, teardown_once);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, closed_loop_report);
  tcase_add_test(tc, plain_run_has_no_savings);
  tcase_add_test(tc, out_file_and_compact);
  tcase_add_test(tc, out_never_clobbers);
  tcase_add_test(tc, exit_codes_and_messages);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
