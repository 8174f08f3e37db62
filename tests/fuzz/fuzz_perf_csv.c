/* Splitwise performance-model CSV (perf_csv.c), fitted for the model the project ships. */
#include "fuzz_util.h"

#include "skadi/perf_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fz_file(0, "perf.csv", data, size);
  sk_perf_params p;
  sk_perf_fit_report rep;
  char err[512];
  sk_perf_fit_csv(path, "llama2-70b", "h100-80gb", 8, &p, &rep, err, sizeof err);
  return 0;
}
