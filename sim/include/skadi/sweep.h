/*
 * sweep.h -- parameter sweeps: many runs of one scenario with settings varied, each run
 * a session (session.h), their figures gathered into one table (docs/SWEEPS.md).
 *
 * A sweep file names a base scenario, the settings keys to vary (grids, lists, random or
 * Latin-hypercube samples), the seeds each point is repeated with, the mode, a duration
 * and the constraints a point must meet.  sk_sweep_load validates it and expands it into
 * points; a run is a (point, seed index) pair, numbered job = point * n_seeds + seed
 * index.  Everything here is a pure function of the file: the points, each run's seed,
 * the aggregates, the constraint flags and the Pareto fronts do not depend on how many
 * workers ran the runs or in which order they finished.
 *
 *     sk_sweep *sw;
 *     if (sk_sweep_load(&sw, "sweep.json", err, sizeof err) != SK_OK) ...  // exit 2
 *     for (size_t j = 0; j < sk_sweep_n_runs(sw); j++)
 *       sk_sweep_run(sw, j, NULL, NULL, &rows[j]);   // in any process, in any order
 *     sk_sweep_aggregate(sw, rows, n, stats);        // per point: mean, sd, CI, flags
 *     sk_sweep_file_write("x.h5", 0, sw, rows, n, &info, err, sizeof err);
 *     sk_sweep_destroy(sw);
 *
 * The library owns no wall clock: a caller that wants wall time per run measures it and
 * puts it in the row (sk_sweep_result.wall_s).
 */
#ifndef SKADI_SWEEP_H
#define SKADI_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/status.h"

#define SK_SWEEP_MAX_PARAMS 16
#define SK_SWEEP_MAX_VALUES 256 /* per list or grid */
#define SK_SWEEP_MAX_SETS 32    /* fixed overrides of the base scenario */
#define SK_SWEEP_MAX_CONSTRAINTS 16
#define SK_SWEEP_MAX_SEEDS 1000
#define SK_SWEEP_MAX_RUNS 1000000
#define SK_SWEEP_KEY_LEN 64
#define SK_SWEEP_VALUE_LEN 64
#define SK_SWEEP_MSG_LEN 160

/* The figures of one run (a column each in the /runs table), from sk_session_summary and
 * the session's sample rows.  id, name, unit, meaning. */
#define SK_SWEEP_METRICS(X)                                                                        \
  X(WH_PER_PROMPT, "wh_per_prompt", "Wh/prompt", "facility energy per prompt served")              \
  X(CF_WH_PER_PROMPT, "cf_wh_per_prompt", "Wh/prompt",                                             \
    "the counterfactual's (same scenario, optimizer off)")                                         \
  X(SAVED_PCT, "energy_saved_pct", "%", "Wh/prompt saved against the counterfactual")              \
  X(TTFT_P95, "ttft_p95_ms", "ms", "whole-run TTFT p95")                                           \
  X(TTFT_P95_CENSORED, "ttft_p95_censored", "1", "1 when the p95 is only a lower bound")           \
  X(SLA_WINDOWS_MISSED, "sla_windows_missed", "windows",                                           \
    "sample windows whose TTFT p95 is above the SLA")                                              \
  X(SLA_WINDOWS, "sla_windows", "windows", "sample windows with a TTFT p95")                       \
  X(INLET_OVER_LIMIT, "inlet_samples_over_limit", "samples",                                       \
    "rack-inlet samples above settings.inlet_max_c")                                               \
  X(MAX_INLET, "max_inlet_c", "degC", "highest rack inlet sampled")                                \
  X(ACTIONS_APPLIED, "actions_applied", "actions", "optimizer and guardrail actions applied")      \
  X(PRED_ERR, "prediction_error_pct", "%",                                                         \
    "mean |predicted - realized| saving of evaluated actions (NaN: none)")                         \
  X(PUE, "pue", "1", "facility / IT energy")                                                       \
  X(PROMPTS_SERVED, "prompts_served", "prompts", "prompts completed")                              \
  X(FACILITY_KWH, "facility_kwh", "kWh", "facility energy")                                        \
  X(SLA_MS, "sla_latency_ms", "ms", "the run's settings.sla_latency_ms")                           \
  X(INLET_LIMIT, "inlet_max_c", "degC", "the run's settings.inlet_max_c")                          \
  X(WH_PER_PROMPT_NET, "wh_per_prompt_net", "Wh/prompt",                                           \
    "facility energy plus the cold taken from the chilled-water loop, per prompt")

typedef enum {
#define SK_SWEEP_METRIC_ENUM(id, name, unit, help) SK_SWEEP_M_##id,
  SK_SWEEP_METRICS(SK_SWEEP_METRIC_ENUM)
#undef SK_SWEEP_METRIC_ENUM
      SK_SWEEP_METRIC_COUNT
} sk_sweep_metric;

const char *sk_sweep_metric_name(sk_sweep_metric m);
const char *sk_sweep_metric_unit(sk_sweep_metric m);
const char *sk_sweep_metric_help(sk_sweep_metric m);
/* SK_ENOTFOUND when name is no metric. */
sk_status sk_sweep_metric_parse(const char *name, sk_sweep_metric *out);

/* A run's status in the table. */
enum { SK_SWEEP_RUN_OK = 0, SK_SWEEP_RUN_FAILED = 1 };

/* One row of the /runs table.  Plain data: it crosses a pipe or an MPI message as
 * bytes, so it holds no pointer. */
typedef struct {
  int32_t point;                   /* 0..n_points-1 */
  int32_t seed_index;              /* 0..n_seeds-1 */
  uint64_t seed;                   /* the run's seed (sk_sweep_seed) */
  int32_t status;                  /* SK_SWEEP_RUN_OK or SK_SWEEP_RUN_FAILED */
  int32_t pass;                    /* 1 when the run meets every constraint (0 if failed) */
  char message[SK_SWEEP_MSG_LEN];  /* why it failed; "" when ok */
  double m[SK_SWEEP_METRIC_COUNT]; /* figures, NaN when they do not apply or it failed */
  double wall_s;                   /* s of wall time, the caller's (not in the compared table) */
} sk_sweep_result;

/* Per point, over its seeds' rows. */
typedef struct {
  int32_t point;
  int32_t n_ok, n_failed; /* rows of the point in the table, by status */
  int32_t complete;       /* every seed of the point has a row */
  int32_t pass;           /* complete, none failed, every row meets every constraint */
  int32_t front_ttft;     /* on the Pareto front of Wh/prompt vs TTFT p95, among the
                             points that pass */
  int32_t front_inlet;    /* the same, Wh/prompt vs max inlet */
  int32_t is_default;     /* the base scenario's own settings (no parameter set) */
  int32_t best;           /* the passing point of lowest mean Wh/prompt */
  double mean[SK_SWEEP_METRIC_COUNT];
  double sd[SK_SWEEP_METRIC_COUNT];   /* sample standard deviation, NaN with < 2 rows */
  double ci95[SK_SWEEP_METRIC_COUNT]; /* half-width of the 95 % CI of the mean (Student t),
                                         NaN with < 2 rows */
} sk_sweep_point_stats;

typedef struct sk_sweep sk_sweep;

/* Reads and validates a sweep file; relative scenario paths are resolved against the
 * file's directory.  On bad input *out is NULL and err holds "<path>: <field>: <reason>"
 * (JSON syntax: "<path>:<line>:<col>: ..."); the status is SK_EPARSE, SK_ERANGE, SK_EIO
 * (cannot read) or SK_ENOMEM.  The caller frees *out with sk_sweep_destroy. */
sk_status sk_sweep_load(sk_sweep **out, const char *path, char *err, size_t errlen);
/* The same for text in memory; origin names it in messages, base_dir resolves a relative
 * scenario path (NULL: used as given). */
sk_status sk_sweep_parse(sk_sweep **out, const char *text, size_t len, const char *origin,
                         const char *base_dir, char *err, size_t errlen);
void sk_sweep_destroy(sk_sweep *sw); /* NULL is a no-op */

const char *sk_sweep_name(const sk_sweep *sw);
const char *sk_sweep_scenario_path(const sk_sweep *sw); /* resolved */
const char *sk_sweep_mode(const sk_sweep *sw);          /* "off", "advisory", "closed_loop" */
double sk_sweep_duration_s(const sk_sweep *sw);         /* s, NaN = the scenario's */
/* The sweep as canonical JSON (every field, defaults filled in, the scenario path as
 * resolved): stored in the output file and compared by --resume.  Owned by sw. */
const char *sk_sweep_json(const sk_sweep *sw);

size_t sk_sweep_n_points(const sk_sweep *sw);
size_t sk_sweep_n_seeds(const sk_sweep *sw);
size_t sk_sweep_n_runs(const sk_sweep *sw); /* n_points * n_seeds */
size_t sk_sweep_n_params(const sk_sweep *sw);
const char *sk_sweep_param_key(const sk_sweep *sw, size_t param);
/* A point's value of a parameter as text (as --set takes it) and as a number (NaN when it
 * is not numeric, e.g. "true").  The default point (is_default) has "" and NaN. */
const char *sk_sweep_value_text(const sk_sweep *sw, size_t point, size_t param);
double sk_sweep_value(const sk_sweep *sw, size_t point, size_t param);
int sk_sweep_point_is_default(const sk_sweep *sw, size_t point);
/* "key=value key=value" or "default", into buf. */
void sk_sweep_point_label(const sk_sweep *sw, size_t point, char *buf, size_t len);

/* Builds the base scenario with the sweep's fixed "set" overrides and duration (no
 * parameter), as every run starts from it: SK_EINVAL with the scenario's message when it
 * is bad (a missing file, an effect after the end of a shortened run), so a wrong base is
 * one message, not a failed row per run.  name (may be NULL) receives the scenario's
 * name. */
sk_status sk_sweep_check_base(const sk_sweep *sw, char *name, size_t namelen, char *err,
                              size_t errlen);

/* The seed of a run: a hash of the sweep's base seed and the seed index (and of the
 * point's values when the file says "seed_per_point"), or the file's explicit seed list.
 * Depends on nothing else, so not on the order runs are made in.  In [0, 2^53). */
uint64_t sk_sweep_seed(const sk_sweep *sw, size_t point, size_t seed_index);

/* Runs job (point = job / n_seeds, seed index = job % n_seeds) to the end in this
 * thread: a session with a thread budget of 1, the counterfactual on, recorded to
 * record_path when it is not NULL.  *out receives the row; a run that cannot be built
 * or fails is a row with status failed and its message, and the call still returns
 * SK_OK (the sweep goes on).  stop, when not NULL, is polled between chunks: when it
 * becomes non-zero the run ends early and the call returns SK_EINTR (no row). */
sk_status sk_sweep_run(const sk_sweep *sw, size_t job, const char *record_path,
                       const volatile int *stop, sk_sweep_result *out);

/* Constraints: 1 when row r meets every constraint of the sweep (a failed row or a NaN
 * figure never does). */
int sk_sweep_row_passes(const sk_sweep *sw, const sk_sweep_result *r);
size_t sk_sweep_n_constraints(const sk_sweep *sw);
/* Constraint i as text: "ttft_p95_ms <= sla_latency_ms". */
void sk_sweep_constraint_text(const sk_sweep *sw, size_t i, char *buf, size_t len);

/* The points' aggregates and flags from the rows (any order; at most one row per job),
 * into stats[n_points].  Sets each row's pass flag.  SK_ENOMEM (stats unset) when its
 * scratch memory cannot be had. */
sk_status sk_sweep_aggregate(const sk_sweep *sw, sk_sweep_result *rows, size_t n_rows,
                             sk_sweep_point_stats *stats);

/* The Pareto front of n points (x, y), both minimized: on_front[i] = 1 when eligible[i]
 * (NULL: all) and no eligible point j is at least as good in both and better in one.
 * Points with a NaN coordinate are not eligible.  Equal points are both on the front. */
void sk_sweep_pareto(const double *x, const double *y, const int *eligible, size_t n,
                     int *on_front);

/* Student t quantile t_{0.975, dof} (dof >= 1). */
double sk_sweep_t975(int dof);

/* ---- the output file (HDF5, layout in docs/SWEEPS.md) ------------------------------------ */

typedef struct {
  double wall_s;      /* s, whole sweep */
  int workers;        /* worker processes or MPI ranks that ran the runs */
  const char *how;    /* "local" or "mpi" */
  const char *status; /* "completed" or "interrupted" */
  const char *version;
  const char *scenario_name; /* the base scenario's name (sk_sweep_check_base) */
} sk_sweep_file_info;

/* Writes rows (any order; sorted by job in the file) with the aggregates computed here,
 * to path (through <path>.part, renamed when complete; an existing path is replaced only
 * with force).  SK_EINVAL for an existing file without force, SK_EIO with a message
 * otherwise. */
sk_status sk_sweep_file_write(const char *path, int force, const sk_sweep *sw,
                              sk_sweep_result *rows, size_t n_rows, const sk_sweep_file_info *info,
                              char *err, size_t errlen);

/* ---- the journal: each finished row made durable as it comes ----------------------------- *
 *
 * The HDF5 file is written once, at the end or when the sweep is stopped by a signal it
 * can catch.  So that a SIGKILL (or a crash, or a machine that loses power) costs only
 * the runs in flight, every finished row is also appended to a journal beside it,
 * "<out>.journal", and synced; --resume reads it back with the file's rows and runs only
 * what neither holds.  The journal is removed once the HDF5 file holding its rows is in
 * place.  Format (this machine and build only: rows are raw structs): a header (magic,
 * version, row size, the canonical sweep text) then rows, each with an FNV-1a check; a
 * torn last row is dropped. */
typedef struct sk_sweep_journal sk_sweep_journal;

/* "<out>.journal" into buf; 0, or -1 when it does not fit. */
int sk_sweep_journal_path(const char *out, char *buf, size_t len);

/* Opens the journal at path for rows of sw.  resume = 0: creates it, replacing an earlier
 * regular file (the caller decided that it may).  resume = 1: a journal that exists must
 * be of the same sweep (SK_EPARSE "... made from a different sweep" otherwise, or when it
 * is not a journal); its rows are handed back in *rows (malloc'd, the caller frees; NULL
 * when none) and *n_rows, a torn tail is cut off, and new rows go after them; one that
 * does not exist is created.  A path that is not a regular file is refused (SK_EINVAL).
 * SK_EIO when it cannot be created or read.  rows and n_rows may be NULL (rows dropped). */
sk_status sk_sweep_journal_open(const char *path, const sk_sweep *sw, int resume,
                                sk_sweep_journal **out, sk_sweep_result **rows, size_t *n_rows,
                                char *err, size_t errlen);

/* Appends row r and syncs it to the disk.  SK_EIO with the system's reason in err. */
sk_status sk_sweep_journal_add(sk_sweep_journal *j, const sk_sweep_result *r, char *err,
                               size_t errlen);

/* Closes j (NULL-safe); with remove, deletes its file (its rows are in the HDF5 file). */
void sk_sweep_journal_close(sk_sweep_journal *j, int remove);

/* A sweep file read back. */
typedef struct {
  char *sweep_json; /* the canonical sweep text */
  char name[128];
  char status[32];
  char scenario[512];
  char scenario_name[64];
  char mode[32];
  size_t n_params;
  char (*keys)[SK_SWEEP_KEY_LEN];
  size_t n_points;
  char (*labels)[512]; /* per point */
  double *values;      /* [n_points][n_params], NaN not numeric */
  sk_sweep_point_stats *points;
  size_t n_rows;
  sk_sweep_result *rows; /* sorted by job */
  size_t n_constraints;
  char (*constraints)[128];
  int workers;
  double wall_s;
} sk_sweep_table;

/* Reads path; SK_ENOTFOUND/SK_EPARSE (not a sweep file)/SK_EIO with "<path>: ..." in err.
 * Free with sk_sweep_table_destroy (NULL-safe). */
sk_status sk_sweep_file_read(const char *path, sk_sweep_table **out, char *err, size_t errlen);
void sk_sweep_table_destroy(sk_sweep_table *t);

#endif
