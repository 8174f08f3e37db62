/*
 * render.c -- the room, its KPIs, charts and actions drawn into an SDL_Renderer.
 *
 * Layout is recomputed from the target size on every frame (a resized window just draws
 * at its new size): a header line; the room grid on the left with the colour scale under
 * it; the KPI tiles and the latest actions on the right; three charts along the bottom;
 * a footer line.  The grid scales its cells to whatever room it is given (72 racks or
 * 1,000): text goes into a cell only when it fits.
 *
 * Cost: everything is fills, lines and glyph copies from one atlas per font size; a
 * chart reduces its series to one min/max pair per pixel column first, so a day of
 * samples costs no more than a minute of them.  tests/bench/bench_viz measures it.
 *
 * Rejected: drawing text with per-string TTF surfaces (a texture per string per frame
 * cost ~1 ms a dozen strings with the software renderer); pixel plots through
 * SDL_RenderDrawPoint (slow per call).
 */
#include "render.h"

#include <SDL_ttf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_GLYPH 32
#define LAST_GLYPH 126
#define N_GLYPHS (LAST_GLYPH - FIRST_GLYPH + 1)

typedef struct {
  SDL_Texture *atlas; /* white glyphs on transparent, one row */
  int w, h;           /* advance and line height, px */
  int cell_h;         /* atlas cell height (>= h), px */
} font;

struct sk_viz_gfx {
  SDL_Renderer *r;
  font small, big;
  int ttf_inited;
};

static const SDL_Color BG = {18, 20, 26, 255}, PANEL = {30, 33, 42, 255}, FG = {225, 228, 235, 255},
                       DIM = {140, 146, 160, 255}, WARN = {255, 90, 90, 255},
                       GOOD = {110, 220, 130, 255}, ACCENT = {120, 180, 255, 255};

static int font_load(font *f, SDL_Renderer *r, const char *path, int px, char *err, size_t errlen) {
  TTF_Font *tf = TTF_OpenFont(path, px);
  if (!tf) {
    snprintf(err, errlen,
             "font %s: %s (install Debian's fonts-dejavu-core, or give another "
             "monospace TTF with --font)",
             path, TTF_GetError());
    return -1;
  }
  int adv = 0;
  if (TTF_GlyphMetrics(tf, 'M', NULL, NULL, NULL, NULL, &adv) != 0 || adv <= 0)
    adv = px / 2 + 1;
  int lh = TTF_FontHeight(tf);
  /* Glyph surfaces can be taller than the line (the underscore sits below the descent in
   * DejaVu): the atlas cells take the tallest, the line advance stays lh. */
  SDL_Surface *gs[N_GLYPHS] = {0};
  SDL_Color white = {255, 255, 255, 255};
  int cell_h = lh;
  for (int c = FIRST_GLYPH + 1; c <= LAST_GLYPH; c++) {
    gs[c - FIRST_GLYPH] = TTF_RenderGlyph_Blended(tf, (Uint16)c, white);
    if (gs[c - FIRST_GLYPH] && gs[c - FIRST_GLYPH]->h > cell_h)
      cell_h = gs[c - FIRST_GLYPH]->h;
  }
  SDL_Surface *atlas =
      SDL_CreateRGBSurfaceWithFormat(0, adv * N_GLYPHS, cell_h, 32, SDL_PIXELFORMAT_ARGB8888);
  if (!atlas) {
    snprintf(err, errlen, "font atlas: %s", SDL_GetError());
    for (int i = 0; i < N_GLYPHS; i++)
      SDL_FreeSurface(gs[i]);
    TTF_CloseFont(tf);
    return -1;
  }
  SDL_FillRect(atlas, NULL, SDL_MapRGBA(atlas->format, 255, 255, 255, 0));
  for (int i = 0; i < N_GLYPHS; i++) {
    SDL_Surface *g = gs[i];
    if (!g)
      continue;
    SDL_SetSurfaceBlendMode(g, SDL_BLENDMODE_NONE);
    SDL_Rect dst = {i * adv, 0, g->w < adv ? g->w : adv, g->h};
    SDL_Rect src = {0, 0, dst.w, dst.h};
    SDL_BlitSurface(g, &src, atlas, &dst);
    SDL_FreeSurface(g);
  }
  TTF_CloseFont(tf);
  f->atlas = SDL_CreateTextureFromSurface(r, atlas);
  SDL_FreeSurface(atlas);
  if (!f->atlas) {
    snprintf(err, errlen, "font texture: %s", SDL_GetError());
    return -1;
  }
  SDL_SetTextureBlendMode(f->atlas, SDL_BLENDMODE_BLEND);
  f->w = adv;
  f->h = lh;
  f->cell_h = cell_h;
  return 0;
}

int sk_viz_gfx_create(sk_viz_gfx **out, SDL_Renderer *r, const char *font_path, char *err,
                      size_t errlen) {
  *out = NULL;
  sk_viz_gfx *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  g->r = r;
  if (TTF_Init() != 0) {
    snprintf(err, errlen, "SDL_ttf: %s", TTF_GetError());
    free(g);
    return -1;
  }
  g->ttf_inited = 1;
  const char *path = font_path ? font_path : SK_VIZ_DEFAULT_FONT;
  if (font_load(&g->small, r, path, 12, err, errlen) != 0 ||
      font_load(&g->big, r, path, 20, err, errlen) != 0) {
    sk_viz_gfx_destroy(g);
    return -1;
  }
  *out = g;
  return 0;
}

void sk_viz_gfx_destroy(sk_viz_gfx *g) {
  if (!g)
    return;
  if (g->small.atlas)
    SDL_DestroyTexture(g->small.atlas);
  if (g->big.atlas)
    SDL_DestroyTexture(g->big.atlas);
  if (g->ttf_inited)
    TTF_Quit();
  free(g);
}

/* Draws s at (x, y) (top left); returns the width drawn.  Characters outside printable
 * ASCII draw as '?'. */
static int text(sk_viz_gfx *g, const font *f, int x, int y, SDL_Color c, const char *s) {
  SDL_SetTextureColorMod(f->atlas, c.r, c.g, c.b);
  SDL_SetTextureAlphaMod(f->atlas, c.a);
  int x0 = x;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++, x += f->w) {
    int ch = (*p >= FIRST_GLYPH && *p <= LAST_GLYPH) ? *p : '?';
    if (ch == ' ')
      continue;
    SDL_Rect src = {(ch - FIRST_GLYPH) * f->w, 0, f->w, f->cell_h};
    SDL_Rect dst = {x, y, f->w, f->cell_h};
    SDL_RenderCopy(g->r, f->atlas, &src, &dst);
  }
  return x - x0;
}

static int text_w(const font *f, const char *s) {
  return (int)strlen(s) * f->w;
}

/* text() cut to at most max_w pixels. */
static void text_clip(sk_viz_gfx *g, const font *f, int x, int y, SDL_Color c, const char *s,
                      int max_w) {
  char buf[256];
  int maxc = f->w > 0 ? max_w / f->w : 0;
  if (maxc <= 0)
    return;
  snprintf(buf, sizeof buf, "%s", s);
  if ((int)strlen(buf) > maxc)
    buf[maxc] = '\0';
  text(g, f, x, y, c, buf);
}

static void set(SDL_Renderer *r, SDL_Color c) {
  SDL_SetRenderDrawColor(r, c.r, c.g, c.b, c.a);
}

static void fill(SDL_Renderer *r, int x, int y, int w, int h, SDL_Color c) {
  if (w <= 0 || h <= 0)
    return;
  set(r, c);
  SDL_Rect rc = {x, y, w, h};
  SDL_RenderFillRect(r, &rc);
}

static void frame(SDL_Renderer *r, int x, int y, int w, int h, int thick, SDL_Color c) {
  fill(r, x, y, w, thick, c);
  fill(r, x, y + h - thick, w, thick, c);
  fill(r, x, y, thick, h, c);
  fill(r, x + w - thick, y, thick, h, c);
}

/* ---- colour scale ----------------------------------------------------------------------- */

/* Dark blue, blue, cyan, green, yellow, orange, dark red: cold to hot.  The hot part
 * (SK_VIZ_HOT_FRAC and above) runs from yellow to red. */
static const struct {
  double at;
  unsigned char r, g, b;
} STOPS[] = {{0.0, 20, 30, 110},  {0.15, 40, 90, 200}, {0.3, 40, 180, 210}, {0.45, 70, 190, 90},
             {0.6, 235, 215, 50}, {0.8, 240, 120, 30}, {1.0, 175, 20, 25}};

SDL_Color sk_viz_color(double frac) {
  SDL_Color c = {90, 90, 96, 255};
  if (isnan(frac))
    return c;
  if (frac < 0)
    frac = 0;
  if (frac > 1)
    frac = 1;
  size_t n = sizeof STOPS / sizeof STOPS[0];
  for (size_t i = 1; i < n; i++) {
    if (frac <= STOPS[i].at || i == n - 1) {
      double u = (frac - STOPS[i - 1].at) / (STOPS[i].at - STOPS[i - 1].at);
      c.r = (Uint8)lround(STOPS[i - 1].r + u * (STOPS[i].r - STOPS[i - 1].r));
      c.g = (Uint8)lround(STOPS[i - 1].g + u * (STOPS[i].g - STOPS[i - 1].g));
      c.b = (Uint8)lround(STOPS[i - 1].b + u * (STOPS[i].b - STOPS[i - 1].b));
      return c;
    }
  }
  return c;
}

void sk_viz_scale_range(const sk_viz_view *v, sk_viz_metric m, double *lo, double *hi) {
  static const double fixed[SK_VIZ_METRIC_COUNT][2] = {
      {15, 35}, {20, 55}, {0, 12}, {0, 8}}; /* power: one 8-GPU server tops out near 10 kW */
  double a = fixed[m][0], b = fixed[m][1];
  for (int i = 0; i < v->n_racks; i++) {
    double x = sk_viz_rack_value(&v->racks[i], m);
    if (isnan(x) || isinf(x))
      continue;
    if (x < a)
      a = floor(x);
    if (x > b)
      b = ceil(x);
  }
  *lo = a;
  *hi = b;
}

static double frac_of(double x, double lo, double hi) {
  if (isnan(x))
    return NAN;
  return hi > lo ? (x - lo) / (hi - lo) : 0.5;
}

/* ---- formatting ------------------------------------------------------------------------- */

static void fmt_hms(char *out, size_t n, double s) {
  if (isnan(s) || s < 0)
    s = 0;
  long t = (long)floor(s);
  snprintf(out, n, "%02ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

/* x with prec decimals (a sign when sign), then suffix; "--" when x is not finite. */
static void fmt_num(char *out, size_t n, double x, int prec, int sign, const char *suffix) {
  if (isnan(x) || isinf(x))
    snprintf(out, n, "--");
  else if (sign)
    snprintf(out, n, "%+.*f%s", prec, x, suffix);
  else
    snprintf(out, n, "%.*f%s", prec, x, suffix);
}

static void fmt_speed(char *out, size_t n, double speed) {
  if (!(speed > 0))
    snprintf(out, n, "max");
  else
    snprintf(out, n, "%gx", speed);
}

/* ---- parts ------------------------------------------------------------------------------ */

static void draw_header(sk_viz_gfx *g, const sk_viz_view *v, int w) {
  fill(g->r, 0, 0, w, 26, PANEL);
  char buf[256];
  char sp[24];
  fmt_speed(sp, sizeof sp, v->speed);
  snprintf(buf, sizeof buf, "metric %s  |  mode %s%s  |  %s%s", sk_viz_metric_name(v->metric),
           v->mode[0] ? v->mode : "-", v->kill_switch ? " (KILL SWITCH)" : "", sp,
           v->paused ? "  PAUSED" : "");
  int right = w - 8 - text_w(&g->small, buf);
  text(g, &g->small, right, 6, v->paused ? WARN : DIM, buf);
  snprintf(buf, sizeof buf, "SKADI  %s  %s", v->title, v->scenario);
  text_clip(g, &g->small, 8, 6, FG, buf, right - 24);
}

static void draw_legend(sk_viz_gfx *g, const sk_viz_view *v, int x, int y, int w, double lo,
                        double hi) {
  static const char *unit[SK_VIZ_METRIC_COUNT] = {"C", "C", "kW", ""};
  static const char *label[SK_VIZ_METRIC_COUNT] = {"rack inlet", "rack outlet", "rack power",
                                                   "IMS deviation D(x)"};
  char buf[96];
  snprintf(buf, sizeof buf, "%s%s%s%s", label[v->metric], unit[v->metric][0] ? " (" : "",
           unit[v->metric], unit[v->metric][0] ? ")" : "");
  text(g, &g->small, x, y, DIM, buf);
  int bx = x + text_w(&g->small, buf) + 10, bw = w - (bx - x) - 4, bh = 10;
  if (bw < 40)
    return;
  for (int i = 0; i < bw; i++) {
    SDL_Color c = sk_viz_color((double)i / (double)(bw - 1));
    fill(g->r, bx + i, y + 2, 1, bh, c);
  }
  /* ticks: ends, quarters; the inlet limit on the inlet scale */
  for (int k = 0; k <= 4; k++) {
    double val = lo + (hi - lo) * k / 4.0;
    int px = bx + (int)lround((bw - 1) * k / 4.0);
    fill(g->r, px, y + 2 + bh, 1, 3, FG);
    snprintf(buf, sizeof buf, "%g", round(val * 10) / 10);
    int tw = text_w(&g->small, buf);
    int tx = px - tw / 2;
    if (tx < bx)
      tx = bx;
    if (tx + tw > bx + bw)
      tx = bx + bw - tw;
    text(g, &g->small, tx, y + bh + 5, FG, buf);
  }
  if (v->metric == SK_VIZ_INLET && !isnan(v->inlet_max_c) && v->inlet_max_c >= lo &&
      v->inlet_max_c <= hi) {
    int px = bx + (int)lround((bw - 1) * frac_of(v->inlet_max_c, lo, hi));
    fill(g->r, px - 1, y - 1, 3, bh + 6, FG);
  }
}

static SDL_Color text_on(SDL_Color bg) {
  double lum = 0.299 * bg.r + 0.587 * bg.g + 0.114 * bg.b;
  SDL_Color dark = {10, 10, 10, 255}, light = {245, 245, 245, 255};
  return lum > 140 ? dark : light;
}

static void draw_grid(sk_viz_gfx *g, const sk_viz_view *v, int x, int y, int w, int h,
                      sk_viz_drawn *d) {
  double lo, hi;
  sk_viz_scale_range(v, v->metric, &lo, &hi);
  if (d) {
    d->scale_lo = lo;
    d->scale_hi = hi;
    d->n_cells = 0;
  }
  int legend_h = 34;
  int rows = v->n_rows > 0 ? v->n_rows : 1, per = v->racks_per_row > 0 ? v->racks_per_row : 1;
  int fh = g->small.h;
  int label_w = 16;
  int row_gap = h > 40 * rows ? 6 : 1;
  int row_h = (h - legend_h - row_gap * (rows - 1)) / rows;
  if (row_h < 3)
    row_h = 3;
  int crah_w = row_h >= fh + 2 ? (w > 600 ? 110 : 80) : 0;
  int gx = x + label_w + crah_w + (crah_w ? 6 : 0);
  int cell_gap = (w - (gx - x)) / per > 14 ? 3 : 1;
  int cell_w = (w - (gx - x) - cell_gap * (per - 1)) / per;
  if (cell_w < 2)
    cell_w = 2;
  int cell_text = cell_w >= 4 * g->small.w + 8 && row_h >= 2 * fh + 8;

  for (int r = 0; r < v->n_rows; r++) {
    int ry = y + r * (row_h + row_gap);
    char buf[64];
    snprintf(buf, sizeof buf, "%c", 'A' + r);
    if (row_h >= fh)
      text(g, &g->small, x + 2, ry + (row_h - fh) / 2, FG, buf);
    if (crah_w) {
      const sk_viz_crah *c = &v->crahs[r];
      fill(g->r, x + label_w, ry, crah_w, row_h, PANEL);
      char fan[32], sup[32];
      fmt_num(fan, sizeof fan, c->fan_pct, 0, 0, "%");
      fmt_num(sup, sizeof sup, c->supply_c, 1, 0, "C");
      if (row_h >= 3 * fh + 4) {
        snprintf(buf, sizeof buf, "CRAH %s", c->row[0] ? c->row : "?");
        text(g, &g->small, x + label_w + 4, ry + 2, DIM, buf);
        snprintf(buf, sizeof buf, "fan %s", fan);
        text(g, &g->small, x + label_w + 4, ry + 2 + fh, FG, buf);
        snprintf(buf, sizeof buf, "sup %s", sup);
        text(g, &g->small, x + label_w + 4, ry + 2 + 2 * fh, FG, buf);
      } else {
        snprintf(buf, sizeof buf, "%s %s", fan, sup);
        text(g, &g->small, x + label_w + 2, ry + (row_h - fh) / 2, FG, buf);
      }
    }
  }

  for (int i = 0; i < v->n_racks; i++) {
    const sk_viz_rack *rk = &v->racks[i];
    if (rk->row < 0 || rk->row >= v->n_rows || rk->pos < 0 || rk->pos >= per)
      continue;
    int cx = gx + rk->pos * (cell_w + cell_gap), cy = y + rk->row * (row_h + row_gap);
    double val = sk_viz_rack_value(rk, v->metric);
    SDL_Color c = sk_viz_color(frac_of(val, lo, hi));
    fill(g->r, cx, cy, cell_w, row_h, c);
    int over = !isnan(v->inlet_max_c) && rk->inlet_c > v->inlet_max_c;
    int th = cell_w >= 12 && row_h >= 12 ? 3 : 1;
    if (over) {
      SDL_Color white = {255, 255, 255, 255}, black = {0, 0, 0, 255};
      frame(g->r, cx, cy, cell_w, row_h, th, white);
      if (th > 1)
        frame(g->r, cx + th, cy + th, cell_w - 2 * th, row_h - 2 * th, 1, black);
    }
    /* MMS: persistent = a filled magenta square, transient = a small hollow one */
    int ms = cell_w >= 14 && row_h >= 14 ? 7 : 0;
    if (ms && rk->mms_state >= 0) {
      SDL_Color mag = {255, 60, 220, 255}, ink = text_on(c);
      int mx = cx + cell_w - ms - th - 1, my = cy + th + 1;
      if (rk->mms_state == 1)
        fill(g->r, mx, my, ms, ms, mag);
      else
        frame(g->r, mx + 1, my + 1, ms - 2, ms - 2, 1, ink);
    }
    if (cell_text) {
      SDL_Color ink = text_on(c);
      char buf[32];
      snprintf(buf, sizeof buf, "%02d", rk->pos + 1);
      text(g, &g->small, cx + th + 2, cy + th + 1, ink, buf);
      fmt_num(buf, sizeof buf, val, v->metric == SK_VIZ_IMS ? 2 : 1, 0, "");
      text(g, &g->small, cx + th + 2, cy + th + 1 + fh, ink, buf);
    }
    if (d) {
      sk_viz_drawn_cell *dc = &d->cells[d->n_cells++];
      memcpy(dc->id, rk->id, sizeof dc->id);
      dc->cell = (SDL_Rect){cx, cy, cell_w, row_h};
      /* lower left quarter: below the text (top half), left of the MMS mark, inside the
       * outline */
      dc->probe_x = cx + cell_w / 4;
      dc->probe_y = cy + row_h - 1 - (row_h / 4 > th + 1 ? row_h / 4 : th + 1);
      if (dc->probe_x < cx + th + 1 && cell_w > 2 * th + 2)
        dc->probe_x = cx + th + 1;
      dc->value = val;
      dc->color = c;
      dc->over_limit = over;
    }
  }
  draw_legend(g, v, x, y + h - legend_h + 8, w, lo, hi);
}

static void tile(sk_viz_gfx *g, int x, int y, int w, int h, const char *label, const char *value,
                 SDL_Color vc, const char *sub, sk_viz_drawn_tile *dt, const char *name) {
  fill(g->r, x, y, w, h, PANEL);
  text_clip(g, &g->small, x + 8, y + 4, DIM, label, w - 16);
  text_clip(g, &g->big, x + 8, y + 4 + g->small.h, vc, value, w - 16);
  if (h >= g->small.h * 2 + g->big.h + 8)
    text_clip(g, &g->small, x + 8, y + 6 + g->small.h + g->big.h, DIM, sub, w - 16);
  if (dt) {
    snprintf(dt->name, sizeof dt->name, "%s", name);
    snprintf(dt->value, sizeof dt->value, "%s", value);
    snprintf(dt->sub, sizeof dt->sub, "%s", sub);
  }
}

static void draw_tiles(sk_viz_gfx *g, const sk_viz_view *v, int x, int y, int w, int th,
                       sk_viz_drawn *d) {
  int tw = (w - 8) / 2;
  char val[48], sub[96], a[32], b[32];
  sk_viz_drawn_tile *dt = d ? d->tiles : NULL;
#define NEXT_TILE (dt ? dt++ : NULL)

  fmt_num(val, sizeof val, v->wh_per_prompt, 4, 0, "");
  if (isnan(v->cf_wh_per_prompt)) {
    snprintf(sub, sizeof sub, "no counterfactual");
  } else {
    fmt_num(a, sizeof a, v->cf_wh_per_prompt, 4, 0, "");
    fmt_num(b, sizeof b, v->saved_pct, 2, 1, "");
    snprintf(sub, sizeof sub, "cf %s saved %s%%%s", a, b, v->cf_whole_run ? " (run)" : "");
  }
  tile(g, x, y, tw, th, "Wh/prompt", val, FG, sub, NEXT_TILE, "wh_per_prompt");

  fmt_num(val, sizeof val, v->ttft_p95_ms, 1, 0, " ms");
  fmt_num(a, sizeof a, v->sla_ms, 0, 0, " ms");
  int over = v->ttft_p95_ms > v->sla_ms;
  snprintf(sub, sizeof sub, "SLA %s %s", a, isnan(v->ttft_p95_ms) ? "" : over ? "OVER" : "met");
  tile(g, x + tw + 8, y, tw, th, "TTFT p95 (sample)", val, over ? WARN : GOOD, sub, NEXT_TILE,
       "ttft_p95");

  y += th + 8;
  fmt_num(val, sizeof val, v->compliance_pct, 2, 0, " %");
  fmt_num(a, sizeof a, v->inlet_max_c, 1, 0, " C");
  snprintf(sub, sizeof sub, "inlet <= %s, since start", a);
  tile(g, x, y, tw, th, "Inlet compliance", val, v->compliance_pct < 100 ? WARN : GOOD, sub,
       NEXT_TILE, "compliance");

  fmt_num(val, sizeof val, v->pue, 3, 0, "");
  snprintf(sub, sizeof sub, "facility / IT, since start");
  tile(g, x + tw + 8, y, tw, th, "PUE", val, FG, sub, NEXT_TILE, "pue");

  y += th + 8;
  fmt_hms(val, sizeof val, v->t_s);
  fmt_hms(a, sizeof a, v->end_s);
  if (!isnan(v->start_hour)) {
    double clock = fmod(v->start_hour * 3600 + v->t_s, 86400);
    fmt_hms(b, sizeof b, clock);
    snprintf(sub, sizeof sub, "of %s, clock %s", a, b);
  } else {
    snprintf(sub, sizeof sub, "of %s", a);
  }
  tile(g, x, y, tw, th, "Sim time", val, FG, sub, NEXT_TILE, "time");

  fmt_speed(val, sizeof val, v->speed);
  if (v->paused)
    snprintf(val + strlen(val), sizeof val - strlen(val), " paused");
  snprintf(sub, sizeof sub, "%s, mode %s%s", v->live ? "live session" : "replay",
           v->mode[0] ? v->mode : "-", v->kill_switch ? ", KILL" : "");
  tile(g, x + tw + 8, y, tw, th, "Speed", val, v->paused ? WARN : FG, sub, NEXT_TILE, "speed");
#undef NEXT_TILE
}

static void draw_actions(sk_viz_gfx *g, const sk_viz_view *v, int x, int y, int w, int h) {
  fill(g->r, x, y, w, h, PANEL);
  text_clip(g, &g->small, x + 8, y + 4, DIM,
            "Latest actions (saving predicted/realized; rejected: chart ticks)", w - 16);
  int fh = g->small.h, ly = y + 6 + fh;
  if (v->n_actions == 0)
    text(g, &g->small, x + 8, ly, DIM,
         v->mode[0] && strcmp(v->mode, "off") != 0 ? "none yet" : "none: the controller is off");
  int maxc = (w - 16) / g->small.w;
  for (int i = 0; i < v->n_actions && ly + fh <= y + h; i++, ly += fh) {
    const sk_action_record *a = &v->actions[i];
    char t[32], p[32], rz[32], buf[256];
    fmt_hms(t, sizeof t, a->ts);
    fmt_num(p, sizeof p, a->pred_saving_pct, 1, 1, "%");
    fmt_num(rz, sizeof rz, a->realized_saving_pct, 1, 1, "%");
    snprintf(buf, sizeof buf, "%s %-8s %s %s %+g%s %s/%s", t, a->decision, a->action, a->target,
             a->delta, a->unit, p, rz);
    if ((int)strlen(buf) > maxc && maxc > 0)
      buf[maxc] = '\0';
    SDL_Color c = FG;
    if (strcmp(a->decision, "rolled_back") == 0 || strcmp(a->decision, "rejected") == 0)
      c = WARN;
    else if (strcmp(a->decision, "applied") == 0 || strcmp(a->decision, "realized") == 0)
      c = GOOD;
    text(g, &g->small, x + 8, ly, c, buf);
  }
}

static SDL_Color marker_color(char k) {
  switch (k) {
  case 'a':
    return GOOD;
  case 'd':
    return (SDL_Color){235, 215, 50, 255};
  case 'r':
  case 'x':
    return WARN;
  default:
    return ACCENT;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The y range of a chart: the 1st to 99th percentile of up to 512 evenly spaced finite
 * points, so that one outlier (the first sample's Wh/prompt, before many prompts have
 * completed) does not flatten the rest; points beyond are drawn at the edge.  lo > hi
 * when there is nothing to draw. */
static void robust_range(const sk_viz_series *s, double *lo, double *hi) {
  enum { K = 512 };
  double pick[K];
  int n = 0, stride = s->n > K ? (s->n + K - 1) / K : 1;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int i = 0; i < s->n && n < K; i += stride)
    if (isfinite(s->v[i]))
      pick[n++] = s->v[i];
  if (s->n > 0 && isfinite(s->v[s->n - 1]) && n < K)
    pick[n++] = s->v[s->n - 1];
  if (n == 0)
    return;
  qsort(pick, (size_t)n, sizeof pick[0], cmp_double);
  *lo = pick[(n - 1) / 100];
  *hi = pick[(n - 1) - (n - 1) / 100];
}

static void draw_chart(sk_viz_gfx *g, const sk_viz_view *v, sk_viz_chart which, int x, int y, int w,
                       int h) {
  static const char *title[SK_VIZ_CHART_COUNT] = {"Wh/prompt (sample)", "TTFT p95 ms (sample)",
                                                  "IMS deviation, highest rack"};
  fill(g->r, x, y, w, h, PANEL);
  int fh = g->small.h;
  text(g, &g->small, x + 6, y + 3, DIM, title[which]);
  int px = x + 6 + 7 * g->small.w, py = y + fh + 8, pw = w - (px - x) - 8, ph = h - 2 * fh - 12;
  if (pw < 8 || ph < 8)
    return;
  fill(g->r, px, py, pw, ph, BG);
  const sk_viz_series *s = &v->series[which];
  double t1 = v->end_s > 0 ? v->end_s : 1;
  double lo, hi;
  robust_range(s, &lo, &hi);
  if (which == SK_VIZ_CHART_TTFT && !isnan(v->sla_ms) && hi < INFINITY && v->sla_ms < 2 * hi &&
      v->sla_ms > hi)
    hi = v->sla_ms; /* the SLA in view when it is near */
  char buf[32];
  if (lo > hi) {
    text(g, &g->small, px + 6, py + ph / 2 - fh / 2, DIM,
         which == SK_VIZ_CHART_IMS && strcmp(v->mode, "off") == 0 ? "no monitor: mode off"
                                                                  : "no data yet");
  } else {
    if (hi - lo < 1e-9 * (fabs(hi) + 1)) {
      lo -= 0.5 * (fabs(lo) * 0.05 + 1e-3);
      hi += 0.5 * (fabs(hi) * 0.05 + 1e-3);
    }
    double pad = (hi - lo) * 0.06;
    lo -= pad;
    hi += pad;
    snprintf(buf, sizeof buf, "%.4g", hi);
    text(g, &g->small, x + 4, py, DIM, buf);
    snprintf(buf, sizeof buf, "%.4g", lo);
    text(g, &g->small, x + 4, py + ph - fh, DIM, buf);
    /* one min/max pair per pixel column */
    enum { MAXW = 4096 };
    static SDL_Point pts[2 * MAXW];
    int cols = pw < MAXW ? pw : MAXW;
    int np = 0, cur = -1;
    double cmin = 0, cmax = 0;
    for (int i = 0; i <= s->n; i++) {
      int col = -2;
      double y0 = NAN;
      if (i < s->n) {
        y0 = s->v[i];
        if (isnan(y0) || isinf(y0))
          continue;
        col = (int)floor(s->t[i] / t1 * (cols - 1));
        if (col < 0)
          col = 0;
        if (col >= cols)
          col = cols - 1;
      }
      if (col != cur) {
        if (cur >= 0 && np + 2 <= 2 * MAXW) {
          double fa = (cmin - lo) / (hi - lo), fb = (cmax - lo) / (hi - lo);
          fa = fa < 0 ? 0 : fa > 1 ? 1 : fa;
          fb = fb < 0 ? 0 : fb > 1 ? 1 : fb;
          int ya = py + ph - 1 - (int)lround(fa * (ph - 1));
          int yb = py + ph - 1 - (int)lround(fb * (ph - 1));
          pts[np++] = (SDL_Point){px + cur, ya};
          pts[np++] = (SDL_Point){px + cur, yb};
        }
        cur = col;
        cmin = cmax = y0;
      } else {
        if (y0 < cmin)
          cmin = y0;
        if (y0 > cmax)
          cmax = y0;
      }
    }
    if (which == SK_VIZ_CHART_TTFT && !isnan(v->sla_ms) && v->sla_ms >= lo && v->sla_ms <= hi) {
      int sy = py + ph - 1 - (int)lround((v->sla_ms - lo) / (hi - lo) * (ph - 1));
      for (int xx = px; xx < px + pw; xx += 6)
        fill(g->r, xx, sy, 3, 1, WARN);
      text(g, &g->small, px + pw - 4 * g->small.w, sy - fh, WARN, "SLA");
    }
    set(g->r, ACCENT);
    if (np >= 2)
      SDL_RenderDrawLines(g->r, pts, np);
    else if (np == 1)
      SDL_RenderDrawPoint(g->r, pts[0].x, pts[0].y);
  }
  /* action and event markers: ticks along the bottom; events as a full line */
  for (int i = 0; i < v->n_markers; i++) {
    const sk_viz_marker *m = &v->markers[i];
    int mx = px + (int)lround(m->t_s / t1 * (pw - 1));
    if (mx < px || mx >= px + pw)
      continue;
    SDL_Color c = marker_color(m->kind);
    if (m->kind == 'e') {
      c.a = 255;
      for (int yy = py; yy < py + ph; yy += 4)
        fill(g->r, mx, yy, 1, 2, c);
    } else {
      fill(g->r, mx, py + ph - 7, 1, 7, c);
    }
  }
  /* cursor */
  int cx = px + (int)lround(v->t_s / t1 * (pw - 1));
  if (cx >= px && cx < px + pw)
    fill(g->r, cx, py, 1, ph, FG);
  fmt_hms(buf, sizeof buf, t1);
  text(g, &g->small, px + pw - text_w(&g->small, buf), py + ph + 1, DIM, buf);
}

static void draw_help(sk_viz_gfx *g, const sk_viz_view *v, int w, int h) {
  static const char *lines[] = {
      "Keys",
      "",
      "m           cycle the grid's metric: inlet, outlet, power, IMS deviation",
      "space       pause / resume",
      "+ / -       speed up / down (x2)",
      "0           as fast as possible (live) / 60x (replay)",
      "left/right  seek 1 min back / on (replay; shift: 10 min)",
      "home / end  seek to the start / end (replay)",
      "o           mode: off -> advisory -> closed_loop -> off (live)",
      "k           kill switch on / off (live)",
      "h or ?      this help",
      "q or esc    quit",
      "",
      "Cells: white outline = inlet above the limit; magenta square = MMS",
      "persistent deviation, hollow square = transient.  Chart ticks: green",
      "applied, yellow advised, red rolled back/rejected; dotted = scenario event.",
  };
  int n = (int)(sizeof lines / sizeof lines[0]);
  int bw = 76 * g->small.w + 24, bh = n * g->small.h + 24;
  if (bw > w - 20)
    bw = w - 20;
  int bx = (w - bw) / 2, by = (h - bh) / 2;
  SDL_SetRenderDrawBlendMode(g->r, SDL_BLENDMODE_BLEND);
  fill(g->r, 0, 0, w, h, (SDL_Color){0, 0, 0, 140});
  SDL_SetRenderDrawBlendMode(g->r, SDL_BLENDMODE_NONE);
  fill(g->r, bx, by, bw, bh, PANEL);
  frame(g->r, bx, by, bw, bh, 1, ACCENT);
  for (int i = 0; i < n; i++)
    text(g, &g->small, bx + 12, by + 12 + i * g->small.h, i == 0 ? ACCENT : FG, lines[i]);
  (void)v;
}

void sk_viz_render(sk_viz_gfx *g, const sk_viz_view *v, int w, int h, sk_viz_drawn *d) {
  SDL_Renderer *r = g->r;
  SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
  set(r, BG);
  SDL_RenderClear(r);
  if (d) {
    memset(d->tiles, 0, sizeof d->tiles);
    d->w = w;
    d->h = h;
  }
  draw_header(g, v, w);
  int fh = g->small.h;
  int top = 32, footer = fh + 6;
  int chart_h = (h - top - footer) * 28 / 100;
  if (chart_h < 90)
    chart_h = 90;
  int main_h = h - top - footer - chart_h - 8;
  int grid_w = w * 60 / 100;
  draw_grid(g, v, 8, top, grid_w - 16, main_h, d);
  int rx = grid_w, rw = w - grid_w - 8;
  int th = g->small.h * 2 + g->big.h + 10;
  draw_tiles(g, v, rx, top, rw, th, d);
  int ay = top + 3 * (th + 8);
  draw_actions(g, v, rx, ay, rw, top + main_h - ay);
  int cy = top + main_h + 8, cw = (w - 8 * 4) / 3;
  for (int i = 0; i < SK_VIZ_CHART_COUNT; i++)
    draw_chart(g, v, (sk_viz_chart)i, 8 + i * (cw + 8), cy, cw, chart_h);
  char foot[512];
  snprintf(foot, sizeof foot, "%s%sh: help  m: metric  space: pause  +/-: speed%s  q: quit",
           v->status, v->status[0] ? "   |   " : "",
           v->live ? "  o: mode  k: kill switch" : "  left/right: seek");
  text(g, &g->small, 8, h - fh - 3, DIM, foot);
  if (v->help)
    draw_help(g, v, w, h);
}
