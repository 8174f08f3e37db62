/*
 * store.h -- private to api/: what a twin side remembers of its run for the read ops
 * (heatmap at a past time, timeline, action log, the optimizer's last tick): the room row
 * and four heat values per rack of every sample, and every action, event and command row.
 * A live twin appends as it publishes; a replay loads a recording.  Queries take a `now`
 * bound: a replay answers as of its playhead.
 *
 * Memory: ~ (200 + 32 x racks) bytes a sample (2.5 KB at 72 racks: 21 MB for a simulated
 * day at 10 s) plus the rows of the audit trail.  Doubles, so a heatmap gives the values
 * the racks frame and the recording hold.
 */
#ifndef SKADI_API_STORE_H
#define SKADI_API_STORE_H

#include <stddef.h>

#include "proto.h"

typedef struct sk__store sk__store;

/* NULL when out of memory.  Rack ids come with the first sample. */
sk__store *sk__store_create(double start_hour);
void sk__store_destroy(sk__store *st);

/* 0 when out of memory (the row is dropped). */
int sk__store_add_sample(sk__store *st, const sk_room_sample *room, const sk_rack_sample *racks,
                         int n_racks, const sk_monitor_record *monitor, int n_monitor);
int sk__store_add_action(sk__store *st, const sk_action_record *a);
int sk__store_add_event(sk__store *st, const sk_event_record *ev);
int sk__store_add_command(sk__store *st, const sk_command_record *c);

size_t sk__store_samples(const sk__store *st);
const sk_room_sample *sk__store_room(const sk__store *st, size_t i);
/* The rows kept, by table (SK_TABLE_ACTIONS, _EVENTS, _COMMANDS): count, the i-th, and
 * the index of the first with ts >= ts_s. */
size_t sk__store_count(const sk__store *st, sk_table_id t);
const void *sk__store_row(const sk__store *st, sk_table_id t, size_t i);
size_t sk__store_lower(const sk__store *st, sk_table_id t, double ts_s);

/* The latest applied/advised action at or before ts_s, or NULL. */
const sk_action_record *sk__store_last_decision(const sk__store *st, double ts_s);
/* Active state of the timeline effects at now_s from the event rows: fills
 * {name: since_s} for effects whose last event is a start. */
cJSON *sk__store_active_effects(const sk__store *st, double now_s);

/* The read ops (docs/PROTOCOL.md), as of now_s. */
cJSON *sk__store_heatmap(const sk__store *st, const cJSON *args, double now_s, sk__api_error *e);
cJSON *sk__store_timeline(const sk__store *st, const cJSON *args, double now_s, sk__api_error *e);
cJSON *sk__store_actions_log(const sk__store *st, const cJSON *args, double now_s,
                             sk__api_error *e);
cJSON *sk__store_optimizer_tick(const sk__store *st, double now_s);

#endif
