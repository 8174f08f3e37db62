/* IMS model files (ims_model_file.c: HDF5), read back as `skadi ims score` does. */
#include "fuzz_util.h"

#include "skadi/ims_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fz_file(0, "model.h5", data, size);
  static sk_ims_model m;
  char source[256], err[512];
  sk_ims_load(&m, path, source, sizeof source, err, sizeof err);
  return 0;
}
