/*
 * h5util.c -- HDF5 plumbing shared by recorder.c, recording.c and ims_model_file.c
 * (contracts in h5util.h).
 *
 * The writers make self-describing HDF5 (string attributes, units next to values, no
 * modification times), the readers check a path before HDF5 sees it, and all of them
 * report HDF5 failures as "<path>: <what>: <HDF5's reason>" with the library's own error
 * printing silenced; these helpers are that common ground, so they stay alike when one of
 * them changes.  The compound row types live here because the recorder writes and the
 * reader reads the same schema tables (schema.h) through them.  Kept out: what belongs to
 * one file's layout (the recorder's SWMR handling, the model's datasets).
 */
#define _POSIX_C_SOURCE 200809L

#include "h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sk__h5_quiet_begin(sk__h5_quiet *q) {
  H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void sk__h5_quiet_end(const sk__h5_quiet *q) {
  H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

/* HDF5 does not terminate at exit: after a failed write (a full disk) a file cannot be
 * closed, and the library's atexit cleanup then loops over it, prints "infinite loop
 * closing library" with its stack, and in 1.10.8 may crash in H5D_close.  What the last
 * flush wrote is on disk already, and the OS closes the descriptors.  H5dont_atexit only
 * takes effect before the library's first use, hence a constructor; a program that
 * initialized HDF5 earlier keeps its cleanup (the call then fails, harmlessly). */
__attribute__((constructor)) static void no_atexit_cleanup(void) {
  (void)H5dont_atexit();
}

/* An I/O failure's description holds a timestamp, buffer addresses and a newline around
 * "error message = '<strerror>'"; keep "<what failed>: <strerror>".  Other descriptions
 * are kept, with control characters turned into spaces. */
static void tidy_desc(char *out, const char *desc) {
  static const char key[] = "error message = '";
  const char *m = strstr(desc, key);
  const char *colon = strchr(desc, ':');
  if (m && colon && colon < m) {
    m += sizeof key - 1;
    const char *end = strchr(m, '\'');
    int n = end ? (int)(end - m) : (int)strlen(m);
    snprintf(out, SK__H5_DETAIL_LEN, "%.*s: %.*s", (int)(colon - desc), desc, n, m);
  } else {
    snprintf(out, SK__H5_DETAIL_LEN, "%s", desc);
  }
  for (char *c = out; *c; c++)
    if ((unsigned char)*c < 0x20)
      *c = ' ';
}

static herr_t innermost_cb(unsigned n, const H5E_error2_t *e, void *data) {
  if (n == 0 && e->desc)
    tidy_desc((char *)data, e->desc);
  return 0;
}

static herr_t errno_cb(unsigned n, const H5E_error2_t *e, void *data) {
  if (n == 0 && e->desc && strstr(e->desc, "errno = "))
    *(int *)data = 1;
  return 0;
}

sk_status sk__h5_read_status(void) {
  int sys = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, errno_cb, &sys);
  return sys ? SK_EIO : SK_EPARSE;
}

void sk__h5_detail(char *detail) {
  detail[0] = '\0';
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_cb, detail);
}

void sk__h5_fail_detail(char *err, size_t errlen, const char *path, const char *what,
                        const char *detail) {
  char d[SK__H5_DETAIL_LEN];
  if (!detail) {
    sk__h5_detail(d);
    detail = d;
  }
  /* A long reason is cut at errlen; the path and what come first, so they survive. */
  sk_errf(err, errlen, "%s: %s%s%s", path, what, detail[0] ? ": " : "", detail);
}

void sk__h5_fail(char *err, size_t errlen, const char *path, const char *what) {
  sk__h5_fail_detail(err, errlen, path, what, NULL);
}

void sk__h5_close(hid_t *id) {
  if (*id >= 0)
    H5Idec_ref(*id);
  *id = H5I_INVALID_HID;
}

hid_t sk__h5_ocpl(hid_t cls) {
  hid_t p = H5Pcreate(cls);
  if (p < 0)
    return p;
  if (H5Pset_obj_track_times(p, 0) < 0 ||
      H5Pset_attr_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0)
    sk__h5_close(&p);
  return p;
}

hid_t sk__h5_vstr_type(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0))
    sk__h5_close(&t);
  return t;
}

hid_t sk__h5_fixed_str(size_t size) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t >= 0 && (H5Tset_size(t, size) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0))
    sk__h5_close(&t);
  return t;
}

herr_t sk__h5_attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *value) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr =
      space < 0 ? H5I_INVALID_HID : H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc = attr < 0 ? -1 : H5Awrite(attr, mtype, value);
  if (attr >= 0 && H5Aclose(attr) < 0) /* the write may only land at close */
    rc = -1;
  sk__h5_close(&space);
  return rc;
}

herr_t sk__h5_attr_str(hid_t obj, const char *name, const char *value) {
  hid_t t = sk__h5_vstr_type();
  if (t < 0)
    return -1;
  const char *v = value ? value : "";
  herr_t rc = sk__h5_attr_write(obj, name, t, t, &v);
  sk__h5_close(&t);
  return rc;
}

herr_t sk__h5_attr_meta(hid_t obj, const char *name, const char *units, const char *description) {
  char n[96];
  snprintf(n, sizeof n, "%s_units", name);
  if (sk__h5_attr_str(obj, n, units) < 0)
    return -1;
  snprintf(n, sizeof n, "%s_description", name);
  return sk__h5_attr_str(obj, n, description);
}

char *sk__h5_attr_dup_str(hid_t attr) {
  hid_t ft = H5Aget_type(attr), mt = H5I_INVALID_HID;
  char *out = NULL;
  if (ft >= 0 && H5Tis_variable_str(ft) > 0) {
    char *s = NULL;
    /* HDF5 does not convert between character sets: read in the file's. */
    if ((mt = H5Tcopy(H5T_C_S1)) >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0 &&
        H5Tset_cset(mt, H5Tget_cset(ft)) >= 0 && H5Aread(attr, mt, &s) >= 0) {
      out = strdup(s ? s : "");
      H5free_memory(s);
    }
  } else if (ft >= 0) {
    size_t n = H5Tget_size(ft);
    out = calloc(n + 1, 1);
    if (out && ((mt = sk__h5_fixed_str(n)) < 0 || H5Tset_cset(mt, H5Tget_cset(ft)) < 0 ||
                H5Aread(attr, mt, out) < 0)) {
      free(out);
      out = NULL;
    }
  }
  sk__h5_close(&mt);
  sk__h5_close(&ft);
  return out;
}

int sk__h5_attr_read_str(hid_t attr, char *buf, size_t len) {
  char *s = sk__h5_attr_dup_str(attr);
  snprintf(buf, len, "%s", s ? s : "");
  free(s);
  return s ? 0 : -1;
}

/* The memory (packed = 0) or file type of one field; the caller closes it. */
static hid_t field_type(const sk_schema_field *f, int packed) {
  switch (f->type) {
  case SK_FIELD_F64:
    return H5Tcopy(packed ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
  case SK_FIELD_I32:
    return H5Tcopy(packed ? H5T_STD_I32LE : H5T_NATIVE_INT32);
  case SK_FIELD_I64:
    return H5Tcopy(packed ? H5T_STD_I64LE : H5T_NATIVE_INT64);
  case SK_FIELD_STR:
    return sk__h5_fixed_str(f->size);
  }
  return H5I_INVALID_HID;
}

hid_t sk__h5_row_type(const sk_schema_table *t, int packed, const unsigned char *keep) {
  size_t size = 0;
  for (size_t i = 0; i < t->n_fields; i++)
    size += !keep || keep[i] ? t->fields[i].size : 0;
  hid_t ct = H5Tcreate(H5T_COMPOUND, packed ? size : t->row_size);
  size_t off = 0;
  for (size_t i = 0; ct >= 0 && i < t->n_fields; i++) {
    const sk_schema_field *f = &t->fields[i];
    if (keep && !keep[i])
      continue;
    hid_t ft = field_type(f, packed);
    if (ft < 0 || H5Tinsert(ct, f->name, packed ? off : f->offset, ft) < 0)
      sk__h5_close(&ct);
    sk__h5_close(&ft);
    off += f->size;
  }
  return ct;
}

sk_status sk__h5_check_file(const char *path, const char *noun, const char *not_hdf5, char *err,
                            size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) {
    int e = errno;
    sk_errf(err, errlen, "%s: %s", path, strerror(e));
    return e == ENOENT || e == ENOTDIR ? SK_ENOTFOUND : SK_EIO;
  }
  if (S_ISDIR(st.st_mode)) {
    sk_errf(err, errlen, "%s: is a directory, not %s", path, noun);
    return SK_EPARSE;
  }
  if (access(path, R_OK) != 0) {
    sk_errf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    return SK_EIO;
  }
  if (not_hdf5 && H5Fis_hdf5(path) <= 0) {
    sk_errf(err, errlen, "%s: %s", path, not_hdf5);
    return SK_EPARSE;
  }
  return SK_OK;
}

sk_status sk__h5_check_version(long long version, int max, const char *path, const char *what,
                               char *err, size_t errlen) {
  if (version >= 1 && version <= max)
    return SK_OK;
  char range[32] = "1";
  if (max > 1)
    snprintf(range, sizeof range, "1..%d", max);
  sk_errf(err, errlen, "%s: format_version %lld: this skadi reads %s of version %s%s", path,
          version, what, range, version > max ? " (the file is newer)" : "");
  return SK_EPARSE;
}

int sk__h5_superblock_flags(const char *path) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  int fd = open(path, O_RDONLY);
  struct stat st;
  int flags = -1;
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) == 0)
    for (off_t off = 0; off + 12 <= st.st_size; off = off ? off * 2 : 512) {
      unsigned char b[12];
      if (pread(fd, b, sizeof b, off) != (ssize_t)sizeof b)
        break;
      if (memcmp(b, sig, sizeof sig) == 0) {
        flags = b[8] >= 2 ? b[11] : 0;
        break;
      }
    }
  close(fd);
  return flags;
}
