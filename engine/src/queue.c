/*
 * queue.c -- the pending-event set: an implicit 4-ary min-heap of 16-byte keys plus a
 * slot table for payloads.
 *
 * Layout.  The heap holds only {t, key}, key = seq << 32 | slot, so one comparison of
 * (t, key) orders events by (time, insertion sequence) and the slot rides along for free.
 * Payloads (handler, target, arg) sit in `pay[slot]`, touched once on push and once on pop;
 * `meta[slot]` keeps the entry's heap position (for O(log n) cancel) and a generation that
 * makes ids (gen << 32 | slot) go stale the moment the slot is released.  Free slots form
 * a LIFO list threaded through meta[].pos, so a pop-then-push reuses the hot slot.  The
 * four children of a node share one 64-byte line: the heap array starts 3 entries before
 * a 64-byte boundary, so logical children 4i+1..4i+4 land on physical 4(i+1)..4(i+1)+3.
 *
 * Invariants:
 *   - heap[0..n) is a heap under (t, key); for each i, meta[slot(heap[i])].pos == i;
 *   - a slot is live iff heap[meta[slot].pos] names it; gen is never 0, so id 0 is never
 *     valid; gen is bumped on release, so a released id never matches again (until 2^32
 *     reuses of one slot, which we accept);
 *   - seq < 2^32.  When the counter reaches 2^32 the pending events are renumbered
 *     0..n-1 in their current order; only relative order among pending events matters,
 *     so the run is unchanged and the heap stays valid without moving anything.
 *
 * Pop is "bottom-up": the hole left at the root is walked down along min-children to a
 * leaf, and the last element sifts up from there.  The last element nearly always belongs
 * near the bottom, so this costs about one comparison per level instead of two.
 *
 * Rejected: a binary heap (twice the levels, each a likely cache miss at 64k events);
 * pairing/skew heaps (pointer chasing, allocation per event); a calendar queue (fast in
 * the steady state but needs tuning to the event-time distribution, and equal-time FIFO
 * order needs care); lazy cancel with tombstones (simpler, but cancelled timeouts pile up
 * in the heap when models reschedule them often).
 */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  int64_t t;    /* event time, ns */
  uint64_t key; /* seq << 32 | slot */
} hent;

typedef struct {
  uint64_t arg;
  uint32_t handler;
  uint32_t target;
} payload;

typedef struct {
  uint32_t pos; /* heap index while live, next free slot while free */
  uint32_t gen; /* never 0 */
} meta;

struct sk__queue {
  hent *heap;      /* logical index 0; == heap_base + PAD */
  hent *heap_base; /* 64-byte aligned allocation */
  payload *pay;    /* [cap] */
  meta *meta;      /* [cap] */
  uint32_t n;      /* pending events */
  uint32_t cap;    /* slots and heap entries allocated */
  uint32_t hwm;    /* slots ever handed out; slots >= hwm are untouched */
  uint32_t free_head;
  uint64_t next_seq; /* < SEQ_LIMIT after any push */
};

#define PAD 3
#define NONE UINT32_MAX
#define SLOT_MASK UINT64_C(0xffffffff)
#define SEQ_LIMIT (UINT64_C(1) << 32)
#define CAP_MIN 16u
#define CAP_MAX (UINT32_MAX - 1u) /* slot NONE is reserved */

/* Bitwise, not short-circuit: the compiler can then use setcc/cmov instead of branches,
 * which mispredict half the time on heap comparisons. */
static inline int less(hent a, hent b) {
  return (a.t < b.t) | ((a.t == b.t) & (a.key < b.key));
}

static inline uint32_t slot_of(hent e) {
  return (uint32_t)(e.key & SLOT_MASK);
}

static hent *heap_alloc(uint32_t cap, hent **base_out) {
  size_t bytes = ((size_t)cap + PAD) * sizeof(hent);
  bytes = (bytes + 63) & ~(size_t)63; /* aligned_alloc wants a multiple of the alignment */
  hent *base = aligned_alloc(64, bytes);
  *base_out = base;
  return base ? base + PAD : NULL;
}

static uint32_t clamp_cap(size_t cap_hint) {
  if (cap_hint < CAP_MIN)
    return CAP_MIN;
  if (cap_hint > CAP_MAX)
    return CAP_MAX;
  return (uint32_t)cap_hint;
}

sk_status sk__queue_create(sk__queue **out, size_t cap_hint) {
  sk__queue *q = calloc(1, sizeof *q);
  if (!q)
    goto fail;
  q->cap = clamp_cap(cap_hint);
  q->free_head = NONE;
  if (!heap_alloc(q->cap, &q->heap_base))
    goto fail_q;
  q->heap = q->heap_base + PAD;
  q->pay = malloc((size_t)q->cap * sizeof *q->pay);
  if (!q->pay)
    goto fail_heap;
  q->meta = malloc((size_t)q->cap * sizeof *q->meta);
  if (!q->meta)
    goto fail_pay;
  *out = q;
  return SK_OK;

fail_pay:
  free(q->pay);
fail_heap:
  free(q->heap_base);
fail_q:
  free(q);
fail:
  *out = NULL;
  return SK_ENOMEM;
}

void sk__queue_destroy(sk__queue *q) {
  if (!q)
    return;
  free(q->meta);
  free(q->pay);
  free(q->heap_base);
  free(q);
}

sk_status sk__queue_clone(const sk__queue *src, sk__queue **out) {
  sk__queue *q;
  sk_status st = sk__queue_create(&q, src->cap);
  if (st != SK_OK) {
    *out = NULL;
    return st;
  }
  memcpy(q->heap, src->heap, (size_t)src->n * sizeof *q->heap);
  memcpy(q->pay, src->pay, (size_t)src->hwm * sizeof *q->pay);
  memcpy(q->meta, src->meta, (size_t)src->hwm * sizeof *q->meta);
  q->n = src->n;
  q->hwm = src->hwm;
  q->free_head = src->free_head;
  q->next_seq = src->next_seq;
  *out = q;
  return SK_OK;
}

/* Doubles the capacity.  On failure the queue is unchanged except that pay/meta may be
 * larger than cap, which is harmless. */
static sk_status grow(sk__queue *q) {
  if (q->cap >= CAP_MAX)
    return SK_ENOMEM;
  uint32_t cap = q->cap > CAP_MAX / 2 ? CAP_MAX : q->cap * 2;

  payload *pay = realloc(q->pay, (size_t)cap * sizeof *pay);
  if (!pay)
    return SK_ENOMEM;
  q->pay = pay;
  meta *m = realloc(q->meta, (size_t)cap * sizeof *m);
  if (!m)
    return SK_ENOMEM;
  q->meta = m;
  hent *base;
  hent *heap = heap_alloc(cap, &base);
  if (!heap)
    return SK_ENOMEM;
  memcpy(heap, q->heap, (size_t)q->n * sizeof *heap);
  free(q->heap_base);
  q->heap_base = base;
  q->heap = heap;
  q->cap = cap;
  return SK_OK;
}

static int cmp_hent(const void *a, const void *b) {
  const hent *x = a, *y = b;
  return less(*x, *y) ? -1 : less(*y, *x) ? 1 : 0;
}

/* Renumbers pending events 0..n-1 in their current order (see the invariants above). */
static sk_status renumber(sk__queue *q) {
  hent *tmp = malloc((size_t)(q->n ? q->n : 1) * sizeof *tmp);
  if (!tmp)
    return SK_ENOMEM;
  memcpy(tmp, q->heap, (size_t)q->n * sizeof *tmp);
  qsort(tmp, q->n, sizeof *tmp, cmp_hent); /* keys are unique, so the result is too */
  for (uint32_t r = 0; r < q->n; r++) {
    uint32_t slot = slot_of(tmp[r]);
    q->heap[q->meta[slot].pos].key = (uint64_t)r << 32 | slot;
  }
  free(tmp);
  q->next_seq = q->n;
  return SK_OK;
}

static inline void place(sk__queue *q, uint32_t i, hent e) {
  q->heap[i] = e;
  q->meta[slot_of(e)].pos = i;
}

static inline void sift_up(sk__queue *q, uint32_t i, hent x) {
  hent *h = q->heap;
  while (i > 0) {
    uint32_t p = (i - 1) >> 2;
    if (!less(x, h[p]))
      break;
    place(q, i, h[p]);
    i = p;
  }
  place(q, i, x);
}

/* Fills the hole at `i` with `x`, which must not be less than the parent of `i`.
 * Child indices are computed in size_t: 4i + 1 overflows 32 bits past 2^30 events. */
static inline void sift_down(sk__queue *q, uint32_t i, hent x) {
  hent *h = q->heap;
  size_t n = q->n;
  for (;;) {
    size_t c = 4 * (size_t)i + 1;
    if (c >= n)
      break;
    /* Fetch all 16 grandchildren (4 whole lines) now, before we know which child wins:
     * at 64k events the lower levels miss L2, and this hides most of that latency. */
    size_t g = 4 * c + 1;
    if (g + 16 <= n) {
      __builtin_prefetch(&h[g]);
      __builtin_prefetch(&h[g + 4]);
      __builtin_prefetch(&h[g + 8]);
      __builtin_prefetch(&h[g + 12]);
    } else {
      for (; g < n; g += 4)
        __builtin_prefetch(&h[g]);
    }
    size_t m;
    if (c + 4 <= n) {
      size_t a = less(h[c + 1], h[c]) ? c + 1 : c;
      size_t b = less(h[c + 3], h[c + 2]) ? c + 3 : c + 2;
      m = less(h[b], h[a]) ? b : a;
    } else {
      m = c;
      for (size_t j = c + 1; j < n; j++)
        if (less(h[j], h[m]))
          m = j;
    }
    place(q, i, h[m]);
    i = (uint32_t)m;
  }
  sift_up(q, i, x);
}

static inline void release(sk__queue *q, uint32_t slot) {
  meta *m = &q->meta[slot];
  m->gen = m->gen == UINT32_MAX ? 1u : m->gen + 1u;
  m->pos = q->free_head;
  q->free_head = slot;
}

sk_status sk__queue_push(sk__queue *q, const sk__qevent *ev, uint64_t *id_out) {
  if (q->next_seq >= SEQ_LIMIT) {
    sk_status st = renumber(q);
    if (st != SK_OK)
      return st;
  }
  uint32_t slot = q->free_head;
  if (slot != NONE) {
    q->free_head = q->meta[slot].pos;
  } else {
    if (q->hwm == q->cap) {
      sk_status st = grow(q);
      if (st != SK_OK)
        return st;
    }
    slot = q->hwm++;
    q->meta[slot].gen = 1;
  }
  q->pay[slot] = (payload){.arg = ev->arg, .handler = ev->handler, .target = ev->target};
  hent e = {.t = ev->t_ns, .key = q->next_seq++ << 32 | slot};
  sift_up(q, q->n++, e);
  if (id_out)
    *id_out = (uint64_t)q->meta[slot].gen << 32 | slot;
  return SK_OK;
}

int sk__queue_pop_until(sk__queue *q, int64_t t_max, sk__qevent *out) {
  if (q->n == 0 || q->heap[0].t > t_max)
    return 0;
  hent top = q->heap[0];
  uint32_t slot = slot_of(top);
  const payload *p = &q->pay[slot];
  out->t_ns = top.t;
  out->handler = p->handler;
  out->target = p->target;
  out->arg = p->arg;
  release(q, slot);
  if (--q->n > 0)
    sift_down(q, 0, q->heap[q->n]);
  return 1;
}

int sk__queue_peek(const sk__queue *q, sk__qevent *out) {
  if (q->n == 0)
    return 0;
  hent top = q->heap[0];
  const payload *p = &q->pay[slot_of(top)];
  *out = (sk__qevent){.t_ns = top.t, .handler = p->handler, .target = p->target, .arg = p->arg};
  return 1;
}

int sk__queue_cancel(sk__queue *q, uint64_t id) {
  uint32_t slot = (uint32_t)(id & SLOT_MASK);
  uint32_t gen = (uint32_t)(id >> 32);
  if (gen == 0 || slot >= q->hwm || q->meta[slot].gen != gen)
    return 0;
  uint32_t i = q->meta[slot].pos;
  if (i >= q->n || slot_of(q->heap[i]) != slot)
    return 0; /* free slot; junk id */
  release(q, slot);
  uint32_t last = --q->n;
  if (i == last)
    return 1;
  hent x = q->heap[last];
  if (i > 0 && less(x, q->heap[(i - 1) >> 2]))
    sift_up(q, i, x);
  else
    sift_down(q, i, x);
  return 1;
}

size_t sk__queue_size(const sk__queue *q) {
  return q->n;
}

void sk__queue_set_seq(sk__queue *q, uint64_t next_seq) {
  q->next_seq = next_seq;
}
