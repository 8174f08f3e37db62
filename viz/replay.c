/*
 * replay.c -- views from a recording, through the library's recording reader.
 *
 * At open: the metadata, every /telemetry/room row (the KPIs and two of the charts: a
 * simulated day at a 10 s sample is 8,640 rows, 1.6 MB), the /monitor/racks rows scanned
 * in blocks down to one highest-deviation point per fast tick, /actions, /events and
 * /commands (small).  At a moment: the rack, CRAH and monitor rows of one sample, found by
 * sk_recording_find_at.
 *
 * KPIs at a moment are those of the run up to that sample, from the room rows alone:
 * Wh/prompt is j_per_prompt_wh_cum; PUE is energy_kwh_cum over the IT energy summed from
 * it_kw (a mean over each period) times the period; inlet compliance counts the rack
 * samples at or below the limit from each sample's inlet_compliance_pct and the rack
 * count (exact: each is a whole count over the racks) and floors like the run summary.
 * The counterfactual is not recorded sample by sample, only its whole-run figures in
 * /summary: the tile says so ("(run)").  Mode and kill switch follow /commands.
 */
#include "replay.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skadi/recording.h"
#include "skadi/twin.h"

struct sk_viz_replay {
  sk_recording *rec;
  const sk_recording_meta *meta;
  char title[96];
  double inlet_max_c, sla_ms, start_hour, end_s;
  char mode0[16];
  int kill0;
  /* room rows and what the KPIs need of them */
  size_t n_room;
  double *t, *wh, *ttft, *wh_cum, *pue_cum;
  double *ok_cum; /* rack samples at or below the limit, samples 0..i */
  double cf_wh, saved_pct;
  /* one point per fast tick: the highest deviation */
  size_t n_mon, cap_mon;
  double *mon_t, *mon_max;
  /* actions, events, commands */
  size_t n_act;
  sk_action_record *act;
  size_t n_cmd;
  sk_command_record *cmd;
  size_t n_markers;
  sk_viz_marker *markers;
  /* one sample's rows */
  sk_rack_sample *rbuf;
  sk_monitor_record *mbuf;
  sk_crah_sample cbuf[SK_MAX_ROWS];
};

static int read_table(sk_recording *rec, sk_table_id id, size_t row_size, void **rows, size_t *n,
                      char *err, size_t errlen) {
  uint64_t cnt = 0;
  *rows = NULL;
  *n = 0;
  if (sk_recording_count(rec, id, &cnt) != SK_OK) {
    snprintf(err, errlen, "%s", sk_recording_error(rec));
    return 1;
  }
  if (cnt == 0)
    return 0;
  *rows = malloc((size_t)cnt * row_size);
  if (!*rows) {
    snprintf(err, errlen, "out of memory");
    return 1;
  }
  if (sk_recording_read(rec, id, 0, (size_t)cnt, *rows) != SK_OK) {
    snprintf(err, errlen, "%s", sk_recording_error(rec));
    free(*rows);
    *rows = NULL;
    return 1;
  }
  *n = (size_t)cnt;
  return 0;
}

static sk_status on_monitor_rows(void *ud, const void *rows, size_t n) {
  sk_viz_replay *r = ud;
  const sk_monitor_record *m = rows;
  for (size_t i = 0; i < n; i++) {
    if (r->n_mon == 0 || m[i].ts != r->mon_t[r->n_mon - 1]) {
      if (r->n_mon == r->cap_mon) {
        size_t cap = r->cap_mon ? 2 * r->cap_mon : 1024;
        double *a = realloc(r->mon_t, cap * sizeof *a);
        if (!a)
          return SK_ENOMEM;
        r->mon_t = a;
        double *b = realloc(r->mon_max, cap * sizeof *b);
        if (!b)
          return SK_ENOMEM;
        r->mon_max = b;
        r->cap_mon = cap;
      }
      r->mon_t[r->n_mon] = m[i].ts;
      r->mon_max[r->n_mon] = NAN;
      r->n_mon++;
    }
    double *mx = &r->mon_max[r->n_mon - 1];
    if (!isnan(m[i].deviation) && (isnan(*mx) || m[i].deviation > *mx))
      *mx = m[i].deviation;
  }
  return SK_OK;
}

static double config_num(sk_recording *rec, const char *key) {
  double v = NAN;
  if (sk_recording_config_f64(rec, key, &v) != SK_OK)
    return NAN;
  return v;
}

static double summary_num(const sk_recording_meta *m, const char *key) {
  const sk_recorder_figure *f = sk_recording_figure(m->summary, m->n_summary, key);
  return f ? f->value : NAN;
}

static char marker_kind(const char *decision) {
  if (strcmp(decision, "applied") == 0)
    return 'a';
  if (strcmp(decision, "advised") == 0)
    return 'd';
  if (strcmp(decision, "rolled_back") == 0)
    return 'r';
  if (strcmp(decision, "rejected") == 0)
    return 'x';
  return 0;
}

static int cmp_marker(const void *a, const void *b) {
  double x = ((const sk_viz_marker *)a)->t_s, y = ((const sk_viz_marker *)b)->t_s;
  return x < y ? -1 : x > y;
}

int sk_viz_replay_open(sk_viz_replay **out, const char *path, char *err, size_t errlen) {
  *out = NULL;
  sk_viz_replay *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return 1;
  }
  int rc = 1;
  sk_status st = sk_recording_open(&r->rec, path, err, errlen);
  if (st != SK_OK) {
    rc = (st == SK_ENOTFOUND || st == SK_EPARSE) ? 2 : 1;
    goto fail;
  }
  r->meta = sk_recording_metadata(r->rec);
  if (r->meta->n_racks == 0) {
    snprintf(err, errlen, "%s: not a skadi recording that can be shown (no /racks layout)", path);
    rc = 2;
    goto fail;
  }
  if (r->meta->n_racks > SK_VIZ_MAX_RACKS) {
    snprintf(err, errlen, "%s: /racks: %zu racks, more than the %d shown", path, r->meta->n_racks,
             SK_VIZ_MAX_RACKS);
    rc = 2;
    goto fail;
  }
  const char *slash = strrchr(path, '/');
  snprintf(r->title, sizeof r->title, "replay %s", slash ? slash + 1 : path);
  r->inlet_max_c = config_num(r->rec, "settings.inlet_max_c");
  r->sla_ms = config_num(r->rec, "settings.sla_latency_ms");
  r->start_hour = config_num(r->rec, "start_hour");
  r->end_s = r->meta->duration_s;
  const char *mode = sk_recording_config(r->rec, "run.mode");
  snprintf(r->mode0, sizeof r->mode0, "%s", mode ? mode : "");
  const char *ks = sk_recording_config(r->rec, "settings.global_kill_switch");
  r->kill0 = ks && (strcmp(ks, "true") == 0 || strcmp(ks, "1") == 0);
  r->cf_wh = summary_num(r->meta, "cf_j_per_prompt_wh");
  r->saved_pct = summary_num(r->meta, "energy_saved_pct");

  sk_room_sample *room = NULL;
  if (read_table(r->rec, SK_TABLE_ROOM, sizeof *room, (void **)&room, &r->n_room, err, errlen) != 0)
    goto fail;
  if (r->n_room == 0) {
    snprintf(err, errlen, "%s: /telemetry/room: no samples (the run recorded nothing)", path);
    rc = 2;
    goto fail;
  }
  size_t n = r->n_room;
  r->t = malloc(n * sizeof *r->t);
  r->wh = malloc(n * sizeof *r->wh);
  r->ttft = malloc(n * sizeof *r->ttft);
  r->wh_cum = malloc(n * sizeof *r->wh_cum);
  r->pue_cum = malloc(n * sizeof *r->pue_cum);
  r->ok_cum = malloc(n * sizeof *r->ok_cum);
  r->rbuf = malloc(SK_VIZ_MAX_RACKS * sizeof *r->rbuf);
  r->mbuf = malloc(SK_VIZ_MAX_RACKS * sizeof *r->mbuf);
  if (!r->t || !r->wh || !r->ttft || !r->wh_cum || !r->pue_cum || !r->ok_cum || !r->rbuf ||
      !r->mbuf) {
    free(room);
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  double it_kwh = 0, ok = 0, nr = (double)r->meta->n_racks;
  for (size_t i = 0; i < n; i++) {
    double period = i == 0 ? room[i].ts : room[i].ts - room[i - 1].ts;
    r->t[i] = room[i].ts;
    r->wh[i] = room[i].j_per_prompt_wh;
    r->ttft[i] = room[i].latency_p95_ms;
    r->wh_cum[i] = room[i].j_per_prompt_wh_cum;
    it_kwh += room[i].it_kw * period / 3600.0;
    r->pue_cum[i] = it_kwh > 0 ? room[i].energy_kwh_cum / it_kwh : NAN;
    ok += round(room[i].inlet_compliance_pct / 100.0 * nr);
    r->ok_cum[i] = ok;
  }
  if (isnan(r->end_s) || r->end_s < r->t[n - 1])
    r->end_s = r->t[n - 1];
  free(room);

  if (sk_recording_scan(r->rec, SK_TABLE_MONITOR, 4096, on_monitor_rows, r) != SK_OK) {
    snprintf(err, errlen, "%s",
             sk_recording_error(r->rec)[0] ? sk_recording_error(r->rec) : "out of memory");
    goto fail;
  }
  if (read_table(r->rec, SK_TABLE_ACTIONS, sizeof *r->act, (void **)&r->act, &r->n_act, err,
                 errlen) != 0 ||
      read_table(r->rec, SK_TABLE_COMMANDS, sizeof *r->cmd, (void **)&r->cmd, &r->n_cmd, err,
                 errlen) != 0)
    goto fail;
  sk_event_record *ev = NULL;
  size_t n_ev = 0;
  if (read_table(r->rec, SK_TABLE_EVENTS, sizeof *ev, (void **)&ev, &n_ev, err, errlen) != 0)
    goto fail;
  r->markers = malloc((r->n_act + n_ev + 1) * sizeof *r->markers);
  if (!r->markers) {
    free(ev);
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  for (size_t i = 0; i < r->n_act; i++) {
    char k = marker_kind(r->act[i].decision);
    if (k)
      r->markers[r->n_markers++] = (sk_viz_marker){r->act[i].ts, k};
  }
  for (size_t i = 0; i < n_ev; i++)
    r->markers[r->n_markers++] = (sk_viz_marker){ev[i].ts, 'e'};
  free(ev);
  qsort(r->markers, r->n_markers, sizeof *r->markers, cmp_marker);
  *out = r;
  return 0;
fail:
  sk_viz_replay_close(r);
  return rc;
}

void sk_viz_replay_close(sk_viz_replay *r) {
  if (!r)
    return;
  sk_recording_close(r->rec);
  free(r->t);
  free(r->wh);
  free(r->ttft);
  free(r->wh_cum);
  free(r->pue_cum);
  free(r->ok_cum);
  free(r->mon_t);
  free(r->mon_max);
  free(r->act);
  free(r->cmd);
  free(r->markers);
  free(r->rbuf);
  free(r->mbuf);
  free(r);
}

double sk_viz_replay_first_s(const sk_viz_replay *r) {
  return r->t[0];
}
double sk_viz_replay_last_s(const sk_viz_replay *r) {
  return r->t[r->n_room - 1];
}

/* Index of the last ts[i] <= t in ts[0..n), or -1 when t < ts[0]. */
static long last_at_or_before(const double *ts, size_t n, double t) {
  long lo = 0, hi = (long)n - 1, ans = -1;
  while (lo <= hi) {
    long mid = lo + (hi - lo) / 2;
    if (ts[mid] <= t + 1e-6) { /* ts are ns-exact sums: allow rounding */
      ans = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return ans;
}

static int rack_index(const sk_recording_meta *m, const char *id, size_t hint) {
  if (hint < m->n_racks && strncmp(m->racks[hint].rack_id, id, SK_RACK_ID_LEN) == 0)
    return (int)hint;
  for (size_t i = 0; i < m->n_racks; i++)
    if (strncmp(m->racks[i].rack_id, id, SK_RACK_ID_LEN) == 0)
      return (int)i;
  return -1;
}

int sk_viz_replay_fill(sk_viz_replay *r, double t_s, sk_viz_view *v, char *err, size_t errlen) {
  const sk_recording_meta *m = r->meta;
  long k = last_at_or_before(r->t, r->n_room, t_s);
  if (k < 0)
    k = 0;
  double ts = r->t[k];

  snprintf(v->title, sizeof v->title, "%s", r->title);
  snprintf(v->scenario, sizeof v->scenario, "%s", m->scenario_name ? m->scenario_name : "");
  v->live = 0;
  v->t_s = ts;
  v->end_s = r->end_s;
  v->start_hour = r->start_hour;
  v->inlet_max_c = r->inlet_max_c;
  v->sla_ms = r->sla_ms;

  /* layout */
  int rows = 0, per = 0;
  for (size_t i = 0; i < m->n_racks; i++) {
    if (m->racks[i].row + 1 > rows)
      rows = m->racks[i].row + 1;
    if (m->racks[i].pos + 1 > per)
      per = m->racks[i].pos + 1;
  }
  if (rows > SK_MAX_ROWS)
    rows = SK_MAX_ROWS;
  v->n_rows = rows;
  v->racks_per_row = per;
  v->n_racks = (int)m->n_racks;
  for (size_t i = 0; i < m->n_racks; i++) {
    sk_viz_rack *rk = &v->racks[i];
    memcpy(rk->id, m->racks[i].rack_id, sizeof rk->id);
    rk->id[SK_RACK_ID_LEN - 1] = '\0';
    rk->row = m->racks[i].row;
    rk->pos = m->racks[i].pos;
    rk->inlet_c = rk->outlet_c = rk->pdu_kw = rk->deviation = NAN;
    rk->mms_state = -1;
    rk->n_servers = 0;
  }
  for (int i = 0; i < rows; i++) {
    snprintf(v->crahs[i].row, sizeof v->crahs[i].row, "%c", 'A' + i);
    v->crahs[i].fan_pct = v->crahs[i].supply_c = NAN;
  }

  /* the sample's rack and CRAH rows */
  uint64_t first = 0, cnt = 0;
  if (sk_recording_find_at(r->rec, SK_TABLE_RACKS, ts, &first, &cnt) != SK_OK)
    goto io;
  if (cnt > SK_VIZ_MAX_RACKS)
    cnt = SK_VIZ_MAX_RACKS;
  if (cnt && sk_recording_read(r->rec, SK_TABLE_RACKS, first, (size_t)cnt, r->rbuf) != SK_OK)
    goto io;
  for (size_t i = 0; i < cnt; i++) {
    int j = rack_index(m, r->rbuf[i].rack_id, i);
    if (j < 0)
      continue;
    sk_viz_rack *rk = &v->racks[j];
    rk->inlet_c = r->rbuf[i].inlet_c;
    rk->outlet_c = r->rbuf[i].outlet_c;
    rk->pdu_kw = r->rbuf[i].pdu_kw;
    rk->n_servers = r->rbuf[i].n_servers;
  }
  if (sk_recording_find_at(r->rec, SK_TABLE_CRAH, ts, &first, &cnt) != SK_OK)
    goto io;
  if (cnt > SK_MAX_ROWS)
    cnt = SK_MAX_ROWS;
  if (cnt && sk_recording_read(r->rec, SK_TABLE_CRAH, first, (size_t)cnt, r->cbuf) != SK_OK)
    goto io;
  for (size_t i = 0; i < cnt; i++) {
    int row = r->cbuf[i].row[0] - 'A';
    if (row < 0 || row >= rows)
      continue;
    v->crahs[row].fan_pct = r->cbuf[i].fan_pct;
    v->crahs[row].supply_c = r->cbuf[i].supply_c;
  }

  /* the monitor's latest tick at or before the sample */
  v->have_monitor = 0;
  long mk = last_at_or_before(r->mon_t, r->n_mon, ts);
  if (mk >= 0) {
    if (sk_recording_find_at(r->rec, SK_TABLE_MONITOR, r->mon_t[mk], &first, &cnt) != SK_OK)
      goto io;
    if (cnt > SK_VIZ_MAX_RACKS)
      cnt = SK_VIZ_MAX_RACKS;
    if (cnt && sk_recording_read(r->rec, SK_TABLE_MONITOR, first, (size_t)cnt, r->mbuf) != SK_OK)
      goto io;
    for (size_t i = 0; i < cnt; i++) {
      int j = rack_index(m, r->mbuf[i].rack_id, i);
      if (j < 0)
        continue;
      v->racks[j].deviation = r->mbuf[i].deviation;
      v->racks[j].mms_state = r->mbuf[i].state;
    }
    v->have_monitor = cnt > 0;
  }

  /* KPIs up to the sample */
  v->wh_per_prompt = r->wh_cum[k];
  v->cf_wh_per_prompt = r->cf_wh;
  v->saved_pct = r->saved_pct;
  v->cf_whole_run = 1;
  v->ttft_p95_ms = r->ttft[k];
  v->pue = r->pue_cum[k];
  sk_summary s;
  memset(&s, 0, sizeof s);
  s.inlet_samples = (double)(k + 1) * (double)m->n_racks;
  s.inlet_breach_samples = s.inlet_samples - r->ok_cum[k];
  v->compliance_pct = sk_summary_compliance_floor(&s, 2);

  /* mode and kill switch as the commands left them */
  snprintf(v->mode, sizeof v->mode, "%s", r->mode0);
  v->kill_switch = r->kill0;
  for (size_t i = 0; i < r->n_cmd && r->cmd[i].ts <= ts; i++) {
    if (strcmp(r->cmd[i].kind, "mode") == 0) {
      snprintf(v->mode, sizeof v->mode, "%.15s", r->cmd[i].value);
    } else if (strcmp(r->cmd[i].kind, "kill_switch") == 0) {
      v->kill_switch = strcmp(r->cmd[i].value, "true") == 0;
    }
  }

  /* the latest actions that changed something or were advised, newest first */
  v->n_actions = 0;
  long a = (long)r->n_act - 1;
  while (a >= 0 && r->act[a].ts > ts)
    a--;
  for (; a >= 0 && v->n_actions < SK_VIZ_MAX_ACTIONS; a--)
    if (sk_viz_action_listed(&r->act[a]))
      v->actions[v->n_actions++] = r->act[a];

  v->series[SK_VIZ_CHART_WH] = (sk_viz_series){r->t, r->wh, (int)r->n_room};
  v->series[SK_VIZ_CHART_TTFT] = (sk_viz_series){r->t, r->ttft, (int)r->n_room};
  v->series[SK_VIZ_CHART_IMS] = (sk_viz_series){r->mon_t, r->mon_max, (int)r->n_mon};
  v->markers = r->markers;
  v->n_markers = (int)r->n_markers;
  return 0;
io:
  snprintf(err, errlen, "%s", sk_recording_error(r->rec));
  return 1;
}
