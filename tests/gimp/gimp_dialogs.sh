#!/bin/bash
# Dialog tests under xvfb-run: each dialog opens and draws its preview (the
# preview's pixels are not flat), Return runs the job, Escape cancels and
# leaves the image as it was, and Ctrl+Z undoes a run in one step; GIMP's
# help (gimp-help with our domain, F1 on our menu item) opens our pages.
# Screenshots of the dialogs go to $WPRIOR_SCREENSHOTS when it is set.
# Usage: gimp_dialogs.sh PLUGIN WPRIOR IMGCMP   (WPRIOR_REFERENCE: paper files)
set -u
PLUGIN=$1 WPRIOR=$2 IMGCMP=$3
. "$(dirname "$0")/lib.sh"
need_program gimp-2.10
need_program gimp-console-2.10
need_program xvfb-run
require_program xdotool
require_program import
require_program convert

if [ "${4:-}" != --inside-xvfb ]; then
    setup_gimp
    setup_browser_stub "$GIMP2_DIRECTORY/gimprc"
    import_models sized
    make_images
    export T MODEL
    timeout 1500 xvfb-run -a -s "-screen 0 1280x900x24" "$0" "$@" --inside-xvfb
    exit $?
fi

# ---- from here on, inside the X server ----
export WPRIOR_UI_REPORT=$T/report.txt
mkfifo "$T/cmd"
timeout 1400 gimp-2.10 -d -f -s -b - <"$T/cmd" >"$T/gui.log" 2>&1 &
gimp_pid=$!
exec 3>"$T/cmd"
trap 'exec 3>&-; kill $gimp_pid 2>/dev/null; rm -rf "$T"' EXIT

# sf SCHEME: one Script-Fu command for the running GIMP (prelude in front).
sf() {
    echo "(begin (define TDIR \"$T\") $(echo "$SF_PRELUDE" | tr '\n' ' ') $1)" >&3
}
IMG='(vector-ref (cadr (gimp-image-list)) 0)'

# wait_file FILE: waits up to 5 minutes for GIMP to write FILE.
wait_file() {
    for _ in $(seq 1500); do [ -s "$1" ] && { sleep 0.3; return 0; }; sleep 0.2; done
    return 1
}

# save_now NAME: saves the active drawable of the image to $T/NAME.png, waits.
save_now() {
    rm -f "$T/$1.png"
    sf "(let ((img $IMG)) (save img (active img) \"$1.png\"))"
    wait_file "$T/$1.png" || bad "saving $1.png: GIMP did not answer"
}

# open_dialog PROC NAME TITLE: starts PROC interactively, waits for the
# window and its finished preview; checks the preview pixels, saves a screenshot.
open_dialog() {
    local proc=$1 name=$2 title=$3
    : >"$T/report.txt"
    sf "(let ((img $IMG)) ($proc RUN-INTERACTIVE img (active img) $4))"
    WID=$(wait_window 300 --name "$title")
    [ -n "$WID" ] || { bad "$name dialog: did not open"; return 1; }
    ok "$name dialog opens"
    xdotool mousemove 1279 899 # no tooltip over the screenshot
    local line=
    for _ in $(seq 900); do
        line=$(grep "^preview $name " "$T/report.txt" | tail -1)
        [ -n "$line" ] && break
        sleep 0.2
    done
    [ -n "$line" ] || { bad "$name dialog: the preview never finished"; return 0; }
    sleep 0.5
    import -window "$WID" "$T/$name-dialog.png"
    set -- $line
    local sd
    sd=$(convert "$T/$name-dialog.png" -crop "$5x$6+$3+$4" +repage -colorspace Gray \
        -format '%[fx:standard_deviation]' info:)
    if awk -v s="$sd" 'BEGIN { exit !(s > 0.03) }'; then
        ok "$name dialog: the preview is drawn (std of its pixels $sd)"
    else
        bad "$name dialog: the preview looks blank (std $sd)"
    fi
    if [ -n "${WPRIOR_SCREENSHOTS:-}" ]; then
        cp "$T/$name-dialog.png" "$WPRIOR_SCREENSHOTS/$name.png"
    fi
}

# press KEY TITLE: sends KEY to the dialog and waits until it is gone.
press() {
    focus "$WID"
    xdotool key "$1"
    for _ in $(seq 600); do
        find_window --name "$2" >/dev/null || return 0
        sleep 0.2
    done
    bad "$1 did not close the dialog"
}

# undo: Ctrl+Z in the image window (titled "rgb.png-1.0 (...)").
undo() {
    focus "$(find_window --name 'rgb\.png-[0-9]')"
    xdotool key ctrl+z
    sleep 1
}

# escape_check NAME PROC TITLE ARGS REF: Escape closes the dialog; the
# image is still REF.
escape_check() {
    open_dialog "$2" "$1" "$3" "$4" || return
    help_check "$1" "$2" "$GIMP2_DIRECTORY/plug-ins/wavelet-prior"
    press Escape "$3"
    save_now "$1-esc"
    expect_cmp "$1: Escape leaves the image unchanged" 0 0 "$5" "$T/$1-esc.png"
}

# undo_check NAME REF: Ctrl+Z after a run brings back REF.
undo_check() {
    undo
    save_now "$1-undo"
    expect_cmp "$1: Ctrl+Z restores the image in one step" 0 0 "$2" "$T/$1-undo.png"
}

sf "(let ((img (load \"rgb.png\"))) (gimp-display-new img))"
save_now orig

# ---- denoise ----
escape_check denoise plug-in-wprior-denoise '^Denoise \(Wavelet' '"" 1.0 1 1' "$T/orig.png"
if open_dialog plug-in-wprior-denoise denoise '^Denoise \(Wavelet' '"" 1.0 1 1'; then
    # the 96x80 layer: fitted at first; 200%, then the wheel (400%: a
    # 64x64 region fills the 256-pixel preview), then fitted again
    zoom_check denoise alt+2 2
    zoom_check denoise wheel-up 4
    zoom_check denoise alt+i 2.667
    press Return '^Denoise \(Wavelet'
    save_now denoise-ok
    "$WPRIOR" denoise -m "$MODEL" "$T/orig.png" "$T/denoise-cli.png" >/dev/null 2>&1
    expect_cmp "denoise: OK runs the job (equals wprior denoise)" 0.00393 1 "$T/denoise-cli.png" "$T/denoise-ok.png"
    undo_check denoise "$T/orig.png"
fi

# ---- upscale (of the denoised face: a cleaner screenshot) ----
sf "(let ((img $IMG)) (plug-in-wprior-denoise RUN-NONINTERACTIVE img (active img) \"\" 1.0 1 1))"
save_now clean
escape_check upscale plug-in-wprior-upscale '^Upscale Layer \(Wavelet' '"" 2 0 1 1 0 0' "$T/clean.png"
if open_dialog plug-in-wprior-upscale upscale '^Upscale Layer \(Wavelet' '"" 2 0 1 1 0 0'; then
    press Return '^Upscale Layer \(Wavelet'
    save_now upscale-ok
    expect_cmp "upscale: OK runs the job (2x, block means kept)" 1 0.004 "$T/clean.png" "$T/upscale-ok.png" --scale 2
    undo_check upscale "$T/clean.png"
fi

# ---- sample (quick: a first call leaves draft quality as the last values) ----
sf "(let ((img $IMG)) (plug-in-wprior-sample RUN-NONINTERACTIVE img (active img) \"\" 0 0 3 0 0) (gimp-image-remove-layer img (active img)))"
save_now sample-pre
escape_check sample plug-in-wprior-sample '^Sample from prior' '"" 0 0 3 0 0' "$T/clean.png"
if open_dialog plug-in-wprior-sample sample '^Sample from prior' '"" 0 0 3 0 0'; then
    cp "$T/sample-dialog.png" "$T/sample-dialog-ok.png"
    press Return '^Sample from prior'
    save_now sample-ok
    size=$(identify -format '%wx%h' "$T/sample-ok.png" 2>/dev/null)
    [ "$size" = 160x160 ] && ok "sample: OK adds the model's 160x160 sample as a layer" ||
        bad "sample: the active layer is $size"
    "$WPRIOR" sample -m "$MODEL" --seed 3 --h0 0.02 --sigma-l 0.04 "$T/sample-cli.png" >/dev/null 2>&1
    convert "$T/sample-ok.png" -strip -alpha off -define png:color-type=0 "$T/sample-ok-gray.png"
    expect_cmp "sample: the layer is the previewed draft sample (equals wprior sample)" 0.00393 1 \
        "$T/sample-cli.png" "$T/sample-ok-gray.png"
    undo_check sample "$T/clean.png"
fi

# ---- texture from selection: nothing selected, the whole layer is the texture ----
sf "(let ((img $IMG)) (plug-in-wprior-texture RUN-NONINTERACTIVE img (active img) \"\" 0 0 3 0) (gimp-image-remove-layer img (active img)))"
escape_check texture plug-in-wprior-texture '^Texture from Selection' '"" 0 0 3 0' "$T/clean.png"
if open_dialog plug-in-wprior-texture texture '^Texture from Selection' '"" 0 0 3 0'; then
    press Return '^Texture from Selection'
    save_now texture-ok
    size=$(identify -format '%wx%h' "$T/texture-ok.png" 2>/dev/null)
    [ "$size" = 96x80 ] && ok "texture: OK adds a layer of the layer's size (96x80)" ||
        bad "texture: the active layer is $size"
    undo_check texture "$T/clean.png"
fi

# ---- heal: a 14x10 hole in the clean face ----
make_hole
sf "(let ((img $IMG)) (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 40 30 14 10))"
escape_check heal plug-in-wprior-heal '^Heal Selection \(Wavelet' '"" 0 0' "$T/clean.png"
if open_dialog plug-in-wprior-heal heal '^Heal Selection \(Wavelet' '"" 0 0'; then
    press Return '^Heal Selection \(Wavelet'
    save_now heal-ok
    expect_heal "heal: OK runs the job" "$T/clean.png" "$T/heal-ok.png" --seed 0
    undo_check heal "$T/clean.png"
fi
sf "(let ((img $IMG)) (gimp-selection-none img))"

# ---- cancel in the progress window: OK at once (the preview is not done,
# so the full run starts), then Escape in the progress window ----
sf "(let ((img $IMG)) (plug-in-wprior-sample RUN-INTERACTIVE img (active img) \"\" 0 0 4 1 0))"
WID=$(wait_window 300 --name '^Sample from prior')
if [ -n "$WID" ]; then
    press Return '^Sample from prior'
    PW=$(wait_window 120 --name '^Sampling \(Wavelet')
    sleep 0.5
    t0=$(date +%s%N)
    WID=$PW
    press Escape '^Sampling \(Wavelet'
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ "$ms" -lt 1500 ] && ok "cancel in the progress window stops the run in $ms ms" ||
        bad "cancel took $ms ms"
    save_now sample-cancel
    expect_cmp "a cancelled run adds no layer" 0 0 "$T/clean.png" "$T/sample-cancel.png"
else
    bad "the sample dialog did not open for the cancel test"
fi

# ---- GIMP's own help on our pages (the browser a stub): the PDB's
# gimp-help with our domain, and F1 on our menu item ----
P2=$GIMP2_DIRECTORY/plug-ins/wavelet-prior
nuri=0
for proc in plug-in-wprior-denoise plug-in-wprior-upscale plug-in-wprior-upscale-image \
    plug-in-wprior-sample plug-in-wprior-heal plug-in-wprior-texture; do
    sf "(gimp-help \"wavelet-prior-help\" \"$proc\")"
    nuri=$((nuri + 1))
    help_uri_check "gimp-help $proc (GIMP's help, our domain)" $proc "$(browser_wait $nuri)" "$P2"
done
nuri=$((nuri + 1))
menu_f1_check "F1 on the menu item Layer > Upscale (Wavelet Prior)" plug-in-wprior-upscale $nuri "$P2"

sf "(gimp-quit 1)"
exec 3>&-
timeout 30 tail --pid=$gimp_pid -f /dev/null || kill $gimp_pid
grep -q "(help-def \"wavelet-prior-help\" \"file://$GIMP2_DIRECTORY/plug-ins/wavelet-prior/help\")" \
    "$GIMP2_DIRECTORY/pluginrc" && ok "GIMP knows the plug-in's help pages (pluginrc: help-def)" ||
    bad "no help-def of the plug-in in pluginrc: $(grep -a help-def "$GIMP2_DIRECTORY/pluginrc")"
finish
