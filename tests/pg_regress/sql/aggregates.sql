-- Aggregates from exported resources: constructor, add, finish (and merge, serialize with
-- deserialize, remove) become CREATE AGGREGATE with an internal state.
\set aggregates `base64 -w0 "$PG_COMPONENT_WASM_DIR/aggregates.wasm"`
\set agg_bad `base64 -w0 "$PG_COMPONENT_WASM_DIR/agg-bad.wasm"`
\set stats_py `base64 -w0 "$PG_COMPONENT_WASM_DIR/stats-py.wasm"`
\set unsupported `base64 -w0 "$PG_COMPONENT_WASM_DIR/unsupported.wasm"`
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_agg_admin;
DROP ROLE IF EXISTS regress_agg_user;
RESET client_min_messages;
CREATE ROLE regress_agg_admin IN ROLE wasm_admin;
CREATE ROLE regress_agg_user;
GRANT CREATE ON DATABASE pg_component_regress TO regress_agg_admin;

-- A resource that does not fit is refused, naming the method; so is a resource in an
-- ordinary function's signature. Nothing is written.
SELECT outcome($$SELECT count(*) FROM wasm.install('bad', decode('$$ || :'agg_bad' || $$', 'base64'))$$);
SELECT outcome($$SELECT count(*) FROM wasm.install('unsup', decode('$$ || :'unsupported' || $$', 'base64'))$$);
SELECT count(*) AS installed FROM wasm.plugins WHERE name IN ('bad', 'unsup');

-- A wasm_admin member who is not a superuser installs aggregates (created with superuser
-- rights, owned by the installer); their support functions are not PUBLIC's.
SET ROLE regress_agg_admin;
SELECT function FROM wasm.install('agg', decode(:'aggregates', 'base64'), deterministic => true)
WHERE export NOT LIKE '%.%' ORDER BY 1;
RESET ROLE;
SELECT p.oid::regprocedure AS aggregate, pg_get_userbyid(p.proowner) AS owner, p.proparallel,
       a.aggtranstype::regtype, a.aggtransspace, a.aggfinalmodify, a.aggcombinefn <> 0 AS combine,
       a.aggserialfn <> 0 AS serial, a.aggminvtransfn <> 0 AS moving, a.aggmfinalmodify
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.pronamespace = 'agg'::regnamespace ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT count(*) AS support_functions, bool_or(has_function_privilege('public', p.oid, 'EXECUTE')) AS public_may_call,
       bool_and(NOT p.proisstrict OR p.proname LIKE '%serialize') AS transition_non_strict
FROM pg_proc p WHERE p.pronamespace = 'agg'::regnamespace AND p.proname LIKE '%$%';
-- No SQL value is of type internal, so SQL cannot call a support function (the handler would
-- refuse it outside its aggregate, too).
SELECT outcome($$SELECT agg."mean$finish"(NULL::internal)$$);

CREATE TABLE obs AS
  SELECT i, (i * 7919 % 1000)::float8 / 10 AS x, (i % 5)::float8 AS w, i % 7 AS g,
         CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 13)::float8 END AS y
  FROM generate_series(1, 5000) i;
ANALYZE obs;

-- Semantics as built-in aggregates have them, against a reference computed in SQL.
SELECT agg.mean(x) = avg(x) AS mean_ok, agg.mean(y) = avg(y) AS nulls_skipped,
       agg.count_all(y::int8) = count(*) AS option_sees_nulls,
       agg.median(x) = percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS median_ok,
       abs(agg.weighted_mean(x, w) - sum(x * w) / sum(w)) < 1e-9 AS two_arguments
FROM obs;
SELECT g, agg.mean(x) = avg(x) AS ok, agg.mean(DISTINCT x) = avg(DISTINCT x) AS distinct_ok,
       agg.mean(x) FILTER (WHERE x > 50) = avg(x) FILTER (WHERE x > 50) AS filter_ok
FROM obs GROUP BY g ORDER BY g;
SELECT agg.join_words(w ORDER BY w) AS ordered, agg.join_words(w ORDER BY w DESC) AS reversed
FROM unnest(ARRAY['pear', 'apple', 'fig']) w;
-- Record arguments and results.
SELECT agg.bbox(ROW(x, w)::agg.pt) AS bbox FROM obs;
-- An empty input: constructor, then finish.
SELECT agg.mean(x) AS empty_mean, agg.count_all(NULL) AS empty_count, agg.bbox(NULL) AS empty_bbox FROM obs WHERE false;
-- In a subquery that is rescanned.
SELECT g, (SELECT agg.mean(o2.x) FROM obs o2 WHERE o2.g = o1.g) = (SELECT avg(o2.x) FROM obs o2 WHERE o2.g = o1.g) AS ok
FROM (SELECT DISTINCT g FROM obs) o1 ORDER BY g;

-- A hash aggregate with 100,000 groups.
SET work_mem = '256MB';
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT i % 100000, agg.mean(i) FROM generate_series(1, 200000) i GROUP BY 1;
SELECT count(*) AS groups, count(*) FILTER (WHERE m = a::float8) AS right
FROM (SELECT i % 100000 AS k, agg.mean(i) AS m, avg(i) AS a FROM generate_series(1, 200000) i GROUP BY 1) s;
RESET enable_sort;
RESET work_mem;

-- Window functions: partitions, sliding frames (the moving path with remove), frames without
-- remove (median), all equal to a reference.
SELECT count(*) AS rows, count(*) FILTER (WHERE abs(m - a) < 1e-9) AS mean_ok,
       count(*) FILTER (WHERE md = ref_md) AS median_ok
FROM (SELECT agg.mean(x) OVER w AS m, avg(x) OVER w AS a,
             agg.median(x) OVER w AS md, percentile_ref AS ref_md
      FROM (SELECT o.*, (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY o2.x) FROM obs o2
                         WHERE o2.g = o.g AND o2.i BETWEEN o.i - 700 AND o.i AND o2.i % 7 = o.g) AS percentile_ref
            FROM obs o WHERE i <= 1500) s
      WINDOW w AS (PARTITION BY g ORDER BY i ROWS BETWEEN 100 PRECEDING AND CURRENT ROW)) r;
SELECT g, agg.mean(x) OVER (PARTITION BY g) = avg(x) OVER (PARTITION BY g) AS whole_partition
FROM obs WHERE i <= 7 ORDER BY g;

-- Parallel aggregation: partial aggregates in workers, combined in the leader.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT agg.mean(x) FROM obs;
SELECT agg.mean(x) = (SELECT avg(x) FROM obs) AS parallel_equals_serial FROM obs;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- States are freed: 1,000 aggregate queries in one transaction leave no live state behind.
DO $$
DECLARE r float8;
BEGIN
    FOR k IN 1..1000 LOOP
        SELECT agg.mean(x) INTO r FROM obs WHERE g = k % 7;
    END LOOP;
END $$;
BEGIN;
SELECT agg.median(x) FROM obs GROUP BY g ORDER BY 1 LIMIT 1;
SELECT agg.live_states() AS live_after_group_by;
DO $$
DECLARE r float8;
BEGIN
    FOR k IN 1..1000 LOOP
        SELECT agg.median(x) INTO r FROM obs WHERE g = k % 7;
    END LOOP;
END $$;
SELECT agg.live_states() AS live_after_1000_queries;
COMMIT;

-- A trap inside add: an ERROR naming plugin, resource and method; the next query works, and
-- so does a PL/pgSQL block that catches it.
SELECT outcome($$SELECT agg.fragile(i) FROM generate_series(1, 20) i$$);
SELECT agg.fragile(i) AS after_trap FROM generate_series(1, 12) i;
DO $$
DECLARE r int8;
BEGIN
    BEGIN
        SELECT agg.fragile(i) INTO r FROM generate_series(1, 20) i;
    EXCEPTION WHEN external_routine_exception THEN
        RAISE NOTICE 'caught: %', SQLERRM;
    END;
    SELECT agg.fragile(i) INTO r FROM generate_series(1, 5) i;
    RAISE NOTICE 'then: %', r;
END $$;
-- Going past wasm.max_memory is a clean 54000; so is holding more states (groups) than it
-- allows, one per 64 bytes.
SET wasm.max_memory = '6MB';
SET work_mem = '256MB';
SELECT left(outcome($$SELECT count(m) FROM (SELECT agg.mean(i) AS m FROM generate_series(1, 120000) i GROUP BY i) s$$), 5) AS too_many_groups;
RESET work_mem;
RESET wasm.max_memory;
SET wasm.max_memory = '16MB';
SELECT outcome($$SELECT agg.hog(1024) FROM generate_series(1, 64)$$);
RESET wasm.max_memory;
SELECT agg.hog(1) AS after_limit FROM generate_series(1, 3);

-- The same aggregate in Python (componentize-py exports resources as classes).
SELECT count(*) > 0 AS installed FROM wasm.install('stats_py', decode(:'stats_py', 'base64'));
SELECT wasm.reset_stats();
SELECT stats_py.mean(x) = agg.mean(x) AS same_as_rust, stats_py.mean(y) = agg.mean(y) AS same_nulls
FROM obs;
-- It has add-batch: those rows came through it, 256 at a time, none through add.
SELECT export, calls FROM wasm.stats
WHERE plugin = 'stats_py' AND export IN ('mean.add', 'mean.add-batch') ORDER BY export;
SELECT count(*) AS obs_rows, count(y) AS obs_y FROM obs;
SELECT count(*) FILTER (WHERE p = r) AS same_windows, count(*) AS rows
FROM (SELECT stats_py.mean(x) OVER w AS p, agg.mean(x) OVER w AS r FROM obs WHERE i <= 300
      WINDOW w AS (ORDER BY i ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)) s;

-- Dependencies: a view on an aggregate blocks uninstall and a replace that changes it; an
-- unchanged replace keeps the aggregate (and the view).
CREATE VIEW obs_means AS SELECT g, agg.mean(x) AS m FROM obs GROUP BY g;
SELECT outcome($$SELECT wasm.uninstall('agg')$$);
SET ROLE regress_agg_admin;
SELECT count(*) > 0 AS replaced FROM wasm.install('agg', decode(:'aggregates', 'base64'), deterministic => true, replace => true);
RESET ROLE;
SELECT count(*) AS views_rows FROM obs_means;
SELECT outcome($$SELECT count(*) FROM wasm.install('agg', decode('$$ || :'aggregates' || $$', 'base64'), replace => true)$$);
DROP VIEW obs_means;

-- A role with USAGE on the schema calls the aggregate (its owner's rights run the support
-- functions).
GRANT USAGE ON SCHEMA agg TO regress_agg_user;
SET ROLE regress_agg_user;
SELECT agg.mean(i) AS as_plain_user FROM generate_series(1, 4) i;
RESET ROLE;

SELECT wasm.uninstall('stats_py');
SET ROLE regress_agg_admin;
SELECT wasm.uninstall('agg');
RESET ROLE;
SELECT count(*) AS left_behind FROM pg_proc WHERE proname LIKE 'mean%' AND pronamespace::regnamespace::text IN ('agg', 'stats_py');
DROP TABLE obs;
REVOKE CREATE ON DATABASE pg_component_regress FROM regress_agg_admin;
DROP ROLE regress_agg_admin;
DROP ROLE regress_agg_user;
