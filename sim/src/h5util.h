/*
 * h5util.h -- HDF5 plumbing shared by the recorder (recorder.c), the recording reader
 * (recording.c) and the IMS model files (ims_model_file.c).  Private to sim/.
 *
 * Conventions: functions returning hid_t give H5I_INVALID_HID (< 0) on failure and the
 * caller closes what they return; herr_t ones give < 0 on failure.  None of them reports
 * a message: the caller words it (with sk__h5_fail for HDF5's own reason).
 */
#ifndef SKADI_SIM_H5UTIL_H
#define SKADI_SIM_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>

#include "skadi/schema.h"
#include "skadi/status.h"

/* HDF5 prints its error stack by default; we report errors ourselves, so every public
 * entry point that calls HDF5 silences it with begin and restores the caller's handler
 * with end on the way out. */
typedef struct {
  H5E_auto2_t func;
  void *data;
} sk__h5_quiet;

void sk__h5_quiet_begin(sk__h5_quiet *q);
void sk__h5_quiet_end(const sk__h5_quiet *q);

#define SK__H5_DETAIL_LEN 256

/* The innermost message of HDF5's error stack (e.g. "unable to open file: name = ...,
 * errno = 28, error message = 'No space left on device'") into detail[SK__H5_DETAIL_LEN]
 * ("" when the stack is empty).  Must run before any other HDF5 call, which would clear
 * the stack. */
void sk__h5_detail(char *detail);

/* Why a read of a file that exists, can be read and is HDF5 failed, from HDF5's stack
 * (before any other HDF5 call): SK_EIO when a system call failed (its message carries
 * "errno = "), else SK_EPARSE -- the bytes were read but do not make sense: a damaged
 * file (a bad checksum, inflate() failed, an address past the end). */
sk_status sk__h5_read_status(void);

/* Formats "<path>: <what>: <detail>" into err (errlen bytes; err NULL or errlen 0: no-op);
 * ": <detail>" is left out when detail is empty.  detail NULL takes it from the stack now
 * (sk__h5_fail), so that call must come before any other HDF5 call. */
void sk__h5_fail_detail(char *err, size_t errlen, const char *path, const char *what,
                        const char *detail);
void sk__h5_fail(char *err, size_t errlen, const char *path, const char *what);

/* Releases *id if it is valid and sets it to H5I_INVALID_HID: safe on every exit path. */
void sk__h5_close(hid_t *id);

/* Object creation property list of class cls (H5P_FILE_CREATE, H5P_GROUP_CREATE,
 * H5P_DATASET_CREATE) with modification times off -- two runs or trainings fed the same
 * input give equal files -- and attribute creation order tracked and indexed, so h5py
 * lists attributes in the order written. */
hid_t sk__h5_ocpl(hid_t cls);

/* String types: variable-length UTF-8 (h5py reads it as str), and fixed-length
 * NUL-padded of size bytes (a value that fills the whole array keeps its last byte). */
hid_t sk__h5_vstr_type(void);
hid_t sk__h5_fixed_str(size_t size);

/* Scalar attribute name on obj, of file type ftype, written from *value of memory type
 * mtype. */
herr_t sk__h5_attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *value);

/* Variable-length UTF-8 string attribute; NULL is written as "". */
herr_t sk__h5_attr_str(hid_t obj, const char *name, const char *value);

/* The string attributes "<name>_units" and "<name>_description" that document a field or
 * scalar called name (at most 80 bytes). */
herr_t sk__h5_attr_meta(hid_t obj, const char *name, const char *units, const char *description);

/* Reads the open string attribute attr, variable or fixed length, into buf[len] (cut to
 * fit; "" on failure).  Returns 0, or -1 when it cannot be read. */
int sk__h5_attr_read_str(hid_t attr, char *buf, size_t len);

/* The same, whole, in a new NUL-terminated string the caller frees; NULL when it cannot
 * be read or memory runs out. */
char *sk__h5_attr_dup_str(hid_t attr);

/* Compound type of the rows of t.  packed = 0: the memory type, the row struct itself
 * (its size and offsets, native numbers).  packed = 1: the file type, fields back to back
 * and little-endian, so no padding byte reaches a file.  keep (NULL = every field) leaves
 * out the fields with keep[i] == 0: a reader's memory type for a file that lacks some.
 * Text is fixed-length and NUL-padded in both, so a value that fills the whole array
 * keeps its last byte. */
hid_t sk__h5_row_type(const sk_schema_table *t, int packed, const unsigned char *keep);

/* Checks that path can be opened for reading before HDF5 is handed it, whose own words
 * for these are buried in its stack: SK_ENOTFOUND "<path>: No such file or directory",
 * SK_EPARSE "<path>: is a directory, not <noun>" (a wrong path, not a failing disk),
 * SK_EIO "<path>: cannot read: <reason>"; with not_hdf5 non-NULL, also SK_EPARSE
 * "<path>: <not_hdf5>" when the file is not HDF5.  Message in err (errlen bytes, may be
 * NULL/0). */
sk_status sk__h5_check_file(const char *path, const char *noun, const char *not_hdf5, char *err,
                            size_t errlen);

/* SK_OK when a file's root format_version is one this build reads (1..max), else
 * SK_EPARSE with "<path>: format_version <v>: this skadi reads <what> of version 1..<max>
 * (the file is newer)" in err. */
sk_status sk__h5_check_version(long long version, int max, const char *path, const char *what,
                               char *err, size_t errlen);

/* The file-consistency flags of the superblock of the HDF5 file at path (version 2 and
 * later superblocks hold them; HDF5 looks for the superblock at 0, 512, 1024, ...): 0 for
 * a file closed cleanly or an older superblock, -1 when there is no superblock to read.
 * A file whose writer is still going or died keeps SK__H5_SB_WRITE set, and with
 * SK__H5_SB_SWMR_WRITE it was written in SWMR mode: only such a file may be opened as a
 * SWMR reader, since a plain open of it fails and a SWMR open of a damaged file can hang. */
#define SK__H5_SB_WRITE 0x01
#define SK__H5_SB_SWMR_WRITE 0x04
int sk__h5_superblock_flags(const char *path);

#endif
