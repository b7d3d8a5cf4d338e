#!/bin/bash
# Installs the dependencies, builds, and runs the whole test suite.
# The paper's reference models are read from ../shared/reference (or
# $WPRIOR_REFERENCE); tests that need them are skipped when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
ref=${WPRIOR_REFERENCE:-$(pwd)/../shared/reference}
[ -d build ] || meson setup build -Dreference_dir="$ref"
meson configure build -Dreference_dir="$ref" >/dev/null
ninja -C build
meson test -C build --print-errorlogs "$@"
