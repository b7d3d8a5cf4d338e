#!/bin/bash
# The shared library exports exactly the public API: every dynamic symbol
# it defines is a wp_ function that wprior.h or wprior_train.h declares,
# and every function they declare is there.
# Usage: exports_test.sh LIBWPRIOR.so HEADER...
set -u
lib=$1; shift
command -v nm >/dev/null || { echo "SKIP: nm not installed"; exit 77; }
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
declared=$(sed 's|/\*.*\*/||' "$@" | grep -o '\bwp_[A-Za-z0-9_]*[[:space:]]*(' | tr -d ' (' | sort -u)
status=0
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
[ -z "$extra" ] && echo "ok   no symbol beyond the public API ($(echo "$exported" | wc -l) exported)" ||
    { echo "FAIL exported but not in the public headers:" $extra; status=1; }
[ -z "$missing" ] && echo "ok   every declared function is exported" ||
    { echo "FAIL declared but not exported:" $missing; status=1; }
exit $status
