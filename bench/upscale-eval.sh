#!/bin/bash
# Upscaling quality of a prior against Catrom bicubic, on a list of clean
# images: each is center-cropped (CROP, default 512, a multiple of 8), then
# for f in FACTORS (2 4): downsampled by f x f block means (what the prior's low-pass
# is) and by Catrom bicubic, upscaled back by the prior (fast mode) and by
# Catrom, and compared with the crop (PSNR, 8-bit).
# usage: bench/upscale-eval.sh MODEL LIST [BUILD_DIR]   (LIST: one path a line,
#        relative to its folder; gray models see the images in gray)
set -euo pipefail
. "$(dirname "$0")/peers.sh"
MODEL=$1
LIST=$2
B=${3:-build}
CROP=${CROP:-512}
FACTORS=${FACTORS:-2 4}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
root=$(cd "$(dirname "$LIST")" && pwd)
gray=$("$B/cli/wprior" info "$MODEL" | grep -q "channels: 1" && echo 1 || echo 0)
printf "%-40s %3s %10s %10s %10s %10s\n" image f "prior(box)" "bicubic(box)" "prior(bic)" "bicubic(bic)"
declare -A sum
n=0
while read -r rel; do
    [ -n "$rel" ] && [ "${rel#\#}" = "$rel" ] || continue
    src=$root/$rel
    # gray: the mean of R, G and B, as the priors are trained (no gamma change)
    if [ "$gray" = 1 ]; then cs=(-grayscale Average); else cs=(-type TrueColor); fi
    convert "$src" +repage "${cs[@]}" -gravity center -crop "${CROP}x${CROP}+0+0" +repage -depth 8 "$T/clean.png"
    n=$((n + 1))
    for f in $FACTORS; do
        size="$((CROP / f))x$((CROP / f))!" # (a percentage rounds 100/8 down)
        # f x f block means (box filter on an exact multiple) and Catrom
        convert "$T/clean.png" -filter Box -resize "$size" -depth 8 "$T/box.png"
        convert "$T/clean.png" -filter Catrom -resize "$size" -depth 8 "$T/bic.png"
        row=()
        for lr in box bic; do
            "$B/cli/wprior" upscale -m "$MODEL" -f "$f" "$T/$lr.png" "$T/up_$lr.png" 2>/dev/null
            peer_upscale catrom "$f" "$T/$lr.png" "$T/cat_$lr.png"
            p1=$("$B/tests/wp_psnr" "$T/up_$lr.png" "$T/clean.png")
            p2=$("$B/tests/wp_psnr" "$T/cat_$lr.png" "$T/clean.png")
            row+=("$p1" "$p2")
            sum[$f,$lr,p]=$(echo "${sum[$f,$lr,p]:-0} + $p1" | bc -l)
            sum[$f,$lr,c]=$(echo "${sum[$f,$lr,c]:-0} + $p2" | bc -l)
        done
        printf "%-40s %3s %10.2f %10.2f %10.2f %10.2f\n" "$(basename "$rel")" "x$f" "${row[@]}"
    done
done <"$LIST"
for f in $FACTORS; do
    printf "%-40s %3s %10.2f %10.2f %10.2f %10.2f\n" "mean of $n" "x$f" \
        "$(echo "${sum[$f,box,p]} / $n" | bc -l)" "$(echo "${sum[$f,box,c]} / $n" | bc -l)" \
        "$(echo "${sum[$f,bic,p]} / $n" | bc -l)" "$(echo "${sum[$f,bic,c]} / $n" | bc -l)"
done
