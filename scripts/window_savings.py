#!/usr/bin/python3
"""window_savings.py -- facility Wh/prompt saving of one recording against another, per
window of simulated time (default 120 s, the slow-loop period).

    scripts/window_savings.py OPTIMIZED.h5 COUNTERFACTUAL.h5 [--window 120] [--from S] [--to S]

OPTIMIZED is a `skadi run --mode closed_loop` recording; COUNTERFACTUAL a plain run
(`--mode off`) of the same scenario and seed, which is exactly the counterfactual twin the
closed-loop run measured itself against.  Each window's Wh/prompt is the facility energy
of the room samples ending in it over the prompts they completed.  Prints a header line
naming the columns with their units (start_s, end_s: the window in s of simulated time;
saving %: of the counterfactual's Wh/prompt), one line per window, and a summary (first
two windows, min, mean, max).
Exit status: 0 done, 2 bad input (a missing file, not a recording, different sample
grids).
"""
import argparse
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # setup.sh installs python3-h5py and python3-numpy
    sys.exit(f"window_savings.py: {e} (run scripts/setup.sh)")


def windows(path, width):
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: {e}")
    if "telemetry/room" not in f:
        raise ValueError(f"{path}: not a skadi recording (no /telemetry/room)")
    room = f["telemetry/room"][:]
    ts = room["ts"]
    if len(ts) < 2:
        raise ValueError(f"{path}: fewer than two room samples")
    period = float(ts[1] - ts[0])
    w = ((ts - 1e-9) // width).astype(int)
    energy = np.bincount(w, weights=room["facility_kw"] * 1e3 * period)
    prompts = np.bincount(w, weights=room["prompts_completed"])
    return ts, energy, prompts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("optimized")
    ap.add_argument("counterfactual")
    ap.add_argument("--window", type=float, default=120.0, help="window, s (default 120)")
    ap.add_argument("--from", dest="t0", type=float, default=0.0, help="first window start, s")
    ap.add_argument("--to", dest="t1", type=float, default=float("inf"), help="last window end, s")
    a = ap.parse_args()
    if not a.window > 0:
        ap.error("--window: must be > 0 s")
    try:
        ts_o, e_o, p_o = windows(a.optimized, a.window)
        ts_c, e_c, p_c = windows(a.counterfactual, a.window)
    except ValueError as e:
        print(f"window_savings.py: {e}", file=sys.stderr)
        return 2
    if len(ts_o) != len(ts_c) or not np.array_equal(ts_o, ts_c):
        print("window_savings.py: the two recordings do not share one sample grid "
              "(same scenario, duration and sample period?)", file=sys.stderr)
        return 2
    rows = []
    for k in range(min(len(e_o), len(e_c))):
        start, end = k * a.window, (k + 1) * a.window
        if start < a.t0 or end > a.t1 or p_o[k] <= 0 or p_c[k] <= 0:
            continue
        wo, wc = e_o[k] / p_o[k], e_c[k] / p_c[k]
        rows.append((start, end, 100.0 * (wc - wo) / wc))
    print(f"{'start_s':>9} {'end_s':>9} {'saving':>7} %")
    for start, end, s in rows:
        print(f"{start:9.0f} {end:9.0f} {s:7.2f} %")
    if rows:
        s = np.array([r[2] for r in rows])
        first = ", ".join(f"{x:.2f}" for x in s[:2])
        print(f"windows {len(s)}: first two {first} %, min {s.min():.2f} %, "
              f"mean {s.mean():.2f} %, max {s.max():.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
