#!/bin/bash
# Samples of a texture prior on one sheet: four 256x256 samples (seeds 1-4),
# one 128x128 sample (seed 5) tiled 3x3, and one 512x128 sample (seed 6).
# Also measures the wrap-around seams: the mean absolute difference between
# the last and the first column (and row) of a sample, against the mean over
# neighbouring columns (rows) inside it, with and without --tileable.
# usage: bench/texture-sheet.sh MODEL [BUILD_DIR]
#        -> bench/results/NAME-samples.jpg and NAME-samples.txt
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=$1
B=${2:-build}
name=$(basename "$MODEL" .safetensors)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
W="$B/cli/wprior"
{
    echo "# $(date -u +%F) $MODEL, default sampler"
    for s in 1 2 3 4; do "$W" sample -m "$MODEL" --size 256x256 --seed $s "$T/s$s.png" 2>&1; done
    "$W" sample -m "$MODEL" --size 128x128 --seed 5 "$T/t.png" 2>&1
    "$W" sample -m "$MODEL" --size 512x128 --seed 6 "$T/wide.png" 2>&1
    "$W" sample -m "$MODEL" --size 256x256 --seed 1 --no-tileable "$T/plain.png" 2>&1
    # seam: |col(W-1) - col(0)| against the mean |col(i+1) - col(i)|
    seams() { # IMAGE -> "wrap/inside" for columns and rows
        local f=$1 w h
        w=$(identify -format %w "$f")
        h=$(identify -format %h "$f")
        convert "$f" -colorspace gray -depth 16 txt:- | awk -v w="$w" -v h="$h" '
            NR > 1 { split($1, xy, /[,:]/); s = $2; gsub(/[()]/, "", s); split(s, c, ","); v[xy[1], xy[2]] = c[1] / 65535 }
            END {
                for (y = 0; y < h; y++) {
                    for (x = 0; x + 1 < w; x++) { d = v[x + 1, y] - v[x, y]; ci += d < 0 ? -d : d }
                    d = v[0, y] - v[w - 1, y]; cw += d < 0 ? -d : d
                }
                for (x = 0; x < w; x++) {
                    for (y = 0; y + 1 < h; y++) { d = v[x, y + 1] - v[x, y]; ri += d < 0 ? -d : d }
                    d = v[x, 0] - v[x, h - 1]; rw += d < 0 ? -d : d
                }
                printf "columns: seam %.4f vs inside %.4f (ratio %.2f); rows: seam %.4f vs inside %.4f (ratio %.2f)\n",
                    cw / h, ci / (h * (w - 1)), (cw / h) / (ci / (h * (w - 1))),
                    rw / w, ri / (w * (h - 1)), (rw / w) / (ri / (w * (h - 1)))
            }'
    }
    echo "tileable 256x256 seed 1: $(seams "$T/s1.png")"
    echo "plain    256x256 seed 1: $(seams "$T/plain.png")"
} | tee "$T/log"
montage "$T"/s[1-4].png -tile 4x1 -geometry +4+4 -background white "$T/row1.png"
montage "$T/t.png" "$T/t.png" "$T/t.png" "$T/t.png" "$T/t.png" "$T/t.png" "$T/t.png" "$T/t.png" "$T/t.png" \
    -tile 3x3 -geometry +0+0 "$T/tiled.png"
convert "$T/tiled.png" -bordercolor white -border 4 "$T/tiled.png"
convert "$T/wide.png" -bordercolor white -border 4 "$T/wide.png"
convert "$T/row1.png" \( "$T/tiled.png" "$T/wide.png" -background white -gravity center +append \) \
    -background white -gravity west -append -quality 90 "bench/results/$name-samples.jpg"
cp "$T/log" "bench/results/$name-samples.txt"
echo "bench/results/$name-samples.jpg"
