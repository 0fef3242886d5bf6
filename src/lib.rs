//! pg_component: WebAssembly components as typed, sandboxed SQL functions.
//!
//! `CREATE EXTENSION pg_component` creates schema `wasm` with the plugin catalog, the role
//! `wasm_admin`, and `LANGUAGE wasm`, whose functions run exports of installed components.

use pgrx::prelude::*;

mod acl;
mod api;
mod catalog;
mod conv;
mod datum;
mod error;
mod guc;
mod handler;
mod json;
mod jsonb;
mod runtime;
mod types;

mod tests;

::pgrx::pg_module_magic!();

/// Runs once per backend that loads the library. Registers GUCs and cache invalidation
/// callbacks; it creates no engine and starts no thread (that happens on first use).
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guc::register();
    catalog::register_callbacks();
    runtime::call::register_xact_callback();
}

extension_sql!(
    r#"
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
"#,
    name = "bootstrap",
    bootstrap
);

extension_sql!(
    r#"
REVOKE ALL ON wasm.plugins FROM PUBLIC;
GRANT SELECT (name, version, schema_name, sha256, size, wit, exports, options, owner, installed_at)
    ON wasm.plugins TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON wasm.plugins TO wasm_admin;
GRANT USAGE ON SCHEMA wasm TO PUBLIC;
REVOKE ALL ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION wasm.uninstall(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text) TO wasm_admin;
GRANT EXECUTE ON FUNCTION wasm.uninstall(text) TO wasm_admin;
REVOKE ALL ON FUNCTION wasm.wasm_call_handler() FROM PUBLIC;
REVOKE ALL ON FUNCTION wasm.wasm_validator(oid) FROM PUBLIC;
"#,
    name = "privileges",
    finalize
);

#[cfg(test)]
pub mod pg_test {
    /// Per-test setup of the test cluster.
    pub fn setup(_options: Vec<&str>) {}

    /// postgresql.conf settings of the test cluster.
    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
