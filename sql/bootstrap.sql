-- The extension's catalog, role, language and wasm_transform: created before the functions
-- pgrx generates (src/lib.rs, extension_sql_file!). A change here needs an upgrade script,
-- sql/pg_component--<old>--<new>.sql (see the README's "Upgrades").
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'wasm_admin') THEN
        CREATE ROLE wasm_admin NOLOGIN;
    END IF;
END
$do$;

CREATE TABLE wasm.plugins (
    name         text        PRIMARY KEY CHECK (name ~ '^[a-z_][a-z0-9_]*$'),
    version      integer     NOT NULL DEFAULT 1,
    schema_name  name        NOT NULL,
    bytes        bytea       NOT NULL,
    sha256       text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size         bigint      GENERATED ALWAYS AS (pg_catalog.octet_length(bytes)) STORED,
    wit          text        NOT NULL,
    exports      jsonb       NOT NULL DEFAULT '[]',
    options      jsonb       NOT NULL DEFAULT '{}',
    owner        name        NOT NULL DEFAULT CURRENT_USER,
    installed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- 0.3.0: install's bookkeeping, typed (it lived in options before).
    deterministic   boolean NOT NULL DEFAULT false,
    capabilities    text[]  NOT NULL DEFAULT '{}',
    created_schema  boolean NOT NULL DEFAULT false,
    generated_types jsonb   NOT NULL DEFAULT '[]'
);
COMMENT ON TABLE wasm.plugins IS 'Installed WebAssembly components: the bytes are the source of truth.';
SELECT pg_catalog.pg_extension_config_dump('wasm.plugins', '');
COMMENT ON COLUMN wasm.plugins.options IS
    'Install options that have no column of their own: cost and rows (0.1.0 and 0.2.0 kept the bookkeeping here)';
COMMENT ON COLUMN wasm.plugins.capabilities IS 'What the plugin was granted at install beyond computing and logging: query';
COMMENT ON COLUMN wasm.plugins.generated_types IS 'The types install generated, in creation order (name and CREATE TYPE text)';

-- Plugins built from plugins built from plugins (src/catalog/link.rs). links: which installed plugin
-- provides each of the plugin's imports of another plugin's interface; linked_bytes: the
-- plugin composed with its providers, which is what runs (NULL when it links to nothing).
ALTER TABLE wasm.plugins
    ADD COLUMN links         jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN linked_bytes  bytea,
    ADD COLUMN linked_sha256 text CHECK (linked_sha256 ~ '^[0-9a-f]{64}$');
COMMENT ON COLUMN wasm.plugins.links IS
    'Import of another plugin''s interface -> the installed plugin that provides it';
COMMENT ON COLUMN wasm.plugins.linked_bytes IS
    'The plugin composed with its providers (what runs); NULL when it links to nothing';
-- One row per link: a plugin, the interface it imports, the plugin that provides it.
CREATE VIEW wasm.links AS
SELECT p.name AS plugin, l.key AS import, l.value AS provider,
       pr.version AS provider_version
FROM wasm.plugins p
CROSS JOIN LATERAL pg_catalog.jsonb_each_text(p.links) l
LEFT JOIN wasm.plugins pr ON pr.name OPERATOR(pg_catalog.=) l.value;
COMMENT ON VIEW wasm.links IS 'Which installed plugin provides which import of another: wasm.uninstall refuses a provider while it has importers';

-- Rows from a dump of 0.1.0 or 0.2.0 carry the bookkeeping in options: move it to its columns.
CREATE FUNCTION wasm.plugins_legacy_options() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
    IF NEW.options ?| ARRAY['deterministic', 'capabilities', 'created_schema', 'types'] THEN
        NEW.deterministic := coalesce((NEW.options ->> 'deterministic')::boolean, NEW.deterministic);
        NEW.created_schema := coalesce((NEW.options ->> 'created_schema')::boolean, NEW.created_schema);
        NEW.generated_types := coalesce(NEW.options -> 'types', NEW.generated_types);
        IF jsonb_typeof(NEW.options -> 'capabilities') = 'array' THEN
            NEW.capabilities := ARRAY(SELECT DISTINCT c
                                      FROM jsonb_array_elements_text(NEW.options -> 'capabilities') c
                                      ORDER BY c);
        END IF;
        NEW.options := NEW.options - ARRAY['deterministic', 'capabilities', 'created_schema', 'types'];
    END IF;
    RETURN NEW;
END
$fn$;
CREATE TRIGGER legacy_options BEFORE INSERT OR UPDATE OF options ON wasm.plugins
    FOR EACH ROW EXECUTE FUNCTION wasm.plugins_legacy_options();

-- Every SQL function bound to a plugin, generated or hand-written ('plugin/export' bodies).
CREATE VIEW wasm.functions AS
SELECT pl.name AS plugin,
       e.entry OPERATOR(pg_catalog.->>) 'export' AS export,
       coalesce(e.entry OPERATOR(pg_catalog.->>) 'wit',
                pg_catalog.substring(pg_catalog.obj_description(p.oid, 'pg_proc'), ', export [^:]*: (.*)$')) AS wit_signature,
       p.oid::pg_catalog.regprocedure AS function,
       pg_catalog.format('%s.%s(%s) RETURNS %s', pg_catalog.quote_ident(n.nspname), pg_catalog.quote_ident(p.proname),
                         pg_catalog.pg_get_function_arguments(p.oid), pg_catalog.pg_get_function_result(p.oid)) AS sql_signature,
       CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END AS volatility,
       CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END AS parallel,
       CASE WHEN p.prokind OPERATOR(pg_catalog.=) 'a' THEN 'aggregate'
            WHEN p.prorettype OPERATOR(pg_catalog.=) 'pg_catalog.trigger'::pg_catalog.regtype THEN 'trigger'
            WHEN p.proretset THEN 'set-returning'
            ELSE 'function' END AS kind,
       EXISTS (SELECT 1 FROM pg_catalog.pg_description d
               WHERE d.objoid OPERATOR(pg_catalog.=) p.oid
                 AND d.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                 AND d.description OPERATOR(pg_catalog.~~) ('wasm plugin ' OPERATOR(pg_catalog.||) pl.name OPERATOR(pg_catalog.||) ', export %'))
           AND n.nspname OPERATOR(pg_catalog.=) pl.schema_name AS generated
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_language l ON l.oid OPERATOR(pg_catalog.=) p.prolang AND l.lanname OPERATOR(pg_catalog.=) 'wasm'
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
JOIN wasm.plugins pl ON pl.name OPERATOR(pg_catalog.=) pg_catalog.btrim(pg_catalog.split_part(p.prosrc, '/', 1))
LEFT JOIN LATERAL (
    SELECT x AS entry FROM pg_catalog.jsonb_array_elements(pl.exports) x
    WHERE pg_catalog.btrim(pg_catalog.split_part(p.prosrc, '/', 2)) OPERATOR(pg_catalog.=) ANY (ARRAY[
        x OPERATOR(pg_catalog.->>) 'export',
        pg_catalog.translate(x OPERATOR(pg_catalog.->>) 'export', '-#', '__')])
    LIMIT 1) e ON true;
COMMENT ON VIEW wasm.functions IS 'One row per SQL function bound to a plugin: its export, WIT and SQL signatures, volatility and kind';

CREATE FUNCTION wasm.wasm_call_handler() RETURNS language_handler
    LANGUAGE c AS 'MODULE_PATHNAME', 'wasm_call_handler';
CREATE FUNCTION wasm.wasm_validator(oid) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'wasm_validator';
CREATE TRUSTED LANGUAGE wasm HANDLER wasm.wasm_call_handler VALIDATOR wasm.wasm_validator;
COMMENT ON LANGUAGE wasm IS 'Functions that call exports of WebAssembly components installed with wasm.install';

CREATE FUNCTION pg_catalog.wasm_transform(plugin text, input jsonb) RETURNS jsonb
    LANGUAGE c STRICT VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'wasm_transform_input';
COMMENT ON FUNCTION pg_catalog.wasm_transform(text, jsonb) IS
    'Call the plugin''s transform export (or its only export) with input as its single parameter; JSON in, JSON out';
CREATE FUNCTION pg_catalog.wasm_transform(plugin text, export text, args jsonb) RETURNS jsonb
    LANGUAGE c STRICT VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'wasm_transform_export';
COMMENT ON FUNCTION pg_catalog.wasm_transform(text, text, jsonb) IS
    'Call any export of the plugin; args is a JSON array of its parameters in order, or an object keyed by parameter name';

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
