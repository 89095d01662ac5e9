#!/usr/bin/env bash
# Binds a kernel, its initrd and a command line into one EFI program with systemd's EFI stub,
# the file UEFI firmware starts from EFI/BOOT/BOOTX64.EFI without a boot loader.
# Usage: boot-file.sh OS_RELEASE CMDLINE_FILE KERNEL INITRD OUT.efi
set -euo pipefail
os_release=$1 cmdline=$2 kernel=$3 initrd=$4 out=$5
objcopy \
    --add-section .osrel="$os_release" --change-section-vma .osrel=0x20000 \
    --add-section .cmdline="$cmdline" --change-section-vma .cmdline=0x30000 \
    --add-section .linux="$kernel" --change-section-vma .linux=0x2000000 \
    --add-section .initrd="$initrd" --change-section-vma .initrd=0x4000000 \
    /usr/lib/systemd/boot/efi/linuxx64.efi.stub "$out"
