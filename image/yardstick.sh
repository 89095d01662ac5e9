#!/usr/bin/env bash
# The yardstick for the boot figure: a stock Debian 12 (debootstrap minbase, systemd, the same
# kernel, Debian's own initrd) on the same disk layout and EFI boot path, booted the same way
# in QEMU until its login prompt (on the serial console). Software emulation's speed drifts
# by a third within the hour on these machines, so the kiosk's image (as a customer boots
# it: no test channel) and the yardstick are booted in turns, three rounds each by default,
# and the medians compared.
#
#   image/yardstick.sh [KIOSK_IMAGE]   # after image/boot-test.sh, which renders the reference
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
images=${KIOSK_IMAGE_WORK:-/var/tmp/kiosk-image}
work=$images/yardstick
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

kiosk_image=${1:-$images/kiosk.img}
reference=$images/reference/portrait-fr-attract.png
[ -f "$reference" ] || { echo "no $reference: run image/boot-test.sh first (it renders it)" >&2; exit 1; }
seconds() { sed -n "s/^boot test: $1 after \([0-9.]*\) s.*/\1/p"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
kiosk_times=() stock_times=()
for round in $(seq "${KIOSK_YARDSTICK_ROUNDS:-3}"); do
    kiosk_times+=("$(python3 "$repo/image/boot-test.py" "$kiosk_image" "$reference" --first-screen \
        --work "$work/kiosk-boot" | seconds "the kiosk's first screen")")
    stock_times+=("$(python3 "$repo/image/boot-test.py" "$work/stock.img" --login-prompt --work "$work/boot" |
        seconds "a login prompt")")
    echo "yardstick: round $round: the kiosk's first screen after ${kiosk_times[-1]} s, stock Debian's login prompt after ${stock_times[-1]} s"
done
kiosk=$(printf '%s\n' "${kiosk_times[@]}" | median)
stock=$(printf '%s\n' "${stock_times[@]}" | median)
verdict=$(awk -v k="$kiosk" -v s="$stock" 'BEGIN { print (k < s) ? sprintf("faster by %.1f s", s - k) : "not faster" }')
echo "yardstick: medians of ${#kiosk_times[@]} rounds: the kiosk's first screen $kiosk s, stock Debian's login prompt $stock s: the kiosk is $verdict"
