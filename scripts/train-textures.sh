#!/bin/bash
# Trains the texture priors, one per texture class of the free corpus
# (data/textures-train.txt, data/textures-val.txt; scripts/fetch-training-data.sh).
# The corpus's tags are loose (game textures of house fronts are tagged
# stone), so a class is the files whose name matches its pattern:
#   stone   rock, cliff, gravel, lava, glacier, granite, marble, slate (RGB)
#   wood    wood grain, bark, cork, parquet (RGB)
#   ground  sand, dirt, desert, mud (RGB)
#   foliage grass, shrubs, forest and crops seen from above (RGB)
#   fabric  canvas, burlap, carpet (RGB)
#   paper   the grain of paper scans (gray): each scan minus its 24-pixel
#           blur (wrapping around, so it still tiles), contrast-stretched,
#           since the scans' own grain (sd 0.01-0.09) samples flat grey.
#
# Architecture, for sampling: a texture's look is its coarse statistics as
# much as its grain, so J=3 (the low-pass is an eighth of the image: its net,
# 48 channels, 10 layers of 3x3, sees 21x21 coarse pixels = 168 image
# pixels), conditional nets of 32 channels, 11 layers, RF 13 (13, 26 and 52
# image pixels at levels 0, 1, 2). Noise sigma 0..255 (quadratic) projected
# on the bands, no clipping (sampling starts from noise), random low-pass
# rescaling, crops that wrap around the (tileable) sources.
#
# One network at a time (cond2, cond1, cond0, then the low-pass net), each a
# stage that resumes from its checkpoint, as scripts/train-photo.sh: state in
# $WIP/tex-NAME.ckpt (the stage in progress) and $WIP/tex-NAME.NET.safetensors
# (the stages done); when the last is done the model, with its sampler knobs,
# goes to $MODELS/NAME.safetensors.
#
# usage: scripts/train-textures.sh [--time-limit SECONDS | --lists] [CLASS ...]
#   CLASS: stone wood ground foliage fabric paper (default: all, in that order)
#   --time-limit: stop (checkpointed) after this long in all, default 86400
#   --lists: only write the class's image lists $WIP/lists/CLASS-{train,val}.txt
#            (and paper's grain), for bench/texture-quality
#   env: COND_STEPS (6000), LOW_STEPS (8000), WPRIOR (build/cli/wprior),
#        WIP (wip), MODELS (models), NICE (15: the photo training comes first)
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: scripts/train-textures.sh [--time-limit SECONDS | --lists] [stone|wood|ground|foliage|fabric|paper ...]" >&2; exit 2; }
limit=86400 only_lists=
case ${1:-} in
--time-limit) limit=${2:-}; shift 2 || usage ;;
--lists) only_lists=1; shift ;;
esac
[[ $limit =~ ^[0-9]+$ ]] || usage
wprior=${WPRIOR:-build/cli/wprior}
WIP=${WIP:-wip}
MODELS=${MODELS:-models}
COND_STEPS=${COND_STEPS:-6000}
LOW_STEPS=${LOW_STEPS:-8000}
NICE=${NICE:-15}
[ -n "$only_lists" ] || [ -x "$wprior" ] || { echo "build first (ninja -C build)" >&2; exit 1; }
for f in data/textures-train.txt data/textures-val.txt; do
    [ -f "$f" ] || { echo "no $f: run scripts/fetch-training-data.sh" >&2; exit 1; }
done
mkdir -p "$WIP/lists" "$MODELS"
end=$(($(date +%s) + limit))
data=$(readlink -f data)

# NAME CHANNELS PATTERN (grep -Ei on the file name) DESCRIPTION
classes=(
    "stone|3|rock|stone|cliff|gravel|lava|glacier|granite|marble|marmor|slate|craters|moonfoot|volcano|Draws seamless (tileable) stone and rock textures, in colour."
    "wood|3|wood|bark|cork|parque|Draws seamless (tileable) wood and bark textures, in colour."
    "ground|3|^(sand|mud)|[-_](sand|dirt|desert|mud)|Draws seamless (tileable) sand, dirt and desert ground, in colour."
    "foliage|3|grass|shrub|forest|crop|tundra|herb|marsh|scrub|heath|pasture|hedge|leaves|savanna|golf|Draws seamless (tileable) grass, shrubs and foliage seen from above, in colour."
    "fabric|3|fabric|canvas|carpet|burlap|couch|Draws seamless (tileable) fabric, canvas and carpet, in colour."
    "paper|1|^(paper_|hr_[a-z]*paper)|Draws seamless (tileable) paper grain, in gray."
)

# lists NAME PATTERN: $WIP/lists/NAME-{train,val}.txt, absolute paths
lists() {
    local s
    for s in train val; do
        grep '^textures/' "data/textures-$s.txt" | awk -F/ -v p="$2" '
            { n = tolower($NF); sub(/\.[^.]*$/, "", n) } n ~ p' | sed "s|^|$data/|" >"$WIP/lists/$1-$s.txt"
        [ -s "$WIP/lists/$1-$s.txt" ] || { echo "class $1: no $s images" >&2; return 1; }
    done
}

# grain: the paper lists' scans high-passed into $WIP/derived/paper/
grain() {
    local s f out
    mkdir -p "$WIP/derived/paper"
    for s in train val; do
        while read -r f; do
            out=$(readlink -f "$WIP/derived/paper")/$(basename "$f")
            [ -f "$out" ] || convert "$f" -colorspace Gray -virtual-pixel tile \
                \( +clone -blur 0x24 \) -compose Mathematics -define compose:args='0,-1,1,0.5' \
                -composite -contrast-stretch 0.5%x0.5% -depth 8 "$out"
            echo "$out"
        done <"$WIP/lists/paper-$s.txt" >"$WIP/lists/paper-$s.grain"
        mv "$WIP/lists/paper-$s.grain" "$WIP/lists/paper-$s.txt"
    done
}

# stage NAME CH DESC NET STEPS [ARGS]: trains network NET into
# $WIP/tex-NAME.NET.safetensors unless that exists; 1 when time is up first.
stage() {
    local name=$1 ch=$2 desc=$3 net=$4 steps=$5 out=$WIP/tex-$1.$4.safetensors left log rc=0
    shift 5
    [ -f "$out" ] && return 0
    left=$((end - $(date +%s)))
    ((left > 60)) || return 1
    log=$(mktemp)
    if [ -f "$WIP/tex-$name.ckpt" ]; then
        nice -n "$NICE" "$wprior" train --resume "$WIP/tex-$name.ckpt" -o "$out.part" \
            --checkpoint "$WIP/tex-$name.ckpt" --log "$WIP/tex-$name.log.jsonl" \
            --time-limit "$left" -q 2> >(tee "$log" >&2) || rc=$?
    else
        nice -n "$NICE" "$wprior" train --preset small --channels "$ch" --levels 3 \
            --width 32 --layers 11 --rf 13 --low-width 48 --low-layers 10 --low-rf 0 \
            --patch 32 --batch 16 --noise 0,255 --noise-dist quadratic --band-noise projected \
            --no-clip --rescale-low --val-every 250 --val-crops 32 --checkpoint-every 100 \
            --data "$WIP/lists/$name-train.txt" --val "$WIP/lists/$name-val.txt" \
            --name "$name" --description "$desc" --only "$net" --steps "$steps" "$@" \
            -o "$out.part" --checkpoint "$WIP/tex-$name.ckpt" --log "$WIP/tex-$name.log.jsonl" \
            --time-limit "$left" -q 2> >(tee "$log" >&2) || rc=$?
    fi
    sleep 1 # the tee of stderr
    if ((rc == 0)) && grep -q '^trained:' "$log"; then
        mv "$out.part" "$out"
        rm -f "$WIP/tex-$name.ckpt" "$log"
        return 0
    fi
    rm -f "$log"
    return 1
}

train() { # NAME CH DESC (lists made)
    local name=$1 ch=$2 desc=$3 base=$WIP/tex-$1
    stage "$name" "$ch" "$desc" cond2 "$COND_STEPS" || return 1
    stage "$name" "$ch" "$desc" cond1 "$COND_STEPS" --base "$base.cond2.safetensors" || return 1
    stage "$name" "$ch" "$desc" cond0 "$COND_STEPS" --base "$base.cond1.safetensors" || return 1
    stage "$name" "$ch" "$desc" low "$LOW_STEPS" --base "$base.cond0.safetensors" || return 1
    # Sampling starts inside the range every net was trained on (projected
    # noise of 255 is 1/8 on the low-pass and on level 2's bands; started
    # at 0.5 the detail nets left coloured noise) and ends at a fine
    # residual: texture lives there.
    # (each stage's metadata names only its own net: say what the whole is)
    "$wprior" meta "$base.low.safetensors" sample.tileable=1 sample.sigma0=0.1 \
        sample.sigma_l=0.005 "training=scripts/train-textures.sh $name: cond2, cond1, cond0 $COND_STEPS steps each, then the low-pass net $LOW_STEPS steps (one a stage), batch 16 of 32x32 band crops, noise quadratic 0..255 projected" \
        -o "$MODELS/$name.safetensors"
    echo "done: $MODELS/$name.safetensors (the $base.* files can go)"
}

[ $# -gt 0 ] || set -- stone wood ground foliage fabric paper
for t in "$@"; do
    found=
    for c in "${classes[@]}"; do
        IFS='|' read -r name ch rest <<<"$c"
        [ "$name" = "$t" ] || continue
        found=1
        desc=${rest##*|}
        pattern=${rest%|*}
        lists "$name" "$pattern"
        [ "$name" != paper ] || grain
        [ -z "$only_lists" ] || continue
        train "$name" "$ch" "$desc" || { echo "stopped (time limit): run again to resume" >&2; exit 0; }
    done
    [ -n "$found" ] || { echo "unknown texture class '$t' (stone wood ground foliage fabric paper)" >&2; exit 2; }
done
