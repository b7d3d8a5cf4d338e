# lib3.sh: set-up shared by the GIMP 3 tests (sourced after tests/gimp/lib.sh,
# whose helpers they reuse: models, images, comparisons, counting).

# A fresh GIMP 3 profile with the plug-in in its own folder, as GIMP 3
# requires (a binary directly in plug-ins/ is skipped, and GIMP still exits 0).
setup_gimp3() {
    T=$(mktemp -d /tmp/wprior-gimp3-XXXXXX)
    [ -n "${KEEP_T:-}" ] || trap 'rm -rf "$T"' EXIT
    export HOME=$T/home XDG_CONFIG_HOME=$T/config XDG_CACHE_HOME=$T/cache XDG_DATA_HOME=$T/data
    export GIMP3_DIRECTORY=$T/gimp
    mkdir -p "$HOME" "$GIMP3_DIRECTORY/plug-ins/wavelet-prior"
    echo '(show-welcome-dialog no)' >"$GIMP3_DIRECTORY/gimprc"
    cp "$PLUGIN" "$GIMP3_DIRECTORY/plug-ins/wavelet-prior/wavelet-prior"
    mkdir -p "$GIMP3_DIRECTORY/plug-ins/wavelet-prior/help"
    cp -r "$SRC/help/en" "$GIMP3_DIRECTORY/plug-ins/wavelet-prior/help/" # as meson installs it
}

# Python helpers put in front of every batch script.
PY_PRELUDE='
import os, sys, traceback
import gi
gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio, GLib
pdb = Gimp.get_pdb()
_out = open(T + "/" + NAME + ".checks", "w")
def check(what, ok):
    _out.write(("CHECK-OK " if ok else "CHECK-FAIL ") + what + "\n"); _out.flush()
def note(what):
    _out.write("NOTE " + what + "\n"); _out.flush()
def path(name): return Gio.File.new_for_path(T + "/" + name)
def load(name): return Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, path(name))
PREC = {"8": Gimp.Precision.U8_NON_LINEAR, "16": Gimp.Precision.U16_NON_LINEAR,
        "float": Gimp.Precision.FLOAT_NON_LINEAR}
def open_kind(kind, depth="8"):
    img = load(kind + ".png")
    if depth != "8": img.convert_precision(PREC[depth])
    return img
def layer0(img): return img.get_layers()[0]
def save_layer(d, name):
    """Saves one layer, alone, at its own size."""
    img = d.get_image()
    new = Gimp.Image.new_with_precision(d.get_width(), d.get_height(), img.get_base_type(),
                                        img.get_precision())
    l = Gimp.Layer.new_from_drawable(d, new)
    new.insert_layer(l, None, 0)
    l.set_offsets(0, 0)
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, new, path(name), None)
    new.delete()
def run(proc_name, img, drawables, run_mode=Gimp.RunMode.NONINTERACTIVE, **args):
    """Runs a procedure (non-interactively); (status, values)."""
    proc = pdb.lookup_procedure(proc_name)
    cfg = proc.create_config()
    cfg.set_property("run-mode", run_mode)
    cfg.set_property("image", img)
    cfg.set_core_object_array("drawables", drawables)
    for k, v in args.items():
        cfg.set_property(k, v)
    res = proc.run(cfg)
    st = res.index(0)
    if st != Gimp.PDBStatusType.SUCCESS:
        msg = res.index(1) if res.length() > 1 else ""
        note("%s: status %s: %s" % (proc_name, st.value_nick, msg))
    return st, res
def ok_run(what, st):
    check(what + " succeeds", st == Gimp.PDBStatusType.SUCCESS)
'

# gimp3_batch NAME PYTHON: runs PYTHON (prelude in front) in gimp-console-3.0;
# log in $T/NAME.log.  Reports GIMP's own failure and every CHECK line;
# a script that ends early (an exception) fails.
gimp3_batch() {
    local name=$1 log=$T/$1.log script=$T/$1.py
    {
        echo "T = '$T'; NAME = '$name'; MODEL = '${MODEL:-}'; MODEL3 = '${MODEL3:-}'"
        echo "$PY_PRELUDE"
        echo "try:"
        echo "$2" | sed 's/^/    /'
        echo "    check('the script ran to its end', True)"
        echo "except Exception:"
        echo "    note(traceback.format_exc().replace(chr(10), ' | '))"
        echo "    check('the script ran to its end', False)"
    } >"$script"
    local t0=$SECONDS
    timeout "${GIMP_TIMEOUT:-1200}" gimp-console-3.0 -i -n --quit -c \
        --batch-interpreter=python-fu-eval -b "exec(open('$script').read())" >"$log" 2>&1
    local rc=$?
    echo "     ($name: GIMP ran $((SECONDS - t0)) s, exit $rc)"
    if [ $rc -ne 0 ]; then
        bad "$name: gimp-console-3.0 failed (exit $rc)"; tail -20 "$log"
    fi
    if [ ! -s "$T/$name.checks" ]; then
        bad "$name: the batch script did not run"; tail -20 "$log"; return
    fi
    grep -a "^NOTE" "$T/$name.checks" | cut -c1-400 | sed 's/^/     /'
    while read -r line; do
        case $line in
        CHECK-OK*) ok "$name: ${line#CHECK-OK }" ;;
        CHECK-FAIL*) bad "$name: ${line#CHECK-FAIL }" ;;
        esac
    done < <(grep -a "^CHECK-" "$T/$name.checks")
}

