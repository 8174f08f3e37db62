/* Recordings (recording.c: HDF5), opened and every table scanned as `skadi report` and
 * `skadi ims` read them. */
#include "fuzz_util.h"

#include "skadi/recording.h"

static sk_status count(void *ud, const void *rows, size_t n) {
  (void)rows;
  *(size_t *)ud += n;
  return SK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fz_file(0, "run.h5", data, size);
  sk_recording *r = NULL;
  char err[512];
  if (sk_recording_open(&r, path, err, sizeof err) != SK_OK)
    return 0;
  size_t seen = 0;
  for (int id = 0; id < SK_TABLE_COUNT; id++)
    if (sk_recording_has_table(r, (sk_table_id)id))
      sk_recording_scan(r, (sk_table_id)id, 512, count, &seen);
  sk_recording_close(r);
  return 0;
}
