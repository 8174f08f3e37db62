/*
 * engine.c -- the discrete-event kernel: clock, handler table, run loop.
 *
 * The engine is deliberately thin: it owns the clock and the queue (queue.h) and
 * dispatches (handler, target, arg) triples to a const table copied at creation.  It
 * holds no pointer into the world it drives -- the world is an argument of
 * sk_engine_run_until -- so cloning an engine is a plain deep copy.
 *
 * Invariants:
 *   - every pending event has t_ns >= now, so the clock never goes backwards;
 *   - every pending event's handler index is < n_handlers (checked once, at schedule);
 *   - run_until is not reentrant: a handler may schedule and cancel, not run.
 *
 * Contract breaks (an event in the past, a handler out of range, run_until backwards or
 * from inside a handler) are bugs in the caller: SK_REQUIRE (require.h) aborts with
 * file:line.  It stays on in release builds; it costs one predictable branch per call.
 *
 * Rejected: keeping the world pointer in the engine (clone would have to rewrite it);
 * handler function pointers inside events (twice the payload, and a clone could not be
 * checked against the table); a "current event" the handler can query (nothing needs it
 * yet, and it would be one more thing to keep right across clone).
 */
#include "skadi/engine.h"

#include <stdlib.h>

#include "queue.h"
#include "skadi/require.h"

struct sk_engine {
  sk__queue *q;
  sk_time_ns now;    /* sim clock, ns, >= 0 */
  uint64_t executed; /* events run since creation */
  uint32_t n_handlers;
  int running; /* inside sk_engine_run_until */
  sk_event_fn handlers[];
};

static sk_engine *engine_alloc(uint32_t n_handlers) {
  return calloc(1, sizeof(sk_engine) + (size_t)n_handlers * sizeof(sk_event_fn));
}

sk_status sk_engine_create(sk_engine **out, const sk_event_fn *handlers, uint32_t n_handlers,
                           size_t cap_hint) {
  SK_REQUIRE(out != NULL);
  SK_REQUIRE(handlers != NULL || n_handlers == 0);
  for (uint32_t i = 0; i < n_handlers; i++)
    SK_REQUIRE(handlers[i] != NULL);

  *out = NULL;
  sk_engine *eng = engine_alloc(n_handlers);
  if (!eng)
    return SK_ENOMEM;
  sk_status st = sk__queue_create(&eng->q, cap_hint);
  if (st != SK_OK) {
    free(eng);
    return st;
  }
  eng->n_handlers = n_handlers;
  for (uint32_t i = 0; i < n_handlers; i++)
    eng->handlers[i] = handlers[i];
  *out = eng;
  return SK_OK;
}

void sk_engine_destroy(sk_engine *eng) {
  if (!eng)
    return;
  sk__queue_destroy(eng->q);
  free(eng);
}

sk_status sk_engine_clone(const sk_engine *src, sk_engine **out) {
  SK_REQUIRE(src != NULL && out != NULL);
  *out = NULL;
  sk_engine *eng = engine_alloc(src->n_handlers);
  if (!eng)
    return SK_ENOMEM;
  sk_status st = sk__queue_clone(src->q, &eng->q);
  if (st != SK_OK) {
    free(eng);
    return st;
  }
  eng->now = src->now;
  eng->executed = src->executed;
  eng->n_handlers = src->n_handlers;
  eng->running = 0; /* a clone taken from inside a handler is not itself running */
  for (uint32_t i = 0; i < src->n_handlers; i++)
    eng->handlers[i] = src->handlers[i];
  *out = eng;
  return SK_OK;
}

sk_status sk_engine_schedule(sk_engine *eng, sk_time_ns t_ns, uint32_t handler, uint32_t target,
                             uint64_t arg, sk_event_id *id_out) {
  SK_REQUIRE(eng != NULL);
  SK_REQUIRE(t_ns >= eng->now);
  SK_REQUIRE(handler < eng->n_handlers);
  sk__qevent ev = {.t_ns = t_ns, .handler = handler, .target = target, .arg = arg};
  return sk__queue_push(eng->q, &ev, id_out);
}

int sk_engine_cancel(sk_engine *eng, sk_event_id id) {
  SK_REQUIRE(eng != NULL);
  return sk__queue_cancel(eng->q, id);
}

uint64_t sk_engine_run_until(sk_engine *eng, sk_time_ns t_end, void *world) {
  SK_REQUIRE(eng != NULL);
  SK_REQUIRE(t_end >= eng->now);
  SK_REQUIRE(!eng->running);
  eng->running = 1;
  uint64_t ran = 0;
  sk__qevent ev;
  while (sk__queue_pop_until(eng->q, t_end, &ev)) {
    eng->now = ev.t_ns;
    eng->executed++; /* before the call, so a handler sees itself counted */
    ran++;
    eng->handlers[ev.handler](eng, world, ev.target, ev.arg);
  }
  eng->now = t_end;
  eng->running = 0;
  return ran;
}

sk_time_ns sk_engine_now(const sk_engine *eng) {
  SK_REQUIRE(eng != NULL);
  return eng->now;
}

size_t sk_engine_pending(const sk_engine *eng) {
  SK_REQUIRE(eng != NULL);
  return sk__queue_size(eng->q);
}

uint64_t sk_engine_executed(const sk_engine *eng) {
  SK_REQUIRE(eng != NULL);
  return eng->executed;
}
