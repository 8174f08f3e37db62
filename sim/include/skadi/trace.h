/*
 * trace.h -- loads an LLM request trace CSV in the Azure LLM inference trace 2023 format
 * (header "TIMESTAMP,ContextTokens,GeneratedTokens", timestamps like
 * "2023-11-16 18:17:03.9799600") into plain arrays the workload model replays.
 */
#ifndef SKADI_TRACE_H
#define SKADI_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/status.h"

typedef struct {
  size_t n;            /* requests */
  double *t_s;         /* s since the first request, non-decreasing */
  int32_t *in_tokens;  /* prompt tokens, >= 1 */
  int32_t *out_tokens; /* generated tokens, >= 1 */
  double span_s;       /* s, last - first timestamp (the trace repeats after this) */
} sk_trace;

/* Loads `path` (the CSV dialect of skadi/csv.h; times as skadi/timestamp.h's civil forms
 * with 'T' or a space, no zone, at most 7 fractional digits).  On failure nothing is left
 * to free and err says why:
 *   SK_EIO     cannot open or read ("<path>: cannot open: ...")
 *   SK_EPARSE  bad content: "<path>:<line>: <column>: <reason>"
 *   SK_ERANGE  more than 2^25 requests
 *   SK_ENOMEM  out of memory
 * Otherwise the caller frees with sk_trace_fini. */
sk_status sk_trace_load(sk_trace *tr, const char *path, char *err, size_t errlen);
void sk_trace_fini(sk_trace *tr);

#endif
