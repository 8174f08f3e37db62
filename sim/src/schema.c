/*
 * schema.c -- the field tables of the recorded rows (contract in schema.h), and the JSON
 * encoder of a row.
 *
 * The tables name each field once, next to its unit and description, and take type,
 * offset and size from the struct itself (FIELD below), so the recorder's compound types,
 * the reader's and the JSON frames cannot drift apart.  The strings are the ones the
 * recorder stores as "<field>_units" / "<field>_description" attributes: changing one
 * changes every new recording (docs/HDF5.md quotes them).
 *
 * Considered and rejected: an X-macro list per struct that would also generate the
 * structs (telemetry.h stays plain C that a reader takes in at a glance); keeping the
 * units in a second table next to the API (two lists drift).
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/schema.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/require.h"

/* Checklist: a struct that changed size needs its table below brought up to date (and
 * docs/HDF5.md). */
_Static_assert(sizeof(sk_rack_sample) == 88, "update rack_fields[] in schema.c");
_Static_assert(sizeof(sk_crah_sample) == 80, "update crah_fields[] in schema.c");
_Static_assert(sizeof(sk_room_sample) == 184, "update room_fields[] in schema.c");
_Static_assert(sizeof(sk_event_record) == 272, "update event_fields[] in schema.c");
_Static_assert(sizeof(sk_monitor_record) == 64, "update monitor_fields[] in schema.c");
_Static_assert(sizeof(sk_action_record) == 264, "update action_fields[] in schema.c");
_Static_assert(sizeof(sk_command_record) == 192, "update command_fields[] in schema.c");
_Static_assert(sizeof(sk_rack_entry) == 16, "update rack_layout_fields[] in schema.c");

#define FIELD(type, member, ftype, units, desc)                                                    \
  { #member, ftype, offsetof(type, member), sizeof(((type *)0)->member), units, desc }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define F64 SK_FIELD_F64
#define I32 SK_FIELD_I32
#define I64 SK_FIELD_I64
#define STR SK_FIELD_STR

static const sk_schema_field rack_fields[] = {
    FIELD(sk_rack_sample, ts, F64, "s", "sim time at the end of the sample period"),
    FIELD(sk_rack_sample, rack_id, STR, "", "rack id, e.g. R-C-07"),
    FIELD(sk_rack_sample, inlet_c, F64, "degC", "rack inlet air temperature at ts"),
    FIELD(sk_rack_sample, outlet_c, F64, "degC", "rack exhaust air temperature at ts"),
    FIELD(sk_rack_sample, pdu_kw, F64, "kW", "mean rack power at the PDU over the period"),
    FIELD(sk_rack_sample, gpu_energy_j, F64, "J", "GPU energy of the rack over the period"),
    FIELD(sk_rack_sample, tokens_ps, F64, "tokens/s", "output tokens per second over the period"),
    FIELD(sk_rack_sample, latency_p95_ms, F64, "ms",
          "p95 time to first token of requests of this rack that got their first token in "
          "the period; NaN when none did"),
    FIELD(sk_rack_sample, fan_rpm_pct, F64, "%", "speed of the row's CRAH fan"),
    FIELD(sk_rack_sample, pump_rpm_pct, F64, "%", "chilled-water pump speed"),
    FIELD(sk_rack_sample, queue_depth, I32, "requests", "requests waiting for prefill at ts"),
    FIELD(sk_rack_sample, n_servers, I32, "servers", "servers in the rack at ts"),
};

static const sk_schema_field crah_fields[] = {
    FIELD(sk_crah_sample, ts, F64, "s", "sim time at the end of the sample period"),
    FIELD(sk_crah_sample, row, STR, "", "row the CRAH serves, A..F"),
    FIELD(sk_crah_sample, supply_c, F64, "degC", "supply air temperature actually delivered"),
    FIELD(sk_crah_sample, setpoint_c, F64, "degC", "supply air setpoint"),
    FIELD(sk_crah_sample, return_c, F64, "degC", "return air temperature"),
    FIELD(sk_crah_sample, fan_pct, F64, "%", "fan speed"),
    FIELD(sk_crah_sample, fan_kw, F64, "kW", "fan power"),
    FIELD(sk_crah_sample, load_kw, F64, "kW", "heat removed"),
    FIELD(sk_crah_sample, airflow_m3s, F64, "m3/s", "air flow"),
    FIELD(sk_crah_sample, target_c, F64, "degC",
          "supply air the coil drives towards, max(setpoint, CHW supply + approach + CHW "
          "dT excess); supply_c follows it with the coil's time constant"),
};

static const sk_schema_field room_fields[] = {
    FIELD(sk_room_sample, ts, F64, "s", "sim time at the end of the sample period"),
    FIELD(sk_room_sample, it_kw, F64, "kW",
          "IT power at the PDUs (servers incl. PSU losses), mean over the period"),
    FIELD(sk_room_sample, crah_fan_kw, F64, "kW", "CRAH fan power, all rows, mean over the period"),
    FIELD(sk_room_sample, pump_kw, F64, "kW", "chilled-water pump power, mean over the period"),
    FIELD(sk_room_sample, chiller_kw, F64, "kW", "chiller power, mean over the period"),
    FIELD(sk_room_sample, tower_kw, F64, "kW", "cooling-tower fan power, mean over the period"),
    FIELD(sk_room_sample, losses_kw, F64, "kW", "UPS + PDU losses, mean over the period"),
    FIELD(sk_room_sample, misc_kw, F64, "kW", "lighting and miscellaneous, mean over the period"),
    FIELD(sk_room_sample, facility_kw, F64, "kW",
          "facility power, sum of the above, mean over the period"),
    FIELD(sk_room_sample, pue, F64, "1",
          "power usage effectiveness, facility / IT energy over the period"),
    FIELD(sk_room_sample, wetbulb_c, F64, "degC", "outdoor wet-bulb temperature"),
    FIELD(sk_room_sample, chw_supply_c, F64, "degC", "chilled-water supply temperature"),
    FIELD(sk_room_sample, chiller_cop, F64, "1", "chiller coefficient of performance"),
    FIELD(sk_room_sample, prompts_completed, F64, "prompts", "prompts finished in the period"),
    FIELD(sk_room_sample, prompts_arrived, F64, "prompts", "prompts arrived in the period"),
    FIELD(sk_room_sample, tokens_ps, F64, "tokens/s",
          "output tokens per second, room, over the period"),
    FIELD(sk_room_sample, j_per_prompt_wh, F64, "Wh/prompt",
          "facility energy per completed prompt over the period; NaN if none completed"),
    FIELD(sk_room_sample, j_per_prompt_wh_cum, F64, "Wh/prompt",
          "facility energy per completed prompt since the start of the run"),
    FIELD(sk_room_sample, latency_p95_ms, F64, "ms",
          "p95 time to first token over the period; NaN if none"),
    FIELD(sk_room_sample, inlet_compliance_pct, F64, "%",
          "share of rack inlet samples at or below INLET_MAX_C, this sample"),
    FIELD(sk_room_sample, max_inlet_c, F64, "degC", "highest rack inlet temperature at ts"),
    FIELD(sk_room_sample, energy_kwh_cum, F64, "kWh", "facility energy since the start of the run"),
    FIELD(sk_room_sample, queue_depth, I32, "requests", "requests waiting, room, at ts"),
    FIELD(sk_room_sample, active_sequences, I32, "sequences", "sequences decoding, room, at ts"),
};

static const sk_schema_field event_fields[] = {
    FIELD(sk_event_record, ts, F64, "s", "sim time of the event"),
    FIELD(sk_event_record, name, STR, "", "timeline entry name"),
    FIELD(sk_event_record, effect, STR, "", "effect kind"),
    FIELD(sk_event_record, phase, STR, "", "start or stop"),
    FIELD(sk_event_record, detail, STR, "", "short JSON of the effect's parameters"),
};

static const sk_schema_field monitor_fields[] = {
    FIELD(sk_monitor_record, ts, F64, "s", "sim time of the fast-loop tick"),
    FIELD(sk_monitor_record, rack_id, STR, "", "rack id"),
    FIELD(sk_monitor_record, deviation, F64, "1",
          "IMS deviation D(x): z-space distance to the nearest nominal cluster"),
    FIELD(sk_monitor_record, ema, F64, "1", "MMS moving average of D(x)"),
    FIELD(sk_monitor_record, state, I32, "1", "MMS state: 0 transient, 1 persistent"),
    FIELD(sk_monitor_record, top_feature, STR, "", "feature with the largest share of D(x)^2"),
};

static const sk_schema_field action_fields[] = {
    FIELD(sk_action_record, ts, F64, "s", "sim time of the decision"),
    FIELD(sk_action_record, id, I64, "1", "action id; realized/rollback rows repeat it"),
    FIELD(sk_action_record, loop, STR, "", "fast (guardrail) or slow (optimizer)"),
    FIELD(sk_action_record, action, STR, "", "lever, e.g. crah_fan_speed"),
    FIELD(sk_action_record, target, STR, "", "room, row X or a rack id"),
    FIELD(sk_action_record, executor, STR, "", "scheduler or bms"),
    FIELD(sk_action_record, unit, STR, "", "unit of delta"),
    FIELD(sk_action_record, delta, F64, "see unit", "proposed change of the lever"),
    FIELD(sk_action_record, decision, STR, "",
          "applied, advised, rejected, realized, rolled_back (trained/failed: IMS warm-up)"),
    FIELD(sk_action_record, reason, STR, "", "why"),
    FIELD(sk_action_record, pred_saving_pct, F64, "%",
          "predicted Wh/prompt saving from the what-if forks"),
    FIELD(sk_action_record, pred_ttft_p95_ms, F64, "ms", "predicted TTFT p95"),
    FIELD(sk_action_record, pred_max_inlet_c, F64, "degC", "predicted max rack inlet"),
    FIELD(sk_action_record, realized_saving_pct, F64, "%",
          "realized Wh/prompt saving against the counterfactual"),
};

static const sk_schema_field command_fields[] = {
    FIELD(sk_command_record, ts, F64, "s", "sim time the command was applied (a control boundary)"),
    FIELD(sk_command_record, seq, I64, "1", "0, 1, ... in order of application"),
    FIELD(sk_command_record, kind, STR, "", "mode, kill_switch, set, effect_start, ..."),
    FIELD(sk_command_record, key, STR, "", "the setting, effect or lever it names; empty if none"),
    FIELD(sk_command_record, value, STR, "", "the value as text, e.g. closed_loop or 27"),
    FIELD(sk_command_record, source, STR, "", "who posted it: cli, api, viz, test, ..."),
};

static const sk_schema_field rack_layout_fields[] = {
    FIELD(sk_rack_entry, rack_id, STR, "", "rack id, e.g. R-C-07"),
    FIELD(sk_rack_entry, row, I32, "1", "row index, 0 = row A"),
    FIELD(sk_rack_entry, pos, I32, "1", "position in the row, 0 = first"),
};

#define TABLE(id, path, desc, type, fields)                                                        \
  [id] = {id, path, desc, sizeof(type), fields, COUNT(fields)}

const sk_schema_table sk_schema_tables[SK_TABLE_COUNT] = {
    TABLE(SK_TABLE_RACKS, "/telemetry/racks", "one row per rack per sample period", sk_rack_sample,
          rack_fields),
    TABLE(SK_TABLE_CRAH, "/telemetry/crah", "one row per CRAH (row) per sample period",
          sk_crah_sample, crah_fields),
    TABLE(SK_TABLE_ROOM, "/telemetry/room", "one row per sample period", sk_room_sample,
          room_fields),
    TABLE(SK_TABLE_EVENTS, "/events", "scenario timeline events, in sim-time order",
          sk_event_record, event_fields),
    TABLE(SK_TABLE_MONITOR, "/monitor/racks", "IMS/MMS output per rack per fast-loop tick",
          sk_monitor_record, monitor_fields),
    TABLE(SK_TABLE_ACTIONS, "/actions",
          "audit trail: every proposal, decision, prediction and realized effect", sk_action_record,
          action_fields),
    TABLE(SK_TABLE_COMMANDS, "/commands",
          "commands posted to the run session, as applied, in order of application",
          sk_command_record, command_fields),
    TABLE(SK_TABLE_RACK_LAYOUT, "/racks", "the racks of the room, static", sk_rack_entry,
          rack_layout_fields),
};

const sk_schema_table *sk_schema_table_find(const char *path) {
  SK_REQUIRE(path);
  for (int i = 0; i < SK_TABLE_COUNT; i++)
    if (strcmp(sk_schema_tables[i].path, path) == 0)
      return &sk_schema_tables[i];
  return NULL;
}

const sk_schema_field *sk_schema_field_find(const sk_schema_table *t, const char *name) {
  SK_REQUIRE(t && name);
  for (size_t i = 0; i < t->n_fields; i++)
    if (strcmp(t->fields[i].name, name) == 0)
      return &t->fields[i];
  return NULL;
}

/* The char array at p (size bytes, maybe without a NUL) as a JSON string. */
static cJSON *json_text(const char *p, size_t size) {
  char small[256], *s = small;
  size_t len = strnlen(p, size);
  if (len >= sizeof small && !(s = malloc(len + 1)))
    return NULL;
  memcpy(s, p, len);
  s[len] = '\0';
  cJSON *j = cJSON_CreateString(s);
  if (s != small)
    free(s);
  return j;
}

static cJSON *json_field(const sk_schema_field *f, const unsigned char *row) {
  const unsigned char *p = row + f->offset;
  switch (f->type) {
  case SK_FIELD_F64: {
    double v;
    memcpy(&v, p, sizeof v);
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
  }
  case SK_FIELD_I32: {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return cJSON_CreateNumber(v);
  }
  case SK_FIELD_I64: {
    int64_t v;
    memcpy(&v, p, sizeof v);
    return cJSON_CreateNumber((double)v);
  }
  case SK_FIELD_STR:
    return json_text((const char *)p, f->size);
  }
  return NULL;
}

cJSON *sk_schema_row_json(const sk_schema_table *t, const void *row) {
  SK_REQUIRE(t && row);
  cJSON *o = cJSON_CreateObject();
  for (size_t i = 0; o && i < t->n_fields; i++) {
    cJSON *v = json_field(&t->fields[i], row);
    if (!v || !cJSON_AddItemToObject(o, t->fields[i].name, v)) {
      cJSON_Delete(v);
      cJSON_Delete(o);
      o = NULL;
    }
  }
  return o;
}
