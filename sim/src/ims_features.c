/*
 * ims_features.c -- the IMS's runtime feature vector: one rack row of telemetry (a
 * sk_rack_sample, live from the twin or read from a recording) as the vector of
 * SK_IMS_RACK_FEATURES, with the features' names and units (contracts in ims_store.h).
 *
 * Pure functions of the row: no files, no HDF5.  The twin's fast loop (control.c) scores
 * live rows with it, and ims_data.c turns recorded rows into training and scoring data
 * with the same code, so a model trained on a recording sees the vectors the twin will
 * give it.  The model files are ims_model_file.c, the data ims_data.c.
 */
#include "skadi/ims_store.h"

#include <string.h>

#include "skadi/require.h"

/* ---- rack vectors ------------------------------------------------------------------- */

enum {
#define X(name) RF_##name,
  SK_IMS_RACK_FEATURES
#undef X
      RF_COUNT
};
_Static_assert(RF_COUNT == SK_IMS_N_RACK_FEATURES, "SK_IMS_N_RACK_FEATURES is stale");

static const char *const rack_names[SK_IMS_N_RACK_FEATURES] = {
#define X(name) #name,
    SK_IMS_RACK_FEATURES
#undef X
};

/* Checklist: a feature added to SK_IMS_RACK_FEATURES gets its unit here and its value in
 * sk_ims_rack_vector (designated initializers keep each next to its name). */
static const char *const rack_units[SK_IMS_N_RACK_FEATURES] = {
    [RF_inlet_c] = "degC",      [RF_outlet_c] = "degC",
    [RF_delta_t_c] = "K",       [RF_pdu_kw] = "kW",
    [RF_gpu_kw] = "kW",         [RF_tokens_ps] = "tokens/s",
    [RF_latency_p95_ms] = "ms", [RF_queue_depth] = "requests",
    [RF_fan_rpm_pct] = "%",     [RF_pump_rpm_pct] = "%",
};

void sk_ims_rack_vector(const sk_rack_sample *r, double sample_period_s,
                        double out[SK_IMS_N_RACK_FEATURES]) {
  SK_REQUIRE(r && out && sample_period_s > 0);
  out[RF_inlet_c] = r->inlet_c;
  out[RF_outlet_c] = r->outlet_c;
  out[RF_delta_t_c] = r->outlet_c - r->inlet_c;
  out[RF_pdu_kw] = r->pdu_kw;
  out[RF_gpu_kw] = r->gpu_energy_j / sample_period_s / 1000.0;
  out[RF_tokens_ps] = r->tokens_ps;
  out[RF_latency_p95_ms] = r->latency_p95_ms;
  out[RF_queue_depth] = (double)r->queue_depth;
  out[RF_fan_rpm_pct] = r->fan_rpm_pct;
  out[RF_pump_rpm_pct] = r->pump_rpm_pct;
}

const char *sk_ims_rack_feature_name(int i) {
  SK_REQUIRE(i >= 0 && i < SK_IMS_N_RACK_FEATURES);
  return rack_names[i];
}

const char *sk_ims_rack_feature_unit(int i) {
  SK_REQUIRE(i >= 0 && i < SK_IMS_N_RACK_FEATURES);
  return rack_units[i];
}

int sk_ims_rack_feature_index(const char *name) {
  for (int i = 0; i < SK_IMS_N_RACK_FEATURES; i++)
    if (strcmp(rack_names[i], name) == 0)
      return i;
  return -1;
}

double sk_ims_server_idle_kw(double gpus, double gpu_idle_w, double host_idle_w, double fan_base_w,
                             double psu_eff) {
  return (gpus * gpu_idle_w + host_idle_w + fan_base_w) / psu_eff / 1000.0;
}
