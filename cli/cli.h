/*
 * cli.h -- the `skadi` program's subcommands.  Each takes argv with argv[0] the
 * subcommand's name and returns the process exit status (0 ok, 1 failure, 2 bad input,
 * 128+signal when interrupted).  They drive the library (sim/); nothing in the library
 * calls them.
 */
#ifndef SKADI_CLI_H
#define SKADI_CLI_H

int sk_run_main(int argc, char **argv);    /* run.c */
int sk_ims_main(int argc, char **argv);    /* cmd_ims.c */
int sk_mix_main(int argc, char **argv);    /* cmd_mix.c */
int sk_report_main(int argc, char **argv); /* cmd_report.c */
int sk_sweep_main(int argc, char **argv);  /* cmd_sweep.c */

#endif
