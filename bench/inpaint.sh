#!/bin/bash
# Inpainting against G'MIC (diffusion: inpaint_pde; patches: inpaint_matchpatch)
# and Resynthesizer's heal selection (through GIMP 2.10's PDB, when RESYNTH
# names its engine plug-in: bench/build-resynthesizer.sh), on the
# same fixed masks: 50% and 80% random missing pixels, a 32x32 and a 64x64
# square hole, thin scratches (2-5 px).  PSNR (peak 1) inside the mask, the
# mean over the images, and seconds per image; a contact sheet per mask kind
# (the first images of each set).  Kodak24 is filled with photo-color,
# Set12 with photo-gray.  Benchmark images are test data: never tune on them.
# Writes bench/results/inpaint-run.md (or OUT) and the sheets
# inpaint-KIND.png/.jpg (benchmark images: git ignores them, never commit
# them; SHEET=0: none).
# usage: bench/inpaint.sh [BUILD_DIR]
#   N=k: the first k images of each set (default all); SETS="Kodak24 Set12";
#   KINDS="r50 r80 sq32 sq64 scratch"; MODES="fast sharp diffuse" (empty: none);
#   THREADS=n (default 2); SHEET=k images per contact sheet (default 3);
#   PEERS="gmic-pde gmic-patch resynth" (default: those installed);
#   RESYNTH=path of Resynthesizer's engine plug-in (Debian 12 has none)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
BENCH=${BENCH:-../shared/benchmarks/denoise}
SETS=${SETS:-Kodak24 Set12}
. bench/inpaint-masks.sh
KINDS=${KINDS:-$INPAINT_KINDS}
MODES=${MODES-fast sharp diffuse}
THREADS=${THREADS:-2}
SHEET=${SHEET:-3}
N=${N:-0}
OUT=${OUT:-bench/results/inpaint-run.md}
[ -d "$BENCH" ] || { echo "no $BENCH: the benchmark sets are missing, nothing to do" >&2; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# The peers are installed here only (not project dependencies).
install_peer() { # package: what it brings
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "bench/inpaint: installing $1 for $2 (apt-get)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$1" >/dev/null 2>&1 || true
    fi
}
command -v gmic >/dev/null || install_peer gmic "G'MIC's inpainting"
read -ra PEERS <<<"${PEERS:-}"
if [ ${#PEERS[@]} = 0 ]; then
    if command -v gmic >/dev/null; then PEERS+=(gmic-pde gmic-patch); else
        echo "bench/inpaint: gmic missing: G'MIC left out" >&2; fi
    if [ -x "${RESYNTH:-}" ] && command -v gimp-console-2.10 >/dev/null; then PEERS+=(resynth); else
        echo "bench/inpaint: Resynthesizer left out (Debian 12 does not package it: build" \
            "its engine with bench/build-resynthesizer.sh and set RESYNTH)" >&2; fi
fi
# one GIMP profile for the run, with the engine plug-in in it (GIMP's first
# start in a new profile queries every plug-in: seconds per image otherwise)
GDIR=$T/gimp
mkdir -p "$GDIR/plug-ins/resynthesizer"
[ -x "${RESYNTH:-}" ] && cp "$RESYNTH" "$GDIR/plug-ins/resynthesizer/"


# Resynthesizer through the PDB: the mask's white pixels are the selection,
# healed as its "Heal selection" does by default (its Python wrapper, not
# runnable on Debian 12, done here in Script-Fu): the corpus is the ring of
# 50 px around the selection, cut out of a copy of the image; the engine
# fills in random order (use_border 1) with its default weights.
resynth() { # in mask out
    GIMP2_DIRECTORY=$GDIR gimp-console-2.10 -i -d -f -b "
      (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"$1\" \"$1\")))
             (drw (car (gimp-image-get-active-drawable img)))
             (msk (car (gimp-file-load-layer RUN-NONINTERACTIVE img \"$2\"))))
        (gimp-image-insert-layer img msk 0 -1)
        (gimp-context-set-sample-threshold 0.5)
        (gimp-image-select-color img CHANNEL-OP-REPLACE msk '(255 255 255))
        (gimp-image-remove-layer img msk)
        (let* ((tmp (car (gimp-image-duplicate img)))
               (src (car (gimp-image-get-active-drawable tmp)))
               (hole (car (gimp-selection-save tmp))))
          (gimp-selection-grow tmp 50)
          (let* ((b (cdr (gimp-selection-bounds tmp)))
                 (x1 (car b)) (y1 (cadr b)) (x2 (caddr b)) (y2 (cadddr b)))
            (gimp-image-select-item tmp CHANNEL-OP-SUBTRACT hole)
            (gimp-image-crop tmp (- x2 x1) (- y2 y1) x1 y1)
            (plug-in-resynthesizer RUN-NONINTERACTIVE img drw 0 0 1 src -1 -1 0.0 0.117 16 500)
            (gimp-image-delete tmp)))
        (gimp-file-save RUN-NONINTERACTIVE img drw \"$3\" \"$3\"))" -b "(gimp-quit 0)" \
        >"$T/gimp.log" 2>&1
    ! grep -q "execution error" "$T/gimp.log" && [ -f "$3" ]
}

fill() { # method in mask out model
    case $1 in
    fast | sharp | diffuse)
        "$B/cli/wprior" inpaint -m "$5" --threads "$THREADS" --mode "$1" --mask "$3" "$2" "$4" \
            2>/dev/null ;;
    # (G'MIC writes a 16-bit PNG of the unscaled values when any exceeds 255:
    # rounded and clipped to 8 bits first)
    gmic-pde) OMP_NUM_THREADS=$THREADS gmic -v -1 "$2" "$3" inpaint_pde[0] [1] round[0] cut[0] 0,255 \
        o[0] "$4" ;;
    gmic-patch) OMP_NUM_THREADS=$THREADS gmic -v -1 "$2" "$3" inpaint_matchpatch[0] [1] round[0] \
        cut[0] 0,255 o[0] "$4" ;;
    resynth) resynth "$2" "$3" "$4" ;;
    esac
}

METHODS=($MODES "${PEERS[@]}")
declare -A sum tsum cnt
: >"$T/rows"
for set in $SETS; do
    model=photo-color
    [ "$set" = Set12 ] && model=photo-gray
    files=("$BENCH/$set"/*.png)
    [ "$N" -gt 0 ] && files=("${files[@]:0:$N}")
    i=0
    for f in "${files[@]}"; do
        i=$((i + 1))
        name=$(basename "$f" .png)
        read -r W H < <(identify -format "%w %h\n" "$f")
        for kind in $KINDS; do
            m=$T/$set-$name-$kind-mask.png
            mask_of "$kind" "$W" "$H" "$i" "$m"
            row="$set $name $kind"
            for meth in "${METHODS[@]}"; do
                o=$T/$set-$name-$kind-$meth.png
                t0=$(date +%s.%N)
                if fill "$meth" "$f" "$m" "$o" "$model"; then
                    t=$(echo "$(date +%s.%N) - $t0" | bc -l)
                    p=$("$B/tests/wp_psnr" "$o" "$f" "$m")
                    sum[$set,$kind,$meth]=$(echo "${sum[$set,$kind,$meth]:-0} + $p" | bc -l)
                    tsum[$set,$kind,$meth]=$(echo "${tsum[$set,$kind,$meth]:-0} + $t" | bc -l)
                    cnt[$set,$kind,$meth]=$((${cnt[$set,$kind,$meth]:-0} + 1))
                    row+=" $(printf %.2f "$p")/$(printf %.1f "$t")s"
                else
                    row+=" failed"
                fi
            done
            echo "$row" | tee -a "$T/rows" >&2
        done
    done
done

# contact sheets: per kind, the first SHEET images of each set; columns:
# the masked input (holes in magenta), the methods, the original; square
# holes are shown as the 128x128 around them at twice the size (seams)
mkdir -p bench/results
for kind in $KINDS; do
    tiles=()
    for set in $SETS; do
        for f in $(ls "$BENCH/$set"/*.png | head -"$SHEET"); do
            name=$(basename "$f" .png)
            base=$T/$set-$name-$kind
            [ -f "$base-mask.png" ] || continue
            convert "$f" -colorspace sRGB -type TrueColor \( "$base-mask.png" -fill magenta -opaque white \
                -transparent black \) -composite "$base-masked.png"
            crop=()
            case $kind in sq*)
                xy=$(convert "$base-mask.png" -format "%@" info: | sed 's/.*+\([0-9]*\)+\([0-9]*\)/\1 \2/')
                x=${xy% *} y=${xy#* }
                s=${kind#sq}
                crop=(-crop "128x128+$((x + s / 2 - 64 < 0 ? 0 : x + s / 2 - 64))+$((y + s / 2 - 64 < 0 ? 0 : y + s / 2 - 64))" +repage -filter point -resize 200%) ;;
            esac
            k=0
            for src in "$base-masked.png" $(for meth in "${METHODS[@]}"; do echo "$base-$meth.png"; done) "$f"; do
                k=$((k + 1))
                [ -f "$src" ] || src=$base-masked.png
                convert "$src" -colorspace sRGB -type TrueColor "${crop[@]}" "$base-tile$k.png"
                tiles+=("$base-tile$k.png")
            done
        done
    done
    [ ${#tiles[@]} -gt 0 ] || continue
    montage "${tiles[@]}" -colorspace sRGB -tile "$((${#METHODS[@]} + 2))x" -geometry 256x256+2+2 \
        -title "$kind: masked, ${METHODS[*]}, original" "$T/sheet.png"
    # whole images as JPEG (a few hundred KB), square holes' crops as PNG
    case $kind in
    sq*) cp "$T/sheet.png" "bench/results/inpaint-$kind.png" ;;
    *) convert "$T/sheet.png" -quality 85 "bench/results/inpaint-$kind.jpg" ;;
    esac
done

# A 64x64 hole in a 12-megapixel photograph (the first image of the first
# set enlarged to 4000x3000): seconds per mode, only its region processed
# (none in a peers-only run).
big=$(ls "$BENCH/${SETS%% *}"/*.png | head -1)
: >"$T/big"
if [ -n "${MODES// /}" ]; then
    convert "$big" -resize 4000x3000! -depth 8 "$T/big.png"
    "$B/tests/wp_mask" "$T/bigmask.png" 4000 3000 square:64 1
fi
for mode in $MODES; do
    t0=$(date +%s.%N)
    "$B/cli/wprior" inpaint --threads "$THREADS" --mode "$mode" --mask "$T/bigmask.png" "$T/big.png" \
        "$T/bigout.png" 2>"$T/bigerr" || true
    echo "- $mode: $(printf %.1f "$(echo "$(date +%s.%N) - $t0" | bc -l)") s wall, whole command" \
        "(PNG read and write included): $(cat "$T/bigerr")" | tee -a "$T/big" >&2
done

{
    echo "# Inpainting: PSNR inside the mask (dB, mean over the images) and seconds per image"
    echo
    echo "$(date -u +%F), \`bench/inpaint.sh\` (N=${N}, THREADS=$THREADS," \
        "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset})," \
        "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);" \
        "G'MIC $(gmic -h 2>&1 | sed -n "s/.*Version \([0-9.]*\).*/\1/p" | head -1)"
    echo
    printf "| set | mask |"
    for meth in "${METHODS[@]}"; do printf " %s |" "$meth"; done
    echo
    printf "|---|---|"
    for meth in "${METHODS[@]}"; do printf -- "---|"; done
    echo
    for set in $SETS; do
        for kind in $KINDS; do
            printf "| %s | %s |" "$set" "$kind"
            for meth in "${METHODS[@]}"; do
                c=${cnt[$set,$kind,$meth]:-0}
                if [ "$c" -gt 0 ]; then
                    printf " %.2f (%.1f s, %d) |" "$(echo "${sum[$set,$kind,$meth]} / $c" | bc -l)" \
                        "$(echo "${tsum[$set,$kind,$meth]} / $c" | bc -l)" "$c"
                else
                    printf " – |"
                fi
            done
            echo
        done
    done
    echo
    if [ -s "$T/big" ]; then
        echo "A 64x64 hole in a 4000x3000 image ($(basename "$big") enlarged), $THREADS threads:"
        echo
        cat "$T/big"
        echo
    fi
    echo "Per image (PSNR/seconds, columns: ${METHODS[*]}):"
    echo
    echo '```'
    cat "$T/rows"
    echo '```'
} >"$OUT"
echo "wrote $OUT and the contact sheets" >&2
