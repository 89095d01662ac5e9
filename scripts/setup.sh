#!/usr/bin/env bash
# Installs what building and testing the kiosk needs on a fresh Debian 12 machine, then
# returns. Safe to run again: it installs only what is missing.
set -euo pipefail

# The bundled SQLite (libsqlite3-sys) is C: it needs a C compiler and the C library headers.
# The touch UI (Slint) finds fonts through fontconfig, and panics at start without any font.
# The update tests strip release binaries (binutils) and read repositories written by
# python-tuf, the reference TUF implementation, installed from PyPI into a venv (python3-venv).
# The network allowlist's test loads nftables rulesets into network namespaces (nftables,
# iproute2). The units in systemd/ are checked with systemd-analyze (systemd; PID 1 need not
# be systemd). The kiosk speaks with eSpeak NG's program (espeak-ng), which its speech test
# and benchmark run.
packages=(gcc libc6-dev pkg-config libfontconfig1-dev fonts-dejavu-core binutils python3-venv nftables iproute2 systemd
    espeak-ng)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]})); then
    as_root=()
    if [ "$(id -u)" -ne 0 ]; then
        as_root=(sudo)
    fi
    echo "setup: installing ${missing[*]}" >&2
    "${as_root[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

pytuf="${KIOSK_PYTUF:-/var/tmp/kiosk-pytuf}"
if ! "$pytuf/bin/python" -c 'import tuf.api.metadata' 2>/dev/null; then
    echo "setup: installing python-tuf into $pytuf" >&2
    python3 -m venv "$pytuf"
    "$pytuf/bin/pip" install -q 'tuf>=6,<7' 'securesystemslib[crypto]>=1,<2'
fi

if ! command -v cargo >/dev/null; then
    echo "setup: cargo not found: install a Rust toolchain (rustup) first" >&2
    exit 1
fi
