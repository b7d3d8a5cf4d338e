#!/bin/bash
# The bad-input matrix of the CLI: every case must fail with a clear
# message and a non-zero exit and leave no output file, or (odd but valid
# sizes) succeed with an output of the right size.
# usage: bad_input_test.sh WPRIOR WP_SYNTH WP_PSNR
set -u
WPRIOR=$1
SYNTH=$2
PSNR=$3
HERE=$(cd "$(dirname "$0")" && pwd)
GRAY=$HERE/fuzz/corpus/model/tiny_gray.safetensors     # J=1 gray
FLATRGB=$HERE/fuzz/corpus/model/tiny_flat_rgb.safetensors
T=$(mktemp -d /tmp/wprior-bad-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

# --- model files ---
head -c 200 "$GRAY" >"$T/trunc.safetensors"
expect_fail "truncated model" "larger than the file" "$T/o1.png" "$WPRIOR" denoise -m "$T/trunc.safetensors" "$HERE/fuzz/corpus/image/gray8.png" "$T/o1.png"
cp "$GRAY" "$T/flip.safetensors"
printf '\x7f' | dd of="$T/flip.safetensors" bs=1 seek=20 conv=notrunc 2>/dev/null
expect_fail "bit-flipped model header" "flip.safetensors: tensor" "$T/o2.png" "$WPRIOR" denoise -m "$T/flip.safetensors" "$HERE/fuzz/corpus/image/gray8.png" "$T/o2.png"
# NaN in the first weight: the data start right after the header
hl=$(od -An -t u8 -N 8 "$GRAY" | tr -d ' ')
cp "$GRAY" "$T/nan.safetensors"
printf '\x00\x00\xc0\x7f' | dd of="$T/nan.safetensors" bs=1 seek=$((8 + hl)) conv=notrunc 2>/dev/null
expect_fail "NaN weight" "NaN" "$T/o3.png" "$WPRIOR" denoise -m "$T/nan.safetensors" "$HERE/fuzz/corpus/image/gray8.png" "$T/o3.png"
sed 's/"in=4 out=3 width=3/"in=4 out=3 width=4/' "$GRAY" >"$T/shape.safetensors"
expect_fail "metadata/shape mismatch" "shape" "$T/o4.png" "$WPRIOR" denoise -m "$T/shape.safetensors" "$HERE/fuzz/corpus/image/gray8.png" "$T/o4.png"
expect_fail "colour prior on a gray image" "colour prior cannot denoise a 1-channel" "$T/o5.png" "$WPRIOR" denoise -m "$FLATRGB" "$HERE/fuzz/corpus/image/gray8.png" "$T/o5.png"
expect_fail "flat prior cannot upscale" "cannot upscale" "$T/o6.png" "$WPRIOR" upscale -m "$FLATRGB" "$HERE/fuzz/corpus/image/rgb16.png" "$T/o6.png"
expect_fail "flat prior cannot sample" "multi-scale prior" "$T/o7.png" "$WPRIOR" sample -m "$FLATRGB" "$T/o7.png"
expect_fail "x4 with a J=1 prior" "2 levels" "$T/o8.png" "$WPRIOR" upscale -m "$GRAY" -f 4 "$HERE/fuzz/corpus/image/gray8.png" "$T/o8.png"

# --- images ---
echo "not an image" >"$T/text.png"
expect_fail "not an image" "not a PNG or JPEG" "$T/i1.png" "$WPRIOR" denoise -m "$GRAY" "$T/text.png" "$T/i1.png"
: >"$T/empty.png"
expect_fail "empty file" "empty" "$T/i2.png" "$WPRIOR" denoise -m "$GRAY" "$T/empty.png" "$T/i2.png"
expect_fail "-m with an empty path" "model path is empty" "$T/i2.png" "$WPRIOR" sample -m "" "$T/i2.png"
head -c 60 "$HERE/fuzz/corpus/image/rgb16.png" >"$T/trunc.png"
expect_fail "truncated PNG" "truncated" "$T/i3.png" "$WPRIOR" denoise -m "$GRAY" "$T/trunc.png" "$T/i3.png"
head -c 200 "$HERE/fuzz/corpus/image/rgb.jpg" >"$T/trunc.jpg"
expect_fail "truncated JPEG" "$T/trunc.jpg" "$T/i4.png" "$WPRIOR" denoise -m "$GRAY" "$T/trunc.jpg" "$T/i4.png"
# a PNG whose IHDR says 0x0 (CRC fixed up by hand for these bytes)
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\x00\x94\x18\xaf\x1e' >"$T/zero.png"
expect_fail "0x0 image" "$T/zero.png" "$T/i5.png" "$WPRIOR" denoise -m "$GRAY" "$T/zero.png" "$T/i5.png"
"$SYNTH" "$T/big.png" 1000 1000 1 1
expect_fail "image over the memory budget" "memory budget" "$T/i6.png" "$WPRIOR" denoise -m "$GRAY" --max-memory 6M "$T/big.png" "$T/i6.png"
expect_fail "image too big to even decode in the budget" "pixel limit" "$T/i7.png" "$WPRIOR" denoise -m "$GRAY" --max-memory 3M "$T/big.png" "$T/i7.png"
for size in 1x1 3x1 1x3 65535x1; do
    w=${size%x*} h=${size#*x}
    "$SYNTH" "$T/s$size.png" "$w" "$h" 1 2
    if "$WPRIOR" denoise -m "$GRAY" "$T/s$size.png" "$T/d$size.png" 2>"$T/stderr" &&
        [ "$("$PSNR" "$T/s$size.png" "$T/s$size.png")" = "inf" ] &&
        "$PSNR" "$T/d$size.png" "$T/s$size.png" >/dev/null 2>&1; then
        ok "denoise of a ${size} image"
    else
        bad "denoise of a ${size} image: $(cat "$T/stderr")"
    fi
done
if "$WPRIOR" upscale -m "$GRAY" --max-iter 3 "$T/s3x1.png" "$T/u3x1.png" 2>"$T/stderr" &&
    grep -q "to 6x2" "$T/stderr"; then
    ok "upscale of a 3x1 image"
else
    bad "upscale of a 3x1 image: $(cat "$T/stderr")"
fi

# --- paths and options ---
expect_fail "unwritable output path" "/nonexistent-dir/o.png" "" "$WPRIOR" denoise -m "$GRAY" "$HERE/fuzz/corpus/image/gray8.png" /nonexistent-dir/o.png
expect_fail "--threads 0" "--threads" "$T/p1.png" "$WPRIOR" denoise -m "$GRAY" --threads 0 "$HERE/fuzz/corpus/image/gray8.png" "$T/p1.png"
expect_fail "--threads -3" "--threads" "$T/p2.png" "$WPRIOR" denoise -m "$GRAY" --threads -3 "$HERE/fuzz/corpus/image/gray8.png" "$T/p2.png"
expect_fail "negative size" "--size" "$T/p3.png" "$WPRIOR" sample -m "$GRAY" --size 8x-8 "$T/p3.png"
expect_fail "zero size" "--size" "$T/p4.png" "$WPRIOR" sample -m "$GRAY" --size 0x8 "$T/p4.png"
expect_fail "odd size for J=1" "multiples of 2" "$T/p5.png" "$WPRIOR" sample -m "$GRAY" --size 9x8 "$T/p5.png"
expect_fail "seed out of range" "--seed" "$T/p6.png" "$WPRIOR" sample -m "$GRAY" --seed 18446744073709551616 "$T/p6.png"
expect_fail "seed not a number" "--seed" "$T/p7.png" "$WPRIOR" sample -m "$GRAY" --seed abc "$T/p7.png"
expect_fail "NaN sampler knob" "--h0" "$T/p8.png" "$WPRIOR" sample -m "$GRAY" --h0 nan "$T/p8.png"
expect_fail "h0 above 1" "h0" "$T/p9.png" "$WPRIOR" sample -m "$GRAY" --h0 5 "$T/p9.png"
expect_fail "missing option value" "needs a value" "$T/p10.png" "$WPRIOR" sample -m "$GRAY" "$T/p10.png" --seed
expect_fail "--tile 3" "--tile" "$T/p11.png" "$WPRIOR" denoise -m "$GRAY" --tile 3 "$HERE/fuzz/corpus/image/gray8.png" "$T/p11.png"

finish
