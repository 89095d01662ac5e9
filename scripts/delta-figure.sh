#!/usr/bin/env bash
# The delta figure for a real small code change: builds the app in release mode, changes one
# log line in its main.rs, builds it again, puts the line back, and runs update-bench with both
# builds (it prints the other update figures too). Takes a few minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/kiosk-target}"
out="$(mktemp -d)"
main=kiosk-app/src/main.rs
trap 'git checkout -- "$main"; rm -rf "$out"' EXIT

cargo build -q --release --workspace --bins
# Both builds the same way: a workspace build unifies features differently from this one.
cargo build -q --release -p kiosk-app
cp "$CARGO_TARGET_DIR/release/kiosk-app" "$out/old"
sed -i 's/window ready {} ms after start/window up {} ms after start/' "$main"
grep -q 'window up {} ms after start' "$main"
cargo build -q --release -p kiosk-app
cp "$CARGO_TARGET_DIR/release/kiosk-app" "$out/new"
git checkout -- "$main"
cargo build -q --release --workspace --bins
"$CARGO_TARGET_DIR/release/update-bench" "$out/old" "$out/new"
