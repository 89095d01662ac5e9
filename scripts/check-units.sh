#!/usr/bin/env bash
# Checks the kiosk's systemd units and prints how exposed each service is. `systemd-analyze
# verify` must say nothing about them (every message fails the check), sysusers and tmpfiles
# entries must apply, and `systemd-analyze security --offline` must score the app at 2.0 or
# lower and the agent at 4.0 or lower. Everything runs in a scratch root: the host's own
# systemd is neither asked nor changed. `scripts/setup.sh` installs what it needs (systemd).
set -euo pipefail
cd "$(dirname "$0")/.."

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp systemd/*.service "$root/etc/systemd/system/"
# The programs the units start come with the releases and the image: stand-ins here.
for program in var/lib/kiosk/releases/current/bin/kiosk-app var/lib/kiosk-agent/releases/current/bin/kiosk-agent \
    usr/bin/kbd_mode bin/sh usr/lib/kiosk/test-channel; do
    mkdir -p "$(dirname "$root/$program")"
    printf '#!/bin/sh\n' >"$root/$program"
    chmod +x "$root/$program"
done

said=$(systemd-analyze --root="$root" verify kiosk-app.service kiosk-agent.service kiosk-agent-swap@1.0.0.service \
    kiosk-console.service kiosk-test-channel.service 2>&1) || true
if [ -n "$said" ]; then
    echo "systemd-analyze verify:" >&2
    echo "$said" >&2
    exit 1
fi
mkdir -p "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
cp systemd/kiosk.sysusers "$root/usr/lib/sysusers.d/kiosk.conf"
cp systemd/kiosk.tmpfiles "$root/usr/lib/tmpfiles.d/kiosk.conf"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nvideo:x:44:\ninput:x:105:\nrender:x:106:\n' >"$root/etc/group"
systemd-sysusers --root="$root"
grep -q '^kiosk:x:[0-9]*:[0-9]*:Kiosk touch app:/var/lib/kiosk:/usr/sbin/nologin$' "$root/etc/passwd"
systemd-tmpfiles --root="$root" --create kiosk.conf
kiosk_uid=$(awk -F: '$1 == "kiosk" { print $3 }' "$root/etc/passwd")
test "$(stat -c %u "$root/var/lib/kiosk/backups")" = "$kiosk_uid"
echo "units verified; sysusers and tmpfiles entries apply"

failed=0
for unit_and_target in kiosk-app.service:2.0 kiosk-agent.service:4.0 kiosk-agent-swap@.service:4.0; do
    unit=${unit_and_target%:*}
    target=${unit_and_target#*:}
    score=$(systemd-analyze security --offline=true --root="$root" "$unit" 2>&1 |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    verdict=$(awk -v score="$score" -v target="$target" 'BEGIN { print (score != "" && score <= target) ? "ok" : "OVER" }')
    echo "exposure of $unit: ${score:-unknown} (target $target or lower): $verdict"
    [ "$verdict" = ok ] || failed=1
done
exit "$failed"
