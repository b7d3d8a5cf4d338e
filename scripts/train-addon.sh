#!/bin/bash
# Trains an add-on net of a shipped photograph prior on the photographs of
# data/ and puts it into models/photo-KIND.safetensors when done:
#   fill: the fast inpainting's correction of its level-0 fill
#   up:   the fast upscale's correction of its smooth start, fine-tuned from
#         the model's cond0 (the finest conditional denoiser, same shape)
# (`wprior train --only NET --base/--finetune MODEL`).  Resumable: the checkpoint is
# wip/photo-KIND-NET.ckpt; TIME (seconds) stops a session's run early,
# checkpointed.
# usage: scripts/train-addon.sh fill|up gray|color [STEPS]
# DATA (default data/photos-train.txt): the training list.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/train-addon.sh fill|up gray|color [STEPS]"
net=${1:?$usage}
kind=${2:?$usage}
case $kind in gray) ch=1 ;; color) ch=3 ;; *) echo "$usage" >&2; exit 2 ;; esac
name=photo-$kind
# the net's recipe: start, architecture, crop (the net's input side), batch,
# learning rate, steps
case $net in
fill) recipe=(--base "models/$name.safetensors" --width 48 --layers 12 --rf 0 --patch 48
              --batch 16 --lr 1e-3) default_steps=30000 ;;
up) # cond0's shape: photo-gray's is 20 layers of 3x3, photo-color's RF 13 over 21
    if [ "$kind" = gray ]; then shape=(--layers 20 --rf 41); else shape=(--layers 21 --rf 13); fi
    recipe=(--finetune "models/$name.safetensors" --width 64 "${shape[@]}" --patch 48
            --batch 16 --lr 3e-4) default_steps=12000 ;;
*) echo "$usage" >&2; exit 2 ;;
esac
steps=${3:-$default_steps}
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
    build/cli/wprior train --preset small --channels $ch --levels 3 --only "$net" "${recipe[@]}" \
        --steps "$steps" --warmup 200 --val-every 500 --data "$data" \
        --val data/photos-val.txt -o "$out" --checkpoint "$ckpt" --checkpoint-every 500 \
        --log "$log" "${limit[@]}"
fi
if build/cli/wprior info "$out" | grep -q "^training.$net: .*(done)"; then
    cp "$out" "models/$name.safetensors"
    rm -f "$ckpt" "$out" "$log"
    echo "models/$name.safetensors: $net net trained, $steps steps on $data"
fi
