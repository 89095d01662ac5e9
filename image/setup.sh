#!/usr/bin/env bash
# Installs what building the image and its boot test need on a Debian 12 machine (as root):
# debootstrap (the root file system), e2fsprogs, dosfstools, mtools and fdisk (file systems
# and the partition table, built in files: no loop device or mount), systemd-boot-efi (the EFI
# stub the kernel, initrd and command line are bound to), zstd (the compressed image), the
# headers the app's linuxkms backend builds against (libudev, libinput, libxkbcommon), and
# QEMU with its UEFI firmware (OVMF) and qemu-img for the boot test. Safe to run again.
set -euo pipefail
packages=(debootstrap e2fsprogs dosfstools mtools fdisk systemd-boot-efi binutils zstd python3
    libudev-dev libinput-dev libxkbcommon-dev qemu-system-x86 qemu-utils ovmf)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "image setup: installing ${missing[*]}" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
