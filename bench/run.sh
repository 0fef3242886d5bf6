#!/usr/bin/env bash
# Benchmarks: per-row cost of pg_component against the built-in expression, an SQL function,
# PL/pgSQL, PL/Python, PL/Perl and PL/Lua, measured side by side in one run on one cluster.
# Prints ns/row over a bare scan and ratios. Rows: BENCH_ROWS (default 1000000); runs of each
# query, the best counting: BENCH_REPEAT (default 3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
. "$root/scripts/env.sh"
. "$root/scripts/cluster.sh"

bash "$root/scripts/setup.sh"
need=()
for pkg in postgresql-plpython3-15 postgresql-plperl-15 postgresql-15-pllua; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
install_release

dir="$PGC_VAR/bench-cluster"
port="${BENCH_PORT:-55436}"
cluster_start "$dir" "$port"
trap 'cluster_stop "$dir"' EXIT
# Measure cold compiles: start without compiled code on disk.
rm -rf "$dir/pgsql_tmp_pg_component" "$dir/pg_component_cache"
python3 -u "$here/bench.py" --port "$port" --rows "${BENCH_ROWS:-1000000}" --wasm-dir "$PG_COMPONENT_WASM_DIR" ${BENCH_ONLY:+--only "$BENCH_ONLY"} ${BENCH_REPEAT:+--repeat "$BENCH_REPEAT"}
