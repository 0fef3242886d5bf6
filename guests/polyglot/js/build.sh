#!/usr/bin/env bash
# Build the JavaScript slugify example (slugify.js) into components with componentize-js:
#   slugify-js.wasm          the plugin, without the WASI HTTP features (loads in pg_component)
#   slugify-js-default.wasm  the same with componentize-js's default features: it imports
#                            wasi:http, which pg_component does not provide, so CREATE refuses it
#
#   guests/polyglot/js/build.sh [OUT_DIR]
#
# OUT_DIR defaults to $PG_COMPONENT_WASM_DIR, else /var/tmp/pg_component/components.
# Idempotent: `npm ci` (package-lock.json) runs only when node_modules lacks the pinned
# componentize-js; the components are rebuilt each time (10 to 20 s each) and replaced in one step.
set -euo pipefail

COMPONENTIZE_JS_VERSION=0.23.0 # also pinned, exactly, in package.json and package-lock.json

here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:-${PG_COMPONENT_WASM_DIR:-/var/tmp/pg_component/components}}"
wit_dir="$here/../../examples/slugify/wit"
pkg="$here/node_modules/@bytecodealliance/componentize-js/package.json"

installed="$(node -p "require(process.argv[1]).version" "$pkg" 2>/dev/null || true)"
if [ "$installed" != "$COMPONENTIZE_JS_VERSION" ]; then
    echo "installing @bytecodealliance/componentize-js@$COMPONENTIZE_JS_VERSION (found: ${installed:-none})"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

mkdir -p "$out_dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
build() { # OUTPUT_NAME [componentize-js options...]
    local name="$1"
    shift
    # --wit: the WIT package directory; --world-name: the world in it to target.
    (cd "$here" && node_modules/.bin/componentize-js slugify.js --wit "$wit_dir" \
        --world-name slugify "$@" --out "$tmp/$name")
    install -m 644 "$tmp/$name" "$out_dir/$name"
    echo "built $out_dir/$name ($(wc -c < "$out_dir/$name") bytes)"
}
# componentize-js enables the WASI features stdio, random, clocks, http and fetch-event unless
# disabled with --disable (-d):
#   http         the global fetch() for outbound HTTP requests: imports wasi:http/types and
#                wasi:http/outgoing-handler;
#   fetch-event  addEventListener('fetch', ...) to serve incoming HTTP requests: exports
#                wasi:http/incoming-handler (and needs http).
# A SQL function has no use for either, and pg_component provides no wasi:http, so the plugin is
# built without both. stdio (console.log and error messages to stderr), random (Math.random,
# crypto) and clocks (Date.now, performance.now, timers) stay: they need only wasi:cli, wasi:io,
# wasi:random and wasi:clocks, which pg_component provides.
build slugify-js.wasm --disable http fetch-event
# All the default features: the variant that pg_component refuses for its wasi:http imports.
build slugify-js-default.wasm
