#!/usr/bin/env bash
# The yardstick for the boot figure: a stock Debian 12 (debootstrap minbase, systemd, the same
# kernel, Debian's own initrd) on the same disk layout and EFI boot path, booted the same way
# in QEMU until its login prompt (on the serial console). Prints the seconds.
#
#   image/yardstick.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${KIOSK_IMAGE_WORK:-/var/tmp/kiosk-image}/yardstick
mirror=${KIOSK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "image/yardstick.sh runs as root (debootstrap)" >&2; exit 1; }
"$repo/image/setup.sh"
rm -rf "$work"
mkdir -p "$work"
debootstrap --variant=minbase --include=systemd,systemd-sysv,udev,linux-image-amd64,initramfs-tools \
    bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log"
. "$repo/image/layout"
echo "PARTUUID=$VAR_UUID /var ext4 defaults 0 2" >"$work/rootfs/etc/fstab"
kernel=$(basename "$(ls -d "$work"/rootfs/usr/lib/modules/*)")
printf 'root=PARTUUID=%s rw console=tty0 console=ttyS0\n' "$ROOT_A_UUID" >"$work/cmdline"
"$repo/image/boot-file.sh" "$work/rootfs/etc/os-release" "$work/cmdline" "$work/rootfs/boot/vmlinuz-$kernel" \
    "$work/rootfs/boot/initrd.img-$kernel" "$work/BOOTX64.EFI"
"$repo/image/disk.sh" "$work/rootfs" "$work/BOOTX64.EFI" "$work/stock.img"
python3 "$repo/image/boot-test.py" "$work/stock.img" --login-prompt --work "$work/boot"
