/*
 * queue.h -- the engine's pending-event set, private to engine/.
 *
 * This header is the seam: engine.c sees only these functions, so another implementation
 * (calendar queue, ladder queue) can replace queue.c at build time.  Whatever sits behind
 * it must honour the same contract:
 *
 *   - events come out in (t_ns, insertion sequence) order -- equal times leave in the
 *     order they were pushed, whatever the layout;
 *   - ids are nonzero, and an id stops being valid once its event is popped or
 *     cancelled (a stale id is never mistaken for a live event);
 *   - clone is a deep copy that continues exactly as the original would.
 */
#ifndef SKADI_ENGINE_QUEUE_H
#define SKADI_ENGINE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/status.h"

typedef struct sk__queue sk__queue;

/* An event's payload as the engine sees it. */
typedef struct {
  int64_t t_ns;     /* absolute sim time, ns */
  uint32_t handler; /* index into the engine's handler table */
  uint32_t target;
  uint64_t arg;
} sk__qevent;

/* Creates an empty queue with room for `cap_hint` events (it grows as needed).  Caller
 * frees with sk__queue_destroy.  Returns SK_ENOMEM on allocation failure. */
sk_status sk__queue_create(sk__queue **out, size_t cap_hint);
void sk__queue_destroy(sk__queue *q); /* NULL is a no-op */

/* Deep copy (same events, same ids, same sequence counter).  Caller destroys it. */
sk_status sk__queue_clone(const sk__queue *src, sk__queue **out);

/* Inserts `ev`; its tie-break sequence is the next value of the queue's counter.  The
 * new id goes to `*id_out` unless it is NULL.  Returns SK_ENOMEM if the queue cannot
 * grow (the queue is then unchanged). */
sk_status sk__queue_push(sk__queue *q, const sk__qevent *ev, uint64_t *id_out);

/* If the earliest event has t_ns <= t_max, removes it into `*out` and returns 1; else
 * returns 0 and leaves the queue alone. */
int sk__queue_pop_until(sk__queue *q, int64_t t_max, sk__qevent *out);

/* Copies the earliest event into `*out` without removing it; returns 0 if empty. */
int sk__queue_peek(const sk__queue *q, sk__qevent *out);

/* Removes the event `id`.  Returns 1 if it was pending, 0 otherwise (stale, 0, junk). */
int sk__queue_cancel(sk__queue *q, uint64_t id);

size_t sk__queue_size(const sk__queue *q);

/* Test hook: sets the tie-break counter, so tests can drive it to the point where the
 * implementation must renumber.  Only values >= the current counter are meaningful. */
void sk__queue_set_seq(sk__queue *q, uint64_t next_seq);

#endif
