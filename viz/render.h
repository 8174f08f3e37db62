/*
 * render.h -- draws a view (view.h) into any SDL_Renderer: a window's, or a software
 * renderer over a surface for a headless snapshot or the benchmark.  Nothing here opens a
 * window or reads a clock.
 *
 * Text comes from SDL2_ttf with DejaVu Sans Mono (Debian fonts-dejavu-core): each size is
 * rasterised once into a glyph atlas texture, and a string is one SDL_RenderCopy per
 * character, which the software renderer does fast.
 *
 * What was drawn is reported back (sk_viz_drawn): every cell's rectangle, its colour and a
 * probe pixel that nothing else covers, and every KPI tile's text.  `skadi-viz --dump`
 * prints it and the tests check the picture against the recording with it.
 */
#ifndef SKADI_VIZ_RENDER_H
#define SKADI_VIZ_RENDER_H

#include <SDL.h>
#include <stddef.h>

#include "view.h"

/* The font when none is given: DejaVu Sans Mono from Debian's fonts-dejavu-core. */
#define SK_VIZ_DEFAULT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

typedef struct sk_viz_gfx sk_viz_gfx;

/* Fonts and atlases for renderer r (borrowed; it must outlive the handle).  font_path
 * NULL: SK_VIZ_DEFAULT_FONT.  Returns 0, or -1 with a message in err (a font that cannot
 * be opened names the file and the Debian package).  Free with sk_viz_gfx_destroy. */
int sk_viz_gfx_create(sk_viz_gfx **out, SDL_Renderer *r, const char *font_path, char *err,
                      size_t errlen);
void sk_viz_gfx_destroy(sk_viz_gfx *g); /* NULL: no-op */

/* The colour scale: frac 0 (cold, dark blue) .. 1 (hot, dark red), clamped; NaN grey. */
SDL_Color sk_viz_color(double frac);
/* Where the hot part of the scale starts (yellow to red). */
#define SK_VIZ_HOT_FRAC 0.6

/* The range the grid's colours span for metric m in view v: a fixed range per metric
 * (inlet 15-35 °C, outlet 20-55 °C, power 0-20 kW, IMS 0-8), widened to hold every
 * value drawn so that nothing saturates unseen. */
void sk_viz_scale_range(const sk_viz_view *v, sk_viz_metric m, double *lo, double *hi);

typedef struct {
  char id[SK_RACK_ID_LEN];
  SDL_Rect cell;
  int probe_x, probe_y; /* a pixel of the cell nothing else is drawn on */
  double value;         /* of the view's metric (NaN: grey) */
  SDL_Color color;
  int over_limit; /* inlet above inlet_max_c: outlined */
} sk_viz_drawn_cell;

typedef struct {
  char name[24];  /* "wh_per_prompt", "ttft_p95", "compliance", "pue", "time", "speed" */
  char value[48]; /* the big text */
  char sub[96];   /* the line under it */
} sk_viz_drawn_tile;

#define SK_VIZ_TILES 6

typedef struct {
  int w, h;
  double scale_lo, scale_hi;
  int n_cells;
  sk_viz_drawn_cell cells[SK_VIZ_MAX_RACKS];
  sk_viz_drawn_tile tiles[SK_VIZ_TILES];
} sk_viz_drawn;

/* Draws v over the whole w x h target of g's renderer (cleared first; not presented).
 * drawn (may be NULL) receives what was drawn. */
void sk_viz_render(sk_viz_gfx *g, const sk_viz_view *v, int w, int h, sk_viz_drawn *drawn);

#endif
