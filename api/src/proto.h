/*
 * proto.h -- private to api/: the ZeroMQ protocol's pieces shared by the twin side, the
 * replay side and the gateway (docs/PROTOCOL.md): the error catalogue, replies, the frames
 * a twin publishes, and the API's clock (sim time as ISO 8601).
 *
 * Frames are pure functions of recorded rows (telemetry.h): a live run and the replay of
 * its recording give the same frames.  Every frame is one JSON object with "v" (the
 * protocol version) and "topic".
 */
#ifndef SKADI_API_PROTO_H
#define SKADI_API_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "skadi/schema.h"
#include "skadi/telemetry.h"

#define SK_API_PROTOCOL_VERSION 1

/* The error catalogue: code, HTTP status.  Codes are stable (clients switch on them);
 * new ones go at the end.  Checklist: docs/PROTOCOL.md and docs/API.md list them. */
#define SK_API_ERRORS(X)                                                                           \
  X(BAD_REQUEST, "bad_request", 400)     /* malformed request */                                   \
  X(INVALID_JSON, "invalid_json", 400)   /* body is not JSON */                                    \
  X(INVALID_FIELD, "invalid_field", 400) /* wrong type or value */                                 \
  X(MISSING_FIELD, "missing_field", 400) /* a required field is absent */                          \
  X(UNKNOWN_FIELD, "unknown_field", 400) /* a field the op does not take */                        \
  X(UNKNOWN_OP, "unknown_op", 400)       /* ZeroMQ: no such op */                                  \
  X(UNSUPPORTED_VERSION, "unsupported_version", 400)                                               \
  X(UNAUTHORIZED, "unauthorized", 401) /* bearer token missing/wrong */                            \
  X(NOT_FOUND, "not_found", 404)       /* route or named thing */                                  \
  X(METHOD_NOT_ALLOWED, "method_not_allowed", 405)                                                 \
  X(CONFLICT, "conflict", 409) /* not in this state */                                             \
  X(LENGTH_REQUIRED, "length_required", 411)                                                       \
  X(PAYLOAD_TOO_LARGE, "payload_too_large", 413)                                                   \
  X(INTERNAL, "internal", 500)                                                                     \
  X(TWIN_UNAVAILABLE, "twin_unavailable", 503)                                                     \
  X(TWIN_TIMEOUT, "twin_timeout", 504)                                                             \
  X(UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415) /* body not JSON */

typedef enum {
#define SK__API_ERR_ENUM(id, name, http) SK_APIE_##id,
  SK_API_ERRORS(SK__API_ERR_ENUM)
#undef SK__API_ERR_ENUM
      SK_APIE_COUNT
} sk__api_err;

const char *sk__api_err_name(sk__api_err e);
int sk__api_err_http(sk__api_err e);
/* The HTTP status of an error code's name; 500 for a name not in the catalogue. */
int sk__api_err_http_by_name(const char *name);

/* A typed error being built by a handler. */
typedef struct {
  sk__api_err code;
  char field[64]; /* "" when no one field is at fault */
  char message[512];
} sk__api_error;

void sk__api_fail(sk__api_error *e, sk__api_err code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* {"error": {"code", "message", "field"}} (field null when ""); caller frees. */
cJSON *sk__api_error_json(const sk__api_error *e);

/* ---- the API's clock ---------------------------------------------------------------- */

/* Sim time 0 is 2026-01-01T00:00:00Z plus the scenario's start_hour.  ISO text of sim time
 * ts_s into buf (32 bytes hold it), whole seconds unless ts_s has ms; "" for a time that
 * is not finite or beyond 1e11 s. */
void sk__api_iso(double start_hour, double ts_s, char *buf, size_t len);
/* A time argument: a number (sim seconds) or ISO 8601 text on the API's clock, into sim
 * seconds.  Returns 0 and fills e (field named) when it is neither. */
int sk__api_time_arg(const cJSON *v, double start_hour, const char *field, double *ts_s,
                     sk__api_error *e);

/* ---- frames ------------------------------------------------------------------------- */

/* The latest monitor tick's rows and the last decision, as the frame builder needs them. */
typedef struct {
  double start_hour;
  const sk_room_sample *room;
  const sk_monitor_record *monitor; /* the latest tick at or before room->ts, or NULL */
  int n_monitor;
  const sk_action_record *last_action; /* latest applied/advised at or before, or NULL */
} sk__frame_in;

/* The seed's /ws/events object: {v, topic:"kpis", ts, sim_time_s, kpis{...}, ims{...},
 * last_action{...}|null}.  Caller frees. */
cJSON *sk__frame_kpis(const sk__frame_in *in);
/* {v, topic:"racks", ts, sim_time_s, racks[...schema rows], crah[...], room{...}}. */
cJSON *sk__frame_racks(double start_hour, const sk_room_sample *room, const sk_rack_sample *racks,
                       int n_racks, const sk_crah_sample *crahs, int n_rows,
                       const sk_monitor_record *monitor, int n_monitor);
/* {v, topic, ts, sim_time_s, <key>: schema row} for one row of table t (actions, events,
 * commands); key is "action", "event" or "command". */
cJSON *sk__frame_row(const char *topic, const char *key, double start_hour, sk_table_id t,
                     const void *row, double ts_s);

/* 1 when a decision counts as the seed's last_action (applied or advised). */
int sk__action_is_decision(const sk_action_record *a);
/* The seed's delta text: "+30ms", "-5%", "+0.5degC". */
void sk__action_delta_text(const sk_action_record *a, char *buf, size_t len);

/* The MMS summary of a tick: max deviation (NaN when n == 0), its rack, racks persistent. */
void sk__monitor_summary(const sk_monitor_record *rows, int n, double *max_dev, const char **rack,
                         int *persistent);

/* Heatmap metric of a rack row: "inlet", "outlet", "power", "deviation". */
typedef enum {
  SK_HEAT_INLET = 0,
  SK_HEAT_OUTLET,
  SK_HEAT_POWER,
  SK_HEAT_DEVIATION,
  SK_HEAT_COUNT
} sk__heat;
int sk__heat_parse(const char *name, sk__heat *out);
const char *sk__heat_name(sk__heat h);
const char *sk__heat_units(sk__heat h);

/* Adds a double as a number, or null when it is not finite. */
void sk__json_num(cJSON *o, const char *key, double v);

#endif

/* ---- request arguments -------------------------------------------------------------- */

/* unknown_field naming the first member of args not in allowed (NULL-terminated); 1 ok. */
int sk__args_only(const cJSON *args, const char *const *allowed, sk__api_error *e);
/* The member name of args: 1 found and of the type (into *out), 0 absent (then *out is
 * untouched and, when required, e says missing_field), -1 of another type (e filled). */
int sk__arg_string(const cJSON *args, const char *name, int required, const char **out,
                   sk__api_error *e);
int sk__arg_number(const cJSON *args, const char *name, int required, double *out,
                   sk__api_error *e);
int sk__arg_bool(const cJSON *args, const char *name, int required, int *out, sk__api_error *e);
