#!/bin/bash
# scripts/pick-exemplars.sh: the exemplar crops a texture prior ships, picked
# from its class's training images for how well they stand for all of them
# (nothing held out is looked at):
#   reference   up to REF_TILES non-overlapping SIZE x SIZE tiles of each
#               training image (drawn with a fixed seed), so that every
#               image counts about alike
#   candidates  SIZE x SIZE crops, every SIZE/2 pixels, of the training
#               images whose licence lets them ship inside a model
#               (data/manifest.tsv, LICENCES)
#   pick        `texture-dist --pick COUNT --per-image PER_IMAGE`: the set
#               of candidates whose Haar band histograms and power spectrum
#               are closest to the reference's (bench/texdist.h), none
#               overlapping another of its image
# Writes OUTDIR/0..COUNT-1.png (in the order picked) and OUTDIR/picked.txt
# (source image, x, y per crop) for `wprior combine BASE --exemplar ...`.
#
# usage: scripts/pick-exemplars.sh CLASS OUTDIR [COUNT]
#   CLASS: a class of scripts/train-textures.sh (paper: its grain)
# Environment: LICENCES (an extended regex of manifest licences; default
#   public domain, CC0 and CC-BY 3.0/4.0: free to ship in an MIT project with
#   the credit in the model card), SIZE (128), PER_IMAGE (2), REF_TILES (4),
#   HELD_OUT (NAME,...: images of these base names left out, as
#   bench/texture-quality's HELD_OUT holds them out), WIP
#   (wip-local/texture-quality), TEXTURE_DIST (build/bench/texture-dist).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: scripts/pick-exemplars.sh CLASS OUTDIR [COUNT]" >&2; exit 2; }
class=$1 out=$2 count=${3:-8}
size=${SIZE:-128} per_image=${PER_IMAGE:-2} ref_tiles=${REF_TILES:-4}
licences=${LICENCES:-'^(public-domain|CC0-1\.0|CC-BY-3\.0|CC-BY-4\.0)$'}
tdist=${TEXTURE_DIST:-build/bench/texture-dist}
export WIP=${WIP:-wip-local/texture-quality}
[ -f data/manifest.tsv ] || { echo "no data/ (scripts/fetch-training-data.sh)" >&2; exit 1; }
[ -x "$tdist" ] || { echo "build first (ninja -C build)" >&2; exit 1; }
scripts/train-textures.sh --lists "$class"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/ref" "$T/cand" "$out"

# paper's lists hold its grain (same base names as the scans); the others
# are RGB, gray images included
gray=() rgb=(-type TrueColor -define png:color-type=2)
[ "$class" != paper ] || gray=(--gray) rgb=()

# licence NAME: the manifest's licence of the texture whose base name is NAME
licence() {
    awk -F'\t' -v n="$1" 'NR > 1 && $1 ~ /^textures\// {
        b = $1; sub(/.*\//, "", b); sub(/\.[^.]*$/, "", b); if (b == n) { print $5; exit } }' \
        data/manifest.tsv
}

i=0
while read -r f; do
    name=$(basename "$f" .png)
    read -r w h < <(identify -quiet -format '%w %h\n' "${f}[0]")
    # reference: up to ref_tiles of the image's non-overlapping tiles
    awk -v s="$size" -v w="$w" -v h="$h" -v seed="$((i + 1))" 'BEGIN {
        srand(seed)
        for (y = 0; y + s <= h; y += s) for (x = 0; x + s <= w; x += s) print rand(), x, y }' |
        sort -k1,1 | head -n "$ref_tiles" | while read -r _ x y; do
            convert -quiet "${f}[0]" -crop "${size}x$size+$x+$y" +repage -alpha off "${rgb[@]}" \
                "$T/ref/$name@$x,$y.png"
        done
    i=$((i + 1))
    grep -Eq "$licences" <<<"$(licence "$name")" || continue
    for ((y = 0; y + size <= h; y += size / 2)); do
        for ((x = 0; x + size <= w; x += size / 2)); do
            convert -quiet "${f}[0]" -crop "${size}x$size+$x+$y" +repage -alpha off "${rgb[@]}" \
                "$T/cand/$name@$x,$y.png"
        done
    done
done < <(if [ -n "${HELD_OUT:-}" ]; then
    grep -vE "/($(tr , '|' <<<"$HELD_OUT"))\.[^./]*$" "$WIP/lists/$class-train.txt" || true
else
    cat "$WIP/lists/$class-train.txt"
fi)
[ -n "$(ls "$T/cand")" ] || { echo "class $class: no training image of a licence matching $licences" >&2; exit 1; }
echo "$class: $(ls "$T/ref" | wc -l) reference tiles of $i training images," \
    "$(ls "$T/cand" | wc -l) candidate crops of ${size}x$size"
"$tdist" "${gray[@]}" --pick "$count" --per-image "$per_image" --crop "$size" "$T/ref" "$T/cand" \
    >"$T/picked"
k=0
: >"$out/picked.txt"
while read -r p; do
    cp "$p" "$out/$k.png"
    b=$(basename "$p" .png)
    xy=${b##*@}
    echo "${b%@*} ${xy%,*} ${xy#*,}" >>"$out/picked.txt"
    k=$((k + 1))
done < <(grep -v '^distance' "$T/picked")
grep '^distance' "$T/picked" |
    awk -F'\t' '{ print "histograms " $3 ", spectrum " $4 " from the reference tiles" }'
cat "$out/picked.txt"
