#!/usr/bin/env bash
# fetch-training-data.sh - collect training images for Wavelet Prior from Debian packages.
#
# Usage: scripts/fetch-training-data.sh [--force] [--help]
#
# Every image comes from a Debian package, fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` in a temporary directory (nothing is installed).  The result goes to
#   ${WPRIOR_DATA_DIR:-<repo>/data}/
#     photos/<package>/<file>      photographic wallpapers
#     textures/<package>/<file>    paper textures and GIMP patterns (converted to PNG)
#     manifest.tsv                 file package version licence width height bytes split
#     train.txt, val.txt           paths relative to the data directory
#     .fetch-stamp                 written last; if it is present and every file listed in
#                                  manifest.tsv exists, a rerun does nothing (use --force)
# This script owns photos/, textures/, manifest.tsv, train.txt, val.txt and .fetch-stamp and
# rebuilds them from scratch; anything else in the data directory is left alone.
#
# Selection rules (decided by listing the packages with `dpkg-deb -c` and looking at every
# image of the Debian 12 versions):
#   mate-backgrounds             photos: the JPEG/PNG files of nature/ only.  abstract/ and
#                                desktop/ hold renders, logos, stripes and a painting.
#   plasma-workspace-wallpapers  photos: an explicit allow-list (PLASMA_PHOTOS below); all
#                                other wallpapers are vector art, renders or illustrations.
#                                Only the largest real (non-symlink) file of contents/images/
#                                is kept per wallpaper; the rest are links or the same picture
#                                at a smaller size.  Screenshots are ignored.
#   gnome-backgrounds            photos: JPEG/PNG files only; SVG, XML and WebP are skipped.
#                                Version 43.1 (Debian 12) ships only SVG and WebP renders, so
#                                it contributes nothing there.
#   mypaint-data-extras          textures: every PNG under usr/share/mypaint/backgrounds/
#                                (scanned paper, canvas and cork, CC0).
#   gimp-data                    textures: every pattern under usr/share/gimp/2.0/patterns/.
#                                .pat files are converted to PNG with GIMP in batch mode
#                                (gimp-console-2.10, private GIMP2_DIRECTORY); any that GIMP
#                                did not produce are decoded by a small python3 fallback.
#                                .png/.jpg patterns, if any, are copied as they are.  Output
#                                names are <Category>_<name>.png (e.g. Stone_marble1.png) so
#                                the synthetic Legacy_* ones can be filtered out later.
# Licence: the License: field of the last DEP-5 "Files:" stanza of
#   usr/share/doc/<pkg>/copyright whose pattern matches the end of the installed path;
#   otherwise the first License: field of the file; otherwise "see-copyright".
# Split: `cksum` of the path relative to the data directory, CRC mod 10 == 0 -> val, else train.
#
# Needs bash, apt-get, dpkg-deb, coreutils, awk and identify (imagemagick); gimp-console-2.10
# or python3 for the GIMP patterns (without either they are skipped with a warning).

set -euo pipefail

FORMAT_VERSION=1   # bump when the selection rules change, so that existing data is rebuilt

PACKAGES=(mate-backgrounds plasma-workspace-wallpapers gnome-backgrounds mypaint-data-extras gimp-data)
PLASMA_PHOTOS=(BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite
               OneStandsOut Path summer_1am)

SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
DATA_DIR=${WPRIOR_DATA_DIR:-$SCRIPT_DIR/../data}
[[ -d $DATA_DIR ]] && DATA_DIR=$(cd "$DATA_DIR" && pwd)
STAMP_NAME=.fetch-stamp

die() { echo "fetch-training-data: error: $*" >&2; exit 1; }
note() { echo "fetch-training-data: $*"; }
warn() { echo "fetch-training-data: warning: $*" >&2; }

FORCE=0
for arg in "$@"; do
    case $arg in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) die "unknown argument '$arg' (try --help)" ;;
    esac
done

# ---------------------------------------------------------------------------------------------
summary() {
    local manifest=$1 fmt='  %-42s %6s %6s %6s %9s\n'
    echo
    echo "Summary of $manifest"
    # shellcheck disable=SC2059  # fmt is our own format
    printf "$fmt" "kind/package" files train val MiB
    awk -F'\t' -v fmt="$fmt" 'NR > 1 {
            split($1, p, "/"); k = p[1] "/" $2
            n[k]++; s[k, $8]++; b[k] += $7
        }
        END { for (k in n) printf fmt, k, n[k], s[k, "train"] + 0, s[k, "val"] + 0, sprintf("%.1f", b[k] / 1048576) }' \
        "$manifest" | LC_ALL=C sort
    awk -F'\t' -v fmt="$fmt" 'NR > 1 { t += $7; n++; s[$8]++ }
        END { printf fmt, "total", n, s["train"] + 0, s["val"] + 0, sprintf("%.1f", t / 1048576) }' "$manifest"
    echo "  disk use of $(cd "$(dirname "$manifest")" && pwd): $(du -sh "$(dirname "$manifest")" | cut -f1)"
}

data_complete() {
    local stamp=$DATA_DIR/$STAMP_NAME manifest=$DATA_DIR/manifest.tsv f
    [[ -f $stamp && -f $manifest && -f $DATA_DIR/train.txt && -f $DATA_DIR/val.txt ]] || return 1
    [[ $(head -n1 "$stamp") == "format $FORMAT_VERSION" ]] || return 1
    while IFS=$'\t' read -r f _; do
        [[ -f $DATA_DIR/$f ]] || return 1
    done < <(tail -n +2 "$manifest")
    return 0
}

if [[ $FORCE == 0 ]] && data_complete; then
    note "$DATA_DIR is complete (stamp $STAMP_NAME, format $FORMAT_VERSION); nothing to do (--force rebuilds)."
    summary "$DATA_DIR/manifest.tsv"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
for tool in apt-get apt-cache dpkg-deb identify cksum awk sort cp mktemp du; do
    command -v "$tool" > /dev/null || die "'$tool' is required but not found (apt-get install ${tool/identify/imagemagick})"
done
HAVE_GIMP=0; command -v gimp-console-2.10 > /dev/null && HAVE_GIMP=1
HAVE_PY=0; command -v python3 > /dev/null && HAVE_PY=1
if [[ $HAVE_GIMP == 0 && $HAVE_PY == 0 ]]; then
    warn "neither gimp-console-2.10 nor python3 found: GIMP .pat patterns will be skipped"
fi

mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wprior-fetch.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DEBS=$WORK/debs; STAGE=$WORK/stage; OUT=$WORK/out
mkdir -p "$DEBS" "$STAGE" "$OUT/photos" "$OUT/textures"
ROWS=$WORK/rows.tsv   # file package version licence width height bytes split (no header)
: > "$ROWS"

APT_OPTS=()
# As root apt drops to the _apt user, which cannot write into our private temp dir.
[[ $(id -u) == 0 ]] && APT_OPTS=(-o APT::Sandbox::User=root)
UPDATED=0

# download PKG into $DEBS; sets DEB to the .deb path, or to "" when the package is unavailable
download() {
    local pkg=$1
    DEB=""
    if ! (cd "$DEBS" && apt-get "${APT_OPTS[@]}" -q download "$pkg") > "$WORK/apt-$pkg.log" 2>&1; then
        if [[ $UPDATED == 0 && $(id -u) == 0 ]]; then
            note "apt-get download $pkg failed; running apt-get update once and retrying" >&2
            apt-get -q update > "$WORK/apt-update.log" 2>&1 || warn "apt-get update failed (see below)"
            UPDATED=1
            (cd "$DEBS" && apt-get "${APT_OPTS[@]}" -q download "$pkg") > "$WORK/apt-$pkg.log" 2>&1 || true
        fi
    fi
    DEB=$(find "$DEBS" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)
    [[ -n $DEB ]] || sed 's/^/    /' "$WORK/apt-$pkg.log" >&2
    return 0
}

# Write "glob<TAB>licence" lines of the DEP-5 Files: stanzas of copyright file $1 to $2,
# and return the first License: field (or see-copyright) on stdout.
parse_copyright() {
    local file=$1 out=$2 line globs="" in_files=0 first=""
    : > "$out"
    [[ -f $file ]] || { echo see-copyright; return; }
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        if [[ $line =~ ^Files:[[:space:]]*(.*)$ ]]; then
            globs=${BASH_REMATCH[1]}; in_files=1
        elif [[ $line =~ ^[[:space:]]+([^[:space:]].*)$ && $in_files == 1 ]]; then
            globs+=" ${BASH_REMATCH[1]}"
        elif [[ $line =~ ^License:[[:space:]]*(.*[^[:space:]])[[:space:]]*$ ]]; then
            [[ -z $first ]] && first=${BASH_REMATCH[1]}
            [[ -n $globs ]] && printf '%s\t%s\n' "$globs" "${BASH_REMATCH[1]}" >> "$out"
            in_files=0
        elif [[ -z ${line//[[:space:]]/} ]]; then
            globs=""; in_files=0
        else
            in_files=0
        fi
    done < "$file"
    echo "${first:-see-copyright}"
}

# licence_for INSTALLED_PATH STANZAS FALLBACK: last matching stanza wins (DEP-5 rule)
licence_for() {
    local path=/$1 stanzas=$2 lic=$3 globs l g
    local -a arr
    while IFS=$'\t' read -r globs l; do
        read -r -a arr <<< "$globs"
        for g in "${arr[@]}"; do
            # shellcheck disable=SC2053  # g is a pattern on purpose
            if [[ $path == */$g ]]; then lic=$l; break; fi
        done
    done < "$stanzas"
    echo "$lic"
}

# add_file SRC KIND PKG NAME VERSION LICENCE: copy SRC to $OUT/KIND/PKG/NAME and record it
add_file() {
    local src=$1 kind=$2 pkg=$3 name=${4// /_} version=$5 lic=$6 rel dst wh bytes split crc
    rel=$kind/$pkg/$name
    dst=$OUT/$rel
    mkdir -p "$(dirname "$dst")"
    [[ $src == "$dst" ]] || cp "$src" "$dst"
    wh=$(identify -format '%w %h' "${dst}[0]" 2>/dev/null) || { warn "identify failed on $src, skipped"; rm -f "$dst"; return 0; }
    wh=${wh// /$'\t'}
    bytes=$(stat -c %s "$dst")
    crc=$(printf '%s' "$rel" | cksum | cut -d' ' -f1)
    if (( crc % 10 == 0 )); then split='val'; else split='train'; fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rel" "$pkg" "$version" "$lic" "$wh" "$bytes" "$split" >> "$ROWS"
}

# Convert .pat files listed (src<TAB>dst per line) in $1 to PNG; GIMP first, python3 fallback.
convert_patterns() {
    local list=$1 src dst missing=0
    if [[ $HAVE_GIMP == 1 ]]; then
        local prof=$WORK/gimp-profile scm=$WORK/pat2png.scm d
        for d in brushes dynamics gradients palettes patterns tool-presets mypaint-brushes fonts; do
            mkdir -p "$prof/$d"
        done
        {
            echo '(define (wprior-pat2png in out)'
            echo '  (let* ((img (car (file-pat-load RUN-NONINTERACTIVE in in)))'
            echo '         (drw (car (gimp-image-get-active-drawable img))))'
            echo '    (file-png-save2 RUN-NONINTERACTIVE img drw out out 0 9 0 0 0 0 0 0 0)'
            echo '    (gimp-image-delete img)))'
            while IFS=$'\t' read -r src dst; do
                src=${src//\\/\\\\}; src=${src//\"/\\\"}; dst=${dst//\\/\\\\}; dst=${dst//\"/\\\"}
                printf '(wprior-pat2png "%s" "%s")\n' "$src" "$dst"
            done < "$list"
        } > "$scm"
        # gimp-console exits 0 even when the script fails: the outputs are checked below.
        GIMP2_DIRECTORY=$prof gimp-console-2.10 -i -d -f \
            -b "(load \"$scm\")" -b '(gimp-quit 0)' > "$WORK/gimp.log" 2>&1 || true
    fi
    while IFS=$'\t' read -r src dst; do [[ -s $dst ]] || missing=$((missing + 1)); done < "$list"
    if [[ $HAVE_GIMP == 1 ]]; then
        note "  GIMP converted $(( $(wc -l < "$list") - missing )) of $(wc -l < "$list") patterns"
        (( missing == 0 )) || tail -n 5 "$WORK/gimp.log" | sed 's/^/    gimp: /' >&2
    fi
    (( missing == 0 )) && return 0
    if [[ $HAVE_PY == 0 ]]; then
        warn "$missing patterns could not be converted (no python3 for the fallback decoder)"
        return 0
    fi
    note "  decoding $missing patterns with the python3 fallback"
    python3 - "$list" <<'EOF'
# Minimal GIMP .pat reader / PNG writer (fallback when GIMP could not convert a pattern).
# .pat: big-endian u32 header_size, version (1), width, height, bytes per pixel, "GPAT", name;
# header_size bytes from the start, then width*height*bpp raw 8-bit pixels.
import os, struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
for line in open(sys.argv[1], encoding="utf-8"):
    src, dst = line.rstrip("\n").split("\t")
    if os.path.exists(dst) and os.path.getsize(dst) > 0:
        continue
    try:
        raw = open(src, "rb").read()
        hsize, version, w, h, bpp = struct.unpack(">5I", raw[:20])
        if raw[20:24] != b"GPAT" or version != 1 or bpp not in (1, 2, 3, 4) or w == 0 or h == 0:
            raise ValueError("not a version 1 GPAT file")
        pix = raw[hsize:hsize + w * h * bpp]
        if len(pix) != w * h * bpp:
            raise ValueError("truncated pixel data")
        stride = w * bpp
        rows = b"".join(b"\0" + pix[y * stride:(y + 1) * stride] for y in range(h))
        ctype = {1: 0, 2: 4, 3: 2, 4: 6}[bpp]
        png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">2I5B", w, h, 8, ctype, 0, 0, 0))
               + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
        open(dst, "wb").write(png)
    except Exception as e:  # report and go on with the others
        print(f"fetch-training-data: warning: cannot decode {src}: {e}", file=sys.stderr)
EOF
}

# ---------------------------------------------------------------------------------------------
MISSING=()
for pkg in "${PACKAGES[@]}"; do
    download "$pkg"
    deb=$DEB
    if [[ -z $deb ]]; then
        warn "package $pkg is not available from the configured Debian archive; skipping it"
        MISSING+=("$pkg")
        continue
    fi
    version=$(dpkg-deb -f "$deb" Version)
    root=$STAGE/$pkg
    mkdir -p "$root"
    dpkg-deb -x "$deb" "$root"
    note "$pkg $version: unpacked"
    stanzas=$WORK/$pkg.dep5
    fallback=$(parse_copyright "$root/usr/share/doc/$pkg/copyright" "$stanzas")
    before=$(wc -l < "$ROWS")

    case $pkg in
    mate-backgrounds)
        while IFS= read -r -d '' f; do
            rel=${f#"$root"/}
            add_file "$f" photos "$pkg" "$(basename "$f")" "$version" "$(licence_for "$rel" "$stanzas" "$fallback")"
        done < <(find "$root/usr/share/backgrounds/mate/nature" -type f \
                      \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) -print0 2>/dev/null | sort -z)
        ;;
    plasma-workspace-wallpapers)
        for wp in "${PLASMA_PHOTOS[@]}"; do
            dir=$root/usr/share/wallpapers/$wp/contents/images
            best=""; best_area=0
            while IFS= read -r -d '' f; do
                wh=$(identify -format '%w %h' "${f}[0]" 2>/dev/null) || continue
                area=$(( ${wh% *} * ${wh#* } ))
                if (( area > best_area )); then best=$f; best_area=$area; fi
            done < <(find "$dir" -maxdepth 1 -type f \
                          \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) -print0 2>/dev/null)
            if [[ -z $best ]]; then warn "plasma wallpaper $wp not found in $version"; continue; fi
            ext=${best##*.}
            add_file "$best" photos "$pkg" "$wp.${ext,,}" "$version" \
                     "$(licence_for "${best#"$root"/}" "$stanzas" "$fallback")"
        done
        ;;
    gnome-backgrounds)
        while IFS= read -r -d '' f; do
            rel=${f#"$root"/}
            add_file "$f" photos "$pkg" "$(basename "$f")" "$version" "$(licence_for "$rel" "$stanzas" "$fallback")"
        done < <(find "$root/usr/share/backgrounds" -type f \
                      \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) -print0 2>/dev/null | sort -z)
        ;;
    mypaint-data-extras)
        while IFS= read -r -d '' f; do
            rel=${f#"$root"/}
            add_file "$f" textures "$pkg" "$(basename "$f")" "$version" "$(licence_for "$rel" "$stanzas" "$fallback")"
        done < <(find "$root/usr/share/mypaint/backgrounds" -type f -iname '*.png' -print0 2>/dev/null | sort -z)
        ;;
    gimp-data)
        pdir=$root/usr/share/gimp/2.0/patterns
        patlist=$WORK/patterns.list; : > "$patlist"
        mkdir -p "$OUT/textures/$pkg"
        while IFS= read -r -d '' f; do
            rel=${f#"$pdir"/}; name=${rel//\//_}
            case ${f,,} in
                *.pat) printf '%s\t%s\n' "$f" "$OUT/textures/$pkg/${name%.*}.png" >> "$patlist" ;;
                *.png|*.jpg|*.jpeg)
                    add_file "$f" textures "$pkg" "$name" "$version" \
                             "$(licence_for "${f#"$root"/}" "$stanzas" "$fallback")" ;;
            esac
        done < <(find "$pdir" -type f -print0 2>/dev/null | sort -z)
        if [[ -s $patlist ]] && [[ $HAVE_GIMP == 1 || $HAVE_PY == 1 ]]; then
            convert_patterns "$patlist"
            while IFS=$'\t' read -r src dst; do
                [[ -s $dst ]] || continue
                add_file "$dst" textures "$pkg" "$(basename "$dst")" "$version" \
                         "$(licence_for "${src#"$root"/}" "$stanzas" "$fallback")"
            done < "$patlist"
        fi
        ;;
    esac
    n=$(( $(wc -l < "$ROWS") - before ))
    note "$pkg $version: $n images kept"
    if [[ $pkg == gnome-backgrounds && $n == 0 ]]; then
        note "  (this version ships only SVG/WebP illustrations and renders, no photographs)"
    fi
    rm -rf "$root"
done

[[ -s $ROWS ]] || die "no images collected"

# ---------------------------------------------------------------------------------------------
# Install the result: replace what this script owns in $DATA_DIR.
rm -f "$DATA_DIR/$STAMP_NAME"
rm -rf "$DATA_DIR/photos" "$DATA_DIR/textures"
mv "$OUT/photos" "$OUT/textures" "$DATA_DIR/"
{
    printf 'file\tpackage\tversion\tlicence\twidth\theight\tbytes\tsplit\n'
    LC_ALL=C sort "$ROWS"
} > "$DATA_DIR/manifest.tsv"
awk -F'\t' '$8 == "train" { print $1 }' "$DATA_DIR/manifest.tsv" | LC_ALL=C sort > "$DATA_DIR/train.txt"
awk -F'\t' '$8 == "val" { print $1 }' "$DATA_DIR/manifest.tsv" | LC_ALL=C sort > "$DATA_DIR/val.txt"
{
    echo "format $FORMAT_VERSION"
    awk -F'\t' 'NR > 1 { print "package " $2 " " $3 }' "$DATA_DIR/manifest.tsv" | sort -u
    for m in "${MISSING[@]}"; do echo "missing $m"; done
} > "$DATA_DIR/$STAMP_NAME"

(( ${#MISSING[@]} == 0 )) || warn "packages not available: ${MISSING[*]}"
note "done: $DATA_DIR"
summary "$DATA_DIR/manifest.tsv"
