/* `skadi mix` (mix.c): the mapping JSON, then after a line "----" the CSV that the
 * mapping's sources name "a.csv" (the seeds do); the aligned output is written to a
 * memory stream. */
#include "fuzz_util.h"

#include "skadi/mix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char sep[] = "\n----\n";
  const uint8_t *csv = NULL;
  size_t json_len = size, csv_len = 0;
  for (size_t i = 0; i + sizeof sep - 1 <= size; i++)
    if (memcmp(data + i, sep, sizeof sep - 1) == 0) {
      json_len = i;
      csv = data + i + sizeof sep - 1;
      csv_len = size - json_len - (sizeof sep - 1);
      break;
    }
  fz_file(1, "a.csv", csv ? (const void *)csv : "", csv_len);
  const char *path = fz_file(0, "mix.json", data, json_len);
  sk_mix *m = NULL;
  char err[512];
  sk_mix_stats st = {0};
  if (sk_mix_create(&m, path, err, sizeof err) == SK_OK)
    sk_mix_get_stats(m, &st);
  /* a mapping may ask for millions of rows (a year at 60 s, corpus year-grid-timeout):
   * writing them takes long, and is no parser's bug */
  if (m != NULL && st.rows <= 20000) {
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out) {
      sk_mix_write(m, out, err, sizeof err);
      fclose(out);
    }
    free(buf);
  }
  sk_mix_destroy(m);
  return 0;
}
