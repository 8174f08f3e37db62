/*
 * telemetry.h -- the plain value rows the twin emits every sample period: one per rack,
 * one per CRAH (row), one for the room, plus scenario-event rows.  The recorder writes
 * them to HDF5 as they are; the API issue publishes the same rows.  Field names follow
 * the seed's telemetry and DESIGN.md's key figures.
 */
#ifndef SKADI_TELEMETRY_H
#define SKADI_TELEMETRY_H

#include <stdint.h>

#define SK_RACK_ID_LEN 8 /* "R-C-07" plus NUL, padded */
#define SK_NAME_LEN 48
#define SK_DETAIL_LEN 160

typedef struct {
  double ts;                /* s, sim time at the end of the sample period */
  char rack_id[SK_RACK_ID_LEN];
  double inlet_c;           /* °C, rack inlet air at ts */
  double outlet_c;          /* °C, rack exhaust air at ts */
  double pdu_kw;            /* kW, mean rack power at the PDU over the period */
  double gpu_energy_j;      /* J, GPU energy of the rack over the period */
  double tokens_ps;         /* output tokens/s over the period */
  double latency_p95_ms;    /* ms, p95 TTFT of requests of this rack that got their first
                               token in the period; NaN when none did */
  double fan_rpm_pct;       /* %, speed of the row's CRAH fan */
  double pump_rpm_pct;      /* %, chilled-water pump speed */
  int32_t queue_depth;      /* requests waiting for prefill at ts */
  int32_t n_servers;        /* servers in the rack at ts */
} sk_rack_sample;

typedef struct {
  double ts;                /* s */
  char row[4];              /* "A".."F" */
  double supply_c;          /* °C, supply air actually delivered */
  double setpoint_c;        /* °C, supply-air setpoint */
  double return_c;          /* °C, return air */
  double fan_pct;           /* %, fan speed */
  double fan_kw;            /* kW, fan power */
  double load_kw;           /* kW, heat removed */
  double airflow_m3s;       /* m³/s */
  double target_c;          /* °C, what the coil drives the supply towards: max(setpoint,
                             * coil floor); the supply reaches it after the coil's lag */
} sk_crah_sample;

typedef struct {
  double ts;                    /* s */
  double it_kw;                 /* kW, IT power at the PDUs (servers incl. PSU losses) */
  double crah_fan_kw;           /* kW */
  double pump_kw;               /* kW */
  double chiller_kw;            /* kW */
  double tower_kw;              /* kW, cooling-tower fans */
  double losses_kw;             /* kW, UPS + PDU losses */
  double misc_kw;               /* kW, lighting and misc */
  double facility_kw;           /* kW, sum of the above */
  double pue;                   /* facility / IT */
  double wetbulb_c;             /* °C, outdoor wet bulb */
  double chw_supply_c;          /* °C, chilled-water supply */
  double chiller_cop;           /* - */
  double prompts_completed;     /* prompts finished in the period */
  double prompts_arrived;       /* prompts arrived in the period */
  double tokens_ps;             /* output tokens/s, room, over the period */
  double j_per_prompt_wh;       /* Wh/prompt over the period (NaN if none completed) */
  double j_per_prompt_wh_cum;   /* Wh/prompt since the start of the run */
  double latency_p95_ms;        /* ms, TTFT p95 over the period (NaN if none) */
  double inlet_compliance_pct;  /* % of rack inlet samples <= INLET_MAX_C, this sample */
  double max_inlet_c;           /* °C */
  double energy_kwh_cum;        /* kWh, facility energy since start */
  int32_t queue_depth;          /* requests waiting, room */
  int32_t active_sequences;     /* sequences decoding, room */
} sk_room_sample;

typedef struct {
  double ts;                    /* s */
  char name[SK_NAME_LEN];       /* timeline entry name, e.g. "add_ai_nodes_row_c" */
  char effect[SK_NAME_LEN];     /* effect kind, e.g. "add_ai_nodes" */
  char phase[8];                /* "start" or "stop" */
  char detail[SK_DETAIL_LEN];   /* short JSON of the effect's parameters */
} sk_event_record;

/* One line of the audit trail: a proposal and what became of it, or the realized effect
 * of an earlier action. */
typedef struct {
  double ts;                 /* s, sim time of the decision */
  int64_t id;                /* action id (realized/rollback rows repeat the id) */
  char loop[8];              /* "fast" or "slow" */
  char action[32];           /* sk_action_name */
  char target[12];           /* "room", "row C", "R-C-07" */
  char executor[12];         /* "scheduler" or "bms" */
  char unit[12];
  double delta;              /* proposed change in unit */
  char decision[16];         /* applied, advised, rejected, realized, rolled_back;
                                trained / failed for the IMS's own warm-up training */
  char reason[112];
  double pred_saving_pct;    /* % Wh/prompt, from the what-if forks (NaN for guardrails) */
  double pred_ttft_p95_ms;
  double pred_max_inlet_c;
  double realized_saving_pct;/* % vs the counterfactual (realized/rolled_back rows) */
} sk_action_record;

typedef struct {
  double ts;
  char rack_id[8];
  double deviation;          /* IMS D(x) */
  double ema;                /* MMS EMA */
  int32_t state;             /* 0 transient, 1 persistent */
  char top_feature[24];      /* feature with the largest share of D^2 */
} sk_monitor_record;


/* One command posted to a run session (session.h) as it was applied: the run's
 * /commands table, which `skadi run --commands` replays. */
#define SK_CMD_KIND_LEN 16
#define SK_CMD_KEY_LEN 48
#define SK_CMD_VALUE_LEN 96
typedef struct {
  double ts;                    /* s, sim time it was applied (a control boundary) */
  int64_t seq;                  /* 0, 1, ... in order of application */
  char kind[SK_CMD_KIND_LEN];   /* "mode", "kill_switch", "set", "effect_start", ... */
  char key[SK_CMD_KEY_LEN];     /* the setting, effect or lever it names ("" if none) */
  char value[SK_CMD_VALUE_LEN]; /* the value as text ("closed_loop", "27", ...) */
  char source[16];              /* who posted it: "cli", "api", "viz", "test", ... */
} sk_command_record;

#endif
