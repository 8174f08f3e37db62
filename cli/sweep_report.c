/*
 * sweep_report.c -- `skadi sweep report SWEEP.h5 [--plot FRONT.svg]`: the per-point table,
 * the constraint verdicts and the Pareto fronts of a sweep file, printed; and a plot a
 * person can open in a browser.
 *
 * The SVG is written by hand (it is text): two panels, energy per prompt against TTFT
 * p95 and against the highest rack inlet, every point a dot (filled when it meets the
 * constraints, hollow when not), the front in red joined by a line, the default policy
 * a black diamond, the best passing point a green ring, the SLA and the inlet limit as
 * dashed lines.  No plotting library: one fewer dependency, and the file diffs as text.
 */
#define _POSIX_C_SOURCE 200809L

#include "sweep_report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "outfile.h"

long sk_sweep_table_best(const sk_sweep_table *t) {
  for (size_t p = 0; p < t->n_points; p++)
    if (t->points[p].best)
      return (long)p;
  return -1;
}

long sk_sweep_table_default(const sk_sweep_table *t) {
  for (size_t p = 0; p < t->n_points; p++)
    if (t->points[p].is_default)
      return (long)p;
  return -1;
}

/* ---- the terminal ---------------------------------------------------------------------------- */

static const char *short_key(const char *k) {
  const char *d = strrchr(k, '.');
  return d ? d + 1 : k;
}

/* A right-aligned number of width w (with its leading space), or "-" when NaN. */
static void num(FILE *f, int w, int prec, double v) {
  if (isnan(v))
    fprintf(f, "%*s", w, "-");
  else if (fabs(v) >= 1e6) /* a run gone wild (a model diverging): keep the columns */
    fprintf(f, "%*.1e", w, v);
  else
    fprintf(f, "%*.*f", w, prec, v);
}

static void print_point_line(FILE *f, const sk_sweep_table *t, size_t p) {
  const sk_sweep_point_stats *s = &t->points[p];
  char flags[8] = "     ";
  if (s->best)
    flags[0] = '*';
  if (s->is_default)
    flags[1] = 'D';
  if (s->front_ttft)
    flags[2] = 'T';
  if (s->front_inlet)
    flags[3] = 'I';
  fprintf(f, "%4zu %s", p, flags);
  for (size_t k = 0; k < t->n_params; k++) {
    double v = t->values[p * t->n_params + k];
    int w = (int)strlen(short_key(t->keys[k]));
    if (w < 8)
      w = 8;
    if (s->is_default)
      fprintf(f, " %*s", w, "-");
    else if (isnan(v)) /* a text value: take it from the label */
      fprintf(f, " %*s", w, "(text)");
    else
      fprintf(f, " %*.4g", w, v);
  }
  const double *m = s->mean;
  num(f, 10, 4, m[SK_SWEEP_M_WH_PER_PROMPT]);
  num(f, 8, 4, s->ci95[SK_SWEEP_M_WH_PER_PROMPT]); /* "-" with one seed */
  num(f, 10, 1, m[SK_SWEEP_M_TTFT_P95]);
  num(f, 8, 2, m[SK_SWEEP_M_MAX_INLET]);
  num(f, 6, 0, m[SK_SWEEP_M_INLET_OVER_LIMIT]);
  num(f, 6, 0, m[SK_SWEEP_M_SLA_WINDOWS_MISSED]);
  num(f, 8, 2, m[SK_SWEEP_M_SAVED_PCT]);
  fprintf(f, " %4d/%-4d %s\n", s->n_ok, s->n_ok + s->n_failed,
          s->pass ? "yes" : (s->complete ? "no" : "incomplete"));
}

static void print_report(FILE *f, const sk_sweep_table *t, const char *path) {
  size_t failed = 0;
  for (size_t i = 0; i < t->n_rows; i++)
    failed += t->rows[i].status != SK_SWEEP_RUN_OK;
  fprintf(f, "sweep %s (%s): %s, mode %s\n", t->name, path, t->scenario, t->mode);
  fprintf(f, "  %zu points, %zu runs recorded (%zu failed), %s; %.1f s wall on %d workers\n",
          t->n_points, t->n_rows, failed, t->status, t->wall_s, t->workers);
  double busy = 0;
  for (size_t i = 0; i < t->n_rows; i++)
    if (isfinite(t->rows[i].wall_s))
      busy += t->rows[i].wall_s;
  if (t->wall_s > 0)
    fprintf(f, "  the runs' own wall times sum to %.1f s: %.2f runs in flight on average\n", busy,
            busy / t->wall_s);
  fprintf(f, "  constraints (every seed of a point):");
  if (t->n_constraints == 0)
    fprintf(f, " none");
  for (size_t c = 0; c < t->n_constraints; c++)
    fprintf(f, "%s %s", c ? "," : "", t->constraints[c]);
  fputc('\n', f);
  fprintf(f, "\n  pt flag");
  for (size_t k = 0; k < t->n_params; k++) {
    int w = (int)strlen(short_key(t->keys[k]));
    fprintf(f, " %*s", w < 8 ? 8 : w, short_key(t->keys[k]));
  }
  fprintf(f, " Wh/prompt  ±CI95  TTFTp95ms inlet_C  >lim  >SLA  saved%%   ok/runs pass\n");
  for (size_t p = 0; p < t->n_points; p++)
    print_point_line(f, t, p);
  fprintf(f, "  flags: * best (lowest Wh/prompt meeting the constraints), D default settings,\n"
             "         T on the Wh/prompt-TTFT p95 front, I on the Wh/prompt-max inlet front;\n"
             "         figures are means over seeds; >lim inlet samples over the limit, >SLA\n"
             "         sample windows with TTFT p95 over the SLA\n");
  for (size_t k = 0; k < t->n_params; k++)
    fprintf(f, "  %s = %s\n", short_key(t->keys[k]), t->keys[k]);
  static const struct {
    const char *what;
    size_t off;
  } fronts[] = {{"TTFT p95", offsetof(sk_sweep_point_stats, front_ttft)},
                {"max inlet", offsetof(sk_sweep_point_stats, front_inlet)}};
  for (size_t k = 0; k < 2; k++) {
    fprintf(f, "\n  Pareto front, Wh/prompt vs %s (points meeting the constraints):\n",
            fronts[k].what);
    for (size_t p = 0; p < t->n_points; p++) {
      const sk_sweep_point_stats *s = &t->points[p];
      if (*(const int32_t *)((const char *)s + fronts[k].off))
        fprintf(f, "    %4zu  %.4f Wh/prompt  %s %.2f  %s\n", p, s->mean[SK_SWEEP_M_WH_PER_PROMPT],
                k ? "inlet degC" : "TTFT p95 ms",
                k ? s->mean[SK_SWEEP_M_MAX_INLET] : s->mean[SK_SWEEP_M_TTFT_P95], t->labels[p]);
    }
  }
  long b = sk_sweep_table_best(t), d = sk_sweep_table_default(t);
  fputc('\n', f);
  if (b < 0) {
    fprintf(f, "  best: no point meets every constraint\n");
  } else {
    double wb = t->points[b].mean[SK_SWEEP_M_WH_PER_PROMPT];
    fprintf(f, "  best: point %ld, %.4f Wh/prompt: %s\n", b, wb, t->labels[b]);
    if (d >= 0) {
      double wd = t->points[d].mean[SK_SWEEP_M_WH_PER_PROMPT];
      fprintf(f,
              "  default: point %ld, %.4f Wh/prompt (%s the constraints): the best uses "
              "%.2f %% less energy per prompt\n",
              d, wd, t->points[d].pass ? "meets" : "fails", 100.0 * (wd - wb) / wd);
    }
  }
}

/* ---- the SVG --------------------------------------------------------------------------------- */

static void xml_text(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    case '"':
      fputs("&quot;", f);
      break;
    default:
      fputc(*s, f);
    }
  }
}

/* A step of 1, 2 or 5 x 10^k giving about n ticks over [lo, hi]. */
static double nice_step(double lo, double hi, int n) {
  double raw = (hi - lo) / n;
  if (!(raw > 0))
    return 1;
  double mag = pow(10, floor(log10(raw))), r = raw / mag;
  return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

typedef struct {
  double x0, y0, w, h;       /* the plot area, px */
  double xlo, xhi, ylo, yhi; /* data range */
} frame;

static double px(const frame *fr, double x) {
  return fr->x0 + (x - fr->xlo) / (fr->xhi - fr->xlo) * fr->w;
}
static double py(const frame *fr, double y) {
  return fr->y0 + fr->h - (y - fr->ylo) / (fr->yhi - fr->ylo) * fr->h;
}

static void range_pad(double *lo, double *hi) {
  if (!isfinite(*lo) || !isfinite(*hi)) {
    *lo = 0;
    *hi = 1;
  }
  double span = *hi - *lo;
  if (span <= 0)
    span = fabs(*hi) > 0 ? fabs(*hi) * 0.1 : 1;
  *lo -= 0.08 * span;
  *hi += 0.08 * span;
}

static void panel(FILE *f, const sk_sweep_table *t, double ox, const char *ylabel,
                  sk_sweep_metric ym, int front_ttft, double limit, const char *limit_label) {
  frame fr = {ox + 70, 60, 380, 300, INFINITY, -INFINITY, INFINITY, -INFINITY};
  /* The axes span the passing points (all points when none passes), widened by failing
   * ones only when these are not far off: one diverged run must not squash the rest. */
  int any_pass = 0;
  for (size_t p = 0; p < t->n_points; p++)
    any_pass |= t->points[p].pass;
  for (int round = 0; round < 2; round++)
    for (size_t p = 0; p < t->n_points; p++) {
      double x = t->points[p].mean[SK_SWEEP_M_WH_PER_PROMPT], y = t->points[p].mean[ym];
      if (!isfinite(x) || !isfinite(y) || (round == 0 && any_pass && !t->points[p].pass))
        continue;
      if (round == 1) {
        double sx = fr.xhi - fr.xlo, sy = fr.yhi - fr.ylo;
        if (!isfinite(sx) || x > fr.xhi + sx || x < fr.xlo - sx || y > fr.yhi + sy ||
            y < fr.ylo - sy)
          continue;
      }
      fr.xlo = fmin(fr.xlo, x), fr.xhi = fmax(fr.xhi, x);
      fr.ylo = fmin(fr.ylo, y), fr.yhi = fmax(fr.yhi, y);
    }
  double xlo0 = fr.xlo, xhi0 = fr.xhi, ylo0 = fr.ylo, yhi0 = fr.yhi;
  if (isfinite(limit) && isfinite(fr.yhi) && limit < fr.yhi + 2 * (fr.yhi - fr.ylo + 1e-9))
    fr.ylo = fmin(fr.ylo, limit), fr.yhi = fmax(fr.yhi, limit);
  range_pad(&fr.xlo, &fr.xhi);
  range_pad(&fr.ylo, &fr.yhi);
  fprintf(f,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" "
          "stroke=\"#333\"/>\n",
          fr.x0, fr.y0, fr.w, fr.h);
  double sx = nice_step(fr.xlo, fr.xhi, 5), sy = nice_step(fr.ylo, fr.yhi, 6);
  for (double v = ceil(fr.xlo / sx) * sx; v <= fr.xhi; v += sx) {
    double x = px(&fr, v);
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%.4g</text>\n",
            x, fr.y0, x, fr.y0 + fr.h, x, fr.y0 + fr.h + 15, fabs(v) < sx * 1e-9 ? 0.0 : v);
  }
  for (double v = ceil(fr.ylo / sy) * sy; v <= fr.yhi; v += sy) {
    double y = py(&fr, v);
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.4g</text>\n",
            fr.x0, y, fr.x0 + fr.w, y, fr.x0 - 5, y + 4, fabs(v) < sy * 1e-9 ? 0.0 : v);
  }
  fprintf(f,
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">energy per "
          "prompt (Wh/prompt)</text>\n",
          fr.x0 + fr.w / 2, fr.y0 + fr.h + 35);
  fprintf(f,
          "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\" "
          "font-size=\"13\">%s</text>\n",
          ox + 18, fr.y0 + fr.h / 2, ylabel);
  if (isfinite(limit) && limit >= fr.ylo && limit <= fr.yhi) {
    double y = py(&fr, limit);
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e69500\" "
            "stroke-dasharray=\"6,4\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
            "font-size=\"11\" fill=\"#b36b00\">%s</text>\n",
            fr.x0, y, fr.x0 + fr.w, y, fr.x0 + fr.w - 4, y - 4, limit_label);
  } else if (isfinite(limit)) { /* far outside the points: say where it is */
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" "
            "fill=\"#b36b00\">%s: %s this range</text>\n",
            fr.x0 + fr.w - 4, fr.y0 + 14, limit_label, limit > fr.yhi ? "above" : "below");
  }
  /* the front, joined in order of Wh/prompt */
  size_t n = 0;
  size_t *idx = malloc((t->n_points + 1) * sizeof *idx);
  if (idx) {
    for (size_t p = 0; p < t->n_points; p++)
      if (front_ttft ? t->points[p].front_ttft : t->points[p].front_inlet)
        idx[n++] = p;
    for (size_t i = 1; i < n; i++) /* insertion sort: fronts are short */
      for (size_t j = i; j > 0 && t->points[idx[j]].mean[SK_SWEEP_M_WH_PER_PROMPT] <
                                      t->points[idx[j - 1]].mean[SK_SWEEP_M_WH_PER_PROMPT];
           j--) {
        size_t tmp = idx[j];
        idx[j] = idx[j - 1];
        idx[j - 1] = tmp;
      }
    if (n > 1) {
      fputs("<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" points=\"", f);
      for (size_t i = 0; i < n; i++)
        fprintf(f, "%.1f,%.1f ", px(&fr, t->points[idx[i]].mean[SK_SWEEP_M_WH_PER_PROMPT]),
                py(&fr, t->points[idx[i]].mean[ym]));
      fputs("\"/>\n", f);
    }
    free(idx);
  }
  int outside = 0;
  for (size_t p = 0; p < t->n_points; p++) {
    const sk_sweep_point_stats *s = &t->points[p];
    double x = s->mean[SK_SWEEP_M_WH_PER_PROMPT], y = s->mean[ym];
    if (!isfinite(x) || !isfinite(y))
      continue;
    if (x < xlo0 || x > xhi0 || y < ylo0 || y > yhi0) {
      outside++;
      continue;
    }
    int on = front_ttft ? s->front_ttft : s->front_inlet;
    const char *col = on ? "#d62728" : "#1f77b4";
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" stroke=\"%s\"><title>",
            px(&fr, x), py(&fr, y), on ? 5 : 4, s->pass ? col : "none", s->pass ? col : "#999");
    fprintf(f, "point %zu: ", p);
    xml_text(f, t->labels[p]);
    fprintf(f, " (%.4f Wh/prompt, %.4g %s%s)</title></circle>\n", x, y, sk_sweep_metric_unit(ym),
            s->pass ? "" : ", fails a constraint");
    if (s->is_default)
      fprintf(f,
              "<path d=\"M%.1f %.1f l7 7 l-7 7 l-7 -7 z\" fill=\"#000\"/>"
              "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">default</text>\n",
              px(&fr, x), py(&fr, y) - 7, px(&fr, x) + 9, py(&fr, y) - 8);
    if (s->best)
      fprintf(f,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" stroke=\"#2ca02c\" "
              "stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
              "fill=\"#2ca02c\">best</text>\n",
              px(&fr, x), py(&fr, y), px(&fr, x) + 10, py(&fr, y) + 14);
  }
  if (outside)
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#888\">%d point%s far "
            "outside this range, not drawn (skadi sweep report lists %s)</text>\n",
            fr.x0 + 4, fr.y0 + fr.h - 6, outside, outside > 1 ? "s" : "",
            outside > 1 ? "them" : "it");
}

void sk_sweep_write_svg(FILE *f, const sk_sweep_table *t) {
  long d = sk_sweep_table_default(t);
  long ref = d >= 0 ? d : 0;
  double sla = t->n_points ? t->points[ref].mean[SK_SWEEP_M_SLA_MS] : NAN;
  double lim = t->n_points ? t->points[ref].mean[SK_SWEEP_M_INLET_LIMIT] : NAN;
  char sla_l[64], lim_l[64];
  snprintf(sla_l, sizeof sla_l, "SLA %.0f ms", sla);
  snprintf(lim_l, sizeof lim_l,
           "inlet limit %.1f \xc2\xb0"
           "C",
           lim);
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"470\" "
        "viewBox=\"0 0 1000 470\" font-family=\"sans-serif\">\n"
        "<rect width=\"1000\" height=\"470\" fill=\"#fafafa\"/>\n"
        "<text x=\"500\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">sweep ",
        f);
  xml_text(f, t->name);
  fprintf(f, ": %zu points, mode %s, means over seeds</text>\n", t->n_points, t->mode);
  panel(f, t, 0, "TTFT p95 (ms)", SK_SWEEP_M_TTFT_P95, 1, sla, sla_l);
  panel(f, t, 500,
        "max rack inlet (\xc2\xb0"
        "C)",
        SK_SWEEP_M_MAX_INLET, 0, lim, lim_l);
  fputs(
      "<g font-size=\"11\">"
      "<circle cx=\"80\" cy=\"448\" r=\"4\" fill=\"#1f77b4\"/><text x=\"90\" y=\"452\">meets "
      "the constraints</text>"
      "<circle cx=\"230\" cy=\"448\" r=\"4\" fill=\"none\" stroke=\"#888\"/><text x=\"240\" "
      "y=\"452\">fails one</text>"
      "<circle cx=\"320\" cy=\"448\" r=\"5\" fill=\"#d62728\"/><text x=\"330\" y=\"452\">Pareto "
      "front of the passing points</text>"
      "<path d=\"M600 441 l7 7 l-7 7 l-7 -7 z\" fill=\"#000\"/><text x=\"612\" y=\"452\">default "
      "policy (the scenario's settings)</text>"
      "<circle cx=\"855\" cy=\"448\" r=\"8\" fill=\"none\" stroke=\"#2ca02c\" stroke-width=\"2\"/>"
      "<text x=\"868\" y=\"452\">best passing point</text></g>\n</svg>\n",
      f);
}

/* ---- the command ------------------------------------------------------------------------------
 */

static void usage(FILE *f) {
  fputs("usage: skadi sweep report SWEEP.h5 [--plot FRONT.svg [--force]]\n"
        "\n"
        "Prints a sweep file (skadi sweep --out): each point's parameters and mean figures\n"
        "over its seeds (Wh/prompt with its 95 % confidence interval, TTFT p95, max inlet,\n"
        "inlet samples over the limit, SLA windows missed, saving against the\n"
        "counterfactual), whether it meets the constraints, the Pareto fronts of Wh/prompt\n"
        "against TTFT p95 and against max inlet, the best passing point and the default.\n"
        "\n"
        "options:\n"
        "  --plot PATH   also draw both fronts as an SVG (open it in a browser)\n"
        "  --force       replace an existing PATH\n"
        "  -h, --help    this help\n"
        "\n"
        "Exit status: 0 done, 1 I/O failure, 2 bad input (a missing file, not a sweep file).\n"
        "Example: skadi sweep report sweeps/fixed.h5 --plot runs/fixed-front.svg\n",
        f);
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("skadi sweep report: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (see skadi sweep report --help)\n", stderr);
  return 2;
}

int sk_sweep_report_main(int argc, char **argv) {
  const char *in = NULL, *plot = NULL;
  int force = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--plot") == 0) {
      if (i + 1 >= argc)
        return bad("--plot: missing value");
      plot = argv[++i];
    } else if (strcmp(a, "--force") == 0) {
      force = 1;
    } else if (a[0] == '-' && a[1]) {
      return bad("unknown option '%s'", a);
    } else if (in) {
      return bad("one sweep file at a time ('%s' is extra)", a);
    } else {
      in = a;
    }
  }
  if (!in)
    return bad("missing SWEEP.h5");
  if (plot && sk_cli_out_check("skadi sweep report", plot, force) != 0)
    return 2;
  char err[1024];
  sk_sweep_table *t = NULL;
  sk_status st = sk_sweep_file_read(in, &t, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi sweep report: %s\n", err);
    return st == SK_EIO || st == SK_ENOMEM ? 1 : 2;
  }
  print_report(stdout, t, in);
  int rc = 0;
  if (plot) {
    sk_cli_out o;
    if (sk_cli_out_open(&o, "skadi sweep report", plot, force) != 0) {
      rc = 1;
    } else {
      sk_sweep_write_svg(o.f, t);
      int ok = !ferror(o.f);
      if (!ok)
        fprintf(stderr, "skadi sweep report: %s: cannot write: %s\n", plot, strerror(errno));
      rc = sk_cli_out_commit(&o, ok);
      if (rc == 0)
        printf("\n  plot: %s\n", plot);
    }
  }
  sk_sweep_table_destroy(t);
  return rc;
}
