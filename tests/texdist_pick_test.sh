#!/bin/bash
# texture-dist --pick on synthetic crops: it picks the candidates that are
# copies of reference images over a flat one, keeps to --per-image and to
# crops of one source not overlapping (NAME@X,Y.png), and says when its
# rules leave fewer than asked.
# usage: texdist_pick_test.sh TEXTURE_DIST WP_SYNTH
set -u
TD=$1 SYNTH=$2
T=$(mktemp -d /tmp/wprior-pick-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
command -v convert >/dev/null || { echo "no ImageMagick convert"; exit 77; }
mkdir -p "$T/ref" "$T/cand"
for s in 1 2 3 4; do "$SYNTH" "$T/ref/$s.png" 64 64 3 "$s" || exit 1; done
# a's two crops overlap (16 apart, 64 wide); b another image; c flat
cp "$T/ref/1.png" "$T/cand/a@0,0.png"
cp "$T/ref/2.png" "$T/cand/a@16,0.png"
cp "$T/ref/3.png" "$T/cand/b@0,0.png"
convert -size 64x64 xc:gray50 -type TrueColor -define png:color-type=2 "$T/cand/c@0,0.png"

# pick K PER_IMAGE CROP: rc, and picked (the picked names, sorted, space-ended)
pick() {
    "$TD" --pick "$1" --per-image "$2" --crop "$3" "$T/ref" "$T/cand" >"$T/out" 2>"$T/err"
    rc=$?
    picked=$(grep -v '^distance' "$T/out" | xargs -n1 basename 2>/dev/null | sort | tr '\n' ' ')
}
# expect NAME PICKED...: picked is one of the PICKED
expect() {
    local name=$1 p
    shift
    for p; do [ "$picked" = "$p" ] && { ok "$name: $picked"; return; }; done
    bad "$name: picked $picked (exit $rc: $(cat "$T/err"))"
}

pick 2 2 64
[ $rc -eq 0 ] && grep -q '^distance	2	' "$T/out" && ok "picks 2 (exit 0, distance line)" ||
    bad "pick 2: exit $rc, $(cat "$T/out" "$T/err")"
expect "one of a's overlapping crops and b" "a@0,0.png b@0,0.png " "a@16,0.png b@0,0.png "
pick 3 2 64
expect "3 of 64x64: the flat one before a's overlapping crop" \
    "a@0,0.png b@0,0.png c@0,0.png " "a@16,0.png b@0,0.png c@0,0.png "
pick 3 2 8
expect "8x8 crops 16 apart do not overlap" "a@0,0.png a@16,0.png b@0,0.png "
pick 2 1 8
expect "one per image" "a@0,0.png b@0,0.png " "a@16,0.png b@0,0.png "
pick 4 2 64
[ $rc -eq 1 ] && grep -q "only 3 of 4" "$T/err" && ok "4 asked, 3 allowed: exit 1 with a message" ||
    bad "pick 4: exit $rc, $(cat "$T/err")"
"$TD" --pick 0 "$T/ref" "$T/cand" >/dev/null 2>&1
[ $? -eq 2 ] && ok "--pick 0 is a usage error" || bad "--pick 0 accepted"
finish
