/* Durations (--duration, sk_parse_duration) and times (sk_time_parse, timeparse.c) in
 * every form combination the first byte picks; a parsed time is formatted back. */
#include "fuzz_util.h"

#include "skadi/scenario.h"
#include "skadi/timestamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  char err[256];
  char *text = fz_cstr(data + 2, size - 2);
  double s = 0;
  sk_parse_duration(text, &s, err, sizeof err);

  sk_time_opts o;
  sk_time_opts_init(&o);
  unsigned forms = data[0] & 0x1fu;
  if ((forms & SK_TIME_UNIX_S) && (forms & SK_TIME_UNIX_MS))
    forms &= ~SK_TIME_UNIX_MS;
  if (!(forms & (SK_TIME_ISO_T | SK_TIME_ISO_SPACE | SK_TIME_UNIX_S | SK_TIME_UNIX_MS)))
    forms |= SK_TIME_ISO_T; /* the zone bit alone is no form */
  o.forms = forms;
  o.max_frac_digits = data[1] % 10;
  if (data[1] & 0x80) { /* the 1970..2199 window the CSV readers use */
    o.min_ns = 0;
    o.max_ns = INT64_C(7258118400) * 1000000000;
  }
  int64_t t = 0;
  if (sk_time_parse((const char *)data + 2, size - 2, &o, &t, err, sizeof err) == SK_OK) {
    char buf[40];
    sk_time_format(t, data[1] % 10, buf, sizeof buf);
  }
  free(text);
  return 0;
}
