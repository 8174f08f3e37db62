/*
 * view.c -- the view's small helpers: its empty state and the metric names.
 */
#include "view.h"

#include <math.h>
#include <string.h>

static const char *const METRIC_NAMES[SK_VIZ_METRIC_COUNT] = {"inlet", "outlet", "power", "ims"};

const char *sk_viz_metric_name(sk_viz_metric m) {
  return (unsigned)m < SK_VIZ_METRIC_COUNT ? METRIC_NAMES[m] : "?";
}

int sk_viz_metric_parse(const char *name, sk_viz_metric *out) {
  for (int i = 0; i < SK_VIZ_METRIC_COUNT; i++)
    if (strcmp(name, METRIC_NAMES[i]) == 0) {
      *out = (sk_viz_metric)i;
      return 0;
    }
  return -1;
}

void sk_viz_view_init(sk_viz_view *v) {
  memset(v, 0, sizeof *v);
  v->metric = SK_VIZ_INLET;
  v->t_s = v->end_s = 0;
  v->start_hour = NAN;
  v->inlet_max_c = NAN;
  v->wh_per_prompt = v->cf_wh_per_prompt = v->saved_pct = NAN;
  v->ttft_p95_ms = v->sla_ms = v->compliance_pct = v->pue = NAN;
}

double sk_viz_rack_value(const sk_viz_rack *r, sk_viz_metric m) {
  switch (m) {
  case SK_VIZ_INLET:
    return r->inlet_c;
  case SK_VIZ_OUTLET:
    return r->outlet_c;
  case SK_VIZ_POWER:
    return r->pdu_kw;
  case SK_VIZ_IMS:
    return r->deviation;
  default:
    return NAN;
  }
}

int sk_viz_action_listed(const sk_action_record *a) {
  return strcmp(a->decision, "applied") == 0 || strcmp(a->decision, "advised") == 0 ||
         strcmp(a->decision, "realized") == 0 || strcmp(a->decision, "rolled_back") == 0;
}
