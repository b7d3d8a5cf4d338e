#!/bin/bash
# bench/val-by-tag on a synthetic corpus (wp_synth's images: 3 validation images of 2 tags and
# a training image; the tiny gray test prior, given twice): one row per tag with its count and
# mean PSNRs, equal to the means of `wprior eval --per-image`'s lines for its images; the `all`
# row equal to eval's own mean; the training image left out; no corpus -> skip (77).
# usage: val_by_tag_test.sh SOURCE_ROOT WPRIOR WP_SYNTH
set -u
SRC=$1
WPRIOR=$(realpath "$2") SYNTH=$(realpath "$3")
T=$(mktemp -d /tmp/wprior-val-by-tag-test-XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
MODEL=$SRC/tests/fuzz/corpus/model/tiny_gray.safetensors
D=$T/data
mkdir -p "$D/photos/p"

printf 'file\ttag\tsplit\n' >"$D/manifest.tsv"
i=0
for spec in "a text val" "b text val" "c fur val" "d fur train"; do
    read -r name tag split <<<"$spec"
    i=$((i + 1))
    "$SYNTH" "$D/photos/p/$name.png" 48 40 3 "$i" || bad "wp_synth $name"
    printf 'photos/p/%s.png\t%s\t%s\n' "$name" "$tag" "$split" >>"$D/manifest.tsv"
done
awk -F'\t' '$3 == "val" { print $1 }' "$D/manifest.tsv" >"$D/val.txt"

WPRIOR=$WPRIOR "$SRC/bench/val-by-tag" -s 25 -d "$D" -o "$T/out.md" "$MODEL" "$MODEL" >"$T/log" 2>&1
rc=$?
[ $rc -eq 0 ] && [ -f "$T/out.md" ] && ok "val-by-tag ran" || bad "val-by-tag: exit $rc: $(tail -3 "$T/log")"

# the reference: eval's per-image lines (image sigma noisy denoised ...) and its mean row
"$WPRIOR" eval -m "$MODEL" --clean "$D/val.txt" --sigma 25 --per-image >"$T/eval.txt" 2>&1 ||
    bad "wprior eval: $(tail -2 "$T/eval.txt")"
mean() { # IMAGES... -> "noisy denoised" means over their per-image lines
    awk -v want=" $* " 'NF >= 4 && $2 + 0 == $2 {
        n = split($1, p, "/"); if (index(want, " " p[n] " ")) { a += $3; b += $4; c++ } }
        END { if (c) printf "%.3f %.3f\n", a / c, b / c }' "$T/eval.txt"
}
row() { # TAG -> "images noisy model1 model2" of the table
    awk -F' *\\| *' -v t="$1" '$2 == t { print $3, $4, $5, $6 }' "$T/out.md"
}
close() { # NAME GOT WANT: equal within 0.002 dB (the table averages unrounded values)
    if awk -v g="$2" -v w="$3" 'BEGIN { n = split(g, x, " "); split(w, y, " ");
            for (i = 1; i <= n; i++) if (x[i] - y[i] > 0.002 || y[i] - x[i] > 0.002 || x[i] == "") exit 1 }'; then
        ok "$1: $2"
    else
        bad "$1: got '$2', want '$3'"
    fi
}
read -r n_text noisy_text m1_text m2_text <<<"$(row text)"
read -r n_fur noisy_fur m1_fur m2_fur <<<"$(row fur)"
read -r n_all noisy_all m1_all _ <<<"$(row all)"
[ "$n_text $n_fur $n_all" = "2 1 3" ] && ok "counts: text 2, fur 1, all 3 (the training image left out)" ||
    bad "counts: text '$n_text', fur '$n_fur', all '$n_all'"
close "text: noisy and denoised means of a and b" "$noisy_text $m1_text" "$(mean a.png b.png)"
close "fur: c alone" "$noisy_fur $m1_fur" "$(mean c.png)"
close "the second model's column (the same prior)" "$m2_text $m2_fur" "$m1_text $m1_fur"
close "all: eval's own mean" "$noisy_all $m1_all" "$(awk '$1 == "sigma" { on = 1; next } on && NF >= 3 { print $2, $3; exit }' "$T/eval.txt")"

"$SRC/bench/val-by-tag" -d "$T/none" "$MODEL" >/dev/null 2>&1
[ $? -eq 77 ] && ok "no corpus: skip (77)" || bad "no corpus: not 77"
finish
