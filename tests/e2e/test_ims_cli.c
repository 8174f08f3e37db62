/*
 * test_ims_cli.c -- end to end: the real `skadi ims train/score/list` on a real recording
 * (made by `skadi run`) and on a CSV, their exit codes and messages, the score CSV's shape,
 * and identical model files from two identical trainings (h5diff).
 *
 * SKADI_BIN and SKADI_SOURCE_DIR come from CTest's environment.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];
static const char *bin, *src;

typedef struct {
  int status; /* exit status, or 128+signal */
  char out[65536];
  char err[8192];
} result;

static void slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  size_t n = 0;
  if (f) {
    n = fread(buf, 1, cap - 1, f);
    fclose(f);
  }
  buf[n] = 0;
}

static char *tmp(const char *name) {
  static char buf[64][512]; /* the case table holds a few dozen at once */
  static int k;
  char *b = buf[k++ % 64];
  snprintf(b, 512, "%s/%s", tmpdir, name);
  return b;
}

/* Runs argv with stdout/stderr to files in tmpdir, waits, collects both. */
static void run(result *r, char *const argv[]) {
  char out[512], err[512];
  snprintf(out, sizeof out, "%s/stdout", tmpdir);
  snprintf(err, sizeof err, "%s/stderr", tmpdir);
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
  int st;
  waitpid(pid, &st, 0);
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  slurp(out, r->out, sizeof r->out);
  slurp(err, r->err, sizeof r->err);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

/* Lines of a file (0 if missing). */
static long count_lines(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  long n = 0;
  int c;
  while ((c = fgetc(f)) != EOF)
    n += c == '\n';
  fclose(f);
  return n;
}

static void first_line(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(fgets(buf, (int)cap, f));
  fclose(f);
  buf[strcspn(buf, "\n")] = 0;
}

/* The number printed after label in text (summary lines are "label   value"), or -1. */
static long figure(const char *text, const char *label) {
  const char *p = strstr(text, label);
  return p ? strtol(p + strlen(label), NULL, 10) : -1;
}

#define ASSERT_HAS(text, needle)                                                                   \
  ck_assert_msg(strstr((text), (needle)) != NULL, "'%s' not in: %s", (needle), (text))

static void setup(void) {
  bin = getenv("SKADI_BIN");
  src = getenv("SKADI_SOURCE_DIR");
  ck_assert_ptr_nonnull(bin);
  ck_assert_ptr_nonnull(src);
  snprintf(tmpdir, sizeof tmpdir, "/tmp/skadi-ims-e2e-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* A 30-minute baseline recording: 180 samples x 72 racks. */
#define REC_ROWS (72 * 180)
static const char *recording(void) {
  char scen[512];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  const char *out = tmp("b.h5");
  result r;
  run(&r, (char *const[]){(char *)bin, "run", scen, "--duration", "30m", "--out", (char *)out,
                          "--no-progress", NULL});
  ck_assert_msg(r.status == 0, "skadi run: %s", r.err);
  return out;
}

/* A CSV of n rows with columns ts,rack_id,a,b,c: two regimes, a few empty fields, and a
 * last row far off in c. */
static void write_csv(const char *path, int n) {
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fprintf(f, "ts,rack_id,a,b,c\n");
  for (int i = 0; i < n - 1; i++) {
    double base = (i % 2) ? 10.0 : 0.0;
    if (i % 50 == 7)
      fprintf(f, "%d,R-%d,%.6f,,%.6f\n", i, i % 4, base + sin(i), 5 + cos(i));
    else
      fprintf(f, "%d,R-%d,%.6f,%.6f,%.6f\n", i, i % 4, base + sin(i), base * 2 + cos(i * 0.7),
              5 + cos(i));
  }
  fprintf(f, "%d,R-X,0.1,0.2,500\n", n - 1);
  fclose(f);
}

START_TEST(help_and_usage) {
  result r;
  const char *subs[] = {"train", "score", "list"};
  run(&r, (char *const[]){(char *)bin, "ims", "--help", NULL});
  ck_assert_int_eq(r.status, 0);
  ASSERT_HAS(r.out, "usage: skadi ims");
  ASSERT_HAS(r.out, "train");
  for (size_t i = 0; i < 3; i++) {
    run(&r, (char *const[]){(char *)bin, "ims", (char *)subs[i], "--help", NULL});
    ck_assert_msg(r.status == 0, "%s --help: %d", subs[i], r.status);
    ASSERT_HAS(r.out, "usage: skadi ims");
    ASSERT_HAS(r.out, subs[i]);
  }
  run(&r, (char *const[]){(char *)bin, "ims", "train", "--help", NULL});
  ASSERT_HAS(r.out, "--clusters");
  ASSERT_HAS(r.out, "--tau-persist-percentile");
  run(&r, (char *const[]){(char *)bin, "ims", NULL});
  ck_assert_int_eq(r.status, 2);
  run(&r, (char *const[]){(char *)bin, "ims", "frobnicate", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "frobnicate");
}
END_TEST

/* Train on a recording, list it, score the recording: one row per rack row. */
START_TEST(recording_train_list_score) {
  const char *rec = recording();
  mkdir(tmp("models"), 0755);
  result r;
  run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", (char *)rec, "--out",
                          tmp("models/ims-baseline.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(figure(r.out, "rows read"), REC_ROWS);
  ck_assert_int_gt(figure(r.out, "training rows"), REC_ROWS / 2);
  ASSERT_HAS(r.out, "skipped: off-nominal");
  /* every rack feature is either in the model or left out as constant (the baseline holds
   * fan and pump speeds fixed) */
  long n_feat = figure(r.out, "features"), n_const = figure(r.out, "left out (constant)");
  ck_assert_int_eq(n_feat + (n_const < 0 ? 0 : n_const), 10);
  ck_assert_int_ge(n_feat, 8);
  ASSERT_HAS(r.out, "tau_persist");

  run(&r, (char *const[]){(char *)bin, "ims", "list", tmp("models"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "ims-baseline.h5   8");
  ASSERT_HAS(r.out,
             "inlet_c,outlet_c,delta_t_c,pdu_kw,gpu_kw,tokens_ps,latency_p95_ms,queue_depth");

  run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tmp("models/ims-baseline.h5"),
                          "--data", (char *)rec, "--out", tmp("s.csv"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "12960 rows");
  ck_assert_int_eq(count_lines(tmp("s.csv")), REC_ROWS + 1);
  char hdr[1024];
  first_line(tmp("s.csv"), hdr, sizeof hdr);
  /* the first eight rack features, then fan and pump speeds if they varied */
  ASSERT_HAS(hdr, "ts,rack_id,deviation,cluster,top_feature,share_inlet_c,share_outlet_c,"
                  "share_delta_t_c,share_pdu_kw,share_gpu_kw,share_tokens_ps,"
                  "share_latency_p95_ms,share_queue_depth");

  /* to stdout, in a window: 61 samples of 72 racks; the summary goes to stderr */
  run(&r,
      (char *const[]){(char *)bin, "ims", "score", "--model", tmp("models/ims-baseline.h5"),
                      "--data", (char *)rec, "--from", "595", "--to", "1205", "--out", "-", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(count_lines(tmp("stdout")), 72 * 61 + 1);
  ASSERT_HAS(r.err, "4392 rows");
}
END_TEST

/* Train on a CSV with missing values, leaving the far-off last row out with --to (no
 * nominal filter applies to these columns); score it all: that row stands out. */
START_TEST(csv_train_score) {
  write_csv(tmp("t.csv"), 400);
  result r;
  run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tmp("t.csv"), "--features",
                          "a,b,c", "--clusters", "2", "--to", "398", "--out", tmp("m.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "not applied");
  ck_assert_int_eq(figure(r.out, "skipped: missing value"), 8);
  ck_assert_int_eq(figure(r.out, "rows in window"), 399);
  ck_assert_int_eq(figure(r.out, "training rows"), 391);
  run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tmp("m.h5"), "--data",
                          tmp("t.csv"), "--out", tmp("s.csv"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(count_lines(tmp("s.csv")), 401);
  char hdr[256];
  first_line(tmp("s.csv"), hdr, sizeof hdr);
  ck_assert_str_eq(hdr, "ts,rack_id,deviation,cluster,top_feature,share_a,share_b,share_c");
  ck_assert_int_eq(figure(r.out, "rows with a missing value (as mean)"), 8);
  /* the last row: c = 500, far outside; c carries the deviation */
  char all[65536];
  slurp(tmp("s.csv"), all, sizeof all);
  const char *last = strstr(all, "\n399,R-X,");
  ck_assert_ptr_nonnull(last);
  double dev = atof(last + strlen("\n399,R-X,"));
  ck_assert_double_gt(dev, 100.0);
  ck_assert_ptr_nonnull(strstr(last, ",c,"));
}
END_TEST

/* Training twice on the same data gives the same model file. */
START_TEST(train_twice_identical) {
  write_csv(tmp("t.csv"), 400);
  result r;
  for (int i = 0; i < 2; i++) {
    run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tmp("t.csv"), "--features",
                            "a,b,c", "--clusters", "3", "--seed", "42", "--out",
                            tmp(i ? "m2.h5" : "m1.h5"), NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
  }
  run(&r, (char *const[]){"h5diff", tmp("m1.h5"), tmp("m2.h5"), NULL});
  ck_assert_msg(r.status == 0, "models differ: %s%s", r.out, r.err);
  const char *ds[] = {"/centroids", "/mean", "/scale", "/feature_names"};
  for (size_t i = 0; i < 4; i++) {
    run(&r,
        (char *const[]){"h5diff", tmp("m1.h5"), tmp("m2.h5"), (char *)ds[i], (char *)ds[i], NULL});
    ck_assert_msg(r.status == 0, "%s differs: %s%s", ds[i], r.out, r.err);
  }
  /* no time stamps inside: the files are equal byte for byte */
  run(&r, (char *const[]){"cmp", tmp("m1.h5"), tmp("m2.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.out);
}
END_TEST

/* Bad input exits 2 naming the file and the field; a failed write exits 1. */
START_TEST(exit_codes_and_messages) {
  write_csv(tmp("t.csv"), 400);
  write_file(tmp("ragged.csv"), "ts,a,b,c\n1,2,3,4\n2,3,4\n");
  write_file(tmp("word.csv"), "ts,a,b,c\n1,2,3,4\n2,3,four,5\n");
  write_file(tmp("five.csv"), "a,b,c\n1,2,3\n2,3,1\n3,1,2\n4,4,4\n5,0,1\n");
  result r;
  run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tmp("t.csv"), "--features",
                          "a,b,c", "--clusters", "2", "--out", tmp("m.h5"), NULL});
  ck_assert_int_eq(r.status, 0);

  struct {
    char *argv[16];
    int status;
    const char *expect1, *expect2;
  } cases[] = {
      {{"train", "--data", tmp("ragged.csv"), "--features", "a,b,c", "--out", tmp("x.h5")},
       2,
       "ragged.csv:3:6",
       "expected 4 fields"},
      {{"train", "--data", tmp("word.csv"), "--features", "a,b,c", "--out", tmp("x.h5")},
       2,
       "word.csv:3:5",
       "b: 'four' is not a number"},
      {{"train", "--data", tmp("t.csv"), "--features", "a,zz", "--out", tmp("x.h5")},
       2,
       "t.csv:1",
       "no column 'zz'"},
      {{"train", "--data", tmp("five.csv"), "--features", "a,b,c", "--out", tmp("x.h5")},
       2,
       "five.csv",
       "too few nominal vectors: 5"},
      {{"train", "--data", tmp("nonexistent.csv"), "--out", tmp("x.h5")},
       2,
       "nonexistent.csv",
       "No such file"},
      {{"train", "--data", tmp("t.csv"), "--out", tmp("nodir/x.h5")}, 2, "nodir", "does not exist"},
      {{"train", "--data", tmp("t.csv"), "--clusters", "0", "--out", tmp("x.h5")},
       2,
       "--clusters",
       "'0'"},
      {{"train", "--out", tmp("x.h5")}, 2, "--data", "required"},
      {{"train", "--data", tmp("t.csv"), "--out", tmp("x.h5"), "--bogus"}, 2, "--bogus", ""},
      {{"score", "--model", tmp("t.csv"), "--data", tmp("t.csv")}, 2, "t.csv", "not an HDF5 file"},
      {{"score", "--model", tmp("m.h5"), "--data", tmp("m.h5")},
       2,
       "m.h5",
       "is an IMS model file, not data"},
      {{"score", "--model", tmp("nomodel.h5"), "--data", tmp("t.csv")},
       2,
       "nomodel.h5",
       "No such file"},
      {{"score", "--model", tmp("m.h5"), "--data", tmp("five.csv"), "--out", tmp("nodir/s.csv")},
       2,
       "nodir",
       "does not exist"},
      /* the output path is a directory: the write fails */
      {{"score", "--model", tmp("m.h5"), "--data", tmp("t.csv"), "--out", tmpdir},
       1,
       tmpdir,
       "cannot create"},
      {{"list", tmp("nodir")}, 2, "nodir", "No such file"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *argv[20] = {(char *)bin, "ims"};
    int n = 2;
    for (int j = 0; cases[i].argv[j]; j++)
      argv[n++] = cases[i].argv[j];
    argv[n] = NULL;
    run(&r, argv);
    ck_assert_msg(r.status == cases[i].status, "case %zu: exit %d, stderr: %s", i, r.status, r.err);
    ck_assert_msg(strstr(r.err, cases[i].expect1) != NULL, "case %zu: '%s' not in: %s", i,
                  cases[i].expect1, r.err);
    ck_assert_msg(strstr(r.err, cases[i].expect2) != NULL, "case %zu: '%s' not in: %s", i,
                  cases[i].expect2, r.err);
  }
  /* data without ts and rack_id: scored to stdout without those columns */
  run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tmp("m.h5"), "--data",
                          tmp("five.csv"), NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(strncmp(r.out, "deviation,cluster,top_feature,share_a,share_b,share_c\n", 54),
                   0);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("ims_cli");
  TCase *tc = tcase_create("e2e");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, help_and_usage);
  tcase_add_test(tc, recording_train_list_score);
  tcase_add_test(tc, csv_train_score);
  tcase_add_test(tc, train_twice_identical);
  tcase_add_test(tc, exit_codes_and_messages);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
