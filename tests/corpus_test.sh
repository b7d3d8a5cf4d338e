#!/bin/bash
# Tests of the training-corpus script without network: --help, the measurements of
# scripts/corpus.py on synthetic images (noise estimates, blockiness, box average, dHash,
# DEP-5 licences, Qt .rcc reading, validation coverage, the stable split, per-file factors,
# adding validation images to a corpus), --check of a corpus
# when WPRIOR_DATA_DIR names one, and that no image changed split from the corpus
# WPRIOR_CORPUS_SPLIT_FROM names (the one it was built from).  Skips (77) without Debian's
# python3 with PIL and numpy.
# Usage: corpus_test.sh SOURCE_ROOT
set -u
ROOT=$1
PY=/usr/bin/python3
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

if out=$("$ROOT/scripts/fetch-training-data.sh" --help) && grep -q -- '--check' <<<"$out" \
    && grep -q 'manifest.tsv' <<<"$out"; then
    ok "--help"
else
    bad "--help"
fi
if "$ROOT/scripts/fetch-training-data.sh" --bogus >/dev/null 2>&1; then bad "unknown option fails"; else ok "unknown option fails"; fi

if ! [ -x "$PY" ] || ! "$PY" -c 'import PIL, numpy' 2>/dev/null; then
    echo "skip: $PY with python3-pil and python3-numpy not found ($pass passed)"
    [ "$fail" = 0 ] && exit 77 || exit 1
fi
if "$PY" "$ROOT/scripts/corpus.py" selftest; then ok "corpus.py selftest"; else bad "corpus.py selftest"; fi

if [ -n "${WPRIOR_DATA_DIR:-}" ] && [ -f "$WPRIOR_DATA_DIR/manifest.tsv" ]; then
    if "$ROOT/scripts/fetch-training-data.sh" --check; then ok "--check $WPRIOR_DATA_DIR"; else bad "--check"; fi
    # a corpus built from an earlier one keeps every common image in its split
    prev=${WPRIOR_CORPUS_SPLIT_FROM:-}
    if [ -n "$prev" ] && [ -f "$prev/manifest.tsv" ]; then
        if "$PY" "$ROOT/scripts/corpus.py" compare "$prev" "$WPRIOR_DATA_DIR"; then
            ok "no image moved split from $prev"
        else
            bad "images moved split from $prev"
        fi
    fi
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
