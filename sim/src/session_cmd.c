/*
 * session_cmd.c -- the run session's commands (session.h): names, checking, applying at
 * a control boundary, recording in /commands, and loading a command log to replay (a
 * recording's /commands table or JSON Lines).
 *
 * A posted command is checked against a copy of the effective scenario under the
 * session's lock (a SET is tried on the copy) and queued; the stepping thread applies the
 * queue at the next boundary (sk__session_apply_due), after the log's due commands.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "session_int.h"
#include "skadi/csv.h"
#include "skadi/recorder.h"
#include "skadi/recording.h"

#define MAX_LOG_BYTES (64u << 20) /* a command log larger than this is a mistake */

static const char *const command_names[] = {
#define SK_COMMAND_NAME(id, name) name,
    SK_COMMAND_KINDS(SK_COMMAND_NAME)
#undef SK_COMMAND_NAME
};

const char *sk_command_kind_name(sk_command_kind k) {
  return (unsigned)k < SK_CMD_KIND_COUNT ? command_names[k] : "?";
}

sk_status sk_command_kind_parse(const char *name, sk_command_kind *out) {
  for (int k = 0; k < SK_CMD_KIND_COUNT; k++)
    if (strcmp(name, command_names[k]) == 0) {
      *out = (sk_command_kind)k;
      return SK_OK;
    }
  return SK_EINVAL;
}

static int parse_bool(const char *v, int *out) {
  if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "on") == 0) {
    *out = 1;
    return 1;
  }
  if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "off") == 0) {
    *out = 0;
    return 1;
  }
  return 0;
}

int sk_parse_speed(const char *v, double *out) {
  if (strcmp(v, "max") == 0) {
    *out = 0;
    return 1;
  }
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || errno || !isfinite(x) || x <= 0)
    return 0;
  if (*end == 'x' || *end == 'X')
    end++;
  if (*end)
    return 0;
  *out = x;
  return 1;
}

/* ---- commands: parse and check, apply ------------------------------------------------ */

/* An APPLY command's value "TARGET DELTA": TARGET is "room", a row letter or a rack id. */
static sk_status parse_apply(const sk_scenario *sc, const sk_command *c, sk_action *a, char *err,
                             size_t errlen) {
  int kind = -1;
  for (int k = 0; k < SK_ACT_KIND_COUNT; k++)
    if (strcmp(c->key, sk_action_name((sk_action_kind)k)) == 0)
      kind = k;
  if (kind < 0) {
    sk_errf(err, errlen, "apply: unknown lever '%s'", c->key);
    return SK_EINVAL;
  }
  char target[16], num[SK_CMD_VALUE_LEN], tail;
  double delta;
  if (sscanf(c->value, "%15s %95s %c", target, num, &tail) != 2 ||
      sk_csv_number(num, &delta) != SK_OK) { /* the one strict number reader: no hex, no nan */
    sk_errf(err, errlen, "apply %s: value '%s' is not \"TARGET DELTA\" (e.g. \"C -5\")", c->key,
            c->value);
    return SK_EINVAL;
  }
  static const char *const takes[] = {"room", "a row letter", "a rack id"};
  int t;
  if (sk_action_target_parse(sc, (sk_action_kind)kind, target, &t) != SK_OK) {
    sk_errf(err, errlen, "apply %s: target '%s' does not fit: the lever takes %s", c->key,
            target, takes[sk_action_scope((sk_action_kind)kind)]);
    return SK_EINVAL;
  }
  *a = (sk_action){(sk_action_kind)kind, t, delta};
  return SK_OK;
}

/* ---- telemetry rows ------------------------------------------------------------------- */

/* The measured fields of a posted sample, in the order a row writes them. */
static const struct {
  const char *name;
  size_t off;
} tel_fields[] = {
    {"inlet_c", offsetof(sk_rack_sample, inlet_c)},
    {"outlet_c", offsetof(sk_rack_sample, outlet_c)},
    {"pdu_kw", offsetof(sk_rack_sample, pdu_kw)},
    {"gpu_energy_j", offsetof(sk_rack_sample, gpu_energy_j)},
    {"tokens_ps", offsetof(sk_rack_sample, tokens_ps)},
    {"latency_p95_ms", offsetof(sk_rack_sample, latency_p95_ms)},
    {"fan_rpm_pct", offsetof(sk_rack_sample, fan_rpm_pct)},
    {"pump_rpm_pct", offsetof(sk_rack_sample, pump_rpm_pct)},
};
#define N_TEL_FIELDS (sizeof tel_fields / sizeof tel_fields[0])
#define TEL_QUEUE_BIT (1u << N_TEL_FIELDS) /* queue_depth */

/* The shortest of %.15g, %.16g, %.17g that reads back to x. */
static void fmt_exact(double x, char *buf, size_t n) {
  for (int p = 15; p <= 17; p++) {
    snprintf(buf, n, "%.*g", p, x);
    if (strtod(buf, NULL) == x)
      return;
  }
}

/* Index of rack id in the scenario's room, or -1. */
static int rack_index(const sk_scenario *sc, const char *id) {
  int n = sc->n_rows * sc->racks_per_row;
  char buf[SK_RACK_ID_LEN];
  for (int i = 0; i < n; i++) {
    sk_scenario_rack_id(sc, i, buf);
    if (strcmp(buf, id) == 0)
      return i;
  }
  return -1;
}

/* A telemetry row: key "[+]RACK@TS", value "name=number ..." (names of tel_fields and
 * queue_depth, each at most once).  Fills *cont, *rack, row->ts, row->rack_id and the
 * fields given (their bits in *have); the others are left alone. */
static sk_status parse_telemetry(const sk_scenario *sc, const sk_command *c, int *cont, int *rack,
                                 sk_rack_sample *row, unsigned *have, char *err, size_t errlen) {
  const char *k = c->key;
  *cont = k[0] == '+';
  k += *cont;
  const char *at = strchr(k, '@');
  char id[SK_RACK_ID_LEN];
  if (!at || (size_t)(at - k) >= sizeof id) {
    sk_errf(err, errlen, "telemetry: key '%s' is not RACK@TS (e.g. R-C-07@610)", c->key);
    return SK_EINVAL;
  }
  memcpy(id, k, (size_t)(at - k));
  id[at - k] = 0;
  if ((*rack = rack_index(sc, id)) < 0) {
    sk_errf(err, errlen, "telemetry %s: '%s' is not a rack of this room", c->key, id);
    return SK_EINVAL;
  }
  double ts;
  if (sk_csv_number(at + 1, &ts) != SK_OK) {
    sk_errf(err, errlen, "telemetry %s: ts '%s' is not a number of seconds", c->key, at + 1);
    return SK_EINVAL;
  }
  row->ts = ts;
  snprintf(row->rack_id, sizeof row->rack_id, "%s", id);
  char buf[SK_CMD_VALUE_LEN];
  snprintf(buf, sizeof buf, "%s", c->value);
  char *save = NULL;
  for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) {
      sk_errf(err, errlen, "telemetry %s: '%s' is not name=number", c->key, tok);
      return SK_EINVAL;
    }
    *eq = 0;
    double x;
    if (sk_csv_number(eq + 1, &x) != SK_OK) {
      sk_errf(err, errlen, "telemetry %s: %s: '%s' is not a number", c->key, tok, eq + 1);
      return SK_EINVAL;
    }
    unsigned bit = 0;
    if (strcmp(tok, "queue_depth") == 0) {
      if (x < 0 || x > 1e9 || x != floor(x)) {
        sk_errf(err, errlen, "telemetry %s: queue_depth: %g is not a whole number in [0, 1e9]",
                c->key, x);
        return SK_EINVAL;
      }
      bit = TEL_QUEUE_BIT;
      row->queue_depth = (int32_t)x;
    } else {
      for (size_t f = 0; f < N_TEL_FIELDS; f++)
        if (strcmp(tok, tel_fields[f].name) == 0) {
          bit = 1u << f;
          memcpy((char *)row + tel_fields[f].off, &x, sizeof x);
        }
    }
    if (!bit) {
      sk_errf(err, errlen,
              "telemetry %s: unknown field '%s' (inlet_c, outlet_c, pdu_kw, gpu_energy_j, "
              "tokens_ps, latency_p95_ms, fan_rpm_pct, pump_rpm_pct, queue_depth)",
              c->key, tok);
      return SK_EINVAL;
    }
    if (*have & bit) {
      sk_errf(err, errlen, "telemetry %s: %s given twice", c->key, tok);
      return SK_EINVAL;
    }
    *have |= bit;
  }
  return SK_OK;
}

/* Checks c against scenario sc (a copy the caller may change: a SET is tried on it). */
static sk_status check_command(sk_scenario *sc, const sk_command *c, char *err, size_t errlen) {
  sk_run_mode m;
  int b;
  double x;
  sk_action a;
  switch (c->kind) {
  case SK_CMD_MODE:
    if (sk_run_mode_parse(c->value, sc, &m) != SK_OK) {
      sk_errf(err, errlen, "mode: '%s' is not off, on, advisory or closed_loop", c->value);
      return SK_EINVAL;
    }
    return SK_OK;
  case SK_CMD_KILL_SWITCH:
    if (!parse_bool(c->value, &b)) {
      sk_errf(err, errlen, "kill_switch: '%s' is not true or false", c->value);
      return SK_EINVAL;
    }
    return SK_OK;
  case SK_CMD_SET: {
    sk_status st = sk_scenario_set_live(sc, c->key, c->value, NULL, err, errlen);
    return st == SK_OK ? SK_OK : SK_EINVAL;
  }
  case SK_CMD_EFFECT_START:
  case SK_CMD_EFFECT_STOP: {
    int found = 0;
    for (int e = 0; e < sc->n_effects; e++)
      found |= strcmp(sc->effects[e].name, c->key) == 0;
    if (!found) {
      char names[256] = "";
      for (int e = 0; e < sc->n_effects; e++) {
        size_t u = strlen(names);
        snprintf(names + u, sizeof names - u, "%s%s", e ? ", " : "", sc->effects[e].name);
      }
      sk_errf(err, errlen, "%s: no effect '%s' in the scenario's timeline (%s)",
              sk_command_kind_name(c->kind), c->key, names[0] ? names : "it has none");
      return SK_EINVAL;
    }
    char why[SK_ERR_LEN];
    if (c->kind == SK_CMD_EFFECT_START && c->value[0] &&
        sk_parse_duration(c->value, &x, why, sizeof why) != SK_OK) {
      sk_errf(err, errlen, "effect_start %s: %s", c->key, why);
      return SK_EINVAL;
    }
    return SK_OK;
  }
  case SK_CMD_APPLY:
  case SK_CMD_RECOMMEND:
    return parse_apply(sc, c, &a, err, errlen);
  case SK_CMD_PAUSE:
    if (!parse_bool(c->value, &b)) {
      sk_errf(err, errlen, "pause: '%s' is not true or false", c->value);
      return SK_EINVAL;
    }
    return SK_OK;
  case SK_CMD_SPEED:
    if (!sk_parse_speed(c->value, &x)) {
      sk_errf(err, errlen, "speed: '%s' is not max or a positive factor such as 60", c->value);
      return SK_EINVAL;
    }
    return SK_OK;
  case SK_CMD_OPTIMIZER_TICK:
    if (c->key[0] || c->value[0]) {
      sk_errf(err, errlen, "optimizer_tick: takes no key or value, got '%s' '%s'", c->key,
              c->value);
      return SK_EINVAL;
    }
    return SK_OK;
  case SK_CMD_TELEMETRY: {
    sk_rack_sample row;
    unsigned have = 0;
    int rack;
    return parse_telemetry(sc, c, &b, &rack, &row, &have, err, errlen);
  }
  case SK_CMD_KIND_COUNT:
    break;
  }
  sk_errf(err, errlen, "unknown command kind %d", (int)c->kind);
  return SK_EINVAL;
}

static void record_command(sk_session *s, const sk_command *c) {
  sk_command_record r;
  memset(&r, 0, sizeof r);
  r.ts = (double)sk_twin_now(s->tw) * 1e-9;
  r.seq = s->seq++;
  snprintf(r.kind, sizeof r.kind, "%s", sk_command_kind_name(c->kind));
  snprintf(r.key, sizeof r.key, "%s", c->key);
  snprintf(r.value, sizeof r.value, "%s", c->value);
  snprintf(r.source, sizeof r.source, "%s", c->source[0] ? c->source : s->source);
  if (s->rec && s->st == SK_OK) {
    sk_status st = sk_recorder_add_command(s->rec, &r);
    if (st != SK_OK)
      sk__session_fail(s, st, "recording: %s", sk_recorder_error(s->rec));
  }
  if (s->obs.on_command)
    s->obs.on_command(s->obs.ud, &r);
}


static void apply_mask(sk_session *s, unsigned mask) {
  if (mask & SK_LIVE_TWIN) {
    sk_twin_settings_changed(s->tw, &s->sc->settings);
    if (s->cf)
      sk_twin_settings_changed(s->cf, &s->sc->settings);
  }
  if ((mask & SK_LIVE_CONTROL) && s->ctl)
    sk_controller_settings_changed(s->ctl, s->sc, sk_twin_now(s->tw));
}

/* The IMS model posted samples are scored by: the controller's, else the given one. */
static const sk_ims_model *tel_model(const sk_session *s) {
  const sk_ims_model *m = s->ctl ? sk_controller_ims(s->ctl) : NULL;
  return m ? m : s->ims;
}

void sk__session_telemetry_close(sk_session *s) {
  if (!s->tel_open)
    return;
  s->tel_open = 0;
  sk_rack_sample *r = &s->tel_row;
  const sk_ims_model *m = tel_model(s);
  if (m != s->tel_model) { /* a model now, or another one: the posted stream starts over */
    if (m && !s->tel_mms && !(s->tel_mms = calloc((size_t)s->n_racks, sizeof *s->tel_mms))) {
      sk__session_fail(s, SK_ENOMEM, "telemetry: out of memory");
      return;
    }
    for (int i = 0; m && i < s->n_racks; i++)
      sk_mms_init(&s->tel_mms[i], s->sc->settings.mms_ema_alpha, s->sc->settings.mms_persist_ticks,
                  m->tau_fast, m->tau_persist);
    s->tel_model = m;
  }
  sk_monitor_record mon;
  memset(&mon, 0, sizeof mon);
  mon.ts = r->ts;
  memcpy(mon.rack_id, r->rack_id, sizeof mon.rack_id);
  mon.deviation = mon.ema = NAN;
  if (m) {
    double all[SK_IMS_N_RACK_FEATURES], x[SK_IMS_MAX_FEATURES], contrib[SK_IMS_MAX_FEATURES];
    sk_ims_rack_vector(r, s->sc->sample_period_s, all);
    int q = sk_ims_rack_feature_index("queue_depth");
    if (r->queue_depth < 0 && q >= 0)
      all[q] = NAN; /* not measured: scored as the training mean */
    for (int j = 0; j < m->n_features; j++) {
      int idx = sk_ims_rack_feature_index(m->feature[j]);
      x[j] = idx >= 0 ? all[idx] : NAN;
    }
    mon.deviation = sk_ims_score(m, x, contrib, NULL);
    sk_mms *mm = &s->tel_mms[s->tel_rack];
    mon.state = (int32_t)sk_mms_tick(mm, mon.deviation);
    mon.ema = mm->ema;
    int top = sk_ims_top_feature(m, contrib);
    snprintf(mon.top_feature, sizeof mon.top_feature, "%s", top >= 0 ? m->feature[top] : "");
  }
  s->tel_applied++;
  if (s->tel_fn)
    s->tel_fn(s->tel_ud, r, &mon);
}

/* A telemetry row at a boundary: starts a sample (closing the one before) or continues
 * the open one. */
static sk_status apply_telemetry(sk_session *s, const sk_command *c, char *err, size_t errlen) {
  sk_rack_sample row;
  unsigned have = 0;
  int cont, rack;
  memset(&row, 0, sizeof row);
  sk_status st = parse_telemetry(s->sc, c, &cont, &rack, &row, &have, err, errlen);
  if (st != SK_OK)
    return st;
  if (cont) {
    if (!s->tel_open || strcmp(s->tel_key, c->key + 1) != 0) {
      sk_errf(err, errlen, "telemetry %s: a continuation with no sample %s before it", c->key,
              c->key + 1);
      return SK_EINVAL;
    }
    if (s->tel_have & have) {
      sk_errf(err, errlen, "telemetry %s: a field its sample already has", c->key);
      return SK_EINVAL;
    }
  } else {
    sk__session_telemetry_close(s);
    s->tel_open = 1;
    s->tel_rack = rack;
    s->tel_have = 0;
    snprintf(s->tel_key, sizeof s->tel_key, "%s", c->key);
    sk_rack_sample *r = &s->tel_row;
    memset(r, 0, sizeof *r);
    r->ts = row.ts;
    memcpy(r->rack_id, row.rack_id, sizeof r->rack_id);
    for (size_t f = 0; f < N_TEL_FIELDS; f++) {
      double nan = NAN;
      memcpy((char *)r + tel_fields[f].off, &nan, sizeof nan);
    }
    r->queue_depth = -1;
  }
  for (size_t f = 0; f < N_TEL_FIELDS; f++)
    if (have & (1u << f))
      memcpy((char *)&s->tel_row + tel_fields[f].off, (char *)&row + tel_fields[f].off,
             sizeof(double));
  if (have & TEL_QUEUE_BIT)
    s->tel_row.queue_depth = row.queue_depth;
  s->tel_have |= have;
  return SK_OK;
}

/* Applies a checked command now.  Errors here mean the command no longer fits (a log
 * made for another scenario): sticky. */
static void apply_command(sk_session *s, const sk_command *c) {
  char err[SK_ERR_LEN];
  sk_status st = SK_OK;
  unsigned mask = 0;
  sk_time_ns now = sk_twin_now(s->tw);
  if (c->kind != SK_CMD_TELEMETRY)
    sk__session_telemetry_close(s); /* a sample ends where another command starts */
  switch (c->kind) {
  case SK_CMD_MODE: {
    sk_run_mode m = SK_RUN_OFF;
    if ((st = sk_run_mode_parse(c->value, s->sc, &m)) != SK_OK) {
      sk_errf(err, sizeof err, "mode: '%s' is not a mode", c->value);
      break;
    }
    if (m != SK_RUN_OFF && !s->ctl)
      st = sk__session_start_controller(s, m, err, sizeof err);
    else if (m != SK_RUN_OFF)
      sk_controller_set_mode(s->ctl, m == SK_RUN_CLOSED_LOOP ? SK_MODE_CLOSED_LOOP
                                                             : SK_MODE_ADVISORY);
    if (st == SK_OK)
      s->mode = m;
    break;
  }
  case SK_CMD_KILL_SWITCH:
  case SK_CMD_SET:
    pthread_mutex_lock(&s->mu);
    st = sk_scenario_set_live(s->sc,
                              c->kind == SK_CMD_SET ? c->key : "settings.global_kill_switch",
                              c->value, &mask, err, sizeof err);
    pthread_mutex_unlock(&s->mu);
    if (st == SK_OK)
      apply_mask(s, mask);
    break;
  case SK_CMD_EFFECT_START:
  case SK_CMD_EFFECT_STOP: {
    int e = sk_twin_effect_find(s->tw, c->key);
    double dur = 0;
    if (e < 0) {
      st = SK_EINVAL;
      sk_errf(err, sizeof err, "%s: no effect '%s'", sk_command_kind_name(c->kind), c->key);
      break;
    }
    if (c->kind == SK_CMD_EFFECT_STOP) {
      st = sk_twin_effect_stop(s->tw, e);
      if (st == SK_OK && s->cf)
        st = sk_twin_effect_stop(s->cf, e);
      break;
    }
    if (c->value[0] && (st = sk_parse_duration(c->value, &dur, err, sizeof err)) != SK_OK)
      break;
    sk_time_ns stop = dur > 0 ? now + (sk_time_ns)llround(dur * 1e9) : 0;
    st = sk_twin_effect_start(s->tw, e, stop);
    if (st == SK_OK && s->cf)
      st = sk_twin_effect_start(s->cf, e, stop);
    break;
  }
  case SK_CMD_APPLY: {
    sk_action a;
    if ((st = parse_apply(s->sc, c, &a, err, sizeof err)) == SK_OK)
      st = sk_twin_apply(s->tw, &a, NULL);
    break;
  }
  case SK_CMD_RECOMMEND: { /* an operator's recommendation: checked, recorded, not acted on */
    sk_action a;
    st = parse_apply(s->sc, c, &a, err, sizeof err);
    break;
  }
  case SK_CMD_TELEMETRY:
    st = apply_telemetry(s, c, err, sizeof err);
    break;
  case SK_CMD_OPTIMIZER_TICK: { /* blocked (mode off, kill switch, warm-up): recorded only */
    char why[SK_ERR_LEN];
    if (s->ctl && s->mode != SK_RUN_OFF)
      (void)sk_controller_request_slow_tick(s->ctl, why, sizeof why);
    break;
  }
  case SK_CMD_PAUSE:
  case SK_CMD_SPEED:
    /* pacing only: a posted one took effect when posted; a replayed one is kept in the
     * log (and the new recording) but leaves the replaying caller's pacing alone */
    break;
  case SK_CMD_KIND_COUNT:
    st = SK_EINVAL;
    snprintf(err, sizeof err, "unknown command");
    break;
  }
  if (st != SK_OK) {
    sk__session_fail(s, st, "command %s %s %s at %.3f s: %s", sk_command_kind_name(c->kind), c->key,
         c->value, (double)now * 1e-9, err);
    return;
  }
  record_command(s, c);
}

static sk_status command_from_record(const sk_command_record *r, sk_command *c, char *err,
                                     size_t errlen) {
  memset(c, 0, sizeof *c);
  if (sk_command_kind_parse(r->kind, &c->kind) != SK_OK) {
    sk_errf(err, errlen, "unknown command kind '%s'", r->kind);
    return SK_EINVAL;
  }
  snprintf(c->key, sizeof c->key, "%s", r->key);
  snprintf(c->value, sizeof c->value, "%s", r->value);
  snprintf(c->source, sizeof c->source, "%s", r->source);
  return SK_OK;
}

/* At a boundary: the log's due commands, then the posted ones. */
void sk__session_apply_due(sk_session *s) {
  sk_time_ns now = sk_twin_now(s->tw);
  while (s->st == SK_OK && s->log_pos < s->log_n &&
         llround(s->log[s->log_pos].ts * 1e9) <= now) {
    sk_command c;
    char err[SK_ERR_LEN];
    if (command_from_record(&s->log[s->log_pos], &c, err, sizeof err) != SK_OK)
      sk__session_fail(s, SK_EINVAL, "command log: %s", err);
    else
      apply_command(s, &c);
    s->log_pos++;
  }
  pthread_mutex_lock(&s->mu);
  size_t n = s->q_n;
  queued *q = NULL;
  if (n > 0) {
    q = s->q;
    s->q = NULL;
    s->q_n = s->q_cap = 0;
  }
  pthread_mutex_unlock(&s->mu);
  for (size_t i = 0; i < n && s->st == SK_OK; i++)
    apply_command(s, &q[i].cmd);
  free(q);
  if (s->st == SK_OK)
    sk__session_telemetry_close(s); /* a sample never spans two boundaries */
}

sk_status sk_session_post(sk_session *s, const sk_command *cmd, char *err, size_t errlen) {
  sk_scenario *tmp = malloc(sizeof *tmp);
  if (!tmp) {
    sk_errf(err, errlen, "out of memory");
    return SK_ENOMEM;
  }
  pthread_mutex_lock(&s->mu);
  *tmp = *s->sc;
  sk_status st = SK_OK;
  if (cmd->kind == SK_CMD_TELEMETRY) {
    sk_errf(err, errlen, "telemetry: post samples with sk_session_post_telemetry");
    st = SK_EINVAL;
  } else {
    st = check_command(tmp, cmd, err, errlen);
  }
  if (st == SK_OK && s->q_n == s->q_cap) {
    size_t cap = s->q_cap ? 2 * s->q_cap : 16;
    queued *nq = realloc(s->q, cap * sizeof *nq);
    if (!nq) {
      st = SK_ENOMEM;
      sk_errf(err, errlen, "out of memory");
    } else {
      s->q = nq;
      s->q_cap = cap;
    }
  }
  if (st == SK_OK) {
    queued *e = &s->q[s->q_n++];
    e->cmd = *cmd;
    if (cmd->kind == SK_CMD_PAUSE) /* pacing: at once, recorded at the boundary */
      parse_bool(cmd->value, &s->paused);
    else if (cmd->kind == SK_CMD_SPEED)
      sk_parse_speed(cmd->value, &s->speed);
  }
  pthread_mutex_unlock(&s->mu);
  free(tmp);
  return st;
}

/* The rows of one sample into out[] (room for 1 + N_TEL_FIELDS); returns how many. */
static int encode_sample(const sk_rack_sample *r, const char *source, sk_command *out) {
  char ts[32];
  fmt_exact(r->ts, ts, sizeof ts);
  int n = 0;
  sk_command *c = &out[0];
  memset(c, 0, sizeof *c);
  c->kind = SK_CMD_TELEMETRY;
  snprintf(c->key, sizeof c->key, "%s@%s", r->rack_id, ts);
  snprintf(c->source, sizeof c->source, "%s", source ? source : "");
  n = 1;
  for (size_t f = 0; f <= N_TEL_FIELDS; f++) {
    char tok[64], num[32];
    if (f < N_TEL_FIELDS) {
      double x;
      memcpy(&x, (const char *)r + tel_fields[f].off, sizeof x);
      if (isnan(x))
        continue;
      fmt_exact(x, num, sizeof num);
      snprintf(tok, sizeof tok, "%s=%s", tel_fields[f].name, num);
    } else {
      if (r->queue_depth < 0)
        continue;
      snprintf(tok, sizeof tok, "queue_depth=%d", (int)r->queue_depth);
    }
    size_t used = strlen(c->value), need = strlen(tok) + (used ? 1 : 0);
    if (used + need >= sizeof c->value) { /* full: a continuation row */
      sk_command *next = &out[n++];
      memset(next, 0, sizeof *next);
      next->kind = SK_CMD_TELEMETRY;
      next->key[0] = '+'; /* the first row's key (at most 32 bytes) behind a '+' */
      memcpy(next->key + 1, out[0].key, sizeof next->key - 1);
      next->key[sizeof next->key - 1] = 0;
      memcpy(next->source, c->source, sizeof next->source);
      c = next;
      used = 0;
    }
    snprintf(c->value + used, sizeof c->value - used, "%s%s", used ? " " : "", tok);
  }
  return n;
}

/* Checks one posted sample: "" when fine, else the field and reason into why. */
static void check_sample(const sk_scenario *sc, const sk_rack_sample *r, char *why, size_t n) {
  why[0] = 0;
  if (!memchr(r->rack_id, 0, sizeof r->rack_id) || rack_index(sc, r->rack_id) < 0)
    snprintf(why, n, "rack_id: '%.*s' is not a rack of this room", (int)sizeof r->rack_id,
             r->rack_id);
  else if (!isfinite(r->ts))
    snprintf(why, n, "ts: not a finite number of seconds");
  else if (r->queue_depth < -1)
    snprintf(why, n, "queue_depth: %d is below -1 (-1: not measured)", (int)r->queue_depth);
  for (size_t f = 0; !why[0] && f < N_TEL_FIELDS; f++) {
    double x;
    memcpy(&x, (const char *)r + tel_fields[f].off, sizeof x);
    if (isinf(x))
      snprintf(why, n, "%s: not finite (NaN: not measured)", tel_fields[f].name);
  }
}

sk_status sk_session_post_telemetry(sk_session *s, const sk_rack_sample *rows, size_t n,
                                    const char *source, char *err, size_t errlen) {
  sk_command *cmds = NULL;
  size_t nc = 0, cap = 0;
  sk_status st = SK_OK;
  pthread_mutex_lock(&s->mu);
  for (size_t i = 0; i < n && st == SK_OK; i++) {
    char why[SK_ERR_LEN];
    check_sample(s->sc, &rows[i], why, sizeof why);
    sk_command one[1 + N_TEL_FIELDS];
    int k = why[0] ? 0 : encode_sample(&rows[i], source, one);
    for (int j = 0; j < k && !why[0]; j++) { /* every row reads back as a re-run reads it */
      int cont, rack;
      unsigned have = 0;
      sk_rack_sample back;
      parse_telemetry(s->sc, &one[j], &cont, &rack, &back, &have, why, sizeof why);
    }
    if (why[0]) {
      sk_errf(err, errlen, "telemetry row %zu: %s", i, why);
      st = SK_EINVAL;
      break;
    }
    if (nc + (size_t)k > cap) {
      size_t nw = cap ? 2 * cap : 64;
      while (nw < nc + (size_t)k)
        nw *= 2;
      sk_command *g = realloc(cmds, nw * sizeof *g);
      if (!g) {
        sk_errf(err, errlen, "out of memory");
        st = SK_ENOMEM;
        break;
      }
      cmds = g;
      cap = nw;
    }
    memcpy(cmds + nc, one, (size_t)k * sizeof *one);
    nc += (size_t)k;
  }
  if (st == SK_OK && s->q_n + nc > s->q_cap) {
    size_t qc = s->q_cap ? s->q_cap : 16;
    while (qc < s->q_n + nc)
      qc *= 2;
    queued *nq = realloc(s->q, qc * sizeof *nq);
    if (!nq) {
      st = SK_ENOMEM;
      sk_errf(err, errlen, "out of memory");
    } else {
      s->q = nq;
      s->q_cap = qc;
    }
  }
  if (st == SK_OK) /* the whole batch, or nothing */
    for (size_t i = 0; i < nc; i++)
      s->q[s->q_n++].cmd = cmds[i];
  pthread_mutex_unlock(&s->mu);
  free(cmds);
  return st;
}

void sk_session_observe_telemetry(sk_session *s, sk_session_telemetry_fn fn, void *ud) {
  s->tel_fn = fn;
  s->tel_ud = ud;
}

int64_t sk_session_telemetry_applied(const sk_session *s) {
  return s->tel_applied;
}

int sk_session_tick_blocked(const sk_session *s, char *why, size_t whylen) {
  if (!s->ctl || s->mode == SK_RUN_OFF) {
    snprintf(why, whylen, "the run is in mode off: no optimizer runs (POST /mode first)");
    return 1;
  }
  return !sk_controller_can_tick(s->ctl, why, whylen);
}

sk_time_ns sk_session_next_boundary(const sk_session *s) {
  return (sk_twin_now(s->tw) / s->fast_ns + 1) * s->fast_ns;
}

int sk_session_paused(const sk_session *s) {
  pthread_mutex_lock((pthread_mutex_t *)&s->mu);
  int p = s->paused;
  pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
  return p;
}

double sk_session_speed(const sk_session *s) {
  pthread_mutex_lock((pthread_mutex_t *)&s->mu);
  double v = s->speed;
  pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
  return v;
}

void sk_session_set_initial_speed(sk_session *s, double speed) {
  pthread_mutex_lock(&s->mu);
  s->speed = speed;
  pthread_mutex_unlock(&s->mu);
}

/* ---- the command log ----------------------------------------------------------------- */

static int cmp_record(const void *a, const void *b) {
  const sk_command_record *x = a, *y = b;
  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

static int copy_json_str(const cJSON *o, const char *name, char *dst, size_t n, int required,
                         char *reason, size_t rlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (!v) {
    if (required)
      snprintf(reason, rlen, "%s: missing", name);
    dst[0] = 0;
    return !required;
  }
  if (!cJSON_IsString(v)) {
    snprintf(reason, rlen, "%s: expected a string", name);
    return 0;
  }
  if (strlen(v->valuestring) >= n) {
    snprintf(reason, rlen, "%s: longer than %zu bytes", name, n - 1);
    return 0;
  }
  snprintf(dst, n, "%s", v->valuestring);
  return 1;
}

/* A JSON Lines command log: {"ts": s, "seq": n, "kind": ..., "key": ..., "value": ...,
 * "source": ...} per line (seq and source optional; blank lines skipped). */
static sk_status load_jsonl_log(sk_session *s, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    sk_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return SK_EINVAL;
  }
  sk_scenario *scratch = malloc(sizeof *scratch);
  if (!scratch) {
    fclose(f);
    sk_errf(err, errlen, "%s: out of memory", path);
    return SK_ENOMEM;
  }
  char *line = NULL;
  size_t cap = 0, lineno = 0, total = 0;
  ssize_t got;
  sk_status st = SK_OK;
  while (st == SK_OK && (got = getline(&line, &cap, f)) >= 0) {
    lineno++;
    total += (size_t)got;
    if (total > MAX_LOG_BYTES) {
      sk_errf(err, errlen, "%s: larger than %u MiB", path, MAX_LOG_BYTES >> 20);
      st = SK_EINVAL;
      break;
    }
    const char *p = line;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
      p++;
    if (!*p)
      continue;
    cJSON *o = cJSON_Parse(p);
    char reason[160] = "";
    sk_command_record r;
    memset(&r, 0, sizeof r);
    const cJSON *ts = o ? cJSON_GetObjectItemCaseSensitive(o, "ts") : NULL;
    const cJSON *seq = o ? cJSON_GetObjectItemCaseSensitive(o, "seq") : NULL;
    sk_command c;
    if (!cJSON_IsObject(o))
      snprintf(reason, sizeof reason, "not a JSON object");
    else if (!cJSON_IsNumber(ts) || !isfinite(ts->valuedouble) || ts->valuedouble < 0)
      snprintf(reason, sizeof reason, "ts: expected a sim time in seconds >= 0");
    else if (seq && (!cJSON_IsNumber(seq) || !(fabs(seq->valuedouble) <= 9007199254740992.0)))
      /* a double beyond int64 (1e300) made the cast below undefined (fuzz_session) */
      snprintf(reason, sizeof reason, "seq: expected a number from -2^53 to 2^53");
    else if (copy_json_str(o, "kind", r.kind, sizeof r.kind, 1, reason, sizeof reason) &&
             copy_json_str(o, "key", r.key, sizeof r.key, 0, reason, sizeof reason) &&
             copy_json_str(o, "value", r.value, sizeof r.value, 0, reason, sizeof reason) &&
             copy_json_str(o, "source", r.source, sizeof r.source, 0, reason, sizeof reason)) {
      r.ts = ts->valuedouble;
      r.seq = seq ? (int64_t)seq->valuedouble : (int64_t)s->log_n;
      *scratch = *s->sc; /* a SET is tried on a copy */
      if (command_from_record(&r, &c, reason, sizeof reason) == SK_OK &&
          check_command(scratch, &c, reason, sizeof reason) == SK_OK)
        reason[0] = 0;
    }
    cJSON_Delete(o);
    if (reason[0]) {
      sk_errf(err, errlen, "%s:%zu: %s", path, lineno, reason);
      st = SK_EINVAL;
      break;
    }
    if (s->log_n % 64 == 0) {
      sk_command_record *nl = realloc(s->log, (s->log_n + 64) * sizeof *nl);
      if (!nl) {
        sk_errf(err, errlen, "%s: out of memory", path);
        st = SK_ENOMEM;
        break;
      }
      s->log = nl;
    }
    s->log[s->log_n++] = r;
  }
  if (st == SK_OK && ferror(f)) {
    sk_errf(err, errlen, "%s: read error: %s", path, strerror(errno));
    st = SK_EINVAL;
  }
  free(line);
  free(scratch);
  fclose(f);
  return st;
}

static int is_hdf5(const char *path) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  unsigned char b[8];
  FILE *f = fopen(path, "rb");
  int yes = f && fread(b, 1, 8, f) == 8 && memcmp(b, sig, 8) == 0;
  if (f)
    fclose(f);
  return yes;
}

/* A recording's /commands table, through the recording reader. */
static sk_status load_recorded_log(sk_session *s, const char *path, char *err, size_t errlen) {
  sk_recording *rec = NULL;
  sk_status st = sk_recording_open(&rec, path, err, errlen);
  if (st != SK_OK)
    return st == SK_ENOMEM ? st : SK_EINVAL;
  uint64_t n = 0;
  if (!sk_recording_has_table(rec, SK_TABLE_COMMANDS)) {
    sk_errf(err, errlen, "%s: no /commands table (a recording older than the command log)",
            path);
    st = SK_EINVAL;
  } else if ((st = sk_recording_count(rec, SK_TABLE_COMMANDS, &n)) != SK_OK) {
    sk_errf(err, errlen, "%s", sk_recording_error(rec));
  } else if (n > 0 && !(s->log = calloc((size_t)n, sizeof *s->log))) {
    sk_errf(err, errlen, "%s: out of memory", path);
    st = SK_ENOMEM;
  } else if (n > 0 && (st = sk_recording_read(rec, SK_TABLE_COMMANDS, 0, (size_t)n, s->log)) != SK_OK) {
    sk_errf(err, errlen, "%s", sk_recording_error(rec));
  } else {
    s->log_n = (size_t)n;
  }
  sk_recording_close(rec);
  return st == SK_OK || st == SK_ENOMEM ? st : SK_EINVAL;
}

sk_status sk__session_load_log(sk_session *s, const char *path, char *err, size_t errlen) {
  sk_status st = is_hdf5(path) ? load_recorded_log(s, path, err, errlen)
                               : load_jsonl_log(s, path, err, errlen);
  if (st == SK_OK && s->log_n > 1)
    qsort(s->log, s->log_n, sizeof *s->log, cmp_record);
  return st;
}

