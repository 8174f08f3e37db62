/*
 * session_int.h -- the run session's state, shared by session.c (lifecycle, lockstep,
 * sinks, recording) and session_cmd.c (commands and command logs).  Private to sim/.
 */
#ifndef SKADI_SIM_SESSION_INT_H
#define SKADI_SIM_SESSION_INT_H

#include <pthread.h>
#include <stdio.h>

#include "skadi/ims_store.h"
#include "skadi/recorder.h"
#include "skadi/session.h"
#include "skadi/trace.h"

typedef struct {
  sk_command cmd;
} queued;

struct sk_session {
  sk_scenario *sc;             /* effective scenario; written by the stepping thread under mu */
  int n_timeline;              /* its timeline's effects; those after are the demo effects
                                  cfg.demo_effects (or a command log) made available */
  sk_trace trace;
  sk_twin *tw, *cf;
  sk_controller *ctl;
  sk_ims_model *ims;           /* a given model, kept for a controller started later */
  sk_run_mode mode;
  int want_cf;                 /* -1 with a controller, 0 never, 1 always */
  int threads;
  sk_time_ns fast_ns;
  char source[16];

  sk_recorder *rec;
  char part_path[SK_PATH_LEN + 8], final_path[SK_PATH_LEN + 24];
  int force, finished;
  FILE *audit;

  sk_status st;                /* sticky */
  char err[SK_ERR_LEN];

  pthread_mutex_t mu;
  queued *q;
  size_t q_n, q_cap;
  int paused;
  double speed;

  sk_command_record *log;      /* the command log replayed, sorted by (ts, seq) */
  size_t log_n, log_pos;
  int64_t seq;                 /* commands applied so far */

  /* the counterfactual's worker */
  pthread_t cf_th;
  pthread_cond_t cf_go, cf_done;
  int cf_thread, cf_job, cf_quit;
  sk_time_ns cf_until;

  sk_session_observer obs;
  int have_action, have_monitor;
  sk_action_record last_action;
  sk_monitor_record *monitor;
  int n_racks;

  /* telemetry posted from outside (session_cmd.c): the sample being assembled from its
   * rows at a boundary, the MMS per rack of the posted stream and the model it runs for */
  int tel_open, tel_rack;
  char tel_key[SK_CMD_KEY_LEN];
  unsigned tel_have;           /* fields given so far, a bit each */
  sk_rack_sample tel_row;
  sk_mms *tel_mms;
  const sk_ims_model *tel_model;
  int64_t tel_applied;
  sk_session_telemetry_fn tel_fn;
  void *tel_ud;
};

/* Records the first failure (the session's sticky status and message); later ones are
 * dropped. */
void sk__session_fail(sk_session *s, sk_status st, const char *fmt, ...) SK_PRINTF_LIKE(3, 4);

/* Starts the controller in mode at the current time (and the counterfactual, cloned from
 * the twin, when the session wants one and has none).  session.c. */
sk_status sk__session_start_controller(sk_session *s, sk_run_mode mode, char *err, size_t errlen);

/* At a control boundary: the log's due commands, then the posted ones.  session_cmd.c. */
void sk__session_apply_due(sk_session *s);

/* Reads the command log at path into s->log, sorted (SK_EINVAL with a message naming the
 * line and field on bad input).  session_cmd.c. */
/* Scores and hands on the telemetry sample being assembled, if any (at the end of a
 * boundary's commands).  session_cmd.c. */
void sk__session_telemetry_close(sk_session *s);

sk_status sk__session_load_log(sk_session *s, const char *path, char *err, size_t errlen);

#endif
