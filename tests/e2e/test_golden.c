/*
 * test_golden.c -- recordings made before the run loop moved into the run session are
 * reproduced: both demo scenarios in all three modes, through the real `skadi` binary,
 * compared with h5diff (tests/data/golden/README.md).  /run_info (wall clock, host) and
 * tables added since (/commands) are left out of the comparison.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork in testutil.h */

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static const char *const scenarios[] = {"heat_spike_row_c", "overcooled_row_e"};
static const char *const modes[] = {"off", "advisory", "closed_loop"};

START_TEST(golden_recording_reproduced) {
  const char *skadi, *source;
  tu_skadi_env(&skadi, &source);
  const char *sc = scenarios[_i / 3], *mode = modes[_i % 3];
  char scen[512], golden[512], out[512];
  snprintf(scen, sizeof scen, "%s/scenarios/%s.json", source, sc);
  snprintf(golden, sizeof golden, "%s/tests/data/golden/%s-%s.h5", source, sc, mode);
  snprintf(out, sizeof out, "%s", tu_tmp("run.h5"));
  tu_result r;
  tu_run(&r, (char *const[]){(char *)skadi, "run", scen, "--duration", "3720", "--mode",
                             (char *)mode, "--out", out, "--audit", "/dev/null", "--no-progress",
                             NULL});
  ck_assert_msg(r.status == 0, "skadi run %s --mode %s: %s", sc, mode, r.err);
  tu_run(&r, (char *const[]){"h5diff", "--exclude-path", "/run_info", "--exclude-path",
                             "/commands", golden, out, NULL});
  ck_assert_msg(r.status == 0, "%s --mode %s differs from %s:\n%.2000s", sc, mode, golden, r.out);
}
END_TEST

static void setup(void) {
  tu_scratch_setup("skadi-golden-");
}

static Suite *suite(void) {
  Suite *s = suite_create("golden");
  TCase *tc = tcase_create("golden");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, golden_recording_reproduced, 0, 6);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
