/*
 * bench_phold.c -- PHOLD on the engine: committed events per wall second.
 *
 * N logical processes (LPs) each start with one event.  Handling an event schedules
 * exactly one more, so N events are always pending (the classic "hold" load on the
 * queue).  The new event goes to a uniformly random LP with probability 0.25, else back
 * to the same LP, after a delay of 0.1 + Exp(mean 0.9) time units.  One time unit is
 * 1 s = 1e9 ns of sim time, so each LP handles about one event per sim second and a run
 * of M events lasts about M / N sim seconds.  Every LP draws from its own stream,
 * sk_rng(seed, lp index, purpose 0), as a model would.
 *
 * Usage: bench_phold [N ...] [--events M] [--seed S]
 *   default N = 1024 and 65536, M sized to take a few seconds on a current core.
 * Prints, per N:
 *   phold N=1024 events=... wall_s=... events_per_s=... sim_s=... peak_rss_kb=...
 * peak_rss_kb is the process's peak so far (getrusage), so it only grows down the list.
 *
 * A benchmark, not a test: it prints figures and never fails on time.  Wall time comes
 * from CLOCK_MONOTONIC, which is allowed here and nowhere in engine/.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "skadi/engine.h"
#include "skadi/rng.h"

#define REMOTE_P 0.25
#define LOOKAHEAD_S 0.1
#define EXP_MEAN_S 0.9

typedef struct {
  sk_rng **rng; /* [n_lp] */
  uint32_t n_lp;
  int failed; /* a schedule returned an error */
} phold_world;

static void on_event(sk_engine *eng, void *world, uint32_t lp, uint64_t arg) {
  (void)arg;
  phold_world *w = world;
  sk_rng *r = w->rng[lp];
  uint32_t dest = lp;
  if (sk_rng_uniform(r) < REMOTE_P)
    dest = sk_rng_uniform_int(r, w->n_lp);
  double delay_s = LOOKAHEAD_S + sk_rng_exponential(r, EXP_MEAN_S);
  sk_time_ns t = sk_engine_now(eng) + (sk_time_ns)(delay_s * (double)SK_NS_PER_S);
  if (sk_engine_schedule(eng, t, 0, dest, 0, NULL) != SK_OK)
    w->failed = 1;
}

static double wall_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long peak_rss_kb(void) {
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static int run_one(uint32_t n_lp, uint64_t events, uint64_t seed) {
  static const sk_event_fn handlers[] = {on_event};
  phold_world w = {.n_lp = n_lp};
  sk_engine *eng = NULL;
  int rc = 1;

  w.rng = calloc(n_lp, sizeof *w.rng);
  if (!w.rng)
    goto out;
  for (uint32_t i = 0; i < n_lp; i++)
    if (sk_rng_create(&w.rng[i], seed, i, 0) != SK_OK)
      goto out;
  if (sk_engine_create(&eng, handlers, 1, n_lp) != SK_OK)
    goto out;
  for (uint32_t i = 0; i < n_lp; i++) {
    double delay_s = LOOKAHEAD_S + sk_rng_exponential(w.rng[i], EXP_MEAN_S);
    if (sk_engine_schedule(eng, (sk_time_ns)(delay_s * (double)SK_NS_PER_S), 0, i, 0, NULL) !=
        SK_OK)
      goto out;
  }

  /* About n_lp events per sim second, so this horizon yields about `events` events. */
  sk_time_ns t_end = (sk_time_ns)((double)events / n_lp * (double)SK_NS_PER_S);
  double t0 = wall_s();
  uint64_t ran = sk_engine_run_until(eng, t_end, &w);
  double dt = wall_s() - t0;
  if (w.failed) {
    fprintf(stderr, "bench_phold: schedule failed (out of memory)\n");
    goto out;
  }
  printf("phold N=%" PRIu32 " events=%" PRIu64 " wall_s=%.3f events_per_s=%.0f sim_s=%.1f "
         "peak_rss_kb=%ld\n",
         n_lp, ran, dt, (double)ran / dt, (double)t_end / (double)SK_NS_PER_S, peak_rss_kb());
  fflush(stdout);
  rc = 0;

out:
  sk_engine_destroy(eng);
  if (w.rng)
    for (uint32_t i = 0; i < n_lp; i++)
      sk_rng_destroy(w.rng[i]);
  free(w.rng);
  return rc;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '\0' || *s == '-' || *end != '\0' || v == 0)
    return -1;
  *out = v;
  return 0;
}

static void usage(void) {
  fprintf(stderr, "usage: bench_phold [N ...] [--events M] [--seed S]\n");
}

int main(int argc, char **argv) {
  uint32_t ns[64];
  int n_ns = 0;
  uint64_t events = 0, seed = 1;

  for (int i = 1; i < argc; i++) {
    uint64_t v;
    if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
      if (parse_u64(argv[++i], &events) != 0)
        return usage(), 2;
    } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      if (parse_u64(argv[++i], &seed) != 0)
        return usage(), 2;
    } else if (parse_u64(argv[i], &v) == 0 && v <= UINT32_MAX && n_ns < 64) {
      ns[n_ns++] = (uint32_t)v;
    } else {
      return usage(), 2;
    }
  }
  if (n_ns == 0) {
    ns[n_ns++] = 1024;
    ns[n_ns++] = 65536;
  }
  for (int i = 0; i < n_ns; i++) {
    uint64_t m = events ? events : (ns[i] <= 4096 ? 30000000u : 15000000u);
    if (run_one(ns[i], m, seed) != 0)
      return 1;
  }
  return 0;
}
