/*
 * crashguard.c -- see crashguard.h.  The message is built when the guard is set, so the
 * handler only calls write(2) and _exit(2), both async-signal-safe.
 */
#define _POSIX_C_SOURCE 200809L

#include "crashguard.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skadi/recording.h"

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

static char late[640];
static size_t late_len;

static void on_alarm(int sig) {
  (void)sig;
  ssize_t w = write(STDERR_FILENO, late, late_len);
  (void)w;
  _exit(2);
}

void sk_cli_probe_recording(const char *prog, const char *path) {
  const char *env = getenv("SKADI_READ_TIMEOUT_S");
  long secs = env && atol(env) > 0 ? atol(env) : 30;
  int n = snprintf(late, sizeof late,
                   "%s: %.400s: damaged: reading its metadata did not end in %ld s (the HDF5 "
                   "library loops on some damaged files)\n",
                   prog, path, secs);
  late_len = n < 0 ? 0 : (size_t)n < sizeof late ? (size_t)n : sizeof late - 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  sk_cli_guard_file(prog, path);
  alarm((unsigned)secs);
  sk_recording *r = NULL;
  char err[256];
  if (sk_recording_open(&r, path, err, sizeof err) == SK_OK)
    sk_recording_close(r);
  alarm(0);
  signal(SIGALRM, SIG_DFL);
}

void sk_cli_guard_clear(void) {
  alarm(0);
#ifndef GUARD_OFF
  for (size_t i = 0; i < sizeof guarded / sizeof guarded[0]; i++)
    signal(guarded[i], SIG_DFL);
#endif
}
