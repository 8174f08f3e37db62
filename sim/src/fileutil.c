/*
 * fileutil.c -- whole-file reading for the loaders (contract in fileutil.h).
 *
 * The buffer starts at 64 KiB and doubles, so a file costs at most twice its size and the
 * cap is met exactly.  The reason comes back in pieces (the failing step, the system's
 * words) rather than as one message, so a loader words its own: scenario.c says "cannot
 * read" for every I/O failure, and its tests hold it to that (no caller asks for the step
 * now: the trace loader that did streams its CSV through csv.c).
 */
#define _POSIX_C_SOURCE 200809L

#include "fileutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static sk_status io_failure(const char *what, int e, const char **step, char *why, size_t whylen) {
  if (step != NULL)
    *step = what;
  sk_errf(why, whylen, "%s", strerror(e));
  return SK_EIO;
}

sk_status sk__read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                        const char **step, char *why, size_t whylen) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return io_failure("cannot read", EISDIR, step, why, whylen);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return io_failure("cannot open", errno, step, why, whylen);
  size_t cap = 1u << 16, n = 0;
  sk_status rc = SK_OK;
  char *buf = malloc(cap);
  if (buf == NULL)
    rc = SK_ENOMEM;
  while (rc == SK_OK) {
    if (n + 1 >= cap) {
      if (cap >= max_bytes) {
        sk_errf(why, whylen, "larger than %zu bytes", max_bytes);
        rc = SK_ERANGE;
        break;
      }
      char *nb = realloc(buf, cap * 2);
      if (nb == NULL) {
        rc = SK_ENOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - 1 - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f))
        rc = io_failure("read error", errno ? errno : EIO, step, why, whylen);
      break;
    }
  }
  fclose(f);
  if (rc == SK_ENOMEM)
    sk_errf(why, whylen, "out of memory");
  if (rc != SK_OK) {
    free(buf);
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return SK_OK;
}
