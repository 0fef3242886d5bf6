-- A spinning guest is stopped by statement_timeout and by wasm.max_call_time (57014);
-- the session keeps working.
\set scalars `base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"`
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'));

SET statement_timeout = '300ms';
SELECT scalars.spin(0);
RESET statement_timeout;
SELECT scalars.shout('after timeout');

SET wasm.max_call_time = '200ms';
SELECT scalars.spin(0);
RESET wasm.max_call_time;
SELECT scalars.shout('after call limit');

-- An instance reused within a transaction, after a pause: its epoch deadline (armed when it
-- was made, then by the epoch callback, never per call) has long passed, and the limits stop
-- a spinning call all the same.
BEGIN;
SELECT scalars.shout('first call of the instance');
SELECT pg_sleep(0.1);
SET LOCAL wasm.max_call_time = '200ms';
SELECT scalars.spin(0);
ROLLBACK;
BEGIN;
SELECT scalars.shout('first call of the instance');
SELECT pg_sleep(0.1);
SET LOCAL statement_timeout = '300ms';
SELECT scalars.spin(0);
ROLLBACK;
SELECT scalars.shout('after both');

-- Through wasm_transform too.
SET statement_timeout = '300ms';
SELECT wasm_transform('scalars', 'spin', '[0]');
RESET statement_timeout;

-- A guest blocked in a WASI wait (a sleep: monotonic-clock subscribe, then poll) wakes when
-- its time is up, and is stopped by statement_timeout and wasm.max_call_time too (57014),
-- as a spinning one is; the session keeps working.
\set hostile `base64 -w0 "$PG_COMPONENT_WASM_DIR/hostile.wasm"`
SELECT count(*) FROM wasm.install('sleeper', decode(:'hostile', 'base64'));
SELECT sleeper.sleep_ms(30) >= 30 AS slept;
SET statement_timeout = '300ms';
SELECT sleeper.sleep_ms(600000);
RESET statement_timeout;
SET wasm.max_call_time = '200ms';
SELECT sleeper.sleep_ms(600000);
RESET wasm.max_call_time;
SELECT sleeper.sleep_ms(1) >= 1 AS after_limits;
SELECT wasm.uninstall('sleeper');

-- Linear memory is capped by wasm.max_memory (54000); the next call gets a fresh instance.
SELECT scalars.grow(16);
SET wasm.max_memory = '32MB';
\set VERBOSITY terse
SELECT scalars.grow(64);
\set VERBOSITY default
SELECT scalars.grow(4);
RESET wasm.max_memory;

-- The limits are for superusers to change.
CREATE ROLE regress_limits;
SET ROLE regress_limits;
SET wasm.max_call_time = '0';
SET wasm.max_memory = '4GB';
RESET ROLE;
DROP ROLE regress_limits;

SELECT wasm.uninstall('scalars');
