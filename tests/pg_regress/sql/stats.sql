-- Statistics per plugin and export: wasm.stats (here without shared_preload_libraries: this
-- backend's, and the scope column says so), wasm.backend_stats(), wasm.reset_stats().
\set scalars `base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"`
\set hostile `base64 -w0 "$PG_COMPONENT_WASM_DIR/hostile.wasm"`
SELECT wasm.reset_stats();
SELECT count(*) > 0 AS installed FROM wasm.install('st_scalars', decode(:'scalars', 'base64'));
SELECT count(*) > 0 AS installed FROM wasm.install('st_hostile', decode(:'hostile', 'base64'));

-- Counters move by exactly the calls made (3 + 1,000), and time is sampled (one in 64).
SELECT st_scalars.shout(x) FROM unnest(ARRAY['a', 'b', 'c']) x;
SELECT count(st_scalars.shout(i::text)) FROM generate_series(1, 1000) i;
SELECT scope, plugin, version, export, calls, sampled_calls, total_time_ms > 0 AS timed,
       mean_time_us > 0 AS has_mean, traps, limits, guest_errors, bad_values
FROM wasm.stats WHERE plugin = 'st_scalars' AND export IS NOT NULL ORDER BY export;

-- Errors are counted by kind: a trap, a limit (time), a guest err, a bad value.
SELECT outcome($$SELECT st_hostile.div(1, 0)$$);
SELECT outcome($$SELECT st_hostile.panic('boom')$$);
SET wasm.max_call_time = '50ms';
SELECT outcome($$SELECT st_scalars.spin(0)$$);
RESET wasm.max_call_time;
SELECT outcome($$SELECT st_scalars.parse_int('x')$$);
SELECT outcome($$SELECT st_scalars.echo_s8(1000::smallint)$$);
SELECT plugin, export, calls, traps, limits, guest_errors, bad_values
FROM wasm.stats WHERE export IN ('div', 'panic', 'spin', 'parse-int', 'echo-s8') ORDER BY plugin, export;

-- Each plugin's own row: instances created, one load by install (a compile, or a load of the
-- on-disk cache when an earlier test compiled the same bytes in this cluster), peak memory.
SELECT plugin, version, instances > 0 AS instances, compiles + cache_loads AS loads,
       compile_time_ms + cache_load_time_ms > 0 AS load_timed,
       peak_memory_bytes > 0 AS has_memory
FROM wasm.stats WHERE export IS NULL AND plugin LIKE 'st\_%' ORDER BY plugin;
-- The same numbers from wasm.backend_stats().
SELECT (SELECT sum(calls) FROM wasm.backend_stats() WHERE plugin LIKE 'st\_%') =
       (SELECT sum(calls) FROM wasm.stats WHERE plugin LIKE 'st\_%') AS same;

-- A replace keeps them and notes the version; an uninstall removes them.
SELECT count(*) > 0 AS replaced FROM wasm.install('st_scalars', decode(:'scalars', 'base64'), replace => true);
SELECT st_scalars.shout('again');
SELECT version, calls FROM wasm.stats WHERE plugin = 'st_scalars' AND export = 'shout';
SELECT wasm.uninstall('st_hostile');
SELECT count(*) AS hostile_rows FROM wasm.stats WHERE plugin = 'st_hostile';

-- Reset: superusers and wasm_admin only.
CREATE ROLE regress_stats_reader;
SET ROLE regress_stats_reader;
SELECT count(*) > 0 AS readable FROM wasm.stats;
SELECT outcome($$SELECT wasm.reset_stats()$$);
RESET ROLE;
DROP ROLE regress_stats_reader;
SELECT wasm.reset_stats();
SELECT count(*) AS after_reset FROM wasm.stats WHERE plugin LIKE 'st\_%';


-- EXPLAIN: generated functions carry a COST (50, or 500 for plugins that read the database);
-- the install options cost and rows set COST and (for set-returning functions) ROWS, and a
-- replace that does not give them keeps them.
SELECT p.proname, p.procost, p.prorows FROM pg_proc p
WHERE p.oid IN ('st_scalars.shout(text)'::regprocedure, 'st_scalars.word_count(text)'::regprocedure) ORDER BY 1;
SELECT count(*) > 0 AS replaced FROM wasm.install('st_scalars', decode(:'scalars', 'base64'), replace => true, cost => 7.5, rows => 42);
SELECT options FROM wasm.plugins WHERE name = 'st_scalars';
SELECT count(*) > 0 AS replaced FROM wasm.install('st_scalars', decode(:'scalars', 'base64'), replace => true);
SELECT p.proname, p.procost FROM pg_proc p WHERE p.oid = 'st_scalars.shout(text)'::regprocedure;
SELECT options FROM wasm.plugins WHERE name = 'st_scalars';
SELECT outcome($$SELECT count(*) FROM wasm.install('st_scalars', decode('$$ || :'scalars' || $$', 'base64'), replace => true, cost => -1)$$);
SELECT version FROM wasm.plugins WHERE name = 'st_scalars';
SELECT wasm.uninstall('st_scalars');
