#!/usr/bin/env bash
# SQL regression tests: Postgres' own pg_regress against a throwaway cluster (run as the OS
# user postgres) with the extension installed. `cargo pgrx regress` (0.18 and 0.19) cannot run its
# cluster as another user when invoked as root, so we drive pg_regress ourselves.
# With --accept, copy the actual output over the expected files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/cluster.sh"
root="$(dirname "$here")"

(cd "$root" && cargo pgrx install --pg-config "$PG_CONFIG" >/dev/null)
dir="$PGC_VAR/regress-cluster"
port="${REGRESS_PORT:-55434}"
cluster_start "$dir" "$port"
trap 'cluster_stop "$dir"' EXIT

out="$PGC_VAR/regress-out"
rm -rf "$out"
mkdir -p "$out"
# REGRESS_TESTS picks some (setup first), e.g. REGRESS_TESTS="setup aggregates".
read -r -a tests <<<"${REGRESS_TESTS:-setup install scalars transform errors language limits sandbox lists types polyglot query triggers aggregates aggregates_batch links stats}"
status=0
"$(dirname "$PG_CONFIG")/../lib/pgxs/src/test/regress/pg_regress" \
    --inputdir="$root/tests/pg_regress" --outputdir="$out" \
    --host=/tmp --port="$port" --user=postgres --dbname=pg_component_regress \
    "${tests[@]}" || status=$?
if [ "${1:-}" = "--accept" ]; then
    mkdir -p "$root/tests/pg_regress/expected"
    cp "$out"/results/*.out "$root/tests/pg_regress/expected/"
    echo "regress: expected output updated"
    exit 0
fi
if [ "$status" -ne 0 ] && [ -f "$out/regression.diffs" ]; then
    cat "$out/regression.diffs"
fi
exit "$status"
