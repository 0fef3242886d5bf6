-- Plugins built from plugins: an import of another plugin's interface is linked at install to
-- the installed plugin that exports it (guests/examples/geo and stores, in Rust and Python).
\set geo `base64 -w0 "$PG_COMPONENT_WASM_DIR/geo.wasm"`
\set geo_py `base64 -w0 "$PG_COMPONENT_WASM_DIR/geo-py.wasm"`
\set stores `base64 -w0 "$PG_COMPONENT_WASM_DIR/stores.wasm"`
\set stores_py `base64 -w0 "$PG_COMPONENT_WASM_DIR/stores-py.wasm"`
\set stores_bad `base64 -w0 "$PG_COMPONENT_WASM_DIR/stores-bad.wasm"`
\set geo_cyclic `base64 -w0 "$PG_COMPONENT_WASM_DIR/geo-cyclic.wasm"`
\set scalars `base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"`
\set stores_query `base64 -w0 "$PG_COMPONENT_WASM_DIR/stores-query.wasm"`
CREATE TEMP TABLE part (name text PRIMARY KEY, bytes bytea NOT NULL);
INSERT INTO part VALUES ('geo', decode(:'geo', 'base64')), ('geo-py', decode(:'geo_py', 'base64')),
    ('stores', decode(:'stores', 'base64')), ('stores-py', decode(:'stores_py', 'base64')),
    ('stores-bad', decode(:'stores_bad', 'base64')), ('geo-cyclic', decode(:'geo_cyclic', 'base64')),
    ('scalars', decode(:'scalars', 'base64')), ('stores-query', decode(:'stores_query', 'base64'));
-- install(plugin, part, options): 'ok' or 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.install(plugin text, part_name text, options text DEFAULT '') RETURNS text
LANGUAGE sql AS $$
    SELECT outcome(format('SELECT * FROM wasm.install(%L, (SELECT bytes FROM part WHERE name = %L)%s)',
                          plugin, part_name, CASE WHEN options = '' THEN '' ELSE ', ' || options END))
$$;

-- Nothing provides acme:geo/distance yet: refused, naming the import and how to provide it.
SELECT pg_temp.install('stores', 'stores');
SELECT * FROM wasm.install('stores', (SELECT bytes FROM part WHERE name = 'stores'));
SELECT count(*) AS plugins FROM wasm.plugins WHERE name = 'stores';

-- Install the provider, then the importer: linked (0.1.0 imported, 0.1.2 exported).
SELECT pg_temp.install('geo', 'geo');
SELECT pg_temp.install('stores', 'stores');
SELECT * FROM wasm.links ORDER BY plugin, import;
SELECT name, links, linked_sha256 IS NOT NULL AS composed, linked_sha256 <> sha256 AS own_bytes_kept
FROM wasm.plugins WHERE name IN ('geo', 'stores') ORDER BY name;

-- Calls across the link give what the provider gives when called directly.
SELECT stores.nearest_store(1, 1), stores.nearest_store(10, -4), stores.nearest_store(-5, 9);
SELECT stores.between(0, 0, 3, 4) AS linked, geo.distance(ROW(0, 0), ROW(3, 4)) AS direct;
SELECT count(*) AS equal FROM generate_series(1, 500) i
WHERE stores.between(i, i % 7, -i, 3) = geo.distance(ROW(i, i % 7), ROW(-i, 3));
SELECT stores.provider();
SELECT export, volatility, parallel FROM wasm.functions WHERE plugin = 'stores' ORDER BY export;

-- Shared-nothing: each importer has its own instance of its provider, and the provider its own.
SELECT pg_temp.install('stores2', 'stores');
BEGIN;
SELECT stores.between(0, 0, 1, 1), stores.between(0, 0, 2, 2), stores.between(0, 0, 3, 3);
SELECT geo.distance(ROW(0, 0), ROW(1, 0));
SELECT stores.provider_calls() AS stores_sees, stores2.provider_calls() AS stores2_sees,
       geo.calls() AS geo_sees;
COMMIT;

-- A composition is deterministic only if every part is.
SELECT pg_temp.install('stores_det', 'stores', 'deterministic => true');
-- Capabilities are each plugin's own: an importer that reads the database needs the query
-- grant itself, even when its provider has it; a provider gains nothing from its importer's.
SELECT pg_temp.install('geo_q', 'geo', $$capabilities => '{query}'$$);
SELECT pg_temp.install('sq', 'stores-query', $$links => '{"acme:geo/distance": "geo_q"}'$$);
SELECT pg_temp.install('sq', 'stores-query', $$links => '{"acme:geo/distance": "geo_q"}', capabilities => '{query}'$$);
SELECT sq.near_plus(3, 4, 'SELECT 10::int8');
SELECT pg_temp.install('sq2', 'stores-query', $$links => '{"acme:geo/distance": "geo"}', capabilities => '{query}'$$);
SELECT sq2.near_plus(6, 8, 'SELECT 1::int8');
SELECT name, capabilities, links FROM wasm.plugins WHERE name IN ('geo', 'geo_q', 'sq', 'sq2') ORDER BY name;
SELECT wasm.uninstall('sq'), wasm.uninstall('sq2'), wasm.uninstall('geo_q');
-- A replace that makes a deterministic importer's provider non-deterministic: refused,
-- naming the importer; nothing changes.
SELECT pg_temp.install('geo_d', 'geo', 'deterministic => true');
SELECT pg_temp.install('stores_d', 'stores', $$deterministic => true, links => '{"acme:geo/distance": "geo_d"}'$$);
SELECT pg_temp.install('geo_d', 'geo', 'replace => true');
SELECT deterministic, stores_d.nearest_store(3, 3) FROM wasm.plugins WHERE name = 'geo_d';
SELECT wasm.uninstall('stores_d'), wasm.uninstall('geo_d');
-- A provider whose export has other types than the import: refused, naming the function.
SELECT pg_temp.install('stores_bad', 'stores-bad');
-- Several providers: ambiguous until links chooses one (with or without the version).
SELECT pg_temp.install('geo_py', 'geo-py');
SELECT pg_temp.install('stores3', 'stores');
SELECT pg_temp.install('stores3', 'stores', $$links => '{"acme:geo/distance": "geo_py"}'$$);
-- Polyglot: a Rust importer of a Python provider, and a Python importer of a Rust provider,
-- give what the Rust-only pair gives.
SELECT pg_temp.install('stores_py', 'stores-py', $$links => '{"acme:geo/distance@0.1.0": "geo"}'$$);
SELECT * FROM wasm.links ORDER BY plugin, import;
SELECT stores3.provider() AS rust_over_python, stores_py.provider() AS python_over_rust;
SELECT count(*) AS points,
       count(*) FILTER (WHERE stores3.nearest_store(x, y) = stores.nearest_store(x, y)) AS rust_over_python,
       count(*) FILTER (WHERE stores_py.nearest_store(x, y) = stores.nearest_store(x, y)) AS python_over_rust
FROM generate_series(-10, 10, 2) x, generate_series(-10, 10, 2) y;
SELECT stores_py.between(0, 0, 3, 4), stores3.between(0, 0, 3, 4);

-- Bad links: a plugin that is not installed, one that does not export the import, a key that
-- is not an import, a value that is not a name, not an object.
SELECT pg_temp.install('s4', 'stores', $$links => '{"acme:geo/distance": "nope"}'$$);
SELECT pg_temp.install('lk_scalars', 'scalars');
SELECT pg_temp.install('s4', 'stores', $$links => '{"acme:geo/distance": "lk_scalars"}'$$);
SELECT pg_temp.install('s4', 'stores', $$links => '{"acme:geo/area": "geo"}'$$);
SELECT pg_temp.install('s4', 'stores', $$links => '{"acme:geo/distance": 1}'$$);
SELECT pg_temp.install('s4', 'stores', $$links => '["geo"]'$$);
SELECT pg_temp.install('s4', 'stores', $$links => '{"acme:geo/distance": "s4"}'$$);
SELECT count(*) AS half_written FROM wasm.plugins WHERE name IN ('stores_det', 'stores_bad', 's4');

-- A trap inside the provider, called through the link: an ERROR naming the importer's export
-- and what it is linked to; the next call works.
SELECT outcome($$SELECT stores.provider_fail('on purpose')$$);
SELECT stores.between(0, 0, 6, 8);

-- Dependencies: a provider with importers cannot be uninstalled.
SELECT outcome($$SELECT wasm.uninstall('geo')$$);
-- A replace of the provider re-links its importers in the same transaction: they run the new
-- code from their next call; a rollback restores the old.
BEGIN;
SELECT pg_temp.install('geo', 'geo-py', 'replace => true');
SELECT stores.provider() AS stores_now, stores_py.provider() AS stores_py_now, geo.implementation();
ROLLBACK;
SELECT stores.provider() AS stores_after_rollback, geo.implementation();
-- A replace that no longer exports the interface: refused, naming the importer.
SELECT pg_temp.install('geo', 'scalars', 'replace => true');
SELECT stores.provider(), geo.implementation();
-- A replace that would link back to an importer: a cycle.
SELECT pg_temp.install('geo', 'geo-cyclic', $$replace => true, links => '{"acme:stores/finder": "stores"}'$$);
SELECT stores.provider(), geo.implementation();
-- A committed replace: the importers were composed again.
SELECT linked_sha256 AS before FROM wasm.plugins WHERE name = 'stores' \gset
SELECT pg_temp.install('geo', 'geo-py', 'replace => true');
SELECT stores.provider(), stores_py.provider(), stores2.provider(),
       (SELECT linked_sha256 <> :'before' FROM wasm.plugins WHERE name = 'stores') AS recomposed;
SELECT stores.nearest_store(1, 1);

-- Uninstalling the importers first, then the providers.
SELECT wasm.uninstall(n) FROM unnest(ARRAY['stores', 'stores2', 'stores3', 'stores_py']) n;
SELECT count(*) AS links_left FROM wasm.links;
SELECT wasm.uninstall('geo'), wasm.uninstall('geo_py'), wasm.uninstall('lk_scalars');
