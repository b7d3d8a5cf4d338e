#!/bin/bash
# CLI tests: import + denoise against the paper's numbers, and bad input
# that must give a clear message, a non-zero exit and no output file.
# Usage: cli_test.sh WPRIOR WP_PSNR WP_SYNTH   (needs only the source tree: the
# shipped face prior and tests/data)
set -u
WPRIOR=$1
PSNR=$2
SYNTH=$3
T=$(mktemp -d /tmp/wprior-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

# --- errors that need no model ---
expect_fail "no arguments" "usage" "" "$WPRIOR"
expect_fail "unknown command" "unknown command" "" "$WPRIOR" frobnicate
expect_fail "info of a missing model" "No such file" "" "$WPRIOR" info "$T/none.safetensors"
echo "not a model" >"$T/junk.safetensors"
expect_fail "info of a junk model" "header length" "" "$WPRIOR" info "$T/junk.safetensors"
"$SYNTH" "$T/synth.png" 32 24 1 1 || bad "wp_synth"
expect_fail "\$WPRIOR_MODEL names a missing model" "none.safetensors" "$T/out.png" \
    env WPRIOR_MODEL="$T/none.safetensors" "$WPRIOR" denoise "$T/synth.png" "$T/out.png"
expect_fail "a missing argument says which" "denoise: missing OUTPUT" "" "$WPRIOR" denoise "$T/synth.png"
expect_fail "missing arguments say which" "upscale: missing INPUT and OUTPUT" "" "$WPRIOR" upscale
expect_fail "a misspelled model name lists the models" "models found: " "$T/out.png" \
    "$WPRIOR" denoise -m photo-colr "$T/synth.png" "$T/out.png"
mkdir -p "$T/mp"
cp "$(dirname "$0")/../models/stone.safetensors" "$T/mp/my-stone.safetensors" 2>/dev/null &&
    if WPRIOR_MODEL_PATH=$T/mp "$WPRIOR" info my-stone >/dev/null 2>&1; then
        ok "-m NAME finds a model in \$WPRIOR_MODEL_PATH (as the plug-in does)"
    else
        bad "-m NAME does not look in \$WPRIOR_MODEL_PATH"
    fi
expect_fail "import without inputs" "give --low" "$T/m.safetensors" "$WPRIOR" import -o "$T/m.safetensors"
expect_fail "import bad --cond" "LEVEL=FILE" "$T/m.safetensors" "$WPRIOR" import --low x --cond x -o "$T/m.safetensors"

# --- the shipped face prior (the paper's J=2 face denoisers) and its test
# images (tests/data: the reference's noisy input and output) ---
SRC=$(cd "$(dirname "$0")/.." && pwd)
FACE=$SRC/models/face-gray.safetensors
D=$SRC/tests/data
# The paper's per-network files, written from the shipped prior by
# stripping each tensor's net prefix and the metadata (the reference layout
# `wprior import` reads; the same files as ../shared/reference's).
M=$T/ref
mkdir -p "$M"
python3 - "$FACE" "$M" <<'PY' || bad "splitting the shipped prior into per-network files"
import json, struct, sys
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", data[:8])[0]
head, body = json.loads(data[8:8 + n]), data[8 + n:]
for net, out in (("low", "low"), ("cond0", "rf13_scale0"), ("cond1", "rf13_scale1")):
    hdr, blobs, at = {}, [], 0
    for name, t in sorted(head.items()):
        if name.startswith(net + "."):
            b, e = t["data_offsets"]
            hdr[name[len(net) + 1:]] = {"dtype": t["dtype"], "shape": t["shape"], "data_offsets": [at, at + e - b]}
            blobs.append(body[b:e])
            at += e - b
    h = json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    open(f"{sys.argv[2]}/{out}.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
PY
if "$WPRIOR" import --low "$M/low.safetensors" --cond "0=$M/rf13_scale0.safetensors" \
    --cond "1=$M/rf13_scale1.safetensors" --name face160 -o "$T/face160.safetensors" 2>"$T/stderr"; then
    ok "import"
else
    bad "import: $(cat "$T/stderr")"
fi
if "$WPRIOR" info "$T/face160.safetensors" >"$T/info" && grep -q "net cond1" "$T/info" &&
    grep -q "parameters: 1094144" "$T/info" && grep -q "name: face160" "$T/info"; then
    ok "info"
else
    bad "info: $(cat "$T/info")"
fi
# --no-unclip: the reference has no clipping correction
for m in "$T/face160.safetensors" face-gray; do
    if "$WPRIOR" denoise -m "$m" --no-unclip "$D/astronaut_face160_noisy25.png" "$T/den.png" 2>"$T/stderr"; then
        p=$("$PSNR" "$T/den.png" "$D/astronaut_face160.png")
        # the reference README: 28.91 dB for the 8-bit output
        if awk -v p="$p" 'BEGIN { exit !(p > 28.86 && p < 28.96) }'; then
            ok "denoise with $(basename "$m") PSNR $p dB (reference 28.91)"
        else
            bad "denoise with $(basename "$m") PSNR $p dB, reference 28.91"
        fi
        pr=$("$PSNR" "$T/den.png" "$D/astronaut_face160_noisy25_denoised_rf13.png")
        if awk -v p="$pr" 'BEGIN { exit !(p > 50) }'; then
            ok "denoise with $(basename "$m") equals the reference output ($pr dB apart)"
        else
            bad "denoise with $(basename "$m") differs from the reference output ($pr dB)"
        fi
    else
        bad "denoise: $(cat "$T/stderr")"
    fi
done
# by default the clipping correction is on: no worse than the reference here
if "$WPRIOR" denoise -m "$T/face160.safetensors" "$D/astronaut_face160_noisy25.png" "$T/den2.png" 2>"$T/stderr" &&
    p=$("$PSNR" "$T/den2.png" "$D/astronaut_face160.png") && awk -v p="$p" 'BEGIN { exit !(p > 28.91) }'; then
    ok "denoise with the clipping correction: $p dB (reference 28.91)"
else
    bad "denoise with the clipping correction: ${p:-} dB, reference 28.91: $(cat "$T/stderr")"
fi

# --- combine: a J=1 prior's low-pass net as the face prior's denoising
# entry net at level 1 (den = low, with cond0 of the same prior) ---
"$WPRIOR" import --low "$M/low.safetensors" --cond "0=$M/rf13_scale0.safetensors" \
    -o "$T/j1.safetensors" 2>"$T/stderr" || bad "import J=1: $(cat "$T/stderr")"
if "$WPRIOR" combine "$T/face160.safetensors" --den "$T/j1.safetensors" -o "$T/comb.safetensors" 2>"$T/stderr" &&
    "$WPRIOR" info "$T/comb.safetensors" >"$T/info" && grep -q "^net den " "$T/info" &&
    grep -q "net den on the level-1 low-pass" "$T/info" && ! ls "$T"/comb.safetensors.tmp* >/dev/null 2>&1; then
    ok "combine --den: info shows den at level 1"
else
    bad "combine --den: $(cat "$T/stderr" "$T/info")"
fi
"$WPRIOR" denoise -m "$T/comb.safetensors" "$D/astronaut_face160_noisy25.png" "$T/dc.png" 2>/dev/null
"$WPRIOR" denoise -m "$T/j1.safetensors" "$D/astronaut_face160_noisy25.png" "$T/d1.png" 2>/dev/null
if [ -s "$T/dc.png" ] && cmp -s "$T/dc.png" "$T/d1.png" && ! cmp -s "$T/dc.png" "$T/den2.png"; then
    ok "denoise with den at level 1 equals the J=1 prior's, not the J=2 one's"
else
    bad "denoise with den at level 1 differs from the J=1 prior's (or equals J=2's)"
fi
"$WPRIOR" combine "$T/comb.safetensors" --no-den -o "$T/plain.safetensors" 2>"$T/stderr" &&
    "$WPRIOR" denoise -m "$T/plain.safetensors" "$D/astronaut_face160_noisy25.png" "$T/dp.png" 2>/dev/null
if cmp -s "$T/dp.png" "$T/den2.png" && ! grep -q "net den" <("$WPRIOR" info "$T/plain.safetensors"); then
    ok "combine --no-den gives back the J=2 prior's denoising"
else
    bad "combine --no-den: $(cat "$T/stderr")"
fi
# --den-level 0: the same net on the image itself; --fast takes it back to
# level 1 (with cond0 above), which must equal the level-1 result exactly
"$WPRIOR" combine "$T/comb.safetensors" --den-level 0 -o "$T/den0.safetensors" 2>"$T/stderr" &&
    "$WPRIOR" denoise -m "$T/den0.safetensors" "$D/astronaut_face160_noisy25.png" "$T/d0.png" 2>/dev/null &&
    "$WPRIOR" denoise -m "$T/den0.safetensors" --fast "$D/astronaut_face160_noisy25.png" "$T/d0f.png" 2>/dev/null
if grep -q "net den alone, on the image" <("$WPRIOR" info "$T/den0.safetensors") &&
    cmp -s "$T/d0f.png" "$T/dc.png" && [ -s "$T/d0.png" ] && ! cmp -s "$T/d0.png" "$T/dc.png"; then
    ok "combine --den-level 0: den on the image; denoise --fast equals den at level 1"
else
    bad "combine --den-level 0: $(cat "$T/stderr")"
fi
# --blend: both routes, blended by the noise (sigma 25 here): neither alone
"$WPRIOR" denoise -m "$T/den0.safetensors" --blend "$D/astronaut_face160_noisy25.png" "$T/d0b.png" 2>/dev/null
if [ -s "$T/d0b.png" ] && ! cmp -s "$T/d0b.png" "$T/d0.png" && ! cmp -s "$T/d0b.png" "$T/d0f.png"; then
    ok "denoise --blend differs from the den on the image and from --fast"
else
    bad "denoise --blend"
fi
expect_fail "denoise --fast --blend" "exclude each other" "$T/bad.png" \
    "$WPRIOR" denoise -m "$T/den0.safetensors" --fast --blend "$D/astronaut_face160_noisy25.png" "$T/bad.png"
expect_fail "combine --den-level beyond the prior's levels" "0..1" "$T/bad.safetensors" \
    "$WPRIOR" combine "$T/comb.safetensors" --den-level 2 -o "$T/bad.safetensors"
expect_fail "combine --den-level without a den" "no denoising entry net" "$T/bad.safetensors" \
    "$WPRIOR" combine "$T/face160.safetensors" --den-level 0 -o "$T/bad.safetensors"
expect_fail "combine: den from a prior of as many levels" "more levels" "$T/bad.safetensors" \
    "$WPRIOR" combine "$T/j1.safetensors" --den "$T/face160.safetensors" -o "$T/bad.safetensors"
expect_fail "combine without --den or --no-den" "usage" "$T/bad.safetensors" \
    "$WPRIOR" combine "$T/face160.safetensors" -o "$T/bad.safetensors"

# --- combine --low: another prior's low-pass net (of other width and
# levels: photo-gray's J=3 one) replaces the face prior's; den is kept ---
PG=$SRC/models/photo-gray.safetensors
if "$WPRIOR" combine "$T/comb.safetensors" --low "$PG" -o "$T/low.safetensors" 2>"$T/stderr" &&
    "$WPRIOR" info "$T/low.safetensors" >"$T/info" && "$WPRIOR" info "$PG" >"$T/info_pg" &&
    grep -q "^net den " "$T/info" && [ "$(grep "^net low " "$T/info")" = "$(grep "^net low " "$T/info_pg")" ] &&
    [ "$(grep "^net cond1 " "$T/info")" = "$(grep "^net cond1 " <("$WPRIOR" info "$T/comb.safetensors"))" ] &&
    "$WPRIOR" denoise -m "$T/low.safetensors" "$D/astronaut_face160_noisy25.png" "$T/dl.png" 2>/dev/null &&
    cmp -s "$T/dl.png" "$T/dc.png"; then
    ok "combine --low: photo-gray's low-pass net in, den and cond nets kept (denoising unchanged)"
else
    bad "combine --low: $(cat "$T/stderr" "$T/info")"
fi
expect_fail "combine --low from a colour prior into a gray one" "channels" "$T/bad.safetensors" \
    "$WPRIOR" combine "$T/face160.safetensors" --low "$SRC/models/photo-color.safetensors" -o "$T/bad.safetensors"

# --- combine --cond0 and --exemplar: a texture prior that continues its
# own exemplars (seed mod their number), as sample --exemplar does ---
"$SYNTH" "$T/ex0.png" 48 40 1 5 && "$SYNTH" "$T/ex1.png" 48 40 1 6 && "$SYNTH" "$T/ex2.png" 40 40 1 7 &&
    "$SYNTH" "$T/exc.png" 48 40 3 8 || bad "wp_synth exemplars"
if "$WPRIOR" combine "$T/j1.safetensors" --cond0 "$PG" --exemplar "$T/ex0.png" --exemplar "$T/ex1.png" \
    -o "$T/tex.safetensors" 2>"$T/stderr" && "$WPRIOR" info "$T/tex.safetensors" >"$T/info" &&
    grep -q "^exemplars: 2 of 48x40" "$T/info" &&
    [ "$(grep "^net cond0 " "$T/info")" = "$(grep "^net cond0 " <("$WPRIOR" info "$PG"))" ] &&
    "$WPRIOR" sample -m "$T/tex.safetensors" --size 64x48 --seed 3 "$T/t3.png" 2>/dev/null &&
    "$WPRIOR" sample -m "$T/tex.safetensors" --exemplar "$T/ex1.png" --size 64x48 --seed 3 "$T/t3e.png" 2>/dev/null &&
    cmp -s "$T/t3.png" "$T/t3e.png"; then
    ok "combine --cond0 --exemplar: photo-gray's cond0 and 2 exemplars in; seed 3 continues the second"
else
    bad "combine --cond0 --exemplar: $(cat "$T/stderr" "$T/info")"
fi
"$WPRIOR" combine "$T/tex.safetensors" --no-exemplars -o "$T/plain2.safetensors" 2>/dev/null
grep -q "^exemplars" <("$WPRIOR" info "$T/plain2.safetensors") &&
    bad "combine --no-exemplars left them" || ok "combine --no-exemplars removes them"
expect_fail "combine: exemplars of two sizes" "one size" "$T/bad.safetensors" \
    "$WPRIOR" combine "$T/j1.safetensors" --exemplar "$T/ex0.png" --exemplar "$T/ex2.png" -o "$T/bad.safetensors"
expect_fail "combine: a colour exemplar for a gray prior" "colour image" "$T/bad.safetensors" \
    "$WPRIOR" combine "$T/j1.safetensors" --exemplar "$T/exc.png" -o "$T/bad.safetensors"
expect_fail "combine: --cond0 from a colour prior into a gray one" "channels" "$T/bad.safetensors" \
    "$WPRIOR" combine "$T/j1.safetensors" --cond0 "$SRC/models/photo-color.safetensors" -o "$T/bad.safetensors"

# --- upscale and sample ---
if "$WPRIOR" upscale -m "$T/face160.safetensors" -f 2 "$D/astronaut_face160_noisy25.png" "$T/up.png" 2>"$T/stderr" &&
    grep -q "upscaled 160x160 to 320x320" "$T/stderr" && [ -s "$T/up.png" ]; then
    ok "upscale x2 writes 320x320"
else
    bad "upscale: $(cat "$T/stderr")"
fi
"$WPRIOR" import --low "$M/low.safetensors" --cond "0=$M/rf13_scale0.safetensors" \
    --cond "1=$M/rf13_scale1.safetensors" --image-size 160x160 -o "$T/face160s.safetensors" 2>"$T/stderr"
if "$WPRIOR" sample -m "$T/face160s.safetensors" --seed 3 --max-iter 40 "$T/s1.png" 2>"$T/stderr" &&
    grep -q "sampled 160x160 (seed 3)" "$T/stderr" &&
    "$WPRIOR" sample -m "$T/face160s.safetensors" --seed 3 --max-iter 40 "$T/s2.png" 2>/dev/null &&
    cmp -s "$T/s1.png" "$T/s2.png"; then
    ok "sample: native size, same seed gives the same image"
else
    bad "sample: $(cat "$T/stderr")"
fi
# tileable: wrap-around differs from plain borders; the metadata sets the default
"$WPRIOR" meta "$T/face160s.safetensors" sample.tileable=1 -o "$T/face160t.safetensors" 2>"$T/stderr"
if "$WPRIOR" sample -m "$T/face160s.safetensors" --size 32x32 --max-iter 20 --tileable "$T/t1.png" 2>"$T/stderr" &&
    "$WPRIOR" sample -m "$T/face160s.safetensors" --size 32x32 --max-iter 20 --no-tileable "$T/t2.png" 2>>"$T/stderr" &&
    "$WPRIOR" sample -m "$T/face160t.safetensors" --size 32x32 --max-iter 20 "$T/t3.png" 2>>"$T/stderr" &&
    ! cmp -s "$T/t1.png" "$T/t2.png" && cmp -s "$T/t1.png" "$T/t3.png"; then
    ok "sample --tileable / --no-tileable / metadata sample.tileable=1"
else
    bad "tileable sample: $(cat "$T/stderr")"
fi
expect_fail "sample of a size the prior cannot make" "multiples of 4" "$T/s3.png" "$WPRIOR" sample -m "$T/face160s.safetensors" --size 161x160 "$T/s3.png"
expect_fail "x8 with a J=2 prior" "3 levels" "$T/u8.png" "$WPRIOR" upscale -m "$T/face160.safetensors" -f 8 "$D/astronaut_face160.png" "$T/u8.png"
expect_fail "bad factor" "2, 4 or 8" "$T/u3.png" "$WPRIOR" upscale -m "$T/face160.safetensors" -f 3 "$D/astronaut_face160.png" "$T/u3.png"
expect_fail "bad mode" "fast or sharp" "$T/u4.png" "$WPRIOR" upscale -m "$T/face160.safetensors" --mode blurry "$D/astronaut_face160.png" "$T/u4.png"
expect_fail "upscale --ensemble 9" "--ensemble" "$T/u5.png" "$WPRIOR" upscale -m "$T/face160.safetensors" --ensemble 9 "$D/astronaut_face160.png" "$T/u5.png"
expect_fail "--threads 0" "--threads" "$T/o6.png" "$WPRIOR" denoise -m "$T/face160.safetensors" --threads 0 "$D/astronaut_face160.png" "$T/o6.png"
expect_fail "negative size" "--size" "$T/s4.png" "$WPRIOR" sample -m "$T/face160s.safetensors" --size -4x8 "$T/s4.png"
expect_fail "seed out of range" "--seed" "$T/s5.png" "$WPRIOR" sample -m "$T/face160s.safetensors" --seed 99999999999999999999999 "$T/s5.png"
expect_fail "negative seed" "--seed" "$T/s6.png" "$WPRIOR" sample -m "$T/face160s.safetensors" --seed -1 "$T/s6.png"
expect_fail "strength out of range" "--strength" "$T/o7.png" "$WPRIOR" denoise -m "$T/face160.safetensors" --strength 2 "$D/astronaut_face160.png" "$T/o7.png"
expect_fail "image over the memory budget" "memory budget" "$T/o8.png" "$WPRIOR" denoise -m "$T/face160.safetensors" --max-memory 2M "$D/astronaut_face160.png" "$T/o8.png"
expect_fail "bad --max-memory" "--max-memory" "$T/o9.png" "$WPRIOR" denoise -m "$T/face160.safetensors" --max-memory lots "$D/astronaut_face160.png" "$T/o9.png"
if "$WPRIOR" denoise -m "$T/face160.safetensors" --strength 0 "$D/astronaut_face160.png" "$T/same.png" 2>/dev/null &&
    [ "$("$PSNR" "$T/same.png" "$D/astronaut_face160.png")" = "inf" ]; then
    ok "strength 0 gives the input back"
else
    bad "strength 0 changed the image"
fi

# --- bad input with a good model ---
head -c 100 "$D/astronaut_face160.png" >"$T/trunc.png"
expect_fail "truncated PNG" "truncated" "$T/o1.png" "$WPRIOR" denoise -m "$T/face160.safetensors" "$T/trunc.png" "$T/o1.png"
expect_fail "not an image" "not a PNG or JPEG" "$T/o2.png" "$WPRIOR" denoise -m "$T/face160.safetensors" "$T/junk.safetensors" "$T/o2.png"
expect_fail "missing input" "No such file" "$T/o3.png" "$WPRIOR" denoise -m "$T/face160.safetensors" "$T/none.png" "$T/o3.png"
expect_fail "unwritable output" "nonexistent" "" "$WPRIOR" denoise -m "$T/face160.safetensors" "$D/astronaut_face160.png" "$T/nonexistent/o.png"
head -c 5000 "$T/face160.safetensors" >"$T/trunc.safetensors"
expect_fail "truncated model" "larger than the file" "$T/o4.png" "$WPRIOR" denoise -m "$T/trunc.safetensors" "$D/astronaut_face160.png" "$T/o4.png"
expect_fail "reference file without import" "wprior import" "$T/o5.png" "$WPRIOR" denoise -m "$M/low.safetensors" "$D/astronaut_face160.png" "$T/o5.png"
expect_fail "import a cond net as low-pass" "needs 1 inputs" "$T/m2.safetensors" "$WPRIOR" import --low "$M/rf13_scale0.safetensors" --cond "0=$M/rf13_scale0.safetensors" -o "$T/m2.safetensors"
# an existing output survives a failed run
cp "$D/astronaut_face160.png" "$T/keep.png"
"$WPRIOR" denoise -m "$T/trunc.safetensors" "$D/astronaut_face160.png" "$T/keep.png" 2>/dev/null
if cmp -s "$T/keep.png" "$D/astronaut_face160.png"; then ok "failed run keeps the old output"; else bad "failed run changed the old output"; fi

finish
