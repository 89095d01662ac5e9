#!/usr/bin/env bash
# Builds the kiosk's bootable x86-64 disk image from Debian 12 packages (see image/README.md):
#
#   image/build.sh            # -> $KIOSK_IMAGE_WORK/kiosk.img and kiosk.img.zst
#
# Runs as root (debootstrap, chroot). Work folder: $KIOSK_IMAGE_WORK (/var/tmp/kiosk-image);
# the build cache: $CARGO_TARGET_DIR (/var/tmp/kiosk-target). The update repository's keys
# and root of trust are made once in the work folder and kept: the image trusts them, and the
# boot test publishes updates with them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${KIOSK_IMAGE_WORK:-/var/tmp/kiosk-image}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/kiosk-target}
mirror=${KIOSK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
started=$(date +%s)
step() { echo "image: $* ($(($(date +%s) - started)) s)" >&2; }

[ "$(id -u)" -eq 0 ] || { echo "image/build.sh runs as root (debootstrap, chroot)" >&2; exit 1; }
"$repo/image/setup.sh"
mkdir -p "$work"

# Packages, each for a reason (image/README.md says which).
packages=$(grep -v '^#' "$repo/image/packages" | awk '{print $1}' | paste -sd, -)

step "building the release binaries (profile appliance)"
# ICU4X's data without the CJK and South-East Asian word dictionaries (image/icu-data.py).
(cd "$repo" && image/icu-data.py "$work/icu-data")
export ICU4X_DATA_DIR="$work/icu-data"
(cd "$repo" && cargo build -q --profile appliance -p kiosk-app --no-default-features --features linuxkms)
(cd "$repo" && cargo build -q --profile appliance -p kiosk-agent --bin kiosk-agent --bin kioskctl)
bin="$CARGO_TARGET_DIR/appliance"
# The profile strips them; a package override in Cargo.toml once undid that for the app.
for program in kiosk-app kiosk-agent kioskctl; do
    if readelf -S "$bin/$program" | grep '\.symtab' >/dev/null; then
        echo "image/build.sh: $bin/$program still has its symbol table: check [profile.appliance] in Cargo.toml" >&2
        exit 1
    fi
done
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -1)

step "installing Debian into the root file system"
rootfs="$work/rootfs"
rm -rf "$rootfs"
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log"

step "putting the kiosk in place"
install -D -m 0644 -t "$rootfs/usr/lib/systemd/system" "$repo"/systemd/*.service
install -D -m 0644 "$repo/systemd/kiosk.sysusers" "$rootfs/usr/lib/sysusers.d/kiosk.conf"
install -D -m 0644 "$repo/systemd/kiosk.tmpfiles" "$rootfs/usr/lib/tmpfiles.d/kiosk.conf"
install -D -m 0644 "$repo/systemd/50-kiosk-logind.conf" "$rootfs/etc/systemd/logind.conf.d/50-kiosk.conf"
install -D -m 0644 "$repo/systemd/50-kiosk.sysctl" "$rootfs/etc/sysctl.d/50-kiosk.conf"
cp -r "$repo/image/rootfs/." "$rootfs/"
mkdir -p "$rootfs/usr/lib/kiosk" "$rootfs/media/kiosk-updates"
systemd-sysusers --root="$rootfs"
systemd-tmpfiles --root="$rootfs" --create kiosk.conf
# The place kept for the journal key's registration at the app's first start (not a tmpfiles
# entry: tmpfiles would give it back to the kiosk user at every boot).
chroot "$rootfs" install -o kiosk -g kiosk -m 0600 /dev/null /etc/kiosk/journal.pub

# The releases, laid out as the agent installs them: releases/<version>/, `current`, state.
app_release="$rootfs/var/lib/kiosk/releases/$version"
install -D -m 0755 "$bin/kiosk-app" "$app_release/bin/kiosk-app"
echo "$version" >"$app_release/RELEASE"
ln -sfn "$version" "$rootfs/var/lib/kiosk/releases/current"
printf '{ "committed": "%s" }\n' "$version" >"$rootfs/var/lib/kiosk/releases/state.json"
agent_release="$rootfs/var/lib/kiosk-agent/releases/$version"
install -D -m 0755 "$bin/kiosk-agent" "$agent_release/bin/kiosk-agent"
install -D -m 0755 "$bin/kioskctl" "$agent_release/bin/kioskctl"
echo "$version" >"$agent_release/RELEASE"
ln -sfn "$version" "$rootfs/var/lib/kiosk-agent/releases/current"
printf '{ "committed": "%s" }\n' "$version" >"$rootfs/var/lib/kiosk-agent/releases/state.json"
ln -sfn /var/lib/kiosk-agent/releases/current/bin/kioskctl "$rootfs/usr/lib/kiosk/kioskctl"

# The demo menu, and the update repository's root of trust (keys made once, kept outside).
mkdir -p "$rootfs/usr/share/kiosk/menus"
cp -r "$repo/menus/brasserie" "$rootfs/usr/share/kiosk/menus/"
if [ ! -f "$work/updates/metadata/1.root.json" ]; then
    mkdir -p "$work/keys"
    for role in root targets snapshot timestamp; do
        [ -f "$work/keys/$role.pem" ] || "$bin/kioskctl" repo keygen "$work/keys/$role.pem" >/dev/null
    done
    rm -rf "$work/updates"
    "$bin/kioskctl" repo init "$work/updates" --root-key "$work/keys/root.pem" \
        --targets-key "$work/keys/targets.pem" --snapshot-key "$work/keys/snapshot.pem" \
        --timestamp-key "$work/keys/timestamp.pem" >/dev/null
fi
install -D -m 0644 "$work/updates/metadata/1.root.json" "$rootfs/etc/kiosk/trust/root.json"

step "locking the system down"
# Masked: every getty, Ctrl+Alt+Del, apt's timers, and what a kiosk never uses but a boot
# would spend time on: gettys started by hand, LVM scrubbing, kernel debugging and tracing,
# FUSE, configfs, foreign binaries, hugetlbfs, dpkg's backups.
for unit in getty@.service serial-getty@.service autovt@.service console-getty.service getty-static.service \
    ctrl-alt-del.target apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
    systemd-networkd-wait-online.service sys-kernel-debug.mount sys-kernel-tracing.mount \
    sys-kernel-config.mount sys-fs-fuse-connections.mount proc-sys-fs-binfmt_misc.automount \
    systemd-binfmt.service dev-hugepages.mount dpkg-db-backup.timer; do
    ln -sfn /dev/null "$rootfs/etc/systemd/system/$unit"
done
rm -f "$rootfs"/etc/systemd/system/getty.target.wants/*
systemctl --root="$rootfs" enable kiosk-console.service kiosk-app.service kiosk-agent.service \
    kiosk-test-channel.service systemd-networkd.service >/dev/null
# No password login: root's password stays locked (debootstrap leaves "*").
grep -q '^root:[*!]' "$rootfs/etc/shadow"
: >"$rootfs/etc/machine-id"
echo kiosk >"$rootfs/etc/hostname"

step "trimming the kernel modules and the initrd"
kernel=$(basename "$(ls -d "$rootfs"/usr/lib/modules/*)")
python3 "$repo/image/trim-modules.py" "$rootfs/usr/lib/modules/$kernel" "$repo/image/modules"
chroot "$rootfs" depmod "$kernel"
chroot "$rootfs" update-initramfs -u -k "$kernel" >/dev/null 2>&1

step "making the boot file (kernel, initrd and command line in one EFI program)"
. "$repo/image/layout"
# Transparent huge pages only where a program asks (madvise), not Debian's "always": with
# "always", a thread's 2 MiB stack that happens to lie on a 2 MiB boundary is backed by one
# huge page at its first touch, and the app's memory jumped by 2 MiB in some boots.
# panic=10: a boot that cannot go on (no root partition) restarts after 10 s rather than
# leave the initrd's shell on the screen.
printf 'root=PARTUUID=%s rw quiet loglevel=3 systemd.show_status=false vt.global_cursor_default=0 fbcon=map:9 transparent_hugepage=madvise panic=10 %s\n' \
    "$ROOT_A_UUID" "${KIOSK_IMAGE_CMDLINE:-}" >"$work/cmdline"
"$repo/image/boot-file.sh" "$rootfs/etc/os-release" "$work/cmdline" "$rootfs/boot/vmlinuz-$kernel" \
    "$rootfs/boot/initrd.img-$kernel" "$work/BOOTX64.EFI"

step "cleaning up what a kiosk never reads"
rm -rf "$rootfs"/boot/* "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old
# eSpeak NG's dictionaries only for the languages a menu names a button for (Words.language-name).
find "$rootfs"/usr/lib/x86_64-linux-gnu/espeak-ng-data -maxdepth 1 -name '*_dict' ! -name fr_dict ! -name en_dict \
    ! -name de_dict ! -name es_dict ! -name it_dict ! -name nl_dict ! -name pt_dict -delete
find "$rootfs/usr/share/zoneinfo" -mindepth 1 -maxdepth 1 ! -name Europe ! -name UTC ! -name Etc \
    ! -name zone.tab ! -name zone1970.tab ! -name tzdata.zi ! -name leap-seconds.list -exec rm -rf {} +

# The image is complete as built: the services that finish an update of /usr at the next
# boot (ConditionNeedsUpdate=, e.g. systemd-sysusers; build.sh applied sysusers and tmpfiles
# already) find these stamps as new as /usr and skip, as they do on every later boot.
touch -r "$rootfs/usr" "$rootfs/etc/.updated" "$rootfs/var/.updated"

step "making the disk"
"$repo/image/disk.sh" "$rootfs" "$work/BOOTX64.EFI" "$work/kiosk.img"
rm -f "$work/kiosk.img.zst"
zstd -q -19 -T0 "$work/kiosk.img" -o "$work/kiosk.img.zst"
step "done"
raw=$(du -m --apparent-size "$work/kiosk.img" | cut -f1)
used=$(du -m "$work/kiosk.img" | cut -f1)
compressed=$(du -m "$work/kiosk.img.zst" | cut -f1)
echo "image: $work/kiosk.img: ${raw} MB raw (${used} MB written), ${compressed} MB compressed (zstd -19); app binary $(du -k "$bin/kiosk-app" | cut -f1) KB; built in $(($(date +%s) - started)) s"
