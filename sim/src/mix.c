/*
 * mix.c -- the dataset mixer (docs/MIX.md): reads a JSON mapping, streams each source CSV
 * once, bins every mapped value onto one time grid and writes the seed's unified columns.
 *
 * Design.  A sample at time t falls in bin floor((t - anchor) / step); the anchor is
 * grid.start when given, else the Unix epoch, so a value can be binned the moment it is
 * read even when the grid's ends are only known after the last file (they are then the
 * first and last bins that received a row).  Aggregates live in one open-addressing hash
 * keyed by (bin, row key, column) holding one running accumulator per key -- a sum, a
 * min, a max or a last value, plus a count -- so memory grows with the number of filled
 * output cells, not with the number of CSV lines: a 300 MB log at 1 s feeding a 60 s grid
 * costs the same as its 1 min summary.  Row key 0 is the room-level row (rack_id ""),
 * 1 + i is the i-th rack id in order of first appearance; racks are sorted by name
 * (bytewise) only when written, so output order never depends on hash order.
 *
 * Invariants.  Missing stays missing: a bin without a sample is an empty field, never an
 * interpolated, carried-forward or zero value (even for the count and sum rules), and
 * room-level values are not copied onto rack rows.  Every output column has exactly one
 * rule; several sources may feed one column (say one file per row of racks) and then pool
 * their samples.  Nothing is written unless the whole mapping and every CSV are valid:
 * sk_mix_create does all reading and checking, sk_mix_write only formats.  Times are
 * int64 ns since the epoch, parsed with days-from-civil arithmetic rather than mktime()
 * or strptime(), which depend on the machine's zone and locale; the range 1970..2199 keeps
 * every difference of two times inside int64.
 *
 * The CSV dialect is RFC 4180 with the usual leniencies: quoted fields (with "" escapes
 * and line breaks inside), LF or CRLF, a UTF-8 byte-order mark, blank lines skipped,
 * blanks around fields trimmed (the seed writes "ts, rack_id, ...").  A row must have as
 * many fields as the header; a mapped value that is empty or "NaN" (any case) is missing
 * at the source, anything else must be a finite decimal number.
 *
 * Rejected: forward fill or interpolation as an opt-in rule -- a training set whose gaps
 * were filled looks like one without gaps, and the mixer cannot know a sensor's hold
 * semantics; the consumer can fill knowingly.  Rejected: collecting all samples and
 * sorting them (simpler "last" and open grids) -- it needs memory per CSV line.  Rejected:
 * a dense (time x rack x column) array -- mostly empty when a few racks report rarely.
 *
 * The reading itself is shared: records come from the CSV reader (skadi/csv.h) and times
 * from the time-stamp parser (skadi/timestamp.h), so the mixer, the trace loader and the
 * timing fit read one CSV dialect and one set of time forms.  Each time_format below is a
 * fixed set of the parser's forms, not "anything that looks like a time": the mapping
 * declares the format, and a file that does not follow it is reported, not guessed at.
 */
#define _POSIX_C_SOURCE 200809L

#include "skadi/mix.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "jsonutil.h"
#include "skadi/csv.h"
#include "skadi/require.h"
#include "skadi/timestamp.h"

#define NS_PER_S 1000000000LL
#define MAX_STEP_S 31622400.0                 /* s, 366 days */
#define MAX_MAPPING_BYTES (16u << 20)         /* a mapping larger than this is a mistake */
#define MAX_RECORD_BYTES (1u << 20)           /* one CSV record; longer means a stray quote */
#define MAX_RACKS 16000000u                   /* fits the 32-bit row key */
#define N_COLS (SK_MIX_NVALUES + 2)

static const char *const col_names[N_COLS] = {
    "ts",          "rack_id",      "inlet_c",         "outlet_c",  "pdu_kw",         "chiller_kw",
    "fan_kw",      "pump_kw",      "gpu_energy_j",    "tokens_ps", "latency_p95_ms", "queue_depth",
    "fan_rpm_pct", "pump_rpm_pct", "j_per_prompt_wh", "delta_t_c", "gpu_kw"};
enum { COL_INLET = 0, COL_OUTLET = 1, COL_DELTA = 13 }; /* value column indices */

const char *sk_mix_column_name(int i) {
  return (i >= 0 && i < N_COLS) ? col_names[i] : NULL;
}

typedef enum { R_MEAN, R_LAST, R_SUM, R_MAX, R_MIN, R_COUNT, R_SUM_PER_S, N_RULES } rule;
static const char *const rule_names[N_RULES] = {"mean", "last",  "sum",      "max",
                                                "min",  "count", "sum_per_s"};
static const char rule_list[] = "mean, last, sum, max, min, count, sum_per_s";

typedef enum { TF_ISO8601, TF_EPOCH_S, TF_EPOCH_MS, TF_AZURE, N_TF } time_format;
static const char *const tf_names[N_TF] = {"iso8601", "epoch_s", "epoch_ms", "azure"};

/* ------------------------------------------------------------------------------------ */
/* Time                                                                                 */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void sk_mix_format_time(int64_t t_ns, int frac, char *buf, size_t len) {
  sk_time_format(t_ns, frac, buf, len);
}

/* Fractional digits (0, 3, 6 or 9) that show t_ns exactly. */
static int frac_digits(int64_t t_ns) {
  return t_ns % NS_PER_S == 0 ? 0 : t_ns % 1000000 == 0 ? 3 : t_ns % 1000 == 0 ? 6 : 9;
}

/* The parser's settings for a time_format: its forms, up to 9 fractional digits (ns),
 * and the supported range 1970..2199. */
static void time_opts(time_format tf, sk_time_opts *o) {
  static const unsigned forms[N_TF] = {
      [TF_ISO8601] = SK_TIME_ISO_T | SK_TIME_ZONE,
      [TF_EPOCH_S] = SK_TIME_UNIX_S,
      [TF_EPOCH_MS] = SK_TIME_UNIX_MS,
      [TF_AZURE] = SK_TIME_ISO_SPACE,
  };
  sk_time_opts_init(o);
  o->forms = forms[tf];
  o->max_frac_digits = 9;
  o->min_ns = 0;
  o->max_ns = SK_TIME_DATA_MAX_NS;
}

/* Parses s as time format tf; 0 with a reason if it is not one.  Seconds that would be in
 * range as milliseconds get a hint: that mistake is common and the range error alone does
 * not point at it. */
static int parse_time(time_format tf, const sk_time_zone *zone, const char *s, int64_t *t_ns,
                      char *reason, size_t rlen) {
  sk_time_opts o;
  time_opts(tf, &o);
  o.zone = zone;
  size_t len = strlen(s);
  sk_status st = sk_time_parse(s, len, &o, t_ns, reason, rlen);
  if (st == SK_ERANGE && tf == TF_EPOCH_S) {
    int64_t ms;
    time_opts(TF_EPOCH_MS, &o);
    size_t n = strlen(reason);
    if (sk_time_parse(s, len, &o, &ms, NULL, 0) == SK_OK && n < rlen)
      snprintf(reason + n, rlen - n, " (milliseconds? then use time_format epoch_ms)");
  }
  return st == SK_OK;
}

/* ------------------------------------------------------------------------------------ */
/* The mix                                                                              */

typedef struct {
  int64_t bin;    /* grid bin counted from the anchor */
  int64_t t_ns;   /* rule last: time of the value kept */
  double v;       /* sum (mean, sum, sum_per_s), min, max or last value */
  uint64_t count; /* samples binned; 0 marks an empty slot */
  uint32_t key;   /* 0 room row, 1 + i rack i */
  uint8_t col;    /* value column 0..SK_MIX_MAX_VALUES-1 */
} cell;

struct sk_mix {
  int64_t anchor_ns, step_ns; /* bins are [anchor + k step, anchor + (k+1) step) */
  int64_t first_bin, n_bins;  /* the grid's bins, counted from the anchor */
  int rule[SK_MIX_MAX_VALUES]; /* per value column; -1 unmapped */
  int expect[2][SK_MIX_MAX_VALUES]; /* [0 room, 1 rack][c]: some source of that kind maps c */
  int derive_delta;           /* delta_t_c = outlet_c - inlet_c (unmapped, both mapped) */
  int room;                   /* a room-level row per time */
  cell *cells;                /* open addressing, cap a power of two */
  size_t cap, n_cells;
  char **rack;         /* rack ids in order of first appearance (owned) */
  uint32_t *rack_slot; /* interning hash: 1 + index, 0 empty */
  size_t n_racks, rack_cap, slot_cap;
  uint32_t *order; /* rack indices sorted by id */
  sk_mix_stats stats;
};

static uint64_t mix64(uint64_t x) { /* splitmix64 finaliser */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static size_t cell_hash(int64_t bin, uint32_t key, uint8_t col) {
  return (size_t)mix64((uint64_t)bin * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)key << 8 | col));
}

static const cell *cell_find(const sk_mix *m, int64_t bin, uint32_t key, uint8_t col) {
  if (m->cap == 0)
    return NULL;
  for (size_t i = cell_hash(bin, key, col) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    const cell *c = &m->cells[i];
    if (c->count == 0)
      return NULL;
    if (c->bin == bin && c->key == key && c->col == col)
      return c;
  }
}

/* The cell for (bin, key, col), created empty if new; NULL when out of memory. */
static cell *cell_get(sk_mix *m, int64_t bin, uint32_t key, uint8_t col) {
  if ((m->n_cells + 1) * 10 > m->cap * 7) {
    size_t nc = m->cap ? m->cap * 2 : 1024;
    cell *t = calloc(nc, sizeof *t);
    if (t == NULL)
      return NULL;
    for (size_t i = 0; i < m->cap; i++) {
      const cell *c = &m->cells[i];
      if (c->count == 0)
        continue;
      size_t j = cell_hash(c->bin, c->key, c->col) & (nc - 1);
      while (t[j].count != 0)
        j = (j + 1) & (nc - 1);
      t[j] = *c;
    }
    free(m->cells);
    m->cells = t;
    m->cap = nc;
  }
  size_t i = cell_hash(bin, key, col) & (m->cap - 1);
  for (; m->cells[i].count != 0; i = (i + 1) & (m->cap - 1)) {
    cell *c = &m->cells[i];
    if (c->bin == bin && c->key == key && c->col == col)
      return c;
  }
  cell *c = &m->cells[i];
  c->bin = bin;
  c->key = key;
  c->col = col;
  c->v = 0;
  c->t_ns = 0;
  m->n_cells++; /* count is set by the caller's first sample */
  return c;
}

static void cell_add(cell *c, rule r, double x, int64_t t_ns) {
  switch (r) {
  case R_MEAN:
  case R_SUM:
  case R_SUM_PER_S:
    c->v += x;
    break;
  case R_MAX:
    if (c->count == 0 || x > c->v)
      c->v = x;
    break;
  case R_MIN:
    if (c->count == 0 || x < c->v)
      c->v = x;
    break;
  case R_LAST: /* ties go to the later line (and the later source) */
    if (c->count == 0 || t_ns >= c->t_ns) {
      c->v = x;
      c->t_ns = t_ns;
    }
    break;
  case R_COUNT:
  case N_RULES:
    break;
  }
  c->count++;
}

static double cell_value(const sk_mix *m, const cell *c, rule r) {
  switch (r) {
  case R_MEAN:
    return c->v / (double)c->count;
  case R_COUNT:
    return (double)c->count;
  case R_SUM_PER_S:
    return c->v / ((double)m->step_ns / (double)NS_PER_S);
  default:
    return c->v;
  }
}

static uint64_t str_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Row key of rack id s (1 + index), added if new; 0 on out of memory or too many. */
static uint32_t rack_key(sk_mix *m, const char *s) {
  if (m->slot_cap > 0) {
    for (size_t i = str_hash(s) & (m->slot_cap - 1); m->rack_slot[i];
         i = (i + 1) & (m->slot_cap - 1))
      if (strcmp(m->rack[m->rack_slot[i] - 1], s) == 0)
        return m->rack_slot[i];
  }
  if (m->n_racks >= MAX_RACKS)
    return 0;
  if ((m->n_racks + 1) * 2 > m->slot_cap) {
    size_t nc = m->slot_cap ? m->slot_cap * 2 : 64;
    uint32_t *t = calloc(nc, sizeof *t);
    if (t == NULL)
      return 0;
    for (size_t k = 0; k < m->n_racks; k++) {
      size_t j = str_hash(m->rack[k]) & (nc - 1);
      while (t[j])
        j = (j + 1) & (nc - 1);
      t[j] = (uint32_t)(k + 1);
    }
    free(m->rack_slot);
    m->rack_slot = t;
    m->slot_cap = nc;
  }
  if (m->n_racks == m->rack_cap) {
    size_t nc = m->rack_cap ? m->rack_cap * 2 : 16;
    char **t = realloc(m->rack, nc * sizeof *t);
    if (t == NULL)
      return 0;
    m->rack = t;
    m->rack_cap = nc;
  }
  char *copy = strdup(s);
  if (copy == NULL)
    return 0;
  m->rack[m->n_racks++] = copy;
  size_t i = str_hash(s) & (m->slot_cap - 1);
  while (m->rack_slot[i])
    i = (i + 1) & (m->slot_cap - 1);
  m->rack_slot[i] = (uint32_t)m->n_racks;
  return (uint32_t)m->n_racks;
}

void sk_mix_destroy(sk_mix *m) {
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n_racks; i++)
    free(m->rack[i]);
  free(m->rack);
  free(m->rack_slot);
  free(m->order);
  free(m->cells);
  free(m);
}

/* ------------------------------------------------------------------------------------ */
/* The mapping                                                                          */

typedef struct {
  int out; /* value column 0..SK_MIX_MAX_VALUES-1 */
  rule rule;
  double scale;        /* multiplies each value as read */
  const char *csv_col; /* CSV header name (in the mapping's JSON tree) */
  int derive;          /* from "derive" (else "columns") */
  size_t field;        /* index in the header */
} map_col;

typedef struct {
  const char *file; /* as written in the mapping */
  char *path;       /* resolved against the mapping's directory (owned) */
  const char *time_column, *rack_column;
  time_format tf;
  sk_time_zone zone;         /* for civil times without a zone */
  int has_zone;              /* zone set (the source's "tz", else the caller's default) */
  int64_t first_ns, last_ns; /* earliest and latest time read (first > last: none) */
  map_col col[SK_MIX_MAX_VALUES];
  int n_col;
  size_t time_field, rack_field;
} source;

typedef struct {
  const char *origin; /* the mapping path, for messages */
  cJSON *root;
  source *src;
  int n_src;
  int have_start, have_end;
  int64_t start_ns, end_ns;
  int rule_src[SK_MIX_MAX_VALUES];  /* which source first set the column's rule */
  const sk_time_zone *default_zone; /* the caller's --tz, or NULL (UTC) */
} mapping;

static int value_column(const char *name) {
  for (int i = 2; i < N_COLS; i++)
    if (strcmp(col_names[i], name) == 0)
      return i - 2;
  return -1;
}

static int lookup_name(const char *const *names, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0)
      return i;
  return -1;
}

/* Every key of obj must be in `allowed` (NULL-ended) and appear once. */
static sk_status check_keys(const cJSON *obj, const char *const *allowed, const char *origin,
                            const char *path, char *err, size_t errlen) {
  for (const cJSON *c = obj->child; c != NULL; c = c->next) {
    const char *sep = path[0] ? "." : "";
    int ok = 0;
    for (int i = 0; allowed[i] != NULL && !ok; i++)
      ok = strcmp(allowed[i], c->string) == 0;
    if (!ok) {
      char list[256] = "";
      for (int i = 0; allowed[i] != NULL; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", allowed[i]);
      }
      sk_errf(err, errlen, "%s: %s%s%s: unknown key (expected %s)", origin, path, sep, c->string,
              list);
      return SK_EPARSE;
    }
    if (sk__json_key_repeated(obj, c)) {
      sk_errf(err, errlen, "%s: %s%s%s: given twice", origin, path, sep, c->string);
      return SK_EPARSE;
    }
  }
  return SK_OK;
}

/* A required (or optional, *out left NULL) non-empty string member. */
static sk_status get_string(const cJSON *obj, const char *key, int required, const char **out,
                            const char *origin, const char *path, char *err, size_t errlen) {
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
  *out = NULL;
  if (j == NULL) {
    if (!required)
      return SK_OK;
    sk_errf(err, errlen, "%s: %s.%s: missing (required)", origin, path, key);
    return SK_EPARSE;
  }
  if (!cJSON_IsString(j)) {
    sk_errf(err, errlen, "%s: %s.%s: expected a string, got %s", origin, path, key,
            sk__json_type_name(j));
    return SK_EPARSE;
  }
  if (j->valuestring[0] == '\0') {
    sk_errf(err, errlen, "%s: %s.%s: must not be empty", origin, path, key);
    return SK_EPARSE;
  }
  *out = j->valuestring;
  return SK_OK;
}

/* The optional member key of j (*out NULL when absent), which must be an object; hint
 * shows the expected shape in the message. */
static sk_status get_object(const cJSON *j, const char *key, const char *hint, const cJSON **out,
                            const char *origin, const char *path, char *err, size_t errlen) {
  *out = cJSON_GetObjectItemCaseSensitive(j, key);
  if (*out != NULL && !cJSON_IsObject(*out)) {
    sk_errf(err, errlen, "%s: %s.%s: expected an object %s, got %s", origin, path, key, hint,
            sk__json_type_name(*out));
    return SK_EPARSE;
  }
  return SK_OK;
}

static sk_status parse_rule(const char *s, rule *r, const char *origin, const char *path, char *err,
                            size_t errlen) {
  int i = lookup_name(rule_names, N_RULES, s);
  if (i < 0) {
    sk_errf(err, errlen, "%s: %s: unknown rule \"%s\" (expected one of %s)", origin, path, s,
            rule_list);
    return SK_EPARSE;
  }
  *r = (rule)i;
  return SK_OK;
}

static sk_status parse_grid(mapping *mp, sk_mix *m, char *err, size_t errlen) {
  static const char *const keys[] = {"start", "end", "step_s", NULL};
  const char *origin = mp->origin;
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(mp->root, "grid");
  char reason[160];
  if (g == NULL) {
    sk_errf(err, errlen, "%s: grid: missing (required; at least {\"step_s\": 60})", origin);
    return SK_EPARSE;
  }
  if (!cJSON_IsObject(g)) {
    sk_errf(err, errlen, "%s: grid: expected an object, got %s", origin, sk__json_type_name(g));
    return SK_EPARSE;
  }
  sk_status st = check_keys(g, keys, origin, "grid", err, errlen);
  if (st != SK_OK)
    return st;
  const cJSON *step = cJSON_GetObjectItemCaseSensitive(g, "step_s");
  if (step == NULL) {
    sk_errf(err, errlen, "%s: grid.step_s: missing (required; the bin width in s)", origin);
    return SK_EPARSE;
  }
  if (!cJSON_IsNumber(step)) {
    sk_errf(err, errlen, "%s: grid.step_s: expected a number, got %s", origin,
            sk__json_type_name(step));
    return SK_EPARSE;
  }
  double s = step->valuedouble;
  if (!(s > 0)) {
    sk_errf(err, errlen, "%s: grid.step_s: must be > 0, got %g", origin, s);
    return SK_EINVAL;
  }
  if (s > MAX_STEP_S) {
    sk_errf(err, errlen, "%s: grid.step_s: must be at most %.0f (366 days), got %g", origin,
            MAX_STEP_S, s);
    return SK_EINVAL;
  }
  double ms = s * 1000.0;
  if (ms < 1 || fabs(ms - nearbyint(ms)) > 1e-6 * ms) {
    sk_errf(err, errlen, "%s: grid.step_s: must be a whole number of milliseconds, got %g", origin,
            s);
    return SK_EINVAL;
  }
  m->step_ns = (int64_t)nearbyint(ms) * 1000000;
  const char *names[2] = {"start", "end"};
  int64_t *dst[2] = {&mp->start_ns, &mp->end_ns};
  int *have[2] = {&mp->have_start, &mp->have_end};
  for (int i = 0; i < 2; i++) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(g, names[i]);
    if (j == NULL)
      continue;
    if (!cJSON_IsString(j)) {
      sk_errf(err, errlen, "%s: grid.%s: expected an ISO 8601 time string, got %s", origin,
              names[i], sk__json_type_name(j));
      return SK_EPARSE;
    }
    if (!parse_time(TF_ISO8601, mp->default_zone, j->valuestring, dst[i], reason, sizeof reason)) {
      sk_errf(err, errlen, "%s: grid.%s: %s", origin, names[i], reason);
      return SK_EPARSE;
    }
    *have[i] = 1;
  }
  m->anchor_ns = mp->have_start ? mp->start_ns : 0;
  if (mp->have_end) {
    char a[40], b[40];
    sk_mix_format_time(mp->end_ns, frac_digits(mp->end_ns), a, sizeof a);
    if (mp->have_start && mp->end_ns <= mp->start_ns) {
      sk_mix_format_time(mp->start_ns, frac_digits(mp->start_ns), b, sizeof b);
      sk_errf(err, errlen, "%s: grid.end: %s is not after grid.start %s", origin, a, b);
      return SK_EINVAL;
    }
    if ((mp->end_ns - m->anchor_ns) % m->step_ns != 0) {
      if (mp->have_start)
        sk_errf(err, errlen, "%s: grid.end: not a whole number of steps (%g s) after grid.start",
                origin, s);
      else
        sk_errf(err, errlen,
                "%s: grid.end: not on the grid: without grid.start the grid times are "
                "multiples of step_s (%g s) since 1970-01-01T00:00:00Z",
                origin, s);
      return SK_EINVAL;
    }
    if (mp->have_start && (uint64_t)((mp->end_ns - mp->start_ns) / m->step_ns) > SK_MIX_MAX_ROWS) {
      sk_errf(err, errlen,
              "%s: grid: %lld times exceed the limit of %llu output rows; use a larger "
              "grid.step_s or a shorter span",
              origin, (long long)((mp->end_ns - mp->start_ns) / m->step_ns), SK_MIX_MAX_ROWS);
      return SK_ERANGE;
    }
  }
  return SK_OK;
}

/* Adds output column `name` of sources[i] with csv column `csv` and rule r. */
static sk_status add_col(mapping *mp, sk_mix *m, int i, const char *kind, const char *name,
                         const char *csv, rule r, char *err, size_t errlen) {
  source *s = &mp->src[i];
  int out = value_column(name);
  if (strcmp(kind, "pass") == 0) {
    /* a pass-through column: the CSV's name, not one of ours */
    if (out >= 0 || strcmp(name, "ts") == 0 || strcmp(name, "rack_id") == 0 ||
        strcmp(name, "n_empty") == 0) {
      sk_errf(err, errlen,
              "%s: sources[%d].pass: \"%s\" is an output column of its own; map it with "
              "\"columns\"%s",
              mp->origin, i, name,
              out < 0 ? " (ts, rack_id and n_empty cannot be passed through)" : "");
      return SK_EPARSE;
    }
    if (strlen(name) >= SK_MIX_NAME_LEN || strpbrk(name, ",\"\r\n") != NULL) {
      sk_errf(err, errlen,
              "%s: sources[%d].pass: \"%.40s\": a pass-through name has at most %d characters "
              "and no comma, quote or line break",
              mp->origin, i, name, SK_MIX_NAME_LEN - 1);
      return SK_EPARSE;
    }
    for (int e = 0; e < m->stats.n_extra && out < 0; e++)
      if (strcmp(m->stats.extra[e], name) == 0)
        out = SK_MIX_NVALUES + e;
    if (out < 0) {
      if (m->stats.n_extra == SK_MIX_MAX_EXTRA) {
        sk_errf(err, errlen, "%s: sources[%d].pass: \"%s\": more than %d pass-through columns",
                mp->origin, i, name, SK_MIX_MAX_EXTRA);
        return SK_EPARSE;
      }
      out = SK_MIX_NVALUES + m->stats.n_extra;
      snprintf(m->stats.extra[m->stats.n_extra++], SK_MIX_NAME_LEN, "%s", name);
    }
  }
  if (out < 0) {
    if (strcmp(name, "ts") == 0 || strcmp(name, "rack_id") == 0)
      sk_errf(err, errlen,
              "%s: sources[%d].%s.%s: %s is not a value column (ts comes from time_column, "
              "rack_id from rack_column)",
              mp->origin, i, kind, name, name);
    else
      sk_errf(err, errlen,
              "%s: sources[%d].%s.%s: unknown output column (expected one of inlet_c, "
              "outlet_c, pdu_kw, chiller_kw, fan_kw, pump_kw, gpu_energy_j, tokens_ps, "
              "latency_p95_ms, queue_depth, fan_rpm_pct, pump_rpm_pct, j_per_prompt_wh, "
              "delta_t_c, gpu_kw)",
              mp->origin, i, kind, name);
    return SK_EPARSE;
  }
  for (int k = 0; k < s->n_col; k++)
    if (s->col[k].out == out) {
      sk_errf(err, errlen, "%s: sources[%d].%s.%s: %s is also in sources[%d].%s", mp->origin, i,
              kind, name, name, i, s->col[k].derive ? "derive" : "columns");
      return SK_EPARSE;
    }
  if (m->rule[out] >= 0 && m->rule[out] != (int)r) {
    sk_errf(err, errlen,
            "%s: sources[%d].%s.%s%s: rule \"%s\" differs from \"%s\" given for %s by "
            "sources[%d]; an output column has one rule",
            mp->origin, i, kind, name, strcmp(kind, "derive") == 0 ? ".rule" : "", rule_names[r],
            rule_names[m->rule[out]], name, mp->rule_src[out]);
    return SK_EPARSE;
  }
  if (m->rule[out] < 0) {
    m->rule[out] = (int)r;
    mp->rule_src[out] = i;
  }
  m->expect[s->rack_column != NULL][out] = 1;
  map_col *c = &s->col[s->n_col++];
  c->out = out;
  c->rule = r;
  c->scale = 1;
  c->csv_col = csv;
  c->derive = strcmp(kind, "derive") == 0;
  return SK_OK;
}

static sk_status parse_source(mapping *mp, sk_mix *m, int i, const cJSON *j, char *err,
                              size_t errlen) {
  static const char *const keys[] = {"file",    "time_column", "time_format", "rack_column",
                                     "columns", "resample",    "scale",       "derive",
                                     "tz",      "pass",        NULL};
  static const char *const derive_keys[] = {"column", "rule", NULL};
  const char *origin = mp->origin;
  source *s = &mp->src[i];
  char path[96], sub[192];
  snprintf(path, sizeof path, "sources[%d]", i);
  if (!cJSON_IsObject(j)) {
    sk_errf(err, errlen, "%s: %s: expected an object, got %s", origin, path, sk__json_type_name(j));
    return SK_EPARSE;
  }
  sk_status st = check_keys(j, keys, origin, path, err, errlen);
  const char *tf = NULL, *resample = NULL;
  if (st == SK_OK)
    st = get_string(j, "file", 1, &s->file, origin, path, err, errlen);
  if (st == SK_OK)
    st = get_string(j, "time_column", 1, &s->time_column, origin, path, err, errlen);
  if (st == SK_OK)
    st = get_string(j, "time_format", 1, &tf, origin, path, err, errlen);
  if (st == SK_OK)
    st = get_string(j, "rack_column", 0, &s->rack_column, origin, path, err, errlen);
  if (st == SK_OK)
    st = get_string(j, "resample", 0, &resample, origin, path, err, errlen);
  const char *tz = NULL;
  if (st == SK_OK)
    st = get_string(j, "tz", 0, &tz, origin, path, err, errlen);
  if (st != SK_OK)
    return st;
  s->first_ns = INT64_MAX;
  s->last_ns = INT64_MIN;
  if (tz != NULL) {
    char reason[1024];
    if (sk_time_zone_parse(tz, &s->zone, reason, sizeof reason) != SK_OK) {
      sk_errf(err, errlen, "%s: %s.tz: %s", origin, path, reason);
      return SK_EPARSE;
    }
    s->has_zone = 1;
  } else if (mp->default_zone != NULL) {
    s->zone = *mp->default_zone;
    s->has_zone = 1;
  }
  int k = lookup_name(tf_names, N_TF, tf);
  if (k < 0) {
    sk_errf(err, errlen,
            "%s: %s.time_format: unknown time format \"%s\" (expected one of iso8601, epoch_s, "
            "epoch_ms, azure)",
            origin, path, tf);
    return SK_EPARSE;
  }
  s->tf = (time_format)k;
  rule base = R_MEAN;
  snprintf(sub, sizeof sub, "%s.resample", path);
  if (resample != NULL && (st = parse_rule(resample, &base, origin, sub, err, errlen)) != SK_OK)
    return st;

  const cJSON *cols, *der, *sc;
  if ((st = get_object(j, "columns", "{\"output column\": \"CSV column\"}", &cols, origin, path,
                       err, errlen)) != SK_OK)
    return st;
  if (cols != NULL) {
    snprintf(sub, sizeof sub, "%s.columns", path);
    for (const cJSON *c = cols->child; c != NULL; c = c->next) {
      if (sk__json_key_repeated(cols, c)) {
        sk_errf(err, errlen, "%s: %s.%s: given twice", origin, sub, c->string);
        return SK_EPARSE;
      }
      if (!cJSON_IsString(c) || c->valuestring[0] == '\0') {
        sk_errf(err, errlen, "%s: %s.%s: expected the name of a CSV column, got %s", origin, sub,
                c->string, cJSON_IsString(c) ? "\"\"" : sk__json_type_name(c));
        return SK_EPARSE;
      }
      if ((st = add_col(mp, m, i, "columns", c->string, c->valuestring, base, err, errlen)) !=
          SK_OK)
        return st;
    }
  }
  if ((st = get_object(j, "derive", "{\"output column\": {\"column\": ..., \"rule\": ...}}", &der,
                       origin, path, err, errlen)) != SK_OK)
    return st;
  if (der != NULL) {
    for (const cJSON *c = der->child; c != NULL; c = c->next) {
      snprintf(sub, sizeof sub, "%s.derive.%s", path, c->string);
      if (sk__json_key_repeated(der, c)) {
        sk_errf(err, errlen, "%s: %s: given twice", origin, sub);
        return SK_EPARSE;
      }
      if (!cJSON_IsObject(c)) {
        sk_errf(err, errlen, "%s: %s: expected an object {\"column\": ..., \"rule\": ...}, got %s",
                origin, sub, sk__json_type_name(c));
        return SK_EPARSE;
      }
      const char *csv, *rs;
      rule r;
      if ((st = check_keys(c, derive_keys, origin, sub, err, errlen)) != SK_OK ||
          (st = get_string(c, "column", 1, &csv, origin, sub, err, errlen)) != SK_OK ||
          (st = get_string(c, "rule", 1, &rs, origin, sub, err, errlen)) != SK_OK)
        return st;
      char rpath[224];
      snprintf(rpath, sizeof rpath, "%s.rule", sub);
      if ((st = parse_rule(rs, &r, origin, rpath, err, errlen)) != SK_OK ||
          (st = add_col(mp, m, i, "derive", c->string, csv, r, err, errlen)) != SK_OK)
        return st;
    }
  }
  const cJSON *pass = cJSON_GetObjectItemCaseSensitive(j, "pass");
  if (pass != NULL) {
    snprintf(sub, sizeof sub, "%s.pass", path);
    if (!cJSON_IsArray(pass)) {
      sk_errf(err, errlen, "%s: %s: expected an array of CSV column names, got %s", origin, sub,
              sk__json_type_name(pass));
      return SK_EPARSE;
    }
    int n = 0;
    for (const cJSON *c = pass->child; c != NULL; c = c->next, n++) {
      if (!cJSON_IsString(c) || c->valuestring[0] == '\0') {
        sk_errf(err, errlen, "%s: %s[%d]: expected the name of a CSV column, got %s", origin, sub,
                n, cJSON_IsString(c) ? "\"\"" : sk__json_type_name(c));
        return SK_EPARSE;
      }
      if ((st = add_col(mp, m, i, "pass", c->valuestring, c->valuestring, base, err, errlen)) !=
          SK_OK)
        return st;
    }
  }
  if (s->n_col == 0) {
    sk_errf(err, errlen, "%s: %s: maps no column (give \"columns\", \"derive\" or \"pass\")",
            origin, path);
    return SK_EPARSE;
  }
  if ((st = get_object(j, "scale", "{\"output column\": factor}", &sc, origin, path, err,
                       errlen)) != SK_OK)
    return st;
  for (const cJSON *c = sc ? sc->child : NULL; c != NULL; c = c->next) {
    snprintf(sub, sizeof sub, "%s.scale.%s", path, c->string);
    if (sk__json_key_repeated(sc, c)) {
      sk_errf(err, errlen, "%s: %s: given twice", origin, sub);
      return SK_EPARSE;
    }
    int out = value_column(c->string);
    map_col *mc = NULL;
    for (int q = 0; q < s->n_col && mc == NULL; q++)
      if (s->col[q].out == out)
        mc = &s->col[q];
    if (mc == NULL) {
      sk_errf(err, errlen, "%s: %s: %s is not an output column of this source", origin, sub,
              c->string);
      return SK_EPARSE;
    }
    if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble)) {
      sk_errf(err, errlen, "%s: %s: expected a number, got %s", origin, sub, sk__json_type_name(c));
      return SK_EPARSE;
    }
    if (mc->rule == R_COUNT) {
      sk_errf(err, errlen, "%s: %s: has no effect with rule count", origin, sub);
      return SK_EPARSE;
    }
    mc->scale = c->valuedouble;
  }
  return SK_OK;
}

/* Resolves file against the directory of the mapping path (a lexical join, like the
 * scenario's trace path: what the user typed stays visible in messages). */
static char *resolve(const char *mapping_path, const char *file) {
  const char *slash = strrchr(mapping_path, '/');
  size_t dl = (file[0] == '/' || slash == NULL) ? 0 : (size_t)(slash - mapping_path) + 1;
  size_t fl = strlen(file);
  char *p = malloc(dl + fl + 1);
  if (p == NULL)
    return NULL;
  memcpy(p, mapping_path, dl);
  memcpy(p + dl, file, fl + 1);
  return p;
}

/* Opens path for reading; the reason (without the path) on failure. */
static sk_status open_file(const char *path, FILE **f, char *reason, size_t rlen) {
  struct stat stb;
  if (stat(path, &stb) != 0) {
    snprintf(reason, rlen, "cannot open: %s", strerror(errno));
    return errno == ENOENT || errno == ENOTDIR ? SK_ENOTFOUND : SK_EIO;
  }
  if (S_ISDIR(stb.st_mode)) {
    snprintf(reason, rlen, "is a directory, not a file");
    return SK_EINVAL;
  }
  *f = fopen(path, "rb");
  if (*f == NULL) {
    snprintf(reason, rlen, "cannot open: %s", strerror(errno));
    return SK_EIO;
  }
  return SK_OK;
}

static sk_status load_mapping(mapping *mp, sk_mix *m, char *err, size_t errlen) {
  const char *origin = mp->origin;
  char reason[200];
  FILE *f = NULL;
  sk_status st = open_file(origin, &f, reason, sizeof reason);
  if (st != SK_OK) {
    sk_errf(err, errlen, "%s: %s", origin, reason);
    return st;
  }
  char *text = malloc(MAX_MAPPING_BYTES + 1);
  if (text == NULL) {
    fclose(f);
    sk_errf(err, errlen, "%s: out of memory", origin);
    return SK_ENOMEM;
  }
  size_t len = fread(text, 1, MAX_MAPPING_BYTES + 1, f);
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(text);
    sk_errf(err, errlen, "%s: read error", origin);
    return SK_EIO;
  }
  if (len > MAX_MAPPING_BYTES) {
    free(text);
    sk_errf(err, errlen, "%s: larger than %u bytes; not a mapping", origin, MAX_MAPPING_BYTES);
    return SK_ERANGE;
  }
  text[len] = '\0';
  /* len + 1: the NUL must be inside the length for cJSON to require it after the value,
   * which rejects trailing junk like "{} }" */
  mp->root = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
  if (mp->root == NULL) {
    sk__json_syntax_error(text, len, cJSON_GetErrorPtr(), origin, err, errlen);
    free(text);
    return SK_EPARSE;
  }
  free(text);
  if (!cJSON_IsObject(mp->root)) {
    sk_errf(err, errlen, "%s: expected a JSON object at the top level, got %s", origin,
            sk__json_type_name(mp->root));
    return SK_EPARSE;
  }
  static const char *const keys[] = {"description", "grid", "sources", NULL};
  if ((st = check_keys(mp->root, keys, origin, "", err, errlen)) != SK_OK)
    return st;
  const cJSON *desc = cJSON_GetObjectItemCaseSensitive(mp->root, "description");
  if (desc != NULL && !cJSON_IsString(desc)) {
    sk_errf(err, errlen, "%s: description: expected a string, got %s", origin,
            sk__json_type_name(desc));
    return SK_EPARSE;
  }
  if ((st = parse_grid(mp, m, err, errlen)) != SK_OK)
    return st;
  const cJSON *srcs = cJSON_GetObjectItemCaseSensitive(mp->root, "sources");
  if (srcs == NULL || !cJSON_IsArray(srcs) || cJSON_GetArraySize(srcs) == 0) {
    sk_errf(err, errlen, "%s: sources: %s", origin,
            srcs == NULL          ? "missing (required; a list of CSV sources)"
            : cJSON_IsArray(srcs) ? "empty; give at least one source"
                                  : "expected an array of sources");
    return SK_EPARSE;
  }
  int n_src = cJSON_GetArraySize(srcs);
  mp->src = calloc((size_t)n_src, sizeof *mp->src);
  if (mp->src == NULL) {
    sk_errf(err, errlen, "%s: out of memory", origin);
    return SK_ENOMEM;
  }
  mp->n_src = n_src;
  int i = 0;
  for (const cJSON *j = srcs->child; j != NULL; j = j->next, i++)
    if ((st = parse_source(mp, m, i, j, err, errlen)) != SK_OK)
      return st;
  for (i = 0; i < mp->n_src; i++) {
    mp->src[i].path = resolve(origin, mp->src[i].file);
    if (mp->src[i].path == NULL) {
      sk_errf(err, errlen, "%s: out of memory", origin);
      return SK_ENOMEM;
    }
    if (mp->src[i].rack_column == NULL)
      m->room = 1;
  }
  return SK_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Reading the sources                                                                  */

/* Finds `name` in the header; SK_OK with *idx, or an error naming the mapping field. */
static sk_status header_find(const mapping *mp, int i, const sk_csv *r, const char *name,
                             const char *field, size_t *idx, char *err, size_t errlen) {
  sk_status st = sk_csv_column(r, name, idx, err, errlen);
  if (st == SK_ENOTFOUND) {
    char list[200];
    sk_csv_header_names(r, list, sizeof list);
    sk_errf(err, errlen, "%s: sources[%d].%s: column \"%s\" not in %s header (it has: %s)",
            mp->origin, i, field, name, mp->src[i].path, list);
    return SK_EPARSE;
  }
  return st;
}

/* An open source: the file (mix opens it itself, for the mapping-level messages) and the
 * reader over it. */
typedef struct {
  FILE *f;
  sk_csv *csv;
} source_file;

static void close_source(source_file *sf) {
  sk_csv_destroy(sf->csv);
  if (sf->f != NULL)
    fclose(sf->f);
  sf->csv = NULL;
  sf->f = NULL;
}

/* Opens sources[i], reads its header and resolves every mapped column to a field. */
static sk_status open_source(mapping *mp, int i, source_file *sf, char *err, size_t errlen) {
  source *s = &mp->src[i];
  char reason[600];
  sf->f = NULL;
  sf->csv = NULL;
  sk_status st = open_file(s->path, &sf->f, reason, sizeof reason);
  if (st != SK_OK) {
    sk_errf(err, errlen, "%s: sources[%d].file: %s: %s", mp->origin, i, s->path, reason);
    return st;
  }
  sk_csv_opts o;
  sk_csv_opts_init(&o);
  o.max_record_bytes = MAX_RECORD_BYTES;
  o.max_fields = MAX_RECORD_BYTES; /* no cap of its own: each field costs a byte */
  o.delimiter = SK_CSV_SNIFF;
  o.skip_trailer = 1;
  st = sk_csv_create_stream(&sf->csv, sf->f, s->path, &o, err, errlen);
  if (st == SK_OK)
    st = sk_csv_read_header(sf->csv, err, errlen);
  if (st == SK_OK)
    st = header_find(mp, i, sf->csv, s->time_column, "time_column", &s->time_field, err, errlen);
  if (st == SK_OK && s->rack_column)
    st = header_find(mp, i, sf->csv, s->rack_column, "rack_column", &s->rack_field, err, errlen);
  for (int k = 0; k < s->n_col && st == SK_OK; k++) {
    map_col *c = &s->col[k];
    char field[64];
    if (c->out >= SK_MIX_NVALUES)
      snprintf(field, sizeof field, "pass");
    else
      snprintf(field, sizeof field, "%s.%s%s", c->derive ? "derive" : "columns",
               col_names[c->out + 2], c->derive ? ".column" : "");
    st = header_find(mp, i, sf->csv, c->csv_col, field, &c->field, err, errlen);
  }
  if (st != SK_OK)
    close_source(sf);
  return st;
}

/* A mapped value: 1 number, 0 missing (empty or NaN), -1 not a number. */
static int parse_value(const char *s, double *v) {
  if (s[0] == '\0' || strcasecmp(s, "nan") == 0)
    return 0;
  return sk_csv_number(s, v) == SK_OK ? 1 : -1;
}

static sk_status ingest(mapping *mp, sk_mix *m, int i, int64_t *lo_bin, int64_t *hi_bin, char *err,
                        size_t errlen) {
  source *s = &mp->src[i];
  source_file sf;
  sk_status st = open_source(mp, i, &sf, err, errlen);
  if (st != SK_OK)
    return st;
  sk_csv *r = sf.csv;
  char reason[200];
  int more;
  while ((st = sk_csv_next(r, &more, err, errlen)) == SK_OK && more) {
    m->stats.csv_rows++;
    int64_t t;
    if (!parse_time(s->tf, s->has_zone ? &s->zone : NULL, sk_csv_field(r, s->time_field), &t,
                    reason, sizeof reason)) {
      sk_csv_errf(r, s->time_field, err, errlen, "%s", reason);
      st = SK_EPARSE;
      break;
    }
    if (t < s->first_ns)
      s->first_ns = t;
    if (t > s->last_ns)
      s->last_ns = t;
    if ((mp->have_start && t < mp->start_ns) || (mp->have_end && t >= mp->end_ns)) {
      m->stats.outside++;
      continue;
    }
    int64_t bin = floor_div(t - m->anchor_ns, m->step_ns);
    uint32_t key = 0;
    if (s->rack_column) {
      const char *id = sk_csv_field(r, s->rack_field);
      if (id[0] == '\0') {
        sk_csv_errf(r, s->rack_field, err, errlen,
                    "empty rack id (the empty id is the room-level row)");
        st = SK_EPARSE;
        break;
      }
      key = rack_key(m, id);
      if (key == 0) {
        if (m->n_racks >= MAX_RACKS) {
          sk_csv_errf(r, s->rack_field, err, errlen, "more than %u distinct rack ids", MAX_RACKS);
          st = SK_ERANGE;
        } else {
          sk_errf(err, errlen, "%s: out of memory", s->path);
          st = SK_ENOMEM;
        }
        break;
      }
    }
    if (*lo_bin > bin)
      *lo_bin = bin;
    if (*hi_bin < bin)
      *hi_bin = bin;
    for (int k = 0; k < s->n_col; k++) {
      const map_col *c = &s->col[k];
      double x;
      int pv = parse_value(sk_csv_field(r, c->field), &x);
      if (pv < 0) {
        st = sk_csv_field_number(r, c->field, &x, err, errlen); /* the message */
        break;
      }
      if (pv == 0) {
        m->stats.empty_values++;
        continue;
      }
      cell *ce = cell_get(m, bin, key, (uint8_t)c->out);
      if (ce == NULL) {
        sk_errf(err, errlen, "%s: out of memory after %zu cells", s->path, m->n_cells);
        st = SK_ENOMEM;
        break;
      }
      cell_add(ce, c->rule, x * c->scale, t);
      m->stats.values++;
    }
    if (st != SK_OK)
      break;
  }
  if (st == SK_OK)
    m->stats.trailer_lines += sk_csv_trailer(r, NULL, NULL);
  close_source(&sf);
  return st;
}

/* The value of column c in (bin, key): a cell, or delta_t_c derived from the row's outlet
 * and inlet.  0 when there is none. */
static int value_at(const sk_mix *m, int64_t bin, uint32_t key, int c, double *v) {
  if (m->rule[c] >= 0) {
    const cell *ce = cell_find(m, bin, key, (uint8_t)c);
    if (ce == NULL)
      return 0;
    *v = cell_value(m, ce, (rule)m->rule[c]);
    return 1;
  }
  if (c != COL_DELTA || !m->derive_delta)
    return 0;
  const cell *in = cell_find(m, bin, key, COL_INLET), *out = cell_find(m, bin, key, COL_OUTLET);
  if (in == NULL || out == NULL)
    return 0;
  *v = cell_value(m, out, (rule)m->rule[COL_OUTLET]) - cell_value(m, in, (rule)m->rule[COL_INLET]);
  return 1;
}

/* n_empty of row (bin, key): the columns mapped for its kind (room: a source without a
 * rack_column maps them; rack: one with) that have no value in it. */
static int row_empty(const sk_mix *m, int64_t bin, uint32_t key) {
  int n = 0;
  const int *expect = m->expect[key != 0];
  for (int c = 0; c < SK_MIX_NVALUES + m->stats.n_extra; c++) {
    double v;
    if (expect[c] && !value_at(m, bin, key, c, &v))
      n++;
  }
  return n;
}

/* The overlap warning: sources (with rows) whose time spans share nothing with another's. */
static void overlap_warning(const mapping *mp, sk_mix_stats *st) {
  st->overlap_warning[0] = '\0';
  for (int i = 0; i < mp->n_src; i++)
    for (int j = i + 1; j < mp->n_src; j++) {
      const source *a = &mp->src[i], *b = &mp->src[j];
      if (a->first_ns > a->last_ns || b->first_ns > b->last_ns)
        continue;
      if (a->last_ns >= b->first_ns && b->last_ns >= a->first_ns)
        continue;
      char a0[40], a1[40], b0[40], b1[40];
      sk_time_format(a->first_ns, 0, a0, sizeof a0);
      sk_time_format(a->last_ns, 0, a1, sizeof a1);
      sk_time_format(b->first_ns, 0, b0, sizeof b0);
      sk_time_format(b->last_ns, 0, b1, sizeof b1);
      snprintf(st->overlap_warning, sizeof st->overlap_warning,
               "sources[%d] (%s, %s .. %s) and sources[%d] (%s, %s .. %s) share no time: no "
               "output row holds values of both (local times read as UTC? give \"tz\" or "
               "--tz)",
               i, a->file, a0, a1, j, b->file, b0, b1);
      return;
    }
}

typedef struct {
  const char *id;
  uint32_t index;
} rack_ref;

static int by_rack_id(const void *a, const void *b) {
  return strcmp(((const rack_ref *)a)->id, ((const rack_ref *)b)->id);
}

static sk_status finish(mapping *mp, sk_mix *m, int64_t lo_bin, int64_t hi_bin, char *err,
                        size_t errlen) {
  if (lo_bin > hi_bin && (!mp->have_start || !mp->have_end)) {
    sk_errf(err, errlen,
            "%s: grid: no CSV rows%s to derive grid.%s from; give grid.start and grid.end",
            mp->origin, mp->have_start || mp->have_end ? " inside the given bound" : "",
            mp->have_start ? "end"
            : mp->have_end ? "start"
                           : "start and grid.end");
    return SK_EINVAL;
  }
  m->first_bin = mp->have_start ? 0 : lo_bin;
  int64_t end_bin = mp->have_end ? (mp->end_ns - m->anchor_ns) / m->step_ns : hi_bin + 1;
  m->n_bins = end_bin - m->first_bin;
  uint64_t keys = (uint64_t)m->room + m->n_racks;
  if ((uint64_t)m->n_bins > SK_MIX_MAX_ROWS ||
      (keys && (uint64_t)m->n_bins > SK_MIX_MAX_ROWS / keys)) {
    sk_errf(err, errlen,
            "%s: grid: %lld times x %llu rows per time exceed the limit of %llu output rows; "
            "use a larger grid.step_s or a shorter span",
            mp->origin, (long long)m->n_bins, (unsigned long long)keys, SK_MIX_MAX_ROWS);
    return SK_ERANGE;
  }
  if (m->n_racks) { /* ids are distinct, so the unstable qsort gives one order */
    m->order = malloc(m->n_racks * sizeof *m->order);
    rack_ref *refs = malloc(m->n_racks * sizeof *refs);
    if (m->order == NULL || refs == NULL) {
      free(refs);
      sk_errf(err, errlen, "%s: out of memory", mp->origin);
      return SK_ENOMEM;
    }
    for (size_t k = 0; k < m->n_racks; k++)
      refs[k] = (rack_ref){m->rack[k], (uint32_t)k};
    qsort(refs, m->n_racks, sizeof *refs, by_rack_id);
    for (size_t k = 0; k < m->n_racks; k++)
      m->order[k] = refs[k].index;
    free(refs);
  }
  sk_mix_stats *st = &m->stats;
  st->times = (size_t)m->n_bins;
  st->racks = m->n_racks;
  st->room = m->room;
  st->rows = (size_t)(m->n_bins * (int64_t)keys);
  st->step_ns = m->step_ns;
  st->start_ns = m->anchor_ns + m->first_bin * m->step_ns;
  st->end_ns = m->anchor_ns + end_bin * m->step_ns;
  st->n_values = SK_MIX_NVALUES + st->n_extra;
  for (int c = 0; c < st->n_values; c++) {
    st->mapped[c] = m->rule[c] >= 0;
    st->missing[c] = st->rows;
  }
  for (size_t k = 0; k < m->cap; k++) /* every cell is inside the grid by construction */
    if (m->cells[k].count)
      st->missing[m->cells[k].col]--;
  if (m->derive_delta) {
    st->derived[COL_DELTA] = 1;
    for (int64_t b = 0; b < m->n_bins; b++)
      for (uint32_t key = m->room ? 0 : 1; key <= m->n_racks; key++) {
        double v;
        st->missing[COL_DELTA] -= (size_t)value_at(m, m->first_bin + b, key, COL_DELTA, &v);
      }
  }
  st->rows_with_empty = 0;
  for (int64_t b = 0; b < m->n_bins; b++)
    for (uint32_t key = m->room ? 0 : 1; key <= m->n_racks; key++)
      st->rows_with_empty += row_empty(m, m->first_bin + b, key) > 0;
  overlap_warning(mp, st);
  return SK_OK;
}

sk_status sk_mix_create(sk_mix **out, const char *mapping_path, char *err, size_t errlen) {
  return sk_mix_create_tz(out, mapping_path, NULL, err, errlen);
}

sk_status sk_mix_create_tz(sk_mix **out, const char *mapping_path, const char *tz, char *err,
                           size_t errlen) {
  SK_REQUIRE(out != NULL && mapping_path != NULL);
  *out = NULL;
  sk_time_zone zone;
  if (tz != NULL) {
    char reason[1024];
    if (sk_time_zone_parse(tz, &zone, reason, sizeof reason) != SK_OK) {
      sk_errf(err, errlen, "tz: %s", reason);
      return SK_EINVAL;
    }
  }
  sk_mix *m = calloc(1, sizeof *m);
  if (m == NULL) {
    sk_errf(err, errlen, "%s: out of memory", mapping_path);
    return SK_ENOMEM;
  }
  for (int c = 0; c < SK_MIX_MAX_VALUES; c++)
    m->rule[c] = -1;
  mapping mp;
  memset(&mp, 0, sizeof mp);
  mp.origin = mapping_path;
  mp.default_zone = tz != NULL ? &zone : NULL;
  sk_status st = load_mapping(&mp, m, err, errlen);
  /* Every file and header first, so a typo in the last source does not wait for the
   * first source's hundreds of MB to be read. */
  for (int i = 0; i < mp.n_src && st == SK_OK; i++) {
    source_file sf;
    if ((st = open_source(&mp, i, &sf, err, errlen)) == SK_OK)
      close_source(&sf);
  }
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int i = 0; i < mp.n_src && st == SK_OK; i++)
    st = ingest(&mp, m, i, &lo, &hi, err, errlen);
  if (st == SK_OK) {
    m->stats.sources = (size_t)mp.n_src;
    m->derive_delta = m->rule[COL_DELTA] < 0 && m->rule[COL_INLET] >= 0 && m->rule[COL_OUTLET] >= 0;
    if (m->derive_delta) /* a derived delta_t_c is expected where both are */
      for (int k = 0; k < 2; k++)
        m->expect[k][COL_DELTA] = m->expect[k][COL_INLET] && m->expect[k][COL_OUTLET];
    st = finish(&mp, m, lo, hi, err, errlen);
  }
  for (int i = 0; i < mp.n_src; i++)
    free(mp.src[i].path);
  free(mp.src);
  cJSON_Delete(mp.root);
  if (st != SK_OK) {
    sk_mix_destroy(m);
    return st;
  }
  *out = m;
  return SK_OK;
}

void sk_mix_get_stats(const sk_mix *m, sk_mix_stats *stats) {
  SK_REQUIRE(m != NULL && stats != NULL);
  *stats = m->stats;
}

/* ------------------------------------------------------------------------------------ */
/* Writing                                                                              */

/* 15 significant digits: a mean of 22.84 and 22.838 is 22.839, not the 22.839000000000002
 * that a round-trip form would show -- the last two digits are summation noise, not data.
 * -0 is written as 0. */
static void format_value(double v, char *buf, size_t len) {
  if (v == 0)
    v = 0;
  snprintf(buf, len, "%.15g", v);
}

static void write_field(FILE *f, const char *s) {
  size_t n = strlen(s); /* blanks at either end would be trimmed when read back */
  if (n > 0 && strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ' && s[0] != '\t' && s[n - 1] != ' ' &&
      s[n - 1] != '\t') {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

sk_status sk_mix_write(const sk_mix *m, FILE *out, char *err, size_t errlen) {
  SK_REQUIRE(m != NULL && out != NULL);
  for (int c = 0; c < N_COLS; c++) {
    fputs(col_names[c], out);
    fputc(',', out);
  }
  for (int e = 0; e < m->stats.n_extra; e++) {
    fputs(m->stats.extra[e], out);
    fputc(',', out);
  }
  fputs("n_empty\n", out);
  /* fractional digits of ts: as few as show every grid time exactly */
  int64_t t0 = m->anchor_ns + m->first_bin * m->step_ns;
  int frac = frac_digits(t0), fs = frac_digits(m->step_ns);
  if (fs > frac)
    frac = fs;
  char ts[48], num[40];
  for (int64_t b = 0; b < m->n_bins && !ferror(out); b++) {
    int64_t bin = m->first_bin + b;
    sk_mix_format_time(m->anchor_ns + bin * m->step_ns, frac, ts, sizeof ts);
    for (size_t k = 0; k < (size_t)m->room + m->n_racks; k++) {
      uint32_t key = (k == 0 && m->room) ? 0 : m->order[k - (size_t)m->room] + 1;
      fputs(ts, out);
      fputc(',', out);
      if (key)
        write_field(out, m->rack[key - 1]);
      for (int c = 0; c < SK_MIX_NVALUES + m->stats.n_extra; c++) {
        fputc(',', out);
        double v;
        if (!value_at(m, bin, key, c, &v))
          continue;
        format_value(v, num, sizeof num);
        fputs(num, out);
      }
      fprintf(out, ",%d\n", row_empty(m, bin, key));
    }
  }
  if (fflush(out) != 0 || ferror(out)) {
    sk_errf(err, errlen, "write error: %s", strerror(errno ? errno : EIO));
    return SK_EIO;
  }
  return SK_OK;
}

sk_status sk_mix_run(const char *mapping_path, FILE *out, sk_mix_stats *stats, char *err,
                     size_t errlen) {
  sk_mix *m;
  sk_status st = sk_mix_create(&m, mapping_path, err, errlen);
  if (st != SK_OK)
    return st;
  if (stats != NULL)
    sk_mix_get_stats(m, stats);
  st = sk_mix_write(m, out, err, errlen);
  sk_mix_destroy(m);
  return st;
}
