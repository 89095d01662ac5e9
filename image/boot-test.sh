#!/usr/bin/env bash
# Boots the built image in QEMU and checks it is a kiosk (see image/boot-test.py and
# docs/appliance.md): the reference is the appliance app's own headless render of the
# attract screen, from the same binary the image carries.
#
#   image/boot-test.sh [IMAGE]     # default: $KIOSK_IMAGE_WORK/kiosk.img
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${KIOSK_IMAGE_WORK:-/var/tmp/kiosk-image}
image=${1:-$work/kiosk.img}
app=${CARGO_TARGET_DIR:-/var/tmp/kiosk-target}/appliance/kiosk-app
"$repo/image/setup.sh"
reference="$work/reference"
rm -rf "$reference"
(cd "$repo" && "$app" --screenshots "$reference" --layout portrait --language fr \
    --menu menus/brasserie/menu.toml >/dev/null)
python3 "$repo/image/boot-test.py" "$image" "$reference/portrait-fr-attract.png" --work "$work/boot-test"
