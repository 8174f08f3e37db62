/*
 * trace.h -- loads an LLM request trace into plain arrays the workload model replays.
 * Three published formats (docs/SCENARIOS.md, "Request traces"):
 *
 *   azure     Azure LLM inference trace 2023 and 2024: CSV "TIMESTAMP,ContextTokens,
 *             GeneratedTokens", times like "2023-11-16 18:17:03.9799600" (2023, no zone)
 *             or "2024-05-10 00:00:00.009930+00:00" (2024)
 *   mooncake  Mooncake (Kimi) traces: JSON Lines, one object per request with "timestamp"
 *             (ms since the trace's start), "input_length", "output_length" (tokens) and
 *             "hash_ids" (the prompt's 512-token KV-cache blocks, kept for the servers'
             prefix caches: kv_off, kv_hash below)
 *   burstgpt  BurstGPT: CSV "Timestamp,Model,Request tokens,Response tokens,Total tokens,
 *             Log Type", Timestamp in s since the trace's start; rows with 0 response
 *             tokens (failed requests) are skipped and counted
 *
 * and SK_TRACE_AUTO, which tells them apart: a first non-blank character '{' is
 * Mooncake, else the CSV header's columns decide.
 */
#ifndef SKADI_TRACE_H
#define SKADI_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/status.h"

typedef enum {
  SK_TRACE_AUTO = 0,
  SK_TRACE_AZURE = 1,
  SK_TRACE_MOONCAKE = 2,
  SK_TRACE_BURSTGPT = 3
} sk_trace_format;

typedef struct {
  size_t n;               /* requests */
  double *t_s;            /* s since the first request, non-decreasing */
  int32_t *in_tokens;     /* prompt tokens, >= 1 */
  int32_t *out_tokens;    /* generated tokens, >= 1 */
  double span_s;          /* s, last - first timestamp (the trace repeats after this) */
  sk_trace_format format; /* the format read (never AUTO after a load) */
  size_t n_skipped;       /* rows left out: BurstGPT's failed requests (0 response tokens) */
  size_t n_unsorted;      /* rows earlier than the row before them (the arrays are sorted) */
  size_t n_trailer;       /* trailing non-data lines skipped (CSV formats) */
  size_t n_clamped;       /* requests cut to max_tokens by sk_trace_clamp */
  /* KV-cache block hashes (Mooncake's hash_ids), in request order: request i's blocks are
   * kv_hash[kv_off[i] .. kv_off[i + 1]).  Both NULL when no row had hash_ids (Azure,
   * BurstGPT, a Mooncake file without them); a row without the key has no blocks. */
  uint32_t *kv_off;       /* n + 1 offsets into kv_hash, non-decreasing, kv_off[0] = 0 */
  uint64_t *kv_hash;      /* kv_off[n] hashes, each 0 .. 2^53 (exact in JSON) */
} sk_trace;

#define SK_TRACE_MAX_HASHES_PER_REQUEST 16384 /* 8 M tokens of 512-token blocks */
#define SK_TRACE_MAX_HASHES (1u << 27)        /* all requests together: 1 GiB of hashes */

/* "auto", "azure", "mooncake", "burstgpt"; NULL outside the enum. */
const char *sk_trace_format_name(sk_trace_format f);

/* Loads `path` in format fmt (SK_TRACE_AUTO: sniffed).  CSV formats go through the shared
 * reader (skadi/csv.h: quoting, LF or CRLF, BOM, sniffed delimiter, trailing non-data lines
 * skipped); times through skadi/timestamp.h.  Rows in any order are sorted by time
 * (stably).  On failure nothing is left to free and err says why:
 *   SK_EIO     cannot open or read ("<path>: cannot open: ...")
 *   SK_EPARSE  bad content: "<path>:<line>: <column>: <reason>"
 *   SK_ERANGE  more than 2^25 requests, or (Mooncake) a row with more than
 *              SK_TRACE_MAX_HASHES_PER_REQUEST hash_ids or more than SK_TRACE_MAX_HASHES
 *              in all: "<path>:<line>: hash_ids: ..."
 *   SK_ENOMEM  out of memory
 * Otherwise the caller frees with sk_trace_fini. */
sk_status sk_trace_load_format(sk_trace *tr, const char *path, sk_trace_format fmt, char *err,
                               size_t errlen);

/* sk_trace_load_format with SK_TRACE_AUTO. */
sk_status sk_trace_load(sk_trace *tr, const char *path, char *err, size_t errlen);

/* Caps every prompt and output at max_tokens (>= 1), as the Poisson workload's draws are
 * (workload.max_tokens); returns how many requests had a count cut (also added to
 * n_clamped). */
size_t sk_trace_clamp(sk_trace *tr, int32_t max_tokens);

void sk_trace_fini(sk_trace *tr);

#endif
