/*
 * recorder.h -- one HDF5 file per run (layout in docs/HDF5.md).
 *
 * Rows are buffered and appended to chunked, compressed, extendible compound datasets,
 * so memory stays flat in run length.  The file is opened in SWMR-write mode after its
 * structure is created, so a process killed at any moment leaves a file readable up to
 * the last sk_recorder_flush.  Everything that depends on the wall clock goes under
 * /run_info, apart from the deterministic datasets.
 */
#ifndef SKADI_RECORDER_H
#define SKADI_RECORDER_H

#include <stddef.h>

#include "skadi/status.h"
#include "skadi/telemetry.h"

typedef struct sk_recorder sk_recorder;

typedef struct {
  const char *path;              /* file to create (truncated if it exists) */
  const char *scenario_name;
  const char *scenario_json;     /* the effective scenario, as JSON text */
  const char *skadi_version;
  unsigned long long seed;
  double duration_s;
  double sample_period_s;
  /* Effective settings as parallel arrays of key/value strings (stored under /config). */
  size_t n_config;
  const char *const *config_keys;
  const char *const *config_values;
  /* Static rack table. */
  size_t n_racks;
  const char *const *rack_ids;   /* "R-C-07" */
  const int *rack_row;           /* row index 0.. */
  const int *rack_pos;           /* position in row 0.. */
} sk_recorder_config;

/* Creates the file and its layout.  On failure writes a message naming the path into
 * err (size errlen) and returns a negative status; nothing to destroy then. */
sk_status sk_recorder_create(sk_recorder **out, const sk_recorder_config *cfg, char *err,
                             size_t errlen);

/* Append rows (copied into the recorder's buffers; written when a buffer fills or on
 * flush). */
sk_status sk_recorder_add_racks(sk_recorder *rec, const sk_rack_sample *rows, size_t n);
sk_status sk_recorder_add_crahs(sk_recorder *rec, const sk_crah_sample *rows, size_t n);
sk_status sk_recorder_add_room(sk_recorder *rec, const sk_room_sample *row);
sk_status sk_recorder_add_event(sk_recorder *rec, const sk_event_record *ev);

/* Writes buffered rows and flushes the file to disk. */
sk_status sk_recorder_flush(sk_recorder *rec);

/* Summary: deterministic key figures go to /summary (attributes), wall-clock figures to
 * /run_info.  Called once before close; n pairs each. */
typedef struct {
  const char *key;
  double value;
  const char *unit;
} sk_recorder_figure;
sk_status sk_recorder_finish(sk_recorder *rec, const sk_recorder_figure *summary, size_t n_summary,
                             const sk_recorder_figure *run_info, size_t n_run_info,
                             const char *status_text);

/* Flushes and closes; NULL is a no-op.  Safe to call from the normal exit path after a
 * signal set a stop flag (never from inside a signal handler). */
void sk_recorder_close(sk_recorder *rec);

#endif
