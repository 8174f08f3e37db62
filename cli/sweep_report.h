/*
 * sweep_report.h -- `skadi sweep report`: a sweep file (sweep.h) as a table and Pareto
 * fronts in the terminal and as an SVG plot (cli/sweep_report.c).  Private to cli/.
 */
#ifndef SKADI_CLI_SWEEP_REPORT_H
#define SKADI_CLI_SWEEP_REPORT_H

#include <stdio.h>

#include "skadi/sweep.h"

/* argv[0] is "report".  Exit status as cli.h says. */
int sk_sweep_report_main(int argc, char **argv);

/* Draws the two fronts of t (Wh/prompt vs TTFT p95, vs max inlet) as an SVG document. */
void sk_sweep_write_svg(FILE *f, const sk_sweep_table *t);

/* The point marked best in t (lowest mean Wh/prompt meeting every constraint), -1 if
 * none; the default point, -1 if the sweep has none. */
long sk_sweep_table_best(const sk_sweep_table *t);
long sk_sweep_table_default(const sk_sweep_table *t);

#endif
