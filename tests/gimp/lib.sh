# lib.sh: shared set-up of the GIMP tests (sourced).
# Needs: PLUGIN (built plug-in), WPRIOR (CLI); the source tree (its shipped
# face prior and tests/data).
# Everything happens in a temporary folder: GIMP's profile, HOME, models.

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

# Without GIMP (or an X server for the dialogs) the tests skip; the other
# tools come with scripts/install-deps.sh, so missing them is a failure.
need_program() {
    command -v "$1" >/dev/null || { echo "SKIP: $1 not installed"; exit 77; }
}
require_program() {
    command -v "$1" >/dev/null || { echo "FAIL: $1 not installed (scripts/install-deps.sh)"; exit 1; }
}

# A fresh GIMP profile, initialised by one run before the plug-in goes in.
setup_gimp() {
    T=$(mktemp -d /tmp/wprior-gimp-XXXXXX)
    [ -n "${KEEP_T:-}" ] || trap 'rm -rf "$T"' EXIT
    export HOME=$T/home XDG_CONFIG_HOME=$T/config XDG_CACHE_HOME=$T/cache XDG_DATA_HOME=$T/data
    export GIMP2_DIRECTORY=$T/gimp
    mkdir -p "$HOME"
    local t0=$SECONDS
    if ! timeout 300 gimp-console-2.10 -i -d -f -b '(gimp-quit 0)' >"$T/init.log" 2>&1; then
        echo "GIMP does not start:"; cat "$T/init.log"; exit 1
    fi
    echo "     (a new GIMP profile: $((SECONDS - t0)) s)"
    mkdir -p "$GIMP2_DIRECTORY/plug-ins/wavelet-prior/help"
    cp "$PLUGIN" "$GIMP2_DIRECTORY/plug-ins/wavelet-prior/wavelet-prior"
    cp -r "$SRC/help/en" "$GIMP2_DIRECTORY/plug-ins/wavelet-prior/help/" # as meson installs it
}

# find_window [xdotool search options] PATTERN: prints the first window
# whose name matches (status 1: none).  xdotool dies of BadWindow when a
# window vanishes while it searches (a tooltip, a progress window), with
# no answer: such a search runs again.
find_window() {
    local out
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        out=$(xdotool search "$@" 2>"$T/xdotool.err")
        if ! grep -q "X Error" "$T/xdotool.err"; then
            [ -n "$out" ] || return 1
            echo "${out%%$'\n'*}"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# wait_window SECONDS [options] PATTERN: waits for such a window, prints it.
wait_window() {
    local end=$((SECONDS + $1))
    shift
    while [ "$SECONDS" -lt "$end" ]; do
        find_window "$@" && return 0
        sleep 0.2
    done
    return 1
}

# focus WINDOW [X Y]: keyboard focus (there is no window manager; the
# pointer goes there too, at X,Y in the window, as X gives focus to the
# window under it).
focus() {
    xdotool mousemove --window "$1" "${2:-40}" "${3:-40}"
    xdotool windowfocus "$1" 2>/dev/null
}

# help_check NAME PROC PLUGIN_DIR: F1 in the dialog $WID asks for PROC's
# help page, installed in PLUGIN_DIR/help (the dialogs only report it
# under test: nothing is launched).
help_check() {
    local line= file
    focus "$WID"
    xdotool key F1
    for _ in $(seq 300); do
        line=$(grep "^help $1 " "$T/report.txt" | tail -1)
        [ -n "$line" ] && break
        sleep 0.2
    done
    file=${line#help $1 file://}
    if [ "${file#$3/help/}" != "$file" ] && grep -q "<code>$2</code>" "$file" 2>/dev/null; then
        ok "$1: F1 opens its installed help page (${file#$3/})"
    else
        bad "$1: F1 asked for '${line:-nothing}'"
    fi
}

# zoom_check NAME KEYS SCALE: KEYS (xdotool key names, or "wheel-up" over
# the preview) zoom the dialog $WID's preview, which is computed again and
# drawn at SCALE screen pixels per pixel of the result.
zoom_check() {
    local name=$1 keys=$2 want=$3 line=
    local before
    before=$(grep "^preview $name " "$T/report.txt" | tail -1)
    : >"$T/report.txt"
    if [ "$keys" = wheel-up ]; then
        set -- $before
        xdotool mousemove --window "$WID" $(($3 + $5 / 2)) $(($4 + $6 / 2)) click 4
        xdotool mousemove 1279 899
    else
        focus "$WID"
        xdotool key "$keys"
        xdotool mousemove 1279 899
    fi
    for _ in $(seq 300); do
        line=$(grep "^preview $name " "$T/report.txt" | tail -1)
        [ -n "$line" ] && break
        sleep 0.2
    done
    set -- $line
    if [ -n "$line" ] && awk -v s="${7:-0}" -v w="$want" 'BEGIN { exit !(s == w) }'; then
        ok "$name: $keys zooms the preview to scale $7 (${5}x$6 drawn)"
    else
        bad "$name: $keys: preview '${line:-not drawn again}', wanted scale $want"
    fi
}

# The shipped face prior (the paper's J=2 face denoisers, samples 160x160 by
# default) in $T/models, under a name of its own and with its ascent capped
# at 60 steps a level so that samples stay quick under load.
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
import_models() {
    mkdir -p "$T/models"
    export WPRIOR_MODEL_PATH=$T/models
    MODEL=$T/models/face160.safetensors
    export WPRIOR_MODEL=$MODEL # the default when no model is named (else the shipped ones)
    "$WPRIOR" meta "$SRC/models/face-gray.safetensors" "name=Faces 160 (gray, J=2)" \
        "description=The paper's CelebA face prior." sample.max_iter=60 -o "$MODEL" >/dev/null || exit 1
}

# Small noisy test images from the reference face (tests/data): RGB, RGBA,
# gray, gray+alpha.
make_images() {
    local R=$SRC/tests/data
    convert "$R/astronaut_face160.png" +repage -crop 96x80+30+40 +repage -colorspace sRGB \
        -type TrueColor -channel R -evaluate multiply 0.85 -channel B -evaluate add 8% +channel \
        -seed 7 -attenuate 1.5 +noise Gaussian -define png:color-type=2 "$T/rgb.png"
    convert "$T/rgb.png" \( -size 80x96 gradient:white-gray40 -rotate 90 \) \
        -compose CopyOpacity -composite -define png:color-type=6 "$T/rgba.png"
    convert "$R/astronaut_face160_noisy25.png" +repage -crop 96x80+30+40 +repage \
        -define png:color-type=0 "$T/gray.png"
    convert "$T/gray.png" \( -size 80x96 gradient:white-gray40 -rotate 90 \) \
        -compose CopyOpacity -composite -define png:color-type=4 "$T/graya.png"
}

# tex-rgb.png and tex-gray.png: blurred noise, the same statistics
# everywhere (for Texture from Selection).
make_textures() {
    convert -size 96x80 xc:'rgb(150,110,80)' -seed 3 -attenuate 4 +noise Gaussian -blur 0x1.2 \
        -define png:color-type=2 "$T/tex-rgb.png"
    convert "$T/tex-rgb.png" -colorspace Gray -define png:color-type=0 "$T/tex-gray.png"
}

# check_texture_gray: the gray texture (TEXTURE, 96x80 from the 48x40
# selection at 8,12 of tex-gray.png, seed 5, tileable) equals `wprior
# sample --exemplar` within 1/255.
check_texture_gray() {
    convert "$T/tex-gray.png" -crop 48x40+8+12 +repage "$T/gray-exemplar.png"
    "$WPRIOR" sample -m "$MODEL" --exemplar "$T/gray-exemplar.png" --size 96x80 --seed 5 --tileable \
        "$T/cli-texture.png" >/dev/null 2>&1
    convert "$1" -strip -alpha off -colorspace Gray -define png:color-type=0 "$T/texture-g.png"
    expect_cmp "texture gray equals wprior sample --exemplar within 1/255" 0.00393 1 \
        "$T/cli-texture.png" "$T/texture-g.png"
}

# Script-Fu helpers put in front of every batch command (joined into one
# line by the dialog test: no ; comments in it).  `open` loads each kind
# once and duplicates it after: every file-png call is a plug-in process,
# about a CPU second each.
SF_PRELUDE='
(define (check what ok) (gimp-message (string-append (if ok "CHECK-OK " "CHECK-FAIL ") what)))
(define (path name) (string-append TDIR "/" name))
(define (load name) (car (file-png-load RUN-NONINTERACTIVE (path name) name)))
(define (save img d name) (file-png-save2 RUN-NONINTERACTIVE img d (path name) name 0 1 0 0 0 0 0 0 0))
(define (active img) (car (gimp-image-get-active-drawable img)))
(define loaded (list))
(define (open kind)
  (let ((hit (assoc kind loaded)))
    (if hit
        (car (gimp-image-duplicate (cdr hit)))
        (let ((img (load (if (equal? kind "rgb16") "rgb.png" (string-append kind ".png")))))
          (if (equal? kind "rgb16") (gimp-image-convert-precision img PRECISION-U16-GAMMA))
          (set! loaded (cons (cons kind img) loaded))
          (car (gimp-image-duplicate img))))))
(define (size-is d w h) (and (= (car (gimp-drawable-width d)) w) (= (car (gimp-drawable-height d)) h)))
(define (offsets-are d x y) (equal? (gimp-drawable-offsets d) (list x y)))
(define (nlayers img) (car (gimp-image-get-layers img)))
'

# gimp_batch NAME SCHEME: runs SCHEME (one command; the prelude is put in
# front) in gimp-console, log in $T/NAME.log.  Reports GIMP's own failure,
# an execution error and every CHECK line.
gimp_batch() {
    local name=$1 body=$2 log=$T/$1.log t0=$SECONDS
    local prelude="(define TDIR \"$T\") (define MODEL \"${MODEL:-}\") $SF_PRELUDE"
    if ! timeout "${GIMP_TIMEOUT:-600}" gimp-console-2.10 -i -d -f \
        -b "(begin $prelude $body)" -b '(gimp-quit 0)' >"$log" 2>&1; then
        bad "$name: gimp-console failed or timed out"; tail -20 "$log"; return
    fi
    if grep -q "execution error" "$log"; then
        bad "$name: execution error"; grep -A3 "execution error" "$log"
    fi
    while read -r line; do
        case $line in
        *CHECK-OK*) ok "$name: ${line#*CHECK-OK }" ;;
        *CHECK-FAIL*) bad "$name: ${line#*CHECK-FAIL }" ;;
        esac
    done < <(grep -a "CHECK-" "$log")
    echo "     ($name: $((SECONDS - t0)) s in GIMP)"
}

# expect_cmp NAME MAXLIMIT MEANLIMIT A B [imgcmp options]: the difference
# of two PNGs is at most the limits.
expect_cmp() {
    local name=$1 maxlim=$2 meanlim=$3 a=$4 b=$5
    shift 5
    local r
    if ! r=$("$IMGCMP" "$a" "$b" "$@" 2>&1); then
        bad "$name: $r"; return
    fi
    if awk -v r="$r" -v M="$maxlim" -v m="$meanlim" 'BEGIN {
        split(r, f, /[ =]/); exit !(f[2] + 0 <= M + 0 && f[4] + 0 <= m + 0) }'; then
        ok "$name ($r)"
    else
        bad "$name: $r (limits max $maxlim, mean $meanlim)"
    fi
}

# expect_changed NAME A B [options]: the mean difference is above 1/255.
expect_changed() {
    local name=$1 a=$2 b=$3
    shift 3
    local r
    r=$("$IMGCMP" "$a" "$b" "$@" 2>&1)
    if awk -v r="$r" 'BEGIN { split(r, f, /[ =]/); exit !(f[4] + 0 > 1 / 255) }'; then
        ok "$name ($r)"
    else
        bad "$name: $r"
    fi
}

# ---- heal: a 14x10 hole at 40,30 of the 96x80 test images ----
HOLE="40 30 14 10"
make_hole() {
    convert -size 96x80 xc:black -fill white -draw "rectangle 40,30 53,39" "$T/hole.png"
}

# expect_heal NAME ORIG HEALED [wprior inpaint options]: HEALED is ORIG
# healed in HOLE: the outside bit-identical, the inside filled, equal to
# wprior inpaint on the same mask within 1/255.
expect_heal() {
    local name=$1 orig=$2 out=$3
    shift 3
    [ -f "$out" ] || { bad "$name: no output"; return; }
    expect_cmp "$name: pixels outside the selection bit-identical" 0 0 "$orig" "$out" --outside $HOLE
    expect_changed "$name: the selection is filled" "$orig" "$out" --inside $HOLE
    "$WPRIOR" inpaint -m "$MODEL" --mask "$T/hole.png" "$@" "$orig" "${out%.png}-cli.png" >/dev/null 2>&1
    expect_cmp "$name equals wprior inpaint $* within 1/255" 0.00393 1 "${out%.png}-cli.png" "$out"
}

# expect_heal_edges BEFORE FEATHERED NOSEL LOG: a heal of an ellipse at
# 30,24 28x20 feathered by 10 changes nothing beyond the feather and fills
# the middle; a heal without a selection says why (in LOG) and leaves the
# layer as it was (NOSEL equals FEATHERED).
expect_heal_edges() {
    expect_cmp "heal, feathered: nothing changes beyond the feather" 0 0 "$1" "$2" --outside 20 14 48 40
    expect_changed "heal, feathered: the middle is filled" "$1" "$2" --inside 38 28 12 12
    grep -q "select what to remove" "$4" &&
        ok "heal without a selection: the message says why" || bad "heal without a selection: no clear message"
    expect_cmp "heal without a selection leaves the layer bit-identical" 0 0 "$2" "$3"
}

# GIMP's help shows pages in the web browser (gimprc: help-browser), which
# GIO launches as the desktop's default for the page; here that is a stub
# that appends each URI it is asked to open to $T/browser.log.
# setup_browser_stub GIMPRC (the profile's gimprc, after its set-up)
setup_browser_stub() {
    mkdir -p "$XDG_DATA_HOME/applications" "$XDG_CONFIG_HOME"
    printf '#!/bin/sh\necho "$1" >>"%s/browser.log"\n' "$T" >"$T/browser-stub"
    chmod +x "$T/browser-stub"
    cat >"$XDG_DATA_HOME/applications/wprior-browser-stub.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Browser stub
Exec=$T/browser-stub %u
MimeType=text/html;x-scheme-handler/http;x-scheme-handler/https;x-scheme-handler/file;
NoDisplay=true
DESKTOP
    {
        echo '[Default Applications]'
        for t in text/html x-scheme-handler/http x-scheme-handler/https x-scheme-handler/file; do
            echo "$t=wprior-browser-stub.desktop"
        done
    } >"$XDG_CONFIG_HOME/mimeapps.list"
    echo '(help-browser web-browser)' >>"$1"
    : >"$T/browser.log"
}

# browser_wait N: waits up to a minute for the stub's N-th URI; prints it.
browser_wait() {
    local line=
    for _ in $(seq 300); do
        line=$(sed -n "$1p" "$T/browser.log")
        [ -n "$line" ] && break
        sleep 0.2
    done
    echo "$line"
}

# help_uri_check WHAT PROC URI PLUGIN_DIR: URI (or path) is PROC's help
# page installed in PLUGIN_DIR/help (not GIMP's "help not installed", not
# another page).
help_uri_check() {
    local file=${3#file://}
    file=${file%%#*}
    if [ "${file#$4/help/en/}" = "$2.html" ] &&
        grep -q "<code>$2</code>" "$file" 2>/dev/null; then
        ok "$1 opens $2's installed help page"
    else
        bad "$1 opened '${3:-nothing}', not $2's page"
    fi
}

# menu_f1_check WHAT PROC N PLUGIN_DIR: F1 on the last item of the image
# window's Layer menu (ours: Upscale) opens PROC's page, the stub's N-th URI.
# By keyboard: F10 opens File; Layer is 5 menus on; Up from the top is the
# menu's last item.
menu_f1_check() {
    local w
    w=$(find_window --onlyvisible --name 'GIMP$')
    focus "$w" 380 300
    sleep 0.5
    xdotool key F10
    for _ in 1 2 3 4 5; do sleep 0.3; xdotool key Right; done
    sleep 0.5
    xdotool key Up
    sleep 0.5
    xdotool key F1
    help_uri_check "$1" "$2" "$(browser_wait "$3")" "$4"
    xdotool key Escape
    sleep 0.3
    xdotool key Escape
}
