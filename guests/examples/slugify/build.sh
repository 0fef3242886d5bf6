#!/usr/bin/env bash
# Build the Rust slugify example (src/lib.rs, wit-bindgen) into the component slugify.wasm.
#
#   guests/examples/slugify/build.sh [OUT_DIR]
#
# OUT_DIR defaults to $PG_COMPONENT_WASM_DIR, else /var/tmp/pg_component/components.
# Idempotent: the wasm32-wasip2 target is added only when missing; cargo rebuilds only what
# changed. (scripts/build-guests.sh builds it with the other guests of the workspace.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:-${PG_COMPONENT_WASM_DIR:-/var/tmp/pg_component/components}}"
target_dir="${PGC_VAR:-/var/tmp/pg_component}/guest-target"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
fi
CARGO_TARGET_DIR="$target_dir" cargo build --manifest-path "$here/Cargo.toml" \
    --release --target wasm32-wasip2 --quiet
mkdir -p "$out_dir"
install -m 644 "$target_dir/wasm32-wasip2/release/example_slugify.wasm" "$out_dir/slugify.wasm"
echo "built $out_dir/slugify.wasm ($(wc -c < "$out_dir/slugify.wasm") bytes)"
