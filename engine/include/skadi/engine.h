/*
 * engine.h -- the discrete-event kernel: sim clock, event queue, run loop.
 *
 * Sim time is int64_t nanoseconds.  Events are totally ordered by (time, insertion
 * sequence), so any queue implementation yields the same run.  The engine knows no
 * domain words: an event is (time, handler index, target, arg).  Handlers live in a
 * const table given at creation; the "world" pointer that handlers act on is passed
 * to sk_engine_run_until, so an engine and the world it drives can be cloned together
 * (sk_engine_clone) without rewriting pointers inside the queue.
 */
#ifndef SKADI_ENGINE_H
#define SKADI_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t sk_time_ns;

#define SK_NS_PER_S INT64_C(1000000000)
#define SK_NS_PER_MS INT64_C(1000000)
#define SK_TIME_MAX INT64_MAX

typedef struct sk_engine sk_engine;

/* Identifies a scheduled event for sk_engine_cancel.  0 is never a valid id. */
typedef uint64_t sk_event_id;

/* An event handler.  `world` is the pointer given to sk_engine_run_until; `target`
 * and `arg` are what the event was scheduled with.  Handlers may schedule and cancel
 * events (at times >= sk_engine_now). */
typedef void (*sk_event_fn)(sk_engine *eng, void *world, uint32_t target, uint64_t arg);

/* Creates an engine with `n_handlers` handlers (the table is copied) and room for
 * `cap_hint` pending events (it grows as needed).  Caller frees with sk_engine_destroy. */
sk_status sk_engine_create(sk_engine **out, const sk_event_fn *handlers, uint32_t n_handlers,
                           size_t cap_hint);
void sk_engine_destroy(sk_engine *eng); /* NULL is a no-op */

/* Deep copy: same clock, same pending events, same sequence counter.  A clone run with
 * an equal world produces the same events in the same order.  Caller destroys it. */
sk_status sk_engine_clone(const sk_engine *src, sk_engine **out);

/* Schedules handler `handler` at absolute time `t_ns` (asserts t_ns >= now and handler
 * in range).  `id_out` may be NULL.  Returns SK_ENOMEM if the queue cannot grow. */
sk_status sk_engine_schedule(sk_engine *eng, sk_time_ns t_ns, uint32_t handler, uint32_t target,
                             uint64_t arg, sk_event_id *id_out);

/* Removes a pending event.  Returns 1 if it was pending, 0 if it had already run or
 * been cancelled (ids are never reused, so a stale id is harmless). */
int sk_engine_cancel(sk_engine *eng, sk_event_id id);

/* Runs every event with time <= t_end in (time, sequence) order, then sets the clock to
 * t_end (the clock never goes backwards; asserts t_end >= now).  Returns the number of
 * events executed. */
uint64_t sk_engine_run_until(sk_engine *eng, sk_time_ns t_end, void *world);

sk_time_ns sk_engine_now(const sk_engine *eng);
size_t sk_engine_pending(const sk_engine *eng);
uint64_t sk_engine_executed(const sk_engine *eng); /* total events run so far */

#ifdef __cplusplus
}
#endif
#endif
