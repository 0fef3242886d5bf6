-- pg_component 0.4.0 -> 0.5.0: ALTER EXTENSION pg_component UPDATE
--
-- Plugins built from plugins: wasm.plugins records each plugin's links and its composition
-- with its providers, the view wasm.links lists them, and wasm.install gains `links` (a new
-- parameter changes the function's identity, so it is dropped and created again, with its
-- grants; the 0.5.0 library keeps the 0.4.0 C symbol install_with_tuning_wrapper working for
-- the old declaration until this script ran). What sql/bootstrap.sql and sql/privileges.sql
-- create for a fresh 0.5.0.
\echo Use "ALTER EXTENSION pg_component UPDATE" to load this file. \quit

DROP FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision);
CREATE FUNCTION wasm."install"(
	"name" TEXT,
	"component" bytea,
	"replace" bool DEFAULT false,
	"schema" TEXT DEFAULT NULL,
	"deterministic" bool DEFAULT false,
	"sha256" TEXT DEFAULT NULL,
	"capabilities" TEXT[] DEFAULT NULL,
	"cost" double precision DEFAULT NULL,
	"rows" double precision DEFAULT NULL,
	"links" jsonb DEFAULT NULL
) RETURNS TABLE (
	"function" TEXT,
	"export" TEXT,
	"sha256" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'install_with_links_wrapper';
REVOKE ALL ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION wasm.install(text, bytea, boolean, text, boolean, text, text[], double precision, double precision, jsonb) TO wasm_admin;

-- 0.5.0: plugins built from plugins (src/catalog/link.rs). links: which installed plugin
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

GRANT SELECT (links, linked_sha256) ON wasm.plugins TO PUBLIC;
GRANT SELECT ON wasm.links TO PUBLIC;
