/*
 * perf_csv.h -- the file-reading half of the inference-timing calibration: reads a
 * SplitwiseSim-format CSV and fits the skadi/perf.h formulas to it with sk_perf_fit (the
 * fitting half, in models/, which does no I/O).
 */
#ifndef SKADI_PERF_CSV_H
#define SKADI_PERF_CSV_H

#include <stddef.h>

#include "skadi/perf.h"
#include "skadi/status.h"

/* Reads the SplitwiseSim-format CSV at `path` (skadi/csv.h's dialect: a header line naming
 * at least model, hardware, prompt_size, batch_size, prompt_time, token_time,
 * tensor_parallel, in any order; times in ms; at most 64 fields and 4096 bytes per row),
 * keeps the rows whose model and hardware equal the given strings exactly and whose
 * tensor_parallel equals `tensor_parallel`, and fits them with sk_perf_fit, each row one
 * sample (prefill_tokens = prompt_size * batch_size, batch = batch_size, prefill_ms =
 * prompt_time, step_ms = token_time).  Numbers of rows that do not match the filter are
 * not parsed.
 *
 * On success writes *out (all five coefficients) and, if rep is not NULL, *rep.
 * Errors (the message in err, which names the path, when err is not NULL and errlen > 0;
 * *out and *rep are left untouched):
 *   SK_EIO       the file cannot be opened or read
 *   SK_EPARSE    missing header or column, a column twice, a row too long or too short
 *                for the header's columns, a bad number (line and column named)
 *   SK_ERANGE    a size or time <= 0 in a matching row, or more than 1,000,000 matching rows
 *   SK_ENOTFOUND no row matches the filter
 *   SK_EINVAL    fewer than 3 distinct N or 2 distinct B among the matching rows
 *   SK_ENOMEM    allocation failed
 * Reads the file and allocates only for the duration of the call. */
sk_status sk_perf_fit_csv(const char *path, const char *model, const char *hardware,
                          int tensor_parallel, sk_perf_params *out, sk_perf_fit_report *rep,
                          char *err, size_t errlen);

#endif
