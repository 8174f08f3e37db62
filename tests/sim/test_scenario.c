/*
 * test_scenario.c -- the settings table and scenario loader (sim/src/scenario.c).
 *
 * Documented defaults, the shipped scenarios, --set with dotted and seed names, the
 * precedence environment < .env < scenario < --set, the effective scenario as JSON read
 * back to the same values, the key table against docs/SCENARIOS.md, rack ids, the keys
 * that set a lever against the lever table (levers.h), and a
 * catalogue of bad inputs: each must fail with a message that names the file (or flag, or
 * variable) and the field, and leave the scenario untouched.  Bad files are written into
 * a fresh temporary directory per test.
 */
#define _POSIX_C_SOURCE 200809L

#include <cJSON.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skadi/levers.h" /* the lever table */
#include "skadi/scenario.h"
#include "testutil.h"

#define SRC(rel) SKADI_SOURCE_DIR "/" rel

/* ---- temporary files --------------------------------------------------------------- */

static void setup(void) {
  tu_scratch_setup("skadi_test_scenario_");
}

/* Writes `text` to name in the scratch directory and returns the path. */
static const char *write_tmp(const char *name, const char *text) {
  char *path = tu_tmp(name);
  tu_write_file(path, text);
  return path;
}

/* ---- defaults ---------------------------------------------------------------------- */

START_TEST(test_defaults) {
  sk_scenario sc;
  char err[SK_ERR_LEN] = "";
  sk_scenario_defaults(&sc);
  ck_assert_str_eq(sc.name, "unnamed");
  ck_assert_str_eq(sc.description, "");
  ck_assert_uint_eq(sc.seed, 1);
  ck_assert_double_eq(sc.duration_s, 86400);
  ck_assert_double_eq(sc.sample_period_s, 10);
  ck_assert_double_eq(sc.thermal_step_s, 1);
  ck_assert_double_eq(sc.start_hour, 0);
  ck_assert_int_eq(sc.n_rows, 6);
  ck_assert_int_eq(sc.racks_per_row, 12);
  ck_assert_int_eq(sc.servers_per_rack, 1);
  ck_assert_str_eq(sc.trace_csv, "");
  ck_assert_int_eq(sc.server.gpus, 8);
  ck_assert_double_eq(sc.server.gpu_idle_w, 120);
  ck_assert_double_eq(sc.server.gpu_prefill_w, 650);
  ck_assert_double_eq(sc.server.gpu_decode_w_per_seq, 1.5625);
  ck_assert_double_eq(sc.server.gpu_power_cap_w, 700);
  ck_assert_double_eq(sc.server.cap_latency_exp, 0.176);
  ck_assert_double_eq(sc.server.host_busy_w, 1900);
  ck_assert_double_eq(sc.server.fan_steep_pct_per_k, 1.5);
  ck_assert_double_eq(sc.server.psu_eff, 0.94);
  ck_assert_double_eq(sc.server.airflow_m3s, 0.38);
  ck_assert_double_eq(sc.server.heat_capacity_j_per_k, 80000);
  ck_assert_double_eq(sc.server.gpu_throttle_c, 87);
  ck_assert_int_eq(sc.server.max_batch, 64);
  ck_assert_int_eq(sc.server.max_prefill_tokens, 8192);
  ck_assert(sc.perf.prefill_floor_ms > 0 && sc.perf.step_a_ms > 0 && sc.perf.step_b_ms_per_seq > 0);
  ck_assert_double_eq(sc.workload.rate_prompts_s, 216);
  ck_assert_double_eq(sc.workload.rate_scale, 1);
  ck_assert_double_eq(sc.workload.diurnal_amplitude, 0.1);
  ck_assert_double_eq(sc.workload.peak_hour, 14);
  ck_assert_double_eq(sc.workload.output_tokens_sd, 150);
  ck_assert_int_eq(sc.workload.max_tokens, 8192);
  ck_assert_double_eq(sc.room.rho_cp_j_per_m3k, 1206);
  ck_assert_double_eq(sc.room.recirc_end, 0.15);
  ck_assert_double_eq(sc.room.crah_fan_speed_pct, 75);
  ck_assert_double_eq(sc.room.coil_approach_k, 5.6);
  ck_assert_double_eq(sc.plant.chw_supply_c, 7);
  ck_assert_int_eq(sc.plant.n_chillers, 2);
  ck_assert_double_eq(sc.plant.chiller_cop_ref, 5.5);
  ck_assert_double_eq(sc.plant.pump_rated_kw, 16);
  ck_assert_double_eq(sc.plant.ups_eff, 0.95);
  ck_assert_double_eq(sc.plant.pdu_loss_frac, 0.015);
  ck_assert_double_eq(sc.plant.wetbulb_peak_hour, 15);
  ck_assert_double_eq(sc.settings.sla_latency_ms, 250);
  ck_assert_double_eq(sc.settings.inlet_max_c, 28.0);
  ck_assert_double_eq(sc.settings.rack_kw_cap, 12.0);
  ck_assert_double_eq(sc.settings.ims_tau_fast_percentile, 95);
  ck_assert_double_eq(sc.settings.ims_tau_persist_percentile, 98);
  ck_assert_double_eq(sc.settings.mms_ema_alpha, 0.3);
  ck_assert_int_eq(sc.settings.mms_persist_ticks, 6);
  ck_assert_double_eq(sc.settings.fast_loop_interval_s, 10);
  ck_assert_double_eq(sc.settings.slow_loop_interval_s, 120);
  ck_assert_double_eq(sc.settings.write_rate_limit_s, 120);
  ck_assert_int_eq(sc.settings.default_mode_closed_loop, 0);
  ck_assert_int_eq(sc.settings.global_kill_switch, 0);
  ck_assert_int_eq(sc.n_effects, 0);
  ck_assert_str_eq(sc.source, "");
  ck_assert_int_eq(sk_scenario_validate(&sc, err, sizeof err), SK_OK);
}
END_TEST

/* ---- shipped scenarios ------------------------------------------------------------- */

static void load_ok(sk_scenario *sc, const char *path) {
  char err[SK_ERR_LEN] = "";
  sk_scenario_defaults(sc);
  sk_status st = sk_scenario_load(sc, path, err, sizeof err);
  ck_assert_msg(st == SK_OK, "load %s: %s", path, err);
  st = sk_scenario_validate(sc, err, sizeof err);
  ck_assert_msg(st == SK_OK, "validate %s: %s", path, err);
  ck_assert_str_eq(sc->source, path);
}

START_TEST(test_baseline) {
  sk_scenario sc;
  load_ok(&sc, SRC("scenarios/baseline.json"));
  ck_assert_str_eq(sc.name, "baseline");
  ck_assert_uint_eq(sc.seed, 1);
  ck_assert_double_eq(sc.duration_s, 86400);
  ck_assert_int_eq(sc.n_effects, 0);
  ck_assert(strlen(sc.description) > 20);
}
END_TEST

START_TEST(test_heat_spike) {
  sk_scenario sc;
  load_ok(&sc, SRC("scenarios/heat_spike_row_c.json"));
  ck_assert_str_eq(sc.name, "heat_spike_row_c");
  ck_assert_double_eq(sc.duration_s, 14400);
  ck_assert_double_eq(sc.start_hour, 10);
  ck_assert_int_eq(sc.n_effects, 1);
  const sk_effect *e = &sc.effects[0];
  ck_assert_str_eq(e->name, "add_ai_nodes_row_c");
  ck_assert_int_eq(e->kind, SK_EFFECT_ADD_AI_NODES);
  ck_assert_double_eq(e->start_s, 3600);
  ck_assert_double_eq(e->stop_s, 10800);
  ck_assert_int_eq(e->n_racks, 2);
  ck_assert_int_eq(e->rack_index[0], 2 * 12 + 5);
  ck_assert_int_eq(e->rack_index[1], 2 * 12 + 6);
  ck_assert_str_eq(e->rack_id[1], "R-C-07");
  ck_assert_int_eq(e->nodes_per_rack, 1);
  ck_assert_double_eq(e->rate_prompts_s_per_node, 3.0);
}
END_TEST

START_TEST(test_overcooled) {
  sk_scenario sc;
  load_ok(&sc, SRC("scenarios/overcooled_row_e.json"));
  ck_assert_str_eq(sc.name, "overcooled_row_e");
  ck_assert_double_eq(sc.duration_s, 14400);
  ck_assert_int_eq(sc.n_effects, 1);
  const sk_effect *e = &sc.effects[0];
  ck_assert_str_eq(e->name, "overcooled_row_e");
  ck_assert_int_eq(e->kind, SK_EFFECT_CRAH_OVERRIDE);
  ck_assert_double_eq(e->start_s, 3600);
  ck_assert(isinf(e->stop_s) && e->stop_s > 0);
  ck_assert_int_eq(e->row, 4);
  ck_assert_double_eq(e->fan_speed_pct, 95);
  ck_assert_double_eq(e->supply_setpoint_c, 16.0);
}
END_TEST

/* The shipped trace scenario replays scenarios/traces/, resolved against the file. */
START_TEST(test_trace_replay) {
  const char *path = SRC("scenarios/trace_replay_conv.json");
  const char *trace = SRC("scenarios/traces/AzureLLMInferenceTrace_conv.csv");
  sk_scenario sc;
  load_ok(&sc, path);
  ck_assert_str_eq(sc.name, "trace_replay_conv");
  ck_assert_str_eq(sc.trace_csv, trace); /* resolved against the file's directory */
  ck_assert_double_eq(sc.workload.rate_scale, 39);
  ck_assert_double_eq(sc.duration_s, 3600);
}
END_TEST

/* A relative trace path is taken relative to the scenario file, not the working dir. */
START_TEST(test_trace_relative) {
  write_tmp("t.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0,1,1\n");
  const char *path = write_tmp("s.json", "{\"workload\": {\"trace_csv\": \"t.csv\"}}");
  sk_scenario sc;
  load_ok(&sc, path);
  char want[SK_PATH_LEN];
  snprintf(want, sizeof want, "%s/t.csv", tu_dir);
  ck_assert_str_eq(sc.trace_csv, want);
}
END_TEST

/* ---- --set, environment, .env, precedence ------------------------------------------ */

START_TEST(test_set) {
  sk_scenario sc;
  char err[SK_ERR_LEN] = "";
  sk_scenario_defaults(&sc);
  ck_assert_int_eq(sk_scenario_set(&sc, "workload.rate_scale=1.2", err, sizeof err), SK_OK);
  ck_assert_double_eq(sc.workload.rate_scale, 1.2);
  ck_assert_int_eq(sk_scenario_set(&sc, "INLET_MAX_C=27", err, sizeof err), SK_OK);
  ck_assert_double_eq(sc.settings.inlet_max_c, 27);
  ck_assert_int_eq(sk_scenario_set(&sc, "settings.inlet_max_c=26.5", err, sizeof err), SK_OK);
  ck_assert_double_eq(sc.settings.inlet_max_c, 26.5);
  ck_assert_int_eq(sk_scenario_set(&sc, "DEFAULT_MODE=closed_loop", err, sizeof err), SK_OK);
  ck_assert_int_eq(sc.settings.default_mode_closed_loop, 1);
  ck_assert_int_eq(sk_scenario_set(&sc, "GLOBAL_KILL_SWITCH=true", err, sizeof err), SK_OK);
  ck_assert_int_eq(sc.settings.global_kill_switch, 1);
  ck_assert_int_eq(sk_scenario_set(&sc, "GLOBAL_KILL_SWITCH=0", err, sizeof err), SK_OK);
  ck_assert_int_eq(sc.settings.global_kill_switch, 0);
  ck_assert_int_eq(sk_scenario_set(&sc, "settings.global_kill_switch=1", err, sizeof err), SK_OK);
  ck_assert_int_eq(sc.settings.global_kill_switch, 1);
  ck_assert_int_eq(sk_scenario_set(&sc, "seed=42", err, sizeof err), SK_OK);
  ck_assert_uint_eq(sc.seed, 42);
  ck_assert_int_eq(sk_scenario_set(&sc, "room.rows=3", err, sizeof err), SK_OK);
  ck_assert_int_eq(sc.n_rows, 3);
  ck_assert_int_eq(sk_scenario_set(&sc, "name=my run", err, sizeof err), SK_OK);
  ck_assert_str_eq(sc.name, "my run");
  ck_assert_int_eq(sk_scenario_set(&sc, "duration_s=3600", err, sizeof err), SK_OK);
  ck_assert_double_eq(sc.duration_s, 3600);
  ck_assert_int_eq(sk_scenario_set(&sc, "workload.trace_csv=", err, sizeof err), SK_OK);
  ck_assert_str_eq(sc.trace_csv, "");
  ck_assert_int_eq(sk_scenario_validate(&sc, err, sizeof err), SK_OK);
}
END_TEST

START_TEST(test_precedence) {
  sk_scenario sc;
  char err[SK_ERR_LEN] = "";
  setenv("INLET_MAX_C", "25", 1);
  setenv("SLA_LATENCY_MS", "200", 1);
  setenv("RACK_KW_CAP", "10", 1);
  setenv("MMS_PERSIST_TICKS", "", 1); /* empty: ignored */
  const char *dotenv = write_tmp(".env", "# the seed's .env\n"
                                         "DATABASE_URL=sqlite:///./skadi.db\n"
                                         "\n"
                                         "INLET_MAX_C=26   # inline comment\n"
                                         "export SLA_LATENCY_MS=\"300\"\n"
                                         "DEFAULT_MODE='closed_loop'\r\n");
  const char *scn = write_tmp("p.json", "{\"name\": \"p\", \"settings\": {\"inlet_max_c\": 27}}");

  sk_scenario_defaults(&sc);
  ck_assert_int_eq(sk_scenario_apply_env(&sc, err, sizeof err), SK_OK);
  ck_assert_double_eq(sc.settings.inlet_max_c, 25);
  ck_assert_double_eq(sc.settings.sla_latency_ms, 200);
  ck_assert_double_eq(sc.settings.rack_kw_cap, 10);
  ck_assert_int_eq(sc.settings.mms_persist_ticks, 6);

  ck_assert_msg(sk_scenario_apply_dotenv(&sc, dotenv, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_double_eq(sc.settings.inlet_max_c, 26);
  ck_assert_double_eq(sc.settings.sla_latency_ms, 300);
  ck_assert_double_eq(sc.settings.rack_kw_cap, 10);
  ck_assert_int_eq(sc.settings.default_mode_closed_loop, 1);

  ck_assert_msg(sk_scenario_load(&sc, scn, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_double_eq(sc.settings.inlet_max_c, 27);
  ck_assert_double_eq(sc.settings.sla_latency_ms, 300);
  ck_assert_double_eq(sc.settings.rack_kw_cap, 10);

  ck_assert_int_eq(sk_scenario_set(&sc, "INLET_MAX_C=27.5", err, sizeof err), SK_OK);
  ck_assert_double_eq(sc.settings.inlet_max_c, 27.5);
  ck_assert_double_eq(sc.settings.sla_latency_ms, 300);
  ck_assert_int_eq(sk_scenario_validate(&sc, err, sizeof err), SK_OK);

  unsetenv("INLET_MAX_C");
  unsetenv("SLA_LATENCY_MS");
  unsetenv("RACK_KW_CAP");
  unsetenv("MMS_PERSIST_TICKS");
}
END_TEST

START_TEST(test_dotenv_missing) {
  sk_scenario sc, before;
  char err[SK_ERR_LEN] = "";
  char path[SK_PATH_LEN];
  sk_scenario_defaults(&sc);
  before = sc;
  snprintf(path, sizeof path, "%s/no.env", tu_dir);
  ck_assert_int_eq(sk_scenario_apply_dotenv(&sc, path, err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_scenario_apply_dotenv(&sc, NULL, err, sizeof err), SK_OK);
  ck_assert_int_eq(memcmp(&sc, &before, sizeof sc), 0);
}
END_TEST

START_TEST(test_env_bad) {
  sk_scenario sc, before;
  char err[SK_ERR_LEN] = "";
  sk_scenario_defaults(&sc);
  before = sc;
  setenv("SLA_LATENCY_MS", "100", 1);
  setenv("INLET_MAX_C", "hot", 1);
  ck_assert_int_ne(sk_scenario_apply_env(&sc, err, sizeof err), SK_OK);
  ASSERT_HAS(err, "environment INLET_MAX_C: ");
  ASSERT_HAS(err, "expected a number");
  ck_assert_int_eq(memcmp(&sc, &before, sizeof sc), 0); /* SLA_LATENCY_MS not half-applied */
  setenv("INLET_MAX_C", "nan", 1);
  ck_assert_int_ne(sk_scenario_apply_env(&sc, err, sizeof err), SK_OK);
  ASSERT_HAS(err, "environment INLET_MAX_C: ");
  ASSERT_HAS(err, "finite");
  unsetenv("INLET_MAX_C");
  unsetenv("SLA_LATENCY_MS");
}
END_TEST

/* ---- JSON round trip, kv, key table ------------------------------------------------- */

START_TEST(test_to_json_roundtrip) {
  sk_scenario a, b;
  char err[SK_ERR_LEN] = "";
  load_ok(&a, SRC("scenarios/heat_spike_row_c.json"));
  const char *sets[] = {"seed=9007199254740991",
                        "server.batch_window_ms=7.3",
                        "settings.mms_ema_alpha=0.1",
                        "DEFAULT_MODE=closed_loop",
                        "GLOBAL_KILL_SWITCH=true",
                        "description=\"quoted\" \\ and ünïcode",
                        "plant.chw_supply_c=9.123456789012345",
                        "workload.peak_hour=23.99"};
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
    ck_assert_msg(sk_scenario_set(&a, sets[i], err, sizeof err) == SK_OK, "%s", err);
  /* one more effect of each other kind, built from JSON */
  const char *more = write_tmp(
      "more.json",
      "{\"duration_s\": 14400, \"timeline\": ["
      "{\"name\": \"a\", \"effect\": \"add_ai_nodes\", \"start_s\": 10, \"racks\": [\"R-A-01\"],"
      " \"nodes_per_rack\": 4, \"rate_prompts_s_per_node\": 0.1},"
      "{\"name\": \"c\", \"effect\": \"crah_override\", \"start_s\": 0, \"stop_s\": 99.5,"
      " \"row\": \"F\", \"supply_setpoint_c\": 21},"
      "{\"name\": \"l\", \"effect\": \"load_scale\", \"start_s\": 100, \"stop_s\": 200,"
      " \"factor\": 1.3}]}");
  ck_assert_msg(sk_scenario_load(&a, more, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(sk_scenario_validate(&a, err, sizeof err), SK_OK);

  char *text = sk_scenario_to_json(&a);
  ck_assert_ptr_nonnull(text);
  const char *copy = write_tmp("roundtrip.json", text);

  sk_scenario_defaults(&b);
  ck_assert_msg(sk_scenario_load(&b, copy, err, sizeof err) == SK_OK, "%s", err);
  ck_assert_int_eq(sk_scenario_validate(&b, err, sizeof err), SK_OK);
  ck_assert_uint_eq(b.seed, 9007199254740991ULL);
  ck_assert_double_eq(b.server.batch_window_ms, 7.3);
  ck_assert_double_eq(b.settings.mms_ema_alpha, 0.1);
  ck_assert_double_eq(b.plant.chw_supply_c, 9.123456789012345);
  ck_assert_double_eq(b.workload.peak_hour, 23.99);
  ck_assert_int_eq(b.settings.default_mode_closed_loop, 1);
  ck_assert_int_eq(b.settings.global_kill_switch, 1);
  ck_assert_str_eq(b.description, "\"quoted\" \\ and ünïcode");
  ck_assert_str_eq(b.name, "heat_spike_row_c");
  ck_assert_int_eq(b.n_effects, 3);
  ck_assert_int_eq(b.effects[0].nodes_per_rack, 4);
  ck_assert_int_eq(b.effects[0].rack_index[0], 0);
  ck_assert(isinf(b.effects[0].stop_s));
  ck_assert_double_eq(b.effects[1].stop_s, 99.5);
  ck_assert_int_eq(b.effects[1].row, 5);
  ck_assert(isnan(b.effects[1].fan_speed_pct));
  ck_assert_double_eq(b.effects[1].supply_setpoint_c, 21);
  ck_assert_double_eq(b.effects[2].factor, 1.3);

  /* and the text of the copy is the text of the original */
  char *text2 = sk_scenario_to_json(&b);
  ck_assert_str_eq(text2, text);

  /* sk_scenario_parse reads it from memory, paths as given */
  sk_scenario c;
  sk_scenario_defaults(&c);
  ck_assert_int_eq(sk_scenario_parse(&c, text, strlen(text), "recording", NULL, err, sizeof err),
                   SK_OK);
  char *text3 = sk_scenario_to_json(&c);
  ck_assert_str_eq(text3, text);
  ck_assert_str_eq(c.source, "recording");
  free(text);
  free(text2);
  free(text3);
}
END_TEST

START_TEST(test_to_json_trace_path) {
  write_tmp("t.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0,1,1\n");
  const char *path = write_tmp("s.json", "{\"workload\": {\"trace_csv\": \"t.csv\"}}");
  sk_scenario a, b;
  char err[SK_ERR_LEN] = "";
  load_ok(&a, path);
  char *text = sk_scenario_to_json(&a);
  sk_scenario_defaults(&b);
  ck_assert_int_eq(sk_scenario_parse(&b, text, strlen(text), "recording", NULL, err, sizeof err),
                   SK_OK);
  ck_assert_str_eq(b.trace_csv, a.trace_csv);
  free(text);
}
END_TEST

START_TEST(test_kv) {
  sk_scenario sc;
  char **keys, **values;
  size_t n;
  load_ok(&sc, SRC("scenarios/overcooled_row_e.json"));
  ck_assert_int_eq(sk_scenario_kv(&sc, &keys, &values, &n), SK_OK);
  ck_assert_uint_gt(n, 80);
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(keys[i], "settings.inlet_max_c") == 0) {
      ck_assert_str_eq(values[i], "28");
      found |= 1;
    } else if (strcmp(keys[i], "settings.default_mode") == 0) {
      ck_assert_str_eq(values[i], "advisory");
      found |= 2;
    } else if (strcmp(keys[i], "settings.mms_ema_alpha") == 0) {
      ck_assert_str_eq(values[i], "0.3");
      found |= 4;
    } else if (strcmp(keys[i], "name") == 0) {
      ck_assert_str_eq(values[i], "overcooled_row_e");
      found |= 8;
    } else if (strcmp(keys[i], "settings.global_kill_switch") == 0) {
      ck_assert_str_eq(values[i], "false");
      found |= 16;
    }
  }
  ck_assert_int_eq(found, 31);
  ck_assert_str_eq(keys[n - 1], "timeline");
  ASSERT_HAS(values[n - 1], "\"row\":\"E\"");
  sk_scenario_free_kv(keys, values, n);
  sk_scenario_free_kv(NULL, NULL, 0);
}
END_TEST

START_TEST(test_print_keys) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  sk_scenario_print_keys(f);
  fclose(f);
  ASSERT_HAS(buf, "settings.inlet_max_c");
  ASSERT_HAS(buf, "INLET_MAX_C");
  ASSERT_HAS(buf, "advisory, closed_loop");
  ASSERT_HAS(buf, "(0, 32000000]");
  free(buf);
}
END_TEST

/* docs/SCENARIOS.md carries the table sk_scenario_print_keys_markdown prints. */
START_TEST(test_doc_table) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  sk_scenario_print_keys_markdown(f);
  fclose(f);
  char *doc = tu_read_file(SRC("docs/SCENARIOS.md"));
  ck_assert_ptr_nonnull(doc);
  if (strstr(doc, buf) == NULL) {
    const char *fresh = SKADI_BINARY_DIR "/scenario_keys.md";
    FILE *o = fopen(fresh, "w");
    if (o != NULL) {
      fputs(buf, o);
      fclose(o);
    }
    ck_abort_msg("docs/SCENARIOS.md is out of date: replace its key table with %s "
                 "(printed by sk_scenario_print_keys_markdown)",
                 fresh);
  }
  free(doc);
  free(buf);
}
END_TEST

/* ---- allocation failures inside cJSON ------------------------------------------------ */

static int allocs_left;
static void *failing_malloc(size_t n) {
  return allocs_left-- > 0 ? malloc(n) : NULL;
}

/* Fails the n-th cJSON allocation for every n until a call needs fewer: each call must
 * then report failure cleanly (NULL, a negative status) and free what it took -- the
 * sanitizer build checks the "free" part. */
START_TEST(test_cjson_oom) {
  sk_scenario sc;
  char err[SK_ERR_LEN] = "";
  load_ok(&sc, SRC("scenarios/heat_spike_row_c.json"));
  cJSON_Hooks hooks = {failing_malloc, free};
  int done_json = 0, done_kv = 0, done_load = 0;
  for (int n = 0; n < 100000 && !(done_json && done_kv && done_load); n++) {
    cJSON_InitHooks(&hooks);
    allocs_left = n;
    char *text = sk_scenario_to_json(&sc);
    allocs_left = n;
    char **keys = NULL, **values = NULL;
    size_t nkv = 0;
    sk_status kv = sk_scenario_kv(&sc, &keys, &values, &nkv);
    allocs_left = n;
    sk_scenario other;
    sk_scenario_defaults(&other);
    sk_status ld =
        sk_scenario_load(&other, SRC("scenarios/heat_spike_row_c.json"), err, sizeof err);
    cJSON_InitHooks(NULL);
    done_json |= text != NULL;
    done_kv |= kv == SK_OK;
    done_load |= ld == SK_OK;
    if (kv != SK_OK)
      ck_assert(keys == NULL && values == NULL && nkv == 0);
    else
      sk_scenario_free_kv(keys, values, nkv);
    if (ld != SK_OK)
      ck_assert_int_eq(other.n_effects, 0); /* untouched */
    free(text);
  }
  ck_assert(done_json && done_kv && done_load);
}
END_TEST

/* ---- racks -------------------------------------------------------------------------- */

START_TEST(test_racks) {
  sk_scenario sc;
  sk_scenario_defaults(&sc);
  ck_assert_int_eq(sk_scenario_rack_index(&sc, "R-A-01"), 0);
  ck_assert_int_eq(sk_scenario_rack_index(&sc, "R-C-07"), 30);
  ck_assert_int_eq(sk_scenario_rack_index(&sc, "R-F-12"), 71);
  const char *bad[] = {"R-G-01", "R-C-13", "R-C-00", "r-c-01", "R-C-7", "R-C-007",
                       "X-C-01", "R-c-01", "R_C_01", "",       "R-Z-99"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(sk_scenario_rack_index(&sc, bad[i]) == -1, "%s accepted", bad[i]);
  ck_assert_int_eq(sk_scenario_rack_index(&sc, NULL), -1);
  for (int i = 0; i < 72; i++) {
    char id[8];
    sk_scenario_rack_id(&sc, i, id);
    ck_assert_int_eq(sk_scenario_rack_index(&sc, id), i);
  }
  char id[8];
  sk_scenario_rack_id(&sc, 30, id);
  ck_assert_str_eq(id, "R-C-07");
  sc.n_rows = 26;
  sc.racks_per_row = 64;
  sk_scenario_rack_id(&sc, 26 * 64 - 1, id);
  ck_assert_str_eq(id, "R-Z-64");
  ck_assert_int_eq(sk_scenario_rack_index(&sc, "R-Z-64"), 26 * 64 - 1);
  ck_assert_str_eq(sk_effect_kind_name(SK_EFFECT_LOAD_SCALE), "load_scale");
}
END_TEST

/* Effects follow their rack ids when the layout changes after the file. */
START_TEST(test_relayout) {
  sk_scenario sc;
  char err[SK_ERR_LEN] = "";
  load_ok(&sc, SRC("scenarios/heat_spike_row_c.json"));
  ck_assert_int_eq(sk_scenario_set(&sc, "room.racks_per_row=10", err, sizeof err), SK_OK);
  ck_assert_int_eq(sc.effects[0].rack_index[0], 2 * 10 + 5);
  ck_assert_int_eq(sk_scenario_validate(&sc, err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_scenario_set(&sc, "room.racks_per_row=6", err, sizeof err), SK_OK);
  ck_assert_int_ne(sk_scenario_validate(&sc, err, sizeof err), SK_OK);
  ASSERT_HAS(err, "heat_spike_row_c.json: timeline[0].racks[1]: unknown rack \"R-C-07\"");
  ck_assert_int_eq(sk_scenario_set(&sc, "room.racks_per_row=12", err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_scenario_validate(&sc, err, sizeof err), SK_OK);
}
END_TEST

/* The GPU power cap may not go below the decode ceiling gpu_decode_base_w +
 * gpu_decode_w_per_seq * max_batch (300 W at the defaults): the cap is modelled only in
 * prefill.  The message names the key, both values and the reason. */
START_TEST(test_power_cap_floor) {
  sk_scenario sc;
  char err[SK_ERR_LEN] = "";
  sk_scenario_defaults(&sc);
  ck_assert_int_eq(sk_scenario_set(&sc, "server.gpu_power_cap_w=250", err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_scenario_validate(&sc, err, sizeof err), SK_ERANGE);
  ASSERT_HAS(err, "scenario: server.gpu_power_cap_w: 250 W is below the decode ceiling");
  ASSERT_HAS(err, "(300 W)");
  ASSERT_HAS(err, "prefill");
  ck_assert_int_eq(sk_scenario_set(&sc, "server.gpu_power_cap_w=300", err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_scenario_validate(&sc, err, sizeof err), SK_OK);
  /* a larger batch raises the ceiling past the cap */
  ck_assert_int_eq(sk_scenario_set(&sc, "server.max_batch=128", err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_scenario_validate(&sc, err, sizeof err), SK_ERANGE);
  ASSERT_HAS(err, "server.gpu_power_cap_w: 300 W is below the decode ceiling");
  ASSERT_HAS(err, "(400 W)");
  /* from a file, the message starts with the file */
  const char *path = write_tmp("cap.json", "{\"server\": {\"gpu_power_cap_w\": 250}}");
  sk_scenario_defaults(&sc);
  ck_assert_int_eq(sk_scenario_load(&sc, path, err, sizeof err), SK_OK);
  ck_assert_int_eq(sk_scenario_validate(&sc, err, sizeof err), SK_ERANGE);
  ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "\"%s\" does not start with the path", err);
  ASSERT_HAS(err, ": server.gpu_power_cap_w: 250 W is below the decode ceiling");
}
END_TEST

/* ---- lever keys: ranges from the lever table (levers.h) ---------------------------- */

/* Every key that sets a lever (or bounds one) takes its range from the lever table: its
 * bounds are accepted, a value just outside is refused with the table's range in the
 * message, and the scenario is left untouched.  The crah_override effect's fields too. */
typedef struct {
  const char *key;
  sk_action_kind lever;
} lever_key;

static const lever_key lever_keys[] = {
    {"room.crah_fan_speed_pct", SK_ACT_CRAH_FAN},  {"room.crah_min_speed_pct", SK_ACT_CRAH_FAN},
    {"room.supply_setpoint_c", SK_ACT_SUPPLY_TEMP}, {"server.gpu_power_cap_w", SK_ACT_GPU_CAP},
    {"server.batch_window_ms", SK_ACT_BATCH_WINDOW}, {"plant.chw_supply_c", SK_ACT_CHW_TEMP},
    {"plant.pump_speed_pct", SK_ACT_PUMP_SPEED},   {"plant.pump_min_speed_pct", SK_ACT_PUMP_SPEED},
    {"control.supply_max_c", SK_ACT_SUPPLY_TEMP},
};

START_TEST(test_lever_ranges) {
  const lever_key *k = &lever_keys[_i];
  double lo = sk_action_min(k->lever), hi = sk_action_max(k->lever);
  char err[SK_ERR_LEN] = "", assign[128], range[64];
  snprintf(range, sizeof range, "out of range [%g, %g]", lo, hi);
  sk_scenario sc, before;
  sk_scenario_defaults(&sc);
  double ok[2] = {lo, hi}, bad[2] = {lo - 0.5, hi + 0.5};
  for (int j = 0; j < 2; j++) {
    snprintf(assign, sizeof assign, "%s=%.17g", k->key, ok[j]);
    ck_assert_msg(sk_scenario_set(&sc, assign, err, sizeof err) == SK_OK, "%s: %s", assign, err);
  }
  before = sc;
  for (int j = 0; j < 2; j++) {
    snprintf(assign, sizeof assign, "%s=%.17g", k->key, bad[j]);
    ck_assert_msg(sk_scenario_set(&sc, assign, err, sizeof err) != SK_OK, "%s accepted", assign);
    ASSERT_HAS(err, k->key);
    ASSERT_HAS(err, range);
    ck_assert_int_eq(memcmp(&sc, &before, sizeof sc), 0);
  }
}
END_TEST

/* The ranges the table gives (the physical reasons are in levers.h), and the override
 * effect's setpoint held to the same range as the supply lever. */
START_TEST(test_lever_table_values) {
  ck_assert_double_eq(sk_action_min(SK_ACT_SUPPLY_TEMP), 14);
  ck_assert_double_eq(sk_action_max(SK_ACT_SUPPLY_TEMP), 27);
  ck_assert_double_eq(sk_action_min(SK_ACT_CHW_TEMP), 5);
  ck_assert_double_eq(sk_action_max(SK_ACT_CHW_TEMP), 18);
  ck_assert_double_eq(sk_action_min(SK_ACT_BATCH_WINDOW), 0);
  ck_assert_double_eq(sk_action_max(SK_ACT_BATCH_WINDOW), 200);
  ck_assert_double_eq(SK_LEVER_MAX(SUPPLY_TEMP), sk_action_max(SK_ACT_SUPPLY_TEMP));
  ck_assert_double_eq(SK_LEVER_STEP(CRAH_FAN), sk_action_step(SK_ACT_CRAH_FAN));
  ck_assert(isnan(sk_action_min(SK_ACT_KIND_COUNT)));
  const char *json[2] = {
      "{\"timeline\": [{\"name\": \"o\", \"effect\": \"crah_override\", \"start_s\": 0, "
      "\"row\": \"E\", \"supply_setpoint_c\": 13.5}]}",
      "{\"timeline\": [{\"name\": \"o\", \"effect\": \"crah_override\", \"start_s\": 0, "
      "\"row\": \"E\", \"supply_setpoint_c\": 14}]}"};
  sk_scenario sc;
  char err[SK_ERR_LEN] = "";
  sk_scenario_defaults(&sc);
  ck_assert_int_ne(sk_scenario_load(&sc, write_tmp("low.json", json[0]), err, sizeof err), SK_OK);
  ASSERT_HAS(err, "timeline[0].supply_setpoint_c: 13.5 °C is out of range [14, 27] °C");
  sk_scenario_defaults(&sc);
  ck_assert_msg(sk_scenario_load(&sc, write_tmp("at.json", json[1]), err, sizeof err) == SK_OK,
                "%s", err);
}
END_TEST

/* ---- the catalogue of bad scenario files -------------------------------------------- */

typedef struct {
  const char *what;
  const char *json;  /* NULL: the file does not exist */
  const char *field; /* must appear in the message after the path */
  const char *reason;
} bad_case;

#define ADD_NODES(extra)                                                                           \
  "{\"timeline\": [{\"name\": \"x\", \"effect\": \"add_ai_nodes\", \"start_s\": 10" extra "}]}"

static const bad_case bad_files[] = {
    {"missing racks", ADD_NODES(", \"rate_prompts_s_per_node\": 1"), "timeline[0].racks",
     "missing required field"},
    {"missing effect", "{\"timeline\": [{\"name\": \"x\", \"start_s\": 0}]}", "timeline[0].effect",
     "missing required field"},
    {"missing name",
     "{\"timeline\": [{\"effect\": \"load_scale\", \"start_s\": 0, \"factor\": 2}]}",
     "timeline[0].name", "missing required field"},
    {"missing start",
     "{\"timeline\": [{\"name\": \"x\", \"effect\": \"load_scale\", \"factor\": 2}]}",
     "timeline[0].start_s", "missing required field"},
    {"wrong type", "{\"duration_s\": \"1h\"}", "duration_s", "expected a number, got a string"},
    {"wrong type nested", "{\"room\": {\"rows\": \"6\"}}", "room.rows",
     "expected an integer, got a string"},
    {"wrong type bool", "{\"settings\": {\"global_kill_switch\": \"yes\"}}",
     "settings.global_kill_switch", "expected true or false, got a string"},
    {"wrong type null", "{\"seed\": null}", "seed", "got null"},
    {"negative duration", "{\"duration_s\": -5}", "duration_s",
     "-5 s is out of range (0, 32000000] s"},
    {"zero duration", "{\"duration_s\": 0}", "duration_s", "out of range"},
    {"unknown rack",
     ADD_NODES(", \"racks\": [\"R-C-06\", \"R-Z-99\"], \"rate_prompts_s_per_node\": 1"),
     "timeline[0].racks[1]", "unknown rack \"R-Z-99\" (racks are R-A-01 .. R-F-12)"},
    {"rack not a string", ADD_NODES(", \"racks\": [7], \"rate_prompts_s_per_node\": 1"),
     "timeline[0].racks[0]", "expected a rack id"},
    {"rack twice",
     ADD_NODES(", \"racks\": [\"R-C-06\", \"R-C-06\"], \"rate_prompts_s_per_node\": 1"),
     "timeline[0].racks[1]", "listed twice"},
    {"no racks", ADD_NODES(", \"racks\": [], \"rate_prompts_s_per_node\": 1"), "timeline[0].racks",
     "needs 1 to 16 racks"},
    {"unknown key", "{\"workload\": {\"rate_scal\": 1.2}}", "workload.rate_scal",
     "unknown field (did you mean \"workload.rate_scale\"?)"},
    {"unknown group", "{\"wrkload\": {\"rate_scale\": 1.2}}", "wrkload",
     "did you mean \"workload\"?"},
    {"seed name in json", "{\"INLET_MAX_C\": 27}", "INLET_MAX_C",
     "did you mean \"settings.inlet_max_c\"?"},
    {"unknown key far", "{\"colour\": \"blue\"}", "colour", "unknown field"},
    {"group not object", "{\"room\": 6}", "room", "expected an object, got a number"},
    {"given twice", "{\"seed\": 1, \"seed\": 2}", "seed", "given twice"},
    {"given twice dotted", "{\"room\": {\"rows\": 2}, \"room.rows\": 3}", "room.rows",
     "given twice"},
    /* syntax errors: "<path>:<line>:<col>: invalid JSON: ..." at the offending token, the
     * column in characters */
    {"truncated", "{\n  \"name\": \"x\",\n  \"seed\": ", ":3:11: invalid JSON: ",
     "expected a value (a string, number, object, array, true, false or null), got the end of "
     "the input (truncated?)"},
    {"two commas", "{\n  \"name\": \"x\",,\n  \"seed\": 1\n}",
     ":2:15: invalid JSON: ", "expected a key in double quotes, got ','"},
    {"trailing junk", "{\"seed\": 1} x",
     ":1:13: invalid JSON: ", "text after the end of the top-level value"},
    {"trailing comma in an object", "{\"seed\": 1,}",
     ":1:11: invalid JSON: ", "trailing comma before '}'"},
    {"trailing comma in an array",
     "{\n  \"timeline\": [{\"name\": \"x\", \"effect\": \"add_ai_nodes\", \"start_s\": 10,\n"
     "    \"racks\": [\"R-C-06\",], \"rate_prompts_s_per_node\": 1}]\n}",
     ":3:23: invalid JSON: ", "trailing comma before ']'"},
    {"trailing comma after non-ASCII", "{\"name\": \"20 \u00b0C\", \"seed\": 1,\n}",
     ":1:28: invalid JSON: ", "trailing comma before '}'"},
    {"missing colon", "{\n  \"seed\" 1\n}",
     ":2:10: invalid JSON: ", "expected ':' after the key \"seed\", got '1'"},
    {"missing comma", "{\"seed\": 1\n \"name\": \"x\"}",
     ":2:2: invalid JSON: ", "expected ',' or '}' after the value of \"seed\", got '\"'"},
    {"unquoted key", "{seed: 1}",
     ":1:2: invalid JSON: ", "expected a key in double quotes, got 'seed'"},
    {"unclosed string", "{\"name\": \"x}", ":1:10: invalid JSON: ", "string never closed"},
    {"empty file", "", ": invalid JSON", "empty"},
    {"top level array", "[1, 2]", ": expected a JSON object", "got an array"},
    {"unreadable trace", "{\"workload\": {\"trace_csv\": \"no/such/trace.csv\"}}",
     "workload.trace_csv", "No such file or directory"},
    {"trace is a directory", "{\"workload\": {\"trace_csv\": \".\"}}", "workload.trace_csv",
     "Is a directory"},
    {"integer fraction", "{\"room\": {\"rows\": 1.5}}", "room.rows",
     "expected an integer, got 1.5"},
    {"seed fraction", "{\"seed\": 0.5}", "seed", "expected an integer, got 0.5"},
    {"seed negative", "{\"seed\": -1}", "seed", "out of range"},
    {"seed too big", "{\"seed\": 1e20}", "seed", "out of range [0, 9007199254740991]"},
    {"out of range", "{\"settings\": {\"inlet_max_c\": 80}}", "settings.inlet_max_c",
     "80 °C is out of range [15, 45] °C"},
    {"out of range open", "{\"server\": {\"psu_eff\": 0}}", "server.psu_eff",
     "0 is out of range (0, 1]"},
    {"out of range hour", "{\"start_hour\": 24}", "start_hour", "out of range [0, 24) h"},
    {"too many rows", "{\"room\": {\"rows\": 27}}", "room.rows", "out of range [1, 26]"},
    {"enum", "{\"settings\": {\"default_mode\": \"auto\"}}", "settings.default_mode",
     "expected one of advisory, closed_loop, got \"auto\""},
    {"prefix cache enum", "{\"workload\": {\"prefix_cache\": \"yes\"}}",
     "workload.prefix_cache", "expected one of off, on, route, got \"yes\""},
    {"prefix cache type", "{\"workload\": {\"prefix_cache\": 1}}", "workload.prefix_cache",
     "expected"},
    {"kv cache blocks range", "{\"server\": {\"kv_cache_blocks\": 0}}", "server.kv_cache_blocks",
     "out of range [1, 16777216]"},
    {"kv cache blocks fraction", "{\"server\": {\"kv_cache_blocks\": 2.5}}",
     "server.kv_cache_blocks", "expected an integer, got 2.5"},
    {"name too long",
     "{\"name\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
     "name", "too long"},
    {"stop before start",
     "{\"timeline\": [{\"name\": \"l\", \"effect\": \"load_scale\", \"start_s\": 100, "
     "\"stop_s\": 100, \"factor\": 2}]}",
     "timeline[0].stop_s", "100 s is not after start_s (100 s)"},
    {"unknown effect",
     "{\"timeline\": [{\"name\": \"x\", \"effect\": \"meteor\", \"start_s\": 0}]}",
     "timeline[0].effect", "unknown effect \"meteor\""},
    {"field of another effect",
     "{\"timeline\": [{\"name\": \"l\", \"effect\": \"load_scale\", \"start_s\": 0, "
     "\"factor\": 2, \"racks\": [\"R-A-01\"]}]}",
     "timeline[0].racks", "not a field of effect load_scale"},
    {"unknown effect field",
     "{\"timeline\": [{\"name\": \"l\", \"effect\": \"load_scale\", \"start_s\": 0, "
     "\"factr\": 2}]}",
     "timeline[0].factr", "unknown field"},
    {"effect field range",
     ADD_NODES(", \"racks\": [\"R-A-01\"], \"nodes_per_rack\": 5, \"rate_prompts_s_per_node\": 1"),
     "timeline[0].nodes_per_rack", "out of range [1, 4]"},
    {"effect field fraction",
     ADD_NODES(
         ", \"racks\": [\"R-A-01\"], \"nodes_per_rack\": 1.5, \"rate_prompts_s_per_node\": 1"),
     "timeline[0].nodes_per_rack", "expected an integer, got 1.5"},
    {"effect field type",
     "{\"timeline\": [{\"name\": \"l\", \"effect\": \"load_scale\", \"start_s\": \"0\", "
     "\"factor\": 2}]}",
     "timeline[0].start_s", "expected a number, got a string"},
    {"factor range",
     "{\"timeline\": [{\"name\": \"l\", \"effect\": \"load_scale\", \"start_s\": 0, "
     "\"factor\": 0}]}",
     "timeline[0].factor", "out of range [0.01, 10]"},
    {"negative start",
     "{\"timeline\": [{\"name\": \"l\", \"effect\": \"load_scale\", \"start_s\": -1, "
     "\"factor\": 2}]}",
     "timeline[0].start_s", "out of range"},
    {"row not in room",
     "{\"room\": {\"rows\": 3}, \"timeline\": [{\"name\": \"c\", \"effect\": \"crah_override\", "
     "\"start_s\": 0, \"row\": \"E\", \"fan_speed_pct\": 90}]}",
     "timeline[0].row", "row E is not in the room (rows A..C)"},
    {"row not a letter",
     "{\"timeline\": [{\"name\": \"c\", \"effect\": \"crah_override\", \"start_s\": 0, "
     "\"row\": 4, \"fan_speed_pct\": 90}]}",
     "timeline[0].row", "expected a row letter"},
    {"crah nothing to override",
     "{\"timeline\": [{\"name\": \"c\", \"effect\": \"crah_override\", \"start_s\": 0, "
     "\"row\": \"E\"}]}",
     "timeline[0]", "needs fan_speed_pct or supply_setpoint_c"},
    {"fan below crah minimum",
     "{\"timeline\": [{\"name\": \"c\", \"effect\": \"crah_override\", \"start_s\": 0, "
     "\"row\": \"E\", \"fan_speed_pct\": 20}]}",
     "timeline[0].fan_speed_pct", "below room.crah_min_speed_pct (30 %)"},
    {"supply out of range",
     "{\"timeline\": [{\"name\": \"c\", \"effect\": \"crah_override\", \"start_s\": 0, "
     "\"row\": \"E\", \"supply_setpoint_c\": 35}]}",
     "timeline[0].supply_setpoint_c", "out of range [14, 27] °C"},
    {"start after the end",
     "{\"duration_s\": 3600, \"timeline\": [{\"name\": \"l\", \"effect\": \"load_scale\", "
     "\"start_s\": 3600, \"factor\": 2}]}",
     "timeline[0].start_s", "at or after the end of the run (duration_s 3600 s)"},
    {"duplicate effect name",
     "{\"timeline\": [{\"name\": \"l\", \"effect\": \"load_scale\", \"start_s\": 0, \"factor\": 2},"
     "{\"name\": \"l\", \"effect\": \"load_scale\", \"start_s\": 5, \"factor\": 3}]}",
     "timeline[1].name", "already the name of timeline[0]"},
    {"timeline not an array", "{\"timeline\": {}}", "timeline", "expected an array"},
    {"entry not an object", "{\"timeline\": [3]}", "timeline[0]", "expected an object"},
    {"duration below sample period", "{\"duration_s\": 5}", "duration_s",
     "5 s is shorter than sample_period_s (10 s)"},
    {"fan below its minimum", "{\"room\": {\"crah_fan_speed_pct\": 20}}", "room.crah_fan_speed_pct",
     "below room.crah_min_speed_pct"},
    {"persist below fast",
     "{\"settings\": {\"ims_tau_fast_percentile\": 99, \"ims_tau_persist_percentile\": 97}}",
     "settings.ims_tau_persist_percentile", "below settings.ims_tau_fast_percentile"},
    {"missing file", NULL, ": cannot read", "No such file or directory"},
};

START_TEST(test_bad_file) {
  const bad_case *c = &bad_files[_i];
  char path[SK_PATH_LEN];
  if (c->json != NULL)
    snprintf(path, sizeof path, "%s", write_tmp("bad.json", c->json));
  else
    snprintf(path, sizeof path, "%s/missing.json", tu_dir);
  sk_scenario sc, before;
  char err[SK_ERR_LEN] = "";
  sk_scenario_defaults(&sc);
  before = sc;
  sk_status st = sk_scenario_load(&sc, path, err, sizeof err);
  if (st == SK_OK) {
    ck_assert_int_eq(memcmp(&sc.server, &before.server, sizeof sc.server), 0);
    st = sk_scenario_validate(&sc, err, sizeof err);
  } else {
    ck_assert_msg(memcmp(&sc, &before, sizeof sc) == 0, "%s: scenario changed on error", c->what);
  }
  ck_assert_msg(st != SK_OK, "%s: accepted", c->what);
  ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "%s: \"%s\" does not start with the path",
                c->what, err);
  const char *rest = err + strlen(path);
  ck_assert_msg(strstr(rest, c->field) != NULL, "%s: \"%s\" does not name \"%s\"", c->what, err,
                c->field);
  ck_assert_msg(strstr(rest, c->reason) != NULL, "%s: \"%s\" lacks \"%s\"", c->what, err,
                c->reason);
}
END_TEST

/* ---- bad --set ------------------------------------------------------------------------ */

typedef struct {
  const char *assignment;
  const char *prefix; /* the message starts with this */
  const char *reason;
} bad_set;

static const bad_set bad_sets[] = {
    {"duration_s=nan", "--set duration_s: ", "expected a finite number, got NaN"},
    {"duration_s=inf", "--set duration_s: ", "expected a finite number, got inf"},
    {"INLET_MAX_C=-inf", "--set INLET_MAX_C: ", "finite"},
    {"duration_s=1h", "--set duration_s: ", "expected a number, got \"1h\""},
    {"workload.rate_scale=0x10", "--set workload.rate_scale: ", "expected a number, got \"0x10\""},
    {"duration_s=", "--set duration_s: ", "expected a number"},
    {"duration_s=-1", "--set duration_s: ", "out of range"},
    {"seed=1.5", "--set seed: ", "expected an integer, got 1.5"},
    {"room.rows=2.5", "--set room.rows: ", "expected an integer, got 2.5"},
    {"MMS_PERSIST_TICKS=0", "--set MMS_PERSIST_TICKS: ", "out of range [1, 1000]"},
    {"settings.mms_ema_alpha=1.5", "--set settings.mms_ema_alpha: ", "out of range (0, 1]"},
    {"nosuch.key=1", "--set nosuch.key: ", "unknown field"},
    {"INLET_MAX_CC=27", "--set INLET_MAX_CC: ", "did you mean \"settings.inlet_max_c\"?"},
    {"workload.rate_scal=2", "--set workload.rate_scal: ", "did you mean \"workload.rate_scale\"?"},
    {"noequals", "--set noequals: ", "expected key=value"},
    {"=5", "--set : ", "expected key=value"},
    {"timeline=[]", "--set timeline: ", "scenario file only"},
    {"GLOBAL_KILL_SWITCH=maybe", "--set GLOBAL_KILL_SWITCH: ", "expected true, false, 1 or 0"},
    {"DEFAULT_MODE=auto", "--set DEFAULT_MODE: ", "expected one of advisory, closed_loop"},
};

START_TEST(test_bad_set) {
  const bad_set *c = &bad_sets[_i];
  sk_scenario sc, before;
  char err[SK_ERR_LEN] = "";
  sk_scenario_defaults(&sc);
  before = sc;
  ck_assert_msg(sk_scenario_set(&sc, c->assignment, err, sizeof err) != SK_OK, "%s accepted",
                c->assignment);
  ck_assert_msg(strncmp(err, c->prefix, strlen(c->prefix)) == 0,
                "\"%s\" does not start with \"%s\"", err, c->prefix);
  ASSERT_HAS(err, c->reason);
  ck_assert_int_eq(memcmp(&sc, &before, sizeof sc), 0);
}
END_TEST

/* A long --set value is refused, not truncated. */
START_TEST(test_set_too_long) {
  sk_scenario sc;
  char err[SK_ERR_LEN] = "", assign[200];
  sk_scenario_defaults(&sc);
  snprintf(assign, sizeof assign, "name=%0100d", 0);
  ck_assert_int_ne(sk_scenario_set(&sc, assign, err, sizeof err), SK_OK);
  ASSERT_HAS(err, "--set name: too long");
  ck_assert_str_eq(sc.name, "unnamed");
}
END_TEST

/* ---- bad .env lines ----------------------------------------------------------------- */

typedef struct {
  const char *text;
  const char *where; /* ":<line>: " */
  const char *reason;
} bad_dotenv;

static const bad_dotenv bad_dotenvs[] = {
    {"# ok\nINLET_MAX_C=27\nINLET_MAX_C 27\n", ":3: ", "expected KEY=VALUE"},
    {"INLET_MAX_C=hot\n", ":1: INLET_MAX_C: ", "expected a number, got \"hot\""},
    {"\nINLET_MAXC=27\n", ":2: INLET_MAXC: ", "unknown setting (did you mean INLET_MAX_C?)"},
    {"SLA_LATENCY_MS=\"250\n", ":1: ", "unterminated"},
    {"SLA_LATENCY_MS=\"250\" x\n", ":1: ", "after the closing quote"},
    {"SLA_LATENCY_MS=\n", ":1: SLA_LATENCY_MS: ", "empty value"},
    {"1BAD=2\n", ":1: ", "expected KEY=VALUE"},
    {"GLOBAL_KILL_SWITCH=nope\n", ":1: GLOBAL_KILL_SWITCH: ", "expected true, false, 1 or 0"},
    {"MMS_PERSIST_TICKS=2.5\n", ":1: MMS_PERSIST_TICKS: ", "expected an integer, got 2.5"},
    {"INLET_MAX_C=nan\n", ":1: INLET_MAX_C: ", "finite"},
};

START_TEST(test_bad_dotenv) {
  const bad_dotenv *c = &bad_dotenvs[_i];
  const char *path = write_tmp("bad.env", c->text);
  sk_scenario sc, before;
  char err[SK_ERR_LEN] = "", want[SK_PATH_LEN + 64];
  sk_scenario_defaults(&sc);
  before = sc;
  ck_assert_msg(sk_scenario_apply_dotenv(&sc, path, err, sizeof err) != SK_OK, "accepted: %s",
                c->text);
  snprintf(want, sizeof want, "%s%s", path, c->where);
  ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "\"%s\" does not start with \"%s\"", err,
                want);
  ASSERT_HAS(err, c->reason);
  ck_assert_int_eq(memcmp(&sc, &before, sizeof sc), 0);
}
END_TEST

START_TEST(test_dotenv_directory) {
  sk_scenario sc;
  char err[SK_ERR_LEN] = "";
  sk_scenario_defaults(&sc);
  ck_assert_int_ne(sk_scenario_apply_dotenv(&sc, tu_dir, err, sizeof err), SK_OK);
  ASSERT_HAS(err, tu_dir);
  ASSERT_HAS(err, "Is a directory");
}
END_TEST

/* ---- --duration ---------------------------------------------------------------------- */

START_TEST(test_duration_ok) {
  struct {
    const char *text;
    double s;
  } ok[] = {{"90", 90},     {"90s", 90}, {"15m", 900}, {"6h", 21600},  {"1d", 86400},
            {"1.5h", 5400}, {".5m", 30}, {"0.1", 0.1}, {"2d", 172800}, {"1e3s", 1000}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    double s = -1;
    char err[SK_ERR_LEN] = "";
    ck_assert_msg(sk_parse_duration(ok[i].text, &s, err, sizeof err) == SK_OK, "%s: %s", ok[i].text,
                  err);
    ck_assert_double_eq_tol(s, ok[i].s, 1e-9);
  }
}
END_TEST

START_TEST(test_duration_bad) {
  const char *bad[] = {"",    "0",   "0s",  "-5",   "-5m",    "nan",   "inf",
                       "abc", "5x",  "5 h", " 5",   "5hh",    "1e400", "h",
                       "+5",  "5h ", "5H",  "0x10", "1e-400", "NaNs",  "5m5s"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    double s = 123;
    char err[SK_ERR_LEN] = "";
    ck_assert_msg(sk_parse_duration(bad[i], &s, err, sizeof err) != SK_OK, "\"%s\" accepted",
                  bad[i]);
    ck_assert_double_eq(s, 123);
    ASSERT_HAS(err, "duration");
  }
  char err[SK_ERR_LEN] = "";
  double s;
  ck_assert_int_ne(sk_parse_duration(NULL, &s, err, sizeof err), SK_OK);
}
END_TEST

static Suite *scenario_suite(void) {
  Suite *s = suite_create("scenario");
  TCase *tc = tcase_create("scenario");
  tcase_add_checked_fixture(tc, setup, tu_scratch_teardown);
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_baseline);
  tcase_add_test(tc, test_heat_spike);
  tcase_add_test(tc, test_overcooled);
  tcase_add_test(tc, test_trace_replay);
  tcase_add_test(tc, test_trace_relative);
  tcase_add_test(tc, test_set);
  tcase_add_test(tc, test_precedence);
  tcase_add_test(tc, test_dotenv_missing);
  tcase_add_test(tc, test_env_bad);
  tcase_add_test(tc, test_to_json_roundtrip);
  tcase_add_test(tc, test_to_json_trace_path);
  tcase_add_test(tc, test_kv);
  tcase_add_test(tc, test_print_keys);
  tcase_add_test(tc, test_doc_table);
  tcase_add_test(tc, test_cjson_oom);
  tcase_add_test(tc, test_racks);
  tcase_add_test(tc, test_relayout);
  tcase_add_test(tc, test_power_cap_floor);
  tcase_add_loop_test(tc, test_lever_ranges, 0, (int)(sizeof lever_keys / sizeof lever_keys[0]));
  tcase_add_test(tc, test_lever_table_values);
  tcase_add_loop_test(tc, test_bad_file, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
  tcase_add_loop_test(tc, test_bad_set, 0, (int)(sizeof bad_sets / sizeof bad_sets[0]));
  tcase_add_test(tc, test_set_too_long);
  tcase_add_loop_test(tc, test_bad_dotenv, 0, (int)(sizeof bad_dotenvs / sizeof bad_dotenvs[0]));
  tcase_add_test(tc, test_dotenv_directory);
  tcase_add_test(tc, test_duration_ok);
  tcase_add_test(tc, test_duration_bad);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return tu_run_suite(scenario_suite());
}
