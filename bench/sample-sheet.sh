#!/bin/bash
# Draws 8 samples (seeds 1-8) from the paper's J=2 160x160 face prior with the
# default sampler and puts them on one contact sheet.
# usage: bench/sample-sheet.sh [BUILD_DIR]   -> bench/results/face160-samples.png
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
REF=${WPRIOR_REFERENCE:-$(pwd)/../shared/reference}
M=$REF/models/multi_scale/celebA_160x160_gray
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$B/cli/wprior" import --low "$M/low.safetensors" --cond "0=$M/rf13_scale0.safetensors" \
    --cond "1=$M/rf13_scale1.safetensors" --image-size 160x160 -o "$T/face160.safetensors"
for s in 1 2 3 4 5 6 7 8; do
    "$B/cli/wprior" sample -m "$T/face160.safetensors" --seed $s "$T/s$s.png" 2>&1 | tee -a "$T/log"
done
montage "$T"/s[1-8].png -tile 4x2 -geometry +2+2 -background white bench/results/face160-samples.png
cp "$T/log" bench/results/face160-samples.txt
echo "bench/results/face160-samples.png"
