#!/bin/bash
# Builds the project in the Debian 13 root with GIMP 3 (scripts/gimp3-root.sh
# makes or reuses it) and runs the GIMP 3 tests there: the plug-in core,
# the headless pixel tests and the Xvfb dialog tests.
#   scripts/test-gimp3.sh [meson test options]
# A root that cannot be built is a failure with a message, never a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
if ! root=$(nice -n 10 scripts/gimp3-root.sh path); then
    echo "test-gimp3: FAILED: no Debian 13 root with GIMP 3 (see above)" >&2
    exit 1
fi
echo "test-gimp3: root $root ready after $((SECONDS - t0)) s"
# ../shared is mounted at /shared inside the root.
scripts/gimp3-root.sh run . /bin/bash -c '
    set -e
    export WPRIOR_REFERENCE=/shared/reference
    [ -d build-gimp3 ] && [ -f build-gimp3/build.ninja ] ||
        meson setup build-gimp3 -Dreference_dir=/shared/reference >/dev/null
    nice -n 5 ninja -C build-gimp3 >/dev/null
    meson test -C build-gimp3 --suite gimp3 --suite gimp --print-errorlogs "$@"
' bash "$@"
status=$?
echo "test-gimp3: $([ $status -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - t0)) s"
exit $status
