# bench/peers.sh: the other programs a GIMP user has, as the benchmarks run
# them (sourced by bench/quality, bench/tune-peers, bench/denoise-vs-gegl.sh
# and bench/upscale-eval.sh).  Every denoiser reads the same 16-bit PNG (the
# noisy image clipped to [0,1], as `wprior eval --save-noisy` writes it) and
# writes a PNG; G'MIC works in 0..255 units, so its parameters are in
# 0..255 units too.

PEER_DENOISERS="dct nlm pca"
PEER_UPSCALERS="catrom lanczos nohalo lohalo"

# What each method is called in the tables.
peer_label() {
    case $1 in
    dct) echo "gegl:denoise-dct" ;;
    nlm) echo "G'MIC denoise" ;;
    pca) echo "G'MIC denoise_patchpca" ;;
    catrom) echo "ImageMagick Catrom" ;;
    lanczos) echo "ImageMagick Lanczos" ;;
    nohalo) echo "GEGL NoHalo" ;;
    lohalo) echo "GEGL LoHalo" ;;
    *) echo "$1" ;;
    esac
}

# The tool a method needs.
peer_tool() {
    case $1 in
    dct | nohalo | lohalo) echo gegl ;;
    nlm | pca) echo gmic ;;
    *) echo convert ;;
    esac
}

# The G'MIC command of a method.
gmic_command() {
    case $1 in
    nlm) echo denoise ;;
    pca) echo denoise_patchpca ;;
    *) echo "no G'MIC method $1" >&2; return 2 ;;
    esac
}

# gmic_grid METHOD IN OUT PARAMS...: one G'MIC run denoises IN with each
# argument list in turn and writes OUT_000000.png, OUT_000001.png, ... in
# that order (bench/tune-peers: one start for the whole grid); OUT itself
# when there is one list.
gmic_grid() {
    local cmd m=$1 in=$2 out=$3 p args=()
    shift 3
    cmd=$(gmic_command "$m") || return 2
    for p in "$@"; do args+=("+$cmd[0]" "$p"); done
    gmic -v - "$in" -div 257 "${args[@]}" -rm[0] -mul 257 -round -cut 0,65535 -o "$out" >/dev/null 2>&1
}

# peer_denoise METHOD SIGMA PARAMS IN OUT: SIGMA is the true noise level
# (0..255 units, only gegl:denoise-dct is told it); PARAMS the method's
# argument list (bench/peer-params.tsv).  G'MIC writes a 16-bit PNG when a
# value exceeds 255, which the rescaled noisy images always have.
peer_denoise() {
    local m=$1 sigma=$2 params=$3 in=$4 out=$5
    case $m in
    dct) gegl -i "$in" -o "$out" -- denoise-dct sigma="$sigma" >/dev/null 2>&1 ;;
    nlm | pca) gmic_grid "$m" "$in" "$out" "$params" ;;
    *) echo "peer_denoise: no method $m" >&2; return 2 ;;
    esac
}

# peer_upscale METHOD FACTOR IN OUT
peer_upscale() {
    local m=$1 f=$2 in=$3 out=$4
    case $m in
    catrom) convert "$in" -filter Catrom -resize "$((100 * f))%" "$out" ;;
    lanczos) convert "$in" -filter Lanczos -resize "$((100 * f))%" "$out" ;;
    nohalo | lohalo) gegl -i "$in" -o "$out" -- scale-ratio x="$f" y="$f" sampler="$m" >/dev/null 2>&1 ;;
    *) echo "peer_upscale: no method $m" >&2; return 2 ;;
    esac
}

# peer_params FILE METHOD CHANNELS SIGMA: the tuned argument list, "-" when
# the method takes none; fails when the table lacks it.
peer_params() {
    [ "$2" = dct ] && { echo -; return 0; }
    awk -F'\t' -v m="$2" -v c="$3" -v s="$4" '$1 == m && $2 == c && $3 == s { print $4; f = 1 } END { exit !f }' "$1"
}

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }
