#!/bin/bash
# Trains a shipped photograph prior longer: each named network in turn
# starts from the model's weights (wprior train --finetune) and trains STEPS
# more steps at a lower learning rate on the photographs of data/; the
# result replaces models/photo-KIND.safetensors when every network is done.
# Resumable: the running network's checkpoint is wip/photo-KIND-ft.ckpt and
# the networks done so far are in wip/photo-KIND-ft.safetensors.
# usage: scripts/finetune-photo.sh gray|color STEPS NET... (e.g. cond0 cond1)
# DATA (default data/photos-train.txt): the training list; OUT (default
# models/photo-KIND.safetensors): where the result goes.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: scripts/finetune-photo.sh gray|color STEPS NET...}
steps=${2:?steps}
shift 2
case $kind in gray) ch=1 ;; color) ch=3 ;; *) echo "gray or color" >&2; exit 2 ;; esac
name=photo-$kind
data=${DATA:-data/photos-train.txt}
out=${OUT:-models/$name.safetensors}
mkdir -p wip
work=wip/$name-ft.safetensors
ckpt=wip/$name-ft.ckpt
[ -f "$work" ] || cp "models/$name.safetensors" "$work"
for net in "$@"; do
    if grep -qx "$net" "wip/$name-ft.done" 2>/dev/null; then
        continue
    fi
    if [ -f "$ckpt" ]; then
        build/cli/wprior train --resume "$ckpt" -o "$work.new" --checkpoint "$ckpt"
    else
        build/cli/wprior train --preset small --channels $ch --levels 3 --steps "$steps" \
            --width 32 --layers 11 --rf 13 --low-width 32 --low-layers 8 --noise 0,100 --noise-dist quadratic --rescale-low \
            --band-noise projected --lr 5e-4 --warmup 200 --only "$net" --finetune "$work" \
            --data "$data" --val data/photos-val.txt -o "$work.new" \
            --checkpoint "$ckpt" --log "wip/$name-ft.log.jsonl"
    fi
    mv "$work.new" "$work"
    rm -f "$ckpt"
    echo "$net" >>"wip/$name-ft.done"
done
cp "$work" "$out"
rm -f "$work" "wip/$name-ft.done"
echo "$out: $* fine-tuned, $steps steps each on $data"
