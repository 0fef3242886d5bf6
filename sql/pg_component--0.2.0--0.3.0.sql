-- pg_component 0.2.0 -> 0.3.0: ALTER EXTENSION pg_component UPDATE TO '0.3.0'
--
-- Install's bookkeeping moves out of the jsonb wasm.plugins.options into typed columns:
-- deterministic and capabilities (readable by everyone, as the call path reads them as the
-- caller), created_schema and generated_types (for wasm_admin). The columns are added at the
-- end, as a fresh install declares them, and each row's options give their values. A trigger
-- does the same for rows restored from a dump of 0.1.0 or 0.2.0.
--
-- Until this script has run, the 0.3.0 library reads and writes the old layout (it looks for
-- the column capabilities), so calls, installs and standbys keep working in between.
--
-- New: the view wasm.functions, one row per SQL function bound to a plugin (generated or
-- hand-written), with its export, WIT and SQL signatures, volatility and kind. Entries of
-- wasm.plugins.exports gain the export's WIT signature ("wit") at the next install or replace;
-- until then the view takes it from the generated function's comment.
\echo Use "ALTER EXTENSION pg_component UPDATE" to load this file. \quit

ALTER TABLE wasm.plugins
    ADD COLUMN deterministic   boolean NOT NULL DEFAULT false,
    ADD COLUMN capabilities    text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN created_schema  boolean NOT NULL DEFAULT false,
    ADD COLUMN generated_types jsonb   NOT NULL DEFAULT '[]';
COMMENT ON COLUMN wasm.plugins.options IS
    'Install options that have no column of their own (none yet; 0.1.0 and 0.2.0 kept the bookkeeping here)';
COMMENT ON COLUMN wasm.plugins.capabilities IS 'What the plugin was granted at install beyond computing and logging: query';
COMMENT ON COLUMN wasm.plugins.generated_types IS 'The types install generated, in creation order (name and CREATE TYPE text)';

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
REVOKE ALL ON FUNCTION wasm.plugins_legacy_options() FROM PUBLIC;

-- Every installed row moves its bookkeeping through the trigger.
UPDATE wasm.plugins SET options = options;

GRANT SELECT (deterministic, capabilities) ON wasm.plugins TO PUBLIC;

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
GRANT SELECT ON wasm.functions TO PUBLIC;
