#!/usr/bin/env bash
# Build the guest components (fixtures and examples) from source for wasm32-wasip2 and copy
# them, named after their crates without the prefix, into $PG_COMPONENT_WASM_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
root="$(dirname "$here")"

CARGO_TARGET_DIR="$PGC_VAR/guest-target" cargo build --manifest-path "$root/guests/Cargo.toml" \
    --release --target wasm32-wasip2 --quiet
mkdir -p "$PG_COMPONENT_WASM_DIR"
chmod 755 "$PG_COMPONENT_WASM_DIR"
for f in "$PGC_VAR"/guest-target/wasm32-wasip2/release/*.wasm; do
    base="$(basename "$f" .wasm)"
    name="${base#fixture_}"
    name="${name#example_}"
    install -m 644 "$f" "$PG_COMPONENT_WASM_DIR/${name//_/-}.wasm"
done
# A core module (not a component): the 8-byte preamble alone is a valid empty module.
printf '\0asm\1\0\0\0' > "$PG_COMPONENT_WASM_DIR/core-module.wasm"
chmod 644 "$PG_COMPONENT_WASM_DIR/core-module.wasm"
ls "$PG_COMPONENT_WASM_DIR"
