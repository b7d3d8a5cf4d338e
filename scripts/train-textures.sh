#!/bin/bash
# Trains the two shipped texture priors on the textures of data/
# (scripts/fetch-training-data.sh):
#   paper: gray, the paper and canvas scans of mypaint-data-extras;
#   stone: RGB, the Stone_* patterns of gimp-data.
# Both J=2 with small-preset networks and the reference noise regime (sigma
# up to 255, the low-pass band's full share), since sampling starts from pure
# noise.  The crops wrap around the (tileable) source images, and the models
# sample tileable images by default (metadata sample.tileable=1).
# Resumable: checkpoints live in wip/; run this again to continue.
# usage: scripts/train-textures.sh [paper|stone ...]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f data/train.txt ] || scripts/fetch-training-data.sh
mkdir -p wip models
train() { # NAME CHANNELS PATTERN DESCRIPTION
    local name=$1 ch=$2 pat=$3 desc=$4
    grep "$pat" data/train.txt >"data/$name-train.txt"
    grep "$pat" data/val.txt >"data/$name-val.txt"
    if [ -f "wip/$name.ckpt" ]; then
        build/cli/wprior train --resume "wip/$name.ckpt" -o "models/$name.safetensors" \
            --checkpoint "wip/$name.ckpt" --log "wip/$name.log.jsonl"
    else
        build/cli/wprior train --preset small --channels "$ch" --levels 2 --steps 4000 \
            --width 32 --layers 11 --rf 13 --low-width 32 --low-layers 8 \
            --noise 0,255 --band-noise full --data "data/$name-train.txt" \
            --val "data/$name-val.txt" -o "models/$name.safetensors" \
            --checkpoint "wip/$name.ckpt" --log "wip/$name.log.jsonl" \
            --name "$name" --description "$desc"
    fi
    build/cli/wprior meta "models/$name.safetensors" sample.tileable=1
}
[ $# -gt 0 ] || set -- paper stone
for t in "$@"; do
    case $t in
    paper) train paper 1 '^textures/mypaint-data-extras/' \
        "Gray texture prior of paper and canvas (J=2), trained on the paper scans of mypaint-data-extras (Debian); samples tile seamlessly" ;;
    stone) train stone 3 '^textures/gimp-data/Stone_' \
        "RGB texture prior of stone (J=2), trained on the Stone patterns of gimp-data (Debian); samples tile seamlessly" ;;
    *) echo "unknown texture prior '$t' (paper, stone)" >&2; exit 2 ;;
    esac
done
