#!/bin/bash
# Inpainting on held-out photographs: the check to tune against (the
# benchmark sets of bench/inpaint.sh never are).  256x256 centre crops of
# every 4th image of data/photos-val.txt (N of them, default 12), the masks of
# bench/inpaint.sh (tests/wp_mask, seed = crop number), fast mode; prints the
# mean PSNR (peak 1) inside the mask per model and mask kind.
# usage: bench/inpaint-val.sh [MODEL...]   (default models/photo-color.safetensors)
#   B=build dir; N=crops; KINDS="r50 r80 sq32 sq64 scratch"; THREADS=n (2);
#   VAL=list of validation images (data/photos-val.txt, relative to data/)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
N=${N:-12}
. bench/inpaint-masks.sh
KINDS=${KINDS:-$INPAINT_KINDS}
THREADS=${THREADS:-2}
VAL=${VAL:-data/photos-val.txt}
[ $# = 0 ] && set -- models/photo-color.safetensors
[ -f "$VAL" ] || { echo "no $VAL: run scripts/fetch-training-data.sh first" >&2; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

i=0
while read -r p && [ $i -lt "$N" ]; do
    i=$((i + 1))
    convert "data/$p" -gravity center -crop 256x256+0+0 +repage -type TrueColor "$T/$i.png"
done < <(awk 'NR % 4 == 1' "$VAL")
[ $i -gt 0 ] || { echo "$VAL lists no image" >&2; exit 1; }
for k in $KINDS; do
    for j in $(seq 1 $i); do mask_of "$k" 256 256 "$j" "$T/$j-$k.png"; done
done

printf "%-36s" model; for k in $KINDS; do printf " %8s" "$k"; done; echo
for m in "$@"; do
    printf "%-36s" "$(basename "$m")"
    for k in $KINDS; do
        s=0
        for j in $(seq 1 $i); do
            "$B/cli/wprior" inpaint -m "$m" --threads "$THREADS" --mode fast \
                --mask "$T/$j-$k.png" "$T/$j.png" "$T/out.png" 2>"$T/err" ||
                { cat "$T/err" >&2; exit 1; }
            s=$(echo "$s + $("$B/tests/wp_psnr" "$T/out.png" "$T/$j.png" "$T/$j-$k.png")" | bc -l)
        done
        printf " %8.3f" "$(echo "$s / $i" | bc -l)"
    done
    echo
done
echo "($i crops of 256x256 from $VAL, fast mode, PSNR inside the mask)"
