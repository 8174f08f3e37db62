/*
 * test_cli.c -- end to end: the real `skadi` binary, real HDF5 files read by h5diff and
 * by Python h5py/pandas, real signals.
 *
 * SKADI_BIN and SKADI_SOURCE_DIR come from CTest's environment.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "testutil.h"

static const char *bin, *src;

static char *scen(const char *name) {
  static char buf[4][512];
  static int k;
  char *b = buf[k++ % 4];
  snprintf(b, 512, "%s/scenarios/%s", src, name);
  return b;
}

static void setup(void) {
  tu_skadi_env(&bin, &src);
  tu_scratch_setup("skadi-e2e-");
}

START_TEST(help_texts) {
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "--help", NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "usage: skadi"));
  tu_run(&r, (char *const[]){(char *)bin, "run", "--help", NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "--speed"));
  ck_assert_ptr_nonnull(strstr(r.out, "--set"));
  tu_run(&r, (char *const[]){(char *)bin, "keys", NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "workload.rate_scale"));
  tu_run(&r, (char *const[]){(char *)bin, "frobnicate", NULL});
  ck_assert_int_eq(r.status, 2);
}
END_TEST

/* `skadi help CMD [SUB]` prints what `skadi CMD [SUB] --help` prints; `skadi help` alone the
 * top-level help; an unknown command exits 2 naming it. */
START_TEST(help_command) {
  tu_result r, want;
  tu_run(&want, (char *const[]){(char *)bin, "--help", NULL});
  tu_run(&r, (char *const[]){(char *)bin, "help", NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_eq(r.out, want.out);
  ASSERT_HAS(r.out, "help [CMD [SUB]]");
  struct {
    char *words[3];
    const char *has;
  } cases[] = {
      {{"run"}, "--speed"},
      {{"ims"}, "usage: skadi ims <command>"},
      {{"ims", "train"}, "--clusters"},
      {{"ims", "score"}, "usage: skadi ims score"},
      {{"mix"}, "usage: skadi mix"},
      {{"report"}, "usage: skadi report"},
      {{"keys"}, "usage: skadi keys"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *direct[6] = {(char *)bin}, *via_help[6] = {(char *)bin, "help"};
    int n = 1;
    for (int j = 0; j < 3 && cases[i].words[j]; j++, n++) {
      direct[n] = cases[i].words[j];
      via_help[n + 1] = cases[i].words[j];
    }
    direct[n] = "--help";
    tu_run(&want, direct);
    tu_run(&r, via_help);
    ck_assert_msg(r.status == 0, "help %s: exit %d: %s", cases[i].words[0], r.status, r.err);
    ASSERT_HAS(r.out, cases[i].has);
    ck_assert_str_eq(r.out, want.out);
  }
  tu_run(&r, (char *const[]){(char *)bin, "help", "nosuch", NULL});
  ck_assert_int_eq(r.status, 2);
  ck_assert_str_eq(r.out, "");
  ASSERT_HAS(r.err, "skadi help: no command 'nosuch'; the commands are run, ims, mix");
  tu_run(&r, (char *const[]){(char *)bin, "help", "ims", "nosuch", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "nosuch");
  tu_run(&r, (char *const[]){(char *)bin, "help", "run", "extra", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "no subcommands");
}
END_TEST

/* Every bad input exits 2 with a message that names the file or flag and the field. */
START_TEST(bad_inputs_exit_2) {
  struct {
    const char *file_text; /* NULL: use the shipped baseline */
    const char *flag, *value;
    const char *expect1, *expect2;
  } cases[] = {
      {"{\"duration_s\": -5}", NULL, NULL, "duration_s", "bad.json"},
      {"{\"duration_s\": \"long\"}", NULL, NULL, "duration_s", "number"},
      {"{\"name\": \"x\", \"timeline\": [{\"effect\": \"add_ai_nodes\", \"start_s\": 10, "
       "\"racks\": [\"R-Z-99\"]}]}",
       NULL, NULL, "R-Z-99", "bad.json"},
      {"{\"timeline\": [{\"name\": \"n\", \"start_s\": 10}]}", NULL, NULL, "effect", "bad.json"},
      {"{\"workload\": {\"rate_scale\": 1.0", NULL, NULL, "bad.json", ""},
      {"{\"workload\": {\"trace_csv\": \"/nonexistent/trace.csv\"}}", NULL, NULL, "trace_csv",
       "nonexistent"},
      {"{\"wrkload\": {}}", NULL, NULL, "wrkload", "unknown"},
      {NULL, "--set", "workload.rate_scale=nan", "workload.rate_scale", ""},
      {NULL, "--set", "room.racks_per_row=2.5", "room.racks_per_row", ""},
      {NULL, "--duration", "-3h", "--duration", ""},
      {NULL, "--speed", "fast", "--speed", ""},
      {NULL, "--seed", "-1", "--seed", ""},
      {NULL, "--bogus", NULL, "--bogus", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *path = scen("baseline.json");
    if (cases[i].file_text) {
      path = tu_tmp("bad.json");
      tu_write_file(path, cases[i].file_text);
    }
    char *argv[10];
    int n = 0;
    argv[n++] = (char *)bin;
    argv[n++] = "run";
    argv[n++] = (char *)path;
    argv[n++] = "--no-record";
    argv[n++] = "--duration";
    argv[n++] = "60";
    if (cases[i].flag)
      argv[n++] = (char *)cases[i].flag;
    if (cases[i].value)
      argv[n++] = (char *)cases[i].value;
    argv[n] = NULL;
    tu_result r;
    tu_run(&r, argv);
    ck_assert_msg(r.status == 2, "case %zu: exit %d, stderr: %s", i, r.status, r.err);
    ck_assert_msg(strstr(r.err, cases[i].expect1) != NULL, "case %zu: '%s' not in: %s", i,
                  cases[i].expect1, r.err);
    ck_assert_msg(strstr(r.err, cases[i].expect2) != NULL, "case %zu: '%s' not in: %s", i,
                  cases[i].expect2, r.err);
  }
  /* unreadable trace: the file exists but is not a trace */
  tu_write_file(tu_tmp("trace.csv"), "TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2\n");
  char json[1024];
  snprintf(json, sizeof json, "{\"workload\": {\"trace_csv\": \"%s\"}}", tu_tmp("trace.csv"));
  tu_write_file(tu_tmp("bad.json"), json);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "run", tu_tmp("bad.json"), "--no-record", NULL});
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "trace.csv:2"));
}
END_TEST

/* --json prints the summary with the figures; a recording is written. */
START_TEST(json_summary_and_recording) {
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "run", scen("heat_spike_row_c.json"), "--duration", "65m",
                             "--json", "--out", tu_tmp("hs.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *o = cJSON_Parse(r.out);
  ck_assert_ptr_nonnull(o);
  const char *keys[] = {"sim_time_s", "wall_time_s", "speedup", "j_per_prompt_wh", "pue",
                        "latency_p95_ms", "inlet_compliance_pct", "prompts_served"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    ck_assert_msg(cJSON_IsNumber(cJSON_GetObjectItem(o, keys[i])), "missing %s", keys[i]);
  ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "sim_time_s")->valuedouble, 3900, 1e-6);
  cJSON *e = cJSON_GetObjectItem(o, "energy_kwh");
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(e, "chiller")));
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "rows"), "C"), "max_inlet_c")));
  cJSON_Delete(o);
  struct stat st;
  ck_assert_int_eq(stat(tu_tmp("hs.h5"), &st), 0);
  /* the table form names the same figures */
  tu_run(&r, (char *const[]){(char *)bin, "run", scen("baseline.json"), "--duration", "5m",
                             "--no-record", NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "Wh/prompt"));
  ck_assert_ptr_nonnull(strstr(r.out, "PUE"));
  ck_assert_ptr_nonnull(strstr(r.out, "TTFT p95"));
  ck_assert_ptr_nonnull(strstr(r.out, "chiller"));
  ck_assert_ptr_nonnull(strstr(r.out, "max inlet per row"));
  /* no progress bar on a pipe/file */
  ck_assert_ptr_null(strstr(r.err, "["));
}
END_TEST

/* `skadi run ... --json ARGS` (baseline, no recording) parsed; the caller deletes it. */
static cJSON *run_json(char *const args[], int n) {
  char *argv[32] = {(char *)bin, "run", scen("baseline.json"), "--no-record", "--json"};
  ck_assert_int_lt(n + 6, 32);
  for (int i = 0; i < n; i++)
    argv[5 + i] = args[i];
  argv[5 + n] = NULL;
  tu_result r;
  tu_run(&r, argv);
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *o = cJSON_Parse(r.out);
  ck_assert_ptr_nonnull(o);
  return o;
}

/* The same run as a table (args without --json). */
static void run_table(tu_result *r, char *const args[], int n) {
  char *argv[32] = {(char *)bin, "run", scen("baseline.json"), "--no-record"};
  ck_assert_int_lt(n + 5, 32);
  for (int i = 0; i < n; i++)
    argv[4 + i] = args[i];
  argv[4 + n] = NULL;
  tu_run(r, argv);
  ck_assert_msg(r->status == 0, "%s", r->err);
}

static double jnum(const cJSON *o, const char *key) {
  const cJSON *j = cJSON_GetObjectItem(o, key);
  ck_assert_msg(cJSON_IsNumber(j), "%s is not a number", key);
  return j->valuedouble;
}

/* The figures of the summary cannot flatter (docs/REPORT.md, issue "Honest physics and
 * honest figures"), in the table and in the JSON:
 *  - an inlet limit just under the run's warmest inlet sample: a handful of the 43,200
 *    samples breach, 99.99x %, which the table must not round up to 100.00; it shows the
 *    percentage rounded down and the count beside it;
 *  - a room that needs 10 s per prefill and long prompts: requests still waiting at the
 *    end (counted, and in TTFT at their wait so far), a TTFT p95 at the sketch's ceiling
 *    (">= 1000000.0" and latency_p95_censored), prompts and prefills beyond the timing
 *    data counted. */
START_TEST(summary_figures_cannot_flatter) {
  char *fine[] = {"--duration", "10m", "--set", "sample_period_s=1", "--set", NULL};
  cJSON *o = run_json(fine, 4);
  double warmest = jnum(o, "max_inlet_c");
  ck_assert_double_eq(jnum(o, "inlet_breach_samples"), 0);
  cJSON_Delete(o);
  char limit[64];
  snprintf(limit, sizeof limit, "INLET_MAX_C=%.12f", warmest - 1e-9);
  fine[5] = limit;
  o = run_json(fine, 6);
  double n = jnum(o, "inlet_samples"), b = jnum(o, "inlet_breach_samples");
  ck_assert_double_eq(n, 72 * 600);
  ck_assert(b >= 1 && b <= 4); /* 99.99 %, once shown as 100.00 */
  ck_assert_double_eq_tol(jnum(o, "inlet_compliance_pct"), 100.0 * (n - b) / n, 1e-12);
  ck_assert_double_lt(jnum(o, "inlet_compliance_pct"), 100);
  cJSON_Delete(o);
  tu_result r;
  run_table(&r, fine, 6);
  char want[128];
  snprintf(want, sizeof want, "99.99 %%  (inlet <= %.1f C; %.0f of %.0f samples above)",
           warmest - 1e-9, b, n);
  ASSERT_HAS(r.out, want);
  const char *line = strstr(r.out, "inlet compliance");
  ck_assert_ptr_nonnull(line);
  ck_assert_int_ne(strncmp(line + strcspn(line, "0123456789"), "100.00", 6), 0);

  char *slow[] = {"--duration", "20m", "--set", "perf.prefill_floor_ms=10000", "--set",
                  "perf.step_a_ms=10000", "--set", "workload.prompt_tokens_mean=4000", "--set",
                  "workload.prompt_tokens_sd=3000", "--set", "workload.max_tokens=16384",
                  "--set", "server.max_prefill_tokens=65536"};
  int ns = (int)(sizeof slow / sizeof slow[0]);
  o = run_json(slow, ns);
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "latency_p95_censored")));
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "latency_p99_censored")));
  ck_assert_double_eq(jnum(o, "latency_p95_ms"), 1e6);
  double queued = jnum(o, "prompts_queued_at_end"), extra = jnum(o, "prompts_extrapolated");
  double prefills = jnum(o, "prefills_extrapolated");
  ck_assert(queued > 1000 && extra > 0 && prefills > 0);
  cJSON_Delete(o);
  run_table(&r, slow, ns);
  ASSERT_HAS(r.out, ">= 1000000.0 ms");
  snprintf(want, sizeof want, "%-28s %12.0f  (no first token", "prompts still queued at end",
           queued);
  ASSERT_HAS(r.out, want);
  snprintf(want, sizeof want, "%-28s %12.0f  (> 8192 tokens", "prompts beyond timing data", extra);
  ASSERT_HAS(r.out, want);
  snprintf(want, sizeof want, "%-28s %12.0f  (> 32768 tokens", "prefills beyond timing data",
           prefills);
  ASSERT_HAS(r.out, want);

  /* a room that keeps up: no bound in the table, nothing beyond the timing data */
  char *plain[] = {"--duration", "5m"};
  run_table(&r, plain, 2);
  ck_assert_ptr_null(strstr(r.out, ">="));
  snprintf(want, sizeof want, "%-28s %12d  (> 8192 tokens", "prompts beyond timing data", 0);
  ASSERT_HAS(r.out, want);
  ck_assert_ptr_null(strstr(r.out, "prefills beyond timing data"));
}
END_TEST

/* Same scenario and seed: identical datasets (h5diff); another seed: different. */
START_TEST(recordings_deterministic) {
  tu_result r;
  char *const a[] = {(char *)bin,    "run",           scen("heat_spike_row_c.json"),
                     "--duration",   "75m",           "--out",
                     tu_tmp("a.h5"), "--no-progress", NULL};
  char *const b[] = {(char *)bin,    "run",           scen("heat_spike_row_c.json"),
                     "--duration",   "75m",           "--out",
                     tu_tmp("b.h5"), "--no-progress", NULL};
  char *const c[] = {(char *)bin,
                     "run",
                     scen("heat_spike_row_c.json"),
                     "--duration",
                     "75m",
                     "--seed",
                     "8",
                     "--out",
                     tu_tmp("c.h5"),
                     "--no-progress",
                     NULL};
  tu_run(&r, a);
  ck_assert_msg(r.status == 0, "%s", r.err);
  tu_run(&r, b);
  ck_assert_int_eq(r.status, 0);
  tu_run(&r, c);
  ck_assert_int_eq(r.status, 0);
  const char *groups[] = {"/telemetry", "/events", "/racks", "/summary"};
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
    tu_run(&r, (char *const[]){"h5diff", tu_tmp("a.h5"), tu_tmp("b.h5"), (char *)groups[i],
                               (char *)groups[i], NULL});
    ck_assert_msg(r.status == 0, "%s differs: %s%s", groups[i], r.out, r.err);
  }
  tu_run(&r, (char *const[]){"h5diff", "-q", tu_tmp("a.h5"), tu_tmp("c.h5"), "/telemetry/racks",
                             "/telemetry/racks", NULL});
  ck_assert_int_eq(r.status, 1);
}
END_TEST

static const char *PY_READ =
    "import sys, h5py, pandas as pd\n"
    "# a killed run's file is still marked open for writing: read it as a SWMR reader\n"
    "f = h5py.File(sys.argv[1], 'r', swmr=len(sys.argv) > 2)\n"
    "racks = pd.DataFrame(f['telemetry/racks'][:])\n"
    "room = pd.DataFrame(f['telemetry/room'][:])\n"
    "need = ['ts','rack_id','inlet_c','outlet_c','pdu_kw','gpu_energy_j','tokens_ps',\n"
    "        'latency_p95_ms','fan_rpm_pct','pump_rpm_pct','queue_depth']\n"
    "missing = [c for c in need if c not in racks.columns]\n"
    "assert not missing, missing\n"
    "ids = set(racks['rack_id'].str.decode('ascii'))\n"
    "assert 'R-C-07' in ids and len(ids) == 72, len(ids)\n"
    "assert len(racks) == 72 * len(room), (len(racks), len(room))\n"
    "print(len(room))\n";

static int py_rows_mode(const char *h5, int swmr) {
  tu_write_file(tu_tmp("read.py"), PY_READ);
  tu_result r;
  tu_run(&r, (char *const[]){"/usr/bin/python3", tu_tmp("read.py"), (char *)h5,
                             swmr ? "swmr" : NULL, NULL});
  ck_assert_msg(r.status == 0, "python: %s", r.err);
  return atoi(r.out);
}

static int py_rows(const char *h5) {
  return py_rows_mode(h5, 0);
}

START_TEST(h5py_and_pandas_read_it) {
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "run", scen("baseline.json"), "--duration", "10m",
                             "--out", tu_tmp("b.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(py_rows(tu_tmp("b.h5")), 60);
}
END_TEST

static const char *PY_CONTROL =
    "import sys, json, h5py, pandas as pd\n"
    "f = h5py.File(sys.argv[1], 'r')\n"
    "acts = pd.DataFrame(f['actions'][:])\n"
    "mon = pd.DataFrame(f['monitor/racks'][:])\n"
    "assert f['config'].attrs['run.mode'] == 'closed_loop'\n"
    "dec = set(acts['decision'].str.decode('ascii'))\n"
    "assert {'applied', 'rejected', 'realized'} <= dec, dec\n"
    "assert len(mon) > 0 and set(mon['state'].unique()) <= {0, 1}\n"
    "lines = [json.loads(l) for l in open(sys.argv[2])]\n"
    "assert len(lines) == len(acts), (len(lines), len(acts))\n"
    "assert all(l['decision'] in ('applied','advised','rejected','realized','rolled_back',\n"
    "                             'trained','failed') for l in lines)\n"
    "proposed = sum(l['decision'] in ('applied','advised','rejected') for l in lines)\n"
    "assert proposed == int(sys.argv[3]), (proposed, sys.argv[3])\n"
    "print(len(acts))\n";

/* --mode closed_loop: the summary carries the counterfactual and the saving against it;
 * the recording holds /actions and /monitor/racks, and the JSON Lines audit matches. */
START_TEST(closed_loop_run) {
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "run", scen("baseline.json"), "--duration", "30m",
                             "--set", "control.ims_warmup_s=600", "--mode", "closed_loop",
                             "--json", "--out", tu_tmp("cl.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  cJSON *o = cJSON_Parse(r.out);
  ck_assert_ptr_nonnull(o);
  ck_assert_str_eq(cJSON_GetObjectItem(o, "mode")->valuestring, "closed_loop");
  cJSON *cf = cJSON_GetObjectItem(o, "counterfactual");
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(cf, "j_per_prompt_wh")));
  double saved = cJSON_GetObjectItem(o, "energy_saved_pct")->valuedouble;
  double opt = cJSON_GetObjectItem(o, "j_per_prompt_wh")->valuedouble;
  double base = cJSON_GetObjectItem(cf, "j_per_prompt_wh")->valuedouble;
  ck_assert_double_eq_tol(saved, 100.0 * (base - opt) / base, 1e-9);
  cJSON *acts = cJSON_GetObjectItem(o, "actions");
  ck_assert_double_gt(jnum(acts, "applied"), 0);
  /* the counts add up as docs/REPORT.md says */
  ck_assert_double_eq(jnum(acts, "proposed"),
                      jnum(acts, "applied") + jnum(acts, "advised") + jnum(acts, "rejected"));
  double proposed = jnum(acts, "proposed");
  cJSON_Delete(o);
  tu_write_file(tu_tmp("ctl.py"), PY_CONTROL);
  char proposed_text[32];
  snprintf(proposed_text, sizeof proposed_text, "%.0f", proposed);
  tu_run(&r, (char *const[]){"/usr/bin/python3", tu_tmp("ctl.py"), tu_tmp("cl.h5"),
                             tu_tmp("cl.h5.actions.jsonl"), proposed_text, NULL});
  ck_assert_msg(r.status == 0, "python: %s", r.err);
  ck_assert_int_gt(atoi(r.out), 0);
  /* scripts/window_savings.py against the plain run (the counterfactual): nothing saved
   * during the warm-up, something on average after the first decision (a window where the
   * coil guardrail pulls the chilled water back down pays for cold the loop stored, and may
   * read below zero) */
  tu_run(&r, (char *const[]){(char *)bin, "run", scen("baseline.json"), "--duration", "30m",
                             "--set", "control.ims_warmup_s=600", "--out", tu_tmp("off.h5"),
                             NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  char ws[512];
  snprintf(ws, sizeof ws, "%s/scripts/window_savings.py", src);
  tu_run(&r, (char *const[]){"/usr/bin/python3", ws, tu_tmp("cl.h5"), tu_tmp("off.h5"),
                             "--to", "600", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  /* a header naming the columns and their units, then a line per window */
  const char *head = "  start_s     end_s  saving %\n        0       120    0.00 %\n";
  ck_assert_msg(strncmp(r.out, head, strlen(head)) == 0, "%s", r.out);
  ck_assert_ptr_nonnull(strstr(r.out, "windows 5: first two 0.00, 0.00 %, min 0.00 %"));
  tu_run(&r, (char *const[]){"/usr/bin/python3", ws, tu_tmp("cl.h5"), tu_tmp("off.h5"),
                             "--from", "720", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  const char *mean = strstr(r.out, "mean ");
  ck_assert_ptr_nonnull(mean);
  ck_assert_double_gt(atof(mean + 5), 0);
  tu_run(&r, (char *const[]){"/usr/bin/python3", ws, tu_tmp("cl.h5"), tu_tmp("nope.h5"),
                             NULL});
  ck_assert_int_eq(r.status, 2);
  ck_assert_ptr_nonnull(strstr(r.err, "nope.h5"));
  /* a bad mode is bad input */
  tu_run(&r, (char *const[]){(char *)bin, "run", scen("baseline.json"), "--mode", "auto", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--mode");
}
END_TEST

static pid_t start_paced(const char *out) {
  return tu_spawn((char *const[]){(char *)bin, "run", scen("baseline.json"), "--speed", "300x",
                                  "--duration", "2h", "--out", (char *)out, NULL});
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

/* SIGKILL mid-run: the run's file, still under its .part name (it never became k.h5),
 * is readable up to the last flush (about a second ago). */
START_TEST(sigkill_leaves_readable_file) {
  pid_t pid = start_paced(tu_tmp("k.h5"));
  sleep_s(4.0);
  kill(pid, SIGKILL);
  ck_assert_int_eq(tu_wait(pid), 128 + SIGKILL);
  ck_assert_int_ne(access(tu_tmp("k.h5"), F_OK), 0);
  int rows = py_rows_mode(tu_tmp("k.h5.part"), 1);
  /* 300x for ~4 s = ~1200 s simulated = ~120 samples; at least 2 s of it flushed */
  ck_assert_int_ge(rows, 30);
  ck_assert_int_lt(rows, 720);
}
END_TEST

/* SIGTERM: clean close, exit 143, summary says interrupted. */
START_TEST(sigterm_closes_cleanly) {
  pid_t pid = start_paced(tu_tmp("t.h5"));
  sleep_s(2.5);
  kill(pid, SIGTERM);
  tu_result r;
  r.status = tu_wait(pid);
  tu_collect(&r);
  ck_assert_int_eq(r.status, 143);
  ck_assert_ptr_nonnull(strstr(r.out, "interrupted"));
  ck_assert_int_ge(py_rows(tu_tmp("t.h5")), 30);
  tu_run(&r, (char *const[]){"h5dump", "-a", "/run_info/status", tu_tmp("t.h5"), NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "interrupted"));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cli");
  TCase *tc = tcase_create("e2e");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, help_texts);
  tcase_add_test(tc, help_command);
  tcase_add_test(tc, bad_inputs_exit_2);
  tcase_add_test(tc, json_summary_and_recording);
  tcase_add_test(tc, summary_figures_cannot_flatter);
  tcase_add_test(tc, recordings_deterministic);
  tcase_add_test(tc, h5py_and_pandas_read_it);
  tcase_add_test(tc, sigkill_leaves_readable_file);
  tcase_add_test(tc, sigterm_closes_cleanly);
  tcase_add_test(tc, closed_loop_run);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
