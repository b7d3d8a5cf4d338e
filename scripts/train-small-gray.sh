#!/bin/bash
# Trains the `small`-preset gray prior on the fetched data (run
# scripts/fetch-training-data.sh first), one network at a time, with more
# steps than the preset's 12000 and most of them for the low-pass net, which
# holds most of the error (given the clean low-pass, the 16 validation
# images at sigma 25 would score 36.2 dB; given the clean details, 32.3):
#   1. cond0, 28000 steps          (2758 s measured)
#   2. the low-pass net, 19000 steps at lr 2e-3   (4334 s measured)
# 7092 s (118 min) of training on 2 cores in all.  Rerun to continue an interrupted
# run (each stage resumes from its checkpoint; a finished stage is skipped).
# Then compare it with GEGL:
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
COND_STEPS=28000
LOW_STEPS=19000
common=(--preset small --channels 1 --data data/train.txt --val data/val.txt --name small-gray
        --description "Gray multi-scale prior (J=1), small preset, trained on the photos and textures of data/ (Debian packages, see data/manifest.tsv)")

# stage OUT ARGS...: trains into OUT unless OUT.done says it finished.  The
# trainer exits 0 only when its network is done (a signal gives 128+N).
stage() {
    local o=$1
    shift
    [ -f "$o.done" ] && return 0
    if [ -f "$o.ckpt" ]; then
        "$wprior" train --resume "$o.ckpt"
    else
        "$wprior" train "$@" -o "$o"
    fi
    touch "$o.done"
}

stage "$out.cond0.safetensors" "${common[@]}" --only cond0 --steps $COND_STEPS
stage "$out" "${common[@]}" --only low --base "$out.cond0.safetensors" --steps $LOW_STEPS --lr 2e-3
