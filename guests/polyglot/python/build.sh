#!/usr/bin/env bash
# Build the Python slugify example (app.py) into the component slugify-py.wasm, and the enrich
# example (enrich.py) into enrich-py.wasm and the customers example (customers.py, trigger exports)
# into customers-py.wasm, with componentize-py.
# Besides slugify and slugify-max, the component exports componentize-py's own interface
# `exports` (function init, its pre-initialization entry point), and it imports wasi:cli, io,
# clocks, random, filesystem and sockets (no wasi:http).
#
#   guests/polyglot/python/build.sh [OUT_DIR]
#
# OUT_DIR defaults to $PG_COMPONENT_WASM_DIR, else /var/tmp/pg_component/components.
# Idempotent: componentize-py is installed from PyPI only when the pinned version is missing, and
# the component is rebuilt each time (about 10 s) and replaced in one step.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

here="$(cd "$(dirname "$0")" && pwd)"
out_dir="${1:-${PG_COMPONENT_WASM_DIR:-/var/tmp/pg_component/components}}"
wit_dir="$here/../../examples/slugify/wit"
python="${PYTHON:-python3}"

# Python 3 with pip: the machine's, else Debian's.
if ! "$python" -m pip --version >/dev/null 2>&1; then
    echo "installing Debian packages: python3 python3-pip"
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq python3 python3-pip >/dev/null
    python=python3
fi

# Use componentize-py $COMPONENTIZE_PY_VERSION from this Python's environment if it is there,
# else from a private pip --target directory outside the clone, installed once. --target leaves
# the system's Python alone, and works where Debian's python3 refuses `pip install` (PEP 668).
tools_dir="${PGC_VAR:-/var/tmp/pg_component}/tools/componentize-py-$COMPONENTIZE_PY_VERSION"
version_of() { # the componentize-py version importable with PYTHONPATH=$1, else nothing
    PYTHONPATH="$1" "$python" -c \
        'import importlib.metadata as m; print(m.version("componentize-py"))' 2>/dev/null || true
}
pythonpath=""
if [ "$(version_of "")" != "$COMPONENTIZE_PY_VERSION" ]; then
    pythonpath="$tools_dir"
    if [ "$(version_of "$tools_dir")" != "$COMPONENTIZE_PY_VERSION" ]; then
        echo "installing componentize-py==$COMPONENTIZE_PY_VERSION into $tools_dir"
        rm -rf "$tools_dir"
        "$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
            --no-warn-script-location --target "$tools_dir" \
            "componentize-py==$COMPONENTIZE_PY_VERSION"
    fi
fi
componentize_py() { # the console script, run through $python: it need not be on PATH
    PYTHONPATH="$pythonpath" "$python" -c 'import sys
from componentize_py import script
sys.argv[0] = "componentize-py"
sys.exit(script())' "$@"
}

mkdir -p "$out_dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# `componentize` generates the bindings for the world (module wit_world) itself, in a temporary
# directory; `componentize-py -d ... -w slugify bindings DIR` writes them out for an IDE.
# --python-path: a copy of the sources, as the Python inside componentize-py writes __pycache__
# next to them. The standard library comes with componentize-py; app.py needs no other package.
mkdir "$tmp/src"
cp "$here/app.py" "$here/unicode_tables.py" "$tmp/src/"
(cd "$tmp" && componentize_py --wit-path "$wit_dir" --world slugify componentize \
    --python-path "$tmp/src" app --output "$tmp/slugify-py.wasm")
install -m 644 "$tmp/slugify-py.wasm" "$out_dir/slugify-py.wasm"
echo "built $out_dir/slugify-py.wasm ($(wc -c < "$out_dir/slugify-py.wasm") bytes)"
# The enrich example (reads the database through pg-component:plugin/query@0.2.0).
mkdir "$tmp/enrich"
cp "$here/enrich.py" "$tmp/enrich/"
(cd "$tmp" && componentize_py --wit-path "$here/../../examples/enrich/wit" --world enrich \
    componentize --python-path "$tmp/enrich" enrich --output "$tmp/enrich-py.wasm")
install -m 644 "$tmp/enrich-py.wasm" "$out_dir/enrich-py.wasm"
echo "built $out_dir/enrich-py.wasm ($(wc -c < "$out_dir/enrich-py.wasm") bytes)"
# The customers example (trigger exports).
mkdir "$tmp/customers"
cp "$here/customers.py" "$tmp/customers/"
(cd "$tmp" && componentize_py --wit-path "$here/../../examples/customers/wit" --world customers \
    componentize --python-path "$tmp/customers" customers --output "$tmp/customers-py.wasm")
install -m 644 "$tmp/customers-py.wasm" "$out_dir/customers-py.wasm"
echo "built $out_dir/customers-py.wasm ($(wc -c < "$out_dir/customers-py.wasm") bytes)"
# The mean aggregate (an exported resource): stats.py holds the resource, app.py the world.
mkdir "$tmp/stats"
cp "$here/stats/app.py" "$here/stats/stats.py" "$tmp/stats/"
(cd "$tmp" && componentize_py --wit-path "$here/stats/wit" --world stats-py \
    componentize --python-path "$tmp/stats" app --output "$tmp/stats-py.wasm")
install -m 644 "$tmp/stats-py.wasm" "$out_dir/stats-py.wasm"
echo "built $out_dir/stats-py.wasm ($(wc -c < "$out_dir/stats-py.wasm") bytes)"
# Plugins built from plugins: stores imports acme:geo/distance, geo exports it (the Rust
# examples guests/examples/stores and geo, in Python).
mkdir "$tmp/compose"
cp "$here/compose/stores_app.py" "$here/compose/geo_app.py" "$tmp/compose/"
(cd "$tmp" && componentize_py --wit-path "$here/../../examples/stores/wit" --world stores \
    componentize --python-path "$tmp/compose" stores_app --output "$tmp/stores-py.wasm")
install -m 644 "$tmp/stores-py.wasm" "$out_dir/stores-py.wasm"
echo "built $out_dir/stores-py.wasm ($(wc -c < "$out_dir/stores-py.wasm") bytes)"
(cd "$tmp" && componentize_py --wit-path "$here/../../examples/geo/wit" --world geo \
    componentize --python-path "$tmp/compose" geo_app --output "$tmp/geo-py.wasm")
install -m 644 "$tmp/geo-py.wasm" "$out_dir/geo-py.wasm"
echo "built $out_dir/geo-py.wasm ($(wc -c < "$out_dir/geo-py.wasm") bytes)"
