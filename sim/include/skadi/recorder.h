/*
 * recorder.h -- one HDF5 file per run (layout in docs/HDF5.md; its tables and fields are
 * the public schema, schema.h; recording.h reads the file back).
 *
 * Rows are buffered and appended to chunked, extendible compound datasets, so memory
 * stays flat in run length.  The file is opened in SWMR-write mode after its structure
 * is created, so a process killed at any moment leaves a file readable up to the last
 * sk_recorder_flush (open it with h5py.File(path, "r", swmr=True), or run `h5clear -s`
 * on it first).  The tables are written uncompressed during the run and compressed
 * (shuffle + deflate) by sk_recorder_finish.  Everything that depends on the wall clock
 * or the host goes under /run_info, apart from the deterministic datasets.
 *
 * Not thread-safe: one thread uses a recorder.  The calls save, clear and restore
 * HDF5's automatic error printing (process-wide in HDF5 1.10).
 */
#ifndef SKADI_RECORDER_H
#define SKADI_RECORDER_H

#include <stddef.h>

#include "skadi/schema.h"
#include "skadi/status.h"
#include "skadi/telemetry.h"

typedef struct sk_recorder sk_recorder;

/* Root attribute format_version; bumped on any incompatible layout change. */
#define SK_RECORDER_FORMAT_VERSION 1

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

/* Creates the file and its layout; the caller destroys *out with sk_recorder_close.
 * cfg and its strings are only read during the call.  On failure writes a message
 * naming the path and the reason into err (size errlen, may be NULL/0) and returns
 * SK_EIO (cannot create or write the file: missing directory, permission, ...),
 * SK_EINVAL (a rack id longer than SK_RACK_ID_LEN, an empty, duplicated or '/'-holding
 * config key) or SK_ENOMEM; *out is NULL and no file is left behind then.  NULL strings
 * are stored as "". */
sk_status sk_recorder_create(sk_recorder **out, const sk_recorder_config *cfg, char *err,
                             size_t errlen);

/* Append rows (copied into the recorder's buffers; written when a buffer reaches a
 * chunk boundary, and on flush).  Char arrays are stored up to their first NUL (a
 * full-length one keeps all its bytes).  SK_EIO on a write failure, see
 * sk_recorder_error.  Calling them after sk_recorder_finish is a bug (asserts). */
sk_status sk_recorder_add_racks(sk_recorder *rec, const sk_rack_sample *rows, size_t n);
sk_status sk_recorder_add_crahs(sk_recorder *rec, const sk_crah_sample *rows, size_t n);
sk_status sk_recorder_add_room(sk_recorder *rec, const sk_room_sample *row);
sk_status sk_recorder_add_event(sk_recorder *rec, const sk_event_record *ev);
/* Monitor rows (IMS/MMS per rack per fast tick) and audit-trail rows (control.h). */
sk_status sk_recorder_add_monitor(sk_recorder *rec, const sk_monitor_record *rows, size_t n);
sk_status sk_recorder_add_action(sk_recorder *rec, const sk_action_record *a);
/* A command posted to the run session, as it was applied (the /commands table, created
 * empty with the file and filled in the order of these calls). */
sk_status sk_recorder_add_command(sk_recorder *rec, const sk_command_record *c);

/* Writes buffered rows and flushes the file (to the OS, no fsync): after it returns, a
 * SIGKILL leaves every row added so far readable.  Cheap (measured ~0.07 ms per flush
 * of one 72-rack sample), so flushing every sample period is fine. */
sk_status sk_recorder_flush(sk_recorder *rec);

/* Summary: deterministic key figures go to /summary (attributes), wall-clock figures to
 * /run_info; each as attribute "<key>" (float64) plus "<key>_units".  Called at most
 * once, then only sk_recorder_close.  Writes the buffers, closes the run file and
 * replaces it with a compressed copy holding the figures and status_text (as /run_info
 * attribute "status"; NULL = "").  Keys must be non-empty, without '/', unique in their
 * group, not "<other key>_units" and none of created_utc, hostname, hdf5_version,
 * finished_utc, status: SK_EINVAL otherwise, before anything is written (the recorder
 * stays open).  SK_EIO if the copy fails: the run file is then kept uncompressed, with
 * the figures added when possible (sk_recorder_error says which). */
typedef struct {
  const char *key;
  double value;
  const char *unit;
} sk_recorder_figure;
sk_status sk_recorder_finish(sk_recorder *rec, const sk_recorder_figure *summary, size_t n_summary,
                             const sk_recorder_figure *run_info, size_t n_run_info,
                             const char *status_text);

/* 1 when sk_recorder_finish left a complete, readable file at the recorder's path: the
 * compressed one (SK_OK), or, when the compressed copy could not be made (a full disk at
 * finish: SK_EIO), the run file itself with its figures added, its tables uncompressed
 * and a root attribute "uncompressed" saying why.  0 otherwise. */
int sk_recorder_is_complete(const sk_recorder *rec);

/* Message of the last failure of a call on rec ("<path>: <what>: <reason>"), or "" if
 * none.  Owned by rec, valid until the next call on it.  After an I/O failure (SK_EIO)
 * the recorder stays failed: further calls return SK_EIO without writing, and the file
 * holds what the last successful sk_recorder_flush put there (a full disk included:
 * nothing is written after the failed write, not even on close; docs/HDF5.md). */
const char *sk_recorder_error(const sk_recorder *rec);

/* Writes the buffers, closes the file if still open and frees rec; NULL is a no-op.
 * Without sk_recorder_finish the file stays uncompressed and /summary empty.  Safe to
 * call from the normal exit path after a signal set a stop flag (never from inside a
 * signal handler). */
void sk_recorder_close(sk_recorder *rec);

#endif
