/*
 * twin_int.h -- private to api/: the public twin handle (api.h) over its two kinds, a live
 * session (live.c) and a recording (replay.c).  Both are a source of the server loop
 * (srv.c); the handle owns the loop, the ZeroMQ context if it made one, and the source.
 */
#ifndef SKADI_API_TWIN_INT_H
#define SKADI_API_TWIN_INT_H

#include <stdatomic.h>

#include "skadi/api.h"
#include "srv.h"

struct sk_api_twin {
  sk__srv *srv;
  void *zctx;
  int own_ctx;
  atomic_int done; /* set by the source's thread */
  void *impl;      /* the source's state */
  /* frees impl after the loop stopped; returns the run's final status */
  sk_status (*impl_free)(void *impl);
};

/* Allocates the handle with zctx (or a context of its own). NULL when out of memory. */
sk_api_twin *sk__twin_new(void *zctx);
/* Starts the loop over src/impl on the endpoints; on failure frees impl (impl_free) and
 * the handle.  */
sk_status sk__twin_serve(sk_api_twin *t, const char *cmd_ep, const char *pub_ep,
                         const sk__source *src, char *err, size_t errlen);

#endif
