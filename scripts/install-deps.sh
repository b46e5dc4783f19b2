#!/usr/bin/env bash
# Installs the system packages retrieve builds against (OpenBLAS, libpng, libjpeg, OpenMPI for
# `mpirun -np N retrieve train`, pkg-config), with apt-get where we are root or have sudo;
# otherwise prints the exact command and fails.
# With --test, also what the tests read: Debian's Oxygen icon theme, real pictures with real
# names for the collapse-monitor and command-line tests; for the page test of retrieve serve,
# headless Chromium with its driver and Debian's selenium (run by /usr/bin/python3); and
# Debian's numpy, which reads back what `retrieve embed` writes.
set -euo pipefail
packages=(libopenblas-dev libpng-dev libjpeg-dev libopenmpi-dev openmpi-bin pkg-config)
[[ "${1:-}" == "--test" ]] && packages+=(oxygen-icon-theme chromium chromium-driver python3-selenium python3-numpy)
missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "retrieve: installing system packages: ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo)
else
    echo "retrieve: missing system packages; run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
