#!/bin/bash
# The committed po/wavelet-prior.pot holds exactly the strings marked in the
# sources of po/POTFILES, and every language of po/LINGUAS translates all of
# them (nothing fuzzy, nothing missing).  Refresh with
#   ninja -C BUILD wavelet-prior-pot wavelet-prior-update-po
# Usage: check-pot.sh SOURCE_ROOT
set -u
for p in xgettext msgattrib msgcmp msgfmt; do
    command -v $p >/dev/null || { echo "SKIP: $p not installed"; exit 77; }
done
cd "$1" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
    --keyword=g_dngettext:2,3 --files-from=po/POTFILES -o "$tmp/new.pot" || exit 1
# The identity of each entry: its msgctxt, msgid and plural.
ids() { msgattrib --no-location --sort-output --no-wrap "$1" | grep -E '^(msgctxt|msgid|msgid_plural) '; }
if diff <(ids po/wavelet-prior.pot) <(ids "$tmp/new.pot") >"$tmp/diff"; then
    echo "ok   po/wavelet-prior.pot is up to date ($(grep -c '^msgid ' "$tmp/new.pot") entries)"
else
    echo "FAIL po/wavelet-prior.pot is out of date (< committed, > sources):"; cat "$tmp/diff"; status=1
fi
for lang in $(cat po/LINGUAS); do
    stats=$(msgfmt --check --statistics -o /dev/null "po/$lang.po" 2>&1)
    if ! msgcmp "po/$lang.po" po/wavelet-prior.pot 2>"$tmp/cmp"; then
        echo "FAIL po/$lang.po misses entries:"; cat "$tmp/cmp"; status=1
    elif echo "$stats" | grep -qE 'fuzzy|untranslated|error'; then
        echo "FAIL po/$lang.po: $stats"; status=1
    else
        echo "ok   po/$lang.po: $stats"
    fi
done
exit $status
