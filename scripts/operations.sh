#!/usr/bin/env bash
# Where Postgres runs queries, plugins run: calls (aggregates included) take no transaction ID, deterministic plugins
# run in parallel workers, a streaming hot standby calls them and follows installs, replaces and
# uninstalls on the primary, base backups (plain and tar) succeed and restore, the compiled-code
# cache stays clean, wasm triggers survive pg_dump and pg_restore, and ALTER EXTENSION pg_component
# UPDATE from 0.1.0 and 0.2.0 keeps everything.
# Runs against its own throwaway clusters; the extension must be installed (regress.sh does).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/cluster.sh"
root="$(dirname "$here")"

base="$PGC_VAR/operations"
primary="$base/primary"
standby="$base/standby"
restored="$base/restored"
sock="$base/socket"  # the standby's own socket directory
pport="${OPERATIONS_PORT:-55440}"
sport=$((pport + 1))
rport=$((pport + 2))
for d in "$primary" "$standby" "$restored"; do cluster_stop "$d"; done
rm -rf "$base"
install -d -o postgres -g postgres -m 700 "$base" "$sock"
cluster_start "$primary" "$pport"
stop_all() { for d in "$primary" "$standby" "$restored"; do cluster_stop "$d"; done; }
trap stop_all EXIT

equals() { # expected actual
    [ "$1" = "$2" ] || { echo "#   expected: $1"; echo "#   got:      $2"; return 1; }
}
# One fresh session per call: psql to the primary (qp), the standby (qs), the restored backup (qr).
qp() { cluster_psql "$pport" ops -qAt "$@"; }
qs() { "$PGBIN/psql" -X -qAt -h "$sock" -p "$sport" -U postgres -d ops "$@"; }
qr() { cluster_psql "$rport" ops -qAt "$@"; }
# The SQLSTATE a statement fails with (empty if it succeeds), on the given session function.
sqlstate() { # q sql
    "$1" -v VERBOSITY=sqlstate -v ON_ERROR_STOP=1 -c "$2" 2>&1 >/dev/null | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\).*/\1/p' | head -1
}
as_postgres() { sudo -u postgres "$@"; }
wasm() { echo "$PG_COMPONENT_WASM_DIR/$1.wasm"; }
sha() { sha256sum "$(wasm "$1")" | cut -c1-64; }
# Install component FILE as plugin NAME in database DB of the primary, with extra wasm.install
# arguments. (The bytes travel through standard input: too big for a command-line argument.)
install_into() { # db name file [args]
    cluster_psql "$pport" "$1" -qAt >/dev/null <<SQL
\set bytes \`base64 -w0 "$(wasm "$3")"\`
SELECT count(*) FROM wasm.install('$2', decode(:'bytes', 'base64')${4:+, $4});
SQL
}
install_plugin() { install_into ops "$@"; }
# Cache entries of component FILE under a data directory (prints their paths).
entries() { # datadir file
    local oid
    oid="$(qp -c "SELECT oid FROM pg_database WHERE datname = 'ops'")"
    ls "$1/pgsql_tmp_pg_component/$oid/$(sha "$2" | cut -c1-32)"-*.cwasm 2>/dev/null || true
}
# Wait until the standby has replayed everything the primary wrote so far.
wait_for_replay() {
    local lsn
    lsn="$(cluster_psql "$pport" postgres -qAt -c "SELECT pg_current_wal_lsn()")"
    for _ in $(seq 1 400); do
        [ "$(qs -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && return 0
        sleep 0.05
    done
    echo "# the standby did not replay up to $lsn"
    return 1
}

cluster_psql "$pport" postgres -q -c "CREATE DATABASE ops"
qp -c "CREATE EXTENSION pg_component"
install_plugin scalars scalars
install_plugin slugify slugify "deterministic => true"
install_plugin shapes shapes
install_plugin enrich enrich "capabilities => '{query}'"
install_plugin agg aggregates "deterministic => true"
install_plugin aggb agg-batch "deterministic => true"
# Plugins built from plugins: stores imports acme:geo/distance, which geo exports.
install_plugin geo geo "deterministic => true"
install_plugin stores stores "deterministic => true"
qp -c "CREATE FUNCTION public.loud(text) RETURNS text LANGUAGE wasm AS 'scalars/shout'"
qp -c "CREATE TABLE public.countries (code text PRIMARY KEY, name text)" \
    -c "INSERT INTO public.countries VALUES ('fr', 'France'), ('de', 'Germany')"
qp -c "CREATE TABLE big AS SELECT i, 'Post number ' || i || ', on page ' || (i % 97) AS title FROM generate_series(1, 60000) i" \
    -c "ANALYZE big"

# The kinds of call, each as the first statement of a fresh session, and what each returns.
calls=(
    "typed|SELECT scalars.shout('abc')|ABC"
    "record|SELECT (slugify.slug_post(ROW('Hello, big World!', 9))).slug|hello-big"
    "set-returning|SELECT string_agg(f0, ',') FROM shapes.labelled(ARRAY[ROW(1, 2), ROW(3, 4)]::shapes.spot[])|spot 1,spot 2"
    "hand-written|SELECT public.loud('hand')|HAND"
    "wasm_transform|SELECT wasm_transform('scalars', 'shout', '[\"json\"]')|\"JSON\""
    "validator|SELECT 'valid' FROM (SELECT wasm.wasm_validator('public.loud(text)'::regprocedure)) v|valid"
    "database-reading|SELECT concat(enrich.country_name('fr'), ',', coalesce(enrich.country_name('xx'), '-'))|France,-"
    "aggregate|SELECT concat(agg.mean(x), ',', agg.median(x)) FROM (VALUES (1.0::float8), (2.0), (6.0)) v(x)|3,2"
    "linked|SELECT stores.nearest_store(1, 1)|harbour@1.414"
    "window-aggregate|SELECT string_agg(m::text, ',' ORDER BY i) FROM (SELECT i, agg.mean(i) OVER (ORDER BY i ROWS 1 PRECEDING) m FROM generate_series(1, 3) i) w|1,1.5,2.5"
    "batched-aggregate|SELECT concat(aggb.mean(x), ',', aggb.join_words(x::text ORDER BY x DESC)) FROM (VALUES (1.0::float8), (2.0), (6.0)) v(x)|3,6 2 1"
)

echo "# 1. no transaction ID on any call path (a fresh session each: the first call included)"
for c in "${calls[@]}"; do
    IFS='|' read -r kind sql want <<<"$c"
    out="$(qp -c "BEGIN" -c "$sql" -c "SELECT 'xid-free:' || (txid_current_if_assigned() IS NULL)" -c "COMMIT" 2>&1 || true)"
    check "$kind call returns its value on the primary" equals "$want" "$(head -1 <<<"$out")"
    check "$kind call takes no transaction ID" equals "xid-free:true" "$(tail -1 <<<"$out")"
done

echo "# the read-only transaction and write refusals"
check "install in a read-only transaction fails with 25006" \
    equals 25006 "$(sqlstate qp "BEGIN READ ONLY; SELECT wasm.install('ro', '\\x00'::bytea); COMMIT")"
check "uninstall in a read-only transaction fails with 25006" \
    equals 25006 "$(sqlstate qp "BEGIN READ ONLY; SELECT wasm.uninstall('scalars'); COMMIT")"
check "calls work in a read-only transaction" \
    equals "RO" "$(qp -c "BEGIN READ ONLY" -c "SELECT scalars.shout('ro')" -c "COMMIT")"
check "nothing was installed or removed" equals 8 "$(qp -c "SELECT count(*) FROM wasm.plugins")"

echo "# 2. parallel workers (forced parallel plans, first call of the session)"
parallel="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
          SET min_parallel_table_scan_size = 0; SET parallel_leader_participation = off;"
serial="SET max_parallel_workers_per_gather = 0;"
for c in "typed scalar|sum(length(slugify.slugify(title)))" \
         "record result|sum(length((slugify.slug_post(ROW(title, 12))).slug)) FILTER (WHERE (slugify.slug_post(ROW(title, 12))).truncated)" \
         "aggregate (partial states serialized in workers, merged in the leader)|agg.mean(length(title)::float8)" \
         "batched aggregate (rows kept in workers, handed over before serializing)|aggb.mean(length(title)::float8)" \
         "linked (an importer and its provider, composed)|sum(stores.between(i, 0, 0, length(title))::numeric)"; do
    IFS='|' read -r kind expr <<<"$c"
    plan="$(qp -c "$parallel" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT $expr FROM big" 2>&1 || true)"
    launched="$(sed -n 's/.*Workers Launched: \([0-9]*\).*/\1/p' <<<"$plan" | head -1)"
    check "$kind: a parallel plan launched workers" test "${launched:-0}" -ge 1
    par="$(qp -c "$parallel" -c "BEGIN" -c "SELECT $expr FROM big" -c "SELECT txid_current_if_assigned() IS NULL" -c "COMMIT" 2>&1 || true)"
    ser="$(qp -c "$serial" -c "SELECT $expr FROM big" 2>&1 || true)"
    check "$kind: the parallel result equals the serial one ($ser)" equals "$ser" "$(head -1 <<<"$par")"
    check "$kind: the parallel query took no transaction ID" equals t "$(tail -1 <<<"$par")"
done

echo "# 4. base backups (the plugins have been called: the cache has entries)"
check "the primary has cache entries" test -n "$(entries "$primary" scalars)"
long="$(cd "$primary" && find pgsql_tmp_pg_component pg_component_cache -print 2>/dev/null | awk 'length > 99' || true)"
check "every cache path is at most 99 bytes" equals "" "$long"
install -d -o postgres -g postgres -m 700 "$base/tar"
check "pg_basebackup in tar format succeeds" \
    as_postgres "$PGBIN/pg_basebackup" -h /tmp -p "$pport" -U postgres -D "$base/tar" -Ft -X fetch -c fast
check "the tar backup carries no compiled code" \
    equals 0 "$(tar tf "$base/tar/base.tar" | grep -c pgsql_tmp_pg_component || true)"
check "pg_basebackup in plain format succeeds" \
    as_postgres "$PGBIN/pg_basebackup" -h /tmp -p "$pport" -U postgres -D "$base/plain" -Fp -X fetch -c fast
check "the plain backup carries no compiled code" test ! -e "$base/plain/pgsql_tmp_pg_component"
install -d -o postgres -g postgres -m 700 "$restored"
as_postgres tar xf "$base/tar/base.tar" -C "$restored" 2>/dev/null || true
cluster_start "$restored" "$rport" || echo "# the restored backup did not start"
check "plugins of a restored tar backup work with no extra step" \
    equals "RESTORED|hello-world" "$(qr -c "SELECT scalars.shout('restored') || '|' || slugify.slugify('Hello World')")"
check "the restored cluster compiled into its own cache" test -n "$(entries "$restored" scalars)"
cluster_stop "$restored"

echo "# 3. a streaming hot standby"
install_plugin sh shapes
check "pg_basebackup -R makes a standby" \
    as_postgres "$PGBIN/pg_basebackup" -h /tmp -p "$pport" -U postgres -D "$standby" -R -X stream -c fast
check "the standby starts without compiled code (base backups skip the cache)" \
    test ! -e "$standby/pgsql_tmp_pg_component"
as_postgres "$PGBIN/pg_ctl" -D "$standby" -l "$standby/server.log" -w \
    -o "-p $sport -k $sock -c listen_addresses='' -c hot_standby=on" start >/dev/null
check "the standby is in recovery" equals t "$(qs -c "SELECT pg_is_in_recovery()")"
for c in "${calls[@]}"; do
    IFS='|' read -r kind sql want <<<"$c"
    check "$kind call works on the standby" equals "$want" "$(qs -c "$sql" 2>&1 || true)"
done
check "the standby compiled into its own cache" test -n "$(entries "$standby" scalars)"
check "install on the standby fails with 25006" \
    equals 25006 "$(sqlstate qs "SELECT wasm.install('x', '\\x00'::bytea)")"
check "uninstall on the standby fails with 25006" \
    equals 25006 "$(sqlstate qs "SELECT wasm.uninstall('scalars')")"
check "the standby session after a refusal still calls" equals "NEXT" "$(qs -c "SELECT scalars.shout('next')")"

# A long-lived standby session sees the primary's replace and uninstall after replay. It reads
# statements from a FIFO and writes to a file; each answer ends with a numbered marker.
mkfifo "$base/session.in"
"$PGBIN/psql" -X -qAt -h "$sock" -p "$sport" -U postgres -d ops -v VERBOSITY=sqlstate \
    <"$base/session.in" >"$base/session.out" 2>&1 &
session_pid=$!
exec 3>"$base/session.in"
ask() { # sql: one statement in the long-lived standby session; prints its output lines
    local n
    n=$(($(grep -c '^end-of-answer-' "$base/session.out" || true) + 1))
    printf '%s\nSELECT %s;\n' "$1" "'end-of-answer-$n'" >&3
    for _ in $(seq 1 600); do
        grep -q "^end-of-answer-$n\$" "$base/session.out" && break
        sleep 0.05
    done
    awk -v n="$n" '/^end-of-answer-/ { seen++; next } seen == n - 1' "$base/session.out"
}
check "the session calls the first version" equals "2" "$(ask "SELECT (sh.echo_point(ROW(1, 2))).y;")"
install_plugin sh shapes-v2 "replace => true"
wait_for_replay
check "after a replayed replace, the same session calls the new version" \
    equals "3" "$(ask "SELECT (sh.echo_point(ROW(1, 2, 3)::sh.point)).z;")"
check "… and wasm_transform there too" \
    equals '{"x": 1.0, "y": 2.0, "z": 3.0}' "$(ask "SELECT wasm_transform('sh', 'echo-point', '[{\"x\": 1, \"y\": 2, \"z\": 3}]');")"
check "a new standby session calls the new version" \
    equals "3" "$(qs -c "SELECT (sh.echo_point(ROW(1, 2, 3)::sh.point)).z")"
v2_standby="$(entries "$standby" shapes-v2)"
check "the standby compiled the new version" test -n "$v2_standby"
check "the replaced version's entry stays on the primary while plugin shapes uses it" \
    test -n "$(entries "$primary" shapes)"
check "a rolled-back uninstall keeps the entry" \
    test -n "$(qp -c "BEGIN" -c "SELECT wasm.uninstall('sh')" -c "ROLLBACK" && entries "$primary" shapes-v2)"
qp -c "SELECT wasm.uninstall('sh')"
check "an uninstall removes its unused entry at commit, on the primary" equals "" "$(entries "$primary" shapes-v2)"
check "other plugins' entries stay" test -n "$(entries "$primary" scalars)"
wait_for_replay
check "after a replayed uninstall, the session's call fails with 3F000 (the schema is gone)" \
    equals "ERROR:  3F000" "$(ask "SELECT sh.echo_point(ROW(1, 2, 3));" | head -1)"
check "… and its wasm_transform with 42704" \
    equals "ERROR:  42704" "$(ask "SELECT wasm_transform('sh', 'echo-point', '[]');" | head -1)"
check "the session still calls the other plugins" equals "STILL" "$(ask "SELECT scalars.shout('still');")"
exec 3>&-
wait "$session_pid" 2>/dev/null || true

echo "# 5. cache hygiene on the standby (a replayed uninstall runs no code of ours)"
check "the uninstalled version's entry is still on the standby" test -n "$(entries "$standby" shapes-v2)"
# Age every entry past the sweep's grace period; a new backend's first call sweeps.
find "$standby/pgsql_tmp_pg_component" -type f -exec touch -d '-1 hour' {} +
qs -c "SELECT scalars.shout('sweep')" >/dev/null
check "a new standby backend swept the uninstalled version's entry" equals "" "$(entries "$standby" shapes-v2)"
check "the installed plugins' entries stay" test -n "$(entries "$standby" scalars)"
check "and they load" equals "SWEPT" "$(qs -c "SELECT scalars.shout('swept')")"

echo "# query plugins free their statements: 10,000 transactions that each prepare one"
mkfifo "$base/loop.in"
cluster_psql "$pport" ops -qAt <"$base/loop.in" >"$base/loop.out" 2>&1 &
loop_pid=$!
exec 4>"$base/loop.in"
run_transactions() { # n marker: n transactions, each a new instance that prepares a statement
    local i
    for i in $(seq 1 "$1"); do echo "SELECT enrich.country_name('fr');"; done >&4
    echo "SELECT '$2', pg_backend_pid();" >&4
    for _ in $(seq 1 1200); do grep -q "^$2|" "$base/loop.out" && return 0; sleep 0.05; done
    return 1
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
run_transactions 1000 warm
backend="$(sed -n 's/^warm|//p' "$base/loop.out")"
rss_warm="$(rss_kb "$backend")"
run_transactions 9000 done
rss_done="$(rss_kb "$backend")"
echo "# backend RSS after 1,000 transactions: ${rss_warm} kB; after 10,000: ${rss_done} kB"
check "10,000 transactions that prepare statements keep the backend's RSS flat (< 4 MB growth)" \
    test $((rss_done - rss_warm)) -lt 4096
check "every one of them answered" equals 10000 "$(grep -c '^France$' "$base/loop.out")"
exec 4>&-
wait "$loop_pid" 2>/dev/null || true

echo "# a query plugin in a LATIN1 database: what guests read is converted to UTF-8"
cluster_psql "$pport" postgres -q -c "DROP DATABASE IF EXISTS latin1" \
    -c "CREATE DATABASE latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
ql() { PGCLIENTENCODING=UTF8 cluster_psql "$pport" latin1 -qAt "$@"; }
ql -c "CREATE EXTENSION pg_component" \
    -c "CREATE TABLE public.countries (code text PRIMARY KEY, name text)" \
    -c "INSERT INTO public.countries VALUES ('qc', 'Québec')"
install_into latin1 enrich enrich "capabilities => '{query}'"
# The guest renders the row as "text(<name>)"; typed calls hand its UTF-8 back as it is, so
# the bytes of the result are the UTF-8 of what the guest read.
check "a guest reads non-ASCII text of a LATIN1 database as the same characters" \
    equals "t" "$(ql -c "SELECT convert_from(convert_to(r, 'LATIN1'), 'UTF8') = 'text(Québec)' FROM unnest(enrich.probe(ARRAY['SELECT name FROM public.countries WHERE code = ''qc'''])) r")"
check "the database compares and measures that text in its own encoding (one byte for é)" \
    equals "boolean(true),int(6)" "$(ql -c "SELECT r FROM unnest(enrich.probe(ARRAY['SELECT name = convert_from(''\\x5175c3a9626563'', ''UTF8''), octet_length(name) FROM public.countries WHERE code = ''qc'''])) r")"

echo "# trigger functions survive pg_dump and pg_restore"
cluster_psql "$pport" postgres -q -c "DROP DATABASE IF EXISTS trig" -c "DROP DATABASE IF EXISTS trig_restored" \
    -c "CREATE DATABASE trig" -c "CREATE DATABASE trig_restored"
qt() { cluster_psql "$pport" trig -qAt "$@"; }
qtr() { cluster_psql "$pport" trig_restored -qAt "$@"; }
qt -c "CREATE EXTENSION pg_component"
install_into trig customers customers
# Links too: the importer's row carries its composition, whatever order the rows come back in.
install_into trig zgeo geo
install_into trig stores stores
qt -c "CREATE FUNCTION public.customers_clean() RETURNS trigger LANGUAGE wasm AS 'customers/clean'" \
    -c "CREATE TABLE public.customers (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL, country text)" \
    -c "CREATE TRIGGER clean BEFORE INSERT OR UPDATE ON public.customers FOR EACH ROW EXECUTE FUNCTION public.customers_clean()" \
    -c "INSERT INTO public.customers VALUES (1, ' Ann@Example.ORG ', 'ann  lee', 'se'), (2, 'nope', 'x', NULL)"
"$PGBIN/pg_dump" -h /tmp -p "$pport" -U postgres -Fc -f "$base/trig.dump" trig
check "pg_restore of a database with a wasm trigger succeeds" \
    "$PGBIN/pg_restore" -h /tmp -p "$pport" -U postgres --exit-on-error -d trig_restored "$base/trig.dump"
check "the restored rows are as the trigger wrote them" \
    equals "1|ann@example.org|Ann Lee|SE" "$(qtr -c "SELECT * FROM public.customers ORDER BY id")"
check "the restored trigger fires: rows normalized, invalid ones skipped" \
    equals "3|bo@example.org|Bo Ek|" "$(qtr -c "INSERT INTO public.customers VALUES (3, 'BO@example.org', ' bo ek ', ''), (4, 'x y@z.org', 'z', NULL)" -c "SELECT * FROM public.customers WHERE id > 1 ORDER BY id")"
check "the restored links are listed" \
    equals "stores|acme:geo/distance@0.1.0|zgeo" "$(qtr -c "SELECT plugin, import, provider FROM wasm.links")"
check "a restored importer calls its provider" \
    equals "market@1.000" "$(qtr -c "SELECT stores.nearest_store(3, 3)")"
check "the restored provider cannot be uninstalled while the importer links to it" \
    equals 2BP01 "$(sqlstate qtr "SELECT wasm.uninstall('zgeo')")"

echo "# 6. ALTER EXTENSION pg_component UPDATE from 0.1.0 (installs at 0.1.0 and at 0.2.0)"
sharedir="$("$PG_CONFIG" --sharedir)/extension"
install -m 644 "$root/tests/upgrade/pg_component--0.1.0.sql" "$sharedir/pg_component--0.1.0.sql"
current="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
for db in upgraded fresh restored_dump; do
    cluster_psql "$pport" postgres -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
qu() { cluster_psql "$pport" upgraded -qAt "$@"; }
qu -c "CREATE EXTENSION pg_component VERSION '0.1.0'"
cluster_psql "$pport" upgraded -q >/dev/null <<SQL
\set scalars \`base64 -w0 "$(wasm scalars)"\`
\set slugify \`base64 -w0 "$(wasm slugify)"\`
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'));
SELECT count(*) FROM wasm.install('slugify', decode(:'slugify', 'base64'), deterministic => true);
CREATE FUNCTION public.loud(text) RETURNS text LANGUAGE wasm AS 'scalars/shout';
DROP ROLE IF EXISTS pgc_upgrade_user;
CREATE ROLE pgc_upgrade_user;
GRANT USAGE ON SCHEMA scalars TO pgc_upgrade_user;
SQL
# 0.2.0: a plugin granted the query capability, installed by this library into the old layout.
check "ALTER EXTENSION pg_component UPDATE TO '0.2.0' succeeds" qu -c "ALTER EXTENSION pg_component UPDATE TO '0.2.0'"
check "the library installs into the 0.2.0 catalog (bookkeeping in options)" \
    install_into upgraded enrich enrich "capabilities => '{query}'"
# The bookkeeping, whichever layout holds it: before the update from options, after from columns.
legacy_state="SELECT string_agg(name || ' v' || version || ' ' || sha256 || ' ' || schema_name || ' d=' || coalesce(options->>'deterministic', 'false') || ' c=' || coalesce(options->>'created_schema', 'false') || ' q=' || coalesce(options->'capabilities' ? 'query', false) || ' t=' || coalesce(options->'types', '[]')::text, E'\n' ORDER BY name) FROM wasm.plugins"
state="SELECT string_agg(name || ' v' || version || ' ' || sha256 || ' ' || schema_name || ' d=' || deterministic || ' c=' || created_schema || ' q=' || ('query' = ANY (capabilities)) || ' t=' || generated_types::text, E'\n' ORDER BY name) FROM wasm.plugins"
functions="SELECT string_agg(p.oid::regprocedure::text || ' ' || p.provolatile::text || p.proparallel::text || ' ' || coalesce(p.proacl::text, ''), E'\n' ORDER BY 1) FROM pg_proc p WHERE p.pronamespace::regnamespace::text IN ('scalars', 'slugify', 'enrich', 'public')"
calls_sql="SELECT scalars.shout('up') || slugify.slugify(' A B ') || public.loud('x') || wasm_transform('scalars', 'shout', '[\"t\"]')::text"
before_state="$(qu -c "$legacy_state")"
before_functions="$(qu -c "$functions")"
before_calls="$(qu -c "$calls_sql")"
check "0.1.0 calls work before the update" equals 'UPa-bX"T"' "$before_calls"
check "the 0.2.0 rows hold the bookkeeping" \
    equals "enrich false true true" "$(qu -c "SELECT name || ' ' || (options->>'deterministic') || ' ' || (options->>'created_schema') || ' ' || (options->'capabilities' ? 'query') FROM wasm.plugins WHERE name = 'enrich'")"
"$PGBIN/pg_dump" -h /tmp -p "$pport" -U postgres -Fc -f "$base/v020.dump" upgraded
check "ALTER EXTENSION pg_component UPDATE succeeds" qu -c "ALTER EXTENSION pg_component UPDATE"
check "the extension is at $current" equals "$current" "$(qu -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_component'")"
check "the bookkeeping moved from options into typed columns" equals "$before_state" "$(qu -c "$state")"
check "options keeps no bookkeeping" equals "{}" "$(qu -c "SELECT string_agg(DISTINCT options::text, ',') FROM wasm.plugins")"
check "the generated functions and their grants survive" equals "$before_functions" "$(qu -c "$functions")"
check "the calls survive" equals "$before_calls" "$(cluster_psql "$pport" upgraded -qAt -c "$calls_sql")"
check "deterministic and capabilities are readable by everyone, the bookkeeping is not" \
    equals "t t f f" "$(qu -c "SELECT concat_ws(' ', has_column_privilege('public', 'wasm.plugins', 'deterministic', 'SELECT'), has_column_privilege('public', 'wasm.plugins', 'capabilities', 'SELECT'), has_column_privilege('public', 'wasm.plugins', 'created_schema', 'SELECT'), has_column_privilege('public', 'wasm.plugins', 'generated_types', 'SELECT'))")"
check "the schema grant survives" \
    equals t "$(qu -c "SELECT has_schema_privilege('pgc_upgrade_user', 'scalars', 'USAGE')")"
check "wasm_admin may still install, PUBLIC may not" \
    equals "true false" "$(qu -c "SELECT has_function_privilege('wasm_admin', 'wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision, jsonb)', 'EXECUTE') || ' ' || has_function_privilege('public', 'wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision, jsonb)', 'EXECUTE')")"
check "a plugin installs after the update" \
    equals "DONE" "$(install_into upgraded later scalars && qu -c "SELECT later.shout('done')")"
check "a replace after the update keeps the generated types (none dropped, none recreated)" \
    equals "$(qu -c "SELECT string_agg(t.oid::text, ',' ORDER BY t.oid) FROM pg_type t WHERE t.typnamespace = 'slugify'::regnamespace")" \
    "$(install_into upgraded slugify slugify "replace => true, deterministic => true" && qu -c "SELECT string_agg(t.oid::text, ',' ORDER BY t.oid) FROM pg_type t WHERE t.typnamespace = 'slugify'::regnamespace")"
# A dump taken at 0.2.0, restored where CREATE EXTENSION makes 0.3.0: the rows' old options
# go through the trigger into the typed columns.
"$PGBIN/pg_restore" -h /tmp -p "$pport" -U postgres -d restored_dump "$base/v020.dump" 2>"$base/restore.err" || true
check "a 0.2.0 dump restores into $current with its bookkeeping in the typed columns" \
    equals "$before_state" "$(cluster_psql "$pport" restored_dump -qAt -c "$state")"
check "and its plugins run" equals "$before_calls" "$(cluster_psql "$pport" restored_dump -qAt -c "$calls_sql")"
# A fresh install and 0.1.0 + UPDATE define the same objects: compare the extension's members
# as pg_dump --binary-upgrade writes them (plain pg_dump writes only CREATE EXTENSION).
cluster_psql "$pport" upgraded -q -c "DROP FUNCTION public.loud(text)" \
    -c "SELECT wasm.uninstall(name) FROM wasm.plugins" >/dev/null
cluster_psql "$pport" fresh -q -c "CREATE EXTENSION pg_component"
dump() { # db: the dump, without what differs between any two databases (OIDs, XIDs, keys)
    "$PGBIN/pg_dump" -h /tmp -p "$pport" -U postgres --schema-only --binary-upgrade "$1" |
        grep -v -e '^--' -e 'binary_upgrade_set_next' -e 'binary_upgrade_set_missing_value' -e '^\\restrict' -e '^\\unrestrict' -e '^$' |
        sed -E -e "s/'[{][0-9]+[}]'/'{oid}'/g" -e "s/(relfrozenxid|relminmxid) = '[0-9]+'/\\1 = 'n'/g" \
            -e "s/oid = '[0-9]+'/oid = 'oid'/g"
}
dump fresh > "$base/fresh.sql"
dump upgraded > "$base/upgraded.sql"
check "pg_dump --schema-only of a fresh install equals that of 0.1.0 + UPDATE" \
    diff -u "$base/fresh.sql" "$base/upgraded.sql"
check "the dump is of the extension's objects" grep -q "wasm_transform" "$base/fresh.sql"
cluster_psql "$pport" postgres -q -c "DROP ROLE IF EXISTS pgc_upgrade_user" 2>/dev/null || true

check "the primary did not restart" \
    equals 0 "$(grep -c "terminated by signal\|server process .* was terminated" "$primary/server.log" || true)"
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
