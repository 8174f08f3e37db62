/*
 * cli.h -- the `skadi` program's subcommands.  Each takes argv with argv[0] the
 * subcommand's name and returns the process exit status (0 ok, 1 failure, 2 bad input,
 * 128+signal when interrupted).  They drive the library (sim/); nothing in the library
 * calls them.
 */
#ifndef SKADI_CLI_H
#define SKADI_CLI_H

#include <stdarg.h>
#include <stddef.h>

#include "skadi/session.h"

int sk_run_main(int argc, char **argv);     /* run.c */
int sk_ims_main(int argc, char **argv);     /* cmd_ims.c */
int sk_mix_main(int argc, char **argv);     /* cmd_mix.c */
int sk_monitor_main(int argc, char **argv); /* cmd_ims.c */
int sk_report_main(int argc, char **argv);  /* cmd_report.c */
int sk_serve_main(int argc, char **argv);   /* cmd_serve.c */
int sk_gateway_main(int argc, char **argv); /* cmd_gateway.c */
int sk_replay_main(int argc, char **argv);  /* cmd_replay.c */
int sk_sweep_main(int argc, char **argv);   /* cmd_sweep.c */

/* The run-session flags `skadi run` and `skadi serve` share (session_flags.c): --seed,
 * --duration, --set, --env-file, --mode (into *cfg), --threads and --speed (here). */
#define SK_CLI_MAX_SETS 64
typedef struct {
  sk_session_config *cfg;
  const char *sets[SK_CLI_MAX_SETS]; /* cfg->sets points here */
  long threads;
  double speed;                      /* x real time, 0 = max */
} sk_cli_session_flags;
void sk_cli_session_flags_init(sk_cli_session_flags *f, sk_session_config *cfg, const char *mode,
                               long threads, double speed);
/* 1 if argv[*i] is one of those flags (its value taken, *i advanced), 0 if not, -1 after
 * printing "skadi WHO: <flag>: <reason>" for a missing or bad value. */
int sk_cli_session_flag(sk_cli_session_flags *f, const char *who, int argc, char **argv, int *i);

/* Shared by the API commands (cmd_serve.c). */
struct sk_api_gateway;
/* "skadi WHO: <message>" and a newline on stderr; returns 2, the exit status of bad
 * input (`return sk_cli_bad("run", "--out: missing value");`). */
int sk_cli_bad(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sk_cli_vbad(const char *who, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int sk_cli_parse_port(const char *text, int *port);
int sk_cli_parse_ws_frames(const char *text, size_t *n); /* 16 .. 1000000 */
int sk_cli_next_port_endpoint(const char *ep, char *out, size_t len);
void sk_cli_block_signals(void);
/* Runs gw until SIGINT/SIGTERM (or waits for one when gw is NULL); 0 after a signal. */
int sk_cli_serve_until_signal(const char *who, struct sk_api_gateway *gw);

#endif
