#!/bin/sh
# bench_api.sh -- the live API under load: GET /state/overview (a round trip to the twin)
# and GET /health (the gateway alone) with wrk at 50 connections, then WebSocket fan-out
# to N clients at 10 frames/s (bench_ws.py).  Prints figures, never fails on time.
#   usage: tests/bench/bench_api.sh [BUILD_DIR] [WS_CLIENTS...]   (default: build 200 1000)
set -e
BUILD=${1:-build}
[ $# -gt 0 ] && shift
CLIENTS=${*:-200 1000}
HERE=$(dirname "$0")
if ! command -v wrk >/dev/null; then
  echo "bench_api.sh: no wrk (apt-get install wrk)" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
"$BUILD/skadi" serve scenarios/baseline.json --speed 100x --port 0 --no-record \
  --mode off 2>"$TMP/serve.log" &
PID=$!
for _ in $(seq 50); do
  PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/serve.log")
  [ -n "$PORT" ] && break
  sleep 0.1
done
URL=http://127.0.0.1:$PORT
sleep 1
for route in /state/overview /health; do
  wrk -t2 -c50 -d5s --latency "$URL$route" >"$TMP/wrk.txt"
  printf 'api: GET %-16s %10s req/s  p99 %s  (wrk, 50 connections, 5 s)\n' "$route" \
    "$(sed -n 's/^Requests\/sec: *//p' "$TMP/wrk.txt")" "$(sed -n 's/^ *99% *//p' "$TMP/wrk.txt")"
done
for n in $CLIENTS; do
  /usr/bin/python3 "$HERE/bench_ws.py" "$PORT" "$n" "$PID"
done
