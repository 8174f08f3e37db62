/*
 * server.c -- continuous batching on one inference server, advanced between
 * batch-membership changes.
 *
 * Model (vLLM-like, one replica per server):
 *  - Arrivals wait in a FIFO.  A prefill iteration starts at the first decode-step
 *    boundary after the oldest waiting request has waited batch_window_ms (or at once
 *    when the server is idle and the window has passed).  It admits waiting requests in
 *    order while the batch has room (max_batch) and the prompt tokens fit
 *    (max_prefill_tokens; the first request always fits).  Decode pauses during prefill.
 *  - The prefill produces each request's first token: TTFT = queueing + batch wait +
 *    prefill time.  The request then needs out_tokens - 1 decode steps.
 *  - Decode steps take step_ms(B) for B active sequences.  Every active sequence gains
 *    one token per step, so the batch is described by a step counter and a min-heap of
 *    the step at which each sequence finishes: the next event is the earliest finish or
 *    the boundary where a prefill is due -- never an event per step.
 *  - Membership changes only at step boundaries, so the step counter is an integer at
 *    every event the server handles; between events tokens are counted fractionally
 *    for telemetry.
 * Power: GPUs draw gpu_idle_w idle (model resident), gpu_prefill_w in prefill and
 * gpu_decode_base_w + gpu_decode_w_per_seq*B in decode; host draws host_busy_w unless
 * idle.  Energy is integrated exactly over these piecewise-constant segments.
 * Power cap (gpu_power_cap_w, a lever): every phase draws at most the cap.  Prefill is
 * compute bound, so a cap below gpu_prefill_w binds there: the prefill draws the cap and
 * takes (gpu_prefill_w/cap)^cap_latency_exp times as long, on top of the thermal slowdown
 * (which sees the capped power, since it follows the GPU energy).  The exponent 0.176 =
 * ln(1.065)/ln(250/175) is Samsi et al.'s +6.5 % latency for a 250 -> 175 W cap
 * ("From Words to Watts", HPEC 2023, arXiv:2310.03003; LLaMA-65B on A100/V100).  Prefill
 * energy then scales by (cap/P)^(1 - exp): -25 % at 175/250, against their ~ -23 %.
 * Decode is memory bound and draws 137-300 W on a 700 W H200, where caps never bind (Ma
 * et al., "The Illusion of Power Capping in LLM Decode", arXiv:2605.11999): the cap is
 * validated to stay at or above the decode ceiling, so min(decode, cap) never binds
 * and decode timing ignores the cap.  A prefill keeps the power and duration it began
 * with; a moved cap applies from the next prefill.
 * Timing beyond the data: a prompt longer than the longest the perf fit measured, or a
 * prefill iteration larger than its largest, is still timed by the fit (there is nothing
 * better), but counted (prompts_extrapolated, prefills_extrapolated) so that no summary
 * passes it off as measured.
 * KV prefix reuse: a request may arrive with cached_tokens, the leading prompt tokens whose
 * KV the server's prefix cache already holds (the caller looks the cache up: sim/twin.c).
 * Only the rest is prefilled: it alone counts against max_prefill_tokens, enters
 * prefill_ms(N) and so the prefill's time and energy.  The attention of the new tokens
 * over the cached ones is not charged (the fit has no term for context length).
 * Rejected: capping decode below its ceiling with a slowdown -- no cited figure for how
 * memory-bound steps slow under a cap that binds.
 * Rejected: simulating every decode iteration (tens of events per request) and a
 * fluid approximation of the batch (loses per-request TTFT).
 */
#include "skadi/server.h"

#include <math.h>
#include <string.h>

#include "skadi/perf.h"
#include "skadi/require.h"

void sk_server_init(sk_server *s, int id, int rack, int pool, sk_time_ns now) {
  memset(s, 0, sizeof *s);
  s->id = id;
  s->rack = rack;
  s->pool = pool;
  s->phase = SK_PHASE_IDLE;
  s->slowdown = 1.0;
  s->step_ns = 1.0;
  s->step_t0 = now;
  s->seg_t_ns = now;
  s->next_wake_ns = SK_TIME_MAX;
}

double sk_server_gpu_w(const sk_server *s, const sk_server_params *sp) {
  switch (s->phase) {
  case SK_PHASE_PREFILL:
    return s->prefill_w;
  case SK_PHASE_DECODE:
    return fmin(sp->gpu_decode_base_w + sp->gpu_decode_w_per_seq * s->n_active,
                sp->gpu_power_cap_w);
  case SK_PHASE_IDLE:
    break;
  }
  return fmin(sp->gpu_idle_w, sp->gpu_power_cap_w);
}

double sk_server_decode_ceiling_w(const sk_server_params *sp) {
  return sp->gpu_decode_base_w + sp->gpu_decode_w_per_seq * sp->max_batch;
}

double sk_server_fan_w(const sk_server_params *sp, double core_w, double t_in_c) {
  double pct = 0.0;
  if (t_in_c > sp->fan_knee_c) {
    double mid = fmin(t_in_c, sp->fan_steep_c) - sp->fan_knee_c;
    pct += sp->fan_slope_pct_per_k * mid;
  }
  if (t_in_c > sp->fan_steep_c)
    pct += sp->fan_steep_pct_per_k * (t_in_c - sp->fan_steep_c);
  return sp->fan_base_w + core_w * pct / 100.0;
}

double sk_server_slowdown(const sk_server_params *sp, double gpu_w, double t_in_c) {
  double t_gpu = t_in_c + sp->gpu_r_th_k_per_w * gpu_w;
  if (t_gpu <= sp->gpu_throttle_c)
    return 1.0;
  double f = 1.0 - sp->throttle_pct_per_k / 100.0 * (t_gpu - sp->gpu_throttle_c);
  if (!(f >= 0.3)) /* also a NaN f, from a runaway inlet: a finite slowdown keeps time moving */
    f = 0.3; /* clocks bottom out; the GPU keeps working at its lowest clock */
  return 1.0 / f;
}

void sk_server_pending_ttft(const sk_server *s, sk_time_ns now, sk_ttft_fn fn, void *ud) {
  for (int i = 0; i < s->prefill_n; i++)
    fn(ud, s->id, (double)(now - s->prefill_arr[i]) * 1e-6);
  for (int i = 0; i < s->q_len; i++) {
    const sk_request *rq = &s->queue[(s->q_head + i) % SK_SERVER_QUEUE_CAP];
    fn(ud, s->id, (double)(now - rq->t_arrival_ns) * 1e-6);
  }
}

double sk_server_backlog_ms(const sk_server *s, const sk_perf_params *pp, sk_time_ns now) {
  double ms = 0;
  if (s->phase == SK_PHASE_PREFILL && s->prefill_end_ns > now)
    ms += (double)(s->prefill_end_ns - now) * 1e-6;
  int64_t uncached = 0;
  for (int i = 0; i < s->q_len; i++) {
    const sk_request *rq = &s->queue[(s->q_head + i) % SK_SERVER_QUEUE_CAP];
    uncached += rq->in_tokens - rq->cached_tokens;
  }
  if (uncached > 0)
    ms += sk_perf_prefill_ms(pp, (double)uncached) * s->slowdown;
  return ms;
}

int sk_server_load(const sk_server *s) {
  return s->q_len + s->prefill_n + s->n_active;
}

void sk_server_account(sk_server *s, const sk_server_params *sp, sk_time_ns now) {
  sk_time_ns dt_ns = now - s->seg_t_ns;
  if (dt_ns <= 0)
    return;
  double dt = (double)dt_ns * 1e-9;
  s->gpu_energy_j += sk_server_gpu_w(s, sp) * sp->gpus * dt;
  s->host_energy_j += (s->phase == SK_PHASE_IDLE ? sp->host_idle_w : sp->host_busy_w) * dt;
  if (s->phase == SK_PHASE_DECODE)
    s->tokens_out += s->n_active * (double)dt_ns / s->step_ns;
  s->seg_t_ns = now;
}

/* --- min-heap of finish steps ------------------------------------------------------ */

static void heap_push(sk_server *s, int64_t v) {
  int i = s->n_active++;
  int64_t *h = s->finish_step;
  while (i > 0) {
    int p = (i - 1) / 2;
    if (h[p] <= v)
      break;
    h[i] = h[p];
    i = p;
  }
  h[i] = v;
}

static void heap_pop(sk_server *s) {
  int64_t *h = s->finish_step;
  int n = --s->n_active;
  int64_t v = h[n];
  int i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= n)
      break;
    if (c + 1 < n && h[c + 1] < h[c])
      c++;
    if (v <= h[c])
      break;
    h[i] = h[c];
    i = c;
  }
  if (n > 0)
    h[i] = v;
}

/* --- scheduling -------------------------------------------------------------------- */

/* Rounds x >= 0 to the nearest integer, halves up: llround's result for x >= 0, without
 * the libm call on this hot path. */
static int64_t round_nonneg(double x) {
  return (int64_t)(x + 0.5);
}

static sk_time_ns ms_to_ns(double ms) {
  return round_nonneg(ms * 1e6);
}

/* Decode step index reached at `now` (now is a step boundary when called from wake). */
static int64_t step_at(const sk_server *s, sk_time_ns now) {
  return s->step0 + round_nonneg((double)(now - s->step_t0) / s->step_ns);
}

static sk_time_ns boundary_time(const sk_server *s, int64_t step) {
  return s->step_t0 + round_nonneg((double)(step - s->step0) * s->step_ns);
}

/* When the oldest waiting request's batch window closes. */
static sk_time_ns prefill_due(const sk_server *s, const sk_server_params *sp) {
  const sk_request *first = &s->queue[s->q_head];
  return first->t_arrival_ns + ms_to_ns(sp->batch_window_ms);
}

/* Sets next_wake_ns from the current (anchored) state without changing it. */
static void plan(sk_server *s, const sk_server_params *sp) {
  int room = sp->max_batch - s->n_active;
  switch (s->phase) {
  case SK_PHASE_PREFILL:
    s->next_wake_ns = s->prefill_end_ns;
    return;
  case SK_PHASE_IDLE:
    s->next_wake_ns = s->q_len > 0 ? prefill_due(s, sp) : SK_TIME_MAX;
    return;
  case SK_PHASE_DECODE:
    break;
  }
  sk_time_ns t = boundary_time(s, s->finish_step[0]);
  if (s->q_len > 0 && room > 0) {
    sk_time_ns due = prefill_due(s, sp);
    int64_t k = s->step0;
    if (due > s->step_t0)
      k += (int64_t)ceil((double)(due - s->step_t0) / s->step_ns);
    sk_time_ns tb = boundary_time(s, k);
    if (tb < t)
      t = tb;
  }
  s->next_wake_ns = t;
}

static void anchor_decode(sk_server *s, const sk_perf_params *pp, int64_t step, sk_time_ns now) {
  s->step0 = step;
  s->step_t0 = now;
  s->step_ns = sk_perf_step_ms(pp, s->n_active) * 1e6 * s->slowdown;
}

int sk_server_enqueue(sk_server *s, const sk_server_params *sp, const sk_perf_params *pp,
                      const sk_request *rq, sk_time_ns now) {
  (void)pp;
  SK_REQUIRE(rq->cached_tokens == 0 ||
             (rq->cached_tokens > 0 && rq->cached_tokens < rq->in_tokens));
  if (s->q_len == SK_SERVER_QUEUE_CAP) {
    s->prompts_rejected += 1;
    return 0;
  }
  s->queue[(s->q_head + s->q_len) % SK_SERVER_QUEUE_CAP] = *rq;
  s->q_len++;
  s->prompts_in += 1;
  if (s->q_len == 1) {
    sk_server_account(s, sp, now);
    plan(s, sp);
    if (s->next_wake_ns < now)
      s->next_wake_ns = now;
  }
  return 1;
}

static void start_prefill(sk_server *s, const sk_server_params *sp, const sk_perf_params *pp,
                          sk_time_ns now) {
  int room = sp->max_batch - s->n_active;
  int n = 0;
  int tokens = 0;
  while (s->q_len > 0 && n < room) {
    const sk_request *rq = &s->queue[s->q_head];
    int32_t uncached = rq->in_tokens - rq->cached_tokens; /* a cache hit is not computed */
    if (n > 0 && tokens + uncached > sp->max_prefill_tokens)
      break;
    tokens += uncached;
    if (uncached > SK_PERF_MEASURED_PROMPT_MAX_TOKENS)
      s->prompts_extrapolated += 1;
    s->prefill_out[n] = rq->out_tokens;
    s->prefill_arr[n] = rq->t_arrival_ns;
    n++;
    s->q_head = (s->q_head + 1) % SK_SERVER_QUEUE_CAP;
    s->q_len--;
  }
  s->prefill_n = n;
  s->prefill_tokens = tokens;
  if (tokens > SK_PERF_MEASURED_PREFILL_MAX_TOKENS)
    s->prefills_extrapolated += 1;
  s->phase = SK_PHASE_PREFILL;
  double ms = sk_perf_prefill_ms(pp, tokens) * s->slowdown;
  s->prefill_w = sp->gpu_prefill_w;
  if (sp->gpu_power_cap_w < sp->gpu_prefill_w) { /* the cap binds: slower, at the cap */
    ms *= pow(sp->gpu_prefill_w / sp->gpu_power_cap_w, sp->cap_latency_exp);
    s->prefill_w = sp->gpu_power_cap_w;
  }
  s->prefill_end_ns = now + ms_to_ns(ms);
}

void sk_server_wake(sk_server *s, const sk_server_params *sp, const sk_perf_params *pp,
                    sk_time_ns now, sk_ttft_fn ttft, void *ud) {
  SK_REQUIRE(now == s->next_wake_ns);
  sk_server_account(s, sp, now);
  int64_t step = s->step0;
  if (s->phase == SK_PHASE_PREFILL) {
    /* step0 still holds the decode step at which the prefill began */
    for (int i = 0; i < s->prefill_n; i++) {
      double ms = (double)(now - s->prefill_arr[i]) * 1e-6;
      if (ttft)
        ttft(ud, s->id, ms);
      s->tokens_out += 1; /* the first token comes out of the prefill */
      if (s->prefill_out[i] <= 1)
        s->prompts_done += 1;
      else
        heap_push(s, step + s->prefill_out[i] - 1);
    }
    s->prefill_n = 0;
    s->prefill_tokens = 0;
  } else if (s->phase == SK_PHASE_DECODE) {
    step = step_at(s, now);
    while (s->n_active > 0 && s->finish_step[0] <= step) {
      heap_pop(s);
      s->prompts_done += 1;
    }
  }

  /* What next: a prefill if one is due, else decode, else idle. */
  int room = sp->max_batch - s->n_active;
  if (s->q_len > 0 && room > 0 && prefill_due(s, sp) <= now) {
    s->step0 = step;
    start_prefill(s, sp, pp, now);
  } else if (s->n_active > 0) {
    s->phase = SK_PHASE_DECODE;
    anchor_decode(s, pp, step, now);
  } else {
    s->phase = SK_PHASE_IDLE;
    s->step0 = step;
    s->step_t0 = now;
  }
  plan(s, sp);
  if (s->next_wake_ns < now)
    s->next_wake_ns = now;
}
