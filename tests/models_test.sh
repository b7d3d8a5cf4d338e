#!/bin/bash
# Every shipped model (models/*.safetensors) loads and runs each job on a
# small image: denoise, upscale x2 (x4/x8 when it has the levels), sample.
# usage: models_test.sh WPRIOR WP_SYNTH MODELS_DIR
set -u
WPRIOR=$1
SYNTH=$2
DIR=$3
T=$(mktemp -d /tmp/wprior-models-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
shopt -s nullglob
models=("$DIR"/*.safetensors)
if [ ${#models[@]} -eq 0 ]; then
    echo "no shipped models yet in $DIR"
    exit 77
fi
"$SYNTH" "$T/gray.png" 48 40 1 1
"$SYNTH" "$T/rgb.png" 48 40 3 2
for m in "${models[@]}"; do
    name=$(basename "$m" .safetensors)
    if ! "$WPRIOR" info "$m" >"$T/info" 2>"$T/stderr"; then
        bad "$name: info: $(cat "$T/stderr")"
        continue
    fi
    levels=$(sed -n 's/^levels: //p' "$T/info")
    if grep -q "channels: 3" "$T/info"; then img=$T/rgb.png; else img=$T/gray.png; fi
    "$WPRIOR" denoise -m "$m" "$img" "$T/d.png" 2>"$T/stderr" && ok "$name: denoise" ||
        bad "$name: denoise: $(cat "$T/stderr")"
    for f in 2 4 8; do
        [ $((1 << levels)) -ge $f ] || continue
        "$WPRIOR" upscale -m "$m" -f $f "$img" "$T/u.png" 2>"$T/stderr" && ok "$name: upscale x$f" ||
            bad "$name: upscale x$f: $(cat "$T/stderr")"
    done
    "$WPRIOR" sample -m "$m" --size 32x32 --max-iter 20 "$T/s.png" 2>"$T/stderr" && ok "$name: sample" ||
        bad "$name: sample: $(cat "$T/stderr")"
done
# No -m (and no $WPRIOR_MODEL): gray photographs get photo-gray, colour
# ones photo-color to denoise and heal and photo-gray to upscale, samples
# come from stone; the same results as naming them.
unset WPRIOR_MODEL
nom() { # NAME JOB ARGS... : runs JOB with and without -m DIR/NAME, compares
    local name=$1 job=$2
    shift 2
    [ -f "$DIR/$name.safetensors" ] || { echo "skip: no $name"; return; }
    if "$WPRIOR" "$job" -m "$DIR/$name.safetensors" "$@" "$T/with.png" 2>"$T/stderr" &&
        "$WPRIOR" "$job" "$@" "$T/without.png" 2>>"$T/stderr" && cmp -s "$T/with.png" "$T/without.png"; then
        ok "$job $* with no -m uses $name"
    else
        bad "$job $* with no -m: not $name's result: $(cat "$T/stderr")"
    fi
}
nom photo-color denoise "$T/rgb.png"
nom photo-gray denoise "$T/gray.png"
nom photo-gray upscale -f 2 "$T/rgb.png"
nom photo-gray upscale -f 2 "$T/gray.png"
nom stone sample --size 32x32 --max-iter 20
# a sample that continues an exemplar: the colour prior for colour
nom photo-color sample --exemplar "$T/rgb.png" --size 32x32 --max-iter 10
nom photo-gray sample --exemplar "$T/gray.png" --size 32x32 --max-iter 10
if [ -f "$DIR/photo-color.safetensors" ] && command -v convert >/dev/null; then
    convert "$T/rgb.png" -crop 12x12+0+0 +repage "$T/tiny.png"
    expect_fail "sample --exemplar too small" "at least 16x16" "$T/ex1.png" \
        "$WPRIOR" sample --exemplar "$T/tiny.png" "$T/ex1.png"
    expect_fail "sample --exemplar gray with a colour model" "needs a colour exemplar" "$T/ex2.png" \
        "$WPRIOR" sample -m "$DIR/photo-color.safetensors" --exemplar "$T/gray.png" "$T/ex2.png"
fi
if command -v convert >/dev/null; then
    convert -size 48x40 xc:black -fill white -draw "rectangle 10,8 25,20" "$T/mask.png"
    nom photo-color inpaint --mask "$T/mask.png" "$T/rgb.png"
    nom photo-gray inpaint --mask "$T/mask.png" "$T/gray.png"
fi
# -m with a bare name: the shipped model of that name
if [ -f "$DIR/paper.safetensors" ]; then
    if "$WPRIOR" sample -m paper --size 32x32 --max-iter 20 "$T/named.png" 2>"$T/stderr" &&
        "$WPRIOR" sample -m "$DIR/paper.safetensors" --size 32x32 --max-iter 20 "$T/path.png" 2>>"$T/stderr" &&
        cmp -s "$T/named.png" "$T/path.png"; then
        ok "sample -m paper finds the shipped paper prior"
    else
        bad "sample -m paper: not the shipped paper prior: $(cat "$T/stderr")"
    fi
fi
# face-gray samples faces out of the box: its own 160x160 size and its own
# sampler knob (metadata sample.beta), the same as giving that knob.
if [ -f "$DIR/face-gray.safetensors" ]; then
    beta=$("$WPRIOR" info "$DIR/face-gray.safetensors" | sed -n 's/^sample.beta: //p')
    if [ -n "$beta" ] && "$WPRIOR" sample -m face-gray --max-iter 15 "$T/f1.png" 2>"$T/stderr" &&
        grep -q "sampled 160x160" "$T/stderr" &&
        "$WPRIOR" sample -m face-gray --max-iter 15 --beta "$beta" "$T/f2.png" 2>>"$T/stderr" &&
        "$WPRIOR" sample -m face-gray --max-iter 15 --beta 0.5 "$T/f3.png" 2>>"$T/stderr" &&
        cmp -s "$T/f1.png" "$T/f2.png" && ! cmp -s "$T/f1.png" "$T/f3.png"; then
        ok "sample -m face-gray: 160x160 with its metadata's beta $beta"
    else
        bad "sample -m face-gray: $(cat "$T/stderr")"
    fi
fi
# The clipping correction: a dark image (values 0..0.1) whose noisy copy is
# clipped at black, as every saved image is; the corrected result must be
# at least 1 dB closer to the clean image than the uncorrected one.
if [ -f "$DIR/photo-color.safetensors" ] && command -v convert >/dev/null; then
    "$SYNTH" "$T/big.png" 128 128 3 5
    convert "$T/big.png" -evaluate multiply 0.1 "$T/dark.png"
    echo "$T/dark.png" >"$T/dark.txt"
    psnr() { "$WPRIOR" eval -m "$DIR/photo-color.safetensors" --clean "$T/dark.txt" --sigma 25 --clip "$@" |
        awk '$1 == 25 { print $3 }'; }
    with=$(psnr) without=$(psnr --no-unclip)
    if awk -v a="$with" -v b="$without" 'BEGIN { exit !(a != "" && b != "" && a > b + 1) }'; then
        ok "clipping correction on a dark image: $without -> $with dB"
    else
        bad "clipping correction on a dark image: $without -> $with dB (want +1 dB)"
    fi
fi
finish
