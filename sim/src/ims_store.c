/*
 * ims_store.c -- IMS models in HDF5 files, and the data they are trained on and score
 * (recordings of `skadi run`, CSV files).  Layout and rules for readers: docs/IMS.md.
 *
 * Model file: a small HDF5 file of its own (not a group inside a recording: a model
 * outlives the run it came from and is trained on several).  Scalars are root attributes
 * each with "<name>_units" and "<name>_description", arrays are datasets with "units" and
 * "description"; doubles are float64, so a save/load round trip gives the same bits.  A
 * root attribute kind = "skadi_ims_model" marks the file, so a recording handed over as
 * a model is named as such.  Object times are off, so training twice gives equal files.
 * sk_ims_save writes "<path>.tmp" and renames it over path: a failed save leaves the old
 * model in place (the twin may be scoring with it).
 *
 * Data: both sources end in one row-major matrix with NaN for a missing value, per-row
 * ts and rack_id, and the seed's nominal flag computed from the full rack vector even when
 * fewer features are selected (the filter is about the rack's state, not about the
 * model's inputs).  The nominal filter's settings come from the recording's own /config
 * -- a run at INLET_MAX_C 27 is judged at 27 -- and for CSV from the environment over the
 * seed's defaults, since a CSV carries no settings.  Recordings are read in blocks of
 * BLOCK_ROWS rows, so memory is the kept rows plus one block.
 *
 * Considered and rejected: CSV columns derived on the fly (delta_t_c from inlet/outlet,
 * gpu_kw from gpu_energy_j): a CSV has no sample period to turn energy into power, and
 * silent derivations hide a misnamed column; quoted CSV fields with embedded commas (the
 * data are numbers and rack ids; a surrounding pair of quotes is stripped, that is all);
 * storing the model as a JSON blob in one attribute (h5py users would need json.loads to
 * see a centroid).
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/ims_store.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5util.h"
#include "skadi/scenario.h"
#include "timeparse.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif

#define BLOCK_ROWS 65536 /* recording rows read per H5Dread */
#define UNIT_LEN 16      /* fixed length of /feature_units strings */

/* ---- rack vectors ------------------------------------------------------------------- */

enum {
#define X(name) RF_##name,
  SK_IMS_RACK_FEATURES
#undef X
      RF_COUNT
};
_Static_assert(RF_COUNT == SK_IMS_N_RACK_FEATURES, "SK_IMS_N_RACK_FEATURES is stale");

static const char *const rack_names[SK_IMS_N_RACK_FEATURES] = {
#define X(name) #name,
    SK_IMS_RACK_FEATURES
#undef X
};

/* Checklist: a feature added to SK_IMS_RACK_FEATURES gets its unit here and its value in
 * sk_ims_rack_vector (designated initializers keep each next to its name). */
static const char *const rack_units[SK_IMS_N_RACK_FEATURES] = {
    [RF_inlet_c] = "degC",      [RF_outlet_c] = "degC",
    [RF_delta_t_c] = "K",       [RF_pdu_kw] = "kW",
    [RF_gpu_kw] = "kW",         [RF_tokens_ps] = "tokens/s",
    [RF_latency_p95_ms] = "ms", [RF_queue_depth] = "requests",
    [RF_fan_rpm_pct] = "%",     [RF_pump_rpm_pct] = "%",
};

void sk_ims_rack_vector(const sk_rack_sample *r, double sample_period_s,
                        double out[SK_IMS_N_RACK_FEATURES]) {
  assert(r && out && sample_period_s > 0);
  out[RF_inlet_c] = r->inlet_c;
  out[RF_outlet_c] = r->outlet_c;
  out[RF_delta_t_c] = r->outlet_c - r->inlet_c;
  out[RF_pdu_kw] = r->pdu_kw;
  out[RF_gpu_kw] = r->gpu_energy_j / sample_period_s / 1000.0;
  out[RF_tokens_ps] = r->tokens_ps;
  out[RF_latency_p95_ms] = r->latency_p95_ms;
  out[RF_queue_depth] = (double)r->queue_depth;
  out[RF_fan_rpm_pct] = r->fan_rpm_pct;
  out[RF_pump_rpm_pct] = r->pump_rpm_pct;
}

const char *sk_ims_rack_feature_name(int i) {
  assert(i >= 0 && i < SK_IMS_N_RACK_FEATURES);
  return rack_names[i];
}

const char *sk_ims_rack_feature_unit(int i) {
  assert(i >= 0 && i < SK_IMS_N_RACK_FEATURES);
  return rack_units[i];
}

int sk_ims_rack_feature_index(const char *name) {
  for (int i = 0; i < SK_IMS_N_RACK_FEATURES; i++)
    if (strcmp(rack_names[i], name) == 0)
      return i;
  return -1;
}

double sk_ims_server_idle_kw(double gpus, double gpu_idle_w, double host_idle_w, double fan_base_w,
                             double psu_eff) {
  return (gpus * gpu_idle_w + host_idle_w + fan_base_w) / psu_eff / 1000.0;
}

/* ---- HDF5 plumbing ------------------------------------------------------------------ */

/* Dataset of rank 1 or 2 written from data (memory type mtype, file type ftype), with
 * "units" and "description" attributes. */
static herr_t write_dataset(hid_t file, const char *name, int rank, const hsize_t *dims,
                            hid_t ftype, hid_t mtype, const void *data, const char *units,
                            const char *description) {
  hid_t space = H5Screate_simple(rank, dims, NULL), dcpl = sk__h5_ocpl(H5P_DATASET_CREATE);
  hid_t ds = H5I_INVALID_HID;
  herr_t rc = -1;
  if (space >= 0 && dcpl >= 0 &&
      (ds = H5Dcreate2(file, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) >= 0 &&
      H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0 &&
      sk__h5_attr_str(ds, "units", units) >= 0 &&
      sk__h5_attr_str(ds, "description", description) >= 0)
    rc = 0;
  sk__h5_close(&ds);
  sk__h5_close(&dcpl);
  sk__h5_close(&space);
  return rc;
}

/* Opens an existing HDF5 file read-only; a file a killed run left marked "open for SWMR
 * writing" is opened as a SWMR reader instead. */
static hid_t open_ro(const char *path) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0)
    f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
  return f;
}

/* SK_ENOTFOUND / SK_EIO with a message when path cannot be opened for reading. */
static sk_status check_readable(const char *path, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) {
    int e = errno;
    sk_errf(err, errlen, "%s: %s", path, strerror(e));
    return e == ENOENT || e == ENOTDIR ? SK_ENOTFOUND : SK_EIO;
  }
  if (S_ISDIR(st.st_mode)) { /* a wrong path, not a failing disk */
    sk_errf(err, errlen, "%s: is a directory, not a file", path);
    return SK_EPARSE;
  }
  if (access(path, R_OK) != 0) {
    sk_errf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    return SK_EIO;
  }
  return SK_OK;
}

/* ---- reading attributes -------------------------------------------------------------- */

/* Opens the scalar attribute name of obj whose type class is cls; returns it, or an
 * invalid id with a message "<path>: <where>: attribute <name>: <reason>". */
static hid_t attr_open(hid_t obj, const char *name, H5T_class_t cls, const char *path,
                       const char *where, char *err, size_t errlen) {
  htri_t ex = H5Aexists(obj, name);
  if (ex <= 0) {
    sk_errf(err, errlen, "%s: %s: attribute %s missing", path, where, name);
    return H5I_INVALID_HID;
  }
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = a < 0 ? H5I_INVALID_HID : H5Aget_type(a);
  hid_t s = a < 0 ? H5I_INVALID_HID : H5Aget_space(a);
  const char *why = NULL;
  if (t < 0 || s < 0)
    why = "cannot be read";
  else if (H5Tget_class(t) != cls)
    why = cls == H5T_STRING  ? "is not a string"
          : cls == H5T_FLOAT ? "is not a floating-point number"
                             : "is not an integer";
  else if (H5Sget_simple_extent_type(s) != H5S_SCALAR)
    why = "is not a scalar";
  sk__h5_close(&t);
  sk__h5_close(&s);
  if (why) {
    sk_errf(err, errlen, "%s: %s: attribute %s %s", path, where, name, why);
    sk__h5_close(&a);
  }
  return a;
}

/* Reads the scalar attribute name (type class cls) into *v as memory type mtype; as
 * completes "cannot be read" in the message when HDF5 cannot convert it. */
static int attr_get(hid_t obj, const char *name, H5T_class_t cls, hid_t mtype, void *v,
                    const char *as, const char *path, const char *where, char *err, size_t errlen) {
  hid_t a = attr_open(obj, name, cls, path, where, err, errlen);
  if (a < 0)
    return -1;
  herr_t rc = H5Aread(a, mtype, v);
  sk__h5_close(&a);
  if (rc < 0)
    sk_errf(err, errlen, "%s: %s: attribute %s cannot be read%s", path, where, name, as);
  return rc < 0 ? -1 : 0;
}

static int attr_get_f64(hid_t obj, const char *name, double *v, const char *path, const char *where,
                        char *err, size_t errlen) {
  return attr_get(obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, v, "", path, where, err, errlen);
}

static int attr_get_i64(hid_t obj, const char *name, int64_t *v, const char *path,
                        const char *where, char *err, size_t errlen) {
  return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_INT64, v, " as a 64-bit integer", path, where,
                  err, errlen);
}

static int attr_get_u64(hid_t obj, const char *name, uint64_t *v, const char *path,
                        const char *where, char *err, size_t errlen) {
  return attr_get(obj, name, H5T_INTEGER, H5T_NATIVE_UINT64, v, " as an unsigned integer", path,
                  where, err, errlen);
}

/* A string attribute (variable or fixed length) into buf[len], cut to fit. */
static int attr_get_str(hid_t obj, const char *name, char *buf, size_t len, const char *path,
                        const char *where, char *err, size_t errlen) {
  hid_t a = attr_open(obj, name, H5T_STRING, path, where, err, errlen);
  if (a < 0)
    return -1;
  int rc = sk__h5_attr_read_str(a, buf, len);
  sk__h5_close(&a);
  if (rc < 0)
    sk_errf(err, errlen, "%s: %s: attribute %s cannot be read", path, where, name);
  return rc;
}

/* ---- saving a model ------------------------------------------------------------------ */

/* The model's own invariants, checked before anything is written. */
static sk_status check_model(const sk_ims_model *m, const char *path, char *err, size_t errlen) {
  if (m->n_features < 1 || m->n_features > SK_IMS_MAX_FEATURES) {
    sk_errf(err, errlen, "%s: n_features %d is outside 1..%d", path, m->n_features,
            SK_IMS_MAX_FEATURES);
    return SK_EINVAL;
  }
  if (m->n_clusters < 1 || m->n_clusters > SK_IMS_MAX_CLUSTERS) {
    sk_errf(err, errlen, "%s: n_clusters %d is outside 1..%d", path, m->n_clusters,
            SK_IMS_MAX_CLUSTERS);
    return SK_EINVAL;
  }
  for (int i = 0; i < m->n_features; i++) {
    size_t len = strnlen(m->feature[i], SK_IMS_NAME_LEN);
    if (len == 0 || len == SK_IMS_NAME_LEN) {
      sk_errf(err, errlen, "%s: feature %d: name is empty or not NUL-terminated", path, i);
      return SK_EINVAL;
    }
    for (int j = 0; j < i; j++)
      if (strcmp(m->feature[i], m->feature[j]) == 0) {
        sk_errf(err, errlen, "%s: feature '%s' appears twice", path, m->feature[i]);
        return SK_EINVAL;
      }
  }
  return SK_OK;
}

static sk_status save(const sk_ims_model *m, const char *path, const char *source, char *err,
                      size_t errlen) {
  sk_status st = check_model(m, path, err, errlen);
  if (st != SK_OK)
    return st;
  const int d = m->n_features, k = m->n_clusters;
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 5);
  if (!tmp) {
    sk_errf(err, errlen, "%s: out of memory", path);
    return SK_ENOMEM;
  }
  snprintf(tmp, plen + 5, "%s.tmp", path);

  /* open(2) names a missing directory plainly; HDF5 buries it in its stack. */
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    sk_errf(err, errlen, "%s: cannot create file: %s", path, strerror(errno));
    free(tmp);
    return SK_EIO;
  }
  close(fd);

  /* Fixed-size copies with every byte defined: no stray memory reaches the file. */
  char names[SK_IMS_MAX_FEATURES][SK_IMS_NAME_LEN];
  char units[SK_IMS_MAX_FEATURES][UNIT_LEN];
  double cent[SK_IMS_MAX_CLUSTERS * SK_IMS_MAX_FEATURES];
  char src[SK_IMS_SOURCE_LEN];
  memset(names, 0, sizeof names);
  memset(units, 0, sizeof units);
  for (int i = 0; i < d; i++) {
    memcpy(names[i], m->feature[i], strlen(m->feature[i]));
    int r = sk_ims_rack_feature_index(m->feature[i]);
    if (r >= 0)
      memcpy(units[i], rack_units[r], strlen(rack_units[r]));
  }
  for (int c = 0; c < k; c++)
    memcpy(&cent[c * d], m->centroid[c], (size_t)d * sizeof(double));
  snprintf(src, sizeof src, "%s", source ? source : "");

  hid_t fcpl = sk__h5_ocpl(H5P_FILE_CREATE), file = H5I_INVALID_HID;
  hid_t tn = sk__h5_fixed_str(SK_IMS_NAME_LEN), tu = sk__h5_fixed_str(UNIT_LEN);
  const char *what = "cannot create HDF5 file";
  int32_t version = SK_IMS_FORMAT_VERSION, nf = d, nk = k, iters = m->iterations;
  int64_t n_train = m->n_train;
  uint64_t seed = m->seed;
  hsize_t dim1 = (hsize_t)d, dim2[2] = {(hsize_t)k, (hsize_t)d};
  /* Root scalars, each followed by "<name>_units" and "<name>_description" (the loader
   * reads them by name). */
  const struct {
    const char *name;
    hid_t ftype, mtype;
    const void *value;
    const char *units, *description;
  } scalars[] = {
      {"n_features", H5T_STD_I32LE, H5T_NATIVE_INT32, &nf, "1", "number of features d"},
      {"n_clusters", H5T_STD_I32LE, H5T_NATIVE_INT32, &nk, "1", "number of k-means clusters K"},
      {"tau_fast", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->tau_fast, "1",
       "deviation D at the tau_fast_percentile of the training deviations"},
      {"tau_persist", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->tau_persist, "1",
       "deviation D at the tau_persist_percentile of the training deviations"},
      {"tau_fast_percentile", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->tau_fast_percentile, "%",
       "percentile of the training deviations for tau_fast"},
      {"tau_persist_percentile", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->tau_persist_percentile, "%",
       "percentile of the training deviations for tau_persist"},
      {"n_train", H5T_STD_I64LE, H5T_NATIVE_INT64, &n_train, "vectors",
       "training vectors (nominal, complete rows)"},
      {"train_from_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->train_from_s, "s",
       "data time of the first training vector; NaN without a time column"},
      {"train_to_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->train_to_s, "s",
       "data time of the last training vector; NaN without a time column"},
      {"seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed, "1",
       "seed of the k-means++ seeding stream"},
      {"iterations", H5T_STD_I32LE, H5T_NATIVE_INT32, &iters, "1", "Lloyd iterations run"},
  };
  if (fcpl < 0 || tn < 0 || tu < 0 || (file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT)) < 0)
    goto h5fail;
  what = "cannot write root attributes";
  if (sk__h5_attr_write(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version) < 0 ||
      sk__h5_attr_str(file, "kind", SK_IMS_FILE_KIND) < 0 ||
      sk__h5_attr_str(file, "description",
                      "IMS model: features are z-scored with mean and scale, D(x) is the distance "
                      "in z-space to the nearest of the centroids; tau_fast and tau_persist are "
                      "percentiles of D over the training vectors") < 0 ||
      sk__h5_attr_str(file, "skadi_version", SKADI_VERSION) < 0 ||
      sk__h5_attr_str(file, "source", src) < 0)
    goto h5fail;
  for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
    if (sk__h5_attr_write(file, scalars[i].name, scalars[i].ftype, scalars[i].mtype,
                          scalars[i].value) < 0 ||
        sk__h5_attr_meta(file, scalars[i].name, scalars[i].units, scalars[i].description) < 0)
      goto h5fail;
  what = "cannot write the datasets";
  if (write_dataset(file, "/feature_names", 1, &dim1, tn, tn, names, "",
                    "feature names, in vector order") < 0 ||
      write_dataset(file, "/feature_units", 1, &dim1, tu, tu, units, "",
                    "unit of each feature; empty when not known") < 0 ||
      write_dataset(file, "/mean", 1, &dim1, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, m->mean,
                    "feature units", "training mean of each feature") < 0 ||
      write_dataset(
          file, "/scale", 1, &dim1, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, m->scale, "feature units",
          "training standard deviation of each feature (> 0); z = (x - mean) / scale") < 0 ||
      write_dataset(file, "/centroids", 2, dim2, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, cent, "1",
                    "k-means centroids in z-space, n_clusters x n_features") < 0)
    goto h5fail;
  what = "cannot close the file";
  if (H5Fclose(file) < 0) {
    file = H5I_INVALID_HID;
    goto h5fail;
  }
  file = H5I_INVALID_HID;
  sk__h5_close(&fcpl);
  sk__h5_close(&tn);
  sk__h5_close(&tu);
  if (rename(tmp, path) != 0) {
    sk_errf(err, errlen, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
    unlink(tmp);
    free(tmp);
    return SK_EIO;
  }
  free(tmp);
  return SK_OK;

h5fail:
  sk__h5_fail(err, errlen, path, what);
  sk__h5_close(&file);
  sk__h5_close(&fcpl);
  sk__h5_close(&tn);
  sk__h5_close(&tu);
  unlink(tmp);
  free(tmp);
  return SK_EIO;
}

sk_status sk_ims_save(const sk_ims_model *m, const char *path, const char *source, char *err,
                      size_t errlen) {
  assert(m && path);
  sk_errf(err, errlen, "%s", "");
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = save(m, path, source, err, errlen);
  sk__h5_quiet_end(&q);
  return st;
}

/* ---- loading a model ----------------------------------------------------------------- */

/* Reads dataset name of shape dims[rank] and type class cls into buf with memory type
 * mtype.  Message names the dataset and what is wrong. */
static sk_status read_dataset(hid_t file, const char *name, int rank, const hsize_t *dims,
                              H5T_class_t cls, hid_t mtype, void *buf, const char *path, char *err,
                              size_t errlen) {
  if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
    sk_errf(err, errlen, "%s: dataset %s missing", path, name);
    return SK_EPARSE;
  }
  hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
  hid_t sp = ds < 0 ? H5I_INVALID_HID : H5Dget_space(ds);
  hid_t ft = ds < 0 ? H5I_INVALID_HID : H5Dget_type(ds);
  sk_status st = SK_EPARSE;
  hsize_t got[2] = {0, 0};
  int r = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
  if (ds < 0 || sp < 0 || ft < 0) {
    sk_errf(err, errlen, "%s: dataset %s cannot be opened", path, name);
  } else if (H5Tget_class(ft) != cls) {
    sk_errf(err, errlen, "%s: dataset %s: has the wrong type (expected %s)", path, name,
            cls == H5T_STRING ? "strings" : "float64");
  } else if (r != rank || H5Sget_simple_extent_dims(sp, got, NULL) < 0 || got[0] != dims[0] ||
             (rank == 2 && got[1] != dims[1])) {
    char shape[64];
    if (r == 1)
      snprintf(shape, sizeof shape, "%llu", (unsigned long long)got[0]);
    else if (r == 2)
      snprintf(shape, sizeof shape, "%llu x %llu", (unsigned long long)got[0],
               (unsigned long long)got[1]);
    else
      snprintf(shape, sizeof shape, "rank %d", r);
    if (rank == 1)
      sk_errf(err, errlen, "%s: dataset %s: shape %s, expected %llu (n_features)", path, name,
              shape, (unsigned long long)dims[0]);
    else
      sk_errf(err, errlen,
              "%s: dataset %s: shape %s, expected %llu x %llu (n_clusters x "
              "n_features)",
              path, name, shape, (unsigned long long)dims[0], (unsigned long long)dims[1]);
  } else if (cls == H5T_STRING &&
             (H5Tis_variable_str(ft) > 0 || H5Tget_size(ft) > H5Tget_size(mtype))) {
    sk_errf(err, errlen, "%s: dataset %s: strings longer than %zu bytes", path, name,
            H5Tget_size(mtype) - 1);
  } else if (H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    sk_errf(err, errlen, "%s: dataset %s cannot be read", path, name);
    st = SK_EIO;
  } else {
    st = SK_OK;
  }
  sk__h5_close(&ft);
  sk__h5_close(&sp);
  sk__h5_close(&ds);
  return st;
}

/* Ranges of a loaded model; values that training can produce pass. */
static sk_status check_loaded(const sk_ims_model *m, const char *path, char *err, size_t errlen) {
  const int d = m->n_features;
  for (int i = 0; i < d; i++) {
    size_t len = strnlen(m->feature[i], SK_IMS_NAME_LEN);
    if (len == 0 || len == SK_IMS_NAME_LEN) {
      sk_errf(err, errlen, "%s: /feature_names[%d]: empty or %d bytes long (at most %d)", path, i,
              (int)len, SK_IMS_NAME_LEN - 1);
      return SK_EPARSE;
    }
    for (int j = 0; j < i; j++)
      if (strcmp(m->feature[i], m->feature[j]) == 0) {
        sk_errf(err, errlen, "%s: /feature_names: '%s' appears twice", path, m->feature[i]);
        return SK_EPARSE;
      }
    if (!isfinite(m->mean[i])) {
      sk_errf(err, errlen, "%s: /mean[%d] (%s): not a finite number", path, i, m->feature[i]);
      return SK_ERANGE;
    }
    if (!isfinite(m->scale[i]) || m->scale[i] <= 0) {
      sk_errf(err, errlen, "%s: /scale[%d] (%s): %g, must be a finite number > 0", path, i,
              m->feature[i], m->scale[i]);
      return SK_ERANGE;
    }
    for (int c = 0; c < m->n_clusters; c++)
      if (!isfinite(m->centroid[c][i])) {
        sk_errf(err, errlen, "%s: /centroids[%d][%d]: not a finite number", path, c, i);
        return SK_ERANGE;
      }
  }
  if (!(m->tau_fast >= 0) || !isfinite(m->tau_fast) || !(m->tau_persist >= m->tau_fast) ||
      !isfinite(m->tau_persist)) {
    sk_errf(err, errlen, "%s: tau_fast %g, tau_persist %g: need 0 <= tau_fast <= tau_persist", path,
            m->tau_fast, m->tau_persist);
    return SK_ERANGE;
  }
  if (!(m->tau_fast_percentile > 0 && m->tau_fast_percentile <= 100) ||
      !(m->tau_persist_percentile >= m->tau_fast_percentile && m->tau_persist_percentile <= 100)) {
    sk_errf(err, errlen,
            "%s: tau_fast_percentile %g, tau_persist_percentile %g: need 0 < fast <= persist "
            "<= 100",
            path, m->tau_fast_percentile, m->tau_persist_percentile);
    return SK_ERANGE;
  }
  if (m->n_train < 0 || m->iterations < 0) {
    sk_errf(err, errlen, "%s: n_train %lld, iterations %d: must be >= 0", path,
            (long long)m->n_train, m->iterations);
    return SK_ERANGE;
  }
  return SK_OK;
}

static sk_status load(sk_ims_model *m, const char *path, char *source, size_t source_len, char *err,
                      size_t errlen) {
  sk_status st = check_readable(path, err, errlen);
  if (st != SK_OK)
    return st;
  if (H5Fis_hdf5(path) <= 0) {
    sk_errf(err, errlen, "%s: not an HDF5 file, so not an IMS model", path);
    return SK_EPARSE;
  }
  hid_t f = open_ro(path);
  if (f < 0) {
    sk__h5_fail(err, errlen, path, "cannot open HDF5 file");
    return SK_EIO;
  }
  hid_t tn = sk__h5_fixed_str(SK_IMS_NAME_LEN);
  char kind[64] = "";
  st = SK_EPARSE;
  if (H5Aexists(f, "kind") <= 0 ||
      attr_get_str(f, "kind", kind, sizeof kind, path, "/", NULL, 0) < 0 ||
      strcmp(kind, SK_IMS_FILE_KIND) != 0) {
    if (H5Lexists(f, "/telemetry", H5P_DEFAULT) > 0)
      sk_errf(err, errlen, "%s: is a skadi recording (data to train on), not an IMS model", path);
    else
      sk_errf(err, errlen, "%s: not an IMS model (no root attribute kind = \"%s\")", path,
              SK_IMS_FILE_KIND);
    goto done;
  }
  int64_t version = 0, nf = 0, nk = 0, iters = 0;
  if (attr_get_i64(f, "format_version", &version, path, "/", err, errlen) < 0)
    goto done;
  if (version < 1 || version > SK_IMS_FORMAT_VERSION) {
    sk_errf(err, errlen, "%s: format_version %lld: this skadi reads model files of version %d%s",
            path, (long long)version, SK_IMS_FORMAT_VERSION,
            version > SK_IMS_FORMAT_VERSION ? " (the file is newer)" : "");
    goto done;
  }
  if (attr_get_i64(f, "n_features", &nf, path, "/", err, errlen) < 0 ||
      attr_get_i64(f, "n_clusters", &nk, path, "/", err, errlen) < 0)
    goto done;
  if (nf < 1 || nf > SK_IMS_MAX_FEATURES || nk < 1 || nk > SK_IMS_MAX_CLUSTERS) {
    sk_errf(err, errlen, "%s: n_features %lld, n_clusters %lld: need 1..%d and 1..%d", path,
            (long long)nf, (long long)nk, SK_IMS_MAX_FEATURES, SK_IMS_MAX_CLUSTERS);
    st = SK_ERANGE;
    goto done;
  }
  m->n_features = (int)nf;
  m->n_clusters = (int)nk;
  if (attr_get_f64(f, "tau_fast", &m->tau_fast, path, "/", err, errlen) < 0 ||
      attr_get_f64(f, "tau_persist", &m->tau_persist, path, "/", err, errlen) < 0 ||
      attr_get_f64(f, "tau_fast_percentile", &m->tau_fast_percentile, path, "/", err, errlen) < 0 ||
      attr_get_f64(f, "tau_persist_percentile", &m->tau_persist_percentile, path, "/", err,
                   errlen) < 0 ||
      attr_get_i64(f, "n_train", &m->n_train, path, "/", err, errlen) < 0 ||
      attr_get_f64(f, "train_from_s", &m->train_from_s, path, "/", err, errlen) < 0 ||
      attr_get_f64(f, "train_to_s", &m->train_to_s, path, "/", err, errlen) < 0 ||
      attr_get_u64(f, "seed", &m->seed, path, "/", err, errlen) < 0 ||
      attr_get_i64(f, "iterations", &iters, path, "/", err, errlen) < 0)
    goto done;
  if (iters < 0 || iters > INT32_MAX) {
    sk_errf(err, errlen, "%s: iterations %lld out of range", path, (long long)iters);
    st = SK_ERANGE;
    goto done;
  }
  m->iterations = (int)iters;
  {
    char src[SK_IMS_SOURCE_LEN];
    if (attr_get_str(f, "source", src, sizeof src, path, "/", err, errlen) < 0)
      goto done;
    if (source && source_len)
      snprintf(source, source_len, "%s", src);
  }
  {
    const int d = m->n_features, k = m->n_clusters;
    hsize_t dim1 = (hsize_t)d, dim2[2] = {(hsize_t)k, (hsize_t)d};
    double cent[SK_IMS_MAX_CLUSTERS * SK_IMS_MAX_FEATURES];
    if (tn < 0) {
      sk__h5_fail(err, errlen, path, "cannot make a string type");
      st = SK_EIO;
      goto done;
    }
    if ((st = read_dataset(f, "/feature_names", 1, &dim1, H5T_STRING, tn, m->feature, path, err,
                           errlen)) != SK_OK ||
        (st = read_dataset(f, "/mean", 1, &dim1, H5T_FLOAT, H5T_NATIVE_DOUBLE, m->mean, path, err,
                           errlen)) != SK_OK ||
        (st = read_dataset(f, "/scale", 1, &dim1, H5T_FLOAT, H5T_NATIVE_DOUBLE, m->scale, path, err,
                           errlen)) != SK_OK ||
        (st = read_dataset(f, "/centroids", 2, dim2, H5T_FLOAT, H5T_NATIVE_DOUBLE, cent, path, err,
                           errlen)) != SK_OK)
      goto done;
    for (int c = 0; c < k; c++)
      memcpy(m->centroid[c], &cent[c * d], (size_t)d * sizeof(double));
  }
  st = check_loaded(m, path, err, errlen);
done:
  sk__h5_close(&tn);
  sk__h5_close(&f);
  return st;
}

sk_status sk_ims_load(sk_ims_model *m, const char *path, char *source, size_t source_len, char *err,
                      size_t errlen) {
  assert(m && path);
  sk_errf(err, errlen, "%s", "");
  if (source && source_len)
    source[0] = '\0';
  memset(m, 0, sizeof *m);
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = load(m, path, source, source_len, err, errlen);
  sk__h5_quiet_end(&q);
  if (st != SK_OK)
    memset(m, 0, sizeof *m);
  return st;
}

/* ---- the registry ---------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_h5_suffix(const char *name) {
  size_t n = strlen(name);
  return n > 3 && strcmp(name + n - 3, ".h5") == 0;
}

sk_status sk_ims_list(const char *dir, FILE *out, char *err, size_t errlen) {
  assert(dir && out);
  sk_errf(err, errlen, "%s", "");
  DIR *dp = opendir(dir);
  if (!dp) {
    int e = errno;
    sk_errf(err, errlen, "%s: %s", dir, strerror(e));
    return e == ENOENT || e == ENOTDIR ? SK_ENOTFOUND : SK_EIO;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  sk_status st = SK_OK;
  struct dirent *de;
  while ((de = readdir(dp)) != NULL) {
    if (!has_h5_suffix(de->d_name))
      continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      char **nn = realloc(names, nc * sizeof *nn);
      if (!nn) {
        st = SK_ENOMEM;
        break;
      }
      names = nn;
      cap = nc;
    }
    if (!(names[n] = strdup(de->d_name))) {
      st = SK_ENOMEM;
      break;
    }
    n++;
  }
  closedir(dp);
  if (st != SK_OK) {
    sk_errf(err, errlen, "%s: out of memory", dir);
    goto done;
  }
  /* readdir's order depends on the filesystem; the listing does not. */
  if (n)
    qsort(names, n, sizeof *names, cmp_str);

  size_t wname = 4, n_models = 0;
  for (size_t i = 0; i < n; i++)
    if (strlen(names[i]) > wname)
      wname = strlen(names[i]);
  fprintf(out, "%-*s %3s %9s %18s %18s  %s\n", (int)wname, "FILE", "K", "N_TRAIN", "TAU_FAST",
          "TAU_PERSIST", "FEATURES");
  /* Models first, then the files that are not, each with the loader's reason (which
   * names the path).  Model files are small: loading the odd ones twice costs nothing. */
  size_t plen = strlen(dir) + 1;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < n; i++) {
      char *path = malloc(plen + strlen(names[i]) + 1), msg[600];
      if (!path) {
        st = SK_ENOMEM;
        sk_errf(err, errlen, "%s: out of memory", dir);
        goto done;
      }
      snprintf(path, plen + strlen(names[i]) + 1, "%s/%s", dir, names[i]);
      sk_ims_model m;
      sk_status lst = sk_ims_load(&m, path, NULL, 0, msg, sizeof msg);
      free(path);
      if (lst != SK_OK) {
        if (pass == 1)
          fprintf(out, "skipped: %s\n", msg);
        continue;
      }
      if (pass == 1)
        continue;
      char tf[32], tp[32];
      snprintf(tf, sizeof tf, "%.4g (p%g)", m.tau_fast, m.tau_fast_percentile);
      snprintf(tp, sizeof tp, "%.4g (p%g)", m.tau_persist, m.tau_persist_percentile);
      fprintf(out, "%-*s %3d %9lld %18s %18s  ", (int)wname, names[i], m.n_clusters,
              (long long)m.n_train, tf, tp);
      for (int j = 0; j < m.n_features; j++)
        fprintf(out, "%s%s", j ? "," : "", m.feature[j]);
      fputc('\n', out);
      n_models++;
    }
  if (n_models == 0)
    fprintf(out, "(no IMS models in %s)\n", dir);
done:
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return st;
}

/* ---- data: common ---------------------------------------------------------------------- */

void sk_ims_data_opts_init(sk_ims_data_opts *o) {
  memset(o, 0, sizeof *o);
  o->from_s = -INFINITY;
  o->to_s = INFINITY;
}

void sk_ims_data_fini(sk_ims_data *d) {
  if (!d)
    return;
  free(d->x);
  free(d->ts);
  free(d->rack_id);
  free(d->nominal);
  memset(d, 0, sizeof *d);
}

/* Growable per-row arrays of d; cap is the caller's row limit. */
typedef struct {
  size_t cap;       /* rows allocated */
  size_t max_rows;  /* limit */
  int want_ids;     /* allocate rack_id */
  int want_nominal; /* allocate nominal */
} grow_state;

static sk_status reserve(sk_ims_data *d, grow_state *g, size_t need) {
  if (need <= g->cap)
    return SK_OK;
  if (need > g->max_rows)
    return SK_ERANGE;
  size_t nc = g->cap ? g->cap * 2 : 4096;
  if (nc < need)
    nc = need;
  if (nc > g->max_rows)
    nc = g->max_rows;
  size_t dd = (size_t)d->n_features;
  double *x = realloc(d->x, nc * dd * sizeof *x);
  if (!x)
    return SK_ENOMEM;
  d->x = x;
  double *ts = realloc(d->ts, nc * sizeof *ts);
  if (!ts)
    return SK_ENOMEM;
  d->ts = ts;
  if (g->want_ids) {
    char(*ids)[SK_IMS_ID_LEN] = realloc(d->rack_id, nc * sizeof *ids);
    if (!ids)
      return SK_ENOMEM;
    d->rack_id = ids;
  }
  if (g->want_nominal) {
    signed char *nom = realloc(d->nominal, nc);
    if (!nom)
      return SK_ENOMEM;
    d->nominal = nom;
  }
  g->cap = nc;
  return SK_OK;
}

static sk_status grow_fail(sk_status st, const char *path, size_t max_rows, char *err,
                           size_t errlen) {
  if (st == SK_ERANGE)
    sk_errf(err, errlen,
            "%s: more than %zu rows in the window; narrow it (--from/--to) or split the data", path,
            max_rows);
  else
    sk_errf(err, errlen, "%s: out of memory", path);
  return st;
}

/* Copies the requested feature names into d (rack features when o->features is NULL). */
static sk_status set_features(sk_ims_data *d, const sk_ims_data_opts *o, const char *path,
                              char *err, size_t errlen) {
  int n = o->features ? o->n_features : SK_IMS_N_RACK_FEATURES;
  if (n < 1 || n > SK_IMS_MAX_FEATURES) {
    sk_errf(err, errlen, "%s: %d features requested, need 1..%d", path, n, SK_IMS_MAX_FEATURES);
    return SK_EINVAL;
  }
  d->n_features = n;
  for (int i = 0; i < n; i++) {
    const char *name = o->features ? o->features[i] : rack_names[i];
    size_t len = strlen(name);
    if (len == 0 || len >= SK_IMS_NAME_LEN) {
      sk_errf(err, errlen, "%s: feature '%s': name must be 1..%d characters", path, name,
              SK_IMS_NAME_LEN - 1);
      return SK_EINVAL;
    }
    for (int j = 0; j < i; j++)
      if (strcmp(d->feature[j], name) == 0) {
        sk_errf(err, errlen, "%s: feature '%s' requested twice", path, name);
        return SK_EINVAL;
      }
    memcpy(d->feature[i], name, len + 1);
  }
  return SK_OK;
}

static int in_window(const sk_ims_data_opts *o, double ts) {
  return ts >= o->from_s && ts <= o->to_s;
}

/* ---- data: recordings ------------------------------------------------------------------ */

/* A /config setting stored as a string, parsed as a finite number. */
static int config_num(hid_t g, const char *key, double *v, const char *path, char *err,
                      size_t errlen) {
  char buf[128], *end;
  if (attr_get_str(g, key, buf, sizeof buf, path, "/config", err, errlen) < 0)
    return -1;
  errno = 0;
  *v = strtod(buf, &end);
  if (end == buf || *end || errno || !isfinite(*v)) {
    sk_errf(err, errlen, "%s: /config: %s = '%s' is not a number", path, key, buf);
    return -1;
  }
  return 0;
}

/* Memory type of sk_rack_sample, fields by name (so a reordered file still reads).  Every
 * field must be in the file's type. */
static hid_t rack_mtype(hid_t ftype, const char *path, char *err, size_t errlen) {
  static const struct {
    const char *name;
    size_t off;
    int kind; /* 0 f64, 1 i32, 2 string */
  } fields[] = {
      {"ts", offsetof(sk_rack_sample, ts), 0},
      {"rack_id", offsetof(sk_rack_sample, rack_id), 2},
      {"inlet_c", offsetof(sk_rack_sample, inlet_c), 0},
      {"outlet_c", offsetof(sk_rack_sample, outlet_c), 0},
      {"pdu_kw", offsetof(sk_rack_sample, pdu_kw), 0},
      {"gpu_energy_j", offsetof(sk_rack_sample, gpu_energy_j), 0},
      {"tokens_ps", offsetof(sk_rack_sample, tokens_ps), 0},
      {"latency_p95_ms", offsetof(sk_rack_sample, latency_p95_ms), 0},
      {"fan_rpm_pct", offsetof(sk_rack_sample, fan_rpm_pct), 0},
      {"pump_rpm_pct", offsetof(sk_rack_sample, pump_rpm_pct), 0},
      {"queue_depth", offsetof(sk_rack_sample, queue_depth), 1},
      {"n_servers", offsetof(sk_rack_sample, n_servers), 1},
  };
  if (H5Tget_class(ftype) != H5T_COMPOUND) {
    sk_errf(err, errlen, "%s: /telemetry/racks: not a table (compound dataset)", path);
    return H5I_INVALID_HID;
  }
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(sk_rack_sample));
  hid_t s = sk__h5_fixed_str(SK_RACK_ID_LEN);
  if (t < 0 || s < 0) {
    sk__h5_close(&t);
    sk__h5_close(&s);
    sk__h5_fail(err, errlen, path, "cannot make a memory type");
    return H5I_INVALID_HID;
  }
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (H5Tget_member_index(ftype, fields[i].name) < 0) {
      sk_errf(err, errlen, "%s: /telemetry/racks: no field %s", path, fields[i].name);
      sk__h5_close(&t);
      break;
    }
    hid_t mt = fields[i].kind == 0 ? H5T_NATIVE_DOUBLE : fields[i].kind == 1 ? H5T_NATIVE_INT32 : s;
    if (H5Tinsert(t, fields[i].name, fields[i].off, mt) < 0) {
      sk__h5_fail(err, errlen, path, "cannot make a memory type");
      sk__h5_close(&t);
      break;
    }
  }
  sk__h5_close(&s);
  return t;
}

static sk_status load_recording(sk_ims_data *d, const char *path, const sk_ims_data_opts *o,
                                char *err, size_t errlen) {
  d->kind = SK_IMS_DATA_RECORDING;
  d->has_ts = 1;
  int col[SK_IMS_MAX_FEATURES];

  hid_t f = open_ro(path), g = H5I_INVALID_HID, ds = H5I_INVALID_HID, ft = H5I_INVALID_HID;
  hid_t mt = H5I_INVALID_HID, fsp = H5I_INVALID_HID, msp = H5I_INVALID_HID;
  sk_rack_sample *buf = NULL;
  sk_status st = SK_EPARSE;
  if (f < 0) {
    sk__h5_fail(err, errlen, path, "cannot open HDF5 file");
    return SK_EIO;
  }
  if (H5Aexists(f, "kind") > 0) {
    sk_errf(err, errlen, "%s: is an IMS model file, not data (a recording or CSV)", path);
    goto done;
  }
  if (H5Lexists(f, "/telemetry", H5P_DEFAULT) <= 0 ||
      H5Lexists(f, "/telemetry/racks", H5P_DEFAULT) <= 0) {
    sk_errf(err, errlen, "%s: not a skadi recording: no /telemetry/racks table", path);
    goto done;
  }
  for (int i = 0; i < d->n_features; i++)
    if ((col[i] = sk_ims_rack_feature_index(d->feature[i])) < 0) {
      char list[256] = "";
      for (int j = 0; j < SK_IMS_N_RACK_FEATURES; j++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                 rack_names[j]);
      sk_errf(err, errlen, "%s: feature '%s' is not a rack feature of a recording (%s)", path,
              d->feature[i], list);
      st = SK_EINVAL;
      goto done;
    }
  if (attr_get_f64(f, "sample_period_s", &d->sample_period_s, path, "/", err, errlen) < 0)
    goto done;
  if (!(d->sample_period_s > 0) || !isfinite(d->sample_period_s)) {
    sk_errf(err, errlen, "%s: /: sample_period_s = %g, must be > 0", path, d->sample_period_s);
    goto done;
  }
  if (H5Lexists(f, "/config", H5P_DEFAULT) <= 0 || (g = H5Gopen2(f, "/config", H5P_DEFAULT)) < 0) {
    sk_errf(err, errlen, "%s: no /config group (settings of the run)", path);
    goto done;
  }
  double gpus, gpu_idle_w, host_idle_w, fan_base_w, psu_eff;
  if (config_num(g, "settings.inlet_max_c", &d->inlet_max_c, path, err, errlen) < 0 ||
      config_num(g, "settings.sla_latency_ms", &d->sla_latency_ms, path, err, errlen) < 0 ||
      config_num(g, "settings.rack_kw_cap", &d->rack_kw_cap, path, err, errlen) < 0 ||
      config_num(g, "settings.ims_tau_fast_percentile", &d->tau_fast_percentile, path, err,
                 errlen) < 0 ||
      config_num(g, "settings.ims_tau_persist_percentile", &d->tau_persist_percentile, path, err,
                 errlen) < 0 ||
      config_num(g, "server.gpus", &gpus, path, err, errlen) < 0 ||
      config_num(g, "server.gpu_idle_w", &gpu_idle_w, path, err, errlen) < 0 ||
      config_num(g, "server.host_idle_w", &host_idle_w, path, err, errlen) < 0 ||
      config_num(g, "server.fan_base_w", &fan_base_w, path, err, errlen) < 0 ||
      config_num(g, "server.psu_eff", &psu_eff, path, err, errlen) < 0)
    goto done;
  if (!(psu_eff > 0)) {
    sk_errf(err, errlen, "%s: /config: server.psu_eff = %g, must be > 0", path, psu_eff);
    goto done;
  }
  d->idle_kw_per_server = sk_ims_server_idle_kw(gpus, gpu_idle_w, host_idle_w, fan_base_w, psu_eff);

  if ((ds = H5Dopen2(f, "/telemetry/racks", H5P_DEFAULT)) < 0 || (ft = H5Dget_type(ds)) < 0 ||
      (fsp = H5Dget_space(ds)) < 0) {
    sk__h5_fail(err, errlen, path, "cannot open /telemetry/racks");
    st = SK_EIO;
    goto done;
  }
  if ((mt = rack_mtype(ft, path, err, errlen)) < 0)
    goto done;
  hsize_t n_total = 0;
  if (H5Sget_simple_extent_ndims(fsp) != 1 || H5Sget_simple_extent_dims(fsp, &n_total, NULL) < 0) {
    sk_errf(err, errlen, "%s: /telemetry/racks: not a 1-D table", path);
    goto done;
  }
  grow_state gs = {0, o->max_rows ? o->max_rows : SK_IMS_DEFAULT_MAX_ROWS, 1, 1};
  if (!(buf = malloc(BLOCK_ROWS * sizeof *buf))) {
    st = SK_ENOMEM;
    sk_errf(err, errlen, "%s: out of memory", path);
    goto done;
  }
  for (hsize_t start = 0; start < n_total; start += BLOCK_ROWS) {
    hsize_t count = n_total - start < BLOCK_ROWS ? n_total - start : BLOCK_ROWS;
    sk__h5_close(&msp);
    if ((msp = H5Screate_simple(1, &count, NULL)) < 0 ||
        H5Sselect_hyperslab(fsp, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
        H5Dread(ds, mt, msp, fsp, H5P_DEFAULT, buf) < 0) {
      sk__h5_fail(err, errlen, path, "cannot read /telemetry/racks");
      st = SK_EIO;
      goto done;
    }
    for (hsize_t r = 0; r < count; r++) {
      const sk_rack_sample *row = &buf[r];
      d->n_read++;
      if (!in_window(o, row->ts))
        continue;
      if ((st = reserve(d, &gs, d->n_rows + 1)) != SK_OK) {
        grow_fail(st, path, gs.max_rows, err, errlen);
        goto done;
      }
      double v[SK_IMS_N_RACK_FEATURES];
      sk_ims_rack_vector(row, d->sample_period_s, v);
      size_t i = d->n_rows++;
      for (int j = 0; j < d->n_features; j++)
        d->x[i * (size_t)d->n_features + (size_t)j] = v[col[j]];
      d->ts[i] = row->ts;
      memset(d->rack_id[i], 0, SK_IMS_ID_LEN);
      memcpy(d->rack_id[i], row->rack_id, strnlen(row->rack_id, SK_RACK_ID_LEN));
      d->nominal[i] = (signed char)(sk_ims_nominal_rack(v, d->inlet_max_c, d->sla_latency_ms,
                                                        d->idle_kw_per_server * row->n_servers,
                                                        d->rack_kw_cap) != 0);
    }
  }
  st = SK_OK;
done:
  free(buf);
  sk__h5_close(&msp);
  sk__h5_close(&fsp);
  sk__h5_close(&mt);
  sk__h5_close(&ft);
  sk__h5_close(&ds);
  sk__h5_close(&g);
  sk__h5_close(&f);
  return st;
}

/* ---- data: CSV ------------------------------------------------------------------------- */

/* "YYYY-MM-DDTHH:MM:SS[.fff][Z]" (or a space for T) as Unix seconds, UTC; the seed's
 * telemetry time stamps.  Returns 0 if s is not one.  No C library time functions: they
 * read the time zone. */
static int parse_iso(const char *s, double *out) {
  int y, mo, dd, h, mi, sec, n = 0;
  if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &dd, &h, &mi, &sec, &n) != 6 || n != 19)
    return 0;
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 ||
      sec < 0)
    return 0;
  const char *p = s + n;
  double frac = 0;
  if (*p == '.') {
    double scale = 0.1;
    p++;
    if (!isdigit((unsigned char)*p))
      return 0;
    while (isdigit((unsigned char)*p)) {
      frac += (*p - '0') * scale;
      scale /= 10;
      p++;
    }
  }
  if (*p == 'Z')
    p++;
  if (*p)
    return 0;
  *out = (double)(sk__days_from_civil(y, mo, dd) * 86400LL + h * 3600LL + mi * 60LL + sec) + frac;
  return 1;
}

/* A field of the current line: [start, end) of the line buffer, 1-based column. */
typedef struct {
  char *s;
  size_t col;
} csv_field;

/* Splits line (NUL-terminated, no newline) at commas in place, trims blanks and one pair
 * of surrounding double quotes.  Fills up to cap fields; returns how many there are. */
static size_t split(char *line, csv_field *f, size_t cap) {
  size_t n = 0;
  char *p = line;
  for (;;) {
    char *start = p;
    while (*p && *p != ',')
      p++;
    char end_ch = *p;
    *p = '\0';
    char *b = start, *e = p;
    while (b < e && isspace((unsigned char)*b))
      b++;
    while (e > b && isspace((unsigned char)e[-1]))
      *--e = '\0';
    if (e - b >= 2 && *b == '"' && e[-1] == '"') {
      b++;
      *--e = '\0';
    }
    if (n < cap) {
      f[n].s = b;
      f[n].col = (size_t)(start - line) + 1;
    }
    n++;
    if (!end_ch)
      break;
    p++;
  }
  return n;
}

/* Trailing \n / \r\n removed; returns the new length. */
static size_t chomp(char *line, size_t len) {
  while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';
  return len;
}

static int blank(const char *s) {
  while (*s && isspace((unsigned char)*s))
    s++;
  return *s == '\0';
}

/* A value: "" / NaN = missing (NaN); else a finite number.  0 on junk. */
static int parse_value(const char *s, double *v) {
  if (!*s) {
    *v = NAN;
    return 1;
  }
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || *end)
    return 0;
  if (isnan(x)) {
    *v = NAN;
    return 1;
  }
  if (!isfinite(x) || errno == ERANGE)
    return 0;
  *v = x;
  return 1;
}

/* Nominal settings for data without its own: environment over the seed's defaults. */
static sk_status env_settings(sk_ims_data *d, char *err, size_t errlen) {
  sk_scenario *sc = malloc(sizeof *sc);
  if (!sc) {
    sk_errf(err, errlen, "out of memory");
    return SK_ENOMEM;
  }
  sk_scenario_defaults(sc);
  sk_status st = sk_scenario_apply_env(sc, err, errlen);
  if (st == SK_OK) {
    d->inlet_max_c = sc->settings.inlet_max_c;
    d->sla_latency_ms = sc->settings.sla_latency_ms;
    d->rack_kw_cap = sc->settings.rack_kw_cap;
    d->tau_fast_percentile = sc->settings.ims_tau_fast_percentile;
    d->tau_persist_percentile = sc->settings.ims_tau_persist_percentile;
    d->idle_kw_per_server =
        sk_ims_server_idle_kw(sc->server.gpus, sc->server.gpu_idle_w, sc->server.host_idle_w,
                              sc->server.fan_base_w, sc->server.psu_eff);
  }
  free(sc);
  return st;
}

static sk_status load_csv(sk_ims_data *d, const char *path, const sk_ims_data_opts *o, char *err,
                          size_t errlen) {
  d->kind = SK_IMS_DATA_CSV;
  d->sample_period_s = NAN;
  FILE *fp = fopen(path, "r");
  if (!fp) {
    int e = errno;
    sk_errf(err, errlen, "%s: cannot open: %s", path, strerror(e));
    return e == ENOENT ? SK_ENOTFOUND : SK_EIO;
  }
  char *line = NULL, **hdr = NULL;
  size_t linecap = 0, n_cols = 0;
  csv_field *fields = NULL;
  sk_status st = SK_EPARSE;
  ssize_t got;
  size_t lineno = 0;

  /* header */
  while ((got = getline(&line, &linecap, fp)) >= 0) {
    lineno++;
    chomp(line, (size_t)got);
    if (!blank(line))
      break;
  }
  if (got < 0) {
    sk_errf(err, errlen, "%s: empty file (expected a header line naming the columns)", path);
    goto done;
  }
  char *h = line;
  if ((unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB && (unsigned char)h[2] == 0xBF)
    h += 3; /* UTF-8 byte-order mark */
  n_cols = 1;
  for (const char *p = h; *p; p++)
    n_cols += *p == ',';
  /* one spare slot: a data row with too many fields reports where the first extra one
   * starts */
  if (!(fields = malloc((n_cols + 1) * sizeof *fields)) || !(hdr = calloc(n_cols, sizeof *hdr))) {
    st = SK_ENOMEM;
    sk_errf(err, errlen, "%s: out of memory", path);
    goto done;
  }
  split(h, fields, n_cols);
  for (size_t c = 0; c < n_cols; c++)
    if (!(hdr[c] = strdup(fields[c].s))) {
      st = SK_ENOMEM;
      sk_errf(err, errlen, "%s: out of memory", path);
      goto done;
    }
  for (size_t c = 0; c < n_cols; c++) {
    if (!hdr[c][0]) {
      sk_errf(err, errlen, "%s:%zu:%zu: header: column %zu has no name", path, lineno,
              fields[c].col, c + 1);
      goto done;
    }
    for (size_t j = 0; j < c; j++)
      if (strcmp(hdr[c], hdr[j]) == 0) {
        sk_errf(err, errlen, "%s:%zu:%zu: header: column '%s' appears twice", path, lineno,
                fields[c].col, hdr[c]);
        goto done;
      }
  }
  int fcol[SK_IMS_MAX_FEATURES], rcol[SK_IMS_N_RACK_FEATURES], ts_col = -1, id_col = -1;
  int have_rack = 1;
  for (size_t c = 0; c < n_cols; c++) {
    if (strcmp(hdr[c], "ts") == 0)
      ts_col = (int)c;
    if (strcmp(hdr[c], "rack_id") == 0)
      id_col = (int)c;
  }
  for (int i = 0; i < d->n_features; i++) {
    fcol[i] = -1;
    for (size_t c = 0; c < n_cols; c++)
      if (strcmp(hdr[c], d->feature[i]) == 0)
        fcol[i] = (int)c;
    if (fcol[i] < 0) {
      char list[256] = "";
      for (size_t c = 0; c < n_cols && strlen(list) < sizeof list - 1; c++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", c ? ", " : "", hdr[c]);
      sk_errf(err, errlen, "%s:%zu: header: no column '%s' (the columns are: %s)", path, lineno,
              d->feature[i], list);
      goto done;
    }
  }
  for (int i = 0; i < SK_IMS_N_RACK_FEATURES; i++) {
    rcol[i] = -1;
    for (size_t c = 0; c < n_cols; c++)
      if (strcmp(hdr[c], rack_names[i]) == 0)
        rcol[i] = (int)c;
    if (rcol[i] < 0)
      have_rack = 0;
  }
  d->has_ts = ts_col >= 0;
  if (!d->has_ts && (isfinite(o->from_s) || isfinite(o->to_s))) {
    sk_errf(err, errlen, "%s: a time window (--from/--to) needs a ts column; the header has none",
            path);
    st = SK_EINVAL;
    goto done;
  }
  if ((st = env_settings(d, err, errlen)) != SK_OK)
    goto done;
  st = SK_EPARSE;

  /* nominal stays NULL without every rack feature: the filter does not apply */
  grow_state gs = {0, o->max_rows ? o->max_rows : SK_IMS_DEFAULT_MAX_ROWS, id_col >= 0, have_rack};
  while ((got = getline(&line, &linecap, fp)) >= 0) {
    lineno++;
    size_t len = chomp(line, (size_t)got);
    if (blank(line))
      continue;
    size_t nf = split(line, fields, n_cols + 1);
    if (nf != n_cols) {
      /* the first extra field, or the end of the short line */
      size_t col = nf > n_cols ? fields[n_cols].col : len + 1;
      sk_errf(err, errlen, "%s:%zu:%zu: expected %zu fields as in the header, found %zu", path,
              lineno, col, n_cols, nf);
      goto done;
    }
    d->n_read++;
    double tsv = NAN;
    if (ts_col >= 0 && !parse_value(fields[ts_col].s, &tsv) && !parse_iso(fields[ts_col].s, &tsv)) {
      sk_errf(err, errlen,
              "%s:%zu:%zu: ts: '%s' is neither a number of seconds nor an ISO 8601 "
              "time (2025-10-18T23:11:10Z)",
              path, lineno, fields[ts_col].col, fields[ts_col].s);
      goto done;
    }
    if (!in_window(o, tsv) && (isfinite(o->from_s) || isfinite(o->to_s)))
      continue;
    double v[SK_IMS_MAX_FEATURES], rv[SK_IMS_N_RACK_FEATURES];
    for (int i = 0; i < d->n_features; i++)
      if (!parse_value(fields[fcol[i]].s, &v[i])) {
        sk_errf(err, errlen, "%s:%zu:%zu: %s: '%s' is not a number", path, lineno,
                fields[fcol[i]].col, d->feature[i], fields[fcol[i]].s);
        goto done;
      }
    if (have_rack)
      for (int i = 0; i < SK_IMS_N_RACK_FEATURES; i++)
        if (!parse_value(fields[rcol[i]].s, &rv[i])) {
          sk_errf(err, errlen, "%s:%zu:%zu: %s: '%s' is not a number", path, lineno,
                  fields[rcol[i]].col, rack_names[i], fields[rcol[i]].s);
          goto done;
        }
    if (id_col >= 0 && strlen(fields[id_col].s) >= SK_IMS_ID_LEN) {
      sk_errf(err, errlen, "%s:%zu:%zu: rack_id: '%s' is longer than %d characters", path, lineno,
              fields[id_col].col, fields[id_col].s, SK_IMS_ID_LEN - 1);
      goto done;
    }
    sk_status gst = reserve(d, &gs, d->n_rows + 1);
    if (gst != SK_OK) {
      st = grow_fail(gst, path, gs.max_rows, err, errlen);
      goto done;
    }
    size_t r = d->n_rows++;
    memcpy(&d->x[r * (size_t)d->n_features], v, (size_t)d->n_features * sizeof(double));
    d->ts[r] = tsv;
    if (id_col >= 0) {
      memset(d->rack_id[r], 0, SK_IMS_ID_LEN);
      memcpy(d->rack_id[r], fields[id_col].s, strlen(fields[id_col].s));
    }
    if (have_rack) /* a missing filter input other than latency fails the filter */
      d->nominal[r] =
          (signed char)(sk_ims_nominal_rack(rv, d->inlet_max_c, d->sla_latency_ms,
                                            d->idle_kw_per_server, d->rack_kw_cap) != 0);
  }
  if (ferror(fp)) {
    sk_errf(err, errlen, "%s:%zu: read error: %s", path, lineno + 1, strerror(errno));
    st = SK_EIO;
    goto done;
  }
  st = SK_OK;
done:
  if (hdr)
    for (size_t c = 0; c < n_cols; c++)
      free(hdr[c]);
  free(hdr);
  free(fields);
  free(line);
  fclose(fp);
  return st;
}

sk_status sk_ims_data_load(sk_ims_data *d, const char *path, const sk_ims_data_opts *o, char *err,
                           size_t errlen) {
  assert(d && path);
  sk_ims_data_opts def;
  if (!o) {
    sk_ims_data_opts_init(&def);
    o = &def;
  }
  memset(d, 0, sizeof *d);
  sk_errf(err, errlen, "%s", "");
  sk_status st = set_features(d, o, path, err, errlen);
  if (st == SK_OK)
    st = check_readable(path, err, errlen);
  if (st != SK_OK)
    return st;
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  htri_t is_h5 = H5Fis_hdf5(path);
  sk__h5_quiet_end(&q);
  if (is_h5 > 0) {
    sk__h5_quiet_begin(&q);
    st = load_recording(d, path, o, err, errlen);
    sk__h5_quiet_end(&q);
  } else {
    st = load_csv(d, path, o, err, errlen);
  }
  return st;
}

sk_status sk_ims_data_select_training(const sk_ims_data *d, double **x, sk_ims_selection *s) {
  assert(d && x && s);
  const size_t dd = (size_t)d->n_features;
  memset(s, 0, sizeof *s);
  s->n_rows = d->n_rows;
  s->from_s = NAN;
  s->to_s = NAN;
  *x = NULL;
  /* Two passes: count, then copy into an exact-size matrix. */
  for (int pass = 0; pass < 2; pass++) {
    size_t k = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
      const double *row = &d->x[i * dd];
      int complete = 1;
      for (size_t j = 0; j < dd; j++)
        if (!isfinite(row[j]))
          complete = 0;
      if (!complete) {
        s->n_missing += pass == 0;
        continue;
      }
      if (d->nominal && !d->nominal[i]) {
        s->n_off_nominal += pass == 0;
        continue;
      }
      if (pass == 1) {
        memcpy(&(*x)[k * dd], row, dd * sizeof *row);
        double t = d->ts[i];
        if (!isnan(t)) {
          if (isnan(s->from_s) || t < s->from_s)
            s->from_s = t;
          if (isnan(s->to_s) || t > s->to_s)
            s->to_s = t;
        }
      }
      k++;
    }
    if (pass == 0) {
      s->n_kept = k;
      if (k == 0)
        return SK_OK;
      if (!(*x = malloc(k * dd * sizeof **x)))
        return SK_ENOMEM;
    }
  }
  return SK_OK;
}

/* sk_ims_train's own rule, so a column passed here is never refused there. */
int sk_ims_constant_features(const double *x, size_t n, int d, int *constant) {
  assert(d >= 0 && (x || n == 0) && constant);
  int count = 0;
  for (int j = 0; j < d; j++) {
    constant[j] = sk_ims_feature_is_constant(x, n, d, j, NULL, NULL);
    count += constant[j];
  }
  return count;
}

void sk_ims_drop_features(double *x, size_t n, int *d, char (*names)[SK_IMS_NAME_LEN],
                          const int *drop) {
  const int d0 = *d;
  int d1 = 0;
  for (int j = 0; j < d0; j++)
    d1 += !drop[j];
  /* Row by row, front to back: the destination never overtakes the source. */
  for (size_t i = 0; i < n; i++) {
    size_t k = i * (size_t)d1;
    for (int j = 0; j < d0; j++)
      if (!drop[j])
        x[k++] = x[i * (size_t)d0 + (size_t)j];
  }
  int k = 0;
  for (int j = 0; j < d0; j++)
    if (!drop[j]) {
      if (k != j)
        memcpy(names[k], names[j], SK_IMS_NAME_LEN);
      k++;
    }
  for (int j = d1; j < d0; j++)
    memset(names[j], 0, SK_IMS_NAME_LEN);
  *d = d1;
}
