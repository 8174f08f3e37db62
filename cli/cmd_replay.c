/*
 * cmd_replay.c -- `skadi replay RUN.h5`: a recording served through the same API as a
 * live run (the same frames, the read routes as of the playhead), with play, pause, seek
 * and speed (POST /pace).  The replay side (api/src/replay.c) and the gateway share the
 * process over inproc ZeroMQ, or with --engine-only the replay serves TCP alone.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "skadi/api.h"

static void usage(FILE *f) {
  fputs("usage: skadi replay RUN.h5 [options]\n"
        "\n"
        "Publishes a recording (skadi run / skadi serve) through the live API: the same\n"
        "WebSocket frames and REST reads as the run that made it, as of the playhead.\n"
        "POST /pace {\"paused\": bool, \"speed\": \"10x\", \"seek\": TIME} plays, pauses,\n"
        "seeks and changes speed; the routes that change a run answer 409.\n"
        "\n"
        "options:\n"
        "  --speed max|Nx     pacing (default 10x)\n"
        "  --paused           start paused\n"
        "  --port N           HTTP port (default 8000; 0 = any free port, printed)\n"
        "  --host ADDR        interface to listen on (default 127.0.0.1)\n"
        "  --engine-only      no gateway: serve the ZeroMQ protocol on --bind/--pub\n"
        "  --bind ENDPOINT    command socket with --engine-only (default tcp://127.0.0.1:5555)\n"
        "  --pub ENDPOINT     frame socket (default: --bind's port + 1)\n"
        "  --timeout S        seconds the gateway waits for the replay (default 5)\n"
        "  --ws-frames N      frames kept for WebSocket clients (default 1024)\n"
        "  --cors ORIGIN      let a page from ORIGIN (http://localhost:3000) call the API\n"
        "  -h, --help         this help\n"
        "\n"
        "SIGINT/SIGTERM close the clients and exit 0.\n"
        "Exit status: 0 stopped, 1 failure, 2 bad input (flags, not a recording).\n"
        "Example: skadi replay runs/hs.h5 --speed 10x --port 8000\n",
        f);
}

/* "skadi replay: <message>" on stderr; returns 2, the exit status of bad input */
#define bad(...) sk_cli_bad("replay", __VA_ARGS__)

int sk_replay_main(int argc, char **argv) {
  const char *path = NULL, *host = "127.0.0.1", *bind_ep = "tcp://127.0.0.1:5555", *pub_ep = NULL;
  int port = 8000, engine_only = 0, paused = 0;
  double speed = 10, timeout_s = 5;
  size_t ws_frames = 0;
  const char *cors = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--paused") == 0) {
      paused = 1;
    } else if (strcmp(a, "--engine-only") == 0) {
      engine_only = 1;
    } else if (strcmp(a, "--speed") == 0 || strcmp(a, "--port") == 0 || strcmp(a, "--host") == 0 ||
               strcmp(a, "--bind") == 0 || strcmp(a, "--pub") == 0 || strcmp(a, "--timeout") == 0 ||
               strcmp(a, "--ws-frames") == 0 || strcmp(a, "--cors") == 0) {
      if (!val)
        return bad("%s: missing value", a);
      i++;
      if (strcmp(a, "--speed") == 0) {
        if (!sk_parse_speed(val, &speed))
          return bad("--speed: '%s' is not 'max' or a positive factor like 10x", val);
      } else if (strcmp(a, "--port") == 0) {
        if (!sk_cli_parse_port(val, &port))
          return bad("--port: '%s' is not a port number (0 to 65535)", val);
      } else if (strcmp(a, "--host") == 0) {
        host = val;
      } else if (strcmp(a, "--bind") == 0) {
        bind_ep = val;
      } else if (strcmp(a, "--pub") == 0) {
        pub_ep = val;
      } else if (strcmp(a, "--cors") == 0) {
        cors = val;
      } else if (strcmp(a, "--ws-frames") == 0) {
        if (!sk_cli_parse_ws_frames(val, &ws_frames))
          return bad("--ws-frames: '%s' is not a whole number from 16 to 1000000", val);
      } else {
        char *end;
        timeout_s = strtod(val, &end);
        if (end == val || *end || !(timeout_s >= 0.05 && timeout_s <= 600))
          return bad("--timeout: '%s' is not a number of seconds in [0.05, 600]", val);
      }
    } else if (a[0] == '-' && a[1] != 0) {
      return bad("unknown option '%s' (see skadi replay --help)", a);
    } else if (!path) {
      path = a;
    } else {
      return bad("unexpected argument '%s' (one recording only)", a);
    }
  }
  if (!path)
    return bad("missing RUN.h5 (see skadi replay --help)");
  char pub_buf[300];
  if (engine_only && !pub_ep) {
    if (!sk_cli_next_port_endpoint(bind_ep, pub_buf, sizeof pub_buf))
      return bad("--pub: needed when --bind '%s' is not tcp://HOST:PORT", bind_ep);
    pub_ep = pub_buf;
  }
  if (!engine_only && (pub_ep || strcmp(bind_ep, "tcp://127.0.0.1:5555") != 0))
    return bad("--bind and --pub go with --engine-only");

  sk_cli_block_signals();
  void *zctx = zmq_ctx_new();
  char cmd_in[64], pub_in[64], err[1024];
  snprintf(cmd_in, sizeof cmd_in, "inproc://skadi-replay-cmd-%ld", (long)getpid());
  snprintf(pub_in, sizeof pub_in, "inproc://skadi-replay-frames-%ld", (long)getpid());
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
      fprintf(stderr, "skadi replay: %s\n", err);
      zmq_ctx_term(zctx);
      return 1;
    }
  }
  sk_api_replay_config rc = {
      path, speed, paused, engine_only ? bind_ep : cmd_in, engine_only ? pub_ep : pub_in, zctx};
  sk_api_twin *rp;
  sk_status st = sk_api_replay_start(&rp, &rc, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi replay: %s\n", err);
    sk_api_gateway_destroy(gw);
    zmq_ctx_term(zctx);
    return st == SK_EIO || st == SK_ENOMEM ? 1 : 2;
  }
  int code;
  if (engine_only) {
    fprintf(stderr, "skadi replay: %s on %s (commands) and %s (frames)\n", path,
            sk_api_twin_cmd_endpoint(rp), sk_api_twin_pub_endpoint(rp));
    code = sk_cli_serve_until_signal("skadi replay", NULL);
  } else {
    fprintf(stderr, "skadi replay: %s on http://%s:%d/ (WebSocket /ws/events)\n", path, host,
            sk_api_gateway_port(gw));
    code = sk_cli_serve_until_signal("skadi replay", gw);
    sk_api_gateway_destroy(gw);
  }
  sk_api_twin_stop(rp);
  zmq_ctx_term(zctx);
  return code;
}
