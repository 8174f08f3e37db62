/*
 * twin.c -- assembles the room from a scenario and drives it with the engine.
 *
 * Entities and their events (handler table below):
 *   pools    a traffic pool (0 = the room's own traffic, then one per add_ai_nodes
 *            effect) owns an arrival stream and the servers it routes to.  EV_ARRIVAL
 *            draws the next arrival (Poisson by thinning, or the next trace row), routes
 *            by power-of-two-choices on outstanding work and enqueues.  A trace row with
 *            KV block hashes (Mooncake's hash_ids) is looked up in the chosen server's
 *            prefix cache (skadi/prefix_cache.h): the hit's tokens are not prefilled, and
 *            the prompt's blocks become cached there.  With workload.prefix_cache = route
 *            the router may pick, instead, a server holding a longer prefix that promises
 *            an earlier first token, within PREFIX_ROUTE_SLACK requests of the usual
 *            pick's load.
 *   servers  EV_WAKE at the single time each server asked for (server.c); the twin keeps
 *            one pending event per server and moves it when the wanted time changes.
 *   plant    EV_TICK every thermal step: servers' energy since the last tick becomes
 *            rack power, rows and CRAHs advance, the plant follows the load, energies
 *            accumulate; on sample boundaries telemetry rows go to the sinks.
 *   timeline EV_EFFECT starts/stops a scenario effect.
 * Determinism: every draw comes from a stream keyed by (seed, stable id, purpose); every
 * reduction runs in index order; ties in time resolve by insertion order in the engine.
 * Servers for add_ai_nodes are allocated up front (present = 0), so the arrays never move
 * and the whole state stays plain memory.
 */
#include "skadi/twin.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/perf.h"
#include "skadi/plant.h"
#include "skadi/prefix_cache.h"
#include "skadi/qsketch.h"
#include "skadi/require.h"
#include "skadi/rng.h"
#include "skadi/server.h"
#include "skadi/thermal.h"
#include "skadi/workload.h"

/* route mode: a server holding a longer prefix may take the request only if its outstanding
 * work (weighted as the router weighs it) is at most this many requests above the usual
 * pick's: the TTFT estimate decides among those, this bound keeps decode batches (and so
 * TPOT and power) spread.  A judgement, not a fit (docs/MODEL.md). */
#define PREFIX_ROUTE_SLACK 4.0
#define PROBE_BINS 20000  /* TTFT bins of the probe over 0 .. 2 x SLA (25 us at 250 ms) */

enum { EV_ARRIVAL = 0, EV_WAKE, EV_TICK, EV_EFFECT, EV_COUNT };

/* RNG purposes: never renumber (recordings depend on them). */
enum { RNG_ARRIVAL = 1, RNG_TOKENS = 2, RNG_ROUTE = 3 };

typedef struct {
  int active;
  int effect;                 /* effect index, -1 for the room pool */
  double rate_prompts_s;      /* effect pools: constant rate */
  int n_members;
  int *members;               /* server indices */
  sk_rng *rng_arrival, *rng_tokens, *rng_route;
  sk_event_id next_id;
  size_t trace_pos;           /* trace replay (room pool) */
  double trace_offset_s;
  uint32_t trace_pass;        /* passes over the trace completed: salts its KV block keys */
} pool;

typedef struct {
  double wall_j;              /* rack PDU energy in the window */
  double gpu_j;
  double tokens;
  sk_qsketch ttft;            /* TTFT of the rack's requests finishing prefill in window */
} rack_window;

typedef struct {
  double it_j, fan_j, pump_j, chiller_j, tower_j, losses_j, misc_j;
} energy;

struct sk_twin {
  sk_scenario sc;
  const sk_trace *trace;
  sk_engine *eng;
  sk_twin_sinks sinks;
  sk_time_ns end_ns, step_ns, sample_ns, next_sample_ns, last_sample_ns;

  int n_rows, rpr, n_racks;
  sk_rack_thermal *rt;
  rack_window *rw;
  int *rack_servers;          /* present servers per rack */
  sk_crah crah[SK_MAX_ROWS];
  double crah_fan_j_row[SK_MAX_ROWS];
  sk_plant_state plant;
  double last_pump_w;

  int n_servers;
  sk_server *srv;
  /* KV prefix reuse (workload.prefix_cache, a trace with hash_ids): one cache per room-pool
   * server, NULL elsewhere and when off; kv == NULL when no server has one */
  sk_prefix_cache **kv;
  uint64_t *kv_keys;          /* scratch: the arriving request's block keys */
  double tot_kv_asked, tot_kv_hit, tot_kv_skipped; /* blocks looked up, hit; prompt tokens
                                                      whose prefill a hit skipped */
  sk_time_ns *wake_at;        /* time of each server's pending EV_WAKE, SK_TIME_MAX = none */
  sk_event_id *wake_id;

  int n_pools;
  pool *pools;
  double load_factor;         /* product of active load_scale effects */

  /* windows (since the last sample) and run totals */
  energy win, tot;
  double win_prompts_done, win_prompts_in, win_tokens;
  double tot_prompts_done, tot_prompts_in, tot_prompts_rej, tot_tokens;
  double tot_prompts_extrap, tot_prefills_extrap; /* timed beyond the perf data (perf.h) */
  sk_qsketch win_ttft, tot_ttft;
  double inlet_ok, inlet_n, min_inlet, max_inlet;
  double inlet_rec_breach;     /* rack-inlet samples above SK_ASHRAE_RECOMMENDED_MAX_C */
  double chw_start_c;          /* chilled-water supply at t = 0 */
  double chw_overload_s;       /* s the chilled-water load was beyond the chillers' capacity */
  double chw_max_c;            /* highest chilled-water supply after a thermal step */
  double chiller_q_j;          /* heat the chillers removed, whole run (their mean COP) */
  sk_effect_inlets eff_in[SK_MAX_EFFECTS];
  double row_max_inlet[SK_MAX_ROWS], row_sum_inlet[SK_MAX_ROWS], row_sum_kw[SK_MAX_ROWS];
  double samples;

  sk_rack_sample *rack_rows;
  sk_crah_sample crah_rows[SK_MAX_ROWS];
  sk_room_sample last_room;

  /* levers the executors move (sk_twin_apply) */
  double *route_w;            /* per-rack routing weight (row weight x thermal factor) */
  double row_w[SK_MAX_ROWS];  /* traffic-rebalancing weight per row, 1 = neutral */
  double *rack_avoid;         /* per-rack thermal-routing factor, 1 = normal */
  double *inlet_offset;       /* K, sensor_spike effects: reported minus true inlet */
  int admit_queue_cap;        /* arrivals at a server with this many waiting are refused */
  double gpu_cap_hi_w;        /* W, top of the power-cap lever: TDP or the scenario's cap */

  /* probe: figures since sk_twin_probe_reset (what-if forks and realized savings) */
  sk_twin_probe probe;
  double probe_chw_c;         /* chilled-water supply at the probe's reset */
  /* TTFT histogram of the probe, linear bins of PROBE_BIN_MS: the forks' p95 decides the
   * optimizer's latency budget, and the qsketch's 2 % buckets are too coarse for it */
  uint32_t probe_ttft[PROBE_BINS];
  uint64_t probe_ttft_n;
  double probe_bin_ms;        /* 2 x SLA / PROBE_BINS */
  int timeline_frozen;        /* no effect starts or stops any more (sk_twin_freeze_timeline) */
  unsigned char effect_on[SK_MAX_EFFECTS]; /* the timeline effects running now: a start of a
                                              running effect or a stop of a stopped one (a
                                              command came first) does nothing */
  sk_status status;           /* SK_OK, or the first failure to schedule (sticky, schedule()) */
};

static void probe_ttft_add(sk_twin *tw, double ms) {
  double b = ms / tw->probe_bin_ms;
  int i = b < 0 ? 0 : (b >= PROBE_BINS - 1 ? PROBE_BINS - 1 : (int)b);
  tw->probe_ttft[i]++;
  tw->probe_ttft_n++;
}

/* q-quantile of the probe's TTFTs (the qsketch.h rank: x_(floor(q (n-1)))), bin centre; NaN
 * when empty.  The top bin holds everything from 2 x SLA up and reports +inf, so every
 * SLA comparison fails safe. */
static double probe_ttft_quantile(const sk_twin *tw, double q) {
  if (tw->probe_ttft_n == 0)
    return NAN;
  uint64_t k = (uint64_t)floor(q * (double)(tw->probe_ttft_n - 1)), seen = 0;
  for (int i = 0; i < PROBE_BINS; i++) {
    seen += tw->probe_ttft[i];
    if (seen > k)
      return i == PROBE_BINS - 1 ? INFINITY : (i + 0.5) * tw->probe_bin_ms;
  }
  return INFINITY;
}

static double hour_of_day(const sk_twin *tw, double t_s) {
  return fmod(tw->sc.start_hour + t_s / 3600.0, 24.0);
}

/* --- scheduling ----------------------------------------------------------------------- */

/* Every event of the twin is scheduled here.  The first failure (SK_ENOMEM: the queue
 * could not grow) becomes the twin's sticky status: from then on nothing is scheduled,
 * every handler returns at once and no sample reaches the sinks, because a twin that lost
 * an event no longer computes the room.  sk_twin_run_until returns the status. */
static sk_status schedule(sk_twin *tw, sk_time_ns t_ns, uint32_t handler, uint32_t target,
                          uint64_t arg, sk_event_id *id_out) {
  if (tw->status != SK_OK)
    return tw->status;
  sk_status st = sk_engine_schedule(tw->eng, t_ns, handler, target, arg, id_out);
  if (st != SK_OK)
    tw->status = st;
  return st;
}

/* --- server wake bookkeeping ---------------------------------------------------------- */

static void reschedule(sk_twin *tw, int s) {
  sk_time_ns want = tw->srv[s].next_wake_ns;
  if (want == tw->wake_at[s])
    return;
  if (tw->wake_at[s] != SK_TIME_MAX)
    sk_engine_cancel(tw->eng, tw->wake_id[s]);
  tw->wake_at[s] = want;
  if (want != SK_TIME_MAX && schedule(tw, want, EV_WAKE, (uint32_t)s, 0, &tw->wake_id[s]) != SK_OK)
    tw->wake_at[s] = SK_TIME_MAX; /* nothing pending */
}

static void ttft_sink(void *ud, int server, double ttft_ms) {
  sk_twin *tw = ud;
  int rack = tw->srv[server].rack;
  sk_qsketch_add(&tw->rw[rack].ttft, ttft_ms);
  sk_qsketch_add(&tw->win_ttft, ttft_ms);
  sk_qsketch_add(&tw->tot_ttft, ttft_ms);
  probe_ttft_add(tw, ttft_ms);
}

static void set_present(sk_twin *tw, int s, int present) {
  sk_server *sv = &tw->srv[s];
  if (sv->present == present)
    return;
  sv->present = present;
  tw->rack_servers[sv->rack] += present ? 1 : -1;
  tw->rt[sv->rack].n_servers = tw->rack_servers[sv->rack];
}

static void on_wake(sk_engine *eng, void *world, uint32_t target, uint64_t arg) {
  (void)arg;
  sk_twin *tw = world;
  if (tw->status != SK_OK)
    return;
  int s = (int)target;
  sk_server *sv = &tw->srv[s];
  tw->wake_at[s] = SK_TIME_MAX;
  sk_server_wake(sv, &tw->sc.server, &tw->sc.perf, sk_engine_now(eng), ttft_sink, tw);
  if (sv->draining && sk_server_load(sv) == 0) {
    sk_server_account(sv, &tw->sc.server, sk_engine_now(eng));
    set_present(tw, s, 0);
    sv->next_wake_ns = SK_TIME_MAX;
  }
  reschedule(tw, s);
}

/* --- arrivals ------------------------------------------------------------------------- */

typedef struct {
  const sk_twin *tw;
  const pool *p;
} rate_ctx;

static double pool_rate_at(const void *ctx, double t_s) {
  const rate_ctx *rc = ctx;
  if (rc->p->effect >= 0)
    return rc->p->rate_prompts_s * rc->tw->load_factor;
  return sk_workload_rate(&rc->tw->sc.workload, hour_of_day(rc->tw, t_s)) * rc->tw->load_factor;
}

static double pool_rate_max(const sk_twin *tw, const pool *p) {
  if (p->effect >= 0)
    return p->rate_prompts_s * tw->load_factor;
  return sk_workload_rate_max(&tw->sc.workload) * tw->load_factor;
}

static int trace_mode(const sk_twin *tw, const pool *p) {
  return p->effect < 0 && tw->trace != NULL && tw->trace->n > 0;
}

/* Trace arrival time (s) of the pool's current trace position. */
static double trace_time(const sk_twin *tw, const pool *p) {
  return p->trace_offset_s + tw->trace->t_s[p->trace_pos] / tw->sc.workload.rate_scale /
                                 tw->load_factor;
}

static void schedule_arrival(sk_twin *tw, int pi) {
  pool *p = &tw->pools[pi];
  sk_time_ns now = sk_engine_now(tw->eng);
  double now_s = (double)now * 1e-9;
  double t_s;
  if (trace_mode(tw, p)) {
    t_s = trace_time(tw, p);
  } else {
    rate_ctx rc = {tw, p};
    double dt = sk_workload_next_arrival(p->rng_arrival, now_s, pool_rate_max(tw, p),
                                         pool_rate_at, &rc);
    if (!isfinite(dt))
      return;
    t_s = now_s + dt;
  }
  /* past the end (and past int64 ns: a tiny rate draws arrivals 1e10 s away, which
   * llround cannot hold) there is nothing to schedule */
  if (!(t_s * 1e9 < (double)tw->end_ns + 1.0))
    return;
  sk_time_ns t = (sk_time_ns)llround(t_s * 1e9);
  if (t < now)
    t = now;
  if (t > tw->end_ns)
    return;
  schedule(tw, t, EV_ARRIVAL, (uint32_t)pi, 0, &p->next_id);
}

static int route(sk_twin *tw, pool *p) {
  int n = p->n_members;
  if (n == 0)
    return -1;
  /* power of two choices among servers taking traffic */
  int best = -1;
  for (int tries = 0; tries < 2; tries++) {
    int s = p->members[sk_rng_uniform_int(p->rng_route, (uint32_t)n)];
    const sk_server *sv = &tw->srv[s];
    if (!sv->present || sv->draining)
      continue;
    if (best < 0 || (sk_server_load(sv) + 1) * tw->route_w[tw->srv[best].rack] <
                        (sk_server_load(&tw->srv[best]) + 1) * tw->route_w[sv->rack])
      best = s;
  }
  if (best >= 0)
    return best;
  for (int i = 0; i < n; i++) { /* both picks unavailable: first available in order */
    const sk_server *sv = &tw->srv[p->members[i]];
    if (sv->present && !sv->draining)
      return p->members[i];
  }
  return -1;
}

/* Outstanding work as the router weighs it; INFINITY for a rack routed away from. */
static double weighted_load(const sk_twin *tw, const sk_server *sv) {
  double w = tw->route_w[sv->rack];
  return w > 0 ? (sk_server_load(sv) + 1) / w : INFINITY;
}

/* The first token's wait a request of in_tokens would see at server s given its cache's
 * hit (ms): the work queued there (sk_server_backlog_ms) plus its own prefill of the tokens
 * not cached.  Mooncake's scheduler ranks prefill instances by the same sum (Qin et al.,
 * FAST '25, "KVCache-centric scheduling"). */
static double est_ttft_ms(const sk_twin *tw, int s, int32_t hit, int32_t in_tokens,
                          sk_time_ns now) {
  const sk_server *sv = &tw->srv[s];
  int32_t todo = in_tokens - sk_prefix_cache_cached_tokens(hit, in_tokens);
  return sk_server_backlog_ms(sv, &tw->sc.perf, now) +
         sk_perf_prefill_ms(&tw->sc.perf, todo) * sv->slowdown;
}

/* workload.prefix_cache = route: the usual pick (base) unless a server of the pool whose
 * cache holds a longer leading run of keys[0..nb) promises an earlier first token
 * (est_ttft_ms) and carries at most PREFIX_ROUTE_SLACK more outstanding requests (weighted
 * as the router weighs them) -- the bound keeps the decode load spread.  Members are
 * scanned in index order and a tie keeps the earlier pick: deterministic. */
static int route_prefix(const sk_twin *tw, const pool *p, int base, const uint64_t *keys,
                        int32_t nb, int32_t in_tokens, sk_time_ns now) {
  if (base < 0 || nb == 0 || tw->kv[base] == NULL)
    return base;
  double bound = weighted_load(tw, &tw->srv[base]) + PREFIX_ROUTE_SLACK;
  int32_t base_hit = sk_prefix_cache_match(tw->kv[base], keys, nb);
  if (base_hit == nb) /* nobody holds more */
    return base;
  int best = base;
  double best_ms = est_ttft_ms(tw, base, base_hit, in_tokens, now);
  for (int i = 0; i < p->n_members; i++) {
    int s = p->members[i];
    const sk_server *sv = &tw->srv[s];
    if (s == base || !sv->present || sv->draining || tw->kv[s] == NULL ||
        sv->q_len >= tw->admit_queue_cap || !(weighted_load(tw, sv) <= bound))
      continue;
    int32_t hit = sk_prefix_cache_match(tw->kv[s], keys, nb);
    if (hit <= base_hit)
      continue;
    double ms = est_ttft_ms(tw, s, hit, in_tokens, now);
    if (ms < best_ms) {
      best = s;
      best_ms = ms;
    }
  }
  return best;
}

static void on_arrival(sk_engine *eng, void *world, uint32_t target, uint64_t arg) {
  (void)arg;
  sk_twin *tw = world;
  if (tw->status != SK_OK)
    return;
  pool *p = &tw->pools[target];
  sk_time_ns now = sk_engine_now(eng);
  p->next_id = 0;
  sk_request rq;
  rq.t_arrival_ns = now;
  rq.cached_tokens = 0;
  int32_t nb = 0; /* the prompt's full KV blocks, keys in tw->kv_keys */
  if (trace_mode(tw, p)) {
    rq.in_tokens = tw->trace->in_tokens[p->trace_pos];
    rq.out_tokens = tw->trace->out_tokens[p->trace_pos];
    if (tw->kv != NULL) {
      const uint32_t *off = &tw->trace->kv_off[p->trace_pos];
      nb = sk_prefix_cache_full_blocks((int32_t)(off[1] - off[0]), rq.in_tokens);
      if (nb > SK_TRACE_MAX_HASHES_PER_REQUEST)
        nb = SK_TRACE_MAX_HASHES_PER_REQUEST;
      for (int32_t i = 0; i < nb; i++)
        tw->kv_keys[i] =
            sk_prefix_cache_key(tw->trace->kv_hash[off[0] + (uint32_t)i], p->trace_pass);
    }
    if (++p->trace_pos == tw->trace->n) { /* loop the trace; keep the mean gap between */
      p->trace_pos = 0;
      p->trace_pass++; /* a new pass: new users, not hits on the last pass's prompts */
      double gap = tw->trace->n > 1 ? tw->trace->span_s / (double)(tw->trace->n - 1) : 1.0;
      p->trace_offset_s = (double)now * 1e-9 +
                          gap / tw->sc.workload.rate_scale / tw->load_factor;
    }
  } else {
    sk_workload_tokens(&tw->sc.workload, p->rng_tokens, &rq.in_tokens, &rq.out_tokens);
  }
  tw->win_prompts_in += 1;
  tw->tot_prompts_in += 1;
  tw->probe.prompts_arrived += 1;
  int s = route(tw, p);
  if (nb > 0 && tw->sc.prefix_cache == SK_PREFIX_CACHE_ROUTE)
    s = route_prefix(tw, p, s, tw->kv_keys, nb, rq.in_tokens, now);
  int32_t hit = 0;
  if (nb > 0 && s >= 0 && tw->kv[s] != NULL) {
    hit = sk_prefix_cache_match(tw->kv[s], tw->kv_keys, nb);
    rq.cached_tokens = sk_prefix_cache_cached_tokens(hit, rq.in_tokens);
  }
  if (s < 0 || tw->srv[s].q_len >= tw->admit_queue_cap ||
      !sk_server_enqueue(&tw->srv[s], &tw->sc.server, &tw->sc.perf, &rq, now)) {
    tw->tot_prompts_rej += 1;
    tw->probe.prompts_rejected += 1;
  }
  else {
    if (nb > 0 && tw->kv[s] != NULL) { /* its blocks are cached from now on (docs/MODEL.md) */
      sk_prefix_cache_insert(tw->kv[s], tw->kv_keys, nb);
      tw->tot_kv_asked += nb;
      tw->tot_kv_hit += hit;
      tw->tot_kv_skipped += rq.cached_tokens;
    }
    reschedule(tw, s);
  }
  schedule_arrival(tw, (int)target);
}

/* Redraws pending Poisson arrivals after a rate change (memorylessness makes this
 * exact); trace pools keep their schedule but rescale the rest of the trace. */
static void redraw_arrivals(sk_twin *tw, double old_factor) {
  sk_time_ns now = sk_engine_now(tw->eng);
  for (int i = 0; i < tw->n_pools; i++) {
    pool *p = &tw->pools[i];
    if (!p->active)
      continue;
    if (p->next_id)
      sk_engine_cancel(tw->eng, p->next_id);
    p->next_id = 0;
    if (trace_mode(tw, p)) {
      /* keep the trace position; stretch what remains of the current loop */
      double now_s = (double)now * 1e-9;
      double rel = tw->trace->t_s[p->trace_pos] / tw->sc.workload.rate_scale;
      double due_old = p->trace_offset_s + rel / old_factor;
      double left = due_old > now_s ? due_old - now_s : 0.0;
      p->trace_offset_s = now_s + left * old_factor / tw->load_factor - rel / tw->load_factor;
    }
    schedule_arrival(tw, i);
  }
}

/* --- timeline ------------------------------------------------------------------------- */

static void emit_event(sk_twin *tw, const sk_effect *ef, const char *phase) {
  if (!tw->sinks.on_event)
    return;
  static const char *const kinds[] = {"add_ai_nodes", "crah_override", "load_scale",
                                      "sensor_spike"};
  sk_event_record ev;
  memset(&ev, 0, sizeof ev);
  ev.ts = (double)sk_engine_now(tw->eng) * 1e-9;
  snprintf(ev.name, sizeof ev.name, "%s", ef->name);
  snprintf(ev.effect, sizeof ev.effect, "%s", kinds[ef->kind]);
  snprintf(ev.phase, sizeof ev.phase, "%s", phase);
  switch (ef->kind) {
  case SK_EFFECT_SENSOR_SPIKE:
  case SK_EFFECT_ADD_AI_NODES: {
    char ids[64] = "";
    size_t used = 0;
    for (int i = 0; i < ef->n_racks && used + 12 < sizeof ids; i++) {
      char id[8];
      sk_scenario_rack_id(&tw->sc, ef->rack_index[i], id);
      used += (size_t)snprintf(ids + used, sizeof ids - used, "%s\"%s\"", i ? "," : "", id);
    }
    if (ef->kind == SK_EFFECT_SENSOR_SPIKE)
      snprintf(ev.detail, sizeof ev.detail, "{\"racks\":[%s],\"inlet_offset_k\":%g}", ids,
               ef->inlet_offset_k);
    else
      snprintf(ev.detail, sizeof ev.detail,
               "{\"racks\":[%s],\"nodes_per_rack\":%d,\"rate_prompts_s_per_node\":%g}", ids,
               ef->nodes_per_rack, ef->rate_prompts_s_per_node);
    break;
  }
  case SK_EFFECT_CRAH_OVERRIDE:
    snprintf(ev.detail, sizeof ev.detail,
             "{\"row\":\"%c\",\"fan_speed_pct\":%g,\"supply_setpoint_c\":%g}", 'A' + ef->row,
             isnan(ef->fan_speed_pct) ? -1.0 : ef->fan_speed_pct,
             isnan(ef->supply_setpoint_c) ? -1.0 : ef->supply_setpoint_c);
    break;
  case SK_EFFECT_LOAD_SCALE:
    snprintf(ev.detail, sizeof ev.detail, "{\"factor\":%g}", ef->factor);
    break;
  case SK_EFFECT_KIND_COUNT:
    break;
  }
  tw->sinks.on_event(tw->sinks.ud, &ev);
}

/* 1 if rack i is one effect ei touches: its racks, or every rack of its row. */
static int effect_touches(const sk_twin *tw, int ei, int i) {
  const sk_effect *ef = &tw->sc.effects[ei];
  if (ef->kind == SK_EFFECT_CRAH_OVERRIDE)
    return i / tw->rpr == ef->row;
  for (int k = 0; k < ef->n_racks; k++)
    if (ef->rack_index[k] == i)
      return 1;
  return 0;
}

/* An effect starts: its racks' inlets now. */
static void effect_inlets_start(sk_twin *tw, int ei) {
  sk_effect_inlets *e = &tw->eff_in[ei];
  double sum = 0;
  int n = 0;
  for (int i = 0; i < tw->n_racks; i++)
    if (effect_touches(tw, ei, i)) {
      sum += tw->rt[i].t_in_c;
      n++;
    }
  if (n > 0 && isnan(e->start_inlet_c)) { /* the first start is the one a reader compares */
    e->start_inlet_c = sum / n;
    e->n_racks = n;
  }
}

/* A sample while effects run: their racks' extremes and everyone else's highest. */
static void effect_inlets_sample(sk_twin *tw) {
  for (int e = 0; e < tw->sc.n_effects; e++) {
    sk_effect_inlets *x = &tw->eff_in[e];
    if (!tw->effect_on[e] || x->n_racks == 0)
      continue;
    for (int i = 0; i < tw->n_racks; i++) {
      double t = tw->rt[i].t_in_c;
      if (effect_touches(tw, e, i)) {
        x->min_inlet_c = isnan(x->min_inlet_c) ? t : fmin(x->min_inlet_c, t);
        x->max_inlet_c = isnan(x->max_inlet_c) ? t : fmax(x->max_inlet_c, t);
      } else {
        x->others_max_inlet_c = isnan(x->others_max_inlet_c) ? t : fmax(x->others_max_inlet_c, t);
      }
    }
  }
}

static void effect_start(sk_twin *tw, int ei) {
  const sk_effect *ef = &tw->sc.effects[ei];
  sk_time_ns now = sk_engine_now(tw->eng);
  switch (ef->kind) {
  case SK_EFFECT_ADD_AI_NODES: {
    for (int pi = 0; pi < tw->n_pools; pi++) {
      pool *p = &tw->pools[pi];
      if (p->effect != ei)
        continue;
      for (int m = 0; m < p->n_members; m++) {
        int s = p->members[m];
        sk_server *sv = &tw->srv[s];
        int rack = sv->rack, id = sv->id;
        sk_server_init(sv, id, rack, pi, now);
        set_present(tw, s, 1);
      }
      p->active = 1;
      schedule_arrival(tw, pi);
    }
    break;
  }
  case SK_EFFECT_CRAH_OVERRIDE:
    if (!isnan(ef->fan_speed_pct))
      tw->crah[ef->row].speed_pct = ef->fan_speed_pct;
    if (!isnan(ef->supply_setpoint_c))
      tw->crah[ef->row].setpoint_c = ef->supply_setpoint_c;
    break;
  case SK_EFFECT_LOAD_SCALE: {
    double old = tw->load_factor;
    tw->load_factor *= ef->factor;
    redraw_arrivals(tw, old);
    break;
  }
  case SK_EFFECT_SENSOR_SPIKE:
    for (int i = 0; i < ef->n_racks; i++)
      tw->inlet_offset[ef->rack_index[i]] += ef->inlet_offset_k;
    break;
  case SK_EFFECT_KIND_COUNT:
    break;
  }
  emit_event(tw, ef, "start");
}

static void effect_stop(sk_twin *tw, int ei) {
  const sk_effect *ef = &tw->sc.effects[ei];
  sk_time_ns now = sk_engine_now(tw->eng);
  switch (ef->kind) {
  case SK_EFFECT_ADD_AI_NODES:
    for (int pi = 0; pi < tw->n_pools; pi++) {
      pool *p = &tw->pools[pi];
      if (p->effect != ei)
        continue;
      p->active = 0;
      if (p->next_id)
        sk_engine_cancel(tw->eng, p->next_id);
      p->next_id = 0;
      for (int m = 0; m < p->n_members; m++) {
        int s = p->members[m];
        sk_server *sv = &tw->srv[s];
        sv->draining = 1;
        if (sk_server_load(sv) == 0) {
          sk_server_account(sv, &tw->sc.server, now);
          set_present(tw, s, 0);
          sv->next_wake_ns = SK_TIME_MAX;
          reschedule(tw, s);
        }
      }
    }
    break;
  case SK_EFFECT_CRAH_OVERRIDE:
    if (!isnan(ef->fan_speed_pct))
      tw->crah[ef->row].speed_pct = tw->sc.room.crah_fan_speed_pct;
    if (!isnan(ef->supply_setpoint_c))
      tw->crah[ef->row].setpoint_c = tw->sc.room.supply_setpoint_c;
    break;
  case SK_EFFECT_LOAD_SCALE: {
    double old = tw->load_factor;
    tw->load_factor /= ef->factor;
    redraw_arrivals(tw, old);
    break;
  }
  case SK_EFFECT_SENSOR_SPIKE:
    for (int i = 0; i < ef->n_racks; i++)
      tw->inlet_offset[ef->rack_index[i]] -= ef->inlet_offset_k;
    break;
  case SK_EFFECT_KIND_COUNT:
    break;
  }
  emit_event(tw, ef, "stop");
}

/* Starts (on = 1) or stops effect ei unless it already is so. */
static void effect_switch(sk_twin *tw, int ei, int on) {
  if (tw->effect_on[ei] == on)
    return;
  tw->effect_on[ei] = (unsigned char)on;
  if (on) {
    effect_inlets_start(tw, ei);
    effect_start(tw, ei);
  }
  else
    effect_stop(tw, ei);
}

static void on_effect(sk_engine *eng, void *world, uint32_t target, uint64_t arg) {
  (void)eng;
  const sk_twin *tw = world;
  if (tw->status != SK_OK || tw->timeline_frozen)
    return; /* failed; or a what-if fork: the scripted future is not known */
  effect_switch(world, (int)target, arg == 0);
}

/* --- plant tick and telemetry ----------------------------------------------------------- */

static void emit_sample(sk_twin *tw, sk_time_ns now) {
  const sk_scenario *sc = &tw->sc;
  double period_s = (double)(now - tw->last_sample_ns) * 1e-9;
  double ts = (double)now * 1e-9;
  double ok = 0, max_in = -INFINITY;
  int queue_room = 0, active_room = 0;
  int qd[SK_MAX_ROWS * SK_MAX_RACKS_PER_ROW];
  memset(qd, 0, sizeof(int) * (size_t)tw->n_racks);
  for (int s = 0; s < tw->n_servers; s++) {
    const sk_server *sv = &tw->srv[s];
    if (!sv->present)
      continue;
    qd[sv->rack] += sv->q_len;
    queue_room += sv->q_len;
    active_room += sv->n_active;
  }
  double pump_pct = sc->plant.pump_speed_pct;
  for (int i = 0; i < tw->n_racks; i++) {
    sk_rack_sample *r = &tw->rack_rows[i];
    rack_window *w = &tw->rw[i];
    const sk_rack_thermal *th = &tw->rt[i];
    int row = i / tw->rpr;
    r->ts = ts;
    sk_scenario_rack_id(sc, i, r->rack_id);
    r->inlet_c = th->t_in_c + tw->inlet_offset[i]; /* what the sensor reports */
    r->outlet_c = th->t_out_c;
    r->pdu_kw = period_s > 0 ? w->wall_j / period_s / 1000.0 : 0.0;
    r->gpu_energy_j = w->gpu_j;
    r->tokens_ps = period_s > 0 ? w->tokens / period_s : 0.0;
    r->latency_p95_ms = sk_qsketch_quantile(&w->ttft, 0.95);
    r->fan_rpm_pct = tw->crah[row].speed_pct;
    r->pump_rpm_pct = pump_pct;
    r->queue_depth = qd[i];
    r->n_servers = tw->rack_servers[i];
    if (th->t_in_c <= sc->settings.inlet_max_c)
      ok += 1;
    if (th->t_in_c > SK_ASHRAE_RECOMMENDED_MAX_C)
      tw->inlet_rec_breach += 1;
    if (th->t_in_c > max_in)
      max_in = th->t_in_c;
    if (th->t_in_c > tw->row_max_inlet[row])
      tw->row_max_inlet[row] = th->t_in_c;
    if (th->t_in_c < tw->min_inlet)
      tw->min_inlet = th->t_in_c;
    tw->row_sum_inlet[row] += th->t_in_c;
    tw->row_sum_kw[row] += r->pdu_kw;
  }
  tw->inlet_ok += ok;
  tw->inlet_n += tw->n_racks;
  effect_inlets_sample(tw);
  if (max_in > tw->max_inlet)
    tw->max_inlet = max_in;
  tw->samples += 1;

  for (int row = 0; row < tw->n_rows; row++) {
    sk_crah_sample *c = &tw->crah_rows[row];
    const sk_crah *cr = &tw->crah[row];
    c->ts = ts;
    snprintf(c->row, sizeof c->row, "%c", 'A' + row);
    c->supply_c = cr->supply_c;
    c->setpoint_c = cr->setpoint_c;
    c->target_c = cr->target_c;
    c->return_c = cr->return_c;
    c->fan_pct = cr->speed_pct;
    c->fan_kw = cr->fan_w / 1000.0;
    c->load_kw = cr->load_w / 1000.0;
    c->airflow_m3s = cr->flow_m3s;
  }

  sk_room_sample room;
  memset(&room, 0, sizeof room);
  const energy *e = &tw->win;
  double k = period_s > 0 ? 1.0 / (period_s * 1000.0) : 0.0;
  room.ts = ts;
  room.it_kw = e->it_j * k;
  room.crah_fan_kw = e->fan_j * k;
  room.pump_kw = e->pump_j * k;
  room.chiller_kw = e->chiller_j * k;
  room.tower_kw = e->tower_j * k;
  room.losses_kw = e->losses_j * k;
  room.misc_kw = e->misc_j * k;
  double fac_j = e->it_j + e->fan_j + e->pump_j + e->chiller_j + e->tower_j + e->losses_j + e->misc_j;
  room.facility_kw = fac_j * k;
  room.pue = e->it_j > 0 ? fac_j / e->it_j : NAN;
  room.wetbulb_c = sk_wetbulb_c(&sc->plant, hour_of_day(tw, ts));
  room.chw_supply_c = tw->plant.chw_supply_c;
  room.chiller_cop = tw->plant.cop;
  room.prompts_completed = tw->win_prompts_done;
  room.prompts_arrived = tw->win_prompts_in;
  room.tokens_ps = period_s > 0 ? tw->win_tokens / period_s : 0.0;
  room.j_per_prompt_wh = tw->win_prompts_done > 0 ? fac_j / 3600.0 / tw->win_prompts_done : NAN;
  const energy *t = &tw->tot;
  double tot_j = t->it_j + t->fan_j + t->pump_j + t->chiller_j + t->tower_j + t->losses_j + t->misc_j;
  room.j_per_prompt_wh_cum = tw->tot_prompts_done > 0 ? tot_j / 3600.0 / tw->tot_prompts_done : NAN;
  room.latency_p95_ms = sk_qsketch_quantile(&tw->win_ttft, 0.95);
  room.inlet_compliance_pct = 100.0 * ok / tw->n_racks;
  room.max_inlet_c = max_in;
  room.energy_kwh_cum = tot_j / 3.6e6;
  room.queue_depth = queue_room;
  room.active_sequences = active_room;

  tw->last_room = room;
  if (tw->sinks.on_sample)
    tw->sinks.on_sample(tw->sinks.ud, tw->rack_rows, tw->n_racks, tw->crah_rows, tw->n_rows, &room);

  for (int i = 0; i < tw->n_racks; i++) {
    tw->rw[i].wall_j = tw->rw[i].gpu_j = tw->rw[i].tokens = 0;
    sk_qsketch_reset(&tw->rw[i].ttft);
  }
  memset(&tw->win, 0, sizeof tw->win);
  tw->win_prompts_done = tw->win_prompts_in = tw->win_tokens = 0;
  sk_qsketch_reset(&tw->win_ttft);
  tw->last_sample_ns = now;
}

static void on_tick(sk_engine *eng, void *world, uint32_t target, uint64_t arg) {
  (void)target;
  (void)arg;
  sk_twin *tw = world;
  if (tw->status != SK_OK)
    return;
  const sk_scenario *sc = &tw->sc;
  const sk_server_params *sp = &sc->server;
  sk_time_ns now = sk_engine_now(eng);
  double dt = (double)tw->step_ns * 1e-9;

  for (int i = 0; i < tw->n_racks; i++)
    tw->rt[i].power_w = 0;
  double done = 0, tokens = 0;
  for (int s = 0; s < tw->n_servers; s++) {
    sk_server *sv = &tw->srv[s];
    tw->tot_prompts_extrap += sv->prompts_extrapolated; /* before a gone server is skipped */
    tw->tot_prefills_extrap += sv->prefills_extrapolated;
    sv->prompts_extrapolated = sv->prefills_extrapolated = 0;
    if (sv->present)
      sk_server_account(sv, sp, now);
    if (!sv->present && sv->gpu_energy_j == 0 && sv->host_energy_j == 0 && sv->prompts_done == 0)
      continue;
    double t_in = tw->rt[sv->rack].t_in_c;
    double core_w = (sv->gpu_energy_j + sv->host_energy_j) / dt;
    double fan_w = sv->present ? sk_server_fan_w(sp, core_w, t_in) : 0.0;
    double wall_w = (core_w + fan_w) / sp->psu_eff;
    tw->rt[sv->rack].power_w += wall_w;
    rack_window *w = &tw->rw[sv->rack];
    w->wall_j += wall_w * dt;
    w->gpu_j += sv->gpu_energy_j;
    w->tokens += sv->tokens_out;
    sv->slowdown = sk_server_slowdown(sp, sv->gpu_energy_j / dt / sp->gpus, t_in);
    done += sv->prompts_done;
    tokens += sv->tokens_out;
    sv->gpu_energy_j = sv->host_energy_j = sv->tokens_out = sv->prompts_done = 0;
  }

  double it_w = 0, fan_w = 0, crah_load = 0;
  for (int row = 0; row < tw->n_rows; row++) {
    sk_crah *c = &tw->crah[row];
    sk_crah_prepare(c, &sc->room, tw->plant.chw_supply_c, tw->plant.chw_excess_k, dt);
    sk_row_thermal_step(&tw->rt[row * tw->rpr], tw->rpr, c, &sc->room, sp, dt);
    fan_w += c->fan_w;
    crah_load += c->load_w;
    tw->crah_fan_j_row[row] += c->fan_w * dt;
  }
  for (int i = 0; i < tw->n_racks; i++)
    it_w += tw->rt[i].power_w;
  double wb = sk_wetbulb_c(&sc->plant, hour_of_day(tw, (double)now * 1e-9));
  /* heat into the chilled water: the CRAHs' coils, the pumps' work, and the electrical
   * losses and lighting released in the room (their air-side warming is not modelled) */
  double chw_load = crah_load + tw->plant.pump_w + sk_plant_room_heat_w(&sc->plant, it_w);
  sk_plant_update(&tw->plant, &sc->plant, chw_load, wb, dt);
  tw->chiller_q_j += tw->plant.removed_w * dt;
  if (tw->plant.overloaded)
    tw->chw_overload_s += dt;
  tw->chw_max_c = fmax(tw->chw_max_c, tw->plant.chw_supply_c);

  energy d = {it_w * dt,
              fan_w * dt,
              tw->plant.pump_w * dt,
              tw->plant.chiller_w * dt,
              tw->plant.tower_w * dt,
              sk_electrical_losses_w(&sc->plant, it_w) * dt,
              sc->plant.misc_kw * 1000.0 * dt};
  energy *acc[2] = {&tw->win, &tw->tot};
  for (int a = 0; a < 2; a++) {
    acc[a]->it_j += d.it_j;
    acc[a]->fan_j += d.fan_j;
    acc[a]->pump_j += d.pump_j;
    acc[a]->chiller_j += d.chiller_j;
    acc[a]->tower_j += d.tower_j;
    acc[a]->losses_j += d.losses_j;
    acc[a]->misc_j += d.misc_j;
  }
  tw->win_prompts_done += done;
  tw->tot_prompts_done += done;
  tw->probe.facility_j += d.it_j + d.fan_j + d.pump_j + d.chiller_j + d.tower_j + d.losses_j +
                          d.misc_j;
  tw->probe.it_j += d.it_j;
  tw->probe.cooling_j += d.fan_j + d.pump_j + d.chiller_j + d.tower_j;
  tw->probe.prompts_completed += done;
  for (int i = 0; i < tw->n_racks; i++)
    if (tw->rt[i].t_in_c > tw->probe.max_inlet_c)
      tw->probe.max_inlet_c = tw->rt[i].t_in_c;
  tw->win_tokens += tokens;
  tw->tot_tokens += tokens;

  if (now >= tw->next_sample_ns) {
    emit_sample(tw, now);
    tw->next_sample_ns += tw->sample_ns;
  }
  if (now + tw->step_ns <= tw->end_ns)
    schedule(tw, now + tw->step_ns, EV_TICK, 0, 0, NULL);
}

/* --- construction ----------------------------------------------------------------------- */

static const sk_event_fn HANDLERS[EV_COUNT] = {on_arrival, on_wake, on_tick, on_effect};

static sk_time_ns s_to_ns(double s) {
  return (sk_time_ns)llround(s * 1e9);
}

static sk_status make_pool(sk_twin *tw, int pi, int effect, uint64_t id) {
  pool *p = &tw->pools[pi];
  p->effect = effect;
  sk_status st;
  if ((st = sk_rng_create(&p->rng_arrival, tw->sc.seed, id, RNG_ARRIVAL)) != SK_OK ||
      (st = sk_rng_create(&p->rng_tokens, tw->sc.seed, id, RNG_TOKENS)) != SK_OK ||
      (st = sk_rng_create(&p->rng_route, tw->sc.seed, id, RNG_ROUTE)) != SK_OK)
    return st;
  return SK_OK;
}

sk_status sk_twin_create(sk_twin **out, const sk_scenario *sc, const sk_trace *trace, char *err,
                         size_t errlen) {
  sk_status st = SK_ENOMEM;
  sk_twin *tw = calloc(1, sizeof *tw);
  *out = NULL;
  if (!tw)
    goto fail;
  tw->sc = *sc;
  tw->trace = sc->trace_csv[0] ? trace : NULL;
  if (sc->trace_csv[0] && (!trace || trace->n == 0)) {
    snprintf(err, errlen, "scenario names trace %s but no trace rows were loaded", sc->trace_csv);
    st = SK_EINVAL;
    goto fail;
  }
  tw->n_rows = sc->n_rows;
  tw->rpr = sc->racks_per_row;
  tw->n_racks = tw->n_rows * tw->rpr;
  tw->end_ns = s_to_ns(sc->duration_s);
  tw->step_ns = s_to_ns(sc->thermal_step_s);
  tw->sample_ns = s_to_ns(sc->sample_period_s);
  tw->next_sample_ns = tw->sample_ns;
  tw->load_factor = 1.0;

  /* servers: base servers first, then every add_ai_nodes effect's nodes */
  int n_srv = tw->n_racks * sc->servers_per_rack;
  int n_pools = 1;
  for (int e = 0; e < sc->n_effects; e++)
    if (sc->effects[e].kind == SK_EFFECT_ADD_AI_NODES) {
      n_srv += sc->effects[e].n_racks * sc->effects[e].nodes_per_rack;
      n_pools++;
    }
  tw->n_servers = n_srv;
  tw->n_pools = n_pools;
  tw->rt = calloc((size_t)tw->n_racks, sizeof *tw->rt);
  tw->rw = calloc((size_t)tw->n_racks, sizeof *tw->rw);
  tw->rack_servers = calloc((size_t)tw->n_racks, sizeof *tw->rack_servers);
  tw->rack_rows = calloc((size_t)tw->n_racks, sizeof *tw->rack_rows);
  tw->srv = calloc((size_t)n_srv, sizeof *tw->srv);
  tw->wake_at = calloc((size_t)n_srv, sizeof *tw->wake_at);
  tw->wake_id = calloc((size_t)n_srv, sizeof *tw->wake_id);
  tw->pools = calloc((size_t)n_pools, sizeof *tw->pools);
  tw->route_w = calloc((size_t)tw->n_racks, sizeof *tw->route_w);
  tw->rack_avoid = calloc((size_t)tw->n_racks, sizeof *tw->rack_avoid);
  tw->inlet_offset = calloc((size_t)tw->n_racks, sizeof *tw->inlet_offset);
  if (!tw->rt || !tw->rw || !tw->rack_servers || !tw->rack_rows || !tw->srv || !tw->wake_at ||
      !tw->wake_id || !tw->pools || !tw->route_w || !tw->rack_avoid || !tw->inlet_offset)
    goto fail;
  for (int i = 0; i < tw->n_racks; i++)
    tw->route_w[i] = tw->rack_avoid[i] = 1.0;
  for (int r = 0; r < SK_MAX_ROWS; r++)
    tw->row_w[r] = 1.0;
  tw->admit_queue_cap = SK_SERVER_QUEUE_CAP;
  tw->gpu_cap_hi_w = fmax(SK_GPU_TDP_W, sc->server.gpu_power_cap_w);
  tw->last_room.latency_p95_ms = NAN;
  if ((st = sk_engine_create(&tw->eng, HANDLERS, EV_COUNT, (size_t)n_srv * 2 + 64)) != SK_OK)
    goto fail;

  /* pools and their members */
  st = SK_ENOMEM;
  pool *room_pool = &tw->pools[0];
  room_pool->members = calloc((size_t)tw->n_racks * (size_t)sc->servers_per_rack, sizeof(int));
  if (!room_pool->members)
    goto fail;
  if ((st = make_pool(tw, 0, -1, sk_rng_id_from_name("pool:room"))) != SK_OK)
    goto fail;
  int s = 0;
  for (int r = 0; r < tw->n_racks; r++)
    for (int k = 0; k < sc->servers_per_rack; k++, s++) {
      sk_server_init(&tw->srv[s], s, r, 0, 0);
      room_pool->members[room_pool->n_members++] = s;
      set_present(tw, s, 1);
    }
  room_pool->active = 1;
  int pi = 1;
  for (int e = 0; e < sc->n_effects; e++) {
    const sk_effect *ef = &sc->effects[e];
    if (ef->kind != SK_EFFECT_ADD_AI_NODES)
      continue;
    char name[80];
    snprintf(name, sizeof name, "pool:%s", ef->name);
    if ((st = make_pool(tw, pi, e, sk_rng_id_from_name(name))) != SK_OK)
      goto fail;
    st = SK_ENOMEM;
    pool *p = &tw->pools[pi];
    p->rate_prompts_s = ef->rate_prompts_s_per_node * ef->n_racks * ef->nodes_per_rack;
    p->members = calloc((size_t)(ef->n_racks * ef->nodes_per_rack), sizeof(int));
    if (!p->members)
      goto fail;
    for (int i = 0; i < ef->n_racks; i++)
      for (int k = 0; k < ef->nodes_per_rack; k++, s++) {
        sk_server_init(&tw->srv[s], s, ef->rack_index[i], pi, 0);
        p->members[p->n_members++] = s;
      }
    pi++;
  }
  for (int i = 0; i < n_srv; i++)
    tw->wake_at[i] = SK_TIME_MAX;
  if (tw->trace != NULL && tw->trace->kv_hash != NULL && sc->prefix_cache != SK_PREFIX_CACHE_OFF) {
    st = SK_ENOMEM;
    tw->kv = calloc((size_t)n_srv, sizeof *tw->kv);
    tw->kv_keys = malloc(SK_TRACE_MAX_HASHES_PER_REQUEST * sizeof *tw->kv_keys);
    if (!tw->kv || !tw->kv_keys)
      goto fail;
    for (int i = 0; i < room_pool->n_members; i++)
      if ((st = sk_prefix_cache_create(&tw->kv[room_pool->members[i]], sc->kv_cache_blocks)) !=
          SK_OK)
        goto fail;
  }

  /* thermal start: every rack at the steady state of its base load (nominal power) */
  for (int row = 0; row < tw->n_rows; row++) {
    sk_crah *c = &tw->crah[row];
    c->speed_pct = sc->room.crah_fan_speed_pct;
    c->setpoint_c = sc->room.supply_setpoint_c;
    sk_crah_prepare(c, &sc->room, sc->plant.chw_supply_c, 0, 0);
    for (int k = 0; k < tw->rpr; k++) {
      sk_rack_thermal *r = &tw->rt[row * tw->rpr + k];
      int end = (k == 0 || k == tw->rpr - 1);
      r->recirc_base = end ? sc->room.recirc_end : sc->room.recirc_mid;
      r->t_in_c = c->supply_c;
      r->t_out_c = c->supply_c;
      r->t_hot_c = c->supply_c;
    }
  }
  tw->min_inlet = INFINITY;
  tw->max_inlet = -INFINITY;
  for (int row = 0; row < SK_MAX_ROWS; row++)
    tw->row_max_inlet[row] = -INFINITY;
  sk_qsketch_init(&tw->win_ttft, SK_QSKETCH_DEFAULT_ALPHA);
  sk_twin_probe_reset(tw);
  sk_qsketch_init(&tw->tot_ttft, SK_QSKETCH_DEFAULT_ALPHA);
  for (int i = 0; i < tw->n_racks; i++)
    sk_qsketch_init(&tw->rw[i].ttft, SK_QSKETCH_DEFAULT_ALPHA);
  sk_plant_init(&tw->plant, &sc->plant, sk_wetbulb_c(&sc->plant, sc->start_hour));
  tw->chw_start_c = tw->probe_chw_c = tw->chw_max_c = tw->plant.chw_supply_c;
  for (int e = 0; e < SK_MAX_EFFECTS; e++) {
    sk_effect_inlets *x = &tw->eff_in[e];
    x->start_inlet_c = x->min_inlet_c = x->max_inlet_c = x->others_max_inlet_c = NAN;
  }

  /* first events: ticks, arrivals, the timeline */
  schedule(tw, tw->step_ns, EV_TICK, 0, 0, NULL);
  schedule_arrival(tw, 0);
  for (int e = 0; e < sc->n_effects; e++) {
    const sk_effect *ef = &sc->effects[e];
    sk_time_ns t0 = s_to_ns(ef->start_s);
    if (t0 <= tw->end_ns)
      schedule(tw, t0, EV_EFFECT, (uint32_t)e, 0, NULL);
    if (isfinite(ef->stop_s) && s_to_ns(ef->stop_s) <= tw->end_ns)
      schedule(tw, s_to_ns(ef->stop_s), EV_EFFECT, (uint32_t)e, 1, NULL);
  }
  if ((st = tw->status) != SK_OK) /* the first that failed, and nothing after it */
    goto fail;
  *out = tw;
  return SK_OK;

fail:
  if (st == SK_ENOMEM)
    snprintf(err, errlen, "out of memory building the room");
  sk_twin_destroy(tw);
  return st;
}

void sk_twin_destroy(sk_twin *tw) {
  if (!tw)
    return;
  sk_engine_destroy(tw->eng);
  if (tw->pools)
    for (int i = 0; i < tw->n_pools; i++) {
      free(tw->pools[i].members);
      sk_rng_destroy(tw->pools[i].rng_arrival);
      sk_rng_destroy(tw->pools[i].rng_tokens);
      sk_rng_destroy(tw->pools[i].rng_route);
    }
  free(tw->pools);
  free(tw->rt);
  free(tw->rw);
  free(tw->rack_servers);
  free(tw->rack_rows);
  if (tw->kv)
    for (int i = 0; i < tw->n_servers; i++)
      sk_prefix_cache_destroy(tw->kv[i]);
  free(tw->kv);
  free(tw->kv_keys);
  free(tw->srv);
  free(tw->wake_at);
  free(tw->wake_id);
  free(tw->route_w);
  free(tw->rack_avoid);
  free(tw->inlet_offset);
  free(tw);
}

/* malloc'd copy of n elements of size sz; NULL src gives NULL. */
static void *dup_array(const void *src, size_t n, size_t sz) {
  if (!src || n == 0)
    return NULL;
  void *p = malloc(n * sz);
  if (p)
    memcpy(p, src, n * sz);
  return p;
}

sk_status sk_twin_clone(const sk_twin *src, sk_twin **out) {
  *out = NULL;
  sk_twin *tw = malloc(sizeof *tw);
  if (!tw)
    return SK_ENOMEM;
  *tw = *src;
  memset(&tw->sinks, 0, sizeof tw->sinks);
  size_t nr = (size_t)src->n_racks, ns = (size_t)src->n_servers;
  tw->eng = NULL;
  tw->kv = NULL;
  tw->kv_keys = NULL;
  tw->rt = dup_array(src->rt, nr, sizeof *tw->rt);
  tw->rw = dup_array(src->rw, nr, sizeof *tw->rw);
  tw->rack_servers = dup_array(src->rack_servers, nr, sizeof *tw->rack_servers);
  tw->rack_rows = dup_array(src->rack_rows, nr, sizeof *tw->rack_rows);
  tw->srv = dup_array(src->srv, ns, sizeof *tw->srv);
  tw->wake_at = dup_array(src->wake_at, ns, sizeof *tw->wake_at);
  tw->wake_id = dup_array(src->wake_id, ns, sizeof *tw->wake_id);
  tw->pools = calloc((size_t)src->n_pools, sizeof *tw->pools);
  tw->route_w = dup_array(src->route_w, nr, sizeof *tw->route_w);
  tw->rack_avoid = dup_array(src->rack_avoid, nr, sizeof *tw->rack_avoid);
  tw->inlet_offset = dup_array(src->inlet_offset, nr, sizeof *tw->inlet_offset);
  sk_status st = SK_ENOMEM;
  if (!tw->rt || !tw->rw || !tw->rack_servers || !tw->rack_rows || !tw->srv || !tw->wake_at ||
      !tw->wake_id || !tw->pools || !tw->route_w || !tw->rack_avoid || !tw->inlet_offset)
    goto fail;
  for (int i = 0; i < src->n_pools; i++) {
    const pool *sp = &src->pools[i];
    pool *p = &tw->pools[i];
    *p = *sp;
    p->members = NULL;
    p->rng_arrival = p->rng_tokens = p->rng_route = NULL;
    p->members = dup_array(sp->members, (size_t)sp->n_members, sizeof *p->members);
    if (sp->n_members > 0 && !p->members)
      goto fail;
    if ((st = sk_rng_clone(sp->rng_arrival, &p->rng_arrival)) != SK_OK ||
        (st = sk_rng_clone(sp->rng_tokens, &p->rng_tokens)) != SK_OK ||
        (st = sk_rng_clone(sp->rng_route, &p->rng_route)) != SK_OK)
      goto fail;
    st = SK_ENOMEM;
  }
  if (src->kv != NULL) {
    tw->kv = calloc(ns, sizeof *tw->kv);
    tw->kv_keys = malloc(SK_TRACE_MAX_HASHES_PER_REQUEST * sizeof *tw->kv_keys);
    if (!tw->kv || !tw->kv_keys)
      goto fail;
    for (size_t i = 0; i < ns; i++)
      if (src->kv[i] != NULL && (st = sk_prefix_cache_clone(src->kv[i], &tw->kv[i])) != SK_OK)
        goto fail;
  }
  if ((st = sk_engine_clone(src->eng, &tw->eng)) != SK_OK)
    goto fail;
  *out = tw;
  return SK_OK;
fail:
  sk_twin_destroy(tw);
  return st;
}

void sk_twin_set_sinks(sk_twin *tw, const sk_twin_sinks *sinks) {
  tw->sinks = *sinks;
}

sk_status sk_twin_run_until(sk_twin *tw, sk_time_ns t_ns) {
  if (t_ns > tw->end_ns)
    t_ns = tw->end_ns;
  if (tw->status == SK_OK && t_ns > sk_engine_now(tw->eng))
    sk_engine_run_until(tw->eng, t_ns, tw);
  return tw->status;
}

sk_status sk_twin_status(const sk_twin *tw) {
  return tw->status;
}

/* --- levers (executors) -------------------------------------------------------------- */

/* The lever table (levers.h) as one row per kind, in enum order. */
typedef struct {
  const char *name, *unit, *executor;
  double min, max, step;
  sk_lever_scope scope;
} lever_row;

static const lever_row LEVERS[SK_ACT_KIND_COUNT] = {
#define SK_ACTION_ROW(id, name, unit, executor, min, max, step, scope) \
  {name, unit, executor, min, max, step, scope},
    SK_ACTION_KINDS(SK_ACTION_ROW)
#undef SK_ACTION_ROW
};

const char *sk_action_name(sk_action_kind k) {
  return k < SK_ACT_KIND_COUNT ? LEVERS[k].name : "unknown";
}
const char *sk_action_unit(sk_action_kind k) {
  return k < SK_ACT_KIND_COUNT ? LEVERS[k].unit : "";
}
const char *sk_action_executor(sk_action_kind k) {
  return k < SK_ACT_KIND_COUNT ? LEVERS[k].executor : "";
}
double sk_action_min(sk_action_kind k) {
  return k < SK_ACT_KIND_COUNT ? LEVERS[k].min : NAN;
}
double sk_action_max(sk_action_kind k) {
  return k < SK_ACT_KIND_COUNT ? LEVERS[k].max : NAN;
}
double sk_action_step(sk_action_kind k) {
  return k < SK_ACT_KIND_COUNT ? LEVERS[k].step : NAN;
}
sk_lever_scope sk_action_scope(sk_action_kind k) {
  return k < SK_ACT_KIND_COUNT ? LEVERS[k].scope : SK_SCOPE_ROOM;
}

void sk_action_target_name(const sk_scenario *sc, const sk_action *a, char *out, size_t n) {
  switch (sk_action_scope(a->kind)) {
  case SK_SCOPE_RACK:
    if (n >= 8) {
      sk_scenario_rack_id(sc, a->target, out);
      return;
    }
    break;
  case SK_SCOPE_ROW:
    snprintf(out, n, "row %c", 'A' + a->target);
    return;
  case SK_SCOPE_ROOM:
    break;
  }
  snprintf(out, n, "room");
}

sk_status sk_action_target_parse(const sk_scenario *sc, sk_action_kind k, const char *text,
                                 int *target) {
  switch (sk_action_scope(k)) {
  case SK_SCOPE_ROOM:
    if (strcmp(text, "room") != 0)
      return SK_EINVAL;
    *target = -1;
    return SK_OK;
  case SK_SCOPE_ROW: {
    const char *l = strncmp(text, "row ", 4) == 0 ? text + 4 : text;
    if (l[0] < 'A' || l[0] >= 'A' + sc->n_rows || l[1] != 0)
      return SK_EINVAL;
    *target = l[0] - 'A';
    return SK_OK;
  }
  case SK_SCOPE_RACK: {
    int i = sk_scenario_rack_index(sc, text);
    if (i < 0)
      return SK_EINVAL;
    *target = i;
    return SK_OK;
  }
  }
  return SK_EINVAL;
}

static double clampd(double v, double lo, double hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Pointer to a lever's value and its range (the table's, narrowed where the scenario
 * floors or caps it, levers.h); NULL for a bad target. */
static double *lever(sk_twin *tw, sk_action_kind k, int target, double *lo, double *hi) {
  if (k >= SK_ACT_KIND_COUNT)
    return NULL;
  int row_ok = target >= 0 && target < tw->n_rows;
  *lo = LEVERS[k].min;
  *hi = LEVERS[k].max;
  switch (k) {
  case SK_ACT_BATCH_WINDOW:
    return &tw->sc.server.batch_window_ms;
  case SK_ACT_CRAH_FAN:
    *lo = fmax(*lo, tw->sc.room.crah_min_speed_pct);
    return row_ok ? &tw->crah[target].speed_pct : NULL;
  case SK_ACT_SUPPLY_TEMP:
    return row_ok ? &tw->crah[target].setpoint_c : NULL;
  case SK_ACT_PUMP_SPEED:
    *lo = fmax(*lo, tw->sc.plant.pump_min_speed_pct);
    return &tw->sc.plant.pump_speed_pct;
  case SK_ACT_CHW_TEMP:
    return &tw->sc.plant.chw_supply_c;
  case SK_ACT_REBALANCE:
    return row_ok ? &tw->row_w[target] : NULL;
  case SK_ACT_ROUTE_AWAY:
    return target >= 0 && target < tw->n_racks ? &tw->rack_avoid[target] : NULL;
  case SK_ACT_GPU_CAP:
    /* Servers read sc.server on every call, so the next prefill sees the new cap.  The
     * floor keeps the cap where the model holds (binding in prefill, never in decode). */
    *lo = fmax(*lo, sk_server_decode_ceiling_w(&tw->sc.server));
    *hi = fmin(*hi, tw->gpu_cap_hi_w);
    return &tw->sc.server.gpu_power_cap_w;
  case SK_ACT_ADMISSION: /* an int: sk_twin_apply moves it in whole requests */
  case SK_ACT_KIND_COUNT:
    break;
  }
  return NULL;
}

/* The admission cap after a change of delta: whole requests, within the table's range. */
static double admission_after(const sk_twin *tw, double delta) {
  const lever_row *l = &LEVERS[SK_ACT_ADMISSION];
  return clampd(round(tw->admit_queue_cap + delta), l->min, l->max);
}

double sk_twin_lever(const sk_twin *tw, sk_action_kind kind, int target) {
  if (kind == SK_ACT_ADMISSION)
    return tw->admit_queue_cap;
  double lo, hi;
  const double *v = lever((sk_twin *)tw, kind, target, &lo, &hi);
  return v ? *v : NAN;
}

int sk_twin_can_move(const sk_twin *tw, const sk_action *a) {
  if (!isfinite(a->delta))
    return 0;
  if (a->kind == SK_ACT_ADMISSION)
    return admission_after(tw, a->delta) != tw->admit_queue_cap;
  double lo, hi;
  const double *v = lever((sk_twin *)tw, a->kind, a->target, &lo, &hi);
  return v && clampd(*v + a->delta, lo, hi) != *v;
}

sk_status sk_twin_apply(sk_twin *tw, const sk_action *a, double *applied) {
  double before, after;
  if (!isfinite(a->delta))
    return SK_EINVAL;
  if (a->kind == SK_ACT_ADMISSION) {
    before = tw->admit_queue_cap;
    after = admission_after(tw, a->delta);
    tw->admit_queue_cap = (int)after;
  } else {
    double lo, hi;
    double *v = lever(tw, a->kind, a->target, &lo, &hi);
    if (!v)
      return SK_EINVAL;
    before = *v;
    after = clampd(before + a->delta, lo, hi);
    *v = after;
  }
  if (a->kind == SK_ACT_REBALANCE || a->kind == SK_ACT_ROUTE_AWAY)
    for (int i = 0; i < tw->n_racks; i++)
      tw->route_w[i] = tw->row_w[i / tw->rpr] * tw->rack_avoid[i];
  if (applied)
    *applied = after - before;
  return SK_OK;
}

void sk_twin_freeze_timeline(sk_twin *tw) {
  tw->timeline_frozen = 1;
}

int sk_twin_effect_find(const sk_twin *tw, const char *name) {
  for (int e = 0; e < tw->sc.n_effects; e++)
    if (strcmp(tw->sc.effects[e].name, name) == 0)
      return e;
  return -1;
}

int sk_twin_effect_running(const sk_twin *tw, int e) {
  return e >= 0 && e < tw->sc.n_effects && tw->effect_on[e];
}

sk_status sk_twin_effect_start(sk_twin *tw, int e, sk_time_ns stop_ns) {
  if (e < 0 || e >= tw->sc.n_effects)
    return SK_EINVAL;
  effect_switch(tw, e, 1);
  if (stop_ns > sk_engine_now(tw->eng) && stop_ns <= tw->end_ns)
    return schedule(tw, stop_ns, EV_EFFECT, (uint32_t)e, 1, NULL);
  return SK_OK;
}

sk_status sk_twin_effect_stop(sk_twin *tw, int e) {
  if (e < 0 || e >= tw->sc.n_effects)
    return SK_EINVAL;
  effect_switch(tw, e, 0);
  return SK_OK;
}

void sk_twin_settings_changed(sk_twin *tw, const sk_settings *st) {
  tw->sc.settings = *st;
  /* the probe's bins follow the SLA from its next reset (the probe in progress keeps the
   * bins its counts were made with) */
}

void sk_twin_probe_reset(sk_twin *tw) {
  tw->probe_bin_ms = 2.0 * tw->sc.settings.sla_latency_ms / PROBE_BINS;
  memset(&tw->probe, 0, sizeof tw->probe);
  tw->probe.max_inlet_c = -INFINITY;
  tw->probe_chw_c = tw->plant.chw_supply_c;
  memset(tw->probe_ttft, 0, sizeof tw->probe_ttft);
  tw->probe_ttft_n = 0;
}

void sk_twin_probe_get(const sk_twin *tw, sk_twin_probe *out) {
  *out = tw->probe;
  out->ttft_p95_ms = probe_ttft_quantile(tw, 0.95);
  double cop = tw->plant.cop > 0 && isfinite(tw->plant.cop) ? tw->plant.cop
                                                              : tw->sc.plant.chiller_cop_ref;
  out->stored_cold_j =
      sk_plant_chw_j_per_k(&tw->sc.plant) * (tw->plant.chw_supply_c - tw->probe_chw_c) / cop;
}

const sk_rack_sample *sk_twin_last_racks(const sk_twin *tw, int *n_racks) {
  *n_racks = tw->n_racks;
  return tw->rack_rows;
}

const sk_room_sample *sk_twin_last_room(const sk_twin *tw) {
  return &tw->last_room;
}

const sk_crah_sample *sk_twin_last_crahs(const sk_twin *tw, int *n_rows) {
  *n_rows = tw->n_rows;
  return tw->crah_rows;
}

double sk_twin_coil_floor_c(const sk_twin *tw) {
  double excess = tw->plant.chw_excess_k > 0 ? tw->plant.chw_excess_k : 0;
  return tw->plant.chw_supply_c + tw->sc.room.coil_approach_k + excess;
}

double sk_twin_coil_miss_k(const sk_twin *tw, int *row) {
  double floor_c = sk_twin_coil_floor_c(tw), miss = 0;
  *row = 0;
  for (int r = 0; r < tw->n_rows; r++)
    if (floor_c - tw->crah[r].setpoint_c > miss) {
      miss = floor_c - tw->crah[r].setpoint_c;
      *row = r;
    }
  return miss;
}

double sk_twin_spare_inlet_c(const sk_twin *tw, double extra_servers) {
  double worst = -INFINITY;
  for (int row = 0; row < tw->n_rows; row++)
    worst = fmax(worst, sk_row_spare_inlet_c(&tw->rt[row * tw->rpr], tw->rpr, &tw->crah[row],
                                             &tw->sc.room, &tw->sc.server, extra_servers));
  return worst;
}

int sk_twin_rows(const sk_twin *tw) {
  return tw->n_rows;
}

int sk_twin_racks_per_row(const sk_twin *tw) {
  return tw->rpr;
}

sk_time_ns sk_twin_now(const sk_twin *tw) {
  return sk_engine_now(tw->eng);
}

sk_time_ns sk_twin_end(const sk_twin *tw) {
  return tw->end_ns;
}

uint64_t sk_twin_events(const sk_twin *tw) {
  return sk_engine_executed(tw->eng);
}

const sk_scenario *sk_twin_scenario(const sk_twin *tw) {
  return &tw->sc;
}

static void add_pending(void *ud, int server, double wait_ms) {
  (void)server;
  sk_qsketch_add(ud, wait_ms);
}

/* The run's TTFT quantiles (twin.h).  lo: every first token so far plus each request still
 * without one at its wait so far; hi: the same with those waits at +inf instead.  The true
 * quantile lies between the two, so where they fall in the same bucket it is known to the
 * sketch's accuracy, and otherwise only lo is known: a lower bound, flagged censored.
 * No request at all: NaN, not censored.
 * Rejected: leaving the waiting requests out (an overloaded run's worst waits would never
 * count), and counting them at their wait unflagged, as if it were their TTFT (a bound is
 * not a measurement). */
static void ttft_quantiles(const sk_twin *tw, sk_summary *o) {
  sk_qsketch lo = tw->tot_ttft, hi = tw->tot_ttft;
  sk_time_ns now = sk_engine_now(tw->eng);
  for (int s = 0; s < tw->n_servers; s++)
    sk_server_pending_ttft(&tw->srv[s], now, add_pending, &lo);
  uint64_t pending = sk_qsketch_count(&lo) - sk_qsketch_count(&hi);
  for (uint64_t i = 0; i < pending; i++)
    sk_qsketch_add(&hi, INFINITY);
  o->prompts_queued_at_end = (double)pending;
  const double q[3] = {0.50, 0.95, 0.99};
  double *v[3] = {&o->ttft_p50_ms, &o->ttft_p95_ms, &o->ttft_p99_ms};
  int *censored[3] = {&o->ttft_p50_censored, &o->ttft_p95_censored, &o->ttft_p99_censored};
  for (int i = 0; i < 3; i++) {
    *v[i] = sk_qsketch_quantile(&lo, q[i]);
    int above = sk_qsketch_quantile_above_range(&lo, q[i]);
    *censored[i] = above || (!isnan(*v[i]) && sk_qsketch_quantile(&hi, q[i]) != *v[i]);
    if (above)
      *v[i] = SK_QSKETCH_MAX_VALUE; /* all that is known: more than the range */
  }
}

double sk_summary_compliance_floor(const sk_summary *s, int decimals) {
  return sk_compliance_floor(s->inlet_samples, s->inlet_breach_samples, decimals);
}

double sk_compliance_floor(double samples, double breaches, int decimals) {
  SK_REQUIRE(decimals >= 0 && decimals <= 9);
  if (!(samples > 0))
    return NAN;
  /* Long division of the whole counts (< 2^53), digit by digit: the floor is exact and
   * nothing overflows, so a breach can never round up. */
  uint64_t n = (uint64_t)samples, ok = n - (uint64_t)breaches;
  uint64_t q = ok / n, r = ok % n;
  for (int i = 0; i < decimals + 2; i++) { /* + 2: a percentage */
    q = q * 10 + r * 10 / n;
    r = r * 10 % n;
  }
  double unit = 1; /* 10^decimals, exact */
  for (int i = 0; i < decimals; i++)
    unit *= 10;
  return (double)q / unit;
}

void sk_twin_summary(const sk_twin *tw, sk_summary *o) {
  memset(o, 0, sizeof *o);
  const energy *t = &tw->tot;
  o->sim_s = (double)sk_engine_now(tw->eng) * 1e-9;
  o->prompts_arrived = tw->tot_prompts_in;
  o->prompts_completed = tw->tot_prompts_done;
  o->prompts_rejected = tw->tot_prompts_rej;
  o->tokens_out = tw->tot_tokens;
  o->it_kwh = t->it_j / 3.6e6;
  o->crah_fan_kwh = t->fan_j / 3.6e6;
  o->pump_kwh = t->pump_j / 3.6e6;
  o->chiller_kwh = t->chiller_j / 3.6e6;
  o->tower_kwh = t->tower_j / 3.6e6;
  o->losses_kwh = t->losses_j / 3.6e6;
  o->misc_kwh = t->misc_j / 3.6e6;
  o->facility_kwh = o->it_kwh + o->crah_fan_kwh + o->pump_kwh + o->chiller_kwh + o->tower_kwh +
                    o->losses_kwh + o->misc_kwh;
  o->wh_per_prompt = o->prompts_completed > 0 ? o->facility_kwh * 1000.0 / o->prompts_completed : NAN;
  o->pue = o->it_kwh > 0 ? o->facility_kwh / o->it_kwh : NAN;
  ttft_quantiles(tw, o);
  o->prompts_extrapolated = tw->tot_prompts_extrap;
  o->prefills_extrapolated = tw->tot_prefills_extrap;
  o->prefix_blocks_asked = tw->tot_kv_asked;
  o->prefix_blocks_hit = tw->tot_kv_hit;
  o->prefix_hit_rate = tw->tot_kv_asked > 0 ? tw->tot_kv_hit / tw->tot_kv_asked : NAN;
  o->prefill_tokens_skipped = tw->tot_kv_skipped;
  o->inlet_compliance_pct = tw->inlet_n > 0 ? 100.0 * tw->inlet_ok / tw->inlet_n : NAN;
  o->inlet_samples = tw->inlet_n;
  o->inlet_breach_samples = tw->inlet_n - tw->inlet_ok;
  o->inlet_recommended_breach_samples = tw->inlet_rec_breach;
  o->chw_start_c = tw->chw_start_c;
  o->chw_end_c = tw->plant.chw_supply_c;
  o->chw_max_c = tw->chw_max_c;
  o->chw_overload_s = tw->chw_overload_s;
  double cop = t->chiller_j > 0 ? tw->chiller_q_j / t->chiller_j : tw->sc.plant.chiller_cop_ref;
  o->stored_cold_kwh =
      sk_plant_chw_j_per_k(&tw->sc.plant) * (o->chw_end_c - o->chw_start_c) / cop / 3.6e6;
  o->n_effects = tw->sc.n_effects;
  for (int e = 0; e < tw->sc.n_effects; e++)
    o->effect_inlets[e] = tw->eff_in[e];
  o->min_inlet_c = tw->samples > 0 ? tw->min_inlet : NAN;
  o->max_inlet_c = tw->samples > 0 ? tw->max_inlet : NAN;
  o->n_rows = tw->n_rows;
  for (int r = 0; r < tw->n_rows; r++) {
    o->max_inlet_row_c[r] = tw->samples > 0 ? tw->row_max_inlet[r] : NAN;
    o->mean_inlet_row_c[r] = tw->samples > 0 ? tw->row_sum_inlet[r] / (tw->samples * tw->rpr) : NAN;
    o->mean_rack_kw_row[r] = tw->samples > 0 ? tw->row_sum_kw[r] / (tw->samples * tw->rpr) : NAN;
    o->crah_fan_kwh_row[r] = tw->crah_fan_j_row[r] / 3.6e6;
  }
  o->samples = tw->samples;
}
