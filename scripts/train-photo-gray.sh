#!/bin/bash
# Trains the shipped `photo-gray` prior (J=3, small-preset networks, 10000
# steps per network) on the photographs of data/ (scripts/fetch-training-data.sh).
# Resumable across sessions: the checkpoint lives in wip/photo-gray.ckpt
# (committed while the model is unfinished); run this again to continue.
# The finished model goes to models/photo-gray.safetensors.
# usage: scripts/train-photo-gray.sh [SECONDS]   (time limit of this run, default 4800)
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-4800}
[ -f data/train.txt ] || scripts/fetch-training-data.sh
grep '^photos/' data/train.txt >data/photos-train.txt
grep '^photos/' data/val.txt >data/photos-val.txt
mkdir -p wip models
if [ -f wip/photo-gray.ckpt ]; then
    exec build/cli/wprior train --resume wip/photo-gray.ckpt -o models/photo-gray.safetensors \
        --checkpoint wip/photo-gray.ckpt --log wip/photo-gray.log.jsonl --time-limit "$limit"
fi
exec build/cli/wprior train --preset small --channels 1 --levels 3 --steps 10000 \
    --width 32 --layers 11 --rf 13 --low-width 32 --low-layers 8 --noise 0,100 \
    --band-noise projected --data data/photos-train.txt --val data/photos-val.txt \
    -o models/photo-gray.safetensors --checkpoint wip/photo-gray.ckpt \
    --log wip/photo-gray.log.jsonl --time-limit "$limit" --name photo-gray \
    --description "Gray multi-scale prior for photographs (J=3, small preset), trained on the photographs of mate-backgrounds and plasma-workspace-wallpapers (Debian)"
