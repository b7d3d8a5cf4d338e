#!/bin/bash
# Builds (or reuses) a Debian 13 root file system that holds GIMP 3 and
# what building Wavelet Prior needs, and runs commands inside it.
#
#   scripts/gimp3-root.sh path          print the root's folder, building it if missing
#   scripts/gimp3-root.sh run BIND CMD… run CMD in the root, with the host folder
#                                       BIND mounted at /src (private mount and
#                                       pid namespaces: nothing outlives CMD)
#
# The root is cached outside the repository, in $WPRIOR_GIMP3_CACHE
# (default /var/cache/wprior-gimp3), keyed by a hash of the package list,
# so a changed list builds a new root and an unchanged one is reused.
# Needs root (mmdebstrap, unshare, chroot) and Debian's archive.
set -euo pipefail

PKGS=(gimp libgimp-3.0-dev gir1.2-gimp-3.0 python3-gi gcc meson ninja-build pkgconf
      libopenblas-dev check libpng-dev libjpeg-dev libgtk-3-dev gettext gawk
      xvfb xauth xdotool imagemagick dbus fonts-dejavu-core ca-certificates)
SUITE=trixie
MIRROR=${WPRIOR_GIMP3_MIRROR:-http://deb.debian.org/debian}
CACHE=${WPRIOR_GIMP3_CACHE:-/var/cache/wprior-gimp3}
KEY=$(printf '%s\n' "$SUITE" "${PKGS[@]}" | sha256sum | cut -c1-16)
ROOT=$CACHE/root-$KEY

die() { echo "gimp3-root: $*" >&2; exit 1; }

build_root() {
    [ -d "$ROOT/usr/bin" ] && [ -f "$ROOT/.complete" ] && return 0
    [ "$(id -u)" -eq 0 ] || die "building the GIMP 3 root needs root (mmdebstrap, chroot)"
    if ! command -v mmdebstrap >/dev/null; then
        echo "gimp3-root: installing mmdebstrap" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null ||
            die "cannot install mmdebstrap"
    fi
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.lock"
    flock 9
    [ -f "$ROOT/.complete" ] && return 0
    local tmp=$CACHE/.build-$KEY
    rm -rf "$tmp"
    echo "gimp3-root: building the Debian 13 root in $ROOT (several minutes)" >&2
    local inc
    inc=$(IFS=,; echo "${PKGS[*]}")
    if ! mmdebstrap --variant=apt --dpkgopt=force-unsafe-io --include="$inc" \
        "$SUITE" "$tmp" "$MIRROR" >"$CACHE/build-$KEY.log" 2>&1; then
        tail -20 "$CACHE/build-$KEY.log" >&2
        die "mmdebstrap failed (log: $CACHE/build-$KEY.log)"
    fi
    touch "$tmp/.complete"
    mv "$tmp" "$ROOT"
}

run_in_root() {
    local bind=$1; shift
    [ -d "$bind" ] || die "no folder $bind"
    bind=$(cd "$bind" && pwd)
    build_root
    # Private mount and pid namespaces: every mount, Xvfb and GIMP ends
    # with the command.
    unshare --mount --propagation private --pid --fork /bin/bash -s -- \
        "$ROOT" "$bind" "$@" <<'INNER'
set -e
root=$1 bind=$2; shift 2
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root/src"
mount --bind "$bind" "$root/src"
if [ -d "$bind/../shared" ]; then
    mkdir -p "$root/shared"
    mount --bind "$bind/../shared" "$root/shared"
fi
exec chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin \
    HOME=/tmp LANG=C.UTF-8 TERM=dumb \
    ${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE} \
    ${OPENBLAS_L2_SIZE:+OPENBLAS_L2_SIZE=$OPENBLAS_L2_SIZE} \
    /bin/bash -c 'cd /src && exec "$@"' bash "$@"
INNER
}

case ${1:-} in
path) build_root; echo "$ROOT" ;;
run) shift; [ $# -ge 2 ] || die "usage: $0 run BIND CMD..."; run_in_root "$@" ;;
*) echo "usage: $0 path | run BIND CMD..." >&2; exit 2 ;;
esac
