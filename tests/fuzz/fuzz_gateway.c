/*
 * fuzz_gateway.c -- libFuzzer harness for the gateway's HTTP side (api/src/gateway.c): the
 * route and method match, Content-Length and Content-Type rules, query strings and JSON
 * bodies on their way to the twin.  Each input is sent as raw bytes on a new TCP
 * connection to a gateway served in-process (with its twin over inproc, paused); the
 * writing side is then shut so an incomplete request ends.  A 5xx other than 503/504, or a
 * gateway that stops accepting connections, is a failure.
 *
 * Build and run as fuzz_twin.c says, with the target fuzz_gateway and
 * tests/fuzz/corpus/gateway.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <zmq.h>

#include "skadi/api.h"

static sk_api_gateway *gw;
static int port;

static void *loop(void *arg) {
  (void)arg;
  sk_api_gateway_run(gw);
  return NULL;
}

static void setup(void) {
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  /* mode off and ten minutes: an input that resumes the run (pace) or turns the loops on
   * (mode_set) costs little, and the ops after the end are reached too */
  cfg.mode = "off";
  cfg.duration_s = 600;
  cfg.source = "fuzz";
  void *ctx = zmq_ctx_new();
  char err[512];
  sk_api_gateway_config gc;
  memset(&gc, 0, sizeof gc);
  gc.connect = "inproc://fuzz-cmd";
  gc.sub = "inproc://fuzz-pub";
  gc.zmq_ctx = ctx;
  gc.port = 0;
  gc.timeout_s = 1;
  if (sk_api_gateway_create(&gw, &gc, err, sizeof err) != SK_OK) {
    fprintf(stderr, "fuzz_gateway: %s\n", err);
    abort();
  }
  port = sk_api_gateway_port(gw);
  sk_api_twin *twin;
  sk_api_twin_config tc = {&cfg, 0, 1, "inproc://fuzz-cmd", "inproc://fuzz-pub", ctx};
  if (sk_api_twin_start(&twin, &tc, err, sizeof err) != SK_OK) {
    fprintf(stderr, "fuzz_gateway: %s\n", err);
    abort();
  }
  pthread_t th;
  pthread_create(&th, NULL, loop, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!gw)
    setup();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
    abort(); /* the gateway stopped accepting */
  struct timeval tv = {3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t off = 0;
  while (off < size) {
    ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);
    if (w <= 0)
      break;
    off += (size_t)w;
  }
  shutdown(fd, SHUT_WR);
  char buf[16384];
  ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
  if (n > 12 && memcmp(buf, "HTTP/1.1 5", 10) == 0 && memcmp(buf, "HTTP/1.1 503", 12) != 0 &&
      memcmp(buf, "HTTP/1.1 504", 12) != 0) {
    buf[n] = 0;
    fprintf(stderr, "fuzz_gateway: a server error:\n%s\n", buf);
    abort();
  }
  while (n > 0)
    n = recv(fd, buf, sizeof buf, 0);
  close(fd);
  return 0;
}
