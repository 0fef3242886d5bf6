# Shared settings for the scripts: sourced, not run.
# Build output lives outside the clone so a fresh clone on the same machine reuses it.
export PGC_VAR="${PGC_VAR:-/var/tmp/pg_component}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PGC_VAR/target}"
export PG_COMPONENT_WASM_DIR="${PG_COMPONENT_WASM_DIR:-$PGC_VAR/components}"
export PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
export PATH="$HOME/.cargo/bin:$PATH"

# The pinned Rust toolchain (rust-toolchain.toml), installed idempotently with what the build,
# the lints and the guests need.
ensure_toolchain() {
    local channel
    channel="$(sed -n 's/^channel = "\(.*\)"/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../rust-toolchain.toml")"
    if ! rustup run "$channel" rustc --print target-libdir --target wasm32-wasip2 >/dev/null 2>&1 ||
        ! rustup component list --installed --toolchain "$channel" 2>/dev/null | grep -q '^clippy'; then
        echo "setup: rustup toolchain install $channel (rustfmt, clippy, wasm32-wasip2)"
        rustup toolchain install "$channel" --profile minimal -c rustfmt -c clippy -t wasm32-wasip2
    fi
}
