#!/bin/sh
# tests/faults/run.sh BUILD_DIR -- fault injection on the real `skadi` binary (CTest:
# test_faults, label e2e; docs/TESTING.md).  Every case is one the project once got wrong:
#
#   extreme --set    values at the ends of their ranges that once hung or failed end
#                    with exit 0, or (a CRAH flow too small for a steady state) exit 2
#                    naming the key (every key's two ends: tests/sim/test_extremes.c);
#   --out            a device node, a FIFO and a symlink given as --out are refused and
#                    left as they were (a failed create unlinked /dev/null);
#   signals          SIGTERM mid-run closes the recording (exit 143, status interrupted,
#                    readable); kill -9 leaves <out>.part readable up to the last flush;
#   damaged files    truncated and byte-flipped recordings and IMS models, and two whose
#                    damage crashes HDF5 itself (tests/data/damaged): report and ims
#                    exit 2 naming the file (a flip that misses what is read may give
#                    0), never hang (a SWMR retry spun for minutes) or crash;
#   full disk        a file-size limit mid-run (any user), and a small tmpfs (root:
#                    skipped with a message otherwise) full at start, mid-run and at
#                    finish: exit 1 with a one-line message naming the file, no crash,
#                    no HDF5 error dump, and either no file, or one `skadi report` reads
#                    whose rows are all real (no all-zero rows past the data) -- at
#                    finish the complete file under its final name, marked uncompressed; the other
#                    writers (ims score and train, report, mix --out) leave nothing.
#
# Fast on purpose (a few seconds): short runs, a handful of damaged copies.  A failing
# case prints "FAIL <case>: <why>" and the script exits 1 after running all cases.
set -u
BUILD=${1:?usage: tests/faults/run.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SK="$BUILD/skadi"
SCEN="$SRC/scenarios/baseline.json"
T=10 # seconds any one command may take
WORK=$(mktemp -d "${TMPDIR:-/tmp}/skadi-faults-XXXXXX")
MNT=""
fails=0
cases=0

cleanup() {
  if [ -n "$MNT" ]; then
    umount "$MNT" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "FAIL $*"
  fails=$((fails + 1))
}

# run NAME CMD...: runs CMD under timeout with stderr in $WORK/err; sets rc.
run() {
  name=$1
  shift
  cases=$((cases + 1))
  timeout -s KILL "$T" "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  if [ "$rc" -eq 137 ]; then
    fail "$name: did not end within ${T}s: $*"
  elif [ "$rc" -gt 128 ]; then
    fail "$name: killed by signal $((rc - 128)): $*"
    sed 's/^/  | /' "$WORK/err" | head -5
  fi
  if grep -q 'HDF5-DIAG\|infinite loop closing library' "$WORK/err"; then
    fail "$name: HDF5's own error dump reached the user"
  fi
}

# expect_rc NAME WANT...: rc is one of WANT, else fail with the message.
expect_rc() {
  name=$1
  shift
  for w in "$@"; do
    [ "$rc" -eq "$w" ] && return 0
  done
  fail "$name: exit $rc, want $*"
  sed 's/^/  | /' "$WORK/err" | head -5
  return 1
}

# expect_msg NAME TEXT: stderr names TEXT (a path) and is one line per message.
expect_msg() {
  if ! grep -qF -- "$2" "$WORK/err"; then
    fail "$1: the message does not name $2"
    sed 's/^/  | /' "$WORK/err" | head -5
  fi
}

# readable NAME FILE: `skadi report` reads FILE; its rack rows are all real (h5dump, when
# installed: the last row has a rack id).
readable() {
  timeout -s KILL "$T" "$SK" report "$2" --compact >"$WORK/rep" 2>"$WORK/rep.err"
  r=$?
  if [ "$r" -ne 0 ]; then
    fail "$1: skadi report $2 exits $r"
    sed 's/^/  | /' "$WORK/rep.err" | head -3
    return
  fi
  command -v h5dump >/dev/null 2>&1 || return
  n=$(h5dump -H -d /telemetry/racks "$2" 2>/dev/null | sed -n 's/.*SIMPLE { ( \([0-9]*\) ).*/\1/p')
  if [ -n "$n" ] && [ "$n" -gt 0 ]; then
    last=$(h5dump -d /telemetry/racks -s $((n - 1)) -c 1 "$2" 2>/dev/null | grep -c '"R-')
    [ "$last" -ge 1 ] || fail "$1: $2: the last of $n rack rows has no rack id (a phantom row)"
  fi
}

echo "faults: skadi at $SK, scratch in $WORK"
T0=$(date +%s)
section() { echo "faults: $1 ($(($(date +%s) - T0)) s)"; }

# ---- extreme --set ------------------------------------------------------------------
# Every key's extremes run in process in tests/sim/test_extremes.c (188 runs in ~1 s; 10 s
# through the binary).  Here the --set path of the binary on the values that once hung
# or failed: a tiny arrival rate and a tiny server airflow, and the largest arrival rate;
# a tiny CRAH flow (its inlets ran away) is refused, naming the key.
for kv in workload.rate_scale=1e-20 server.airflow_m3s=1e-300; do
  run "--set $kv" "$SK" run "$SCEN" --set room.rows=1 --set room.racks_per_row=2 --set "$kv" \
    --duration 120 --no-record --mode closed_loop --threads 1 --no-progress
  expect_rc "--set $kv" 0
done
run "--set room.crah_rated_flow_m3s=1e-300" "$SK" run "$SCEN" --set room.crah_rated_flow_m3s=1e-300 \
  --duration 120 --no-record --no-progress
expect_rc "--set room.crah_rated_flow_m3s=1e-300" 2 &&
  expect_msg "--set room.crah_rated_flow_m3s=1e-300" "room.crah_rated_flow_m3s: 1e-300 m³/s is too little air"
run "--set workload.rate_prompts_s=1000000" "$SK" run "$SCEN" --set room.rows=1 \
  --set room.racks_per_row=2 --set workload.rate_prompts_s=1000000 --set sample_period_s=1 \
  --set thermal_step_s=1 --duration 1 --no-record --no-progress
expect_rc "--set workload.rate_prompts_s=1000000" 0
section "extreme --set"

# ---- --out that is not ours -----------------------------------------------------------
mkfifo "$WORK/fifo"
ln -s "$WORK/target.h5" "$WORK/link.h5"
echo keep >"$WORK/target.h5"
outs="$WORK/fifo $WORK/link.h5"
if [ "$(id -u)" -eq 0 ] && mknod "$WORK/null" c 1 3 2>/dev/null; then
  outs="$outs $WORK/null" # a /dev/null of our own: a regression cannot hurt the real one
fi
for o in $outs; do
  before=$(ls -l "$o")
  run "run --out $o" "$SK" run "$SCEN" --duration 20 --out "$o" --force --no-progress
  expect_rc "run --out $o" 2 && expect_msg "run --out $o" "$o"
  run "report --out $o" "$SK" report "$SRC/tests/data/golden/baseline-seed1-off.h5" --out "$o" --force
  expect_rc "report --out $o" 2
  [ "$(ls -l "$o")" = "$before" ] || fail "--out $o: changed ($before -> $(ls -l "$o"))"
done
[ "$(cat "$WORK/target.h5")" = keep ] || fail "--out symlink: the file it points to was written"
[ -e "$WORK/fifo.part" ] && fail "--out FIFO: left fifo.part"

section "--out not ours"

# ---- signals mid-run ------------------------------------------------------------------
# Paced at 200x, 600 s take 3 s of wall time: the signal lands mid-run.
for sig in TERM KILL; do
  out="$WORK/sig$sig.h5"
  cases=$((cases + 1))
  "$SK" run "$SCEN" --duration 600 --speed 200x --out "$out" --no-progress >/dev/null 2>"$WORK/err" &
  pid=$!
  sleep 1
  kill -s "$sig" "$pid"
  wait "$pid" 2>/dev/null
  rc=$?
  if [ "$sig" = TERM ]; then
    expect_rc "SIGTERM mid-run" 143 && readable "SIGTERM mid-run" "$out" &&
      grep -q '"status":"interrupted"' "$WORK/rep" ||
      fail "SIGTERM mid-run: the report of $out does not say status interrupted"
  else
    expect_rc "kill -9 mid-run" 137 && readable "kill -9 mid-run" "$out.part"
  fi
done

section "signals"

# ---- damaged recordings and models ----------------------------------------------------
# Under the sanitizers, HDF5 1.10.8's own leaks on a file it fails to decode are
# suppressed as in the fuzz harnesses (tests/fuzz/lsan.supp: allocations inside libhdf5
# only; ours still fail).  Which bytes the flips below hit moves whenever the recording's
# layout does, so which of them reach such a leak does too.
lsan_before=${LSAN_OPTIONS-}
if [ "${SKADI_SANITIZED:-0}" = 1 ]; then
  LSAN_OPTIONS="suppressions=$SRC/tests/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
  export LSAN_OPTIONS
fi
rec="$WORK/good.h5"
model="$WORK/model.h5"
"$SK" run "$SCEN" --duration 300 --out "$rec" --no-progress >/dev/null 2>&1 &&
  "$SK" ims train --data "$rec" --out "$model" >/dev/null 2>&1 ||
  fail "damaged files: cannot make the good recording and model"
size_rec=$(wc -c <"$rec")
size_model=$(wc -c <"$model")

# damage KIND SRC DST I: a truncated (to a fraction) or byte-flipped (one byte at a
# pseudo-random offset, inverted) copy.
damage() {
  sz=$(wc -c <"$2")
  if [ "$1" = truncated ]; then
    head -c $((sz * $4 / 8)) "$2" >"$3"
  else
    cp "$2" "$3"
    off=$(((($4 * 2654435761) % 4294967296) % sz))
    b=$(od -An -tu1 -j "$off" -N1 "$2" | tr -d ' ')
    printf "$(printf '\\%03o' $((255 - b)))" |
      dd of="$3" bs=1 seek="$off" conv=notrunc 2>/dev/null
  fi
}

# A damaged copy must give exit 2 and a message naming it (truncated: always; flipped:
# 0 allowed, when the byte was one nothing reads).
for kind in truncated flipped; do
  if [ $kind = truncated ]; then idx="0 3 6"; else idx="1 2 3 4 5 6 7 8"; fi
  for i in $idx; do
    bad="$WORK/bad-$kind-$i.h5"
    damage $kind "$rec" "$bad" "$i"
    for cmd in report score train; do
      case $cmd in
      report) run "report $kind recording #$i" "$SK" report "$bad" --compact ;;
      score) run "ims score $kind recording #$i" "$SK" ims score --model "$model" --data "$bad" ;;
      train) run "ims train $kind recording #$i" "$SK" ims train --data "$bad" --out "$WORK/m$i.h5" --force ;;
      esac
      if [ $kind = truncated ]; then want=2; else want="0 2"; fi
      # shellcheck disable=SC2086
      expect_rc "$cmd $kind recording #$i" $want && [ "$rc" -ne 0 ] &&
        expect_msg "$cmd $kind recording #$i" "$bad"
    done
    badm="$WORK/badm-$kind-$i.h5"
    damage $kind "$model" "$badm" "$i"
    run "ims score with $kind model #$i" "$SK" ims score --model "$badm" --data "$rec"
    # shellcheck disable=SC2086
    expect_rc "ims score with $kind model #$i" $want && [ "$rc" -ne 0 ] &&
      expect_msg "ims score with $kind model #$i" "$badm"
  done
done
# Files whose damage crashes HDF5 itself (tests/data/damaged): the crash guard's exit 2.
# Sanitizer builds keep the crash (the guard is off there, so ASan reports it).
if [ "${SKADI_SANITIZED:-0}" = 1 ]; then
  echo "faults: SKIP files that crash HDF5: a sanitizer build (the crash guard is off)"
else
  hc="$SRC/tests/data/damaged/heap-crash-recording.h5"
  hm="$SRC/tests/data/damaged/heap-crash-model.h5"
  run "report on a file that crashes HDF5" "$SK" report "$hc" --compact
  expect_rc "report on a file that crashes HDF5" 2 && expect_msg "report on a file that crashes HDF5" "$hc"
  run "ims train on a file that crashes HDF5" "$SK" ims train --data "$hc" --out "$WORK/hc.h5"
  expect_rc "ims train on a file that crashes HDF5" 2 && expect_msg "ims train on a file that crashes HDF5" "$hc"
  run "ims score with a model that crashes HDF5" "$SK" ims score --model "$hm" --data "$rec"
  expect_rc "ims score with a model that crashes HDF5" 2 && expect_msg "ims score with a model that crashes HDF5" "$hm"
fi
# One whose damage sends HDF5 into an endless loop: the metadata watchdog (1 s here).
hl="$SRC/tests/data/damaged/heap-loop-recording.h5"
for cmd in report score; do
  if [ $cmd = report ]; then
    run "report on a file HDF5 loops on" env SKADI_READ_TIMEOUT_S=1 "$SK" report "$hl" --compact
  else
    run "ims score on a file HDF5 loops on" env SKADI_READ_TIMEOUT_S=1 "$SK" ims score \
      --model "$model" --data "$hl"
  fi
  expect_rc "$cmd on a file HDF5 loops on" 2 && expect_msg "$cmd on a file HDF5 loops on" "$hl"
done
section "damaged files: recording $size_rec B, model $size_model B"
LSAN_OPTIONS=$lsan_before # the later cases (full disk) leak nothing of HDF5's either

# ---- full disk ----------------------------------------------------------------------
# full_case NAME DIR FILLER_KB [ulimit -f KB]: runs 1800 simulated seconds into DIR (a
# 2 MB tmpfs) after filling it with FILLER_KB; checks the rest.
full_case() {
  name=$1 dir=$2 fill=$3 lim=${4:-}
  rm -f "$dir"/*
  if [ "$fill" -gt 0 ]; then
    dd if=/dev/zero of="$dir/filler" bs=1024 count="$fill" 2>/dev/null
  fi
  out="$dir/full.h5"
  if [ -n "$lim" ]; then
    run "$name" sh -c 'trap "" XFSZ; ulimit -f "$1"; shift; exec "$@"' sh "$lim" \
      "$SK" run "$SCEN" --duration 1800 --out "$out" --no-progress
  else
    run "$name" "$SK" run "$SCEN" --duration 1800 --out "$out" --no-progress
  fi
  expect_rc "$name" 1 || return
  expect_msg "$name" "$out"
  if [ -e "$out" ]; then
    readable "$name" "$out"
  elif [ -e "$out.part" ]; then
    readable "$name" "$out.part"
  fi
  [ -e "$out.part.tmp" ] && fail "$name: left $out.part.tmp"
}

mkdir "$WORK/lim"
full_case "file-size limit mid-run" "$WORK/lim" 0 1000
# rows or a flush (the session flushes on the wall clock, so which comes first varies)
grep -q 'cannot write rows\|cannot flush' "$WORK/err" ||
  fail "file-size limit mid-run: not a mid-run failure"

if [ "$(id -u)" -ne 0 ]; then
  echo "faults: SKIP full disk on tmpfs: needs root to mount a small tmpfs (uid $(id -u))"
elif ! { mkdir "$WORK/mnt" && mount -t tmpfs -o size=2m skadi-faults "$WORK/mnt"; } 2>"$WORK/err"; then
  echo "faults: SKIP full disk on tmpfs: cannot mount one: $(cat "$WORK/err")"
else
  MNT="$WORK/mnt"
  full_case "full disk at start" "$MNT" 2040
  [ -e "$MNT/full.h5.part" ] || [ -e "$MNT/full.h5" ] && fail "full disk at start: left a file"
  # the other writers, on a disk filled to the last block: exit 1 naming the output,
  # nothing left
  dd if=/dev/zero of="$MNT/filler2" bs=4096 2>/dev/null
  for wr in score train report mix; do
    o="$MNT/out-$wr"
    case $wr in
    score) run "ims score --out on a full disk" "$SK" ims score --model "$model" --data "$rec" --out "$o" ;;
    train) run "ims train --out on a full disk" "$SK" ims train --data "$rec" --out "$o" ;;
    report) run "report --out on a full disk" "$SK" report "$rec" --out "$o" ;;
    mix) run "mix --out on a full disk" "$SK" mix --config "$SRC/scenarios/mix/example.json" --out "$o" ;;
    esac
    expect_rc "$wr --out on a full disk" 1 && expect_msg "$wr --out on a full disk" "$o"
    # shellcheck disable=SC2010
    left=$(ls "$MNT" | grep -v '^filler2*$' | tr '\n' ' ')
    [ -z "$left" ] || fail "$wr --out on a full disk: left $left"
  done
  # The run file holds ~1.2 MB of rows (its partly filled chunks are sparse), the
  # compressed copy ~0.6 MB: 0.6 MB free fails mid-run, 1.5 MB free at finish.
  full_case "full disk mid-run" "$MNT" 1448
  grep -q 'cannot write rows\|cannot flush' "$WORK/err" || fail "full disk mid-run: not a mid-run failure"
  full_case "full disk at finish" "$MNT" 548
  grep -q 'compressed copy' "$WORK/err" || fail "full disk at finish: not a failure at finish"
  grep -q 'complete but uncompressed' "$WORK/err" ||
    fail "full disk at finish: the message does not say the file is complete"
  grep -q '"status":"completed"' "$WORK/rep" ||
    fail "full disk at finish: the recording left is not complete"
  # complete: under the final name, marked uncompressed (docs/HDF5.md), no .part left
  [ -e "$MNT/full.h5" ] && [ ! -e "$MNT/full.h5.part" ] ||
    fail "full disk at finish: the complete recording is not at $MNT/full.h5 alone"
  grep -q "moved to $MNT/full.h5, complete and readable" "$WORK/err" ||
    fail "full disk at finish: the message does not name $MNT/full.h5 as complete and readable"
  if command -v h5dump >/dev/null 2>&1; then
    h5dump -a /uncompressed "$MNT/full.h5" 2>/dev/null | grep -q 'compressed copy' ||
      fail "full disk at finish: $MNT/full.h5 has no /uncompressed attribute saying why"
  fi
fi

section "full disk"
if [ "$fails" -gt 0 ]; then
  echo "faults: $fails of $cases cases failed"
  exit 1
fi
echo "faults: all $cases cases passed"
