-- What a hostile plugin cannot do, and how its failures look.
\set hostile `base64 -w0 "$PG_COMPONENT_WASM_DIR/hostile.wasm"`
\set slugify `base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify.wasm"`
SELECT count(*) FROM wasm.install('hostile', decode(:'hostile', 'base64'));

-- No filesystem, environment, arguments or network.
SELECT outcome($$SELECT hostile.read_file('/etc/passwd')$$);
SELECT outcome($$SELECT hostile.read_file('postgresql.conf')$$);
SELECT outcome($$SELECT hostile.write_file('/tmp/pg_component_owned')$$);
SELECT hostile.env_count(), hostile.get_env('HOME') IS NULL AS no_home, hostile.arg_count();
SELECT outcome($$SELECT hostile.connect('127.0.0.1:5432')$$);
SELECT outcome($$SELECT hostile.udp_send('127.0.0.1:9')$$);
SELECT outcome($$SELECT hostile.resolve('localhost')$$);
-- wasi:http is linked (toolchains import it by default) and denies every request.
\set http_probe `base64 -w0 "$PG_COMPONENT_WASM_DIR/http-probe.wasm"`
SELECT count(*) FROM wasm.install('http_probe', decode(:'http_probe', 'base64'));
SELECT http_probe.get('http://127.0.0.1:5432/'), http_probe.get('https://example.com/x?y=1');
SELECT wasm.uninstall('http_probe');
-- exit() is an ERROR, not the end of the backend.
SELECT outcome($$SELECT hostile.quit(3)$$);
SELECT pg_backend_pid() = pg_backend_pid() AS still_here;

-- Traps name plugin, export and cause; the next call gets a fresh instance.
\set VERBOSITY terse
SELECT hostile.div(1, 0);
SELECT hostile.peek(4294967295);
SELECT hostile.recurse(100000000);
SELECT hostile.panic('boom');
\set VERBOSITY default
SELECT hostile.div(7, 2), hostile.recurse(100);

-- A flood of output is bounded in the log; the call succeeds.
SELECT hostile.print_lots(1024);

-- Deterministic plugins: no wall clock or random (the monotonic clock is frozen); IMMUTABLE, so they can back indexes and
-- generated columns.
SELECT * FROM wasm.install('hostile_det', decode(:'hostile', 'base64'), deterministic => true);
SELECT count(*) FROM wasm.install('slug_det', decode(:'slugify', 'base64'), deterministic => true);
SELECT p.oid::regprocedure, p.provolatile, p.proparallel FROM pg_proc p
WHERE p.pronamespace = 'slug_det'::regnamespace ORDER BY p.oid::regprocedure::text COLLATE "C";
CREATE TABLE articles (title text, slug text GENERATED ALWAYS AS (slug_det.slugify(title)) STORED);
CREATE INDEX articles_short ON articles (slug_det.slugify_max(title, 8));
INSERT INTO articles (title) VALUES ('Deterministic Plugins'), ('Generated Columns');
SELECT * FROM articles ORDER BY slug;
CREATE FUNCTION public.fake_immutable(text) RETURNS text LANGUAGE wasm IMMUTABLE AS 'hostile/read-file';
DROP TABLE articles;

-- An expected sha256 that does not match is refused.
SELECT regexp_replace(outcome(format($$SELECT * FROM wasm.install('pinned', %L, sha256 => repeat('0', 64))$$,
                                     decode(:'slugify', 'base64'))), '[0-9a-f]{64}', '<sha256>', 'g');
SELECT count(*) FROM wasm.install('pinned', decode(:'slugify', 'base64'),
                                  sha256 => encode(sha256(decode(:'slugify', 'base64')), 'hex'));

SELECT wasm.uninstall('pinned');
SELECT wasm.uninstall('slug_det');
SELECT wasm.uninstall('hostile');
