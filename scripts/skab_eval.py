#!/usr/bin/python3
"""skab_eval.py -- Skadi's IMS + MMS on the SKAB benchmark, with SKAB's upstream protocol.

Run through scripts/skab_eval.sh (see --help there or below).  Python standard library only.

SKAB (Skoltech Anomaly Benchmark, Katser & Kozitsin 2020, doi:10.34740/KAGGLE/DSV/1693952,
GPL-3.0): 34 experiment files of a water-circulation test rig, `;`-separated, 1 row/s, with
the labels `anomaly` and `changepoint`.  The data are read where they are; nothing is copied.

Protocol (upstream, unchanged): for each experiment file (every *.csv under SKAB_DIR except
anomaly-free/), fit on its first 400 rows, predict every later row; pool the predictions of
all files.  Here "fit" is `skadi ims train --to <time of row 400>` and "predict" is
`skadi monitor --from <time of row 401>`, on the file itself (both tools read SKAB's CSV as
it is: `;` sniffed, `datetime` taken as the time column, the label columns ignored).

Outlier problem: a row is predicted anomalous when the monitor's per-row state is
`persistent` (--outlier state, the default), or its deviation is above tau_persist
(--outlier tau_persist) or tau_fast (--outlier tau_fast).  Pooled over all files' scored
rows: F1 = TP / (TP + (FN + FP) / 2), FAR = FP / (FP + TN) * 100, MAR = FN / (FN + TP) *
100, each rounded to 2 decimals -- the `binary` metric of TSAD's `evaluating`
(waico/tsad, tsad/evaluating/evaluating.py), which SKAB's notebooks import.

Changepoint problem: the predicted changepoints are the starts of the monitor's alarm
episodes (the row an entity turns persistent).  Scored with TSAD's `nab` metric as SKAB
uses it: window_width 60 s to the right of each true changepoint ('righter'), overlapping
windows cut ('cut right window': a window starts where the previous one ends), the first
prediction inside a window scores with TSAD's "improved" scaled-tanh function (A_tp at the
window's start, A_fp at its end; 1000 steps), every prediction before the first window,
between windows or after the last is a false positive (predictions inside a window after
its first are ignored), a window without a prediction is a false negative.  Profiles
(A_tp, A_fp, A_fn): standard (1, -0.11, -1), low FP (1, -0.22, -1), low FN (1, -0.11, -2).
Score = 100 * (S - S_null) / (S_perfect - S_null) with S summed over files, S_null =
n_windows * A_fn, S_perfect = n_windows * A_tp (tsad/evaluating/univariate_funcs.py
single_evaluate_nab and my_scale, tsad/evaluating/src.py single_detecting_boundaries and
extract_cp_confusion_matrix).

Which rows count: the scored rows (row 401 on) of each file, with their own labels; the
training rows are neither predicted nor counted, for both problems (a changepoint inside
the first 400 rows -- two in other/2.csv -- is not scored).
"""
import csv
import datetime
import math
import os
import shlex
import signal
import subprocess
import sys
import tempfile

TRAIN_ROWS = 400
WINDOW_S = 60.0
PROFILES = (("standard", 1.0, -0.11, -1.0), ("low_fp", 1.0, -0.22, -1.0),
            ("low_fn", 1.0, -0.11, -2.0))
USAGE = """usage: scripts/skab_eval.sh [options] [SKAB_DIR]

Runs `skadi ims train` and `skadi monitor` on every SKAB experiment file with SKAB's
upstream protocol (fit on the first 400 rows, predict every later row, pool all files)
and prints F1, FAR and MAR for the outlier problem (the `anomaly` column) and the NAB
scores for the changepoint problem (the `changepoint` column, 60 s windows to the right).
Method and sources: docs/IMS.md, section "SKAB".

SKAB_DIR   the SKAB data folder (valve1/, valve2/, other/, anomaly-free/); default
           ../shared/data/skab beside the repository, if present

options:
  --skadi PATH          skadi binary (default: $SKADI, else build/skadi)
  --features a,b,c      the sensors the model uses (default: Accelerometer2RMS,
                        Current, Pressure, Voltage, Volume Flow RateRMS)
  --train-args "ARGS"   options for skadi ims train (default: "TRAIN_DEFAULT")
  --monitor-args "ARGS" options for skadi monitor (default: "MONITOR_DEFAULT")
  --seed-settings       the seed's IMS instead of the tuned settings: all eight sensors,
                        no --train-args, no --monitor-args (the defaults of both tools)
  --outlier WHICH       the per-row outlier prediction: state (persistent, default),
                        tau_persist (deviation > tau_persist) or tau_fast
  --changepoint WHICH   the predicted changepoints: edges (every change of the per-row
                        outlier prediction, 0->1 and 1->0, as SKAB's notebooks derive
                        them; default) or starts (alarm episode starts only)
  --per-file            also print one line per file
  --keep DIR            keep the models and monitor outputs in DIR (must exist)
  -h, --help            this help

Exit status: 0 done, 1 a skadi run failed, 2 bad arguments or data.
"""
FEATURES = ("Accelerometer1RMS", "Accelerometer2RMS", "Current", "Pressure", "Temperature",
            "Thermocouple", "Voltage", "Volume Flow RateRMS")
# The settings tuned on SKAB (docs/IMS.md, "SKAB"): five sensors (the two thermal ones drift
# over an experiment beyond anything its first 400 s show; Accelerometer1RMS raised more
# false alarms than it found), 10-row trailing means, K = 2, both thresholds 1.2 x the
# largest training deviation, MMS alpha 0.3 and 3 ticks.
TUNED_FEATURES = ("Accelerometer2RMS", "Current", "Pressure", "Voltage", "Volume Flow RateRMS")
TUNED_TRAIN = ("--smooth 10 --clusters 2 --tau-fast-percentile 100 --tau-persist-percentile 100 "
               "--tau-margin 1.2")
TUNED_MONITOR = "--persist-ticks 3 --alpha 0.3"


def die(msg, code=2):
    sys.stderr.write("skab_eval: %s\n" % msg)
    sys.exit(code)


def parse_time(s):
    """SKAB's datetime ('2020-03-09 10:14:33') or monitor's ISO 8601 ('...T10:14:33Z') -> s."""
    s = s.strip().replace("T", " ").rstrip("Z")
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in s else "%Y-%m-%d %H:%M:%S"
    t = datetime.datetime.strptime(s, fmt).replace(tzinfo=datetime.timezone.utc)
    return t.timestamp()


def read_skab(path):
    """(times, anomaly, changepoint, datetime strings) of one SKAB file."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    if not rows:
        die("%s: empty file" % path)
    head = rows[0]
    for col in ("datetime", "anomaly", "changepoint") + FEATURES:
        if col not in head:
            die("%s: no column '%s'" % (path, col))
    it, ia, ic = head.index("datetime"), head.index("anomaly"), head.index("changepoint")
    ts, an, cp, raw = [], [], [], []
    for n, r in enumerate(rows[1:], start=2):
        if not r:
            continue
        try:
            ts.append(parse_time(r[it]))
            an.append(int(float(r[ia])))
            cp.append(int(float(r[ic])))
        except (ValueError, IndexError) as e:
            die("%s:%d: %s" % (path, n, e))
        raw.append(r[it])
    return ts, an, cp, raw


# ---- metrics (TSAD's `evaluating`, re-implemented) -------------------------------------

def binary_counts(true, pred):
    tp = sum(1 for t, p in zip(true, pred) if t == 1 and p == 1)
    tn = sum(1 for t, p in zip(true, pred) if t != 1 and p != 1)
    fp = sum(1 for t, p in zip(true, pred) if t != 1 and p == 1)
    fn = sum(1 for t, p in zip(true, pred) if t == 1 and p != 1)
    return tp, tn, fp, fn


def binary_metrics(tp, tn, fp, fn):
    """F1, FAR %, MAR % as TSAD's metric='binary' (NaN where a denominator is 0)."""
    f1 = tp / (tp + (fn + fp) / 2) if tp + fn + fp > 0 else float("nan")
    far = fp / (fp + tn) * 100 if fp + tn > 0 else float("nan")
    mar = fn / (fn + tp) * 100 if fn + tp > 0 else float("nan")
    return f1, far, mar


def nab_windows(times, cp, width=WINDOW_S):
    """Windows [t, t + width] right of each changepoint; overlaps cut as 'cut right window'."""
    w = [[t, t + width] for t, c in zip(times, cp) if c == 1]
    for i in range(len(w) - 1):
        if w[i][1] >= w[i + 1][0]:
            w[i + 1][0] = w[i][1]
    return w


def scale_tanh(t1, tp, t2, a_tp, a_fp, detail=1000):
    """TSAD's my_scale (clear_anomalies_mode, koef 1): the score of a first detection at tp."""
    event = int((tp - t1) / (t2 - t1) * detail) if t2 > t1 else 0
    event = min(event, detail - 1)
    x = -math.pi / 2 + math.pi * event / (detail - 1)
    h = (a_tp - a_fp) / 2
    return h * -math.tanh(x) / math.tanh(math.pi / 2) + h + a_fp


def nab_counts(windows, times, pred):
    """(false positives, missed windows, [(t1, first detection, t2)]) for one file."""
    tpred = sorted(t for t, p in zip(times, pred) if p == 1)
    fps, fns, tps = 0, 0, []
    if not windows:
        return len(tpred), 0, []
    fps += sum(1 for t in tpred if t < windows[0][0])
    for i, (a, b) in enumerate(windows):
        inside = [t for t in tpred if a <= t <= b]
        if inside:
            tps.append((a, inside[0], b))
        else:
            fns += 1
        if i + 1 < len(windows):
            fps += sum(1 for t in tpred if b < t < windows[i + 1][0])
    fps += sum(1 for t in tpred if t > windows[-1][1])
    return fps, fns, tps


def nab_file_scores(windows, times, pred):
    """[(S, S_null, S_perfect)] per profile for one file."""
    fps, fns, tps = nab_counts(windows, times, pred)
    out = []
    for _, a_tp, a_fp, a_fn in PROFILES:
        s = a_fp * fps + a_fn * fns + sum(scale_tanh(a, t, b, a_tp, a_fp) for a, t, b in tps)
        out.append((s, len(windows) * a_fn, len(windows) * a_tp))
    return out, (fps, fns, len(tps))


# ---- running skadi ---------------------------------------------------------------------

def run(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        die("%s failed (exit %d): %s\n  command: %s" % (what, p.returncode, p.stderr.strip(),
                                                       " ".join(shlex.quote(c) for c in cmd)),
            1)
    return p.stdout


def read_monitor(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    skadi = os.environ.get("SKADI") or os.path.join(repo, "build", "skadi")
    train_args, monitor_args = shlex.split(TUNED_TRAIN), shlex.split(TUNED_MONITOR)
    outlier, per_file, keep, skab = "state", False, None, None
    features = list(TUNED_FEATURES)
    changepoint = "edges"
    i = 0
    while i < len(argv):
        a = argv[i]

        def value():
            if i + 1 >= len(argv):
                die("%s needs a value (see --help)" % a)
            return argv[i + 1]
        if a in ("-h", "--help"):
            sys.stdout.write(USAGE.replace("TRAIN_DEFAULT", TUNED_TRAIN)
                             .replace("MONITOR_DEFAULT", TUNED_MONITOR))
            return 0
        if a == "--seed-settings":
            features, train_args, monitor_args = list(FEATURES), [], []
            i += 1
            continue
        if a == "--skadi":
            skadi = value()
            i += 1
        elif a == "--train-args":
            train_args = shlex.split(value())
            i += 1
        elif a == "--monitor-args":
            monitor_args = shlex.split(value())
            i += 1
        elif a == "--outlier":
            outlier = value()
            i += 1
            if outlier not in ("state", "tau_persist", "tau_fast"):
                die("--outlier: '%s' is not state, tau_persist or tau_fast" % outlier)
        elif a == "--features":
            features = [x.strip() for x in value().split(",")]
            i += 1
            for x in features:
                if x not in FEATURES:
                    die("--features: '%s' is not one of SKAB's sensors: %s" % (x, ", ".join(FEATURES)))
        elif a == "--changepoint":
            changepoint = value()
            i += 1
            if changepoint not in ("edges", "starts"):
                die("--changepoint: '%s' is not edges or starts" % changepoint)
        elif a == "--per-file":
            per_file = True
        elif a == "--keep":
            keep = value()
            i += 1
            if not os.path.isdir(keep):
                die("--keep %s: not a directory" % keep)
        elif a.startswith("-"):
            die("unknown option '%s' (see --help)" % a)
        elif skab is None:
            skab = a
        else:
            die("one SKAB_DIR at most ('%s' and '%s')" % (skab, a))
        i += 1
    if skab is None:
        skab = os.path.join(repo, "..", "shared", "data", "skab")
        if not os.path.isdir(skab):
            die("no SKAB_DIR given and %s does not exist" % os.path.normpath(skab))
    if not os.path.isdir(skab):
        die("SKAB_DIR %s: not a directory" % skab)
    if not (os.path.isfile(skadi) and os.access(skadi, os.X_OK)):
        die("skadi binary %s not found (build it, or pass --skadi PATH / set SKADI)" % skadi)

    files = []
    for root, dirs, names in os.walk(skab):
        dirs.sort()
        for n in sorted(names):
            if n.endswith(".csv") and "anomaly-free" not in os.path.join(root, n):
                files.append(os.path.join(root, n))
    files.sort()
    if not files:
        die("%s: no experiment files (*.csv outside anomaly-free/)" % skab)

    tmp = tempfile.mkdtemp(prefix="skab_eval.")
    work = keep or tmp
    tot = [0, 0, 0, 0]
    nab = [[0.0, 0.0, 0.0] for _ in PROFILES]
    cp_counts = [0, 0, 0]
    n_scored = 0
    try:
        for k, path in enumerate(files):
            ts, an, cp, raw = read_skab(path)
            if len(ts) <= TRAIN_ROWS:
                die("%s: %d rows, need more than %d" % (path, len(ts), TRAIN_ROWS))
            if any(b <= a for a, b in zip(ts, ts[1:])):
                die("%s: datetime not strictly increasing" % path)
            rel = os.path.relpath(path, skab)
            tag = "%02d_%s" % (k, rel.replace(os.sep, "_").replace(".csv", ""))
            model = os.path.join(work, tag + ".h5")
            state = os.path.join(work, tag + ".state.csv")
            eps = os.path.join(work, tag + ".episodes.csv")
            run([skadi, "ims", "train", "--data", path, "--out", model, "--force",
                 "--features", ",".join(features), "--to", raw[TRAIN_ROWS - 1]] + train_args,
                "skadi ims train on %s" % rel)
            run([skadi, "monitor", "--model", model, "--data", path, "--from", raw[TRAIN_ROWS],
                 "--out", state, "--episodes", eps, "--force"] + monitor_args,
                "skadi monitor on %s" % rel)
            rows = read_monitor(state)
            ts_s, an_s, cp_s = ts[TRAIN_ROWS:], an[TRAIN_ROWS:], cp[TRAIN_ROWS:]
            if len(rows) != len(ts_s):
                die("%s: monitor wrote %d rows, expected %d" % (rel, len(rows), len(ts_s)), 1)
            for r, t in zip(rows, ts_s):
                if abs(parse_time(r["ts"]) - t) > 1e-6:
                    die("%s: monitor row at %s, expected %s" % (rel, r["ts"], t), 1)
            if outlier == "state":
                pred = [1 if r["state"] == "persistent" else 0 for r in rows]
            else:
                col = "over_" + outlier
                pred = [int(r[col]) for r in rows]
            with open(eps, newline="") as f:
                starts = {parse_time(e["start"]) for e in csv.DictReader(f)}
            if changepoint == "edges":
                pred_cp = [1 if p != (pred[j - 1] if j else 0) else 0 for j, p in enumerate(pred)]
            else:
                pred_cp = [1 if t in starts else 0 for t in ts_s]
            c = binary_counts(an_s, pred)
            for j in range(4):
                tot[j] += c[j]
            w = nab_windows(ts_s, cp_s)
            scores, counts = nab_file_scores(w, ts_s, pred_cp)
            for j, s in enumerate(scores):
                for q in range(3):
                    nab[j][q] += s[q]
            for q in range(3):
                cp_counts[q] += counts[q]
            n_scored += len(ts_s)
            if per_file:
                f1, far, mar = binary_metrics(*c)
                print("  %-16s rows %5d  F1 %5.2f  FAR %6.2f %%  MAR %6.2f %%  episodes %2d  "
                      "cp windows %d  hit %d  FP %d" % (rel, len(ts_s), f1, far, mar,
                                                        len(starts), len(w), counts[2],
                                                        counts[0]))
    finally:
        if keep is None:
            for n in os.listdir(tmp):
                os.unlink(os.path.join(tmp, n))
            os.rmdir(tmp)

    f1, far, mar = binary_metrics(*tot)
    print("SKAB: %d files, %d scored rows (first %d rows of each file train its model)"
          % (len(files), n_scored, TRAIN_ROWS))
    print("  features: %s" % ",".join(features))
    print("  skadi ims train %s; skadi monitor %s" % (" ".join(shlex.quote(a) for a in train_args),
                                                     " ".join(shlex.quote(a) for a in monitor_args)))
    print("outlier problem (anomaly, prediction: %s)" % outlier)
    print("  TP %d  TN %d  FP %d  FN %d" % tuple(tot))
    print("  F1   %.2f" % f1)
    print("  FAR  %.2f %%" % far)
    print("  MAR  %.2f %%" % mar)
    print("changepoint problem (changepoint, prediction: %s; NAB, %g s windows to the right)"
          % ("changes of the outlier prediction" if changepoint == "edges"
             else "alarm episode starts", WINDOW_S))
    print("  windows %d  detected %d  missed %d  false positives %d"
          % (cp_counts[1] + cp_counts[2], cp_counts[2], cp_counts[1], cp_counts[0]))
    for (name, _, _, _), (s, s0, s1) in zip(PROFILES, nab):
        v = 100 * (s - s0) / (s1 - s0) if s1 != s0 else float("nan")
        print("  NAB %-9s %.2f" % (name, v))
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends it quietly
    sys.exit(main(sys.argv[1:]))
