/*
 * test_trace.c -- the request trace loader (sim/src/trace.c).
 *
 * The shipped sample of the Azure conversation trace (known rows and span), timestamp
 * arithmetic across day, month, year and leap-day boundaries, the file variants the
 * loader accepts (LF or CRLF, BOM, blank lines, fewer fractional digits, quoting), and bad files,
 * each failing with "<path>:<line>: <column>: <reason>" and nothing left allocated; Mooncake's
 * hash_ids kept per request (and refused with the line and element when malformed).
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skadi/trace.h"
#include "testutil.h"

#define SRC(rel) SKADI_SOURCE_DIR "/" rel
#define HEADER "TIMESTAMP,ContextTokens,GeneratedTokens\n"

static void setup(void) {
  tu_scratch_setup("skadi_test_trace_");
}

/* Writes text to t.csv in the scratch directory and returns its path. */
static const char *write_csv(const char *text) {
  char *path = tu_tmp("t.csv");
  tu_write_file(path, text);
  return path;
}

static void load_ok(sk_trace *tr, const char *path) {
  char err[512] = "";
  sk_status st = sk_trace_load(tr, path, err, sizeof err);
  ck_assert_msg(st == SK_OK, "%s", err);
}

START_TEST(test_sample) {
  sk_trace tr;
  load_ok(&tr, SRC("tests/data/azure_conv_sample.csv"));
  ck_assert_uint_eq(tr.n, 200);
  ck_assert_double_eq(tr.t_s[0], 0);
  /* 2023-11-16 18:15:46.6805900,374,44 */
  ck_assert_int_eq(tr.in_tokens[0], 374);
  ck_assert_int_eq(tr.out_tokens[0], 44);
  /* 2023-11-16 18:15:50.9951690,396,109 */
  ck_assert_double_eq_tol(tr.t_s[1], 4.3145790, 1e-9);
  ck_assert_int_eq(tr.in_tokens[1], 396);
  ck_assert_int_eq(tr.out_tokens[1], 109);
  /* 2023-11-16 18:15:51.2224670,879,55 */
  ck_assert_double_eq_tol(tr.t_s[2], 4.5418770, 1e-9);
  ck_assert_int_eq(tr.in_tokens[2], 879);
  ck_assert_int_eq(tr.out_tokens[2], 55);
  /* last row: 2023-11-16 18:16:47.9441270,1143,409 */
  ck_assert_double_eq_tol(tr.span_s, 61.2635370, 1e-9);
  ck_assert_double_eq(tr.t_s[199], tr.span_s);
  ck_assert_int_eq(tr.in_tokens[199], 1143);
  ck_assert_int_eq(tr.out_tokens[199], 409);
  for (size_t i = 1; i < tr.n; i++) {
    ck_assert(tr.t_s[i] >= tr.t_s[i - 1]);
    ck_assert(tr.in_tokens[i] >= 1 && tr.out_tokens[i] >= 1);
  }
  sk_trace_fini(&tr);
  ck_assert_ptr_null(tr.t_s);
  ck_assert_uint_eq(tr.n, 0);
  sk_trace_fini(&tr); /* twice is harmless */
  sk_trace_fini(NULL);
}
END_TEST

/* The full traces shipped in scenarios/traces/. */
START_TEST(test_full_traces) {
  const char *conv = SRC("scenarios/traces/AzureLLMInferenceTrace_conv.csv");
  const char *code = SRC("scenarios/traces/AzureLLMInferenceTrace_code.csv");
  sk_trace tr;
  load_ok(&tr, conv);
  ck_assert_uint_eq(tr.n, 19366);
  ck_assert_double_eq_tol(tr.span_s, 3501.721937, 1e-6);
  sk_trace_fini(&tr);
  load_ok(&tr, code);
  ck_assert_uint_eq(tr.n, 8819);
  ck_assert_double_eq_tol(tr.span_s, 3435.948056, 1e-6);
  sk_trace_fini(&tr);
}
END_TEST

/* Day, month, year and leap-day boundaries; fewer fractional digits; no fraction. */
START_TEST(test_calendar) {
  sk_trace tr;
  load_ok(&tr, write_csv(HEADER "2023-12-31 23:59:59.5,1,1\n"
                                "2024-01-01 00:00:00.5,1,1\n"       /* +1 s, new year */
                                "2024-02-28 23:59:59,1,1\n"         /* +58 days */
                                "2024-02-29 00:00:00,1,1\n"         /* leap day */
                                "2024-03-01 00:00:00.0000001,1,1\n" /* +1 day + 100 ns */
                                "2024-03-01T00:00:01.25,2147483647,3\n"));
  ck_assert_uint_eq(tr.n, 6);
  ck_assert_double_eq(tr.t_s[1], 1.0);
  /* 2024-01-01 00:00:00.5 -> 2024-02-28 23:59:59 is 58 days + 86398.5 s */
  double d58 = 1.0 + 58.0 * 86400.0 + 86398.5;
  ck_assert_double_eq_tol(tr.t_s[2], d58, 1e-9);
  ck_assert_double_eq_tol(tr.t_s[3], d58 + 1.0, 1e-9);
  ck_assert_double_eq_tol(tr.t_s[4], d58 + 1.0 + 86400.0 + 1e-7, 1e-9);
  ck_assert_double_eq_tol(tr.t_s[5], d58 + 1.0 + 86401.25, 1e-9);
  ck_assert_int_eq(tr.in_tokens[5], 2147483647);
  sk_trace_fini(&tr);

  /* a non-leap year has no Feb 29 */
  char err[512] = "";
  ck_assert_int_ne(sk_trace_load(&tr,
                                 write_csv(HEADER "2023-02-28 00:00:00,1,1\n"
                                                  "2023-02-29 00:00:00,1,1\n"),
                                 err, sizeof err),
                   SK_OK);
  ck_assert_msg(strstr(err, ":3: TIMESTAMP: not a valid date") != NULL, "%s", err);
}
END_TEST

/* Variants that are fine: BOM, LF, no final newline, blank lines, equal timestamps. */
START_TEST(test_variants) {
  sk_trace tr;
  load_ok(&tr, write_csv("\xEF\xBB\xBF" HEADER "\n2023-11-16 18:15:46.68,10,20\r\n\r\n"
                         "2023-11-16 18:15:46.68,11,21\n2023-11-16 18:15:47.68,12,22"));
  ck_assert_uint_eq(tr.n, 3);
  ck_assert_double_eq(tr.t_s[1], 0);
  ck_assert_double_eq_tol(tr.span_s, 1.0, 1e-12);
  ck_assert_int_eq(tr.out_tokens[2], 22);
  sk_trace_fini(&tr);
  /* the shared CSV reader: quoted fields, blanks around fields; a leap second */
  load_ok(&tr, write_csv(HEADER "\"2016-12-31 23:59:59.5\", 10 ,\"20\"\n"
                                "2016-12-31 23:59:60.5,11,21\n2017-01-01T00:00:01,12,22\n"));
  ck_assert_uint_eq(tr.n, 3);
  ck_assert_int_eq(tr.in_tokens[0], 10);
  ck_assert_double_eq(tr.t_s[1], 1.0);
  ck_assert_double_eq(tr.t_s[2], 1.5);
  sk_trace_fini(&tr);
}
END_TEST

typedef struct {
  const char *what;
  const char *csv;   /* NULL: the file does not exist */
  const char *where; /* after the path, e.g. ":3: TIMESTAMP: " */
  const char *reason;
} bad_csv;

#define ROW1 "2023-11-16 18:15:46.6805900,374,44\n"
static const bad_csv bad_csvs[] = {
    {"missing file", NULL, ": cannot open", "No such file or directory"},
    {"empty file", "", ":1: header: ", "empty"},
    {"missing header", ROW1 "2023-11-16 18:15:47.6805900,374,44\n",
     ":1: header: ", "missing header?"},
    {"wrong header", "time,in,out\n" ROW1, ":1: header: ", "expected \"TIMESTAMP,"},
    {"header only", HEADER, ":1: TIMESTAMP: ", "0 requests; a trace needs at least two"},
    {"one row", HEADER ROW1, ":2: TIMESTAMP: ", "1 request; a trace needs at least two"},
    {"same time", HEADER ROW1 ROW1, ":3: TIMESTAMP: ", "same time"},
    {"bad timestamp", HEADER ROW1 "2023-11-16 18:15,1,1\n",
     ":3: TIMESTAMP: ", "expected a time like"},
    {"bad month", HEADER ROW1 "2023-13-16 18:15:47,1,1\n", ":3: TIMESTAMP: ", "not a valid date"},
    {"bad hour", HEADER ROW1 "2023-11-16 24:00:00,1,1\n", ":3: TIMESTAMP: ", "not a valid"},
    {"eight fractional digits", HEADER ROW1 "2023-11-16 18:15:47.123456789,1,1\n",
     ":3: TIMESTAMP: ", "1 to 7 digits"},
    {"junk after time", HEADER ROW1 "2023-11-16 18:15:47Zulu,1,1\n",
     ":3: TIMESTAMP: ", "unexpected \"ulu\""},
    {"negative tokens", HEADER "2023-11-16 18:15:46.6805900,-5,44\n",
     ":2: ContextTokens: ", "expected a whole token count >= 1, got \"-5\""},
    {"zero tokens", HEADER ROW1 "2023-11-16 18:15:47,3,0\n",
     ":3: GeneratedTokens: ", "expected a token count >= 1, got 0"},
    {"fractional tokens", HEADER ROW1 "2023-11-16 18:15:47,2.5,3\n",
     ":3: ContextTokens: ", "got \"2.5\""},
    {"empty tokens", HEADER ROW1 "2023-11-16 18:15:47,,3\n", ":3: ContextTokens: ", "empty"},
    {"huge tokens", HEADER ROW1 "2023-11-16 18:15:47,99999999999,3\n",
     ":3: ContextTokens: ", "too large"},
    {"two columns", HEADER ROW1 "2023-11-16 18:15:47,3\n",
     ":3: GeneratedTokens: ", "expected 3 columns"},
    /* a fuzz find: rows centuries apart overflowed the span (int64 ns) */
    {"before 1970", HEADER ROW1 "1704-01-01 00:00:00,3,4\n", ":3: TIMESTAMP: ",
     "outside the supported range 1970..2199"},
    {"four columns", HEADER ROW1 "2023-11-16 18:15:47,3,4,5\n",
     ":3: row: ", "expected 3 columns (TIMESTAMP,ContextTokens,GeneratedTokens), got 4"},
};

START_TEST(test_bad) {
  const bad_csv *c = &bad_csvs[_i];
  const char *path = c->csv ? write_csv(c->csv) : SRC("tests/data/no_such_trace.csv");
  sk_trace tr;
  char err[512] = "", want[256];
  sk_status st = sk_trace_load(&tr, path, err, sizeof err);
  ck_assert_msg(st != SK_OK, "%s: accepted", c->what);
  ck_assert_msg(st == (c->csv ? SK_EPARSE : SK_EIO), "%s: status %d", c->what, st);
  snprintf(want, sizeof want, "%s%s", path, c->where);
  ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: \"%s\" does not start with \"%s\"",
                c->what, err, want);
  ck_assert_msg(strstr(err, c->reason) != NULL, "%s: \"%s\" lacks \"%s\"", c->what, err, c->reason);
  ck_assert_ptr_null(tr.t_s); /* nothing to free */
  ck_assert_ptr_null(tr.in_tokens);
  ck_assert_uint_eq(tr.n, 0);
}
END_TEST

START_TEST(test_directory) {
  sk_trace tr;
  char err[512] = "";
  ck_assert_int_eq(sk_trace_load(&tr, tu_dir, err, sizeof err), SK_EIO);
  ck_assert_msg(strstr(err, "Is a directory") != NULL, "%s", err);
}
END_TEST

/* The published formats other than Azure 2023, each on a sample written from its
 * description (tests/data/traces/README.md), read by name and sniffed. */
START_TEST(test_formats) {
  static const struct {
    const char *file;
    sk_trace_format fmt;
    size_t n, skipped;
    double span_s;
    int32_t in0, out0;
  } cases[] = {
      {"tests/data/traces/azure2024_sample.csv", SK_TRACE_AZURE, 24, 0, 14.229871, 5663, 191},
      {"tests/data/traces/mooncake_sample.jsonl", SK_TRACE_MOONCAKE, 24, 0, 5.376, 4284, 73},
      {"tests/data/traces/burstgpt_sample.csv", SK_TRACE_BURSTGPT, 22, 2, 109, 1197, 439},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (int sniff = 0; sniff < 2; sniff++) {
      sk_trace tr;
      char err[512] = "", path[1024];
      snprintf(path, sizeof path, "%s/%s", SKADI_SOURCE_DIR, cases[i].file);
      sk_status st =
          sk_trace_load_format(&tr, path, sniff ? SK_TRACE_AUTO : cases[i].fmt, err, sizeof err);
      ck_assert_msg(st == SK_OK, "%s", err);
      ck_assert_int_eq(tr.format, cases[i].fmt);
      ck_assert_uint_eq(tr.n, cases[i].n);
      ck_assert_uint_eq(tr.n_skipped, cases[i].skipped);
      ck_assert_double_eq_tol(tr.span_s, cases[i].span_s, 1e-9);
      ck_assert_int_eq(tr.in_tokens[0], cases[i].in0);
      ck_assert_int_eq(tr.out_tokens[0], cases[i].out0);
      ck_assert_double_eq(tr.t_s[0], 0);
      for (size_t k = 1; k < tr.n; k++)
        ck_assert(tr.t_s[k] >= tr.t_s[k - 1] && tr.out_tokens[k] >= 1);
      sk_trace_fini(&tr);
    }
  }
  /* an explicit format that does not match the file names what it expected */
  sk_trace tr;
  char err[512] = "";
  ck_assert_int_eq(sk_trace_load_format(&tr, SRC("tests/data/traces/burstgpt_sample.csv"),
                                        SK_TRACE_AZURE, err, sizeof err),
                   SK_EPARSE);
  ASSERT_HAS(err, "header: expected \"TIMESTAMP,ContextTokens,GeneratedTokens\" (Azure)");
  ck_assert_str_eq(sk_trace_format_name(SK_TRACE_BURSTGPT), "burstgpt");
}
END_TEST

/* Rows in any order are sorted; tab-separated with a trailer; zones; clamping. */
START_TEST(test_quirks) {
  sk_trace tr;
  load_ok(&tr, write_csv(HEADER "2023-11-16 18:15:47,3,30\n2023-11-16 18:15:45,1,10\n"
                                "2023-11-16 18:15:46,2,20\n"));
  ck_assert_uint_eq(tr.n_unsorted, 1);
  ck_assert_int_eq(tr.in_tokens[0], 1);
  ck_assert_int_eq(tr.in_tokens[2], 3);
  ck_assert_double_eq(tr.span_s, 2);
  ck_assert_uint_eq(sk_trace_clamp(&tr, 25), 1);
  ck_assert_int_eq(tr.out_tokens[2], 25);
  ck_assert_int_eq(tr.out_tokens[1], 20);
  sk_trace_fini(&tr);
  load_ok(&tr, write_csv("Timestamp\tModel\tRequest tokens\tResponse tokens\tTotal tokens\tLog "
                         "Type\r\n0\tChatGPT\t10\t5\t15\tAPI log\r\n2.5\tGPT-4\t20\t6\t26\tAPI "
                         "log\r\n\r\n(2 rows affected)\r\n"));
  ck_assert_int_eq(tr.format, SK_TRACE_BURSTGPT);
  ck_assert_uint_eq(tr.n_trailer, 1);
  ck_assert_double_eq(tr.span_s, 2.5);
  sk_trace_fini(&tr);
  load_ok(&tr, write_csv(HEADER "2024-05-10 02:00:00+02:00,1,1\n2024-05-10 00:00:01Z,1,1\n"));
  ck_assert_double_eq(tr.span_s, 1);
  sk_trace_fini(&tr);
  /* Mooncake errors name the line and key */
  char err[512] = "";
  const char *path = tu_tmp("m.jsonl");
  tu_write_file(path, "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2}\n"
                      "{\"timestamp\": 10, \"input_length\": -5, \"output_length\": 2}\n");
  ck_assert_int_eq(sk_trace_load(&tr, path, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "m.jsonl:2: input_length: expected a whole number in 1..2147483647, got -5");
  tu_write_file(path, "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2}\n"
                      "{\"timestamp\": 10, \"input_length\": 5, \"output_length\": 2, "
                      "\"hash_ids\": \"x\"}\n");
  ck_assert_int_eq(sk_trace_load(&tr, path, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "m.jsonl:2: hash_ids: expected an array");
  tu_write_file(path, "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2}\n{oops\n");
  ck_assert_int_eq(sk_trace_load(&tr, path, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "m.jsonl:2: expected a JSON object per line");
  tu_write_file(path, "{\"input_length\": 5, \"output_length\": 2}\n");
  ck_assert_int_eq(sk_trace_load(&tr, path, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "m.jsonl:1: timestamp: missing");
  ck_assert_ptr_null(tr.t_s);
}
END_TEST

/* Mooncake's hash_ids are kept per request, in the sorted order; other formats have none. */
START_TEST(test_hash_ids) {
  sk_trace tr;
  load_ok(&tr, SRC("tests/data/traces/mooncake_sample.jsonl"));
  ck_assert_ptr_nonnull(tr.kv_off);
  ck_assert_ptr_nonnull(tr.kv_hash);
  ck_assert_uint_eq(tr.kv_off[0], 0);
  ck_assert_uint_eq(tr.kv_off[1], 9); /* [0, 1, 2, 3, 4, 5, 6, 100, 101] */
  static const uint64_t first[9] = {0, 1, 2, 3, 4, 5, 6, 100, 101};
  for (int i = 0; i < 9; i++)
    ck_assert_uint_eq(tr.kv_hash[i], first[i]);
  ck_assert_uint_eq(tr.kv_off[2] - tr.kv_off[1], 16);
  ck_assert_uint_eq(tr.kv_hash[tr.kv_off[1] + 4], 102);
  for (size_t i = 0; i < tr.n; i++) /* Mooncake: one hash per started 512-token block */
    ck_assert_uint_eq(tr.kv_off[i + 1] - tr.kv_off[i], (uint32_t)(tr.in_tokens[i] + 511) / 512);
  sk_trace_fini(&tr);
  ck_assert_ptr_null(tr.kv_off);

  /* rows out of order carry their hashes along; a row without the key has none */
  const char *path = tu_tmp("h.jsonl");
  tu_write_file(path, "{\"timestamp\": 20, \"input_length\": 1024, \"output_length\": 2, "
                      "\"hash_ids\": [7, 8]}\n"
                      "{\"timestamp\": 10, \"input_length\": 600, \"output_length\": 2, "
                      "\"hash_ids\": [9007199254740992]}\n"
                      "{\"timestamp\": 30, \"input_length\": 5, \"output_length\": 2}\n");
  load_ok(&tr, path);
  ck_assert_uint_eq(tr.n_unsorted, 1);
  ck_assert_uint_eq(tr.kv_off[1], 1);
  ck_assert_uint_eq(tr.kv_hash[0], 9007199254740992ULL);
  ck_assert_uint_eq(tr.kv_off[2], 3);
  ck_assert_uint_eq(tr.kv_hash[1], 7);
  ck_assert_uint_eq(tr.kv_hash[2], 8);
  ck_assert_uint_eq(tr.kv_off[3], 3);
  sk_trace_fini(&tr);

  /* no row with the key, and the CSV formats: no arrays */
  tu_write_file(path, "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2}\n"
                      "{\"timestamp\": 10, \"input_length\": 5, \"output_length\": 2}\n");
  load_ok(&tr, path);
  ck_assert_ptr_null(tr.kv_off);
  ck_assert_ptr_null(tr.kv_hash);
  sk_trace_fini(&tr);
  load_ok(&tr, SRC("tests/data/traces/azure2024_sample.csv"));
  ck_assert_ptr_null(tr.kv_off);
  sk_trace_fini(&tr);
}
END_TEST

/* Bad hash_ids: the line, the key (and element) and why; nothing left allocated. */
START_TEST(test_bad_hash_ids) {
  static const struct {
    const char *value;
    sk_status st;
    const char *msg;
  } cases[] = {
      {"\"x\"", SK_EPARSE, "h.jsonl:2: hash_ids: expected an array of whole numbers"},
      {"{\"a\": 1}", SK_EPARSE, "h.jsonl:2: hash_ids: expected an array of whole numbers"},
      {"[1, \"2\"]", SK_EPARSE, "h.jsonl:2: hash_ids[1]: expected a whole number"},
      {"[1, 2.5]", SK_EPARSE,
       "h.jsonl:2: hash_ids[1]: expected a whole number in 0..9007199254740992"},
      {"[-1]", SK_EPARSE, "h.jsonl:2: hash_ids[0]: expected a whole number"},
      {"[9007199254740994]", SK_EPARSE, "h.jsonl:2: hash_ids[0]: "},
      {"[[1]]", SK_EPARSE, "h.jsonl:2: hash_ids[0]: "},
  };
  const char *path = tu_tmp("h.jsonl");
  char line[256], err[512];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(line, sizeof line,
             "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 2, \"hash_ids\": [1]}\n"
             "{\"timestamp\": 9, \"input_length\": 5, \"output_length\": 2, \"hash_ids\": %s}\n",
             cases[i].value);
    tu_write_file(path, line);
    sk_trace tr;
    err[0] = '\0';
    ck_assert_int_eq(sk_trace_load(&tr, path, err, sizeof err), cases[i].st);
    ASSERT_HAS(err, cases[i].msg);
    ck_assert_ptr_null(tr.kv_off);
    ck_assert_ptr_null(tr.kv_hash);
  }
  /* too many for one request: a range error naming the cap */
  size_t cap = 64 + 12 * (SK_TRACE_MAX_HASHES_PER_REQUEST + 1);
  char *big = malloc(cap);
  ck_assert_ptr_nonnull(big);
  size_t n = (size_t)snprintf(big, cap, "{\"timestamp\": 0, \"input_length\": 5, "
                                        "\"output_length\": 2, \"hash_ids\": [");
  for (int i = 0; i <= SK_TRACE_MAX_HASHES_PER_REQUEST; i++)
    n += (size_t)snprintf(big + n, cap - n, "%s%d", i ? "," : "", i);
  snprintf(big + n, cap - n, "]}\n");
  tu_write_file(path, big);
  free(big);
  sk_trace tr;
  ck_assert_int_eq(sk_trace_load(&tr, path, err, sizeof err), SK_ERANGE);
  ASSERT_HAS(err, "h.jsonl:1: hash_ids: 16385 block hashes; at most 16384 per request");
  ck_assert_ptr_null(tr.t_s);
}
END_TEST

static Suite *trace_suite(void) {
  Suite *s = suite_create("trace");
  TCase *tc = tcase_create("trace");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_add_test(tc, test_sample);
  tcase_add_test(tc, test_full_traces);
  tcase_add_test(tc, test_calendar);
  tcase_add_test(tc, test_formats);
  tcase_add_test(tc, test_quirks);
  tcase_add_test(tc, test_variants);
  tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof bad_csvs / sizeof bad_csvs[0]));
  tcase_add_test(tc, test_directory);
  tcase_add_test(tc, test_hash_ids);
  tcase_add_test(tc, test_bad_hash_ids);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(trace_suite());
}
