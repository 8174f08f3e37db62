/*
 * csv.h -- the one CSV reader: streams a file record by record, so memory is one record
 * however long the file.  Used by the dataset mixer (mix.c), the request trace loader
 * (trace.c), the inference-timing fit (perf_csv.c) and the IMS data loader (ims_data.c).
 *
 * Syntax: RFC 4180 with the usual leniencies.
 *   - Fields are separated by a delimiter (',' by default; '\t', ';' ...).  A field may be
 *     quoted: "a, b" keeps the delimiter, "" is one quote, and line breaks inside quotes
 *     are part of the field.  A quote inside an unquoted field is an ordinary character.
 *   - Records end in LF or CRLF (a CR elsewhere is data); the last may lack one.
 *   - A UTF-8 byte-order mark at the very start is skipped.
 *   - The delimiter may be sniffed (delimiter SK_CSV_SNIFF): the first non-blank line is
 *     read for ',', ';' and tab outside quotes, and the most frequent one is the
 *     delimiter (none at all: ',', a one-column file).  A tie between two of them is an
 *     error, "cannot tell the delimiter: the first line has 2 ',' and 2 ';' ..."
 *   - With skip_trailer, lines after the data that are not data -- a single field where
 *     the header has several, as SQL Server's "(15277 rows affected)" and "Completion time:
 *     ..." -- are skipped and counted (sk_csv_trailer), as long as nothing but such lines
 *     follows; a data record after one makes that line an error.
 *   - Blank lines (nothing, or with trim only blanks) are skipped; a line holding "" is a
 *     record with one empty field.
 *   - With trim (the default), spaces and tabs (unless tab is the delimiter) around a field
 *     are dropped, also around a quoted one: "ts, rack_id" reads as "ts" and "rack_id".
 *   - A NUL byte is an error (not a text file), as is a record longer than the caller's
 *     cap (usually a stray quote that swallowed the rest of the file).
 * Lines are physical lines, counted from 1 however records span them, so an editor's
 * line number finds the place.  Every error is one message in the caller's buffer,
 *   "<name>:<line>: <column>: <reason>"
 * where <column> is the header's name of the field (or "field N" before a header is read)
 * and is left out for errors about the whole record.
 *
 * Typical use:
 *   sk_csv *r;
 *   if ((st = sk_csv_create(&r, path, NULL, err, errlen)) != SK_OK) return st;
 *   st = sk_csv_read_header(r, err, errlen);
 *   if (st == SK_OK) st = sk_csv_column(r, "inlet_c", &col, err, errlen);
 *   int more;
 *   while (st == SK_OK && (st = sk_csv_next(r, &more, err, errlen)) == SK_OK && more)
 *     st = sk_csv_field_number(r, col, &x, err, errlen);  ... use x ...
 *   sk_csv_destroy(r);
 */
#ifndef SKADI_CSV_H
#define SKADI_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "skadi/status.h"

#define SK_CSV_DEFAULT_MAX_RECORD_BYTES (1u << 20) /* 1 MiB */
#define SK_CSV_DEFAULT_MAX_FIELDS 4096u

/* sk_csv_opts.delimiter that asks for the delimiter to be sniffed (',' ';' or tab). */
#define SK_CSV_SNIFF '\0'

/* sk_csv_errf's field for a message about the whole record (no column named). */
#define SK_CSV_RECORD ((size_t)-1)

typedef struct sk_csv sk_csv;

typedef struct {
  char delimiter;          /* between fields; not '"', CR or LF; SK_CSV_SNIFF (NUL): sniffed
                              from the first line.  Default ',' */
  int trim;                /* 1: drop spaces and tabs around fields (default 1) */
  int ragged;              /* 0: once a header is read, every record must have as many
                              fields as it (default 0); 1: any number, the caller checks */
  size_t max_record_bytes; /* cap on one record's text: its fields plus one byte each;
                              >= 16.  Default SK_CSV_DEFAULT_MAX_RECORD_BYTES */
  size_t max_fields;       /* cap on fields per record, >= 1.  Default
                              SK_CSV_DEFAULT_MAX_FIELDS */
  int skip_trailer;        /* 1: skip and count trailing non-data lines (above); default 0 */
} sk_csv_opts;

/* Fills *o with the defaults above. */
void sk_csv_opts_init(sk_csv_opts *o);

/* Opens the file at path for reading (opts NULL: the defaults; copied).  On success *out
 * is a reader the caller frees with sk_csv_destroy.  Otherwise *out is NULL, nothing is
 * allocated, and err says "<path>: cannot open: <system's reason>":
 *   SK_ENOTFOUND  the file (or a directory on its path) does not exist
 *   SK_EIO        it cannot be opened, or is a directory ("cannot read: Is a directory")
 *   SK_ENOMEM     out of memory */
sk_status sk_csv_create(sk_csv **out, const char *path, const sk_csv_opts *opts, char *err,
                        size_t errlen);

/* Reads from f, which the caller opened and closes after sk_csv_destroy; reading starts at
 * f's position (a byte-order mark there is skipped).  name is used in messages (copied).
 * SK_OK or SK_ENOMEM, as sk_csv_create. */
sk_status sk_csv_create_stream(sk_csv **out, FILE *f, const char *name, const sk_csv_opts *opts,
                               char *err, size_t errlen);

/* Frees the reader (and closes the file sk_csv_create opened); NULL is a no-op.  Field
 * and header strings die with it. */
void sk_csv_destroy(sk_csv *r);

/* Reads the next non-blank record.  SK_OK with *more = 1: it is the current record;
 * SK_OK with *more = 0: end of input (sk_csv_field_count is then 0 and sk_csv_line still
 * gives the last record's line).  Errors, with the message in err:
 *   SK_EPARSE  bad syntax: a quote never closed, junk after a closing quote, a NUL byte,
 *              a record over max_record_bytes or max_fields, or (not ragged) a field
 *              count unlike the header's ("expected 3 fields as in the header, got 2")
 *   SK_EIO     read error ("<name>:<line>: read error: <reason>")
 *   SK_ENOMEM  out of memory
 * After an error the reader is only good for sk_csv_destroy. */
sk_status sk_csv_next(sk_csv *r, int *more, char *err, size_t errlen);

/* Reads the next non-blank record as the header: its fields become the column names
 * (kept until destroy; duplicates and empty names are allowed here, sk_csv_column
 * rejects a name it finds twice).  Call at most once, before the data records.  Errors as
 * sk_csv_next, plus SK_EPARSE "<name>:1: header: empty file; expected a header line
 * naming the columns" when there is no record at all. */
sk_status sk_csv_read_header(sk_csv *r, char *err, size_t errlen);

/* Columns in the header (0 before sk_csv_read_header), and the name of column i
 * (i < sk_csv_header_count; owned by the reader). */
size_t sk_csv_header_count(const sk_csv *r);
const char *sk_csv_header_name(const sk_csv *r, size_t i);

/* The index of the header column named `name` (bytewise equal; _nocase: equal ignoring
 * ASCII case) into *idx.  Needs the header.  SK_OK; SK_ENOTFOUND with "<name>:<line>:
 * header: no column "x" (it has: a, b, c)"; SK_EPARSE with "<name>:<line>: column "x"
 * appears twice in the header (fields 3 and 4)" if more than one column matches.  *idx is
 * untouched on failure; err may be NULL. */
sk_status sk_csv_column(const sk_csv *r, const char *name, size_t *idx, char *err, size_t errlen);
sk_status sk_csv_column_nocase(const sk_csv *r, const char *name, size_t *idx, char *err,
                               size_t errlen);

/* The header's names as "a, b, c" into buf (len bytes), ending in ", ..." when they do
 * not all fit: for messages that list what a file has. */
void sk_csv_header_names(const sk_csv *r, char *buf, size_t len);

/* Fields of the current record.  sk_csv_field is NUL-terminated (fields hold no NUL), owned
 * by the reader and valid until the next sk_csv_next; i < sk_csv_field_count. */
size_t sk_csv_field_count(const sk_csv *r);
const char *sk_csv_field(const sk_csv *r, size_t i);
size_t sk_csv_field_len(const sk_csv *r, size_t i);

/* The physical line the current record starts on (1-based); after the end of input, that
 * of the last record read (0 if none). */
size_t sk_csv_line(const sk_csv *r);

/* Where field i of the current record starts: its physical line and 1-based byte column
 * (the first byte after the delimiter, before any trimmed blank).  Either pointer may be
 * NULL. */
void sk_csv_field_pos(const sk_csv *r, size_t i, size_t *line, size_t *col);

/* The delimiter in use: the one given, or the sniffed one once a record has been read
 * (SK_CSV_SNIFF before). */
char sk_csv_delimiter(const sk_csv *r);

/* Trailing non-data lines skipped (skip_trailer), valid once sk_csv_next reported the end:
 * their count (0: none), the line of the first one, and its text (first 80 bytes, fields
 * joined by the delimiter; owned by the reader).  first_line and text may be NULL. */
size_t sk_csv_trailer(const sk_csv *r, size_t *first_line, const char **text);

/* The name given at creation (the path), for messages. */
const char *sk_csv_name(const sk_csv *r);

/* Formats "<name>:<line>: <column>: <reason>" into err, reason from fmt: <line> is where
 * field `field` starts and <column> its header name ("field N" without a header).  With
 * field SK_CSV_RECORD, or a field past the current record's end, <line> is the record's
 * first line; SK_CSV_RECORD also leaves out ": <column>". */
void sk_csv_errf(const sk_csv *r, size_t field, char *err, size_t errlen, const char *fmt, ...)
    SK_PRINTF_LIKE(5, 6);

/* Parses text as a finite decimal number: [+-] digits [. digits] [e|E [+-] digits], with
 * digits on at least one side of the point ("1e3", ".5", "-2." are fine; no blanks, hex,
 * inf, nan or trailing junk).  SK_OK with *out, or SK_EPARSE (also for a value that
 * overflows a double) with *out untouched.  The conversion is strtod's, correctly rounded,
 * in the "C" numeric locale the program runs in (it never calls setlocale). */
sk_status sk_csv_number(const char *text, double *out);

/* sk_csv_number on field i of the current record; on failure SK_EPARSE and
 * "<name>:<line>: <column>: "abc" is not a number" in err. */
sk_status sk_csv_field_number(const sk_csv *r, size_t i, double *out, char *err, size_t errlen);

#endif
