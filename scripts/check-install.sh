#!/usr/bin/env bash
# Checks `make install`: installs into a temporary PREFIX, then runs the installed retrieve as
# a machine without Swift would: no Swift library among its dependencies (ldd), an empty
# environment, and — when we may make a private mount namespace — with the toolchain's
# folder hidden under an empty one. It trains, indexes and queries a few generated pictures.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$(mktemp -d /tmp/retrieve-prefix.XXXXXX)"
work="$(mktemp -d /tmp/retrieve-install-check.XXXXXX)"
trap 'rm -rf "$prefix" "$work"' EXIT
make -s install PREFIX="$prefix"
bin="$prefix/bin/retrieve"
toolchain="$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")"

if ldd "$bin" | grep -E "libswift|libFoundation|libdispatch|$toolchain"; then
    echo "check-install: $bin still needs the Swift libraries above" >&2
    exit 1
fi
run() { env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH= HOME="$work" "$bin" "$@"; }
hidden() {  # the same, with the toolchain out of reach if we can hide it
    if unshare --mount true 2>/dev/null; then
        unshare --mount sh -c 'mount -t tmpfs none "$1" && shift && exec env -i PATH=/usr/bin:/bin HOME=/tmp "$@"' \
            sh "$toolchain" "$bin" "$@"
    else
        run "$@"
    fi
}
run --help >/dev/null
hidden synth --out "$work/shapes" --count 24 --size 32 --json >/dev/null 2>&1
hidden train --data "$work/shapes/captions.tsv" --out "$work/m.safetensors" --epochs 1 --image-size 32 --batch 8 >/dev/null 2>&1
hidden index "$work/shapes/images" --model "$work/m.safetensors" >/dev/null 2>&1
(cd "$work/shapes/images" && hidden query "a red circle" -k 2 --json) | grep -q '"score"'
echo "check-install: $bin ($(du -h "$bin" | cut -f1)) runs without the Swift toolchain ($toolchain hidden: $(unshare --mount true 2>/dev/null && echo yes || echo "no, env -i only"))"
