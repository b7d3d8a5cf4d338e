#!/bin/bash
# Headless tests of the GIMP 3 plug-in in gimp-console-3.0 (Python batch):
# the procedures are registered; denoise, upscale and sample on RGB, RGBA,
# gray and gray+alpha layers at 8-bit, 16-bit and float agree with the CLI;
# selections; heal fills a selection (known pixels bit-identical, equal to
# wprior inpaint); failing runs leave the layer bit-identical.
# Usage: gimp3_headless.sh PLUGIN WPRIOR IMGCMP   (WPRIOR_REFERENCE: paper files)
set -u
PLUGIN=$1 WPRIOR=$2 IMGCMP=$3
here=$(dirname "$0")
. "$here/../gimp/lib.sh"
. "$here/lib3.sh"
need_program gimp-console-3.0
require_program convert
setup_gimp3
import_models j3
make_images
ONE=0.00393 # 1/255

mkdir -p "$T/colour"
"$WPRIOR" meta "$SRC/models/stone.safetensors" name=stone sample.max_iter=40 \
    -o "$T/colour/stone.safetensors" >/dev/null || bad "wprior meta stone"
# the default gray model, found before any installed one: the face prior
"$WPRIOR" meta "$MODEL" name=photo-gray -o "$T/colour/photo-gray.safetensors" >/dev/null ||
    bad "wprior meta photo-gray"
make_textures
cp "$SRC/models/photo-gray.safetensors" "$T/den0.safetensors" || exit 1 # a den at level 0: Quality
WPRIOR_MODEL_PATH=$T/models:$T/colour gimp3_batch main '
for p in ("plug-in-wprior-denoise", "plug-in-wprior-upscale", "plug-in-wprior-upscale-image",
          "plug-in-wprior-sample", "plug-in-wprior-heal", "plug-in-wprior-texture"):
    check(p + " is registered", pdb.procedure_exists(p))
KINDS = ("rgb", "rgba", "gray", "graya")
DEPTHS = ("8", "16", "float")

# denoise: every kind and depth
for kind in KINDS:
    for depth in DEPTHS:
        img = open_kind(kind, depth); d = layer0(img)
        st, _ = run("plug-in-wprior-denoise", img, [d], model=MODEL, strength=1.0, passes=1)
        ok_run("denoise %s %s" % (kind, depth), st)
        save_layer(d, "%s-%s-den.png" % (kind, depth))
        img.delete()

# denoise inside a selection
img = open_kind("rgb"); d = layer0(img)
img.select_rectangle(Gimp.ChannelOps.REPLACE, 24, 16, 40, 32)
st, _ = run("plug-in-wprior-denoise", img, [d], model="face160", strength=1.0, passes=1)
ok_run("denoise in a selection (model by name)", st)
save_layer(d, "sel-den.png")
img.delete()

# Quality: fast (the half-size route) and best (both routes, blended by the noise)
for q, name in ((0, "fast"), (2, "best")):
    img = open_kind("gray"); d = layer0(img)
    st, _ = run("plug-in-wprior-denoise", img, [d], model=T + "/den0.safetensors", strength=1.0,
                passes=1, quality=q)
    ok_run("denoise gray, quality " + name, st)
    save_layer(d, "gray-q%s.png" % name)
    img.delete()

# upscale: the layer (offsets stay, canvas stays), every kind and depth
for kind in KINDS:
    for depth in DEPTHS:
        img = open_kind(kind, depth); d = layer0(img)
        d.set_offsets(3, 4)
        st, _ = run("plug-in-wprior-upscale", img, [d], model=MODEL, factor=2, mode=0, seed=1, target=0, grow_canvas=0)
        ok_run("upscale %s %s" % (kind, depth), st)
        check("upscale %s %s: layer 192x160" % (kind, depth), (d.get_width(), d.get_height()) == (192, 160))
        check("upscale %s %s: offsets stay 3,4" % (kind, depth), tuple(d.get_offsets()[1:]) == (3, 4))
        check("upscale %s %s: canvas stays 96x80" % (kind, depth), (img.get_width(), img.get_height()) == (96, 80))
        save_layer(d, "%s-%s-up.png" % (kind, depth))
        img.delete()

# Image > Upscale: canvas, every layer and its offsets
img = open_kind("rgba"); d = layer0(img)
l2 = d.copy(); img.insert_layer(l2, None, -1)
l2.scale(48, 40, False); l2.set_offsets(10, 6)
st, _ = run("plug-in-wprior-upscale-image", img, [l2], model=MODEL, factor=2, mode=1, seed=9)
ok_run("upscale the whole image", st)
check("image x2: canvas 192x160", (img.get_width(), img.get_height()) == (192, 160))
check("image x2: bottom layer 192x160 at 0,0", (d.get_width(), d.get_height()) == (192, 160) and tuple(d.get_offsets()[1:]) == (0, 0))
check("image x2: top layer 96x80 at 20,12", (l2.get_width(), l2.get_height()) == (96, 80) and tuple(l2.get_offsets()[1:]) == (20, 12))
check("image x2: still two layers", len(img.get_layers()) == 2)
img.delete()

# Layer > Upscale, the canvas grown to fit the layer: right and down; left and up
img = open_kind("gray"); d = layer0(img)
d.set_offsets(3, 4)
st, _ = run("plug-in-wprior-upscale", img, [d], model=MODEL, factor=2, mode=0, seed=1, target=0, grow_canvas=1)
ok_run("upscale a layer, canvas grown", st)
check("canvas grown: 195x164", (img.get_width(), img.get_height()) == (195, 164))
check("canvas grown: layer 192x160 at 3,4", (d.get_width(), d.get_height()) == (192, 160) and tuple(d.get_offsets()[1:]) == (3, 4))
img.delete()
img = open_kind("rgba"); d = layer0(img)
l2 = d.copy(); img.insert_layer(l2, None, -1)
l2.scale(48, 40, False); l2.set_offsets(20, 10); d.set_offsets(-10, -5)
st, _ = run("plug-in-wprior-upscale", img, [d], model=MODEL, factor=2, mode=0, seed=1, target=0, grow_canvas=1)
ok_run("upscale a layer at -10,-5, canvas grown", st)
check("canvas grown left and up: 192x160", (img.get_width(), img.get_height()) == (192, 160))
check("canvas grown left and up: the layer at 0,0", tuple(d.get_offsets()[1:]) == (0, 0))
check("canvas grown left and up: the other layer moved with it, 48x40 at 30,15",
      (l2.get_width(), l2.get_height()) == (48, 40) and tuple(l2.get_offsets()[1:]) == (30, 15))
img.delete()

# a sample without a size: the image size, or the selection box (a prior of no fixed size)
img = open_kind("rgb"); d = layer0(img)
st, res = run("plug-in-wprior-sample", img, [d], model="stone", width=0, height=0, seed=5, quality=0, tiling=0)
l = res.index(1) if st == Gimp.PDBStatusType.SUCCESS else None
check("sample, no size: the image size 96x80 at 0,0",
      l is not None and (l.get_width(), l.get_height()) == (96, 80) and tuple(l.get_offsets()[1:]) == (0, 0))
img.select_rectangle(Gimp.ChannelOps.REPLACE, 10, 20, 40, 30)
st, res = run("plug-in-wprior-sample", img, [d], model="stone", width=0, height=0, seed=5, quality=0, tiling=0)
l = res.index(1) if st == Gimp.PDBStatusType.SUCCESS else None
check("sample, no size: the selection 40x30 at 10,20",
      l is not None and (l.get_width(), l.get_height()) == (40, 30) and tuple(l.get_offsets()[1:]) == (10, 20))
img.delete()

# a colour model remembered (the last values GIMP keeps), then a gray layer
cfg = pdb.lookup_procedure("plug-in-wprior-denoise").create_config()
sdir = os.path.join(os.environ["GIMP3_DIRECTORY"], "plug-in-settings")
os.makedirs(sdir, exist_ok=True)
with open(os.path.join(sdir, cfg.__gtype__.name + ".last"), "w") as f:
    f.write("(model \"stone\")\n(strength 1.000000)\n(passes 1)\n")
img = open_kind("gray"); d = layer0(img)
st, _ = run("plug-in-wprior-denoise", img, [d], run_mode=Gimp.RunMode.WITH_LAST_VALS)
ok_run("denoise a gray layer with the last values (a colour model)", st)
save_layer(d, "gray-lastcolour.png")
img.delete()

# upscale into a new image
img = open_kind("gray"); d = layer0(img)
st, res = run("plug-in-wprior-upscale", img, [d], model=MODEL, factor=2, mode=0, seed=1, target=2)
ok_run("upscale into a new image", st)
new = res.index(1) if st == Gimp.PDBStatusType.SUCCESS else None
check("new image x2: a new image of 192x160", new is not None and new != img and (new.get_width(), new.get_height()) == (192, 160))
check("new image x2: the source stays 96x80", (d.get_width(), d.get_height()) == (96, 80))
if new is not None: save_layer(layer0(new), "newimg-up.png"); new.delete()
img.delete()

# upscale with 4 passes (turned and mirrored), into a new image
img = open_kind("gray"); d = layer0(img)
st, res = run("plug-in-wprior-upscale", img, [d], model=MODEL, factor=2, mode=0, passes=4, seed=1, target=2)
ok_run("upscale with 4 passes", st)
new = res.index(1) if st == Gimp.PDBStatusType.SUCCESS else None
if new is not None: save_layer(layer0(new), "passes4-up.png"); new.delete()
img.delete()

# sample: a new layer in the image colour model
for kind in ("rgb", "gray"):
    for depth in DEPTHS:
        img = open_kind(kind, depth); d = layer0(img)
        st, res = run("plug-in-wprior-sample", img, [d], model=MODEL, width=64, height=48, seed=5, quality=1, tiling=0)
        ok_run("sample %s %s" % (kind, depth), st)
        l = res.index(1) if st == Gimp.PDBStatusType.SUCCESS else None
        check("sample %s %s: a 64x48 layer, one layer more" % (kind, depth),
              l is not None and (l.get_width(), l.get_height()) == (64, 48) and len(img.get_layers()) == 2)
        if l is not None:
            check("sample %s %s: gray stays gray" % (kind, depth), l.is_gray() == (kind == "gray"))
            save_layer(l, "%s-%s-sample.png" % (kind, depth))
        save_layer(d, "%s-%s-aftersample.png" % (kind, depth))
        img.delete()

# texture from a selection: a layer as large as the layer, over it; a
# selection too small fails and adds nothing
for kind in ("rgb", "gray"):
    img = load("tex-%s.png" % kind); d = layer0(img)
    img.select_rectangle(Gimp.ChannelOps.REPLACE, 8, 12, 48, 40)
    st, res = run("plug-in-wprior-texture", img, [d], model=MODEL, width=0, height=0, seed=5, tiling=1)
    ok_run("texture %s" % kind, st)
    l = res.index(1) if st == Gimp.PDBStatusType.SUCCESS else None
    check("texture %s: a 96x80 layer at 0,0, one layer more" % kind,
          l is not None and (l.get_width(), l.get_height()) == (96, 80) and
          tuple(l.get_offsets()[1:]) == (0, 0) and len(img.get_layers()) == 2)
    if l is not None:
        check("texture %s: gray stays gray" % kind, l.is_gray() == (kind == "gray"))
        save_layer(l, "%s-texture.png" % kind)
    save_layer(d, "%s-aftertexture.png" % kind)
    img.select_rectangle(Gimp.ChannelOps.REPLACE, 4, 4, 12, 30)
    st, _ = run("plug-in-wprior-texture", img, [d], model=MODEL, width=0, height=0, seed=5, tiling=1)
    check("texture %s from a 12x30 selection fails, no layer added" % kind,
          st == Gimp.PDBStatusType.EXECUTION_ERROR and len(img.get_layers()) == 2)
    img.delete()

# heal: a 14x10 hole at 40,30, every kind and depth; sharp; feathered; no selection
for kind in KINDS:
    for depth in DEPTHS:
        img = open_kind(kind, depth); d = layer0(img)
        img.select_rectangle(Gimp.ChannelOps.REPLACE, 40, 30, 14, 10)
        st, _ = run("plug-in-wprior-heal", img, [d], model=MODEL, mode=0, seed=1)
        ok_run("heal %s %s" % (kind, depth), st)
        save_layer(d, "%s-%s-heal.png" % (kind, depth))
        img.delete()
img = open_kind("gray"); d = layer0(img)
img.select_rectangle(Gimp.ChannelOps.REPLACE, 40, 30, 14, 10)
st, _ = run("plug-in-wprior-heal", img, [d], model=MODEL, mode=1, seed=7)
ok_run("heal gray, sharp", st)
save_layer(d, "gray-heal-sharp.png")
img.select_ellipse(Gimp.ChannelOps.REPLACE, 30, 24, 28, 20)
Gimp.Selection.feather(img, 10)
st, _ = run("plug-in-wprior-heal", img, [d], model=MODEL, mode=0, seed=1)
ok_run("heal a feathered selection", st)
save_layer(d, "gray-heal-feather.png")
Gimp.Selection.none(img)
st, _ = run("plug-in-wprior-heal", img, [d], model=MODEL, mode=0, seed=1)
check("heal without a selection fails", st == Gimp.PDBStatusType.EXECUTION_ERROR)
save_layer(d, "heal-nosel.png")
img.delete()

# failing runs: a clear status, the layer bit-identical
with open(T + "/corrupt.safetensors", "wb") as f:
    f.write(open(MODEL, "rb").read()[:3000])
img = open_kind("rgb", "16"); d = layer0(img)
st, _ = run("plug-in-wprior-denoise", img, [d], model=T + "/corrupt.safetensors", strength=1.0, passes=1)
check("a corrupt model fails", st == Gimp.PDBStatusType.EXECUTION_ERROR)
st, _ = run("plug-in-wprior-upscale", img, [d], model="no-such-model", factor=2, mode=0, seed=1, target=1)
check("a missing model fails", st == Gimp.PDBStatusType.EXECUTION_ERROR)
st, _ = run("plug-in-wprior-upscale", img, [d], model=MODEL, factor=3, mode=0, seed=1, target=0)
check("factor 3 fails", st == Gimp.PDBStatusType.CALLING_ERROR)
group = Gimp.GroupLayer.new(img, "group"); img.insert_layer(group, None, 0)
st, _ = run("plug-in-wprior-denoise", img, [group], model=MODEL, strength=1.0, passes=1)
check("denoising a layer group fails", st == Gimp.PDBStatusType.EXECUTION_ERROR)
img.select_rectangle(Gimp.ChannelOps.REPLACE, 40, 30, 14, 10)
st, _ = run("plug-in-wprior-heal", img, [d], model=T + "/corrupt.safetensors", mode=0, seed=1)
check("heal with a corrupt model fails", st == Gimp.PDBStatusType.EXECUTION_ERROR)
st, _ = run("plug-in-wprior-heal", img, [group], model=MODEL, mode=0, seed=1)
check("healing a layer group fails", st == Gimp.PDBStatusType.EXECUTION_ERROR)
check("the canvas and layer keep their size", (img.get_width(), d.get_width()) == (96, 96))
save_layer(d, "failed-after.png")
img.delete()
'
grep -q "Cannot use the model .*corrupt.safetensors" "$T/main.checks" &&
    ok "corrupt model: the message says why" || bad "corrupt model: no clear message"
grep -q 'Model \\\?"no-such-model\\\?" not found' "$T/main.checks" &&
    ok "missing model: the message says why" || bad "missing model: no clear message"

for k in rgb rgba gray graya; do
    "$WPRIOR" denoise -m "$MODEL" "$T/$k.png" "$T/$k-cli.png" >/dev/null 2>&1
    for depth in 8 16 float; do
        [ -f "$T/$k-$depth-den.png" ] || { bad "denoise $k $depth: no output"; continue; }
        expect_cmp "denoise $k $depth equals wprior denoise within 1/255" $ONE 1 "$T/$k-cli.png" "$T/$k-$depth-den.png"
    done
    expect_changed "denoise $k changed the pixels" "$T/$k.png" "$T/$k-8-den.png"
done
for q in fast blend; do
    "$WPRIOR" denoise -m "$T/den0.safetensors" --$q "$T/gray.png" "$T/gray-cli-$q.png" >/dev/null 2>&1
done
expect_cmp "denoise, quality fast, equals wprior denoise --fast" $ONE 1 "$T/gray-cli-fast.png" "$T/gray-qfast.png"
expect_cmp "denoise, quality best, equals wprior denoise --blend" $ONE 1 "$T/gray-cli-blend.png" "$T/gray-qbest.png"
expect_cmp "gray layer after a colour model: the gray one is used (equals wprior denoise)" $ONE 1 \
    "$T/gray-cli.png" "$T/gray-lastcolour.png"
expect_cmp "denoise rgba: alpha unchanged" 0 0 "$T/rgba.png" "$T/rgba-8-den.png" --channel 3
expect_cmp "denoise graya: alpha unchanged" 0 0 "$T/graya.png" "$T/graya-8-den.png" --channel 1
expect_cmp "denoise in a selection: nothing changes outside" 0 0 "$T/rgb.png" "$T/sel-den.png" --outside 24 16 40 32
expect_changed "denoise in a selection: the inside changes" "$T/rgb.png" "$T/sel-den.png" --inside 24 16 40 32

for k in rgb gray; do
    "$WPRIOR" upscale -m "$MODEL" -f 2 --mode fast --seed 1 "$T/$k.png" "$T/$k-cliup.png" >/dev/null 2>&1
done
for k in rgb rgba gray graya; do
    for depth in 8 16 float; do
        f=$T/$k-$depth-up.png
        [ -f "$f" ] || { bad "upscale $k $depth: no output"; continue; }
        expect_cmp "upscale $k $depth: 2x2 block means keep the input" 1 0.004 "$T/$k.png" "$f" --scale 2
        case $k in rgb | gray)
            expect_cmp "upscale $k $depth equals wprior upscale within 1/255" $ONE 1 "$T/$k-cliup.png" "$f" ;;
        esac
    done
done
expect_cmp "upscale rgba: alpha enlarged unchanged" 0 0 "$T/rgba.png" "$T/rgba-8-up.png" --scale 2 --channel 3
expect_cmp "upscale into a new image equals the layer upscale" 0 0 "$T/gray-8-up.png" "$T/newimg-up.png"
"$WPRIOR" upscale -m "$MODEL" -f 2 --ensemble 4 --seed 1 "$T/gray.png" "$T/gray-cliup4.png" >/dev/null 2>&1
expect_cmp "upscale, 4 passes, equals wprior upscale --ensemble 4 within 1/255" $ONE 1 "$T/gray-cliup4.png" "$T/passes4-up.png"

"$WPRIOR" sample -m "$MODEL" --size 64x48 --seed 5 "$T/cli-sample.png" >/dev/null 2>&1
for k in rgb gray; do
    for depth in 8 16 float; do
        f=$T/$k-$depth-sample.png
        [ -f "$f" ] || { bad "sample $k $depth: no output"; continue; }
        expect_cmp "sample $k $depth: the layer below is unchanged" 0 0 "$T/$k.png" "$T/$k-$depth-aftersample.png"
        convert "$f" -strip -alpha off -colorspace Gray -define png:color-type=0 "$T/$k-$depth-sample-g.png"
        expect_cmp "sample $k $depth equals wprior sample within 1/255" $ONE 1 "$T/cli-sample.png" "$T/$k-$depth-sample-g.png"
    done
done
for k in rgb gray; do
    [ -f "$T/$k-texture.png" ] || { bad "texture $k: no output"; continue; }
    expect_cmp "texture $k: the layer below is unchanged" 0 0 "$T/tex-$k.png" "$T/$k-aftertexture.png"
done
grep -q 'a texture needs at least 16x16' "$T/main.checks" &&
    ok "texture from a small selection: the message says why" || bad "texture from a small selection: no clear message"
check_texture_gray "$T/gray-texture.png"
make_hole
for k in rgb rgba gray graya; do
    for depth in 8 16 float; do
        expect_heal "heal $k $depth" "$T/$k.png" "$T/$k-$depth-heal.png" --seed 1
    done
done
expect_cmp "heal rgba: alpha unchanged" 0 0 "$T/rgba.png" "$T/rgba-8-heal.png" --channel 3
expect_cmp "heal graya: alpha unchanged" 0 0 "$T/graya.png" "$T/graya-8-heal.png" --channel 1
expect_heal "heal gray, sharp" "$T/gray.png" "$T/gray-heal-sharp.png" --mode sharp --seed 7
expect_heal_edges "$T/gray-heal-sharp.png" "$T/gray-heal-feather.png" "$T/heal-nosel.png" "$T/main.checks"
expect_cmp "failing runs leave the 16-bit layer bit-identical" 0 0 "$T/rgb.png" "$T/failed-after.png"

# Over the memory budget: an error, and the layer bit-identical.
export WPRIOR_MAX_MEMORY=20K
gimp3_batch budget '
img = open_kind("rgb"); d = layer0(img)
st, _ = run("plug-in-wprior-denoise", img, [d], model=MODEL, strength=1.0, passes=1)
check("denoise over the memory budget fails", st == Gimp.PDBStatusType.EXECUTION_ERROR)
st, _ = run("plug-in-wprior-upscale", img, [d], model=MODEL, factor=2, mode=0, seed=1, target=1)
check("upscale over the memory budget fails", st == Gimp.PDBStatusType.EXECUTION_ERROR)
img.select_rectangle(Gimp.ChannelOps.REPLACE, 40, 30, 14, 10)
st, _ = run("plug-in-wprior-heal", img, [d], model=MODEL, mode=0, seed=1)
check("heal over the memory budget fails", st == Gimp.PDBStatusType.EXECUTION_ERROR)
check("the canvas keeps its size", img.get_width() == 96)
save_layer(d, "budget-after.png")
'
unset WPRIOR_MAX_MEMORY
grep -q "Not enough memory" "$T/budget.checks" &&
    ok "memory budget: the message says why" || bad "memory budget: no clear message"
expect_cmp "runs over the budget leave the layer bit-identical" 0 0 "$T/rgb.png" "$T/budget-after.png"

finish
