#!/usr/bin/env bash
# Assembles the disk image from a root file system and the boot file, without loop devices or
# mounts: each partition is a file system made in a file (mkfs.ext4 -d, mkfs.vfat and mtools),
# then copied into place behind a GPT written by sfdisk (image/layout gives sizes and GUIDs).
# Usage: disk.sh ROOTFS BOOTX64.EFI OUT.img
set -euo pipefail
rootfs=$1 boot_file=$2 out=$3
. "$(dirname "$0")/layout"
scratch=$(mktemp -d "$(dirname "$out")/disk.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# The EFI system partition: the boot file where UEFI firmware looks without being told.
mkfs.vfat -C -n KIOSK-EFI "$scratch/esp.img" $((ESP_MB * 1024)) >/dev/null
mmd -i "$scratch/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$scratch/esp.img" "$boot_file" ::/EFI/BOOT/BOOTX64.EFI

# Root slot A: everything but /var; /var: its own partition.
mkdir -p "$scratch/root"
tar -C "$rootfs" --exclude=./var --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -cf - . | tar -C "$scratch/root" -xf -
mkdir -p "$scratch/root/var"
mkfs.ext4 -q -L kiosk-root-a -d "$scratch/root" "$scratch/root.img" "${ROOT_MB}M"
mkfs.ext4 -q -L kiosk-var -d "$rootfs/var" "$scratch/var.img" "${VAR_MB}M"

# The partition table, then each file system at its place (1 MiB aligned).
rm -f "$out"
total_mb=$((1 + ESP_MB + 2 * ROOT_MB + VAR_MB + 1))
truncate -s "${total_mb}M" "$out"
sfdisk -q "$out" <<TABLE
label: gpt
start=1MiB, size=${ESP_MB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_UUID, name=esp
size=${ROOT_MB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOT_A_UUID, name=root-a
size=${ROOT_MB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOT_B_UUID, name=root-b
size=${VAR_MB}MiB, type=4D21B016-B534-45C2-A9FB-5C16E091FD2D, uuid=$VAR_UUID, name=var
TABLE
offset_mb=1
for part in esp:$ESP_MB root:$ROOT_MB skip:$ROOT_MB var:$VAR_MB; do
    name=${part%:*} size=${part#*:}
    if [ "$name" != skip ]; then
        dd if="$scratch/$name.img" of="$out" bs=1M seek="$offset_mb" conv=notrunc,sparse status=none
    fi
    offset_mb=$((offset_mb + size))
done
