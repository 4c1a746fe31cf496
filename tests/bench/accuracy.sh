#!/bin/sh
# Accuracy benchmark of every mechanism: SUBTLEX-US (k = 74,286, n = 10^6) and
# Zipf(1.1) over k = 1024 (n = 10^5); 5 runs per (mechanism, epsilon) on SUBTLEX, 20 on Zipf
# (k = 1024 items average less noise out of one run); CSVs, the plot and the
# Markdown tables land in docs/bench/. Run from the source root after `make build`:
#   nice sh tests/bench/accuracy.sh [build-dir]
set -eu
B=${1:-build}
OUT=docs/bench
mkdir -p "$OUT"
EPS=0.5,1,2,3,4,5,8
"$B"/tests/bench/bench_accuracy --counts data/subtlex-us.tsv --dataset subtlex --users 1000000 \
  --runs 5 --epsilons $EPS --seed 2026 > "$OUT"/accuracy-subtlex.csv
"$B"/tests/bench/bench_accuracy --zipf 1024 1.1 --dataset zipf1024 --users 100000 \
  --runs 20 --epsilons $EPS --seed 2026 > "$OUT"/accuracy-zipf1024.csv
python3 tests/bench/plot_accuracy.py "$OUT"/accuracy-subtlex.csv "$OUT"/accuracy-zipf1024.csv \
  --svg docs/accuracy.svg --markdown "$OUT"/accuracy.md
