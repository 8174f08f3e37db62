/*
 * live.h -- a scenario run in the visualizer's own session (sim/include/skadi/session.h).
 *
 * The session steps on a thread of its own, paced like `skadi run --speed` (chunks of at
 * most a sample period, or 50 ms of wall time when paced, then a sleep to the wall-clock
 * target), and publishes a snapshot after each chunk into a triple buffer: the window
 * takes the newest when it draws and never makes the session wait.  A slow window draws
 * fewer frames; the run's speed is unchanged.
 *
 * The window's keys reach the session as commands (sk_session_post): pause, speed, mode,
 * kill switch; the session records them like any other front end's.
 */
#ifndef SKADI_VIZ_LIVE_H
#define SKADI_VIZ_LIVE_H

#include <stddef.h>

#include "skadi/session.h"
#include "view.h"

typedef struct sk_viz_live sk_viz_live;

/* Creates the session from cfg (borrowed for the call) at speed (x real time, 0 = as fast
 * as possible).  Returns 0; 2 for bad input (scenario, flags) or 1 (I/O, memory) with the
 * session's message in err. */
int sk_viz_live_create(sk_viz_live **out, const sk_session_config *cfg, double speed,
                       const char *title, char *err, size_t errlen);

/* Starts the stepping thread.  Returns 0, or -1 with a message. */
int sk_viz_live_start(sk_viz_live *l, char *err, size_t errlen);

/* Without the thread (headless snapshots): steps as fast as possible to t_s (clamped to
 * the end) and publishes.  Returns 0, or 1 with the session's error in err. */
int sk_viz_live_run_to(sk_viz_live *l, double t_s, char *err, size_t errlen);

/* Fills v from the newest published snapshot and the series so far.  The series stay
 * valid until the next fill or destroy (one thread: the window's). */
void sk_viz_live_fill(sk_viz_live *l, sk_viz_view *v);

/* Posts a command (kind "mode", "pause", "speed", "kill_switch", ...) as source "viz".
 * Returns 0, or -1 with the session's message. */
int sk_viz_live_post(sk_viz_live *l, sk_command_kind kind, const char *value, char *err,
                     size_t errlen);

/* The run's end, s of sim time. */
double sk_viz_live_end_s(const sk_viz_live *l);

/* 1 once the run reached its end or failed (then sk_viz_live_error says why). */
int sk_viz_live_done(sk_viz_live *l);
const char *sk_viz_live_error(sk_viz_live *l); /* "" when none */

/* Wall seconds the stepping thread ran and sim seconds it advanced (the pacing check). */
void sk_viz_live_pace(sk_viz_live *l, double *wall_s, double *sim_s);

/* Stops the thread, finishes the recording if there is one ("completed" when the run
 * reached its end, else "interrupted"), frees everything.  rec (may be NULL) receives
 * where the recording went ("" without one): an interrupted run never replaces an
 * existing file and lands beside it as <stem>.interrupted.h5.  Returns 0, or 1 when the
 * session failed or its recording could not be finished (message in err).  NULL: 0. */
int sk_viz_live_destroy(sk_viz_live *l, char *err, size_t errlen, char *rec, size_t reclen);

#endif
