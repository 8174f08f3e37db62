/*
 * view.h -- what the visualizer draws: one plain value struct, filled by a source (a
 * recording being replayed, replay.h; a run session stepping on its own thread, live.h)
 * and drawn by render.h.  The renderer knows nothing of where the numbers came from, so
 * a snapshot, the window and the benchmark all draw the same way.
 *
 * Numbers that a source does not have are NaN (drawn grey or "--"); strings are "" then.
 * The series are borrowed pointers: the source owns them and keeps them valid while the
 * view is drawn.
 */
#ifndef SKADI_VIZ_VIEW_H
#define SKADI_VIZ_VIEW_H

#include <stdint.h>

#include "skadi/schema.h"
#include "skadi/session.h"
#include "skadi/telemetry.h"

/* The quantity the room grid is coloured by. */
typedef enum {
  SK_VIZ_INLET = 0, /* °C, rack inlet */
  SK_VIZ_OUTLET,    /* °C, rack exhaust */
  SK_VIZ_POWER,     /* kW at the PDU */
  SK_VIZ_IMS,       /* IMS deviation D(x) */
  SK_VIZ_METRIC_COUNT
} sk_viz_metric;

const char *sk_viz_metric_name(sk_viz_metric m); /* "inlet", "outlet", "power", "ims" */
/* The metric called name into *out: 0, or -1 when there is none. */
int sk_viz_metric_parse(const char *name, sk_viz_metric *out);

typedef struct {
  char id[SK_RACK_ID_LEN];
  int row, pos;     /* row 0 = A; position in the row from 0 */
  double inlet_c;   /* °C */
  double outlet_c;  /* °C */
  double pdu_kw;    /* kW */
  double deviation; /* IMS D(x), NaN without a monitor */
  int mms_state;    /* -1 no monitor, 0 transient, 1 persistent */
  int n_servers;
} sk_viz_rack;

typedef struct {
  char row[4];     /* "A" */
  double fan_pct;  /* % */
  double supply_c; /* °C delivered */
} sk_viz_crah;

/* A time series borrowed from the source: t[i] ascending, in s of sim time. */
typedef struct {
  const double *t;
  const double *v; /* NaN: a gap */
  int n;
} sk_viz_series;

typedef enum {
  SK_VIZ_CHART_WH = 0, /* Wh/prompt, per sample period */
  SK_VIZ_CHART_TTFT,   /* TTFT p95 ms, per sample period */
  SK_VIZ_CHART_IMS,    /* highest IMS deviation of the room, per fast tick */
  SK_VIZ_CHART_COUNT
} sk_viz_chart;

/* A mark on the charts' time axis: an action (its decision colours it) or a scenario
 * event. */
typedef struct {
  double t_s;
  char kind; /* 'a' applied, 'd' advised, 'r' rolled back, 'x' rejected, 'e' event */
} sk_viz_marker;

#define SK_VIZ_MAX_ACTIONS 8
#define SK_VIZ_MAX_RACKS SK_SESSION_MAX_RACKS

typedef struct {
  /* where it comes from */
  char title[96]; /* "replay runs/hs.h5", "live scenarios/x.json" */
  char scenario[64];
  int live; /* 1: a session (keys steer it), 0: a recording */
  sk_viz_metric metric;
  int help; /* draw the help overlay */

  /* time */
  double t_s;   /* s, sim time shown */
  double end_s; /* s, end of the run (charts' time axis) */
  double speed; /* x real time; 0 = as fast as possible */
  int paused;
  double start_hour; /* clock time of t = 0, h (NaN: not shown) */

  /* the room */
  int n_rows, racks_per_row, n_racks;
  sk_viz_rack racks[SK_VIZ_MAX_RACKS];
  sk_viz_crah crahs[SK_MAX_ROWS];
  double inlet_max_c; /* °C, settings.inlet_max_c */
  int have_monitor;

  /* KPI tiles */
  double wh_per_prompt;    /* Wh/prompt since the start */
  double cf_wh_per_prompt; /* the counterfactual's, NaN without one */
  double saved_pct;        /* %, NaN without a counterfactual */
  int cf_whole_run;        /* 1: cf and saving are whole-run figures (a recording's
                              /summary), 0: up to t_s */
  double ttft_p95_ms;      /* ms, this sample period */
  double sla_ms;           /* ms */
  double compliance_pct;   /* %, rack inlet samples <= limit since the start, floored */
  double pue;              /* since the start */
  char mode[16];           /* "off", "advisory", "closed_loop" */
  int kill_switch;

  /* charts and the action stream */
  sk_viz_series series[SK_VIZ_CHART_COUNT];
  const sk_viz_marker *markers;
  int n_markers;
  int n_actions; /* latest first */
  sk_action_record actions[SK_VIZ_MAX_ACTIONS];

  char status[128]; /* a line for the footer ("" none) */
} sk_viz_view;

/* Clears v to "nothing known": NaNs, empty strings, metric inlet. */
void sk_viz_view_init(sk_viz_view *v);

/* 1 when the action stream lists a: applied, advised, realized and rolled-back rows.
 * Rejected proposals (dozens per slow tick) are left to the charts' ticks, and the IMS's
 * own training rows to the audit trail. */
int sk_viz_action_listed(const sk_action_record *a);

/* The value of r for metric m (NaN when unknown). */
double sk_viz_rack_value(const sk_viz_rack *r, sk_viz_metric m);

#endif
