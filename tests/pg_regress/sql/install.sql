-- Installing a component, calling its typed functions, listing it, uninstalling it.
\set slugify `base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify.wasm"`
SET client_min_messages = warning;
DROP ROLE IF EXISTS pgc_nobody_functions;
RESET client_min_messages;
CREATE ROLE pgc_nobody_functions;
SELECT function, export FROM wasm.install('slugify', decode(:'slugify', 'base64'));

SELECT name, version, schema_name, size > 0 AS has_bytes, length(sha256) AS sha_len,
       jsonb_array_length(exports) AS exports, options,
       deterministic, capabilities, created_schema, generated_types
FROM wasm.plugins;
SELECT wit FROM wasm.plugins WHERE name = 'slugify';

-- The generated functions are ordinary pg_proc rows of LANGUAGE wasm.
SELECT p.oid::regprocedure AS function, pg_get_function_result(p.oid) AS returns,
       p.prosrc, p.proisstrict, obj_description(p.oid, 'pg_proc') AS comment
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE l.lanname = 'wasm' ORDER BY p.oid::regprocedure::text COLLATE "C";

-- wasm.functions: one row per function bound to a plugin, generated or hand-written (by
-- the WIT or the SQL spelling of the export), with both signatures; readable by everyone.
CREATE FUNCTION public.my_slug(text, bigint) RETURNS text LANGUAGE wasm AS 'slugify/slugify-max';
CREATE FUNCTION public.my_slug_sql(text, bigint) RETURNS text LANGUAGE wasm AS 'slugify/slugify_max';
SELECT plugin, export, wit_signature, function, sql_signature, volatility, parallel, kind, generated
FROM wasm.functions ORDER BY function::text;
SET ROLE pgc_nobody_functions;
SELECT count(*) AS visible_to_public FROM wasm.functions;
RESET ROLE;
DROP FUNCTION public.my_slug(text, bigint), public.my_slug_sql(text, bigint);

-- Per-row ETL.
CREATE TABLE posts (id int PRIMARY KEY, title text);
INSERT INTO posts VALUES (1, 'Hello, World!'), (2, 'Ça va? Déjà vu'), (3, NULL), (4, '');
SELECT id, slugify.slugify(title), slugify.slugify_max(title, 5) FROM posts ORDER BY id;
CREATE TABLE slugs AS SELECT id, slugify.slugify(title) AS slug FROM posts;
SELECT * FROM slugs ORDER BY id;

-- The same plugin under another name and schema.
SELECT function FROM wasm.install('slug2', decode(:'slugify', 'base64'), schema => 'text_tools');
SELECT text_tools.slugify('Two Names');
-- A third install into the same schema would take over slug2's functions: refused.
SELECT function FROM wasm.install('slug3', decode(:'slugify', 'base64'), schema => 'text_tools');
CREATE FUNCTION public.slugify(text) RETURNS text LANGUAGE sql AS 'SELECT $1';
SELECT function FROM wasm.install('slug4', decode(:'slugify', 'base64'), schema => 'public');
DROP FUNCTION public.slugify(text);

-- Uninstall drops the functions, the schema it created, and the row.
SELECT wasm.uninstall('slug2');
SELECT nspname FROM pg_namespace WHERE nspname IN ('slug2', 'text_tools');
SELECT wasm.uninstall('slugify');
SELECT count(*) FROM wasm.plugins;
SELECT nspname FROM pg_namespace WHERE nspname = 'slugify';
SELECT outcome($$SELECT slugify.slugify('x')$$);
DROP TABLE posts, slugs;
DROP ROLE pgc_nobody_functions;
