/*
 * report.c -- the judges' report (the seed's POST /report/judges) built from a recording
 * of `skadi run`: one cJSON object, every field described in docs/REPORT.md.
 *
 * Invariants:
 *  - The report only reads what the recording holds.  Whole-run figures come from
 *    /summary, written by the run itself; the report never re-derives one that is there.
 *    When /summary is missing (a killed run) the figures that can be computed exactly from
 *    /telemetry/room (energies, prompts, Wh/prompt, PUE, max inlet) are, and the report
 *    says so; the whole-run TTFT p95 cannot be (a p95 of per-sample p95s is not a p95), so
 *    it is null.  Nothing is estimated: the counterfactual's energy breakdown is not
 *    recorded, so savings by subsystem are not given (a note says so).
 *  - Tables are read in blocks of BLOCK_ROWS, and only the action rows the log needs
 *    (applied, rolled back, realized, IMS training) are kept, so memory stays flat in the
 *    run length: a simulated day has ~600k monitor rows.
 *  - The file is read through the recording reader (recording.h), fields by name into
 *    the row structs of telemetry.h, so a field added at the end of a table does not
 *    break the report.  Text fields that fill their array have no NUL: the report reads
 *    them with their size (cstr, IS).
 *  - /telemetry/room is what makes a file a recording; a problem with it is an error.
 *    The other tables and groups are optional: when one is missing or unreadable its
 *    section is null (or, for savings, absent) and "notes" says why.
 *  - Numbers: counts and ids exact, ts rounded to the millisecond, every other quantity to
 *    6 significant digits (the recording keeps full precision; a judge reads 0.626982, not
 *    0.62698213598327341).  NaN and infinities become null.  Figures cannot flatter:
 *    inlet compliance is rounded down (99.99996 % reads 99.9999, not 100) beside its
 *    breach count, and a TTFT p95 that is only a lower bound carries a flag.
 *
 * Considered and rejected: emitting the whole /actions table (mostly "rejected" candidate
 * rows: 822 of 854 rows in two hours of heat_spike_row_c; they are counted, and the table
 * stays in the recording); inferring the run's --mode (not recorded; a report says what
 * the file holds); a share of the saving per subsystem from the optimized run alone (that
 * would need the counterfactual's breakdown).
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/control.h" /* decision names */
#include "skadi/qsketch.h" /* the TTFT sketch's ceiling */
#include "skadi/recording.h"
#include "skadi/require.h"
#include "skadi/sweep.h" /* --against */

#define BLOCK_ROWS 8192 /* rows per read */
#define NOTE_LEN 320
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the report under construction ---------------------------------------------------- */

typedef struct {
  const char *path;
  sk_recording *rec;
  const sk_recording_meta *meta;
  char *err;
  size_t errlen;
  cJSON *notes; /* array of strings */
  int nomem;    /* a cJSON allocation failed somewhere: the build returns SK_ENOMEM */
} report;

static void note(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(report *r, const char *fmt, ...) {
  char buf[NOTE_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  cJSON *s = cJSON_CreateString(buf);
  if (!s || !cJSON_AddItemToArray(r->notes, s)) {
    cJSON_Delete(s);
    r->nomem = 1;
  }
}

/* 6 significant digits: what %g shows, and what cJSON then prints as such. */
static double round6(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.6g", v);
  return strtod(buf, NULL);
}

/* JSON values: a quantity (6 significant digits), a time stamp (ms), a count (exact). */
static cJSON *jnum(double v) {
  return isfinite(v) ? cJSON_CreateNumber(round6(v)) : cJSON_CreateNull();
}
/* A share that must never round up to a better figure (inlet compliance): 6 significant
 * digits, rounded toward zero, so 99.99996 % is 99.9999, never 100. */
static cJSON *jfloor6(double v) {
  if (!isfinite(v))
    return cJSON_CreateNull();
  double r = round6(v);
  if (v > 0 && r > v) /* rounded up: one step of the 6th digit down */
    r = round6(r - pow(10.0, floor(log10(v)) - 5));
  return cJSON_CreateNumber(r);
}
static cJSON *jts(double v) {
  return isfinite(v) ? cJSON_CreateNumber(round(v * 1000.0) / 1000.0) : cJSON_CreateNull();
}
static cJSON *jcount(double v) {
  return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}
static cJSON *jstr(const char *s) {
  return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* A char array of a row (size bytes, no NUL when the text fills it) as a C string in
 * dst; CSTR for arrays on both sides. */
static void cstr(char *dst, size_t dstlen, const char *field, size_t size) {
  snprintf(dst, dstlen, "%.*s", (int)strnlen(field, size), field);
}
#define CSTR(dst, field) cstr((dst), sizeof(dst), (field), sizeof(field))

static cJSON *jtext(const char *field, size_t size) {
  char buf[SK_DETAIL_LEN + 1];
  cstr(buf, sizeof buf, field, size);
  return cJSON_CreateString(buf);
}
#define JTEXT(field) jtext((field), sizeof(field))

/* Adds item to obj (takes it); any failure (including a NULL item or obj, the mark of an
 * earlier failure) sets nomem and frees item.  Returns item or NULL. */
static cJSON *put(report *r, cJSON *obj, const char *key, cJSON *item) {
  if (!item || !obj || !cJSON_AddItemToObject(obj, key, item)) {
    cJSON_Delete(item);
    r->nomem = 1;
    return NULL;
  }
  return item;
}

static cJSON *append(report *r, cJSON *arr, cJSON *item) {
  if (!item || !arr || !cJSON_AddItemToArray(arr, item)) {
    cJSON_Delete(item);
    r->nomem = 1;
    return NULL;
  }
  return item;
}

/* ---- reading ------------------------------------------------------------------------- */

/* A setting of /config (stored as text) as a number; NaN when absent or not a number. */
static double config_num(report *r, const char *key) {
  double v;
  sk_recording_config_f64(r->rec, key, &v);
  return v;
}

/* Rows of a table; 0 when the file lacks it or it cannot be read. */
static uint64_t table_rows(report *r, sk_table_id id) {
  uint64_t n;
  return sk_recording_count(r->rec, id, &n) == SK_OK ? n : 0;
}

/* Called per row; returns 0 to go on, nonzero when out of memory. */
typedef int (*row_fn)(void *ud, const void *row);

typedef struct {
  row_fn fn;
  void *ud;
  size_t row_size;
} row_scan;

static sk_status scan_block(void *ud, const void *rows, size_t n) {
  const row_scan *c = ud;
  for (size_t i = 0; i < n; i++)
    if (c->fn(c->ud, (const unsigned char *)rows + i * c->row_size) != 0)
      return SK_ENOMEM;
  return SK_OK;
}

/* Reads every row of table id in blocks and calls fn on each; errors name the path. */
static sk_status scan(report *r, sk_table_id id, row_fn fn, void *ud) {
  row_scan c = {fn, ud, sk_schema_tables[id].row_size};
  sk_status st = sk_recording_scan(r->rec, id, BLOCK_ROWS, scan_block, &c);
  const char *why = sk_recording_error(r->rec);
  if (st != SK_OK && why[0])
    sk_errf(r->err, r->errlen, "%s", why);
  else if (st != SK_OK) /* fn's own failure */
    sk_errf(r->err, r->errlen, "%s: %s: out of memory", r->path, sk_schema_tables[id].path);
  return st;
}

/* For an optional table: runs scan if the file has it.  Returns 1 when read, 0 when
 * absent or unreadable (with a note; a failure other than out-of-memory is not fatal), -1
 * on SK_ENOMEM. */
static int scan_optional(report *r, sk_table_id id, row_fn fn, void *ud, uint64_t *nrows) {
  const char *dset = sk_schema_tables[id].path;
  *nrows = 0;
  if (!sk_recording_has_table(r->rec, id)) {
    note(r, "%s missing: its section is null", dset);
    return 0;
  }
  char msg[512] = "";
  char *save = r->err;
  size_t save_len = r->errlen;
  r->err = msg;
  r->errlen = sizeof msg;
  sk_status st = sk_recording_count(r->rec, id, nrows);
  if (st != SK_OK)
    sk_errf(msg, sizeof msg, "%s", sk_recording_error(r->rec));
  else
    st = scan(r, id, fn, ud);
  r->err = save;
  r->errlen = save_len;
  if (st == SK_ENOMEM) {
    sk_errf(r->err, r->errlen, "%s", msg);
    return -1;
  }
  if (st != SK_OK) {
    note(r, "%s unreadable, its section is null (%s)", dset, msg);
    *nrows = 0;
    return 0;
  }
  return 1;
}

/* ---- energy subsystems ------------------------------------------------------------- */

/* Checklist: a subsystem added here needs its /summary key and its /telemetry/room field
 * (a field of the schema: room_needs_fields asserts it), and a line in docs/REPORT.md. */
enum { E_IT, E_FANS, E_PUMPS, E_CHILLER, E_TOWER, E_LOSSES, E_MISC, E_FACILITY, E_COUNT };
static const struct {
  const char *key;         /* report field */
  const char *summary_key; /* /summary attribute, kWh */
  const char *room_field;  /* /telemetry/room field, kW mean over the period */
} subsystems[E_COUNT] = {
    [E_IT] = {"it", "it_kwh", "it_kw"},
    [E_FANS] = {"crah_fans", "crah_fan_kwh", "crah_fan_kw"},
    [E_PUMPS] = {"pumps", "pump_kwh", "pump_kw"},
    [E_CHILLER] = {"chiller", "chiller_kwh", "chiller_kw"},
    [E_TOWER] = {"cooling_tower", "tower_kwh", "tower_kw"},
    [E_LOSSES] = {"electrical_losses", "losses_kwh", "losses_kw"},
    [E_MISC] = {"misc", "misc_kwh", "misc_kw"},
    [E_FACILITY] = {"facility", "facility_kwh", "facility_kw"},
};

/* ---- /telemetry/room --------------------------------------------------------------- */

typedef struct {
  double sla_ms;          /* NaN when /config has no SLA */
  size_t kw_off[E_COUNT]; /* offset of each subsystem's kW in sk_room_sample */
  uint64_t n;
  double prev_ts;
  double kwh[E_COUNT]; /* integrated kW x period */
  double prompts;
  double compliance_sum;
  uint64_t compliance_n;
  double max_inlet_c, max_inlet_ts;
  double worst_p95_ms, worst_p95_ts;
  uint64_t p95_n, above_sla;
  double worst_comp_pct, worst_comp_ts;
  double racks;         /* room.rows x room.racks_per_row from /config; NaN if absent */
  double breaches;      /* rack-inlet samples above the limit, from per-sample compliance */
  double ttft_ceiling;  /* ms, what a TTFT quantile at the sketch's ceiling reads */
} room_acc;

static int room_row_fn(void *ud, const void *p) {
  room_acc *a = ud;
  const sk_room_sample *x = p;
  /* A sample's ts is the end of its period; the first period starts at 0. */
  double dt = x->ts - a->prev_ts;
  a->prev_ts = x->ts;
  a->n++;
  for (int e = 0; dt > 0 && e < E_COUNT; e++) {
    double kw;
    memcpy(&kw, (const unsigned char *)p + a->kw_off[e], sizeof kw);
    if (isfinite(kw))
      a->kwh[e] += kw * dt / 3600.0;
  }
  if (isfinite(x->prompts_completed))
    a->prompts += x->prompts_completed;
  if (isfinite(x->inlet_compliance_pct)) {
    a->compliance_sum += x->inlet_compliance_pct;
    a->compliance_n++;
    /* a sample covers every rack: its compliance is 100 x (racks - breaches) / racks */
    a->breaches += (double)llround(a->racks * (100.0 - x->inlet_compliance_pct) / 100.0);
    if (!(x->inlet_compliance_pct >= a->worst_comp_pct)) { /* first of the lowest */
      a->worst_comp_pct = x->inlet_compliance_pct;
      a->worst_comp_ts = x->ts;
    }
  }
  if (isfinite(x->max_inlet_c) && !(x->max_inlet_c <= a->max_inlet_c)) {
    a->max_inlet_c = x->max_inlet_c;
    a->max_inlet_ts = x->ts;
  }
  if (isfinite(x->latency_p95_ms)) {
    a->p95_n++;
    if (!(x->latency_p95_ms <= a->worst_p95_ms)) { /* first of the highest */
      a->worst_p95_ms = x->latency_p95_ms;
      a->worst_p95_ts = x->ts;
    }
    if (isfinite(a->sla_ms) && x->latency_p95_ms > a->sla_ms)
      a->above_sla++;
  }
  return 0;
}

/* The /telemetry/room fields room_row_fn reads: SK_EPARSE naming the first the file
 * lacks.  Sets the subsystems' offsets in a. */
static sk_status room_needs_fields(report *r, room_acc *a) {
  static const char *const direct[] = {"ts", "prompts_completed", "latency_p95_ms",
                                       "inlet_compliance_pct", "max_inlet_c"};
  const sk_schema_table *t = &sk_schema_tables[SK_TABLE_ROOM];
  for (size_t i = 0; i < COUNT(direct) + E_COUNT; i++) {
    const char *name = i < COUNT(direct) ? direct[i] : subsystems[i - COUNT(direct)].room_field;
    const sk_schema_field *f = sk_schema_field_find(t, name);
    SK_REQUIRE(f && f->type == SK_FIELD_F64 && "report.c reads a field the schema lacks");
    if (i >= COUNT(direct))
      a->kw_off[i - COUNT(direct)] = f->offset;
    if (!sk_recording_has_field(r->rec, SK_TABLE_ROOM, name)) {
      sk_errf(r->err, r->errlen, "%s: %s: field %s missing", r->path, t->path, name);
      return SK_EPARSE;
    }
  }
  return SK_OK;
}

/* ---- /actions ----------------------------------------------------------------------- */

typedef struct {
  int64_t id;
  size_t seq; /* position in the table: the first realized row of an id wins */
  double ts;
  double realized_pct;
  int matched; /* joined to an applied row */
} realized_row;

typedef struct {
  char name[40];
  long applied, rolled_back, realized_n;
  double realized_sum_pct;
} action_total;

typedef struct {
  uint64_t cap;           /* table rows: no array grows past it */
  sk_action_record *kept; /* applied, rolled_back, trained, failed: in table order */
  size_t n_kept, cap_kept;
  realized_row *real;
  size_t n_real, cap_real;
  long applied, advised, rejected, rolled_back, realized, other;
} action_acc;

/* Grows *p (elements of size sz, *cap of them) to hold one more, never past limit. */
static int grow(void **p, size_t *cap, size_t n, size_t sz, uint64_t limit) {
  if (n < *cap)
    return 0;
  size_t want = *cap ? *cap * 2 : 16;
  if ((uint64_t)want > limit)
    want = (size_t)limit;
  if (want <= n)
    return -1; /* more rows than the table holds: cannot happen */
  void *q = realloc(*p, want * sz);
  if (!q)
    return -1;
  *p = q;
  *cap = want;
  return 0;
}

/* The decision of a recorded row; SK_DECISION_COUNT for a name this build does not know. */
static sk_decision decision_of(const sk_action_record *x) {
  char d[sizeof x->decision + 1];
  CSTR(d, x->decision);
  sk_decision dec;
  return sk_decision_parse(d, &dec) == SK_OK ? dec : SK_DECISION_COUNT;
}

static int action_row_fn(void *ud, const void *p) {
  action_acc *a = ud;
  const sk_action_record *x = p;
  sk_decision dec = decision_of(x);
  if (dec == SK_DECISION_COUNT) {
    a->other++; /* a decision this build does not know (a newer recording) */
    return 0;
  }
  switch (dec) {
  case SK_DECISION_REALIZED:
    a->realized++;
    if (grow((void **)&a->real, &a->cap_real, a->n_real, sizeof *a->real, a->cap) != 0)
      return -1;
    a->real[a->n_real] = (realized_row){x->id, a->n_real, x->ts, x->realized_saving_pct, 0};
    a->n_real++;
    return 0;
  case SK_DECISION_ADVISED:
    a->advised++;
    return 0;
  case SK_DECISION_REJECTED:
    a->rejected++;
    return 0;
  case SK_DECISION_APPLIED:
    a->applied++;
    break;
  case SK_DECISION_ROLLED_BACK:
    a->rolled_back++;
    break;
  case SK_DECISION_TRAINED:
  case SK_DECISION_FAILED:
  case SK_DECISION_COUNT:
    break;
  }
  if (grow((void **)&a->kept, &a->cap_kept, a->n_kept, sizeof *a->kept, a->cap) != 0)
    return -1;
  a->kept[a->n_kept++] = *x;
  return 0;
}

static int cmp_realized(const void *pa, const void *pb) {
  const realized_row *a = pa, *b = pb;
  if (a->id != b->id)
    return a->id < b->id ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* First realized row of id in the sorted array, or NULL. */
static realized_row *find_realized(const action_acc *a, int64_t id) {
  size_t lo = 0, hi = a->n_real;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a->real[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < a->n_real && a->real[lo].id == id ? &a->real[lo] : NULL;
}

static action_total *total_for(action_total **t, size_t *n, size_t *cap, const char *name) {
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*t)[i].name, name) == 0)
      return &(*t)[i];
  if (*n == *cap) {
    size_t want = *cap ? *cap * 2 : 8;
    action_total *q = realloc(*t, want * sizeof *q);
    if (!q)
      return NULL;
    *t = q;
    *cap = want;
  }
  action_total *e = &(*t)[(*n)++];
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", name);
  return e;
}

static int cmp_total(const void *pa, const void *pb) {
  return strcmp(((const action_total *)pa)->name, ((const action_total *)pb)->name);
}

/* ---- /racks and /monitor/racks ------------------------------------------------------ */

typedef struct {
  char rack_id[16];
  int row;         /* 0 = row A; -1 unknown */
  double first_ts; /* first persistent tick; NaN if never */
} rack_state;

typedef struct {
  uint64_t cap;      /* rows of /racks plus /monitor/racks: the racks cannot outnumber them */
  rack_state *racks; /* sorted by rack_id */
  size_t n, cap_racks;
  uint64_t rows;
  double max_dev, max_dev_ts;
  char max_dev_rack[16], max_dev_feature[32];
} monitor_acc;

/* The rack's entry, inserted (row unknown) if new; NULL when out of memory. */
static rack_state *rack_get(monitor_acc *m, const char *id) {
  size_t lo = 0, hi = m->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(m->racks[mid].rack_id, id);
    if (c == 0)
      return &m->racks[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (grow((void **)&m->racks, &m->cap_racks, m->n, sizeof *m->racks, m->cap) != 0)
    return NULL;
  memmove(&m->racks[lo + 1], &m->racks[lo], (m->n - lo) * sizeof *m->racks);
  m->n++;
  rack_state *e = &m->racks[lo];
  snprintf(e->rack_id, sizeof e->rack_id, "%s", id);
  e->row = -1;
  e->first_ts = NAN;
  return e;
}

static int layout_row_fn(void *ud, const void *p) {
  const sk_rack_entry *x = p;
  char id[sizeof x->rack_id + 1];
  CSTR(id, x->rack_id);
  rack_state *e = rack_get(ud, id);
  if (!e)
    return -1;
  e->row = x->row;
  return 0;
}

static int monitor_row_fn(void *ud, const void *p) {
  monitor_acc *m = ud;
  const sk_monitor_record *x = p;
  char id[sizeof x->rack_id + 1];
  CSTR(id, x->rack_id);
  m->rows++;
  if (isfinite(x->deviation) && !(x->deviation <= m->max_dev)) {
    m->max_dev = x->deviation;
    m->max_dev_ts = x->ts;
    CSTR(m->max_dev_rack, id);
    CSTR(m->max_dev_feature, x->top_feature);
  }
  rack_state *e = rack_get(m, id);
  if (!e)
    return -1;
  if (x->state == 1 && !isfinite(e->first_ts))
    e->first_ts = x->ts;
  return 0;
}

/* ---- sections ------------------------------------------------------------------------ */

typedef struct {
  const sk_recording_meta *meta;
  double sample_period_s;
  room_acc room;
  action_acc act;
  int have_actions;    /* /actions read and not empty */
  double kwh[E_COUNT]; /* whole-run energy, from /summary or integrated */
  int kwh_from_summary;
} facts;

/* A /summary figure, or NaN. */
static double summary(const facts *fx, const char *key) {
  const sk_recorder_figure *f = sk_recording_figure(fx->meta->summary, fx->meta->n_summary, key);
  return f ? f->value : NAN;
}

static int summary_has(const facts *fx, const char *key) {
  return sk_recording_figure(fx->meta->summary, fx->meta->n_summary, key) != NULL;
}

/* Each row's fan speed and supply-air setpoint from /summary (prefix "end_" or "cf_end_"),
 * as {"crah_fan_pct": {"A": ..}, "supply_setpoint_c": {"A": ..}}; nothing when the
 * recording has none (made before they were recorded). */
static void row_settings(report *r, cJSON *o, const facts *fx, const char *prefix) {
  static const char *const what[2] = {"crah_fan_pct", "supply_setpoint_c"};
  for (int k = 0; k < 2; k++) {
    cJSON *by_row = NULL;
    for (int row = 0; row < SK_MAX_ROWS; row++) {
      char key[64];
      snprintf(key, sizeof key, "%s%s_%c", prefix, what[k], 'A' + row);
      if (!summary_has(fx, key))
        break;
      if (!by_row)
        by_row = put(r, o, what[k], cJSON_CreateObject());
      char name[2] = {(char)('A' + row), 0};
      put(r, by_row, name, jnum(summary(fx, key)));
    }
  }
}

static void section_run(report *r, cJSON *root, facts *fx) {
  const sk_recording_meta *m = fx->meta;
  cJSON *o = put(r, root, "run", cJSON_CreateObject());
  put(r, o, "scenario", jstr(m->scenario_name));
  if (!m->has_seed) {
    put(r, o, "seed", jstr(NULL));
  } else if (m->seed <= (UINT64_C(1) << 53)) { /* a JSON number is a double: exact to 2^53 */
    put(r, o, "seed", jcount((double)m->seed));
  } else {
    char text[32];
    snprintf(text, sizeof text, "%llu", (unsigned long long)m->seed);
    put(r, o, "seed", jstr(text));
  }
  put(r, o, "duration_s", jts(m->duration_s));
  put(r, o, "sample_period_s", jts(fx->sample_period_s));
  put(r, o, "sim_time_s", jts(summary(fx, "sim_time_s")));
  put(r, o, "skadi_version", jstr(m->skadi_version));
  put(r, o, "format_version", jcount(m->format_version));
  put(r, o, "status", jstr(m->status));
  if (!m->status)
    note(r, "/run_info has no status: the run never finished (killed, or closed on an "
            "error), so /summary may be empty");
}

/* A /summary flag (0/1) as a JSON boolean; null when absent (an older or killed run). */
static cJSON *jflag(const facts *fx, const char *key) {
  double v = summary(fx, key);
  return isfinite(v) ? cJSON_CreateBool(v != 0) : cJSON_CreateNull();
}

static void section_kpis(report *r, cJSON *root, facts *fx, double inlet_max_c) {
  const room_acc *a = &fx->room;
  cJSON *o = put(r, root, "kpis", cJSON_CreateObject());
  double wh = summary(fx, "j_per_prompt_wh"), pue = summary(fx, "pue");
  double p95 = summary(fx, "latency_p95_ms"), comp = summary(fx, "inlet_compliance_pct");
  double max_in = summary(fx, "max_inlet_c"), served = summary(fx, "prompts_served");
  double breaches = summary(fx, "inlet_breach_samples"), samples = summary(fx, "inlet_samples");
  int fallback = 0;
  /* A figure absent from /summary (a killed run) is computed from the room rows when that
   * is exact: sums, maxima, and compliance as the mean of per-sample compliance (every
   * sample covers every rack).  One present as NaN (no prompt served) stays NaN.  The
   * whole-run p95 cannot be computed. */
  if (!summary_has(fx, "prompts_served")) {
    served = (double)a->prompts;
    fallback = 1;
  }
  if (!summary_has(fx, "j_per_prompt_wh")) {
    wh = served > 0 ? fx->kwh[E_FACILITY] * 1000.0 / served : NAN;
    fallback = 1;
  }
  if (!summary_has(fx, "pue")) {
    pue = fx->kwh[E_IT] > 0 ? fx->kwh[E_FACILITY] / fx->kwh[E_IT] : NAN;
    fallback = 1;
  }
  if (!summary_has(fx, "inlet_compliance_pct") && a->compliance_n > 0) {
    comp = a->compliance_sum / (double)a->compliance_n;
    fallback = 1;
  }
  if (!summary_has(fx, "inlet_breach_samples") && !summary_has(fx, "inlet_compliance_pct") &&
      a->compliance_n > 0 && isfinite(a->racks)) { /* counted as compliance is, above */
    breaches = a->breaches;
    samples = a->racks * (double)a->compliance_n;
    fallback = 1;
  }
  if (!summary_has(fx, "max_inlet_c") && a->n > 0) {
    max_in = a->max_inlet_c;
    fallback = 1;
  }
  if (!isfinite(p95))
    note(r, "kpis.latency_p95_ms is null: /summary has no latency_p95_ms and a whole-run p95 "
            "cannot be computed from per-sample p95s");
  if (fallback)
    note(r, "kpis: figures missing from /summary were computed from /telemetry/room");
  put(r, o, "source", jstr(fallback ? "/telemetry/room" : "/summary"));
  put(r, o, "j_per_prompt_wh", jnum(wh));
  put(r, o, "pue", jnum(pue));
  put(r, o, "latency_p95_ms", jnum(p95));
  put(r, o, "latency_p95_censored", isfinite(p95) ? jflag(fx, "latency_p95_censored") : jstr(NULL));
  put(r, o, "prompts_queued_at_end", jcount(summary(fx, "prompts_queued_at_end")));
  put(r, o, "inlet_compliance_pct", jfloor6(comp));
  put(r, o, "inlet_breach_samples", jcount(breaches));
  put(r, o, "inlet_samples", jcount(samples));
  put(r, o, "inlet_limit_c", jnum(inlet_max_c));
  put(r, o, "max_inlet_c", jnum(max_in));
  put(r, o, "prompts_served", jcount(served));
  put(r, o, "prompts_rejected", jcount(summary(fx, "prompts_rejected")));
  put(r, o, "prompts_extrapolated", jcount(summary(fx, "prompts_extrapolated")));
  put(r, o, "prefills_extrapolated", jcount(summary(fx, "prefills_extrapolated")));
  /* KV prefix reuse (traces with hash_ids); null when nothing was asked or the recording
   * predates the figures */
  put(r, o, "prefix_blocks_asked", jcount(summary(fx, "prefix_blocks_asked")));
  put(r, o, "prefix_blocks_hit", jcount(summary(fx, "prefix_blocks_hit")));
  put(r, o, "prefix_hit_rate", jnum(summary(fx, "prefix_hit_rate")));
  put(r, o, "prefill_tokens_skipped", jcount(summary(fx, "prefill_tokens_skipped")));

  cJSON *w = put(r, o, "worst_window", cJSON_CreateObject());
  put(r, w, "window_s", jts(fx->sample_period_s));
  put(r, w, "windows", jcount((double)a->n));
  cJSON *l = put(r, w, "latency_p95", a->p95_n ? cJSON_CreateObject() : cJSON_CreateNull());
  if (a->p95_n) {
    put(r, l, "ts", jts(a->worst_p95_ts));
    put(r, l, "latency_p95_ms", jnum(a->worst_p95_ms));
    /* at the sketch's ceiling the window's p95 is no measurement, only a lower bound */
    put(r, l, "censored", cJSON_CreateBool(a->worst_p95_ms >= a->ttft_ceiling));
  }
  cJSON *c =
      put(r, w, "inlet_compliance", a->compliance_n ? cJSON_CreateObject() : cJSON_CreateNull());
  if (a->compliance_n) {
    put(r, c, "ts", jts(a->worst_comp_ts));
    put(r, c, "inlet_compliance_pct", jfloor6(a->worst_comp_pct));
  }
  put(r, w, "sla_latency_ms", jnum(a->sla_ms));
  put(r, w, "windows_with_latency", jcount((double)a->p95_n));
  put(r, w, "windows_above_sla", isfinite(a->sla_ms) ? jcount((double)a->above_sla) : jstr(NULL));
  if (!isfinite(a->sla_ms))
    note(r, "/config has no numeric settings.sla_latency_ms: windows_above_sla is null");
}

static void energy_object(report *r, cJSON *o, const double *kwh) {
  for (int e = 0; e < E_COUNT; e++)
    put(r, o, subsystems[e].key, jnum(kwh[e]));
}

static void section_energy(report *r, cJSON *root, facts *fx) {
  cJSON *o = put(r, root, "energy", cJSON_CreateObject());
  put(r, o, "source", jstr(fx->kwh_from_summary ? "/summary" : "/telemetry/room"));
  energy_object(r, put(r, o, "kwh", cJSON_CreateObject()), fx->kwh);
  cJSON *s = put(r, o, "share_pct", cJSON_CreateObject());
  double fac = fx->kwh[E_FACILITY];
  for (int e = 0; e < E_COUNT; e++)
    put(r, s, subsystems[e].key, jnum(fac > 0 ? 100.0 * fx->kwh[e] / fac : NAN));
}

/* by_action: per lever, applied and rolled-back counts and the realized savings of the
 * applied rows, joined by id. */
static void by_action(report *r, cJSON *sav, facts *fx) {
  action_acc *a = &fx->act;
  if (!fx->have_actions) {
    put(r, sav, "by_action", cJSON_CreateNull());
    return;
  }
  action_total *t = NULL;
  size_t n = 0, cap = 0;
  for (size_t i = 0; i < a->n_kept; i++) {
    const sk_action_record *x = &a->kept[i];
    int applied = decision_of(x) == SK_DECISION_APPLIED;
    if (!applied && decision_of(x) != SK_DECISION_ROLLED_BACK)
      continue;
    char name[sizeof x->action + 1];
    CSTR(name, x->action);
    action_total *e = total_for(&t, &n, &cap, name);
    if (!e) {
      r->nomem = 1;
      free(t);
      return;
    }
    if (!applied) {
      e->rolled_back++;
      continue;
    }
    e->applied++;
    const realized_row *z = find_realized(a, x->id);
    if (z && isfinite(z->realized_pct)) {
      e->realized_n++;
      e->realized_sum_pct += z->realized_pct;
    }
  }
  if (n > 1)
    qsort(t, n, sizeof *t, cmp_total);
  cJSON *o = put(r, sav, "by_action", cJSON_CreateObject());
  for (size_t i = 0; i < n; i++) {
    cJSON *e = put(r, o, t[i].name, cJSON_CreateObject());
    put(r, e, "applied", jcount((double)t[i].applied));
    put(r, e, "rolled_back", jcount((double)t[i].rolled_back));
    put(r, e, "realized_n", jcount((double)t[i].realized_n));
    put(r, e, "realized_saving_pct_sum",
        t[i].realized_n ? jnum(t[i].realized_sum_pct) : jstr(NULL));
  }
  free(t);
  put(r, sav, "by_action_note",
      jstr("realized_saving_pct_sum is the sum of per-interval realized savings: each "
           "applied action's saving in Wh/prompt against the counterfactual over the slow-loop "
           "interval after it (control.c), matched to its applied row by id; intervals "
           "differ in load, so the sum is an indicator, not the run's energy_saved_pct"));
}

static void section_savings(report *r, cJSON *root, facts *fx) {
  double cf = summary(fx, "cf_j_per_prompt_wh");
  if (!isfinite(cf)) {
    note(r, "no counterfactual in the recording (a run without --mode, or /summary missing): "
            "no savings section");
    return;
  }
  cJSON *o = put(r, root, "savings", cJSON_CreateObject());
  put(r, o, "counterfactual", jstr("the scenario's settings, optimizer off"));
  put(r, o, "counterfactual_j_per_prompt_wh", jnum(cf));
  put(r, o, "optimized_j_per_prompt_wh", jnum(summary(fx, "j_per_prompt_wh")));
  put(r, o, "energy_saved_pct", jnum(summary(fx, "energy_saved_pct")));
  /* NaN (null) in recordings made before the stored-cold figures */
  put(r, o, "energy_saved_net_pct", jnum(summary(fx, "energy_saved_net_pct")));
  put(r, o, "stored_cold_kwh", jnum(summary(fx, "stored_cold_kwh")));
  put(r, o, "counterfactual_stored_cold_kwh", jnum(summary(fx, "cf_stored_cold_kwh")));
  cJSON *set = put(r, o, "settings", cJSON_CreateObject());
  static const char *const lever_keys[] = {"crah_fan_pct_mean", "supply_setpoint_c_mean",
                                           "pump_pct", "chw_setpoint_c", "batch_window_ms"};
  cJSON *end = put(r, set, "optimized_end", cJSON_CreateObject());
  cJSON *cfs = put(r, set, "counterfactual_end", cJSON_CreateObject());
  for (size_t i = 0; i < sizeof lever_keys / sizeof lever_keys[0]; i++) {
    char k[64];
    snprintf(k, sizeof k, "end_%s", lever_keys[i]);
    put(r, end, lever_keys[i], jnum(summary(fx, k)));
    snprintf(k, sizeof k, "cf_end_%s", lever_keys[i]);
    put(r, cfs, lever_keys[i], jnum(summary(fx, k)));
  }
  row_settings(r, end, fx, "end_");
  row_settings(r, cfs, fx, "cf_end_");
  put(r, set, "note",
      jstr("plant settings at the end of the run: each row's fan speed and supply-air "
           "setpoint (crah_fan_pct, supply_setpoint_c; absent in recordings made before "
           "them) and their row means (null in recordings made before them); the "
           "counterfactual's are the scenario's, with its timeline's overrides"));
  put(r, o, "stored_cold_note",
      jstr("energy_saved_net_pct charges each run the cold it borrowed from the chilled-water "
           "loop (stored_cold_kwh: its warming over the run at the chillers' mean COP); "
           "energy_saved_pct does not"));
  by_action(r, o, fx);
  cJSON *s = put(r, o, "by_subsystem", cJSON_CreateObject());
  energy_object(r, put(r, s, "optimized_kwh", cJSON_CreateObject()), fx->kwh);
  double cf_kwh[E_COUNT];
  char key[64];
  int have_cf = 1;
  for (int e = 0; e < E_COUNT; e++) {
    snprintf(key, sizeof key, "cf_%s", subsystems[e].summary_key);
    cf_kwh[e] = summary(fx, key);
    have_cf &= isfinite(cf_kwh[e]);
  }
  double n_opt = summary(fx, "prompts_served"), n_cf = summary(fx, "cf_prompts_served");
  if (!have_cf || !(n_opt > 0) || !(n_cf > 0)) {
    put(r, s, "counterfactual_kwh", cJSON_CreateNull());
    put(r, s, "note",
        jstr("the recording has no counterfactual breakdown (written by an older "
             "skadi): the saving cannot be split by subsystem"));
    return;
  }
  energy_object(r, put(r, s, "counterfactual_kwh", cJSON_CreateObject()), cf_kwh);
  /* per prompt, so runs that served different numbers of prompts compare fairly */
  cJSON *w = put(r, s, "saved_wh_per_prompt", cJSON_CreateObject());
  cJSON *p = put(r, s, "saved_pct_of_counterfactual", cJSON_CreateObject());
  double cf_fac = cf_kwh[E_FACILITY] * 1000.0 / n_cf;
  for (int e = 0; e < E_COUNT; e++) {
    double d = cf_kwh[e] * 1000.0 / n_cf - fx->kwh[e] * 1000.0 / n_opt;
    put(r, w, subsystems[e].key, jnum(d));
    put(r, p, subsystems[e].key, jnum(cf_fac > 0 ? 100.0 * d / cf_fac : NAN));
  }
  put(r, s, "note",
      jstr("saved_wh_per_prompt: counterfactual minus optimized energy per "
           "served prompt, by subsystem; the parts add up to the facility "
           "saving, and saved_pct_of_counterfactual.facility is energy_saved_pct"));
}

static void log_entry(report *r, cJSON *log, const sk_action_record *x, const realized_row *z) {
  cJSON *e = append(r, log, cJSON_CreateObject());
  put(r, e, "ts", jts(x->ts));
  put(r, e, "id", jcount((double)x->id));
  put(r, e, "loop", JTEXT(x->loop));
  put(r, e, "action", JTEXT(x->action));
  put(r, e, "target", JTEXT(x->target));
  put(r, e, "executor", JTEXT(x->executor));
  put(r, e, "delta", jnum(x->delta));
  put(r, e, "unit", JTEXT(x->unit));
  put(r, e, "decision", JTEXT(x->decision));
  put(r, e, "reason", JTEXT(x->reason));
  put(r, e, "pred_saving_pct", jnum(x->pred_saving_pct));
  put(r, e, "pred_ttft_p95_ms", jnum(x->pred_ttft_p95_ms));
  put(r, e, "pred_max_inlet_c", jnum(x->pred_max_inlet_c));
  /* applied: the realized row of its id; rolled_back: the row carries it itself */
  put(r, e, "realized_saving_pct", jnum(z ? z->realized_pct : x->realized_saving_pct));
  put(r, e, "realized_ts", z ? jts(z->ts) : jstr(NULL));
}

static void section_actions(report *r, cJSON *root, facts *fx) {
  action_acc *a = &fx->act;
  if (!fx->have_actions) {
    put(r, root, "actions", cJSON_CreateNull());
    return;
  }
  cJSON *o = put(r, root, "actions", cJSON_CreateObject());
  cJSON *c = put(r, o, "counts", cJSON_CreateObject());
  put(r, c, "proposed", jcount((double)(a->applied + a->advised + a->rejected)));
  put(r, c, "applied", jcount((double)a->applied));
  put(r, c, "advised", jcount((double)a->advised));
  put(r, c, "rejected", jcount((double)a->rejected));
  put(r, c, "realized", jcount((double)a->realized));
  put(r, c, "rolled_back", jcount((double)a->rolled_back));
  if (a->other)
    put(r, c, "other", jcount((double)a->other));

  cJSON *log = put(r, o, "log", cJSON_CreateArray());
  cJSON *ims = put(r, o, "ims_training", cJSON_CreateArray());
  double err_sum = 0, bias_sum = 0;
  long n_eval = 0;
  for (size_t i = 0; i < a->n_kept; i++) {
    const sk_action_record *x = &a->kept[i];
    if (decision_of(x) == SK_DECISION_TRAINED || decision_of(x) == SK_DECISION_FAILED) {
      cJSON *e = append(r, ims, cJSON_CreateObject());
      put(r, e, "ts", jts(x->ts));
      put(r, e, "decision", JTEXT(x->decision));
      put(r, e, "reason", JTEXT(x->reason));
      continue;
    }
    realized_row *z = NULL;
    if (decision_of(x) == SK_DECISION_APPLIED && (z = find_realized(a, x->id)) != NULL) {
      z->matched = 1;
      if (isfinite(z->realized_pct) && isfinite(x->pred_saving_pct)) {
        err_sum += fabs(x->pred_saving_pct - z->realized_pct);
        bias_sum += x->pred_saving_pct - z->realized_pct;
        n_eval++;
      }
    }
    log_entry(r, log, x, z);
  }
  size_t unmatched = 0;
  for (size_t i = 0; i < a->n_real; i++)
    unmatched += !a->real[i].matched;
  /* Only the first realized row of an id is joined; control.c writes one per action. */
  if (unmatched)
    note(r,
         "/actions: %zu realized row(s) without an applied row of the same id (or a "
         "second one for an id) are counted but not joined",
         unmatched);
  cJSON *q = put(r, o, "prediction_quality", cJSON_CreateObject());
  put(r, q, "n", jcount((double)n_eval));
  put(r, q, "mean_abs_error_pct", n_eval ? jnum(err_sum / (double)n_eval) : jstr(NULL));
  put(r, q, "mean_error_pct", n_eval ? jnum(bias_sum / (double)n_eval) : jstr(NULL));
}

static int section_monitor(report *r, cJSON *root) {
  monitor_acc m;
  memset(&m, 0, sizeof m);
  m.max_dev = -INFINITY;
  m.max_dev_ts = NAN;
  m.cap = table_rows(r, SK_TABLE_RACK_LAYOUT) + table_rows(r, SK_TABLE_MONITOR);
  uint64_t n;
  int rc = scan_optional(r, SK_TABLE_MONITOR, monitor_row_fn, &m, &n);
  /* /racks gives each rack its row; read after the monitor rows so a missing /racks only
   * costs the per-row breakdown. */
  if (rc == 1 && n > 0 && sk_recording_has_table(r->rec, SK_TABLE_RACK_LAYOUT)) {
    uint64_t nl;
    if (scan_optional(r, SK_TABLE_RACK_LAYOUT, layout_row_fn, &m, &nl) < 0)
      rc = -1;
  }
  if (rc < 0) {
    free(m.racks);
    return -1;
  }
  if (rc == 0 || n == 0) {
    if (rc == 1)
      note(r, "/monitor/racks is empty (a run without --mode, or shorter than the IMS "
              "warm-up): monitor is null");
    put(r, root, "monitor", cJSON_CreateNull());
    free(m.racks);
    return 0;
  }
  cJSON *o = put(r, root, "monitor", cJSON_CreateObject());
  put(r, o, "samples", jcount((double)m.rows));
  cJSON *d = put(r, o, "max_deviation",
                 isfinite(m.max_dev_ts) ? cJSON_CreateObject() : cJSON_CreateNull());
  int max_row = -1;
  long persistent = 0;
  for (size_t i = 0; i < m.n; i++) {
    if (m.racks[i].row > max_row)
      max_row = m.racks[i].row;
    persistent += isfinite(m.racks[i].first_ts);
  }
  if (isfinite(m.max_dev_ts)) {
    const rack_state *e = rack_get(&m, m.max_dev_rack); /* present: seen in the scan */
    char row[2] = {e && e->row >= 0 && e->row < 26 ? (char)('A' + e->row) : '?', 0};
    put(r, d, "deviation", jnum(m.max_dev));
    put(r, d, "ts", jts(m.max_dev_ts));
    put(r, d, "rack_id", jstr(m.max_dev_rack));
    put(r, d, "row", jstr(row));
    put(r, d, "top_feature", jstr(m.max_dev_feature));
  }
  put(r, o, "racks", jcount((double)m.n));
  put(r, o, "racks_ever_persistent", jcount((double)persistent));
  cJSON *byrow = put(r, o, "first_persistent_by_row", cJSON_CreateObject());
  for (int row = 0; row <= max_row && row < 26; row++) {
    const rack_state *first = NULL;
    long racks_persistent = 0;
    for (size_t i = 0; i < m.n; i++) {
      const rack_state *e = &m.racks[i];
      if (e->row != row || !isfinite(e->first_ts))
        continue;
      racks_persistent++;
      if (!first || e->first_ts < first->first_ts) /* ties: the lower rack id */
        first = e;
    }
    char name[2] = {(char)('A' + row), 0};
    cJSON *e = put(r, byrow, name, first ? cJSON_CreateObject() : cJSON_CreateNull());
    if (first) {
      put(r, e, "ts", jts(first->first_ts));
      put(r, e, "rack_id", jstr(first->rack_id));
      put(r, e, "racks_persistent", jcount((double)racks_persistent));
    }
  }
  free(m.racks);
  return 0;
}

static void section_performance(report *r, cJSON *root) {
  static const char *const keys[] = {"wall_time_s", "speedup", "events", "peak_rss_mb"};
  const sk_recording_meta *m = r->meta;
  if (!m->has_run_info) {
    note(r, "/run_info missing: performance is null");
    put(r, root, "performance", cJSON_CreateNull());
    return;
  }
  cJSON *o = put(r, root, "performance", cJSON_CreateObject());
  int missing = 0;
  for (size_t i = 0; i < COUNT(keys); i++) {
    const sk_recorder_figure *f = sk_recording_figure(m->run_info, m->n_run_info, keys[i]);
    double v = f ? f->value : NAN;
    missing |= !f;
    put(r, o, keys[i], strcmp(keys[i], "events") == 0 ? jcount(v) : jnum(v));
  }
  if (missing)
    note(r, "/run_info lacks some wall-clock figures (written when a run finishes): they are "
            "null in performance");
}

/* Adds "name": "<dset>:<field>" when the recording has that field. */
static void chart_ref(report *r, cJSON *o, const char *name, sk_table_id id, const char *fld) {
  char ref[128];
  if (!sk_recording_has_field(r->rec, id, fld))
    return;
  snprintf(ref, sizeof ref, "%s:%s", sk_schema_tables[id].path, fld);
  put(r, o, name, jstr(ref));
}

static void section_charts(report *r, cJSON *root, double sla_ms, double inlet_max_c) {
  static const char *const room[] = {"j_per_prompt_wh",
                                     "j_per_prompt_wh_cum",
                                     "pue",
                                     "latency_p95_ms",
                                     "inlet_compliance_pct",
                                     "max_inlet_c",
                                     "facility_kw",
                                     "it_kw",
                                     "crah_fan_kw",
                                     "pump_kw",
                                     "chiller_kw",
                                     "tower_kw",
                                     "losses_kw",
                                     "misc_kw",
                                     "energy_kwh_cum",
                                     "tokens_ps",
                                     "prompts_completed",
                                     "queue_depth"};
  static const char *const racks[] = {"inlet_c",   "outlet_c",       "pdu_kw",
                                      "tokens_ps", "latency_p95_ms", "queue_depth"};
  static const char *const crah[] = {"supply_c", "setpoint_c", "return_c", "fan_pct", "fan_kw"};
  cJSON *o = put(r, root, "charts", cJSON_CreateObject());
  put(r, o, "time_field", jstr("ts"));
  cJSON *s = put(r, o, "room", cJSON_CreateObject());
  for (size_t i = 0; i < COUNT(room); i++)
    chart_ref(r, s, room[i], SK_TABLE_ROOM, room[i]);

  cJSON *pr = put(r, o, "per_rack", cJSON_CreateObject());
  put(r, pr, "key_field", jstr("rack_id"));
  s = put(r, pr, "series", cJSON_CreateObject());
  for (size_t i = 0; i < COUNT(racks); i++)
    chart_ref(r, s, racks[i], SK_TABLE_RACKS, racks[i]);
  if (table_rows(r, SK_TABLE_MONITOR) > 0) {
    chart_ref(r, s, "deviation", SK_TABLE_MONITOR, "deviation");
    chart_ref(r, s, "mms_ema", SK_TABLE_MONITOR, "ema");
    chart_ref(r, s, "mms_state", SK_TABLE_MONITOR, "state");
  }

  cJSON *pc = put(r, o, "per_crah", cJSON_CreateObject());
  put(r, pc, "key_field", jstr("row"));
  s = put(r, pc, "series", cJSON_CreateObject());
  for (size_t i = 0; i < COUNT(crah); i++)
    chart_ref(r, s, crah[i], SK_TABLE_CRAH, crah[i]);

  cJSON *mk = put(r, o, "markers", cJSON_CreateObject());
  if (sk_recording_has_table(r->rec, SK_TABLE_EVENTS))
    put(r, mk, "events", jstr(sk_schema_tables[SK_TABLE_EVENTS].path));
  if (table_rows(r, SK_TABLE_ACTIONS) > 0)
    put(r, mk, "actions", jstr(sk_schema_tables[SK_TABLE_ACTIONS].path));

  cJSON *ref = put(r, o, "reference_lines", cJSON_CreateObject());
  put(r, ref, "latency_p95_ms", jnum(sla_ms));
  put(r, ref, "max_inlet_c", jnum(inlet_max_c));
}

/* ---- the build ----------------------------------------------------------------------- */

static sk_status build(report *r, cJSON *root) {
  facts fx;
  memset(&fx, 0, sizeof fx);
  sk_status st = sk_recording_open(&r->rec, r->path, r->err, r->errlen);
  if (st != SK_OK)
    return st;
  fx.meta = r->meta = sk_recording_metadata(r->rec);

  fx.sample_period_s = r->meta->sample_period_s;
  double sla_ms = config_num(r, "settings.sla_latency_ms");
  double inlet_max_c = config_num(r, "settings.inlet_max_c");
  if (!r->meta->has_summary)
    note(r, "/summary missing: whole-run figures come from /telemetry/room where possible");

  room_acc *a = &fx.room;
  a->sla_ms = sla_ms;
  a->racks = config_num(r, "room.rows") * config_num(r, "room.racks_per_row");
  sk_qsketch top; /* the value the sketch reports for anything at its ceiling */
  sk_qsketch_init(&top, SK_QSKETCH_DEFAULT_ALPHA);
  sk_qsketch_add(&top, SK_QSKETCH_MAX_VALUE);
  a->ttft_ceiling = sk_qsketch_quantile(&top, 1.0);
  a->max_inlet_c = a->worst_p95_ms = -INFINITY;
  a->worst_comp_pct = INFINITY;
  a->max_inlet_ts = a->worst_p95_ts = a->worst_comp_ts = NAN;
  /* /telemetry/room is what makes a recording: a problem with it is an error */
  uint64_t n_room;
  if ((st = sk_recording_count(r->rec, SK_TABLE_ROOM, &n_room)) != SK_OK) {
    sk_errf(r->err, r->errlen, "%s", sk_recording_error(r->rec));
    goto out;
  }
  if ((st = room_needs_fields(r, a)) != SK_OK ||
      (st = scan(r, SK_TABLE_ROOM, room_row_fn, a)) != SK_OK)
    goto out;
  if (a->n == 0)
    note(r, "/telemetry/room is empty: the run recorded no sample");

  fx.kwh_from_summary = 1;
  for (int e = 0; e < E_COUNT; e++)
    if (!isfinite(fx.kwh[e] = summary(&fx, subsystems[e].summary_key)))
      fx.kwh_from_summary = 0;
  if (!fx.kwh_from_summary) {
    memcpy(fx.kwh, a->kwh, sizeof fx.kwh);
    note(r, "energy: /summary lacks the energy breakdown; integrated from /telemetry/room");
  }

  action_acc *act = &fx.act;
  act->cap = table_rows(r, SK_TABLE_ACTIONS);
  uint64_t n_actions;
  int rc = scan_optional(r, SK_TABLE_ACTIONS, action_row_fn, act, &n_actions);
  if (rc < 0) {
    st = SK_ENOMEM;
    goto out;
  }
  fx.have_actions = rc == 1 && n_actions > 0;
  if (rc == 1 && n_actions == 0)
    note(r, "/actions is empty (a run without --mode): actions is null");
  if (act->n_real > 1)
    qsort(act->real, act->n_real, sizeof *act->real, cmp_realized);

  put(r, root, "report", jstr("skadi judges report"));
  put(r, root, "format_version", jcount(SK_REPORT_FORMAT_VERSION));
  put(r, root, "recording", jstr(r->path));
  section_run(r, root, &fx);
  section_kpis(r, root, &fx, inlet_max_c);
  section_energy(r, root, &fx);
  section_savings(r, root, &fx);
  section_actions(r, root, &fx);
  if (section_monitor(r, root) != 0) {
    st = SK_ENOMEM;
    goto out;
  }
  section_performance(r, root);
  section_charts(r, root, sla_ms, inlet_max_c);
  if (r->nomem) {
    sk_errf(r->err, r->errlen, "%s: out of memory building the report", r->path);
    st = SK_ENOMEM;
  }
out:
  free(fx.act.kept);
  free(fx.act.real);
  return st;
}

sk_status sk_report_build(const char *path, cJSON **out, char *err, size_t errlen) {
  *out = NULL;
  if (err && errlen)
    err[0] = '\0';
  cJSON *root = cJSON_CreateObject();
  report r = {path, NULL, NULL, err, errlen, cJSON_CreateArray(), 0};
  if (!root || !r.notes) {
    cJSON_Delete(root);
    cJSON_Delete(r.notes);
    sk_errf(err, errlen, "%s: out of memory", path);
    return SK_ENOMEM;
  }
  sk_status st = build(&r, root);
  sk_recording_close(r.rec);
  /* notes last: every section has had its say */
  if (st == SK_OK && !cJSON_AddItemToObject(root, "notes", r.notes)) {
    sk_errf(err, errlen, "%s: out of memory", path);
    st = SK_ENOMEM;
  } else if (st == SK_OK) {
    r.notes = NULL;
  }
  cJSON_Delete(r.notes);
  if (st != SK_OK) {
    cJSON_Delete(root);
    return st;
  }
  *out = root;
  return SK_OK;
}

/* ---- against a sweep's best fixed policy (skadi report --against) ----------------------- */

static double json_num_at(const cJSON *root, const char *obj, const char *key) {
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, obj);
  const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

sk_status sk_report_against(cJSON *rep, const char *sweep_path, char *err, size_t errlen) {
  sk_sweep_table *t = NULL;
  sk_status st = sk_sweep_file_read(sweep_path, &t, err, errlen);
  if (st != SK_OK)
    return st;
  long best = -1, def = -1;
  for (size_t p = 0; p < t->n_points; p++) {
    if (t->points[p].best)
      best = (long)p;
    if (t->points[p].is_default)
      def = (long)p;
  }
  const cJSON *run = cJSON_GetObjectItemCaseSensitive(rep, "run");
  const cJSON *scen = run ? cJSON_GetObjectItemCaseSensitive(run, "scenario") : NULL;
  double wh = json_num_at(rep, "kpis", "j_per_prompt_wh");
  double own = json_num_at(rep, "savings", "energy_saved_pct");
  cJSON *o = cJSON_CreateObject();
  cJSON *notes = cJSON_GetObjectItemCaseSensitive(rep, "notes");
  if (!o) {
    sk_sweep_table_destroy(t);
    sk_errf(err, errlen, "%s: out of memory", sweep_path);
    return SK_ENOMEM;
  }
  cJSON_AddStringToObject(o, "sweep", sweep_path);
  cJSON_AddStringToObject(o, "sweep_name", t->name);
  cJSON_AddStringToObject(o, "sweep_scenario", t->scenario_name);
  cJSON_AddStringToObject(o, "sweep_mode", t->mode);
  cJSON_AddStringToObject(o, "sweep_status", t->status);
  int same = cJSON_IsString(scen) && strcmp(scen->valuestring, t->scenario_name) == 0;
  cJSON_AddBoolToObject(o, "same_scenario", same);
  /* a sweep with its own duration ("duration": null is the scenario's, as the run's) */
  double run_s = json_num_at(rep, "run", "duration_s"), sweep_s = NAN;
  cJSON *sj = cJSON_Parse(t->sweep_json);
  const cJSON *d = sj ? cJSON_GetObjectItemCaseSensitive(sj, "duration") : NULL;
  if (cJSON_IsNumber(d))
    sweep_s = d->valuedouble;
  cJSON_Delete(sj);
  int same_d = isnan(sweep_s) || !isfinite(run_s) || fabs(sweep_s - run_s) < 0.5;
  cJSON_AddBoolToObject(o, "same_duration", same_d);
  if (!same_d && notes)
    cJSON_AddItemToArray(notes, cJSON_CreateString("against: the sweep's runs are not as long "
                                                   "as the recording: the comparison is not "
                                                   "like for like"));
  cJSON_AddItemToObject(o, "run_j_per_prompt_wh", jnum(wh));
  cJSON_AddItemToObject(o, "saved_vs_own_settings_pct", jnum(own));
  if (best >= 0) {
    const sk_sweep_point_stats *b = &t->points[best];
    double bw = b->mean[SK_SWEEP_M_WH_PER_PROMPT];
    cJSON_AddNumberToObject(o, "best_point", (double)best);
    cJSON_AddStringToObject(o, "best_policy", t->labels[best]);
    cJSON_AddItemToObject(o, "best_j_per_prompt_wh", jnum(bw));
    cJSON_AddItemToObject(o, "best_ci95_wh", jnum(b->ci95[SK_SWEEP_M_WH_PER_PROMPT]));
    cJSON_AddItemToObject(o, "saved_vs_best_fixed_pct", jnum(100.0 * (bw - wh) / bw));
    /* net of stored cold: the run is charged the cold it took from the chilled-water loop
     * (a closed loop that resets the water warmer ends with less of it); so is the sweep's
     * point when its file has the figure, else its gross figure stands for it (a fixed
     * policy holds its setpoint) and a note says so */
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(rep, "energy");
    double fac = en ? json_num_at(en, "kwh", "facility") : NAN;
    double cold = json_num_at(rep, "savings", "stored_cold_kwh");
    double served = json_num_at(rep, "kpis", "prompts_served");
    double run_net = served > 0 && isfinite(cold) ? (fac + cold) * 1000.0 / served : NAN;
    double bn = b->mean[SK_SWEEP_M_WH_PER_PROMPT_NET];
    if (isnan(bn) && isfinite(run_net)) {
      bn = bw;
      if (notes)
        cJSON_AddItemToArray(notes, cJSON_CreateString(
                                        "against: the sweep file has no net figures (made before "
                                        "wh_per_prompt_net): its gross Wh/prompt stands for them"));
    }
    cJSON_AddItemToObject(o, "run_j_per_prompt_net_wh", jnum(run_net));
    cJSON_AddItemToObject(o, "best_j_per_prompt_net_wh", jnum(bn));
    cJSON_AddItemToObject(o, "saved_vs_best_fixed_net_pct", jnum(100.0 * (bn - run_net) / bn));
  } else {
    cJSON_AddNullToObject(o, "best_point");
    cJSON_AddNullToObject(o, "best_policy");
    cJSON_AddNullToObject(o, "best_j_per_prompt_wh");
    cJSON_AddNullToObject(o, "best_ci95_wh");
    cJSON_AddNullToObject(o, "saved_vs_best_fixed_pct");
    cJSON_AddNullToObject(o, "run_j_per_prompt_net_wh");
    cJSON_AddNullToObject(o, "best_j_per_prompt_net_wh");
    cJSON_AddNullToObject(o, "saved_vs_best_fixed_net_pct");
    if (notes)
      cJSON_AddItemToArray(notes, cJSON_CreateString("against: no point of the sweep meets "
                                                     "its constraints: no best fixed policy"));
  }
  cJSON_AddItemToObject(o, "default_j_per_prompt_wh",
                        def >= 0 ? jnum(t->points[def].mean[SK_SWEEP_M_WH_PER_PROMPT])
                                 : cJSON_CreateNull());
  if (!same && notes)
    cJSON_AddItemToArray(notes, cJSON_CreateString("against: the sweep's base scenario is not "
                                                   "the recording's: the comparison is not like "
                                                   "for like"));
  sk_sweep_table_destroy(t);
  cJSON_AddItemToObject(rep, "against_best_fixed", o);
  return SK_OK;
}
