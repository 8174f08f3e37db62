/*
 * test_sweep_cli.c -- end to end: the real `skadi sweep` on tiny sweeps of the baseline
 * room (120 s runs): -j 1 and -j 2 write tables h5diff finds equal (leaving out /timing,
 * the only wall-clock part); bad sweep files and flags exit 2 naming the field; a sweep
 * stopped by SIGINT exits 130 with the finished rows in a valid file, and --resume
 * completes it to the same table as an uninterrupted run, also after a SIGKILL (the rows
 * finished before it are in the journal, only the rest is run again); `skadi sweep report` prints
 * the table and the front and draws an SVG.  Figures are not checked (the physics
 * changes): structure and consistency are.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "skadi/sweep.h"

#include "testutil.h"

static const char *bin, *src;

static void setup(void) {
  tu_skadi_env(&bin, &src);
  tu_scratch_setup("skadi-sweep-e2e-");
}

static void teardown(void) {
  tu_scratch_teardown();
}

/* A sweep of the baseline room: 2 fan speeds x 2 supply setpoints + the default = 5
 * points x seeds, 120 s each. */
static int sweep_duration_s = 120; /* each run's simulated time */

static const char *write_sweep(const char *name, int seeds, int values) {
  char json[2048], vals[256] = "";
  size_t n = 0;
  for (int i = 0; i < values; i++)
    n += (size_t)snprintf(vals + n, sizeof vals - n, "%s%d", i ? ", " : "", 40 + 5 * i);
  snprintf(json, sizeof json,
           "{\"name\": \"tiny\", \"scenario\": \"%s/scenarios/baseline.json\", \"duration\": %d,"
           " \"seeds\": %d, \"mode\": \"off\", \"parameters\": ["
           "{\"key\": \"room.crah_fan_speed_pct\", \"values\": [%s]},"
           "{\"key\": \"room.supply_setpoint_c\", \"min\": 17, \"max\": 19, \"steps\": 2}],"
           " \"constraints\": [{\"metric\": \"ttft_p95_ms\", \"max\": \"sla\"},"
           " {\"metric\": \"inlet_samples_over_limit\", \"max\": 0}]}",
           src, sweep_duration_s, seeds, vals);
  const char *path = tu_tmp(name);
  tu_write_file(path, json);
  return path;
}

static int h5_same(const char *a, const char *b) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "h5diff --exclude-path /timing '%s' '%s' > '%s' 2>&1", a, b,
           tu_tmp("h5diff.txt"));
  return system(cmd) == 0;
}

START_TEST(workers_give_identical_tables) {
  const char *sw = write_sweep("s.json", 2, 2);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, "--out", tu_tmp("j1.h5"), "-j", "1",
                             "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.err, "10 of 10 runs (0 failed), completed");
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, "--out", tu_tmp("j2.h5"), "-j", "2",
                             "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(h5_same(tu_tmp("j1.h5"), tu_tmp("j2.h5")), "tables differ");
  /* and the rows read back whole, one per (point, seed), sorted */
  sk_sweep_table *t;
  char err[1024];
  ck_assert_msg(sk_sweep_file_read(tu_tmp("j2.h5"), &t, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_uint_eq(t->n_rows, 10);
  ck_assert_int_eq(t->workers, 2);
  for (size_t i = 0; i < t->n_rows; i++) {
    ck_assert_int_eq(t->rows[i].point, (int)(i / 2));
    ck_assert_int_eq(t->rows[i].seed_index, (int)(i % 2));
    ck_assert_int_eq(t->rows[i].status, SK_SWEEP_RUN_OK);
    ck_assert(t->rows[i].m[SK_SWEEP_M_WH_PER_PROMPT] > 0);
    ck_assert(t->rows[i].wall_s > 0);
  }
  sk_sweep_table_destroy(t);
  /* an existing --out is refused */
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, "--out", tu_tmp("j2.h5"),
                             "--no-progress", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "exists; pass --force");
}
END_TEST

static const struct {
  const char *json, *needle;
} bad_files[] = {
    {"{\"scenario\": \"@/scenarios/baseline.json\", \"parameters\": [{\"key\": \"room.fan\", "
     "\"values\": [1]}]}",
     "parameters[0].key: 'room.fan' is not a scenario key"},
    {"{\"scenario\": \"@/scenarios/nope.json\"}", "nope.json"},
    /* the heat spike's AI nodes start at 1 h: a 120 s run of it is a bad base */
    {"{\"scenario\": \"@/scenarios/heat_spike_row_c.json\", \"duration\": 120}",
     "timeline[0].start_s"},
};

START_TEST(bad_sweep_files_exit_2) {
  char json[1024];
  const char *at = strchr(bad_files[_i].json, '@'); /* @ is the source directory */
  snprintf(json, sizeof json, "%.*s%s%s", (int)(at - bad_files[_i].json), bad_files[_i].json, src,
           at + 1);
  tu_write_file(tu_tmp("bad.json"), json);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "sweep", tu_tmp("bad.json"), "--out", tu_tmp("o.h5"),
                             "--no-progress", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, bad_files[_i].needle);
  ck_assert(access(tu_tmp("o.h5"), F_OK) != 0);
}
END_TEST

START_TEST(bad_flags_exit_2) {
  const char *sw = write_sweep("s.json", 1, 1);
  static const struct {
    const char *a, *b, *needle;
  } cases[] = {{"-j", "0", "-j: '0' is not a whole number"},
               {"--frobnicate", NULL, "unknown option '--frobnicate'"},
               {"--resume", NULL, "no such file to resume"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tu_result r;
    tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, "--out", tu_tmp("o.h5"),
                               (char *)cases[i].a, (char *)cases[i].b, NULL});
    ck_assert_int_eq(r.status, 2);
    ASSERT_HAS(r.err, cases[i].needle);
  }
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--out: missing");
  tu_run(&r, (char *const[]){(char *)bin, "sweep", "--help", NULL});
  ck_assert_int_eq(r.status, 0);
  ASSERT_HAS(r.out, "usage: skadi sweep");
  tu_run(&r, (char *const[]){(char *)bin, "help", "sweep", "report", NULL});
  ck_assert_int_eq(r.status, 0);
  ASSERT_HAS(r.out, "usage: skadi sweep report");
  /* `skadi help CMD X` with X not a subcommand: exit 2 and no usage, for every command
   * (`skadi sweep X --help` is the help of a sweep file X, so help must check X itself) */
  static const char *const cmds[] = {"run",     "ims",   "mix",     "report", "keys",
                                     "monitor", "serve", "gateway", "replay", "sweep"};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    tu_run(&r, (char *const[]){(char *)bin, "help", (char *)cmds[i], "frobnicate", NULL});
    ck_assert_msg(r.status == 2, "help %s frobnicate: exit %d", cmds[i], r.status);
    ck_assert_str_eq(r.out, "");
    ASSERT_HAS(r.err, "frobnicate");
  }
  tu_run(&r, (char *const[]){(char *)bin, "help", "sweep", "frobnicate", NULL});
  ASSERT_HAS(r.err, "'frobnicate' is not a subcommand of sweep; its subcommands: report");
}
END_TEST

/* Rows done so far, from the progress line in the stderr file ("[###...] 3/24 runs"). */
static int runs_done(void) {
  char buf[8192];
  tu_slurp(tu_tmp("stderr"), buf, sizeof buf);
  char *last = NULL;
  for (char *p = strstr(buf, "] "); p; p = strstr(p + 1, "] "))
    last = p;
  return last ? atoi(last + 2) : 0;
}

/* Starts `skadi sweep sw --out out -j 1 --progress [--resume]`, waits until the progress
 * line shows at least `rows` runs done, sends sig; the exit status. */
static int sweep_until(const char *sw, const char *out, int resume, int rows, int sig) {
  pid_t pid = tu_spawn((char *const[]){(char *)bin, "sweep", (char *)sw, "--out", (char *)out, "-j",
                                       "1", "--progress", resume ? "--resume" : NULL, NULL});
  struct timespec ts = {0, 20 * 1000 * 1000};
  for (int k = 0; k < 1500 && runs_done() < rows; k++)
    nanosleep(&ts, NULL);
  kill(pid, sig);
  return tu_wait(pid);
}

/* The rows --resume took from the journal ("(N from X.journal)"), -1 if it did not say. */
static int from_journal(const char *err) {
  const char *p = strstr(err, "runs done (");
  return p ? atoi(p + strlen("runs done (")) : -1;
}

START_TEST(interrupted_keeps_rows_and_resumes) {
  /* runs long enough (~0.3 s each) that the interrupt lands between the 2nd and the 10th
   * on a quiet machine too: at 120 s of sim time all ten could end before it */
  sweep_duration_s = 1200;
  char sw[512]; /* a copy: tu_tmp's buffers rotate, and the polls below use many */
  snprintf(sw, sizeof sw, "%s", write_sweep("s.json", 2, 2)); /* 5 points x 2 seeds: 10 runs */
  sweep_duration_s = 120;
  int st = sweep_until(sw, tu_tmp("i.h5"), 0, 2, SIGINT);
  tu_result r;
  tu_collect(&r);
  ck_assert_msg(st == 130, "exit %d: %s", st, r.err);
  ASSERT_HAS(r.err, "interrupted; --resume runs the rest");
  sk_sweep_table *t;
  char err[1024];
  ck_assert_msg(sk_sweep_file_read(tu_tmp("i.h5"), &t, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_str_eq(t->status, "interrupted");
  ck_assert_uint_ge(t->n_rows, 2);
  ck_assert_uint_lt(t->n_rows, 10);
  size_t kept = t->n_rows;
  sk_sweep_table_destroy(t);
  ck_assert_msg(access(tu_tmp("i.h5.journal"), F_OK) != 0, "journal left beside a written file");
  /* a resume killed with SIGKILL: the file stays as it was, the rows finished since are in
   * the journal, and the next --resume takes both */
  st = sweep_until(sw, tu_tmp("i.h5"), 1, (int)kept + 1, SIGKILL);
  ck_assert_int_eq(st, 128 + SIGKILL);
  ck_assert_int_eq(access(tu_tmp("i.h5.journal"), F_OK), 0);
  ck_assert(sk_sweep_file_read(tu_tmp("i.h5"), &t, err, sizeof err) == SK_OK);
  ck_assert_uint_eq(t->n_rows, kept);
  sk_sweep_table_destroy(t);
  /* resume: the rest, to the same table as one uninterrupted run */
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, "--out", tu_tmp("i.h5"), "-j", "2",
                             "--resume", "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.err, "10 of 10 runs");
  ck_assert_msg(from_journal(r.err) >= 1, "%s", r.err);
  ck_assert_msg(access(tu_tmp("i.h5.journal"), F_OK) != 0, "journal left after completion");
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, "--out", tu_tmp("full.h5"),
                             "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_msg(h5_same(tu_tmp("i.h5"), tu_tmp("full.h5")), "resumed table differs (kept %zu)",
                kept);
  /* a fresh sweep killed with SIGKILL: no file, the finished rows in the journal; a new
   * sweep to the same --out is refused, --resume redoes only the runs the journal lacks */
  st = sweep_until(sw, tu_tmp("k.h5"), 0, 2, SIGKILL);
  ck_assert_int_eq(st, 128 + SIGKILL);
  ck_assert_int_ne(access(tu_tmp("k.h5"), F_OK), 0);
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, "--out", tu_tmp("k.h5"),
                             "--no-progress", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--resume continues it, --force starts over");
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, "--out", tu_tmp("k.h5"), "-j", "2",
                             "--resume", "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  int journaled = from_journal(r.err);
  ck_assert_msg(journaled >= 2 && journaled < 10, "%s", r.err);
  char want[64];
  snprintf(want, sizeof want, "%d to run", 10 - journaled);
  ASSERT_HAS(r.err, want);
  ck_assert_msg(h5_same(tu_tmp("k.h5"), tu_tmp("full.h5")), "table after SIGKILL differs");
  /* resuming from another sweep file is refused */
  const char *other = write_sweep("other.json", 1, 2);
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)other, "--out", tu_tmp("i.h5"),
                             "--resume", "--no-progress", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "different sweep");
}
END_TEST

START_TEST(report_prints_and_plots) {
  const char *sw = write_sweep("s.json", 1, 2);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "sweep", (char *)sw, "--out", tu_tmp("r.h5"),
                             "--record-runs", tu_tmp("recs"), "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  /* --record-runs: a recording per run, named by point and seed index */
  ck_assert_int_eq(access(tu_tmp("recs/tiny-p0-s0.h5"), R_OK), 0);
  ck_assert_int_eq(access(tu_tmp("recs/tiny-p4-s0.h5"), R_OK), 0);
  tu_run(&r, (char *const[]){(char *)bin, "sweep", "report", tu_tmp("r.h5"), "--plot",
                             tu_tmp("f.svg"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "sweep tiny");
  ASSERT_HAS(r.out, "crah_fan_speed_pct");
  ASSERT_HAS(r.out, "Pareto front, Wh/prompt vs TTFT p95");
  ASSERT_HAS(r.out, "Pareto front, Wh/prompt vs max inlet");
  ASSERT_HAS(r.out, "ttft_p95_ms <= sla_latency_ms");
  char *svg = tu_read_file(tu_tmp("f.svg"));
  ck_assert_ptr_nonnull(svg);
  ASSERT_HAS(svg, "<svg");
  ASSERT_HAS(svg, "</svg>");
  ASSERT_HAS(svg, "energy per prompt (Wh/prompt)");
  ASSERT_HAS(svg, "TTFT p95 (ms)");
  ASSERT_HAS(svg, ">default</text>");
  ASSERT_HAS(svg, "#d62728"); /* the front */
  free(svg);
  /* skadi report --against: a plain run of the same room against the sweep's best */
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  tu_run(&r, (char *const[]){(char *)bin, "run", scen, "--duration", "120", "--out",
                             tu_tmp("run.h5"), "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  tu_run(&r, (char *const[]){(char *)bin, "report", tu_tmp("run.h5"), "--against", tu_tmp("r.h5"),
                             "--compact", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "\"against_best_fixed\"");
  ASSERT_HAS(r.out, "\"same_scenario\":true");
  ASSERT_HAS(r.out, "\"same_duration\":true");
  ASSERT_HAS(r.out, "\"saved_vs_best_fixed_pct\"");
  ASSERT_HAS(r.err, "against the best fixed policy");
  tu_run(&r, (char *const[]){(char *)bin, "report", tu_tmp("run.h5"), "--against", tu_tmp("run.h5"),
                             NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--against:");
  ASSERT_HAS(r.err, "not a sweep file");
  /* not a sweep file */
  tu_write_file(tu_tmp("x.h5"), "not hdf5");
  tu_run(&r, (char *const[]){(char *)bin, "sweep", "report", tu_tmp("x.h5"), NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "x.h5");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("sweep_cli");
  TCase *tc = tcase_create("cli");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, workers_give_identical_tables);
  tcase_add_loop_test(tc, bad_sweep_files_exit_2, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
  tcase_add_test(tc, bad_flags_exit_2);
  tcase_add_test(tc, interrupted_keeps_rows_and_resumes);
  tcase_add_test(tc, report_prints_and_plots);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
