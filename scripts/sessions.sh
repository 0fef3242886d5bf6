#!/usr/bin/env bash
# Tests that need two sessions: pg_cancel_backend and pg_terminate_backend stop a guest that
# spins in a loop or sleeps in a WASI wait, and the server survives (same postmaster, no backend killed by a signal).
# Runs against its own throwaway cluster; the extension must be installed (regress.sh does).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/cluster.sh"

dir="$PGC_VAR/sessions-cluster"
port="${SESSIONS_PORT:-55435}"
# Preloaded: statistics live in shared memory, where every backend's calls show.
cluster_start "$dir" "$port" "-c shared_preload_libraries=pg_component"
trap 'cluster_stop "$dir"' EXIT
log_lines_before=$(wc -l < "$dir/server.log")

q() { cluster_psql "$port" sessions -At -c "$1"; }

cluster_psql "$port" postgres -q -c "DROP DATABASE IF EXISTS sessions" -c "CREATE DATABASE sessions"
q "CREATE EXTENSION pg_component" >/dev/null
# The component travels through psql's standard input: too big for a command-line argument.
cluster_psql "$port" sessions -q >/dev/null <<SQL
\set scalars \`base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"\`
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'));
\set hostile \`base64 -w0 "$PG_COMPONENT_WASM_DIR/hostile.wasm"\`
SELECT count(*) FROM wasm.install('hostile', decode(:'hostile', 'base64'));
SQL
started="$(q "SELECT pg_postmaster_start_time()")"

# Start a guest that never returns by itself ($spin_sql: spinning by default) in the
# background; returns its backend pid in $spin_pid.
spin_sql="SELECT scalars.spin(0)"
start_spin() {
    # The first call loads the components; the second one spins (or sleeps).
    cluster_psql "$port" sessions -At -c "SELECT scalars.shout('warm'), hostile.div(4, 2)" -c "$spin_sql" \
        > "$dir/spin.out" 2>&1 &
    spin_job=$!
    spin_pid=""
    for _ in $(seq 1 200); do
        spin_pid="$(q "SELECT pid FROM pg_stat_activity WHERE query = '$spin_sql' AND state = 'active'")"
        [ -n "$spin_pid" ] && break
        sleep 0.05
    done
    sleep 0.2  # let it get deep into the loop
}

# Stop a spinning guest with FUNCTION (pg_cancel_backend or pg_terminate_backend); prints the
# time it took and leaves the client's output in $dir/spin.out.
stop_spin() {
    start_spin
    local t0 ms
    t0=$(date +%s%N)
    q "SELECT $1($spin_pid)" >/dev/null
    wait "$spin_job" || true
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    echo "# $1 stopped the guest in ${ms} ms (including a psql start)"
    stop_ms=$ms
}

stop_spin pg_cancel_backend
check "cancel gives 57014 'canceling statement due to user request'" grep -q "canceling statement due to user request" "$dir/spin.out"
check "cancel stops a spinning guest promptly" test "$stop_ms" -lt 2000
check "the next call works after a cancel" test "$(q "SELECT scalars.shout('next')")" = "NEXT"

stop_spin pg_terminate_backend
check "terminate ends the spinning backend" grep -q "terminating connection due to administrator command" "$dir/spin.out"
check "the terminated backend is gone" test "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid = $spin_pid")" = "0"

# A guest asleep in a WASI wait (std::thread::sleep: a monotonic-clock pollable) is stopped
# the same way: the wait gives up at the next epoch tick.
spin_sql="SELECT hostile.sleep_ms(600000)"
stop_spin pg_cancel_backend
check "cancel stops a sleeping guest with 57014" grep -q "canceling statement due to user request" "$dir/spin.out"
check "cancel stops a sleeping guest promptly" test "$stop_ms" -lt 2000
check "the next call works after cancelling a sleep" test "$(q "SELECT hostile.sleep_ms(5) >= 5")" = "t"
stop_spin pg_terminate_backend
check "terminate ends a sleeping guest's backend" grep -q "terminating connection due to administrator command" "$dir/spin.out"
check "terminate stops a sleeping guest promptly" test "$stop_ms" -lt 2000

# A cancel during a plugin's own query is not handed to the guest: it ends the statement.
cluster_psql "$port" sessions -q >/dev/null <<SQL
\set enrich \`base64 -w0 "$PG_COMPONENT_WASM_DIR/enrich.wasm"\`
SELECT count(*) FROM wasm.install('enrich', decode(:'enrich', 'base64'), capabilities => '{query}');
SQL
cluster_psql "$port" sessions -At -c "SELECT enrich.probe(ARRAY['SELECT pg_sleep(60)', 'SELECT 1'])" \
    > "$dir/query.out" 2>&1 &
query_job=$!
query_pid=""
for _ in $(seq 1 200); do
    query_pid="$(q "SELECT pid FROM pg_stat_activity WHERE query LIKE '%enrich.probe%' AND state = 'active' AND pid <> pg_backend_pid()")"
    [ -n "$query_pid" ] && break
    sleep 0.05
done
sleep 0.3
t0=$(date +%s%N)
q "SELECT pg_cancel_backend($query_pid)" >/dev/null
wait "$query_job" || true
echo "# the cancel ended the plugin's query in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "a cancel during a guest's query ends the statement with 57014" grep -q "canceling statement due to user request" "$dir/query.out"
check "… and is not handed to the guest (no row came back)" test "$(grep -c "ERROR 57014\|^int(1)" "$dir/query.out")" = 0
check "the next call of the query plugin works" test "$(q "SELECT array_to_string(enrich.probe(ARRAY['SELECT 2']), ',')")" = "int(2)"

# wasi:http denies requests before any connection: a listener on this machine sees none.
cluster_psql "$port" sessions -q >/dev/null <<SQL
\set probe \`base64 -w0 "$PG_COMPONENT_WASM_DIR/http-probe.wasm"\`
SELECT count(*) FROM wasm.install('http_probe', decode(:'probe', 'base64'));
SQL
listen_port=$((port + 100))
# Accept one connection on the port for up to 4 s, in the background; writes "connected" or
# "nothing" to listener.out.
listen_once() {
    python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); s.settimeout(4)
try:
    s.accept(); print("connected")
except socket.timeout:
    print("nothing")
' "$listen_port" > "$dir/listener.out" &
    listener=$!
    sleep 0.5
}
listen_once
probe_out="$(q "SELECT http_probe.get('http://127.0.0.1:$listen_port/')")"
wait "$listener" || true
check "a guest's HTTP request is denied (HTTP-request-denied)" test "$probe_out" = "error ErrorCode::HttpRequestDenied"
check "… and never reaches a listener on the machine" test "$(cat "$dir/listener.out")" = "nothing"
# The control: a plain connection from outside the sandbox does reach that listener.
listen_once
python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close()' "$listen_port"
wait "$listener" || true
check "(control: a connection from outside the sandbox reaches the listener)" test "$(cat "$dir/listener.out")" = "connected"

# pg_dump carries the plugin catalog (a config table) and the generated functions; a restore
# into a new database calls them without reinstalling anything.
q "CREATE TABLE posts AS SELECT 'Dump and Restore' AS title" >/dev/null
"$PGBIN/pg_dump" -h /tmp -p "$port" -U postgres sessions > "$dir/dump.sql"
cluster_psql "$port" postgres -q -c "DROP DATABASE IF EXISTS restored" -c "CREATE DATABASE restored"
cluster_psql "$port" restored -q -f "$dir/dump.sql" >/dev/null 2>"$dir/restore.err" || true
check "the dump restores without errors" test ! -s "$dir/restore.err"
check "restored plugin functions work" \
    test "$(cluster_psql "$port" restored -At -c "SELECT scalars.shout(title) FROM posts")" = "DUMP AND RESTORE"
check "the plugin catalog was restored" \
    test "$(cluster_psql "$port" restored -At -c "SELECT count(*) FROM wasm.plugins WHERE name = 'scalars'")" = "1"

# Statistics with the library preloaded: wasm.stats shows other backends' calls.
q "SELECT wasm.reset_stats()" >/dev/null
for i in 1 2 3; do q "SELECT scalars.shout('other $i'), scalars.shout('twice')" >/dev/null; done
check "preloaded: wasm.stats is cluster-wide" test "$(q "SELECT DISTINCT scope FROM wasm.stats")" = "cluster"
check "preloaded: another backend sees the 6 calls three backends made" \
    test "$(q "SELECT calls FROM wasm.stats WHERE plugin = 'scalars' AND export = 'shout'")" = "6"
check "preloaded: … and the instances they created (one each)" \
    test "$(q "SELECT instances FROM wasm.stats WHERE plugin = 'scalars' AND export IS NULL")" = "3"
check "a reset clears them for every backend" \
    test "$(q "SELECT wasm.reset_stats()" >/dev/null; q "SELECT count(*) FROM wasm.stats")" = "0"
# Logs a DBA can act on: compiles, discarded instances, slow calls (wasm.log_calls_over).
q "SET wasm.log_calls_over = 0; SELECT scalars.shout('slow')" >/dev/null
logged() { tail -n +"$log_lines_before" "$dir/server.log" | grep "$1" >/dev/null; }  # not -q: an early exit fails the pipe
check "a call over wasm.log_calls_over is logged, naming plugin and export" \
    logged 'duration: [0-9.]* ms  plugin "scalars" export "shout"'
check "compiles and cache loads are logged with plugin and time" \
    logged 'plugin "scalars" (component [0-9a-f]*, [0-9]* exports) \(compiled\|loaded its compiled code from the cache\) in'
check "instances discarded after a limit or trap are logged" logged 'instance discarded after .* MB of linear memory'

check "the postmaster did not restart" test "$(q "SELECT pg_postmaster_start_time()")" = "$started"
no_signal_kill() { ! tail -n +"$log_lines_before" "$dir/server.log" | grep -q "terminated by signal"; }
check "no backend was killed by a signal" no_signal_kill
check "a new session calls plugins" test "$(q "SELECT scalars.shout('alive')")" = "ALIVE"

echo "sessions: $passed passed, $failed failed"
[ "$failed" = 0 ]
