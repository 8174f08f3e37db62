/*
 * ims_store.h -- the IMS's rack feature vectors, its models on disk, and the data they
 * are trained on and score.  Three source files, one per job: ims_features.c (the
 * vector of a telemetry row, which the twin scores live), ims_model_file.c (model files)
 * and ims_data.c (data from recordings, read through recording.h, and CSV files).
 *
 * A model (models/ims.h) lives in its own small HDF5 file (layout in docs/IMS.md);
 * sk_ims_save and sk_ims_load round-trip it bit for bit.  Data come from a recording of
 * `skadi run` (/telemetry/racks, one vector per rack row) or from a CSV file with a
 * header; sk_ims_data_load reads either into one row-major matrix with per-row ts,
 * rack_id and the seed's nominal flag.  `skadi ims` (cli/cmd_ims.c) is the command on top.
 *
 * Not thread-safe: the HDF5 calls save, clear and restore HDF5's automatic error printing,
 * which is process-wide in HDF5 1.10.
 */
#ifndef SKADI_IMS_STORE_H
#define SKADI_IMS_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "skadi/ims.h"
#include "skadi/status.h"
#include "skadi/telemetry.h"
#include "skadi/timestamp.h"

/* Root attribute format_version of a model file; bumped on any incompatible change. */
#define SK_IMS_FORMAT_VERSION 1
/* Root attribute `kind` that marks a file as an IMS model. */
#define SK_IMS_FILE_KIND "skadi_ims_model"
#define SK_IMS_SOURCE_LEN 512 /* longest source path kept in a model file, plus NUL */
#define SK_IMS_ID_LEN 32      /* rack_id kept per data row, plus NUL */

/* ---- rack vectors ------------------------------------------------------------------- */

/* One rack row of telemetry as a feature vector in SK_IMS_RACK_FEATURES order: inlet_c,
 * outlet_c, delta_t_c = outlet - inlet, pdu_kw, gpu_kw = gpu_energy_j / sample_period_s /
 * 1000, tokens_ps, latency_p95_ms (NaN when no request got its first token), queue_depth,
 * fan_rpm_pct, pump_rpm_pct.  sample_period_s > 0.  The twin scores live rows with it. */
void sk_ims_rack_vector(const sk_rack_sample *r, double sample_period_s,
                        double out[SK_IMS_N_RACK_FEATURES]);

/* Name ("inlet_c") and unit ("degC") of rack feature i, 0 <= i < SK_IMS_N_RACK_FEATURES
 * (asserted); static strings. */
const char *sk_ims_rack_feature_name(int i);
const char *sk_ims_rack_feature_unit(int i);

/* Index of a rack feature by name, or -1. */
int sk_ims_rack_feature_index(const char *name);

/* Idle power of one server from the server parameters, in kW at the PDU:
 * (gpus * gpu_idle_w + host_idle_w + fan_base_w) / psu_eff / 1000 -- 2.78 kW with the
 * defaults.  The nominal filter's lower PDU bound is this times the rack's servers. */
double sk_ims_server_idle_kw(double gpus, double gpu_idle_w, double host_idle_w, double fan_base_w,
                             double psu_eff);

/* ---- model files -------------------------------------------------------------------- */

/* Writes m to a new HDF5 file at path (replacing an existing file: written to
 * "<path>.tmp" and renamed over it, so a failure leaves the old file alone).  source
 * names the training data (may be NULL = ""; cut at SK_IMS_SOURCE_LEN - 1 bytes).
 * Doubles are stored as float64, so sk_ims_load gives back the same bits.  Returns
 * SK_EINVAL for a model that breaks its own invariants (d or K out of range, an empty or
 * duplicated feature name), SK_EIO when the file cannot be written (missing directory,
 * permission) with "<path>: <what>: <reason>" in err (errlen bytes; may be NULL/0). */
sk_status sk_ims_save(const sk_ims_model *m, const char *path, const char *source, char *err,
                      size_t errlen);

/* Reads the model at path into *m (zeroed first, so unused slots and padding are 0).
 * source (may be NULL) receives the training data's path, source_len bytes.  Errors name
 * the path and what is wrong: SK_ENOTFOUND the file does not exist; SK_EIO cannot read or
 * open it (a file marked open for writing, such as a killed run's recording, is not
 * opened); SK_EPARSE a directory, not HDF5, not an IMS model (a recording, say), a newer
 * format_version, or a missing or malformed dataset/attribute (named); SK_ERANGE a value out of its
 * range (a scale <= 0, τ_persist < τ_fast, ...). */
sk_status sk_ims_load(sk_ims_model *m, const char *path, char *source, size_t source_len, char *err,
                      size_t errlen);

/* Lists the model files (*.h5) of dir, sorted by name, as a table on out: file, K,
 * n_train, τ_fast (percentile), τ_persist (percentile), features.  *.h5 files that are
 * not models (recordings, broken files) get a "skipped" line saying why.  Returns SK_OK
 * (also for a directory without models), SK_ENOTFOUND when dir does not exist, SK_EIO
 * when it cannot be read, SK_ENOMEM; message in err. */
sk_status sk_ims_list(const char *dir, FILE *out, char *err, size_t errlen);

/* ---- data ----------------------------------------------------------------------------- */

typedef struct {
  const char *const *features; /* names to read, in this order; NULL = the rack features */
  int n_features;              /* 1..SK_IMS_MAX_FEATURES, or 0 with features NULL */
  double from_s, to_s;         /* keep rows with from_s <= ts <= to_s; -INFINITY/INFINITY
                                  keep all (a finite bound needs a ts column) */
  size_t max_rows;             /* cap on rows kept; 0 = SK_IMS_DEFAULT_MAX_ROWS */
  const sk_time_zone *zone;    /* CSV: zone of civil times written without one; NULL UTC */
  int strict;                  /* CSV: 1 refuses trailing non-data lines (default 0: skipped
                                  and counted in n_trailer) */
} sk_ims_data_opts;

#define SK_IMS_DEFAULT_MAX_ROWS ((size_t)20000000)

/* Fills o with the defaults: rack features, no window, default cap. */
void sk_ims_data_opts_init(sk_ims_data_opts *o);

typedef enum { SK_IMS_DATA_RECORDING, SK_IMS_DATA_CSV } sk_ims_data_kind;

typedef struct {
  sk_ims_data_kind kind;
  int n_features;                                     /* d */
  char feature[SK_IMS_MAX_FEATURES][SK_IMS_NAME_LEN]; /* column order of x */
  size_t n_rows;                                      /* rows kept (inside the window) */
  size_t n_read;                     /* data rows in the source, before the window */
  double *x;                         /* n_rows * d, row-major; NaN = missing (empty, NaN) */
  double *ts;                        /* n_rows, s; NaN when there is no time column */
  char (*rack_id)[SK_IMS_ID_LEN];    /* n_rows, NUL-padded; NULL without a rack_id column */
  signed char *nominal;              /* n_rows: 1 passes the nominal filter, 0 not; NULL when the
                                        filter does not apply (a CSV without every rack feature) */
  int has_ts;                        /* the source has a time column (ts, timestamp, time or
                                        datetime) */
  int ts_epoch;                      /* ts are s since 1970-01-01T00:00:00Z (a civil or Unix time
                                        column), not relative seconds as a recording's */
  char time_column[SK_IMS_NAME_LEN]; /* the CSV's time column as named ("" without) */
  char delimiter;                    /* the CSV's delimiter, as sniffed */
  int nominal_empty_columns;         /* CSV: some rack column has no value in any row, so the
                                        nominal flag checks the seed's four conditions only
                                        (inlet, TTFT p95, outlet above inlet, PDU range) */
  size_t n_unsorted;                 /* CSV rows earlier than the row before them (then sorted) */
  size_t n_trailer;                  /* CSV trailing non-data lines skipped */
  size_t trailer_line;               /* the first one's line */
  char trailer_text[84];             /* and its text */
  double sample_period_s;            /* s, recordings; NaN for CSV */
  /* Nominal filter settings (meaningful when nominal != NULL). */
  double inlet_max_c;            /* °C */
  double sla_latency_ms;         /* ms */
  double rack_kw_cap;            /* kW */
  double idle_kw_per_server;     /* kW, times the row's n_servers (recordings) or 1 (CSV) */
  double tau_fast_percentile;    /* the source's IMS_TAU_FAST_PERCENTILE setting */
  double tau_persist_percentile; /* the source's IMS_TAU_PERSIST_PERCENTILE setting */
} sk_ims_data;

/* Reads path -- an HDF5 recording of `skadi run`, or else a CSV file -- into *d (the
 * caller's storage; release with sk_ims_data_fini, also after a failure).
 *
 * Recording: every /telemetry/racks row in the window becomes sk_ims_rack_vector's
 * vector, projected on o->features (which must be rack features).  The nominal flag uses
 * the recording's own settings from /config (settings.inlet_max_c, settings.sla_latency_ms,
 * settings.rack_kw_cap) and idle = sk_ims_server_idle_kw(server.*) x n_servers.
 *
 * CSV (read by skadi/csv.h: RFC 4180 quoting, LF or CRLF, a byte-order mark, the
 * delimiter sniffed among ',', ';' and tab, trailing non-data lines skipped unless
 * o->strict): a header line names the columns; every requested feature must be one.
 * Optional columns are kept: the time column -- the first of ts, timestamp, time, datetime
 * (any case) the header has -- and rack_id.  A time is an ISO 8601 time read by
 * skadi/timestamp.h ("2025-10-18T23:11:10Z", "...+02:00", "2025-10-18 23:11:10.5", without
 * a zone in o->zone or UTC) or a Unix time of 1e9 s (2001) or more (ms from 1e11 on), both
 * converted to Unix seconds (ts_epoch 1); any other number is seconds as written, in any
 * origin (relative times).  Rows are sorted by time (stably) when they are not in order.  A value
 * is a decimal number (sk_csv_number: no hex, inf); an empty field or NaN is a missing
 * value (NaN in x); blank lines are skipped.  When the header holds all ten rack features the
 * nominal flag is computed with the settings of the environment (INLET_MAX_C, SLA_LATENCY_MS,
 * RACK_KW_CAP over the seed's defaults 28 °C, 250 ms, 12 kW) and one server's default idle power
 * (2.78 kW); a row missing a filter input other than latency is not nominal.
 *
 * Errors, message in err: SK_ENOTFOUND no such file; SK_EIO cannot read; SK_EPARSE
 * "<path>:<line>:<column>: <column name>: <reason>" for a bad CSV value or a row with the
 * wrong number of fields, "<path>:<line>: header: ..." for a missing column or an empty
 * file (and with a column for a duplicated or empty name), the CSV reader's
 * "<path>:<line>: <column name>: <reason>" for bad syntax (a quote never closed),
 * "<path>: ..." for a directory, an IMS model file, a file that is not a recording
 * (sk_recording_open's message), a recording without /telemetry/racks, without one of its
 * fields or without a /config setting; SK_EINVAL bad options (unknown rack feature, a
 * window without a time column); SK_ERANGE more rows than the cap; SK_ENOMEM. */
sk_status sk_ims_data_load(sk_ims_data *d, const char *path, const sk_ims_data_opts *o, char *err,
                           size_t errlen);

/* Frees what sk_ims_data_load allocated and zeroes *d; safe on a zeroed or failed d. */
void sk_ims_data_fini(sk_ims_data *d);

typedef struct {
  size_t n_rows;        /* rows offered (in the window) */
  size_t n_missing;     /* skipped: a feature value missing (empty/NaN) */
  size_t n_off_nominal; /* skipped: complete but failed the nominal filter */
  size_t n_kept;        /* rows selected */
  double from_s, to_s;  /* s, smallest and largest ts of the kept rows (NaN without ts) */
} sk_ims_selection;

/* Replaces each row's features by their trailing mean over the last `rows` rows of the
 * same entity (rack_id; one entity without it), in row order (time order for a CSV,
 * sorted); a row early in its entity averages the rows there are.  NaN values are left out
 * of a mean; a mean of none is NaN.  rows = 1 changes nothing.  SK_ENOMEM when scratch
 * memory (n_rows size_t and a copy of x) cannot be had; d is unchanged then. */
sk_status sk_ims_data_smooth(sk_ims_data *d, int rows);

/* Training rows: the complete rows (no NaN) that pass the nominal filter (every complete
 * row when d->nominal is NULL), copied into a new n_kept * d matrix *x (malloc'd, caller
 * frees; NULL when n_kept is 0).  SK_ENOMEM when it cannot be allocated. */
sk_status sk_ims_data_select_training(const sk_ims_data *d, double **x, sk_ims_selection *s);

/* Marks in constant[d] (1/0) the columns of the n x d matrix x that sk_ims_train would
 * refuse as constant (all equal, or a population sd below 1e-12 of the mean's magnitude)
 * and returns how many there are.  A recording of a scenario without a pump controller
 * has pump_rpm_pct constant, so `skadi ims train` leaves such features out when the user
 * did not pick the features. */
int sk_ims_constant_features(const double *x, size_t n, int d, int *constant);

/* Removes the columns with drop[j] != 0 from the n x *d matrix x (in place) and from
 * names[*d]; *d becomes the number kept. */
void sk_ims_drop_features(double *x, size_t n, int *d, char (*names)[SK_IMS_NAME_LEN],
                          const int *drop);

#endif
