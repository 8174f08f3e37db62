/* Workload trace CSV (trace.c: the Azure LLM inference trace format). */
#include "fuzz_util.h"

#include "skadi/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fz_file(0, "trace.csv", data, size);
  sk_trace tr;
  memset(&tr, 0, sizeof tr);
  char err[512];
  if (sk_trace_load(&tr, path, err, sizeof err) == SK_OK)
    sk_trace_fini(&tr);
  return 0;
}
