/*
 * scenario.h -- a scenario: the room, its models' parameters, the seed's settings, the
 * workload and a timeline of named effects.  Loaded from JSON (validated against one
 * settings table, docs/SCENARIOS.md), overridden by environment, .env and --set.
 */
#ifndef SKADI_SCENARIO_H
#define SKADI_SCENARIO_H

#include <stddef.h>
#include <stdio.h>

#include "skadi/params.h"
#include "skadi/status.h"

#define SK_MAX_ROWS 26
#define SK_MAX_RACKS_PER_ROW 64
#define SK_MAX_EFFECTS 64
#define SK_MAX_EFFECT_RACKS 16
#define SK_PATH_LEN 512
#define SK_ERR_LEN 512

typedef enum {
  SK_EFFECT_ADD_AI_NODES = 0, /* extra servers in given racks with their own traffic */
  SK_EFFECT_CRAH_OVERRIDE,    /* a row's CRAH fan speed and/or supply setpoint forced */
  SK_EFFECT_LOAD_SCALE,       /* room arrival rate multiplied */
  SK_EFFECT_SENSOR_SPIKE,     /* racks' inlet sensors read high (telemetry only, no physics) */
  SK_EFFECT_KIND_COUNT
} sk_effect_kind;

typedef struct {
  char name[48];               /* e.g. "add_ai_nodes_row_c" */
  sk_effect_kind kind;
  double start_s;              /* s from run start, >= 0 */
  double stop_s;               /* s, > start_s; INFINITY = until the end */
  /* add_ai_nodes */
  int n_racks;
  int rack_index[SK_MAX_EFFECT_RACKS]; /* resolved from "racks": ["R-C-06", ...] */
  char rack_id[SK_MAX_EFFECT_RACKS][8]; /* the ids as written ("" if built by index);
                                           re-resolved when the room layout changes */
  int nodes_per_rack;          /* servers added per listed rack, 1..4 */
  double rate_prompts_s_per_node; /* prompts/s of the new nodes' own traffic */
  /* crah_override */
  int row;                     /* row index */
  double fan_speed_pct;        /* %, NAN = unchanged */
  double supply_setpoint_c;    /* °C, NAN = unchanged */
  /* load_scale */
  double factor;               /* -, > 0 */
  /* sensor_spike (uses racks) */
  double inlet_offset_k;       /* K added to the reported inlet temperature */
} sk_effect;

/* The seed's settings (names and defaults kept; DESIGN.md "Configuration"). */
typedef struct {
  double sla_latency_ms;       /* SLA_LATENCY_MS, 250 */
  double inlet_max_c;          /* INLET_MAX_C, 28.0 */
  double rack_kw_cap;          /* RACK_KW_CAP, 12.0 */
  double ims_tau_fast_percentile;    /* IMS_TAU_FAST_PERCENTILE, 95 */
  double ims_tau_persist_percentile; /* IMS_TAU_PERSIST_PERCENTILE, 98 */
  double mms_ema_alpha;        /* MMS_EMA_ALPHA, 0.3 */
  int mms_persist_ticks;       /* MMS_PERSIST_TICKS, 6 */
  double fast_loop_interval_s; /* FAST_LOOP_INTERVAL_S, 10 */
  double slow_loop_interval_s; /* SLOW_LOOP_INTERVAL_S, 120 */
  double write_rate_limit_s;   /* WRITE_RATE_LIMIT_S, 120 */
  int default_mode_closed_loop;/* DEFAULT_MODE: 0 advisory, 1 closed_loop */
  int global_kill_switch;      /* GLOBAL_KILL_SWITCH, 0/1 */
} sk_settings;

/* The Measure -> Decide -> Act loops' own knobs (beyond the seed's settings). */
typedef struct {
  double horizon_s;            /* s, what-if fork horizon of each optimizer candidate */
  double min_saving_pct;       /* %, smallest predicted saving worth an action */
  double min_move_saving_pct;  /* %, smallest predicted saving of a move joining a combined move */
  double supply_max_c;         /* °C, highest supply setpoint a chilled-water reset may lift to */
  double max_inlet_c;          /* °C, forecast inlets the optimizer may not raise beyond */
  double spare_servers;        /* servers that may join any one rack without an inlet passing
                                  the recommended envelope before the fast loop answers */
  int gpu_cap_lever;           /* the optimizer may move the GPU power cap (trades latency) */
  double rollback_worse_pct;   /* %, roll back when the realized saving is below minus this */
  double max_p95_increase_pct; /* %, reject a candidate raising the forecast TTFT p95 more */
  double ims_warmup_s;         /* s, the run's own nominal warm-up the IMS trains on */
  int ims_clusters;            /* k-means clusters of the IMS */
  int test_force_harmful;      /* test hook: the optimizer applies its worst candidate */
} sk_control_params;

/* workload.prefix_cache: off, servers cache prefixes (on), and the router also prefers the
 * server that holds the prefix (route) */
enum { SK_PREFIX_CACHE_OFF = 0, SK_PREFIX_CACHE_ON = 1, SK_PREFIX_CACHE_ROUTE = 2 };

typedef struct {
  char name[64];
  char description[1024];
  unsigned long long seed;     /* run seed */
  double duration_s;           /* s, > 0 */
  double sample_period_s;      /* s, telemetry period */
  double thermal_step_s;       /* s, thermal/plant integration step */
  double start_hour;           /* h of day at t = 0 */
  int n_rows;                  /* rows, named A, B, ... */
  int racks_per_row;
  int servers_per_rack;        /* base servers per rack */
  char trace_csv[SK_PATH_LEN]; /* "" = Poisson arrivals; else replay this trace (a relative
                                  path in a file is resolved against the file's directory) */
  int trace_format;            /* sk_trace_format (skadi/trace.h): 0 auto, 1 azure,
                                  2 mooncake, 3 burstgpt */
  int prefix_cache;            /* SK_PREFIX_CACHE_*: KV prefix reuse of a trace with
                                  hash_ids (docs/MODEL.md, "KV prefix reuse") */
  int kv_cache_blocks;         /* blocks of 512 tokens, each server's KV cache */
  sk_server_params server;
  sk_perf_params perf;
  sk_workload_params workload;
  sk_room_params room;
  sk_plant_params plant;
  sk_settings settings;
  sk_control_params control;
  int n_effects;
  sk_effect effects[SK_MAX_EFFECTS];
  char source[SK_PATH_LEN];    /* scenario file last loaded ("" if none); names it in
                                  sk_scenario_validate's messages.  Not a setting. */
} sk_scenario;

/* Fills every field with its documented default (the default room, no effects). */
void sk_scenario_defaults(sk_scenario *sc);

/* Loads `path` over the current contents of sc (call sk_scenario_defaults, then the env
 * and .env layers, first).  Keys absent from the file keep their values; the file's
 * "timeline" replaces the effects (none if absent).  A relative workload.trace_csv is
 * resolved against the file's directory and must be readable.  On bad input returns
 * SK_EPARSE/SK_ERANGE/SK_EIO with a message "<path>: <field>: <reason>" (JSON syntax:
 * "<path>:<line>:<column>: ...") in err and leaves sc unchanged. */
sk_status sk_scenario_load(sk_scenario *sc, const char *path, char *err, size_t errlen);

/* Same as sk_scenario_load for JSON text already in memory (len bytes, need not be
 * NUL-terminated): `origin` names it in messages (e.g. "recording", "POST /scenario");
 * relative trace paths are resolved against base_dir, or used as given if base_dir is
 * NULL (as for the output of sk_scenario_to_json). */
sk_status sk_scenario_parse(sk_scenario *sc, const char *text, size_t len, const char *origin,
                            const char *base_dir, char *err, size_t errlen);

/* Applies one "dotted.key=value" override (also accepts the seed's setting names, e.g.
 * "INLET_MAX_C=27").  Message "--set <key>: <reason>"; sc unchanged on error.  A relative
 * trace path given here is relative to the working directory. */
sk_status sk_scenario_set(sk_scenario *sc, const char *assignment, char *err, size_t errlen);

/* Applies the seed's setting names from the environment and from a .env file (path may
 * be NULL or missing: then nothing).  Precedence, lowest first (DESIGN.md): environment
 * < .env < scenario < flags; the caller orders the calls.  Empty environment variables
 * are ignored.  A .env holds KEY=VALUE lines ("export", quotes, # comments and blank
 * lines allowed); keys that are not ours are ignored (the seed's .env has DATABASE_URL)
 * unless they are within two edits of one of ours, which is reported as a typo.
 * Messages: "environment <NAME>: <reason>", "<path>:<line>: <reason>"; sc unchanged on
 * error. */
sk_status sk_scenario_apply_env(sk_scenario *sc, char *err, size_t errlen);
sk_status sk_scenario_apply_dotenv(sk_scenario *sc, const char *path, char *err, size_t errlen);

/* Checks cross-field constraints after all overrides (e.g. rack ids in effects exist,
 * stop > start, duration > sample period), every value's range again (fields may have
 * been set directly, e.g. from --duration) and that the trace file can be opened.
 * Message "<source or 'scenario'>: <field>: <reason>". */
sk_status sk_scenario_validate(const sk_scenario *sc, char *err, size_t errlen);

/* The effective scenario as JSON text, every key plus the timeline (malloc'd, caller
 * frees with free(); NULL if out of memory) -- stored in recordings; sk_scenario_parse
 * with base_dir NULL reads it back to the same values. */
char *sk_scenario_to_json(const sk_scenario *sc);

/* Effective settings as key/value strings for the recorder: every key of the table in
 * table order (numbers in shortest round-trip form, booleans true/false, enums by name),
 * then "timeline" as compact JSON.  Arrays and strings malloc'd, caller frees with
 * sk_scenario_free_kv (NULL-safe). */
sk_status sk_scenario_kv(const sk_scenario *sc, char ***keys, char ***values, size_t *n);
void sk_scenario_free_kv(char **keys, char **values, size_t n);

/* Live keys may change while a run session runs (session.h, SK_CMD_SET); the others are
 * fixed for the run.  The mask names the running parts that must take a new value. */
enum { SK_LIVE_TWIN = 1, SK_LIVE_CONTROL = 2 };
/* The SK_LIVE_* mask of key (dotted or the seed's name), 0 if fixed or unknown. */
unsigned sk_scenario_key_live(const char *key);
/* Sets live key to value (text, as --set takes it), checks every cross-field rule again
 * and commits only if all hold; *apply (may be NULL) receives the key's SK_LIVE_* mask.
 * SK_ENOTFOUND for an unknown key, SK_EINVAL for a key that is not live, the parse and
 * range statuses otherwise; message "<key>: <reason>"; sc unchanged on error. */
sk_status sk_scenario_set_live(sk_scenario *sc, const char *key, const char *value,
                               unsigned *apply, char *err, size_t errlen);
/* The current value of key as text (as stored under /config).  SK_ENOTFOUND if unknown. */
sk_status sk_scenario_get(const sk_scenario *sc, const char *key, char *buf, size_t len);
/* The dotted name of key (which may be the seed's name, "INLET_MAX_C"), NULL if unknown. */
const char *sk_scenario_key_name(const char *key);

/* Prints the table of every key: name, type, default, range, unit, help. */
void sk_scenario_print_keys(FILE *out);
/* The same table as Markdown (the one in docs/SCENARIOS.md; a test keeps them equal). */
void sk_scenario_print_keys_markdown(FILE *out);

/* "add_ai_nodes", "crah_override", "load_scale", "sensor_spike"; "?" for anything else. */
const char *sk_effect_kind_name(sk_effect_kind kind);

/* Parses a --duration value: a positive number of seconds with an optional unit suffix
 * s, m, h or d ("90", "90s", "15m", "6h", "1.5h", "1d").  Rejects zero, negatives, NaN,
 * infinities, spaces and junk with a message in err. */
sk_status sk_parse_duration(const char *text, double *out_s, char *err, size_t errlen);

/* "R-C-07" -> rack index (row * racks_per_row + pos), or -1 if malformed or not in the
 * room.  Ids are R-<row letter>-<nn>, nn 01-based with two digits. */
int sk_scenario_rack_index(const sk_scenario *sc, const char *rack_id);
/* The inverse; rack_index must be in [0, n_rows * racks_per_row) (asserted). */
void sk_scenario_rack_id(const sk_scenario *sc, int rack_index, char out[8]);

#endif
