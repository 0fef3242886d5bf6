-- pg_component 0.1.0 -> 0.2.0: ALTER EXTENSION pg_component UPDATE TO '0.2.0'
--
-- wasm.install gains `capabilities text[] DEFAULT NULL` (grants such as 'query', recorded in
-- wasm.plugins.options). A new parameter changes the function's identity, so it is dropped and
-- created again, with its grants; the 0.2.0 library keeps the 0.1.0 C symbol (install_wrapper)
-- working for the old declaration until this script has run.
--
-- Nothing else in SQL changes: calls take no transaction ID (so plugins run on hot standbys and
-- in parallel workers), install/uninstall refuse with 25006 where nothing may be written, and
-- the compiled-code cache moved to $PGDATA/pgsql_tmp_pg_component/<database oid>/, which base
-- backups skip; the old $PGDATA/pg_component_cache/ is removed on first use.
\echo Use "ALTER EXTENSION pg_component UPDATE" to load this file. \quit

DROP FUNCTION wasm.install(text, bytea, boolean, text, boolean, text);
CREATE FUNCTION wasm."install"(
	"name" TEXT,
	"component" bytea,
	"replace" bool DEFAULT false,
	"schema" TEXT DEFAULT NULL,
	"deterministic" bool DEFAULT false,
	"sha256" TEXT DEFAULT NULL,
	"capabilities" TEXT[] DEFAULT NULL
) RETURNS TABLE (
	"function" TEXT,
	"export" TEXT,
	"sha256" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'install_with_capabilities_wrapper';
REVOKE ALL ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[]) TO wasm_admin;
