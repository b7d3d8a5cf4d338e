#!/bin/bash
# The committed help pages are what wprior-mkhelp makes of the job
# descriptors today, and GIMP's map (gimp-help.xml) names a page for each
# procedure that exists.  Refresh with  ninja -C BUILD wavelet-prior-help
# Usage: check-help.sh MKHELP HELP_DIR
set -u
mkhelp=$1 dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
"$mkhelp" "$tmp" || { echo "FAIL wprior-mkhelp failed"; exit 1; }
if diff -r "$dir/en" "$tmp/en" >"$tmp/diff"; then
    echo "ok   help/en is up to date ($(ls "$dir/en" | wc -l) files)"
else
    echo "FAIL help/en is out of date (ninja -C BUILD wavelet-prior-help):"; head -40 "$tmp/diff"; fail=1
fi
n=0
while read -r id ref; do
    n=$((n + 1))
    [ -s "$dir/en/$ref" ] || { echo "FAIL gimp-help.xml: $id -> $ref is missing"; fail=1; }
    grep -q "<code>$id</code>" "$dir/en/$ref" || { echo "FAIL $ref does not describe $id"; fail=1; }
done < <(sed -n 's/.*<help-item id="\([^"]*\)" ref="\([^"]*\)".*/\1 \2/p' "$dir/en/gimp-help.xml")
# one page per procedure, as wprior-mkhelp writes them from the descriptors
procs=$(ls "$tmp/en"/*.html | wc -l)
[ "$n" -eq "$procs" ] && echo "ok   gimp-help.xml maps the $procs procedures to their pages" ||
    { echo "FAIL gimp-help.xml maps $n procedures, not $procs"; fail=1; }
exit $fail
