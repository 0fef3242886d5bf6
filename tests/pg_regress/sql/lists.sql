-- WIT lists: one-dimensional arrays as parameters, sets of rows as results.
\set scalars `base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"`
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'));
SELECT function FROM wasm.install('scalars', decode(:'scalars', 'base64'), replace => true)
WHERE function ~ '(split_words|sum_all|join_opt|numbers|evens|_all)' ORDER BY 1;

-- list<T> parameters take T[]; list<option<T>> elements may be NULL.
SELECT scalars.sum_all(ARRAY[1, 2, 3, 40]::int8[]), scalars.sum_all('{}');
SELECT scalars.join_opt(ARRAY['a', NULL, 'c'], '/');
SELECT outcome($$SELECT scalars.sum_all(ARRAY[1, NULL]::int8[])$$);
SELECT outcome($$SELECT scalars.sum_all('{{1,2},{3,4}}'::int8[])$$);

-- list<T> results are sets: usable in FROM, LATERAL and the select list.
SELECT * FROM scalars.split_words('the quick  brown fox') AS w;
SELECT d.id, w FROM (VALUES (1, 'a b'), (2, 'c d e')) d(id, body), LATERAL scalars.split_words(d.body) w
ORDER BY d.id, w;
SELECT scalars.numbers(3);
SELECT count(*), sum(n) FROM scalars.numbers(1000) n;
SELECT * FROM scalars.numbers(2000);
SELECT * FROM scalars.split_words('');

-- Batches: many rows in one call (typed fast path), the same errors as the dynamic path.
SELECT * FROM scalars.shout_all(ARRAY['a', 'bé', '']) AS s;
SELECT sum(v) FROM scalars.inc_all((SELECT array_agg(i) FROM generate_series(1, 10000) i)) v;
SELECT * FROM scalars.inc_all('{}');
SELECT outcome($$SELECT * FROM scalars.shout_all(ARRAY['a', NULL])$$);
SELECT outcome($$SELECT * FROM scalars.inc_all('{{1},{2}}')$$);
-- In the select list the batch rows come one per call: stopping early (LIMIT) and running
-- again with other arguments (a subquery per outer row) start a new batch each time.
SELECT scalars.inc_all(ARRAY[1, 2, 3]::int8[]) LIMIT 2;
SELECT x, (SELECT v FROM (SELECT scalars.inc_all(ARRAY[x, x * 10]::int8[]) v) s LIMIT 1) AS first,
       (SELECT array_agg(v) FROM (SELECT scalars.shout_all(ARRAY[x::text || 'a', 'b']) v LIMIT 1) s) AS shouted
FROM generate_series(1, 3) x;
SELECT scalars.shout_all(ARRAY['x', 'y']), scalars.inc_all(ARRAY[5, 6, 7]::int8[]);
SELECT count(*), sum(v) FROM (SELECT scalars.inc_all(array_agg(i)) v FROM generate_series(1, 10000) i) b;
SELECT outcome($$SELECT scalars.shout_all(ARRAY['a', NULL])$$);
SELECT scalars.inc_all(ARRAY[1]::int8[]);

-- option<list<T>> is a nullable array, not a set.
SELECT scalars.evens(ARRAY[1, 2, 3, 4]::int8[]), scalars.evens(ARRAY[1, 3]::int8[]) IS NULL AS none;

-- Hand-written functions must say SETOF for a list result, and T[] for a list parameter.
CREATE FUNCTION public.words_as_text(text) RETURNS text LANGUAGE wasm AS 'scalars/split-words';
CREATE FUNCTION public.words(text) RETURNS SETOF text LANGUAGE wasm AS 'scalars/split-words';
SELECT public.words('x y');
CREATE FUNCTION public.total(int8) RETURNS int8 LANGUAGE wasm AS 'scalars/sum-all';
DROP FUNCTION public.words(text);

-- JSON: lists are arrays both ways.
SELECT wasm_transform('scalars', 'split-words', '["a b c"]'), wasm_transform('scalars', 'sum-all', '[[1, 2, 3]]');

SELECT wasm.uninstall('scalars');
