/*
 * scenario.c -- the one settings table, and everything derived from it: defaults, the
 * JSON scenario loader, --set, the environment and .env layers, validation, the effective
 * scenario as JSON and as key/value pairs, and the printed key table.
 *
 * Design.  Every setting is one row of `table` (Redis's config table): dotted key, the
 * seed's environment name if it has one, type, offset into sk_scenario, default, range,
 * unit and help.  Only the cross-field rules in sk_scenario_validate and the trace path's
 * resolution name settings besides, so adding one is one line (checklist: a new field in
 * params.h or sk_scenario needs its row here, and the key table in docs/SCENARIOS.md
 * regenerated -- test_scenario compares the doc with sk_scenario_print_keys_markdown).  JSON
 * objects map to dotted keys ({"room": {"rows": 6}} is "room.rows"; "room.rows": 6 works
 * too).  The timeline is not a key: it is parsed on its own against the small
 * `effect_fields` table, the same way.
 *
 * Every layer (file, --set, environment, .env) works on a copy and commits only on
 * success, so bad input never leaves a half-applied scenario.  Messages always name where
 * the value came from and the field: "<file>: <field>: <reason>", "--set <key>: ...",
 * "environment <NAME>: ...", "<file>:<line>: ...".
 *
 * Rejected: a generic per-key "origin" record so that validate could blame --set rather
 * than the file for cross-field errors -- the field name is enough for a user to find it.
 * Rejected: resolving the trace path with realpath() -- the recorded scenario would then
 * hold machine-specific absolute paths; a lexical join of the scenario's directory and
 * the path as written keeps what the user typed.
 * Numbers are written back with their shortest exact form (not cJSON's printer, which
 * rounds to 15 digits), so a recording's scenario reruns bit for bit.
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/scenario.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fileutil.h"
#include "jsonutil.h"
#include "skadi/levers.h" /* the lever table: ranges of the keys that set a lever */
#include "skadi/perf.h"   /* SK_PERF_DEFAULT_*: the perf fit owns its defaults */
#include "skadi/require.h"
#include "skadi/server.h" /* sk_server_decode_ceiling_w: the power cap's floor */

#define MAX_DURATION_S 3.2e7        /* s, about a year of sim time plus margin */
#define SEED_MAX 9007199254740991.0 /* 2^53 - 1: JSON numbers are doubles */
#define MAX_FILE_BYTES (16u << 20)  /* a scenario or .env larger than this is a mistake */

/* ------------------------------------------------------------------------------------ */
/* The table                                                                            */

typedef enum { KT_DOUBLE, KT_INT, KT_SEED, KT_BOOL, KT_STRING, KT_ENUM } key_type;

enum { LO_OPEN = 1, HI_OPEN = 2 }; /* range bounds excluded */

typedef struct {
  const char *key; /* dotted JSON key */
  const char *env; /* the seed's environment name, or NULL */
  key_type type;
  size_t offset;            /* into sk_scenario */
  size_t size;              /* of the field (strings: buffer size) */
  double def;               /* numbers and booleans */
  const char *def_str;      /* strings; enums: the default's name */
  const char *const *names; /* enums: value names, index = stored int, NULL-ended */
  double min, max;          /* numbers: valid range */
  unsigned open;            /* LO_OPEN | HI_OPEN */
  const char *unit;         /* "" = dimensionless */
  const char *help;         /* brief, with the source of the default */
  unsigned live;            /* 0: fixed for a run; else it may change while a session runs,
                               and SK_LIVE_TWIN / SK_LIVE_CONTROL name the parts that must
                               take the new value (the row's apply hook, which the session
                               calls: sk_twin_settings_changed, sk_controller_settings_changed) */
} setting;

static const char *const mode_names[] = {"advisory", "closed_loop", NULL};
/* index = sk_trace_format (skadi/trace.h) */
static const char *const trace_format_names[] = {"auto", "azure", "mooncake", "burstgpt", NULL};
/* index = SK_PREFIX_CACHE_* (skadi/scenario.h) */
static const char *const prefix_cache_names[] = {"off", "on", "route", NULL};

#define FLD(f) offsetof(sk_scenario, f), sizeof(((sk_scenario *)0)->f)
#define DBL(k, f, d, lo, hi, op, u, h)                                                             \
  { k, NULL, KT_DOUBLE, FLD(f), d, NULL, NULL, lo, hi, op, u, h, 0 }
#define INT(k, f, d, lo, hi, u, h)                                                                 \
  { k, NULL, KT_INT, FLD(f), d, NULL, NULL, lo, hi, 0, u, h, 0 }
#define STR(k, f, d, h)                                                                            \
  { k, NULL, KT_STRING, FLD(f), 0, d, NULL, 0, 0, 0, "", h, 0 }
#define ENV_DBL(k, e, f, d, lo, hi, op, u, h)                                                      \
  { k, e, KT_DOUBLE, FLD(f), d, NULL, NULL, lo, hi, op, u, h, 0 }
#define ENV_INT(k, e, f, d, lo, hi, u, h)                                                          \
  { k, e, KT_INT, FLD(f), d, NULL, NULL, lo, hi, 0, u, h, 0 }
/* Live keys: the same rows with the parts a change must reach. */
#define LIVE_DBL(k, f, d, lo, hi, op, u, h, live)                                                  \
  { k, NULL, KT_DOUBLE, FLD(f), d, NULL, NULL, lo, hi, op, u, h, live }
#define LIVE_ENV_DBL(k, e, f, d, lo, hi, op, u, h, live)                                           \
  { k, e, KT_DOUBLE, FLD(f), d, NULL, NULL, lo, hi, op, u, h, live }
#define TW SK_LIVE_TWIN
#define CT SK_LIVE_CONTROL
/* a key that sets a lever (or bounds one): its range is the lever table's (levers.h) */
#define LEVER(k, f, d, lever, u, h) DBL(k, f, d, SK_LEVER_MIN(lever), SK_LEVER_MAX(lever), 0, u, h)

static const setting table[] = {
    STR("name", name, "unnamed", "scenario name, stored in recordings"),
    STR("description", description, "", "free text"),
    {"seed", NULL, KT_SEED, FLD(seed), 1, NULL, NULL, 0, SEED_MAX, 0, "",
     "run seed; every RNG stream derives from it", 0},
    DBL("duration_s", duration_s, 86400, 0, MAX_DURATION_S, LO_OPEN, "s",
        "simulated time to run (--duration)"),
    DBL("sample_period_s", sample_period_s, 10, 0.1, 3600, 0, "s", "telemetry sample period"),
    DBL("thermal_step_s", thermal_step_s, 1, 0.1, 60, 0, "s", "thermal and plant integration step"),
    DBL("start_hour", start_hour, 0, 0, 24, HI_OPEN, "h",
        "hour of day at t = 0 (diurnal load, wet bulb)"),

    INT("room.rows", n_rows, 6, 1, SK_MAX_ROWS, "rows",
        "rows of racks, named A, B, ... (seed: A-F)"),
    INT("room.racks_per_row", racks_per_row, 12, 1, SK_MAX_RACKS_PER_ROW, "racks",
        "racks per row, ids R-<row>-01.. (seed: 12)"),
    INT("room.servers_per_rack", servers_per_rack, 1, 1, 4, "servers",
        "8-GPU servers per rack (physics §8)"),
    DBL("room.rho_cp_j_per_m3k", room.rho_cp_j_per_m3k, 1206, 900, 1400, 0, "J/(m³·K)",
        "air volumetric heat capacity (§8.1)"),
    DBL("room.recirc_mid", room.recirc_mid, 0.08, 0, 0.5, 0, "",
        "hot-aisle recirculation share, mid-row racks (§8.1)"),
    DBL("room.recirc_end", room.recirc_end, 0.15, 0, 0.5, 0, "",
        "hot-aisle recirculation share, end-of-row racks (§8.1)"),
    DBL("room.bypass_frac", room.bypass_frac, 0.5, 0, 0.9, 0, "",
        "share of the tiles' air that bypasses the racks; (1 - this) x tile air must cover a rack's air or it recirculates: a legacy open hall's 0.5 (CIBSE Journal Apr. 2012, air performance metrics; 0.6 measured in 19 rooms, Uptime Institute 2004)"),
    DBL("room.air_m3_per_rack", room.air_m3_per_rack, 13.9, 0, 1e4, 0, "m³",
        "room air behind each rack, its hot-aisle node's mass: 1,000 m³ / 72 racks (§8.1)"),
    DBL("room.cold_aisle_m3_per_rack", room.cold_aisle_m3_per_rack, 0.72, 0, 100, 0, "m³",
        "cold-aisle air in front of each rack: 0.6 m wide x 0.6 m (half a 2-tile aisle) x 2.0 m"),
    DBL("room.crah_rated_flow_m3s", room.crah_rated_flow_m3s, 11.8, 0, 100, LO_OPEN, "m³/s",
        "CRAH airflow at 100 % fan speed, 25,000 CFM (§8.2)"),
    DBL("room.crah_rated_fan_kw", room.crah_rated_fan_kw, 10, 0, 100, 0, "kW",
        "CRAH fan power at 100 % speed, 15 hp motor (§8.2)"),
    LEVER("room.crah_fan_speed_pct", room.crah_fan_speed_pct, 75, CRAH_FAN, "%",
          "CRAH fan speed, legacy fixed (§8.2); >= crah_min_speed_pct"),
    LEVER("room.crah_min_speed_pct", room.crah_min_speed_pct, 30, CRAH_FAN, "%",
          "lowest allowed CRAH fan speed (§3.1)"),
    LEVER("room.supply_setpoint_c", room.supply_setpoint_c, 18, SUPPLY_TEMP, "°C",
          "CRAH supply-air setpoint (§8.2)"),
    DBL("room.coil_approach_k", room.coil_approach_k, 5.6, 0, 20, 0, "K",
        "supply air >= CHW supply + this, 10 °F (§3.1)"),
    DBL("room.coil_tau_s", room.coil_tau_s, 99, 0, 3600, 0, "s",
        "CRAH coil time constant, supply air after a setpoint or chilled-water change: 0.25 s x design CFM / design GPM (Siemens APOGEE PPCL manual) = 25,000 CFM / 63 GPM"),

    INT("server.gpus", server.gpus, 8, 1, 16, "GPUs", "GPUs per server, one TP8 replica (§4)"),
    DBL("server.gpu_idle_w", server.gpu_idle_w, 120, 0, 1500, 0, "W",
        "per GPU, idle with model resident (H100, §4)"),
    DBL("server.gpu_prefill_w", server.gpu_prefill_w, 650, 0, 1500, 0, "W",
        "per GPU in prefill, 0.85-1.0 of 700 W TDP (§4)"),
    DBL("server.gpu_decode_base_w", server.gpu_decode_base_w, 200, 0, 1500, 0, "W",
        "per GPU in decode at batch 0 (§4)"),
    DBL("server.gpu_decode_w_per_seq", server.gpu_decode_w_per_seq, 1.5625, 0, 50, 0, "W/seq",
        "per GPU per decoding sequence: 200 W + k·B reaches the measured decode ceiling of 300 W at B = 64 (Ma et al. 2026, §4)"),
    LEVER("server.gpu_power_cap_w", server.gpu_power_cap_w, SK_GPU_TDP_W, GPU_CAP, "W",
          "per-GPU power cap, a lever; 700 = H100 SXM TDP, binds nowhere. Binds in prefill only: memory-bound decode never reaches a cap (Ma et al. 2026, §4); >= gpu_decode_base_w + gpu_decode_w_per_seq·max_batch"),
    DBL("server.cap_latency_exp", server.cap_latency_exp, 0.176, 0, 2, 0, "",
        "prefill time × (gpu_prefill_w/cap)^this when the cap binds: ln(1.065)/ln(250/175), +6.5 % latency at a 250→175 W cap (Samsi et al. 2023, §4)"),
    DBL("server.host_idle_w", server.host_idle_w, 1200, 0, 10000, 0, "W",
        "CPUs, DRAM, NIC, NVSwitch when idle (§8.1)"),
    DBL("server.host_busy_w", server.host_busy_w, 1900, 0, 10000, 0, "W",
        "same when serving (§8.1); >= host_idle_w"),
    DBL("server.fan_base_w", server.fan_base_w, 450, 0, 5000, 0, "W",
        "server fans at or below the knee (§8.1)"),
    DBL("server.fan_knee_c", server.fan_knee_c, 25, 10, 45, 0, "°C",
        "inlet where fan power starts rising (Coroamă 2025/GRC, §1.2)"),
    DBL("server.fan_slope_pct_per_k", server.fan_slope_pct_per_k, 0.4, 0, 10, 0, "%/K",
        "fan power, % of server power per K above the knee (§1.2)"),
    DBL("server.fan_steep_c", server.fan_steep_c, 32, 10, 50, 0, "°C",
        "inlet above which the steep slope applies (§1.2); >= fan_knee_c"),
    DBL("server.fan_steep_pct_per_k", server.fan_steep_pct_per_k, 1.5, 0, 20, 0, "%/K",
        "fan power, % of server power per K above fan_steep_c (§1.2)"),
    DBL("server.psu_eff", server.psu_eff, 0.94, 0, 1, LO_OPEN, "", "PSU efficiency (§8.1)"),
    DBL("server.airflow_m3s", server.airflow_m3s, 0.38, 0, 5, LO_OPEN, "m³/s",
        "air through one server: 12 K rise at 5.5 kW = 5500/(1206·12)"),
    DBL("server.heat_capacity_j_per_k", server.heat_capacity_j_per_k, 80000, 0, 1e7, LO_OPEN, "J/K",
        "lumped thermal capacitance of one server (§8.1)"),
    DBL("server.gpu_r_th_k_per_w", server.gpu_r_th_k_per_w, 0.074, 0, 1, 0, "K/W",
        "GPU temperature rise over inlet per GPU watt (estimate)"),
    DBL("server.gpu_throttle_c", server.gpu_throttle_c, 87, 40, 120, 0, "°C",
        "GPU temperature where clocks drop (§4: 85-90 °C)"),
    DBL("server.throttle_pct_per_k", server.throttle_pct_per_k, 3, 0, 100, 0, "%/K",
        "slowdown per K above gpu_throttle_c (estimate)"),
    INT("server.max_batch", server.max_batch, 64, 1, 1024, "seqs",
        "max sequences decoding at once (perf data max batch)"),
    LEVER("server.batch_window_ms", server.batch_window_ms, 10, BATCH_WINDOW, "ms",
          "how long a request may wait for others before prefill"),
    INT("server.max_prefill_tokens", server.max_prefill_tokens, 8192, 1, 1048576, "tokens",
        "max prompt tokens in one prefill iteration"),
    INT("server.kv_cache_blocks", kv_cache_blocks, 2611, 1, 1 << 24, "blocks",
        "each server's KV cache, 512-token blocks: (0.9 x 8 x 80 GB - 138 GB of Llama-2-70B "
        "weights) / 320 KiB per token (docs/MODEL.md)"),

    /* prefill_ms(N) = max(floor, a + b*N): the fitted a is negative (the line meets the
     * floor at ~850 tokens), so a's range reaches below 0; the floor keeps the time >= 0. */
    DBL("perf.prefill_a_ms", perf.prefill_a_ms, SK_PERF_DEFAULT_PREFILL_A_MS, -10000, 10000, 0,
        "ms", "prefill time, linear part at 0 tokens (perf fit, docs/MODEL.md)"),
    DBL("perf.prefill_b_ms_per_tok", perf.prefill_b_ms_per_tok,
        SK_PERF_DEFAULT_PREFILL_B_MS_PER_TOK, 0, 100, 0, "ms/token",
        "prefill time per prompt token above the floor (perf fit)"),
    DBL("perf.prefill_floor_ms", perf.prefill_floor_ms, SK_PERF_DEFAULT_PREFILL_FLOOR_MS, 0, 10000,
        0, "ms", "prefill time floor for short prompts (perf fit)"),
    DBL("perf.step_a_ms", perf.step_a_ms, SK_PERF_DEFAULT_STEP_A_MS, 0, 10000, LO_OPEN, "ms",
        "decode step time at batch 0 (perf fit)"),
    DBL("perf.step_b_ms_per_seq", perf.step_b_ms_per_seq, SK_PERF_DEFAULT_STEP_B_MS_PER_SEQ, 0,
        1000, 0, "ms/seq", "decode step time per decoding sequence (perf fit)"),

    STR("workload.trace_csv", trace_csv, "",
        "trace to replay (Azure 2023/2024 CSV, Mooncake JSONL, BurstGPT CSV); \"\" = Poisson "
        "arrivals"),
    {"workload.trace_format", NULL, KT_ENUM, FLD(trace_format), 0, "auto", trace_format_names, 0, 0,
     0, "", "format of workload.trace_csv: auto (sniffed), azure, mooncake or burstgpt", 0},
    {"workload.prefix_cache", NULL, KT_ENUM, FLD(prefix_cache), 1, "on", prefix_cache_names, 0,
     0, 0, "",
     "KV prefix reuse where the trace has hash_ids (Mooncake): off; on = each server caches "
     "prefixes, a hit skips that part of prefill; route = also route to the server holding "
     "the longest prefix among those nearly as free as the usual pick (docs/MODEL.md)",
     0},
    DBL("workload.rate_prompts_s", workload.rate_prompts_s, 216, 0, 1e6, 0, "prompts/s",
        "room mean arrival rate: 72 servers × 3.0/s, ~86 % of a server's measured capacity (docs/MODEL.md)"),
    DBL("workload.rate_scale", workload.rate_scale, 1, 0, 1000, LO_OPEN, "",
        "multiplies every arrival rate and the trace's speed"),
    DBL("workload.diurnal_amplitude", workload.diurnal_amplitude, 0.1, 0, 0.9, 0, "",
        "daily swing of the rate, ±10 %: the peak stays under server capacity (docs/MODEL.md)"),
    DBL("workload.peak_hour", workload.peak_hour, 14, 0, 24, HI_OPEN, "h",
        "hour of day of the peak rate"),
    DBL("workload.prompt_tokens_mean", workload.prompt_tokens_mean, 500, 1, 1e6, 0, "tokens",
        "prompt length mean (§8.3)"),
    DBL("workload.prompt_tokens_sd", workload.prompt_tokens_sd, 250, 0, 1e6, 0, "tokens",
        "prompt length standard deviation (§8.3)"),
    DBL("workload.output_tokens_mean", workload.output_tokens_mean, 300, 1, 1e6, 0, "tokens",
        "output length mean (§8.3)"),
    DBL("workload.output_tokens_sd", workload.output_tokens_sd, 150, 0, 1e6, 0, "tokens",
        "output length standard deviation (§8.3)"),
    INT("workload.max_tokens", workload.max_tokens, 8192, 1, 1048576, "tokens",
        "cap on prompt and on output tokens"),

    LEVER("plant.chw_supply_c", plant.chw_supply_c, 7, CHW_TEMP, "°C",
          "chilled-water supply setpoint (AHRI 550/590, §8.2)"),
    DBL("plant.chw_design_dt_k", plant.chw_design_dt_k, 6, 0, 20, LO_OPEN, "K",
        "CHW ΔT at design flow and load (§8.2)"),
    DBL("plant.chiller_capacity_kw", plant.chiller_capacity_kw, 600, 0, 1e5, LO_OPEN, "kW",
        "refrigeration per chiller at reference conditions (§8.2)"),
    INT("plant.n_chillers", plant.n_chillers, 2, 1, 16, "chillers", "chillers, staged (§8.2)"),
    DBL("plant.chiller_cop_ref", plant.chiller_cop_ref, 5.5, 1, 15, 0, "",
        "COP at 6.67 °C CHW / 29.4 °C CW, DOE-2 centrifugal (§3.2)"),
    DBL("plant.chiller_min_plr", plant.chiller_min_plr, 0.1, 0, 1, HI_OPEN, "",
        "part load below which the chiller cycles (§8.2)"),
    DBL("plant.tower_approach_k", plant.tower_approach_k, 4, 0, 15, 0, "K",
        "condenser water entering = wet bulb + this (§8.2)"),
    DBL("plant.condenser_min_c", plant.condenser_min_c, 24, 5, 40, 0, "°C",
        "floor of condenser water entering (§8.2)"),
    DBL("plant.tower_rated_kw", plant.tower_rated_kw, 7, 0, 1e4, 0, "kW",
        "cooling-tower fans at design heat rejection (§8.2)"),
    DBL("plant.pump_rated_kw", plant.pump_rated_kw, 16, 0, 1e4, 0, "kW",
        "CHW + CW pumps at 100 % speed (§8.2)"),
    LEVER("plant.pump_speed_pct", plant.pump_speed_pct, 100, PUMP_SPEED, "%",
          "pump speed, constant-speed baseline (§8.2); >= pump_min_speed_pct"),
    LEVER("plant.pump_min_speed_pct", plant.pump_min_speed_pct, 30, PUMP_SPEED, "%",
          "lowest allowed pump speed"),
    DBL("plant.design_load_kw", plant.design_load_kw, 600, 0, 1e5, LO_OPEN, "kW",
        "plant design heat load, sets pump design flow"),
    DBL("plant.ups_eff", plant.ups_eff, 0.95, 0, 1, LO_OPEN, "", "UPS efficiency (§8.2)"),
    DBL("plant.pdu_loss_frac", plant.pdu_loss_frac, 0.015, 0, 0.5, 0, "",
        "PDU/distribution loss, fraction of IT power (§8.2)"),
    DBL("plant.misc_kw", plant.misc_kw, 5, 0, 1e4, 0, "kW", "lighting and misc (§8.2)"),
    DBL("plant.losses_in_room_frac", plant.losses_in_room_frac, 1, 0, 1, 0, "",
        "share of UPS/PDU losses heating the room, to the chilled water (EnergyPlus ITE)"),
    DBL("plant.chw_loop_m3", plant.chw_loop_m3, 12.9, 0, 1e5, LO_OPEN, "m³",
        "chilled-water loop volume, 10 US gal per ton of chillers (process rule)"),
    DBL("plant.wetbulb_mean_c", plant.wetbulb_mean_c, 20, -30, 40, 0, "°C",
        "outdoor wet bulb, daily mean"),
    DBL("plant.wetbulb_amplitude_k", plant.wetbulb_amplitude_k, 4, 0, 20, 0, "K",
        "outdoor wet bulb, half the daily swing"),
    DBL("plant.wetbulb_peak_hour", plant.wetbulb_peak_hour, 15, 0, 24, HI_OPEN, "h",
        "hour of day of the warmest wet bulb"),

    LIVE_ENV_DBL("settings.sla_latency_ms", "SLA_LATENCY_MS", settings.sla_latency_ms, 250, 0,
                 60000, LO_OPEN, "ms", "p95 time-to-first-token limit (seed)", TW | CT),
    LIVE_ENV_DBL("settings.inlet_max_c", "INLET_MAX_C", settings.inlet_max_c, 28.0, 15, 45, 0,
                 "°C", "rack inlet limit (seed)", TW | CT),
    ENV_DBL("settings.rack_kw_cap", "RACK_KW_CAP", settings.rack_kw_cap, 12.0, 0, 100, LO_OPEN,
            "kW", "rack power cap (seed)"),
    ENV_DBL("settings.ims_tau_fast_percentile", "IMS_TAU_FAST_PERCENTILE",
            settings.ims_tau_fast_percentile, 95, 0, 100, LO_OPEN, "%",
            "IMS τ_fast, percentile of training deviations (seed)"),
    ENV_DBL("settings.ims_tau_persist_percentile", "IMS_TAU_PERSIST_PERCENTILE",
            settings.ims_tau_persist_percentile, 98, 0, 100, LO_OPEN, "%",
            "IMS τ_persist (seed); >= the fast percentile"),
    ENV_DBL("settings.mms_ema_alpha", "MMS_EMA_ALPHA", settings.mms_ema_alpha, 0.3, 0, 1, LO_OPEN,
            "", "MMS moving-average weight of the newest deviation (seed)"),
    ENV_INT("settings.mms_persist_ticks", "MMS_PERSIST_TICKS", settings.mms_persist_ticks, 6, 1,
            1000, "ticks", "MMS ticks above τ_persist before persistent (seed)"),
    ENV_DBL("settings.fast_loop_interval_s", "FAST_LOOP_INTERVAL_S", settings.fast_loop_interval_s,
            10, 0.1, 3600, 0, "s", "guardrail loop period (seed)"),
    LIVE_ENV_DBL("settings.slow_loop_interval_s", "SLOW_LOOP_INTERVAL_S",
                 settings.slow_loop_interval_s, 120, 1, 86400, 0, "s",
                 "optimizer loop period (seed)", CT),
    LIVE_ENV_DBL("settings.write_rate_limit_s", "WRITE_RATE_LIMIT_S", settings.write_rate_limit_s,
                 120, 0, 86400, 0, "s", "min time between setpoint writes per device (seed)", CT),
    {"settings.default_mode", "DEFAULT_MODE", KT_ENUM, FLD(settings.default_mode_closed_loop), 0,
     "advisory", mode_names, 0, 0, 0, "", "optimizer mode at start (seed)", 0},
    {"settings.global_kill_switch", "GLOBAL_KILL_SWITCH", KT_BOOL, FLD(settings.global_kill_switch),
     0, NULL, NULL, 0, 1, 0, "", "stops every automatic action (seed)", CT},

    DBL("control.horizon_s", control.horizon_s, 120, 10, 3600, 0, "s",
        "what-if fork horizon for each optimizer candidate"),
    LIVE_DBL("control.min_saving_pct", control.min_saving_pct, 0.2, 0, 100, 0, "%",
             "smallest predicted Wh/prompt saving worth acting on", CT),
    LIVE_DBL("control.min_move_saving_pct", control.min_move_saving_pct, 0.05, 0, 100, 0, "%",
             "smallest predicted saving of one move that may join a combined move", CT),
    LEVER("control.supply_max_c", control.supply_max_c, 25, SUPPLY_TEMP, "°C",
          "highest supply setpoint a chilled-water reset may lift a row to (physics §8.2: 18-25)"),
    LIVE_DBL("control.max_inlet_c", control.max_inlet_c, 26.5, 10, 45, 0, "°C",
             "the optimizer may not raise a forecast inlet above this: ASHRAE's recommended 27 °C "
             "(§2) less 0.5 K for what a 120 s forecast misses",
             CT),
    LIVE_DBL("control.spare_servers", control.spare_servers, 2, 0, 16, 0, "servers",
             "airflow margin: the optimizer may not leave a rack unable to take this many more "
             "servers (the seed's add_ai_nodes adds 2) without an inlet mixing past ASHRAE's "
             "recommended 27 °C before the fast loop answers; 0 = no margin",
             CT),
    LIVE_DBL("control.rollback_worse_pct", control.rollback_worse_pct, 0.1, 0, 100, 0, "%",
             "roll an action back when its realized saving is below minus this", CT),
    LIVE_DBL("control.max_p95_increase_pct", control.max_p95_increase_pct, 5, 0, 1000, 0, "%",
             "latency budget: the forecast TTFT p95 rises of all applied moves together stay within this",
             CT),
    {"control.gpu_cap_lever", NULL, KT_BOOL, FLD(control.gpu_cap_lever), 0, NULL, NULL, 0, 1, 0, "",
     "let the optimizer lower the GPU power cap: saves energy, spends latency (docs/CONTROL.md)",
     CT},
    DBL("control.ims_warmup_s", control.ims_warmup_s, 1800, 60, 86400, 0, "s",
        "nominal warm-up at the start of a run that the IMS trains on"),
    INT("control.ims_clusters", control.ims_clusters, 8, 1, 64, "clusters",
        "IMS k-means clusters (seed: --n-clusters 8)"),
    {"control.test_force_harmful", NULL, KT_BOOL, FLD(control.test_force_harmful), 0, NULL, NULL,
     0, 1, 0, "", "test hook: the optimizer applies its worst candidate (to test rollback)", 0},
};

#undef TW
#undef CT

#define N_SETTINGS (sizeof table / sizeof table[0])

/* The timeline's numeric fields; "name", "effect", "racks" and "row" are handled in code.
 * Ranges here are the only ones (the parser and sk_scenario_validate both use them). */
enum {
  K_ADD = 1u << SK_EFFECT_ADD_AI_NODES,
  K_CRAH = 1u << SK_EFFECT_CRAH_OVERRIDE,
  K_LOAD = 1u << SK_EFFECT_LOAD_SCALE,
  K_SPIKE = 1u << SK_EFFECT_SENSOR_SPIKE,
  K_ALL = K_ADD | K_CRAH | K_LOAD | K_SPIKE
};

typedef struct {
  const char *name;
  unsigned kinds; /* K_* the field belongs to */
  key_type type;  /* KT_DOUBLE or KT_INT */
  size_t offset;  /* into sk_effect */
  double min, max;
  int required; /* 0: optional (default set in effect_init) */
  const char *unit;
} effect_field;

#define EOFF(f) offsetof(sk_effect, f)
static const effect_field effect_fields[] = {
    {"start_s", K_ALL, KT_DOUBLE, EOFF(start_s), 0, MAX_DURATION_S, 1, "s"},
    {"stop_s", K_ALL, KT_DOUBLE, EOFF(stop_s), 0, MAX_DURATION_S, 0, "s"},
    {"nodes_per_rack", K_ADD, KT_INT, EOFF(nodes_per_rack), 1, 4, 0, "servers"},
    {"rate_prompts_s_per_node", K_ADD, KT_DOUBLE, EOFF(rate_prompts_s_per_node), 0, 50, 1,
     "prompts/s"},
    {"fan_speed_pct", K_CRAH, KT_DOUBLE, EOFF(fan_speed_pct), SK_LEVER_MIN(CRAH_FAN),
     SK_LEVER_MAX(CRAH_FAN), 0, "%"},
    {"supply_setpoint_c", K_CRAH, KT_DOUBLE, EOFF(supply_setpoint_c), SK_LEVER_MIN(SUPPLY_TEMP),
     SK_LEVER_MAX(SUPPLY_TEMP), 0, "°C"},
    {"factor", K_LOAD, KT_DOUBLE, EOFF(factor), 0.01, 10, 1, ""},
    {"inlet_offset_k", K_SPIKE, KT_DOUBLE, EOFF(inlet_offset_k), -20, 20, 1, "K"},
};
#define N_EFFECT_FIELDS (sizeof effect_fields / sizeof effect_fields[0])

static const char *const effect_names[SK_EFFECT_KIND_COUNT] = {
    "add_ai_nodes", "crah_override", "load_scale", "sensor_spike"};

/* ------------------------------------------------------------------------------------ */
/* Small helpers                                                                        */


static void *field_at(sk_scenario *sc, const setting *s) {
  return (char *)sc + s->offset;
}
static const void *cfield_at(const sk_scenario *sc, const setting *s) {
  return (const char *)sc + s->offset;
}

static const setting *find_key(const char *key) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (strcmp(table[i].key, key) == 0)
      return &table[i];
  return NULL;
}

static const setting *find_env(const char *name) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (table[i].env != NULL && strcmp(table[i].env, name) == 0)
      return &table[i];
  return NULL;
}

static size_t index_of(const setting *s) {
  return (size_t)(s - table);
}

/* Is `name` a group of keys ("room", "settings")? */
static int is_group(const char *name) {
  size_t nl = strlen(name);
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (strncmp(table[i].key, name, nl) == 0 && table[i].key[nl] == '.')
      return 1;
  return 0;
}

/* Case-insensitive edit distance, capped inputs (keys are short). */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63)
    return 64;
  size_t row[64];
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
      size_t best = diag + (same ? 0 : 1);
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

static void consider(const char *word, const char *cand, const char *answer, size_t *best_d,
                     const char **best) {
  size_t d = edit_distance(word, cand);
  if (d < *best_d) {
    *best_d = d;
    *best = answer;
  }
}

/* The closest key (or group prefix) to `word`, or NULL if nothing is close.  Env names
 * count as spellings of their dotted key. */
static const char *suggest(const char *word) {
  static const char *const groups[] = {"room",  "server",   "perf",    "workload",
                                       "plant", "settings", "timeline"};
  size_t best_d = SIZE_MAX;
  const char *best = NULL;
  for (size_t i = 0; i < N_SETTINGS; i++) {
    consider(word, table[i].key, table[i].key, &best_d, &best);
    const char *dot = strchr(table[i].key, '.');
    if (dot != NULL)
      consider(word, dot + 1, table[i].key, &best_d, &best); /* group forgotten */
    if (table[i].env != NULL)
      consider(word, table[i].env, table[i].key, &best_d, &best);
  }
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
    consider(word, groups[i], groups[i], &best_d, &best);
  size_t len = strlen(word);
  size_t limit = len / 3 > 2 ? len / 3 : 2;
  return best_d <= limit ? best : NULL;
}

static void unknown_reason(const char *word, char *reason, size_t rlen) {
  const char *s = suggest(word);
  if (s != NULL)
    snprintf(reason, rlen, "unknown field (did you mean \"%s\"?)", s);
  else
    snprintf(reason, rlen, "unknown field (skadi keys lists them all)");
}

/* Shortest text that reads back as the same double. */
static void format_double(double v, char *buf, size_t n) {
  snprintf(buf, n, "%.15g", v);
  if (strtod(buf, NULL) != v)
    snprintf(buf, n, "%.17g", v);
}

static void format_range(double lo, double hi, unsigned open, const char *unit, char *buf,
                         size_t n) {
  char a[32], b[32];
  format_double(lo, a, sizeof a);
  format_double(hi, b, sizeof b);
  snprintf(buf, n, "%c%s, %s%c%s%s", (open & LO_OPEN) ? '(' : '[', a, b,
           (open & HI_OPEN) ? ')' : ']', unit[0] ? " " : "", unit);
}

static int in_range(double v, double lo, double hi, unsigned open) {
  if ((open & LO_OPEN) ? !(v > lo) : !(v >= lo))
    return 0;
  if ((open & HI_OPEN) ? !(v < hi) : !(v <= hi))
    return 0;
  return 1;
}

/* Checks a numeric value for a numeric field: finite, integral if it must be, in range.
 * Writes the reason on failure. */
static sk_status check_number(double v, key_type type, double lo, double hi, unsigned open,
                              const char *unit, char *reason, size_t rlen) {
  char vb[32], rb[96];
  if (!isfinite(v)) {
    snprintf(reason, rlen, "expected a finite number, got %s",
             isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf"));
    return SK_ERANGE;
  }
  format_double(v, vb, sizeof vb);
  if (type != KT_DOUBLE && v != floor(v)) {
    snprintf(reason, rlen, "expected an integer, got %s", vb);
    return SK_EPARSE;
  }
  if (!in_range(v, lo, hi, open)) {
    format_range(lo, hi, open, unit, rb, sizeof rb);
    snprintf(reason, rlen, "%s%s%s is out of range %s", vb, unit[0] ? " " : "", unit, rb);
    return SK_ERANGE;
  }
  return SK_OK;
}

static void store_number(sk_scenario *sc, const setting *s, double v) {
  switch (s->type) {
  case KT_DOUBLE:
    *(double *)field_at(sc, s) = v;
    break;
  case KT_INT:
    *(int *)field_at(sc, s) = (int)v;
    break;
  case KT_SEED:
    *(unsigned long long *)field_at(sc, s) = (unsigned long long)v;
    break;
  default:
    SK_REQUIRE(0 && "not a numeric setting");
  }
}

static double load_number(const sk_scenario *sc, const setting *s) {
  switch (s->type) {
  case KT_DOUBLE:
    return *(const double *)cfield_at(sc, s);
  case KT_INT:
  case KT_BOOL:
  case KT_ENUM:
    return (double)*(const int *)cfield_at(sc, s);
  case KT_SEED:
    return (double)*(const unsigned long long *)cfield_at(sc, s);
  case KT_STRING:
    break;
  }
  SK_REQUIRE(0 && "not a numeric setting");
  return 0;
}

static sk_status store_string(sk_scenario *sc, const setting *s, const char *v, char *reason,
                              size_t rlen) {
  size_t len = strlen(v);
  if (len >= s->size) {
    snprintf(reason, rlen, "too long (%zu bytes, at most %zu)", len, s->size - 1);
    return SK_ERANGE;
  }
  memcpy(field_at(sc, s), v, len + 1);
  return SK_OK;
}

static void enum_list(const setting *s, char *buf, size_t n) {
  buf[0] = '\0';
  for (size_t i = 0; s->names[i] != NULL; i++) {
    size_t used = strlen(buf);
    snprintf(buf + used, n - used, "%s%s", i ? ", " : "", s->names[i]);
  }
}

static sk_status store_enum(sk_scenario *sc, const setting *s, const char *v, char *reason,
                            size_t rlen) {
  for (int i = 0; s->names[i] != NULL; i++) {
    if (strcmp(s->names[i], v) == 0) {
      *(int *)field_at(sc, s) = i;
      return SK_OK;
    }
  }
  char list[128];
  enum_list(s, list, sizeof list);
  snprintf(reason, rlen, "expected one of %s, got \"%s\"", list, v);
  return SK_EPARSE;
}

static const char *type_word(key_type t) {
  switch (t) {
  case KT_DOUBLE:
    return "a number";
  case KT_INT:
  case KT_SEED:
    return "an integer";
  case KT_BOOL:
    return "true or false";
  case KT_STRING:
    return "a string";
  case KT_ENUM:
    return "a string";
  }
  return "?";
}

/* Applies a JSON value to a setting of sc. */
static sk_status set_from_json(sk_scenario *sc, const setting *s, const cJSON *j, char *reason,
                               size_t rlen) {
  switch (s->type) {
  case KT_DOUBLE:
  case KT_INT:
  case KT_SEED: {
    if (!cJSON_IsNumber(j)) {
      snprintf(reason, rlen, "expected %s, got %s", type_word(s->type), sk__json_type_name(j));
      return SK_EPARSE;
    }
    double v = j->valuedouble;
    sk_status st = check_number(v, s->type, s->min, s->max, s->open, s->unit, reason, rlen);
    if (st == SK_OK)
      store_number(sc, s, v);
    return st;
  }
  case KT_BOOL:
    if (!cJSON_IsBool(j)) {
      snprintf(reason, rlen, "expected true or false, got %s", sk__json_type_name(j));
      return SK_EPARSE;
    }
    *(int *)field_at(sc, s) = cJSON_IsTrue(j) ? 1 : 0;
    return SK_OK;
  case KT_STRING:
  case KT_ENUM:
    if (!cJSON_IsString(j)) {
      snprintf(reason, rlen, "expected a string, got %s", sk__json_type_name(j));
      return SK_EPARSE;
    }
    return s->type == KT_STRING ? store_string(sc, s, j->valuestring, reason, rlen)
                                : store_enum(sc, s, j->valuestring, reason, rlen);
  }
  return SK_EINVAL;
}

/* Strict number text: all of it (bar surrounding blanks) must be the number. */
static int parse_number_text(const char *text, double *out) {
  const char *p = text;
  while (isspace((unsigned char)*p))
    p++;
  if (*p == '\0')
    return 0;
  if (strpbrk(p, "xX") != NULL)
    return 0; /* strtod's hex floats ("0x10"): decimal only, as --duration and the CSVs */
  char *end;
  errno = 0;
  double v = strtod(p, &end);
  if (end == p)
    return 0;
  while (isspace((unsigned char)*end))
    end++;
  if (*end != '\0')
    return 0;
  *out = v; /* may be NaN/inf/huge: check_number reports those */
  return 1;
}

/* Applies a text value (--set, environment, .env) to a setting of sc. */
static sk_status set_from_text(sk_scenario *sc, const setting *s, const char *text, char *reason,
                               size_t rlen) {
  switch (s->type) {
  case KT_DOUBLE:
  case KT_INT:
  case KT_SEED: {
    double v;
    if (!parse_number_text(text, &v)) {
      snprintf(reason, rlen, "expected %s, got \"%s\"", type_word(s->type), text);
      return SK_EPARSE;
    }
    sk_status st = check_number(v, s->type, s->min, s->max, s->open, s->unit, reason, rlen);
    if (st == SK_OK)
      store_number(sc, s, v);
    return st;
  }
  case KT_BOOL: {
    int v;
    if (strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0)
      v = 1;
    else if (strcasecmp(text, "false") == 0 || strcmp(text, "0") == 0)
      v = 0;
    else {
      snprintf(reason, rlen, "expected true, false, 1 or 0, got \"%s\"", text);
      return SK_EPARSE;
    }
    *(int *)field_at(sc, s) = v;
    return SK_OK;
  }
  case KT_STRING:
    return store_string(sc, s, text, reason, rlen);
  case KT_ENUM:
    return store_enum(sc, s, text, reason, rlen);
  }
  return SK_EINVAL;
}

/* The value of a setting as text: shortest round-trip numbers, true/false, enum names. */
static void format_value(const sk_scenario *sc, const setting *s, char *buf, size_t n) {
  switch (s->type) {
  case KT_DOUBLE:
    format_double(*(const double *)cfield_at(sc, s), buf, n);
    break;
  case KT_INT:
    snprintf(buf, n, "%d", *(const int *)cfield_at(sc, s));
    break;
  case KT_SEED:
    snprintf(buf, n, "%llu", *(const unsigned long long *)cfield_at(sc, s));
    break;
  case KT_BOOL:
    snprintf(buf, n, "%s", *(const int *)cfield_at(sc, s) ? "true" : "false");
    break;
  case KT_STRING:
    snprintf(buf, n, "%s", (const char *)cfield_at(sc, s));
    break;
  case KT_ENUM: {
    int v = *(const int *)cfield_at(sc, s);
    int count = 0;
    while (s->names[count] != NULL)
      count++;
    snprintf(buf, n, "%s", v >= 0 && v < count ? s->names[v] : "?");
    break;
  }
  }
}

/* Can `path` be opened for reading as a file? */
static int check_readable(const char *path, char *reason, size_t rlen) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(reason, rlen, "cannot read \"%s\": %s", path, strerror(EISDIR));
    return 0;
  }
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(reason, rlen, "cannot open \"%s\": %s", path, strerror(errno));
    return 0;
  }
  fclose(f);
  return 1;
}

/* Reads a whole file (malloc'd, NUL-terminated; caller frees).  On failure returns
 * SK_EIO/SK_ENOMEM/SK_ERANGE with errno-based text in reason. */
static sk_status read_file(const char *path, char **out, size_t *len, char *reason, size_t rlen) {
  char why[160];
  sk_status st = sk__read_file(path, MAX_FILE_BYTES, out, len, NULL, why, sizeof why);
  if (st == SK_EIO) /* whichever step failed */
    snprintf(reason, rlen, "cannot read: %s", why);
  else if (st != SK_OK)
    snprintf(reason, rlen, "%s%s", st == SK_ERANGE ? "file " : "", why);
  return st;
}

/* ------------------------------------------------------------------------------------ */
/* Defaults, racks, effects                                                             */

void sk_scenario_defaults(sk_scenario *sc) {
  SK_REQUIRE(sc != NULL);
  memset(sc, 0, sizeof *sc);
  for (size_t i = 0; i < N_SETTINGS; i++) {
    const setting *s = &table[i];
    switch (s->type) {
    case KT_DOUBLE:
    case KT_INT:
    case KT_SEED:
      store_number(sc, s, s->def);
      break;
    case KT_BOOL:
      *(int *)field_at(sc, s) = s->def != 0;
      break;
    case KT_STRING: {
      char reason[128];
      sk_status st = store_string(sc, s, s->def_str, reason, sizeof reason);
      SK_REQUIRE(st == SK_OK);
      break;
    }
    case KT_ENUM: {
      char reason[128];
      sk_status st = store_enum(sc, s, s->def_str, reason, sizeof reason);
      SK_REQUIRE(st == SK_OK);
      break;
    }
    }
  }
}

const char *sk_effect_kind_name(sk_effect_kind kind) {
  return (kind >= 0 && kind < SK_EFFECT_KIND_COUNT) ? effect_names[kind] : "?";
}

int sk_scenario_rack_index(const sk_scenario *sc, const char *rack_id) {
  SK_REQUIRE(sc != NULL);
  if (rack_id == NULL || strlen(rack_id) != 6 || rack_id[0] != 'R' || rack_id[1] != '-' ||
      rack_id[3] != '-' || !isdigit((unsigned char)rack_id[4]) ||
      !isdigit((unsigned char)rack_id[5]))
    return -1;
  if (rack_id[2] < 'A' || rack_id[2] > 'Z')
    return -1;
  int row = rack_id[2] - 'A';
  int pos = (rack_id[4] - '0') * 10 + (rack_id[5] - '0') - 1;
  if (row >= sc->n_rows || pos < 0 || pos >= sc->racks_per_row)
    return -1;
  return row * sc->racks_per_row + pos;
}

void sk_scenario_rack_id(const sk_scenario *sc, int rack_index, char out[8]) {
  SK_REQUIRE(sc != NULL && sc->racks_per_row > 0);
  SK_REQUIRE(rack_index >= 0 && rack_index < sc->n_rows * sc->racks_per_row);
  int row = rack_index / sc->racks_per_row, pos = rack_index % sc->racks_per_row;
  /* Built by hand: nn is at most 64 (SK_MAX_RACKS_PER_ROW), always two digits. */
  out[0] = 'R';
  out[1] = '-';
  out[2] = (char)('A' + row);
  out[3] = '-';
  out[4] = (char)('0' + (pos + 1) / 10);
  out[5] = (char)('0' + (pos + 1) % 10);
  out[6] = '\0';
}

/* After the room layout changes, the effects' rack indices follow their ids (-1 when an
 * id no longer exists; sk_scenario_validate reports it). */
static void resolve_racks(sk_scenario *sc) {
  for (int i = 0; i < sc->n_effects; i++) {
    sk_effect *e = &sc->effects[i];
    for (int r = 0; r < e->n_racks; r++)
      if (e->rack_id[r][0] != '\0')
        e->rack_index[r] = sk_scenario_rack_index(sc, e->rack_id[r]);
  }
}

static void effect_init(sk_effect *e) {
  memset(e, 0, sizeof *e);
  e->stop_s = INFINITY;
  e->nodes_per_rack = 1;
  e->row = -1;
  e->fan_speed_pct = NAN;
  e->supply_setpoint_c = NAN;
  e->factor = 1.0;
}

static double effect_get(const sk_effect *e, const effect_field *f) {
  const char *p = (const char *)e + f->offset;
  return f->type == KT_INT ? (double)*(const int *)p : *(const double *)p;
}

static void effect_put(sk_effect *e, const effect_field *f, double v) {
  char *p = (char *)e + f->offset;
  if (f->type == KT_INT)
    *(int *)p = (int)v;
  else
    *(double *)p = v;
}

static const effect_field *find_effect_field(const char *name) {
  for (size_t i = 0; i < N_EFFECT_FIELDS; i++)
    if (strcmp(effect_fields[i].name, name) == 0)
      return &effect_fields[i];
  return NULL;
}

/* "row", "racks" etc. of kind k, for messages. */
static void effect_field_list(sk_effect_kind k, char *buf, size_t n) {
  buf[0] = '\0';
  const char *extra = k == SK_EFFECT_ADD_AI_NODES || k == SK_EFFECT_SENSOR_SPIKE ? "racks"
                      : k == SK_EFFECT_CRAH_OVERRIDE ? "row"
                                                     : NULL;
  if (extra != NULL)
    snprintf(buf, n, "%s", extra);
  for (size_t i = 0; i < N_EFFECT_FIELDS; i++) {
    if (effect_fields[i].kinds == K_ALL || !(effect_fields[i].kinds & (1u << k)))
      continue;
    size_t used = strlen(buf);
    snprintf(buf + used, n - used, "%s%s", used ? ", " : "", effect_fields[i].name);
  }
}

/* The checks on one effect that need the rest of the scenario, and every range (the
 * effect may have been built in code rather than parsed).  `where` prefixes messages. */
static sk_status check_effect(const sk_scenario *sc, int i, const char *where, char *err,
                              size_t errlen) {
  const sk_effect *e = &sc->effects[i];
  char reason[256];
  if (e->kind < 0 || e->kind >= SK_EFFECT_KIND_COUNT) {
    sk_errf(err, errlen, "%s: timeline[%d].effect: unknown effect kind %d", where, i, (int)e->kind);
    return SK_EPARSE;
  }
  if (e->name[0] == '\0') {
    sk_errf(err, errlen, "%s: timeline[%d].name: must not be empty", where, i);
    return SK_EPARSE;
  }
  for (int j = 0; j < i; j++) {
    if (strcmp(sc->effects[j].name, e->name) == 0) {
      sk_errf(err, errlen, "%s: timeline[%d].name: \"%s\" is already the name of timeline[%d]",
             where, i, e->name, j);
      return SK_EPARSE;
    }
  }
  for (size_t k = 0; k < N_EFFECT_FIELDS; k++) {
    const effect_field *f = &effect_fields[k];
    if (!(f->kinds & (1u << e->kind)))
      continue;
    double v = effect_get(e, f);
    if (!f->required && isnan(v))
      continue; /* optional, unset */
    if (isinf(v) && v > 0 && f->offset == EOFF(stop_s))
      continue; /* until the end */
    sk_status st = check_number(v, f->type, f->min, f->max, 0, f->unit, reason, sizeof reason);
    if (st != SK_OK) {
      sk_errf(err, errlen, "%s: timeline[%d].%s: %s", where, i, f->name, reason);
      return st;
    }
  }
  char sb[32], tb[32];
  format_double(e->start_s, sb, sizeof sb);
  if (!(e->stop_s > e->start_s)) {
    format_double(e->stop_s, tb, sizeof tb);
    sk_errf(err, errlen, "%s: timeline[%d].stop_s: %s s is not after start_s (%s s)", where, i, tb,
           sb);
    return SK_ERANGE;
  }
  if (e->start_s >= sc->duration_s) {
    format_double(sc->duration_s, tb, sizeof tb);
    sk_errf(err, errlen,
           "%s: timeline[%d].start_s: %s s is at or after the end of the run (duration_s %s s)",
           where, i, sb, tb);
    return SK_ERANGE;
  }
  switch (e->kind) {
  case SK_EFFECT_ADD_AI_NODES:
  case SK_EFFECT_SENSOR_SPIKE:
    if (e->n_racks < 1 || e->n_racks > SK_MAX_EFFECT_RACKS) {
      sk_errf(err, errlen, "%s: timeline[%d].racks: needs 1 to %d racks, got %d", where, i,
             SK_MAX_EFFECT_RACKS, e->n_racks);
      return SK_ERANGE;
    }
    for (int r = 0; r < e->n_racks; r++) {
      int n = sc->n_rows * sc->racks_per_row;
      char first[8], last[8];
      sk_scenario_rack_id(sc, 0, first);
      sk_scenario_rack_id(sc, n - 1, last);
      if (e->rack_id[r][0] != '\0') {
        int idx = sk_scenario_rack_index(sc, e->rack_id[r]);
        if (idx < 0) {
          sk_errf(err, errlen,
                 "%s: timeline[%d].racks[%d]: unknown rack \"%s\" (racks are %s .. %s)", where, i,
                 r, e->rack_id[r], first, last);
          return SK_ENOTFOUND;
        }
        if (idx != e->rack_index[r]) {
          sk_errf(err, errlen,
                 "%s: timeline[%d].racks[%d]: index %d does not match rack \"%s\" (the layout "
                 "changed after loading without sk_scenario_set)",
                 where, i, r, e->rack_index[r], e->rack_id[r]);
          return SK_EINVAL;
        }
      }
      if (e->rack_index[r] < 0 || e->rack_index[r] >= n) {
        sk_errf(err, errlen, "%s: timeline[%d].racks[%d]: rack index %d is not in the room (0..%d)",
               where, i, r, e->rack_index[r], n - 1);
        return SK_ENOTFOUND;
      }
      for (int q = 0; q < r; q++) {
        if (e->rack_index[q] == e->rack_index[r]) {
          char id[8];
          sk_scenario_rack_id(sc, e->rack_index[r], id);
          sk_errf(err, errlen, "%s: timeline[%d].racks[%d]: rack %s is listed twice", where, i, r,
                 id);
          return SK_EPARSE;
        }
      }
    }
    break;
  case SK_EFFECT_CRAH_OVERRIDE:
    if (e->row < 0 || e->row >= sc->n_rows) {
      sk_errf(err, errlen, "%s: timeline[%d].row: row %c is not in the room (rows A..%c)", where, i,
             e->row >= 0 && e->row < 26 ? 'A' + e->row : '?', 'A' + sc->n_rows - 1);
      return SK_ENOTFOUND;
    }
    if (isnan(e->fan_speed_pct) && isnan(e->supply_setpoint_c)) {
      sk_errf(err, errlen,
             "%s: timeline[%d]: crah_override needs fan_speed_pct or supply_setpoint_c", where, i);
      return SK_EPARSE;
    }
    if (!isnan(e->fan_speed_pct) && e->fan_speed_pct < sc->room.crah_min_speed_pct) {
      format_double(e->fan_speed_pct, sb, sizeof sb);
      format_double(sc->room.crah_min_speed_pct, tb, sizeof tb);
      sk_errf(err, errlen,
             "%s: timeline[%d].fan_speed_pct: %s %% is below room.crah_min_speed_pct (%s %%)",
             where, i, sb, tb);
      return SK_ERANGE;
    }
    break;
  case SK_EFFECT_LOAD_SCALE:
  case SK_EFFECT_KIND_COUNT:
    break;
  }
  return SK_OK;
}

/* ------------------------------------------------------------------------------------ */
/* JSON                                                                                 */

/* Applies every key of a JSON object (recursing into groups) to sc. */
static sk_status apply_object(sk_scenario *sc, const cJSON *obj, const char *prefix,
                              const char *origin, unsigned char *seen, char *err, size_t errlen) {
  char name[160], reason[256];
  for (const cJSON *c = obj->child; c != NULL; c = c->next) {
    if (prefix[0] == '\0' && strcmp(c->string, "timeline") == 0)
      continue; /* parsed on its own */
    snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "." : "", c->string);
    const setting *s = find_key(name);
    if (s != NULL) {
      if (seen[index_of(s)]) {
        sk_errf(err, errlen, "%s: %s: given twice", origin, name);
        return SK_EPARSE;
      }
      seen[index_of(s)] = 1;
      sk_status st = set_from_json(sc, s, c, reason, sizeof reason);
      if (st != SK_OK) {
        sk_errf(err, errlen, "%s: %s: %s", origin, name, reason);
        return st;
      }
      continue;
    }
    if (is_group(name)) {
      if (!cJSON_IsObject(c)) {
        sk_errf(err, errlen, "%s: %s: expected an object, got %s", origin, name,
                sk__json_type_name(c));
        return SK_EPARSE;
      }
      sk_status st = apply_object(sc, c, name, origin, seen, err, errlen);
      if (st != SK_OK)
        return st;
      continue;
    }
    unknown_reason(name, reason, sizeof reason);
    sk_errf(err, errlen, "%s: %s: %s", origin, name, reason);
    return SK_ENOTFOUND;
  }
  return SK_OK;
}

static sk_status parse_effect(sk_scenario *sc, const cJSON *j, int i, const char *origin, char *err,
                              size_t errlen) {
  sk_effect *e = &sc->effects[i];
  char reason[256], list[128];
  effect_init(e);
  if (!cJSON_IsObject(j)) {
    sk_errf(err, errlen, "%s: timeline[%d]: expected an object, got %s", origin, i,
            sk__json_type_name(j));
    return SK_EPARSE;
  }
  /* Kind first: it decides which fields belong. */
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "effect");
  if (kind == NULL) {
    sk_errf(err, errlen, "%s: timeline[%d].effect: missing required field", origin, i);
    return SK_EPARSE;
  }
  if (!cJSON_IsString(kind)) {
    sk_errf(err, errlen, "%s: timeline[%d].effect: expected a string, got %s", origin, i,
            sk__json_type_name(kind));
    return SK_EPARSE;
  }
  int k = -1;
  for (int q = 0; q < SK_EFFECT_KIND_COUNT; q++)
    if (strcmp(kind->valuestring, effect_names[q]) == 0)
      k = q;
  if (k < 0) {
    sk_errf(err, errlen,
           "%s: timeline[%d].effect: unknown effect \"%s\" (expected add_ai_nodes, "
           "crah_override, load_scale or sensor_spike)",
           origin, i, kind->valuestring);
    return SK_EPARSE;
  }
  e->kind = (sk_effect_kind)k;
  effect_field_list(e->kind, list, sizeof list);

  /* Every field present must belong to the kind, once. */
  for (const cJSON *c = j->child; c != NULL; c = c->next) {
    if (sk__json_key_repeated(j, c)) {
      sk_errf(err, errlen, "%s: timeline[%d].%s: given twice", origin, i, c->string);
      return SK_EPARSE;
    }
    const effect_field *f = find_effect_field(c->string);
    int belongs, known = f != NULL;
    if (f != NULL) {
      belongs = (f->kinds & (1u << k)) != 0;
    } else if (strcmp(c->string, "name") == 0 || strcmp(c->string, "effect") == 0) {
      belongs = known = 1;
    } else if (strcmp(c->string, "racks") == 0) {
      known = 1;
      belongs = k == SK_EFFECT_ADD_AI_NODES || k == SK_EFFECT_SENSOR_SPIKE;
    } else if (strcmp(c->string, "row") == 0) {
      known = 1;
      belongs = k == SK_EFFECT_CRAH_OVERRIDE;
    } else {
      belongs = 0;
    }
    if (!known) {
      sk_errf(err, errlen,
             "%s: timeline[%d].%s: unknown field (fields: name, effect, start_s, "
             "stop_s, %s)",
             origin, i, c->string, list);
      return SK_ENOTFOUND;
    }
    if (!belongs) {
      sk_errf(err, errlen, "%s: timeline[%d].%s: not a field of effect %s (its own: %s)", origin, i,
             c->string, effect_names[k], list);
      return SK_EPARSE;
    }
  }

  /* Where first (an unknown rack is the likelier mistake), then what and when. */
  if (k == SK_EFFECT_ADD_AI_NODES || k == SK_EFFECT_SENSOR_SPIKE) {
    const cJSON *racks = cJSON_GetObjectItemCaseSensitive(j, "racks");
    if (racks == NULL) {
      sk_errf(err, errlen, "%s: timeline[%d].racks: missing required field", origin, i);
      return SK_EPARSE;
    }
    if (!cJSON_IsArray(racks)) {
      sk_errf(err, errlen, "%s: timeline[%d].racks: expected an array of rack ids, got %s", origin,
              i, sk__json_type_name(racks));
      return SK_EPARSE;
    }
    int n = cJSON_GetArraySize(racks);
    if (n < 1 || n > SK_MAX_EFFECT_RACKS) {
      sk_errf(err, errlen, "%s: timeline[%d].racks: needs 1 to %d racks, got %d", origin, i,
             SK_MAX_EFFECT_RACKS, n);
      return SK_ERANGE;
    }
    int r = 0;
    for (const cJSON *c = racks->child; c != NULL; c = c->next, r++) {
      if (!cJSON_IsString(c)) {
        sk_errf(err, errlen,
                "%s: timeline[%d].racks[%d]: expected a rack id like \"R-C-07\", "
                "got %s",
                origin, i, r, sk__json_type_name(c));
        return SK_EPARSE;
      }
      int idx = sk_scenario_rack_index(sc, c->valuestring);
      if (idx < 0) {
        char first[8], last[8];
        sk_scenario_rack_id(sc, 0, first);
        sk_scenario_rack_id(sc, sc->n_rows * sc->racks_per_row - 1, last);
        sk_errf(err, errlen, "%s: timeline[%d].racks[%d]: unknown rack \"%s\" (racks are %s .. %s)",
               origin, i, r, c->valuestring, first, last);
        return SK_ENOTFOUND;
      }
      e->rack_index[r] = idx;
      snprintf(e->rack_id[r], sizeof e->rack_id[r], "%s", c->valuestring);
    }
    e->n_racks = n;
  } else if (k == SK_EFFECT_CRAH_OVERRIDE) {
    const cJSON *row = cJSON_GetObjectItemCaseSensitive(j, "row");
    if (row == NULL) {
      sk_errf(err, errlen, "%s: timeline[%d].row: missing required field", origin, i);
      return SK_EPARSE;
    }
    if (!cJSON_IsString(row) || strlen(row->valuestring) != 1 || row->valuestring[0] < 'A' ||
        row->valuestring[0] > 'Z') {
      sk_errf(err, errlen, "%s: timeline[%d].row: expected a row letter like \"E\", got %s", origin,
              i, cJSON_IsString(row) ? row->valuestring : sk__json_type_name(row));
      return SK_EPARSE;
    }
    e->row = row->valuestring[0] - 'A';
    if (e->row >= sc->n_rows) {
      sk_errf(err, errlen, "%s: timeline[%d].row: row %s is not in the room (rows A..%c)", origin, i,
             row->valuestring, 'A' + sc->n_rows - 1);
      return SK_ENOTFOUND;
    }
  }

  const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
  if (name == NULL) {
    sk_errf(err, errlen, "%s: timeline[%d].name: missing required field", origin, i);
    return SK_EPARSE;
  }
  if (!cJSON_IsString(name)) {
    sk_errf(err, errlen, "%s: timeline[%d].name: expected a string, got %s", origin, i,
            sk__json_type_name(name));
    return SK_EPARSE;
  }
  if (name->valuestring[0] == '\0' || strlen(name->valuestring) >= sizeof e->name) {
    sk_errf(err, errlen, "%s: timeline[%d].name: must be 1 to %zu characters", origin, i,
           sizeof e->name - 1);
    return SK_ERANGE;
  }
  snprintf(e->name, sizeof e->name, "%s", name->valuestring);

  for (size_t q = 0; q < N_EFFECT_FIELDS; q++) {
    const effect_field *f = &effect_fields[q];
    if (!(f->kinds & (1u << k)))
      continue;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, f->name);
    if (v == NULL) {
      if (f->required) {
        sk_errf(err, errlen, "%s: timeline[%d].%s: missing required field", origin, i, f->name);
        return SK_EPARSE;
      }
      continue;
    }
    if (!cJSON_IsNumber(v)) {
      sk_errf(err, errlen, "%s: timeline[%d].%s: expected %s, got %s", origin, i, f->name,
              type_word(f->type), sk__json_type_name(v));
      return SK_EPARSE;
    }
    sk_status st =
        check_number(v->valuedouble, f->type, f->min, f->max, 0, f->unit, reason, sizeof reason);
    if (st != SK_OK) {
      sk_errf(err, errlen, "%s: timeline[%d].%s: %s", origin, i, f->name, reason);
      return st;
    }
    effect_put(e, f, v->valuedouble);
  }
  if (!(e->stop_s > e->start_s)) {
    char a[32], b[32];
    format_double(e->stop_s, a, sizeof a);
    format_double(e->start_s, b, sizeof b);
    sk_errf(err, errlen, "%s: timeline[%d].stop_s: %s s is not after start_s (%s s)", origin, i, a,
           b);
    return SK_ERANGE;
  }

  if (k == SK_EFFECT_CRAH_OVERRIDE && isnan(e->fan_speed_pct) && isnan(e->supply_setpoint_c)) {
    sk_errf(err, errlen, "%s: timeline[%d]: crah_override needs fan_speed_pct or supply_setpoint_c",
           origin, i);
    return SK_EPARSE;
  }
  for (int q = 0; q < i; q++) {
    if (strcmp(sc->effects[q].name, e->name) == 0) {
      sk_errf(err, errlen, "%s: timeline[%d].name: \"%s\" is already the name of timeline[%d]",
             origin, i, e->name, q);
      return SK_EPARSE;
    }
  }
  return SK_OK;
}

static sk_status parse_timeline(sk_scenario *sc, const cJSON *tl, const char *origin, char *err,
                                size_t errlen) {
  sc->n_effects = 0;
  if (tl == NULL)
    return SK_OK;
  if (!cJSON_IsArray(tl)) {
    sk_errf(err, errlen, "%s: timeline: expected an array of effects, got %s", origin,
            sk__json_type_name(tl));
    return SK_EPARSE;
  }
  int n = cJSON_GetArraySize(tl);
  if (n > SK_MAX_EFFECTS) {
    sk_errf(err, errlen, "%s: timeline: %d effects, at most %d", origin, n, SK_MAX_EFFECTS);
    return SK_ERANGE;
  }
  int i = 0;
  for (const cJSON *c = tl->child; c != NULL; c = c->next, i++) {
    sk_status st = parse_effect(sc, c, i, origin, err, errlen);
    if (st != SK_OK)
      return st;
    sc->n_effects = i + 1;
  }
  return SK_OK;
}

sk_status sk_scenario_parse(sk_scenario *sc, const char *text, size_t len, const char *origin,
                            const char *base_dir, char *err, size_t errlen) {
  SK_REQUIRE(sc != NULL && text != NULL && origin != NULL);
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (root != NULL) {
    /* Only blanks may follow the value (ParseWithLengthOpts cannot require a NUL when
     * the text is not NUL-terminated). */
    while (end < text + len && isspace((unsigned char)*end))
      end++;
    if (end < text + len && *end != '\0') {
      cJSON_Delete(root);
      root = NULL;
    }
  }
  if (root == NULL) {
    sk__json_syntax_error(text, len, end, origin, err, errlen);
    return SK_EPARSE;
  }
  if (!cJSON_IsObject(root)) {
    sk_errf(err, errlen, "%s: expected a JSON object at the top level, got %s", origin,
            sk__json_type_name(root));
    cJSON_Delete(root);
    return SK_EPARSE;
  }
  sk_scenario *tmp = malloc(sizeof *tmp);
  if (tmp == NULL) {
    cJSON_Delete(root);
    sk_errf(err, errlen, "%s: out of memory", origin);
    return SK_ENOMEM;
  }
  *tmp = *sc;
  unsigned char seen[N_SETTINGS] = {0};
  char reason[SK_PATH_LEN + 128];
  sk_status st = apply_object(tmp, root, "", origin, seen, err, errlen);
  const setting *trace = find_key("workload.trace_csv");
  if (st == SK_OK && seen[index_of(trace)] && tmp->trace_csv[0] != '\0') {
    if (base_dir != NULL && base_dir[0] != '\0' && tmp->trace_csv[0] != '/') {
      char joined[SK_PATH_LEN];
      int n = snprintf(joined, sizeof joined, "%s/%s", base_dir, tmp->trace_csv);
      if (n < 0 || (size_t)n >= sizeof joined) {
        sk_errf(err, errlen, "%s: workload.trace_csv: path too long once joined to \"%s\"", origin,
               base_dir);
        st = SK_ERANGE;
      } else {
        memcpy(tmp->trace_csv, joined, (size_t)n + 1);
      }
    }
    if (st == SK_OK && !check_readable(tmp->trace_csv, reason, sizeof reason)) {
      sk_errf(err, errlen, "%s: workload.trace_csv: %s", origin, reason);
      st = SK_EIO;
    }
  }
  if (st == SK_OK) {
    /* The layout of this file (and what came before) decides which racks exist. */
    const cJSON *tl = cJSON_GetObjectItemCaseSensitive(root, "timeline");
    st = parse_timeline(tmp, tl, origin, err, errlen);
  }
  if (st == SK_OK) {
    snprintf(tmp->source, sizeof tmp->source, "%s", origin);
    *sc = *tmp;
  }
  free(tmp);
  cJSON_Delete(root);
  return st;
}

sk_status sk_scenario_load(sk_scenario *sc, const char *path, char *err, size_t errlen) {
  SK_REQUIRE(sc != NULL && path != NULL);
  char *text;
  size_t len;
  char reason[256];
  sk_status st = read_file(path, &text, &len, reason, sizeof reason);
  if (st != SK_OK) {
    sk_errf(err, errlen, "%s: %s", path, reason);
    return st;
  }
  char dir[SK_PATH_LEN];
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    dir[0] = '\0';
  } else {
    size_t n = (size_t)(slash - path);
    if (n == 0)
      n = 1; /* "/x.json": the root */
    if (n >= sizeof dir)
      n = sizeof dir - 1;
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  st = sk_scenario_parse(sc, text, len, path, dir[0] ? dir : NULL, err, errlen);
  free(text);
  return st;
}

/* ------------------------------------------------------------------------------------ */
/* --set, environment, .env                                                             */

static const setting *lookup_any(const char *key) {
  const setting *s = find_key(key);
  return s != NULL ? s : find_env(key);
}

sk_status sk_scenario_set(sk_scenario *sc, const char *assignment, char *err, size_t errlen) {
  SK_REQUIRE(sc != NULL && assignment != NULL);
  const char *eq = strchr(assignment, '=');
  char key[128], reason[256];
  if (eq == NULL) {
    sk_errf(err, errlen, "--set %s: expected key=value", assignment);
    return SK_EPARSE;
  }
  const char *k0 = assignment, *k1 = eq;
  while (k0 < k1 && isspace((unsigned char)*k0))
    k0++;
  while (k1 > k0 && isspace((unsigned char)k1[-1]))
    k1--;
  size_t kl = (size_t)(k1 - k0);
  if (kl == 0 || kl >= sizeof key) {
    sk_errf(err, errlen, "--set %.*s: expected key=value with a key", (int)(eq - assignment),
           assignment);
    return SK_EPARSE;
  }
  memcpy(key, k0, kl);
  key[kl] = '\0';
  const char *value = eq + 1;
  if (strcmp(key, "timeline") == 0) {
    sk_errf(err, errlen, "--set timeline: the timeline is set in the scenario file only");
    return SK_EINVAL;
  }
  const setting *s = lookup_any(key);
  if (s == NULL && is_group(key)) {
    sk_errf(err, errlen, "--set %s: a group of keys, not a key (skadi keys lists them)", key);
    return SK_ENOTFOUND;
  }
  if (s == NULL) {
    unknown_reason(key, reason, sizeof reason);
    sk_errf(err, errlen, "--set %s: %s", key, reason);
    return SK_ENOTFOUND;
  }
  sk_scenario *tmp = malloc(sizeof *tmp);
  if (tmp == NULL) {
    sk_errf(err, errlen, "--set %s: out of memory", key);
    return SK_ENOMEM;
  }
  *tmp = *sc;
  sk_status st = set_from_text(tmp, s, value, reason, sizeof reason);
  if (st == SK_OK) {
    resolve_racks(tmp);
    *sc = *tmp;
  } else {
    sk_errf(err, errlen, "--set %s: %s", key, reason);
  }
  free(tmp);
  return st;
}

sk_status sk_scenario_apply_env(sk_scenario *sc, char *err, size_t errlen) {
  SK_REQUIRE(sc != NULL);
  sk_scenario *tmp = malloc(sizeof *tmp);
  if (tmp == NULL) {
    sk_errf(err, errlen, "environment: out of memory");
    return SK_ENOMEM;
  }
  *tmp = *sc;
  char reason[256];
  sk_status st = SK_OK;
  for (size_t i = 0; i < N_SETTINGS && st == SK_OK; i++) {
    if (table[i].env == NULL)
      continue;
    const char *v = getenv(table[i].env);
    if (v == NULL || v[0] == '\0')
      continue;
    st = set_from_text(tmp, &table[i], v, reason, sizeof reason);
    if (st != SK_OK)
      sk_errf(err, errlen, "environment %s: %s", table[i].env, reason);
  }
  if (st == SK_OK) {
    resolve_racks(tmp);
    *sc = *tmp;
  }
  free(tmp);
  return st;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

/* Is `key` one of ours misspelt?  (Foreign keys are fine in a .env; near-misses are not.) */
static const char *near_env_name(const char *key) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (table[i].env != NULL && edit_distance(key, table[i].env) <= 2)
      return table[i].env;
  return NULL;
}

/* One .env line: NULL key for blank/comment lines.  Returns 0 with a reason on bad
 * syntax.  Modifies `line` in place. */
static int parse_dotenv_line(char *line, char **key, char **value, char *reason, size_t rlen) {
  *key = *value = NULL;
  char *p = trim(line);
  if (*p == '\0' || *p == '#')
    return 1;
  if (strncmp(p, "export", 6) == 0 && isspace((unsigned char)p[6]))
    p = trim(p + 6);
  char *eq = strchr(p, '=');
  if (eq == NULL) {
    snprintf(reason, rlen, "expected KEY=VALUE, got \"%.60s\"", p);
    return 0;
  }
  *eq = '\0';
  char *k = trim(p);
  if (!(isalpha((unsigned char)k[0]) || k[0] == '_')) {
    snprintf(reason, rlen, "expected KEY=VALUE, got a key \"%.60s\"", k);
    return 0;
  }
  for (const char *q = k; *q; q++) {
    if (!(isalnum((unsigned char)*q) || *q == '_' || *q == '.')) {
      snprintf(reason, rlen, "expected KEY=VALUE, got a key \"%.60s\"", k);
      return 0;
    }
  }
  char *v = eq + 1;
  while (isspace((unsigned char)*v))
    v++;
  if (*v == '"' || *v == '\'') {
    char quote = *v++;
    char *close = strchr(v, quote);
    if (close == NULL) {
      snprintf(reason, rlen, "%s: unterminated %c-quoted value", k, quote);
      return 0;
    }
    *close = '\0';
    char *after = close + 1;
    while (isspace((unsigned char)*after))
      after++;
    if (*after != '\0' && *after != '#') {
      snprintf(reason, rlen, "%s: text after the closing quote", k);
      return 0;
    }
  } else {
    for (char *q = v; *q; q++) {
      if (*q == '#' && (q == v || isspace((unsigned char)q[-1]))) {
        *q = '\0';
        break;
      }
    }
    v = trim(v);
  }
  *key = k;
  *value = v;
  return 1;
}

sk_status sk_scenario_apply_dotenv(sk_scenario *sc, const char *path, char *err, size_t errlen) {
  SK_REQUIRE(sc != NULL);
  if (path == NULL)
    return SK_OK;
  char *text;
  size_t len;
  char reason[256];
  struct stat stb;
  if (stat(path, &stb) != 0 && errno == ENOENT)
    return SK_OK; /* no .env: nothing to apply */
  sk_status st = read_file(path, &text, &len, reason, sizeof reason);
  if (st != SK_OK) {
    sk_errf(err, errlen, "%s: %s", path, reason);
    return st;
  }
  sk_scenario *tmp = malloc(sizeof *tmp);
  if (tmp == NULL) {
    free(text);
    sk_errf(err, errlen, "%s: out of memory", path);
    return SK_ENOMEM;
  }
  *tmp = *sc;
  if (len != strlen(text)) {
    sk_errf(err, errlen, "%s: contains a NUL byte (not a text file?)", path);
    st = SK_EPARSE;
  }
  int lineno = 0;
  for (char *line = text; st == SK_OK && line != NULL && *line != '\0';) {
    char *nl = strchr(line, '\n');
    if (nl != NULL)
      *nl = '\0';
    lineno++;
    char *key, *value;
    if (!parse_dotenv_line(line, &key, &value, reason, sizeof reason)) {
      sk_errf(err, errlen, "%s:%d: %s", path, lineno, reason);
      st = SK_EPARSE;
    } else if (key != NULL) {
      const setting *s = lookup_any(key);
      if (s == NULL) {
        const char *near = near_env_name(key);
        if (near != NULL) {
          sk_errf(err, errlen, "%s:%d: %s: unknown setting (did you mean %s?)", path, lineno, key,
                 near);
          st = SK_ENOTFOUND;
        }
      } else if (value[0] == '\0') {
        sk_errf(err, errlen, "%s:%d: %s: empty value", path, lineno, key);
        st = SK_EPARSE;
      } else {
        st = set_from_text(tmp, s, value, reason, sizeof reason);
        if (st != SK_OK)
          sk_errf(err, errlen, "%s:%d: %s: %s", path, lineno, key, reason);
      }
    }
    line = nl != NULL ? nl + 1 : NULL;
  }
  if (st == SK_OK) {
    resolve_racks(tmp);
    *sc = *tmp;
  }
  free(tmp);
  free(text);
  return st;
}

/* ------------------------------------------------------------------------------------ */
/* Validation                                                                           */

sk_status sk_scenario_validate(const sk_scenario *sc, char *err, size_t errlen) {
  SK_REQUIRE(sc != NULL);
  const char *where = sc->source[0] ? sc->source : "scenario";
  char reason[SK_PATH_LEN + 128], a[32], b[32];
  for (size_t i = 0; i < N_SETTINGS; i++) {
    const setting *s = &table[i];
    if (s->type == KT_DOUBLE || s->type == KT_INT || s->type == KT_SEED) {
      sk_status st = check_number(load_number(sc, s), s->type, s->min, s->max, s->open, s->unit,
                                  reason, sizeof reason);
      if (st != SK_OK) {
        sk_errf(err, errlen, "%s: %s: %s", where, s->key, reason);
        return st;
      }
    } else if (s->type == KT_BOOL || s->type == KT_ENUM) {
      int v = *(const int *)cfield_at(sc, s), count = 2;
      if (s->type == KT_ENUM)
        for (count = 0; s->names[count] != NULL;)
          count++;
      if (v < 0 || v >= count) {
        sk_errf(err, errlen, "%s: %s: invalid value %d", where, s->key, v);
        return SK_ERANGE;
      }
    } else if (memchr(cfield_at(sc, s), '\0', s->size) == NULL) {
      sk_errf(err, errlen, "%s: %s: not NUL-terminated", where, s->key);
      return SK_EINVAL;
    }
  }
  /* Pairs of keys.  (Checklist: docs/SCENARIOS.md "Cross-field rules" lists these.) */
  struct {
    double lo, hi;
    const char *lo_key, *hi_key, *what;
  } pairs[] = {
      {sc->sample_period_s, sc->duration_s, "sample_period_s", "duration_s", "shorter than"},
      {sc->room.crah_min_speed_pct, sc->room.crah_fan_speed_pct, "room.crah_min_speed_pct",
       "room.crah_fan_speed_pct", "below"},
      {sc->plant.pump_min_speed_pct, sc->plant.pump_speed_pct, "plant.pump_min_speed_pct",
       "plant.pump_speed_pct", "below"},
      {sc->server.fan_knee_c, sc->server.fan_steep_c, "server.fan_knee_c", "server.fan_steep_c",
       "below"},
      {sc->server.host_idle_w, sc->server.host_busy_w, "server.host_idle_w", "server.host_busy_w",
       "below"},
      {sc->settings.ims_tau_fast_percentile, sc->settings.ims_tau_persist_percentile,
       "settings.ims_tau_fast_percentile", "settings.ims_tau_persist_percentile", "below"},
  };
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    if (pairs[i].hi < pairs[i].lo) {
      const setting *hs = find_key(pairs[i].hi_key);
      format_double(pairs[i].hi, a, sizeof a);
      format_double(pairs[i].lo, b, sizeof b);
      const char *u = hs->unit[0] ? hs->unit : "";
      sk_errf(err, errlen, "%s: %s: %s%s%s is %s %s (%s%s%s)", where, pairs[i].hi_key, a,
             u[0] ? " " : "", u, pairs[i].what, pairs[i].lo_key, b, u[0] ? " " : "", u);
      return SK_ERANGE;
    }
  }
  /* The CRAH air each rack gets at the lowest fan speed the run may use (the controller
   * and the timeline go down to room.crah_min_speed_pct) must be at least half the air its
   * servers draw.  Below that a rack breathes mostly its own row's exhaust (recirculation
   * over 50 %), and with the server fans speeding up as their inlet warms the twin's room
   * has no steady state: at a tiny CRAH flow, or its fans allowed to stop, inlets ran away
   * to 1e30 degC.  A real row's CRAH supplies at least what its servers draw (a variable
   * speed CRAH keeps a minimum speed for this); half leaves room for an under-provisioned
   * row to be studied (inlets near 30 degC in the baseline room).  Checklist:
   * docs/SCENARIOS.md "Cross-field rules". */
  double rack_air = sc->servers_per_rack * sc->server.airflow_m3s;
  double tile_air = sc->room.crah_rated_flow_m3s * sc->room.crah_min_speed_pct / 100.0 /
                    (sc->racks_per_row > 0 ? sc->racks_per_row : 1);
  if (!(tile_air >= 0.5 * rack_air * (1 - 1e-12))) { /* 1e-12: the bound itself passes */
    format_double(sc->room.crah_rated_flow_m3s, a, sizeof a);
    format_double(sc->room.crah_min_speed_pct, b, sizeof b);
    const char *why = "the racks would breathe mostly their own exhaust and the room has no "
                      "steady state (a real CRAH supplies at least its row's server air)";
    if (sc->room.crah_min_speed_pct > 0)
      sk_errf(err, errlen,
              "%s: room.crah_rated_flow_m3s: %s m³/s is too little air: at "
              "room.crah_min_speed_pct (%s %%) each of the row's %d racks gets %.3g m³/s, "
              "under half the %.3g m³/s its servers draw (room.servers_per_rack x "
              "server.airflow_m3s); %s; at least %.4g m³/s here",
              where, a, b, sc->racks_per_row, tile_air, rack_air, why,
              0.5 * rack_air * sc->racks_per_row / (sc->room.crah_min_speed_pct / 100.0));
    else
      sk_errf(err, errlen,
              "%s: room.crah_min_speed_pct: 0 %% lets the CRAH fans stop, leaving the racks "
              "no air; %s",
              where, why);
    return SK_ERANGE;
  }
  /* The cap model covers caps that bind in compute-bound prefill only; decode is memory
   * bound and no measured cap binds it (models/src/server.c). */
  double ceiling_w = sk_server_decode_ceiling_w(&sc->server);
  if (sc->server.gpu_power_cap_w < ceiling_w) {
    format_double(sc->server.gpu_power_cap_w, a, sizeof a);
    format_double(ceiling_w, b, sizeof b);
    sk_errf(err, errlen,
            "%s: server.gpu_power_cap_w: %s W is below the decode ceiling server.gpu_decode_base_w "
            "+ server.gpu_decode_w_per_seq * server.max_batch (%s W); the cap is modelled only "
            "where it binds in prefill, never in decode",
            where, a, b);
    return SK_ERANGE;
  }
  if (sc->trace_csv[0] != '\0' && !check_readable(sc->trace_csv, reason, sizeof reason)) {
    sk_errf(err, errlen, "%s: workload.trace_csv: %s", where, reason);
    return SK_EIO;
  }
  if (sc->n_effects < 0 || sc->n_effects > SK_MAX_EFFECTS) {
    sk_errf(err, errlen, "%s: timeline: %d effects, at most %d", where, sc->n_effects,
           SK_MAX_EFFECTS);
    return SK_ERANGE;
  }
  for (int i = 0; i < sc->n_effects; i++) {
    sk_status st = check_effect(sc, i, where, err, errlen);
    if (st != SK_OK)
      return st;
  }
  return SK_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Output                                                                               */

/* cJSON prints doubles with 15 significant digits whenever that reads back within a few
 * ulps, and a rerun from a recording must see the very same bits: numbers go in as raw
 * text in the shortest form that reads back exactly (integers as integers; the seed is
 * at most 2^53 - 1, so a double holds it exactly). */
static cJSON *add_number(cJSON *obj, const char *name, double v, key_type type) {
  char buf[40];
  if (type == KT_DOUBLE)
    format_double(v, buf, sizeof buf);
  else
    snprintf(buf, sizeof buf, "%.0f", v);
  return cJSON_AddRawToObject(obj, name, buf);
}

static cJSON *timeline_json(const sk_scenario *sc) {
  cJSON *arr = cJSON_CreateArray();
  if (arr == NULL)
    return NULL;
  for (int i = 0; i < sc->n_effects; i++) {
    const sk_effect *e = &sc->effects[i];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
      cJSON_Delete(o);
      cJSON_Delete(arr);
      return NULL;
    }
    int ok = cJSON_AddStringToObject(o, "name", e->name) != NULL &&
             cJSON_AddStringToObject(o, "effect", sk_effect_kind_name(e->kind)) != NULL;
    if (ok && (e->kind == SK_EFFECT_ADD_AI_NODES || e->kind == SK_EFFECT_SENSOR_SPIKE)) {
      cJSON *racks = cJSON_AddArrayToObject(o, "racks");
      ok = racks != NULL;
      for (int r = 0; ok && r < e->n_racks; r++) {
        char id[8];
        if (e->rack_id[r][0] != '\0')
          snprintf(id, sizeof id, "%s", e->rack_id[r]);
        else if (e->rack_index[r] >= 0 && e->rack_index[r] < sc->n_rows * sc->racks_per_row)
          sk_scenario_rack_id(sc, e->rack_index[r], id);
        else
          snprintf(id, sizeof id, "?");
        cJSON *s = cJSON_CreateString(id);
        ok = s != NULL && cJSON_AddItemToArray(racks, s);
        if (!ok)
          cJSON_Delete(s);
      }
    }
    if (ok && e->kind == SK_EFFECT_CRAH_OVERRIDE) {
      char row[2] = {e->row >= 0 && e->row < 26 ? (char)('A' + e->row) : '?', '\0'};
      ok = cJSON_AddStringToObject(o, "row", row) != NULL;
    }
    for (size_t k = 0; ok && k < N_EFFECT_FIELDS; k++) {
      const effect_field *f = &effect_fields[k];
      if (!(f->kinds & (1u << e->kind)))
        continue;
      double v = effect_get(e, f);
      if (!isfinite(v))
        continue; /* unset optional field, or stop_s = until the end */
      ok = add_number(o, f->name, v, f->type) != NULL;
    }
    if (!ok) {
      cJSON_Delete(arr);
      return NULL;
    }
  }
  return arr;
}

static cJSON *scenario_json(const sk_scenario *sc) {
  cJSON *root = cJSON_CreateObject();
  if (root == NULL)
    return NULL;
  for (size_t i = 0; i < N_SETTINGS; i++) {
    const setting *s = &table[i];
    cJSON *parent = root;
    const char *name = s->key, *dot;
    while ((dot = strchr(name, '.')) != NULL) {
      char group[64];
      snprintf(group, sizeof group, "%.*s", (int)(dot - name), name);
      cJSON *g = cJSON_GetObjectItemCaseSensitive(parent, group);
      if (g == NULL)
        g = cJSON_AddObjectToObject(parent, group);
      if (g == NULL)
        goto fail;
      parent = g;
      name = dot + 1;
    }
    cJSON *v;
    switch (s->type) {
    case KT_DOUBLE:
    case KT_INT:
    case KT_SEED:
      v = add_number(parent, name, load_number(sc, s), s->type);
      break;
    case KT_BOOL:
      v = cJSON_AddBoolToObject(parent, name, *(const int *)cfield_at(sc, s));
      break;
    default: {
      char buf[SK_PATH_LEN];
      format_value(sc, s, buf, sizeof buf);
      v = cJSON_AddStringToObject(parent, name, buf);
      break;
    }
    }
    if (v == NULL)
      goto fail;
  }
  cJSON *tl = timeline_json(sc);
  if (tl == NULL || !cJSON_AddItemToObject(root, "timeline", tl)) {
    cJSON_Delete(tl);
    goto fail;
  }
  return root;
fail:
  cJSON_Delete(root);
  return NULL;
}

char *sk_scenario_to_json(const sk_scenario *sc) {
  SK_REQUIRE(sc != NULL);
  cJSON *root = scenario_json(sc);
  if (root == NULL)
    return NULL;
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  return text;
}

sk_status sk_scenario_kv(const sk_scenario *sc, char ***keys, char ***values, size_t *n) {
  SK_REQUIRE(sc != NULL && keys != NULL && values != NULL && n != NULL);
  size_t total = N_SETTINGS + 1;
  char **k = calloc(total, sizeof *k), **v = calloc(total, sizeof *v);
  if (k == NULL || v == NULL)
    goto oom;
  for (size_t i = 0; i < N_SETTINGS; i++) {
    char buf[SK_PATH_LEN];
    format_value(sc, &table[i], buf, sizeof buf);
    k[i] = strdup(table[i].key);
    v[i] = strdup(buf);
    if (k[i] == NULL || v[i] == NULL)
      goto oom;
  }
  cJSON *tl = timeline_json(sc);
  k[N_SETTINGS] = strdup("timeline");
  v[N_SETTINGS] = tl != NULL ? cJSON_PrintUnformatted(tl) : NULL;
  cJSON_Delete(tl);
  if (k[N_SETTINGS] == NULL || v[N_SETTINGS] == NULL)
    goto oom;
  *keys = k;
  *values = v;
  *n = total;
  return SK_OK;
oom:
  sk_scenario_free_kv(k, v, total);
  *keys = *values = NULL;
  *n = 0;
  return SK_ENOMEM;
}

void sk_scenario_free_kv(char **keys, char **values, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (keys != NULL)
      free(keys[i]);
    if (values != NULL)
      free(values[i]);
  }
  free(keys);
  free(values);
}

/* One row of the key table, as text cells. */
/* ------------------------------------------------------------------------------------ */
/* Live keys: get and set by name while a session runs                                  */

unsigned sk_scenario_key_live(const char *key) {
  const setting *s = lookup_any(key);
  return s != NULL ? s->live : 0;
}

sk_status sk_scenario_set_live(sk_scenario *sc, const char *key, const char *value,
                               unsigned *apply, char *err, size_t errlen) {
  char reason[256];
  const setting *s = lookup_any(key);
  if (s == NULL) {
    unknown_reason(key, reason, sizeof reason);
    sk_errf(err, errlen, "%s: %s", key, reason);
    return SK_ENOTFOUND;
  }
  if (!s->live) {
    sk_errf(err, errlen, "%s: not a live key: it is fixed for the whole run (`skadi keys` marks "
            "the live ones)", s->key);
    return SK_EINVAL;
  }
  sk_scenario *tmp = malloc(sizeof *tmp);
  if (tmp == NULL) {
    sk_errf(err, errlen, "%s: out of memory", s->key);
    return SK_ENOMEM;
  }
  *tmp = *sc;
  sk_status st = set_from_text(tmp, s, value, reason, sizeof reason);
  if (st != SK_OK)
    sk_errf(err, errlen, "%s: %s", s->key, reason);
  else if ((st = sk_scenario_validate(tmp, err, errlen)) == SK_OK)
    *sc = *tmp;
  free(tmp);
  if (st == SK_OK && apply != NULL)
    *apply = s->live;
  return st;
}

sk_status sk_scenario_get(const sk_scenario *sc, const char *key, char *buf, size_t len) {
  const setting *s = lookup_any(key);
  if (s == NULL) {
    if (len > 0)
      buf[0] = '\0';
    return SK_ENOTFOUND;
  }
  format_value(sc, s, buf, len);
  return SK_OK;
}

const char *sk_scenario_key_name(const char *key) {
  const setting *s = lookup_any(key);
  return s != NULL ? s->key : NULL;
}

typedef struct {
  char cell[6][160];
} key_row;

static void key_row_of(const setting *s, key_row *r) {
  static const char *const tnames[] = {"double", "int", "int", "bool", "string", "enum"};
  snprintf(r->cell[0], sizeof r->cell[0], "%s", s->key);
  snprintf(r->cell[1], sizeof r->cell[1], "%s", s->env ? s->env : "");
  snprintf(r->cell[2], sizeof r->cell[2], "%s", tnames[s->type]);
  switch (s->type) {
  case KT_DOUBLE:
  case KT_INT:
  case KT_SEED:
    format_double(s->def, r->cell[3], sizeof r->cell[3]);
    format_range(s->min, s->max, s->open, "", r->cell[4], sizeof r->cell[4]);
    break;
  case KT_BOOL:
    snprintf(r->cell[3], sizeof r->cell[3], "%s", s->def != 0 ? "true" : "false");
    snprintf(r->cell[4], sizeof r->cell[4], "true, false");
    break;
  case KT_STRING:
    snprintf(r->cell[3], sizeof r->cell[3], "\"%s\"", s->def_str);
    snprintf(r->cell[4], sizeof r->cell[4], "-");
    break;
  case KT_ENUM:
    snprintf(r->cell[3], sizeof r->cell[3], "%s", s->def_str);
    enum_list(s, r->cell[4], sizeof r->cell[4]);
    break;
  }
  snprintf(r->cell[5], sizeof r->cell[5], "%s", s->unit[0] ? s->unit : "-");
}

/* Display width of UTF-8 text (one column per code point: the units use °, ³, ·). */
static size_t text_width(const char *s) {
  size_t w = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80)
      w++;
  return w;
}

static void pad(FILE *out, const char *s, size_t width) {
  fputs(s, out);
  for (size_t w = text_width(s); w < width; w++)
    fputc(' ', out);
}

void sk_scenario_print_keys(FILE *out) {
  static const char *const heads[] = {"KEY", "ENV", "TYPE", "DEFAULT", "RANGE", "UNIT"};
  size_t width[6];
  for (int c = 0; c < 6; c++)
    width[c] = strlen(heads[c]);
  key_row r;
  for (size_t i = 0; i < N_SETTINGS; i++) {
    key_row_of(&table[i], &r);
    for (int c = 0; c < 6; c++)
      if (text_width(r.cell[c]) > width[c])
        width[c] = text_width(r.cell[c]);
  }
  for (int c = 0; c < 6; c++) {
    pad(out, heads[c], width[c] + 2);
  }
  fputs("HELP\n", out);
  for (size_t i = 0; i < N_SETTINGS; i++) {
    key_row_of(&table[i], &r);
    for (int c = 0; c < 6; c++)
      pad(out, r.cell[c], width[c] + 2);
    fputs(table[i].help, out);
    fputs(table[i].live ? " [live]\n" : "\n", out);
  }
}

void sk_scenario_print_keys_markdown(FILE *out) {
  fputs("| key | env | type | default | range | unit | meaning (source) |\n", out);
  fputs("|---|---|---|---|---|---|---|\n", out);
  key_row r;
  for (size_t i = 0; i < N_SETTINGS; i++) {
    key_row_of(&table[i], &r);
    fprintf(out, "| `%s` | %s | %s | %s | %s | %s | %s%s |\n", r.cell[0],
            r.cell[1][0] ? r.cell[1] : "", r.cell[2], r.cell[3], r.cell[4], r.cell[5],
            table[i].help, table[i].live ? " **live**" : "");
  }
}

/* ------------------------------------------------------------------------------------ */
/* --duration                                                                           */

sk_status sk_parse_duration(const char *text, double *out_s, char *err, size_t errlen) {
  SK_REQUIRE(out_s != NULL);
  static const char hint[] =
      "expected a positive number of seconds with an optional unit s, m, h or d "
      "(90, 90s, 15m, 1.5h, 1d)";
  if (text == NULL || !(isdigit((unsigned char)text[0]) || text[0] == '.')) {
    sk_errf(err, errlen, "invalid duration \"%s\": %s", text ? text : "", hint);
    return SK_EPARSE;
  }
  char *end;
  double v = strtod(text, &end);
  for (const char *q = text; q < end; q++) {
    if (strchr("0123456789.eE+-", *q) == NULL) /* strtod also takes hex and "infinity" */
      end = (char *)text;
  }
  if (end == text) {
    sk_errf(err, errlen, "invalid duration \"%s\": %s", text, hint);
    return SK_EPARSE;
  }
  double mult = 1;
  if (*end != '\0') {
    switch (*end) {
    case 's':
      mult = 1;
      break;
    case 'm':
      mult = 60;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'd':
      mult = 86400;
      break;
    default:
      sk_errf(err, errlen, "invalid duration \"%s\": %s", text, hint);
      return SK_EPARSE;
    }
    if (end[1] != '\0') {
      sk_errf(err, errlen, "invalid duration \"%s\": %s", text, hint);
      return SK_EPARSE;
    }
  }
  double s = v * mult;
  if (!isfinite(s) || !(s > 0)) {
    sk_errf(err, errlen, "invalid duration \"%s\": must be a finite number above zero", text);
    return SK_ERANGE;
  }
  *out_s = s;
  return SK_OK;
}
