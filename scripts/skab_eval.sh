#!/bin/sh
# skab_eval.sh -- Skadi's IMS + MMS on the SKAB benchmark (upstream protocol): F1, FAR, MAR
# for the outlier problem, NAB scores for the changepoint problem.  All the work is in
# skab_eval.py (Python standard library only); `scripts/skab_eval.sh --help` for options,
# docs/IMS.md ("SKAB") for the method and the figures.
exec /usr/bin/python3 "$(dirname "$0")/skab_eval.py" "$@"
