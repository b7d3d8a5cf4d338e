# lib.sh: shared helpers of the shell tests (sourced).  The caller sets T
# (a temporary folder) and counts with pass/fail.
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# expect_fail NAME NEEDLE OUTFILE CMD...: exit status 1 or 2 (not 0, not a
# crash), NEEDLE on stderr, and nothing named OUTFILE* left behind.
expect_fail() {
    local name=$1 needle=$2 out=$3
    shift 3
    "$@" >"$T/stdout" 2>"$T/stderr"
    local rc=$?
    if [ $rc -eq 0 ]; then
        bad "$name: exited 0"
    elif [ $rc -gt 2 ]; then
        bad "$name: exit status $rc (a crash?): $(tail -3 "$T/stderr")"
    elif ! grep -qF -- "$needle" "$T/stderr"; then
        bad "$name: stderr lacks '$needle': $(cat "$T/stderr")"
    elif [ -n "$out" ] && compgen -G "$out*" >/dev/null; then # (nullglob-proof)
        bad "$name: left $(compgen -G "$out*")"
    else
        ok "$name"
    fi
}

# The closing line; the exit status says whether all passed.
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
