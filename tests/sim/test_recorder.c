/*
 * test_recorder.c -- the HDF5 recorder (sim/src/recorder.c), read back through the HDF5
 * C API with memory types built here from the field names in docs/HDF5.md, so a renamed
 * or dropped field fails.
 *
 * Round trip over several buffer fills and odd flush points; units and descriptions on
 * every field; bad paths and bad config give a status naming the path and leave no
 * file; a child SIGKILLed after a flush leaves a file that a SWMR reader opens with the
 * flushed rows; two recordings of the same rows with different flush cadences compare
 * equal everywhere but /run_info.  All files live in one mkdtemp directory that main
 * removes, also when a test failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <errno.h>
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skadi/recorder.h"

/* Debian builds HDF5 with the 1.8 API as default, so name the object-info versions. */
#if H5_VERSION_GE(1, 12, 0)
typedef H5O_info2_t oinfo_t;
#define oinfo H5Oget_info3
#define oinfo_by_name H5Oget_info_by_name3
#else
typedef H5O_info_t oinfo_t;
#define oinfo H5Oget_info2
#define oinfo_by_name H5Oget_info_by_name2
#endif

static char tmpdir[64];

static void tmp_path(char *buf, size_t len, const char *name) {
  snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* ---- deterministic rows -------------------------------------------------------------
 * With garbage != 0 the struct starts as 0xAB bytes, so bytes after a string's NUL (and
 * struct padding) are junk, as they may be in the sim; the expected form starts zeroed.
 */

#define N_RACK_IDS 7

static void rack_at(size_t i, sk_rack_sample *r, int garbage) {
  memset(r, garbage ? 0xAB : 0, sizeof *r);
  r->ts = (double)(i / N_RACK_IDS + 1) * 10.0;
  snprintf(r->rack_id, sizeof r->rack_id, "R-%c-%02d", 'A' + (int)(i % N_RACK_IDS % 6),
           (int)(i % N_RACK_IDS));
  r->inlet_c = 20.0 + (double)i * 0.001;
  r->outlet_c = r->inlet_c + 12.25;
  r->pdu_kw = 30.0 + (double)(i % 97) * 0.5;
  r->gpu_energy_j = r->pdu_kw * 8000.0;
  r->tokens_ps = 5000.0 - (double)(i % 31);
  r->latency_p95_ms = i % 13 == 0 ? NAN : 200.0 + (double)(i % 11);
  r->fan_rpm_pct = 60.0 + (double)(i % 5);
  r->pump_rpm_pct = 70.0;
  r->queue_depth = (int32_t)(i % 50);
  r->n_servers = (int32_t)(8 + i % 3);
}

static void crah_at(size_t i, sk_crah_sample *c, int garbage) {
  memset(c, garbage ? 0xAB : 0, sizeof *c);
  c->ts = (double)(i / 6 + 1) * 10.0;
  c->row[0] = (char)('A' + i % 6);
  c->row[1] = '\0';
  c->supply_c = 18.0 + (double)(i % 6) * 0.1;
  c->setpoint_c = 18.0;
  c->return_c = 30.0 + (double)(i % 9);
  c->fan_pct = 55.5;
  c->fan_kw = 4.0 + (double)(i % 4);
  c->load_kw = 400.0 + (double)i;
  c->airflow_m3s = 20.0;
}

static void room_at(size_t i, sk_room_sample *r, int garbage) {
  memset(r, garbage ? 0xAB : 0, sizeof *r);
  double x = (double)i;
  r->ts = (x + 1.0) * 10.0;
  r->it_kw = 2000.0 + x;
  r->crah_fan_kw = 30.0 + x * 0.01;
  r->pump_kw = 12.0;
  r->chiller_kw = 400.0 - x * 0.1;
  r->tower_kw = 20.0;
  r->losses_kw = 80.0;
  r->misc_kw = 15.0;
  r->facility_kw = r->it_kw + r->crah_fan_kw + r->pump_kw + r->chiller_kw + r->tower_kw +
                   r->losses_kw + r->misc_kw;
  r->pue = r->facility_kw / r->it_kw;
  r->wetbulb_c = 18.0 + x * 0.001;
  r->chw_supply_c = 7.0;
  r->chiller_cop = 5.5;
  r->prompts_completed = x;
  r->prompts_arrived = x + 1.0;
  r->tokens_ps = 1e5 + x;
  r->j_per_prompt_wh = i % 4 == 0 ? NAN : 1.5;
  r->j_per_prompt_wh_cum = 1.25;
  r->latency_p95_ms = -0.0;
  r->inlet_compliance_pct = 100.0 - x * 0.01;
  r->max_inlet_c = 26.5;
  r->energy_kwh_cum = x * 0.7;
  r->queue_depth = (int32_t)i;
  r->active_sequences = -(int32_t)i;
}

static void event_at(size_t i, sk_event_record *e, int garbage) {
  memset(e, garbage ? 0xAB : 0, sizeof *e);
  e->ts = (double)i * 60.0;
  snprintf(e->name, sizeof e->name, "entry_%zu", i);
  snprintf(e->effect, sizeof e->effect, "%s", i % 2 ? "heat_spike" : "add_ai_nodes");
  /* Exactly 8 bytes, no NUL: NULLPAD keeps all of them. */
  memcpy(e->phase, i % 2 ? "stop\0\0\0\0" : "startxyz", sizeof e->phase);
  snprintf(e->detail, sizeof e->detail, "{\"row\":\"C\",\"i\":%zu}", i);
}

static void command_at(size_t i, sk_command_record *c, int garbage) {
  memset(c, garbage ? 0xAB : 0, sizeof *c);
  c->ts = (double)(i / 3) * 30.0;
  c->seq = (int64_t)i;
  snprintf(c->kind, sizeof c->kind, "%s", i % 3 == 0 ? "mode" : "set");
  snprintf(c->key, sizeof c->key, "%s", i % 3 == 0 ? "" : "settings.inlet_max_c");
  snprintf(c->value, sizeof c->value, "%zu", 20 + i % 9);
  /* Exactly 16 bytes, no NUL: NULLPAD keeps all of them. */
  memcpy(c->source, i % 2 ? "api\0\0\0\0\0\0\0\0\0\0\0\0\0" : "sixteen-bytes-xx", sizeof c->source);
}

/* ---- recorder set-up ---------------------------------------------------------------- */

static const char *const rack_ids[] = {"R-A-00", "R-A-01", "R-B-00", "R-B-01", "R-C-07"};
static const int rack_rows[] = {0, 0, 1, 1, 2};
static const int rack_pos[] = {0, 1, 0, 1, 7};
/* Enough keys that HDF5 keeps /config's attributes in dense storage, as the real
 * settings table does (1.10.8's H5Ocopy crashed on exactly that). */
#define N_CFG 40
static const char *cfg_keys[N_CFG] = {"INLET_MAX_C", "SAMPLE_PERIOD_S", "LOG_LEVEL"};
static const char *cfg_vals[N_CFG] = {"27", "10", "info"};
static char cfg_text[N_CFG][2][32];

static void init_cfg(void) {
  for (int i = 3; i < N_CFG; i++) {
    snprintf(cfg_text[i][0], sizeof cfg_text[i][0], "SETTING_%02d", i);
    snprintf(cfg_text[i][1], sizeof cfg_text[i][1], "%d.5", i * 7);
    cfg_keys[i] = cfg_text[i][0];
    cfg_vals[i] = cfg_text[i][1];
  }
}
static const char scenario[] = "{\"name\":\"heat_spike_row_c\",\"seed\":7}";

static sk_recorder_config make_cfg(const char *path) {
  sk_recorder_config c = {.path = path,
                          .scenario_name = "heat_spike_row_c",
                          .scenario_json = scenario,
                          .skadi_version = "0.1.0-test",
                          .seed = UINT64_C(18446744073709551557),
                          .duration_s = 3600.0,
                          .sample_period_s = 10.0,
                          .n_config = N_CFG,
                          .config_keys = cfg_keys,
                          .config_values = cfg_vals,
                          .n_racks = 5,
                          .rack_ids = rack_ids,
                          .rack_row = rack_rows,
                          .rack_pos = rack_pos};
  return c;
}

static sk_recorder *mkrec(const char *path) {
  sk_recorder_config cfg = make_cfg(path);
  char err[256] = "x";
  sk_recorder *rec = NULL;
  ck_assert_int_eq(sk_recorder_create(&rec, &cfg, err, sizeof err), SK_OK);
  ck_assert_str_eq(err, "");
  ck_assert_ptr_nonnull(rec);
  return rec;
}

/* Adds rack rows [from, to) in batches of `batch`, crah rows alongside. */
static void add_racks(sk_recorder *rec, size_t from, size_t to, size_t batch) {
  sk_rack_sample buf[64];
  ck_assert_uint_le(batch, 64);
  for (size_t i = from; i < to;) {
    size_t n = 0;
    for (; n < batch && i < to; n++, i++)
      rack_at(i, &buf[n], 1);
    ck_assert_int_eq(sk_recorder_add_racks(rec, buf, n), SK_OK);
  }
}

static void add_crahs(sk_recorder *rec, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    sk_crah_sample c;
    crah_at(i, &c, 1);
    ck_assert_int_eq(sk_recorder_add_crahs(rec, &c, 1), SK_OK);
  }
}

static void add_rooms(sk_recorder *rec, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    sk_room_sample r;
    room_at(i, &r, 1);
    ck_assert_int_eq(sk_recorder_add_room(rec, &r), SK_OK);
  }
}

static void add_events(sk_recorder *rec, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    sk_event_record e;
    event_at(i, &e, 1);
    ck_assert_int_eq(sk_recorder_add_event(rec, &e), SK_OK);
  }
}

static void add_commands(sk_recorder *rec, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    sk_command_record c;
    command_at(i, &c, 1);
    ck_assert_int_eq(sk_recorder_add_command(rec, &c), SK_OK);
  }
}

enum { N_RACK = 10000, N_CRAH = 2500, N_ROOM = 1300, N_EVENT = 300, N_COMMAND = 300 };

/* The standard recording: every table crosses several chunk boundaries, with flushes
 * at odd row counts in between; flush_every = 0 never flushes. */
static void record_standard(sk_recorder *rec, size_t rack_batch, size_t flush_every) {
  size_t steps = 10;
  for (size_t s = 0; s < steps; s++) {
    add_racks(rec, N_RACK * s / steps, N_RACK * (s + 1) / steps, rack_batch);
    add_crahs(rec, N_CRAH * s / steps, N_CRAH * (s + 1) / steps);
    add_rooms(rec, N_ROOM * s / steps, N_ROOM * (s + 1) / steps);
    add_events(rec, N_EVENT * s / steps, N_EVENT * (s + 1) / steps);
    add_commands(rec, N_COMMAND * s / steps, N_COMMAND * (s + 1) / steps);
    if (flush_every && s % flush_every == 0)
      ck_assert_int_eq(sk_recorder_flush(rec), SK_OK);
  }
}

static sk_status finish_standard(sk_recorder *rec, double wall_s) {
  const sk_recorder_figure summary[] = {
      {"pue_mean", 1.31, "1"}, {"energy_kwh", 1234.5, "kWh"}, {"inlet_compliance_pct", 99.5, "%"}};
  const sk_recorder_figure run_info[] = {{"wall_s", wall_s, "s"},
                                         {"speedup", 3600.0 / wall_s, "1"}};
  return sk_recorder_finish(rec, summary, 3, run_info, 2, "completed");
}

/* ---- HDF5 read helpers -------------------------------------------------------------- */

static hid_t str_member(size_t len) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, len);
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  return t;
}

#define INS(t, type, m, mt) ck_assert_int_ge(H5Tinsert(t, #m, HOFFSET(type, m), mt), 0)
#define INS_STR(t, type, m)                                                                        \
  do {                                                                                             \
    hid_t st_ = str_member(sizeof(((type *)0)->m));                                                \
    ck_assert_int_ge(H5Tinsert(t, #m, HOFFSET(type, m), st_), 0);                                  \
    H5Tclose(st_);                                                                                 \
  } while (0)

static hid_t rack_mtype(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(sk_rack_sample));
  INS(t, sk_rack_sample, ts, H5T_NATIVE_DOUBLE);
  INS_STR(t, sk_rack_sample, rack_id);
  INS(t, sk_rack_sample, inlet_c, H5T_NATIVE_DOUBLE);
  INS(t, sk_rack_sample, outlet_c, H5T_NATIVE_DOUBLE);
  INS(t, sk_rack_sample, pdu_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_rack_sample, gpu_energy_j, H5T_NATIVE_DOUBLE);
  INS(t, sk_rack_sample, tokens_ps, H5T_NATIVE_DOUBLE);
  INS(t, sk_rack_sample, latency_p95_ms, H5T_NATIVE_DOUBLE);
  INS(t, sk_rack_sample, fan_rpm_pct, H5T_NATIVE_DOUBLE);
  INS(t, sk_rack_sample, pump_rpm_pct, H5T_NATIVE_DOUBLE);
  INS(t, sk_rack_sample, queue_depth, H5T_NATIVE_INT32);
  INS(t, sk_rack_sample, n_servers, H5T_NATIVE_INT32);
  return t;
}

static hid_t crah_mtype(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(sk_crah_sample));
  INS(t, sk_crah_sample, ts, H5T_NATIVE_DOUBLE);
  INS_STR(t, sk_crah_sample, row);
  INS(t, sk_crah_sample, supply_c, H5T_NATIVE_DOUBLE);
  INS(t, sk_crah_sample, setpoint_c, H5T_NATIVE_DOUBLE);
  INS(t, sk_crah_sample, return_c, H5T_NATIVE_DOUBLE);
  INS(t, sk_crah_sample, fan_pct, H5T_NATIVE_DOUBLE);
  INS(t, sk_crah_sample, fan_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_crah_sample, load_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_crah_sample, airflow_m3s, H5T_NATIVE_DOUBLE);
  return t;
}

static hid_t room_mtype(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(sk_room_sample));
  INS(t, sk_room_sample, ts, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, it_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, crah_fan_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, pump_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, chiller_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, tower_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, losses_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, misc_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, facility_kw, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, pue, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, wetbulb_c, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, chw_supply_c, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, chiller_cop, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, prompts_completed, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, prompts_arrived, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, tokens_ps, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, j_per_prompt_wh, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, j_per_prompt_wh_cum, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, latency_p95_ms, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, inlet_compliance_pct, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, max_inlet_c, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, energy_kwh_cum, H5T_NATIVE_DOUBLE);
  INS(t, sk_room_sample, queue_depth, H5T_NATIVE_INT32);
  INS(t, sk_room_sample, active_sequences, H5T_NATIVE_INT32);
  return t;
}

static hid_t event_mtype(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(sk_event_record));
  INS(t, sk_event_record, ts, H5T_NATIVE_DOUBLE);
  INS_STR(t, sk_event_record, name);
  INS_STR(t, sk_event_record, effect);
  INS_STR(t, sk_event_record, phase);
  INS_STR(t, sk_event_record, detail);
  return t;
}

static hid_t command_mtype(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(sk_command_record));
  INS(t, sk_command_record, ts, H5T_NATIVE_DOUBLE);
  INS(t, sk_command_record, seq, H5T_NATIVE_INT64);
  INS_STR(t, sk_command_record, kind);
  INS_STR(t, sk_command_record, key);
  INS_STR(t, sk_command_record, value);
  INS_STR(t, sk_command_record, source);
  return t;
}

typedef struct {
  char rack_id[SK_RACK_ID_LEN];
  int32_t row, pos;
} rack_entry;

static hid_t racks_mtype(void) {
  hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(rack_entry));
  INS_STR(t, rack_entry, rack_id);
  INS(t, rack_entry, row, H5T_NATIVE_INT32);
  INS(t, rack_entry, pos, H5T_NATIVE_INT32);
  return t;
}

static hsize_t n_rows(hid_t file, const char *path) {
  hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  ck_assert_msg(d >= 0, "no dataset %s", path);
  hid_t s = H5Dget_space(d);
  hsize_t n = 0;
  ck_assert_int_eq(H5Sget_simple_extent_ndims(s), 1);
  H5Sget_simple_extent_dims(s, &n, NULL);
  H5Sclose(s);
  H5Dclose(d);
  return n;
}

/* Reads the whole table at path with memory type mtype into a calloc'd array (caller
 * frees); *n gets the row count. */
static void *read_table(hid_t file, const char *path, hid_t mtype, hsize_t *n) {
  *n = n_rows(file, path);
  void *buf = calloc(*n ? *n : 1, H5Tget_size(mtype));
  ck_assert_ptr_nonnull(buf);
  hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  if (*n)
    ck_assert_int_ge(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
  H5Dclose(d);
  return buf;
}

/* Checks rows [0, n) of each table against the generators (memcmp, so NaN bits and the
 * zeroed bytes after each string's NUL count). */
#define CHECK_ROWS(file, path, type, mtypefn, gen, count)                                          \
  do {                                                                                             \
    hid_t mt_ = mtypefn();                                                                         \
    hsize_t n_;                                                                                    \
    type *rows_ = read_table(file, path, mt_, &n_);                                                \
    ck_assert_uint_eq(n_, (count));                                                                \
    for (size_t i_ = 0; i_ < n_; i_++) {                                                           \
      type want_;                                                                                  \
      gen(i_, &want_, 0);                                                                          \
      ck_assert_msg(memcmp(&rows_[i_], &want_, sizeof want_) == 0, "%s row %zu differs", path,     \
                    i_);                                                                           \
    }                                                                                              \
    free(rows_);                                                                                   \
    H5Tclose(mt_);                                                                                 \
  } while (0)

/* Reads a scalar string attribute (variable or fixed length) into out. */
static void str_attr(hid_t obj, const char *name, char *out, size_t len) {
  ck_assert_msg(H5Aexists(obj, name) > 0, "attribute %s missing", name);
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t ft = H5Aget_type(a);
  ck_assert_int_eq(H5Tget_class(ft), H5T_STRING);
  ck_assert_int_gt(H5Tis_variable_str(ft), 0);
  hid_t mt = H5Tget_native_type(ft, H5T_DIR_DEFAULT);
  char *s = NULL;
  ck_assert_int_ge(H5Aread(a, mt, &s), 0);
  snprintf(out, len, "%s", s ? s : "");
  H5free_memory(s);
  H5Tclose(mt);
  H5Tclose(ft);
  H5Aclose(a);
}

static double f64_attr(hid_t obj, const char *name) {
  ck_assert_msg(H5Aexists(obj, name) > 0, "attribute %s missing", name);
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  double v = NAN;
  ck_assert_int_ge(H5Aread(a, H5T_NATIVE_DOUBLE, &v), 0);
  H5Aclose(a);
  return v;
}

/* Every compound member of the dataset has "<member>_units" and a non-empty
 * "<member>_description"; returns the member count. */
static int check_field_attrs(hid_t file, const char *path) {
  hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  hid_t t = H5Dget_type(d);
  int n = H5Tget_nmembers(t);
  char buf[256], name[128];
  str_attr(d, "description", buf, sizeof buf);
  ck_assert_str_ne(buf, "");
  for (int i = 0; i < n; i++) {
    char *m = H5Tget_member_name(t, (unsigned)i);
    snprintf(name, sizeof name, "%s_units", m);
    str_attr(d, name, buf, sizeof buf);
    snprintf(name, sizeof name, "%s_description", m);
    str_attr(d, name, buf, sizeof buf);
    ck_assert_msg(buf[0], "%s: %s_description is empty", path, m);
    H5free_memory(m);
  }
  H5Tclose(t);
  H5Dclose(d);
  return n;
}

static void check_units(hid_t file, const char *path, const char *field, const char *units) {
  hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  char name[128], buf[64];
  snprintf(name, sizeof name, "%s_units", field);
  str_attr(d, name, buf, sizeof buf);
  ck_assert_str_eq(buf, units);
  H5Dclose(d);
}

static int is_deflated(hid_t file, const char *path) {
  hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  hid_t p = H5Dget_create_plist(d);
  int found = 0;
  for (int i = 0; i < H5Pget_nfilters(p); i++) {
    unsigned flags, cd[8];
    size_t ncd = 8;
    char nm[64];
    H5Z_filter_t f = H5Pget_filter2(p, (unsigned)i, &flags, &ncd, cd, sizeof nm, nm, NULL);
    found |= f == H5Z_FILTER_DEFLATE;
  }
  H5Pclose(p);
  H5Dclose(d);
  return found;
}

static hid_t open_ro(const char *path) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  ck_assert_msg(f >= 0, "cannot open %s", path);
  return f;
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* ---- tests -------------------------------------------------------------------------- */

START_TEST(test_round_trip) {
  char path[128], buf[256];
  tmp_path(path, sizeof path, "round_trip.h5");
  sk_recorder *rec = mkrec(path);
  ck_assert_str_eq(sk_recorder_error(rec), "");
  record_standard(rec, 37, 3);
  ck_assert_int_eq(finish_standard(rec, 2.0), SK_OK);
  sk_recorder_close(rec);
  ck_assert_int_eq(file_exists(path), 1);
  snprintf(buf, sizeof buf, "%s.tmp", path);
  ck_assert_int_eq(file_exists(buf), 0);

  hid_t f = open_ro(path);
  CHECK_ROWS(f, "/telemetry/racks", sk_rack_sample, rack_mtype, rack_at, N_RACK);
  CHECK_ROWS(f, "/telemetry/crah", sk_crah_sample, crah_mtype, crah_at, N_CRAH);
  CHECK_ROWS(f, "/telemetry/room", sk_room_sample, room_mtype, room_at, N_ROOM);
  CHECK_ROWS(f, "/events", sk_event_record, event_mtype, event_at, N_EVENT);
  CHECK_ROWS(f, "/commands", sk_command_record, command_mtype, command_at, N_COMMAND);

  /* Typed spot checks, so a failure shows values. */
  {
    hid_t mt = rack_mtype();
    hsize_t n;
    sk_rack_sample *r = read_table(f, "/telemetry/racks", mt, &n);
    ck_assert_double_eq_tol(r[N_RACK - 1].inlet_c, 20.0 + (N_RACK - 1) * 0.001, 1e-12);
    ck_assert_str_eq(r[3].rack_id, "R-D-03");
    ck_assert(isnan(r[13].latency_p95_ms));
    ck_assert_int_eq(r[49].queue_depth, 49);
    free(r);
    H5Tclose(mt);
  }

  /* Root attributes. */
  int32_t version = 0;
  hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_INT32, &version);
  H5Aclose(a);
  ck_assert_int_eq(version, SK_RECORDER_FORMAT_VERSION);
  uint64_t seed = 0;
  a = H5Aopen(f, "seed", H5P_DEFAULT);
  H5Aread(a, H5T_NATIVE_UINT64, &seed);
  H5Aclose(a);
  ck_assert_uint_eq(seed, UINT64_C(18446744073709551557));
  ck_assert_double_eq(f64_attr(f, "duration_s"), 3600.0);
  ck_assert_double_eq(f64_attr(f, "sample_period_s"), 10.0);
  str_attr(f, "scenario_name", buf, sizeof buf);
  ck_assert_str_eq(buf, "heat_spike_row_c");
  str_attr(f, "skadi_version", buf, sizeof buf);
  ck_assert_str_eq(buf, "0.1.0-test");
  str_attr(f, "scenario_json", buf, sizeof buf);
  ck_assert_str_eq(buf, scenario);

  /* /config, one string attribute per key. */
  hid_t g = H5Gopen2(f, "/config", H5P_DEFAULT);
  for (int i = 0; i < N_CFG; i++) {
    str_attr(g, cfg_keys[i], buf, sizeof buf);
    ck_assert_str_eq(buf, cfg_vals[i]);
  }
  H5Gclose(g);

  /* /racks. */
  {
    hid_t mt = racks_mtype();
    hsize_t n;
    rack_entry *r = read_table(f, "/racks", mt, &n);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++) {
      ck_assert_str_eq(r[i].rack_id, rack_ids[i]);
      ck_assert_int_eq(r[i].row, rack_rows[i]);
      ck_assert_int_eq(r[i].pos, rack_pos[i]);
    }
    free(r);
    H5Tclose(mt);
  }

  /* Units and descriptions on every field of every table. */
  ck_assert_int_eq(check_field_attrs(f, "/telemetry/racks"), 12);
  ck_assert_int_eq(check_field_attrs(f, "/telemetry/crah"), 10);
  ck_assert_int_eq(check_field_attrs(f, "/telemetry/room"), 24);
  ck_assert_int_eq(check_field_attrs(f, "/events"), 5);
  ck_assert_int_eq(check_field_attrs(f, "/commands"), 6);
  ck_assert_int_eq(check_field_attrs(f, "/racks"), 3);
  check_units(f, "/telemetry/racks", "ts", "s");
  check_units(f, "/telemetry/racks", "inlet_c", "degC");
  check_units(f, "/telemetry/racks", "pdu_kw", "kW");
  check_units(f, "/telemetry/racks", "gpu_energy_j", "J");
  check_units(f, "/telemetry/racks", "latency_p95_ms", "ms");
  check_units(f, "/telemetry/crah", "airflow_m3s", "m3/s");
  check_units(f, "/telemetry/room", "energy_kwh_cum", "kWh");
  check_units(f, "/telemetry/room", "pue", "1");

  /* No object timestamps anywhere (they would break run-to-run equality). */
  static const char *const objs[] = {"/",
                                     "/config",
                                     "/racks",
                                     "/telemetry",
                                     "/telemetry/racks",
                                     "/telemetry/crah",
                                     "/telemetry/room",
                                     "/events",
                                     "/commands",
                                     "/summary",
                                     "/run_info"};
  for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++) {
    oinfo_t info;
    ck_assert_int_ge(oinfo_by_name(f, objs[i], &info, H5O_INFO_TIME, H5P_DEFAULT), 0);
    ck_assert_msg(info.atime == 0 && info.mtime == 0 && info.ctime == 0 && info.btime == 0,
                  "%s has timestamps", objs[i]);
  }

  /* Compressed after finish. */
  ck_assert(is_deflated(f, "/telemetry/racks"));
  ck_assert(is_deflated(f, "/telemetry/crah"));
  ck_assert(is_deflated(f, "/telemetry/room"));
  ck_assert(is_deflated(f, "/events"));
  ck_assert(is_deflated(f, "/commands"));

  /* /summary and /run_info. */
  g = H5Gopen2(f, "/summary", H5P_DEFAULT);
  ck_assert_double_eq(f64_attr(g, "pue_mean"), 1.31);
  ck_assert_double_eq(f64_attr(g, "energy_kwh"), 1234.5);
  str_attr(g, "energy_kwh_units", buf, sizeof buf);
  ck_assert_str_eq(buf, "kWh");
  str_attr(g, "inlet_compliance_pct_units", buf, sizeof buf);
  ck_assert_str_eq(buf, "%");
  H5Gclose(g);
  g = H5Gopen2(f, "/run_info", H5P_DEFAULT);
  ck_assert_double_eq(f64_attr(g, "wall_s"), 2.0);
  str_attr(g, "wall_s_units", buf, sizeof buf);
  ck_assert_str_eq(buf, "s");
  str_attr(g, "status", buf, sizeof buf);
  ck_assert_str_eq(buf, "completed");
  str_attr(g, "created_utc", buf, sizeof buf);
  ck_assert_uint_eq(strlen(buf), 20); /* 2025-01-01T00:00:00Z */
  str_attr(g, "finished_utc", buf, sizeof buf);
  ck_assert_uint_eq(strlen(buf), 20);
  str_attr(g, "hostname", buf, sizeof buf);
  str_attr(g, "hdf5_version", buf, sizeof buf);
  H5Gclose(g);
  H5Fclose(f);
}
END_TEST

/* Close without finish: rows written, file readable by a plain reader, not compressed,
 * /summary empty. */
START_TEST(test_close_without_finish) {
  char path[128];
  tmp_path(path, sizeof path, "no_finish.h5");
  sk_recorder *rec = mkrec(path);
  record_standard(rec, 64, 0);
  sk_recorder_close(rec);
  sk_recorder_close(NULL);

  hid_t f = open_ro(path);
  CHECK_ROWS(f, "/telemetry/racks", sk_rack_sample, rack_mtype, rack_at, N_RACK);
  CHECK_ROWS(f, "/events", sk_event_record, event_mtype, event_at, N_EVENT);
  ck_assert(!is_deflated(f, "/telemetry/racks"));
  hid_t g = H5Gopen2(f, "/summary", H5P_DEFAULT);
  oinfo_t info;
  oinfo(g, &info, H5O_INFO_NUM_ATTRS);
  ck_assert_int_eq((int)info.num_attrs, 0);
  H5Gclose(g);
  g = H5Gopen2(f, "/run_info", H5P_DEFAULT);
  ck_assert_int_eq(H5Aexists(g, "status"), 0);
  ck_assert_int_eq(H5Aexists(g, "created_utc"), 1);
  H5Gclose(g);
  H5Fclose(f);
}
END_TEST

/* A run with no rows and no racks still gives a complete file. */
START_TEST(test_empty_run) {
  char path[128], err[256];
  tmp_path(path, sizeof path, "empty.h5");
  sk_recorder_config cfg = {.path = path};
  sk_recorder *rec = NULL;
  ck_assert_int_eq(sk_recorder_create(&rec, &cfg, err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_recorder_flush(rec), SK_OK);
  ck_assert_int_eq(sk_recorder_finish(rec, NULL, 0, NULL, 0, NULL), SK_OK);
  sk_recorder_close(rec);
  hid_t f = open_ro(path);
  ck_assert_uint_eq(n_rows(f, "/racks"), 0);
  ck_assert_uint_eq(n_rows(f, "/telemetry/racks"), 0);
  ck_assert_uint_eq(n_rows(f, "/telemetry/room"), 0);
  ck_assert_uint_eq(n_rows(f, "/events"), 0);
  ck_assert_uint_eq(n_rows(f, "/actions"), 0);
  ck_assert_uint_eq(n_rows(f, "/commands"), 0); /* created always, like /actions */
  char buf[64];
  str_attr(f, "scenario_json", buf, sizeof buf);
  ck_assert_str_eq(buf, "");
  H5Fclose(f);
}
END_TEST

static void expect_create_fails(const char *path, sk_status want, const char *reason) {
  sk_recorder_config cfg = make_cfg(path);
  char err[512] = "";
  static char sentinel;
  sk_recorder *rec = (sk_recorder *)(void *)&sentinel; /* must be reset to NULL */
  ck_assert_int_eq(sk_recorder_create(&rec, &cfg, err, sizeof err), want);
  ck_assert_ptr_null(rec);
  ck_assert_msg(strstr(err, path) != NULL, "message '%s' does not name %s", err, path);
  ck_assert_msg(strstr(err, reason) != NULL, "message '%s' does not say '%s'", err, reason);
}

START_TEST(test_bad_path) {
  char path[160];
  tmp_path(path, sizeof path, "no/such/dir/run.h5");
  expect_create_fails(path, SK_EIO, "No such file or directory");
  ck_assert_int_eq(file_exists(path), 0);

  tmp_path(path, sizeof path, "a_file");
  FILE *fp = fopen(path, "w");
  ck_assert_ptr_nonnull(fp);
  fclose(fp);
  tmp_path(path, sizeof path, "a_file/run.h5");
  expect_create_fails(path, SK_EIO, "Not a directory");

  expect_create_fails(tmpdir, SK_EIO, "Is a directory");

  /* Permissions do not bind root; only check them when not root. */
  if (geteuid() != 0) {
    tmp_path(path, sizeof path, "ro");
    ck_assert_int_eq(mkdir(path, 0555), 0);
    tmp_path(path, sizeof path, "ro/run.h5");
    expect_create_fails(path, SK_EIO, "Permission denied");
  }

  /* Without an err buffer it still fails cleanly. */
  tmp_path(path, sizeof path, "no/such/dir/run.h5");
  sk_recorder_config cfg = make_cfg(path);
  sk_recorder *rec = NULL;
  ck_assert_int_eq(sk_recorder_create(&rec, &cfg, NULL, 0), SK_EIO);
  ck_assert_ptr_null(rec);
}
END_TEST

START_TEST(test_bad_config) {
  char path[128], err[512];
  tmp_path(path, sizeof path, "bad_cfg.h5");
  sk_recorder *rec = NULL;

  sk_recorder_config cfg = make_cfg(path);
  const char *long_ids[] = {"R-A-00", "R-A-0000001", "R-B-00", "R-B-01", "R-C-07"};
  cfg.rack_ids = long_ids;
  ck_assert_int_eq(sk_recorder_create(&rec, &cfg, err, sizeof err), SK_EINVAL);
  ck_assert_ptr_null(rec);
  ck_assert_ptr_nonnull(strstr(err, "R-A-0000001"));
  ck_assert_ptr_nonnull(strstr(err, path));
  ck_assert_int_eq(file_exists(path), 0);

  cfg = make_cfg(path);
  const char *dup_keys[] = {"A", "B", "A"};
  cfg.config_keys = dup_keys;
  cfg.n_config = 3;
  ck_assert_int_eq(sk_recorder_create(&rec, &cfg, err, sizeof err), SK_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "'A'"));
  ck_assert_int_eq(file_exists(path), 0);

  /* An id of exactly SK_RACK_ID_LEN bytes fits (stored without NUL). */
  cfg = make_cfg(path);
  const char *full_ids[] = {"R-A-0001", "R-A-01", "R-B-00", "R-B-01", "R-C-07"};
  cfg.rack_ids = full_ids;
  ck_assert_int_eq(sk_recorder_create(&rec, &cfg, err, sizeof err), SK_OK);
  sk_recorder_close(rec);
  hid_t f = open_ro(path);
  hid_t mt = racks_mtype();
  hsize_t n;
  rack_entry *r = read_table(f, "/racks", mt, &n);
  ck_assert_int_eq(memcmp(r[0].rack_id, "R-A-0001", SK_RACK_ID_LEN), 0);
  free(r);
  H5Tclose(mt);
  H5Fclose(f);
}
END_TEST

START_TEST(test_bad_figures) {
  char path[128];
  tmp_path(path, sizeof path, "bad_fig.h5");
  sk_recorder *rec = mkrec(path);
  add_racks(rec, 0, 100, 10);
  const sk_recorder_figure dup[] = {{"x", 1, "1"}, {"x", 2, "1"}};
  const sk_recorder_figure clash[] = {{"x", 1, "1"}, {"x_units", 2, "1"}};
  const sk_recorder_figure reserved[] = {{"status", 1, "1"}};
  ck_assert_int_eq(sk_recorder_finish(rec, dup, 2, NULL, 0, "ok"), SK_EINVAL);
  ck_assert_ptr_nonnull(strstr(sk_recorder_error(rec), "'x'"));
  ck_assert_int_eq(sk_recorder_finish(rec, clash, 2, NULL, 0, "ok"), SK_EINVAL);
  ck_assert_int_eq(sk_recorder_finish(rec, NULL, 0, reserved, 1, "ok"), SK_EINVAL);
  /* Still open: more rows, then a good finish. */
  add_racks(rec, 100, 200, 10);
  ck_assert_int_eq(finish_standard(rec, 1.0), SK_OK);
  sk_recorder_close(rec);
  hid_t f = open_ro(path);
  CHECK_ROWS(f, "/telemetry/racks", sk_rack_sample, rack_mtype, rack_at, 200);
  H5Fclose(f);
}
END_TEST

/* The compressed copy cannot be made (a directory sits at <path>.tmp): finish says so,
 * and the run file is still complete, uncompressed, with its figures. */
START_TEST(test_finish_fallback) {
  char path[128], tmp[160];
  tmp_path(path, sizeof path, "fallback.h5");
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  sk_recorder *rec = mkrec(path);
  record_standard(rec, 50, 2);
  ck_assert_int_eq(mkdir(tmp, 0755), 0);
  ck_assert_int_eq(finish_standard(rec, 1.0), SK_EIO);
  const char *msg = sk_recorder_error(rec);
  ck_assert_msg(strstr(msg, tmp) && strstr(msg, "complete but uncompressed"), "message: %s", msg);
  ck_assert_int_eq(sk_recorder_flush(rec), SK_EIO); /* sticky */
  sk_recorder_close(rec);
  ck_assert_int_eq(rmdir(tmp), 0);

  hid_t f = open_ro(path);
  CHECK_ROWS(f, "/telemetry/racks", sk_rack_sample, rack_mtype, rack_at, N_RACK);
  CHECK_ROWS(f, "/telemetry/room", sk_room_sample, room_mtype, room_at, N_ROOM);
  ck_assert(!is_deflated(f, "/telemetry/racks"));
  hid_t g = H5Gopen2(f, "/summary", H5P_DEFAULT);
  ck_assert_double_eq(f64_attr(g, "energy_kwh"), 1234.5);
  H5Gclose(g);
  g = H5Gopen2(f, "/run_info", H5P_DEFAULT);
  char buf[64];
  str_attr(g, "status", buf, sizeof buf);
  ck_assert_str_eq(buf, "completed");
  H5Gclose(g);
  H5Fclose(f);
}
END_TEST

/* The child records, flushes, adds more rows and SIGKILLs itself; returns its pid
 * status.  extra rows go in after the flush (with 9000 some reach the file unflushed). */
static int kill_child(const char *path, size_t flushed, size_t extra) {
  fflush(NULL);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    sk_recorder_config cfg = make_cfg(path);
    char err[256];
    sk_recorder *rec = NULL;
    if (sk_recorder_create(&rec, &cfg, err, sizeof err) != SK_OK)
      _exit(2);
    sk_rack_sample r;
    for (size_t i = 0; i < flushed; i++) {
      rack_at(i, &r, 1);
      if (sk_recorder_add_racks(rec, &r, 1) != SK_OK)
        _exit(3);
    }
    for (size_t i = 0; i < flushed / 4; i++) {
      sk_crah_sample c;
      crah_at(i, &c, 1);
      sk_room_sample m;
      room_at(i, &m, 1);
      if (sk_recorder_add_crahs(rec, &c, 1) != SK_OK || sk_recorder_add_room(rec, &m) != SK_OK)
        _exit(3);
    }
    sk_event_record e;
    event_at(0, &e, 1);
    if (sk_recorder_add_event(rec, &e) != SK_OK || sk_recorder_flush(rec) != SK_OK)
      _exit(4);
    for (size_t i = flushed; i < flushed + extra; i++) {
      rack_at(i, &r, 1);
      if (sk_recorder_add_racks(rec, &r, 1) != SK_OK)
        _exit(3);
    }
    raise(SIGKILL);
    _exit(5);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  return status;
}

/* Opens the killed run's file as a SWMR reader and checks the rows: at least `flushed`
 * racks (at most the total added), every one of them right. */
static void check_killed(const char *path, size_t flushed, size_t extra, int exact) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
  ck_assert_msg(f >= 0, "SWMR reader cannot open %s", path);
  hid_t mt = rack_mtype();
  hsize_t n;
  sk_rack_sample *rows = read_table(f, "/telemetry/racks", mt, &n);
  if (exact)
    ck_assert_uint_eq(n, flushed);
  ck_assert_uint_ge(n, flushed);
  ck_assert_uint_le(n, flushed + extra);
  for (size_t i = 0; i < n; i++) {
    sk_rack_sample want;
    rack_at(i, &want, 0);
    ck_assert_msg(memcmp(&rows[i], &want, sizeof want) == 0, "rack row %zu differs", i);
  }
  free(rows);
  H5Tclose(mt);
  CHECK_ROWS(f, "/telemetry/crah", sk_crah_sample, crah_mtype, crah_at, flushed / 4);
  CHECK_ROWS(f, "/telemetry/room", sk_room_sample, room_mtype, room_at, flushed / 4);
  CHECK_ROWS(f, "/events", sk_event_record, event_mtype, event_at, 1);
  ck_assert_uint_eq(n_rows(f, "/racks"), 5);
  char buf[128];
  str_attr(f, "scenario_name", buf, sizeof buf);
  ck_assert_str_eq(buf, "heat_spike_row_c");
  hid_t g = H5Gopen2(f, "/run_info", H5P_DEFAULT);
  ck_assert_int_eq(H5Aexists(g, "status"), 0); /* the run did not finish */
  H5Gclose(g);
  H5Fclose(f);
}

START_TEST(test_sigkill_buffered_tail) {
  char path[128];
  tmp_path(path, sizeof path, "killed_tail.h5");
  /* 1000 flushed (a partial chunk), 100 more still in the buffer: exactly 1000. */
  int status = kill_child(path, 1000, 100);
  ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
  check_killed(path, 1000, 100, 1);
}
END_TEST

START_TEST(test_sigkill_unflushed_chunks) {
  char path[128];
  tmp_path(path, sizeof path, "killed_chunks.h5");
  /* 5000 flushed, then 9000 more of which whole chunks were written but not flushed. */
  int status = kill_child(path, 5000, 9000);
  ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
  check_killed(path, 5000, 9000, 0);
}
END_TEST

/* A full disk mid-run (a file-size limit stands in for it: a write fails with EFBIG as
 * it would with ENOSPC, and so does extending the file, which a full disk allows;
 * tests/faults covers a real full disk): the add or flush fails with a one-line message
 * naming the file, and the file opens and holds only rows that reached it -- no all-zero
 * rows counted in an extent for chunks that never did (HDF5 kept them in its chunk
 * cache, or the failed write had extended the dataset first), no superblock claiming
 * more than the file holds. */
START_TEST(test_full_disk_no_phantom_rows) {
  char path[128];
  tmp_path(path, sizeof path, "full.h5");
  sk_recorder *rec = mkrec(path);
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit old, lim;
  ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
  lim = old;
  lim.rlim_cur = 700 * 1024; /* the first rack chunk (~360 KB) fits, the second does not */
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
  sk_status st = SK_OK;
  size_t added = 0;
  sk_rack_sample buf[64];
  while (st == SK_OK && added < 100000) {
    for (size_t k = 0; k < 64; k++)
      rack_at(added + k, &buf[k], 1);
    st = sk_recorder_add_racks(rec, buf, 64);
    added += 64;
    if (st == SK_OK && added % 640 == 0)
      st = sk_recorder_flush(rec);
  }
  ck_assert_int_eq(st, SK_EIO);
  const char *msg = sk_recorder_error(rec);
  ck_assert_msg(strstr(msg, path) && strstr(msg, strerror(EFBIG)) && !strchr(msg, '\n'),
                "message: %s", msg);
  ck_assert_int_eq(sk_recorder_flush(rec), SK_EIO); /* sticky */
  sk_recorder_close(rec);
  ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);

  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0)
    f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
  ck_assert_msg(f >= 0, "cannot open %s after the failed write", path);
  hid_t mt = rack_mtype();
  hsize_t n;
  sk_rack_sample *rows = read_table(f, "/telemetry/racks", mt, &n);
  ck_assert_uint_gt(n, 0);
  ck_assert_uint_lt(n, added);
  for (size_t i = 0; i < n; i++) {
    sk_rack_sample want;
    rack_at(i, &want, 0);
    ck_assert_msg(memcmp(&rows[i], &want, sizeof want) == 0, "rack row %zu of %llu differs (ts %g)",
                  i, (unsigned long long)n, rows[i].ts);
  }
  free(rows);
  H5Tclose(mt);
  H5Fclose(f);
}
END_TEST

/* ---- determinism -------------------------------------------------------------------- */

/* Raw bytes of a dataset in its file type, so every stored bit is compared. */
static void *raw_table(hid_t file, const char *path, size_t *bytes) {
  hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
  hid_t t = H5Dget_type(d);
  hsize_t n = n_rows(file, path);
  *bytes = (size_t)n * H5Tget_size(t);
  void *buf = calloc(*bytes ? *bytes : 1, 1);
  if (n)
    ck_assert_int_ge(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
  H5Tclose(t);
  H5Dclose(d);
  return buf;
}

/* Appends "name=value;" for each attribute of an object, in creation order. */
static herr_t dump_attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
  (void)info;
  char *out = data;
  size_t len = strlen(out);
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  hid_t t = H5Aget_type(a);
  char val[512] = "";
  if (H5Tget_class(t) == H5T_STRING) {
    char *s = NULL;
    hid_t mt = H5Tget_native_type(t, H5T_DIR_DEFAULT);
    H5Aread(a, mt, &s);
    snprintf(val, sizeof val, "%.500s", s ? s : "");
    H5free_memory(s);
    H5Tclose(mt);
  } else {
    /* Numbers are printed from their stored bytes, so -0.0 and NaN payloads count. */
    unsigned char raw[8] = {0};
    ck_assert_uint_le(H5Tget_size(t), sizeof raw);
    H5Aread(a, t, raw);
    for (int i = 0; i < 8; i++)
      snprintf(val + 2 * i, 3, "%02x", raw[i]);
  }
  snprintf(out + len, 16384 - len, "%s=%s;", name, val);
  H5Tclose(t);
  H5Aclose(a);
  return 0;
}

static void dump_attrs(hid_t file, const char *obj, char *out) {
  out[0] = '\0';
  hid_t o = H5Oopen(file, obj, H5P_DEFAULT);
  ck_assert_msg(o >= 0, "no object %s", obj);
  ck_assert_int_ge(H5Aiterate2(o, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, dump_attr_cb, out), 0);
  H5Oclose(o);
}

START_TEST(test_determinism) {
  char a[128], b[128];
  tmp_path(a, sizeof a, "det_a.h5");
  tmp_path(b, sizeof b, "det_b.h5");
  /* Same rows; different batches, flush cadences and wall-clock figures. */
  sk_recorder *ra = mkrec(a);
  record_standard(ra, 64, 1);
  ck_assert_int_eq(finish_standard(ra, 2.0), SK_OK);
  sk_recorder_close(ra);
  sk_recorder *rb = mkrec(b);
  record_standard(rb, 1, 0);
  ck_assert_int_eq(finish_standard(rb, 3.5), SK_OK);
  sk_recorder_close(rb);

  hid_t fa = open_ro(a), fb = open_ro(b);
  static const char *const tables[] = {"/racks", "/telemetry/racks", "/telemetry/crah",
                                       "/telemetry/room", "/events"};
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    size_t na, nb;
    void *da = raw_table(fa, tables[i], &na), *db = raw_table(fb, tables[i], &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(da, db, na) == 0, "%s differs", tables[i]);
    free(da);
    free(db);
  }
  static const char *const objs[] = {"/",
                                     "/config",
                                     "/racks",
                                     "/telemetry",
                                     "/telemetry/racks",
                                     "/telemetry/crah",
                                     "/telemetry/room",
                                     "/events",
                                     "/summary"};
  static char da[16384], db[16384];
  for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++) {
    dump_attrs(fa, objs[i], da);
    dump_attrs(fb, objs[i], db);
    ck_assert_msg(strcmp(da, db) == 0, "attributes of %s differ:\n%s\n%s", objs[i], da, db);
  }
  /* /run_info is where they may differ, and here do. */
  dump_attrs(fa, "/run_info", da);
  dump_attrs(fb, "/run_info", db);
  ck_assert_str_ne(da, db);
  H5Fclose(fa);
  H5Fclose(fb);

  /* The same check as users run it, when the tool is installed. */
  if (system("command -v h5diff >/dev/null 2>&1") == 0) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "h5diff -q --exclude-path /run_info '%s' '%s'", a, b);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "h5diff -q '%s' '%s' /run_info /run_info", a, b);
    ck_assert_int_ne(system(cmd), 0);
  }
}
END_TEST

/* ---- runner ------------------------------------------------------------------------- */

static Suite *recorder_suite(void) {
  Suite *s = suite_create("recorder");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_round_trip);
  tcase_add_test(tc, test_close_without_finish);
  tcase_add_test(tc, test_empty_run);
  tcase_add_test(tc, test_bad_path);
  tcase_add_test(tc, test_bad_config);
  tcase_add_test(tc, test_bad_figures);
  tcase_add_test(tc, test_finish_fallback);
  tcase_add_test(tc, test_sigkill_buffered_tail);
  tcase_add_test(tc, test_sigkill_unflushed_chunks);
  tcase_add_test(tc, test_full_disk_no_phantom_rows);
  tcase_add_test(tc, test_determinism);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  return s;
}

/* Removes tmpdir and what the tests left in it (one level of subdirectories). */
static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  char p[512];
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
      remove_tree(p);
    else
      unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/skadi-test-recorder-XXXXXX");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  init_cfg();
  SRunner *sr = srunner_create(recorder_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  remove_tree(tmpdir);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
