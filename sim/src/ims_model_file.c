/*
 * ims_model_file.c -- IMS models in HDF5 files: save, load, and the listing of a
 * directory of them (contracts in ims_store.h, layout for readers in docs/IMS.md).
 *
 * A model file is a small HDF5 file of its own (not a group inside a recording: a model
 * outlives the run it came from and is trained on several).  Scalars are root attributes
 * each with "<name>_units" and "<name>_description", arrays are datasets with "units" and
 * "description"; doubles are float64, so a save/load round trip gives the same bits.  A
 * root attribute kind = "skadi_ims_model" marks the file, so a recording handed over as
 * a model is named as such (and ims_data.c names a model handed over as data).  Object
 * times are off, so training twice gives equal files.  sk_ims_save writes "<path>.tmp"
 * and renames it over path: a failed save leaves the old model in place (the twin may be
 * scoring with it).
 *
 * Considered and rejected: storing the model as a JSON blob in one attribute (h5py users
 * would need json.loads to see a centroid); opening a file that fails a plain open as a
 * SWMR reader (no model is written in SWMR mode, and such an open of a damaged file can
 * hang).
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/ims_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5util.h"
#include "ims_int.h"
#include "skadi/require.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif

#define UNIT_LEN 16 /* fixed length of /feature_units strings */

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
  if (m->smooth_rows < 1 || m->smooth_rows > SK_IMS_MAX_SMOOTH_ROWS) {
    sk_errf(err, errlen, "%s: smooth_rows %d is outside 1..%d", path, m->smooth_rows,
            SK_IMS_MAX_SMOOTH_ROWS);
    return SK_EINVAL;
  }
  if (!(m->tau_margin > 0) || !isfinite(m->tau_margin)) {
    sk_errf(err, errlen, "%s: tau_margin %g: must be a finite number > 0", path, m->tau_margin);
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
      memcpy(units[i], sk_ims_rack_feature_unit(r), strlen(sk_ims_rack_feature_unit(r)));
  }
  for (int c = 0; c < k; c++)
    memcpy(&cent[c * d], m->centroid[c], (size_t)d * sizeof(double));
  snprintf(src, sizeof src, "%s", source ? source : "");

  hid_t fcpl = sk__h5_ocpl(H5P_FILE_CREATE), file = H5I_INVALID_HID;
  hid_t tn = sk__h5_fixed_str(SK_IMS_NAME_LEN), tu = sk__h5_fixed_str(UNIT_LEN);
  const char *what = "cannot create HDF5 file";
  int32_t version = SK_IMS_FORMAT_VERSION, nf = d, nk = k, iters = m->iterations;
  int32_t smooth = m->smooth_rows;
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
      {"smooth_rows", H5T_STD_I32LE, H5T_NATIVE_INT32, &smooth, "rows",
       "trailing mean over this many rows of one entity applied to the features before "
       "z-scoring (1 = none); mean, scale, range and taus are of the smoothed values"},
      {"tau_margin", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->tau_margin, "1",
       "factor applied to both percentile thresholds (tau = margin x percentile of D)"},
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
  /* The range only when known (a model loaded from an older file has none). */
  int range_known = 1;
  for (int i = 0; i < d; i++)
    range_known &= isfinite(m->train_min[i]) && isfinite(m->train_max[i]);
  if (range_known &&
      (write_dataset(file, "/train_min", 1, &dim1, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, m->train_min,
                    "feature units", "smallest training value of each feature") < 0 ||
      write_dataset(file, "/train_max", 1, &dim1, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, m->train_max,
                    "feature units", "largest training value of each feature") < 0))
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
  SK_REQUIRE(m && path);
  sk_errf(err, errlen, "%s", "");
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = save(m, path, source, err, errlen);
  sk__h5_quiet_end(&q);
  return st;
}

/* ---- loading a model ----------------------------------------------------------------- */

/* Whether the open file f is marked as a model (root kind = SK_IMS_FILE_KIND). */
static int is_model(hid_t f, const char *path) {
  char kind[64] = "";
  return H5Aexists(f, "kind") > 0 &&
         attr_get_str(f, "kind", kind, sizeof kind, path, "/", NULL, 0) == 0 &&
         strcmp(kind, SK_IMS_FILE_KIND) == 0;
}

int sk__ims_is_model_file(const char *path) {
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  hid_t f = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : H5I_INVALID_HID;
  int yes = f >= 0 && is_model(f, path);
  sk__h5_close(&f);
  sk__h5_quiet_end(&q);
  return yes;
}

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
    char what[96];
    snprintf(what, sizeof what, "dataset %s cannot be read", name);
    sk__h5_fail(err, errlen, path, what);
    st = sk__h5_read_status();
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
  sk_status st =
      sk__h5_check_file(path, "a file", "not an HDF5 file, so not an IMS model", err, errlen);
  if (st != SK_OK)
    return st;
  /* A plain open: a model is written whole and renamed into place, never in SWMR mode
   * (and a SWMR open of a damaged file can hang). */
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  int sb = f < 0 ? sk__h5_superblock_flags(path) : 0;
  if (sb > 0 && (sb & SK__H5_SB_SWMR_WRITE)) { /* a run going on or killed */
    sk_errf(err, errlen, "%s: is a skadi recording (data to train on), not an IMS model", path);
    return SK_EPARSE;
  }
  if (f < 0) {
    sk__h5_fail(err, errlen, path, "cannot open HDF5 file");
    return sk__h5_read_status();
  }
  hid_t tn = sk__h5_fixed_str(SK_IMS_NAME_LEN);
  st = SK_EPARSE;
  if (!is_model(f, path)) {
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
  if (sk__h5_check_version(version, SK_IMS_FORMAT_VERSION, path, "model files", err, errlen) !=
      SK_OK)
    goto done;
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
  /* Optional (files written before them): no smoothing, no margin. */
  m->smooth_rows = 1;
  m->tau_margin = 1.0;
  if (H5Aexists(f, "smooth_rows") > 0) {
    int64_t sr = 0;
    if (attr_get_i64(f, "smooth_rows", &sr, path, "/", err, errlen) < 0)
      goto done;
    if (sr < 1 || sr > SK_IMS_MAX_SMOOTH_ROWS) {
      sk_errf(err, errlen, "%s: smooth_rows %lld: need 1..%d", path, (long long)sr,
              SK_IMS_MAX_SMOOTH_ROWS);
      st = SK_ERANGE;
      goto done;
    }
    m->smooth_rows = (int)sr;
  }
  if (H5Aexists(f, "tau_margin") > 0 &&
      attr_get_f64(f, "tau_margin", &m->tau_margin, path, "/", err, errlen) < 0)
    goto done;
  if (!(m->tau_margin > 0) || !isfinite(m->tau_margin)) {
    sk_errf(err, errlen, "%s: tau_margin %g: must be a finite number > 0", path, m->tau_margin);
    st = SK_ERANGE;
    goto done;
  }
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
    /* The training range: optional (older files); without it the range is unknown. */
    int has_min = H5Lexists(f, "/train_min", H5P_DEFAULT) > 0;
    int has_max = H5Lexists(f, "/train_max", H5P_DEFAULT) > 0;
    if (has_min != has_max) {
      sk_errf(err, errlen, "%s: dataset %s missing (%s is there)", path,
              has_min ? "/train_max" : "/train_min", has_min ? "/train_min" : "/train_max");
      st = SK_EPARSE;
      goto done;
    }
    if (has_min) {
      if ((st = read_dataset(f, "/train_min", 1, &dim1, H5T_FLOAT, H5T_NATIVE_DOUBLE, m->train_min,
                             path, err, errlen)) != SK_OK ||
          (st = read_dataset(f, "/train_max", 1, &dim1, H5T_FLOAT, H5T_NATIVE_DOUBLE, m->train_max,
                             path, err, errlen)) != SK_OK)
        goto done;
      for (int j = 0; j < d; j++)
        if (!(m->train_min[j] <= m->train_max[j]) || !isfinite(m->train_min[j]) ||
            !isfinite(m->train_max[j])) {
          sk_errf(err, errlen, "%s: /train_min[%d] %g, /train_max[%d] %g (%s): need finite min <= max",
                  path, j, m->train_min[j], j, m->train_max[j], m->feature[j]);
          st = SK_ERANGE;
          goto done;
        }
    } else {
      for (int j = 0; j < d; j++)
        m->train_min[j] = m->train_max[j] = NAN;
    }
  }
  st = check_loaded(m, path, err, errlen);
done:
  sk__h5_close(&tn);
  sk__h5_close(&f);
  return st;
}

sk_status sk_ims_load(sk_ims_model *m, const char *path, char *source, size_t source_len, char *err,
                      size_t errlen) {
  SK_REQUIRE(m && path);
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
  SK_REQUIRE(dir && out);
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
