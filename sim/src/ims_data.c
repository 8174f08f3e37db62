/*
 * ims_data.c -- the data an IMS model is trained on and scores: a recording of `skadi
 * run` or a CSV file, read into one row-major matrix (contracts in ims_store.h, rules for
 * users in docs/IMS.md).
 *
 * Both sources end in one matrix with NaN for a missing value, per-row ts and rack_id,
 * and the seed's nominal flag computed from the full rack vector even when fewer features
 * are selected (the filter is about the rack's state, not about the model's inputs).  The
 * nominal filter's settings come from the recording's own /config -- a run at INLET_MAX_C
 * 27 is judged at 27 -- and for CSV from the environment over the seed's defaults, since a
 * CSV carries no settings.  Recordings are read through the recording reader
 * (recording.h) in blocks of BLOCK_ROWS rows, so memory is the kept rows plus one block;
 * each rack row becomes its vector by ims_features.c, as the twin's live rows do.
 *
 * CSV files are streamed through the shared reader (skadi/csv.h: RFC 4180 quoting, LF or
 * CRLF, a byte-order mark, blank lines), so memory is the kept rows plus one record, and
 * their civil times go through the shared time-stamp parser (skadi/timestamp.h), the
 * mixer's and the trace loader's, so the three cannot disagree about a date.  The
 * delimiter is sniffed, and trailing non-data lines (SQL Server's "(15277 rows affected)")
 * are skipped and counted unless strict.  The time column is the first of `ts`,
 * `timestamp`, `time`, `datetime` (any case) the header has.  A civil time -- 'T' or a
 * space, Z, an offset, or no zone (the caller's zone, else UTC) -- and a Unix time of 1e9 s
 * or more (2001 on; ms from 1e11 on, skadi/timestamp.h's SK_TIME_UNIX_AUTO) become seconds
 * since 1970-01-01T00:00:00Z; any other number is seconds as written, in any origin (the
 * seed and `skadi ims score` write seconds since the run's start), read as a value
 * (sk_csv_number: a sign and an exponent are fine).  Summaries print a column of
 * calendar times only as ISO 8601 (ts_epoch).  Rows out of time
 * order are sorted stably after reading (exports are often newest first).  Messages keep this
 * loader's own form,
 * "<path>:<line>:<column>: <name>: <reason>" with the byte column (docs/IMS.md shows
 * them); the reader's own syntax errors (a quote never closed, a NUL byte) read as the
 * reader words them.
 *
 * Considered and rejected: CSV columns derived on the fly (delta_t_c from inlet/outlet,
 * gpu_kw from gpu_energy_j): a CSV has no sample period to turn energy into power, and
 * silent derivations hide a misnamed column.
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/ims_store.h"

#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h5util.h"
#include "ims_int.h"
#include "skadi/csv.h"
#include "skadi/recording.h"
#include "skadi/require.h"
#include "skadi/scenario.h"
#include "skadi/timestamp.h"

#define BLOCK_ROWS 65536 /* recording rows read at a time */

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
    const char *name = o->features ? o->features[i] : sk_ims_rack_feature_name(i);
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

/* The window, the growing arrays and the feature columns of a scan of /telemetry/racks. */
typedef struct {
  sk_ims_data *d;
  const sk_ims_data_opts *o;
  grow_state gs;
  const int *col; /* rack feature of each requested feature */
} rack_scan;

static sk_status rack_rows(void *ud, const void *rows, size_t n) {
  rack_scan *s = ud;
  sk_ims_data *d = s->d;
  const sk_rack_sample *row = rows;
  for (size_t r = 0; r < n; r++, row++) {
    d->n_read++;
    if (!in_window(s->o, row->ts))
      continue;
    sk_status st = reserve(d, &s->gs, d->n_rows + 1);
    if (st != SK_OK)
      return st;
    double v[SK_IMS_N_RACK_FEATURES];
    sk_ims_rack_vector(row, d->sample_period_s, v);
    size_t i = d->n_rows++;
    for (int j = 0; j < d->n_features; j++)
      d->x[i * (size_t)d->n_features + (size_t)j] = v[s->col[j]];
    d->ts[i] = row->ts;
    memset(d->rack_id[i], 0, SK_IMS_ID_LEN);
    memcpy(d->rack_id[i], row->rack_id, strnlen(row->rack_id, SK_RACK_ID_LEN));
    d->nominal[i] = (signed char)(sk_ims_nominal_rack(v, d->inlet_max_c, d->sla_latency_ms,
                                                      d->idle_kw_per_server * row->n_servers,
                                                      d->rack_kw_cap) != 0);
  }
  return SK_OK;
}

/* The recording's own settings for the nominal filter (/config, as text). */
static sk_status recording_settings(sk_ims_data *d, sk_recording *rec, char *err, size_t errlen) {
  const char *path = sk_recording_metadata(rec)->path;
  double gpus, gpu_idle_w, host_idle_w, fan_base_w, psu_eff;
  const struct {
    const char *key;
    double *v;
  } keys[] = {
      {"settings.inlet_max_c", &d->inlet_max_c},
      {"settings.sla_latency_ms", &d->sla_latency_ms},
      {"settings.rack_kw_cap", &d->rack_kw_cap},
      {"settings.ims_tau_fast_percentile", &d->tau_fast_percentile},
      {"settings.ims_tau_persist_percentile", &d->tau_persist_percentile},
      {"server.gpus", &gpus},
      {"server.gpu_idle_w", &gpu_idle_w},
      {"server.host_idle_w", &host_idle_w},
      {"server.fan_base_w", &fan_base_w},
      {"server.psu_eff", &psu_eff},
  };
  if (!sk_recording_metadata(rec)->has_config) {
    sk_errf(err, errlen, "%s: no /config group (settings of the run)", path);
    return SK_EPARSE;
  }
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (sk_recording_config_f64(rec, keys[i].key, keys[i].v) != SK_OK) {
      sk_errf(err, errlen, "%s", sk_recording_error(rec));
      return SK_EPARSE;
    }
  if (!(psu_eff > 0)) {
    sk_errf(err, errlen, "%s: /config: server.psu_eff = %g, must be > 0", path, psu_eff);
    return SK_EPARSE;
  }
  d->idle_kw_per_server = sk_ims_server_idle_kw(gpus, gpu_idle_w, host_idle_w, fan_base_w, psu_eff);
  return SK_OK;
}

/* Every feature asked for must be a rack feature, and the recording must have every
 * field of /telemetry/racks (the rack vector and the filter read them all). */
static sk_status check_rack_table(sk_ims_data *d, sk_recording *rec, int *col, char *err,
                                  size_t errlen) {
  const char *path = sk_recording_metadata(rec)->path;
  const sk_schema_table *t = &sk_schema_tables[SK_TABLE_RACKS];
  if (!sk_recording_has_table(rec, SK_TABLE_RACKS)) {
    sk_errf(err, errlen, "%s: not a skadi recording: no %s table", path, t->path);
    return SK_EPARSE;
  }
  for (int i = 0; i < d->n_features; i++)
    if ((col[i] = sk_ims_rack_feature_index(d->feature[i])) < 0) {
      char list[256] = "";
      for (int j = 0; j < SK_IMS_N_RACK_FEATURES; j++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
                 sk_ims_rack_feature_name(j));
      sk_errf(err, errlen, "%s: feature '%s' is not a rack feature of a recording (%s)", path,
              d->feature[i], list);
      return SK_EINVAL;
    }
  uint64_t n;
  sk_status st = sk_recording_count(rec, SK_TABLE_RACKS, &n);
  if (st != SK_OK) {
    sk_errf(err, errlen, "%s", sk_recording_error(rec));
    return st;
  }
  for (size_t i = 0; i < t->n_fields; i++)
    if (!sk_recording_has_field(rec, SK_TABLE_RACKS, t->fields[i].name)) {
      sk_errf(err, errlen, "%s: %s: no field %s", path, t->path, t->fields[i].name);
      return SK_EPARSE;
    }
  return SK_OK;
}

static sk_status load_recording(sk_ims_data *d, const char *path, const sk_ims_data_opts *o,
                                char *err, size_t errlen) {
  d->kind = SK_IMS_DATA_RECORDING;
  d->has_ts = 1;
  int col[SK_IMS_MAX_FEATURES];
  sk_recording *rec = NULL;
  sk_status st = sk_recording_open(&rec, path, err, errlen);
  if (st == SK_EPARSE && sk__ims_is_model_file(path)) {
    sk_errf(err, errlen, "%s: is an IMS model file, not data (a recording or CSV)", path);
    return SK_EPARSE;
  }
  if (st != SK_OK)
    return st;
  if ((st = check_rack_table(d, rec, col, err, errlen)) != SK_OK)
    goto done;
  d->sample_period_s = sk_recording_metadata(rec)->sample_period_s;
  if (!(d->sample_period_s > 0) || !isfinite(d->sample_period_s)) {
    sk_errf(err, errlen, "%s: /: sample_period_s = %g, must be > 0", path, d->sample_period_s);
    st = SK_EPARSE;
    goto done;
  }
  if ((st = recording_settings(d, rec, err, errlen)) != SK_OK)
    goto done;
  rack_scan s = {d, o, {0, o->max_rows ? o->max_rows : SK_IMS_DEFAULT_MAX_ROWS, 1, 1}, col};
  st = sk_recording_scan(rec, SK_TABLE_RACKS, BLOCK_ROWS, rack_rows, &s);
  if (st != SK_OK && sk_recording_error(rec)[0])
    sk_errf(err, errlen, "%s", sk_recording_error(rec));
  else if (st != SK_OK) /* rack_rows: the row cap or memory */
    grow_fail(st, path, s.gs.max_rows, err, errlen);
done:
  sk_recording_close(rec);
  return st;
}

/* ---- data: CSV ------------------------------------------------------------------------- */

#define NS_PER_S 1000000000LL

/* The time column's names; the first the header has (any case) is the time column. */
static const char *const time_columns[] = {"ts", "timestamp", "time", "datetime"};

/* Where the columns of a CSV are: index in the header, or -1. */
typedef struct {
  size_t n_cols;                    /* fields per row, as in the header */
  int ts, rack_id;                  /* the time and rack id columns, or -1 */
  int feature[SK_IMS_MAX_FEATURES]; /* of each requested feature */
  int rack[SK_IMS_N_RACK_FEATURES]; /* of each rack feature (the nominal filter's inputs) */
  int have_rack;                    /* every rack feature is a column */
  int epoch; /* kind of the times read: -1 none yet, 0 all s as written, 1 all epoch, 2 both */
  int rack_seen[SK_IMS_N_RACK_FEATURES]; /* some row has a value in that rack column */
} csv_columns;

static sk_status fail_at(const sk_csv *r, size_t i, size_t past, char *err, size_t errlen,
                         const char *fmt, ...) SK_PRINTF_LIKE(6, 7);

/* "<path>:<line>:<column>: <reason>" into err, where field i of r's current record
 * starts, moved right by `past` bytes (a short row points just past its last field);
 * <column> is the byte position in the line.  Returns SK_EPARSE. */
static sk_status fail_at(const sk_csv *r, size_t i, size_t past, char *err, size_t errlen,
                         const char *fmt, ...) {
  char reason[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  size_t line, col;
  sk_csv_field_pos(r, i, &line, &col);
  sk_errf(err, errlen, "%s:%zu:%zu: %s", sk_csv_name(r), line, col + past, reason);
  return SK_EPARSE;
}

/* A value: empty or NaN (any case, signed or not) is missing (NaN); otherwise a finite
 * decimal number as sk_csv_number reads it.  0 on anything else. */
static int parse_value(const char *s, double *v) {
  const char *digits = s + (*s == '+' || *s == '-');
  if (*s == '\0' || strcasecmp(digits, "nan") == 0) {
    *v = NAN;
    return 1;
  }
  return sk_csv_number(s, v) == SK_OK;
}

/* The time column's field s (len bytes) into *t_s and its kind into *epoch (1: s since
 * the epoch, from a civil or a large Unix time; 0: a number of seconds as written);
 * empty or NaN is NaN (kind -1).  0 with the reason (naming the text) otherwise. */
static int parse_time(const char *s, size_t len, const sk_time_zone *zone, double *t_s, int *epoch,
                      char *reason, size_t rlen) {
  int date_like = len >= 5 && s[4] == '-';
  for (size_t k = 0; k < 4 && date_like; k++)
    date_like = s[k] >= '0' && s[k] <= '9';
  sk_time_opts o;
  sk_time_opts_init(&o);
  o.zone = zone;
  int64_t t_ns;
  if (date_like) {
    o.forms = SK_TIME_ISO_T | SK_TIME_ISO_SPACE | SK_TIME_ZONE;
    if (sk_time_parse(s, len, &o, &t_ns, reason, rlen) != SK_OK)
      return 0; /* the parser's reason says what is wrong with the date */
  } else {
    o.forms = SK_TIME_UNIX_AUTO;
    if (sk_time_parse(s, len, &o, &t_ns, NULL, 0) != SK_OK || t_ns < 1000000000LL * NS_PER_S) {
      if (parse_value(s, t_s)) {
        *epoch = isnan(*t_s) ? -1 : 0;
        return 1;
      }
      snprintf(reason, rlen,
               "'%s' is neither a number of seconds nor a time (2025-10-18T23:11:10Z, "
               "2025-10-18 23:11:10, Unix s or ms)",
               s);
      return 0;
    }
  }
  /* whole seconds are exact in a double; the fraction is rounded once */
  *t_s = (double)(t_ns / NS_PER_S) + (double)(t_ns % NS_PER_S) / 1e9;
  *epoch = 1;
  return 1;
}

/* Every header name must be non-empty and unique, also in columns nobody asks for: a
 * duplicate is a broken export, and which copy is meant cannot be told.  The header is r's
 * current record. */
static sk_status check_header(const sk_csv *r, char *err, size_t errlen) {
  size_t n = sk_csv_header_count(r);
  for (size_t c = 0; c < n; c++) {
    const char *h = sk_csv_header_name(r, c);
    if (h[0] == '\0')
      return fail_at(r, c, 0, err, errlen, "header: column %zu has no name", c + 1);
    for (size_t j = 0; j < c; j++)
      if (strcmp(h, sk_csv_header_name(r, j)) == 0)
        return fail_at(r, c, 0, err, errlen, "header: column '%s' appears twice", h);
  }
  return SK_OK;
}

/* The header column called name, or -1 (names are unique: check_header). */
static int column(const sk_csv *r, const char *name) {
  size_t idx;
  return sk_csv_column(r, name, &idx, NULL, 0) == SK_OK ? (int)idx : -1;
}

static sk_status find_columns(const sk_ims_data *d, const sk_csv *r, csv_columns *c, char *err,
                              size_t errlen) {
  c->n_cols = sk_csv_header_count(r);
  c->ts = -1;
  for (size_t i = 0; i < sizeof time_columns / sizeof time_columns[0] && c->ts < 0; i++) {
    size_t idx;
    sk_status st = sk_csv_column_nocase(r, time_columns[i], &idx, err, errlen);
    if (st == SK_EPARSE) /* "Time" and "time": which is meant cannot be told */
      return st;
    if (st == SK_OK)
      c->ts = (int)idx;
  }
  c->epoch = -1;
  memset(c->rack_seen, 0, sizeof c->rack_seen);
  c->rack_id = column(r, "rack_id");
  for (int i = 0; i < d->n_features; i++)
    if ((c->feature[i] = column(r, d->feature[i])) < 0) {
      char list[256];
      sk_csv_header_names(r, list, sizeof list);
      sk_errf(err, errlen, "%s:%zu: header: no column '%s' (the columns are: %s)", sk_csv_name(r),
              sk_csv_line(r), d->feature[i], list);
      return SK_EPARSE;
    }
  c->have_rack = 1;
  for (int i = 0; i < SK_IMS_N_RACK_FEATURES; i++)
    if ((c->rack[i] = column(r, sk_ims_rack_feature_name(i))) < 0)
      c->have_rack = 0;
  return SK_OK;
}

/* Field col of the current record as a value (parse_value), or an error naming it. */
static sk_status csv_value(const sk_csv *r, int col, double *v, char *err, size_t errlen) {
  const char *s = sk_csv_field(r, (size_t)col);
  if (parse_value(s, v))
    return SK_OK;
  return fail_at(r, (size_t)col, 0, err, errlen, "%s: '%s' is not a number",
                 sk_csv_header_name(r, (size_t)col), s);
}

/* The current record of r becomes row d->n_rows, unless its time is outside the window. */
static sk_status csv_row(sk_ims_data *d, const sk_csv *r, csv_columns *c, const sk_ims_data_opts *o,
                         grow_state *gs, char *err, size_t errlen) {
  size_t nf = sk_csv_field_count(r); /* >= 1 */
  if (nf != c->n_cols) {
    /* the first extra field, or just past the short row's last one */
    size_t at = nf > c->n_cols ? c->n_cols : nf - 1;
    size_t past = nf > c->n_cols ? 0 : sk_csv_field_len(r, nf - 1);
    return fail_at(r, at, past, err, errlen, "expected %zu fields as in the header, found %zu%s",
                   c->n_cols, nf,
                   nf == 1 && c->n_cols > 1 && o->strict
                       ? " (a non-data line: --strict refuses them; without it trailing ones "
                         "are skipped)"
                       : "");
  }
  d->n_read++;
  double t = NAN;
  if (c->ts >= 0) {
    size_t i = (size_t)c->ts;
    char reason[256];
    int epoch = -1;
    if (!parse_time(sk_csv_field(r, i), sk_csv_field_len(r, i), o->zone, &t, &epoch, reason,
                    sizeof reason))
      return fail_at(r, i, 0, err, errlen, "%s: %s", sk_csv_header_name(r, i), reason);
    if (epoch >= 0) /* -1 none yet, 0 or 1 all of that kind, 2 both */
      c->epoch = c->epoch < 0 || c->epoch == epoch ? epoch : 2;
  }
  if (!in_window(o, t) && (isfinite(o->from_s) || isfinite(o->to_s)))
    return SK_OK;
  double v[SK_IMS_MAX_FEATURES], rv[SK_IMS_N_RACK_FEATURES];
  sk_status st = SK_OK;
  for (int i = 0; i < d->n_features && st == SK_OK; i++)
    st = csv_value(r, c->feature[i], &v[i], err, errlen);
  for (int i = 0; i < SK_IMS_N_RACK_FEATURES && c->have_rack && st == SK_OK; i++)
    st = csv_value(r, c->rack[i], &rv[i], err, errlen);
  if (st != SK_OK)
    return st;
  const char *id = c->rack_id >= 0 ? sk_csv_field(r, (size_t)c->rack_id) : NULL;
  size_t id_len = id ? sk_csv_field_len(r, (size_t)c->rack_id) : 0;
  if (id_len >= SK_IMS_ID_LEN)
    return fail_at(r, (size_t)c->rack_id, 0, err, errlen,
                   "rack_id: '%s' is longer than %d characters", id, SK_IMS_ID_LEN - 1);
  if ((st = reserve(d, gs, d->n_rows + 1)) != SK_OK)
    return grow_fail(st, sk_csv_name(r), gs->max_rows, err, errlen);
  size_t k = d->n_rows++;
  memcpy(&d->x[k * (size_t)d->n_features], v, (size_t)d->n_features * sizeof(double));
  d->ts[k] = t;
  if (id) {
    memset(d->rack_id[k], 0, SK_IMS_ID_LEN);
    memcpy(d->rack_id[k], id, id_len);
  }
  if (c->have_rack) {
    /* bit 0: the filter on the whole rack vector (a missing input other than latency fails
     * it); bit 1: on the seed's four conditions alone, with the columns no filter condition
     * reads filled in -- used when such a column is empty in every row (a mix that maps no
     * GPU power), where the whole-vector filter would refuse every row */
    double fv[SK_IMS_N_RACK_FEATURES];
    for (int i = 0; i < SK_IMS_N_RACK_FEATURES; i++) {
      c->rack_seen[i] |= !isnan(rv[i]);
      const char *n = sk_ims_rack_feature_name(i);
      int read = strcmp(n, "inlet_c") == 0 || strcmp(n, "delta_t_c") == 0 ||
                 strcmp(n, "pdu_kw") == 0 || strcmp(n, "latency_p95_ms") == 0;
      fv[i] = read || !isnan(rv[i]) ? rv[i] : 0.0;
    }
    int whole = sk_ims_nominal_rack(rv, d->inlet_max_c, d->sla_latency_ms, d->idle_kw_per_server,
                                    d->rack_kw_cap) != 0;
    int seed4 = sk_ims_nominal_rack(fv, d->inlet_max_c, d->sla_latency_ms, d->idle_kw_per_server,
                                    d->rack_kw_cap) != 0;
    d->nominal[k] = (signed char)(whole | seed4 << 1);
  }
  return SK_OK;
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

/* Sorts the rows of d by ts, stably (NaN last), when they are not in order; counts the
 * rows earlier than the one before them in d->n_unsorted.  A merge sort of row indices,
 * then each per-row array permuted through a scratch copy. */
static sk_status sort_rows(sk_ims_data *d) {
  size_t n = d->n_rows;
  d->n_unsorted = 0;
  for (size_t i = 1; i < n; i++)
    d->n_unsorted += d->ts[i] < d->ts[i - 1] || (isnan(d->ts[i - 1]) && !isnan(d->ts[i]));
  if (d->n_unsorted == 0)
    return SK_OK;
  size_t *idx = malloc(n * sizeof *idx), *tmp = malloc(n * sizeof *tmp);
  size_t dd = (size_t)d->n_features;
  void *scratch =
      malloc(n * (dd * sizeof(double) > SK_IMS_ID_LEN ? dd * sizeof(double) : SK_IMS_ID_LEN));
  if (!idx || !tmp || !scratch) {
    free(idx);
    free(tmp);
    free(scratch);
    return SK_ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  for (size_t w = 1; w < n; w *= 2) { /* bottom-up merge: stable */
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi) {
        double ta = d->ts[idx[a]], tb = d->ts[idx[b]];
        int b_first = (isnan(ta) && !isnan(tb)) || tb < ta;
        tmp[k++] = b_first ? idx[b++] : idx[a++];
      }
      while (a < mid)
        tmp[k++] = idx[a++];
      while (b < hi)
        tmp[k++] = idx[b++];
    }
    memcpy(idx, tmp, n * sizeof *idx);
  }
  double *xs = scratch;
  memcpy(xs, d->x, n * dd * sizeof *xs);
  for (size_t i = 0; i < n; i++)
    memcpy(&d->x[i * dd], &xs[idx[i] * dd], dd * sizeof *xs);
  memcpy(xs, d->ts, n * sizeof *xs);
  for (size_t i = 0; i < n; i++)
    d->ts[i] = xs[idx[i]];
  if (d->nominal) {
    signed char *nom = scratch;
    memcpy(nom, d->nominal, n);
    for (size_t i = 0; i < n; i++)
      d->nominal[i] = nom[idx[i]];
  }
  if (d->rack_id) {
    char(*ids)[SK_IMS_ID_LEN] = scratch;
    memcpy(ids, d->rack_id, n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
      memcpy(d->rack_id[i], ids[idx[i]], SK_IMS_ID_LEN);
  }
  free(idx);
  free(tmp);
  free(scratch);
  return SK_OK;
}

static sk_status load_csv(sk_ims_data *d, const char *path, const sk_ims_data_opts *o, char *err,
                          size_t errlen) {
  d->kind = SK_IMS_DATA_CSV;
  d->sample_period_s = NAN;
  sk_csv_opts co;
  sk_csv_opts_init(&co);
  co.ragged = 1; /* csv_row reports a row of the wrong length with its column */
  co.delimiter = SK_CSV_SNIFF;
  co.skip_trailer = !o->strict;
  sk_csv *r;
  sk_status st = sk_csv_create(&r, path, &co, err, errlen);
  if (st != SK_OK)
    return st;
  csv_columns c;
  if ((st = sk_csv_read_header(r, err, errlen)) == SK_OK &&
      (st = check_header(r, err, errlen)) == SK_OK)
    st = find_columns(d, r, &c, err, errlen);
  if (st == SK_OK) {
    d->has_ts = c.ts >= 0;
    if (!d->has_ts && (isfinite(o->from_s) || isfinite(o->to_s))) {
      sk_errf(err, errlen,
              "%s: a time window (--from/--to) needs a time column (ts, timestamp, time or "
              "datetime); the header has none",
              path);
      st = SK_EINVAL;
    }
  }
  if (st == SK_OK)
    st = env_settings(d, err, errlen);
  if (st == SK_OK) {
    /* nominal stays NULL without every rack feature: the filter does not apply */
    grow_state gs = {0, o->max_rows ? o->max_rows : SK_IMS_DEFAULT_MAX_ROWS, c.rack_id >= 0,
                     c.have_rack};
    int more = 0;
    while ((st = sk_csv_next(r, &more, err, errlen)) == SK_OK && more)
      if ((st = csv_row(d, r, &c, o, &gs, err, errlen)) != SK_OK)
        break;
    if (st == SK_OK) {
      const char *text;
      d->n_trailer = sk_csv_trailer(r, &d->trailer_line, &text);
      snprintf(d->trailer_text, sizeof d->trailer_text, "%s", text);
      d->delimiter = sk_csv_delimiter(r);
      if (c.have_rack) { /* the nominal flag's variant: bit 1 when a rack column is empty */
        int all_seen = 1;
        for (int i = 0; i < SK_IMS_N_RACK_FEATURES; i++)
          all_seen &= c.rack_seen[i];
        d->nominal_empty_columns = !all_seen;
        for (size_t i = 0; i < d->n_rows; i++)
          d->nominal[i] = (signed char)((d->nominal[i] >> (all_seen ? 0 : 1)) & 1);
      }
      d->ts_epoch = c.epoch == 1;
      if (c.ts >= 0)
        snprintf(d->time_column, sizeof d->time_column, "%s", sk_csv_header_name(r, (size_t)c.ts));
      st = sort_rows(d);
      if (st == SK_ENOMEM)
        sk_errf(err, errlen, "%s: out of memory", path);
    }
  }
  sk_csv_destroy(r);
  return st;
}

sk_status sk_ims_data_load(sk_ims_data *d, const char *path, const sk_ims_data_opts *o, char *err,
                           size_t errlen) {
  SK_REQUIRE(d && path);
  sk_ims_data_opts def;
  if (!o) {
    sk_ims_data_opts_init(&def);
    o = &def;
  }
  memset(d, 0, sizeof *d);
  sk_errf(err, errlen, "%s", "");
  sk_status st = set_features(d, o, path, err, errlen);
  if (st == SK_OK)
    st = sk__h5_check_file(path, "a file", NULL, err, errlen);
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
  SK_REQUIRE(d && x && s);
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
  SK_REQUIRE(d >= 0 && (x || n == 0) && constant);
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

/* Row order for sk_ims_data_smooth: by entity, then by row index (stable). */
typedef struct {
  const char *id; /* SK_IMS_ID_LEN bytes, NUL-padded; NULL without a rack_id column */
  size_t row;
} smooth_key;

static int cmp_smooth_key(const void *a, const void *b) {
  const smooth_key *x = a, *y = b;
  int c = x->id ? strncmp(x->id, y->id, SK_IMS_ID_LEN) : 0;
  return c ? c : (x->row > y->row) - (x->row < y->row);
}

sk_status sk_ims_data_smooth(sk_ims_data *d, int rows) {
  SK_REQUIRE(d && rows >= 1);
  const size_t n = d->n_rows, dd = (size_t)d->n_features;
  if (rows == 1 || n == 0)
    return SK_OK;
  smooth_key *order = malloc(n * sizeof *order);
  double *raw = malloc(n * dd * sizeof *raw);
  if (!order || !raw) {
    free(order);
    free(raw);
    return SK_ENOMEM;
  }
  memcpy(raw, d->x, n * dd * sizeof *raw);
  for (size_t i = 0; i < n; i++) {
    order[i].id = d->rack_id ? d->rack_id[i] : NULL;
    order[i].row = i;
  }
  qsort(order, n, sizeof *order, cmp_smooth_key);
  size_t start = 0; /* first position of the current entity in order[] */
  for (size_t p = 0; p < n; p++) {
    size_t i = order[p].row;
    if (p > 0 && order[p].id && strncmp(order[p - 1].id, order[p].id, SK_IMS_ID_LEN) != 0)
      start = p;
    size_t first = p + 1 >= start + (size_t)rows ? p + 1 - (size_t)rows : start;
    for (size_t j = 0; j < dd; j++) {
      double sum = 0.0;
      size_t cnt = 0;
      for (size_t q = first; q <= p; q++) {
        double v = raw[order[q].row * dd + j];
        if (!isnan(v)) {
          sum += v;
          cnt++;
        }
      }
      d->x[i * dd + j] = cnt ? sum / (double)cnt : NAN;
    }
  }
  free(raw);
  free(order);
  return SK_OK;
}
