-- wasm_transform: JSON in, JSON out, for any export.
\set scalars `base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"`
\set slugify `base64 -w0 "$PG_COMPONENT_WASM_DIR/slugify.wasm"`
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'));
SELECT count(*) FROM wasm.install('slugify', decode(:'slugify', 'base64'));

-- The "transform" export, its single parameter from the input.
SELECT wasm_transform('scalars', '"stressed"');
SELECT wasm_transform('scalars', to_jsonb('olleh'::text));
-- Any export by WIT or SQL name; args as an array or an object keyed by parameter name.
SELECT wasm_transform('scalars', 'add-u32', '[1, 2]');
SELECT wasm_transform('scalars', 'add_u32', '{"a": 4000000000, "b": 5}');
SELECT wasm_transform('slugify', 'slugify-max', '{"input": "JSON in, JSON out", "max-len": 7}');
SELECT wasm_transform('slugify', 'slugify_max', '{"input": "JSON in, JSON out", "max_len": 7}');
SELECT wasm_transform('scalars', 'text-utils#shout', '["nested"]');
-- Integers beyond 2^53 travel as strings; bytes as Postgres' hex text.
SELECT wasm_transform('scalars', 'echo-u64', '["18446744073709551615"]');
SELECT wasm_transform('scalars', 'echo-s64', '[9007199254740993]');
SELECT wasm_transform('scalars', 'reverse-bytes', '["\\x0a0b"]');
-- option: null; a missing optional argument is none.
SELECT wasm_transform('scalars', 'greet', '[null]'), wasm_transform('scalars', 'greet', '{}');
-- Exports without a result give SQL NULL.
SELECT wasm_transform('scalars', 'noop', '[]') IS NULL AS no_result;
-- Per row, from a table.
SELECT t, wasm_transform('slugify', 'slugify', jsonb_build_array(t))
FROM (VALUES ('A b'), ('C d')) v(t);

-- Errors say which argument and what was expected.
SELECT outcome($$SELECT wasm_transform('slugify', '"x"')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'add-u32', '[1]')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'add-u32', '{"a": 1, "z": 2}')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'add-u32', '{"a": 1}')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'add-u32', '[1, -1]')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'add-u32', '[1, 2.5]')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'shout', '[true]')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'echo-char', '["ab"]')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'shout', '"not an array"')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'parse-int', '["x"]')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'missing', '[]')$$);
SELECT outcome($$SELECT wasm_transform('nobody', '1')$$);
SELECT wasm_transform('scalars', 'shout', '["still works"]');

-- jsonb is read and built in its binary form: numbers of every kind, nesting, Unicode.
SELECT v, wasm_transform('scalars', 'echo-f64', jsonb_build_array(v::jsonb)) AS f64
FROM (VALUES ('1.5'), ('-0.25'), ('1e300'), ('123456789.125'), ('"NaN"'), ('"-Infinity"'), ('0')) x(v);
SELECT wasm_transform('scalars', 'echo-s64', '[-9223372036854775808]'),
       wasm_transform('scalars', 'echo-u64', '[18446744073709551615]'),
       wasm_transform('scalars', 'shout', '["ñ 日本 \ud83d\ude00"]');
-- A number beyond every WIT number type: 22003, and the next call works.
SELECT outcome($$SELECT wasm_transform('scalars', 'echo-f64', '[1e400]')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'echo-s64', '[1e40]')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'echo-s64', '[2.5]')$$);
SELECT outcome($$SELECT wasm_transform('scalars', 'reverse-bytes', '["zz"]')$$);
SELECT wasm_transform('scalars', 'echo-f64', '[2.5]');
-- A result string with NUL cannot be jsonb: 22P05, and the next call works.
SELECT outcome($$SELECT wasm_transform('scalars', 'nul-string', '[]')$$);
SELECT wasm_transform('scalars', 'shout', '["after"]');

SELECT wasm.uninstall('scalars');
SELECT wasm.uninstall('slugify');
