-- Plugins that read the database: pg-component:plugin/query@0.2.0 and the query capability.
\set enrich `base64 -w0 "$PG_COMPONENT_WASM_DIR/enrich.wasm"`
\set scalars `base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"`
-- Without the grant the component is refused, naming the import and the option; so is a
-- deterministic plugin that reads, and an unknown capability. Nothing is written.
SELECT * FROM wasm.install('enrich', decode(:'enrich', 'base64'));
SELECT * FROM wasm.install('enrich', decode(:'enrich', 'base64'), capabilities => '{query}', deterministic => true);
SELECT * FROM wasm.install('enrich', decode(:'enrich', 'base64'), capabilities => '{query,network}');
SELECT count(*) FROM wasm.plugins WHERE name = 'enrich';
SELECT function FROM wasm.install('enrich', decode(:'enrich', 'base64'), capabilities => '{query,query}') ORDER BY 1;
-- The grant is recorded; the functions are STABLE PARALLEL UNSAFE.
SELECT capabilities FROM wasm.plugins WHERE name = 'enrich';
SELECT p.oid::regprocedure, p.provolatile, p.proparallel FROM pg_proc p
WHERE p.pronamespace = 'enrich'::regnamespace ORDER BY p.oid::regprocedure::text COLLATE "C";
-- A hand-written function may be STABLE, not IMMUTABLE or PARALLEL SAFE.
CREATE FUNCTION public.country(text) RETURNS text LANGUAGE wasm STABLE AS 'enrich/country-name';
SELECT outcome($$CREATE FUNCTION public.country_imm(text) RETURNS text LANGUAGE wasm IMMUTABLE AS 'enrich/country-name'$$);
SELECT outcome($$CREATE FUNCTION public.country_par(text) RETURNS text LANGUAGE wasm STABLE PARALLEL SAFE AS 'enrich/country-name'$$);

CREATE TABLE countries (code text PRIMARY KEY, name text);
INSERT INTO countries VALUES ('fr', 'France'), ('de', 'Germany');
CREATE TABLE orders AS SELECT i AS id, (ARRAY['fr', 'de', 'xx'])[1 + i % 3] AS code FROM generate_series(1, 6) i;
-- A statement prepared once per instance, run per row.
SELECT id, code, enrich.country_name(code), public.country(code) FROM orders ORDER BY id;

-- Every value kind out, with NULL, and another type in its text form.
SELECT * FROM unnest(enrich.probe(ARRAY[
  'SELECT 1::int2, 2::int4, 3::int8, 4::oid, 1.5::float4, 2.5::float8, 1.25::numeric, ''x''::text, ''v''::varchar, ''\x0102''::bytea, ''{"a": 1}''::jsonb, ''[1]''::json, true, NULL::int, ''2020-01-02''::date',
  'SELECT code, name FROM public.countries ORDER BY code'])) AS probe;
-- Every value kind in, with parameter types inferred; one of the wrong kind is an error.
SELECT enrich.probe_params('SELECT $1::int8, $2::float8, $3::numeric, $4::text, $5::bytea, $6::jsonb, $7::bool, $8::int4');
SELECT enrich.probe_params('SELECT $7::int4, $1, $2, $3, $4, $5, $6, $8');
SELECT enrich.probe_params('SELECT $1');
-- Declared parameter types keep their modifiers, ranges and domain constraints; a domain's
-- values come back as its base type's.
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
SELECT enrich.probe_typed('SELECT $1, $2', ARRAY['varchar(3)', 'numeric(5,2)'], ARRAY['abc', '1.234']);
SELECT enrich.probe_typed('SELECT $1', ARRAY['varchar(3)'], ARRAY['abcd']);
SELECT enrich.probe_typed('SELECT $1, $2, $3', ARRAY['int2', 'int4', 'int8'], ARRAY['int:-32768', 'int:2147483647', 'int:-9223372036854775808']);
SELECT enrich.probe_typed('SELECT $1', ARRAY['int2'], ARRAY['int:32768']);
SELECT enrich.probe_typed('SELECT $1', ARRAY['int4'], ARRAY['int:-2147483649']);
SELECT enrich.probe_typed('SELECT $1, $2', ARRAY['posint', 'text'], ARRAY['int:5', 'null']);
SELECT enrich.probe_typed('SELECT $1', ARRAY['posint'], ARRAY['int:0']);
SELECT enrich.probe_typed('SELECT $1', ARRAY['no_such_type'], ARRAY['x']);
-- A text parameter with a NUL character, which no text value can hold: 22021, for text
-- (copied straight into the datum) and varchar (through its input function) alike.
SELECT enrich.probe_typed('SELECT $1', ARRAY['text'], ARRAY['nul']);
SELECT enrich.probe_typed('SELECT $1', ARRAY['varchar'], ARRAY['nul']);
SELECT enrich.probe_typed('SELECT length($1)', ARRAY['text'], ARRAY['abc']);
SELECT * FROM unnest(enrich.probe(ARRAY['SELECT 5::posint, ''{1,2}''::int[]'])) AS probe;
-- A domain Postgres defines itself (information_schema's, made at initdb) is read as its base
-- type too, and so are the built-in types around it.
SELECT * FROM unnest(enrich.probe(ARRAY['SELECT 7::information_schema.cardinal_number, ''x''::information_schema.sql_identifier, ''a''::varchar(3), ''b''::char(2), 1.5::float4'])) AS probe;

-- Errors go to the guest, which goes on: the next query in the same call works.
SELECT * FROM unnest(enrich.probe(ARRAY['SELEC 1', 'SELECT * FROM public.no_such_table', 'SELECT 1/0', 'SELECT $2::int', 'SELECT 42'])) AS probe;

-- Read only, with no way around it: nothing is written.
CREATE SEQUENCE s1;
CREATE FUNCTION public.writer() RETURNS int LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.countries VALUES ('zz', 'Nowhere'); RETURN 1; END $$;
CREATE FUNCTION public.sql_writer() RETURNS int LANGUAGE sql AS $$
INSERT INTO public.countries VALUES ('zy', 'Nowhere') RETURNING 1 $$;
SELECT * FROM unnest(enrich.probe(ARRAY[
  'INSERT INTO public.countries VALUES (''it'', ''Italy'')',
  'UPDATE public.countries SET name = ''x''',
  'DELETE FROM public.countries',
  'MERGE INTO public.countries c USING (SELECT ''es'' AS code) s ON c.code = s.code WHEN NOT MATCHED THEN INSERT VALUES (s.code, ''Spain'')',
  'CREATE TABLE public.t2 (i int)',
  'SELECT * FROM public.countries FOR UPDATE',
  'SELECT nextval(''public.s1'')',
  'SELECT public.writer()',
  'SELECT public.sql_writer()'])) AS probe;
SELECT count(*), string_agg(code || '=' || name, ',' ORDER BY code) FROM countries;
SELECT last_value, is_called FROM s1;
SELECT to_regclass('public.t2');
-- The caller's transaction stays writable after a guest's queries.
BEGIN;
SELECT cardinality(enrich.probe(ARRAY['SELECT 1', 'SELEC 1']));
CREATE TEMP TABLE after_probe (i int);
INSERT INTO after_probe VALUES (1);
SELECT count(*) FROM after_probe;
COMMIT;
-- No transaction ID (so query plugins work on hot standbys).
BEGIN;
SELECT enrich.country_name('fr');
SELECT txid_current_if_assigned() IS NULL AS no_xid;
COMMIT;

-- Queries run as the caller: privileges and row-level security apply.
SET client_min_messages = warning;
DROP ROLE IF EXISTS pgc_enrich_reader;
RESET client_min_messages;
CREATE ROLE pgc_enrich_reader;
GRANT USAGE ON SCHEMA enrich TO pgc_enrich_reader;
GRANT SELECT ON countries TO pgc_enrich_reader;
CREATE TABLE secret (x int);
ALTER TABLE countries ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_fr ON countries FOR SELECT TO pgc_enrich_reader USING (code = 'fr');
SET ROLE pgc_enrich_reader;
SELECT * FROM unnest(enrich.probe(ARRAY['SELECT x FROM public.secret', 'SELECT string_agg(code, '','') FROM public.countries'])) AS probe;
SELECT enrich.country_name('fr') AS fr, enrich.country_name('de') AS de;
RESET ROLE;
-- A SECURITY DEFINER wrapper runs the plugin's queries as its owner, as it does everything.
CREATE FUNCTION public.definer_probe(q text) RETURNS SETOF text LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog AS $$ SELECT unnest(enrich.probe(ARRAY[q])) $$;
GRANT EXECUTE ON FUNCTION public.definer_probe(text) TO pgc_enrich_reader;
SET ROLE pgc_enrich_reader;
SELECT * FROM public.definer_probe('SELECT count(*) FROM public.secret');
SELECT * FROM public.definer_probe('SELECT string_agg(code, '','' ORDER BY code) FROM public.countries');
RESET ROLE;
DROP FUNCTION public.definer_probe(text);
ALTER TABLE countries DISABLE ROW LEVEL SECURITY;

-- Bounded: a query returning more than wasm.max_query_rows is an error; a cursor reads any
-- number in batches.
SET wasm.max_query_rows = 5;
SELECT * FROM unnest(enrich.probe(ARRAY['SELECT generate_series(1, 6)', 'SELECT count(*) FROM generate_series(1, 5)'])) AS probe;
SELECT enrich.count_in_batches('SELECT generate_series(1, 1000)', 64);
-- statement.query-row: the first row, or none. The statement stops after that row: a later row
-- that would divide by zero is never read, nor does wasm.max_query_rows (still 5) come into
-- it. Errors, writes and wrong parameters are refused as for query; nothing is written.
SELECT enrich.probe_row('SELECT code, name FROM public.countries WHERE code = $1', ARRAY['de']);
SELECT enrich.probe_row('SELECT code, name FROM public.countries WHERE code = $1', ARRAY['xx']);
SELECT enrich.probe_row('SELECT g, 1 / (3 - g) FROM generate_series(1, 10) g', '{}');
SELECT enrich.probe_row('SELECT g, 1 / (1 - g) FROM generate_series(1, 10) g', '{}');
SELECT enrich.probe_row('SELECT nextval(''public.s1'')', '{}');
SELECT enrich.probe_row('SELECT public.writer()', '{}');
SELECT enrich.probe_row('SELECT $1::int + 1', ARRAY['abc']);
SELECT enrich.probe_row('SELECT $1::text', ARRAY['nul']);
SELECT enrich.probe_row('SELECT * FROM public.no_such_table', '{}');
SELECT enrich.probe_row('SELECT $1::int8, $2::text', ARRAY['int:-7', 'null']);
SELECT count(*), string_agg(code, ',' ORDER BY code) FROM countries;
SELECT last_value, is_called FROM s1;
RESET wasm.max_query_rows;
SELECT enrich.count_in_batches('SELECT generate_series(1, 1000)', 100000);

-- Re-entry: a guest query that calls a wasm function runs it on a separate instance, for the
-- same plugin and for another one.
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'), replace => true);
SELECT * FROM unnest(enrich.probe(ARRAY['SELECT enrich.country_name(''de'')', 'SELECT scalars.shout(''inner'')', 'SELECT scalars.divide(1, 0)'])) AS probe;
SELECT enrich.country_name('fr');

-- The same plugin in Python (componentize-py) gives the same answers.
\set enrich_py `base64 -w0 "$PG_COMPONENT_WASM_DIR/enrich-py.wasm"`
SELECT count(*) FROM wasm.install('enrich_py', decode(:'enrich_py', 'base64'), capabilities => '{query}');
SELECT id, code, enrich_py.country_name(code) AS python,
       enrich_py.country_name(code) IS NOT DISTINCT FROM enrich.country_name(code) AS same
FROM orders ORDER BY id;
SELECT p.q, p.rust = p.python AS same, p.python FROM (
  SELECT q, array_to_string(enrich.probe(ARRAY[q]), ' | ') AS rust,
            array_to_string(enrich_py.probe(ARRAY[q]), ' | ') AS python
  FROM unnest(ARRAY['SELECT 1::int4, 2.5::float8, 1.25::numeric, ''x''::text, ''\x0102''::bytea, ''[1]''::json, true, NULL::int',
                    'SELECT 1/0', 'INSERT INTO public.countries VALUES (''it'', ''Italy'')']) q) p;
SELECT enrich_py.probe_params('SELECT $1::int8, $2::float8, $3::numeric, $4::text, $5::bytea, $6::jsonb, $7::bool, $8::int4')
     = enrich.probe_params('SELECT $1::int8, $2::float8, $3::numeric, $4::text, $5::bytea, $6::jsonb, $7::bool, $8::int4') AS same_params;
SELECT enrich_py.count_in_batches('SELECT generate_series(1, 1000)', 64);
SELECT t, enrich_py.probe_typed('SELECT $1, $2', t, ARRAY['int:-7', 'abcd'])
          = enrich.probe_typed('SELECT $1, $2', t, ARRAY['int:-7', 'abcd']) AS same_typed
FROM (VALUES (ARRAY['int2', 'text']), (ARRAY['posint', 'text']), (ARRAY['int8', 'varchar(3)'])) v(t);
SELECT enrich_py.probe_typed('SELECT $1', ARRAY['text'], ARRAY['nul']) AS python_nul;
SELECT q, enrich_py.probe_row(q, p) = enrich.probe_row(q, p) AS same_row, enrich_py.probe_row(q, p) AS python
FROM (VALUES ('SELECT code, name FROM public.countries WHERE code = $1', ARRAY['fr']),
             ('SELECT code FROM public.countries WHERE code = $1', ARRAY['xx']),
             ('SELECT g, 1 / (3 - g) FROM generate_series(1, 10) g', '{}'),
             ('SELECT 1 / 0', '{}')) v(q, p);
SELECT wasm.uninstall('enrich_py');

DROP FUNCTION public.country(text);
DROP TABLE orders, countries, secret;
DROP SEQUENCE s1;
DROP FUNCTION public.writer(), public.sql_writer();
SELECT wasm.uninstall('enrich');
DROP ROLE pgc_enrich_reader;
