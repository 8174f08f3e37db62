/*
 * server.h -- one inference server (one model replica): request queue, continuous
 * batching, prefill/decode timing and GPU/host power by phase.
 *
 * The server is a plain struct (memcpy-cloneable: no pointers).  It does not schedule
 * events itself: the caller (sim/) calls sk_server_wake at the time the server asked
 * for (sk_server.next_wake_ns) and after sk_server_enqueue, and reschedules its one
 * pending event whenever next_wake_ns changes.  Between batch-membership changes the
 * decode batch advances as a whole: no event per decode iteration.
 */
#ifndef SKADI_SERVER_H
#define SKADI_SERVER_H

#include <stdint.h>

#include "skadi/engine.h"
#include "skadi/params.h"

#define SK_SERVER_MAX_BATCH 128   /* hard cap on sk_server_params.max_batch */
#define SK_SERVER_QUEUE_CAP 1024  /* waiting requests; arrivals beyond are rejected */

typedef enum { SK_PHASE_IDLE = 0, SK_PHASE_PREFILL, SK_PHASE_DECODE } sk_phase;

typedef struct {
  sk_time_ns t_arrival_ns;
  int32_t in_tokens;
  int32_t out_tokens;
  int32_t cached_tokens;      /* leading prompt tokens whose KV the server's prefix cache
                               * holds (skadi/prefix_cache.h), 0 .. in_tokens - 1: the
                               * prefill computes, times and charges in_tokens - this */
} sk_request;

/* Called for each request whose first token is produced (end of its prefill). */
typedef void (*sk_ttft_fn)(void *ud, int server, double ttft_ms);

typedef struct {
  int32_t id;                 /* index in the room's server array */
  int32_t rack;               /* rack index */
  int32_t pool;               /* traffic pool: 0 = room, 1.. = effect pools */
  int32_t present;            /* 1 while installed in the rack */
  int32_t draining;           /* 1: takes no new requests, leaves when empty */
  sk_phase phase;
  /* decode progress: steps done at step_t0, each step lasting step_ns */
  int64_t step0;
  sk_time_ns step_t0;
  double step_ns;
  double slowdown;            /* >= 1, thermal throttling factor (set by the thermal tick) */
  /* active sequences: min-heap of the decode step at which each finishes */
  int32_t n_active;
  int64_t finish_step[SK_SERVER_MAX_BATCH];
  /* prefill in progress */
  int32_t prefill_n;
  int32_t prefill_tokens;
  int32_t prefill_out[SK_SERVER_MAX_BATCH];
  sk_time_ns prefill_arr[SK_SERVER_MAX_BATCH];
  sk_time_ns prefill_end_ns;
  double prefill_w;           /* W per GPU of the prefill in progress: min(gpu_prefill_w, cap)
                               * when it began, so a cap moved mid-prefill applies to the next */
  /* waiting requests, FIFO ring */
  int32_t q_head, q_len;
  sk_request queue[SK_SERVER_QUEUE_CAP];
  /* the one wake-up the server wants; SK_TIME_MAX = none */
  sk_time_ns next_wake_ns;
  /* energy accounting since seg_t_ns was last advanced */
  sk_time_ns seg_t_ns;
  double gpu_energy_j;        /* J, accumulated (caller reads and resets per window) */
  double host_energy_j;       /* J, CPUs/DRAM/NIC etc., accumulated */
  double tokens_out;          /* output tokens produced, accumulated (fractional within steps) */
  double prompts_done;        /* prompts completed, accumulated */
  double prompts_rejected;    /* arrivals dropped because the queue was full */
  double prompts_in;          /* arrivals accepted */
  double prompts_extrapolated;  /* prompts prefilled that are longer than the timing data's
                                 * longest (SK_PERF_MEASURED_PROMPT_MAX_TOKENS), accumulated
                                 * (caller reads and resets) */
  double prefills_extrapolated; /* prefill iterations of more tokens than the timing data's
                                 * largest (SK_PERF_MEASURED_PREFILL_MAX_TOKENS), accumulated */
} sk_server;

void sk_server_init(sk_server *s, int id, int rack, int pool, sk_time_ns now);

/* Brings energy/token counters up to `now` (call before reading them). */
void sk_server_account(sk_server *s, const sk_server_params *sp, sk_time_ns now);

/* Adds a request (returns 0 if the queue was full and it was rejected).  May change
 * next_wake_ns. */
int sk_server_enqueue(sk_server *s, const sk_server_params *sp, const sk_perf_params *pp,
                      const sk_request *rq, sk_time_ns now);

/* Handles the wake-up at `now` (== next_wake_ns): finishes a prefill or the sequences
 * due, starts the next prefill when the batch window has passed, and sets next_wake_ns.
 * TTFTs of requests whose first token is produced now go to ttft(ud, ...). */
void sk_server_wake(sk_server *s, const sk_server_params *sp, const sk_perf_params *pp,
                    sk_time_ns now, sk_ttft_fn ttft, void *ud);

/* Calls fn(ud, s->id, wait_ms) for every request that has no first token yet -- waiting in
 * the queue or in the prefill in progress -- with how long it has waited by `now` (ms,
 * >= 0): a lower bound of its TTFT.  Changes nothing. */
void sk_server_pending_ttft(const sk_server *s, sk_time_ns now, sk_ttft_fn fn, void *ud);

/* How long (ms, >= 0) before a request arriving at `now` could begin its prefill, as far as
 * the work already there decides it: the rest of a prefill in progress, plus one prefill of
 * all the waiting requests' uncached tokens (prefill_ms of their sum), under the current
 * slowdown.  An estimate for the prefix-aware router (Mooncake's "queue time"); decode
 * steps and the batch window are left out (they delay every server alike).  Changes
 * nothing. */
double sk_server_backlog_ms(const sk_server *s, const sk_perf_params *pp, sk_time_ns now);

/* Outstanding work (waiting + prefilling + decoding), the router's load measure. */
int sk_server_load(const sk_server *s);

/* GPU power per GPU (W) in the current phase, under the power cap. */
double sk_server_gpu_w(const sk_server *s, const sk_server_params *sp);

/* Highest decode power per GPU (W): gpu_decode_base_w + gpu_decode_w_per_seq*max_batch.
 * The power cap must not go below it (the cap model covers prefill only). */
double sk_server_decode_ceiling_w(const sk_server_params *sp);

/* Server fan power (W) at inlet temperature t_in_c for a given core (GPU+host) power. */
double sk_server_fan_w(const sk_server_params *sp, double core_w, double t_in_c);

/* Throttle factor (>= 1) for a GPU power (W per GPU) at inlet t_in_c. */
double sk_server_slowdown(const sk_server_params *sp, double gpu_w, double t_in_c);

#endif
