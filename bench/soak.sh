#!/usr/bin/env bash
# A soak: pgbench with 8 clients for SOAK_SECONDS (default 180) against a throwaway cluster,
# calling typed functions, set-returning functions and wasm_transform, and trapping guests
# whose errors a PL/pgSQL EXCEPTION block catches, while a loop replaces the plugin they call
# (replace => true) alongside. Prints failed transactions, postmaster restarts, and each
# backend's RSS at the start and the end. A benchmark, not a timed test: it fails only on
# errors or restarts. Usage: make soak, or SOAK_SECONDS=60 bash bench/soak.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
. "$root/scripts/env.sh"
. "$root/scripts/cluster.sh"

seconds="${SOAK_SECONDS:-180}"
clients="${SOAK_CLIENTS:-8}"
bash "$root/scripts/setup.sh"
install_release

dir="$PGC_VAR/soak-cluster"
port="${SOAK_PORT:-55443}"
work="$PGC_VAR/soak"
install -d -o postgres -g postgres "$work"
cluster_start "$dir" "$port"
trap 'cluster_stop "$dir"' EXIT
q() { cluster_psql "$port" soak -qAt "$@"; }
cluster_psql "$port" postgres -q -c "DROP DATABASE IF EXISTS soak" -c "CREATE DATABASE soak"
install_plugins() { # replace
    q >/dev/null <<SQL
\set scalars \`base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"\`
\set shapes \`base64 -w0 "$PG_COMPONENT_WASM_DIR/shapes.wasm"\`
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'), replace => $1);
SELECT count(*) FROM wasm.install('shapes', decode(:'shapes', 'base64'), replace => $1);
SQL
}
q -c "CREATE EXTENSION pg_component"
install_plugins false
q >/dev/null <<'SQL'
CREATE TABLE titles AS SELECT i, 'Title number ' || i AS title FROM generate_series(1, 1000) i;
CREATE FUNCTION trapped(n int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN scalars.divide(n, 0)::text;
EXCEPTION WHEN external_routine_exception THEN
    RETURN 'caught ' || SQLSTATE;
END $$;
SQL
cat > "$work/mix.sql" <<'SQL'
\set id random(1, 1000)
SELECT scalars.shout(title) FROM titles WHERE i = :id;
SELECT sum(x) FROM shapes.scale(ARRAY[ROW(:id, 2), ROW(3, 4)]::shapes.point[], 2);
SELECT wasm_transform('scalars', 'shout', jsonb_build_array('row ' || :id));
SELECT trapped(:id);
SELECT count(*) FROM (SELECT scalars.word_count(title) FROM titles WHERE i <= 50) t;
SQL
chmod 644 "$work/mix.sql"

rss() { # the RSS in kB of every client backend of database soak
    local pids
    pids="$(q -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE datname = 'soak' AND backend_type = 'client backend' AND pid <> pg_backend_pid()")"
    for pid in $pids; do
        awk -v pid="$pid" '/^VmRSS/ { printf "%s:%dkB ", pid, $2 }' "/proc/$pid/status" 2>/dev/null || true
    done
}
started="$(q -c "SELECT pg_postmaster_start_time()")"

# The replace loop, alongside the load.
(
    end=$((SECONDS + seconds))
    n=0
    while [ $SECONDS -lt $end ]; do
        install_plugins true && n=$((n + 1))
        sleep 1
    done
    echo "$n" > "$work/replaces"
) &
replacer=$!

"$PGBIN/pgbench" -h /tmp -p "$port" -U postgres -n -c "$clients" -j 2 -T "$seconds" -P 30 \
    -f "$work/mix.sql" soak > "$work/pgbench.out" 2>&1 &
bench=$!
sleep 5
echo "# RSS at the start: $(rss)"
sleep $((seconds > 15 ? seconds - 10 : 1))
echo "# RSS at the end:   $(rss)"
bench_rc=0
wait "$bench" || bench_rc=$?
wait "$replacer" || true

grep -E "number of (transactions actually processed|failed transactions)|^tps|latency average" "$work/pgbench.out" || true
failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.out")"
errors="$(grep -c "ERROR" "$work/pgbench.out" || true)"
restarts=0
[ "$(q -c "SELECT pg_postmaster_start_time()")" = "$started" ] || restarts=1
crashes="$(grep -c "terminated by signal\|was terminated by" "$dir/server.log" || true)"
echo "# replaces: $(cat "$work/replaces" 2>/dev/null || echo 0), failed transactions: ${failed:-unknown}, client errors: $errors, postmaster restarts: $restarts, crashed backends: $crashes, pgbench exit: $bench_rc"
[ "$bench_rc" -eq 0 ] && [ "${failed:-1}" = 0 ] && [ "$errors" -eq 0 ] && [ "$restarts" -eq 0 ] && [ "$crashes" -eq 0 ]
