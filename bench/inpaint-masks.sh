# The fixed masks of the inpainting benchmarks (sourced by bench/inpaint.sh
# and bench/inpaint-val.sh; $B is the build directory): 50% and 80% random
# missing pixels, a 32x32 and a 64x64 square hole, thin scratches (2-5 px).
INPAINT_KINDS="r50 r80 sq32 sq64 scratch"
mask_of() { # kind W H seed out
    local a
    case $1 in
    r50) a=random:0.5 ;; r80) a=random:0.8 ;; sq32) a=square:32 ;;
    sq64) a=square:64 ;; scratch) a=scribble:4 ;;
    *) echo "unknown mask kind $1 (one of $INPAINT_KINDS)" >&2; return 2 ;;
    esac
    "$B/tests/wp_mask" "$5" "$2" "$3" "$a" "$4"
}
