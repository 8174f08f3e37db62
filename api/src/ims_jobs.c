/*
 * ims_jobs.c -- IMS training jobs of the live API (ims_jobs.h).  The same steps as
 * `skadi ims train` (cli/cmd_ims.c): load the recording's rack rows in the window, keep
 * the nominal complete ones, leave out the features that are constant over them, k-means,
 * save.  The recording is the one the session is writing: the caller flushes it first, and
 * the job reads it as recording.h reads a live file (a SWMR reader); Debian's HDF5 is
 * thread-safe (one global lock), so the job's reads and the run's writes take turns.
 *
 * Jobs are kept for the life of the twin (at most MAX_JOBS); each has its own thread,
 * joined when the twin stops.
 */
#define _DEFAULT_SOURCE /* mkstemp */
#define _POSIX_C_SOURCE 200809L

#include "ims_jobs.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skadi/ims_store.h"

#define MAX_JOBS 64

typedef enum { JOB_TRAINING = 0, JOB_READY, JOB_FAILED } job_state;

typedef struct {
  int id;
  char data[SK_IMS_SOURCE_LEN], out[SK_IMS_SOURCE_LEN + 32]; /* out "": not saved */
  double from_s, to_s;
  int k;
  int csv;        /* data is an uploaded CSV (a temporary file, removed after) */
  int n_features; /* the CSV's features (0: the rack features) */
  char features[SK_IMS_MAX_FEATURES][SK_IMS_NAME_LEN];
  pthread_t thread;
  /* under the jobs' mutex */
  job_state state;
  char err[512];
  sk_ims_model *model;
  size_t n_rows, n_kept;
} job;

struct sk__ims_jobs {
  pthread_mutex_t mu;
  job *jobs[MAX_JOBS];
  int n;
};

sk__ims_jobs *sk__ims_jobs_create(void) {
  sk__ims_jobs *j = calloc(1, sizeof *j);
  if (j)
    pthread_mutex_init(&j->mu, NULL);
  return j;
}

void sk__ims_jobs_destroy(sk__ims_jobs *j) {
  if (!j)
    return;
  for (int i = 0; i < j->n; i++) {
    pthread_join(j->jobs[i]->thread, NULL);
    free(j->jobs[i]->model);
    free(j->jobs[i]);
  }
  pthread_mutex_destroy(&j->mu);
  free(j);
}

typedef struct {
  sk__ims_jobs *jobs;
  job *jb;
} job_arg;

static void *train_main(void *arg) {
  job_arg *a = arg;
  sk__ims_jobs *js = a->jobs;
  job *jb = a->jb;
  free(a);
  char err[512] = "";
  sk_ims_data d;
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  const char *names_in[SK_IMS_MAX_FEATURES];
  if (jb->csv) { /* every row of the upload */
    for (int i = 0; i < jb->n_features; i++)
      names_in[i] = jb->features[i];
    o.features = jb->n_features ? names_in : NULL;
    o.n_features = jb->n_features;
  } else {
    o.from_s = jb->from_s;
    o.to_s = jb->to_s;
  }
  double *x = NULL;
  sk_ims_selection sel = {0};
  sk_ims_model *m = NULL;
  sk_status st = sk_ims_data_load(&d, jb->data, &o, err, sizeof err);
  if (st == SK_OK && d.n_rows == 0) {
    snprintf(err, sizeof err, "no telemetry between %g s and %g s", jb->from_s, jb->to_s);
    st = SK_EINVAL;
  }
  if (st == SK_OK && sk_ims_data_select_training(&d, &x, &sel) != SK_OK) {
    snprintf(err, sizeof err, "out of memory");
    st = SK_ENOMEM;
  }
  int dd = d.n_features;
  char kept[SK_IMS_MAX_FEATURES][SK_IMS_NAME_LEN];
  if (st == SK_OK) {
    memcpy(kept, d.feature, sizeof kept);
    int constant[SK_IMS_MAX_FEATURES];
    int n_const = sel.n_kept ? sk_ims_constant_features(x, sel.n_kept, dd, constant) : 0;
    if (n_const == dd && sel.n_kept) {
      snprintf(err, sizeof err, "every feature is constant over the %zu training rows", sel.n_kept);
      st = SK_EINVAL;
    } else if (n_const > 0) {
      sk_ims_drop_features(x, sel.n_kept, &dd, kept, constant);
    }
  }
  if (st == SK_OK) {
    sk_ims_train_params p = {jb->k, d.tau_fast_percentile, d.tau_persist_percentile, 1, 100};
    const char *names[SK_IMS_MAX_FEATURES];
    for (int i = 0; i < dd; i++)
      names[i] = kept[i];
    char why[400];
    m = calloc(1, sizeof *m);
    if (!m) {
      snprintf(err, sizeof err, "out of memory");
      st = SK_ENOMEM;
    } else if ((st = sk_ims_train(m, &p, x, sel.n_kept, dd, names, sel.from_s, sel.to_s, why,
                                  sizeof why)) != SK_OK) {
      snprintf(err, sizeof err,
               "%zu training rows of %zu (%zu with a missing value, %zu "
               "off-nominal): %s",
               sel.n_kept, sel.n_rows, sel.n_missing, sel.n_off_nominal, why);
    } else if (jb->out[0]) {
      st = sk_ims_save(m, jb->out, jb->csv ? "POST /ims/train csv" : jb->data, err, sizeof err);
    }
  }
  if (jb->csv)
    remove(jb->data);
  free(x);
  size_t n_rows = d.n_rows;
  sk_ims_data_fini(&d);
  pthread_mutex_lock(&js->mu);
  jb->n_rows = n_rows;
  jb->n_kept = sel.n_kept;
  if (st == SK_OK) {
    jb->state = JOB_READY;
    jb->model = m;
  } else {
    jb->state = JOB_FAILED;
    snprintf(jb->err, sizeof jb->err, "%s", err);
    free(m);
  }
  pthread_mutex_unlock(&js->mu);
  return NULL;
}

/* Beside the recording: runs/x.h5 -> runs/x-ims-1.h5 (.part is the live file's). */
static void model_path(job *jb, const char *recording) {
  char stem[SK_IMS_SOURCE_LEN];
  snprintf(stem, sizeof stem, "%s", recording);
  char *dot = strstr(stem, ".h5");
  if (dot)
    *dot = 0;
  snprintf(jb->out, sizeof jb->out, "%s-ims-%d.h5", stem, jb->id);
}

static int jobs_full(sk__ims_jobs *j, sk__api_error *e) {
  pthread_mutex_lock(&j->mu);
  int full = j->n == MAX_JOBS;
  pthread_mutex_unlock(&j->mu);
  if (full)
    sk__api_fail(e, SK_APIE_CONFLICT, NULL, "%d models trained already: restart the twin for more",
                 MAX_JOBS);
  return full;
}

/* Starts jb (its fields set, id given here) on a thread and lists it; NULL with e on
 * failure (jb freed). */
static job *launch(sk__ims_jobs *j, job *jb, sk__api_error *e) {
  job_arg *a = malloc(sizeof *a);
  if (!a) {
    free(jb);
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "out of memory");
    return NULL;
  }
  a->jobs = j;
  a->jb = jb;
  if (pthread_create(&jb->thread, NULL, train_main, a) != 0) {
    free(jb);
    free(a);
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "cannot start a training thread");
    return NULL;
  }
  pthread_mutex_lock(&j->mu);
  j->jobs[j->n++] = jb;
  pthread_mutex_unlock(&j->mu);
  return jb;
}

cJSON *sk__ims_jobs_start(sk__ims_jobs *j, const char *data_path, double start_hour, double now_s,
                          const cJSON *args, sk__api_error *e) {
  static const char *const allowed[] = {"start_ts", "end_ts", "n_clusters", NULL};
  if (!sk__args_only(args, allowed, e))
    return NULL;
  double from = 0, to = now_s, k = 8;
  const cJSON *v;
  if ((v = cJSON_GetObjectItemCaseSensitive(args, "start_ts")) &&
      !sk__api_time_arg(v, start_hour, "start_ts", &from, e))
    return NULL;
  if ((v = cJSON_GetObjectItemCaseSensitive(args, "end_ts")) &&
      !sk__api_time_arg(v, start_hour, "end_ts", &to, e))
    return NULL;
  if (sk__arg_number(args, "n_clusters", 0, &k, e) < 0)
    return NULL;
  if (k < 1 || k > SK_IMS_MAX_CLUSTERS || k != floor(k)) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "n_clusters", "n_clusters: a whole number in [1, %d]",
                 SK_IMS_MAX_CLUSTERS);
    return NULL;
  }
  if (from < 0)
    from = 0;
  if (to > now_s)
    to = now_s;
  if (to <= from) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "end_ts",
                 "end_ts: the window [%g s, %g s] holds no telemetry yet (the run is at %g s)",
                 from, to, now_s);
    return NULL;
  }
  if (jobs_full(j, e))
    return NULL;
  job *jb = calloc(1, sizeof *jb);
  if (!jb) {
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "out of memory");
    return NULL;
  }
  jb->id = j->n + 1; /* jobs start on the twin's thread only */
  snprintf(jb->data, sizeof jb->data, "%s", data_path);
  model_path(jb, data_path);
  jb->from_s = from;
  jb->to_s = to;
  jb->k = (int)k;
  if (!launch(j, jb, e))
    return NULL;
  cJSON *o = cJSON_CreateObject();
  char id[32], iso[40];
  snprintf(id, sizeof id, "ims-%d", jb->id);
  cJSON_AddStringToObject(o, "model_id", id);
  cJSON_AddStringToObject(o, "status", "training");
  cJSON_AddStringToObject(o, "path", jb->out);
  sk__api_iso(start_hour, from, iso, sizeof iso);
  cJSON_AddStringToObject(o, "start_ts", iso);
  sk__api_iso(start_hour, to, iso, sizeof iso);
  cJSON_AddStringToObject(o, "end_ts", iso);
  cJSON_AddNumberToObject(o, "n_clusters", jb->k);
  return o;
}

const sk_ims_model *sk__ims_jobs_latest(sk__ims_jobs *j, char *id, size_t idlen) {
  const sk_ims_model *m = NULL;
  pthread_mutex_lock(&j->mu);
  for (int i = j->n; i-- > 0 && !m;)
    if (j->jobs[i]->state == JOB_READY) {
      m = j->jobs[i]->model;
      snprintf(id, idlen, "ims-%d", j->jobs[i]->id);
    }
  pthread_mutex_unlock(&j->mu);
  return m;
}

cJSON *sk__ims_jobs_list(sk__ims_jobs *j, double start_hour) {
  static const char *const states[] = {"training", "ready", "failed"};
  cJSON *o = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(o, "models");
  pthread_mutex_lock(&j->mu);
  for (int i = 0; i < j->n; i++) {
    const job *jb = j->jobs[i];
    cJSON *x = cJSON_CreateObject();
    char id[32], iso[40];
    snprintf(id, sizeof id, "ims-%d", jb->id);
    cJSON_AddStringToObject(x, "model_id", id);
    cJSON_AddStringToObject(x, "status", states[jb->state]);
    if (jb->out[0])
      cJSON_AddStringToObject(x, "path", jb->out);
    else
      cJSON_AddNullToObject(x, "path");
    if (jb->csv) {
      cJSON_AddStringToObject(x, "source", "csv");
      cJSON_AddNullToObject(x, "start_ts");
      cJSON_AddNullToObject(x, "end_ts");
    } else {
      cJSON_AddStringToObject(x, "source", "run");
      sk__api_iso(start_hour, jb->from_s, iso, sizeof iso);
      cJSON_AddStringToObject(x, "start_ts", iso);
      sk__api_iso(start_hour, jb->to_s, iso, sizeof iso);
      cJSON_AddStringToObject(x, "end_ts", iso);
    }
    cJSON_AddNumberToObject(x, "n_clusters", jb->k);
    if (jb->state == JOB_READY && jb->model) {
      const sk_ims_model *m = jb->model;
      cJSON_AddNumberToObject(x, "n_train", (double)m->n_train);
      sk__json_num(x, "tau_fast", m->tau_fast);
      sk__json_num(x, "tau_persist", m->tau_persist);
      sk__json_num(x, "tau_fast_percentile", m->tau_fast_percentile);
      sk__json_num(x, "tau_persist_percentile", m->tau_persist_percentile);
      cJSON *f = cJSON_AddArrayToObject(x, "features");
      for (int k = 0; k < m->n_features; k++)
        cJSON_AddItemToArray(f, cJSON_CreateString(m->feature[k]));
    }
    if (jb->state == JOB_FAILED)
      cJSON_AddStringToObject(x, "error", jb->err);
    cJSON_AddItemToArray(arr, x);
  }
  pthread_mutex_unlock(&j->mu);
  return o;
}

/* err with every mention of path replaced by "csv" (the upload has no name). */
static void name_upload(char *err, size_t n, const char *path) {
  char out[1024] = "";
  size_t pl = strlen(path), used = 0;
  for (const char *p = err; *p && used + 4 < sizeof out;) {
    if (strncmp(p, path, pl) == 0) {
      used += (size_t)snprintf(out + used, sizeof out - used, "csv");
      p += pl;
    } else {
      out[used++] = *p++;
      out[used] = 0;
    }
  }
  snprintf(err, n, "%s", out);
}

cJSON *sk__ims_jobs_start_csv(sk__ims_jobs *j, const char *recording, const cJSON *args,
                              sk__api_error *e) {
  static const char *const allowed[] = {"csv", "n_clusters", "features", NULL};
  const char *csv;
  double k = 8;
  if (!sk__args_only(args, allowed, e) || sk__arg_string(args, "csv", 1, &csv, e) != 1 ||
      sk__arg_number(args, "n_clusters", 0, &k, e) < 0)
    return NULL;
  if (k < 1 || k > SK_IMS_MAX_CLUSTERS || k != floor(k)) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "n_clusters", "n_clusters: a whole number in [1, %d]",
                 SK_IMS_MAX_CLUSTERS);
    return NULL;
  }
  if (!csv[0]) {
    sk__api_fail(e, SK_APIE_INVALID_FIELD, "csv",
                 "csv: empty (the CSV text: a header line, then a row per sample)");
    return NULL;
  }
  job *jb = calloc(1, sizeof *jb);
  if (!jb) {
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "out of memory");
    return NULL;
  }
  const cJSON *fs = cJSON_GetObjectItemCaseSensitive(args, "features");
  if (fs && !cJSON_IsNull(fs)) {
    int nf = cJSON_IsArray(fs) ? cJSON_GetArraySize(fs) : -1;
    if (nf < 1 || nf > SK_IMS_MAX_FEATURES) {
      sk__api_fail(e, SK_APIE_INVALID_FIELD, "features",
                   "features: expected an array of 1 to %d column names", SK_IMS_MAX_FEATURES);
      free(jb);
      return NULL;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, fs) {
      char field[32];
      snprintf(field, sizeof field, "features[%d]", jb->n_features);
      if (!cJSON_IsString(f) || !f->valuestring[0] || strlen(f->valuestring) >= SK_IMS_NAME_LEN) {
        sk__api_fail(e, SK_APIE_INVALID_FIELD, field, "%s: expected a column name of 1 to %d bytes",
                     field, SK_IMS_NAME_LEN - 1);
        free(jb);
        return NULL;
      }
      snprintf(jb->features[jb->n_features++], SK_IMS_NAME_LEN, "%s", f->valuestring);
    }
  }
  if (jobs_full(j, e)) {
    free(jb);
    return NULL;
  }
  /* the text into a file of its own, read as `skadi ims train --data` reads one */
  const char *dir = getenv("TMPDIR");
  snprintf(jb->data, sizeof jb->data, "%s/skadi-ims-upload-XXXXXX", dir && dir[0] ? dir : "/tmp");
  int fd = mkstemp(jb->data);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  size_t len = strlen(csv);
  int ok = f && fwrite(csv, 1, len, f) == len;
  if (f)
    ok &= fclose(f) == 0;
  else if (fd >= 0)
    close(fd);
  if (!ok) {
    if (fd >= 0)
      remove(jb->data);
    sk__api_fail(e, SK_APIE_INTERNAL, NULL, "cannot keep the upload in %s", jb->data);
    free(jb);
    return NULL;
  }
  /* checked now, so a CSV that cannot train is a 400 rather than a failed job */
  char err[512] = "";
  sk_ims_data d;
  sk_ims_data_opts o;
  sk_ims_data_opts_init(&o);
  o.strict = 1;
  const char *names[SK_IMS_MAX_FEATURES];
  for (int i = 0; i < jb->n_features; i++)
    names[i] = jb->features[i];
  o.features = jb->n_features ? names : NULL;
  o.n_features = jb->n_features;
  sk_status st = sk_ims_data_load(&d, jb->data, &o, err, sizeof err);
  double *x = NULL;
  sk_ims_selection sel = {0};
  if (st == SK_OK && sk_ims_data_select_training(&d, &x, &sel) != SK_OK) {
    st = SK_ENOMEM;
    snprintf(err, sizeof err, "out of memory");
  } else if (st == SK_OK && sel.n_kept < 2) {
    st = SK_EINVAL;
    snprintf(err, sizeof err,
             "%zu training rows of %zu (%zu with a missing value, %zu off-nominal); the model "
             "needs complete nominal rows",
             sel.n_kept, sel.n_rows, sel.n_missing, sel.n_off_nominal);
  }
  free(x);
  sk_ims_data_fini(&d);
  if (st != SK_OK) {
    remove(jb->data);
    name_upload(err, sizeof err, jb->data);
    if (st == SK_ENOMEM)
      sk__api_fail(e, SK_APIE_INTERNAL, NULL, "%s", err);
    else
      sk__api_fail(e, SK_APIE_INVALID_FIELD, "csv", "%s%s",
                   strncmp(err, "csv:", 4) == 0 ? "" : "csv: ", err);
    free(jb);
    return NULL;
  }
  jb->csv = 1;
  jb->k = (int)k;
  jb->from_s = jb->to_s = NAN;
  jb->id = j->n + 1;
  if (recording)
    model_path(jb, recording);
  if (!launch(j, jb, e)) {
    return NULL;
  }
  cJSON *r = cJSON_CreateObject();
  char id[32];
  snprintf(id, sizeof id, "ims-%d", jb->id);
  cJSON_AddStringToObject(r, "model_id", id);
  cJSON_AddStringToObject(r, "status", "training");
  if (jb->out[0])
    cJSON_AddStringToObject(r, "path", jb->out);
  else
    cJSON_AddNullToObject(r, "path");
  cJSON_AddStringToObject(r, "source", "csv");
  cJSON_AddNumberToObject(r, "n_rows", (double)sel.n_rows);
  cJSON_AddNumberToObject(r, "n_train", (double)sel.n_kept);
  cJSON_AddNumberToObject(r, "n_clusters", jb->k);
  return r;
}
