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
    installed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE wasm.plugins IS 'Installed WebAssembly components: the bytes are the source of truth.';
SELECT pg_catalog.pg_extension_config_dump('wasm.plugins', '');

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
