/*
 * bench_viz.c -- cost of one frame of skadi-viz with SDL's software renderer: the view of
 * a 72-rack room (6 rows x 12) and of a 1,000-rack room (20 rows x 50), at 1280x800,
 * with a simulated day of chart points (8,640 per series), 8 actions and 500 markers.
 * The software renderer draws into a memory surface, as `--snapshot` does, so no display
 * is needed; a window's software renderer adds the copy to the screen.
 *
 * Prints ms per frame (mean and best of the frames after two warm-up frames); never fails
 * on time.  usage: bench_viz [FRAMES] [FONT]
 */
#include <SDL.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"
#include "view.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { POINTS = 8640, MARKERS = 500 };

static double st[POINTS], sv[3][POINTS];
static sk_viz_marker markers[MARKERS];

/* A view of rows x per racks with values that vary over the room (deterministic). */
static void make_view(sk_viz_view *v, int rows, int per) {
  sk_viz_view_init(v);
  snprintf(v->title, sizeof v->title, "bench %d racks", rows * per);
  snprintf(v->scenario, sizeof v->scenario, "synthetic");
  v->n_rows = rows;
  v->racks_per_row = per;
  v->n_racks = rows * per;
  v->inlet_max_c = 27;
  v->sla_ms = 250;
  v->t_s = 43200;
  v->end_s = 86400;
  v->speed = 60;
  v->start_hour = 0;
  v->have_monitor = 1;
  snprintf(v->mode, sizeof v->mode, "closed_loop");
  for (int i = 0; i < v->n_racks; i++) {
    sk_viz_rack *r = &v->racks[i];
    r->row = i / per;
    r->pos = i % per;
    snprintf(r->id, sizeof r->id, "R-%c-%02d", 'A' + r->row % 26, (r->pos + 1) % 100);
    double u = sin(i * 0.37) * 0.5 + 0.5;
    r->inlet_c = 18 + 11 * u;
    r->outlet_c = 30 + 15 * u;
    r->pdu_kw = 4 + 8 * u;
    r->deviation = 6 * u;
    r->mms_state = u > 0.8 ? 1 : 0;
    r->n_servers = 1;
  }
  for (int r = 0; r < rows; r++) {
    snprintf(v->crahs[r].row, sizeof v->crahs[r].row, "%c", 'A' + r % 26);
    v->crahs[r].fan_pct = 70;
    v->crahs[r].supply_c = 18;
  }
  v->wh_per_prompt = 0.66;
  v->cf_wh_per_prompt = 0.72;
  v->saved_pct = 8.3;
  v->ttft_p95_ms = 130;
  v->compliance_pct = 99.98;
  v->pue = 1.4;
  for (int c = 0; c < SK_VIZ_CHART_COUNT; c++)
    v->series[c] = (sk_viz_series){st, sv[c], POINTS};
  v->markers = markers;
  v->n_markers = MARKERS;
  v->n_actions = SK_VIZ_MAX_ACTIONS;
  for (int i = 0; i < SK_VIZ_MAX_ACTIONS; i++) {
    sk_action_record *a = &v->actions[i];
    memset(a, 0, sizeof *a);
    a->ts = 43000 - 60 * i;
    snprintf(a->decision, sizeof a->decision, "applied");
    snprintf(a->action, sizeof a->action, "crah_fan_speed");
    snprintf(a->target, sizeof a->target, "row C");
    snprintf(a->unit, sizeof a->unit, "%%");
    a->delta = -5;
    a->pred_saving_pct = 1.2;
    a->realized_saving_pct = 0.9;
  }
}

int main(int argc, char **argv) {
  int frames = argc > 1 ? atoi(argv[1]) : 60;
  const char *font = argc > 2 ? argv[2] : NULL;
  if (frames < 3)
    frames = 3;
  for (int i = 0; i < POINTS; i++) {
    st[i] = i * 10.0;
    sv[0][i] = 0.65 + 0.05 * sin(i * 0.01) + 0.01 * sin(i * 1.7);
    sv[1][i] = 130 + 20 * sin(i * 0.003) + 8 * sin(i * 2.1);
    sv[2][i] = 2 + sin(i * 0.02);
  }
  for (int i = 0; i < MARKERS; i++)
    markers[i] = (sk_viz_marker){i * 170.0, "adrxe"[i % 5]};

  int w = 1280, h = 800;
  SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
  SDL_Renderer *r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
  if (!r) {
    fprintf(stderr, "bench_viz: software renderer: %s\n", SDL_GetError());
    return 1;
  }
  char err[512];
  sk_viz_gfx *g;
  if (sk_viz_gfx_create(&g, r, font, err, sizeof err) != 0) {
    fprintf(stderr, "bench_viz: %s\n", err);
    return 1;
  }
  sk_viz_view *v = malloc(sizeof *v);
  if (!v)
    return 1;
  static const int rooms[][2] = {{6, 12}, {20, 50}};
  for (size_t k = 0; k < sizeof rooms / sizeof rooms[0]; k++) {
    make_view(v, rooms[k][0], rooms[k][1]);
    for (int m = 0; m < 2; m++) {
      v->metric = m == 0 ? SK_VIZ_INLET : SK_VIZ_POWER;
      double sum = 0, best = INFINITY;
      for (int f = 0; f < frames + 2; f++) {
        double t0 = now_s();
        sk_viz_render(g, v, w, h, NULL);
        SDL_RenderPresent(r);
        double dt = now_s() - t0;
        if (f >= 2) {
          sum += dt;
          if (dt < best)
            best = dt;
        }
      }
      printf("viz racks=%d size=%dx%d metric=%s renderer=software frames=%d ms_per_frame=%.2f "
             "best_ms=%.2f\n",
             v->n_racks, w, h, sk_viz_metric_name(v->metric), frames, 1e3 * sum / frames,
             1e3 * best);
    }
  }
  free(v);
  sk_viz_gfx_destroy(g);
  SDL_DestroyRenderer(r);
  SDL_FreeSurface(surf);
  return 0;
}
