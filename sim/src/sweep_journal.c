/*
 * sweep_journal.c -- a sweep's journal (sweep.h): every finished row appended to
 * "<out>.journal" and synced as it comes, so that a sweep killed with SIGKILL, or a
 * machine that goes down, loses only the runs in flight; --resume reads it back.
 *
 * Layout: a header -- the magic "skadi-sweep-journal\n" (20 bytes), uint32 version,
 * uint32 row size (sizeof(sk_sweep_result)), uint64 length of the canonical sweep text,
 * the text -- then rows, each sizeof(sk_sweep_result) raw bytes and a uint64 FNV-1a of
 * them.  Raw structs in native byte order: the journal lives for one sweep on one
 * machine and is read by the build that wrote it (the row size guards against another
 * build); rows read back bit for bit, so a resumed table equals an uninterrupted one.
 *
 * A row is written with one write() and then fdatasync(): a SIGKILL cannot tear a row
 * the kernel has accepted, but a full disk or a power cut can leave part of the last
 * one.  The reader stops at the first row whose size or check is wrong and the opener
 * cuts the file there, so new rows follow the good ones; a lost row is run again.
 *
 * Considered and rejected: appending rows to the HDF5 file itself (a chunked, growing
 * /runs, flushed per row).  An HDF5 file killed between flushes can be unreadable as a
 * whole (its superblock and metadata cache are not journaled), so it would still need a
 * recovery path; a flat append-only log has none to need.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skadi/sweep.h"

#define MAGIC "skadi-sweep-journal\n"
#define MAGIC_LEN 20
#define VERSION 1u
#define HEADER_FIXED (MAGIC_LEN + 4 + 4 + 8)

struct sk_sweep_journal {
  int fd;
  off_t end; /* bytes of whole rows: a failed append is cut back to it */
  char path[1100];
};

static uint64_t fnv1a(const void *p, size_t n) {
  const unsigned char *b = p;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

int sk_sweep_journal_path(const char *out, char *buf, size_t len) {
  int n = snprintf(buf, len, "%s.journal", out);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      if (w == 0)
        errno = ENOSPC;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads exactly n bytes: 1, 0 at a clean or short end, -1 on an error. */
static int read_all(int fd, void *buf, size_t n) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0)
      return 0;
    p += r;
    n -= (size_t)r;
  }
  return 1;
}

static sk_status write_header(int fd, const sk_sweep *sw, const char *path, char *err,
                              size_t errlen) {
  const char *json = sk_sweep_json(sw);
  uint32_t ver = VERSION, rs = (uint32_t)sizeof(sk_sweep_result);
  uint64_t jl = strlen(json);
  if (write_all(fd, MAGIC, MAGIC_LEN) || write_all(fd, &ver, sizeof ver) ||
      write_all(fd, &rs, sizeof rs) || write_all(fd, &jl, sizeof jl) ||
      write_all(fd, json, (size_t)jl) || fdatasync(fd) != 0) {
    sk_errf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return SK_EIO;
  }
  return SK_OK;
}

/* Checks the header of the journal open on fd against sw and reads its rows (up to the
 * first torn or bad one, whose offset is *good_end). */
static sk_status read_journal(int fd, const char *path, const sk_sweep *sw, sk_sweep_result **rows,
                              size_t *n_rows, off_t *good_end, char *err, size_t errlen) {
  char magic[MAGIC_LEN];
  uint32_t ver = 0, rs = 0;
  uint64_t jl = 0;
  const char *json = sk_sweep_json(sw);
  if (read_all(fd, magic, MAGIC_LEN) != 1 || memcmp(magic, MAGIC, MAGIC_LEN) != 0 ||
      read_all(fd, &ver, sizeof ver) != 1 || read_all(fd, &rs, sizeof rs) != 1 ||
      read_all(fd, &jl, sizeof jl) != 1) {
    sk_errf(err, errlen, "%s: not a sweep journal (no \"skadi-sweep-journal\" header)", path);
    return SK_EPARSE;
  }
  if (ver != VERSION || rs != sizeof(sk_sweep_result)) {
    sk_errf(err, errlen,
            "%s: a journal of another skadi build (version %u, rows of %u bytes; this one "
            "writes %u, %zu); use --force to start over",
            path, ver, rs, VERSION, sizeof(sk_sweep_result));
    return SK_EPARSE;
  }
  size_t want = strlen(json);
  char *text = jl == want ? malloc(want + 1) : NULL;
  int same = text && read_all(fd, text, want) == 1 && memcmp(text, json, want) == 0;
  free(text);
  if (!same) {
    sk_errf(err, errlen,
            "%s: made from a different sweep (its sweep text differs); use --force to start "
            "over",
            path);
    return SK_EPARSE;
  }
  size_t cap = 0, n = 0;
  sk_sweep_result *v = NULL;
  *good_end = (off_t)(HEADER_FIXED + want);
  for (;;) {
    sk_sweep_result r;
    uint64_t h;
    if (read_all(fd, &r, sizeof r) != 1 || read_all(fd, &h, sizeof h) != 1 ||
        h != fnv1a(&r, sizeof r))
      break;
    if (n == cap) {
      size_t nc = cap ? 2 * cap : 64;
      sk_sweep_result *nv = realloc(v, nc * sizeof *nv);
      if (!nv) {
        free(v);
        sk_errf(err, errlen, "%s: out of memory", path);
        return SK_ENOMEM;
      }
      v = nv;
      cap = nc;
    }
    v[n++] = r;
    *good_end += (off_t)(sizeof r + sizeof h);
  }
  if (rows)
    *rows = v;
  else
    free(v);
  if (n_rows)
    *n_rows = n;
  return SK_OK;
}

sk_status sk_sweep_journal_open(const char *path, const sk_sweep *sw, int resume,
                                sk_sweep_journal **out, sk_sweep_result **rows, size_t *n_rows,
                                char *err, size_t errlen) {
  *out = NULL;
  if (rows)
    *rows = NULL;
  if (n_rows)
    *n_rows = 0;
  sk_sweep_journal *j = calloc(1, sizeof *j);
  if (!j) {
    sk_errf(err, errlen, "%s: out of memory", path);
    return SK_ENOMEM;
  }
  snprintf(j->path, sizeof j->path, "%s", path);
  struct stat sb;
  int exists = lstat(path, &sb) == 0;
  if (exists && !S_ISREG(sb.st_mode)) { /* never write through or over what is not ours */
    sk_errf(err, errlen, "%s: exists and is not a regular file (the sweep's journal goes there)",
            path);
    free(j);
    return SK_EINVAL;
  }
  sk_status st = SK_OK;
  if (resume && exists) {
    j->fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    off_t good = 0;
    if (j->fd < 0) {
      sk_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
      st = SK_EIO;
    } else if ((st = read_journal(j->fd, path, sw, rows, n_rows, &good, err, errlen)) != SK_OK) {
      ;
    } else if (ftruncate(j->fd, good) != 0 || lseek(j->fd, good, SEEK_SET) < 0) {
      sk_errf(err, errlen, "%s: cannot cut its torn tail: %s", path, strerror(errno));
      st = SK_EIO;
    }
    j->end = good;
  } else {
    j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (j->fd < 0) {
      sk_errf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
      st = SK_EIO;
    } else {
      st = write_header(j->fd, sw, path, err, errlen);
      j->end = (off_t)(HEADER_FIXED + strlen(sk_sweep_json(sw)));
    }
  }
  if (st != SK_OK) {
    if (rows) {
      free(*rows);
      *rows = NULL;
    }
    if (n_rows)
      *n_rows = 0;
    if (j->fd >= 0)
      close(j->fd);
    if (!exists && st != SK_EINVAL) /* ours: a header we could not finish */
      unlink(path);
    free(j);
    return st;
  }
  *out = j;
  return SK_OK;
}

sk_status sk_sweep_journal_add(sk_sweep_journal *j, const sk_sweep_result *r, char *err,
                               size_t errlen) {
  /* one write of row and check: the kernel takes it whole or reports a short write */
  unsigned char buf[sizeof *r + sizeof(uint64_t)];
  uint64_t h = fnv1a(r, sizeof *r);
  memcpy(buf, r, sizeof *r);
  memcpy(buf + sizeof *r, &h, sizeof h);
  if (write_all(j->fd, buf, sizeof buf) != 0 || fdatasync(j->fd) != 0) {
    sk_errf(err, errlen, "%s: cannot write: %s", j->path, strerror(errno));
    /* a part of the row may be in: cut it, so the rows that follow stay readable */
    if (ftruncate(j->fd, j->end) == 0)
      (void)lseek(j->fd, j->end, SEEK_SET);
    return SK_EIO;
  }
  j->end += (off_t)sizeof buf;
  return SK_OK;
}

void sk_sweep_journal_close(sk_sweep_journal *j, int remove) {
  if (!j)
    return;
  close(j->fd);
  if (remove)
    unlink(j->path);
  free(j);
}
