#!/bin/sh
# bench_room.sh -- speed-up over real time and peak memory of the default room, with
# recording on: 24 h of baseline, and 1 h for comparison (memory must be flat in run
# length).  wall_s is the simulation loop, process_s the whole command including loading
# and compressing the recording at the end.  Prints figures; never fails on time.
#   usage: tests/bench/bench_room.sh [BUILD_DIR]
set -e
BUILD=${1:-build}
SKADI=$BUILD/skadi
OUT=$(mktemp -d /tmp/skadi-bench-XXXXXX)
trap 'rm -rf "$OUT"' EXIT

figure() { # $1 = json text, $2 = key
  printf '%s\n' "$1" | sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([^,]*\),*$/\1/p" | head -1
}

for d in 1h 24h; do
  t0=$(date +%s.%N)
  json=$("$SKADI" run scenarios/baseline.json --duration "$d" --out "$OUT/room-$d.h5" \
         --json --no-progress)
  t1=$(date +%s.%N)
  size=$(du -k "$OUT/room-$d.h5" | cut -f1)
  printf 'room duration=%s sim_s=%s wall_s=%.3f process_s=%.3f speedup=%.0f events=%s events_per_s=%.0f peak_rss_mb=%.1f file_kb=%s\n' \
    "$d" "$(figure "$json" sim_time_s)" "$(figure "$json" wall_time_s)" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
    "$(figure "$json" speedup)" "$(figure "$json" events)" \
    "$(awk -v e="$(figure "$json" events)" -v w="$(figure "$json" wall_time_s)" 'BEGIN{print e/w}')" \
    "$(figure "$json" peak_rss_mb)" "$size"
done

# The heat-spike scenario (4 h) plain, then with the closed loop and its counterfactual
# twin (what-if forks every slow tick, the counterfactual on the other core).
for mode in off closed_loop; do
  t0=$(date +%s.%N)
  json=$("$SKADI" run scenarios/heat_spike_row_c.json --mode "$mode" --out "$OUT/hs-$mode.h5" \
         --json --no-progress)
  t1=$(date +%s.%N)
  printf 'heat_spike mode=%s sim_s=%s wall_s=%.3f process_s=%.3f speedup=%.0f peak_rss_mb=%.1f energy_saved_pct=%s\n' \
    "$mode" "$(figure "$json" sim_time_s)" "$(figure "$json" wall_time_s)" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
    "$(figure "$json" speedup)" "$(figure "$json" peak_rss_mb)" \
    "$(figure "$json" energy_saved_pct)"
done
