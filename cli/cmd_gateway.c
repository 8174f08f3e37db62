/*
 * cmd_gateway.c -- `skadi gateway --connect tcp://HOST:PORT`: the HTTP/WebSocket gateway
 * as a process of its own, in front of a twin served by `skadi serve --engine-only` (or
 * `skadi replay --engine-only`).  It survives the twin's restarts: ZeroMQ reconnects, the
 * frames resume, and requests meanwhile get 503/504.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/api.h"

static void usage(FILE *f) {
  fputs("usage: skadi gateway --connect ENDPOINT [options]\n"
        "\n"
        "Serves the seed's REST and WebSocket API (docs/API.md) for a twin running\n"
        "elsewhere (skadi serve --engine-only), over its ZeroMQ protocol (docs/PROTOCOL.md).\n"
        "Reconnects by itself when the twin restarts.\n"
        "\n"
        "options:\n"
        "  --connect ENDPOINT the twin's command socket, e.g. tcp://127.0.0.1:5555 (required)\n"
        "  --sub ENDPOINT     its frame socket (default: --connect's port + 1)\n"
        "  --port N           HTTP port (default 8000; 0 = any free port, printed)\n"
        "  --host ADDR        interface to listen on (default 127.0.0.1)\n"
        "  --timeout S        seconds to wait for the twin (default 5, then 504)\n"
        "  --ws-frames N      frames kept for WebSocket clients (default 1024); a client\n"
        "                     further behind skips to the newest\n"
        "  --cors ORIGIN      let a page from ORIGIN (http://localhost:3000) call the API\n"
        "                     (CORS); default: only pages the gateway serves\n"
        "  -h, --help         this help\n"
        "\n"
        "Environment: SKADI_API_TOKEN set = mutating routes need\n"
        "\"Authorization: Bearer $SKADI_API_TOKEN\" (401 otherwise).\n"
        "SIGINT/SIGTERM close the clients and exit 0.\n"
        "Exit status: 0 stopped, 1 failure (the port cannot be used), 2 bad input.\n"
        "Example: skadi gateway --connect tcp://127.0.0.1:5555 --port 8000\n",
        f);
}

/* "skadi gateway: <message>" on stderr; returns 2, the exit status of bad input */
#define bad(...) sk_cli_bad("gateway", __VA_ARGS__)

int sk_gateway_main(int argc, char **argv) {
  sk_api_gateway_config gc;
  memset(&gc, 0, sizeof gc);
  gc.host = "127.0.0.1";
  gc.port = 8000;
  gc.timeout_s = 5;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (a[0] != '-')
      return bad("unexpected argument '%s' (see skadi gateway --help)", a);
    if (strcmp(a, "--connect") != 0 && strcmp(a, "--sub") != 0 && strcmp(a, "--port") != 0 &&
        strcmp(a, "--host") != 0 && strcmp(a, "--timeout") != 0 && strcmp(a, "--ws-frames") != 0 &&
        strcmp(a, "--cors") != 0)
      return bad("unknown option '%s' (see skadi gateway --help)", a);
    if (!val)
      return bad("%s: missing value", a);
    i++;
    if (strcmp(a, "--connect") == 0) {
      gc.connect = val;
    } else if (strcmp(a, "--sub") == 0) {
      gc.sub = val;
    } else if (strcmp(a, "--port") == 0) {
      if (!sk_cli_parse_port(val, &gc.port))
        return bad("--port: '%s' is not a port number (0 to 65535)", val);
    } else if (strcmp(a, "--host") == 0) {
      gc.host = val;
    } else if (strcmp(a, "--cors") == 0) {
      gc.cors_origin = val;
    } else if (strcmp(a, "--ws-frames") == 0) {
      if (!sk_cli_parse_ws_frames(val, &gc.ws_frames))
        return bad("--ws-frames: '%s' is not a whole number from 16 to 1000000", val);
    } else {
      char *end;
      gc.timeout_s = strtod(val, &end);
      if (end == val || *end || !(gc.timeout_s >= 0.05 && gc.timeout_s <= 600))
        return bad("--timeout: '%s' is not a number of seconds in [0.05, 600]", val);
    }
  }
  if (!gc.connect)
    return bad("--connect ENDPOINT is required (the twin's command socket)");
  if (strncmp(gc.connect, "tcp://", 6) != 0 && strncmp(gc.connect, "ipc://", 6) != 0)
    return bad("--connect: '%s' is not a tcp:// or ipc:// endpoint", gc.connect);
  char sub[300];
  if (!gc.sub) {
    if (!sk_cli_next_port_endpoint(gc.connect, sub, sizeof sub))
      return bad("--sub: needed when --connect '%s' is not tcp://HOST:PORT", gc.connect);
    gc.sub = sub;
  }
  gc.token = getenv("SKADI_API_TOKEN");
  if (gc.token && !gc.token[0])
    gc.token = NULL;
  sk_cli_block_signals();
  char err[1024];
  sk_api_gateway *gw;
  if (sk_api_gateway_create(&gw, &gc, err, sizeof err) != SK_OK) {
    fprintf(stderr, "skadi gateway: %s\n", err);
    return 1;
  }
  fprintf(stderr, "skadi gateway: http://%s:%d/ for the twin at %s\n", gc.host,
          sk_api_gateway_port(gw), gc.connect);
  int rc = sk_cli_serve_until_signal("skadi gateway", gw);
  sk_api_gateway_destroy(gw);
  return rc;
}
