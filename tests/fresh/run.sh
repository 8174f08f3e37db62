#!/bin/sh
# run.sh -- the README's two set-up commands on a bare Debian 12, timed.
#
#   usage: sudo tests/fresh/run.sh        (root: debootstrap, mount and chroot need it)
#
# Builds a minimal Debian 12 root with debootstrap (--variant=minbase: no make, no
# compiler, no sudo, no git), puts a clean clone of this repository's HEAD commit in it
# (/root/skadi), and runs the two commands of the README's "Two commands" section inside
# chroot, exactly as the README writes them: they are read from README.md, so the README
# and this check cannot drift apart.  Prints the time of each step, the packages the first
# command installed and the size of the root.
#
# Not part of `make test`: it downloads and installs a few hundred packages and builds
# and tests everything from scratch (tens of minutes).  Uncommitted changes are not tested
# (it clones HEAD) and it says so.
#
# Environment:
#   SKADI_FRESH_DIR     where the root and the log go (default /var/tmp/skadi-fresh); the
#                       root is removed and made anew on every run.  Outside the tree by
#                       default: while it runs, the root holds the host's /proc, /sys and
#                       /dev, which a grep -r or find over the repository would walk into
#                       (build-fresh/ in the repository is git-ignored if you prefer it)
#   SKADI_FRESH_MIRROR  Debian mirror (default http://deb.debian.org/debian)
#   SKADI_FRESH_KEEP=1  keep the root after a successful run (a failed one is always kept)
#
# Exit status: 0 both commands succeeded; 1 a command or a step failed; 2 cannot run here
# (not root, no README commands).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(git -C "$HERE" rev-parse --show-toplevel)
FRESH=${SKADI_FRESH_DIR:-/var/tmp/skadi-fresh}
ROOT=$FRESH/root
MIRROR=${SKADI_FRESH_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

say() { echo "fresh: $*"; }
die() {
  echo "fresh: $*" >&2
  exit "${2:-1}"
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot); run it with sudo" 2

# ---- the README's two commands: the indented lines of its "Two commands" section -------
cmds=$(awk '/^## /{ on = ($0 == "## Two commands") } on && /^    [^ ]/' "$TOP/README.md" |
  sed -e 's/^    //' -e 's/[[:space:]]*#.*$//')
n=$(printf '%s\n' "$cmds" | grep -c .) || true
[ "$n" -eq 2 ] || die "README.md: expected 2 commands in \"## Two commands\", found $n" 2
CMD1=$(printf '%s\n' "$cmds" | sed -n 1p)
CMD2=$(printf '%s\n' "$cmds" | sed -n 2p)
say "first command:  $CMD1"
say "second command: $CMD2"

HEAD=$(git -C "$TOP" rev-parse HEAD)
if [ -n "$(git -C "$TOP" status --porcelain --untracked-files=no)" ]; then
  say "note: uncommitted changes in $TOP are not part of the test (it clones $HEAD)"
fi

# ---- timing ------------------------------------------------------------------------------
now() { date +%s; }
mmss() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }

# ---- mounts: undone on every exit ----------------------------------------------------------
MOUNTED=""
unmount_all() {
  for m in $MOUNTED; do # most recent first
    umount "$m" || umount -l "$m" || echo "fresh: cannot unmount $m" >&2
  done
  MOUNTED=""
}
trap 'unmount_all' EXIT
trap 'exit 130' INT TERM
mount_in() { # mount_in TARGET ARGS...: mounts ARGS on $ROOT/TARGET
  t=$ROOT$1
  shift
  mount "$@" "$t"
  MOUNTED="$t $MOUNTED"
}
# Anything still mounted below the root (a killed earlier run)?  Removing the root then
# would remove the host's /dev.
mounted_below() { awk -v r="$ROOT/" 'index($2 "/", r) == 1 { print $2 }' /proc/self/mounts; }
remove_root() {
  if [ -n "$(mounted_below)" ]; then
    die "still mounted below $ROOT, not removing it (unmount first): $(mounted_below | tr '\n' ' ')"
  fi
  rm -rf "$ROOT"
}

# ---- debootstrap ---------------------------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
fi
remove_root
mkdir -p "$FRESH"
LOG=$FRESH/fresh.log
: >"$LOG"
say "log of every step: $LOG"

t0=$(now)
say "debootstrap --variant=minbase $SUITE $ROOT $MIRROR"
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >>"$LOG" 2>&1 ||
  die "debootstrap failed; see $LOG"
t_boot=$(($(now) - t0))
say "debootstrap: $(mmss "$t_boot")"

cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" # apt-get inside needs DNS
for tool in make gcc cc sudo git; do
  if chroot "$ROOT" sh -c "command -v $tool" >/dev/null; then
    die "the minimal root already has $tool; it is not bare"
  fi
done
pkgs_before=$(chroot "$ROOT" dpkg-query -W | wc -l)

# ---- a clean clone of HEAD -----------------------------------------------------------------
git clone -q --no-checkout "$TOP" "$ROOT/root/skadi"
git -C "$ROOT/root/skadi" checkout -q --detach "$HEAD"
say "cloned $HEAD into $ROOT/root/skadi"

mount_in /proc -t proc proc
mount_in /sys -t sysfs sysfs
mount_in /dev --bind /dev
mount_in /dev/pts --bind /dev/pts

# Runs one README command in the root as a login would: root, a plain environment, the
# clone as the working directory.
run_in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    sh -c "cd /root/skadi && $1"
}

status=0
t0=$(now)
say "1/2: $CMD1"
if run_in_root "$CMD1" >>"$LOG" 2>&1; then r1=ok; else r1="FAILED (exit $?)" status=1; fi
t_1=$(($(now) - t0))
pkgs_after=$(chroot "$ROOT" dpkg-query -W | wc -l)
say "first command: $(mmss "$t_1") $r1"

t_2=0
r2="not run"
if [ "$status" -eq 0 ]; then
  t0=$(now)
  say "2/2: $CMD2"
  if run_in_root "$CMD2" >>"$LOG" 2>&1; then r2=ok; else r2="FAILED (exit $?)" status=1; fi
  t_2=$(($(now) - t0))
  say "second command: $(mmss "$t_2") $r2"
fi
unmount_all

size=$(du -sh "$ROOT" | cut -f1)
cores=$(nproc)
echo
echo "fresh-root summary (commit $HEAD, $SUITE minbase, $cores cores):"
echo "  debootstrap                 $(mmss "$t_boot")  ($pkgs_before packages)"
echo "  1. $CMD1"
echo "                              $(mmss "$t_1")  $r1; installed $((pkgs_after - pkgs_before)) packages, root now $size"
echo "  2. $CMD2"
echo "                              $(mmss "$t_2")  $r2"
if [ "$status" -ne 0 ]; then
  echo "  the root is kept for inspection: $ROOT; the log: $LOG (last lines below)"
  tail -n 30 "$LOG"
elif [ "${SKADI_FRESH_KEEP:-0}" = 1 ]; then
  echo "  the root is kept: $ROOT"
else
  remove_root
fi
exit "$status"
