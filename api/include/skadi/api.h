/*
 * api.h -- Skadi's live API (library skadi_api, on top of skadi_sim): the twin side, which
 * owns a run session or a recording and serves the ZeroMQ protocol (docs/PROTOCOL.md), and
 * the gateway, which turns that protocol into the seed's REST and WebSocket routes
 * (docs/API.md).  `skadi serve`, `skadi gateway` and `skadi replay` are thin front ends
 * over these calls.
 *
 * Threads: each twin runs on a thread of its own (the session's stepping thread); the
 * gateway runs its event loop on the caller's thread in sk_api_gateway_run and one bridge
 * thread of its own owns its ZeroMQ sockets.  sk_api_gateway_stop and sk_api_twin_done may
 * be called from any thread; the rest from the thread that created the object.
 * The library installs no signal handler: the caller turns SIGTERM into
 * sk_api_gateway_stop / sk_api_twin_stop.
 */
#ifndef SKADI_API_H
#define SKADI_API_H

#include <stddef.h>

#include "skadi/session.h"

/* ---- the twin side ------------------------------------------------------------------- */

typedef struct sk_api_twin sk_api_twin;

typedef struct {
  const sk_session_config *session; /* the run (copied as the session is created) */
  double speed;                     /* x real time, 0 = as fast as possible */
  int start_paused;                 /* start paused (a client resumes with the pace op) */
  const char *cmd_endpoint;         /* ROUTER, e.g. "tcp://127.0.0.1:5555", "inproc://x" */
  const char *pub_endpoint;         /* PUB */
  void *zmq_ctx;                    /* ZeroMQ context (inproc needs the gateway's), or
                                       NULL for one of its own */
} sk_api_twin_config;

/* Creates the session and starts serving it.  SK_EINVAL (bad scenario, flags: the message
 * names the field), SK_EIO (recording, or an endpoint cannot be bound), SK_ENOMEM. */
sk_status sk_api_twin_start(sk_api_twin **out, const sk_api_twin_config *cfg, char *err,
                            size_t errlen);
/* 1 once the run reached its end (the recording is finished then).  Thread-safe. */
int sk_api_twin_done(const sk_api_twin *t);
/* Stops the thread, finishes the recording ("interrupted" unless the run was complete),
 * frees everything.  NULL is a no-op.  Returns the session's final status. */
sk_status sk_api_twin_stop(sk_api_twin *t);
const char *sk_api_twin_cmd_endpoint(const sk_api_twin *t);
const char *sk_api_twin_pub_endpoint(const sk_api_twin *t);

/* A recording published as a twin would (frames and read ops; play, pause, seek, speed). */
typedef struct {
  const char *path; /* a recording of skadi run / serve */
  double speed;     /* x real time, 0 = as fast as possible */
  int start_paused;
  const char *cmd_endpoint, *pub_endpoint;
  void *zmq_ctx;
} sk_api_replay_config;

/* SK_ENOTFOUND / SK_EPARSE / SK_EIO with recording.h's messages, SK_EIO for a bind. */
sk_status sk_api_replay_start(sk_api_twin **out, const sk_api_replay_config *cfg, char *err,
                              size_t errlen);

/* ---- the gateway --------------------------------------------------------------------- */

typedef struct sk_api_gateway sk_api_gateway;

typedef struct {
  const char *connect;     /* the twin's ROUTER endpoint */
  const char *sub;         /* the twin's PUB endpoint */
  void *zmq_ctx;           /* NULL: one of its own */
  const char *host;        /* interface to listen on, "127.0.0.1" (NULL) */
  int port;                /* 0: any free port (sk_api_gateway_port says which) */
  const char *token;       /* mutating routes need "Authorization: Bearer <token>"; NULL: none */
  double timeout_s;        /* a twin reply later than this is a 504 (0: 5 s) */
  size_t max_body;         /* request bodies above this are 413 (0: 1 MiB) */
  const char *www_dir;     /* serves GET / and /static/ from here; NULL: the built-in copy */
  size_t ws_frames;        /* frames kept for WebSocket clients (0: 1024); a client further
                              behind skips to the newest */
  const char *cors_origin; /* a browser origin allowed to call from elsewhere
                              ("http://localhost:3000"), or NULL: same origin only */
} sk_api_gateway_config;

/* Creates the listening socket and the bridge thread.  SK_EIO when the port cannot be
 * bound (the message says which). */
sk_status sk_api_gateway_create(sk_api_gateway **out, const sk_api_gateway_config *cfg, char *err,
                                size_t errlen);
int sk_api_gateway_port(const sk_api_gateway *gw);
/* Runs the event loop until sk_api_gateway_stop; closes every client before it returns. */
sk_status sk_api_gateway_run(sk_api_gateway *gw);
/* Thread-safe; also safe from a thread that sigwait()s for SIGTERM. */
void sk_api_gateway_stop(sk_api_gateway *gw);
void sk_api_gateway_destroy(sk_api_gateway *gw);

#endif
