#!/bin/bash
# Installs what building and testing Wavelet Prior needs on Debian 12.
# Only runs apt-get when something is missing.
set -euo pipefail
pkgs=(gcc clang libclang-rt-14-dev meson ninja-build pkg-config libopenblas-dev check
      libpng-dev libjpeg-dev gawk diffutils valgrind libcairo2-dev
      gimp libgimp2.0-dev libgtk-3-dev gettext xvfb xauth xdotool imagemagick fonts-dejavu-core
      libopenmpi-dev openmpi-bin gegl gmic
      python3-pil python3-numpy) # the corpus script's measurements (tests/corpus_test.sh)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
