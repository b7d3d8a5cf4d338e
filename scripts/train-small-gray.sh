#!/bin/bash
# Trains the `small`-preset gray prior on the fetched data (run
# scripts/fetch-training-data.sh first): cond0, then the low-pass net (J=1),
# 28000 steps each instead of the preset's 15000: 97 min on 2 cores
# (measured), stopped (checkpointed) at 2 h at the most.
# Run it again to continue an interrupted run.  Then compare it with GEGL:
#     bench/denoise-vs-gegl.sh build/small-gray.safetensors
# Usage: scripts/train-small-gray.sh [MODEL]   (default build/small-gray.safetensors;
#        WPRIOR: the wprior to use, e.g. a copy, to rebuild while it trains)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/small-gray.safetensors}
[ -f data/train.txt ] || { echo "no data/train.txt: run scripts/fetch-training-data.sh" >&2; exit 1; }
wprior=${WPRIOR:-build/cli/wprior}
[ -x "$wprior" ] || { echo "build first (scripts/test.sh or ninja -C build)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
if [ -f "$out.ckpt" ]; then
    exec "$wprior" train --resume "$out.ckpt" --time-limit 7000
fi
exec "$wprior" train --preset small --channels 1 --steps 28000 \
    --data data/train.txt --val data/val.txt -o "$out" \
    --name small-gray --description "Gray multi-scale prior (J=1), small preset, trained on the photos and textures of data/ (Debian packages, see data/manifest.tsv)" \
    --time-limit 7000
