/*
 * cmd_serve.c -- `skadi serve`: a live run served to frontends.  The twin side (a run
 * session on its own thread, api/src/live.c) and the HTTP/WebSocket gateway
 * (api/src/gateway.c) in one process over inproc ZeroMQ, or with --engine-only the twin
 * alone on TCP for `skadi gateway --connect`.  Everything here is flags and signals; the
 * API library does the rest.
 *
 * Signals: SIGINT and SIGTERM are blocked in every thread and taken by sigwait() on a
 * thread of ours, which stops the gateway (it closes its clients) or the wait; then the
 * twin stops and finishes the recording.  Exit 0 after a signal: stopping a server is its
 * normal end.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "skadi/api.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif


static void usage(FILE *f) {
  fputs("usage: skadi serve [SCENARIO.json] [options]\n"
        "\n"
        "Runs a scenario live and serves it: the seed's REST and WebSocket API on\n"
        "http://HOST:PORT (docs/API.md) and, with --engine-only, the twin's ZeroMQ\n"
        "protocol alone (docs/PROTOCOL.md) for `skadi gateway --connect`.\n"
        "\n"
        "options:\n"
        "  --scenario PATH    the scenario (or as the first argument; default: the default\n"
        "                     room, scenarios/baseline.json's)\n"
        "  --speed max|Nx     pacing (default 60x); clients change it (POST /pace)\n"
        "  --paused           start paused (POST /pace {\"paused\": false} resumes)\n"
        "  --port N           HTTP port (default 8000; 0 = any free port, printed)\n"
        "  --host ADDR        interface to listen on (default 127.0.0.1)\n"
        "  --engine-only      no gateway: serve the twin's ZeroMQ sockets on --bind/--pub\n"
        "  --bind ENDPOINT    the twin's command socket (ROUTER) with --engine-only\n"
        "                     (default tcp://127.0.0.1:5555)\n"
        "  --pub ENDPOINT     its frame socket (PUB) (default: --bind's port + 1)\n"
        "  --mode MODE        off, on, advisory (default) or closed_loop\n"
        "  --duration D       simulated time: 90, 15m, 6h, 1d (default: the scenario's)\n"
        "  --seed N           run seed\n"
        "  --set KEY=VALUE    override a scenario key or setting (repeatable)\n"
        "  --env-file PATH    read settings from this .env file (default: ./.env if present)\n"
        "  --out PATH         HDF5 recording (default: runs/<scenario>-seed<N>-serve.h5, or\n"
        "                     -2, -3, ... after it); the commands clients send land in its\n"
        "                     /commands table (skadi run --commands re-runs it)\n"
        "  --force            replace an existing --out\n"
        "  --no-record        no recording (POST /report/judges then answers 409)\n"
        "  --timeout S        seconds the gateway waits for the twin (default 5, then 504)\n"
        "  --ws-frames N      frames kept for WebSocket clients (default 1024); a client\n"
        "                     further behind skips to the newest\n"
        "  --cors ORIGIN      let a page from ORIGIN (http://localhost:3000) call the API\n"
        "                     (CORS); default: only pages the gateway serves\n"
        "  --threads N        threads for the counterfactual and the what-if forks (default 2)\n"
        "  -h, --help         this help\n"
        "\n"
        "Environment: SKADI_API_TOKEN set = mutating routes need\n"
        "\"Authorization: Bearer $SKADI_API_TOKEN\" (401 otherwise).\n"
        "SIGINT/SIGTERM close the clients, finish the recording and exit 0.\n"
        "Exit status: 0 stopped, 1 failure (a port or file that cannot be used), 2 bad input.\n"
        "Example: skadi serve scenarios/heat_spike_row_c.json --speed 60x --port 8000\n",
        f);
}

/* "skadi serve: <message>" on stderr; returns 2, the exit status of bad input */
#define bad(...) sk_cli_bad("serve", __VA_ARGS__)

/* ---- shared with cmd_gateway.c and cmd_replay.c (cli.h) --------------------------------- */

int sk_cli_parse_port(const char *text, int *port) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < 0 || v > 65535)
    return 0;
  *port = (int)v;
  return 1;
}

int sk_cli_parse_ws_frames(const char *text, size_t *n) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < 16 || v > 1000000)
    return 0;
  *n = (size_t)v;
  return 1;
}

/* tcp://host:N -> tcp://host:N+1 into out; 0 when ep is not tcp with a port. */
int sk_cli_next_port_endpoint(const char *ep, char *out, size_t len) {
  const char *colon = strrchr(ep, ':');
  int port;
  if (strncmp(ep, "tcp://", 6) != 0 || !colon || colon < ep + 6 ||
      !sk_cli_parse_port(colon + 1, &port) || port == 0 || port == 65535)
    return 0;
  snprintf(out, len, "%.*s:%d", (int)(colon - ep), ep, port + 1);
  return 1;
}

typedef struct {
  sigset_t set;
  sk_api_gateway *gw;
  volatile int got;
} sigwaiter;

static void *sigwait_thread(void *arg) {
  sigwaiter *w = arg;
  int sig;
  if (sigwait(&w->set, &sig) == 0) {
    w->got = sig;
    if (w->gw)
      sk_api_gateway_stop(w->gw);
  }
  return NULL;
}

void sk_cli_block_signals(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int sk_cli_serve_until_signal(const char *who, sk_api_gateway *gw) {
  sigwaiter w;
  memset(&w, 0, sizeof w);
  sigemptyset(&w.set);
  sigaddset(&w.set, SIGINT);
  sigaddset(&w.set, SIGTERM);
  w.gw = gw;
  if (!gw) { /* the twin alone: wait here */
    int sig;
    sigwait(&w.set, &sig);
    fprintf(stderr, "%s: %s, stopping\n", who, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return 0;
  }
  pthread_t th;
  if (pthread_create(&th, NULL, sigwait_thread, &w) != 0) {
    fprintf(stderr, "%s: cannot start the signal thread\n", who);
    return 1;
  }
  sk_status st = sk_api_gateway_run(gw);
  if (!w.got) /* the loop ended by itself: wake our thread */
    pthread_kill(th, SIGTERM);
  pthread_join(th, NULL);
  if (w.got)
    fprintf(stderr, "%s: %s, stopping\n", who, w.got == SIGTERM ? "SIGTERM" : "SIGINT");
  return st == SK_OK ? 0 : 1;
}

/* ---- skadi serve -------------------------------------------------------------------------- */

static void default_out(char *buf, size_t len, const char *name, unsigned long long seed) {
  struct stat st;
  for (int k = 1; k < 10000; k++) {
    if (k == 1)
      snprintf(buf, len, "runs/%s-seed%llu-serve.h5", name, seed);
    else
      snprintf(buf, len, "runs/%s-seed%llu-serve-%d.h5", name, seed, k);
    char part[SK_PATH_LEN + 8];
    snprintf(part, sizeof part, "%s.part", buf);
    if (lstat(buf, &st) != 0 && lstat(part, &st) != 0)
      return;
  }
}

int sk_serve_main(int argc, char **argv) {
  const char *scenario = NULL, *host = "127.0.0.1", *bind_ep = "tcp://127.0.0.1:5555";
  const char *pub_ep = NULL, *out = NULL;
  int port = 8000, engine_only = 0, paused = 0, record = 1, force = 0;
  double timeout_s = 5;
  size_t ws_frames = 0;
  const char *cors = NULL;
  char err[SK_ERR_LEN];
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  sk_cli_session_flags sf;
  sk_cli_session_flags_init(&sf, &cfg, "advisory", 2, 60);
  for (int i = 1; i < argc; i++) {
    int took = sk_cli_session_flag(&sf, "serve", argc, argv, &i);
    if (took < 0)
      return 2;
    if (took)
      continue;
    const char *a = argv[i];
    const char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                                               \
  do {                                                                                             \
    if (!val)                                                                                      \
      return bad("%s: missing value", a);                                                          \
    i++;                                                                                           \
  } while (0)
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--scenario") == 0) {
      NEED_VALUE();
      scenario = val;
    } else if (strcmp(a, "--paused") == 0) {
      paused = 1;
    } else if (strcmp(a, "--port") == 0) {
      NEED_VALUE();
      if (!sk_cli_parse_port(val, &port))
        return bad("--port: '%s' is not a port number (0 to 65535)", val);
    } else if (strcmp(a, "--host") == 0) {
      NEED_VALUE();
      host = val;
    } else if (strcmp(a, "--engine-only") == 0) {
      engine_only = 1;
    } else if (strcmp(a, "--bind") == 0) {
      NEED_VALUE();
      bind_ep = val;
    } else if (strcmp(a, "--pub") == 0) {
      NEED_VALUE();
      pub_ep = val;
    } else if (strcmp(a, "--out") == 0) {
      NEED_VALUE();
      out = val;
    } else if (strcmp(a, "--force") == 0) {
      force = 1;
    } else if (strcmp(a, "--no-record") == 0) {
      record = 0;
    } else if (strcmp(a, "--timeout") == 0) {
      NEED_VALUE();
      char *end;
      timeout_s = strtod(val, &end);
      if (end == val || *end || !(timeout_s >= 0.05 && timeout_s <= 600))
        return bad("--timeout: '%s' is not a number of seconds in [0.05, 600]", val);
    } else if (strcmp(a, "--cors") == 0) {
      NEED_VALUE();
      cors = val;
    } else if (strcmp(a, "--ws-frames") == 0) {
      NEED_VALUE();
      if (!sk_cli_parse_ws_frames(val, &ws_frames))
        return bad("--ws-frames: '%s' is not a whole number from 16 to 1000000", val);
    } else if (a[0] == '-' && a[1] != 0) {
      return bad("unknown option '%s' (see skadi serve --help)", a);
    } else if (!scenario) {
      scenario = a;
    } else {
      return bad("unexpected argument '%s' (one scenario file only)", a);
    }
#undef NEED_VALUE
  }
  char pub_buf[300];
  if (engine_only && !pub_ep) {
    if (!sk_cli_next_port_endpoint(bind_ep, pub_buf, sizeof pub_buf))
      return bad("--pub: needed when --bind '%s' is not tcp://HOST:PORT", bind_ep);
    pub_ep = pub_buf;
  }
  if (!engine_only && (pub_ep || strcmp(bind_ep, "tcp://127.0.0.1:5555") != 0))
    return bad("--bind and --pub go with --engine-only (the gateway talks to its twin inproc)");
  if (!cfg.env_file && access(".env", R_OK) == 0)
    cfg.env_file = ".env";

  cfg.scenario_path = scenario;
  cfg.use_env = 1;
  cfg.force = force;
  cfg.version = SKADI_VERSION;
  cfg.threads = (int)sf.threads;
  cfg.source = "api";
  cfg.demo_effects = 1; /* POST /demo/scenario starts the seed's two on any room */
  char out_buf[SK_PATH_LEN];
  if (record && !out) {
    sk_scenario *eff = malloc(sizeof *eff);
    if (!eff)
      return 1;
    sk_status st = sk_session_config_scenario(&cfg, eff, err, sizeof err);
    if (st == SK_OK)
      default_out(out_buf, sizeof out_buf, eff->name, eff->seed);
    free(eff);
    if (st != SK_OK) {
      fprintf(stderr, "skadi serve: %s\n", err);
      return st == SK_EINVAL ? 2 : 1;
    }
    out = out_buf;
  }
  cfg.record_path = record ? out : NULL;

  sk_cli_block_signals(); /* before any thread starts: they all inherit the mask */
  void *zctx = zmq_ctx_new();
  char cmd_in[64], pub_in[64];
  snprintf(cmd_in, sizeof cmd_in, "inproc://skadi-cmd-%ld", (long)getpid());
  snprintf(pub_in, sizeof pub_in, "inproc://skadi-frames-%ld", (long)getpid());
  /* The gateway first: a port in use then leaves no recording behind.  Its sockets
   * connect to the twin's inproc endpoints before they are bound (ZeroMQ allows it). */
  sk_api_gateway *gw = NULL;
  if (!engine_only) {
    sk_api_gateway_config gc;
    memset(&gc, 0, sizeof gc);
    gc.connect = cmd_in;
    gc.sub = pub_in;
    gc.zmq_ctx = zctx;
    gc.host = host;
    gc.port = port;
    gc.token = getenv("SKADI_API_TOKEN");
    if (gc.token && !gc.token[0])
      gc.token = NULL;
    gc.timeout_s = timeout_s;
    gc.ws_frames = ws_frames;
    gc.cors_origin = cors;
    if (sk_api_gateway_create(&gw, &gc, err, sizeof err) != SK_OK) {
      fprintf(stderr, "skadi serve: %s\n", err);
      zmq_ctx_term(zctx);
      return 1;
    }
  }
  sk_api_twin_config tc = {
      &cfg, sf.speed, paused, engine_only ? bind_ep : cmd_in, engine_only ? pub_ep : pub_in, zctx};
  sk_api_twin *twin;
  sk_status st = sk_api_twin_start(&twin, &tc, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi serve: %s\n", err);
    sk_api_gateway_destroy(gw);
    zmq_ctx_term(zctx);
    return st == SK_EINVAL ? 2 : 1;
  }
  int rc;
  if (engine_only) {
    fprintf(stderr, "skadi serve: twin on %s (commands) and %s (frames)%s%s\n",
            sk_api_twin_cmd_endpoint(twin), sk_api_twin_pub_endpoint(twin),
            record ? ", recording to " : "", record ? out : "");
    rc = sk_cli_serve_until_signal("skadi serve", NULL);
  } else {
    fprintf(stderr, "skadi serve: http://%s:%d/ (WebSocket /ws/events)%s%s\n", host,
            sk_api_gateway_port(gw), record ? ", recording to " : "", record ? out : "");
    rc = sk_cli_serve_until_signal("skadi serve", gw);
    sk_api_gateway_destroy(gw);
  }
  if (sk_api_twin_stop(twin) != SK_OK)
    rc = 1;
  zmq_ctx_term(zctx);
  return rc;
}
