/*
 * ims_jobs.h -- private to api/: POST /ims/train and GET /ims/models.  A job trains an IMS
 * model on a window of a run's own recorded telemetry on a thread of its own (the run
 * goes on meanwhile) and saves it beside the recording; the list says which jobs are
 * training, ready (with the model's figures) or failed (with the reason).
 */
#ifndef SKADI_API_IMS_JOBS_H
#define SKADI_API_IMS_JOBS_H

#include "proto.h"
#include "skadi/ims.h"

typedef struct sk__ims_jobs sk__ims_jobs;

sk__ims_jobs *sk__ims_jobs_create(void);    /* NULL when out of memory */
void sk__ims_jobs_destroy(sk__ims_jobs *j); /* waits for running jobs; NULL ok */

/* Checks args ({start_ts, end_ts, n_clusters}; times on the API's clock, clamped to
 * [0, now_s]) and starts a job on data_path, saving to "<stem>-ims-<id>.h5".  Returns
 * {model_id, status: "training", path, ...} or NULL with e filled. */
cJSON *sk__ims_jobs_start(sk__ims_jobs *j, const char *data_path, double start_hour, double now_s,
                          const cJSON *args, sk__api_error *e);
/* POST /ims/train with {csv, n_clusters, features}: the CSV text (docs/API.md) is kept in
 * a temporary file, checked at once as `skadi ims train --data` reads it (a CSV that cannot
 * train -- no such column, a bad value, no complete nominal row -- fails here, naming it),
 * and trained on a thread; the model is saved beside recording ("<stem>-ims-<id>.h5") or,
 * with recording NULL, kept in memory only. */
cJSON *sk__ims_jobs_start_csv(sk__ims_jobs *j, const char *recording, const cJSON *args,
                              sk__api_error *e);
/* The newest ready model, or NULL; its id ("ims-3") into id.  The model stays valid and
 * unchanged until sk__ims_jobs_destroy. */
const sk_ims_model *sk__ims_jobs_latest(sk__ims_jobs *j, char *id, size_t idlen);

/* {models: [{model_id, status, path, ...}]} */
cJSON *sk__ims_jobs_list(sk__ims_jobs *j, double start_hour);

#endif
