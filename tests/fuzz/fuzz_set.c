/* --set KEY=VALUE (sk_scenario_set), each line of the input one assignment, then the
 * live setter and the getter on the same text, and the cross-key validation. */
#include "fuzz_util.h"

#include "skadi/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sk_scenario sc;
  char err[512];
  sk_scenario_defaults(&sc);
  char *text = fz_cstr(data, size);
  /* At most 4 lines: an unknown key costs ~300 edit distances for its "did you mean",
   * slow under coverage instrumentation, and more lines find nothing new. */
  int lines = 0;
  for (char *line = text, *next; line && lines < 4; line = next, lines++) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    if (sk_scenario_set(&sc, line, err, sizeof err) == SK_ENOTFOUND)
      continue; /* the live setter would look the same key up again */
    char *eq = strchr(line, '=');
    if (eq) {
      *eq = '\0';
      sk_scenario_set_live(&sc, line, eq + 1, NULL, err, sizeof err);
      char buf[256];
      sk_scenario_get(&sc, line, buf, sizeof buf);
    }
  }
  sk_scenario_validate(&sc, err, sizeof err);
  free(text);
  return 0;
}
