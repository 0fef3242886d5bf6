-- pg_component 0.3.0 -> 0.4.0: ALTER EXTENSION pg_component UPDATE
--
-- Plugin statistics: the wasm.stats view, wasm.backend_stats(), wasm.reset_stats() (what
-- sql/bootstrap.sql and sql/privileges.sql create for a fresh 0.4.0). wasm.install gains
-- `cost` and `rows` (the planner estimates of the generated functions, kept in
-- wasm.plugins.options): a new parameter changes the function's identity, so it is dropped and
-- created again, with its grants; the 0.4.0 library keeps the 0.2.0/0.3.0 C symbol
-- (install_with_capabilities_wrapper) working for the old declaration until this script ran.
-- Generated functions get COST 50 (500 for plugins that read the database) at their next
-- install or replace.
\echo Use "ALTER EXTENSION pg_component UPDATE" to load this file. \quit

DROP FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[]);
CREATE FUNCTION wasm."install"(
	"name" TEXT,
	"component" bytea,
	"replace" bool DEFAULT false,
	"schema" TEXT DEFAULT NULL,
	"deterministic" bool DEFAULT false,
	"sha256" TEXT DEFAULT NULL,
	"capabilities" TEXT[] DEFAULT NULL,
	"cost" double precision DEFAULT NULL,
	"rows" double precision DEFAULT NULL
) RETURNS TABLE (
	"function" TEXT,
	"export" TEXT,
	"sha256" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'install_with_tuning_wrapper';
REVOKE ALL ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision) TO wasm_admin;

COMMENT ON COLUMN wasm.plugins.options IS
    'Install options that have no column of their own: cost and rows (0.1.0 and 0.2.0 kept the bookkeeping here)';

-- 0.4.0: statistics per plugin and export (src/stats): the rows of every backend when the
-- library is in shared_preload_libraries, else of the calling backend.
CREATE FUNCTION wasm.stats_rows(cluster boolean,
    OUT dboid oid, OUT scope text, OUT plugin text, OUT version integer, OUT export text,
    OUT calls bigint, OUT total_time_ms double precision, OUT mean_time_us double precision,
    OUT sampled_calls bigint, OUT traps bigint, OUT limits bigint, OUT guest_errors bigint,
    OUT bad_values bigint, OUT instances bigint, OUT compiles bigint,
    OUT compile_time_ms double precision, OUT cache_loads bigint,
    OUT cache_load_time_ms double precision, OUT memory_bytes bigint, OUT peak_memory_bytes bigint)
    RETURNS SETOF record LANGUAGE c STRICT VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'wasm_stats_rows';
CREATE FUNCTION wasm.reset_stats() RETURNS void LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'reset_stats_wrapper';
COMMENT ON FUNCTION wasm.reset_stats() IS 'Forget the plugin statistics (superusers and wasm_admin)';
CREATE VIEW wasm.stats AS
SELECT d.datname AS database, s.scope, s.plugin, s.version, s.export, s.calls, s.total_time_ms,
       s.mean_time_us, s.sampled_calls, s.traps, s.limits, s.guest_errors, s.bad_values,
       s.instances, s.compiles, s.compile_time_ms, s.cache_loads, s.cache_load_time_ms,
       s.memory_bytes, s.peak_memory_bytes
FROM wasm.stats_rows(true) s
LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dboid;
COMMENT ON VIEW wasm.stats IS 'Per plugin and export: calls, time inside the guest (sampled), errors by kind; per plugin (export NULL): instances, compiles, cache loads, memory';
CREATE FUNCTION wasm.backend_stats() RETURNS SETOF wasm.stats LANGUAGE sql VOLATILE PARALLEL RESTRICTED AS $fn$
SELECT d.datname, s.scope, s.plugin, s.version, s.export, s.calls, s.total_time_ms,
       s.mean_time_us, s.sampled_calls, s.traps, s.limits, s.guest_errors, s.bad_values,
       s.instances, s.compiles, s.compile_time_ms, s.cache_loads, s.cache_load_time_ms,
       s.memory_bytes, s.peak_memory_bytes
FROM wasm.stats_rows(false) s
LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dboid
$fn$;
COMMENT ON FUNCTION wasm.backend_stats() IS 'The plugin statistics of this backend only';

GRANT SELECT ON wasm.stats TO PUBLIC;
REVOKE ALL ON FUNCTION wasm.reset_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wasm.reset_stats() TO wasm_admin;
