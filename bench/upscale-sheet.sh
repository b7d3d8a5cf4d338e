#!/bin/bash
# A contact sheet of upscaled crops at 200% (each pixel drawn 2x2, no
# smoothing), to see block grids, beading and halos: per image, the
# original, ours (fast) and the peers, all from the same f x f block means.
# usage: bench/upscale-sheet.sh MODEL OUT.jpg IMAGE...
# Environment: FACTOR (4), CROP (96: the side of the crop shown, output
#   pixels; the methods run on the centre 2*CROP square, rounded down to a
#   multiple of FACTOR), PEERS (lanczos nohalo), BUILD (build), BEFORE
#   (another wprior binary, e.g. an older build, shown as a column "before").  A gray model sees the images as
#   BT.601 luma.  Run it with nice on a shared machine.
set -euo pipefail
. "$(dirname "$0")/peers.sh"
MODEL=$1
OUT=$2
shift 2
f=${FACTOR:-4}
crop=${CROP:-96}
B=${BUILD:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
gray=$("$B/cli/wprior" info "$MODEL" | grep -q "channels: 1" && echo 1 || echo 0)
if [ "$gray" = 1 ]; then cs=(-grayscale Rec601Luma); else cs=(-type TrueColor); fi
name=$(basename "$MODEL" .safetensors)
tiles=()
i=0
for img in "$@"; do
    i=$((i + 1))
    # the centre square, its block means, and the upscales
    s=$((2 * crop / f * f))
    convert "$img" +repage "${cs[@]}" -gravity center -crop "${s}x${s}+0+0" +repage -depth 8 "$T/$i-hr.png"
    convert "$T/$i-hr.png" -filter Box -resize "$((s / f))x$((s / f))!" -depth 8 "$T/$i-lr.png"
    "$B/cli/wprior" upscale -m "$MODEL" -f "$f" "$T/$i-lr.png" "$T/$i-ours.png" 2>/dev/null
    methods=(hr ours)
    if [ -n "${BEFORE:-}" ]; then
        "$BEFORE" upscale -m "$MODEL" -f "$f" "$T/$i-lr.png" "$T/$i-before.png" 2>/dev/null
        methods+=(before)
    fi
    for m in ${PEERS:-lanczos nohalo}; do
        peer_upscale "$m" "$f" "$T/$i-lr.png" "$T/$i-$m.png"
        methods+=("$m")
    done
    b=$(basename "$img")
    for m in "${methods[@]}"; do
        case $m in hr) label="${b%.*}" ;; ours) label="$name fast x$f" ;; before) label="before x$f" ;; *) label="$(peer_label "$m") x$f" ;; esac
        convert "$T/$i-$m.png" -gravity center -crop "${crop}x${crop}+0+0" +repage \
            -filter point -resize 200% "$T/$i-$m-tile.png"
        tiles+=(-label "$label" "$T/$i-$m-tile.png")
    done
done
montage "${tiles[@]}" -tile "${#methods[@]}x" -geometry +4+4 -background white -quality 92 "$T/sheet.jpg"
mv "$T/sheet.jpg" "$OUT"
