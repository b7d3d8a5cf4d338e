#!/bin/bash
# Trains the fill net of a shipped photograph prior (the fast inpainting's
# correction of its level-0 fill, `wprior train --only fill`) on the
# photographs of data/, and puts it into models/photo-KIND.safetensors when
# done.  Resumable: the checkpoint is wip/photo-KIND-fill.ckpt; TIME (seconds)
# stops a session's run early, checkpointed.
# usage: scripts/train-fill.sh gray|color [STEPS]
# DATA (default data/photos-train.txt): the training list.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/train-fill.sh gray|color [STEPS]}
steps=${2:-30000}
case $kind in gray) ch=1 ;; color) ch=3 ;; *) echo "gray or color" >&2; exit 2 ;; esac
name=photo-$kind
data=${DATA:-data/photos-train.txt}
ckpt=wip/$name-fill.ckpt
out=wip/$name-fill.safetensors
limit=()
[ -n "${TIME:-}" ] && limit=(--time-limit "$TIME")
mkdir -p wip
if [ -f "$ckpt" ]; then
    build/cli/wprior train --resume "$ckpt" -o "$out" --checkpoint "$ckpt" \
        --log "wip/$name-fill.log.jsonl" "${limit[@]}"
else
    build/cli/wprior train --preset small --channels $ch --levels 3 --only fill \
        --base "models/$name.safetensors" --width 48 --layers 12 --rf 0 --patch 48 --batch 16 \
        --steps "$steps" --lr 1e-3 --warmup 200 --val-every 500 --data "$data" \
        --val data/photos-val.txt -o "$out" --checkpoint "$ckpt" --checkpoint-every 500 \
        --log "wip/$name-fill.log.jsonl" "${limit[@]}"
fi
if build/cli/wprior info "$out" | grep -q '^training.fill: .*(done)'; then
    cp "$out" "models/$name.safetensors"
    rm -f "$ckpt" "$out" "wip/$name-fill.log.jsonl"
    echo "models/$name.safetensors: fill net trained, $steps steps on $data"
fi
