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
