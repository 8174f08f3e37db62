/*
 * live.c -- the twin side of a live run: a session on the server thread (srv.c), paced
 * the way `skadi run --speed` paces one (chunks of a sample period, or of at most 50 ms of
 * wall time when paced), its rows published as frames and remembered for the read ops
 * (store.c), and every command a client sends posted through sk_session_post, so it is
 * stamped with sim time, recorded in /commands and replayable (`skadi run --commands`).
 *
 * Frames of a sample are published once the session has stepped past the sample's time:
 * by then the monitor tick and the decisions of that instant are in, so a frame holds the
 * same rows whatever the chunking -- and the same as a replay of the recording builds.
 *
 * Pacing: speed and pause are commands too (they land in /commands; a re-run ignores
 * them).  The wall/sim anchor is reset whenever either changes, so a speed change never
 * makes the run sprint to catch up.  When the run ends, the recording is finished at once
 * ("completed") and the twin keeps answering reads until it is stopped.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "ims_jobs.h"
#include "proto.h"
#include "skadi/api.h"
#include "skadi/ims_store.h"
#include "skadi/report.h"
#include "srv.h"
#include "store.h"
#include "twin_int.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif

/* samples stepped over but not yet published: 2 at most with sample-period chunks */
#define PEND_CAP 8
#define TICKS 4
#define MAX_TELEMETRY 1000000

typedef struct {
  sk_room_sample room;
  sk_rack_sample racks[SK_SESSION_MAX_RACKS];
  sk_crah_sample crahs[SK_MAX_ROWS];
  int n_racks, n_rows;
} pending;

typedef struct {
  double ts;
  int n;
  sk_monitor_record rows[SK_SESSION_MAX_RACKS];
} tick;

typedef struct {
  sk_api_twin *pub; /* the handle: done flag */
  sk__srv *srv;
  /* the rest belongs to the server thread */
  sk_session *s;
  sk_session_snapshot *snap;
  double start_hour, sample_period_s;
  int finished;
  sk_status final_status;
  double anchor_wall, anchor_sim, last_speed, last_flush;
  int last_paused;
  pending *pend;
  int n_pend;
  tick *ticks;
  int n_ticks, next_tick;
  sk__store *store;
  size_t n_telemetry; /* samples accepted by POST /telemetry */
  /* the posted stream's IMS/MMS rows as the session applied them: latest per rack */
  sk_monitor_record *tel_mon;
  int64_t tel_applied;
  char requested_mode[16];
  sk__ims_jobs *ims;
  /* the racks of the room, for POST /telemetry */
  int n_rack_ids;
  char (*rack_ids)[SK_RACK_ID_LEN];
} live;

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(const live *t) {
  return (double)sk_session_now(t->s) * 1e-9;
}

/* ---- observer: rows as the session makes them ------------------------------------------ */

static void publish_sample(live *t, const pending *p) {
  const tick *tk = NULL;
  for (int i = 0; i < t->n_ticks; i++)
    if (t->ticks[i].ts <= p->room.ts && (!tk || t->ticks[i].ts > tk->ts))
      tk = &t->ticks[i];
  sk__frame_in in = {t->start_hour, &p->room, tk ? tk->rows : NULL, tk ? tk->n : 0,
                     sk__store_last_decision(t->store, p->room.ts)};
  sk__store_add_sample(t->store, &p->room, p->racks, p->n_racks, in.monitor, in.n_monitor);
  sk__srv_publish(t->srv, "kpis", sk__frame_kpis(&in));
  sk__srv_publish(t->srv, "racks",
                  sk__frame_racks(t->start_hour, &p->room, p->racks, p->n_racks, p->crahs,
                                  p->n_rows, in.monitor, in.n_monitor));
}

/* Publishes the pending samples the session has stepped past (all with force). */
static void publish_ready(live *t, int force) {
  double now = now_s(t);
  int k = 0;
  while (k < t->n_pend && (force || t->pend[k].room.ts < now))
    publish_sample(t, &t->pend[k++]);
  if (k > 0) {
    memmove(t->pend, t->pend + k, (size_t)(t->n_pend - k) * sizeof *t->pend);
    t->n_pend -= k;
  }
}

static void on_sample(void *ud, const sk_rack_sample *racks, int n_racks,
                      const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room) {
  live *t = ud;
  if (t->n_pend == PEND_CAP) { /* cannot happen with sample-period chunks; keep order */
    publish_sample(t, &t->pend[0]);
    memmove(t->pend, t->pend + 1, (size_t)(PEND_CAP - 1) * sizeof *t->pend);
    t->n_pend--;
  }
  pending *p = &t->pend[t->n_pend++];
  p->room = *room;
  p->n_racks = n_racks < SK_SESSION_MAX_RACKS ? n_racks : SK_SESSION_MAX_RACKS;
  p->n_rows = n_rows < SK_MAX_ROWS ? n_rows : SK_MAX_ROWS;
  memcpy(p->racks, racks, (size_t)p->n_racks * sizeof *racks);
  memcpy(p->crahs, crahs, (size_t)p->n_rows * sizeof *crahs);
}

static void on_monitor(void *ud, const sk_monitor_record *rows, int n) {
  live *t = ud;
  tick *tk = &t->ticks[t->next_tick++ % TICKS]; /* a ring: the oldest goes */
  if (t->n_ticks < TICKS)
    t->n_ticks++;
  tk->ts = n > 0 ? rows[0].ts : now_s(t);
  tk->n = n < SK_SESSION_MAX_RACKS ? n : SK_SESSION_MAX_RACKS;
  memcpy(tk->rows, rows, (size_t)tk->n * sizeof *rows);
}

static void on_action(void *ud, const sk_action_record *a) {
  live *t = ud;
  sk__store_add_action(t->store, a);
  sk__srv_publish(t->srv, "actions",
                  sk__frame_row("actions", "action", t->start_hour, SK_TABLE_ACTIONS, a, a->ts));
}

static void on_event(void *ud, const sk_event_record *ev) {
  live *t = ud;
  sk__store_add_event(t->store, ev);
  sk__srv_publish(t->srv, "events",
                  sk__frame_row("events", "event", t->start_hour, SK_TABLE_EVENTS, ev, ev->ts));
}

/* A posted sample as the session applied it, with its IMS/MMS row: a telemetry frame. */
static void on_telemetry(void *ud, const sk_rack_sample *sample, const sk_monitor_record *score) {
  live *t = ud;
  for (int i = 0; i < t->n_rack_ids; i++)
    if (strcmp(t->rack_ids[i], sample->rack_id) == 0)
      t->tel_mon[i] = *score;
  t->tel_applied++;
  cJSON *o = sk__frame_row("telemetry", "sample", t->start_hour, SK_TABLE_RACKS, sample, now_s(t));
  cJSON_AddItemToObject(o, "monitor",
                        sk_schema_row_json(&sk_schema_tables[SK_TABLE_MONITOR], score));
  sk__srv_publish(t->srv, "telemetry", o);
}

static void on_command(void *ud, const sk_command_record *c) {
  live *t = ud;
  sk__store_add_command(t->store, c);
  sk__srv_publish(t->srv, "commands",
                  sk__frame_row("commands", "command", t->start_hour, SK_TABLE_COMMANDS, c, c->ts));
}

/* ---- pacing ------------------------------------------------------------------------------ */

static void finish(live *t, const char *status_text) {
  if (t->finished)
    return;
  publish_ready(t, 1);
  t->finished = 1;
  int ok = sk_session_status(t->s) == SK_OK;
  sk_status st = sk_session_finish(t->s, NULL, ok ? status_text : "failed");
  t->final_status = ok ? st : sk_session_status(t->s);
  if (t->final_status != SK_OK)
    fprintf(stderr, "skadi: %s\n", sk_session_error(t->s));
  atomic_store(&t->pub->done, 1);
}

static double live_tick(void *ud, sk__srv *srv) {
  live *t = ud;
  t->srv = srv; /* the observer's callbacks publish through it */
  if (t->finished)
    return -1;
  if (sk_session_done(t->s)) {
    finish(t, "completed");
    return -1;
  }
  int paused = sk_session_paused(t->s);
  double speed = sk_session_speed(t->s), w = wall_now();
  if (paused != t->last_paused || speed != t->last_speed) {
    t->anchor_wall = w;
    t->anchor_sim = now_s(t);
    t->last_paused = paused;
    t->last_speed = speed;
  }
  if (w - t->last_flush >= 1.0) {
    sk_session_flush(t->s);
    t->last_flush = w;
  }
  if (paused)
    return -1;
  sk_time_ns chunk = (sk_time_ns)llround(t->sample_period_s * 1e9);
  if (speed > 0) {
    double due = t->anchor_wall + (now_s(t) - t->anchor_sim) / speed;
    if (due > w)
      return due - w;
    sk_time_ns paced = (sk_time_ns)llround(speed * 0.05 * 1e9);
    if (paced < chunk)
      chunk = paced > 0 ? paced : 1;
  }
  if (sk_session_step_until(t->s, sk_session_now(t->s) + chunk) != SK_OK) {
    finish(t, "failed");
    return -1;
  }
  publish_ready(t, 0);
  return 0;
}

/* ---- the ops ----------------------------------------------------------------------------- */

static int post(live *t, sk_command_kind kind, const char *key, const char *value,
                const char *field, sk__api_error *e) {
  if (t->finished) {
    sk__api_fail(e, SK_APIE_CONFLICT, NULL,
                 "the run has ended (%.0f s simulated); nothing "
                 "can change it now",
                 now_s(t));
    return 0;
  }
  sk_command c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  snprintf(c.key, sizeof c.key, "%s", key);
  snprintf(c.value, sizeof c.value, "%s", value);
  snprintf(c.source, sizeof c.source, "api");
  char err[SK_ERR_LEN];
  sk_status st = sk_session_post(t->s, &c, err, sizeof err);
  if (st == SK_EINVAL) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, field, "%s: %s", field, err);
    return 0;
  }
  if (st != SK_OK) {
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "%s", err);
    return 0;
  }
  return 1;
}

static cJSON *accepted(const char *kind, const char *key, const char *value) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "accepted", 1);
  cJSON *c = cJSON_AddObjectToObject(o, "command");
  cJSON_AddStringToObject(c, "kind", kind);
  cJSON_AddStringToObject(c, "key", key);
  cJSON_AddStringToObject(c, "value", value);
  cJSON_AddStringToObject(o, "applies_at", "the next control boundary");
  return o;
}

static cJSON *op_overview(live *t) {
  sk_session_snapshot_get(t->s, t->snap);
  const sk_session_snapshot *sn = t->snap;
  const sk_scenario *sc = sk_session_scenario(t->s);
  cJSON *o = cJSON_CreateObject();
  char iso[40];
  sk__api_iso(t->start_hour, (double)sn->now_ns * 1e-9, iso, sizeof iso);
  cJSON_AddStringToObject(o, "ts", iso);
  cJSON_AddNumberToObject(o, "sim_time_s", (double)sn->now_ns * 1e-9);
  sk__json_num(o, "j_per_prompt_wh", sn->kpis.wh_per_prompt);
  sk__json_num(o, "latency_p95_ms", sn->kpis.ttft_p95_ms);
  double dev;
  const char *rack;
  int persistent;
  sk__monitor_summary(sn->monitor, sn->have_monitor ? sn->n_racks : 0, &dev, &rack, &persistent);
  sk__json_num(o, "ims_deviation", dev);
  if (sn->have_monitor)
    cJSON_AddStringToObject(o, "mms_state", persistent > 0 ? "persistent" : "transient");
  else
    cJSON_AddNullToObject(o, "mms_state");
  sk__json_num(o, "inlet_compliance_pct", sn->kpis.inlet_compliance_pct);
  sk__json_num(o, "energy_saved_pct", sn->have_cf ? sn->energy_saved_pct : NAN);
  /* beyond the seed */
  sk__json_num(o, "cf_j_per_prompt_wh", sn->have_cf ? sn->cf_kpis.wh_per_prompt : NAN);
  sk__json_num(o, "pue", sn->kpis.pue);
  sk__json_num(o, "latency_p95_ms_window", sn->have_sample ? sn->room.latency_p95_ms : NAN);
  sk__json_num(o, "sla_latency_ms", sc->settings.sla_latency_ms);
  sk__json_num(o, "inlet_max_c", sc->settings.inlet_max_c);
  sk__json_num(o, "max_inlet_c", sn->have_sample ? sn->room.max_inlet_c : NAN);
  cJSON_AddNumberToObject(o, "persistent_racks", persistent);
  if (rack)
    cJSON_AddStringToObject(o, "ims_rack_id", rack);
  cJSON_AddStringToObject(o, "mode", sk_run_mode_name(sn->mode));
  cJSON_AddBoolToObject(o, "kill_switch", sn->kill_switch);
  cJSON_AddBoolToObject(o, "paused", sn->paused);
  if (sn->speed > 0)
    cJSON_AddNumberToObject(o, "speed", sn->speed);
  else
    cJSON_AddStringToObject(o, "speed", "max");
  cJSON_AddBoolToObject(o, "done", t->finished);
  cJSON_AddNumberToObject(o, "end_sim_time_s", (double)sn->end_ns * 1e-9);
  cJSON *a = cJSON_AddObjectToObject(o, "actions");
  cJSON_AddNumberToObject(a, "proposed", sn->control.proposals);
  cJSON_AddNumberToObject(a, "applied", sn->control.applied);
  cJSON_AddNumberToObject(a, "advised", sn->control.advised);
  cJSON_AddNumberToObject(a, "rejected", sn->control.rejected);
  cJSON_AddNumberToObject(a, "rolled_back", sn->control.rolled_back);
  cJSON_AddNumberToObject(o, "commands_applied", (double)sn->commands_applied);
  /* the samples of POST /telemetry: the posted stream's own IMS/MMS, as the kpis frame's */
  cJSON *tel = cJSON_AddObjectToObject(o, "telemetry");
  cJSON_AddNumberToObject(tel, "samples_accepted", (double)t->n_telemetry);
  cJSON_AddNumberToObject(tel, "samples_applied", (double)t->tel_applied);
  double tdev = NAN;
  const char *trk = NULL;
  int tpers = 0, tany = 0;
  for (int i = 0; i < t->n_rack_ids; i++) {
    const sk_monitor_record *m = &t->tel_mon[i];
    if (!m->rack_id[0])
      continue;
    tany = 1;
    tpers += m->state == 1;
    if (isfinite(m->deviation) && (isnan(tdev) || m->deviation > tdev)) {
      tdev = m->deviation;
      trk = t->rack_ids[i];
    }
  }
  sk__json_num(tel, "deviation", tdev);
  if (!isnan(tdev))
    cJSON_AddStringToObject(tel, "mms_state", tpers > 0 ? "persistent" : "transient");
  else
    cJSON_AddNullToObject(tel, "mms_state");
  if (trk)
    cJSON_AddStringToObject(tel, "rack_id", trk);
  else
    cJSON_AddNullToObject(tel, "rack_id");
  cJSON_AddNumberToObject(tel, "persistent_racks", tany ? tpers : 0);
  return o;
}

static cJSON *op_mode_get(live *t) {
  sk_session_snapshot_get(t->s, t->snap);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "mode", sk_run_mode_name(t->snap->mode));
  cJSON_AddBoolToObject(o, "kill_switch", t->snap->kill_switch);
  if (t->requested_mode[0])
    cJSON_AddStringToObject(o, "requested", t->requested_mode);
  else
    cJSON_AddNullToObject(o, "requested");
  return o;
}

static cJSON *op_mode_set(live *t, const cJSON *args, sk__api_error *e) {
  static const char *const allowed[] = {"mode", NULL};
  const char *mode;
  if (!sk__args_only(args, allowed, e) || sk__arg_string(args, "mode", 1, &mode, e) != 1)
    return NULL;
  sk_run_mode m;
  if (strcmp(mode, "on") != 0 && sk_run_mode_parse(mode, NULL, &m) != SK_OK) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "mode",
                 "mode: '%s' is not off, on, advisory or closed_loop", mode);
    return NULL;
  }
  if (!post(t, SK_CMD_MODE, "", mode, "mode", e))
    return NULL;
  snprintf(t->requested_mode, sizeof t->requested_mode, "%s", mode);
  cJSON *o = accepted("mode", "", mode);
  cJSON_AddStringToObject(o, "mode", mode);
  return o;
}

static cJSON *op_kill_switch(live *t, const cJSON *args, sk__api_error *e) {
  static const char *const allowed[] = {"enabled", NULL};
  int on;
  if (!sk__args_only(args, allowed, e) || sk__arg_bool(args, "enabled", 1, &on, e) != 1)
    return NULL;
  if (!post(t, SK_CMD_KILL_SWITCH, "", on ? "true" : "false", "enabled", e))
    return NULL;
  cJSON *o = accepted("kill_switch", "", on ? "true" : "false");
  cJSON_AddBoolToObject(o, "kill_switch", on);
  return o;
}

static cJSON *op_set(live *t, const cJSON *args, sk__api_error *e) {
  static const char *const allowed[] = {"key", "value", NULL};
  const char *key, *value;
  if (!sk__args_only(args, allowed, e) || sk__arg_string(args, "key", 1, &key, e) != 1 ||
      sk__arg_string(args, "value", 1, &value, e) != 1)
    return NULL;
  if (!post(t, SK_CMD_SET, key, value, "key", e))
    return NULL;
  return accepted("set", key, value);
}

/* The seed's action names: a lever's name, or increase_/decrease_/reduce_/raise_/lower_
 * and the lever's name (fan_rpm for crah_fan_speed) with the delta's size. */
static int lever_of(const char *action, char *lever, size_t len, int *sign) {
  static const struct {
    const char *prefix;
    int sign;
  } pre[] = {{"increase_", 1}, {"raise_", 1},  {"decrease_", -1},
             {"reduce_", -1},  {"lower_", -1}, {"", 0}};
  for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) {
    size_t n = strlen(pre[i].prefix);
    if (strncmp(action, pre[i].prefix, n) != 0)
      continue;
    const char *rest = action + n;
    if (strcmp(rest, "fan_rpm") == 0 || strcmp(rest, "fan_speed") == 0)
      rest = "crah_fan_speed";
    if (strcmp(rest, "pump_rpm") == 0)
      rest = "pump_speed";
    for (int k = 0; k < SK_ACT_KIND_COUNT; k++)
      if (strcmp(rest, sk_action_name((sk_action_kind)k)) == 0) {
        snprintf(lever, len, "%s", rest);
        *sign = pre[i].sign;
        return 1;
      }
  }
  return 0;
}

static cJSON *op_apply(live *t, const cJSON *args, sk__api_error *e) {
  static const char *const allowed[] = {"action",          "params",  "target", "reason",
                                        "pred_saving_pct", "execute", "delta",  NULL};
  const char *action, *target = "room", *reason = NULL;
  double pred = 0, delta = NAN;
  int execute = -1;
  if (!sk__args_only(args, allowed, e) || sk__arg_string(args, "action", 1, &action, e) != 1 ||
      sk__arg_string(args, "target", 0, &target, e) < 0 ||
      sk__arg_string(args, "reason", 0, &reason, e) < 0 ||
      sk__arg_number(args, "pred_saving_pct", 0, &pred, e) < 0 ||
      sk__arg_bool(args, "execute", 0, &execute, e) < 0 ||
      sk__arg_number(args, "delta", 0, &delta, e) < 0)
    return NULL;
  char lever[48];
  int sign;
  if (!lever_of(action, lever, sizeof lever, &sign)) {
    char list[512] = "";
    for (int k = 0; k < SK_ACT_KIND_COUNT; k++) {
      size_t u = strlen(list);
      snprintf(list + u, sizeof list - u, "%s%s", k ? ", " : "", sk_action_name((sk_action_kind)k));
    }
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "action",
                 "action: unknown action '%s' (a lever: %s; or increase_/decrease_ and a lever)",
                 action, list);
    return NULL;
  }
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(args, "params");
  if (params && !cJSON_IsNull(params)) {
    if (!cJSON_IsObject(params)) {
      sk__api_fail(e, SK_APIE_INVALID_FIELD, "params", "params: expected an object");
      return NULL;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, params) {
      char field[80];
      snprintf(field, sizeof field, "params.%s", m->string);
      if (strncmp(m->string, "delta", 5) != 0) {
        sk__api_fail(e, SK_APIE_UNKNOWN_FIELD, field,
                     "%s: unknown field (params takes delta, or delta_<unit> such as delta_ms)",
                     field);
        return NULL;
      }
      if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble)) {
        sk__api_fail(e, SK_APIE_INVALID_FIELD, field, "%s: expected a number", field);
        return NULL;
      }
      if (!isnan(delta)) {
        sk__api_fail(e, SK_APIE_INVALID_FIELD, field, "%s: a second delta (give one)", field);
        return NULL;
      }
      delta = m->valuedouble;
    }
  }
  if (isnan(delta)) {
    sk__api_fail(
        e, SK_APIE_MISSING_FIELD, "params.delta",
        "params.delta: required (the lever's change in its unit, e.g. {\"delta_ms\": 30})");
    return NULL;
  }
  if (sign != 0)
    delta = sign * fabs(delta);
  const char *tg = target;
  if (strcmp(tg, "system") == 0 || tg[0] == 0)
    tg = "room";
  if (strncmp(tg, "row ", 4) == 0)
    tg += 4;
  if (strlen(tg) > 15 || strchr(tg, ' ')) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "target",
                 "target: '%s' is not room, a row (\"C\" or \"row C\") or a rack id", target);
    return NULL;
  }
  sk_session_snapshot_get(t->s, t->snap);
  if (execute < 0)
    execute = t->snap->mode == SK_RUN_CLOSED_LOOP;
  char value[SK_CMD_VALUE_LEN];
  snprintf(value, sizeof value, "%s %.17g", tg, delta);
  sk_command_kind kind = execute ? SK_CMD_APPLY : SK_CMD_RECOMMEND;
  if (!post(t, kind, lever, value, "target", e)) {
    /* the session's words say whether the target or the delta is at fault */
    if (strstr(e->message, "not \"TARGET DELTA\"") || strstr(e->message, "delta"))
      snprintf(e->field, sizeof e->field, "params.delta");
    return NULL;
  }
  cJSON *o = accepted(sk_command_kind_name(kind), lever, value);
  cJSON_AddBoolToObject(o, "executed", execute);
  cJSON_AddStringToObject(o, "action", lever);
  cJSON_AddStringToObject(o, "target", tg);
  cJSON_AddNumberToObject(o, "delta", delta);
  if (reason)
    cJSON_AddStringToObject(o, "reason", reason);
  return o;
}

static cJSON *op_demo(live *t, const cJSON *args, sk__api_error *e) {
  static const char *const allowed[] = {"scenario", "action", "duration_s", NULL};
  const char *name, *action = "start";
  double dur = 0;
  if (!sk__args_only(args, allowed, e) || sk__arg_string(args, "scenario", 1, &name, e) != 1 ||
      sk__arg_string(args, "action", 0, &action, e) < 0 ||
      sk__arg_number(args, "duration_s", 0, &dur, e) < 0)
    return NULL;
  int start = strcmp(action, "start") == 0;
  if (!start && strcmp(action, "stop") != 0) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "action", "action: '%s' is not start or stop", action);
    return NULL;
  }
  if (dur < 0 || dur > 3.2e7) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "duration_s",
                 "duration_s: %g s is outside [0, 32000000]", dur);
    return NULL;
  }
  const sk_scenario *sc = sk_session_scenario(t->s);
  int found = 0;
  for (int i = 0; i < sc->n_effects; i++)
    found |= strcmp(sc->effects[i].name, name) == 0;
  if (!found) {
    char names[512] = "";
    for (int i = 0; i < sc->n_effects; i++) {
      size_t u = strlen(names);
      snprintf(names + u, sizeof names - u, "%s%s", i ? ", " : "", sc->effects[i].name);
    }
    sk__api_fail(e, SK_APIE_NOT_FOUND, "scenario",
                 "scenario: no demo scenario '%s' in this run (it has: %s)", name,
                 names[0] ? names : "none");
    return NULL;
  }
  char value[32] = "";
  if (start && dur > 0)
    snprintf(value, sizeof value, "%.17g", dur);
  if (!post(t, start ? SK_CMD_EFFECT_START : SK_CMD_EFFECT_STOP, name, value, "scenario", e))
    return NULL;
  cJSON *o = accepted(start ? "effect_start" : "effect_stop", name, value);
  cJSON_AddStringToObject(o, "scenario", name);
  cJSON_AddStringToObject(o, "action", action);
  if (start && dur > 0)
    cJSON_AddNumberToObject(o, "duration_s", dur);
  return o;
}

static cJSON *demo_list(const sk_scenario *sc, const sk__store *st, double now) {
  cJSON *active = sk__store_active_effects(st, now);
  cJSON *o = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(o, "scenarios");
  cJSON *names = cJSON_AddArrayToObject(o, "active");
  for (int i = 0; i < sc->n_effects; i++) {
    const sk_effect *ef = &sc->effects[i];
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "name", ef->name);
    cJSON_AddStringToObject(x, "effect", sk_effect_kind_name(ef->kind));
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(active, ef->name);
    cJSON_AddBoolToObject(x, "active", since != NULL);
    if (since)
      cJSON_AddNumberToObject(x, "since_sim_time_s", since->valuedouble);
    else
      cJSON_AddNullToObject(x, "since_sim_time_s");
    /* a demo effect the timeline lacks waits for a command: no schedule */
    int by_command = ef->start_s > sc->duration_s;
    sk__json_num(x, "scheduled_start_s", by_command ? NAN : ef->start_s);
    sk__json_num(x, "scheduled_stop_s", by_command ? NAN : ef->stop_s);
    cJSON_AddBoolToObject(x, "in_timeline", !by_command);
    cJSON_AddItemToArray(arr, x);
    if (since)
      cJSON_AddItemToArray(names, cJSON_CreateString(ef->name));
  }
  cJSON_Delete(active);
  return o;
}

static int known_rack(const live *t, const char *id) {
  for (int i = 0; i < t->n_rack_ids; i++)
    if (strcmp(t->rack_ids[i], id) == 0)
      return 1;
  return 0;
}

/* POST /telemetry: every sample checked before any is kept (all or nothing). */
static cJSON *op_telemetry(live *t, const cJSON *args, sk__api_error *e) {
  static const char *const allowed[] = {"samples", NULL};
  if (!sk__args_only(args, allowed, e))
    return NULL;
  const cJSON *samples = cJSON_GetObjectItemCaseSensitive(args, "samples");
  if (!samples) {
    sk__api_fail(e, SK_APIE_MISSING_FIELD, "samples", "samples: required (an array of samples)");
    return NULL;
  }
  if (!cJSON_IsArray(samples)) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "samples", "samples: expected an array");
    return NULL;
  }
  int n = cJSON_GetArraySize(samples);
  if (n < 1 || n > 10000) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "samples",
                 "samples: %d samples; a batch holds 1 to 10000", n);
    return NULL;
  }
  if (t->n_telemetry + (size_t)n > MAX_TELEMETRY) {
    sk__api_fail(e, SK_APIE_CONFLICT, "samples", "samples: a run takes %d samples at most",
                 MAX_TELEMETRY);
    return NULL;
  }
  if (t->finished) {
    sk__api_fail(e, SK_APIE_CONFLICT, NULL,
                 "the run has ended (%.0f s simulated); its recording takes no more samples",
                 now_s(t));
    return NULL;
  }
  static const struct {
    const char *name;
    size_t off;
    double lo, hi;
  } nums[] = {
      {"inlet_c", offsetof(sk_rack_sample, inlet_c), -20, 100},
      {"outlet_c", offsetof(sk_rack_sample, outlet_c), -20, 120},
      {"pdu_kw", offsetof(sk_rack_sample, pdu_kw), 0, 500},
      {"gpu_energy_j", offsetof(sk_rack_sample, gpu_energy_j), 0, 1e12},
      {"tokens_ps", offsetof(sk_rack_sample, tokens_ps), 0, 1e9},
      {"latency_p95_ms", offsetof(sk_rack_sample, latency_p95_ms), 0, 3.6e6},
      {"fan_rpm_pct", offsetof(sk_rack_sample, fan_rpm_pct), 0, 100},
      {"pump_rpm_pct", offsetof(sk_rack_sample, pump_rpm_pct), 0, 100},
  };
  sk_rack_sample *rows = calloc((size_t)n, sizeof *rows);
  if (!rows) {
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "out of memory");
    return NULL;
  }
  int i = 0;
  const cJSON *smp;
  cJSON_ArrayForEach(smp, samples) {
    char f[96];
    sk_rack_sample *r = &rows[i];
    if (!cJSON_IsObject(smp)) {
      snprintf(f, sizeof f, "samples[%d]", i);
      sk__api_fail(e, SK_APIE_INVALID_FIELD, f, "%s: expected an object", f);
      goto bad;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, smp) {
      int ok = strcmp(m->string, "ts") == 0 || strcmp(m->string, "rack_id") == 0 ||
               strcmp(m->string, "queue_depth") == 0;
      for (size_t k = 0; k < sizeof nums / sizeof *nums; k++)
        ok |= strcmp(m->string, nums[k].name) == 0;
      if (!ok) {
        snprintf(f, sizeof f, "samples[%d].%s", i, m->string);
        sk__api_fail(e, SK_APIE_UNKNOWN_FIELD, f,
                     "%s: unknown field (a sample takes ts, rack_id, "
                     "inlet_c, outlet_c, pdu_kw, gpu_energy_j, tokens_ps, latency_p95_ms, "
                     "fan_rpm_pct, pump_rpm_pct, queue_depth)",
                     f);
        goto bad;
      }
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(smp, "rack_id");
    snprintf(f, sizeof f, "samples[%d].rack_id", i);
    if (!id) {
      sk__api_fail(e, SK_APIE_MISSING_FIELD, f, "%s: required", f);
      goto bad;
    }
    if (!cJSON_IsString(id) || !known_rack(t, id->valuestring)) {
      sk__api_fail(
          e, SK_APIE_INVALID_FIELD, f,
          "%s: %s%s%s is not a rack of this room (R-A-01 .. R-%c-%02d); telemetry of "
          "new racks is not taken",
          f, cJSON_IsString(id) ? "'" : "", cJSON_IsString(id) ? id->valuestring : "a non-string",
          cJSON_IsString(id) ? "'" : "", t->n_rack_ids ? t->rack_ids[t->n_rack_ids - 1][2] : 'A',
          t->n_rack_ids ? atoi(t->rack_ids[t->n_rack_ids - 1] + 4) : 0);
      goto bad;
    }
    snprintf(r->rack_id, sizeof r->rack_id, "%s", id->valuestring);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(smp, "ts");
    snprintf(f, sizeof f, "samples[%d].ts", i);
    if (!ts) {
      sk__api_fail(e, SK_APIE_MISSING_FIELD, f, "%s: required", f);
      goto bad;
    }
    if (!sk__api_time_arg(ts, t->start_hour, f, &r->ts, e))
      goto bad;
    for (size_t k = 0; k < sizeof nums / sizeof *nums; k++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(smp, nums[k].name);
      double x = NAN;
      snprintf(f, sizeof f, "samples[%d].%s", i, nums[k].name);
      if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
          sk__api_fail(e, SK_APIE_INVALID_FIELD, f, "%s: expected a number", f);
          goto bad;
        }
        x = v->valuedouble;
        if (x < nums[k].lo || x > nums[k].hi) {
          sk__api_fail(e, SK_APIE_INVALID_FIELD, f, "%s: %g is outside [%g, %g]", f, x, nums[k].lo,
                       nums[k].hi);
          goto bad;
        }
      }
      memcpy((char *)r + nums[k].off, &x, sizeof x);
    }
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(smp, "queue_depth");
    r->queue_depth = -1; /* not measured */
    if (q && !cJSON_IsNull(q)) {
      snprintf(f, sizeof f, "samples[%d].queue_depth", i);
      if (!cJSON_IsNumber(q) || q->valuedouble < 0 || q->valuedouble > 1e9 ||
          q->valuedouble != floor(q->valuedouble)) {
        sk__api_fail(e, SK_APIE_INVALID_FIELD, f, "%s: expected a whole number >= 0", f);
        goto bad;
      }
      r->queue_depth = (int32_t)q->valuedouble;
    }
    i++;
  }
  /* into the run: queued whole as telemetry commands (recorded in /commands at the next
   * boundary, scored there by the run's IMS and the posted stream's MMS) */
  char err[SK_ERR_LEN];
  sk_status st = sk_session_post_telemetry(t->s, rows, (size_t)n, "api", err, sizeof err);
  if (st != SK_OK) {
    sk__api_fail(e, st == SK_EINVAL ? SK_APIE_INVALID_FIELD : SK_APIE_INTERNAL,
                 st == SK_EINVAL ? "samples" : NULL, "samples: %s", err);
    goto bad;
  }
  t->n_telemetry += (size_t)n;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "accepted", n);
  cJSON_AddNumberToObject(o, "stored_total", (double)t->n_telemetry);
  cJSON_AddStringToObject(o, "applies_at", "the next control boundary");
  cJSON_AddBoolToObject(o, "recorded", sk_session_recording(t->s) != NULL);
  /* scored by the newest model trained through POST /ims/train, when there is one */
  char id[32];
  const sk_ims_model *m = sk__ims_jobs_latest(t->ims, id, sizeof id);
  if (m) {
    cJSON *ims = cJSON_AddObjectToObject(o, "ims");
    cJSON_AddStringToObject(ims, "model_id", id);
    sk__json_num(ims, "tau_fast", m->tau_fast);
    sk__json_num(ims, "tau_persist", m->tau_persist);
    cJSON *dev = cJSON_AddArrayToObject(ims, "deviation");
    for (int k = 0; k < n; k++) {
      double v[SK_IMS_N_RACK_FEATURES], x[SK_IMS_MAX_FEATURES];
      sk_ims_rack_vector(&rows[k], t->sample_period_s, v);
      for (int f = 0; f < m->n_features; f++) {
        int idx = sk_ims_rack_feature_index(m->feature[f]);
        x[f] = idx >= 0 ? v[idx] : NAN; /* NaN: scored as the training mean */
        if (rows[k].queue_depth < 0 && idx == sk_ims_rack_feature_index("queue_depth"))
          x[f] = NAN;
      }
      double d = sk_ims_score(m, x, NULL, NULL);
      cJSON_AddItemToArray(dev, isfinite(d) ? cJSON_CreateNumber(d) : cJSON_CreateNull());
    }
  }
  free(rows);
  return o;
bad:
  free(rows);
  return NULL;
}

static cJSON *op_report(live *t, sk__api_error *e) {
  const char *path = sk_session_recording(t->s);
  if (!path) {
    sk__api_fail(e, SK_APIE_CONFLICT, NULL,
                 "this run has no recording to report on (serve it with --out)");
    return NULL;
  }
  if (!t->finished)
    sk_session_flush(t->s);
  cJSON *rep = NULL;
  char err[SK_ERR_LEN];
  if (sk_report_build(path, &rep, err, sizeof err) != SK_OK) {
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "report: %s", err);
    return NULL;
  }
  return rep;
}

static cJSON *op_pace(live *t, const cJSON *args, sk__api_error *e) {
  static const char *const allowed[] = {"paused", "speed", "seek", NULL};
  if (!sk__args_only(args, allowed, e))
    return NULL;
  int paused = -1;
  if (sk__arg_bool(args, "paused", 0, &paused, e) < 0)
    return NULL;
  if (cJSON_GetObjectItemCaseSensitive(args, "seek")) {
    sk__api_fail(e, SK_APIE_CONFLICT, "seek", "seek: a live run cannot seek (a replay can)");
    return NULL;
  }
  const cJSON *sp = cJSON_GetObjectItemCaseSensitive(args, "speed");
  char speed[32] = "";
  if (sp) {
    double f;
    if (cJSON_IsNumber(sp) && sp->valuedouble > 0 && isfinite(sp->valuedouble))
      snprintf(speed, sizeof speed, "%.17g", sp->valuedouble);
    else if (cJSON_IsString(sp) && sk_parse_speed(sp->valuestring, &f))
      snprintf(speed, sizeof speed, "%s", sp->valuestring);
    else {
      sk__api_fail(e, SK_APIE_INVALID_FIELD, "speed",
                   "speed: expected \"max\", a factor such as \"60x\", or a positive number");
      return NULL;
    }
  }
  if (speed[0] && !post(t, SK_CMD_SPEED, "", speed, "speed", e))
    return NULL;
  if (paused >= 0 && !post(t, SK_CMD_PAUSE, "", paused ? "true" : "false", "paused", e))
    return NULL;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "paused", sk_session_paused(t->s));
  double s = sk_session_speed(t->s);
  if (s > 0)
    cJSON_AddNumberToObject(o, "speed", s);
  else
    cJSON_AddStringToObject(o, "speed", "max");
  cJSON_AddNumberToObject(o, "sim_time_s", now_s(t));
  return o;
}

static cJSON *op_status(live *t, sk__srv *srv) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "kind", "live");
  cJSON_AddNumberToObject(o, "protocol", SK_API_PROTOCOL_VERSION);
  cJSON_AddStringToObject(o, "version", SKADI_VERSION);
  cJSON_AddStringToObject(o, "scenario", sk_session_scenario(t->s)->name);
  cJSON_AddNumberToObject(o, "sim_time_s", now_s(t));
  cJSON_AddNumberToObject(o, "end_sim_time_s", (double)sk_session_end(t->s) * 1e-9);
  cJSON_AddNumberToObject(o, "start_hour", t->start_hour);
  cJSON_AddNumberToObject(o, "sample_period_s", t->sample_period_s);
  cJSON_AddBoolToObject(o, "done", t->finished);
  cJSON_AddBoolToObject(o, "paused", sk_session_paused(t->s));
  double s = sk_session_speed(t->s);
  if (s > 0)
    cJSON_AddNumberToObject(o, "speed", s);
  else
    cJSON_AddStringToObject(o, "speed", "max");
  cJSON_AddNumberToObject(o, "frames", (double)sk__srv_frames(srv));
  cJSON_AddNumberToObject(o, "samples", (double)sk__store_samples(t->store));
  const char *rec = sk_session_recording(t->s);
  if (rec)
    cJSON_AddStringToObject(o, "recording", rec);
  else
    cJSON_AddNullToObject(o, "recording");
  cJSON_AddStringToObject(o, "error", sk_session_error(t->s));
  return o;
}

static int no_args(const cJSON *args, sk__api_error *e) {
  static const char *const none[] = {NULL};
  return sk__args_only(args, none, e);
}

/* POST /optimizer/tick: a slow tick now.  The command is recorded like any other (a re-run
 * ticks at the same boundary) and the twin is stepped to that boundary at once -- at most
 * one control interval of sim time ahead of the pace, which the next ticks absorb; a
 * paused twin advances by that interval -- so the answer is the tick it asked for. */
static cJSON *op_optimizer_tick(live *t, sk__api_error *e) {
  char why[SK_ERR_LEN];
  if (!t->finished && sk_session_tick_blocked(t->s, why, sizeof why)) {
    sk__api_fail(e, SK_APIE_CONFLICT, NULL, "no optimizer tick now: %s", why);
    return NULL;
  }
  if (!post(t, SK_CMD_OPTIMIZER_TICK, "", "", "op", e))
    return NULL;
  sk_time_ns at = sk_session_next_boundary(t->s);
  if (sk_session_step_until(t->s, at) != SK_OK) {
    finish(t, "failed");
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "the run failed: %s", sk_session_error(t->s));
    return NULL;
  }
  publish_ready(t, 1);
  return sk__store_optimizer_tick(t->store, now_s(t));
}

static cJSON *live_handle(void *ud, sk__srv *srv, const char *op, const cJSON *args,
                          sk__api_error *e) {
  live *t = ud;
  t->srv = srv;
  double now = now_s(t); /* at the end once finished: every row is at or before it */
  if (strcmp(op, "hello") == 0 || strcmp(op, "status") == 0)
    return no_args(args, e) ? op_status(t, srv) : NULL;
  if (strcmp(op, "overview") == 0)
    return no_args(args, e) ? op_overview(t) : NULL;
  if (strcmp(op, "heatmap") == 0)
    return sk__store_heatmap(t->store, args, now, e);
  if (strcmp(op, "timeline") == 0)
    return sk__store_timeline(t->store, args, now, e);
  if (strcmp(op, "actions_log") == 0)
    return sk__store_actions_log(t->store, args, now, e);
  if (strcmp(op, "optimizer_tick") == 0)
    return no_args(args, e) ? op_optimizer_tick(t, e) : NULL;
  if (strcmp(op, "mode_get") == 0)
    return no_args(args, e) ? op_mode_get(t) : NULL;
  if (strcmp(op, "mode_set") == 0)
    return op_mode_set(t, args, e);
  if (strcmp(op, "kill_switch") == 0)
    return op_kill_switch(t, args, e);
  if (strcmp(op, "set") == 0)
    return op_set(t, args, e);
  if (strcmp(op, "apply") == 0)
    return op_apply(t, args, e);
  if (strcmp(op, "demo") == 0)
    return op_demo(t, args, e);
  if (strcmp(op, "demo_list") == 0)
    return no_args(args, e) ? demo_list(sk_session_scenario(t->s), t->store, now) : NULL;
  if (strcmp(op, "telemetry") == 0)
    return op_telemetry(t, args, e);
  if (strcmp(op, "report") == 0)
    return no_args(args, e) ? op_report(t, e) : NULL;
  if (strcmp(op, "pace") == 0)
    return op_pace(t, args, e);
  if (strcmp(op, "ims_train") == 0 && cJSON_GetObjectItemCaseSensitive(args, "csv"))
    return sk__ims_jobs_start_csv(t->ims, sk_session_recording(t->s), args, e);
  if (strcmp(op, "ims_train") == 0) {
    const char *rec = sk_session_recording(t->s);
    if (!rec) {
      sk__api_fail(e, SK_APIE_CONFLICT, NULL,
                   "this run keeps no recording to train on (serve it without --no-record)");
      return NULL;
    }
    if (!t->finished)
      sk_session_flush(t->s); /* the rows so far into the file the job reads */
    return sk__ims_jobs_start(t->ims, rec, t->start_hour, now_s(t), args, e);
  }
  if (strcmp(op, "ims_models") == 0)
    return no_args(args, e) ? sk__ims_jobs_list(t->ims, t->start_hour) : NULL;
  sk__api_fail(e, SK_APIE_UNKNOWN_OP, "op", "op: unknown operation '%s'", op);
  return NULL;
}

static void live_stop(void *ud, sk__srv *srv) {
  live *t = ud;
  t->srv = srv;
  finish(t, "interrupted");
}

static const sk__source live_source = {live_tick, live_handle, live_stop};

static sk_status live_free(void *impl) {
  live *t = impl;
  if (!t)
    return SK_OK;
  sk_status st = t->final_status;
  sk__ims_jobs_destroy(t->ims); /* waits for training threads that still read the file */
  sk_session_destroy(t->s);
  sk__store_destroy(t->store);
  free(t->snap);
  free(t->pend);
  free(t->ticks);
  free(t->tel_mon);
  free(t->rack_ids);
  free(t);
  return st;
}

sk_status sk_api_twin_start(sk_api_twin **out, const sk_api_twin_config *cfg, char *err,
                            size_t errlen) {
  *out = NULL;
  live *t = calloc(1, sizeof *t);
  if (!t)
    return SK_ENOMEM;
  t->snap = malloc(sizeof *t->snap);
  t->pend = malloc(PEND_CAP * sizeof *t->pend);
  t->ticks = calloc(TICKS, sizeof *t->ticks);
  if (!t->snap || !t->pend || !t->ticks) {
    live_free(t);
    return SK_ENOMEM;
  }
  sk_status st = sk_session_create(&t->s, cfg->session, err, errlen);
  if (st != SK_OK) {
    live_free(t);
    return st;
  }
  const sk_scenario *sc = sk_session_scenario(t->s);
  t->start_hour = sc->start_hour;
  t->sample_period_s = sc->sample_period_s;
  t->store = sk__store_create(t->start_hour);
  t->ims = sk__ims_jobs_create();
  if (!t->store || !t->ims) {
    live_free(t);
    return SK_ENOMEM;
  }
  sk_session_set_initial_speed(t->s, cfg->speed);
  t->last_speed = -1;
  sk_session_observer obs = {on_sample, on_event, on_action, on_monitor, on_command, NULL, t};
  sk_session_observe(t->s, &obs);
  if (cfg->start_paused) {
    sk_command c = {SK_CMD_PAUSE, "", "true", "api"};
    sk_session_post(t->s, &c, err, errlen);
  }
  /* the room's racks from the scenario, for POST /telemetry before the first sample */
  t->rack_ids = calloc((size_t)(sc->n_rows * sc->racks_per_row), sizeof *t->rack_ids);
  if (!t->rack_ids) {
    live_free(t);
    return SK_ENOMEM;
  }
  t->n_rack_ids = sc->n_rows * sc->racks_per_row;
  if (!(t->tel_mon = calloc((size_t)t->n_rack_ids, sizeof *t->tel_mon))) {
    live_free(t);
    return SK_ENOMEM;
  }
  sk_session_observe_telemetry(t->s, on_telemetry, t);
  for (int i = 0; i < t->n_rack_ids; i++)
    sk_scenario_rack_id(sc, i, t->rack_ids[i]);
  sk_api_twin *h = sk__twin_new(cfg->zmq_ctx);
  if (!h) {
    live_free(t);
    return SK_ENOMEM;
  }
  t->pub = h;
  h->impl = t;
  h->impl_free = live_free;
  st = sk__twin_serve(h, cfg->cmd_endpoint, cfg->pub_endpoint, &live_source, err, errlen);
  if (st == SK_OK)
    *out = h;
  return st;
}

/* ---- the handle (both kinds) ------------------------------------------------------------ */

sk_api_twin *sk__twin_new(void *zctx) {
  sk_api_twin *h = calloc(1, sizeof *h);
  if (!h)
    return NULL;
  h->zctx = zctx;
  if (!h->zctx) {
    h->zctx = zmq_ctx_new();
    h->own_ctx = 1;
  }
  return h;
}

static void handle_free(sk_api_twin *h) {
  if (h->own_ctx)
    zmq_ctx_term(h->zctx);
  free(h);
}

sk_status sk__twin_serve(sk_api_twin *h, const char *cmd_ep, const char *pub_ep,
                         const sk__source *src, char *err, size_t errlen) {
  sk_status st = sk__srv_start(&h->srv, h->zctx, cmd_ep, pub_ep, src, h->impl, err, errlen);
  if (st != SK_OK) {
    h->impl_free(h->impl);
    handle_free(h);
  }
  return st;
}

int sk_api_twin_done(const sk_api_twin *t) {
  return atomic_load(&((sk_api_twin *)t)->done);
}

const char *sk_api_twin_cmd_endpoint(const sk_api_twin *t) {
  return sk__srv_cmd_endpoint(t->srv);
}

const char *sk_api_twin_pub_endpoint(const sk_api_twin *t) {
  return sk__srv_pub_endpoint(t->srv);
}

sk_status sk_api_twin_stop(sk_api_twin *t) {
  if (!t)
    return SK_OK;
  sk__srv_stop(t->srv); /* the source finishes on its thread (the recording) */
  sk_status st = t->impl_free(t->impl);
  handle_free(t);
  return st;
}
