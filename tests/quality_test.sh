#!/bin/bash
# bench/quality on a 2-image subset (one gray and one colour denoising set
# at sigma 25, Set5 x2, the RNI6 and fine-detail sheets) with the shipped models: the tables
# hold our PSNR and every peer's in plausible ranges, beside the published
# rows; a second run takes the peers' results from its cache.  Skips (77)
# without ../shared/benchmarks, gegl or gmic.
# usage: quality_test.sh SOURCE_ROOT WPRIOR WP_PSNR
set -u
SRC=$1
WPRIOR=$(realpath "$2") WP_PSNR=$(realpath "$3")
export WPRIOR WP_PSNR
T=$(mktemp -d /tmp/wprior-quality-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
[ -d "$SRC/../shared/benchmarks/denoise" ] || [ -n "${BENCH:-}" ] ||
    { echo "no ../shared/benchmarks beside the source tree"; exit 77; }
for t in gegl gmic; do command -v $t >/dev/null || { echo "$t is not installed"; exit 77; }; done
unset OPENBLAS_NUM_THREADS # bench/quality times each program on all cores

export PEER_CACHE=$T/cache # a private cache, filled by the first run
SETS="Set12 CBSD68 Set5 RNI6 Detail" SIGMAS=25 FACTORS=2 "$SRC/bench/quality" --subset 2 \
    --out "$T/quality.md" "$SRC/models/photo-gray.safetensors" "$SRC/models/photo-color.safetensors" \
    >"$T/log" 2>&1
rc=$?
[ $rc -eq 77 ] && { cat "$T/log"; exit 77; }
[ $rc -eq 0 ] && [ -f "$T/quality.md" ] && ok "bench/quality ran" ||
    { bad "bench/quality: exit $rc: $(tail -5 "$T/log")"; finish; exit 1; }
Q=$T/quality.md

# in_range NAME VALUE LO HI
in_range() {
    if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v + 0 == v && v >= lo && v <= hi) }'; then
        ok "$1: $2"
    else
        bad "$1: '$2' not in [$3, $4]"
    fi
}
# the two tables of a denoising set: standard first, then the file protocol
table() { # SET TABLE(1|2) ROW COLUMN
    awk -F' *\\| *' -v s="### $1 " -v t="$2" -v r="$3" -v c="$4" '
        index($0, "###") == 1 { on = (index($0, s) == 1); n = 0; next }
        on && /^\| sigma/ { n++; delete col; for (i = 2; i < NF; i++) col[$i] = i; next }
        on && n == t && $2 == r && (c in col) { print $(col[c]); exit }' "$Q"
}

for spec in "Set12 photo-gray" "CBSD68 photo-color"; do
    set -- $spec
    noisy=$(table "$1" 1 25 noisy)
    in_range "$1 noisy, standard" "$noisy" 20.0 20.4
    in_range "$1 $2, standard" "$(table "$1" 1 25 "$2")" 22 40
    in_range "$1 $2, 4 passes" "$(table "$1" 1 25 "$2, 4 passes")" 22 40
    in_range "$1 $2 s/MP" "$(table "$1" 1 s/MP "$2")" 0.001 10000
    pub=$([ "$1" = Set12 ] && echo "BM3D (published)" || echo "CBM3D (published)")
    want=$([ "$1" = Set12 ] && echo 29.97 || echo 30.71)
    [ "$(table "$1" 1 25 "$pub")" = "$want" ] && ok "$1: $pub $want" || bad "$1: no $pub $want"
    for m in "FFDNet (published)" "DRUNet (published)"; do
        in_range "$1 $m" "$(table "$1" 1 25 "$m")" 29 32
    done
    fnoisy=$(table "$1" 2 25 noisy)
    in_range "$1 noisy, file" "$fnoisy" 20.0 21.5
    for m in "$2" "gegl:denoise-dct" "G'MIC denoise" "G'MIC denoise_patchpca"; do
        # a denoiser improves on its input, and nothing reaches 40 dB at sigma 25 here
        in_range "$1 $m, file" "$(table "$1" 2 25 "$m")" "$(echo "$fnoisy" | awk '{ print $1 + 1 }')" 40
        in_range "$1 $m s/MP" "$(table "$1" 2 s/MP "$m")" 0.001 100000
    done
done

sr() { # ROW-TITLE COLUMN
    awk -F' *\\| *' -v r="$1" -v c="$2" '
        index($0, "### Set5 x2 ") == 1 { on = 1; next }
        index($0, "###") == 1 { on = 0 }
        on && /^\| input/ { for (i = 2; i < NF; i++) col[$i] = i; next }
        on && $2 == r && (c in col) { print $(col[c]); exit }' "$Q"
}
for m in photo-gray photo-color "ImageMagick Catrom" "ImageMagick Lanczos" "GEGL NoHalo" "GEGL LoHalo"; do
    in_range "Set5 x2 $m, provided LR" "$(sr "the provided LR (bicubic)" "$m")" 30 45
    in_range "Set5 x2 $m, block means" "$(sr "block means of the HR" "$m")" 30 45
done
[ "$(sr "the provided LR (bicubic)" "EDSR (published)")" = 38.11 ] && ok "Set5 x2: EDSR 38.11" ||
    bad "Set5 x2: no published EDSR row"
[ -s "$T/quality-RNI6.jpg" ] && grep -q "quality-RNI6.jpg" "$Q" && ok "RNI6 contact sheet" ||
    bad "no RNI6 contact sheet"

# the fine-detail sheet: five crops, each model and denoise-dct above their noisy input
[ -s "$T/quality-detail.jpg" ] && grep -q "quality-detail.jpg" "$Q" && ok "fine-detail contact sheet" ||
    bad "no fine-detail contact sheet"
detail() { # CROP COLUMN
    awk -F' *\\| *' -v r="$1" -v c="$2" '
        index($0, "## Fine detail") == 1 { on = 1; next }
        on && /^\| crop/ { for (i = 2; i < NF; i++) col[$i] = i; next }
        on && $2 == r && (c in col) { print $(col[c]); exit }' "$Q"
}
for crop in "09 +0+160" "img_094_SRF_2_HR +0+64" "img_053_SRF_2_HR +256+40"; do
    m=$([ "$crop" = "09 +0+160" ] && echo photo-gray || echo photo-color)
    in_range "fine detail $crop, $m" "$(detail "$crop" "$m")" 21 40
    in_range "fine detail $crop, denoise-dct" "$(detail "$crop" gegl:denoise-dct)" 21 40
done

# A second run takes the peers' results from the cache: the same values, none recomputed.
SETS=Set12 SIGMAS=25 METHODS="ours dct nlm pca" "$SRC/bench/quality" --subset 2 --out "$T/again.md" \
    "$SRC/models/photo-gray.safetensors" >"$T/log2" 2>&1 || bad "bench/quality again: $(tail -3 "$T/log2")"
n=$(grep -c 'Set12, .*: 2 of 2 results from the cache' "$T/log2")
[ "$n" = 3 ] && ok "second run: every peer's result from the cache" || bad "second run: $n of 3 peers from the cache"
for m in "gegl:denoise-dct" "G'MIC denoise" "G'MIC denoise_patchpca"; do
    a=$(table Set12 2 25 "$m") b=$(Q=$T/again.md table Set12 2 25 "$m")
    [ -n "$a" ] && [ "$a" = "$b" ] && ok "cached $m: $b" || bad "cached $m: '$b' vs '$a'"
done
[ "$fail" -eq 0 ] || cat "$Q"
finish
