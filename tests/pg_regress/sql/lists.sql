-- WIT lists: one-dimensional arrays as parameters and results; lists of records are sets.
\set scalars `base64 -w0 "$PG_COMPONENT_WASM_DIR/scalars.wasm"`
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'));
SELECT function FROM wasm.install('scalars', decode(:'scalars', 'base64'), replace => true)
WHERE function ~ '(split_words|sum_all|join_opt|numbers|evens|_all)' ORDER BY 1;

-- list<T> parameters take T[]; list<option<T>> elements may be NULL.
SELECT scalars.sum_all(ARRAY[1, 2, 3, 40]::int8[]), scalars.sum_all('{}');
SELECT scalars.join_opt(ARRAY['a', NULL, 'c'], '/');
SELECT outcome($$SELECT scalars.sum_all(ARRAY[1, NULL]::int8[])$$);
SELECT outcome($$SELECT scalars.sum_all('{{1,2},{3,4}}'::int8[])$$);

-- list<T> results (T not a record or tuple) are arrays: values, usable anywhere a value is.
SELECT scalars.split_words('the quick  brown fox') AS w;
SELECT array_length(scalars.split_words('a b c'), 1) AS n,
       'b' = ANY (scalars.split_words('a b c')) AS has_b,
       CASE WHEN cardinality(scalars.split_words('')) = 0 THEN 'empty' END AS empty,
       scalars.numbers(3) AS numbers, scalars.split_words('') AS none;
CREATE TABLE docs (id int, body text, words text[]);
INSERT INTO docs SELECT id, body, scalars.split_words(body) FROM (VALUES (1, 'a b'), (2, 'c d e')) d(id, body);
SELECT id, words, words[2] AS second FROM docs ORDER BY id;
-- One row per document in the select list: a value does not multiply rows.
SELECT count(*) FROM (SELECT scalars.split_words(body) FROM docs) s;
-- As a set, through unnest.
SELECT d.id, w FROM docs d, LATERAL unnest(scalars.split_words(d.body)) w ORDER BY d.id, w;
SELECT count(*), sum(n) FROM unnest(scalars.numbers(1000)) n;
SELECT outcome($$SELECT scalars.numbers(2000)$$);
SELECT scalars.shout_all(ARRAY['a', 'bé', '']), scalars.inc_all(ARRAY[5, 6, 7]::int8[]);
SELECT outcome($$SELECT scalars.shout_all(ARRAY['a', NULL])$$);
DROP TABLE docs;

-- Hand-written functions may declare a list result as a set (RETURNS SETOF T) instead: then
-- it is a table function, for FROM, LATERAL and the select list.
CREATE FUNCTION public.words(text) RETURNS SETOF text LANGUAGE wasm STRICT AS 'scalars/split-words';
CREATE FUNCTION public.numbers_set(int8) RETURNS SETOF int8 LANGUAGE wasm STRICT AS 'scalars/numbers';
CREATE FUNCTION public.shout_set(text[]) RETURNS SETOF text LANGUAGE wasm STRICT AS 'scalars/shout-all';
CREATE FUNCTION public.inc_set(int8[]) RETURNS SETOF int8 LANGUAGE wasm STRICT AS 'scalars/inc-all';
SELECT * FROM public.words('the quick  brown fox') AS w;
SELECT d.id, w FROM (VALUES (1, 'a b'), (2, 'c d e')) d(id, body), LATERAL public.words(d.body) w
ORDER BY d.id, w;
SELECT public.numbers_set(3);
SELECT count(*), sum(n) FROM public.numbers_set(1000) n;
SELECT * FROM public.numbers_set(2000);
SELECT * FROM public.words('');

-- Batches: many rows in one call (typed fast path), the same errors as the dynamic path.
SELECT * FROM public.shout_set(ARRAY['a', 'bé', '']) AS s;
SELECT sum(v) FROM public.inc_set((SELECT array_agg(i) FROM generate_series(1, 10000) i)) v;
SELECT * FROM public.inc_set('{}');
SELECT outcome($$SELECT * FROM public.shout_set(ARRAY['a', NULL])$$);
SELECT outcome($$SELECT * FROM public.inc_set('{{1},{2}}')$$);
-- In the select list the batch rows come one per call: stopping early (LIMIT) and running
-- again with other arguments (a subquery per outer row) start a new batch each time.
SELECT public.inc_set(ARRAY[1, 2, 3]::int8[]) LIMIT 2;
SELECT x, (SELECT v FROM (SELECT public.inc_set(ARRAY[x, x * 10]::int8[]) v) s LIMIT 1) AS first,
       (SELECT array_agg(v) FROM (SELECT public.shout_set(ARRAY[x::text || 'a', 'b']) v LIMIT 1) s) AS shouted
FROM generate_series(1, 3) x;
SELECT public.shout_set(ARRAY['x', 'y']), public.inc_set(ARRAY[5, 6, 7]::int8[]);
SELECT count(*), sum(v) FROM (SELECT public.inc_set(array_agg(i)) v FROM generate_series(1, 10000) i) b;
SELECT outcome($$SELECT public.shout_set(ARRAY['a', NULL])$$);
SELECT public.inc_set(ARRAY[1]::int8[]);
DROP FUNCTION public.words(text), public.numbers_set(int8), public.shout_set(text[]), public.inc_set(int8[]);

-- option<list<T>> is a nullable array, not a set.
SELECT scalars.evens(ARRAY[1, 2, 3, 4]::int8[]), scalars.evens(ARRAY[1, 3]::int8[]) IS NULL AS none;

-- Hand-written functions say T[] or SETOF T for a list result, and T[] for a list parameter.
CREATE FUNCTION public.words_as_text(text) RETURNS text LANGUAGE wasm AS 'scalars/split-words';
CREATE FUNCTION public.words(text) RETURNS text[] LANGUAGE wasm AS 'scalars/split-words';
SELECT public.words('x y');
CREATE FUNCTION public.total(int8) RETURNS int8 LANGUAGE wasm AS 'scalars/sum-all';
DROP FUNCTION public.words(text);

-- JSON: lists are arrays both ways.
SELECT wasm_transform('scalars', 'split-words', '["a b c"]'), wasm_transform('scalars', 'sum-all', '[[1, 2, 3]]');

-- A plugin installed when list results were sets (before 0.3.0) moves to arrays at its next
-- replace, under the usual dependency rules.
DROP FUNCTION scalars.split_words(text);
CREATE FUNCTION scalars.split_words(text) RETURNS SETOF text LANGUAGE wasm STRICT AS 'scalars/split-words';
CREATE VIEW old_words AS SELECT w FROM scalars.split_words('a b') w;
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'), replace => true);
SELECT pg_get_function_result('scalars.split_words(text)'::regprocedure);
DROP VIEW old_words;
SELECT count(*) FROM wasm.install('scalars', decode(:'scalars', 'base64'), replace => true);
SELECT pg_get_function_result('scalars.split_words(text)'::regprocedure);

SELECT wasm.uninstall('scalars');
