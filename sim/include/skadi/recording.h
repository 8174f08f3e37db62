/*
 * recording.h -- reading a recording of `skadi run` back: the one reader of the files
 * recorder.h writes (layout in docs/HDF5.md).  `skadi report`, `skadi ims` and replay use
 * it.
 *
 * sk_recording_open checks that the file is a recording, reads its metadata (root
 * attributes, /config, /summary, /run_info, the /racks layout) and opens its tables; the
 * rows of any table of the schema (schema.h) are then counted and read by range into the
 * caller's row structs (telemetry.h), field by field by name, so a file whose fields are
 * reordered or that has more of them reads the same.  A field of the schema that a file
 * lacks (one added to the schema after the file was written) reads as NaN, 0 or "";
 * sk_recording_has_field tells.  A table the file lacks reads as empty.
 *
 * Rows of one sample are contiguous and ts ascends in every table, so the rows of a time
 * range are found by search (sk_recording_find): replay reads a range of
 * /telemetry/room and the /telemetry/racks rows of the same samples with one find and one
 * read each.
 *
 * A file still marked open for SWMR writing (a run going on, or one that was killed) is
 * opened as a SWMR reader, and its row counts are refreshed on every count and read.  No
 * other failed open is retried that way: a SWMR open of a damaged file can hang.
 *
 * Not thread-safe: one thread uses a handle, and the calls save, clear and restore HDF5's
 * automatic error printing (process-wide in HDF5 1.10).
 */
#ifndef SKADI_RECORDING_H
#define SKADI_RECORDING_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/recorder.h"
#include "skadi/schema.h"
#include "skadi/status.h"

typedef struct sk_recording sk_recording;

/* What sk_recording_open read; owned by the handle, valid until sk_recording_close.
 * Strings are NULL when the file lacks the attribute (the recorder writes every one). */
typedef struct {
  const char *path;          /* as given to sk_recording_open */
  int format_version;        /* 1..SK_RECORDER_FORMAT_VERSION */
  const char *scenario_name; /* root attributes */
  const char *scenario_json; /* the effective scenario as JSON text */
  const char *skadi_version;
  int has_seed; /* seed is meaningful */
  uint64_t seed;
  double duration_s;      /* s, requested simulated duration; NaN when absent */
  double sample_period_s; /* s, telemetry sample period; NaN when absent */
  const char *status;     /* /run_info status ("completed", ...); NULL: the run never
                             reached sk_recorder_finish (killed, or still going) */
  int live;               /* the file is marked open for SWMR writing (a run going on,
                             or one killed): read as a SWMR reader, rows may grow */
  int has_config, has_summary, has_run_info; /* the groups exist */
  /* /config: the effective settings as recorded, key and value text, in recorded order. */
  size_t n_config;
  const char *const *config_keys;
  const char *const *config_values;
  /* The numeric attributes of /summary (deterministic key figures) and of /run_info
   * (wall-clock figures), each with its "<key>_units" ("" when absent), in recorded
   * order; empty for a run that never finished. */
  size_t n_summary;
  const sk_recorder_figure *summary;
  size_t n_run_info;
  const sk_recorder_figure *run_info;
  /* /racks, the rack layout, in recorded order (empty when the file lacks it or it cannot
   * be read: then sk_recording_count on SK_TABLE_RACK_LAYOUT says why). */
  size_t n_racks;
  const sk_rack_entry *racks;
} sk_recording_meta;

/* Opens the recording at path; the caller closes *out with sk_recording_close.  On
 * failure *out is NULL and err (errlen bytes, may be NULL/0) holds a message naming path:
 *   SK_ENOTFOUND  no such file;
 *   SK_EPARSE     a directory, not an HDF5 file ("<path>: not a skadi recording (not an
 *                 HDF5 file)"), not a recording ("... (no format_version)", or "... (no
 *                 /telemetry/room)" for an HDF5 file of another kind, such as an IMS
 *                 model), or a newer format_version than this build reads;
 *   SK_EIO        the file cannot be read or opened (HDF5's reason; a file marked open
 *                 for writing by a non-SWMR writer says so);
 *   SK_ENOMEM     out of memory.
 * A malformed table does not fail the open: counting or reading it does. */
sk_status sk_recording_open(sk_recording **out, const char *path, char *err, size_t errlen);

/* Closes the file and frees rec and its metadata; NULL is a no-op. */
void sk_recording_close(sk_recording *rec);

const sk_recording_meta *sk_recording_metadata(const sk_recording *rec);

/* The /config value of key, or NULL when the file has no such setting. */
const char *sk_recording_config(const sk_recording *rec, const char *key);

/* The /config value of key as a finite number into *v.  SK_ENOTFOUND "<path>: /config:
 * attribute <key> missing", SK_EPARSE "<path>: /config: <key> = '<text>' is not a number"
 * (message in sk_recording_error); *v is NaN then. */
sk_status sk_recording_config_f64(sk_recording *rec, const char *key, double *v);

/* The figure called key among figs[n] (meta's summary or run_info), or NULL. */
const sk_recorder_figure *sk_recording_figure(const sk_recorder_figure *figs, size_t n,
                                              const char *key);

/* 1 when the file has the table's dataset (whether or not it can be read), else 0. */
int sk_recording_has_table(const sk_recording *rec, sk_table_id id);

/* 1 when the table is readable and the file holds its field name, else 0. */
int sk_recording_has_field(const sk_recording *rec, sk_table_id id, const char *name);

/* Rows in table id into *n: 0 for a table the file lacks.  SK_EPARSE when the dataset is
 * not a 1-D compound table or a field has a type that does not convert to the schema's
 * (a string for a number, ...), SK_EIO when it cannot be opened; *n is 0 then and
 * sk_recording_error says which table and why. */
sk_status sk_recording_count(sk_recording *rec, sk_table_id id, uint64_t *n);

/* Reads rows [first, first + n) of table id into rows, n row structs of the schema's
 * row_size (sk_rack_sample for SK_TABLE_RACKS, ...).  Every byte of them is written:
 * padding and the rest of a char array after its text are zero, fields the file lacks
 * are NaN, 0 or "".  A char array that the text fills has no NUL (as recorded).
 * SK_ERANGE when the range ends past the last row; the errors of sk_recording_count;
 * SK_EPARSE when the file is damaged (HDF5 read bytes that make no sense), SK_EIO when the
 * system fails to read. */
sk_status sk_recording_read(sk_recording *rec, sk_table_id id, uint64_t first, size_t n,
                            void *rows);

/* Called with consecutive rows of a table, n >= 1 of them; a status other than SK_OK
 * stops the scan, which returns it. */
typedef sk_status (*sk_recording_rows_fn)(void *ud, const void *rows, size_t n);

/* Reads every row of table id, block_rows (>= 1) at a time into one buffer of its own
 * (freed before it returns), and calls fn on each block: memory stays flat in the table's
 * length.  A table the file lacks calls fn never.  Errors as sk_recording_read, SK_ENOMEM,
 * or fn's status (its message is fn's to word). */
sk_status sk_recording_scan(sk_recording *rec, sk_table_id id, size_t block_rows,
                            sk_recording_rows_fn fn, void *ud);

/* The rows of table id with from_s <= ts < to_s: *first is the first of them (or where
 * it would be) and *n how many.  ts must ascend through the table, as it does in every
 * table a run writes; the search interpolates, then bisects, and reads a few values of ts
 * (O(log rows) at worst): ~1 ms for a sample of a simulated day at 72 racks, 0.2 ms when
 * the chunk is cached, as in a replay that goes forward.  The table must have a
 * ts field (every one but SK_TABLE_RACK_LAYOUT; asserted).  Errors as sk_recording_read. */
sk_status sk_recording_find(sk_recording *rec, sk_table_id id, double from_s, double to_s,
                            uint64_t *first, uint64_t *n);

/* The rows of table id at exactly ts_s (a ts read from the file, e.g. a room row's): for
 * SK_TABLE_RACKS the n_racks rows of that sample. */
sk_status sk_recording_find_at(sk_recording *rec, sk_table_id id, double ts_s, uint64_t *first,
                               uint64_t *n);

/* Message of the last failure of a call on rec ("<path>: <what>: <reason>"), or "" when
 * it succeeded.  Owned by rec, valid until the next call on it. */
const char *sk_recording_error(const sk_recording *rec);

#endif
