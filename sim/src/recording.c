/*
 * recording.c -- the recording reader (contract in recording.h, layout in docs/HDF5.md).
 *
 * Open reads everything small at once -- root attributes, /config, /summary, /run_info,
 * /racks -- and opens every table of the schema the file has, checking its fields against
 * the schema: a member is matched by name, and its type class must convert to the
 * schema's (a float or integer for a float64, an integer for an integer, a fixed-length
 * string for text).  The memory type of a table holds only the schema fields the file
 * has; a read zero-fills the caller's rows first and puts NaN in the float fields the file
 * lacks, and HDF5 leaves the bytes outside its memory type alone.  A table that fails
 * these checks keeps its status and message for the first count or read of it, so one bad
 * optional table does not make a whole file unreadable (the report shows the rest).
 *
 * Invariants:
 *   - What makes a file a recording: HDF5, a root format_version this build reads, and
 *     /telemetry/room.  Everything else is optional and reads as absent or empty.
 *   - SWMR: a plain open of a file whose superblock is marked "open for SWMR writing"
 *     fails in HDF5 1.10, and a SWMR open of a damaged file can hang, so the flags are
 *     read from the superblock first and only such a file is opened as a SWMR reader.
 *     Its counts are refreshed (H5Drefresh) on every count and read.
 *   - Memory: the metadata, plus what the caller reads; sk_recording_scan holds one block.
 *
 * Considered and rejected: reading tables into a private row type per caller (the report
 * and the IMS each had one: three lists of the same fields); failing the open on any bad
 * table (a killed or hand-edited file would lose its good tables too); an index of ts per
 * table built at open (a simulated day has 600k rack rows; the search reads a few values
 * of ts); a plain binary search (~20 reads in as many compressed chunks: 20 ms a sample on
 * a simulated day, against ~1 ms now, and a day's replay in 60-sample steps took 3.3 s
 * against 30 ms with interpolation, a bigger chunk cache and the handle's own conversion
 * buffers).
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/recording.h"

#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "skadi/require.h"

#define MAX_FIELDS 32       /* fields of the widest schema table, rounded up */
#define SEARCH_BLOCK 256    /* a search reads the last this many values of ts at once */
#define INTERPOLATE_STEPS 4 /* then it bisects */
/* Chunk cache of each table: a search touches the table's first and last chunks and the
 * one it lands in, which the read that follows wants again.  HDF5's default (1 MiB, 521
 * slots) holds fewer than three rack chunks (352 KiB each, uncompressed). */
#define CACHE_BYTES ((size_t)8 << 20)
#define CACHE_SLOTS 2003
/* Type-conversion buffers of the reads, the handle's own: HDF5 would otherwise allocate
 * and free its default 1 MiB pair on every H5Dread, which made the single-value reads of a
 * search cost ~10 us of brk and page faults each. */
#define CONV_BYTES ((size_t)1 << 20)
#define ERR_LEN 512

typedef struct {
  int present;  /* the file has the dataset */
  sk_status st; /* SK_OK, or why it cannot be read (msg) */
  char msg[ERR_LEN];
  hid_t dset;
  hid_t mtype;                    /* the schema's row struct, fields the file has */
  hid_t ts_mtype;                 /* just ts, as a double; invalid when the file has none */
  unsigned char keep[MAX_FIELDS]; /* schema field i is in the file */
  size_t n_missing;               /* schema fields the file lacks */
  uint64_t n_rows;
} table;

struct sk_recording {
  sk_recording_meta meta; /* points into the fields below */
  hid_t file;
  hid_t dxpl;        /* reads convert in tconv and bkg (or H5P_DEFAULT) */
  void *tconv, *bkg; /* CONV_BYTES each */
  table tables[SK_TABLE_COUNT];
  char *path, *scenario_name, *scenario_json, *skadi_version, *status;
  char **config_keys, **config_values;
  size_t cap_config;
  sk_recorder_figure *summary, *run_info; /* key and unit malloc'd */
  size_t cap_summary, cap_run_info;
  sk_rack_entry *racks;
  char err[ERR_LEN];
};

/* ---- small readers ---------------------------------------------------------------------- */

/* H5Lexists fails, rather than saying no, when a parent group is missing. */
static int has_link(hid_t file, const char *path) {
  char buf[128];
  size_t n = strlen(path);
  if (n >= sizeof buf)
    return 0;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0')
      continue;
    char c = buf[i];
    buf[i] = '\0';
    if (H5Lexists(file, buf, H5P_DEFAULT) <= 0)
      return 0;
    buf[i] = c;
  }
  return 1;
}

/* The scalar attribute name of obj if its type class is one of cls and cls2, else an
 * invalid id (absent, unreadable or of another kind: all "not there" to a reader). */
static hid_t attr_open(hid_t obj, const char *name, H5T_class_t cls, H5T_class_t cls2) {
  if (obj < 0 || H5Aexists(obj, name) <= 0)
    return H5I_INVALID_HID;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = a < 0 ? H5I_INVALID_HID : H5Aget_type(a);
  hid_t s = a < 0 ? H5I_INVALID_HID : H5Aget_space(a);
  H5T_class_t c = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
  int ok = s >= 0 && H5Sget_simple_extent_type(s) == H5S_SCALAR && (c == cls || c == cls2);
  sk__h5_close(&t);
  sk__h5_close(&s);
  if (!ok)
    sk__h5_close(&a);
  return a;
}

/* A numeric attribute read as memory type mtype into v; returns 1 when read. */
static int attr_num(hid_t obj, const char *name, hid_t mtype, void *v) {
  hid_t a = attr_open(obj, name, H5T_FLOAT, H5T_INTEGER);
  int ok = a >= 0 && H5Aread(a, mtype, v) >= 0;
  sk__h5_close(&a);
  return ok;
}

/* A string attribute in new memory, or NULL. */
static char *attr_text(hid_t obj, const char *name) {
  hid_t a = attr_open(obj, name, H5T_STRING, H5T_STRING);
  char *s = a < 0 ? NULL : sk__h5_attr_dup_str(a);
  sk__h5_close(&a);
  return s;
}

/* Grows *p (elements of size sz, *cap of them) to hold n + 1; 0 or -1 out of memory. */
static int grow(void **p, size_t *cap, size_t n, size_t sz) {
  if (n < *cap)
    return 0;
  size_t want = *cap ? *cap * 2 : 16;
  void *q = realloc(*p, want * sz);
  if (!q)
    return -1;
  *p = q;
  *cap = want;
  return 0;
}

/* Attributes in the order they were written when the file tracks it (the recorder's
 * do), else by name. */
static H5_index_t attr_order(hid_t obj) {
  hid_t p = H5Gget_create_plist(obj);
  unsigned flags = 0;
  if (p >= 0 && H5Pget_attr_creation_order(p, &flags) < 0)
    flags = 0;
  sk__h5_close(&p);
  return flags & H5P_CRT_ORDER_INDEXED ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
}

/* ---- groups of attributes -------------------------------------------------------------- */

/* H5Aiterate2 callbacks return 1 when out of memory (a positive value stops the iteration
 * and comes back from H5Aiterate2, which gives negative values for its own failures). */
#define CB_NOMEM 1

/* H5Aiterate2 callback for /config: every string attribute is a setting. */
static herr_t config_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
  (void)info;
  sk_recording *r = data;
  char *v = attr_text(loc, name);
  if (!v)
    return 0; /* not a string: not a setting */
  char *k = strdup(name);
  /* The two arrays grow in step: keys with a copy of the capacity, values with it. */
  size_t n = r->meta.n_config, cap = r->cap_config;
  if (!k || grow((void **)&r->config_keys, &cap, n, sizeof *r->config_keys) != 0 ||
      grow((void **)&r->config_values, &r->cap_config, n, sizeof *r->config_values) != 0) {
    free(k);
    free(v);
    return CB_NOMEM;
  }
  r->config_keys[n] = k;
  r->config_values[n] = v;
  r->meta.n_config = n + 1;
  return 0;
}

typedef struct {
  sk_recorder_figure **figs;
  size_t *n, *cap;
} figure_list;

/* H5Aiterate2 callback for /summary and /run_info: "<key>" numbers with "<key>_units". */
static herr_t figure_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
  (void)info;
  figure_list *l = data;
  size_t len = strlen(name);
  double v;
  if ((len >= 6 && strcmp(name + len - 6, "_units") == 0) ||
      !attr_num(loc, name, H5T_NATIVE_DOUBLE, &v))
    return 0;
  char uname[300];
  snprintf(uname, sizeof uname, "%s_units", name);
  char *unit = attr_text(loc, uname);
  char *key = strdup(name);
  if (!unit)
    unit = strdup("");
  if (!key || !unit || grow((void **)l->figs, l->cap, *l->n, sizeof **l->figs) != 0) {
    free(key);
    free(unit);
    return CB_NOMEM;
  }
  (*l->figs)[(*l->n)++] = (sk_recorder_figure){key, v, unit};
  return 0;
}

/* Runs cb over the attributes of group path when the file has it; *has says whether it
 * does.  Returns -1 when cb ran out of memory; a group HDF5 cannot list gives what was
 * read of it. */
static int read_group(sk_recording *r, const char *path, int *has, H5A_operator2_t cb, void *data) {
  *has = has_link(r->file, path);
  hid_t g = *has ? H5Gopen2(r->file, path, H5P_DEFAULT) : H5I_INVALID_HID;
  if (g < 0)
    return 0;
  herr_t rc = H5Aiterate2(g, attr_order(g), H5_ITER_INC, NULL, cb, data);
  sk__h5_close(&g);
  return rc == CB_NOMEM ? -1 : 0;
}

/* ---- tables ------------------------------------------------------------------------------ */

/* Keeps st and "<path>: <what>" in t for the first count or read of it. */
static sk_status table_fail(sk_recording *r, table *t, sk_status st, const char *fmt, ...)
    SK_PRINTF_LIKE(4, 5);
static sk_status table_fail(sk_recording *r, table *t, sk_status st, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(t->msg, sizeof t->msg, "%s: %s", r->path, what);
  t->st = st;
  return st;
}

/* Whether the file's member class cls converts to the schema's type. */
static int converts(sk_field_type type, H5T_class_t cls, hid_t member) {
  switch (type) {
  case SK_FIELD_F64:
    return cls == H5T_FLOAT || cls == H5T_INTEGER;
  case SK_FIELD_I32:
  case SK_FIELD_I64:
    return cls == H5T_INTEGER;
  case SK_FIELD_STR:
    return cls == H5T_STRING && H5Tis_variable_str(member) == 0;
  }
  return 0;
}

/* Opens table id if the file has it and checks it against the schema; a failure stays
 * in the table for the first count or read. */
static void table_open(sk_recording *r, sk_table_id id) {
  const sk_schema_table *s = &sk_schema_tables[id];
  table *t = &r->tables[id];
  SK_REQUIRE(s->n_fields <= MAX_FIELDS);
  if (!has_link(r->file, s->path))
    return;
  t->present = 1;
  hid_t ft = H5I_INVALID_HID, sp = H5I_INVALID_HID;
  hsize_t dims = 0;
  hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
  if (dapl >= 0 && H5Pset_chunk_cache(dapl, CACHE_SLOTS, CACHE_BYTES, 1.0) < 0)
    sk__h5_close(&dapl);
  t->dset = H5Dopen2(r->file, s->path, dapl >= 0 ? dapl : H5P_DEFAULT);
  sk__h5_close(&dapl);
  if (t->dset < 0) {
    char what[128];
    snprintf(what, sizeof what, "%s: cannot open", s->path);
    sk__h5_fail(t->msg, sizeof t->msg, r->path, what);
    t->st = sk__h5_read_status();
    goto out;
  }
  if ((ft = H5Dget_type(t->dset)) < 0 || H5Tget_class(ft) != H5T_COMPOUND) {
    table_fail(r, t, SK_EPARSE, "%s: not a table (compound dataset)", s->path);
    goto out;
  }
  if ((sp = H5Dget_space(t->dset)) < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
      H5Sget_simple_extent_dims(sp, &dims, NULL) < 0) {
    table_fail(r, t, SK_EPARSE, "%s: not a 1-D table", s->path);
    goto out;
  }
  t->n_rows = dims;
  for (size_t i = 0; i < s->n_fields; i++) {
    const sk_schema_field *f = &s->fields[i];
    int idx = H5Tget_member_index(ft, f->name);
    if (idx < 0) {
      t->n_missing++;
      continue;
    }
    hid_t m = H5Tget_member_type(ft, (unsigned)idx);
    int ok = m >= 0 && converts(f->type, H5Tget_member_class(ft, (unsigned)idx), m);
    sk__h5_close(&m);
    if (!ok) {
      table_fail(r, t, SK_EPARSE, "%s: field %s is not %s", s->path, f->name,
                 f->type == SK_FIELD_STR   ? "a fixed-length string"
                 : f->type == SK_FIELD_F64 ? "a number"
                                           : "an integer");
      goto out;
    }
    t->keep[i] = 1;
  }
  if (t->n_missing == s->n_fields) {
    table_fail(r, t, SK_EPARSE, "%s: has none of the schema's fields", s->path);
    goto out;
  }
  if ((t->mtype = sk__h5_row_type(s, 0, t->keep)) < 0) {
    sk__h5_fail(t->msg, sizeof t->msg, r->path, "cannot make a memory type");
    t->st = SK_EIO;
    goto out;
  }
  const sk_schema_field *ts = sk_schema_field_find(s, "ts");
  if (ts && t->keep[ts - s->fields] &&
      ((t->ts_mtype = H5Tcreate(H5T_COMPOUND, sizeof(double))) < 0 ||
       H5Tinsert(t->ts_mtype, "ts", 0, H5T_NATIVE_DOUBLE) < 0)) {
    sk__h5_fail(t->msg, sizeof t->msg, r->path, "cannot make a memory type");
    t->st = SK_EIO;
  }
out:
  sk__h5_close(&sp);
  sk__h5_close(&ft);
}

/* Ready to read: the table's status, and for a live file its rows refreshed. */
static sk_status table_ready(sk_recording *r, sk_table_id id) {
  SK_REQUIRE((int)id >= 0 && id < SK_TABLE_COUNT);
  table *t = &r->tables[id];
  if (t->st != SK_OK) {
    snprintf(r->err, sizeof r->err, "%s", t->msg);
    return t->st;
  }
  if (!t->present || !r->meta.live)
    return SK_OK;
  hid_t sp = H5I_INVALID_HID;
  hsize_t dims = 0;
  if (H5Drefresh(t->dset) < 0 || (sp = H5Dget_space(t->dset)) < 0 ||
      H5Sget_simple_extent_dims(sp, &dims, NULL) < 0) {
    char what[128];
    snprintf(what, sizeof what, "%s: cannot refresh", sk_schema_tables[id].path);
    sk__h5_fail(r->err, sizeof r->err, r->path, what);
    sk_status st = sk__h5_read_status();
    sk__h5_close(&sp);
    return st;
  }
  sk__h5_close(&sp);
  t->n_rows = dims;
  return SK_OK;
}

/* Reads rows [first, first + n) of an open table with memory type mtype into buf; the
 * caller checked the range. */
static sk_status read_block(sk_recording *r, sk_table_id id, hid_t mtype, uint64_t first, size_t n,
                            void *buf) {
  hsize_t start = first, count = n;
  hid_t fs = H5Dget_space(r->tables[id].dset), ms = H5I_INVALID_HID;
  sk_status st = SK_OK;
  if (fs < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
      (ms = H5Screate_simple(1, &count, NULL)) < 0 ||
      H5Dread(r->tables[id].dset, mtype, ms, fs, r->dxpl, buf) < 0) {
    char what[128];
    snprintf(what, sizeof what, "%s: cannot read rows", sk_schema_tables[id].path);
    sk__h5_fail(r->err, sizeof r->err, r->path, what);
    st = sk__h5_read_status();
  }
  sk__h5_close(&ms);
  sk__h5_close(&fs);
  return st;
}

static sk_status read_rows(sk_recording *r, sk_table_id id, uint64_t first, size_t n, void *rows) {
  sk_status st = table_ready(r, id);
  if (st != SK_OK)
    return st;
  const sk_schema_table *s = &sk_schema_tables[id];
  const table *t = &r->tables[id];
  if (first > t->n_rows || n > t->n_rows - first) {
    snprintf(r->err, sizeof r->err, "%s: %s: rows %llu..%llu asked, the table has %llu", r->path,
             s->path, (unsigned long long)first, (unsigned long long)(first + n),
             (unsigned long long)t->n_rows);
    return SK_ERANGE;
  }
  unsigned char *p = rows;
  memset(p, 0, n * s->row_size);
  for (size_t i = 0; t->n_missing && i < s->n_fields; i++) {
    if (t->keep[i] || s->fields[i].type != SK_FIELD_F64)
      continue;
    const double nan = NAN;
    for (size_t k = 0; k < n; k++)
      memcpy(p + k * s->row_size + s->fields[i].offset, &nan, sizeof nan);
  }
  return n ? read_block(r, id, t->mtype, first, n, rows) : SK_OK;
}

/* ---- opening ----------------------------------------------------------------------------- */

static sk_status open_file(sk_recording *r, char *err, size_t errlen) {
  const char *path = r->path;
  sk_status st = sk__h5_check_file(path, "a recording", "not a skadi recording (not an HDF5 file)",
                                   err, errlen);
  if (st != SK_OK)
    return st;
  int flags = sk__h5_superblock_flags(path);
  r->meta.live = flags > 0 && (flags & SK__H5_SB_SWMR_WRITE);
  unsigned mode = r->meta.live ? H5F_ACC_RDONLY | H5F_ACC_SWMR_READ : H5F_ACC_RDONLY;
  if ((r->file = H5Fopen(path, mode, H5P_DEFAULT)) < 0) {
    if (flags > 0 && (flags & SK__H5_SB_WRITE))
      sk_errf(err, errlen,
              "%s: cannot open: the file is marked open for writing, by a writer that is "
              "still going or one that died (`h5clear -s` clears the mark)",
              path);
    else
      sk__h5_fail(err, errlen, path, "cannot open");
    return sk__h5_read_status();
  }
  int64_t version = 0;
  hid_t a = attr_open(r->file, "format_version", H5T_INTEGER, H5T_INTEGER);
  int have = a >= 0 && H5Aread(a, H5T_NATIVE_INT64, &version) >= 0;
  sk__h5_close(&a);
  if (!have) {
    sk_errf(err, errlen, "%s: not a skadi recording (no format_version)", path);
    return SK_EPARSE;
  }
  if ((st = sk__h5_check_version(version, SK_RECORDER_FORMAT_VERSION, path, "recordings", err,
                                 errlen)) != SK_OK)
    return st;
  r->meta.format_version = (int)version;
  if (!has_link(r->file, sk_schema_tables[SK_TABLE_ROOM].path)) {
    sk_errf(err, errlen, "%s: not a skadi recording (no %s)", path,
            sk_schema_tables[SK_TABLE_ROOM].path);
    return SK_EPARSE;
  }
  return SK_OK;
}

/* The handle's conversion buffers, and the transfer list that hands them to HDF5 (reads
 * fall back to HDF5's own buffers if it cannot be made).  SK_ENOMEM or SK_OK. */
static sk_status conv_buffers(sk_recording *r) {
  if (!(r->tconv = malloc(CONV_BYTES)) || !(r->bkg = malloc(CONV_BYTES)))
    return SK_ENOMEM;
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (dxpl >= 0 && H5Pset_buffer(dxpl, CONV_BYTES, r->tconv, r->bkg) >= 0)
    r->dxpl = dxpl;
  else
    sk__h5_close(&dxpl);
  return SK_OK;
}

/* Everything but the tables' rows. */
static sk_status read_meta(sk_recording *r) {
  sk_recording_meta *m = &r->meta;
  m->scenario_name = r->scenario_name = attr_text(r->file, "scenario_name");
  m->scenario_json = r->scenario_json = attr_text(r->file, "scenario_json");
  m->skadi_version = r->skadi_version = attr_text(r->file, "skadi_version");
  m->has_seed = attr_num(r->file, "seed", H5T_NATIVE_UINT64, &m->seed);
  if (!attr_num(r->file, "duration_s", H5T_NATIVE_DOUBLE, &m->duration_s))
    m->duration_s = NAN;
  if (!attr_num(r->file, "sample_period_s", H5T_NATIVE_DOUBLE, &m->sample_period_s))
    m->sample_period_s = NAN;

  figure_list summary = {&r->summary, &m->n_summary, &r->cap_summary};
  figure_list run_info = {&r->run_info, &m->n_run_info, &r->cap_run_info};
  if (read_group(r, "/config", &m->has_config, config_cb, r) < 0 ||
      read_group(r, "/summary", &m->has_summary, figure_cb, &summary) < 0 ||
      read_group(r, "/run_info", &m->has_run_info, figure_cb, &run_info) < 0)
    return SK_ENOMEM;
  m->config_keys = (const char *const *)r->config_keys;
  m->config_values = (const char *const *)r->config_values;
  m->summary = r->summary;
  m->run_info = r->run_info;
  if (m->has_run_info) {
    hid_t g = H5Gopen2(r->file, "/run_info", H5P_DEFAULT);
    m->status = r->status = attr_text(g, "status");
    sk__h5_close(&g);
  }

  for (int i = 0; i < SK_TABLE_COUNT; i++)
    table_open(r, (sk_table_id)i);
  const table *layout = &r->tables[SK_TABLE_RACK_LAYOUT];
  if (layout->st == SK_OK && layout->n_rows > 0) {
    if (!(r->racks = malloc(layout->n_rows * sizeof *r->racks)))
      return SK_ENOMEM;
    if (read_rows(r, SK_TABLE_RACK_LAYOUT, 0, layout->n_rows, r->racks) == SK_OK) {
      m->racks = r->racks;
      m->n_racks = layout->n_rows;
    }
    r->err[0] = '\0'; /* a count of the layout says it again */
  }
  return SK_OK;
}

sk_status sk_recording_open(sk_recording **out, const char *path, char *err, size_t errlen) {
  SK_REQUIRE(out && path);
  *out = NULL;
  sk_errf(err, errlen, "%s", "");
  sk_recording *r = calloc(1, sizeof *r);
  if (!r || !(r->path = strdup(path))) {
    free(r);
    sk_errf(err, errlen, "%s: out of memory", path);
    return SK_ENOMEM;
  }
  r->meta.path = r->path;
  r->file = H5I_INVALID_HID;
  r->dxpl = H5P_DEFAULT;
  for (int i = 0; i < SK_TABLE_COUNT; i++)
    r->tables[i] =
        (table){.dset = H5I_INVALID_HID, .mtype = H5I_INVALID_HID, .ts_mtype = H5I_INVALID_HID};
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = open_file(r, err, errlen);
  if (st == SK_OK && ((st = conv_buffers(r)) != SK_OK || (st = read_meta(r)) != SK_OK))
    sk_errf(err, errlen, "%s: out of memory", path);
  sk__h5_quiet_end(&q);
  if (st != SK_OK) {
    sk_recording_close(r);
    return st;
  }
  *out = r;
  return SK_OK;
}

static void free_figures(sk_recorder_figure *f, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free((void *)f[i].key);
    free((void *)f[i].unit);
  }
  free(f);
}

void sk_recording_close(sk_recording *r) {
  if (!r)
    return;
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  for (int i = 0; i < SK_TABLE_COUNT; i++) {
    sk__h5_close(&r->tables[i].ts_mtype);
    sk__h5_close(&r->tables[i].mtype);
    sk__h5_close(&r->tables[i].dset);
  }
  if (r->dxpl != H5P_DEFAULT)
    sk__h5_close(&r->dxpl);
  sk__h5_close(&r->file);
  sk__h5_quiet_end(&q);
  free(r->tconv);
  free(r->bkg);
  for (size_t i = 0; i < r->meta.n_config; i++) {
    free(r->config_keys[i]);
    free(r->config_values[i]);
  }
  free(r->config_keys);
  free(r->config_values);
  free_figures(r->summary, r->meta.n_summary);
  free_figures(r->run_info, r->meta.n_run_info);
  free(r->racks);
  free(r->scenario_name);
  free(r->scenario_json);
  free(r->skadi_version);
  free(r->status);
  free(r->path);
  free(r);
}

/* ---- metadata ---------------------------------------------------------------------------- */

const sk_recording_meta *sk_recording_metadata(const sk_recording *r) {
  SK_REQUIRE(r);
  return &r->meta;
}

const char *sk_recording_config(const sk_recording *r, const char *key) {
  SK_REQUIRE(r && key);
  for (size_t i = 0; i < r->meta.n_config; i++)
    if (strcmp(r->config_keys[i], key) == 0)
      return r->config_values[i];
  return NULL;
}

sk_status sk_recording_config_f64(sk_recording *r, const char *key, double *v) {
  SK_REQUIRE(r && key && v);
  r->err[0] = '\0';
  *v = NAN;
  const char *text = sk_recording_config(r, key);
  if (!text) {
    snprintf(r->err, sizeof r->err, "%s: /config: attribute %s missing", r->path, key);
    return SK_ENOTFOUND;
  }
  char *end;
  double x = strtod(text, &end);
  if (end == text || *end || !isfinite(x)) {
    snprintf(r->err, sizeof r->err, "%s: /config: %s = '%s' is not a number", r->path, key, text);
    return SK_EPARSE;
  }
  *v = x;
  return SK_OK;
}

const sk_recorder_figure *sk_recording_figure(const sk_recorder_figure *figs, size_t n,
                                              const char *key) {
  SK_REQUIRE((figs || !n) && key);
  for (size_t i = 0; i < n; i++)
    if (strcmp(figs[i].key, key) == 0)
      return &figs[i];
  return NULL;
}

/* ---- rows -------------------------------------------------------------------------------- */

int sk_recording_has_table(const sk_recording *r, sk_table_id id) {
  SK_REQUIRE(r && (int)id >= 0 && id < SK_TABLE_COUNT);
  return r->tables[id].present;
}

int sk_recording_has_field(const sk_recording *r, sk_table_id id, const char *name) {
  SK_REQUIRE(r && (int)id >= 0 && id < SK_TABLE_COUNT && name);
  const table *t = &r->tables[id];
  const sk_schema_field *f = sk_schema_field_find(&sk_schema_tables[id], name);
  return t->present && t->st == SK_OK && f && t->keep[f - sk_schema_tables[id].fields];
}

sk_status sk_recording_count(sk_recording *r, sk_table_id id, uint64_t *n) {
  SK_REQUIRE(r && n);
  r->err[0] = '\0';
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = table_ready(r, id);
  sk__h5_quiet_end(&q);
  *n = st == SK_OK ? r->tables[id].n_rows : 0;
  return st;
}

sk_status sk_recording_read(sk_recording *r, sk_table_id id, uint64_t first, size_t n, void *rows) {
  SK_REQUIRE(r && (rows || n == 0));
  r->err[0] = '\0';
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = read_rows(r, id, first, n, rows);
  sk__h5_quiet_end(&q);
  return st;
}

static sk_status scan(sk_recording *r, sk_table_id id, size_t block_rows, sk_recording_rows_fn fn,
                      void *ud) {
  sk_status st = table_ready(r, id);
  if (st != SK_OK)
    return st;
  const sk_schema_table *s = &sk_schema_tables[id];
  uint64_t total = r->tables[id].n_rows;
  if (total == 0)
    return SK_OK;
  size_t cap = total < block_rows ? (size_t)total : block_rows;
  void *buf = malloc(cap * s->row_size);
  if (!buf) {
    snprintf(r->err, sizeof r->err, "%s: %s: out of memory", r->path, s->path);
    return SK_ENOMEM;
  }
  for (uint64_t first = 0; first < total && st == SK_OK; first += cap) {
    size_t n = total - first < cap ? (size_t)(total - first) : cap;
    if ((st = read_rows(r, id, first, n, buf)) == SK_OK)
      st = fn(ud, buf, n);
  }
  free(buf);
  return st;
}

sk_status sk_recording_scan(sk_recording *r, sk_table_id id, size_t block_rows,
                            sk_recording_rows_fn fn, void *ud) {
  SK_REQUIRE(r && block_rows >= 1 && fn);
  r->err[0] = '\0';
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = scan(r, id, block_rows, fn, ud);
  sk__h5_quiet_end(&q);
  return st;
}

/* ts of row i into *v. */
static sk_status read_ts(sk_recording *r, sk_table_id id, uint64_t i, double *v) {
  return read_block(r, id, r->tables[id].ts_mtype, i, 1, v);
}

/* The first row from row `from` on whose ts is not below x (n_rows when none).  ts ascends
 * and, in the tables a run writes, grows about evenly with the row, so the search first
 * interpolates between the rows it knows on either side (a sample's rows are found in one
 * or two reads, in a chunk HDF5 then has cached) and bisects when that has not converged
 * after INTERPOLATE_STEPS reads: O(log rows) reads at worst. */
static sk_status lower_bound(sk_recording *r, sk_table_id id, double x, uint64_t from,
                             uint64_t *at) {
  uint64_t n = r->tables[id].n_rows;
  double ta, tb, ts[SEARCH_BLOCK];
  sk_status st;
  *at = from < n ? from : n;
  if (from >= n || (st = read_ts(r, id, from, &ta)) != SK_OK)
    return from >= n ? SK_OK : st;
  if (!(ta < x))
    return SK_OK;
  if ((st = read_ts(r, id, n - 1, &tb)) != SK_OK)
    return st;
  if (tb < x) {
    *at = n;
    return SK_OK;
  }
  uint64_t a = from, b = n - 1; /* ts[a] < x <= ts[b] */
  for (int step = 0; b - a > SEARCH_BLOCK; step++) {
    uint64_t g = a + (b - a) / 2;
    double f = (x - ta) / (tb - ta);
    if (step < INTERPOLATE_STEPS && f > 0 && f < 1) {
      g = a + (uint64_t)(f * (double)(b - a));
      g = g <= a ? a + 1 : g >= b ? b - 1 : g;
    }
    double v;
    if ((st = read_ts(r, id, g, &v)) != SK_OK)
      return st;
    if (v < x) {
      a = g;
      ta = v;
    } else {
      b = g;
      tb = v;
    }
  }
  size_t k = (size_t)(b - a), i = 0; /* the answer is in (a, b] */
  if ((st = read_block(r, id, r->tables[id].ts_mtype, a + 1, k, ts)) != SK_OK)
    return st;
  while (i < k && ts[i] < x)
    i++;
  *at = a + 1 + i;
  return SK_OK;
}

static sk_status find(sk_recording *r, sk_table_id id, double from_s, double to_s, uint64_t *first,
                      uint64_t *n) {
  sk_status st = table_ready(r, id);
  if (st != SK_OK)
    return st;
  const table *t = &r->tables[id];
  if (t->present && t->ts_mtype < 0) {
    snprintf(r->err, sizeof r->err, "%s: %s: no ts field to search", r->path,
             sk_schema_tables[id].path);
    return SK_EPARSE;
  }
  uint64_t end = 0;
  if ((st = lower_bound(r, id, from_s, 0, first)) != SK_OK ||
      (st = lower_bound(r, id, to_s, *first, &end)) != SK_OK)
    return st;
  *n = end > *first ? end - *first : 0;
  return SK_OK;
}

sk_status sk_recording_find(sk_recording *r, sk_table_id id, double from_s, double to_s,
                            uint64_t *first, uint64_t *n) {
  SK_REQUIRE(r && first && n && (int)id >= 0 && id < SK_TABLE_COUNT);
  SK_REQUIRE(sk_schema_field_find(&sk_schema_tables[id], "ts") && "table without ts");
  r->err[0] = '\0';
  *first = *n = 0;
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = find(r, id, from_s, to_s, first, n);
  sk__h5_quiet_end(&q);
  if (st != SK_OK)
    *first = *n = 0;
  return st;
}

sk_status sk_recording_find_at(sk_recording *r, sk_table_id id, double ts_s, uint64_t *first,
                               uint64_t *n) {
  return sk_recording_find(r, id, ts_s, nextafter(ts_s, INFINITY), first, n);
}

const char *sk_recording_error(const sk_recording *r) {
  SK_REQUIRE(r);
  return r->err;
}
