/*
 * bench_load.c -- a load generator in C for the live API (docs/PERFORMANCE.md (j)): the
 * issue's targets are >= 35k req/s with p99 <= 5 ms on a read route at 50 connections, and
 * 2,000 WebSocket clients served at 10 frames/s.  wrk and a Python WebSocket client were
 * the bottleneck on a shared 2-core machine; this client is one epoll loop per thread over
 * plain sockets, so it costs the server as little CPU as a client can.
 *
 *   bench_load http PORT [PATH] [CONNS] [SECONDS] [THREADS]   (/state/overview 50 5 1)
 *       keep-alive HTTP/1.1 GETs, one in flight per connection: req/s, latency p50/p90/
 *       p99/max, non-200 answers and errors.
 *   bench_load ws PORT [CLIENTS] [SECONDS] [PID]               (200 10)
 *       CLIENTS WebSocket clients on /ws/events (kpis frames): connected, frames per
 *       client min/mean/max against the frames published in the window, the fan-out lag
 *       (each client's receive time after the first client's, per frame) p50/p99/max,
 *       and with PID the server's CPU and RSS over the window.
 *
 * Prints one line of figures per mode; exits non-zero only when it cannot run at all.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(const double *sorted, size_t n, double p) {
  if (n == 0)
    return 0;
  size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
  return sorted[i < n ? i : n - 1];
}

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* ---- HTTP ------------------------------------------------------------------------------ */

typedef struct {
  int fd;
  char buf[65536];
  size_t got;
  double sent_at;
  int connected;
} hconn;

typedef struct {
  int port, conns;
  const char *path;
  double seconds;
  /* out */
  double *lat;
  size_t n_lat, cap_lat;
  long non200, errors;
} hjob;

/* A whole response at the front of c->buf: its length, or 0 when more must come. */
static size_t response_len(const hconn *c, int *status) {
  const char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
  if (!end)
    return 0;
  size_t head = (size_t)(end - c->buf) + 4;
  long clen = 0;
  *status = atoi(c->buf + 9);
  for (const char *p = c->buf; p < end;) {
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!eol)
      eol = end;
    if ((size_t)(eol - p) > 15 && strncasecmp(p, "content-length:", 15) == 0)
      clen = atol(p + 15);
    p = eol + 2;
  }
  return c->got >= head + (size_t)clen ? head + (size_t)clen : 0;
}

static void *http_worker(void *arg) {
  hjob *j = arg;
  char req[512];
  int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", j->path);
  int ep = epoll_create1(0);
  hconn *cs = calloc((size_t)j->conns, sizeof *cs);
  for (int i = 0; i < j->conns; i++) {
    cs[i].fd = dial(j->port);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = &cs[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
  }
  double end = now_s() + j->seconds;
  struct epoll_event evs[256];
  while (now_s() < end) {
    int n = epoll_wait(ep, evs, 256, 100);
    for (int k = 0; k < n; k++) {
      hconn *c = evs[k].data.ptr;
      if (!c->connected && (evs[k].events & EPOLLOUT)) { /* connected: the first request */
        c->connected = 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->sent_at = now_s();
        if (write(c->fd, req, (size_t)rl) != rl)
          j->errors++;
        continue;
      }
      if (!(evs[k].events & EPOLLIN))
        continue;
      ssize_t r = read(c->fd, c->buf + c->got, sizeof c->buf - c->got);
      if (r <= 0) { /* closed: count it, dial again */
        j->errors++;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = dial(j->port);
        c->got = 0;
        c->connected = 0;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        continue;
      }
      c->got += (size_t)r;
      int status = 0;
      size_t len = response_len(c, &status);
      if (!len) {
        if (c->got == sizeof c->buf) { /* a response larger than the buffer: drop it */
          j->errors++;
          c->got = 0;
        }
        continue;
      }
      double t = now_s();
      if (j->n_lat == j->cap_lat) {
        j->cap_lat = j->cap_lat ? 2 * j->cap_lat : 65536;
        j->lat = realloc(j->lat, j->cap_lat * sizeof *j->lat);
      }
      j->lat[j->n_lat++] = t - c->sent_at;
      if (status != 200)
        j->non200++;
      memmove(c->buf, c->buf + len, c->got - len);
      c->got -= len;
      c->sent_at = t;
      if (write(c->fd, req, (size_t)rl) != rl)
        j->errors++;
    }
  }
  for (int i = 0; i < j->conns; i++)
    close(cs[i].fd);
  free(cs);
  close(ep);
  return NULL;
}

static int run_http(int port, const char *path, int conns, double seconds, int threads) {
  if (threads < 1 || conns < threads) {
    fprintf(stderr, "bench_load: need CONNS >= THREADS >= 1\n");
    return 2;
  }
  hjob *jobs = calloc((size_t)threads, sizeof *jobs);
  pthread_t *th = calloc((size_t)threads, sizeof *th);
  for (int i = 0; i < threads; i++) {
    jobs[i] =
        (hjob){port, conns / threads + (i < conns % threads), path, seconds, NULL, 0, 0, 0, 0};
    pthread_create(&th[i], NULL, http_worker, &jobs[i]);
  }
  size_t n = 0;
  long non200 = 0, errors = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    n += jobs[i].n_lat;
    non200 += jobs[i].non200;
    errors += jobs[i].errors;
  }
  double *all = malloc((n ? n : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < threads; i++) {
    memcpy(all + k, jobs[i].lat, jobs[i].n_lat * sizeof *all);
    k += jobs[i].n_lat;
    free(jobs[i].lat);
  }
  qsort(all, n, sizeof *all, cmp_double);
  printf("http GET %s: %d connections, %d thread(s), %.0f s: %.0f req/s, latency p50 %.2f ms, "
         "p90 %.2f ms, p99 %.2f ms, max %.2f ms; %ld non-200, %ld errors\n",
         path, conns, threads, seconds, (double)n / seconds, pct(all, n, 50) * 1e3,
         pct(all, n, 90) * 1e3, pct(all, n, 99) * 1e3, n ? all[n - 1] * 1e3 : 0.0, non200, errors);
  free(all);
  free(jobs);
  free(th);
  return n > 0 ? 0 : 1;
}

/* ---- WebSocket --------------------------------------------------------------------------- */

#define MAX_FRAMES 4096 /* frames of the window, by sim time (10/s for minutes) */

typedef struct {
  int fd;
  int state; /* 0 connecting, 1 handshake sent, 2 open, 3 dead */
  unsigned char buf[262144];
  size_t got;
  long frames;
  unsigned char have[MAX_FRAMES / 8]; /* frames of seen[] this client got */
} wsconn;

typedef struct {
  double sim;   /* the frame's sim_time_s */
  double first; /* the first client's receive time */
  long count;
} frame_seen;

static frame_seen seen[MAX_FRAMES];
static int n_seen;
static double *lags;
static size_t n_lags, cap_lags;

static void note_frame(wsconn *c, double sim, double t, int measuring) {
  int i;
  for (i = n_seen - 1; i >= 0 && seen[i].sim != sim; i--)
    ;
  if (i < 0) {
    if (n_seen == MAX_FRAMES)
      return;
    i = n_seen++;
    seen[i] = (frame_seen){sim, t, 0};
  }
  seen[i].count++;
  c->have[i / 8] |= (unsigned char)(1u << (i % 8));
  if (measuring) {
    if (n_lags == cap_lags) {
      cap_lags = cap_lags ? 2 * cap_lags : 65536;
      lags = realloc(lags, cap_lags * sizeof *lags);
    }
    lags[n_lags++] = t - seen[i].first;
  }
}

/* A pong for a ping: client frames are masked (RFC 6455 5.3); the mask is zero. */
static void pong(int fd, const unsigned char *payload, size_t len) {
  unsigned char f[2 + 4 + 125];
  if (len > 125)
    len = 125;
  f[0] = 0x8A;
  f[1] = (unsigned char)(0x80 | len);
  memset(f + 2, 0, 4);
  memcpy(f + 6, payload, len);
  if (write(fd, f, 6 + len) < 0)
    return;
}

/* Consumes the whole frames at the front of c->buf. */
static void ws_frames(wsconn *c, double t, int measuring) {
  size_t off = 0;
  for (;;) {
    if (c->got - off < 2)
      break;
    const unsigned char *p = c->buf + off;
    uint64_t len = p[1] & 0x7f;
    size_t hdr = 2;
    if (len == 126) {
      if (c->got - off < 4)
        break;
      len = ((uint64_t)p[2] << 8) | p[3];
      hdr = 4;
    } else if (len == 127) {
      if (c->got - off < 10)
        break;
      len = 0;
      for (int i = 0; i < 8; i++)
        len = (len << 8) | p[2 + i];
      hdr = 10;
    }
    if (len > sizeof c->buf - hdr) {
      c->state = 3;
      return;
    }
    if (c->got - off < hdr + len)
      break;
    int op = p[0] & 0x0f;
    const unsigned char *pl = p + hdr;
    if (op == 9) {
      pong(c->fd, pl, (size_t)len);
    } else if (op == 1 || op == 0) {
      const char *key = memmem(pl, (size_t)len, "\"sim_time_s\":", 13);
      if (key) {
        c->frames += measuring;
        note_frame(c, strtod(key + 13, NULL), t, measuring);
      }
    } else if (op == 8) {
      c->state = 3;
    }
    off += hdr + (size_t)len;
  }
  memmove(c->buf, c->buf + off, c->got - off);
  c->got -= off;
}

static void proc_usage(int pid, double *cpu_s, double *rss_mb) {
  char path[64], line[512];
  *cpu_s = *rss_mb = 0;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (f) {
    if (fgets(line, sizeof line, f)) {
      char *p = strrchr(line, ')');
      unsigned long ut = 0, st = 0;
      if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
        *cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    fclose(f);
  }
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if ((f = fopen(path, "r"))) {
    while (fgets(line, sizeof line, f))
      if (strncmp(line, "VmRSS:", 6) == 0)
        *rss_mb = atof(line + 6) / 1024.0;
    fclose(f);
  }
}

static int run_ws(int port, int n, double seconds, int pid) {
  static const char hs[] = "GET /ws/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n";
  wsconn *cs = calloc((size_t)n, sizeof *cs);
  int ep = epoll_create1(0);
  for (int i = 0; i < n; i++) {
    cs[i].fd = dial(port);
    if (cs[i].fd < 0) {
      cs[i].state = 3;
      continue;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = &cs[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
  }
  struct epoll_event evs[512];
  double t_start = now_s(), t_measure = 0, t_end = 0, cpu0 = 0, rss = 0;
  int open = 0;
  for (;;) {
    double t = now_s();
    if (!t_measure && (open == n || t - t_start > 60)) { /* everyone in (or a minute) */
      t_measure = t + 1.0;                               /* a second to settle, then the window */
      t_end = t_measure + seconds;
    }
    if (t_end && t >= t_end)
      break;
    int k = epoll_wait(ep, evs, 512, 50);
    t = now_s();
    int measuring = t_measure && t >= t_measure;
    if (measuring && pid > 0 && cpu0 == 0) {
      proc_usage(pid, &cpu0, &rss);
      if (cpu0 == 0)
        cpu0 = 1e-9;
    }
    for (int e = 0; e < k; e++) {
      wsconn *c = evs[e].data.ptr;
      if (c->state == 0 && (evs[e].events & EPOLLOUT)) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        if (write(c->fd, hs, sizeof hs - 1) != (ssize_t)(sizeof hs - 1))
          c->state = 3;
        else
          c->state = 1;
        continue;
      }
      if (!(evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        continue;
      ssize_t r = read(c->fd, c->buf + c->got, sizeof c->buf - c->got);
      if (r <= 0) {
        if (c->state == 2)
          open--;
        c->state = 3;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        continue;
      }
      c->got += (size_t)r;
      if (c->state == 1) {
        unsigned char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
        if (!end)
          continue;
        if (c->got < 12 || memcmp(c->buf + 9, "101", 3) != 0) {
          c->state = 3;
          continue;
        }
        size_t head = (size_t)(end - c->buf) + 4;
        memmove(c->buf, c->buf + head, c->got - head);
        c->got -= head;
        c->state = 2;
        open++;
      }
      if (c->state == 2)
        ws_frames(c, t, measuring);
    }
  }
  double cpu1 = 0;
  if (pid > 0)
    proc_usage(pid, &cpu1, &rss);
  /* the frames of the window: first received in it, at least 1 s before its end (so
   * every client had time to get them); each client's count of those */
  long published = 0, mn = -1, mx = 0, sum = 0, all = 0;
  for (int i = 0; i < n_seen; i++)
    published += seen[i].first >= t_measure && seen[i].first <= t_end - 1.0;
  int alive = 0;
  for (int i = 0; i < n; i++) {
    if (cs[i].state != 2)
      continue;
    alive++;
    long got = 0;
    for (int f = 0; f < n_seen; f++)
      got += seen[f].first >= t_measure && seen[f].first <= t_end - 1.0 &&
             (cs[i].have[f / 8] >> (f % 8) & 1);
    mn = mn < 0 || got < mn ? got : mn;
    mx = got > mx ? got : mx;
    sum += got;
    all += got == published;
  }
  qsort(lags, n_lags, sizeof *lags, cmp_double);
  printf("ws /ws/events: %d of %d clients connected, %.0f s: %ld frames published (to 1 s "
         "before the end); of those per client min %ld, mean %.1f, max %ld (%ld clients got "
         "every one); fan-out lag p50 "
         "%.1f ms, p99 %.1f ms, max %.1f ms",
         alive, n, seconds, published, mn < 0 ? 0 : mn, alive ? (double)sum / alive : 0.0, mx, all,
         pct(lags, n_lags, 50) * 1e3, pct(lags, n_lags, 99) * 1e3,
         n_lags ? lags[n_lags - 1] * 1e3 : 0.0);
  if (pid > 0)
    printf("; server CPU %.0f %% of a core, RSS %.0f MiB", 100.0 * (cpu1 - cpu0) / seconds, rss);
  printf("\n");
  for (int i = 0; i < n; i++)
    if (cs[i].fd >= 0)
      close(cs[i].fd);
  free(cs);
  free(lags);
  close(ep);
  return alive > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[1], "http") != 0 && strcmp(argv[1], "ws") != 0)) {
    fprintf(stderr, "usage: bench_load http PORT [PATH] [CONNS] [SECONDS] [THREADS]\n"
                    "       bench_load ws PORT [CLIENTS] [SECONDS] [SERVER_PID]\n");
    return 2;
  }
  raise_fd_limit();
  int port = atoi(argv[2]);
  if (port <= 0 || port > 65535) {
    fprintf(stderr, "bench_load: PORT '%s' is not a port\n", argv[2]);
    return 2;
  }
  if (strcmp(argv[1], "http") == 0)
    return run_http(port, argc > 3 ? argv[3] : "/state/overview", argc > 4 ? atoi(argv[4]) : 50,
                    argc > 5 ? atof(argv[5]) : 5.0, argc > 6 ? atoi(argv[6]) : 1);
  return run_ws(port, argc > 3 ? atoi(argv[3]) : 200, argc > 4 ? atof(argv[4]) : 10.0,
                argc > 5 ? atoi(argv[5]) : 0);
}
