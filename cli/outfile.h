/*
 * outfile.h -- how the subcommands write the file their --out names, so that all of them
 * keep the same promises (cli/outfile.c):
 *
 *  - never clobber: an existing output is refused (exit 2, "<path>: exists; pass --force
 *    to replace it") unless --force is given;
 *  - never replace what is not ours: with or without --force, a path that is not a regular
 *    file (a directory, a FIFO, a device such as /dev/null, a socket, a symbolic link) is
 *    refused (exit 2);
 *  - never leave half a file: the output is written to a temporary file beside it
 *    ("<path>.tmp-XXXXXX") that is put in place only when complete, and removed otherwise.
 *
 * Messages go to stderr and start with the caller's program name ("skadi mix").  Private
 * to cli/.
 */
#ifndef SKADI_CLI_OUTFILE_H
#define SKADI_CLI_OUTFILE_H

#include <stdio.h>

/* Checks before any work is done that path may be written: 0 when it does not exist, or
 * when it is a regular file and force is set; otherwise prints why and returns 2.  A
 * path whose state cannot be read (a missing parent directory) passes: writing it will
 * fail with the system's reason. */
int sk_cli_out_check(const char *prog, const char *path, int force);

/* Creates the parent directory of path when it is the only part missing (one level, such
 * as runs/ on a fresh clone), as `skadi run` does.  0, or 1 with a message when it cannot
 * be created.  A deeper missing path is left for the write to report. */
int sk_cli_out_make_parent(const char *prog, const char *path);

/* An output being written: open with sk_cli_out_open, write to f, finish with
 * sk_cli_out_commit. */
typedef struct {
  const char *prog; /* "skadi mix": starts each message */
  const char *path; /* the --out path (the caller's string) */
  int force;        /* replace an existing regular file */
  char *tmp;        /* the temporary file, malloc'd; freed by sk_cli_out_commit */
  FILE *f;          /* open on tmp until sk_cli_out_commit */
} sk_cli_out;

/* Creates the temporary file beside path (mode 0666 & ~umask, as fopen would) and opens
 * it for writing in o->f.  0, or 1 (I/O failure: the directory is missing or not
 * writable; message printed, nothing left behind). */
int sk_cli_out_open(sk_cli_out *o, const char *prog, const char *path, int force);

/* Closes o->f and, when ok (the caller wrote everything) and the close succeeded, puts the
 * temporary file at o->path: without force it is linked there, which fails if anything
 * appeared at the path since sk_cli_out_check (exit 2, as that check would have said);
 * with force it is renamed over it after checking again that the path is still absent or
 * a regular file.  On any failure the temporary file is removed.  Returns 0, 1 (I/O
 * failure, message printed) or 2 (refused, message printed).  When ok is 0 the caller has
 * printed its own message and the return is 1. */
int sk_cli_out_commit(sk_cli_out *o, int ok);

#endif
