/*
 * fileutil.h -- reading a whole text file into memory, for the loaders that parse in
 * place: scenario.c (scenario JSON and .env).  CSV files are streamed instead, through
 * skadi/csv.h (csv.c).  Private to sim/.
 */
#ifndef SKADI_SIM_FILEUTIL_H
#define SKADI_SIM_FILEUTIL_H

#include <stddef.h>

#include "skadi/status.h"

/* Reads the file at path into *out (malloc'd and NUL-terminated; the caller frees it),
 * its length without the NUL into *len.  max_bytes caps the buffer (a power of two of at
 * least 64 KiB), so a wrong path cannot eat memory: a file of max_bytes - 1 bytes or more
 * is refused.  On failure nothing stays allocated, *out and *len are untouched, and why
 * (whylen bytes) says what, for the caller to word into its own message:
 *   SK_EIO     the system's reason (strerror), with *step (step may be NULL; scenario.c
 *              passes NULL and words every step "cannot read") naming what failed:
 *              "cannot read" (path is a directory), "cannot open" or "read error";
 *   SK_ERANGE  "larger than <max_bytes> bytes";
 *   SK_ENOMEM  "out of memory". */
sk_status sk__read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                        const char **step, char *why, size_t whylen);

#endif
