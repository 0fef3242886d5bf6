-- Bad installs: a clear ERROR with its SQLSTATE, nothing written.
\set slugify `base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify.wasm"`
\set core `base64 -w0 "$PG_COMPONENT_WASM_DIR/core-module.wasm"`
\set needs_import `base64 -w0 "$PG_COMPONENT_WASM_DIR/needs-import.wasm"`
\set unsupported `base64 -w0 "$PG_COMPONENT_WASM_DIR/unsupported.wasm"`

SELECT * FROM wasm.install('bad', '');
SELECT * FROM wasm.install('bad', decode(repeat('deadbeef', 64), 'hex'));
SELECT * FROM wasm.install('bad', decode(:'core', 'base64'));
\set VERBOSITY terse
SELECT * FROM wasm.install('bad', substring(decode(:'slugify', 'base64') from 1 for 4000));
\set VERBOSITY default
SELECT * FROM wasm.install('bad', decode(:'needs_import', 'base64'));
SELECT * FROM wasm.install('bad', decode(:'unsupported', 'base64'));
SELECT * FROM wasm.install('Bad Name', decode(:'slugify', 'base64'));
SELECT * FROM wasm.install('bad', decode(:'slugify', 'base64'), schema => 'pg_catalog');
SET wasm.max_component_size = '1MB';
SELECT * FROM wasm.install('bad', decode(repeat('00', 2 * 1024 * 1024), 'hex'));
RESET wasm.max_component_size;
SELECT count(*) AS plugins FROM wasm.plugins;
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname = 'bad';

-- A name already taken needs replace => true.
SELECT count(*) FROM wasm.install('dup', decode(:'slugify', 'base64'));
SELECT * FROM wasm.install('dup', decode(:'slugify', 'base64'));
SELECT version FROM wasm.plugins WHERE name = 'dup';
SELECT count(*) FROM wasm.install('dup', decode(:'slugify', 'base64'), replace => true);
SELECT version FROM wasm.plugins WHERE name = 'dup';
-- A failed install inside a transaction leaves the earlier state intact.
BEGIN;
SELECT count(*) FROM wasm.install('dup', decode(:'core', 'base64'), replace => true);
ROLLBACK;
SELECT dup.slugify('still here');
SELECT wasm.uninstall('dup');
SELECT wasm.uninstall('dup');

-- Only superusers and wasm_admin members manage plugins.
CREATE ROLE regress_plain;
SET ROLE regress_plain;
SELECT * FROM wasm.install('x', decode(:'slugify', 'base64'));
SELECT wasm.uninstall('x');
SELECT bytes FROM wasm.plugins;
SELECT name FROM wasm.plugins;
RESET ROLE;
DROP ROLE regress_plain;
