/*
 * test_viz.c -- skadi-viz end to end: a real heat-spike recording made by the real
 * `skadi run`, drawn headless by the real `skadi-viz`, and the picture checked against the
 * recording read back through the library's reader:
 *
 *   - every cell's probe pixel has the colour the scale gives the recorded value of its
 *     rack at that sample (power and inlet), and the value drawn is the recorded one;
 *   - for power, after the onset, the racks of row C that got the added AI nodes are in
 *     the hot part of the scale and no rack of row A is (inlet physics is being changed,
 *     so no inlet difference is asserted);
 *   - the KPI tiles' text matches the recording up to that sample;
 *   - bad input exits 2 with a message naming what is wrong;
 *   - a scenario run in the viz's own session keeps its pace when the frames are slow,
 *     and reflects a mode change posted to it.
 *
 * The heat spike's onset is at 3,600 s (scenarios/heat_spike_row_c.json's timeline, which
 * --set cannot move); recording 3,720 s of it takes under a second, so the recording is
 * the real scenario cut just past the onset with --duration.
 */
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <zmq.h>

#include "testutil.h"

#include "image.h"
#include "live.h"
#include "render.h"
#include "skadi/recording.h"

static const char *viz_bin(void) {
  const char *b = getenv("SKADI_VIZ_BIN");
  ck_assert_msg(b != NULL, "SKADI_VIZ_BIN not set (run through ctest)");
  return b;
}

static char hs_h5[512];

/* Once for the suite (unchecked fixture): a scratch dir and the heat-spike recording. */
static void suite_setup(void) {
  tu_scratch_setup("skadi-viz-");
  const char *skadi, *src;
  tu_skadi_env(&skadi, &src);
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/heat_spike_row_c.json", src);
  snprintf(hs_h5, sizeof hs_h5, "%s/hs.h5", tu_dir);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)skadi, "run", scen, "--duration", "3720", "--out", hs_h5,
                             "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "skadi run: %s", r.err);
}

static void suite_teardown(void) {
  tu_scratch_teardown();
}

static cJSON *render_dump(const char *at, const char *metric, const char *png) {
  char dump[512];
  snprintf(dump, sizeof dump, "%s.json", png);
  tu_result r;
  tu_run(&r,
         (char *const[]){(char *)viz_bin(), hs_h5, "--at", (char *)at, "--metric", (char *)metric,
                         "--size", "1280x800", "--snapshot", (char *)png, "--dump", dump, NULL});
  ck_assert_msg(r.status == 0, "skadi-viz: %s", r.err);
  char *text = tu_read_file(dump);
  ck_assert_ptr_nonnull(text);
  cJSON *j = cJSON_Parse(text);
  free(text);
  ck_assert_ptr_nonnull(j);
  return j;
}

static double jnum(const cJSON *o, const char *k) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
  ck_assert_msg(cJSON_IsNumber(x), "%s is not a number", k);
  return x->valuedouble;
}

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
  ck_assert_msg(cJSON_IsString(x), "%s is not a string", k);
  return x->valuestring;
}

static const cJSON *tile(const cJSON *j, const char *name) {
  const cJSON *t;
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "tiles")) {
    if (strcmp(jstr(t, "name"), name) == 0)
      return t;
  }
  ck_abort_msg("no tile %s", name);
  return NULL;
}

static const cJSON *cell(const cJSON *j, const char *rack) {
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "cells")) {
    if (strcmp(jstr(c, "rack_id"), rack) == 0)
      return c;
  }
  ck_abort_msg("no cell %s", rack);
  return NULL;
}

/* The rack rows and the room rows up to and including the sample at ts. */
typedef struct {
  sk_rack_sample racks[SK_VIZ_MAX_RACKS];
  size_t n_racks;
  sk_room_sample *room; /* rows 0..k */
  size_t k;
  size_t n_layout;
} recorded;

static void read_recorded(double ts, recorded *rd) {
  sk_recording *rec;
  char err[512];
  ck_assert_msg(sk_recording_open(&rec, hs_h5, err, sizeof err) == SK_OK, "%s", err);
  rd->n_layout = sk_recording_metadata(rec)->n_racks;
  uint64_t first, n;
  /* the dump's t_s is printed to 15 digits: a sample's ts (a sum of periods) may sit an
   * ulp or two off it, so the sample is searched for in a microsecond around it */
  ck_assert_int_eq(sk_recording_find(rec, SK_TABLE_RACKS, ts - 1e-6, ts + 1e-6, &first, &n), SK_OK);
  ck_assert_uint_eq(n, rd->n_layout);
  ck_assert_int_eq(sk_recording_read(rec, SK_TABLE_RACKS, first, (size_t)n, rd->racks), SK_OK);
  rd->n_racks = (size_t)n;
  ck_assert_int_eq(sk_recording_find(rec, SK_TABLE_ROOM, ts - 1e-6, ts + 1e-6, &first, &n), SK_OK);
  ck_assert_uint_eq(n, 1);
  rd->k = (size_t)first;
  rd->room = malloc((rd->k + 1) * sizeof *rd->room);
  ck_assert_ptr_nonnull(rd->room);
  ck_assert_int_eq(sk_recording_read(rec, SK_TABLE_ROOM, 0, rd->k + 1, rd->room), SK_OK);
  sk_recording_close(rec);
}

static double rack_value(const sk_rack_sample *r, const char *metric) {
  return strcmp(metric, "power") == 0 ? r->pdu_kw : r->inlet_c;
}

/* Every cell's probe pixel against the scale's colour for the recorded value. */
static void check_cells(const cJSON *j, const recorded *rd, const char *metric, const char *png,
                        double *frac_out) {
  unsigned char *rgb;
  int w, h;
  char err[512];
  ck_assert_msg(sk_viz_png_read(png, &rgb, &w, &h, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(w, 1280);
  ck_assert_int_eq(h, 800);
  const cJSON *scale = cJSON_GetObjectItemCaseSensitive(j, "scale");
  double lo = jnum(scale, "lo"), hi = jnum(scale, "hi");
  ck_assert(hi > lo);
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "cells")),
                   (int)rd->n_racks);
  for (size_t i = 0; i < rd->n_racks; i++) {
    char id[SK_RACK_ID_LEN + 1] = {0};
    memcpy(id, rd->racks[i].rack_id, SK_RACK_ID_LEN);
    const cJSON *c = cell(j, id);
    double v = rack_value(&rd->racks[i], metric);
    ck_assert_double_eq_tol(jnum(c, "value"), v, 1e-9 * (fabs(v) + 1));
    double frac = (v - lo) / (hi - lo);
    frac_out[i] = frac;
    SDL_Color want = sk_viz_color(frac);
    int px = (int)jnum(c, "probe_x"), py = (int)jnum(c, "probe_y");
    ck_assert(px >= jnum(c, "x") && px < jnum(c, "x") + jnum(c, "w"));
    ck_assert(py >= jnum(c, "y") && py < jnum(c, "y") + jnum(c, "h"));
    const unsigned char *p = rgb + ((size_t)py * (size_t)w + (size_t)px) * 3;
    ck_assert_msg(abs(p[0] - want.r) <= 1 && abs(p[1] - want.g) <= 1 && abs(p[2] - want.b) <= 1,
                  "%s (%s %.3f, frac %.3f): pixel (%d,%d) is %d,%d,%d, the scale says %d,%d,%d", id,
                  metric, v, frac, px, py, p[0], p[1], p[2], want.r, want.g, want.b);
  }
  free(rgb);
}

START_TEST(heat_spike_power_snapshot) {
  char *png = tu_tmp("hs-power.png");
  cJSON *j = render_dump("01:01:00", "power", png);
  double ts = jnum(j, "t_s");
  ck_assert_double_eq_tol(ts, 3660, 1e-6); /* the sample at --at */
  static recorded rd;
  read_recorded(ts, &rd);
  double frac[SK_VIZ_MAX_RACKS];
  check_cells(j, &rd, "power", png, frac);

  /* row C's racks with the added nodes are hot, row A is not */
  int hot_c = 0, n_a = 0;
  for (size_t i = 0; i < rd.n_racks; i++) {
    const char *id = rd.racks[i].rack_id;
    if (strncmp(id, "R-C-06", 6) == 0 || strncmp(id, "R-C-07", 6) == 0) {
      ck_assert_msg(frac[i] >= SK_VIZ_HOT_FRAC, "%.6s at %.3f of the scale", id, frac[i]);
      hot_c++;
    }
    if (strncmp(id, "R-A-", 4) == 0) {
      ck_assert_msg(frac[i] < SK_VIZ_HOT_FRAC, "%.6s at %.3f of the scale", id, frac[i]);
      n_a++;
    }
  }
  ck_assert_int_eq(hot_c, 2);
  ck_assert_int_eq(n_a, 12);

  /* the KPI tiles against the room rows up to the sample */
  const sk_room_sample *now = &rd.room[rd.k];
  char want[64];
  snprintf(want, sizeof want, "%.4f", now->j_per_prompt_wh_cum);
  ck_assert_str_eq(jstr(tile(j, "wh_per_prompt"), "value"), want);
  snprintf(want, sizeof want, "%.1f ms", now->latency_p95_ms);
  ck_assert_str_eq(jstr(tile(j, "ttft_p95"), "value"), want);
  double it_kwh = 0, ok = 0, all = 0;
  for (size_t i = 0; i <= rd.k; i++) {
    double period = i == 0 ? rd.room[i].ts : rd.room[i].ts - rd.room[i - 1].ts;
    it_kwh += rd.room[i].it_kw * period / 3600;
    ok += round(rd.room[i].inlet_compliance_pct / 100 * (double)rd.n_racks);
    all += (double)rd.n_racks;
  }
  snprintf(want, sizeof want, "%.3f", now->energy_kwh_cum / it_kwh);
  ck_assert_str_eq(jstr(tile(j, "pue"), "value"), want);
  /* floored to 2 decimals, as the run summary prints it */
  double pct = floor(ok / all * 10000) / 100;
  snprintf(want, sizeof want, "%.2f %%", pct);
  ck_assert_str_eq(jstr(tile(j, "compliance"), "value"), want);
  ck_assert_str_eq(jstr(tile(j, "time"), "value"), "01:01:00");
  ck_assert_str_eq(jstr(tile(j, "wh_per_prompt"), "sub"), "no counterfactual");
  free(rd.room);
  cJSON_Delete(j);
}
END_TEST

START_TEST(heat_spike_inlet_snapshot) {
  char *png = tu_tmp("hs-inlet.png");
  cJSON *j = render_dump("3655", "inlet", png); /* between samples: the one before */
  double ts = jnum(j, "t_s");
  ck_assert_double_eq_tol(ts, 3650, 1e-6);
  static recorded rd;
  read_recorded(ts, &rd);
  double frac[SK_VIZ_MAX_RACKS];
  check_cells(j, &rd, "inlet", png, frac);
  free(rd.room);
  cJSON_Delete(j);
}
END_TEST

/* Racks above the inlet limit are outlined, the others not: a recording made with the
 * limit at its lowest (15 °C, under any supply air) so that the outline is exercised. */
START_TEST(over_limit_outlined) {
  const char *skadi, *src;
  tu_skadi_env(&skadi, &src);
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  char *h5 = tu_tmp("low-limit.h5"), *png = tu_tmp("low.png"), *dump = tu_tmp("low.json");
  tu_result r;
  tu_run(&r, (char *const[]){(char *)skadi, "run", scen, "--duration", "60", "--set",
                             "INLET_MAX_C=15", "--out", h5, "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "skadi run: %s", r.err);
  tu_run(&r, (char *const[]){(char *)viz_bin(), h5, "--snapshot", png, "--dump", dump, NULL});
  ck_assert_msg(r.status == 0, "skadi-viz: %s", r.err);
  char *text = tu_read_file(dump);
  cJSON *j = cJSON_Parse(text);
  free(text);
  ck_assert_ptr_nonnull(j);
  unsigned char *rgb;
  int w, h;
  char err[512];
  ck_assert_msg(sk_viz_png_read(png, &rgb, &w, &h, err, sizeof err) == 0, "%s", err);
  int over = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "cells")) {
    int x = (int)jnum(c, "x") + 1, y = (int)jnum(c, "y") + 1;
    const unsigned char *p = rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
    int outlined = p[0] == 255 && p[1] == 255 && p[2] == 255;
    int is_over = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "over_limit"));
    ck_assert_int_eq(is_over, jnum(c, "value") > 15); /* the inlet metric, limit 15 */
    ck_assert_msg(outlined == is_over, "%s: over %d, outline pixel %d,%d,%d", jstr(c, "rack_id"),
                  is_over, p[0], p[1], p[2]);
    over += is_over;
  }
  ck_assert_int_gt(over, 0);
  free(rgb);
  cJSON_Delete(j);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------- */

static void expect_bad(char *const argv[], const char *needle) {
  tu_result r;
  tu_run(&r, argv);
  ck_assert_msg(r.status == 2, "exit %d (want 2), stderr: %s", r.status, r.err);
  ASSERT_HAS(r.err, needle);
}

START_TEST(bad_input) {
  char *v = (char *)viz_bin();
  char *png = tu_tmp("x.png");
  expect_bad((char *const[]){v, tu_tmp("missing.h5"), "--snapshot", png, NULL},
             "missing.h5: no such file");
  char *txt = tu_tmp("notes.h5");
  tu_write_file(txt, "not hdf5 at all\n");
  expect_bad((char *const[]){v, txt, "--snapshot", png, NULL}, "not a skadi recording");
  expect_bad((char *const[]){v, tu_dir, "--snapshot", png, NULL}, "is a directory");
  expect_bad((char *const[]){v, hs_h5, "--size", "12x", "--snapshot", png, NULL}, "--size: '12x'");
  expect_bad((char *const[]){v, hs_h5, "--size", "100x100", "--snapshot", png, NULL},
             "--size: '100x100'");
  expect_bad((char *const[]){v, hs_h5, "--at", "1:99:00", "--snapshot", png, NULL},
             "--at: '1:99:00'");
  expect_bad((char *const[]){v, hs_h5, "--at", "nan", "--snapshot", png, NULL}, "--at: 'nan'");
  expect_bad((char *const[]){v, hs_h5, "--at", "5h", "--snapshot", png, NULL},
             "past the recording's last sample");
  expect_bad((char *const[]){v, hs_h5, "--metric", "heat", "--snapshot", png, NULL},
             "--metric: 'heat'");
  expect_bad((char *const[]){v, hs_h5, "--bogus", NULL}, "unknown option '--bogus'");
  expect_bad((char *const[]){v, "--connect", "tcp://127.0.0.1:1", "--timeout", "0.3", "--snapshot",
                             png, NULL},
             "no Skadi twin answered within 0.3 s");
  expect_bad((char *const[]){v, "--connect", "localhost", NULL}, "not tcp://HOST:PORT");
  expect_bad((char *const[]){v, NULL}, "no recording or scenario");
  /* a bad scenario: the session's own message, naming the file and field */
  char *scen = tu_tmp("bad.json");
  tu_write_file(scen, "{\"duration_s\": -5}");
  expect_bad((char *const[]){v, scen, "--snapshot", png, NULL}, "duration_s");
  const char *skadi, *src;
  tu_skadi_env(&skadi, &src);
  char base[512];
  snprintf(base, sizeof base, "%s/scenarios/baseline.json", src);
  expect_bad((char *const[]){v, base, "--duration", "60", "--at", "2m", "--snapshot", png, NULL},
             "past the run's end");
  /* nothing was written for any of them */
  ck_assert_int_ne(access(png, F_OK), 0);
}
END_TEST

/* ---- its own session ------------------------------------------------------------------- */

/* 300 s of sim time at 300x is one second of wall time; with frames that take 250 ms the
 * run must still take about a second: the window samples the session, never holds it. */
START_TEST(live_slow_frames_keep_pace) {
  const char *skadi, *src;
  tu_skadi_env(&skadi, &src);
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)viz_bin(), scen, "--headless", "--duration", "300", "--speed",
                             "300x", "--frame-delay-ms", "250", "--size", "800x500", NULL});
  ck_assert_msg(r.status == 0, "skadi-viz: %s", r.err);
  double sim = 0, wall = 0;
  long frames = 0;
  ck_assert_msg(sscanf(r.out, "run: %lf s of sim time in %lf s of wall time %*[^;]; %ld frames",
                       &sim, &wall, &frames) == 3,
                "output: %s", r.out);
  ck_assert_double_eq_tol(sim, 300, 1e-6);
  /* paced, not faster, and not held back by frames of 250 ms (a run stepped from the
   * frame loop would take at least one frame per 50 ms chunk: 20 x 0.25 s = 5 s) */
  ck_assert_msg(wall > 0.9 && wall < 1.8, "300 s at 300x took %.3f s", wall);
  ck_assert_msg(frames >= 1 && frames <= 8, "%ld frames of 250 ms in %.3f s", frames, wall);
}
END_TEST

/* In process: a mode posted to the viz's session shows in the next views. */
START_TEST(live_mode_change_shows) {
  const char *skadi, *src;
  tu_skadi_env(&skadi, &src);
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  cfg.scenario_path = scen;
  cfg.duration_s = 600;
  cfg.threads = 1;
  sk_viz_live *l;
  char err[1024];
  ck_assert_msg(sk_viz_live_create(&l, &cfg, 600, "live test", err, sizeof err) == 0, "%s", err);
  static sk_viz_view v;
  sk_viz_view_init(&v);
  ck_assert_int_eq(sk_viz_live_start(l, err, sizeof err), 0);
  ck_assert_int_eq(sk_viz_live_post(l, SK_CMD_MODE, "advisory", err, sizeof err), 0);
  ck_assert_int_ne(sk_viz_live_post(l, SK_CMD_MODE, "sideways", err, sizeof err), 0);
  ASSERT_HAS(err, "sideways");
  int seen = 0;
  for (int i = 0; i < 400 && !seen; i++) {
    sk_viz_live_fill(l, &v);
    seen = strcmp(v.mode, "advisory") == 0;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  ck_assert_msg(seen, "mode still %s at %.0f s", v.mode, v.t_s);
  ck_assert_int_eq(v.live, 1);
  ck_assert_int_eq(v.n_racks, 72);
  ck_assert_int_eq(sk_viz_live_destroy(l, err, sizeof err, NULL, 0), 0);
}
END_TEST

/* A scenario drawn headless at a moment: the session is stepped to it. */
START_TEST(live_snapshot_at) {
  const char *skadi, *src;
  tu_skadi_env(&skadi, &src);
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  char *png = tu_tmp("live.png"), *dump = tu_tmp("live.json");
  tu_result r;
  tu_run(&r, (char *const[]){(char *)viz_bin(), scen, "--duration", "600", "--at", "00:05:00",
                             "--snapshot", png, "--dump", dump, "--size", "960x600", NULL});
  ck_assert_msg(r.status == 0, "skadi-viz: %s", r.err);
  char *text = tu_read_file(dump);
  cJSON *j = cJSON_Parse(text);
  free(text);
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(jstr(tile(j, "time"), "value"), "00:05:00");
  ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "cells")), 72);
  cJSON_Delete(j);
}
END_TEST

/* ---- the window, on SDL's dummy video driver, driven by --keys ------------------------- */

START_TEST(window_replay_keys) {
  setenv("SDL_VIDEODRIVER", "dummy", 1);
  tu_result r;
  tu_run(&r,
         (char *const[]){(char *)viz_bin(), hs_h5, "--size", "900x600", "--keys",
                         "space,m,m,right,right,plus,h,size=1100x700,wait,minus,minus,q", NULL});
  ck_assert_msg(r.status == 0, "skadi-viz: %s", r.err);
  /* paused at the first sample (10 s), two minutes on, 60x doubled then halved twice */
  ASSERT_HAS(r.out, "view: t 130 s, metric power, speed 30, paused 1, mode off, kill switch 0, "
                    "help 1, replay, size 1100x700");
}
END_TEST

/* The keys reach the viz's own session as commands: its recording's /commands says so. */
START_TEST(window_live_keys_post_commands) {
  setenv("SDL_VIDEODRIVER", "dummy", 1);
  const char *skadi, *src;
  tu_skadi_env(&skadi, &src);
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  char *rec = tu_tmp("live.h5");
  char keys[512] = "o,wait,plus,wait,space,wait,space,k";
  for (int i = 0; i < 30; i++)
    strcat(keys, ",wait");
  strcat(keys, ",q");
  tu_result r;
  tu_run(&r, (char *const[]){(char *)viz_bin(), scen, "--duration", "1200", "--out", rec, "--speed",
                             "120x", "--keys", keys, NULL});
  ck_assert_msg(r.status == 0, "skadi-viz: %s", r.err);
  ASSERT_HAS(r.out, "mode advisory, kill switch 1");
  ASSERT_HAS(r.err, "recording:");
  sk_recording *h;
  char err[512];
  ck_assert_msg(sk_recording_open(&h, rec, err, sizeof err) == SK_OK, "%s", err);
  uint64_t n = 0;
  ck_assert_int_eq(sk_recording_count(h, SK_TABLE_COMMANDS, &n), SK_OK);
  ck_assert_uint_eq(n, 5);
  sk_command_record c[5];
  ck_assert_int_eq(sk_recording_read(h, SK_TABLE_COMMANDS, 0, 5, c), SK_OK);
  const char *want[5][2] = {{"mode", "advisory"},
                            {"speed", "240"},
                            {"pause", "true"},
                            {"pause", "false"},
                            {"kill_switch", "true"}};
  for (int i = 0; i < 5; i++) {
    ck_assert_str_eq(c[i].kind, want[i][0]);
    ck_assert_str_eq(c[i].value, want[i][1]);
    ck_assert_str_eq(c[i].source, "viz");
  }
  sk_recording_close(h);
}
END_TEST

/* ---- a twin elsewhere: a stand-in that speaks docs/PROTOCOL.md (of the API) ---------- */

/* The stand-in twin: a ROUTER answering hello, overview and mode_set, and a PUB on the
 * next port publishing the heat spike's recorded sample at 3660 s as `racks` frames
 * every 20 ms, rows encoded by the library's schema as the real twin does. */
typedef struct {
  void *ctx, *router, *pub;
  int port;
  volatile int stop;
  char mode[16];
  int mode_sets;
  char *racks_frame;
  double wh_cum;
  pthread_t th;
} fake_twin;

static void reply(fake_twin *f, zmq_msg_t *ident, const char *json) {
  zmq_msg_send(ident, f->router, ZMQ_SNDMORE);
  zmq_send(f->router, json, strlen(json), 0);
}

static void *fake_loop(void *arg) {
  fake_twin *f = arg;
  double last_pub = 0;
  while (!f->stop) {
    zmq_pollitem_t it = {f->router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 5) > 0) {
      zmq_msg_t ident, body;
      zmq_msg_init(&ident);
      zmq_msg_init(&body);
      zmq_msg_recv(&ident, f->router, 0);
      zmq_msg_recv(&body, f->router, 0);
      cJSON *q = cJSON_ParseWithLength(zmq_msg_data(&body), zmq_msg_size(&body));
      const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(q, "op"));
      char *id = cJSON_PrintUnformatted(cJSON_GetObjectItem(q, "id"));
      char out[1024];
      if (op && strcmp(op, "hello") == 0) {
        snprintf(out, sizeof out,
                 "{\"v\":1,\"id\":%s,\"ok\":true,\"result\":{\"kind\":\"live\","
                 "\"protocol\":1,\"scenario\":\"fake_twin\",\"end_sim_time_s\":3720,"
                 "\"start_hour\":10,\"sample_period_s\":10}}",
                 id);
      } else if (op && strcmp(op, "overview") == 0) {
        snprintf(out, sizeof out,
                 "{\"v\":1,\"id\":%s,\"ok\":true,\"result\":{\"j_per_prompt_wh\":%.17g,"
                 "\"cf_j_per_prompt_wh\":0.7,\"energy_saved_pct\":4.5,"
                 "\"inlet_compliance_pct\":99.987,\"pue\":1.4,\"sla_latency_ms\":250,"
                 "\"inlet_max_c\":28,\"mode\":\"%s\",\"kill_switch\":false,"
                 "\"paused\":false,\"speed\":60,\"done\":false,\"end_sim_time_s\":3720}}",
                 id, f->wh_cum, f->mode);
      } else if (op && strcmp(op, "mode_set") == 0) {
        const char *m =
            cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(q, "args"), "mode"));
        snprintf(f->mode, sizeof f->mode, "%s", m ? m : "?");
        f->mode_sets++;
        snprintf(out, sizeof out, "{\"v\":1,\"id\":%s,\"ok\":true,\"result\":{}}", id);
      } else {
        snprintf(out, sizeof out,
                 "{\"v\":1,\"id\":%s,\"ok\":false,\"error\":{\"code\":\"unknown_op\","
                 "\"message\":\"op: no such op\",\"field\":\"op\"}}",
                 id);
      }
      reply(f, &ident, out);
      free(id);
      cJSON_Delete(q);
      zmq_msg_close(&ident);
      zmq_msg_close(&body);
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    if (now - last_pub > 0.02) {
      zmq_send(f->pub, "racks", 5, ZMQ_SNDMORE);
      zmq_send(f->pub, f->racks_frame, strlen(f->racks_frame), 0);
      last_pub = now;
    }
  }
  return NULL;
}

static void fake_start(fake_twin *f, const recorded *rd) {
  memset(f, 0, sizeof *f);
  snprintf(f->mode, sizeof f->mode, "advisory");
  f->wh_cum = rd->room[rd->k].j_per_prompt_wh_cum;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "v", 1);
  cJSON_AddStringToObject(o, "topic", "racks");
  cJSON_AddNumberToObject(o, "sim_time_s", rd->room[rd->k].ts);
  cJSON *racks = cJSON_AddArrayToObject(o, "racks");
  for (size_t i = 0; i < rd->n_racks; i++)
    cJSON_AddItemToArray(racks,
                         sk_schema_row_json(&sk_schema_tables[SK_TABLE_RACKS], &rd->racks[i]));
  cJSON_AddArrayToObject(o, "crah");
  cJSON_AddItemToObject(o, "room",
                        sk_schema_row_json(&sk_schema_tables[SK_TABLE_ROOM], &rd->room[rd->k]));
  cJSON_AddArrayToObject(o, "monitor");
  f->racks_frame = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  f->ctx = zmq_ctx_new();
  f->router = zmq_socket(f->ctx, ZMQ_ROUTER);
  f->pub = zmq_socket(f->ctx, ZMQ_PUB);
  int zero = 0;
  zmq_setsockopt(f->router, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(f->pub, ZMQ_LINGER, &zero, sizeof zero);
  /* a free pair of ports: the command port and the next one */
  for (int k = 0; k < 200 && !f->port; k++) {
    int p = 20000 + (int)((getpid() * 7 + k * 31) % 40000);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", p);
    if (zmq_bind(f->router, ep) != 0)
      continue;
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", p + 1);
    if (zmq_bind(f->pub, ep) != 0) {
      snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", p);
      zmq_unbind(f->router, ep);
      continue;
    }
    f->port = p;
  }
  ck_assert_int_ne(f->port, 0);
  ck_assert_int_eq(pthread_create(&f->th, NULL, fake_loop, f), 0);
}

static void fake_stop(fake_twin *f) {
  f->stop = 1;
  pthread_join(f->th, NULL);
  zmq_close(f->router);
  zmq_close(f->pub);
  zmq_ctx_term(f->ctx);
  free(f->racks_frame);
}

/* The picture of a twin elsewhere is its frames' rows; keys steer it through the
 * protocol's ops. */
START_TEST(connect_to_a_twin) {
  static recorded rd;
  read_recorded(3660, &rd);
  static fake_twin f;
  fake_start(&f, &rd);
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", f.port);
  char *png = tu_tmp("remote.png"), *dump = tu_tmp("remote.json");
  tu_result r;
  tu_run(&r, (char *const[]){(char *)viz_bin(), "--connect", ep, "--metric", "power", "--snapshot",
                             png, "--dump", dump, NULL});
  ck_assert_msg(r.status == 0, "skadi-viz: %s", r.err);
  char *text = tu_read_file(dump);
  cJSON *j = cJSON_Parse(text);
  free(text);
  ck_assert_ptr_nonnull(j);
  double frac[SK_VIZ_MAX_RACKS];
  check_cells(j, &rd, "power", png, frac);
  char want[64];
  snprintf(want, sizeof want, "%.4f", rd.room[rd.k].j_per_prompt_wh_cum);
  ck_assert_str_eq(jstr(tile(j, "wh_per_prompt"), "value"), want);
  ck_assert_str_eq(jstr(tile(j, "wh_per_prompt"), "sub"), "cf 0.7000 saved +4.50%");
  ck_assert_str_eq(jstr(tile(j, "compliance"), "value"), "99.98 %");
  ck_assert_str_eq(jstr(tile(j, "time"), "value"), "01:01:00");
  cJSON_Delete(j);

  /* o: advisory -> closed_loop, posted as mode_set; the view follows the twin's overview */
  setenv("SDL_VIDEODRIVER", "dummy", 1);
  char keys[512] = "o";
  for (int i = 0; i < 25; i++)
    strcat(keys, ",wait");
  strcat(keys, ",q");
  tu_run(&r, (char *const[]){(char *)viz_bin(), "--connect", ep, "--keys", keys, NULL});
  ck_assert_msg(r.status == 0, "skadi-viz: %s", r.err);
  ck_assert_int_eq(f.mode_sets, 1);
  ck_assert_str_eq(f.mode, "closed_loop");
  ASSERT_HAS(r.out, "mode closed_loop");
  ASSERT_HAS(r.out, "remote");
  fake_stop(&f);
  free(rd.room);
}
END_TEST

/* The real `skadi serve --engine-only` (once the API is in this build): the viz receives
 * its frames and a mode change shows. */
START_TEST(connect_to_skadi_serve) {
  const char *skadi, *src;
  tu_skadi_env(&skadi, &src);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)skadi, "serve", "--help", NULL});
  if (r.status != 0) {
    printf("test_viz: connect_to_skadi_serve skipped: this skadi has no serve command\n");
    return;
  }
  char scen[512], ep[64];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  int port = 20000 + (int)(getpid() % 20000) * 2 + 1;
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
  pid_t serve = fork();
  ck_assert_int_ge(serve, 0);
  if (serve == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(skadi, skadi, "serve", scen, "--engine-only", "--bind", ep, "--speed", "600x", "--mode",
          "advisory", "--no-record", (char *)NULL);
    _exit(127);
  }
  setenv("SDL_VIDEODRIVER", "dummy", 1);
  char keys[1024] = "o";
  for (int i = 0; i < 60; i++)
    strcat(keys, ",wait");
  strcat(keys, ",q");
  tu_run(&r, (char *const[]){(char *)viz_bin(), "--connect", ep, "--timeout", "10", "--keys", keys,
                             NULL});
  kill(serve, SIGTERM);
  tu_wait(serve);
  ck_assert_msg(r.status == 0, "skadi-viz: %s", r.err);
  ASSERT_HAS(r.out, "mode closed_loop");
}
END_TEST

static Suite *viz_suite(void) {
  Suite *s = suite_create("viz");
  TCase *tc = tcase_create("viz");
  tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, heat_spike_power_snapshot);
  tcase_add_test(tc, heat_spike_inlet_snapshot);
  tcase_add_test(tc, over_limit_outlined);
  tcase_add_test(tc, bad_input);
  tcase_add_test(tc, live_slow_frames_keep_pace);
  tcase_add_test(tc, live_mode_change_shows);
  tcase_add_test(tc, live_snapshot_at);
  tcase_add_test(tc, window_replay_keys);
  tcase_add_test(tc, window_live_keys_post_commands);
  tcase_add_test(tc, connect_to_a_twin);
  tcase_add_test(tc, connect_to_skadi_serve);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(viz_suite());
}
