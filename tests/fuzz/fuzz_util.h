/*
 * fuzz_util.h -- what the libFuzzer harnesses of tests/fuzz share: the input as a C
 * string, or as a file (the readers that take a path: CSV, traces, models, recordings).
 *
 * The file lives in a scratch directory made once per process (mkdtemp under $TMPDIR)
 * and is rewritten for every input, so a harness opens a fresh file each time and a
 * crash leaves at most a few files in /tmp.  Nothing here may fail quietly: a harness
 * that cannot write its input aborts, so a broken setup is not mistaken for coverage.
 */
#ifndef SKADI_FUZZ_UTIL_H
#define SKADI_FUZZ_UTIL_H

#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (malloc'd; the caller frees). */
static inline char *fz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* The scratch directory, made on first use. */
static inline const char *fz_dir(void) {
  static char dir[256];
  if (!dir[0]) {
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/skadi-fuzz-XXXXXX", t && t[0] ? t : "/tmp");
    if (!mkdtemp(dir))
      abort();
  }
  return dir;
}

/* Writes size bytes at data to <scratch>/name and returns its path (static storage,
 * one per name slot: slot 0..3). */
static inline const char *fz_file(int slot, const char *name, const void *data, size_t size) {
  static char paths[4][320];
  snprintf(paths[slot], sizeof paths[slot], "%s/%s", fz_dir(), name);
  FILE *f = fopen(paths[slot], "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
    abort();
  return paths[slot];
}

#endif
