/*
 * live.c -- a run session stepped on its own thread, sampled by the window.
 *
 * Invariant: the stepping thread never waits for the window.  The only lock both take
 * guards pointer swaps and short appends (no copy of a snapshot happens under it): the
 * stepping thread fills `back` with sk_session_snapshot_get, then swaps it with `mid`
 * under the lock; the window swaps `mid` with `front` when a newer one is there.  The
 * series (one point per sample and per monitor tick) grow under the lock in the
 * session's observer callbacks, and the window copies only the points added since its
 * last frame.
 *
 * Pacing is `skadi run --speed`'s (cli/run.c), re-anchored whenever the speed changes or
 * the run resumes from a pause: chunks of a sample period, at most 50 ms of wall time
 * when paced, then a sleep to the wall-clock target.
 *
 * Rejected: stepping the session from the window's loop (a slow frame would slow the
 * twin); copying the snapshot under the lock (~300 kB at the largest room, at every
 * publish).
 */
#define _POSIX_C_SOURCE 200809L

#include "live.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A growable series of (t, v) points; appended under the lock. */
typedef struct {
  double *t, *v;
  int n, cap;
} series;

struct sk_viz_live {
  sk_session *s;
  char title[96];
  char scenario[64];
  double inlet_max_c, sla_ms, start_hour, sample_s;

  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  /* under mu */
  int quit;
  int fresh;
  sk_session_snapshot *mid;
  series shared[SK_VIZ_CHART_COUNT];
  sk_viz_marker *markers;
  int n_markers, cap_markers;
  sk_action_record actions[SK_VIZ_MAX_ACTIONS]; /* ring, newest at (head - 1) */
  int n_actions, head;
  int done;
  double wall_s, sim_s;
  char error[512];

  /* the stepping thread's */
  sk_session_snapshot *back;
  /* the window's */
  sk_session_snapshot *front;
  int have_front;
  series copy[SK_VIZ_CHART_COUNT];
  sk_viz_marker *markers_copy;
  int cap_markers_copy;
};

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double d) {
  if (d <= 0)
    return;
  struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
  nanosleep(&ts, NULL);
}

static int series_push(series *s, double t, double v) {
  if (s->n == s->cap) {
    int cap = s->cap ? 2 * s->cap : 1024;
    double *a = realloc(s->t, (size_t)cap * sizeof *a);
    if (!a)
      return -1;
    s->t = a;
    double *b = realloc(s->v, (size_t)cap * sizeof *b);
    if (!b)
      return -1;
    s->v = b;
    s->cap = cap;
  }
  s->t[s->n] = t;
  s->v[s->n] = v;
  s->n++;
  return 0;
}

static void marker_push(sk_viz_live *l, double t, char kind) {
  if (l->n_markers == l->cap_markers) {
    int cap = l->cap_markers ? 2 * l->cap_markers : 256;
    sk_viz_marker *m = realloc(l->markers, (size_t)cap * sizeof *m);
    if (!m)
      return; /* a marker lost to memory pressure: the view just lacks it */
    l->markers = m;
    l->cap_markers = cap;
  }
  l->markers[l->n_markers++] = (sk_viz_marker){t, kind};
}

/* ---- observer callbacks (the stepping thread) ------------------------------------------- */

static void on_sample(void *ud, const sk_rack_sample *racks, int n_racks,
                      const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room) {
  (void)racks, (void)n_racks, (void)crahs, (void)n_rows;
  sk_viz_live *l = ud;
  pthread_mutex_lock(&l->mu);
  series_push(&l->shared[SK_VIZ_CHART_WH], room->ts, room->j_per_prompt_wh);
  series_push(&l->shared[SK_VIZ_CHART_TTFT], room->ts, room->latency_p95_ms);
  pthread_mutex_unlock(&l->mu);
}

static void on_monitor(void *ud, const sk_monitor_record *rows, int n) {
  sk_viz_live *l = ud;
  if (n <= 0)
    return;
  double mx = NAN;
  for (int i = 0; i < n; i++)
    if (!isnan(rows[i].deviation) && (isnan(mx) || rows[i].deviation > mx))
      mx = rows[i].deviation;
  pthread_mutex_lock(&l->mu);
  series_push(&l->shared[SK_VIZ_CHART_IMS], rows[0].ts, mx);
  pthread_mutex_unlock(&l->mu);
}

static void on_action(void *ud, const sk_action_record *a) {
  sk_viz_live *l = ud;
  char k = 0;
  if (strcmp(a->decision, "applied") == 0)
    k = 'a';
  else if (strcmp(a->decision, "advised") == 0)
    k = 'd';
  else if (strcmp(a->decision, "rolled_back") == 0)
    k = 'r';
  else if (strcmp(a->decision, "rejected") == 0)
    k = 'x';
  pthread_mutex_lock(&l->mu);
  if (k)
    marker_push(l, a->ts, k);
  if (sk_viz_action_listed(a)) {
    l->actions[l->head] = *a;
    l->head = (l->head + 1) % SK_VIZ_MAX_ACTIONS;
    if (l->n_actions < SK_VIZ_MAX_ACTIONS)
      l->n_actions++;
  }
  pthread_mutex_unlock(&l->mu);
}

static void on_event(void *ud, const sk_event_record *ev) {
  sk_viz_live *l = ud;
  pthread_mutex_lock(&l->mu);
  marker_push(l, ev->ts, 'e');
  pthread_mutex_unlock(&l->mu);
}

/* Takes a snapshot into back and swaps it in as the newest (the stepping thread). */
static void publish(sk_viz_live *l) {
  sk_session_snapshot_get(l->s, l->back);
  pthread_mutex_lock(&l->mu);
  sk_session_snapshot *t = l->mid;
  l->mid = l->back;
  l->back = t;
  l->fresh = 1;
  pthread_mutex_unlock(&l->mu);
}

/* ---- create / destroy ------------------------------------------------------------------- */

int sk_viz_live_create(sk_viz_live **out, const sk_session_config *cfg, double speed,
                       const char *title, char *err, size_t errlen) {
  *out = NULL;
  sk_viz_live *l = calloc(1, sizeof *l);
  if (!l) {
    snprintf(err, errlen, "out of memory");
    return 1;
  }
  pthread_mutex_init(&l->mu, NULL);
  l->back = malloc(sizeof *l->back);
  l->mid = malloc(sizeof *l->mid);
  l->front = malloc(sizeof *l->front);
  if (!l->back || !l->mid || !l->front) {
    snprintf(err, errlen, "out of memory");
    sk_viz_live_destroy(l, NULL, 0, NULL, 0);
    return 1;
  }
  sk_status st = sk_session_create(&l->s, cfg, err, errlen);
  if (st != SK_OK) {
    sk_viz_live_destroy(l, NULL, 0, NULL, 0);
    return st == SK_EINVAL ? 2 : 1;
  }
  sk_session_set_initial_speed(l->s, speed);
  const sk_scenario *sc = sk_session_scenario(l->s);
  snprintf(l->title, sizeof l->title, "%s", title);
  snprintf(l->scenario, sizeof l->scenario, "%s", sc->name);
  l->inlet_max_c = sc->settings.inlet_max_c;
  l->sla_ms = sc->settings.sla_latency_ms;
  l->start_hour = sc->start_hour;
  l->sample_s = sc->sample_period_s;
  sk_session_observer obs = {on_sample, on_event, on_action, on_monitor, NULL, NULL, l};
  sk_session_observe(l->s, &obs);
  publish(l); /* the layout before the first sample */
  *out = l;
  return 0;
}

static void *step_thread(void *arg) {
  sk_viz_live *l = arg;
  sk_session *s = l->s;
  double t_start = wall_now(), last_pub = 0, last_flush = t_start;
  double anchor_w = t_start, anchor_sim = (double)sk_session_now(s) * 1e-9;
  double last_speed = sk_session_speed(s);
  int was_paused = 0;
  double paused_s = 0;
  for (;;) {
    pthread_mutex_lock(&l->mu);
    int quit = l->quit;
    pthread_mutex_unlock(&l->mu);
    if (quit || sk_session_done(s))
      break;
    double speed = sk_session_speed(s);
    if (sk_session_paused(s)) {
      if (!was_paused)
        publish(l); /* shows the pause */
      was_paused = 1;
      sleep_s(0.02);
      paused_s += 0.02;
      continue;
    }
    if (was_paused || speed != last_speed) {
      anchor_w = wall_now();
      anchor_sim = (double)sk_session_now(s) * 1e-9;
      was_paused = 0;
      last_speed = speed;
    }
    sk_time_ns chunk = (sk_time_ns)llround(l->sample_s * 1e9);
    if (speed > 0) {
      sk_time_ns paced = (sk_time_ns)llround(speed * 0.05 * 1e9);
      if (paced < chunk)
        chunk = paced > 0 ? paced : 1;
    }
    if (sk_session_step_until(s, sk_session_now(s) + chunk) != SK_OK)
      break;
    double w = wall_now(), sim = (double)sk_session_now(s) * 1e-9;
    if (speed > 0)
      sleep_s(anchor_w + (sim - anchor_sim) / speed - w);
    w = wall_now();
    if (w - last_pub >= 0.01) {
      publish(l);
      last_pub = w;
    }
    if (w - last_flush >= 1.0) {
      sk_session_flush(s);
      last_flush = w;
    }
    pthread_mutex_lock(&l->mu);
    l->wall_s = w - t_start - paused_s;
    l->sim_s = sim;
    pthread_mutex_unlock(&l->mu);
  }
  publish(l);
  pthread_mutex_lock(&l->mu);
  l->done = sk_session_done(s);
  if (sk_session_status(s) != SK_OK)
    snprintf(l->error, sizeof l->error, "%s", sk_session_error(s));
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

int sk_viz_live_start(sk_viz_live *l, char *err, size_t errlen) {
  int rc = pthread_create(&l->thread, NULL, step_thread, l);
  if (rc != 0) {
    snprintf(err, errlen, "cannot start the session's thread: %s", strerror(rc));
    return -1;
  }
  l->started = 1;
  return 0;
}

int sk_viz_live_run_to(sk_viz_live *l, double t_s, char *err, size_t errlen) {
  sk_time_ns t = (sk_time_ns)llround(t_s * 1e9);
  if (t > sk_session_end(l->s))
    t = sk_session_end(l->s);
  sk_time_ns chunk = (sk_time_ns)llround(l->sample_s * 1e9);
  while (sk_session_now(l->s) < t) {
    sk_time_ns next = sk_session_now(l->s) + chunk;
    if (sk_session_step_until(l->s, next < t ? next : t) != SK_OK) {
      snprintf(err, errlen, "%s", sk_session_error(l->s));
      return 1;
    }
  }
  publish(l);
  pthread_mutex_lock(&l->mu);
  l->done = sk_session_done(l->s);
  pthread_mutex_unlock(&l->mu);
  return 0;
}

static int copy_series(series *dst, const series *src) {
  if (dst->cap < src->n) {
    int cap = src->cap;
    double *a = realloc(dst->t, (size_t)cap * sizeof *a);
    if (!a)
      return -1;
    dst->t = a;
    double *b = realloc(dst->v, (size_t)cap * sizeof *b);
    if (!b)
      return -1;
    dst->v = b;
    dst->cap = cap;
  }
  /* points only ever get appended: copy the new ones */
  if (src->n > dst->n) {
    memcpy(dst->t + dst->n, src->t + dst->n, (size_t)(src->n - dst->n) * sizeof *dst->t);
    memcpy(dst->v + dst->n, src->v + dst->n, (size_t)(src->n - dst->n) * sizeof *dst->v);
  }
  dst->n = src->n;
  return 0;
}

void sk_viz_live_fill(sk_viz_live *l, sk_viz_view *v) {
  pthread_mutex_lock(&l->mu);
  if (l->fresh) {
    sk_session_snapshot *t = l->front;
    l->front = l->mid;
    l->mid = t;
    l->fresh = 0;
    l->have_front = 1;
  }
  for (int i = 0; i < SK_VIZ_CHART_COUNT; i++)
    copy_series(&l->copy[i], &l->shared[i]);
  if (l->cap_markers_copy < l->n_markers) {
    sk_viz_marker *m = realloc(l->markers_copy, (size_t)l->cap_markers * sizeof *m);
    if (m) {
      l->markers_copy = m;
      l->cap_markers_copy = l->cap_markers;
    }
  }
  int nm = l->n_markers <= l->cap_markers_copy ? l->n_markers : l->cap_markers_copy;
  if (nm > 0)
    memcpy(l->markers_copy, l->markers, (size_t)nm * sizeof *l->markers);
  v->n_actions = l->n_actions;
  for (int i = 0; i < l->n_actions; i++)
    v->actions[i] = l->actions[(l->head - 1 - i + 2 * SK_VIZ_MAX_ACTIONS) % SK_VIZ_MAX_ACTIONS];
  int done = l->done;
  char error[512];
  snprintf(error, sizeof error, "%s", l->error);
  pthread_mutex_unlock(&l->mu);

  const sk_session_snapshot *sn = l->front;
  snprintf(v->title, sizeof v->title, "%s", l->title);
  snprintf(v->scenario, sizeof v->scenario, "%s", l->scenario);
  v->live = 1;
  v->inlet_max_c = l->inlet_max_c;
  v->sla_ms = l->sla_ms;
  v->start_hour = l->start_hour;
  v->t_s = (double)sn->now_ns * 1e-9;
  v->end_s = (double)sn->end_ns * 1e-9;
  v->speed = sn->speed;
  v->paused = sn->paused;
  snprintf(v->mode, sizeof v->mode, "%s", sk_run_mode_name(sn->mode));
  v->kill_switch = sn->kill_switch;

  /* the layout: rows and positions from rack ids "R-<row>-<pos>" as the twin names them */
  int n = sn->n_racks;
  v->n_racks = n;
  v->n_rows = sn->n_rows;
  v->racks_per_row = sn->n_rows > 0 ? (n + sn->n_rows - 1) / sn->n_rows : n;
  for (int i = 0; i < n; i++) {
    sk_viz_rack *rk = &v->racks[i];
    const sk_rack_sample *rs = &sn->racks[i];
    memcpy(rk->id, rs->rack_id, sizeof rk->id);
    rk->id[SK_RACK_ID_LEN - 1] = '\0';
    rk->row = v->racks_per_row > 0 ? i / v->racks_per_row : 0;
    rk->pos = v->racks_per_row > 0 ? i % v->racks_per_row : i;
    if (sn->have_sample) {
      rk->inlet_c = rs->inlet_c;
      rk->outlet_c = rs->outlet_c;
      rk->pdu_kw = rs->pdu_kw;
      rk->n_servers = rs->n_servers;
    } else {
      rk->inlet_c = rk->outlet_c = rk->pdu_kw = NAN;
      rk->n_servers = 0;
    }
    rk->deviation = sn->have_monitor ? sn->monitor[i].deviation : NAN;
    rk->mms_state = sn->have_monitor ? sn->monitor[i].state : -1;
  }
  v->have_monitor = sn->have_monitor;
  for (int r = 0; r < sn->n_rows && r < SK_MAX_ROWS; r++) {
    snprintf(v->crahs[r].row, sizeof v->crahs[r].row, "%c", 'A' + r);
    v->crahs[r].fan_pct = sn->have_sample ? sn->crahs[r].fan_pct : NAN;
    v->crahs[r].supply_c = sn->have_sample ? sn->crahs[r].supply_c : NAN;
  }

  v->wh_per_prompt = sn->have_sample ? sn->room.j_per_prompt_wh_cum : NAN;
  v->cf_wh_per_prompt = sn->have_cf ? sn->cf_kpis.wh_per_prompt : NAN;
  v->saved_pct = sn->have_cf ? sn->energy_saved_pct : NAN;
  v->cf_whole_run = 0;
  v->ttft_p95_ms = sn->have_sample ? sn->room.latency_p95_ms : NAN;
  v->compliance_pct = sk_summary_compliance_floor(&sn->kpis, 2);
  v->pue = sn->kpis.pue;

  for (int i = 0; i < SK_VIZ_CHART_COUNT; i++)
    v->series[i] = (sk_viz_series){l->copy[i].t, l->copy[i].v, l->copy[i].n};
  v->markers = l->markers_copy;
  v->n_markers = nm;
  if (error[0])
    snprintf(v->status, sizeof v->status, "run failed: %.100s", error);
  else if (done)
    snprintf(v->status, sizeof v->status, "run complete");
  else
    v->status[0] = '\0';
}

int sk_viz_live_post(sk_viz_live *l, sk_command_kind kind, const char *value, char *err,
                     size_t errlen) {
  sk_command c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  snprintf(c.value, sizeof c.value, "%s", value);
  snprintf(c.source, sizeof c.source, "viz");
  return sk_session_post(l->s, &c, err, errlen) == SK_OK ? 0 : -1;
}

double sk_viz_live_end_s(const sk_viz_live *l) {
  return (double)sk_session_end(l->s) * 1e-9;
}

int sk_viz_live_done(sk_viz_live *l) {
  pthread_mutex_lock(&l->mu);
  int d = l->done || l->error[0];
  pthread_mutex_unlock(&l->mu);
  return d;
}

const char *sk_viz_live_error(sk_viz_live *l) {
  return l->error;
}

void sk_viz_live_pace(sk_viz_live *l, double *wall_s, double *sim_s) {
  pthread_mutex_lock(&l->mu);
  *wall_s = l->wall_s;
  *sim_s = l->sim_s;
  pthread_mutex_unlock(&l->mu);
}

int sk_viz_live_destroy(sk_viz_live *l, char *err, size_t errlen, char *rec, size_t reclen) {
  if (rec && reclen)
    rec[0] = '\0';
  if (!l)
    return 0;
  int rc = 0;
  if (l->started) {
    pthread_mutex_lock(&l->mu);
    l->quit = 1;
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
  }
  if (l->s) {
    if (sk_session_status(l->s) != SK_OK) {
      if (err)
        snprintf(err, errlen, "%s", sk_session_error(l->s));
      rc = 1;
    } else if (sk_session_finish(l->s, NULL, sk_session_done(l->s) ? "completed" : "interrupted") !=
               SK_OK) {
      if (err)
        snprintf(err, errlen, "%s", sk_session_error(l->s));
      rc = 1;
    }
    if (rec && reclen && sk_session_recording(l->s))
      snprintf(rec, reclen, "%s", sk_session_recording(l->s));
    sk_session_destroy(l->s);
  }
  for (int i = 0; i < SK_VIZ_CHART_COUNT; i++) {
    free(l->shared[i].t);
    free(l->shared[i].v);
    free(l->copy[i].t);
    free(l->copy[i].v);
  }
  free(l->markers);
  free(l->markers_copy);
  free(l->back);
  free(l->mid);
  free(l->front);
  pthread_mutex_destroy(&l->mu);
  free(l);
  return rc;
}
