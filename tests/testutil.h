/*
 * testutil.h -- helpers shared by the Check suites: a scratch directory per test, files in
 * it, running a program (the skadi binary, h5diff, python) with its output captured, and
 * the runner's main.  Include it after the feature-test macro (_POSIX_C_SOURCE).
 *
 * The helpers are static inline, so a suite pays only for what it calls and an unused one
 * draws no warning; each suite has its own scratch directory name (tu_dir).  The helpers assert
 * (ck_assert) rather than return errors: a failing helper is a broken test environment, and the
 * test should stop there.
 */
#ifndef SKADI_TESTS_TESTUTIL_H
#define SKADI_TESTS_TESTUTIL_H

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define ASSERT_HAS(text, needle)                                                                   \
  ck_assert_msg(strstr((text), (needle)) != NULL, "'%s' not in: %s", (needle), (text))

/* The suite's scratch directory, one per test: tu_scratch_setup makes it (call it from
 * the checked fixture's setup), tu_scratch_teardown removes it with everything in it. */
static char tu_dir[256];

static inline void tu_scratch_setup(const char *prefix) {
  snprintf(tu_dir, sizeof tu_dir, "/tmp/%sXXXXXX", prefix);
  ck_assert_ptr_nonnull(mkdtemp(tu_dir));
}

static inline void tu_scratch_teardown(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
  ck_assert_int_eq(system(cmd), 0);
}

/* "<scratch dir>/name" in one of 64 rotating static buffers: a case table may hold
 * dozens of paths at once, and an argv several. */
static inline char *tu_tmp(const char *name) {
  static char buf[64][512];
  static int k;
  char *b = buf[k++ % 64];
  snprintf(b, sizeof buf[0], "%s/%s", tu_dir, name);
  return b;
}

/* SKADI_BIN (the skadi binary) and SKADI_SOURCE_DIR, which CTest sets for every suite. */
static inline void tu_skadi_env(const char **bin, const char **src) {
  *bin = getenv("SKADI_BIN");
  *src = getenv("SKADI_SOURCE_DIR");
  ck_assert_msg(*bin != NULL, "SKADI_BIN not set (run through ctest)");
  ck_assert_msg(*src != NULL, "SKADI_SOURCE_DIR not set (run through ctest)");
}

/* Writes text to path, replacing the file. */
static inline void tu_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  ck_assert_msg(f != NULL, "cannot create %s", path);
  fputs(text, f);
  fclose(f);
}

/* The first cap - 1 bytes of path into buf, NUL-terminated ("" when it cannot be read). */
static inline void tu_slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t n = 0;
  if (f) {
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
  }
  buf[n] = '\0';
}

/* The whole of path, NUL-terminated, in memory the caller frees; NULL when it cannot be
 * opened. */
static inline char *tu_read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  size_t cap = 1 << 16, n = 0, got;
  char *buf = malloc(cap);
  ck_assert_ptr_nonnull(buf);
  while ((got = fread(buf + n, 1, cap - 1 - n, f)) > 0) {
    n += got;
    if (n + 1 >= cap) {
      buf = realloc(buf, cap *= 2);
      ck_assert_ptr_nonnull(buf);
    }
  }
  fclose(f);
  buf[n] = '\0';
  return buf;
}

/* A finished program: how it ended and the start of what it printed. */
typedef struct {
  int status; /* exit status, or 128 + the signal that ended it */
  char out[65536];
  char err[8192];
} tu_result;

/* Starts argv (found on PATH) with stdout and stderr going to the files stdout and
 * stderr of the scratch directory; returns its pid. */
static inline pid_t tu_spawn(char *const argv[]) {
  char out[512], err[512]; /* not tu_tmp's buffers: a caller's paths may live there */
  snprintf(out, sizeof out, "%s/stdout", tu_dir);
  snprintf(err, sizeof err, "%s/stderr", tu_dir);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fo, 1);
    dup2(fe, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  return pid;
}

/* Waits for pid: its exit status, or 128 + the signal that ended it. */
static inline int tu_wait(pid_t pid) {
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* What the program last started by tu_spawn printed, into r. */
static inline void tu_collect(tu_result *r) {
  char path[512];
  snprintf(path, sizeof path, "%s/stdout", tu_dir);
  tu_slurp(path, r->out, sizeof r->out);
  snprintf(path, sizeof path, "%s/stderr", tu_dir);
  tu_slurp(path, r->err, sizeof r->err);
}

/* Runs argv to the end and fills r. */
static inline void tu_run(tu_result *r, char *const argv[]) {
  r->status = tu_wait(tu_spawn(argv));
  tu_collect(r);
}

/* Records `skadi run scenarios/baseline.json --duration duration` (e.g. "30m") into the
 * file out, through the real binary. */
static inline void tu_record_baseline(const char *out, const char *duration) {
  const char *skadi, *source;
  tu_skadi_env(&skadi, &source);
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", source);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)skadi, "run", scen, "--duration", (char *)duration, "--out",
                             (char *)out, "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "skadi run: %s", r.err);
}

/* main() of a suite: runs it in fork mode and returns the exit status. */
static inline int tu_run_suite(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
