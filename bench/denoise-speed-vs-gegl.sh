#!/bin/bash
# Wall-clock time of `wprior denoise` (1 and 4 passes) against GEGL's
# gegl:denoise-dct on the same gray image, one after the other in one run
# (the time does not depend on the content, so the clean photograph is used,
# resized to 2560x1600).
# Writes bench/results/denoise-speed-vs-gegl-MODEL.txt.
# Usage: bench/denoise-speed-vs-gegl.sh [MODEL] [IMAGE]   (WPRIOR: the wprior to use; REPS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/photo-gray.safetensors}
image=${2:-data/photos/plasma-workspace-wallpapers/Kite.png}
wprior=${WPRIOR:-build/cli/wprior}
reps=${REPS:-3}
command -v gegl >/dev/null || { echo "gegl is not installed (apt-get install gegl)" >&2; exit 1; }
[ -f "$image" ] || { echo "no $image: run scripts/fetch-training-data.sh" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# 2560x1600 (4 MP) gray whatever the source size, so runs compare.
convert "$image" -colorspace Gray -resize '2560x1600!' "$T/in.png"
# best of REPS wall-clock seconds of a command
best() {
    local b=
    for _ in $(seq "$reps"); do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s.%N)
        b=$(echo "$t0 $t1 ${b:-1e9}" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
    done
    echo "$b"
}
g=$(best gegl -i "$T/in.png" -o "$T/gegl.png" -- denoise-dct sigma=25)
o1=$(best "$wprior" denoise -m "$model" "$T/in.png" "$T/o1.png")
o4=$(best "$wprior" denoise -m "$model" --ensemble 4 "$T/in.png" "$T/o4.png")
res=bench/results/denoise-speed-vs-gegl-$(basename "$model" .safetensors).txt
{
    echo "# $(date -u +%F) $(identify -format '%wx%h' "$T/in.png" 2>/dev/null || echo '?') gray, $image, best of $reps," \
        "$(nproc) cores, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}"
    echo "gegl:denoise-dct sigma=25      ${g} s"
    echo "wprior denoise ($(basename "$model"))  ${o1} s  ($(echo "$o1 $g" | awk '{printf "%.2f", $1 / $2}')x GEGL's time)"
    echo "wprior denoise --ensemble 4    ${o4} s  ($(echo "$o4 $g" | awk '{printf "%.2f", $1 / $2}')x GEGL's time)"
} | tee "$res.tmp"
mv "$res.tmp" "$res"
