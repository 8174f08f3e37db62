/*
 * test_ims_cli.c -- end to end: the real `skadi ims train/score/list` on a real recording
 * (made by `skadi run`) and on a CSV, their exit codes and messages, the score CSV's shape,
 * and identical model files from two identical trainings (h5diff).
 *
 * SKADI_BIN and SKADI_SOURCE_DIR come from CTest's environment.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static const char *bin, *src;

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

static void setup(void) {
  tu_skadi_env(&bin, &src);
  tu_scratch_setup("skadi-ims-e2e-");
}

/* A 30-minute baseline recording: 180 samples x 72 racks. */
#define REC_ROWS (72 * 180)
static const char *recording(void) {
  const char *out = tu_tmp("b.h5");
  tu_record_baseline(out, "30m");
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
  tu_result r;
  const char *subs[] = {"train", "score", "list"};
  tu_run(&r, (char *const[]){(char *)bin, "ims", "--help", NULL});
  ck_assert_int_eq(r.status, 0);
  ASSERT_HAS(r.out, "usage: skadi ims");
  ASSERT_HAS(r.out, "train");
  for (size_t i = 0; i < 3; i++) {
    tu_run(&r, (char *const[]){(char *)bin, "ims", (char *)subs[i], "--help", NULL});
    ck_assert_msg(r.status == 0, "%s --help: %d", subs[i], r.status);
    ASSERT_HAS(r.out, "usage: skadi ims");
    ASSERT_HAS(r.out, subs[i]);
  }
  tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--help", NULL});
  ASSERT_HAS(r.out, "--clusters");
  ASSERT_HAS(r.out, "--tau-persist-percentile");
  tu_run(&r, (char *const[]){(char *)bin, "ims", NULL});
  ck_assert_int_eq(r.status, 2);
  tu_run(&r, (char *const[]){(char *)bin, "ims", "frobnicate", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "frobnicate");
}
END_TEST

/* Train on a recording, list it, score the recording: one row per rack row. */
START_TEST(recording_train_list_score) {
  const char *rec = recording();
  mkdir(tu_tmp("models"), 0755);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", (char *)rec, "--out",
                             tu_tmp("models/ims-baseline.h5"), NULL});
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

  tu_run(&r, (char *const[]){(char *)bin, "ims", "list", tu_tmp("models"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "ims-baseline.h5   8");
  ASSERT_HAS(r.out,
             "inlet_c,outlet_c,delta_t_c,pdu_kw,gpu_kw,tokens_ps,latency_p95_ms,queue_depth");

  tu_run(&r,
         (char *const[]){(char *)bin, "ims", "score", "--model", tu_tmp("models/ims-baseline.h5"),
                         "--data", (char *)rec, "--out", tu_tmp("s.csv"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "12960 rows");
  ck_assert_int_eq(count_lines(tu_tmp("s.csv")), REC_ROWS + 1);
  char hdr[1024];
  first_line(tu_tmp("s.csv"), hdr, sizeof hdr);
  /* the first eight rack features, then fan and pump speeds if they varied */
  ASSERT_HAS(hdr, "ts,rack_id,deviation,cluster,top_feature,share_inlet_c,share_outlet_c,"
                  "share_delta_t_c,share_pdu_kw,share_gpu_kw,share_tokens_ps,"
                  "share_latency_p95_ms,share_queue_depth");

  /* to stdout, in a window: 61 samples of 72 racks; the summary goes to stderr */
  tu_run(&r, (char *const[]){(char *)bin, "ims", "score", "--model",
                             tu_tmp("models/ims-baseline.h5"), "--data", (char *)rec, "--from",
                             "595", "--to", "1205", "--out", "-", NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(count_lines(tu_tmp("stdout")), 72 * 61 + 1);
  ASSERT_HAS(r.err, "4392 rows");

  /* a model of smoothed rows cannot watch the twin, which scores single samples */
  tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", (char *)rec, "--smooth", "5",
                             "--out", tu_tmp("models/smooth.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  char scen[4096];
  snprintf(scen, sizeof scen, "%s/scenarios/baseline.json", src);
  tu_run(&r, (char *const[]){(char *)bin, "run", scen, "--duration", "20", "--no-record",
                             "--ims-model", tu_tmp("models/smooth.h5"), NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--ims-model: ");
  ASSERT_HAS(r.err, "5-row means");
}
END_TEST

/* Train on a CSV with missing values, leaving the far-off last row out with --to (no
 * nominal filter applies to these columns); score it all: that row stands out. */
START_TEST(csv_train_score) {
  write_csv(tu_tmp("t.csv"), 400);
  tu_result r;
  tu_run(&r,
         (char *const[]){(char *)bin, "ims", "train", "--data", tu_tmp("t.csv"), "--features",
                         "a,b,c", "--clusters", "2", "--to", "398", "--out", tu_tmp("m.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ASSERT_HAS(r.out, "not applied");
  ck_assert_int_eq(figure(r.out, "skipped: missing value"), 8);
  ck_assert_int_eq(figure(r.out, "rows in window"), 399);
  ck_assert_int_eq(figure(r.out, "training rows"), 391);
  tu_run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tu_tmp("m.h5"), "--data",
                             tu_tmp("t.csv"), "--out", tu_tmp("s.csv"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(count_lines(tu_tmp("s.csv")), 401);
  char hdr[256];
  first_line(tu_tmp("s.csv"), hdr, sizeof hdr);
  ck_assert_str_eq(hdr, "ts,rack_id,deviation,cluster,top_feature,share_a,share_b,share_c,"
                       "missing,out_of_range");
  ck_assert_int_eq(figure(r.out, "rows with a missing value (as mean)"), 8);
  /* the last row: c = 500, far outside; c carries the deviation */
  char all[65536];
  tu_slurp(tu_tmp("s.csv"), all, sizeof all);
  const char *last = strstr(all, "\n399,R-X,");
  ck_assert_ptr_nonnull(last);
  double dev = atof(last + strlen("\n399,R-X,"));
  ck_assert_double_gt(dev, 100.0);
  ck_assert_ptr_nonnull(strstr(last, ",c,"));
}
END_TEST

/* Training twice on the same data gives the same model file. */
/* A SQL Server export (tab, BOM, newest first, trailer) in New York local time: --tz,
 * --from as ISO 8601 in that zone and in UTC select the same rows, the summary prints
 * ISO 8601 times and notes the sorting and the skipped trailer; --strict refuses it; a bad
 * --tz or --from names the flag. */
START_TEST(csv_as_exported) {
  FILE *f = fopen(tu_tmp("sql.csv"), "wb");
  ck_assert_ptr_nonnull(f);
  fputs("\xEF\xBB\xBFtimestamp\tvalue\r\n", f);
  for (int i = 39; i >= 0; i--) /* 2024-05-01 08:00 .. 08:39 EDT, newest first */
    fprintf(f, "2024-05-01 08:%02d:00.000\t%.2f\r\n", i, 3.0 + 0.1 * (i % 5));
  fputs("\r\n(40 rows affected)\r\n\r\nCompletion time: 2024-05-01T08:40:00.1-04:00\r\n", f);
  fclose(f);
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tu_tmp("sql.csv"), "--features",
                             "value", "--clusters", "1", "--from", "2024-05-01 08:10:00", "--tz",
                             "America/New_York", "--out", tu_tmp("m.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_int_eq(figure(r.out, "rows read"), 40);
  ck_assert_int_eq(figure(r.out, "training rows"), 30);
  ASSERT_HAS(r.out, "(ts >= 2024-05-01T12:10:00Z)");
  ASSERT_HAS(r.out, "(ts 2024-05-01T12:10:00Z .. 2024-05-01T12:39:00Z)");
  ASSERT_HAS(r.err, "rows are not in time order (29 earlier than the row before); sorted");
  ASSERT_HAS(r.err, "skipped 2 trailing non-data lines from line 43 (\"(40 rows affected)\")");
  /* the same window in UTC, and as Unix ms */
  const char *froms[] = {"2024-05-01T12:10:00Z", "1714565400000", "1714565400"};
  for (int i = 0; i < 3; i++) {
    tu_run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tu_tmp("m.h5"), "--data",
                               tu_tmp("sql.csv"), "--tz", "America/New_York", "--from",
                               (char *)froms[i], "--out", tu_tmp("s.csv"), "--force", NULL});
    ck_assert_msg(r.status == 0, "%s: %s", froms[i], r.err);
    ck_assert_int_eq(count_lines(tu_tmp("s.csv")), 31);
    ASSERT_HAS(r.out, "(ts 2024-05-01T12:10:00Z .. 2024-05-01T12:39:00Z)");
  }
  tu_run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tu_tmp("m.h5"), "--data",
                             tu_tmp("sql.csv"), "--strict", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "sql.csv:43:");
  ASSERT_HAS(r.err, "--strict refuses them");
  tu_run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tu_tmp("m.h5"), "--data",
                             tu_tmp("sql.csv"), "--tz", "Mars/Base", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--tz: time zone \"Mars/Base\"");
  tu_run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tu_tmp("m.h5"), "--data",
                             tu_tmp("sql.csv"), "--tz", "Europe/Berlin", "--from",
                             "2024-03-31 02:30:00", NULL});
  ck_assert_int_eq(r.status, 2);
  ASSERT_HAS(r.err, "--from: '2024-03-31 02:30:00': \"2024-03-31 02:30:00\" does not exist in "
                    "Europe/Berlin");
}
END_TEST

START_TEST(train_twice_identical) {
  write_csv(tu_tmp("t.csv"), 400);
  tu_result r;
  for (int i = 0; i < 2; i++) {
    tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tu_tmp("t.csv"), "--features",
                               "a,b,c", "--clusters", "3", "--seed", "42", "--out",
                               tu_tmp(i ? "m2.h5" : "m1.h5"), NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
  }
  tu_run(&r, (char *const[]){"h5diff", tu_tmp("m1.h5"), tu_tmp("m2.h5"), NULL});
  ck_assert_msg(r.status == 0, "models differ: %s%s", r.out, r.err);
  const char *ds[] = {"/centroids", "/mean", "/scale", "/feature_names"};
  for (size_t i = 0; i < 4; i++) {
    tu_run(&r, (char *const[]){"h5diff", tu_tmp("m1.h5"), tu_tmp("m2.h5"), (char *)ds[i],
                               (char *)ds[i], NULL});
    ck_assert_msg(r.status == 0, "%s differs: %s%s", ds[i], r.out, r.err);
  }
  /* no time stamps inside: the files are equal byte for byte */
  tu_run(&r, (char *const[]){"cmp", tu_tmp("m1.h5"), tu_tmp("m2.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.out);
}
END_TEST

/* Bad input exits 2 naming the file and the field; a failed write exits 1. */
START_TEST(exit_codes_and_messages) {
  write_csv(tu_tmp("t.csv"), 400);
  tu_write_file(tu_tmp("ragged.csv"), "ts,a,b,c\n1,2,3,4\n2,3,4\n");
  tu_write_file(tu_tmp("word.csv"), "ts,a,b,c\n1,2,3,4\n2,3,four,5\n");
  tu_write_file(tu_tmp("five.csv"), "a,b,c\n1,2,3\n2,3,1\n3,1,2\n4,4,4\n5,0,1\n");
  tu_result r;
  tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tu_tmp("t.csv"), "--features",
                             "a,b,c", "--clusters", "2", "--out", tu_tmp("m.h5"), NULL});
  ck_assert_int_eq(r.status, 0);

  struct {
    char *argv[16];
    int status;
    const char *expect1, *expect2;
  } cases[] = {
      {{"train", "--data", tu_tmp("ragged.csv"), "--features", "a,b,c", "--out", tu_tmp("x.h5")},
       2,
       "ragged.csv:3:6",
       "expected 4 fields"},
      {{"train", "--data", tu_tmp("word.csv"), "--features", "a,b,c", "--out", tu_tmp("x.h5")},
       2,
       "word.csv:3:5",
       "b: 'four' is not a number"},
      {{"train", "--data", tu_tmp("t.csv"), "--features", "a,zz", "--out", tu_tmp("x.h5")},
       2,
       "t.csv:1",
       "no column 'zz'"},
      {{"train", "--data", tu_tmp("five.csv"), "--features", "a,b,c", "--out", tu_tmp("x.h5")},
       2,
       "five.csv",
       "too few nominal vectors: 5"},
      {{"train", "--data", tu_tmp("nonexistent.csv"), "--out", tu_tmp("x.h5")},
       2,
       "nonexistent.csv",
       "No such file"},
      {{"train", "--data", tu_tmp("t.csv"), "--out", tu_tmp("nodir/x.h5")},
       2,
       "nodir",
       "does not exist"},
      {{"train", "--data", tu_tmp("t.csv"), "--clusters", "0", "--out", tu_tmp("x.h5")},
       2,
       "--clusters",
       "'0'"},
      {{"train", "--out", tu_tmp("x.h5")}, 2, "--data", "required"},
      {{"train", "--data", tu_tmp("t.csv"), "--out", tu_tmp("x.h5"), "--bogus"}, 2, "--bogus", ""},
      {{"score", "--model", tu_tmp("t.csv"), "--data", tu_tmp("t.csv")},
       2,
       "t.csv",
       "not an HDF5 file"},
      {{"score", "--model", tu_tmp("m.h5"), "--data", tu_tmp("m.h5")},
       2,
       "m.h5",
       "is an IMS model file, not data"},
      {{"score", "--model", tu_tmp("nomodel.h5"), "--data", tu_tmp("t.csv")},
       2,
       "nomodel.h5",
       "No such file"},
      {{"score", "--model", tu_tmp("m.h5"), "--data", tu_tmp("five.csv"), "--out",
        tu_tmp("nodir/s.csv")},
       2,
       "nodir",
       "does not exist"},
      /* the output path is a directory: refused before any work, --force or not */
      {{"score", "--model", tu_tmp("m.h5"), "--data", tu_tmp("t.csv"), "--out", tu_dir, "--force"},
       2,
       tu_dir,
       "exists and is a directory, not a regular file; not replacing it (even with --force)"},
      {{"list", tu_tmp("nodir")}, 2, "nodir", "No such file"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *argv[20] = {(char *)bin, "ims"};
    int n = 2;
    for (int j = 0; cases[i].argv[j]; j++)
      argv[n++] = cases[i].argv[j];
    argv[n] = NULL;
    tu_run(&r, argv);
    ck_assert_msg(r.status == cases[i].status, "case %zu: exit %d, stderr: %s", i, r.status, r.err);
    ck_assert_msg(strstr(r.err, cases[i].expect1) != NULL, "case %zu: '%s' not in: %s", i,
                  cases[i].expect1, r.err);
    ck_assert_msg(strstr(r.err, cases[i].expect2) != NULL, "case %zu: '%s' not in: %s", i,
                  cases[i].expect2, r.err);
  }
  /* data without ts and rack_id: scored to stdout without those columns */
  tu_run(&r, (char *const[]){(char *)bin, "ims", "score", "--model", tu_tmp("m.h5"), "--data",
                             tu_tmp("five.csv"), NULL});
  ck_assert_int_eq(r.status, 0);
  ck_assert_int_eq(strncmp(r.out,
                           "deviation,cluster,top_feature,share_a,share_b,share_c,missing,"
                           "out_of_range\n",
                           75),
                   0);
}
END_TEST

/* --out never clobbers: an existing model or score file is refused and left as it was
 * unless --force, which replaces it; a FIFO (standing in for /dev/null) is refused even
 * with --force; no temporary file is left behind. */
START_TEST(outputs_never_clobber) {
  write_csv(tu_tmp("t.csv"), 400);
  tu_result r;
  char want[700];
  tu_run(&r, (char *const[]){(char *)bin, "ims", "train", "--data", tu_tmp("t.csv"), "--features",
                             "a,b,c", "--clusters", "2", "--out", tu_tmp("m.h5"), NULL});
  ck_assert_msg(r.status == 0, "%s", r.err);

  const char *subs[] = {"train", "score"};
  for (int k = 0; k < 2; k++) {
    const char *out = tu_tmp(k ? "s.csv" : "model.h5");
    char *train[] = {(char *)bin,  "ims",   "train",      "--data", tu_tmp("t.csv"),
                     "--features", "a,b,c", "--clusters", "2",      "--out",
                     (char *)out,  NULL,    NULL};
    char *score[] = {(char *)bin, "ims",           "score", "--model",   tu_tmp("m.h5"),
                     "--data",    tu_tmp("t.csv"), "--out", (char *)out, NULL,
                     NULL};
    char **argv = k ? score : train;
    int n_args = k ? 9 : 11; /* where --force goes */
    tu_write_file(out, "old\n");
    tu_run(&r, argv);
    ck_assert_msg(r.status == 2, "%s: exit %d", subs[k], r.status);
    snprintf(want, sizeof want, "skadi ims %s: %s: exists; pass --force to replace it\n", subs[k],
             out);
    ck_assert_str_eq(r.err, want);
    char text[64];
    tu_slurp(out, text, sizeof text);
    ck_assert_str_eq(text, "old\n");

    argv[n_args] = "--force";
    tu_run(&r, argv);
    ck_assert_msg(r.status == 0, "%s --force: %s", subs[k], r.err);
    tu_slurp(out, text, sizeof text);
    if (k)
      ck_assert_int_eq(strncmp(text, "ts,rack_id,deviation,", 21), 0);
    else
      ck_assert_int_eq(memcmp(text, "\x89HDF", 4), 0);

    ck_assert_int_eq(mkfifo(tu_tmp("fifo"), 0600), 0);
    argv[n_args - 1] = tu_tmp("fifo");
    for (int force = 0; force < 2; force++) {
      argv[n_args] = force ? "--force" : NULL;
      tu_run(&r, argv);
      ck_assert_msg(r.status == 2, "%s to a FIFO, force %d: exit %d", subs[k], force, r.status);
      snprintf(want, sizeof want,
               "skadi ims %s: %s: exists and is a FIFO, not a regular file; not replacing it%s\n",
               subs[k], tu_tmp("fifo"), force ? " (even with --force)" : "");
      ck_assert_str_eq(r.err, want);
    }
    struct stat sb;
    ck_assert_int_eq(lstat(tu_tmp("fifo"), &sb), 0);
    ck_assert(S_ISFIFO(sb.st_mode));
    ck_assert_int_eq(unlink(tu_tmp("fifo")), 0);
  }
  tu_run(&r, (char *const[]){"sh", "-c", "ls -a \"$0\" | grep -c '[.]tmp'", tu_dir, NULL});
  ck_assert_msg(strcmp(r.out, "0\n") == 0, "temporary files left: %s", r.out);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("ims_cli");
  TCase *tc = tcase_create("e2e");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, help_and_usage);
  tcase_add_test(tc, recording_train_list_score);
  tcase_add_test(tc, csv_train_score);
  tcase_add_test(tc, csv_as_exported);
  tcase_add_test(tc, train_twice_identical);
  tcase_add_test(tc, exit_codes_and_messages);
  tcase_add_test(tc, outputs_never_clobber);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
