#!/bin/bash
# Trains the two shipped texture priors on the textures of data/
# (scripts/fetch-training-data.sh):
#   stone: RGB, the Stone_* patterns of gimp-data;
#   wood:  RGB, the Wood_* patterns of gimp-data (not shipped: blotchy);
#   paper: gray, the grain of the paper and canvas scans of
#          mypaint-data-extras: each scan is high-passed (minus its 24-pixel
#          blur, which removes shading) and contrast-stretched into
#          data/derived/paper/ (the scans' own grain, sd 0.01-0.09, is so
#          faint that a prior trained on it sampled flat grey).
# J=1, small-preset networks, noise sigma up to 255 projected on the bands
# (no clipping), since sampling starts from pure noise.  (A first try with
# the reference's full band noise left the low-pass net worse than its
# noisy input at sigma 25 and sampled blurred blobs.)  The crops wrap around the (tileable) source images, and the models
# sample tileable images by default (metadata sample.tileable=1).
# Resumable: checkpoints live in wip/; run this again to continue.
# usage: scripts/train-textures.sh [stone|wood|paper ...]   (default: stone)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f data/train.txt ] || scripts/fetch-training-data.sh
mkdir -p wip models
lists() { # NAME PATTERN: data/NAME-{train,val}.txt from the fixed split
    grep "$2" data/train.txt >"data/$1-train.txt"
    grep "$2" data/val.txt >"data/$1-val.txt"
}
grain() { # SPLIT: the paper scans' grain, tileable, in data/derived/paper/
    mkdir -p data/derived/paper
    grep '^textures/mypaint-data-extras/' "data/$1.txt" | while read -r rel; do
        out=derived/paper/$(basename "$rel")
        [ -f "data/$out" ] || convert "data/$rel" -colorspace Gray -virtual-pixel tile \
            \( +clone -blur 0x24 \) -compose Mathematics -define compose:args='0,-1,1,0.5' \
            -composite -contrast-stretch 0.5%x0.5% -depth 8 "data/$out"
        echo "$out"
    done >"data/paper-$1.txt"
}
train() { # NAME CHANNELS LEVELS BAND-NOISE DESCRIPTION (lists made)
    local name=$1 ch=$2 levels=$3 bands=$4 desc=$5
    if [ -f "wip/$name.ckpt" ]; then
        build/cli/wprior train --resume "wip/$name.ckpt" -o "models/$name.safetensors" \
            --checkpoint "wip/$name.ckpt" --log "wip/$name.log.jsonl"
    else
        build/cli/wprior train --preset small --channels "$ch" --levels "$levels" --steps 4000 \
            --width 32 --layers 11 --rf 13 --low-width 32 --low-layers 8 \
            --noise 0,255 --noise-dist quadratic --rescale-low --band-noise "$bands" --no-clip --data "data/$name-train.txt" \
            --val "data/$name-val.txt" -o "models/$name.safetensors" \
            --checkpoint "wip/$name.ckpt" --log "wip/$name.log.jsonl" \
            --name "$name" --description "$desc"
    fi
    # Sampling starts inside the trained range (the low-pass saw sigma up
    # to 255/2 projected) and ends at a fine residual: texture lives there.
    build/cli/wprior meta "models/$name.safetensors" sample.tileable=1 sample.sigma0=0.5 \
        sample.sigma_l=0.005
}
[ $# -gt 0 ] || set -- stone
for t in "$@"; do
    case $t in
    paper) grain train && grain val && train paper 1 1 projected \
        "Draws seamless (tileable) paper and canvas grain, in gray." ;;
    wood) lists wood '^textures/gimp-data/Wood_' && train wood 3 1 projected \
        "Draws seamless (tileable) wood textures, in colour." ;;
    stone) lists stone '^textures/gimp-data/Stone_' && train stone 3 1 projected \
        "Draws seamless (tileable) stone textures, in colour." ;;
    *) echo "unknown texture prior '$t' (stone, wood, paper)" >&2; exit 2 ;;
    esac
done
