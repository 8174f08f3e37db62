/* Scenario JSON (sk_scenario_parse, then validate and list the effective keys). */
#include "fuzz_util.h"

#include "skadi/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sk_scenario sc;
  char err[512];
  sk_scenario_defaults(&sc);
  if (sk_scenario_parse(&sc, (const char *)data, size, "fuzz.json", NULL, err, sizeof err) != SK_OK)
    return 0;
  if (sk_scenario_validate(&sc, err, sizeof err) != SK_OK)
    return 0;
  char **keys = NULL, **values = NULL;
  size_t n = 0;
  if (sk_scenario_kv(&sc, &keys, &values, &n) == SK_OK)
    sk_scenario_free_kv(keys, values, n);
  return 0;
}
