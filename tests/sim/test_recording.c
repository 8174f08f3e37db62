/*
 * test_recording.c -- the recording reader (sim/src/recording.c) and the schema it reads
 * by (sim/src/schema.c): every table written by the recorder and read back bit for bit,
 * the metadata, a killed run's file (still marked open for SWMR writing), range reads by
 * ts, files that are not recordings, a file with fields missing or mistyped, and the JSON
 * encoder of a row.
 *
 * Rows come from one generator driven by the schema itself (every field from the row
 * index and the field index), so a table or field added to the schema is covered without
 * a line here; test_recorder.c keeps its own field lists as the independent check of the
 * names.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <cjson/cJSON.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skadi/recorder.h"
#include "skadi/recording.h"
#include "skadi/schema.h"

#include "testutil.h"

#define ERRLEN 1024
#define N_RACKS 5

static void setup(void) {
  tu_scratch_setup("skadi_test_recording_");
}

/* ---- rows from the schema ------------------------------------------------------------ */

/* Rows of each table in the standard recording, and rows that share one ts. */
static const struct {
  size_t rows, per_ts;
} shape[SK_TABLE_COUNT] = {
    [SK_TABLE_RACKS] = {N_RACKS * 400, N_RACKS},
    [SK_TABLE_CRAH] = {2 * 400, 2},
    [SK_TABLE_ROOM] = {400, 1},
    [SK_TABLE_EVENTS] = {30, 1},
    [SK_TABLE_MONITOR] = {N_RACKS * 100, N_RACKS},
    [SK_TABLE_ACTIONS] = {300, 1},
    [SK_TABLE_COMMANDS] = {300, 3},
};

/* Row i of table t, zeroed first as the reader gives rows back: ts = 10 s per group of
 * per_ts rows, other numbers from (i, field), a NaN now and then, text that fills its whole
 * array (no NUL) on every seventh row. */
static void make_row(const sk_schema_table *t, size_t i, size_t per_ts, void *row) {
  unsigned char *p = row;
  memset(p, 0, t->row_size);
  for (size_t j = 0; j < t->n_fields; j++) {
    const sk_schema_field *f = &t->fields[j];
    unsigned char *q = p + f->offset;
    if (strcmp(f->name, "ts") == 0) {
      double ts = (double)(i / per_ts + 1) * 10.0;
      memcpy(q, &ts, sizeof ts);
      continue;
    }
    switch (f->type) {
    case SK_FIELD_F64: {
      double v = i % 11 == 3 ? NAN : (double)i * 0.5 + (double)j;
      memcpy(q, &v, sizeof v);
      break;
    }
    case SK_FIELD_I32: {
      int32_t v = (int32_t)(i * 3 + j) * (i % 2 ? -1 : 1);
      memcpy(q, &v, sizeof v);
      break;
    }
    case SK_FIELD_I64: {
      int64_t v = (int64_t)i * INT64_C(1000000007) + (int64_t)j;
      memcpy(q, &v, sizeof v);
      break;
    }
    case SK_FIELD_STR:
      if (i % 7 == 0)
        memset(q, 'a' + (int)(j % 26), f->size);
      else
        snprintf((char *)q, f->size, "%c%zu", 'a' + (int)(j % 26), i);
      break;
    }
  }
}

static void add_row(sk_recorder *rec, sk_table_id id, const void *row) {
  sk_status st = SK_EINVAL;
  switch (id) {
  case SK_TABLE_RACKS:
    st = sk_recorder_add_racks(rec, row, 1);
    break;
  case SK_TABLE_CRAH:
    st = sk_recorder_add_crahs(rec, row, 1);
    break;
  case SK_TABLE_ROOM:
    st = sk_recorder_add_room(rec, row);
    break;
  case SK_TABLE_EVENTS:
    st = sk_recorder_add_event(rec, row);
    break;
  case SK_TABLE_MONITOR:
    st = sk_recorder_add_monitor(rec, row, 1);
    break;
  case SK_TABLE_ACTIONS:
    st = sk_recorder_add_action(rec, row);
    break;
  case SK_TABLE_COMMANDS:
    st = sk_recorder_add_command(rec, row);
    break;
  case SK_TABLE_RACK_LAYOUT:
  case SK_TABLE_COUNT:
    break;
  }
  ck_assert_int_eq(st, SK_OK);
}

/* ---- a recording ------------------------------------------------------------------------ */

static const char *const rack_ids[N_RACKS] = {"R-A-01", "R-A-02", "R-B-01", "R-C-07", "R-F-12"};
static const int rack_row[N_RACKS] = {0, 0, 1, 2, 5};
static const int rack_pos[N_RACKS] = {0, 1, 0, 6, 11};
static const char *const cfg_keys[] = {"settings.inlet_max_c", "run.mode",
                                       "settings.sla_latency_ms", "weird"};
static const char *const cfg_vals[] = {"27", "closed_loop", "250", "12 kW"};
static const char scenario[] = "{\"name\":\"heat_spike_row_c\",\"seed\":7}";

static sk_recorder *create(const char *path) {
  sk_recorder_config cfg = {.path = path,
                            .scenario_name = "heat_spike_row_c",
                            .scenario_json = scenario,
                            .skadi_version = "9.9.9-test",
                            .seed = UINT64_C(18446744073709551557),
                            .duration_s = 4000.0,
                            .sample_period_s = 10.0,
                            .n_config = 4,
                            .config_keys = cfg_keys,
                            .config_values = cfg_vals,
                            .n_racks = N_RACKS,
                            .rack_ids = rack_ids,
                            .rack_row = rack_row,
                            .rack_pos = rack_pos};
  sk_recorder *rec = NULL;
  char err[ERRLEN];
  ck_assert_msg(sk_recorder_create(&rec, &cfg, err, sizeof err) == SK_OK, "%s", err);
  return rec;
}

/* Every appended table with its standard rows, interleaved in time as a run adds them. */
static void add_standard(sk_recorder *rec) {
  unsigned char row[512];
  for (int step = 0; step < 10; step++)
    for (int id = 0; id < SK_TABLE_RACK_LAYOUT; id++) {
      const sk_schema_table *t = &sk_schema_tables[id];
      ck_assert_uint_le(t->row_size, sizeof row);
      for (size_t i = shape[id].rows * (size_t)step / 10;
           i < shape[id].rows * (size_t)(step + 1) / 10; i++) {
        make_row(t, i, shape[id].per_ts, row);
        add_row(rec, (sk_table_id)id, row);
      }
    }
}

static void record_standard(const char *path) {
  sk_recorder *rec = create(path);
  add_standard(rec);
  const sk_recorder_figure summary[] = {{"pue", 1.31, "1"}, {"j_per_prompt_wh", NAN, "Wh/prompt"}};
  const sk_recorder_figure run_info[] = {{"wall_time_s", 2.5, "s"}, {"speedup", 1600, "1"}};
  ck_assert_int_eq(sk_recorder_finish(rec, summary, 2, run_info, 2, "completed"), SK_OK);
  sk_recorder_close(rec);
}

static sk_recording *open_ok(const char *path) {
  sk_recording *r = NULL;
  char err[ERRLEN] = "x";
  ck_assert_msg(sk_recording_open(&r, path, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_str_eq(err, "");
  ck_assert_ptr_nonnull(r);
  return r;
}

/* Reads all of table id and compares every row with the generator, byte for byte (NaN
 * bits, text without a NUL, and the zeros after a NUL and in padding included). */
static void check_table(sk_recording *r, sk_table_id id) {
  const sk_schema_table *t = &sk_schema_tables[id];
  uint64_t n = 0;
  ck_assert_msg(sk_recording_count(r, id, &n) == SK_OK, "%s", sk_recording_error(r));
  ck_assert_uint_eq(n, shape[id].rows);
  unsigned char *rows = malloc(n * t->row_size), want[512];
  ck_assert_ptr_nonnull(rows);
  memset(rows, 0xAB, n * t->row_size);
  ck_assert_msg(sk_recording_read(r, id, 0, (size_t)n, rows) == SK_OK, "%s", sk_recording_error(r));
  for (size_t i = 0; i < n; i++) {
    make_row(t, i, shape[id].per_ts, want);
    ck_assert_msg(memcmp(rows + i * t->row_size, want, t->row_size) == 0, "%s row %zu differs",
                  t->path, i);
  }
  free(rows);
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(schema_tables_are_consistent) {
  for (int id = 0; id < SK_TABLE_COUNT; id++) {
    const sk_schema_table *t = &sk_schema_tables[id];
    ck_assert_int_eq(t->id, id);
    ck_assert_ptr_eq(sk_schema_table_find(t->path), t);
    ck_assert(t->description && t->description[0]);
    size_t end = 0;
    for (size_t j = 0; j < t->n_fields; j++) {
      const sk_schema_field *f = &t->fields[j];
      ck_assert_msg(f->offset >= end, "%s.%s overlaps", t->path, f->name);
      end = f->offset + f->size;
      ck_assert_uint_le(end, t->row_size);
      ck_assert_ptr_eq(sk_schema_field_find(t, f->name), f);
      ck_assert(f->units && f->description && f->description[0]);
      if (f->type == SK_FIELD_STR)
        ck_assert_str_eq(f->units, "");
    }
    /* every table but the layout is in time order */
    ck_assert_int_eq(sk_schema_field_find(t, "ts") != NULL, id != SK_TABLE_RACK_LAYOUT);
  }
  ck_assert_ptr_null(sk_schema_table_find("/nope"));
  ck_assert_ptr_null(sk_schema_field_find(&sk_schema_tables[SK_TABLE_ROOM], "nope"));
  const sk_schema_field *f = sk_schema_field_find(&sk_schema_tables[SK_TABLE_RACKS], "inlet_c");
  ck_assert_str_eq(f->units, "degC");
  ck_assert_int_eq(f->type, SK_FIELD_F64);
  ck_assert_uint_eq(f->offset, offsetof(sk_rack_sample, inlet_c));
}
END_TEST

START_TEST(round_trip_every_table) {
  const char *path = tu_tmp("run.h5");
  record_standard(path);
  sk_recording *r = open_ok(path);
  for (int id = 0; id < SK_TABLE_RACK_LAYOUT; id++) {
    ck_assert_int_eq(sk_recording_has_table(r, (sk_table_id)id), 1);
    check_table(r, (sk_table_id)id);
  }
  ck_assert_int_eq(sk_recording_has_field(r, SK_TABLE_ROOM, "pue"), 1);
  ck_assert_int_eq(sk_recording_has_field(r, SK_TABLE_ROOM, "nope"), 0);
  sk_recording_close(r);
}
END_TEST

/* Checks a block of /commands rows against the generator; stops after 250 rows. */
static sk_status count_rows(void *ud, const void *rows, size_t n) {
  const sk_command_record *c = rows;
  size_t *seen = ud;
  for (size_t i = 0; i < n; i++) {
    sk_command_record want;
    make_row(&sk_schema_tables[SK_TABLE_COMMANDS], *seen, 3, &want);
    ck_assert_int_eq(memcmp(&c[i], &want, sizeof want), 0);
    (*seen)++;
  }
  ck_assert_uint_le(n, 7);
  return *seen >= 250 ? SK_EINTR : SK_OK;
}

START_TEST(scan_in_blocks) {
  const char *path = tu_tmp("run.h5");
  record_standard(path);
  sk_recording *r = open_ok(path);
  size_t seen = 0;
  /* fn's own status stops the scan and comes back */
  ck_assert_int_eq(sk_recording_scan(r, SK_TABLE_COMMANDS, 7, count_rows, &seen), SK_EINTR);
  ck_assert_uint_eq(seen, 252);
  sk_recording_close(r);
}
END_TEST

START_TEST(metadata) {
  const char *path = tu_tmp("run.h5");
  record_standard(path);
  sk_recording *r = open_ok(path);
  const sk_recording_meta *m = sk_recording_metadata(r);
  ck_assert_str_eq(m->path, path);
  ck_assert_int_eq(m->format_version, SK_RECORDER_FORMAT_VERSION);
  ck_assert_str_eq(m->scenario_name, "heat_spike_row_c");
  ck_assert_str_eq(m->scenario_json, scenario);
  ck_assert_str_eq(m->skadi_version, "9.9.9-test");
  ck_assert_int_eq(m->has_seed, 1);
  ck_assert_uint_eq(m->seed, UINT64_C(18446744073709551557));
  ck_assert_double_eq(m->duration_s, 4000.0);
  ck_assert_double_eq(m->sample_period_s, 10.0);
  ck_assert_str_eq(m->status, "completed");
  ck_assert_int_eq(m->live, 0);
  ck_assert(m->has_config && m->has_summary && m->has_run_info);

  ck_assert_uint_eq(m->n_config, 4);
  for (size_t i = 0; i < 4; i++) { /* in recorded order */
    ck_assert_str_eq(m->config_keys[i], cfg_keys[i]);
    ck_assert_str_eq(m->config_values[i], cfg_vals[i]);
  }
  ck_assert_str_eq(sk_recording_config(r, "run.mode"), "closed_loop");
  ck_assert_ptr_null(sk_recording_config(r, "settings.nope"));
  double v;
  ck_assert_int_eq(sk_recording_config_f64(r, "settings.inlet_max_c", &v), SK_OK);
  ck_assert_double_eq(v, 27);
  ck_assert_str_eq(sk_recording_error(r), "");
  ck_assert_int_eq(sk_recording_config_f64(r, "settings.nope", &v), SK_ENOTFOUND);
  ck_assert(isnan(v));
  ASSERT_HAS(sk_recording_error(r), "run.h5: /config: attribute settings.nope missing");
  ck_assert_int_eq(sk_recording_config_f64(r, "weird", &v), SK_EPARSE);
  ASSERT_HAS(sk_recording_error(r), "/config: weird = '12 kW' is not a number");

  ck_assert_uint_eq(m->n_summary, 2);
  ck_assert_str_eq(m->summary[0].key, "pue");
  ck_assert_double_eq(m->summary[0].value, 1.31);
  ck_assert_str_eq(m->summary[0].unit, "1");
  const sk_recorder_figure *f = sk_recording_figure(m->summary, m->n_summary, "j_per_prompt_wh");
  ck_assert_ptr_nonnull(f);
  ck_assert(isnan(f->value));
  ck_assert_str_eq(f->unit, "Wh/prompt");
  ck_assert_ptr_null(sk_recording_figure(m->summary, m->n_summary, "wall_time_s"));
  /* /run_info: the numbers only, not the start facts or the status */
  ck_assert_uint_eq(m->n_run_info, 2);
  f = sk_recording_figure(m->run_info, m->n_run_info, "speedup");
  ck_assert_ptr_nonnull(f);
  ck_assert_double_eq(f->value, 1600);

  ck_assert_uint_eq(m->n_racks, N_RACKS);
  for (size_t i = 0; i < N_RACKS; i++) {
    ck_assert_str_eq(m->racks[i].rack_id, rack_ids[i]);
    ck_assert_int_eq(m->racks[i].row, rack_row[i]);
    ck_assert_int_eq(m->racks[i].pos, rack_pos[i]);
  }
  sk_recording_close(r);
  sk_recording_close(NULL);
}
END_TEST

/* A run that never finished: no status, empty /summary, uncompressed, all rows there. */
START_TEST(unfinished_run) {
  const char *path = tu_tmp("unfinished.h5");
  sk_recorder *rec = create(path);
  add_standard(rec);
  sk_recorder_close(rec);
  sk_recording *r = open_ok(path);
  const sk_recording_meta *m = sk_recording_metadata(r);
  ck_assert_ptr_null(m->status);
  ck_assert_int_eq(m->live, 0);
  ck_assert_int_eq(m->has_summary, 1);
  ck_assert_uint_eq(m->n_summary, 0);
  ck_assert_uint_eq(m->n_run_info, 0);
  check_table(r, SK_TABLE_RACKS);
  check_table(r, SK_TABLE_COMMANDS);
  sk_recording_close(r);
}
END_TEST

/* A writer killed after a flush leaves the file marked open for SWMR writing: the reader
 * opens it as a SWMR reader and sees the flushed rows. */
START_TEST(killed_run_is_read_live) {
  const char *path = tu_tmp("killed.h5");
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    sk_recorder *rec = create(path);
    unsigned char row[512];
    for (size_t i = 0; i < 300; i++) {
      make_row(&sk_schema_tables[SK_TABLE_ROOM], i, 1, row);
      add_row(rec, SK_TABLE_ROOM, row);
    }
    if (sk_recorder_flush(rec) != SK_OK)
      _exit(1);
    for (size_t i = 300; i < 310; i++) { /* buffered, below a chunk: lost */
      make_row(&sk_schema_tables[SK_TABLE_ROOM], i, 1, row);
      add_row(rec, SK_TABLE_ROOM, row);
    }
    kill(getpid(), SIGKILL);
    _exit(2);
  }
  ck_assert_int_eq(tu_wait(pid), 128 + SIGKILL);
  sk_recording *r = open_ok(path);
  const sk_recording_meta *m = sk_recording_metadata(r);
  ck_assert_int_eq(m->live, 1);
  ck_assert_ptr_null(m->status);
  ck_assert_uint_eq(m->n_racks, N_RACKS);
  uint64_t n = 0;
  ck_assert_int_eq(sk_recording_count(r, SK_TABLE_ROOM, &n), SK_OK);
  ck_assert_uint_eq(n, 300);
  sk_room_sample last, want;
  ck_assert_int_eq(sk_recording_read(r, SK_TABLE_ROOM, 299, 1, &last), SK_OK);
  make_row(&sk_schema_tables[SK_TABLE_ROOM], 299, 1, &want);
  ck_assert_int_eq(memcmp(&last, &want, sizeof want), 0);
  ck_assert_int_eq(sk_recording_count(r, SK_TABLE_RACKS, &n), SK_OK);
  ck_assert_uint_eq(n, 0);
  sk_recording_close(r);
}
END_TEST

START_TEST(range_read_at_ts) {
  const char *path = tu_tmp("run.h5");
  record_standard(path);
  sk_recording *r = open_ok(path);
  /* room rows 120..129, then the rack rows of the same samples in one find and one read */
  sk_room_sample room[10];
  ck_assert_int_eq(sk_recording_read(r, SK_TABLE_ROOM, 120, 10, room), SK_OK);
  ck_assert_double_eq(room[0].ts, 1210.0);
  uint64_t first, n;
  ck_assert_int_eq(
      sk_recording_find(r, SK_TABLE_RACKS, room[0].ts, nextafter(room[9].ts, INFINITY), &first, &n),
      SK_OK);
  ck_assert_uint_eq(first, 120 * N_RACKS);
  ck_assert_uint_eq(n, 10 * N_RACKS);
  sk_rack_sample racks[10 * N_RACKS], want;
  ck_assert_int_eq(sk_recording_read(r, SK_TABLE_RACKS, first, (size_t)n, racks), SK_OK);
  for (size_t i = 0; i < n; i++) {
    make_row(&sk_schema_tables[SK_TABLE_RACKS], (size_t)first + i, N_RACKS, &want);
    ck_assert_int_eq(memcmp(&racks[i], &want, sizeof want), 0);
    ck_assert_double_eq(racks[i].ts, room[i / N_RACKS].ts);
  }

  /* one sample exactly, at every position of the table (the search's two phases) */
  for (size_t k = 0; k < 400; k += 37) {
    double ts = (double)(k + 1) * 10.0;
    ck_assert_int_eq(sk_recording_find_at(r, SK_TABLE_RACKS, ts, &first, &n), SK_OK);
    ck_assert_uint_eq(first, k * N_RACKS);
    ck_assert_uint_eq(n, N_RACKS);
    ck_assert_int_eq(sk_recording_find_at(r, SK_TABLE_ROOM, ts, &first, &n), SK_OK);
    ck_assert_uint_eq(first, k);
    ck_assert_uint_eq(n, 1);
  }
  /* between samples, before the first, after the last, an empty range, a whole table */
  ck_assert_int_eq(sk_recording_find_at(r, SK_TABLE_RACKS, 15.0, &first, &n), SK_OK);
  ck_assert_uint_eq(first, N_RACKS);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(sk_recording_find(r, SK_TABLE_ROOM, -INFINITY, 10.0, &first, &n), SK_OK);
  ck_assert_uint_eq(first, 0);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(sk_recording_find(r, SK_TABLE_ROOM, 4000.5, INFINITY, &first, &n), SK_OK);
  ck_assert_uint_eq(first, 400);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(sk_recording_find(r, SK_TABLE_ROOM, 500, 100, &first, &n), SK_OK);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(sk_recording_find(r, SK_TABLE_COMMANDS, -INFINITY, INFINITY, &first, &n), SK_OK);
  ck_assert_uint_eq(first, 0);
  ck_assert_uint_eq(n, 300);

  /* past the end */
  ck_assert_int_eq(sk_recording_read(r, SK_TABLE_ROOM, 395, 10, room), SK_ERANGE);
  ASSERT_HAS(sk_recording_error(r), "/telemetry/room: rows 395..405 asked, the table has 400");
  ck_assert_int_eq(sk_recording_read(r, SK_TABLE_ROOM, 400, 0, room), SK_OK);
  sk_recording_close(r);
}
END_TEST

/* ts that grows unevenly (long runs of equal values early, wide gaps late): the search's
 * interpolation guesses badly, and its bisection must still give every boundary. */
START_TEST(find_on_uneven_ts) {
  const char *path = tu_tmp("uneven.h5");
  enum { N = 5000 };
  sk_recorder *rec = create(path);
  static double ts[N];
  for (size_t i = 0; i < N; i++) {
    sk_room_sample row;
    memset(&row, 0, sizeof row);
    row.ts = ts[i] = floor((double)i * (double)i * (double)i / 1e7);
    ck_assert_int_eq(sk_recorder_add_room(rec, &row), SK_OK);
  }
  sk_recorder_close(rec);
  sk_recording *r = open_ok(path);
  for (double x = -1; x <= ts[N - 1] + 1; x = x < 50 ? x + 0.5 : x * 1.37) {
    uint64_t want = 0, first, n;
    while (want < N && ts[want] < x)
      want++;
    ck_assert_int_eq(sk_recording_find(r, SK_TABLE_ROOM, x, INFINITY, &first, &n), SK_OK);
    ck_assert_msg(first == want, "x %g: row %llu, want %llu", x, (unsigned long long)first,
                  (unsigned long long)want);
    ck_assert_uint_eq(n, N - want);
    if (want < N) { /* all the rows at one ts */
      uint64_t end = want;
      while (end < N && ts[end] == ts[want])
        end++;
      ck_assert_int_eq(sk_recording_find_at(r, SK_TABLE_ROOM, ts[want], &first, &n), SK_OK);
      ck_assert_uint_eq(first, want);
      ck_assert_uint_eq(n, end - want);
    }
  }
  sk_recording_close(r);
}
END_TEST

static void expect_open_fails(const char *path, sk_status want, const char *msg) {
  sk_recording *r = (sk_recording *)(void *)&r; /* must be reset to NULL */
  char err[ERRLEN] = "";
  ck_assert_int_eq(sk_recording_open(&r, path, err, sizeof err), want);
  ck_assert_ptr_null(r);
  ASSERT_HAS(err, path);
  ASSERT_HAS(err, msg);
}

static void attr_i32(hid_t obj, const char *name, int32_t v) {
  hid_t s = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT);
  ck_assert_int_ge(H5Awrite(a, H5T_NATIVE_INT32, &v), 0);
  H5Aclose(a);
  H5Sclose(s);
}

/* An HDF5 file with format_version (unless < 0) and nothing else. */
static void bare_h5(const char *path, int version) {
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ck_assert_int_ge(f, 0);
  if (version >= 0)
    attr_i32(f, "format_version", version);
  H5Gclose(H5Gcreate2(f, "/telemetry", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Fclose(f);
}

START_TEST(not_recordings) {
  expect_open_fails(tu_tmp("missing.h5"), SK_ENOTFOUND, "No such file or directory");
  expect_open_fails(tu_dir, SK_EPARSE, "is a directory, not a recording");
  tu_write_file(tu_tmp("text.h5"), "{\"hello\": 1}\n");
  expect_open_fails(tu_tmp("text.h5"), SK_EPARSE, "not a skadi recording (not an HDF5 file)");
  bare_h5(tu_tmp("nover.h5"), -1);
  expect_open_fails(tu_tmp("nover.h5"), SK_EPARSE, "not a skadi recording (no format_version)");
  bare_h5(tu_tmp("newer.h5"), SK_RECORDER_FORMAT_VERSION + 1);
  expect_open_fails(tu_tmp("newer.h5"), SK_EPARSE, "(the file is newer)");
  /* format_version but no /telemetry/room: another kind of skadi file, e.g. an IMS model */
  bare_h5(tu_tmp("other.h5"), 1);
  expect_open_fails(tu_tmp("other.h5"), SK_EPARSE, "not a skadi recording (no /telemetry/room)");
  /* without an err buffer it still fails cleanly */
  sk_recording *r = NULL;
  ck_assert_int_eq(sk_recording_open(&r, tu_tmp("missing.h5"), NULL, 0), SK_ENOTFOUND);
  ck_assert_ptr_null(r);
}
END_TEST

/* A hand-made recording from another writer: /telemetry/room with some fields in other
 * types and order plus one unknown, /actions with a mistyped field, no other table. */
START_TEST(missing_and_mistyped_fields) {
  const char *path = tu_tmp("odd.h5");
  bare_h5(path, 1);
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  typedef struct {
    int16_t queue_depth;
    float pue;
    int32_t bogus;
    double ts;
  } odd_room;
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(odd_room));
  H5Tinsert(t, "queue_depth", HOFFSET(odd_room, queue_depth), H5T_NATIVE_INT16);
  H5Tinsert(t, "pue", HOFFSET(odd_room, pue), H5T_NATIVE_FLOAT);
  H5Tinsert(t, "bogus", HOFFSET(odd_room, bogus), H5T_NATIVE_INT32);
  H5Tinsert(t, "ts", HOFFSET(odd_room, ts), H5T_NATIVE_DOUBLE);
  odd_room rows[3];
  memset(rows, 0, sizeof rows); /* the padding goes to the file */
  rows[0] = (odd_room){4, 1.25f, 9, 10};
  rows[1] = (odd_room){5, 1.5f, 9, 20};
  rows[2] = (odd_room){-6, 2.0f, 9, 30};
  hsize_t n = 3;
  hid_t s = H5Screate_simple(1, &n, NULL);
  hid_t d = H5Dcreate2(f, "/telemetry/room", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ck_assert_int_ge(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows), 0);
  H5Dclose(d);
  H5Tclose(t);
  typedef struct {
    double ts, decision;
  } odd_action;
  t = H5Tcreate(H5T_COMPOUND, sizeof(odd_action));
  H5Tinsert(t, "ts", HOFFSET(odd_action, ts), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "decision", HOFFSET(odd_action, decision), H5T_NATIVE_DOUBLE);
  d = H5Dcreate2(f, "/actions", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(d);
  H5Tclose(t);
  H5Sclose(s);
  H5Fclose(f);

  sk_recording *r = open_ok(path);
  const sk_recording_meta *m = sk_recording_metadata(r);
  ck_assert_ptr_null(m->scenario_name);
  ck_assert(isnan(m->sample_period_s));
  ck_assert_int_eq(m->has_seed, 0);
  ck_assert_int_eq(m->has_config, 0);
  ck_assert_uint_eq(m->n_racks, 0);
  ck_assert_int_eq(sk_recording_has_field(r, SK_TABLE_ROOM, "pue"), 1);
  ck_assert_int_eq(sk_recording_has_field(r, SK_TABLE_ROOM, "it_kw"), 0);
  sk_room_sample room[3];
  ck_assert_int_eq(sk_recording_read(r, SK_TABLE_ROOM, 0, 3, room), SK_OK);
  ck_assert_double_eq(room[1].ts, 20);
  ck_assert_double_eq(room[1].pue, 1.5);
  ck_assert_int_eq(room[2].queue_depth, -6);
  ck_assert(isnan(room[2].it_kw));               /* missing number: NaN */
  ck_assert_int_eq(room[2].active_sequences, 0); /* missing integer: 0 */
  uint64_t first, k;
  ck_assert_int_eq(sk_recording_find_at(r, SK_TABLE_ROOM, 20, &first, &k), SK_OK);
  ck_assert_uint_eq(first, 1);
  ck_assert_uint_eq(k, 1);

  /* a table the file lacks is empty; one with a mistyped field says which */
  ck_assert_int_eq(sk_recording_has_table(r, SK_TABLE_EVENTS), 0);
  ck_assert_int_eq(sk_recording_count(r, SK_TABLE_EVENTS, &k), SK_OK);
  ck_assert_uint_eq(k, 0);
  ck_assert_int_eq(sk_recording_read(r, SK_TABLE_EVENTS, 0, 1, room), SK_ERANGE);
  ck_assert_int_eq(sk_recording_has_table(r, SK_TABLE_ACTIONS), 1);
  ck_assert_int_eq(sk_recording_count(r, SK_TABLE_ACTIONS, &k), SK_EPARSE);
  ASSERT_HAS(sk_recording_error(r),
             "odd.h5: /actions: field decision is not a fixed-length string");
  ck_assert_int_eq(sk_recording_has_field(r, SK_TABLE_ACTIONS, "ts"), 0);
  sk_recording_close(r);
}
END_TEST

START_TEST(row_json) {
  sk_action_record a;
  memset(&a, 0, sizeof a);
  a.ts = 3600.5;
  a.id = 42;
  memcpy(a.loop, "slow", 5);
  memcpy(a.decision, "sixteen-chars-xx", sizeof a.decision); /* fills it: no NUL */
  snprintf(a.reason, sizeof a.reason, "saves \"2 %%\"");
  a.delta = INFINITY;
  a.pred_saving_pct = NAN;
  a.pred_ttft_p95_ms = -12.25;
  const sk_schema_table *t = &sk_schema_tables[SK_TABLE_ACTIONS];
  cJSON *j = sk_schema_row_json(t, &a);
  ck_assert_ptr_nonnull(j);
  ck_assert_int_eq(cJSON_GetArraySize(j), (int)t->n_fields);
  ck_assert_str_eq(j->child->string, "ts"); /* field order */
  ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(j, "ts")->valuedouble, 3600.5);
  ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(j, "id")->valuedouble, 42);
  ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "loop")->valuestring, "slow");
  ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "action")->valuestring, "");
  ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "decision")->valuestring,
                   "sixteen-chars-xx");
  ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "delta")));
  ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "pred_saving_pct")));
  ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(j, "pred_ttft_p95_ms")->valuedouble, -12.25);
  char *text = cJSON_PrintUnformatted(j);
  ASSERT_HAS(text, "\"reason\":\"saves \\\"2 %\\\"\"");
  ASSERT_HAS(text, "\"delta\":null");
  free(text);
  cJSON_Delete(j);

  /* every table encodes its generated rows */
  unsigned char row[512];
  for (int id = 0; id < SK_TABLE_COUNT; id++) {
    make_row(&sk_schema_tables[id], 7, 1, row);
    j = sk_schema_row_json(&sk_schema_tables[id], row);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(j), (int)sk_schema_tables[id].n_fields);
    cJSON_Delete(j);
  }
  sk_rack_sample rs;
  make_row(&sk_schema_tables[SK_TABLE_RACKS], 3, 1, &rs); /* i % 11 == 3: NaN numbers */
  j = sk_schema_row_json(&sk_schema_tables[SK_TABLE_RACKS], &rs);
  ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "inlet_c")));
  ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "queue_depth")));
  cJSON_Delete(j);
}
END_TEST

/* A damaged recording is bad input (SK_EPARSE: `skadi report` exits 2), not an I/O
 * failure, and the message names it: truncated (the superblock claims more than the
 * file holds) or with garbage over compressed rows (inflate fails). */
static sk_status scan_nothing(void *ud, const void *rows, size_t n) {
  (void)ud, (void)rows, (void)n;
  return SK_OK;
}

START_TEST(damaged_files) {
  const char *path = tu_tmp("truncated.h5");
  record_standard(path);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
  expect_open_fails(path, SK_EPARSE, "cannot open");

  char golden[512], bad[512];
  snprintf(golden, sizeof golden, "%s/tests/data/golden/heat_spike_row_c-off.h5", SKADI_SOURCE_DIR);
  snprintf(bad, sizeof bad, "%s", tu_tmp("garbled.h5"));
  FILE *in = fopen(golden, "rb"), *out = fopen(bad, "wb");
  ck_assert(in && out);
  ck_assert_int_eq(fseek(in, 0, SEEK_END), 0);
  long size = ftell(in);
  rewind(in);
  for (long i = 0; i < size; i++) {
    int c = fgetc(in);
    /* 4 KiB of garbage halfway: the compressed rack rows fill most of the file */
    fputc(i >= size / 2 && i < size / 2 + 4096 ? 0x55 : c, out);
  }
  fclose(in);
  ck_assert_int_eq(fclose(out), 0);
  sk_recording *r = NULL;
  char err[ERRLEN] = "";
  sk_status got = sk_recording_open(&r, bad, err, sizeof err);
  for (int id = 0; got == SK_OK && id < SK_TABLE_RACK_LAYOUT; id++) {
    got = sk_recording_scan(r, (sk_table_id)id, 4096, scan_nothing, NULL);
    if (got != SK_OK)
      snprintf(err, sizeof err, "%s", sk_recording_error(r));
  }
  sk_recording_close(r);
  ck_assert_msg(got == SK_EPARSE, "status %d: %s", got, err);
  ASSERT_HAS(err, bad);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("recording");
  TCase *tc = tcase_create("recording");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, schema_tables_are_consistent);
  tcase_add_test(tc, round_trip_every_table);
  tcase_add_test(tc, scan_in_blocks);
  tcase_add_test(tc, metadata);
  tcase_add_test(tc, unfinished_run);
  tcase_add_test(tc, killed_run_is_read_live);
  tcase_add_test(tc, range_read_at_ts);
  tcase_add_test(tc, find_on_uneven_ts);
  tcase_add_test(tc, not_recordings);
  tcase_add_test(tc, damaged_files);
  tcase_add_test(tc, missing_and_mistyped_fields);
  tcase_add_test(tc, row_json);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(suite());
}
