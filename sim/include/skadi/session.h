/*
 * session.h -- a run of the twin: the one seam every front end drives (the `skadi`
 * command, the API, the visualizer, sweeps, tests).
 *
 * A session layers the settings (defaults < environment < .env < scenario < --set),
 * builds the twin, the counterfactual twin (the same scenario with no controller, the
 * baseline savings are measured against) and the controller, records to HDF5, and
 * applies commands.  It owns no wall clock, no signal handler and no thread beyond the
 * budget its caller gives: the caller's loop paces it.
 *
 *     sk_session *s;
 *     if (sk_session_create(&s, &cfg, err, sizeof err) != SK_OK) ...
 *     while (!sk_session_done(s)) {
 *       if (sk_session_step_until(s, sk_session_now(s) + chunk_ns) != SK_OK) break;
 *       sk_session_snapshot(s, snap);
 *     }
 *     sk_session_finish(s, NULL, "completed");
 *     sk_session_summary(s, &sum);
 *     sk_session_destroy(s);
 *
 * Commands are events.  sk_session_post validates a command at once (a bad one gets a
 * message and changes nothing) and queues it; the session applies it at the next control
 * boundary (a multiple of settings.fast_loop_interval_s), stamps it with that sim time and
 * records it in the /commands table.  A run is therefore a pure function of (scenario,
 * seed, commands): cfg.commands replays a command log at the times it records.
 *
 * Threads: sk_session_post, sk_session_paused and sk_session_speed may be called from any
 * thread at any time.  Every other call belongs to the thread that steps the session.
 * Two sessions share nothing: each may run on its own thread.
 */
#ifndef SKADI_SESSION_H
#define SKADI_SESSION_H

#include <stddef.h>

#include "skadi/control.h"
#include "skadi/scenario.h"
#include "skadi/telemetry.h"
#include "skadi/trace.h"
#include "skadi/twin.h"

typedef struct sk_session sk_session;

/* What runs beside the twin.  off: the twin alone; advisory: monitors, guardrails and
 * optimizer propose and log, the plant is untouched; closed_loop: they act. */
typedef enum { SK_RUN_OFF = 0, SK_RUN_ADVISORY, SK_RUN_CLOSED_LOOP } sk_run_mode;

const char *sk_run_mode_name(sk_run_mode m); /* "off", "advisory", "closed_loop" */
/* "off", "advisory", "closed_loop", or "on" (settings.default_mode of sc; sc may be NULL
 * only for the other three).  SK_EINVAL for anything else. */
sk_status sk_run_mode_parse(const char *name, const sk_scenario *sc, sk_run_mode *out);

typedef struct {
  /* The scenario: a file, or JSON text (origin names it in messages), or neither (the
   * default room).  Layers below the scenario: the environment (use_env) and a .env file
   * (env_file, NULL for none).  Above it: sets[] ("key=value", --set), then seed and
   * duration when given. */
  const char *scenario_path;
  const char *scenario_json;
  const char *scenario_origin;
  const sk_scenario *scenario;  /* or a scenario built in memory (copied): then no
                                   environment, .env or file layer applies */
  int use_env;
  const char *env_file;
  const char *const *sets;
  int n_sets;
  int have_seed;
  unsigned long long seed;
  double duration_s;            /* s; NaN = the scenario's */

  const char *mode;             /* "off" (NULL), "on", "advisory", "closed_loop" */
  int counterfactual;           /* -1: with a controller (default), 0 never, 1 always */
  const char *ims_model_path;   /* NULL: the controller trains on the run's warm-up */

  const char *record_path;      /* HDF5 recording, NULL for none.  Written as
                                   <path>.part and moved to path by sk_session_finish */
  int force;                    /* replace an existing recording at record_path */
  const char *audit_path;       /* audit trail, appended as JSON Lines; NULL for none */
  const char *version;          /* stored in the recording (NULL: the library's) */

  int threads;                  /* thread budget (counterfactual and what-if forks), >= 1;
                                   0 = 1 */
  const char *commands_path;    /* replay a command log: a recording's /commands table or a
                                   JSON Lines file of commands (docs/LIBRARY.md); NULL none */
  const char *source;           /* names posted commands with no source ("cli") */
  int demo_effects;             /* 1: the seed's two demo effects, add_ai_nodes_row_c
                                   (R-C-06 and R-C-07, one node each at 3 prompts/s) and
                                   overcooled_row_e (row E's CRAH at 95 % and 16 C), can be
                                   started by command even when the timeline lacks them (a
                                   room without the racks or row lacks them too).  They wait
                                   unscheduled beside the timeline and are not in the
                                   recording's /config; a run replaying a command log that
                                   starts one gets it the same way */
} sk_session_config;

/* Zero config: no scenario file, off, no recording, one thread, duration NaN. */
void sk_session_config_init(sk_session_config *cfg);

/* The effective scenario cfg describes (every layer, validated) into *sc, without
 * building anything: what a front end needs to name outputs before it creates the
 * session.  SK_EINVAL with a message on bad input. */
sk_status sk_session_config_scenario(const sk_session_config *cfg, sk_scenario *sc, char *err,
                                     size_t errlen);

/* Builds a session.  On failure *out is NULL, err holds "<where>: <field>: <reason>" and
 * the status is SK_EINVAL for bad input (flags, scenario, trace, model, command log, an
 * existing recording without force), SK_EIO when the recording cannot be written, or
 * SK_ENOMEM. */
sk_status sk_session_create(sk_session **out, const sk_session_config *cfg, char *err,
                            size_t errlen);

/* Finishes the recording if sk_session_finish was not called (status "interrupted"),
 * frees everything.  NULL is a no-op. */
void sk_session_destroy(sk_session *s);

/* The effective scenario (after every layer and every live change so far). */
const sk_scenario *sk_session_scenario(const sk_session *s);

/* The request trace the session replays (loaded, sorted, capped at workload.max_tokens),
 * or NULL when the workload is Poisson.  Owned by the session. */
const sk_trace *sk_session_trace(const sk_session *s);

/* Advances both twins to t_ns (clamped to the end), stopping at every control boundary to
 * apply due commands and step the controller.  Returns SK_OK or the session's sticky
 * error (the first failure of the twin, the controller or the recording; sk_session_error
 * says what), after which the session does not advance.  A paused session advances too:
 * pausing is the caller's business (sk_session_paused). */
sk_status sk_session_step_until(sk_session *s, sk_time_ns t_ns);
int sk_session_done(const sk_session *s); /* end reached, or a sticky error */
sk_time_ns sk_session_now(const sk_session *s);
sk_time_ns sk_session_end(const sk_session *s);
sk_status sk_session_status(const sk_session *s);
const char *sk_session_error(const sk_session *s); /* "" when none */

/* ---- commands --------------------------------------------------------------------------- */

#define SK_COMMAND_KINDS(X)                                                             \
  X(MODE, "mode")                 /* value: off | advisory | closed_loop | on */        \
  X(KILL_SWITCH, "kill_switch")   /* value: true | false (settings.global_kill_switch) */ \
  X(SET, "set")                   /* key = value, a live settings key */                \
  X(EFFECT_START, "effect_start") /* key: a timeline effect; value: duration s or "" */ \
  X(EFFECT_STOP, "effect_stop")   /* key: a timeline effect */                          \
  X(APPLY, "apply")               /* key: lever (sk_action_name), value: "target delta" */ \
  X(RECOMMEND, "recommend")       /* as apply, but only recorded: the plant is untouched */ \
  X(PAUSE, "pause")               /* value: true | false; pacing only */                \
  X(SPEED, "speed")               /* value: max | N (x real time); pacing only */    \
  X(TELEMETRY, "telemetry")       /* key: RACK@TS; value: field=number ...: a sample  \
                                     measured outside the twin (sk_session_post_telemetry) */ \
  X(OPTIMIZER_TICK, "optimizer_tick") /* key, value "": the optimizer's slow tick runs at \
                                     this boundary (sk_session_tick_blocked says when not) */

typedef enum {
#define SK_COMMAND_ENUM(id, name) SK_CMD_##id,
  SK_COMMAND_KINDS(SK_COMMAND_ENUM)
#undef SK_COMMAND_ENUM
      SK_CMD_KIND_COUNT
} sk_command_kind;

const char *sk_command_kind_name(sk_command_kind k);
sk_status sk_command_kind_parse(const char *name, sk_command_kind *out);

typedef struct {
  sk_command_kind kind;
  char key[SK_CMD_KEY_LEN];
  char value[SK_CMD_VALUE_LEN];
  char source[16];              /* "" = the session's default source */
} sk_command;

/* Validates cmd against the session (kind, key live, value in range, effect known, lever
 * and target valid) and queues it for the next control boundary.  Thread-safe.  On bad
 * input returns SK_EINVAL with a message naming the key and the reason, and nothing
 * changes; SK_ENOMEM if the queue cannot grow.  Pause and speed take effect at once (they
 * only concern the caller's pacing) and are recorded at the next boundary. */
sk_status sk_session_post(sk_session *s, const sk_command *cmd, char *err, size_t errlen);

/* Why an OPTIMIZER_TICK command posted now would not run the optimizer: 0 when it would,
 * else 1 with the reason in why (mode off, kill switch on, warm-up not over).  Call from
 * the thread that steps the session.  Such a command is still recorded, and does nothing. */
int sk_session_tick_blocked(const sk_session *s, char *why, size_t whylen);
/* The next control boundary after the session's sim time (where posted commands apply). */
sk_time_ns sk_session_next_boundary(const sk_session *s);

/* Pacing state set by PAUSE and SPEED commands (initially: not paused, cfg speed 0 =
 * max).  Thread-safe. */
int sk_session_paused(const sk_session *s);
double sk_session_speed(const sk_session *s); /* x real time, 0 = as fast as possible */
void sk_session_set_initial_speed(sk_session *s, double speed);
/* A pacing factor: "max" -> 0 (as fast as possible), "60" or "60x" -> 60.  Returns 1 when
 * text is one, else 0 (*factor untouched). */
int sk_parse_speed(const char *text, double *factor);

/* ---- telemetry measured outside the twin ------------------------------------------------ */

/* Rack samples measured outside the twin (the API's POST /telemetry): rack_id and ts (sim
 * seconds, finite) are required; the eight measured doubles (inlet_c .. pump_rpm_pct) are
 * finite or NaN (not measured); queue_depth >= 0, or -1 when not measured; n_servers is
 * ignored.  The batch is checked whole (a bad row: SK_EINVAL naming the row and field,
 * nothing queued) and queued as commands of kind "telemetry", so each sample is stamped
 * with the next control boundary's sim time and recorded in /commands like any command,
 * and a re-run from the log (cfg.commands_path) replays it:
 *
 *   kind "telemetry", key "R-C-07@612.5" (rack and the sample's ts), value
 *   "inlet_c=24.8 outlet_c=36.2 pdu_kw=8.6 ..." (the measured fields, each number written
 *   to read back to the same double).  A sample that does not fit one value continues in
 *   the next row(s), whose key is the same with a '+' in front.
 *
 * Applied at the boundary, each sample is scored by the run's IMS model (the controller's,
 * else cfg.ims_model_path's; none: deviation NaN) and fed to an MMS per rack kept for the
 * posted stream (the twin's own monitor rows and the controller's decisions are not
 * touched), and the observer below gets both.  Thread-safe; source names the poster
 * (NULL: the session's default).  sk_session_post refuses kind telemetry. */
sk_status sk_session_post_telemetry(sk_session *s, const sk_rack_sample *rows, size_t n,
                                    const char *source, char *err, size_t errlen);

/* Called on the stepping thread for each posted sample as it is applied: the sample as
 * recorded (unmeasured doubles NaN, queue_depth -1 when not measured) and its IMS/MMS
 * row (ts: the sample's; deviation and ema NaN without a model).  NULL fn: none. */
typedef void (*sk_session_telemetry_fn)(void *ud, const sk_rack_sample *sample,
                                        const sk_monitor_record *score);
void sk_session_observe_telemetry(sk_session *s, sk_session_telemetry_fn fn, void *ud);

/* Posted samples applied so far (stepping thread). */
int64_t sk_session_telemetry_applied(const sk_session *s);

/* ---- what a front end reads ------------------------------------------------------------- */

/* Callbacks on the stepping thread, after the recording took each row (all optional):
 * what a front end publishes as it happens (the API's frames). */
typedef struct {
  void (*on_sample)(void *ud, const sk_rack_sample *racks, int n_racks,
                    const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room);
  void (*on_event)(void *ud, const sk_event_record *ev);
  void (*on_action)(void *ud, const sk_action_record *a);
  void (*on_monitor)(void *ud, const sk_monitor_record *rows, int n);
  void (*on_command)(void *ud, const sk_command_record *c);
  /* the counterfactual twin's sample rows (not recorded) */
  void (*on_cf_sample)(void *ud, const sk_rack_sample *racks, int n_racks,
                       const sk_crah_sample *crahs, int n_rows, const sk_room_sample *room);
  void *ud;
} sk_session_observer;
void sk_session_observe(sk_session *s, const sk_session_observer *obs); /* NULL: none */

/* Writes the recording's buffered rows to the file (a SIGKILL after it loses nothing
 * before it) and flushes the audit trail.  The caller picks the rhythm (the CLI: once a
 * second of wall time).  Returns the sticky status. */
sk_status sk_session_flush(sk_session *s);

#define SK_SESSION_MAX_RACKS (SK_MAX_ROWS * SK_MAX_RACKS_PER_ROW)

/* Everything a view shows, copied into caller storage (large: allocate it). */
typedef struct {
  sk_time_ns now_ns, end_ns;
  sk_run_mode mode;
  int kill_switch;
  int paused;
  double speed;
  int have_sample;              /* the rows below hold the latest sample period */
  int n_racks, n_rows;
  sk_rack_sample racks[SK_SESSION_MAX_RACKS];
  sk_crah_sample crahs[SK_MAX_ROWS];
  sk_room_sample room;
  int have_monitor;             /* IMS/MMS rows of the latest fast tick */
  sk_monitor_record monitor[SK_SESSION_MAX_RACKS];
  sk_summary kpis;              /* whole run so far */
  int have_cf;
  sk_summary cf_kpis;           /* the counterfactual's */
  double energy_saved_pct;      /* vs the counterfactual, NaN without one */
  sk_controller_stats control;
  int have_action;
  sk_action_record last_action;
  int64_t commands_applied;
} sk_session_snapshot;

void sk_session_snapshot_get(const sk_session *s, sk_session_snapshot *out);

/* ---- the end ---------------------------------------------------------------------------- */

/* The plant settings a twin runs with (its levers now): what the summary shows of the
 * optimized run at its end beside the counterfactual's (the scenario's own settings). */
typedef struct {
  int n_rows;
  double crah_fan_pct[SK_MAX_ROWS], supply_setpoint_c[SK_MAX_ROWS];
  double pump_pct, chw_setpoint_c, batch_window_ms, gpu_cap_w;
} sk_session_levers;

/* Whole-run figures: the twin's, and the counterfactual's and the controller's when
 * there are.  Names, units and order of the figures come from one table
 * (sk_session_figures); the CLI prints them and the recording stores them from it. */
typedef struct {
  sk_summary run;
  int have_cf;
  sk_summary cf;
  double energy_saved_pct;      /* NaN without a counterfactual */
  /* the same with each run's stored cold charged (sk_summary.stored_cold_kwh added to its
   * facility energy): a run that ends with warmer chilled water than the other borrowed
   * cold it did not pay for.  NaN without a counterfactual */
  double energy_saved_net_pct;
  sk_session_levers levers, cf_levers; /* at the end (cf_levers: with a counterfactual) */
  int have_control;
  sk_controller_stats control;
  sk_run_mode mode;             /* at the end */
  uint64_t events;
  int64_t commands_applied;
} sk_session_summary;

void sk_session_summary_get(const sk_session *s, sk_session_summary *out);

/* One figure of the /summary table: key, unit, value (NaN when it does not apply). */
typedef struct {
  const char *key;
  const char *unit;
  double value;
} sk_session_figure;

/* Fills out[] (room for max) with the /summary figures of sum, in table order; returns
 * how many. */
size_t sk_session_figures(const sk_session_summary *sum, sk_session_figure *out, size_t max);

/* Ends the run: writes /summary (the figures above) and /run_info (status_text and the
 * caller's wall-clock figures, which the library cannot know), compresses the recording
 * and moves it to its path.  A run that is not complete ("interrupted") never replaces an
 * existing file: it is kept as <stem>.interrupted.h5 instead (sk_session_recording says
 * where).  Without a recording it does nothing.  SK_EIO with sk_session_error on failure.
 * Called once; later calls return SK_EINVAL. */
typedef struct {
  double wall_s, speedup, peak_rss_mb;
} sk_session_wall;
sk_status sk_session_finish(sk_session *s, const sk_session_wall *wall, const char *status_text);

/* Path of the recording as finished (or being written), NULL without one. */
const char *sk_session_recording(const sk_session *s);

#endif
