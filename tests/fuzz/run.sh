#!/bin/sh
# tests/fuzz/run.sh BUILD_DIR [SECONDS] [HARNESS...] -- runs each libFuzzer harness of a
# -DSKADI_FUZZ=ON build (`make fuzz`, .ci/run) for SECONDS (default $FUZZ_SECONDS, else
# 30), one process and one job each, on the committed seeds (tests/fuzz/corpus/<name>,
# read only) plus a corpus of its own in BUILD_DIR/fuzz-corpus/<name> that grows from run
# to run, with its dictionary.  HARNESS:seeds runs every input of both corpora once and
# does not mutate (CI uses it for the HDF5 readers, whose mutations reach crashes inside
# HDF5 1.10.8 itself: docs/TESTING.md).  A crash, leak, timeout (10 s per input) or out-of-memory
# (2 GB) is saved to BUILD_DIR/fuzz-artifacts/ and fails the script, after every harness
# has run.  Prints executions per harness and in total (docs/TESTING.md keeps the figures).
# FUZZ_SEED=N fixes libFuzzer's random seed (CI uses 1), so a run that finds something
# finds it again at the same execution; unset, each run explores from a new seed.
set -u
BUILD=${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS] [HARNESS...]}
shift
SECS=${FUZZ_SECONDS:-30}
if [ $# -gt 0 ]; then
  SECS=$1
  shift
fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# The HDF5 readers run their corpora once by default: mutated, they reach HDF5's own
# crashes within seconds (name them without :seeds to look anyway).  So do the API's
# (twin: ZeroMQ requests to an in-process twin; gateway: HTTP to an in-process gateway on
# an ephemeral port): each input waits on the twin, a second's worth of inputs is all
# their corpora, and their state (the one twin) grows over a long run; fuzz them by name.
HARNESSES=${*:-"scenario set time csv trace perf_csv ims_data mix session ims_model:seeds recording:seeds twin:seeds gateway:seeds"}
mkdir -p "$BUILD/fuzz-artifacts"
# HDF5's own leaks on damaged files (tests/fuzz/lsan.supp); files the harnesses write go
# to memory when /dev/shm is there
LSAN_OPTIONS="suppressions=$SRC/tests/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  TMPDIR=/dev/shm
  export TMPDIR
fi
failed=""
total=0
for spec in $HARNESSES; do
  h=${spec%:seeds}
  if [ "$h" = "$spec" ]; then how="-max_total_time=$SECS"; else how="-runs=0"; fi
  bin="$BUILD/tests/fuzz/fuzz_$h"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin missing: configure with CC=clang cmake -DSKADI_FUZZ=ON" >&2
    exit 2
  fi
  mkdir -p "$BUILD/fuzz-corpus/$h"
  dict=""
  seed=""
  [ -n "${FUZZ_SEED:-}" ] && seed="-seed=$FUZZ_SEED"
  [ -f "$SRC/tests/fuzz/$h.dict" ] && dict="-dict=$SRC/tests/fuzz/$h.dict"
  log="$BUILD/fuzz-artifacts/$h.log"
  # shellcheck disable=SC2086
  "$bin" $how -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$BUILD/fuzz-artifacts/$h-" $dict $seed \
    "$BUILD/fuzz-corpus/$h" "$SRC/tests/fuzz/corpus/$h" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  if [ "$rc" -ne 0 ]; then
    failed="$failed $h"
    echo "fuzz: $h FAILED after $execs executions (exit $rc); the input and log are in $BUILD/fuzz-artifacts/:"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -8 | sed 's/^/  | /'
  else
    if [ "$h" = "$spec" ]; then
      echo "fuzz: $h: $execs executions in ${SECS}s, no crash, leak or timeout"
    else
      echo "fuzz: $h: its $execs corpus inputs ran once, no crash, leak or timeout"
    fi
  fi
done
echo "fuzz: $total executions in total"
if [ -n "$failed" ]; then
  echo "fuzz: failed:$failed"
  exit 1
fi
