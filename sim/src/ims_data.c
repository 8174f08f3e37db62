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
 * Considered and rejected: CSV columns derived on the fly (delta_t_c from inlet/outlet,
 * gpu_kw from gpu_energy_j): a CSV has no sample period to turn energy into power, and
 * silent derivations hide a misnamed column; quoted CSV fields with embedded commas (the
 * data are numbers and rack ids; a surrounding pair of quotes is stripped, that is all).
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/ims_store.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "h5util.h"
#include "ims_int.h"
#include "skadi/recording.h"
#include "skadi/scenario.h"
#include "timeparse.h"

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
      if (strcmp(hdr[c], sk_ims_rack_feature_name(i)) == 0)
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
                  fields[rcol[i]].col, sk_ims_rack_feature_name(i), fields[rcol[i]].s);
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
