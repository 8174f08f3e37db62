/*
 * ims.h -- Inductive Monitoring System: learns nominal behaviour from feature vectors
 * and scores how far a new vector is from it.
 *
 * Features are z-scored with the training mean and standard deviation; k-means (with
 * deterministic k-means++ seeding from an sk_rng stream) finds K centroids; the deviation
 * D(x) is the Euclidean distance, in z-space, from x to the nearest centroid.  τ_fast and
 * τ_persist are percentiles of the training deviations.  Each feature's share of D(x)^2
 * tells an operator which sensor drives the deviation.  The model is a plain struct (no
 * pointers): memcpy-cloneable, storable as arrays (sim/src/ims_model_file.c writes it to
 * HDF5).
 */
#ifndef SKADI_IMS_H
#define SKADI_IMS_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/status.h"

#define SK_IMS_MAX_FEATURES 16
#define SK_IMS_MAX_CLUSTERS 64
#define SK_IMS_NAME_LEN 32
#define SK_IMS_MAX_SMOOTH_ROWS 3600 /* cap on sk_ims_model.smooth_rows */
#define SK_IMS_MIN_ROWS_PER_CLUSTER 10 /* training refuses fewer nominal rows than K * this */

/* The seed's per-rack feature list, in this order, for vectors built from telemetry. */
#define SK_IMS_RACK_FEATURES                                                                \
  X(inlet_c) X(outlet_c) X(delta_t_c) X(pdu_kw) X(gpu_kw) X(tokens_ps) X(latency_p95_ms)   \
      X(queue_depth) X(fan_rpm_pct) X(pump_rpm_pct)
#define SK_IMS_N_RACK_FEATURES 10

typedef struct {
  int n_features;                                   /* d, 1..SK_IMS_MAX_FEATURES */
  int n_clusters;                                   /* K, 1..SK_IMS_MAX_CLUSTERS */
  char feature[SK_IMS_MAX_FEATURES][SK_IMS_NAME_LEN];
  double mean[SK_IMS_MAX_FEATURES];                 /* training mean per feature */
  double scale[SK_IMS_MAX_FEATURES];                /* training sd per feature (> 0) */
  double centroid[SK_IMS_MAX_CLUSTERS][SK_IMS_MAX_FEATURES]; /* in z-space */
  double tau_fast;                                  /* D at the fast percentile */
  double tau_persist;                               /* D at the persist percentile */
  double tau_fast_percentile;                       /* e.g. 95 */
  double tau_persist_percentile;                    /* e.g. 98 */
  int64_t n_train;                                  /* vectors used for training */
  double train_from_s, train_to_s;                  /* training window (data time) */
  uint64_t seed;                                    /* k-means++ seed */
  int iterations;                                   /* Lloyd iterations run */
  /* Beyond the seed (model files before these read as the defaults noted). */
  double train_min[SK_IMS_MAX_FEATURES];            /* smallest training value per feature, */
  double train_max[SK_IMS_MAX_FEATURES];            /* largest; NaN = unknown (old files) */
  int smooth_rows;       /* rows of the trailing mean the caller applies per entity before
                            scoring (1 = none, the twin's; old files: 1); the model's numbers
                            (mean, scale, range, τ) are of the smoothed values */
  double tau_margin;     /* factor applied to both percentile thresholds (1; old files: 1) */
} sk_ims_model;

typedef struct {
  int n_clusters;                   /* K */
  double tau_fast_percentile;       /* (0, 100] */
  double tau_persist_percentile;    /* (0, 100], >= fast */
  uint64_t seed;                    /* k-means++ seeding stream */
  int max_iterations;               /* Lloyd iterations cap (e.g. 100) */
} sk_ims_train_params;

/* Trains on n row-major vectors x[n*d] named by names[d] (all rows must already be
 * nominal: see sk_ims_nominal_rack).  Refuses with SK_EINVAL and a message when n <
 * K * SK_IMS_MIN_ROWS_PER_CLUSTER, when a feature is constant (sd 0) or not finite, and
 * when d, K, a percentile or max_iterations (>= 1) is out of range or a name is empty,
 * repeated or longer than SK_IMS_NAME_LEN - 1.  SK_ENOMEM when scratch memory (about
 * n * (d + 2) doubles, freed before returning) cannot be had.  On failure *m is untouched.
 * The model gets each feature's training range (train_min/train_max of x), smooth_rows 1
 * and tau_margin 1; a caller that smoothed x or wants a margin sets those after (and
 * multiplies the taus by the margin), as `skadi ims train` does.
 * err (errlen bytes, may be NULL) receives the message. */
sk_status sk_ims_train(sk_ims_model *m, const sk_ims_train_params *p, const double *x, size_t n,
                       int d, const char *const *names, double from_s, double to_s, char *err,
                       size_t errlen);

/* The rule by which sk_ims_train refuses a feature as constant, for callers that want to
 * leave such features out first: column j (0 <= j < d) of the n row-major vectors x[n*d]
 * is constant when every value equals the first, or when its population standard
 * deviation is at most 1e-12 of |mean| (the rounding noise of a constant whose mean is not
 * exact in binary).  n = 0 (x may be NULL) and non-finite columns count as constant.
 * mean and sd (each may be NULL) receive the column's mean and population sd (0 when
 * n = 0).  Returns 1 when constant, else 0. */
int sk_ims_feature_is_constant(const double *x, size_t n, int d, int j, double *mean, double *sd);

/* Deviation of one vector (d = m->n_features values in the model's feature order).
 * contrib (may be NULL) receives each feature's share of D^2 (sums to 1 when D > 0).
 * Returns the index of the nearest cluster in *cluster (may be NULL).  NaN inputs are
 * treated as the training mean (no evidence either way).  An infinite input gives an
 * infinite D, with the shares split among the infinite features. */
double sk_ims_score(const sk_ims_model *m, const double *x, double *contrib, int *cluster);

/* How many of the vector's d = m->n_features values lie outside the training range
 * [train_min, train_max] (NaN values and features with an unknown range never count).
 * *first (may be NULL) receives the index of the first such feature, or -1. */
int sk_ims_out_of_range(const sk_ims_model *m, const double *x, int *first);

/* Index of the feature with the largest share of D^2, or -1 when D == 0. */
int sk_ims_top_feature(const sk_ims_model *m, const double *contrib);

/* The seed's nominal filter for one rack vector in SK_IMS_RACK_FEATURES order: inlet
 * within limit, TTFT within SLA (NaN = no requests = fine), positive ΔT, PDU between
 * idle_kw and 95 % of the rack cap; beyond the seed, every feature but latency finite.
 * Returns 1 when nominal, else 0.  A NaN latency passes but sk_ims_train refuses NaN:
 * replace it before training (with the mean of the other rows, which is what
 * sk_ims_score assumes for NaN) or drop the row. */
int sk_ims_nominal_rack(const double *v, double inlet_max_c, double sla_ms, double idle_kw,
                        double rack_kw_cap);

#endif
