#!/bin/bash
# PSNR of a prior against GEGL's gegl:denoise-dct on the validation split:
# the same seeded noisy images (clipped, 16-bit PNG) go to both; GEGL is told
# the true sigma, our denoiser is blind.  Gray priors are scored on the mean
# of R, G and B.  Writes bench/results/denoise-vs-gegl-MODEL-LIST-SIGMA.txt.
# Usage: bench/denoise-vs-gegl.sh MODEL [SIGMA] [SEED]   (WPRIOR: the wprior to use;
#        ENSEMBLE=N: ours averages N passes (wprior denoise --ensemble), the name gets -eN)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench/denoise-vs-gegl.sh MODEL [SIGMA] [SEED]}
sigma=${2:-25}
seed=${3:-1}
command -v gegl >/dev/null || { echo "gegl is not installed (apt-get install gegl)" >&2; exit 1; }
val=${VAL:-data/val.txt} # VAL: another list of clean images, e.g. data/photos-val.txt
[ -f "$val" ] || { echo "no $val: run scripts/fetch-training-data.sh" >&2; exit 1; }
mkdir -p bench/results
ens=${ENSEMBLE:-1}
tag=$([ "$ens" = 1 ] || echo "-e$ens")
res=bench/results/denoise-vs-gegl-$(basename "$model" .safetensors)-$(basename "$val" .txt)-$sigma$tag.txt
{
    echo "# $(date -u +%F) model $model, sigma $sigma, seed $seed, $val"
    echo "# gegl:denoise-dct sigma=$sigma (0..255 units, the true value); ours blind, --ensemble $ens"
    "${WPRIOR:-build/cli/wprior}" eval -m "$model" --clean "$val" --sigma "$sigma" --seed "$seed" --per-image \
        --ensemble "$ens" \
        --external "gegl -i {in} -o {out} -- denoise-dct sigma={sigma} >/dev/null 2>&1"
} | tee "$res.tmp"
mv "$res.tmp" "$res"
awk -v s="$sigma" '$1 == s && NF == 4 { printf "ours - gegl: %+.3f dB\n", $3 - $4 }' "$res" | tee -a "$res"
