"""Drive the benchmark: set up peers in one database, time each expression over the same
table, subtract the bare scan, print ns/row and ratios. Uses psql only (no drivers)."""

import argparse
import base64
import re
import subprocess
import time

SETUP = r"""
DROP DATABASE IF EXISTS bench;
"""

PEERS = r"""
CREATE EXTENSION pg_component;
CREATE EXTENSION plpython3u;
CREATE EXTENSION plperl;
CREATE EXTENSION pllua;
CREATE TABLE t AS
  SELECT i::int8 AS i, md5(i::text) AS s, i::float8 / 3 AS f,
         jsonb_build_array(i) AS ij, jsonb_build_array(md5(i::text)) AS sj
  FROM generate_series(1, {rows}) i;
VACUUM ANALYZE t;

CREATE FUNCTION sql_inc(x int8) RETURNS int8 LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
CREATE FUNCTION sql_upper(s text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT upper(s)';
CREATE FUNCTION plpgsql_inc(x int8) RETURNS int8 LANGUAGE plpgsql AS 'BEGIN RETURN x + 1; END';
CREATE FUNCTION plpgsql_upper(s text) RETURNS text LANGUAGE plpgsql AS 'BEGIN RETURN upper(s); END';
CREATE FUNCTION py_inc(x int8) RETURNS int8 LANGUAGE plpython3u AS 'return x + 1';
CREATE FUNCTION py_upper(s text) RETURNS text LANGUAGE plpython3u AS 'return s.upper()';
CREATE FUNCTION perl_inc(int8) RETURNS int8 LANGUAGE plperl AS 'return $_[0] + 1';
CREATE FUNCTION perl_upper(text) RETURNS text LANGUAGE plperl AS 'return uc($_[0])';
CREATE FUNCTION lua_inc(x int8) RETURNS int8 LANGUAGE pllua AS 'return x + 1';
CREATE FUNCTION lua_upper(s text) RETURNS text LANGUAGE pllua AS 'return string.upper(s)';
"""

# A batch case is timed as a whole query: aggregate the column, one call, count the rows. The
# aggregation is part of its cost (a fair comparison with per-row calls over a scan).
BATCH = "BATCH:"

CASES = [
    ("int8 -> int8 (x + 1)", [
        ("built-in expression", "i + 1"),
        ("SQL function (inlined)", "sql_inc(i)"),
        ("PL/pgSQL", "plpgsql_inc(i)"),
        ("PL/Python", "py_inc(i)"),
        ("PL/Perl", "perl_inc(i)"),
        ("PL/Lua", "lua_inc(i)"),
        ("pg_component typed", "bench.inc(i)"),
        ("pg_component wasm_transform (jsonb built per row)", "wasm_transform('bench', 'inc', jsonb_build_array(i))"),
        ("pg_component wasm_transform (jsonb column)", "wasm_transform('bench', 'inc', ij)"),
        ("pg_component batch (int8[] -> SETOF, one call)", BATCH + "bench.inc_set(array_agg(i))"),
        ("built-in batch of the same shape (unnest(array_agg(i)) + 1, C)", BATCH + "unnest(array_agg(i)) + 1"),
    ]),
    ("text -> text (upper of 32 chars)", [
        ("built-in upper()", "upper(s)"),
        ("SQL function (inlined)", "sql_upper(s)"),
        ("PL/pgSQL", "plpgsql_upper(s)"),
        ("PL/Python", "py_upper(s)"),
        ("PL/Perl", "perl_upper(s)"),
        ("PL/Lua", "lua_upper(s)"),
        ("pg_component typed", "bench.upper(s)"),
        ("pg_component wasm_transform (jsonb built per row)", "wasm_transform('bench', 'upper', jsonb_build_array(s))"),
        ("pg_component wasm_transform (jsonb column)", "wasm_transform('bench', 'upper', sj)"),
        ("pg_component batch (text[] -> SETOF, one call)", BATCH + "bench.upper_set(array_agg(s))"),
        ("built-in batch of the same shape (upper(unnest(array_agg(s))), C)", BATCH + "upper(unnest(array_agg(s)))"),
    ]),
]


def psql(port, db, sql, timing=False):
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "/tmp", "-p", str(port),
           "-U", "postgres", "-d", db]
    if timing:
        sql = "\\timing on\n" + sql
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True, check=True)
    return out.stdout


def count_query(expr, table="t"):
    """The timed query of `expr`: count(expr) over `table`, or a batch case as a whole."""
    if expr.startswith(BATCH):
        return f"SELECT count(*) FROM (SELECT {expr[len(BATCH):]} FROM {table}) b;\n"
    return f"SELECT count({expr}) FROM {table};\n"


# JIT off: compiling expressions would add a fixed cost that differs between peers. Parallel
# query off: a deterministic plugin's PARALLEL SAFE functions would otherwise be timed spread
# over workers, against serial peers.
SESSION = "SET jit = off;\nSET max_parallel_workers_per_gather = 0;\n"


def time_query(port, expr, repeat):
    """Best of `repeat` runs of count(expr) over t, in one warm session, in ms."""
    return time_interleaved(port, [expr], repeat)[0]


def time_interleaved(port, exprs, repeat, table="t"):
    """Best of `repeat` rounds for each of `exprs`, in ms, the rounds interleaved in one warm
    session (e1, e2, ..., e1, e2, ...): a slow spell of this shared machine then falls on every
    peer alike, not on whichever ran during it. A first round warms the backend, uncounted."""
    return time_statements(port, [count_query(e, table) for e in exprs], repeat)


def time_statements(port, statements, repeat):
    """Best of `repeat` interleaved rounds of `statements` (each ending in ";\n") in one warm
    session, in ms; a first round warms the backend, uncounted."""
    sql = SESSION + "".join(statements) * (repeat + 1)
    out = psql(port, "bench", sql, timing=True)
    times = [float(m) for m in re.findall(r"Time: ([0-9.]+) ms", out)]
    n = len(statements)
    counted = times[-n * repeat:]
    return [min(counted[i::n]) for i in range(n)]

# Runs of each timed query, the best of which counts (--repeat; BENCH_REPEAT in run.sh).
REPEAT = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each query; the best counts")
    ap.add_argument("--wasm-dir", required=True)
    ap.add_argument("--only", choices=["calls", "lookups", "triggers", "aggregates", "stats", "links", "work"], help="run one part only")
    args = ap.parse_args()
    global REPEAT
    REPEAT = args.repeat

    psql(args.port, "postgres", "DROP DATABASE IF EXISTS bench; CREATE DATABASE bench;")
    psql(args.port, "bench", PEERS.format(rows=args.rows))
    if args.only == "lookups":
        lookups(args.port, args.wasm_dir, min(args.rows, 200_000))
        return
    if args.only == "triggers":
        triggers(args.port, args.wasm_dir, args.rows)
        return
    if args.only == "aggregates":
        aggregates(args.port, args.wasm_dir, args.rows)
        return
    if args.only == "stats":
        stats_overhead(args.port, args.wasm_dir, args.rows)
        return
    if args.only == "links":
        link_overhead(args.port, args.wasm_dir, args.rows)
        return
    if args.only == "work":
        real_work(args.port, args.wasm_dir, min(args.rows, 200_000))
        return
    wasm = base64.b64encode(open(f"{args.wasm_dir}/bench.wasm", "rb").read()).decode()
    t0 = time.perf_counter()
    psql(args.port, "bench", f"SELECT count(*) FROM wasm.install('bench', decode('{wasm}', 'base64'));")
    install_ms = (time.perf_counter() - t0) * 1000
    # The generated functions return arrays; a batch as a set is declared by hand (SETOF),
    # which keeps the typed batch path.
    psql(args.port, "bench",
         "CREATE FUNCTION bench.inc_set(int8[]) RETURNS SETOF int8 LANGUAGE wasm STRICT AS 'bench/inc-all';\n"
         "CREATE FUNCTION bench.upper_set(text[]) RETURNS SETOF text LANGUAGE wasm STRICT AS 'bench/upper-all';")

    # First call in a new backend: compiled code comes from the on-disk cache.
    out = psql(args.port, "bench", "SELECT 1;\nSELECT bench.inc(1);\nSELECT bench.inc(2);", timing=True)
    first = [float(m) for m in re.findall(r"Time: ([0-9.]+) ms", out)]

    scan = time_query(args.port, "*", args.repeat)
    print(f"rows: {args.rows}; bare scan (count(*)): {scan:.1f} ms; "
          f"install of bench.wasm (incl. compile): {install_ms:.0f} ms; "
          f"first call in a new backend: {first[1]:.2f} ms, second: {first[2]:.3f} ms")
    print()
    for title, impls in CASES:
        # The bare scan and every peer, in interleaved rounds in one session.
        best = time_interleaved(args.port, ["*"] + [expr for _, expr in impls], args.repeat)
        rows = [(name, max(ms - best[0], 0.0) * 1e6 / args.rows) for (name, _), ms in zip(impls, best[1:])]
        wasm_ns = dict(rows)["pg_component typed"]
        print(f"### {title}")
        print()
        print("| implementation | ns/row over scan | vs pg_component typed |")
        print("|---|---:|---:|")
        for name, ns in rows:
            ratio = ns / wasm_ns if wasm_ns > 0 else float("nan")
            print(f"| {name} | {ns:.0f} | {ratio:.2f}x |")
        print()
    if args.only == "calls":
        return
    languages(args.port, args.wasm_dir, min(args.rows, 100_000))
    lookups(args.port, args.wasm_dir, min(args.rows, 200_000))
    triggers(args.port, args.wasm_dir, args.rows)
    aggregates(args.port, args.wasm_dir, args.rows)
    stats_overhead(args.port, args.wasm_dir, args.rows)
    link_overhead(args.port, args.wasm_dir, args.rows)
    real_work(args.port, args.wasm_dir, min(args.rows, 200_000))
    memory(args.port, args.wasm_dir)


LOOKUP_PEERS = """
CREATE TABLE countries (code text PRIMARY KEY, name text);
INSERT INTO countries SELECT 'c' || i, 'Country ' || i FROM generate_series(1, 10000) i;
CREATE TABLE orders AS SELECT i AS id, 'c' || (1 + i % 12000) AS code FROM generate_series(1, {rows}) i;
ANALYZE countries, orders;
CREATE FUNCTION plpgsql_country(c text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE r text;
BEGIN SELECT name INTO r FROM public.countries WHERE code = c; RETURN r; END $$;
CREATE FUNCTION py_country(c text) RETURNS text LANGUAGE plpython3u STABLE AS $$
if "plan" not in SD:
    SD["plan"] = plpy.prepare("SELECT name FROM public.countries WHERE code = $1", ["text"])
rows = plpy.execute(SD["plan"], [c])
return rows[0]["name"] if rows else None
$$;
"""


def lookups(port, wasm_dir, rows):
    """One indexed lookup per row: a prepared statement kept per instance (enrich) against
    PL/pgSQL and PL/Python doing the same lookup, all in one run."""
    psql(port, "bench", LOOKUP_PEERS.format(rows=rows))
    data = base64.b64encode(open(f"{wasm_dir}/enrich.wasm", "rb").read()).decode()
    psql(port, "bench", f"SELECT count(*) FROM wasm.install('enrich', decode('{data}', 'base64'), capabilities => '{{query}}');")
    peers = [("PL/pgSQL", "plpgsql_country(code)"), ("PL/Python (plpy.prepare, kept in SD)", "py_country(code)"),
             ("pg_component (enrich, statement prepared once per instance)", "enrich.country_name(code)")]
    # The bare scan and the peers, in interleaved rounds in one session.
    best = time_interleaved(port, ["code"] + [expr for _, expr in peers], REPEAT, "orders")
    results = [(name, max(ms - best[0], 0.0) * 1e6 / rows) for (name, _), ms in zip(peers, best[1:])]
    wasm_ns = results[-1][1]
    print(f"### One indexed lookup per row ({rows} rows, 10,000-row reference table, an index scan each)")
    print()
    print("| implementation | ns/row over scan | vs pg_component |")
    print("|---|---:|---:|")
    for name, ns in results:
        print(f"| {name} | {ns:.0f} | {ns / wasm_ns if wasm_ns > 0 else float('nan'):.2f}x |")
    print()


TRIGGER_PEERS = r"""
CREATE FUNCTION plpgsql_clean() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE e text; n text; c text;
BEGIN
    e := lower(btrim(NEW.email));
    IF e !~ '^[^@\s]+@[^@\s]*\.[^@\s]*$' THEN RETURN NULL; END IF;
    n := initcap(regexp_replace(btrim(NEW.name), '\s+', ' ', 'g'));
    IF n = '' THEN RETURN NULL; END IF;
    c := upper(btrim(NEW.country));
    IF c = '' THEN c := NULL; ELSIF c !~ '^[A-Z]{2}$' THEN RETURN NULL; END IF;
    NEW.email := e; NEW.name := n; NEW.country := c;
    RETURN NEW;
END $$;
CREATE FUNCTION py_clean() RETURNS trigger LANGUAGE plpython3u AS $$
if "clean" not in GD:
    import string
    lower = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
    upper = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
    def clean(row):
        e = row["email"].strip().translate(lower)
        local, at, domain = e.partition("@")
        if not (at and local and "." in domain and "@" not in domain and not any(ch.isspace() for ch in e)):
            return False
        words = [w[:1].upper() + w[1:].lower() for w in row["name"].split()]
        if not words:
            return False
        c = row["country"]
        if c is not None:
            c = c.strip().translate(upper) or None
            if c is not None and not (len(c) == 2 and c.isascii() and c.isalpha()):
                return False
        row["email"], row["name"], row["country"] = e, " ".join(words), c
        return True
    GD["clean"] = clean
return "MODIFY" if GD["clean"](TD["new"]) else "SKIP"
$$;
"""


def triggers(port, wasm_dir, rows):
    """COPY FROM of `rows` customer rows through a BEFORE INSERT trigger that normalizes the
    email and the name, upper-cases the country and skips invalid rows (one in 20): the
    customers example (Rust and Python components) against the same trigger in PL/pgSQL and
    PL/Python, all in one run; the COPY into the same table without a trigger is the base."""
    psql(port, "bench", TRIGGER_PEERS)
    for name, file in [("customers", "customers.wasm"), ("customers_py", "customers-py.wasm")]:
        b64 = base64.b64encode(open(f"{wasm_dir}/{file}", "rb").read()).decode()
        psql(port, "bench", f"SELECT count(*) FROM wasm.install('{name}', decode('{b64}', 'base64'));")
    csv = "/tmp/pg_component_bench_customers.csv"
    psql(port, "bench", f"""
CREATE FUNCTION wasm_clean() RETURNS trigger LANGUAGE wasm AS 'customers/clean';
CREATE FUNCTION wasm_py_clean() RETURNS trigger LANGUAGE wasm AS 'customers_py/clean';
CREATE TABLE cust (id int8, email text, name text, country text);
COPY (SELECT i, CASE WHEN i % 20 = 0 THEN 'user' || i ELSE ' User' || i || '@Example.COM ' END,
             'first' || i || '  LAST', CASE WHEN i % 3 = 0 THEN NULL ELSE ' se' END
      FROM generate_series(1, {rows}) i) TO '{csv}';""")
    peers = [("no trigger (the base)", None), ("PL/pgSQL", "plpgsql_clean"),
             ("PL/Python", "py_clean"), ("pg_component, Rust (customers)", "wasm_clean"),
             ("pg_component, Python (customers-py)", "wasm_py_clean")]
    results = []
    for name, fn in peers:
        trigger = f"CREATE TRIGGER t BEFORE INSERT ON cust FOR EACH ROW EXECUTE FUNCTION {fn}();" if fn else ""
        psql(port, "bench", f"DROP TRIGGER IF EXISTS t ON cust;\n{trigger}")
        sql = f"TRUNCATE cust;\nCOPY cust FROM '{csv}';\n" * 3 + "SELECT count(*) FROM cust;\n"
        out = psql(port, "bench", "\\pset tuples_only on\n" + sql, timing=True)
        times = [float(m) for m in re.findall(r"Time: ([0-9.]+) ms", out)]
        copies = times[1:6:2]  # TRUNCATE, COPY, TRUNCATE, COPY, TRUNCATE, COPY, SELECT
        kept = int(re.findall(r"^\s*(\d+)\s*$", out, re.M)[-1])
        results.append((name, min(copies), kept))
    base = results[0][1]
    wasm_ns = (results[3][1] - base) * 1e6 / rows
    print(f"### COPY FROM of {rows} rows through a BEFORE INSERT trigger (normalize 2 text columns, skip invalid rows)")
    print()
    print("| trigger | COPY (ms) | ns/row over no trigger | rows kept | vs pg_component Rust | who wins |")
    print("|---|---:|---:|---:|---:|---|")
    best = min(r[1] for r in results[1:])
    for name, ms, kept in results:
        ns = (ms - base) * 1e6 / rows
        ratio = f"{ns / wasm_ns:.2f}x" if wasm_ns > 0 and name != results[0][0] else ""
        win = "fastest" if ms == best else ""
        print(f"| {name} | {ms:.0f} | {ns:.0f} | {kept} | {ratio} | {win} |")
    print()


AGGREGATE_PEERS = r"""
CREATE FUNCTION plpgsql_mean_add(s float8[], x float8) RETURNS float8[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF x IS NULL THEN RETURN s; END IF;
    RETURN ARRAY[s[1] + x, s[2] + 1];
END $$;
CREATE FUNCTION plpgsql_mean_finish(s float8[]) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF s[2] = 0 THEN RETURN NULL; END IF;
    RETURN s[1] / s[2];
END $$;
CREATE AGGREGATE plpgsql_mean(float8) (SFUNC = plpgsql_mean_add, STYPE = float8[],
    FINALFUNC = plpgsql_mean_finish, INITCOND = '{0,0}');
CREATE FUNCTION py_mean_add(s float8[], x float8) RETURNS float8[] LANGUAGE plpython3u IMMUTABLE AS $$
if x is None:
    return s
return [s[0] + x, s[1] + 1]
$$;
CREATE FUNCTION py_mean_finish(s float8[]) RETURNS float8 LANGUAGE plpython3u IMMUTABLE AS $$
return s[0] / s[1] if s[1] else None
$$;
CREATE AGGREGATE py_mean(float8) (SFUNC = py_mean_add, STYPE = float8[],
    FINALFUNC = py_mean_finish, INITCOND = '{0,0}');
"""


def aggregates(port, wasm_dir, rows):
    """An aggregate from an exported resource (the fixture's mean: constructor, add, finish)
    over every row and over 1,000 groups, against the built-in avg, the same aggregate with its
    transition function in PL/pgSQL and in PL/Python, and the same resource with add-batch
    (rows handed over 256 at a time), all in one run; a typed scalar call is the reference for
    the per-row cost of add."""
    psql(port, "bench", AGGREGATE_PEERS)
    for name, file in [("agg", "aggregates.wasm"), ("aggb", "agg-batch.wasm"), ("benchref", "bench.wasm")]:
        b64 = base64.b64encode(open(f"{wasm_dir}/{file}", "rb").read()).decode()
        psql(port, "bench", f"SELECT count(*) FROM wasm.install('{name}', decode('{b64}', 'base64'), deterministic => true);")
    peers = [("built-in avg()", "avg(f)"), ("PL/pgSQL aggregate (sfunc in PL/pgSQL)", "plpgsql_mean(f)"),
             ("PL/Python aggregate (sfunc in PL/Python)", "py_mean(f)"),
             ("pg_component aggregate, rows in batches (aggb.mean: the same with add-batch)", "aggb.mean(f)"),
             ("pg_component aggregate (agg.mean, resource add/finish)", "agg.mean(f)")]
    print(f"### Aggregates ({rows} rows, one group and 1,000 groups)")
    print()
    print("| aggregate | one group: ns/row over scan | 1,000 groups: ns/row over scan | vs pg_component |")
    print("|---|---:|---:|---:|")
    # The scan, every peer over one group and over 1,000 groups, and the reference call, in
    # interleaved rounds in one session.
    statements = ["SELECT count(*) FROM t;\n"]
    for _, expr in peers:
        statements.append(f"SELECT {expr} FROM t;\n")
        statements.append(f"SELECT count(m) FROM (SELECT {expr} AS m FROM t GROUP BY i % 1000) g;\n")
    statements.append("SELECT count(benchref.inc(i)) FROM t;\n")
    best = time_statements(port, statements, REPEAT)
    per_row = [(ms - best[0]) * 1e6 / rows for ms in best[1:]]
    results = [(name, per_row[2 * k], per_row[2 * k + 1]) for k, (name, _) in enumerate(peers)]
    wasm_one = results[-1][1]
    for name, one, grouped in results:
        print(f"| {name} | {one:.0f} | {grouped:.0f} | {one / wasm_one if wasm_one > 0 else float('nan'):.2f}x |")
    print(f"| (reference: a typed scalar call, `count(benchref.inc(i))`) | {per_row[-1]:.0f} | | |")
    print()


def stats_overhead(port, wasm_dir, rows):
    """What counting calls for wasm.stats costs per call: typed calls with wasm.track_stats on
    and off, alternating, best of 5 each, in one session."""
    b64 = base64.b64encode(open(f"{wasm_dir}/bench.wasm", "rb").read()).decode()
    psql(port, "bench", f"SELECT count(*) FROM wasm.install('statsbench', decode('{b64}', 'base64'), "
                        f"deterministic => true, replace => true);")
    scan = time_query(port, "*", REPEAT)
    print(f"### Cost of wasm.stats ({rows} typed calls, wasm.track_stats on and off, best of 5)")
    print()
    print("| call | stats off: ns/row | stats on: ns/row | overhead |")
    print("|---|---:|---:|---:|")
    for name, expr in [("int8 -> int8", "statsbench.inc(i)"), ("text -> text", "statsbench.upper(s)")]:
        best = {}
        for setting in ["off", "on"] * 5:
            sql = (f"SET jit = off;\nSET max_parallel_workers_per_gather = 0;\n"
                   f"SET wasm.track_stats = {setting};\nSELECT count({expr}) FROM t;\n")
            out = psql(port, "bench", sql + f"SELECT count({expr}) FROM t;\n", timing=True)
            ms = [float(m) for m in re.findall(r"Time: ([0-9.]+) ms", out)][-1]
            best[setting] = min(best.get(setting, 1e18), ms)
        off = (best["off"] - scan) * 1e6 / rows
        on = (best["on"] - scan) * 1e6 / rows
        print(f"| {name} | {off:.0f} | {on:.0f} | {(on - off) / off * 100 if off > 0 else float('nan'):+.1f}% |")
    print()


def link_overhead(port, wasm_dir, rows):
    """What crossing a link costs: stores.between calls geo's distance through the link
    (plugins built from plugins), geo.between computes the same directly; same SQL signature
    (four float8 -> float8), both deterministic, in one session, best of 3."""
    for name, file in [("geo", "geo.wasm"), ("stores", "stores.wasm")]:
        b64 = base64.b64encode(open(f"{wasm_dir}/{file}", "rb").read()).decode()
        psql(port, "bench", f"SELECT count(*) FROM wasm.install('{name}', decode('{b64}', 'base64'), "
                            f"deterministic => true, replace => true);")
    scan = time_query(port, "*", REPEAT)
    direct = (time_query(port, "geo.between(i, 0, 0, 1)", REPEAT) - scan) * 1e6 / rows
    linked = (time_query(port, "stores.between(i, 0, 0, 1)", REPEAT) - scan) * 1e6 / rows
    print(f"### A call across a link ({rows} rows)")
    print()
    print("| call | ns/row over scan | vs direct |")
    print("|---|---:|---:|")
    print(f"| direct: `geo.between(i, 0, 0, 1)` | {direct:.0f} | 1.00x |")
    print(f"| across one link: `stores.between(i, 0, 0, 1)` (stores calls geo's distance) | {linked:.0f} | "
          f"{linked / direct if direct > 0 else float('nan'):.2f}x |")
    print(f"| the link's own cost (difference) | {linked - direct:.0f} | |")
    print()


WORK_PEERS = r"""
CREATE TABLE jobs AS SELECT i,
    'The Quick Brown Fox #' || i || ': Jumps Over the Lazy Dog!' AS title,
    'order ' || i || ' shipped 3 items at -' || (i % 97) || ' degrees on 2024-05-' || (1 + i % 28) AS note,
    '  ' || CASE WHEN i % 10 = 0 THEN 'not an address ' || i ELSE 'User.' || i || '@Example.COM' END || ' ' AS email
FROM generate_series(1, {rows}) i;
CREATE TABLE blobs AS
SELECT b, string_agg(format('item %s,%s,%s', b * 20 + l, l, l * 1.25), E'\n' ORDER BY l) AS blob
FROM generate_series(1, {blobs}) b, generate_series(1, 20) l GROUP BY b;
ANALYZE jobs, blobs;
CREATE TYPE order_line AS (line int4, name text, qty int8, price float8);

CREATE FUNCTION plpgsql_slugify(s text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN RETURN btrim(regexp_replace(lower(s), '[^a-z0-9]+', '-', 'g'), '-'); END $$;
CREATE FUNCTION py_slugify(s text) RETURNS text LANGUAGE plpython3u IMMUTABLE AS $$
import re
return re.sub(r'[^a-z0-9]+', '-', s.lower()).strip('-')
$$;
CREATE FUNCTION sql_numbers(s text) RETURNS int8[] LANGUAGE sql IMMUTABLE AS
$$ SELECT ARRAY(SELECT m[1]::int8 FROM regexp_matches(s, '(-?[0-9]+)', 'g') m) $$;
CREATE FUNCTION py_numbers(s text) RETURNS int8[] LANGUAGE plpython3u IMMUTABLE AS $$
import re
return [int(x) for x in re.findall(r'-?[0-9]+', s)]
$$;
CREATE FUNCTION sql_email(e text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN lower(btrim(e)) ~ '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{{2,}}$'
               THEN lower(btrim(e)) END $$;
CREATE FUNCTION py_email(e text) RETURNS text LANGUAGE plpython3u IMMUTABLE AS $$
import re
if "re" not in SD:
    SD["re"] = re.compile(r'^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{{2,}}$')
v = e.strip().lower()
return v if SD["re"].match(v) else None
$$;
CREATE FUNCTION py_csv(blob text) RETURNS SETOF order_line LANGUAGE plpython3u IMMUTABLE AS $$
out = []
for i, l in enumerate(blob.split("\n")):
    f = l.split(",")
    if len(f) < 3:
        continue
    try:
        out.append((i + 1, f[0].strip(), int(f[1]), float(f[2])))
    except ValueError:
        pass
return out
$$;
CREATE FUNCTION py_sha256(s text) RETURNS text LANGUAGE plpython3u IMMUTABLE AS $$
import hashlib
return hashlib.sha256(s.encode()).hexdigest()
$$;
"""

# (job, table, [(implementation, expression)], check): the first implementation is the plugin;
# `check` counts the rows where an implementation's result differs from the plugin's.
WORK_JOBS = [
    ("slugify a title", "jobs", [
        ("pg_component (Rust, slugify example)", "slugify.slugify(title)"),
        ("PL/pgSQL (lower, regexp_replace, btrim)", "plpgsql_slugify(title)"),
        ("PL/Python (re.sub)", "py_slugify(title)"),
    ]),
    ("extract all numbers from text", "jobs", [
        ("pg_component (Rust regex)", "etl.extract_numbers(note)"),
        ("SQL (regexp_matches)", "sql_numbers(note)"),
        ("PL/Python (re.findall)", "py_numbers(note)"),
    ]),
    ("normalize and validate an e-mail address", "jobs", [
        ("pg_component (Rust regex)", "etl.normalize_email(email)"),
        ("SQL (lower, btrim, ~)", "sql_email(email)"),
        ("PL/Python (re)", "py_email(email)"),
    ]),
    ("SHA-256 of a text, hex", "jobs", [
        ("pg_component (Rust sha2)", "etl.sha256_hex(title)"),
        ("built-in sha256() (C)", "encode(sha256(convert_to(title, 'UTF8')), 'hex')"),
        ("PL/Python (hashlib)", "py_sha256(title)"),
    ]),
]

CSV_JOB = [
    ("pg_component (Rust, SETOF order_line)", "SELECT count(*), sum(x.qty) FROM blobs, etl.parse_csv(blob) x"),
    ("SQL (string_to_table, split_part)",
     "SELECT count(*), sum(x.qty) FROM blobs, LATERAL (SELECT split_part(l, ',', 1) AS name, "
     "split_part(l, ',', 2)::int8 AS qty, split_part(l, ',', 3)::float8 AS price "
     "FROM string_to_table(blob, E'\\n') l) x"),
    ("PL/Python (SETOF order_line)", "SELECT count(*), sum(x.qty) FROM blobs, py_csv(blob) x"),
]


def real_work(port, wasm_dir, rows):
    """Jobs users do, each against what a DBA would otherwise write, in one run: ns per row
    over a bare scan of the same table, best of REPEAT interleaved rounds in one warm session,
    and who wins."""
    blobs = max(rows // 20, 1)
    psql(port, "bench", WORK_PEERS.format(rows=rows, blobs=blobs))
    # etl is not deterministic: Rust's HashMap (inside regex) imports wasi:random's seed.
    for name, file, det in [("etl", "etl.wasm", "false"), ("slugify", "slugify.wasm", "true")]:
        b64 = base64.b64encode(open(f"{wasm_dir}/{file}", "rb").read()).decode()
        psql(port, "bench", f"SELECT count(*) FROM wasm.install('{name}', decode('{b64}', 'base64'), "
                            f"deterministic => {det}, replace => true);")
    print(f"### Real work ({rows} rows; CSV: {blobs} blobs of 20 lines)")
    print()
    print("| job | implementation | ns/row over scan | vs pg_component | rows differing from pg_component | who wins |")
    print("|---|---|---:|---:|---:|---|")

    def same(table, mine, theirs):
        out = psql(port, "bench", f"SELECT count(*) FILTER (WHERE ({mine}) IS DISTINCT FROM ({theirs})) FROM {table};")
        return int(out.split()[-3]) if "row" in out else int(re.findall(r"\d+", out)[0])

    for job, table, impls in WORK_JOBS:
        # The bare scan and the peers, in interleaved rounds in one session.
        best_ms = time_interleaved(port, ["*"] + [expr for _, expr in impls], REPEAT, table)
        timed = [(name, (ms - best_ms[0]) * 1e6 / rows, expr) for (name, expr), ms in zip(impls, best_ms[1:])]
        best = min(timed, key=lambda t: t[1])[0]
        mine = timed[0][1]
        for name, ns, expr in timed:
            diff = same(table, impls[0][1], expr)
            print(f"| {job} | {name} | {ns:.0f} | {ns / mine if mine > 0 else float('nan'):.2f}x | {diff} | "
                  f"{'**wins**' if name == best else ''} |")
    timed = []
    for name, query in CSV_JOB:
        sql = "SET jit = off;\n" + (query + ";\n") * 4
        out = psql(port, "bench", sql, timing=True)
        ms = min(float(m) for m in re.findall(r"Time: ([0-9.]+) ms", out)[1:])
        result = [l.strip() for l in psql(port, "bench", query + ";").splitlines() if "|" in l][-1]
        timed.append((name, ms * 1e6 / (blobs * 20), result))
    best = min(timed, key=lambda t: t[1])[0]
    for name, ns, result in timed:
        print(f"| parse a 20-line CSV blob into rows | {name} | {ns:.0f} per line | {ns / timed[0][1]:.2f}x | "
              f"{'0' if result == timed[0][2] else 'count/sum differ: ' + result} | {'**wins**' if name == best else ''} |")
    print()


LANGUAGES = [
    ("Rust (wit-bindgen)", "slugify.wasm"),
    ("Python (componentize-py)", "slugify-py.wasm"),
    ("JavaScript (componentize-js)", "slugify-js.wasm"),
    ("C (clang, wit-bindgen c)", "slugify-c.wasm"),
]


def languages(port, wasm_dir, rows):
    """Size, install (compile) time, first call in a new backend and per-row cost of the same
    slugify plugin built from Rust, Python, JavaScript and C."""
    psql(port, "bench", f"CREATE TABLE titles AS SELECT 'Title number ' || i || ', with Ünïcode & more!' AS t "
                        f"FROM generate_series(1, {rows}) i;")
    print(f"### The same plugin in four languages (slugify of a ~35-char title, {rows} rows)")
    print()
    print("| language | size | install (compile) | first call, new backend | ns/row over scan |")
    print("|---|---:|---:|---:|---:|")
    scan = min(time_query_on(port, "titles", "*", REPEAT), 1e9)
    for i, (lang, file) in enumerate(LANGUAGES):
        data = open(f"{wasm_dir}/{file}", "rb").read()
        name = f"lang{i}"
        b64 = base64.b64encode(data).decode()
        t0 = time.perf_counter()
        psql(port, "bench", f"SELECT count(*) FROM wasm.install('{name}', decode('{b64}', 'base64'));")
        install_ms = (time.perf_counter() - t0) * 1000
        out = psql(port, "bench", f"SELECT {name}.slugify('warm up');", timing=True)
        first = float(re.findall(r"Time: ([0-9.]+) ms", out)[0])
        ms = time_query_on(port, "titles", f"{name}.slugify(t)", REPEAT)
        per_row = max(ms - scan, 0.0) * 1e6 / rows
        print(f"| {lang} | {len(data) / 1e6:.2f} MB | {install_ms:.0f} ms | {first:.1f} ms | {per_row:.0f} |")
    print()


def time_query_on(port, table, expr, repeat):
    """Best of `repeat` runs of count(expr) over `table`, in one warm session, in ms."""
    return time_interleaved(port, [expr], repeat, table)[0]


def memory(port, wasm_dir):
    """RSS a backend gains by calling one export of each of ten plugins: nine distinct
    components, and the Rust slugify installed again under another name (it shares the
    compiled code, but gets its own instance)."""
    plugins = [("bench", "bench.inc(1)"), ("lang0", "lang0.slugify('x')"),
               ("lang1", "lang1.slugify('x')"), ("lang2", "lang2.slugify('x')"),
               ("lang3", "lang3.slugify('x')")]
    extra = [("scalars", "scalars.shout('x')", "scalars"), ("hostile", "hostile.div(4, 2)", "hostile"),
             ("shapes", "shapes.next_color('red')", "shapes"),
             ("shapes2", "shapes2.next_color('red')", "shapes-v2"),
             ("again", "again.slugify('x')", "slugify")]
    for name, _, file in extra:
        b64 = base64.b64encode(open(f"{wasm_dir}/{file}.wasm", "rb").read()).decode()
        psql(port, "bench", f"SELECT count(*) FROM wasm.install('{name}', decode('{b64}', 'base64'));")
    plugins += [(name, call) for name, call, _ in extra]
    rss = "(SELECT regexp_replace(l, '[^0-9]', '', 'g')::int8 FROM regexp_split_to_table(" \
          "pg_read_file('/proc/' || pg_backend_pid() || '/status'), E'\\n') l WHERE l LIKE 'VmRSS%')"
    sql = f"SELECT {rss};\n" + "".join(f"SELECT {call};\nSELECT {rss};\n" for _, call in plugins)
    out = psql(port, "bench", "\\pset tuples_only on\n" + sql)
    print(f"### Backend memory (RSS) after calling {len(plugins)} plugins")
    print()
    print("| after | RSS (MB) | gain (MB) |")
    print("|---|---:|---:|")
    rss_values = [int(v) for v in re.findall(r"^\s*(\d{4,})\s*$", out, re.M)]
    base = rss_values[0]
    print(f"| start (extension loaded, nothing called) | {base / 1024:.1f} | 0 |")
    for (name, _), v in zip(plugins, rss_values[1:]):
        print(f"| + {name} | {v / 1024:.1f} | {(v - base) / 1024:.1f} |")
    print()


if __name__ == "__main__":
    main()
