# Shared settings for the scripts: sourced, not run.
# Build output lives outside the clone so a fresh clone on the same machine reuses it.
export PGC_VAR="${PGC_VAR:-/var/tmp/pg_component}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PGC_VAR/target}"
export PG_COMPONENT_WASM_DIR="${PG_COMPONENT_WASM_DIR:-$PGC_VAR/components}"
export PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
export PATH="$HOME/.cargo/bin:$PATH"
