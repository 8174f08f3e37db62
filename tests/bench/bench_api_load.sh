#!/bin/sh
# bench_api_load.sh -- the live API under load with the C client bench_load
# (docs/PERFORMANCE.md (j)): `skadi serve` of the default room at 100x in mode off (10
# frames/s), then GET /state/overview and GET /health at 50 keep-alive connections for 10 s,
# then 1,000 and 2,000 WebSocket clients for 10 s each.  Prints figures, never fails on time.
#   usage: tests/bench/bench_api_load.sh [BUILD_DIR] [WS_CLIENTS...]   (default: build 1000 2000)
set -e
BUILD=${1:-build}
[ $# -gt 0 ] && shift
CLIENTS=${*:-1000 2000}
LOAD=$BUILD/tests/bench/bench_load
[ -x "$LOAD" ] || LOAD=$BUILD/bench_load
if [ ! -x "$LOAD" ] || [ ! -x "$BUILD/skadi" ]; then
  echo "bench_api_load.sh: no bench_load or skadi in $BUILD (build them first)" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
"$BUILD/skadi" serve scenarios/baseline.json --speed 100x --port 0 --no-record --mode off \
  2>"$TMP/serve.log" &
PID=$!
PORT=
for _ in $(seq 50); do
  PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/serve.log")
  [ -n "$PORT" ] && break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "bench_api_load.sh: skadi serve did not start: $(cat "$TMP/serve.log")" >&2
  exit 1
fi
sleep 1
echo "api load: skadi serve pid $PID port $PORT; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for route in /state/overview /health; do
  "$LOAD" http "$PORT" "$route" 50 10 1
done
for n in $CLIENTS; do
  "$LOAD" ws "$PORT" "$n" 10 "$PID"
done
