/*
 * crashguard.c -- see crashguard.h.  The message is built when the guard is set, so the
 * handler only calls write(2) and _exit(2), both async-signal-safe.
 */
#define _POSIX_C_SOURCE 200809L

#include "crashguard.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define GUARD_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define GUARD_OFF 1
#endif
#endif

#ifndef GUARD_OFF
static const int guarded[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
static char msg[640];
static size_t msg_len;

static void on_crash(int sig) {
  (void)sig;
  ssize_t w = write(STDERR_FILENO, msg, msg_len);
  (void)w;
  _exit(2);
}
#endif

void sk_cli_guard_file(const char *prog, const char *path) {
#ifdef GUARD_OFF
  (void)prog, (void)path;
#else
  int n = snprintf(msg, sizeof msg,
                   "%s: %.400s: damaged: reading it crashed the HDF5 library (if the file is "
                   "sound, this is a bug of skadi's: please report it)\n",
                   prog, path);
  msg_len = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_crash;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  for (size_t i = 0; i < sizeof guarded / sizeof guarded[0]; i++)
    sigaction(guarded[i], &sa, NULL);
#endif
}

void sk_cli_guard_clear(void) {
#ifndef GUARD_OFF
  for (size_t i = 0; i < sizeof guarded / sizeof guarded[0]; i++)
    signal(guarded[i], SIG_DFL);
#endif
}
