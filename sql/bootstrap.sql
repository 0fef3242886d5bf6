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
    'Install options that have no column of their own (none yet; 0.1.0 and 0.2.0 kept the bookkeeping here)';
COMMENT ON COLUMN wasm.plugins.capabilities IS 'What the plugin was granted at install beyond computing and logging: query';
COMMENT ON COLUMN wasm.plugins.generated_types IS 'The types install generated, in creation order (name and CREATE TYPE text)';

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
