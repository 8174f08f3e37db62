/*
 * proto.c -- the protocol's shared pieces (proto.h): error catalogue, the API's clock and
 * the frames.  The frames are built from recorded rows only (never from a snapshot's
 * whole-run figures), so a replay of a recording publishes what the live run published.
 * Row objects come from the library's one schema (sk_schema_row_json); the kpis frame is
 * the seed's /ws/events shape, with extra members a seed frontend ignores.
 */
#define _POSIX_C_SOURCE 200809L

#include "proto.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "skadi/timestamp.h"

static const struct {
  const char *name;
  int http;
} errors[SK_APIE_COUNT] = {
#define SK__API_ERR_ROW(id, name, http) {name, http},
    SK_API_ERRORS(SK__API_ERR_ROW)
#undef SK__API_ERR_ROW
};

const char *sk__api_err_name(sk__api_err e) {
  return (int)e >= 0 && e < SK_APIE_COUNT ? errors[e].name : "internal";
}

int sk__api_err_http(sk__api_err e) {
  return (int)e >= 0 && e < SK_APIE_COUNT ? errors[e].http : 500;
}

int sk__api_err_http_by_name(const char *name) {
  for (int i = 0; i < SK_APIE_COUNT; i++)
    if (name && strcmp(errors[i].name, name) == 0)
      return errors[i].http;
  return 500;
}

void sk__api_fail(sk__api_error *e, sk__api_err code, const char *field, const char *fmt, ...) {
  e->code = code;
  snprintf(e->field, sizeof e->field, "%s", field ? field : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
}

cJSON *sk__api_error_json(const sk__api_error *e) {
  cJSON *o = cJSON_CreateObject();
  cJSON *in = cJSON_AddObjectToObject(o, "error");
  cJSON_AddStringToObject(in, "code", sk__api_err_name(e->code));
  cJSON_AddStringToObject(in, "message", e->message);
  if (e->field[0])
    cJSON_AddStringToObject(in, "field", e->field);
  else
    cJSON_AddNullToObject(in, "field");
  return o;
}

/* 2026-01-01T00:00:00Z in s since the epoch. */
#define API_EPOCH_S 1767225600.0

void sk__api_iso(double start_hour, double ts_s, char *buf, size_t len) {
  if (!(fabs(ts_s) < 1e11) || !(fabs(start_hour) < 1e6)) { /* no such time: "" */
    if (len)
      buf[0] = 0;
    return;
  }
  /* in whole ms: sim times are sums of periods (30.000000000000004 s is 30 s) */
  int64_t ms = llround(ts_s * 1000.0) + llround(start_hour * 3600e3) + (int64_t)API_EPOCH_S * 1000;
  sk_time_format(ms * 1000000, ms % 1000 ? 3 : 0, buf, len);
}

int sk__api_time_arg(const cJSON *v, double start_hour, const char *field, double *ts_s,
                     sk__api_error *e) {
  if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
    if (fabs(v->valuedouble) > 1e10) {
      sk__api_fail(e, SK_APIE_INVALID_FIELD, field, "%s: %g s is beyond +-1e10 s of sim time",
                   field, v->valuedouble);
      return 0;
    }
    *ts_s = v->valuedouble;
    return 1;
  }
  if (cJSON_IsString(v)) {
    int64_t t_ns;
    char why[256];
    sk_time_opts o;
    sk_time_opts_init(&o);
    o.min_ns = 0;                                /* 1970 .. */
    o.max_ns = (int64_t)7258118400 * 1000000000; /* .. 2200 */
    if (sk_time_parse(v->valuestring, strlen(v->valuestring), &o, &t_ns, why, sizeof why) ==
        SK_OK) {
      /* in whole ns first: 10:00:30 is exactly 30 s, not 29.999999 */
      int64_t zero_ns = (int64_t)API_EPOCH_S * 1000000000LL + llround(start_hour * 3600e9);
      *ts_s = (double)(t_ns - zero_ns) / 1e9;
      return 1;
    }
    sk__api_fail(e, SK_APIE_INVALID_FIELD, field, "%s: %s", field, why);
    return 0;
  }
  sk__api_fail(e, SK_APIE_INVALID_FIELD, field,
               "%s: expected sim seconds or an ISO 8601 time like 2026-01-01T10:05:00Z", field);
  return 0;
}

void sk__json_num(cJSON *o, const char *key, double v) {
  if (isfinite(v))
    cJSON_AddNumberToObject(o, key, v);
  else
    cJSON_AddNullToObject(o, key);
}

int sk__action_is_decision(const sk_action_record *a) {
  return strcmp(a->decision, "applied") == 0 || strcmp(a->decision, "advised") == 0;
}

void sk__action_delta_text(const sk_action_record *a, char *buf, size_t len) {
  const char *u = strcmp(a->unit, "x") == 0 ? "x" : a->unit;
  snprintf(buf, len, "%+g%s", a->delta, u);
}

void sk__monitor_summary(const sk_monitor_record *rows, int n, double *max_dev, const char **rack,
                         int *persistent) {
  *max_dev = NAN;
  *rack = NULL;
  *persistent = 0;
  for (int i = 0; i < n; i++) {
    if (isfinite(rows[i].deviation) && (!isfinite(*max_dev) || rows[i].deviation > *max_dev)) {
      *max_dev = rows[i].deviation;
      *rack = rows[i].rack_id;
    }
    *persistent += rows[i].state == 1;
  }
}

static cJSON *frame_head(const char *topic, double start_hour, double ts_s) {
  char iso[40];
  sk__api_iso(start_hour, ts_s, iso, sizeof iso);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "v", SK_API_PROTOCOL_VERSION);
  cJSON_AddStringToObject(o, "topic", topic);
  cJSON_AddStringToObject(o, "ts", iso);
  cJSON_AddNumberToObject(o, "sim_time_s", ts_s);
  return o;
}

cJSON *sk__frame_kpis(const sk__frame_in *in) {
  const sk_room_sample *r = in->room;
  cJSON *o = frame_head("kpis", in->start_hour, r->ts);
  cJSON *k = cJSON_AddObjectToObject(o, "kpis");
  sk__json_num(k, "j_per_prompt_wh", r->j_per_prompt_wh_cum);
  sk__json_num(k, "j_per_prompt_wh_window", r->j_per_prompt_wh);
  sk__json_num(k, "latency_p95_ms", r->latency_p95_ms);
  sk__json_num(k, "inlet_compliance_pct", r->inlet_compliance_pct);
  sk__json_num(k, "pue", r->pue);
  sk__json_num(k, "it_kw", r->it_kw);
  sk__json_num(k, "facility_kw", r->facility_kw);
  sk__json_num(k, "max_inlet_c", r->max_inlet_c);
  sk__json_num(k, "tokens_ps", r->tokens_ps);
  cJSON_AddNumberToObject(k, "queue_depth", r->queue_depth);
  cJSON *ims = cJSON_AddObjectToObject(o, "ims");
  double dev;
  const char *rack;
  int persistent;
  sk__monitor_summary(in->monitor, in->monitor ? in->n_monitor : 0, &dev, &rack, &persistent);
  sk__json_num(ims, "deviation", dev);
  if (in->monitor && in->n_monitor > 0) {
    cJSON_AddStringToObject(ims, "mms_state", persistent > 0 ? "persistent" : "transient");
    cJSON_AddStringToObject(ims, "rack_id", rack ? rack : "");
  } else {
    cJSON_AddNullToObject(ims, "mms_state");
    cJSON_AddNullToObject(ims, "rack_id");
  }
  cJSON_AddNumberToObject(ims, "persistent_racks", persistent);
  const sk_action_record *a = in->last_action;
  if (a) {
    char delta[48];
    sk__action_delta_text(a, delta, sizeof delta);
    cJSON *la = cJSON_AddObjectToObject(o, "last_action");
    cJSON_AddStringToObject(la, "action", a->action);
    cJSON_AddStringToObject(la, "delta", delta);
    sk__json_num(la, "pred_saving_pct", a->pred_saving_pct);
    cJSON_AddStringToObject(la, "target", a->target);
    cJSON_AddStringToObject(la, "decision", a->decision);
    cJSON_AddNumberToObject(la, "id", (double)a->id);
    cJSON_AddNumberToObject(la, "sim_time_s", a->ts);
  } else {
    cJSON_AddNullToObject(o, "last_action");
  }
  return o;
}

static cJSON *rows_array(sk_table_id t, const void *rows, int n) {
  const sk_schema_table *tab = &sk_schema_tables[t];
  cJSON *arr = cJSON_CreateArray();
  for (int i = 0; i < n; i++)
    cJSON_AddItemToArray(arr,
                         sk_schema_row_json(tab, (const char *)rows + (size_t)i * tab->row_size));
  return arr;
}

cJSON *sk__frame_racks(double start_hour, const sk_room_sample *room, const sk_rack_sample *racks,
                       int n_racks, const sk_crah_sample *crahs, int n_rows,
                       const sk_monitor_record *monitor, int n_monitor) {
  cJSON *o = frame_head("racks", start_hour, room->ts);
  cJSON_AddItemToObject(o, "racks", rows_array(SK_TABLE_RACKS, racks, n_racks));
  cJSON_AddItemToObject(o, "crah", rows_array(SK_TABLE_CRAH, crahs, n_rows));
  cJSON_AddItemToObject(o, "room", sk_schema_row_json(&sk_schema_tables[SK_TABLE_ROOM], room));
  cJSON_AddItemToObject(o, "monitor",
                        rows_array(SK_TABLE_MONITOR, monitor, monitor ? n_monitor : 0));
  return o;
}

cJSON *sk__frame_row(const char *topic, const char *key, double start_hour, sk_table_id t,
                     const void *row, double ts_s) {
  cJSON *o = frame_head(topic, start_hour, ts_s);
  cJSON_AddItemToObject(o, key, sk_schema_row_json(&sk_schema_tables[t], row));
  return o;
}

static const char *const heat_names[SK_HEAT_COUNT] = {"inlet", "outlet", "power", "deviation"};
static const char *const heat_units[SK_HEAT_COUNT] = {"degC", "degC", "kW", "1"};

int sk__heat_parse(const char *name, sk__heat *out) {
  for (int i = 0; i < SK_HEAT_COUNT; i++)
    if (strcmp(name, heat_names[i]) == 0) {
      *out = (sk__heat)i;
      return 1;
    }
  return 0;
}

const char *sk__heat_name(sk__heat h) {
  return heat_names[h];
}

const char *sk__heat_units(sk__heat h) {
  return heat_units[h];
}

int sk__args_only(const cJSON *args, const char *const *allowed, sk__api_error *e) {
  const cJSON *m;
  cJSON_ArrayForEach(m, args) {
    int ok = 0;
    for (const char *const *a = allowed; *a && !ok; a++)
      ok = m->string && strcmp(m->string, *a) == 0;
    if (!ok) {
      char list[256] = "";
      for (const char *const *a = allowed; *a; a++) {
        size_t u = strlen(list);
        snprintf(list + u, sizeof list - u, "%s%s", a == allowed ? "" : ", ", *a);
      }
      sk__api_fail(e, SK_APIE_UNKNOWN_FIELD, m->string ? m->string : "",
                   "%s: unknown field (this request takes %s)", m->string ? m->string : "?",
                   list[0] ? list : "no fields");
      return 0;
    }
  }
  return 1;
}

static int arg_get(const cJSON *args, const char *name, int required, const cJSON **out,
                   sk__api_error *e) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
  if (!v || cJSON_IsNull(v)) {
    if (required)
      sk__api_fail(e, SK_APIE_MISSING_FIELD, name, "%s: required", name);
    return 0;
  }
  *out = v;
  return 1;
}

int sk__arg_string(const cJSON *args, const char *name, int required, const char **out,
                   sk__api_error *e) {
  const cJSON *v;
  if (!arg_get(args, name, required, &v, e))
    return 0;
  if (!cJSON_IsString(v)) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, name, "%s: expected a string", name);
    return -1;
  }
  *out = v->valuestring;
  return 1;
}

int sk__arg_number(const cJSON *args, const char *name, int required, double *out,
                   sk__api_error *e) {
  const cJSON *v;
  if (!arg_get(args, name, required, &v, e))
    return 0;
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, name, "%s: expected a number", name);
    return -1;
  }
  *out = v->valuedouble;
  return 1;
}

int sk__arg_bool(const cJSON *args, const char *name, int required, int *out, sk__api_error *e) {
  const cJSON *v;
  if (!arg_get(args, name, required, &v, e))
    return 0;
  if (!cJSON_IsBool(v)) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, name, "%s: expected true or false", name);
    return -1;
  }
  *out = cJSON_IsTrue(v);
  return 1;
}
