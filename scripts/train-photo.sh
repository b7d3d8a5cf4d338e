#!/bin/bash
# Trains a shipped photograph prior on the photographs of data/
# (scripts/fetch-training-data.sh), J=3 with small-preset networks:
#   gray:  photo-gray,  10000 steps per network;
#   color: photo-color (RGB, the default model), 6000 steps per network.
# Resumable across sessions: the checkpoint lives in wip/photo-KIND.ckpt
# (committed while the model is unfinished); run this again to continue.
# The finished model goes to models/photo-KIND.safetensors.
# usage: scripts/train-photo.sh gray|color [SECONDS]   (time limit of this run, default 4800)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/train-photo.sh gray|color [SECONDS]}
limit=${2:-4800}
case $kind in
gray) ch=1 steps=10000 what="Gray" ;;
color) ch=3 steps=6000 what="RGB" ;;
*) echo "usage: scripts/train-photo.sh gray|color [SECONDS]" >&2; exit 2 ;;
esac
name=photo-$kind
[ -f data/train.txt ] || scripts/fetch-training-data.sh
grep '^photos/' data/train.txt >data/photos-train.txt
grep '^photos/' data/val.txt >data/photos-val.txt
mkdir -p wip models
if [ -f "wip/$name.ckpt" ]; then
    exec build/cli/wprior train --resume "wip/$name.ckpt" -o "models/$name.safetensors" \
        --checkpoint "wip/$name.ckpt" --log "wip/$name.log.jsonl" --time-limit "$limit"
fi
exec build/cli/wprior train --preset small --channels $ch --levels 3 --steps $steps \
    --width 32 --layers 11 --rf 13 --low-width 32 --low-layers 8 --noise 0,100 --noise-dist quadratic --rescale-low \
    --band-noise projected --data data/photos-train.txt --val data/photos-val.txt \
    -o "models/$name.safetensors" --checkpoint "wip/$name.ckpt" \
    --log "wip/$name.log.jsonl" --time-limit "$limit" --name "$name" \
    --description "$what multi-scale prior for photographs (J=3, small preset), trained on the photographs of mate-backgrounds and plasma-workspace-wallpapers (Debian)"
