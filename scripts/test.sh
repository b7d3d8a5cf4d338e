#!/bin/bash
# Installs the dependencies, builds, and runs the whole test suite.
# The tests need only the repository (its shipped models and tests/data),
# except test_conformance, which reads the paper's vectors from
# ../shared/reference (or $WPRIOR_REFERENCE) and is skipped without them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
ref=${WPRIOR_REFERENCE:-$(pwd)/../shared/reference}
[ -d build ] || meson setup build -Dreference_dir="$ref"
meson configure build -Dreference_dir="$ref" >/dev/null
ninja -C build
meson test -C build --print-errorlogs "$@"
