#!/bin/bash
# CLI tests of `wprior train` and `wprior eval` on synthetic images (no data
# folder needed): a tiny training run, its model in denoise/upscale/sample,
# SIGTERM + --resume, resume equivalence, kill -9 while checkpointing, eval
# with a plot, and bad input.
# Usage: train_test.sh WPRIOR WP_SYNTH
set -u
WPRIOR=$1
SYNTH=$2
T=$(mktemp -d /tmp/wprior-train-cli-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
export OPENBLAS_NUM_THREADS=1

# --- synthetic data: gray and RGB images in subfolders, and a list file ---
mkdir -p "$T/imgs/a" "$T/imgs/b" "$T/val"
for i in 0 1 2 3 4; do "$SYNTH" "$T/imgs/a/g$i.png" 48 40 1 "$i" || bad "wp_synth"; done
for i in 5 6; do "$SYNTH" "$T/imgs/b/c$i.png" 56 44 3 "$i" || bad "wp_synth"; done
"$SYNTH" "$T/val/v.png" 64 64 1 9
printf 'a/g0.png\n# a comment\nb/c5.png\n' >"$T/imgs/list.txt"

TINY=(--preset tiny --steps 30 --val-every 10 --threads 1 --seed 3)

# --- a tiny run: model, log, throughput line ---
if "$WPRIOR" train "${TINY[@]}" --data "$T/imgs" --val "$T/val" -o "$T/m.safetensors" \
    --name tinytest -q 2>"$T/err"; then
    ok "train (tiny preset, 2 levels, 3 networks)"
else
    bad "train: $(cat "$T/err")"
fi
grep -q "samples/s.*GFLOP/s" "$T/err" && ok "throughput printed" || bad "no throughput line: $(cat "$T/err")"
n=$(grep -c '"val_psnr":[0-9]' "$T/m.safetensors.log.jsonl" 2>/dev/null)
[ "${n:-0}" -ge 9 ] && ok "JSON log with $n validation lines" || bad "JSON log: ${n:-none}"
if "$WPRIOR" info "$T/m.safetensors" >"$T/info" && grep -q "name: tinytest" "$T/info" &&
    grep -q "training: wprior train" "$T/info"; then
    ok "info shows the training metadata"
else
    bad "info: $(cat "$T/info")"
fi

# --- the model works in the other commands ---
"$WPRIOR" denoise -m "$T/m.safetensors" "$T/imgs/b/c5.png" "$T/den.png" 2>"$T/err" &&
    [ -s "$T/den.png" ] && ok "denoise with the trained model" || bad "denoise: $(cat "$T/err")"
if "$WPRIOR" upscale --help >/dev/null 2>&1; then
    "$WPRIOR" upscale -m "$T/m.safetensors" -f 2 --threads 1 "$T/val/v.png" "$T/up.png" 2>"$T/err" &&
        [ -s "$T/up.png" ] && ok "upscale with the trained model" || bad "upscale: $(cat "$T/err")"
fi
if "$WPRIOR" sample --help >/dev/null 2>&1; then
    "$WPRIOR" sample -m "$T/m.safetensors" --size 32x32 --threads 1 "$T/s.png" 2>"$T/err" &&
        [ -s "$T/s.png" ] && ok "sample with the trained model" || bad "sample: $(cat "$T/err")"
fi

# --- a list file, an RGB prior and a flat one ---
"$WPRIOR" train "${TINY[@]}" --channels 3 --data "$T/imgs/list.txt" -o "$T/rgb.safetensors" -q \
    2>"$T/err" && ok "RGB prior from a list file" || bad "RGB: $(cat "$T/err")"
"$WPRIOR" train "${TINY[@]}" --flat --data "$T/imgs" -o "$T/flat.safetensors" -q 2>"$T/err" &&
    "$WPRIOR" info "$T/flat.safetensors" | grep -q "kind: flat" && ok "flat prior" ||
    bad "flat: $(cat "$T/err")"
"$WPRIOR" train "${TINY[@]}" --flat --ema 0.99 --data "$T/imgs" -o "$T/ema.safetensors" -q 2>"$T/err" &&
    "$WPRIOR" info "$T/ema.safetensors" | grep -q "weight average 0.99" &&
    ok "--ema: the model says its weight average" || bad "--ema: $(cat "$T/err")"

# --- a flat net fine-tuned from a multi-scale model with an up net: the
# flat model holds its own net only (and not how the up net was trained),
# and becomes a den; --layers 4: the depth of the tiny low-pass net it starts
# from ---
if "$WPRIOR" train "${TINY[@]}" --steps 10 --only up --finetune "$T/m.safetensors" --data "$T/imgs" \
    -o "$T/mup.safetensors" -q 2>"$T/err" &&
    "$WPRIOR" train "${TINY[@]}" --steps 10 --flat --layers 4 --finetune "$T/mup.safetensors" --data "$T/imgs" \
        -o "$T/fl2.safetensors" -q 2>>"$T/err" &&
    "$WPRIOR" info "$T/fl2.safetensors" >"$T/info" && ! grep -qE "^net up|^training.up" "$T/info" &&
    "$WPRIOR" combine "$T/mup.safetensors" --den "$T/fl2.safetensors" -o "$T/mden.safetensors" 2>>"$T/err" &&
    "$WPRIOR" info "$T/mden.safetensors" | grep -q "^net den"; then
    ok "flat fine-tune of a model with an up net: no up tensors, combine --den takes it"
else
    bad "flat fine-tune from an up model: $(cat "$T/err" "$T/info")"
fi

# --- eval: table and plot ---
if "$WPRIOR" eval -m "$T/m.safetensors" --flat "$T/flat.safetensors" --clean "$T/val" \
    --sigma 15,50 --plot "$T/plot.png" >"$T/eval" 2>"$T/err"; then
    grep -q "multi-scale.*flat" "$T/eval" && [ "$(grep -cE '^ +(15|50) ' "$T/eval")" -eq 2 ] &&
        ok "eval table" || bad "eval table: $(cat "$T/eval")"
    if grep -q "no cairo" <("$WPRIOR" eval --help); then
        echo "skip plot (no cairo)"
    else
        [ "$(head -c 4 "$T/plot.png" | tail -c 3)" = "PNG" ] && ok "eval plot" || bad "no plot PNG"
    fi
else
    bad "eval: $(cat "$T/err")"
fi

# --- eval --oracle: a perfect low-pass net or perfect details score higher ---
score() { "$WPRIOR" eval -m "$T/m.safetensors" --clean "$T/val" --sigma 50 "$@" | awk '$1 == 50 { print $3 }'; }
plain=$(score) olow=$(score --oracle low) odet=$(score --oracle details)
awk -v p="$plain" -v l="$olow" -v d="$odet" 'BEGIN { exit !(p > 5 && l > p && d > p) }' &&
    ok "eval --oracle (plain $plain, clean low-pass $olow, clean details $odet dB)" ||
    bad "eval --oracle: plain '$plain', low '$olow', details '$odet'"

# --- SIGTERM checkpoints; --resume finishes ---
"$WPRIOR" train "${TINY[@]}" --steps 3000 --checkpoint-every 10 --data "$T/imgs" \
    -o "$T/int.safetensors" -q 2>"$T/err" &
pid=$!
for _ in $(seq 100); do [ -f "$T/int.safetensors.ckpt" ] && break; sleep 0.05; done
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -eq 143 ] && grep -q "resume" "$T/err" && [ -f "$T/int.safetensors.ckpt" ]; then
    ok "SIGTERM: checkpoint kept, exit 143"
else
    bad "SIGTERM: exit $rc, $(cat "$T/err")"
fi
"$WPRIOR" train --resume "$T/int.safetensors.ckpt" --max-steps 20 -q 2>"$T/err" &&
    ok "resume from the checkpoint" || bad "resume: $(cat "$T/err")"

# --- resume equivalence through the CLI: same losses step for step ---
losses() { sed 's/.*"total_step":\([0-9]*\),"loss":\([^,]*\),.*/\1 \2/' "$1"; }
"$WPRIOR" train "${TINY[@]}" --log-every 1 --data "$T/imgs" -o "$T/a.safetensors" -q 2>/dev/null
"$WPRIOR" train "${TINY[@]}" --log-every 1 --data "$T/imgs" -o "$T/b.safetensors" --max-steps 37 -q 2>/dev/null
"$WPRIOR" train --resume "$T/b.safetensors.ckpt" --log-every 1 -q 2>"$T/err"
if [ "$(losses "$T/a.safetensors.log.jsonl" | wc -l)" -eq 90 ] &&
    diff <(losses "$T/a.safetensors.log.jsonl") <(losses "$T/b.safetensors.log.jsonl") >"$T/diff"; then
    ok "interrupted + resumed run logs the same 90 losses"
else
    bad "resume equivalence: $(head -5 "$T/diff") $(cat "$T/err")"
fi

# --- kill -9 while checkpointing every step, repeated: a loadable checkpoint remains ---
KILLRUN=(--steps 100000 --low-width 64 --width 64 --checkpoint-every 1)
"$WPRIOR" train "${TINY[@]}" "${KILLRUN[@]}" --data "$T/imgs" -o "$T/k.safetensors" -q 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -f "$T/k.safetensors.ckpt" ] && break; sleep 0.05; done
good=0
for i in $(seq 20); do
    sleep 0.$((RANDOM % 4 + 1))$((RANDOM % 10))
    kill -9 $pid
    wait $pid 2>/dev/null
    "$WPRIOR" train --resume "$T/k.safetensors.ckpt" --max-steps 1 --checkpoint "$T/v.ckpt" \
        -o "$T/v.safetensors" -q 2>>"$T/err" && good=$((good + 1))
    "$WPRIOR" train --resume "$T/k.safetensors.ckpt" --checkpoint-every 1 -q 2>/dev/null &
    pid=$!
done
kill -9 $pid
wait $pid 2>/dev/null
[ $good -eq 20 ] && ok "kill -9 while checkpointing, 20 times at random moments: the checkpoint always loads and resumes" ||
    bad "kill -9: $good/20 checkpoints loadable: $(tail -3 "$T/err")"

# --- bad input: a message and a non-zero exit ---
expect_fail() {
    local name=$1 needle=$2
    shift 2
    if "$@" >"$T/out" 2>"$T/err"; then
        bad "$name: exited 0"
    elif ! grep -qF -- "$needle" "$T/err"; then
        bad "$name: stderr lacks '$needle': $(cat "$T/err")"
    else
        ok "$name"
    fi
}
mkdir -p "$T/empty"
expect_fail "train without data" "--data" "$WPRIOR" train -o "$T/x.safetensors"
expect_fail "train on an empty folder" "no PNG or JPEG" "$WPRIOR" train --data "$T/empty" -o "$T/x.safetensors"
expect_fail "unknown network" "cond5" "$WPRIOR" train "${TINY[@]}" --only cond5 --data "$T/imgs" -o "$T/x.safetensors"
expect_fail "unreachable receptive field" "receptive field 99" "$WPRIOR" train "${TINY[@]}" --rf 99 --data "$T/imgs" -o "$T/x.safetensors"
expect_fail "resume with training options" "come from the checkpoint" "$WPRIOR" train --resume "$T/m.safetensors.ckpt" --lr 0.1
expect_fail "weight average 1" "--ema" "$WPRIOR" train "${TINY[@]}" --ema 1 --data "$T/imgs" -o "$T/x.safetensors"
expect_fail "resume from a model file" "not a usable checkpoint" "$WPRIOR" train --resume "$T/m.safetensors"
expect_fail "eval without images" "--clean" "$WPRIOR" eval -m "$T/m.safetensors"
expect_fail "bad sigma list" "--sigma" "$WPRIOR" eval -m "$T/m.safetensors" --clean "$T/val" --sigma 5,x
expect_fail "oracle with the ensemble" "one pass" "$WPRIOR" eval -m "$T/m.safetensors" --clean "$T/val" --oracle low --ensemble 2
# a flat net moved by a pixel only moves: its 8 symmetries are all its passes
expect_fail "flat prior, 9 passes" "0..8 for a flat prior" "$WPRIOR" denoise -m "$T/flat.safetensors" --ensemble 9 "$T/val/$(ls "$T/val" | head -1)" "$T/x.png"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
