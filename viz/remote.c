/*
 * remote.c -- views from a twin over ZeroMQ (docs/PROTOCOL.md of the API, version 1).
 *
 * Sockets: a DEALER to the twin's ROUTER (requests, one JSON part each way; replies are
 * matched by "id") and a SUB to its PUB, subscribed to every topic.  Frames carry the
 * library's rows encoded by its schema (the member names of docs/HDF5.md), so a `racks`
 * frame fills the grid, the CRAHs and the charts' points, `actions` and `events` frames
 * the action stream and the markers.  The KPI tiles come from the `overview` op, polled
 * four times a second: it has the run-so-far figures and the counterfactual's, which the
 * frames do not carry.
 *
 * Rejected: a receiving thread.  ZeroMQ's I/O thread already queues frames (up to the
 * high-water mark, beyond which the twin's PUB drops them, never waiting), and draining
 * the queue once per drawn frame is a few JSON parses.
 */
#include "remote.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

typedef struct {
  double *t, *v;
  int n, cap;
} series;

struct sk_viz_remote {
  void *ctx, *req, *sub;
  char endpoint[256];
  char kind[16];
  char scenario[64];
  double end_s, start_hour;
  long frames;
  int have_racks, have_overview;
  /* the latest racks frame */
  double t_s;
  int n_rows, per, n_racks;
  sk_viz_rack racks[SK_VIZ_MAX_RACKS];
  sk_viz_crah crahs[SK_MAX_ROWS];
  int have_monitor;
  /* the latest overview */
  double wh, cf_wh, saved, ttft_period, compliance, pue, sla, inlet_max, speed;
  int paused, kill, done;
  char mode[16];
  double overview_sent; /* wall s, 0 = none in flight */
  double overview_at;   /* wall s of the last answer */
  /* series, markers, actions */
  series s[SK_VIZ_CHART_COUNT];
  sk_viz_marker *markers;
  int n_markers, cap_markers;
  sk_action_record actions[SK_VIZ_MAX_ACTIONS];
  int n_actions, head;
  long next_id;
  char status[128];
};

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static void str(const cJSON *o, const char *k, char *out, size_t n) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
  snprintf(out, n, "%s", cJSON_IsString(x) ? x->valuestring : "");
}

static void series_push(series *s, double t, double v) {
  if (s->n > 0 && t <= s->t[s->n - 1])
    return; /* a replayed twin that seeks back: keep the series ascending */
  if (s->n == s->cap) {
    int cap = s->cap ? 2 * s->cap : 1024;
    double *a = realloc(s->t, (size_t)cap * sizeof *a);
    if (!a)
      return;
    s->t = a;
    double *b = realloc(s->v, (size_t)cap * sizeof *b);
    if (!b)
      return;
    s->v = b;
    s->cap = cap;
  }
  s->t[s->n] = t;
  s->v[s->n] = v;
  s->n++;
}

/* Puts the points of h (ascending) that come before s's first point in front of s. */
static void series_prepend(series *s, const series *h) {
  int k = 0;
  while (k < h->n && (s->n == 0 || h->t[k] < s->t[0]))
    k++;
  if (k == 0)
    return;
  int n = s->n + k, cap = s->cap >= n ? s->cap : n;
  double *t = malloc((size_t)cap * sizeof *t), *v = malloc((size_t)cap * sizeof *v);
  if (!t || !v) {
    free(t);
    free(v);
    return;
  }
  memcpy(t, h->t, (size_t)k * sizeof *t);
  memcpy(v, h->v, (size_t)k * sizeof *v);
  if (s->n) {
    memcpy(t + k, s->t, (size_t)s->n * sizeof *t);
    memcpy(v + k, s->v, (size_t)s->n * sizeof *v);
  }
  free(s->t);
  free(s->v);
  s->t = t;
  s->v = v;
  s->n = n;
  s->cap = cap;
}

static void marker_push(sk_viz_remote *r, double t, char kind) {
  if (r->n_markers == r->cap_markers) {
    int cap = r->cap_markers ? 2 * r->cap_markers : 256;
    sk_viz_marker *m = realloc(r->markers, (size_t)cap * sizeof *m);
    if (!m)
      return;
    r->markers = m;
    r->cap_markers = cap;
  }
  r->markers[r->n_markers++] = (sk_viz_marker){t, kind};
}

/* "R-C-07" -> row 2, pos 6; -1 when the id is not of that form. */
static int rack_place(const char *id, int *row, int *pos) {
  if (id[0] != 'R' || id[1] != '-' || id[2] < 'A' || id[2] > 'Z' || id[3] != '-')
    return -1;
  char *end;
  long p = strtol(id + 4, &end, 10);
  if (end == id + 4 || *end || p < 1 || p > SK_MAX_RACKS_PER_ROW)
    return -1;
  *row = id[2] - 'A';
  *pos = (int)p - 1;
  return 0;
}

static void on_racks(sk_viz_remote *r, const cJSON *f) {
  const cJSON *racks = cJSON_GetObjectItemCaseSensitive(f, "racks");
  const cJSON *crah = cJSON_GetObjectItemCaseSensitive(f, "crah");
  const cJSON *room = cJSON_GetObjectItemCaseSensitive(f, "room");
  const cJSON *mon = cJSON_GetObjectItemCaseSensitive(f, "monitor");
  if (!cJSON_IsArray(racks) || !cJSON_IsObject(room))
    return;
  int n = 0, rows = 0, per = 0;
  const cJSON *x;
  cJSON_ArrayForEach(x, racks) {
    if (n == SK_VIZ_MAX_RACKS)
      break;
    sk_viz_rack *rk = &r->racks[n];
    str(x, "rack_id", rk->id, sizeof rk->id);
    if (rack_place(rk->id, &rk->row, &rk->pos) != 0)
      continue;
    rk->inlet_c = num(x, "inlet_c");
    rk->outlet_c = num(x, "outlet_c");
    rk->pdu_kw = num(x, "pdu_kw");
    rk->n_servers = (int)num(x, "n_servers");
    rk->deviation = NAN;
    rk->mms_state = -1;
    if (rk->row + 1 > rows)
      rows = rk->row + 1;
    if (rk->pos + 1 > per)
      per = rk->pos + 1;
    n++;
  }
  r->n_racks = n;
  r->n_rows = rows < SK_MAX_ROWS ? rows : SK_MAX_ROWS;
  r->per = per;
  for (int i = 0; i < r->n_rows; i++) {
    snprintf(r->crahs[i].row, sizeof r->crahs[i].row, "%c", 'A' + i);
    r->crahs[i].fan_pct = r->crahs[i].supply_c = NAN;
  }
  cJSON_ArrayForEach(x, crah) {
    char row[8];
    str(x, "row", row, sizeof row);
    int i = row[0] - 'A';
    if (i < 0 || i >= r->n_rows)
      continue;
    r->crahs[i].fan_pct = num(x, "fan_pct");
    r->crahs[i].supply_c = num(x, "supply_c");
  }
  double mx = NAN, mts = NAN;
  int nm = 0;
  cJSON_ArrayForEach(x, mon) {
    char id[SK_RACK_ID_LEN];
    str(x, "rack_id", id, sizeof id);
    double d = num(x, "deviation");
    mts = num(x, "ts");
    for (int i = 0; i < n; i++) /* rows come in layout order: usually i == nm */
      if (strcmp(r->racks[(nm + i) % n].id, id) == 0) {
        sk_viz_rack *rk = &r->racks[(nm + i) % n];
        rk->deviation = d;
        rk->mms_state = (int)num(x, "state");
        break;
      }
    if (!isnan(d) && (isnan(mx) || d > mx))
      mx = d;
    nm++;
  }
  r->have_monitor = nm > 0;
  double t = num(room, "ts");
  r->t_s = t;
  series_push(&r->s[SK_VIZ_CHART_WH], t, num(room, "j_per_prompt_wh"));
  series_push(&r->s[SK_VIZ_CHART_TTFT], t, num(room, "latency_p95_ms"));
  if (nm > 0)
    series_push(&r->s[SK_VIZ_CHART_IMS], mts, mx);
  r->ttft_period = num(room, "latency_p95_ms");
  r->have_racks = 1;
}

static char decision_kind(const char *d) {
  return strcmp(d, "applied") == 0       ? 'a'
         : strcmp(d, "advised") == 0     ? 'd'
         : strcmp(d, "rolled_back") == 0 ? 'r'
         : strcmp(d, "rejected") == 0    ? 'x'
                                         : 0;
}

static void on_action(sk_viz_remote *r, const cJSON *a) {
  sk_action_record rec;
  memset(&rec, 0, sizeof rec);
  rec.ts = num(a, "ts");
  rec.id = (int64_t)num(a, "id");
  str(a, "loop", rec.loop, sizeof rec.loop);
  str(a, "action", rec.action, sizeof rec.action);
  str(a, "target", rec.target, sizeof rec.target);
  str(a, "executor", rec.executor, sizeof rec.executor);
  str(a, "unit", rec.unit, sizeof rec.unit);
  rec.delta = num(a, "delta");
  str(a, "decision", rec.decision, sizeof rec.decision);
  str(a, "reason", rec.reason, sizeof rec.reason);
  rec.pred_saving_pct = num(a, "pred_saving_pct");
  rec.pred_ttft_p95_ms = num(a, "pred_ttft_p95_ms");
  rec.pred_max_inlet_c = num(a, "pred_max_inlet_c");
  rec.realized_saving_pct = num(a, "realized_saving_pct");
  char k = decision_kind(rec.decision);
  if (k)
    marker_push(r, rec.ts, k);
  if (sk_viz_action_listed(&rec)) {
    r->actions[r->head] = rec;
    r->head = (r->head + 1) % SK_VIZ_MAX_ACTIONS;
    if (r->n_actions < SK_VIZ_MAX_ACTIONS)
      r->n_actions++;
  }
}

static void on_frame(sk_viz_remote *r, const char *topic, const char *body, size_t n) {
  cJSON *f = cJSON_ParseWithLength(body, n);
  if (!f)
    return;
  r->frames++;
  if (strcmp(topic, "racks") == 0) {
    on_racks(r, f);
  } else if (strcmp(topic, "actions") == 0) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(f, "action");
    if (cJSON_IsObject(a))
      on_action(r, a);
  } else if (strcmp(topic, "events") == 0) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(f, "event");
    if (cJSON_IsObject(e))
      marker_push(r, num(e, "ts"), 'e');
  }
  cJSON_Delete(f);
}

static void on_overview(sk_viz_remote *r, const cJSON *o) {
  r->wh = num(o, "j_per_prompt_wh");
  r->cf_wh = num(o, "cf_j_per_prompt_wh");
  r->saved = num(o, "energy_saved_pct");
  r->compliance = num(o, "inlet_compliance_pct");
  r->pue = num(o, "pue");
  r->sla = num(o, "sla_latency_ms");
  r->inlet_max = num(o, "inlet_max_c");
  double end = num(o, "end_sim_time_s");
  if (!isnan(end))
    r->end_s = end;
  const cJSON *sp = cJSON_GetObjectItemCaseSensitive(o, "speed");
  r->speed = cJSON_IsNumber(sp) ? sp->valuedouble : 0; /* "max" */
  r->paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "paused"));
  r->kill = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "kill_switch"));
  r->done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "done"));
  str(o, "mode", r->mode, sizeof r->mode);
  r->have_overview = 1;
}

/* One message of possibly several parts into buf (the last non-empty part: a REQ-style
 * empty delimiter is skipped); returns its length, or -1 when nothing is waiting. */
static int recv_last(void *sock, char *first, size_t first_len, char **body, size_t *n) {
  int parts = 0;
  *body = NULL;
  *n = 0;
  if (first)
    first[0] = '\0';
  for (;;) {
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, parts == 0 ? ZMQ_DONTWAIT : 0) < 0) {
      zmq_msg_close(&m);
      return parts == 0 ? -1 : 0;
    }
    size_t len = zmq_msg_size(&m);
    if (parts == 0 && first) {
      size_t k = len < first_len - 1 ? len : first_len - 1;
      memcpy(first, zmq_msg_data(&m), k);
      first[k] = '\0';
    }
    if (len > 0) {
      char *b = realloc(*body, len + 1);
      if (b) {
        memcpy(b, zmq_msg_data(&m), len);
        b[len] = '\0';
        *body = b;
        *n = len;
      }
    }
    int more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    parts++;
    if (!more)
      return 0;
  }
}

/* The run before the viz attached: the `timeline` op's room points (every stride-th
 * sample) and its action and event annotations go in front of what frames brought. */
static void on_timeline(sk_viz_remote *r, const cJSON *res) {
  series h[SK_VIZ_CHART_COUNT];
  memset(h, 0, sizeof h);
  const cJSON *x;
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(res, "series")) {
    double t = num(x, "sim_time_s");
    if (isnan(t))
      continue;
    series_push(&h[SK_VIZ_CHART_WH], t, num(x, "j_per_prompt_wh_window"));
    series_push(&h[SK_VIZ_CHART_TTFT], t, num(x, "latency_p95_ms"));
    double d = num(x, "ims_deviation");
    if (!isnan(d))
      series_push(&h[SK_VIZ_CHART_IMS], t, d);
  }
  double first = r->s[SK_VIZ_CHART_WH].n ? r->s[SK_VIZ_CHART_WH].t[0] : INFINITY;
  for (int i = 0; i < SK_VIZ_CHART_COUNT; i++) {
    series_prepend(&r->s[i], &h[i]);
    free(h[i].t);
    free(h[i].v);
  }
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(res, "annotations")) {
    char kind[16], dec[16];
    str(x, "kind", kind, sizeof kind);
    double t = num(x, "sim_time_s");
    if (isnan(t))
      t = num(x, "ts");
    if (isnan(t) || t >= first)
      continue; /* frames bring the rest */
    if (strcmp(kind, "event") == 0) {
      marker_push(r, t, 'e');
    } else if (strcmp(kind, "action") == 0) {
      str(x, "decision", dec, sizeof dec);
      char k = decision_kind(dec);
      if (k)
        marker_push(r, t, k);
    }
  }
}

static void on_reply(sk_viz_remote *r, const char *body, size_t n) {
  cJSON *j = cJSON_ParseWithLength(body, n);
  if (!j)
    return;
  char id[64];
  const cJSON *idj = cJSON_GetObjectItemCaseSensitive(j, "id");
  snprintf(id, sizeof id, "%s", cJSON_IsString(idj) ? idj->valuestring : "");
  int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"));
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result");
  if (strcmp(id, "overview") == 0) {
    r->overview_sent = 0;
    r->overview_at = wall_now();
    if (ok && cJSON_IsObject(res))
      on_overview(r, res);
  } else if (strcmp(id, "timeline") == 0) {
    if (ok && cJSON_IsObject(res))
      on_timeline(r, res); /* an older twin without the op: the charts start now */
  } else if (!ok) {
    char msg[96] = "";
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsObject(e))
      str(e, "message", msg, sizeof msg);
    snprintf(r->status, sizeof r->status, "twin refused %.20s: %.80s", id, msg);
  } else {
    snprintf(r->status, sizeof r->status, "%s accepted", id);
  }
  cJSON_Delete(j);
}

static int send_json(sk_viz_remote *r, const char *id, const char *op, const char *args) {
  char buf[1024];
  int k = snprintf(buf, sizeof buf, "{\"v\": 1, \"id\": \"%s\", \"op\": \"%s\"%s%s}", id, op,
                   args ? ", \"args\": " : "", args ? args : "");
  if (k < 0 || (size_t)k >= sizeof buf)
    return -1;
  return zmq_send(r->req, buf, (size_t)k, ZMQ_DONTWAIT) == k ? 0 : -1;
}

int sk_viz_remote_request(sk_viz_remote *r, const char *op, const char *args_json) {
  char id[48];
  snprintf(id, sizeof id, "%s#%ld", op, ++r->next_id);
  if (send_json(r, id, op, args_json) != 0) {
    snprintf(r->status, sizeof r->status, "cannot send %s to the twin", op);
    return -1;
  }
  return 0;
}

void sk_viz_remote_poll(sk_viz_remote *r) {
  char topic[32], *body;
  size_t n;
  while (recv_last(r->sub, topic, sizeof topic, &body, &n) == 0) {
    if (body)
      on_frame(r, topic, body, n);
    free(body);
  }
  while (recv_last(r->req, NULL, 0, &body, &n) == 0) {
    if (body)
      on_reply(r, body, n);
    free(body);
  }
  double now = wall_now();
  if (r->overview_sent > 0 && now - r->overview_sent > 5)
    r->overview_sent = 0; /* lost with a restarting twin: ask again */
  if (r->overview_sent == 0 && now - r->overview_at >= 0.25 &&
      send_json(r, "overview", "overview", NULL) == 0)
    r->overview_sent = now;
}

int sk_viz_remote_ready(const sk_viz_remote *r) {
  return r->have_racks && r->have_overview;
}

const char *sk_viz_remote_kind(const sk_viz_remote *r) {
  return r->kind;
}

long sk_viz_remote_frames(const sk_viz_remote *r) {
  return r->frames;
}

void sk_viz_remote_fill(sk_viz_remote *r, sk_viz_view *v) {
  snprintf(v->title, sizeof v->title, "%.8s %.80s", r->kind, r->endpoint);
  snprintf(v->scenario, sizeof v->scenario, "%s", r->scenario);
  v->live = strcmp(r->kind, "live") == 0;
  v->t_s = r->t_s;
  v->end_s = r->end_s;
  v->start_hour = r->start_hour;
  v->speed = r->speed;
  v->paused = r->paused;
  v->n_rows = r->n_rows;
  v->racks_per_row = r->per;
  v->n_racks = r->n_racks;
  memcpy(v->racks, r->racks, (size_t)r->n_racks * sizeof r->racks[0]);
  memcpy(v->crahs, r->crahs, sizeof r->crahs);
  v->inlet_max_c = r->inlet_max;
  v->have_monitor = r->have_monitor;
  v->wh_per_prompt = r->wh;
  v->cf_wh_per_prompt = r->cf_wh;
  v->saved_pct = r->saved;
  v->cf_whole_run = 0;
  v->ttft_p95_ms = r->ttft_period;
  v->sla_ms = r->sla;
  v->compliance_pct = floor(r->compliance * 100) / 100;
  v->pue = r->pue;
  snprintf(v->mode, sizeof v->mode, "%s", r->mode);
  v->kill_switch = r->kill;
  for (int i = 0; i < SK_VIZ_CHART_COUNT; i++)
    v->series[i] = (sk_viz_series){r->s[i].t, r->s[i].v, r->s[i].n};
  v->markers = r->markers;
  v->n_markers = r->n_markers;
  v->n_actions = r->n_actions;
  for (int i = 0; i < r->n_actions; i++)
    v->actions[i] = r->actions[(r->head - 1 - i + 2 * SK_VIZ_MAX_ACTIONS) % SK_VIZ_MAX_ACTIONS];
  if (r->status[0])
    snprintf(v->status, sizeof v->status, "%s", r->status);
  else
    snprintf(v->status, sizeof v->status, "%ld frames%s", r->frames,
             r->done ? ", run complete" : "");
}

/* "tcp://host:port" with port + 1, into out; -1 when endpoint has no numeric port. */
static int next_port(const char *endpoint, char *out, size_t n) {
  const char *colon = strrchr(endpoint, ':');
  if (!colon || strncmp(endpoint, "tcp://", 6) != 0 || colon < endpoint + 6)
    return -1;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || *end || port < 1 || port >= 65535)
    return -1;
  snprintf(out, n, "%.*s:%ld", (int)(colon - endpoint), endpoint, port + 1);
  return 0;
}

int sk_viz_remote_connect(sk_viz_remote **out, const char *endpoint, const char *pub,
                          double timeout_s, char *err, size_t errlen) {
  *out = NULL;
  sk_viz_remote *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return 1;
  }
  snprintf(r->endpoint, sizeof r->endpoint, "%s", endpoint);
  r->end_s = r->start_hour = NAN;
  r->wh = r->cf_wh = r->saved = r->ttft_period = r->compliance = r->pue = NAN;
  r->sla = r->inlet_max = NAN;
  char pub_ep[300];
  int rc = 1;
  if (pub) {
    snprintf(pub_ep, sizeof pub_ep, "%s", pub);
  } else if (next_port(endpoint, pub_ep, sizeof pub_ep) != 0) {
    snprintf(err, errlen,
             "--connect %s: give the frame endpoint with --pub (no tcp port to add 1 to)",
             endpoint);
    rc = 2;
    goto fail;
  }
  r->ctx = zmq_ctx_new();
  r->req = r->ctx ? zmq_socket(r->ctx, ZMQ_DEALER) : NULL;
  r->sub = r->ctx ? zmq_socket(r->ctx, ZMQ_SUB) : NULL;
  if (!r->req || !r->sub) {
    snprintf(err, errlen, "ZeroMQ: %s", zmq_strerror(zmq_errno()));
    goto fail;
  }
  int zero = 0, ivl = 100, ivl_max = 1000;
  zmq_setsockopt(r->req, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(r->sub, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(r->req, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
  zmq_setsockopt(r->req, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
  zmq_setsockopt(r->sub, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
  zmq_setsockopt(r->sub, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
  if (zmq_connect(r->req, endpoint) != 0) {
    snprintf(err, errlen, "--connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
    rc = 2;
    goto fail;
  }
  if (zmq_connect(r->sub, pub_ep) != 0) {
    snprintf(err, errlen, "--pub %s: %s", pub_ep, zmq_strerror(zmq_errno()));
    rc = 2;
    goto fail;
  }
  static const char *const topics[] = {"kpis", "racks", "actions", "events", "commands"};
  for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
    zmq_setsockopt(r->sub, ZMQ_SUBSCRIBE, topics[i], strlen(topics[i]));

  /* hello: the only way to know a twin is there (a connect succeeds without a peer) */
  if (send_json(r, "hello", "hello", NULL) != 0) {
    snprintf(err, errlen, "--connect %s: cannot send hello: %s", endpoint,
             zmq_strerror(zmq_errno()));
    goto fail;
  }
  zmq_pollitem_t it = {r->req, 0, ZMQ_POLLIN, 0};
  int got = zmq_poll(&it, 1, (long)(timeout_s * 1000));
  char *body;
  size_t n;
  if (got <= 0 || recv_last(r->req, NULL, 0, &body, &n) != 0 || !body) {
    snprintf(err, errlen,
             "--connect %s: no Skadi twin answered within %g s (is `skadi serve "
             "--engine-only --bind %s` running? --connect takes its command endpoint)",
             endpoint, timeout_s, endpoint);
    rc = 2;
    goto fail;
  }
  cJSON *j = cJSON_ParseWithLength(body, n);
  free(body);
  const cJSON *res = j ? cJSON_GetObjectItemCaseSensitive(j, "result") : NULL;
  double proto = res ? num(res, "protocol") : NAN;
  if (!j || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")) || !cJSON_IsObject(res) ||
      proto != 1) {
    snprintf(err, errlen,
             "--connect %s: what answered is not a Skadi twin speaking protocol 1 (%s)", endpoint,
             isnan(proto) ? "no protocol in its hello" : "another protocol");
    cJSON_Delete(j);
    rc = 2;
    goto fail;
  }
  str(res, "kind", r->kind, sizeof r->kind);
  str(res, "scenario", r->scenario, sizeof r->scenario);
  r->end_s = num(res, "end_sim_time_s");
  r->start_hour = num(res, "start_hour");
  cJSON_Delete(j);
  send_json(r, "timeline", "timeline", "{\"max_points\": 4000}");
  *out = r;
  return 0;
fail:
  sk_viz_remote_close(r);
  return rc;
}

void sk_viz_remote_close(sk_viz_remote *r) {
  if (!r)
    return;
  if (r->req)
    zmq_close(r->req);
  if (r->sub)
    zmq_close(r->sub);
  if (r->ctx)
    zmq_ctx_term(r->ctx);
  for (int i = 0; i < SK_VIZ_CHART_COUNT; i++) {
    free(r->s[i].t);
    free(r->s[i].v);
  }
  free(r->markers);
  free(r);
}
