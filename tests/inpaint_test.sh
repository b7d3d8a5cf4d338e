#!/bin/bash
# CLI tests of `wprior inpaint` with the shipped photo priors: known pixels
# (alpha included) bit-identical in 8/16-bit gray, gray+alpha, RGB and RGBA
# files; an empty mask writes the input; seeded draws repeat; bad masks are
# refused with no output.
# Usage: inpaint_test.sh WPRIOR WP_PSNR WP_SYNTH WP_MASK
set -u
WPRIOR=$1
PSNR=$2
SYNTH=$3
MASK=$4
T=$(mktemp -d /tmp/wprior-inpaint-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
run() { "$WPRIOR" inpaint --threads 2 "$@" 2>"$T/stderr" || { bad "inpaint $*: $(cat "$T/stderr")"; return 1; }; }

"$MASK" "$T/holes.png" 72 56 scribble:2 4 || bad "wp_mask"
"$MASK" "$T/none.png" 72 56 none 0 || bad "wp_mask"
for depth in 8 16; do
    for c in 1 2 3 4; do
        "$SYNTH" "$T/in.png" 72 56 $c $c $depth || bad "wp_synth"
        for mode in fast sharp; do
            name="$c channels, $depth-bit, $mode"
            run --mode $mode --mask "$T/holes.png" "$T/in.png" "$T/out.png" || continue
            known=$("$PSNR" "$T/out.png" "$T/in.png" "$T/holes.png" --outside)
            filled=$("$PSNR" "$T/out.png" "$T/in.png" "$T/holes.png")
            if [ "$known" != inf ]; then
                bad "$name: the known pixels changed (PSNR $known)"
            elif [ "$filled" = inf ]; then
                bad "$name: the holes were not filled"
            else
                ok "$name: known pixels bit-identical, holes filled ($filled dB)"
            fi
        done
    done
done

"$SYNTH" "$T/in.png" 72 56 3 9 || bad "wp_synth"
if run --mask "$T/none.png" "$T/in.png" "$T/out.png" &&
    [ "$("$PSNR" "$T/out.png" "$T/in.png")" = inf ]; then
    ok "an empty mask writes the input"
else
    bad "an empty mask changed the image"
fi
run --mode sharp --seed 3 --mask "$T/holes.png" "$T/in.png" "$T/a.png"
run --mode sharp --seed 3 --mask "$T/holes.png" "$T/in.png" "$T/b.png"
run --mode sharp --seed 4 --mask "$T/holes.png" "$T/in.png" "$T/c.png"
if cmp -s "$T/a.png" "$T/b.png" && ! cmp -s "$T/a.png" "$T/c.png"; then
    ok "seeded draws repeat, other seeds differ"
else
    bad "seeded draws: same seed differs or another seed repeats"
fi

"$MASK" "$T/small.png" 30 20 square:4 1 || bad "wp_mask"
expect_fail "a mask of another size" "the mask is 30x20" "$T/out2.png" \
    "$WPRIOR" inpaint --mask "$T/small.png" "$T/in.png" "$T/out2.png"
expect_fail "no mask" "needs --mask" "$T/out2.png" "$WPRIOR" inpaint "$T/in.png" "$T/out2.png"
expect_fail "a missing mask" "nomask.png" "$T/out2.png" \
    "$WPRIOR" inpaint --mask "$T/nomask.png" "$T/in.png" "$T/out2.png"
expect_fail "a bad mode" "--mode is fast, sharp or diffuse" "$T/out2.png" \
    "$WPRIOR" inpaint --mode slow --mask "$T/holes.png" "$T/in.png" "$T/out2.png"

# wprior eval --random-missing: the paper's random-pixel problem
mkdir -p "$T/clean"
"$SYNTH" "$T/clean/a.png" 64 48 3 1 && "$SYNTH" "$T/clean/b.png" 64 48 3 2 || bad "wp_synth"
if "$WPRIOR" eval -m photo-color --clean "$T/clean" --random-missing 0.5,0.8 >"$T/eval" 2>"$T/stderr" &&
    awk '$1 == 0.5 || $1 == 0.8 { if ($2 + 0 > 10 && $3 + 0 > 10) n++ } END { exit n != 2 }' "$T/eval"; then
    ok "eval --random-missing: $(tr '\n' ' ' <"$T/eval")"
else
    bad "eval --random-missing: $(cat "$T/eval" "$T/stderr")"
fi
expect_fail "eval --random-missing 1" "values in (0,1)" "" \
    "$WPRIOR" eval -m photo-color --clean "$T/clean" --random-missing 1
finish
