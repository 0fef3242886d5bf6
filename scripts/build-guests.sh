#!/usr/bin/env bash
# Build the guest components (fixtures and examples) from source for wasm32-wasip2 and copy
# them, named after their crates without the prefix, into $PG_COMPONENT_WASM_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
root="$(dirname "$here")"

ensure_toolchain
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
# The same slugify example in Python and JavaScript; rebuilt only when their sources changed.
stale() { # OUTPUT SOURCE_DIR...: whether OUTPUT is missing or older than a source file
    [ -f "$1" ] || return 0
    local out="$1"
    shift
    [ -n "$(find "$@" -path '*/node_modules' -prune -o -type f -newer "$out" -print -quit)" ]
}
py="$root/guests/polyglot/python"
js="$root/guests/polyglot/js"
wit="$root/guests/examples/slugify/wit"
if stale "$PG_COMPONENT_WASM_DIR/slugify-py.wasm" "$py" "$wit" ||
    stale "$PG_COMPONENT_WASM_DIR/enrich-py.wasm" "$py" "$root/guests/examples/enrich/wit" ||
    stale "$PG_COMPONENT_WASM_DIR/customers-py.wasm" "$py" "$root/guests/examples/customers/wit" ||
    stale "$PG_COMPONENT_WASM_DIR/stats-py.wasm" "$py" ||
    stale "$PG_COMPONENT_WASM_DIR/stores-py.wasm" "$py" "$root/guests/examples/stores/wit" ||
    stale "$PG_COMPONENT_WASM_DIR/geo-py.wasm" "$py" "$root/guests/examples/geo/wit"; then
    bash "$py/build.sh" "$PG_COMPONENT_WASM_DIR" >/dev/null
fi
if stale "$PG_COMPONENT_WASM_DIR/slugify-js.wasm" "$js" "$wit" ||
    stale "$PG_COMPONENT_WASM_DIR/slugify-js-default.wasm" "$js" "$wit"; then
    bash "$js/build.sh" "$PG_COMPONENT_WASM_DIR" >/dev/null
fi
c="$root/guests/polyglot/c"
if stale "$PG_COMPONENT_WASM_DIR/slugify-c.wasm" "$c" "$wit"; then
    bash "$c/build.sh" "$PG_COMPONENT_WASM_DIR" >/dev/null
fi

# A core module (not a component): the 8-byte preamble alone is a valid empty module.
printf '\0asm\1\0\0\0' > "$PG_COMPONENT_WASM_DIR/core-module.wasm"
chmod 644 "$PG_COMPONENT_WASM_DIR/core-module.wasm"
ls "$PG_COMPONENT_WASM_DIR"
