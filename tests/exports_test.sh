#!/bin/bash
# The shared library exports exactly the public API: every dynamic symbol
# it defines is a wp_ function that wprior.h or wprior_train.h declares
# (with WP_API), every function they declare is there, and the test
# oracles (plain-loop kernels, unfused layers) are not in it at all.
# Usage: exports_test.sh LIBWPRIOR.so HEADER...
set -u
lib=$1; shift
command -v nm >/dev/null || { echo "SKIP: nm not installed"; exit 77; }
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
[ -n "$exported" ] || { echo "FAIL nm -D lists no symbol in $lib"; exit 1; }
declared=$(sed 's|/\*.*\*/||' "$@" | grep -o '\bwp_[A-Za-z0-9_]*[[:space:]]*(' | tr -d ' (' | sort -u)
status=0
foreign=$(echo "$exported" | grep -v '^wp_')
[ -z "$foreign" ] && echo "ok   every exported symbol is a wp_ one" ||
    { echo "FAIL exported symbols outside wp_:" $foreign; status=1; }
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
[ -z "$extra" ] && echo "ok   no symbol beyond the public API ($(echo "$exported" | wc -l) exported)" ||
    { echo "FAIL exported but not in the public headers:" $extra; status=1; }
[ -z "$missing" ] && echo "ok   every declared function is exported" ||
    { echo "FAIL declared but not exported (WP_API missing?):" $missing; status=1; }
# The full symbol table (hidden symbols included) when not stripped.
all=$(nm --defined-only "$lib" 2>/dev/null | awk '{print $3}')
if [ -z "$all" ]; then
    echo "skip the library is stripped: the test oracles cannot be looked for"
else
    oracles=$(echo "$all" | grep -E '_ref$|^wp_bn_forward_eval$|^wp_bn_(forward|backward)_train$|^wp_relu_')
    [ -z "$oracles" ] && echo "ok   no test oracle in the library" ||
        { echo "FAIL test oracles in the library:" $oracles; status=1; }
fi
exit $status
