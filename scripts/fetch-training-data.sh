#!/usr/bin/env bash
# fetch-training-data.sh - build Wavelet Prior's training corpus of free photographs and
# photographic textures from Debian packages.
#
# Usage: scripts/fetch-training-data.sh [--force] [--check] [--help]
#   --force   rebuild even when the data directory is complete (downloads stay cached)
#   --check   verify an existing corpus against its manifest (sizes, checksums, lists,
#             validation coverage) without network; exit 77 when there is no corpus
#   WPRIOR_CORPUS_PACKAGES="pkg ..."  build from these sources only (a quick partial corpus)
#   WPRIOR_CORPUS_JOBS=N              worker processes for the preparation (default 2)
#   WPRIOR_CORPUS_SPLIT_FROM=DIR      the corpus whose split to keep (default: the data directory's
#                                     own manifest.tsv, when there is one; "none": ignore it)
#
# Every image comes from a Debian package, fetched with `apt-get download` and unpacked with
# `dpkg-deb --fsys-tarfile | tar` in a temporary directory (nothing is installed but the
# tools below).  Debian 12 (bookworm) packages come through the host's apt sources; Debian 13
# (trixie) ones through a private apt configuration (own sources.list, state and cache in the
# data directory's .cache/), so the host's sources stay untouched.  The result goes to
#   ${WPRIOR_DATA_DIR:-<repo>/data}/
#     photos/<package>/<name>.png    real scenes, cleaned (see below)
#     textures/<package>/<name>.png  photographic material textures, cleaned
#     manifest.tsv     file package version suite licence credit category tag width height
#                      bytes split sha256 source src_width src_height factor noise blockiness
#     rejects.tsv      what was left out and why (transparent, small, normal map, noise,
#                      duplicate of ...)
#     train.txt, val.txt, photos-{train,val}.txt, textures-{train,val}.txt
#                      paths relative to the data directory
#     .cache/          downloaded .deb files and the private apt state (reused by reruns)
#     .fetch-stamp     written last; if it is present and every file listed in manifest.tsv
#                      exists, a rerun does nothing (use --force)
# The sources, the per-package selection and the cleaning rules are in scripts/corpus.py
# (SOURCES), with allow-lists judged by eye in scripts/corpus-allow/.
#
# Cleaning: every image is decoded in full and box-downscaled by an integer factor (the
# average of the 8-bit gamma-coded sRGB values; PIL's reduce()): 2 for photographs, 4 for
# DXT-compressed textures and for JPEGs whose 8x8 block edges stand out (blockiness above
# BLOCKY_MAX); 1 only for the small lossless GIMP and MyPaint patterns and for a few photographs
# upstream already downscaled, kept for their small print (validation).  An image whose own
# noise estimate after downscaling (median |HH| / 0.6745 of the finest Haar diagonal band,
# as `wprior denoise` prints, 0-255 scale) exceeds NOISE_MAX is rejected.  Near-duplicates
# (64-bit dHash within 6 bits; the same picture at several resolutions) count once: the
# largest is kept.  Images with transparency, normal maps and images smaller than 512 pixels
# on the short side are rejected.
# Licence: the License: (and Copyright:, as the credit) of the last DEP-5 "Files:" stanza of
#   usr/share/doc/<pkg>/copyright whose pattern matches the end of the path in the package;
#   otherwise the first License: field; the few copyright files that are not machine-readable
#   have their licence checked by hand in SOURCES.
# Split: fixed by image: sha1(package/path) mod 10 == 0 -> val, plus a short explicit list
#   (VAL_EXTRA, with the small-print images); an image of the previous corpus
#   (WPRIOR_CORPUS_SPLIT_FROM) keeps its split whatever the rules say, so that adding packages
#   never moves an image a training run has seen; then, for each content tag of VAL_TAGS
#   without a validation image, its new image with the smallest hash.  `corpus.py add DATA PART`
#   adds the new validation images of a partial corpus (WPRIOR_CORPUS_PACKAGES, built with
#   WPRIOR_CORPUS_SPLIT_FROM=DATA) to DATA without a rebuild.
# Contact sheets: bench/results/corpus-<package>.jpg (validation images framed in red).
#
# Needs bash, apt-get, dpkg-deb, tar, coreutils and Debian's python3 with python3-pil and
# python3-numpy (installed with apt-get when missing and run as root).

set -euo pipefail

FORMAT_VERSION=3   # bump when the selection rules change, so that existing data is rebuilt

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
DATA_DIR=${WPRIOR_DATA_DIR:-$REPO_DIR/data}
[[ -d $DATA_DIR ]] && DATA_DIR=$(cd "$DATA_DIR" && pwd)
SHEETS_DIR=$REPO_DIR/bench/results
STAMP_NAME=.fetch-stamp
PY=/usr/bin/python3   # Debian's python3, where python3-pil and python3-numpy are installed
CORPUS=$SCRIPT_DIR/corpus.py
read -r -a ONLY <<< "${WPRIOR_CORPUS_PACKAGES:-}"

die() { echo "fetch-training-data: error: $*" >&2; exit 1; }
note() { echo "fetch-training-data: $*"; }
warn() { echo "fetch-training-data: warning: $*" >&2; }

FORCE=0; CHECK=0
for arg in "$@"; do
    case $arg in
        --force) FORCE=1 ;;
        --check) CHECK=1 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown argument '$arg' (try --help)" ;;
    esac
done

have_python() { [[ -x $PY ]] && "$PY" -c 'import PIL, numpy' 2> /dev/null; }

if [[ $CHECK == 1 ]]; then
    have_python || { echo "fetch-training-data: $PY with PIL and numpy not found; cannot check"; exit 77; }
    [[ -f $DATA_DIR/manifest.tsv ]] || { echo "fetch-training-data: no corpus in $DATA_DIR"; exit 77; }
    exec "$PY" "$CORPUS" check "$DATA_DIR"
fi

data_complete() {
    local stamp=$DATA_DIR/$STAMP_NAME manifest=$DATA_DIR/manifest.tsv f
    [[ -f $stamp && -f $manifest && -f $DATA_DIR/train.txt && -f $DATA_DIR/val.txt ]] || return 1
    [[ $(head -n1 "$stamp") == "format $FORMAT_VERSION" ]] || return 1
    [[ $(sed -n 2p "$stamp") == "packages ${ONLY[*]:-all}" ]] || return 1
    while IFS=$'\t' read -r f _; do
        [[ -f $DATA_DIR/$f ]] || return 1
    done < <(tail -n +2 "$manifest")
    return 0
}

if [[ $FORCE == 0 ]] && data_complete && have_python; then
    note "$DATA_DIR is complete (stamp $STAMP_NAME, format $FORMAT_VERSION); nothing to do (--force rebuilds)."
    "$PY" "$CORPUS" summary "$DATA_DIR"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
START=$(date +%s)
for tool in apt-get apt-cache dpkg-deb tar mktemp; do
    command -v "$tool" > /dev/null || die "'$tool' is required but not found"
done
if ! have_python; then
    [[ $(id -u) == 0 ]] || die "$PY with python3-pil and python3-numpy is required (apt-get install python3-pil python3-numpy)"
    note "installing python3-pil and python3-numpy (needed to decode and clean the images)"
    apt-get install -y -q --no-install-recommends python3-pil python3-numpy > /dev/null \
        || die "apt-get install python3-pil python3-numpy failed"
fi

mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)
CACHE=$DATA_DIR/.cache
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wprior-fetch.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM   # so that the EXIT trap cleans up

APT_OPTS=()
# As root apt drops to the _apt user, which cannot write into our private folders.
[[ $(id -u) == 0 ]] && APT_OPTS=(-o APT::Sandbox::User=root)

# The private apt configuration of a suite other than the host's (Debian 13 here).
suite_opts() {
    local suite=$1 dir=$CACHE/apt-$1
    SUITE_OPTS=()
    [[ $suite == bookworm ]] && return 0
    SUITE_OPTS=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
                -o "Dir::State=$dir/state" -o "Dir::State::status=$dir/state/status"
                -o "Dir::Cache=$dir/cache" -o Debug::NoLocking=1)
    if [[ ! -f $dir/state/updated ]]; then
        mkdir -p "$dir/state/lists/partial" "$dir/cache/archives/partial"
        : > "$dir/state/status"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
            > "$dir/sources.list"
        note "apt-get update for $suite (private configuration in $dir)"
        apt-get "${APT_OPTS[@]}" "${SUITE_OPTS[@]}" -q update > "$WORK/apt-update-$suite.log" 2>&1 \
            || { sed 's/^/    /' "$WORK/apt-update-$suite.log" >&2; die "apt-get update for $suite failed"; }
        date +%s > "$dir/state/updated"
    fi
}

# versions SUITE PKG...: "package version" lines of the candidates (one apt-cache call: it is slow)
versions() {
    local suite=$1; shift
    suite_opts "$suite"
    apt-cache "${APT_OPTS[@]}" "${SUITE_OPTS[@]}" show --no-all-versions "$@" 2> /dev/null \
        | awk '/^Package: /{ p = $2 } /^Version: /{ print p, $2 }'
}

# download PKG SUITE VERSION into $CACHE/debs/SUITE unless that version is there already
download() {
    local pkg=$1 suite=$2 ver=$3 dir=$CACHE/debs/$2
    mkdir -p "$dir"
    compgen -G "$dir/${pkg}_${ver//:/%3a}_*.deb" > /dev/null && return 0
    rm -f "$dir/${pkg}"_*.deb
    suite_opts "$suite"
    (cd "$dir" && apt-get "${APT_OPTS[@]}" "${SUITE_OPTS[@]}" -q download "$pkg") > "$WORK/apt-$pkg.log" 2>&1 \
        || { sed 's/^/    /' "$WORK/apt-$pkg.log" >&2; warn "apt-get download $pkg ($suite) failed; skipping it"; }
}

declare -A WANT=()
while read -r pkg suite; do WANT[$pkg]=$suite; done < <("$PY" "$CORPUS" packages "${ONLY[@]}")
for suite in $(printf '%s\n' "${WANT[@]}" | sort -u); do
    pkgs=(); for pkg in "${!WANT[@]}"; do [[ ${WANT[$pkg]} == "$suite" ]] && pkgs+=("$pkg"); done
    declare -A VER=()
    while read -r pkg ver; do VER[$pkg]=$ver; done < <(versions "$suite" "${pkgs[@]}")
    missing=(); for pkg in "${pkgs[@]}"; do [[ -n ${VER[$pkg]:-} ]] || missing+=("$pkg"); done
    if (( ${#missing[@]} > 0 )) && [[ $suite == bookworm && $(id -u) == 0 ]]; then
        note "${missing[*]} unknown to apt; running apt-get update once"
        apt-get -q update > "$WORK/apt-update.log" 2>&1 || warn "apt-get update failed"
        while read -r pkg ver; do VER[$pkg]=$ver; done < <(versions "$suite" "${missing[@]}")
    fi
    for pkg in "${pkgs[@]}"; do
        if [[ -z ${VER[$pkg]:-} ]]; then warn "package $pkg is not in $suite; skipping it"; continue; fi
        download "$pkg" "$suite" "${VER[$pkg]}"
    done
    unset VER
done
note "downloads done in $(( $(date +%s) - START )) s ($(du -sh "$CACHE/debs" | cut -f1) cached in $CACHE/debs)"

# ---------------------------------------------------------------------------------------------
# Prepare into a staging folder, then replace what this script owns in $DATA_DIR.
NEW=$DATA_DIR/.staging
rm -rf "$NEW"
mkdir -p "$NEW"
WPRIOR_CORPUS_SPLIT_FROM=${WPRIOR_CORPUS_SPLIT_FROM:-$DATA_DIR} nice -n 5 "$PY" "$CORPUS" prepare "$CACHE/debs" "$NEW" "$WORK" "$SHEETS_DIR" "${ONLY[@]}"
rm -f "$DATA_DIR/$STAMP_NAME"
for d in photos textures; do
    rm -rf "$DATA_DIR/$d"
    [[ -d $NEW/$d ]] && mv "$NEW/$d" "$DATA_DIR/"
done
for f in manifest.tsv rejects.tsv train.txt val.txt photos-train.txt photos-val.txt \
         textures-train.txt textures-val.txt; do
    mv "$NEW/$f" "$DATA_DIR/$f"
done
rm -rf "$NEW"
{
    echo "format $FORMAT_VERSION"
    echo "packages ${ONLY[*]:-all}"
    awk -F'\t' 'NR > 1 { print "package " $2 " " $3 " " $4 }' "$DATA_DIR/manifest.tsv" | sort -u
} > "$DATA_DIR/$STAMP_NAME"

note "done in $(( $(date +%s) - START )) s: $DATA_DIR (contact sheets in $SHEETS_DIR/corpus-*.jpg)"
"$PY" "$CORPUS" summary "$DATA_DIR"
