/*
 * main.c -- `skadi-viz`: the room on screen, from a recording or a run of its own.
 *
 *   skadi-viz RUN.h5                      replay a recording in a window
 *   skadi-viz SCENARIO.json               run the scenario in a session of its own
 *   skadi-viz RUN.h5 --at 00:12:30 --snapshot out.png --size 1280x800   (headless)
 *
 * Policy decided here: which source an argument names (a .json file is a scenario, any
 * other file must be a recording), flags, the window and its keys, headless output.
 * Drawing is render.c's, the data replay.c's and live.c's.
 *
 * Headless output never opens a window: the software renderer draws into a memory
 * surface (SDL_CreateSoftwareRenderer), so no video driver is needed at all, and the
 * surface is written as a PNG with libpng.
 *
 * Exit status: 0 done; 2 bad input (flags, a missing file, a file that is not a Skadi
 * recording, a bad scenario, an endpoint that cannot be reached); 1 anything else (SDL,
 * the font, an output that cannot be written, a run that failed).
 */
#define _POSIX_C_SOURCE 200809L

#include <SDL.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "image.h"
#include "live.h"
#include "remote.h"
#include "render.h"
#include "replay.h"
#include "view.h"

#define ERR_LEN 1024

static void usage(FILE *f) {
  fputs("usage: skadi-viz RUN.h5 [options]          replay a recording\n"
        "       skadi-viz SCENARIO.json [options]   run a scenario in a session of its own\n"
        "       skadi-viz --connect tcp://HOST:PORT show a twin served elsewhere (skadi serve\n"
        "                                           --engine-only; its command endpoint)\n"
        "\n"
        "Shows the room (rows x racks coloured by a metric, each row's CRAH), the KPIs, the\n"
        "charts and the latest actions.  With --snapshot it draws one picture headless (no\n"
        "window, no display needed) and exits.  Keys in the window: h.  Docs: docs/VIZ.md.\n"
        "\n"
        "options:\n"
        "  --at TIME          sim time to show: HH:MM:SS, MM:SS, or seconds (750, 750s, 12.5m,\n"
        "                     2h); replay: the latest sample at or before it; scenario: the\n"
        "                     run is stepped to it (snapshot).  Default: the end for a\n"
      "                     snapshot, the first sample for a replay window\n"
        "  --snapshot PNG     draw headless to PNG and exit\n"
        "  --dump PATH        with --snapshot: what was drawn (KPI tiles' text, each cell's\n"
        "                     rectangle, value and colour, the colour scale) as JSON; - = stdout\n"
        "  --size WxH         picture or window size in pixels (default 1280x800)\n"
        "  --metric NAME      grid colour: inlet (default), outlet, power, ims\n"
        "  --speed max|Nx     replay speed (default 60x) or the run's pacing (default 60x)\n"
        "  --font PATH        a monospace TTF (default " SK_VIZ_DEFAULT_FONT ")\n"
        "  --software         window: use SDL's software renderer\n"
        "  --headless         scenario: run to the end drawing frames offscreen, then print\n"
        "                     the run's pace and the frames drawn (a pacing check)\n"
        "  --frame-delay-ms N with --headless: make each frame N ms slower (a slow window)\n"
        "  --keys LIST        press these keys, one a frame (tests, demos), and print the\n"
        "                     view's state at exit: m space plus minus 0 left right home end\n"
        "                     o k h q, wait (a frame), size=WxH (resize the window)\n"
        "  --pub ENDPOINT     with --connect: the twin's frame endpoint (default: port + 1)\n"
        "  --timeout S        with --connect: wait this long for the twin (default 3)\n"
        "scenario options (as skadi run's):\n"
        "  --mode MODE        off (default), on, advisory, closed_loop\n"
        "  --duration TIME    simulated time: 600, 10m, 2h (default: the scenario's)\n"
        "  --seed N           run seed\n"
        "  --set KEY=VALUE    override a setting (repeatable)\n"
        "  --out PATH         record the run to PATH (default: no recording); --force\n"
        "  -h, --help         this help\n"
        "\n"
        "Exit status: 0 done, 1 failure (SDL, font, output), 2 bad input (flags, a missing\n"
        "file, a file that is not a Skadi recording, a bad scenario, an unreachable endpoint).\n"
        "Example: skadi-viz runs/hs.h5 --at 01:05:00 --metric power --snapshot hs.png\n",
        f);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("skadi-viz: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (see skadi-viz --help)\n", stderr);
  return 2;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("skadi-viz: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

/* A plain decimal number (digits and one '.'): no sign, exponent, hex or nan. */
static int plain_number(const char *s, size_t n, double *out) {
  if (n == 0 || n > 20)
    return 0;
  int dots = 0, digits = 0;
  char buf[32];
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '.')
      dots++;
    else if (isdigit((unsigned char)s[i]))
      digits++;
    else
      return 0;
    buf[i] = s[i];
  }
  buf[n] = '\0';
  if (dots > 1 || digits == 0)
    return 0;
  *out = strtod(buf, NULL);
  return isfinite(*out);
}

/* "HH:MM:SS", "MM:SS", "750", "750s", "12.5m", "2h" into seconds. */
int sk_viz_parse_time(const char *text, double *out);
int sk_viz_parse_time(const char *text, double *out) {
  size_t n = strlen(text);
  const char *c1 = strchr(text, ':');
  if (c1) {
    double part[3];
    int k = 0;
    const char *p = text;
    for (;;) {
      const char *c = strchr(p, ':');
      size_t len = c ? (size_t)(c - p) : strlen(p);
      if (k == 3 || !plain_number(p, len, &part[k]))
        return 0;
      k++;
      if (!c)
        break;
      p = c + 1;
    }
    if (k < 2)
      return 0;
    for (int i = 1; i < k; i++)
      if (part[i] >= 60)
        return 0;
    *out = k == 3 ? part[0] * 3600 + part[1] * 60 + part[2] : part[0] * 60 + part[1];
    return 1;
  }
  double mul = 1;
  if (n > 0 && strchr("smh", text[n - 1])) {
    mul = text[n - 1] == 's' ? 1 : text[n - 1] == 'm' ? 60 : 3600;
    n--;
  }
  double v;
  if (!plain_number(text, n, &v))
    return 0;
  *out = v * mul;
  return 1;
}

static int parse_size(const char *text, int *w, int *h) {
  const char *x = strchr(text, 'x');
  double a, b;
  if (!x || !plain_number(text, (size_t)(x - text), &a) ||
      !plain_number(x + 1, strlen(x + 1), &b) || a != floor(a) || b != floor(b))
    return 0;
  if (a < 320 || a > 7680 || b < 240 || b > 4320)
    return 0;
  *w = (int)a;
  *h = (int)b;
  return 1;
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- the dump ----------------------------------------------------------------------------- */

static int write_dump(const char *path, const sk_viz_view *v, const sk_viz_drawn *d) {
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return fail("out of memory");
  cJSON_AddNumberToObject(o, "t_s", v->t_s);
  cJSON_AddStringToObject(o, "metric", sk_viz_metric_name(v->metric));
  cJSON_AddNumberToObject(o, "width", d->w);
  cJSON_AddNumberToObject(o, "height", d->h);
  cJSON *sc = cJSON_AddObjectToObject(o, "scale");
  cJSON_AddNumberToObject(sc, "lo", d->scale_lo);
  cJSON_AddNumberToObject(sc, "hi", d->scale_hi);
  cJSON_AddNumberToObject(sc, "hot_frac", SK_VIZ_HOT_FRAC);
  cJSON *tiles = cJSON_AddArrayToObject(o, "tiles");
  for (int i = 0; i < SK_VIZ_TILES; i++) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", d->tiles[i].name);
    cJSON_AddStringToObject(t, "value", d->tiles[i].value);
    cJSON_AddStringToObject(t, "sub", d->tiles[i].sub);
    cJSON_AddItemToArray(tiles, t);
  }
  cJSON *cells = cJSON_AddArrayToObject(o, "cells");
  for (int i = 0; i < d->n_cells; i++) {
    const sk_viz_drawn_cell *c = &d->cells[i];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "rack_id", c->id);
    cJSON_AddNumberToObject(e, "x", c->cell.x);
    cJSON_AddNumberToObject(e, "y", c->cell.y);
    cJSON_AddNumberToObject(e, "w", c->cell.w);
    cJSON_AddNumberToObject(e, "h", c->cell.h);
    cJSON_AddNumberToObject(e, "probe_x", c->probe_x);
    cJSON_AddNumberToObject(e, "probe_y", c->probe_y);
    if (isnan(c->value))
      cJSON_AddNullToObject(e, "value");
    else
      cJSON_AddNumberToObject(e, "value", c->value);
    cJSON_AddNumberToObject(e, "r", c->color.r);
    cJSON_AddNumberToObject(e, "g", c->color.g);
    cJSON_AddNumberToObject(e, "b", c->color.b);
    cJSON_AddBoolToObject(e, "over_limit", c->over_limit);
    cJSON_AddItemToArray(cells, e);
  }
  char *text = cJSON_Print(o);
  cJSON_Delete(o);
  if (!text)
    return fail("out of memory");
  int rc = 0;
  if (strcmp(path, "-") == 0) {
    printf("%s\n", text);
  } else {
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0) {
      rc = fail("%s: cannot write: %s", path, strerror(errno));
    }
  }
  free(text);
  return rc;
}

/* ---- options and the source ------------------------------------------------------------- */

typedef struct {
  const char *source, *connect, *snapshot, *dump, *font, *mode, *out;
  double at_s;
  int have_at;
  int w, h;
  sk_viz_metric metric;
  double speed;
  int have_speed;
  int software, headless, frame_delay_ms, force;
  const char *keys; /* --keys: a scripted key per frame (tests, demos) */
  const char *pub;  /* --pub: the twin's frame endpoint */
  double timeout_s; /* --timeout: for the twin's hello and first frames */
  double duration_s;
  int have_seed;
  unsigned long long seed;
  const char *sets[64];
  int n_sets;
} options;

typedef struct {
  sk_viz_replay *rp;
  sk_viz_live *lv;
  sk_viz_remote *rm;
  double play_t; /* replay position, s */
  double speed;  /* replay speed */
  int paused;    /* replay */
} source;

static int open_source(const options *o, source *src, char *err, size_t errlen) {
  memset(src, 0, sizeof *src);
  if (o->connect)
    return sk_viz_remote_connect(&src->rm, o->connect, o->pub, o->timeout_s, err, errlen);
  struct stat st;
  if (stat(o->source, &st) != 0) {
    snprintf(err, errlen, "%s: no such file", o->source);
    return 2;
  }
  if (S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: is a directory, not a recording or a scenario", o->source);
    return 2;
  }
  if (ends_with(o->source, ".json")) {
    sk_session_config cfg;
    sk_session_config_init(&cfg);
    cfg.scenario_path = o->source;
    cfg.sets = o->sets;
    cfg.n_sets = o->n_sets;
    cfg.duration_s = o->duration_s;
    cfg.have_seed = o->have_seed;
    cfg.seed = o->seed;
    cfg.mode = o->mode;
    cfg.record_path = o->out;
    cfg.force = o->force;
    cfg.threads = 2;
    cfg.source = "viz";
    const char *slash = strrchr(o->source, '/');
    char title[96];
    snprintf(title, sizeof title, "live %s", slash ? slash + 1 : o->source);
    return sk_viz_live_create(&src->lv, &cfg, o->have_speed ? o->speed : 60, title, err, errlen);
  }
  int rc = sk_viz_replay_open(&src->rp, o->source, err, errlen);
  if (rc == 0) {
    src->speed = o->have_speed ? o->speed : 60;
    src->play_t = o->have_at ? o->at_s : sk_viz_replay_first_s(src->rp);
  }
  return rc;
}

/* Returns 1 when the live run's end failed (its message printed), else 0. */
static int close_source(source *src) {
  sk_viz_replay_close(src->rp);
  sk_viz_remote_close(src->rm);
  if (!src->lv)
    return 0;
  char err[ERR_LEN], rec[4096];
  if (sk_viz_live_destroy(src->lv, err, sizeof err, rec, sizeof rec) != 0)
    return fail("%s", err);
  if (rec[0])
    fprintf(stderr, "skadi-viz: recording: %s\n", rec);
  return 0;
}

static int fill(source *src, sk_viz_view *v, char *err, size_t errlen) {
  if (src->rp) {
    if (sk_viz_replay_fill(src->rp, src->play_t, v, err, errlen) != 0)
      return 1;
    v->speed = src->speed;
    v->paused = src->paused;
    return 0;
  }
  if (src->rm) {
    sk_viz_remote_poll(src->rm);
    sk_viz_remote_fill(src->rm, v);
    return 0;
  }
  sk_viz_live_fill(src->lv, v);
  return 0;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Waits for a twin's first frames and overview, at most the timeout: 0, or 1 with a
 * message. */
static int wait_remote(const options *o, source *src) {
  double t0 = wall_now();
  while (sk_viz_remote_poll(src->rm), !sk_viz_remote_ready(src->rm)) {
    if (wall_now() - t0 > o->timeout_s)
      return fail("--connect %s: the twin answered but sent no frames within %g s (is it "
                  "paused, or --pub wrong?)",
                  o->connect, o->timeout_s);
    SDL_Delay(10);
  }
  return 0;
}

/* ---- headless snapshot ------------------------------------------------------------------ */

static int snapshot(const options *o, source *src, sk_viz_view *v) {
  char err[ERR_LEN];
  if (src->rp) {
    double first = sk_viz_replay_first_s(src->rp), last = sk_viz_replay_last_s(src->rp);
    if (o->have_at && (o->at_s > last + 1e-9))
      return bad("--at: %.0f s is past the recording's last sample (%.0f s; samples from "
                 "%.0f s)",
                 o->at_s, last, first);
    src->play_t = o->have_at ? o->at_s : last;
  } else if (src->rm) {
    if (wait_remote(o, src) != 0)
      return 1;
  } else {
    if (o->have_at && o->at_s > sk_viz_live_end_s(src->lv) + 1e-9)
      return bad("--at: %.0f s is past the run's end (%.0f s)", o->at_s,
                 sk_viz_live_end_s(src->lv));
    double t = o->have_at ? o->at_s : INFINITY;
    if (sk_viz_live_run_to(src->lv, t, err, sizeof err) != 0)
      return fail("%s", err);
  }
  if (fill(src, v, err, sizeof err) != 0)
    return fail("%s", err);
  v->metric = o->metric;

  SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, o->w, o->h, 32, SDL_PIXELFORMAT_ARGB8888);
  if (!surf)
    return fail("cannot make a %dx%d picture: %s", o->w, o->h, SDL_GetError());
  SDL_Renderer *r = SDL_CreateSoftwareRenderer(surf);
  if (!r) {
    SDL_FreeSurface(surf);
    return fail("software renderer: %s", SDL_GetError());
  }
  sk_viz_gfx *g = NULL;
  int rc = 0;
  if (sk_viz_gfx_create(&g, r, o->font, err, sizeof err) != 0) {
    rc = fail("%s", err);
  } else {
    sk_viz_drawn *d = malloc(sizeof *d);
    if (!d) {
      rc = fail("out of memory");
    } else {
      sk_viz_render(g, v, o->w, o->h, d);
      SDL_RenderPresent(r);
      if (sk_viz_png_write(o->snapshot, surf, err, sizeof err) != 0)
        rc = fail("%s", err);
      else if (o->dump)
        rc = write_dump(o->dump, v, d);
      free(d);
    }
  }
  sk_viz_gfx_destroy(g);
  SDL_DestroyRenderer(r);
  SDL_FreeSurface(surf);
  return rc;
}

/* ---- the window ------------------------------------------------------------------------- */

/* Steers the run: a command to the viz's own session, or the protocol's op to a twin
 * elsewhere (pause and speed through `pace`, docs/PROTOCOL.md). */
static void post(source *src, sk_viz_view *v, sk_command_kind kind, const char *value) {
  char err[ERR_LEN];
  if (src->rm) {
    char args[160];
    const char *op = "pace";
    switch (kind) {
    case SK_CMD_PAUSE:
      snprintf(args, sizeof args, "{\"paused\": %s}", value);
      break;
    case SK_CMD_SPEED:
      snprintf(args, sizeof args, "{\"speed\": \"%s\"}", value);
      break;
    case SK_CMD_MODE:
      op = "mode_set";
      snprintf(args, sizeof args, "{\"mode\": \"%s\"}", value);
      break;
    case SK_CMD_KILL_SWITCH:
      op = "kill_switch";
      snprintf(args, sizeof args, "{\"enabled\": %s}", value);
      break;
    default:
      return;
    }
    sk_viz_remote_request(src->rm, op, args);
    return;
  }
  if (sk_viz_live_post(src->lv, kind, value, err, sizeof err) != 0)
    snprintf(v->status, sizeof v->status, "%.120s", err);
}

static double clamp_speed(double s) {
  return s < 0.25 ? 0.25 : s > 65536 ? 65536 : s;
}

/* Applies a key; returns 1 to quit. */
static int on_key(source *src, sk_viz_view *v, SDL_Keycode key, Uint16 mod) {
  char buf[32];
  double step = (mod & KMOD_SHIFT) ? 600 : 60;
  switch (key) {
  case SDLK_q:
  case SDLK_ESCAPE:
    return 1;
  case SDLK_h:
  case SDLK_QUESTION:
  case SDLK_SLASH:
    v->help = !v->help;
    break;
  case SDLK_m:
    v->metric = (sk_viz_metric)((v->metric + 1) % SK_VIZ_METRIC_COUNT);
    break;
  case SDLK_SPACE:
    if (src->rp)
      src->paused = !src->paused;
    else
      post(src, v, SK_CMD_PAUSE, v->paused ? "false" : "true");
    break;
  case SDLK_PLUS:
  case SDLK_EQUALS:
  case SDLK_KP_PLUS:
  case SDLK_MINUS:
  case SDLK_KP_MINUS: {
    int up = key == SDLK_PLUS || key == SDLK_EQUALS || key == SDLK_KP_PLUS;
    double cur = src->rp ? src->speed : v->speed;
    if (!(cur > 0)) /* max: down goes to a paced speed, up stays */
      cur = up ? 0 : 8192;
    double next = cur > 0 ? clamp_speed(up ? cur * 2 : cur / 2) : 0;
    if (src->rp) {
      src->speed = next > 0 ? next : src->speed;
    } else {
      if (next > 0)
        snprintf(buf, sizeof buf, "%g", next);
      else
        snprintf(buf, sizeof buf, "max");
      post(src, v, SK_CMD_SPEED, buf);
    }
    break;
  }
  case SDLK_0:
    if (src->rp)
      src->speed = 60;
    else
      post(src, v, SK_CMD_SPEED, "max");
    break;
  case SDLK_LEFT:
  case SDLK_RIGHT:
  case SDLK_HOME:
  case SDLK_END:
    if (src->rp) {
      double first = sk_viz_replay_first_s(src->rp), last = sk_viz_replay_last_s(src->rp);
      if (key == SDLK_HOME)
        src->play_t = first;
      else if (key == SDLK_END)
        src->play_t = last;
      else
        src->play_t += key == SDLK_LEFT ? -step : step;
      if (src->play_t < first)
        src->play_t = first;
      if (src->play_t > last)
        src->play_t = last;
    } else if (src->rm && strcmp(sk_viz_remote_kind(src->rm), "replay") == 0) {
      double t = key == SDLK_HOME  ? 0
                 : key == SDLK_END ? v->end_s
                                   : v->t_s + (key == SDLK_LEFT ? -step : step);
      char args[64];
      snprintf(args, sizeof args, "{\"seek\": %.3f}", t < 0 ? 0 : t);
      sk_viz_remote_request(src->rm, "pace", args);
    } else {
      snprintf(v->status, sizeof v->status, "seeking is for replays: a live run only goes on");
    }
    break;
  case SDLK_o:
    if (src->lv || (src->rm && v->live)) {
      const char *next = strcmp(v->mode, "off") == 0        ? "advisory"
                         : strcmp(v->mode, "advisory") == 0 ? "closed_loop"
                                                            : "off";
      post(src, v, SK_CMD_MODE, next);
      snprintf(v->status, sizeof v->status, "mode -> %s (at the next control boundary)", next);
    } else {
      snprintf(v->status, sizeof v->status, "mode is the recording's: replay cannot change it");
    }
    break;
  case SDLK_k:
    if (src->lv || (src->rm && v->live))
      post(src, v, SK_CMD_KILL_SWITCH, v->kill_switch ? "false" : "true");
    break;
  default:
    break;
  }
  return 0;
}

/* Pushes the key (or resize) named by item as an SDL event: 0, or -1 for an unknown
 * name.  "wait" pushes nothing (a frame goes by). */
static int scripted_key(SDL_Window *win, const char *item) {
  static const struct {
    const char *name;
    SDL_Keycode key;
  } keys[] = {{"m", SDLK_m},         {"space", SDLK_SPACE}, {"plus", SDLK_PLUS},
              {"minus", SDLK_MINUS}, {"0", SDLK_0},         {"left", SDLK_LEFT},
              {"right", SDLK_RIGHT}, {"home", SDLK_HOME},   {"end", SDLK_END},
              {"o", SDLK_o},         {"k", SDLK_k},         {"h", SDLK_h},
              {"q", SDLK_q}};
  if (strcmp(item, "wait") == 0)
    return 0;
  int w, h;
  if (strncmp(item, "size=", 5) == 0 && parse_size(item + 5, &w, &h)) {
    if (win)
      SDL_SetWindowSize(win, w, h);
    return 0;
  }
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strcmp(item, keys[i].name) == 0) {
      SDL_Event e;
      memset(&e, 0, sizeof e);
      e.type = SDL_KEYDOWN;
      e.key.keysym.sym = keys[i].key;
      SDL_PushEvent(&e);
      return 0;
    }
  return -1;
}

/* The view's state in one line (after a --keys script); w x h as last drawn. */
static void report_view(const source *src, const sk_viz_view *v, int w, int h) {
  printf("view: t %.0f s, metric %s, speed %g, paused %d, mode %s, kill switch %d, help %d, "
         "%s, size %dx%d\n",
         v->t_s, sk_viz_metric_name(v->metric), src->rp ? src->speed : v->speed,
         src->rp ? src->paused : v->paused, v->mode, v->kill_switch, v->help,
         src->rp   ? "replay"
         : src->rm ? "remote"
                   : "live",
         w, h);
  fflush(stdout);
}

/* "max" for 0, else "60x". */
static void fmt_speed_arg(char *out, size_t n, double speed) {
  if (speed > 0)
    snprintf(out, n, "%gx", speed);
  else
    snprintf(out, n, "max");
}

/* Draws frames until the window closes (or, headless, until the run ends). */
static int run_window(const options *o, source *src, sk_viz_view *v) {
  char err[ERR_LEN];
  SDL_Window *win = NULL;
  SDL_Surface *surf = NULL;
  SDL_Renderer *r = NULL;
  if (o->headless) {
    surf = SDL_CreateRGBSurfaceWithFormat(0, o->w, o->h, 32, SDL_PIXELFORMAT_ARGB8888);
    r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
  } else {
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0)
      return fail("no display to open a window on (%s); --snapshot draws without one",
                  SDL_GetError());
    win = SDL_CreateWindow("skadi-viz", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, o->w,
                           o->h, SDL_WINDOW_RESIZABLE);
    if (win) {
      SDL_SetWindowMinimumSize(win, 800, 500);
      r = SDL_CreateRenderer(win, -1, o->software ? SDL_RENDERER_SOFTWARE : 0);
      if (!r)
        r = SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
    }
  }
  if (!r) {
    int rc = fail("cannot open a window or renderer: %s", SDL_GetError());
    if (win)
      SDL_DestroyWindow(win);
    SDL_FreeSurface(surf);
    return rc;
  }
  sk_viz_gfx *g = NULL;
  int rc = 0;
  if (sk_viz_gfx_create(&g, r, o->font, err, sizeof err) != 0) {
    rc = fail("%s", err);
    goto out;
  }
  if (src->lv && sk_viz_live_start(src->lv, err, sizeof err) != 0) {
    rc = fail("%s", err);
    goto out;
  }
  v->metric = o->metric;
  if (src->rm && wait_remote(o, src) != 0) {
    rc = 1;
    goto out;
  }
  if (fill(src, v, err, sizeof err) != 0) { /* keys act on what is shown: fill first */
    rc = fail("%s", err);
    goto out;
  }
  double last = wall_now();
  long frames = 0;
  int drawn_w = o->w, drawn_h = o->h;
  int quit = 0;
  const char *script = o->keys;
  while (!quit) {
    if (script && *script) {
      char item[32];
      size_t len = strcspn(script, ",");
      snprintf(item, sizeof item, "%.*s", (int)(len < 31 ? len : 31), script);
      script += len + (script[len] == ',');
      if (scripted_key(win, item) != 0) {
        rc = bad("--keys: '%s' is not a key this script knows", item);
        break;
      }
    }
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
      if (e.type == SDL_QUIT)
        quit = 1;
      else if (e.type == SDL_KEYDOWN)
        quit |= on_key(src, v, e.key.keysym.sym, e.key.keysym.mod);
    }
    double now = wall_now();
    if (src->rp && !src->paused) {
      src->play_t += (now - last) * src->speed;
      double end = sk_viz_replay_last_s(src->rp);
      if (src->play_t >= end) {
        src->play_t = end;
        src->paused = 1;
      }
    }
    last = now;
    char status[sizeof v->status];
    snprintf(status, sizeof status, "%s", v->status);
    if (fill(src, v, err, sizeof err) != 0) {
      rc = fail("%s", err);
      break;
    }
    if (!v->status[0] && status[0] && src->rp)
      snprintf(v->status, sizeof v->status, "%s", status);
    int w = o->w, h = o->h;
    if (!o->headless)
      SDL_GetRendererOutputSize(r, &w, &h); /* follows resizes */
    sk_viz_render(g, v, w, h, NULL);
    drawn_w = w;
    drawn_h = h;
    SDL_RenderPresent(r);
    frames++;
    if (o->headless) {
      if (o->frame_delay_ms > 0)
        SDL_Delay((Uint32)o->frame_delay_ms);
      if (!src->lv || sk_viz_live_done(src->lv))
        break;
    }
    /* ~30 frames a second at most; a slower frame just means fewer of them */
    double spent = wall_now() - now;
    if (spent < 1.0 / 30)
      SDL_Delay((Uint32)((1.0 / 30 - spent) * 1000));
  }
  if (o->keys)
    report_view(src, v, drawn_w, drawn_h);
  if (o->headless && src->lv) {
    double wall_s, sim_s;
    sk_viz_live_pace(src->lv, &wall_s, &sim_s);
    char asked[32];
    fmt_speed_arg(asked, sizeof asked, o->have_speed ? o->speed : 60);
    printf("run: %.0f s of sim time in %.3f s of wall time (%.0fx real time, asked %s); "
           "%ld frames drawn\n",
           sim_s, wall_s, wall_s > 0 ? sim_s / wall_s : 0, asked, frames);
    if (sk_viz_live_error(src->lv)[0])
      rc = fail("%s", sk_viz_live_error(src->lv));
  }
out:
  sk_viz_gfx_destroy(g);
  SDL_DestroyRenderer(r);
  if (win)
    SDL_DestroyWindow(win);
  SDL_FreeSurface(surf);
  return rc;
}

/* ---- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  options o;
  memset(&o, 0, sizeof o);
  o.w = 1280;
  o.h = 800;
  o.metric = SK_VIZ_INLET;
  o.duration_s = NAN;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    }
    if (a[0] != '-' || strcmp(a, "-") == 0) {
      if (o.source)
        return bad("one source at a time: '%s' and '%s'", o.source, a);
      o.source = a;
      continue;
    }
    int flag_only =
        strcmp(a, "--software") == 0 || strcmp(a, "--headless") == 0 || strcmp(a, "--force") == 0;
    if (flag_only) {
      if (strcmp(a, "--software") == 0)
        o.software = 1;
      else if (strcmp(a, "--headless") == 0)
        o.headless = 1;
      else
        o.force = 1;
      continue;
    }
    static const char *const with_value[] = {
        "--at",   "--snapshot", "--dump",   "--size", "--metric", "--speed",          "--font",
        "--mode", "--duration", "--seed",   "--set",  "--out",    "--frame-delay-ms", "--connect",
        "--keys", "--pub",      "--timeout"};
    int known = 0;
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
      known |= strcmp(a, with_value[k]) == 0;
    if (!known)
      return bad("unknown option '%s'", a);
    if (i + 1 >= argc)
      return bad("%s needs a value", a);
    const char *val = argv[++i];
    if (strcmp(a, "--at") == 0) {
      if (!sk_viz_parse_time(val, &o.at_s))
        return bad("--at: '%s' is not a time (HH:MM:SS, MM:SS or seconds like 750, 12.5m)", val);
      o.have_at = 1;
    } else if (strcmp(a, "--snapshot") == 0) {
      o.snapshot = val;
    } else if (strcmp(a, "--dump") == 0) {
      o.dump = val;
    } else if (strcmp(a, "--size") == 0) {
      if (!parse_size(val, &o.w, &o.h))
        return bad("--size: '%s' is not WIDTHxHEIGHT within 320x240 .. 7680x4320", val);
    } else if (strcmp(a, "--metric") == 0) {
      if (sk_viz_metric_parse(val, &o.metric) != 0)
        return bad("--metric: '%s' is not inlet, outlet, power or ims", val);
    } else if (strcmp(a, "--speed") == 0) {
      if (!sk_parse_speed(val, &o.speed))
        return bad("--speed: '%s' is not 'max' or a positive factor like 60x", val);
      o.have_speed = 1;
    } else if (strcmp(a, "--font") == 0) {
      o.font = val;
    } else if (strcmp(a, "--mode") == 0) {
      o.mode = val;
    } else if (strcmp(a, "--duration") == 0) {
      if (!sk_viz_parse_time(val, &o.duration_s) || !(o.duration_s > 0))
        return bad("--duration: '%s' is not a positive time (seconds, 10m, 2h)", val);
    } else if (strcmp(a, "--seed") == 0) {
      double s;
      if (!plain_number(val, strlen(val), &s) || s != floor(s) || s > 9e15)
        return bad("--seed: '%s' is not a whole number", val);
      o.seed = (unsigned long long)s;
      o.have_seed = 1;
    } else if (strcmp(a, "--set") == 0) {
      if (o.n_sets == (int)(sizeof o.sets / sizeof o.sets[0]))
        return bad("--set: at most %d", (int)(sizeof o.sets / sizeof o.sets[0]));
      o.sets[o.n_sets++] = val;
    } else if (strcmp(a, "--out") == 0) {
      o.out = val;
    } else if (strcmp(a, "--frame-delay-ms") == 0) {
      double d;
      if (!plain_number(val, strlen(val), &d) || d > 10000 || d != floor(d))
        return bad("--frame-delay-ms: '%s' is not a whole number of ms up to 10000", val);
      o.frame_delay_ms = (int)d;
    } else if (strcmp(a, "--connect") == 0) {
      o.connect = val;
    } else if (strcmp(a, "--keys") == 0) {
      o.keys = val;
    } else if (strcmp(a, "--pub") == 0) {
      o.pub = val;
    } else if (strcmp(a, "--timeout") == 0) {
      if (!sk_viz_parse_time(val, &o.timeout_s) || !(o.timeout_s > 0) || o.timeout_s > 3600)
        return bad("--timeout: '%s' is not a time in s up to 3600", val);
    }
  }
  if (o.connect) {
    if (o.source)
      return bad("--connect and a source file ('%s'): one or the other", o.source);
    if (!((strncmp(o.connect, "tcp://", 6) == 0 && strchr(o.connect + 6, ':')) ||
          strncmp(o.connect, "ipc://", 6) == 0))
      return bad("--connect: '%s' is not tcp://HOST:PORT (or ipc://PATH)", o.connect);
    if (o.mode || o.out || o.n_sets || o.have_seed || !isnan(o.duration_s) || o.headless ||
        o.have_speed || o.have_at)
      return bad("--connect shows the twin as it runs: --mode, --out, --set, --seed, "
                 "--duration, --speed, --at and --headless are not for it (keys steer it)");
  } else if (o.pub) {
    return bad("--pub goes with --connect");
  }
  if (!o.source && !o.connect)
    return bad("no recording or scenario given");
  if (o.timeout_s == 0)
    o.timeout_s = 3;
  int is_scenario = o.source && ends_with(o.source, ".json");
  if (o.dump && !o.snapshot)
    return bad("--dump goes with --snapshot");
  if (o.headless && (!is_scenario || o.snapshot))
    return bad("--headless runs a scenario (a .json file) without --snapshot");
  if (o.source && !is_scenario &&
      (o.mode || o.out || o.n_sets || o.have_seed || !isnan(o.duration_s)))
    return bad("--mode, --out, --set, --seed and --duration are for a scenario, not a "
               "recording");
  if (o.have_at && is_scenario && !o.snapshot)
    return bad("--at with a scenario goes with --snapshot (a live run starts at 0)");

  sk_viz_view *v = malloc(sizeof *v);
  if (!v)
    return fail("out of memory");
  sk_viz_view_init(v);
  if (SDL_Init(0) != 0) {
    free(v);
    return fail("SDL: %s", SDL_GetError());
  }
  char err[ERR_LEN];
  source src;
  int rc = open_source(&o, &src, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "skadi-viz: %s\n", err);
  } else {
    rc = o.snapshot ? snapshot(&o, &src, v) : run_window(&o, &src, v);
    if (close_source(&src) != 0 && rc == 0)
      rc = 1;
  }
  free(v);
  SDL_Quit();
  return rc;
}
