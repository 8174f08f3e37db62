#!/bin/sh
# bench_sweep.sh -- a 16-run sweep of the baseline room (8 fan speeds x 2 seeds, 2 h of
# sim time per run, plain mode, no default point) on 1 and 2 local workers, and under
# mpirun with 1 and 2 worker ranks when the build has MPI.  Prints wall time, runs/s, the
# speed-up of 2 workers over 1 and the MPI overhead per run (mpirun -n 2, one worker
# rank, against -j 1: launch, MPI_Init and messages, spread over the 16 runs).  Checks
# that every configuration wrote the same table.  Never fails on time.
#   usage: tests/bench/bench_sweep.sh [BUILD_DIR]   (from the top of the checkout)
set -e
BUILD=${1:-build}
SKADI=$BUILD/skadi
OUT=$(mktemp -d /tmp/skadi-bench-sweep-XXXXXX)
trap 'rm -rf "$OUT"' EXIT
cat > "$OUT/bench.json" <<JSON
{"name": "bench", "scenario": "$(pwd)/scenarios/baseline.json", "duration": "2h",
 "seeds": 2, "include_default": false,
 "parameters": [{"key": "room.crah_fan_speed_pct", "min": 40, "max": 100, "steps": 8}]}
JSON
now() { date +%s.%N; }
run() { # $1 = label, rest = command
  label=$1
  shift
  t0=$(now)
  "$@" > /dev/null 2>&1
  t1=$(now)
  awk -v l="$label" -v a="$t0" -v b="$t1" 'BEGIN{printf "sweep %s runs=16 wall_s=%.2f runs_per_s=%.2f\n", l, b-a, 16/(b-a)}'
  echo "$t0 $t1" > "$OUT/$label.t"
}
# Runs in flight on average (the runs' own wall times over the sweep's): how well the
# workers are kept busy, which a loaded machine does not blur as it blurs the speed-up.
inflight() {
  "$SKADI" sweep report "$1" | sed -n 's/.*: \([0-9.]*\) runs in flight.*/\1/p'
}
secs() { awk '{print $2-$1}' "$OUT/$1.t"; }
run j1 "$SKADI" sweep "$OUT/bench.json" --out "$OUT/j1.h5" -j 1 --no-progress
run j2 "$SKADI" sweep "$OUT/bench.json" --out "$OUT/j2.h5" -j 2 --no-progress
awk -v a="$(secs j1)" -v b="$(secs j2)" 'BEGIN{printf "sweep speedup_j2_over_j1=%.2f\n", a/b}'
echo "sweep in_flight j1=$(inflight "$OUT/j1.h5") j2=$(inflight "$OUT/j2.h5")"
h5diff --exclude-path /timing "$OUT/j1.h5" "$OUT/j2.h5" > /dev/null || echo "sweep WARNING: -j 2 table differs"
MPIRUN=$(command -v mpirun || true)
if [ -n "$MPIRUN" ] && "$MPIRUN" -n 2 --oversubscribe --allow-run-as-root "$SKADI" sweep \
     "$OUT/bench.json" --out "$OUT/probe.h5" --no-progress > /dev/null 2>&1 &&
   h5dump -a /timing/how "$OUT/probe.h5" 2>/dev/null | grep -q '"mpi"'; then
  rm -f "$OUT/probe.h5"
  run mpi_n2 "$MPIRUN" -n 2 --oversubscribe --allow-run-as-root "$SKADI" sweep "$OUT/bench.json" \
    --out "$OUT/mpi2.h5" --no-progress
  run mpi_n3 "$MPIRUN" -n 3 --oversubscribe --allow-run-as-root "$SKADI" sweep "$OUT/bench.json" \
    --out "$OUT/mpi3.h5" --no-progress
  awk -v a="$(secs j1)" -v b="$(secs mpi_n2)" 'BEGIN{printf "sweep mpi_overhead_per_run_s=%.3f (mpirun -n 2 vs -j 1)\n", (b-a)/16}'
  echo "sweep in_flight mpi_n2=$(inflight "$OUT/mpi2.h5") mpi_n3=$(inflight "$OUT/mpi3.h5")"
  for f in mpi2 mpi3; do
    h5diff --exclude-path /timing "$OUT/j1.h5" "$OUT/$f.h5" > /dev/null || echo "sweep WARNING: $f table differs"
  done
else
  echo "sweep mpi: not measured (no mpirun, or a build without MPI)"
fi
