#!/usr/bin/env bash
# Build the JavaScript slugify example (slugify.js) into components with componentize-js:
#   slugify-js.wasm          the plugin, without the WASI HTTP features: no wasi:http import
#   slugify-js-default.wasm  the same with componentize-js's default features: it imports
#                            wasi:http, which pg_component links with every request denied, so
#                            it installs and runs like the other
#
#   guests/polyglot/js/build.sh [OUT_DIR]
#
# OUT_DIR defaults to $PG_COMPONENT_WASM_DIR, else /var/tmp/pg_component/components.
# Idempotent: `npm ci` (package-lock.json) runs only when node_modules lacks a package pinned in
# package.json; the components are rebuilt each time (under 10 s each) and replaced in one step.
set -euo pipefail

COMPONENTIZE_JS_VERSION=0.23.0 # pinned, exactly, in package.json (and package-lock.json)

here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:-${PG_COMPONENT_WASM_DIR:-/var/tmp/pg_component/components}}"
wit_dir="$here/../../examples/slugify/wit"
pkg="$here/node_modules/@bytecodealliance/componentize-js/package.json"

# Node.js and npm: the machine's, else Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing Debian packages: nodejs npm"
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq nodejs npm >/dev/null
fi

# The packages package-lock.json pins (componentize-js' parser and bundler among them) need
# Node.js 20 or later.
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
    echo "Node.js $(node --version) is too old for componentize-js $COMPONENTIZE_JS_VERSION: install Node.js 20 or later" >&2
    exit 1
fi

# node_modules must hold what package.json pins: `npm ls` fails on a missing or other version.
# package.json pins @bytecodealliance/preview2-shim too: componentize-js 0.23.0 imports it when it
# runs but declares it only as a devDependency, so without the pin `npm ci` leaves it out.
if ! (cd "$here" && npm ls --depth=0 >/dev/null 2>&1); then
    echo "installing componentize-js $COMPONENTIZE_JS_VERSION and its dependencies (npm ci)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
installed="$(node -p "require(process.argv[1]).version" "$pkg")"
if [ "$installed" != "$COMPONENTIZE_JS_VERSION" ]; then
    echo "componentize-js $installed installed, $COMPONENTIZE_JS_VERSION expected: make package.json" \
        "and COMPONENTIZE_JS_VERSION agree" >&2
    exit 1
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
# disabled with --disable (-d); as seen with componentize-js 0.23.0 and this world:
#   http         the global fetch() for outbound HTTP requests: imports wasi:http/outgoing-handler
#                and wasi:http/types;
#   fetch-event  addEventListener('fetch', ...) to serve incoming HTTP requests (used when the
#                world exports wasi:http/incoming-handler, which this one does not): imports
#                wasi:http/types even so.
# Only with both disabled is there no wasi:http import; pg_component provides no wasi:http, and a
# SQL function has no use for either. The other features stay: stdio (console.log and error
# messages to stderr: wasi:cli, wasi:io), random (Math.random, crypto: wasi:random) and clocks
# (Date.now, performance.now, timers: wasi:clocks), all of which pg_component provides.
build slugify-js.wasm --disable http fetch-event
# All the default features: the variant that pg_component refuses for its wasi:http imports.
build slugify-js-default.wasm
