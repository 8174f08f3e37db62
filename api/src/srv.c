/*
 * srv.c -- the twin side's server loop (srv.h).  A ROUTER socket takes requests from any
 * number of gateways or scripts: [identity, (empty delimiter,) JSON]; the reply goes back
 * on the same route with the request's "id".  A PUB socket sends frames as two parts,
 * [topic, JSON], so a subscriber filters by topic prefix.
 *
 * The loop polls the ROUTER with the source's wait (at most 50 ms, so a stop is seen
 * quickly), answers every request that is waiting, then ticks the source.  Requests are
 * answered between two ticks: a handler sees the session between steps, never inside one.
 * PUB drops frames for a subscriber whose queue is full (high-water mark) rather than
 * block the twin: a slow gateway loses frames, the run does not slow down.
 */
#define _POSIX_C_SOURCE 200809L

#include "srv.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

struct sk__srv {
  void *router, *pub;
  const sk__source *src;
  void *ud;
  pthread_t thread;
  atomic_int stop;
  uint64_t frames;
  char cmd_ep[256], pub_ep[256];
};

static void send_reply(sk__srv *srv, zmq_msg_t *ident, int delim, cJSON *reply) {
  char *text = cJSON_PrintUnformatted(reply);
  cJSON_Delete(reply);
  if (!text)
    return;
  zmq_msg_send(ident, srv->router, ZMQ_SNDMORE | ZMQ_DONTWAIT);
  if (delim)
    zmq_send(srv->router, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
  zmq_send(srv->router, text, strlen(text), ZMQ_DONTWAIT);
  free(text);
}

/* Parses and dispatches one request; always returns a reply object. */
static cJSON *dispatch(sk__srv *srv, const char *data, size_t len) {
  sk__api_error e = {0};
  cJSON *req = cJSON_ParseWithLength(data, len);
  cJSON *reply = cJSON_CreateObject();
  cJSON_AddNumberToObject(reply, "v", SK_API_PROTOCOL_VERSION);
  const cJSON *id = req ? cJSON_GetObjectItemCaseSensitive(req, "id") : NULL;
  if (id && (cJSON_IsString(id) || cJSON_IsNumber(id)))
    cJSON_AddItemToObject(reply, "id", cJSON_Duplicate(id, 1));
  else
    cJSON_AddNullToObject(reply, "id");
  cJSON *result = NULL;
  if (!req || !cJSON_IsObject(req)) {
    sk__api_fail(&e, SK_APIE_INVALID_JSON, NULL, "the request is not a JSON object");
  } else {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "v");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(req, "args");
    if (v && (!cJSON_IsNumber(v) || v->valuedouble != SK_API_PROTOCOL_VERSION))
      sk__api_fail(&e, SK_APIE_UNSUPPORTED_VERSION, "v", "v: this twin speaks protocol version %d",
                   SK_API_PROTOCOL_VERSION);
    else if (!cJSON_IsString(op))
      sk__api_fail(&e, SK_APIE_MISSING_FIELD, "op", "op: expected the operation's name");
    else if (args && !cJSON_IsObject(args) && !cJSON_IsNull(args))
      sk__api_fail(&e, SK_APIE_INVALID_FIELD, "args", "args: expected an object");
    else {
      cJSON *none = args && cJSON_IsObject(args) ? NULL : cJSON_CreateObject();
      result = srv->src->handle(srv->ud, srv, op->valuestring, none ? none : args, &e);
      cJSON_Delete(none);
    }
  }
  if (result) {
    cJSON_AddBoolToObject(reply, "ok", 1);
    cJSON_AddItemToObject(reply, "result", result);
  } else {
    cJSON_AddBoolToObject(reply, "ok", 0);
    cJSON *ej = sk__api_error_json(&e);
    cJSON_AddItemToObject(reply, "error", cJSON_DetachItemFromObject(ej, "error"));
    cJSON_Delete(ej);
  }
  cJSON_Delete(req);
  return reply;
}

/* Reads one whole request off the ROUTER (non-blocking); 0 when none waits. */
static int serve_one(sk__srv *srv) {
  zmq_msg_t ident;
  zmq_msg_init(&ident);
  if (zmq_msg_recv(&ident, srv->router, ZMQ_DONTWAIT) < 0) {
    zmq_msg_close(&ident);
    return 0;
  }
  int delim = 0, more = zmq_msg_more(&ident);
  zmq_msg_t body;
  zmq_msg_init(&body);
  int have = 0;
  while (more) {
    zmq_msg_close(&body);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&body, srv->router, 0) < 0)
      break;
    more = zmq_msg_more(&body);
    if (zmq_msg_size(&body) == 0 && !have && more) {
      delim = 1; /* a REQ client's empty delimiter: echoed back */
      continue;
    }
    have = 1;
    while (more) { /* extra parts are ignored */
      zmq_msg_t x;
      zmq_msg_init(&x);
      zmq_msg_recv(&x, srv->router, 0);
      more = zmq_msg_more(&x);
      zmq_msg_close(&x);
    }
  }
  cJSON *reply =
      have ? dispatch(srv, zmq_msg_data(&body), zmq_msg_size(&body)) : dispatch(srv, "", 0);
  send_reply(srv, &ident, delim, reply);
  zmq_msg_close(&body);
  zmq_msg_close(&ident);
  return 1;
}

static void *srv_thread(void *arg) {
  sk__srv *srv = arg;
  double wait_s = 0;
  while (!atomic_load(&srv->stop)) {
    zmq_pollitem_t it = {srv->router, 0, ZMQ_POLLIN, 0};
    long ms = wait_s < 0 ? 50 : (long)(wait_s * 1000.0 + 0.5);
    if (ms > 50)
      ms = 50;
    if (zmq_poll(&it, 1, ms) > 0)
      for (int n = 0; n < 1000 && serve_one(srv); n++)
        ;
    wait_s = srv->src->tick(srv->ud, srv);
  }
  if (srv->src->stop)
    srv->src->stop(srv->ud, srv);
  return NULL;
}

void sk__srv_publish(sk__srv *srv, const char *topic, cJSON *frame) {
  char *text = frame ? cJSON_PrintUnformatted(frame) : NULL;
  cJSON_Delete(frame);
  if (!text)
    return;
  zmq_send(srv->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
  zmq_send(srv->pub, text, strlen(text), ZMQ_DONTWAIT);
  srv->frames++;
  free(text);
}

uint64_t sk__srv_frames(const sk__srv *srv) {
  return srv->frames;
}

const char *sk__srv_cmd_endpoint(const sk__srv *srv) {
  return srv->cmd_ep;
}

const char *sk__srv_pub_endpoint(const sk__srv *srv) {
  return srv->pub_ep;
}

sk_status sk__srv_start(sk__srv **out, void *zctx, const char *cmd_ep, const char *pub_ep,
                        const sk__source *src, void *ud, char *err, size_t errlen) {
  *out = NULL;
  sk__srv *srv = calloc(1, sizeof *srv);
  if (!srv)
    return SK_ENOMEM;
  srv->src = src;
  srv->ud = ud;
  srv->router = zmq_socket(zctx, ZMQ_ROUTER);
  srv->pub = zmq_socket(zctx, ZMQ_PUB);
  int zero = 0, hwm = 1000;
  zmq_setsockopt(srv->router, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(srv->pub, ZMQ_LINGER, &zero, sizeof zero);
  zmq_setsockopt(srv->pub, ZMQ_SNDHWM, &hwm, sizeof hwm);
  if (zmq_bind(srv->router, cmd_ep) != 0) {
    sk_errf(err, errlen, "--bind %s: %s", cmd_ep, zmq_strerror(errno));
    goto fail;
  }
  if (zmq_bind(srv->pub, pub_ep) != 0) {
    sk_errf(err, errlen, "--pub %s: %s", pub_ep, zmq_strerror(errno));
    goto fail;
  }
  size_t n = sizeof srv->cmd_ep;
  zmq_getsockopt(srv->router, ZMQ_LAST_ENDPOINT, srv->cmd_ep, &n);
  n = sizeof srv->pub_ep;
  zmq_getsockopt(srv->pub, ZMQ_LAST_ENDPOINT, srv->pub_ep, &n);
  if (pthread_create(&srv->thread, NULL, srv_thread, srv) != 0) {
    sk_errf(err, errlen, "cannot start the twin's thread");
    goto fail;
  }
  *out = srv;
  return SK_OK;
fail:
  zmq_close(srv->router);
  zmq_close(srv->pub);
  free(srv);
  return SK_EIO;
}

void sk__srv_stop(sk__srv *srv) {
  if (!srv)
    return;
  atomic_store(&srv->stop, 1);
  pthread_join(srv->thread, NULL);
  zmq_close(srv->router);
  zmq_close(srv->pub);
  free(srv);
}
