/*
 * replay.c -- a recording served as a twin would serve its run (`skadi replay`): the same
 * frames (proto.c builds them from the recorded rows, as live.c does from the rows as they
 * are made), the same read ops answered as of the playhead, and play, pause, seek and
 * speed through the pace op.  A replay is read-only: the ops that would change a run
 * answer 409.
 *
 * At start the room rows, the heat values of every sample (racks and the monitor's latest
 * tick at or before it) and the action, event and command rows are loaded into a store
 * (store.c): reads by time are memory lookups after that.  Rack and monitor rows for the
 * racks frames are read from the file as the playhead passes them (recording.h reads a
 * sample's rows with one search).  Loading reads every rack row once: about a second per
 * simulated day of the default room.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "skadi/recording.h"
#include "skadi/report.h"
#include "store.h"
#include "twin_int.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif

#define BLOCK 4096

typedef struct {
  sk_api_twin *pub;
  sk_recording *rec;
  char *path;
  double start_hour, sample_period_s;
  int n_racks;
  sk__store *store;
  double *tick_ts; /* per sample: ts of the monitor tick it shows, NaN none */
  size_t n_samples;
  /* playback */
  size_t next;        /* index of the next sample to publish */
  size_t next_row[3]; /* next action, event, command row */
  int paused;
  double speed; /* 0 = max */
  double anchor_wall, anchor_sim;
  char mode[16];
  int kill_switch;
  /* buffers for one sample */
  sk_rack_sample *racks;
  sk_crah_sample crahs[26];
  sk_monitor_record *monitor;
  int n_monitor;
} replay;

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sim time of the playhead: the last sample published (-1 before the first). */
static double playhead(const replay *r) {
  return r->next ? sk__store_room(r->store, r->next - 1)->ts : -1;
}

/* Reads the rows of the monitor tick at ts into r->monitor. */
static sk_status read_tick(replay *r, double ts) {
  r->n_monitor = 0;
  if (isnan(ts))
    return SK_OK;
  uint64_t first, n;
  sk_status st = sk_recording_find_at(r->rec, SK_TABLE_MONITOR, ts, &first, &n);
  if (st != SK_OK)
    return st;
  if (n > (uint64_t)r->n_racks)
    n = (uint64_t)r->n_racks;
  if (n &&
      (st = sk_recording_read(r->rec, SK_TABLE_MONITOR, first, (size_t)n, r->monitor)) != SK_OK)
    return st;
  r->n_monitor = (int)n;
  return SK_OK;
}

/* Loads the store: every sample with its racks and latest monitor tick, and the rows of
 * the audit trail, events and commands. */
static sk_status load(replay *r, char *err, size_t errlen) {
  uint64_t n_room, n_racks_rows, n_mon;
  sk_status st;
  if ((st = sk_recording_count(r->rec, SK_TABLE_ROOM, &n_room)) != SK_OK ||
      (st = sk_recording_count(r->rec, SK_TABLE_RACKS, &n_racks_rows)) != SK_OK ||
      (st = sk_recording_count(r->rec, SK_TABLE_MONITOR, &n_mon)) != SK_OK)
    goto fail;
  if (n_room == 0) {
    sk_errf(err, errlen, "%s: the recording has no samples", r->path);
    return SK_EPARSE;
  }
  r->n_racks = (int)(n_racks_rows / n_room);
  if (r->n_racks < 1 || (uint64_t)r->n_racks * n_room != n_racks_rows || r->n_racks > 1664) {
    sk_errf(err, errlen, "%s: /telemetry/racks has %llu rows for %llu samples (not whole samples)",
            r->path, (unsigned long long)n_racks_rows, (unsigned long long)n_room);
    return SK_EPARSE;
  }
  r->racks = malloc((size_t)r->n_racks * sizeof *r->racks);
  r->monitor = malloc((size_t)r->n_racks * sizeof *r->monitor);
  r->tick_ts = malloc((size_t)n_room * sizeof *r->tick_ts);
  sk_room_sample *room = malloc(sizeof *room);
  sk_monitor_record *mblock = malloc(BLOCK * sizeof *mblock);
  if (!r->racks || !r->monitor || !r->tick_ts || !room || !mblock) {
    free(room);
    free(mblock);
    sk_errf(err, errlen, "out of memory");
    return SK_ENOMEM;
  }
  /* walk the monitor rows beside the samples: a sample shows the latest tick at or before
   * it, and that tick is complete once every row up to the sample's ts is read */
  uint64_t mi = 0, mb_first = 0, mb_n = 0;
  double cur_ts = NAN;
  int cur_n = 0;
  for (uint64_t i = 0; i < n_room && st == SK_OK; i++) {
    if ((st = sk_recording_read(r->rec, SK_TABLE_ROOM, i, 1, room)) != SK_OK ||
        (st = sk_recording_read(r->rec, SK_TABLE_RACKS, i * (uint64_t)r->n_racks,
                                (size_t)r->n_racks, r->racks)) != SK_OK)
      break;
    while (mi < n_mon) {
      if (mi >= mb_first + mb_n) {
        mb_first = mi;
        mb_n = n_mon - mi < BLOCK ? n_mon - mi : BLOCK;
        if ((st = sk_recording_read(r->rec, SK_TABLE_MONITOR, mb_first, (size_t)mb_n, mblock)) !=
            SK_OK)
          break;
      }
      const sk_monitor_record *m = &mblock[mi - mb_first];
      if (m->ts > room->ts)
        break;
      if (m->ts != cur_ts) { /* a new tick */
        cur_ts = m->ts;
        cur_n = 0;
      }
      if (cur_n < r->n_racks)
        r->monitor[cur_n++] = *m;
      mi++;
    }
    if (st != SK_OK)
      break;
    r->tick_ts[i] = cur_n > 0 ? cur_ts : NAN;
    if (!sk__store_add_sample(r->store, room, r->racks, r->n_racks, cur_n > 0 ? r->monitor : NULL,
                              cur_n)) {
      st = SK_ENOMEM;
      break;
    }
  }
  free(room);
  free(mblock);
  if (st != SK_OK)
    goto fail;
  r->n_samples = (size_t)n_room;
  static const sk_table_id tables[3] = {SK_TABLE_ACTIONS, SK_TABLE_EVENTS, SK_TABLE_COMMANDS};
  for (int k = 0; k < 3; k++) {
    uint64_t n;
    if ((st = sk_recording_count(r->rec, tables[k], &n)) != SK_OK)
      goto fail;
    size_t size = sk_schema_tables[tables[k]].row_size;
    void *buf = malloc(size);
    if (!buf)
      return SK_ENOMEM;
    for (uint64_t i = 0; i < n && st == SK_OK; i++) {
      st = sk_recording_read(r->rec, tables[k], i, 1, buf);
      if (st == SK_OK) {
        int ok = k == 0   ? sk__store_add_action(r->store, buf)
                 : k == 1 ? sk__store_add_event(r->store, buf)
                          : sk__store_add_command(r->store, buf);
        if (!ok)
          st = SK_ENOMEM;
      }
    }
    free(buf);
    if (st != SK_OK)
      goto fail;
  }
  return SK_OK;
fail:
  sk_errf(err, errlen, "%s", st == SK_ENOMEM ? "out of memory" : sk_recording_error(r->rec));
  return st;
}

/* Publishes the rows with ts <= the sample's and the sample itself. */
static void publish_sample(replay *r, sk__srv *srv, size_t i) {
  const sk_room_sample *room = sk__store_room(r->store, i);
  static const sk_table_id tables[3] = {SK_TABLE_ACTIONS, SK_TABLE_EVENTS, SK_TABLE_COMMANDS};
  static const char *const topic[3] = {"actions", "events", "commands"};
  static const char *const key[3] = {"action", "event", "command"};
  for (int k = 0; k < 3; k++)
    for (; r->next_row[k] < sk__store_count(r->store, tables[k]); r->next_row[k]++) {
      const void *row = sk__store_row(r->store, tables[k], r->next_row[k]);
      double ts;
      memcpy(&ts, row, sizeof ts);
      if (ts > room->ts)
        break;
      sk__srv_publish(srv, topic[k],
                      sk__frame_row(topic[k], key[k], r->start_hour, tables[k], row, ts));
    }
  if (read_tick(r, r->tick_ts[i]) != SK_OK ||
      sk_recording_read(r->rec, SK_TABLE_RACKS, (uint64_t)i * (uint64_t)r->n_racks,
                        (size_t)r->n_racks, r->racks) != SK_OK)
    return;
  uint64_t cf, cn;
  int n_rows = 0;
  if (sk_recording_find_at(r->rec, SK_TABLE_CRAH, room->ts, &cf, &cn) == SK_OK && cn > 0) {
    n_rows = cn > 26 ? 26 : (int)cn;
    if (sk_recording_read(r->rec, SK_TABLE_CRAH, cf, (size_t)n_rows, r->crahs) != SK_OK)
      n_rows = 0;
  }
  sk__frame_in in = {r->start_hour, room, r->n_monitor ? r->monitor : NULL, r->n_monitor,
                     sk__store_last_decision(r->store, room->ts)};
  sk__srv_publish(srv, "kpis", sk__frame_kpis(&in));
  sk__srv_publish(srv, "racks",
                  sk__frame_racks(r->start_hour, room, r->racks, r->n_racks, r->crahs, n_rows,
                                  in.monitor, in.n_monitor));
}

static void reanchor(replay *r) {
  r->anchor_wall = wall_now();
  r->anchor_sim = playhead(r) < 0 ? 0 : playhead(r);
}

static double replay_tick(void *ud, sk__srv *srv) {
  replay *r = ud;
  if (r->next >= r->n_samples) {
    atomic_store(&r->pub->done, 1);
    return -1;
  }
  if (r->paused)
    return -1;
  if (r->speed <= 0) { /* as fast as possible, a few samples a turn */
    for (int k = 0; k < 16 && r->next < r->n_samples; k++)
      publish_sample(r, srv, r->next++);
    return 0;
  }
  double due_sim = r->anchor_sim + (wall_now() - r->anchor_wall) * r->speed;
  while (r->next < r->n_samples && sk__store_room(r->store, r->next)->ts <= due_sim)
    publish_sample(r, srv, r->next++);
  if (r->next >= r->n_samples)
    return 0;
  double wait = (sk__store_room(r->store, r->next)->ts - due_sim) / r->speed;
  return wait > 0 ? wait : 0;
}

static cJSON *op_status(replay *r, sk__srv *srv) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "kind", "replay");
  cJSON_AddNumberToObject(o, "protocol", SK_API_PROTOCOL_VERSION);
  cJSON_AddStringToObject(o, "version", SKADI_VERSION);
  const sk_recording_meta *m = sk_recording_metadata(r->rec);
  cJSON_AddStringToObject(o, "scenario", m->scenario_name ? m->scenario_name : "");
  double ph = playhead(r);
  cJSON_AddNumberToObject(o, "sim_time_s", ph < 0 ? 0 : ph);
  cJSON_AddNumberToObject(o, "end_sim_time_s", sk__store_room(r->store, r->n_samples - 1)->ts);
  cJSON_AddNumberToObject(o, "start_hour", r->start_hour);
  cJSON_AddNumberToObject(o, "sample_period_s", r->sample_period_s);
  cJSON_AddBoolToObject(o, "done", r->next >= r->n_samples);
  cJSON_AddBoolToObject(o, "paused", r->paused);
  if (r->speed > 0)
    cJSON_AddNumberToObject(o, "speed", r->speed);
  else
    cJSON_AddStringToObject(o, "speed", "max");
  cJSON_AddNumberToObject(o, "frames", (double)sk__srv_frames(srv));
  cJSON_AddNumberToObject(o, "samples", (double)r->n_samples);
  cJSON_AddStringToObject(o, "recording", r->path);
  cJSON_AddStringToObject(o, "error", "");
  return o;
}

static cJSON *op_overview(replay *r, sk__api_error *e) {
  if (r->next == 0) {
    sk__api_fail(e, SK_APIE_CONFLICT, NULL, "the replay has not played a sample yet (POST /pace)");
    return NULL;
  }
  size_t i = r->next - 1;
  const sk_room_sample *room = sk__store_room(r->store, i);
  if (read_tick(r, r->tick_ts[i]) != SK_OK) {
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "%s", sk_recording_error(r->rec));
    return NULL;
  }
  cJSON *o = cJSON_CreateObject();
  char iso[40];
  sk__api_iso(r->start_hour, room->ts, iso, sizeof iso);
  cJSON_AddStringToObject(o, "ts", iso);
  cJSON_AddNumberToObject(o, "sim_time_s", room->ts);
  sk__json_num(o, "j_per_prompt_wh", room->j_per_prompt_wh_cum);
  sk__json_num(o, "latency_p95_ms", room->latency_p95_ms);
  double dev;
  const char *rack;
  int persistent;
  sk__monitor_summary(r->monitor, r->n_monitor, &dev, &rack, &persistent);
  sk__json_num(o, "ims_deviation", dev);
  if (r->n_monitor)
    cJSON_AddStringToObject(o, "mms_state", persistent ? "persistent" : "transient");
  else
    cJSON_AddNullToObject(o, "mms_state");
  sk__json_num(o, "inlet_compliance_pct", room->inlet_compliance_pct);
  cJSON_AddNullToObject(o, "energy_saved_pct"); /* per sample it is not recorded */
  sk__json_num(o, "pue", room->pue);
  sk__json_num(o, "max_inlet_c", room->max_inlet_c);
  cJSON_AddNumberToObject(o, "persistent_racks", persistent);
  cJSON_AddStringToObject(o, "mode", r->mode);
  cJSON_AddBoolToObject(o, "kill_switch", r->kill_switch);
  cJSON_AddBoolToObject(o, "paused", r->paused);
  if (r->speed > 0)
    cJSON_AddNumberToObject(o, "speed", r->speed);
  else
    cJSON_AddStringToObject(o, "speed", "max");
  cJSON_AddBoolToObject(o, "done", r->next >= r->n_samples);
  cJSON_AddBoolToObject(o, "replay", 1);
  return o;
}

static cJSON *op_pace(replay *r, sk__srv *srv, const cJSON *args, sk__api_error *e) {
  static const char *const allowed[] = {"paused", "speed", "seek", NULL};
  if (!sk__args_only(args, allowed, e))
    return NULL;
  int paused = -1;
  if (sk__arg_bool(args, "paused", 0, &paused, e) < 0)
    return NULL;
  const cJSON *sp = cJSON_GetObjectItemCaseSensitive(args, "speed");
  double speed = r->speed;
  if (sp) {
    if (cJSON_IsNumber(sp) && sp->valuedouble > 0 && isfinite(sp->valuedouble))
      speed = sp->valuedouble;
    else if (!(cJSON_IsString(sp) && sk_parse_speed(sp->valuestring, &speed))) {
      sk__api_fail(e, SK_APIE_INVALID_FIELD, "speed",
                   "speed: expected \"max\", a factor such as \"60x\", or a positive number");
      return NULL;
    }
  }
  const cJSON *sk = cJSON_GetObjectItemCaseSensitive(args, "seek");
  double seek = NAN;
  if (sk && !sk__api_time_arg(sk, r->start_hour, "seek", &seek, e))
    return NULL;
  /* checked: now change */
  r->speed = speed;
  if (paused >= 0)
    r->paused = paused;
  if (!isnan(seek)) {
    size_t lo = 0, hi = r->n_samples;
    while (lo < hi) { /* first sample with ts >= seek */
      size_t mid = (lo + hi) / 2;
      if (sk__store_room(r->store, mid)->ts < seek - 1e-6) /* 30 s finds 30.000000000000004 */
        lo = mid + 1;
      else
        hi = mid;
    }
    /* the playhead goes to the first sample at or after seek, which is published now (a
     * client sees that moment at once); the rows up to it count as published */
    if (lo >= r->n_samples)
      lo = r->n_samples - 1;
    double at = sk__store_room(r->store, lo)->ts;
    static const sk_table_id tables[3] = {SK_TABLE_ACTIONS, SK_TABLE_EVENTS, SK_TABLE_COMMANDS};
    for (int k = 0; k < 3; k++)
      r->next_row[k] = sk__store_lower(r->store, tables[k], nextafter(at, INFINITY));
    publish_sample(r, srv, lo);
    r->next = lo + 1;
    atomic_store(&r->pub->done, r->next >= r->n_samples);
  }
  reanchor(r);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "paused", r->paused);
  if (r->speed > 0)
    cJSON_AddNumberToObject(o, "speed", r->speed);
  else
    cJSON_AddStringToObject(o, "speed", "max");
  double ph = playhead(r);
  cJSON_AddNumberToObject(o, "sim_time_s", ph < 0 ? 0 : ph);
  return o;
}

static int no_args(const cJSON *args, sk__api_error *e) {
  static const char *const none[] = {NULL};
  return sk__args_only(args, none, e);
}

static cJSON *replay_handle(void *ud, sk__srv *srv, const char *op, const cJSON *args,
                            sk__api_error *e) {
  replay *r = ud;
  double now = playhead(r);
  if (strcmp(op, "hello") == 0 || strcmp(op, "status") == 0)
    return no_args(args, e) ? op_status(r, srv) : NULL;
  if (strcmp(op, "overview") == 0)
    return no_args(args, e) ? op_overview(r, e) : NULL;
  if (strcmp(op, "heatmap") == 0)
    return sk__store_heatmap(r->store, args, now, e);
  if (strcmp(op, "timeline") == 0)
    return sk__store_timeline(r->store, args, now, e);
  if (strcmp(op, "actions_log") == 0)
    return sk__store_actions_log(r->store, args, now, e);
  if (strcmp(op, "optimizer_tick") == 0)
    return no_args(args, e) ? sk__store_optimizer_tick(r->store, now) : NULL;
  if (strcmp(op, "mode_get") == 0) {
    if (!no_args(args, e))
      return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mode", r->mode);
    cJSON_AddBoolToObject(o, "kill_switch", r->kill_switch);
    cJSON_AddNullToObject(o, "requested");
    return o;
  }
  if (strcmp(op, "demo_list") == 0) {
    if (!no_args(args, e))
      return NULL;
    cJSON *active = sk__store_active_effects(r->store, now);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "scenarios");
    cJSON *names = cJSON_AddArrayToObject(o, "active");
    const cJSON *m;
    cJSON_ArrayForEach(m, active) {
      cJSON *x = cJSON_CreateObject();
      cJSON_AddStringToObject(x, "name", m->string);
      cJSON_AddBoolToObject(x, "active", 1);
      cJSON_AddNumberToObject(x, "since_sim_time_s", m->valuedouble);
      cJSON_AddItemToArray(arr, x);
      cJSON_AddItemToArray(names, cJSON_CreateString(m->string));
    }
    cJSON_Delete(active);
    return o;
  }
  if (strcmp(op, "report") == 0) {
    if (!no_args(args, e))
      return NULL;
    cJSON *rep = NULL;
    char err[512];
    if (sk_report_build(r->path, &rep, err, sizeof err) != SK_OK) {
      sk__api_fail(e, SK_APIE_INTERNAL, NULL, "report: %s", err);
      return NULL;
    }
    return rep;
  }
  if (strcmp(op, "pace") == 0)
    return op_pace(r, srv, args, e);
  if (strcmp(op, "ims_models") == 0) {
    if (!no_args(args, e))
      return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddArrayToObject(o, "models");
    return o;
  }
  static const char *const writes[] = {"mode_set", "kill_switch", "set",      "apply",
                                       "demo",     "telemetry",   "ims_train"};
  for (size_t i = 0; i < sizeof writes / sizeof *writes; i++)
    if (strcmp(op, writes[i]) == 0) {
      sk__api_fail(e, SK_APIE_CONFLICT, NULL,
                   "a replay is read-only: %s changes a live run (skadi serve)", op);
      return NULL;
    }
  sk__api_fail(e, SK_APIE_UNKNOWN_OP, "op", "op: unknown operation '%s'", op);
  return NULL;
}

static void replay_stop(void *ud, sk__srv *srv) {
  (void)ud;
  (void)srv;
}

static const sk__source replay_source = {replay_tick, replay_handle, replay_stop};

static sk_status replay_free(void *impl) {
  replay *r = impl;
  if (!r)
    return SK_OK;
  sk_recording_close(r->rec);
  sk__store_destroy(r->store);
  free(r->tick_ts);
  free(r->racks);
  free(r->monitor);
  free(r->path);
  free(r);
  return SK_OK;
}

sk_status sk_api_replay_start(sk_api_twin **out, const sk_api_replay_config *cfg, char *err,
                              size_t errlen) {
  *out = NULL;
  replay *r = calloc(1, sizeof *r);
  if (!r)
    return SK_ENOMEM;
  r->path = strdup(cfg->path);
  sk_status st = r->path ? sk_recording_open(&r->rec, cfg->path, err, errlen) : SK_ENOMEM;
  if (st != SK_OK) {
    replay_free(r);
    return st;
  }
  double v;
  r->start_hour = sk_recording_config_f64(r->rec, "start_hour", &v) == SK_OK ? v : 0;
  const sk_recording_meta *m = sk_recording_metadata(r->rec);
  r->sample_period_s = isfinite(m->sample_period_s) ? m->sample_period_s : 10;
  const char *mode = sk_recording_config(r->rec, "run.mode");
  snprintf(r->mode, sizeof r->mode, "%s", mode ? mode : "off");
  const char *ks = sk_recording_config(r->rec, "settings.global_kill_switch");
  r->kill_switch = ks && strcmp(ks, "true") == 0;
  r->store = sk__store_create(r->start_hour);
  if (!r->store) {
    replay_free(r);
    return SK_ENOMEM;
  }
  if ((st = load(r, err, errlen)) != SK_OK) {
    replay_free(r);
    return st;
  }
  r->speed = cfg->speed;
  r->paused = cfg->start_paused;
  reanchor(r);
  sk_api_twin *h = sk__twin_new(cfg->zmq_ctx);
  if (!h) {
    replay_free(r);
    return SK_ENOMEM;
  }
  r->pub = h;
  h->impl = r;
  h->impl_free = replay_free;
  st = sk__twin_serve(h, cfg->cmd_endpoint, cfg->pub_endpoint, &replay_source, err, errlen);
  if (st == SK_OK)
    *out = h;
  return st;
}
