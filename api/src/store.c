/*
 * store.c -- the twin side's memory of its run (store.h).  Growable arrays that double;
 * rows are appended in ts order, so a time bound is a binary search.
 */
#define _POSIX_C_SOURCE 200809L

#include "store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RACKS 1664

typedef struct {
  void *rows;
  size_t n, cap, size;
} vec;

struct sk__store {
  double start_hour;
  int n_racks;
  char (*rack_ids)[SK_RACK_ID_LEN];
  int n_rows, racks_per_row;
  vec room; /* sk_room_sample */
  vec heat; /* double[SK_HEAT_COUNT * n_racks] per sample */
  vec mms;  /* int: racks the MMS calls persistent at the sample, -1 before any tick */
  vec acts, evs, cmds;
};

static int vec_push(vec *v, const void *row) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 256;
    void *p = realloc(v->rows, cap * v->size);
    if (!p)
      return 0;
    v->rows = p;
    v->cap = cap;
  }
  memcpy((char *)v->rows + v->n * v->size, row, v->size);
  v->n++;
  return 1;
}

#define AT(v, T, i) ((const T *)(v).rows + (i))

sk__store *sk__store_create(double start_hour) {
  sk__store *st = calloc(1, sizeof *st);
  if (!st)
    return NULL;
  st->start_hour = start_hour;
  st->room.size = sizeof(sk_room_sample);
  st->mms.size = sizeof(int);
  st->acts.size = sizeof(sk_action_record);
  st->evs.size = sizeof(sk_event_record);
  st->cmds.size = sizeof(sk_command_record);
  return st;
}

void sk__store_destroy(sk__store *st) {
  if (!st)
    return;
  free(st->room.rows);
  free(st->heat.rows);
  free(st->mms.rows);
  free(st->acts.rows);
  free(st->evs.rows);
  free(st->cmds.rows);
  free(st->rack_ids);
  free(st);
}

/* Row index and position (0-based) of "R-C-07"; 0 when it is not that form. */
static int rack_pos(const char *id, int *row, int *pos) {
  char r;
  int p;
  if (sscanf(id, "R-%c-%d", &r, &p) != 2 || r < 'A' || r > 'Z' || p < 1)
    return 0;
  *row = r - 'A';
  *pos = p - 1;
  return 1;
}

int sk__store_add_sample(sk__store *st, const sk_room_sample *room, const sk_rack_sample *racks,
                         int n_racks, const sk_monitor_record *monitor, int n_monitor) {
  if (st->n_racks == 0 && n_racks > 0 && n_racks <= MAX_RACKS) {
    st->rack_ids = calloc((size_t)n_racks, sizeof *st->rack_ids);
    if (!st->rack_ids)
      return 0;
    st->n_racks = n_racks;
    st->heat.size = sizeof(double) * SK_HEAT_COUNT * (size_t)n_racks;
    for (int i = 0; i < n_racks; i++) {
      memcpy(st->rack_ids[i], racks[i].rack_id, SK_RACK_ID_LEN);
      st->rack_ids[i][SK_RACK_ID_LEN - 1] = 0;
      int r, p;
      if (rack_pos(st->rack_ids[i], &r, &p)) {
        if (r + 1 > st->n_rows)
          st->n_rows = r + 1;
        if (p + 1 > st->racks_per_row)
          st->racks_per_row = p + 1;
      }
    }
  }
  if (n_racks != st->n_racks)
    return 0;
  double *h = malloc(st->heat.size);
  if (!h)
    return 0;
  for (int i = 0; i < n_racks; i++) {
    h[SK_HEAT_INLET * n_racks + i] = racks[i].inlet_c;
    h[SK_HEAT_OUTLET * n_racks + i] = racks[i].outlet_c;
    h[SK_HEAT_POWER * n_racks + i] = racks[i].pdu_kw;
    double dev = NAN;
    for (int m = 0; m < n_monitor; m++) {
      int k = (i + m) % n_monitor; /* rows come in rack order: the first try hits */
      if (strncmp(monitor[k].rack_id, st->rack_ids[i], sizeof monitor[k].rack_id) == 0) {
        dev = monitor[k].deviation;
        break;
      }
    }
    h[SK_HEAT_DEVIATION * n_racks + i] = dev;
  }
  int persistent = n_monitor > 0 ? 0 : -1;
  for (int m = 0; m < n_monitor; m++)
    persistent += monitor[m].state == 1;
  int ok = vec_push(&st->heat, h);
  free(h);
  if (!ok)
    return 0;
  if (!vec_push(&st->mms, &persistent)) {
    st->heat.n--;
    return 0;
  }
  if (!vec_push(&st->room, room)) {
    st->heat.n--;
    st->mms.n--;
    return 0;
  }
  return 1;
}

int sk__store_add_action(sk__store *st, const sk_action_record *a) {
  return vec_push(&st->acts, a);
}

int sk__store_add_event(sk__store *st, const sk_event_record *ev) {
  return vec_push(&st->evs, ev);
}

int sk__store_add_command(sk__store *st, const sk_command_record *c) {
  return vec_push(&st->cmds, c);
}

size_t sk__store_samples(const sk__store *st) {
  return st->room.n;
}

const sk_room_sample *sk__store_room(const sk__store *st, size_t i) {
  return AT(st->room, sk_room_sample, i);
}

/* Times a client names are matched within EPS_S: sample times are sums of periods
 * (30.000000000000004 s), which JSON prints as 30. */
#define EPS_S 1e-6

/* First index with ts > t among n rows of `size` bytes whose ts (first member) ascends. */
static size_t upper(const vec *v, double t) {
  size_t lo = 0, hi = v->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    double ts;
    memcpy(&ts, (const char *)v->rows + mid * v->size, sizeof ts);
    if (ts <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static const vec *table_vec(const sk__store *st, sk_table_id t) {
  switch (t) {
  case SK_TABLE_ACTIONS:
    return &st->acts;
  case SK_TABLE_EVENTS:
    return &st->evs;
  case SK_TABLE_COMMANDS:
    return &st->cmds;
  case SK_TABLE_ROOM:
    return &st->room;
  default:
    return NULL;
  }
}

size_t sk__store_count(const sk__store *st, sk_table_id t) {
  const vec *v = table_vec(st, t);
  return v ? v->n : 0;
}

const void *sk__store_row(const sk__store *st, sk_table_id t, size_t i) {
  const vec *v = table_vec(st, t);
  return v && i < v->n ? (const char *)v->rows + i * v->size : NULL;
}

size_t sk__store_lower(const sk__store *st, sk_table_id t, double ts_s) {
  const vec *v = table_vec(st, t);
  if (!v)
    return 0;
  size_t lo = 0, hi = v->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    double ts;
    memcpy(&ts, (const char *)v->rows + mid * v->size, sizeof ts);
    if (ts < ts_s)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

const sk_action_record *sk__store_last_decision(const sk__store *st, double ts_s) {
  for (size_t i = upper(&st->acts, ts_s); i-- > 0;) {
    const sk_action_record *a = AT(st->acts, sk_action_record, i);
    if (sk__action_is_decision(a))
      return a;
  }
  return NULL;
}

cJSON *sk__store_active_effects(const sk__store *st, double now_s) {
  cJSON *o = cJSON_CreateObject();
  size_t n = upper(&st->evs, now_s);
  for (size_t i = 0; i < n; i++) {
    const sk_event_record *ev = AT(st->evs, sk_event_record, i);
    char name[SK_NAME_LEN + 1];
    snprintf(name, sizeof name, "%.*s", (int)sizeof ev->name, ev->name);
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    if (strncmp(ev->phase, "start", sizeof ev->phase) == 0)
      cJSON_AddNumberToObject(o, name, ev->ts);
  }
  return o;
}

static void add_iso(cJSON *o, const char *key, double start_hour, double ts) {
  char iso[40];
  sk__api_iso(start_hour, ts, iso, sizeof iso);
  cJSON_AddStringToObject(o, key, iso);
}

cJSON *sk__store_heatmap(const sk__store *st, const cJSON *args, double now_s, sk__api_error *e) {
  static const char *const allowed[] = {"type", "ts", NULL};
  if (!sk__args_only(args, allowed, e))
    return NULL;
  const char *type = "inlet";
  if (sk__arg_string(args, "type", 0, &type, e) < 0)
    return NULL;
  sk__heat h;
  if (!sk__heat_parse(type, &h)) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "type",
                 "type: '%s' is not inlet, outlet, power or deviation", type);
    return NULL;
  }
  size_t n = upper(&st->room, now_s);
  const cJSON *tsv = cJSON_GetObjectItemCaseSensitive(args, "ts");
  double at = now_s;
  if (tsv && !(cJSON_IsString(tsv) && strcmp(tsv->valuestring, "now") == 0)) {
    if (!sk__api_time_arg(tsv, st->start_hour, "ts", &at, e))
      return NULL;
    if (at > now_s) {
      sk__api_fail(e, SK_APIE_NOT_FOUND, "ts", "ts: %.0f s is after the run's now (%.0f s)", at,
                   now_s);
      return NULL;
    }
    n = upper(&st->room, at + EPS_S);
  }
  if (n == 0) {
    sk__api_fail(e, SK_APIE_NOT_FOUND, "ts", "ts: no sample at or before that time yet");
    return NULL;
  }
  size_t i = n - 1;
  const sk_room_sample *room = AT(st->room, sk_room_sample, i);
  const double *vals = (const double *)((const char *)st->heat.rows + i * st->heat.size) +
                       (size_t)h * (size_t)st->n_racks;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", sk__heat_name(h));
  cJSON_AddStringToObject(o, "units", sk__heat_units(h));
  add_iso(o, "ts", st->start_hour, room->ts);
  cJSON_AddNumberToObject(o, "sim_time_s", room->ts);
  cJSON *rows = cJSON_AddArrayToObject(o, "rows");
  for (int r = 0; r < st->n_rows; r++) {
    char name[2] = {(char)('A' + r), 0};
    cJSON_AddItemToArray(rows, cJSON_CreateString(name));
  }
  cJSON_AddNumberToObject(o, "racks_per_row", st->racks_per_row);
  cJSON *grid = cJSON_AddArrayToObject(o, "grid");
  for (int r = 0; r < st->n_rows; r++) {
    cJSON *line = cJSON_CreateArray();
    for (int p = 0; p < st->racks_per_row; p++)
      cJSON_AddItemToArray(line, cJSON_CreateNull());
    cJSON_AddItemToArray(grid, line);
  }
  cJSON *racks = cJSON_AddArrayToObject(o, "racks");
  double lo = INFINITY, hi = -INFINITY;
  for (int k = 0; k < st->n_racks; k++) {
    double v = vals[k];
    cJSON *rk = cJSON_CreateObject();
    cJSON_AddStringToObject(rk, "rack_id", st->rack_ids[k]);
    int r, p;
    if (rack_pos(st->rack_ids[k], &r, &p)) {
      char row[2] = {(char)('A' + r), 0};
      cJSON_AddStringToObject(rk, "row", row);
      cJSON_AddNumberToObject(rk, "pos", p + 1);
      if (isfinite(v))
        cJSON_ReplaceItemInArray(cJSON_GetArrayItem(grid, r), p, cJSON_CreateNumber(v));
    }
    sk__json_num(rk, "value", v);
    cJSON_AddItemToArray(racks, rk);
    if (isfinite(v)) {
      lo = fmin(lo, v);
      hi = fmax(hi, v);
    }
  }
  sk__json_num(o, "min", lo);
  sk__json_num(o, "max", hi);
  return o;
}

static cJSON *action_json(double start_hour, const sk_action_record *a) {
  cJSON *o = sk_schema_row_json(&sk_schema_tables[SK_TABLE_ACTIONS], a);
  char delta[48];
  sk__action_delta_text(a, delta, sizeof delta);
  cJSON_AddStringToObject(o, "delta_text", delta);
  add_iso(o, "ts_iso", start_hour, a->ts);
  return o;
}

cJSON *sk__store_timeline(const sk__store *st, const cJSON *args, double now_s, sk__api_error *e) {
  static const char *const allowed[] = {"from", "to", "max_points", NULL};
  if (!sk__args_only(args, allowed, e))
    return NULL;
  double from = 0, to = now_s, maxp = 500;
  const cJSON *v;
  if ((v = cJSON_GetObjectItemCaseSensitive(args, "from")) &&
      !sk__api_time_arg(v, st->start_hour, "from", &from, e))
    return NULL;
  if ((v = cJSON_GetObjectItemCaseSensitive(args, "to")) &&
      !sk__api_time_arg(v, st->start_hour, "to", &to, e))
    return NULL;
  if (sk__arg_number(args, "max_points", 0, &maxp, e) < 0)
    return NULL;
  if (maxp < 1 || maxp > 10000 || maxp != floor(maxp)) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "max_points",
                 "max_points: a whole number in [1, 10000]");
    return NULL;
  }
  if (to < from) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "to", "to: before from");
    return NULL;
  }
  if (to > now_s)
    to = now_s;
  size_t a = upper(&st->room, from - EPS_S), b = upper(&st->room, to + EPS_S);
  size_t count = b > a ? b - a : 0;
  size_t stride = count > (size_t)maxp ? (count + (size_t)maxp - 1) / (size_t)maxp : 1;
  cJSON *o = cJSON_CreateObject();
  add_iso(o, "from", st->start_hour, from);
  add_iso(o, "to", st->start_hour, to);
  cJSON_AddNumberToObject(o, "from_sim_time_s", from);
  cJSON_AddNumberToObject(o, "to_sim_time_s", to);
  cJSON_AddNumberToObject(o, "stride", (double)stride);
  cJSON *series = cJSON_AddArrayToObject(o, "series");
  for (size_t i = a; i < b; i += stride) {
    const sk_room_sample *r = AT(st->room, sk_room_sample, i);
    const double *dev = (const double *)((const char *)st->heat.rows + i * st->heat.size) +
                        (size_t)SK_HEAT_DEVIATION * (size_t)st->n_racks;
    double mx = NAN;
    for (int k = 0; k < st->n_racks; k++)
      if (isfinite(dev[k]) && !(mx >= dev[k]))
        mx = dev[k];
    cJSON *p = cJSON_CreateObject();
    add_iso(p, "ts", st->start_hour, r->ts);
    cJSON_AddNumberToObject(p, "sim_time_s", r->ts);
    sk__json_num(p, "j_per_prompt_wh", r->j_per_prompt_wh_cum);
    sk__json_num(p, "j_per_prompt_wh_window", r->j_per_prompt_wh);
    sk__json_num(p, "latency_p95_ms", r->latency_p95_ms);
    sk__json_num(p, "inlet_compliance_pct", r->inlet_compliance_pct);
    sk__json_num(p, "ims_deviation", mx);
    int persistent = *((const int *)st->mms.rows + i);
    if (persistent < 0) {
      cJSON_AddNullToObject(p, "mms_state");
      cJSON_AddNullToObject(p, "persistent_racks");
    } else {
      cJSON_AddStringToObject(p, "mms_state", persistent > 0 ? "persistent" : "transient");
      cJSON_AddNumberToObject(p, "persistent_racks", persistent);
    }
    sk__json_num(p, "pue", r->pue);
    sk__json_num(p, "it_kw", r->it_kw);
    sk__json_num(p, "facility_kw", r->facility_kw);
    sk__json_num(p, "max_inlet_c", r->max_inlet_c);
    cJSON_AddItemToArray(series, p);
  }
  cJSON *ann = cJSON_AddArrayToObject(o, "annotations");
  size_t na = 0;
  for (size_t i = upper(&st->acts, from - EPS_S); i < st->acts.n && na < 2000; i++) {
    const sk_action_record *ar = AT(st->acts, sk_action_record, i);
    if (ar->ts > to + EPS_S)
      break;
    if (!sk__action_is_decision(ar) && strcmp(ar->decision, "rolled_back") != 0)
      continue;
    cJSON *x = action_json(st->start_hour, ar);
    cJSON_AddStringToObject(x, "kind", "action");
    cJSON_AddItemToArray(ann, x);
    na++;
  }
  for (size_t i = upper(&st->evs, from - EPS_S); i < st->evs.n; i++) {
    const sk_event_record *ev = AT(st->evs, sk_event_record, i);
    if (ev->ts > to + EPS_S)
      break;
    cJSON *x = sk_schema_row_json(&sk_schema_tables[SK_TABLE_EVENTS], ev);
    cJSON_AddStringToObject(x, "kind", "event");
    add_iso(x, "ts_iso", st->start_hour, ev->ts);
    cJSON_AddItemToArray(ann, x);
  }
  for (size_t i = upper(&st->cmds, from - EPS_S); i < st->cmds.n; i++) {
    const sk_command_record *c = AT(st->cmds, sk_command_record, i);
    if (c->ts > to + EPS_S)
      break;
    cJSON *x = sk_schema_row_json(&sk_schema_tables[SK_TABLE_COMMANDS], c);
    cJSON_AddStringToObject(x, "kind", "command");
    add_iso(x, "ts_iso", st->start_hour, c->ts);
    cJSON_AddItemToArray(ann, x);
  }
  return o;
}

cJSON *sk__store_actions_log(const sk__store *st, const cJSON *args, double now_s,
                             sk__api_error *e) {
  static const char *const allowed[] = {"limit", "decision", NULL};
  if (!sk__args_only(args, allowed, e))
    return NULL;
  double limit = 100;
  const char *decision = NULL;
  if (sk__arg_number(args, "limit", 0, &limit, e) < 0 ||
      sk__arg_string(args, "decision", 0, &decision, e) < 0)
    return NULL;
  if (limit < 1 || limit > 10000 || limit != floor(limit)) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "limit", "limit: a whole number in [1, 10000]");
    return NULL;
  }
  static const char *const decisions[] = {"applied",     "advised", "rejected", "realized",
                                          "rolled_back", "trained", "failed"};
  if (decision) {
    int ok = 0;
    for (size_t i = 0; i < sizeof decisions / sizeof *decisions; i++)
      ok |= strcmp(decision, decisions[i]) == 0;
    if (!ok) {
      sk__api_fail(e, SK_APIE_INVALID_FIELD, "decision",
                   "decision: '%s' is not applied, advised, rejected, realized, rolled_back, "
                   "trained or failed",
                   decision);
      return NULL;
    }
  }
  size_t n = upper(&st->acts, now_s);
  cJSON *o = cJSON_CreateObject();
  cJSON *arr = cJSON_CreateArray();
  size_t total = 0, shown = 0;
  /* newest `limit` matching rows, listed oldest first */
  size_t start = n;
  for (size_t i = n; i-- > 0;) {
    const sk_action_record *a = AT(st->acts, sk_action_record, i);
    if (decision && strncmp(a->decision, decision, sizeof a->decision) != 0)
      continue;
    total++;
    if (shown < (size_t)limit) {
      shown++;
      start = i;
    }
  }
  for (size_t i = start; i < n && shown > 0; i++) {
    const sk_action_record *a = AT(st->acts, sk_action_record, i);
    if (decision && strncmp(a->decision, decision, sizeof a->decision) != 0)
      continue;
    cJSON_AddItemToArray(arr, action_json(st->start_hour, a));
    shown--;
  }
  cJSON_AddNumberToObject(o, "total", (double)total);
  cJSON_AddItemToObject(o, "actions", arr);
  return o;
}

cJSON *sk__store_optimizer_tick(const sk__store *st, double now_s) {
  size_t n = upper(&st->acts, now_s);
  double tick = NAN;
  for (size_t i = n; i-- > 0;) {
    const sk_action_record *a = AT(st->acts, sk_action_record, i);
    if (strcmp(a->loop, "slow") == 0 &&
        (sk__action_is_decision(a) || strcmp(a->decision, "rejected") == 0)) {
      tick = a->ts;
      break;
    }
  }
  cJSON *o = cJSON_CreateObject();
  cJSON *props = cJSON_AddArrayToObject(o, "proposals");
  const sk_action_record *best = NULL;
  if (isfinite(tick)) {
    for (size_t i = upper(&st->acts, tick - 1e-9); i < n; i++) {
      const sk_action_record *a = AT(st->acts, sk_action_record, i);
      if (a->ts != tick || strcmp(a->loop, "slow") != 0)
        continue;
      if (!sk__action_is_decision(a) && strcmp(a->decision, "rejected") != 0)
        continue;
      cJSON *p = action_json(st->start_hour, a);
      cJSON_AddItemToArray(props, p);
      if (sk__action_is_decision(a) && (!best || (isfinite(a->pred_saving_pct) &&
                                                  !(best->pred_saving_pct >= a->pred_saving_pct))))
        best = a;
    }
    add_iso(o, "ts", st->start_hour, tick);
    cJSON_AddNumberToObject(o, "sim_time_s", tick);
  } else {
    cJSON_AddNullToObject(o, "ts");
    cJSON_AddNullToObject(o, "sim_time_s");
  }
  if (best) {
    cJSON *p = cJSON_AddObjectToObject(o, "picked");
    cJSON_AddStringToObject(p, "action", best->action);
    cJSON *params = cJSON_AddObjectToObject(p, "params");
    char key[40];
    snprintf(key, sizeof key, "delta_%s", strcmp(best->unit, "%") == 0 ? "pct" : best->unit);
    cJSON_AddNumberToObject(params, key, best->delta);
    cJSON_AddStringToObject(params, "target", best->target);
    sk__json_num(p, "pred_saving_pct", best->pred_saving_pct);
    cJSON_AddStringToObject(p, "reason", best->reason);
    cJSON_AddStringToObject(p, "decision", best->decision);
  } else {
    cJSON_AddNullToObject(o, "picked");
  }
  return o;
}
