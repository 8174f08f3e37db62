/*
 * recorder.c -- writes one run to one HDF5 file (layout and units in docs/HDF5.md).
 *
 * Life of a file:
 *   create: the whole structure (root attributes, /config, /racks, the empty extendible
 *           tables with their per-field attributes, empty /summary, /run_info with the
 *           start-time facts) is made up front, then the file switches to SWMR write
 *           (1.10 cannot create objects or attributes in SWMR mode).
 *   append: rows are copied into one bounded buffer per table and written with
 *           H5Dset_extent + a hyperslab H5Dwrite.  A buffer is written when it reaches
 *           the next chunk boundary, so apart from the chunk a flush cut short every
 *           write covers whole chunks.
 *   flush:  writes the buffers and H5Fflush.  In SWMR mode HDF5 orders its metadata
 *           writes so that a reader, even after the writer was SIGKILLed, sees a
 *           consistent file holding the rows of the last flush.
 *   finish: writes the buffers and closes the run file; copies it into "<path>.tmp" with
 *           the tables shuffle+deflate compressed and /summary and /run_info filled in,
 *           and renames that over <path>.
 *
 * Why the tables are compressed only at finish: a flush must write the chunk it cut
 * short, and a compressed chunk that grows is written to a new place in the file.  In
 * SWMR mode HDF5 1.10 never reuses the space it leaves (a reader may still be reading
 * it), so a file flushed every sample grew to 627 MB for a simulated day whose rows
 * compress to 20 MB.  Uncompressed chunks are rewritten in place: the run file is
 * bounded (~60 MB per simulated day at 72 racks), a flush costs ~0.1 ms, and the one
 * compression pass at finish (~0.4 s per simulated day) does not depend on how often
 * the caller flushed.  A run killed before finish leaves the uncompressed file.
 *
 * Invariants:
 *   - Only /run_info depends on the wall clock or the host.  Object modification times
 *     are switched off (H5Pset_obj_track_times) on every group and dataset, and char
 *     arrays are zero-filled after their first NUL on the way in, so two runs fed the
 *     same rows give files equal under `h5diff --exclude-path /run_info`, however often
 *     each flushed.
 *   - Table rows are stored packed and little-endian (no struct padding, no garbage
 *     bytes).  Datasets, compound types and per-field attributes all come from the
 *     public schema (schema.h), whose tables follow telemetry.h through offsetof; only
 *     the storage policy (chunk sizes, compression) is the recorder's own.
 *   - Memory is O(chunk) per table, whatever the run length.
 *   - A failed write (a full disk) makes the recorder sticky-failed and freezes the file:
 *     HDF5's descriptor is swapped for a read-only one, so no later write reaches it
 *     (and closing discards its writes, below), and the file stays as the last good
 *     flush left it (plus whole chunks written since), as after SIGKILL.  The run file
 *     has no chunk cache and no fill values, so every H5Dwrite reaches the file before
 *     it returns and an extent never counts rows that are not on disk; a flush first
 *     allocates the file up to HDF5's allocated end, so the superblock never claims
 *     more than the file holds and a full disk or a file-size limit stops the flush
 *     before it writes anything.
 *   - No HDF5 file id outlives a failure (a server runs many sessions): HDF5 1.10 keeps
 *     the id of a file whose H5Fclose failed, having freed what it names, so the id
 *     leaks and the library's exit-time cleanup may crash on it.  A file that failed
 *     (or whose final flush fails) gets its descriptor pointed at an anonymous memory
 *     file before the close (discard_writes): the close then succeeds, and what it
 *     writes goes nowhere, leaving the file on disk as the last good flush left it.
 *
 * Considered and rejected: one attribute holding a JSON map of units per table (h5py
 * users would need json.loads to get a unit; `<field>_units` is one lookup); file types
 * equal to the memory structs (no conversion, but padding bytes would reach the file);
 * compressing during the run and compacting at finish (the run file could still grow
 * without bound); fsync on flush (the guarantee is for SIGKILL, which the page cache
 * survives, not for power loss).
 */
#define _GNU_SOURCE /* memfd_create */

#include "skadi/recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "h5util.h"
#include "skadi/require.h"

/* Deflate level of the finished file; chunk sizes are per table below.  Measured on a
 * simulated day of 72 racks: level 1 gives 19.9 MB in 0.37 s, level 4 19.6 MB in 0.46 s,
 * level 6 19.4 MB in 0.52 s. */
#define DEFLATE_LEVEL 1

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tables ------------------------------------------------------------------------- */

/* The tables a run appends to come first in sk_table_id; the static rack layout is
 * written once at creation. */
#define N_TABLES SK_TABLE_RACK_LAYOUT

/* Rows per chunk, which is also rows per buffer: big enough that deflate sees tens of KiB
 * per chunk and the chunk index stays small, small enough that a chunk stays well inside
 * HDF5's default 1 MiB chunk cache.  At 72 racks and 6 CRAHs a rack chunk holds 56
 * samples, a CRAH chunk 170, a room chunk 512.  docs/HDF5.md lists them. */
static const hsize_t table_chunk_rows[N_TABLES] = {
    [SK_TABLE_RACKS] = 4096,   [SK_TABLE_CRAH] = 1024,    [SK_TABLE_ROOM] = 512,
    [SK_TABLE_EVENTS] = 128,   [SK_TABLE_MONITOR] = 4096, [SK_TABLE_ACTIONS] = 256,
    [SK_TABLE_COMMANDS] = 256,
};

/* ---- the recorder ------------------------------------------------------------------ */

typedef struct {
  const sk_schema_table *spec;
  hsize_t chunk_rows;
  hid_t dset;
  hid_t mtype;
  unsigned char *buf; /* chunk_rows rows */
  size_t n_buf;       /* rows in buf */
  hsize_t n_written;  /* rows in the dataset */
} table;

typedef enum { REC_OPEN, REC_FINISHED, REC_FAILED } rec_state;

struct sk_recorder {
  char *path;
  hid_t file;
  table tables[N_TABLES];
  rec_state state;
  int complete; /* finish left a complete file at path (sk_recorder_is_complete) */
  char err[512];
};

/* ---- small writers ----------------------------------------------------------------- */

static herr_t attr_f64(hid_t obj, const char *name, double value) {
  return sk__h5_attr_write(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

/* "<key>" as float64 plus "<key>_units". */
static herr_t attr_figure(hid_t obj, const sk_recorder_figure *f) {
  char uname[256];
  int w = snprintf(uname, sizeof uname, "%s_units", f->key);
  if (w < 0 || (size_t)w >= sizeof uname)
    return -1;
  if (attr_f64(obj, f->key, f->value) < 0)
    return -1;
  return sk__h5_attr_str(obj, uname, f->unit ? f->unit : "");
}

/* ---- table attributes and rows --------------------------------------------------- */

/* "description" plus "<field>_units" and "<field>_description" for every field. */
static herr_t table_attrs(hid_t dset, const sk_schema_table *s) {
  if (sk__h5_attr_str(dset, "description", s->description) < 0)
    return -1;
  for (size_t i = 0; i < s->n_fields; i++)
    if (sk__h5_attr_meta(dset, s->fields[i].name, s->fields[i].units, s->fields[i].description) < 0)
      return -1;
  return 0;
}

/* Zero the bytes after the first NUL of each char array of the n rows at p, so stack
 * garbage behind a short name never reaches the file. */
static void sanitize_rows(const sk_schema_table *s, unsigned char *p, size_t n) {
  for (size_t r = 0; r < n; r++, p += s->row_size)
    for (size_t i = 0; i < s->n_fields; i++) {
      const sk_schema_field *f = &s->fields[i];
      if (f->type != SK_FIELD_STR)
        continue;
      char *c = (char *)p + f->offset;
      size_t len = strnlen(c, f->size);
      memset(c + len, 0, f->size - len);
    }
}

/* ---- creation ---------------------------------------------------------------------- */

static hid_t make_group(hid_t file, const char *path) {
  hid_t gcpl = sk__h5_ocpl(H5P_GROUP_CREATE);
  if (gcpl < 0)
    return gcpl;
  hid_t g = H5Gcreate2(file, path, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  return g;
}

/* File access list for the newest format (SWMR needs it). */
static hid_t latest_fapl(void) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0)
    sk__h5_close(&fapl);
  return fapl;
}

/* Creates the extendible dataset of t->spec with its attributes; allocates the buffer. */
static sk_status table_create(table *t, hid_t file, const char *fpath, char *err, size_t errlen) {
  const sk_schema_table *s = t->spec;
  hid_t ftype = H5I_INVALID_HID, space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = t->chunk_rows;
  const char *what = "cannot create dataset";

  t->buf = malloc(t->chunk_rows * s->row_size);
  if (!t->buf) {
    snprintf(err, errlen, "%s: %s: out of memory", fpath, s->path);
    return SK_ENOMEM;
  }
  if ((t->mtype = sk__h5_row_type(s, 0, NULL)) < 0 || (ftype = sk__h5_row_type(s, 1, NULL)) < 0)
    goto fail;
  if ((space = H5Screate_simple(1, &dims, &maxdims)) < 0)
    goto fail;
  /* No filters while the run goes: see the design comment at the top. */
  if ((dcpl = sk__h5_ocpl(H5P_DATASET_CREATE)) < 0 || H5Pset_chunk(dcpl, 1, &chunk) < 0)
    goto fail;
  /* No fill values: with them HDF5 keeps a new chunk in its chunk cache whatever the
   * cache size (see create() for why nothing may be cached).  compact() restores the
   * default fill time. */
  if (H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0)
    goto fail;
  if ((t->dset = H5Dcreate2(file, s->path, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0)
    goto fail;
  what = "cannot write attributes of";
  if (table_attrs(t->dset, s) < 0)
    goto fail;
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Tclose(ftype);
  return SK_OK;

fail : {
  char w[128];
  snprintf(w, sizeof w, "%s %s", what, s->path);
  sk__h5_fail(err, errlen, fpath, w);
}
  sk__h5_close(&dcpl);
  sk__h5_close(&space);
  sk__h5_close(&ftype);
  return SK_EIO;
}

/* The static /racks table. */
static herr_t write_racks(hid_t file, const sk_recorder_config *cfg) {
  const sk_schema_table *s = &sk_schema_tables[SK_TABLE_RACK_LAYOUT];
  hid_t mtype = H5I_INVALID_HID, ftype = H5I_INVALID_HID, space = H5I_INVALID_HID;
  hid_t dcpl = H5I_INVALID_HID, dset = H5I_INVALID_HID;
  herr_t rc = -1;
  hsize_t n = cfg->n_racks;
  sk_rack_entry *rows = calloc(n ? n : 1, sizeof *rows);
  if (!rows)
    return -1;
  for (size_t i = 0; i < n; i++) {
    /* Lengths were checked by the caller; strncpy pads with NULs (no terminator needed:
     * the type is NULLPAD). */
    strncpy(rows[i].rack_id, cfg->rack_ids[i], SK_RACK_ID_LEN);
    rows[i].row = cfg->rack_row[i];
    rows[i].pos = cfg->rack_pos[i];
  }
  if ((mtype = sk__h5_row_type(s, 0, NULL)) < 0 || (ftype = sk__h5_row_type(s, 1, NULL)) < 0 ||
      (space = H5Screate_simple(1, &n, NULL)) < 0 || (dcpl = sk__h5_ocpl(H5P_DATASET_CREATE)) < 0)
    goto done;
  if ((dset = H5Dcreate2(file, s->path, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0)
    goto done;
  if (n && H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0)
    goto done;
  rc = table_attrs(dset, s);
done:
  sk__h5_close(&dset);
  sk__h5_close(&dcpl);
  sk__h5_close(&space);
  sk__h5_close(&ftype);
  sk__h5_close(&mtype);
  free(rows);
  return rc;
}

static void utc_now(char *buf, size_t len) {
  time_t now = time(NULL);
  struct tm tm;
  if (!gmtime_r(&now, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(buf, len, "unknown");
}

/* Bad input is checked before the file is touched, so it never leaves a partial file. */
static sk_status validate(const sk_recorder_config *cfg, char *err, size_t errlen) {
  for (size_t i = 0; i < cfg->n_racks; i++) {
    SK_REQUIRE(cfg->rack_ids && cfg->rack_ids[i] && cfg->rack_row && cfg->rack_pos);
    if (strlen(cfg->rack_ids[i]) > SK_RACK_ID_LEN) {
      snprintf(err, errlen, "%s: rack_ids[%zu] '%s' is longer than %d bytes", cfg->path, i,
               cfg->rack_ids[i], SK_RACK_ID_LEN);
      return SK_EINVAL;
    }
  }
  for (size_t i = 0; i < cfg->n_config; i++) {
    const char *k = cfg->config_keys[i];
    SK_REQUIRE(k && cfg->config_values);
    if (!k[0] || strchr(k, '/') || strcmp(k, ".") == 0) {
      snprintf(err, errlen, "%s: config key %zu '%s' is not a valid attribute name", cfg->path, i,
               k);
      return SK_EINVAL;
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(k, cfg->config_keys[j]) == 0) {
        snprintf(err, errlen, "%s: config key '%s' given twice", cfg->path, k);
        return SK_EINVAL;
      }
  }
  return SK_OK;
}

/* Points HDF5's descriptor of file at an empty anonymous file (in memory on Linux):
 * HDF5's later writes succeed and go nowhere, and the file on disk is left as it is. */
static void discard_writes(hid_t file) {
  void *h = NULL;
  if (file < 0 || H5Fget_vfd_handle(file, H5P_DEFAULT, &h) < 0 || !h)
    return;
  int fd = *(int *)h;
#ifdef __linux__
  int sink = memfd_create("skadi-discard", MFD_CLOEXEC);
#else
  FILE *tf = tmpfile();
  int sink = tf ? dup(fileno(tf)) : -1;
  if (tf)
    fclose(tf);
#endif
  if (sink >= 0) {
    dup2(sink, fd);
    close(sink);
  }
}

/* Gives back the space reserved past the end of the closed file at path (reserve's
 * extra): truncating a file to its own size frees its blocks past the end. */
static void release_reserve(const char *path) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0)
    (void)ftruncate(fd, st.st_size);
  if (fd >= 0)
    close(fd);
}

/* Closes *file so that its id is gone whatever happens (see the invariants above).
 * failed: the file already failed, nothing more may reach the disk.  Otherwise it is
 * flushed first, and if that fails, its later writes are discarded.  -1 when anything
 * failed (the disk then holds the last good flush), 0 when the file closed cleanly. */
static int close_h5file(hid_t *file, int failed) {
  int rc = failed ? -1 : 0;
  if (*file < 0)
    return rc;
  if (!failed && H5Fflush(*file, H5F_SCOPE_LOCAL) < 0) {
    failed = 1;
    rc = -1;
  }
  if (failed)
    discard_writes(*file);
  if (H5Fclose(*file) < 0)
    rc = -1;
  *file = H5I_INVALID_HID;
  return rc;
}

static void free_recorder(sk_recorder *rec) {
  for (int i = 0; i < N_TABLES; i++) {
    sk__h5_close(&rec->tables[i].dset);
    sk__h5_close(&rec->tables[i].mtype);
    free(rec->tables[i].buf);
  }
  close_h5file(&rec->file, 1); /* a recorder that failed to open, or closed already */
  free(rec->path);
  free(rec);
}

static sk_status extend_to_eoa(sk_recorder *rec, int whole, const char *what);
static int file_fd(const sk_recorder *rec);

static sk_status create(sk_recorder **out, const sk_recorder_config *cfg, char *err,
                        size_t errlen) {
  sk_status st = validate(cfg, err, errlen);
  if (st != SK_OK)
    return st;

  /* HDF5's own message for a missing directory is buried in its stack; open(2) gives the
   * plain reason, so try it first. */
  int fd = open(cfg->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot create file: %s", cfg->path, strerror(errno));
    return SK_EIO;
  }
  close(fd);

  sk_recorder *rec = calloc(1, sizeof *rec);
  if (!rec || !(rec->path = strdup(cfg->path))) {
    free(rec);
    snprintf(err, errlen, "%s: out of memory", cfg->path);
    return SK_ENOMEM;
  }
  rec->file = H5I_INVALID_HID;
  for (int i = 0; i < N_TABLES; i++) {
    rec->tables[i].spec = &sk_schema_tables[i];
    rec->tables[i].chunk_rows = table_chunk_rows[i];
    rec->tables[i].dset = H5I_INVALID_HID;
    rec->tables[i].mtype = H5I_INVALID_HID;
  }

  hid_t fcpl = H5I_INVALID_HID, fapl = H5I_INVALID_HID, g = H5I_INVALID_HID;
  const char *what = "cannot create HDF5 file";
  st = SK_EIO;
  /* No raw-data chunk cache in the run file: every write reaches the file before
   * H5Dwrite returns, so a full disk fails that write (and table_write takes the extent
   * back) rather than a later eviction losing rows the extent already counts.  Writes
   * cover whole chunks anyway.  Set on the file, not per dataset: H5Fstart_swmr_write
   * reopens the datasets with the default access list. */
  if ((fcpl = sk__h5_ocpl(H5P_FILE_CREATE)) < 0 || (fapl = latest_fapl()) < 0 ||
      H5Pset_cache(fapl, 0, 0, 0, 1.0) < 0)
    goto h5fail;
  if ((rec->file = H5Fcreate(cfg->path, H5F_ACC_TRUNC, fcpl, fapl)) < 0)
    goto h5fail;

  what = "cannot write root attributes";
  int32_t version = SK_RECORDER_FORMAT_VERSION;
  uint64_t seed = cfg->seed;
  hid_t root = rec->file; /* attributes on a file id go to its root group */
  if (sk__h5_attr_write(root, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version) < 0 ||
      sk__h5_attr_str(root, "skadi_version", cfg->skadi_version) < 0 ||
      sk__h5_attr_str(root, "scenario_name", cfg->scenario_name) < 0 ||
      sk__h5_attr_write(root, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed) < 0 ||
      attr_f64(root, "duration_s", cfg->duration_s) < 0 ||
      attr_f64(root, "sample_period_s", cfg->sample_period_s) < 0 ||
      sk__h5_attr_str(root, "scenario_json", cfg->scenario_json) < 0)
    goto h5fail;

  what = "cannot write /config";
  if ((g = make_group(rec->file, "/config")) < 0)
    goto h5fail;
  for (size_t i = 0; i < cfg->n_config; i++)
    if (sk__h5_attr_str(g, cfg->config_keys[i], cfg->config_values[i]) < 0)
      goto h5fail;
  sk__h5_close(&g);

  what = "cannot write /racks";
  if (write_racks(rec->file, cfg) < 0)
    goto h5fail;

  what = "cannot create /telemetry";
  if ((g = make_group(rec->file, "/telemetry")) < 0)
    goto h5fail;
  sk__h5_close(&g);
  what = "cannot create /monitor";
  if ((g = make_group(rec->file, "/monitor")) < 0)
    goto h5fail;
  sk__h5_close(&g);
  for (int i = 0; i < N_TABLES; i++)
    if ((st = table_create(&rec->tables[i], rec->file, cfg->path, err, errlen)) != SK_OK)
      goto fail;
  st = SK_EIO;

  what = "cannot create /summary";
  if ((g = make_group(rec->file, "/summary")) < 0)
    goto h5fail;
  sk__h5_close(&g);

  /* Start facts go in now: SWMR mode cannot add attributes, and a killed run keeps them. */
  what = "cannot write /run_info";
  char host[256] = "", utc[32];
  unsigned maj = 0, min = 0, rel = 0;
  char h5ver[32];
  if (gethostname(host, sizeof host - 1) != 0)
    snprintf(host, sizeof host, "unknown");
  utc_now(utc, sizeof utc);
  H5get_libversion(&maj, &min, &rel);
  snprintf(h5ver, sizeof h5ver, "%u.%u.%u", maj, min, rel);
  if ((g = make_group(rec->file, "/run_info")) < 0 || sk__h5_attr_str(g, "created_utc", utc) < 0 ||
      sk__h5_attr_str(g, "hostname", host) < 0 || sk__h5_attr_str(g, "hdf5_version", h5ver) < 0)
    goto h5fail;
  sk__h5_close(&g);

  what = "cannot start SWMR write mode";
  if (extend_to_eoa(rec, 1, what) != SK_OK) { /* its first flush: room for all of it */
    snprintf(err, errlen, "%s", rec->err);
    goto fail;
  }
  if (H5Fstart_swmr_write(rec->file) < 0)
    goto h5fail;

  H5Pclose(fapl);
  H5Pclose(fcpl);
  rec->state = REC_OPEN;
  *out = rec;
  return SK_OK;

h5fail:
  sk__h5_fail(err, errlen, cfg->path, what);
fail:
  sk__h5_close(&g);
  sk__h5_close(&fapl);
  sk__h5_close(&fcpl);
  free_recorder(rec);
  unlink(cfg->path);
  return st;
}

sk_status sk_recorder_create(sk_recorder **out, const sk_recorder_config *cfg, char *err,
                             size_t errlen) {
  SK_REQUIRE(out && cfg && cfg->path);
  *out = NULL;
  if (err && errlen)
    err[0] = '\0';
  char dummy[1];
  if (!err || !errlen) {
    err = dummy;
    errlen = sizeof dummy;
  }
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = create(out, cfg, err, errlen);
  sk__h5_quiet_end(&q);
  return st;
}

/* ---- appending --------------------------------------------------------------------- */

/* HDF5's descriptor of the run file (the default sec2 driver's), or -1. */
static int file_fd(const sk_recorder *rec) {
  void *h = NULL;
  if (rec->file < 0 || H5Fget_vfd_handle(rec->file, H5P_DEFAULT, &h) < 0 || !h)
    return -1;
  return *(int *)h;
}

/* After a failed write nothing more may reach the file.  The file on disk is what the
 * last flush left plus whole chunks written since, which SWMR keeps consistent for a
 * reader (as after SIGKILL); closing would write metadata the failed data writes do not
 * back (extents counting rows that never arrived) and, with no room left, might stop
 * halfway.  So HDF5's descriptor is swapped for a read-only one on the same file: its
 * later writes fail and change nothing. */
static void freeze(sk_recorder *rec) {
  int fd = file_fd(rec);
  int ro = fd < 0 ? -1 : open(rec->path, O_RDONLY | O_CLOEXEC);
  if (ro >= 0) {
    dup2(ro, fd);
    close(ro);
  }
}

/* Records the failure (HDF5's reason) and makes the recorder sticky-failed. */
static sk_status note_failed(sk_recorder *rec, const char *what, const sk_schema_table *s) {
  char w[160];
  snprintf(w, sizeof w, "%s%s%s", what, s ? " " : "", s ? s->path : "");
  sk__h5_fail(rec->err, sizeof rec->err, rec->path, w);
  rec->state = REC_FAILED;
  return SK_EIO;
}

/* The same, and nothing more reaches the file, which must still be open. */
static sk_status set_failed(sk_recorder *rec, const char *what, const sk_schema_table *s) {
  note_failed(rec, what, s);
  freeze(rec);
  return SK_EIO;
}

/* Space for bytes [from, to) of fd: allocated (posix_fallocate), or where the file
 * system cannot allocate ahead, the file extended; and (Linux) extra bytes after `to`
 * allocated without growing the file, for what HDF5 allocates while it flushes.  0 or
 * an errno. */
static int reserve(int fd, off_t from, off_t to, off_t extra) {
  int e = posix_fallocate(fd, from, to - from);
  if (e == EOPNOTSUPP || e == EINVAL)
    e = ftruncate(fd, to) == 0 ? 0 : errno;
#ifdef __linux__
  if (e == 0 && extra > 0 && fallocate(fd, FALLOC_FL_KEEP_SIZE, to, extra) != 0 &&
      errno != EOPNOTSUPP)
    e = errno;
#else
  (void)extra;
#endif
  return e;
}

/* Headroom reserved past HDF5's allocated end for what a flush allocates as it writes
 * (entries placed only when first written).  Starting SWMR writing, the first flush of
 * the whole structure, grew a 45 KB file by 21 KB: it gets as much as the file again. */
#define FLUSH_HEADROOM (64 * 1024)
/* What the compressed copy holds beside its rows (attributes, /config, /racks, the
 * tables' headers and chunk indexes): ~50 KB for the baseline room, 72 racks. */
#define COPY_METADATA_BYTES (256 * 1024)

/* Reserves the space HDF5 has allocated in file and extra bytes past it, so that closing
 * it cannot meet a full disk halfway (see close_h5file).  0 or an errno. */
static int reserve_h5(hid_t file, off_t extra) {
  void *h = NULL;
  haddr_t eoa = 0;
  struct stat st;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &h) < 0 || !h || H5Fget_eoa(file, &eoa) < 0)
    return 0; /* nothing to reserve with: the close goes as it would */
  int fd = *(int *)h;
  if (fstat(fd, &st) != 0)
    return 0;
  off_t end = (off_t)eoa > st.st_size ? (off_t)eoa : st.st_size;
  return reserve(fd, st.st_size, end, extra);
}

/* A flush writes the superblock, with the end of the space HDF5 has allocated, before it
 * extends the file to that end; when the extension fails (a file-size limit) the
 * superblock is left claiming more than the file holds, and no reader opens it.  So the
 * file is extended first, and a failure stops the flush before anything is written.
 * The space is allocated, not only promised (a sparse extension succeeds on a full disk
 * and the flush's writes then fail halfway): a failed flush can leave HDF5's metadata
 * cache unable to close the file, and its id would leak (HDF5 1.10.8, "slist already
 * enabled?").  whole: reserve from the start of the file, not only past its end (before
 * the first flush, when the file holds nothing but HDF5's superblock). */
static sk_status extend_to_eoa(sk_recorder *rec, int whole, const char *what) {
  haddr_t eoa = 0;
  struct stat st;
  int fd = file_fd(rec), e = 0;
  if (fd < 0 || H5Fget_eoa(rec->file, &eoa) < 0 || fstat(fd, &st) != 0)
    return SK_OK; /* nothing to check with: the flush goes as it would */
  off_t from = whole ? 0 : st.st_size;
  off_t extra = FLUSH_HEADROOM + (whole ? (off_t)eoa : 0);
  if ((off_t)eoa > from && (e = reserve(fd, from, (off_t)eoa, extra)) != 0) {
    sk_errf(rec->err, sizeof rec->err, "%s: %s: cannot extend the file: %s", rec->path, what,
            strerror(e));
    rec->state = REC_FAILED;
    freeze(rec);
    return SK_EIO;
  }
  return SK_OK;
}

static sk_status table_write(sk_recorder *rec, table *t) {
  if (t->n_buf == 0)
    return SK_OK;
  hsize_t start = t->n_written, count = t->n_buf, size = start + count;
  hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
  const char *what = "cannot extend";
  if (H5Dset_extent(t->dset, &size) < 0)
    goto fail;
  what = "cannot write rows to";
  if ((fspace = H5Dget_space(t->dset)) < 0 ||
      H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
      (mspace = H5Screate_simple(1, &count, NULL)) < 0 ||
      H5Dwrite(t->dset, t->mtype, mspace, fspace, H5P_DEFAULT, t->buf) < 0)
    goto fail;
  H5Sclose(mspace);
  H5Sclose(fspace);
  t->n_written = size;
  t->n_buf = 0;
  return SK_OK;
fail:
  set_failed(rec, what, t->spec);
  /* The extent must not outlive rows that never reached the file: a full disk fails the
   * chunk write after the larger extent is in the metadata cache, and closing the file
   * would store it, so a reader saw all-zero rows (fill values) past the real ones.  Back
   * to the rows written; that also drops the chunks allocated for the failed write. */
  if (size > start)
    H5Dset_extent(t->dset, &start);
  sk__h5_close(&mspace);
  sk__h5_close(&fspace);
  return SK_EIO;
}

/* Rows wanted before the next write: up to the next chunk boundary. */
static size_t table_room(const table *t) {
  return (size_t)(t->chunk_rows - t->n_written % t->chunk_rows);
}

static sk_status append(sk_recorder *rec, sk_table_id which, const void *rows, size_t n) {
  SK_REQUIRE(rec && (rows || n == 0));
  SK_REQUIRE(rec->state != REC_FINISHED && "rows added after sk_recorder_finish");
  if (rec->state == REC_FAILED)
    return SK_EIO;
  rec->err[0] = '\0';
  table *t = &rec->tables[which];
  const sk_schema_table *s = t->spec;
  const unsigned char *src = rows;
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = SK_OK;
  while (n > 0) {
    size_t want = table_room(t) - t->n_buf;
    size_t k = n < want ? n : want;
    unsigned char *dst = t->buf + t->n_buf * s->row_size;
    memcpy(dst, src, k * s->row_size);
    sanitize_rows(s, dst, k);
    t->n_buf += k;
    src += k * s->row_size;
    n -= k;
    if (t->n_buf == table_room(t) && (st = table_write(rec, t)) != SK_OK)
      break;
  }
  sk__h5_quiet_end(&q);
  return st;
}

sk_status sk_recorder_add_racks(sk_recorder *rec, const sk_rack_sample *rows, size_t n) {
  return append(rec, SK_TABLE_RACKS, rows, n);
}

sk_status sk_recorder_add_crahs(sk_recorder *rec, const sk_crah_sample *rows, size_t n) {
  return append(rec, SK_TABLE_CRAH, rows, n);
}

sk_status sk_recorder_add_room(sk_recorder *rec, const sk_room_sample *row) {
  return append(rec, SK_TABLE_ROOM, row, 1);
}

sk_status sk_recorder_add_event(sk_recorder *rec, const sk_event_record *ev) {
  return append(rec, SK_TABLE_EVENTS, ev, 1);
}

sk_status sk_recorder_add_monitor(sk_recorder *rec, const sk_monitor_record *rows, size_t n) {
  return append(rec, SK_TABLE_MONITOR, rows, n);
}

sk_status sk_recorder_add_action(sk_recorder *rec, const sk_action_record *a) {
  return append(rec, SK_TABLE_ACTIONS, a, 1);
}

sk_status sk_recorder_add_command(sk_recorder *rec, const sk_command_record *c) {
  return append(rec, SK_TABLE_COMMANDS, c, 1);
}

static sk_status write_all(sk_recorder *rec) {
  for (int i = 0; i < N_TABLES; i++) {
    sk_status st = table_write(rec, &rec->tables[i]);
    if (st != SK_OK)
      return st;
  }
  return SK_OK;
}

sk_status sk_recorder_flush(sk_recorder *rec) {
  SK_REQUIRE(rec);
  SK_REQUIRE(rec->state != REC_FINISHED && "flush after sk_recorder_finish");
  if (rec->state == REC_FAILED)
    return SK_EIO;
  rec->err[0] = '\0';
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  sk_status st = write_all(rec);
  if (st == SK_OK)
    st = extend_to_eoa(rec, 0, "cannot flush");
  if (st == SK_OK && H5Fflush(rec->file, H5F_SCOPE_GLOBAL) < 0)
    st = set_failed(rec, "cannot flush", NULL);
  sk__h5_quiet_end(&q);
  return st;
}

/* ---- finishing --------------------------------------------------------------------- */

/* Writes the buffers and closes every handle; the file is complete and closed after. */
static sk_status close_file(sk_recorder *rec) {
  sk_status st = rec->state == REC_OPEN ? write_all(rec) : SK_OK;
  for (int i = 0; i < N_TABLES; i++) {
    if (rec->tables[i].dset >= 0 && H5Dclose(rec->tables[i].dset) < 0 && st == SK_OK)
      st = set_failed(rec, "cannot close", rec->tables[i].spec);
    rec->tables[i].dset = H5I_INVALID_HID;
  }
  if (rec->file >= 0 && rec->state == REC_OPEN && st == SK_OK)
    st = extend_to_eoa(rec, 0, "cannot close");
  /* a failed file closes with its writes discarded: it stays as the last flush left it */
  int failed = st != SK_OK || rec->state != REC_OPEN;
  if (close_h5file(&rec->file, failed) != 0 && st == SK_OK)
    st = note_failed(rec, "cannot close file", NULL);
  return st;
}

static herr_t write_figures(hid_t file, const char *group, const sk_recorder_figure *figs, size_t n,
                            const char *status_text) {
  hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
  if (g < 0)
    return -1;
  herr_t rc = 0;
  for (size_t i = 0; i < n && rc >= 0; i++) {
    SK_REQUIRE(figs[i].key);
    rc = attr_figure(g, &figs[i]);
  }
  if (rc >= 0 && status_text) {
    char utc[32];
    utc_now(utc, sizeof utc);
    rc = sk__h5_attr_str(g, "finished_utc", utc) < 0 ? -1
                                                     : sk__h5_attr_str(g, "status", status_text);
  }
  if (H5Gclose(g) < 0)
    rc = -1;
  return rc;
}

/* H5Aiterate2 callback: copies one attribute of loc onto the object *data. */
static herr_t copy_attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
  (void)info;
  hid_t dst = *(const hid_t *)data;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  hid_t ftype = a < 0 ? H5I_INVALID_HID : H5Aget_type(a);
  hid_t space = a < 0 ? H5I_INVALID_HID : H5Aget_space(a);
  hid_t mtype = ftype < 0 ? H5I_INVALID_HID : H5Tget_native_type(ftype, H5T_DIR_DEFAULT);
  hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
  size_t size = mtype < 0 || n < 0 ? 0 : H5Tget_size(mtype) * (size_t)n;
  unsigned char *buf = size ? calloc(1, size) : NULL;
  herr_t rc = -1;
  if (buf && H5Aread(a, mtype, buf) >= 0) {
    rc = sk__h5_attr_write(dst, name, ftype, mtype, buf);
    if (H5Tdetect_class(mtype, H5T_VLEN) > 0 || H5Tis_variable_str(mtype) > 0)
#if H5_VERSION_GE(1, 12, 0)
      H5Treclaim(mtype, space, H5P_DEFAULT, buf);
#else
      H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, buf);
#endif
  }
  free(buf);
  sk__h5_close(&mtype);
  sk__h5_close(&space);
  sk__h5_close(&ftype);
  sk__h5_close(&a);
  return rc;
}

/* Copies every attribute of src onto dst, in creation order (so h5py lists them alike). */
static herr_t copy_attrs(hid_t src, hid_t dst) {
  return H5Aiterate2(src, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, copy_attr_cb, &dst);
}

/* Copies the 1-D dataset at path from src to dst, block_rows rows at a time, with its
 * attributes; compress adds shuffle+deflate to the source's creation list (which carries
 * the chunk size, untracked times and attribute creation order).  Rows are read and
 * written in the packed file type, so they are not converted.  On failure, HDF5's reason
 * goes to detail[SK__H5_DETAIL_LEN]. */
static herr_t copy_dataset(hid_t src, hid_t dst, const char *path, hsize_t block_rows, int compress,
                           char *detail) {
  hid_t sd = H5I_INVALID_HID, dd = H5I_INVALID_HID, ftype = H5I_INVALID_HID;
  hid_t sspace = H5I_INVALID_HID, dspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
  hid_t dcpl = H5I_INVALID_HID;
  unsigned char *buf = NULL;
  herr_t rc = -1;
  hsize_t n = 0, maxdims = 0;
  if ((sd = H5Dopen2(src, path, H5P_DEFAULT)) < 0 || (ftype = H5Dget_type(sd)) < 0 ||
      (sspace = H5Dget_space(sd)) < 0 || H5Sget_simple_extent_dims(sspace, &n, &maxdims) < 0)
    goto done;
  if ((dcpl = H5Dget_create_plist(sd)) < 0 ||
      (compress && (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, DEFLATE_LEVEL) < 0 ||
                    H5Pset_fill_time(dcpl, H5D_FILL_TIME_IFSET) < 0)))
    goto done;
  if ((dspace = H5Screate_simple(1, &n, &maxdims)) < 0 ||
      (dd = H5Dcreate2(dst, path, ftype, dspace, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
      copy_attrs(sd, dd) < 0)
    goto done;
  size_t row = H5Tget_size(ftype);
  if (!row || !(buf = malloc(block_rows * row)))
    goto done;
  for (hsize_t start = 0; start < n; start += block_rows) {
    hsize_t count = n - start < block_rows ? n - start : block_rows;
    if ((mspace = H5Screate_simple(1, &count, NULL)) < 0 ||
        H5Sselect_hyperslab(sspace, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
        H5Sselect_hyperslab(dspace, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
        H5Dread(sd, ftype, mspace, sspace, H5P_DEFAULT, buf) < 0 ||
        H5Dwrite(dd, ftype, mspace, dspace, H5P_DEFAULT, buf) < 0)
      goto done;
    sk__h5_close(&mspace);
  }
  rc = 0;
done:
  if (rc < 0)
    sk__h5_detail(detail); /* before the closes below clear the stack */
  free(buf);
  sk__h5_close(&mspace);
  sk__h5_close(&dspace);
  sk__h5_close(&dcpl);
  sk__h5_close(&sspace);
  sk__h5_close(&ftype);
  sk__h5_close(&dd);
  sk__h5_close(&sd);
  return rc;
}

/* A new group at path in dst with the attributes of the one in src. */
static herr_t copy_group(hid_t src, hid_t dst, const char *path) {
  hid_t sg = H5Gopen2(src, path, H5P_DEFAULT);
  hid_t dg = sg < 0 ? H5I_INVALID_HID : make_group(dst, path);
  herr_t rc = dg < 0 ? -1 : copy_attrs(sg, dg);
  sk__h5_close(&dg);
  sk__h5_close(&sg);
  return rc;
}

typedef struct {
  const sk_recorder_figure *summary, *run_info;
  size_t n_summary, n_run_info;
  const char *status_text;
} figures;

static herr_t add_figures(hid_t file, const figures *f) {
  if (write_figures(file, "/summary", f->summary, f->n_summary, NULL) < 0)
    return -1;
  return write_figures(file, "/run_info", f->run_info, f->n_run_info,
                       f->status_text ? f->status_text : "");
}

/* Writes the compressed copy of the closed run file to tmp, figures included.  On
 * failure err says what failed; the caller removes tmp. */
static sk_status compact(const char *path, const char *tmp, const figures *f, off_t rows_bytes,
                         char *err, size_t errlen) {
  hid_t fapl = latest_fapl(), fcpl = sk__h5_ocpl(H5P_FILE_CREATE);
  hid_t src = H5I_INVALID_HID, dst = H5I_INVALID_HID;
  const char *what = "cannot reopen";
  char detail[SK__H5_DETAIL_LEN];
  /* Not H5Ocopy: in 1.10.8 it crashes copying a group whose many (dense) attributes are
   * variable-length strings, as /config's are. */
  static const char *const groups[] = {"/config", "/telemetry", "/monitor", "/summary",
                                       "/run_info"};
  if (fapl < 0 || fcpl < 0 || (src = H5Fopen(path, H5F_ACC_RDONLY, fapl)) < 0)
    goto fail;
  what = "cannot create compressed copy";
  if ((dst = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl)) < 0)
    goto fail;
  /* Room for the whole copy before writing it, so that a full disk fails here, with
   * nothing written, not in the close: the rows (compressed, they only shrink; deflate's
   * worst case adds well under 1/64) and the metadata, or at most the run file's bytes
   * on disk (its holes are never copied). */
  struct stat sb;
  off_t need = rows_bytes + rows_bytes / 64 + COPY_METADATA_BYTES;
  if (stat(path, &sb) == 0 && (off_t)sb.st_blocks * 512 < need)
    need = (off_t)sb.st_blocks * 512;
  int e = need > 0 ? reserve_h5(dst, need + FLUSH_HEADROOM) : 0;
  if (e != 0) {
    sk_errf(err, errlen, "%s: no room for the compressed copy (up to %.1f MB): %s", tmp,
            (double)need / 1e6, strerror(e));
    goto cleanup;
  }
  what = "cannot copy into compressed copy";
  if (copy_attrs(src, dst) < 0)
    goto fail;
  for (size_t i = 0; i < COUNT(groups); i++)
    if (copy_group(src, dst, groups[i]) < 0)
      goto fail;
  if (copy_dataset(src, dst, sk_schema_tables[SK_TABLE_RACK_LAYOUT].path, 4096, 0, detail) < 0) {
    sk__h5_fail_detail(err, errlen, tmp, "cannot copy /racks into compressed copy", detail);
    goto cleanup;
  }
  for (int i = 0; i < N_TABLES; i++)
    if (copy_dataset(src, dst, sk_schema_tables[i].path, table_chunk_rows[i], 1, detail) < 0) {
      sk__h5_fail_detail(err, errlen, tmp, "cannot copy rows into compressed copy", detail);
      goto cleanup;
    }
  what = "cannot write /summary or /run_info in compressed copy";
  if (add_figures(dst, f) < 0)
    goto fail;
  what = "cannot close compressed copy";
  if (close_h5file(&dst, 0) != 0)
    goto fail;
  release_reserve(tmp);
  H5Fclose(src);
  H5Pclose(fcpl);
  H5Pclose(fapl);
  return SK_OK;
fail:
  sk__h5_fail(err, errlen, tmp, what);
cleanup:
  close_h5file(&dst, 1); /* the copy is removed: what its close would write goes nowhere */
  sk__h5_close(&src);
  sk__h5_close(&fcpl);
  sk__h5_close(&fapl);
  return SK_EIO;
}

/* Fallback when the compressed copy failed: the run file is complete but stays
 * uncompressed; add the figures to it in place. */
static sk_status finish_in_place(const char *path, const figures *f, const char *why, char *err,
                                 size_t errlen) {
  hid_t fapl = latest_fapl();
  hid_t file = fapl < 0 ? H5I_INVALID_HID : H5Fopen(path, H5F_ACC_RDWR, fapl);
  sk_status st = SK_OK;
  int e = file < 0 ? 0 : reserve_h5(file, FLUSH_HEADROOM);
  if (e != 0) {
    sk_errf(err, errlen, "%s: no room to write /summary and /run_info: %s", path, strerror(e));
    st = SK_EIO;
  } else if (file < 0 || add_figures(file, f) < 0 ||
             sk__h5_attr_str(file, "uncompressed", why) < 0) {
    sk__h5_fail(err, errlen, path, "cannot write /summary or /run_info");
    st = SK_EIO;
  }
  if (close_h5file(&file, st != SK_OK) != 0 && st == SK_OK) {
    sk__h5_fail(err, errlen, path, "cannot close");
    st = SK_EIO;
  }
  release_reserve(path);
  sk__h5_close(&fapl);
  return st;
}

static sk_status finish(sk_recorder *rec, const figures *f) {
  sk_status st = close_file(rec);
  if (st != SK_OK)
    return st;
  release_reserve(rec->path); /* the room the copy needs is measured from what is left */
  size_t len = strlen(rec->path);
  char *tmp = malloc(len + sizeof ".tmp");
  if (!tmp) {
    snprintf(rec->err, sizeof rec->err, "%s: out of memory", rec->path);
    return SK_ENOMEM;
  }
  memcpy(tmp, rec->path, len);
  memcpy(tmp + len, ".tmp", sizeof ".tmp");
  char why[240] = ""; /* two of them fit rec->err */
  off_t rows_bytes = 0;
  for (int i = 0; i < N_TABLES; i++)
    rows_bytes += (off_t)(rec->tables[i].n_written * rec->tables[i].spec->row_size);
  st = compact(rec->path, tmp, f, rows_bytes, why, sizeof why);
  if (st == SK_OK && rename(tmp, rec->path) != 0) {
    snprintf(why, sizeof why, "%s: cannot rename to %s: %s", tmp, rec->path, strerror(errno));
    st = SK_EIO;
  }
  if (st != SK_OK) {
    unlink(tmp);
    /* The rows are safe in the run file; still make it complete, and say which. */
    char why2[240] = "";
    if (finish_in_place(rec->path, f, why, why2, sizeof why2) == SK_OK) {
      rec->complete = 1;
      snprintf(rec->err, sizeof rec->err, "%s (%s is complete but uncompressed)", why, rec->path);
    } else {
      snprintf(rec->err, sizeof rec->err, "%s; then %s", why, why2);
    }
  } else {
    rec->complete = 1;
  }
  free(tmp);
  return st;
}

/* Keys become attribute names next to "<key>_units" and, in /run_info, the start and
 * status attributes; a clash would only show after the run file is closed, so check
 * first. */
static int figure_name_taken(const sk_recorder_figure *figs, size_t n, size_t upto,
                             const char *name) {
  static const char *const reserved[] = {"created_utc", "hostname", "hdf5_version", "finished_utc",
                                         "status"};
  for (size_t i = 0; i < COUNT(reserved); i++)
    if (strcmp(name, reserved[i]) == 0)
      return 1;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(figs[i].key);
    if ((i < upto && strcmp(name, figs[i].key) == 0) ||
        (strncmp(name, figs[i].key, len) == 0 && strcmp(name + len, "_units") == 0))
      return 1;
  }
  return 0;
}

static sk_status check_figures(sk_recorder *rec, const char *group, const sk_recorder_figure *figs,
                               size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *k = figs[i].key;
    SK_REQUIRE(k);
    if (!k[0] || strchr(k, '/') || strlen(k) > 200 || figure_name_taken(figs, n, i, k)) {
      snprintf(rec->err, sizeof rec->err,
               "%s: %s key '%s' is empty, too long, has a '/' or "
               "is taken",
               rec->path, group, k);
      return SK_EINVAL;
    }
  }
  return SK_OK;
}

sk_status sk_recorder_finish(sk_recorder *rec, const sk_recorder_figure *summary, size_t n_summary,
                             const sk_recorder_figure *run_info, size_t n_run_info,
                             const char *status_text) {
  SK_REQUIRE(rec && (summary || !n_summary) && (run_info || !n_run_info));
  SK_REQUIRE(rec->state != REC_FINISHED && "sk_recorder_finish called twice");
  if (rec->state == REC_FAILED)
    return SK_EIO;
  rec->err[0] = '\0';
  sk_status st = check_figures(rec, "/summary", summary, n_summary);
  if (st == SK_OK)
    st = check_figures(rec, "/run_info", run_info, n_run_info);
  if (st != SK_OK)
    return st;
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  const figures f = {summary, run_info, n_summary, n_run_info, status_text};
  st = finish(rec, &f);
  rec->state = st == SK_OK ? REC_FINISHED : REC_FAILED;
  sk__h5_quiet_end(&q);
  return st;
}

int sk_recorder_is_complete(const sk_recorder *rec) {
  SK_REQUIRE(rec);
  return rec->complete;
}

const char *sk_recorder_error(const sk_recorder *rec) {
  SK_REQUIRE(rec);
  return rec->err;
}

void sk_recorder_close(sk_recorder *rec) {
  if (!rec)
    return;
  sk__h5_quiet q;
  sk__h5_quiet_begin(&q);
  close_file(rec); /* nothing to report to: a failure leaves the last flushed state */
  free_recorder(rec);
  sk__h5_quiet_end(&q);
}
