#!/bin/bash
# Trains a shipped photograph prior (photo-gray or photo-color) on the free
# corpus of data/ (scripts/fetch-training-data.sh): J=3 (x2, x4 and x8
# upscaling), the reference's
# network sizes (conditional nets 64 channels, 21 layers, RF 13; low-pass net
# 64 channels, 20 layers of 3x3), blind over noise sigma 0..75.
#
# One network at a time, each a stage that resumes from its checkpoint (a
# run longer than a session is normal): cond2, cond1, cond0; den1, the
# denoising entry net (the low-pass net of a J=1 prior, same size as the
# low-pass net: denoising takes it on the level-1 low-pass, then cond0);
# then the J=3 low-pass net (for upscaling, inpainting, sampling), started
# from den1's weights (a low-pass image of level 3 looks like one of level
# 1: den1 as it is already denoises level 3 well) and fine-tuned; last,
# den1q and cond0q: den1 and cond0 fine-tuned with more weight on low noise;
# den1a: den1q continued at a small constant rate with a weight average
# (--ema), which the model takes instead of den1q; then den1u: den1a
# continued the same way with uniform noise (quadratic alone traded sigma
# 50 for sigma 5).
# den1q, trained on the level-1 low-pass, denoises the image itself (den at
# level 0: a bias-free net carries over between scales, and it keeps the
# fine texture that cond0 washes out); `wprior denoise --fast` runs it at
# level 1 with cond0 above, as trained.
# photo-gray, which upscales gray and colour photographs, has a cond0 of 20
# layers of 3x3 (RF 41: x2 upscaling is cond0's alone, and it needs the
# wider view), kept as trained (no cond0q).
# Between sessions the state lives in wip/ (committed while the model is
# unfinished): wip/photo-KIND.ckpt (the stage in progress) and
# wip/photo-KIND.NET.safetensors (the stages done). When the last stage is
# done the model (cond0q's file, photo-gray's cond0's, with the J=3
# low-pass net and den1q, den1a or den1u as den at level 0, `wprior combine`) goes to
# models/photo-KIND.safetensors.
#
# usage: scripts/train-photo.sh gray|color [SECONDS]
#   SECONDS: stop (checkpointed) after this long in all, default 4800
#   WPRIOR:  the wprior to run (a copy lets you rebuild while it trains)
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: scripts/train-photo.sh gray|color [SECONDS]" >&2; exit 2; }
kind=${1:-}
limit=${2:-4800}
case $kind in
gray) ch=1 what="Photographs, black-and-white or colour" ;;
color) ch=3 what="Colour photographs" ;;
*) usage ;;
esac
[[ $limit =~ ^[0-9]+$ ]] || usage
wprior=${WPRIOR:-build/cli/wprior}
[ -x "$wprior" ] || { echo "build first (ninja -C build)" >&2; exit 1; }
for f in data/train.txt data/val.txt; do
    [ -f "$f" ] || { echo "no $f: run scripts/fetch-training-data.sh" >&2; exit 1; }
done
name=photo-$kind
mkdir -p wip models
end=$(($(date +%s) + limit))

# Steps per network: the conditional nets cost about half a low-pass step.
COND_STEPS=${COND_STEPS:-12000}
# The colour prior's den1 and low-pass fine-tune are shorter: photo-gray's
# den1 gained 0.2 dB (band validation) over its last 8000 of 16 000 steps,
# its fine-tune nothing after 2000 steps, and each colour hour counts.
# photo-gray's cond0 (top: the finest net that goes in the model): on 54
# validation photographs x2 (fast, from block means) 32.55 dB against 32.36
# with the RF 13 cond0 and its fine-tune.
if [ $kind = gray ]; then
    low_steps=16000 low_ft_steps=4000 cond0_arch=(--layers 20 --rf 41) top=cond0 avg_steps=4400 uni_steps=9500
else
    low_steps=12000 low_ft_steps=2000 cond0_arch=() top=cond0q avg_steps=18000 uni_steps=7500
fi
LOW_STEPS=${LOW_STEPS:-$low_steps}
LOW_FT_STEPS=${LOW_FT_STEPS:-$low_ft_steps}
Q_STEPS=${Q_STEPS:-2000}
AVG_STEPS=${AVG_STEPS:-$avg_steps}
UNI_STEPS=${UNI_STEPS:-$uni_steps}
desc="$what: removes noise, enlarges 2, 4 or 8 times, fills selections. Trained on free photographs from Debian packages."
common=(--preset small --channels "$ch" --levels 3
        --width 64 --layers 21 --rf 13 --low-width 64 --low-layers 20 --low-rf 0
        --patch 40 --batch 32 --noise 0,75 --noise-dist uniform --band-noise projected
        --no-rescale-low --scale-aug 2
        --data data/train.txt --val data/val.txt --val-every 500 --val-crops 64
        --checkpoint-every 250 --name "$name"
        --description "$desc")

# The CPU seconds of all runs so far (user + system, every thread), kept in
# wip/NAME.cpu-seconds for the model card.
# children_cpu sets cpu to the CPU seconds of this shell's children so far
# (times must run in this shell: in a pipe or $(...) it counts a subshell's).
children_cpu() {
    times >"$tmp/times"
    cpu=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] }
        printf "%.0f", s }' "$tmp/times")
}
add_cpu() {
    local f=wip/$name.cpu-seconds before=$cpu
    children_cpu
    echo $(($(cat "$f" 2>/dev/null || echo 0) + cpu - before)) >"$f"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
children_cpu

# stage NET STEPS [ARGS]: trains network NET into wip/NAME.NET.safetensors
# unless that exists (NET den1*: the low-pass net, of a prior given
# --levels 1 in ARGS); returns 1 when the time is up before it is done.
stage() {
    local steps=$2 out=wip/$name.$1.safetensors left log only=${1%q}
    [[ $1 != den1* ]] || only=low
    shift 2
    [ -f "$out" ] && return 0
    left=$((end - $(date +%s)))
    ((left > 60)) || return 1
    log=$tmp/train.log
    if [ -f "wip/$name.ckpt" ]; then
        "$wprior" train --resume "wip/$name.ckpt" -o "$out.part" --checkpoint "wip/$name.ckpt" \
            --log "wip/$name.log.jsonl" --time-limit "$left" -q 2> >(tee "$log" >&2)
    else
        "$wprior" train "${common[@]}" --only "$only" --steps "$steps" "$@" -o "$out.part" \
            --checkpoint "wip/$name.ckpt" --log "wip/$name.log.jsonl" --time-limit "$left" -q \
            2> >(tee "$log" >&2)
    fi
    sleep 1 # the tee of stderr
    add_cpu
    if grep -q '^trained:' "$log"; then
        mv "$out.part" "$out"
        rm -f "wip/$name.ckpt"
        return 0
    fi
    return 1
}

stage cond2 $COND_STEPS || exit 0
stage cond1 $COND_STEPS --base "wip/$name.cond2.safetensors" || exit 0
stage cond0 $COND_STEPS --base "wip/$name.cond1.safetensors" "${cond0_arch[@]}" || exit 0
stage den1 $LOW_STEPS --levels 1 || exit 0
init=wip/$name.low-init.safetensors
[ -f "wip/$name.low.safetensors" ] || [ -f "$init" ] ||
    "$wprior" combine "wip/$name.cond0.safetensors" --low "wip/$name.den1.safetensors" -o "$init"
stage low $LOW_FT_STEPS --finetune "$init" --lr 3e-4 || exit 0
rm -f "$init"
# The denoising path (den1, cond0) fine-tuned with more low noise levels
# (quadratic sigma): on the validation photographs +0.75 dB at sigma 5,
# +0.06 at 15, -0.02 at 25, -0.05 at 50.
stage den1q $Q_STEPS --levels 1 --finetune "wip/$name.den1.safetensors" --lr 3e-4 \
    --noise-dist quadratic || exit 0
# den1a: even at lr 1e-4 the weights themselves wander from one checkpoint
# to the next (by up to 0.5 dB at sigma 5 on the validation photographs);
# their average (decay 0.999: about the last 1000 steps) climbs steadily.
den=den1q
if ((AVG_STEPS > 0)); then
    stage den1a "$AVG_STEPS" --levels 1 --finetune "wip/$name.den1q.safetensors" --lr 1e-4 \
        --schedule const --ema 0.999 --noise-dist quadratic || exit 0
    den=den1a
fi
if ((UNI_STEPS > 0)); then
    stage den1u "$UNI_STEPS" --levels 1 --finetune "wip/$name.$den.safetensors" --lr 1e-4 \
        --schedule const --ema 0.999 || exit 0
    den=den1u
fi
if [ $top = cond0q ]; then
    stage cond0q $Q_STEPS --finetune "wip/$name.cond0.safetensors" --lr 3e-4 \
        --noise-dist quadratic || exit 0
fi
"$wprior" combine "wip/$name.$top.safetensors" --low "wip/$name.low.safetensors" \
    --den "wip/$name.$den.safetensors" --den-level 0 -o "models/$name.safetensors"
"$wprior" meta "models/$name.safetensors" "description=$desc" >/dev/null # (the stages' may be older)
echo "done: models/$name.safetensors, $(cat "wip/$name.cpu-seconds") CPU seconds of training (the wip/$name.* files can go)"
