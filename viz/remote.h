/*
 * remote.h -- a live twin elsewhere (`skadi serve --engine-only`, `skadi replay
 * --engine-only`) as a source of views, over the twin's ZeroMQ protocol version 1
 * (docs/PROTOCOL.md of the API): frames from its PUB socket, requests to its ROUTER.
 *
 * Single-threaded: the window's loop calls sk_viz_remote_poll once a frame, which drains
 * what ZeroMQ's own I/O thread queued (frames and replies) without blocking.  The twin
 * never waits for this client: its PUB socket drops frames for a subscriber that falls
 * behind.
 */
#ifndef SKADI_VIZ_REMOTE_H
#define SKADI_VIZ_REMOTE_H

#include <stddef.h>

#include "view.h"

typedef struct sk_viz_remote sk_viz_remote;

/* Connects to the twin's command endpoint (tcp://HOST:PORT or ipc://...) and its frame
 * endpoint (pub; NULL: the command port + 1) and says hello.  Returns 0; 2 when nothing
 * answers within timeout_s, or what answers is not a twin speaking protocol 1 (err says
 * which); 1 for a ZeroMQ failure. */
int sk_viz_remote_connect(sk_viz_remote **out, const char *endpoint, const char *pub,
                          double timeout_s, char *err, size_t errlen);
void sk_viz_remote_close(sk_viz_remote *r); /* NULL: no-op */

/* Drains frames and replies; asks for the KPI overview when the last answer is older than
 * a quarter second. */
void sk_viz_remote_poll(sk_viz_remote *r);

/* 1 once a racks frame and an overview arrived (a view can be drawn). */
int sk_viz_remote_ready(const sk_viz_remote *r);

/* Fills v with what arrived so far (series valid until the next poll). */
void sk_viz_remote_fill(sk_viz_remote *r, sk_viz_view *v);

/* Sends the request {"op": op, "args": args_json} (args_json: an object's JSON text, or
 * NULL); its reply's error, if any, shows in the view's status line.  Returns 0, or -1
 * when it cannot be sent. */
int sk_viz_remote_request(sk_viz_remote *r, const char *op, const char *args_json);

/* "live" or "replay" (the twin's kind). */
const char *sk_viz_remote_kind(const sk_viz_remote *r);

/* Frames received so far. */
long sk_viz_remote_frames(const sk_viz_remote *r);

#endif
