#!/usr/bin/env bash
# The client-side command-line tool (cli/, binary pg-component) against a throwaway cluster:
# install from a local file (bytes as a binary parameter), list, show, uninstall, libpq
# environment variables and --db URLs, and every refusal with its SQLSTATE and exit code.
# The extension must be installed (regress.sh does).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/cluster.sh"
root="$(dirname "$here")"

(cd "$root" && cargo build -q -p pg-component-cli)
pgc="$CARGO_TARGET_DIR/debug/pg-component"
dir="$PGC_VAR/cli-cluster"
port="${CLI_PORT:-55438}"
cluster_start "$dir" "$port"
trap 'cluster_stop "$dir"' EXIT
cluster_psql "$port" postgres -q -c "DROP DATABASE IF EXISTS cli" -c "CREATE DATABASE cli"
q() { cluster_psql "$port" cli -qAt -c "$1"; }
q "CREATE EXTENSION pg_component"
for role in pgc_cli_admin pgc_cli_nobody; do
    q "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role LOGIN; END IF; END \$\$"
done
q "GRANT wasm_admin TO pgc_cli_admin"
q "GRANT CREATE ON DATABASE cli TO pgc_cli_admin"

equals() { # expected actual
    [ "$1" = "$2" ] || { echo "#   expected: $1"; echo "#   got:      $2"; return 1; }
}
wasm() { echo "$PG_COMPONENT_WASM_DIR/$1.wasm"; }
out="$dir/out"
err="$dir/err"
# Run the tool with libpq's variables pointing at the cluster; prints its exit code.
run() { # args...
    local rc=0
    PGHOST=/tmp PGPORT="$port" PGUSER=postgres PGDATABASE=cli "$pgc" "$@" >"$out" 2>"$err" || rc=$?
    echo "$rc"
}
# The SQLSTATE the tool printed.
state() { sed -n 's/^pg-component: ERROR \([0-9A-Z]\{5\}\):.*/\1/p' "$err" | head -1; }

check "install prints the generated functions" \
    equals 0 "$(run install scalars "$(wasm scalars)")"
check "  one line per function, as wasm.plugins lists them" \
    equals "$(q "SELECT count(*) FROM wasm.plugins p, jsonb_array_elements(p.exports) WHERE name = 'scalars'")" "$(wc -l < "$out")"
check "  and they run" equals "HI" "$(q "SELECT scalars.shout('hi')")"
check "  the stored bytes are the file's" \
    equals "$(sha256sum "$(wasm scalars)" | cut -c1-64)" "$(q "SELECT encode(sha256(bytes), 'hex') FROM wasm.plugins WHERE name = 'scalars'")"
check "list shows it" equals 0 "$(run list)"
check "  with its name, schema and sha256" \
    grep -q "^scalars	1	scalars	[0-9]*	$(sha256sum "$(wasm scalars)" | cut -c1-64)		false$" "$out"
check "show prints the WIT and the SQL functions" equals 0 "$(run show scalars)"
check "  the WIT" grep -q "export shout: func" "$out"
check "  the SQL signatures with their exports" grep -q '^scalars.shout("text" text) RETURNS text    -- export shout$' "$out"

echo "# refusals: the server's SQLSTATE, message and hint, exit code 1"
check "installing it again is refused (42710)" equals "1 42710" "$(run install scalars "$(wasm scalars)") $(state)"
check "a query plugin without --capability is refused (0A000), with the hint" \
    equals "1 0A000" "$(run install enrich "$(wasm enrich)") $(state)"
check "  the detail names the option" grep -q "^DETAIL:  grant it at install: wasm.install(…, capabilities => '{query}')" "$err"
check "--capability query grants it" equals 0 "$(run install enrich "$(wasm enrich)" --capability query)"
check "  recorded in the catalog" equals "{query}" "$(q "SELECT capabilities FROM wasm.plugins WHERE name = 'enrich'")"
check "  and listed" grep -q "^enrich	1	enrich	.*	query	false$" "$(run list >/dev/null; echo "$out")"
check "--cost and --rows set the generated functions' estimates" \
    equals "0 12.5 {\"cost\": 12.5, \"rows\": 30.0}" "$(run install enrich "$(wasm enrich)" --replace --capability query --cost 12.5 --rows 30) $(q "SELECT procost FROM pg_proc WHERE oid = 'enrich.country_name(text)'::regprocedure") $(q "SELECT options FROM wasm.plugins WHERE name = 'enrich'")"
check "an importer with no provider is refused (0A000)" equals "1 0A000" "$(run install stores "$(wasm stores)") $(state)"
check "two providers install" equals "0 0" "$(run install geo "$(wasm geo)") $(run install geo2 "$(wasm geo)")"
check "--link links an import to a named provider" \
    equals "0 stores|acme:geo/distance@0.1.0|geo2" \
    "$(run install stores "$(wasm stores)" --link acme:geo/distance=geo2) $(q "SELECT plugin || '|' || import || '|' || provider FROM wasm.links")"
check "  and the importer calls it" equals "harbour@1.414" "$(q "SELECT stores.nearest_store(1, 1)")"
check "a --link without = is bad usage (exit code 2)" equals 2 "$(run install stores2 "$(wasm stores)" --link geo)"
check "uninstall of a provider with an importer is refused (2BP01)" equals "1 2BP01" "$(run uninstall geo2) $(state)"
check "importer first, then the providers" equals "0 0 0" "$(run uninstall stores) $(run uninstall geo2) $(run uninstall geo)"
check "a file that is not a component is refused with the server's SQLSTATE" \
    equals "1 $(cluster_psql "$port" cli -qAt -v VERBOSITY=sqlstate -c "SELECT wasm.install('junk', '\\x00010203')" 2>&1 | sed -n 's/^ERROR:  //p')" \
    "$(printf '\0\1\2\3' > "$dir/junk.wasm"; run install junk "$dir/junk.wasm") $(state)"
check "a wrong --sha256 is refused (22023) and nothing is installed" \
    equals "1 22023 0" "$(run install other "$(wasm scalars)" --sha256 "$(printf '0%.0s' $(seq 64))") $(state) $(q "SELECT count(*) FROM wasm.plugins WHERE name = 'other'")"
check "--deterministic and --schema reach wasm.install" \
    equals "0 t" "$(run install slug "$(wasm slugify)" --deterministic --schema slug_s) $(q "SELECT deterministic FROM wasm.plugins WHERE name = 'slug' AND schema_name = 'slug_s'")"
check "--replace upgrades (version 2)" \
    equals "0 2" "$(run install slug "$(wasm slugify)" --replace --deterministic --schema slug_s) $(q "SELECT version FROM wasm.plugins WHERE name = 'slug'")"
rc=0
PGHOST=/tmp PGPORT="$port" PGUSER=pgc_cli_nobody PGDATABASE=cli "$pgc" install x "$(wasm scalars)" >/dev/null 2>"$err" || rc=$?
check "a role that is not wasm_admin is refused (42501, exit 1)" equals "1 42501" "$rc $(state)"
rc=0
PGHOST=/tmp PGPORT="$port" PGUSER=pgc_cli_admin PGDATABASE=cli "$pgc" install by_admin "$(wasm scalars)" --schema by_admin >/dev/null 2>"$err" || rc=$?
check "a wasm_admin member installs" equals "0 pgc_cli_admin" "$rc $(q "SELECT owner FROM wasm.plugins WHERE name = 'by_admin'")"
check "show of a plugin that is not installed: 42704, exit 1" equals "1 42704" "$(run show nothing) $(state)"
check "uninstall of one that is not installed: the server's 42704" equals "1 42704" "$(run uninstall nothing) $(state)"

echo "# files, usage and connections"
check "a missing file: exit 3, nothing sent" equals "3 0" "$(run install missing "$dir/no-such.wasm") $(q "SELECT count(*) FROM wasm.plugins WHERE name = 'missing'")"
check "  the message names the file" grep -q "cannot read $dir/no-such.wasm" "$err"
check "bad usage: exit 2" equals 2 "$(run install onlyname)"
rc=0
PGHOST=/tmp PGPORT=1 PGUSER=postgres PGDATABASE=cli "$pgc" list >/dev/null 2>"$err" || rc=$?
check "no server: exit 4" equals 4 "$rc"
rc=0
"$pgc" --db "postgresql://postgres@%2Ftmp:$port/cli" list >"$out" 2>"$err" || rc=$?
check "--db takes a URL (here a Unix socket)" equals 0 "$rc"
check "  and lists the same plugins" equals "by_admin enrich scalars slug" "$(tail -n +2 "$out" | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
rc=0
"$pgc" --db "host=/tmp port=$port user=postgres dbname=cli" uninstall enrich >/dev/null 2>"$err" || rc=$?
check "--db takes a key=value string; uninstall drops the plugin and its functions" \
    equals "0 0 " "$rc $(q "SELECT count(*) FROM wasm.plugins WHERE name = 'enrich'") $(q "SELECT to_regnamespace('enrich')")"
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
