/*
 * test_run_outputs.c -- end to end, through the real `skadi` binary: a command log
 * steers a run and the recording re-runs from its own /commands table to an identical
 * file; a bad log is refused naming its line and field; outputs never clobber (existing
 * --out refused without --force, default names step aside, a FIFO is never replaced); a
 * paced run says how long it will take.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static const char *bin, *src;
static char scen_path[512];

/* The heat-spike room for 20 minutes; its AI nodes are scripted for the last 100 s (a
 * command starts them earlier). */
static void setup(void) {
  tu_skadi_env(&bin, &src);
  tu_scratch_setup("skadi-outputs-");
  snprintf(scen_path, sizeof scen_path, "%s", tu_tmp("hs.json"));
  tu_write_file(scen_path,
                "{\"name\": \"hs_short\", \"duration_s\": 1200, \"start_hour\": 10,\n"
                " \"timeline\": [{\"name\": \"add_ai_nodes_row_c\", \"effect\": \"add_ai_nodes\",\n"
                "   \"start_s\": 1100, \"racks\": [\"R-C-06\", \"R-C-07\"], \"nodes_per_rack\": 1,\n"
                "   \"rate_prompts_s_per_node\": 3.0}]}\n");
}

/* Off until a command turns the loops on. */
static void run_with(tu_result *r, const char *out, const char *commands) {
  tu_run(r, (char *const[]){(char *)bin, "run", scen_path, "--set",
                            "control.ims_warmup_s=300", "--out", (char *)out, "--commands",
                            (char *)commands, "--no-progress", "--json", NULL});
}

START_TEST(command_log_steers_and_replays) {
  tu_write_file(tu_tmp("log.jsonl"),
                "{\"ts\": 30, \"kind\": \"mode\", \"value\": \"closed_loop\"}\n"
                "\n"
                "{\"ts\": 400, \"kind\": \"set\", \"key\": \"INLET_MAX_C\", \"value\": \"27\"}\n"
                "{\"ts\": 600, \"kind\": \"effect_start\", \"key\": \"add_ai_nodes_row_c\","
                " \"value\": \"5m\"}\n"
                "{\"ts\": 905, \"kind\": \"kill_switch\", \"value\": \"true\"}\n");
  tu_result r;
  run_with(&r, tu_tmp("a.h5"), tu_tmp("log.jsonl"));
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "\"mode\":\t\"closed_loop\"");
  /* the kill switch at 905 s lands on the next boundary, 910 s */
  tu_run(&r, (char *const[]){"h5dump", "-d", "/commands", tu_tmp("a.h5"), NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_msg(strstr(r.out, "         910,\n") != NULL, "no command at 910 s");
  ck_assert_msg(strstr(r.out, "\"effect_start\\000") != NULL, "no effect_start");
  /* re-run from the recording's own log */
  run_with(&r, tu_tmp("b.h5"), tu_tmp("a.h5"));
  ck_assert_msg(r.status == 0, "%s", r.err);
  tu_run(&r, (char *const[]){"h5diff", "--exclude-path", "/run_info", tu_tmp("a.h5"),
                             tu_tmp("b.h5"), NULL});
  ck_assert_msg(r.status == 0, "the replay differs:\n%.2000s", r.out);
}
END_TEST

START_TEST(bad_command_log_exit_2) {
  const char *cases[][2] = {
      {"{\"ts\": 30, \"kind\": \"mode\", \"value\": \"turbo\"}\n", ":1: mode: 'turbo'"},
      {"\n{\"ts\": 30, \"kind\": \"set\", \"key\": \"room.rows\", \"value\": \"2\"}\n",
       ":2: room.rows: not a live key"},
      {"{\"kind\": \"mode\", \"value\": \"off\"}\n", ":1: ts:"},
      {"{\"ts\": 30, \"kind\": \"warp\"}\n", ":1: unknown command kind 'warp'"},
      {"not json\n", ":1: not a JSON object"},
      {"{\"ts\": 30, \"seq\": 1e300, \"kind\": \"pause\", \"value\": \"true\"}\n",
       ":1: seq: expected a number"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tu_write_file(tu_tmp("bad.jsonl"), cases[i][0]);
    tu_result r;
    run_with(&r, tu_tmp("x.h5"), tu_tmp("bad.jsonl"));
    ck_assert_msg(r.status == 2, "case %zu: exit %d", i, r.status);
    ASSERT_HAS(r.err, cases[i][1]);
    ck_assert_int_ne(access(tu_tmp("x.h5"), F_OK), 0);
    ck_assert_int_ne(access(tu_tmp("x.h5.part"), F_OK), 0);
  }
}
END_TEST

/* A minute of the baseline room, run from cwd. */
static void short_run(tu_result *r, const char *cwd, const char *out, const char *extra) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && '%s' run '%s/scenarios/baseline.json' --duration 60 --no-progress %s%s %s",
           cwd, bin, src, out ? "--out " : "", out ? out : "", extra);
  tu_run(r, (char *const[]){"/bin/sh", "-c", cmd, NULL});
}

START_TEST(outputs_never_clobber) {
  tu_result r;
  /* default names step aside */
  short_run(&r, tu_dir, NULL, "");
  ck_assert_msg(r.status == 0, "%s", r.err);
  short_run(&r, tu_dir, NULL, "");
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(access(tu_tmp("runs/baseline-seed1-off.h5"), F_OK), 0);
  ck_assert_int_eq(access(tu_tmp("runs/baseline-seed1-off-2.h5"), F_OK), 0);
  /* an existing --out is refused, and left as it was */
  struct stat st0, st1;
  ck_assert_int_eq(stat(tu_tmp("runs/baseline-seed1-off.h5"), &st0), 0);
  short_run(&r, tu_dir, "runs/baseline-seed1-off.h5", "--seed 2");
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "exists; pass --force");
  ck_assert_int_eq(stat(tu_tmp("runs/baseline-seed1-off.h5"), &st1), 0);
  ck_assert(st0.st_size == st1.st_size && st0.st_mtime == st1.st_mtime);
  /* --force replaces it */
  short_run(&r, tu_dir, "runs/baseline-seed1-off.h5", "--seed 2 --force");
  ck_assert_msg(r.status == 0, "%s", r.err);
  /* never a file that is not ours: a FIFO, even with --force */
  ck_assert_int_eq(mkfifo(tu_tmp("fifo.h5"), 0600), 0);
  short_run(&r, tu_dir, "fifo.h5", "--force");
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "not a regular file");
  ck_assert_int_eq(lstat(tu_tmp("fifo.h5"), &st1), 0);
  ck_assert(S_ISFIFO(st1.st_mode));
}
END_TEST

START_TEST(paced_run_says_how_long) {
  tu_result r;
  short_run(&r, tu_dir, "p.h5", "--speed 600x");
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.err, "paced at 600x real time, 60 s of sim time take about 0 s");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("run_outputs");
  TCase *tc = tcase_create("e2e");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, command_log_steers_and_replays);
  tcase_add_test(tc, bad_command_log_exit_2);
  tcase_add_test(tc, outputs_never_clobber);
  tcase_add_test(tc, paced_run_says_how_long);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
