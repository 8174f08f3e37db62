#!/bin/sh
# skab_eval.sh -- tests scripts/skab_eval.sh end to end on a tiny SKAB-format folder made
# here, with settings under which skadi's predictions are known exactly, against metrics
# worked out by hand (below).  Usage: tests/e2e/skab_eval.sh BUILD_DIR
set -eu
build=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/skab/valve1" "$tmp/skab/other" "$tmp/skab/anomaly-free"

# One file: 500 rows at 1 s from 2020-03-09 10:00:00.  Current and Pressure alternate
# between (1, 0) and (3, 2): one centroid at their mean, every training deviation sqrt(2).
# Rows in the "pred" ranges get Current = Pressure = 50 (far above a threshold of 1.5 x
# sqrt(2)); with alpha 1, 1 tick to enter and 1 to clear, the monitor is persistent on
# exactly those rows.  anomaly = 1 on the "true" ranges, changepoint = 1 on the cp rows.
make() { # file pred_ranges true_ranges cp_rows
  awk -v pred="$2" -v tru="$3" -v cps="$4" 'function inr(i, spec,   n, a, k, b) {
      n = split(spec, a, " ")
      for (k = 1; k <= n; k++) { split(a[k], b, "-"); if (i >= b[1] + 0 && i <= b[2] + 0) return 1 }
      return 0 }
    BEGIN {
      print "datetime;Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;" \
            "Thermocouple;Voltage;Volume Flow RateRMS;anomaly;changepoint"
      for (i = 0; i < 500; i++) {
        c = i % 2 ? 3 : 1; p = c - 1
        if (inr(i, pred)) { c = 50; p = 50 }
        cp = 0; n = split(cps, q, " "); for (k = 1; k <= n; k++) if (q[k] + 0 == i) cp = 1
        printf "2020-03-09 10:%02d:%02d;0.02;0.04;%d;%d;70;25;230;32;%d;%d\n", int(i / 60), i % 60,
               c, p, inr(i, tru), cp
      } }' > "$1"
}
# valve1/0: predicted 450-469, true 445-474 (TP 20, FN 10); changepoints 440 and 468.
make "$tmp/skab/valve1/0.csv" "450-469" "445-474" "440 468"
# other/1: predicted 420-424 and 480-489, true 480-494 (TP 10, FN 5, FP 5); changepoint 478.
make "$tmp/skab/other/1.csv" "420-424 480-489" "480-494" "478"
# never read (anomaly-free/ is not an experiment)
echo "not;a;skab;file" > "$tmp/skab/anomaly-free/anomaly-free.csv"

out=$("$src/scripts/skab_eval.sh" --skadi "$build/skadi" --features Current,Pressure \
  --train-args "--clusters 1 --tau-fast-percentile 100 --tau-persist-percentile 100 --tau-margin 1.5" \
  --monitor-args "--alpha 1 --persist-ticks 1 --clear-ticks 1" "$tmp/skab")
echo "$out"
fail=0
expect() {
  if ! printf '%s\n' "$out" | grep -qF -- "$1"; then
    echo "FAIL: expected line: $1"
    fail=1
  fi
}
# Outlier problem, pooled over the 200 scored rows: TP 30, FN 15, FP 5, TN 150.
# F1 = 30 / (30 + 20 / 2) = 0.75; FAR = 5 / 155 = 3.23 %; MAR = 15 / 45 = 33.33 %.
expect "SKAB: 2 files, 200 scored rows"
expect "TP 30  TN 150  FP 5  FN 15"
expect "F1   0.75"
expect "FAR  3.23 %"
expect "MAR  33.33 %"
# Changepoint problem, predicted changepoints = changes of the prediction:
# valve1/0: 450 (rise), 470 (fall).  Windows [440, 500] and [468, 528], the second cut to
# [500, 528] ('cut right window').  450 is the first detection in the first window:
# position 10/60, step int(166.67) = 166 of 1000; 470 lies in it too and is ignored.  The
# second window has no prediction: a miss.
# other/1: 420, 425 (before the window [478, 538]: 2 false positives), 480 (first in the
# window, step int(33.33) = 33), 490 (ignored).
# S = 2 A_fp + 1 A_fn + f(166) + f(33), f(k) = (A_tp - A_fp)/2 (1 - tanh(x_k)/tanh(pi/2))
# + A_fp, x_k = -pi/2 + pi k/999; NAB = 100 (S + 3 |A_fn|) / (3 A_tp + 3 |A_fn|):
# standard (1, -0.11, -1): S = 0.68683 -> 61.45; low FP (1, -0.22, -1): 0.45759 -> 57.63;
# low FN (1, -0.11, -2): -0.31317 -> 63.19.
expect "windows 3  detected 2  missed 1  false positives 2"
expect "NAB standard  61.45"
expect "NAB low_fp    57.63"
expect "NAB low_fn    63.19"

# bad input: exit 2 with a message
if "$src/scripts/skab_eval.sh" --skadi "$build/skadi" "$tmp/nope" 2>"$tmp/err"; then
  echo "FAIL: a missing SKAB_DIR was accepted"; fail=1
fi
grep -q "SKAB_DIR $tmp/nope: not a directory" "$tmp/err" || { echo "FAIL: $(cat "$tmp/err")"; fail=1; }
if "$src/scripts/skab_eval.sh" --outlier maybe "$tmp/skab" 2>"$tmp/err"; then
  echo "FAIL: --outlier maybe was accepted"; fail=1
fi
grep -q "outlier: 'maybe'" "$tmp/err" || { echo "FAIL: $(cat "$tmp/err")"; fail=1; }
"$src/scripts/skab_eval.sh" --help | grep -q "usage: scripts/skab_eval.sh" || { echo "FAIL: --help"; fail=1; }
exit $fail
