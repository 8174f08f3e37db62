/*
 * test_csv.c -- the CSV reader (sim/src/csv.c, skadi/csv.h).
 *
 * Quoting (delimiters, doubled quotes and line breaks inside quotes), LF and CRLF, the
 * byte-order mark, tab and other delimiters, trimming, blank lines, physical line numbers
 * and byte columns, the header and lookups by name (exact and ignoring case), the caps on
 * record length and field count, the strict number helper, and bad files: each fails with
 * "<path>:<line>: <column>: <reason>" and a clean status.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/csv.h"
#include "testutil.h"

static void setup(void) {
  tu_scratch_setup("skadi_test_csv_");
}

/* Writes text to t.csv in the scratch directory and opens a reader on it. */
static sk_csv *open_text(const char *text, const sk_csv_opts *o) {
  char *path = tu_tmp("t.csv"), err[512] = "";
  tu_write_file(path, text);
  sk_csv *r = NULL;
  sk_status st = sk_csv_create(&r, path, o, err, sizeof err);
  ck_assert_msg(st == SK_OK, "%s", err);
  return r;
}

/* Reads the next record; asserts there is one. */
static void next_ok(sk_csv *r) {
  char err[512] = "";
  int more = -1;
  sk_status st = sk_csv_next(r, &more, err, sizeof err);
  ck_assert_msg(st == SK_OK, "%s", err);
  ck_assert_int_eq(more, 1);
}

static void at_end(sk_csv *r) {
  char err[512] = "";
  int more = -1;
  ck_assert_int_eq(sk_csv_next(r, &more, err, sizeof err), SK_OK);
  ck_assert_int_eq(more, 0);
  ck_assert_uint_eq(sk_csv_field_count(r), 0);
}

static void header_ok(sk_csv *r) {
  char err[512] = "";
  sk_status st = sk_csv_read_header(r, err, sizeof err);
  ck_assert_msg(st == SK_OK, "%s", err);
}

/* Reads records until one fails; asserts the status and that the message is
 * tu_dir/t.csv + where + ... + reason. */
static void fails(sk_csv *r, sk_status want, const char *where, const char *reason) {
  char err[512] = "", prefix[400];
  int more = 1;
  sk_status st = SK_OK;
  while (st == SK_OK && more)
    st = sk_csv_next(r, &more, err, sizeof err);
  ck_assert_msg(st == want, "status %d (%s), want %d", st, err, want);
  snprintf(prefix, sizeof prefix, "%s%s", tu_tmp("t.csv"), where);
  ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "\"%s\" does not start with \"%s\"", err,
                prefix);
  ASSERT_HAS(err, reason);
}

/* A file whose header reads but whose records fail as fails() says. */
static void bad_file(const char *text, const sk_csv_opts *o, sk_status want, const char *where,
                     const char *reason) {
  sk_csv *r = open_text(text, o);
  header_ok(r);
  fails(r, want, where, reason);
  sk_csv_destroy(r);
}

#define F(i) sk_csv_field(r, (i))

START_TEST(test_quoting) {
  sk_csv *r = open_text("a,b,c,d\n"
                        "plain,\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n"
                        "\"\",,\"\"\"\",\"a\r\nb\"\n"
                        "q\"in,side,\"\",end\n",
                        NULL);
  header_ok(r);
  next_ok(r);
  ck_assert_uint_eq(sk_csv_field_count(r), 4);
  ck_assert_str_eq(F(0), "plain");
  ck_assert_str_eq(F(1), "x, y");
  ck_assert_str_eq(F(2), "say \"hi\"");
  ck_assert_str_eq(F(3), "two\nlines");
  ck_assert_uint_eq(sk_csv_field_len(r, 3), 9);
  ck_assert_uint_eq(sk_csv_line(r), 2);
  next_ok(r); /* physical lines: the record above took lines 2 and 3 */
  ck_assert_uint_eq(sk_csv_line(r), 4);
  ck_assert_str_eq(F(0), "");
  ck_assert_str_eq(F(1), "");
  ck_assert_str_eq(F(2), "\"");
  ck_assert_str_eq(F(3), "a\r\nb"); /* a line break inside quotes is data, CR and all */
  next_ok(r);
  ck_assert_uint_eq(sk_csv_line(r), 6);
  ck_assert_str_eq(F(0), "q\"in"); /* a quote inside an unquoted field is data */
  ck_assert_str_eq(F(2), "");
  at_end(r);
  ck_assert_uint_eq(sk_csv_line(r), 6); /* the last record's line stays */
  sk_csv_destroy(r);
}
END_TEST

/* CRLF, a CR ending the file, a lone CR inside a field, no final newline, BOM. */
START_TEST(test_line_ends_and_bom) {
  sk_csv *r = open_text("\xEF\xBB\xBFts,v\r\n1,2\r\n3,a\rb\r\n\"4\",5\r", NULL);
  header_ok(r);
  ck_assert_uint_eq(sk_csv_header_count(r), 2);
  ck_assert_str_eq(sk_csv_header_name(r, 0), "ts"); /* no BOM in the name */
  next_ok(r);
  ck_assert_str_eq(F(1), "2");
  next_ok(r);
  ck_assert_str_eq(F(1), "a\rb");
  next_ok(r);
  ck_assert_str_eq(F(0), "4");
  ck_assert_str_eq(F(1), "5");
  ck_assert_uint_eq(sk_csv_line(r), 4);
  at_end(r);
  sk_csv_destroy(r);

  r = open_text("x\n1", NULL); /* no final newline */
  header_ok(r);
  next_ok(r);
  ck_assert_str_eq(F(0), "1");
  at_end(r);
  sk_csv_destroy(r);
}
END_TEST

START_TEST(test_blank_lines_and_trim) {
  sk_csv *r = open_text("\n\n ts , rack_id\n\n  \r\n 1 ,\t\"R 1\" \n\t\n2,\n", NULL);
  header_ok(r);
  ck_assert_str_eq(sk_csv_header_name(r, 0), "ts");
  ck_assert_str_eq(sk_csv_header_name(r, 1), "rack_id");
  ck_assert_uint_eq(sk_csv_line(r), 3);
  next_ok(r);
  ck_assert_uint_eq(sk_csv_line(r), 6);
  ck_assert_str_eq(F(0), "1");
  ck_assert_str_eq(F(1), "R 1"); /* blanks inside quotes stay */
  size_t line, col;
  sk_csv_field_pos(r, 1, &line, &col);
  ck_assert_uint_eq(line, 6);
  ck_assert_uint_eq(col, 5); /* right after the comma, before the trimmed tab */
  next_ok(r);
  ck_assert_uint_eq(sk_csv_line(r), 8);
  ck_assert_str_eq(F(1), "");
  at_end(r);
  sk_csv_destroy(r);

  /* without trim, blanks are data (and a line of blanks is a record) */
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.trim = 0;
  o.ragged = 1;
  r = open_text("a,b\n 1 , 2\n  \n", &o);
  header_ok(r);
  next_ok(r);
  ck_assert_str_eq(F(0), " 1 ");
  next_ok(r);
  ck_assert_str_eq(F(0), "  ");
  at_end(r);
  sk_csv_destroy(r);
}
END_TEST

START_TEST(test_delimiters) {
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.delimiter = '\t';
  sk_csv *r = open_text("ts\tname\tv\n 1 \t\"a\tb, c\"\t2.5\n1\t\t\n", &o);
  header_ok(r);
  ck_assert_uint_eq(sk_csv_header_count(r), 3);
  next_ok(r);
  ck_assert_str_eq(F(0), "1"); /* spaces trimmed, tabs are delimiters */
  ck_assert_str_eq(F(1), "a\tb, c");
  ck_assert_str_eq(F(2), "2.5");
  next_ok(r); /* empty fields between tabs are not eaten by the trim */
  ck_assert_uint_eq(sk_csv_field_count(r), 3);
  ck_assert_str_eq(F(1), "");
  ck_assert_str_eq(F(2), "");
  at_end(r);
  sk_csv_destroy(r);

  o.delimiter = ';';
  r = open_text("a;b\n1,5;2\n", &o);
  header_ok(r);
  next_ok(r);
  ck_assert_str_eq(F(0), "1,5");
  sk_csv_destroy(r);
}
END_TEST

START_TEST(test_header_lookup) {
  char err[512] = "";
  size_t i = 99;
  sk_csv *r = open_text("ts,Inlet_C,inlet_c,pdu_kw,PDU_KW,x\n", NULL);
  ck_assert_uint_eq(sk_csv_header_count(r), 0);
  header_ok(r);
  ck_assert_uint_eq(sk_csv_header_count(r), 6);
  ck_assert_int_eq(sk_csv_column(r, "ts", &i, err, sizeof err), SK_OK);
  ck_assert_uint_eq(i, 0);
  ck_assert_int_eq(sk_csv_column(r, "inlet_c", &i, err, sizeof err), SK_OK);
  ck_assert_uint_eq(i, 2);
  ck_assert_int_eq(sk_csv_column(r, "Inlet_C", &i, err, sizeof err), SK_OK);
  ck_assert_uint_eq(i, 1);
  ck_assert_int_eq(sk_csv_column_nocase(r, "TS", &i, err, sizeof err), SK_OK);
  ck_assert_uint_eq(i, 0);
  ck_assert_int_eq(sk_csv_column_nocase(r, "X", &i, err, sizeof err), SK_OK);
  ck_assert_uint_eq(i, 5);
  i = 99;
  ck_assert_int_eq(sk_csv_column(r, "TS", &i, err, sizeof err), SK_ENOTFOUND);
  ck_assert_uint_eq(i, 99);
  ASSERT_HAS(err, "t.csv:1: header: no column \"TS\" (it has: ts, Inlet_C, inlet_c, pdu_kw, "
                  "PDU_KW, x)");
  ck_assert_int_eq(sk_csv_column_nocase(r, "pdu_kw", &i, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "t.csv:1: column \"pdu_kw\" appears twice in the header (fields 4 and 5)");
  ck_assert_int_eq(sk_csv_column(r, "nope", &i, NULL, 0), SK_ENOTFOUND);
  char list[24];
  sk_csv_header_names(r, list, sizeof list);
  ck_assert_str_eq(list, "ts, Inlet_C, ...");
  at_end(r);
  sk_csv_destroy(r);

  r = open_text("\n\n", NULL);
  ck_assert_int_eq(sk_csv_read_header(r, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "t.csv:1: header: empty file; expected a header line");
  sk_csv_destroy(r);
}
END_TEST

/* Every field of a record, the header's count; a ragged reader leaves it to the caller. */
START_TEST(test_field_count) {
  bad_file("a,b,c\n1,2,3\n1,2\n", NULL, SK_EPARSE,
           ":3: ", "expected 3 fields as in the header, got 2");
  bad_file("a,b,c\n1,2,3,4\n", NULL, SK_EPARSE,
           ":2: ", "expected 3 fields as in the header, got 4");

  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.ragged = 1;
  sk_csv *r = open_text("a,b,c\n1\n1,2,3,4\n", &o);
  header_ok(r);
  next_ok(r);
  ck_assert_uint_eq(sk_csv_field_count(r), 1);
  next_ok(r);
  ck_assert_uint_eq(sk_csv_field_count(r), 4);
  sk_csv_destroy(r);

  o.max_fields = 3;
  bad_file("a,b,c\n1,2,3,4\n", &o, SK_EPARSE, ":2: ", "more than 3 fields");
}
END_TEST

START_TEST(test_too_long) {
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.max_record_bytes = 16;
  bad_file("ts,rack_id\n1,R1\n2,0123456789abcdef\n", &o, SK_EPARSE,
           ":3: rack_id: ", "record longer than 16 bytes");
  /* a stray quote runs into the cap, not through the whole file */
  bad_file("ts,rack_id\n1,\"R1\n2,R2\n3,R3\n4,R4\n5,R5\n", &o, SK_EPARSE,
           ":2: rack_id: ", "record longer than 16 bytes (a stray quote?)");
}
END_TEST

START_TEST(test_bad_syntax) {
  bad_file("ts,rack_id,v\n1,R1,2\n1,\"R1,2\n", NULL, SK_EPARSE,
           ":3: rack_id: ", "quoted field opened on line 3 is never closed");
  bad_file("ts,rack_id,v\n1,\"R1\"x,2\n", NULL, SK_EPARSE,
           ":2: rack_id: ", "unexpected 'x' after a closing quote");
  /* the field's first line */
  bad_file("ts,rack_id,v\n1,\"R\n1\"x,2\n", NULL, SK_EPARSE, ":2: rack_id: ", "unexpected 'x'");

  /* a NUL byte: the file is written by hand, tu_write_file stops at NUL */
  char *path = tu_tmp("t.csv"), err[512] = "";
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  fwrite("a,b\n1,x\0y\n", 1, 10, f);
  fclose(f);
  sk_csv *n;
  ck_assert_int_eq(sk_csv_create(&n, path, NULL, err, sizeof err), SK_OK);
  header_ok(n);
  fails(n, SK_EPARSE, ":2: b: ", "contains a NUL byte");
  sk_csv_destroy(n);
}
END_TEST

START_TEST(test_numbers) {
  static const struct {
    const char *s;
    double v;
  } good[] = {
      {"0", 0},      {"-3", -3},     {"+2.5", 2.5},
      {"1e3", 1000}, {"1E-3", 1e-3}, {".5", 0.5},
      {"-2.", -2},   {"007", 7},     {"1.5e+2", 150},
      {"-0", 0},     {"1e-400", 0},  {"123456789012345678901234567890", 1.2345678901234568e29}};
  static const char *const junk[] = {"",    " 1",    "1 ",  "0x10",  "inf",    "-inf", "nan",
                                     "NaN", "1e",    "1e+", ".",     "-",      "+-1",  "1.2.3",
                                     "e5",  "1e5.5", "1,5", "1e999", "-1e999", "١"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    double v = -1;
    ck_assert_msg(sk_csv_number(good[i].s, &v) == SK_OK, "\"%s\" refused", good[i].s);
    ck_assert_double_eq_tol(v, good[i].v, 1e-12 * (1 + fabs(good[i].v)));
  }
  for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
    double v = -1;
    ck_assert_msg(sk_csv_number(junk[i], &v) == SK_EPARSE, "\"%s\" accepted", junk[i]);
    ck_assert_double_eq(v, -1);
  }

  /* in a file: the message names the line and the column */
  char err[512] = "";
  double v;
  sk_csv *r = open_text("ts,inlet_c\n1,20.5\n\n2,hot\n", NULL);
  header_ok(r);
  next_ok(r);
  ck_assert_int_eq(sk_csv_field_number(r, 1, &v, err, sizeof err), SK_OK);
  ck_assert_double_eq(v, 20.5);
  next_ok(r);
  ck_assert_int_eq(sk_csv_field_number(r, 1, &v, err, sizeof err), SK_EPARSE);
  char want[400];
  snprintf(want, sizeof want, "%s:4: inlet_c: \"hot\" is not a number", tu_tmp("t.csv"));
  ck_assert_str_eq(err, want);
  sk_csv_destroy(r);
}
END_TEST

/* sk_csv_errf: the field's own line, "field N" before a header, the record's line. */
START_TEST(test_errf) {
  char err[512] = "", want[400];
  sk_csv *r = open_text("a,b\n\"x\ny\",2\n", NULL);
  next_ok(r); /* no header read: names are "field N" */
  sk_csv_errf(r, 1, err, sizeof err, "bad %d", 7);
  snprintf(want, sizeof want, "%s:1: field 2: bad 7", tu_tmp("t.csv"));
  ck_assert_str_eq(err, want);
  sk_csv_destroy(r);

  r = open_text("a,b,c\n\"x\ny\",2,3\n", NULL);
  header_ok(r);
  next_ok(r);
  sk_csv_errf(r, 1, err, sizeof err, "bad");
  snprintf(want, sizeof want, "%s:3: b: bad", tu_tmp("t.csv")); /* b starts on line 3 */
  ck_assert_str_eq(err, want);
  sk_csv_errf(r, SK_CSV_RECORD, err, sizeof err, "whole row");
  snprintf(want, sizeof want, "%s:2: whole row", tu_tmp("t.csv"));
  ck_assert_str_eq(err, want);
  sk_csv_errf(r, 5, err, sizeof err, "past the end");
  snprintf(want, sizeof want, "%s:2: field 6: past the end", tu_tmp("t.csv"));
  ck_assert_str_eq(err, want);
  ck_assert_str_eq(sk_csv_name(r), tu_tmp("t.csv"));
  sk_csv_destroy(r);
}
END_TEST

START_TEST(test_open_failures) {
  char err[512] = "";
  sk_csv *r = (sk_csv *)&r; /* must come back NULL */
  ck_assert_int_eq(sk_csv_create(&r, tu_tmp("nope.csv"), NULL, err, sizeof err), SK_ENOTFOUND);
  ck_assert_ptr_null(r);
  ASSERT_HAS(err, "nope.csv: cannot open: No such file or directory");
  ck_assert_int_eq(sk_csv_create(&r, tu_dir, NULL, err, sizeof err), SK_EIO);
  ck_assert_ptr_null(r);
  ASSERT_HAS(err, ": cannot read: Is a directory");
  sk_csv_destroy(NULL);
}
END_TEST

/* A caller's FILE: read from its position, named as told, left open. */
START_TEST(test_stream) {
  char text[] = "skip me\nts,v\n1,2\n";
  FILE *f = fmemopen(text, strlen(text), "r");
  ck_assert_ptr_nonnull(f);
  char line[32];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  sk_csv *r;
  char err[512] = "";
  ck_assert_int_eq(sk_csv_create_stream(&r, f, "<memory>", NULL, err, sizeof err), SK_OK);
  header_ok(r);
  ck_assert_str_eq(sk_csv_header_name(r, 0), "ts");
  next_ok(r);
  ck_assert_str_eq(F(1), "2");
  ck_assert_int_eq(sk_csv_field_number(r, 0, &(double){0}, err, sizeof err), SK_OK);
  sk_csv_errf(r, 1, err, sizeof err, "x");
  ck_assert_str_eq(err, "<memory>:2: v: x"); /* lines count from where reading started */
  at_end(r);
  sk_csv_destroy(r);
  ck_assert_int_eq(fclose(f), 0); /* still open */
}
END_TEST

/* Records of every length around the 64 KiB read buffer come back whole. */
START_TEST(test_buffer_boundaries) {
  size_t n = 200000;
  char *text = malloc(n + 64), *p = text;
  p += sprintf(p, "v\r\n");
  size_t rows = 0;
  while ((size_t)(p - text) < n) {
    p += sprintf(p, "\"%zu\"\"\r\n\"\r\n", rows);
    rows++;
  }
  *p = '\0';
  sk_csv *r = open_text(text, NULL);
  free(text);
  header_ok(r);
  char want[40];
  for (size_t i = 0; i < rows; i++) {
    next_ok(r);
    snprintf(want, sizeof want, "%zu\"\r\n", i);
    ck_assert_str_eq(F(0), want);
    ck_assert_uint_eq(sk_csv_line(r), 2 + 2 * i);
  }
  at_end(r);
  sk_csv_destroy(r);
}
END_TEST

/* The delimiter sniffed from the header line: ',', ';' or tab, after a BOM; a tie fails. */
START_TEST(test_sniff) {
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.delimiter = SK_CSV_SNIFF;
  static const struct {
    const char *text;
    char want;
  } cases[] = {
      {"ts,value\n1,2\n", ','},
      {"datetime;Current;Voltage\n2020-03-09 10:14:33;0,5;220\n", ';'},
      {"\xEF\xBB\xBFts\tvalue\n1\t2,5\n", '\t'},
      {"\n\nts\tvalue\n1\t2\n", '\t'},
      {"\"a;b\",c\n1,2\n", ','}, /* a delimiter inside quotes does not count */
      {"value\n1\n", ','},       /* one column: nothing to sniff */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sk_csv *r = open_text(cases[i].text, &o);
    ck_assert_int_eq(sk_csv_delimiter(r), SK_CSV_SNIFF);
    header_ok(r);
    ck_assert_msg(sk_csv_delimiter(r) == cases[i].want, "case %zu: '%c'", i, sk_csv_delimiter(r));
    next_ok(r);
    ck_assert_uint_eq(sk_csv_field_count(r), sk_csv_header_count(r));
    at_end(r);
    sk_csv_destroy(r);
  }
  sk_csv *r = open_text("a,b;c;d,e\n", &o);
  char err[512] = "";
  ck_assert_int_eq(sk_csv_read_header(r, err, sizeof err), SK_EPARSE);
  ASSERT_HAS(err, "t.csv:1: cannot tell the delimiter: the first line has 2 ',' and 2 ';'");
  sk_csv_destroy(r);

  /* not sniffing: a one-field header holding another delimiter says so */
  r = open_text("ts\tvalue\n1\t2\n", NULL);
  header_ok(r);
  size_t idx;
  ck_assert_int_eq(sk_csv_column(r, "ts", &idx, err, sizeof err), SK_ENOTFOUND);
  ASSERT_HAS(err, "the header is one field holding tab");
  sk_csv_destroy(r);
}
END_TEST

/* Trailing non-data lines (SQL Server's) skipped and counted; data after one fails. */
START_TEST(test_trailer) {
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.delimiter = SK_CSV_SNIFF;
  o.skip_trailer = 1;
  sk_csv *r = open_text("ts\tvalue\r\n2024-05-01 06:20:00\t1\r\n\r\n(2 rows affected)\r\n\r\n"
                        "Completion time: 2024-05-01T06:21:00.1234567-04:00\r\n",
                        &o);
  header_ok(r);
  next_ok(r);
  size_t line = 0;
  const char *text = NULL;
  ck_assert_uint_eq(sk_csv_trailer(r, NULL, NULL), 0);
  at_end(r);
  ck_assert_uint_eq(sk_csv_trailer(r, &line, &text), 2);
  ck_assert_uint_eq(line, 4);
  ck_assert_str_eq(text, "(2 rows affected)");
  ck_assert_uint_eq(sk_csv_line(r), 2); /* the last data record */
  sk_csv_destroy(r);

  /* a one-field line followed by data is an error at that line */
  bad_file("a,b\n1,2\noops\n3,4\n", &o, SK_EPARSE, ":3: ",
           "expected 2 fields as in the header, got 1: \"oops\" (non-data lines are skipped "
           "only after the last data row)");
  /* a truncated last row with more than one field is still an error */
  bad_file("a,b,c\n1,2,3\n1,2\n", &o, SK_EPARSE, ":3: ", "expected 3 fields as in the header");
  /* without skip_trailer the line is an ordinary error */
  o.skip_trailer = 0;
  bad_file("a,b\n1,2\n(1 rows affected)\n", &o, SK_EPARSE,
           ":3: ", "expected 2 fields as in the header, got 1");
}
END_TEST

static Suite *csv_suite(void) {
  Suite *s = suite_create("csv");
  TCase *tc = tcase_create("csv");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_add_test(tc, test_quoting);
  tcase_add_test(tc, test_line_ends_and_bom);
  tcase_add_test(tc, test_blank_lines_and_trim);
  tcase_add_test(tc, test_delimiters);
  tcase_add_test(tc, test_header_lookup);
  tcase_add_test(tc, test_field_count);
  tcase_add_test(tc, test_too_long);
  tcase_add_test(tc, test_bad_syntax);
  tcase_add_test(tc, test_numbers);
  tcase_add_test(tc, test_errf);
  tcase_add_test(tc, test_open_failures);
  tcase_add_test(tc, test_stream);
  tcase_add_test(tc, test_buffer_boundaries);
  tcase_add_test(tc, test_sniff);
  tcase_add_test(tc, test_trailer);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(csv_suite());
}
