/* IMS training and scoring data (ims_data.c): a CSV with feature columns, or whatever
 * else the bytes are (an HDF5 signature sends them to the recording reader). */
#include "fuzz_util.h"

#include "skadi/ims_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fz_file(0, "data.csv", data, size);
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  o.max_rows = 100000;
  sk_ims_data d;
  memset(&d, 0, sizeof d);
  char err[512];
  sk_ims_data_load(&d, path, &o, err, sizeof err);
  sk_ims_data_fini(&d);
  return 0;
}
