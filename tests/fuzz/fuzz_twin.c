/*
 * fuzz_twin.c -- libFuzzer harness for the twin side's ZeroMQ request parser and every op's
 * argument checks (api/src/srv.c, live.c, store.c, proto.c): each input is sent as one
 * request to a live twin served in-process over inproc (paused, the default room), and the
 * reply must come back as a protocol reply.  The gateway passes HTTP bodies and query
 * strings to the same ops as their args, so this reaches the request-body rules too.
 *
 * Build (clang): cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSKADI_FUZZ=ON
 *   -DSKADI_TESTS=OFF -DSKADI_BENCH=OFF && cmake --build build-fuzz --target fuzz_twin
 * Run: ./build-fuzz/tests/fuzz/fuzz_twin -max_total_time=600 tests/fuzz/corpus/twin
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <zmq.h>

#include "skadi/api.h"

static void *ctx, *dealer;
static sk_api_twin *twin;

static void setup(void) {
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  /* mode off and ten minutes: an input that resumes the run (pace) or turns the loops on
   * (mode_set) costs little, and the ops after the end are reached too */
  cfg.mode = "off";
  cfg.duration_s = 600;
  cfg.source = "fuzz";
  ctx = zmq_ctx_new();
  sk_api_twin_config tc = {&cfg, 0, 1, "inproc://fuzz-cmd", "inproc://fuzz-pub", ctx};
  char err[512];
  if (sk_api_twin_start(&twin, &tc, err, sizeof err) != SK_OK) {
    fprintf(stderr, "fuzz_twin: %s\n", err);
    abort();
  }
  dealer = zmq_socket(ctx, ZMQ_DEALER);
  zmq_connect(dealer, "inproc://fuzz-cmd");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!twin)
    setup();
  /* EINTR: libFuzzer's timeout alarm (SIGALRM) interrupts the blocking calls; not a
   * failure of the twin (it aborted a 10 s run) */
  int rc;
  while ((rc = zmq_send(dealer, data, size, 0)) < 0 && zmq_errno() == EINTR)
    ;
  if (rc < 0)
    abort();
  zmq_msg_t m;
  zmq_msg_init(&m);
  while ((rc = zmq_msg_recv(&m, dealer, 0)) < 0 && zmq_errno() == EINTR)
    ;
  if (rc < 0)
    abort();
  /* every input gets one protocol reply: JSON with v, ok and result or a typed error */
  cJSON *r = cJSON_ParseWithLength(zmq_msg_data(&m), zmq_msg_size(&m));
  const cJSON *ok = cJSON_GetObjectItemCaseSensitive(r, "ok");
  const cJSON *err = cJSON_GetObjectItemCaseSensitive(r, "error");
  if (!r || !cJSON_IsBool(ok) ||
      (cJSON_IsFalse(ok) && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(err, "code"))))
    abort();
  cJSON_Delete(r);
  zmq_msg_close(&m);
  return 0;
}
