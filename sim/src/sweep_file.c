/*
 * sweep_file.c -- a sweep's HDF5 file (sweep.h; layout in docs/SWEEPS.md): written once,
 * at the end of a sweep or when it is stopped, and read back by `skadi sweep report`,
 * --resume and `skadi report --against`.
 *
 * Invariant: everything but /timing and the root's wall-clock-free attributes is a pure
 * function of the sweep file and the rows, so two sweeps of the same file with different
 * worker counts give files h5diff finds equal once /timing is left out.  Rows are written
 * sorted by job (point, then seed index) whatever order they finished in.  The file is
 * written to <path>.part and renamed, so a reader never sees half a file.
 *
 * Considered and rejected: appending rows as they finish (a chunked, growing table).  A
 * sweep's rows are small (a few hundred bytes each) and a stopped sweep writes its file
 * before it exits; what a SIGKILL would lose is kept by the journal (sweep_journal.c).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "h5util.h"
#include "skadi/sweep.h"

#define FORMAT_VERSION 1

/* ---- types ------------------------------------------------------------------------------ */

/* H5Tinsert, unless have (a file's type, or < 0 for none) lacks a member of that name:
 * a reader's memory type then leaves the field as the caller filled it (NaN), so a file
 * written before a metric existed still reads. */
static void insert(hid_t t, hid_t have, const char *name, size_t off, hid_t mt) {
  if (have >= 0 && H5Tget_member_index(have, name) < 0)
    return;
  H5Tinsert(t, name, off, mt);
}

static hid_t runs_type(hid_t have) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(sk_sweep_result));
  hid_t msg = sk__h5_fixed_str(SK_SWEEP_MSG_LEN);
  insert(t, have, "point", HOFFSET(sk_sweep_result, point), H5T_NATIVE_INT32);
  insert(t, have, "seed_index", HOFFSET(sk_sweep_result, seed_index), H5T_NATIVE_INT32);
  insert(t, have, "seed", HOFFSET(sk_sweep_result, seed), H5T_NATIVE_UINT64);
  insert(t, have, "status", HOFFSET(sk_sweep_result, status), H5T_NATIVE_INT32);
  insert(t, have, "pass", HOFFSET(sk_sweep_result, pass), H5T_NATIVE_INT32);
  insert(t, have, "message", HOFFSET(sk_sweep_result, message), msg);
  for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++)
    insert(t, have, sk_sweep_metric_name((sk_sweep_metric)m),
           HOFFSET(sk_sweep_result, m) + (size_t)m * sizeof(double), H5T_NATIVE_DOUBLE);
  H5Tclose(msg);
  return t;
}

typedef struct {
  int32_t point, seed_index;
  double wall_s;
} timing_row;

static hid_t timing_type(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(timing_row));
  H5Tinsert(t, "point", HOFFSET(timing_row, point), H5T_NATIVE_INT32);
  H5Tinsert(t, "seed_index", HOFFSET(timing_row, seed_index), H5T_NATIVE_INT32);
  H5Tinsert(t, "wall_s", HOFFSET(timing_row, wall_s), H5T_NATIVE_DOUBLE);
  return t;
}

#define LABEL_LEN 512
typedef struct {
  sk_sweep_point_stats s;
  char label[LABEL_LEN];
} point_row;

static hid_t points_type(hid_t have) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(point_row));
  hid_t lab = sk__h5_fixed_str(LABEL_LEN);
  insert(t, have, "point", HOFFSET(point_row, s.point), H5T_NATIVE_INT32);
  insert(t, have, "label", HOFFSET(point_row, label), lab);
  insert(t, have, "is_default", HOFFSET(point_row, s.is_default), H5T_NATIVE_INT32);
  insert(t, have, "complete", HOFFSET(point_row, s.complete), H5T_NATIVE_INT32);
  insert(t, have, "n_ok", HOFFSET(point_row, s.n_ok), H5T_NATIVE_INT32);
  insert(t, have, "n_failed", HOFFSET(point_row, s.n_failed), H5T_NATIVE_INT32);
  insert(t, have, "pass", HOFFSET(point_row, s.pass), H5T_NATIVE_INT32);
  insert(t, have, "best", HOFFSET(point_row, s.best), H5T_NATIVE_INT32);
  insert(t, have, "front_ttft", HOFFSET(point_row, s.front_ttft), H5T_NATIVE_INT32);
  insert(t, have, "front_inlet", HOFFSET(point_row, s.front_inlet), H5T_NATIVE_INT32);
  static const char *const sfx[] = {"mean", "sd", "ci95"};
  size_t off[] = {HOFFSET(point_row, s.mean), HOFFSET(point_row, s.sd), HOFFSET(point_row, s.ci95)};
  for (int k = 0; k < 3; k++)
    for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++) {
      char name[96];
      snprintf(name, sizeof name, "%s_%s", sk_sweep_metric_name((sk_sweep_metric)m), sfx[k]);
      insert(t, have, name, off[k] + (size_t)m * sizeof(double), H5T_NATIVE_DOUBLE);
    }
  H5Tclose(lab);
  return t;
}

/* The file type of a memory compound: packed (no padding byte reaches the file). */
static hid_t packed(hid_t mem) {
  hid_t f = H5Tcopy(mem);
  if (f >= 0)
    H5Tpack(f);
  return f;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Dataset name under loc of rank 1 or 2 (dims), memory type mtype, file type ftype. */
static herr_t write_ds(hid_t loc, const char *name, int rank, const hsize_t *dims, hid_t ftype,
                       hid_t mtype, const void *data) {
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  hid_t dcpl = sk__h5_ocpl(H5P_DATASET_CREATE);
  hid_t ds = sp >= 0 && dcpl >= 0 ? H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)
                                  : H5I_INVALID_HID;
  herr_t rc = -1;
  if (ds >= 0) /* an empty dataset has nothing to write */
    rc = (dims[0] == 0 || (rank == 2 && dims[1] == 0))
             ? 0
             : H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  sk__h5_close(&ds);
  sk__h5_close(&dcpl);
  sk__h5_close(&sp);
  return rc;
}

static int cmp_job(const void *a, const void *b) {
  const sk_sweep_result *x = a, *y = b;
  if (x->point != y->point)
    return x->point < y->point ? -1 : 1;
  return x->seed_index < y->seed_index ? -1 : x->seed_index > y->seed_index;
}

static int attr_int(hid_t obj, const char *name, long long v) {
  return sk__h5_attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, &v) < 0;
}
static int attr_dbl(hid_t obj, const char *name, double v) {
  return sk__h5_attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v) < 0;
}

/* Point indices on a front, by mean Wh/prompt ascending (ties by index). */
static const sk_sweep_point_stats *sort_base;
static int cmp_wh(const void *a, const void *b) {
  int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
  double x = sort_base[i].mean[SK_SWEEP_M_WH_PER_PROMPT],
         y = sort_base[j].mean[SK_SWEEP_M_WH_PER_PROMPT];
  if (x != y)
    return x < y ? -1 : 1;
  return i < j ? -1 : i > j;
}

sk_status sk_sweep_file_write(const char *path, int force, const sk_sweep *sw,
                              sk_sweep_result *rows, size_t n_rows, const sk_sweep_file_info *info,
                              char *err, size_t errlen) {
  struct stat sb;
  if (lstat(path, &sb) == 0 && (!force || !S_ISREG(sb.st_mode))) {
    sk_errf(err, errlen, "%s: exists; pass --force to replace it", path);
    return SK_EINVAL;
  }
  size_t np = sk_sweep_n_points(sw), nk = sk_sweep_n_params(sw), nc = sk_sweep_n_constraints(sw);
  qsort(rows, n_rows, sizeof *rows, cmp_job);
  point_row *pts = calloc(np ? np : 1, sizeof *pts);
  sk_sweep_point_stats *st = calloc(np ? np : 1, sizeof *st);
  timing_row *tim = calloc(n_rows ? n_rows : 1, sizeof *tim);
  double *vals = calloc(np * nk + 1, sizeof *vals);
  char(*texts)[SK_SWEEP_VALUE_LEN] = calloc(np * nk + 1, sizeof *texts);
  int32_t *f1 = calloc(np + 1, sizeof *f1), *f2 = calloc(np + 1, sizeof *f2);
  const char **keys = calloc(nk + 1, sizeof *keys);
  char(*ctext)[128] = calloc(nc + 1, sizeof *ctext);
  const char **cptr = calloc(nc + 1, sizeof *cptr);
  if (!pts || !st || !tim || !vals || !texts || !f1 || !f2 || !keys || !ctext || !cptr) {
    sk_errf(err, errlen, "%s: out of memory", path);
    free(pts), free(st), free(tim), free(vals), free(texts), free(f1), free(f2), free(keys);
    free(ctext), free(cptr);
    return SK_ENOMEM;
  }
  if (sk_sweep_aggregate(sw, rows, n_rows, st) != SK_OK) {
    sk_errf(err, errlen, "%s: out of memory", path);
    free(pts), free(st), free(tim), free(vals), free(texts), free(f1), free(f2), free(keys);
    free(ctext), free(cptr);
    return SK_ENOMEM;
  }
  size_t n1 = 0, n2 = 0;
  for (size_t p = 0; p < np; p++) {
    pts[p].s = st[p];
    sk_sweep_point_label(sw, p, pts[p].label, sizeof pts[p].label);
    for (size_t k = 0; k < nk; k++) {
      vals[p * nk + k] = sk_sweep_value(sw, p, k);
      snprintf(texts[p * nk + k], SK_SWEEP_VALUE_LEN, "%s", sk_sweep_value_text(sw, p, k));
    }
    if (st[p].front_ttft)
      f1[n1++] = (int32_t)p;
    if (st[p].front_inlet)
      f2[n2++] = (int32_t)p;
  }
  sort_base = st;
  qsort(f1, n1, sizeof *f1, cmp_wh);
  qsort(f2, n2, sizeof *f2, cmp_wh);
  for (size_t i = 0; i < n_rows; i++)
    tim[i] = (timing_row){rows[i].point, rows[i].seed_index, rows[i].wall_s};
  for (size_t k = 0; k < nk; k++)
    keys[k] = sk_sweep_param_key(sw, k);
  for (size_t c = 0; c < nc; c++) {
    sk_sweep_constraint_text(sw, c, ctext[c], sizeof ctext[c]);
    cptr[c] = ctext[c];
  }

  char part[1100];
  snprintf(part, sizeof part, "%s.part", path);
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status rc = SK_EIO;
  const char *what = "cannot create the file";
  hid_t fcpl = sk__h5_ocpl(H5P_FILE_CREATE), gcpl = sk__h5_ocpl(H5P_GROUP_CREATE);
  hid_t file = H5I_INVALID_HID, g = H5I_INVALID_HID, mt = H5I_INVALID_HID, ft = H5I_INVALID_HID;
  hid_t vs = sk__h5_vstr_type(), txt = sk__h5_fixed_str(SK_SWEEP_VALUE_LEN);
  if (fcpl < 0 || gcpl < 0 || vs < 0 || txt < 0 ||
      (file = H5Fcreate(part, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT)) < 0)
    goto done;
  what = "cannot write";
  if (sk__h5_attr_str(file, "format", "skadi-sweep") < 0 ||
      attr_int(file, "format_version", FORMAT_VERSION) ||
      sk__h5_attr_str(file, "name", sk_sweep_name(sw)) < 0 ||
      sk__h5_attr_str(file, "scenario", sk_sweep_scenario_path(sw)) < 0 ||
      sk__h5_attr_str(file, "scenario_name", info->scenario_name) < 0 ||
      sk__h5_attr_str(file, "mode", sk_sweep_mode(sw)) < 0 ||
      sk__h5_attr_str(file, "status", info->status) < 0 ||
      sk__h5_attr_str(file, "skadi_version", info->version) < 0 ||
      attr_int(file, "n_points", (long long)np) ||
      attr_int(file, "n_seeds", (long long)sk_sweep_n_seeds(sw)) ||
      attr_int(file, "n_runs", (long long)sk_sweep_n_runs(sw)) ||
      attr_int(file, "n_rows", (long long)n_rows))
    goto done;
  {
    const char *json = sk_sweep_json(sw);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t ds = sp >= 0 ? H5Dcreate2(file, "sweep", vs, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                       : H5I_INVALID_HID;
    herr_t e = ds >= 0 ? H5Dwrite(ds, vs, H5S_ALL, H5S_ALL, H5P_DEFAULT, &json) : -1;
    sk__h5_close(&ds);
    sk__h5_close(&sp);
    if (e < 0)
      goto done;
  }
  hsize_t d[2];
  mt = runs_type(-1);
  ft = packed(mt);
  d[0] = n_rows;
  if (write_ds(file, "runs", 1, d, ft, mt, rows) < 0)
    goto done;
  sk__h5_close(&mt);
  sk__h5_close(&ft);
  mt = points_type(-1);
  ft = packed(mt);
  d[0] = np;
  if (write_ds(file, "points", 1, d, ft, mt, pts) < 0)
    goto done;
  sk__h5_close(&mt);
  sk__h5_close(&ft);
  if ((g = H5Gcreate2(file, "parameters", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0)
    goto done;
  d[0] = nk;
  if (write_ds(g, "keys", 1, d, vs, vs, keys) < 0)
    goto done;
  d[0] = np;
  d[1] = nk;
  if (write_ds(g, "values", 2, d, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, vals) < 0 ||
      write_ds(g, "text", 2, d, txt, txt, texts) < 0)
    goto done;
  sk__h5_close(&g);
  d[0] = nc;
  if (write_ds(file, "constraints", 1, d, vs, vs, cptr) < 0)
    goto done;
  if ((g = H5Gcreate2(file, "pareto", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0)
    goto done;
  d[0] = n1;
  if (write_ds(g, "ttft", 1, d, H5T_STD_I32LE, H5T_NATIVE_INT32, f1) < 0)
    goto done;
  d[0] = n2;
  if (write_ds(g, "max_inlet", 1, d, H5T_STD_I32LE, H5T_NATIVE_INT32, f2) < 0)
    goto done;
  sk__h5_close(&g);
  mt = timing_type();
  ft = packed(mt);
  d[0] = n_rows;
  if (write_ds(file, "timing", 1, d, ft, mt, tim) < 0)
    goto done;
  {
    hid_t ds = H5Dopen2(file, "timing", H5P_DEFAULT);
    int bad = ds < 0 || attr_dbl(ds, "wall_s", info->wall_s) ||
              attr_int(ds, "workers", info->workers) || sk__h5_attr_str(ds, "how", info->how) < 0;
    sk__h5_close(&ds);
    if (bad)
      goto done;
  }
  rc = SK_OK;
done:
  if (rc != SK_OK)
    sk__h5_fail(err, errlen, part, what);
  sk__h5_close(&g);
  sk__h5_close(&mt);
  sk__h5_close(&ft);
  sk__h5_close(&vs);
  sk__h5_close(&txt);
  sk__h5_close(&fcpl);
  sk__h5_close(&gcpl);
  if (file >= 0 && H5Fclose(file) < 0 && rc == SK_OK) {
    sk__h5_fail(err, errlen, part, "cannot close");
    rc = SK_EIO;
  }
  sk__h5_quiet_end(&q);
  if (rc == SK_OK && rename(part, path) != 0) {
    sk_errf(err, errlen, "%s: cannot move to %s: %s", part, path, strerror(errno));
    rc = SK_EIO;
  }
  if (rc != SK_OK)
    remove(part);
  free(pts), free(st), free(tim), free(vals), free(texts), free(f1), free(f2), free(keys);
  free(ctext), free(cptr);
  return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

void sk_sweep_table_destroy(sk_sweep_table *t) {
  if (!t)
    return;
  free(t->sweep_json);
  free(t->keys);
  free(t->labels);
  free(t->values);
  free(t->points);
  free(t->rows);
  free(t->constraints);
  free(t);
}

static void read_attr_str(hid_t obj, const char *name, char *buf, size_t len) {
  buf[0] = 0;
  if (H5Aexists(obj, name) <= 0)
    return;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a >= 0)
    sk__h5_attr_read_str(a, buf, len);
  sk__h5_close(&a);
}

static int read_attr_num(hid_t obj, const char *name, hid_t mtype, void *out) {
  if (H5Aexists(obj, name) <= 0)
    return -1;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  int rc = a >= 0 && H5Aread(a, mtype, out) >= 0 ? 0 : -1;
  sk__h5_close(&a);
  return rc;
}

/* Length of dataset name's first dimension (0 for a scalar), -1 if it cannot be read. */
static long long ds_len(hid_t loc, const char *name) {
  hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
  hid_t sp = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
  hsize_t d[2] = {0, 0};
  long long n = -1;
  if (sp >= 0 && H5Sget_simple_extent_dims(sp, d, NULL) >= 0)
    n = (long long)d[0];
  sk__h5_close(&sp);
  sk__h5_close(&ds);
  return n;
}

/* The file type of dataset name (caller closes), H5I_INVALID_HID if it cannot be read. */
static hid_t ds_type(hid_t loc, const char *name) {
  hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
  hid_t t = ds >= 0 ? H5Dget_type(ds) : H5I_INVALID_HID;
  sk__h5_close(&ds);
  return t;
}

static int read_ds(hid_t loc, const char *name, hid_t mtype, void *out) {
  hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
  int rc = ds >= 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0 ? 0 : -1;
  sk__h5_close(&ds);
  return rc;
}

/* A vlen string array of n into fixed buffers of width w (each cut to fit). */
static int read_vstr(hid_t loc, const char *name, size_t n, char *out, size_t w) {
  if (n == 0)
    return 0;
  char **p = calloc(n, sizeof *p);
  hid_t vs = sk__h5_vstr_type();
  int rc = -1;
  if (p && vs >= 0 && read_ds(loc, name, vs, p) == 0) {
    for (size_t i = 0; i < n; i++)
      snprintf(out + i * w, w, "%s", p[i] ? p[i] : "");
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : H5I_INVALID_HID;
    if (sp >= 0)
      H5Dvlen_reclaim(vs, sp, H5P_DEFAULT, p);
    sk__h5_close(&sp);
    sk__h5_close(&ds);
    rc = 0;
  }
  sk__h5_close(&vs);
  free(p);
  return rc;
}

sk_status sk_sweep_file_read(const char *path, sk_sweep_table **out, char *err, size_t errlen) {
  *out = NULL;
  sk_status st =
      sk__h5_check_file(path, "a sweep file", "not an HDF5 file (not a sweep file)", err, errlen);
  if (st != SK_OK)
    return st;
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_sweep_table *t = calloc(1, sizeof *t);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t mt = H5I_INVALID_HID, g = H5I_INVALID_HID;
  point_row *pr = NULL;
  timing_row *tr = NULL;
  st = SK_EPARSE;
  char fmt[32];
  if (!t) {
    st = SK_ENOMEM;
    sk_errf(err, errlen, "%s: out of memory", path);
    goto done;
  }
  if (file < 0) {
    sk__h5_fail(err, errlen, path, "cannot open");
    st = SK_EIO;
    goto done;
  }
  read_attr_str(file, "format", fmt, sizeof fmt);
  if (strcmp(fmt, "skadi-sweep") != 0) {
    sk_errf(err, errlen, "%s: not a sweep file (skadi sweep --out): no format \"skadi-sweep\"",
            path);
    goto done;
  }
  long long ver = 0;
  read_attr_num(file, "format_version", H5T_NATIVE_LLONG, &ver);
  if ((st = sk__h5_check_version(ver, FORMAT_VERSION, path, "sweep files", err, errlen)) != SK_OK)
    goto done;
  st = SK_EPARSE;
  read_attr_str(file, "name", t->name, sizeof t->name);
  read_attr_str(file, "status", t->status, sizeof t->status);
  read_attr_str(file, "scenario", t->scenario, sizeof t->scenario);
  read_attr_str(file, "mode", t->mode, sizeof t->mode);
  read_attr_str(file, "scenario_name", t->scenario_name, sizeof t->scenario_name);
  {
    hid_t ds = H5Dopen2(file, "sweep", H5P_DEFAULT);
    hid_t vs = sk__h5_vstr_type();
    char *s = NULL;
    if (ds >= 0 && H5Dread(ds, vs, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0 && s) {
      t->sweep_json = strdup(s);
      hid_t sp = H5Screate(H5S_SCALAR);
      H5Dvlen_reclaim(vs, sp, H5P_DEFAULT, &s);
      sk__h5_close(&sp);
    }
    sk__h5_close(&vs);
    sk__h5_close(&ds);
  }
  long long nr = ds_len(file, "runs"), np = ds_len(file, "points"),
            nc = ds_len(file, "constraints");
  if (!t->sweep_json || nr < 0 || np < 0 || nc < 0 ||
      (g = H5Gopen2(file, "parameters", H5P_DEFAULT)) < 0) {
    sk_errf(err, errlen,
            "%s: a sweep file without its /sweep, /runs, /points, /constraints or "
            "/parameters (damaged?)",
            path);
    goto done;
  }
  long long nk = ds_len(g, "keys");
  t->n_rows = (size_t)nr;
  t->n_points = (size_t)np;
  t->n_params = nk > 0 ? (size_t)nk : 0;
  t->n_constraints = (size_t)nc;
  t->rows = calloc(t->n_rows + 1, sizeof *t->rows);
  t->points = calloc(t->n_points + 1, sizeof *t->points);
  t->labels = calloc(t->n_points + 1, sizeof *t->labels);
  t->keys = calloc(t->n_params + 1, sizeof *t->keys);
  t->values = calloc(t->n_points * t->n_params + 1, sizeof *t->values);
  t->constraints = calloc(t->n_constraints + 1, sizeof *t->constraints);
  pr = calloc(t->n_points + 1, sizeof *pr);
  tr = calloc(t->n_rows + 1, sizeof *tr);
  if (!t->rows || !t->points || !t->labels || !t->keys || !t->values || !t->constraints || !pr ||
      !tr) {
    st = SK_ENOMEM;
    sk_errf(err, errlen, "%s: out of memory", path);
    goto done;
  }
  int bad = 0;
  for (size_t i = 0; i < t->n_rows; i++)
    for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++)
      t->rows[i].m[m] = NAN;
  for (size_t p = 0; p < t->n_points; p++)
    for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++)
      pr[p].s.mean[m] = pr[p].s.sd[m] = pr[p].s.ci95[m] = NAN;
  hid_t have = ds_type(file, "runs");
  mt = runs_type(have);
  bad |= t->n_rows && read_ds(file, "runs", mt, t->rows);
  sk__h5_close(&mt);
  sk__h5_close(&have);
  have = ds_type(file, "points");
  mt = points_type(have);
  bad |= t->n_points && read_ds(file, "points", mt, pr);
  sk__h5_close(&mt);
  sk__h5_close(&have);
  mt = timing_type();
  bad |= t->n_rows && read_ds(file, "timing", mt, tr);
  sk__h5_close(&mt);
  bad |= read_vstr(g, "keys", t->n_params, (char *)t->keys, SK_SWEEP_KEY_LEN);
  bad |= t->n_params && t->n_points && read_ds(g, "values", H5T_NATIVE_DOUBLE, t->values);
  bad |= read_vstr(file, "constraints", t->n_constraints, (char *)t->constraints, 128);
  {
    hid_t ds = H5Dopen2(file, "timing", H5P_DEFAULT);
    if (ds >= 0) {
      read_attr_num(ds, "wall_s", H5T_NATIVE_DOUBLE, &t->wall_s);
      long long w = 0;
      read_attr_num(ds, "workers", H5T_NATIVE_LLONG, &w);
      t->workers = (int)w;
    }
    sk__h5_close(&ds);
  }
  if (bad) {
    sk__h5_fail(err, errlen, path, "cannot read the tables");
    st = SK_EIO;
    goto done;
  }
  for (size_t p = 0; p < t->n_points; p++) {
    t->points[p] = pr[p].s;
    snprintf(t->labels[p], sizeof t->labels[p], "%s", pr[p].label);
  }
  for (size_t i = 0; i < t->n_rows; i++)
    t->rows[i].wall_s = tr[i].wall_s;
  st = SK_OK;
done:
  free(pr);
  free(tr);
  sk__h5_close(&mt);
  sk__h5_close(&g);
  if (file >= 0)
    H5Fclose(file);
  sk__h5_quiet_end(&q);
  if (st != SK_OK) {
    sk_sweep_table_destroy(t);
    return st;
  }
  *out = t;
  return SK_OK;
}
