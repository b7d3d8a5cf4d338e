#!/bin/bash
# Dialog tests of the GIMP 3 plug-in under Xvfb: each dialog (GIMP's
# procedure dialog with our preview; heal: on a selection) opens and draws
# its preview (the preview's pixels are not flat), F1 opens its help page
# through GIMP's help, Escape cancels and leaves the image bit-identical,
# Return runs the job, and Ctrl+Z undoes the run in one step; a setting
# changed in a dialog that ran is what the next one opens with.  GIMP's
# help (the PDB's gimp-help with our domain) opens each procedure's page.
# Screenshots of the dialogs go to $WPRIOR_SCREENSHOTS when it is set.
# Usage: gimp3_dialogs.sh PLUGIN WPRIOR IMGCMP   (WPRIOR_REFERENCE: paper files)
set -u
PLUGIN=$1 WPRIOR=$2 IMGCMP=$3
here=$(dirname "$0")
. "$here/../gimp/lib.sh"
. "$here/lib3.sh"
need_program gimp-3.0
need_program Xvfb
need_program dbus-run-session
require_program xdotool
require_program import
require_program convert
setup_gimp3
setup_browser_stub "$GIMP3_DIRECTORY/gimprc"
import_models sized
make_images
export WPRIOR_UI_REPORT=$T/report.txt

# Our own X server on a free display; it ends with the script.
for n in $(seq 90 140); do [ -e /tmp/.X$n-lock ] || break; done
Xvfb :$n -screen 0 1280x900x24 -nolisten tcp >"$T/xvfb.log" 2>&1 &
xvfb_pid=$!
export DISPLAY=:$n
trap 'kill $xvfb_pid $gimp_pid 2>/dev/null; [ -n "${KEEP_T:-}" ] || rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -e /tmp/.X11-unix/X$n ] && break; sleep 0.1; done

# The GIMP side: each step runs a procedure interactively (it returns when
# its dialog closes and the job ran), saves the layer, and says so in a
# file; before the undo check it waits for the test to press Ctrl+Z.
gimp_pid=
gimp3_script() {
    cat <<PY
T = '$T'; NAME = 'dialogs'; MODEL = '$MODEL'
$PY_PRELUDE
import time
def mark(name): open(T + "/mark-" + name, "w").close()
def wait(name):
    while not os.path.exists(T + "/go-" + name): time.sleep(0.1)
def run_i(proc_name, img, d):
    proc = pdb.lookup_procedure(proc_name)
    cfg = proc.create_config()
    cfg.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
    cfg.set_property("image", img)
    cfg.set_core_object_array("drawables", [d])
    return proc.run(cfg).index(0)
try:
    img = load("rgb.png")
    Gimp.Display.new(img)
    Gimp.displays_flush()
    d = layer0(img)
    save_layer(d, "orig.png"); mark("ready")
    for proc in ("plug-in-wprior-denoise", "plug-in-wprior-upscale", "plug-in-wprior-upscale-image",
                 "plug-in-wprior-sample", "plug-in-wprior-heal", "plug-in-wprior-texture"):
        Gimp.help("wavelet-prior-help", proc)  # as F1 on the menu item asks
        wait("help-" + proc)
    wait("menu")
    for proc, name in (("plug-in-wprior-denoise", "denoise"), ("plug-in-wprior-upscale", "upscale"),
                       ("plug-in-wprior-sample", "sample"), ("plug-in-wprior-texture", "texture"),
                       ("plug-in-wprior-heal", "heal")):
        if name == "heal":
            img.select_rectangle(Gimp.ChannelOps.REPLACE, 40, 30, 14, 10)
        st = run_i(proc, img, d)
        note(name + " escape: " + st.value_nick)
        save_layer(img.get_selected_layers()[0], name + "-esc.png"); mark(name + "-esc")
        st = run_i(proc, img, d)
        note(name + " ok: " + st.value_nick)
        save_layer(img.get_selected_layers()[0], name + "-ok.png"); mark(name + "-ok")
        wait(name + "-undo")
        save_layer(img.get_selected_layers()[0], name + "-undo.png"); mark(name + "-undo")
        d = layer0(img)
    wait("sample-again")  # the report emptied first: it gets this dialog's settings
    st = run_i("plug-in-wprior-sample", img, d)
    note("sample again: " + st.value_nick); mark("sample-again")
    check("the script ran to its end", True)
except Exception:
    note(traceback.format_exc().replace(chr(10), " | "))
    check("the script ran to its end", False)
PY
}
gimp3_script >"$T/dialogs.py"
timeout 1500 dbus-run-session -- gimp-3.0 -n -s -c --batch-interpreter=python-fu-eval \
    -b "exec(open('$T/dialogs.py').read())" >"$T/gui.log" 2>&1 &
gimp_pid=$!

# wait_mark NAME: waits up to 10 minutes for the GIMP side's mark.
wait_mark() {
    for _ in $(seq 3000); do [ -e "$T/mark-$1" ] && return 0; sleep 0.2; done
    bad "GIMP never reached '$1'"; tail -20 "$T/gui.log"; return 1
}

# open_dialog NAME TITLE [again]: waits for the dialog and its finished
# preview; the first time checks the preview pixels and takes a screenshot.
open_dialog() {
    local name=$1 title=$2 again=${3:-}
    WID=$(wait_window 300 --onlyvisible --name "$title")
    [ -n "$WID" ] || { bad "$name dialog: did not open"; return 1; }
    [ -n "$again" ] || ok "$name dialog opens"
    xdotool mousemove 1279 899
    local line=
    for _ in $(seq 900); do
        line=$(grep "^preview $name " "$T/report.txt" 2>/dev/null | tail -1)
        [ -n "$line" ] && break
        sleep 0.2
    done
    [ -n "$line" ] || { bad "$name dialog: the preview never finished"; return 0; }
    [ -z "$again" ] || return 0
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
    [ -z "${WPRIOR_SCREENSHOTS:-}" ] || cp "$T/$name-dialog.png" "$WPRIOR_SCREENSHOTS/gimp3-$name.png"
}

# press KEY: sends KEY to the dialog.
press() {
    focus "$WID"
    xdotool key "$1"
}

# close_with KEY TITLE: presses KEY in the dialog until it closes (a key
# sent while the dialog is taking the focus can be lost).
close_with() {
    for _ in 1 2 3; do
        press "$1"
        for _ in $(seq 25); do
            find_window --onlyvisible --name "$2" >/dev/null || return 0
            sleep 0.2
        done
    done
}

# undo: Ctrl+Z in GIMP's image window.
undo() {
    local w
    w=$(find_window --onlyvisible --name 'GIMP$') || w=$(find_window --onlyvisible --name 'rgb')
    focus "$w" 300 300
    xdotool key ctrl+z
    sleep 1
}

# settings_of NAME KEY: KEY's value in the dialog's last "settings" report.
settings_of() {
    grep "^settings $1 " "$T/report.txt" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

wait_mark ready || { finish; exit; }
G3P=$GIMP3_DIRECTORY/plug-ins/wavelet-prior
nuri=0
for proc in plug-in-wprior-denoise plug-in-wprior-upscale plug-in-wprior-upscale-image \
    plug-in-wprior-sample plug-in-wprior-heal plug-in-wprior-texture; do
    nuri=$((nuri + 1))
    help_uri_check "gimp-help $proc (GIMP's help, our domain)" $proc "$(browser_wait $nuri)" "$G3P"
    touch "$T/go-help-$proc"
done
nuri=$((nuri + 1))
menu_f1_check "F1 on the menu item Layer > Upscale (Wavelet Prior)" plug-in-wprior-upscale $nuri "$G3P"
touch "$T/go-menu"
grep -aq "(help-def \"wavelet-prior-help\" \"file://$GIMP3_DIRECTORY/plug-ins/wavelet-prior/help/*\")" \
    "$GIMP3_DIRECTORY/pluginrc" && ok "GIMP knows the plug-in's help pages (pluginrc: help-def)" ||
    bad "no help-def of the plug-in in pluginrc: $(grep -a help-def "$GIMP3_DIRECTORY/pluginrc")"
prev=$T/orig.png
make_hole
for step in "denoise:^Denoise \(Wavelet" "upscale:^Upscale Layer \(Wavelet" "sample:^Sample from prior" \
    "texture:^Texture from Selection" "heal:^Heal Selection \(Wavelet"; do
    name=${step%%:*} title=${step#*:}
    : >"$T/report.txt"
    open_dialog "$name" "$title" || break
    press F1
    nuri=$((nuri + 1))
    help_uri_check "$name: F1 in its dialog" plug-in-wprior-$name "$(browser_wait $nuri)" "$G3P"
    close_with Escape "$title"
    wait_mark "$name-esc" || break
    expect_cmp "$name: Escape leaves the image bit-identical" 0 0 "$prev" "$T/$name-esc.png"
    : >"$T/report.txt"
    open_dialog "$name" "$title" again
    if [ "$name" = denoise ]; then # fitted at first, 200%, the wheel (400%), fitted
        zoom_check denoise alt+2 2
        zoom_check denoise wheel-up 4
        zoom_check denoise alt+i 2.667
    fi
    if [ "$name" = sample ]; then # a new seed, remembered once the sample ran
        seed0=$(settings_of sample seed)
        for _ in 1 2 3; do
            press alt+n
            for _ in $(seq 25); do
                seed=$(settings_of sample seed)
                [ -n "$seed" ] && [ "$seed" != "$seed0" ] && break 2
                sleep 0.2
            done
        done
        [ -n "$seed" ] && [ "$seed" != "$seed0" ] && ok "sample: New seed sets the seed ($seed0 -> $seed)" ||
            bad "sample: New seed left the seed at '$seed0'"
    fi
    close_with Return "$title"
    wait_mark "$name-ok" || break
    case $name in
    denoise)
        "$WPRIOR" denoise -m "$MODEL" "$prev" "$T/denoise-cli.png" >/dev/null 2>&1
        expect_cmp "denoise: OK runs the job (equals wprior denoise)" 0.00393 1 "$T/denoise-cli.png" "$T/denoise-ok.png" ;;
    upscale)
        expect_cmp "upscale: OK runs the job (2x, block means kept)" 1 0.004 "$prev" "$T/upscale-ok.png" --scale 2 ;;
    sample)
        size=$(identify -format '%wx%h' "$T/sample-ok.png" 2>/dev/null)
        [ "$size" = 160x160 ] && ok "sample: OK adds the model's 160x160 sample as a layer" ||
            bad "sample: the new layer is $size" ;;
    texture)
        size=$(identify -format '%wx%h' "$T/texture-ok.png" 2>/dev/null)
        [ "$size" = 96x80 ] && ok "texture: OK adds a layer of the layer's size (96x80)" ||
            bad "texture: the new layer is $size" ;;
    heal)
        expect_heal "heal: OK runs the job" "$prev" "$T/heal-ok.png" --seed 0 ;;
    esac
    undo
    touch "$T/go-$name-undo"
    wait_mark "$name-undo" || break
    if [ "$name" = sample ] || [ "$name" = texture ]; then
        expect_cmp "$name: Ctrl+Z removes the new layer in one step" 0 0 "$prev" "$T/$name-undo.png"
    else
        expect_cmp "$name: Ctrl+Z restores the layer in one step" 0 0 "$prev" "$T/$name-undo.png"
    fi
    # the next step works on the image as it is now
    prev=$T/$name-undo.png
done
# GIMP remembers what ran: the sample dialog opens with the new seed.
: >"$T/report.txt"
touch "$T/go-sample-again"
if open_dialog sample "^Sample from prior" again; then
    [ "$(settings_of sample seed)" = "${seed:-none}" ] &&
        ok "sample: the dialog opens with the seed of the last run ($seed)" ||
        bad "sample: the dialog opens with seed '$(settings_of sample seed)', the last run had '${seed:-}'"
    close_with Escape "^Sample from prior"
    wait_mark sample-again
fi
grep -a "^NOTE\|^CHECK" "$T/dialogs.checks" 2>/dev/null | sed 's/^/     /'
grep -q "CHECK-OK the script ran to its end" "$T/dialogs.checks" 2>/dev/null &&
    ok "the GIMP side ran to its end" || bad "the GIMP side did not run to its end"
finish
