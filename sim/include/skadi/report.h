/*
 * report.h -- the judges' report of a recording (the seed's POST /report/judges): KPIs,
 * energy by subsystem, savings against the counterfactual, the action log with predicted
 * against realized savings, the monitor's findings, run performance and chart references,
 * as one JSON object built from a file written by `skadi run`.  Every field is described
 * in docs/REPORT.md; the recording's layout is docs/HDF5.md.
 *
 * The report only reads the file; it never recomputes the twin.  What the recording does
 * not hold (a plain run has no counterfactual, a killed run no /summary) is left out or
 * null with a line in the report's "notes", never estimated.
 */
#ifndef SKADI_REPORT_H
#define SKADI_REPORT_H

#include <stddef.h>

#include "skadi/status.h"

/* cJSON's own tag; declared here so that including this header does not need cJSON's. */
struct cJSON;

/* Version of the report's JSON layout (field "format_version"); bumped when a field is
 * renamed, removed or changes meaning.  Adding a field keeps it. */
#define SK_REPORT_FORMAT_VERSION 1

/* Builds the report of the recording at path.  On SK_OK *out is a new cJSON object the
 * caller frees with cJSON_Delete.  On failure *out is NULL and err (errlen bytes, may be
 * NULL/0) holds a message that names path:
 *   SK_ENOTFOUND  path does not exist;
 *   SK_EPARSE     path is a directory, not an HDF5 file, not a Skadi recording
 *                 ("<path>: not a skadi recording (no format_version)", "... (no
 *                 /telemetry/room)"), a recording of a newer format_version, or its
 *                 /telemetry/room lacks a field the report needs;
 *   SK_EIO        the file exists but cannot be opened or read;
 *   SK_ENOMEM     out of memory.
 * The file is read through recording.h (sk_recording_open's checks and messages).
 * Memory is bounded by the action rows kept for the log (applied, rolled back, realized)
 * plus one read block per table, whatever the run length.  Silences HDF5's automatic
 * error printing during the call and restores it (process-wide in HDF5 1.10); not
 * thread-safe. */
sk_status sk_report_build(const char *path, struct cJSON **out, char *err, size_t errlen);

/* Adds "against_best_fixed" to a report rep (sk_report_build's): the recording's
 * Wh/prompt against the best point of the sweep file at sweep_path (the lowest mean
 * Wh/prompt meeting the sweep's constraints, sweep.h) beside its saving against its own
 * settings (the counterfactual), with a note when the sweep's base scenario is not the
 * recording's.  Errors as sk_sweep_file_read's. */
sk_status sk_report_against(struct cJSON *rep, const char *sweep_path, char *err, size_t errlen);

#endif
