#!/bin/sh
# sweep_mpi.sh SKADI MPIRUN SOURCE_DIR -- `skadi sweep` under mpirun: rank 0 hands out the
# runs and writes the file, the other ranks run them; the table must equal a local run's
# (h5diff, leaving out /timing, the only wall-clock part), with one worker rank (-n 2) and
# with two (-n 3, runs handed out as ranks ask).  Registered by tests/CMakeLists.txt only
# in a build with MPI.  Runs 120 s of the baseline room per run: a few seconds in all.
set -eu
skadi=$1 mpirun=$2 src=$3
dir=$(mktemp -d /tmp/skadi-sweep-mpi-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/s.json" <<JSON
{"name": "mpi", "scenario": "$src/scenarios/baseline.json", "duration": 120, "seeds": 2,
 "parameters": [{"key": "room.crah_fan_speed_pct", "values": [50, 75]}],
 "constraints": [{"metric": "ttft_p95_ms", "max": "sla"}]}
JSON
fail() { echo "sweep_mpi: $*" >&2; exit 1; }
"$skadi" sweep "$dir/s.json" --out "$dir/local.h5" -j 2 --no-progress
for n in 2 3; do
  "$mpirun" -n $n --oversubscribe --allow-run-as-root "$skadi" sweep "$dir/s.json" \
    --out "$dir/mpi$n.h5" --no-progress || fail "mpirun -n $n: exit $?"
  h5diff --exclude-path /timing "$dir/local.h5" "$dir/mpi$n.h5" ||
    fail "mpirun -n $n: the table differs from the local run's"
  h5dump -a /timing/how "$dir/mpi$n.h5" | grep -q '"mpi"' || fail "mpirun -n $n: /timing how is not mpi"
  workers=$(h5dump -a /timing/workers "$dir/mpi$n.h5" | sed -n 's/.*(0): *\([0-9]*\).*/\1/p')
  [ "$workers" = $((n - 1)) ] || fail "mpirun -n $n: $workers workers, expected $((n - 1))"
done
echo "sweep_mpi: mpirun -n 2 and -n 3 give the local table"
