#!/usr/bin/env bash
# Install everything the build and the tests need, by package name, skipping what is there.
# Idempotent; runs as root on a fresh Debian 12 machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"

need_apt=()
for pkg in postgresql-15 postgresql-server-dev-15 libclang-dev clang sudo; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

ensure_toolchain

# cargo-pgrx must match the pgrx crate pinned in Cargo.toml.
pgrx_version="$(sed -n 's/^pgrx = "=\(.*\)"/\1/p' "$here/../Cargo.toml")"
if ! cargo pgrx --version 2>/dev/null | grep -qF "$pgrx_version"; then
    echo "setup: cargo install cargo-pgrx $pgrx_version"
    cargo install cargo-pgrx --version "$pgrx_version" --locked
fi

if ! grep -q '^pg15' "$HOME/.pgrx/config.toml" 2>/dev/null; then
    cargo pgrx init --pg15 "$PG_CONFIG"
fi

mkdir -p "$PGC_VAR"
chmod 755 "$PGC_VAR"
