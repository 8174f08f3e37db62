/*
 * outfile.c -- writing an --out file without clobbering (contract in outfile.h).
 *
 * The check runs twice: once before the work (sk_cli_out_check: an hour of training must
 * not end in "exists"), and again when the file is put in place, since something may have
 * appeared at the path meanwhile.  Without --force the second one is not a check but the
 * placing itself: link(2) refuses an existing target atomically, where a stat followed by
 * rename(2) would leave a window.  A file system without hard links (EPERM, ENOTSUP, ...)
 * falls back to that stat and rename.  With --force, rename(2) replaces a regular file
 * atomically; the path is looked at again (lstat, so a symbolic link is seen as one) just
 * before, which leaves a window of microseconds for a FIFO to replace the file -- a race
 * against someone who can already write the directory.
 *
 * Considered and rejected: O_EXCL on the output itself (a failed write would leave half
 * a file where there was none, and --force could not be atomic); following a symbolic
 * link to a regular file (rename would replace the link, not what it points to, and
 * writing through it would change a file elsewhere: either way not what the user typed).
 */
#define _POSIX_C_SOURCE 200809L

#include "outfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "a directory", "a FIFO", ... for a file that is not regular; NULL for a regular one. */
static const char *kind_of(mode_t m) {
  if (S_ISREG(m))
    return NULL;
  if (S_ISDIR(m))
    return "a directory";
  if (S_ISFIFO(m))
    return "a FIFO";
  if (S_ISCHR(m))
    return "a character device";
  if (S_ISBLK(m))
    return "a block device";
  if (S_ISLNK(m))
    return "a symbolic link";
  if (S_ISSOCK(m))
    return "a socket";
  return "not a regular file";
}

int sk_cli_out_check(const char *prog, const char *path, int force) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return 0; /* absent, or unreachable: the write will say why */
  const char *kind = kind_of(st.st_mode);
  if (kind != NULL) {
    fprintf(stderr, "%s: %s: exists and is %s, not a regular file; not replacing it%s\n", prog,
            path, kind, force ? " (even with --force)" : "");
    return 2;
  }
  if (!force) {
    fprintf(stderr, "%s: %s: exists; pass --force to replace it\n", prog, path);
    return 2;
  }
  return 0;
}

int sk_cli_out_make_parent(const char *prog, const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path)
    return 0;
  size_t n = (size_t)(slash - path);
  char *dir = malloc(n + 1);
  if (dir == NULL) {
    fprintf(stderr, "%s: %s: out of memory\n", prog, path);
    return 1;
  }
  memcpy(dir, path, n);
  dir[n] = '\0';
  int rc = 0;
  struct stat st;
  if (stat(dir, &st) != 0 && errno == ENOENT && mkdir(dir, 0777) != 0 && errno != EEXIST &&
      errno != ENOENT) { /* ENOENT: more than one level is missing; the write will say so */
    fprintf(stderr, "%s: %s: cannot create directory %s: %s\n", prog, path, dir, strerror(errno));
    rc = 1;
  }
  free(dir);
  return rc;
}

int sk_cli_out_open(sk_cli_out *o, const char *prog, const char *path, int force) {
  o->prog = prog;
  o->path = path;
  o->force = force;
  o->f = NULL;
  size_t n = strlen(path) + sizeof ".tmp-XXXXXX";
  o->tmp = malloc(n);
  if (o->tmp == NULL) {
    fprintf(stderr, "%s: %s: out of memory\n", prog, path);
    return 1;
  }
  snprintf(o->tmp, n, "%s.tmp-XXXXXX", path);
  int fd = mkstemp(o->tmp);
  if (fd < 0) {
    fprintf(stderr, "%s: %s: cannot create a temporary file beside it: %s\n", prog, path,
            strerror(errno));
    free(o->tmp);
    o->tmp = NULL;
    return 1;
  }
  mode_t mask = umask(0); /* mkstemp makes 0600; give the usual 0666 & ~umask */
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask); /* a failure only leaves the output more private */
  o->f = fdopen(fd, "w");
  if (o->f == NULL) {
    fprintf(stderr, "%s: %s: %s\n", prog, o->tmp, strerror(errno));
    close(fd);
    unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    return 1;
  }
  return 0;
}

/* Puts tmp at path (the last step of sk_cli_out_commit): 0, 1 or 2 with a message. */
static int place(const sk_cli_out *o) {
  if (!o->force) {
    if (link(o->tmp, o->path) == 0) {
      unlink(o->tmp);
      return 0;
    }
    if (errno == EEXIST)
      return sk_cli_out_check(o->prog, o->path, 0);
    if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != ENOSYS &&
        errno != EMLINK) {
      fprintf(stderr, "%s: %s: cannot put the output there: %s\n", o->prog, o->path,
              strerror(errno));
      return 1;
    }
  }
  int rc = sk_cli_out_check(o->prog, o->path, o->force);
  if (rc != 0)
    return rc;
  if (rename(o->tmp, o->path) != 0) {
    fprintf(stderr, "%s: %s: cannot rename %s to it: %s\n", o->prog, o->path, o->tmp,
            strerror(errno));
    return 1;
  }
  return 0;
}

int sk_cli_out_commit(sk_cli_out *o, int ok) {
  int rc = 1;
  int e = 0;
  if (fclose(o->f) != 0)
    e = errno;
  o->f = NULL;
  if (ok && e != 0)
    fprintf(stderr, "%s: %s: write failed: %s\n", o->prog, o->path, strerror(e));
  else if (ok)
    rc = place(o);
  if (rc != 0)
    unlink(o->tmp); /* place() succeeded or never ran: the temporary file is still there */
  free(o->tmp);
  o->tmp = NULL;
  return rc;
}
