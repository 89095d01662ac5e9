#!/usr/bin/env bash
# Boots the built image in QEMU and checks it is a kiosk (see image/boot-test.py and
# docs/appliance.md): the reference is the appliance app's own headless render of the
# attract screen, from the same binary the image carries. The update test's repositories
# are published here, with the keys the image trusts: release N+1 (the same app, a new
# version), then N+2, a build that cannot start and so fails its health gate.
#
#   image/boot-test.sh [IMAGE]     # default: $KIOSK_IMAGE_WORK/kiosk.img
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${KIOSK_IMAGE_WORK:-/var/tmp/kiosk-image}
image=${1:-$work/kiosk.img}
bin=${CARGO_TARGET_DIR:-/var/tmp/kiosk-target}/appliance
"$repo/image/setup.sh"
reference="$work/reference"
rm -rf "$reference"
(cd "$repo" && "$bin/kiosk-app" --screenshots "$reference" --layout portrait --language fr \
    --menu menus/brasserie/menu.toml >/dev/null)

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -1)
updates="$work/boot-test-updates"
rm -rf "$updates"
mkdir -p "$updates"
keys=(--key "$work/keys/targets.pem" --key "$work/keys/snapshot.pem" --key "$work/keys/timestamp.pem")
cp -r "$work/updates" "$updates/next"
"$bin/kioskctl" repo add-app "$updates/next" --version "$version.1" --binary "$bin/kiosk-app" "${keys[@]}" >/dev/null
cp -r "$updates/next" "$updates/failing"
cat >"$updates/broken-kiosk-app" <<'BROKEN'
#!/bin/sh
echo "kiosk-app: this build cannot start (the failing release of the boot test)" >&2
exit 1
BROKEN
chmod +x "$updates/broken-kiosk-app"
"$bin/kioskctl" repo add-app "$updates/failing" --version "$version.2" --binary "$updates/broken-kiosk-app" \
    "${keys[@]}" >/dev/null

python3 "$repo/image/boot-test.py" "$image" "$reference/portrait-fr-attract.png" --work "$work/boot-test" \
    --update-to "$version.1" "$updates/next" --failing-update "$version.2" "$updates/failing"
