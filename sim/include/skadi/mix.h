/*
 * mix.h -- the dataset mixer: aligns CSV streams (rack telemetry, cooling logs, request
 * traces) onto one time grid in the seed's unified columns, driven by a JSON mapping
 * (docs/MIX.md), and the `skadi mix` command.
 *
 * Output columns, in this order:
 *   ts, rack_id, inlet_c, outlet_c, pdu_kw, chiller_kw, fan_kw, pump_kw, gpu_energy_j,
 *   tokens_ps, latency_p95_ms, queue_depth, fan_rpm_pct, pump_rpm_pct, j_per_prompt_wh,
 *   delta_t_c, gpu_kw
 * One row per grid time and rack id (rack_id "" is the room-level row).  A value with no
 * sample in its bin is an empty field: nothing is interpolated or carried forward.  The
 * last two complete the IMS's rack features, so `skadi ims train` reads the output with
 * its defaults: delta_t_c is derived as outlet_c - inlet_c of the same row when it is not
 * mapped and both are; gpu_kw is never derived (gpu_energy_j may be a counter or a
 * per-sample energy, and the mixer cannot tell), so it is empty unless mapped.
 * Then come the pass-through columns (a source's "pass": CSV columns kept under their own
 * names, in order of first appearance), and last n_empty: how many of the columns mapped
 * for the row's kind (room or rack) have no value in that row.
 */
#ifndef SKADI_MIX_H
#define SKADI_MIX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "skadi/status.h"

#define SK_MIX_NVALUES 15           /* unified value columns (after ts and rack_id) */
#define SK_MIX_MAX_EXTRA 16         /* pass-through columns, at most */
#define SK_MIX_MAX_VALUES (SK_MIX_NVALUES + SK_MIX_MAX_EXTRA)
#define SK_MIX_NAME_LEN 64          /* a pass-through column's name, NUL included */
#define SK_MIX_MAX_ROWS 10000000ULL /* larger outputs are refused (SK_ERANGE) */

typedef struct sk_mix sk_mix;

/* Figures about one mix, for the command's summary and for tests. */
typedef struct {
  size_t rows;                    /* data rows in the output (the header not counted) */
  size_t times;                   /* grid times (rows = times * (room + racks)) */
  size_t racks;                   /* distinct rack ids */
  int room;                       /* 1 if each time has a room-level row (rack_id "") */
  size_t sources;                 /* entries in the mapping's "sources" */
  size_t csv_rows;                /* data lines read over all sources */
  size_t values;                  /* numeric CSV values binned */
  size_t empty_values;            /* mapped CSV fields that were empty or NaN (skipped) */
  size_t outside;                 /* CSV rows outside the grid (skipped) */
  int n_values;                       /* SK_MIX_NVALUES + n_extra */
  int n_extra;                        /* pass-through columns */
  char extra[SK_MIX_MAX_EXTRA][SK_MIX_NAME_LEN]; /* their names, in output order */
  int mapped[SK_MIX_MAX_VALUES];      /* 1 if some source maps the column */
  size_t missing[SK_MIX_MAX_VALUES];  /* empty fields per value column in the output */
  size_t rows_with_empty;             /* rows whose n_empty is > 0 */
  int64_t start_ns;               /* ns since 1970-01-01T00:00:00Z, first grid time */
  int64_t end_ns;                 /* ns since the epoch, exclusive end of the grid */
  int64_t step_ns;                /* ns, > 0 */
  int derived[SK_MIX_MAX_VALUES]; /* 1 if computed from other columns (delta_t_c) */
  size_t trailer_lines;           /* trailing non-data lines skipped over all sources */
  char overlap_warning[768];      /* "" or which sources share no time (their spans) */
} sk_mix_stats;

/* Name of output column i: 0 "ts", 1 "rack_id", 2..16 the value columns in order
 * ("inlet_c" ... "gpu_kw").  NULL outside 0..16.  Static string. */
const char *sk_mix_column_name(int i);

/* Reads the mapping at `mapping_path`, validates it, reads every source CSV (paths are
 * relative to the mapping's directory) and bins the values.  Nothing is written.
 * Returns SK_OK and a handle in *out (the caller frees it with sk_mix_destroy), or, with
 * *out NULL, nothing allocated and a message in err naming the file and the field
 * ("mix.json: sources[1].columns.fan_kw: ..." or "cooling.csv:17: chiller_kw: ..."):
 *   SK_EPARSE    bad mapping or CSV content (syntax, unknown name, unparsable value)
 *   SK_EINVAL    a setting out of its domain (grid.step_s <= 0, end <= start, ...)
 *   SK_ERANGE    the output would exceed SK_MIX_MAX_ROWS rows, or a time outside
 *                1970..2199, or a file larger than its cap
 *   SK_ENOTFOUND the mapping or a source file does not exist
 *   SK_EIO       a file exists but cannot be read
 *   SK_ENOMEM    out of memory */
sk_status sk_mix_create(sk_mix **out, const char *mapping_path, char *err, size_t errlen);

/* sk_mix_create with a default zone (skadi/timestamp.h's sk_time_zone_parse: "UTC",
 * "+02:00", "Europe/Berlin", a POSIX rule; NULL = UTC) for sources whose civil times carry
 * no zone and whose mapping gives no "tz" of its own.  A bad tz is SK_EINVAL ("tz: ..."). */
sk_status sk_mix_create_tz(sk_mix **out, const char *mapping_path, const char *tz, char *err,
                           size_t errlen);

/* Writes the header and every row as CSV to `out` (not closed).  SK_OK, or SK_EIO with
 * the reason in err if a write fails (a partial output may then be on `out`). */
sk_status sk_mix_write(const sk_mix *m, FILE *out, char *err, size_t errlen);

/* The figures of a created mix. */
void sk_mix_get_stats(const sk_mix *m, sk_mix_stats *stats);

/* Frees everything; NULL is a no-op. */
void sk_mix_destroy(sk_mix *m);

/* sk_mix_create + sk_mix_write + sk_mix_destroy.  stats may be NULL.  On a create
 * failure nothing has been written to `out`. */
sk_status sk_mix_run(const char *mapping_path, FILE *out, sk_mix_stats *stats, char *err,
                     size_t errlen);

/* Formats t_ns (ns since the epoch, 1970..2199) as ISO 8601 UTC with 'Z' and `frac`
 * fractional digits (0, 3, 6 or 9) into buf (at least 32 bytes). */
void sk_mix_format_time(int64_t t_ns, int frac, char *buf, size_t len);

#endif
