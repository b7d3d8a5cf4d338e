#!/bin/bash
# Sets everything up (packages, build, install of the CLI, the library, the
# shipped models and the GIMP plug-in) and runs the main job with the
# shipped default model for colour photographs (photo-color): blind
# denoising of a noisy photograph
# (a crop of the photograph on GIMP's splash screen, Gaussian noise of
# sigma 25/255 added with a fixed seed), then a x2 upscale of its 2x2 block
# means.  Results in build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
ref=${WPRIOR_REFERENCE:-$(pwd)/../shared/reference}
[ -d build ] || meson setup build -Dreference_dir="$ref"
ninja -C build
# The CLI, the library, the models and the GIMP plug-in (into the user's
# GIMP 2.10 plug-in folder).
meson install -C build --quiet
[ "$(id -u)" -ne 0 ] || ldconfig
export PATH=/usr/local/bin:$PATH
unset WPRIOR_MODEL # the shipped default
D=build/demo
rm -rf "$D" && mkdir -p "$D/clean"
convert /usr/share/gimp/2.0/images/gimp-splash.png -alpha off -crop 640x480+180+230 +repage \
    -depth 8 "$D/clean/mushrooms.png"
# the same seeded noise as `wprior eval` uses (16-bit PNG, clipped)
wprior eval --clean "$D/clean" --sigma 25 --rgb --save-noisy "$D/noisy" >/dev/null
cp "$D/noisy/000_noisy25.png" "$D/noisy25.png"
wprior info models/photo-color.safetensors # the default for colour, installed
wprior denoise "$D/noisy25.png" "$D/denoised.png"
echo "noisy:    $(build/tests/wp_psnr "$D/noisy25.png" "$D/clean/mushrooms.png") dB"
echo "denoised: $(build/tests/wp_psnr "$D/denoised.png" "$D/clean/mushrooms.png") dB -> $D/denoised.png"
convert "$D/clean/mushrooms.png" -filter Box -resize 50% "$D/half.png"
convert "$D/half.png" -filter Catrom -resize 200% "$D/bicubic.png"
wprior upscale -f 2 "$D/half.png" "$D/upscaled.png"
echo "x2 upscale of the 2x2 block means: Catrom $(build/tests/wp_psnr "$D/bicubic.png" "$D/clean/mushrooms.png") dB, wprior $(build/tests/wp_psnr "$D/upscaled.png" "$D/clean/mushrooms.png") dB -> $D/upscaled.png"
