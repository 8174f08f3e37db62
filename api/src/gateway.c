/*
 * gateway.c -- the seed's REST and WebSocket routes over the twin's ZeroMQ protocol
 * (docs/API.md, docs/PROTOCOL.md), on libwebsockets.
 *
 * Two threads.  The event loop (the caller's, in sk_api_gateway_run) owns every
 * connection and never blocks: a route that needs the twin becomes a request that the
 * loop hands to the bridge and the connection waits, with a timer (504 when it fires).
 * The bridge thread owns the ZeroMQ sockets -- a DEALER to the twin's ROUTER, a SUB to its
 * PUB -- and a pipe the loop writes to when it queued a request.  Replies and frames come
 * back through two mutex-protected queues and lws_cancel_service(), which wakes the loop
 * (LWS_CALLBACK_EVENT_WAIT_CANCELLED) to take them.
 *
 * Frames go to WebSocket clients through a ring of the last ws_frames frames (1024) owned
 * by the loop.
 * Each client keeps a cursor and is sent one frame per writable callback; a client the
 * ring has overtaken jumps to the newest frame and the frames it missed are counted as
 * skipped.  A slow client thus gets fresh frames late rather than stale ones, and never
 * holds the others up: nothing waits for it.
 *
 * Requests are checked here at the HTTP level (route, method, Content-Length, size, JSON,
 * bearer token) and the op's arguments by the twin, so the rules hold for every client of
 * the protocol alike.  Nothing of a rejected request reaches the twin's state.
 *
 * Twin restarts: the DEALER and SUB reconnect by themselves (ZeroMQ retries every 100 ms
 * up to 1 s); a request sent while no twin is connected fails at once with 503
 * (ZMQ_IMMEDIATE), one lost with a dying twin times out with 504.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <zmq.h>

#include "proto.h"
#include "skadi/api.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif

#define RING_DEFAULT 1024    /* frames kept for WebSocket clients */
#define MAX_QUEUED 1024      /* frames waiting for the loop; beyond, the oldest goes */
#define MAX_PENDING 4096     /* requests waiting for the twin */
#define CACHE_MAX_AGE_S 0.02 /* GET /state/overview answered from a copy at most this old */

typedef struct sk__www_file {
  const char *name;
  const unsigned char *data;
  size_t size;
} sk__www_file;
extern const sk__www_file sk__www_files[];

/* ---- routes ---------------------------------------------------------------------------- */

typedef enum { M_GET = 0, M_POST, M_OPTIONS, M_OTHER } method;

typedef enum {
  K_TWIN, /* forwarded to the twin as op */
  K_HEALTH,
  K_METRICS,
  K_FILE, /* a built-in file */
  K_WS    /* /ws/events: WebSocket only */
} route_kind;

typedef struct {
  const char *path;
  method m;
  route_kind kind;
  const char *op; /* the twin's op, or the file's name */
  int mutating;   /* needs the bearer token when one is set */
  int body;       /* POST body: 1 an object, the op's args; 2 the same but optional;
                     0 none (empty or {}) */
} route;

static const route routes[] = {
    {"/", M_GET, K_FILE, "index.html", 0, 0},
    {"/static/app.js", M_GET, K_FILE, "app.js", 0, 0},
    {"/static/style.css", M_GET, K_FILE, "style.css", 0, 0},
    {"/openapi.json", M_GET, K_FILE, "openapi.json", 0, 0},
    {"/health", M_GET, K_HEALTH, NULL, 0, 0},
    {"/metrics", M_GET, K_METRICS, NULL, 0, 0},
    {"/ws/events", M_GET, K_WS, NULL, 0, 0},
    {"/state/overview", M_GET, K_TWIN, "overview", 0, 0},
    {"/heatmap", M_GET, K_TWIN, "heatmap", 0, 0},
    {"/timeline", M_GET, K_TWIN, "timeline", 0, 0},
    {"/mode", M_GET, K_TWIN, "mode_get", 0, 0},
    {"/mode", M_POST, K_TWIN, "mode_set", 1, 1},
    {"/kill_switch", M_GET, K_TWIN, "mode_get", 0, 0},
    {"/kill_switch", M_POST, K_TWIN, "kill_switch", 1, 1},
    {"/actions/apply", M_POST, K_TWIN, "apply", 1, 1},
    {"/actions/log", M_GET, K_TWIN, "actions_log", 0, 0},
    {"/optimizer/tick", M_POST, K_TWIN, "optimizer_tick", 1, 0},
    {"/demo/scenario", M_POST, K_TWIN, "demo", 1, 1},
    {"/demo/scenarios", M_GET, K_TWIN, "demo_list", 0, 0},
    {"/telemetry", M_POST, K_TWIN, "telemetry", 1, 1},
    {"/report/judges", M_POST, K_TWIN, "report", 1, 0},
    {"/settings", M_POST, K_TWIN, "set", 1, 1},
    {"/pace", M_POST, K_TWIN, "pace", 1, 1},
    {"/status", M_GET, K_TWIN, "status", 0, 0},
    {"/ims/train", M_POST, K_TWIN, "ims_train", 1, 2},
    {"/ims/models", M_GET, K_TWIN, "ims_models", 0, 0},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

/* Query parameters a GET route takes (the rest are 400 unknown_field); numeric values of
 * the listed number keys are sent as numbers. */
static const struct {
  const char *op;
  const char *keys[4];
} query_keys[] = {
    {"heatmap", {"type", "ts", NULL}},
    {"timeline", {"from", "to", "max_points", NULL}},
    {"actions_log", {"limit", "decision", NULL}},
};

/* ---- metrics --------------------------------------------------------------------------- */

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    5};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])
#define N_CLASSES 5 /* 1xx..5xx */

typedef struct {
  uint64_t count[N_CLASSES];
  uint64_t bucket[N_BUCKETS];
  double sum_s;
} route_stats;

/* ---- the shared queues (bridge <-> loop) ----------------------------------------------- */

typedef struct msg {
  struct msg *next;
  uint64_t id;
  int status; /* replies: HTTP status */
  char *text; /* request JSON, reply body, or frame JSON */
  char topic[16];
} msg;

typedef struct {
  msg *head, *tail;
  size_t n;
} queue;

static void q_push(queue *q, msg *m) {
  m->next = NULL;
  if (q->tail)
    q->tail->next = m;
  else
    q->head = m;
  q->tail = m;
  q->n++;
}

static msg *q_take_all(queue *q) {
  msg *m = q->head;
  q->head = q->tail = NULL;
  q->n = 0;
  return m;
}

static void msg_free(msg *m) {
  if (m) {
    free(m->text);
    free(m);
  }
}

/* ---- the gateway ------------------------------------------------------------------------ */

typedef struct {
  uint64_t seq;
  unsigned topic; /* bit of the topic */
  size_t len;
  unsigned char *buf; /* LWS_PRE + len */
} frame;

struct sk_api_gateway {
  sk_api_gateway_config cfg;
  char *connect, *sub, *host, *token, *www_dir, *cors;
  struct lws_context *ctx;
  int port;
  void *zctx;
  int own_ctx;
  pthread_t bridge;
  int bridge_started;
  atomic_int stop;
  int wake[2];        /* loop -> bridge */
  pthread_mutex_t mu; /* guards the three queues and the twin status */
  queue out;          /* requests to send */
  queue replies;      /* from the twin */
  queue frames;       /* from the twin */
  uint64_t frames_dropped_queue;
  double twin_seen;  /* wall time of the last reply or frame */
  char *twin_status; /* the last status reply's result (JSON), for /health, /metrics */
  /* loop only */
  uint64_t next_id;
  struct lws *pending_wsi[MAX_PENDING];
  uint64_t pending_id[MAX_PENDING];
  int n_pending;
  frame *ring;
  uint64_t n_ring;                 /* its size */
  uint64_t ring_next;              /* seq of the next frame */
  route_stats stats[N_ROUTES + 1]; /* + unmatched */
  /* GET /state/overview, the hot read route: one request to the twin at a time serves
   * every connection asking meanwhile, and its answer serves the ones after it for
   * CACHE_MAX_AGE_S -- until a frame arrives or a POST goes to the twin, which may have
   * changed what it says */
  uint64_t ov_inflight; /* id of the request others may join, 0 none */
  double ov_sent;       /* when it was sent */
  char *ov_text;        /* the cached answer (200 only), NULL none */
  double ov_at;         /* when the request that made it was sent */
  uint64_t ov_hits, ov_joined;
  char *health_text; /* GET /health's answer, kept as long */
  int health_status;
  double health_at;
  uint64_t ws_clients, frames_in, frames_sent, frames_skipped;
  double started;
};

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *const topics[] = {"kpis", "racks", "actions", "events", "commands", "telemetry"};
#define N_TOPICS (sizeof topics / sizeof topics[0])

static unsigned topic_bit(const char *t) {
  for (unsigned i = 0; i < N_TOPICS; i++)
    if (strcmp(t, topics[i]) == 0)
      return 1u << i;
  return 0;
}

/* ---- the bridge thread ------------------------------------------------------------------ */

/* A twin reply as an HTTP status and body (the result, or {"error": ...}). */
static msg *reply_to_http(const char *data, size_t len) {
  msg *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  cJSON *r = cJSON_ParseWithLength(data, len);
  const cJSON *id = r ? cJSON_GetObjectItemCaseSensitive(r, "id") : NULL;
  const cJSON *ok = r ? cJSON_GetObjectItemCaseSensitive(r, "ok") : NULL;
  m->id = id && cJSON_IsNumber(id) ? (uint64_t)id->valuedouble : 0;
  if (cJSON_IsTrue(ok)) {
    cJSON *res = cJSON_GetObjectItemCaseSensitive(r, "result");
    m->status = 200;
    m->text = res ? cJSON_PrintUnformatted(res) : strdup("{}");
  } else {
    cJSON *err = r ? cJSON_DetachItemFromObjectCaseSensitive(r, "error") : NULL;
    const cJSON *code = err ? cJSON_GetObjectItemCaseSensitive(err, "code") : NULL;
    m->status = sk__api_err_http_by_name(cJSON_IsString(code) ? code->valuestring : NULL);
    cJSON *o = cJSON_CreateObject();
    if (err)
      cJSON_AddItemToObject(o, "error", err);
    else
      cJSON_AddItemToObject(
          o, "error",
          cJSON_Parse(
              "{\"code\":\"internal\",\"message\":\"the twin's reply is not the protocol's\","
              "\"field\":null}"));
    m->text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
  }
  cJSON_Delete(r);
  if (!m->text) {
    free(m);
    return NULL;
  }
  return m;
}

static void post_reply(sk_api_gateway *gw, uint64_t id, int status, const char *code,
                       const char *message) {
  msg *m = calloc(1, sizeof *m);
  if (!m)
    return;
  sk__api_error e;
  sk__api_err c = SK_APIE_INTERNAL;
  for (int i = 0; i < SK_APIE_COUNT; i++)
    if (strcmp(sk__api_err_name((sk__api_err)i), code) == 0)
      c = (sk__api_err)i;
  sk__api_fail(&e, c, NULL, "%s", message);
  cJSON *o = sk__api_error_json(&e);
  m->text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  m->id = id;
  m->status = status;
  pthread_mutex_lock(&gw->mu);
  q_push(&gw->replies, m);
  pthread_mutex_unlock(&gw->mu);
}

static void *bridge_main(void *arg) {
  sk_api_gateway *gw = arg;
  void *dealer = zmq_socket(gw->zctx, ZMQ_DEALER);
  void *sub = zmq_socket(gw->zctx, ZMQ_SUB);
  int zero = 0, one = 1, ivl = 100, ivl_max = 1000, hwm = 1000;
  zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(dealer, ZMQ_IMMEDIATE, &one, sizeof one);
  zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
  zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
  for (int i = 0; i < 2; i++) {
    void *s = i ? sub : dealer;
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
  }
  zmq_connect(dealer, gw->connect);
  zmq_connect(sub, gw->sub);
  double last_ping = 0;
  while (!atomic_load(&gw->stop)) {
    zmq_pollitem_t items[3] = {
        {dealer, 0, ZMQ_POLLIN, 0}, {sub, 0, ZMQ_POLLIN, 0}, {NULL, gw->wake[0], ZMQ_POLLIN, 0}};
    zmq_poll(items, 3, 100);
    int woke = 0;
    if (items[2].revents & ZMQ_POLLIN) {
      char buf[256];
      while (read(gw->wake[0], buf, sizeof buf) > 0)
        ;
    }
    double now = wall_now();
    /* a status request once a second: liveness and figures for /health and /metrics */
    if (now - last_ping >= 1.0) {
      last_ping = now;
      const char *ping = "{\"v\":1,\"id\":0,\"op\":\"status\"}";
      zmq_send(dealer, ping, strlen(ping), ZMQ_DONTWAIT);
    }
    pthread_mutex_lock(&gw->mu);
    msg *todo = q_take_all(&gw->out);
    pthread_mutex_unlock(&gw->mu);
    while (todo) {
      msg *next = todo->next;
      if (zmq_send(dealer, todo->text, strlen(todo->text), ZMQ_DONTWAIT) < 0) {
        post_reply(gw, todo->id, 503, "twin_unavailable",
                   "no twin is connected (is skadi serve --engine-only running?)");
        woke = 1;
      }
      msg_free(todo);
      todo = next;
    }
    for (int n = 0; n < 1000; n++) {
      zmq_msg_t zm;
      zmq_msg_init(&zm);
      if (zmq_msg_recv(&zm, dealer, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&zm);
        break;
      }
      msg *m = reply_to_http(zmq_msg_data(&zm), zmq_msg_size(&zm));
      zmq_msg_close(&zm);
      if (!m)
        continue;
      pthread_mutex_lock(&gw->mu);
      gw->twin_seen = now;
      if (m->id == 0) { /* our status ping */
        free(gw->twin_status);
        gw->twin_status = m->status == 200 ? m->text : NULL;
        if (m->status != 200)
          free(m->text);
        free(m);
      } else {
        q_push(&gw->replies, m);
        woke = 1;
      }
      pthread_mutex_unlock(&gw->mu);
    }
    for (int n = 0; n < 1000; n++) {
      char topic[16];
      int tl = zmq_recv(sub, topic, sizeof topic - 1, ZMQ_DONTWAIT);
      if (tl < 0)
        break;
      topic[tl < (int)sizeof topic - 1 ? tl : (int)sizeof topic - 1] = 0;
      int more = 0;
      size_t ml = sizeof more;
      zmq_getsockopt(sub, ZMQ_RCVMORE, &more, &ml);
      if (!more)
        continue;
      zmq_msg_t zm;
      zmq_msg_init(&zm);
      if (zmq_msg_recv(&zm, sub, 0) < 0) {
        zmq_msg_close(&zm);
        break;
      }
      msg *m = calloc(1, sizeof *m);
      char *text = m ? malloc(zmq_msg_size(&zm) + 1) : NULL;
      if (m && text) {
        memcpy(text, zmq_msg_data(&zm), zmq_msg_size(&zm));
        text[zmq_msg_size(&zm)] = 0;
        m->text = text;
        snprintf(m->topic, sizeof m->topic, "%s", topic);
        pthread_mutex_lock(&gw->mu);
        gw->twin_seen = now;
        if (gw->frames.n >= MAX_QUEUED) { /* the loop is behind: the oldest goes */
          msg *old = gw->frames.head;
          gw->frames.head = old->next;
          if (!gw->frames.head)
            gw->frames.tail = NULL;
          gw->frames.n--;
          msg_free(old);
          gw->frames_dropped_queue++;
        }
        q_push(&gw->frames, m);
        pthread_mutex_unlock(&gw->mu);
        woke = 1;
      } else {
        free(m);
        free(text);
      }
      zmq_msg_close(&zm);
    }
    if (woke)
      lws_cancel_service(gw->ctx);
  }
  zmq_close(dealer);
  zmq_close(sub);
  return NULL;
}

/* ---- per connection ------------------------------------------------------------------- */

typedef struct {
  int is_ws;
  int route; /* index in routes, -1 none */
  double t0;
  /* request */
  char *body;
  size_t body_len, body_cap, content_length;
  int too_large;
  char args_query[1024];
  /* waiting for the twin */
  uint64_t req_id;
  int waiting;
  /* response */
  int status;
  unsigned char *resp; /* LWS_PRE + resp_len */
  size_t resp_len;
  const char *ctype;
  const char *allow; /* 405: the Allow header */
  int www_auth;      /* 401: WWW-Authenticate */
  int headers_sent, close_after;
  int answered;   /* a response is set: later body callbacks are ignored */
  int preflight;  /* an OPTIONS request */
  int dispatched; /* the request went its way */
  /* WebSocket */
  uint64_t cursor;
  unsigned topics;
} pss;

static int set_response(pss *p, int status, const char *ctype, const void *data, size_t len) {
  free(p->resp);
  p->resp = malloc(LWS_PRE + len + 1);
  if (!p->resp)
    return 0;
  memcpy(p->resp + LWS_PRE, data, len);
  p->resp_len = len;
  p->status = status;
  p->ctype = ctype;
  return 1;
}

static void respond_json(struct lws *wsi, pss *p, int status, const char *text) {
  p->answered = 1;
  set_response(p, status, "application/json", text, strlen(text));
  lws_callback_on_writable(wsi);
}

static void respond_error(struct lws *wsi, pss *p, sk__api_err code, const char *field,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void respond_error(struct lws *wsi, pss *p, sk__api_err code, const char *field,
                          const char *fmt, ...) {
  sk__api_error e;
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  sk__api_fail(&e, code, field, "%s", message);
  cJSON *o = sk__api_error_json(&e);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  respond_json(wsi, p, sk__api_err_http(code), text ? text : "{}");
  free(text);
}

static void record_stats(sk_api_gateway *gw, pss *p) {
  route_stats *s = &gw->stats[p->route >= 0 ? (size_t)p->route : N_ROUTES];
  int cls = p->status / 100 - 1;
  if (cls >= 0 && cls < N_CLASSES)
    s->count[cls]++;
  double d = wall_now() - p->t0;
  s->sum_s += d;
  for (size_t i = 0; i < N_BUCKETS; i++)
    if (d <= buckets[i])
      s->bucket[i]++;
}

static void pending_remove(sk_api_gateway *gw, uint64_t id, struct lws *wsi) {
  for (int i = 0; i < gw->n_pending; i++)
    if (gw->pending_id[i] == id && gw->pending_wsi[i] == wsi) {
      gw->pending_id[i] = gw->pending_id[gw->n_pending - 1];
      gw->pending_wsi[i] = gw->pending_wsi[gw->n_pending - 1];
      gw->n_pending--;
      return;
    }
}

static void wake_bridge(sk_api_gateway *gw) {
  char c = 1;
  ssize_t r = write(gw->wake[1], &c, 1);
  (void)r; /* a full pipe already wakes it */
}

/* Forgets the overview's copy and lets no one join the request in flight. */
static void cache_drop(sk_api_gateway *gw) {
  free(gw->ov_text);
  gw->ov_text = NULL;
  gw->ov_inflight = 0;
}

/* Sends op with args (taken) to the twin; the connection waits. */
static void to_twin(sk_api_gateway *gw, struct lws *wsi, pss *p, const char *op, cJSON *args) {
  if (gw->n_pending == MAX_PENDING) {
    cJSON_Delete(args);
    respond_error(wsi, p, SK_APIE_TWIN_UNAVAILABLE, NULL, "too many requests wait for the twin");
    return;
  }
  uint64_t id = ++gw->next_id;
  cJSON *req = cJSON_CreateObject();
  cJSON_AddNumberToObject(req, "v", SK_API_PROTOCOL_VERSION);
  cJSON_AddNumberToObject(req, "id", (double)id);
  cJSON_AddStringToObject(req, "op", op);
  cJSON_AddItemToObject(req, "args", args ? args : cJSON_CreateObject());
  msg *m = calloc(1, sizeof *m);
  if (m)
    m->text = cJSON_PrintUnformatted(req);
  cJSON_Delete(req);
  if (!m || !m->text) {
    msg_free(m);
    respond_error(wsi, p, SK_APIE_INTERNAL, NULL, "out of memory");
    return;
  }
  m->id = id;
  p->req_id = id;
  p->waiting = 1;
  if (strcmp(op, "overview") == 0) { /* the others asking meanwhile join this one */
    gw->ov_inflight = id;
    gw->ov_sent = wall_now();
  } else if (p->route >= 0 && routes[p->route].m == M_POST) {
    cache_drop(gw); /* it may change what the overview says */
  }
  gw->pending_id[gw->n_pending] = id;
  gw->pending_wsi[gw->n_pending++] = wsi;
  pthread_mutex_lock(&gw->mu);
  q_push(&gw->out, m);
  pthread_mutex_unlock(&gw->mu);
  wake_bridge(gw);
  lws_set_timer_usecs(wsi, (lws_usec_t)(gw->cfg.timeout_s * 1e6));
}

/* The query string as the op's args; 0 with a response when a key is not the route's. */
static cJSON *query_args(struct lws *wsi, pss *p, const route *r) {
  cJSON *args = cJSON_CreateObject();
  const char *const *keys = NULL;
  for (size_t i = 0; i < sizeof query_keys / sizeof *query_keys; i++)
    if (strcmp(query_keys[i].op, r->op) == 0)
      keys = query_keys[i].keys;
  char frag[512];
  for (int n = 0; lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, n) > 0; n++) {
    if (lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, n) <= 0) {
      cJSON_Delete(args);
      respond_error(wsi, p, SK_APIE_BAD_REQUEST, NULL,
                    "query parameter %d is longer than %zu bytes", n + 1, sizeof frag - 1);
      return NULL;
    }
    char *eq = strchr(frag, '=');
    const char *val = eq ? eq + 1 : "";
    if (eq)
      *eq = 0;
    int ok = 0;
    for (const char *const *k = keys; k && *k && !ok; k++)
      ok = strcmp(*k, frag) == 0;
    if (!ok) {
      cJSON_Delete(args);
      respond_error(wsi, p, SK_APIE_UNKNOWN_FIELD, frag, "%s: unknown query parameter for %s", frag,
                    r->path);
      return NULL;
    }
    char *end;
    double v = strtod(val, &end);
    cJSON_DeleteItemFromObjectCaseSensitive(args, frag);
    if (val[0] && !*end && isfinite(v) && strcmp(frag, "type") != 0 &&
        strcmp(frag, "decision") != 0)
      cJSON_AddNumberToObject(args, frag, v);
    else
      cJSON_AddStringToObject(args, frag, val);
  }
  return args;
}

static int token_ok(sk_api_gateway *gw, struct lws *wsi) {
  if (!gw->token)
    return 1;
  char h[512];
  if (lws_hdr_copy(wsi, h, sizeof h, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0)
    return 0;
  if (strncmp(h, "Bearer ", 7) != 0)
    return 0;
  /* length first, then every byte: no early exit on the first difference */
  const char *given = h + 7;
  size_t n = strlen(gw->token);
  if (strlen(given) != n)
    return 0;
  unsigned char diff = 0;
  for (size_t i = 0; i < n; i++)
    diff |= (unsigned char)(given[i] ^ gw->token[i]);
  return diff == 0;
}

static const sk__www_file *www_find(const char *name) {
  for (const sk__www_file *f = sk__www_files; f->name; f++)
    if (strcmp(f->name, name) == 0)
      return f;
  return NULL;
}

static const char *ctype_of(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot)
    return "application/octet-stream";
  if (strcmp(dot, ".html") == 0)
    return "text/html; charset=utf-8";
  if (strcmp(dot, ".js") == 0)
    return "text/javascript; charset=utf-8";
  if (strcmp(dot, ".css") == 0)
    return "text/css; charset=utf-8";
  return "application/json";
}

static void serve_file(sk_api_gateway *gw, struct lws *wsi, pss *p, const char *name) {
  if (gw->www_dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", gw->www_dir, name);
    FILE *f = fopen(path, "rb");
    if (f) {
      char *buf = NULL;
      size_t len = 0, cap = 0, n;
      char chunk[8192];
      while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n > cap) {
          cap = (len + n) * 2;
          char *g = realloc(buf, cap);
          if (!g)
            break;
          buf = g;
        }
        memcpy(buf + len, chunk, n);
        len += n;
      }
      fclose(f);
      p->answered = 1;
      set_response(p, 200, ctype_of(name), buf ? buf : "", len);
      free(buf);
      lws_callback_on_writable(wsi);
      return;
    }
  }
  const sk__www_file *f = www_find(name);
  if (!f) {
    respond_error(wsi, p, SK_APIE_NOT_FOUND, NULL, "%s is not built in", name);
    return;
  }
  p->answered = 1;
  set_response(p, 200, ctype_of(name), f->data, f->size);
  lws_callback_on_writable(wsi);
}

static void metrics(sk_api_gateway *gw, struct lws *wsi, pss *p) {
  size_t cap = 262144, len = 0;
  char *b = malloc(cap);
  if (!b) {
    respond_error(wsi, p, SK_APIE_INTERNAL, NULL, "out of memory");
    return;
  }
#define OUT(...)                                                                                   \
  do {                                                                                             \
    int w_ = snprintf(b + len, cap > len ? cap - len : 0, __VA_ARGS__);                            \
    if (w_ > 0)                                                                                    \
      len += (size_t)w_;                                                                           \
  } while (0)
  OUT("# HELP skadi_http_requests_total HTTP requests answered, by route and status class.\n"
      "# TYPE skadi_http_requests_total counter\n");
  for (size_t r = 0; r <= N_ROUTES; r++)
    for (int c = 0; c < N_CLASSES; c++)
      if (gw->stats[r].count[c])
        OUT("skadi_http_requests_total{route=\"%s %s\",code=\"%dxx\"} %llu\n",
            r < N_ROUTES ? (routes[r].m == M_GET ? "GET" : "POST") : "ANY",
            r < N_ROUTES ? routes[r].path : "unmatched", c + 1,
            (unsigned long long)gw->stats[r].count[c]);
  OUT("# HELP skadi_http_request_duration_seconds Time from request to response.\n"
      "# TYPE skadi_http_request_duration_seconds histogram\n");
  for (size_t r = 0; r <= N_ROUTES; r++) {
    uint64_t total = 0;
    for (int c = 0; c < N_CLASSES; c++)
      total += gw->stats[r].count[c];
    if (!total)
      continue;
    char lab[96];
    snprintf(lab, sizeof lab, "route=\"%s %s\"",
             r < N_ROUTES ? (routes[r].m == M_GET ? "GET" : "POST") : "ANY",
             r < N_ROUTES ? routes[r].path : "unmatched");
    for (size_t i = 0; i < N_BUCKETS; i++)
      OUT("skadi_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", lab, buckets[i],
          (unsigned long long)gw->stats[r].bucket[i]);
    OUT("skadi_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", lab,
        (unsigned long long)total);
    OUT("skadi_http_request_duration_seconds_sum{%s} %.6f\n", lab, gw->stats[r].sum_s);
    OUT("skadi_http_request_duration_seconds_count{%s} %llu\n", lab, (unsigned long long)total);
  }
  pthread_mutex_lock(&gw->mu);
  double seen = gw->twin_seen;
  cJSON *st = gw->twin_status ? cJSON_Parse(gw->twin_status) : NULL;
  uint64_t dropped = gw->frames_dropped_queue;
  pthread_mutex_unlock(&gw->mu);
  double now = wall_now();
  OUT("# HELP skadi_ws_clients WebSocket clients connected.\n# TYPE skadi_ws_clients gauge\n"
      "skadi_ws_clients %llu\n",
      (unsigned long long)gw->ws_clients);
  OUT("# HELP skadi_frames_received_total Frames received from the twin.\n"
      "# TYPE skadi_frames_received_total counter\nskadi_frames_received_total %llu\n",
      (unsigned long long)gw->frames_in);
  OUT("# HELP skadi_frames_sent_total Frames sent to WebSocket clients.\n"
      "# TYPE skadi_frames_sent_total counter\nskadi_frames_sent_total %llu\n",
      (unsigned long long)gw->frames_sent);
  OUT("# HELP skadi_frames_skipped_total Frames a slow WebSocket client skipped.\n"
      "# TYPE skadi_frames_skipped_total counter\nskadi_frames_skipped_total %llu\n",
      (unsigned long long)(gw->frames_skipped + dropped));
  OUT("# HELP skadi_twin_up 1 when the twin answered in the last 3 s.\n"
      "# TYPE skadi_twin_up gauge\nskadi_twin_up %d\n",
      seen > 0 && now - seen < 3.0);
  const cJSON *x;
  if (st && cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(st, "sim_time_s")))
    OUT("# HELP skadi_sim_time_seconds The twin's sim time.\n"
        "# TYPE skadi_sim_time_seconds gauge\nskadi_sim_time_seconds %.3f\n",
        x->valuedouble);
  if (st && (x = cJSON_GetObjectItemCaseSensitive(st, "speed")))
    OUT("# HELP skadi_speed Pacing, x real time (0 = as fast as possible).\n"
        "# TYPE skadi_speed gauge\nskadi_speed %g\n",
        cJSON_IsNumber(x) ? x->valuedouble : 0.0);
  if (st && cJSON_IsNumber(x = cJSON_GetObjectItemCaseSensitive(st, "frames")))
    OUT("# HELP skadi_twin_frames_total Frames the twin published.\n"
        "# TYPE skadi_twin_frames_total counter\nskadi_twin_frames_total %.0f\n",
        x->valuedouble);
  OUT("# HELP skadi_overview_cache_total GET /state/overview answered from the copy (hit) or "
      "by joining the request in flight (joined).\n# TYPE skadi_overview_cache_total counter\n"
      "skadi_overview_cache_total{how=\"hit\"} %llu\nskadi_overview_cache_total{how=\"joined\"} "
      "%llu\n",
      (unsigned long long)gw->ov_hits, (unsigned long long)gw->ov_joined);
  OUT("# HELP skadi_uptime_seconds Seconds since the gateway started.\n"
      "# TYPE skadi_uptime_seconds gauge\nskadi_uptime_seconds %.3f\n",
      now - gw->started);
#undef OUT
  cJSON_Delete(st);
  p->answered = 1;
  set_response(p, 200, "text/plain; version=0.0.4", b, len < cap ? len : cap - 1);
  free(b);
  lws_callback_on_writable(wsi);
}

static void health(sk_api_gateway *gw, struct lws *wsi, pss *p) {
  double t = wall_now();
  if (gw->health_text && t - gw->health_at <= CACHE_MAX_AGE_S) { /* a copy, as the overview's */
    respond_json(wsi, p, gw->health_status, gw->health_text);
    return;
  }
  pthread_mutex_lock(&gw->mu);
  double seen = gw->twin_seen;
  cJSON *st = gw->twin_status ? cJSON_Parse(gw->twin_status) : NULL;
  pthread_mutex_unlock(&gw->mu);
  int up = seen > 0 && wall_now() - seen < 3.0;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "status", up ? "ok" : "degraded");
  cJSON_AddBoolToObject(o, "twin_up", up);
  cJSON_AddNumberToObject(o, "protocol", SK_API_PROTOCOL_VERSION);
  cJSON_AddStringToObject(o, "version", SKADI_VERSION);
  cJSON_AddNumberToObject(o, "ws_clients", (double)gw->ws_clients);
  if (st)
    cJSON_AddItemToObject(o, "twin", st);
  else
    cJSON_AddNullToObject(o, "twin");
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  respond_json(wsi, p, up ? 200 : 503, text ? text : "{}");
  free(gw->health_text);
  gw->health_text = text;
  gw->health_status = up ? 200 : 503;
  gw->health_at = t;
}

/* The request is complete (headers, and body for POST): answer or forward it. */
static void dispatch(sk_api_gateway *gw, struct lws *wsi, pss *p) {
  const route *r = &routes[p->route];
  p->dispatched = 1;
  switch (r->kind) {
  case K_FILE:
    serve_file(gw, wsi, p, r->op);
    return;
  case K_HEALTH:
    health(gw, wsi, p);
    return;
  case K_METRICS:
    metrics(gw, wsi, p);
    return;
  case K_WS:
    respond_error(wsi, p, SK_APIE_BAD_REQUEST, NULL,
                  "/ws/events is a WebSocket: connect with Upgrade: websocket");
    return;
  case K_TWIN:
    break;
  }
  cJSON *args = NULL;
  if (r->m == M_GET) {
    if (!(args = query_args(wsi, p, r)))
      return;
    if (strcmp(r->op, "overview") == 0 && !args->child) {
      if (gw->ov_text && wall_now() - gw->ov_at <= CACHE_MAX_AGE_S) {
        cJSON_Delete(args);
        gw->ov_hits++;
        respond_json(wsi, p, 200, gw->ov_text);
        return;
      }
      if (gw->ov_inflight && gw->n_pending < MAX_PENDING) { /* join the request in flight */
        cJSON_Delete(args);
        gw->ov_joined++;
        p->req_id = gw->ov_inflight;
        p->waiting = 1;
        gw->pending_id[gw->n_pending] = gw->ov_inflight;
        gw->pending_wsi[gw->n_pending++] = wsi;
        lws_set_timer_usecs(wsi, (lws_usec_t)(gw->cfg.timeout_s * 1e6));
        return;
      }
    }
  } else {
    int empty = p->body_len == 0;
    if (!empty) {
      const char *end = NULL;
      args = cJSON_ParseWithLengthOpts(p->body, p->body_len, &end, 0);
      if (!args) {
        size_t at = end ? (size_t)(end - p->body) : 0;
        respond_error(wsi, p, SK_APIE_INVALID_JSON, NULL,
                      "the body is not valid JSON (near byte %zu)", at);
        return;
      }
      for (size_t i = (size_t)(end - p->body); i < p->body_len; i++)
        if (p->body[i] != ' ' && p->body[i] != '\n' && p->body[i] != '\r' && p->body[i] != '\t') {
          cJSON_Delete(args);
          respond_error(wsi, p, SK_APIE_INVALID_JSON, NULL,
                        "the body is not valid JSON (text after the value at byte %zu)", i);
          return;
        }
      if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        respond_error(wsi, p, SK_APIE_INVALID_JSON, NULL, "the body must be a JSON object");
        return;
      }
    }
    if (r->body == 1 && empty) {
      respond_error(wsi, p, SK_APIE_BAD_REQUEST, NULL, "%s needs a JSON object body", r->path);
      return;
    }
    if (!r->body && args && cJSON_GetArraySize(args) > 0) {
      respond_error(wsi, p, SK_APIE_UNKNOWN_FIELD, args->child->string,
                    "%s: unknown field (%s takes no body)", args->child->string, r->path);
      cJSON_Delete(args);
      return;
    }
  }
  to_twin(gw, wsi, p, r->op, args);
}

static int match_route(const char *path, method m, int *allow_get, int *allow_post) {
  int found = -1;
  *allow_get = *allow_post = 0;
  for (size_t i = 0; i < N_ROUTES; i++)
    if (strcmp(routes[i].path, path) == 0) {
      if (routes[i].m == M_GET)
        *allow_get = 1;
      else
        *allow_post = 1;
      if (routes[i].m == m)
        found = (int)i;
    }
  return found;
}

/* Take what the bridge brought: replies to waiting connections, frames into the ring. */
static void take_from_bridge(sk_api_gateway *gw, struct lws_vhost *vh,
                             const struct lws_protocols *proto) {
  pthread_mutex_lock(&gw->mu);
  msg *rep = q_take_all(&gw->replies);
  msg *frm = q_take_all(&gw->frames);
  pthread_mutex_unlock(&gw->mu);
  while (rep) {
    msg *next = rep->next;
    for (int i = 0; i < gw->n_pending;) /* every connection waiting for it (joined ones) */
      if (gw->pending_id[i] == rep->id) {
        struct lws *wsi = gw->pending_wsi[i];
        pss *p = lws_wsi_user(wsi);
        pending_remove(gw, rep->id, wsi); /* moves the last entry to i */
        if (p && p->waiting) {
          p->waiting = 0;
          lws_set_timer_usecs(wsi, -1);
          respond_json(wsi, p, rep->status, rep->text);
        }
      } else {
        i++;
      }
    if (rep->id == gw->ov_inflight) {
      gw->ov_inflight = 0;
      free(gw->ov_text);
      gw->ov_text = rep->status == 200 ? strdup(rep->text) : NULL;
      gw->ov_at = gw->ov_sent;
    }
    msg_free(rep);
    rep = next;
  }
  int any = 0;
  if (frm) /* the twin moved on: the overview's copy is stale */
    cache_drop(gw);
  while (frm) {
    msg *next = frm->next;
    frame *f = &gw->ring[gw->ring_next % gw->n_ring];
    free(f->buf);
    size_t len = strlen(frm->text);
    f->buf = malloc(LWS_PRE + len);
    if (f->buf) {
      memcpy(f->buf + LWS_PRE, frm->text, len);
      f->len = len;
      f->seq = gw->ring_next++;
      f->topic = topic_bit(frm->topic);
      gw->frames_in++;
      any = 1;
    }
    msg_free(frm);
    frm = next;
  }
  if (any && vh)
    lws_callback_on_writable_all_protocol_vhost(vh, proto);
}

/* The next frame for a client, or NULL; jumps a client the ring overtook. */
static frame *next_frame(sk_api_gateway *gw, pss *p) {
  uint64_t oldest = gw->ring_next > gw->n_ring ? gw->ring_next - gw->n_ring : 0;
  if (p->cursor < oldest) {
    /* overtaken: go to the newest frame of its topics, count the rest as skipped */
    uint64_t c = gw->ring_next;
    while (c > oldest && !(gw->ring[(c - 1) % gw->n_ring].topic & p->topics))
      c--;
    uint64_t to = c > oldest ? c - 1 : gw->ring_next;
    for (uint64_t s = p->cursor; s < to; s++)
      if (s >= oldest && (gw->ring[s % gw->n_ring].topic & p->topics))
        gw->frames_skipped++;
    gw->frames_skipped += oldest > p->cursor ? oldest - p->cursor : 0;
    p->cursor = to;
  }
  while (p->cursor < gw->ring_next) {
    frame *f = &gw->ring[p->cursor % gw->n_ring];
    p->cursor++;
    if (f->topic & p->topics)
      return f;
  }
  return NULL;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
  struct lws_context *ctx = lws_get_context(wsi);
  sk_api_gateway *gw = lws_context_user(ctx);
  pss *p = user;
  switch (reason) {
  case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
    take_from_bridge(gw, lws_get_vhost(wsi), lws_get_protocol(wsi));
    return 0;

  case LWS_CALLBACK_HTTP: {
    memset(p, 0, sizeof *p);
    p->t0 = wall_now();
    p->route = -1;
    char *uri = NULL;
    int ulen = 0;
    int mi = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    method m = mi == LWSHUMETH_GET       ? M_GET
               : mi == LWSHUMETH_POST    ? M_POST
               : mi == LWSHUMETH_OPTIONS ? M_OPTIONS
                                         : M_OTHER;
    char path[256];
    snprintf(path, sizeof path, "%.*s", ulen, uri ? uri : (const char *)in);
    char *q = strchr(path, '?');
    if (q)
      *q = 0;
    int ag, ap;
    p->route = match_route(path, m, &ag, &ap);
    if (m == M_OPTIONS && (ag || ap)) { /* a CORS preflight (answered with --cors only) */
      p->allow = ag && ap ? "GET, POST" : ag ? "GET" : "POST";
      p->preflight = 1;
      p->answered = 1;
      set_response(p, gw->cors ? 204 : 405, "application/json", "", 0);
      lws_callback_on_writable(wsi);
      return 0;
    }
    if (p->route < 0) {
      if (ag || ap) {
        p->allow = ag && ap ? "GET, POST" : ag ? "GET" : "POST";
        respond_error(wsi, p, SK_APIE_METHOD_NOT_ALLOWED, NULL, "%s takes %s", path, p->allow);
      } else {
        respond_error(wsi, p, SK_APIE_NOT_FOUND, NULL, "no route %s (GET /openapi.json lists them)",
                      path);
      }
      p->close_after = m == M_POST || m == M_OTHER;
      return 0;
    }
    const route *r = &routes[p->route];
    if (r->mutating && !token_ok(gw, wsi)) {
      p->www_auth = 1;
      p->close_after = 1;
      respond_error(wsi, p, SK_APIE_UNAUTHORIZED, "Authorization",
                    "this route changes the run: send Authorization: Bearer <SKADI_API_TOKEN>");
      return 0;
    }
    if (m == M_POST) {
      char cl[32];
      if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0 ||
          lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        p->close_after = 1;
        respond_error(wsi, p, SK_APIE_LENGTH_REQUIRED, "Content-Length",
                      "POST needs a Content-Length header (chunked bodies are not taken)");
        return 0;
      }
      char *end;
      unsigned long long n = strtoull(cl, &end, 10);
      if (end == cl || *end) {
        p->close_after = 1;
        respond_error(wsi, p, SK_APIE_BAD_REQUEST, "Content-Length",
                      "Content-Length: '%s' is not a number", cl);
        return 0;
      }
      if (n > gw->cfg.max_body) {
        p->close_after = 1;
        respond_error(wsi, p, SK_APIE_PAYLOAD_TOO_LARGE, NULL,
                      "the body has %llu bytes; the limit is %zu", n, gw->cfg.max_body);
        return 0;
      }
      char ct[128] = "";
      lws_hdr_copy(wsi, ct, sizeof ct, WSI_TOKEN_HTTP_CONTENT_TYPE);
      if (n > 0 && strncmp(ct, "application/json", 16) != 0) {
        /* also what keeps a web page elsewhere from posting to the twin: a cross-origin
         * application/json request needs a preflight, which only --cors answers */
        p->close_after = 1;
        respond_error(wsi, p, SK_APIE_UNSUPPORTED_MEDIA_TYPE, "Content-Type",
                      "Content-Type: '%s' is not application/json", ct);
        return 0;
      }
      p->content_length = (size_t)n;
      if (n > 0) {
        p->body = malloc((size_t)n + 1);
        if (!p->body)
          return -1;
        p->body_cap = (size_t)n;
        return 0; /* the body follows */
      }
    }
    dispatch(gw, wsi, p);
    return 0;
  }

  case LWS_CALLBACK_HTTP_BODY:
    if (p->answered || p->dispatched || len == 0)
      return 0;
    if (!p->body || p->body_len + len > p->body_cap) {
      p->too_large = 1;
      return 0;
    }
    memcpy(p->body + p->body_len, in, len);
    p->body_len += len;
    return 0;

  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    if (p->answered || p->dispatched)
      return 0;
    if (p->too_large) {
      p->close_after = 1;
      respond_error(wsi, p, SK_APIE_PAYLOAD_TOO_LARGE, NULL,
                    "the body is longer than its Content-Length");
      return 0;
    }
    dispatch(gw, wsi, p);
    return 0;

  case LWS_CALLBACK_TIMER:
    if (p && p->waiting) {
      p->waiting = 0;
      pending_remove(gw, p->req_id, wsi);
      respond_error(wsi, p, SK_APIE_TWIN_TIMEOUT, NULL, "the twin did not answer within %g s",
                    gw->cfg.timeout_s);
    }
    return 0;

  case LWS_CALLBACK_HTTP_WRITEABLE: {
    if (!p || !p->resp)
      return 0;
    if (!p->headers_sent) {
      unsigned char hb[LWS_PRE + 1024], *start = hb + LWS_PRE, *ptr = start,
                                        *end = hb + sizeof hb - 1;
      if (lws_add_http_common_headers(wsi, (unsigned)p->status, p->ctype, p->resp_len, &ptr, end))
        return 1;
      if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                      (const unsigned char *)"no-store", 8, &ptr, end))
        return 1;
      if (p->allow && lws_add_http_header_by_name(
                          wsi, (const unsigned char *)"allow:", (const unsigned char *)p->allow,
                          (int)strlen(p->allow), &ptr, end))
        return 1;
      if (p->www_auth &&
          lws_add_http_header_by_name(wsi, (const unsigned char *)"www-authenticate:",
                                      (const unsigned char *)"Bearer", 6, &ptr, end))
        return 1;
      if (gw->cors) {
        static const char methods[] = "GET, POST, OPTIONS";
        static const char headers[] = "Content-Type, Authorization";
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)"access-control-allow-origin:",
                                        (const unsigned char *)gw->cors, (int)strlen(gw->cors),
                                        &ptr, end) ||
            lws_add_http_header_by_name(
                wsi, (const unsigned char *)"vary:", (const unsigned char *)"Origin", 6, &ptr, end))
          return 1;
        if (p->preflight && (lws_add_http_header_by_name(
                                 wsi, (const unsigned char *)"access-control-allow-methods:",
                                 (const unsigned char *)methods, (int)strlen(methods), &ptr, end) ||
                             lws_add_http_header_by_name(
                                 wsi, (const unsigned char *)"access-control-allow-headers:",
                                 (const unsigned char *)headers, (int)strlen(headers), &ptr, end)))
          return 1;
      }
      if (p->close_after &&
          lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                      (const unsigned char *)"close", 5, &ptr, end))
        return 1;
      if (lws_finalize_write_http_header(wsi, start, &ptr, end))
        return 1;
      p->headers_sent = 1;
      /* the body at once, in the same pass of the loop (lws keeps what the socket did not
       * take and sends it before anything else) */
    }
    if (lws_write(wsi, p->resp + LWS_PRE, p->resp_len, LWS_WRITE_HTTP_FINAL) < 0)
      return 1;
    record_stats(gw, p);
    free(p->resp);
    p->resp = NULL;
    free(p->body);
    p->body = NULL;
    if (p->close_after)
      return -1;
    if (lws_http_transaction_completed(wsi))
      return -1;
    return 0;
  }

  case LWS_CALLBACK_CLOSED_HTTP:
    if (p) {
      if (p->waiting)
        pending_remove(gw, p->req_id, wsi);
      p->waiting = 0;
      free(p->resp);
      p->resp = NULL;
      free(p->body);
      p->body = NULL;
    }
    return 0;

  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
    char path[64];
    if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0 ||
        strcmp(path, "/ws/events") != 0)
      return 1; /* WebSocket on /ws/events only */
    return 0;
  }

  case LWS_CALLBACK_ESTABLISHED: {
    memset(p, 0, sizeof *p);
    p->is_ws = 1;
    p->topics = topic_bit("kpis");
    char frag[256];
    for (int n = 0; lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, n) > 0;
         n++)
      if (strncmp(frag, "topics=", 7) == 0) {
        p->topics = 0;
        for (char *save = NULL, *t = strtok_r(frag + 7, ",", &save); t;
             t = strtok_r(NULL, ",", &save))
          p->topics |= topic_bit(t);
        if (!p->topics)
          p->topics = topic_bit("kpis");
      }
    /* start at the newest frame of its topics, so a new client sees the state at once */
    p->cursor = gw->ring_next;
    uint64_t oldest = gw->ring_next > gw->n_ring ? gw->ring_next - gw->n_ring : 0;
    for (uint64_t c = gw->ring_next; c > oldest; c--)
      if (gw->ring[(c - 1) % gw->n_ring].topic & p->topics) {
        p->cursor = c - 1;
        break;
      }
    gw->ws_clients++;
    lws_callback_on_writable(wsi);
    return 0;
  }

  case LWS_CALLBACK_SERVER_WRITEABLE: {
    frame *f = next_frame(gw, p);
    if (!f)
      return 0;
    /* lws_write may use the LWS_PRE bytes before the payload: the loop is one thread and
     * each write fills them anew, so clients can share the buffer */
    if (lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len)
      return -1;
    gw->frames_sent++;
    if (p->cursor < gw->ring_next)
      lws_callback_on_writable(wsi);
    return 0;
  }

  case LWS_CALLBACK_RECEIVE:
    return 0; /* clients may send; nothing is taken from them */

  case LWS_CALLBACK_CLOSED:
    if (gw->ws_clients)
      gw->ws_clients--;
    return 0;

  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"skadi", callback, sizeof(pss), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static char *dup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

sk_status sk_api_gateway_create(sk_api_gateway **out, const sk_api_gateway_config *cfg, char *err,
                                size_t errlen) {
  *out = NULL;
  sk_api_gateway *gw = calloc(1, sizeof *gw);
  if (!gw)
    return SK_ENOMEM;
  gw->cfg = *cfg;
  if (!(gw->cfg.timeout_s > 0))
    gw->cfg.timeout_s = 5;
  if (!gw->cfg.max_body)
    gw->cfg.max_body = 1u << 20;

  gw->connect = dup_or_null(cfg->connect);
  gw->sub = dup_or_null(cfg->sub);
  gw->host = dup_or_null(cfg->host ? cfg->host : "127.0.0.1");
  gw->token = dup_or_null(cfg->token);
  gw->www_dir = dup_or_null(cfg->www_dir);
  gw->cors = dup_or_null(cfg->cors_origin);
  gw->started = wall_now();
  pthread_mutex_init(&gw->mu, NULL);
  gw->wake[0] = gw->wake[1] = -1;
  gw->n_ring = cfg->ws_frames ? cfg->ws_frames : RING_DEFAULT;
  gw->ring = calloc(gw->n_ring, sizeof *gw->ring);
  if (!gw->ring) {
    sk_api_gateway_destroy(gw);
    return SK_ENOMEM;
  }
  if (pipe(gw->wake) != 0) {
    sk_errf(err, errlen, "cannot make a pipe: %s", strerror(errno));
    sk_api_gateway_destroy(gw);
    return SK_EIO;
  }
  fcntl(gw->wake[0], F_SETFL, O_NONBLOCK);
  fcntl(gw->wake[1], F_SETFL, O_NONBLOCK);
  gw->zctx = cfg->zmq_ctx;
  if (!gw->zctx) {
    gw->zctx = zmq_ctx_new();
    gw->own_ctx = 1;
  }
  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = cfg->port;
  info.iface = gw->host;
  info.protocols = protocols;
  info.user = gw;
  info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
  info.vhost_name = "default";
  gw->ctx = lws_create_context(&info);
  if (!gw->ctx) {
    sk_errf(err, errlen,
            "--port %d: cannot listen on %s:%d (in use, or not this machine's "
            "address?)",
            cfg->port, gw->host, cfg->port);
    sk_api_gateway_destroy(gw);
    return SK_EIO;
  }
  struct lws_vhost *vh = lws_get_vhost_by_name(gw->ctx, "default");
  gw->port = vh ? lws_get_vhost_listen_port(vh) : cfg->port;
  if (pthread_create(&gw->bridge, NULL, bridge_main, gw) != 0) {
    sk_errf(err, errlen, "cannot start the bridge thread");
    sk_api_gateway_destroy(gw);
    return SK_EIO;
  }
  gw->bridge_started = 1;
  *out = gw;
  return SK_OK;
}

int sk_api_gateway_port(const sk_api_gateway *gw) {
  return gw->port;
}

sk_status sk_api_gateway_run(sk_api_gateway *gw) {
  while (!atomic_load(&gw->stop))
    if (lws_service(gw->ctx, 0) < 0)
      return SK_EIO;
  return SK_OK;
}

void sk_api_gateway_stop(sk_api_gateway *gw) {
  atomic_store(&gw->stop, 1);
  if (gw->ctx)
    lws_cancel_service(gw->ctx);
}

void sk_api_gateway_destroy(sk_api_gateway *gw) {
  if (!gw)
    return;
  atomic_store(&gw->stop, 1);
  if (gw->bridge_started)
    pthread_join(gw->bridge, NULL);
  if (gw->ctx)
    lws_context_destroy(gw->ctx); /* closes every connection */
  for (uint64_t i = 0; gw->ring && i < gw->n_ring; i++)
    free(gw->ring[i].buf);
  free(gw->ring);
  queue *qs[] = {&gw->out, &gw->replies, &gw->frames};
  for (size_t i = 0; i < 3; i++) {
    msg *m = q_take_all(qs[i]);
    while (m) {
      msg *n = m->next;
      msg_free(m);
      m = n;
    }
  }
  free(gw->twin_status);
  free(gw->ov_text);
  free(gw->health_text);
  if (gw->wake[0] >= 0) {
    close(gw->wake[0]);
    close(gw->wake[1]);
  }
  pthread_mutex_destroy(&gw->mu);
  if (gw->own_ctx)
    zmq_ctx_term(gw->zctx);
  free(gw->connect);
  free(gw->sub);
  free(gw->host);
  free(gw->token);
  free(gw->www_dir);
  free(gw->cors);
  free(gw);
}
