#!/bin/bash
# Trains an add-on net of a shipped photograph prior on the photographs of
# data/ and puts it into models/photo-KIND.safetensors when done:
#   fill: the fast inpainting's correction of its level-0 fill
#   up:   the fast upscale's details from the low-pass
# (`wprior train --only NET --base MODEL`).  Resumable: the checkpoint is
# wip/photo-KIND-NET.ckpt; TIME (seconds) stops a session's run early,
# checkpointed.
# usage: scripts/train-addon.sh fill|up gray|color [STEPS]
# DATA (default data/photos-train.txt): the training list.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/train-addon.sh fill|up gray|color [STEPS]"
net=${1:?$usage}
kind=${2:?$usage}
steps=${3:-30000}
case $kind in gray) ch=1 ;; color) ch=3 ;; *) echo "$usage" >&2; exit 2 ;; esac
# the net's recipe: architecture, crop (the net's input side), batch
case $net in
fill) arch=(--width 48 --layers 12 --rf 0 --patch 48 --batch 16) ;;
up) arch=(--width 48 --layers 12 --rf 0 --patch 48 --batch 16) ;;
*) echo "$usage" >&2; exit 2 ;;
esac
name=photo-$kind
data=${DATA:-data/photos-train.txt}
ckpt=wip/$name-$net.ckpt
out=wip/$name-$net.safetensors
log=wip/$name-$net.log.jsonl
limit=()
[ -n "${TIME:-}" ] && limit=(--time-limit "$TIME")
mkdir -p wip
if [ -f "$ckpt" ]; then
    build/cli/wprior train --resume "$ckpt" -o "$out" --checkpoint "$ckpt" --log "$log" "${limit[@]}"
else
    build/cli/wprior train --preset small --channels $ch --levels 3 --only "$net" \
        --base "models/$name.safetensors" "${arch[@]}" \
        --steps "$steps" --lr 1e-3 --warmup 200 --val-every 500 --data "$data" \
        --val data/photos-val.txt -o "$out" --checkpoint "$ckpt" --checkpoint-every 500 \
        --log "$log" "${limit[@]}"
fi
if build/cli/wprior info "$out" | grep -q "^training.$net: .*(done)"; then
    cp "$out" "models/$name.safetensors"
    rm -f "$ckpt" "$out" "$log"
    echo "models/$name.safetensors: $net net trained, $steps steps on $data"
fi
