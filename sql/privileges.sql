-- Privileges on the extension's objects: run last, after every generated function exists.
-- A change here needs an upgrade script, sql/pg_component--<old>--<new>.sql.
REVOKE ALL ON wasm.plugins FROM PUBLIC;
GRANT SELECT (name, version, schema_name, sha256, size, wit, exports, options, owner, installed_at,
              deterministic, capabilities, links, linked_sha256)
    ON wasm.plugins TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON wasm.plugins TO wasm_admin;
GRANT USAGE ON SCHEMA wasm TO PUBLIC;
GRANT SELECT ON wasm.functions TO PUBLIC;
GRANT SELECT ON wasm.links TO PUBLIC;
REVOKE ALL ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION wasm.uninstall(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision, jsonb) TO wasm_admin;
GRANT EXECUTE ON FUNCTION wasm.uninstall(text) TO wasm_admin;
REVOKE ALL ON FUNCTION wasm.wasm_call_handler() FROM PUBLIC;
REVOKE ALL ON FUNCTION wasm.wasm_validator(oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION wasm.plugins_legacy_options() FROM PUBLIC;
GRANT SELECT ON wasm.stats TO PUBLIC;
REVOKE ALL ON FUNCTION wasm.reset_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wasm.reset_stats() TO wasm_admin;
