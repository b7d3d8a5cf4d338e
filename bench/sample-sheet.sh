#!/bin/bash
# Draws 8 samples (seeds 1-8) from a prior and puts them on one contact
# sheet, with the time of each in a text file. Extra arguments go to
# `wprior sample` (sampler knobs), so that settings compare on the same seeds.
# usage: bench/sample-sheet.sh [-b BUILD_DIR] MODEL NAME [SAMPLE OPTIONS...]
#   -> bench/results/NAME.png and NAME.txt
# e.g.   bench/sample-sheet.sh face-gray face-gray-samples
#        bench/sample-sheet.sh face-gray face-gray-reference-knobs --h0 0.01 --beta 0.01 --sigma-l 0.01
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
if [ "${1:-}" = -b ]; then B=$2; shift 2; fi
[ $# -ge 2 ] || { sed -n 2,9p "$0"; exit 2; }
MODEL=$1 NAME=$2
shift 2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
echo "# wprior sample -m $MODEL $* --seed N (N = 1..8)" >"$T/log"
for s in 1 2 3 4 5 6 7 8; do
    "$B/cli/wprior" sample -m "$MODEL" --seed $s "$@" "$T/s$s.png" 2>&1 | tee -a "$T/log"
done
montage "$T"/s[1-8].png -tile 4x2 -geometry +2+2 -background white "bench/results/$NAME.png"
cp "$T/log" "bench/results/$NAME.txt"
echo "bench/results/$NAME.png"
