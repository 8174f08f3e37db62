/*
 * run.h -- the `skadi run` command (argument parsing, pacing, recording, summary).
 */
#ifndef SKADI_RUN_H
#define SKADI_RUN_H

/* argv[0] is "run".  Returns the process exit status (0 ok, 1 failure, 2 bad input,
 * 128+signal when interrupted). */
int sk_run_main(int argc, char **argv);

#endif
