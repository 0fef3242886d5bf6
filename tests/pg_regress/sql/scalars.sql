-- Every scalar WIT type through typed functions, options, results, traps.
\set scalars `base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"`
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'));

SELECT scalars.echo_bool(false), scalars.echo_s8((-128)::int2), scalars.echo_u8(255::int2),
       scalars.echo_s16(32767::int2), scalars.echo_u16(65535), scalars.echo_s32(2147483647),
       scalars.echo_u32(4294967295), scalars.echo_s64(9223372036854775807),
       scalars.echo_u64(18446744073709551615);
SELECT scalars.echo_f32(3.25), scalars.echo_f64(-0.5), scalars.echo_f64('Infinity'),
       scalars.echo_char('ß'), scalars.next_char('y'), scalars.shout('straße'),
       scalars.reverse_bytes('\x0102ff'), scalars.word_count('one two three'),
       scalars.text_utils_shout('interface');

-- option<T>: NULL is none, both ways; the function is not STRICT.
SELECT scalars.greet('ann') AS some, scalars.greet(NULL) IS NULL AS none;
-- Non-option parameters make a STRICT function: NULL in, NULL out.
SELECT scalars.shout(NULL) IS NULL AS strict_null;

-- result<T, E>: ok is the value, err is an ERROR carrying E.
SELECT scalars.parse_int('-17');
SELECT scalars.parse_int('seventeen');
SELECT scalars.check_positive(3);
SELECT scalars.check_positive(0);

-- Values that do not fit the WIT type are errors, never wrapped or truncated.
SELECT outcome($$SELECT scalars.echo_u8(256::int2)$$);
SELECT outcome($$SELECT scalars.echo_s8((-129)::int2)$$);
SELECT outcome($$SELECT scalars.echo_u16(-1)$$);
SELECT outcome($$SELECT scalars.echo_u32(4294967296)$$);
SELECT outcome($$SELECT scalars.echo_u64(-1)$$);
SELECT outcome($$SELECT scalars.echo_u64(18446744073709551616)$$);
SELECT outcome($$SELECT scalars.echo_char('')$$);
SELECT outcome($$SELECT scalars.nul_string()$$);

-- A trap is an ERROR naming plugin, export and cause; the session goes on.
\set VERBOSITY terse
SELECT scalars.divide(1, 0);
SELECT scalars.divide(9, 3);
SELECT scalars.add_u32(4294967295, 1);
\set VERBOSITY default

-- One instance serves the rows of a statement (and of its transaction).
SELECT scalars.count() FROM generate_series(1, 3);
BEGIN;
SELECT scalars.count();
SELECT scalars.count();
COMMIT;
SELECT scalars.count();
-- A role change between rows (a SECURITY DEFINER function) switches instances each time: each
-- role counts on its own.
CREATE ROLE regress_counter;
GRANT USAGE ON SCHEMA scalars TO regress_counter;
CREATE FUNCTION count_as_other() RETURNS int8 LANGUAGE sql SECURITY DEFINER AS 'SELECT scalars.count()';
ALTER FUNCTION count_as_other() OWNER TO regress_counter;
SELECT i, CASE WHEN i % 2 = 0 THEN count_as_other() ELSE scalars.count() END AS n
FROM generate_series(1, 6) i;
DROP FUNCTION count_as_other();
REVOKE USAGE ON SCHEMA scalars FROM regress_counter;
DROP ROLE regress_counter;

-- Guests log through pg-component:plugin/log: notice and warning reach the client.
SELECT scalars.log_levels('from the guest');

-- Guest output goes to the server log, not to the client.
SELECT scalars.print('to the log');
SELECT scalars.noop();

SELECT wasm.uninstall('scalars');
