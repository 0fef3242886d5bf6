#!/usr/bin/env bash
# Instructions per call inside the language handler, counted by callgrind (exact and stable on
# a noisy machine, unlike timings): pg_component's typed int8 -> int8 and text -> text calls
# (and the same exports through wasm_transform from a jsonb column), an aggregate's per-row
# `add` (a resource method; the peer a PL/pgSQL transition function) and the same with its rows
# handed over by `add-batch`, and a plugin's indexed lookup through a prepared statement (enrich), against PL/pgSQL doing
# the same, in a single-user backend. Each query runs over N and 2N
# rows (after a run not counted); the difference over N is the per-call count, so the first
# call's set-up drops out.
# Prints the per-call counts and, per call, the functions with the most instructions of their
# own. Rows: CALLGRIND_ROWS (default 20000); CALLGRIND_ONLY, a regular expression, picks calls
# by name (e.g. "int8"). Output files: $PGC_VAR/callgrind.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
. "$root/scripts/env.sh"
. "$root/scripts/cluster.sh"

command -v valgrind >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}
bash "$root/scripts/setup.sh"
install_release

rows="${CALLGRIND_ROWS:-20000}"
dir="$PGC_VAR/callgrind-cluster"
out="$PGC_VAR/callgrind"
port="${CALLGRIND_PORT:-55437}"
rm -rf "$dir" "$out"
install -d -o postgres -g postgres "$out"
cluster_start "$dir" "$port"
b64="$(base64 -w0 "$PG_COMPONENT_WASM_DIR/bench.wasm")"
enrich="$(base64 -w0 "$PG_COMPONENT_WASM_DIR/enrich.wasm")"
aggs="$(base64 -w0 "$PG_COMPONENT_WASM_DIR/aggregates.wasm")"
aggb="$(base64 -w0 "$PG_COMPONENT_WASM_DIR/agg-batch.wasm")"
cluster_psql "$port" postgres -q -c "CREATE DATABASE cg"
cluster_psql "$port" cg -q <<SQL
CREATE EXTENSION pg_component;
SELECT count(*) FROM wasm.install('cg', decode('$b64', 'base64'), deterministic => true);
CREATE FUNCTION plpgsql_inc(x int8) RETURNS int8 LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN x + 1; END';
CREATE FUNCTION plpgsql_upper(s text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN upper(s); END';
SELECT count(*) FROM wasm.install('enrich', decode('$enrich', 'base64'), capabilities => '{query}');
SELECT count(*) FROM wasm.install('agg', decode('$aggs', 'base64'), deterministic => true);
SELECT count(*) FROM wasm.install('aggb', decode('$aggb', 'base64'), deterministic => true);
CREATE FUNCTION plpgsql_mean_add(s float8[], x float8) RETURNS float8[] LANGUAGE plpgsql IMMUTABLE AS \$\$
BEGIN IF x IS NULL THEN RETURN s; END IF; RETURN ARRAY[s[1] + x, s[2] + 1]; END \$\$;
CREATE AGGREGATE plpgsql_mean(float8) (SFUNC = plpgsql_mean_add, STYPE = float8[], INITCOND = '{0,0}');
CREATE TABLE countries (code text PRIMARY KEY, name text);
INSERT INTO countries SELECT 'c' || i, 'Country ' || i FROM generate_series(1, 10000) i;
CREATE FUNCTION plpgsql_country(c text) RETURNS text LANGUAGE plpgsql STABLE AS \$\$
DECLARE r text;
BEGIN SELECT name INTO r FROM public.countries WHERE code = c; RETURN r; END \$\$;
CREATE TABLE t1 AS SELECT i::int8 AS i, md5(i::text) AS s, 'c' || (1 + i % 12000) AS code,
  jsonb_build_array(i) AS ij, jsonb_build_array(md5(i::text)) AS sj
  FROM generate_series(1, $rows) i;
CREATE TABLE t2 AS SELECT i::int8 AS i, md5(i::text) AS s, 'c' || (1 + i % 12000) AS code,
  jsonb_build_array(i) AS ij, jsonb_build_array(md5(i::text)) AS sj
  FROM generate_series(1, 2 * $rows) i;
ANALYZE countries, t1, t2;
SQL
cluster_stop "$dir"

# count name handler expr table: instructions inside `handler` for one query over `table`.
count() {
    local name="$1" handler="$2" expr="$3" table="$4"
    # One statement a line: a single-user backend runs each line as its own transaction, as
    # psql would. (On one line, the SETs would share the query's transaction, and each
    # subtransaction's end would then walk every setting in AtEOXact_GUC.)
    printf 'SET jit = off;\nSET max_parallel_workers_per_gather = 0;\nSELECT %s FROM %s;\n' \
        "$expr" "$table" |
        sudo -u postgres valgrind --tool=callgrind --toggle-collect="$handler" \
            --callgrind-out-file="$out/$name-$table.out" \
            "$PGBIN/postgres" --single -D "$dir" cg >/dev/null 2>"$out/$name-$table.log"
    sed -n 's/^summary: //p' "$out/$name-$table.out"
}

printf '| call | instructions per call (handler inclusive) |\n|---|---:|\n'
for spec in "pg_component typed int8|wasm_call_handler|count(cg.inc(i))" \
    "PL/pgSQL int8|plpgsql_call_handler|count(plpgsql_inc(i))" \
    "pg_component typed text|wasm_call_handler|count(cg.upper(s))" \
    "PL/pgSQL text|plpgsql_call_handler|count(plpgsql_upper(s))" \
    "pg_component wasm_transform int8|wasm_transform_export|count(wasm_transform('cg', 'inc', ij))" \
    "pg_component wasm_transform text|wasm_transform_export|count(wasm_transform('cg', 'upper', sj))" \
    "pg_component aggregate add|wasm_call_handler|agg.mean(i::float8)" \
    "pg_component aggregate add, in batches|wasm_call_handler|aggb.mean(i::float8)" \
    "PL/pgSQL aggregate sfunc|plpgsql_call_handler|plpgsql_mean(i::float8)" \
    "pg_component lookup|wasm_call_handler|count(enrich.country_name(code))" \
    "PL/pgSQL lookup|plpgsql_call_handler|count(plpgsql_country(code))"; do
    IFS='|' read -r name handler expr <<<"$spec"
    [[ "$name" =~ ${CALLGRIND_ONLY:-.} ]] || continue
    file="$(echo "$name" | tr ' /' '__')"
    # A first run fills what a first run fills (the compiled-code cache, for one): not counted.
    count "$file" "$handler" "$expr" t1 >/dev/null
    one="$(count "$file" "$handler" "$expr" t1)"
    two="$(count "$file" "$handler" "$expr" t2)"
    printf '| %s | %d |\n' "$name" $(((two - one) / rows))
done
echo
for f in "$out"/pg_component_*-t2.out; do
    echo "### $(basename "$f" -t2.out): functions by their own instructions, over $((2 * rows)) calls"
    callgrind_annotate "$f" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n 1,30p
done
