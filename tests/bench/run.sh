#!/bin/sh
# run.sh -- runs the benchmarks against a build tree.  They print figures and never fail
# on time; a non-zero exit means a benchmark could not run at all.
#   usage: tests/bench/run.sh [BUILD_DIR]    (default: build)
set -e
BUILD=${1:-build}
HERE=$(dirname "$0")

# tests/bench/CMakeLists.txt puts bench_phold in its own binary dir unless told otherwise.
PHOLD=$BUILD/bench_phold
[ -x "$PHOLD" ] || PHOLD=$BUILD/tests/bench/bench_phold
if [ ! -x "$PHOLD" ]; then
  echo "run.sh: no bench_phold in $BUILD (build it first)" >&2
  exit 1
fi
# Three rounds: on a shared machine the 65,536-LP figure swings with cache pressure from
# neighbours, so report all three (PERFORMANCE.md quotes the median and the range).
for round in 1 2 3; do
  "$PHOLD"
done

if [ -x "$BUILD/skadi" ] && [ -f "$HERE/bench_room.sh" ]; then
  sh "$HERE/bench_room.sh" "$BUILD"
fi
if [ -x "$BUILD/skadi" ] && [ -f "$HERE/bench_sweep.sh" ]; then
  sh "$HERE/bench_sweep.sh" "$BUILD"
fi

# skadi-viz's frame cost (when built with the visualizer): 72 and 1,000 racks.
VIZ=$BUILD/tests/bench/bench_viz
[ -x "$VIZ" ] || VIZ=$BUILD/bench_viz
if [ -x "$VIZ" ]; then
  "$VIZ"
fi

# The live API under load with the C client: docs/PERFORMANCE.md (j).
if [ -x "$BUILD/skadi" ] && [ -f "$HERE/bench_api_load.sh" ]; then
  sh "$HERE/bench_api_load.sh" "$BUILD"
fi

# The live API under load (needs wrk): docs/PERFORMANCE.md (g).
if [ -x "$BUILD/skadi" ] && command -v wrk >/dev/null; then
  sh "$HERE/bench_api.sh" "$BUILD"
fi
