/*
 * sweep.c -- parameter sweeps (sweep.h): the sweep file's reader and validator, the
 * expansion into points, each run's seed, one run as a session, the constraints, the
 * per-point aggregates and the Pareto fronts.  The HDF5 file is sweep_file.c.
 *
 * Invariants.  The points, the seeds and every figure derived from the rows are pure
 * functions of the sweep file: random and Latin-hypercube samples come from the file's
 * sample_seed through a generator of our own (splitmix64 into xoshiro256**), never
 * rand(); a run's seed hashes the base seed and the seed index (not a counter of runs
 * started), so -j 1, -j 2 and MPI give the same table.
 *
 * Seeds are shared across points by default (common random numbers): every point sees
 * the same arrival streams, so the difference between two points is the policy, not the
 * noise.  "seed_per_point": true mixes the point's values into the hash instead.
 *
 * Values are validated when the file is read, against the scenario key table
 * (sk_scenario_set on a default scenario), so a typo in a key or a value out of range is
 * a bad file (exit 2), not a thousand failed runs.  Combinations (e.g. a supply setpoint
 * below the coil approach) are only known when a run builds its scenario: such a run is
 * a failed row with its message and the sweep goes on.
 */
#define _DEFAULT_SOURCE /* realpath */
#define _POSIX_C_SOURCE 200809L

#include "skadi/sweep.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fileutil.h"
#include "jsonutil.h"
#include "skadi/require.h"
#include "skadi/scenario.h"
#include "skadi/session.h"

/* ---- metrics ----------------------------------------------------------------------------- */

static const struct {
  const char *name, *unit, *help;
} metrics[] = {
#define SK_SWEEP_METRIC_ROW(id, name, unit, help) {name, unit, help},
    SK_SWEEP_METRICS(SK_SWEEP_METRIC_ROW)
#undef SK_SWEEP_METRIC_ROW
};

const char *sk_sweep_metric_name(sk_sweep_metric m) {
  return (unsigned)m < SK_SWEEP_METRIC_COUNT ? metrics[m].name : "?";
}
const char *sk_sweep_metric_unit(sk_sweep_metric m) {
  return (unsigned)m < SK_SWEEP_METRIC_COUNT ? metrics[m].unit : "?";
}
const char *sk_sweep_metric_help(sk_sweep_metric m) {
  return (unsigned)m < SK_SWEEP_METRIC_COUNT ? metrics[m].help : "?";
}
sk_status sk_sweep_metric_parse(const char *name, sk_sweep_metric *out) {
  for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++)
    if (strcmp(name, metrics[m].name) == 0) {
      *out = (sk_sweep_metric)m;
      return SK_OK;
    }
  return SK_ENOTFOUND;
}

/* ---- the sweep --------------------------------------------------------------------------- */

typedef enum { DESIGN_GRID = 0, DESIGN_RANDOM, DESIGN_LHS } design;
static const char *const design_names[] = {"grid", "random", "lhs"};

typedef struct {
  char key[SK_SWEEP_KEY_LEN]; /* dotted name */
  int n_values;               /* a list (grid: every value; samples: a category each) */
  char (*values)[SK_SWEEP_VALUE_LEN];
  int have_range;
  double min, max; /* the range, in the key's unit */
  int steps;       /* grid over a range: evenly spaced values, min and max included */
  int integer;     /* samples and grid values are rounded to whole numbers */
} sweep_param;

typedef struct {
  sk_sweep_metric metric;
  int is_max; /* 1: metric <= bound; 0: metric >= bound */
  int bound_is_metric;
  sk_sweep_metric bound_metric; /* the row's own figure, e.g. its SLA */
  double bound;
} constraint;

struct sk_sweep {
  char name[128];
  char description[512];
  char scenario[SK_PATH_LEN];
  int n_sets;
  char sets[SK_SWEEP_MAX_SETS][SK_SWEEP_KEY_LEN + SK_SWEEP_VALUE_LEN];
  char mode[16];
  double duration_s; /* NaN: the scenario's */
  int n_seeds;
  int seed_list; /* seeds[] are the file's own, not derived */
  uint64_t seeds[SK_SWEEP_MAX_SEEDS];
  uint64_t base_seed;
  int seed_per_point;
  design design;
  int samples;
  uint64_t sample_seed;
  int include_default;
  int n_params;
  sweep_param params[SK_SWEEP_MAX_PARAMS];
  int n_constraints;
  constraint constraints[SK_SWEEP_MAX_CONSTRAINTS];

  size_t n_points;
  char (*text)[SK_SWEEP_VALUE_LEN]; /* [n_points][n_params] */
  double *num;                      /* [n_points][n_params] */
  char *json;
};

/* ---- random numbers (our own: deterministic everywhere) ----------------------------------- */

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

typedef struct {
  uint64_t s[4];
} rng;

static void rng_seed(rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r) {
  uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

static double rng_uniform(rng *r) { /* [0, 1) */
  return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static size_t rng_below(rng *r, size_t n) { /* [0, n), n small: the modulo bias is < 2^-40 */
  return (size_t)(rng_next(r) % (uint64_t)n);
}

/* ---- reading the file --------------------------------------------------------------------- */

#define FIELD_ERR(st, ...)                                                                         \
  do {                                                                                             \
    sk_errf(err, errlen, __VA_ARGS__);                                                             \
    return (st);                                                                                   \
  } while (0)

/* A whole number in [lo, hi] from j; SK_ERANGE/SK_EPARSE with "<origin>: <field>: ...". */
static sk_status get_int(const cJSON *j, const char *origin, const char *field, double lo,
                         double hi, double *out, char *err, size_t errlen) {
  if (!cJSON_IsNumber(j))
    FIELD_ERR(SK_EPARSE, "%s: %s: expected a whole number, got %s", origin, field,
              sk__json_type_name(j));
  double v = j->valuedouble;
  if (v != floor(v) || v < lo || v > hi)
    FIELD_ERR(SK_ERANGE, "%s: %s: %g is not a whole number from %.0f to %.0f", origin, field, v, lo,
              hi);
  *out = v;
  return SK_OK;
}

static sk_status get_bool(const cJSON *j, const char *origin, const char *field, int *out,
                          char *err, size_t errlen) {
  if (!cJSON_IsBool(j))
    FIELD_ERR(SK_EPARSE, "%s: %s: expected true or false, got %s", origin, field,
              sk__json_type_name(j));
  *out = cJSON_IsTrue(j);
  return SK_OK;
}

static sk_status get_str(const cJSON *j, const char *origin, const char *field, char *out,
                         size_t len, char *err, size_t errlen) {
  if (!cJSON_IsString(j))
    FIELD_ERR(SK_EPARSE, "%s: %s: expected a string, got %s", origin, field, sk__json_type_name(j));
  if (strlen(j->valuestring) >= len)
    FIELD_ERR(SK_ERANGE, "%s: %s: longer than %zu bytes", origin, field, len - 1);
  snprintf(out, len, "%s", j->valuestring);
  return SK_OK;
}

/* Shortest text that reads back as v (what --set is given for a computed value). */
static void fmt_num(char *buf, size_t len, double v) {
  if (v == floor(v) && fabs(v) < 1e15) { /* 50, not 5e+01 */
    snprintf(buf, len, "%.0f", v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

/* Checks key=value against the scenario key table on a default scenario: the reason
 * (without sk_scenario_set's "--set key: " prefix) in why.  scratch: a scenario to use. */
static sk_status check_value(sk_scenario *scratch, const char *key, const char *value, char *why,
                             size_t whylen) {
  char as[SK_SWEEP_KEY_LEN + SK_SWEEP_VALUE_LEN + 2], e[SK_ERR_LEN];
  snprintf(as, sizeof as, "%s=%s", key, value);
  sk_scenario_defaults(scratch);
  sk_status st = sk_scenario_set(scratch, as, e, sizeof e);
  if (st != SK_OK) {
    const char *p = e;
    if (strncmp(p, "--set ", 6) == 0 && strstr(p, ": ") != NULL)
      p = strstr(p, ": ") + 2;
    snprintf(why, whylen, "%s", p);
  }
  return st;
}

/* A list value as text: a string, a number (its shortest form) or a boolean. */
static sk_status value_text(const cJSON *v, const char *origin, const char *field, char *out,
                            char *err, size_t errlen) {
  if (cJSON_IsString(v))
    return get_str(v, origin, field, out, SK_SWEEP_VALUE_LEN, err, errlen);
  if (cJSON_IsNumber(v)) {
    fmt_num(out, SK_SWEEP_VALUE_LEN, v->valuedouble);
    return SK_OK;
  }
  if (cJSON_IsBool(v)) {
    snprintf(out, SK_SWEEP_VALUE_LEN, "%s", cJSON_IsTrue(v) ? "true" : "false");
    return SK_OK;
  }
  FIELD_ERR(SK_EPARSE, "%s: %s: expected a number, string or boolean, got %s", origin, field,
            sk__json_type_name(v));
}

static sk_status parse_param(sk_sweep *sw, const cJSON *o, int i, const char *origin,
                             sk_scenario *scratch, char *err, size_t errlen) {
  sweep_param *p = &sw->params[i];
  char f[96], why[SK_ERR_LEN];
  if (!cJSON_IsObject(o))
    FIELD_ERR(SK_EPARSE, "%s: parameters[%d]: expected an object, got %s", origin, i,
              sk__json_type_name(o));
  const cJSON *c;
  sk_status st;
  for (c = o->child; c; c = c->next) {
    static const char *const known[] = {"key", "values", "min", "max", "steps", "integer"};
    int ok = 0;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
      ok |= strcmp(c->string, known[k]) == 0;
    if (!ok)
      FIELD_ERR(SK_EPARSE,
                "%s: parameters[%d].%s: unknown field (key, values, min, max, steps, integer)",
                origin, i, c->string);
    if (sk__json_key_repeated(o, c))
      FIELD_ERR(SK_EPARSE, "%s: parameters[%d].%s: given twice", origin, i, c->string);
  }
  snprintf(f, sizeof f, "parameters[%d].key", i);
  const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "key");
  if (!key)
    FIELD_ERR(SK_EPARSE, "%s: %s: missing (a scenario key, see skadi keys)", origin, f);
  char raw[SK_SWEEP_KEY_LEN];
  if ((st = get_str(key, origin, f, raw, sizeof raw, err, errlen)) != SK_OK)
    return st;
  const char *dotted = sk_scenario_key_name(raw);
  if (!dotted)
    FIELD_ERR(SK_EPARSE, "%s: %s: '%s' is not a scenario key (see skadi keys)", origin, f, raw);
  if (strcmp(dotted, "seed") == 0 || strcmp(dotted, "name") == 0)
    FIELD_ERR(SK_EPARSE, "%s: %s: '%s' cannot be swept (the sweep's \"seeds\" give the seeds)",
              origin, f, dotted);
  snprintf(p->key, sizeof p->key, "%s", dotted);
  for (int k = 0; k < i; k++)
    if (strcmp(sw->params[k].key, p->key) == 0)
      FIELD_ERR(SK_EPARSE, "%s: %s: '%s' is already parameters[%d]", origin, f, p->key, k);
  for (int k = 0; k < sw->n_sets; k++) {
    size_t n = strcspn(sw->sets[k], "=");
    char sk[SK_SWEEP_KEY_LEN];
    snprintf(sk, sizeof sk, "%.*s", (int)n, sw->sets[k]);
    const char *sd = sk_scenario_key_name(sk);
    if (sd && strcmp(sd, p->key) == 0)
      FIELD_ERR(SK_EPARSE, "%s: %s: '%s' is also fixed by set[%d]", origin, f, p->key, k);
  }
  const cJSON *integer = cJSON_GetObjectItemCaseSensitive(o, "integer");
  snprintf(f, sizeof f, "parameters[%d].integer", i);
  if (integer && (st = get_bool(integer, origin, f, &p->integer, err, errlen)) != SK_OK)
    return st;

  const cJSON *values = cJSON_GetObjectItemCaseSensitive(o, "values");
  const cJSON *mn = cJSON_GetObjectItemCaseSensitive(o, "min");
  const cJSON *mx = cJSON_GetObjectItemCaseSensitive(o, "max");
  const cJSON *steps = cJSON_GetObjectItemCaseSensitive(o, "steps");
  if (values && (mn || mx || steps))
    FIELD_ERR(SK_EPARSE, "%s: parameters[%d]: give either \"values\" or \"min\"/\"max\", not both",
              origin, i);
  if (values) {
    snprintf(f, sizeof f, "parameters[%d].values", i);
    if (!cJSON_IsArray(values))
      FIELD_ERR(SK_EPARSE, "%s: %s: expected an array, got %s", origin, f,
                sk__json_type_name(values));
    int n = cJSON_GetArraySize(values);
    if (n < 1 || n > SK_SWEEP_MAX_VALUES)
      FIELD_ERR(SK_ERANGE, "%s: %s: %d values, expected 1 to %d", origin, f, n,
                SK_SWEEP_MAX_VALUES);
    p->values = calloc((size_t)n, sizeof *p->values);
    if (!p->values)
      FIELD_ERR(SK_ENOMEM, "%s: out of memory", origin);
    int k = 0;
    for (c = values->child; c; c = c->next, k++) {
      snprintf(f, sizeof f, "parameters[%d].values[%d]", i, k);
      if ((st = value_text(c, origin, f, p->values[k], err, errlen)) != SK_OK)
        return st;
      if (p->integer && cJSON_IsNumber(c) && c->valuedouble != floor(c->valuedouble))
        FIELD_ERR(SK_ERANGE, "%s: %s: %g is not a whole number (\"integer\": true)", origin, f,
                  c->valuedouble);
      if (check_value(scratch, p->key, p->values[k], why, sizeof why) != SK_OK)
        FIELD_ERR(SK_ERANGE, "%s: %s: %s: %s", origin, f, p->key, why);
      p->n_values = k + 1;
    }
    return SK_OK;
  }
  if (!mn || !mx)
    FIELD_ERR(SK_EPARSE, "%s: parameters[%d]: needs \"values\" (a list) or \"min\" and \"max\"",
              origin, i);
  const cJSON *b[2] = {mn, mx};
  double *dst[2] = {&p->min, &p->max};
  for (int k = 0; k < 2; k++) {
    snprintf(f, sizeof f, "parameters[%d].%s", i, k ? "max" : "min");
    if (!cJSON_IsNumber(b[k]) || !isfinite(b[k]->valuedouble))
      FIELD_ERR(SK_EPARSE, "%s: %s: expected a number, got %s", origin, f,
                sk__json_type_name(b[k]));
    *dst[k] = b[k]->valuedouble;
    char t[SK_SWEEP_VALUE_LEN];
    fmt_num(t, sizeof t, *dst[k]);
    if (check_value(scratch, p->key, t, why, sizeof why) != SK_OK)
      FIELD_ERR(SK_ERANGE, "%s: %s: %s: %s", origin, f, p->key, why);
  }
  if (!(p->max > p->min))
    FIELD_ERR(SK_ERANGE, "%s: parameters[%d].max: %g is not above min %g", origin, i, p->max,
              p->min);
  p->have_range = 1;
  snprintf(f, sizeof f, "parameters[%d].steps", i);
  if (sw->design == DESIGN_GRID) {
    if (!steps)
      FIELD_ERR(SK_EPARSE, "%s: %s: missing: a grid over min..max needs the number of values",
                origin, f);
    double v;
    if ((st = get_int(steps, origin, f, 2, SK_SWEEP_MAX_VALUES, &v, err, errlen)) != SK_OK)
      return st;
    p->steps = (int)v;
  } else if (steps) {
    FIELD_ERR(SK_EPARSE, "%s: %s: only a grid has steps (design \"%s\" samples min..max)", origin,
              f, design_names[sw->design]);
  }
  return SK_OK;
}

static sk_status parse_bound_name(const char *name, sk_sweep_metric *m) {
  if (strcmp(name, "sla") == 0) {
    *m = SK_SWEEP_M_SLA_MS;
    return SK_OK;
  }
  if (strcmp(name, "inlet_limit") == 0) {
    *m = SK_SWEEP_M_INLET_LIMIT;
    return SK_OK;
  }
  return sk_sweep_metric_parse(name, m);
}

static void metric_list(char *buf, size_t len) {
  size_t n = 0;
  buf[0] = 0;
  for (int m = 0; m < SK_SWEEP_METRIC_COUNT && n < len; m++)
    n += (size_t)snprintf(buf + n, len - n, "%s%s", m ? ", " : "", metrics[m].name);
}

static sk_status parse_constraint(sk_sweep *sw, const cJSON *o, int i, const char *origin,
                                  char *err, size_t errlen) {
  constraint *k = &sw->constraints[i];
  char names[1024];
  metric_list(names, sizeof names);
  if (!cJSON_IsObject(o))
    FIELD_ERR(SK_EPARSE, "%s: constraints[%d]: expected an object, got %s", origin, i,
              sk__json_type_name(o));
  for (const cJSON *c = o->child; c; c = c->next)
    if (strcmp(c->string, "metric") != 0 && strcmp(c->string, "max") != 0 &&
        strcmp(c->string, "min") != 0)
      FIELD_ERR(SK_EPARSE, "%s: constraints[%d].%s: unknown field (metric, max, min)", origin, i,
                c->string);
  const cJSON *metric = cJSON_GetObjectItemCaseSensitive(o, "metric");
  if (!cJSON_IsString(metric))
    FIELD_ERR(SK_EPARSE, "%s: constraints[%d].metric: expected a metric name (%s)", origin, i,
              names);
  if (sk_sweep_metric_parse(metric->valuestring, &k->metric) != SK_OK)
    FIELD_ERR(SK_EPARSE, "%s: constraints[%d].metric: '%s' is not one of %s", origin, i,
              metric->valuestring, names);
  const cJSON *mx = cJSON_GetObjectItemCaseSensitive(o, "max");
  const cJSON *mn = cJSON_GetObjectItemCaseSensitive(o, "min");
  if ((mx != NULL) == (mn != NULL))
    FIELD_ERR(SK_EPARSE, "%s: constraints[%d]: give one of \"max\" or \"min\"", origin, i);
  const cJSON *b = mx ? mx : mn;
  k->is_max = mx != NULL;
  const char *bn = k->is_max ? "max" : "min";
  if (cJSON_IsNumber(b) && isfinite(b->valuedouble)) {
    k->bound = b->valuedouble;
  } else if (cJSON_IsString(b)) {
    if (parse_bound_name(b->valuestring, &k->bound_metric) != SK_OK)
      FIELD_ERR(SK_EPARSE,
                "%s: constraints[%d].%s: '%s' is not a number, \"sla\", \"inlet_limit\" or a "
                "metric",
                origin, i, bn, b->valuestring);
    k->bound_is_metric = 1;
  } else {
    FIELD_ERR(SK_EPARSE, "%s: constraints[%d].%s: expected a number or a name (\"sla\"), got %s",
              origin, i, bn, sk__json_type_name(b));
  }
  return SK_OK;
}

static int is_known_top(const char *k) {
  static const char *const known[] = {"name",
                                      "description",
                                      "scenario",
                                      "set",
                                      "mode",
                                      "duration",
                                      "seeds",
                                      "base_seed",
                                      "seed_per_point",
                                      "design",
                                      "samples",
                                      "sample_seed",
                                      "include_default",
                                      "parameters",
                                      "constraints"};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(k, known[i]) == 0)
      return 1;
  return 0;
}

static sk_status parse_root(sk_sweep *sw, const cJSON *root, const char *origin,
                            const char *base_dir, sk_scenario *scratch, char *err, size_t errlen) {
  sk_status st;
  const cJSON *c;
  double v;
  for (c = root->child; c; c = c->next) {
    if (!is_known_top(c->string))
      FIELD_ERR(SK_EPARSE,
                "%s: %s: unknown field (name, description, scenario, set, mode, duration, seeds, "
                "base_seed, seed_per_point, design, samples, sample_seed, include_default, "
                "parameters, constraints)",
                origin, c->string);
    if (sk__json_key_repeated(root, c))
      FIELD_ERR(SK_EPARSE, "%s: %s: given twice", origin, c->string);
  }
#define GET(name) cJSON_GetObjectItemCaseSensitive(root, name)
  if ((c = GET("name")) &&
      (st = get_str(c, origin, "name", sw->name, sizeof sw->name, err, errlen)) != SK_OK)
    return st;
  if ((c = GET("description")) && (st = get_str(c, origin, "description", sw->description,
                                                sizeof sw->description, err, errlen)) != SK_OK)
    return st;
  char scen[SK_PATH_LEN];
  if (!(c = GET("scenario")))
    FIELD_ERR(SK_EPARSE, "%s: scenario: missing (the base scenario file)", origin);
  if ((st = get_str(c, origin, "scenario", scen, sizeof scen, err, errlen)) != SK_OK)
    return st;
  if (scen[0] == 0)
    FIELD_ERR(SK_EPARSE, "%s: scenario: empty", origin);
  if (scen[0] != '/' && base_dir && base_dir[0]) {
    int n = snprintf(sw->scenario, sizeof sw->scenario, "%s/%s", base_dir, scen);
    if (n < 0 || (size_t)n >= sizeof sw->scenario)
      FIELD_ERR(SK_ERANGE, "%s: scenario: path too long", origin);
  } else {
    snprintf(sw->scenario, sizeof sw->scenario, "%s", scen);
  }
  /* the absolute path when it exists: the canonical text, and so --resume, must not
   * depend on the directory the sweep is started from */
  char real[PATH_MAX];
  if (realpath(sw->scenario, real) && strlen(real) < sizeof sw->scenario)
    snprintf(sw->scenario, sizeof sw->scenario, "%s", real);
  if ((c = GET("set"))) {
    if (!cJSON_IsArray(c))
      FIELD_ERR(SK_EPARSE, "%s: set: expected an array of \"key=value\" strings, got %s", origin,
                sk__json_type_name(c));
    int i = 0;
    for (const cJSON *s = c->child; s; s = s->next, i++) {
      char f[32], why[SK_ERR_LEN];
      snprintf(f, sizeof f, "set[%d]", i);
      if (i >= SK_SWEEP_MAX_SETS)
        FIELD_ERR(SK_ERANGE, "%s: set: more than %d overrides", origin, SK_SWEEP_MAX_SETS);
      if ((st = get_str(s, origin, f, sw->sets[i], sizeof sw->sets[i], err, errlen)) != SK_OK)
        return st;
      char *eq = strchr(sw->sets[i], '=');
      if (!eq)
        FIELD_ERR(SK_EPARSE, "%s: %s: '%s' is not key=value", origin, f, sw->sets[i]);
      *eq = 0;
      sk_status cs = check_value(scratch, sw->sets[i], eq + 1, why, sizeof why);
      *eq = '=';
      if (cs != SK_OK)
        FIELD_ERR(SK_ERANGE, "%s: %s: %s", origin, f, why);
      sw->n_sets = i + 1;
    }
  }
  snprintf(sw->mode, sizeof sw->mode, "off");
  if ((c = GET("mode"))) {
    if ((st = get_str(c, origin, "mode", sw->mode, sizeof sw->mode, err, errlen)) != SK_OK)
      return st;
    sk_run_mode m;
    if (sk_run_mode_parse(sw->mode, NULL, &m) != SK_OK)
      FIELD_ERR(SK_EPARSE, "%s: mode: '%s' is not off, advisory or closed_loop", origin, sw->mode);
  }
  sw->duration_s = NAN;
  if ((c = GET("duration")) && !cJSON_IsNull(c)) { /* null: the scenario's */
    char e[SK_ERR_LEN];
    if (cJSON_IsNumber(c)) {
      if (!(c->valuedouble > 0) || !isfinite(c->valuedouble))
        FIELD_ERR(SK_ERANGE, "%s: duration: %g is not a positive number of seconds", origin,
                  c->valuedouble);
      sw->duration_s = c->valuedouble;
    } else if (cJSON_IsString(c)) {
      if (sk_parse_duration(c->valuestring, &sw->duration_s, e, sizeof e) != SK_OK)
        FIELD_ERR(SK_ERANGE, "%s: duration: %s", origin, e);
    } else {
      FIELD_ERR(SK_EPARSE, "%s: duration: expected seconds or a text like \"2h\", got %s", origin,
                sk__json_type_name(c));
    }
  }
  sw->base_seed = 1;
  if ((c = GET("base_seed"))) {
    if ((st = get_int(c, origin, "base_seed", 0, 9007199254740991.0, &v, err, errlen)) != SK_OK)
      return st;
    sw->base_seed = (uint64_t)v;
  }
  sw->n_seeds = 1;
  if ((c = GET("seeds"))) {
    if (cJSON_IsArray(c)) {
      int n = cJSON_GetArraySize(c), i = 0;
      if (n < 1 || n > SK_SWEEP_MAX_SEEDS)
        FIELD_ERR(SK_ERANGE, "%s: seeds: %d seeds, expected 1 to %d", origin, n,
                  SK_SWEEP_MAX_SEEDS);
      for (const cJSON *s = c->child; s; s = s->next, i++) {
        char f[32];
        snprintf(f, sizeof f, "seeds[%d]", i);
        if ((st = get_int(s, origin, f, 0, 9007199254740991.0, &v, err, errlen)) != SK_OK)
          return st;
        sw->seeds[i] = (uint64_t)v;
      }
      sw->n_seeds = n;
      sw->seed_list = 1;
    } else {
      if ((st = get_int(c, origin, "seeds", 1, SK_SWEEP_MAX_SEEDS, &v, err, errlen)) != SK_OK)
        return st;
      sw->n_seeds = (int)v;
    }
  }
  if ((c = GET("seed_per_point")) &&
      (st = get_bool(c, origin, "seed_per_point", &sw->seed_per_point, err, errlen)) != SK_OK)
    return st;
  if ((c = GET("design"))) {
    char d[16];
    if ((st = get_str(c, origin, "design", d, sizeof d, err, errlen)) != SK_OK)
      return st;
    int found = 0;
    for (int k = 0; k < 3; k++)
      if (strcmp(d, design_names[k]) == 0) {
        sw->design = (design)k;
        found = 1;
      }
    if (!found)
      FIELD_ERR(SK_EPARSE, "%s: design: '%s' is not grid, random or lhs", origin, d);
  }
  c = GET("samples");
  if (sw->design == DESIGN_GRID && c)
    FIELD_ERR(SK_EPARSE, "%s: samples: only the random and lhs designs take samples", origin);
  if (sw->design != DESIGN_GRID) {
    if (!c)
      FIELD_ERR(SK_EPARSE, "%s: samples: missing (design \"%s\" needs a number of samples)", origin,
                design_names[sw->design]);
    if ((st = get_int(c, origin, "samples", 1, 100000, &v, err, errlen)) != SK_OK)
      return st;
    sw->samples = (int)v;
  }
  sw->sample_seed = 1;
  if ((c = GET("sample_seed"))) {
    if ((st = get_int(c, origin, "sample_seed", 0, 9007199254740991.0, &v, err, errlen)) != SK_OK)
      return st;
    sw->sample_seed = (uint64_t)v;
  }
  sw->include_default = 1;
  if ((c = GET("include_default")) &&
      (st = get_bool(c, origin, "include_default", &sw->include_default, err, errlen)) != SK_OK)
    return st;
  if ((c = GET("parameters"))) {
    if (!cJSON_IsArray(c))
      FIELD_ERR(SK_EPARSE, "%s: parameters: expected an array, got %s", origin,
                sk__json_type_name(c));
    int n = cJSON_GetArraySize(c), i = 0;
    if (n > SK_SWEEP_MAX_PARAMS)
      FIELD_ERR(SK_ERANGE, "%s: parameters: %d, at most %d", origin, n, SK_SWEEP_MAX_PARAMS);
    for (const cJSON *p = c->child; p; p = p->next, i++) {
      sw->n_params = i + 1;
      if ((st = parse_param(sw, p, i, origin, scratch, err, errlen)) != SK_OK)
        return st;
    }
  }
  if (sw->n_params == 0 && !sw->include_default)
    FIELD_ERR(SK_EPARSE, "%s: parameters: none, and include_default is false: nothing to run",
              origin);
  if ((c = GET("constraints"))) {
    if (!cJSON_IsArray(c))
      FIELD_ERR(SK_EPARSE, "%s: constraints: expected an array, got %s", origin,
                sk__json_type_name(c));
    int n = cJSON_GetArraySize(c), i = 0;
    if (n > SK_SWEEP_MAX_CONSTRAINTS)
      FIELD_ERR(SK_ERANGE, "%s: constraints: %d, at most %d", origin, n, SK_SWEEP_MAX_CONSTRAINTS);
    for (const cJSON *k = c->child; k; k = k->next, i++) {
      if ((st = parse_constraint(sw, k, i, origin, err, errlen)) != SK_OK)
        return st;
      sw->n_constraints = i + 1;
    }
  }
#undef GET
  return SK_OK;
}

/* ---- expansion ----------------------------------------------------------------------------- */

static void put_value(sk_sweep *sw, size_t point, int k, double v) {
  const sweep_param *p = &sw->params[k];
  if (p->integer)
    v = round(v);
  char *t = sw->text[point * (size_t)sw->n_params + (size_t)k];
  if (p->integer)
    snprintf(t, SK_SWEEP_VALUE_LEN, "%.0f", v);
  else
    snprintf(t, SK_SWEEP_VALUE_LEN, "%.6g", v);
}

/* Number of values a grid takes of param k. */
static int grid_count(const sweep_param *p) {
  return p->n_values > 0 ? p->n_values : p->steps;
}

static sk_status expand(sk_sweep *sw, const char *origin, char *err, size_t errlen) {
  size_t np = (size_t)sw->n_params, base = sw->include_default ? 1 : 0, n = 0;
  if (np == 0) {
    n = 0;
  } else if (sw->design == DESIGN_GRID) {
    n = 1;
    for (int k = 0; k < sw->n_params; k++) {
      n *= (size_t)grid_count(&sw->params[k]);
      if (n * (size_t)sw->n_seeds > SK_SWEEP_MAX_RUNS)
        FIELD_ERR(SK_ERANGE, "%s: parameters: the grid has more than %d runs", origin,
                  SK_SWEEP_MAX_RUNS);
    }
  } else {
    n = (size_t)sw->samples;
  }
  sw->n_points = base + n;
  if (sw->n_points * (size_t)sw->n_seeds > SK_SWEEP_MAX_RUNS)
    FIELD_ERR(SK_ERANGE, "%s: seeds: %zu points x %d seeds is more than %d runs", origin,
              sw->n_points, sw->n_seeds, SK_SWEEP_MAX_RUNS);
  size_t cells = sw->n_points * (np ? np : 1);
  sw->text = calloc(cells, sizeof *sw->text);
  sw->num = malloc(cells * sizeof *sw->num);
  if (!sw->text || !sw->num)
    FIELD_ERR(SK_ENOMEM, "%s: out of memory expanding %zu points", origin, sw->n_points);
  if (sw->design == DESIGN_GRID) {
    for (size_t i = 0; i < n; i++) {
      size_t rest = i;
      /* row-major: the last parameter varies fastest */
      for (int k = sw->n_params - 1; k >= 0; k--) {
        const sweep_param *p = &sw->params[k];
        size_t cnt = (size_t)grid_count(p), idx = rest % cnt;
        rest /= cnt;
        if (p->n_values > 0)
          snprintf(sw->text[(base + i) * np + (size_t)k], SK_SWEEP_VALUE_LEN, "%s", p->values[idx]);
        else
          put_value(sw, base + i, k,
                    idx + 1 == cnt ? p->max
                                   : p->min + (p->max - p->min) * (double)idx / (double)(cnt - 1));
      }
    }
  } else {
    rng r;
    rng_seed(&r, sw->sample_seed);
    size_t *perm = malloc(n * sizeof *perm);
    if (!perm)
      FIELD_ERR(SK_ENOMEM, "%s: out of memory", origin);
    for (int k = 0; k < sw->n_params; k++) {
      const sweep_param *p = &sw->params[k];
      if (sw->design == DESIGN_LHS) { /* a random stratum per sample, each used once */
        for (size_t i = 0; i < n; i++)
          perm[i] = i;
        for (size_t i = n; i > 1; i--) {
          size_t j = rng_below(&r, i), t = perm[i - 1];
          perm[i - 1] = perm[j];
          perm[j] = t;
        }
      }
      for (size_t i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        if (sw->design == DESIGN_LHS)
          u = ((double)perm[i] + u) / (double)n;
        if (p->n_values > 0) {
          size_t idx = (size_t)(u * (double)p->n_values);
          if (idx >= (size_t)p->n_values)
            idx = (size_t)p->n_values - 1;
          snprintf(sw->text[(base + i) * np + (size_t)k], SK_SWEEP_VALUE_LEN, "%s", p->values[idx]);
        } else {
          put_value(sw, base + i, k, p->min + u * (p->max - p->min));
        }
      }
    }
    free(perm);
  }
  for (size_t i = 0; i < sw->n_points * np; i++) {
    char *end;
    const char *t = sw->text[i];
    double v = t[0] ? strtod(t, &end) : NAN;
    sw->num[i] = (t[0] && *end == 0) ? v : NAN;
  }
  return SK_OK;
}

/* ---- canonical text ---------------------------------------------------------------------------
 */

static char *canonical_json(const sk_sweep *sw) {
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddStringToObject(o, "name", sw->name);
  cJSON_AddStringToObject(o, "description", sw->description);
  cJSON_AddStringToObject(o, "scenario", sw->scenario);
  cJSON *sets = cJSON_AddArrayToObject(o, "set");
  for (int i = 0; i < sw->n_sets; i++)
    cJSON_AddItemToArray(sets, cJSON_CreateString(sw->sets[i]));
  cJSON_AddStringToObject(o, "mode", sw->mode);
  if (isnan(sw->duration_s))
    cJSON_AddNullToObject(o, "duration");
  else
    cJSON_AddNumberToObject(o, "duration", sw->duration_s);
  if (sw->seed_list) {
    cJSON *s = cJSON_AddArrayToObject(o, "seeds");
    for (int i = 0; i < sw->n_seeds; i++)
      cJSON_AddItemToArray(s, cJSON_CreateNumber((double)sw->seeds[i]));
  } else {
    cJSON_AddNumberToObject(o, "seeds", sw->n_seeds);
  }
  cJSON_AddNumberToObject(o, "base_seed", (double)sw->base_seed);
  cJSON_AddBoolToObject(o, "seed_per_point", sw->seed_per_point);
  cJSON_AddStringToObject(o, "design", design_names[sw->design]);
  if (sw->design != DESIGN_GRID)
    cJSON_AddNumberToObject(o, "samples", sw->samples);
  cJSON_AddNumberToObject(o, "sample_seed", (double)sw->sample_seed);
  cJSON_AddBoolToObject(o, "include_default", sw->include_default);
  cJSON *ps = cJSON_AddArrayToObject(o, "parameters");
  for (int k = 0; k < sw->n_params; k++) {
    const sweep_param *p = &sw->params[k];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToArray(ps, j);
    cJSON_AddStringToObject(j, "key", p->key);
    if (p->n_values) {
      cJSON *v = cJSON_AddArrayToObject(j, "values");
      for (int i = 0; i < p->n_values; i++)
        cJSON_AddItemToArray(v, cJSON_CreateString(p->values[i]));
    } else {
      cJSON_AddNumberToObject(j, "min", p->min);
      cJSON_AddNumberToObject(j, "max", p->max);
      if (p->steps)
        cJSON_AddNumberToObject(j, "steps", p->steps);
    }
    cJSON_AddBoolToObject(j, "integer", p->integer);
  }
  cJSON *cs = cJSON_AddArrayToObject(o, "constraints");
  for (int i = 0; i < sw->n_constraints; i++) {
    const constraint *k = &sw->constraints[i];
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToArray(cs, j);
    cJSON_AddStringToObject(j, "metric", metrics[k->metric].name);
    if (k->bound_is_metric)
      cJSON_AddStringToObject(j, k->is_max ? "max" : "min", metrics[k->bound_metric].name);
    else
      cJSON_AddNumberToObject(j, k->is_max ? "max" : "min", k->bound);
  }
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
}

/* ---- load, parse, destroy ---------------------------------------------------------------------
 */

sk_status sk_sweep_parse(sk_sweep **out, const char *text, size_t len, const char *origin,
                         const char *base_dir, char *err, size_t errlen) {
  SK_REQUIRE(out != NULL && text != NULL && origin != NULL);
  *out = NULL;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (root) {
    while (end < text + len && isspace((unsigned char)*end))
      end++;
    if (end < text + len && *end != 0) {
      cJSON_Delete(root);
      root = NULL;
    }
  }
  if (!root) {
    sk__json_syntax_error(text, len, end, origin, err, errlen);
    return SK_EPARSE;
  }
  if (!cJSON_IsObject(root)) {
    sk_errf(err, errlen, "%s: expected a JSON object at the top level, got %s", origin,
            sk__json_type_name(root));
    cJSON_Delete(root);
    return SK_EPARSE;
  }
  sk_sweep *sw = calloc(1, sizeof *sw);
  sk_scenario *scratch = malloc(sizeof *scratch);
  sk_status st = SK_ENOMEM;
  if (!sw || !scratch) {
    sk_errf(err, errlen, "%s: out of memory", origin);
    goto fail;
  }
  /* the default name: the file's stem */
  const char *slash = strrchr(origin, '/');
  snprintf(sw->name, sizeof sw->name, "%s", slash ? slash + 1 : origin);
  char *dot = strrchr(sw->name, '.');
  if (dot && dot != sw->name)
    *dot = 0;
  st = parse_root(sw, root, origin, base_dir, scratch, err, errlen);
  if (st == SK_OK)
    st = expand(sw, origin, err, errlen);
  if (st == SK_OK && !(sw->json = canonical_json(sw))) {
    sk_errf(err, errlen, "%s: out of memory", origin);
    st = SK_ENOMEM;
  }
  if (st != SK_OK)
    goto fail;
  cJSON_Delete(root);
  free(scratch);
  *out = sw;
  return SK_OK;
fail:
  cJSON_Delete(root);
  free(scratch);
  sk_sweep_destroy(sw);
  return st;
}

sk_status sk_sweep_load(sk_sweep **out, const char *path, char *err, size_t errlen) {
  SK_REQUIRE(out != NULL && path != NULL);
  *out = NULL;
  char *text;
  size_t len;
  char why[256];
  sk_status st = sk__read_file(path, 1 << 20, &text, &len, NULL, why, sizeof why);
  if (st != SK_OK) {
    sk_errf(err, errlen, "%s: cannot read: %s", path, why);
    return st;
  }
  char dir[SK_PATH_LEN];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = 0;
  else
    dir[0] = 0;
  st = sk_sweep_parse(out, text, len, path, dir, err, errlen);
  free(text);
  return st;
}

void sk_sweep_destroy(sk_sweep *sw) {
  if (!sw)
    return;
  for (int k = 0; k < SK_SWEEP_MAX_PARAMS; k++)
    free(sw->params[k].values);
  free(sw->text);
  free(sw->num);
  free(sw->json);
  free(sw);
}

/* ---- accessors ----------------------------------------------------------------------------- */

const char *sk_sweep_name(const sk_sweep *sw) {
  return sw->name;
}
const char *sk_sweep_scenario_path(const sk_sweep *sw) {
  return sw->scenario;
}
const char *sk_sweep_mode(const sk_sweep *sw) {
  return sw->mode;
}
double sk_sweep_duration_s(const sk_sweep *sw) {
  return sw->duration_s;
}
const char *sk_sweep_json(const sk_sweep *sw) {
  return sw->json;
}
size_t sk_sweep_n_points(const sk_sweep *sw) {
  return sw->n_points;
}
size_t sk_sweep_n_seeds(const sk_sweep *sw) {
  return (size_t)sw->n_seeds;
}
size_t sk_sweep_n_runs(const sk_sweep *sw) {
  return sw->n_points * (size_t)sw->n_seeds;
}
size_t sk_sweep_n_params(const sk_sweep *sw) {
  return (size_t)sw->n_params;
}
size_t sk_sweep_n_constraints(const sk_sweep *sw) {
  return (size_t)sw->n_constraints;
}

const char *sk_sweep_param_key(const sk_sweep *sw, size_t pi) {
  SK_REQUIRE(pi < (size_t)sw->n_params);
  return sw->params[pi].key;
}

const char *sk_sweep_value_text(const sk_sweep *sw, size_t point, size_t pi) {
  SK_REQUIRE(point < sw->n_points && pi < (size_t)sw->n_params);
  return sw->text[point * (size_t)sw->n_params + pi];
}

double sk_sweep_value(const sk_sweep *sw, size_t point, size_t pi) {
  SK_REQUIRE(point < sw->n_points && pi < (size_t)sw->n_params);
  return sw->num[point * (size_t)sw->n_params + pi];
}

int sk_sweep_point_is_default(const sk_sweep *sw, size_t point) {
  return sw->include_default && point == 0;
}

void sk_sweep_point_label(const sk_sweep *sw, size_t point, char *buf, size_t len) {
  SK_REQUIRE(point < sw->n_points && len > 0);
  if (sk_sweep_point_is_default(sw, point)) {
    snprintf(buf, len, "default");
    return;
  }
  size_t n = 0;
  buf[0] = 0;
  for (int k = 0; k < sw->n_params && n < len; k++)
    n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", k ? " " : "", sw->params[k].key,
                          sk_sweep_value_text(sw, point, (size_t)k));
}

void sk_sweep_constraint_text(const sk_sweep *sw, size_t i, char *buf, size_t len) {
  SK_REQUIRE(i < (size_t)sw->n_constraints);
  const constraint *k = &sw->constraints[i];
  if (k->bound_is_metric)
    snprintf(buf, len, "%s %s %s", metrics[k->metric].name,
             k->is_max ? "<=" : ">=", metrics[k->bound_metric].name);
  else
    snprintf(buf, len, "%s %s %g", metrics[k->metric].name, k->is_max ? "<=" : ">=", k->bound);
}

/* ---- seeds ------------------------------------------------------------------------------------
 */

uint64_t sk_sweep_seed(const sk_sweep *sw, size_t point, size_t seed_index) {
  SK_REQUIRE(point < sw->n_points && seed_index < (size_t)sw->n_seeds);
  uint64_t x;
  if (sw->seed_list) {
    if (!sw->seed_per_point)
      return sw->seeds[seed_index];
    x = sw->seeds[seed_index];
  } else {
    x = sw->base_seed;
    uint64_t s = (uint64_t)seed_index + 1;
    x ^= splitmix64(&s);
  }
  if (sw->seed_per_point) { /* FNV-1a of the point's label: its values, not its index */
    char label[SK_SWEEP_MAX_PARAMS * (SK_SWEEP_KEY_LEN + SK_SWEEP_VALUE_LEN + 2)];
    sk_sweep_point_label(sw, point, label, sizeof label);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = label; *c; c++)
      h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    x ^= h;
  }
  return splitmix64(&x) & ((1ull << 53) - 1);
}

/* ---- one run ----------------------------------------------------------------------------------
 */

typedef struct {
  double sla_ms;
  double windows, missed;
} window_count;

static void on_sample(void *ud, const sk_rack_sample *racks, int n_racks,
                      const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room) {
  (void)racks;
  (void)n_racks;
  (void)crahs;
  (void)n_rows;
  window_count *w = ud;
  if (isfinite(room->latency_p95_ms)) {
    w->windows++;
    if (room->latency_p95_ms > w->sla_ms)
      w->missed++;
  }
}

static void fail_row(sk_sweep_result *out, const char *msg) {
  out->status = SK_SWEEP_RUN_FAILED;
  snprintf(out->message, sizeof out->message, "%.*s", (int)sizeof out->message - 1, msg);
}

sk_status sk_sweep_run(const sk_sweep *sw, size_t job, const char *record_path,
                       const volatile int *stop, sk_sweep_result *out) {
  SK_REQUIRE(sw && out && job < sk_sweep_n_runs(sw));
  memset(out, 0, sizeof *out);
  size_t point = job / (size_t)sw->n_seeds, si = job % (size_t)sw->n_seeds;
  out->point = (int32_t)point;
  out->seed_index = (int32_t)si;
  out->seed = sk_sweep_seed(sw, point, si);
  out->status = SK_SWEEP_RUN_OK;
  for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++)
    out->m[m] = NAN;
  out->wall_s = NAN;

  char sets_buf[SK_SWEEP_MAX_SETS + SK_SWEEP_MAX_PARAMS][SK_SWEEP_KEY_LEN + SK_SWEEP_VALUE_LEN + 2];
  const char *sets[SK_SWEEP_MAX_SETS + SK_SWEEP_MAX_PARAMS];
  int n = 0;
  for (int i = 0; i < sw->n_sets; i++) {
    snprintf(sets_buf[n], sizeof sets_buf[n], "%s", sw->sets[i]);
    sets[n] = sets_buf[n];
    n++;
  }
  if (!sk_sweep_point_is_default(sw, point))
    for (int k = 0; k < sw->n_params; k++) {
      snprintf(sets_buf[n], sizeof sets_buf[n], "%s=%s", sw->params[k].key,
               sk_sweep_value_text(sw, point, (size_t)k));
      sets[n] = sets_buf[n];
      n++;
    }
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  cfg.scenario_path = sw->scenario;
  cfg.use_env = 0; /* the table is a function of the sweep file alone */
  cfg.sets = sets;
  cfg.n_sets = n;
  cfg.have_seed = 1;
  cfg.seed = out->seed;
  cfg.duration_s = sw->duration_s;
  cfg.mode = sw->mode;
  /* a counterfactual beside a plain run would be the run itself: half the cost for
   * nothing.  The row's counterfactual figures are then the run's (saving 0). */
  int plain = strcmp(sw->mode, "off") == 0;
  cfg.counterfactual = plain ? 0 : 1;
  cfg.threads = 1;
  cfg.record_path = record_path;
  cfg.force = 1;
  cfg.source = "sweep";
  /* a "<record_path>.part" is this very run's, left by a sweep killed while it ran (the
   * name is the sweep's and the job's): the session would refuse to start beside it, and
   * --resume would make the run a failed row */
  char part[SK_PATH_LEN + 80];
  struct stat sb;
  if (record_path && snprintf(part, sizeof part, "%s.part", record_path) < (int)sizeof part &&
      lstat(part, &sb) == 0 && S_ISREG(sb.st_mode))
    unlink(part);

  char err[SK_ERR_LEN];
  sk_session *s = NULL;
  if (sk_session_create(&s, &cfg, err, sizeof err) != SK_OK) {
    fail_row(out, err);
    return SK_OK;
  }
  const sk_scenario *sc = sk_session_scenario(s);
  window_count wc = {sc->settings.sla_latency_ms, 0, 0};
  sk_session_observer obs = {0};
  obs.on_sample = on_sample;
  obs.ud = &wc;
  sk_session_observe(s, &obs);
  sk_time_ns chunk = (sk_time_ns)llround(sc->sample_period_s * 60 * 1e9);
  if (chunk < 1)
    chunk = 1;
  while (!sk_session_done(s)) {
    if (stop && *stop) {
      sk_session_destroy(s);
      return SK_EINTR;
    }
    if (sk_session_step_until(s, sk_session_now(s) + chunk) != SK_OK)
      break;
  }
  if (sk_session_status(s) != SK_OK) {
    fail_row(out, sk_session_error(s));
    sk_session_destroy(s);
    return SK_OK;
  }
  sk_session_summary sum;
  sk_session_summary_get(s, &sum);
  if (record_path && sk_session_finish(s, NULL, "completed") != SK_OK) {
    fail_row(out, sk_session_error(s));
    sk_session_destroy(s);
    return SK_OK;
  }
  double *m = out->m;
  m[SK_SWEEP_M_WH_PER_PROMPT] = sum.run.wh_per_prompt;
  m[SK_SWEEP_M_CF_WH_PER_PROMPT] = sum.have_cf ? sum.cf.wh_per_prompt
                                   : plain     ? sum.run.wh_per_prompt
                                               : NAN;
  m[SK_SWEEP_M_SAVED_PCT] = sum.have_cf ? sum.energy_saved_pct : plain ? 0.0 : NAN;
  m[SK_SWEEP_M_TTFT_P95] = sum.run.ttft_p95_ms;
  m[SK_SWEEP_M_TTFT_P95_CENSORED] = sum.run.ttft_p95_censored;
  m[SK_SWEEP_M_SLA_WINDOWS_MISSED] = wc.missed;
  m[SK_SWEEP_M_SLA_WINDOWS] = wc.windows;
  m[SK_SWEEP_M_INLET_OVER_LIMIT] = sum.run.inlet_breach_samples;
  m[SK_SWEEP_M_MAX_INLET] = sum.run.max_inlet_c;
  m[SK_SWEEP_M_ACTIONS_APPLIED] = sum.have_control ? (double)sum.control.applied : 0.0;
  m[SK_SWEEP_M_PRED_ERR] = sum.have_control && sum.control.evaluated > 0
                               ? sum.control.pred_abs_err_sum / sum.control.evaluated
                               : NAN;
  m[SK_SWEEP_M_PUE] = sum.run.pue;
  m[SK_SWEEP_M_PROMPTS_SERVED] = sum.run.prompts_completed;
  m[SK_SWEEP_M_FACILITY_KWH] = sum.run.facility_kwh;
  m[SK_SWEEP_M_SLA_MS] = sc->settings.sla_latency_ms;
  m[SK_SWEEP_M_INLET_LIMIT] = sc->settings.inlet_max_c;
  m[SK_SWEEP_M_WH_PER_PROMPT_NET] =
      sum.run.prompts_completed > 0
          ? (sum.run.facility_kwh + sum.run.stored_cold_kwh) * 1000.0 / sum.run.prompts_completed
          : NAN;
  sk_session_destroy(s);
  return SK_OK;
}

sk_status sk_sweep_check_base(const sk_sweep *sw, char *name, size_t namelen, char *err,
                              size_t errlen) {
  const char *sets[SK_SWEEP_MAX_SETS];
  for (int i = 0; i < sw->n_sets; i++)
    sets[i] = sw->sets[i];
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  cfg.scenario_path = sw->scenario;
  cfg.sets = sets;
  cfg.n_sets = sw->n_sets;
  cfg.duration_s = sw->duration_s;
  cfg.mode = sw->mode;
  sk_scenario *sc = malloc(sizeof *sc);
  if (!sc) {
    sk_errf(err, errlen, "out of memory");
    return SK_ENOMEM;
  }
  sk_status st = sk_session_config_scenario(&cfg, sc, err, errlen);
  if (st == SK_OK && name && namelen)
    snprintf(name, namelen, "%s", sc->name);
  free(sc);
  return st == SK_OK || st == SK_ENOMEM ? st : SK_EINVAL;
}

/* ---- constraints, aggregates, fronts ------------------------------------------------------------
 */

int sk_sweep_row_passes(const sk_sweep *sw, const sk_sweep_result *r) {
  if (r->status != SK_SWEEP_RUN_OK)
    return 0;
  for (int i = 0; i < sw->n_constraints; i++) {
    const constraint *k = &sw->constraints[i];
    double v = r->m[k->metric], b = k->bound_is_metric ? r->m[k->bound_metric] : k->bound;
    if (isnan(v) || isnan(b))
      return 0;
    if (k->is_max ? !(v <= b) : !(v >= b))
      return 0;
  }
  return 1;
}

double sk_sweep_t975(int dof) {
  static const double t[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                             2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                             2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  SK_REQUIRE(dof >= 1);
  if (dof <= 30)
    return t[dof - 1];
  return 1.959964 + 2.37 / dof; /* within 0.002 of the exact quantile above 30 */
}

void sk_sweep_pareto(const double *x, const double *y, const int *eligible, size_t n,
                     int *on_front) {
  for (size_t i = 0; i < n; i++) {
    int ok = (!eligible || eligible[i]) && !isnan(x[i]) && !isnan(y[i]);
    on_front[i] = ok;
    if (!ok)
      continue;
    for (size_t j = 0; j < n && on_front[i]; j++) {
      if (j == i || (eligible && !eligible[j]) || isnan(x[j]) || isnan(y[j]))
        continue;
      if (x[j] <= x[i] && y[j] <= y[i] && (x[j] < x[i] || y[j] < y[i]))
        on_front[i] = 0;
    }
  }
}

sk_status sk_sweep_aggregate(const sk_sweep *sw, sk_sweep_result *rows, size_t n_rows,
                             sk_sweep_point_stats *stats) {
  size_t np = sw->n_points;
  int *seen = calloc(np + 1, sizeof *seen);
  double *ss = calloc(np * SK_SWEEP_METRIC_COUNT + 1, sizeof *ss);
  double *x = calloc(np + 1, sizeof *x), *y1 = calloc(np + 1, sizeof *y1),
         *y2 = calloc(np + 1, sizeof *y2);
  int *el = calloc(np + 1, sizeof *el), *f1 = calloc(np + 1, sizeof *f1),
      *f2 = calloc(np + 1, sizeof *f2);
  sk_status st = SK_ENOMEM;
  if (!seen || !ss || !x || !y1 || !y2 || !el || !f1 || !f2)
    goto out;
  for (size_t p = 0; p < np; p++) {
    sk_sweep_point_stats *s = &stats[p];
    memset(s, 0, sizeof *s);
    s->point = (int32_t)p;
    s->is_default = sk_sweep_point_is_default(sw, p);
    s->pass = 1;
    for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++)
      s->mean[m] = s->sd[m] = s->ci95[m] = 0;
  }
  for (size_t i = 0; i < n_rows; i++) {
    sk_sweep_result *r = &rows[i];
    SK_REQUIRE(r->point >= 0 && (size_t)r->point < np);
    sk_sweep_point_stats *s = &stats[r->point];
    seen[r->point]++;
    r->pass = sk_sweep_row_passes(sw, r);
    if (!r->pass)
      s->pass = 0;
    if (r->status != SK_SWEEP_RUN_OK) {
      s->n_failed++;
      continue;
    }
    s->n_ok++;
    for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++)
      s->mean[m] += r->m[m]; /* NaN stays NaN: a figure that is missing in one seed */
  }
  for (size_t p = 0; p < np; p++) {
    sk_sweep_point_stats *s = &stats[p];
    s->complete = seen[p] == sw->n_seeds;
    if (!s->complete || s->n_failed > 0)
      s->pass = 0;
    for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++) {
      s->mean[m] = s->n_ok ? s->mean[m] / s->n_ok : NAN;
      s->sd[m] = s->ci95[m] = NAN;
    }
  }
  /* second pass, in row order: the spread */
  for (size_t i = 0; i < n_rows; i++) {
    const sk_sweep_result *r = &rows[i];
    if (r->status != SK_SWEEP_RUN_OK)
      continue;
    for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++) {
      double d = r->m[m] - stats[r->point].mean[m];
      ss[(size_t)r->point * SK_SWEEP_METRIC_COUNT + (size_t)m] += d * d;
    }
  }
  for (size_t p = 0; p < np; p++) {
    sk_sweep_point_stats *s = &stats[p];
    if (s->n_ok < 2)
      continue;
    for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++) {
      s->sd[m] = sqrt(ss[p * SK_SWEEP_METRIC_COUNT + (size_t)m] / (s->n_ok - 1));
      s->ci95[m] = sk_sweep_t975(s->n_ok - 1) * s->sd[m] / sqrt((double)s->n_ok);
    }
  }
  /* fronts over the points that meet the constraints (every seed ran, none failed, every
   * row passes): the trade-offs a policy may choose from.  A point that breaks the inlet
   * limit is no option on the latency front however little energy it uses. */
  long best = -1;
  for (size_t p = 0; p < np; p++) {
    const sk_sweep_point_stats *s = &stats[p];
    el[p] = s->pass;
    x[p] = s->mean[SK_SWEEP_M_WH_PER_PROMPT];
    y1[p] = s->mean[SK_SWEEP_M_TTFT_P95];
    y2[p] = s->mean[SK_SWEEP_M_MAX_INLET];
    if (s->pass && !isnan(x[p]) && (best < 0 || x[p] < x[best]))
      best = (long)p;
  }
  sk_sweep_pareto(x, y1, el, np, f1);
  sk_sweep_pareto(x, y2, el, np, f2);
  for (size_t p = 0; p < np; p++) {
    stats[p].front_ttft = f1[p];
    stats[p].front_inlet = f2[p];
    stats[p].best = (long)p == best;
  }
  st = SK_OK;
out:
  free(ss);
  free(x);
  free(y1);
  free(y2);
  free(el);
  free(f1);
  free(f2);
  free(seen);
  return st;
}
