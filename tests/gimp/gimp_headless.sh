#!/bin/bash
# Headless tests of the GIMP plug-in in gimp-console-2.10: every procedure
# on RGB, RGBA, gray and 16-bit images, selections, sizes and offsets,
# agreement with the CLI, and failing runs that must leave the image as it was.
# Usage: gimp_headless.sh PLUGIN WPRIOR IMGCMP
set -u
PLUGIN=$1 WPRIOR=$2 IMGCMP=$3
. "$(dirname "$0")/lib.sh"
need_program gimp-console-2.10
require_program convert
setup_gimp
import_models
make_images
cp "$SRC/models/photo-gray.safetensors" "$T/" || exit 1 # a den at level 0: the fast quality
KINDS="rgb rgba gray graya rgb16"
ONE=0.00393 # 1/255

# ---- denoise ----
B_DENOISE='
(for-each (lambda (kind)
  (let* ((img (open kind)) (d (active img)))
    (save img d (string-append kind "-orig.png"))
    (plug-in-wprior-denoise RUN-NONINTERACTIVE img d MODEL 1.0 1 1)
    (save img d (string-append kind "-den.png"))
    (gimp-image-delete img)))
  (list "rgb" "rgba" "gray" "graya" "rgb16"))
(let* ((img (open "rgb")) (d (active img)))
  (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 24 16 40 32)
  (plug-in-wprior-denoise RUN-NONINTERACTIVE img d "face160" 1.0 1 1)
  (save img d "sel-den.png")
  (gimp-image-delete img))
(let* ((img (open "rgb")) (d (active img)))
  (plug-in-wprior-denoise RUN-WITH-LAST-VALS img d "" 0.0 1 1)
  (save img d "lastvals-den.png")
  (gimp-image-delete img))
(let* ((img (open "gray")) (d (active img)))
  (plug-in-wprior-denoise RUN-NONINTERACTIVE img d MODEL 0.0 1 1)
  (save img d "strength0.png")
  (gimp-image-delete img))
(let* ((img (open "rgb")) (d (active img)))
  (plug-in-wprior-denoise RUN-NONINTERACTIVE img d MODEL 1.0 8 1)
  (save img d "passes8.png")
  (gimp-image-delete img))
(let* ((img (open "gray")) (d (active img)))
  (plug-in-wprior-denoise RUN-NONINTERACTIVE img d (path "photo-gray.safetensors") 1.0 1 0)
  (save img d "fast.png")
  (gimp-image-delete img))
(let* ((img (open "gray")) (d (active img)))
  (plug-in-wprior-denoise RUN-NONINTERACTIVE img d (path "photo-gray.safetensors") 1.0 1 2)
  (save img d "best.png")
  (gimp-image-delete img))'
# ---- upscale ----
B_UPSCALE='
(for-each (lambda (kind)
  (let* ((img (open kind)) (d (active img)))
    (gimp-layer-set-offsets d 3 4)
    (plug-in-wprior-upscale RUN-NONINTERACTIVE img d MODEL 2 0 1 1 0 0)
    (check (string-append kind " layer x2: size 192x160") (size-is d 192 160))
    (check (string-append kind " layer x2: offsets stay 3,4") (offsets-are d 3 4))
    (check (string-append kind " layer x2: canvas stays 96x80")
           (and (= (car (gimp-image-width img)) 96) (= (car (gimp-image-height img)) 80)))
    (save img d (string-append kind "-up.png"))
    (gimp-image-delete img)))
  (list "rgb" "rgba" "gray" "rgb16"))
(let* ((img (open "rgba")) (d (active img)) (l2 (car (gimp-layer-copy d TRUE))))
  (gimp-image-insert-layer img l2 0 -1)
  (gimp-layer-scale l2 48 40 FALSE)
  (gimp-layer-set-offsets l2 10 6)
  (plug-in-wprior-upscale-image RUN-NONINTERACTIVE img l2 MODEL 2 1 1 9)
  (check "image x2: canvas 192x160"
         (and (= (car (gimp-image-width img)) 192) (= (car (gimp-image-height img)) 160)))
  (check "image x2: bottom layer 192x160 at 0,0" (and (size-is d 192 160) (offsets-are d 0 0)))
  (check "image x2: top layer 96x80 at 20,12" (and (size-is l2 96 80) (offsets-are l2 20 12)))
  (check "image x2: still two layers" (= (nlayers img) 2))
  (gimp-image-delete img))
(let* ((img (open "gray")) (d (active img))
       (new (car (plug-in-wprior-upscale RUN-NONINTERACTIVE img d MODEL 2 0 1 1 2 1))))
  (check "new image x2: a new image" (and (> new 0) (not (= new img))))
  (check "new image x2: 192x160, one layer"
         (and (= (car (gimp-image-width new)) 192) (= (car (gimp-image-height new)) 160)
              (= (nlayers new) 1) (size-is (active new) 192 160)))
  (check "new image x2: the source stays 96x80" (size-is d 96 80))
  (save new (active new) "newimg-up.png")
  (gimp-image-delete new)
  (gimp-image-delete img))
(let* ((img (open "gray")) (d (active img)))
  (gimp-image-scale img 48 40)
  (save img d "small.png")
  (plug-in-wprior-upscale RUN-NONINTERACTIVE img d MODEL 4 0 4 1 0 0)
  (check "gray layer x4, 4 passes: size 192x160" (size-is d 192 160))
  (save img d "up4.png")
  (gimp-image-delete img))
(let* ((img (open "gray")) (d (active img)))
  (gimp-layer-set-offsets d 3 4)
  (plug-in-wprior-upscale RUN-NONINTERACTIVE img d MODEL 2 0 1 1 0 1)
  (check "layer x2, canvas grown: canvas 195x164"
         (and (= (car (gimp-image-width img)) 195) (= (car (gimp-image-height img)) 164)))
  (check "layer x2, canvas grown: layer 192x160 at 3,4" (and (size-is d 192 160) (offsets-are d 3 4)))
  (gimp-image-delete img))
(let* ((img (open "rgba")) (d (active img)) (l2 (car (gimp-layer-copy d TRUE))))
  (gimp-image-insert-layer img l2 0 -1)
  (gimp-layer-scale l2 48 40 FALSE)
  (gimp-layer-set-offsets l2 20 10)
  (gimp-layer-set-offsets d -10 -5)
  (plug-in-wprior-upscale RUN-NONINTERACTIVE img d MODEL 2 0 1 1 0 1)
  (check "layer at -10,-5 x2, canvas grown left and up: canvas 192x160"
         (and (= (car (gimp-image-width img)) 192) (= (car (gimp-image-height img)) 160)))
  (check "canvas grown left and up: the layer 192x160 at 0,0" (and (size-is d 192 160) (offsets-are d 0 0)))
  (check "canvas grown left and up: the other layer moved with it, its size kept"
         (and (size-is l2 48 40) (offsets-are l2 30 15)))
  (gimp-image-delete img))
(let* ((img (open "gray")) (d (active img)))
  (gimp-layer-scale d 40 30 FALSE)
  (gimp-layer-set-offsets d 4 6)
  (plug-in-wprior-upscale RUN-NONINTERACTIVE img d MODEL 2 0 1 1 0 1)
  (check "a layer that still fits: the canvas stays 96x80"
         (and (= (car (gimp-image-width img)) 96) (= (car (gimp-image-height img)) 80)))
  (check "a layer that still fits: 80x60 at 4,6" (and (size-is d 80 60) (offsets-are d 4 6)))
  (gimp-image-delete img))'
# ---- sample ----
B_SAMPLE='
(for-each (lambda (kind)
  (let* ((img (open kind)) (d (active img))
         (l (car (plug-in-wprior-sample RUN-NONINTERACTIVE img d MODEL 64 48 5 0 0))))
    (check (string-append kind " sample: a 64x48 layer") (size-is l 64 48))
    (check (string-append kind " sample: one layer more") (= (nlayers img) 2))
    (check (string-append kind " sample: layer type follows the image")
           (= (car (gimp-drawable-type l)) (if (equal? kind "gray") GRAYA-IMAGE RGBA-IMAGE)))
    (save img l (string-append kind "-sample.png"))
    (save img d (string-append kind "-aftersample.png"))
    (gimp-image-delete img)))
  (list "rgb" "rgba" "gray" "rgb16"))
(let* ((img (open "gray")) (d (active img))
       (l (car (plug-in-wprior-sample RUN-NONINTERACTIVE img d MODEL 64 48 5 0 0)))
       (l2 (car (plug-in-wprior-sample RUN-NONINTERACTIVE img d MODEL 64 48 5 1 0)))
       (l3 (car (plug-in-wprior-sample RUN-NONINTERACTIVE img d MODEL 64 48 5 1 1))))
  (save img l "gray-sample2.png")
  (save img l2 "gray-sample-normal.png")
  (save img l3 "gray-sample-tiled.png")
  (gimp-image-delete img))
(check "plug-in-wprior-texture is registered"
       (= 1 (car (gimp-procedural-db-proc-exists "plug-in-wprior-texture"))))
(for-each (lambda (kind)
  (let* ((img (load (string-append "tex-" kind ".png"))) (d (active img)))
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 8 12 48 40)
    (let ((l (car (plug-in-wprior-texture RUN-NONINTERACTIVE img d MODEL 0 0 5 1))))
      (check (string-append kind " texture, no size: the layer size 96x80 at 0,0")
             (and (size-is l 96 80) (offsets-are l 0 0)))
      (check (string-append kind " texture: one layer more") (= (nlayers img) 2))
      (check (string-append kind " texture: layer type follows the image")
             (= (car (gimp-drawable-type l)) (if (equal? kind "gray") GRAYA-IMAGE RGBA-IMAGE)))
      (save img l (string-append kind "-texture.png"))
      (save img d (string-append kind "-aftertexture.png")))
    (let ((l2 (car (plug-in-wprior-texture RUN-NONINTERACTIVE img d MODEL 64 48 5 1))))
      (check (string-append kind " texture: a 64x48 layer") (size-is l2 64 48)))
    (gimp-selection-none img)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 4 4 12 30)
    (check (string-append kind " texture from a 12x30 selection fails")
           (not (catch #f (plug-in-wprior-texture RUN-NONINTERACTIVE img d MODEL 0 0 5 1) #t)))
    (check (string-append kind " texture: nothing added by the failing run") (= (nlayers img) 3))
    (gimp-image-delete img)))
  (list "rgb" "gray"))'
make_textures
# ---- sample at the image's or selection's size; the gray model on a gray layer ----
mkdir -p "$T/colour"
"$WPRIOR" meta "$SRC/models/stone.safetensors" name=stone sample.max_iter=40 \
    -o "$T/colour/stone.safetensors" >/dev/null || bad "wprior meta stone"
# the default gray model, found before any installed one: the face prior
"$WPRIOR" meta "$MODEL" name=photo-gray -o "$T/colour/photo-gray.safetensors" >/dev/null ||
    bad "wprior meta photo-gray"
B_DEFAULTS='
(let* ((img (open "rgb")) (d (active img))
       (l (car (plug-in-wprior-sample RUN-NONINTERACTIVE img d "stone" 0 0 5 0 0))))
  (check "sample, no size: the image size 96x80 at 0,0" (and (size-is l 96 80) (offsets-are l 0 0)))
  (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 10 20 40 30)
  (let ((l2 (car (plug-in-wprior-sample RUN-NONINTERACTIVE img d "stone" 0 0 5 0 0))))
    (check "sample, no size: the selection 40x30 at 10,20" (and (size-is l2 40 30) (offsets-are l2 10 20))))
  (gimp-image-delete img))
(let* ((img (open "rgb")) (d (active img)))
  (plug-in-wprior-denoise RUN-NONINTERACTIVE img d "stone" 1.0 1 1)
  (gimp-image-delete img))
(let* ((img (open "gray")) (d (active img)))
  (plug-in-wprior-denoise RUN-WITH-LAST-VALS img d "" 0.0 1 1)
  (save img d "gray-lastcolour.png")
  (gimp-image-delete img))'

# ---- heal: a 14x10 hole at 40,30 (HOLE); sharp; feathered; no selection ----
make_hole
B_HEAL='
(check "plug-in-wprior-heal is registered"
       (= 1 (car (gimp-procedural-db-proc-exists "plug-in-wprior-heal"))))
(for-each (lambda (kind)
  (let* ((img (open kind)) (d (active img)))
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 40 30 14 10)
    (plug-in-wprior-heal RUN-NONINTERACTIVE img d MODEL 0 1)
    (save img d (string-append kind "-heal.png"))
    (gimp-image-delete img)))
  (list "rgb" "rgba" "gray" "graya" "rgb16"))
(let* ((img (open "gray")) (d (active img)))
  (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 40 30 14 10)
  (plug-in-wprior-heal RUN-NONINTERACTIVE img d MODEL 1 7)
  (save img d "gray-heal-sharp.png")
  (gimp-selection-none img)
  (gimp-image-select-ellipse img CHANNEL-OP-REPLACE 30 24 28 20)
  (gimp-selection-feather img 10)
  (plug-in-wprior-heal RUN-NONINTERACTIVE img d MODEL 0 1)
  (save img d "gray-heal-feather.png")
  (gimp-selection-none img)
  (check "heal without a selection fails"
         (not (catch #f (plug-in-wprior-heal RUN-NONINTERACTIVE img d MODEL 0 1) #t)))
  (save img d "heal-nosel.png")
  (gimp-image-delete img))'

# ---- failing runs: a clear message, the image unchanged ----
head -c 3000 "$MODEL" >"$T/corrupt.safetensors"
B_CORRUPT='
(let* ((img (open "rgb")) (d (active img)))
  (check "a corrupt model fails"
         (not (catch #f (plug-in-wprior-denoise RUN-NONINTERACTIVE img d (path "corrupt.safetensors") 1.0 1 1) #t)))
  (check "a missing model fails"
         (not (catch #f (plug-in-wprior-upscale RUN-NONINTERACTIVE img d "no-such-model" 2 0 1 1 0 1) #t)))
  (check "a bad factor fails"
         (not (catch #f (plug-in-wprior-upscale RUN-NONINTERACTIVE img d MODEL 3 0 1 1 0 1) #t)))
  (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 40 30 14 10)
  (check "heal with a corrupt model fails"
         (not (catch #f (plug-in-wprior-heal RUN-NONINTERACTIVE img d (path "corrupt.safetensors") 0 1) #t)))
  (check "heal in mode 2 fails"
         (not (catch #f (plug-in-wprior-heal RUN-NONINTERACTIVE img d MODEL 2 1) #t)))
  (gimp-selection-none img)
  (let ((group (car (gimp-layer-group-new img))))
    (gimp-image-insert-layer img group 0 -1)
    (check "denoising a layer group fails"
           (not (catch #f (plug-in-wprior-denoise RUN-NONINTERACTIVE img group MODEL 1.0 1 1) #t))))
  (check "the layer keeps its size" (size-is d 96 80))
  (save img d "corrupt-after.png"))'

# One GIMP start for all of the above (each start costs seconds, minutes
# on a busy machine); the checks on their files follow.
gimp_batch main "$B_DENOISE $B_UPSCALE $B_SAMPLE $B_HEAL $B_CORRUPT"
# (a batch of its own: main alone nears GIMP_TIMEOUT on a loaded machine)
WPRIOR_MODEL_PATH=$T/models:$T/colour gimp_batch defaults "$B_DEFAULTS"
check_denoise() {
    for k in $KINDS; do
        [ -f "$T/$k-den.png" ] || { bad "denoise $k: no output"; continue; }
        "$WPRIOR" denoise -m "$MODEL" "$T/$k-orig.png" "$T/$k-cli.png" >/dev/null 2>&1
        expect_cmp "denoise $k equals wprior denoise within 1/255" $ONE 1 "$T/$k-cli.png" "$T/$k-den.png"
        expect_changed "denoise $k changed the pixels" "$T/$k-orig.png" "$T/$k-den.png"
    done
    expect_cmp "denoise rgba: alpha unchanged" 0 0 "$T/rgba-orig.png" "$T/rgba-den.png" --channel 3
    expect_cmp "denoise graya: alpha unchanged" 0 0 "$T/graya-orig.png" "$T/graya-den.png" --channel 1
    expect_cmp "denoise in a selection: nothing changes outside" 0 0 "$T/rgb-orig.png" "$T/sel-den.png" \
        --outside 24 16 40 32
    expect_changed "denoise in a selection: the inside changes" "$T/rgb-orig.png" "$T/sel-den.png" \
        --inside 24 16 40 32
    expect_cmp "denoise with the last values (model given by name, strength 1)" $ONE 1 \
        "$T/rgb-cli.png" "$T/lastvals-den.png"
    expect_cmp "gray layer after a colour model: the gray one is used (equals wprior denoise)" $ONE 1 \
        "$T/gray-cli.png" "$T/gray-lastcolour.png"
    expect_cmp "denoise at strength 0 changes nothing" $ONE $ONE "$T/gray-orig.png" "$T/strength0.png"
    "$WPRIOR" denoise -m "$MODEL" --ensemble 8 "$T/rgb-orig.png" "$T/rgb-cli8.png" >/dev/null 2>&1
    expect_cmp "denoise, 8 passes, equals wprior denoise --ensemble 8" $ONE 1 "$T/rgb-cli8.png" "$T/passes8.png"
    "$WPRIOR" denoise -m "$T/photo-gray.safetensors" --fast "$T/gray-orig.png" "$T/gray-fast.png" >/dev/null 2>&1
    expect_cmp "denoise, quality fast, equals wprior denoise --fast" $ONE 1 "$T/gray-fast.png" "$T/fast.png"
    "$WPRIOR" denoise -m "$T/photo-gray.safetensors" --blend "$T/gray-orig.png" "$T/gray-best.png" >/dev/null 2>&1
    expect_cmp "denoise, quality best, equals wprior denoise --blend" $ONE 1 "$T/gray-best.png" "$T/best.png"
}

check_upscale() {
    for k in rgb rgba gray rgb16; do
        [ -f "$T/$k-up.png" ] || { bad "upscale $k: no output"; continue; }
        expect_cmp "upscale $k: 2x2 block means keep the input" 1 0.004 "$T/$k-orig.png" "$T/$k-up.png" --scale 2
    done
    expect_cmp "upscale rgba: alpha enlarged unchanged" 0 0 "$T/rgba-orig.png" "$T/rgba-up.png" --scale 2 --channel 3
    "$WPRIOR" upscale -m "$MODEL" -f 2 --mode fast --seed 1 "$T/gray-orig.png" "$T/gray-cliup.png" >/dev/null 2>&1
    expect_cmp "upscale gray equals wprior upscale within 1/255" $ONE 1 "$T/gray-cliup.png" "$T/gray-up.png"
    expect_cmp "upscale into a new image equals the layer upscale" 0 0 "$T/gray-up.png" "$T/newimg-up.png"
    expect_cmp "upscale x4, 4 passes: 4x4 block means keep the input" 1 0.004 "$T/small.png" "$T/up4.png" --scale 4
    "$WPRIOR" upscale -m "$MODEL" -f 4 --ensemble 4 --seed 1 "$T/small.png" "$T/cli-up4.png" >/dev/null 2>&1
    expect_cmp "upscale x4, 4 passes, equals wprior upscale -f 4 --ensemble 4" $ONE 1 "$T/cli-up4.png" "$T/up4.png"
}

check_sample() {
    for k in rgb rgba gray rgb16; do
        [ -f "$T/$k-sample.png" ] || { bad "sample $k: no output"; continue; }
        expect_cmp "sample $k: the layer below is unchanged" 0 0 "$T/$k-orig.png" "$T/$k-aftersample.png"
        sd=$(convert "$T/$k-sample.png" -alpha off -format '%[fx:standard_deviation]' info:)
        if awk -v s="$sd" 'BEGIN { exit !(s > 0.02) }'; then ok "sample $k: not flat (std $sd)"; else bad "sample $k: flat (std $sd)"; fi
    done
    expect_cmp "sample: the same seed gives the same sample" 0 0 "$T/gray-sample.png" "$T/gray-sample2.png"
    "$WPRIOR" sample -m "$MODEL" --size 64x48 --seed 5 "$T/cli-sample.png" >/dev/null 2>&1
    convert "$T/gray-sample-normal.png" -strip -alpha off -define png:color-type=0 "$T/gray-sample-noalpha.png"
    expect_cmp "sample gray (normal quality) equals wprior sample within 1/255" $ONE 1 "$T/cli-sample.png" "$T/gray-sample-noalpha.png"
    "$WPRIOR" sample -m "$MODEL" --size 64x48 --seed 5 --tileable "$T/cli-tiled.png" >/dev/null 2>&1
    convert "$T/gray-sample-tiled.png" -strip -alpha off -define png:color-type=0 "$T/gray-tiled-noalpha.png"
    expect_cmp "sample, tiling 1, equals wprior sample --tileable" $ONE 1 "$T/cli-tiled.png" "$T/gray-tiled-noalpha.png"
    expect_changed "sample: tiling 1 differs from the face prior's plain sample" "$T/gray-sample-noalpha.png" "$T/gray-tiled-noalpha.png"
    for k in rgb gray; do
        [ -f "$T/$k-texture.png" ] || { bad "texture $k: no output"; continue; }
        expect_cmp "texture $k: the layer below is unchanged" 0 0 "$T/tex-$k.png" "$T/$k-aftertexture.png"
        # the selection's texture: its mean level and contrast, roughly
        read -r m0 s0 < <(convert "$T/tex-$k.png" -crop 48x40+8+12 -alpha off -colorspace Gray \
            -format '%[fx:mean] %[fx:standard_deviation]' info:)
        read -r m1 s1 < <(convert "$T/$k-texture.png" -alpha off -colorspace Gray \
            -format '%[fx:mean] %[fx:standard_deviation]' info:)
        awk -v a="$m0" -v b="$m1" -v s="$s0" -v t="$s1" 'BEGIN { d = a - b; exit !(d * d < 0.03 * 0.03 && t > 0.5 * s && t < 1.5 * s) }' &&
            ok "texture $k: the selection's mean and contrast (mean $m1 vs $m0, std $s1 vs $s0)" ||
            bad "texture $k: mean $m1 vs $m0, std $s1 vs $s0"
    done
    grep -q 'a texture needs at least 16x16' "$T/main.log" &&
        ok "texture from a small selection: GIMP shows why" || bad "texture from a small selection: no clear message"
    check_texture_gray "$T/gray-texture.png"
}

check_heal() {
    for k in $KINDS; do
        expect_heal "heal $k" "$T/$k-orig.png" "$T/$k-heal.png" --seed 1
    done
    expect_cmp "heal rgba: alpha unchanged" 0 0 "$T/rgba-orig.png" "$T/rgba-heal.png" --channel 3
    expect_cmp "heal graya: alpha unchanged" 0 0 "$T/graya-orig.png" "$T/graya-heal.png" --channel 1
    expect_heal "heal gray, sharp" "$T/gray-orig.png" "$T/gray-heal-sharp.png" --mode sharp --seed 7
    expect_heal_edges "$T/gray-heal-sharp.png" "$T/gray-heal-feather.png" "$T/heal-nosel.png" "$T/main.log"
}

check_corrupt() {
    grep -q "Cannot use the model .*corrupt.safetensors" "$T/main.log" &&
        ok "corrupt model: GIMP shows why" || { bad "corrupt model: no clear message"; cat "$T/main.log"; }
    grep -q 'Model "no-such-model" not found' "$T/main.log" &&
        ok "missing model: GIMP shows why" || bad "missing model: no clear message"
    grep -q 'not on layer groups' "$T/main.log" &&
        ok "layer group: GIMP shows why" || bad "layer group: no clear message"
    expect_cmp "failing runs leave the image unchanged" 0 0 "$T/rgb-orig.png" "$T/corrupt-after.png"
}
check_denoise
check_upscale
check_sample
check_heal
check_corrupt

# A tight budget that still fits: the engine works in tiles, same pixels.
convert "$SRC/tests/data/astronaut_face320.png" +repage -seed 3 -attenuate 1.0 +noise Gaussian \
    -colorspace Gray -define png:color-type=0 "$T/big.png"
export WPRIOR_MAX_MEMORY=12M
gimp_batch tiled '
(let* ((img (load "big.png")) (d (active img)))
  (plug-in-wprior-denoise RUN-NONINTERACTIVE img d MODEL 1.0 1 1)
  (save img d "big-den.png"))'
"$WPRIOR" denoise -m "$MODEL" "$T/big.png" "$T/big-cli.png" >/dev/null 2>&1
expect_cmp "denoise 320x320 within a 12 MiB budget equals wprior denoise" $ONE 1 "$T/big-cli.png" "$T/big-den.png"

export WPRIOR_MAX_MEMORY=20K
gimp_batch budget '
(let* ((img (open "rgb")) (d (active img)))
  (check "denoise over the memory budget fails"
         (not (catch #f (plug-in-wprior-denoise RUN-NONINTERACTIVE img d MODEL 1.0 1 1) #t)))
  (check "upscale over the memory budget fails"
         (not (catch #f (plug-in-wprior-upscale-image RUN-NONINTERACTIVE img d MODEL 2 0 1 1) #t)))
  (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 40 30 14 10)
  (check "heal over the memory budget fails"
         (not (catch #f (plug-in-wprior-heal RUN-NONINTERACTIVE img d MODEL 0 1) #t)))
  (check "the canvas keeps its size" (= (car (gimp-image-width img)) 96))
  (save img d "budget-after.png"))'
unset WPRIOR_MAX_MEMORY
grep -q "Not enough memory" "$T/budget.log" &&
    ok "memory budget: GIMP shows why" || { bad "memory budget: no clear message"; cat "$T/budget.log"; }
expect_cmp "runs over the budget leave the image unchanged" 0 0 "$T/rgb-orig.png" "$T/budget-after.png"

finish
