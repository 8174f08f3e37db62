#!/bin/sh
# Runs the README's tour -- the block between <!-- tour --> and <!-- /tour --> -- line by
# line, exactly as written, in a scratch copy of the checkout's layout (build/, scenarios/,
# scripts/ linked; a fresh runs/), and fails at the first line that fails.
#   tests/e2e/tour.sh [BUILD_DIR]      (default: build)
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-build}" && pwd)
[ -x "$build/skadi" ] || { echo "tour: no skadi in $build (build first)" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/skadi-tour-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
ln -s "$build" "$scratch/build"
ln -s "$here/scenarios" "$scratch/scenarios"
ln -s "$here/scripts" "$scratch/scripts"

awk '/^<!-- tour -->$/ {on = 1; next} /^<!-- \/tour -->$/ {on = 0} on' "$here/README.md" |
  grep -v '^```' | grep -v '^[[:space:]]*#' | grep -v '^[[:space:]]*$' >"$scratch/lines"
n=$(wc -l <"$scratch/lines")
[ "$n" -gt 0 ] || { echo "tour: no tour block in README.md" >&2; exit 1; }

cd "$scratch"
i=0
total0=$(date +%s)
while IFS= read -r line; do
  i=$((i + 1))
  t0=$(date +%s)
  if ! sh -c "$line" >"$scratch/out" 2>"$scratch/err" </dev/null; then
    echo "tour: line $i of $n failed: $line" >&2
    tail -n 20 "$scratch/err" >&2
    exit 1
  fi
  echo "tour: [$i/$n] $(($(date +%s) - t0)) s  $line"
done <"$scratch/lines"
echo "tour: all $n lines ran in $(($(date +%s) - total0)) s"
