/*
 * session_flags.c -- the run-session flags `skadi run` and `skadi serve` share: --seed,
 * --duration, --set, --env-file, --mode, --threads and --speed, parsed once into the
 * session's config (cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sk_cli_vbad(const char *who, const char *fmt, va_list ap) {
  fprintf(stderr, "skadi %s: ", who);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  return 2;
}

int sk_cli_bad(const char *who, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = sk_cli_vbad(who, fmt, ap);
  va_end(ap);
  return rc;
}

/* As sk_cli_bad, returning -1: sk_cli_session_flag's "bad flag". */
static int bad(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const char *who, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sk_cli_vbad(who, fmt, ap);
  va_end(ap);
  return -1;
}

void sk_cli_session_flags_init(sk_cli_session_flags *f, sk_session_config *cfg, const char *mode,
                               long threads, double speed) {
  memset(f, 0, sizeof *f);
  f->cfg = cfg;
  f->threads = threads;
  f->speed = speed;
  cfg->mode = mode;
  cfg->sets = f->sets;
}

int sk_cli_session_flag(sk_cli_session_flags *f, const char *who, int argc, char **argv, int *i) {
  static const char *const names[] = {"--seed", "--duration", "--set",  "--env-file",
                                      "--mode", "--threads",  "--speed"};
  const char *a = argv[*i];
  size_t k = 0, n = sizeof names / sizeof names[0];
  while (k < n && strcmp(a, names[k]) != 0)
    k++;
  if (k == n)
    return 0;
  if (*i + 1 >= argc)
    return bad(who, "%s: missing value", a);
  const char *val = argv[++*i];
  sk_session_config *cfg = f->cfg;
  char *end;
  char err[SK_ERR_LEN];
  errno = 0;
  switch (k) {
  case 0:
    if (val[0] == '-' || (cfg->seed = strtoull(val, &end, 10), errno) || end == val || *end)
      return bad(who, "--seed: '%s' is not a non-negative integer", val);
    cfg->have_seed = 1;
    break;
  case 1:
    if (sk_parse_duration(val, &cfg->duration_s, err, sizeof err) != SK_OK)
      return bad(who, "--duration: %s", err);
    break;
  case 2:
    if (cfg->n_sets == SK_CLI_MAX_SETS)
      return bad(who, "--set: more than %d overrides", SK_CLI_MAX_SETS);
    f->sets[cfg->n_sets++] = val;
    break;
  case 3:
    cfg->env_file = val;
    break;
  case 4: {
    sk_run_mode m;
    if (strcmp(val, "on") != 0 && sk_run_mode_parse(val, NULL, &m) != SK_OK)
      return bad(who, "--mode: '%s' is not off, on, advisory or closed_loop", val);
    cfg->mode = val;
    break;
  }
  case 5:
    f->threads = strtol(val, &end, 10);
    if (errno || end == val || *end || f->threads < 1 || f->threads > 256)
      return bad(who, "--threads: '%s' is not a whole number from 1 to 256", val);
    break;
  default:
    if (!sk_parse_speed(val, &f->speed))
      return bad(who, "--speed: '%s' is not 'max' or a positive factor like 60x", val);
    break;
  }
  return 1;
}
