#!/bin/sh
# Installs the Debian/Ubuntu packages Skadi builds and tests with.  The README's first
# command runs it with `sh` (no exec bit needed) on a machine that may have nothing but a
# minimal Debian 12 (debootstrap --variant=minbase: no make, no compiler, no sudo), so it
# relies on nothing outside Essential: sh, dpkg-query and, to install, apt-get.
#
# Idempotent: it asks dpkg which packages are installed and calls apt-get only for the
# missing ones.  Exit status: 0 everything present (now or before), 1 otherwise with a
# message that names the failing command and what it said.
#
# Two failures that look alike are told apart: no dpkg-query at all is "not a Debian-like
# system"; a dpkg-query that runs but cannot answer (its database unreadable, /dev/null not
# writable in a half-built chroot) is "the dpkg-query probe failed", with its words.  The
# probe therefore redirects nothing to /dev/null: its stderr is captured and read.
set -eu

# make and ca-certificates come with build-essential and git on most systems; listed so
# that a bare root gets them too (make runs the README's commands).
PKGS="build-essential make cmake pkg-config libgsl-dev libhdf5-dev hdf5-tools libzmq3-dev \
libcjson-dev check libsdl2-dev libwebsockets-dev python3 python3-h5py python3-numpy \
python3-pandas libsdl2-ttf-dev fonts-dejavu-core libpng-dev curl python3-websockets \
python3-zmq chromium wrk libopenmpi-dev openmpi-bin clang libclang-rt-14-dev"

say() { echo "setup: $*"; }
die() {
  echo "setup: $*" >&2
  exit 1
}

# /dev/null: apt-get, dpkg and cmake all write to it.  Checked first, with the shell's own
# words, so that its absence is not mistaken for anything else.
if ! devnull_err=$({ : >/dev/null; } 2>&1); then
  die "/dev/null is not writable (${devnull_err:-no reason given}); in a chroot, mount /dev first"
fi

# `command -v` prints the path; captured rather than sent to /dev/null (see above).
if ! dpkg_query=$(command -v dpkg-query); then
  die "this is not a Debian-like system (no dpkg-query on PATH=$PATH).
setup: install these packages (or their equivalents) by hand: $PKGS"
fi

# One query for every package.  dpkg-query exits 1 both when a package is unknown to it
# (never installed: "no packages found matching X") and when it fails outright, so the
# exit status alone cannot tell them apart: each stderr line is read instead.  dpkg itself
# is asked about too: a database that does not list it is not this system's (dpkg-query
# reads a missing one as empty).
probe_rc=0
# shellcheck disable=SC2086,SC2016
probe=$(LC_ALL=C "$dpkg_query" -W -f='${Package}\t${Status}\n' dpkg $PKGS 2>&1) || probe_rc=$?

missing=""
failure=""
installed=" "
tab=$(printf '\t')
nl='
'
old_ifs=$IFS
IFS=$nl
for line in $probe; do
  case "$line" in
    *"$tab"*"install ok installed") installed="$installed${line%%"$tab"*} " ;;
    *"$tab"*) ;; # known to dpkg but not installed (removed, half-configured, ...)
    "dpkg-query: no packages found matching "*) ;;
    *) failure="$failure${nl}  $line" ;;
  esac
done
IFS=$old_ifs
if [ -z "$failure" ]; then
  case "$installed" in
    *" dpkg "*) ;;
    *) failure="${nl}  dpkg itself is not listed as installed: a wrong or empty database (DPKG_ADMINDIR=${DPKG_ADMINDIR:-unset})" ;;
  esac
fi
if [ "$probe_rc" -gt 1 ] || [ -n "$failure" ]; then
  die "the dpkg-query probe failed (exit $probe_rc): $dpkg_query -W dpkg $PKGS:$failure"
fi
for p in $PKGS; do
  case "$installed" in
    *" $p "*) ;;
    *) missing="$missing $p" ;;
  esac
done

if [ -z "$missing" ]; then
  say "all packages present"
  exit 0
fi

say "installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null; then
  SUDO="sudo"
else
  die "not root and no sudo; as root run: apt-get update && apt-get install -y$missing"
fi
if ! command -v apt-get >/dev/null; then
  die "no apt-get on this machine; install by hand:$missing"
fi
$SUDO apt-get update -qq || die "'apt-get update' failed (exit $?); see its messages above"
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  $missing || die "'apt-get install$missing' failed (exit $?); see its messages above"
say "done"
