-- Aggregates whose resource also offers add-batch: an Agg node's transition keeps the rows
-- and hands them to the guest 256 at a time (and before finish, merge or serialize); a window
-- calls add row by row. The results are the row-by-row ones, everywhere.
\set agg_batch `base64 -w0 "$PG_COMPONENT_WASM_DIR/agg-batch.wasm"`
\set aggregates `base64 -w0 "$PG_COMPONENT_WASM_DIR/aggregates.wasm"`
SELECT count(*) > 0 AS installed FROM wasm.install('aggb', decode(:'agg_batch', 'base64'), deterministic => true);
SELECT count(*) > 0 AS installed FROM wasm.install('agg1', decode(:'aggregates', 'base64'), deterministic => true);
-- No SQL function for add-batch: the aggregates and their support functions are as without it.
SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'aggb'::regnamespace ORDER BY 1;
CREATE TABLE nums AS
SELECT i, (i * 7919 % 1000) / 8.0::float8 AS x, CASE WHEN i % 10 = 0 THEN NULL ELSE i % 97 END AS n,
       md5(i::text) AS w
FROM generate_series(1, 5000) i;
ANALYZE nums;

-- One group: 5,000 rows in 20 calls of add-batch (19 of 256, one of 136), none through add;
-- NULLs skipped before they are kept.
BEGIN;
SELECT aggb.mean(x) = agg1.mean(x) AS same_as_add, aggb.mean(x) = avg(x) AS same_as_avg FROM nums;
SELECT aggb.feeding() AS fed_one_group;
SELECT aggb.mean(n) = avg(n) AS nulls_skipped FROM nums;
SELECT aggb.feeding() AS fed_with_nulls;
COMMIT;

-- Grouped, sorted and hashed; with ORDER BY, DISTINCT and FILTER inside the call; two
-- arguments (a batch of pairs); strings in their order.
SET enable_hashagg = off;
EXPLAIN (COSTS OFF) SELECT i % 10, aggb.mean(x) FROM nums GROUP BY 1;
SELECT count(*) AS groups, count(*) FILTER (WHERE m = r) AS same
FROM (SELECT i % 10 g, aggb.mean(x) m, agg1.mean(x) r FROM nums GROUP BY 1) s;
RESET enable_hashagg;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT i % 10, aggb.mean(x) FROM nums GROUP BY 1;
SELECT count(*) AS groups, count(*) FILTER (WHERE m = r) AS same
FROM (SELECT i % 10 g, aggb.mean(x) m, agg1.mean(x) r FROM nums GROUP BY 1) s;
SELECT count(*) AS groups, count(*) FILTER (WHERE m = x) AS same
FROM (SELECT i, x, aggb.mean(x) m FROM nums GROUP BY i, x) s;
RESET enable_sort;
SELECT aggb.join_words(w ORDER BY i DESC) = string_agg(w, ' ' ORDER BY i DESC) AS ordered,
       aggb.mean(DISTINCT x) = avg(DISTINCT x) AS distinct_,
       aggb.mean(x) FILTER (WHERE i % 3 = 0) = avg(x) FILTER (WHERE i % 3 = 0) AS filtered,
       aggb.weighted_mean(x, n) = agg1.weighted_mean(x, n) AS pairs
FROM nums;
SELECT aggb.mean(x) IS NULL AS empty_input FROM nums WHERE false;

-- A window asks for finish after each row: add, row by row; remove for the moving frame.
BEGIN;
SELECT count(*) FILTER (WHERE m = r) AS same_in_window, count(*) AS rows_
FROM (SELECT aggb.mean(x) OVER w AS m, agg1.mean(x) OVER w AS r FROM nums
      WINDOW w AS (ORDER BY i ROWS BETWEEN 20 PRECEDING AND CURRENT ROW)) s;
SELECT (aggb.feeding())[1] > 0 AS window_used_add, (aggb.feeding())[2] AS window_batches;
COMMIT;

-- Parallel: workers keep rows too, and flush them before serializing their partial state.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT aggb.mean(x) FROM nums;
SELECT aggb.mean(x) = (SELECT avg(x) FROM nums) AS parallel_equals_serial FROM nums;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- More groups in progress than rows the backend keeps (65,536): past that, each group's rows
-- go at once, and the results stay right.
SET enable_sort = off;
SET work_mem = '64MB';
SELECT count(*) AS groups, count(*) FILTER (WHERE m = i) AS same
FROM (SELECT i, aggb.mean(i) m FROM generate_series(1, 70000) i GROUP BY i) s;
-- Two rows per group, the second 70,000 rows later: under the cap each group would hand both
-- over at its finish (70,000 calls); past it, rows go as they come (more calls, fewer kept).
BEGIN;
SELECT count(*) AS groups, count(*) FILTER (WHERE m = g + 35000) AS same
FROM (SELECT i % 70000 g, aggb.mean(i) m FROM generate_series(0, 139999) i GROUP BY 1) s;
SELECT (aggb.feeding())[2] > 70000 AS past_the_cap, (aggb.feeding())[3] AS rows_batched;
COMMIT;
RESET work_mem;
RESET enable_sort;

-- A trap inside add-batch: an ERROR naming the method, when the rows are handed over (here
-- at finish); the next query works.
SELECT outcome($$SELECT aggb.fragile(i) FROM generate_series(1, 20) i$$);
SELECT aggb.fragile(i) AS after_trap, sum(i) FROM generate_series(1, 12) i;

SELECT wasm.uninstall('aggb');
SELECT wasm.uninstall('agg1');
DROP TABLE nums;
