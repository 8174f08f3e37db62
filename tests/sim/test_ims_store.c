/*
 * test_ims_store.c -- IMS rack vectors, model files and data loading (sim/src/ims_features.c,
 * ims_model_file.c, ims_data.c).
 *
 * A saved model loads back memcmp-identical and scores identically; broken model files
 * (missing, not HDF5, a recording, no kind, newer format, missing dataset, bad shape,
 * zero scale) give a status and a message naming the path and the fault; the registry
 * lists models sorted and skips the rest with a note; CSV data load with missing values,
 * ISO times (Z, offsets, a timestamp column), RFC 4180 quoting, BOM and CRLF through the
 * shared reader, and bad CSVs name file:line:column; a real recording (made by
 * the skadi binary, SKADI_BIN from CTest) gives the ten rack features and a model, and a
 * killed run's recording reads as data and is refused as a model; too few nominal rows
 * are refused.  Files live in one mkdtemp directory per test.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skadi/ims.h"
#include "skadi/ims_store.h"
#include "skadi/recorder.h"
#include "testutil.h"

#define ERRLEN 1024

static void setup(void) {
  tu_scratch_setup("skadi_test_ims_");
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* A model with awkward doubles (thirds, -0.0, a subnormal, NaN window), built on a zeroed
 * struct so memcmp compares only meaningful bytes. */
static void make_model(sk_ims_model *m) {
  memset(m, 0, sizeof *m);
  m->n_features = 3;
  m->n_clusters = 2;
  strcpy(m->feature[0], "inlet_c");
  strcpy(m->feature[1], "pdu_kw");
  strcpy(m->feature[2], "custom_sensor_x");
  m->mean[0] = 22.0 / 3.0;
  m->mean[1] = -0.0;
  m->mean[2] = 1e300;
  m->scale[0] = 0.1;
  m->scale[1] = 4.9406564584124654e-324; /* smallest subnormal */
  m->scale[2] = 1.0 / 7.0;
  m->centroid[0][0] = 0.3;
  m->centroid[0][1] = -1.0 / 3.0;
  m->centroid[0][2] = 2.5;
  m->centroid[1][0] = -0.3;
  m->centroid[1][1] = 1e-17;
  m->centroid[1][2] = -2.5;
  m->tau_fast = 1.5;
  m->tau_persist = 2.0 + 1.0 / 3.0;
  m->tau_fast_percentile = 95;
  m->tau_persist_percentile = 98.5;
  m->n_train = 123456789012LL;
  m->train_from_s = 10;
  m->train_to_s = NAN;
  m->seed = UINT64_MAX - 5;
  m->iterations = 17;
  m->smooth_rows = 1;
  m->tau_margin = 1.0;
  for (int j = 0; j < 3; j++) {
    m->train_min[j] = m->mean[j] - 3.0 * m->scale[j];
    m->train_max[j] = m->mean[j] + 2.5 * m->scale[j];
  }
}

/* Deterministic training data: three blobs in (a, b, c), n rows. */
static double *blobs(size_t n) {
  double *x = malloc(n * 3 * sizeof *x);
  for (size_t i = 0; i < n; i++) {
    double c = (double)(i % 3) * 10.0;
    x[i * 3 + 0] = c + sin((double)i) * 0.5;
    x[i * 3 + 1] = -c + cos((double)i * 1.3) * 0.7;
    x[i * 3 + 2] = 100.0 + c * 2.0 + sin((double)i * 0.7);
  }
  return x;
}

static void train_blobs(sk_ims_model *m) {
  const char *names[] = {"a", "b", "c"};
  sk_ims_train_params p = {3, 95, 98, 7, 100};
  double *x = blobs(300);
  char err[ERRLEN];
  memset(m, 0, sizeof *m);
  ck_assert_msg(sk_ims_train(m, &p, x, 300, 3, names, 0, 299, err, sizeof err) == SK_OK, "%s", err);
  free(x);
}

/* ---- rack vectors -------------------------------------------------------------------- */

START_TEST(rack_vector_order_and_units) {
  sk_rack_sample r;
  memset(&r, 0, sizeof r);
  r.inlet_c = 21.5;
  r.outlet_c = 33.25;
  r.pdu_kw = 7.5;
  r.gpu_energy_j = 50000;
  r.tokens_ps = 900;
  r.latency_p95_ms = NAN;
  r.fan_rpm_pct = 75;
  r.pump_rpm_pct = 60;
  r.queue_depth = 4;
  r.n_servers = 2;
  double v[SK_IMS_N_RACK_FEATURES];
  sk_ims_rack_vector(&r, 10.0, v);
  const char *names[] = {"inlet_c",     "outlet_c",    "delta_t_c",      "pdu_kw",
                         "gpu_kw",      "tokens_ps",   "latency_p95_ms", "queue_depth",
                         "fan_rpm_pct", "pump_rpm_pct"};
  const double want[] = {21.5, 33.25, 11.75, 7.5, 5.0, 900, NAN, 4, 75, 60};
  for (int i = 0; i < SK_IMS_N_RACK_FEATURES; i++) {
    ck_assert_str_eq(sk_ims_rack_feature_name(i), names[i]);
    ck_assert_int_eq(sk_ims_rack_feature_index(names[i]), i);
    if (isnan(want[i]))
      ck_assert(isnan(v[i]));
    else
      ck_assert_double_eq(v[i], want[i]);
  }
  ck_assert_str_eq(sk_ims_rack_feature_unit(0), "degC");
  ck_assert_str_eq(sk_ims_rack_feature_unit(4), "kW");
  ck_assert_int_eq(sk_ims_rack_feature_index("nope"), -1);
  /* the defaults' idle server: (8 x 120 + 1200 + 450) W / 0.94 */
  ck_assert_double_eq_tol(sk_ims_server_idle_kw(8, 120, 1200, 450, 0.94), 2.7766, 1e-4);
}
END_TEST

/* ---- save / load ------------------------------------------------------------------------ */

static void assert_same_scores(const sk_ims_model *a, const sk_ims_model *b) {
  for (int k = 0; k < 50; k++) {
    double x[SK_IMS_MAX_FEATURES], ca[SK_IMS_MAX_FEATURES], cb[SK_IMS_MAX_FEATURES];
    for (int j = 0; j < a->n_features; j++)
      x[j] = (k % 7 == 3 && j == 1) ? NAN : a->mean[j] + a->scale[j] * sin(k * 1.7 + j) * 3.0;
    int ka = -1, kb = -2;
    double da = sk_ims_score(a, x, ca, &ka), db = sk_ims_score(b, x, cb, &kb);
    ck_assert_int_eq(memcmp(&da, &db, sizeof da), 0);
    ck_assert_int_eq(ka, kb);
    ck_assert_int_eq(memcmp(ca, cb, (size_t)a->n_features * sizeof(double)), 0);
    ck_assert_int_eq(sk_ims_top_feature(a, ca), sk_ims_top_feature(b, cb));
  }
}

START_TEST(round_trip_bit_exact) {
  sk_ims_model m, back;
  char err[ERRLEN], src[SK_IMS_SOURCE_LEN];
  make_model(&m);
  ck_assert_msg(sk_ims_save(&m, tu_tmp("m.h5"), "runs/some run.h5", err, sizeof err) == SK_OK, "%s",
                err);
  memset(&back, 0xAB, sizeof back);
  ck_assert_msg(sk_ims_load(&back, tu_tmp("m.h5"), src, sizeof src, err, sizeof err) == SK_OK, "%s",
                err);
  ck_assert_int_eq(memcmp(&m, &back, sizeof m), 0);
  ck_assert_str_eq(src, "runs/some run.h5");
  ck_assert(!exists(tu_tmp("m.h5.tmp")));

  /* a trained model, scored before and after */
  train_blobs(&m);
  ck_assert_msg(sk_ims_save(&m, tu_tmp("m.h5"), NULL, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_msg(sk_ims_load(&back, tu_tmp("m.h5"), src, sizeof src, err, sizeof err) == SK_OK, "%s",
                err);
  ck_assert_int_eq(memcmp(&m, &back, sizeof m), 0);
  ck_assert_str_eq(src, "");
  assert_same_scores(&m, &back);
}
END_TEST

START_TEST(save_refuses_and_reports) {
  sk_ims_model m;
  char err[ERRLEN];
  make_model(&m);
  /* missing directory: EIO naming the path, nothing left behind */
  const char *p = tu_tmp("no/such/dir/m.h5");
  ck_assert_int_eq(sk_ims_save(&m, p, "", err, sizeof err), SK_EIO);
  ASSERT_HAS(err, p);
  ASSERT_HAS(err, "No such file or directory");
  /* a broken model is a bug of the caller's data: EINVAL, no file */
  m.n_features = 0;
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("z.h5"), "", err, sizeof err), SK_EINVAL);
  ASSERT_HAS(err, "n_features");
  ck_assert(!exists(tu_tmp("z.h5")) && !exists(tu_tmp("z.h5.tmp")));
  make_model(&m);
  strcpy(m.feature[2], "pdu_kw");
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("z.h5"), "", err, sizeof err), SK_EINVAL);
  ASSERT_HAS(err, "pdu_kw");
  /* saving over an existing model replaces it */
  make_model(&m);
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("m.h5"), "a", err, sizeof err), SK_OK);
  m.tau_fast = 1.25;
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("m.h5"), "b", err, sizeof err), SK_OK);
  sk_ims_model back;
  ck_assert_int_eq(sk_ims_load(&back, tu_tmp("m.h5"), NULL, 0, err, sizeof err), SK_OK);
  ck_assert_double_eq(back.tau_fast, 1.25);
}
END_TEST

/* ---- broken model files ------------------------------------------------------------------- */

typedef enum {
  T_VERSION,
  T_NO_KIND,
  T_NO_MEAN,
  T_SHAPE,
  T_SCALE0,
  T_TAU,
  T_OLD,     /* as written before training ranges, smoothing and margins */
  T_NO_MAX,  /* /train_min without /train_max */
  T_SMOOTH0, /* smooth_rows 0 */
} tamper_kind;

/* Saves the reference model to name and breaks it one way through the HDF5 API. */
static const char *tampered(const char *name, tamper_kind how) {
  sk_ims_model m;
  char err[ERRLEN];
  const char *p = tu_tmp(name);
  make_model(&m);
  ck_assert_int_eq(sk_ims_save(&m, p, "", err, sizeof err), SK_OK);
  hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  hid_t sp = H5Screate(H5S_SCALAR);
  switch (how) {
  case T_VERSION: {
    int32_t v = 2;
    ck_assert_int_ge(H5Adelete(f, "format_version"), 0);
    hid_t a = H5Acreate2(f, "format_version", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, &v);
    H5Aclose(a);
    break;
  }
  case T_NO_KIND:
    ck_assert_int_ge(H5Adelete(f, "kind"), 0);
    break;
  case T_NO_MEAN:
    ck_assert_int_ge(H5Ldelete(f, "/mean", H5P_DEFAULT), 0);
    break;
  case T_SHAPE: {
    hsize_t dims[2] = {2, 2};
    double z[4] = {0};
    ck_assert_int_ge(H5Ldelete(f, "/centroids", H5P_DEFAULT), 0);
    hid_t s2 = H5Screate_simple(2, dims, NULL);
    hid_t ds =
        H5Dcreate2(f, "/centroids", H5T_IEEE_F64LE, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, z);
    H5Dclose(ds);
    H5Sclose(s2);
    break;
  }
  case T_SCALE0: {
    double z[3] = {1, 0, 1};
    hid_t ds = H5Dopen2(f, "/scale", H5P_DEFAULT);
    ck_assert_int_ge(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, z), 0);
    H5Dclose(ds);
    break;
  }
  case T_TAU: {
    double v = 9.0;
    hid_t a = H5Aopen(f, "tau_fast", H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
    break;
  }
  case T_OLD:
    ck_assert_int_ge(H5Ldelete(f, "/train_min", H5P_DEFAULT), 0);
    ck_assert_int_ge(H5Ldelete(f, "/train_max", H5P_DEFAULT), 0);
    ck_assert_int_ge(H5Adelete(f, "smooth_rows"), 0);
    ck_assert_int_ge(H5Adelete(f, "tau_margin"), 0);
    break;
  case T_NO_MAX:
    ck_assert_int_ge(H5Ldelete(f, "/train_max", H5P_DEFAULT), 0);
    break;
  case T_SMOOTH0: {
    int32_t v = 0;
    hid_t a = H5Aopen(f, "smooth_rows", H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, &v);
    H5Aclose(a);
    break;
  }
  }
  H5Sclose(sp);
  H5Fclose(f);
  return p;
}

START_TEST(bad_model_files) {
  sk_ims_model m;
  char err[ERRLEN];
  struct {
    const char *path;
    sk_status st;
    const char *what;
  } cases[] = {
      {tu_tmp("missing.h5"), SK_ENOTFOUND, "No such file"},
      {tu_tmp("text.h5"), SK_EPARSE, "not an HDF5 file"},
      {tu_tmp("empty.h5"), SK_EPARSE, "not an IMS model (no root attribute kind"},
      {tu_tmp("rec.h5"), SK_EPARSE, "is a skadi recording"},
      {tampered("v2.h5", T_VERSION), SK_EPARSE, "format_version 2"},
      {tampered("nokind.h5", T_NO_KIND), SK_EPARSE, "not an IMS model"},
      {tampered("nomean.h5", T_NO_MEAN), SK_EPARSE, "dataset /mean missing"},
      {tampered("shape.h5", T_SHAPE), SK_EPARSE, "/centroids: shape 2 x 2, expected 2 x 3"},
      {tampered("scale.h5", T_SCALE0), SK_ERANGE, "/scale[1] (pdu_kw)"},
      {tampered("tau.h5", T_TAU), SK_ERANGE, "tau_fast 9"},
      {tampered("nomax.h5", T_NO_MAX), SK_EPARSE, "dataset /train_max missing"},
      {tampered("smooth0.h5", T_SMOOTH0), SK_ERANGE, "smooth_rows 0: need 1..3600"},
      {tu_dir, SK_EPARSE, "is a directory"},
  };
  tu_write_file(tu_tmp("text.h5"), "ts,inlet_c\n1,2\n");
  hid_t f = H5Fcreate(tu_tmp("empty.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Fclose(f);
  f = H5Fcreate(tu_tmp("rec.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(H5Gcreate2(f, "/telemetry", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Fclose(f);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sk_status st = sk_ims_load(&m, cases[i].path, NULL, 0, err, sizeof err);
    ck_assert_msg(st == cases[i].st, "case %zu: status %d, want %d: %s", i, st, cases[i].st, err);
    ASSERT_HAS(err, cases[i].path);
    ASSERT_HAS(err, cases[i].what);
    ck_assert_int_eq(m.n_features, 0); /* zeroed on failure */
  }
}
END_TEST

/* A model file from before training ranges, smoothing and margins loads with the range
 * unknown (NaN: nothing is out of range), no smoothing and margin 1; saving it again keeps
 * it without a range.  A model with them round-trips them. */
START_TEST(old_model_files_and_new_fields) {
  sk_ims_model m, back;
  char err[ERRLEN];
  ck_assert_msg(sk_ims_load(&m, tampered("old.h5", T_OLD), NULL, 0, err, sizeof err) == SK_OK, "%s",
                err);
  ck_assert_int_eq(m.smooth_rows, 1);
  ck_assert(m.tau_margin == 1.0);
  double far[3] = {1e9, -1e9, 1e300}; /* the third at its training mean */
  for (int j = 0; j < 3; j++)
    ck_assert(isnan(m.train_min[j]) && isnan(m.train_max[j]));
  ck_assert_int_eq(sk_ims_out_of_range(&m, far, NULL), 0);
  ck_assert_msg(sk_ims_save(&m, tu_tmp("old2.h5"), "", err, sizeof err) == SK_OK, "%s", err);
  ck_assert_msg(sk_ims_load(&back, tu_tmp("old2.h5"), NULL, 0, err, sizeof err) == SK_OK, "%s", err);
  ck_assert(isnan(back.train_min[0]));

  make_model(&m);
  m.smooth_rows = 10;
  m.tau_margin = 1.2;
  ck_assert_msg(sk_ims_save(&m, tu_tmp("new.h5"), "", err, sizeof err) == SK_OK, "%s", err);
  ck_assert_msg(sk_ims_load(&back, tu_tmp("new.h5"), NULL, 0, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(memcmp(&m, &back, sizeof m), 0);
  int first = -2;
  ck_assert_int_eq(sk_ims_out_of_range(&back, far, &first), 2); /* inlet_c high, pdu_kw low */
  ck_assert_int_eq(first, 0);
  /* save refuses what load would refuse */
  m.smooth_rows = 0;
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("bad.h5"), "", err, sizeof err), SK_EINVAL);
  ASSERT_HAS(err, "smooth_rows 0 is outside 1..3600");
  m.smooth_rows = 1;
  m.tau_margin = 0;
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("bad.h5"), "", err, sizeof err), SK_EINVAL);
  ASSERT_HAS(err, "tau_margin 0");
}
END_TEST

/* sk_ims_data_smooth: trailing means per entity, NaN left out, in row order. */
START_TEST(smoothing_per_entity) {
  FILE *f = fopen(tu_tmp("s.csv"), "w");
  ck_assert_ptr_nonnull(f);
  /* two racks interleaved; A: 1, 2, 3, 4; B: 10, (empty), 30, 50 */
  fputs("ts,rack_id,v\n1,A,1\n1,B,10\n2,A,2\n2,B,\n3,A,3\n3,B,30\n4,A,4\n4,B,50\n", f);
  fclose(f);
  sk_ims_data d;
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  const char *names[] = {"v"};
  o.features = names;
  o.n_features = 1;
  char err[ERRLEN];
  ck_assert_msg(sk_ims_data_load(&d, tu_tmp("s.csv"), &o, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(sk_ims_data_smooth(&d, 2), SK_OK);
  const double want[] = {1, 10, 1.5, 10, 2.5, 30, 3.5, 40};
  for (size_t i = 0; i < 8; i++)
    ck_assert_msg(d.x[i] == want[i], "row %zu: %g, want %g", i, d.x[i], want[i]);
  ck_assert_int_eq(sk_ims_data_smooth(&d, 1), SK_OK); /* 1: unchanged */
  ck_assert(d.x[7] == 40);
  sk_ims_data_fini(&d);
}
END_TEST

/* ---- registry --------------------------------------------------------------------------- */

START_TEST(list_models) {
  sk_ims_model m;
  char err[ERRLEN];
  make_model(&m);
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("zeta.h5"), "", err, sizeof err), SK_OK);
  train_blobs(&m);
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("alpha.h5"), "", err, sizeof err), SK_OK);
  tu_write_file(tu_tmp("broken.h5"), "not hdf5");
  tu_write_file(tu_tmp("notes.txt"), "not listed");
  FILE *out = tmpfile();
  ck_assert_int_eq(sk_ims_list(tu_dir, out, err, sizeof err), SK_OK);
  char buf[4096];
  rewind(out);
  size_t n = fread(buf, 1, sizeof buf - 1, out);
  buf[n] = 0;
  fclose(out);
  ASSERT_HAS(buf, "FILE");
  ASSERT_HAS(buf, "inlet_c,pdu_kw,custom_sensor_x");
  ASSERT_HAS(buf, "a,b,c");
  ASSERT_HAS(buf, "123456789012");
  ASSERT_HAS(buf, "1.5 (p95)");
  ASSERT_HAS(buf, "skipped: ");
  ASSERT_HAS(buf, "broken.h5: not an HDF5 file");
  ck_assert_ptr_null(strstr(buf, "notes.txt"));
  ck_assert_ptr_nonnull(strstr(buf, "alpha.h5"));
  ck_assert(strstr(buf, "alpha.h5") < strstr(buf, "zeta.h5")); /* sorted */

  out = tmpfile();
  ck_assert_int_eq(sk_ims_list(tu_tmp("nodir"), out, err, sizeof err), SK_ENOTFOUND);
  ASSERT_HAS(err, "nodir");
  fclose(out);
}
END_TEST

/* ---- CSV --------------------------------------------------------------------------------- */

static sk_status load_csv(sk_ims_data *d, const char *name, const char *text, const char *features,
                          char *err) {
  static char buf[256];
  static const char *names[SK_IMS_MAX_FEATURES];
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  if (features) {
    snprintf(buf, sizeof buf, "%s", features);
    o.n_features = 0;
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
      names[o.n_features++] = t;
    o.features = names;
  }
  tu_write_file(tu_tmp(name), text);
  return sk_ims_data_load(d, tu_tmp(name), &o, err, ERRLEN);
}

/* Default options that read the one feature "a" (of a CSV). */
static void opts_feature_a(sk_ims_data_opts *o) {
  static const char *const names[] = {"a"};
  sk_ims_data_opts_init(o);
  o->features = names;
  o->n_features = 1;
}

/* Selects d's training rows into *x (caller frees) and checks how many were kept and how
 * many left out for a missing value and as off-nominal. */
static void select_expect(const sk_ims_data *d, double **x, sk_ims_selection *s, int kept,
                          int missing, int off_nominal) {
  ck_assert_int_eq(sk_ims_data_select_training(d, x, s), SK_OK);
  ck_assert_int_eq((int)s->n_kept, kept);
  ck_assert_int_eq((int)s->n_missing, missing);
  ck_assert_int_eq((int)s->n_off_nominal, off_nominal);
}

START_TEST(csv_values_missing_iso) {
  sk_ims_data d;
  char err[ERRLEN];
  /* BOM, CRLF, quotes, spaces, blank lines, empty and NaN fields, an ISO time */
  const char *text = "\xEF\xBB\xBFts,rack_id,a,b,extra\r\n"
                     "10,R-A-01,1.5,2,x\r\n"
                     "\r\n"
                     "20,\"R-A-02\", 2.5 ,,y\r\n"
                     "2025-10-18T23:11:10Z,R-A-03,NaN,4e3,z\r\n"
                     ",R-A-04,3,5,w\r\n";
  ck_assert_msg(load_csv(&d, "v.csv", text, "b,a", err) == SK_OK, "%s", err);
  ck_assert_int_eq(d.kind, SK_IMS_DATA_CSV);
  ck_assert_int_eq((int)d.n_rows, 4);
  ck_assert_int_eq((int)d.n_read, 4);
  ck_assert_int_eq(d.n_features, 2);
  ck_assert_str_eq(d.feature[0], "b");
  ck_assert_double_eq(d.x[0], 2.0);
  ck_assert_double_eq(d.x[1], 1.5);
  ck_assert(isnan(d.x[2]));
  ck_assert_double_eq(d.x[3], 2.5);
  ck_assert_double_eq(d.x[4], 4000.0);
  ck_assert(isnan(d.x[5]));
  ck_assert(d.has_ts);
  ck_assert_double_eq(d.ts[1], 20.0);
  ck_assert_double_eq(d.ts[2], 1760829070.0);
  ck_assert(isnan(d.ts[3]));
  ck_assert_ptr_nonnull(d.rack_id);
  ck_assert_str_eq(d.rack_id[1], "R-A-02");
  ck_assert_ptr_null(d.nominal); /* not every rack feature: no filter */

  double *x;
  sk_ims_selection s;
  select_expect(&d, &x, &s, 2, 2, 0);
  ck_assert_double_eq(x[2], 5.0);
  ck_assert_double_eq(s.from_s, 10.0);
  ck_assert(isnan(s.to_s) == 0);
  free(x);
  sk_ims_data_fini(&d);

  /* a window keeps rows with from <= ts <= to */
  sk_ims_data_opts o;
  opts_feature_a(&o);
  o.from_s = 15;
  o.to_s = 1e9;
  ck_assert_int_eq(sk_ims_data_load(&d, tu_tmp("v.csv"), &o, err, sizeof err), SK_OK);
  ck_assert_int_eq((int)d.n_rows, 1);
  ck_assert_int_eq((int)d.n_read, 4);
  sk_ims_data_fini(&d);
}
END_TEST

START_TEST(csv_nominal_filter_with_rack_features) {
  sk_ims_data d;
  char err[ERRLEN];
  const char *text =
      "inlet_c,outlet_c,delta_t_c,pdu_kw,gpu_kw,tokens_ps,latency_p95_ms,queue_depth,"
      "fan_rpm_pct,pump_rpm_pct\n"
      "20,30,10,5,2,500,100,0,75,100\n"  /* nominal */
      "29,39,10,5,2,500,100,0,75,100\n"  /* inlet above 28 */
      "20,30,10,5,2,500,300,0,75,100\n"  /* latency above 250 */
      "20,30,10,5,2,500,,0,75,100\n"     /* no request: nominal, but incomplete */
      "20,30,10,1,2,500,100,0,75,100\n"  /* below idle */
      "20,30,10,12,2,500,100,0,75,100\n" /* above 95 % of the cap */
      "26,36,10,5,2,500,100,0,75,100\n"; /* nominal unless INLET_MAX_C < 26 */
  unsetenv("INLET_MAX_C");
  ck_assert_msg(load_csv(&d, "r.csv", text, NULL, err) == SK_OK, "%s", err);
  ck_assert_int_eq(d.n_features, SK_IMS_N_RACK_FEATURES);
  ck_assert_ptr_nonnull(d.nominal);
  ck_assert_ptr_null(d.rack_id);
  ck_assert(!d.has_ts);
  ck_assert(isnan(d.ts[0]));
  ck_assert_double_eq(d.inlet_max_c, 28);
  ck_assert_double_eq(d.sla_latency_ms, 250);
  ck_assert_double_eq(d.rack_kw_cap, 12);
  ck_assert_double_eq(d.tau_fast_percentile, 95);
  const signed char want[] = {1, 0, 0, 1, 0, 0, 1};
  for (int i = 0; i < 7; i++)
    ck_assert_msg(d.nominal[i] == want[i], "row %d: nominal %d", i, d.nominal[i]);
  double *x;
  sk_ims_selection s;
  select_expect(&d, &x, &s, 2, 1, 4);
  free(x);
  sk_ims_data_fini(&d);

  /* the environment's settings judge a CSV */
  setenv("INLET_MAX_C", "25", 1);
  ck_assert_msg(load_csv(&d, "r.csv", text, "inlet_c,pdu_kw", err) == SK_OK, "%s", err);
  unsetenv("INLET_MAX_C");
  ck_assert_double_eq(d.inlet_max_c, 25);
  ck_assert_int_eq(d.n_features, 2);
  ck_assert_ptr_nonnull(d.nominal); /* all rack columns present, though two are picked */
  ck_assert_int_eq(d.nominal[6], 0);
  sk_ims_data_fini(&d);
}
END_TEST

START_TEST(bad_csvs) {
  struct {
    const char *text, *features;
    sk_status st;
    const char *what;
  } cases[] = {
      {"ts,a,b\n1,2,3\n", "a,c", SK_EPARSE,
       "bad.csv:1: header: no column 'c' (the columns are: "
       "ts, a, b)"},
      {"ts,a,b\n1,2,3\n2,abc,4\n", "a,b", SK_EPARSE, "bad.csv:3:3: a: 'abc' is not a number"},
      {"ts,a,b\n1,2,3\n2,1,inf\n", "a,b", SK_EPARSE, "bad.csv:3:5: b: 'inf' is not a number"},
      {"ts,a,b\n1,2,3\n2,3,4,5\n", "a,b", SK_EPARSE,
       "bad.csv:3:7: expected 3 fields as in the header, found 4"},
      {"ts,a,b\n1,2,3\n2,3\n", "a,b", SK_EPARSE,
       "bad.csv:3:4: expected 3 fields as in the header, found 2"},
      {"ts,a,a\n", "a", SK_EPARSE, "bad.csv:1:6: header: column 'a' appears twice"},
      {"ts,,b\n", "b", SK_EPARSE, "bad.csv:1:4: header: column 2 has no name"},
      {"", "a", SK_EPARSE, "bad.csv:1: header: empty file"},
      {"ts,a\nmonday,1\n", "a", SK_EPARSE, "bad.csv:2:1: ts: 'monday' is neither"},
      {"a,rack_id\n1,R-A-0123456789012345678901234567890\n", "a", SK_EPARSE,
       "bad.csv:2:3: rack_id: 'R-A-0123456789012345678901234567890' is longer than 31"},
      {"a\n1\n", "a,a", SK_EINVAL, "feature 'a' requested twice"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sk_ims_data d;
    char err[ERRLEN];
    sk_status st = load_csv(&d, "bad.csv", cases[i].text, cases[i].features, err);
    ck_assert_msg(st == cases[i].st, "case %zu: status %d: %s", i, st, err);
    ASSERT_HAS(err, cases[i].what);
    sk_ims_data_fini(&d);
  }
  /* a window needs a ts column */
  sk_ims_data d;
  char err[ERRLEN];
  sk_ims_data_opts o;
  opts_feature_a(&o);
  o.from_s = 0;
  tu_write_file(tu_tmp("nots.csv"), "a\n1\n");
  ck_assert_int_eq(sk_ims_data_load(&d, tu_tmp("nots.csv"), &o, err, sizeof err), SK_EINVAL);
  ASSERT_HAS(err, "nots.csv: a time window (--from/--to) needs a time column (ts, timestamp");
  sk_ims_data_fini(&d);
  ck_assert_int_eq(sk_ims_data_load(&d, tu_tmp("none.csv"), &o, err, sizeof err), SK_ENOTFOUND);
  ASSERT_HAS(err, "none.csv");
  sk_ims_data_fini(&d);
  /* the row cap */
  tu_write_file(tu_tmp("many.csv"), "a\n1\n2\n3\n4\n");
  opts_feature_a(&o);
  o.max_rows = 3;
  ck_assert_int_eq(sk_ims_data_load(&d, tu_tmp("many.csv"), &o, err, sizeof err), SK_ERANGE);
  ASSERT_HAS(err, "more than 3 rows");
  sk_ims_data_fini(&d);
}
END_TEST

/* The shared reader's syntax (skadi/csv.h): RFC 4180 quoting -- a delimiter, a doubled
 * quote and a line break inside quotes --, quoted header names, a BOM, CRLF and no final
 * newline.  Lines stay physical: the row after a two-line field reports its own line. */
START_TEST(csv_quoting_crlf_bom) {
  sk_ims_data d;
  char err[ERRLEN];
  const char *text = "\xEF\xBB\xBF\"ts\",\"rack_id\",a\r\n"
                     "1,\"R-A-01, left\",\"2.5\"\r\n"
                     "2,\"say \"\"hi\"\"\", 3 \r\n"
                     "3,\"two\r\nlines\",4\r\n"
                     "4,R-A-04,5";
  ck_assert_msg(load_csv(&d, "q.csv", text, "a", err) == SK_OK, "%s", err);
  ck_assert_int_eq((int)d.n_rows, 4);
  ck_assert(d.has_ts);
  ck_assert_str_eq(d.rack_id[0], "R-A-01, left");
  ck_assert_str_eq(d.rack_id[1], "say \"hi\"");
  ck_assert_str_eq(d.rack_id[2], "two\r\nlines");
  ck_assert_str_eq(d.rack_id[3], "R-A-04");
  const double want[] = {2.5, 3, 4, 5};
  for (int i = 0; i < 4; i++) {
    ck_assert_double_eq(d.x[i], want[i]);
    ck_assert_double_eq(d.ts[i], i + 1);
  }
  sk_ims_data_fini(&d);

  /* a bad number names its physical line and byte column, past a two-line field */
  ck_assert_int_eq(
      load_csv(&d, "q.csv", "ts,rack_id,a\r\n1,\"x\r\ny\",2\r\n2,R-A-02, 0x10\r\n", "a", err),
      SK_EPARSE);
  ASSERT_HAS(err, "q.csv:4:10: a: '0x10' is not a number");
  sk_ims_data_fini(&d);
  /* junk after a closing quote is the reader's error */
  ck_assert_int_eq(load_csv(&d, "q.csv", "ts,a\n1,\"2\"x\n", "a", err), SK_EPARSE);
  ASSERT_HAS(err, "q.csv:2: a: unexpected 'x' after a closing quote");
  sk_ims_data_fini(&d);
}
END_TEST

/* The time column through the shared time-stamp parser: Z, offsets, a space, fractions,
 * no zone (UTC), signed and exponent seconds; a column named timestamp when there is no
 * ts; dates that do not exist are refused. */
/* CSVs as exported: a sniffed delimiter (SKAB's ';', SQL Server's tab after a BOM), the
 * time column's other names in any case, Unix s and ms, local times in a zone with DST,
 * newest row first, trailing non-data lines skipped and counted or refused (strict). */
START_TEST(csv_as_exported) {
  sk_ims_data d;
  char err[ERRLEN];
  ck_assert_msg(load_csv(&d, "skab.csv",
                         "datetime;a;anomaly\n2020-03-09 10:14:33;1.5;0\n2020-03-09 10:14:34;2;0\n",
                         "a", err) == SK_OK,
                "%s", err);
  ck_assert_int_eq(d.delimiter, ';');
  ck_assert_str_eq(d.time_column, "datetime");
  ck_assert_int_eq(d.ts_epoch, 1);
  ck_assert_double_eq(d.ts[0], 1583748873);
  ck_assert_double_eq(d.x[1], 2);
  sk_ims_data_fini(&d);

  const char *sql = "\xEF\xBB\xBFTime\ta\r\n"
                    "2024-11-03 01:40:00.000\t3\r\n"
                    "2024-11-03 01:30:00.000\t2\r\n"
                    "2024-11-03 00:30:00.000\t1\r\n"
                    "\r\n(3 rows affected)\r\n\r\n"
                    "Completion time: 2024-11-03T01:41:00.1234567-04:00\r\n";
  static const char *const names[] = {"a"};
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  o.features = names;
  o.n_features = 1;
  sk_time_zone ny;
  ck_assert_int_eq(sk_time_zone_parse("America/New_York", &ny, err, sizeof err), SK_OK);
  o.zone = &ny;
  tu_write_file(tu_tmp("sql.csv"), sql);
  ck_assert_msg(sk_ims_data_load(&d, tu_tmp("sql.csv"), &o, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(d.delimiter, '\t');
  ck_assert_str_eq(d.time_column, "Time");
  ck_assert_uint_eq(d.n_rows, 3);
  ck_assert_uint_eq(d.n_unsorted, 2);
  ck_assert_uint_eq(d.n_trailer, 2);
  ck_assert_uint_eq(d.trailer_line, 6);
  ck_assert_str_eq(d.trailer_text, "(3 rows affected)");
  /* sorted; EDT (-4 h) until the clocks fall back at 02:00 */
  ck_assert_double_eq(d.ts[0], 1730608200); /* 00:30 EDT = 04:30Z */
  ck_assert_double_eq(d.ts[1], 1730611800);
  ck_assert_double_eq(d.ts[2], 1730612400);
  ck_assert_double_eq(d.x[0], 1);
  ck_assert_double_eq(d.x[2], 3);
  sk_ims_data_fini(&d);
  o.strict = 1;
  ck_assert_int_eq(sk_ims_data_load(&d, tu_tmp("sql.csv"), &o, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "sql.csv:6:18: expected 2 fields as in the header, found 1");
  ASSERT_HAS(err, "--strict");
  sk_ims_data_fini(&d);

  /* Unix seconds and milliseconds are calendar times; small numbers are seconds as written */
  ck_assert_int_eq(load_csv(&d, "u.csv", "timestamp,a\n1714544400000,1\n1714544401,2\n", "a", err),
                   SK_OK);
  ck_assert_double_eq(d.ts[0], 1714544400);
  ck_assert_double_eq(d.ts[1], 1714544401);
  ck_assert_int_eq(d.ts_epoch, 1);
  sk_ims_data_fini(&d);
  ck_assert_int_eq(load_csv(&d, "r.csv", "time,a\n0,1\n30,2\n", "a", err), SK_OK);
  ck_assert_int_eq(d.ts_epoch, 0);
  ck_assert_double_eq(d.ts[1], 30);
  sk_ims_data_fini(&d);

  /* a delimiter that cannot be told; two time columns differing in case */
  ck_assert_int_eq(load_csv(&d, "x.csv", "ts,a;b;c,d\n1,2;3;4,5\n", "a", err), SK_EPARSE);
  ASSERT_HAS(err, "cannot tell the delimiter");
  sk_ims_data_fini(&d);
  ck_assert_int_eq(load_csv(&d, "y.csv", "Time,time,a\n1,2,3\n", "a", err), SK_EPARSE);
  ASSERT_HAS(err, "appears twice");
  sk_ims_data_fini(&d);
}
END_TEST

START_TEST(csv_times) {
  sk_ims_data d;
  char err[ERRLEN];
  const char *text = "timestamp,a\n"
                     "2025-10-18T23:11:10Z,1\n"
                     "2025-10-19T01:11:10+02:00,2\n"
                     "2025-10-18T18:11:10.25-05:00,3\n"
                     "2025-10-18 23:11:10,4\n"
                     "2024-02-29T00:00:00.000000000001Z,5\n"
                     "-1.5e1,6\n"
                     "NaN,7\n";
  ck_assert_msg(load_csv(&d, "t.csv", text, "a", err) == SK_OK, "%s", err);
  ck_assert(d.has_ts);
  ck_assert_int_eq((int)d.n_rows, 7);
  /* rows out of order are sorted by time, stably, a missing time last */
  const double want[] = {-15, 1709164800, 1760829070, 1760829070, 1760829070, 1760829070.25};
  const double want_a[] = {6, 5, 1, 2, 4, 3, 7};
  for (int i = 0; i < 6; i++)
    ck_assert_msg(d.ts[i] == want[i], "row %d: ts %.17g", i, d.ts[i]);
  for (int i = 0; i < 7; i++)
    ck_assert_double_eq(d.x[i], want_a[i]);
  ck_assert(isnan(d.ts[6]));
  ck_assert_uint_eq(d.n_unsorted, 3);
  ck_assert_int_eq(d.ts_epoch, 0); /* calendar times and relative seconds mixed */
  ck_assert_str_eq(d.time_column, "timestamp");
  sk_ims_data_fini(&d);
  /* a window works on a timestamp column */
  sk_ims_data_opts o;
  opts_feature_a(&o);
  o.from_s = 1760829070;
  o.to_s = 1760829070;
  ck_assert_msg(sk_ims_data_load(&d, tu_tmp("t.csv"), &o, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq((int)d.n_rows, 3);
  ck_assert_int_eq((int)d.n_read, 7);
  sk_ims_data_fini(&d);

  /* ts wins over timestamp */
  ck_assert_int_eq(load_csv(&d, "t.csv", "timestamp,ts,a\nx,5,1\n", "a", err), SK_OK);
  ck_assert_double_eq(d.ts[0], 5);
  sk_ims_data_fini(&d);

  struct {
    const char *text, *what;
  } cases[] = {
      {"ts,a\n2024-02-31T00:00:00Z,1\n",
       "bad.csv:2:1: ts: not a valid date and time: \"2024-02-31T00:00:00Z\""},
      {"timestamp,a\n1,1\n2023-02-29 12:00:00,1\n",
       "bad.csv:3:1: timestamp: not a valid date and time"},
      {"ts,a\n2025-10-18T23:11:10+2,1\n", "bad.csv:2:1: ts: expected a time zone"},
      {"ts,a\n2025-10-18T23:11,1\n", "bad.csv:2:1: ts: expected a time like"},
      {"ts,a\n0x10,1\n", "bad.csv:2:1: ts: '0x10' is neither a number of seconds"},
      {"a,ts\n1, tuesday\n", "bad.csv:2:3: ts: 'tuesday' is neither"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ck_assert_msg(load_csv(&d, "bad.csv", cases[i].text, "a", err) == SK_EPARSE, "case %zu: %s", i,
                  err);
    ASSERT_HAS(err, cases[i].what);
    sk_ims_data_fini(&d);
  }
}
END_TEST

/* Five rows cannot train eight clusters: the model's refusal reaches the caller. */
START_TEST(too_few_nominal_rows) {
  sk_ims_data d;
  char err[ERRLEN];
  ck_assert_int_eq(load_csv(&d, "five.csv", "a,b\n1,2\n2,3\n3,5\n4,4\n5,1\n", "a,b", err), SK_OK);
  double *x;
  sk_ims_selection s;
  select_expect(&d, &x, &s, 5, 0, 0);
  sk_ims_train_params p = {8, 95, 98, 1, 100};
  const char *names[] = {d.feature[0], d.feature[1]};
  sk_ims_model m;
  ck_assert_int_eq(sk_ims_train(&m, &p, x, s.n_kept, 2, names, s.from_s, s.to_s, err, sizeof err),
                   SK_EINVAL);
  ASSERT_HAS(err, "too few nominal vectors: 5");
  free(x);
  sk_ims_data_fini(&d);
}
END_TEST

/* ---- recordings ----------------------------------------------------------------------------- */

START_TEST(train_from_recording) {
  const char *rec = tu_tmp("b.h5");
  tu_record_baseline(rec, "30m");
  sk_ims_data d;
  char err[ERRLEN];
  ck_assert_msg(sk_ims_data_load(&d, rec, NULL, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(d.kind, SK_IMS_DATA_RECORDING);
  ck_assert_int_eq(d.n_features, SK_IMS_N_RACK_FEATURES);
  for (int j = 0; j < SK_IMS_N_RACK_FEATURES; j++)
    ck_assert_str_eq(d.feature[j], sk_ims_rack_feature_name(j));
  ck_assert_int_eq((int)d.n_rows, 72 * 180);
  ck_assert_double_eq(d.sample_period_s, 10);
  ck_assert_double_eq(d.inlet_max_c, 28);
  ck_assert_double_eq_tol(d.idle_kw_per_server, 2.7766, 1e-4);
  ck_assert_ptr_nonnull(d.nominal);
  ck_assert_ptr_nonnull(d.rack_id);
  ck_assert_str_eq(d.rack_id[0], "R-A-01");
  ck_assert_double_eq(d.ts[0], 10);
  for (size_t i = 0; i < 72; i++) {
    const double *v = &d.x[i * SK_IMS_N_RACK_FEATURES];
    ck_assert_double_eq(v[2], v[1] - v[0]); /* delta_t_c */
    ck_assert(v[4] > 1.0 && v[4] < v[3]);   /* gpu_kw below pdu_kw */
  }

  double *x;
  sk_ims_selection s;
  ck_assert_int_eq(sk_ims_data_select_training(&d, &x, &s), SK_OK);
  ck_assert_int_gt((int)s.n_kept, 10000);
  ck_assert_int_eq((int)(s.n_kept + s.n_missing + s.n_off_nominal), 72 * 180);
  ck_assert_double_eq_tol(s.from_s, 10, 1e-9);
  ck_assert_double_eq_tol(s.to_s, 1800, 1e-9);

  /* The baseline holds its CRAH fans at 75 % and its pumps at 100 %: constant, so left out
   * (the model refuses to z-score them); every other rack feature is trained on.  Only
   * those two control-held speeds may be constant. */
  int constant[SK_IMS_MAX_FEATURES], dd = d.n_features;
  char names[SK_IMS_MAX_FEATURES][SK_IMS_NAME_LEN];
  memcpy(names, d.feature, sizeof names);
  int n_const = sk_ims_constant_features(x, s.n_kept, dd, constant);
  for (int j = 0; j < SK_IMS_N_RACK_FEATURES; j++)
    ck_assert_msg(!constant[j] || j == 8 || j == 9, "%s constant", d.feature[j]);
  sk_ims_drop_features(x, s.n_kept, &dd, names, constant);
  ck_assert_int_eq(dd, SK_IMS_N_RACK_FEATURES - n_const);
  ck_assert_int_ge(dd, 8);
  const char *np[SK_IMS_MAX_FEATURES];
  for (int j = 0; j < dd; j++)
    np[j] = names[j];
  sk_ims_train_params p = {8, d.tau_fast_percentile, d.tau_persist_percentile, 1, 100};
  sk_ims_model m, back;
  ck_assert_msg(sk_ims_train(&m, &p, x, s.n_kept, dd, np, s.from_s, s.to_s, err, sizeof err) ==
                    SK_OK,
                "%s", err);
  ck_assert_int_eq((int)m.n_train, (int)s.n_kept);
  ck_assert_int_eq(m.n_features, dd);
  for (int j = 0, k = 0; j < SK_IMS_N_RACK_FEATURES; j++) /* rack order, less the constant */
    if (!constant[j])
      ck_assert_str_eq(m.feature[k++], sk_ims_rack_feature_name(j));
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("m.h5"), rec, err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_ims_load(&back, tu_tmp("m.h5"), NULL, 0, err, sizeof err), SK_OK);
  ck_assert_int_eq(memcmp(&m, &back, sizeof m), 0);
  free(x);
  sk_ims_data_fini(&d);

  /* loading for scoring with the model's features, in a window */
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  o.features = np;
  o.n_features = dd;
  o.from_s = 595; /* sample times are multiples of 10 s up to rounding */
  o.to_s = 1205;
  ck_assert_msg(sk_ims_data_load(&d, rec, &o, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq((int)d.n_rows, 72 * 61);
  ck_assert_int_eq((int)d.n_read, 72 * 180);
  ck_assert_int_eq(d.n_features, dd);
  sk_ims_data_fini(&d);
  if (n_const == 0)
    return;

  /* with the constant features kept, the model says which one */
  ck_assert_int_eq(sk_ims_data_load(&d, rec, NULL, err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_ims_data_select_training(&d, &x, &s), SK_OK);
  const char *all[SK_IMS_N_RACK_FEATURES];
  for (int j = 0; j < SK_IMS_N_RACK_FEATURES; j++)
    all[j] = d.feature[j];
  ck_assert_int_eq(sk_ims_train(&m, &p, x, s.n_kept, d.n_features, all, 0, 0, err, sizeof err),
                   SK_EINVAL);
  ASSERT_HAS(err, constant[8] ? "fan_rpm_pct" : "pump_rpm_pct");
  ASSERT_HAS(err, "constant");
  free(x);
  sk_ims_data_fini(&d);
}
END_TEST

START_TEST(bad_recordings) {
  sk_ims_data d;
  char err[ERRLEN];
  hid_t f = H5Fcreate(tu_tmp("notrec.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(H5Gcreate2(f, "/telemetry", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Fclose(f);
  ck_assert_int_eq(sk_ims_data_load(&d, tu_tmp("notrec.h5"), NULL, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "notrec.h5: not a skadi recording (no format_version)");
  sk_ims_data_fini(&d);

  sk_ims_model m;
  make_model(&m);
  ck_assert_int_eq(sk_ims_save(&m, tu_tmp("model.h5"), "", err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_ims_data_load(&d, tu_tmp("model.h5"), NULL, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "model.h5: is an IMS model file, not data");
  sk_ims_data_fini(&d);

  /* a recording cannot give a feature it does not have */
  const char *rec = tu_tmp("b.h5");
  tu_record_baseline(rec, "2m");
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  const char *names[] = {"inlet_c", "custom_sensor_x"};
  o.features = names;
  o.n_features = 2;
  ck_assert_int_eq(sk_ims_data_load(&d, rec, &o, err, sizeof err), SK_EINVAL);
  ASSERT_HAS(err, "feature 'custom_sensor_x' is not a rack feature");
  sk_ims_data_fini(&d);

  /* a setting missing from /config is named */
  f = H5Fopen(rec, H5F_ACC_RDWR, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  hid_t g = H5Gopen2(f, "/config", H5P_DEFAULT);
  ck_assert_int_ge(H5Adelete(g, "settings.rack_kw_cap"), 0);
  H5Gclose(g);
  H5Fclose(f);
  ck_assert_int_eq(sk_ims_data_load(&d, rec, NULL, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "b.h5: /config: attribute settings.rack_kw_cap missing");
  sk_ims_data_fini(&d);
}
END_TEST

/* A recording whose writer was SIGKILLed after a flush (still marked open for SWMR
 * writing): data for the IMS, read through the recording reader, and named as a
 * recording when handed over as a model. */
START_TEST(killed_recording) {
  static const char *const keys[] = {"settings.inlet_max_c",
                                     "settings.sla_latency_ms",
                                     "settings.rack_kw_cap",
                                     "settings.ims_tau_fast_percentile",
                                     "settings.ims_tau_persist_percentile",
                                     "server.gpus",
                                     "server.gpu_idle_w",
                                     "server.host_idle_w",
                                     "server.fan_base_w",
                                     "server.psu_eff"};
  static const char *const vals[] = {"28", "250", "12", "95", "98", "8", "60", "150", "40", "0.94"};
  static const char *const ids[] = {"R-A-01", "R-A-02"};
  static const int zero[] = {0, 0}, pos[] = {0, 1};
  const char *rec = tu_tmp("killed.h5");
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    sk_recorder_config cfg = {.path = rec,
                              .sample_period_s = 10,
                              .n_config = 10,
                              .config_keys = keys,
                              .config_values = vals,
                              .n_racks = 2,
                              .rack_ids = ids,
                              .rack_row = zero,
                              .rack_pos = pos};
    sk_recorder *r = NULL;
    if (sk_recorder_create(&r, &cfg, NULL, 0) != SK_OK)
      _exit(1);
    for (int i = 0; i < 100; i++) {
      sk_rack_sample row = {.ts = 10.0 * (i / 2 + 1),
                            .inlet_c = 22,
                            .outlet_c = 34,
                            .pdu_kw = 30 + i % 7,
                            .gpu_energy_j = 2e5,
                            .tokens_ps = 900,
                            .latency_p95_ms = 120,
                            .fan_rpm_pct = 75,
                            .pump_rpm_pct = 100,
                            .queue_depth = i % 3,
                            .n_servers = 4};
      snprintf(row.rack_id, sizeof row.rack_id, "%s", ids[i % 2]);
      if (sk_recorder_add_racks(r, &row, 1) != SK_OK)
        _exit(1);
    }
    if (sk_recorder_flush(r) != SK_OK)
      _exit(1);
    kill(getpid(), SIGKILL);
    _exit(2);
  }
  ck_assert_int_eq(tu_wait(pid), 128 + SIGKILL);

  sk_ims_data d;
  char err[ERRLEN];
  ck_assert_msg(sk_ims_data_load(&d, rec, NULL, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(d.kind, SK_IMS_DATA_RECORDING);
  ck_assert_uint_eq(d.n_rows, 100);
  ck_assert_str_eq(d.rack_id[1], "R-A-02");
  ck_assert_double_eq(d.ts[99], 500);
  ck_assert_double_eq(d.x[sk_ims_rack_feature_index("gpu_kw")], 20); /* 2e5 J / 10 s */
  ck_assert_double_eq(d.inlet_max_c, 28);
  sk_ims_data_fini(&d);

  sk_ims_model m;
  ck_assert_int_eq(sk_ims_load(&m, rec, NULL, 0, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "killed.h5: is a skadi recording");
}
END_TEST

START_TEST(drop_features_in_place) {
  double x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; /* 3 rows x 4 */
  char names[SK_IMS_MAX_FEATURES][SK_IMS_NAME_LEN] = {"w", "x", "y", "z"};
  int drop[4] = {1, 0, 1, 0}, d = 4;
  sk_ims_drop_features(x, 3, &d, names, drop);
  ck_assert_int_eq(d, 2);
  const double want[] = {2, 4, 6, 8, 10, 12};
  for (int i = 0; i < 6; i++)
    ck_assert_double_eq(x[i], want[i]);
  ck_assert_str_eq(names[0], "x");
  ck_assert_str_eq(names[1], "z");
  ck_assert_str_eq(names[2], "");
  /* a column that is constant up to rounding counts as constant */
  double y[] = {0.1, 1, 0.1, 2, 0.1, 3};
  int c[2];
  ck_assert_int_eq(sk_ims_constant_features(y, 3, 2, c), 1);
  ck_assert(c[0] && !c[1]);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("ims_store");
  TCase *tc = tcase_create("ims_store");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, rack_vector_order_and_units);
  tcase_add_test(tc, round_trip_bit_exact);
  tcase_add_test(tc, save_refuses_and_reports);
  tcase_add_test(tc, bad_model_files);
  tcase_add_test(tc, list_models);
  tcase_add_test(tc, old_model_files_and_new_fields);
  tcase_add_test(tc, smoothing_per_entity);
  tcase_add_test(tc, csv_values_missing_iso);
  tcase_add_test(tc, csv_nominal_filter_with_rack_features);
  tcase_add_test(tc, bad_csvs);
  tcase_add_test(tc, csv_quoting_crlf_bom);
  tcase_add_test(tc, csv_times);
  tcase_add_test(tc, csv_as_exported);
  tcase_add_test(tc, too_few_nominal_rows);
  tcase_add_test(tc, train_from_recording);
  tcase_add_test(tc, bad_recordings);
  tcase_add_test(tc, killed_recording);
  tcase_add_test(tc, drop_features_in_place);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
