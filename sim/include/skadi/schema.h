/*
 * schema.h -- the recording schema: for every table a run records (the rows of
 * telemetry.h plus the static rack layout), its HDF5 dataset, what one row is, and its
 * fields with name, C type, offset and size in the row struct, unit and description.
 *
 * This is the one list of the recorded fields.  The recorder (recorder.h) builds its HDF5
 * compound types and per-field attributes from it, the recording reader (recording.h)
 * reads rows back by it, and sk_schema_row_json encodes any row as JSON with it; the
 * layout for readers in other languages is docs/HDF5.md.  Field names are the HDF5 member
 * names and the JSON keys.
 *
 * Checklist: a field added to a row struct in telemetry.h gets its line in schema.c (the
 * static asserts there trip when a struct changes size) and in docs/HDF5.md; adding a
 * field at the end of a table keeps SK_RECORDER_FORMAT_VERSION, renaming, retyping or
 * removing one bumps it.
 */
#ifndef SKADI_SCHEMA_H
#define SKADI_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "skadi/telemetry.h"

/* cJSON's own tag; declared here so that including this header does not need cJSON's. */
struct cJSON;

/* Row of the static /racks table: the rack layout, written once when a recording is
 * created. */
typedef struct {
  char rack_id[SK_RACK_ID_LEN]; /* "R-C-07", NUL-padded */
  int32_t row;                  /* row index, 0 = row A */
  int32_t pos;                  /* position in the row, 0 = first */
} sk_rack_entry;

/* C type of a field; the HDF5 file type is the little-endian one of the same width, and
 * text is a fixed-length NUL-padded string of the array's size. */
typedef enum {
  SK_FIELD_F64, /* double; NaN = nothing to measure */
  SK_FIELD_I32, /* int32_t */
  SK_FIELD_I64, /* int64_t */
  SK_FIELD_STR  /* char[size]: up to the first NUL, or all size bytes when there is none */
} sk_field_type;

typedef struct {
  const char *name; /* member of the row struct, HDF5 member, JSON key: "inlet_c" */
  sk_field_type type;
  size_t offset;           /* bytes, offsetof in the row struct */
  size_t size;             /* bytes: 8, 4, or the char array's length */
  const char *units;       /* plain ASCII ("degC", "kW", "1" dimensionless, "" for text) */
  const char *description; /* what it measures */
} sk_schema_field;

/* The recorded tables: first those a run appends rows to, in the order the recorder
 * creates them, then the static rack layout. */
typedef enum {
  SK_TABLE_RACKS,       /* /telemetry/racks  sk_rack_sample */
  SK_TABLE_CRAH,        /* /telemetry/crah   sk_crah_sample */
  SK_TABLE_ROOM,        /* /telemetry/room   sk_room_sample */
  SK_TABLE_EVENTS,      /* /events           sk_event_record */
  SK_TABLE_MONITOR,     /* /monitor/racks    sk_monitor_record */
  SK_TABLE_ACTIONS,     /* /actions          sk_action_record */
  SK_TABLE_COMMANDS,    /* /commands         sk_command_record */
  SK_TABLE_RACK_LAYOUT, /* /racks            sk_rack_entry (static) */
  SK_TABLE_COUNT
} sk_table_id;

typedef struct {
  sk_table_id id;                /* its index in sk_schema_tables */
  const char *path;              /* HDF5 dataset, "/telemetry/racks" */
  const char *description;       /* what one row is */
  size_t row_size;               /* bytes, sizeof the row struct */
  const sk_schema_field *fields; /* in struct (and file) order */
  size_t n_fields;
} sk_schema_table;

/* Every table, indexed by sk_table_id: &sk_schema_tables[SK_TABLE_ROOM]. */
extern const sk_schema_table sk_schema_tables[SK_TABLE_COUNT];

/* The table whose dataset is path ("/telemetry/room"), or NULL. */
const sk_schema_table *sk_schema_table_find(const char *path);

/* The field of t called name, or NULL.  t non-NULL (asserted). */
const sk_schema_field *sk_schema_field_find(const sk_schema_table *t, const char *name);

/* One row of t (a pointer to its row struct) as a JSON object, one member per field in
 * field order: numbers as numbers (NaN and infinities as null; 64-bit integers are exact
 * up to 2^53, as any JSON number), char arrays as strings cut at their first NUL.  Returns
 * a new object the caller frees with cJSON_Delete, or NULL when out of memory. */
struct cJSON *sk_schema_row_json(const sk_schema_table *t, const void *row);

#endif
