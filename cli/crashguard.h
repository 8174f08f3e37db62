/*
 * crashguard.h -- a last resort for the commands that read files they did not write
 * (`skadi report`, `skadi ims`): HDF5 1.10.8 itself crashes on some damaged files (its
 * global-heap decoder, reading a variable-length string; docs/TESTING.md), below calls of
 * ours that would otherwise fail cleanly.  While a guard is set, SIGSEGV, SIGBUS, SIGFPE
 * and SIGILL print "<prog>: <path>: damaged: reading it crashed the HDF5 library" and exit
 * 2, the status of every other damaged file, instead of a core dump.
 *
 * Not in sanitizer builds (ASan's and UBSan's own reports are what those builds are
 * for), and it can misname a crash of ours as the file's: the message says so.  Private
 * to cli/.
 */
#ifndef SKADI_CLI_CRASHGUARD_H
#define SKADI_CLI_CRASHGUARD_H

/* From now on a crash names path (copied; cut at 400 bytes) and prog.  Replaces an
 * earlier guard. */
void sk_cli_guard_file(const char *prog, const char *path);

/* Crashes are crashes again (the default actions), and a pending watchdog is cancelled. */
void sk_cli_guard_clear(void);

/* Opens path as a recording and closes it again with a watchdog: HDF5 1.10.8 can also
 * loop forever decoding a damaged global heap, and the metadata of a sound recording
 * reads in milliseconds, so if this open has not returned after SKADI_READ_TIMEOUT_S
 * seconds (default 30) the program prints "<prog>: <path>: damaged: reading its
 * metadata did not end in N s" and exits 2.  Any error of the open itself is left for
 * the caller's real open to report (a CSV is no recording: nothing to watch).  Leaves
 * the crash guard set on path. */
void sk_cli_probe_recording(const char *prog, const char *path);

#endif
