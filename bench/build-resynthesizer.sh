#!/bin/bash
# Builds Resynthesizer's C engine plug-in (the peer of bench/inpaint.sh's
# heal column) for GIMP 2.10 from its source, which Debian 12 does not
# package: https://github.com/bootchk/resynthesizer, tag v2.0.3 (GPL-3+).
# Only the engine is built; bench/inpaint.sh does heal selection's steps
# itself in Script-Fu (its Python wrapper needs GIMP 2.10's Python-Fu,
# which Debian 12 lacks).
# usage: bench/build-resynthesizer.sh SRC_DIR OUT_BINARY
#   then: RESYNTH=OUT_BINARY bench/inpaint.sh
set -euo pipefail
[ $# = 2 ] || { echo "usage: bench/build-resynthesizer.sh SRC_DIR OUT_BINARY" >&2; exit 2; }
src=$1 out=$2
[ -f "$src/src/resynthesizer/resynthesizer.c" ] && [ -f "$src/lib/engine.c" ] ||
    { echo "$src: not a Resynthesizer 2.x source tree" >&2; exit 1; }
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT
# what its configure script would define
printf '#define GETTEXT_PACKAGE "resynthesizer"\n#define SYNTH_THREADED 1\n' >"$cfg/config.h"
# shellcheck disable=SC2046 # pkg-config's flags are words
gcc -O2 -w -include "$cfg/config.h" -DHAVE_CONFIG_H -DLOCALEDIR=\"/usr/share/locale\" \
    -DDATADIR=\"/usr/share\" -I"$src" -I"$src/lib" -I"$src/src" $(pkg-config --cflags gimp-2.0 gthread-2.0) \
    "$src"/lib/{imageSynth,engine,engineParams,imageFormat,progress}.c \
    "$src/src/resynthesizer/resynthesizer.c" -o "$out" $(pkg-config --libs gimp-2.0 gthread-2.0) -lm
echo "built $out"
