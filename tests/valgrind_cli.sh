#!/bin/bash
# valgrind over CLI denoise, upscale, inpaint and sample on a small image with a tiny
# model: no memory errors, no leaks.  usage: valgrind_cli.sh WPRIOR
set -u
WPRIOR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
MODEL=$HERE/fuzz/corpus/model/tiny_gray.safetensors
IMG=$HERE/fuzz/corpus/image/rgb16.png
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if ! command -v valgrind >/dev/null; then
    echo "valgrind not installed: skipped"
    exit 77
fi
VG=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect)
pass=0
fail=0
run() {
    local name=$1
    shift
    if "${VG[@]}" "$@" >"$T/out" 2>&1; then
        pass=$((pass + 1)); echo "ok   $name"
    else
        fail=$((fail + 1)); echo "FAIL $name"; cat "$T/out"
    fi
}
run "denoise" "$WPRIOR" denoise -m "$MODEL" --threads 2 "$IMG" "$T/d.png"
run "upscale" "$WPRIOR" upscale -m "$MODEL" -f 2 --mode sharp --max-iter 5 "$IMG" "$T/u.png"
run "inpaint" "$WPRIOR" inpaint -m "$MODEL" --mode sharp --max-iter 5 --mask "$IMG" "$IMG" "$T/i.png"
run "sample" "$WPRIOR" sample -m "$MODEL" --size 16x8 --max-iter 5 "$T/s.png"
run "info" "$WPRIOR" info "$MODEL"
# an error path: a truncated model
head -c 300 "$MODEL" >"$T/bad.safetensors"
"${VG[@]}" "$WPRIOR" denoise -m "$T/bad.safetensors" "$IMG" "$T/x.png" >"$T/out" 2>&1
rc=$? # 1: the expected error; 99: valgrind found something
if [ $rc -eq 1 ]; then
    pass=$((pass + 1)); echo "ok   truncated model fails cleanly"
else
    fail=$((fail + 1)); echo "FAIL truncated model (exit $rc)"; cat "$T/out"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
