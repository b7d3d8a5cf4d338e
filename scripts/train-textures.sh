#!/bin/bash
# Trains the two shipped texture priors on the textures of data/
# (scripts/fetch-training-data.sh):
#   stone: RGB, the Stone_* patterns of gimp-data;
#   wood:  RGB, the Wood_* patterns of gimp-data (not shipped: blotchy);
#   paper: gray, the paper and canvas scans of mypaint-data-extras (not
#          shipped: its samples come out nearly flat, the paper grain being
#          too faint for these small nets to keep).
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
train() { # NAME CHANNELS LEVELS BAND-NOISE PATTERN DESCRIPTION
    local name=$1 ch=$2 levels=$3 bands=$4 pat=$5 desc=$6
    grep "$pat" data/train.txt >"data/$name-train.txt"
    grep "$pat" data/val.txt >"data/$name-val.txt"
    if [ -f "wip/$name.ckpt" ]; then
        build/cli/wprior train --resume "wip/$name.ckpt" -o "models/$name.safetensors" \
            --checkpoint "wip/$name.ckpt" --log "wip/$name.log.jsonl"
    else
        build/cli/wprior train --preset small --channels "$ch" --levels "$levels" --steps 4000 \
            --width 32 --layers 11 --rf 13 --low-width 32 --low-layers 8 \
            --noise 0,255 --band-noise "$bands" --no-clip --data "data/$name-train.txt" \
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
    paper) train paper 1 1 projected '^textures/mypaint-data-extras/' \
        "Gray texture prior of paper and canvas (J=1), trained on the paper scans of mypaint-data-extras (Debian); samples tile seamlessly" ;;
    wood) train wood 3 1 projected '^textures/gimp-data/Wood_' \
        "RGB texture prior of wood (J=1), trained on the Wood patterns of gimp-data (Debian); samples tile seamlessly" ;;
    stone) train stone 3 1 projected '^textures/gimp-data/Stone_' \
        "RGB texture prior of stone (J=1), trained on the Stone patterns of gimp-data (Debian); samples tile seamlessly" ;;
    *) echo "unknown texture prior '$t' (stone, wood, paper)" >&2; exit 2 ;;
    esac
done
