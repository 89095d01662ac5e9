#!/usr/bin/env bash
# The power-cut loop (docs/appliance.md): boots the built image with its disk opened so that
# only what the guest flushed survives, pays orders in a loop on the simulated terminal
# (training sales) and kills QEMU at a random moment, N times; after each boot the books
# are checked: integrity, every approval in the terminal's ledger one paid order, no stock
# hold left. 25-60 s a cut under software emulation; not part of CI for that reason.
#
#   image/power-cut-test.sh [CUTS] [IMAGE]     # default: 100 cuts, $KIOSK_IMAGE_WORK/kiosk.img
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${KIOSK_IMAGE_WORK:-/var/tmp/kiosk-image}
cuts=${1:-100}
image=${2:-$work/kiosk.img}
"$repo/image/setup.sh"
python3 "$repo/image/boot-test.py" "$image" --power-cuts "$cuts" --work "$work/power-cuts"
