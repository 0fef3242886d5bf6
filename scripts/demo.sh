#!/usr/bin/env bash
# The main job: build and install the extension, start a throwaway cluster, install the
# example plugins, and run a demo ETL query. The cluster is stopped at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
. "$here/cluster.sh"
root="$(dirname "$here")"

bash "$here/setup.sh"
bash "$here/build-guests.sh" >/dev/null
echo "demo: building and installing the extension (release)"
(cd "$root" && cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null)

dir="$PGC_VAR/demo-cluster"
port="${DEMO_PORT:-55433}"
cluster_start "$dir" "$port"
trap 'cluster_stop "$dir"' EXIT

cluster_psql "$port" postgres -q -c "DROP DATABASE IF EXISTS demo" -c "CREATE DATABASE demo"
cluster_psql "$port" demo -q <<SQL
CREATE EXTENSION pg_component;
\set slugify \`base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify.wasm"\`
\set slugify_py \`base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify-py.wasm"\`
\set slugify_js \`base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify-js.wasm"\`
\echo 'installing the slugify example built from Rust, Python and JavaScript (the first install compiles)'
SELECT function, export FROM wasm.install('slugify', decode(:'slugify', 'base64'));
SELECT function FROM wasm.install('slugify_py', decode(:'slugify_py', 'base64'));
SELECT function FROM wasm.install('slugify_js', decode(:'slugify_js', 'base64'));

CREATE TABLE posts (id serial PRIMARY KEY, title text NOT NULL);
INSERT INTO posts (title) VALUES
    ('Hello, World!'),
    ('WebAssembly components in PostgreSQL'),
    ('Ça va? Déjà vu — 100% sûr'),
    ('  Many   spaces & symbols!!  ');

\echo 'demo ETL query: typed calls per row (Rust, Python, JavaScript), and JSON through wasm_transform'
SELECT id, title,
       slugify.slugify(title)             AS slug,
       slugify.slugify_max(title, 12)     AS short_slug,
       slugify_py.slugify(title) = slugify.slugify(title) AND
       slugify_js.slugify(title) = slugify.slugify(title) AS same_in_py_and_js,
       wasm_transform('slugify', 'slugify', jsonb_build_array(title)) AS via_json
FROM posts ORDER BY id;

\echo 'records in and out: slug_post(post) takes a composite (title, max_len) and returns one (slug, truncated)'
SELECT p.id, s.* FROM posts p, LATERAL slugify.slug_post(ROW(p.title, 12)) s ORDER BY p.id;

\echo 'ETL into a table'
CREATE TABLE post_slugs AS
    SELECT id, (slugify.slug_post(ROW(title, NULL))).slug, slugify.slugify_max(title, 12) AS short_slug
    FROM posts;
SELECT * FROM post_slugs ORDER BY id;

\echo 'plugins built from plugins: stores imports acme:geo/distance, which the installed geo exports'
\set geo \`base64 -w0 "$PG_COMPONENT_WASM_DIR/geo.wasm"\`
\set stores \`base64 -w0 "$PG_COMPONENT_WASM_DIR/stores.wasm"\`
SELECT count(*) AS geo_functions FROM wasm.install('geo', decode(:'geo', 'base64'));
SELECT count(*) AS stores_functions FROM wasm.install('stores', decode(:'stores', 'base64'));
SELECT * FROM wasm.links;
SELECT x, y, stores.nearest_store(x, y) FROM (VALUES (1.0, 1.0), (10.0, -4.0), (-5.0, 9.0)) v(x, y);

\echo 'plugins that read the database: enrich looks reference data up through a statement it prepared (capability query)'
\set enrich \`base64 -w0 "$PG_COMPONENT_WASM_DIR/enrich.wasm"\`
SELECT count(*) AS enrich_functions FROM wasm.install('enrich', decode(:'enrich', 'base64'), capabilities => '{query}');
CREATE TABLE countries (code text PRIMARY KEY, name text);
INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany'), ('jp', 'Japan');
SELECT o.id, o.code, enrich.country_name(o.code) AS country
FROM (VALUES (1, 'de'), (2, 'jp'), (3, 'xx'), (4, 'fr')) o(id, code) ORDER BY o.id;
SQL
