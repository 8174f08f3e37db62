#!/bin/sh
# Installs the Debian/Ubuntu packages Skadi builds and tests with. Idempotent: it asks
# dpkg first and only calls apt-get for what is missing.
set -eu

PKGS="build-essential cmake pkg-config libgsl-dev libhdf5-dev hdf5-tools libzmq3-dev \
libcjson-dev check libsdl2-dev libwebsockets-dev python3 python3-h5py python3-numpy python3-pandas"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
      *"install ok installed"*) ;;
      *) missing="$missing $p" ;;
    esac
  done
else
  echo "setup: this is not a Debian-like system (no dpkg-query)." >&2
  echo "setup: install these packages (or their equivalents) by hand: $PKGS" >&2
  exit 1
fi

if [ -z "$missing" ]; then
  echo "setup: all packages present"
  exit 0
fi

echo "setup: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "setup: not root and no sudo; run as root: apt-get install$missing" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: no apt-get on this machine; install by hand:$missing" >&2
  exit 1
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
echo "setup: done"
