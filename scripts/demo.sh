#!/bin/bash
# Sets everything up (packages, build, install of the CLI, the library and
# the GIMP plug-in) and runs the main job: blind denoising of a noisy face
# with the paper's J=2 face prior, imported from ../shared/reference
# (until the project ships its own models).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
ref=${WPRIOR_REFERENCE:-$(pwd)/../shared/reference}
[ -d build ] || meson setup build -Dreference_dir="$ref"
ninja -C build
# The GIMP plug-in goes into the user's GIMP 2.10 plug-in folder, and the
# imported face prior into the user's model folder, where it finds it.
meson install -C build --quiet
[ "$(id -u)" -ne 0 ] || ldconfig
M=$ref/models/multi_scale/celebA_160x160_gray
build/cli/wprior import --low "$M/low.safetensors" --cond "0=$M/rf13_scale0.safetensors" \
    --cond "1=$M/rf13_scale1.safetensors" --name "celebA 160 gray (paper)" \
    -o build/face160.safetensors
mkdir -p "$HOME/.config/wavelet-prior/models"
cp build/face160.safetensors "$HOME/.config/wavelet-prior/models/"
build/cli/wprior info build/face160.safetensors
build/cli/wprior denoise -m build/face160.safetensors \
    "$ref/vectors/astronaut_face160_noisy25.png" build/demo-denoised.png
echo "noisy:    $(build/tests/wp_psnr "$ref/vectors/astronaut_face160_noisy25.png" "$ref/astronaut_face160.png") dB"
echo "denoised: $(build/tests/wp_psnr build/demo-denoised.png "$ref/astronaut_face160.png") dB -> build/demo-denoised.png"
