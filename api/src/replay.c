#include "skadi/api.h"
sk_status sk_api_replay_start(sk_api_twin **out, const sk_api_replay_config *cfg, char *err,
                              size_t errlen) {
  (void)cfg;
  *out = NULL;
  sk_errf(err, errlen, "replay: not built yet");
  return SK_EINVAL;
}
