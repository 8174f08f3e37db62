/*
 * srv.h -- private to api/: the twin side's server loop, shared by the live twin (live.c)
 * and the replay (replay.c).  One thread owns a ROUTER socket (requests, docs/PROTOCOL.md)
 * and a PUB socket (frames) and calls its source: tick() to advance and publish, handle()
 * for each request.  The source's state is touched only on that thread.
 */
#ifndef SKADI_API_SRV_H
#define SKADI_API_SRV_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "proto.h"
#include "skadi/status.h"

typedef struct sk__srv sk__srv;

typedef struct {
  /* Advances the source a step and publishes what it made.  Returns the wall seconds it
   * wants to wait before the next tick (0: at once; < 0: nothing to do until a request). */
  double (*tick)(void *ud, sk__srv *srv);
  /* One request: the result object (the server frees it), or NULL with e filled. */
  cJSON *(*handle)(void *ud, sk__srv *srv, const char *op, const cJSON *args, sk__api_error *e);
  /* On the server thread as it stops (the source flushes and finishes there). */
  void (*stop)(void *ud, sk__srv *srv);
} sk__source;

/* Binds cmd_ep (ROUTER) and pub_ep (PUB) in zctx and starts the thread.  SK_EIO with a
 * message naming the endpoint when a bind fails. */
sk_status sk__srv_start(sk__srv **out, void *zctx, const char *cmd_ep, const char *pub_ep,
                        const sk__source *src, void *ud, char *err, size_t errlen);
/* Asks the thread to stop (within ~50 ms), joins it, closes the sockets, frees.  NULL ok. */
void sk__srv_stop(sk__srv *srv);
/* Publishes frame under topic (server thread only); takes the frame and frees it. */
void sk__srv_publish(sk__srv *srv, const char *topic, cJSON *frame);
uint64_t sk__srv_frames(const sk__srv *srv);
/* The endpoints as bound (ZeroMQ resolves tcp://127.0.0.1:0 to the real port). */
const char *sk__srv_cmd_endpoint(const sk__srv *srv);
const char *sk__srv_pub_endpoint(const sk__srv *srv);

#endif
