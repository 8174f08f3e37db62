/*
 * test_session.c -- the run session (session.h): commands posted from another thread are
 * applied at control boundaries, recorded, and replayed from the recording to a
 * bit-identical file; bad commands change nothing; two sessions run at once as they do
 * alone; an interrupted run never replaces a finished file.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork in testutil.h */

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "skadi/session.h"

#include "testutil.h"

/* The heat-spike room, short: duration_s with a 5-min warm-up; the AI nodes arrive by
 * the timeline only in the last 10 s (a command starts them earlier). */
static sk_scenario *short_heat_spike(double duration_s) {
  sk_scenario *sc = malloc(sizeof *sc);
  char path[512], err[SK_ERR_LEN];
  snprintf(path, sizeof path, "%s/scenarios/heat_spike_row_c.json", SKADI_SOURCE_DIR);
  sk_scenario_defaults(sc);
  ck_assert_msg(sk_scenario_load(sc, path, err, sizeof err) == SK_OK, "%s", err);
  sc->duration_s = duration_s;
  sc->control.ims_warmup_s = 300;
  sc->effects[0].start_s = duration_s - 10;
  sc->effects[0].stop_s = INFINITY;
  return sc;
}

static void config(sk_session_config *cfg, const sk_scenario *sc, const char *mode,
                   const char *out) {
  sk_session_config_init(cfg);
  cfg->scenario = sc;
  cfg->mode = mode;
  cfg->record_path = out;
  cfg->threads = 2;
  cfg->source = "test";
}

static int h5_same(const char *a, const char *b) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "h5diff -q --exclude-path /run_info '%s' '%s' >/dev/null 2>&1", a, b);
  return system(cmd) == 0;
}

/* ---- commands from a second thread --------------------------------------------------- */

typedef struct {
  sk_session *s;
  atomic_int chunks;   /* chunks the stepping thread has done */
  atomic_int posted;   /* commands the poster has posted */
  int failures;
  char err[SK_ERR_LEN];
} poster_ctx;

static void wait_chunks(poster_ctx *p, int n) {
  while (atomic_load(&p->chunks) < n) {
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
}

static void post(poster_ctx *p, sk_command_kind kind, const char *key, const char *value) {
  sk_command c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  snprintf(c.key, sizeof c.key, "%s", key);
  snprintf(c.value, sizeof c.value, "%s", value);
  if (sk_session_post(p->s, &c, p->err, sizeof p->err) != SK_OK)
    p->failures++;
  atomic_fetch_add(&p->posted, 1);
}

/* The poster posts its commands when the stepping thread reaches these chunks; the
 * stepping thread waits there until they are posted, so every run sees them at the same
 * boundaries however the two threads are scheduled. */
static const struct {
  int chunk, posted;
} marks[] = {{3, 1}, {40, 3}, {60, 4}, {80, 5}, {95, 8}};
#define N_MARKS (sizeof marks / sizeof marks[0])

static void *poster(void *arg) {
  poster_ctx *p = arg;
  wait_chunks(p, marks[0].chunk);
  post(p, SK_CMD_MODE, "", "advisory");           /* off -> advisory: warm-up from here */
  wait_chunks(p, marks[1].chunk);
  post(p, SK_CMD_MODE, "", "closed_loop");
  post(p, SK_CMD_SET, "INLET_MAX_C", "27");       /* a live key, by the seed's name */
  wait_chunks(p, marks[2].chunk);
  post(p, SK_CMD_EFFECT_START, "add_ai_nodes_row_c", "300"); /* for 5 minutes */
  wait_chunks(p, marks[3].chunk);
  post(p, SK_CMD_KILL_SWITCH, "", "true");
  wait_chunks(p, marks[4].chunk);
  post(p, SK_CMD_KILL_SWITCH, "", "false");
  post(p, SK_CMD_APPLY, "crah_fan_speed", "A -5");
  post(p, SK_CMD_RECOMMEND, "supply_temp", "B 0.5");
  return NULL;
}

/* Steps s a sample period at a time, counting chunks for the poster (if any). */
static void step_all(sk_session *s, poster_ctx *p) {
  sk_time_ns chunk = (sk_time_ns)llround(sk_session_scenario(s)->sample_period_s * 1e9);
  int done = 0;
  while (!sk_session_done(s)) {
    ck_assert_msg(sk_session_step_until(s, sk_session_now(s) + chunk) == SK_OK, "%s",
                  sk_session_error(s));
    done++;
    if (!p)
      continue;
    atomic_store(&p->chunks, done);
    for (size_t m = 0; m < N_MARKS; m++)
      while (marks[m].chunk == done && atomic_load(&p->posted) < marks[m].posted) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
      }
  }
}

START_TEST(steered_run_replays_bit_identical) {
  sk_scenario *sc = short_heat_spike(1200);
  char out1[600], out2[600], err[SK_ERR_LEN];
  snprintf(out1, sizeof out1, "%s", tu_tmp("steered.h5"));
  snprintf(out2, sizeof out2, "%s", tu_tmp("replayed.h5"));
  sk_session_config cfg;
  config(&cfg, sc, "off", out1);
  cfg.counterfactual = 1; /* savings measured from the start, though the run starts off */
  sk_session *s = NULL;
  ck_assert_msg(sk_session_create(&s, &cfg, err, sizeof err) == SK_OK, "%s", err);
  poster_ctx p = {s, 0, 0, 0, ""};

  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, poster, &p), 0);
  step_all(s, &p);
  pthread_join(th, NULL);
  ck_assert_msg(p.failures == 0, "%s", p.err);
  sk_session_summary sum;
  sk_session_summary_get(s, &sum);
  ck_assert_int_eq(sum.commands_applied, 8);
  ck_assert_int_eq(sum.mode, SK_RUN_CLOSED_LOOP);
  ck_assert(sum.have_control && sum.control.applied > 0);
  ck_assert_double_eq(sk_session_scenario(s)->settings.inlet_max_c, 27);
  ck_assert_int_eq(sk_session_finish(s, NULL, "completed"), SK_OK);
  sk_session_destroy(s);

  /* the same scenario and seed, with the first run's own /commands table */
  config(&cfg, sc, "off", out2);
  cfg.counterfactual = 1;
  cfg.commands_path = out1;
  ck_assert_msg(sk_session_create(&s, &cfg, err, sizeof err) == SK_OK, "%s", err);
  step_all(s, NULL);
  sk_session_summary sum2;
  sk_session_summary_get(s, &sum2);
  ck_assert_int_eq(sum2.commands_applied, 8);
  ck_assert_int_eq(sk_session_finish(s, NULL, "completed"), SK_OK);
  sk_session_destroy(s);
  ck_assert_msg(h5_same(out1, out2), "the replayed recording differs from the steered one");
  ck_assert(sum.run.wh_per_prompt == sum2.run.wh_per_prompt);
  free(sc);
}
END_TEST

/* ---- bad commands -------------------------------------------------------------------- */

static void expect_bad(sk_session *s, sk_command_kind kind, const char *key, const char *value,
                       const char *words) {
  sk_command c;
  char err[SK_ERR_LEN] = "";
  memset(&c, 0, sizeof c);
  c.kind = kind;
  snprintf(c.key, sizeof c.key, "%s", key);
  snprintf(c.value, sizeof c.value, "%s", value);
  ck_assert_int_eq(sk_session_post(s, &c, err, sizeof err), SK_EINVAL);
  ck_assert_msg(strstr(err, words) != NULL, "'%s' does not say '%s'", err, words);
}

START_TEST(bad_commands_change_nothing) {
  sk_scenario *sc = short_heat_spike(1200);
  char err[SK_ERR_LEN];
  sk_session_config cfg;
  config(&cfg, sc, "advisory", NULL);
  sk_session *s = NULL;
  ck_assert_msg(sk_session_create(&s, &cfg, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(sk_session_step_until(s, 60 * 1000000000LL), SK_OK);
  sk_scenario before = *sk_session_scenario(s);
  expect_bad(s, SK_CMD_SET, "settings.no_such_key", "1", "settings.no_such_key");
  expect_bad(s, SK_CMD_SET, "INLET_MAX_C", "99", "settings.inlet_max_c");
  expect_bad(s, SK_CMD_SET, "INLET_MAX_C", "warm", "settings.inlet_max_c");
  expect_bad(s, SK_CMD_SET, "room.rows", "4", "not a live key");
  expect_bad(s, SK_CMD_MODE, "", "turbo", "turbo");
  expect_bad(s, SK_CMD_KILL_SWITCH, "", "maybe", "maybe");
  expect_bad(s, SK_CMD_EFFECT_START, "no_such_effect", "", "add_ai_nodes_row_c");
  expect_bad(s, SK_CMD_EFFECT_START, "add_ai_nodes_row_c", "-5", "add_ai_nodes_row_c");
  expect_bad(s, SK_CMD_APPLY, "warp_drive", "room 1", "warp_drive");
  expect_bad(s, SK_CMD_APPLY, "crah_fan_speed", "R-A-01 -5", "row letter");
  expect_bad(s, SK_CMD_RECOMMEND, "supply_temp", "room 1", "row letter");
  expect_bad(s, SK_CMD_APPLY, "crah_fan_speed", "A 0x10", "TARGET DELTA");
  expect_bad(s, SK_CMD_APPLY, "crah_fan_speed", "A nan", "TARGET DELTA");
  expect_bad(s, SK_CMD_SPEED, "", "-3", "-3");
  ck_assert_int_eq(sk_session_step_until(s, 120 * 1000000000LL), SK_OK);
  ck_assert(memcmp(&before, sk_session_scenario(s), sizeof before) == 0);
  sk_session_summary sum;
  sk_session_summary_get(s, &sum);
  ck_assert_int_eq(sum.commands_applied, 0);
  ck_assert_int_eq(sum.mode, SK_RUN_ADVISORY);
  sk_session_destroy(s);
  free(sc);
}
END_TEST

/* ---- two sessions at once ------------------------------------------------------------ */

typedef struct {
  const sk_scenario *sc;
  const char *mode, *out;
  int ok;
  char err[SK_ERR_LEN];
} solo;

static void *run_solo(void *arg) {
  solo *j = arg;
  sk_session_config cfg;
  config(&cfg, j->sc, j->mode, j->out);
  cfg.threads = 1;
  sk_session *s = NULL;
  if (sk_session_create(&s, &cfg, j->err, sizeof j->err) != SK_OK)
    return NULL;
  while (!sk_session_done(s))
    if (sk_session_step_until(s, sk_session_now(s) + 10 * 1000000000LL) != SK_OK)
      break;
  j->ok = sk_session_status(s) == SK_OK && sk_session_finish(s, NULL, "completed") == SK_OK;
  if (!j->ok)
    snprintf(j->err, sizeof j->err, "%s", sk_session_error(s));
  sk_session_destroy(s);
  return NULL;
}

START_TEST(two_sessions_at_once_as_alone) {
  sk_scenario *sc = short_heat_spike(900);
  sk_scenario *sc2 = short_heat_spike(900);
  sc2->seed = 2;
  char a_alone[600], b_alone[600], a_both[600], b_both[600];
  snprintf(a_alone, sizeof a_alone, "%s", tu_tmp("a-alone.h5"));
  snprintf(b_alone, sizeof b_alone, "%s", tu_tmp("b-alone.h5"));
  snprintf(a_both, sizeof a_both, "%s", tu_tmp("a-both.h5"));
  snprintf(b_both, sizeof b_both, "%s", tu_tmp("b-both.h5"));
  solo ja = {sc, "closed_loop", a_alone, 0, ""}, jb = {sc2, "off", b_alone, 0, ""};
  run_solo(&ja);
  run_solo(&jb);
  ck_assert_msg(ja.ok && jb.ok, "%s %s", ja.err, jb.err);
  solo ca = {sc, "closed_loop", a_both, 0, ""}, cb = {sc2, "off", b_both, 0, ""};
  pthread_t ta, tb;
  ck_assert_int_eq(pthread_create(&ta, NULL, run_solo, &ca), 0);
  ck_assert_int_eq(pthread_create(&tb, NULL, run_solo, &cb), 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  ck_assert_msg(ca.ok && cb.ok, "%s %s", ca.err, cb.err);
  ck_assert(h5_same(a_alone, a_both));
  ck_assert(h5_same(b_alone, b_both));
  free(sc);
  free(sc2);
}
END_TEST

/* ---- recordings never clobber -------------------------------------------------------- */

START_TEST(interrupted_run_keeps_the_finished_file) {
  sk_scenario *sc = short_heat_spike(300);
  char out[600], err[SK_ERR_LEN];
  snprintf(out, sizeof out, "%s", tu_tmp("kept.h5"));
  solo done = {sc, "off", out, 0, ""};
  run_solo(&done);
  ck_assert_msg(done.ok, "%s", done.err);
  struct stat st0;
  ck_assert_int_eq(stat(out, &st0), 0);

  /* an existing file is refused without force */
  sk_session_config cfg;
  config(&cfg, sc, "off", out);
  sk_session *s = NULL;
  ck_assert_int_eq(sk_session_create(&s, &cfg, err, sizeof err), SK_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "--force"));

  /* with force, an interrupted run lands beside it */
  cfg.force = 1;
  ck_assert_msg(sk_session_create(&s, &cfg, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(sk_session_step_until(s, 60 * 1000000000LL), SK_OK);
  ck_assert_int_eq(sk_session_finish(s, NULL, "interrupted"), SK_OK);
  ck_assert_ptr_nonnull(strstr(sk_session_recording(s), "kept.interrupted.h5"));
  sk_session_destroy(s);
  struct stat st1;
  ck_assert_int_eq(stat(out, &st1), 0);
  ck_assert(st1.st_size == st0.st_size && st1.st_mtime == st0.st_mtime);
  char part[700];
  snprintf(part, sizeof part, "%s.part", out);
  ck_assert_int_ne(stat(part, &st1), 0);
  free(sc);
}
END_TEST

static void setup(void) {
  tu_scratch_setup("skadi-session-");
}

static Suite *suite(void) {
  Suite *s = suite_create("session");
  TCase *tc = tcase_create("session");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, steered_run_replays_bit_identical);
  tcase_add_test(tc, bad_commands_change_nothing);
  tcase_add_test(tc, two_sessions_at_once_as_alone);
  tcase_add_test(tc, interrupted_run_keeps_the_finished_file);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
